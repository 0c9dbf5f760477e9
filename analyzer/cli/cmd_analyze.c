/*
 * cmd_analyze.c - `cwsweep analyze FILE...`: judge series read from files
 * (CSV timestamp,value or the JSON of `aws cloudwatch get-metric-data`)
 * with the same detectors and reports as a sweep.
 *
 * Every option is checked before any file is read, so a usage error
 * writes nothing (exit 2).  A file that cannot be read or parsed is a row
 * in the failures section, not the end of the run (exit 3, reports still
 * written, even when every file failed).
 *
 * --inventory FILE applies that inventory's `exclusions:` as a sweep does:
 * a file's series has no account, so an exclusion that names one does not
 * apply, and a bucket glob is matched against the series' name.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomicio.h"
#include "buf.h"
#include "cli.h"
#include "commands.h"
#include "detector.h"
#include "err.h"
#include "inventory.h"
#include "log.h"
#include "report.h"
#include "run.h"
#include "seriesio.h"
#include "strutil.h"
#include "timeutil.h"
#include "units.h"
#include "validate.h"

#define DEFAULT_DETECTORS "robust,newhigh"
#define DEFAULT_DIR "./cwsweep-report"
#define DEFAULT_FORMATS "md,csv,json,html,xlsx"

struct analyze_opts {
	const char *dir;
	const char *detectors;
	const char *formats;
	int64_t period;  /* 0 = from the data */
	const char *unit; /* --unit: every series' unit; NULL = what the file says */
	const char *inventory; /* --inventory: whose exclusions apply; NULL = none */
	double usd_per_gb; /* 0 = series not priced (no dollar gate) */
	bool all_periods;
	bool pretty; /* --pretty */
	bool quiet;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cwsweep analyze FILE... [-o DIR] [--detectors LIST] [--format LIST]\n"
		"                       [--all-periods] [--period DURATION] [--usd-per-gb RATE]\n"
		"                       [--unit UNIT] [-i accounts.yaml] [--pretty] [-q]\n"
		"\n"
		"Judge series read from files with the detectors, and write the reports.\n"
		"A FILE is CSV (timestamp,value lines; an optional header), the JSON that\n"
		"`aws cloudwatch get-metric-data` prints (one series per result, named by\n"
		"its Label, and by Label and Id when labels repeat), or the JSON that\n"
		"`aws cloudwatch get-metric-statistics` prints (one series per statistic\n"
		"it holds).  FILE - reads standard input.\n"
		"\n"
		"options:\n"
		"  -o, --output DIR      where the reports go (default " DEFAULT_DIR ")\n"
		"  --detectors LIST      detectors and parameters, e.g.\n"
		"                        \"threshold:limit=100GB,mean7d:factor=3\"\n"
		"                        (default " DEFAULT_DETECTORS ")\n"
		"  --format LIST         report formats: md, csv, json, html, xlsx (default all)\n"
		"  --pretty              indent report.json for people (default: compact)\n"
		"  --all-periods         judge every complete period, not only the last\n"
		"  --period DURATION     period of the series (5m, 1h, 1d); default: the most\n"
		"                        common gap between timestamps\n"
		"  --usd-per-gb RATE     price the series' values as bytes at RATE USD per GB\n"
		"                        (10^9 bytes), for the detectors' min_excess_usd gate;\n"
		"                        default: not priced, no gate\n"
		"  --unit UNIT           the unit of every series, for the reports' numbers:\n"
		"                        a CloudWatch unit (Bytes, Count, Percent, Seconds,\n"
		"                        ...) or USD; default: what the file says, if anything\n"
		"  -i, --inventory FILE  apply this inventory's exclusions: (time ranges not\n"
		"                        judged as anomalies and kept out of the baselines);\n"
		"                        a bucket glob matches the series' name, and an\n"
		"                        exclusion for one account does not apply to files\n"
		"  -q, --quiet           print nothing on stdout; errors and warnings only on stderr\n"
		"  -h, --help            this text\n"
		"\n"
		"The summary goes to stdout; the reports are DIR/report.md, report.html,\n"
		"report.csv, report.json and report.xlsx, each written whole or not at all.\n"
		"\n");
	cw_detector_print_help(f);
	fprintf(f, "\n%s", cw_exit_codes_help);
}

/* The units CloudWatch knows (MetricDatum Unit), and USD. */
static bool known_unit(const char *u)
{
	static const char *const units[] = {
		"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
		"Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits",
		"Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second",
		"Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
		"Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
		"Count/Second", "None", "USD", NULL,
	};

	for (size_t i = 0; units[i]; i++)
		if (strcmp(units[i], u) == 0)
			return true;
	return false;
}

/* Parse the options; 0, or the exit code of a usage error (message printed). */
static int parse_opts(int argc, char **argv, struct analyze_opts *o, int *first_file)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "detectors", required_argument, NULL, 'D' },
		{ "format", required_argument, NULL, 'F' },
		{ "all-periods", no_argument, NULL, 'A' },
		{ "pretty", no_argument, NULL, 'J' },
		{ "period", required_argument, NULL, 'P' },
		{ "usd-per-gb", required_argument, NULL, 'U' },
		{ "unit", required_argument, NULL, 'T' },
		{ "inventory", required_argument, NULL, 'i' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[CW_ERRBUF];
	int c;

	memset(o, 0, sizeof(*o));
	o->dir = DEFAULT_DIR;
	o->detectors = DEFAULT_DETECTORS;
	o->formats = DEFAULT_FORMATS;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:i:qh", longopts, NULL)) != -1) {
		/* "-o --format md": the value is missing, not "--format".  A value
		 * joined to its option ("--output=-x") is taken as it is. */
		if (optarg && optarg == argv[optind - 1] && optind >= 2 &&
		    optarg[0] == '-' && optarg[1])
			return cw_usage_error("analyze: %s: missing value (got option '%s')",
					      argv[optind - 2], optarg);
		switch (c) {
		case 'o':
			if (!optarg[0])
				return cw_usage_error("analyze: -o: empty folder name");
			o->dir = optarg;
			break;
		case 'D':
			o->detectors = optarg;
			break;
		case 'F':
			if (cw_reports_check_formats(optarg, err, sizeof(err)))
				return cw_usage_error("analyze: --format: %s", err);
			o->formats = optarg;
			break;
		case 'A':
			o->all_periods = true;
			break;
		case 'J':
			o->pretty = true;
			break;
		case 'P':
			if (cw_parse_duration(optarg, &o->period, err, sizeof(err)))
				return cw_usage_error("analyze: --period: %s", err);
			if (cw_check_period(o->period))
				return cw_usage_error("analyze: --period: %s, got '%s'",
						      cw_check_period(o->period), optarg);
			break;
		case 'U':
			if (cw_parse_number(optarg, &o->usd_per_gb, err, sizeof(err)))
				return cw_usage_error("analyze: --usd-per-gb: %s", err);
			if (!(o->usd_per_gb >= 0 && o->usd_per_gb <= 1000))
				return cw_usage_error("analyze: --usd-per-gb: must be between 0 "
						      "and 1000, got '%s'", optarg);
			break;
		case 'T':
			if (!known_unit(optarg))
				return cw_usage_error("analyze: --unit: unknown unit '%s' (want a "
						      "CloudWatch unit such as Bytes, Count, Percent, "
						      "Seconds, Bytes/Second, or USD)", optarg);
			o->unit = optarg;
			break;
		case 'i':
			o->inventory = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		case ':':
			return cw_usage_error("analyze: %s: missing value", argv[optind - 1]);
		default:
			if (optopt && optopt != '?')
				return cw_usage_error("analyze: -%c: unknown option (see "
						      "`cwsweep analyze --help`)", optopt);
			return cw_usage_error("analyze: %s: unknown option (see "
					      "`cwsweep analyze --help`)", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cw_usage_error("analyze: no input file (see `cwsweep analyze --help`)");
	for (int i = optind, stdin_seen = 0; i < argc; i++)
		if (strcmp(argv[i], "-") == 0 && stdin_seen++)
			return cw_usage_error("analyze: - (standard input) can be given once");
	*first_file = optind;
	return 0;
}

/* Run metadata: id, start time, the detectors as configured. */
static int set_meta(struct cw_run *run, const struct cw_detector_conf *dets, size_t ndets,
		    bool all_periods)
{
	run->started = cw_time_now();
	run->all_periods = all_periods;
	return cw_cli_run_meta(run, dets, ndets);
}

/* A short code for the failures table. */
static const char *err_code(int rc)
{
	switch (rc) {
	case CW_ENOTFOUND:
		return "NotFound";
	case CW_EIO:
		return "IOError";
	case CW_EPARSE:
		return "ParseError";
	case CW_EINVAL:
		return "InvalidInput";
	case CW_ETOOBIG:
		return "TooBig";
	case CW_ENOMEM:
		return "OutOfMemory";
	default:
		return "Error";
	}
}

/* True when a get-metric-data StatusCode means there is nothing to judge. */
static bool status_failed(const char *status)
{
	return status && (strcmp(status, "Forbidden") == 0 ||
			  strcmp(status, "InternalError") == 0);
}

/*
 * Read one file into the run and judge its series.  A bad file becomes a
 * failure row; only running out of memory is returned as an error.
 */
static int analyze_file(struct cw_run *run, const char *path, const struct analyze_opts *o,
			const struct cw_inventory *inv,
			const struct cw_detector_conf *dets, size_t ndets)
{
	struct cw_named_series *ns = NULL;
	struct cw_target_id id = { "", "", "", "", (char *)(strcmp(path, "-") ? path : "stdin"),
				   "", "", "" };
	char err[CW_ERRBUF] = "";
	size_t n = 0, i;
	int rc;

	rc = cw_seriesio_read(path, o->period, &ns, &n, err, sizeof(err));
	if (rc) {
		if (rc == CW_ENOMEM)
			return rc;
		cw_log_warn("%s", err);
		return cw_run_add_failure(run, &id,
					  rc == CW_EPARSE || rc == CW_EINVAL ? "parse" : "read",
					  err_code(rc), err);
	}
	for (i = 0; i < n && !rc; i++) {
		size_t idx;

		id.metric = ns[i].name;
		id.unit = o->unit ? (char *)o->unit : ns[i].unit;
		if (status_failed(ns[i].status)) {
			snprintf(err, sizeof(err), "%s: series '%s' has StatusCode %s", path,
				 ns[i].name, ns[i].status);
			cw_log_warn("%s", err);
			rc = cw_run_add_failure(run, &id, "get-metric-data", ns[i].status, err);
			continue;
		}
		ns[i].s.usd_per_unit = o->usd_per_gb / 1e9;
		rc = cw_run_add_series(run, &id, &ns[i].s, &idx);
		for (size_t k = 0; !rc && inv && k < inv->nexclusions; k++) {
			const struct cw_exclusion *x = &inv->exclusions[k];
			if (cw_exclusion_matches(x, NULL, ns[i].name))
				rc = cw_run_exclude(run, idx, x->from, x->to, x->reason);
		}
		if (rc)
			break;
		err[0] = '\0';
		rc = cw_run_judge(run, idx, dets, ndets, o->all_periods, err, sizeof(err));
		if (rc && rc != CW_ENOMEM) {
			cw_log_warn("%s: %s", path, err);
			rc = cw_run_add_failure(run, &id, "judge", err_code(rc), err);
		}
	}
	cw_named_series_free(ns, n);
	return rc;
}

/* The run's period: the one every series has, or 0 when they differ. */
static int64_t common_period(const struct cw_run *run)
{
	int64_t p = 0;
	size_t i;

	for (i = 0; i < run->nseries; i++) {
		int64_t sp = run->series[i].series.period;

		if (sp <= 0)
			continue;
		if (p && sp != p)
			return 0;
		p = sp;
	}
	return p;
}

int cw_cmd_analyze(int argc, char **argv)
{
	struct analyze_opts o;
	struct cw_detector_conf *dets = NULL;
	struct cw_run run;
	struct cw_buf summary = CW_BUF_INIT;
	struct cw_inventory inv;
	char err[CW_ERRBUF] = "";
	size_t ndets = 0, i;
	int first = 0, rc, code;

	rc = parse_opts(argc, argv, &o, &first);
	if (rc)
		return rc < 0 ? CW_EXIT_OK : rc;
	if (cw_detector_parse_list(o.detectors, &dets, &ndets, err, sizeof(err)))
		return cw_usage_error("analyze: --detectors: %s",
				      cw_str_startswith(err, "detectors: ") ? err + 11 : err);
	if (o.quiet)
		cw_log_set_level(CW_LOG_QUIET);
	memset(&inv, 0, sizeof(inv));
	if (o.inventory) {
		struct cw_diags diags = { NULL, 0, 0 };
		if (cw_inventory_load(o.inventory, &inv, &diags)) {
			cw_diags_print(&diags, stderr);
			cw_diags_release(&diags);
			code = cw_usage_error("analyze: -i %s: cannot read the inventory",
					      o.inventory);
			goto free_dets;
		}
		cw_diags_release(&diags);
	}

	code = CW_EXIT_PARTIAL;
	if (cw_run_init(&run, "analyze")) {
		cw_log_error("analyze: out of memory");
		goto free_dets;
	}
	run.lean = true; /* values of the series without a finding go once judged */
	run.pretty = o.pretty;
	if (set_meta(&run, dets, ndets, o.all_periods)) {
		cw_log_error("analyze: out of memory");
		goto out;
	}
	for (i = (size_t)first; i < (size_t)argc; i++) {
		if (cw_log_progress_enabled())
			cw_log_progress("analyze: %zu/%d %s", i - (size_t)first + 1,
					argc - first, argv[i]);
		if (analyze_file(&run, argv[i], &o, o.inventory ? &inv : NULL, dets, ndets)) {
			cw_log_progress_end();
			cw_log_error("analyze: out of memory");
			goto out;
		}
	}
	cw_log_progress_end();
	run.period = common_period(&run);
	run.finished = cw_time_now();
	cw_run_added(&run);
	cw_run_sort_results(&run); /* once, for every report */

	/* temporary files that a killed earlier run left (dead PIDs only) */
	(void)cw_remove_stale_temps(o.dir, "report.", NULL, err, sizeof(err));
	if (cw_reports_write(&run, o.dir, o.formats, err, sizeof(err))) {
		code = cw_usage_error("analyze: -o %s: %s", o.dir, err);
		goto out;
	}
	code = cw_run_exit_code(&run);
	if (!o.quiet) {
		if (cw_report_summary(&run, o.dir, &summary) == 0)
			fputs(cw_buf_str(&summary), stdout);
		fflush(stdout);
	}
out:
	cw_buf_release(&summary);
	cw_run_release(&run);
free_dets:
	if (o.inventory)
		cw_inventory_release(&inv);
	for (i = 0; i < ndets; i++)
		cw_detector_conf_release(&dets[i]);
	free(dets);
	return code;
}
