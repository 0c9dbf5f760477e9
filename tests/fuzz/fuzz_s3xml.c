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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (cw_s3_metrics_config_is((const char *)data, size, "EntireBucket") &&
	    !memmem(data, size, "EntireBucket", 12))
		abort();
	return 0;
}
