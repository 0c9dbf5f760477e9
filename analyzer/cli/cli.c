/*
 * cli.c - what the subcommands share.
 */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

const char cw_exit_codes_help[] =
	"exit codes:\n"
	"  0   ran fully, nothing anomalous\n"
	"  1   ran fully, anomalies found\n"
	"  2   usage or configuration error (nothing fetched, nothing written)\n"
	"  3   partial failure: some targets failed; reports written with a failures section\n"
	"  75  another run holds the lock\n";

int cw_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("cwsweep: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CW_EXIT_USAGE;
}
