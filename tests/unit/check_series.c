/*
 * check_series.c - the dense series: slots, completeness, putting points,
 * building from loose points (period inference, bucketing, collisions).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "series.h"
#include "testlib.h"

START_TEST(test_init_all_gaps)
{
	struct cw_series s;
	ck_assert_int_eq(cw_series_init(&s, 86400 * 10, 86400, 5), 0);
	ck_assert_uint_eq(s.n, 5);
	for (size_t i = 0; i < s.n; i++)
		ck_assert(isnan(s.values[i]));
	ck_assert_int_eq(s.complete_end, 86400 * 15);
	ck_assert_uint_eq(cw_series_complete(&s), 5);
	ck_assert_int_eq(cw_series_time(&s, 3), 86400 * 13);
	ck_assert_uint_eq(cw_series_count(&s, 0, 5), 0);
	cw_series_release(&s);
	ck_assert_ptr_null(s.values);
	ck_assert_int_eq(cw_series_init(&s, 0, 0, 5), CW_EINVAL);
	ck_assert_int_eq(cw_series_init(&s, 0, -60, 5), CW_EINVAL);
	ck_assert_int_eq(cw_series_init(&s, 0, 60, 0), 0);
	ck_assert_uint_eq(cw_series_complete(&s), 0);
	cw_series_release(&s);
}
END_TEST

START_TEST(test_complete)
{
	struct cw_series s;
	ck_assert_int_eq(cw_series_init(&s, 0, 3600, 24), 0);
	s.complete_end = 10 * 3600 + 1800; /* slot 10 is still running */
	ck_assert_uint_eq(cw_series_complete(&s), 10);
	s.complete_end = 10 * 3600;
	ck_assert_uint_eq(cw_series_complete(&s), 10);
	s.complete_end = 0;
	ck_assert_uint_eq(cw_series_complete(&s), 0);
	s.complete_end = -5;
	ck_assert_uint_eq(cw_series_complete(&s), 0);
	s.complete_end = 1000 * 3600;
	ck_assert_uint_eq(cw_series_complete(&s), 24);
	cw_series_release(&s);
}
END_TEST

START_TEST(test_put)
{
	struct cw_series s;
	ck_assert_int_eq(cw_series_init(&s, 600, 60, 10), 0);
	ck_assert_int_eq(cw_series_put(&s, 600, 1.0, CW_COMBINE_LAST), 0);
	ck_assert_int_eq(cw_series_put(&s, 659, 2.0, CW_COMBINE_LAST), 0);
	ck_assert(s.values[0] == 2.0);
	ck_assert_int_eq(cw_series_put(&s, 660, 5.0, CW_COMBINE_SUM), 0);
	ck_assert_int_eq(cw_series_put(&s, 700, 7.0, CW_COMBINE_SUM), 0);
	ck_assert(s.values[1] == 12.0);
	ck_assert_int_eq(cw_series_put(&s, 720, 3.0, CW_COMBINE_MAX), 0);
	ck_assert_int_eq(cw_series_put(&s, 779, 9.0, CW_COMBINE_MAX), 0);
	ck_assert_int_eq(cw_series_put(&s, 760, 4.0, CW_COMBINE_MAX), 0);
	ck_assert(s.values[2] == 9.0);
	/* outside [start, end) */
	ck_assert_int_eq(cw_series_put(&s, 599, 1.0, CW_COMBINE_LAST), 1);
	ck_assert_int_eq(cw_series_put(&s, 1200, 1.0, CW_COMBINE_LAST), 1);
	ck_assert_int_eq(cw_series_put(&s, 1199, 1.0, CW_COMBINE_LAST), 0);
	ck_assert(s.values[9] == 1.0);
	ck_assert_int_eq(cw_series_put(&s, 800, NAN, CW_COMBINE_LAST), CW_EINVAL);
	ck_assert_int_eq(cw_series_put(&s, 800, INFINITY, CW_COMBINE_LAST), CW_EINVAL);
	ck_assert_uint_eq(cw_series_count(&s, 0, 10), 4);
	ck_assert_uint_eq(cw_series_count(&s, 1, 3), 2);
	ck_assert_uint_eq(cw_series_count(&s, 5, 100), 1);
	cw_series_release(&s);
}
END_TEST

START_TEST(test_from_points_infers_period)
{
	/* 5-minute data with jitter (NAB style :27, :32), newest first, a
	 * missing point (14:37 absent). */
	int64_t base = 1392388200; /* 2014-02-14 14:30:00 */
	int64_t t[] = { base + 1020, base + 720, base + 120, base - 180 };
	double v[] = { 5, 4, 2, 1 };
	struct cw_series s;
	char err[CW_ERRBUF];

	ck_assert_int_eq(cw_series_from_points(&s, t, v, 4, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(s.period, 300);
	ck_assert_int_eq(s.start, base - 300); /* floor of 14:27 is 14:25 */
	ck_assert_uint_eq(s.n, 5);
	/* slots 14:25 14:30 14:35 14:40 14:45 */
	ck_assert(s.values[0] == 1 && s.values[1] == 2 && isnan(s.values[2]) &&
		  s.values[3] == 4 && s.values[4] == 5);
	ck_assert_int_eq(s.complete_end, base + 1200);
	ck_assert_uint_eq(cw_series_complete(&s), 5);
	cw_series_release(&s);
}
END_TEST

START_TEST(test_from_points_gaps_and_collisions)
{
	/* daily, day 2 missing, day 3 given twice: the later time wins, and for
	 * equal times the later input */
	int64_t d = 86400;
	int64_t t[] = { 0, d, 3 * d, 3 * d + 10, 4 * d, 4 * d, 5 * d, 6 * d };
	double v[] = { 1, 2, 30, 31, 40, 41, 5, NAN };
	struct cw_series s;
	char err[CW_ERRBUF];

	ck_assert_int_eq(cw_series_from_points(&s, t, v, 8, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(s.period, d);
	ck_assert_uint_eq(s.n, 7); /* the NaN point extends the range to day 6 */
	ck_assert(isnan(s.values[2]));
	ck_assert(s.values[3] == 31);
	ck_assert(s.values[4] == 41);
	ck_assert(isnan(s.values[6]));
	ck_assert_uint_eq(cw_series_count(&s, 0, s.n), 5);
	cw_series_release(&s);
}
END_TEST

START_TEST(test_from_points_given_period)
{
	/* hourly points bucketed into a daily period: last value in the day */
	int64_t t[48];
	double v[48];
	for (int i = 0; i < 48; i++) {
		t[i] = 86400 * 100 + 3600 * i;
		v[i] = i;
	}
	struct cw_series s;
	char err[CW_ERRBUF];
	ck_assert_int_eq(cw_series_from_points(&s, t, v, 48, 86400, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.n, 2);
	ck_assert(s.values[0] == 23 && s.values[1] == 47);
	cw_series_release(&s);
}
END_TEST

START_TEST(test_from_points_single)
{
	struct cw_series s;
	char err[CW_ERRBUF];
	int64_t t = 86400 * 20000;
	double v = 7;
	ck_assert_int_eq(cw_series_from_points(&s, &t, &v, 1, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(s.period, 86400);
	ck_assert_uint_eq(s.n, 1);
	cw_series_release(&s);
	t = 86400 * 20000 + 3600 * 5;
	ck_assert_int_eq(cw_series_from_points(&s, &t, &v, 1, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(s.period, 3600);
	cw_series_release(&s);
	t = 86400 * 20000 + 7;
	ck_assert_int_eq(cw_series_from_points(&s, &t, &v, 1, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(s.period, 1);
	cw_series_release(&s);
}
END_TEST

START_TEST(test_from_points_errors)
{
	struct cw_series s;
	char err[CW_ERRBUF];
	int64_t t[] = { 0, 1, 2, 100000000 };
	double v[] = { 1, 2, 3, 4 };
	ck_assert_int_eq(cw_series_from_points(&s, t, v, 0, 0, err, sizeof(err)), CW_EINVAL);
	ck_assert_str_eq(err, "no datapoints");
	ck_assert_int_eq(cw_series_from_points(&s, t, v, 4, 0, err, sizeof(err)), CW_ETOOBIG);
	ck_assert_ptr_null(s.values);
	ck_assert_ptr_nonnull(strstr(err, "use a longer period"));
	double bad[] = { 1, INFINITY, 3, 4 };
	ck_assert_int_eq(cw_series_from_points(&s, t, bad, 3, 0, err, sizeof(err)), CW_EINVAL);
	ck_assert_ptr_null(s.values);
}
END_TEST

static Suite *series_suite(void)
{
	Suite *s = suite_create("series");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_init_all_gaps);
	tcase_add_test(tc, test_complete);
	tcase_add_test(tc, test_put);
	tcase_add_test(tc, test_from_points_infers_period);
	tcase_add_test(tc, test_from_points_gaps_and_collisions);
	tcase_add_test(tc, test_from_points_given_period);
	tcase_add_test(tc, test_from_points_single);
	tcase_add_test(tc, test_from_points_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(series_suite());
}
