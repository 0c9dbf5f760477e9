/*
 * cli.h - what the subcommands share: exit codes and option helpers.
 */
#ifndef CW_CLI_H
#define CW_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "inventory.h"
#include "orgsync.h"

/* Exit codes: stable, documented in README.md and --help. */
enum {
	CW_EXIT_OK = 0,        /* ran fully, nothing anomalous */
	CW_EXIT_ANOMALY = 1,   /* ran fully, anomalies found */
	CW_EXIT_USAGE = 2,     /* usage or configuration error: nothing fetched or written */
	CW_EXIT_PARTIAL = 3,   /* some targets failed; reports written with a failures section */
	CW_EXIT_LOCKED = 75,   /* another run holds the lock (EX_TEMPFAIL) */
};

/* Print "cwsweep: OPTION: message" to stderr and return CW_EXIT_USAGE. */
int cw_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A new run id ("20261126T031500Z-4f2a": UTC time and a random suffix)
 * and the detectors as configured ("mean7d", "zscore:limit=4": only the
 * parameters that differ from the defaults, in the form --detectors takes)
 * into run.  0 or CW_ENOMEM.
 */
struct cw_run;
struct cw_detector_conf;
int cw_cli_run_meta(struct cw_run *run, const struct cw_detector_conf *dets, size_t ndets);

/* Where the Slack digest goes. */
struct cw_digest_opts {
	const char *webhook;     /* the URL itself (config.env; secret), or NULL */
	const char *webhook_env; /* else the variable holding it; NULL: SLACK_WEBHOOK_URL */
	size_t max_findings;     /* 0: the default */
	bool preview;            /* print the payload on stdout instead of posting */
	const char *report_url;  /* the URL serving the output folder, or NULL */
	const char *report_link; /* the report's own URL (a presigned one), or NULL */
	const bool *announce_failures; /* parallel to run->failures; NULL = all */
};

/*
 * Build the digest of run (announce: parallel to run->results, NULL = every
 * anomaly) and post it, or print it with preview.  Nothing to announce, or
 * no webhook configured: nothing is sent, and that is said on stderr.
 * Returns 0, or -1 when a post that should have happened failed (logged,
 * naming only the webhook's host).
 */
int cw_cli_digest(const struct cw_run *run, const bool *announce, const char *dir,
		  const struct cw_digest_opts *o);

/*
 * cw_cli_digest for a command's outcome.  Returns true when the digest
 * already tells what went wrong, so no separate problem notice is due: it
 * lists the run's failure rows and nothing else failed (partly empty), or
 * its post failed, the channel being what is broken (then *code becomes
 * CW_EXIT_PARTIAL and partly is cleared).
 */
bool cw_cli_digest_told(const struct cw_run *run, const bool *announce, const char *dir,
			const struct cw_digest_opts *o, char *partly, int *code);

/*
 * Upload the reports of dir to s3://BUCKET/PREFIX/folder/ (publish.h) and
 * log where they went ("CMD: N reports VERB s3://..."); link gets the
 * presigned link for the digest.  0, or a cw_err: the error is logged
 * (naming dir, where the reports still are), why (may be NULL) gets the
 * sentence for the problem notice, and link is emptied.
 */
struct cw_publish_opts;
struct cw_buf;
int cw_cli_publish(const char *cmd, const struct cw_publish_opts *po, const char *dir,
		   const char *folder, const char *verb, struct cw_buf *link, char *why,
		   size_t whylen);

/*
 * The inventory's `organization:` section resolved (see orgsync.h): on
 * success *inv is replaced by the inventory with Organizations' accounts
 * and 0 is returned.  CW_EXIT_USAGE when that inventory has problems
 * (printed); CW_EXIT_PARTIAL when Organizations could not be read: *inv
 * stays (its `accounts:` only), res says why, and the caller reports a
 * failure row.  No organization section: 0, nothing done.
 */
struct cw_cli_org {
	bool failed;
	char management_account[13];
	struct cw_orgsync_stats stats;
	char err[512];
};
int cw_cli_resolve_org(struct cw_inventory *inv, const char *profile, struct cw_cli_org *res);
/* The resolved list (id, name, where its settings come from), for --dry-run;
 * nothing when there was no organization section or it failed. */
void cw_cli_print_org(FILE *f, const struct cw_inventory *inv, const struct cw_cli_org *org);

/* The exit-code table for --help texts. */
extern const char cw_exit_codes_help[];

#endif
