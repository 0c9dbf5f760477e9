/*
 * fuzz_state.c - libFuzzer harness for the alert state file: any bytes
 * through cw_state_parse; on success the entries and notices are used as a
 * run would use them (lookups, the notice check).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cw_state st;
	char err[CW_ERRBUF];
	int rc;

	memset(err, 'x', sizeof(err));
	rc = cw_state_parse(&st, "fuzz.json", (const char *)data, size, err, sizeof(err));
	if (rc) {
		if (st.n || st.nnotices || !memchr(err, '\0', sizeof(err)))
			abort();
		return 0;
	}
	for (size_t i = 0; i < st.n; i++) {
		const struct cw_state_key *k = &st.v[i].key;

		if (cw_state_find(&st, k->account_id, k->region, k->bucket, k->metric,
				  k->detector) != &st.v[i])
			abort();
	}
	(void)cw_state_notice_due(&st, "3 targets failed: Throttling (3)", 1764126000);
	cw_state_release(&st);
	return 0;
}
