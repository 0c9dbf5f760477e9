/*
 * check_organizations.c - the Organizations client's page parser, on
 * answers shaped like the API reference's examples (tests/data/
 * organizations/) and on broken ones.  The listings themselves (paging,
 * OUs, AccessDenied) run against the fake in tests/integration/test_org.py.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "err.h"
#include "organizations.h"
#include "testlib.h"

static char *sample(const char *name)
{
	char rel[256], *path, *text;

	snprintf(rel, sizeof(rel), "tests/data/organizations/%s", name);
	path = cw_test_src(rel);
	text = cw_test_slurp(path);
	ck_assert_msg(text != NULL, "missing %s", path);
	free(path);
	return text;
}

START_TEST(test_accounts_page)
{
	struct cw_org_accounts a = { NULL, 0, 0 };
	char *text = sample("list_accounts_page1.json"), *next = NULL, err[CW_ERRBUF];

	ck_assert_int_eq(cw_org_parse_page(text, strlen(text), &a, NULL, NULL, &next, err,
					   sizeof(err)), 0);
	ck_assert_uint_eq(a.n, 2);
	ck_assert_str_eq(a.v[0].id, "111111111111");
	ck_assert_str_eq(a.v[0].name, "Production Account");
	ck_assert_str_eq(a.v[0].status, "ACTIVE");
	ck_assert_str_eq(a.v[1].name, "Developer Account"); /* a tab is not kept */
	ck_assert_str_eq(a.v[1].status, "SUSPENDED");
	ck_assert_str_eq(next, "AAQA-EXAMPLE-TOKEN==");
	free(next);
	/* the same page again adds nobody twice */
	ck_assert_int_eq(cw_org_parse_page(text, strlen(text), &a, NULL, NULL, &next, err,
					   sizeof(err)), 0);
	ck_assert_uint_eq(a.n, 2);
	free(next);
	cw_org_accounts_release(&a);
	free(text);
}
END_TEST

START_TEST(test_children_page)
{
	char *text = sample("list_children.json"), *next = NULL, err[CW_ERRBUF];
	char **kids = NULL;
	size_t n = 0;

	ck_assert_int_eq(cw_org_parse_page(text, strlen(text), NULL, &kids, &n, &next, err,
					   sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(kids[1], "ou-examplerootid111-exampleouid222");
	ck_assert_ptr_null(next);
	for (size_t i = 0; i < n; i++)
		free(kids[i]);
	free(kids);
	free(text);
}
END_TEST

START_TEST(test_broken_pages)
{
	static const char *const bad[] = {
		"", "[]", "{}", "{\"Accounts\": {}}", "{\"Accounts\": [{\"Id\": 12}]}",
		"{\"Accounts\": [{\"Id\": \"1234\"}]}", "{\"Accounts\": [], \"NextToken\": 5}",
		"{\"Accounts\": [], \"NextToken\": \"\"}", "{\"Accounts\": [], \"Accounts\": []}",
	};
	struct cw_org_accounts a = { NULL, 0, 0 };
	char err[CW_ERRBUF], *next = NULL, **kids = NULL;
	size_t n = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(cw_org_parse_page(bad[i], strlen(bad[i]), &a, NULL, NULL, &next, err,
						sizeof(err)) == CW_EPARSE, "%s", bad[i]);
		ck_assert_ptr_null(next);
	}
	ck_assert_int_eq(cw_org_parse_page("{\"Children\": [{\"Id\": \"../x\"}]}", 28, NULL,
					   &kids, &n, &next, err, sizeof(err)), CW_EPARSE);
	ck_assert_uint_eq(n, 0);
	free(kids);
	cw_org_accounts_release(&a);
}
END_TEST

static Suite *organizations_suite(void)
{
	Suite *s = suite_create("organizations");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_accounts_page);
	tcase_add_test(tc, test_children_page);
	tcase_add_test(tc, test_broken_pages);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(organizations_suite());
}
