/*
 * fuzz_cwjson.c - libFuzzer harness for the CloudWatch JSON 1.0 response
 * parsers (cloudwatch.h): any bytes as a GetMetricData page (merged into
 * results through an id map) and as a ListMetrics page.  Invariants: a
 * failure leaves the results untouched and the page empty, the message is
 * a terminated string; a success places only finite values inside the
 * window and names are non-empty, sorted and unique.  Differential: the
 * GetMetricData and ListMetrics scanners and the reference jansson parsers
 * (tests/bench/gmd_ref.c) agree on every input (same series or
 * names, or the same error).
 */
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudwatch.h"
#include "err.h"
#include "gmd_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0 1700006400 /* 2023-11-15T00:00:00Z */
#define DAY 86400
#define NR 4

static struct cw_dim_tmpl dims[2] = { { "BucketName", "{bucket}" },
				      { "FilterId", "EntireBucket" } };
static struct cw_metric_def metric = {
	.namespace_ = "AWS/S3", .name = "BytesDownloaded", .stat = "Sum",
	.dims = dims, .ndims = 2, .per_bucket = true,
};

static void gmd(const uint8_t *data, size_t size)
{
	static const size_t map[3] = { 3, 0, 2 }; /* q0, q1, q2; r[1] unused */
	struct cw_gmd_result *r = NULL;
	struct cw_gmd_page page;
	char err[CW_ERRBUF];
	int rc;

	if (cw_gmd_results_new(&r, NR, T0, T0 + 7 * DAY, DAY))
		abort();
	memset(err, 'x', sizeof(err));
	rc = cw_gmd_accumulate(r, NR, map, 3, (const char *)data, size, &page, err,
			       sizeof(err));
	if (rc) {
		if (page.next_token || page.messages || !memchr(err, '\0', sizeof(err)))
			abort();
		for (size_t k = 0; k < NR; k++)
			if (r[k].status != CW_GMD_NONE || r[k].points || r[k].message)
				abort();
	} else {
		if (r[1].status != CW_GMD_NONE || r[1].points)
			abort();
		for (size_t k = 0; k < NR; k++) {
			size_t have = 0;

			for (size_t i = 0; i < r[k].series.n; i++) {
				if (isinf(r[k].series.values[i]))
					abort();
				have += !isnan(r[k].series.values[i]);
			}
			if (have > r[k].points)
				abort(); /* a filled slot without a placed point */
		}
		if (page.next_token && !page.next_token[0])
			abort();
		cw_gmd_page_release(&page);
	}
	cw_gmd_results_free(r, NR);
}

static void lm(const uint8_t *data, size_t size)
{
	struct cw_lm_page page;
	char err[CW_ERRBUF];
	int rc;

	memset(err, 'x', sizeof(err));
	rc = cw_lm_parse(&page, &metric, (const char *)data, size, err, sizeof(err));
	if (rc) {
		if (page.names || page.n || page.next_token || !memchr(err, '\0', sizeof(err)))
			abort();
		return;
	}
	for (size_t i = 0; i < page.n; i++) {
		if (!page.names[i][0])
			abort();
		if (i > 0 && strcmp(page.names[i - 1], page.names[i]) >= 0)
			abort();
	}
	cw_lm_page_release(&page);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int seeded;
	char why[CW_ERRBUF];

	if (!seeded) {
		json_object_seed(1);
		seeded = 1;
	}
	gmd(data, size);
	if (cw_gmd_ref_compare((const char *)data, size, why, sizeof(why))) {
		fprintf(stderr, "scanner and reference differ: %s\n", why);
		abort();
	}
	lm(data, size);
	if (cw_lm_ref_compare(&metric, "123456789012", "us-east-1", (const char *)data, size, why,
			      sizeof(why))) {
		fprintf(stderr, "ListMetrics scanner and reference differ: %s\n", why);
		abort();
	}
	return 0;
}
