/*
 * mean7d.c - the value against the mean of the trailing window.
 *
 * baseline = mean of the non-gap slots in [t - window, t), a window in
 * time (floor(window / period) slots, at least one), so hourly, daily and
 * 5-minute series all work.  Anomalous (up) when value > factor x baseline
 * AND value - baseline > min_excess, i.e. value > limit with
 * limit = max(factor x baseline, baseline + min_excess); down mirrors it
 * with limit = min(baseline / factor, baseline - min_excess); both checks
 * the side the value is on.  score = value / baseline (NaN when the
 * baseline is 0).  A window without data gives insufficient_history.
 *
 * min_excess defaults to 0 so the detector means the same for bytes, counts
 * and percentages; for BytesDownloaded set e.g. min_excess=1GB so that tiny
 * buckets do not alert on a few megabytes.  Assumes non-negative data.
 *
 * O(to - from + window): a rolling sum that is recomputed exactly once per
 * window length, so rounding never accumulates.  Stateless.
 */
#include <math.h>

#include "detector.h"
#include "err.h"

enum { P_WINDOW = CW_P_FIRST_OWN, P_FACTOR, P_MIN_EXCESS };

static const struct cw_param_spec mean7d_params[] = {
	{ "window", CW_PARAM_DURATION, 7 * 86400, 60, 366.0 * 86400, NULL,
	  "trailing window whose mean is the baseline" },
	{ "factor", CW_PARAM_NUMBER, 2.0, 1.0, 1000.0, NULL,
	  "anomalous above factor x baseline (below baseline / factor for down)" },
	{ "min_excess", CW_PARAM_BYTES, 0, 0, 1e21, NULL,
	  "and only when the value differs from the baseline by more than this" },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static int mean7d_run(const void *state, const double *p, const struct cw_series *s,
		      size_t from, size_t to,
		      int (*emit)(void *ctx, const struct cw_judgement *j), void *ctx)
{
	size_t w = (size_t)(p[P_WINDOW] / (double)s->period);
	double factor = p[P_FACTOR], mex = p[P_MIN_EXCESS];
	int dir = (int)p[CW_P_DIRECTION];
	const double *x = s->values;
	double sum = 0;
	size_t cnt = 0, since = 0;

	if (w < 1)
		w = 1;
	for (size_t i = from; i < to; i++) {
		size_t lo = i > w ? i - w : 0;
		if (i == from || since >= w) {
			/* exact recomputation: at the start and once per window */
			sum = 0;
			cnt = 0;
			for (size_t k = lo; k < i; k++)
				if (!isnan(x[k])) {
					sum += x[k];
					cnt++;
				}
			since = 0;
		} else {
			/* slide by one: slot i-1 enters, slot i-1-w leaves */
			if (!isnan(x[i - 1])) {
				sum += x[i - 1];
				cnt++;
			}
			if (i - 1 >= w && !isnan(x[i - 1 - w])) {
				sum -= x[i - 1 - w];
				cnt--;
			}
			since++;
		}
		double v = x[i];
		if (isnan(v))
			continue;
		struct cw_judgement j = cw_judgement_start(s, i, p);
		if (cnt > 0) {
			double b = sum / (double)cnt;

			cw_judge_ratio(&j, b, factor, mex, dir);
		}
		int rc = emit(ctx, &j);
		if (rc)
			return rc;
	}
	return 0;
}

const struct cw_detector_ops cw_detector_mean7d = {
	.name = "mean7d",
	.summary = "value above factor x the mean of the trailing window (default 7 days)",
	.params = mean7d_params,
	.default_min_history = 7 * 86400,
	.create = NULL,
	.run = mean7d_run,
	.destroy = NULL,
};
