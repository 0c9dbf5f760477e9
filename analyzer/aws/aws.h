/*
 * aws.h - the small interface the rest of cwsweep uses to talk to AWS:
 * credentials, endpoints, and one signed call with the SDKs' standard
 * retries.
 *
 * Threads: a cw_aws_ctx is shared by every worker (its retry quota is
 * locked inside); a cw_aws_client belongs to one worker thread (it owns one
 * libcurl easy handle, reused for every call).
 */
#ifndef CW_AWS_H
#define CW_AWS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* ---- credentials -------------------------------------------------------- */

struct cw_creds {
	char access_key[128];
	char secret_key[128];   /* secret: never logged */
	char *session_token;    /* owned, NULL when none; no fixed size; secret */
	int64_t expiration;     /* UTC epoch seconds, 0 = does not expire */
	char source[48];        /* "environment", "profile:dev", "assume-role", ... */
};

void cw_creds_release(struct cw_creds *c); /* wipes the secrets */
int cw_creds_copy(struct cw_creds *dst, const struct cw_creds *src);

/*
 * Where credentials come from: a callback so that the caller decides
 * (ambient chain, a per-account cache of assumed roles, a test fixture).
 * force_refresh is set after ExpiredToken; then out->access_key holds the
 * key AWS refused (the rest of *out is empty).  A caching callback returns
 * its cached credentials only when they have another key (another worker
 * refreshed them already) and fetches new ones otherwise, so a burst of
 * ExpiredToken answers costs one refresh.  Called on the worker thread that
 * makes the call; must be thread-safe.
 */
typedef int (*cw_creds_fn)(void *ctx, bool force_refresh, struct cw_creds *out,
			   char *err, size_t errlen);

/* ---- endpoints ---------------------------------------------------------- */

/*
 * Base URL for a service in a region, as the SDKs resolve it:
 * AWS_ENDPOINT_URL_CLOUDWATCH (service "monitoring") or AWS_ENDPOINT_URL_STS
 * (service "sts"), then AWS_ENDPOINT_URL, then the inventory's endpoint_url
 * (may be NULL), then https://SERVICE.REGION.amazonaws.com (".com.cn" for
 * cn- regions).  Plain http is accepted only for loopback hosts.
 */
int cw_endpoint_resolve(const char *service, const char *region,
			const char *inventory_url, char *out, size_t outlen,
			char *err, size_t errlen);

/* ---- calls -------------------------------------------------------------- */

struct cw_aws_opts {
	int max_attempts;        /* default 3 */
	long connect_timeout_ms; /* default 10000 */
	long total_timeout_ms;   /* default 60000 */
	long low_speed_bps;      /* default 1 (byte/s) ...      */
	long low_speed_secs;     /* ... for 30 s: abort a stalled transfer */
	size_t max_response;     /* default 64 MiB, per response */
	size_t response_memory;  /* bytes all responses being received hold
				  * together (every client of the ctx); 0: none */
	int64_t throttle_window_ms; /* throttled calls retry (paced) until this
				     * long after their first attempt; 0: by
				     * attempts only */
	const char *ca_bundle;   /* AWS_CA_BUNDLE; NULL = system default */
	/* Injectable for tests; NULL = real clock, nanosleep, random. */
	int64_t (*now_ms)(void *env);
	void (*sleep_ms)(void *env, int64_t ms);
	double (*rand01)(void *env);
	void *env;
};

/*
 * The SDKs' retry settings from the environment: AWS_MAX_ATTEMPTS (1..20,
 * *max_attempts; 0 when unset) and AWS_RETRY_MODE (standard; adaptive and
 * legacy are accepted and run as standard, which cwsweep's own pacing
 * already makes adaptive).  CW_EINVAL with a message for a bad value.
 * cw_aws_ctx_new applies AWS_MAX_ATTEMPTS over opts->max_attempts.
 */
int cw_aws_env_retry(int *max_attempts, char *err, size_t errlen);

struct cw_aws_ctx;    /* shared: options, retry quota, counters */
struct cw_aws_client; /* one per worker thread */

int cw_aws_ctx_new(struct cw_aws_ctx **out, const struct cw_aws_opts *opts);
void cw_aws_ctx_free(struct cw_aws_ctx *ctx);
/* Calls made so far (every attempt counted), by kind; thread-safe. */
struct cw_aws_stats { uint64_t attempts, retries, throttled, failed; };
/* Attempts and throttled answers per API action ("GetMetricData",
 * "AssumeRole", ...), the first max of them; returns how many. */
#define CW_AWS_MAX_ACTIONS 16
struct cw_aws_action_stats { char action[48]; uint64_t attempts, throttled; };
size_t cw_aws_ctx_actions(struct cw_aws_ctx *ctx, struct cw_aws_action_stats *out,
			  size_t max);
/*
 * Memory to parse an answer.  A JSON tree costs many times its text (up to
 * ~80x for "{},{},..."), so callers that parse a body take its estimated
 * cost (cw_json_parse_cost) from a run-wide parse bound first, the same
 * size as the receive bound (response_memory), and give it back after:
 * take waits (no lock held; *stop, may be NULL, ends the wait with
 * CW_EINTR) until the cost fits, and refuses a cost larger than the whole
 * bound (CW_ETOOBIG).  Without a bound (response_memory 0) take is free.
 */
int cw_aws_parse_memory_take(struct cw_aws_ctx *ctx, size_t bytes, const atomic_bool *stop);
void cw_aws_parse_memory_give(struct cw_aws_ctx *ctx, size_t bytes);
/* An upper bound of what parsing body with jansson allocates, in bytes. */
size_t cw_json_parse_cost(const char *body, size_t len);

/* The highest memory the responses in flight held together, in bytes. */
size_t cw_aws_ctx_peak_response_memory(struct cw_aws_ctx *ctx);
void cw_aws_ctx_stats(struct cw_aws_ctx *ctx, struct cw_aws_stats *out);

int cw_aws_client_new(struct cw_aws_client **out, struct cw_aws_ctx *ctx);
void cw_aws_client_free(struct cw_aws_client *c);

enum cw_aws_proto {
	CW_PROTO_JSON10, /* POST /, application/x-amz-json-1.0, X-Amz-Target */
	CW_PROTO_QUERY,  /* POST /, application/x-www-form-urlencoded; XML answer */
	CW_PROTO_JSON11, /* POST /, application/x-amz-json-1.1, X-Amz-Target (Organizations) */
	CW_PROTO_REST,   /* S3: method, path and query of the request; XML answer;
			  * signed with x-amz-content-sha256, path not normalised */
};

/*
 * Client-side pacing of one kind of call (e.g. GetMetricData of one
 * account-region): wait before every attempt, the first and each retry,
 * and hear how each answer went, so an adaptive limiter slows down on
 * throttling and recovers after.  Called on the calling worker's thread.
 */
struct cw_aws_pacer {
	int (*wait)(void *env);                     /* 0, or CW_EINTR to stop */
	void (*feedback)(void *env, bool throttled); /* after every answer */
	void *env;
};

#define CW_AWS_MAX_EXTRA 3

struct cw_aws_request {
	const char *service;   /* signing name: "monitoring", "sts" */
	const char *region;
	const char *endpoint;  /* from cw_endpoint_resolve */
	enum cw_aws_proto proto;
	const char *target;    /* JSON: "GraniteServiceVersion20100801.GetMetricData" */
	const char *body; size_t body_len;
	bool unsigned_request; /* AssumeRoleWithWebIdentity is not signed */
	/* CW_PROTO_REST only: */
	const char *method;    /* "GET", "PUT", ...; NULL: POST */
	const char *path;      /* after the endpoint's own path, encoded as sent: "/b/k" */
	const char *query;     /* encoded, as sent and signed: "id=EntireBucket&metrics=" */
	const char *content_type; /* NULL: no Content-Type header */
	/* up to CW_AWS_MAX_EXTRA more headers, signed and sent, as name/value
	 * pairs (e.g. x-amz-server-side-encryption: AES256); NULL: none */
	const char *const *extra_headers;
	size_t nextra_headers;  /* pairs */
	const char *what;      /* short label for logs: "GetMetricData 111111111111/us-east-1" */
	/* NULL: not paced.  With a pacer and the ctx's throttle_window_ms,
	 * throttling is retried until that window ends. */
	const struct cw_aws_pacer *pacer;
};

struct cw_aws_response {
	long status;           /* last HTTP status, 0 when none */
	struct cw_buf body;    /* last response body (capped) */
	char code[128];        /* AWS error code ("Throttling", "AccessDenied"), "" on success */
	char message[512];     /* AWS error message, never a secret */
	char request_id[80];
	char etag[128];        /* the answer's ETag (S3 objects), "" when none */
	int attempts;
};

void cw_aws_response_init(struct cw_aws_response *r);
void cw_aws_response_release(struct cw_aws_response *r);

/*
 * Sign (unless unsigned_request) and send, retrying as the SDKs' standard
 * mode does: throttling and transient errors with full-jitter backoff
 * under the shared retry quota; ExpiredToken refreshes credentials once
 * (get_creds with force_refresh) and retries.
 *   0         2xx; resp->body holds the answer
 *   CW_EAWS   AWS answered with an error (resp->code, resp->message)
 *   CW_EHTTP  transport failure after every attempt (err says what)
 *   CW_ETOOBIG the answer passed the response cap or the run-wide bound
 *   CW_EAUTH  get_creds failed (err says why)
 *   CW_EINTR  cw_aws_interrupt() was called
 */
int cw_aws_call(struct cw_aws_client *c, const struct cw_aws_request *req,
		cw_creds_fn get_creds, void *creds_ctx,
		struct cw_aws_response *resp, char *err, size_t errlen);

/* Ask every client of ctx to stop retrying and return CW_EINTR
 * (async-signal-safe: sets a flag). */
void cw_aws_interrupt(struct cw_aws_ctx *ctx);

#endif
