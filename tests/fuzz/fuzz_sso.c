/*
 * fuzz_sso.c - libFuzzer harness for the IAM Identity Center portal's
 * GetRoleCredentials answer: any bytes; on success the keys are visible
 * ASCII, on failure the message is terminated and nothing is held.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "creds_sso.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cw_creds c;
	char err[CW_ERRBUF];

	memset(err, 'x', sizeof(err));
	if (cw_sso_parse_role_credentials("fuzz", (const char *)data, size, &c, err,
					  sizeof(err)) != 0) {
		if (!memchr(err, '\0', sizeof(err)))
			abort();
		return 0;
	}
	if (!c.access_key[0] || !c.session_token || strchr(c.session_token, '\n'))
		abort();
	cw_creds_release(&c);
	return 0;
}
