/*
 * pool.h - a fixed set of worker threads fed through a bounded queue.
 *
 * The sweep submits one job per API call (a ListMetrics listing, a
 * GetMetricData batch); each worker owns a context built on its own thread
 * (its libcurl handle / AWS client), so nothing per-connection is shared.
 *
 * Threads and locking: one mutex guards the queue, the counters and the
 * flags; `not_empty` wakes workers, `not_full` wakes blocked submitters,
 * `idle` wakes cw_pool_wait().  Every callback below runs WITHOUT the lock
 * held, so a job may call cw_pool_try_submit() (but see the note there).
 *
 * Lifecycle: cw_pool_new -> cw_pool_submit... -> cw_pool_wait ->
 * cw_pool_free.  cw_pool_cancel drops what is still queued (each dropped
 * job's `cancelled` callback runs) and makes later submits fail; jobs
 * already running finish normally.
 */
#ifndef CW_POOL_H
#define CW_POOL_H

#include <stddef.h>

struct cw_pool;

/*
 * Per-worker setup and teardown.  Both run on the worker's own thread,
 * without the lock: init before the worker takes its first job, fini after
 * its last.  init stores the worker's context in *wctx (may be NULL) and
 * returns 0, or a negative cw_err with a message in err; then cw_pool_new
 * fails with that message.  fini runs only for workers whose init succeeded.
 */
struct cw_pool_ops {
	int (*worker_init)(void *shared, unsigned worker, void **wctx,
			   char *err, size_t errlen);
	void (*worker_fini)(void *shared, unsigned worker, void *wctx);
	void *shared; /* borrowed; passed to both */
};

/*
 * One job.  run: on a worker thread, without the lock; wctx is that
 * worker's context.  cancelled (may be NULL): on the thread that calls
 * cw_pool_cancel, without the lock.  Exactly one of run / cancelled is
 * called for every job that was queued (a submit that fails queues
 * nothing and calls neither).  arg is the caller's; the pool never frees
 * it.
 */
struct cw_pool_job {
	void (*run)(void *arg, void *wctx, unsigned worker);
	void (*cancelled)(void *arg);
	void *arg;
};

/*
 * Start nworkers threads (1..1024) and a queue of queue_cap slots (>= 1).
 * Workers run with every signal blocked, so handlers run on the caller's
 * threads only.  ops may be NULL (no per-worker context).  Returns once every worker has
 * run its init; if one failed, every started worker is finished and joined
 * and the first error is returned.  *out is NULL on failure.
 */
int cw_pool_new(struct cw_pool **out, unsigned nworkers, size_t queue_cap,
		const struct cw_pool_ops *ops, char *err, size_t errlen);

/*
 * Queue a job (copied); blocks while the queue is full.  Returns 0,
 * CW_EINTR when the pool was cancelled (before or while waiting: the job is
 * not queued and neither callback runs), CW_ESTATE while it shuts down.
 * Do not call the blocking form from inside a job: with every worker
 * blocked on a full queue nobody would empty it.
 */
int cw_pool_submit(struct cw_pool *p, const struct cw_pool_job *job);

/* Same, but never blocks: CW_ETOOBIG when the queue is full. */
int cw_pool_try_submit(struct cw_pool *p, const struct cw_pool_job *job);

/*
 * Block until the queue is empty and no job is running (jobs submitted
 * meanwhile are waited for too).  Not from inside a job.
 */
void cw_pool_wait(struct cw_pool *p);

/*
 * Drop every queued job, calling its `cancelled` callback on this thread
 * (without the lock); wake blocked submitters (they return CW_EINTR).
 * Running jobs are not interrupted (pair with cw_aws_interrupt for that).
 * Idempotent.  Not async-signal-safe: call it from the main thread after a
 * signal handler has set a flag.
 */
void cw_pool_cancel(struct cw_pool *p);

/* Counters, read under the lock. */
struct cw_pool_stats {
	size_t submitted, done, cancelled; /* jobs so far */
	size_t queued, running;            /* jobs now */
	size_t blocked;                    /* submitters waiting for room */
};
void cw_pool_stats(struct cw_pool *p, struct cw_pool_stats *out);

/*
 * Shut down: jobs still queued are run (call cw_pool_cancel first to drop
 * them instead), then every worker runs its fini and is joined, and p is
 * freed.  NULL is a no-op.  Not from inside a job.
 */
void cw_pool_free(struct cw_pool *p);

#endif
