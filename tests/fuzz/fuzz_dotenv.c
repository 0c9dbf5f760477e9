/*
 * fuzz_dotenv.c - libFuzzer harness for the config.env parser (the old
 * single-bucket script's settings): any bytes; the keys it knows are
 * looked up, and a failure leaves a terminated message and nothing held.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dotenv.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "SLACK_WEBHOOK_URL", "S3_BUCKET_NAME",
					    "DATA_TRANSFER_THRESHOLD_GB", "AWS_REGION" };
	struct cw_dotenv d;
	char err[CW_ERRBUF];
	int rc;

	memset(&d, 0, sizeof(d));
	memset(err, 'x', sizeof(err));
	rc = cw_dotenv_parse(&d, "fuzz.env", (const char *)data, size, err, sizeof(err));
	if (rc) {
		if (d.n || !memchr(err, '\0', sizeof(err)))
			abort();
		return 0;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		(void)cw_dotenv_get(&d, keys[i]);
	cw_dotenv_release(&d);
	return 0;
}
