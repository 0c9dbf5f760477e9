/*
 * check_storage.c - the storage-metric source: the ListMetrics body for
 * AWS/S3 BucketSizeBytes, pages saved under tests/data/cloudwatch/
 * (lm_storage_page*.json: buckets with several storage classes, metrics
 * that are not BucketSizeBytes{BucketName,StorageType}), the bucket set,
 * the metric templates for the stored bytes and the bytes window.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudwatch.h"
#include "err.h"
#include "storage.h"
#include "testlib.h"

#define DAY 86400

static char *load(const char *name, size_t *len)
{
	char rel[256], *path, *text;

	snprintf(rel, sizeof(rel), "tests/data/cloudwatch/%s", name);
	path = cw_test_src(rel);
	ck_assert_ptr_nonnull(path);
	text = cw_test_slurp(path);
	ck_assert_msg(text != NULL, "cannot read %s", path);
	free(path);
	*len = strlen(text);
	return text;
}

START_TEST(lm_request_exact)
{
	char *body = NULL, err[CW_ERRBUF];
	size_t len = 0;

	ck_assert_int_eq(cw_storage_lm_request(&body, &len, NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(body, "{\"Namespace\":\"AWS/S3\",\"MetricName\":\"BucketSizeBytes\"}");
	ck_assert_uint_eq(len, strlen(body));
	free(body);
	ck_assert_int_eq(cw_storage_lm_request(&body, &len, "tok/1", err, sizeof(err)), 0);
	ck_assert_str_eq(body, "{\"Namespace\":\"AWS/S3\",\"MetricName\":\"BucketSizeBytes\","
			       "\"NextToken\":\"tok/1\"}");
	free(body);
}
END_TEST

START_TEST(lm_pages_into_a_set)
{
	struct cw_storage_page page;
	struct cw_storage_set set;
	struct cw_storage_bucket *b;
	char err[CW_ERRBUF], *text;
	size_t len;

	memset(&set, 0, sizeof(set));
	text = load("lm_storage_page1.json", &len);
	ck_assert_int_eq(cw_storage_lm_parse(&page, text, len, err, sizeof(err)), 0);
	free(text);
	ck_assert_uint_eq(page.n, 3);
	ck_assert_uint_eq(page.skipped, 3); /* FilterId, NumberOfObjects, 3 dims */
	ck_assert_str_eq(page.next_token, "page-2");
	ck_assert_int_eq(cw_storage_set_add(&set, &page), 0);
	cw_storage_page_release(&page);

	text = load("lm_storage_page2.json", &len);
	ck_assert_int_eq(cw_storage_lm_parse(&page, text, len, err, sizeof(err)), 0);
	free(text);
	ck_assert_ptr_null(page.next_token);
	ck_assert_int_eq(cw_storage_set_add(&set, &page), 0);
	cw_storage_page_release(&page);
	cw_storage_set_finish(&set);

	ck_assert_uint_eq(set.n, 3);
	ck_assert_str_eq(set.v[0].name, "archive");
	ck_assert_str_eq(set.v[1].name, "logs");
	ck_assert_str_eq(set.v[2].name, "media-assets");
	b = cw_storage_set_find(&set, "media-assets");
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(b->ntypes, 2);
	ck_assert(isnan(b->bytes) && !b->sized);
	b = cw_storage_set_find(&set, "logs");
	ck_assert_uint_eq(b->ntypes, 1); /* listed on both pages: merged */
	ck_assert_ptr_null(cw_storage_set_find(&set, "odd"));
	ck_assert_ptr_null(cw_storage_set_find(&set, "zzz"));
	ck_assert_uint_eq(cw_storage_set_metrics(&set), 4);
	cw_storage_set_release(&set);
}
END_TEST

START_TEST(lm_garbage_refused)
{
	static const char *const bad[] = {
		"", "[]", "{\"Metrics\":{}}", "{\"Metrics\":[1]}",
		"{\"Metrics\":[{\"Dimensions\":{}}]}",
		"{\"Metrics\":[{\"Dimensions\":[{\"Name\":1}]}]}",
		"{\"Metrics\":[{\"Dimensions\":[{\"Name\":\"a\",\"Value\":2}]}]}",
		"{\"Metrics\":[],\"NextToken\":5}", "{\"Metrics\":[],\"Metrics\":[]}",
	};
	struct cw_storage_page page;
	char err[CW_ERRBUF];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(cw_storage_lm_parse(&page, bad[i], strlen(bad[i]), err,
						  sizeof(err)) != 0, "accepted %s", bad[i]);
		ck_assert_ptr_null(page.v);
		ck_assert_ptr_null(page.next_token);
		ck_assert_msg(strstr(err, "ListMetrics response") != NULL, "%s", err);
	}
	/* an empty name is skipped, not trusted (a NUL inside one is refused
	 * by the JSON decoder already) */
	{
		const char *s = "{\"Metrics\":[{\"Namespace\":\"AWS/S3\",\"MetricName\":"
				"\"BucketSizeBytes\",\"Dimensions\":[{\"Name\":\"BucketName\","
				"\"Value\":\"\"},{\"Name\":\"StorageType\",\"Value\":"
				"\"StandardStorage\"}]}]}";

		ck_assert_int_eq(cw_storage_lm_parse(&page, s, strlen(s), err, sizeof(err)), 0);
		ck_assert_uint_eq(page.n, 0);
		ck_assert_uint_eq(page.skipped, 1);
		cw_storage_page_release(&page);
	}
}
END_TEST

START_TEST(bytes_query_template)
{
	struct cw_storage_metric m;
	struct cw_gmd_query q;
	char *body = NULL, err[CW_ERRBUF];
	size_t len;

	ck_assert_int_eq(cw_storage_metric_init(&m, "GlacierStorage"), 0);
	q.metric = &m.def;
	q.bucket = "media-assets";
	ck_assert_int_eq(cw_gmd_request(&body, &len, &q, 1, 100 * DAY, 104 * DAY, DAY, NULL,
					err, sizeof(err)), 0);
	ck_assert_msg(strstr(body, "\"Dimensions\":[{\"Name\":\"BucketName\",\"Value\":"
			     "\"media-assets\"},{\"Name\":\"StorageType\",\"Value\":"
			     "\"GlacierStorage\"}]") != NULL, "%s", body);
	ck_assert_msg(strstr(body, "\"MetricName\":\"BucketSizeBytes\"") != NULL, "%s", body);
	ck_assert_msg(strstr(body, "\"Stat\":\"Average\"") != NULL, "%s", body);
	free(body);
	cw_storage_metric_release(&m);
}
END_TEST

START_TEST(window_and_latest)
{
	struct cw_series s;
	int64_t a, b;

	cw_storage_window(200 * DAY + 3600, &a, &b);
	ck_assert_int_eq(b, 200 * DAY);
	ck_assert_int_eq(a, (200 - CW_STORAGE_LOOKBACK_DAYS) * DAY);
	ck_assert_int_eq(cw_series_init(&s, a, DAY, 4), 0);
	ck_assert(isnan(cw_storage_latest(&s)));
	s.values[1] = 7;
	s.values[2] = 9;
	ck_assert(cw_storage_latest(&s) == 9);
	cw_series_release(&s);
	ck_assert(isnan(cw_storage_latest(NULL)));
}
END_TEST

static Suite *storage_suite(void)
{
	Suite *s = suite_create("storage");
	TCase *tc = tcase_create("storage");

	tcase_add_test(tc, lm_request_exact);
	tcase_add_test(tc, lm_pages_into_a_set);
	tcase_add_test(tc, lm_garbage_refused);
	tcase_add_test(tc, bytes_query_template);
	tcase_add_test(tc, window_and_latest);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(storage_suite());
}
