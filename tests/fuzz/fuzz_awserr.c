/*
 * fuzz_awserr.c - libFuzzer harness for the AWS error parser (awserr.h).
 *
 * Input layout: byte 0 picks the Content-Type (bits 0-1: none, JSON 1.0,
 * XML, HTML) and whether a query-error header follows (bit 2); the header
 * runs to the first '\n'; the rest is the body, passed unterminated.  Every
 * field must come back terminated, without control characters.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "awserr.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_field(const char *f, size_t cap)
{
	const char *end = memchr(f, '\0', cap);

	if (!end)
		abort();
	for (; f < end; f++)
		if ((unsigned char)*f < 0x20 || *f == 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ctypes[] = { NULL, "application/x-amz-json-1.0", "text/xml",
					      "text/html" };
	struct cw_awserr e;
	char header[256];
	const char *qerr = NULL;
	const char *body;
	size_t len;
	char *copy;
	int rc;

	if (size == 0)
		return 0;
	body = (const char *)data + 1;
	len = size - 1;
	if (data[0] & 4) {
		const char *nl = memchr(body, '\n', len);
		size_t n = nl ? (size_t)(nl - body) : len;

		if (n >= sizeof(header))
			n = sizeof(header) - 1;
		memcpy(header, body, n);
		header[n] = '\0';
		qerr = header;
		if (nl) {
			len -= (size_t)(nl + 1 - body);
			body = nl + 1;
		} else {
			len = 0;
		}
	}
	/* an exact-size heap copy, so reading past len is caught */
	copy = malloc(len ? len : 1);
	if (!copy)
		return 0;
	memcpy(copy, body, len);
	memset(&e, 0x55, sizeof(e));
	rc = cw_awserr_parse(copy, len, ctypes[data[0] & 3], qerr, &e);
	if (rc != 0 && rc != CW_ENOTFOUND)
		abort();
	if ((rc == 0) != (e.code[0] != '\0'))
		abort();
	check_field(e.code, sizeof(e.code));
	check_field(e.message, sizeof(e.message));
	check_field(e.request_id, sizeof(e.request_id));
	check_field(e.type, sizeof(e.type));
	free(copy);
	return 0;
}
