/*
 * sigv4.h - AWS Signature Version 4, header signing, with OpenSSL.
 *
 * Not libcurl's CURLOPT_AWS_SIGV4: Debian 12's libcurl signs unsorted
 * queries, valueless parameters and %20 paths wrongly.  Checked against the
 * official aws-c-auth suite and against botocore-generated vectors
 * (tests/unit/check_sigv4.c).
 */
#ifndef CW_SIGV4_H
#define CW_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct cw_sig_header {
	const char *name;  /* any case; canonicalised to lowercase */
	const char *value; /* raw; trimmed and inner spaces folded when signing */
};

struct cw_sigv4_input {
	const char *method;        /* "GET", "POST" */
	const char *path;          /* raw path as sent, e.g. "/" or "/a%20b/../c" */
	const char *query;         /* raw query after '?', "" or NULL when none */
	const struct cw_sig_header *headers; size_t nheaders; /* must hold host */
	const void *payload; size_t payload_len;
	const char *region, *service;
	int64_t time;              /* UTC epoch seconds of the signature */
	const char *access_key, *secret_key;
	const char *session_token; /* NULL when none */
	bool normalize_path;       /* true for every service but S3 */
	bool sign_content_sha256;  /* add and sign x-amz-content-sha256 */
	/* true: X-Amz-Security-Token is signed (default for every service);
	 * false: it is added after signing (the suite's post-sts-header-after). */
	bool sign_session_token;
	/* Signing keys derived before (cw_sigv4_keys_new); NULL: derive it. */
	struct cw_sigv4_keys *keys;
};

struct cw_sigv4_output {
	char amz_date[17];        /* "20150830T123600Z" */
	char signature[65];       /* hex */
	struct cw_buf canonical_request; /* for tests and --debug-http */
	struct cw_buf string_to_sign;
	struct cw_buf authorization;     /* full Authorization header value */
	char payload_hash[65];    /* hex sha256 of the payload */
	/* Headers the caller must add to the request, in this order:
	 * X-Amz-Date, then X-Amz-Security-Token (when a token is given), then
	 * x-amz-content-sha256 (when asked). */
};

/*
 * Signing keys kept across requests.  A signing key depends only on the
 * secret key, the day, the region and the service: a sweep that signs
 * thousands of requests with a few credentials derives each key once a
 * day instead of four HMACs per request.  An entry is found by the
 * SHA-256 of those four (the secret is not kept); the few most recent are
 * kept and wiped when replaced and on free.  Locked: any number of
 * threads may share one.
 */
struct cw_sigv4_keys;

/* New empty cache into *out (owned by the caller, cw_sigv4_keys_free). */
int cw_sigv4_keys_new(struct cw_sigv4_keys **out);
void cw_sigv4_keys_free(struct cw_sigv4_keys *k);

/* Fill out (initialised here; free with cw_sigv4_output_release). */
int cw_sigv4_sign(const struct cw_sigv4_input *in, struct cw_sigv4_output *out,
		  char *err, size_t errlen);
void cw_sigv4_output_release(struct cw_sigv4_output *out);

/* Lower-case hex SHA-256 of data into out[65]. */
void cw_sha256_hex(const void *data, size_t len, char out[65]);

/* RFC 3986 percent-encoding as SigV4 wants it (unreserved kept, space as
 * %20, upper-case hex); appends to b. */
int cw_uri_encode(struct cw_buf *b, const char *s, size_t n, bool keep_slash);

#endif
