/*
 * ratelimit.h - token buckets that keep cwsweep under CloudWatch's and
 * STS's request quotas, one bucket per account-region (per API).
 *
 * A bucket holds up to `burst` tokens and refills at `rate` tokens a
 * second.  cw_ratelimit_acquire() RESERVES a token and says how long to
 * wait before using it, so callers queue up in order without holding any
 * lock while they wait (the generic cell rate algorithm, in microseconds).
 *
 * Threads: every function is thread-safe.  Each bucket has its own mutex,
 * held for a few instructions; the registry's mutex is held only to find
 * or insert a bucket, never while anybody waits for a token, so one
 * account never waits on another account's bucket.
 *
 * Time is injectable (struct cw_clock) so tests never sleep.
 */
#ifndef CW_RATELIMIT_H
#define CW_RATELIMIT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cw_clock {
	/* Monotonic milliseconds; NULL = cw_time_mono_ms(). */
	int64_t (*now_ms)(void *env);
	/* Sleep about ms (> 0) milliseconds; NULL = nanosleep.  Called by
	 * cw_ratelimit_wait on the waiting thread, no lock held. */
	void (*sleep_ms)(void *env, int64_t ms);
	void *env; /* borrowed */
};

struct cw_ratelimit;

/*
 * A bucket that starts full.  rate: tokens per second (> 0; <= 0 or NaN
 * means unlimited: acquire always returns 0).  burst: bucket size (0 is
 * taken as 1).  clock: copied; NULL = real time.
 */
int cw_ratelimit_new(struct cw_ratelimit **out, double rate, unsigned burst,
		     const struct cw_clock *clock);
void cw_ratelimit_free(struct cw_ratelimit *rl);

/*
 * Take one token.  Returns 0 when it may be used now, else the number of
 * milliseconds the caller must wait first (the token is reserved either
 * way: do not call again for the same request).  Never blocks.
 */
int64_t cw_ratelimit_acquire(struct cw_ratelimit *rl);

/*
 * Take one token and wait until it may be used, in slices of at most
 * 100 ms, checking *stop (may be NULL) before each slice.  Returns 0, or
 * CW_EINTR as soon as *stop is true (set it from a signal handler or on
 * cancel).
 */
int cw_ratelimit_wait(struct cw_ratelimit *rl, const atomic_bool *stop);

/*
 * Adaptive rate: tell the bucket how an answer went.  A throttled answer
 * cuts the rate to 70 % (once per 500 ms, however many answers were
 * throttled together; never below 0.5 a second) and the burst to the
 * rate; answers that pass let it grow back along the CUBIC curve the AWS
 * SDKs' "adaptive" retry mode uses, up to the configured rate.  So a
 * sweep slows to what the quota allows and speeds up again after.
 */
void cw_ratelimit_feedback(struct cw_ratelimit *rl, bool throttled);
/* The rate now (tokens a second; INFINITY when unlimited). */
double cw_ratelimit_rate(struct cw_ratelimit *rl);
/* Throttled answers reported so far. */
uint64_t cw_ratelimit_throttles(struct cw_ratelimit *rl);

/* Tokens in the bucket now; negative while reservations are queued. */
double cw_ratelimit_tokens(struct cw_ratelimit *rl);

/* ---- a registry of buckets by key --------------------------------------- */

struct cw_rl_registry;

/* Every bucket it creates gets rate, burst and clock (copied). */
int cw_rl_registry_new(struct cw_rl_registry **out, double rate, unsigned burst,
		       const struct cw_clock *clock);
/* Frees every bucket: no thread may still use one. NULL is a no-op. */
void cw_rl_registry_free(struct cw_rl_registry *r);

/*
 * The bucket for key (e.g. "111111111111/us-east-1"), created on first
 * use.  Borrowed: valid until the registry is freed.  NULL only when out
 * of memory.  Look it up once per job, not per token.
 */
struct cw_ratelimit *cw_rl_registry_get(struct cw_rl_registry *r, const char *key);

/* Number of buckets so far. */
size_t cw_rl_registry_count(struct cw_rl_registry *r);

#endif
