/*
 * check_billing.c - the AWS/Billing source: the ListMetrics body and a
 * saved page (tests/data/cloudwatch/lm_billing.json: payer totals, a
 * short LinkedAccount, another currency), the metric of one linked
 * account and service, and the month-to-date -> daily spend transform
 * (month reset, gaps, downward revisions, a partial first day).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing.h"
#include "cloudwatch.h"
#include "err.h"
#include "testlib.h"

#define DAY 86400
#define H 3600
#define NOV28 1795824000 /* 2026-11-28T00:00:00Z */

START_TEST(lm_request_and_page)
{
	struct cw_billing_page page;
	char *body = NULL, err[CW_ERRBUF], *path, *text;
	size_t len = 0;

	ck_assert_int_eq(cw_billing_lm_request(&body, &len, NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(body, "{\"Namespace\":\"AWS/Billing\",\"MetricName\":\"EstimatedCharges\"}");
	free(body);
	path = cw_test_src("tests/data/cloudwatch/lm_billing.json");
	text = cw_test_slurp(path);
	free(path);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(cw_billing_lm_parse(&page, text, strlen(text), err, sizeof(err)), 0);
	free(text);
	ck_assert_uint_eq(page.seen, 6);
	ck_assert_uint_eq(page.n, 2);
	ck_assert_str_eq(page.v[0].linked, "111111111111");
	ck_assert_str_eq(page.v[0].service, "AmazonS3");
	ck_assert_str_eq(page.v[1].linked, "222222222222");
	ck_assert_str_eq(page.v[1].service, "AWSDataTransfer");
	ck_assert_str_eq(page.next_token, "more");
	cw_billing_page_release(&page);
	/* no metric at all: billing alerts are off */
	ck_assert_int_eq(cw_billing_lm_parse(&page, "{\"Metrics\":[]}", 14, err, sizeof(err)), 0);
	ck_assert_uint_eq(page.seen, 0);
	cw_billing_page_release(&page);
	ck_assert_int_ne(cw_billing_lm_parse(&page, "{\"Metrics\":[1]}", 15, err, sizeof(err)), 0);
	ck_assert_ptr_null(page.v);
}
END_TEST

START_TEST(metric_query)
{
	struct cw_billing_metric m;
	struct cw_gmd_query q;
	char *body = NULL, err[CW_ERRBUF];
	size_t len;

	ck_assert_int_eq(cw_billing_metric_init(&m, "111111111111", "AmazonS3"), 0);
	ck_assert_str_eq(m.def.label, "AWS/Billing EstimatedCharges AmazonS3 (daily)");
	ck_assert_str_eq(m.def.unit, "USD");
	q.metric = &m.def;
	q.bucket = "";
	ck_assert_int_eq(cw_gmd_request(&body, &len, &q, 1, NOV28, NOV28 + DAY, H, NULL, err,
					sizeof(err)), 0);
	ck_assert_msg(strstr(body, "\"Dimensions\":[{\"Name\":\"Currency\",\"Value\":\"USD\"},"
			     "{\"Name\":\"ServiceName\",\"Value\":\"AmazonS3\"},{\"Name\":"
			     "\"LinkedAccount\",\"Value\":\"111111111111\"}]") != NULL, "%s", body);
	ck_assert_msg(strstr(body, "\"Stat\":\"Maximum\"") != NULL, "%s", body);
	free(body);
	cw_billing_metric_release(&m);
}
END_TEST

/* An hourly month-to-date series from Nov 28 with these values at hour 20
 * of each day (NAN: none that day), plus an earlier, lower value at hour 5. */
static void mtd(struct cw_series *s, const double *last, size_t ndays)
{
	ck_assert_int_eq(cw_series_init(s, NOV28, H, ndays * 24), 0);
	for (size_t d = 0; d < ndays; d++) {
		if (isnan(last[d]))
			continue;
		s->values[d * 24 + 5] = last[d] / 2;
		s->values[d * 24 + 20] = last[d];
	}
}

static void day_eq(const struct cw_series *s, size_t d, double want)
{
	if (isnan(want))
		ck_assert_msg(isnan(s->values[d]), "day %zu: %g, want a gap", d, s->values[d]);
	else
		ck_assert_msg(fabs(s->values[d] - want) < 1e-9, "day %zu: %g, want %g", d,
			      s->values[d], want);
}

START_TEST(daily_month_reset_gap_revision)
{
	/* Nov 28 29 30 | Dec 1 2 3 4 5 6 */
	const double last[] = { 100, 110, 125, 7, 15, NAN, 30, 20, 35 };
	struct cw_series in, out;
	size_t rev = 0;

	mtd(&in, last, 9);
	ck_assert_int_eq(cw_billing_daily(&in, &out, &rev), 0);
	ck_assert_int_eq(out.start, NOV28);
	ck_assert_int_eq(out.period, DAY);
	ck_assert_uint_eq(out.n, 9);
	day_eq(&out, 0, NAN);  /* no previous day */
	day_eq(&out, 1, 10);   /* the day's last value, not its first */
	day_eq(&out, 2, 15);
	day_eq(&out, 3, 7);    /* Dec 1: the estimate restarted */
	day_eq(&out, 4, 8);
	day_eq(&out, 5, NAN);  /* no value */
	day_eq(&out, 6, NAN);  /* its increase spans two days: a gap too */
	day_eq(&out, 7, 0);    /* revised down by 10: no negative spend */
	day_eq(&out, 8, 5);    /* +15, of which 10 make up for the revision */
	ck_assert_uint_eq(rev, 1);
	cw_series_release(&in);
	cw_series_release(&out);
}
END_TEST

START_TEST(daily_partial_first_day_and_bad_period)
{
	struct cw_series in, out;

	/* from 12:00 on Nov 28: the first whole day is Nov 29 */
	ck_assert_int_eq(cw_series_init(&in, NOV28 + 12 * H, H, 12 + 48), 0);
	in.values[0] = 50;
	in.values[12 + 23] = 60;
	in.values[12 + 47] = 64;
	ck_assert_int_eq(cw_billing_daily(&in, &out, NULL), 0);
	ck_assert_int_eq(out.start, NOV28 + DAY);
	ck_assert_uint_eq(out.n, 2);
	day_eq(&out, 0, NAN);
	day_eq(&out, 1, 4);
	cw_series_release(&out);
	cw_series_release(&in);
	ck_assert_int_eq(cw_series_init(&in, NOV28, 7 * H, 10), 0);
	ck_assert_int_eq(cw_billing_daily(&in, &out, NULL), CW_EINVAL);
	cw_series_release(&in);
}
END_TEST

static Suite *billing_suite(void)
{
	Suite *s = suite_create("billing");
	TCase *tc = tcase_create("billing");

	tcase_add_test(tc, lm_request_and_page);
	tcase_add_test(tc, metric_query);
	tcase_add_test(tc, daily_month_reset_gap_revision);
	tcase_add_test(tc, daily_partial_first_day_and_bad_period);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(billing_suite());
}
