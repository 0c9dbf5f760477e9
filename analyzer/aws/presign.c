/*
 * presign.c - presigned S3 GET URLs (presign.h).  The signing steps are
 * SigV4's (canonical request, string to sign, the HMAC key chain) with the
 * query in place of the Authorization header.
 */
#include "presign.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "sigv4.h"

static int hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
	unsigned int n = 32;

	return HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out,
		    &n) ? 0 : CW_ENOMEM;
}

/* "name=value" with the value encoded, and a separator first when needed. */
static int param(struct cw_buf *q, const char *name, const char *value)
{
	int rc = 0;

	if (q->len)
		rc = cw_buf_addch(q, '&');
	if (!rc)
		rc = cw_buf_printf(q, "%s=", name);
	return rc ? rc : cw_uri_encode(q, value, strlen(value), false);
}

int cw_s3_presign_get(const struct cw_s3 *s3, const struct cw_creds *creds,
		      const char *region, const char *bucket, const char *key, int64_t now,
		      int64_t expires, struct cw_buf *url, char *err, size_t errlen)
{
	char endpoint[512], path[2048], amz_date[17], date[9], scope[160], cred[320];
	char hash[65], expires_s[24], sig[65];
	unsigned char k[32];
	struct cw_buf q = CW_BUF_INIT, creq = CW_BUF_INIT, sts = CW_BUF_INIT;
	const char *host;
	bool path_style;
	time_t t = (time_t)now;
	struct tm tm;
	int rc;

	if (expires < 1 || expires > CW_PRESIGN_MAX_EXPIRES)
		return cw_fail(err, errlen, CW_EINVAL, "presigned URL: expiry must be 1 s to 7 "
			       "days, got %lld s", (long long)expires);
	if (!creds || !creds->access_key[0] || !creds->secret_key[0])
		return cw_fail(err, errlen, CW_EINVAL, "presigned URL: no credentials");
	if (!gmtime_r(&t, &tm))
		return cw_fail(err, errlen, CW_EINVAL, "presigned URL: bad time");
	if ((rc = cw_s3_address(s3, region, bucket, key, endpoint, sizeof(endpoint), path,
				sizeof(path), &path_style, err, errlen)))
		return rc;
	host = strstr(endpoint, "://");
	host = host ? host + 3 : endpoint;
	strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
	strftime(date, sizeof(date), "%Y%m%d", &tm);
	snprintf(scope, sizeof(scope), "%s/%s/s3/aws4_request", date, region);
	snprintf(cred, sizeof(cred), "%s/%s", creds->access_key, scope);
	snprintf(expires_s, sizeof(expires_s), "%lld", (long long)expires);

	/* the query, in the canonical (sorted) order */
	if ((rc = param(&q, "X-Amz-Algorithm", "AWS4-HMAC-SHA256")) ||
	    (rc = param(&q, "X-Amz-Credential", cred)) ||
	    (rc = param(&q, "X-Amz-Date", amz_date)) ||
	    (rc = param(&q, "X-Amz-Expires", expires_s)) ||
	    (creds->session_token && (rc = param(&q, "X-Amz-Security-Token",
						 creds->session_token))) ||
	    (rc = param(&q, "X-Amz-SignedHeaders", "host")))
		goto out;
	if ((rc = cw_buf_printf(&creq, "GET\n%s\n%s\nhost:%s\n\nhost\nUNSIGNED-PAYLOAD", path,
				cw_buf_str(&q), host)))
		goto out;
	cw_sha256_hex(creq.data, creq.len, hash);
	if ((rc = cw_buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", amz_date, scope, hash)))
		goto out;
	{
		char k0[160];

		snprintf(k0, sizeof(k0), "AWS4%s", creds->secret_key);
		if ((rc = hmac(k0, strlen(k0), date, k)) || (rc = hmac(k, 32, region, k)) ||
		    (rc = hmac(k, 32, "s3", k)) || (rc = hmac(k, 32, "aws4_request", k)) ||
		    (rc = hmac(k, 32, cw_buf_str(&sts), k)))
			goto out;
		memset(k0, 0, sizeof(k0));
	}
	for (int i = 0; i < 32; i++)
		snprintf(sig + 2 * i, 3, "%02x", k[i]);
	rc = cw_buf_printf(url, "%s%s?%s&X-Amz-Signature=%s", endpoint, path, cw_buf_str(&q),
			   sig);
out:
	memset(k, 0, sizeof(k));
	cw_buf_release(&q);
	cw_buf_release(&creq);
	cw_buf_release(&sts);
	if (rc && err && errlen && !err[0])
		cw_fail(err, errlen, rc, "presigned URL: %s", cw_strerror(rc));
	return rc;
}
