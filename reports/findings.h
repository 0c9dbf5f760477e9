/*
 * findings.h - one finding per bucket (series) and judged period.
 *
 * A spike that two detectors flag is one spike: everywhere a person reads
 * (report.md, report.html, the terminal summary, the Slack digest) the
 * anomalous judgements of the same series and period are one finding.  It
 * names every detector that flagged it and shows one baseline and one cost:
 * those of its *lead* judgement, the one with the largest estimated cost
 * (then the largest excess over its baseline, then the detector name), so
 * that the finding's cost is the figure the run's total counts
 * (cw_cost_apply counts each series and period once, at its largest
 * estimate).
 *
 * The machine formats (CSV, JSON) keep one row per judgement, the XLSX one
 * row per series and period with every detector's verdict, and they add
 * the finding's id, a stable name of (account, region, bucket, metric,
 * period): "f-" and 16 hex digits of a 64-bit FNV-1a hash.  The same spike
 * has the same id in every run, shard and format.
 */
#ifndef CW_FINDINGS_H
#define CW_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "run.h"

#define CW_FINDING_ID_LEN 19 /* "f-" + 16 hex + NUL */

struct cw_finding {
	size_t series;          /* index into run->series */
	int64_t period_start;
	size_t lead;            /* index into run->results: baseline and cost shown */
	size_t *members;        /* indices into run->results, by detector name */
	size_t nmembers;
	enum cw_severity severity; /* the worst of the members */
	enum cw_alert alert;    /* the most notable: new, grew, ongoing, none */
	double est_excess_usd;  /* the lead's (NaN when not priced) */
	double excess;          /* the lead's value - baseline (NaN when unknown) */
	const struct cw_target_id *tid; /* the series' (borrowed from the run) */
	char id[CW_FINDING_ID_LEN];
};

struct cw_findings {
	struct cw_finding *v;
	size_t n;
	size_t judgements;      /* anomalous judgements the findings stand for */
	size_t *member_store;   /* owned; v[i].members point into it */
};

/*
 * Group the anomalies of run (those with include[i], parallel to
 * run->results; include NULL = all) into findings, ordered for reading:
 * estimated dollars (unpriced last), then severity, then excess over the
 * baseline, then account, region, bucket, metric and period.  *out is
 * initialised here; cw_findings_release it (also after a failure).
 */
int cw_findings_build(const struct cw_run *run, const bool *include,
		      struct cw_findings *out);
void cw_findings_release(struct cw_findings *f);

/* The finding id of series id and period (see above) into buf. */
char *cw_finding_id(const struct cw_target_id *id, int64_t period_start, char *buf,
		    size_t len);

/* The finding id of a result when it is an anomaly, else "". */
char *cw_result_finding_id(const struct cw_run *run, const struct cw_result *r, char *buf,
			   size_t len);

/* "mean7d, zscore": the detectors of f, comma-separated, appended to out. */
int cw_finding_detectors(const struct cw_run *run, const struct cw_finding *f,
			 struct cw_buf *out);

/* How notable an alert state is (new 4, grew 3, ongoing 2, resolved and
 * acknowledged 1, none 0): a finding shows its members' most notable. */
int cw_alert_rank(enum cw_alert a);

/* The lead judgement of f. */
static inline const struct cw_result *cw_finding_lead(const struct cw_run *run,
						      const struct cw_finding *f)
{
	return &run->results[f->lead];
}

#endif
