/*
 * cmd_run.c - `cwsweep run`: the org-wide sweep.
 *
 * Order of work, so that nothing is half-done:
 *   options -> inventory (exit 2 on any problem, nothing fetched) ->
 *   lock (exit 75 when held) -> output folder checked -> sweep ->
 *   cost -> alert state -> reports (atomic) -> state file (atomic) ->
 *   Slack digest -> exit code -> (any exit) a "could not run / ran partly"
 *   notice for exit 2 and 3, the metrics file, the heartbeat.
 * SIGINT/SIGTERM stop the fetching; what was judged is reported, the
 * interrupted targets are failure rows, and the exit code is 3.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicio.h"
#include "buf.h"
#include "cli.h"
#include "commands.h"
#include "cost.h"
#include "dotenv.h"
#include "err.h"
#include "inventory.h"
#include "lock.h"
#include "publish.h"
#include "s3.h"
#include "log.h"
#include "outcome.h"
#include "report.h"
#include "run.h"
#include "state.h"
#include "strutil.h"
#include "sweep.h"
#include "timeutil.h"
#include "units.h"
#include "validate.h"

#define MAX_ACCOUNT_FILTERS 256

struct run_opts {
	const char *inventory;
	const char *config_env;
	const char *dir;
	const char *formats;
	const char *profile;
	const char *state_file;
	const char *lock_file;
	const char *metrics_file;
	int64_t stale_lock_after; /* --stale-lock-after */
	unsigned jobs;
	bool pretty; /* --pretty */
	int64_t at;
	unsigned shard_k, shard_n; /* n == 0: no sharding */
	char hand_bucket[64];      /* --hand-off s3://BUCKET/PREFIX/; "" when not given */
	char hand_prefix[1024];
	const char *accounts[MAX_ACCOUNT_FILTERS];
	size_t naccounts;
	const char *regions[MAX_ACCOUNT_FILTERS];
	size_t nregions;
	const char *slack_env;
	bool no_publish;
	bool dry_run, all_periods, no_state, no_slack, slack_preview, quiet;
	int verbosity;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cwsweep run [-i FILE | --config FILE] [-o DIR] [--jobs N] [--dry-run]\n"
		"                   [--account ID]... [--region NAME]... [--shard K/N]\n"
		"                   [--hand-off s3://BUCKET/PREFIX/]\n"
		"                   [--format LIST] [--pretty] [--all-periods]\n"
		"                   [--state FILE | --no-state]\n"
		"                   [--no-slack | --slack-preview] [--slack-env VAR] [--no-publish]\n"
		"                   [--lock FILE] [--stale-lock-after DURATION]\n"
		"                   [--metrics-file FILE] [--profile NAME]\n"
		"                   [--at TIME] [-q | -v | --debug-http]\n"
		"\n"
		"Sweep every account of the inventory: assume each account's role, fetch the\n"
		"configured CloudWatch series (GetMetricData, batched 500 metrics a call),\n"
		"judge the last complete period with the detectors, and write report.md,\n"
		"report.html, report.csv, report.json and report.xlsx; then post one digest\n"
		"to Slack when configured.  A run that could not run (exit 2) or ran partly\n"
		"(exit 3) posts a short notice there too, once a day per reason (not when\n"
		"stderr is a terminal).\n"
		"\n"
		"options:\n");
	/* (in two pieces: C99 compilers need not take longer strings) */
	fprintf(f,
		"  -i, --inventory FILE  the inventory (default accounts.yaml; see\n"
		"                        accounts.yaml.example)\n"
		"  --config FILE         single-bucket mode: read S3_BUCKET_NAME,\n"
		"                        DATA_TRANSFER_THRESHOLD_GB, SLACK_WEBHOOK_URL and\n"
		"                        AWS_REGION from a config.env instead of an inventory\n"
		"  -o, --output DIR      report folder (default: reporting.output_dir, else\n"
		"                        ./cwsweep-report)\n"
		"  --format LIST         report formats: md, csv, json, html, xlsx (default all)\n"
		"  --pretty              indent report.json for people (default: compact)\n"
		"  -j, --jobs N          worker threads, 1-256 (default: aws.jobs, else 16)\n"
		"  -n, --dry-run         print the plan and the estimated CloudWatch cost\n"
		"                        (coverage and billing calls included); no network,\n"
		"                        except Organizations' account list when the\n"
		"                        inventory has an organization section\n"
		"  --account ID          only this account (repeatable)\n"
		"  --region NAME         only this region of each account, e.g. us-east-1\n"
		"                        (repeatable); buckets pinned elsewhere are skipped\n"
		"  --shard K/N           only the accounts of shard K of N (K = 0..N-1, a stable\n"
		"                        hash of the account id), for Indexed Jobs and array\n"
		"                        jobs; join the shards with `cwsweep merge`.  K may\n"
		"                        be `index`: JOB_COMPLETION_INDEX (Kubernetes Indexed\n"
		"                        Job) or AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array job)\n"
		"  --hand-off s3://BUCKET/PREFIX/\n"
		"                        with --shard: upload this shard's reports to\n"
		"                        PREFIX/shard-K-of-N/ (instead of reporting.publish)\n"
		"                        for `cwsweep merge s3://BUCKET/PREFIX/`; no digest;\n"
		"                        exit 0 once they are there (anomalies and failed\n"
		"                        targets are merge's to count), 3 when the upload or\n"
		"                        the state file failed, 2 for a usage error\n");
	fprintf(f,
		"  --all-periods         judge every period of the lookback, not only the last\n"
		"  --state FILE          alert state across runs (default: reporting.state_file)\n"
		"  --no-state            ignore the alert state: announce every anomaly\n"
		"  --no-slack            do not post the Slack digest\n"
		"  --slack-preview       print the digest's JSON payload to stdout, do not post;\n"
		"                        stdout then holds only that JSON (the summary goes\n"
		"                        to stderr)\n"
		"  --no-publish          do not upload the reports to reporting.publish\n"
		"  --slack-env VAR       the environment variable holding the webhook URL\n"
		"                        (default: reporting.slack.webhook_env, else\n"
		"                        SLACK_WEBHOOK_URL)\n"
		"  --lock FILE           lock file that keeps two runs apart (default:\n"
		"                        reporting.lock_file, else DIR/.cwsweep.lock); a run\n"
		"                        that finds it held exits 75\n"
		"  --stale-lock-after DURATION\n"
		"                        a run that finds the lock held by a run started\n"
		"                        longer ago than this (default 12h; 1m to 30d) says\n"
		"                        so as a failure: an error, the problem notice (once\n"
		"                        a UTC day per holder), a failure heartbeat; still\n"
		"                        exit 75, and nothing else is done\n"
		"  --metrics-file FILE   write the run's Prometheus metrics there, atomically,\n"
		"                        whatever the exit code (for node_exporter's textfile\n"
		"                        collector; default: reporting.metrics_file)\n"
		"  --profile NAME        AWS profile for the ambient credentials\n"
		"  --at TIME             sweep as if it were TIME (UTC, ISO 8601, e.g.\n"
		"                        2026-11-26T03:00:00Z): replays a past night's sweep\n"
		"                        over the data CloudWatch still holds; a time in the\n"
		"                        future is refused\n"
		"  -q, --quiet           errors and warnings only on stderr, no progress, no\n"
		"                        summary on stdout\n"
		"                        (the one-line run summary on stderr stays, for logs)\n"
		"  -v, --verbose         one line per AWS request on stderr\n"
		"  --debug-http          also headers and bodies, with secrets redacted\n"
		"  -h, --help            this help\n"
		"\n"
		"Credentials: environment, AWS_PROFILE/--profile (~/.aws/credentials and\n"
		"config, role_arn + source_profile, IAM Identity Center sso_session /\n"
		"sso_start_url after `aws sso login`, credential_process), web identity,\n"
		"container credentials, EC2 instance metadata (IMDSv2), in that order.\n"
		"Endpoints: AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_CLOUDWATCH, AWS_ENDPOINT_URL_STS,\n"
		"AWS_ENDPOINT_URL_SSO, or aws.endpoint_url in the inventory.\n"
		"Retries: AWS_MAX_ATTEMPTS (over aws.max_attempts), AWS_RETRY_MODE=standard.\n"
		"\n%s", cw_exit_codes_help);
}

enum {
	OPT_CONFIG = 256, OPT_FORMAT, OPT_PRETTY, OPT_ACCOUNT, OPT_SHARD, OPT_ALL_PERIODS, OPT_STATE,
	OPT_NO_STATE, OPT_NO_SLACK, OPT_SLACK_PREVIEW, OPT_LOCK, OPT_PROFILE, OPT_AT,
	OPT_DEBUG_HTTP, OPT_METRICS_FILE, OPT_REGION, OPT_SLACK_ENV, OPT_NO_PUBLISH,
	OPT_HAND_OFF, OPT_STALE_LOCK_AFTER,
};

/* K of `--shard index/N`: what the job scheduler gave this pod or child job
 * (a Kubernetes Indexed Job, an AWS Batch array job). */
static int shard_index_env(char *k, size_t klen, char *why, size_t wlen)
{
	const struct { const char *name, *v; } vars[] = {
		{ "JOB_COMPLETION_INDEX", getenv("JOB_COMPLETION_INDEX") },
		{ "AWS_BATCH_JOB_ARRAY_INDEX", getenv("AWS_BATCH_JOB_ARRAY_INDEX") },
	};
	const char *found = NULL;

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		if (!vars[i].v || !*vars[i].v)
			continue;
		if (found && strcmp(k, vars[i].v) != 0) {
			snprintf(why, wlen, "K index: %s and %s disagree", found, vars[i].name);
			return CW_EINVAL;
		}
		if (strlen(vars[i].v) >= klen) {
			snprintf(why, wlen, "K index: %s is not a shard number", vars[i].name);
			return CW_EINVAL;
		}
		found = vars[i].name;
		cw_strlcpy(k, vars[i].v, klen);
	}
	if (!found) {
		snprintf(why, wlen, "K index: neither JOB_COMPLETION_INDEX (Kubernetes Indexed "
			 "Job) nor AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array job) is set");
		return CW_EINVAL;
	}
	return 0;
}

static int parse_shard(const char *s, struct run_opts *o, char *why, size_t wlen)
{
	long long k, n;
	const char *slash = strchr(s, '/');
	char kbuf[24];

	snprintf(why, wlen, "want K/N with 0 <= K < N, got \"%.40s\"", s);
	if (!slash || (size_t)(slash - s) >= sizeof(kbuf))
		return CW_EINVAL;
	memcpy(kbuf, s, (size_t)(slash - s));
	kbuf[slash - s] = '\0';
	if (strcmp(kbuf, "index") == 0) {
		if (shard_index_env(kbuf, sizeof(kbuf), why, wlen))
			return CW_EINVAL;
		snprintf(why, wlen, "K index: the job's index \"%s\" is not a number from 0 "
			 "to N-1 (N = %.20s)", kbuf, slash + 1);
	}
	if (cw_parse_i64(slash + 1, 1, 100000, &n) || cw_parse_i64(kbuf, 0, n - 1, &k))
		return CW_EINVAL;
	o->shard_k = (unsigned)k;
	o->shard_n = (unsigned)n;
	return 0;
}

/* 0: go on; -1: --help printed; CW_EXIT_USAGE: error printed. */
static int parse_opts(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		{ "inventory", required_argument, NULL, 'i' },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "jobs", required_argument, NULL, 'j' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "account", required_argument, NULL, OPT_ACCOUNT },
		{ "region", required_argument, NULL, OPT_REGION },
		{ "slack-env", required_argument, NULL, OPT_SLACK_ENV },
		{ "no-publish", no_argument, NULL, OPT_NO_PUBLISH },
		{ "hand-off", required_argument, NULL, OPT_HAND_OFF },
		{ "shard", required_argument, NULL, OPT_SHARD },
		{ "all-periods", no_argument, NULL, OPT_ALL_PERIODS },
		{ "pretty", no_argument, NULL, OPT_PRETTY },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "no-state", no_argument, NULL, OPT_NO_STATE },
		{ "no-slack", no_argument, NULL, OPT_NO_SLACK },
		{ "slack-preview", no_argument, NULL, OPT_SLACK_PREVIEW },
		{ "lock", required_argument, NULL, OPT_LOCK },
		{ "stale-lock-after", required_argument, NULL, OPT_STALE_LOCK_AFTER },
		{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "at", required_argument, NULL, OPT_AT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "debug-http", no_argument, NULL, OPT_DEBUG_HTTP },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[CW_ERRBUF];
	long long v;
	int c;

	memset(o, 0, sizeof(*o));
	o->stale_lock_after = 12 * 3600;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:o:j:nqvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': o->inventory = optarg; break;
		case OPT_CONFIG: o->config_env = optarg; break;
		case 'o': o->dir = optarg; break;
		case OPT_FORMAT:
			if (cw_reports_check_formats(optarg, err, sizeof(err)))
				return cw_usage_error("run: --format: %s", err);
			o->formats = optarg;
			break;
		case 'j':
			if (cw_parse_i64(optarg, 1, 256, &v))
				return cw_usage_error("run: --jobs: want a whole number from 1 to 256, got \"%s\"",
						      optarg);
			o->jobs = (unsigned)v;
			break;
		case 'n': o->dry_run = true; break;
		case OPT_PRETTY: o->pretty = true; break;
		case OPT_ACCOUNT:
			if (cw_check_account_id(optarg))
				return cw_usage_error("run: --account: \"%s\": %s", optarg,
						      cw_check_account_id(optarg));
			if (o->naccounts == MAX_ACCOUNT_FILTERS)
				return cw_usage_error("run: --account: at most %d", MAX_ACCOUNT_FILTERS);
			o->accounts[o->naccounts++] = optarg;
			break;
		case OPT_REGION:
			if (cw_check_region(optarg))
				return cw_usage_error("run: --region: \"%s\": %s", optarg,
						      cw_check_region(optarg));
			if (o->nregions == MAX_ACCOUNT_FILTERS)
				return cw_usage_error("run: --region: at most %d", MAX_ACCOUNT_FILTERS);
			o->regions[o->nregions++] = optarg;
			break;
		case OPT_NO_PUBLISH: o->no_publish = true; break;
		case OPT_SLACK_ENV:
			if (!optarg[0] || strspn(optarg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
						 "0123456789_") != strlen(optarg) ||
			    (optarg[0] >= '0' && optarg[0] <= '9'))
				return cw_usage_error("run: --slack-env: \"%s\": not a variable name "
						      "(the NAME of the variable holding the webhook "
						      "URL, e.g. SLACK_WEBHOOK_URL)", optarg);
			o->slack_env = optarg;
			break;
		case OPT_SHARD:
			if (parse_shard(optarg, o, err, sizeof(err)))
				return cw_usage_error("run: --shard: %s", err);
			break;
		case OPT_HAND_OFF:
			if (cw_s3_url_parse(optarg, o->hand_bucket, sizeof(o->hand_bucket),
					    o->hand_prefix, sizeof(o->hand_prefix), err, sizeof(err)))
				return cw_usage_error("run: --hand-off: %s", err);
			break;
		case OPT_ALL_PERIODS: o->all_periods = true; break;
		case OPT_STATE: o->state_file = optarg; break;
		case OPT_NO_STATE: o->no_state = true; break;
		case OPT_NO_SLACK: o->no_slack = true; break;
		case OPT_SLACK_PREVIEW: o->slack_preview = true; break;
		case OPT_LOCK: o->lock_file = optarg; break;
		case OPT_STALE_LOCK_AFTER:
			if (cw_parse_duration(optarg, &o->stale_lock_after, err, sizeof(err)) ||
			    o->stale_lock_after < 60 || o->stale_lock_after > 30 * 86400)
				return cw_usage_error("run: --stale-lock-after: want a duration from "
						      "1m to 30d, e.g. 12h, got \"%s\"", optarg);
			break;
		case OPT_METRICS_FILE: o->metrics_file = optarg; break;
		case OPT_PROFILE: o->profile = optarg; break;
		case OPT_AT:
			if (cw_time_parse(optarg, &o->at))
				return cw_usage_error("run: --at: not a time: \"%s\" (want e.g. 2026-11-26T03:00:00Z)",
						      optarg);
			/* a minute of clock skew is tolerated */
			if (o->at > cw_time_now() + 60)
				return cw_usage_error("run: --at: %s is in the future; --at replays a "
						      "past sweep", optarg);
			break;
		case 'q': o->quiet = true; break;
		case 'v': o->verbosity = o->verbosity < 1 ? 1 : o->verbosity; break;
		case OPT_DEBUG_HTTP: o->verbosity = 2; break;
		case 'h': usage(stdout); return -1;
		case ':':
			return cw_usage_error("run: %s needs a value", argv[optind - 1]);
		default:
			return cw_usage_error("run: unknown option \"%s\" (see `cwsweep run --help`)",
					      argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cw_usage_error("run: unexpected argument \"%s\" (see `cwsweep run --help`)",
				      argv[optind]);
	{
		/* an empty path is a mistake (an unset variable in a crontab) */
		const struct { const char *opt, *v; } paths[] = {
			{ "--inventory", o->inventory }, { "--config", o->config_env },
			{ "--output", o->dir }, { "--state", o->state_file },
			{ "--lock", o->lock_file }, { "--profile", o->profile },
			{ "--metrics-file", o->metrics_file },
		};

		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
			if (paths[i].v && !*paths[i].v)
				return cw_usage_error("run: %s: empty value", paths[i].opt);
	}
	if (o->inventory && o->config_env)
		return cw_usage_error("run: --inventory and --config exclude each other");
	if (o->state_file && o->no_state)
		return cw_usage_error("run: --state and --no-state exclude each other");
	if (o->no_slack && o->slack_preview)
		return cw_usage_error("run: --no-slack and --slack-preview exclude each other");
	if (o->quiet && o->verbosity)
		return cw_usage_error("run: --quiet and --verbose exclude each other");
	if (o->hand_bucket[0]) {
		if (!o->shard_n)
			return cw_usage_error("run: --hand-off needs --shard K/N (it hands one "
					      "shard's reports to `cwsweep merge`)");
		if (o->no_publish || o->slack_preview || o->dry_run)
			return cw_usage_error("run: --hand-off excludes --no-publish, "
					      "--slack-preview and --dry-run");
		o->no_slack = true; /* merge posts the one digest */
	}
	return 0;
}

/*
 * Shard of an account: FNV-1a of its id, then a 32-bit finaliser (murmur3's
 * fmix32) so that every bit depends on every byte; FNV-1a alone keeps its
 * low bits as a parity of the input, and `% 2` would split ids by digit
 * parity.  Stable across runs, machines and versions: shards must agree.
 */
static uint32_t shard_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static bool include_account(void *ctx, const struct cw_account_def *a)
{
	const struct run_opts *o = ctx;

	if (o->naccounts) {
		bool hit = false;

		for (size_t i = 0; i < o->naccounts && !hit; i++)
			hit = strcmp(o->accounts[i], a->id) == 0;
		if (!hit)
			return false;
	}
	return o->shard_n == 0 || shard_hash(a->id) % o->shard_n == o->shard_k;
}

static bool include_region(void *ctx, const char *region)
{
	const struct run_opts *o = ctx;

	for (size_t i = 0; i < o->nregions; i++)
		if (strcmp(o->regions[i], region) == 0)
			return true;
	return o->nregions == 0;
}

/* Drop the last component of p in place ("a/b/" -> "a"); false when none is left. */
static bool path_up(char *p)
{
	size_t n = strlen(p);

	while (n > 1 && p[n - 1] == '/')
		n--;
	while (n > 0 && p[n - 1] != '/')
		n--;
	while (n > 1 && p[n - 1] == '/')
		n--;
	p[n] = '\0';
	return n > 0 && strcmp(p, "/") != 0;
}

/* The outermost folder of dir that does not exist yet, or NULL when dir exists (owned). */
static char *missing_top(const char *dir)
{
	struct stat st;
	char *p, *top;

	if (stat(dir, &st) == 0)
		return NULL;
	p = cw_strdup(dir);
	top = cw_strdup(dir);
	if (!p || !top) {
		free(p);
		free(top);
		return NULL;
	}
	while (path_up(p) && stat(p, &st) != 0) {
		free(top);
		top = cw_strdup(p);
		if (!top)
			break;
	}
	free(p);
	return top;
}

/*
 * Remove the folders from dir up to top that this run made (see
 * missing_top), so that a configuration error leaves nothing behind.
 * rmdir only removes empty folders.
 */
static void unmake_dirs(const char *dir, const char *top)
{
	char *p;

	if (!top || !(p = cw_strdup(dir)))
		return;
	while (rmdir(p) == 0 && strcmp(p, top) != 0 && path_up(p))
		;
	free(p);
}

/* Remove stale temporary files of killed runs from dir (of name, or all
 * when NULL); a warning at worst. */
static void remove_stale_temps(const char *dir, const char *name)
{
	char err[CW_ERRBUF];
	size_t n = 0;

	if (cw_remove_stale_temps(dir, name, &n, err, sizeof(err)))
		cw_log_warn("run: %s", err);
	else if (n)
		cw_log_info("removed %zu temporary file%s that an interrupted run left in %s",
			    n, n == 1 ? "" : "s", dir);
}

/* The same for the folder of a file. */
static void remove_stale_temps_of(const char *file)
{
	char *copy = cw_strdup(file);
	char *slash = copy ? strrchr(copy, '/') : NULL;

	if (!copy)
		return;
	if (!slash) {
		remove_stale_temps(".", copy);
	} else {
		char *base = cw_strdup(slash + 1);

		slash[slash == copy] = '\0'; /* "/x" -> "/" */
		if (base && *base)
			remove_stale_temps(copy, base);
		free(base);
	}
	free(copy);
}

/*
 * The run holding the lock at path started longer than `after` ago: say so
 * in why (the error and the notice's reason) and return true.  *started:
 * the holder's start (0: unknown, when it left no record).
 */
static bool stale_lock(const char *path, int64_t after, int64_t *started, char *why,
		       size_t whylen)
{
	char when[CW_TIME_ISO_LEN];
	long long pid;
	int64_t held;

	if (cw_lock_holder(path, &pid, started) != 0)
		return false;
	held = cw_time_now() - *started;
	if (held <= after)
		return false;
	snprintf(why, whylen, "another cwsweep run (pid %lld, started %s) has held the lock "
		 "%.300s for %.1f h, longer than --stale-lock-after (%.1f h): it may hang, and "
		 "no sweep runs until it ends", pid, cw_time_iso(*started, when, sizeof(when)),
		 path, (double)held / 3600.0, (double)after / 3600.0);
	return true;
}

/*
 * The stale-lock notice goes out once a UTC day per holder: PATH.stale
 * records the last one told ("PID START DAY").  Not the alert state: the
 * holder may still write that.  True when this one is new (and recorded).
 */
static bool stale_notice_due(const char *lock_path, int64_t started)
{
	char *mark = cw_asprintf("%s.stale", lock_path), *old = NULL, err[CW_ERRBUF];
	char rec[96];
	long long pid;
	int64_t start;
	size_t len = 0;
	bool due = true;

	if (!mark || cw_lock_holder(lock_path, &pid, &start) != 0 || start != started) {
		free(mark);
		return true;
	}
	snprintf(rec, sizeof(rec), "%lld %lld %lld\n", pid, (long long)started,
		 (long long)(cw_time_now() / 86400));
	if (cw_read_file(mark, sizeof(rec), &old, &len, err, sizeof(err)) == 0)
		due = strcmp(old, rec) != 0;
	if (due && cw_write_file_atomic(mark, rec, strlen(rec), 0600, err, sizeof(err)))
		cw_log_warn("run: %s (the notice may be posted again today)", err);
	free(old);
	free(mark);
	return due;
}

/* "run ID: 3 accounts, ..." into out: the line a cron log keeps. */
static void summary_text(const struct cw_run *run, int64_t t0_ms, char *out, size_t outlen)
{
	struct cw_run_counts c;
	struct cw_coverage t;
	char cov[160] = "";

	cw_run_count(run, &c);
	if (cw_run_coverage_total(run, &t)) {
		cov[0] = ',';
		cov[1] = ' ';
		cw_coverage_line(&t, cov + 2, sizeof(cov) - 2);
	}
	snprintf(out, outlen, "run %s: %zu account%s, %zu series, %zu anomal%s, "
		 "%zu failure%s, %zu not measured, %zu not watched%s, %zu API call%s, %.1f s",
		 run->run_id, run->accounts, run->accounts == 1 ? "" : "s", c.series,
		 c.anomalies, c.anomalies == 1 ? "y" : "ies", c.failures,
		 c.failures == 1 ? "" : "s", c.not_found, c.not_watched, cov, run->api_calls,
		 run->api_calls == 1 ? "" : "s", (double)(cw_time_mono_ms() - t0_ms) / 1000.0);
}

static void summary_line(const struct cw_run *run, int64_t t0_ms)
{
	char line[512];

	summary_text(run, t0_ms, line, sizeof(line));
	/* on stderr in every case, -q included */
	fprintf(stderr, "cwsweep: %s\n", line);
}

int cw_cmd_run(int argc, char **argv)
{
	struct run_opts o;
	struct cw_inventory inv;
	struct cw_diags diags = { NULL, 0, 0 };
	struct cw_sweep_opts so;
	struct cw_run run;
	struct cw_buf summary = CW_BUF_INIT, publink = CW_BUF_INIT;
	struct sigaction sa;
	struct cw_config_env cfg;
	struct cw_lock lock = { -1, NULL };
	struct cw_state state;
	struct cw_cli_org org;
	bool *announce = NULL, *announce_failures = NULL;
	char err[CW_ERRBUF] = "", lock_default[4096];
	const char *dir, *formats, *lock_path, *state_path;
	char *made = NULL; /* the outermost output folder this run created */
	int64_t t0 = cw_time_mono_ms();
	double wall0 = cw_outcome_wall_now();
	bool swept = false, inv_loaded = false, state_loaded = false, digest_told = false;
	bool stale = false, stale_due = false;
	int64_t holder_started = 0;
	char partly[CW_ERRBUF + 128] = ""; /* why exit 3, when not the failure rows */
	int rc, code = CW_EXIT_USAGE;

	rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc < 0 ? CW_EXIT_OK : rc;
	if (o.quiet)
		cw_log_set_level(CW_LOG_QUIET);
	else if (o.verbosity)
		cw_log_set_level(o.verbosity > 1 ? CW_LOG_DEBUG : CW_LOG_VERBOSE);

	/* From here on every exit goes through `out`, which frees what is set. */
	memset(&inv, 0, sizeof(inv));
	memset(&cfg, 0, sizeof(cfg));
	memset(&org, 0, sizeof(org));
	cw_state_init(&state);
	if (cw_run_init(&run, "run")) {
		cw_log_error("run: out of memory");
		return CW_EXIT_PARTIAL;
	}
	if (o.hand_bucket[0] && !o.at)
		cw_log_warn("run: --hand-off without --at: this shard judges the period before "
			    "its own start, and merge refuses shards that judged different "
			    "periods; give every shard of the run the same --at (as "
			    "scripts/k8s and scripts/batch do)");
	run.lean = true; /* values of the series without a finding go once judged */
	run.pretty = o.pretty;
	if (o.config_env) {
		/* the single-bucket mode of a config.env: one bucket, ambient credentials */
		if (o.naccounts || o.shard_n || o.nregions) {
			code = cw_usage_error("run: --account, --region and --shard need an inventory, "
					      "not --config");
			goto out;
		}
		if (cw_config_env_load(o.config_env, &cfg, err, sizeof(err)) ||
		    cw_config_env_to_inventory(&cfg, &inv, err, sizeof(err))) {
			cw_log_error("%s", err);
			goto out;
		}
		/* AWS_* keys of the file apply where the environment has none */
		cw_config_env_export(&cfg);
	} else {
		rc = cw_inventory_load(o.inventory ? o.inventory : "accounts.yaml", &inv, &diags);
		cw_diags_print(&diags, stderr);
		if (rc && diags.n) {
			char first[1024];

			snprintf(first, sizeof(first), "%s:%d:%d: %s%s", diags.v[0].file,
				 diags.v[0].line, diags.v[0].col, diags.v[0].msg,
				 diags.n > 1 ? " (and more problems)" : "");
			cw_log_remember_error(first);
		}
		cw_diags_release(&diags);
		if (rc)
			goto out;
		/* accounts from Organizations (this call is made by --dry-run too) */
		rc = cw_cli_resolve_org(&inv, o.profile, &org);
		if (rc == CW_EXIT_USAGE)
			goto out;
		if (rc && o.dry_run) {
			code = CW_EXIT_PARTIAL;
			goto out;
		}
		if (inv.naccounts == 0 && !org.failed)
			cw_log_warn("run: no account to sweep");
	}
	inv_loaded = true;
	/* --account names an account of the inventory, or it is a typo */
	for (size_t i = 0; i < o.naccounts; i++) {
		bool known = false;

		for (size_t a = 0; a < inv.naccounts && !known; a++)
			known = strcmp(inv.accounts[a].id, o.accounts[i]) == 0;
		if (!known) {
			code = cw_usage_error("run: --account %s: no such account in %s",
					      o.accounts[i], inv.path ? inv.path : "the inventory");
			goto out;
		}
	}
	dir = o.dir ? o.dir : inv.reporting.output_dir ? inv.reporting.output_dir
						       : "./cwsweep-report";
	formats = o.formats ? o.formats : inv.reporting.formats;

	memset(&so, 0, sizeof(so));
	so.inv = &inv;
	so.jobs = o.jobs;
	so.now = o.at;
	so.profile = o.profile;
	so.include = include_account;
	so.include_ctx = &o;
	if (o.nregions) {
		so.include_region = include_region;
		so.region_ctx = &o;
	}
	so.stop = &stop_requested;
	so.all_periods = o.all_periods;

	if (o.dry_run) {
		cw_cli_print_org(stdout, &inv, &org);
		rc = cw_sweep_dry_run(stdout, &so, err, sizeof(err));
		if (rc)
			cw_log_error("run: %s", err);
		code = rc ? CW_EXIT_USAGE : CW_EXIT_OK;
		goto out;
	}

	/* The folder must be writable before anything is fetched. */
	made = missing_top(dir);
	if (cw_mkdirs(dir, err, sizeof(err)) || access(dir, W_OK) != 0) {
		code = cw_usage_error("run: -o %s: %s", dir,
				      err[0] ? err : "folder is not writable");
		unmake_dirs(dir, made);
		goto out;
	}
	/* One run at a time per lock file: overlapping cron runs exit 75. */
	snprintf(lock_default, sizeof(lock_default), "%s/.cwsweep.lock", dir);
	lock_path = o.lock_file ? o.lock_file
		  : inv.reporting.lock_file ? inv.reporting.lock_file : lock_default;
	rc = cw_lock_acquire(lock_path, 0, &lock, err, sizeof(err));
	if (rc) {
		cw_log_error("run: %s", err);
		code = rc == CW_LOCK_HELD ? CW_EXIT_LOCKED : CW_EXIT_USAGE;
		/* skipped: quiet while the holder is young, a failure once it hangs */
		if (rc == CW_LOCK_HELD &&
		    (stale = stale_lock(lock_path, o.stale_lock_after, &holder_started, partly,
					sizeof(partly)))) {
			cw_log_error("run: %s", partly);
			stale_due = stale_notice_due(lock_path, holder_started);
		}
		unmake_dirs(dir, made); /* "nothing written" */
		goto out;
	}
	/* Under the lock: a hung holder's stale-lock record is past, and what
	 * killed runs left half-written goes. */
	{
		char *mark = cw_asprintf("%s.stale", lock_path);

		if (mark)
			unlink(mark);
		free(mark);
	}
	state_path = o.no_state ? NULL : o.state_file ? o.state_file : inv.reporting.state_file;
	remove_stale_temps(dir, "report.");
	if (state_path)
		remove_stale_temps_of(state_path);

	/* One "now" for the plan and the report, so the judged period that
	 * report.json implies (started, floored to the period) is the one the
	 * sweep judged, even for a run that starts a moment before midnight. */
	run.started = o.at ? o.at : cw_time_now();
	so.now = run.started;
	run.at = o.at;
	run.shard_k = o.shard_k;
	run.shard_n = o.shard_n;
	code = CW_EXIT_PARTIAL;
	if (cw_str_set(&run.inventory, inv.path) ||
	    cw_cli_run_meta(&run, inv.detectors.v, inv.detectors.n)) {
		cw_log_error("run: out of memory");
		goto out;
	}
	so.run_id = run.run_id;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (org.failed) { /* Organizations could not be read: a failure row, exit 3 */
		struct cw_target_id id = { org.management_account, "organization", "us-east-1",
					   "", "", "", "", "" };

		if (cw_run_add_failure(&run, &id, "organizations", org.stats.code, org.err)) {
			cw_log_error("run: out of memory");
			goto out;
		}
	}
	rc = cw_sweep_run(&run, &so, err, sizeof(err));
	if (rc) {
		cw_log_error("run: %s", err);
		/* exit 2: nothing written, not even the folder and its lock file */
		if (made && !o.lock_file && !inv.reporting.lock_file)
			unlink(lock_path);
		cw_lock_release(&lock);
		unmake_dirs(dir, made);
		code = CW_EXIT_USAGE;
		goto out;
	}
	swept = true;
	run.finished = cw_time_now();
	if (cw_cost_apply(&run, &inv, err, sizeof(err)))
		cw_log_warn("run: cost estimate: %s", err);
	cw_run_added(&run);
	cw_run_sort_results(&run);

	/* Alert state: mark new / ongoing / grew / resolved, pick what to announce. */
	announce = calloc(run.nresults ? run.nresults : 1, sizeof(*announce));
	if (!announce) {
		cw_log_error("run: out of memory");
		goto out;
	}
	if (state_path) {
		state_loaded = true;
		/* failures too: an AccessDenied that lasts is posted once per cooldown */
		announce_failures = calloc(run.nfailures ? run.nfailures : 1,
					   sizeof(*announce_failures));
		if (!announce_failures ||
		    cw_state_load(&state, state_path, err, sizeof(err)) ||
		    cw_state_apply(&state, &run, run.started, inv.reporting.cooldown,
				   inv.reporting.growth_factor, announce) ||
		    cw_state_apply_failures(&state, &run, run.started, inv.reporting.cooldown,
					    announce_failures)) {
			cw_log_error("run: alert state: out of memory");
			goto out;
		}
	} else {
		cw_state_announce_all(&run, announce);
	}

	if (cw_reports_write(&run, dir, formats, err, sizeof(err))) {
		cw_log_error("run: %s", err);
		snprintf(partly, sizeof(partly), "the reports could not be written: %s", err);
		goto out;
	}
	/* After the reports: the state remembers only what a report shows. */
	code = stop_requested ? CW_EXIT_PARTIAL : cw_run_exit_code(&run);
	/* a state that cannot be saved breaks de-duplication: not a success */
	if (state_path && cw_state_save(&state, state_path, run.started, err, sizeof(err))) {
		cw_log_error("run: %s (the next run will announce again what this one did)",
			     err);
		snprintf(partly, sizeof(partly), "the alert state could not be saved: %s", err);
		code = CW_EXIT_PARTIAL;
	}
	if (stop_requested && !partly[0])
		cw_strlcpy(partly, "interrupted by a signal before every target was fetched",
			   sizeof(partly));
	/* Published where Slack can link them (reporting.publish), or handed
	 * off to merge under PREFIX/shard-K-of-N/ (--hand-off). */
	if ((o.hand_bucket[0] || inv.reporting.publish_bucket) && !o.no_publish) {
		char shard_dir[64];
		struct cw_publish_opts po = {
			.bucket = o.hand_bucket[0] ? o.hand_bucket : inv.reporting.publish_bucket,
			.prefix = o.hand_bucket[0] ? o.hand_prefix : inv.reporting.publish_prefix
				? inv.reporting.publish_prefix : "",
			.region = inv.reporting.publish_region,
			.expiry = inv.reporting.publish_expiry,
			.endpoint_url = inv.aws.endpoint_url,
			.profile = o.profile,
			.sts_region = inv.aws.sts_region,
			.max_attempts = inv.aws.max_attempts,
		};
		const char *folder = run.run_id;

		if (o.hand_bucket[0]) {
			snprintf(shard_dir, sizeof(shard_dir), "shard-%u-of-%u", o.shard_k,
				 o.shard_n);
			folder = shard_dir;
		}
		if (cw_cli_publish("run", &po, dir, folder, o.hand_bucket[0] ? "handed off to"
				   : "published to", &publink, partly[0] ? NULL : partly,
				   sizeof(partly)))
			code = CW_EXIT_PARTIAL;
	}
	/* A handed-off shard succeeded once its report is there: its anomalies
	 * and failure rows are merge's to count (a job engine must not retry a
	 * shard, or fail the set, because it found something). */
	if (o.hand_bucket[0] && code != CW_EXIT_USAGE && !partly[0])
		code = CW_EXIT_OK;
	if (!o.quiet) {
		/* with --slack-preview stdout is the payload's alone */
		if (cw_report_summary(&run, dir, &summary) == 0)
			fputs(cw_buf_str(&summary), o.slack_preview ? stderr : stdout);
		fflush(stdout);
	}
	/* Last: the digest.  A failed post is exit 3, but the reports exist. */
	if (!o.no_slack &&
	    (o.slack_preview || inv.reporting.slack_enabled || cfg.slack_webhook)) {
		struct cw_digest_opts d = {
			.webhook = cfg.slack_webhook,
			.webhook_env = o.slack_env ? o.slack_env : inv.reporting.slack_webhook_env,
			.max_findings = inv.reporting.slack_max_findings,
			.preview = o.slack_preview,
			.report_url = inv.reporting.report_url,
			.report_link = publink.len ? cw_buf_str(&publink) : NULL,
			.announce_failures = announce_failures,
		};

		digest_told = cw_cli_digest_told(&run, announce, dir, &d, partly, &code);
	}
out:
	if (swept)
		summary_line(&run, t0);
	if (!o.dry_run) {
		struct cw_outcome oc;
		char reason[CW_ERRBUF + 128] = "", line[512] = "";

		if (code == CW_EXIT_USAGE)
			cw_log_first_error(reason, sizeof(reason));
		else if (code == CW_EXIT_LOCKED)
			cw_strlcpy(reason, partly, sizeof(reason));
		else if (partly[0])
			cw_strlcpy(reason, partly, sizeof(reason));
		else if (run.nfailures)
			cw_outcome_failures_reason(&run, reason, sizeof(reason));
		if (swept)
			summary_text(&run, t0, line, sizeof(line));
		memset(&oc, 0, sizeof(oc));
		oc.exit_code = code;
		oc.run = swept ? &run : NULL;
		oc.summary = swept ? line : NULL;
		oc.reason = reason;
		oc.run_id = run.run_id;
		oc.now = o.at ? o.at : cw_time_now();
		oc.wall_start = wall0;
		/* failure rows are in the digest already; a failed post is the channel;
		 * someone at a terminal reads the error there (a preview still shows) */
		oc.notice = (code == CW_EXIT_USAGE || code == CW_EXIT_PARTIAL || stale_due) &&
			    !digest_told &&
			    !o.no_slack && (o.slack_preview || !isatty(STDERR_FILENO)) &&
			    (!inv_loaded || inv.reporting.slack_enabled || cfg.slack_webhook);
		oc.preview = o.slack_preview;
		oc.webhook = cfg.slack_webhook;
		oc.webhook_env = o.slack_env ? o.slack_env
			       : inv_loaded ? inv.reporting.slack_webhook_env : NULL;
		/* (a skipped run leaves the holder's state alone) */
		oc.state_path = o.no_state || code == CW_EXIT_LOCKED ? NULL
			      : o.state_file ? o.state_file
			      : inv_loaded ? inv.reporting.state_file : NULL;
		oc.state = state_loaded ? &state : NULL;
		oc.metrics_path = o.metrics_file ? o.metrics_file
				: inv_loaded ? inv.reporting.metrics_file : NULL;
		oc.heartbeat_env = inv_loaded ? inv.reporting.heartbeat_url_env : NULL;
		oc.lock_holder_started = holder_started;
		oc.stale_lock = stale;
		cw_outcome_notice(&oc);
		cw_outcome_publish(&oc);
	}
	free(made);
	free(announce);
	free(announce_failures);
	cw_state_release(&state);
	cw_lock_release(&lock);
	cw_buf_release(&summary);
	cw_buf_release(&publink);
	cw_run_release(&run);
	cw_config_env_release(&cfg);
	cw_inventory_release(&inv);
	return code;
}
