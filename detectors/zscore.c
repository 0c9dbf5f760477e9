/*
 * zscore.c - how many standard deviations the value is from the mean of
 * the trailing window.
 *
 * Over the non-gap slots of [t - window, t) (floor(window / period) slots,
 * at least one; at least two datapoints needed): mean m and the sample
 * standard deviation sd.  z = (value - m) / sd.  Anomalous (up) when
 * z > limit AND value - m > min_excess, i.e. value > m + max(limit x sd,
 * min_excess), which is the reported limit; down mirrors it; both checks
 * the side the value is on.
 *
 * A constant window (sd == 0): value == m is ok with z = 0; any other value
 * is anomalous when it differs from m by more than min_excess in the
 * configured direction, and its score is NaN: z would be infinite, which
 * JSON cannot carry and which would sort above every real z.
 *
 * Defaults: window 28d (four weekly cycles, and 28 points for daily
 * series), min_history 7d (so a young series is judged on what it has).
 *
 * Numerics: rolling sums of (x - K) and (x - K)^2, K the window's mean at
 * the last exact recomputation, so large byte counts do not cancel
 * catastrophically and a constant series gives sd == 0 exactly.  The sums
 * are recomputed exactly once per window length, and also when the spread
 * collapses by six orders of magnitude (a spike left the window, whose
 * rounding error would swamp the rest); both are O(1) amortised.  A sum of
 * squares below the rounding error of its terms counts as 0.  Stateless.
 */
#include <float.h>
#include <math.h>

#include "detector.h"
#include "err.h"

enum { P_WINDOW = CW_P_FIRST_OWN, P_LIMIT, P_MIN_EXCESS };

static const struct cw_param_spec zscore_params[] = {
	{ "window", CW_PARAM_DURATION, 28 * 86400, 60, 366.0 * 86400, NULL,
	  "trailing window for the mean and the standard deviation" },
	{ "limit", CW_PARAM_NUMBER, 3.0, 0.5, 1000.0, NULL,
	  "anomalous when the value is more than this many standard deviations away" },
	{ "min_excess", CW_PARAM_BYTES, 0, 0, 1e21, NULL,
	  "and only when the value differs from the mean by more than this" },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

struct roll {
	double k, sum, sumsq; /* sums of x - k and (x - k)^2 */
	double peak;          /* largest sumsq since the last rebuild */
	size_t cnt;
};

static void roll_add(struct roll *r, double x)
{
	if (r->cnt == 0) {
		/* an empty window: shift by the first value that enters */
		r->k = x;
		r->sum = r->sumsq = 0;
	}
	double d = x - r->k;
	r->sum += d;
	r->sumsq += d * d;
	r->cnt++;
	if (r->sumsq > r->peak)
		r->peak = r->sumsq;
}

static void roll_remove(struct roll *r, double x)
{
	double d = x - r->k;
	r->sum -= d;
	r->sumsq -= d * d;
	r->cnt--;
}

/* Exact sums over the non-gap slots of [lo, hi), shifted by their mean. */
static void roll_rebuild(struct roll *r, const double *x, size_t lo, size_t hi)
{
	double sum = 0;
	size_t n = 0;
	for (size_t i = lo; i < hi; i++)
		if (!isnan(x[i])) {
			sum += x[i];
			n++;
		}
	r->k = n ? sum / (double)n : 0;
	r->sum = r->sumsq = r->peak = 0;
	r->cnt = 0;
	for (size_t i = lo; i < hi; i++)
		if (!isnan(x[i])) {
			double d = x[i] - r->k;
			r->sum += d;
			r->sumsq += d * d;
			r->cnt++;
		}
	r->peak = r->sumsq;
}

static int zscore_run(const void *state, const double *p, const struct cw_series *s,
		      size_t from, size_t to,
		      int (*emit)(void *ctx, const struct cw_judgement *j), void *ctx)
{
	size_t w = (size_t)(p[P_WINDOW] / (double)s->period);
	double zlim = p[P_LIMIT], mex = p[P_MIN_EXCESS];
	int dir = (int)p[CW_P_DIRECTION];
	const double *x = s->values;
	struct roll r = { 0, 0, 0, 0, 0 };
	size_t since = 0;

	if (w < 1)
		w = 1;
	for (size_t i = from; i < to; i++) {
		if (i == from || since >= w) {
			roll_rebuild(&r, x, i > w ? i - w : 0, i);
			since = 0;
		} else {
			if (!isnan(x[i - 1]))
				roll_add(&r, x[i - 1]);
			if (i - 1 >= w && !isnan(x[i - 1 - w]))
				roll_remove(&r, x[i - 1 - w]);
			since++;
			/* a spike left the window: the rounding error of its square
			 * would swamp what remains, so recompute exactly */
			if (r.cnt >= 2 &&
			    r.sumsq - r.sum * r.sum / (double)r.cnt < 1e-6 * r.peak) {
				roll_rebuild(&r, x, i > w ? i - w : 0, i);
				since = 0;
			}
		}
		double v = x[i];
		if (isnan(v))
			continue;
		struct cw_judgement j = cw_judgement_start(s, i, p);
		if (r.cnt >= 2) {
			double n = (double)r.cnt;
			double mean = r.k + r.sum / n;
			double m2 = r.sumsq - r.sum * r.sum / n;
			if (m2 <= 8.0 * n * DBL_EPSILON * r.sumsq)
				m2 = 0;
			double sd = sqrt(m2 / (n - 1));
			double margin = fmax(zlim * sd, mex);
			bool up = dir == CW_DIR_UP || (dir == CW_DIR_BOTH && v >= mean);
			double lim = up ? mean + margin : mean - margin;
			j.baseline = mean;
			j.limit = lim;
			j.status = (up ? v > lim : v < lim) ? CW_STATUS_ANOMALY : CW_STATUS_OK;
			if (sd > 0)
				j.score = (v - mean) / sd;
			else
				j.score = v == mean ? 0 : NAN;
		}
		int rc = emit(ctx, &j);
		if (rc)
			return rc;
	}
	return 0;
}

const struct cw_detector_ops cw_detector_zscore = {
	.name = "zscore",
	.summary = "value more than `limit` standard deviations above the trailing mean",
	.params = zscore_params,
	.default_min_history = 7 * 86400,
	.create = NULL,
	.run = zscore_run,
	.destroy = NULL,
};
