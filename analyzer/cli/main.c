/*
 * main.c - the cwsweep executable: global options and subcommand dispatch.
 *
 * Subcommands are listed once, in the table below, with their one-line
 * description for `cwsweep --help`.
 */
#include <getopt.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "log.h"

struct cw_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct cw_command commands[] = {
	{ "run", cw_cmd_run,
	  "sweep every account of an inventory: fetch CloudWatch series, judge, report" },
	{ "analyze", cw_cmd_analyze,
	  "judge series from files (CSV timestamp,value or get-metric-data JSON)" },
	{ "validate", cw_cmd_validate,
	  "check an inventory (accounts.yaml) and print what it would sweep" },
	{ "merge", cw_cmd_merge,
	  "join the JSON reports of sharded runs into one report" },
	{ "enable-metrics", cw_cmd_enable_metrics,
	  "plan (and with --apply create) S3 request-metrics configurations" },
	{ "ack", cw_cmd_ack,
	  "acknowledge a bucket's anomaly: the digest stops announcing it" },
	{ "init", cw_cmd_init,
	  "write a starter inventory from AWS Organizations or a c7n-org accounts file" },
	{ NULL, NULL, NULL },
};

static void print_help(FILE *f)
{
	fprintf(f,
		"usage: cwsweep [--version] [--help] COMMAND [OPTIONS]\n"
		"\n"
		"Find spikes in CloudWatch metrics (first of all S3 BytesDownloaded)\n"
		"across every account of an AWS organisation, before the bill does.\n"
		"\n"
		"commands:\n");
	for (const struct cw_command *c = commands; c->name; c++)
		fprintf(f, "  %-15s %s\n", c->name, c->summary);
	fprintf(f,
		"\n"
		"Run `cwsweep COMMAND --help` for a command's options.\n"
		"The inventory format is documented in accounts.yaml.example and README.md.\n"
		"\n%s", cw_exit_codes_help);
}

int main(int argc, char **argv)
{
#ifdef __GLIBC__
	/*
	 * Response bodies are large and short-lived.  A fixed mmap threshold
	 * (glibc otherwise raises it up to 32 MiB after the first big free)
	 * keeps every block over 1 MiB in its own mapping: freed memory goes
	 * back to the system and realloc grows it with mremap, without a copy,
	 * so the memory bound of the responses in flight (aws.response_memory_mb)
	 * is close to what the process really holds.
	 */
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
#endif
	cw_log_init_from_env();
	if (argc < 2) {
		print_help(stderr);
		return CW_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		if (argc > 2 && strcmp(argv[1], "help") == 0) {
			for (const struct cw_command *c = commands; c->name; c++) {
				if (!strcmp(c->name, argv[2])) {
					char *hargv[] = { argv[2], "--help", NULL };

					optind = 0;
					return c->fn(2, hargv);
				}
			}
		}
		print_help(stdout);
		return CW_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("cwsweep %s\n", CWSWEEP_VERSION);
		return CW_EXIT_OK;
	}
	for (const struct cw_command *c = commands; c->name; c++) {
		if (!strcmp(c->name, argv[1])) {
			optind = 0; /* glibc: full re-initialisation of getopt */
			return c->fn(argc - 1, argv + 1);
		}
	}
	return cw_usage_error("unknown command \"%s\" (run `cwsweep --help`)", argv[1]);
}
