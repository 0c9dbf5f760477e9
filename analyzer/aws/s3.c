/*
 * s3.c - S3 REST on the signed-call layer (see s3.h).
 */
#include "s3.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
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
