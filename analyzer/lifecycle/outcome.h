/*
 * outcome.h - what a run tells the world besides its reports, whatever
 * its exit code: a short "could not run / ran partly" notice to the Slack
 * channel (exit 2 and 3, once a UTC day per reason via the alert state; a
 * run skipped for a stale lock, exit 75), the Prometheus metrics file
 * (skips in a row counted across runs) and the heartbeat ping (none for a
 * skipped run, unless the lock is stale: then a failure).  None of them
 * changes the exit code; each failure is a warning.
 *
 * Threads: the thread that owns the run, after it, with
 * cw_http_global_init() done.
 */
#ifndef CW_OUTCOME_H
#define CW_OUTCOME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "run.h"
#include "state.h"

struct cw_outcome {
	int exit_code;
	const struct cw_run *run;   /* NULL when nothing was swept */
	const char *summary;        /* the one-line run summary, or NULL */
	const char *reason;         /* why exit 2 or 3 (redacted here again) */
	const char *run_id;
	int64_t now;                /* the run's time, UTC seconds: the notice's day */
	double wall_start;          /* real time, UTC seconds, for the metrics */
	/* the notice */
	bool notice;                /* post one (the caller decides when) */
	bool preview;               /* print it on stdout instead of posting */
	const char *webhook;        /* the URL itself (config.env; secret), or NULL */
	const char *webhook_env;    /* else this variable; NULL: SLACK_WEBHOOK_URL */
	const char *state_path;     /* NULL: posted every time */
	struct cw_state *state;     /* the run's loaded state, or NULL: loaded here */
	/* the metrics file and the heartbeat */
	const char *metrics_path;   /* NULL: none */
	const char *heartbeat_env;  /* variable holding the heartbeat URL; NULL: none */
	/* exit 75: when the run holding the lock started (0: unknown), and
	 * whether it has held it too long (then the heartbeat is a failure) */
	int64_t lock_holder_started;
	bool stale_lock;
};

/* "3 targets failed: AccessDenied (2), Throttling (1)" */
void cw_outcome_failures_reason(const struct cw_run *run, char *out, size_t outlen);

/* The notice, when o->notice and a webhook is known. */
void cw_outcome_notice(const struct cw_outcome *o);

/* The metrics file and the heartbeat, when configured. */
void cw_outcome_publish(const struct cw_outcome *o);

/* Real time now, UTC seconds with milliseconds. */
double cw_outcome_wall_now(void);

#endif
