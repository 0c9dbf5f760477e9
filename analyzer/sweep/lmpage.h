/*
 * lmpage.h - the ListMetrics request of one metric, and the checks every
 * page passes before a source (storage metrics, AWS/Billing) reads it.
 */
#ifndef CW_LMPAGE_H
#define CW_LMPAGE_H

#include <jansson.h>
#include <stddef.h>

/*
 * The body of a ListMetrics request for one metric of a namespace (any
 * dimensions), continued at next_token when not NULL; *body is new.
 * 0, CW_ENOMEM, or CW_EINVAL for a token that is not UTF-8.
 */
int cw_lm_page_request(char **body, size_t *len, const char *ns, const char *metric,
		       const char *next_token, char *err, size_t errlen);

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
