/*
 * fuzz_credjson.c - libFuzzer harness for the credential JSON that
 * credential_process prints and the IMDS and container endpoints answer
 * (one parser, cw_creds_parse_json): any bytes, with and without a
 * required Expiration; what it accepts has a key and a secret.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "creds.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const uint8_t *data, size_t size, const char *what, bool need_exp)
{
	struct cw_creds c;
	char err[CW_ERRBUF];
	int rc;

	memset(&c, 0, sizeof(c));
	memset(err, 'x', sizeof(err));
	rc = cw_creds_parse_json((const char *)data, size, what, need_exp, &c, err, sizeof(err));
	if (rc) {
		if (!memchr(err, '\0', sizeof(err)))
			abort();
	} else if (!c.access_key[0] || !c.secret_key[0] || (need_exp && !c.expiration)) {
		abort();
	}
	cw_creds_release(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, "credential_process", false);
	one(data, size, "instance metadata", true);
	one(data, size, "container credentials", true);
	return 0;
}
