/*
 * fuzz_reportjson.c - libFuzzer harness for `cwsweep merge`'s reader of
 * report.json (schemas /1, /2 and /3): any bytes; on success the run must
 * be consistent enough for the reports (every result points at a series,
 * the series of an anomaly has values to chart), and they render.
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
		if (run.results[i].series >= run.nseries ||
		    (run.results[i].j.status == CW_STATUS_ANOMALY &&
		     run.series[run.results[i].series].series.n &&
		     !run.series[run.results[i].series].series.values))
			abort();
	cw_run_count(&run, &c);
	cw_run_sort_results(&run);
	{
		struct cw_buf out = CW_BUF_INIT;

		if (cw_report_find("md")->render(&run, &out, err, sizeof(err)) == 0)
			cw_buf_reset(&out);
		(void)cw_report_find("json")->render(&run, &out, err, sizeof(err));
		cw_buf_release(&out);
	}
	cw_run_release(&run);
	return 0;
}
