/*
 * check_newhigh.c - the newhigh detector against hand-computed
 * expectations: a new high beyond the window's range, the margin, the
 * re-arm time (one event, one alert), new lows, gaps, and periods it
 * leaves to robust.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detector.h"
#include "dettest.h"
#include "err.h"
#include "testlib.h"

#define MIN5 300

/*
 * 5-minute slots, window 1h (12 slots), margin 0, rearm 1h.  10 and 11
 * alternate for two hours; 20 at slot 24 beats the window's high (11):
 * an alert.  21 at slot 25 beats 20 but comes 5 minutes later: ok, of
 * kind rearm.  30 at slot 36, exactly an hour after the alert: re-armed,
 * an alert again.
 */
START_TEST(test_new_high_and_rearm)
{
	double v[40];
	for (size_t i = 0; i < 40; i++)
		v[i] = i % 2 ? 11 : 10;
	v[24] = 20;
	v[25] = 21;
	v[36] = 30;
	const char *spec = "newhigh:window=1h:margin=0:rearm=1h:smooth=0:direction=up";
	struct got g = judge_all(spec, v, 40, 0, MIN5);
	ck_assert_uint_eq(g.n, 40);
	ck_assert_int_eq(g.j[23].status, CW_STATUS_OK);
	ck_assert_int_eq(g.j[24].status, CW_STATUS_ANOMALY);
	ck_assert_str_eq(g.j[24].kind, "new_high");
	ck_assert(g.j[24].baseline == 11 && g.j[24].limit == 11);
	ck_assert_int_eq(g.j[25].status, CW_STATUS_OK);
	ck_assert_str_eq(g.j[25].kind, "rearm");
	ck_assert_int_eq(g.j[35].status, CW_STATUS_OK);
	ck_assert_int_eq(g.j[36].status, CW_STATUS_ANOMALY);
	ck_assert(g.j[36].baseline == 21);
	free(g.j);

	/* margin 0.5 of the range (1): the limit is 11.5 */
	g = judge_all("newhigh:window=1h:margin=0.5:rearm=1h:smooth=0:direction=up", v, 40, 0,
		      MIN5);
	ck_assert(g.j[24].limit == 11.5);
	ck_assert_int_eq(g.j[24].status, CW_STATUS_ANOMALY);
	free(g.j);

	/* exactly at the limit is ok */
	v[24] = 11.5;
	g = judge_all("newhigh:window=1h:margin=0.5:rearm=1h:smooth=0:direction=up", v, 40, 0,
		      MIN5);
	ck_assert_int_eq(g.j[24].status, CW_STATUS_OK);
	free(g.j);
}
END_TEST

START_TEST(test_new_low_gaps_and_periods)
{
	double v[40];
	for (size_t i = 0; i < 40; i++)
		v[i] = i % 2 ? 11 : 10;
	v[30] = 1;
	v[20] = NAN;
	struct got g = judge_all("newhigh:window=1h:margin=0:direction=down:smooth=0", v, 40, 0,
				 MIN5);
	ck_assert_uint_eq(g.n, 39); /* the gap is not judged */
	ck_assert_int_eq(g.j[29].period_start, 30 * MIN5);
	ck_assert_int_eq(g.j[29].status, CW_STATUS_ANOMALY);
	ck_assert_str_eq(g.j[29].kind, "new_low");
	ck_assert(g.j[29].baseline == 10);
	free(g.j);

	/* up only: a new low is ok */
	g = judge_all("newhigh:window=1h:margin=0:smooth=0:direction=up", v, 40, 0, MIN5);
	ck_assert_int_eq(g.j[29].status, CW_STATUS_OK);
	free(g.j);

	/* a daily series is left to robust: ok, no baseline */
	v[30] = 1e9;
	g = judge_all("newhigh", v, 40, 0, 86400);
	ck_assert_int_eq(g.j[29].status, CW_STATUS_OK);
	ck_assert(isnan(g.j[29].baseline));
	free(g.j);
}
END_TEST

/*
 * The default judges the mean of the last hour: 0 and 100 alternate for
 * two days (every hour's mean is exactly 50), then the series sits at 90,
 * inside the raw range.  The bare values never make a new high; the
 * hourly mean at the first 90 is (6 x 100 + 5 x 0 + 90) / 12 = 57.5, above
 * 50 + min_excess (5): one alert (the re-arm holds the rest).
 */
START_TEST(test_smoothed_level_change)
{
	size_t n = 576 + 36;
	double *v = malloc(n * sizeof(double));
	for (size_t i = 0; i < n; i++)
		v[i] = i < 576 ? (double)(i % 2) * 100 : 90;
	struct got g = judge_all("newhigh:min_excess=5:window=1d", v, n, 0, MIN5);
	size_t alerts = 0, at = 0;
	for (size_t i = 288; i < g.n; i++) /* after min_history (1d) */
		if (g.j[i].status == CW_STATUS_ANOMALY) {
			alerts++;
			at = i;
		}
	ck_assert_uint_eq(alerts, 1);
	ck_assert_uint_eq(at, 576);
	ck_assert_str_eq(g.j[at].kind, "new_high");
	ck_assert(g.j[at].baseline == 50);
	ck_assert(g.j[at].limit == 55);
	ck_assert(g.j[at].value == 90); /* the period's own value */
	free(g.j);

	g = judge_all("newhigh:min_excess=5:window=1d:smooth=0", v, n, 0, MIN5);
	for (size_t i = 576; i < g.n; i++)
		ck_assert_int_eq(g.j[i].status, CW_STATUS_OK);
	free(g.j);
	free(v);
}
END_TEST

static Suite *newhigh_suite(void)
{
	Suite *s = suite_create("newhigh");
	TCase *tc = tcase_create("newhigh");
	tcase_add_test(tc, test_new_high_and_rearm);
	tcase_add_test(tc, test_new_low_gaps_and_periods);
	tcase_add_test(tc, test_smoothed_level_change);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(newhigh_suite());
}
