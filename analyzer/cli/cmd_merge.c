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
#include <unistd.h>

#include "atomicio.h"
#include "buf.h"
#include "cli.h"
#include "commands.h"
#include "creds.h"
#include "err.h"
#include "inventory.h"
#include "log.h"
#include "merge_src.h"
#include "outcome.h"
#include "publish.h"
#include "report.h"
#include "run.h"
#include "s3.h"
#include "state.h"
#include "state_src.h"
#include "strutil.h"
#include "timeutil.h"
#include "units.h"

static void usage(FILE *f)
{
	fputs(
		"usage: cwsweep merge REPORT.json|s3://BUCKET/PREFIX/... [-o DIR] [--format LIST]\n"
		"                     [--pretty] [--region NAME] [--publish s3://BUCKET/PREFIX/]\n"
		"                     [--publish-link-expiry DURATION]\n"
		"                     [--state FILE|s3://BUCKET/KEY] [-i accounts.yaml]\n"
		"                     [--metrics-file FILE] [--heartbeat-env VAR]\n"
		"                     [--no-slack | --slack-preview] [--slack-env VAR] [-q]\n"
		"\n"
		"Join the report.json files of sharded runs (`cwsweep run --shard K/N\n"
		"--no-slack`) into one set of reports, with every shard's judgements,\n"
		"failures and not-measured buckets, and post one Slack digest for all of\n"
		"them.  The digest announces what the shards marked new, grew or resolved\n"
		"(every anomaly when they ran without state), or, with --state, what the\n"
		"alert state that merge keeps says is news.\n"
		"\n"
		"The reports must belong together: the same kind (run with run), the same\n"
		"--at and period, the same judged period (shards started on either side\n"
		"of midnight without a common --at do not), the same split K/N with each\n"
		"K once, no run twice (else exit 2, nothing written).  A shard of the\n"
		"split that is not given is a failure row naming it, and the exit code\n"
		"is 3.  A merge that could not run (exit 2) or ran partly for another\n"
		"reason (exit 3: S3, the state, the upload) posts a short notice to the\n"
		"webhook, as `run` does (not when stderr is a terminal).\n"
		"\n"
		"An argument s3://BUCKET/PREFIX/ stands for every report.json under that\n"
		"prefix (ListObjectsV2, then GetObject; ambient credentials that need\n"
		"s3:ListBucket and s3:GetObject): where the shards of one run handed off\n"
		"their reports (`cwsweep run --shard K/N --hand-off s3://BUCKET/PREFIX/`).\n"
		"A missing bucket, refused access or a prefix without report.json is\n"
		"exit 2; S3 unreachable or failing after every retry is exit 3; either\n"
		"way nothing is written.  Endpoint: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL.\n"
		"\n", f);
	fprintf(f,
		"options:\n"
		"  -o, --output DIR   where the merged reports go (default ./cwsweep-report)\n"
		"  --format LIST      report formats: md, csv, json, html, xlsx (default all)\n"
		"  --pretty           indent report.json for people (default: compact)\n"
		"  --region NAME      the region of the s3:// buckets (default AWS_REGION,\n"
		"                     AWS_DEFAULT_REGION, then us-east-1)\n"
		"  --publish s3://BUCKET/PREFIX/\n"
		"                     upload the merged reports to PREFIX/RUN_ID/report.*\n"
		"                     (as reporting.publish does for a run; s3:PutObject)\n"
		"                     and link the digest to report.html there (a presigned\n"
		"                     URL); not under an input prefix, which a later merge\n"
		"                     would read.  A failed upload is exit 3, the digest\n"
		"                     is still posted, without the link\n"
		"  --publish-link-expiry DURATION\n"
		"                     how long that link works, 1m to 7d (default 7d)\n"
		"  --state FILE|s3://BUCKET/KEY\n"
		"                     the alert state of the sharded runs, kept by merge\n"
		"                     (the shards run --no-state): new, grew, ongoing and\n"
		"                     resolved as `run --state` marks them, for all shards\n"
		"                     at once.  In S3 it is read with GetObject (none yet:\n"
		"                     an empty state) and written back with PutObject after\n"
		"                     the reports, only over the object read (If-Match,\n"
		"                     If-None-Match: *): one that another merge changed\n"
		"                     meanwhile is left as it is.  A state that cannot be\n"
		"                     read is exit 2 (3 when S3 failed past the retries),\n"
		"                     nothing written; one that cannot be saved is exit 3\n"
		"  -i, --inventory FILE\n"
		"                     take reporting.cooldown and reporting.growth_factor\n"
		"                     (for --state; default 7d and 2), metrics_file and\n"
		"                     heartbeat_url_env from this inventory\n"
		"  --metrics-file FILE\n"
		"                     write merge's Prometheus metrics there, atomically,\n"
		"                     as `run --metrics-file` does (the last success\n"
		"                     and exit code of the sharded run as a whole)\n"
		"  --heartbeat-env VAR\n"
		"                     the variable holding a heartbeat URL: pinged when\n"
		"                     merge exits 0 or 1, URL/fail otherwise (as\n"
		"                     reporting.heartbeat_url_env does for a run)\n"
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

/* What the first report says, that every other one must agree with. */
struct shard_meta {
	char *mode;      /* "run", "analyze", "merge" */
	char *run_id;    /* of the first report, for messages */
	int64_t at;      /* --at of the shards (0: the real clock) */
	int64_t period;
	int64_t judged;  /* end of the last period a sweep judged (0: unknown) */
	unsigned n;      /* N of K/N; 0: not sharded */
	int sharded;     /* 1 when the first report was a shard */
};

/* The end of the last complete period a sweep judged: its start ("now",
 * or --at) floored to its period, as the plan computes it; 0 for other
 * kinds of report (analyze judges what its files hold). */
static int64_t judged_end(const struct cw_run *s)
{
	if (!s->mode || strcmp(s->mode, "run") != 0 || s->period <= 0 || s->started <= 0)
		return 0;
	return cw_time_floor(s->started, s->period);
}

/*
 * A report may join the others when it is of the same kind (a sweep with
 * sweeps, not an analyze run), was replayed at the same --at with the same
 * period and judged the same last period, belongs to the same split (K/N
 * with the same N, each K once), and is not the same run given twice.  0,
 * or the exit code of the usage error (printed).
 */
static int check_shard(const char *path, const struct cw_run *s, bool is_first,
		       struct shard_meta *m, bool **seen, char ***ids, size_t *nids)
{
	char **grown;

	if (is_first) {
		m->mode = cw_strdup(s->mode ? s->mode : "");
		m->run_id = cw_strdup(s->run_id ? s->run_id : "");
		m->at = s->at;
		m->period = s->period;
		m->judged = judged_end(s);
		m->n = s->shard_n;
		m->sharded = s->shard_n != 0;
		if (!m->mode || !m->run_id)
			return cw_usage_error("merge: out of memory");
		if (m->n && !(*seen = calloc(m->n, sizeof(**seen))))
			return cw_usage_error("merge: out of memory");
	} else {
		if (strcmp(m->mode, s->mode ? s->mode : "") != 0)
			return cw_usage_error("merge: %s: a report of `cwsweep %s` cannot join "
					      "reports of `cwsweep %s`", path, s->mode, m->mode);
		if (s->at != m->at)
			return cw_usage_error("merge: %s: swept at a different --at than the "
					      "first report (every shard must replay the same "
					      "time)", path);
		if (s->period && m->period && s->period != m->period)
			return cw_usage_error("merge: %s: a different period than the first "
					      "report", path);
		if (judged_end(s) && m->judged && judged_end(s) != m->judged) {
			char a[CW_TIME_ISO_LEN], b[CW_TIME_ISO_LEN];

			return cw_usage_error("merge: %s: judged the period ending %s, the first "
					      "report the one ending %s: the shards started on "
					      "different sides of a period's end without a common "
					      "--at (give every shard of a run the same --at, as "
					      "scripts/k8s and scripts/batch do)", path,
					      cw_time_iso(judged_end(s), a, sizeof(a)),
					      cw_time_iso(m->judged, b, sizeof(b)));
		}
		if ((s->shard_n != 0) != m->sharded || (m->sharded && s->shard_n != m->n))
			return cw_usage_error("merge: %s: shard %u/%u does not belong with the "
					      "first report's split (%s)", path, s->shard_k,
					      s->shard_n, m->sharded ? "K/N with the same N"
								   : "not sharded");
	}
	if (m->n) {
		if ((*seen)[s->shard_k])
			return cw_usage_error("merge: %s: shard %u/%u is given twice", path,
					      s->shard_k, s->shard_n);
		(*seen)[s->shard_k] = true;
	}
	for (size_t i = 0; i < *nids && s->run_id && s->run_id[0]; i++)
		if (strcmp((*ids)[i], s->run_id) == 0)
			return cw_usage_error("merge: %s: run %s is given twice", path, s->run_id);
	grown = realloc(*ids, (*nids + 1) * sizeof(*grown));
	if (!grown)
		return cw_usage_error("merge: out of memory");
	*ids = grown;
	if (!((*ids)[*nids] = cw_strdup(s->run_id ? s->run_id : "")))
		return cw_usage_error("merge: out of memory");
	(*nids)++;
	return 0;
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

		rc = cw_run_add_unwatched(dst, &u->id, u->kind, u->stored_bytes,
					  u->watch_usd_month, u->reason, u->fix);
	}
	for (size_t i = 0; i < src->ncoverage && !rc; i++)
		rc = cw_run_add_coverage(dst, &src->coverage[i]);
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

/*
 * The merged reports must not land where merge reads: every report.json
 * under an input prefix is an input, so a merge published inside one
 * would be read by the next merge of that prefix (and refused there as a
 * report of `cwsweep merge`).  0, or the usage error's exit code.
 */
static int publish_outside_inputs(const char *bucket, const char *prefix, char *const *args,
				  size_t nargs)
{
	for (size_t i = 0; i < nargs; i++) {
		char b[64], p[1024], err[CW_ERRBUF];
		size_t n;

		if (!cw_str_startswith(args[i], "s3://") ||
		    cw_s3_url_parse(args[i], b, sizeof(b), p, sizeof(p), err, sizeof(err)) ||
		    strcmp(b, bucket) != 0)
			continue; /* a bad input is said when it is opened */
		n = strlen(p);
		if (n == 0 ||
		    (strncmp(prefix, p, n) == 0 && (prefix[n] == '\0' || prefix[n] == '/')))
			return cw_usage_error("merge: --publish s3://%s/%s%s: inside the input "
					      "prefix %s, where the next merge of it would read "
					      "the merged report as a shard; publish elsewhere "
					      "(e.g. s3://%s/reports/)", bucket, prefix,
					      prefix[0] ? "/" : "", args[i], bucket);
	}
	return 0;
}

/* An input that could not be read: exit 2 when it is wrong, 3 when S3 or
 * the network failed past every retry (try again later); nothing written. */
static int src_error(const char *err, bool transient)
{
	if (!transient)
		return cw_usage_error("merge: %s", err);
	cw_log_error("merge: %s (nothing was written; try again later)", err);
	return CW_EXIT_PARTIAL;
}

/* What merge takes from the inventory (-i): the alert state's settings,
 * where the metrics go and the heartbeat's variable (owned, NULL: none). */
struct merge_settings {
	int64_t cooldown;
	double growth;
	char *metrics_file, *heartbeat_env;
};

/* The reporting settings of the inventory at path: 0, or the usage error's
 * exit code (its problems printed). */
static int inventory_settings(const char *path, struct merge_settings *ms)
{
	struct cw_diags diags = { NULL, 0, 0 };
	struct cw_inventory inv;
	int rc = cw_inventory_load(path, &inv, &diags);

	cw_diags_print(&diags, stderr);
	cw_diags_release(&diags);
	if (rc)
		return cw_usage_error("merge: -i %s: cannot read the inventory", path);
	ms->cooldown = inv.reporting.cooldown;
	ms->growth = inv.reporting.growth_factor;
	/* taken over: the inventory's release leaves them */
	ms->metrics_file = inv.reporting.metrics_file;
	ms->heartbeat_env = inv.reporting.heartbeat_url_env;
	inv.reporting.metrics_file = inv.reporting.heartbeat_url_env = NULL;
	cw_inventory_release(&inv);
	return 0;
}

/* Read the state (--state) into st.  0, or the exit code (2: it cannot be
 * read; 3: S3 failed past the retries); the error is printed. */
static int state_load(struct cw_state_src *ss, struct cw_merge_src *src, struct cw_state *st)
{
	char err[CW_ERRBUF], what[CW_ERRBUF + 16];
	bool transient = false;
	int rc = cw_state_src_load(ss, src, st, &transient, err, sizeof(err));

	if (rc == 0)
		return 0;
	if (rc == CW_ENOMEM || !ss->bucket[0]) {
		cw_log_error("merge: --state %s: %s", ss->where, err);
		return CW_EXIT_PARTIAL;
	}
	snprintf(what, sizeof(what), "--state: %s", err);
	return src_error(what, transient);
}

/* Save the state.  0, or -1 with the error printed and said in why. */
static int state_save(const struct cw_state_src *ss, struct cw_merge_src *src,
		      const struct cw_state *st, int64_t now, char *why, size_t whylen)
{
	char err[CW_ERRBUF];

	if (cw_state_src_save(ss, src, st, now, err, sizeof(err)) != 0) {
		cw_log_error("merge: --state: %s (the next merge will announce again what "
			     "this one did)", err);
		snprintf(why, whylen, "the alert state could not be saved: %s", err);
		return -1;
	}
	cw_log_info("merge: alert state saved to %s", ss->where);
	return 0;
}

int cw_cmd_merge(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "pretty", no_argument, NULL, 'J' },
		{ "region", required_argument, NULL, 'R' },
		{ "publish", required_argument, NULL, 'U' },
		{ "publish-link-expiry", required_argument, NULL, 'X' },
		{ "state", required_argument, NULL, 'S' },
		{ "inventory", required_argument, NULL, 'i' },
		{ "metrics-file", required_argument, NULL, 'M' },
		{ "heartbeat-env", required_argument, NULL, 'H' },
		{ "no-slack", no_argument, NULL, 'N' },
		{ "slack-preview", no_argument, NULL, 'P' },
		{ "slack-env", required_argument, NULL, 'E' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = "./cwsweep-report", *formats = NULL, *region = NULL;
	struct cw_merge_src *src = NULL;
	bool transient = false;
	struct cw_buf summary = CW_BUF_INIT;
	struct cw_run run;
	char err[CW_ERRBUF];
	struct cw_digest_opts digest = { NULL, NULL, 0, false, NULL, NULL, NULL };
	bool quiet = false, no_slack = false, pretty = false;
	bool *announce = NULL, *seen = NULL;
	struct shard_meta first = { NULL, NULL, 0, 0, 0, 0, 0 };
	char **run_ids = NULL;
	size_t nids = 0;
	char pub_bucket[64] = "", pub_prefix[1024] = "";
	struct cw_state_src ms = { NULL, "", "", false, "" };
	const char *inv_path = NULL, *metrics_file = NULL, *heartbeat_env = NULL;
	struct merge_settings set = { 7 * 86400, 2.0, NULL, NULL };
	double wall0 = cw_outcome_wall_now();
	struct cw_state state;
	bool *announce_failures = NULL;
	bool working = false, digest_told = false, written = false;
	char partly[CW_ERRBUF + 128] = ""; /* why exit 3, when not the failure rows */
	int64_t pub_expiry = 7 * 86400;
	struct cw_buf publink = CW_BUF_INIT;
	int c, code = CW_EXIT_PARTIAL;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:f:i:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': dir = optarg; break;
		case 'f':
			if (cw_reports_check_formats(optarg, err, sizeof(err)))
				return cw_usage_error("merge: --format: %s", err);
			formats = optarg;
			break;
		case 'J': pretty = true; break;
		case 'R':
			if (!*optarg || strlen(optarg) > 40)
				return cw_usage_error("merge: --region: not a region name: \"%.60s\"",
						      optarg);
			region = optarg;
			break;
		case 'U':
			if (cw_s3_url_parse(optarg, pub_bucket, sizeof(pub_bucket), pub_prefix,
					    sizeof(pub_prefix), err, sizeof(err)))
				return cw_usage_error("merge: --publish: %s", err);
			break;
		case 'X':
			if (cw_parse_duration(optarg, &pub_expiry, err, sizeof(err)) ||
			    pub_expiry < 60 || pub_expiry > 7 * 86400)
				return cw_usage_error("merge: --publish-link-expiry: want a duration "
						      "from 1m to 7d (S3's limit), got \"%s\"",
						      optarg);
			break;
		case 'S':
			if (cw_state_src_set(&ms, optarg, err, sizeof(err)))
				return cw_usage_error("merge: --state: %s", err);
			break;
		case 'i':
			if (!*optarg)
				return cw_usage_error("merge: --inventory: empty value");
			inv_path = optarg;
			break;
		case 'M':
			if (!*optarg)
				return cw_usage_error("merge: --metrics-file: empty value");
			metrics_file = optarg;
			break;
		case 'H':
			if (!cw_env_name_ok(optarg))
				return cw_usage_error("merge: --heartbeat-env: not a variable "
						      "name: \"%.60s\"", optarg);
			heartbeat_env = optarg;
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
	if (pub_bucket[0] && publish_outside_inputs(pub_bucket, pub_prefix, argv + optind,
						    (size_t)(argc - optind)))
		return CW_EXIT_USAGE;
	if (quiet)
		cw_log_set_level(CW_LOG_QUIET);
	cw_state_init(&state);
	if (cw_run_init(&run, "merge"))
		return CW_EXIT_PARTIAL;
	working = true; /* from here, a failure is told like a run's (see out) */
	/* an inventory that does not load still leaves its exit code in the
	 * metrics file given on the command line (as `run` does) */
	if (inv_path && (code = inventory_settings(inv_path, &set)) != 0)
		goto out;
	code = CW_EXIT_PARTIAL;
	if (!metrics_file)
		metrics_file = set.metrics_file;
	if (!heartbeat_env)
		heartbeat_env = set.heartbeat_env;
	/* S3 prefixes are listed first: a wrong one stops merge before any read */
	if (cw_merge_src_open(&src, argv + optind, (size_t)(argc - optind), region, &transient,
			      err, sizeof(err))) {
		code = src_error(err, transient);
		goto out;
	}
	/* Every input is read before anything is written: a bad one is exit 2. */
	for (size_t i = 0; i < cw_merge_src_count(src); i++) {
		const char *name = cw_merge_src_name(src, i);
		struct cw_run shard; /* initialised by the loader */

		if (cw_merge_src_load(src, i, &shard, &transient, err, sizeof(err))) {
			code = src_error(err, transient);
			goto out;
		}
		if ((code = check_shard(name, &shard, i == 0, &first, &seen, &run_ids,
					&nids)) != 0) {
			cw_run_release(&shard);
			goto out;
		}
		code = CW_EXIT_PARTIAL;
		if (i == 0) {
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
	run.at = first.at;
	/* shards that were not given: their accounts are not in the report */
	for (unsigned k = 0; first.n && k < first.n; k++) {
		struct cw_target_id none = { 0 };

		if (seen[k])
			continue;
		snprintf(err, sizeof(err), "shard %u/%u of run set %s was not given to merge: "
			 "its accounts are missing from this report", k, first.n,
			 first.run_id ? first.run_id : "?");
		cw_log_error("merge: %s", err); /* a partial result: said even with -q */
		if (cw_run_add_failure(&run, &none, "merge", "MissingShard", err)) {
			cw_log_error("merge: out of memory");
			goto out;
		}
	}
	cw_run_added(&run);
	cw_run_sort_results(&run);
	run.pretty = pretty;
	announce = calloc(run.nresults ? run.nresults : 1, sizeof(*announce));
	announce_failures = calloc(run.nfailures ? run.nfailures : 1, sizeof(*announce_failures));
	if (!announce || !announce_failures) {
		cw_log_error("merge: out of memory");
		goto out;
	}
	if (ms.where) {
		/* merge's own state judges the whole set: read before anything is
		 * written, so a state that cannot be read leaves nothing behind */
		int64_t now = run.started ? run.started : cw_time_now();

		if ((code = state_load(&ms, src, &state)) != 0)
			goto out;
		code = CW_EXIT_PARTIAL;
		if (cw_state_apply(&state, &run, now, set.cooldown, set.growth, announce) ||
		    cw_state_apply_failures(&state, &run, now, set.cooldown,
					    announce_failures)) {
			cw_log_error("merge: alert state: out of memory");
			goto out;
		}
		digest.announce_failures = announce_failures;
	} else {
		/* The shards' alert marks decide what is news (no marks: every anomaly). */
		for (size_t i = 0; i < run.nresults; i++) {
			enum cw_alert a = run.results[i].alert;

			announce[i] = a == CW_ALERT_NONE || a == CW_ALERT_NEW ||
				      a == CW_ALERT_GREW || a == CW_ALERT_RESOLVED;
		}
	}
	/* temporary files that a killed earlier run left (dead PIDs only) */
	(void)cw_remove_stale_temps(dir, "report.", NULL, err, sizeof(err));
	if (cw_reports_write(&run, dir, formats, err, sizeof(err))) {
		code = cw_usage_error("merge: -o %s: %s", dir, err);
		goto out;
	}
	written = true;
	code = cw_run_exit_code(&run);
	/* after the reports: the state remembers only what a report shows */
	if (ms.where && state_save(&ms, src, &state, run.started ? run.started : cw_time_now(),
				   partly, sizeof(partly)) != 0)
		code = CW_EXIT_PARTIAL;
	/* with --slack-preview stdout is the payload's alone */
	if (!quiet && cw_report_summary(&run, dir, &summary) == 0)
		fputs(cw_buf_str(&summary), digest.preview ? stderr : stdout);
	fflush(stdout);
	/* Where readers look: the merged reports in S3, linked from the digest. */
	if (pub_bucket[0]) {
		struct cw_publish_opts po = {
			.bucket = pub_bucket,
			.prefix = pub_prefix,
			.region = region ? region : cw_env_region("us-east-1"),
			.expiry = pub_expiry,
		};

		if (cw_cli_publish("merge", &po, dir, run.run_id, "published to", &publink,
				   partly[0] ? NULL : partly, sizeof(partly)))
			code = CW_EXIT_PARTIAL;
		else
			digest.report_link = cw_buf_str(&publink);
	}
	/* (the failure rows it lists are the missing shards) */
	if (!no_slack)
		digest_told = cw_cli_digest_told(&run, announce, dir, &digest, partly, &code);
out:
	/* The nightly merge is the sharded run's outcome: exit 2 or 3 that the
	 * digest did not tell posts the short notice, as `run` does (not when
	 * someone reads stderr on a terminal; --slack-preview prints it). */
	if (working) {
		struct cw_outcome oc;
		char reason[CW_ERRBUF + 128] = "";

		if (partly[0])
			cw_strlcpy(reason, partly, sizeof(reason));
		else if (written && run.nfailures)
			cw_outcome_failures_reason(&run, reason, sizeof(reason));
		else if (code == CW_EXIT_USAGE || code == CW_EXIT_PARTIAL)
			cw_log_first_error(reason, sizeof(reason));
		memset(&oc, 0, sizeof(oc));
		oc.exit_code = code;
		oc.run = written ? &run : NULL; /* its numbers once reported */
		oc.reason = reason;
		oc.run_id = run.run_id;
		oc.now = cw_time_now();
		oc.wall_start = wall0;
		oc.notice = (code == CW_EXIT_USAGE || code == CW_EXIT_PARTIAL) && !digest_told &&
			    !no_slack && (digest.preview || !isatty(STDERR_FILENO));
		oc.preview = digest.preview;
		oc.webhook_env = digest.webhook_env;
		oc.metrics_path = metrics_file;
		oc.heartbeat_env = heartbeat_env;
		cw_outcome_notice(&oc);
		cw_outcome_publish(&oc);
	}
	cw_merge_src_free(src);
	free(set.metrics_file);
	free(set.heartbeat_env);
	cw_state_release(&state);
	free(announce);
	free(announce_failures);
	free(seen);
	for (size_t i = 0; i < nids; i++)
		free(run_ids[i]);
	free(run_ids);
	free(first.mode);
	free(first.run_id);
	cw_buf_release(&summary);
	cw_buf_release(&publink);
	cw_run_release(&run);
	return code;
}
