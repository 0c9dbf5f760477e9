/*
 * check_ini.c - the AWS shared config / credentials parser (ini.h).
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "err.h"
#include "ini.h"
#include "testlib.h"

static struct cw_ini *parse_ok(const char *text, enum cw_ini_kind kind)
{
	struct cw_ini *ini = NULL;
	char err[CW_ERRBUF] = "";
	int rc = cw_ini_parse(&ini, text, strlen(text), kind, "config", err, sizeof(err));

	ck_assert_msg(rc == 0, "parse failed: %s", err);
	ck_assert_ptr_nonnull(ini);
	return ini;
}

static void parse_fail(const char *text, int want_rc, const char *want_err)
{
	struct cw_ini *ini = (struct cw_ini *)1;
	char err[CW_ERRBUF] = "";
	int rc = cw_ini_parse(&ini, text, strlen(text), CW_INI_CONFIG, "config", err,
			      sizeof(err));

	ck_assert_int_eq(rc, want_rc);
	ck_assert_ptr_null(ini);
	ck_assert_msg(strcmp(err, want_err) == 0, "error '%s', want '%s'", err, want_err);
}

START_TEST(test_config_file)
{
	static const char text[] =
		"# leading comment\n"
		"; another\n"
		"\n"
		"[default]\n"
		"region = us-east-1\n"
		"output=json\n"
		"\n"
		"[profile dev]\n"
		"  Region   =   eu-west-1  \n"
		"role_arn = arn:aws:iam::111111111111:role/finops=ro\n"
		"source_profile = default\n"
		"external_id = a#b;c\n"
		"mfa_serial = arn:aws:iam::1:mfa/me # my token\n"
		"\n"
		"[prod]\n"
		"region = ap-south-1\n"
		"[sso-session corp]\n"
		"sso_region = us-east-1\n";
	struct cw_ini *ini = parse_ok(text, CW_INI_CONFIG);

	ck_assert_str_eq(cw_ini_profile_get(ini, "default", "region"), "us-east-1");
	ck_assert_str_eq(cw_ini_profile_get(ini, "default", "output"), "json");
	ck_assert_str_eq(cw_ini_profile_get(ini, "dev", "region"), "eu-west-1");
	ck_assert_str_eq(cw_ini_profile_get(ini, "dev", "REGION"), "eu-west-1");
	ck_assert_str_eq(cw_ini_profile_get(ini, "dev", "role_arn"),
			 "arn:aws:iam::111111111111:role/finops=ro");
	ck_assert_str_eq(cw_ini_profile_get(ini, "dev", "external_id"), "a#b;c");
	ck_assert_str_eq(cw_ini_profile_get(ini, "dev", "mfa_serial"), "arn:aws:iam::1:mfa/me");
	ck_assert_ptr_null(cw_ini_profile_get(ini, "dev", "output"));
	/* [prod] without "profile " is no profile in the config file */
	ck_assert(!cw_ini_has_profile(ini, "prod"));
	ck_assert_ptr_null(cw_ini_profile_get(ini, "prod", "region"));
	ck_assert_str_eq(cw_ini_get(ini, "prod", "region"), "ap-south-1");
	ck_assert_str_eq(cw_ini_get(ini, "sso-session corp", "sso_region"), "us-east-1");
	ck_assert_str_eq(cw_ini_get(ini, "profile dev", "region"), "eu-west-1");
	ck_assert(cw_ini_has_profile(ini, "dev"));
	ck_assert(cw_ini_has_profile(ini, "default"));
	ck_assert(!cw_ini_has_profile(ini, "corp"));
	cw_ini_free(ini);
}
END_TEST

START_TEST(test_credentials_file)
{
	static const char text[] =
		"\xef\xbb\xbf[default]\r\n"
		"aws_access_key_id = AKIDEXAMPLE\r\n"
		"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\r\n"
		"\r\n"
		"[ ops ]\r\n"
		"aws_access_key_id=AKIDOPS\r\n"
		"aws_session_token=IQoJb3+/==\r\n"
		"[profile odd]\r\n"
		"aws_access_key_id = AKIDODD";
	struct cw_ini *ini = parse_ok(text, CW_INI_CREDENTIALS);
	const char *const *names;
	size_t n;

	ck_assert_str_eq(cw_ini_profile_get(ini, "default", "aws_secret_access_key"),
			 "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
	ck_assert_str_eq(cw_ini_profile_get(ini, "ops", "aws_session_token"), "IQoJb3+/==");
	/* in the credentials file the section name is the profile name */
	ck_assert_ptr_null(cw_ini_profile_get(ini, "odd", "aws_access_key_id"));
	names = cw_ini_profiles(ini, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(names[0], "default");
	ck_assert_str_eq(names[1], "ops");
	ck_assert_ptr_null(names[2]);
	cw_ini_free(ini);
}
END_TEST

START_TEST(test_profile_default_rules)
{
	struct cw_ini *ini;
	const char *const *names;
	size_t n;

	ini = parse_ok("[default]\nregion = a\n[profile default]\nregion = b\noutput = x\n"
		       "[default]\nregion = c\n",
		       CW_INI_CONFIG);
	/* "[profile default]" hides "[default]" in the config file */
	ck_assert_str_eq(cw_ini_profile_get(ini, "default", "region"), "b");
	ck_assert_str_eq(cw_ini_get(ini, "default", "region"), "c");
	names = cw_ini_profiles(ini, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(names[0], "default");
	cw_ini_free(ini);

	ini = parse_ok("[profile  b ]\nk = 1\n[profile a]\nk = 2\n[profile]\nk = 3\n"
		       "[profile x y]\nk = 4\n[profileb]\nk = 5\n",
		       CW_INI_CONFIG);
	names = cw_ini_profiles(ini, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(names[0], "a");
	ck_assert_str_eq(names[1], "b");
	ck_assert_str_eq(cw_ini_profile_get(ini, "b", "k"), "1");
	cw_ini_free(ini);
}
END_TEST

START_TEST(test_merge_and_override)
{
	struct cw_ini *ini = parse_ok("[profile dev]\nregion = a\nk = 1\n[default]\nregion = z\n"
				      "[profile dev]\nregion = b\nregion = c\n",
				      CW_INI_CONFIG);

	ck_assert_str_eq(cw_ini_profile_get(ini, "dev", "region"), "c");
	ck_assert_str_eq(cw_ini_profile_get(ini, "dev", "k"), "1");
	ck_assert_str_eq(cw_ini_profile_get(ini, "default", "region"), "z");
	cw_ini_free(ini);
}
END_TEST

START_TEST(test_subsections_and_continuations)
{
	static const char text[] =
		"[default]\n"
		"s3 =\n"
		"  max_concurrent_requests = 10\n"
		"\n"
		"  Multipart_Threshold = 64MB # inline\n"
		"region = us-east-1\n"
		"note = first\n"
		"\tsecond ; comment\n"
		"   third\n"
		"[profile x]\n"
		"  indented = ok\n"
		"empty =\n"
		"after = 1\n";
	struct cw_ini *ini = parse_ok(text, CW_INI_CONFIG);

	ck_assert_str_eq(cw_ini_profile_get(ini, "default", "s3"), "");
	ck_assert_str_eq(cw_ini_profile_get(ini, "default", "s3.max_concurrent_requests"), "10");
	ck_assert_str_eq(cw_ini_profile_get(ini, "default", "s3.multipart_threshold"), "64MB");
	ck_assert_ptr_null(cw_ini_profile_get(ini, "default", "max_concurrent_requests"));
	ck_assert_str_eq(cw_ini_profile_get(ini, "default", "region"), "us-east-1");
	ck_assert_str_eq(cw_ini_profile_get(ini, "default", "note"), "first\nsecond\nthird");
	/* an indented line right after a header is an ordinary property */
	ck_assert_str_eq(cw_ini_profile_get(ini, "x", "indented"), "ok");
	ck_assert_str_eq(cw_ini_profile_get(ini, "x", "empty"), "");
	ck_assert_str_eq(cw_ini_profile_get(ini, "x", "after"), "1");
	cw_ini_free(ini);
}
END_TEST

START_TEST(test_header_comments)
{
	struct cw_ini *ini = parse_ok("[profile a] # team a\nk = 1\n[profile b];x\nk = 2\n",
				      CW_INI_CONFIG);

	ck_assert_str_eq(cw_ini_profile_get(ini, "a", "k"), "1");
	ck_assert_str_eq(cw_ini_profile_get(ini, "b", "k"), "2");
	cw_ini_free(ini);
}
END_TEST

START_TEST(test_errors)
{
	parse_fail("region = us-east-1\n", CW_EPARSE, "config:1: property outside any section");
	parse_fail("# c\n\n[default\nk = v\n", CW_EPARSE, "config:3: section header without ']'");
	parse_fail("[default]\nk = v\n[ ]\n", CW_EPARSE, "config:3: empty section name");
	parse_fail("[default] x\n", CW_EPARSE, "config:1: unexpected text after section header");
	parse_fail("[default]\r\nk = v\r\naws_secret_access_key wJalrXUtnFEMI\r\n", CW_EPARSE,
		   "config:3: expected 'key = value'");
	parse_fail("[default]\n = v\n", CW_EPARSE, "config:2: property without a name");
	parse_fail("[default]\ns3 =\n  nested\n", CW_EPARSE,
		   "config:3: sub-property without '='");
	parse_fail("[a[b]\n", CW_EPARSE, "config:1: '[' in section name");
}
END_TEST

START_TEST(test_nul_and_size)
{
	static const char nul[] = "[default]\nk = a\0b\n";
	struct cw_ini *ini = (struct cw_ini *)1;
	char err[CW_ERRBUF];
	char *big;

	ck_assert_int_eq(cw_ini_parse(&ini, nul, sizeof(nul) - 1, CW_INI_CONFIG, NULL, err,
				      sizeof(err)), CW_EPARSE);
	ck_assert_ptr_null(ini);
	ck_assert_str_eq(err, "ini:2: NUL byte");

	big = malloc(CW_INI_MAX + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, '\n', CW_INI_MAX + 1);
	ini = (struct cw_ini *)1;
	ck_assert_int_eq(cw_ini_parse(&ini, big, CW_INI_MAX + 1, CW_INI_CONFIG, "big", err,
				      sizeof(err)), CW_ETOOBIG);
	ck_assert_ptr_null(ini);
	ck_assert_ptr_nonnull(strstr(err, "big: larger than"));
	/* exactly at the cap is fine */
	ck_assert_int_eq(cw_ini_parse(&ini, big, CW_INI_MAX, CW_INI_CONFIG, "big", err,
				      sizeof(err)), 0);
	cw_ini_free(ini);
	free(big);
}
END_TEST

/* Errors point at the line but never repeat it: it may hold a secret. */
START_TEST(test_error_hides_secret)
{
	struct cw_ini *ini = NULL;
	char err[CW_ERRBUF];
	const char text[] = "[default]\naws_secret_access_key: SECRETSECRET\n";

	ck_assert_int_eq(cw_ini_parse(&ini, text, strlen(text), CW_INI_CREDENTIALS, "creds", err,
				      sizeof(err)), CW_EPARSE);
	ck_assert_ptr_null(strstr(err, "SECRET"));
	ck_assert_str_eq(err, "creds:2: expected 'key = value'");
}
END_TEST

START_TEST(test_empty_and_null)
{
	struct cw_ini *ini = parse_ok("", CW_INI_CONFIG);
	size_t n = 99;

	ck_assert_uint_eq(cw_ini_profiles(ini, &n)[0] == NULL, 1);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(cw_ini_get(ini, "default", "region"));
	ck_assert(!cw_ini_has_profile(ini, "default"));
	cw_ini_free(ini);
	ck_assert_ptr_null(cw_ini_profile_get(NULL, "default", "region"));
	cw_ini_free(NULL);
}
END_TEST

static Suite *ini_suite(void)
{
	Suite *s = suite_create("ini");
	TCase *tc = tcase_create("ini");

	tcase_add_test(tc, test_config_file);
	tcase_add_test(tc, test_credentials_file);
	tcase_add_test(tc, test_profile_default_rules);
	tcase_add_test(tc, test_merge_and_override);
	tcase_add_test(tc, test_subsections_and_continuations);
	tcase_add_test(tc, test_header_comments);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_nul_and_size);
	tcase_add_test(tc, test_error_hides_secret);
	tcase_add_test(tc, test_empty_and_null);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(ini_suite());
}
