/*
 * check_retry.c - the standard retry mode: classification, full-jitter
 * delays, the shared retry quota and the one-time credential refresh, all
 * from tables with hand-computed expectations.  Nothing sleeps.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "retry.h"
#include "testlib.h"

/* ---- classification ------------------------------------------------------- */

static const struct {
	long status;
	const char *code;
	enum cw_xfer xfer;
	enum cw_retry_class want;
} class_rows[] = {
	{ 200, NULL, CW_XFER_OK, CW_RETRY_NONE },
	{ 400, "AccessDenied", CW_XFER_OK, CW_RETRY_NONE },
	{ 400, "ValidationError", CW_XFER_OK, CW_RETRY_NONE },
	{ 404, "ResourceNotFound", CW_XFER_OK, CW_RETRY_NONE },
	{ 403, "InvalidClientTokenId", CW_XFER_OK, CW_RETRY_NONE },
	{ 400, "Throttling", CW_XFER_OK, CW_RETRY_THROTTLING },
	{ 400, "ThrottlingException", CW_XFER_OK, CW_RETRY_THROTTLING },
	{ 400, "ThrottledException", CW_XFER_OK, CW_RETRY_THROTTLING },
	{ 400, "RequestThrottledException", CW_XFER_OK, CW_RETRY_THROTTLING },
	{ 400, "TooManyRequestsException", CW_XFER_OK, CW_RETRY_THROTTLING },
	{ 400, "ProvisionedThroughputExceededException", CW_XFER_OK, CW_RETRY_THROTTLING },
	{ 400, "TransactionInProgressException", CW_XFER_OK, CW_RETRY_THROTTLING },
	{ 503, "RequestLimitExceeded", CW_XFER_OK, CW_RETRY_THROTTLING },
	{ 509, "BandwidthLimitExceeded", CW_XFER_OK, CW_RETRY_THROTTLING },
	{ 400, "LimitExceededException", CW_XFER_OK, CW_RETRY_THROTTLING },
	{ 400, "RequestThrottled", CW_XFER_OK, CW_RETRY_THROTTLING },
	{ 503, "SlowDown", CW_XFER_OK, CW_RETRY_THROTTLING },
	{ 400, "PriorRequestNotComplete", CW_XFER_OK, CW_RETRY_THROTTLING },
	{ 400, "EC2ThrottledException", CW_XFER_OK, CW_RETRY_THROTTLING },
	{ 429, NULL, CW_XFER_OK, CW_RETRY_THROTTLING },
	{ 429, "", CW_XFER_OK, CW_RETRY_THROTTLING },
	{ 500, NULL, CW_XFER_OK, CW_RETRY_TRANSIENT },
	{ 502, "", CW_XFER_OK, CW_RETRY_TRANSIENT },
	{ 503, NULL, CW_XFER_OK, CW_RETRY_TRANSIENT },
	{ 504, NULL, CW_XFER_OK, CW_RETRY_TRANSIENT },
	{ 501, NULL, CW_XFER_OK, CW_RETRY_NONE },
	{ 408, "RequestTimeout", CW_XFER_OK, CW_RETRY_TRANSIENT },
	{ 400, "RequestTimeoutException", CW_XFER_OK, CW_RETRY_TRANSIENT },
	{ 500, "InternalError", CW_XFER_OK, CW_RETRY_TRANSIENT },
	{ 400, "InternalError", CW_XFER_OK, CW_RETRY_TRANSIENT },
	{ 400, "ExpiredToken", CW_XFER_OK, CW_RETRY_EXPIRED },
	{ 400, "ExpiredTokenException", CW_XFER_OK, CW_RETRY_EXPIRED },
	{ 400, "RequestExpired", CW_XFER_OK, CW_RETRY_EXPIRED },
	/* codes are case-sensitive, as the SDKs compare them */
	{ 400, "throttling", CW_XFER_OK, CW_RETRY_NONE },
	{ 0, NULL, CW_XFER_CONNECT, CW_RETRY_TRANSIENT },
	{ 0, NULL, CW_XFER_IO, CW_RETRY_TRANSIENT },
	{ 0, NULL, CW_XFER_TIMEOUT, CW_RETRY_TIMEOUT },
	{ 0, NULL, CW_XFER_TOOBIG, CW_RETRY_NONE },
	{ 0, NULL, CW_XFER_TLS, CW_RETRY_NONE },
	{ 0, NULL, CW_XFER_REFUSED, CW_RETRY_NONE },
	{ 0, NULL, CW_XFER_CANCELLED, CW_RETRY_NONE },
	{ 0, NULL, CW_XFER_OTHER, CW_RETRY_NONE },
	/* a transport failure decides even when a stale code is passed */
	{ 400, "AccessDenied", CW_XFER_TIMEOUT, CW_RETRY_TIMEOUT },
};

START_TEST(test_classify)
{
	size_t i = (size_t)_i;
	enum cw_retry_class got = cw_retry_classify(class_rows[i].status, class_rows[i].code,
						    class_rows[i].xfer);

	ck_assert_msg(got == class_rows[i].want, "row %zu (%ld %s %s): got %s, want %s", i,
		      class_rows[i].status, class_rows[i].code ? class_rows[i].code : "-",
		      cw_xfer_name(class_rows[i].xfer), cw_retry_class_name(got),
		      cw_retry_class_name(class_rows[i].want));
}
END_TEST

/* ---- one decision -------------------------------------------------------- */

static const struct {
	long status;
	const char *code;
	enum cw_xfer xfer;
	int attempt;         /* number of the attempt that failed */
	double rand;
	int tokens;          /* quota before */
	int max_attempts;
	enum cw_retry_action want;
	int64_t delay_ms;
	int tokens_after;
} rows[] = {
	/* full jitter: rand * min(2^(attempt-1), 20) s */
	{ 503, NULL, CW_XFER_OK, 1, 0.5, 500, 3, CW_RETRY_AGAIN, 500, 495 },
	{ 503, NULL, CW_XFER_OK, 2, 0.5, 495, 3, CW_RETRY_AGAIN, 1000, 490 },
	{ 503, NULL, CW_XFER_OK, 3, 0.5, 490, 3, CW_RETRY_STOP, 0, 490 },
	{ 500, NULL, CW_XFER_OK, 1, 0.0, 500, 3, CW_RETRY_AGAIN, 0, 495 },
	{ 400, "Throttling", CW_XFER_OK, 1, 0.25, 500, 3, CW_RETRY_AGAIN, 250, 495 },
	{ 400, "ThrottlingException", CW_XFER_OK, 2, 0.75, 500, 3, CW_RETRY_AGAIN, 1500, 495 },
	{ 429, NULL, CW_XFER_OK, 1, 0.1, 500, 3, CW_RETRY_AGAIN, 100, 495 },
	{ 0, NULL, CW_XFER_CONNECT, 2, 0.1, 500, 3, CW_RETRY_AGAIN, 200, 495 },
	{ 0, NULL, CW_XFER_IO, 1, 0.9, 500, 3, CW_RETRY_AGAIN, 900, 495 },
	/* a timeout costs 10 tokens */
	{ 0, NULL, CW_XFER_TIMEOUT, 1, 0.999, 500, 3, CW_RETRY_AGAIN, 999, 490 },
	/* the cap: 2^(6-1) = 32 s > 20 s */
	{ 503, NULL, CW_XFER_OK, 6, 0.5, 500, 10, CW_RETRY_AGAIN, 10000, 495 },
	{ 503, NULL, CW_XFER_OK, 5, 0.5, 500, 10, CW_RETRY_AGAIN, 8000, 495 },
	{ 503, NULL, CW_XFER_OK, 9, 1.0, 500, 10, CW_RETRY_AGAIN, 20000, 495 },
	/* not retryable: nothing taken */
	{ 400, "AccessDenied", CW_XFER_OK, 1, 0.5, 500, 3, CW_RETRY_STOP, 0, 500 },
	{ 404, "ResourceNotFound", CW_XFER_OK, 1, 0.5, 500, 3, CW_RETRY_STOP, 0, 500 },
	{ 0, NULL, CW_XFER_TOOBIG, 1, 0.5, 500, 3, CW_RETRY_STOP, 0, 500 },
	{ 0, NULL, CW_XFER_TLS, 1, 0.5, 500, 3, CW_RETRY_STOP, 0, 500 },
	/* quota: 5 left pays a retry, 4 does not; a timeout needs 10 */
	{ 503, NULL, CW_XFER_OK, 1, 0.5, 5, 3, CW_RETRY_AGAIN, 500, 0 },
	{ 503, NULL, CW_XFER_OK, 1, 0.5, 4, 3, CW_RETRY_STOP, 0, 4 },
	{ 0, NULL, CW_XFER_TIMEOUT, 1, 0.5, 9, 3, CW_RETRY_STOP, 0, 9 },
	{ 0, NULL, CW_XFER_TIMEOUT, 1, 0.5, 10, 3, CW_RETRY_AGAIN, 500, 0 },
	{ 400, "Throttling", CW_XFER_OK, 1, 0.5, 0, 3, CW_RETRY_STOP, 0, 0 },
	/* expired token: refresh, no wait, no tokens, even on the last attempt */
	{ 400, "ExpiredToken", CW_XFER_OK, 1, 0.5, 500, 3, CW_RETRY_REFRESH, 0, 500 },
	{ 400, "ExpiredTokenException", CW_XFER_OK, 3, 0.5, 0, 3, CW_RETRY_REFRESH, 0, 0 },
	/* max_attempts 1: never retry */
	{ 503, NULL, CW_XFER_OK, 1, 0.5, 500, 1, CW_RETRY_STOP, 0, 500 },
};

START_TEST(test_decide_table)
{
	size_t i = (size_t)_i;
	struct cw_retry_quota q;
	struct cw_retry_state st;
	struct cw_retry_policy pol = { rows[i].max_attempts, 0, false, 0 };
	struct cw_retry_decision d;

	cw_retry_quota_init(&q, 500);
	q.tokens = rows[i].tokens;
	cw_retry_state_init(&st);
	st.attempts = rows[i].attempt - 1;
	cw_retry_decide(&st, &pol, &q, rows[i].status, rows[i].code, rows[i].xfer,
			rows[i].rand, -1, &d);
	ck_assert_msg(d.action == rows[i].want, "row %zu: action %d, want %d (%s)", i,
		      (int)d.action, (int)rows[i].want, d.why);
	ck_assert_msg(d.delay_ms == rows[i].delay_ms, "row %zu: delay %lld, want %lld", i,
		      (long long)d.delay_ms, (long long)rows[i].delay_ms);
	ck_assert_msg(cw_retry_quota_tokens(&q) == rows[i].tokens_after,
		      "row %zu: tokens %d, want %d", i, cw_retry_quota_tokens(&q),
		      rows[i].tokens_after);
	ck_assert_int_eq(st.attempts, rows[i].attempt);
	cw_retry_quota_release(&q);
}
END_TEST

START_TEST(test_stop_reasons)
{
	struct cw_retry_quota q;
	struct cw_retry_state st;
	struct cw_retry_decision d;

	cw_retry_quota_init(&q, 0);
	ck_assert_int_eq(cw_retry_quota_tokens(&q), 500);
	cw_retry_state_init(&st);
	cw_retry_decide(&st, NULL, &q, 400, "AccessDenied", CW_XFER_OK, 0.5, -1, &d);
	ck_assert_str_eq(d.why, "not retryable");
	ck_assert_int_eq(d.cls, CW_RETRY_NONE);

	q.tokens = 1;
	cw_retry_state_init(&st);
	cw_retry_decide(&st, NULL, &q, 503, NULL, CW_XFER_OK, 0.5, -1, &d);
	ck_assert_str_eq(d.why, "retry quota exhausted");
	ck_assert_int_eq(d.cls, CW_RETRY_TRANSIENT);

	q.tokens = 500;
	cw_retry_state_init(&st);
	st.attempts = 2;
	cw_retry_decide(&st, NULL, &q, 400, "Throttling", CW_XFER_OK, 0.5, -1, &d);
	ck_assert_str_eq(d.why, "attempts exhausted");
	ck_assert_int_eq(d.cls, CW_RETRY_THROTTLING);
	cw_retry_quota_release(&q);
}
END_TEST

/* ---- whole requests ------------------------------------------------------ */

/* A request that retried twice then succeeded gives back its last cost. */
START_TEST(test_refund_after_retry)
{
	struct cw_retry_quota q;
	struct cw_retry_state st;
	struct cw_retry_decision d;

	cw_retry_quota_init(&q, 500);
	cw_retry_state_init(&st);
	cw_retry_decide(&st, NULL, &q, 503, NULL, CW_XFER_OK, 0.5, -1, &d);
	ck_assert_int_eq(d.action, CW_RETRY_AGAIN);
	cw_retry_decide(&st, NULL, &q, 0, NULL, CW_XFER_TIMEOUT, 0.5, -1, &d);
	ck_assert_int_eq(d.action, CW_RETRY_AGAIN);
	ck_assert_int_eq(cw_retry_quota_tokens(&q), 500 - 5 - 10);
	cw_retry_on_success(&st, &q);
	/* the last retry (a timeout) cost 10: 485 + 10 */
	ck_assert_int_eq(cw_retry_quota_tokens(&q), 495);
	cw_retry_quota_release(&q);
}
END_TEST

/* A request that did not retry adds 1, never above the maximum. */
START_TEST(test_refund_no_retry)
{
	struct cw_retry_quota q;
	struct cw_retry_state st;

	cw_retry_quota_init(&q, 500);
	q.tokens = 495;
	cw_retry_state_init(&st);
	cw_retry_on_success(&st, &q);
	ck_assert_int_eq(cw_retry_quota_tokens(&q), 496);
	q.tokens = 500;
	cw_retry_on_success(&st, &q);
	ck_assert_int_eq(cw_retry_quota_tokens(&q), 500);
	cw_retry_quota_refund(&q, 1000);
	ck_assert_int_eq(cw_retry_quota_tokens(&q), 500);
	cw_retry_quota_release(&q);
}
END_TEST

/* 100 failing requests drain 500 tokens in exactly 100 retries. */
START_TEST(test_quota_exhaustion)
{
	struct cw_retry_quota q;
	int retries = 0;

	cw_retry_quota_init(&q, 500);
	for (int r = 0; r < 150; r++) {
		struct cw_retry_state st;
		struct cw_retry_decision d;

		cw_retry_state_init(&st);
		cw_retry_decide(&st, NULL, &q, 503, NULL, CW_XFER_OK, 0.5, -1, &d);
		if (d.action == CW_RETRY_AGAIN)
			retries++;
	}
	ck_assert_int_eq(retries, 100);
	ck_assert_int_eq(cw_retry_quota_tokens(&q), 0);
	/* 5 successes without retries earn one more retry */
	for (int r = 0; r < 5; r++) {
		struct cw_retry_state st;

		cw_retry_state_init(&st);
		cw_retry_on_success(&st, &q);
	}
	ck_assert_int_eq(cw_retry_quota_tokens(&q), 5);
	ck_assert_int_eq(cw_retry_quota_acquire(&q, CW_RETRY_THROTTLING), 5);
	ck_assert_int_eq(cw_retry_quota_acquire(&q, CW_RETRY_THROTTLING), 0);
	cw_retry_quota_release(&q);
}
END_TEST

/* Expired token: one refresh, free of attempts and tokens; a second
 * ExpiredToken stops. */
START_TEST(test_expired_token_path)
{
	struct cw_retry_quota q;
	struct cw_retry_state st;
	struct cw_retry_policy pol = { 3, 0, false, 0 };
	struct cw_retry_decision d;

	cw_retry_quota_init(&q, 500);
	cw_retry_state_init(&st);
	cw_retry_decide(&st, &pol, &q, 503, NULL, CW_XFER_OK, 0.5, -1, &d);
	ck_assert_int_eq(d.action, CW_RETRY_AGAIN);          /* attempt 1 */
	cw_retry_decide(&st, &pol, &q, 400, "ExpiredToken", CW_XFER_OK, 0.5, -1, &d);
	ck_assert_int_eq(d.action, CW_RETRY_REFRESH);        /* attempt 2, free */
	ck_assert_int_eq(d.cls, CW_RETRY_EXPIRED);
	ck_assert(st.refreshed);
	cw_retry_decide(&st, &pol, &q, 503, NULL, CW_XFER_OK, 0.5, -1, &d);
	ck_assert_int_eq(d.action, CW_RETRY_AGAIN);          /* attempt 3, counts as 2 */
	ck_assert_int_eq(d.delay_ms, 1000);
	cw_retry_decide(&st, &pol, &q, 503, NULL, CW_XFER_OK, 0.5, -1, &d);
	ck_assert_int_eq(d.action, CW_RETRY_STOP);           /* attempt 4, counts as 3 */
	ck_assert_int_eq(st.attempts, 4);
	ck_assert_int_eq(cw_retry_quota_tokens(&q), 490);

	cw_retry_state_init(&st);
	cw_retry_decide(&st, &pol, &q, 400, "ExpiredToken", CW_XFER_OK, 0.5, -1, &d);
	ck_assert_int_eq(d.action, CW_RETRY_REFRESH);
	cw_retry_decide(&st, &pol, &q, 400, "ExpiredToken", CW_XFER_OK, 0.5, -1, &d);
	ck_assert_int_eq(d.action, CW_RETRY_STOP);
	ck_assert_int_eq(d.cls, CW_RETRY_EXPIRED);
	cw_retry_quota_release(&q);
}
END_TEST

/* Paced throttling: retried until the window ends, whatever max_attempts
 * says, without touching the retry quota; other errors keep the attempts. */
START_TEST(test_throttle_window)
{
	struct cw_retry_quota q;
	struct cw_retry_state st;
	struct cw_retry_policy pol = { 3, 0, false, 60000 };
	struct cw_retry_decision d;

	cw_retry_quota_init(&q, 500);
	cw_retry_state_init(&st);
	for (int i = 0; i < 50; i++) {
		st.elapsed_ms = i * 1000;
		cw_retry_decide(&st, &pol, &q, 400, "Throttling", CW_XFER_OK, 0.5, -1, &d);
		ck_assert_int_eq(d.action, CW_RETRY_AGAIN);
		ck_assert_int_le(d.delay_ms, CW_RETRY_PACED_BACKOFF_MS);
	}
	ck_assert_int_eq(cw_retry_quota_tokens(&q), 500);
	/* near the end: never waits past it; after it: stop */
	st.elapsed_ms = 59900;
	cw_retry_decide(&st, &pol, &q, 400, "Throttling", CW_XFER_OK, 0.99, -1, &d);
	ck_assert_int_eq(d.action, CW_RETRY_AGAIN);
	ck_assert_int_le(d.delay_ms, 100);
	st.elapsed_ms = 60000;
	cw_retry_decide(&st, &pol, &q, 400, "Throttling", CW_XFER_OK, 0.5, -1, &d);
	ck_assert_int_eq(d.action, CW_RETRY_STOP);
	/* a 503 counts attempts as before */
	cw_retry_state_init(&st);
	cw_retry_decide(&st, &pol, &q, 503, NULL, CW_XFER_OK, 0.5, -1, &d);
	cw_retry_decide(&st, &pol, &q, 503, NULL, CW_XFER_OK, 0.5, -1, &d);
	cw_retry_decide(&st, &pol, &q, 503, NULL, CW_XFER_OK, 0.5, -1, &d);
	ck_assert_int_eq(d.action, CW_RETRY_STOP);
	cw_retry_quota_release(&q);
}
END_TEST

START_TEST(test_backoff)
{
	struct cw_retry_policy pol = { 3, 0, false, 0 };
	struct cw_retry_policy small = { 3, 1500, false, 0 };

	ck_assert_int_eq(cw_retry_backoff_ms(&pol, 1, 1.0), 1000);
	ck_assert_int_eq(cw_retry_backoff_ms(&pol, 2, 1.0), 2000);
	ck_assert_int_eq(cw_retry_backoff_ms(&pol, 3, 1.0), 4000);
	ck_assert_int_eq(cw_retry_backoff_ms(&pol, 5, 1.0), 16000);
	ck_assert_int_eq(cw_retry_backoff_ms(&pol, 6, 1.0), 20000);
	ck_assert_int_eq(cw_retry_backoff_ms(&pol, 1000000, 0.5), 10000);
	ck_assert_int_eq(cw_retry_backoff_ms(NULL, 0, 0.5), 500);
	ck_assert_int_eq(cw_retry_backoff_ms(&pol, 1, -3.0), 0);
	ck_assert_int_eq(cw_retry_backoff_ms(&pol, 1, 7.0), 1000);
	ck_assert_int_eq(cw_retry_backoff_ms(&small, 2, 1.0), 1500);
}
END_TEST

START_TEST(test_retry_after)
{
	struct cw_retry_quota q;
	struct cw_retry_state st;
	struct cw_retry_policy aws = { 3, 0, false, 0 };
	struct cw_retry_policy slack = { 3, 0, true, 0 };
	struct cw_retry_decision d;

	ck_assert_int_eq(cw_retry_after_parse("3"), 3000);
	ck_assert_int_eq(cw_retry_after_parse(" 0"), 0);
	ck_assert_int_eq(cw_retry_after_parse("-1"), -1);
	ck_assert_int_eq(cw_retry_after_parse("1.5"), -1);
	ck_assert_int_eq(cw_retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT"), -1);
	ck_assert_int_eq(cw_retry_after_parse("99999999999999999999"), -1);
	ck_assert_int_eq(cw_retry_after_parse(NULL), -1);

	cw_retry_quota_init(&q, 500);
	cw_retry_state_init(&st);
	cw_retry_decide(&st, &aws, &q, 429, NULL, CW_XFER_OK, 0.5, 3000, &d);
	ck_assert_int_eq(d.delay_ms, 500); /* the SDKs ignore it for AWS */
	cw_retry_state_init(&st);
	cw_retry_decide(&st, &slack, &q, 429, NULL, CW_XFER_OK, 0.5, 3000, &d);
	ck_assert_int_eq(d.delay_ms, 3000);
	cw_retry_state_init(&st);
	cw_retry_decide(&st, &slack, &q, 429, NULL, CW_XFER_OK, 0.5, 3600000, &d);
	ck_assert_int_eq(d.delay_ms, 20000); /* bounded */
	cw_retry_state_init(&st);
	cw_retry_decide(&st, &slack, &q, 503, NULL, CW_XFER_OK, 0.5, 3000, &d);
	ck_assert_int_eq(d.delay_ms, 500); /* only for throttling */
	cw_retry_quota_release(&q);
}
END_TEST

/* Many threads taking and giving back never lose or invent a token. */
static void *churn(void *arg)
{
	struct cw_retry_quota *q = arg;

	for (int i = 0; i < 20000; i++) {
		int got = cw_retry_quota_acquire(q, i % 3 ? CW_RETRY_TRANSIENT : CW_RETRY_TIMEOUT);

		cw_retry_quota_refund(q, got);
	}
	return NULL;
}

START_TEST(test_quota_threads)
{
	struct cw_retry_quota q;
	pthread_t th[4];

	cw_retry_quota_init(&q, 500);
	q.tokens = 23;
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, churn, &q), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	ck_assert_int_eq(cw_retry_quota_tokens(&q), 23);
	cw_retry_quota_release(&q);
}
END_TEST

static Suite *retry_suite(void)
{
	Suite *s = suite_create("retry");
	TCase *tc = tcase_create("standard");

	tcase_add_loop_test(tc, test_classify, 0,
			    (int)(sizeof(class_rows) / sizeof(class_rows[0])));
	tcase_add_loop_test(tc, test_decide_table, 0, (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_test(tc, test_stop_reasons);
	tcase_add_test(tc, test_refund_after_retry);
	tcase_add_test(tc, test_refund_no_retry);
	tcase_add_test(tc, test_quota_exhaustion);
	tcase_add_test(tc, test_expired_token_path);
	tcase_add_test(tc, test_backoff);
	tcase_add_test(tc, test_throttle_window);
	tcase_add_test(tc, test_retry_after);
	tcase_add_test(tc, test_quota_threads);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(retry_suite());
}
