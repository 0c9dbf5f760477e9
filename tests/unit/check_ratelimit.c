/*
 * check_ratelimit.c - token buckets with an injected clock: exact token
 * counts and waits, interruptible waiting, the keyed registry, and
 * concurrent use (run it under -DCWSWEEP_SANITIZE=thread too).
 *
 * The fake clock only moves when a test (or the injected sleep) moves it,
 * so nothing here sleeps.
 */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "err.h"
#include "ratelimit.h"
#include "testlib.h"

struct fake_clock {
	atomic_llong now;      /* ms */
	atomic_llong slept;    /* ms, summed */
	atomic_int sleeps;     /* calls */
	atomic_bool *stop;     /* set after stop_after sleeps */
	int stop_after;
};

static int64_t fake_now(void *env)
{
	return atomic_load(&((struct fake_clock *)env)->now);
}

static void fake_sleep(void *env, int64_t ms)
{
	struct fake_clock *c = env;

	atomic_fetch_add(&c->now, ms);
	atomic_fetch_add(&c->slept, ms);
	if (atomic_fetch_add(&c->sleeps, 1) + 1 == c->stop_after && c->stop)
		atomic_store(c->stop, true);
}

static struct cw_clock clock_of(struct fake_clock *c, long long start)
{
	struct cw_clock k = { fake_now, fake_sleep, c };

	atomic_init(&c->now, start);
	atomic_init(&c->slept, 0);
	atomic_init(&c->sleeps, 0);
	c->stop = NULL;
	c->stop_after = 0;
	return k;
}

START_TEST(burst_then_rate)
{
	struct fake_clock fc;
	struct cw_clock ck = clock_of(&fc, 1000);
	struct cw_ratelimit *rl = NULL;

	/* 2 tokens a second, bucket of 3, starts full */
	ck_assert_int_eq(cw_ratelimit_new(&rl, 2.0, 3, &ck), 0);
	ck_assert_double_eq(cw_ratelimit_tokens(rl), 3.0);
	ck_assert_int_eq(cw_ratelimit_acquire(rl), 0);
	ck_assert_int_eq(cw_ratelimit_acquire(rl), 0);
	ck_assert_double_eq(cw_ratelimit_tokens(rl), 1.0);
	ck_assert_int_eq(cw_ratelimit_acquire(rl), 0);
	ck_assert_double_eq(cw_ratelimit_tokens(rl), 0.0);
	/* empty: the next token comes in 1/2 s, the one after in 1 s */
	ck_assert_int_eq(cw_ratelimit_acquire(rl), 500);
	ck_assert_double_eq(cw_ratelimit_tokens(rl), -1.0);
	atomic_store(&fc.now, 1250);
	ck_assert_double_eq(cw_ratelimit_tokens(rl), -0.5);
	ck_assert_int_eq(cw_ratelimit_acquire(rl), 750);
	ck_assert_double_eq(cw_ratelimit_tokens(rl), -1.5);
	/* 2.5 s later: both reservations served, 2 tokens back */
	atomic_store(&fc.now, 3750);
	ck_assert_double_eq(cw_ratelimit_tokens(rl), 3.0);
	/* idle for long: never more than the burst */
	atomic_store(&fc.now, 100000);
	ck_assert_double_eq(cw_ratelimit_tokens(rl), 3.0);
	ck_assert_int_eq(cw_ratelimit_acquire(rl), 0);
	ck_assert_double_eq(cw_ratelimit_tokens(rl), 2.0);
	/* half a token's time refills half a token */
	atomic_store(&fc.now, 100250);
	ck_assert_double_eq(cw_ratelimit_tokens(rl), 2.5);
	cw_ratelimit_free(rl);
}
END_TEST

START_TEST(waits_round_up)
{
	struct fake_clock fc;
	struct cw_clock ck = clock_of(&fc, 0);
	struct cw_ratelimit *rl = NULL;

	/* 3/s: one token every 333,333 us; burst 0 counts as 1 */
	ck_assert_int_eq(cw_ratelimit_new(&rl, 3.0, 0, &ck), 0);
	ck_assert_int_eq(cw_ratelimit_acquire(rl), 0);
	ck_assert_int_eq(cw_ratelimit_acquire(rl), 334);
	ck_assert_int_eq(cw_ratelimit_acquire(rl), 667);
	atomic_store(&fc.now, 667);
	ck_assert_int_eq(cw_ratelimit_acquire(rl), 333); /* due at 999.999 ms */
	cw_ratelimit_free(rl);

	/* 40/s (GetMetricData default), burst 40: the 41st waits 25 ms */
	ck_assert_int_eq(cw_ratelimit_new(&rl, 40.0, 40, &ck), 0);
	for (int i = 0; i < 40; i++)
		ck_assert_int_eq(cw_ratelimit_acquire(rl), 0);
	ck_assert_int_eq(cw_ratelimit_acquire(rl), 25);
	ck_assert_int_eq(cw_ratelimit_acquire(rl), 50);
	cw_ratelimit_free(rl);
}
END_TEST

START_TEST(unlimited)
{
	struct cw_ratelimit *rl = NULL;

	ck_assert_int_eq(cw_ratelimit_new(&rl, 0, 5, NULL), 0);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(cw_ratelimit_acquire(rl), 0);
	ck_assert(isinf(cw_ratelimit_tokens(rl)));
	ck_assert_int_eq(cw_ratelimit_wait(rl, NULL), 0);
	cw_ratelimit_free(rl);
	ck_assert_int_eq(cw_ratelimit_new(&rl, NAN, 5, NULL), 0);
	ck_assert_int_eq(cw_ratelimit_acquire(rl), 0);
	cw_ratelimit_free(rl);
	cw_ratelimit_free(NULL);
}
END_TEST

START_TEST(wait_sleeps_in_slices)
{
	struct fake_clock fc;
	struct cw_clock ck = clock_of(&fc, 5000);
	struct cw_ratelimit *rl = NULL;

	ck_assert_int_eq(cw_ratelimit_new(&rl, 2.0, 1, &ck), 0);
	ck_assert_int_eq(cw_ratelimit_wait(rl, NULL), 0); /* the free token */
	ck_assert_int_eq(atomic_load(&fc.sleeps), 0);
	ck_assert_int_eq(cw_ratelimit_wait(rl, NULL), 0); /* 500 ms: 5 slices */
	ck_assert_int_eq(atomic_load(&fc.slept), 500);
	ck_assert_int_eq(atomic_load(&fc.sleeps), 5);
	ck_assert_int_eq(atomic_load(&fc.now), 5500);
	cw_ratelimit_free(rl);
}
END_TEST

START_TEST(wait_is_interruptible)
{
	struct fake_clock fc;
	struct cw_clock ck = clock_of(&fc, 0);
	struct cw_ratelimit *rl = NULL;
	atomic_bool stop;

	atomic_init(&stop, false);
	ck_assert_int_eq(cw_ratelimit_new(&rl, 1.0, 1, &ck), 0);
	ck_assert_int_eq(cw_ratelimit_acquire(rl), 0);
	/* 1 s to wait; the stop flag rises during the 3rd slice */
	fc.stop = &stop;
	fc.stop_after = 3;
	ck_assert_int_eq(cw_ratelimit_wait(rl, &stop), CW_EINTR);
	ck_assert_int_eq(atomic_load(&fc.slept), 300);
	/* already stopped: no sleep at all */
	ck_assert_int_eq(cw_ratelimit_wait(rl, &stop), CW_EINTR);
	ck_assert_int_eq(atomic_load(&fc.slept), 300);
	cw_ratelimit_free(rl);
}
END_TEST

START_TEST(registry_keys)
{
	struct fake_clock fc;
	struct cw_clock ck = clock_of(&fc, 0);
	struct cw_rl_registry *r = NULL;
	struct cw_ratelimit *a, *b, *all[1000];
	char key[64];

	ck_assert_int_eq(cw_rl_registry_new(&r, 1.0, 2, &ck), 0);
	a = cw_rl_registry_get(r, "111111111111/us-east-1");
	b = cw_rl_registry_get(r, "111111111111/eu-west-1");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a, b);
	ck_assert_ptr_eq(cw_rl_registry_get(r, "111111111111/us-east-1"), a);
	ck_assert_uint_eq(cw_rl_registry_count(r), 2);
	/* buckets are independent: draining one leaves the other full */
	ck_assert_int_eq(cw_ratelimit_acquire(a), 0);
	ck_assert_int_eq(cw_ratelimit_acquire(a), 0);
	ck_assert_int_eq(cw_ratelimit_acquire(a), 1000);
	ck_assert_double_eq(cw_ratelimit_tokens(b), 2.0);
	/* many keys: the table grows, pointers stay put */
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "%012d/us-west-2", i);
		all[i] = cw_rl_registry_get(r, key);
		ck_assert_ptr_nonnull(all[i]);
	}
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "%012d/us-west-2", i);
		ck_assert_ptr_eq(cw_rl_registry_get(r, key), all[i]);
	}
	ck_assert_ptr_eq(cw_rl_registry_get(r, "111111111111/us-east-1"), a);
	ck_assert_uint_eq(cw_rl_registry_count(r), 1002);
	cw_rl_registry_free(r);
	cw_rl_registry_free(NULL);
}
END_TEST

/* ---- concurrency --------------------------------------------------------- */

#define NTHREADS 8
#define PER_THREAD 1000

struct acq_arg {
	struct cw_ratelimit *rl;
	long long sum, max;
};

static void *acq_thread(void *arg)
{
	struct acq_arg *a = arg;

	for (int i = 0; i < PER_THREAD; i++) {
		long long w = cw_ratelimit_acquire(a->rl);

		a->sum += w;
		if (w > a->max)
			a->max = w;
	}
	return NULL;
}

START_TEST(concurrent_reservations)
{
	struct fake_clock fc;
	struct cw_clock ck = clock_of(&fc, 42);
	struct cw_ratelimit *rl = NULL;
	struct acq_arg args[NTHREADS] = { { 0 } };
	pthread_t th[NTHREADS];
	long long sum = 0, max = 0;

	/* 1000/s (1 ms a token), burst 10, time frozen: the k-th reservation
	 * waits max(0, k - 9) ms whatever the interleaving, so the waits are
	 * 0 (10 times), 1, 2, ..., 7990. */
	ck_assert_int_eq(cw_ratelimit_new(&rl, 1000.0, 10, &ck), 0);
	for (int i = 0; i < NTHREADS; i++) {
		args[i].rl = rl;
		ck_assert_int_eq(pthread_create(&th[i], NULL, acq_thread, &args[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		sum += args[i].sum;
		if (args[i].max > max)
			max = args[i].max;
	}
	ck_assert_int_eq(max, 7990);
	ck_assert_int_eq(sum, 7990LL * 7991 / 2);
	ck_assert_double_eq(cw_ratelimit_tokens(rl), -7990.0);
	cw_ratelimit_free(rl);
}
END_TEST

#define NKEYS 200

struct reg_arg {
	struct cw_rl_registry *r;
	struct cw_ratelimit *got[NKEYS];
	int offset;
};

static void *reg_thread(void *arg)
{
	struct reg_arg *a = arg;
	char key[64];

	for (int j = 0; j < NKEYS; j++) {
		int i = (j + a->offset) % NKEYS; /* threads collide in different orders */

		snprintf(key, sizeof(key), "%012d/ap-south-1", i);
		a->got[i] = cw_rl_registry_get(a->r, key);
		if (a->got[i])
			cw_ratelimit_acquire(a->got[i]);
	}
	return NULL;
}

START_TEST(concurrent_registry)
{
	struct fake_clock fc;
	struct cw_clock ck = clock_of(&fc, 0);
	struct cw_rl_registry *r = NULL;
	static struct reg_arg args[NTHREADS];
	pthread_t th[NTHREADS];

	ck_assert_int_eq(cw_rl_registry_new(&r, 50.0, 50, &ck), 0);
	for (int i = 0; i < NTHREADS; i++) {
		args[i].r = r;
		args[i].offset = i * 37;
		ck_assert_int_eq(pthread_create(&th[i], NULL, reg_thread, &args[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	ck_assert_uint_eq(cw_rl_registry_count(r), NKEYS);
	for (int k = 0; k < NKEYS; k++) {
		ck_assert_ptr_nonnull(args[0].got[k]);
		for (int i = 1; i < NTHREADS; i++)
			ck_assert_ptr_eq(args[i].got[k], args[0].got[k]);
		/* one token per thread from each bucket */
		ck_assert_double_eq(cw_ratelimit_tokens(args[0].got[k]), 50.0 - NTHREADS);
	}
	cw_rl_registry_free(r);
}
END_TEST

/* Adaptive: a throttle cuts the rate to 70 % (once per burst of throttled
 * answers) and the burst with it; success grows it back along the cubic
 * curve to the configured rate, never above. */
START_TEST(adaptive_backoff_and_recovery)
{
	struct fake_clock fc;
	struct cw_clock ck = clock_of(&fc, 1000);
	struct cw_ratelimit *rl = NULL;

	ck_assert_int_eq(cw_ratelimit_new(&rl, 40.0, 40, &ck), 0);
	ck_assert_double_eq(cw_ratelimit_rate(rl), 40.0);
	cw_ratelimit_feedback(rl, false);
	ck_assert_double_eq(cw_ratelimit_rate(rl), 40.0);
	cw_ratelimit_feedback(rl, true);
	ck_assert_double_eq_tol(cw_ratelimit_rate(rl), 28.0, 1e-9);
	/* throttled answers of the same moment count once */
	cw_ratelimit_feedback(rl, true);
	cw_ratelimit_feedback(rl, true);
	ck_assert_double_eq_tol(cw_ratelimit_rate(rl), 28.0, 1e-9);
	ck_assert_uint_eq(cw_ratelimit_throttles(rl), 3);
	/* sustained throttling converges below a 5/s quota */
	for (int i = 0; i < 6; i++) {
		atomic_fetch_add(&fc.now, 500);
		cw_ratelimit_feedback(rl, true);
	}
	ck_assert_double_lt(cw_ratelimit_rate(rl), 5.0);
	ck_assert_double_ge(cw_ratelimit_rate(rl), 0.5);
	/* the burst shrank with it: the bucket drains after about rate tokens */
	atomic_fetch_add(&fc.now, 60000);
	for (int i = 0; i < 4; i++)
		cw_ratelimit_acquire(rl);
	ck_assert_int_gt(cw_ratelimit_acquire(rl), 0);
	/* recovery: slow at first, back to the configured rate, never above */
	double before = cw_ratelimit_rate(rl);
	atomic_fetch_add(&fc.now, 100);
	cw_ratelimit_feedback(rl, false);
	ck_assert_double_ge(cw_ratelimit_rate(rl), before);
	for (int i = 0; i < 120; i++) {
		atomic_fetch_add(&fc.now, 1000);
		cw_ratelimit_feedback(rl, false);
	}
	ck_assert_double_eq(cw_ratelimit_rate(rl), 40.0);
	/* full burst again */
	atomic_fetch_add(&fc.now, 10000);
	for (int i = 0; i < 40; i++)
		ck_assert_int_eq(cw_ratelimit_acquire(rl), 0);
	cw_ratelimit_free(rl);
}
END_TEST

static Suite *ratelimit_suite(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("ratelimit");

	tcase_add_test(tc, burst_then_rate);
	tcase_add_test(tc, waits_round_up);
	tcase_add_test(tc, unlimited);
	tcase_add_test(tc, wait_sleeps_in_slices);
	tcase_add_test(tc, wait_is_interruptible);
	tcase_add_test(tc, registry_keys);
	tcase_add_test(tc, concurrent_reservations);
	tcase_add_test(tc, concurrent_registry);
	tcase_add_test(tc, adaptive_backoff_and_recovery);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(ratelimit_suite());
}
