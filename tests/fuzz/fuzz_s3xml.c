/*
 * fuzz_s3xml.c - libFuzzer harness for the S3 XML answers cwsweep reads
 * (libexpat): GetBucketMetricsConfiguration and ListObjectsV2 pages.  Any
 * bytes, never a crash; an answer that says yes must hold the id; a page
 * that parses keeps the documented bounds (at most 1,000 keys of 1..1024
 * bytes, a size, and a token exactly when it is truncated).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int holds(const uint8_t *data, size_t size, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i + n <= size; i++)
		if (memcmp(data + i, s, n) == 0)
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cw_s3_list_page page;
	char err[CW_ERRBUF];

	if (cw_s3_metrics_config_is((const char *)data, size, "EntireBucket") &&
	    !holds(data, size, "EntireBucket"))
		abort();
	if (cw_s3_list_parse((const char *)data, size, &page, err, sizeof(err)) == 0) {
		if (page.n > CW_S3_LIST_MAX_KEYS || page.truncated != (page.next_token != NULL))
			abort();
		for (size_t i = 0; i < page.n; i++) {
			size_t n = strlen(page.objs[i].key);

			if (n == 0 || n > 1024 || page.objs[i].size < 0)
				abort();
		}
		cw_s3_list_page_release(&page);
	} else if (page.n || page.objs || page.next_token) {
		abort(); /* a failed parse leaves the page empty */
	}
	return 0;
}
