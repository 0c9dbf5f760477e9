/*
 * sts.c - STS AssumeRole / AssumeRoleWithWebIdentity: form bodies, the
 * call, and the XML answer read with libexpat.
 *
 * The parser tracks the element path (namespace-aware, local names only)
 * and keeps the text of the few leaves it wants; a DOCTYPE is refused, a
 * field seen twice or missing is an error.  Nothing here is shared between
 * threads.
 */
#include "sts.h"

#include <ctype.h>
#include <expat.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "strutil.h"
#include "timeutil.h"

/* ---- errors ------------------------------------------------------------- */

void cw_sts_error_init(struct cw_sts_error *e)
{
	memset(e, 0, sizeof(*e));
}

void cw_sts_error_format(const struct cw_sts_error *e, char *out, size_t outlen)
{
	if (!out || !outlen)
		return;
	if (e->code[0])
		snprintf(out, outlen, "%s %s: %s: %s", e->stage, e->role_arn, e->code,
			 e->message[0] ? e->message : "(no message)");
	else
		snprintf(out, outlen, "%s %s: %s", e->stage, e->role_arn, e->message);
}

bool cw_sts_code_permanent(const char *code)
{
	static const char *const perm[] = {
		"AccessDenied", "AccessDeniedException", "InvalidClientTokenId",
		"RegionDisabledException", "ValidationError", "InvalidParameterValue",
		"MalformedPolicyDocument", "PackedPolicyTooLarge", "IDPRejectedClaim",
		"InvalidIdentityToken", "SignatureDoesNotMatch", "UnrecognizedClientException",
		"AuthFailure", "OptInRequired", "InvalidAction", "NoSuchEntity",
		NULL,
	};
	if (!code)
		return false;
	for (size_t i = 0; perm[i]; i++)
		if (strcmp(code, perm[i]) == 0)
			return true;
	return false;
}

/* ---- form bodies -------------------------------------------------------- */

int cw_sts_form_encode(struct cw_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p && !rc; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			rc = cw_buf_addch(b, (char)*p);
		} else {
			char enc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			rc = cw_buf_add(b, enc, 3);
		}
	}
	return rc;
}

static bool is_word(unsigned char c)
{
	return isalnum(c) || c == '_';
}

/* s matches [\w<extra>]{min,max} (ASCII \w, as STS documents it). */
static bool matches_set(const char *s, const char *extra, size_t min, size_t max)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++)
		if (!is_word(*p) && !strchr(extra, *p))
			return false;
	return n >= min && n <= max;
}

static int form_param(struct cw_buf *b, const char *name, const char *value)
{
	int rc = cw_buf_addch(b, '&');

	if (!rc)
		rc = cw_buf_addstr(b, name);
	if (!rc)
		rc = cw_buf_addch(b, '=');
	if (!rc)
		rc = cw_sts_form_encode(b, value);
	return rc;
}

static bool role_arn_ok(const char *arn)
{
	/* arn:PARTITION:iam::ACCOUNT:role/NAME; the inventory checks it fully. */
	const char *p;

	if (!cw_str_startswith(arn, "arn:aws"))
		return false;
	p = strstr(arn, ":iam::");
	if (!p || strlen(p) < 6 + 12 + 6)
		return false;
	for (int i = 0; i < 12; i++)
		if (!isdigit((unsigned char)p[6 + i]))
			return false;
	if (!cw_str_startswith(p + 18, ":role/"))
		return false;
	for (const char *q = arn; *q; q++)
		if ((unsigned char)*q <= ' ' || (unsigned char)*q >= 0x7f)
			return false;
	return strlen(arn) <= 2048;
}

int cw_sts_form_body(struct cw_buf *b, const struct cw_sts_request *req,
		     char *err, size_t errlen)
{
	bool web = req->web_identity_token != NULL;
	char dur[16];
	int rc;

	if (!req->role_arn || !role_arn_ok(req->role_arn))
		return cw_fail(err, errlen, CW_EINVAL, "RoleArn: not an IAM role ARN");
	if (!req->session_name || !matches_set(req->session_name, "+=,.@-", 2, 64))
		return cw_fail(err, errlen, CW_EINVAL,
			       "RoleSessionName: must be 2 to 64 of [A-Za-z0-9_+=,.@-]");
	if (req->external_id && !matches_set(req->external_id, "+=,.@:/-", 2, 1224))
		return cw_fail(err, errlen, CW_EINVAL,
			       "ExternalId: must be 2 to 1224 of [A-Za-z0-9_+=,.@:/-]");
	if (req->duration_seconds &&
	    (req->duration_seconds < 900 || req->duration_seconds > 43200))
		return cw_fail(err, errlen, CW_EINVAL,
			       "DurationSeconds: %d is outside 900..43200", req->duration_seconds);
	if (web) {
		size_t n = strlen(req->web_identity_token);

		if (n < 4 || n > 20000)
			return cw_fail(err, errlen, CW_EINVAL,
				       "WebIdentityToken: length %zu is outside 4..20000", n);
		if (req->external_id)
			return cw_fail(err, errlen, CW_EINVAL,
				       "ExternalId: not accepted by AssumeRoleWithWebIdentity");
	}

	rc = cw_buf_addstr(b, web ? "Action=AssumeRoleWithWebIdentity" : "Action=AssumeRole");
	if (!rc)
		rc = form_param(b, "Version", CW_STS_VERSION);
	if (!rc)
		rc = form_param(b, "RoleArn", req->role_arn);
	if (!rc)
		rc = form_param(b, "RoleSessionName", req->session_name);
	if (!rc && req->external_id)
		rc = form_param(b, "ExternalId", req->external_id);
	if (!rc && req->duration_seconds) {
		snprintf(dur, sizeof(dur), "%d", req->duration_seconds);
		rc = form_param(b, "DurationSeconds", dur);
	}
	if (!rc && web)
		rc = form_param(b, "WebIdentityToken", req->web_identity_token);
	if (rc)
		return cw_fail(err, errlen, rc, "sts request body: %s", cw_strerror(rc));
	return 0;
}

/* ---- the XML answer ----------------------------------------------------- */

enum sts_field {
	F_AKID, F_SECRET, F_TOKEN, F_EXP, F_ERR_CODE, F_ERR_MSG, F_NFIELDS
};

static const char *const field_names[F_NFIELDS] = {
	"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration", "Code", "Message",
};

#define STS_PATH_DEPTH 4
#define STS_NAME_MAX 64

struct sts_parse {
	XML_Parser xp;
	int depth;                               /* 1 = inside the root element */
	char path[STS_PATH_DEPTH][STS_NAME_MAX]; /* local names of the open elements */
	int field;                               /* enum sts_field captured now, or -1 */
	bool seen[F_NFIELDS];
	struct cw_buf val[F_NFIELDS];
	bool success_doc, error_doc;
	char problem[160];                       /* set when the handlers stopped the parse */
};

static const char *local_name(const char *name)
{
	const char *bar = strrchr(name, '|'); /* "namespace-uri|local" */

	return bar ? bar + 1 : name;
}

static void sts_stop(struct sts_parse *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sts_stop(struct sts_parse *ps, const char *fmt, ...)
{
	va_list ap;

	if (!ps->problem[0]) {
		va_start(ap, fmt);
		vsnprintf(ps->problem, sizeof(ps->problem), fmt, ap);
		va_end(ap);
	}
	XML_StopParser(ps->xp, XML_FALSE);
}

/* Which field the element at depth 4 (success) or 3 (error) is, or -1. */
static int sts_match(const struct sts_parse *ps, const char *leaf)
{
	const char (*p)[STS_NAME_MAX] = ps->path;

	if (ps->depth == 4 && strcmp(p[2], "Credentials") == 0 &&
	    ((strcmp(p[0], "AssumeRoleResponse") == 0 &&
	      strcmp(p[1], "AssumeRoleResult") == 0) ||
	     (strcmp(p[0], "AssumeRoleWithWebIdentityResponse") == 0 &&
	      strcmp(p[1], "AssumeRoleWithWebIdentityResult") == 0))) {
		for (int f = F_AKID; f <= F_EXP; f++)
			if (strcmp(leaf, field_names[f]) == 0)
				return f;
	}
	if (ps->depth == 3 && strcmp(p[0], "ErrorResponse") == 0 &&
	    strcmp(p[1], "Error") == 0) {
		for (int f = F_ERR_CODE; f <= F_ERR_MSG; f++)
			if (strcmp(leaf, field_names[f]) == 0)
				return f;
	}
	/* Some Query services wrap errors as Response/Errors/Error. */
	if (ps->depth == 4 && strcmp(p[0], "Response") == 0 &&
	    strcmp(p[1], "Errors") == 0 && strcmp(p[2], "Error") == 0) {
		for (int f = F_ERR_CODE; f <= F_ERR_MSG; f++)
			if (strcmp(leaf, field_names[f]) == 0)
				return f;
	}
	return -1;
}

static void XMLCALL sts_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct sts_parse *ps = ud;
	const char *leaf = local_name(name);

	(void)attrs;
	if (ps->field >= 0) {
		sts_stop(ps, "unexpected element inside %s", field_names[ps->field]);
		return;
	}
	ps->depth++;
	if (ps->depth <= STS_PATH_DEPTH) {
		if (strlen(leaf) >= STS_NAME_MAX)
			leaf = "?";
		cw_strlcpy(ps->path[ps->depth - 1], leaf, STS_NAME_MAX);
	}
	if (ps->depth == 1) {
		ps->success_doc = strcmp(leaf, "AssumeRoleResponse") == 0 ||
				  strcmp(leaf, "AssumeRoleWithWebIdentityResponse") == 0;
		ps->error_doc = strcmp(leaf, "ErrorResponse") == 0 ||
				strcmp(leaf, "Response") == 0;
	}
	ps->field = sts_match(ps, leaf);
	if (ps->field >= 0) {
		if (ps->seen[ps->field]) {
			sts_stop(ps, "%s appears twice", field_names[ps->field]);
			return;
		}
		ps->seen[ps->field] = true;
	}
}

static void XMLCALL sts_end(void *ud, const XML_Char *name)
{
	struct sts_parse *ps = ud;

	(void)name;
	ps->field = -1;
	ps->depth--;
}

static void XMLCALL sts_text(void *ud, const XML_Char *s, int len)
{
	struct sts_parse *ps = ud;

	if (ps->field < 0 || len <= 0)
		return;
	if (cw_buf_add(&ps->val[ps->field], s, (size_t)len))
		sts_stop(ps, "%s is too large", field_names[ps->field]);
}

static void XMLCALL sts_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
				const XML_Char *pubid, int has_internal_subset)
{
	(void)name; (void)sysid; (void)pubid; (void)has_internal_subset;
	sts_stop(ud, "%s", "a DOCTYPE is not allowed");
}

/* Trimmed view of a captured value. */
static const char *trimmed(struct cw_buf *b, size_t *n)
{
	char *s = b->data ? b->data : (char *)"";
	size_t len = b->len;

	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	*n = len;
	return s;
}

/* Visible ASCII only: these go into HTTP headers. */
static bool header_safe(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* Copy a message-ish value: control characters become spaces. */
static void copy_text(char *dst, size_t dstlen, const char *s, size_t n)
{
	size_t i;

	if (!dstlen)
		return;
	for (i = 0; i < n && i + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[i] = (c < ' ' || c == 0x7f) ? ' ' : (char)c;
	}
	dst[i] = '\0';
}

static void sts_parse_release(struct sts_parse *ps)
{
	for (int f = 0; f < F_NFIELDS; f++) {
		if (ps->val[f].data)
			cw_wipe(ps->val[f].data, ps->val[f].alloc);
		cw_buf_release(&ps->val[f]);
	}
	if (ps->xp)
		XML_ParserFree(ps->xp);
}

/* Run expat over the document; 0 or CW_EPARSE/CW_ENOMEM with err set. */
static int sts_parse_run(struct sts_parse *ps, const char *xml, size_t len,
			 char *err, size_t errlen)
{
	memset(ps, 0, sizeof(*ps));
	ps->field = -1;
	for (int f = 0; f < F_NFIELDS; f++)
		cw_buf_init(&ps->val[f], len + 1);
	if (len > INT_MAX)
		return cw_fail(err, errlen, CW_ETOOBIG, "sts response: %zu bytes is too large",
			       len);
	ps->xp = XML_ParserCreateNS("UTF-8", '|');
	if (!ps->xp)
		return cw_fail(err, errlen, CW_ENOMEM, "sts response: out of memory");
	XML_SetUserData(ps->xp, ps);
	XML_SetElementHandler(ps->xp, sts_start, sts_end);
	XML_SetCharacterDataHandler(ps->xp, sts_text);
	XML_SetStartDoctypeDeclHandler(ps->xp, sts_doctype);
	if (XML_Parse(ps->xp, xml ? xml : "", (int)len, XML_TRUE) != XML_STATUS_OK) {
		if (ps->problem[0])
			return cw_fail(err, errlen, CW_EPARSE, "sts response: %s", ps->problem);
		return cw_fail(err, errlen, CW_EPARSE,
			       "sts response: malformed xml at line %lu: %s",
			       (unsigned long)XML_GetCurrentLineNumber(ps->xp),
			       XML_ErrorString(XML_GetErrorCode(ps->xp)));
	}
	return 0;
}

int cw_sts_parse_error(const char *xml, size_t len, char *code, size_t codelen,
		       char *message, size_t msglen)
{
	struct sts_parse ps;
	const char *s;
	size_t n;
	int rc = sts_parse_run(&ps, xml, len, NULL, 0);

	if (!rc && (!ps.error_doc || !ps.seen[F_ERR_CODE]))
		rc = CW_EPARSE;
	if (!rc) {
		s = trimmed(&ps.val[F_ERR_CODE], &n);
		copy_text(code, codelen, s, n);
		s = trimmed(&ps.val[F_ERR_MSG], &n);
		copy_text(message, msglen, s, n);
	}
	sts_parse_release(&ps);
	return rc;
}

int cw_sts_parse_credentials(const char *xml, size_t len, struct cw_creds *out,
			     char *err, size_t errlen)
{
	struct sts_parse ps;
	const char *s;
	size_t n;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = sts_parse_run(&ps, xml, len, err, errlen);
	if (rc)
		goto out;
	if (ps.error_doc && ps.seen[F_ERR_CODE]) {
		char code[128], msg[512];

		s = trimmed(&ps.val[F_ERR_CODE], &n);
		copy_text(code, sizeof(code), s, n);
		s = trimmed(&ps.val[F_ERR_MSG], &n);
		copy_text(msg, sizeof(msg), s, n);
		rc = cw_fail(err, errlen, CW_EAWS, "%s: %s", code, msg[0] ? msg : "(no message)");
		goto out;
	}
	if (!ps.success_doc) {
		rc = cw_fail(err, errlen, CW_EPARSE,
			     "sts response: root element is not AssumeRoleResponse");
		goto out;
	}
	for (int f = F_AKID; f <= F_EXP; f++) {
		s = trimmed(&ps.val[f], &n);
		if (!ps.seen[f] || n == 0) {
			rc = cw_fail(err, errlen, CW_EPARSE, "sts response: Credentials/%s missing",
				     field_names[f]);
			goto out;
		}
		if (f != F_EXP && !header_safe(s, n)) {
			rc = cw_fail(err, errlen, CW_EPARSE,
				     "sts response: Credentials/%s has invalid characters",
				     field_names[f]);
			goto out;
		}
	}
	s = trimmed(&ps.val[F_AKID], &n);
	if (n >= sizeof(out->access_key)) {
		rc = cw_fail(err, errlen, CW_EPARSE, "sts response: AccessKeyId is too long");
		goto out;
	}
	memcpy(out->access_key, s, n);
	s = trimmed(&ps.val[F_SECRET], &n);
	if (n >= sizeof(out->secret_key)) {
		rc = cw_fail(err, errlen, CW_EPARSE, "sts response: SecretAccessKey is too long");
		goto out;
	}
	memcpy(out->secret_key, s, n);
	s = trimmed(&ps.val[F_TOKEN], &n);
	out->session_token = cw_strndup(s, n);
	if (!out->session_token) {
		rc = cw_fail(err, errlen, CW_ENOMEM, "sts response: out of memory");
		goto out;
	}
	s = trimmed(&ps.val[F_EXP], &n);
	if (cw_time_parse_n(s, n, &out->expiration) || out->expiration <= 0) {
		char shown[48];

		copy_text(shown, sizeof(shown), s, n);
		rc = cw_fail(err, errlen, CW_EPARSE, "sts response: Expiration: not a time: %s",
			     shown);
		goto out;
	}
	cw_strlcpy(out->source, "assume-role", sizeof(out->source));
out:
	if (rc)
		cw_creds_release(out);
	sts_parse_release(&ps);
	return rc;
}

/* ---- the call ----------------------------------------------------------- */

int cw_sts_assume_role(struct cw_aws_client *c, const struct cw_sts_request *req,
		       cw_creds_fn get_creds, void *creds_ctx, struct cw_creds *out,
		       struct cw_sts_error *e)
{
	bool web = req->web_identity_token != NULL;
	const char *region = req->region ? req->region : "us-east-1";
	struct cw_buf body = CW_BUF_INIT;
	struct cw_aws_response resp;
	struct cw_aws_request ar;
	char endpoint[512], what[320], err[CW_ERRBUF];
	int rc;

	memset(out, 0, sizeof(*out));
	cw_sts_error_init(e);
	cw_aws_response_init(&resp);
	cw_strlcpy(e->stage, web ? "assume-role-with-web-identity" : "assume-role",
		   sizeof(e->stage));
	cw_strlcpy(e->role_arn, req->role_arn ? req->role_arn : "(no role)",
		   sizeof(e->role_arn));

	rc = cw_sts_form_body(&body, req, e->message, sizeof(e->message));
	if (rc) {
		e->permanent = rc == CW_EINVAL;
		goto out;
	}
	rc = cw_endpoint_resolve("sts", region, req->endpoint_url, endpoint, sizeof(endpoint),
				 e->message, sizeof(e->message));
	if (rc) {
		e->permanent = true;
		goto out;
	}
	snprintf(what, sizeof(what), "%s %s", web ? "AssumeRoleWithWebIdentity" : "AssumeRole",
		 e->role_arn);
	memset(&ar, 0, sizeof(ar));
	ar.service = "sts";
	ar.region = region;
	ar.endpoint = endpoint;
	ar.proto = CW_PROTO_QUERY;
	ar.body = cw_buf_str(&body);
	ar.body_len = body.len;
	ar.unsigned_request = web;
	ar.what = what;
	ar.pacer = req->pacer;
	err[0] = '\0';
	rc = cw_aws_call(c, &ar, web ? NULL : get_creds, web ? NULL : creds_ctx, &resp,
			 err, sizeof(err));
	if (rc == CW_EAWS) {
		if (resp.code[0]) {
			cw_strlcpy(e->code, resp.code, sizeof(e->code));
			cw_strlcpy(e->message, resp.message, sizeof(e->message));
		} else if (cw_sts_parse_error(resp.body.data, resp.body.len, e->code,
					      sizeof(e->code), e->message,
					      sizeof(e->message)) != 0) {
			snprintf(e->code, sizeof(e->code), "HTTP%ld", resp.status);
			cw_strlcpy(e->message, err, sizeof(e->message));
		}
		e->permanent = cw_sts_code_permanent(e->code);
		goto out;
	}
	if (rc) {
		cw_strlcpy(e->message, err[0] ? err : cw_strerror(rc), sizeof(e->message));
		goto out;
	}
	rc = cw_sts_parse_credentials(resp.body.data, resp.body.len, out, e->message,
				      sizeof(e->message));
	if (rc == CW_EAWS) /* an error document with a 2xx status */
		cw_strlcpy(e->code, "ErrorResponse", sizeof(e->code));
	if (!rc)
		cw_strlcpy(out->source, web ? "web-identity" : "assume-role", sizeof(out->source));
out:
	if (rc) {
		e->rc = rc;
		memset(out, 0, sizeof(*out));
	}
	if (body.data)
		cw_wipe(body.data, body.len); /* may hold a web identity token */
	cw_buf_release(&body);
	if (resp.body.data)
		cw_wipe(resp.body.data, resp.body.len); /* held the new secrets */
	cw_aws_response_release(&resp);
	return rc;
}
