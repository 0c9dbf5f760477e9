/*
 * cmd_merge.c - `cwsweep merge`: join the report.json files of sharded runs
 * (`cwsweep run --shard K/N`) into one report, as if one run had swept
 * every account.
 */
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "commands.h"
#include "err.h"
#include "log.h"
#include "report.h"
#include "run.h"
#include "strutil.h"
#include "timeutil.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cwsweep merge REPORT.json... [-o DIR] [--format LIST]\n"
		"                     [--no-slack | --slack-preview] [--slack-env VAR] [-q]\n"
		"\n"
		"Join the report.json files of sharded runs (`cwsweep run --shard K/N\n"
		"--no-slack`) into one report.md / report.csv / report.json, with every\n"
		"shard's judgements, failures and not-measured buckets, and post one\n"
		"Slack digest for all of them.  The digest announces what the shards\n"
		"marked new, grew or resolved (every anomaly when they ran without state).\n"
		"\n"
		"options:\n"
		"  -o, --output DIR   where the merged reports go (default ./cwsweep-report)\n"
		"  --format LIST      report formats: md, csv, json, html, xlsx (default all)\n"
		"  --no-slack         do not post the digest\n"
		"  --slack-preview    print the digest's JSON payload to stdout, do not post;\n"
		"                     stdout then holds only that JSON (the summary goes to\n"
		"                     stderr)\n"
		"  --slack-env VAR    the variable holding the webhook URL\n"
		"                     (default SLACK_WEBHOOK_URL; not set: no digest)\n"
		"  -q, --quiet        no summary on stdout\n"
		"  -h, --help         this help\n"
		"\n%s", cw_exit_codes_help);
}

static bool has_text(const char *s)
{
	return s && *s;
}

/* Move everything of src into dst (src's series are emptied). */
static int merge_into(struct cw_run *dst, struct cw_run *src)
{
	size_t base = dst->nseries;
	int rc = 0;

	for (size_t i = 0; i < src->nseries && !rc; i++) {
		size_t idx;

		rc = cw_run_add_series(dst, &src->series[i].id, &src->series[i].series, &idx);
	}
	for (size_t i = 0; i < src->nresults && !rc; i++) {
		const struct cw_result *r = &src->results[i];

		rc = cw_run_add_result(dst, base + r->series, r->detector, &r->j, r->note);
		if (!rc) {
			dst->results[dst->nresults - 1].est_excess_usd = r->est_excess_usd;
			dst->results[dst->nresults - 1].alert = r->alert;
		}
	}
	for (size_t i = 0; i < src->nfailures && !rc; i++) {
		const struct cw_failure *f = &src->failures[i];

		rc = cw_run_add_failure(dst, &f->id, f->stage, f->code, f->message);
	}
	for (size_t i = 0; i < src->nunmeasured && !rc; i++) {
		const struct cw_unmeasured *u = &src->unmeasured[i];

		rc = cw_run_add_unmeasured(dst, &u->id, u->reason, u->fix);
	}
	if (rc)
		return rc;
	if (!dst->started || (src->started && src->started < dst->started))
		dst->started = src->started;
	if (src->finished > dst->finished)
		dst->finished = src->finished;
	dst->period = dst->period == 0 || dst->period == src->period ? src->period : 0;
	if (src->lookback > dst->lookback)
		dst->lookback = src->lookback;
	dst->all_periods = dst->all_periods || src->all_periods;
	dst->accounts += src->accounts;
	if (src->regions > dst->regions)
		dst->regions = src->regions;
	dst->api_calls += src->api_calls;
	if (!isnan(src->total_excess_usd))
		dst->total_excess_usd = (isnan(dst->total_excess_usd) ? 0 : dst->total_excess_usd) +
					src->total_excess_usd;
	if (!dst->price_note && src->price_note)
		dst->price_note = cw_strdup(src->price_note);
	if (dst->ndetectors == 0 && src->ndetectors) {
		dst->detectors = src->detectors;
		dst->ndetectors = src->ndetectors;
		src->detectors = NULL;
		src->ndetectors = 0;
	}
	return 0;
}

int cw_cmd_merge(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "no-slack", no_argument, NULL, 'N' },
		{ "slack-preview", no_argument, NULL, 'P' },
		{ "slack-env", required_argument, NULL, 'E' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = "./cwsweep-report", *formats = NULL;
	struct cw_buf summary = CW_BUF_INIT;
	struct cw_run run;
	char err[CW_ERRBUF];
	struct cw_digest_opts digest = { NULL, NULL, 0, false, NULL };
	bool quiet = false, no_slack = false;
	bool *announce = NULL;
	int c, code = CW_EXIT_PARTIAL;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:f:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': dir = optarg; break;
		case 'f':
			if (cw_reports_check_formats(optarg, err, sizeof(err)))
				return cw_usage_error("merge: --format: %s", err);
			formats = optarg;
			break;
		case 'N': no_slack = true; break;
		case 'P': digest.preview = true; break;
		case 'E': digest.webhook_env = optarg; break;
		case 'q': quiet = true; break;
		case 'h': usage(stdout); return CW_EXIT_OK;
		case ':': return cw_usage_error("merge: %s needs a value", argv[optind - 1]);
		default:
			return cw_usage_error("merge: unknown option \"%s\" (see `cwsweep merge --help`)",
					      argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cw_usage_error("merge: name at least one report.json (see `cwsweep merge --help`)");
	if (no_slack && digest.preview)
		return cw_usage_error("merge: --no-slack and --slack-preview exclude each other");
	if (quiet)
		cw_log_set_level(CW_LOG_QUIET);

	if (cw_run_init(&run, "merge"))
		return CW_EXIT_PARTIAL;
	/* Every input is read before anything is written: a bad one is exit 2. */
	for (int i = optind; i < argc; i++) {
		struct cw_run shard; /* initialised by the loader */

		if (cw_report_json_load(argv[i], &shard, err, sizeof(err))) {
			code = cw_usage_error("merge: %s", err);
			goto out;
		}
		if (i == optind) {
			/* the merged run is named after its first shard */
			char *id = cw_asprintf("merge-%s", has_text(shard.run_id) ? shard.run_id
									    : "runs");

			if (!id || cw_str_set(&run.inventory, shard.inventory)) {
				free(id);
				cw_run_release(&shard);
				cw_log_error("merge: out of memory");
				goto out;
			}
			free(run.run_id);
			run.run_id = id;
		}
		if (merge_into(&run, &shard)) {
			cw_run_release(&shard);
			cw_log_error("merge: out of memory");
			goto out;
		}
		cw_run_release(&shard);
	}
	cw_run_sort_results(&run);
	if (cw_reports_write(&run, dir, formats, err, sizeof(err))) {
		code = cw_usage_error("merge: -o %s: %s", dir, err);
		goto out;
	}
	code = cw_run_exit_code(&run);
	/* with --slack-preview stdout is the payload's alone */
	if (!quiet && cw_report_summary(&run, dir, &summary) == 0)
		fputs(cw_buf_str(&summary), digest.preview ? stderr : stdout);
	fflush(stdout);
	/* The shards' alert marks decide what is news (no marks: every anomaly). */
	announce = calloc(run.nresults ? run.nresults : 1, sizeof(*announce));
	if (!announce) {
		cw_log_error("merge: out of memory");
		code = CW_EXIT_PARTIAL;
		goto out;
	}
	for (size_t i = 0; i < run.nresults; i++) {
		enum cw_alert a = run.results[i].alert;

		announce[i] = a == CW_ALERT_NONE || a == CW_ALERT_NEW || a == CW_ALERT_GREW ||
			      a == CW_ALERT_RESOLVED;
	}
	if (!no_slack && cw_cli_digest(&run, announce, dir, &digest) != 0)
		code = CW_EXIT_PARTIAL;
out:
	free(announce);
	cw_buf_release(&summary);
	cw_run_release(&run);
	return code;
}
