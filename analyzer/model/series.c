/*
 * series.c - the dense, period-aligned series: allocation, slot arithmetic,
 * putting points into slots and building a series from loose points.
 *
 * No locking: a series belongs to one thread at a time.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "series.h"
#include "timeutil.h"

/* A series longer than this is refused: it would mean a period far too
 * short for the time span (160 MB of doubles). */
#define CW_SERIES_MAX_SLOTS ((size_t)20 * 1000 * 1000)

int cw_series_init(struct cw_series *s, int64_t start, int64_t period, size_t n)
{
	memset(s, 0, sizeof(*s));
	if (period <= 0 || n > CW_SERIES_MAX_SLOTS)
		return CW_EINVAL;
	if (n > 0 && (period > INT64_MAX / (int64_t)n ||
		      start > INT64_MAX - (int64_t)n * period))
		return CW_EINVAL;
	if (n > 0) {
		s->values = malloc(n * sizeof(double));
		if (!s->values)
			return CW_ENOMEM;
		for (size_t i = 0; i < n; i++)
			s->values[i] = NAN;
	}
	s->start = start;
	s->period = period;
	s->n = n;
	s->complete_end = start + (int64_t)n * period;
	return 0;
}

void cw_series_release(struct cw_series *s)
{
	if (!s)
		return;
	free(s->values);
	memset(s, 0, sizeof(*s));
}

size_t cw_series_complete(const struct cw_series *s)
{
	if (s->n == 0 || s->period <= 0 || s->complete_end <= s->start)
		return 0;
	int64_t k = (s->complete_end - s->start) / s->period;
	return (uint64_t)k < s->n ? (size_t)k : s->n;
}

int cw_series_put(struct cw_series *s, int64_t t, double v, enum cw_combine how)
{
	if (!isfinite(v))
		return CW_EINVAL;
	if (s->n == 0 || t < s->start || (t - s->start) / s->period >= (int64_t)s->n)
		return 1;
	double *slot = &s->values[(t - s->start) / s->period];
	if (isnan(*slot) || how == CW_COMBINE_LAST)
		*slot = v;
	else if (how == CW_COMBINE_SUM)
		*slot += v;
	else if (v > *slot)
		*slot = v;
	return 0;
}

/* Points sorted by time; equal times keep their input order, so "last"
 * means last in the input. */
struct pt {
	int64_t t;
	size_t i;
};

static int pt_cmp(const void *a, const void *b)
{
	const struct pt *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static int i64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/*
 * The most common positive gap between consecutive sorted times (ties go to
 * the shorter gap).  With no positive gap (one point, or all points at the
 * same time) fall back to the longest standard CloudWatch period that the
 * first time is aligned to: a lone daily point is a day.
 */
static int64_t infer_period(const struct pt *p, size_t n)
{
	static const int64_t std[] = { 86400, 3600, 300, 60 };
	int64_t *gaps = NULL;
	size_t ng = 0;
	int64_t best = 0;

	if (n > 1)
		gaps = malloc((n - 1) * sizeof(*gaps));
	if (gaps) {
		for (size_t i = 1; i < n; i++)
			if (p[i].t > p[i - 1].t)
				gaps[ng++] = p[i].t - p[i - 1].t;
		qsort(gaps, ng, sizeof(*gaps), i64_cmp);
		size_t bestrun = 0;
		for (size_t i = 0; i < ng;) {
			size_t j = i;
			while (j < ng && gaps[j] == gaps[i])
				j++;
			if (j - i > bestrun) {
				bestrun = j - i;
				best = gaps[i];
			}
			i = j;
		}
		free(gaps);
		if (best > 0)
			return best;
	} else if (n > 1) {
		return -1; /* out of memory */
	}
	for (size_t k = 0; k < sizeof(std) / sizeof(std[0]); k++)
		if (n > 0 && p[0].t % std[k] == 0)
			return std[k];
	return 1;
}

int cw_series_from_points(struct cw_series *s, const int64_t *t,
			  const double *v, size_t n, int64_t period,
			  char *err, size_t errlen)
{
	struct pt *p = NULL;
	int rc;

	memset(s, 0, sizeof(*s));
	if (n == 0)
		return cw_fail(err, errlen, CW_EINVAL, "no datapoints");
	if (period < 0)
		return cw_fail(err, errlen, CW_EINVAL, "period: must be positive");
	p = malloc(n * sizeof(*p));
	if (!p)
		return cw_fail(err, errlen, CW_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		p[i].t = t[i];
		p[i].i = i;
	}
	qsort(p, n, sizeof(*p), pt_cmp);
	if (period == 0)
		period = infer_period(p, n);
	if (period < 0) {
		rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
		goto out;
	}

	int64_t start = cw_time_floor(p[0].t, period);
	int64_t last = cw_time_floor(p[n - 1].t, period);
	uint64_t slots = (uint64_t)(last - start) / (uint64_t)period + 1;
	if (slots > CW_SERIES_MAX_SLOTS) {
		rc = cw_fail(err, errlen, CW_ETOOBIG,
			     "%llu periods of %llds between the first and the last datapoint "
			     "is too many; use a longer period",
			     (unsigned long long)slots, (long long)period);
		goto out;
	}
	rc = cw_series_init(s, start, period, (size_t)slots);
	if (rc) {
		rc = cw_fail(err, errlen, rc, "cannot allocate %llu periods",
			     (unsigned long long)slots);
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		double x = v[p[k].i];
		if (isnan(x))
			continue; /* an explicit gap: extends the range only */
		if (cw_series_put(s, p[k].t, x, CW_COMBINE_LAST) < 0) {
			cw_series_release(s);
			rc = cw_fail(err, errlen, CW_EINVAL, "value is not a finite number");
			goto out;
		}
	}
	rc = 0;
out:
	free(p);
	return rc;
}

size_t cw_series_count(const struct cw_series *s, size_t from, size_t to)
{
	size_t c = 0;
	if (to > s->n)
		to = s->n;
	for (size_t i = from; i < to; i++)
		c += !isnan(s->values[i]);
	return c;
}
