/*
 * http.h - one HTTP(S) request at a time over a reused libcurl easy handle.
 *
 * The signed AWS calls (aws.c) and the unsigned credential endpoints
 * (IMDSv2, container credentials) and the Slack webhook all go through
 * here.  Safety rules live in this one place: https only (plain http only
 * to a loopback host, or to the AWS metadata addresses when the request
 * says so), no redirects, TLS verification always on, connect / total /
 * low-speed timeouts, and a cap on the response size enforced while
 * receiving.
 *
 * Threads: call cw_http_global_init() once before any thread starts; a
 * cw_http belongs to one thread at a time (it owns one easy handle and its
 * connection cache, never shared).
 */
#ifndef CW_HTTP_H
#define CW_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* How a transfer ended, as retry rules need it. */
enum cw_xfer {
	CW_XFER_OK = 0,      /* an HTTP answer arrived (any status) */
	CW_XFER_CONNECT,     /* DNS, connect or TLS handshake failed: retryable */
	CW_XFER_TIMEOUT,     /* connect, total or low-speed timeout: retryable */
	CW_XFER_IO,          /* reset, empty reply, send/receive error: retryable */
	CW_XFER_TOOBIG,      /* the response passed the size cap */
	CW_XFER_REFUSED,     /* refused before any I/O (scheme, URL): not retryable */
	CW_XFER_TLS,         /* certificate verification failed: not retryable */
	CW_XFER_CANCELLED,   /* the cancel callback asked to stop */
	CW_XFER_OTHER,       /* anything else: not retryable */
};

/* "ok", "connect error", "timeout", ... */
const char *cw_xfer_name(enum cw_xfer x);

/*
 * curl_global_init, SIGPIPE ignored, json_object_seed(0).  Call once from
 * the main thread before any other thread exists; later calls are no-ops.
 */
int cw_http_global_init(char *err, size_t errlen);

/*
 * A memory bound shared by every handle of a run: the bytes that responses
 * being received hold together (their buffers' allocations, beyond the
 * first MiB of each, which every response may use on its own so that small
 * answers never fail because of others).  A transfer whose growth would
 * pass it is aborted as CW_XFER_TOOBIG, so endless or huge bodies on every
 * worker at once cannot exhaust memory.  Lock-free
 * (an atomic counter); any thread.
 */
struct cw_membudget {
	atomic_size_t used;
	size_t max;          /* bytes; 0: no bound */
	atomic_size_t peak;  /* highest used seen, for tests and metrics */
};

void cw_membudget_init(struct cw_membudget *b, size_t max);

struct cw_http_opts {
	long connect_timeout_ms; /* <= 0: 10000 */
	long total_timeout_ms;   /* <= 0: 60000 */
	long low_speed_bps;      /* <= 0: 1 */
	long low_speed_secs;     /* <= 0: 30 */
	size_t max_response;     /* 0: 64 MiB (per response) */
	struct cw_membudget *budget; /* shared bound of all responses; NULL: none */
	const char *ca_bundle;   /* CA file (AWS_CA_BUNDLE), copied; NULL: system */
	/* Polled during transfers (any thread may set what it reads); true
	 * aborts the transfer with CW_XFER_CANCELLED.  NULL: never. */
	bool (*cancelled)(void *arg);
	void *cancel_arg;
};

struct cw_http;

/* New handle in *out (free with cw_http_free); *out = NULL on failure. */
int cw_http_new(struct cw_http **out, const struct cw_http_opts *opts,
		char *err, size_t errlen);
void cw_http_free(struct cw_http *h);

struct cw_http_header {
	const char *name;
	const char *value;
};

struct cw_http_request {
	const char *method;  /* "GET", "POST", "PUT", ... */
	const char *url;     /* may hold a secret (Slack): never logged, only its origin */
	const struct cw_http_header *headers; size_t nheaders; /* borrowed */
	const void *body; size_t body_len; /* borrowed; NULL/0 = no body */
	long timeout_ms;         /* > 0 overrides total_timeout_ms for this request */
	long connect_timeout_ms; /* > 0 overrides connect_timeout_ms */
	/* Also allow plain http to the AWS metadata addresses (IMDS
	 * 169.254.169.254 / fd00:ec2::254, container credentials 169.254.170.2,
	 * 169.254.170.23 / fd00:ec2::23). */
	bool metadata_http;
	/* Request or response bodies hold secrets (credential endpoints):
	 * --debug-http never dumps them. */
	bool secret_bodies;
};

struct cw_http_response {
	long status;              /* 0 when no answer */
	struct cw_buf body;       /* capped at max_response; owned */
	char content_type[128];   /* the selected headers, "" when absent */
	char request_id[80];      /* x-amzn-RequestId, x-amz-request-id */
	char query_error[160];    /* x-amzn-query-error ("Code;Sender") */
	char retry_after[32];
	char etag[128];           /* ETag (S3 objects), quotes kept */
	enum cw_xfer xfer;        /* CW_XFER_OK when status is set */
	int64_t elapsed_ms;
};

void cw_http_response_init(struct cw_http_response *r);
/* Frees the body; the response can be reused after cw_http_response_init. */
void cw_http_response_release(struct cw_http_response *r);

/*
 * Send req and wait for the answer.  Returns 0 when an HTTP answer
 * arrived, whatever its status (resp->status); CW_EHTTP on transport
 * failure (resp->xfer says which kind; err says what, naming the host,
 * never the full URL); CW_ETOOBIG "response larger than N bytes";
 * (also when the shared memory budget would be passed: "responses in
 * flight passed the N MiB bound"); CW_EINVAL for a refused URL (nothing sent); CW_EINTR when cancelled.
 * resp is reset first (its body content dropped).
 */
int cw_http_do(struct cw_http *h, const struct cw_http_request *req,
	       struct cw_http_response *resp, char *err, size_t errlen);

/* ---- URL helpers --------------------------------------------------------- */

/* True for 127.0.0.0/8, ::1 (also ::ffff:127.x.x.x) and "localhost". */
bool cw_http_host_is_loopback(const char *host);

/*
 * Check that url is absolute, has a host, no user:password, no fragment,
 * and uses https (or http to a loopback host; also to the metadata
 * addresses when metadata_http).  On success, host (without brackets),
 * port (-1 when not given) and path ("/" when empty) are copied out when
 * the pointers are not NULL.
 */
int cw_http_url_check(const char *url, bool metadata_http, char *host, size_t hostlen,
		      int *port, char *path, size_t pathlen, char *err, size_t errlen);

#endif
