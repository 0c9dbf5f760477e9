/*
 * lmpage.c - shape checks of one ListMetrics page (see lmpage.h).
 * No shared state, no locking.
 */
#include "lmpage.h"

#include <string.h>

#include "err.h"

#define MAX_BODY ((size_t)64 * 1024 * 1024)
#define MAX_TOKEN ((size_t)64 * 1024)
#define MAX_METRICS ((size_t)10000)

static int check(json_t *root, json_t *metrics, json_t *tok, char *err, size_t errlen)
{
	json_t *met;
	size_t i;

	if (!json_is_object(root))
		return cw_fail(err, errlen, CW_EPARSE, "ListMetrics response: not a JSON object");
	if (metrics && !json_is_null(metrics) && !json_is_array(metrics))
		return cw_fail(err, errlen, CW_EPARSE, "ListMetrics response: Metrics: not an array");
	if (json_array_size(metrics) > MAX_METRICS)
		return cw_fail(err, errlen, CW_ETOOBIG, "ListMetrics response: over %zu metrics",
			       MAX_METRICS);
	if (tok && !json_is_null(tok) && !json_is_string(tok))
		return cw_fail(err, errlen, CW_EPARSE, "ListMetrics response: NextToken: not a string");
	if (json_string_length(tok) > MAX_TOKEN)
		return cw_fail(err, errlen, CW_ETOOBIG, "ListMetrics response: NextToken: over %zu "
			       "bytes", MAX_TOKEN);
	json_array_foreach(metrics, i, met) {
		json_t *dims = json_object_get(met, "Dimensions"), *d;
		size_t k;

		if (!json_is_object(met) || (dims && !json_is_array(dims)))
			return cw_fail(err, errlen, CW_EPARSE,
				       "ListMetrics response: Metrics[%zu]: bad shape", i);
		json_array_foreach(dims, k, d) {
			json_t *v = json_object_get(d, "Value");

			if (!json_is_object(d) || !json_is_string(json_object_get(d, "Name")) ||
			    (v && !json_is_string(v) && !json_is_null(v)))
				return cw_fail(err, errlen, CW_EPARSE, "ListMetrics response: "
					       "Metrics[%zu].Dimensions[%zu]: bad shape", i, k);
		}
	}
	return 0;
}

int cw_lm_page_open(json_t **root, json_t **metrics, json_t **token, const char *body,
		    size_t len, char *err, size_t errlen)
{
	json_error_t je;
	int rc;

	*root = *metrics = *token = NULL;
	if (!body || len > MAX_BODY)
		return cw_fail(err, errlen, CW_ETOOBIG, "ListMetrics response: over %zu bytes",
			       MAX_BODY);
	*root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!*root)
		return cw_fail(err, errlen, CW_EPARSE, "ListMetrics response: not JSON: %s at %d:%d",
			       je.text, je.line, je.column);
	*metrics = json_object_get(*root, "Metrics");
	*token = json_object_get(*root, "NextToken");
	rc = check(*root, *metrics, *token, err, errlen);
	if (rc) {
		json_decref(*root);
		*root = *metrics = *token = NULL;
	}
	return rc;
}

int cw_lm_page_request(char **body, size_t *len, const char *ns, const char *metric,
		       const char *next_token, char *err, size_t errlen)
{
	json_t *root = json_pack("{s:s, s:s}", "Namespace", ns, "MetricName", metric);
	char *s;

	*body = NULL;
	if (!root)
		return cw_fail(err, errlen, CW_ENOMEM, "ListMetrics request: out of memory");
	if (next_token && json_object_set_new(root, "NextToken", json_string(next_token))) {
		json_decref(root);
		return cw_fail(err, errlen, CW_EINVAL,
			       "ListMetrics request: NextToken is not valid UTF-8");
	}
	s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!s)
		return cw_fail(err, errlen, CW_ENOMEM, "ListMetrics request: out of memory");
	*body = s;
	if (len)
		*len = strlen(s);
	return 0;
}
