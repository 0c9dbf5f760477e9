/*
 * fuzz_seriesio.c - libFuzzer harness for `cwsweep analyze`'s readers:
 * CSV (timestamp,value) and the JSON that `aws cloudwatch get-metric-data`
 * prints, with the period inferred and forced; every series read must be
 * well-formed (its values inside the series, the period positive).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "seriesio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const uint8_t *data, size_t size, const char *name, int64_t period)
{
	struct cw_named_series *v = NULL;
	char err[CW_ERRBUF];
	size_t n = 0;
	int rc;

	memset(err, 'x', sizeof(err));
	rc = cw_seriesio_parse((const char *)data, size, name, period, &v, &n, err, sizeof(err));
	if (rc) {
		if (v || !memchr(err, '\0', sizeof(err)))
			abort();
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if ((v[i].s.n && v[i].s.period <= 0) || !v[i].name)
			abort();
		for (size_t k = 0; k < v[i].s.n; k++)
			(void)v[i].s.values[k];
	}
	cw_named_series_free(v, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, "fuzz.csv", 0);
	one(data, size, "fuzz.json", 86400);
	return 0;
}
