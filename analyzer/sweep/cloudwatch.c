/*
 * cloudwatch.c - GetMetricData / ListMetrics bodies (AWS JSON 1.0): the
 * requests written straight into a buffer, the answers read by a scanner
 * of their own, without a tree (below: GetMetricData pages are most of a
 * sweep's bytes, ListMetrics pages a bucket's name and dimensions each).
 *
 * Parsing checks the whole page first (syntax, types, sizes, ids), then
 * applies it, so a malformed page changes nothing.  No shared state, no
 * locking.  jansson.h is included for its nesting limit only.
 */
#include "cloudwatch.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "escape.h"
#include "strutil.h"
#include "timeutil.h"
#include "units.h"

#define CW_CW_MAX_QUERIES 500
#define CW_CW_MAX_NAME 1024    /* dimension values, bucket names */
#define CW_CW_MAX_MESSAGES 4096 /* bytes of joined page messages */
#define BUCKET_PH "{bucket}"

/* ---- query ids ----------------------------------------------------------- */

char *cw_query_id(size_t i, char *buf, size_t len)
{
	if (len < 2)
		return len ? (buf[0] = '\0', buf) : buf;
	buf[0] = 'q';
	cw_fmt_uint(i, buf + 1, len - 1);
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
 * The request bodies are written straight into a buffer, as jansson's
 * JSON_COMPACT writes them (the same keys in the same order), without
 * building a tree: a 500-query GetMetricData body is ~100 KB and the sweep
 * writes one per batch.  A name or value that is not valid UTF-8 refuses
 * the request (CW_EINVAL), as json_string() did.
 */
struct jw {
	struct cw_buf b;
	int rc; /* first error: CW_EINVAL (bad UTF-8) or CW_ENOMEM */
};

static bool valid_utf8(const char *s)
{
	for (size_t n; *s; s += n)
		if ((unsigned char)*s < 0x80)
			n = 1; /* the usual byte, without a call */
		else if ((n = cw_utf8_len(s)) == 0)
			return false;
	return true;
}

static void jw_raw(struct jw *w, const char *s)
{
	if (!w->rc)
		w->rc = cw_buf_addstr(&w->b, s);
}

static void jw_str(struct jw *w, const char *s)
{
	if (w->rc)
		return;
	if (!s || !valid_utf8(s))
		w->rc = CW_EINVAL;
	else
		w->rc = cw_json_string(&w->b, s);
}

static void jw_int(struct jw *w, int64_t v)
{
	char digits[24];

	jw_raw(w, cw_fmt_int(v, digits, sizeof(digits)));
}

/* "Name":"k" pairs are written with the key as a literal ("\"Name\":"). */
static void jw_key_str(struct jw *w, const char *key, const char *v)
{
	jw_raw(w, key);
	jw_str(w, v);
}

/*
 * Append tmpl to out with every {bucket}, {account} and {region} replaced
 * by bucket, account and region (a NULL one leaves its placeholder as it
 * is); out is reset first.
 */
static int subst(struct cw_buf *out, const char *tmpl, const char *bucket, const char *account,
		 const char *region)
{
	static const char *const ph[] = { BUCKET_PH, "{account}", "{region}" };
	static const size_t phlen[] = { sizeof(BUCKET_PH) - 1, 9, 8 };
	const char *with[3] = { bucket, account, region };
	const char *p = tmpl;
	int rc = 0;

	cw_buf_reset(out);
	while (*p && !rc) {
		const char *q = strchr(p, '{');
		size_t k;

		if (!q)
			return cw_buf_addstr(out, p);
		if (q > p && (rc = cw_buf_add(out, p, (size_t)(q - p))))
			break;
		p = q;
		for (k = 0; k < 3; k++)
			if (with[k] && strncmp(p, ph[k], phlen[k]) == 0)
				break;
		if (k < 3) {
			rc = cw_buf_addstr(out, with[k]);
			p += phlen[k];
		} else {
			rc = cw_buf_addch(out, *p++);
		}
	}
	return rc ? rc : cw_buf_addstr(out, "");
}

/*
 * The Dimensions array of metric m: with bucket substituted (bucket !=
 * NULL), or only the fixed ones (bucket == NULL, for ListMetrics).
 * scratch holds each substituted value.
 */
static void jw_dims(struct jw *w, struct cw_buf *scratch, const struct cw_metric_def *m,
		    const char *bucket, const char *account, const char *region)
{
	bool first = true;

	jw_raw(w, "[");
	for (size_t i = 0; i < m->ndims && !w->rc; i++) {
		const struct cw_dim_tmpl *t = &m->dims[i];
		bool has;

		if (!t->name || !t->value) {
			w->rc = CW_EINVAL;
			break;
		}
		has = strstr(t->value, BUCKET_PH) != NULL;
		if (has && !bucket)
			continue;
		if ((w->rc = subst(scratch, t->value, has ? bucket : NULL, account, region)))
			break;
		jw_key_str(w, first ? "{\"Name\":" : ",{\"Name\":", t->name);
		jw_key_str(w, ",\"Value\":", cw_buf_str(scratch));
		jw_raw(w, "}");
		first = false;
	}
	jw_raw(w, "]");
}

/*
 * A metric's Dimensions array as text made once for a whole batch: each
 * dimension whose value has no placeholder is written whole, the others
 * up to their value, which each query substitutes (the same text that
 * jw_dims writes).  A metric with more dimensions than kept, or a broken
 * one, has none of it and each query goes through jw_dims.
 */
#define DIMS_KEPT 8

struct dims_text {
	struct cw_buf text;
	struct {
		size_t off, len;
		const char *tmpl; /* the value to substitute, NULL when written whole */
	} seg[DIMS_KEPT];
	size_t n;
	bool ok;
};

static void dims_text_make(struct dims_text *dt, const struct cw_metric_def *m)
{
	struct jw w = { .b = dt->text, .rc = 0 };

	cw_buf_reset(&w.b);
	dt->n = 0;
	dt->ok = m->ndims <= DIMS_KEPT;
	for (size_t i = 0; dt->ok && i < m->ndims && !w.rc; i++) {
		const struct cw_dim_tmpl *t = &m->dims[i];
		size_t off = w.b.len;
		bool whole;

		if (!t->name || !t->value) {
			dt->ok = false;
			break;
		}
		whole = strchr(t->value, '{') == NULL;
		jw_key_str(&w, i ? ",{\"Name\":" : "{\"Name\":", t->name);
		jw_raw(&w, ",\"Value\":");
		if (whole) {
			jw_str(&w, t->value);
			jw_raw(&w, "}");
		}
		dt->seg[dt->n].off = off;
		dt->seg[dt->n].len = w.b.len - off;
		dt->seg[dt->n++].tmpl = whole ? NULL : t->value;
	}
	dt->ok = dt->ok && !w.rc;
	dt->text = w.b;
}

/* A query's Dimensions array from its metric's text (dims_text_make). */
static void jw_dims_text(struct jw *w, struct cw_buf *scratch, const struct dims_text *dt,
			 const char *bucket, const char *account, const char *region)
{
	jw_raw(w, "[");
	for (size_t i = 0; i < dt->n && !w->rc; i++) {
		w->rc = cw_buf_add(&w->b, dt->text.data + dt->seg[i].off, dt->seg[i].len);
		if (!dt->seg[i].tmpl || w->rc)
			continue;
		if ((w->rc = subst(scratch, dt->seg[i].tmpl, bucket, account, region)))
			break;
		jw_str(w, cw_buf_str(scratch));
		jw_raw(w, "}");
	}
	jw_raw(w, "]");
}

/* Hand the body over, or the error of what went wrong. */
static int jw_finish(struct jw *w, struct cw_buf *scratch, char **body, size_t *len,
		     const char *what, char *err, size_t errlen)
{
	cw_buf_release(scratch);
	if (w->rc) {
		int rc = w->rc;

		cw_buf_release(&w->b);
		if (rc == CW_EINVAL)
			return cw_fail(err, errlen, CW_EINVAL,
				       "%s request: a name or value is not valid UTF-8", what);
		return cw_fail(err, errlen, CW_ENOMEM, "%s request: out of memory", what);
	}
	*body = cw_buf_detach(&w->b, len);
	if (!*body)
		return cw_fail(err, errlen, CW_ENOMEM, "%s request: out of memory", what);
	return 0;
}

int cw_gmd_request(char **body, size_t *len, const struct cw_gmd_query *q, size_t n,
		   int64_t start, int64_t end, int64_t period, const char *next_token,
		   char *err, size_t errlen)
{
	struct jw w = { .rc = 0 }, head = { .rc = 0 }, tail = { .rc = 0 };
	struct cw_buf scratch = CW_BUF_INIT;
	struct dims_text dt = { .text = CW_BUF_INIT };
	const struct cw_metric_def *shared = NULL;
	char id[24];

	*body = NULL;
	if (n == 0 || n > CW_CW_MAX_QUERIES)
		return cw_fail(err, errlen, CW_EINVAL,
			       "GetMetricData request: %zu queries: must be 1..%d", n,
			       CW_CW_MAX_QUERIES);
	if (period <= 0 || end <= start)
		return cw_fail(err, errlen, CW_EINVAL,
			       "GetMetricData request: empty time range or bad period");
	for (size_t i = 0; i < n; i++) {
		const struct cw_metric_def *m = q[i].metric;

		if (!m || !m->namespace_ || !m->name || !m->stat)
			return cw_fail(err, errlen, CW_EINVAL,
				       "GetMetricData request: query %zu: incomplete metric", i);
	}
	cw_buf_init(&w.b, 0);
	cw_buf_init(&scratch, 0);
	/* a batch's queries share a metric or a few: the text around each
	 * query's dimensions is written once per metric and copied */
	cw_buf_init(&head.b, 0);
	cw_buf_init(&tail.b, 0);
	jw_raw(&w, "{\"MetricDataQueries\":[");
	for (size_t i = 0; i < n && !w.rc; i++) {
		const struct cw_metric_def *m = q[i].metric;

		if (m != shared) {
			cw_buf_reset(&head.b);
			cw_buf_reset(&tail.b);
			jw_raw(&head, ",\"MetricStat\":{\"Metric\":{\"Namespace\":");
			jw_str(&head, m->namespace_);
			jw_key_str(&head, ",\"MetricName\":", m->name);
			jw_raw(&head, ",\"Dimensions\":");
			jw_raw(&tail, "},\"Period\":");
			jw_int(&tail, period);
			jw_key_str(&tail, ",\"Stat\":", m->stat);
			jw_raw(&tail, "},\"ReturnData\":true}");
			if ((w.rc = head.rc ? head.rc : tail.rc))
				break;
			dims_text_make(&dt, m);
			shared = m;
		}
		jw_raw(&w, i ? ",{\"Id\":\"" : "{\"Id\":\"");
		jw_raw(&w, cw_query_id(i, id, sizeof(id)));
		jw_raw(&w, "\"");
		if (!w.rc)
			w.rc = cw_buf_add(&w.b, head.b.data, head.b.len);
		if (dt.ok)
			jw_dims_text(&w, &scratch, &dt, q[i].bucket ? q[i].bucket : "",
				     q[i].account, q[i].region);
		else
			jw_dims(&w, &scratch, m, q[i].bucket ? q[i].bucket : "", q[i].account,
				q[i].region);
		if (!w.rc)
			w.rc = cw_buf_add(&w.b, tail.b.data, tail.b.len);
	}
	cw_buf_release(&head.b);
	cw_buf_release(&tail.b);
	cw_buf_release(&dt.text);
	jw_raw(&w, "],\"StartTime\":");
	jw_int(&w, start);
	jw_raw(&w, ",\"EndTime\":");
	jw_int(&w, end);
	jw_raw(&w, ",\"ScanBy\":\"TimestampDescending\"");
	if (next_token)
		jw_key_str(&w, ",\"NextToken\":", next_token);
	jw_raw(&w, "}");
	return jw_finish(&w, &scratch, body, len, "GetMetricData", err, errlen);
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
	struct jw w = { .rc = 0 };
	struct cw_buf scratch = CW_BUF_INIT;

	*body = NULL;
	if (!m || !m->namespace_ || !m->name)
		return cw_fail(err, errlen, CW_EINVAL, "ListMetrics request: incomplete metric");
	cw_buf_init(&w.b, 0);
	cw_buf_init(&scratch, 0);
	jw_key_str(&w, "{\"Namespace\":", m->namespace_);
	jw_key_str(&w, ",\"MetricName\":", m->name);
	jw_raw(&w, ",\"Dimensions\":");
	jw_dims(&w, &scratch, m, NULL, account, region);
	if (next_token)
		jw_key_str(&w, ",\"NextToken\":", next_token);
	jw_raw(&w, "}");
	return jw_finish(&w, &scratch, body, len, "ListMetrics", err, errlen);
}

static const struct {
	const char *name;
	enum cw_gmd_status s;
} gp_statuses[] = {
	{ "Complete", CW_GMD_COMPLETE },
	{ "PartialData", CW_GMD_PARTIAL },
	{ "InternalError", CW_GMD_INTERNAL_ERROR },
	{ "Forbidden", CW_GMD_FORBIDDEN },
};

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

/* ---- GetMetricData pages: a scanner, no tree ------------------------------ */

/*
 * GetMetricData pages are most of what a sweep reads (up to 100,800
 * datapoints a call), so they are not decoded into a jansson tree.  The
 * scanner reads the page once, checks it as strictly as json_loadb with
 * JSON_REJECT_DUPLICATES (RFC 8259 syntax, whitespace " \t\n\r", UTF-8
 * without overlongs or surrogates, escapes, no \u0000, no lone surrogate
 * escapes, no duplicate keys in any object, nesting at most
 * JSON_PARSER_MAX_DEPTH values, integers within int64, finite reals),
 * then checks the documented shape with the tree parser's checks and
 * messages in the same order, and writes the points into the series:
 *
 *   - the fused path (gp_fused): a result whose Id and Timestamps come
 *     before its Values, as CloudWatch sends them, has its timestamps
 *     kept (up to GP_TBUF) and each value written as it is read, into
 *     slots that were gaps; if the page then fails, those slots become
 *     gaps again (gp_unfuse), so a failed page still changes nothing;
 *   - anything else (another member order, a slot that already holds a
 *     value, a longer result, and every result after such a one, so the
 *     page order is kept) is written after the whole page was checked,
 *     by a second walk over just its two arrays (gp_apply_points).
 *
 * Memory: no allocation per datapoint.  Per call: GP_TBUF timestamps
 * (32 KiB), one record per result (at most CW_CW_MAX_RESULTS), the keys
 * of the objects open at once and the longest string or number token.
 *
 * Numbers: an integer is read as int64 (as jansson does; -0 is 0); a real
 * takes Clinger's fast path (mantissa <= 2^53, |exp10| <= 22: one exact
 * multiply or divide) and strtod otherwise, so every value is the double
 * strtod gives.
 */

#define GP_NONE SIZE_MAX            /* no such array in a result */
#define GP_NUMBUF 128               /* number tokens up to this go on the stack */
#define GP_TS_MAX 1e13              /* a real timestamp must be within +-this */

struct gp_str {                     /* a scanned string token */
	size_t off;                 /* offset of the first byte after the quote */
	size_t raw;                 /* bytes between the quotes */
	size_t len;                 /* bytes once unescaped */
	bool esc;                   /* holds a backslash escape */
};

struct gp_key {                     /* a key of an object being read */
	uint64_t h;                 /* FNV-1a of the unescaped bytes */
	size_t len;
	size_t off;                 /* in the body, or in the arena when esc */
	bool esc;
	const char *p;              /* set just before sorting */
};

struct gp_res {                     /* one result as pass 1 saw it */
	size_t slot;                /* index into r, or GP_NONE: not ours */
	enum cw_gmd_status st;
	size_t ts, vs, msgs;        /* offsets of '[', or GP_NONE */
	size_t n;                   /* points */
	bool fused;                 /* points written in pass 1 (see gp_fused) */
	size_t fts;                 /* the Timestamps '[' the fused path used */
	size_t fused_m;             /* points handled so far by the fused path */
	size_t points, outside;     /* what the fused path counted */
};

struct gp_scratch {
	char *p;
	size_t alloc;
};

struct gp {
	const char *b, *end;        /* the body */
	const char *what;           /* "GetMetricData" or "ListMetrics", for messages */
	int rc;                     /* first syntax error (or ENOMEM) */
	char *err;
	size_t errlen;
	bool apply;                 /* pass 2: no key bookkeeping */
	struct gp_key *keys;        /* keys of the objects open now */
	size_t nkeys, akeys;
	struct gp_scratch arena;    /* unescaped keys, stack-like */
	size_t larena;
	struct gp_scratch s1, s2;   /* unescaped strings; s2 also numbers for strtod */
	struct gp_scratch sk;       /* an escaped key being compared */
	size_t maxnum;              /* longest number token seen */
	struct gp_res *res;         /* the page's results (at most MAX_RESULTS) */
	size_t nres, ares;
	/* pass 1 findings, reported in the tree parser's order */
	size_t results;             /* elements of MetricDataResults */
	bool root_bad;              /* MetricDataResults / Messages: bad type */
	bool tok_bad;               /* NextToken: not a string */
	struct gp_str tok;          /* NextToken when a string */
	bool has_tok;
	size_t msgs;                /* offset of the top-level Messages '[' */
	int res_rc;                 /* first bad result: code and message */
	char res_err[CW_ERRBUF];
	/* the fused path (gp_fused) */
	struct cw_gmd_result *r;
	int64_t *tbuf;              /* the timestamps of the last Timestamps array */
	size_t tbuf_of;             /* ... of this result (index), or GP_NONE */
	bool deferred;              /* a result with points was left to pass 2 */
};

/* Timestamps kept for the fused path: a result with more points goes to
 * pass 2 (hourly and daily series have a few hundred). */
#define GP_TBUF 4096

static const double gp_pow10[23] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* A syntax error at p: "not JSON: what at line:column" (the first one wins). */
static int gp_syntax(struct gp *g, const char *p, const char *what)
{
	size_t line = 1, col = 1;

	if (g->rc)
		return g->rc;
	for (const char *q = g->b; q < p && q < g->end; q++) {
		if (*q == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	g->rc = cw_fail(g->err, g->errlen, CW_EPARSE, "%s response: not JSON: %s at %zu:%zu",
			g->what, what, line, col);
	return g->rc;
}

static int gp_nomem(struct gp *g)
{
	if (!g->rc)
		g->rc = cw_fail(g->err, g->errlen, CW_ENOMEM, "%s response: out of memory",
				g->what);
	return g->rc;
}

/*
 * v (an array of *alloc elements of size bytes) with room for need
 * elements: v itself, or a larger copy (the allocation doubles from 64,
 * *alloc updated), or NULL (ENOMEM; v is still valid).
 */
static void *grow(void *v, size_t *alloc, size_t need, size_t size)
{
	size_t a = *alloc ? *alloc : 64;
	void *p;

	if (need <= *alloc)
		return v;
	while (a < need)
		a *= 2;
	if (a > SIZE_MAX / size || !(p = realloc(v, a * size)))
		return NULL;
	*alloc = a;
	return p;
}

/* At least n bytes in s: 0 or CW_ENOMEM. */
static int gp_reserve(struct gp_scratch *s, size_t n)
{
	size_t a = s->alloc ? s->alloc : 64;
	char *p;

	if (n <= s->alloc)
		return 0;
	while (a < n)
		a = a > SIZE_MAX / 2 ? n : a * 2;
	p = realloc(s->p, a);
	if (!p)
		return CW_ENOMEM;
	s->p = p;
	s->alloc = a;
	return 0;
}

static inline const char *gp_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

static int gp_hex(const char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static size_t gp_utf8_len(int32_t cp)
{
	return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/*
 * A string token at *pp (the opening quote): checks UTF-8 and escapes as
 * jansson does, fills s, leaves *pp after the closing quote.
 */
static int gp_string(struct gp *g, const char **pp, struct gp_str *s)
{
	const unsigned char *p = (const unsigned char *)*pp + 1;
	const unsigned char *end = (const unsigned char *)g->end;
	size_t len = 0;

	s->off = (size_t)((const char *)p - g->b);
	s->esc = false;
	for (;;) {
		const unsigned char *q = p;

		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			p++;
		len += (size_t)(p - q);
		if (p >= end)
			return gp_syntax(g, (const char *)p, "premature end of input in a string");
		if (*p == '"')
			break;
		if (*p < 0x20)
			return gp_syntax(g, (const char *)p, "control character in a string");
		if (*p == '\\') {
			int32_t cp;

			s->esc = true;
			if (end - p < 2)
				return gp_syntax(g, (const char *)p, "premature end of input in a string");
			if (p[1] != 'u') {
				if (!strchr("\"\\/bfnrt", p[1]) || p[1] == '\0')
					return gp_syntax(g, (const char *)p, "invalid escape");
				p += 2;
				len++;
				continue;
			}
			if (end - p < 6 || (cp = gp_hex((const char *)p + 2)) < 0)
				return gp_syntax(g, (const char *)p, "invalid \\u escape");
			if (cp == 0)
				return gp_syntax(g, (const char *)p, "\\u0000 is not allowed");
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				return gp_syntax(g, (const char *)p, "invalid Unicode escape");
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				int32_t lo;

				if (end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
				    (lo = gp_hex((const char *)p + 8)) < 0xDC00 || lo > 0xDFFF)
					return gp_syntax(g, (const char *)p, "invalid Unicode escape");
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				p += 6;
			}
			p += 6;
			len += gp_utf8_len(cp);
			continue;
		}
		/* a multi-byte UTF-8 sequence: no overlong form, no surrogate,
		 * nothing past U+10FFFF */
		{
			unsigned char c = *p, lo = 0x80, hi = 0xBF;
			size_t n;

			if (c < 0xC2 || c > 0xF4)
				return gp_syntax(g, (const char *)p, "invalid UTF-8");
			n = c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
			if (c == 0xE0)
				lo = 0xA0;
			else if (c == 0xED)
				hi = 0x9F;
			else if (c == 0xF0)
				lo = 0x90;
			else if (c == 0xF4)
				hi = 0x8F;
			if ((size_t)(end - p) <= n || p[1] < lo || p[1] > hi)
				return gp_syntax(g, (const char *)p, "invalid UTF-8");
			for (size_t i = 2; i <= n; i++)
				if (p[i] < 0x80 || p[i] > 0xBF)
					return gp_syntax(g, (const char *)p, "invalid UTF-8");
			p += n + 1;
			len += n + 1;
		}
	}
	s->raw = (size_t)((const char *)p - g->b) - s->off;
	s->len = len;
	*pp = (const char *)p + 1;
	return 0;
}

/* Unescape a scanned string into out (s->len bytes, no NUL added). */
static void gp_unescape(const struct gp *g, const struct gp_str *s, char *out)
{
	const char *p = g->b + s->off, *end = p + s->raw;

	if (!s->esc) {
		memcpy(out, p, s->raw);
		return;
	}
	while (p < end) {
		int32_t cp;

		if (*p != '\\') {
			*out++ = *p++;
			continue;
		}
		switch (p[1]) {
		case 'b': *out++ = '\b'; p += 2; continue;
		case 'f': *out++ = '\f'; p += 2; continue;
		case 'n': *out++ = '\n'; p += 2; continue;
		case 'r': *out++ = '\r'; p += 2; continue;
		case 't': *out++ = '\t'; p += 2; continue;
		case 'u': break;
		default: *out++ = p[1]; p += 2; continue;
		}
		cp = gp_hex(p + 2);
		p += 6;
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			cp = 0x10000 + ((cp - 0xD800) << 10) + (gp_hex(p + 2) - 0xDC00);
			p += 6;
		}
		if (cp < 0x80) {
			*out++ = (char)cp;
		} else if (cp < 0x800) {
			*out++ = (char)(0xC0 | (cp >> 6));
			*out++ = (char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			*out++ = (char)(0xE0 | (cp >> 12));
			*out++ = (char)(0x80 | ((cp >> 6) & 0x3F));
			*out++ = (char)(0x80 | (cp & 0x3F));
		} else {
			*out++ = (char)(0xF0 | (cp >> 18));
			*out++ = (char)(0x80 | ((cp >> 12) & 0x3F));
			*out++ = (char)(0x80 | ((cp >> 6) & 0x3F));
			*out++ = (char)(0x80 | (cp & 0x3F));
		}
	}
}

/* The unescaped string, NUL-terminated, in scratch sc (borrowed until the
 * next use of sc); NULL on ENOMEM. */
static const char *gp_text(const struct gp *g, const struct gp_str *s, struct gp_scratch *sc)
{
	if (gp_reserve(sc, s->len + 1))
		return NULL;
	gp_unescape(g, s, sc->p);
	sc->p[s->len] = '\0';
	return sc->p;
}

/* The string equals the NUL-free literal lit. */
static bool gp_is(struct gp *g, const struct gp_str *s, const char *lit)
{
	size_t n = strlen(lit);
	const char *t;

	if (s->len != n)
		return false;
	if (!s->esc)
		return memcmp(g->b + s->off, lit, n) == 0;
	t = gp_text(g, s, &g->sk);
	return t && memcmp(t, lit, n) == 0;
}

/* ---- numbers ---- */

/*
 * Digits are checked and converted eight at a time where eight bytes are
 * left: a byte b is a digit when (b & 0xF0) == 0x30 and ((b + 6) & 0xF0)
 * == 0x30; a carry out of a non-digit byte only reaches later bytes.
 */
#define GP_ONES 0x0101010101010101ULL

static inline uint64_t gp_load8(const char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* How many ASCII digits start at p (none past end). */
static inline size_t gp_digits(const char *p, const char *end)
{
	const char *q = p;

	while (end - q >= 8) {
		uint64_t v = gp_load8(q);
		uint64_t bad = ((v & (0xF0 * GP_ONES)) |
				(((v + 0x06 * GP_ONES) & (0xF0 * GP_ONES)) >> 4)) ^ (0x33 * GP_ONES);

		if (bad)
			return (size_t)(q - p) + (size_t)__builtin_ctzll(bad) / 8;
		q += 8;
	}
	while (q < end && *q >= '0' && *q <= '9')
		q++;
	return (size_t)(q - p);
}

/* The value of the eight digits at p. */
static inline uint64_t gp_eight(const char *p)
{
	uint64_t v = gp_load8(p) - 0x30 * GP_ONES;

	v = (v * 10 + (v >> 8)) & 0x00FF00FF00FF00FFULL;
	v = (v * 100 + (v >> 16)) & 0x0000FFFF0000FFFFULL;
	return (v * 10000 + (v >> 32)) & 0xFFFFFFFFULL;
}

/* m * 10^n + the n digits at p, n <= 19 - digits of m (no overflow). */
static inline uint64_t gp_acc(uint64_t m, const char *p, size_t n)
{
	for (; n >= 8; n -= 8, p += 8)
		m = m * 100000000 + gp_eight(p);
	for (; n > 0; n--, p++)
		m = m * 10 + (uint64_t)(*p - '0');
	return m;
}

struct gp_num {
	const char *s, *e;          /* the token */
	bool is_int;                /* no fraction, no exponent */
};

/*
 * A number token at *pp with jansson's rules: JSON grammar, an integer
 * must fit int64, a real must be finite.  Nothing is converted here
 * except a real whose magnitude may pass DBL_MAX (strtod decides).
 */
static int gp_number(struct gp *g, const char **pp, struct gp_num *n)
{
	const char *p = *pp, *end = g->end, *d0;
	bool neg = false;
	size_t idig;
	long ex = 0;

	n->s = p;
	if (*p == '-') {
		neg = true;
		p++;
	}
	d0 = p;
	if (p < end && *p == '0')
		p++;
	else
		p += gp_digits(p, end);
	if (p == d0)
		return gp_syntax(g, p, "invalid number");
	idig = *d0 == '0' ? 0 : (size_t)(p - d0);
	n->is_int = true;
	if (p < end && *p == '.') {
		size_t k = gp_digits(++p, end);

		if (k == 0)
			return gp_syntax(g, p, "invalid number");
		p += k;
		n->is_int = false;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		const char *x;
		bool eneg = false;

		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		x = p;
		while (p < end && *p >= '0' && *p <= '9') {
			if (ex < 1000000)
				ex = ex * 10 + (*p - '0');
			p++;
		}
		if (p == x)
			return gp_syntax(g, p, "invalid number");
		if (eneg)
			ex = -ex;
		n->is_int = false;
	}
	n->e = p;
	*pp = p;
	if ((size_t)(p - n->s) > g->maxnum)
		g->maxnum = (size_t)(p - n->s);
	if (n->is_int) {
		/* within int64 (18 digits always are) */
		if (idig > 19 ||
		    (idig == 19 && gp_acc(0, d0, 19) > (uint64_t)INT64_MAX + (neg ? 1 : 0)))
			return gp_syntax(g, n->s, neg ? "too big negative integer" : "too big integer");
		return 0;
	}
	if ((long)idig + ex > 308) {
		/* may pass DBL_MAX: ask strtod */
		char small[GP_NUMBUF];
		size_t k = (size_t)(p - n->s);
		char *buf = small;
		double d;

		if (k >= sizeof(small)) {
			if (gp_reserve(&g->s2, k + 1))
				return gp_nomem(g);
			buf = g->s2.p;
		}
		memcpy(buf, n->s, k);
		buf[k] = '\0';
		d = strtod(buf, NULL);
		if (!isfinite(d))
			return gp_syntax(g, n->s, "real number overflow");
	}
	return 0;
}

/*
 * Convert the checked number token at *pp and leave *pp after it: an
 * integer goes to *iv (as jansson reads it: int64, -0 is 0) and returns
 * its double; a real returns the double strtod gives, by Clinger's fast
 * path when it applies (numbuf holds at least the token and a NUL).
 */
static inline double gp_conv(const char **pp, const char *end, char *numbuf, bool *is_int,
			     int64_t *iv)
{
	const char *s = *pp, *p = s, *d;
	bool neg = false, exact = true;
	uint64_t m;
	size_t nd, k;
	long dexp = 0;

	if (*p == '-') {
		neg = true;
		p++;
	}
	nd = gp_digits(p, end);
	d = p;
	p += nd;
	if (*d == '0') /* "0" or "0.xxx": no significant digit yet */
		nd = 0;
	if (nd > 19) {
		m = gp_acc(0, d, 19);
		dexp = (long)(nd - 19);
		exact = false; /* digits dropped (strtod decides) */
		nd = 19;
	} else {
		m = gp_acc(0, d, nd);
	}
	*is_int = p >= end || (*p != '.' && *p != 'e' && *p != 'E');
	if (*is_int) {
		*pp = p;
		*iv = neg ? (int64_t)(0 - m) : (int64_t)m; /* checked: fits */
		return (double)*iv;
	}
	if (*p == '.') {
		const char *f = ++p;

		k = gp_digits(f, end);
		p += k;
		if (nd == 0 && exact) /* skip the fraction's leading zeros */
			while (k > 0 && *f == '0') {
				f++;
				k--;
				dexp--;
			}
		if (k > 19 - nd) {
			for (const char *z = f + (19 - nd); z < f + k; z++)
				exact &= *z == '0';
			k = 19 - nd;
		}
		m = gp_acc(m, f, k);
		dexp -= (long)k;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		bool eneg = false;
		long ex = 0;

		p++;
		if (*p == '+' || *p == '-')
			eneg = *p++ == '-';
		for (; p < end && *p >= '0' && *p <= '9'; p++)
			if (ex < 1000000)
				ex = ex * 10 + (*p - '0');
		dexp += eneg ? -ex : ex;
	}
	*pp = p;
	if (m == 0 && exact)
		return neg ? -0.0 : 0.0;
	if (exact && m <= ((uint64_t)1 << 53) && dexp >= -22 && dexp <= 22) {
		double v = (double)m;

		v = dexp < 0 ? v / gp_pow10[-dexp] : v * gp_pow10[dexp];
		return neg ? -v : v;
	}
	memcpy(numbuf, s, (size_t)(p - s));
	numbuf[p - s] = '\0';
	return strtod(numbuf, NULL);
}

/* Pass 2: the value of the checked number at *pp (left after it), by
 * gp_conv unless it is an integer or a plain decimal of at most 15
 * digits (then m < 2^53 and Clinger's fast path is exact). */
static inline double gp_value(const char **pp, const char *end, char *numbuf)
{
	const char *p = *pp, *d;
	bool neg = *p == '-', is_int;
	size_t ni, nf = 0;
	uint64_t m;
	int64_t iv;
	double v;

	d = p + neg;
	ni = gp_digits(d, end);
	p = d + ni;
	if (ni > 15)
		return gp_conv(pp, end, numbuf, &is_int, &iv);
	m = gp_acc(0, d, ni);
	if (p < end && *p == '.') {
		nf = gp_digits(p + 1, end);
		if (ni + nf > 15)
			return gp_conv(pp, end, numbuf, &is_int, &iv);
		m = gp_acc(m, p + 1, nf);
		p += 1 + nf;
	}
	if (p < end && (*p == 'e' || *p == 'E'))
		return gp_conv(pp, end, numbuf, &is_int, &iv);
	*pp = p;
	if (nf == 0 && (p == d + ni)) /* an integer: through int64, -0 is 0 */
		return neg ? (double)-(int64_t)m : (double)m;
	v = (double)m / gp_pow10[nf];
	return neg ? -v : v;
}

/*
 * Pass 1, checking and converting at once: a number of at most 15
 * digits, without exponent ("-"? int ("." frac)?).  Its mantissa m < 10^15
 * < 2^53 and fraction digits nf <= 15, so m / 10^nf is exact by Clinger's
 * rule.  The end of the token, or NULL when gp_number must decide.
 */
static inline const char *gp_short(struct gp *g, const char *p, uint64_t *m, size_t *nf)
{
	const char *d = p + (*p == '-'), *q, *end = g->end;
	size_t ni;

	*nf = 0;
	if (d >= end)
		return NULL;
	if (*d == '0') {
		ni = 1;
		*m = 0;
	} else {
		ni = gp_digits(d, end);
		if (ni == 0 || ni > 15)
			return NULL;
		*m = gp_acc(0, d, ni);
	}
	q = d + ni;
	if (q < end && *q == '.') {
		*nf = gp_digits(q + 1, end);
		if (*nf == 0 || ni + *nf > 15)
			return NULL;
		*m = gp_acc(*m, q + 1, *nf);
		q += 1 + *nf;
	}
	if (q < end && (*q == 'e' || *q == 'E'))
		return NULL;
	if ((size_t)(q - p) > g->maxnum)
		g->maxnum = (size_t)(q - p);
	return q;
}

/* The double of a gp_short number: an integer as jansson reads it (-0 is
 * 0), a decimal as strtod does. */
static inline double gp_short_value(const char *p, uint64_t m, size_t nf)
{
	double v;

	if (nf == 0) {
		if (*p != '-')
			return (double)m;
		return m ? -(double)m : 0.0;
	}
	v = (double)m / gp_pow10[nf];
	return *p == '-' ? -v : v;
}

/* ---- objects, arrays, any value ---- */

static uint64_t gp_hash(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
	return h;
}

/* Remember a key of the innermost open object (pass 1 only). */
static int gp_key_push(struct gp *g, const struct gp_str *s)
{
	struct gp_key *k;

	if (g->apply)
		return 0;
	if (g->nkeys == g->akeys) {
		struct gp_key *v = grow(g->keys, &g->akeys, g->nkeys + 1, sizeof(*v));

		if (!v)
			return gp_nomem(g);
		g->keys = v;
	}
	k = &g->keys[g->nkeys++];
	k->len = s->len;
	k->esc = s->esc;
	if (!s->esc) {
		k->off = s->off;
		k->h = gp_hash(g->b + s->off, s->len);
		return 0;
	}
	if (gp_reserve(&g->arena, g->larena + s->len + 1))
		return gp_nomem(g);
	gp_unescape(g, s, g->arena.p + g->larena);
	k->off = g->larena;
	k->h = gp_hash(g->arena.p + g->larena, s->len);
	g->larena += s->len;
	return 0;
}

static int gp_key_cmp(const void *a, const void *b)
{
	const struct gp_key *x = a, *y = b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->p, y->p, x->len);
}

/*
 * The object whose keys start at keys[base] ended at p: refuse a
 * duplicate key, then drop its keys (and their arena bytes).
 */
static int gp_keys_end(struct gp *g, size_t base, size_t arena, const char *p)
{
	size_t n = g->nkeys - base;
	struct gp_key *k;
	bool dup = false;

	if (g->apply || n == 0)
		return 0;
	k = g->keys + base;
	for (size_t i = 0; i < n; i++)
		k[i].p = k[i].esc ? g->arena.p + k[i].off : g->b + k[i].off;
	if (n <= 8) {
		for (size_t i = 0; i < n && !dup; i++)
			for (size_t j = i + 1; j < n && !dup; j++)
				dup = gp_key_cmp(&k[i], &k[j]) == 0;
	} else {
		qsort(k, n, sizeof(*k), gp_key_cmp);
		for (size_t i = 1; i < n && !dup; i++)
			dup = gp_key_cmp(&k[i - 1], &k[i]) == 0;
	}
	g->nkeys = base;
	g->larena = arena;
	if (dup)
		return gp_syntax(g, p, "duplicate object key");
	return 0;
}

/*
 * Step through an array (close ']') or object (close '}') whose opener
 * was consumed: 1 with *pp at the next element or key, 0 after the
 * closing character, or an error.  *first is true before the first one.
 */
static inline int gp_next(struct gp *g, const char **pp, bool *first, char close)
{
	const char *p = gp_ws(*pp, g->end), *end = g->end;

	if (p < end && *p == close) {
		*pp = p + 1;
		return 0;
	}
	if (!*first) {
		if (p >= end || *p != ',')
			return gp_syntax(g, p, close == ']' ? "',' or ']' expected"
							 : "',' or '}' expected");
		p = gp_ws(p + 1, end);
	}
	*first = false;
	if (p >= end)
		return gp_syntax(g, p, "premature end of input");
	*pp = p;
	return 1;
}

static inline int gp_arr_next(struct gp *g, const char **pp, bool *first)
{
	return gp_next(g, pp, first, ']');
}

/* gp_next for an object, then its key (in *key): *pp ends at the value. */
static int gp_obj_next(struct gp *g, const char **pp, struct gp_str *key, bool *first)
{
	const char *p = *pp, *end = g->end;
	int rc = gp_next(g, &p, first, '}');

	if (rc != 1) {
		*pp = p;
		return rc;
	}
	if (*p != '"')
		return gp_syntax(g, p, "string expected");
	if (gp_string(g, &p, key) || gp_key_push(g, key))
		return g->rc;
	p = gp_ws(p, end);
	if (p >= end || *p != ':')
		return gp_syntax(g, p, "':' expected");
	p = gp_ws(p + 1, end);
	if (p >= end)
		return gp_syntax(g, p, "premature end of input");
	*pp = p;
	return 1;
}

/* Read and check any value at *pp, at nesting depth depth (the root is 1). */
static int gp_skip(struct gp *g, const char **pp, int depth)
{
	const char *p = *pp, *end = g->end;
	struct gp_str s;
	struct gp_num n;
	bool first = true;
	int rc;

	if (depth > JSON_PARSER_MAX_DEPTH)
		return gp_syntax(g, p, "maximum parsing depth reached");
	if (p >= end)
		return gp_syntax(g, p, "premature end of input");
	switch (*p) {
	case '"':
		rc = gp_string(g, pp, &s);
		return rc;
	case '{': {
		size_t base = g->nkeys, arena = g->larena;

		p++;
		while ((rc = gp_obj_next(g, &p, &s, &first)) == 1)
			if (gp_skip(g, &p, depth + 1))
				return g->rc;
		if (rc)
			return rc;
		*pp = p;
		return gp_keys_end(g, base, arena, p);
	}
	case '[':
		p++;
		while ((rc = gp_arr_next(g, &p, &first)) == 1)
			if (gp_skip(g, &p, depth + 1))
				return g->rc;
		*pp = p;
		return rc;
	case 't':
		if (end - p >= 4 && memcmp(p, "true", 4) == 0) {
			*pp = p + 4;
			return 0;
		}
		break;
	case 'f':
		if (end - p >= 5 && memcmp(p, "false", 5) == 0) {
			*pp = p + 5;
			return 0;
		}
		break;
	case 'n':
		if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
			*pp = p + 4;
			return 0;
		}
		break;
	default:
		if (*p == '-' || (*p >= '0' && *p <= '9'))
			return gp_number(g, pp, &n);
		break;
	}
	return gp_syntax(g, p, "invalid token");
}

static bool gp_null(const char *p, const char *end)
{
	return end - p >= 4 && memcmp(p, "null", 4) == 0;
}

/* ---- the page's members ---- */

/*
 * A Messages array at *pp ('['), at depth depth: *ok when it is what the
 * tree parser accepted (at most CW_CW_MAX_RESULTS objects whose Code and
 * Value are absent, null or strings).
 */
static int gp_messages_check(struct gp *g, const char **pp, int depth, bool *ok)
{
	const char *p = *pp + 1;
	bool first = true;
	size_t count = 0;
	int rc;

	*ok = true;
	while ((rc = gp_arr_next(g, &p, &first)) == 1) {
		size_t base = g->nkeys, arena = g->larena;
		struct gp_str key;
		bool ofirst = true;

		count++;
		if (*p != '{') {
			*ok = false;
			if (gp_skip(g, &p, depth + 1))
				return g->rc;
			continue;
		}
		p++;
		while ((rc = gp_obj_next(g, &p, &key, &ofirst)) == 1) {
			if ((gp_is(g, &key, "Code") || gp_is(g, &key, "Value")) && *p != '"' &&
			    !gp_null(p, g->end))
				*ok = false;
			if (gp_skip(g, &p, depth + 2))
				return g->rc;
		}
		if (rc || gp_keys_end(g, base, arena, p))
			return g->rc;
	}
	if (count > CW_CW_MAX_RESULTS)
		*ok = false;
	*pp = p;
	return rc;
}

/* What pass 1 learnt of one result, checked in the tree parser's order. */
struct gp_check {
	bool obj, id;               /* an object; Id is a string */
	size_t qi;                  /* query index, or GP_NONE */
	bool st_bad, type_bad;
	size_t nts, nvs;            /* array lengths (0 when absent) */
	size_t bad_ts, bad_vs;      /* first bad element, or GP_NONE */
};

static int gp_result_verdict(struct gp *g, const struct gp_check *c, struct gp_res *res,
			     size_t idx, size_t nr, const size_t *map, size_t nq)
{
	char *e = g->res_err;
	size_t el = sizeof(g->res_err), k;

	if (!c->obj || !c->id)
		return cw_fail(e, el, CW_EPARSE,
			       "GetMetricData response: MetricDataResults[%zu]: no Id", idx);
	if (c->st_bad)
		return cw_fail(e, el, CW_EPARSE,
			       "GetMetricData response: MetricDataResults[%zu]: unknown StatusCode",
			       idx);
	if (c->type_bad)
		return cw_fail(e, el, CW_EPARSE,
			       "GetMetricData response: MetricDataResults[%zu]: bad member type",
			       idx);
	if (c->nts != c->nvs)
		return cw_fail(e, el, CW_EPARSE,
			       "GetMetricData response: MetricDataResults[%zu]: %zu timestamps "
			       "but %zu values", idx, c->nts, c->nvs);
	if (c->nts > CW_CW_MAX_POINTS)
		return cw_fail(e, el, CW_ETOOBIG,
			       "GetMetricData response: MetricDataResults[%zu]: over %zu points",
			       idx, CW_CW_MAX_POINTS);
	k = c->bad_ts < c->bad_vs ? c->bad_ts : c->bad_vs;
	if (k != GP_NONE)
		return cw_fail(e, el, CW_EPARSE,
			       "GetMetricData response: MetricDataResults[%zu]: point %zu: "
			       "bad timestamp or value", idx, k);
	res->n = c->nts;
	res->slot = GP_NONE;
	if (c->qi == GP_NONE || c->qi >= nq)
		return 0; /* not ours: ignored, counted */
	res->slot = map ? map[c->qi] : c->qi;
	if (res->slot >= nr)
		return cw_fail(e, el, CW_EINVAL,
			       "GetMetricData: query %zu maps to result %zu of %zu", c->qi,
			       res->slot, nr);
	return 0;
}

/*
 * A timestamp at *pp (left after it): an epoch integer, a real epoch
 * (floor) within +-1e13, or an ISO 8601 / epoch string.  0 and *t; 1 when
 * it is none of those (then *pp is unchanged unless it was a string or a
 * number); or an error.  In pass 2 nothing fails.
 */
static int gp_timestamp(struct gp *g, const char **pp, int64_t *t)
{
	const char *p = *pp;
	bool is_int;
	double d;

	if (*p == '"') {
		struct gp_str s;
		const char *txt;

		if (gp_string(g, pp, &s))
			return g->rc;
		txt = gp_text(g, &s, &g->s1);
		if (!txt)
			return gp_nomem(g);
		return cw_time_parse_n(txt, s.len, t) ? 1 : 0;
	}
	if (*p != '-' && (*p < '0' || *p > '9'))
		return 1;
	if (!g->apply) {
		const char *q = p;
		struct gp_num n;

		if (gp_number(g, &q, &n))
			return g->rc;
		if (gp_reserve(&g->s2, (size_t)(n.e - n.s) + 1))
			return gp_nomem(g);
	}
	d = gp_conv(pp, g->end, g->s2.p, &is_int, t);
	if (is_int)
		return 0;
	if (!isfinite(d) || d < -GP_TS_MAX || d > GP_TS_MAX)
		return 1;
	*t = (int64_t)floor(d);
	return 0;
}

/* Pass 1 over one array member of a result (Timestamps or Values) at *pp
 * ('['): count its elements and note the first bad one. */
static int gp_points_check(struct gp *g, const char **pp, bool ts, size_t *count,
			   size_t *bad)
{
	const char *p = *pp + 1;
	bool first = true;
	size_t k = 0;
	int rc;

	*bad = GP_NONE;
	for (; (rc = gp_arr_next(g, &p, &first)) == 1; k++) {
		const char *q = NULL;
		int v = 0;

		if (*p == '-' || (*p >= '0' && *p <= '9')) {
			uint64_t m;
			size_t nf;

			q = gp_short(g, p, &m, &nf);
			if (q && ts && nf > 0)
				q = NULL; /* a real timestamp: gp_timestamp checks its range */
			else if (q && ts && k < GP_TBUF)
				g->tbuf[k] = *p == '-' ? -(int64_t)m : (int64_t)m;
		}
		if (q) {
			p = q;
		} else if (ts) {
			int64_t t = 0;

			q = p;
			v = gp_timestamp(g, &q, &t);
			if (v < 0)
				return v;
			if (v == 0)
				p = q;
			else if (gp_skip(g, &p, 5))
				return g->rc;
			if (k < GP_TBUF)
				g->tbuf[k] = t;
		} else if (*p == '-' || (*p >= '0' && *p <= '9')) {
			struct gp_num n;

			if (gp_number(g, &p, &n))
				return g->rc;
		} else {
			v = 1;
			if (gp_skip(g, &p, 5))
				return g->rc;
		}
		if (v && *bad == GP_NONE)
			*bad = k;
	}
	*count = k;
	*pp = p;
	return rc;
}

/* The slot of t in s, or s->n when t is outside; *hint is the last slot
 * found (newest first, the next one is usually the slot below it). */
static inline size_t gp_slot(const struct cw_series *s, int64_t t, size_t *hint)
{
	uint64_t off, period = (uint64_t)s->period;
	size_t i = *hint - 1;

	/* what cw_series_put does to find the slot */
	if (s->n == 0 || t < s->start)
		return s->n;
	off = (uint64_t)t - (uint64_t)s->start;
	if (*hint == 0 || off < i * period || off - i * period >= period) {
		if (off / period >= s->n)
			return s->n;
		i = (size_t)(off / period);
	}
	*hint = i;
	return i;
}

/* Pass 2: the checked timestamp at *pt, leaving *pt after its ',' or ']'. */
static inline int64_t gp_ts_next(struct gp *g, const char **pt)
{
	const char *p = gp_ws(*pt, g->end), *d = p + (*p == '-'), *q;
	size_t ni = gp_digits(d, g->end);
	int64_t t = 0;

	q = d + ni;
	if (*p != '"' && ni <= 18 && (q >= g->end || (*q != '.' && *q != 'e' && *q != 'E'))) {
		uint64_t m = gp_acc(0, d, ni);

		t = *p == '-' ? -(int64_t)m : (int64_t)m;
		p = q;
	} else {
		gp_timestamp(g, &p, &t);
	}
	*pt = gp_ws(p, g->end) + 1;
	return t;
}

/* Undo what the fused path wrote for res: its slots were gaps before. */
static void gp_unfuse(struct gp *g, struct gp_res *res)
{
	struct cw_series *s = &g->r[res->slot].series;
	const char *pt = g->b + res->fts + 1;
	bool apply = g->apply;
	size_t hint = 0;

	g->apply = true;
	for (size_t k = 0; k < res->fused_m; k++) {
		size_t i = gp_slot(s, gp_ts_next(g, &pt), &hint);

		if (i < s->n)
			s->values[i] = NAN;
	}
	g->apply = apply;
	res->fused = false;
	res->fused_m = res->points = res->outside = 0;
}

/*
 * The fused path: the Values array at *pp ('[') of a result whose Id
 * (ours, slot res->slot) and whole Timestamps array (in g->tbuf) came
 * first, as CloudWatch sends them.  Checks it as gp_points_check does
 * and writes each point into a slot that was a gap, so one pass does
 * it all and an error can be undone (gp_unfuse).  A point for a slot
 * that holds a value (a repeated timestamp, an overlapping page) undoes
 * this result and leaves it, and every later one, to pass 2, which
 * applies them in page order.
 */
static int gp_fused(struct gp *g, const char **pp, struct gp_res *res, size_t nts,
		    size_t *count, size_t *bad)
{
	struct cw_series *s = &g->r[res->slot].series;
	const char *p = *pp + 1, *end = g->end;
	size_t k = 0, hint = 0;
	bool first = true;
	int rc;

	*bad = GP_NONE;
	res->fused = true;
	for (; (rc = gp_arr_next(g, &p, &first)) == 1; k++) {
		const char *q = NULL;
		double v = 0;

		if (*p == '-' || (*p >= '0' && *p <= '9')) {
			struct gp_num n;

			uint64_t m;
			size_t nf;

			q = gp_short(g, p, &m, &nf);
			if (q) {
				v = gp_short_value(p, m, nf);
				p = q;
			} else {
				q = p;
				if (gp_number(g, &q, &n))
					goto fail;
				if (gp_reserve(&g->s2, (size_t)(q - p) + 1)) {
					gp_nomem(g);
					goto fail;
				}
				v = gp_value(&p, end, g->s2.p);
			}
		} else {
			if (*bad == GP_NONE)
				*bad = k;
			if (gp_skip(g, &p, 5))
				goto fail;
		}
		if (res->fused && *bad == GP_NONE && k < nts) {
			size_t i = gp_slot(s, g->tbuf[k], &hint);

			if (i < s->n && !isnan(s->values[i])) {
				gp_unfuse(g, res); /* not a gap: pass 2 applies it */
				g->deferred = true;
			} else {
				if (i < s->n) {
					s->values[i] = v;
					res->points++;
				} else {
					res->outside++;
				}
				res->fused_m = k + 1;
			}
		}
	}
	if (rc)
		goto fail;
	*count = k;
	*pp = p;
	return 0;
fail:
	if (res->fused)
		gp_unfuse(g, res);
	return g->rc;
}

/* Whether the Values array just reached can take the fused path (then
 * res->slot is set). */
static bool gp_can_fuse(struct gp *g, const struct gp_check *c, struct gp_res *res,
			size_t idx, size_t nr, const size_t *map, size_t nq)
{
	size_t slot;

	if (g->deferred || g->res_rc || idx >= CW_CW_MAX_RESULTS || g->tbuf_of != idx ||
	    res->ts == GP_NONE || res->fused || !c->id || c->qi == GP_NONE || c->qi >= nq)
		return false;
	slot = map ? map[c->qi] : c->qi;
	if (slot >= nr)
		return false;
	res->slot = slot;
	res->fts = res->ts; /* a repeated key may move res->ts (then the page fails) */
	return true;
}

/* Pass 1 over MetricDataResults[idx] at *pp. */
static int gp_result_check(struct gp *g, const char **pp, size_t idx, size_t nr,
			   const size_t *map, size_t nq)
{
	struct gp_check c = { .qi = GP_NONE, .bad_ts = GP_NONE, .bad_vs = GP_NONE };
	struct gp_res res = { .slot = GP_NONE, .st = CW_GMD_COMPLETE, .ts = GP_NONE,
			      .vs = GP_NONE, .msgs = GP_NONE };
	size_t base = g->nkeys, arena = g->larena;
	const char *p = *pp;
	struct gp_str key;
	bool first = true;
	int rc;

	if (*p != '{') {
		if (gp_skip(g, pp, 3))
			goto fail;
		goto verdict;
	}
	c.obj = true;
	p++;
	while ((rc = gp_obj_next(g, &p, &key, &first)) == 1) {
		size_t at = (size_t)(p - g->b);

		if (gp_is(g, &key, "Id") && *p == '"') {
			struct gp_str s;
			const char *id;

			if (gp_string(g, &p, &s))
				goto fail;
			c.id = true;
			id = gp_text(g, &s, &g->s1);
			if (!id)
				{
				gp_nomem(g);
				goto fail;
			}
			if (cw_query_index(id, &c.qi))
				c.qi = GP_NONE;
			continue;
		}
		if (gp_is(g, &key, "StatusCode")) {
			if (*p == '"') {
				struct gp_str s;
				size_t i, ns = sizeof(gp_statuses) / sizeof(gp_statuses[0]);

				if (gp_string(g, &p, &s))
					goto fail;
				for (i = 0; i < ns && !gp_is(g, &s, gp_statuses[i].name); i++)
					;
				if (i < ns)
					res.st = gp_statuses[i].s;
				else
					c.st_bad = true;
				continue;
			}
			if (!gp_null(p, g->end))
				c.st_bad = true;
		} else if (gp_is(g, &key, "Timestamps") && *p == '[') {
			res.ts = at;
			if (gp_points_check(g, &p, true, &c.nts, &c.bad_ts))
				goto fail;
			g->tbuf_of = c.nts <= GP_TBUF && c.bad_ts == GP_NONE ? idx : GP_NONE;
			continue;
		} else if (gp_is(g, &key, "Values") && *p == '[') {
			res.vs = at;
			if (gp_can_fuse(g, &c, &res, idx, nr, map, nq)) {
				if (gp_fused(g, &p, &res, c.nts, &c.nvs, &c.bad_vs))
					goto fail;
			} else if (gp_points_check(g, &p, false, &c.nvs, &c.bad_vs)) {
				goto fail;
			}
			continue;
		} else if (gp_is(g, &key, "Messages") && *p == '[') {
			bool ok;

			res.msgs = at;
			if (gp_messages_check(g, &p, 4, &ok))
				goto fail;
			c.type_bad |= !ok;
			continue;
		} else if ((gp_is(g, &key, "Timestamps") || gp_is(g, &key, "Values") ||
			    gp_is(g, &key, "Messages")) && !gp_null(p, g->end)) {
			c.type_bad = true;
		}
		if (gp_skip(g, &p, 4))
			goto fail;
	}
	if (rc || gp_keys_end(g, base, arena, p))
		goto fail;
	*pp = p;
verdict:
	if (g->res_rc || idx >= CW_CW_MAX_RESULTS)
		return 0; /* an earlier result failed, or the page is over the cap */
	g->res_rc = gp_result_verdict(g, &c, &res, idx, nr, map, nq);
	if (g->res_rc) {
		if (res.fused)
			gp_unfuse(g, &res);
		return 0;
	}
	if (g->nres == g->ares) {
		struct gp_res *v = grow(g->res, &g->ares, g->nres + 1, sizeof(*v));

		if (!v) {
			gp_nomem(g);
			goto fail;
		}
		g->res = v;
	}
	if (!res.fused && res.n > 0 && res.slot != GP_NONE)
		g->deferred = true; /* later results must not pass it */
	g->res[g->nres++] = res;
	return 0;
fail:
	if (res.fused)
		gp_unfuse(g, &res);
	return g->rc;
}

/*
 * The page's root: 0 with *pp after its '{', or an error (a syntax error,
 * or "not a JSON object" for a well-formed array, as json_loadb and the
 * tree parser said).
 */
static int gp_root_open(struct gp *g, const char **pp)
{
	const char *p = gp_ws(g->b, g->end);

	if (p >= g->end || (*p != '{' && *p != '['))
		return gp_syntax(g, p, "'[' or '{' expected");
	if (*p == '[') {
		if (gp_skip(g, &p, 1))
			return g->rc;
		p = gp_ws(p, g->end);
		if (p < g->end)
			return gp_syntax(g, p, "end of input expected");
		return cw_fail(g->err, g->errlen, CW_EPARSE, "%s response: not a JSON object",
			       g->what);
	}
	*pp = p + 1;
	return 0;
}

/* After the root's members (rc of the last gp_obj_next, p after its '}'):
 * its keys unique and nothing but whitespace after it. */
static int gp_root_close(struct gp *g, int rc, const char *p)
{
	if (rc || gp_keys_end(g, 0, 0, p))
		return g->rc ? g->rc : rc;
	p = gp_ws(p, g->end);
	if (p < g->end)
		return gp_syntax(g, p, "end of input expected");
	return 0;
}

/* The page's NextToken: absent, null or a string of at most CW_CW_MAX_TOKEN
 * bytes (0), else the tree parser's error. */
static int gp_token_check(struct gp *g)
{
	if (g->tok_bad)
		return cw_fail(g->err, g->errlen, CW_EPARSE, "%s response: NextToken: not a string",
			       g->what);
	if (g->has_tok && g->tok.len > CW_CW_MAX_TOKEN)
		return cw_fail(g->err, g->errlen, CW_ETOOBIG,
			       "%s response: NextToken: over %zu bytes", g->what, CW_CW_MAX_TOKEN);
	return 0;
}

/* Pass 1 over the whole document. */
static int gp_check(struct gp *g, size_t nr, const size_t *map, size_t nq)
{
	const char *p;
	struct gp_str key;
	bool first = true;
	int rc;

	if ((rc = gp_root_open(g, &p)))
		return rc;
	while ((rc = gp_obj_next(g, &p, &key, &first)) == 1) {
		if (gp_is(g, &key, "MetricDataResults") && *p == '[') {
			bool afirst = true;

			p++;
			while ((rc = gp_arr_next(g, &p, &afirst)) == 1)
				if (gp_result_check(g, &p, g->results++, nr, map, nq))
					return g->rc;
			if (rc)
				return rc;
			continue;
		}
		if (gp_is(g, &key, "Messages") && *p == '[') {
			bool ok;

			g->msgs = (size_t)(p - g->b);
			if (gp_messages_check(g, &p, 2, &ok))
				return g->rc;
			g->root_bad |= !ok;
			continue;
		}
		if (gp_is(g, &key, "NextToken") && *p == '"') {
			if (gp_string(g, &p, &g->tok))
				return g->rc;
			g->has_tok = true;
			continue;
		}
		if (!gp_null(p, g->end)) {
			if (gp_is(g, &key, "MetricDataResults") || gp_is(g, &key, "Messages"))
				g->root_bad = true;
			else if (gp_is(g, &key, "NextToken"))
				g->tok_bad = true;
		}
		if (gp_skip(g, &p, 2))
			return g->rc;
	}
	if ((rc = gp_root_close(g, rc, p)))
		return rc;
	/* the shape, in the tree parser's order */
	if (g->root_bad)
		return cw_fail(g->err, g->errlen, CW_EPARSE,
			       "GetMetricData response: MetricDataResults or Messages: bad type");
	if (g->results > CW_CW_MAX_RESULTS)
		return cw_fail(g->err, g->errlen, CW_ETOOBIG,
			       "GetMetricData response: over %zu results", CW_CW_MAX_RESULTS);
	if ((rc = gp_token_check(g)))
		return rc;
	if (g->res_rc)
		return cw_fail(g->err, g->errlen, g->res_rc, "%s", g->res_err);
	/* pass 2 converts numbers of any length without failing */
	if (gp_reserve(&g->s2, g->maxnum + 1))
		return gp_nomem(g);
	return 0;
}

/* ---- pass 2 ---- */

/* "Code: Value; Code: Value" of the Messages array at off (capped as the
 * tree parser did), or NULL when none / ENOMEM. */
static char *gp_messages_join(struct gp *g, size_t off, size_t max_items)
{
	struct cw_buf b = CW_BUF_INIT;
	const char *p = g->b + off + 1;
	bool first = true;
	size_t i = 0;

	cw_buf_init(&b, CW_CW_MAX_MESSAGES);
	for (; gp_arr_next(g, &p, &first) == 1; i++) {
		const char *c = NULL, *v = NULL;
		struct gp_str key, s;
		bool ofirst = true;

		p++; /* '{': checked in pass 1 */
		while (gp_obj_next(g, &p, &key, &ofirst) == 1) {
			bool code = gp_is(g, &key, "Code");

			if (*p == '"' && (code || gp_is(g, &key, "Value"))) {
				gp_string(g, &p, &s);
				if (code)
					c = gp_text(g, &s, &g->s1);
				else
					v = gp_text(g, &s, &g->s2);
				continue;
			}
			gp_skip(g, &p, 0);
		}
		if (i >= max_items)
			break;
		if ((i > 0 && cw_buf_addstr(&b, "; ")) ||
		    cw_buf_printf(&b, "%s%s%s", c ? c : "", c && v ? ": " : "", v ? v : ""))
			break; /* over the cap: the buffer is gone */
	}
	if (b.len == 0) {
		cw_buf_release(&b);
		return NULL;
	}
	return cw_buf_detach(&b, NULL);
}

/* Write one result's points into dst.  Newest first is the usual order,
 * so the slot below the last one is tried before dividing. */
static void gp_apply_points(struct gp *g, struct cw_gmd_result *dst, const struct gp_res *res)
{
	struct cw_series *s = &dst->series;
	const char *pt = g->b + res->ts + 1, *pv = g->b + res->vs + 1, *end = g->end;
	size_t hint = 0;

	for (size_t k = 0; k < res->n; k++) {
		int64_t t = gp_ts_next(g, &pt);
		double v;
		size_t i;

		pv = gp_ws(pv, end);
		v = gp_value(&pv, end, g->s2.p);
		pv = gp_ws(pv, end) + 1;
		/* as cw_series_put(s, t, v, CW_COMBINE_LAST) (v is finite:
		 * pass 1 refused anything else) */
		i = gp_slot(s, t, &hint);
		if (i < s->n) {
			s->values[i] = v;
			dst->points++;
		} else {
			dst->outside++;
		}
	}
}

static void gp_apply(struct gp *g, struct cw_gmd_result *r, struct cw_gmd_page *page)
{
	g->apply = true;
	if (g->msgs != GP_NONE)
		page->messages = gp_messages_join(g, g->msgs, 20);
	page->results = g->results;
	for (size_t i = 0; i < g->nres; i++) {
		const struct gp_res *res = &g->res[i];
		struct cw_gmd_result *dst;

		if (res->slot == GP_NONE) {
			page->unknown++;
			continue;
		}
		dst = &r[res->slot];
		if (res->st == CW_GMD_INTERNAL_ERROR || res->st == CW_GMD_FORBIDDEN ||
		    (dst->status != CW_GMD_INTERNAL_ERROR && dst->status != CW_GMD_FORBIDDEN))
			dst->status = res->st;
		if (!dst->message && res->msgs != GP_NONE)
			dst->message = gp_messages_join(g, res->msgs, 1);
		if (res->fused) {
			dst->points += res->points;
			dst->outside += res->outside;
		} else if (res->n > 0) {
			gp_apply_points(g, dst, res);
		}
	}
}

/* A scanner over body for a `what` response ("GetMetricData", ...). */
static void gp_init(struct gp *g, const char *body, size_t len, const char *what, char *err,
		    size_t errlen)
{
	memset(g, 0, sizeof(*g));
	g->b = body;
	g->end = body + len;
	g->what = what;
	g->err = err;
	g->errlen = errlen;
	g->msgs = GP_NONE;
	g->tbuf_of = GP_NONE;
}

/* The page's NextToken into *out: new, NULL when there is none or it is "". */
static int gp_token(struct gp *g, char **out)
{
	*out = NULL;
	if (!g->has_tok || g->tok.len == 0)
		return 0;
	if (!(*out = malloc(g->tok.len + 1)))
		return gp_nomem(g);
	gp_unescape(g, &g->tok, *out);
	(*out)[g->tok.len] = '\0';
	return 0;
}

static void gp_release(struct gp *g)
{
	free(g->keys);
	free(g->arena.p);
	free(g->s1.p);
	free(g->s2.p);
	free(g->sk.p);
	free(g->res);
	free(g->tbuf);
}

int cw_gmd_accumulate(struct cw_gmd_result *r, size_t nr, const size_t *map, size_t nq,
		      const char *body, size_t len, struct cw_gmd_page *page,
		      char *err, size_t errlen)
{
	struct gp g;
	int rc;

	memset(page, 0, sizeof(*page));
	if (!body || len > CW_CW_MAX_BODY)
		return cw_fail(err, errlen, CW_ETOOBIG, "GetMetricData response: over %zu bytes",
			       CW_CW_MAX_BODY);
	gp_init(&g, body, len, "GetMetricData", err, errlen);
	g.r = r;
	g.tbuf = malloc(GP_TBUF * sizeof(*g.tbuf));
	rc = g.tbuf ? gp_check(&g, nr, map, nq) : gp_nomem(&g);
	if (!rc)
		rc = gp_token(&g, &page->next_token);
	if (!rc)
		gp_apply(&g, r, page);
	else
		for (size_t i = 0; i < g.nres; i++)
			if (g.res[i].fused)
				gp_unfuse(&g, &g.res[i]);
	gp_release(&g);
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

/*
 * ListMetrics pages go through the same scanner as GetMetricData pages:
 * the same strictness as json_loadb with JSON_REJECT_DUPLICATES, then the
 * shape the tree parser checked, in its order and with its messages (a
 * JSON object; Metrics absent, null or an array of at most
 * CW_CW_MAX_RESULTS objects whose Dimensions, when present, are an array
 * of objects with a string Name and an absent, null or string Value;
 * NextToken absent, null or a string of at most CW_CW_MAX_TOKEN bytes).
 * Each metric goes to the visitor as soon as it was read, while the page
 * is good so far; what the visitor kept goes once the page fails.
 */
struct lm_dim {
	struct gp_str name, value;
	bool has_value; /* Value is a string */
};

struct lm_scan {
	cw_lm_visit_fn visit;
	void *vctx;
	struct lm_dim *d;    /* the dimensions of the metric being read */
	size_t nd, ad;
	struct gp_scratch text; /* the metric's strings, unescaped, NUL-terminated */
	struct cw_lm_dim *dims; /* the dimensions as the visitor sees them */
	size_t av;
	bool metrics_bad;    /* Metrics: not an array */
	size_t count;        /* elements of Metrics */
	int shape_rc;        /* the first bad metric: code and message */
	char shape_err[CW_ERRBUF];
};

static void lm_shape(struct gp *g, struct lm_scan *ls, size_t i, size_t k, bool dim)
{
	if (ls->shape_rc)
		return;
	ls->shape_rc = CW_EPARSE;
	if (dim)
		snprintf(ls->shape_err, sizeof(ls->shape_err), "%s response: Metrics[%zu]."
			 "Dimensions[%zu]: bad shape", g->what, i, k);
	else
		snprintf(ls->shape_err, sizeof(ls->shape_err),
			 "%s response: Metrics[%zu]: bad shape", g->what, i);
}

/* One element of Dimensions at *pp (depth 5), into ls->d. */
static int lm_dim_read(struct gp *g, struct lm_scan *ls, const char **pp, size_t i, size_t k)
{
	const char *p = *pp;
	size_t base = g->nkeys, arena = g->larena;
	struct lm_dim dim = { .has_value = false };
	struct gp_str key;
	bool first = true, bad = false, name_ok = false;
	int rc;

	if (*p != '{') {
		lm_shape(g, ls, i, k, true);
		return gp_skip(g, pp, 5);
	}
	p++;
	while ((rc = gp_obj_next(g, &p, &key, &first)) == 1) {
		bool name = gp_is(g, &key, "Name"), value = !name && gp_is(g, &key, "Value");

		if ((name || value) && *p == '"') {
			if (gp_string(g, &p, name ? &dim.name : &dim.value))
				return g->rc;
			if (name)
				name_ok = true;
			else
				dim.has_value = true;
			continue;
		}
		if (name || (value && !gp_null(p, g->end)))
			bad = true;
		if (gp_skip(g, &p, 6))
			return g->rc;
	}
	if (rc || gp_keys_end(g, base, arena, p))
		return g->rc;
	*pp = p;
	if (bad || !name_ok) {
		lm_shape(g, ls, i, k, true);
		return 0;
	}
	if (ls->nd == ls->ad) {
		struct lm_dim *v = grow(ls->d, &ls->ad, ls->nd + 1, sizeof(*v));

		if (!v)
			return gp_nomem(g);
		ls->d = v;
	}
	ls->d[ls->nd++] = dim;
	return 0;
}

/* Unescape s into ls->text at *at (room was reserved); its start. */
static const char *lm_put(struct gp *g, struct lm_scan *ls, const struct gp_str *s, size_t *at)
{
	char *o = ls->text.p + *at;

	gp_unescape(g, s, o);
	o[s->len] = '\0';
	*at += s->len + 1;
	return o;
}

/* The metric just read, as C strings, to the visitor. */
static int lm_visit(struct gp *g, struct lm_scan *ls, const struct gp_str *ns,
		    const struct gp_str *name)
{
	struct cw_lm_metric m = { .ndims = ls->nd };
	size_t need = (ns ? ns->len + 1 : 0) + (name ? name->len + 1 : 0), at = 0;

	for (size_t k = 0; k < ls->nd; k++)
		need += ls->d[k].name.len + 1 + (ls->d[k].has_value ? ls->d[k].value.len + 1 : 0);
	if (gp_reserve(&ls->text, need + 1))
		return gp_nomem(g);
	if (ls->nd > ls->av) {
		struct cw_lm_dim *v = grow(ls->dims, &ls->av, ls->nd, sizeof(*v));

		if (!v)
			return gp_nomem(g);
		ls->dims = v;
	}
	m.namespace_ = ns ? lm_put(g, ls, ns, &at) : NULL;
	m.name = name ? lm_put(g, ls, name, &at) : NULL;
	for (size_t k = 0; k < ls->nd; k++) {
		const struct lm_dim *d = &ls->d[k];

		ls->dims[k].name = lm_put(g, ls, &d->name, &at);
		ls->dims[k].value = d->has_value ? lm_put(g, ls, &d->value, &at) : NULL;
		ls->dims[k].value_len = d->has_value ? d->value.len : 0;
	}
	m.dims = ls->dims;
	if (ls->visit(ls->vctx, &m))
		return gp_nomem(g);
	return 0;
}

/* One element of Metrics at *pp (depth 3), visited at once. */
static int lm_metric_read(struct gp *g, struct lm_scan *ls, const char **pp, size_t i)
{
	const char *p = *pp;
	size_t base = g->nkeys, arena = g->larena, k = 0;
	struct gp_str key, ns = { 0 }, name = { 0 };
	bool first = true, has_ns = false, has_name = false;
	int rc;

	if (*p != '{') {
		lm_shape(g, ls, i, 0, false);
		return gp_skip(g, pp, 3);
	}
	ls->nd = 0;
	p++;
	while ((rc = gp_obj_next(g, &p, &key, &first)) == 1) {
		if (*p == '"' && (gp_is(g, &key, "Namespace") || gp_is(g, &key, "MetricName"))) {
			bool is_ns = gp_is(g, &key, "Namespace");

			if (gp_string(g, &p, is_ns ? &ns : &name))
				return g->rc;
			*(is_ns ? &has_ns : &has_name) = true;
			continue;
		}
		if (gp_is(g, &key, "Dimensions")) {
			bool dfirst = true;

			if (*p != '[') {
				lm_shape(g, ls, i, 0, false);
				if (gp_skip(g, &p, 4))
					return g->rc;
				continue;
			}
			p++;
			while ((rc = gp_arr_next(g, &p, &dfirst)) == 1)
				if (lm_dim_read(g, ls, &p, i, k++))
					return g->rc;
			if (rc)
				return rc;
			continue;
		}
		if (gp_skip(g, &p, 4))
			return g->rc;
	}
	if (rc || gp_keys_end(g, base, arena, p))
		return g->rc;
	*pp = p;
	if (ls->shape_rc || ls->count > CW_CW_MAX_RESULTS)
		return 0; /* the page fails anyway */
	return lm_visit(g, ls, has_ns ? &ns : NULL, has_name ? &name : NULL);
}

/* The whole page; then the shape errors in the tree parser's order. */
static int lm_check(struct gp *g, struct lm_scan *ls)
{
	const char *p;
	struct gp_str key;
	bool first = true;
	int rc;

	if ((rc = gp_root_open(g, &p)))
		return rc;
	while ((rc = gp_obj_next(g, &p, &key, &first)) == 1) {
		if (gp_is(g, &key, "Metrics") && *p == '[') {
			bool afirst = true;

			p++;
			while ((rc = gp_arr_next(g, &p, &afirst)) == 1)
				if (lm_metric_read(g, ls, &p, ls->count++))
					return g->rc;
			if (rc)
				return rc;
			continue;
		}
		if (gp_is(g, &key, "NextToken") && *p == '"') {
			if (gp_string(g, &p, &g->tok))
				return g->rc;
			g->has_tok = true;
			continue;
		}
		if (!gp_null(p, g->end)) {
			if (gp_is(g, &key, "Metrics"))
				ls->metrics_bad = true;
			else if (gp_is(g, &key, "NextToken"))
				g->tok_bad = true;
		}
		if (gp_skip(g, &p, 2))
			return g->rc;
	}
	if ((rc = gp_root_close(g, rc, p)))
		return rc;
	if (ls->metrics_bad)
		return cw_fail(g->err, g->errlen, CW_EPARSE, "%s response: Metrics: not an array",
			       g->what);
	if (ls->count > CW_CW_MAX_RESULTS)
		return cw_fail(g->err, g->errlen, CW_ETOOBIG, "%s response: over %zu metrics",
			       g->what, CW_CW_MAX_RESULTS);
	if ((rc = gp_token_check(g)))
		return rc;
	if (ls->shape_rc)
		return cw_fail(g->err, g->errlen, ls->shape_rc, "%s", ls->shape_err);
	return 0;
}

int cw_lm_scan(const char *body, size_t len, cw_lm_visit_fn visit, void *ctx,
	       char **next_token, char *err, size_t errlen)
{
	struct lm_scan ls = { .visit = visit, .vctx = ctx };
	struct gp g;
	int rc;

	*next_token = NULL;
	if (!body || len > CW_CW_MAX_BODY)
		return cw_fail(err, errlen, CW_ETOOBIG, "ListMetrics response: over %zu bytes",
			       CW_CW_MAX_BODY);
	gp_init(&g, body, len, "ListMetrics", err, errlen);
	rc = lm_check(&g, &ls);
	if (!rc)
		rc = gp_token(&g, next_token);
	free(ls.d);
	free(ls.text.p);
	free(ls.dims);
	gp_release(&g);
	return rc;
}

/* ---- ListMetrics of one metric template ---------------------------------- */

struct lm_take {
	const struct cw_metric_def *m;
	char **fixed;        /* per template dimension: its value substituted, or NULL */
	char **names;        /* matched buckets (unsorted) */
	size_t n, alloc, skipped;
};

static bool str_eq(const char *s, const char *want)
{
	return s && want && strcmp(s, want) == 0;
}

/*
 * The bucket metric met names when its dimension set is exactly the
 * template's, else NULL; *blen its length.  Borrowed from met.
 */
static const char *lm_match(const struct lm_take *t, const struct cw_lm_metric *met,
			    size_t *blen)
{
	const struct cw_metric_def *m = t->m;
	const char *bucket = NULL;

	if (!str_eq(met->namespace_, m->namespace_) || !str_eq(met->name, m->name) ||
	    met->ndims != m->ndims)
		return NULL;
	for (size_t i = 0; i < m->ndims; i++) {
		const struct cw_dim_tmpl *d = &m->dims[i];
		const char *ph = d->value ? strstr(d->value, BUCKET_PH) : NULL;
		const char *val = NULL;
		size_t vlen = 0, seen = 0, pre, suf;

		for (size_t k = 0; k < met->ndims; k++)
			if (str_eq(met->dims[k].name, d->name)) {
				val = met->dims[k].value;
				vlen = met->dims[k].value_len;
				seen++;
			}
		if (seen != 1 || !val || !d->value)
			return NULL;
		if (!ph) {
			if (!str_eq(val, t->fixed[i]))
				return NULL;
			continue;
		}
		/* value = prefix {bucket} suffix */
		pre = (size_t)(ph - d->value);
		suf = strlen(ph + strlen(BUCKET_PH));
		if (vlen <= pre + suf || strncmp(val, d->value, pre) != 0 ||
		    strcmp(val + vlen - suf, ph + strlen(BUCKET_PH)) != 0 || bucket)
			return NULL;
		bucket = val + pre;
		*blen = vlen - pre - suf;
	}
	if (bucket && *blen > CW_CW_MAX_NAME)
		return NULL;
	return bucket;
}

static int lm_take_one(void *ctx, const struct cw_lm_metric *met)
{
	struct lm_take *t = ctx;
	const char *b;
	size_t blen = 0;

	if (!(b = lm_match(t, met, &blen))) {
		t->skipped++;
		return 0;
	}
	if (t->n == t->alloc) {
		char **v = grow(t->names, &t->alloc, t->n + 1, sizeof(*v));

		if (!v)
			return CW_ENOMEM;
		t->names = v;
	}
	if (!(t->names[t->n] = cw_strndup(b, blen)))
		return CW_ENOMEM;
	t->n++;
	return 0;
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
	struct lm_take t = { .m = m };
	struct cw_buf fixed = CW_BUF_INIT;
	int rc = 0;

	memset(page, 0, sizeof(*page));
	/* the fixed dimension values, substituted once for the page */
	t.fixed = calloc(m->ndims + 1, sizeof(*t.fixed));
	if (!t.fixed)
		rc = CW_ENOMEM;
	cw_buf_init(&fixed, 0);
	for (size_t i = 0; !rc && i < m->ndims; i++) {
		const char *v = m->dims[i].value;

		if (!v || strstr(v, BUCKET_PH))
			continue;
		if (subst(&fixed, v, NULL, account, region) ||
		    !(t.fixed[i] = cw_strdup(cw_buf_str(&fixed))))
			rc = CW_ENOMEM;
	}
	cw_buf_release(&fixed);
	if (rc)
		rc = cw_fail(err, errlen, CW_ENOMEM, "ListMetrics response: out of memory");
	else
		rc = cw_lm_scan(body, len, lm_take_one, &t, &page->next_token, err, errlen);
	if (!rc) {
		/* sort and drop duplicates */
		page->names = t.names;
		t.names = NULL;
		page->skipped = t.skipped;
		if (t.n > 1)
			qsort(page->names, t.n, sizeof(*page->names), cmp_str);
		for (size_t i = 0; i < t.n; i++) {
			if (page->n > 0 && strcmp(page->names[page->n - 1], page->names[i]) == 0) {
				free(page->names[i]);
				page->skipped++;
				continue;
			}
			page->names[page->n++] = page->names[i];
		}
		if (!page->names && !(page->names = calloc(1, sizeof(*page->names))))
			rc = cw_fail(err, errlen, CW_ENOMEM, "ListMetrics response: out of memory");
	}
	for (size_t i = 0; t.names && i < t.n; i++)
		free(t.names[i]);
	free(t.names);
	for (size_t i = 0; t.fixed && i < m->ndims; i++)
		free(t.fixed[i]);
	free(t.fixed);
	if (rc)
		cw_lm_page_release(page);
	return rc;
}
