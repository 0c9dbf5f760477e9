/*
 * cli.h - what the subcommands share: exit codes and option helpers.
 */
#ifndef CW_CLI_H
#define CW_CLI_H

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

/* The exit-code table for --help texts. */
extern const char cw_exit_codes_help[];

#endif
