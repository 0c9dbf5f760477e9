/*
 * retry.c - the SDKs' "standard" retry mode: classification, full-jitter
 * backoff, the shared retry quota.
 *
 * Threads: the quota's token count is read and changed only under q->mu;
 * everything else works on the caller's per-request state.
 */
#include "retry.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strutil.h"

#define DEFAULT_MAX_ATTEMPTS 3
#define DEFAULT_MAX_BACKOFF_MS 20000

static const char *const throttling_codes[] = {
	"Throttling",
	"ThrottlingException",
	"ThrottledException",
	"RequestThrottledException",
	"TooManyRequestsException",
	"ProvisionedThroughputExceededException",
	"TransactionInProgressException",
	"RequestLimitExceeded",
	"BandwidthLimitExceeded",
	"LimitExceededException",
	"RequestThrottled",
	"SlowDown",
	"PriorRequestNotComplete",
	"EC2ThrottledException",
	NULL,
};

static const char *const transient_codes[] = {
	"RequestTimeout",
	"RequestTimeoutException",
	"InternalError",
	"InternalFailure",
	"ServiceUnavailable",
	"IDPCommunicationError", /* STS AssumeRoleWithWebIdentity */
	NULL,
};

static const char *const expired_codes[] = {
	"ExpiredToken",
	"ExpiredTokenException",
	"RequestExpired",
	NULL,
};

static bool in_list(const char *code, const char *const *list)
{
	if (!code || !*code)
		return false;
	for (size_t i = 0; list[i]; i++)
		if (strcmp(code, list[i]) == 0)
			return true;
	return false;
}

bool cw_retry_is_throttling_code(const char *code)
{
	return in_list(code, throttling_codes);
}

bool cw_retry_is_transient_code(const char *code)
{
	return in_list(code, transient_codes);
}

bool cw_retry_is_expired_code(const char *code)
{
	return in_list(code, expired_codes);
}

const char *cw_retry_class_name(enum cw_retry_class c)
{
	switch (c) {
	case CW_RETRY_NONE: return "none";
	case CW_RETRY_THROTTLING: return "throttling";
	case CW_RETRY_TRANSIENT: return "transient";
	case CW_RETRY_TIMEOUT: return "timeout";
	case CW_RETRY_EXPIRED: return "expired-token";
	}
	return "none";
}

enum cw_retry_class cw_retry_classify(long status, const char *code, enum cw_xfer xfer)
{
	switch (xfer) {
	case CW_XFER_OK:
		break;
	case CW_XFER_TIMEOUT:
		return CW_RETRY_TIMEOUT;
	case CW_XFER_CONNECT:
	case CW_XFER_IO:
		return CW_RETRY_TRANSIENT;
	case CW_XFER_TOOBIG:
	case CW_XFER_REFUSED:
	case CW_XFER_TLS:
	case CW_XFER_CANCELLED:
	case CW_XFER_OTHER:
		return CW_RETRY_NONE;
	}
	if (status >= 200 && status < 300)
		return CW_RETRY_NONE;
	if (cw_retry_is_expired_code(code))
		return CW_RETRY_EXPIRED;
	if (cw_retry_is_throttling_code(code))
		return CW_RETRY_THROTTLING;
	if (cw_retry_is_transient_code(code))
		return CW_RETRY_TRANSIENT;
	if (status == 429)
		return CW_RETRY_THROTTLING;
	if (status == 500 || status == 502 || status == 503 || status == 504)
		return CW_RETRY_TRANSIENT;
	return CW_RETRY_NONE;
}

/* ---- quota ---------------------------------------------------------------- */

void cw_retry_quota_init(struct cw_retry_quota *q, int max)
{
	pthread_mutex_init(&q->mu, NULL);
	q->max = max > 0 ? max : CW_RETRY_QUOTA_MAX;
	q->tokens = q->max;
}

void cw_retry_quota_release(struct cw_retry_quota *q)
{
	pthread_mutex_destroy(&q->mu);
}

int cw_retry_quota_tokens(struct cw_retry_quota *q)
{
	pthread_mutex_lock(&q->mu);
	int t = q->tokens;
	pthread_mutex_unlock(&q->mu);
	return t;
}

int cw_retry_quota_acquire(struct cw_retry_quota *q, enum cw_retry_class c)
{
	int cost = c == CW_RETRY_TIMEOUT ? CW_RETRY_TIMEOUT_COST : CW_RETRY_COST;

	pthread_mutex_lock(&q->mu);
	if (q->tokens < cost)
		cost = 0;
	else
		q->tokens -= cost;
	pthread_mutex_unlock(&q->mu);
	return cost;
}

void cw_retry_quota_refund(struct cw_retry_quota *q, int amount)
{
	if (amount <= 0)
		return;
	pthread_mutex_lock(&q->mu);
	q->tokens = amount > q->max - q->tokens ? q->max : q->tokens + amount;
	pthread_mutex_unlock(&q->mu);
}

/* ---- one request ---------------------------------------------------------- */

static int max_attempts(const struct cw_retry_policy *p)
{
	return p && p->max_attempts > 0 ? p->max_attempts : DEFAULT_MAX_ATTEMPTS;
}

static int64_t max_backoff(const struct cw_retry_policy *p)
{
	return p && p->max_backoff_ms > 0 ? p->max_backoff_ms : DEFAULT_MAX_BACKOFF_MS;
}

int64_t cw_retry_backoff_ms(const struct cw_retry_policy *p, int attempt, double rand01)
{
	int64_t cap = max_backoff(p);
	int64_t base = 1000; /* 2^(attempt-1) s, stopped before it overflows */

	if (!(rand01 >= 0.0)) /* also NaN */
		rand01 = 0.0;
	if (rand01 > 1.0)
		rand01 = 1.0;
	for (int i = 1; i < attempt && base < cap; i++)
		base *= 2;
	if (base > cap)
		base = cap;
	return (int64_t)(rand01 * (double)base);
}

void cw_retry_state_init(struct cw_retry_state *st)
{
	memset(st, 0, sizeof(*st));
}

static void decide(struct cw_retry_decision *out, enum cw_retry_action a, int64_t delay,
		   const char *why)
{
	out->action = a;
	out->delay_ms = delay;
	out->why = why;
}

void cw_retry_decide(struct cw_retry_state *st, const struct cw_retry_policy *p,
		     struct cw_retry_quota *q, long status, const char *code,
		     enum cw_xfer xfer, double rand01, int64_t retry_after_ms,
		     struct cw_retry_decision *out)
{
	enum cw_retry_class c = cw_retry_classify(status, code, xfer);
	int counted;

	st->attempts++;
	/* the credential refresh attempt is a free extra one */
	counted = st->attempts - (st->refreshed ? 1 : 0);
	memset(out, 0, sizeof(*out));
	out->cls = c;

	if (c == CW_RETRY_NONE) {
		decide(out, CW_RETRY_STOP, 0, "not retryable");
		return;
	}
	if (c == CW_RETRY_EXPIRED) {
		if (st->refreshed) {
			decide(out, CW_RETRY_STOP, 0, "credentials still expired after a refresh");
			return;
		}
		st->refreshed = true;
		decide(out, CW_RETRY_REFRESH, 0, "refreshing expired credentials");
		return;
	}
	if (c == CW_RETRY_THROTTLING && p && p->throttle_window_ms > 0) {
		int64_t left = p->throttle_window_ms - st->elapsed_ms;
		int64_t delay = (int64_t)(rand01 * CW_RETRY_PACED_BACKOFF_MS);

		if (left <= 0) {
			decide(out, CW_RETRY_STOP, 0, "still throttled at the end of the "
			       "throttle window");
			return;
		}
		if (!(delay >= 0))
			delay = 0;
		st->last_cost = 0;
		decide(out, CW_RETRY_AGAIN, delay < left ? delay : left, "throttling");
		return;
	}
	if (counted >= max_attempts(p)) {
		decide(out, CW_RETRY_STOP, 0, "attempts exhausted");
		return;
	}
	int cost = q ? cw_retry_quota_acquire(q, c) : CW_RETRY_COST;
	if (cost == 0) {
		decide(out, CW_RETRY_STOP, 0, "retry quota exhausted");
		return;
	}
	st->last_cost = cost;

	int64_t delay = cw_retry_backoff_ms(p, counted, rand01);
	if (p && p->honour_retry_after && c == CW_RETRY_THROTTLING && retry_after_ms > delay)
		delay = retry_after_ms < max_backoff(p) ? retry_after_ms : max_backoff(p);
	decide(out, CW_RETRY_AGAIN, delay, cw_retry_class_name(c));
}

void cw_retry_on_success(struct cw_retry_state *st, struct cw_retry_quota *q)
{
	if (!q)
		return;
	cw_retry_quota_refund(q, st->last_cost > 0 ? st->last_cost
						 : CW_RETRY_NO_RETRY_INCREMENT);
	st->last_cost = 0;
}

int64_t cw_retry_after_parse(const char *value)
{
	long long v;

	if (!value)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (*value < '0' || *value > '9')
		return -1;
	/* bounded: a day is more than any caller would wait */
	if (cw_parse_i64(value, 0, 86400, &v) != 0)
		return -1;
	return (int64_t)v * 1000;
}
