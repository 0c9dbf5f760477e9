/*
 * check_slack.c - the Slack digest payload: its shape, the order of the
 * findings, escaping of outside text (a bucket named "<!channel>" or
 * "<https://evil|click>"), Slack's limits at and past 50 blocks, 3,000
 * characters per section and 40,000 in all, the announce array with
 * resolved alerts, nothing to send when all is clear, money formatting.
 * Every payload is parsed back with jansson and checked there.
 */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "run.h"
#include "slack.h"
#include "strutil.h"
#include "testlib.h"

#define DAY 86400
#define T0 (19675 * (int64_t)DAY)
#define GB 1e9

static size_t add_series_m(struct cw_run *run, const char *acct_id, const char *acct_name,
			   const char *bucket, const char *metric)
{
	struct cw_target_id id = { .account_id = (char *)acct_id,
				   .account_name = (char *)acct_name,
				   .region = (char *)"us-east-1", .bucket = (char *)bucket,
				   .metric = (char *)metric, .unit = (char *)"Bytes" };
	struct cw_series s;
	size_t idx;

	ck_assert_int_eq(cw_series_init(&s, T0, DAY, 20), 0);
	for (size_t i = 0; i < 20; i++)
		s.values[i] = i == 19 ? 800 * GB : 100 * GB;
	ck_assert_int_eq(cw_run_add_series(run, &id, &s, &idx), 0);
	return idx;
}

static size_t add_series(struct cw_run *run, const char *acct_id, const char *acct_name,
			 const char *bucket)
{
	return add_series_m(run, acct_id, acct_name, bucket, "AWS/S3 BytesDownloaded Sum");
}

/* An anomaly (or ok result) on the last day; returns its index. */
static size_t add_result(struct cw_run *run, size_t series, enum cw_status st,
			 double value, double baseline, double usd)
{
	struct cw_judgement j = { .status = st, .severity = CW_SEV_WARNING,
				  .period_start = T0 + 19 * DAY, .value = value,
				  .baseline = baseline, .limit = baseline * 2, .score = NAN };

	ck_assert_int_eq(cw_run_add_result(run, series, "mean7d", &j, NULL), 0);
	run->results[run->nresults - 1].est_excess_usd = usd;
	return run->nresults - 1;
}

static void add_failure(struct cw_run *run, const char *acct, const char *code,
			const char *msg)
{
	struct cw_target_id id = { .account_id = (char *)acct, .account_name = (char *)"",
				   .region = (char *)"us-east-1" };

	ck_assert_int_eq(cw_run_add_failure(run, &id, "assume-role", code, msg), 0);
}

static void new_run(struct cw_run *run)
{
	ck_assert_int_eq(cw_run_init(run, "run"), 0);
	free(run->run_id);
	run->run_id = cw_strdup("20261126T031500Z-4f2a");
	run->started = T0 + 20 * DAY + 3 * 3600;
	run->accounts = 2;
	run->regions = 1;
}

/* Build the digest and parse it; NULL when nothing was produced. */
static json_t *digest(const struct cw_run *run, const bool *announce,
		      const struct cw_slack_opts *o, struct cw_buf *b)
{
	char err[CW_ERRBUF] = "";
	json_error_t je;
	json_t *root;

	cw_buf_init(b, 0);
	ck_assert_msg(cw_slack_digest(run, announce, o, b, err, sizeof(err)) == 0, "%s", err);
	if (b->len == 0)
		return NULL;
	root = json_loads(cw_buf_str(b), 0, &je);
	ck_assert_msg(root != NULL, "not JSON: %s", je.text);
	return root;
}

static const char *block_type(json_t *root, size_t i)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(root, "blocks"),
								i), "type"));
}

/* The text of block i (section/header text, or the context's element). */
static const char *block_text(json_t *root, size_t i)
{
	json_t *b = json_array_get(json_object_get(root, "blocks"), i);
	json_t *t = json_object_get(b, "text");

	if (!t)
		t = json_array_get(json_object_get(b, "elements"), 0);
	return json_string_value(json_object_get(t, "text"));
}

static size_t nblocks(json_t *root)
{
	return json_array_size(json_object_get(root, "blocks"));
}

/* Slack's limits, for every payload a test makes. */
static void check_limits(json_t *root)
{
	size_t n = nblocks(root), total;
	const char *text = json_string_value(json_object_get(root, "text"));

	ck_assert_ptr_nonnull(text);
	ck_assert_uint_gt(strlen(text), 0);
	total = strlen(text);
	ck_assert_uint_le(n, 50);
	for (size_t i = 0; i < n; i++) {
		const char *type = block_type(root, i);
		const char *t = block_text(root, i);

		if (strcmp(type, "divider") == 0)
			continue;
		ck_assert_ptr_nonnull(t);
		if (strcmp(type, "header") == 0)
			ck_assert_uint_le(strlen(t), 150);
		else
			ck_assert_uint_le(strlen(t), 3000);
		total += strlen(t);
	}
	ck_assert_uint_le(total, 40000);
}

/*
 * The header's count of findings is the body's: the numbered finding
 * sections plus the "*N more findings, by account*" roll-up.
 */
static void check_counts(json_t *root)
{
	const char *h = block_text(root, 0);
	size_t want = 0, got = 0, n = nblocks(root);

	if (sscanf(h, "cwsweep: %zu finding", &want) != 1)
		want = 0;
	for (size_t i = 1; i < n; i++) {
		const char *t = block_text(root, i);
		size_t k, more;

		if (!t || strcmp(block_type(root, i), "section") != 0)
			continue;
		int used = 0;

		if (sscanf(t, "*%zu.*%n", &k, &used) == 1 && used > 0)
			got++;
		else if (sscanf(t, "*%zu more finding%n", &more, &used) == 1 && used > 0)
			got += more;
	}
	ck_assert_uint_eq(got, want);
}

/* Every < in the payload opens a link cwsweep made: <https://...|text>. */
static void check_only_own_links(const char *all)
{
	size_t open = 0, close = 0;

	for (const char *p = all; (p = strchr(p, '<')); p++) {
		const char *end = strchr(p, '>'), *bar = strchr(p, '|');

		ck_assert_msg(cw_str_startswith(p, "<https://"), "a raw < at %.40s", p);
		ck_assert_ptr_nonnull(end);
		ck_assert_ptr_nonnull(bar);
		ck_assert(bar < end);
		ck_assert_ptr_null(memchr(p + 1, '<', (size_t)(end - p - 1)));
		open++;
	}
	for (const char *p = all; (p = strchr(p, '>')); p++)
		close++;
	ck_assert_uint_eq(open, close);
}

START_TEST(test_shape_and_order)
{
	struct cw_run run;
	struct cw_buf b;
	struct cw_slack_opts o = { .report_path = "./cwsweep-report/report.md" };
	json_t *root;
	size_t n;

	new_run(&run);
	/* priced lower but larger excess, priced higher, unpriced */
	add_result(&run, add_series(&run, "111111111111", "prod", "small-usd"),
		   CW_STATUS_ANOMALY, 900 * GB, 100 * GB, 12.5);
	add_result(&run, add_series(&run, "111111111111", "prod", "big-usd"),
		   CW_STATUS_ANOMALY, 800 * GB, 100 * GB, 1234.5);
	add_result(&run, add_series(&run, "222222222222", "", "no-usd"),
		   CW_STATUS_ANOMALY, 5000 * GB, 100 * GB, NAN);
	add_result(&run, add_series(&run, "222222222222", "", "fine"),
		   CW_STATUS_OK, 100 * GB, 100 * GB, NAN);
	add_failure(&run, "333333333333", "AccessDenied", "not authorized to assume");
	run.total_excess_usd = 1247.0;
	free(run.price_note);
	run.price_note = cw_strdup("Estimated, not a bill: priced at $0.09/GB");

	root = digest(&run, NULL, &o, &b);
	ck_assert_ptr_nonnull(root);
	check_limits(root);
	n = nblocks(root);
	/* header, summary, divider, 3 findings, divider, failures, footer */
	ck_assert_uint_eq(n, 9);
	ck_assert_str_eq(block_type(root, 0), "header");
	ck_assert_str_eq(block_text(root, 0), "cwsweep: 3 findings, 1 failure");
	ck_assert_str_eq(block_type(root, 1), "section");
	ck_assert_ptr_nonnull(strstr(block_text(root, 1), "*2* accounts"));
	ck_assert_ptr_nonnull(strstr(block_text(root, 1), "*4* series judged"));
	ck_assert_ptr_nonnull(strstr(block_text(root, 1), "*3* findings"));
	ck_assert_ptr_nonnull(strstr(block_text(root, 1), "*1* failure"));
	ck_assert_ptr_nonnull(strstr(block_text(root, 1), "Estimated excess: *$1,247.00 (est.)*"));
	ck_assert_ptr_null(strstr(block_text(root, 1), "announced"));
	ck_assert_str_eq(block_type(root, 2), "divider");
	/* by dollars first: big-usd, small-usd, then the unpriced one */
	ck_assert_ptr_nonnull(strstr(block_text(root, 3), "*1.* `prod` (111111111111)"));
	ck_assert_ptr_nonnull(strstr(block_text(root, 3), "`big-usd`"));
	ck_assert_ptr_nonnull(strstr(block_text(root, 3), "*$1,234.50 (est.)*"));
	ck_assert_ptr_nonnull(strstr(block_text(root, 3), "*800 GB* vs 100 GB baseline (*+700%*)"));
	/* the sparkline: 19 x 100 GB then 800 GB, last 14 shown */
	ck_assert_ptr_nonnull(strstr(block_text(root, 3),
				     "`\xe2\x96\x82\xe2\x96\x82\xe2\x96\x82\xe2\x96\x82"
				     "\xe2\x96\x82\xe2\x96\x82\xe2\x96\x82\xe2\x96\x82"
				     "\xe2\x96\x82\xe2\x96\x82\xe2\x96\x82\xe2\x96\x82"
				     "\xe2\x96\x82\xe2\x96\x88`"));
	ck_assert_ptr_nonnull(strstr(block_text(root, 4), "`small-usd`"));
	ck_assert_ptr_nonnull(strstr(block_text(root, 5), "`no-usd`"));
	ck_assert_ptr_null(strstr(block_text(root, 5), "(est.)"));
	ck_assert_str_eq(block_type(root, 6), "divider");
	ck_assert_ptr_nonnull(strstr(block_text(root, 7), "*1 failure*\n"));
	ck_assert_ptr_nonnull(strstr(block_text(root, 7), "\xe2\x80\xa2 `assume-role` "
				     "`AccessDenied`: 1 failure in 1 account (`333333333333` "
				     "\xc2\xb7 `us-east-1`): `not authorized to assume`"));
	ck_assert_str_eq(block_type(root, 8), "context");
	/* the price note, short, once; the local report called local */
	ck_assert_ptr_nonnull(strstr(block_text(root, 8), "Dollar figures are estimates: excess "
				     "bytes at the account's S3 data-transfer-out rate, not a bill"));
	ck_assert_ptr_null(strstr(block_text(root, 8), "$0.09/GB"));
	ck_assert_ptr_nonnull(strstr(block_text(root, 8), "see the report (a local file on the "
				     "host that ran cwsweep: `./cwsweep-report/report.md`)"));
	/* console links on the finding */
	ck_assert_ptr_nonnull(strstr(block_text(root, 3), "\n<https://us-east-1.console.aws."
				     "amazon.com/cloudwatch/home?region=us-east-1#metricsV2:graph="));
	ck_assert_ptr_nonnull(strstr(block_text(root, 3), "|CloudWatch graph> \xc2\xb7 "
				     "<https://s3.console.aws.amazon.com/s3/buckets/big-usd?region="
				     "us-east-1&amp;tab=metrics|S3 bucket>"));
	check_counts(root);
	/* the fallback text: headline, the dollars, the top three */
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(root, "text")),
				     "cwsweep: 3 findings, 1 failure; estimated excess "
				     "$1,247.00 (est.)\n\xe2\x80\xa2 `prod` (111111111111)"));
	json_decref(root);
	cw_buf_release(&b);
	cw_run_release(&run);
}
END_TEST

START_TEST(test_escaping)
{
	struct cw_run run;
	struct cw_buf b;
	json_t *root;
	char *all;

	new_run(&run);
	add_result(&run, add_series(&run, "111111111111", "a&b *bold* _it_", "<!channel>"),
		   CW_STATUS_ANOMALY, 800 * GB, 100 * GB, 2);
	add_result(&run, add_series(&run, "111111111111", "x`y", "<https://evil|click>"),
		   CW_STATUS_ANOMALY, 800 * GB, 100 * GB, 1);
	add_failure(&run, "2", "<!here>", "line1\nline2 <@U123> & \xff bad");
	root = digest(&run, NULL, NULL, &b);
	ck_assert_ptr_nonnull(root);
	check_limits(root);
	/* no raw < or > anywhere in the payload: nothing can ping or link */
	all = json_dumps(root, 0);
	check_only_own_links(all);
	ck_assert_ptr_null(strstr(all, "<!"));
	ck_assert_ptr_null(strstr(all, "<@"));
	ck_assert_ptr_null(strstr(all, "<https://evil"));
	free(all);
	ck_assert_ptr_nonnull(strstr(block_text(root, 3), "`a&amp;b *bold* _it_`"));
	ck_assert_ptr_nonnull(strstr(block_text(root, 3), "`&lt;!channel&gt;`"));
	/* a backtick cannot end the code span early */
	ck_assert_ptr_nonnull(strstr(block_text(root, 4), "`x\xcb\x8by`"));
	ck_assert_ptr_nonnull(strstr(block_text(root, 4), "`&lt;https://evil|click&gt;`"));
	/* line break flattened, bad byte replaced */
	ck_assert_ptr_nonnull(strstr(block_text(root, 6), "`&lt;!here&gt;`: 1 failure in 1 "
				     "account (`2` \xc2\xb7 `us-east-1`): `line1 line2 "
				     "&lt;@U123&gt; &amp; \xef\xbf\xbd bad`"));
	json_decref(root);
	cw_buf_release(&b);
	cw_run_release(&run);
}
END_TEST

START_TEST(test_escape_function)
{
	struct cw_buf b;

	cw_buf_init(&b, 0);
	ck_assert_int_eq(cw_slack_escape(&b, "a<b>&c", 0), 0);
	ck_assert_str_eq(cw_buf_str(&b), "a&lt;b&gt;&amp;c");
	cw_buf_reset(&b);
	/* cut at 10 bytes: 7 of text, never half an entity, then the ellipsis */
	ck_assert_int_eq(cw_slack_escape(&b, "abcde&fghij", 10), 0);
	ck_assert_str_eq(cw_buf_str(&b), "abcde\xe2\x80\xa6");
	cw_buf_reset(&b);
	/* exactly at the limit: no cut */
	ck_assert_int_eq(cw_slack_escape(&b, "abcd&", 9), 0);
	ck_assert_str_eq(cw_buf_str(&b), "abcd&amp;");
	cw_buf_reset(&b);
	/* never half a UTF-8 character */
	ck_assert_int_eq(cw_slack_escape(&b, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 6), 0);
	ck_assert_str_eq(cw_buf_str(&b), "\xc3\xa9\xe2\x80\xa6");
	cw_buf_reset(&b);
	ck_assert_int_eq(cw_slack_escape(&b, NULL, 0), 0);
	ck_assert_str_eq(cw_buf_str(&b), "");
	cw_buf_release(&b);
}
END_TEST

START_TEST(test_money)
{
	char buf[64];

	ck_assert_str_eq(cw_slack_money(1234.56, buf, sizeof(buf)), "$1,234.56 (est.)");
	ck_assert_str_eq(cw_slack_money(0, buf, sizeof(buf)), "$0.00 (est.)");
	ck_assert_str_eq(cw_slack_money(0.004, buf, sizeof(buf)), "$0.00 (est.)");
	ck_assert_str_eq(cw_slack_money(0.005, buf, sizeof(buf)), "$0.01 (est.)");
	ck_assert_str_eq(cw_slack_money(999.999, buf, sizeof(buf)), "$1,000.00 (est.)");
	ck_assert_str_eq(cw_slack_money(1234567.891, buf, sizeof(buf)), "$1,234,567.89 (est.)");
	ck_assert_str_eq(cw_slack_money(100, buf, sizeof(buf)), "$100.00 (est.)");
	ck_assert_str_eq(cw_slack_money(NAN, buf, sizeof(buf)), "n/a");
}
END_TEST

/* n anomalies with falling dollar figures; name_len > 0: long names. */
static void many(struct cw_run *run, size_t n, size_t name_len)
{
	char *name = malloc(name_len + 32);

	for (size_t i = 0; i < n; i++) {
		size_t k = snprintf(name, 32, "bucket-%03zu-", i);

		for (; k < name_len; k++)
			name[k] = k % 7 ? 'x' : '&'; /* & grows 5x when escaped */
		name[k] = '\0';
		add_result(run, add_series_m(run, "111111111111", name, name,
					     name_len ? name : "AWS/S3 BytesDownloaded Sum"),
			   CW_STATUS_ANOMALY, 800 * GB, 100 * GB, 1000.0 - (double)i);
	}
	free(name);
}

START_TEST(test_default_max_findings)
{
	struct cw_run run;
	struct cw_buf b;
	json_t *root;

	new_run(&run);
	many(&run, 25, 0);
	root = digest(&run, NULL, NULL, &b);
	check_limits(root);
	/* header, summary, divider, 10 findings, more, footer (run id) */
	ck_assert_uint_eq(nblocks(root), 15);
	ck_assert_ptr_nonnull(strstr(block_text(root, 12), "*10.*"));
	ck_assert_ptr_nonnull(strstr(block_text(root, 12), "`bucket-009-`"));
	ck_assert_str_eq(block_type(root, 13), "section");
	ck_assert_str_eq(block_text(root, 13), "*15 more findings, by account*\n"
			 "\xe2\x80\xa2 `bucket-010-` (111111111111): 15 findings, $14,745.00 (est.)\n"
			 "see the report");
	check_counts(root);
	json_decref(root);
	cw_buf_release(&b);
	cw_run_release(&run);
}
END_TEST

START_TEST(test_fifty_blocks)
{
	struct cw_run run;
	struct cw_buf b;
	struct cw_slack_opts o = { .max_findings = 1000, .report_path = "r/report.md" };
	json_t *root;
	bool *announce;

	new_run(&run);
	many(&run, 100, 0);
	add_failure(&run, "2", "AccessDenied", "no");
	free(run.price_note);
	run.price_note = cw_strdup("note");
	/* one resolved alert (status ok) announced, the others all anomalies */
	add_result(&run, add_series(&run, "3", "", "quiet-now"), CW_STATUS_OK, 1, 1, NAN);
	run.results[run.nresults - 1].alert = CW_ALERT_RESOLVED;
	announce = malloc(run.nresults * sizeof(*announce));
	for (size_t i = 0; i < run.nresults; i++)
		announce[i] = true;

	root = digest(&run, announce, &o, &b);
	check_limits(root);
	/* exactly at the limit: 3 + 42 findings + more + divider, resolved,
	 * failures, footer */
	ck_assert_uint_eq(nblocks(root), 50);
	ck_assert_ptr_nonnull(strstr(block_text(root, 44), "*42.*"));
	ck_assert(cw_str_startswith(block_text(root, 45), "*58 more findings, by account*\n"));
	ck_assert(cw_str_endswith(block_text(root, 45), "see the report (a local file on the "
				  "host that ran cwsweep: `r/report.md`)"));
	check_counts(root);
	ck_assert_ptr_nonnull(strstr(block_text(root, 47), "*Resolved* (1): `3`"));
	ck_assert_ptr_nonnull(strstr(block_text(root, 47), "`quiet-now` (mean7d)"));
	ck_assert_ptr_nonnull(strstr(block_text(root, 48), "*1 failure*"));
	ck_assert_str_eq(block_type(root, 49), "context");
	ck_assert_str_eq(block_text(root, 0), "cwsweep: 100 findings, 1 failure, 1 resolved");
	ck_assert_ptr_nonnull(strstr(block_text(root, 1), "*100* findings (*100* announced)"));
	json_decref(root);
	cw_buf_release(&b);
	free(announce);
	cw_run_release(&run);
}
END_TEST

START_TEST(test_fifty_blocks_findings_only)
{
	struct cw_run run;
	struct cw_buf b;
	struct cw_slack_opts o = { .max_findings = 1000, .report_path = "r/report.md" };
	json_t *root;

	new_run(&run);
	many(&run, 100, 0);
	/* 45 fit when nothing else is said: 3 + 45 + more + footer = 50 */
	root = digest(&run, NULL, &o, &b);
	check_limits(root);
	ck_assert_uint_eq(nblocks(root), 50);
	ck_assert_ptr_nonnull(strstr(block_text(root, 47), "*45.*"));
	ck_assert(cw_str_startswith(block_text(root, 48), "*55 more findings, by account*\n"));
	check_counts(root);
	ck_assert_str_eq(block_type(root, 49), "context");
	json_decref(root);
	cw_buf_release(&b);
	cw_run_release(&run);
}
END_TEST

START_TEST(test_exactly_fits_no_more_line)
{
	struct cw_run run;
	struct cw_buf b;
	struct cw_slack_opts o = { .max_findings = 1000 };
	json_t *root;

	new_run(&run);
	free(run.run_id);
	run.run_id = cw_strdup(""); /* no footer */
	many(&run, 47, 0); /* header, summary, divider + 47 = 50 */
	root = digest(&run, NULL, &o, &b);
	check_limits(root);
	ck_assert_uint_eq(nblocks(root), 50);
	ck_assert_ptr_nonnull(strstr(block_text(root, 49), "*47.*"));
	json_decref(root);
	cw_buf_release(&b);
	many(&run, 1, 0); /* one past: 46 shown and "...and 2 more" */
	root = digest(&run, NULL, &o, &b);
	check_limits(root);
	ck_assert_uint_eq(nblocks(root), 50);
	ck_assert_str_eq(block_text(root, 49), "*2 more findings, by account*\n"
			 "\xe2\x80\xa2 `bucket-045-` (111111111111): 2 findings, $1,909.00 (est.)\n"
			 "see the report");
	check_counts(root);
	json_decref(root);
	cw_buf_release(&b);
	cw_run_release(&run);
}
END_TEST

START_TEST(test_long_names_and_total)
{
	struct cw_run run;
	struct cw_buf b;
	struct cw_slack_opts o = { .max_findings = 1000 };
	json_t *root;
	char *msg = malloc(20001);
	size_t n;

	new_run(&run);
	many(&run, 60, 5000);
	memset(msg, '<', 20000);
	msg[20000] = '\0';
	for (int i = 0; i < 300; i++)
		add_failure(&run, "2", msg, msg);
	root = digest(&run, NULL, &o, &b);
	check_limits(root);
	/* the names are cut, with an ellipsis, inside their code span */
	ck_assert_ptr_nonnull(strstr(block_text(root, 3), "x\xe2\x80\xa6`"));
	/* the total stopped the findings well before the 42 blocks allow:
	 * header, summary, divider, findings, more, divider, failures, footer */
	n = nblocks(root);
	ck_assert_uint_lt(n, 7 + 36);
	{
		char want[64];

		snprintf(want, sizeof(want), "*%zu more findings, by account*", 60 - (n - 7));
		ck_assert(cw_str_startswith(block_text(root, n - 4), want));
	}
	check_counts(root);
	/* failures: one cause, its message cut */
	ck_assert_ptr_nonnull(strstr(block_text(root, n - 2), "*300 failures*"));
	ck_assert_ptr_nonnull(strstr(block_text(root, n - 2), ": 300 failures in 1 account ("));
	json_decref(root);
	cw_buf_release(&b);
	free(msg);
	cw_run_release(&run);
}
END_TEST

START_TEST(test_announce_subset)
{
	struct cw_run run;
	struct cw_buf b;
	bool announce[4] = { false, true, false, true };
	json_t *root;

	new_run(&run);
	add_result(&run, add_series(&run, "1", "", "ongoing-a"), CW_STATUS_ANOMALY,
		   800 * GB, 100 * GB, 5);
	add_result(&run, add_series(&run, "1", "", "new-b"), CW_STATUS_ANOMALY,
		   800 * GB, 100 * GB, 4);
	run.results[1].alert = CW_ALERT_NEW;
	add_result(&run, add_series(&run, "1", "", "gone-c"), CW_STATUS_OK, 1, 1, NAN);
	run.results[2].alert = CW_ALERT_RESOLVED; /* not announced */
	add_result(&run, add_series(&run, "1", "", "gone-d"), CW_STATUS_OK, 1, 1, NAN);
	run.results[3].alert = CW_ALERT_RESOLVED;
	root = digest(&run, announce, NULL, &b);
	check_limits(root);
	ck_assert_str_eq(block_text(root, 0), "cwsweep: 1 finding, 1 resolved");
	/* header, summary, divider, new-b, divider, resolved, footer */
	ck_assert_uint_eq(nblocks(root), 7);
	ck_assert_ptr_nonnull(strstr(block_text(root, 3), "`new-b`"));
	ck_assert_ptr_nonnull(strstr(block_text(root, 3), "\xc2\xb7 *new*"));
	ck_assert_ptr_nonnull(strstr(block_text(root, 5), "*Resolved* (1): `1` \xc2\xb7 "
				     "`us-east-1` \xc2\xb7 `gone-d` (mean7d)"));
	ck_assert_ptr_null(strstr(cw_buf_str(&b), "gone-c"));
	ck_assert_ptr_null(strstr(cw_buf_str(&b), "ongoing-a"));
	json_decref(root);
	cw_buf_release(&b);

	/* the state module says nothing is new: nothing to send */
	memset(announce, 0, sizeof(announce));
	ck_assert_ptr_null(digest(&run, announce, NULL, &b));
	ck_assert_uint_eq(b.len, 0);
	cw_buf_release(&b);
	cw_run_release(&run);
}
END_TEST

START_TEST(test_all_clear)
{
	struct cw_run run;
	struct cw_buf b;
	struct cw_slack_opts o = { .post_when_clear = true };
	json_t *root;

	new_run(&run);
	add_result(&run, add_series(&run, "1", "", "fine"), CW_STATUS_OK, 1, 1, NAN);
	/* default: nothing to send */
	ck_assert_ptr_null(digest(&run, NULL, NULL, &b));
	ck_assert_uint_eq(b.len, 0);
	cw_buf_release(&b);
	/* asked for: a short all-clear */
	root = digest(&run, NULL, &o, &b);
	check_limits(root);
	ck_assert_str_eq(block_text(root, 0), "cwsweep: all clear");
	ck_assert_str_eq(json_string_value(json_object_get(root, "text")), "cwsweep: all clear");
	ck_assert_uint_eq(nblocks(root), 3); /* header, summary, footer (run id) */
	json_decref(root);
	cw_buf_release(&b);
	cw_run_release(&run);
}
END_TEST

START_TEST(test_failures_only)
{
	struct cw_run run;
	struct cw_buf b;
	json_t *root;

	new_run(&run);
	for (int i = 0; i < 15; i++)
		add_failure(&run, "2", "Throttling", "Rate exceeded");
	root = digest(&run, NULL, NULL, &b);
	check_limits(root);
	ck_assert_str_eq(block_text(root, 0), "cwsweep: 15 failures");
	/* header, summary, divider, failures, footer */
	ck_assert_uint_eq(nblocks(root), 5);
	/* one cause, 15 failures: named once, the first targets listed */
	ck_assert_str_eq(block_text(root, 3), "*15 failures*\n\xe2\x80\xa2 `assume-role` "
			 "`Throttling`: 15 failures in 1 account (`2` \xc2\xb7 `us-east-1`, "
			 "`2` \xc2\xb7 `us-east-1`, `2` \xc2\xb7 `us-east-1`, \xe2\x80\xa6): "
			 "`Rate exceeded`");
	json_decref(root);
	cw_buf_release(&b);
	cw_run_release(&run);
}
END_TEST

/* Hundreds of accounts: the roll-up stops at the section limit and counts
 * the rest; a report URL replaces the local path. */
START_TEST(test_rollup_many_accounts)
{
	struct cw_run run;
	struct cw_buf b;
	struct cw_slack_opts o = { .max_findings = 5, .report_path = "/srv/out/report.md",
				   .report_url = "https://reports.example.com/r1/report.html" };
	json_t *root;
	char id[16], *all;

	new_run(&run);
	for (int i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "%012d", 100000 + i);
		add_result(&run, add_series(&run, id, "an-account-with-a-long-name", "b"),
			   CW_STATUS_ANOMALY, 800 * GB, 100 * GB, 10.0 + i);
	}
	root = digest(&run, NULL, &o, &b);
	check_limits(root);
	check_counts(root);
	/* header, summary, divider, 5 findings, roll-up, footer */
	ck_assert_uint_eq(nblocks(root), 10);
	ck_assert(cw_str_startswith(block_text(root, 8), "*295 more findings, by account*\n"));
	ck_assert_ptr_nonnull(strstr(block_text(root, 8), "more findings in "));
	ck_assert_ptr_nonnull(strstr(block_text(root, 8), "more accounts\nsee "
				     "<https://reports.example.com/r1/report.html|the report>"));
	ck_assert_uint_gt(strlen(block_text(root, 8)), 2000);
	all = json_dumps(root, 0);
	check_only_own_links(all);
	ck_assert_ptr_null(strstr(all, "/srv/out")); /* never a local path with a URL */
	free(all);
	json_decref(root);
	cw_buf_release(&b);
	cw_run_release(&run);
}
END_TEST

/* The coverage line in the summary; a drop is news on its own. */
START_TEST(test_coverage_and_its_drop)
{
	struct cw_run run;
	struct cw_buf b;
	struct cw_coverage c;
	json_t *root;

	new_run(&run);
	add_result(&run, add_series(&run, "1", "", "fine"), CW_STATUS_OK, 1, 1, NAN);
	memset(&c, 0, sizeof(c));
	c.account_id = (char *)"1";
	c.buckets = 40;
	c.watched = 12;
	c.bytes = 100;
	c.watched_bytes = 83;
	c.complete = true;
	ck_assert_int_eq(cw_run_add_coverage(&run, &c), 0);
	/* nothing to announce, coverage as before: nothing sent */
	ck_assert_ptr_null(digest(&run, NULL, NULL, &b));
	cw_buf_release(&b);
	/* it fell: sent, with the line and the earlier figure */
	run.coverage_fell = true;
	run.coverage_was.buckets = 40;
	run.coverage_was.watched = 20;
	run.coverage_was.bytes = 100;
	run.coverage_was.watched_bytes = 95;
	run.coverage_was.complete = true;
	root = digest(&run, NULL, NULL, &b);
	ck_assert_ptr_nonnull(root);
	check_limits(root);
	ck_assert_str_eq(block_text(root, 0), "cwsweep: coverage fell \xc2\xb7 watching 12 of 40 "
			 "buckets (83%)");
	ck_assert_msg(strstr(block_text(root, 1), "Coverage: *watching 12 of 40 buckets (83% of "
				      "stored bytes)* :warning: fell since the last run (was 20 "
				      "of 40 buckets (95% of stored bytes))") != NULL, "%s",
		      block_text(root, 1));
	json_decref(root);
	cw_buf_release(&b);
	cw_run_release(&run);
}
END_TEST

/* The state's verdict on failures: only the announced ones are posted and
 * counted in the header; the summary says how many there were. */
START_TEST(test_failures_announced)
{
	struct cw_run run;
	struct cw_buf b;
	bool afail[3] = { false, true, false };
	struct cw_slack_opts o = { .announce_failures = afail };
	json_t *root;

	new_run(&run);
	add_failure(&run, "2", "AccessDenied", "old news");
	add_failure(&run, "3", "Throttling", "fresh");
	add_failure(&run, "4", "AccessDenied", "old news");
	root = digest(&run, NULL, &o, &b);
	check_limits(root);
	ck_assert_str_eq(block_text(root, 0), "cwsweep: 1 failure");
	ck_assert_ptr_nonnull(strstr(block_text(root, 1), "*3* failures (*1* announced)"));
	ck_assert(cw_str_startswith(block_text(root, 3), "*1 failure*\n"));
	ck_assert_ptr_nonnull(strstr(block_text(root, 3), "`Throttling`"));
	ck_assert_ptr_null(strstr(block_text(root, 3), "AccessDenied"));
	json_decref(root);
	cw_buf_release(&b);
	/* nothing new at all: no message */
	afail[1] = false;
	cw_buf_init(&b, 0);
	ck_assert_int_eq(cw_slack_digest(&run, NULL, &o, &b, NULL, 0), 0);
	ck_assert_uint_eq(b.len, 0);
	cw_buf_release(&b);
	cw_run_release(&run);
}
END_TEST

/* Two detectors flagging one bucket's spike make one finding naming both. */
START_TEST(test_one_finding_per_series)
{
	struct cw_run run;
	struct cw_buf b;
	struct cw_judgement j = { .status = CW_STATUS_ANOMALY, .severity = CW_SEV_WARNING,
				  .period_start = T0 + 19 * DAY, .value = 800 * GB,
				  .baseline = 110 * GB, .limit = 300 * GB, .score = 9 };
	json_t *root;
	size_t a, other;

	new_run(&run);
	a = add_series(&run, "111111111111", "prod", "spiky");
	other = add_series(&run, "111111111111", "prod", "other");
	add_result(&run, a, CW_STATUS_ANOMALY, 800 * GB, 100 * GB, 63.0);
	/* the lead (mean7d: the larger estimate) tracked a 3-day episode */
	run.results[run.nresults - 1].j.episode_start = T0 + 17 * DAY;
	run.results[run.nresults - 1].j.episode_len = 3;
	run.results[run.nresults - 1].j.episode_peak = 900 * GB;
	ck_assert_int_eq(cw_run_add_result(&run, a, "zscore", &j, NULL), 0);
	run.results[run.nresults - 1].est_excess_usd = 62.1;
	add_result(&run, other, CW_STATUS_ANOMALY, 300 * GB, 100 * GB, 18.0);
	run.results[run.nresults - 1].j.kind = "level_shift"; /* a one-period shift */
	root = digest(&run, NULL, NULL, &b);
	check_limits(root);
	ck_assert_str_eq(block_text(root, 0), "cwsweep: 2 findings");
	/* header, summary, divider, the two findings, footer */
	ck_assert_uint_eq(nblocks(root), 6);
	ck_assert_ptr_nonnull(strstr(block_text(root, 3), "`spiky`"));
	ck_assert_ptr_nonnull(strstr(block_text(root, 3), "mean7d, zscore"));
	/* the episode's start (T0 = 2023-11-14, + 17 days), length and peak */
	ck_assert_ptr_nonnull(strstr(block_text(root, 3), "mean7d, zscore"
				     " \xc2\xb7 since 2023-12-01 (3 days), peak 900 GB\n"));
	ck_assert_ptr_null(strstr(block_text(root, 3), "level shift"));
	ck_assert_ptr_nonnull(strstr(block_text(root, 4), "`other`"));
	ck_assert_ptr_nonnull(strstr(block_text(root, 4), " \xc2\xb7 level shift: the new "
				     "normal from now on\n"));
	ck_assert_ptr_null(strstr(block_text(root, 4), "since"));
	ck_assert_ptr_null(strstr(block_text(root, 4), "zscore"));
	json_decref(root);
	cw_buf_release(&b);
	cw_run_release(&run);
}
END_TEST

static Suite *slack_suite(void)
{
	Suite *s = suite_create("slack");
	TCase *tc = tcase_create("digest");

	tcase_add_test(tc, test_shape_and_order);
	tcase_add_test(tc, test_escaping);
	tcase_add_test(tc, test_escape_function);
	tcase_add_test(tc, test_money);
	tcase_add_test(tc, test_default_max_findings);
	tcase_add_test(tc, test_fifty_blocks);
	tcase_add_test(tc, test_fifty_blocks_findings_only);
	tcase_add_test(tc, test_exactly_fits_no_more_line);
	tcase_add_test(tc, test_long_names_and_total);
	tcase_add_test(tc, test_announce_subset);
	tcase_add_test(tc, test_all_clear);
	tcase_add_test(tc, test_failures_only);
	tcase_add_test(tc, test_coverage_and_its_drop);
	tcase_add_test(tc, test_one_finding_per_series);
	tcase_add_test(tc, test_rollup_many_accounts);
	tcase_add_test(tc, test_failures_announced);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(slack_suite());
}
