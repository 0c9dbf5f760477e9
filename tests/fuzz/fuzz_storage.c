/*
 * fuzz_storage.c - libFuzzer harness for the storage-metric ListMetrics
 * parser (storage.h): any bytes as a page, added to a bucket set.
 * Invariants: a failure leaves the page empty and the message a
 * terminated string; a success gives non-empty names and types, and the
 * finished set finds every bucket of the page.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "storage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int seeded;
	struct cw_storage_page page;
	struct cw_storage_set set;
	char err[CW_ERRBUF];

	if (!seeded) {
		json_object_seed(1);
		seeded = 1;
	}
	memset(err, 'x', sizeof(err));
	if (cw_storage_lm_parse(&page, (const char *)data, size, err, sizeof(err))) {
		if (page.v || page.n || page.next_token || !memchr(err, '\0', sizeof(err)))
			abort();
		return 0;
	}
	memset(&set, 0, sizeof(set));
	if (cw_storage_set_add(&set, &page))
		abort();
	cw_storage_set_finish(&set);
	for (size_t i = 0; i < page.n; i++) {
		if (!page.v[i].bucket[0] || !page.v[i].type[0])
			abort();
		if (!cw_storage_set_find(&set, page.v[i].bucket))
			abort();
	}
	if (page.next_token && !page.next_token[0])
		abort();
	cw_storage_set_release(&set);
	cw_storage_page_release(&page);
	return 0;
}
