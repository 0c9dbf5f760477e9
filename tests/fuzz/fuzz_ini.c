/*
 * fuzz_ini.c - libFuzzer harness for the shared config / credentials
 * parser (ini.h): any bytes, both file kinds; on success every profile is
 * looked up, on failure the message must be a terminated string.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ini.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const uint8_t *data, size_t size, enum cw_ini_kind kind)
{
	static const char *const keys[] = { "region", "aws_access_key_id", "role_arn",
					    "source_profile", "s3.max_concurrent_requests" };
	struct cw_ini *ini = NULL;
	char err[CW_ERRBUF];
	const char *const *names;
	size_t n, i, k;
	int rc;

	memset(err, 'x', sizeof(err));
	rc = cw_ini_parse(&ini, (const char *)data, size, kind, "fuzz", err, sizeof(err));
	if (rc) {
		if (ini || !memchr(err, '\0', sizeof(err)))
			abort();
		return;
	}
	if (!ini)
		abort();
	names = cw_ini_profiles(ini, &n);
	if (names[n])
		abort();
	for (i = 0; i < n; i++) {
		if (!cw_ini_has_profile(ini, names[i]))
			abort();
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			const char *v = cw_ini_profile_get(ini, names[i], keys[k]);

			if (v)
				(void)strlen(v);
		}
	}
	(void)cw_ini_get(ini, "default", "region");
	cw_ini_free(ini);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, CW_INI_CONFIG);
	one(data, size, CW_INI_CREDENTIALS);
	return 0;
}
