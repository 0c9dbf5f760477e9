/*
 * metrics.h - the run as a Prometheus text-format file, for
 * node_exporter's textfile collector (--metrics-file, reporting.metrics_file).
 *
 * Written atomically (temporary name, fsync, rename; mode 0644) after
 * every run, whatever its exit code, so an alert on
 * `time() - cwsweep_last_success_timestamp_seconds` or on
 * `cwsweep_last_run_exit_code > 1` sees a run that failed or never ran.
 * The last success time is carried over from the previous file when this
 * run did not succeed.  All metrics are gauges of the last run:
 *
 *   cwsweep_last_run_start_timestamp_seconds, _end_timestamp_seconds,
 *   cwsweep_last_run_duration_seconds, cwsweep_last_run_exit_code,
 *   cwsweep_last_success_timestamp_seconds (exit 0 or 1),
 *   cwsweep_last_run_api_calls{action}, cwsweep_last_run_throttled{action},
 *   cwsweep_last_run_series_judged, _anomalies, _failures, _not_measured,
 *   cwsweep_last_run_accounts, cwsweep_buckets_watched, cwsweep_buckets_known,
 *   cwsweep_skipped_runs_in_a_row (runs that found the lock held, exit 75,
 *   since the last run that ran), cwsweep_lock_holder_start_timestamp_seconds
 *   (exit 75: when the run holding the lock started)
 *
 * Threads: none (the thread that owns the run, after it).
 */
#ifndef CW_METRICS_H
#define CW_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "run.h"

struct cw_metrics_in {
	const struct cw_run *run; /* NULL when nothing was swept (exit 2) */
	int exit_code;
	double started, finished; /* wall clock, UTC epoch seconds (with fraction) */
	double last_success;      /* of an earlier run; 0 = unknown */
	double skipped_in_a_row;  /* exit 75: skips in a row, this one included */
	double lock_holder_started; /* exit 75: the holder's start; 0 = unknown */
};

/* The text into out (appended).  0 or CW_ENOMEM. */
int cw_metrics_text(struct cw_buf *out, const struct cw_metrics_in *m);

/* The last success time a metrics file records; 0 when absent or unreadable. */
double cw_metrics_last_success(const char *path);
/* The skips in a row it records; 0 when absent or unreadable. */
double cw_metrics_skipped_in_a_row(const char *path);

/* Write the file atomically (mode 0644): 0, or a cw_err with err. */
int cw_metrics_write(const char *path, const struct cw_metrics_in *m,
		     char *err, size_t errlen);

#endif
