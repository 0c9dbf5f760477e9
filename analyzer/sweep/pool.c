/*
 * pool.c - the worker pool: fixed threads, one bounded ring-buffer queue.
 *
 * Locking: p->lock guards everything in struct cw_pool below it except
 * the worker array, which is written before the threads start and only
 * read afterwards.  Workers sleep on not_empty, submitters on not_full,
 * cw_pool_wait and cw_pool_new on idle.  Every condition is re-checked in
 * a loop after each wait (spurious wake-ups, stolen jobs).  Callbacks run
 * with the lock released.
 *
 * Workers are started with every signal blocked, so signals reach the
 * main thread only.
 */
#include "pool.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#define CW_POOL_MAX_WORKERS 1024u

struct cw_worker {
	struct cw_pool *pool;
	unsigned idx;
	pthread_t thread;
};

struct cw_pool {
	struct cw_worker *workers;
	unsigned nworkers;     /* threads created */
	struct cw_pool_ops ops;

	pthread_mutex_t lock;
	pthread_cond_t not_empty;
	pthread_cond_t not_full;
	pthread_cond_t idle;

	/* everything below: under lock */
	struct cw_pool_job *q; /* ring of cap slots */
	size_t cap, head, count;
	size_t running;
	size_t blocked;        /* submitters waiting for room */
	size_t submitted, done, ncancelled;
	unsigned started;      /* workers past their init */
	bool init_failed;
	bool cancelled;
	bool closing;
	char init_err[CW_ERRBUF];
	int init_rc;
};

/* Take the oldest job.  Lock held, count > 0. */
static struct cw_pool_job pool_pop(struct cw_pool *p)
{
	struct cw_pool_job j = p->q[p->head];

	p->head = (p->head + 1) % p->cap;
	p->count--;
	return j;
}

static void *worker_main(void *arg)
{
	struct cw_worker *w = arg;
	struct cw_pool *p = w->pool;
	void *wctx = NULL;
	char err[CW_ERRBUF] = "";
	int rc = 0;

	if (p->ops.worker_init)
		rc = p->ops.worker_init(p->ops.shared, w->idx, &wctx, err, sizeof(err));

	pthread_mutex_lock(&p->lock);
	p->started++;
	if (rc != 0 && !p->init_failed) {
		p->init_failed = true;
		p->init_rc = rc;
		/* a long message is cut short, which is fine for an error line */
		if (snprintf(p->init_err, sizeof(p->init_err), "worker %u: %s", w->idx,
			     err[0] ? err : cw_strerror(rc)) >= (int)sizeof(p->init_err))
			p->init_err[sizeof(p->init_err) - 1] = '\0';
	}
	pthread_cond_broadcast(&p->idle);
	if (rc != 0) {
		pthread_mutex_unlock(&p->lock);
		return NULL; /* no fini: init did not succeed */
	}

	for (;;) {
		while ((p->count == 0 || p->cancelled) && !p->closing)
			pthread_cond_wait(&p->not_empty, &p->lock);
		if (p->count == 0 || p->cancelled)
			break; /* closing, and nothing left that may run */

		struct cw_pool_job j = pool_pop(p);
		p->running++;
		pthread_cond_signal(&p->not_full);
		pthread_mutex_unlock(&p->lock);

		j.run(j.arg, wctx, w->idx);

		pthread_mutex_lock(&p->lock);
		p->running--;
		p->done++;
		if (p->count == 0 && p->running == 0)
			pthread_cond_broadcast(&p->idle);
	}
	pthread_mutex_unlock(&p->lock);

	if (p->ops.worker_fini)
		p->ops.worker_fini(p->ops.shared, w->idx, wctx);
	return NULL;
}

/* Ask every worker to leave and join them.  No lock held on entry. */
static void pool_stop(struct cw_pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->closing = true;
	pthread_cond_broadcast(&p->not_empty);
	pthread_cond_broadcast(&p->not_full);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nworkers; i++)
		pthread_join(p->workers[i].thread, NULL);
}

static void pool_destroy(struct cw_pool *p)
{
	pthread_cond_destroy(&p->idle);
	pthread_cond_destroy(&p->not_full);
	pthread_cond_destroy(&p->not_empty);
	pthread_mutex_destroy(&p->lock);
	free(p->q);
	free(p->workers);
	free(p);
}

int cw_pool_new(struct cw_pool **out, unsigned nworkers, size_t queue_cap,
		const struct cw_pool_ops *ops, char *err, size_t errlen)
{
	struct cw_pool *p = NULL;
	sigset_t all, old;
	int rc = 0, prc = 0;
	bool failed;

	*out = NULL;
	if (nworkers == 0 || nworkers > CW_POOL_MAX_WORKERS)
		return cw_fail(err, errlen, CW_EINVAL, "pool: %u workers: must be 1..%u",
			       nworkers, CW_POOL_MAX_WORKERS);
	if (queue_cap == 0 || queue_cap > SIZE_MAX / sizeof(struct cw_pool_job))
		return cw_fail(err, errlen, CW_EINVAL, "pool: queue size %zu: out of range",
			       queue_cap);

	p = calloc(1, sizeof(*p));
	if (!p)
		return cw_fail(err, errlen, CW_ENOMEM, "pool: out of memory");
	p->q = calloc(queue_cap, sizeof(*p->q));
	p->workers = calloc(nworkers, sizeof(*p->workers));
	if (!p->q || !p->workers) {
		free(p->q);
		free(p->workers);
		free(p);
		return cw_fail(err, errlen, CW_ENOMEM, "pool: out of memory");
	}
	p->cap = queue_cap;
	if (ops)
		p->ops = *ops;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->not_empty, NULL);
	pthread_cond_init(&p->not_full, NULL);
	pthread_cond_init(&p->idle, NULL);

	/* Workers inherit the creator's signal mask: block everything. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < nworkers; i++) {
		p->workers[i].pool = p;
		p->workers[i].idx = i;
		prc = pthread_create(&p->workers[i].thread, NULL, worker_main,
				     &p->workers[i]);
		if (prc != 0)
			break;
		p->nworkers++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	pthread_mutex_lock(&p->lock);
	while (p->started < p->nworkers)
		pthread_cond_wait(&p->idle, &p->lock);
	failed = p->init_failed || prc != 0;
	pthread_mutex_unlock(&p->lock);

	if (failed) {
		pool_stop(p);
		if (prc != 0)
			rc = cw_fail(err, errlen, CW_ENOMEM, "pool: cannot start worker %u: %s",
				     p->nworkers, strerror(prc));
		else
			rc = cw_fail(err, errlen, p->init_rc, "%s", p->init_err);
		pool_destroy(p);
		return rc;
	}
	*out = p;
	return 0;
}

static int pool_push(struct cw_pool *p, const struct cw_pool_job *job, bool block)
{
	int rc = 0;

	if (!job || !job->run)
		return CW_EINVAL;
	pthread_mutex_lock(&p->lock);
	if (block && p->count == p->cap) {
		p->blocked++;
		while (p->count == p->cap && !p->cancelled && !p->closing)
			pthread_cond_wait(&p->not_full, &p->lock);
		p->blocked--;
	}
	if (p->cancelled) {
		rc = CW_EINTR;
	} else if (p->closing) {
		rc = CW_ESTATE;
	} else if (p->count == p->cap) {
		rc = CW_ETOOBIG;
	} else {
		p->q[(p->head + p->count) % p->cap] = *job;
		p->count++;
		p->submitted++;
		pthread_cond_signal(&p->not_empty);
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

int cw_pool_submit(struct cw_pool *p, const struct cw_pool_job *job)
{
	return pool_push(p, job, true);
}

int cw_pool_try_submit(struct cw_pool *p, const struct cw_pool_job *job)
{
	return pool_push(p, job, false);
}

void cw_pool_wait(struct cw_pool *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->count != 0 || p->running != 0)
		pthread_cond_wait(&p->idle, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

void cw_pool_cancel(struct cw_pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->cancelled = true; /* workers stop taking jobs from here on */
	pthread_cond_broadcast(&p->not_full);
	while (p->count > 0) {
		struct cw_pool_job j = pool_pop(p);

		p->ncancelled++;
		pthread_mutex_unlock(&p->lock);
		if (j.cancelled)
			j.cancelled(j.arg);
		pthread_mutex_lock(&p->lock);
	}
	if (p->running == 0)
		pthread_cond_broadcast(&p->idle);
	pthread_mutex_unlock(&p->lock);
}

void cw_pool_stats(struct cw_pool *p, struct cw_pool_stats *out)
{
	pthread_mutex_lock(&p->lock);
	out->submitted = p->submitted;
	out->done = p->done;
	out->cancelled = p->ncancelled;
	out->queued = p->count;
	out->running = p->running;
	out->blocked = p->blocked;
	pthread_mutex_unlock(&p->lock);
}

void cw_pool_free(struct cw_pool *p)
{
	if (!p)
		return;
	pool_stop(p);
	pool_destroy(p);
}
