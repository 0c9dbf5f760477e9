/*
 * seasonal.c - the value against the same slot of the week in the
 * previous weeks: made for FinOps data with a weekly rhythm (quiet
 * weekends, Monday batch jobs).
 *
 * baseline = median of the non-gap slots exactly 1, 2, ... `weeks` weeks
 * before the judged slot (the same weekday for daily series, the same
 * weekday-hour for hourly ones).  The median ignores a one-off spike in the
 * history as long as at least three weeks are there; with two weeks it is
 * their mean, with one it is that week.  Anomalous (up) when value >
 * factor x baseline AND value - baseline > min_excess (limit = max(factor x
 * baseline, baseline + min_excess)); down mirrors it; both checks the side
 * the value is on.  score = value / baseline (NaN when the baseline is 0).
 * No datapoint in any of those weeks, or a period that does not divide a
 * week, gives insufficient_history.
 *
 * min_history defaults to 21d, three weeks of data.  For series shorter
 * than a period of an hour the same slot a week ago is noisy: roll such
 * data up to hourly or daily periods first.
 *
 * O(weeks) per slot (at most 12 values sorted by insertion).  Stateless.
 */
#include <math.h>

#include "detector.h"
#include "err.h"

enum { P_WEEKS = CW_P_FIRST_OWN, P_FACTOR, P_MIN_EXCESS };

#define WEEK 604800
#define MAX_WEEKS 12

static const struct cw_param_spec seasonal_params[] = {
	{ "weeks", CW_PARAM_NUMBER, 4, 1, MAX_WEEKS, NULL,
	  "how many previous weeks give the baseline (their median)" },
	{ "factor", CW_PARAM_NUMBER, 2.0, 1.0, 1000.0, NULL,
	  "anomalous above factor x baseline (below baseline / factor for down)" },
	{ "min_excess", CW_PARAM_BYTES, 0, 0, 1e21, NULL,
	  "and only when the value differs from the baseline by more than this" },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static int seasonal_create(void **state, const double *p, char *err, size_t errlen)
{
	*state = NULL;
	if (p[P_WEEKS] != floor(p[P_WEEKS]))
		return cw_fail(err, errlen, CW_EINVAL, "weeks: must be a whole number, got %g",
			       p[P_WEEKS]);
	return 0;
}

static double median_of(double *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		double x = v[i];
		size_t k = i;
		while (k > 0 && v[k - 1] > x) {
			v[k] = v[k - 1];
			k--;
		}
		v[k] = x;
	}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int seasonal_run(const void *state, const double *p, const struct cw_series *s,
			size_t from, size_t to,
			int (*emit)(void *ctx, const struct cw_judgement *j), void *ctx)
{
	size_t weeks = (size_t)p[P_WEEKS];
	double factor = p[P_FACTOR], mex = p[P_MIN_EXCESS];
	int dir = (int)p[CW_P_DIRECTION];
	bool usable = s->period <= WEEK && WEEK % s->period == 0;
	size_t w7 = usable ? (size_t)(WEEK / s->period) : 0;
	const double *x = s->values;
	double hist[MAX_WEEKS];

	if (weeks > MAX_WEEKS)
		weeks = MAX_WEEKS;
	for (size_t i = from; i < to; i++) {
		double v = x[i];
		if (isnan(v))
			continue;
		size_t n = 0;
		for (size_t k = 1; usable && k <= weeks && k * w7 <= i; k++)
			if (!isnan(x[i - k * w7]))
				hist[n++] = x[i - k * w7];
		struct cw_judgement j = cw_judgement_start(s, i, p);
		if (n > 0) {
			double b = median_of(hist, n);

			cw_judge_ratio(&j, b, factor, mex, dir);
		}
		int rc = emit(ctx, &j);
		if (rc)
			return rc;
	}
	return 0;
}

const struct cw_detector_ops cw_detector_seasonal = {
	.name = "seasonal",
	.summary = "value above factor x the median of the same slot in previous weeks",
	.params = seasonal_params,
	.default_min_history = 21 * 86400,
	.create = seasonal_create,
	.run = seasonal_run,
	.destroy = NULL,
};
