/*
 * fuzz_orgjson.c - libFuzzer harness for the Organizations page parser:
 * any bytes, as an accounts page and as a children page; on failure no
 * token is handed out, on success every account id is 12 digits.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "organizations.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cw_org_accounts a = { NULL, 0, 0 };
	char err[CW_ERRBUF], *next = NULL, **kids = NULL;
	size_t n = 0;
	int rc = cw_org_parse_page((const char *)data, size, &a, NULL, NULL, &next, err,
				   sizeof(err));

	if (rc && next)
		abort();
	for (size_t i = 0; i < a.n; i++)
		if (strlen(a.v[i].id) != 12 || !a.v[i].name)
			abort();
	free(next);
	next = NULL;
	cw_org_accounts_release(&a);
	rc = cw_org_parse_page((const char *)data, size, NULL, &kids, &n, &next, err,
			       sizeof(err));
	if (rc && next)
		abort();
	for (size_t i = 0; i < n; i++)
		free(kids[i]);
	free(kids);
	free(next);
	return 0;
}
