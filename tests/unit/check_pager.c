/*
 * check_pager.c - the NextToken guard every paged call uses: a token that
 * comes back is a loop at once (also after many distinct tokens, also not
 * the previous one), the page cap stops a listing that never ends, and
 * the last page (no token) always ends cleanly.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "pager.h"
#include "testlib.h"

START_TEST(test_last_page)
{
	struct cw_pager pg;
	char err[CW_ERRBUF];

	cw_pager_init(&pg, 0);
	ck_assert_int_eq(cw_pager_next(&pg, "a", "ListMetrics", err, sizeof(err)), 0);
	ck_assert_int_eq(cw_pager_next(&pg, "b", "ListMetrics", err, sizeof(err)), 0);
	ck_assert_int_eq(cw_pager_next(&pg, NULL, "ListMetrics", err, sizeof(err)), 0);
	ck_assert_int_eq(cw_pager_next(&pg, "", "ListMetrics", err, sizeof(err)), 0);
	ck_assert_uint_eq(pg.pages, 4);
	cw_pager_release(&pg);
}
END_TEST

START_TEST(test_repeat_is_a_loop)
{
	struct cw_pager pg;
	char err[CW_ERRBUF], tok[32];

	cw_pager_init(&pg, 0);
	ck_assert_int_eq(cw_pager_next(&pg, "T", "GetMetricData", err, sizeof(err)), 0);
	ck_assert_int_eq(cw_pager_next(&pg, "T", "GetMetricData", err, sizeof(err)), CW_EINVAL);
	ck_assert_str_eq(err, "GetMetricData answered a NextToken it had sent before (page 2): "
			 "a pagination loop; gave up");
	ck_assert_str_eq(cw_pager_code(CW_EINVAL), "PaginationLoop");
	cw_pager_release(&pg);
	/* a cycle longer than one, after a thousand distinct tokens */
	cw_pager_init(&pg, 0);
	for (int i = 0; i < 1000; i++) {
		snprintf(tok, sizeof(tok), "tok-%d", i);
		ck_assert_int_eq(cw_pager_next(&pg, tok, "ListMetrics", err, sizeof(err)), 0);
	}
	ck_assert_int_eq(cw_pager_next(&pg, "tok-17", "ListMetrics", err, sizeof(err)), CW_EINVAL);
	cw_pager_release(&pg);
}
END_TEST

START_TEST(test_page_cap)
{
	struct cw_pager pg;
	char err[CW_ERRBUF], tok[32];
	int rc = 0, i;

	cw_pager_init(&pg, 50);
	for (i = 0; i < 100 && rc == 0; i++) {
		snprintf(tok, sizeof(tok), "t%d", i);
		rc = cw_pager_next(&pg, tok, "ListMetrics", err, sizeof(err));
	}
	ck_assert_int_eq(rc, CW_ETOOBIG);
	ck_assert_int_eq(i, 50);
	ck_assert_str_eq(cw_pager_code(rc), "TooManyPages");
	ck_assert_ptr_nonnull(strstr(err, "for 50 pages"));
	cw_pager_release(&pg);
	cw_pager_release(&pg); /* twice is fine */
}
END_TEST

static Suite *pager_suite(void)
{
	Suite *s = suite_create("pager");
	TCase *tc = tcase_create("pager");

	tcase_add_test(tc, test_last_page);
	tcase_add_test(tc, test_repeat_is_a_loop);
	tcase_add_test(tc, test_page_cap);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(pager_suite());
}
