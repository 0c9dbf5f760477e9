/*
 * newhigh.c - a fast-reacting detector for minute-level operational series
 * (CPU, request counts, network bytes at 1- to 5-minute periods).
 *
 * In one sentence: anomalous when the mean of the last `smooth` (1h) is a
 * new high (up) or low (down) against the last `window` (4d) of such
 * means, beyond their range by `margin` (0.1) x that range and by more
 * than `min_excess`; after an alert the detector re-arms only `rearm`
 * (12h) later, so one event gives one alert.  Direction defaults to both:
 * on operational series a drop (an outage) matters as much as a surge.
 *
 * y(t) = the mean of the non-gap values in (t - smooth, t] (the value
 * itself when smooth is under two periods).  Over the non-gap slots of
 * [t - window, t): hi = max y, lo = min y, range = hi - lo.  Up: anomalous
 * when y(t) > hi + max(margin x range, min_excess) (the limit; baseline =
 * hi).  Down mirrors it with lo; both takes the side y(t) is beyond.
 * Within `rearm` after an alert a slot is ok, of kind "rearm".  A constant
 * window (range 0) alerts on anything beyond it by more than min_excess.
 * The reports show the period's own value; score = (y - hi) / range.
 *
 * The defaults were chosen on the 17 real CloudWatch series of NAB
 * (scripts/eval-detectors): the smoothing catches sustained shifts that
 * stay inside the raw range, the margin and re-arm keep one alert an
 * event.
 *
 * Periods of `max_period` (1h) or more are left alone (ok, never
 * anomalous, no baseline): daily and hourly FinOps data belongs to
 * `robust`.  So the detector sits in the default set and speaks only for
 * minute-level series.
 *
 * Stateful (the last alert), so `run` replays from the first slot and
 * emits [from, to): the last period alone gets the verdict that every
 * period gives it.  Max and min by monotonic deques: O(n) amortised.
 */
#include <math.h>
#include <stdlib.h>

#include "detector.h"
#include "err.h"

enum { P_WINDOW = CW_P_FIRST_OWN, P_MARGIN, P_REARM, P_MIN_EXCESS, P_MAX_PERIOD, P_SMOOTH };

static const struct cw_param_spec newhigh_params[] = {
	{ "window", CW_PARAM_DURATION, 4 * 86400, 60, 366.0 * 86400, NULL,
	  "the history whose highest (lowest) value must be beaten" },
	{ "margin", CW_PARAM_NUMBER, 0.1, 0, 100.0, NULL,
	  "by this fraction of the window's range (max - min)" },
	{ "rearm", CW_PARAM_DURATION, 12 * 3600, 0, 30.0 * 86400, NULL,
	  "no second alert until this long after an alert" },
	{ "min_excess", CW_PARAM_BYTES, 0, 0, 1e21, NULL,
	  "and only when the value beats the window by more than this" },
	{ "max_period", CW_PARAM_DURATION, 3600, 60, 366.0 * 86400, NULL,
	  "series with this period or longer are left to robust (judged ok)" },
	{ "smooth", CW_PARAM_DURATION, 3600, 0, 86400, NULL,
	  "judge the mean of this much recent data, not the bare value (0 = the value)" },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static int newhigh_run(const void *state, const double *p, const struct cw_series *s,
		       size_t from, size_t to,
		       int (*emit)(void *ctx, const struct cw_judgement *j), void *ctx)
{
	size_t w = (size_t)(p[P_WINDOW] / (double)s->period);
	double margin = p[P_MARGIN], mex = p[P_MIN_EXCESS];
	int64_t rearm = (int64_t)p[P_REARM];
	int dir = (int)p[CW_P_DIRECTION];
	const double *x = s->values;
	size_t *qmax = NULL, *qmin = NULL;
	size_t amax = 0, bmax = 0, amin = 0, bmin = 0; /* deque [a, b) */
	int64_t last_alert = INT64_MIN;
	bool alerted = false;
	int rc = 0;

	(void)state;
	if ((double)s->period >= p[P_MAX_PERIOD]) {
		for (size_t i = from; i < to && !rc; i++) {
			if (isnan(x[i]))
				continue;
			struct cw_judgement j = cw_judgement_start(s, i, p);
			j.status = CW_STATUS_OK;
			rc = emit(ctx, &j);
		}
		return rc;
	}
	if (w < 1)
		w = 1;
	size_t m = (size_t)(p[P_SMOOTH] / (double)s->period);
	double *y = NULL;
	qmax = malloc((to ? to : 1) * sizeof(size_t));
	qmin = malloc((to ? to : 1) * sizeof(size_t));
	if (m > 1)
		y = malloc((to ? to : 1) * sizeof(double));
	if (!qmax || !qmin || (m > 1 && !y)) {
		free(qmax);
		free(qmin);
		free(y);
		return CW_ENOMEM;
	}
	if (y) {
		/* the trailing mean of the non-gap values in (i - m, i] */
		double sum = 0;
		size_t cnt = 0;
		for (size_t i = 0; i < to; i++) {
			if (!isnan(x[i])) {
				sum += x[i];
				cnt++;
			}
			if (i >= m && !isnan(x[i - m])) {
				sum -= x[i - m];
				cnt--;
			}
			if (i % 4096 == 0 && i >= m) { /* no drift: recompute now and then */
				sum = 0;
				cnt = 0;
				for (size_t k = i + 1 - m; k <= i; k++)
					if (!isnan(x[k])) {
						sum += x[k];
						cnt++;
					}
			}
			y[i] = isnan(x[i]) || !cnt ? NAN : sum / (double)cnt;
		}
		x = y;
	}
	for (size_t i = 0; i < to; i++) {
		/* slot i-1 enters, slots before i-w leave */
		if (i > 0 && !isnan(x[i - 1])) {
			while (bmax > amax && x[qmax[bmax - 1]] <= x[i - 1])
				bmax--;
			qmax[bmax++] = i - 1;
			while (bmin > amin && x[qmin[bmin - 1]] >= x[i - 1])
				bmin--;
			qmin[bmin++] = i - 1;
		}
		while (bmax > amax && qmax[amax] + w < i)
			amax++;
		while (bmin > amin && qmin[amin] + w < i)
			amin++;
		double v = x[i];
		if (isnan(v))
			continue;
		struct cw_judgement j = cw_judgement_start(s, i, p);
		if (bmax > amax) {
			double hi = x[qmax[amax]], lo = x[qmin[amin]];
			double pad = fmax(margin * (hi - lo), mex);
			bool up = dir == CW_DIR_UP || (dir == CW_DIR_BOTH && v > hi);
			if (dir == CW_DIR_BOTH && !(v > hi) && !(v < lo))
				up = v - hi >= lo - v;
			double lim = up ? hi + pad : lo - pad;
			bool beyond = up ? v > lim : v < lim;
			int64_t t = cw_series_time(s, i);
			j.baseline = up ? hi : lo;
			j.limit = lim;
			j.score = (hi - lo) > 0 ? (up ? v - hi : lo - v) / (hi - lo) : NAN;
			j.status = CW_STATUS_OK;
			if (beyond) {
				if (alerted && t - last_alert < rearm) {
					j.kind = "rearm";
				} else {
					j.status = CW_STATUS_ANOMALY;
					j.kind = up ? "new_high" : "new_low";
					alerted = true;
					last_alert = t;
				}
			}
		}
		if (i >= from) {
			rc = emit(ctx, &j);
			if (rc)
				break;
		}
	}
	free(qmax);
	free(qmin);
	free(y);
	return rc;
}

const struct cw_detector_ops cw_detector_newhigh = {
	.name = "newhigh",
	.summary = "minute-level series: the last hour's mean beyond the highest (lowest) "
		   "of the last 4 days by a margin, then quiet for the re-arm time",
	.params = newhigh_params,
	.default_min_history = 86400,
	.default_min_excess_usd = 1.0,
	.default_direction = CW_DIR_BOTH,
	.create = NULL,
	.run = newhigh_run,
	.destroy = NULL,
};
