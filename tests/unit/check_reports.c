/*
 * check_reports.c - the report formats: golden files for a hand-built run
 * (tests/data/golden/report.{md,csv,json}; CW_UPDATE_GOLDEN=1 rewrites
 * them), and focused tests for escaping, CSV quoting, the formula guard,
 * sparklines, number formats, streaming all-or-nothing writes, reading
 * report.json back (tests/data/report_v1.json: the same run in the older
 * schema) and the terminal summary.
 */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "atomicio.h"
#include "buf.h"
#include "err.h"
#include "escape.h"
#include "render.h"
#include "report.h"
#include "run.h"
#include "strutil.h"
#include "testlib.h"

#define DAY 86400
#define T0 1391040000 /* 2014-01-30T00:00:00Z */

/* ---- the hand-built run ------------------------------------------------- */

static void add_series(struct cw_run *run, const struct cw_target_id *id,
		       const double *v, size_t n)
{
	struct cw_series s;
	size_t i, idx;

	ck_assert_int_eq(cw_series_init(&s, T0, DAY, n), 0);
	for (i = 0; i < n; i++)
		s.values[i] = v[i];
	s.complete_end = T0 + (int64_t)n * DAY;
	ck_assert_int_eq(cw_run_add_series(run, id, &s, &idx), 0);
	ck_assert_uint_eq(idx, run->nseries - 1);
}

static struct cw_result *add_result(struct cw_run *run, size_t series, const char *det,
				    enum cw_status st, enum cw_severity sev, size_t slot,
				    double value, double baseline, double limit, double score,
				    const char *note)
{
	struct cw_judgement j = {
		.status = st, .severity = sev, .period_start = T0 + (int64_t)slot * DAY,
		.value = value, .baseline = baseline, .limit = limit, .score = score,
	};

	ck_assert_int_eq(cw_run_add_result(run, series, det, &j, note), 0);
	return &run->results[run->nresults - 1];
}

/*
 * Three buckets in two accounts, judged on 2014-02-14 by two detectors:
 * an anomaly (priced, alert new), ok results, an insufficient_history
 * result, a failed account, a bucket that is not measured.  Names hold
 * every character that Markdown and CSV must escape, and one formula.
 */
static void build_run(struct cw_run *run)
{
	static const double spiky[16] = {
		1e9, 1.1e9, 0.9e9, 1e9, NAN, 1.05e9, 0.95e9, 1e9,
		1e9, 1.1e9, 0.9e9, 1e9, 1e9, 1.05e9, 0.95e9, 5.5e9,
	};
	static const double steady[16] = {
		2e8, 2e8, 2e8, 2e8, 2e8, 2e8, 2e8, 2e8,
		2e8, 2e8, 2e8, 2e8, 2e8, 2e8, 2e8, 2.5e8,
	};
	static const double young[2] = { 123456789012, 42 };
	struct cw_target_id a = {
		"111111111111", "prod & co", "us-east-1", "logs|prod*_`x`[1]<b>#",
		"AWS/S3 BytesDownloaded Sum", "Bytes", "team-a", "",
	};
	struct cw_target_id b = {
		"222222222222", "-dev", "eu-west-1", "=HYPERLINK(\"http://x.test\",\"y\")",
		"AWS/S3 BytesDownloaded Sum", "Bytes", "", "",
	};
	struct cw_target_id c = {
		"222222222222", "-dev", "eu-west-1", "new,bucket\nline",
		"AWS/S3 BytesDownloaded Sum", "Bytes", "", "",
	};
	struct cw_target_id f = { "333333333333", "audit", "us-west-2", "", "", "", "", "" };
	struct cw_target_id u = {
		"111111111111", "prod & co", "us-east-1", "quiet_bucket",
		"AWS/S3 BytesDownloaded Sum", "Bytes", "", "",
	};
	struct cw_result *r;

	ck_assert_int_eq(cw_run_init(run, "run"), 0);
	free(run->run_id);
	run->run_id = cw_strdup("20140215T031500Z-beef");
	free(run->inventory);
	run->inventory = cw_strdup("accounts.yaml");
	run->started = 1392434100;  /* 2014-02-15T03:15:00Z */
	run->finished = 1392434195;
	run->period = DAY;
	run->lookback = 16 * DAY;
	run->accounts = 3;
	run->regions = 3;
	run->api_calls = 7;
	run->detectors = calloc(2, sizeof(char *));
	ck_assert_ptr_nonnull(run->detectors);
	run->detectors[0] = cw_strdup("mean7d");
	run->detectors[1] = cw_strdup("threshold:limit=100000000000");
	run->ndetectors = 2;
	run->total_excess_usd = 0.405;
	free(run->price_note);
	run->price_note = cw_strdup("S3 data transfer out, us-east-1: $0.09/GB (first 10 TB)");

	add_series(run, &a, spiky, 16);
	add_series(run, &b, steady, 16);
	add_series(run, &c, young, 2);

	r = add_result(run, 0, "mean7d", CW_STATUS_ANOMALY, CW_SEV_CRITICAL, 15,
		       5.5e9, 1e9, 3e9, 5.5, NULL);
	r->est_excess_usd = 0.405;
	r->alert = CW_ALERT_NEW;
	add_result(run, 0, "threshold", CW_STATUS_OK, CW_SEV_WARNING, 15,
		   5.5e9, NAN, 1e11, NAN, NULL);
	add_result(run, 1, "mean7d", CW_STATUS_OK, CW_SEV_WARNING, 15,
		   2.5e8, 2e8, 6e8, 1.25, NULL);
	add_result(run, 1, "threshold", CW_STATUS_OK, CW_SEV_WARNING, 15,
		   2.5e8, NAN, 1e11, NAN, NULL);
	add_result(run, 2, "mean7d", CW_STATUS_INSUFFICIENT, CW_SEV_INFO, 1,
		   42, NAN, NAN, NAN, "1d of history, 7d needed");
	add_result(run, 2, "threshold", CW_STATUS_OK, CW_SEV_WARNING, 1,
		   42, NAN, 1e11, NAN, NULL);

	ck_assert_int_eq(cw_run_add_failure(run, &f, "assume-role", "AccessDenied",
					    "not authorized to perform: sts:AssumeRole on "
					    "arn:aws:iam::333333333333:role/cwsweep-read"), 0);
	ck_assert_int_eq(cw_run_add_unmeasured(run, &u, "no BytesDownloaded metric "
					       "with FilterId=EntireBucket",
					       "enable a request metrics filter named "
					       "EntireBucket"), 0);
}

static char *render(const struct cw_run *run, const char *fmt)
{
	const struct cw_report_ops *ops = cw_report_find(fmt);
	struct cw_buf out = CW_BUF_INIT;
	char err[CW_ERRBUF] = "";

	ck_assert_ptr_nonnull(ops);
	ck_assert_msg(ops->render(run, &out, err, sizeof(err)) == 0, "render %s: %s", fmt,
		      err);
	return cw_buf_detach(&out, NULL);
}

/* Compare with tests/data/golden/NAME, or rewrite it under CW_UPDATE_GOLDEN=1. */
static void check_golden(const char *fmt, const char *name)
{
	struct cw_run run;
	char *got, *want, *path, *rel = cw_asprintf("tests/data/golden/%s", name);
	const char *update = getenv("CW_UPDATE_GOLDEN");
	size_t i, line = 1;

	build_run(&run);
	got = render(&run, fmt);
	path = cw_test_src(rel);
	if (update && strcmp(update, "1") == 0) {
		char err[CW_ERRBUF];

		ck_assert_msg(cw_write_file_atomic(path, got, strlen(got), 0644, err,
						   sizeof(err)) == 0, "%s", err);
	}
	want = cw_test_slurp(path);
	ck_assert_msg(want != NULL, "%s missing (run with CW_UPDATE_GOLDEN=1)", path);
	for (i = 0; got[i] && got[i] == want[i]; i++)
		line += got[i] == '\n';
	ck_assert_msg(got[i] == want[i], "%s differs from the golden file at line %zu:\n"
		      "got:  %.80s\nwant: %.80s", name, line, got + i, want + i);
	free(got);
	free(want);
	free(path);
	free(rel);
	cw_run_release(&run);
}

START_TEST(golden_md)
{
	check_golden("md", "report.md");
}
END_TEST

START_TEST(golden_csv)
{
	check_golden("csv", "report.csv");
}
END_TEST

START_TEST(golden_html)
{
	check_golden("html", "report.html");
}
END_TEST

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Names that try to become markup stay text; one chart per finding. */
START_TEST(html_hostile_names)
{
	static const double v[10] = { 1, 1, 1, 1, 1, 1, 1, 5, 9, 9 };
	struct cw_target_id a = {
		"111111111111", "<img src=x onerror=alert(1)>", "us-east-1",
		"\"><script>alert(1)</script>", "AWS/S3 BytesDownloaded Sum", "Bytes",
		"o'wner", "k=<v>",
	};
	struct cw_target_id b = {
		"111111111111", "<img src=x onerror=alert(1)>", "us-east-1",
		"b&amp;'\x01</svg><svg onload=alert(1)>", "AWS/S3 BytesDownloaded Sum", "Bytes",
		"", "",
	};
	struct cw_run run;
	char *h;

	ck_assert_int_eq(cw_run_init(&run, "run"), 0);
	add_series(&run, &a, v, 10);
	add_series(&run, &b, v, 10);
	add_result(&run, 0, "mean7d", CW_STATUS_ANOMALY, CW_SEV_WARNING, 9, 9, 1, 3, 9, NULL);
	add_result(&run, 0, "zscore", CW_STATUS_ANOMALY, CW_SEV_WARNING, 9, 9, 2, 4, 9, NULL);
	add_result(&run, 1, "mean7d", CW_STATUS_ANOMALY, CW_SEV_WARNING, 9, 9, 1, 3, 9, NULL);
	ck_assert_int_eq(cw_run_add_failure(&run, &a, "get-metric-data", "<b>Throttling</b>",
					    "\"quoted\" & <i>"), 0);
	/* the second finding's detector tracked its episode: 2 periods */
	run.results[2].j.episode_start = T0 + 8 * DAY;
	run.results[2].j.episode_len = 2;
	run.results[2].j.episode_peak = 9;
	h = render(&run, "html");
	ck_assert_ptr_nonnull(strstr(h, "<span>episode: 2 periods since 2014-02-07, peak 9 B</span>"));
	ck_assert_ptr_nonnull(strstr(h, "<title>episode: 2 periods</title>"));
	{
		char *m = render(&run, "md");

		ck_assert_ptr_nonnull(strstr(m, "| mean7d (2 periods since 2014-02-07) |"));
		free(m);
	}
	ck_assert_ptr_null(strstr(h, "<script"));
	ck_assert_ptr_null(strstr(h, "<img"));
	ck_assert_ptr_null(strstr(h, "<i>"));
	ck_assert_ptr_null(strstr(h, "<svg onload"));
	ck_assert_ptr_null(strstr(h, "\x01"));
	ck_assert_ptr_nonnull(strstr(h, "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
	ck_assert_ptr_nonnull(strstr(h, "b&amp;amp;&#39; &lt;/svg&gt;"));
	/* two findings (the first flagged twice), two cards, two charts */
	ck_assert_ptr_nonnull(strstr(h, "<h2>Findings (2)</h2>"));
	ck_assert_uint_eq(count(h, "<article class=\"finding\""), 2);
	ck_assert_uint_eq(count(h, "<svg class=\"chart\""), 2);
	ck_assert_ptr_nonnull(strstr(h, "flagged by mean7d, zscore"));
	/* the episode: the periods beyond the limit up to the judged one (5, 9, 9) */
	ck_assert_ptr_nonnull(strstr(h, "<title>episode: 3 periods</title>"));
	/* self-contained: nothing to load */
	ck_assert_ptr_null(strstr(h, " src=\""));
	ck_assert_ptr_null(strstr(h, "<link"));
	ck_assert_ptr_null(strstr(h, "url("));
	ck_assert_ptr_nonnull(strstr(h, "default-src 'none'"));
	free(h);
	cw_run_release(&run);
}
END_TEST

/* report.xlsx: a zip (an XLSX package), the same bytes for the same run,
 * whatever control characters or bad UTF-8 the names hold, packed at the
 * workbook's own deflate level. */
START_TEST(xlsx_package)
{
	const struct cw_report_ops *ops = cw_report_find("xlsx");
	struct cw_buf a = CW_BUF_INIT, b = CW_BUF_INIT;
	char err[CW_ERRBUF] = "";
	struct cw_run run;

	ck_assert_ptr_nonnull(ops);
	build_run(&run);
	/* the run's pool owns the names: point at another one */
	run.series[1].id.bucket = (char *)"bad\x01\xff utf-8";
	ck_assert_msg(ops->render(&run, &a, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(ops->render(&run, &b, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_gt(a.len, 1000);
	ck_assert_int_eq(memcmp(a.data, "PK\x03\x04", 4), 0);
	ck_assert_uint_eq(a.len, b.len);
	ck_assert_int_eq(memcmp(a.data, b.data, a.len), 0);
	/* its parts went through xlsx.c's deflate level, not zlib's default */
	ck_assert_uint_gt(cw_xlsx_fast_parts(), 0);
	cw_buf_release(&a);
	cw_buf_release(&b);
	cw_run_release(&run);
}
END_TEST

START_TEST(golden_json)
{
	check_golden("json", "report.json");
}
END_TEST

/* ---- escaping ------------------------------------------------------------ */

static char *md(const char *s)
{
	struct cw_buf b = CW_BUF_INIT;

	ck_assert_int_eq(cw_md_escape(&b, s), 0);
	return cw_buf_detach(&b, NULL);
}

static char *csv(const char *s, bool is_text)
{
	struct cw_buf b = CW_BUF_INIT;

	ck_assert_int_eq(cw_csv_cell(&b, s, is_text), 0);
	return cw_buf_detach(&b, NULL);
}

#define CK_STR_FREE(expr, want) do { \
		char *got_ = (expr); \
		ck_assert_str_eq(got_, want); \
		free(got_); \
	} while (0)

START_TEST(md_escape)
{
	CK_STR_FREE(md("plain-name.v2"), "plain-name.v2");
	CK_STR_FREE(md("a|b*c_d`e[f]g<h>i#j\\k"),
		    "a\\|b\\*c\\_d\\`e\\[f\\]g\\<h\\>i\\#j\\\\k");
	CK_STR_FREE(md("two\nlines\r\ttab"), "two lines  tab");
	CK_STR_FREE(md("~strike~ & ![img]"), "\\~strike\\~ \\& \\!\\[img\\]");
	CK_STR_FREE(md(NULL), "");
	/* valid UTF-8 is kept, invalid bytes become U+FFFD */
	CK_STR_FREE(md("caf\xc3\xa9"), "caf\xc3\xa9");
	CK_STR_FREE(md("a\xff" "b"), "a\xef\xbf\xbd" "b");
	CK_STR_FREE(md("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");   /* overlong '/' */
	CK_STR_FREE(md("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* surrogate */
	CK_STR_FREE(md("x\xe2\x82"), "x\xef\xbf\xbd\xef\xbf\xbd"); /* truncated */
}
END_TEST

START_TEST(utf8_len)
{
	ck_assert_uint_eq(cw_utf8_len("a"), 1);
	ck_assert_uint_eq(cw_utf8_len("\xc3\xa9"), 2);
	ck_assert_uint_eq(cw_utf8_len("\xe2\x96\x81"), 3);
	ck_assert_uint_eq(cw_utf8_len("\xf0\x9f\x98\x80"), 4);
	ck_assert_uint_eq(cw_utf8_len("\xf4\x90\x80\x80"), 0); /* > U+10FFFF */
	ck_assert_uint_eq(cw_utf8_len("\xe0\x80\x80"), 0);     /* overlong */
	ck_assert_uint_eq(cw_utf8_len("\x80"), 0);
}
END_TEST

START_TEST(csv_quoting)
{
	CK_STR_FREE(csv("plain", true), "plain");
	CK_STR_FREE(csv("", true), "");
	CK_STR_FREE(csv(NULL, true), "");
	CK_STR_FREE(csv("a,b", true), "\"a,b\"");
	CK_STR_FREE(csv("say \"hi\"", true), "\"say \"\"hi\"\"\"");
	CK_STR_FREE(csv("l1\nl2", true), "\"l1\nl2\"");
	CK_STR_FREE(csv("l1\r\nl2", true), "\"l1\r\nl2\"");
	CK_STR_FREE(csv("semi;colon 'q'", true), "semi;colon 'q'");
	CK_STR_FREE(csv("bad\xfe", true), "bad\xef\xbf\xbd");
}
END_TEST

START_TEST(csv_formula_guard)
{
	CK_STR_FREE(csv("=1+2", true), "'=1+2");
	CK_STR_FREE(csv("+1", true), "'+1");
	CK_STR_FREE(csv("-dev", true), "'-dev");
	CK_STR_FREE(csv("@SUM(A1)", true), "'@SUM(A1)");
	CK_STR_FREE(csv("\tx", true), "'\tx");
	CK_STR_FREE(csv("\rx", true), "\"'\rx\"");
	CK_STR_FREE(csv("=HYPERLINK(\"http://x\",\"y\")", true),
		    "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
	CK_STR_FREE(csv("a=b", true), "a=b");
	/* numbers are never changed */
	CK_STR_FREE(csv("-5", false), "-5");
	CK_STR_FREE(csv("+1", false), "+1");
}
END_TEST

START_TEST(json_escape)
{
	struct cw_buf b = CW_BUF_INIT;

	ck_assert_int_eq(cw_json_string(&b, "q\"b\\n\nt\tc\x01\xff"), 0);
	ck_assert_str_eq(cw_buf_str(&b), "\"q\\\"b\\\\n\\nt\\tc\\u0001\xef\xbf\xbd\"");
	cw_buf_release(&b);
	ck_assert_int_eq(cw_json_string(&b, NULL), 0);
	ck_assert_str_eq(cw_buf_str(&b), "\"\"");
	cw_buf_release(&b);
	/* nothing to escape: copied as it is; DEL is escaped like the others */
	ck_assert_int_eq(cw_json_string(&b, "plain text/1 {x}"), 0);
	ck_assert_int_eq(cw_json_string(&b, ""), 0);
	ck_assert_int_eq(cw_json_string(&b, "a\x7f"), 0);
	ck_assert_str_eq(cw_buf_str(&b), "\"plain text/1 {x}\"\"\"\"a\\u007f\"");
	cw_buf_release(&b);
}
END_TEST

START_TEST(term_escape)
{
	struct cw_buf b = CW_BUF_INIT;

	/* ESC, a C1 CSI and a newline cannot move the cursor or recolour */
	ck_assert_int_eq(cw_term_escape(&b, "a\x1b[31mb\xc2\x9b" "c\nd\xc3\xa9"), 0);
	ck_assert_str_eq(cw_buf_str(&b), "a?[31mb?c?d\xc3\xa9");
	cw_buf_release(&b);
}
END_TEST

/* ---- sparkline and numbers ----------------------------------------------- */

static char *spark(const double *v, size_t n)
{
	struct cw_buf b = CW_BUF_INIT;

	ck_assert_int_eq(cw_sparkline(&b, v, n), 0);
	return cw_buf_detach(&b, NULL);
}

START_TEST(sparkline)
{
	static const double ramp[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	static const double gaps[3] = { 4, NAN, 8 };
	static const double zeros[2] = { 0, 0 };
	static const double flat[2] = { 5, 5 };
	static const double neg[3] = { -1, 0, 1 };
	static const double none[1] = { NAN };

	CK_STR_FREE(spark(ramp, 8), "\xe2\x96\x81\xe2\x96\x82\xe2\x96\x83\xe2\x96\x84"
				    "\xe2\x96\x85\xe2\x96\x86\xe2\x96\x87\xe2\x96\x88");
	/* scaled from 0: 4 of 8 is the middle (round(3.5) = 4 -> U+2585) */
	CK_STR_FREE(spark(gaps, 3), "\xe2\x96\x85\xc2\xb7\xe2\x96\x88");
	CK_STR_FREE(spark(zeros, 2), "\xe2\x96\x81\xe2\x96\x81");
	CK_STR_FREE(spark(flat, 2), "\xe2\x96\x88\xe2\x96\x88");
	/* with a negative value: from the smallest; 0 is round(3.5) = 4 */
	CK_STR_FREE(spark(neg, 3), "\xe2\x96\x81\xe2\x96\x85\xe2\x96\x88");
	CK_STR_FREE(spark(none, 1), "\xc2\xb7");
	CK_STR_FREE(spark(NULL, 0), "");
}
END_TEST

START_TEST(human_numbers)
{
	char buf[64];

	ck_assert_str_eq(cw_rep_human(0, "", buf, sizeof(buf)), "0");
	ck_assert_str_eq(cw_rep_human(42, "Count", buf, sizeof(buf)), "42");
	ck_assert_str_eq(cw_rep_human(12.346, "", buf, sizeof(buf)), "12.35");
	ck_assert_str_eq(cw_rep_human(1234.5, "", buf, sizeof(buf)), "1234.5");
	ck_assert_str_eq(cw_rep_human(0.00123, "", buf, sizeof(buf)), "0.00123");
	ck_assert_str_eq(cw_rep_human(12345, "", buf, sizeof(buf)), "12.3 k");
	ck_assert_str_eq(cw_rep_human(4.2e6, "", buf, sizeof(buf)), "4.2 M");
	ck_assert_str_eq(cw_rep_human(-2.5e9, "", buf, sizeof(buf)), "-2.5 G");
	ck_assert_str_eq(cw_rep_human(999999, "", buf, sizeof(buf)), "1 M");
	ck_assert_str_eq(cw_rep_human(1.5e9, "Bytes", buf, sizeof(buf)), "1.50 GB");
	ck_assert_str_eq(cw_rep_human(NAN, "Bytes", buf, sizeof(buf)), "\xe2\x80\x94");
	ck_assert_str_eq(cw_rep_pct(450, buf, sizeof(buf)), "+450%");
	ck_assert_str_eq(cw_rep_pct(-3.54, buf, sizeof(buf)), "-3.5%");
	ck_assert_str_eq(cw_rep_pct(0, buf, sizeof(buf)), "0%");
	ck_assert_str_eq(cw_rep_pct(-0.04, buf, sizeof(buf)), "0%"); /* not "-0.0%" */
	ck_assert_str_eq(cw_rep_pct(0.06, buf, sizeof(buf)), "+0.1%");
	ck_assert_str_eq(cw_rep_pct(NAN, buf, sizeof(buf)), "\xe2\x80\x94");
	ck_assert_str_eq(cw_rep_time(T0 + 3600 + 1800, 300, buf, sizeof(buf)),
			 "2014-01-30 01:30");
	ck_assert_str_eq(cw_rep_time(T0, DAY, buf, sizeof(buf)), "2014-01-30");
}
END_TEST

START_TEST(change_pct)
{
	struct cw_judgement j = { .value = 150, .baseline = 100 };

	ck_assert_double_eq_tol(cw_rep_change_pct(&j), 50, 1e-12);
	j.baseline = -100;
	ck_assert_double_eq_tol(cw_rep_change_pct(&j), 250, 1e-12);
	j.baseline = 0;
	ck_assert(isnan(cw_rep_change_pct(&j)));
	j.baseline = NAN;
	ck_assert(isnan(cw_rep_change_pct(&j)));
	j.baseline = 100;
	j.value = NAN;
	ck_assert(isnan(cw_rep_change_pct(&j)));
}
END_TEST

START_TEST(window)
{
	struct cw_series s;
	size_t from, to;

	ck_assert_int_eq(cw_series_init(&s, T0, DAY, 20), 0);
	s.complete_end = T0 + 19 * DAY;
	cw_rep_window(&s, T0 + 18 * DAY, &from, &to);
	ck_assert_uint_eq(to, 19);
	ck_assert_uint_eq(from, 19 - CW_REPORT_HISTORY);
	cw_rep_window(&s, T0 + 2 * DAY, &from, &to);
	ck_assert_uint_eq(from, 0);
	ck_assert_uint_eq(to, 3);
	/* not a slot of the series: the last complete slots */
	cw_rep_window(&s, T0 - DAY, &from, &to);
	ck_assert_uint_eq(to, 19);
	cw_series_release(&s);
}
END_TEST

/* Numbers in the machine formats: plain, no exponent for byte counts,
 * NaN an empty cell in CSV and null in JSON. */
START_TEST(machine_numbers)
{
	struct cw_run run;
	char *c, *j;

	build_run(&run);
	c = render(&run, "csv");
	j = render(&run, "json");
	/* the young bucket's 123456789012-byte day, in its history */
	ck_assert_ptr_nonnull(strstr(j, ",2,[123456789012,42]]"));
	/* the anomaly row: value, baseline, limit, change_pct, score */
	ck_assert_ptr_nonnull(strstr(c, ",2014-02-14T00:00:00Z,5500000000,1000000000,"
				     "3000000000,450,5.5,anomaly,critical,new,0.405,Bytes,"
				     ",5.5,1,0.405,team-a,,f-"));
	/* finding_id: the same in both formats, 16 hex digits */
	{
		const char *f = strstr(c, ",team-a,,f-");
		char *want;

		ck_assert_ptr_nonnull(f);
		want = cw_asprintf(",\"%.18s\"]", f + 9); /* the last column */
		ck_assert_ptr_nonnull(strstr(j, want));
		ck_assert_uint_eq(strspn(f + 11, "0123456789abcdef"), 16);
		free(want);
	}
	/* threshold: no baseline, no score -> empty cells */
	ck_assert_ptr_nonnull(strstr(c, ",threshold,2014-02-14T00:00:00Z,5500000000,,"
				     "100000000000,,,ok,,,,Bytes,,5.5,,,team-a,,\r\n"));
	ck_assert_ptr_nonnull(strstr(j, ",\"threshold\",\"ok\",null,\"2014-02-14T00:00:00Z\","
				     "5500000000,null,100000000000,null,"));
	ck_assert_ptr_null(strstr(c, "e+"));
	ck_assert_ptr_null(strstr(j, "e+"));
	ck_assert_ptr_null(strstr(j, "nan"));
	free(c);
	free(j);
	cw_run_release(&run);
}
END_TEST

/* ---- structure --------------------------------------------------------- */

START_TEST(csv_shape)
{
	struct cw_run run;
	char *c, *p;
	size_t rows = 0;

	build_run(&run);
	c = render(&run, "csv");
	ck_assert(cw_str_startswith(c, "run_id,account_id,account_name,region,bucket,metric,"
				    "detector,period_start,value,baseline,limit,change_pct,"
				    "score,status,severity,alert,est_excess_usd,unit,note,"
				    "value_gb,baseline_gb,est_excess_usd_all,owner,tags,finding_id\r\n"));
	/* every line ends in CRLF; the only bare LF is inside a quoted cell */
	for (p = c; (p = strchr(p, '\n')); p++)
		rows += p > c && p[-1] == '\r';
	ck_assert_uint_eq(rows, 1 + 6 + 1 + 1);
	/* the formula bucket is guarded and quoted, the LF bucket quoted */
	ck_assert_ptr_nonnull(strstr(c, ",\"'=HYPERLINK(\"\"http://x.test\"\",\"\"y\"\")\","));
	ck_assert_ptr_nonnull(strstr(c, ",'-dev,"));
	ck_assert_ptr_nonnull(strstr(c, ",\"new,bucket\nline\","));
	/* the failure and the unmeasured bucket */
	ck_assert_ptr_nonnull(strstr(c, "20140215T031500Z-beef,333333333333,audit,us-west-2,,,"
				     ",,,,,,,failed,,,,,assume-role: AccessDenied: "));
	ck_assert_ptr_nonnull(strstr(c, "sts:AssumeRole on arn:aws:iam::333333333333:role/"
				     "cwsweep-read,,,,,,\r\n"));
	ck_assert_ptr_nonnull(strstr(c, ",quiet_bucket,AWS/S3 BytesDownloaded Sum,,,,,,,,not_found,"
				     ",,,Bytes,not_found: no BytesDownloaded metric"));
	free(c);
	cw_run_release(&run);
}
END_TEST

/* The column of table key ("series", "results") named name, or -1. */
static int column(json_t *doc, const char *key, const char *name)
{
	char *cols = cw_asprintf("%s_columns", strcmp(key, "series") == 0 ? "series" : "result");
	json_t *v = json_object_get(doc, cols);

	free(cols);
	for (size_t i = 0; i < json_array_size(v); i++)
		if (strcmp(json_string_value(json_array_get(v, i)), name) == 0)
			return (int)i;
	return -1;
}

/* Member name of row i of table key. */
static json_t *cell_of(json_t *doc, const char *key, size_t i, const char *name)
{
	int c = column(doc, key, name);

	ck_assert_msg(c >= 0, "no column %s in %s", name, key);
	return json_array_get(json_array_get(json_object_get(doc, key), i), (size_t)c);
}

START_TEST(json_parses)
{
	struct cw_run run;
	json_error_t jerr;
	json_t *doc, *results, *series;
	char *j;

	build_run(&run);
	j = render(&run, "json");
	doc = json_loads(j, 0, &jerr);
	ck_assert_msg(doc != NULL, "report.json: %d:%d: %s", jerr.line, jerr.column, jerr.text);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "schema")), "cwsweep.report/3");
	/* compact: one line */
	ck_assert_ptr_eq(strchr(j, '\n'), j + strlen(j) - 1);
	results = json_object_get(doc, "results");
	ck_assert_uint_eq(json_array_size(results), 6);
	/* reading order: the anomaly first, its target in its series row */
	ck_assert_str_eq(json_string_value(cell_of(doc, "results", 0, "status")), "anomaly");
	ck_assert_str_eq(json_string_value(cell_of(doc, "results", 0, "alert")), "new");
	ck_assert_int_eq(json_integer_value(cell_of(doc, "results", 0, "series")), 0);
	ck_assert_int_eq(column(doc, "results", "bucket"), -1);
	/* each judged series once: three series for six results */
	series = json_object_get(doc, "series");
	ck_assert_uint_eq(json_array_size(series), 3);
	ck_assert_str_eq(json_string_value(cell_of(doc, "series", 0, "bucket")),
			 "logs|prod*_`x`[1]<b>#");
	ck_assert_str_eq(json_string_value(cell_of(doc, "series", 0, "start")),
			 "2014-02-01T00:00:00Z");
	ck_assert_int_eq(json_integer_value(cell_of(doc, "series", 0, "period_seconds")), DAY);
	ck_assert_int_eq(json_integer_value(cell_of(doc, "series", 0, "slots")),
			 CW_REPORT_HISTORY);
	ck_assert_uint_eq(json_array_size(cell_of(doc, "series", 0, "values")),
			  CW_REPORT_HISTORY);
	/* the last result is the anomaly's ok sibling: the same series */
	ck_assert_int_eq(json_integer_value(cell_of(doc, "results", 5, "series")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(doc, "summary"),
							    "anomalies")), 1);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "failures")), 1);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "unmeasured")), 1);
	json_decref(doc);
	free(j);
	cw_run_release(&run);
}
END_TEST

/* --pretty: the same document, indented, a row of a table on one line. */
START_TEST(json_pretty)
{
	struct cw_run run;
	json_error_t jerr;
	json_t *a, *b;
	char *compact, *pretty;

	build_run(&run);
	compact = render(&run, "json");
	run.pretty = true;
	pretty = render(&run, "json");
	ck_assert_ptr_nonnull(strstr(pretty, "\n  \"schema\": \"cwsweep.report/3\",\n"));
	ck_assert_ptr_nonnull(strstr(pretty, "\n  \"results\": [\n    [0, \"mean7d\", "
				     "\"anomaly\", \"critical\", \"2014-02-14T00:00:00Z\", "
				     "5500000000, 1000000000, 3000000000, 5.5, \"new\", 0.405, "
				     "null, \"f-"));
	a = json_loads(compact, 0, &jerr);
	b = json_loads(pretty, 0, &jerr);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	free(compact);
	free(pretty);
	cw_run_release(&run);
}
END_TEST

START_TEST(md_content)
{
	struct cw_run run;
	char *m, *wow;

	build_run(&run);
	m = render(&run, "md");
	/* the anomaly row, escaped, human numbers, priced, alert */
	ck_assert_ptr_nonnull(strstr(m, "| critical | **$0.41** | "
				     "logs\\|prod\\*\\_\\`x\\`\\[1\\]\\<b\\>\\# \xc2\xb7 "
				     "prod \\& co (111111111111) \xc2\xb7 us-east-1 | 2014-02-14 | "
				     "**5.50 GB** vs 1.00 GB (mean7d), +450% | mean7d | "));
	ck_assert_ptr_nonnull(strstr(m, " | new | [graph](<https://us-east-1.console.aws.amazon."
				     "com/cloudwatch/home?region=us-east-1#metricsV2:graph=~("
				     "metrics~(~(~'AWS*2fS3~'BytesDownloaded~'BucketName~'logs*7c"));
	ck_assert_ptr_nonnull(strstr(m, "[bucket](<https://s3.console.aws.amazon.com/s3/buckets/"
				     "logs%7Cprod%2A%5F%60x%60%5B1%5D%3Cb%3E%23?region=us-east-1"
				     "&tab=metrics>) |\n"));
	/* the answer first */
	ck_assert(cw_str_startswith(m, "# cwsweep report\n\n**Estimated excess: est. $0.41 "
				    "\xc2\xb7 1 finding \xc2\xb7 coverage: 3 series judged, "
				    "1 failure, 0 not watched, 1 not found**\n"));
	/* per account, the largest cost first */
	ck_assert_ptr_nonnull(strstr(m, "## Accounts (2)\n"));
	ck_assert_ptr_nonnull(strstr(m, "| prod \\& co (111111111111) | 1 | 11.5 GB | 5.90 GB | "
				     "+95% | est. $0.41 | 1 |\n| -dev (222222222222) | 2 |"));
	/* failures by cause, parameters with units */
	ck_assert_ptr_nonnull(strstr(m, "| assume-role AccessDenied | 1 | 1 | not authorized"));
	ck_assert_ptr_nonnull(strstr(m, "- detector: threshold (limit 100 GB)\n"));
	ck_assert_ptr_null(strstr(m, "100000000000"));
	/* ok rows are not listed among the anomalies, only counted */
	wow = strstr(m, "## Top movers\n");
	ck_assert_ptr_nonnull(wow);
	*wow = '\0';
	ck_assert_ptr_null(strstr(m, "HYPERLINK"));
	*wow = '#';
	/* top movers: sums of the last 7 days and the 7 before (a gap
	 * skipped), the largest change first; the 2-day series has no two weeks */
	ck_assert_ptr_nonnull(strstr(wow, "| 11.5 GB | 5.90 GB | +95% |\n"));
	ck_assert_ptr_nonnull(strstr(wow, "| 1.45 GB | 1.40 GB | +3.6% |\n"));
	ck_assert_ptr_nonnull(strstr(wow, "| **all 2 series** | | | **12.9 GB** | **7.30 GB** | "
				       "**+77%** |\n"));
	ck_assert_ptr_null(strstr(wow, "123 GB"));
	ck_assert_ptr_nonnull(strstr(m, "| mean7d | 3 | 1 | 1 | 1 |\n"));
	ck_assert_ptr_nonnull(strstr(m, "| threshold | 3 | 0 | 3 | 0 |\n"));
	ck_assert_ptr_nonnull(strstr(m, "| AccessDenied |"));
	ck_assert_ptr_nonnull(strstr(m, "quiet\\_bucket"));
	/* no raw line break from a name: every table line starts with '|' */
	ck_assert_ptr_null(strstr(m, "new,bucket\nline"));
	free(m);
	cw_run_release(&run);
}
END_TEST

/* Top movers: by change, not by volume, above a minimum volume. */
START_TEST(md_movers)
{
	double big[14], moved[14], tiny[14];
	struct cw_target_id a = { "111111111111", "p", "us-east-1", "big-steady",
				  "AWS/S3 BytesDownloaded Sum", "Bytes", "", "" };
	struct cw_target_id b = a, c = a;
	struct cw_run run;
	char *m, *p1, *p2;

	b.bucket = "mid-doubled";
	c.bucket = "tiny-jumpy";
	for (size_t i = 0; i < 14; i++) {
		big[i] = 1e12;              /* 7 TB a week, +1% */
		moved[i] = i < 7 ? 1e9 : 2e9; /* 7 GB -> 14 GB: +100% */
		tiny[i] = i < 7 ? 10 : 1e5; /* bytes: +10^6 %, below the minimum */
	}
	big[13] = 1.07e12;
	ck_assert_int_eq(cw_run_init(&run, "run"), 0);
	add_series(&run, &a, big, 14);
	add_series(&run, &b, moved, 14);
	add_series(&run, &c, tiny, 14);
	m = render(&run, "md");
	p1 = strstr(m, "| mid-doubled | 14.0 GB | 7.00 GB | +100% |");
	p2 = strstr(m, "| big-steady |");
	ck_assert_ptr_nonnull(p1);
	ck_assert_ptr_nonnull(p2);
	ck_assert(p1 < p2);
	ck_assert_ptr_null(strstr(m, "| tiny-jumpy |"));
	ck_assert_ptr_nonnull(strstr(m, "(2 of 3)"));
	ck_assert_ptr_nonnull(strstr(m, "| **all 3 series** |"));
	free(m);
	cw_run_release(&run);
}
END_TEST

START_TEST(md_caps_anomalies)
{
	struct cw_run run;
	double v[3] = { 1, 1, 9 };
	struct cw_target_id id = { "", "", "", "", "s", "", "", "" };
	char *m, *p;
	size_t i, rows = 0;

	ck_assert_int_eq(cw_run_init(&run, "analyze"), 0);
	for (i = 0; i < CW_REPORT_MD_MAX_ROWS + 5; i++) {
		add_series(&run, &id, v, 3);
		add_result(&run, i, "zscore", CW_STATUS_ANOMALY, CW_SEV_WARNING, 2, 9, 1, 2,
			   4, NULL);
		/* a second detector on the same series and period: the same finding */
		add_result(&run, i, "mean7d", CW_STATUS_ANOMALY, CW_SEV_WARNING, 2, 9, 1, 2,
			   4, NULL);
	}
	m = render(&run, "md");
	for (p = m; (p = strstr(p, "| warning |")); p++)
		rows++;
	ck_assert_uint_eq(rows, CW_REPORT_MD_MAX_ROWS);
	ck_assert_ptr_nonnull(strstr(m, "The 100 largest of 105 findings"));
	ck_assert_ptr_nonnull(strstr(m, "210 anomalous judgements in all"));
	ck_assert_ptr_nonnull(strstr(m, "| mean7d, zscore |"));
	/* analyze mode, nothing priced: no cost or alert column */
	ck_assert_ptr_nonnull(strstr(m, "| Severity | Bucket / series \xc2\xb7 account \xc2\xb7 "
				     "region | Period (UTC) |"));
	free(m);
	cw_run_release(&run);
}
END_TEST

/* ---- writing, formats, summary ------------------------------------------- */

/* The registered formats: every one is written by default. */
static size_t nformats(void)
{
	size_t n = 0;

	while (cw_reports[n])
		n++;
	return n;
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

START_TEST(write_all)
{
	struct cw_run run;
	char err[CW_ERRBUF] = "";
	char *tmp = cw_test_tmpdir(), *dir = cw_asprintf("%s/a/b", tmp);
	char *md_path = cw_asprintf("%s/report.md", dir);
	char *md_text, *want;
	struct stat st;

	build_run(&run);
	ck_assert_msg(cw_reports_write(&run, dir, NULL, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(count_entries(dir), nformats()); /* no temporary file left */
	ck_assert_int_eq(stat(md_path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	md_text = cw_test_slurp(md_path);
	want = render(&run, "md");
	ck_assert_str_eq(md_text, want);
	free(md_text);
	free(want);
	cw_run_release(&run);
	cw_test_rmtree(tmp);
	free(md_path);
	free(dir);
	free(tmp);
}
END_TEST

START_TEST(write_some_and_bad)
{
	struct cw_run run;
	char err[CW_ERRBUF] = "";
	char *tmp = cw_test_tmpdir(), *dir = cw_asprintf("%s/out", tmp);
	char *csv_path = cw_asprintf("%s/report.csv", dir);
	struct stat st;

	build_run(&run);
	/* an unknown format: an error naming it, and nothing written */
	ck_assert_int_eq(cw_reports_write(&run, dir, "md,xml", err, sizeof(err)), CW_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "'xml'"));
	ck_assert_int_ne(stat(dir, &st), 0);
	ck_assert_int_eq(cw_reports_write(&run, dir, " csv ", err, sizeof(err)), 0);
	ck_assert_uint_eq(count_entries(dir), 1);
	ck_assert_int_eq(stat(csv_path, &st), 0);
	cw_run_release(&run);
	cw_test_rmtree(tmp);
	free(csv_path);
	free(dir);
	free(tmp);
}
END_TEST

/* A run of n buckets judged by two detectors: reports of some megabytes. */
static void build_big_run(struct cw_run *run, size_t n)
{
	double v[20];
	size_t i, k;

	ck_assert_int_eq(cw_run_init(run, "run"), 0);
	for (i = 0; i < n; i++) {
		char bucket[32], acct[32];
		struct cw_target_id id = { acct, acct, "us-east-1", bucket,
					   "AWS/S3 BytesDownloaded Sum", "Bytes", "", "" };

		snprintf(acct, sizeof(acct), "%012zu", 100000000000 + i / 100);
		snprintf(bucket, sizeof(bucket), "bucket-%05zu", i);
		for (k = 0; k < 20; k++)
			v[k] = 1e9 + (double)((i * 7 + k * 13) % 101) * 1e6;
		add_series(run, &id, v, 20);
		add_result(run, i, "mean7d", i % 50 ? CW_STATUS_OK : CW_STATUS_ANOMALY,
			   CW_SEV_WARNING, 19, v[19], 1e9, 2e9, 1.5, NULL);
		add_result(run, i, "zscore", CW_STATUS_OK, CW_SEV_WARNING, 19, v[19], 1e9,
			   2e9, 0.5, NULL);
	}
}

/* Reports far larger than one streamed piece come out exactly as rendered
 * in memory. */
START_TEST(write_streams)
{
	static const char *const fmts[][2] = {
		{ "md", "report.md" }, { "csv", "report.csv" }, { "json", "report.json" },
	};
	struct cw_run run;
	char err[CW_ERRBUF] = "";
	char *tmp = cw_test_tmpdir();
	size_t i;

	build_big_run(&run, 3000);
	ck_assert_msg(cw_reports_write(&run, tmp, NULL, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(count_entries(tmp), nformats());
	for (i = 0; i < 3; i++) {
		char *path = cw_asprintf("%s/%s", tmp, fmts[i][1]);
		char *got = cw_test_slurp(path), *want = render(&run, fmts[i][0]);

		ck_assert_ptr_nonnull(got);
		ck_assert_msg(strcmp(got, want) == 0, "%s differs from the rendering", path);
		free(got);
		free(want);
		free(path);
	}
	cw_run_release(&run);
	cw_test_rmtree(tmp);
	free(tmp);
}
END_TEST

/* A format that writes `fail_after` bytes (in one go) and then fails. */
static size_t fail_after;

static int failing_render(const struct cw_run *run, struct cw_buf *out, char *err,
			  size_t errlen)
{
	size_t i;
	int rc;

	for (i = 0; i < fail_after; i++)
		if ((rc = cw_buf_addch(out, 'x')))
			return rc;
	return cw_fail(err, errlen, CW_EINVAL, "report.bad: broken on purpose");
}

static const struct cw_report_ops failing_ops = {
	.name = "bad",
	.filename = "report.bad",
	.render = failing_render,
};

/* A failing format: no temporary file is left, no existing report is
 * replaced and no new one appears - whether it fails first, between the
 * others or last, and whether or not part of it reached its file. */
START_TEST(write_failure_changes_nothing)
{
	static const size_t sizes[] = { 0, 3 * 1024 * 1024 };
	const struct cw_report_ops *md_ops = cw_report_find("md");
	const struct cw_report_ops *csv_ops = cw_report_find("csv");
	const struct cw_report_ops *json_ops = cw_report_find("json");
	const struct cw_report_ops *lists[3][5] = {
		{ &failing_ops, md_ops, csv_ops, NULL },
		{ md_ops, &failing_ops, json_ops, NULL },
		{ md_ops, csv_ops, json_ops, &failing_ops },
	};
	struct cw_run run, other;
	char err[CW_ERRBUF];
	char *tmp = cw_test_tmpdir(), *fresh = cw_asprintf("%s/fresh", tmp);
	char *md_path = cw_asprintf("%s/report.md", tmp);
	char *json_path = cw_asprintf("%s/report.json", tmp);
	char *old_md, *old_json;
	struct stat st;
	size_t i, k;

	build_run(&run);
	build_big_run(&other, 2000);
	/* the old reports: md and json only */
	ck_assert_msg(cw_reports_write(&run, tmp, "md,json", err, sizeof(err)) == 0, "%s", err);
	old_md = cw_test_slurp(md_path);
	old_json = cw_test_slurp(json_path);
	for (k = 0; k < 2; k++) {
		fail_after = sizes[k];
		for (i = 0; i < 3; i++) {
			err[0] = '\0';
			ck_assert_int_eq(cw_reports_write_ops(&other, tmp, lists[i], err,
							      sizeof(err)), CW_EINVAL);
			ck_assert_str_eq(err, "report.bad: broken on purpose");
			ck_assert_uint_eq(count_entries(tmp), 2);
			CK_STR_FREE(cw_test_slurp(md_path), old_md);
			CK_STR_FREE(cw_test_slurp(json_path), old_json);
		}
	}
	/* a folder made for the reports is not left behind empty */
	ck_assert_int_eq(cw_reports_write_ops(&other, fresh, lists[1], err, sizeof(err)),
			 CW_EINVAL);
	ck_assert_int_ne(stat(fresh, &st), 0);
	free(old_md);
	free(old_json);
	cw_run_release(&run);
	cw_run_release(&other);
	cw_test_rmtree(tmp);
	free(json_path);
	free(md_path);
	free(fresh);
	free(tmp);
}
END_TEST

/* A write error (here: a file size limit) fails the whole write the same way. */
START_TEST(write_error_changes_nothing)
{
	struct cw_run run, other;
	struct rlimit lim;
	char err[CW_ERRBUF] = "";
	char *tmp = cw_test_tmpdir(), *md_path = cw_asprintf("%s/report.md", tmp);
	char *old_md;

	build_run(&run);
	build_big_run(&other, 2000);
	ck_assert_msg(cw_reports_write(&run, tmp, "md", err, sizeof(err)) == 0, "%s", err);
	old_md = cw_test_slurp(md_path);
	/* this test runs in its own process: the limit dies with it */
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &lim), 0);
	lim.rlim_cur = 512 * 1024;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	ck_assert_int_eq(cw_reports_write(&other, tmp, NULL, err, sizeof(err)), CW_EIO);
	ck_assert_msg(strstr(err, ".tmp.") && strstr(err, ": write: "), "%s", err);
	ck_assert_uint_eq(count_entries(tmp), 1);
	CK_STR_FREE(cw_test_slurp(md_path), old_md);
	free(old_md);
	cw_run_release(&run);
	cw_run_release(&other);
	cw_test_rmtree(tmp);
	free(md_path);
	free(tmp);
}
END_TEST

/* ---- streaming pieces: buffer sink, piecewise atomic file --------------- */

struct collect {
	struct cw_buf all;
	size_t calls;
	int fail; /* the error to return, 0 = accept */
};

static int collect_sink(void *ctx, const char *data, size_t len)
{
	struct collect *c = ctx;

	c->calls++;
	if (c->fail)
		return c->fail;
	ck_assert_uint_eq(strlen(data), len); /* NUL-terminated content */
	return cw_buf_add(&c->all, data, len);
}

START_TEST(buf_sink)
{
	struct collect c = { CW_BUF_INIT, 0, 0 };
	struct cw_buf b = CW_BUF_INIT;

	cw_buf_set_sink(&b, collect_sink, &c, 8);
	ck_assert_int_eq(cw_buf_addstr(&b, "abc"), 0);        /* 3: kept */
	ck_assert_uint_eq(c.calls, 0);
	ck_assert_int_eq(cw_buf_printf(&b, "%s", "defgh"), 0); /* 8: handed on */
	ck_assert_uint_eq(c.calls, 1);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(cw_buf_str(&b), "");
	ck_assert_int_eq(cw_buf_addstr(&b, "0123456789"), 0); /* 10: handed on */
	ck_assert_int_eq(cw_buf_addch(&b, '!'), 0);
	ck_assert_uint_eq(c.calls, 2);
	ck_assert_int_eq(cw_buf_flush(&b), 0);
	ck_assert_uint_eq(c.calls, 3);
	ck_assert_int_eq(cw_buf_flush(&b), 0);                /* empty: no call */
	ck_assert_uint_eq(c.calls, 3);
	ck_assert_str_eq(cw_buf_str(&c.all), "abcdefgh0123456789!");
	/* a failing sink: the append fails, the buffer is freed, the sink dropped */
	c.fail = CW_EIO;
	ck_assert_int_eq(cw_buf_addstr(&b, "0123456789"), CW_EIO);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert(b.sink == NULL);
	cw_buf_release(&b);
	cw_buf_release(&c.all);
}
END_TEST

START_TEST(afile_pieces)
{
	char err[CW_ERRBUF] = "";
	char *tmp = cw_test_tmpdir(), *path = cw_asprintf("%s/f.txt", tmp);
	struct cw_afile f, zero;
	struct stat st;

	memset(&zero, 0, sizeof(zero));
	cw_afile_abort(&zero); /* never opened: nothing happens */
	/* aborted: the target untouched, no temporary file */
	ck_assert_int_eq(cw_write_file_atomic(path, "old\n", 4, 0644, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_afile_open(&f, path, 0600, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_afile_write(&f, "new", 3, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_afile_finish(&f, err, sizeof(err)), 0);
	ck_assert_uint_eq(count_entries(tmp), 2);
	cw_afile_abort(&f);
	ck_assert_uint_eq(count_entries(tmp), 1);
	CK_STR_FREE(cw_test_slurp(path), "old\n");
	/* committed: replaced, with the mode asked for */
	ck_assert_int_eq(cw_afile_open(&f, path, 0600, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_afile_write(&f, "new ", 4, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_afile_write(&f, "text\n", 5, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_afile_commit(&f, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_afile_write(&f, "x", 1, err, sizeof(err)), CW_ESTATE);
	cw_afile_abort(&f); /* after a commit: only frees */
	ck_assert_uint_eq(count_entries(tmp), 1);
	CK_STR_FREE(cw_test_slurp(path), "new text\n");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	/* a folder that does not exist */
	free(path);
	path = cw_asprintf("%s/no/f.txt", tmp);
	ck_assert_int_eq(cw_afile_open(&f, path, 0644, err, sizeof(err)), CW_EIO);
	ck_assert_ptr_nonnull(strstr(err, "cannot create"));
	cw_afile_abort(&f);
	cw_test_rmtree(tmp);
	free(path);
	free(tmp);
}
END_TEST

START_TEST(check_formats)
{
	char err[CW_ERRBUF];

	ck_assert_int_eq(cw_reports_check_formats("md,csv,json", err, sizeof(err)), 0);
	ck_assert_int_eq(cw_reports_check_formats("json, md", err, sizeof(err)), 0);
	ck_assert_int_eq(cw_reports_check_formats("md,md", err, sizeof(err)), 0);
	ck_assert_int_eq(cw_reports_check_formats(NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_reports_check_formats("pdf", err, sizeof(err)), CW_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "'pdf'"));
	ck_assert_int_eq(cw_reports_check_formats("", err, sizeof(err)), CW_EINVAL);
	ck_assert_int_eq(cw_reports_check_formats("md,,csv", err, sizeof(err)), CW_EINVAL);
	ck_assert_int_eq(cw_reports_check_formats("md,", err, sizeof(err)), CW_EINVAL);
	ck_assert_ptr_eq(cw_report_find("csv"), cw_reports[1]);
	ck_assert_ptr_null(cw_report_find("CSV"));
}
END_TEST

START_TEST(summary)
{
	struct cw_run run;
	struct cw_buf out = CW_BUF_INIT;
	char err[CW_ERRBUF] = "";
	char *tmp = cw_test_tmpdir();
	char *want;

	build_run(&run);
	ck_assert_int_eq(cw_report_summary(&run, tmp, &out), 0);
	ck_assert(cw_str_startswith(cw_buf_str(&out),
				    "cwsweep: 3 series, 6 judgements: 1 finding (1 anomalous "
				    "judgement), 4 ok, 1 insufficient history, 1 failure, "
				    "1 not measured; est. excess $0.41\n"
				    "  critical prod & co/us-east-1/logs|prod*_`x`[1]<b># "
				    "2014-02-14: 5.50 GB, baseline 1.00 GB (+450%), est. $0.41 "
				    "[mean7d]\n"
				    "  failed: audit/us-west-2 [assume-role AccessDenied]: "));
	/* nothing written yet: points at the folder */
	want = cw_asprintf("reports: %s\n", tmp);
	ck_assert(cw_str_endswith(cw_buf_str(&out), want));
	free(want);
	cw_buf_release(&out);

	ck_assert_int_eq(cw_reports_write(&run, tmp, "md", err, sizeof(err)), 0);
	ck_assert_int_eq(cw_report_summary(&run, tmp, &out), 0);
	want = cw_asprintf("report: %s/report.md\n", tmp);
	ck_assert(cw_str_endswith(cw_buf_str(&out), want));
	/* a newline in a name cannot start a fake line on the terminal */
	ck_assert_ptr_null(strstr(cw_buf_str(&out), "bucket\nline"));
	free(want);
	cw_buf_release(&out);

	/* a second detector flagging the same series joins its line */
	add_result(&run, run.results[0].series, "zscore", CW_STATUS_ANOMALY, CW_SEV_WARNING,
		   15, 5.5e9, 1.1e9, 2e9, 12, NULL);
	ck_assert_int_eq(cw_report_summary(&run, tmp, &out), 0);
	ck_assert_ptr_nonnull(strstr(cw_buf_str(&out), "1 finding (2 anomalous judgements)"));
	ck_assert_ptr_nonnull(strstr(cw_buf_str(&out), "(+450%), est. $0.41 [mean7d, zscore]\n"));
	ck_assert_ptr_null(strstr(cw_buf_str(&out), "more finding"));
	cw_buf_release(&out);
	cw_run_release(&run);
	cw_test_rmtree(tmp);
	free(tmp);
}
END_TEST

/* ---- reading report.json back -------------------------------------------- */

/* Write run as report.json, load it, and expect every format to render the
 * loaded run exactly as the original. */
static void round_trip(const struct cw_run *run)
{
	static const char *const fmts[] = { "md", "csv", "json" };
	char err[CW_ERRBUF] = "";
	char *tmp = cw_test_tmpdir(), *path = cw_asprintf("%s/report.json", tmp);
	struct cw_run back;
	size_t i;

	ck_assert_msg(cw_reports_write(run, tmp, "json", err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(cw_report_json_load(path, &back, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(back.nseries, run->nseries);
	ck_assert_uint_eq(back.nresults, run->nresults);
	for (i = 0; i < 3; i++) {
		char *want = render(run, fmts[i]), *got = render(&back, fmts[i]);

		ck_assert_msg(strcmp(want, got) == 0, "%s differs after the round trip:\n%s",
			      fmts[i], got);
		free(want);
		free(got);
	}
	cw_run_release(&back);
	cw_test_rmtree(tmp);
	free(path);
	free(tmp);
}

START_TEST(json_round_trip)
{
	struct cw_run run;

	build_run(&run);
	round_trip(&run);
	cw_run_release(&run);
}
END_TEST

/* Not watched buckets and coverage: every format, and back from JSON. */
START_TEST(coverage_and_not_watched)
{
	struct cw_target_id id = { .account_id = (char *)"111111111111",
				   .account_name = (char *)"prod & co",
				   .region = (char *)"us-east-1", .metric = (char *)"AWS/S3 "
				   "BytesDownloaded Sum", .unit = (char *)"Bytes" };
	struct cw_coverage c;
	struct cw_run run;
	char *md, *csv, *json;

	build_run(&run);
	id.bucket = (char *)"small|one";
	ck_assert_int_eq(cw_run_add_unwatched(&run, &id, CW_UNMEASURED_NOT_WATCHED, 2e9, 4.8,
					      "no request-metrics configuration",
					      "aws s3api put-bucket-metrics-configuration "
					      "--bucket small|one"), 0);
	id.bucket = (char *)"big";
	ck_assert_int_eq(cw_run_add_unwatched(&run, &id, CW_UNMEASURED_NOT_WATCHED, 7e12, 4.8,
					      "no request-metrics configuration",
					      "aws s3api put-bucket-metrics-configuration "
					      "--bucket big"), 0);
	memset(&c, 0, sizeof(c));
	c.account_id = (char *)"111111111111";
	c.account_name = (char *)"prod & co";
	c.buckets = 4;
	c.watched = 2;
	c.bytes = 8e12;
	c.watched_bytes = 1e12 - 2e9;
	c.complete = true;
	ck_assert_int_eq(cw_run_add_coverage(&run, &c), 0);

	md = render(&run, "md");
	ck_assert_msg(strstr(md, "**Coverage: watching 2 of 4 buckets (12% of stored bytes).**")
		      != NULL, "%s", md);
	ck_assert_msg(strstr(md, "## Not watched (2)") != NULL, "%s", md);
	ck_assert_msg(strstr(md, "| big | 7.00 TB | $4.80/month |") != NULL, "%s", md);
	ck_assert_msg(strstr(md, "small\\|one") != NULL, "escaped: %s", md);
	ck_assert(strstr(md, "| big |") < strstr(md, "small\\|one")); /* most bytes first */
	ck_assert_msg(strstr(md, "Watching all 2 would cost about $9.60 a month (est.).") != NULL,
		      "%s", md);
	ck_assert_msg(strstr(md, "## Not measured (1)") != NULL, "%s", md);
	ck_assert_msg(strstr(md, "## Coverage by account (1)") != NULL, "%s", md);
	csv = render(&run, "csv");
	ck_assert_msg(strstr(csv, ",big,AWS/S3 BytesDownloaded Sum,,,7000000000000,,,,,"
			     "not_watched,,,,Bytes,\"not_watched: no request-metrics configuration "
			     "(fix: aws s3api put-bucket-metrics-configuration --bucket big; "
			     "watching it costs about $4.80 a month, est.)") != NULL, "%s", csv);
	ck_assert(strstr(csv, ",not_found,") < strstr(csv, ",not_watched,"));
	json = render(&run, "json");
	ck_assert_msg(strstr(json, "\"not_watched\":2,\"not_found\":1,"
			     "\"coverage\":{\"buckets\":4,") != NULL, "%s", json);
	ck_assert_msg(strstr(json, "\"line\":\"watching 2 of 4 buckets (12% of stored "
			     "bytes)\"") != NULL, "%s", json);
	ck_assert_msg(strstr(json, "\"unwatched\":[") != NULL, "%s", json);
	ck_assert_msg(strstr(json, "\"watch_usd_month\":4.8,") != NULL, "%s", json);
	free(md);
	free(csv);
	free(json);
	round_trip(&run);
	cw_run_release(&run);
}
END_TEST

/* All periods judged: overlapping windows with different starts rebuild one
 * series spanning all of them. */
START_TEST(json_round_trip_all_periods)
{
	struct cw_run run;
	struct cw_target_id id = { "", "", "", "", "net_in", "", "", "" };
	double v[30];
	size_t i;

	for (i = 0; i < 30; i++)
		v[i] = i % 5 == 3 ? NAN : 100.0 + (double)(i * 7 % 11) / 3.0;
	ck_assert_int_eq(cw_run_init(&run, "analyze"), 0);
	run.all_periods = true;
	run.period = DAY;
	add_series(&run, &id, v, 30);
	for (i = 20; i < 30; i++)
		if (!isnan(v[i]))
			add_result(&run, 0, i == 27 ? "zscore" : "mean7d",
				   i == 27 ? CW_STATUS_ANOMALY : CW_STATUS_OK, CW_SEV_INFO, i,
				   v[i], 100.1, 120, 0.1 * (double)i, NULL);
	round_trip(&run);
	cw_run_release(&run);
}
END_TEST

/* A series with no datapoints at all (a get-metric-data entry without
 * values): no judged period, no history, and still a round trip. */
START_TEST(empty_series)
{
	struct cw_run run;
	struct cw_target_id id = { "", "", "", "", "empty", "", "", "" };
	struct cw_series s = { 0, 0, 0, NULL, 0, 0 };
	struct cw_judgement j = { .status = CW_STATUS_INSUFFICIENT, .value = NAN,
				  .baseline = NAN, .limit = NAN, .score = NAN };
	char *c, *js;

	ck_assert_int_eq(cw_run_init(&run, "analyze"), 0);
	ck_assert_int_eq(cw_run_add_series(&run, &id, &s, NULL), 0);
	ck_assert_int_eq(cw_run_add_result(&run, 0, "mean7d", &j, "no complete period"), 0);
	c = render(&run, "csv");
	js = render(&run, "json");
	ck_assert_ptr_nonnull(strstr(c, ",empty,mean7d,,,,,,,insufficient_history,"));
	ck_assert_ptr_null(strstr(c, "1970"));
	ck_assert_ptr_nonnull(strstr(js, "\"results\":[[0,\"mean7d\",\"insufficient_history\","
				      "null,null,"));
	ck_assert_ptr_nonnull(strstr(js, "\"series\":[[\"\",\"\",\"\",\"\",\"empty\",\"\","
				      "\"\",\"\",0,null,0,[]]]"));
	round_trip(&run);
	free(c);
	free(js);
	cw_run_release(&run);
}
END_TEST

/* A copy of s with the first `from` replaced by `to` (which must occur). */
static char *replace_first(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	char *out;

	ck_assert_ptr_nonnull(at);
	out = cw_asprintf("%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
	ck_assert_ptr_nonnull(out);
	return out;
}

static void load_error(const char *text, int want_rc, const char *needle)
{
	char err[CW_ERRBUF] = "";
	char *tmp = cw_test_tmpdir(), *path = cw_test_write(tmp, "r.json", text);
	struct cw_run run;

	ck_assert_int_eq(cw_report_json_load(path, &run, err, sizeof(err)), want_rc);
	ck_assert_msg(strstr(err, needle) != NULL, "'%s' not in '%s'", needle, err);
	ck_assert_msg(cw_str_startswith(err, path), "'%s' does not name the file", err);
	ck_assert_uint_eq(run.nresults, 0);
	cw_test_rmtree(tmp);
	free(path);
	free(tmp);
}

/* good with its first `from` replaced by `to` fails to load, saying needle. */
static void broken(const char *good, const char *from, const char *to, const char *needle)
{
	char *bad = replace_first(good, from, to);

	load_error(bad, CW_EPARSE, needle);
	free(bad);
}

START_TEST(json_load_errors)
{
	struct cw_run run;
	char err[CW_ERRBUF] = "";
	char *good;

	load_error("{\"schema\": ", CW_EPARSE, "r.json:1:");
	load_error("{\"schema\": \"other/2\"}", CW_EPARSE, "not a cwsweep report");
	load_error("[1]", CW_EPARSE, "not a cwsweep report");
	ck_assert_int_ne(cw_report_json_load("/nonexistent/r.json", &run, err, sizeof(err)), 0);

	/* a valid report with one thing broken at a time */
	build_run(&run);
	good = render(&run, "json");
	cw_run_release(&run);
	broken(good, ",\"anomaly\",", ",\"anomalx\",",
	       "results[0].status: not a known status");
	broken(good, "[0,\"mean7d\",", "[0,\"mean7x\",",
	       "results[0].detector: not a known detector");
	broken(good, ",5500000000,1000000000,", ",\"55000000\",1000000000,",
	       "results[0].value: expected a number or null");
	/* the series references: in range, none unused */
	broken(good, "\"results\":[[0,", "\"results\":[[9,",
	       "results[0].series: out of range");
	broken(good, "\"series\":[", "\"series\":[[\"\",\"\",\"\",\"\",\"x\","
	       "\"\",\"\",\"\",0,null,0,[]],",
	       "series[3]: no result refers to it");
	broken(good, "[123456789012,42]", "[123456789012,\"42\"]",
	       "series[1].values: expected numbers or null");
	broken(good, "[123456789012,42]", "[123456789012]",
	       "series[1].values: expected null or an array of `slots` numbers");
	broken(good, "[123456789012,42]", "\"x\"",
	       "series[1].values: expected null or an array of `slots` numbers");
	broken(good, "\"series\":[", "\"seriez\":[",
	       "series: expected an array");
	broken(good, "\"result_columns\":[", "\"result_columns\":[1,",
	       "result_columns: expected an array of column names");
	broken(good, "\"results\":[[0,", "\"results\":[{},[0,",
	       "results[0]: expected an array");
	free(good);
}
END_TEST

/* A report.json of the older schemas (/1: per-result history; /2: the
 * history of every series, names with each result) still loads, and the
 * loaded run renders as the run it came from. */
START_TEST(json_load_old)
{
	static const char *const fmts[][2] = {
		{ "md", "report.md" }, { "csv", "report.csv" }, { "json", "report.json" },
	};
	static const char *const files[] = { "tests/data/report_v1.json",
					     "tests/data/report_v2.json" };
	char err[CW_ERRBUF] = "";
	char *path = cw_test_src(files[_i]);
	struct cw_run run;
	size_t i;

	ck_assert_msg(cw_report_json_load(path, &run, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(run.nseries, 3);
	ck_assert_uint_eq(run.nresults, 6);
	for (i = 0; i < 3; i++) {
		char *rel = cw_asprintf("tests/data/golden/%s", fmts[i][1]);
		char *gpath = cw_test_src(rel);
		char *want = cw_test_slurp(gpath), *got = render(&run, fmts[i][0]);

		ck_assert_ptr_nonnull(want);
		ck_assert_msg(strcmp(want, got) == 0, "%s from %s differs:\n%s", fmts[i][1],
			      files[_i], got);
		free(want);
		free(got);
		free(gpath);
		free(rel);
	}
	cw_run_release(&run);
	free(path);
}
END_TEST

/* A series the run kept no values of (a lean run: no finding) is written
 * with values null and read back as a series of that span without values;
 * the loaded run writes the same report.json again. */
START_TEST(json_without_values)
{
	char err[CW_ERRBUF] = "";
	char *tmp = cw_test_tmpdir(), *path = cw_asprintf("%s/report.json", tmp);
	struct cw_run run, back;
	char *a, *b;

	build_run(&run);
	free(run.series[1].series.values); /* the steady bucket: no finding */
	run.series[1].series.values = NULL;
	a = render(&run, "json");
	ck_assert_ptr_nonnull(strstr(a, ",86400,\"2014-02-01T00:00:00Z\",14,null]"));
	ck_assert_msg(cw_reports_write(&run, tmp, "json", err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(cw_report_json_load(path, &back, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(back.nseries, 3);
	ck_assert_uint_eq(back.series[2].series.n, 14); /* the file's order */
	ck_assert_ptr_null(back.series[2].series.values);
	ck_assert_ptr_nonnull(back.series[0].series.values);
	b = render(&back, "json");
	ck_assert_str_eq(a, b);
	free(render(&back, "md")); /* renders without values */
	free(a);
	free(b);
	cw_run_release(&back);
	cw_run_release(&run);
	cw_test_rmtree(tmp);
	free(path);
	free(tmp);
}
END_TEST

/* A file that kept no values of a series with a finding (written so, or
 * edited by hand) still loads: the finding's chart gets gaps, whatever
 * else the series' results say. */
START_TEST(json_finding_without_values)
{
	char err[CW_ERRBUF] = "";
	struct cw_run run, back;
	size_t i, anomalies = 0;
	char *a;

	build_run(&run);
	free(run.series[0].series.values); /* the spiky bucket: anomaly and ok */
	run.series[0].series.values = NULL;
	a = render(&run, "json");
	ck_assert_msg(cw_report_json_parse("r.json", a, strlen(a), &back, err, sizeof(err)) == 0,
		      "%s", err);
	for (i = 0; i < back.nresults; i++) {
		const struct cw_series *s = &back.series[back.results[i].series].series;

		if (back.results[i].j.status != CW_STATUS_ANOMALY)
			continue;
		anomalies++;
		ck_assert_uint_gt(s->n, 0);
		ck_assert_ptr_nonnull(s->values);
		for (size_t k = 0; k < s->n; k++)
			ck_assert(isnan(s->values[k]));
	}
	ck_assert_uint_eq(anomalies, 1);
	free(render(&back, "md"));
	free(a);
	cw_run_release(&back);
	cw_run_release(&run);
}
END_TEST

static Suite *reports_suite(void)
{
	Suite *s = suite_create("reports");
	TCase *golden = tcase_create("golden");
	TCase *esc = tcase_create("escape");
	TCase *fmt = tcase_create("format");
	TCase *io = tcase_create("write");

	tcase_add_test(golden, golden_md);
	tcase_add_test(golden, golden_csv);
	tcase_add_test(golden, golden_json);
	tcase_add_test(golden, golden_html);
	tcase_add_test(golden, html_hostile_names);
	tcase_add_test(golden, xlsx_package);
	suite_add_tcase(s, golden);

	tcase_add_test(esc, md_escape);
	tcase_add_test(esc, utf8_len);
	tcase_add_test(esc, csv_quoting);
	tcase_add_test(esc, csv_formula_guard);
	tcase_add_test(esc, json_escape);
	tcase_add_test(esc, term_escape);
	suite_add_tcase(s, esc);

	tcase_add_test(fmt, sparkline);
	tcase_add_test(fmt, human_numbers);
	tcase_add_test(fmt, change_pct);
	tcase_add_test(fmt, window);
	tcase_add_test(fmt, machine_numbers);
	tcase_add_test(fmt, csv_shape);
	tcase_add_test(fmt, json_parses);
	tcase_add_test(fmt, json_pretty);
	tcase_add_test(fmt, md_content);
	tcase_add_test(fmt, md_caps_anomalies);
	tcase_add_test(fmt, md_movers);
	suite_add_tcase(s, fmt);

	tcase_add_test(io, write_all);
	tcase_add_test(io, write_some_and_bad);
	tcase_add_test(io, write_streams);
	tcase_add_test(io, write_failure_changes_nothing);
	tcase_add_test(io, write_error_changes_nothing);
	tcase_add_test(io, buf_sink);
	tcase_add_test(io, afile_pieces);
	tcase_add_test(io, check_formats);
	tcase_add_test(io, summary);
	tcase_add_test(io, json_round_trip);
	tcase_add_test(io, coverage_and_not_watched);
	tcase_add_test(io, json_round_trip_all_periods);
	tcase_add_test(io, empty_series);
	tcase_add_test(io, json_load_errors);
	tcase_add_test(io, json_finding_without_values);
	tcase_add_test(io, json_without_values);
	tcase_add_loop_test(io, json_load_old, 0, 2);
	suite_add_tcase(s, io);
	return s;
}

int main(void)
{
	return cw_test_run_suite(reports_suite());
}
