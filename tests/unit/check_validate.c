/*
 * check_validate.c - the AWS name grammars of validate.h: account ids, role
 * ARNs, regions, bucket names, external ids and session names, each with
 * strings that must pass and strings that must fail for a named reason.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "err.h"
#include "testlib.h"
#include "validate.h"

struct vcase {
	const char *s;
	const char *why; /* NULL: valid; else a substring of the reason */
};

static void check_table(const char *what, const char *(*fn)(const char *),
			const struct vcase *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *got = fn(t[i].s);

		if (!t[i].why) {
			ck_assert_msg(got == NULL, "%s(\"%s\"): want valid, got \"%s\"", what,
				      t[i].s, got ? got : "");
		} else {
			ck_assert_msg(got != NULL, "%s(\"%s\"): want \"%s\", got valid", what,
				      t[i].s, t[i].why);
			ck_assert_msg(strstr(got, t[i].why) != NULL,
				      "%s(\"%s\"): want \"%s\" in \"%s\"", what, t[i].s, t[i].why,
				      got);
		}
	}
}

#define CHECK_TABLE(fn, t) check_table(#fn, fn, t, sizeof(t) / sizeof(t[0]))

START_TEST(test_account_id)
{
	static const struct vcase t[] = {
		{ "123456789012", NULL },
		{ "000000000000", NULL },
		{ "12345678901", "exactly 12 digits" },
		{ "1234567890123", "exactly 12 digits" },
		{ "", "exactly 12 digits" },
		{ "12345678901a", "not an AWS account id" },
		{ " 23456789012", "not an AWS account id" },
		{ "1234-5678-9012", "not an AWS account id" },
	};

	CHECK_TABLE(cw_check_account_id, t);
}
END_TEST

START_TEST(test_role_arn)
{
	static const struct vcase t[] = {
		{ "arn:aws:iam::123456789012:role/cwsweep-reader", NULL },
		{ "arn:aws-cn:iam::123456789012:role/r", NULL },
		{ "arn:aws-us-gov:iam::123456789012:role/r", NULL },
		{ "arn:aws-iso:iam::123456789012:role/r", NULL },
		{ "arn:aws-iso-b:iam::123456789012:role/r", NULL },
		{ "arn:aws:iam::123456789012:role/path/to/Reader+=,.@_-", NULL },
		{ "arn:aws:iam::123456789012:role/service-role/x", NULL },
		/* 64-character name */
		{ "arn:aws:iam::123456789012:role/"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL },
		{ "arn:aws:iam::123456789012:role/"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "longer than 64" },
		{ "", "not an IAM role ARN" },
		{ "cwsweep-reader", "not an IAM role ARN" },
		{ "arn:aws:iam::123456789012:cwsweep-reader", "not an IAM role ARN" },
		{ "arn:aws:iam:123456789012:role/r", "service must be iam" },
		{ "arn:aws:iam:us-east-1:123456789012:role/r", "service must be iam" },
		{ "arn:aws:s3:::bucket", "service must be iam" },
		{ "arn:aws-eu:iam::123456789012:role/r", "unknown partition" },
		{ "arn:AWS:iam::123456789012:role/r", "unknown partition" },
		{ "arn:aws:iam::12345678901:role/r", "12 digits" },
		{ "arn:aws:iam::12345678901x:role/r", "12 digits" },
		{ "arn:aws:iam::123456789012:user/r", "not a role ARN" },
		{ "arn:aws:sts::123456789012:assumed-role/r/session", "assumed-role" },
		{ "arn:aws:iam::123456789012:role/", "no role name" },
		{ "arn:aws:iam::123456789012:role/path/", "no role name" },
		{ "arn:aws:iam::123456789012:role/a b", "outside" },
		{ "arn:aws:iam::123456789012:role/r*", "outside" },
		{ "arn:aws:iam::123456789012:role/p//r", "empty segment" },
	};

	CHECK_TABLE(cw_check_role_arn, t);
}
END_TEST

START_TEST(test_role_name)
{
	ck_assert_ptr_null(cw_check_role_name("cwsweep-reader"));
	ck_assert_ptr_null(cw_check_role_name("finops/cwsweep-reader"));
	ck_assert_ptr_null(cw_check_role_name("/a/b/reader"));
	ck_assert_ptr_nonnull(cw_check_role_name(""));
	ck_assert_ptr_nonnull(cw_check_role_name("/"));
	ck_assert_ptr_nonnull(cw_check_role_name("finops/"));
	ck_assert_ptr_nonnull(cw_check_role_name("a//b"));
	ck_assert_ptr_nonnull(cw_check_role_name("cw reader"));
	ck_assert_ptr_nonnull(cw_check_role_name("arn:aws:iam::111111111111:role/x"));
	ck_assert_ptr_nonnull(cw_check_role_name(
		"x1234567890123456789012345678901234567890123456789012345678901234"));
}
END_TEST

START_TEST(test_role_arn_account)
{
	char out[13];

	ck_assert_int_eq(cw_role_arn_account("arn:aws:iam::123456789012:role/r", out), 0);
	ck_assert_str_eq(out, "123456789012");
	ck_assert_int_eq(cw_role_arn_account("arn:aws-us-gov:iam::000000000042:role/a/b", out),
			 0);
	ck_assert_str_eq(out, "000000000042");
	ck_assert_int_eq(cw_role_arn_account("arn:aws:iam::123:role/r", out), CW_EINVAL);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_region)
{
	static const struct vcase t[] = {
		{ "us-east-1", NULL },
		{ "eu-central-2", NULL },
		{ "us-gov-west-1", NULL },
		{ "cn-north-1", NULL },
		{ "cn-northwest-1", NULL },
		{ "ap-southeast-4", NULL },
		{ "ap-northeast-3", NULL },
		{ "il-central-1", NULL },
		{ "mx-central-1", NULL },
		{ "us-iso-east-1", NULL },
		{ "us-isob-east-1", NULL },
		{ "eu-isoe-west-1", NULL },
		{ "us-east-12", NULL },
		{ "US-EAST-1", "lowercase" },
		{ "us-east1", "not an AWS region" },
		{ "us-east", "not an AWS region" },
		{ "useast-1", "not an AWS region" },
		{ "xx-east-1", "not an AWS region" },
		{ "us-middle-1", "not an AWS region" },
		{ "us-east-0", "not an AWS region" },
		{ "us-east-123", "not an AWS region" },
		{ "us-east-1a", "not an AWS region" },
		{ "us-east-1 ", "not an AWS region" },
		{ "", "not an AWS region" },
	};

	CHECK_TABLE(cw_check_region, t);
}
END_TEST

START_TEST(test_bucket_name)
{
	static const struct vcase t[] = {
		{ "media-prod-assets", NULL },
		{ "abc", NULL },
		{ "a.b.c", NULL },
		{ "1bucket9", NULL },
		{ "my.bucket-1.example", NULL },
		{ "192.168.5.4x", NULL },  /* not an IP: has a letter */
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL }, /* 63 */
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "longer than 63" },
		{ "ab", "shorter than 3" },
		{ "", "shorter than 3" },
		{ "Media", "uppercase" },
		{ "media_assets", "underscores" },
		{ "media assets", "only a-z" },
		{ "media/assets", "only a-z" },
		{ "-media", "start with a letter or digit" },
		{ ".media", "start with a letter or digit" },
		{ "media-", "end with a letter or digit" },
		{ "media.", "end with a letter or digit" },
		{ "media..assets", "two adjacent dots" },
		{ "192.168.5.4", "IP address" },
		{ "10.0.0.1", "IP address" },
		{ "xn--media", "prefix" },
		{ "sthree-media", "prefix" },
		{ "sthree-configurator-x", "prefix" },
		{ "amzn-s3-demo-bucket", "prefix" },
		{ "media-s3alias", "suffix" },
		{ "media--ol-s3", "suffix" },
		{ "media.mrap", "suffix" },
		{ "media--x-s3", "suffix" },
		{ "media--table-s3", "suffix" },
	};

	CHECK_TABLE(cw_check_bucket_name, t);
}
END_TEST

START_TEST(test_external_id)
{
	static char long_ok[1225], long_bad[1226];
	const struct vcase t[] = {
		{ "cwsweep-demo-7f3a9c", NULL },
		{ "ab", NULL },
		{ "a+=,.@:/-_Z9", NULL },
		{ long_ok, NULL },
		{ long_bad, "longer than 1224" },
		{ "a", "shorter than 2" },
		{ "", "shorter than 2" },
		{ "has space", "outside" },
		{ "semi;colon", "outside" },
		{ "quote\"", "outside" },
	};

	memset(long_ok, 'x', 1224);
	memset(long_bad, 'x', 1225);
	CHECK_TABLE(cw_check_external_id, t);
}
END_TEST

START_TEST(test_session_name)
{
	static const struct vcase t[] = {
		{ "cwsweep-20240101T000000Z", NULL },
		{ "ab", NULL },
		{ "a+=,.@-_", NULL },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL }, /* 64 */
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "longer than 64" },
		{ "a", "shorter than 2" },
		{ "a:b", "outside" },  /* ':' is fine in an external id, not here */
		{ "a/b", "outside" },
		{ "a b", "outside" },
	};

	CHECK_TABLE(cw_check_session_name, t);
}
END_TEST

/* The one period rule of the inventory and `analyze --period`. */
START_TEST(test_period)
{
	static const int64_t good[] = { 60, 300, 900, 3600, 21600, 86400 };
	static const int64_t bad[] = { 0, -60, 7, 59, 61, 90, 420, 7 * 3600, 172800 };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(cw_check_period(good[i]) == NULL, "%lld refused", (long long)good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(cw_check_period(bad[i]) != NULL, "%lld accepted", (long long)bad[i]);
}
END_TEST

static Suite *validate_suite(void)
{
	Suite *s = suite_create("validate");
	TCase *tc = tcase_create("grammars");

	tcase_add_test(tc, test_account_id);
	tcase_add_test(tc, test_role_arn);
	tcase_add_test(tc, test_role_arn_account);
	tcase_add_test(tc, test_role_name);
	tcase_add_test(tc, test_region);
	tcase_add_test(tc, test_bucket_name);
	tcase_add_test(tc, test_external_id);
	tcase_add_test(tc, test_session_name);
	tcase_add_test(tc, test_period);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(validate_suite());
}
