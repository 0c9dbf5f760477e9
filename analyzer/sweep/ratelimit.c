/*
 * ratelimit.c - token buckets (GCRA) and a keyed registry of them.
 *
 * A bucket keeps one number, `tat` (the theoretical arrival time, in
 * microseconds): the moment the bucket would be full again.  With
 * T = 1e6/rate and tau = (burst - 1) * T, a request at `now` may go at
 * max(tat, now) - tau and moves tat on by T.  Tokens at now are
 * (now + tau + T - max(tat, now)) / T.  Integer microseconds keep the
 * arithmetic exact for the tests.
 *
 * Locking: rl->lock guards tat; r->lock guards the registry's table and
 * count.  Nobody holds either lock while sleeping.
 */
#include "ratelimit.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "strutil.h"
#include "timeutil.h"

#define RL_SLICE_MS 100

struct cw_ratelimit {
	pthread_mutex_t lock;
	struct cw_clock clock;
	bool unlimited;
	int64_t t_us;   /* emission interval */
	int64_t tau_us; /* burst tolerance */
	int64_t tat_us; /* under lock */
	/* adaptive rate (under lock): CUBIC as in the SDKs' adaptive mode */
	double max_rate;       /* configured: never above */
	unsigned max_burst;    /* configured */
	double rate;           /* now */
	double last_max;       /* the rate at the last throttle */
	int64_t last_throttle_ms;
	bool backed_off;       /* below max_rate since a throttle */
	uint64_t throttles;
};

#define CUBIC_C 0.4
#define CUBIC_BETA 0.7
#define MIN_RATE 0.5            /* tokens a second: never slower */
#define THROTTLE_HOLDOFF_MS 500 /* one decrease per burst of throttled answers */

/* Set the bucket's rate and burst (floor(rate), at least 1) from rl->rate. */
static void apply_rate(struct cw_ratelimit *rl)
{
	double t = 1e6 / rl->rate;
	unsigned burst = rl->backed_off ? (unsigned)rl->rate : rl->max_burst;

	if (burst < 1)
		burst = 1;
	if (burst > rl->max_burst)
		burst = rl->max_burst;
	rl->t_us = t < 1 ? 1 : (t > 1e15 ? (int64_t)1e15 : (int64_t)llround(t));
	rl->tau_us = (int64_t)(burst - 1) * rl->t_us;
}

static int64_t rl_now_ms(const struct cw_clock *c)
{
	return c->now_ms ? c->now_ms(c->env) : cw_time_mono_ms();
}

static void rl_sleep_ms(const struct cw_clock *c, int64_t ms)
{
	struct timespec ts;

	if (c->sleep_ms) {
		c->sleep_ms(c->env, ms);
		return;
	}
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int cw_ratelimit_new(struct cw_ratelimit **out, double rate, unsigned burst,
		     const struct cw_clock *clock)
{
	struct cw_ratelimit *rl;

	*out = NULL;
	rl = calloc(1, sizeof(*rl));
	if (!rl)
		return CW_ENOMEM;
	if (clock)
		rl->clock = *clock;
	if (burst == 0)
		burst = 1;
	if (!(rate > 0) || !isfinite(rate)) {
		rl->unlimited = true;
	} else {
		double t = 1e6 / rate;

		/* slower than one token in ~30 years is not a rate */
		rl->t_us = t < 1 ? 1 : (t > 1e15 ? (int64_t)1e15 : (int64_t)llround(t));
		rl->tau_us = (int64_t)(burst - 1) * rl->t_us;
		rl->max_rate = rl->rate = rl->last_max = rate;
		rl->max_burst = burst;
	}
	rl->tat_us = rl_now_ms(&rl->clock) * 1000; /* full from the start */
	pthread_mutex_init(&rl->lock, NULL);
	*out = rl;
	return 0;
}

void cw_ratelimit_free(struct cw_ratelimit *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

int64_t cw_ratelimit_acquire(struct cw_ratelimit *rl)
{
	int64_t now, base, wait_us;

	if (rl->unlimited)
		return 0;
	now = rl_now_ms(&rl->clock) * 1000;
	pthread_mutex_lock(&rl->lock);
	base = rl->tat_us > now ? rl->tat_us : now;
	wait_us = base - rl->tau_us - now;
	rl->tat_us = base + rl->t_us;
	pthread_mutex_unlock(&rl->lock);
	if (wait_us <= 0)
		return 0;
	return (wait_us + 999) / 1000;
}

int cw_ratelimit_wait(struct cw_ratelimit *rl, const atomic_bool *stop)
{
	int64_t wait = cw_ratelimit_acquire(rl);
	int64_t until;

	if (stop && atomic_load(stop))
		return CW_EINTR;
	if (wait <= 0)
		return 0;
	until = rl_now_ms(&rl->clock) + wait;
	for (;;) {
		int64_t left = until - rl_now_ms(&rl->clock);

		if (left <= 0)
			return 0;
		if (stop && atomic_load(stop))
			return CW_EINTR;
		rl_sleep_ms(&rl->clock, left < RL_SLICE_MS ? left : RL_SLICE_MS);
	}
}

double cw_ratelimit_tokens(struct cw_ratelimit *rl)
{
	int64_t now, base, have;

	if (rl->unlimited)
		return INFINITY;
	now = rl_now_ms(&rl->clock) * 1000;
	pthread_mutex_lock(&rl->lock);
	base = rl->tat_us > now ? rl->tat_us : now;
	have = now + rl->tau_us + rl->t_us - base;
	pthread_mutex_unlock(&rl->lock);
	return (double)have / (double)rl->t_us;
}

void cw_ratelimit_feedback(struct cw_ratelimit *rl, bool throttled)
{
	int64_t now;

	if (!rl || rl->unlimited)
		return;
	now = rl_now_ms(&rl->clock);
	pthread_mutex_lock(&rl->lock);
	if (throttled) {
		rl->throttles++;
		/* answers throttled together are one signal, not several */
		if (!rl->backed_off || now - rl->last_throttle_ms >= THROTTLE_HOLDOFF_MS) {
			rl->last_max = rl->rate;
			rl->rate = rl->rate * CUBIC_BETA;
			if (rl->rate < MIN_RATE)
				rl->rate = MIN_RATE;
			if (rl->rate > rl->max_rate)
				rl->rate = rl->max_rate;
			rl->last_throttle_ms = now;
			rl->backed_off = true;
			apply_rate(rl);
		}
	} else if (rl->backed_off) {
		/* W(t) = C (t - K)^3 + W_max, K = cbrt(W_max (1 - beta) / C) */
		double t = (double)(now - rl->last_throttle_ms) / 1000.0;
		double k = cbrt(rl->last_max * (1 - CUBIC_BETA) / CUBIC_C);
		double w = CUBIC_C * (t - k) * (t - k) * (t - k) + rl->last_max;

		if (w > rl->rate) {
			rl->rate = w < rl->max_rate ? w : rl->max_rate;
			if (rl->rate >= rl->max_rate)
				rl->backed_off = false;
			apply_rate(rl);
		}
	}
	pthread_mutex_unlock(&rl->lock);
}

double cw_ratelimit_rate(struct cw_ratelimit *rl)
{
	double r;

	if (rl->unlimited)
		return INFINITY;
	pthread_mutex_lock(&rl->lock);
	r = rl->rate;
	pthread_mutex_unlock(&rl->lock);
	return r;
}

uint64_t cw_ratelimit_throttles(struct cw_ratelimit *rl)
{
	uint64_t n;

	pthread_mutex_lock(&rl->lock);
	n = rl->throttles;
	pthread_mutex_unlock(&rl->lock);
	return n;
}

/* ---- registry ----------------------------------------------------------- */

struct rl_node {
	struct rl_node *next;
	uint64_t hash;
	char *key;
	struct cw_ratelimit *rl;
};

struct cw_rl_registry {
	pthread_mutex_t lock;
	double rate;
	unsigned burst;
	struct cw_clock clock;
	struct rl_node **slots; /* under lock */
	size_t nslots, count;   /* under lock; nslots a power of two */
};

static uint64_t rl_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

int cw_rl_registry_new(struct cw_rl_registry **out, double rate, unsigned burst,
		       const struct cw_clock *clock)
{
	struct cw_rl_registry *r;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return CW_ENOMEM;
	r->nslots = 64;
	r->slots = calloc(r->nslots, sizeof(*r->slots));
	if (!r->slots) {
		free(r);
		return CW_ENOMEM;
	}
	r->rate = rate;
	r->burst = burst;
	if (clock)
		r->clock = *clock;
	pthread_mutex_init(&r->lock, NULL);
	*out = r;
	return 0;
}

void cw_rl_registry_free(struct cw_rl_registry *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nslots; i++) {
		struct rl_node *n = r->slots[i], *next;

		for (; n; n = next) {
			next = n->next;
			cw_ratelimit_free(n->rl);
			free(n->key);
			free(n);
		}
	}
	free(r->slots);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* Double the table.  Lock held.  Failure is harmless: chains get longer. */
static void rl_grow(struct cw_rl_registry *r)
{
	size_t n = r->nslots * 2;
	struct rl_node **slots = calloc(n, sizeof(*slots));

	if (!slots)
		return;
	for (size_t i = 0; i < r->nslots; i++) {
		struct rl_node *e = r->slots[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = slots[e->hash & (n - 1)];
			slots[e->hash & (n - 1)] = e;
		}
	}
	free(r->slots);
	r->slots = slots;
	r->nslots = n;
}

struct cw_ratelimit *cw_rl_registry_get(struct cw_rl_registry *r, const char *key)
{
	uint64_t h = rl_hash(key);
	struct cw_ratelimit *found = NULL;
	struct rl_node *e;

	pthread_mutex_lock(&r->lock);
	for (e = r->slots[h & (r->nslots - 1)]; e; e = e->next) {
		if (e->hash == h && strcmp(e->key, key) == 0) {
			found = e->rl;
			goto out;
		}
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		goto out;
	e->key = cw_strdup(key);
	if (!e->key || cw_ratelimit_new(&e->rl, r->rate, r->burst, &r->clock) != 0) {
		free(e->key);
		free(e);
		goto out;
	}
	e->hash = h;
	e->next = r->slots[h & (r->nslots - 1)];
	r->slots[h & (r->nslots - 1)] = e;
	r->count++;
	found = e->rl;
	if (r->count > r->nslots)
		rl_grow(r);
out:
	pthread_mutex_unlock(&r->lock);
	return found;
}

size_t cw_rl_registry_count(struct cw_rl_registry *r)
{
	size_t n;

	pthread_mutex_lock(&r->lock);
	n = r->count;
	pthread_mutex_unlock(&r->lock);
	return n;
}
