/*
 * check_heartbeat.c - heartbeat URLs ("/fail" before the query) and the
 * URL rules of the ping (https, or http to loopback only), without any
 * network.
 */
#include <check.h>
#include <string.h>

#include "err.h"
#include "heartbeat.h"
#include "http.h"
#include "testlib.h"

/* Heartbeat URLs: "/fail" goes before the query, once, whatever slashes. */
START_TEST(test_heartbeat_url)
{
	char out[256];

	ck_assert_int_eq(cw_heartbeat_url("https://hc-ping.com/u-1", true, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "https://hc-ping.com/u-1");
	ck_assert_int_eq(cw_heartbeat_url("https://hc-ping.com/u-1", false, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "https://hc-ping.com/u-1/fail");
	ck_assert_int_eq(cw_heartbeat_url("https://hc-ping.com/u-1/?rid=7", false, out,
					  sizeof(out)), 0);
	ck_assert_str_eq(out, "https://hc-ping.com/u-1/fail?rid=7");
	ck_assert_int_eq(cw_heartbeat_url("https://x.example/very/long", false, out, 10),
			 CW_ETOOBIG);
}
END_TEST

/* A URL the HTTP rules refuse is never contacted, and never printed. */
START_TEST(test_refused_url)
{
	char err[CW_ERRBUF];

	ck_assert_int_eq(cw_http_global_init(err, sizeof(err)), 0);
	ck_assert_int_eq(cw_heartbeat_ping("http://hc-ping.example/SECRETUUID", true, "x", err,
					   sizeof(err)), CW_EINVAL);
	ck_assert_ptr_null(strstr(err, "SECRETUUID"));
	ck_assert_int_eq(cw_heartbeat_ping("ftp://x/y", false, NULL, err, sizeof(err)), CW_EINVAL);
}
END_TEST

static Suite *heartbeat_suite(void)
{
	Suite *s = suite_create("heartbeat");
	TCase *tc = tcase_create("heartbeat");

	tcase_add_test(tc, test_heartbeat_url);
	tcase_add_test(tc, test_refused_url);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(heartbeat_suite());
}
