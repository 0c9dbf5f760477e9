/*
 * fuzz_s3xml.c - libFuzzer harness for the S3 GetBucketMetricsConfiguration
 * answer reader (libexpat): any bytes, never a crash; an answer that says
 * yes must hold the id.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
	if (cw_s3_metrics_config_is((const char *)data, size, "EntireBucket") &&
	    !holds(data, size, "EntireBucket"))
		abort();
	return 0;
}
