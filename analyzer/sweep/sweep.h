/*
 * sweep.h - the org-wide sweep: inventory -> plan -> pool -> series ->
 * detectors -> a filled cw_run.
 *
 * The caller (cmd_run.c) owns what comes after: cost, alert state,
 * reports, digest, exit code.
 */
#ifndef CW_SWEEP_H
#define CW_SWEEP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "inventory.h"
#include "plan.h"
#include "run.h"

struct cw_sweep_opts {
	const struct cw_inventory *inv;  /* borrowed, validated */
	unsigned jobs;          /* worker threads; 0 = default (16) */
	int64_t now;            /* UTC seconds; 0 = the real clock */
	const char *profile;    /* --profile; NULL = AWS_PROFILE / default */
	const char *run_id;     /* for RoleSessionName "cwsweep-<run id>" */
	/* Which accounts take part (--account, --shard); NULL = every enabled one. */
	bool (*include)(void *ctx, const struct cw_account_def *account);
	void *include_ctx;
	/* Which regions take part (--region); NULL = all of each account's. */
	bool (*include_region)(void *ctx, const char *region);
	void *region_ctx;
	/* Set (by a signal handler) to stop: queued work is dropped, running
	 * calls stop retrying, and what was judged is kept. */
	volatile sig_atomic_t *stop;
	bool all_periods;       /* judge every period, not only the last */
};

/*
 * Run the sweep and fill run (initialised by the caller with mode "run").
 * Per-target problems become run failures / unmeasured rows, not errors.
 * Returns 0, or a cw_err for what stops the whole sweep before any fetch
 * (no credentials at all, a plan that cannot be built): then err says why
 * and nothing was fetched.
 */
int cw_sweep_run(struct cw_run *run, const struct cw_sweep_opts *o,
		 char *err, size_t errlen);

/* --dry-run: build the plan and print it with the estimated cost; no network. */
int cw_sweep_dry_run(FILE *out, const struct cw_sweep_opts *o, char *err, size_t errlen);

#endif
