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

#include "buf.h"
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


START_TEST(test_list_page)
{
	static const char page1[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult "
		"xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name>"
		"<Prefix>run/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>"
		"<IsTruncated>true</IsTruncated><NextContinuationToken>tok/1=</NextContinuationToken>"
		"<Contents><Key>run/shard-0-of-2/report.json</Key><Size>123</Size>"
		"<ETag>&quot;x&quot;</ETag></Contents>"
		"<Contents><Key>run/a &amp; b.txt</Key><Size>0</Size></Contents>"
		"</ListBucketResult>";
	static const char last[] = "<ListBucketResult><IsTruncated>false</IsTruncated>"
				   "<NextContinuationToken>ignored</NextContinuationToken>"
				   "</ListBucketResult>";
	struct cw_s3_list_page pg;
	char err[CW_ERRBUF];

	ck_assert_int_eq(cw_s3_list_parse(page1, strlen(page1), &pg, err, sizeof(err)), 0);
	ck_assert_uint_eq(pg.n, 2);
	ck_assert_str_eq(pg.objs[0].key, "run/shard-0-of-2/report.json");
	ck_assert_int_eq(pg.objs[0].size, 123);
	ck_assert_str_eq(pg.objs[1].key, "run/a & b.txt");
	ck_assert(pg.truncated);
	ck_assert_str_eq(pg.next_token, "tok/1=");
	cw_s3_list_page_release(&pg);
	ck_assert_int_eq(cw_s3_list_parse(last, strlen(last), &pg, err, sizeof(err)), 0);
	ck_assert_uint_eq(pg.n, 0);
	ck_assert(!pg.truncated);
	ck_assert_ptr_null(pg.next_token);
	cw_s3_list_page_release(&pg);
}
END_TEST

START_TEST(test_list_page_refused)
{
	static const struct { const char *xml, *why; } bad[] = {
		{ "<Error><Code>AccessDenied</Code></Error>", "ListBucketResult" },
		{ "<ListBucketResult><Contents><Key>k</Key><Size>1</Size></Contents>"
		  "</ListBucketResult>", "no <IsTruncated>" },
		{ "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
		  "without a NextContinuationToken" },
		{ "<ListBucketResult><IsTruncated>yes</IsTruncated></ListBucketResult>",
		  "neither true nor false" },
		{ "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key>"
		  "</Contents></ListBucketResult>", "without <Key> or <Size>" },
		{ "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key>"
		  "<Size>-1</Size></Contents></ListBucketResult>", "decimal" },
		{ "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key>"
		  "<Size>99999999999999999999</Size></Contents></ListBucketResult>", "range" },
		{ "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a&#x7f;b</Key>"
		  "<Size>1</Size></Contents></ListBucketResult>", "control" },
		{ "<!DOCTYPE x [<!ENTITY a \"aaaa\">]><ListBucketResult><IsTruncated>false"
		  "</IsTruncated></ListBucketResult>", "DOCTYPE" },
		{ "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a<b/>c</Key>"
		  "<Size>1</Size></Contents></ListBucketResult>", "inside a text field" },
		{ "<ListBucketResult><IsTruncated>false</IsTruncated>", "malformed" },
		{ "", "malformed" },
	};
	struct cw_s3_list_page pg;
	struct cw_buf big = CW_BUF_INIT;
	char err[CW_ERRBUF];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(cw_s3_list_parse(bad[i].xml, strlen(bad[i].xml), &pg, err,
						  sizeof(err)), CW_EPARSE);
		ck_assert_msg(strstr(err, bad[i].why), "%s: %s", bad[i].xml, err);
		ck_assert_uint_eq(pg.n, 0);
		ck_assert_ptr_null(pg.objs);
	}
	/* S3 answers at most 1,000 keys a page */
	cw_buf_addstr(&big, "<ListBucketResult><IsTruncated>false</IsTruncated>");
	for (int i = 0; i < 1001; i++)
		cw_buf_printf(&big, "<Contents><Key>k%d</Key><Size>1</Size></Contents>", i);
	cw_buf_addstr(&big, "</ListBucketResult>");
	ck_assert_int_eq(cw_s3_list_parse(big.data, big.len, &pg, err, sizeof(err)), CW_EPARSE);
	ck_assert_ptr_nonnull(strstr(err, "more than 1000"));
	cw_buf_release(&big);
}
END_TEST

START_TEST(test_url_parse)
{
	char b[64], p[1024], err[CW_ERRBUF];

	ck_assert_int_eq(cw_s3_url_parse("s3://my-bucket/nightly/run-1//", b, sizeof(b), p,
					 sizeof(p), err, sizeof(err)), 0);
	ck_assert_str_eq(b, "my-bucket");
	ck_assert_str_eq(p, "nightly/run-1");
	ck_assert_int_eq(cw_s3_url_parse("s3://my-bucket", b, sizeof(b), p, sizeof(p), err,
					 sizeof(err)), 0);
	ck_assert_str_eq(p, "");
	ck_assert_int_eq(cw_s3_url_parse("https://x/y", b, sizeof(b), p, sizeof(p), err,
					 sizeof(err)), CW_EINVAL);
	ck_assert_int_eq(cw_s3_url_parse("s3://Bad_Name/x", b, sizeof(b), p, sizeof(p), err,
					 sizeof(err)), CW_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not an S3 bucket name"));
}
END_TEST

static Suite *s3_suite(void)
{
	Suite *s = suite_create("s3");
	TCase *tc = tcase_create("s3");

	tcase_add_test(tc, test_address);
	tcase_add_test(tc, test_metrics_answer);
	tcase_add_test(tc, test_list_page);
	tcase_add_test(tc, test_list_page_refused);
	tcase_add_test(tc, test_url_parse);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(s3_suite());
}
