/*
 * check_run.c - the run model: ownership of what is added, the judge (last
 * complete period only, gaps, history requirement, all periods), counts,
 * exit codes and the reading order of results.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detector.h"
#include "err.h"
#include "run.h"
#include "testlib.h"

#define DAY 86400
#define T0 (19000 * (int64_t)DAY)

static struct cw_detector_conf *dets(const char *list, size_t *n)
{
	struct cw_detector_conf *c = NULL;
	char err[CW_ERRBUF] = "";
	ck_assert_msg(cw_detector_parse_list(list, &c, n, err, sizeof(err)) == 0, "%s", err);
	return c;
}

static void dets_free(struct cw_detector_conf *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cw_detector_conf_release(&c[i]);
	free(c);
}

/* Add a daily series of the given values (NaN = gap) named `metric`. */
static size_t add(struct cw_run *run, const char *metric, const double *v, size_t n)
{
	struct cw_series s;
	struct cw_target_id id = { .metric = (char *)metric, .bucket = (char *)"b" };
	size_t idx = 99;
	ck_assert_int_eq(cw_series_init(&s, T0, DAY, n), 0);
	for (size_t i = 0; i < n; i++)
		s.values[i] = v[i];
	ck_assert_int_eq(cw_run_add_series(run, &id, &s, &idx), 0);
	ck_assert_ptr_null(s.values); /* stolen */
	return idx;
}

static int judge(struct cw_run *run, size_t series, const char *list, bool all)
{
	size_t n;
	char err[CW_ERRBUF] = "";
	struct cw_detector_conf *c = dets(list, &n);
	int rc = cw_run_judge(run, series, c, n, all, err, sizeof(err));
	dets_free(c, n);
	return rc;
}

START_TEST(test_init_add_release)
{
	struct cw_run run;
	ck_assert_int_eq(cw_run_init(&run, "analyze"), 0);
	ck_assert_str_eq(run.mode, "analyze");
	ck_assert_str_eq(run.run_id, "");
	ck_assert_str_eq(run.inventory, "");
	ck_assert_str_eq(run.price_note, "");
	ck_assert(isnan(run.total_excess_usd));

	struct cw_target_id id = { .account_id = (char *)"123456789012",
				   .region = (char *)"eu-west-1" };
	ck_assert_int_eq(cw_run_add_failure(&run, &id, "assume-role", "AccessDenied",
					    "not authorized to assume the role"), 0);
	ck_assert_str_eq(run.failures[0].id.account_id, "123456789012");
	ck_assert_ptr_ne(run.failures[0].id.account_id, id.account_id);
	ck_assert_str_eq(run.failures[0].id.bucket, "");
	ck_assert_str_eq(run.failures[0].code, "AccessDenied");
	ck_assert_int_eq(cw_run_add_unmeasured(&run, NULL, "no request metrics",
					       "enable a metrics configuration"), 0);
	ck_assert_str_eq(run.unmeasured[0].id.metric, "");
	ck_assert_str_eq(run.unmeasured[0].fix, "enable a metrics configuration");

	struct cw_judgement j = { .status = CW_STATUS_OK, .value = 1 };
	for (int i = 0; i < 20; i++) /* past the first growth */
		ck_assert_int_eq(cw_run_add_result(&run, 0, "threshold", &j,
						   i % 2 ? "a note" : NULL), 0);
	ck_assert_uint_eq(run.nresults, 20);
	ck_assert_str_eq(run.results[1].note, "a note");
	ck_assert_ptr_null(run.results[0].note);
	ck_assert(isnan(run.results[0].est_excess_usd));
	ck_assert_int_eq(run.results[0].alert, CW_ALERT_NONE);
	cw_run_release(&run);
	ck_assert_ptr_null(run.results);
	cw_run_release(&run); /* twice is harmless */
}
END_TEST

START_TEST(test_coverage)
{
	struct cw_run run;
	struct cw_coverage c, t;
	struct cw_run_counts k;
	struct cw_target_id id = { .account_id = (char *)"123456789012",
				   .bucket = (char *)"media" };
	char line[160];

	ck_assert_int_eq(cw_run_init(&run, "run"), 0);
	ck_assert(!cw_run_coverage_total(&run, &t));
	ck_assert_str_eq(cw_coverage_line(NULL, line, sizeof(line)), "");

	memset(&c, 0, sizeof(c));
	c.account_id = (char *)"123456789012";
	c.account_name = (char *)"media";
	c.buckets = 30;
	c.watched = 10;
	c.bytes = 4e12;
	c.watched_bytes = 3.32e12;
	c.complete = true;
	ck_assert_int_eq(cw_run_add_coverage(&run, &c), 0);
	ck_assert_ptr_ne(run.coverage[0].account_id, c.account_id);
	c.account_id = (char *)"210987654321";
	c.buckets = 10;
	c.watched = 2;
	c.bytes = 0;
	c.watched_bytes = 0;
	ck_assert_int_eq(cw_run_add_coverage(&run, &c), 0);
	ck_assert(cw_run_coverage_total(&run, &t));
	ck_assert_uint_eq(t.buckets, 40);
	ck_assert_uint_eq(t.watched, 12);
	ck_assert_str_eq(cw_coverage_line(&t, line, sizeof(line)),
			 "watching 12 of 40 buckets (83% of stored bytes)");
	/* never rounded to 100% or 0% when it is not */
	t.watched_bytes = t.bytes * 0.996;
	ck_assert_str_eq(cw_coverage_line(&t, line, sizeof(line)),
			 "watching 12 of 40 buckets (>99% of stored bytes)");
	t.watched_bytes = t.bytes * 0.004;
	ck_assert_str_eq(cw_coverage_line(&t, line, sizeof(line)),
			 "watching 12 of 40 buckets (<1% of stored bytes)");
	t.buckets = 1;
	t.bytes = 0;
	t.complete = false;
	ck_assert_str_eq(cw_coverage_line(&t, line, sizeof(line)),
			 "watching 12 of 1 bucket, some regions unknown");

	ck_assert_int_eq(cw_run_add_unwatched(&run, &id, CW_UNMEASURED_NOT_WATCHED, 5e9, 4.8,
					      "no request-metrics configuration", "aws s3api"), 0);
	ck_assert_int_eq(cw_run_add_unmeasured(&run, &id, "not found", "check"), 0);
	ck_assert_int_eq(run.unmeasured[0].kind, CW_UNMEASURED_NOT_WATCHED);
	ck_assert(run.unmeasured[0].stored_bytes == 5e9);
	ck_assert_int_eq(run.unmeasured[1].kind, CW_UNMEASURED_NOT_FOUND);
	ck_assert(isnan(run.unmeasured[1].stored_bytes));
	ck_assert(isnan(run.unmeasured[1].watch_usd_month));
	ck_assert_str_eq(cw_unmeasured_kind_name(run.unmeasured[0].kind), "not_watched");
	ck_assert_str_eq(cw_unmeasured_kind_name(run.unmeasured[1].kind), "not_found");
	cw_run_count(&run, &k);
	ck_assert_uint_eq(k.unmeasured, 2);
	ck_assert_uint_eq(k.not_watched, 1);
	ck_assert_uint_eq(k.not_found, 1);
	/* not watched is no failure: the exit code stays 0 */
	ck_assert_int_eq(cw_run_exit_code(&run), 0);
	cw_run_release(&run);
}
END_TEST

START_TEST(test_judge_last_complete)
{
	struct cw_run run;
	double v[6] = { 10, 10, 10, 10, 150, 1e15 };
	ck_assert_int_eq(cw_run_init(&run, "analyze"), 0);
	size_t i = add(&run, "m", v, 6);
	/* the last slot is still running: slot 4 is the last complete one */
	run.series[i].series.complete_end = T0 + 5 * DAY + 3600;
	ck_assert_int_eq(judge(&run, i, "threshold:limit=100,mean7d:min_history=0", false), 0);
	ck_assert_uint_eq(run.nresults, 2);
	ck_assert_str_eq(run.results[0].detector, "threshold");
	ck_assert_int_eq(run.results[0].j.status, CW_STATUS_ANOMALY);
	ck_assert_int_eq(run.results[0].j.period_start, T0 + 4 * DAY);
	ck_assert(run.results[0].j.value == 150);
	ck_assert_str_eq(run.results[1].detector, "mean7d");
	ck_assert(run.results[1].j.baseline == 10);
	ck_assert_int_eq(run.results[1].j.status, CW_STATUS_ANOMALY);
	ck_assert_ptr_null(run.results[1].note);
	ck_assert_int_eq(cw_run_exit_code(&run), 1);

	char err[CW_ERRBUF];
	ck_assert_int_eq(cw_run_judge(&run, 7, NULL, 0, false, err, sizeof(err)), CW_EINVAL);
	cw_run_release(&run);
}
END_TEST

START_TEST(test_judge_gap_and_history)
{
	struct cw_run run;
	ck_assert_int_eq(cw_run_init(&run, "analyze"), 0);

	/* a gap in the judged period */
	double g[4] = { 1, 2, 3, NAN };
	add(&run, "gap", g, 4);
	ck_assert_int_eq(judge(&run, 0, "threshold:limit=0", false), 0);
	ck_assert_uint_eq(run.nresults, 1);
	ck_assert_int_eq(run.results[0].j.status, CW_STATUS_INSUFFICIENT);
	ck_assert(isnan(run.results[0].j.value));
	ck_assert_int_eq(run.results[0].j.period_start, T0 + 3 * DAY);
	ck_assert_str_eq(run.results[0].note, "no datapoint in the judged period");

	/* history is counted in non-gap periods: 9 days of span, but only 5
	 * days with data before the judged one (days 1..3 are gaps) */
	double h[9] = { 10, NAN, NAN, NAN, 10, 10, 10, 10, 50 };
	add(&run, "short", h, 9);
	ck_assert_int_eq(judge(&run, 1, "mean7d", false), 0);
	ck_assert_uint_eq(run.nresults, 2);
	ck_assert_int_eq(run.results[1].j.status, CW_STATUS_INSUFFICIENT);
	ck_assert(run.results[1].j.value == 50);
	ck_assert_str_eq(run.results[1].note, "5d of history, 1w needed");
	/* exactly enough: min_history 5d */
	ck_assert_int_eq(judge(&run, 1, "mean7d:min_history=5d", false), 0);
	ck_assert_int_eq(run.results[2].j.status, CW_STATUS_ANOMALY);
	ck_assert(run.results[2].j.baseline == 10);
	ck_assert_int_eq(cw_run_exit_code(&run), 1);

	/* no complete period at all */
	struct cw_series e;
	ck_assert_int_eq(cw_series_init(&e, T0, DAY, 0), 0);
	ck_assert_int_eq(cw_run_add_series(&run, NULL, &e, NULL), 0);
	ck_assert_int_eq(judge(&run, 2, "zscore", false), 0);
	ck_assert_int_eq(run.results[3].j.status, CW_STATUS_INSUFFICIENT);
	ck_assert_str_eq(run.results[3].note, "no complete period in the series");
	cw_run_release(&run);
}
END_TEST

START_TEST(test_judge_all_periods)
{
	struct cw_run run;
	ck_assert_int_eq(cw_run_init(&run, "analyze"), 0);
	double v[10] = { 1, 2, 3, NAN, 5, 6, 7, 8, 9, 10 };
	add(&run, "m", v, 10);
	ck_assert_int_eq(judge(&run, 0, "threshold:limit=6", true), 0);
	ck_assert_uint_eq(run.nresults, 9); /* every non-gap period */
	size_t anomalies = 0;
	for (size_t i = 0; i < run.nresults; i++)
		anomalies += run.results[i].j.status == CW_STATUS_ANOMALY;
	ck_assert_uint_eq(anomalies, 4); /* 7 8 9 10; 6 is at the limit */
	ck_assert_int_eq(run.results[3].j.period_start, T0 + 4 * DAY);

	/* mean7d needs 7 days of data before: days 8 and 9 only (day 7 has
	 * six non-gap days before it) */
	ck_assert_int_eq(judge(&run, 0, "mean7d", true), 0);
	ck_assert_uint_eq(run.nresults, 11);
	ck_assert_int_eq(run.results[9].j.period_start, T0 + 8 * DAY);
	ck_assert_int_eq(run.results[10].j.period_start, T0 + 9 * DAY);

	/* nothing judgeable: one insufficient result says so */
	ck_assert_int_eq(judge(&run, 0, "seasonal", true), 0);
	ck_assert_uint_eq(run.nresults, 12);
	ck_assert_int_eq(run.results[11].j.status, CW_STATUS_INSUFFICIENT);
	ck_assert_int_eq(run.results[11].j.period_start, T0 + 9 * DAY);
	ck_assert_str_eq(run.results[11].note, "no period with 3w of history before it");

	struct cw_run_counts c;
	cw_run_count(&run, &c);
	ck_assert_uint_eq(c.series, 1);
	ck_assert_uint_eq(c.judgements, 12);
	ck_assert_uint_eq(c.anomalies, 4);
	ck_assert_uint_eq(c.ok, 7);
	ck_assert_uint_eq(c.insufficient, 1);
	ck_assert_uint_eq(c.failures, 0);
	cw_run_release(&run);
}
END_TEST

START_TEST(test_exit_codes)
{
	struct cw_run run;
	struct cw_judgement ok = { .status = CW_STATUS_OK };
	struct cw_judgement an = { .status = CW_STATUS_ANOMALY };
	struct cw_judgement in = { .status = CW_STATUS_INSUFFICIENT };
	ck_assert_int_eq(cw_run_init(&run, "run"), 0);
	ck_assert_int_eq(cw_run_exit_code(&run), 0);
	cw_run_add_result(&run, 0, "zscore", &ok, NULL);
	cw_run_add_result(&run, 0, "zscore", &in, NULL);
	ck_assert_int_eq(cw_run_add_unmeasured(&run, NULL, "r", "f"), 0);
	ck_assert_int_eq(cw_run_exit_code(&run), 0);
	cw_run_add_result(&run, 0, "zscore", &an, NULL);
	ck_assert_int_eq(cw_run_exit_code(&run), 1);
	ck_assert_int_eq(cw_run_add_failure(&run, NULL, "get-metric-data", "Throttling",
					    "throttled after 3 attempts"), 0);
	ck_assert_int_eq(cw_run_exit_code(&run), 3);
	struct cw_run_counts c;
	cw_run_count(&run, &c);
	ck_assert_uint_eq(c.failures, 1);
	ck_assert_uint_eq(c.unmeasured, 1);
	ck_assert_uint_eq(c.anomalies, 1);
	cw_run_release(&run);
}
END_TEST

START_TEST(test_sort)
{
	struct cw_run run;
	ck_assert_int_eq(cw_run_init(&run, "run"), 0);
	double v[1] = { 1 };
	add(&run, "zeta", v, 1);
	add(&run, "alpha", v, 1);
	struct {
		size_t series;
		const char *det;
		enum cw_status st;
		enum cw_severity sev;
		double value, baseline;
		const char *tag;
	} in[] = {
		{ 0, "zscore", CW_STATUS_OK, CW_SEV_CRITICAL, 1, 1, "ok1" },
		{ 0, "mean7d", CW_STATUS_ANOMALY, CW_SEV_WARNING, 30, 10, "warn20" },
		{ 0, "zscore", CW_STATUS_INSUFFICIENT, CW_SEV_INFO, NAN, NAN, "insuf" },
		{ 0, "zscore", CW_STATUS_ANOMALY, CW_SEV_CRITICAL, 15, 10, "crit5" },
		{ 0, "threshold", CW_STATUS_ANOMALY, CW_SEV_WARNING, 110, 10, "warn100" },
		{ 1, "mean7d", CW_STATUS_ANOMALY, CW_SEV_WARNING, 30, 10, "warn20-alpha" },
		{ 0, "zscore", CW_STATUS_OK, CW_SEV_WARNING, 1, 1, "ok2" },
		{ 0, "mean7d", CW_STATUS_ANOMALY, CW_SEV_WARNING, 5, 25, "warn20-down" },
		{ 0, "zscore", CW_STATUS_ANOMALY, CW_SEV_CRITICAL, 13, 10, "crit3" },
	};
	const char *want[] = { "crit5", "crit3", "warn100", "warn20-alpha", "warn20",
			       "warn20-down", "insuf", "ok1", "ok2" };
	size_t n = sizeof(in) / sizeof(in[0]);
	for (size_t i = 0; i < n; i++) {
		struct cw_judgement j = { .status = in[i].st, .severity = in[i].sev,
					  .value = in[i].value, .baseline = in[i].baseline };
		ck_assert_int_eq(cw_run_add_result(&run, in[i].series, in[i].det, &j,
						   in[i].tag), 0);
	}
	cw_run_sort_results(&run);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(strcmp(run.results[i].note, want[i]) == 0, "%zu: %s, want %s", i,
			      run.results[i].note, want[i]);
	cw_run_release(&run);
}
END_TEST

/* Many results with many ties: the order holds between every neighbour and
 * equal keys keep the order they were added in (the sort is stable). */
static int rank_of(enum cw_status st)
{
	return st == CW_STATUS_ANOMALY ? 0 : st == CW_STATUS_INSUFFICIENT ? 2 : 3;
}

START_TEST(test_sort_many)
{
	static const char *const names[] = { "delta", "alpha", "charlie", "bravo" };
	static const char *const detn[] = { "zscore", "mean7d", "threshold" };
	static const enum cw_status sts[] = { CW_STATUS_OK, CW_STATUS_ANOMALY,
					      CW_STATUS_INSUFFICIENT };
	struct cw_run run;
	double v[1] = { 1 };
	size_t n = 5003;
	uint32_t x = 12345;

	ck_assert_int_eq(cw_run_init(&run, "run"), 0);
	for (size_t i = 0; i < 4; i++)
		add(&run, names[i], v, 1);
	for (size_t i = 0; i < n; i++) {
		char tag[16];
		x = x * 1103515245u + 12345u;
		struct cw_judgement j = {
			.status = sts[(x >> 8) % 3], .severity = (enum cw_severity)((x >> 12) % 3),
			.value = (double)((x >> 16) % 5), .baseline = (x >> 20) % 7 ? 0 : NAN,
		};
		snprintf(tag, sizeof(tag), "%zu", i);
		ck_assert_int_eq(cw_run_add_result(&run, (x >> 24) % 4, detn[(x >> 28) % 3], &j,
						   tag), 0);
	}
	cw_run_sort_results(&run);
	ck_assert(run.sorted);
	for (size_t i = 0; i + 1 < n; i++) {
		const struct cw_result *a = &run.results[i], *b = &run.results[i + 1];
		double ea = isnan(a->j.baseline) ? -1 : a->j.value;
		double eb = isnan(b->j.baseline) ? -1 : b->j.value;
		int c = rank_of(a->j.status) - rank_of(b->j.status);

		if (!c && a->j.status == CW_STATUS_ANOMALY)
			c = (int)b->j.severity - (int)a->j.severity;
		if (!c)
			c = ea > eb ? -1 : ea < eb ? 1 : 0;
		if (!c)
			c = strcmp(run.series[a->series].id.metric, run.series[b->series].id.metric);
		if (!c)
			c = strcmp(a->detector, b->detector);
		if (!c)
			c = strtoul(a->note, NULL, 10) < strtoul(b->note, NULL, 10) ? -1 : 1;
		ck_assert_msg(c < 0, "results %zu and %zu out of order", i, i + 1);
	}
	cw_run_release(&run);
}
END_TEST

/* A lean run frees the values of a judged series without a finding and
 * keeps those with one; names are shared; the sums stay. */
START_TEST(test_lean)
{
	struct cw_run run;
	double quiet[14], spike[14];

	for (size_t i = 0; i < 14; i++)
		quiet[i] = spike[i] = 2e9;
	spike[13] = 9e11;
	ck_assert_int_eq(cw_run_init(&run, "analyze"), 0);
	run.lean = true;
	size_t a = add(&run, "quiet", quiet, 14), b = add(&run, "spike", spike, 14);
	ck_assert_int_eq(judge(&run, a, "threshold:limit=1e11", false), 0);
	ck_assert_int_eq(judge(&run, b, "threshold:limit=1e11", false), 0);
	ck_assert_uint_eq(run.nresults, 2);
	ck_assert_ptr_null(run.series[a].series.values);
	ck_assert_uint_eq(run.series[a].series.n, 14); /* the span stays */
	ck_assert_ptr_nonnull(run.series[b].series.values);
	ck_assert(run.series[b].series.values[13] == 9e11);
	/* the same names are one string of the run's pool */
	ck_assert_ptr_eq(run.series[a].id.bucket, run.series[b].id.bucket);
	ck_assert_ptr_eq(run.series[a].id.account_id, run.series[b].id.account_id);
	ck_assert_str_eq(run.series[a].id.metric, "quiet");
	/* one account, both series in its sums */
	ck_assert_uint_eq(run.naccts, 1);
	ck_assert_uint_eq(run.accts[0].series, 2);
	cw_run_release(&run);
}
END_TEST

/* cw_run_added lets the pool's lookup table go: a series added afterwards
 * still shares the strings that are already there. */
START_TEST(test_added_then_more)
{
	struct cw_run run;
	double v[14];
	char name[32];
	size_t first, late;

	for (size_t i = 0; i < 14; i++)
		v[i] = 1e9;
	ck_assert_int_eq(cw_run_init(&run, "analyze"), 0);
	for (int i = 0; i < 2000; i++) { /* past the table's first growth */
		snprintf(name, sizeof(name), "m%d", i);
		add(&run, name, v, 14);
	}
	first = 0;
	cw_run_added(&run);
	cw_run_added(&run); /* twice is harmless */
	late = add(&run, "m1999", v, 14);
	ck_assert_ptr_eq(run.series[late].id.metric, run.series[1999].id.metric);
	ck_assert_ptr_eq(run.series[late].id.bucket, run.series[first].id.bucket);
	late = add(&run, "new one", v, 14);
	ck_assert_str_eq(run.series[late].id.metric, "new one");
	ck_assert_ptr_eq(run.series[add(&run, "new one", v, 14)].id.metric,
			 run.series[late].id.metric);
	ck_assert_str_eq(run.series[1234].id.metric, "m1234");
	cw_run_release(&run);
}
END_TEST

/* Exclusions are kept per series until it is judged, whatever the order in
 * which series are excluded and judged; a lean run lets them go. */
START_TEST(test_exclusions_apart)
{
	struct cw_run run;
	double v[14];
	size_t a, b, c;

	for (size_t i = 0; i < 14; i++)
		v[i] = 2e9;
	v[13] = 9e11;
	ck_assert_int_eq(cw_run_init(&run, "analyze"), 0);
	run.lean = true;
	a = add(&run, "a", v, 14);
	b = add(&run, "b", v, 14);
	c = add(&run, "c", v, 14);
	ck_assert_int_eq(cw_run_exclude(&run, a, T0 + 13 * DAY, T0 + 14 * DAY, "sale"), 0);
	ck_assert_int_eq(cw_run_exclude(&run, c, T0 + 13 * DAY, T0 + 14 * DAY, "migration"), 0);
	ck_assert_int_eq(cw_run_exclude(&run, c, T0, T0 + 14 * DAY, "later reason"), 0);
	ck_assert_int_eq(cw_run_exclude(&run, b, T0, T0 + DAY, "early"), 0);
	ck_assert_uint_eq(run.nexcl, 3);
	ck_assert_int_eq(cw_run_exclude(&run, 7, T0, T0 + DAY, "x"), CW_EINVAL);
	ck_assert_int_eq(judge(&run, c, "threshold:limit=1e11", false), 0);
	ck_assert_uint_eq(run.nexcl, 2);
	ck_assert_int_eq(judge(&run, a, "threshold:limit=1e11", false), 0);
	ck_assert_int_eq(judge(&run, b, "threshold:limit=1e11", false), 0);
	ck_assert_uint_eq(run.nexcl, 0);
	ck_assert_uint_eq(run.nresults, 3);
	/* c: the first reason for a slot wins; a: excluded; b: its judged day is not */
	ck_assert_int_eq(run.results[0].j.status, CW_STATUS_OK);
	ck_assert_str_eq(run.results[0].note, "excluded: migration");
	ck_assert_int_eq(run.results[1].j.status, CW_STATUS_OK);
	ck_assert_str_eq(run.results[1].note, "excluded: sale");
	ck_assert_int_eq(run.results[2].j.status, CW_STATUS_ANOMALY);
	ck_assert_ptr_null(run.results[2].note);
	/* the values of the excluded (ok) ones go, the anomaly's stay */
	ck_assert_ptr_null(run.series[a].series.values);
	ck_assert_ptr_nonnull(run.series[b].series.values);
	/* a run that is not lean keeps them until it is released */
	cw_run_release(&run);
	ck_assert_int_eq(cw_run_init(&run, "analyze"), 0);
	a = add(&run, "a", v, 14);
	ck_assert_int_eq(cw_run_exclude(&run, a, T0 + 13 * DAY, T0 + 14 * DAY, "sale"), 0);
	ck_assert_int_eq(judge(&run, a, "threshold:limit=1e11", false), 0);
	ck_assert_uint_eq(run.nexcl, 1);
	ck_assert_int_eq(judge(&run, a, "threshold:limit=1e11", false), 0);
	ck_assert_str_eq(run.results[1].note, "excluded: sale");
	cw_run_release(&run);
}
END_TEST

/* Byte counts add up to the same totals whatever order the series come in. */
START_TEST(test_sums_any_order)
{
	/* 2^53 + 1 and friends: a double sum in one order loses them */
	double x[14], y[14], z[14];
	struct cw_run r1, r2;

	for (size_t i = 0; i < 14; i++) {
		x[i] = 9007199254740992.0; /* 2^53 */
		y[i] = 1;
		z[i] = 1;
	}
	ck_assert_int_eq(cw_run_init(&r1, "analyze"), 0);
	ck_assert_int_eq(cw_run_init(&r2, "analyze"), 0);
	{
		struct cw_series s;
		struct cw_target_id id = { .metric = (char *)"m", .unit = (char *)"Bytes" };
		const double *order1[3] = { x, y, z }, *order2[3] = { y, z, x };

		for (size_t k = 0; k < 3; k++) {
			ck_assert_int_eq(cw_series_init(&s, T0, DAY, 14), 0);
			memcpy(s.values, order1[k], sizeof(x));
			ck_assert_int_eq(cw_run_add_series(&r1, &id, &s, NULL), 0);
			ck_assert_int_eq(cw_series_init(&s, T0, DAY, 14), 0);
			memcpy(s.values, order2[k], sizeof(x));
			ck_assert_int_eq(cw_run_add_series(&r2, &id, &s, NULL), 0);
		}
	}
	ck_assert_uint_eq(r1.naccts, 1);
	ck_assert_uint_eq(r2.naccts, 1);
	ck_assert((double)r1.accts[0].lookback == (double)r2.accts[0].lookback);
	ck_assert((double)r1.accts[0].week == (double)r2.accts[0].week);
	ck_assert((double)r1.accts[0].daily[3] == (double)r2.accts[0].daily[3]);
	ck_assert((double)r1.accts[0].daily[3] == 9007199254740994.0);
	cw_run_release(&r1);
	cw_run_release(&r2);
}
END_TEST

static Suite *run_suite(void)
{
	Suite *s = suite_create("run");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_init_add_release);
	tcase_add_test(tc, test_coverage);
	tcase_add_test(tc, test_judge_last_complete);
	tcase_add_test(tc, test_judge_gap_and_history);
	tcase_add_test(tc, test_judge_all_periods);
	tcase_add_test(tc, test_exit_codes);
	tcase_add_test(tc, test_sort);
	tcase_add_test(tc, test_sort_many);
	tcase_add_test(tc, test_lean);
	tcase_add_test(tc, test_sums_any_order);
	tcase_add_test(tc, test_added_then_more);
	tcase_add_test(tc, test_exclusions_apart);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(run_suite());
}
