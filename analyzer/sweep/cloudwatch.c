/*
 * cloudwatch.c - GetMetricData / ListMetrics bodies (AWS JSON 1.0) built
 * and parsed with jansson.
 *
 * Parsing is two passes over the decoded document: the first checks the
 * whole page (types, sizes, ids), the second applies it, so a malformed
 * page changes nothing.  No shared state, no locking (json_object_seed(0)
 * must have been called before threads start, as DESIGN.md says).
 */
#include "cloudwatch.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "strutil.h"
#include "timeutil.h"

#define CW_CW_MAX_QUERIES 500
#define CW_CW_MAX_NAME 1024    /* dimension values, bucket names */
#define CW_CW_MAX_MESSAGES 4096 /* bytes of joined page messages */
#define BUCKET_PH "{bucket}"

/* ---- query ids ----------------------------------------------------------- */

char *cw_query_id(size_t i, char *buf, size_t len)
{
	snprintf(buf, len, "q%zu", i);
	return buf;
}

int cw_query_index(const char *id, size_t *out)
{
	size_t v = 0;
	const char *p;

	if (!id || id[0] != 'q' || id[1] < '0' || id[1] > '9')
		return CW_EINVAL;
	if (id[1] == '0' && id[2] != '\0')
		return CW_EINVAL; /* "q01": not one of ours */
	for (p = id + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return CW_EINVAL;
		if (v > (SIZE_MAX - 9) / 10)
			return CW_EINVAL;
		v = v * 10 + (size_t)(*p - '0');
	}
	*out = v;
	return 0;
}

/* ---- building ------------------------------------------------------------ */

/*
 * tmpl with every {bucket}, {account} and {region} replaced by bucket,
 * account and region (a NULL one leaves its placeholder as it is): a new
 * string, NULL on ENOMEM.
 */
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

/* Append {"Name":..,"Value":..} to arr.  0 or -1 (invalid UTF-8, ENOMEM). */
static int add_dim(json_t *arr, const char *name, const char *value)
{
	json_t *d = json_object();
	json_t *n = json_string(name), *v = json_string(value);

	if (!d || !n || !v) {
		json_decref(d);
		json_decref(n);
		json_decref(v);
		return -1;
	}
	json_object_set_new(d, "Name", n);
	json_object_set_new(d, "Value", v);
	return json_array_append_new(arr, d);
}

/*
 * The Dimensions array of metric m: with bucket substituted (bucket !=
 * NULL), or only the fixed ones (bucket == NULL, for ListMetrics).
 */
static json_t *dims_json(const struct cw_metric_def *m, const char *bucket,
			 const char *account, const char *region)
{
	json_t *arr = json_array();

	if (!arr)
		return NULL;
	for (size_t i = 0; i < m->ndims; i++) {
		const struct cw_dim_tmpl *t = &m->dims[i];
		bool has = t->value && strstr(t->value, BUCKET_PH);
		char *v;
		int rc;

		if (!t->name || !t->value)
			goto fail;
		if (has && !bucket)
			continue;
		v = subst(t->value, has ? bucket : NULL, account, region);
		if (!v)
			goto fail;
		rc = add_dim(arr, t->name, v);
		free(v);
		if (rc)
			goto fail;
	}
	return arr;
fail:
	json_decref(arr);
	return NULL;
}

static int set_str(json_t *o, const char *k, const char *v)
{
	json_t *s = v ? json_string(v) : NULL;

	if (!s)
		return -1;
	return json_object_set_new(o, k, s);
}

/* Serialise and hand over root (consumed). */
static int dump(json_t *root, char **body, size_t *len, const char *what,
		char *err, size_t errlen)
{
	char *s = json_dumps(root, JSON_COMPACT);

	json_decref(root);
	if (!s)
		return cw_fail(err, errlen, CW_ENOMEM, "%s request: out of memory", what);
	*body = s;
	if (len)
		*len = strlen(s);
	return 0;
}

int cw_gmd_request(char **body, size_t *len, const struct cw_gmd_query *q, size_t n,
		   int64_t start, int64_t end, int64_t period, const char *next_token,
		   char *err, size_t errlen)
{
	json_t *root = NULL, *qs = NULL;
	char id[24];

	*body = NULL;
	if (n == 0 || n > CW_CW_MAX_QUERIES)
		return cw_fail(err, errlen, CW_EINVAL,
			       "GetMetricData request: %zu queries: must be 1..%d", n,
			       CW_CW_MAX_QUERIES);
	if (period <= 0 || end <= start)
		return cw_fail(err, errlen, CW_EINVAL,
			       "GetMetricData request: empty time range or bad period");
	root = json_object();
	qs = json_array();
	if (!root || !qs || json_object_set(root, "MetricDataQueries", qs))
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		const struct cw_metric_def *m = q[i].metric;
		json_t *e = NULL, *ms = NULL, *mt = NULL, *dims = NULL;

		if (!m || !m->namespace_ || !m->name || !m->stat) {
			json_decref(qs);
			json_decref(root);
			return cw_fail(err, errlen, CW_EINVAL,
				       "GetMetricData request: query %zu: incomplete metric", i);
		}
		dims = dims_json(m, q[i].bucket ? q[i].bucket : "", q[i].account, q[i].region);
		e = json_object();
		ms = json_object();
		mt = json_object();
		if (!dims || !e || !ms || !mt) {
			json_decref(dims);
			json_decref(e);
			json_decref(ms);
			json_decref(mt);
			goto bad;
		}
		json_array_append_new(qs, e);
		json_object_set_new(e, "Id", json_string(cw_query_id(i, id, sizeof(id))));
		json_object_set_new(e, "MetricStat", ms);
		if (set_str(mt, "Namespace", m->namespace_) ||
		    set_str(mt, "MetricName", m->name)) {
			json_decref(mt);
			json_decref(dims);
			goto bad;
		}
		json_object_set_new(mt, "Dimensions", dims);
		json_object_set_new(ms, "Metric", mt);
		json_object_set_new(ms, "Period", json_integer(period));
		if (set_str(ms, "Stat", m->stat))
			goto bad;
		json_object_set_new(e, "ReturnData", json_true());
		if (json_array_size(qs) != i + 1 || !json_object_get(e, "Id") ||
		    !json_object_get(ms, "Period"))
			goto nomem;
	}
	if (json_object_set_new(root, "StartTime", json_integer(start)) ||
	    json_object_set_new(root, "EndTime", json_integer(end)) ||
	    set_str(root, "ScanBy", "TimestampDescending"))
		goto nomem;
	if (next_token && set_str(root, "NextToken", next_token))
		goto bad;
	json_decref(qs);
	return dump(root, body, len, "GetMetricData", err, errlen);
bad:
	json_decref(qs);
	json_decref(root);
	return cw_fail(err, errlen, CW_EINVAL,
		       "GetMetricData request: a name or value is not valid UTF-8");
nomem:
	json_decref(qs);
	json_decref(root);
	return cw_fail(err, errlen, CW_ENOMEM, "GetMetricData request: out of memory");
}

int cw_lm_request(char **body, size_t *len, const struct cw_metric_def *m,
		  const char *next_token, char *err, size_t errlen)
{
	return cw_lm_request_at(body, len, m, NULL, NULL, next_token, err, errlen);
}

int cw_lm_request_at(char **body, size_t *len, const struct cw_metric_def *m,
		     const char *account, const char *region, const char *next_token,
		     char *err, size_t errlen)
{
	json_t *root, *dims;

	*body = NULL;
	if (!m || !m->namespace_ || !m->name)
		return cw_fail(err, errlen, CW_EINVAL, "ListMetrics request: incomplete metric");
	root = json_object();
	if (!root || set_str(root, "Namespace", m->namespace_) ||
	    set_str(root, "MetricName", m->name))
		goto bad;
	dims = dims_json(m, NULL, account, region);
	/* json_object_set_new takes dims even when it fails */
	if (!dims || json_object_set_new(root, "Dimensions", dims))
		goto bad;
	if (next_token && set_str(root, "NextToken", next_token))
		goto bad;
	return dump(root, body, len, "ListMetrics", err, errlen);
bad:
	json_decref(root);
	return cw_fail(err, errlen, CW_EINVAL,
		       "ListMetrics request: a name or value is not valid UTF-8");
}

/* ---- parsing helpers ----------------------------------------------------- */

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

const char *cw_gmd_status_name(enum cw_gmd_status s)
{
	switch (s) {
	case CW_GMD_COMPLETE: return "Complete";
	case CW_GMD_PARTIAL: return "PartialData";
	case CW_GMD_INTERNAL_ERROR: return "InternalError";
	case CW_GMD_FORBIDDEN: return "Forbidden";
	case CW_GMD_NONE: break;
	}
	return "None";
}

/* ---- GetMetricData results ----------------------------------------------- */

int cw_gmd_results_new(struct cw_gmd_result **out, size_t n, int64_t start,
		       int64_t end, int64_t period)
{
	struct cw_gmd_result *r;
	size_t slots;
	int rc;

	*out = NULL;
	if (period <= 0 || end <= start || n == 0)
		return CW_EINVAL;
	slots = (size_t)(((uint64_t)(end - start) + (uint64_t)period - 1) / (uint64_t)period);
	r = calloc(n, sizeof(*r));
	if (!r)
		return CW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		rc = cw_series_init(&r[i].series, start, period, slots);
		if (rc) {
			cw_gmd_results_free(r, i);
			return rc;
		}
		r[i].series.complete_end = end;
	}
	*out = r;
	return 0;
}

void cw_gmd_results_free(struct cw_gmd_result *r, size_t n)
{
	if (!r)
		return;
	for (size_t i = 0; i < n; i++) {
		cw_series_release(&r[i].series);
		free(r[i].message);
	}
	free(r);
}

void cw_gmd_page_release(struct cw_gmd_page *p)
{
	if (!p)
		return;
	free(p->next_token);
	free(p->messages);
	memset(p, 0, sizeof(*p));
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

int cw_gmd_accumulate(struct cw_gmd_result *r, size_t nr, const size_t *map, size_t nq,
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

/* ---- ListMetrics --------------------------------------------------------- */

void cw_lm_page_release(struct cw_lm_page *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->names[i]);
	free(p->names);
	free(p->next_token);
	memset(p, 0, sizeof(*p));
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

int cw_lm_parse(struct cw_lm_page *page, const struct cw_metric_def *m,
		const char *body, size_t len, char *err, size_t errlen)
{
	return cw_lm_parse_at(page, m, NULL, NULL, body, len, err, errlen);
}

int cw_lm_parse_at(struct cw_lm_page *page, const struct cw_metric_def *m,
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
