/*
 * check_presign.c - presigned S3 GET URLs against botocore's presigner
 * (S3SigV4QueryAuth of python3-botocore 1.43, at 2026-12-07T12:00:00Z with
 * the SigV4 suite's example keys, expiry 3600 s): the same signature for a
 * virtual-hosted address, with a session token, and path style through an
 * endpoint with a key that needs encoding.  Also the limits.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "presign.h"
#include "strutil.h"
#include "testlib.h"

#define NOW 1796644800 /* 2026-12-07T12:00:00Z */

static struct cw_creds creds(const char *token)
{
	struct cw_creds c;

	memset(&c, 0, sizeof(c));
	strcpy(c.access_key, "AKIDEXAMPLE");
	strcpy(c.secret_key, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
	c.session_token = (char *)token;
	return c;
}

static char *presign(const char *endpoint, const char *token, const char *region,
		     const char *bucket, const char *key, int64_t expires, int want_rc)
{
	struct cw_s3 s3 = { NULL, endpoint, NULL, NULL };
	struct cw_creds c = creds(token);
	struct cw_buf url = CW_BUF_INIT;
	char err[CW_ERRBUF] = "";

	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_S3");
	ck_assert_int_eq(cw_s3_presign_get(&s3, &c, region, bucket, key, NOW, expires, &url, err,
					   sizeof(err)), want_rc);
	if (want_rc) {
		ck_assert_uint_gt(strlen(err), 0);
		cw_buf_release(&url);
		return NULL;
	}
	return cw_buf_detach(&url, NULL);
}

START_TEST(matches_botocore)
{
	char *u = presign(NULL, NULL, "eu-west-1", "my-reports", "cwsweep/run-1/report.html",
			  3600, 0);

	ck_assert_str_eq(u, "https://my-reports.s3.eu-west-1.amazonaws.com/cwsweep/run-1/"
			 "report.html?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
			 "AKIDEXAMPLE%2F20261207%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date="
			 "20261207T120000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&"
			 "X-Amz-Signature=02a120e096f91010b8496fdd8a8f841efc94496106438df190a47"
			 "6a60acbb2fc");
	free(u);
	/* temporary credentials: the token is signed (botocore puts it after
	 * SignedHeaders in the URL; the signature is the same) */
	u = presign(NULL, "IQoJb3/token+with=chars", "eu-west-1", "my-reports",
		    "cwsweep/run-1/report.html", 3600, 0);
	ck_assert_ptr_nonnull(strstr(u, "&X-Amz-Security-Token=IQoJb3%2Ftoken%2Bwith%3Dchars&"));
	ck_assert_ptr_nonnull(strstr(u, "&X-Amz-Signature=2e6bf5b2a88d0ac2fde406fea8486506bfad4e"
				     "a888045a0db808db892363d768"));
	free(u);
}
END_TEST

START_TEST(path_style_endpoint)
{
	char *u = presign("http://127.0.0.1:9000", NULL, "us-east-1", "my.reports",
			  "cw sweep/report.html", 3600, 0);

	ck_assert(cw_str_startswith(u, "http://127.0.0.1:9000/my.reports/cw%20sweep/report.html?"));
	ck_assert_ptr_nonnull(strstr(u, "&X-Amz-Signature=1d8b3e29e43c745b3339d08ddb9afe2681eeb86"
				     "9c21f0f1b6eab4eb3d2ca1026"));
	free(u);
}
END_TEST

START_TEST(limits)
{
	char *u = presign(NULL, NULL, "us-east-1", "b-b", "k", 604800, 0);

	ck_assert_ptr_nonnull(strstr(u, "X-Amz-Expires=604800"));
	free(u);
	presign(NULL, NULL, "us-east-1", "b-b", "k", 604801, CW_EINVAL);
	presign(NULL, NULL, "us-east-1", "b-b", "k", 0, CW_EINVAL);
}
END_TEST

static Suite *presign_suite(void)
{
	Suite *s = suite_create("presign");
	TCase *tc = tcase_create("presign");

	tcase_add_test(tc, matches_botocore);
	tcase_add_test(tc, path_style_endpoint);
	tcase_add_test(tc, limits);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(presign_suite());
}
