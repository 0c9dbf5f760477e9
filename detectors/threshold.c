/*
 * threshold.c - a fixed limit, as the old one-bucket script had.
 *
 * up: anomalous when the value is strictly above `limit` (exactly at the
 * limit is ok); down: strictly below.  `both` is refused: one limit cannot
 * bound both sides (configure two threshold entries instead).  baseline and
 * limit both report the limit; score is value / limit (NaN when limit is 0).
 * No history is needed (min_history defaults to 0).  Stateless.
 */
#include <math.h>

#include "detector.h"
#include "err.h"

enum { P_LIMIT = CW_P_FIRST_OWN };

static const struct cw_param_spec threshold_params[] = {
	{ "limit", CW_PARAM_BYTES, 100e9, 0, 1e21, NULL,
	  "anomalous above this value per period (bytes: 100GB, 1.5TiB, or a plain number)" },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static int threshold_create(void **state, const double *p, char *err, size_t errlen)
{
	*state = NULL;
	if ((int)p[CW_P_DIRECTION] == CW_DIR_BOTH)
		return cw_fail(err, errlen, CW_EINVAL,
			       "direction: 'both' needs two limits; use two threshold entries");
	return 0;
}

static int threshold_run(const void *state, const double *p, const struct cw_series *s,
			 size_t from, size_t to,
			 int (*emit)(void *ctx, const struct cw_judgement *j), void *ctx)
{
	double limit = p[P_LIMIT];
	bool down = (int)p[CW_P_DIRECTION] == CW_DIR_DOWN;

	for (size_t i = from; i < to; i++) {
		double v = s->values[i];
		if (isnan(v))
			continue;
		struct cw_judgement j = {
			.status = (down ? v < limit : v > limit) ? CW_STATUS_ANOMALY : CW_STATUS_OK,
			.severity = (enum cw_severity)p[CW_P_SEVERITY],
			.period_start = cw_series_time(s, i),
			.value = v,
			.baseline = limit,
			.limit = limit,
			.score = limit != 0 ? v / limit : NAN,
		};
		int rc = emit(ctx, &j);
		if (rc)
			return rc;
	}
	return 0;
}

const struct cw_detector_ops cw_detector_threshold = {
	.name = "threshold",
	.summary = "value above a fixed limit (e.g. 100GB per period)",
	.params = threshold_params,
	.default_min_history = 0,
	.create = threshold_create,
	.run = threshold_run,
	.destroy = NULL,
};
