/*
 * render.h - what the report formats share: the reading order of results,
 * the words for statuses in the machine formats, the history window and
 * its sparkline, and human-readable numbers and times.
 */
#ifndef CW_RENDER_H
#define CW_RENDER_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "run.h"

/* Slots of recent history shown with each result (sparkline, JSON). */
#define CW_REPORT_HISTORY 14

/* Results shown in full in the Markdown report (the CSV has all). */
#define CW_REPORT_MD_MAX_ROWS 100

/*
 * The fixed vocabulary of the CSV and JSON formats:
 * status   anomaly | ok | insufficient_history | failed
 * severity info | warning | critical
 * alert    "" (none) | new | ongoing | grew | resolved
 */
const char *cw_rep_status(enum cw_status st);
const char *cw_rep_severity(enum cw_severity sv);
const char *cw_rep_alert(enum cw_alert a);

/*
 * The run's results in reading order (cw_run_sort_results: anomalies
 * first, by severity, then excess, then name).  When the run is sorted
 * already (run->sorted: the commands sort once before the reports) *out is
 * run->results itself; otherwise a sorted array of shallow copies.  Give
 * it back with cw_rep_sorted_free.  *out NULL when the run has no results.
 */
int cw_rep_sorted(const struct cw_run *run, const struct cw_result **out);
void cw_rep_sorted_free(const struct cw_run *run, const struct cw_result *sorted);

/* (value - baseline) / |baseline| in percent; NaN when baseline is NaN or 0
 * or value is NaN. */
double cw_rep_change_pct(const struct cw_judgement *j);

/*
 * The history shown for a judgement: slots [*from, *to) of s, ending with
 * the judged slot (at most CW_REPORT_HISTORY).  When period_start is not a
 * slot of s, the last complete slots.
 */
void cw_rep_window(const struct cw_series *s, int64_t period_start,
		   size_t *from, size_t *to);

/*
 * Append a sparkline of v[0..n) with the blocks U+2581..U+2588, a gap
 * (NaN) as U+00B7.  Scaled from 0 when no value is negative (so the
 * height says how big a value is, not only how it compares), else from
 * the smallest value; all equal (or all zero) is the lowest block.
 */
int cw_sparkline(struct cw_buf *out, const double *v, size_t n);

/*
 * Human-readable value for Markdown and the terminal: "1.23 GB" when unit
 * is "Bytes", "$12.30" when it is "USD"; otherwise up to two decimals below 10,000 ("12.5", "4200")
 * and three significant digits with k, M, G, T, P above ("12.3 k",
 * "4.56 M"); an em dash for NaN.
 */
char *cw_rep_human(double v, const char *unit, char *buf, size_t len);

/* "+152%", "-3.5%", em dash for NaN. */
char *cw_rep_pct(double pct, char *buf, size_t len);

/* "2014-02-14 14:30" (UTC), or "2014-02-14" when period is whole days. */
char *cw_rep_time(int64_t t, int64_t period, char *buf, size_t len);

/*
 * Console deep links (appended raw; the caller escapes them for its
 * format).  Nothing is appended when the series has no region or bucket
 * (analyze), or is not an AWS/S3 metric.
 *
 * cw_rep_metric_url: the CloudWatch console's graph of the series (S3
 * request metrics with FilterId=EntireBucket, storage metrics with their
 * StorageType) over the lookback at the run's period.
 * cw_rep_bucket_url: the bucket's page in the S3 console, Metrics tab.
 */
int cw_rep_metric_url(struct cw_buf *out, const struct cw_target_id *id, int64_t period,
		      int64_t lookback);
int cw_rep_bucket_url(struct cw_buf *out, const struct cw_target_id *id);

/* Failures grouped by cause: the stage and the AWS error code. */
struct cw_rep_cause {
	const char *stage, *code; /* borrowed from the run */
	size_t failures;          /* failure rows with this cause */
	size_t accounts;          /* distinct account ids among them */
	size_t first;             /* index of the first such failure */
};

/* *out: new array (free() it), the most frequent cause first; NULL and 0
 * when the run has no failure.  include: parallel to run->failures, only
 * those count (NULL = all). */
int cw_rep_causes(const struct cw_run *run, const bool *include, struct cw_rep_cause **out,
		  size_t *n);

/*
 * A detector as the run names it ("mean7d:factor=3:min_excess=10000000000")
 * for people: "mean7d (factor 3, min_excess 10 GB)", bytes and durations in
 * their units (from the detector's parameter table).  Appended raw.
 */
int cw_rep_detector_text(struct cw_buf *out, const char *spec);

#endif
