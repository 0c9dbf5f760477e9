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
 * Threads: a cw_s3 uses one cw_aws_client, so one thread at a time.
 */
#ifndef CW_S3_H
#define CW_S3_H

#include <stdbool.h>
#include <stddef.h>

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

#endif
