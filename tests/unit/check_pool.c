/*
 * check_pool.c - the worker pool: every job runs once, the queue is
 * bounded, per-worker contexts live on their own thread, cancel and
 * shutdown.  Must also pass under -DCWSWEEP_SANITIZE=thread.
 *
 * No sleeping: tests that need a job to stay busy hold it on a gate (a
 * mutex + condvar) and spin on cw_pool_stats (with sched_yield) until the
 * pool reaches the state under test.
 */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pool.h"
#include "testlib.h"

/* ---- a gate a job can wait on ------------------------------------------- */

struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open;
	atomic_int entered;
};

static void gate_init(struct gate *g)
{
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	g->open = false;
	atomic_init(&g->entered, 0);
}

static void gate_destroy(struct gate *g)
{
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
}

static void gate_open(struct gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->open = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

static void gate_job(void *arg, void *wctx, unsigned worker)
{
	struct gate *g = arg;

	atomic_fetch_add(&g->entered, 1);
	pthread_mutex_lock(&g->lock);
	while (!g->open)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

static void wait_entered(struct gate *g, int n)
{
	while (atomic_load(&g->entered) < n)
		sched_yield();
}

/* ---- recording jobs ------------------------------------------------------ */

#define NREC 64

struct rec {
	atomic_int ran[NREC];
	atomic_int cancelled[NREC];
	atomic_int order[NREC]; /* order[k] = job that ran k-th */
	atomic_int next;
	pthread_t main_thread;
	atomic_int cancel_off_main; /* cancelled called on another thread */
};

struct rec_arg {
	struct rec *r;
	int id;
};

static void rec_run(void *arg, void *wctx, unsigned worker)
{
	struct rec_arg *a = arg;

	atomic_fetch_add(&a->r->ran[a->id], 1);
	atomic_store(&a->r->order[atomic_fetch_add(&a->r->next, 1)], a->id);
}

static void rec_cancelled(void *arg)
{
	struct rec_arg *a = arg;

	atomic_fetch_add(&a->r->cancelled[a->id], 1);
	if (!pthread_equal(pthread_self(), a->r->main_thread))
		atomic_fetch_add(&a->r->cancel_off_main, 1);
}

static struct rec *rec_new(struct rec_arg *args)
{
	struct rec *r = calloc(1, sizeof(*r));

	ck_assert_ptr_nonnull(r);
	r->main_thread = pthread_self();
	for (int i = 0; i < NREC; i++) {
		args[i].r = r;
		args[i].id = i;
	}
	return r;
}

static struct cw_pool_job rec_job(struct rec_arg *a)
{
	struct cw_pool_job j = { rec_run, rec_cancelled, a };

	return j;
}

static void wait_stats(struct cw_pool *p, size_t queued, size_t running, size_t blocked)
{
	struct cw_pool_stats st;

	for (;;) {
		cw_pool_stats(p, &st);
		if (st.queued == queued && st.running == running && st.blocked == blocked)
			return;
		sched_yield();
	}
}

/* ---- many jobs ----------------------------------------------------------- */

static atomic_long total;
static atomic_int per_worker[8];

static void count_job(void *arg, void *wctx, unsigned worker)
{
	atomic_fetch_add(&total, (long)(size_t)arg);
	atomic_fetch_add(&per_worker[worker], 1);
}

START_TEST(many_jobs)
{
	struct cw_pool *p = NULL;
	struct cw_pool_stats st;
	char err[CW_ERRBUF];
	long want = 0;
	int sum = 0;

	atomic_store(&total, 0);
	for (int i = 0; i < 8; i++)
		atomic_store(&per_worker[i], 0);
	ck_assert_int_eq(cw_pool_new(&p, 4, 8, NULL, err, sizeof(err)), 0);
	for (size_t i = 1; i <= 20000; i++) {
		struct cw_pool_job j = { count_job, NULL, (void *)i };

		ck_assert_int_eq(cw_pool_submit(p, &j), 0);
		want += (long)i;
	}
	cw_pool_wait(p);
	ck_assert_int_eq(atomic_load(&total), want);
	cw_pool_stats(p, &st);
	ck_assert_uint_eq(st.submitted, 20000);
	ck_assert_uint_eq(st.done, 20000);
	ck_assert_uint_eq(st.cancelled, 0);
	ck_assert_uint_eq(st.queued, 0);
	ck_assert_uint_eq(st.running, 0);
	for (int i = 0; i < 4; i++)
		sum += atomic_load(&per_worker[i]);
	ck_assert_int_eq(sum, 20000);
	ck_assert_int_eq(atomic_load(&per_worker[4]), 0); /* only workers 0..3 */

	/* the pool is reusable after a wait */
	struct cw_pool_job j = { count_job, NULL, (void *)(size_t)5 };
	ck_assert_int_eq(cw_pool_submit(p, &j), 0);
	cw_pool_wait(p);
	ck_assert_int_eq(atomic_load(&total), want + 5);
	cw_pool_free(p);
}
END_TEST

/* ---- bounded queue ------------------------------------------------------- */

struct submitter {
	struct cw_pool *p;
	struct cw_pool_job job;
	int rc;
};

static void *submit_thread(void *arg)
{
	struct submitter *s = arg;

	s->rc = cw_pool_submit(s->p, &s->job);
	return NULL;
}

START_TEST(bounded_queue_blocks)
{
	struct cw_pool *p = NULL;
	struct gate g;
	struct rec_arg args[NREC];
	struct rec *r = rec_new(args);
	struct cw_pool_job gj = { gate_job, NULL, &g };
	struct submitter s;
	pthread_t th;
	char err[CW_ERRBUF];

	gate_init(&g);
	ck_assert_int_eq(cw_pool_new(&p, 1, 2, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_pool_submit(p, &gj), 0);
	wait_entered(&g, 1);              /* the only worker is busy */
	struct cw_pool_job j0 = rec_job(&args[0]), j1 = rec_job(&args[1]);
	struct cw_pool_job j2 = rec_job(&args[2]), j3 = rec_job(&args[3]);
	ck_assert_int_eq(cw_pool_submit(p, &j0), 0);
	ck_assert_int_eq(cw_pool_try_submit(p, &j1), 0);
	/* two slots, both taken */
	ck_assert_int_eq(cw_pool_try_submit(p, &j3), CW_ETOOBIG);

	s.p = p;
	s.job = j2;
	s.rc = 99;
	ck_assert_int_eq(pthread_create(&th, NULL, submit_thread, &s), 0);
	wait_stats(p, 2, 1, 1);           /* the submitter waits for room */

	gate_open(&g);
	pthread_join(th, NULL);
	ck_assert_int_eq(s.rc, 0);
	cw_pool_wait(p);
	/* FIFO with one worker: 0, 1, then the one that waited */
	ck_assert_int_eq(atomic_load(&r->next), 3);
	ck_assert_int_eq(atomic_load(&r->order[0]), 0);
	ck_assert_int_eq(atomic_load(&r->order[1]), 1);
	ck_assert_int_eq(atomic_load(&r->order[2]), 2);
	ck_assert_int_eq(atomic_load(&r->ran[3]), 0); /* refused, never queued */
	cw_pool_free(p);
	gate_destroy(&g);
	free(r);
}
END_TEST

/* ---- per-worker context -------------------------------------------------- */

struct wctx {
	pthread_t tid;
	unsigned worker;
	atomic_int jobs;
};

struct shared {
	atomic_int inits, finis, wrong_thread, fail_worker; /* fail_worker: -1 none */
	atomic_int jobs_total;
	pthread_t main_thread;
};

static int w_init(void *sh, unsigned worker, void **out, char *err, size_t errlen)
{
	struct shared *s = sh;
	struct wctx *w;

	if (pthread_equal(pthread_self(), s->main_thread))
		atomic_fetch_add(&s->wrong_thread, 1);
	if ((int)worker == atomic_load(&s->fail_worker))
		return cw_fail(err, errlen, CW_EHTTP, "cannot create a curl handle");
	w = calloc(1, sizeof(*w));
	if (!w)
		return CW_ENOMEM;
	w->tid = pthread_self();
	w->worker = worker;
	atomic_fetch_add(&s->inits, 1);
	*out = w;
	return 0;
}

static void w_fini(void *sh, unsigned worker, void *ctx)
{
	struct shared *s = sh;
	struct wctx *w = ctx;

	if (!pthread_equal(pthread_self(), w->tid) || w->worker != worker)
		atomic_fetch_add(&s->wrong_thread, 1);
	atomic_fetch_add(&s->jobs_total, atomic_load(&w->jobs));
	atomic_fetch_add(&s->finis, 1);
	free(w);
}

static atomic_int ctx_mismatch;

static void ctx_job(void *arg, void *ctx, unsigned worker)
{
	struct wctx *w = ctx;

	if (!w || !pthread_equal(pthread_self(), w->tid) || w->worker != worker)
		atomic_fetch_add(&ctx_mismatch, 1);
	else
		atomic_fetch_add(&w->jobs, 1);
}

START_TEST(worker_context_on_own_thread)
{
	struct shared s;
	struct cw_pool_ops ops = { w_init, w_fini, &s };
	struct cw_pool *p = NULL;
	char err[CW_ERRBUF];

	memset(&s, 0, sizeof(s));
	atomic_store(&s.fail_worker, -1);
	s.main_thread = pthread_self();
	atomic_store(&ctx_mismatch, 0);
	ck_assert_int_eq(cw_pool_new(&p, 3, 4, &ops, err, sizeof(err)), 0);
	ck_assert_int_eq(atomic_load(&s.inits), 3); /* all done before new returns */
	for (int i = 0; i < 500; i++) {
		struct cw_pool_job j = { ctx_job, NULL, NULL };

		ck_assert_int_eq(cw_pool_submit(p, &j), 0);
	}
	cw_pool_wait(p);
	ck_assert_int_eq(atomic_load(&s.finis), 0);
	cw_pool_free(p);
	ck_assert_int_eq(atomic_load(&s.finis), 3);
	ck_assert_int_eq(atomic_load(&s.jobs_total), 500);
	ck_assert_int_eq(atomic_load(&ctx_mismatch), 0);
	ck_assert_int_eq(atomic_load(&s.wrong_thread), 0);
}
END_TEST

START_TEST(worker_init_failure)
{
	struct shared s;
	struct cw_pool_ops ops = { w_init, w_fini, &s };
	struct cw_pool *p = (struct cw_pool *)&s; /* must be reset to NULL */
	char err[CW_ERRBUF] = "";

	memset(&s, 0, sizeof(s));
	atomic_store(&s.fail_worker, 2);
	s.main_thread = pthread_self();
	ck_assert_int_eq(cw_pool_new(&p, 4, 4, &ops, err, sizeof(err)), CW_EHTTP);
	ck_assert_ptr_null(p);
	ck_assert_str_eq(err, "worker 2: cannot create a curl handle");
	ck_assert_int_eq(atomic_load(&s.inits), 3);
	ck_assert_int_eq(atomic_load(&s.finis), 3); /* only those that succeeded */
	ck_assert_int_eq(atomic_load(&s.wrong_thread), 0);
}
END_TEST

START_TEST(bad_arguments)
{
	struct cw_pool *p = NULL;
	char err[CW_ERRBUF];

	ck_assert_int_eq(cw_pool_new(&p, 0, 4, NULL, err, sizeof(err)), CW_EINVAL);
	ck_assert_str_eq(err, "pool: 0 workers: must be 1..1024");
	ck_assert_int_eq(cw_pool_new(&p, 2, 0, NULL, err, sizeof(err)), CW_EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(cw_pool_new(&p, 1, 1, NULL, err, sizeof(err)), 0);
	struct cw_pool_job none = { NULL, NULL, NULL };
	ck_assert_int_eq(cw_pool_submit(p, &none), CW_EINVAL);
	cw_pool_free(p);
	cw_pool_free(NULL);
}
END_TEST

/* ---- cancel -------------------------------------------------------------- */

START_TEST(cancel_drops_pending)
{
	struct cw_pool *p = NULL;
	struct gate g;
	struct rec_arg args[NREC];
	struct rec *r = rec_new(args);
	struct cw_pool_job gj = { gate_job, NULL, &g };
	struct cw_pool_stats st;
	char err[CW_ERRBUF];

	gate_init(&g);
	ck_assert_int_eq(cw_pool_new(&p, 1, 8, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_pool_submit(p, &gj), 0);
	wait_entered(&g, 1);
	for (int i = 0; i < 5; i++) {
		struct cw_pool_job j = rec_job(&args[i]);

		ck_assert_int_eq(cw_pool_submit(p, &j), 0);
	}
	cw_pool_cancel(p);
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(atomic_load(&r->cancelled[i]), 1);
		ck_assert_int_eq(atomic_load(&r->ran[i]), 0);
	}
	ck_assert_int_eq(atomic_load(&r->cancel_off_main), 0);

	/* after cancel nothing is accepted, and nothing is reported twice */
	struct cw_pool_job late = rec_job(&args[9]);
	ck_assert_int_eq(cw_pool_submit(p, &late), CW_EINTR);
	ck_assert_int_eq(cw_pool_try_submit(p, &late), CW_EINTR);
	cw_pool_cancel(p);

	gate_open(&g); /* the running job was not interrupted: it finishes */
	cw_pool_wait(p);
	cw_pool_stats(p, &st);
	ck_assert_uint_eq(st.submitted, 6);
	ck_assert_uint_eq(st.done, 1);
	ck_assert_uint_eq(st.cancelled, 5);
	cw_pool_free(p);
	ck_assert_int_eq(atomic_load(&r->ran[9]), 0);
	ck_assert_int_eq(atomic_load(&r->cancelled[9]), 0);
	gate_destroy(&g);
	free(r);
}
END_TEST

START_TEST(cancel_wakes_blocked_submitter)
{
	struct cw_pool *p = NULL;
	struct gate g;
	struct rec_arg args[NREC];
	struct rec *r = rec_new(args);
	struct cw_pool_job gj = { gate_job, NULL, &g };
	struct submitter s;
	pthread_t th;
	char err[CW_ERRBUF];

	gate_init(&g);
	ck_assert_int_eq(cw_pool_new(&p, 1, 1, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_pool_submit(p, &gj), 0);
	wait_entered(&g, 1);
	struct cw_pool_job j0 = rec_job(&args[0]);
	ck_assert_int_eq(cw_pool_submit(p, &j0), 0);
	s.p = p;
	s.job = rec_job(&args[1]);
	s.rc = 99;
	ck_assert_int_eq(pthread_create(&th, NULL, submit_thread, &s), 0);
	wait_stats(p, 1, 1, 1);
	cw_pool_cancel(p);
	pthread_join(th, NULL);
	ck_assert_int_eq(s.rc, CW_EINTR);
	ck_assert_int_eq(atomic_load(&r->cancelled[0]), 1);
	ck_assert_int_eq(atomic_load(&r->cancelled[1]), 0); /* never queued */
	gate_open(&g);
	cw_pool_free(p);
	ck_assert_int_eq(atomic_load(&r->ran[0]) + atomic_load(&r->ran[1]), 0);
	gate_destroy(&g);
	free(r);
}
END_TEST

/* ---- shutdown ------------------------------------------------------------ */

struct freer {
	struct cw_pool *p;
	atomic_int started;
};

static void *free_thread(void *arg)
{
	struct freer *f = arg;

	atomic_store(&f->started, 1);
	cw_pool_free(f->p);
	return NULL;
}

START_TEST(shutdown_runs_pending)
{
	struct shared s;
	struct cw_pool_ops ops = { w_init, w_fini, &s };
	struct cw_pool *p = NULL;
	struct gate g;
	struct rec_arg args[NREC];
	struct rec *r = rec_new(args);
	struct cw_pool_job gj = { gate_job, NULL, &g };
	struct freer f;
	pthread_t th;
	char err[CW_ERRBUF];

	memset(&s, 0, sizeof(s));
	atomic_store(&s.fail_worker, -1);
	s.main_thread = pthread_self();
	gate_init(&g);
	ck_assert_int_eq(cw_pool_new(&p, 2, 16, &ops, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_pool_submit(p, &gj), 0);
	ck_assert_int_eq(cw_pool_submit(p, &gj), 0);
	wait_entered(&g, 2);              /* both workers busy */
	for (int i = 0; i < 10; i++) {
		struct cw_pool_job j = rec_job(&args[i]);

		ck_assert_int_eq(cw_pool_submit(p, &j), 0);
	}
	f.p = p;
	atomic_init(&f.started, 0);
	ck_assert_int_eq(pthread_create(&th, NULL, free_thread, &f), 0);
	while (!atomic_load(&f.started))
		sched_yield();
	gate_open(&g);
	pthread_join(th, NULL);
	/* queued jobs were run, not dropped, and every worker was finished */
	for (int i = 0; i < 10; i++) {
		ck_assert_int_eq(atomic_load(&r->ran[i]), 1);
		ck_assert_int_eq(atomic_load(&r->cancelled[i]), 0);
	}
	ck_assert_int_eq(atomic_load(&s.finis), 2);
	gate_destroy(&g);
	free(r);
}
END_TEST

START_TEST(shutdown_after_cancel)
{
	struct shared s;
	struct cw_pool_ops ops = { w_init, w_fini, &s };
	struct cw_pool *p = NULL;
	struct gate g;
	struct rec_arg args[NREC];
	struct rec *r = rec_new(args);
	struct cw_pool_job gj = { gate_job, NULL, &g };
	char err[CW_ERRBUF];
	int ran = 0, cancelled = 0;

	memset(&s, 0, sizeof(s));
	atomic_store(&s.fail_worker, -1);
	s.main_thread = pthread_self();
	gate_init(&g);
	ck_assert_int_eq(cw_pool_new(&p, 2, 32, &ops, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_pool_submit(p, &gj), 0);
	for (int i = 0; i < 20; i++) {
		struct cw_pool_job j = rec_job(&args[i]);

		ck_assert_int_eq(cw_pool_submit(p, &j), 0);
	}
	wait_entered(&g, 1);
	cw_pool_cancel(p);
	gate_open(&g);
	cw_pool_free(p);
	/* the other worker may have run some before the cancel: each job
	 * exactly once, one way or the other */
	for (int i = 0; i < 20; i++) {
		ck_assert_int_eq(atomic_load(&r->ran[i]) + atomic_load(&r->cancelled[i]), 1);
		ran += atomic_load(&r->ran[i]);
		cancelled += atomic_load(&r->cancelled[i]);
	}
	ck_assert_int_eq(ran + cancelled, 20);
	ck_assert_int_eq(atomic_load(&s.finis), 2);
	gate_destroy(&g);
	free(r);
}
END_TEST

static Suite *pool_suite(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("pool");

	tcase_add_test(tc, many_jobs);
	tcase_add_test(tc, bounded_queue_blocks);
	tcase_add_test(tc, worker_context_on_own_thread);
	tcase_add_test(tc, worker_init_failure);
	tcase_add_test(tc, bad_arguments);
	tcase_add_test(tc, cancel_drops_pending);
	tcase_add_test(tc, cancel_wakes_blocked_submitter);
	tcase_add_test(tc, shutdown_runs_pending);
	tcase_add_test(tc, shutdown_after_cancel);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(pool_suite());
}
