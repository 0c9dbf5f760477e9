/*
 * s3.h - a small S3 REST client on the signed-call layer (aws.h,
 * CW_PROTO_REST): addressing, one signed request, and the bucket metrics
 * configuration (Get/PutBucketMetricsConfiguration).
 *
 * Addressing: virtual-hosted https://BUCKET.s3.REGION.amazonaws.com/KEY
 * by default; path style ENDPOINT/BUCKET/KEY when an endpoint is
 * configured (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the inventory's
 * endpoint_url: emulators and tests) or when the bucket name has a dot
 * (a virtual host name would not match the wildcard certificate).
 * Every request is signed for service `s3` in the bucket's region with
 * x-amz-content-sha256.  Errors are S3's XML (<Error><Code>...).
 *
 * Growing it: PutObject is cw_s3_call("PUT", bucket, key, NULL, ctype,
 * body); a presigned GET URL is the same address with query-string SigV4
 * (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires <=
 * 604800, X-Amz-SignedHeaders=host, X-Amz-Security-Token, and
 * UNSIGNED-PAYLOAD): cw_s3_address gives the URL to sign.
 *
 * Reading back (cwsweep merge of s3://BUCKET/PREFIX/): ListObjectsV2
 * (GET /?list-type=2&prefix=P&max-keys=1000[&continuation-token=T], at
 * most 1,000 keys a page, NextContinuationToken while IsTruncated) paged
 * through the pager guard, and GetObject (GET of the key).
 *
 * Threads: a cw_s3 uses one cw_aws_client, so one thread at a time.
 */
#ifndef CW_S3_H
#define CW_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws.h"

struct cw_s3 {
	struct cw_aws_client *aws;  /* borrowed */
	const char *endpoint_url;   /* the inventory's aws.endpoint_url; may be NULL */
	cw_creds_fn get_creds;      /* the bucket owner's credentials */
	void *creds_ctx;
};

/*
 * Where requests for bucket (and key, NULL for the bucket itself) in
 * region go: endpoint (scheme://host[:port], for the signed call) and
 * path ("/" or "/KEY" virtual-hosted, "/BUCKET[/KEY]" path style; the key
 * URI-encoded with its slashes kept).  *path_style tells which.
 */
int cw_s3_address(const struct cw_s3 *s3, const char *region, const char *bucket,
		  const char *key, char *endpoint, size_t elen, char *path, size_t plen,
		  bool *path_style, char *err, size_t errlen);

/*
 * One signed request: method on bucket[/key] with query (encoded, "" or
 * NULL for none), body (may be NULL) of content type ctype (NULL: none).
 * Retried as every AWS call is.  0 (2xx, resp->body), CW_EAWS (resp->code:
 * S3's error code), or another cw_err (err says what).
 */
int cw_s3_call(struct cw_s3 *s3, const char *region, const char *method, const char *bucket,
	       const char *key, const char *query, const char *ctype, const void *body,
	       size_t len, struct cw_aws_response *resp, char *err, size_t errlen);
/* The same with up to CW_AWS_MAX_EXTRA more headers, signed and sent, as
 * name/value pairs (e.g. If-Match: ETAG for a conditional PutObject). */
int cw_s3_call_headers(struct cw_s3 *s3, const char *region, const char *method,
		       const char *bucket, const char *key, const char *query,
		       const char *ctype, const void *body, size_t len,
		       const char *const *headers, size_t npairs,
		       struct cw_aws_response *resp, char *err, size_t errlen);

/* The request-metrics configuration id cwsweep creates: the whole bucket. */
#define CW_S3_METRICS_ID "EntireBucket"

/* GetBucketMetricsConfiguration: *exists true (200) or false
 * (NoSuchConfiguration); another answer is an error. */
int cw_s3_metrics_get(struct cw_s3 *s3, const char *region, const char *bucket,
		      const char *id, bool *exists, struct cw_aws_response *resp,
		      char *err, size_t errlen);

/* True when body (a GetBucketMetricsConfiguration answer, untrusted) is a
 * <MetricsConfiguration> whose <Id> is id; parsed with libexpat. */
bool cw_s3_metrics_config_is(const char *body, size_t len, const char *id);

/* PutBucketMetricsConfiguration of <MetricsConfiguration><Id>id</Id> (no
 * filter: every object).  It replaces a configuration of the same id: ask
 * cw_s3_metrics_get first. */
int cw_s3_metrics_put(struct cw_s3 *s3, const char *region, const char *bucket,
		      const char *id, struct cw_aws_response *resp, char *err, size_t errlen);

/*
 * An S3 client of its own (AWS context, one client, the ambient
 * credentials chain) for a command that talks only to S3 on one thread:
 * publishing the reports, merge reading the shards' reports.
 */
struct cw_creds_provider;

struct cw_s3_session_opts {
	const char *profile;      /* NULL: AWS_PROFILE, then the chain */
	const char *sts_region;   /* for role profiles; may be NULL */
	const char *endpoint_url; /* the inventory's aws.endpoint_url; may be NULL */
	const char *session_name; /* RoleSessionName of role profiles */
	int max_attempts;         /* 0: the default (AWS_MAX_ATTEMPTS applies) */
	size_t max_response;      /* 0: the default cap per answer */
};

struct cw_s3_session {
	struct cw_aws_ctx *ctx;
	struct cw_aws_client *client;
	struct cw_creds_provider *ambient;
	struct cw_s3 s3;          /* ready to use once opened */
};

/* 0, or a cw_err with err saying why (the session is then closed). */
int cw_s3_session_open(struct cw_s3_session *s, const struct cw_s3_session_opts *o,
		       char *err, size_t errlen);
void cw_s3_session_close(struct cw_s3_session *s);

/*
 * Split s3://BUCKET[/PREFIX[/]] into bucket (checked against the bucket
 * naming rules) and prefix ("" or "a/b", trailing slashes dropped).
 * CW_EINVAL with err saying what is wrong.
 */
int cw_s3_url_parse(const char *url, char *bucket, size_t blen, char *prefix, size_t plen,
		    char *err, size_t errlen);

/* ---- ListObjectsV2 --------------------------------------------------- */

/* S3 answers at most this many keys a page (and cwsweep asks for it). */
#define CW_S3_LIST_MAX_KEYS 1000

struct cw_s3_object {
	char *key;      /* owned */
	int64_t size;   /* bytes */
};

struct cw_s3_list_page {
	struct cw_s3_object *objs; /* owned */
	size_t n;
	bool truncated;            /* IsTruncated */
	char *next_token;          /* NextContinuationToken, owned; NULL when none */
};

void cw_s3_list_page_release(struct cw_s3_list_page *p);

/*
 * Parse one ListObjectsV2 answer (untrusted) with libexpat: the root must
 * be <ListBucketResult>; every <Contents> needs a <Key> (1..1024 bytes,
 * no control characters) and a decimal <Size>; <IsTruncated> is true or
 * false, and true needs a <NextContinuationToken>; at most
 * CW_S3_LIST_MAX_KEYS keys.  *page is filled (release it) or left empty
 * with CW_EPARSE and err saying what is wrong.
 */
int cw_s3_list_parse(const char *body, size_t len, struct cw_s3_list_page *page,
		     char *err, size_t errlen);

/*
 * Every key under prefix (may be ""): ListObjectsV2 page after page
 * (retried as every AWS call is), through the pager guard (a repeated
 * continuation token stops with CW_EINVAL), at most max_objects keys
 * (CW_ETOOBIG past it).  *objs (owned, free with cw_s3_objects_free) and
 * *n.  0, CW_EAWS (resp->code: NoSuchBucket, AccessDenied, ...), or
 * another cw_err with err saying what.
 */
int cw_s3_list(struct cw_s3 *s3, const char *region, const char *bucket, const char *prefix,
	       size_t max_objects, struct cw_s3_object **objs, size_t *n,
	       struct cw_aws_response *resp, char *err, size_t errlen);

void cw_s3_objects_free(struct cw_s3_object *objs, size_t n);

/* GetObject: the object's bytes in resp->body (capped by the client's
 * max_response).  0, CW_EAWS (NoSuchKey, AccessDenied, ...), or another
 * cw_err. */
int cw_s3_get_object(struct cw_s3 *s3, const char *region, const char *bucket,
		     const char *key, struct cw_aws_response *resp, char *err, size_t errlen);

#endif
