/*
 * check_s3.c - the S3 client's addressing (virtual-hosted by default, path
 * style for configured endpoints and dotted names, keys encoded with
 * their slashes) and its reading of GetBucketMetricsConfiguration answers.
 * The signed calls run against the fake in tests/integration/
 * test_enable_metrics.py and against moto in test_moto.py.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "err.h"
#include "s3.h"
#include "testlib.h"

static void addr(const struct cw_s3 *s3, const char *region, const char *bucket,
		 const char *key, const char *want_ep, const char *want_path, bool want_ps)
{
	char ep[512], path[2048], err[CW_ERRBUF];
	bool ps;

	ck_assert_msg(cw_s3_address(s3, region, bucket, key, ep, sizeof(ep), path, sizeof(path),
				    &ps, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(ep, want_ep);
	ck_assert_str_eq(path, want_path);
	ck_assert(ps == want_ps);
}

START_TEST(test_address)
{
	struct cw_s3 s3;
	char ep[512], path[64], err[CW_ERRBUF];
	bool ps;

	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_S3");
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	memset(&s3, 0, sizeof(s3));
	addr(&s3, "eu-west-1", "media-assets", NULL, "https://media-assets.s3.eu-west-1.amazonaws.com",
	     "/", false);
	addr(&s3, "eu-west-1", "media-assets", "reports/2026 12/a+b.md",
	     "https://media-assets.s3.eu-west-1.amazonaws.com", "/reports/2026%2012/a%2Bb.md",
	     false);
	addr(&s3, "us-east-1", "www.example.com", NULL, "https://s3.us-east-1.amazonaws.com",
	     "/www.example.com", true);
	addr(&s3, "cn-north-1", "b-cn", "k", "https://b-cn.s3.cn-north-1.amazonaws.com.cn", "/k",
	     false);
	setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:4566/", 1);
	addr(&s3, "us-east-1", "media-assets", "k", "http://127.0.0.1:4566", "/media-assets/k",
	     true);
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
	addr(&s3, "us-east-1", "media-assets", NULL,
	     "https://media-assets.s3.us-east-1.amazonaws.com", "/", false);
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	unsetenv("AWS_ENDPOINT_URL_S3");
	s3.endpoint_url = "http://localhost:9000";
	addr(&s3, "us-east-1", "media-assets", NULL, "http://localhost:9000", "/media-assets",
	     true);
	/* names that cannot be a bucket never reach a URL */
	ck_assert_int_eq(cw_s3_address(&s3, "us-east-1", "Bad_Name", NULL, ep, sizeof(ep), path,
				       sizeof(path), &ps, err, sizeof(err)), CW_EINVAL);
	ck_assert_int_eq(cw_s3_address(&s3, "us-east-1", "a/b", NULL, ep, sizeof(ep), path,
				       sizeof(path), &ps, err, sizeof(err)), CW_EINVAL);
	ck_assert_int_eq(cw_s3_address(&s3, "us-east-1", "ok-bucket",
				       "a-key-longer-than-the-sixty-four-bytes-of-this-path-buffer-here",
				       ep, sizeof(ep), path, sizeof(path), &ps, err, sizeof(err)),
			 CW_EINVAL);
}
END_TEST

START_TEST(test_metrics_answer)
{
	static const char ok[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<MetricsConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		"<Id>EntireBucket</Id></MetricsConfiguration>";
	static const char filtered[] = "<MetricsConfiguration><Id>EntireBucket</Id><Filter>"
		"<Prefix>logs/</Prefix></Filter></MetricsConfiguration>";
	static const char *const no[] = {
		"", "{}", "<MetricsConfiguration/>", "<MetricsConfiguration><Id>Other</Id>"
		"</MetricsConfiguration>", "<Error><Id>EntireBucket</Id></Error>",
		"<MetricsConfiguration><Filter><Id>EntireBucket</Id></Filter></MetricsConfiguration>",
		"<MetricsConfiguration><Id>EntireBucket</Id>",
	};

	ck_assert(cw_s3_metrics_config_is(ok, strlen(ok), "EntireBucket"));
	ck_assert(cw_s3_metrics_config_is(filtered, strlen(filtered), "EntireBucket"));
	ck_assert(!cw_s3_metrics_config_is(ok, strlen(ok), "Entire"));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		ck_assert_msg(!cw_s3_metrics_config_is(no[i], strlen(no[i]), "EntireBucket"),
			      "%s", no[i]);
	ck_assert(!cw_s3_metrics_config_is(NULL, 0, "EntireBucket"));
}
END_TEST

static Suite *s3_suite(void)
{
	Suite *s = suite_create("s3");
	TCase *tc = tcase_create("s3");

	tcase_add_test(tc, test_address);
	tcase_add_test(tc, test_metrics_answer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(s3_suite());
}
