/*
 * detector.h - the detector interface and registry.
 *
 * A detector judges one period of one series: ok, anomaly, or insufficient
 * history.  Each detector is one `const struct cw_detector_ops` that names
 * its parameters in a table (type, default, bounds, help); the inventory
 * validator, `--detectors name:key=value` and `cwsweep --help` all read that
 * table, so a parameter is declared exactly once.
 *
 * Adding a detector:
 *   1. write detectors/NAME.c defining `const struct cw_detector_ops
 *      cw_detector_NAME` (see threshold.c for the smallest one);
 *   2. add `&cw_detector_NAME,` to the table in detectors/registry.c.
 * The build picks up every .c file in detectors/ by itself.
 *
 * Threads: `create` runs once, before the pool starts; the state it returns
 * is never written afterwards, so `run` may be called from many worker
 * threads at once on different series.
 */
#ifndef CW_DETECTOR_H
#define CW_DETECTOR_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "series.h"

#define CW_DET_MAX_PARAMS 16

enum cw_param_type {
	CW_PARAM_NUMBER,   /* plain number */
	CW_PARAM_BYTES,    /* number with an optional byte unit: 100GB, 1.5TiB */
	CW_PARAM_DURATION, /* seconds; accepts 90s, 1h, 7d, 2w */
	CW_PARAM_ENUM,     /* one of `choices`; stored as the index */
};

struct cw_param_spec {
	const char *name;       /* key in the inventory, e.g. "factor" */
	enum cw_param_type type;
	double def;             /* default (ENUM: index into choices) */
	double min, max;        /* inclusive bounds (not used for ENUM) */
	const char *const *choices; /* ENUM only, NULL-terminated */
	const char *help;       /* one line for --help and the docs */
};

/* Parameters every detector has; their indices are fixed. */
enum {
	CW_P_DIRECTION = 0,   /* ENUM: up | down | both; default up */
	CW_P_SEVERITY = 1,    /* ENUM: info | warning | critical; default warning */
	CW_P_MIN_HISTORY = 2, /* DURATION: history needed before judging */
	CW_P_MIN_EXCESS_USD = 3, /* NUMBER: the dollar gate (priced series only) */
	CW_P_FIRST_OWN = 4,   /* a detector's own parameters start here */
};
enum cw_direction { CW_DIR_UP, CW_DIR_DOWN, CW_DIR_BOTH };
enum cw_severity { CW_SEV_INFO, CW_SEV_WARNING, CW_SEV_CRITICAL };

enum cw_status {
	CW_STATUS_OK,
	CW_STATUS_ANOMALY,
	CW_STATUS_INSUFFICIENT, /* not enough history to judge */
	CW_STATUS_FAILED,       /* the series could not be fetched or read */
};

/* One judgement of one period.  A run keeps one per series and detector
 * (millions in a large run): status, severity and episode_len share one
 * word, so the struct is 72 bytes rather than 80. */
struct cw_judgement {
	uint8_t status;            /* enum cw_status */
	uint8_t severity;          /* enum cw_severity; meaningful for anomalies */
	/* Episodes (stateful detectors; zero otherwise).  An anomaly that
	 * continues one that began earlier names where it began, how many
	 * periods it has lasted including this one, and its peak so far. */
	uint32_t episode_len;      /* periods, >= 1 when in an episode, else 0 */
	int64_t period_start;      /* UTC start of the judged slot */
	double value;              /* the judged slot's value (NaN if a gap) */
	double baseline;           /* what "normal" was (NaN if none) */
	double limit;              /* the value at which it becomes anomalous */
	double score;              /* detector-specific (z, ratio); NaN if none */
	int64_t episode_start;     /* UTC start of the episode's first period */
	double episode_peak;       /* largest value of the episode */
	/* What kind of verdict this is beyond its status, a static string
	 * ("level_shift", "recurring_peak", "new_high", ...) or NULL. */
	const char *kind;
};

struct cw_detector_ops {
	const char *name;     /* registry key: [a-z][a-z0-9_]* */
	const char *summary;  /* one line for --help */
	/* This detector's own parameters (after the common three), terminated
	 * by an entry with name == NULL. */
	const struct cw_param_spec *params;
	/* Default for the common min_history parameter, seconds. */
	double default_min_history;
	/* Default for the common min_excess_usd parameter (the dollar gate). */
	double default_min_excess_usd;
	/* Default for the common direction parameter (CW_DIR_UP when 0). */
	int default_direction;

	/*
	 * Build the immutable state from a full parameter vector
	 * (p[CW_P_DIRECTION..] then the detector's own, in table order), already
	 * checked against the bounds.  Cross-parameter checks go here; on error
	 * fill err and return CW_EINVAL.  *state may be NULL for stateless
	 * detectors.
	 */
	int (*create)(void **state, const double *p, char *err, size_t errlen);

	/*
	 * Judge slots [from, to) of s (to <= cw_series_complete(s)), calling
	 * emit once per slot in order.  Must be O(to - from + window): use
	 * rolling sums, never a rescan of the window per slot.  A gap in the
	 * judged slot yields no emit call (the caller reports gaps).  Called
	 * from worker threads; must not write to state.
	 */
	int (*run)(const void *state, const double *p, const struct cw_series *s,
		   size_t from, size_t to,
		   int (*emit)(void *ctx, const struct cw_judgement *j), void *ctx);

	void (*destroy)(void *state);
};

/* A configured instance: the ops plus a full parameter vector. */
struct cw_detector_conf {
	const struct cw_detector_ops *ops;
	double p[CW_DET_MAX_PARAMS];
	void *state; /* from ops->create; owned */
};

/* NULL-terminated registry. */
extern const struct cw_detector_ops *const cw_detectors[];
extern const struct cw_param_spec cw_common_params[]; /* 4 entries + NULL */

const struct cw_detector_ops *cw_detector_find(const char *name);

/* Parameter spec by name across common + own; index into p in *idx. */
const struct cw_param_spec *cw_detector_param(const struct cw_detector_ops *ops,
					      const char *name, size_t *idx);
/* Number of parameters (common + own). */
size_t cw_detector_nparams(const struct cw_detector_ops *ops);
/* Spec by index (0 .. nparams-1). */
const struct cw_param_spec *cw_detector_param_at(const struct cw_detector_ops *ops,
						 size_t idx);

/* Fill conf->p with defaults. */
void cw_detector_conf_defaults(struct cw_detector_conf *conf,
			       const struct cw_detector_ops *ops);
/*
 * Parse value text for parameter `name` (units per its type), check bounds,
 * store it.  err gets e.g. "factor: must be between 1 and 100, got 0.5".
 */
int cw_detector_conf_set(struct cw_detector_conf *conf, const char *name,
			 const char *value, char *err, size_t errlen);
/* Call ops->create; conf->state set. */
int cw_detector_conf_build(struct cw_detector_conf *conf, char *err, size_t errlen);
void cw_detector_conf_release(struct cw_detector_conf *conf);

/*
 * Parse a CLI list "threshold:limit=100GB,zscore,mean7d:factor=3:min_excess=1GB"
 * into confs (built, ready to run).  Returns the count in *n.
 */
int cw_detector_parse_list(const char *list, struct cw_detector_conf **out,
			   size_t *n, char *err, size_t errlen);

/*
 * The judgement of slot i before the detector has looked at its history:
 * insufficient, no baseline yet, the configured severity.
 */
static inline struct cw_judgement cw_judgement_start(const struct cw_series *s, size_t i,
						    const double *p)
{
	struct cw_judgement j = {
		.status = CW_STATUS_INSUFFICIENT,
		.severity = (uint8_t)p[CW_P_SEVERITY],
		.period_start = cw_series_time(s, i),
		.value = s->values[i],
		.baseline = NAN,
		.limit = NAN,
		.score = NAN,
	};

	return j;
}

/*
 * For detectors that compare against a baseline b with a factor: j->value
 * is anomalous up when above max(factor x b, b + min_excess), down when
 * below min(b / factor, b - min_excess); `both` picks the side the value is
 * on.  Sets j's baseline, limit, status and score (value / b).
 */
void cw_judge_ratio(struct cw_judgement *j, double b, double factor, double min_excess,
		    enum cw_direction dir);

/*
 * Parameters whose default is NAN ("per period") are resolved when a
 * series is judged: the value for periods of a day or more, of an hour or
 * more, or shorter.  A value the user set is returned as it is.
 */
static inline double cw_param_auto(double v, int64_t period, double daily, double hourly,
				   double minutes)
{
	if (!isnan(v))
		return v;
	return period >= 86400 ? daily : period >= 3600 ? hourly : minutes;
}

/*
 * The dollar gate: true when an anomaly of j on s, whose excess over the
 * baseline (the limit when there is none) would cost less than
 * min_excess_usd if it lasted a day, must not alert.  Only priced series
 * (s->usd_per_unit > 0) are gated.
 */
bool cw_judge_below_gate(const struct cw_judgement *j, const struct cw_series *s,
			 double min_excess_usd);

/* Names for the reports. */
const char *cw_status_name(enum cw_status st);     /* "anomaly", "ok", ... */
const char *cw_severity_name(enum cw_severity sv); /* "info", ...          */

/* Print every detector with its parameters (for --help / docs). */
void cw_detector_print_help(void *file /* FILE* */);

#endif
