/*
 * lm_ref.c - the reference ListMetrics page parser: the jansson tree that
 * cloudwatch.c used before its scanner read ListMetrics pages too.  The
 * oracle of check_cloudwatch and fuzz_cwjson (see lm_ref.h).
 */
#include "lm_ref.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "strutil.h"

#define CW_CW_MAX_NAME 1024
#define BUCKET_PH "{bucket}"

static char *subst(const char *tmpl, const char *bucket, const char *account,
		   const char *region)
{
	static const char *const ph[] = { BUCKET_PH, "{account}", "{region}" };
	const char *with[3] = { bucket, account, region };
	struct cw_buf b = CW_BUF_INIT;
	const char *p = tmpl;

	cw_buf_init(&b, 0);
	while (*p) {
		size_t k;

		for (k = 0; k < 3; k++)
			if (with[k] && strncmp(p, ph[k], strlen(ph[k])) == 0)
				break;
		if (k < 3) {
			if (cw_buf_addstr(&b, with[k]))
				return NULL;
			p += strlen(ph[k]);
		} else if (cw_buf_addch(&b, *p++)) {
			return NULL;
		}
	}
	if (cw_buf_addstr(&b, ""))
		return NULL;
	return cw_buf_detach(&b, NULL);
}

static json_t *load(const char *body, size_t len, const char *what, int *rc,
		    char *err, size_t errlen)
{
	json_error_t je;
	json_t *root;

	if (!body || len > CW_CW_MAX_BODY) {
		*rc = cw_fail(err, errlen, CW_ETOOBIG, "%s response: over %zu bytes", what,
			      CW_CW_MAX_BODY);
		return NULL;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		*rc = cw_fail(err, errlen, CW_EPARSE, "%s response: not JSON: %s at %d:%d",
			      what, je.text, je.line, je.column);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		*rc = cw_fail(err, errlen, CW_EPARSE, "%s response: not a JSON object", what);
		return NULL;
	}
	return root;
}

static json_t *opt_array(json_t *o, const char *key, bool *bad)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_array(v))
		*bad = true;
	return json_is_array(v) ? v : NULL;
}

static int next_token(json_t *root, const char **out, const char *what,
		      char *err, size_t errlen)
{
	json_t *v = json_object_get(root, "NextToken");

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return cw_fail(err, errlen, CW_EPARSE, "%s response: NextToken: not a string",
			       what);
	if (json_string_length(v) > CW_CW_MAX_TOKEN)
		return cw_fail(err, errlen, CW_ETOOBIG, "%s response: NextToken: over %zu bytes",
			       what, CW_CW_MAX_TOKEN);
	if (json_string_length(v) > 0)
		*out = json_string_value(v);
	return 0;
}

static bool str_member(json_t *o, const char *k, const char *want)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && want && strcmp(s, want) == 0;
}

/*
 * The bucket named by metric `met` if its dimension set is exactly m's:
 * a borrowed pointer into met plus length, or NULL.
 */
static const char *lm_match(const struct cw_metric_def *m, json_t *dims, size_t *blen,
			    const char *account, const char *region)
{
	const char *bucket = NULL;

	if (json_array_size(dims) != m->ndims)
		return NULL;
	for (size_t i = 0; i < m->ndims; i++) {
		const struct cw_dim_tmpl *t = &m->dims[i];
		const char *ph = t->value ? strstr(t->value, BUCKET_PH) : NULL;
		const char *val = NULL;
		size_t vlen = 0, k, seen = 0;
		json_t *d;

		json_array_foreach(dims, k, d) {
			if (str_member(d, "Name", t->name)) {
				val = json_string_value(json_object_get(d, "Value"));
				vlen = json_string_length(json_object_get(d, "Value"));
				seen++;
			}
		}
		if (seen != 1 || !val || memchr(val, '\0', vlen))
			return NULL;
		if (!ph) {
			char *want = subst(t->value, NULL, account, region);
			bool same = want && strcmp(val, want) == 0;

			free(want);
			if (!same)
				return NULL;
			continue;
		}
		/* value = prefix {bucket} suffix */
		size_t pre = (size_t)(ph - t->value);
		size_t suf = strlen(ph + strlen(BUCKET_PH));

		if (vlen <= pre + suf || strncmp(val, t->value, pre) != 0 ||
		    strcmp(val + vlen - suf, ph + strlen(BUCKET_PH)) != 0 || bucket)
			return NULL;
		bucket = val + pre;
		*blen = vlen - pre - suf;
	}
	if (bucket && *blen > CW_CW_MAX_NAME)
		return NULL;
	return bucket;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int cw_lm_parse_at_ref(struct cw_lm_page *page, const struct cw_metric_def *m,
		   const char *account, const char *region, const char *body, size_t len,
		   char *err, size_t errlen)
{
	json_t *root, *metrics, *met;
	const char *tok = NULL;
	bool bad = false;
	size_t i, out = 0;
	int rc = 0;

	memset(page, 0, sizeof(*page));
	root = load(body, len, "ListMetrics", &rc, err, errlen);
	if (!root)
		return rc;
	metrics = opt_array(root, "Metrics", &bad);
	if (bad) {
		rc = cw_fail(err, errlen, CW_EPARSE, "ListMetrics response: Metrics: not an array");
		goto out;
	}
	if (json_array_size(metrics) > CW_CW_MAX_RESULTS) {
		rc = cw_fail(err, errlen, CW_ETOOBIG, "ListMetrics response: over %zu metrics",
			     CW_CW_MAX_RESULTS);
		goto out;
	}
	rc = next_token(root, &tok, "ListMetrics", err, errlen);
	if (rc)
		goto out;
	json_array_foreach(metrics, i, met) {
		json_t *dims = json_object_get(met, "Dimensions");
		size_t k;
		json_t *d;

		if (!json_is_object(met) || (dims && !json_is_array(dims))) {
			rc = cw_fail(err, errlen, CW_EPARSE,
				     "ListMetrics response: Metrics[%zu]: bad shape", i);
			goto out;
		}
		json_array_foreach(dims, k, d) {
			json_t *n = json_object_get(d, "Name"), *v = json_object_get(d, "Value");

			if (!json_is_object(d) || !json_is_string(n) ||
			    (v && !json_is_string(v) && !json_is_null(v))) {
				rc = cw_fail(err, errlen, CW_EPARSE,
					     "ListMetrics response: Metrics[%zu].Dimensions[%zu]: "
					     "bad shape", i, k);
				goto out;
			}
		}
	}

	page->names = calloc(json_array_size(metrics) + 1, sizeof(*page->names));
	if (!page->names || (tok && !(page->next_token = cw_strdup(tok)))) {
		rc = cw_fail(err, errlen, CW_ENOMEM, "ListMetrics response: out of memory");
		goto out;
	}
	json_array_foreach(metrics, i, met) {
		const char *b = NULL;
		size_t blen = 0;

		if (str_member(met, "Namespace", m->namespace_) &&
		    str_member(met, "MetricName", m->name))
			b = lm_match(m, json_object_get(met, "Dimensions"), &blen, account, region);
		if (!b) {
			page->skipped++;
			continue;
		}
		page->names[out] = cw_strndup(b, blen);
		if (!page->names[out]) {
			page->n = out;
			rc = cw_fail(err, errlen, CW_ENOMEM, "ListMetrics response: out of memory");
			goto out;
		}
		out++;
	}
	/* sort and drop duplicates */
	if (out > 1)
		qsort(page->names, out, sizeof(*page->names), cmp_str);
	page->n = 0;
	for (i = 0; i < out; i++) {
		if (page->n > 0 && strcmp(page->names[page->n - 1], page->names[i]) == 0) {
			free(page->names[i]);
			page->skipped++;
			continue;
		}
		page->names[page->n++] = page->names[i];
	}
out:
	json_decref(root);
	if (rc)
		cw_lm_page_release(page);
	return rc;
}

int cw_lm_ref_compare(const struct cw_metric_def *m, const char *account, const char *region,
		      const char *body, size_t len, char *why, size_t whylen)
{
	struct cw_lm_page a, b;
	char ea[CW_ERRBUF] = "", eb[CW_ERRBUF] = "";
	int ra = cw_lm_parse_at(&a, m, account, region, body, len, ea, sizeof(ea));
	int rb = cw_lm_parse_at_ref(&b, m, account, region, body, len, eb, sizeof(eb));
	int rc = 0;

	if (ra == CW_EPARSE && strstr(ea, "not JSON") && memchr(body, '\0', len)) {
		/* jansson drops a NUL byte that follows a number (and may then
		 * accept the page); the scanner refuses every NUL, as JSON wants */
	} else if (ra != rb) {
		snprintf(why, whylen, "return %d (%s) vs reference %d (%s)", ra, ea, rb, eb);
		rc = -1;
	} else if (ra == 0) {
		if (a.n != b.n || a.skipped != b.skipped) {
			snprintf(why, whylen, "%zu names, %zu skipped vs reference %zu, %zu", a.n,
				 a.skipped, b.n, b.skipped);
			rc = -1;
		}
		for (size_t i = 0; !rc && i < a.n; i++)
			if (strcmp(a.names[i], b.names[i]) != 0) {
				snprintf(why, whylen, "name %zu: %s vs reference %s", i, a.names[i],
					 b.names[i]);
				rc = -1;
			}
		if (!rc && (!a.next_token != !b.next_token ||
			    (a.next_token && strcmp(a.next_token, b.next_token) != 0))) {
			snprintf(why, whylen, "next token differs");
			rc = -1;
		}
	} else if (strncmp(ea, eb, strlen("ListMetrics response: not JSON")) != 0 &&
		   strcmp(ea, eb) != 0) {
		/* the syntax errors' wording differs; every other message is the same */
		snprintf(why, whylen, "error %s vs reference %s", ea, eb);
		rc = -1;
	}
	if (ra == 0)
		cw_lm_page_release(&a);
	if (rb == 0)
		cw_lm_page_release(&b);
	return rc;
}
