/*
 * check_metrics.c - the Prometheus textfile: every sample has its HELP
 * and TYPE, numbers are plain, the last success time is carried over from
 * the previous file when a run fails and replaced when one succeeds, and
 * a run that never swept still gets a file.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "metrics.h"
#include "run.h"
#include "strutil.h"
#include "testlib.h"

/* A small run: two series (one anomalous), one failure, one not measured. */
static void small_run(struct cw_run *run)
{
	struct cw_target_id a = { "111111111111", "alpha", "us-east-1", "b1", "m", "Bytes", "", "" };
	struct cw_target_id b = { "111111111111", "alpha", "us-east-1", "b2", "m", "Bytes", "", "" };
	struct cw_target_id c = { "111111111111", "alpha", "us-east-1", "b3", "m", "Bytes", "", "" };
	struct cw_judgement j;
	struct cw_series s;
	size_t idx;

	ck_assert_int_eq(cw_run_init(run, "run"), 0);
	for (int k = 0; k < 2; k++) {
		ck_assert_int_eq(cw_series_init(&s, 86400, 86400, 3), 0);
		ck_assert_int_eq(cw_run_add_series(run, k ? &b : &a, &s, &idx), 0);
		memset(&j, 0, sizeof(j));
		j.status = k ? CW_STATUS_OK : CW_STATUS_ANOMALY;
		j.value = 1;
		j.baseline = NAN;
		ck_assert_int_eq(cw_run_add_result(run, idx, "mean7d", &j, NULL), 0);
	}
	ck_assert_int_eq(cw_run_add_failure(run, &c, "get-metric-data", "Throttling", "x"), 0);
	ck_assert_int_eq(cw_run_add_unmeasured(run, &c, "no metric", "enable it"), 0);
	run->accounts = 1;
	snprintf(run->calls[0].action, sizeof(run->calls[0].action), "GetMetricData");
	run->calls[0].calls = 7;
	run->calls[0].throttled = 2;
	run->ncalls = 1;
}

/* The value of the sample line that starts with name + ' ', or NaN. */
static double value_of(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return NAN;
}

START_TEST(test_text)
{
	struct cw_run run;
	struct cw_buf b = CW_BUF_INIT;
	struct cw_metrics_in m = { NULL, 1, 1764126000.5, 1764126060.25, 0, 0, 0 };
	const char *t;

	small_run(&run);
	m.run = &run;
	ck_assert_int_eq(cw_metrics_text(&b, &m), 0);
	t = cw_buf_str(&b);
	ck_assert_double_eq(value_of(t, "cwsweep_last_run_exit_code"), 1);
	ck_assert_double_eq(value_of(t, "cwsweep_last_run_start_timestamp_seconds"), 1764126000.5);
	ck_assert_double_eq(value_of(t, "cwsweep_last_success_timestamp_seconds"), 1764126060.25);
	ck_assert_double_eq(value_of(t, "cwsweep_last_run_duration_seconds"), 59.75);
	ck_assert_double_eq(value_of(t, "cwsweep_last_run_api_calls{action=\"GetMetricData\"}"), 7);
	ck_assert_double_eq(value_of(t, "cwsweep_last_run_throttled{action=\"GetMetricData\"}"), 2);
	ck_assert_double_eq(value_of(t, "cwsweep_last_run_series_judged"), 2);
	ck_assert_double_eq(value_of(t, "cwsweep_last_run_anomalies"), 1);
	ck_assert_double_eq(value_of(t, "cwsweep_last_run_failures"), 1);
	ck_assert_double_eq(value_of(t, "cwsweep_buckets_watched"), 2);
	ck_assert_double_eq(value_of(t, "cwsweep_buckets_known"), 3);
	ck_assert_ptr_nonnull(strstr(t, "# TYPE cwsweep_last_run_exit_code gauge\n"));
	ck_assert_ptr_nonnull(strstr(t, "# HELP cwsweep_buckets_known "));
	ck_assert_ptr_null(strstr(t, "e+"));
	cw_buf_release(&b);
	cw_run_release(&run);
}
END_TEST

/* Distinct buckets by account: a bucket with two series counts once, the
 * same name in two accounts twice, a not-measured bucket that a series
 * names (or that is listed twice) once. */
START_TEST(test_bucket_counts)
{
	static const struct { const char *acct, *bucket, *metric; } series[] = {
		{ "222222222222", "logs", "BytesDownloaded" },
		{ "111111111111", "logs", "BytesDownloaded" },
		{ "111111111111", "logs", "BytesUploaded" },
		{ "111111111111", "data", "BytesDownloaded" },
		{ "111111111111", "", "EstimatedCharges" }, /* not a bucket */
	};
	static const struct { const char *acct, *bucket; } unmeasured[] = {
		{ "111111111111", "cold" }, { "111111111111", "logs" },
		{ "333333333333", "logs" }, { "111111111111", "cold" },
		{ "111111111111", "" },
	};
	struct cw_run run;
	struct cw_buf b = CW_BUF_INIT;
	struct cw_metrics_in m = { NULL, 0, 1764126000, 1764126060, 0, 0, 0 };
	size_t idx;

	ck_assert_int_eq(cw_run_init(&run, "run"), 0);
	for (size_t i = 0; i < sizeof(series) / sizeof(series[0]); i++) {
		struct cw_target_id id = { (char *)series[i].acct, "", "us-east-1",
					   (char *)series[i].bucket, (char *)series[i].metric,
					   "Bytes", "", "" };
		struct cw_series s;

		ck_assert_int_eq(cw_series_init(&s, 86400, 86400, 3), 0);
		ck_assert_int_eq(cw_run_add_series(&run, &id, &s, &idx), 0);
	}
	for (size_t i = 0; i < sizeof(unmeasured) / sizeof(unmeasured[0]); i++) {
		struct cw_target_id id = { (char *)unmeasured[i].acct, "", "us-east-1",
					   (char *)unmeasured[i].bucket, "m", "Bytes", "", "" };

		ck_assert_int_eq(cw_run_add_unmeasured(&run, &id, "no metric", "enable it"), 0);
	}
	m.run = &run;
	ck_assert_int_eq(cw_metrics_text(&b, &m), 0);
	/* 222/logs, 111/logs, 111/data */
	ck_assert_double_eq(value_of(cw_buf_str(&b), "cwsweep_buckets_watched"), 3);
	/* and 111/cold, 333/logs */
	ck_assert_double_eq(value_of(cw_buf_str(&b), "cwsweep_buckets_known"), 5);
	cw_buf_release(&b);
	cw_run_release(&run);
}
END_TEST

START_TEST(test_last_success_carried)
{
	char *dir = cw_test_tmpdir(), *path = cw_asprintf("%s/cwsweep.prom", dir), *t;
	char err[CW_ERRBUF];
	struct cw_metrics_in ok = { NULL, 0, 1000, 1010, 0, 0, 0 };
	struct cw_metrics_in bad = { NULL, 2, 2000, 2001, 0, 0, 0 };

	ck_assert_double_eq(cw_metrics_last_success(path), 0);
	ck_assert_int_eq(cw_metrics_write(path, &ok, err, sizeof(err)), 0);
	ck_assert_double_eq(cw_metrics_last_success(path), 1010);
	bad.last_success = cw_metrics_last_success(path);
	ck_assert_int_eq(cw_metrics_write(path, &bad, err, sizeof(err)), 0);
	t = cw_test_slurp(path);
	ck_assert_double_eq(value_of(t, "cwsweep_last_run_exit_code"), 2);
	ck_assert_double_eq(value_of(t, "cwsweep_last_success_timestamp_seconds"), 1010);
	ck_assert_ptr_null(strstr(t, "cwsweep_buckets_known")); /* nothing swept */
	free(t);
	/* never a success: no such line at all */
	bad.last_success = 0;
	ck_assert_int_eq(cw_metrics_write(path, &bad, err, sizeof(err)), 0);
	t = cw_test_slurp(path);
	ck_assert_ptr_null(strstr(t, "cwsweep_last_success_timestamp_seconds "));
	free(t);
	free(path);
	cw_test_rmtree(dir);
	free(dir);
}
END_TEST

/* A run skipped because another held the lock: counted in a row, with the
 * holder's start; a run that ran puts the count back to 0. */
START_TEST(test_skipped_runs)
{
	char *dir = cw_test_tmpdir(), *path = cw_asprintf("%s/cwsweep.prom", dir), *t;
	char err[CW_ERRBUF];
	struct cw_metrics_in skip = { NULL, 75, 3000, 3000.5, 1010, 0, 2500 };
	struct cw_metrics_in ok = { NULL, 0, 4000, 4010, 0, 0, 0 };

	ck_assert_double_eq(cw_metrics_skipped_in_a_row(path), 0);
	for (int i = 1; i <= 2; i++) {
		skip.skipped_in_a_row = cw_metrics_skipped_in_a_row(path) + 1;
		ck_assert_int_eq(cw_metrics_write(path, &skip, err, sizeof(err)), 0);
		ck_assert_double_eq(cw_metrics_skipped_in_a_row(path), i);
	}
	t = cw_test_slurp(path);
	ck_assert_double_eq(value_of(t, "cwsweep_last_run_exit_code"), 75);
	ck_assert_double_eq(value_of(t, "cwsweep_lock_holder_start_timestamp_seconds"), 2500);
	ck_assert_double_eq(value_of(t, "cwsweep_last_success_timestamp_seconds"), 1010);
	free(t);
	ok.skipped_in_a_row = 7; /* ignored: this one ran */
	ck_assert_int_eq(cw_metrics_write(path, &ok, err, sizeof(err)), 0);
	t = cw_test_slurp(path);
	ck_assert_double_eq(value_of(t, "cwsweep_skipped_runs_in_a_row"), 0);
	ck_assert_ptr_null(strstr(t, "cwsweep_lock_holder_start_timestamp_seconds"));
	free(t);
	free(path);
	cw_test_rmtree(dir);
	free(dir);
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");

	tcase_add_test(tc, test_text);
	tcase_add_test(tc, test_bucket_counts);
	tcase_add_test(tc, test_last_success_carried);
	tcase_add_test(tc, test_skipped_runs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(metrics_suite());
}
