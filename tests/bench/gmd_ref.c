/*
 * gmd_ref.c - the reference GetMetricData and ListMetrics page parsers:
 * the jansson-tree code that analyzer/sweep/cloudwatch.c used before its
 * scanner.  Only the tests, the fuzzer and cw-microbench build it: it is
 * the oracle the scanner must agree with (same series or names, same
 * error class) and the old speed the benchmark compares against.
 */
#include "gmd_ref.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "strutil.h"
#include "timeutil.h"

#define CW_CW_MAX_MESSAGES 4096 /* bytes of joined page messages */
#define CW_CW_MAX_NAME 1024     /* bucket names */
#define BUCKET_PH "{bucket}"

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

/* Optional array member: NULL when absent or null; *bad when another type. */
static json_t *opt_array(json_t *o, const char *key, bool *bad)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_array(v))
		*bad = true;
	return json_is_array(v) ? v : NULL;
}

/* NextToken: absent, null or "" -> NULL; a string -> it; else CW_EPARSE. */
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

/* A Messages array: every element {"Code": string?, "Value": string?}. */
static bool messages_ok(json_t *arr)
{
	size_t i;
	json_t *m;

	if (json_array_size(arr) > CW_CW_MAX_RESULTS)
		return false;
	json_array_foreach(arr, i, m) {
		json_t *c = json_object_get(m, "Code"), *v = json_object_get(m, "Value");

		if (!json_is_object(m) || (c && !json_is_string(c) && !json_is_null(c)) ||
		    (v && !json_is_string(v) && !json_is_null(v)))
			return false;
	}
	return true;
}

/* "Code: Value; Code: Value" (capped), or NULL when none / ENOMEM. */
static char *messages_join(json_t *arr, size_t max_items)
{
	struct cw_buf b = CW_BUF_INIT;
	size_t i;
	json_t *m;

	if (json_array_size(arr) == 0)
		return NULL;
	cw_buf_init(&b, CW_CW_MAX_MESSAGES);
	json_array_foreach(arr, i, m) {
		const char *c = json_string_value(json_object_get(m, "Code"));
		const char *v = json_string_value(json_object_get(m, "Value"));

		if (i >= max_items)
			break;
		if ((i > 0 && cw_buf_addstr(&b, "; ")) ||
		    cw_buf_printf(&b, "%s%s%s", c ? c : "", c && v ? ": " : "", v ? v : ""))
			break; /* over the cap: keep what fits so far (buffer freed) */
	}
	if (b.len == 0) {
		cw_buf_release(&b);
		return NULL;
	}
	return cw_buf_detach(&b, NULL);
}

/* A timestamp: epoch number (integer or real) or an ISO 8601 string. */
static int timestamp(json_t *v, int64_t *out)
{
	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);

		if (!isfinite(d) || d < -1e13 || d > 1e13)
			return CW_EPARSE;
		*out = (int64_t)floor(d);
		return 0;
	}
	if (json_is_string(v))
		return cw_time_parse_n(json_string_value(v), json_string_length(v), out)
			       ? CW_EPARSE : 0;
	return CW_EPARSE;
}

static int status_of(json_t *v, enum cw_gmd_status *out)
{
	static const struct { const char *name; enum cw_gmd_status s; } names[] = {
		{ "Complete", CW_GMD_COMPLETE },
		{ "PartialData", CW_GMD_PARTIAL },
		{ "InternalError", CW_GMD_INTERNAL_ERROR },
		{ "Forbidden", CW_GMD_FORBIDDEN },
	};
	const char *s;

	if (!v || json_is_null(v)) {
		*out = CW_GMD_COMPLETE; /* absent: nothing said otherwise */
		return 0;
	}
	s = json_string_value(v);
	if (!s)
		return CW_EPARSE;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].s;
			return 0;
		}
	}
	return CW_EPARSE;
}

/* Pass 1 for one result: shape, sizes, timestamps.  Sets *slot (SIZE_MAX
 * when the id is not ours). */
static int gmd_check_result(json_t *res, size_t nr, const size_t *map, size_t nq,
			    size_t idx, size_t *slot, char *err, size_t errlen)
{
	json_t *id = json_object_get(res, "Id");
	json_t *ts, *vs, *v;
	enum cw_gmd_status st;
	bool bad = false;
	size_t qi, k;
	int64_t t;

	*slot = SIZE_MAX;
	if (!json_is_object(res) || !json_is_string(id))
		return cw_fail(err, errlen, CW_EPARSE,
			       "GetMetricData response: MetricDataResults[%zu]: no Id", idx);
	if (status_of(json_object_get(res, "StatusCode"), &st))
		return cw_fail(err, errlen, CW_EPARSE,
			       "GetMetricData response: MetricDataResults[%zu]: unknown StatusCode",
			       idx);
	ts = opt_array(res, "Timestamps", &bad);
	vs = opt_array(res, "Values", &bad);
	v = json_object_get(res, "Messages");
	if (bad || (v && !json_is_null(v) && (!json_is_array(v) || !messages_ok(v))))
		return cw_fail(err, errlen, CW_EPARSE,
			       "GetMetricData response: MetricDataResults[%zu]: bad member type",
			       idx);
	if (json_array_size(ts) != json_array_size(vs))
		return cw_fail(err, errlen, CW_EPARSE,
			       "GetMetricData response: MetricDataResults[%zu]: %zu timestamps "
			       "but %zu values", idx, json_array_size(ts), json_array_size(vs));
	if (json_array_size(ts) > CW_CW_MAX_POINTS)
		return cw_fail(err, errlen, CW_ETOOBIG,
			       "GetMetricData response: MetricDataResults[%zu]: over %zu points",
			       idx, CW_CW_MAX_POINTS);
	json_array_foreach(ts, k, v) {
		if (timestamp(v, &t) || !json_is_number(json_array_get(vs, k)))
			return cw_fail(err, errlen, CW_EPARSE,
				       "GetMetricData response: MetricDataResults[%zu]: point %zu: "
				       "bad timestamp or value", idx, k);
	}
	if (cw_query_index(json_string_value(id), &qi) || qi >= nq)
		return 0; /* not ours: ignored, counted */
	*slot = map ? map[qi] : qi;
	if (*slot >= nr)
		return cw_fail(err, errlen, CW_EINVAL,
			       "GetMetricData: query %zu maps to result %zu of %zu", qi, *slot, nr);
	return 0;
}

int cw_gmd_accumulate_ref(struct cw_gmd_result *r, size_t nr, const size_t *map, size_t nq,
			  const char *body, size_t len, struct cw_gmd_page *page,
			  char *err, size_t errlen)
{
	json_t *root, *results, *msgs, *res;
	const char *tok = NULL;
	size_t *slots = NULL, i;
	bool bad = false;
	int rc = 0;

	memset(page, 0, sizeof(*page));
	root = load(body, len, "GetMetricData", &rc, err, errlen);
	if (!root)
		return rc;
	results = opt_array(root, "MetricDataResults", &bad);
	msgs = json_object_get(root, "Messages");
	if (bad || (msgs && !json_is_null(msgs) && (!json_is_array(msgs) || !messages_ok(msgs)))) {
		rc = cw_fail(err, errlen, CW_EPARSE,
			     "GetMetricData response: MetricDataResults or Messages: bad type");
		goto out;
	}
	if (json_array_size(results) > CW_CW_MAX_RESULTS) {
		rc = cw_fail(err, errlen, CW_ETOOBIG,
			     "GetMetricData response: over %zu results", CW_CW_MAX_RESULTS);
		goto out;
	}
	rc = next_token(root, &tok, "GetMetricData", err, errlen);
	if (rc)
		goto out;

	/* pass 1: check everything */
	slots = calloc(json_array_size(results) + 1, sizeof(*slots));
	if (!slots) {
		rc = cw_fail(err, errlen, CW_ENOMEM, "GetMetricData response: out of memory");
		goto out;
	}
	json_array_foreach(results, i, res) {
		rc = gmd_check_result(res, nr, map, nq, i, &slots[i], err, errlen);
		if (rc)
			goto out;
	}
	if (tok) {
		page->next_token = cw_strdup(tok);
		if (!page->next_token) {
			rc = cw_fail(err, errlen, CW_ENOMEM,
				     "GetMetricData response: out of memory");
			goto out;
		}
	}

	/* pass 2: apply (only allocation of messages can fail, and harmlessly) */
	page->messages = messages_join(msgs, 20);
	page->results = json_array_size(results);
	json_array_foreach(results, i, res) {
		struct cw_gmd_result *dst;
		json_t *ts = json_object_get(res, "Timestamps");
		json_t *vs = json_object_get(res, "Values");
		json_t *m = json_object_get(res, "Messages");
		enum cw_gmd_status st = CW_GMD_COMPLETE;
		size_t k;
		json_t *tv;

		if (slots[i] == SIZE_MAX) {
			page->unknown++;
			continue;
		}
		dst = &r[slots[i]];
		status_of(json_object_get(res, "StatusCode"), &st);
		if (st == CW_GMD_INTERNAL_ERROR || st == CW_GMD_FORBIDDEN ||
		    (dst->status != CW_GMD_INTERNAL_ERROR && dst->status != CW_GMD_FORBIDDEN))
			dst->status = st;
		if (!dst->message && json_is_array(m))
			dst->message = messages_join(m, 1);
		if (!json_is_array(ts))
			continue;
		json_array_foreach(ts, k, tv) {
			int64_t t = 0;

			timestamp(tv, &t);
			if (cw_series_put(&dst->series, t,
					  json_number_value(json_array_get(vs, k)),
					  CW_COMBINE_LAST) == 0)
				dst->points++;
			else
				dst->outside++;
		}
	}
out:
	free(slots);
	json_decref(root);
	if (rc)
		cw_gmd_page_release(page);
	return rc;
}

/* ---- comparing the scanner with the reference ---------------------------- */

#define CMP_T0 1700006400
#define CMP_NR 4

static bool str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* A "not JSON" message (the details differ: jansson has its own words). */
static bool is_syntax(const char *msg)
{
	static const char syntax[] = "GetMetricData response: not JSON: ";

	return strncmp(msg, syntax, sizeof(syntax) - 1) == 0;
}

/* Both messages say "not JSON", or they are the same message. */
static bool same_error(const char *a, const char *b)
{
	bool sa = is_syntax(a), sb = is_syntax(b);

	return sa == sb && (sa || strcmp(a, b) == 0);
}

static int cmp_state(const struct cw_gmd_result *a, const struct cw_gmd_result *b,
		     const struct cw_gmd_page *pa, const struct cw_gmd_page *pb,
		     char *why, size_t whylen)
{
	if (!str_same(pa->next_token, pb->next_token) || !str_same(pa->messages, pb->messages) ||
	    pa->results != pb->results || pa->unknown != pb->unknown)
		return cw_fail(why, whylen, -1, "page differs: token %s/%s messages %s/%s "
			       "results %zu/%zu unknown %zu/%zu",
			       pa->next_token ? pa->next_token : "-",
			       pb->next_token ? pb->next_token : "-",
			       pa->messages ? pa->messages : "-", pb->messages ? pb->messages : "-",
			       pa->results, pb->results, pa->unknown, pb->unknown);
	for (size_t k = 0; k < CMP_NR; k++) {
		if (a[k].status != b[k].status || !str_same(a[k].message, b[k].message) ||
		    a[k].points != b[k].points || a[k].outside != b[k].outside)
			return cw_fail(why, whylen, -1, "result %zu differs: status %d/%d "
				       "points %zu/%zu outside %zu/%zu message %s/%s", k,
				       (int)a[k].status, (int)b[k].status, a[k].points, b[k].points,
				       a[k].outside, b[k].outside, a[k].message ? a[k].message : "-",
				       b[k].message ? b[k].message : "-");
		if (memcmp(a[k].series.values, b[k].series.values,
			   a[k].series.n * sizeof(double)) != 0)
			return cw_fail(why, whylen, -1, "result %zu: slots differ", k);
	}
	return 0;
}

int cw_gmd_ref_compare(const char *body, size_t len, char *why, size_t whylen)
{
	static const size_t map[3] = { 3, 0, 2 };
	struct cw_gmd_result *a = NULL, *b = NULL;
	char ea[CW_ERRBUF], eb[CW_ERRBUF];
	int rc = 0;

	if (cw_gmd_results_new(&a, CMP_NR, CMP_T0, CMP_T0 + 7 * 86400, 86400) ||
	    cw_gmd_results_new(&b, CMP_NR, CMP_T0, CMP_T0 + 7 * 86400, 86400)) {
		cw_gmd_results_free(a, CMP_NR);
		return cw_fail(why, whylen, -1, "out of memory");
	}
	for (int round = 0; round < 2 && !rc; round++) {
		struct cw_gmd_page pa, pb;
		int ra, rb;

		ea[0] = eb[0] = '\0';
		ra = cw_gmd_accumulate(a, CMP_NR, map, 3, body, len, &pa, ea, sizeof(ea));
		rb = cw_gmd_accumulate_ref(b, CMP_NR, map, 3, body, len, &pb, eb, sizeof(eb));
		if (ra == CW_EPARSE && is_syntax(ea) && memchr(body, '\0', len)) {
			/* jansson drops a NUL byte that follows a number (and may
			 * then accept the page, or refuse it for its shape); the
			 * scanner refuses every NUL, as JSON wants */
			if (!rb)
				cw_gmd_page_release(&pb);
			break;
		}
		if (ra != rb || (ra && !same_error(ea, eb)))
			rc = cw_fail(why, whylen, -1, "round %d: scanner %d (%s), reference %d (%s)",
				     round, ra, ea, rb, eb);
		else
			rc = cmp_state(a, b, &pa, &pb, why, whylen);
		if (!ra)
			cw_gmd_page_release(&pa);
		if (!rb)
			cw_gmd_page_release(&pb);
		if (ra || rb)
			break; /* both failed alike: nothing more to compare */
	}
	cw_gmd_results_free(a, CMP_NR);
	cw_gmd_results_free(b, CMP_NR);
	return rc;
}

/* ---- ListMetrics ---------------------------------------------------------- */

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
