/*
 * s3.c - S3 REST on the signed-call layer (see s3.h).
 */
#include "s3.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "creds.h"
#include "err.h"
#include "pager.h"
#include "sigv4.h"
#include "strutil.h"

static const char *env_get(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* The S3 general-purpose bucket name rules, enough to build a URL safely. */
static bool bucket_ok(const char *b)
{
	size_t n = b ? strlen(b) : 0;

	if (n < 3 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') ||
		      b[i] == '-' || b[i] == '.'))
			return false;
	return true;
}

int cw_s3_address(const struct cw_s3 *s3, const char *region, const char *bucket,
		  const char *key, char *endpoint, size_t elen, char *path, size_t plen,
		  bool *path_style, char *err, size_t errlen)
{
	const char *ign = env_get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	bool configured = (!(ign && cw_str_ieq(ign, "true")) &&
			   (env_get("AWS_ENDPOINT_URL_S3") || env_get("AWS_ENDPOINT_URL"))) ||
			  (s3->endpoint_url && *s3->endpoint_url);
	struct cw_buf kb = CW_BUF_INIT;
	int rc, n;

	if (!bucket_ok(bucket))
		return cw_fail(err, errlen, CW_EINVAL, "%s: not an S3 bucket name",
			       bucket ? bucket : "(none)");
	if (key && cw_uri_encode(&kb, key, strlen(key), true)) {
		cw_buf_release(&kb);
		return cw_fail(err, errlen, CW_ENOMEM, "out of memory");
	}
	*path_style = configured || strchr(bucket, '.') != NULL;
	if (configured) {
		rc = cw_endpoint_resolve("s3", region, s3->endpoint_url, endpoint, elen, err,
					 errlen);
		if (rc) {
			cw_buf_release(&kb);
			return rc;
		}
	} else {
		n = snprintf(endpoint, elen, "https://%s%ss3.%s.amazonaws.com%s",
			     *path_style ? "" : bucket, *path_style ? "" : ".", region,
			     cw_str_startswith(region, "cn-") ? ".cn" : "");
		if (n < 0 || (size_t)n >= elen) {
			cw_buf_release(&kb);
			return cw_fail(err, errlen, CW_EINVAL, "s3 endpoint too long");
		}
	}
	if (*path_style)
		n = snprintf(path, plen, "/%s%s%s", bucket, key ? "/" : "", key ? cw_buf_str(&kb) : "");
	else
		n = snprintf(path, plen, "/%s", key ? cw_buf_str(&kb) : "");
	cw_buf_release(&kb);
	if (n < 0 || (size_t)n >= plen)
		return cw_fail(err, errlen, CW_EINVAL, "s3 object key too long");
	return 0;
}

int cw_s3_call(struct cw_s3 *s3, const char *region, const char *method, const char *bucket,
	       const char *key, const char *query, const char *ctype, const void *body,
	       size_t len, struct cw_aws_response *resp, char *err, size_t errlen)
{
	return cw_s3_call_headers(s3, region, method, bucket, key, query, ctype, body, len,
				  NULL, 0, resp, err, errlen);
}

int cw_s3_call_headers(struct cw_s3 *s3, const char *region, const char *method,
		       const char *bucket, const char *key, const char *query,
		       const char *ctype, const void *body, size_t len,
		       const char *const *headers, size_t npairs,
		       struct cw_aws_response *resp, char *err, size_t errlen)
{
	char endpoint[512], path[2048], what[200];
	struct cw_aws_request req;
	bool ps;
	int rc;

	rc = cw_s3_address(s3, region, bucket, key, endpoint, sizeof(endpoint), path,
			   sizeof(path), &ps, err, errlen);
	if (rc)
		return rc;
	snprintf(what, sizeof(what), "s3 %s %s%s%s%s%s", method, bucket, key ? "/" : "",
		 key ? key : "", query && *query ? "?" : "", query ? query : "");
	memset(&req, 0, sizeof(req));
	req.service = "s3";
	req.region = region;
	req.endpoint = endpoint;
	req.proto = CW_PROTO_REST;
	req.method = method;
	req.path = path;
	req.query = query;
	req.content_type = ctype;
	req.body = body;
	req.body_len = body ? len : 0;
	req.extra_headers = headers;
	req.nextra_headers = npairs;
	req.what = what;
	return cw_aws_call(s3->aws, &req, s3->get_creds, s3->creds_ctx, resp, err, errlen);
}

static int metrics_query(const char *id, char *q, size_t n)
{
	struct cw_buf b = CW_BUF_INIT;
	int rc = cw_uri_encode(&b, id, strlen(id), false);

	/* sorted as SigV4 canonicalises it: id before metrics */
	if (!rc && snprintf(q, n, "id=%s&metrics=", cw_buf_str(&b)) >= (int)n)
		rc = CW_ETOOBIG;
	cw_buf_release(&b);
	return rc;
}

/* The <Id> of a <MetricsConfiguration> answer, parsed with libexpat. */
struct idx {
	int depth;
	bool in_id, root_ok;
	char id[256];
	size_t n;
};

static void XMLCALL x_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct idx *x = ud;
	const char *local = strrchr(name, ' ');

	local = local ? local + 1 : name;
	if (x->depth == 0)
		x->root_ok = strcmp(local, "MetricsConfiguration") == 0;
	x->in_id = x->depth == 1 && strcmp(local, "Id") == 0;
	if (x->in_id)
		x->n = 0;
	x->depth++;
}

static void XMLCALL x_end(void *ud, const XML_Char *name)
{
	struct idx *x = ud;

	x->depth--;
	x->in_id = false;
}

static void XMLCALL x_text(void *ud, const XML_Char *s, int len)
{
	struct idx *x = ud;

	for (int i = 0; x->in_id && i < len && x->n + 1 < sizeof(x->id); i++)
		x->id[x->n++] = s[i];
	x->id[x->n] = '\0';
}

bool cw_s3_metrics_config_is(const char *body, size_t len, const char *id)
{
	struct idx x;
	XML_Parser p = XML_ParserCreateNS(NULL, ' ');
	bool ok;

	if (!p)
		return false;
	memset(&x, 0, sizeof(x));
	XML_SetUserData(p, &x);
	XML_SetElementHandler(p, x_start, x_end);
	XML_SetCharacterDataHandler(p, x_text);
	ok = len < ((size_t)1 << 20) && XML_Parse(p, body ? body : "", (int)len, 1) == XML_STATUS_OK;
	XML_ParserFree(p);
	return ok && x.root_ok && strcmp(x.id, id) == 0;
}

int cw_s3_metrics_get(struct cw_s3 *s3, const char *region, const char *bucket,
		      const char *id, bool *exists, struct cw_aws_response *resp,
		      char *err, size_t errlen)
{
	char q[200];
	int rc;

	*exists = false;
	if (metrics_query(id, q, sizeof(q)))
		return cw_fail(err, errlen, CW_EINVAL, "metrics configuration id too long");
	rc = cw_s3_call(s3, region, "GET", bucket, NULL, q, NULL, NULL, 0, resp, err, errlen);
	if (rc == 0) {
		/* a configuration answers with its Id; an empty 200 (as some
		 * emulators give) is no configuration */
		*exists = cw_s3_metrics_config_is(resp->body.data, resp->body.len, id);
		return 0;
	}
	if (rc == CW_EAWS && (strcmp(resp->code, "NoSuchConfiguration") == 0 ||
			      (resp->status == 404 && !resp->code[0])))
		return 0;
	return rc;
}

int cw_s3_metrics_put(struct cw_s3 *s3, const char *region, const char *bucket,
		      const char *id, struct cw_aws_response *resp, char *err, size_t errlen)
{
	struct cw_buf body = CW_BUF_INIT;
	char q[200];
	int rc;

	for (const char *p = id; *p; p++)
		if (*p == '<' || *p == '&' || *p == '>' || (unsigned char)*p < 0x20)
			return cw_fail(err, errlen, CW_EINVAL, "metrics configuration id: "
				       "characters that need XML escaping");
	if (metrics_query(id, q, sizeof(q)))
		return cw_fail(err, errlen, CW_EINVAL, "metrics configuration id too long");
	cw_buf_printf(&body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		      "<MetricsConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		      "<Id>%s</Id></MetricsConfiguration>\n", id);
	if (!body.data)
		return cw_fail(err, errlen, CW_ENOMEM, "out of memory");
	rc = cw_s3_call(s3, region, "PUT", bucket, NULL, q, "application/xml", body.data,
			body.len, resp, err, errlen);
	cw_buf_release(&body);
	return rc;
}

/* The ambient chain as a cw_creds_fn (one thread). */
static int ambient_fn(void *ctx, bool force_refresh, struct cw_creds *out, char *err,
		      size_t errlen)
{
	return cw_creds_provider_get(ctx, force_refresh, out, err, errlen);
}

int cw_s3_session_open(struct cw_s3_session *s, const struct cw_s3_session_opts *o,
		       char *err, size_t errlen)
{
	struct cw_aws_opts ao;
	struct cw_creds_opts co;
	int rc;

	memset(s, 0, sizeof(*s));
	memset(&ao, 0, sizeof(ao));
	ao.max_attempts = o->max_attempts;
	ao.max_response = o->max_response;
	if (cw_aws_ctx_new(&s->ctx, &ao) || cw_aws_client_new(&s->client, s->ctx)) {
		cw_s3_session_close(s);
		return cw_fail(err, errlen, CW_ENOMEM, "cannot set up the AWS client");
	}
	memset(&co, 0, sizeof(co));
	co.profile = o->profile;
	co.aws = s->ctx;
	co.sts_region = o->sts_region;
	co.endpoint_url = o->endpoint_url;
	co.session_name = o->session_name;
	if ((rc = cw_creds_provider_new(&s->ambient, &co, err, errlen))) {
		cw_s3_session_close(s);
		return rc;
	}
	s->s3.aws = s->client;
	s->s3.endpoint_url = o->endpoint_url;
	s->s3.get_creds = ambient_fn;
	s->s3.creds_ctx = s->ambient;
	return 0;
}

void cw_s3_session_close(struct cw_s3_session *s)
{
	cw_creds_provider_free(s->ambient);
	cw_aws_client_free(s->client);
	cw_aws_ctx_free(s->ctx);
	memset(s, 0, sizeof(*s));
}

int cw_s3_url_parse(const char *url, char *bucket, size_t blen, char *prefix, size_t plen,
		    char *err, size_t errlen)
{
	const char *s, *slash;
	size_t n;

	if (!url || strncmp(url, "s3://", 5) != 0)
		return cw_fail(err, errlen, CW_EINVAL, "want s3://BUCKET/PREFIX/, got \"%.80s\"",
			       url ? url : "");
	s = url + 5;
	slash = strchr(s, '/');
	n = slash ? (size_t)(slash - s) : strlen(s);
	if (n >= blen)
		return cw_fail(err, errlen, CW_EINVAL, "%.80s: not an S3 bucket name", s);
	memcpy(bucket, s, n);
	bucket[n] = '\0';
	if (!bucket_ok(bucket))
		return cw_fail(err, errlen, CW_EINVAL, "bucket \"%.80s\": not an S3 bucket name "
			       "(3-63 characters: a-z, 0-9, '-' and '.')", bucket);
	s = slash ? slash + 1 : "";
	n = strlen(s);
	while (n && s[n - 1] == '/')
		n--;
	if (n >= plen || n > 900)
		return cw_fail(err, errlen, CW_EINVAL, "%s: prefix too long", url);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return cw_fail(err, errlen, CW_EINVAL, "prefix: control characters");
	memcpy(prefix, s, n);
	prefix[n] = '\0';
	return 0;
}

/* ---- ListObjectsV2 ------------------------------------------------------ */

/* Longest key S3 stores, and a bound for the opaque continuation token. */
#define KEY_MAX 1024
#define TOKEN_MAX 4096

enum lfield { LF_NONE, LF_TRUNC, LF_TOKEN, LF_KEY, LF_SIZE };

struct lparse {
	XML_Parser p;
	struct cw_s3_list_page *page;
	int depth;
	bool root_ok, in_contents, have_key, have_size, have_trunc;
	enum lfield field;
	char text[TOKEN_MAX + 1];
	size_t n;
	bool overflow;
	const char *bad; /* first problem found, static */
};

static const char *local_name(const char *name)
{
	const char *l = strrchr(name, ' ');

	return l ? l + 1 : name;
}

static void lfail(struct lparse *x, const char *why)
{
	if (!x->bad)
		x->bad = why;
	XML_StopParser(x->p, XML_FALSE);
}

static void XMLCALL l_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct lparse *x = ud;
	const char *l = local_name(name);

	(void)attrs;
	if (x->bad)
		return;
	if (x->field != LF_NONE) {
		lfail(x, "an element inside a text field");
		return;
	}
	if (x->depth == 0) {
		x->root_ok = strcmp(l, "ListBucketResult") == 0;
		if (!x->root_ok)
			lfail(x, "not a <ListBucketResult>");
	} else if (x->depth == 1) {
		if (strcmp(l, "Contents") == 0) {
			struct cw_s3_object *grown;

			if (x->page->n >= CW_S3_LIST_MAX_KEYS) {
				lfail(x, "more than 1000 <Contents> in one page");
				return;
			}
			grown = realloc(x->page->objs, (x->page->n + 1) * sizeof(*grown));
			if (!grown) {
				lfail(x, "out of memory");
				return;
			}
			x->page->objs = grown;
			grown[x->page->n].key = NULL;
			grown[x->page->n].size = -1;
			x->page->n++;
			x->in_contents = true;
			x->have_key = x->have_size = false;
		} else if (strcmp(l, "IsTruncated") == 0) {
			x->field = LF_TRUNC;
		} else if (strcmp(l, "NextContinuationToken") == 0) {
			x->field = LF_TOKEN;
		}
	} else if (x->depth == 2 && x->in_contents) {
		if (strcmp(l, "Key") == 0)
			x->field = LF_KEY;
		else if (strcmp(l, "Size") == 0)
			x->field = LF_SIZE;
	}
	x->n = 0;
	x->overflow = false;
	x->depth++;
}

static void end_field(struct lparse *x)
{
	struct cw_s3_object *o = x->page->n ? &x->page->objs[x->page->n - 1] : NULL;
	long long v;

	x->text[x->n] = '\0';
	if (x->overflow) {
		lfail(x, x->field == LF_TOKEN ? "NextContinuationToken too long"
			 : x->field == LF_KEY ? "Key longer than 1024 bytes" : "field too long");
		return;
	}
	switch (x->field) {
	case LF_TRUNC:
		if (x->have_trunc)
			lfail(x, "IsTruncated given twice");
		else if (strcmp(x->text, "true") == 0)
			x->page->truncated = true;
		else if (strcmp(x->text, "false") != 0)
			lfail(x, "IsTruncated is neither true nor false");
		x->have_trunc = true;
		break;
	case LF_TOKEN:
		if (x->page->next_token)
			lfail(x, "NextContinuationToken given twice");
		else if (x->n == 0)
			lfail(x, "empty NextContinuationToken");
		else if (!(x->page->next_token = cw_strdup(x->text)))
			lfail(x, "out of memory");
		break;
	case LF_KEY:
		if (x->have_key) {
			lfail(x, "a <Contents> with two <Key>");
			break;
		}
		if (x->n == 0 || x->n > KEY_MAX) {
			lfail(x, "Key empty or longer than 1024 bytes");
			break;
		}
		for (size_t i = 0; i < x->n; i++)
			if ((unsigned char)x->text[i] < 0x20 || x->text[i] == 0x7f) {
				lfail(x, "Key with control characters");
				return;
			}
		if (!(o->key = cw_strdup(x->text)))
			lfail(x, "out of memory");
		x->have_key = true;
		break;
	case LF_SIZE:
		for (size_t i = 0; i < x->n; i++)
			if (x->text[i] < '0' || x->text[i] > '9') {
				lfail(x, "Size is not a decimal number");
				return;
			}
		if (x->have_size || x->n == 0 || cw_parse_i64(x->text, 0, INT64_MAX, &v)) {
			lfail(x, "Size missing, given twice or out of range");
			break;
		}
		o->size = (int64_t)v;
		x->have_size = true;
		break;
	case LF_NONE:
		break;
	}
}

static void XMLCALL l_end(void *ud, const XML_Char *name)
{
	struct lparse *x = ud;

	(void)name;
	if (x->bad)
		return;
	x->depth--;
	if (x->field != LF_NONE && (x->depth == 1 || x->depth == 2)) {
		end_field(x);
		x->field = LF_NONE;
	} else if (x->depth == 1 && x->in_contents) {
		if (!x->have_key || !x->have_size)
			lfail(x, "a <Contents> without <Key> or <Size>");
		x->in_contents = false;
	}
}

static void XMLCALL l_text(void *ud, const XML_Char *s, int len)
{
	struct lparse *x = ud;
	size_t cap = x->field == LF_KEY ? KEY_MAX : x->field == LF_TOKEN ? TOKEN_MAX : 64;

	if (x->field == LF_NONE || x->bad)
		return;
	if (x->n + (size_t)len > cap) {
		x->overflow = true;
		return;
	}
	memcpy(x->text + x->n, s, (size_t)len);
	x->n += (size_t)len;
}

void cw_s3_list_page_release(struct cw_s3_list_page *p)
{
	cw_s3_objects_free(p->objs, p->n);
	free(p->next_token);
	memset(p, 0, sizeof(*p));
}

void cw_s3_objects_free(struct cw_s3_object *objs, size_t n)
{
	for (size_t i = 0; objs && i < n; i++)
		free(objs[i].key);
	free(objs);
}

/* No DTD (so no entity expansion): a listing never has one. */
static void XMLCALL l_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
			      const XML_Char *pubid, int has_internal)
{
	(void)name; (void)sysid; (void)pubid; (void)has_internal;
	lfail(ud, "a DOCTYPE in the answer");
}

int cw_s3_list_parse(const char *body, size_t len, struct cw_s3_list_page *page,
		     char *err, size_t errlen)
{
	struct lparse x;
	enum XML_Status st;

	memset(page, 0, sizeof(*page));
	if (len > ((size_t)16 << 20))
		return cw_fail(err, errlen, CW_EPARSE, "ListObjectsV2: answer larger than 16 MiB");
	memset(&x, 0, sizeof(x));
	x.page = page;
	x.p = XML_ParserCreateNS(NULL, ' ');
	if (!x.p)
		return cw_fail(err, errlen, CW_ENOMEM, "out of memory");
	XML_SetUserData(x.p, &x);
	XML_SetElementHandler(x.p, l_start, l_end);
	XML_SetCharacterDataHandler(x.p, l_text);
	XML_SetStartDoctypeDeclHandler(x.p, l_doctype);
	st = XML_Parse(x.p, body ? body : "", (int)len, 1);
	if (!x.bad && st != XML_STATUS_OK)
		x.bad = XML_ErrorString(XML_GetErrorCode(x.p));
	if (!x.bad && !x.root_ok)
		x.bad = "not a <ListBucketResult>";
	if (!x.bad && !x.have_trunc)
		x.bad = "no <IsTruncated>";
	if (!x.bad && page->truncated && !page->next_token)
		x.bad = "IsTruncated true without a NextContinuationToken";
	XML_ParserFree(x.p);
	if (x.bad) {
		cw_s3_list_page_release(page);
		return cw_fail(err, errlen, CW_EPARSE, "ListObjectsV2: malformed answer: %s", x.bad);
	}
	if (!page->truncated) { /* a token on the last page means nothing */
		free(page->next_token);
		page->next_token = NULL;
	}
	return 0;
}

/* The listing's query, its parameters sorted as SigV4 canonicalises them. */
static int list_query(struct cw_buf *q, const char *prefix, const char *token)
{
	int rc = 0;

	cw_buf_reset(q);
	if (token) {
		rc = cw_buf_addstr(q, "continuation-token=");
		if (!rc)
			rc = cw_uri_encode(q, token, strlen(token), false);
		if (!rc)
			rc = cw_buf_addch(q, '&');
	}
	if (!rc)
		rc = cw_buf_printf(q, "list-type=2&max-keys=%d&prefix=", CW_S3_LIST_MAX_KEYS);
	if (!rc)
		rc = cw_uri_encode(q, prefix, strlen(prefix), false);
	return rc;
}

int cw_s3_list(struct cw_s3 *s3, const char *region, const char *bucket, const char *prefix,
	       size_t max_objects, struct cw_s3_object **objs, size_t *n,
	       struct cw_aws_response *resp, char *err, size_t errlen)
{
	struct cw_buf q = CW_BUF_INIT;
	struct cw_pager pg;
	char *token = NULL;
	int rc;

	*objs = NULL;
	*n = 0;
	cw_pager_init(&pg, 0);
	do {
		struct cw_s3_list_page page;
		struct cw_s3_object *grown;

		if (list_query(&q, prefix, token)) {
			rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
			break;
		}
		cw_aws_response_release(resp);
		cw_aws_response_init(resp);
		rc = cw_s3_call(s3, region, "GET", bucket, NULL, cw_buf_str(&q), NULL, NULL, 0,
				resp, err, errlen);
		if (rc)
			break;
		rc = cw_s3_list_parse(resp->body.data, resp->body.len, &page, err, errlen);
		if (rc)
			break;
		if (*n + page.n > max_objects) {
			cw_s3_list_page_release(&page);
			rc = cw_fail(err, errlen, CW_ETOOBIG, "more than %zu objects under "
				     "s3://%s/%s", max_objects, bucket, prefix);
			break;
		}
		grown = page.n ? realloc(*objs, (*n + page.n) * sizeof(*grown)) : *objs;
		if (page.n && !grown) {
			cw_s3_list_page_release(&page);
			rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
			break;
		}
		*objs = grown;
		if (page.n)
			memcpy(*objs + *n, page.objs, page.n * sizeof(*grown));
		*n += page.n;
		free(page.objs);
		page.objs = NULL;
		page.n = 0;
		free(token);
		token = page.next_token; /* NULL on the last page */
		page.next_token = NULL;
		rc = cw_pager_next(&pg, token, "s3 ListObjectsV2", err, errlen);
	} while (rc == 0 && token);
	free(token);
	cw_pager_release(&pg);
	cw_buf_release(&q);
	if (rc) {
		cw_s3_objects_free(*objs, *n);
		*objs = NULL;
		*n = 0;
	}
	return rc;
}

int cw_s3_get_object(struct cw_s3 *s3, const char *region, const char *bucket,
		     const char *key, struct cw_aws_response *resp, char *err, size_t errlen)
{
	return cw_s3_call(s3, region, "GET", bucket, key, NULL, NULL, NULL, 0, resp, err, errlen);
}
