/*
 * creds_sso.c - IAM Identity Center (SSO) profiles: the cached token and
 * the portal's GetRoleCredentials (see creds_sso.h).
 */
#include "creds_sso.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomicio.h"
#include "buf.h"
#include "err.h"
#include "http.h"
#include "sigv4.h"
#include "strutil.h"
#include "timeutil.h"

#define SSO_FILE_MAX ((size_t)64 << 10)
#define SSO_TIMEOUT_MS 10000

void cw_sso_cache_key(const char *key, char out[41])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	static const char hex[] = "0123456789abcdef";

	EVP_Digest(key, strlen(key), md, &n, EVP_sha1(), NULL);
	for (unsigned int i = 0; i < n && i < 20; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[40] = '\0';
}

static const char *env_get(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static int64_t now_s(const struct cw_creds_opts *o)
{
	return o && o->now ? o->now(o->env) : cw_time_now();
}

/* The token `aws sso login` cached, into tok (owned, wipe it). */
static int read_token(const struct cw_creds_opts *o, const struct cw_sso_config *c,
		      char **tok, char *err, size_t errlen)
{
	const char *home = env_get("HOME");
	char key[41], path[1200], disp[1200], iso[CW_TIME_ISO_LEN];
	char *data = NULL;
	size_t len = 0;
	json_t *root = NULL;
	const char *at, *exp;
	int64_t expires;
	int rc;

	*tok = NULL;
	cw_sso_cache_key(c->session ? c->session : c->start_url, key);
	snprintf(path, sizeof(path), "%s/.aws/sso/cache/%s.json", home ? home : "", key);
	snprintf(disp, sizeof(disp), "~/.aws/sso/cache/%s.json", key);
	rc = cw_read_file(path, SSO_FILE_MAX, &data, &len, err, errlen);
	if (rc)
		return cw_fail(err, errlen, CW_EAUTH, "profile \"%s\": no cached SSO token (%s); "
			       "run aws sso login --profile %s", c->profile, disp, c->profile);
	root = json_loadb(data, len, 0, NULL);
	cw_wipe(data, len);
	free(data);
	at = json_string_value(json_object_get(root, "accessToken"));
	exp = json_string_value(json_object_get(root, "expiresAt"));
	if (!json_is_object(root) || !at || !*at || !exp) {
		rc = cw_fail(err, errlen, CW_EAUTH, "profile \"%s\": %s is not an SSO token "
			     "cache file; run aws sso login --profile %s", c->profile, disp,
			     c->profile);
		goto out;
	}
	{
		/* the CLI v1 wrote "2019-11-14T04:05:45UTC" */
		char t[64];
		size_t n;

		cw_strlcpy(t, exp, sizeof(t));
		n = strlen(t);
		if (n > 3 && strcmp(t + n - 3, "UTC") == 0)
			memcpy(t + n - 3, "Z", 2);
		if (cw_time_parse(t, &expires)) {
			rc = cw_fail(err, errlen, CW_EAUTH, "profile \"%s\": %s: expiresAt is not a "
				     "time; run aws sso login --profile %s", c->profile, disp,
				     c->profile);
			goto out;
		}
	}
	if (expires <= now_s(o)) {
		rc = cw_fail(err, errlen, CW_EAUTH, "profile \"%s\": the SSO token expired at %s; "
			     "run aws sso login --profile %s", c->profile,
			     cw_time_iso(expires, iso, sizeof(iso)), c->profile);
		goto out;
	}
	for (const char *p = at; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
			rc = cw_fail(err, errlen, CW_EAUTH, "profile \"%s\": %s: the access token "
				     "is malformed; run aws sso login --profile %s", c->profile,
				     disp, c->profile);
			goto out;
		}
	*tok = cw_strdup(at);
	rc = *tok ? 0 : cw_fail(err, errlen, CW_ENOMEM, "out of memory");
out:
	if (at)
		cw_wipe((char *)at, strlen(at));
	json_decref(root);
	return rc;
}

/* The portal's base URL, without a trailing slash. */
static int portal_url(const struct cw_creds_opts *o, const char *region, char *out,
		      size_t outlen, char *err, size_t errlen)
{
	const char *ign = env_get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	bool configured = !(ign && cw_str_ieq(ign, "true")) &&
			  (env_get("AWS_ENDPOINT_URL_SSO") || env_get("AWS_ENDPOINT_URL"));

	if (configured || (o->endpoint_url && *o->endpoint_url))
		return cw_endpoint_resolve("sso", region, o->endpoint_url, out, outlen, err,
					   errlen);
	snprintf(out, outlen, "https://portal.sso.%s.amazonaws.com%s", region,
		 cw_str_startswith(region, "cn-") ? ".cn" : "");
	return 0;
}

static void url_escape(const char *s, struct cw_buf *b)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || strchr("-_.~", ch)) {
			cw_buf_addch(b, *s);
		} else {
			char e[3] = { '%', hex[ch >> 4], hex[ch & 15] };

			cw_buf_add(b, e, 3);
		}
	}
}

/* Non-empty visible ASCII: keys and tokens go into HTTP headers. */
static bool visible(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

int cw_sso_parse_role_credentials(const char *profile, const char *body, size_t len,
				  struct cw_creds *out, char *err, size_t errlen)
{
	json_t *root = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, NULL);
	json_t *rc_ = json_object_get(root, "roleCredentials");
	const char *akid = json_string_value(json_object_get(rc_, "accessKeyId"));
	const char *secret = json_string_value(json_object_get(rc_, "secretAccessKey"));
	const char *token = json_string_value(json_object_get(rc_, "sessionToken"));
	json_t *exp = json_object_get(rc_, "expiration");
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!visible(akid) || !visible(secret) || !visible(token) || !json_is_integer(exp) ||
	    json_integer_value(exp) <= 0 ||
	    strlen(akid) >= sizeof(out->access_key) || strlen(secret) >= sizeof(out->secret_key)) {
		rc = cw_fail(err, errlen, CW_EPARSE, "profile \"%s\": the SSO portal's answer "
			     "holds no role credentials", profile);
		goto out;
	}
	cw_strlcpy(out->access_key, akid, sizeof(out->access_key));
	cw_strlcpy(out->secret_key, secret, sizeof(out->secret_key));
	out->session_token = cw_strdup(token);
	if (!out->session_token) {
		rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
		goto out;
	}
	out->expiration = (int64_t)(json_integer_value(exp) / 1000); /* milliseconds */
	snprintf(out->source, sizeof(out->source), "sso:%s", profile);
out:
	if (secret)
		cw_wipe((char *)secret, strlen(secret));
	if (token)
		cw_wipe((char *)token, strlen(token));
	json_decref(root);
	if (rc)
		cw_creds_release(out);
	return rc;
}

int cw_creds_from_sso(const struct cw_creds_opts *o, const struct cw_sso_config *c,
		      struct cw_creds *out, char *err, size_t errlen)
{
	struct cw_http_opts ho;
	struct cw_http *h = NULL;
	struct cw_http_request req;
	struct cw_http_response resp;
	struct cw_http_header hdr[2];
	struct cw_buf url;
	char base[1024], *tok = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	cw_http_response_init(&resp);
	cw_buf_init(&url, 4096);
	if (!c->start_url || !c->region || !c->account_id || !c->role_name) {
		const char *miss = !c->start_url ? "sso_start_url" : !c->region ? "sso_region" :
				   !c->account_id ? "sso_account_id" : "sso_role_name";

		rc = cw_fail(err, errlen, CW_EINVAL, "profile \"%s\": %s is missing%s%s%s",
			     c->profile, miss, c->session && (!c->start_url || !c->region) ?
			     " in [sso-session " : "", c->session && (!c->start_url || !c->region) ?
			     c->session : "", c->session && (!c->start_url || !c->region) ? "]" : "");
		goto out;
	}
	if (strlen(c->account_id) != 12 || strspn(c->account_id, "0123456789") != 12) {
		rc = cw_fail(err, errlen, CW_EINVAL, "profile \"%s\": sso_account_id is not a "
			     "12-digit account id", c->profile);
		goto out;
	}
	rc = read_token(o, c, &tok, err, errlen);
	if (rc)
		goto out;
	rc = portal_url(o, c->region, base, sizeof(base), err, errlen);
	if (rc)
		goto out;
	cw_buf_addstr(&url, base);
	cw_buf_addstr(&url, "/federation/credentials?account_id=");
	cw_buf_addstr(&url, c->account_id);
	cw_buf_addstr(&url, "&role_name=");
	url_escape(c->role_name, &url);
	if (!cw_buf_str(&url)[0]) {
		rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
		goto out;
	}
	memset(&ho, 0, sizeof(ho));
	ho.connect_timeout_ms = SSO_TIMEOUT_MS;
	ho.total_timeout_ms = 3 * SSO_TIMEOUT_MS;
	ho.max_response = SSO_FILE_MAX;
	rc = cw_http_new(&h, &ho, err, errlen);
	if (rc)
		goto out;
	hdr[0] = (struct cw_http_header){ "x-amz-sso_bearer_token", tok };
	hdr[1] = (struct cw_http_header){ "Accept", "application/json" };
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = cw_buf_str(&url);
	req.headers = hdr;
	req.nheaders = 2;
	req.secret_bodies = true;
	for (int attempt = 0; attempt < 3; attempt++) { /* a 5xx or a dropped connection */
		if (resp.body.data)
			cw_wipe(resp.body.data, resp.body.len);
		rc = cw_http_do(h, &req, &resp, err, errlen);
		if (rc == CW_EINVAL || rc == CW_EINTR || (!rc && resp.status < 500))
			break;
	}
	if (rc)
		goto out;
	if (resp.status == 401)
		rc = cw_fail(err, errlen, CW_EAUTH, "profile \"%s\": the SSO portal refused the "
			     "cached token (UnauthorizedException); run aws sso login --profile %s",
			     c->profile, c->profile);
	else if (resp.status == 403)
		rc = cw_fail(err, errlen, CW_EAUTH, "profile \"%s\": the SSO portal gives no "
			     "access to role %s in account %s (ForbiddenException)", c->profile,
			     c->role_name, c->account_id);
	else if (resp.status != 200)
		rc = cw_fail(err, errlen, CW_EAUTH, "profile \"%s\": the SSO portal answered "
			     "HTTP %ld", c->profile, resp.status);
	else
		rc = cw_sso_parse_role_credentials(c->profile, resp.body.data, resp.body.len, out,
						   err, errlen);
out:
	if (resp.body.data)
		cw_wipe(resp.body.data, resp.body.len);
	cw_http_response_release(&resp);
	cw_http_free(h);
	cw_buf_release(&url);
	if (tok) {
		cw_wipe(tok, strlen(tok));
		free(tok);
	}
	return rc;
}
