/*
 * retry.h - the AWS SDKs' "standard" retry mode as pure logic.
 *
 * Classify a failed attempt (HTTP status, AWS error code, transport
 * failure), decide whether to try again and after how long (full jitter:
 * rand01 * min(2^(attempt-1), 20) s), and charge retries to a retry quota
 * shared by every worker: 500 tokens, 5 per retry, 10 per retry after a
 * timeout; a request that succeeds gives back what its last retry took, or
 * 1 token when it did not retry.  An empty quota stops retrying.
 *
 * Nothing here sleeps, reads a clock or draws random numbers: the caller
 * passes the random draw in, so the rules are testable from a table.
 * Threads: the quota is locked inside (its own mutex); a cw_retry_state
 * belongs to one request.
 */
#ifndef CW_RETRY_H
#define CW_RETRY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "http.h"

enum cw_retry_class {
	CW_RETRY_NONE = 0,     /* not retryable (client error, or success) */
	CW_RETRY_THROTTLING,   /* throttling codes, HTTP 429 */
	CW_RETRY_TRANSIENT,    /* 500/502/503/504, transient codes, connection errors */
	CW_RETRY_TIMEOUT,      /* the transfer timed out (costs 10 tokens) */
	CW_RETRY_EXPIRED,      /* ExpiredToken: refresh credentials once, then retry */
};

/* "none", "throttling", "transient", "timeout", "expired-token". */
const char *cw_retry_class_name(enum cw_retry_class c);

/*
 * Classify one failed attempt.  xfer is the transport outcome (CW_XFER_OK
 * when an HTTP answer arrived); code is the AWS error code or NULL/"".
 * A transport failure decides alone; then the code; then the status.
 */
enum cw_retry_class cw_retry_classify(long status, const char *code, enum cw_xfer xfer);

bool cw_retry_is_throttling_code(const char *code);
bool cw_retry_is_transient_code(const char *code);
bool cw_retry_is_expired_code(const char *code);

/* ---- the shared retry quota --------------------------------------------- */

#define CW_RETRY_QUOTA_MAX 500
#define CW_RETRY_COST 5
#define CW_RETRY_TIMEOUT_COST 10
#define CW_RETRY_NO_RETRY_INCREMENT 1

struct cw_retry_quota {
	pthread_mutex_t mu;
	int tokens; /* available, 0..max */
	int max;
};

/* max <= 0 means CW_RETRY_QUOTA_MAX; the bucket starts full. */
void cw_retry_quota_init(struct cw_retry_quota *q, int max);
void cw_retry_quota_release(struct cw_retry_quota *q);
int cw_retry_quota_tokens(struct cw_retry_quota *q);
/* Take the cost of one retry of class c; returns the tokens taken, or 0
 * (and takes nothing) when the quota cannot pay. */
int cw_retry_quota_acquire(struct cw_retry_quota *q, enum cw_retry_class c);
/* Give back amount tokens (never above max). */
void cw_retry_quota_refund(struct cw_retry_quota *q, int amount);

/* ---- one request --------------------------------------------------------- */

struct cw_retry_policy {
	int max_attempts;        /* <= 0: 3 */
	int64_t max_backoff_ms;  /* <= 0: 20000 */
	/* Retry-After is not honoured for AWS (the SDKs ignore it); when true
	 * (e.g. Slack), a throttled answer waits at least that long, up to
	 * max_backoff_ms. */
	bool honour_retry_after;
	/* > 0: throttling is retried for this long after the first attempt,
	 * whatever max_attempts says, at no retry-quota cost and with a short
	 * jitter (at most CW_RETRY_PACED_BACKOFF_MS): for callers whose calls
	 * are paced by an adaptive rate limiter, which does the slowing down
	 * (the SDKs' "adaptive" mode).  Bounded by time, not attempts. */
	int64_t throttle_window_ms;
};

#define CW_RETRY_PACED_BACKOFF_MS 1000

struct cw_retry_state {
	int attempts;       /* attempts made so far (the failed one included) */
	int last_cost;      /* tokens the last retry took, 0 when none */
	bool refreshed;     /* the one credential refresh was used */
	int64_t elapsed_ms; /* since the first attempt; the caller sets it
			     * before each cw_retry_decide (throttle_window_ms) */
};

enum cw_retry_action {
	CW_RETRY_STOP = 0,  /* give up: return the error */
	CW_RETRY_AGAIN,     /* wait delay_ms, then try again */
	CW_RETRY_REFRESH,   /* refresh credentials, then try again at once */
};

struct cw_retry_decision {
	enum cw_retry_action action;
	enum cw_retry_class cls;
	int64_t delay_ms;
	const char *why; /* static: "not retryable", "attempts exhausted", ... */
};

/* Full-jitter delay after failed attempt number attempt (1-based). */
int64_t cw_retry_backoff_ms(const struct cw_retry_policy *p, int attempt, double rand01);

void cw_retry_state_init(struct cw_retry_state *st);

/*
 * Attempt number st->attempts + 1 failed with (status, code, xfer): record
 * it and decide.  rand01 in [0, 1) is the jitter draw; retry_after_ms is
 * the server's Retry-After (-1 when none).  Charges the quota for a retry;
 * a credential refresh costs no tokens, no wait, and does not count
 * against max_attempts (it may happen once per request).
 */
void cw_retry_decide(struct cw_retry_state *st, const struct cw_retry_policy *p,
		     struct cw_retry_quota *q, long status, const char *code,
		     enum cw_xfer xfer, double rand01, int64_t retry_after_ms,
		     struct cw_retry_decision *out);

/* The request succeeded: refund the quota as the SDKs do. */
void cw_retry_on_success(struct cw_retry_state *st, struct cw_retry_quota *q);

/* Parse a Retry-After header in delta-seconds ("120") into milliseconds;
 * -1 for anything else (HTTP dates are not used by the services here). */
int64_t cw_retry_after_parse(const char *value);

#endif
