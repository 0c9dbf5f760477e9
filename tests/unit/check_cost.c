/*
 * check_cost.c - dollar estimates: the tiers at their edges, the free
 * allowance, the account's monthly volume (summed over its series, scaled
 * up for short history), which series are priced, the run total that
 * counts a period once, and the price note.  Every expectation is worked
 * out by hand in the comments (GB = 10^9 bytes).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cost.h"
#include "err.h"
#include "inventory.h"
#include "run.h"
#include "strutil.h"
#include "testlib.h"

#define DAY 86400
#define T0 (19675 * (int64_t)DAY)
#define GB 1e9
#define TB 1e12
#define EPS 1e-6

static struct cw_inventory defaults;

static void setup(void)
{
	ck_assert_int_eq(cw_inventory_defaults(&defaults), 0);
}

static void teardown(void)
{
	cw_inventory_release(&defaults);
}

static const struct cw_price_table *def_table(void)
{
	return &defaults.prices[0];
}

START_TEST(test_month_tier_edges)
{
	const struct cw_price_table *t = def_table();

	ck_assert_double_eq_tol(cw_price_month(t, 0), 0, EPS);
	ck_assert_double_eq_tol(cw_price_month(t, 100 * GB), 0, EPS);      /* all free */
	ck_assert_double_eq_tol(cw_price_month(t, 101 * GB), 0.09, EPS);   /* 1 GB billed */
	/* 10 TB billable after 100 GB free: 10,000 GB x 0.09 = 900 */
	ck_assert_double_eq_tol(cw_price_month(t, 10 * TB + 100 * GB), 900, EPS);
	/* + 40,000 GB x 0.085 = 3,400 */
	ck_assert_double_eq_tol(cw_price_month(t, 50 * TB + 100 * GB), 4300, EPS);
	/* + 100,000 GB x 0.07 = 7,000 */
	ck_assert_double_eq_tol(cw_price_month(t, 150 * TB + 100 * GB), 11300, EPS);
	/* + 10,000 GB x 0.05 = 500 */
	ck_assert_double_eq_tol(cw_price_month(t, 160 * TB + 100 * GB), 11800, EPS);
	ck_assert(isnan(cw_price_month(t, NAN)));
}
END_TEST

START_TEST(test_excess_marginal)
{
	const struct cw_price_table *t = def_table();

	/* 1 TB month, 100 GB excess: billable 800 -> 900 GB, 100 GB x 0.09 */
	ck_assert_double_eq_tol(cw_price_excess(t, 1 * TB, 100 * GB), 9.0, EPS);
	/* inside the free allowance: nothing */
	ck_assert_double_eq_tol(cw_price_excess(t, 50 * GB, 20 * GB), 0, EPS);
	/* half free: month 150 GB, excess 100 GB: only 50 GB billable, 4.50 */
	ck_assert_double_eq_tol(cw_price_excess(t, 150 * GB, 100 * GB), 4.5, EPS);
	/* straddles the 10 TB edge: billable 9,950 -> 10,050 GB:
	 * 50 GB x 0.09 + 50 GB x 0.085 = 4.50 + 4.25 */
	ck_assert_double_eq_tol(cw_price_excess(t, 10 * TB + 150 * GB, 100 * GB), 8.75, EPS);
	/* ends exactly on the edge: all at 0.09 */
	ck_assert_double_eq_tol(cw_price_excess(t, 10 * TB + 100 * GB, 100 * GB), 9.0, EPS);
	/* starts exactly on the edge: all at 0.085 */
	ck_assert_double_eq_tol(cw_price_excess(t, 10 * TB + 200 * GB, 100 * GB), 8.5, EPS);
	/* second to third tier edge at 50 TB: 1 GB x 0.085 + 1 GB x 0.07 */
	ck_assert_double_eq_tol(cw_price_excess(t, 50 * TB + 101 * GB, 2 * GB), 0.155, EPS);
	/* deep in the last tier: 1,000 GB x 0.05 */
	ck_assert_double_eq_tol(cw_price_excess(t, 200 * TB, 1 * TB), 50, EPS);
	/* a month smaller than its excess is taken as the excess */
	ck_assert_double_eq_tol(cw_price_excess(t, 0, 200 * GB), 9.0, EPS);
	ck_assert_double_eq_tol(cw_price_excess(t, 1 * TB, 0), 0, EPS);
	ck_assert_double_eq_tol(cw_price_excess(t, 1 * TB, -5 * GB), 0, EPS);
	ck_assert(isnan(cw_price_excess(t, NAN, 1 * GB)));
	ck_assert(isnan(cw_price_excess(t, 1 * TB, NAN)));
}
END_TEST

START_TEST(test_priced_series)
{
	struct cw_target_id id = { .metric = (char *)"AWS/S3 BytesDownloaded Sum",
				   .unit = (char *)"Bytes" };

	ck_assert(cw_cost_priced(&id));
	id.metric = (char *)"BytesDownloaded";
	ck_assert(cw_cost_priced(&id));
	id.metric = (char *)"AWS/S3 BytesDownloaded Average";
	ck_assert(!cw_cost_priced(&id));
	id.metric = (char *)"AWS/S3 BytesDownloaded p99";
	ck_assert(!cw_cost_priced(&id));
	id.metric = (char *)"AWS/S3 BytesUploaded Sum";
	ck_assert(!cw_cost_priced(&id));
	id.metric = (char *)"AWS/S3 BytesDownloaded Sum";
	id.unit = (char *)"Count";
	ck_assert(!cw_cost_priced(&id));
	id.unit = (char *)"";
	ck_assert(!cw_cost_priced(&id));
}
END_TEST

/* A daily series in account/region of n values: first n-1 are `flat`, the
 * last is `last`. */
static size_t add_series(struct cw_run *run, const char *account, const char *region,
			 const char *metric, const char *unit, size_t n, double flat,
			 double last)
{
	struct cw_target_id id = { .account_id = (char *)account, .region = (char *)region,
				   .bucket = (char *)"b", .metric = (char *)metric,
				   .unit = (char *)unit };
	struct cw_series s;
	size_t idx;

	ck_assert_int_eq(cw_series_init(&s, T0, DAY, n), 0);
	for (size_t i = 0; i < n; i++)
		s.values[i] = i + 1 == n ? last : flat;
	ck_assert_int_eq(cw_run_add_series(run, &id, &s, &idx), 0);
	return idx;
}

static size_t add_result(struct cw_run *run, size_t series, const char *det,
			 enum cw_status st, double value, double baseline)
{
	const struct cw_series *s = &run->series[series].series;
	struct cw_judgement j = { .status = st, .severity = CW_SEV_WARNING,
				  .period_start = cw_series_time(s, s->n - 1),
				  .value = value, .baseline = baseline, .limit = baseline,
				  .score = NAN };

	ck_assert_int_eq(cw_run_add_result(run, series, det, &j, NULL), 0);
	return run->nresults - 1;
}

static const char *const S3 = "AWS/S3 BytesDownloaded Sum";

START_TEST(test_apply_run)
{
	struct cw_run run;
	char err[CW_ERRBUF] = "";
	size_t a, a2, b, c, d, ok, cnt, avg;

	ck_assert_int_eq(cw_run_init(&run, "run"), 0);
	/* account 111: 29 days of 100 GB then 1,100 GB: month 4,000 GB,
	 * billable 3,900; excess 1,000 GB all at 0.09 = 90.00 */
	b = add_series(&run, "111111111111", "us-east-1", S3, "Bytes", 30, 100 * GB, 1100 * GB);
	a = add_result(&run, b, "mean7d", CW_STATUS_ANOMALY, 1100 * GB, 100 * GB);
	/* a second detector, same period, baseline 200 GB: 900 GB = 81.00 */
	a2 = add_result(&run, b, "zscore", CW_STATUS_ANOMALY, 1100 * GB, 200 * GB);
	ok = add_result(&run, b, "threshold", CW_STATUS_OK, 1100 * GB, 2000 * GB);
	/* account 222: 10 days (9 x 1.5 TB + 2.5 TB = 16 TB) scaled x3 = 48 TB;
	 * billable 47,900 GB; excess 1,000 GB within 10-50 TB: 0.085 -> 85.00 */
	c = add_series(&run, "222222222222", "us-east-1", S3, "Bytes", 10, 1.5 * TB, 2.5 * TB);
	d = add_result(&run, c, "mean7d", CW_STATUS_ANOMALY, 2.5 * TB, 1.5 * TB);
	/* not priced: a count, and an average */
	cnt = add_result(&run, add_series(&run, "222222222222", "us-east-1",
					  "AWS/S3 AllRequests Sum", "Count", 10, 5, 50),
			 "mean7d", CW_STATUS_ANOMALY, 50, 5);
	avg = add_result(&run, add_series(&run, "222222222222", "us-east-1",
					  "AWS/S3 BytesDownloaded Average", "Bytes", 10, 5, 50),
			 "mean7d", CW_STATUS_ANOMALY, 50, 5);

	ck_assert_int_eq(cw_cost_apply(&run, NULL, err, sizeof(err)), 0);
	ck_assert_double_eq_tol(run.results[a].est_excess_usd, 90.0, EPS);
	ck_assert_double_eq_tol(run.results[a2].est_excess_usd, 81.0, EPS);
	/* an ok judgement is priced too (its excess over the baseline: none here) */
	ck_assert_double_eq_tol(run.results[ok].est_excess_usd, 0.0, EPS);
	ck_assert_double_eq_tol(run.results[d].est_excess_usd, 85.0, EPS);
	ck_assert(isnan(run.results[cnt].est_excess_usd));
	ck_assert(isnan(run.results[avg].est_excess_usd));
	/* 90 (the larger of 90 and 81 for the same period) + 85 */
	ck_assert_double_eq_tol(run.total_excess_usd, 175.0, EPS);
	ck_assert(cw_str_endswith(run.price_note, "; an estimate, not a bill"));
	ck_assert_ptr_nonnull(strstr(run.price_note, "first 100 GB free, then $0.09/GB up to "
					"10 TB, $0.085/GB up to 50 TB, $0.07/GB up to 150 TB, "
					"$0.05/GB beyond (us-east-1 list prices)"));
	ck_assert_ptr_nonnull(strstr(run.price_note, "last 30 days"));
	cw_run_release(&run);
}
END_TEST

START_TEST(test_apply_down_anomaly_is_zero)
{
	struct cw_run run;
	char err[CW_ERRBUF] = "";
	size_t s, r;

	ck_assert_int_eq(cw_run_init(&run, "run"), 0);
	s = add_series(&run, "111111111111", "us-east-1", S3, "Bytes", 30, 100 * GB, 1 * GB);
	r = add_result(&run, s, "mean7d", CW_STATUS_ANOMALY, 1 * GB, 100 * GB);
	ck_assert_int_eq(cw_cost_apply(&run, NULL, err, sizeof(err)), 0);
	ck_assert_double_eq_tol(run.results[r].est_excess_usd, 0, EPS);
	ck_assert_double_eq_tol(run.total_excess_usd, 0, EPS);
	cw_run_release(&run);
}
END_TEST

START_TEST(test_apply_nothing_priced)
{
	struct cw_run run;
	char err[CW_ERRBUF] = "";
	size_t s;

	ck_assert_int_eq(cw_run_init(&run, "analyze"), 0);
	s = add_series(&run, "", "", "cpu", "", 10, 1, 9);
	add_result(&run, s, "mean7d", CW_STATUS_ANOMALY, 9, 1);
	s = add_series(&run, "", "", S3, "Bytes", 10, 1, 9);
	add_result(&run, s, "mean7d", CW_STATUS_OK, 9, 10);
	ck_assert_int_eq(cw_cost_apply(&run, NULL, err, sizeof(err)), 0);
	ck_assert(isnan(run.results[0].est_excess_usd));
	ck_assert(isnan(run.total_excess_usd));
	ck_assert_str_eq(run.price_note, "");
	cw_run_release(&run);
}
END_TEST

START_TEST(test_apply_inventory_tables)
{
	struct cw_price_tier flat10 = { INFINITY, 0.10 }, flat02 = { INFINITY, 0.02 };
	struct cw_price_table tables[2] = {
		{ NULL, &flat10, 1, 0 },
		{ (char *)"eu-west-1", &flat02, 1, 0 },
	};
	struct cw_inventory inv;
	struct cw_run run;
	char err[CW_ERRBUF] = "";
	size_t us, eu, ap;

	memset(&inv, 0, sizeof(inv));
	inv.prices = tables;
	inv.nprices = 2;
	ck_assert_int_eq(cw_run_init(&run, "run"), 0);
	/* no free allowance, flat rates: 500 GB excess */
	us = add_result(&run, add_series(&run, "1", "us-east-1", S3, "Bytes", 30, 0, 500 * GB),
			"threshold", CW_STATUS_ANOMALY, 500 * GB, NAN);
	run.results[us].j.limit = 0; /* no baseline: the limit stands in */
	eu = add_result(&run, add_series(&run, "1", "eu-west-1", S3, "Bytes", 30, 0, 500 * GB),
			"mean7d", CW_STATUS_ANOMALY, 500 * GB, 0);
	ap = add_result(&run, add_series(&run, "1", "ap-south-1", S3, "Bytes", 30, 0, 500 * GB),
			"mean7d", CW_STATUS_ANOMALY, 500 * GB, 0);
	ck_assert_int_eq(cw_cost_apply(&run, &inv, err, sizeof(err)), 0);
	ck_assert_double_eq_tol(run.results[us].est_excess_usd, 50.0, EPS);
	ck_assert_double_eq_tol(run.results[eu].est_excess_usd, 10.0, EPS);
	ck_assert_double_eq_tol(run.results[ap].est_excess_usd, 50.0, EPS); /* default table */
	ck_assert_double_eq_tol(run.total_excess_usd, 110.0, EPS);
	ck_assert_ptr_nonnull(strstr(run.price_note, "$0.1/GB for every GB (prices from the "
					"inventory); eu-west-1: $0.02/GB for every GB"));
	cw_run_release(&run);
}
END_TEST

static Suite *cost_suite(void)
{
	Suite *s = suite_create("cost");
	TCase *tc = tcase_create("cost");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_month_tier_edges);
	tcase_add_test(tc, test_excess_marginal);
	tcase_add_test(tc, test_priced_series);
	tcase_add_test(tc, test_apply_run);
	tcase_add_test(tc, test_apply_down_anomaly_is_zero);
	tcase_add_test(tc, test_apply_nothing_priced);
	tcase_add_test(tc, test_apply_inventory_tables);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(cost_suite());
}
