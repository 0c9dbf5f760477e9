/*
 * fuzz_storage.c - libFuzzer harness for the storage-metric ListMetrics
 * parser (storage.h): any bytes as a page, added to a bucket set.
 * Invariants: a failure leaves the page empty and the message a
 * terminated string; a success gives non-empty names and types, and the
 * finished set finds every bucket of the page.  Differential: the page is
 * what the jansson tree the parser used before its scanner gives (the
 * same code and message or both a syntax error; the same items, skipped
 * count and next token).
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "lmpage.h"
#include "storage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the reference: the tree parser of storage.c before the scanner ---- */

static bool ref_str_is(json_t *v, const char *want)
{
	const char *s = json_string_value(v);

	return s && strcmp(s, want) == 0;
}

static const char *ref_dim_value(json_t *d)
{
	json_t *v = json_object_get(d, "Value");
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);

	if (!s || n == 0 || n > CW_STORAGE_MAX_NAME || memchr(s, '\0', n))
		return NULL;
	return s;
}

static bool ref_match(json_t *met, const char **bucket, const char **type)
{
	json_t *dims = json_object_get(met, "Dimensions"), *d;
	size_t k;

	*bucket = *type = NULL;
	if (!ref_str_is(json_object_get(met, "Namespace"), CW_STORAGE_NAMESPACE) ||
	    !ref_str_is(json_object_get(met, "MetricName"), CW_STORAGE_METRIC) ||
	    json_array_size(dims) != 2)
		return false;
	json_array_foreach(dims, k, d) {
		json_t *n = json_object_get(d, "Name");

		if (ref_str_is(n, "BucketName") && !*bucket)
			*bucket = ref_dim_value(d);
		else if (ref_str_is(n, "StorageType") && !*type)
			*type = ref_dim_value(d);
		else
			return false;
	}
	return *bucket && *type;
}

/* Abort unless page (rc, err) is what the tree parser makes of data. */
static void ref_compare(const uint8_t *data, size_t size, int rc, const char *err,
			const struct cw_storage_page *page)
{
	json_t *root, *metrics, *tok, *met;
	char rerr[CW_ERRBUF];
	size_t i, n = 0, skipped = 0;
	int rrc = cw_lm_page_open(&root, &metrics, &tok, (const char *)data, size, rerr,
				  sizeof(rerr));

	if (rc == CW_EPARSE && strstr(err, "not JSON") && memchr(data, '\0', size)) {
		/* jansson drops a NUL byte that follows a number (and may then
		 * accept the page); the scanner refuses every NUL, as JSON wants */
		if (!rrc)
			json_decref(root);
		return;
	}
	if (rrc != rc)
		abort();
	if (rc) {
		if (strcmp(err, rerr) != 0 && (!strstr(err, "not JSON") || !strstr(rerr, "not JSON")))
			abort();
		return;
	}
	if (!page->next_token != !(json_string_length(tok) > 0) ||
	    (page->next_token && strcmp(page->next_token, json_string_value(tok)) != 0))
		abort();
	json_array_foreach(metrics, i, met) {
		const char *b, *t;

		if (!ref_match(met, &b, &t)) {
			skipped++;
			continue;
		}
		if (n >= page->n || strcmp(page->v[n].bucket, b) != 0 ||
		    strcmp(page->v[n].type, t) != 0)
			abort();
		n++;
	}
	if (n != page->n || skipped != page->skipped)
		abort();
	json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int seeded;
	struct cw_storage_page page;
	struct cw_storage_set set;
	char err[CW_ERRBUF];
	int rc;

	if (!seeded) {
		json_object_seed(1);
		seeded = 1;
	}
	memset(err, 'x', sizeof(err));
	rc = cw_storage_lm_parse(&page, (const char *)data, size, err, sizeof(err));
	if (rc) {
		if (page.v || page.n || page.next_token || !memchr(err, '\0', sizeof(err)))
			abort();
		ref_compare(data, size, rc, err, &page);
		return 0;
	}
	ref_compare(data, size, 0, err, &page);
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
