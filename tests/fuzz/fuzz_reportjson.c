/*
 * fuzz_reportjson.c - libFuzzer harness for `cwsweep merge`'s reader of
 * report.json (schemas /1 and /2): any bytes; on success the run must be
 * consistent enough for the reports (every result points at a series).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "report.h"
#include "run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cw_run run;
	struct cw_run_counts c;
	char err[CW_ERRBUF];
	int rc;

	memset(err, 'x', sizeof(err));
	rc = cw_report_json_parse("fuzz.json", (const char *)data, size, &run, err, sizeof(err));
	if (rc) {
		if (run.nseries || run.nresults || !memchr(err, '\0', sizeof(err)))
			abort();
		return 0;
	}
	for (size_t i = 0; i < run.nresults; i++)
		if (run.results[i].series >= run.nseries)
			abort();
	cw_run_count(&run, &c);
	cw_run_sort_results(&run);
	cw_run_release(&run);
	return 0;
}
