/*
 * lmpage.h - the checks every ListMetrics page passes before a source
 * (storage metrics, AWS/Billing) reads its metrics out of it.
 */
#ifndef CW_LMPAGE_H
#define CW_LMPAGE_H

#include <jansson.h>
#include <stddef.h>

/*
 * Parse a ListMetrics answer and check its whole shape: a JSON object of at
 * most 64 MiB, "Metrics" an array (or absent) of at most 10,000 objects whose
 * "Dimensions" are {Name: string, Value: string or null}, "NextToken" a
 * string of at most 64 KiB (or absent).  On success *root is new (the caller
 * json_decref()s it) and *metrics and *token are borrowed from it (either may
 * be NULL).  0, or CW_EPARSE / CW_ETOOBIG with *root = NULL.
 */
int cw_lm_page_open(json_t **root, json_t **metrics, json_t **token, const char *body,
		    size_t len, char *err, size_t errlen);

#endif
