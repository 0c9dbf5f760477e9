/*
 * check_batch.c - GetMetricData batching: 500 queries and 100,800
 * datapoints per call, calls = sum of ceil over windows, time splitting
 * when one query alone is over the cap.  Expectations are hand-computed.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "err.h"
#include "testlib.h"

#define DAY 86400
#define T0 1700006400 /* 2023-11-15T00:00:00Z, a multiple of 86400 */

START_TEST(per_call_limits)
{
	/* daily over 35 days: 35 points -> the 500-query cap */
	ck_assert_uint_eq(cw_batch_per_call(T0, T0 + 35 * DAY, DAY), 500);
	/* hourly over 35 days: 840 points -> 100800 / 840 = 120 */
	ck_assert_uint_eq(cw_batch_per_call(T0, T0 + 35 * DAY, 3600), 120);
	/* 5 minutes over 15 days: 4320 points -> 100800 / 4320 = 23.33 -> 23 */
	ck_assert_uint_eq(cw_batch_per_call(T0, T0 + 15 * DAY, 300), 23);
	/* 1 minute over 70 days: exactly 100800 points -> 1 */
	ck_assert_uint_eq(cw_batch_per_call(T0, T0 + 70 * DAY, 60), 1);
	/* 201 points: 501 would fit the datapoints, 500 is the cap */
	ck_assert_uint_eq(cw_batch_per_call(T0, T0 + 201 * 60, 60), 500);
	/* 202 points: 100800 / 202 = 499 */
	ck_assert_uint_eq(cw_batch_per_call(T0, T0 + 202 * 60, 60), 499);
	/* over the cap or empty: 0 */
	ck_assert_uint_eq(cw_batch_per_call(T0, T0 + 71 * DAY, 60), 0);
	ck_assert_uint_eq(cw_batch_per_call(T0, T0, 60), 0);
	ck_assert_uint_eq(cw_batch_per_call(T0, T0 + DAY, 0), 0);
}
END_TEST

START_TEST(calls_are_sum_of_ceil)
{
	ck_assert_uint_eq(cw_batch_calls(0, T0, T0 + 35 * DAY, DAY), 0);
	ck_assert_uint_eq(cw_batch_calls(1, T0, T0 + 35 * DAY, DAY), 1);
	ck_assert_uint_eq(cw_batch_calls(500, T0, T0 + 35 * DAY, DAY), 1);
	ck_assert_uint_eq(cw_batch_calls(501, T0, T0 + 35 * DAY, DAY), 2);
	ck_assert_uint_eq(cw_batch_calls(1234, T0, T0 + 35 * DAY, DAY), 3);
	/* 1234 / 120 = 10.3 -> 11 */
	ck_assert_uint_eq(cw_batch_calls(1234, T0, T0 + 35 * DAY, 3600), 11);
	/* 1234 / 23 = 53.7 -> 54 */
	ck_assert_uint_eq(cw_batch_calls(1234, T0, T0 + 15 * DAY, 300), 54);
	/* 60 s over 90 days: 129600 points, two windows of 64800: 1 a call */
	ck_assert_uint_eq(cw_batch_calls(1234, T0, T0 + 90 * DAY, 60), 2468);
}
END_TEST

START_TEST(windows_split_time)
{
	int64_t s, e;

	ck_assert_uint_eq(cw_batch_nwindows(T0, T0 + 35 * DAY, DAY), 1);
	cw_batch_window(T0, T0 + 35 * DAY, DAY, 0, &s, &e);
	ck_assert_int_eq(s, T0);
	ck_assert_int_eq(e, T0 + 35 * DAY);
	ck_assert_uint_eq(cw_batch_nwindows(T0, T0 + 70 * DAY, 60), 1);

	/* 129600 points -> 2 equal windows of 64800 points (45 days) */
	ck_assert_uint_eq(cw_batch_nwindows(T0, T0 + 90 * DAY, 60), 2);
	cw_batch_window(T0, T0 + 90 * DAY, 60, 0, &s, &e);
	ck_assert_int_eq(s, T0);
	ck_assert_int_eq(e, T0 + 45 * DAY);
	cw_batch_window(T0, T0 + 90 * DAY, 60, 1, &s, &e);
	ck_assert_int_eq(s, T0 + 45 * DAY);
	ck_assert_int_eq(e, T0 + 90 * DAY);

	/* 100801 points -> 50401 + 50400: 1 and 2 queries a call */
	ck_assert_uint_eq(cw_batch_nwindows(T0, T0 + 100801 * 60, 60), 2);
	cw_batch_window(T0, T0 + 100801 * 60, 60, 0, &s, &e);
	ck_assert_int_eq(e - s, 50401 * 60);
	ck_assert_uint_eq(cw_batch_per_call(s, e, 60), 1);
	cw_batch_window(T0, T0 + 100801 * 60, 60, 1, &s, &e);
	ck_assert_int_eq(s, T0 + 50401 * 60);
	ck_assert_int_eq(e, T0 + 100801 * 60);
	ck_assert_uint_eq(cw_batch_per_call(s, e, 60), 2);
	ck_assert_uint_eq(cw_batch_calls(10, T0, T0 + 100801 * 60, 60), 15);

	/* 60 s over 455 days: 655200 points -> 7 windows of 93600 */
	ck_assert_uint_eq(cw_batch_nwindows(T0, T0 + 455 * DAY, 60), 7);
	cw_batch_window(T0, T0 + 455 * DAY, 60, 6, &s, &e);
	ck_assert_int_eq(s, T0 + 6 * 93600 * 60);
	ck_assert_int_eq(e, T0 + 455 * DAY);

	ck_assert_uint_eq(cw_batch_nwindows(T0, T0 - 1, 60), 0);
}
END_TEST

static size_t *iota(size_t n, size_t base)
{
	size_t *v = malloc((n ? n : 1) * sizeof(*v));

	ck_assert_ptr_nonnull(v);
	for (size_t i = 0; i < n; i++)
		v[i] = base + i;
	return v;
}

START_TEST(build_daily)
{
	struct cw_batch_list l;
	size_t *t = iota(1234, 7);

	ck_assert_int_eq(cw_batch_build(&l, t, 1234, T0, T0 + 35 * DAY, DAY), 0);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_uint_eq(l.v[0].n, 500);
	ck_assert_uint_eq(l.v[1].n, 500);
	ck_assert_uint_eq(l.v[2].n, 234);
	/* in order, every target exactly once */
	ck_assert_uint_eq(l.v[0].targets[0], 7);
	ck_assert_uint_eq(l.v[0].targets[499], 506);
	ck_assert_uint_eq(l.v[1].targets[0], 507);
	ck_assert_uint_eq(l.v[2].targets[233], 1240);
	for (size_t i = 0; i < l.n; i++) {
		ck_assert_int_eq(l.v[i].start, T0);
		ck_assert_int_eq(l.v[i].end, T0 + 35 * DAY);
		ck_assert_uint_eq(l.v[i].window, 0);
	}
	cw_batch_list_release(&l);
	ck_assert_uint_eq(l.n, 0);
	free(t);
}
END_TEST

START_TEST(build_datapoint_cap)
{
	struct cw_batch_list l;
	size_t *t = iota(1234, 0), seen = 0, pts;

	/* hourly over 35 days: 11 calls, 10 x 120 + 34 */
	ck_assert_int_eq(cw_batch_build(&l, t, 1234, T0, T0 + 35 * DAY, 3600), 0);
	ck_assert_uint_eq(l.n, 11);
	for (size_t i = 0; i < 10; i++)
		ck_assert_uint_eq(l.v[i].n, 120);
	ck_assert_uint_eq(l.v[10].n, 34);
	for (size_t i = 0; i < l.n; i++) {
		pts = l.v[i].n * (size_t)((l.v[i].end - l.v[i].start) / 3600);
		ck_assert_uint_le(pts, CW_GMD_MAX_POINTS);
		seen += l.v[i].n;
	}
	ck_assert_uint_eq(seen, 1234);
	cw_batch_list_release(&l);

	/* 5 minutes over 15 days: 23 a call, 54 calls */
	ck_assert_int_eq(cw_batch_build(&l, t, 1234, T0, T0 + 15 * DAY, 300), 0);
	ck_assert_uint_eq(l.n, 54);
	ck_assert_uint_eq(l.v[0].n, 23);
	ck_assert_uint_eq(l.v[53].n, 1234 - 53 * 23);
	cw_batch_list_release(&l);
	free(t);
}
END_TEST

START_TEST(build_time_split)
{
	struct cw_batch_list l;
	size_t t[3] = { 4, 5, 6 };

	/* 60 s over 90 days: 2 windows, one query a call, window 0 first */
	ck_assert_int_eq(cw_batch_build(&l, t, 3, T0, T0 + 90 * DAY, 60), 0);
	ck_assert_uint_eq(l.n, 6);
	for (size_t i = 0; i < 6; i++) {
		ck_assert_uint_eq(l.v[i].n, 1);
		ck_assert_uint_eq(l.v[i].targets[0], t[i % 3]);
		ck_assert_uint_eq(l.v[i].window, i / 3);
		ck_assert_int_eq(l.v[i].start, i < 3 ? T0 : T0 + 45 * DAY);
		ck_assert_int_eq(l.v[i].end, i < 3 ? T0 + 45 * DAY : T0 + 90 * DAY);
	}
	cw_batch_list_release(&l);
}
END_TEST

START_TEST(build_edge_cases)
{
	struct cw_batch_list l;
	size_t t[1] = { 0 };

	ck_assert_int_eq(cw_batch_build(&l, t, 0, T0, T0 + DAY, DAY), 0);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_ptr_null(l.v);
	cw_batch_list_release(&l);
	ck_assert_int_eq(cw_batch_build(&l, t, 1, T0, T0, DAY), CW_EINVAL);
	ck_assert_int_eq(cw_batch_build(&l, t, 1, T0, T0 + DAY, 0), CW_EINVAL);
	ck_assert_int_eq(cw_batch_build(&l, t, 1, T0, T0 + DAY, -60), CW_EINVAL);
	cw_batch_list_release(NULL);
}
END_TEST

START_TEST(request_for_batch)
{
	struct cw_dim_tmpl dims[2] = { { "BucketName", "{bucket}" },
				       { "FilterId", "EntireBucket" } };
	struct cw_metric_def m = { .namespace_ = "AWS/S3", .name = "BytesDownloaded",
				   .stat = "Sum", .unit = "Bytes", .dims = dims,
				   .ndims = 2, .per_bucket = true };
	struct cw_plan_target targets[3] = {
		{ .metric = &m, .bucket = "alpha" },
		{ .metric = &m, .bucket = "beta" },
		{ .metric = &m, .bucket = "gamma" },
	};
	struct cw_plan plan = { .start = T0, .end = T0 + 2 * DAY, .period = DAY,
				.targets = targets, .ntargets = 3 };
	size_t idx[2] = { 2, 0 };
	struct cw_batch b = { .start = T0, .end = T0 + 2 * DAY, .targets = idx, .n = 2 };
	char err[CW_ERRBUF], *body = NULL;
	size_t len = 0;

	ck_assert_int_eq(cw_batch_request(&plan, &b, NULL, &body, &len, err, sizeof(err)), 0);
	ck_assert_str_eq(body,
		"{\"MetricDataQueries\":["
		"{\"Id\":\"q0\",\"MetricStat\":{\"Metric\":{\"Namespace\":\"AWS/S3\","
		"\"MetricName\":\"BytesDownloaded\",\"Dimensions\":["
		"{\"Name\":\"BucketName\",\"Value\":\"gamma\"},"
		"{\"Name\":\"FilterId\",\"Value\":\"EntireBucket\"}]},"
		"\"Period\":86400,\"Stat\":\"Sum\"},\"ReturnData\":true},"
		"{\"Id\":\"q1\",\"MetricStat\":{\"Metric\":{\"Namespace\":\"AWS/S3\","
		"\"MetricName\":\"BytesDownloaded\",\"Dimensions\":["
		"{\"Name\":\"BucketName\",\"Value\":\"alpha\"},"
		"{\"Name\":\"FilterId\",\"Value\":\"EntireBucket\"}]},"
		"\"Period\":86400,\"Stat\":\"Sum\"},\"ReturnData\":true}],"
		"\"StartTime\":1700006400,\"EndTime\":1700179200,"
		"\"ScanBy\":\"TimestampDescending\"}");
	ck_assert_uint_eq(len, strlen(body));
	free(body);

	idx[1] = 3; /* no such target */
	ck_assert_int_eq(cw_batch_request(&plan, &b, NULL, &body, &len, err, sizeof(err)),
			 CW_EINVAL);
	ck_assert_ptr_null(body);
	ck_assert_str_eq(err, "GetMetricData request: target 3: no such target");
}
END_TEST

static Suite *batch_suite(void)
{
	Suite *s = suite_create("batch");
	TCase *tc = tcase_create("batch");

	tcase_add_test(tc, per_call_limits);
	tcase_add_test(tc, calls_are_sum_of_ceil);
	tcase_add_test(tc, windows_split_time);
	tcase_add_test(tc, build_daily);
	tcase_add_test(tc, build_datapoint_cap);
	tcase_add_test(tc, build_time_split);
	tcase_add_test(tc, build_edge_cases);
	tcase_add_test(tc, request_for_batch);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(batch_suite());
}
