/*
 * cli.h - what the subcommands share: exit codes and option helpers.
 */
#ifndef CW_CLI_H
#define CW_CLI_H

#include <stddef.h>

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

/* The exit-code table for --help texts. */
extern const char cw_exit_codes_help[];

#endif
