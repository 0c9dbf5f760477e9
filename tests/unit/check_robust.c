/*
 * check_robust.c - the robust detector against hand-computed expectations:
 * the weekly profile, the scale and its floor, episodes (open, stay open
 * while elevated, close; no contamination of the baseline), level-shift
 * acceptance, recurring month-end peaks, the per-period defaults, sparse
 * series; the dollar gate of the judging path; and the replay equality
 * (judging the last period alone gives the verdict judging every period
 * gives it) for every stateful detector.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detector.h"
#include "dettest.h"
#include "err.h"
#include "run.h"
#include "testlib.h"

#define DAY 86400
#define HOUR 3600

#define ck_near(a, b) ck_assert_msg(fabs((double)(a) - (double)(b)) <= 1e-9 * (1 + fabs((double)(b))), \
				    "%.17g != %.17g", (double)(a), (double)(b))

/* 2025-01-06, a Monday, 00:00 UTC. */
#define MONDAY 1736121600

/* ---- profile ---------------------------------------------------------- */

/*
 * Weekdays 100, weekends 20, ten weeks.  Medians per weekday: 100 (x5)
 * and 20 (x2), mean 540/7; so S(weekday) = 100 / (540/7), S(weekend) =
 * 20 / (540/7), every accepted value divides to 540/7, the MAD is 0 and
 * the scale is its floor 0.1 x 540/7.  A Saturday's expected value is
 * therefore exactly 20 and its limit max(2.5 x 20, 20 + 7 x 0.1 x 540/7
 * x 20/(540/7)) = max(50, 34) = 50: 60 on a Saturday is anomalous although
 * it is far below a weekday, and 45 is not.
 */
START_TEST(test_profile_day_of_week)
{
	double v[71];
	for (size_t i = 0; i < 71; i++)
		v[i] = i % 7 >= 5 ? 20 : 100;
	ck_assert_int_eq(70 % 7, 0); /* slot 70 is a Monday, 68 a Saturday */

	v[68] = 60;
	struct got g = judge_all("robust", v, 71, MONDAY, DAY);
	ck_assert_uint_eq(g.n, 71);
	ck_assert_int_eq(g.j[68].status, CW_STATUS_ANOMALY);
	ck_near(g.j[68].baseline, 20);
	ck_near(g.j[68].limit, 50);
	ck_near(g.j[68].score, 3);
	ck_assert_int_eq(g.j[70].status, CW_STATUS_OK); /* Monday 100 */
	ck_near(g.j[70].baseline, 100);
	ck_near(g.j[70].limit, 250);
	free(g.j);

	v[68] = 45;
	g = judge_all("robust", v, 71, MONDAY, DAY);
	ck_assert_int_eq(g.j[68].status, CW_STATUS_OK);
	free(g.j);

	/* without the profile a Saturday at 60 is below the median of 100 */
	v[68] = 60;
	g = judge_all("robust:weeks=0", v, 71, MONDAY, DAY);
	ck_assert_int_eq(g.j[68].status, CW_STATUS_OK);
	ck_near(g.j[68].baseline, 100);
	free(g.j);
}
END_TEST

/* Hourly: hour of week.  A nightly batch at 02:00 (x5) is part of the
 * profile once three weeks hold it; a batch at 14:00 on one day is not. */
START_TEST(test_profile_hour_of_week)
{
	size_t n = 35 * 24;
	double *v = malloc(n * sizeof(double));
	for (size_t i = 0; i < n; i++)
		v[i] = i % 24 == 2 ? 500 : 100;
	v[n - 10] = 500; /* 14:00 on the last day */
	struct got g = judge_all("robust", v, n, MONDAY, HOUR);
	ck_assert_uint_eq(g.n, n);
	ck_assert_int_eq(g.j[n - 22].status, CW_STATUS_OK); /* the last 02:00 */
	ck_assert_int_eq(g.j[n - 10].status, CW_STATUS_ANOMALY);
	free(g.j);
	free(v);
}
END_TEST

/*
 * An hour of the week below both of its neighbours is noise of a median of
 * four values: 100 every hour for five weeks, 60 every Monday at 14:00,
 * and 160 on the last Monday at 14:00.  Its neighbours' median (100)
 * stands for the phase: the expected value is 100 (the profile's mean of
 * medians cancels out), the limit max(2.5 x 100, 100 + 7 x 0.1 x 100) =
 * 250, and 160 is ok.  Without it the expected value would be 60 and the
 * limit 150.  A Monday 14:00 at 300 is still an anomaly.
 */
START_TEST(test_profile_lone_dip)
{
	size_t n = 35 * 24, last = 28 * 24 + 14;
	double *v = malloc(n * sizeof(double));
	for (size_t i = 0; i < n; i++)
		v[i] = i % (7 * 24) == 14 ? 60 : 100;
	v[last] = 160;
	struct got g = judge_all("robust", v, n, MONDAY, HOUR);
	ck_assert_uint_eq(g.n, n);
	ck_assert_int_eq(g.j[last].status, CW_STATUS_OK);
	ck_near(g.j[last].baseline, 100);
	ck_near(g.j[last].limit, 250);
	free(g.j);
	v[last] = 300;
	g = judge_all("robust", v, n, MONDAY, HOUR);
	ck_assert_int_eq(g.j[last].status, CW_STATUS_ANOMALY);
	free(g.j);
	free(v);
}
END_TEST

/* ---- scale -------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

START_TEST(test_scale_floor_and_mad)
{
	double v[31];
	for (size_t i = 0; i < 31; i++)
		v[i] = 100;
	/* constant: MAD 0, scale = floor 0.1 x 100 = 10; ratio 1, k 3:
	 * limit = max(100, 100, 100 + 3 x 10) = 130 */
	v[30] = 131;
	struct got g = judge_all("robust:weeks=0:ratio=1:k=3", v, 31, MONDAY, DAY);
	ck_assert_int_eq(g.j[30].status, CW_STATUS_ANOMALY);
	ck_near(g.j[30].baseline, 100);
	ck_near(g.j[30].limit, 130);
	free(g.j);
	v[30] = 129;
	g = judge_all("robust:weeks=0:ratio=1:k=3", v, 31, MONDAY, DAY);
	ck_assert_int_eq(g.j[30].status, CW_STATUS_OK);
	free(g.j);
	g = judge_all("robust:weeks=0:ratio=1:k=3:scale_floor=0.2", v, 31, MONDAY, DAY);
	ck_near(g.j[30].limit, 160);
	free(g.j);

	/* 90, 110 alternating (14 each in the 28-day window): median 100, MAD
	 * 10, scale 1.4826 x 10 above the floor of 0 */
	for (size_t i = 0; i < 30; i++)
		v[i] = i % 2 ? 110 : 90;
	v[30] = 100;
	g = judge_all("robust:weeks=0:ratio=1.3:k=3:scale_floor=0", v, 31, MONDAY, DAY);
	ck_near(g.j[30].baseline, 100);
	ck_near(g.j[30].limit, 100 + 3 * 1.4826 * 10);
	free(g.j);

	/* the MAD against a naive one: random windows of odd and even size,
	 * nothing anomalous (k = 1000), so the window is the last `window`
	 * values: MAD = (limit - baseline) / (1000 x 1.4826) */
	unsigned seed = 5;
	for (size_t w = 27; w <= 28; w++) {
		double r[60], tmp[60], dev[60];
		char spec[96];
		for (size_t i = 0; i < 60; i++) {
			seed = seed * 1103515245u + 12345u;
			r[i] = 50 + (double)((seed >> 8) % 1000) / 10.0;
		}
		snprintf(spec, sizeof(spec),
			 "robust:weeks=0:ratio=1:k=1000:scale_floor=0:window=%zud", w);
		g = judge_all(spec, r, 60, MONDAY, DAY);
		memcpy(tmp, r + 59 - w, w * sizeof(double));
		qsort(tmp, w, sizeof(double), cmp_double);
		double med = w % 2 ? tmp[w / 2] : (tmp[w / 2 - 1] + tmp[w / 2]) / 2;
		for (size_t i = 0; i < w; i++)
			dev[i] = fabs(tmp[i] - med);
		qsort(dev, w, sizeof(double), cmp_double);
		double mad = w % 2 ? dev[w / 2] : (dev[w / 2 - 1] + dev[w / 2]) / 2;
		ck_near(g.j[59].baseline, med);
		ck_near((g.j[59].limit - g.j[59].baseline) / (1000 * 1.4826), mad);
		free(g.j);
	}

	/* min_excess: limit = max(2.5 x 100, 100 + 1000) */
	for (size_t i = 0; i < 31; i++)
		v[i] = 100;
	g = judge_all("robust:weeks=0:min_excess=1000", v, 31, MONDAY, DAY);
	ck_near(g.j[30].limit, 1100);
	free(g.j);
}
END_TEST

/* Most days without traffic: the median is 0, the baseline is the mean
 * and the limit at least the largest recent value. */
START_TEST(test_sparse)
{
	double v[40];
	for (size_t i = 0; i < 40; i++)
		v[i] = i % 4 == 0 ? 80 : 0;
	v[39] = 81; /* above everything seen */
	struct got g = judge_all("robust:weeks=0", v, 40, MONDAY, DAY);
	ck_assert_int_eq(g.j[36].status, CW_STATUS_OK); /* a usual 80 */
	ck_assert_int_eq(g.j[39].status, CW_STATUS_ANOMALY);
	ck_near(g.j[39].limit, 80);
	ck_near(g.j[39].baseline, 20);
	free(g.j);
}
END_TEST

/* ---- episodes ------------------------------------------------------------ */

/*
 * 100 for 30 days; ratio 2, k 0: limit 200, elevated above 150.  Then
 * 300 (opens), 250 and 160 (elevated: the episode goes on, peak 300),
 * 140 (closes: ok), 300 (a new episode).  The baseline stays 100 all
 * along: no day of an episode feeds it.
 */
START_TEST(test_episode)
{
	double v[35];
	for (size_t i = 0; i < 30; i++)
		v[i] = 100;
	v[30] = 300;
	v[31] = 250;
	v[32] = 160;
	v[33] = 140;
	v[34] = 300;
	struct got g = judge_all("robust:weeks=0:ratio=2:k=0", v, 35, MONDAY, DAY);
	int64_t t30 = MONDAY + 30 * DAY;
	for (size_t i = 30; i < 35; i++)
		ck_near(g.j[i].baseline, 100);
	ck_assert_int_eq(g.j[29].status, CW_STATUS_OK);
	ck_assert_int_eq(g.j[30].status, CW_STATUS_ANOMALY);
	ck_assert_uint_eq(g.j[30].episode_len, 1);
	ck_assert_int_eq(g.j[30].episode_start, t30);
	ck_assert_int_eq(g.j[31].status, CW_STATUS_ANOMALY);
	ck_assert_uint_eq(g.j[31].episode_len, 2);
	ck_assert_int_eq(g.j[31].episode_start, t30);
	ck_near(g.j[31].episode_peak, 300);
	ck_assert_int_eq(g.j[32].status, CW_STATUS_ANOMALY); /* 160 < limit, elevated */
	ck_assert_uint_eq(g.j[32].episode_len, 3);
	ck_assert_int_eq(g.j[33].status, CW_STATUS_OK);
	ck_assert_uint_eq(g.j[33].episode_len, 0);
	ck_assert_int_eq(g.j[34].status, CW_STATUS_ANOMALY);
	ck_assert_uint_eq(g.j[34].episode_len, 1);
	ck_assert_int_eq(g.j[34].episode_start, MONDAY + 34 * DAY);
	free(g.j);

	/* a gap inside an episode neither closes it nor counts */
	v[32] = NAN;
	g = judge_all("robust:weeks=0:ratio=2:k=0", v, 35, MONDAY, DAY);
	ck_assert_uint_eq(g.n, 34);
	ck_assert_int_eq(g.j[32].period_start, MONDAY + 33 * DAY);
	ck_assert_int_eq(g.j[32].status, CW_STATUS_OK);
	free(g.j);
}
END_TEST

/*
 * 100 for 30 days, then 300 every day (shift_after 7d: 5 of the last 7
 * days elevated).  Days 30..33 are the episode, day 34 (the fifth
 * elevated day) accepts the new level and says so once; from day 35 the
 * baseline is 300 and 300 is ok.
 */
START_TEST(test_level_shift)
{
	double v[45];
	for (size_t i = 0; i < 45; i++)
		v[i] = i < 30 ? 100 : 300;
	struct got g = judge_all("robust:weeks=0", v, 45, MONDAY, DAY);
	for (size_t i = 30; i < 34; i++) {
		ck_assert_int_eq(g.j[i].status, CW_STATUS_ANOMALY);
		ck_assert_ptr_null(g.j[i].kind);
	}
	ck_assert_uint_eq(g.j[33].episode_len, 4);
	ck_assert_int_eq(g.j[34].status, CW_STATUS_ANOMALY);
	ck_assert_str_eq(g.j[34].kind, "level_shift");
	for (size_t i = 35; i < 45; i++) {
		ck_assert_int_eq(g.j[i].status, CW_STATUS_OK);
		ck_near(g.j[i].baseline, 300);
	}
	free(g.j);

	/* a shift of 1.8x never crosses the limit (2.5x) but is elevated
	 * (above 1.75x): accepted with one level_shift verdict */
	for (size_t i = 30; i < 45; i++)
		v[i] = 180;
	g = judge_all("robust:weeks=0", v, 45, MONDAY, DAY);
	size_t anomalies = 0;
	for (size_t i = 30; i < 45; i++)
		anomalies += g.j[i].status == CW_STATUS_ANOMALY;
	ck_assert_uint_eq(anomalies, 1);
	ck_assert_str_eq(g.j[34].kind, "level_shift");
	ck_near(g.j[44].baseline, 180);
	free(g.j);
}
END_TEST

/*
 * A drop is the new normal, silently: 100 for 30 days, then 40 (below
 * 0.7 x 100 = halfway to 100 / 2.5, and beyond one robust deviation, 10).
 * Day 34 is the fifth low day of the last seven: the window restarts from
 * the low ones of days 28..34 (40 x 5), so day 35's baseline is 40, where
 * the 28-day median would still be 100; no alert on the way.
 * 120 on day 36 is then 3 x the new level: limit max(2.5 x 40, 40 + 6 x
 * 4) = 100, an anomaly that the old baseline would have hidden.
 */
START_TEST(test_drop_is_the_new_normal)
{
	double v[37];
	for (size_t i = 0; i < 37; i++)
		v[i] = i < 30 ? 100 : 40;
	v[36] = 120;
	struct got g = judge_all("robust:weeks=0", v, 37, MONDAY, DAY);
	for (size_t i = 30; i < 36; i++) {
		ck_assert_int_eq(g.j[i].status, CW_STATUS_OK);
		ck_assert_ptr_null(g.j[i].kind);
	}
	ck_near(g.j[34].baseline, 100);
	ck_near(g.j[35].baseline, 40);
	ck_assert_int_eq(g.j[36].status, CW_STATUS_ANOMALY);
	ck_near(g.j[36].limit, 100);
	free(g.j);
	/* direction both judges drops itself: 40 is not below 100 / 2.5, but
	 * elevated on the low side, so day 34 is a level shift it reports */
	g = judge_all("robust:weeks=0:direction=both", v, 37, MONDAY, DAY);
	ck_assert_int_eq(g.j[30].status, CW_STATUS_OK);
	ck_assert_int_eq(g.j[34].status, CW_STATUS_ANOMALY);
	ck_assert_str_eq(g.j[34].kind, "level_shift");
	ck_near(g.j[35].baseline, 40);
	free(g.j);
}
END_TEST

/*
 * The new level is what the periods flagged at it show, not the whole
 * last week: 100 a day, then 1000, 1100, 100, 1200, 1300, 1400 (days
 * 40..45).  Day 45 is the fifth elevated day of the last seven (39..45):
 * a level shift, and the window restarts from the five elevated values.
 * Day 46 is judged against their median, 1200, with their MAD, 100 (the
 * deviations 200, 100, 0, 100, 200), as scale 1.4826 x 100 = 148.26:
 * limit max(2.5 x 1200, 1200 + 6 x 148.26) = 3000.  With the two days of
 * 100 in it, the window would give a median of 1100 and a MAD of 200.
 */
START_TEST(test_shift_keeps_the_new_level_only)
{
	double v[47];
	for (size_t i = 0; i < 47; i++)
		v[i] = 100;
	const double top[] = { 1000, 1100, 100, 1200, 1300, 1400, 1250 };
	for (size_t i = 0; i < 7; i++)
		v[40 + i] = top[i];
	struct got g = judge_all("robust:weeks=0", v, 47, MONDAY, DAY);
	ck_assert_int_eq(g.j[40].status, CW_STATUS_ANOMALY);
	ck_assert_int_eq(g.j[42].status, CW_STATUS_OK);
	ck_assert_int_eq(g.j[45].status, CW_STATUS_ANOMALY);
	ck_assert_str_eq(g.j[45].kind, "level_shift");
	ck_assert_int_eq(g.j[46].status, CW_STATUS_OK);
	ck_near(g.j[46].baseline, 1200);
	ck_near(g.j[46].limit, 3000);
	free(g.j);
}
END_TEST

/*
 * A shift that went back, with a scale its ramp inflated: 100 a day, a
 * ramp 300, 600, 1000, 1400, 1600 (days 40..44: a level shift at 44, the
 * window restarts from those five), 1500 on days 45..47 (accepted), then
 * 100 again.  On day 48 the window is 300, 600, 1000, 1400, 1500 x 3,
 * 1600: level 1450, MAD 100, scale max(1.4826 x 100, 0.1 x 1450) =
 * 148.26; 100 is below halfway to 1450 / 2.5 (1015) and beyond one robust
 * deviation: low.  Values that low do not feed a window restarted at a
 * higher level: mixed into it, they would make it two levels whose MAD
 * (then 550 and more) hides that the next days are low.  So days 48..52
 * leave the window as it is, day 52 is the fifth low day of the seven
 * since the shift (46..52), the window restarts from those five, and day
 * 53 is judged against 100 again: 500 on day 54 is an anomaly (limit
 * 250), where the mixed window still expected 450, limit 3563.
 */
START_TEST(test_shift_went_back)
{
	double v[56];
	for (size_t i = 0; i < 56; i++)
		v[i] = 100;
	const double up[] = { 300, 600, 1000, 1400, 1600, 1500, 1500, 1500 };
	for (size_t i = 0; i < 8; i++)
		v[40 + i] = up[i];
	v[54] = 500;
	struct got g = judge_all("robust:weeks=0", v, 56, MONDAY, DAY);
	ck_assert_str_eq(g.j[44].kind, "level_shift");
	ck_near(g.j[48].baseline, 1450);
	ck_near(g.j[48].limit, 3625);
	for (size_t i = 48; i < 53; i++) {
		ck_assert_int_eq(g.j[i].status, CW_STATUS_OK);
		ck_near(g.j[i].baseline, 1450);
	}
	ck_near(g.j[53].baseline, 100);
	ck_assert_int_eq(g.j[54].status, CW_STATUS_ANOMALY);
	ck_near(g.j[54].baseline, 100);
	ck_near(g.j[54].limit, 250);
	free(g.j);
}
END_TEST

/* ---- recurring peaks ---------------------------------------------------- */

/* Days since 1970 of 2025-01-01. */
#define JAN1 20089

/*
 * 100 a day in 2025, 1000 on the last day of each month.  January alerts
 * (no month before it); February is a recurring peak because the only
 * month judged before it (January) had the peak (1 of 1); March onwards
 * are recurring peaks (2 of the last 3 months), unless a month end is
 * more than peak_factor (2) x its past peaks: 2100 in June alerts.
 */
START_TEST(test_recurring_peak)
{
	const int ends[] = { 30, 58, 89, 119, 150, 180, 211 }; /* Jan 31 .. Jul 31 */
	double v[212];
	for (size_t i = 0; i < 212; i++)
		v[i] = 100;
	for (size_t k = 0; k < 7; k++)
		v[ends[k]] = 1000;
	v[180] = 2100;
	struct got g = judge_all("robust:weeks=0", v, 212, (int64_t)JAN1 * DAY, DAY);
	ck_assert_int_eq(g.j[30].status, CW_STATUS_ANOMALY);
	for (size_t k = 1; k < 7; k++) {
		const struct cw_judgement *j = &g.j[ends[k]];
		if (ends[k] == 180) {
			ck_assert_int_eq(j->status, CW_STATUS_ANOMALY);
			continue;
		}
		ck_assert_int_eq(j->status, CW_STATUS_OK);
		ck_assert_str_eq(j->kind, "recurring_peak");
		ck_near(j->baseline, 100); /* peaks never fed the baseline */
	}
	free(g.j);

	/* peak_factor=0 turns it off */
	g = judge_all("robust:weeks=0:peak_factor=0", v, 212, (int64_t)JAN1 * DAY, DAY);
	for (size_t k = 0; k < 7; k++)
		ck_assert_int_eq(g.j[ends[k]].status, CW_STATUS_ANOMALY);
	free(g.j);

	/* the first business day: 2025-02-03 (Mon), 03-03 (Mon), 04-01 (Tue),
	 * 05-01 (Thu).  2025-01-01 (day 0) had no history: not judged, so
	 * February's has no past month and alerts, and March's has one
	 * (February's, the 1st business day) and is a recurring peak */
	const int firsts[] = { 33, 61, 90, 120 };
	for (size_t i = 0; i < 212; i++)
		v[i] = 100;
	for (size_t k = 0; k < 4; k++)
		v[firsts[k]] = 1000;
	g = judge_all("robust:weeks=0", v, 212, (int64_t)JAN1 * DAY, DAY);
	ck_assert_int_eq(g.j[33].status, CW_STATUS_ANOMALY);
	ck_assert_int_eq(g.j[61].status, CW_STATUS_OK);
	ck_assert_str_eq(g.j[61].kind, "recurring_peak");
	ck_assert_int_eq(g.j[90].status, CW_STATUS_OK);
	ck_assert_str_eq(g.j[90].kind, "recurring_peak");
	ck_assert_int_eq(g.j[120].status, CW_STATUS_OK);
	free(g.j);

	/* a spike on 2025-04-03: the 3rd of March and of February held peaks,
	 * but those peaks already explained April's 1st business day (04-01):
	 * a job runs once a month, the 3rd is an anomaly */
	v[92] = 1000;
	g = judge_all("robust:weeks=0", v, 212, (int64_t)JAN1 * DAY, DAY);
	ck_assert_int_eq(g.j[90].status, CW_STATUS_OK);
	ck_assert_int_eq(g.j[92].status, CW_STATUS_ANOMALY);
	ck_assert_ptr_null(g.j[92].kind);
	free(g.j);
}
END_TEST

/*
 * An established job that skips: 100 a day, 1000 on the last day of
 * January to April and of July; no run at the end of May and June.  April
 * was a recurring peak (the same day from the month's end held peaks in
 * March, February and January), so July's run, with one peak in the last
 * three months (April), is still recurring: the job is established at
 * that place.  A spike on 2025-03-28 is not: February's peak that it
 * meets there (the same day of the month) recurred as the month's last
 * day, another place, and one peak in two months is not a pattern.
 */
START_TEST(test_recurring_established)
{
	const int ends[] = { 30, 58, 89, 119, 211 }; /* Jan 31 .. Apr 30, Jul 31 */
	double v[212];
	for (size_t i = 0; i < 212; i++)
		v[i] = 100;
	for (size_t k = 0; k < 5; k++)
		v[ends[k]] = 1000;
	v[86] = 1000; /* 2025-03-28 */
	struct got g = judge_all("robust:weeks=0", v, 212, (int64_t)JAN1 * DAY, DAY);
	ck_assert_int_eq(g.j[30].status, CW_STATUS_ANOMALY);
	for (size_t k = 1; k < 5; k++) {
		ck_assert_int_eq(g.j[ends[k]].status, CW_STATUS_OK);
		ck_assert_str_eq(g.j[ends[k]].kind, "recurring_peak");
	}
	ck_assert_int_eq(g.j[150].status, CW_STATUS_OK); /* May 31: no run */
	ck_assert_int_eq(g.j[86].status, CW_STATUS_ANOMALY);
	ck_assert_ptr_null(g.j[86].kind);
	free(g.j);
}
END_TEST

/*
 * The month's job inside an episode: 100 a day, 1000 on the last day of
 * January to April, and 400 (above the limit 250) from 2025-04-29 to
 * 05-01.  April 30 held its peak in the last three months: a recurring
 * peak, not a growth of the episode that opened on the 29th, which stays
 * open without it (May 1 is its second period).
 */
START_TEST(test_recurring_inside_episode)
{
	const int ends[] = { 30, 58, 89, 119 }; /* Jan 31 .. Apr 30 */
	double v[125];
	for (size_t i = 0; i < 125; i++)
		v[i] = 100;
	for (size_t k = 0; k < 4; k++)
		v[ends[k]] = 1000;
	v[118] = v[120] = 400;
	struct got g = judge_all("robust:weeks=0", v, 125, (int64_t)JAN1 * DAY, DAY);
	ck_assert_int_eq(g.j[118].status, CW_STATUS_ANOMALY);
	ck_assert_int_eq(g.j[119].status, CW_STATUS_OK);
	ck_assert_str_eq(g.j[119].kind, "recurring_peak");
	ck_assert_int_eq(g.j[120].status, CW_STATUS_ANOMALY);
	ck_assert_int_eq(g.j[120].episode_start, (int64_t)(JAN1 + 118) * DAY);
	ck_assert_uint_eq(g.j[120].episode_len, 2);
	ck_near(g.j[120].episode_peak, 400);
	ck_near(g.j[120].baseline, 100);
	free(g.j);
}
END_TEST

/*
 * A month's last day stands for the last day only: 100 a day, 1000 on the
 * last day of January to June and on 2025-07-30 and 07-31.  The 30th of
 * July is not the month's end; the same day of the month held peaks in
 * June and April, but those were their months' last days (recurring as
 * such), so they do not make the 30th of a 31-day month recurring: July
 * 30 alerts.  The business-day anchor does not explain it either (July 30
 * is the 22nd business day; of the last three months only April's 22nd,
 * the 30th, held a peak, and it recurred as a month's end: 1 of 2 seen,
 * not established there).  July 31, the job's day, stays recurring.
 */
START_TEST(test_recurring_month_end_alias)
{
	const int days[] = { 30, 58, 89, 119, 150, 180, 210, 211 }; /* Jan 31 .. Jul 31 */
	double v[212];
	for (size_t i = 0; i < 212; i++)
		v[i] = 100;
	for (size_t k = 0; k < 8; k++)
		v[days[k]] = 1000;
	struct got g = judge_all("robust:weeks=0", v, 212, (int64_t)JAN1 * DAY, DAY);
	for (size_t k = 1; k < 6; k++) {
		ck_assert_int_eq(g.j[days[k]].status, CW_STATUS_OK);
		ck_assert_str_eq(g.j[days[k]].kind, "recurring_peak");
	}
	ck_assert_int_eq(g.j[210].status, CW_STATUS_ANOMALY);
	ck_assert_ptr_null(g.j[210].kind);
	ck_assert_int_eq(g.j[211].status, CW_STATUS_OK);
	ck_assert_str_eq(g.j[211].kind, "recurring_peak");
	free(g.j);
}
END_TEST

/*
 * An episode with three peaks over two days or more is no month's job:
 * 100 a day, 1000 on 2025-01-14..16 (days 13..15), on 02-14..16 and on
 * 03-14.  February 14's only past month held a peak on the 14th, but it
 * was the first of an episode's three: February 14 alerts (1 of 1 made
 * all three days recurring), and so does March 14, a one-day spike on a
 * day of the month where two such episodes peaked.  Two peaks a day apart
 * are still a job's run: a busy 30 January (400) before the job on the
 * 31st (1000) leaves February 28's run recurring.  Hourly, a job of three
 * hours at 02:00 on the 1st of February and of March is recurring the
 * second time.
 */
START_TEST(test_recurring_not_from_episodes)
{
	double v[80];
	for (size_t i = 0; i < 80; i++)
		v[i] = 100;
	const int days[] = { 13, 14, 15, 44, 45, 46, 72 };
	for (size_t k = 0; k < 7; k++)
		v[days[k]] = 1000;
	struct got g = judge_all("robust:weeks=0", v, 80, (int64_t)JAN1 * DAY, DAY);
	ck_assert_int_eq(g.j[13].status, CW_STATUS_ANOMALY);
	ck_assert_uint_eq(g.j[15].episode_len, 3);
	ck_assert_int_eq(g.j[44].status, CW_STATUS_ANOMALY);
	ck_assert_ptr_null(g.j[44].kind);
	ck_assert_uint_eq(g.j[46].episode_len, 3);
	ck_assert_int_eq(g.j[72].status, CW_STATUS_ANOMALY);
	ck_assert_ptr_null(g.j[72].kind);
	free(g.j);

	for (size_t i = 0; i < 80; i++)
		v[i] = 100;
	v[29] = 400;
	v[30] = v[58] = 1000;
	g = judge_all("robust:weeks=0", v, 80, (int64_t)JAN1 * DAY, DAY);
	ck_assert_uint_eq(g.j[30].episode_len, 2);
	ck_assert_int_eq(g.j[58].status, CW_STATUS_OK);
	ck_assert_str_eq(g.j[58].kind, "recurring_peak");
	free(g.j);

	/* hourly, 2025-01-02 .. 03-01 04:00: March's run has one past month */
	size_t n = 58 * 24 + 5, feb1 = 30 * 24, mar1 = 58 * 24;
	double *h = malloc(n * sizeof(double));
	for (size_t i = 0; i < n; i++)
		h[i] = 100;
	for (size_t k = 2; k < 5; k++)
		h[feb1 + k] = h[mar1 + k] = 1000;
	g = judge_all("robust:weeks=0", h, n, (int64_t)(JAN1 + 1) * DAY, HOUR);
	ck_assert_int_eq(g.j[feb1 + 2].status, CW_STATUS_ANOMALY);
	ck_assert_uint_eq(g.j[feb1 + 4].episode_len, 3);
	for (size_t k = 2; k < 5; k++) {
		ck_assert_int_eq(g.j[mar1 + k].status, CW_STATUS_OK);
		ck_assert_str_eq(g.j[mar1 + k].kind, "recurring_peak");
	}
	free(g.j);
	free(h);
}
END_TEST

/* ---- parameters ------------------------------------------------------------ */

START_TEST(test_period_defaults)
{
	struct cw_detector_conf *c = det("robust");
	size_t idx;
	ck_assert_ptr_nonnull(cw_detector_param(c->ops, "ratio", &idx));
	ck_assert(isnan(c->p[idx])); /* per period */
	ck_assert(c->p[CW_P_MIN_EXCESS_USD] == 3);
	ck_assert(cw_param_auto(c->p[idx], DAY, 1, 2, 3) == 1);
	ck_assert(cw_param_auto(c->p[idx], HOUR, 1, 2, 3) == 2);
	ck_assert(cw_param_auto(c->p[idx], 300, 1, 2, 3) == 3);
	ck_assert(cw_param_auto(4, 300, 1, 2, 3) == 4);
	det_free(c);

	/* 5-minute series are left to newhigh unless min_period allows */
	double v[400];
	for (size_t i = 0; i < 400; i++)
		v[i] = i == 399 ? 1e6 : 1;
	struct got g = judge_all("robust", v, 400, MONDAY, 300);
	ck_assert_int_eq(g.j[399].status, CW_STATUS_OK);
	ck_assert(isnan(g.j[399].baseline));
	free(g.j);
	g = judge_all("robust:min_period=0", v, 400, MONDAY, 300);
	ck_assert_int_eq(g.j[399].status, CW_STATUS_ANOMALY);
	free(g.j);

	char err[CW_ERRBUF];
	struct cw_detector_conf *bad = NULL;
	size_t n;
	ck_assert_int_eq(cw_detector_parse_list("robust:weeks=2.5", &bad, &n, err, sizeof(err)),
			 CW_EINVAL);
	ck_assert_str_eq(err, "detectors: robust: weeks: must be a whole number, got 2.5");
}
END_TEST

/* ---- the dollar gate (cw_run_judge) ------------------------------------ */

START_TEST(test_dollar_gate)
{
	struct cw_run run;
	struct cw_target_id id = { "", "", "", "", "b", "Bytes", "", "" };
	struct cw_series s;
	struct cw_detector_conf *c = det("mean7d:factor=2:min_excess_usd=5");
	size_t idx;
	char err[CW_ERRBUF];

	/* 1 GB a day, then 10 GB: excess 9 GB = $0.81 at $0.09/GB < $5 */
	ck_assert_int_eq(cw_run_init(&run, "analyze"), 0);
	ck_assert_int_eq(cw_series_init(&s, MONDAY, DAY, 10), 0);
	for (size_t i = 0; i < 10; i++)
		s.values[i] = i == 9 ? 10e9 : 1e9;
	s.complete_end = MONDAY + 10 * DAY;
	s.usd_per_unit = 0.09 / 1e9;
	ck_assert_int_eq(cw_run_add_series(&run, &id, &s, &idx), 0);
	ck_assert_int_eq(cw_run_judge(&run, idx, c, 1, false, err, sizeof(err)), 0);
	ck_assert_uint_eq(run.nresults, 1);
	ck_assert_int_eq(run.results[0].j.status, CW_STATUS_OK);
	ck_assert_ptr_nonnull(run.results[0].note);
	ck_assert_ptr_nonnull(strstr(run.results[0].note, "below the dollar gate"));
	ck_assert_ptr_nonnull(strstr(run.results[0].note, "$0.81"));

	/* 100 GB: excess $8.91 a day: an anomaly */
	ck_assert_int_eq(cw_series_init(&s, MONDAY, DAY, 10), 0);
	for (size_t i = 0; i < 10; i++)
		s.values[i] = i == 9 ? 100e9 : 1e9;
	s.complete_end = MONDAY + 10 * DAY;
	s.usd_per_unit = 0.09 / 1e9;
	ck_assert_int_eq(cw_run_add_series(&run, &id, &s, &idx), 0);
	ck_assert_int_eq(cw_run_judge(&run, idx, c, 1, false, err, sizeof(err)), 0);
	ck_assert_int_eq(run.results[1].j.status, CW_STATUS_ANOMALY);

	/* not priced: no gate */
	ck_assert_int_eq(cw_series_init(&s, MONDAY, DAY, 10), 0);
	for (size_t i = 0; i < 10; i++)
		s.values[i] = i == 9 ? 10e9 : 1e9;
	s.complete_end = MONDAY + 10 * DAY;
	ck_assert_int_eq(cw_run_add_series(&run, &id, &s, &idx), 0);
	ck_assert_int_eq(cw_run_judge(&run, idx, c, 1, false, err, sizeof(err)), 0);
	ck_assert_int_eq(run.results[2].j.status, CW_STATUS_ANOMALY);

	/* an hourly excess is counted per day: 1 GB an hour over = $2.16 a day */
	struct cw_judgement j = { .status = CW_STATUS_ANOMALY, .value = 2e9, .baseline = 1e9 };
	struct cw_series h = { .period = HOUR, .usd_per_unit = 0.09 / 1e9 };
	ck_assert(cw_judge_below_gate(&j, &h, 2.17));
	ck_assert(!cw_judge_below_gate(&j, &h, 2.15));
	cw_run_release(&run);
	det_free(c);
}
END_TEST

/* ---- exclusions (cw_run_exclude) ---------------------------------------- */

/*
 * 100 a day, 1000 on days 30..32 (a known migration, excluded) and on day
 * 40.  The excluded days are ok with the reason, and they are no baseline:
 * judged with mean7d (a 7-day mean), day 33 sees a baseline of 100, not
 * one raised by the migration.  Day 40 is still an anomaly.
 */
START_TEST(test_exclusions)
{
	struct cw_run run;
	struct cw_target_id id = { "", "", "", "", "b", "", "", "" };
	struct cw_series s;
	struct cw_detector_conf *c = det("mean7d:factor=3");
	size_t idx;
	char err[CW_ERRBUF];

	ck_assert_int_eq(cw_run_init(&run, "analyze"), 0);
	ck_assert_int_eq(cw_series_init(&s, MONDAY, DAY, 41), 0);
	for (size_t i = 0; i < 41; i++)
		s.values[i] = (i >= 30 && i <= 32) || i == 40 ? 1000 : 100;
	s.complete_end = MONDAY + 41 * DAY;
	ck_assert_int_eq(cw_run_add_series(&run, &id, &s, &idx), 0);
	/* [day 30 12:00, day 32 12:00) overlaps days 30, 31 and 32 */
	ck_assert_int_eq(cw_run_exclude(&run, idx, MONDAY + 30 * DAY + DAY / 2,
					MONDAY + 32 * DAY + DAY / 2, "migration"), 0);
	ck_assert_int_eq(cw_run_judge(&run, idx, c, 1, true, err, sizeof(err)), 0);
	size_t anomalies = 0, excluded = 0;
	for (size_t i = 0; i < run.nresults; i++) {
		const struct cw_result *r = &run.results[i];
		size_t slot = (size_t)((r->j.period_start - MONDAY) / DAY);
		if (slot >= 30 && slot <= 32) {
			ck_assert_int_eq(r->j.status, CW_STATUS_OK);
			ck_assert_str_eq(r->note, "excluded: migration");
			ck_assert(r->j.value == 1000);
			excluded++;
		}
		if (slot == 33)
			ck_near(r->j.baseline, 100);
		anomalies += r->j.status == CW_STATUS_ANOMALY;
		if (r->j.status == CW_STATUS_ANOMALY)
			ck_assert_uint_eq(slot, 40);
	}
	ck_assert_uint_eq(excluded, 3);
	ck_assert_uint_eq(anomalies, 1);

	/* the nightly run on an excluded last day: ok, with the reason */
	ck_assert_int_eq(cw_series_init(&s, MONDAY, DAY, 31), 0);
	for (size_t i = 0; i < 31; i++)
		s.values[i] = i == 30 ? 1000 : 100;
	s.complete_end = MONDAY + 31 * DAY;
	ck_assert_int_eq(cw_run_add_series(&run, &id, &s, &idx), 0);
	ck_assert_int_eq(cw_run_exclude(&run, idx, MONDAY + 30 * DAY, MONDAY + 31 * DAY,
					"launch"), 0);
	size_t before = run.nresults;
	ck_assert_int_eq(cw_run_judge(&run, idx, c, 1, false, err, sizeof(err)), 0);
	ck_assert_uint_eq(run.nresults, before + 1);
	ck_assert_int_eq(run.results[before].j.status, CW_STATUS_OK);
	ck_assert_str_eq(run.results[before].note, "excluded: launch");
	cw_run_release(&run);
	det_free(c);
}
END_TEST

/* ---- replay equality ----------------------------------------------------- */

/* A deterministic series with a weekly rhythm, noise, spikes, an episode,
 * a level shift, month ends and gaps. */
static void busy_series(double *v, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		double noise = 0.8 + 0.4 * (double)((seed >> 8) % 1000) / 1000.0;
		double base = (i % 7 >= 5 ? 40 : 100) * (i >= 120 ? 2.6 : 1);
		v[i] = base * noise;
		if (i % 29 == 13 || (i >= 70 && i < 74))
			v[i] *= 6;
		if (i % 30 == 29)
			v[i] += 400;
		if (i % 53 == 7)
			v[i] = NAN;
	}
}

START_TEST(test_replay_equality)
{
	const char *specs[] = { "robust", "robust:weeks=0:k=2:ratio=1.5", "newhigh:max_period=2d",
				"newhigh:direction=both:max_period=2d:rearm=3d" };
	size_t n = 200;
	double *v = malloc(n * sizeof(double));
	busy_series(v, n, 11);
	for (size_t d = 0; d < sizeof(specs) / sizeof(specs[0]); d++) {
		struct cw_detector_conf *c = det(specs[d]);
		struct cw_series s;
		struct got all = { NULL, 0, 0 };
		size_t anomalies = 0, k = 0;
		ck_assert_int_eq(cw_series_init(&s, (int64_t)JAN1 * DAY, DAY, n), 0);
		memcpy(s.values, v, n * sizeof(double));
		ck_assert_int_eq(c->ops->run(c->state, c->p, &s, 0, n, collect, &all), 0);
		for (size_t i = 0; i < n; i++) {
			if (isnan(v[i]))
				continue;
			/* the nightly run: the series up to slot i, the last slot judged */
			struct got one = { NULL, 0, 0 };
			ck_assert_int_eq(c->ops->run(c->state, c->p, &s, i, i + 1, collect, &one),
					 0);
			ck_assert_uint_eq(one.n, 1);
			const struct cw_judgement *a = &all.j[k++], *b = &one.j[0];
			ck_assert_int_eq(a->period_start, b->period_start);
			ck_assert_msg(a->status == b->status, "%s: slot %zu: %d != %d", specs[d], i,
				      a->status, b->status);
			ck_assert(memcmp(&a->baseline, &b->baseline, sizeof(double)) == 0);
			ck_assert(memcmp(&a->limit, &b->limit, sizeof(double)) == 0);
			ck_assert_int_eq(a->episode_start, b->episode_start);
			ck_assert_uint_eq(a->episode_len, b->episode_len);
			ck_assert(a->kind == b->kind);
			anomalies += a->status == CW_STATUS_ANOMALY;
			free(one.j);
		}
		ck_assert_uint_eq(k, all.n);
		ck_assert_uint_gt(anomalies, 0);
		free(all.j);
		cw_series_release(&s);
		det_free(c);
	}
	free(v);
}
END_TEST

static Suite *robust_suite(void)
{
	Suite *s = suite_create("robust");
	TCase *tc = tcase_create("robust");
	tcase_add_test(tc, test_profile_day_of_week);
	tcase_add_test(tc, test_profile_hour_of_week);
	tcase_add_test(tc, test_profile_lone_dip);
	tcase_add_test(tc, test_scale_floor_and_mad);
	tcase_add_test(tc, test_sparse);
	tcase_add_test(tc, test_episode);
	tcase_add_test(tc, test_level_shift);
	tcase_add_test(tc, test_recurring_peak);
	tcase_add_test(tc, test_recurring_established);
	tcase_add_test(tc, test_recurring_inside_episode);
	tcase_add_test(tc, test_recurring_month_end_alias);
	tcase_add_test(tc, test_recurring_not_from_episodes);
	tcase_add_test(tc, test_shift_keeps_the_new_level_only);
	tcase_add_test(tc, test_drop_is_the_new_normal);
	tcase_add_test(tc, test_shift_went_back);
	tcase_add_test(tc, test_period_defaults);
	tcase_add_test(tc, test_dollar_gate);
	tcase_add_test(tc, test_exclusions);
	tcase_add_test(tc, test_replay_equality);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(robust_suite());
}
