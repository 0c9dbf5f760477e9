/*
 * fuzz_seriesio.c - libFuzzer harness for the readers of `cwsweep analyze`
 * (seriesio.h): any bytes as a file, CSV, get-metric-data JSON or
 * get-metric-statistics JSON.  Invariants: a failure returns no series and
 * a terminated message naming the source; a success returns named series
 * with a unit string, slots at a positive period when there are any, and
 * only finite values or NaN (gaps).
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "seriesio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cw_named_series *v = NULL;
	char err[CW_ERRBUF];
	size_t n = 99;
	int rc;

	memset(err, 'x', sizeof(err));
	rc = cw_seriesio_parse((const char *)data, size, "f.json", 0, &v, &n, err, sizeof(err));
	if (rc) {
		if (v || n != 0 || !memchr(err, '\0', sizeof(err)))
			abort();
		if (rc != CW_ENOMEM && strncmp(err, "f.json", 6) != 0 && strncmp(err, "period", 6))
			abort();
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (!v[i].name || !v[i].name[0] || !v[i].unit || !v[i].status)
			abort();
		if (v[i].s.n && v[i].s.period <= 0)
			abort();
		for (size_t k = 0; k < v[i].s.n; k++)
			if (isinf(v[i].s.values[k]))
				abort();
	}
	cw_named_series_free(v, n);
	return 0;
}
