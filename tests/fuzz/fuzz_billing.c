/*
 * fuzz_billing.c - libFuzzer harness for the AWS/Billing ListMetrics parser
 * (billing.h), and the daily-spend transform over the bytes read as
 * doubles.  Invariants: a failed parse leaves the page empty and the
 * message terminated; a parsed item has a 12-digit linked account and a
 * service; daily spend is never negative or infinite.
 */
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "billing.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void transform(const uint8_t *data, size_t size)
{
	struct cw_series in, out;
	size_t n = size / sizeof(double);

	if (n == 0 || cw_series_init(&in, 1795824000 + 3600 * (int64_t)(size % 24), 3600, n))
		return;
	memcpy(in.values, data, n * sizeof(double));
	for (size_t i = 0; i < n; i++)
		if (!isfinite(in.values[i]) || fabs(in.values[i]) > 1e15)
			in.values[i] = NAN;
	if (cw_billing_daily(&in, &out, NULL) == 0) {
		for (size_t d = 0; d < out.n; d++)
			if (out.values[d] < 0 || isinf(out.values[d]))
				abort();
		cw_series_release(&out);
	}
	cw_series_release(&in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int seeded;
	struct cw_billing_page page;
	char err[CW_ERRBUF];

	if (!seeded) {
		json_object_seed(1);
		seeded = 1;
	}
	memset(err, 'x', sizeof(err));
	if (cw_billing_lm_parse(&page, (const char *)data, size, err, sizeof(err))) {
		if (page.v || page.n || page.next_token || !memchr(err, '\0', sizeof(err)))
			abort();
	} else {
		for (size_t i = 0; i < page.n; i++)
			if (strlen(page.v[i].linked) != 12 || !page.v[i].service[0])
				abort();
		if (page.n > page.seen)
			abort();
		cw_billing_page_release(&page);
	}
	transform(data, size);
	return 0;
}
