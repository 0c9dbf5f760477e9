/*
 * check_cloudwatch.c - the CloudWatch JSON 1.0 codec: exact request
 * bodies, and responses saved under tests/data/cloudwatch/ (newest-first
 * timestamps, gaps, PartialData + NextToken merging, Forbidden and
 * InternalError results, ListMetrics paging) plus garbage.
 *
 * GetMetricData pages go through a scanner (cloudwatch.c); the jansson
 * parser it replaced stays as the reference (tests/bench/gmd_ref.c), and
 * every page here is also given to both, which must agree: the same
 * series bit for bit, or the same error class.
 *
 * The window in every response test: 7 days from T0 at a daily period.
 */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cloudwatch.h"
#include "err.h"
#include "gmd_ref.h"
#include "testlib.h"

#define DAY 86400
#define T0 1700006400 /* 2023-11-15T00:00:00Z */
#define T_END (T0 + 7 * DAY)

static struct cw_dim_tmpl s3_dims[2] = { { "BucketName", "{bucket}" },
					 { "FilterId", "EntireBucket" } };
static struct cw_metric_def s3_bytes = {
	.namespace_ = "AWS/S3", .name = "BytesDownloaded", .stat = "Sum",
	.unit = "Bytes", .dims = s3_dims, .ndims = 2, .per_bucket = true,
	.label = "AWS/S3 BytesDownloaded Sum",
};

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

/* Assert slot i of s: NaN when want is NaN. */
static void slot_eq(const struct cw_series *s, size_t i, double want)
{
	if (isnan(want))
		ck_assert_msg(isnan(s->values[i]), "slot %zu: %g, want a gap", i, s->values[i]);
	else
		ck_assert_msg(s->values[i] == want, "slot %zu: %g, want %g", i, s->values[i],
			      want);
}

/* ---- ids ----------------------------------------------------------------- */

START_TEST(query_ids)
{
	char buf[24];
	size_t i = 7;

	ck_assert_str_eq(cw_query_id(0, buf, sizeof(buf)), "q0");
	ck_assert_str_eq(cw_query_id(499, buf, sizeof(buf)), "q499");
	ck_assert_str_eq(cw_query_id(SIZE_MAX, buf, sizeof(buf)), "q18446744073709551615");
	ck_assert_str_eq(cw_query_id(12345, buf, 4), "q12"); /* cut as snprintf cuts */
	for (size_t k = 0; k < 10000; k++) {
		size_t back = SIZE_MAX;

		ck_assert_int_eq(cw_query_index(cw_query_id(k, buf, sizeof(buf)), &back), 0);
		ck_assert_uint_eq(back, k);
	}
	ck_assert_int_eq(cw_query_index("q0", &i), 0);
	ck_assert_uint_eq(i, 0);
	ck_assert_int_eq(cw_query_index("q499", &i), 0);
	ck_assert_uint_eq(i, 499);
	ck_assert_int_eq(cw_query_index("q01", &i), CW_EINVAL);
	ck_assert_int_eq(cw_query_index("q", &i), CW_EINVAL);
	ck_assert_int_eq(cw_query_index("Q1", &i), CW_EINVAL);
	ck_assert_int_eq(cw_query_index("q1x", &i), CW_EINVAL);
	ck_assert_int_eq(cw_query_index("q-1", &i), CW_EINVAL);
	ck_assert_int_eq(cw_query_index("", &i), CW_EINVAL);
	ck_assert_int_eq(cw_query_index(NULL, &i), CW_EINVAL);
	ck_assert_int_eq(cw_query_index("q999999999999999999999999", &i), CW_EINVAL);
	ck_assert_uint_eq(i, 499);
}
END_TEST

/* ---- requests ------------------------------------------------------------ */

START_TEST(gmd_request_exact)
{
	struct cw_gmd_query q[1] = { { .metric = &s3_bytes, .bucket = "logs-prod" } };
	char err[CW_ERRBUF], *body = NULL;
	size_t len = 0;

	ck_assert_int_eq(cw_gmd_request(&body, &len, q, 1, T0, T_END, DAY, NULL, err,
					sizeof(err)), 0);
	ck_assert_str_eq(body,
		"{\"MetricDataQueries\":[{\"Id\":\"q0\",\"MetricStat\":{\"Metric\":"
		"{\"Namespace\":\"AWS/S3\",\"MetricName\":\"BytesDownloaded\",\"Dimensions\":"
		"[{\"Name\":\"BucketName\",\"Value\":\"logs-prod\"},"
		"{\"Name\":\"FilterId\",\"Value\":\"EntireBucket\"}]},"
		"\"Period\":86400,\"Stat\":\"Sum\"},\"ReturnData\":true}],"
		"\"StartTime\":1700006400,\"EndTime\":1700611200,"
		"\"ScanBy\":\"TimestampDescending\"}");
	ck_assert_uint_eq(len, strlen(body));
	free(body);

	ck_assert_int_eq(cw_gmd_request(&body, &len, q, 1, T0, T_END, DAY, "tok \"2\"", err,
					sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(body, ",\"ScanBy\":\"TimestampDescending\","
					   "\"NextToken\":\"tok \\\"2\\\"\"}"));
	free(body);
}
END_TEST

/* The body of one query as jansson writes it (compact, keys in order). */
static json_t *query_json(const struct cw_gmd_query *q, size_t i, int64_t period)
{
	json_t *dims = json_array();
	char id[24], val[256];

	for (size_t d = 0; d < q->metric->ndims; d++) {
		const char *t = q->metric->dims[d].value;
		size_t n = 0;

		/* {bucket}, {account} and {region} as the tests below use them */
		for (const char *p = t; *p && n + 1 < sizeof(val);) {
			const char *with = NULL;
			size_t skip = 0;

			if (strncmp(p, "{bucket}", 8) == 0)
				with = q->bucket, skip = 8;
			else if (strncmp(p, "{account}", 9) == 0 && q->account)
				with = q->account, skip = 9;
			else if (strncmp(p, "{region}", 8) == 0 && q->region)
				with = q->region, skip = 8;
			if (with) {
				n += (size_t)snprintf(val + n, sizeof(val) - n, "%s", with);
				p += skip;
			} else {
				val[n++] = *p++;
			}
		}
		val[n] = '\0';
		json_array_append_new(dims, json_pack("{s:s, s:s}", "Name",
						      q->metric->dims[d].name, "Value", val));
	}
	snprintf(id, sizeof(id), "q%zu", i);
	return json_pack("{s:s, s:{s:{s:s, s:s, s:o}, s:I, s:s}, s:b}", "Id", id, "MetricStat",
			 "Metric", "Namespace", q->metric->namespace_, "MetricName",
			 q->metric->name, "Dimensions", dims, "Period", (json_int_t)period,
			 "Stat", q->metric->stat, "ReturnData", 1);
}

/* A full batch of several metrics (fixed and substituted dimensions, more
 * dimensions than a metric's text keeps, none) is the JSON that jansson
 * writes for it, byte for byte. */
START_TEST(gmd_request_batch_as_jansson)
{
	static struct cw_dim_tmpl many[9] = {
		{ "D0", "{account}" }, { "D1", "x" }, { "D2", "{region}-{bucket}" },
		{ "D3", "caf\xc3\xa9" }, { "D4", "q\"uote" }, { "D5", "back\\slash" },
		{ "D6", "{nope}" }, { "D7", "7" }, { "D8", "{bucket}" },
	};
	struct cw_metric_def wide = { .namespace_ = "Custom/NS", .name = "Wide", .stat = "p99",
				      .dims = many, .ndims = 9, .per_bucket = true };
	struct cw_metric_def mixed = { .namespace_ = "Custom/NS", .name = "Mixed",
				       .stat = "Average", .dims = many, .ndims = 8,
				       .per_bucket = true };
	struct cw_metric_def none = { .namespace_ = "AWS/Billing", .name = "EstimatedCharges",
				      .stat = "Maximum", .dims = NULL, .ndims = 0 };
	const struct cw_metric_def *ms[] = { &s3_bytes, &s3_bytes, &mixed, &wide, &none };
	static char buckets[300][32];
	struct cw_gmd_query q[300];
	json_t *doc = json_object(), *arr = json_array();
	char err[CW_ERRBUF], *body = NULL, *want;
	size_t len;

	for (size_t i = 0; i < 300; i++) {
		snprintf(buckets[i], sizeof(buckets[i]), i % 7 ? "bucket-%zu" : "b\"%zu\\", i);
		q[i] = (struct cw_gmd_query){ .metric = ms[(i / 3) % 5], .bucket = buckets[i],
					      .account = i % 2 ? "123456789012" : NULL,
					      .region = i % 4 ? "eu-west-1" : NULL };
		json_array_append_new(arr, query_json(&q[i], i, 3600));
	}
	json_object_set_new(doc, "MetricDataQueries", arr);
	json_object_set_new(doc, "StartTime", json_integer(1700000000));
	json_object_set_new(doc, "EndTime", json_integer(1700086400));
	json_object_set_new(doc, "ScanBy", json_string("TimestampDescending"));
	want = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	ck_assert_int_eq(cw_gmd_request(&body, &len, q, 300, 1700000000, 1700086400, 3600, NULL,
					err, sizeof(err)), 0);
	ck_assert_str_eq(body, want);
	ck_assert_uint_eq(len, strlen(want));
	free(body);
	free(want);
	json_decref(doc);
}
END_TEST

START_TEST(gmd_request_templates)
{
	struct cw_dim_tmpl dims[2] = { { "Bucket", "pre-{bucket}-{bucket}" },
				       { "Kind", "x" } };
	struct cw_metric_def m = { .namespace_ = "Custom/NS", .name = "Hits", .stat = "p99",
				   .dims = dims, .ndims = 2, .per_bucket = true };
	struct cw_metric_def fixed = { .namespace_ = "AWS/Billing", .name = "EstimatedCharges",
				       .stat = "Maximum", .dims = NULL, .ndims = 0 };
	struct cw_gmd_query q[2] = { { .metric = &m, .bucket = "b" },
				     { .metric = &fixed, .bucket = "" } };
	char err[CW_ERRBUF], *body = NULL;
	size_t len;

	ck_assert_int_eq(cw_gmd_request(&body, &len, q, 2, 0, 3600, 60, NULL, err,
					sizeof(err)), 0);
	ck_assert_str_eq(body,
		"{\"MetricDataQueries\":[{\"Id\":\"q0\",\"MetricStat\":{\"Metric\":"
		"{\"Namespace\":\"Custom/NS\",\"MetricName\":\"Hits\",\"Dimensions\":"
		"[{\"Name\":\"Bucket\",\"Value\":\"pre-b-b\"},"
		"{\"Name\":\"Kind\",\"Value\":\"x\"}]},"
		"\"Period\":60,\"Stat\":\"p99\"},\"ReturnData\":true},"
		"{\"Id\":\"q1\",\"MetricStat\":{\"Metric\":{\"Namespace\":\"AWS/Billing\","
		"\"MetricName\":\"EstimatedCharges\",\"Dimensions\":[]},"
		"\"Period\":60,\"Stat\":\"Maximum\"},\"ReturnData\":true}],"
		"\"StartTime\":0,\"EndTime\":3600,\"ScanBy\":\"TimestampDescending\"}");
	free(body);
}
END_TEST

/* {account} and {region} in any dimension value; a NULL one stays as is. */
START_TEST(gmd_request_account_region)
{
	struct cw_dim_tmpl dims[2] = { { "LinkedAccount", "{account}" },
				       { "Where", "{region}/{bucket}/{nope}" } };
	struct cw_metric_def m = { .namespace_ = "AWS/Billing", .name = "EstimatedCharges",
				   .stat = "Maximum", .dims = dims, .ndims = 2,
				   .per_bucket = true };
	struct cw_gmd_query q[2] = {
		{ .metric = &m, .bucket = "b", .account = "123456789012", .region = "eu-west-1" },
		{ .metric = &m, .bucket = "c" },
	};
	struct cw_lm_page page;
	char err[CW_ERRBUF], *body = NULL;
	size_t len;

	ck_assert_int_eq(cw_gmd_request(&body, &len, q, 2, 0, 3600, 60, NULL, err,
					sizeof(err)), 0);
	ck_assert_msg(strstr(body, "[{\"Name\":\"LinkedAccount\",\"Value\":\"123456789012\"},"
			     "{\"Name\":\"Where\",\"Value\":\"eu-west-1/b/{nope}\"}]") != NULL,
		      "%s", body);
	ck_assert_msg(strstr(body, "[{\"Name\":\"LinkedAccount\",\"Value\":\"{account}\"},"
			     "{\"Name\":\"Where\",\"Value\":\"{region}/c/{nope}\"}]") != NULL,
		      "%s", body);
	free(body);
	/* the listing: fixed values substituted, the {bucket} one left out */
	dims[1].value = (char *)"{bucket}";
	ck_assert_int_eq(cw_lm_request_at(&body, &len, &m, "123456789012", "eu-west-1", NULL,
					  err, sizeof(err)), 0);
	ck_assert_str_eq(body, "{\"Namespace\":\"AWS/Billing\",\"MetricName\":"
			       "\"EstimatedCharges\",\"Dimensions\":[{\"Name\":\"LinkedAccount\","
			       "\"Value\":\"123456789012\"}]}");
	free(body);
	body = (char *)"{\"Metrics\":[{\"Namespace\":\"AWS/Billing\",\"MetricName\":"
		       "\"EstimatedCharges\",\"Dimensions\":[{\"Name\":\"LinkedAccount\","
		       "\"Value\":\"123456789012\"},{\"Name\":\"Where\",\"Value\":\"x\"}]},"
		       "{\"Namespace\":\"AWS/Billing\",\"MetricName\":\"EstimatedCharges\","
		       "\"Dimensions\":[{\"Name\":\"LinkedAccount\",\"Value\":\"999999999999\"},"
		       "{\"Name\":\"Where\",\"Value\":\"y\"}]}]}";
	ck_assert_int_eq(cw_lm_parse_at(&page, &m, "123456789012", "eu-west-1", body,
					strlen(body), err, sizeof(err)), 0);
	ck_assert_uint_eq(page.n, 1);
	ck_assert_str_eq(page.names[0], "x");
	cw_lm_page_release(&page);
}
END_TEST

START_TEST(gmd_request_refused)
{
	struct cw_gmd_query *q = calloc(501, sizeof(*q));
	char err[CW_ERRBUF], *body = (char *)"x";
	size_t len;

	ck_assert_ptr_nonnull(q);
	for (size_t i = 0; i < 501; i++) {
		q[i].metric = &s3_bytes;
		q[i].bucket = "b";
	}
	ck_assert_int_eq(cw_gmd_request(&body, &len, q, 0, T0, T_END, DAY, NULL, err,
					sizeof(err)), CW_EINVAL);
	ck_assert_ptr_null(body);
	ck_assert_str_eq(err, "GetMetricData request: 0 queries: must be 1..500");
	ck_assert_int_eq(cw_gmd_request(&body, &len, q, 501, T0, T_END, DAY, NULL, err,
					sizeof(err)), CW_EINVAL);
	ck_assert_int_eq(cw_gmd_request(&body, &len, q, 500, T0, T_END, DAY, NULL, err,
					sizeof(err)), 0);
	free(body);
	ck_assert_int_eq(cw_gmd_request(&body, &len, q, 1, T_END, T0, DAY, NULL, err,
					sizeof(err)), CW_EINVAL);
	q[0].bucket = "bad\xff";
	ck_assert_int_eq(cw_gmd_request(&body, &len, q, 1, T0, T_END, DAY, NULL, err,
					sizeof(err)), CW_EINVAL);
	ck_assert_str_eq(err, "GetMetricData request: a name or value is not valid UTF-8");
	ck_assert_ptr_null(body);
	free(q);
}
END_TEST

START_TEST(lm_request_exact)
{
	char err[CW_ERRBUF], *body = NULL;
	size_t len;

	ck_assert_int_eq(cw_lm_request(&body, &len, &s3_bytes, NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(body, "{\"Namespace\":\"AWS/S3\",\"MetricName\":\"BytesDownloaded\","
			       "\"Dimensions\":[{\"Name\":\"FilterId\","
			       "\"Value\":\"EntireBucket\"}]}");
	ck_assert_uint_eq(len, strlen(body));
	free(body);
	ck_assert_int_eq(cw_lm_request(&body, &len, &s3_bytes, "lm-page-2", err,
				       sizeof(err)), 0);
	ck_assert_str_eq(body, "{\"Namespace\":\"AWS/S3\",\"MetricName\":\"BytesDownloaded\","
			       "\"Dimensions\":[{\"Name\":\"FilterId\","
			       "\"Value\":\"EntireBucket\"}],\"NextToken\":\"lm-page-2\"}");
	free(body);
	ck_assert_int_eq(cw_lm_request(&body, &len, &s3_bytes, "\xc3", err, sizeof(err)),
			 CW_EINVAL);
	ck_assert_ptr_null(body);
}
END_TEST

/* ---- GetMetricData responses -------------------------------------------- */

START_TEST(results_new)
{
	struct cw_gmd_result *r = NULL;

	ck_assert_int_eq(cw_gmd_results_new(&r, 2, T0, T_END, DAY), 0);
	for (size_t k = 0; k < 2; k++) {
		ck_assert_int_eq(r[k].series.start, T0);
		ck_assert_int_eq(r[k].series.period, DAY);
		ck_assert_uint_eq(r[k].series.n, 7);
		ck_assert_int_eq(r[k].series.complete_end, T_END);
		ck_assert_int_eq(r[k].status, CW_GMD_NONE);
		for (size_t i = 0; i < 7; i++)
			slot_eq(&r[k].series, i, NAN);
	}
	cw_gmd_results_free(r, 2);
	ck_assert_int_eq(cw_gmd_results_new(&r, 2, T0, T0, DAY), CW_EINVAL);
	ck_assert_ptr_null(r);
	ck_assert_str_eq(cw_gmd_status_name(CW_GMD_PARTIAL), "PartialData");
	ck_assert_str_eq(cw_gmd_status_name(CW_GMD_NONE), "None");
}
END_TEST

START_TEST(gmd_newest_first_with_gap)
{
	struct cw_gmd_result *r = NULL;
	struct cw_gmd_page page;
	char err[CW_ERRBUF];
	size_t len;
	char *body = load("gmd_basic.json", &len);

	ck_assert_int_eq(cw_gmd_results_new(&r, 2, T0, T_END, DAY), 0);
	ck_assert_int_eq(cw_gmd_accumulate(r, 2, NULL, 2, body, len, &page, err,
					   sizeof(err)), 0);
	ck_assert_ptr_null(page.next_token);
	ck_assert_ptr_null(page.messages);
	ck_assert_uint_eq(page.results, 2);
	ck_assert_uint_eq(page.unknown, 0);
	/* slot 4 (T0 + 4 days) had no datapoint: a gap, not a zero; the
	 * point at EndTime is outside [StartTime, EndTime) */
	slot_eq(&r[0].series, 0, 0.0);
	slot_eq(&r[0].series, 1, 100.0);
	slot_eq(&r[0].series, 2, 200.0);
	slot_eq(&r[0].series, 3, 300.0);
	slot_eq(&r[0].series, 4, NAN);
	slot_eq(&r[0].series, 5, 500.0);
	slot_eq(&r[0].series, 6, 600.0);
	ck_assert_uint_eq(r[0].points, 6);
	ck_assert_uint_eq(r[0].outside, 1);
	ck_assert_int_eq(r[0].status, CW_GMD_COMPLETE);
	ck_assert_uint_eq(cw_series_complete(&r[0].series), 7);
	/* an empty result: every slot a gap, still Complete */
	for (size_t i = 0; i < 7; i++)
		slot_eq(&r[1].series, i, NAN);
	ck_assert_int_eq(r[1].status, CW_GMD_COMPLETE);
	ck_assert_uint_eq(r[1].points, 0);
	cw_gmd_page_release(&page);
	cw_gmd_results_free(r, 2);
	free(body);
}
END_TEST

START_TEST(gmd_pages_merge)
{
	struct cw_gmd_result *r = NULL;
	struct cw_gmd_page page;
	size_t map[2] = { 2, 0 }; /* q0 -> r[2], q1 -> r[0] */
	char err[CW_ERRBUF];
	size_t len1, len2;
	char *p1 = load("gmd_page1.json", &len1), *p2 = load("gmd_page2.json", &len2);

	ck_assert_int_eq(cw_gmd_results_new(&r, 3, T0, T_END, DAY), 0);
	ck_assert_int_eq(cw_gmd_accumulate(r, 3, map, 2, p1, len1, &page, err,
					   sizeof(err)), 0);
	ck_assert_str_eq(page.next_token, "tok-page-2");
	ck_assert_int_eq(r[2].status, CW_GMD_PARTIAL);
	ck_assert_int_eq(r[0].status, CW_GMD_PARTIAL);
	ck_assert_int_eq(r[1].status, CW_GMD_NONE); /* nobody maps there */
	cw_gmd_page_release(&page);
	ck_assert_ptr_null(page.next_token);

	ck_assert_int_eq(cw_gmd_accumulate(r, 3, map, 2, p2, len2, &page, err,
					   sizeof(err)), 0);
	ck_assert_ptr_null(page.next_token);
	ck_assert_int_eq(r[2].status, CW_GMD_COMPLETE);
	ck_assert_int_eq(r[0].status, CW_GMD_COMPLETE);
	/* q0: both pages together fill the week */
	slot_eq(&r[2].series, 0, 0.5);
	slot_eq(&r[2].series, 1, 1.0);
	slot_eq(&r[2].series, 2, 2.0);
	slot_eq(&r[2].series, 3, 3.0);
	slot_eq(&r[2].series, 4, 4.0);
	slot_eq(&r[2].series, 5, 5.0);
	slot_eq(&r[2].series, 6, 6.0);
	ck_assert_uint_eq(r[2].points, 7);
	/* q1: first and last day only */
	slot_eq(&r[0].series, 0, 10.0);
	for (size_t i = 1; i < 6; i++)
		slot_eq(&r[0].series, i, NAN);
	slot_eq(&r[0].series, 6, 60.0);
	for (size_t i = 0; i < 7; i++)
		slot_eq(&r[1].series, i, NAN);
	cw_gmd_page_release(&page);
	cw_gmd_results_free(r, 3);
	free(p1);
	free(p2);
}
END_TEST

START_TEST(gmd_forbidden_internal_error)
{
	struct cw_gmd_result *r = NULL;
	struct cw_gmd_page page;
	char err[CW_ERRBUF];
	size_t len;
	char *body = load("gmd_errors.json", &len);
	const char *later = "{\"MetricDataResults\":[{\"Id\":\"q1\",\"Timestamps\":[1700092800],"
			    "\"Values\":[2],\"StatusCode\":\"Complete\","
			    "\"Messages\":[{\"Code\":\"Other\",\"Value\":\"ignored\"}]}]}";

	ck_assert_int_eq(cw_gmd_results_new(&r, 2, T0, T_END, DAY), 0);
	ck_assert_int_eq(cw_gmd_accumulate(r, 2, NULL, 2, body, len, &page, err,
					   sizeof(err)), 0);
	ck_assert_int_eq(r[0].status, CW_GMD_FORBIDDEN);
	ck_assert_str_eq(r[0].message, "Forbidden: not authorized to read AWS/S3 BytesDownloaded");
	ck_assert_int_eq(r[1].status, CW_GMD_INTERNAL_ERROR);
	ck_assert_str_eq(r[1].message, "InternalError: try again later");
	slot_eq(&r[1].series, 0, 1.0);
	ck_assert_uint_eq(page.results, 3);
	ck_assert_uint_eq(page.unknown, 1); /* "other7" is not one of ours */
	ck_assert_str_eq(page.messages, "MaxMetricsExceeded: too many metrics; Note: second");
	cw_gmd_page_release(&page);

	/* an error sticks when a later page says Complete; the first message stays */
	ck_assert_int_eq(cw_gmd_accumulate(r, 2, NULL, 2, later, strlen(later), &page, err,
					   sizeof(err)), 0);
	ck_assert_int_eq(r[1].status, CW_GMD_INTERNAL_ERROR);
	ck_assert_str_eq(r[1].message, "InternalError: try again later");
	slot_eq(&r[1].series, 1, 2.0);
	cw_gmd_page_release(&page);
	cw_gmd_results_free(r, 2);
	free(body);
}
END_TEST

START_TEST(gmd_iso_and_real_timestamps)
{
	struct cw_gmd_result *r = NULL;
	struct cw_gmd_page page;
	char err[CW_ERRBUF];
	size_t len;
	char *body = load("gmd_iso.json", &len);

	ck_assert_int_eq(cw_gmd_results_new(&r, 1, T0, T_END, DAY), 0);
	ck_assert_int_eq(cw_gmd_accumulate(r, 1, NULL, 1, body, len, &page, err,
					   sizeof(err)), 0);
	slot_eq(&r[0].series, 6, 6.0);
	slot_eq(&r[0].series, 5, 5.5);
	slot_eq(&r[0].series, 4, NAN);
	slot_eq(&r[0].series, 3, 3.0);
	slot_eq(&r[0].series, 0, 1000.0);
	ck_assert_uint_eq(r[0].points, 4);
	cw_gmd_page_release(&page);
	cw_gmd_results_free(r, 1);
	free(body);
}
END_TEST

static const char *const gmd_garbage[] = {
	"",
	"null",
	"[]",
	"42",
	"\"MetricDataResults\"",
	"{",
	"{\"MetricDataResults\":{}}",
	"{\"MetricDataResults\":[1]}",
	"{\"MetricDataResults\":[{}]}",
	"{\"MetricDataResults\":[{\"Id\":1}]}",
	"{\"MetricDataResults\":[{\"Id\":\"q0\",\"Timestamps\":[1700006400],\"Values\":[]}]}",
	"{\"MetricDataResults\":[{\"Id\":\"q0\",\"Timestamps\":[true],\"Values\":[1]}]}",
	"{\"MetricDataResults\":[{\"Id\":\"q0\",\"Timestamps\":[1700006400],\"Values\":[\"1\"]}]}",
	"{\"MetricDataResults\":[{\"Id\":\"q0\",\"Timestamps\":[\"yesterday\"],\"Values\":[1]}]}",
	"{\"MetricDataResults\":[{\"Id\":\"q0\",\"Timestamps\":[1e300],\"Values\":[1]}]}",
	"{\"MetricDataResults\":[{\"Id\":\"q0\",\"Timestamps\":{},\"Values\":[]}]}",
	"{\"MetricDataResults\":[{\"Id\":\"q0\",\"StatusCode\":\"Weird\"}]}",
	"{\"MetricDataResults\":[{\"Id\":\"q0\",\"StatusCode\":3}]}",
	"{\"MetricDataResults\":[{\"Id\":\"q0\",\"Messages\":[1]}]}",
	"{\"MetricDataResults\":[],\"Messages\":\"x\"}",
	"{\"MetricDataResults\":[],\"Messages\":[{\"Code\":5}]}",
	"{\"NextToken\":5}",
	"{\"NextToken\":\"a\",\"NextToken\":\"b\"}",
	"{\"MetricDataResults\":[]} trailing",
	/* a good result followed by a bad one: nothing may be applied */
	"{\"MetricDataResults\":[{\"Id\":\"q0\",\"Timestamps\":[1700006400],\"Values\":[1]},"
	"{\"Id\":\"q1\",\"Timestamps\":[1700006400]}]}",
	NULL,
};

START_TEST(gmd_garbage_refused)
{
	struct cw_gmd_result *r = NULL;
	struct cw_gmd_page page;
	char err[CW_ERRBUF];

	ck_assert_int_eq(cw_gmd_results_new(&r, 2, T0, T_END, DAY), 0);
	for (size_t k = 0; gmd_garbage[k]; k++) {
		const char *g = gmd_garbage[k];
		int rc;

		err[0] = '\0';
		rc = cw_gmd_accumulate(r, 2, NULL, 2, g, strlen(g), &page, err, sizeof(err));
		ck_assert_msg(rc == CW_EPARSE, "garbage %zu (%s): rc %d", k, g, rc);
		ck_assert_msg(strncmp(err, "GetMetricData response: ", 24) == 0,
			      "garbage %zu: message '%s'", k, err);
		ck_assert_ptr_null(page.next_token);
		ck_assert_ptr_null(page.messages);
	}
	for (size_t k = 0; k < 2; k++) {
		ck_assert_int_eq(r[k].status, CW_GMD_NONE);
		ck_assert_uint_eq(r[k].points, 0);
		ck_assert_ptr_null(r[k].message);
		for (size_t i = 0; i < 7; i++)
			slot_eq(&r[k].series, i, NAN);
	}
	cw_gmd_results_free(r, 2);
}
END_TEST

START_TEST(gmd_limits)
{
	struct cw_gmd_result *r = NULL;
	struct cw_gmd_page page;
	char err[CW_ERRBUF];
	size_t map[1] = { 5 };
	size_t n = CW_CW_MAX_TOKEN + 40;
	char *big = malloc(n + 1);
	const char *empty = "{}", *nulls = "{\"MetricDataResults\":null,\"NextToken\":null}";
	const char *emptytok = "{\"MetricDataResults\":[],\"NextToken\":\"\"}";
	const char *one = "{\"MetricDataResults\":[{\"Id\":\"q0\"}]}";

	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(cw_gmd_results_new(&r, 1, T0, T_END, DAY), 0);
	/* a NextToken over 64 KiB */
	memset(big, 'a', n);
	memcpy(big, "{\"NextToken\":\"", 14);
	memcpy(big + n - 2, "\"}", 2);
	big[n] = '\0';
	ck_assert_int_eq(cw_gmd_accumulate(r, 1, NULL, 1, big, n, &page, err, sizeof(err)),
			 CW_ETOOBIG);
	/* a body over the cap is refused before it is read */
	ck_assert_int_eq(cw_gmd_accumulate(r, 1, NULL, 1, empty, CW_CW_MAX_BODY + 1, &page,
					   err, sizeof(err)), CW_ETOOBIG);
	/* empty documents are fine; an empty NextToken ends the paging */
	ck_assert_int_eq(cw_gmd_accumulate(r, 1, NULL, 1, empty, 2, &page, err, sizeof(err)), 0);
	ck_assert_uint_eq(page.results, 0);
	cw_gmd_page_release(&page);
	ck_assert_int_eq(cw_gmd_accumulate(r, 1, NULL, 1, nulls, strlen(nulls), &page, err,
					   sizeof(err)), 0);
	cw_gmd_page_release(&page);
	ck_assert_int_eq(cw_gmd_accumulate(r, 1, NULL, 1, emptytok, strlen(emptytok), &page,
					   err, sizeof(err)), 0);
	ck_assert_ptr_null(page.next_token);
	cw_gmd_page_release(&page);
	/* a map that points outside the results is the caller's bug */
	ck_assert_int_eq(cw_gmd_accumulate(r, 1, map, 1, one, strlen(one), &page, err,
					   sizeof(err)), CW_EINVAL);
	/* an embedded NUL is not JSON */
	ck_assert_int_eq(cw_gmd_accumulate(r, 1, NULL, 1, "{}\0", 3, &page, err, sizeof(err)),
			 CW_EPARSE);
	cw_gmd_results_free(r, 1);
	free(big);
}
END_TEST

/* ---- the scanner against the reference ----------------------------------- */

/* body (NUL-terminated) through both parsers, which must agree. */
static void same_as_ref(const char *what, const char *body, size_t len)
{
	char why[CW_ERRBUF];
	char *copy = malloc(len ? len : 1);

	/* an exact-length copy: nothing may be read past len */
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, body, len);
	ck_assert_msg(cw_gmd_ref_compare(copy, len, why, sizeof(why)) == 0, "%s: %s", what, why);
	free(copy);
}

static const char *const gmd_files[] = {
	"gmd_basic.json", "gmd_page1.json", "gmd_page2.json", "gmd_errors.json",
	"gmd_iso.json", NULL,
};

/* Pages the scanner must refuse, with the class and a piece of the message. */
static const struct {
	const char *body;
	int rc;
	const char *msg;
} gmd_refused[] = {
	/* duplicate keys, at every level, also through an escape */
	{ "{\"NextToken\":\"a\",\"NextToken\":\"b\"}", CW_EPARSE, "not JSON" },
	{ "{\"MetricDataResults\":[{\"Id\":\"q0\",\"Id\":\"q1\"}]}", CW_EPARSE, "not JSON" },
	{ "{\"MetricDataResults\":[{\"Id\":\"q0\",\"\\u0049d\":\"q1\"}]}", CW_EPARSE, "not JSON" },
	{ "{\"MetricDataResults\":[{\"Id\":\"q0\",\"Label\":{\"a\":1,\"a\":2}}]}", CW_EPARSE,
	  "not JSON" },
	{ "{\"Messages\":[{\"Code\":\"a\",\"Code\":\"b\"}]}", CW_EPARSE, "not JSON" },
	{ "{\"x\":{\"k1\":1,\"k2\":1,\"k3\":1,\"k4\":1,\"k5\":1,\"k6\":1,\"k7\":1,\"k8\":1,"
	  "\"k9\":1,\"k10\":1,\"k3\":1}}", CW_EPARSE, "not JSON" },
	/* a repeated member after points were written: nothing stays */
	{ "{\"MetricDataResults\":[{\"Id\":\"q0\",\"Timestamps\":[1700006400],\"Values\":[1],"
	  "\"Timestamps\":[1700092800,x]}]}", CW_EPARSE, "not JSON" },
	{ "{\"MetricDataResults\":[{\"Id\":\"q0\",\"Timestamps\":[1700006400],\"Values\":[1],"
	  "\"Timestamps\":[1700092800],\"Values\":[2]}]}", CW_EPARSE, "not JSON" },
	{ "{\"MetricDataResults\":[{\"Id\":\"q1\",\"Timestamps\":[1700006400,1700092800],"
	  "\"Values\":[1,2]},{\"Id\":\"q0\",\"Timestamps\":[1700006400],\"Values\":[1,]}]}",
	  CW_EPARSE, "not JSON" },
	/* strings: UTF-8, escapes, control characters */
	{ "{\"x\":\"\xc0\x80\"}", CW_EPARSE, "not JSON" },
	{ "{\"x\":\"\xed\xa0\x80\"}", CW_EPARSE, "not JSON" },
	{ "{\"x\":\"\xf4\x90\x80\x80\"}", CW_EPARSE, "not JSON" },
	{ "{\"x\":\"\xe2\x82\"}", CW_EPARSE, "not JSON" },
	{ "{\"x\":\"\x80\"}", CW_EPARSE, "not JSON" },
	{ "{\"x\":\"a\tb\"}", CW_EPARSE, "not JSON" },
	{ "{\"x\":\"\\x\"}", CW_EPARSE, "not JSON" },
	{ "{\"x\":\"\\u12\"}", CW_EPARSE, "not JSON" },
	{ "{\"x\":\"\\u0000\"}", CW_EPARSE, "not JSON" },
	{ "{\"x\":\"\\ud800\"}", CW_EPARSE, "not JSON" },
	{ "{\"x\":\"\\udc00\\ud800\"}", CW_EPARSE, "not JSON" },
	{ "{\"x\":\"\\ud800\\u0041\"}", CW_EPARSE, "not JSON" },
	{ "{\"x\":\"abc", CW_EPARSE, "not JSON" },
	/* numbers: grammar, int64, finite */
	{ "{\"x\":01}", CW_EPARSE, "not JSON" },
	{ "{\"x\":1.}", CW_EPARSE, "not JSON" },
	{ "{\"x\":.5}", CW_EPARSE, "not JSON" },
	{ "{\"x\":-}", CW_EPARSE, "not JSON" },
	{ "{\"x\":1e}", CW_EPARSE, "not JSON" },
	{ "{\"x\":1e+}", CW_EPARSE, "not JSON" },
	{ "{\"x\":+1}", CW_EPARSE, "not JSON" },
	{ "{\"x\":NaN}", CW_EPARSE, "not JSON" },
	{ "{\"x\":Infinity}", CW_EPARSE, "not JSON" },
	{ "{\"x\":9223372036854775808}", CW_EPARSE, "not JSON" },
	{ "{\"x\":-9223372036854775809}", CW_EPARSE, "not JSON" },
	{ "{\"x\":123456789012345678901}", CW_EPARSE, "not JSON" },
	{ "{\"MetricDataResults\":[{\"Id\":\"q0\",\"Timestamps\":[1700006400],"
	  "\"Values\":[1e400]}]}", CW_EPARSE, "not JSON" },
	{ "{\"x\":-0.001e312}", CW_EPARSE, "not JSON" },
	/* structure */
	{ "{\"x\":[1,]}", CW_EPARSE, "not JSON" },
	{ "{\"x\":1,}", CW_EPARSE, "not JSON" },
	{ "{\"x\" 1}", CW_EPARSE, "not JSON" },
	{ "{\"x\":tru}", CW_EPARSE, "not JSON" },
	{ "{\"x\":nul}", CW_EPARSE, "not JSON" },
	{ "{} {}", CW_EPARSE, "not JSON" },
	{ "\xef\xbb\xbf{}", CW_EPARSE, "not JSON" },
	{ "{\"x\":[1 2]}", CW_EPARSE, "not JSON" },
	{ "{\f}", CW_EPARSE, "not JSON" },
	{ "[]", CW_EPARSE, "not a JSON object" },
	{ "[1,{}]", CW_EPARSE, "not a JSON object" },
	/* the shape: every check of the tree parser, in its order */
	{ "{\"MetricDataResults\":{}}", CW_EPARSE, "MetricDataResults or Messages: bad type" },
	{ "{\"MetricDataResults\":[],\"Messages\":[{\"Value\":[]}]}", CW_EPARSE,
	  "MetricDataResults or Messages: bad type" },
	{ "{\"MetricDataResults\":[],\"Messages\":[null]}", CW_EPARSE,
	  "MetricDataResults or Messages: bad type" },
	{ "{\"NextToken\":[],\"MetricDataResults\":{}}", CW_EPARSE,
	  "MetricDataResults or Messages: bad type" },
	{ "{\"NextToken\":true}", CW_EPARSE, "NextToken: not a string" },
	{ "{\"MetricDataResults\":[7],\"NextToken\":1}", CW_EPARSE, "NextToken: not a string" },
	{ "{\"MetricDataResults\":[7]}", CW_EPARSE, "MetricDataResults[0]: no Id" },
	{ "{\"MetricDataResults\":[{\"Id\":null}]}", CW_EPARSE, "MetricDataResults[0]: no Id" },
	{ "{\"MetricDataResults\":[{\"Id\":\"q0\"},{\"StatusCode\":\"Complete\"}]}", CW_EPARSE,
	  "MetricDataResults[1]: no Id" },
	{ "{\"MetricDataResults\":[{\"Id\":\"q0\",\"StatusCode\":\"complete\"}]}", CW_EPARSE,
	  "MetricDataResults[0]: unknown StatusCode" },
	{ "{\"MetricDataResults\":[{\"StatusCode\":\"x\",\"Id\":\"q0\",\"Values\":{}}]}",
	  CW_EPARSE, "MetricDataResults[0]: unknown StatusCode" },
	{ "{\"MetricDataResults\":[{\"Id\":\"q0\",\"Values\":\"1\"}]}", CW_EPARSE,
	  "MetricDataResults[0]: bad member type" },
	{ "{\"MetricDataResults\":[{\"Id\":\"q0\",\"Messages\":{}}]}", CW_EPARSE,
	  "MetricDataResults[0]: bad member type" },
	{ "{\"MetricDataResults\":[{\"Id\":\"q0\",\"Messages\":[{\"Code\":1}]}]}", CW_EPARSE,
	  "MetricDataResults[0]: bad member type" },
	{ "{\"MetricDataResults\":[{\"Id\":\"q0\",\"Timestamps\":[1,2],\"Values\":[1]}]}",
	  CW_EPARSE, "MetricDataResults[0]: 2 timestamps but 1 values" },
	{ "{\"MetricDataResults\":[{\"Values\":[1,2,3],\"Id\":\"q9\"}]}", CW_EPARSE,
	  "MetricDataResults[0]: 0 timestamps but 3 values" },
	{ "{\"MetricDataResults\":[{\"Id\":\"q0\",\"Timestamps\":[1700006400,\"x\"],"
	  "\"Values\":[1,2]}]}", CW_EPARSE, "MetricDataResults[0]: point 1: bad timestamp" },
	{ "{\"MetricDataResults\":[{\"Id\":\"q0\",\"Values\":[1,null,3],"
	  "\"Timestamps\":[1,2,true]}]}", CW_EPARSE, "MetricDataResults[0]: point 1: bad" },
	{ "{\"MetricDataResults\":[{\"Id\":\"q0\",\"Timestamps\":[1.5e13],\"Values\":[1]}]}",
	  CW_EPARSE, "point 0: bad timestamp" },
	{ "{\"MetricDataResults\":[{\"Id\":\"q0\",\"Timestamps\":[-1.0000001e13],"
	  "\"Values\":[1]}]}", CW_EPARSE, "point 0: bad timestamp" },
	{ "{\"MetricDataResults\":[{\"Id\":\"q0\",\"Timestamps\":[[]],\"Values\":[1]}]}",
	  CW_EPARSE, "point 0: bad timestamp" },
	/* an unknown id is fine, a bad one later is not: nothing applied */
	{ "{\"MetricDataResults\":[{\"Id\":\"zz\",\"Timestamps\":[1700006400],\"Values\":[1]},"
	  "{\"Id\":\"q0\",\"Timestamps\":[1700006400],\"Values\":[1]},"
	  "{\"Id\":\"q1\",\"StatusCode\":5}]}", CW_EPARSE,
	  "MetricDataResults[2]: unknown StatusCode" },
	{ NULL, 0, NULL },
};

START_TEST(gmd_strict)
{
	struct cw_gmd_result *r = NULL;
	struct cw_gmd_page page;
	char err[CW_ERRBUF];

	ck_assert_int_eq(cw_gmd_results_new(&r, 2, T0, T_END, DAY), 0);
	for (size_t k = 0; gmd_refused[k].body; k++) {
		const char *b = gmd_refused[k].body;
		int rc;

		err[0] = '\0';
		rc = cw_gmd_accumulate(r, 2, NULL, 2, b, strlen(b), &page, err, sizeof(err));
		ck_assert_msg(rc == gmd_refused[k].rc, "case %zu (%s): rc %d (%s)", k, b, rc, err);
		ck_assert_msg(strstr(err, gmd_refused[k].msg) != NULL,
			      "case %zu (%s): message '%s', want '%s'", k, b, err,
			      gmd_refused[k].msg);
		ck_assert_msg(strncmp(err, "GetMetricData", 13) == 0, "case %zu: '%s'", k, err);
		ck_assert_ptr_null(page.next_token);
		ck_assert_ptr_null(page.messages);
		same_as_ref(b, b, strlen(b));
	}
	/* a NUL byte anywhere, also where jansson skips one (after a number) */
	ck_assert_int_eq(cw_gmd_accumulate(r, 2, NULL, 2, "{\"x\":[11\0]}", 12, &page, err,
					   sizeof(err)), CW_EPARSE);
	ck_assert_int_eq(cw_gmd_accumulate(r, 2, NULL, 2, "{\"x\":\"a\0\"}", 10, &page, err,
					   sizeof(err)), CW_EPARSE);
	for (size_t k = 0; k < 2; k++) {
		ck_assert_int_eq(r[k].status, CW_GMD_NONE);
		ck_assert_uint_eq(r[k].points, 0);
		for (size_t i = 0; i < 7; i++)
			slot_eq(&r[k].series, i, NAN);
	}
	cw_gmd_results_free(r, 2);
}
END_TEST

/* Pages that are fine, in shapes the saved responses do not show. */
static const char *const gmd_fine[] = {
	/* members in any order, whitespace everywhere, Values before Timestamps */
	" \r\n\t{ \"Messages\" : [ ] , \"MetricDataResults\" : [ { \"Values\" : [ 3 , 2.5 ] ,"
	" \"StatusCode\" : \"PartialData\" , \"Timestamps\" : [ 1700179200 , 1700092800 ] ,"
	" \"Id\" : \"q1\" } ] , \"NextToken\" : \"t\\u00e9\\n\" } \n",
	/* escapes in keys and values; unknown members of every type */
	"{\"Metric\\u0044ataResults\":[{\"\\u0049d\":\"q\\u0030\",\"Label\":\"\\ud83d\\ude00\\\"\","
	"\"Timestamps\":[\"\\u0032023-11-16T00:00:00Z\"],\"Values\":[-0.0],\"Extra\":{\"a\":"
	"[true,false,null,{},[]],\"b\":-1.5E-3}}],\"Other\":[1e308,-9223372036854775808]}",
	/* messages: null and missing parts, more than 20, empty ones */
	"{\"MetricDataResults\":[{\"Id\":\"q2\",\"Messages\":[{},{\"Code\":\"C\"}]},"
	"{\"Id\":\"q0\",\"StatusCode\":null,\"Messages\":[{\"Code\":null,\"Value\":\"only value\"}]}],"
	"\"Messages\":[{},{\"Value\":\"v\"},{\"Code\":\"c\",\"Value\":null},{\"Code\":\"1\"},"
	"{\"Code\":\"2\"},{\"Code\":\"3\"},{\"Code\":\"4\"},{\"Code\":\"5\"},{\"Code\":\"6\"},"
	"{\"Code\":\"7\"},{\"Code\":\"8\"},{\"Code\":\"9\"},{\"Code\":\"10\"},{\"Code\":\"11\"},"
	"{\"Code\":\"12\"},{\"Code\":\"13\"},{\"Code\":\"14\"},{\"Code\":\"15\"},{\"Code\":\"16\"},"
	"{\"Code\":\"17\"},{\"Code\":\"18\"},{\"Code\":\"19\"}]}",
	/* the same query twice in a page; points outside the window; -0 */
	"{\"MetricDataResults\":[{\"Id\":\"q0\",\"Timestamps\":[1700006400,1600000000,"
	"1800000000],\"Values\":[1,2,3]},{\"Id\":\"q0\",\"Timestamps\":[1700006401],"
	"\"Values\":[-0]},{\"Id\":\"q3\",\"Timestamps\":[1],\"Values\":[1]}]}",
	/* real and string timestamps, ascending order, numbers of every form */
	"{\"MetricDataResults\":[{\"Id\":\"q1\",\"Timestamps\":[1.7000064E9,1700092800.999,"
	"\"1700179200\",\"2023-11-18T00:00:00.000+00:00\",17002656e2,1700352000e-0],"
	"\"Values\":[0.1,1e-7,123456789012345678,0.30000000000000004,1.7976931348623157e308,"
	"4.9e-324]}]}",
	/* long numbers: more digits than a double holds */
	"{\"MetricDataResults\":[{\"Id\":\"q2\",\"Timestamps\":[1700006400,1700092800,1700179200],"
	"\"Values\":[3.14159265358979323846264338327950288419716939937510,"
	"100000000000000000000000000000000000000000.5,"
	"0.000000000000000000000000000000000000000000000000000000000000000000000001]}]}",
	"{}",
	"{\"MetricDataResults\":[]}",
	NULL,
};

START_TEST(gmd_same_as_reference)
{
	size_t len;

	for (size_t k = 0; gmd_files[k]; k++) {
		char *body = load(gmd_files[k], &len);

		same_as_ref(gmd_files[k], body, len);
		/* every prefix of a page is refused alike, and read within bounds */
		for (size_t n = 0; n < len; n++)
			same_as_ref(gmd_files[k], body, n);
		free(body);
	}
	for (size_t k = 0; gmd_garbage[k]; k++)
		same_as_ref(gmd_garbage[k], gmd_garbage[k], strlen(gmd_garbage[k]));
	for (size_t k = 0; gmd_fine[k]; k++) {
		len = strlen(gmd_fine[k]);
		same_as_ref(gmd_fine[k], gmd_fine[k], len);
		for (size_t n = 0; n < len; n++)
			same_as_ref(gmd_fine[k], gmd_fine[k], n);
	}
}
END_TEST

START_TEST(gmd_fine_pages)
{
	struct cw_gmd_result *r = NULL;
	struct cw_gmd_page page;
	size_t map[4] = { 0, 1, 2, 3 };
	char err[CW_ERRBUF];

	ck_assert_int_eq(cw_gmd_results_new(&r, 4, T0, T_END, DAY), 0);
	/* whitespace, order, PartialData, an escaped NextToken */
	ck_assert_int_eq(cw_gmd_accumulate(r, 4, map, 4, gmd_fine[0], strlen(gmd_fine[0]), &page,
					   err, sizeof(err)), 0);
	ck_assert_str_eq(page.next_token, "t\xc3\xa9\n");
	ck_assert_int_eq(r[1].status, CW_GMD_PARTIAL);
	slot_eq(&r[1].series, 1, 2.5);
	slot_eq(&r[1].series, 2, 3.0);
	cw_gmd_page_release(&page);
	/* escaped keys and id; an ISO string timestamp; -0.0 keeps its sign */
	ck_assert_int_eq(cw_gmd_accumulate(r, 4, map, 4, gmd_fine[1], strlen(gmd_fine[1]), &page,
					   err, sizeof(err)), 0);
	ck_assert_uint_eq(r[0].points, 1);
	ck_assert(r[0].series.values[1] == 0.0 && signbit(r[0].series.values[1]));
	cw_gmd_page_release(&page);
	/* messages as the tree parser joined them */
	ck_assert_int_eq(cw_gmd_accumulate(r, 4, map, 4, gmd_fine[2], strlen(gmd_fine[2]), &page,
					   err, sizeof(err)), 0);
	ck_assert_str_eq(page.messages, "; v; c; 1; 2; 3; 4; 5; 6; 7; 8; 9; 10; 11; 12; 13; 14; "
			 "15; 16; 17");
	ck_assert_ptr_null(r[2].message); /* the first message was empty */
	ck_assert_str_eq(r[0].message, "only value");
	cw_gmd_page_release(&page);
	/* the same query twice: the later point wins; -0 is read as 0 */
	ck_assert_int_eq(cw_gmd_accumulate(r, 4, map, 4, gmd_fine[3], strlen(gmd_fine[3]), &page,
					   err, sizeof(err)), 0);
	ck_assert(r[0].series.values[0] == 0.0 && !signbit(r[0].series.values[0]));
	ck_assert_uint_eq(r[0].outside, 2);
	ck_assert_uint_eq(r[3].outside, 1);
	cw_gmd_page_release(&page);
	cw_gmd_results_free(r, 4);
}
END_TEST

/* Every value is the double strtod gives for its text (an integer: its
 * int64 as a double, as jansson reads it). */
START_TEST(gmd_numbers_exact)
{
	static const char *const nums[] = {
		"0", "-0", "1", "-1", "0.5", "-0.0", "0.1", "0.2", "0.3", "1.5", "2.675",
		"123456.789", "9007199254740992", "9007199254740993", "9007199254740993.0",
		"9223372036854775807", "-9223372036854775808", "1e22", "1e23", "1.0e-22",
		"1e-23", "123456789012345.6", "1234567890123456.7", "12345678901234567890.5",
		"0.000001", "1.7976931348623157e308", "2.2250738585072014e-308", "5e-324",
		"1e-400", "89255.0e-22", "4.35679e-05", "1234567890.0", "98765.4321",
		"1.00000000000000011102230246251565404236316680908203125",
		"0.1000000000000000055511151231257827021181583404541015625",
		"1.0000000000000000000000000000000000000000001", "3e0", "3E+2", "7e-0", NULL,
	};
	struct cw_gmd_result *r = NULL;
	char err[CW_ERRBUF], body[512];

	ck_assert_int_eq(cw_gmd_results_new(&r, 1, T0, T_END, DAY), 0);
	for (size_t k = 0; nums[k]; k++) {
		struct cw_gmd_page page;
		bool is_int = !strpbrk(nums[k], ".eE");
		double want = is_int ? (double)strtoll(nums[k], NULL, 10) : strtod(nums[k], NULL);

		snprintf(body, sizeof(body), "{\"MetricDataResults\":[{\"Id\":\"q0\",\"Timestamps\":"
			 "[%d],\"Values\":[%s]}]}", T0, nums[k]);
		ck_assert_msg(cw_gmd_accumulate(r, 1, NULL, 1, body, strlen(body), &page, err,
						sizeof(err)) == 0, "%s: %s", nums[k], err);
		ck_assert_msg(memcmp(&r[0].series.values[0], &want, sizeof(want)) == 0,
			      "%s: %.17g, want %.17g", nums[k], r[0].series.values[0], want);
		same_as_ref(nums[k], body, strlen(body));
	}
	/* random decimals in the forms a JSON encoder writes */
	srand(7);
	for (int k = 0; k < 3000; k++) {
		struct cw_gmd_page page;
		double x = ((double)rand() / RAND_MAX) * pow(10, rand() % 40 - 20);
		char num[64];
		double want;

		snprintf(num, sizeof(num), k % 3 == 0 ? "%.17g" : k % 3 == 1 ? "%.6f" : "%.3e", x);
		want = strtod(num, NULL);
		snprintf(body, sizeof(body), "{\"MetricDataResults\":[{\"Id\":\"q0\",\"Timestamps\":"
			 "[%d],\"Values\":[%s]}]}", T0, num);
		ck_assert_msg(cw_gmd_accumulate(r, 1, NULL, 1, body, strlen(body), &page, err,
						sizeof(err)) == 0, "%s: %s", num, err);
		ck_assert_msg(memcmp(&r[0].series.values[0], &want, sizeof(want)) == 0,
			      "%s: %.17g, want %.17g", num, r[0].series.values[0], want);
	}
	cw_gmd_results_free(r, 1);
}
END_TEST

/* Nesting: jansson's bound (JSON_PARSER_MAX_DEPTH values deep), no more. */
START_TEST(gmd_depth)
{
	struct cw_gmd_result *r = NULL;
	struct cw_gmd_page page;
	char err[CW_ERRBUF];
	size_t n = 2100, len;
	char *body = malloc(2 * n + 64);

	ck_assert_ptr_nonnull(body);
	ck_assert_int_eq(cw_gmd_results_new(&r, 1, T0, T_END, DAY), 0);
	for (size_t arrays = 2046; arrays <= 2049; arrays++) {
		/* the root is depth 1, "x" is depth 2: arrays down to depth arrays + 1 */
		len = (size_t)snprintf(body, 16, "{\"x\":");
		memset(body + len, '[', arrays);
		len += arrays;
		memset(body + len, ']', arrays);
		len += arrays;
		body[len++] = '}';
		body[len] = '\0';
		ck_assert_int_eq(cw_gmd_accumulate(r, 1, NULL, 1, body, len, &page, err, sizeof(err)),
				 (arrays + 1 <= 2048 ? 0 : CW_EPARSE));
		if (arrays + 1 > 2048)
			ck_assert_msg(strstr(err, "depth") != NULL, "%s", err);
		cw_gmd_page_release(&page);
		same_as_ref("depth", body, len);
	}
	cw_gmd_results_free(r, 1);
	free(body);
}
END_TEST

/* A result over CW_CW_MAX_POINTS points is refused as too big. */
START_TEST(gmd_too_many_points)
{
	struct cw_gmd_result *r = NULL;
	struct cw_gmd_page page;
	char err[CW_ERRBUF];
	size_t n = CW_CW_MAX_POINTS + 1, len = 0, cap = 4 * n + 128;
	char *body = malloc(cap);

	ck_assert_ptr_nonnull(body);
	len += (size_t)snprintf(body, cap, "{\"MetricDataResults\":[{\"Id\":\"q0\","
				"\"Timestamps\":[");
	for (int arr = 0; arr < 2; arr++) {
		for (size_t k = 0; k < n; k++) {
			body[len++] = '0';
			body[len++] = ',';
		}
		len--; /* the last comma */
		len += (size_t)snprintf(body + len, cap - len, "%s",
					arr == 0 ? "],\"Values\":[" : "]}]}");
	}
	ck_assert_int_eq(cw_gmd_results_new(&r, 1, T0, T_END, DAY), 0);
	ck_assert_int_eq(cw_gmd_accumulate(r, 1, NULL, 1, body, len, &page, err, sizeof(err)),
			 CW_ETOOBIG);
	ck_assert_msg(strstr(err, "MetricDataResults[0]: over 1000000 points") != NULL, "%s", err);
	cw_gmd_results_free(r, 1);
	free(body);
}
END_TEST

/* A page of 500 results as CloudWatch sends one, split in two pages at
 * every kind of boundary: the scanner and the reference agree. */
START_TEST(gmd_big_page)
{
	struct cw_buf b = CW_BUF_INIT;
	size_t len;
	char *body;

	cw_buf_init(&b, 0);
	ck_assert_int_eq(cw_buf_addstr(&b, "{\"MetricDataResults\":["), 0);
	for (int i = 0; i < 500; i++) {
		ck_assert_int_eq(cw_buf_printf(&b, "%s{\"Id\":\"q%d\",\"Label\":\"l%d\",\"Timestamps\":"
					       "[%d,%d,%d],\"Values\":[%d.25,%d,%de-3],"
					       "\"StatusCode\":\"%s\"}", i ? "," : "", i % 5, i,
					       T0 + 2 * DAY, T0 + DAY, T0, i, i * 1000, i,
					       i % 7 ? "Complete" : "PartialData"), 0);
	}
	ck_assert_int_eq(cw_buf_addstr(&b, "],\"NextToken\":\"next\"}"), 0);
	body = cw_buf_detach(&b, &len);
	ck_assert_ptr_nonnull(body);
	same_as_ref("500 results", body, len);
	free(body);
	/* long results (past what the one-pass path keeps), newest first, a
	 * minute apart, so many points share a daily slot */
	for (int n = 4095; n <= 4097; n++) {
		cw_buf_init(&b, 0);
		ck_assert_int_eq(cw_buf_addstr(&b, "{\"MetricDataResults\":[{\"Id\":\"q1\","
					       "\"Timestamps\":["), 0);
		for (int k = 0; k < n; k++)
			ck_assert_int_eq(cw_buf_printf(&b, "%s%d", k ? "," : "",
						       T0 + 7 * DAY - 60 * k), 0);
		ck_assert_int_eq(cw_buf_addstr(&b, "],\"Values\":["), 0);
		for (int k = 0; k < n; k++)
			ck_assert_int_eq(cw_buf_printf(&b, "%s%d.5", k ? "," : "", k), 0);
		ck_assert_int_eq(cw_buf_addstr(&b, "]},{\"Id\":\"q2\",\"Timestamps\":[1700006400],"
					       "\"Values\":[1]}]}"), 0);
		body = cw_buf_detach(&b, &len);
		ck_assert_ptr_nonnull(body);
		same_as_ref("long result", body, len);
		free(body);
	}
}
END_TEST

/* ---- ListMetrics --------------------------------------------------------- */

START_TEST(lm_paging)
{
	struct cw_lm_page page;
	char err[CW_ERRBUF];
	size_t len1, len2;
	char *p1 = load("lm_page1.json", &len1), *p2 = load("lm_page2.json", &len2);

	ck_assert_int_eq(cw_lm_parse(&page, &s3_bytes, p1, len1, err, sizeof(err)), 0);
	/* only the exact dimension set BucketName + FilterId=EntireBucket */
	ck_assert_uint_eq(page.n, 2);
	ck_assert_str_eq(page.names[0], "assets");
	ck_assert_str_eq(page.names[1], "logs-prod");
	ck_assert_uint_eq(page.skipped, 5); /* 4 other metrics + 1 duplicate */
	ck_assert_str_eq(page.next_token, "lm-page-2");
	cw_lm_page_release(&page);

	ck_assert_int_eq(cw_lm_parse(&page, &s3_bytes, p2, len2, err, sizeof(err)), 0);
	ck_assert_uint_eq(page.n, 1);
	ck_assert_str_eq(page.names[0], "media");
	ck_assert_ptr_null(page.next_token);
	cw_lm_page_release(&page);
	free(p1);
	free(p2);
}
END_TEST

START_TEST(lm_template_prefix)
{
	struct cw_dim_tmpl dims[1] = { { "Resource", "arn:aws:s3:::{bucket}/*" } };
	struct cw_metric_def m = { .namespace_ = "Custom", .name = "Bytes", .stat = "Sum",
				   .dims = dims, .ndims = 1, .per_bucket = true };
	const char *body =
		"{\"Metrics\":[{\"Namespace\":\"Custom\",\"MetricName\":\"Bytes\",\"Dimensions\":"
		"[{\"Name\":\"Resource\",\"Value\":\"arn:aws:s3:::photos/*\"}]},"
		"{\"Namespace\":\"Custom\",\"MetricName\":\"Bytes\",\"Dimensions\":"
		"[{\"Name\":\"Resource\",\"Value\":\"arn:aws:s3:::/*\"}]},"
		"{\"Namespace\":\"Custom\",\"MetricName\":\"Bytes\",\"Dimensions\":"
		"[{\"Name\":\"Resource\",\"Value\":\"photos\"}]},"
		"{\"Namespace\":\"Custom\",\"MetricName\":\"Bytes\",\"Dimensions\":"
		"[{\"Name\":\"Resource\"}]}]}";
	struct cw_lm_page page;
	char err[CW_ERRBUF];

	ck_assert_int_eq(cw_lm_parse(&page, &m, body, strlen(body), err, sizeof(err)), 0);
	ck_assert_uint_eq(page.n, 1);
	ck_assert_str_eq(page.names[0], "photos");
	ck_assert_uint_eq(page.skipped, 3);
	cw_lm_page_release(&page);
}
END_TEST

static const char *const lm_garbage[] = {
	"",
	"[]",
	"{\"Metrics\":{}}",
	"{\"Metrics\":[1]}",
	"{\"Metrics\":[{\"Dimensions\":{}}]}",
	"{\"Metrics\":[{\"Dimensions\":[1]}]}",
	"{\"Metrics\":[{\"Dimensions\":[{\"Value\":\"x\"}]}]}",
	"{\"Metrics\":[{\"Dimensions\":[{\"Name\":\"a\",\"Value\":7}]}]}",
	"{\"Metrics\":[],\"NextToken\":[]}",
	"{\"Metrics\":[] ",
	NULL,
};

START_TEST(lm_garbage_refused)
{
	struct cw_lm_page page;
	char err[CW_ERRBUF];

	for (size_t k = 0; lm_garbage[k]; k++) {
		int rc = cw_lm_parse(&page, &s3_bytes, lm_garbage[k], strlen(lm_garbage[k]),
				     err, sizeof(err));

		ck_assert_msg(rc == CW_EPARSE, "garbage %zu: rc %d", k, rc);
		ck_assert_ptr_null(page.names);
		ck_assert_uint_eq(page.n, 0);
		ck_assert_ptr_null(page.next_token);
	}
	/* no Metrics at all: an empty, last page */
	ck_assert_int_eq(cw_lm_parse(&page, &s3_bytes, "{}", 2, err, sizeof(err)), 0);
	ck_assert_uint_eq(page.n, 0);
	ck_assert_ptr_null(page.next_token);
	cw_lm_page_release(&page);
}
END_TEST

/* The ListMetrics scanner and the jansson tree it replaced agree on
 * pages, odd shapes, escapes, duplicates and garbage. */
static const char *const lm_cases[] = {
	"{\"Metrics\":[{\"Namespace\":\"AWS/S3\",\"MetricName\":\"BytesDownloaded\","
	"\"Dimensions\":[{\"Name\":\"BucketName\",\"Value\":\"a\"},{\"Name\":"
	"\"FilterId\",\"Value\":\"EntireBucket\"}]}],\"NextToken\":\"t\\u00e9\"}",
	/* escaped keys and values, members in another order, a duplicate bucket */
	"{\"NextToken\":null,\"Metrics\":[{\"Dimensions\":[{\"Value\":\"Entire\\u0042ucket\","
	"\"Name\":\"Filter\\u0049d\"},{\"N\\u0061me\":\"BucketName\",\"Value\":\"b\\\"q\"}],"
	"\"MetricName\":\"BytesDownloaded\",\"Namespace\":\"AWS\\/S3\"},"
	"{\"Namespace\":\"AWS/S3\",\"MetricName\":\"BytesDownloaded\",\"Dimensions\":"
	"[{\"Name\":\"BucketName\",\"Value\":\"b\\\"q\"},{\"Name\":\"FilterId\","
	"\"Value\":\"EntireBucket\"}],\"Extra\":{\"x\":[1,2.5,true]}}]}",
	/* near misses: a third dimension, a null value, a name twice, no namespace */
	"{\"Metrics\":[{\"Namespace\":\"AWS/S3\",\"MetricName\":\"BytesDownloaded\","
	"\"Dimensions\":[{\"Name\":\"BucketName\",\"Value\":\"a\"},{\"Name\":"
	"\"FilterId\",\"Value\":\"EntireBucket\"},{\"Name\":\"X\"}]},"
	"{\"Namespace\":\"AWS/S3\",\"MetricName\":\"BytesDownloaded\",\"Dimensions\":"
	"[{\"Name\":\"BucketName\",\"Value\":null},{\"Name\":\"FilterId\","
	"\"Value\":\"EntireBucket\"}]},"
	"{\"Namespace\":\"AWS/S3\",\"MetricName\":\"BytesDownloaded\",\"Dimensions\":"
	"[{\"Name\":\"BucketName\",\"Value\":\"c\"},{\"Name\":\"BucketName\","
	"\"Value\":\"EntireBucket\"}]},"
	"{\"Namespace\":7,\"MetricName\":\"BytesDownloaded\",\"Dimensions\":[]},"
	"{\"MetricName\":\"BytesDownloaded\"}]}",
	"{\"Metrics\":null}",
	"{}",
	"  {\"Metrics\":[]}  \n",
	"{\"Metrics\":[],\"Metrics\":[]}",
	"{\"Metrics\":[{\"Dimensions\":[{\"Name\":\"a\",\"Name\":\"b\"}]}]}",
	"{\"Metrics\":[{\"Dimensions\":null}]}",
	"{\"Metrics\":[{\"Dimensions\":[{\"Name\":null}]}]}",
	"{\"Metrics\":[{\"Dimensions\":[1]},{\"Dimensions\":7}]}",
	"{\"Metrics\":[{\"Dimensions\":[1]}],\"NextToken\":5}",
	"{\"Metrics\":7,\"NextToken\":5}",
	"{\"Metrics\":[{\"a\":\"\\ud800\"}]}",
	"{\"Metrics\":[{\"a\":\"\\u0000\"}]}",
	"{\"Metrics\":[{\"a\":01}]}",
	"{\"Metrics\":[]} x",
	"[1,2]",
	"\"x\"",
	NULL,
};

START_TEST(lm_same_as_reference)
{
	char why[CW_ERRBUF];
	size_t len1, len2;
	char *p1 = load("lm_page1.json", &len1), *p2 = load("lm_page2.json", &len2);

	ck_assert_msg(cw_lm_ref_compare(&s3_bytes, NULL, NULL, p1, len1, why, sizeof(why)) == 0,
		      "lm_page1: %s", why);
	ck_assert_msg(cw_lm_ref_compare(&s3_bytes, NULL, NULL, p2, len2, why, sizeof(why)) == 0,
		      "lm_page2: %s", why);
	for (size_t k = 0; lm_cases[k]; k++)
		ck_assert_msg(cw_lm_ref_compare(&s3_bytes, "123456789012", "eu-west-1",
						lm_cases[k], strlen(lm_cases[k]), why,
						sizeof(why)) == 0, "case %zu: %s", k, why);
	for (size_t k = 0; lm_garbage[k]; k++)
		ck_assert_msg(cw_lm_ref_compare(&s3_bytes, NULL, NULL, lm_garbage[k],
						strlen(lm_garbage[k]), why, sizeof(why)) == 0,
			      "garbage %zu: %s", k, why);
	/* every prefix of a page: truncated answers fail alike */
	for (size_t n = 0; n < len1; n++)
		ck_assert_msg(cw_lm_ref_compare(&s3_bytes, NULL, NULL, p1, n, why,
						sizeof(why)) == 0, "prefix %zu: %s", n, why);
	free(p1);
	free(p2);
}
END_TEST

static Suite *cloudwatch_suite(void)
{
	Suite *s = suite_create("cloudwatch");
	TCase *tc = tcase_create("cloudwatch");

	tcase_add_test(tc, query_ids);
	tcase_add_test(tc, gmd_request_exact);
	tcase_add_test(tc, gmd_request_batch_as_jansson);
	tcase_add_test(tc, gmd_request_templates);
	tcase_add_test(tc, gmd_request_account_region);
	tcase_add_test(tc, gmd_request_refused);
	tcase_add_test(tc, lm_request_exact);
	tcase_add_test(tc, results_new);
	tcase_add_test(tc, gmd_newest_first_with_gap);
	tcase_add_test(tc, gmd_pages_merge);
	tcase_add_test(tc, gmd_forbidden_internal_error);
	tcase_add_test(tc, gmd_iso_and_real_timestamps);
	tcase_add_test(tc, gmd_garbage_refused);
	tcase_add_test(tc, gmd_limits);
	tcase_add_test(tc, gmd_strict);
	tcase_add_test(tc, gmd_same_as_reference);
	tcase_add_test(tc, gmd_fine_pages);
	tcase_add_test(tc, gmd_numbers_exact);
	tcase_add_test(tc, gmd_depth);
	tcase_add_test(tc, gmd_big_page);
	tcase_add_test(tc, gmd_too_many_points);
	tcase_add_test(tc, lm_paging);
	tcase_add_test(tc, lm_template_prefix);
	tcase_add_test(tc, lm_garbage_refused);
	tcase_add_test(tc, lm_same_as_reference);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(cloudwatch_suite());
}
