/*
 * sweep.c - the org-wide sweep (see sweep.h).
 *
 * Shape: the main thread owns the plan and the run; workers own nothing
 * but their AWS client.  Every job is self-contained (it carries copies of
 * what it needs, never a pointer into the plan, which grows while buckets
 * are discovered), does its network calls on a worker, and is handed back
 * to the main thread through the `done` list, which applies it:
 *
 *   listings (one paged ListMetrics per account-region-metric: discovers
 *   `auto` buckets and confirms the listed ones have request metrics; and
 *   one per account-region of the daily storage metrics, storage.h: every
 *   bucket with data)
 *     -> when every listing of an account is back: resolve its buckets'
 *        regions, batch its targets (<= 500 queries, <= 100,800 points a
 *        call) and queue one GetMetricData job per batch, plus the stored
 *        bytes of its buckets (one query per bucket and storage class)
 *     -> series -> detectors -> run
 *     -> at the end: Not watched / Not found rows, coverage per account,
 *        and a failure row for an account (or a run) that is blind.
 *
 *   billing (billing.h, with `billing:`): one paged ListMetrics of
 *   AWS/Billing EstimatedCharges in the payer's us-east-1 -> GetMetricData
 *   jobs (hourly) -> daily spend -> detectors -> run.
 *
 * An account waits only for its own listings, so a slow or failing account
 * never stalls the others.  Credentials come from the shared, locked
 * credential cache (one AssumeRole chain per account, refreshed before
 * expiry); calls are paced by a token bucket per account-region and API.
 *
 * Locking: `done_mu` guards the done list only.  Everything else here is
 * touched by the main thread alone, or by one worker inside its own job.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws.h"
#include "batch.h"
#include "billing.h"
#include "cloudwatch.h"
#include "cost.h"
#include "credcache.h"
#include "creds.h"
#include "err.h"
#include "log.h"
#include "pager.h"
#include "pool.h"
#include "ratelimit.h"
#include "storage.h"
#include "strutil.h"
#include "sweep.h"
#include "timeutil.h"
#include "units.h"

#define DEFAULT_JOBS 16
#define MAX_PAGES 10000

/* LIST/FETCH: the request metrics of the plan; SLIST/SFETCH: the daily
 * storage metrics of an account-region (its bucket set, their bytes).
 * JOB_CREDS is no pool job: a worker's note that an account's credentials
 * are there (see the feed below). */
enum job_kind { JOB_LIST, JOB_FETCH, JOB_SLIST, JOB_SFETCH, JOB_BLIST, JOB_BFETCH,
		JOB_CREDS };

struct sweep;

struct job {
	enum job_kind kind;
	struct sweep *sw;
	const struct cw_account_def *acct; /* borrowed from the inventory */
	const char *region;                /* borrowed from the inventory */
	const struct cw_metric_def *metric;/* borrowed from the inventory */
	char key[64];                      /* "ACCOUNT/REGION" for rate limits */
	/* JOB_SLIST, JOB_SFETCH */
	size_t pair;
	struct cw_storage_set sset;        /* SLIST: what the listing named (owned) */
	struct cw_storage_metric *smetrics;/* SFETCH: one template per query (owned) */
	struct cw_billing_page bpage;      /* BLIST: every page's items (owned) */
	struct cw_billing_metric *bmetrics;/* BFETCH: one metric per query (owned) */
	/* JOB_LIST */
	size_t listing;
	char **names; size_t nnames, capnames;
	/* JOB_FETCH */
	size_t *targets;                   /* plan target indices (owned) */
	struct cw_gmd_query *queries;      /* owned array; buckets owned below */
	char **buckets;
	size_t n;
	struct cw_gmd_result *results;
	int64_t start, end;                /* this batch's window, [start, end) */
	bool opener;             /* the account's first listing: it assumes the role */
	/* outcome */
	int rc;                  /* 0, or why the whole job failed */
	bool creds_failed;       /* the account's credentials could not be had */
	char stage[32];
	char code[128];
	char message[CW_ERRBUF];
	struct job *next;        /* done list */
};

/* The storage metrics of one account-region. */
enum pst_state { PST_NONE, PST_PENDING, PST_DONE, PST_FAILED };

struct pair_storage {
	enum pst_state state;     /* NONE: the pair needs no bucket set */
	struct cw_storage_set set;/* DONE: its buckets, finished (sorted) */
	bool bytes_failed;        /* a bytes fetch failed: sizes incomplete */
	bool lm_failed;           /* a request-metric listing of the pair failed */
	char stage[32], code[128], message[CW_ERRBUF]; /* FAILED / bytes_failed: why */
};

/* One feed step: a plan listing or a pair's storage listing. */
struct feed_step { bool storage; size_t idx; };

/* An account's feed steps, [first, first + n), consecutive in the feed. */
struct acct_feed {
	size_t first, n, next;   /* next: the first step not queued yet */
	bool released;           /* its credentials are known: queue the rest */
};

struct sweep {
	const struct cw_sweep_opts *o;
	const struct cw_inventory *inv;
	struct cw_run *run;
	struct cw_plan plan;
	struct cw_aws_ctx *aws;
	struct cw_creds_provider *ambient;
	struct cw_credcache *creds;
	struct cw_rl_registry *rl_gmd, *rl_lm, *rl_sts;
	struct cw_pool *pool;
	atomic_bool stop_now;    /* mirrors *o->stop for the rate limiters */

	pthread_mutex_t done_mu;
	pthread_cond_t done_cv;
	struct job *done;        /* finished jobs, under done_mu */

	/* main thread only */
	size_t outstanding;      /* jobs queued or running */
	struct feed_step *feed; size_t nfeed; /* listings in queueing order */
	/* The feed opens an account with one step (its opener, which assumes
	 * the role); the account's other steps are queued once a worker says
	 * its credentials are there (or the opener is back), so no worker
	 * waits for another's AssumeRole.  At most `workers` accounts are
	 * being opened at a time, and one only while the STS bucket has a
	 * token, so no worker sleeps on STS pacing while others could work. */
	struct acct_feed *af;    /* per inventory account */
	size_t *feed_accts; size_t nfeed_accts, next_acct; /* accounts in feed order */
	size_t *rel; size_t rel_head, rel_tail; /* released accounts (FIFO, each once) */
	size_t opening;          /* openers not released yet */
	unsigned workers;
	int64_t feed_wake_ms;    /* > 0: the feed waits this long for an STS token */
	struct pair_storage *pst;/* per plan pair */
	struct bkey *nw; size_t nnw, capnw; /* not-watched rows added (for coverage) */
	size_t *nwh; size_t capnwh; /* open hash of nw (index + 1, 0 = free), so a
				     * row is added once in constant time; void
				     * once coverage_rows sorts nw */
	bool feed_failed;        /* a listing could not be queued: queue no more */
	size_t *acct_pending;    /* listings not back yet, per inventory account */
	bool *acct_failed;       /* credentials failed: one failure row written */
	bool *acct_submitted;
	size_t *acct_pair0;      /* per inventory account: its first plan pair */
	size_t *acct_npairs;     /* and how many (an account's pairs are consecutive) */
	unsigned char *reported; /* per plan target: fetched or failed already */
	size_t nreported;
	size_t accounts_total, accounts_ready, series_done, errors;
	size_t targets_done;     /* judged, failed, or in a failed account */
	size_t discovered;       /* targets that discovery added to the plan */
	int64_t t0_ms;
	bool interrupted;
};

/* ---- helpers ------------------------------------------------------------- */

static size_t acct_index(const struct sweep *sw, const struct cw_account_def *a)
{
	return (size_t)(a - sw->inv->accounts);
}

/* The account's pairs are [*first, *first + return value). */
static size_t acct_pairs(const struct sweep *sw, const struct cw_account_def *a,
			 size_t *first)
{
	size_t i = acct_index(sw, a);

	*first = sw->acct_pair0[i];
	return sw->acct_npairs[i];
}

static bool stopping(const struct sweep *sw)
{
	return sw->o->stop && *sw->o->stop;
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->nnames; i++)
		free(j->names[i]);
	free(j->names);
	for (size_t i = 0; j->buckets && i < j->n; i++)
		free(j->buckets[i]);
	free(j->buckets);
	free(j->queries);
	free(j->targets);
	cw_storage_set_release(&j->sset);
	for (size_t i = 0; j->smetrics && i < j->n; i++)
		cw_storage_metric_release(&j->smetrics[i]);
	free(j->smetrics);
	cw_billing_page_release(&j->bpage);
	for (size_t i = 0; j->bmetrics && i < j->n; i++)
		cw_billing_metric_release(&j->bmetrics[i]);
	free(j->bmetrics);
	cw_gmd_results_free(j->results, j->n);
	free(j);
}

static void job_fail(struct job *j, int rc, const char *stage, const char *code,
		     const char *message)
{
	j->rc = rc;
	cw_strlcpy(j->stage, stage, sizeof(j->stage));
	cw_strlcpy(j->code, code && *code ? code : cw_strerror(rc), sizeof(j->code));
	cw_strlcpy(j->message, message ? message : "", sizeof(j->message));
}

/* ---- worker side --------------------------------------------------------- */

static int worker_init(void *shared, unsigned worker, void **wctx, char *err, size_t errlen)
{
	struct sweep *sw = shared;
	struct cw_aws_client *c;
	int rc = cw_aws_client_new(&c, sw->aws);

	if (rc)
		return cw_fail(err, errlen, rc, "worker %u: cannot create an HTTP client", worker);
	*wctx = c;
	return 0;
}

static void worker_fini(void *shared, unsigned worker, void *wctx)
{
	cw_aws_client_free(wctx);
}

/* The account's credentials, assumed through its role chain (cached). */
static int job_creds(struct job *j)
{
	struct cw_creds creds;
	struct cw_sts_error e;
	char err[CW_ERRBUF] = "";
	int rc;

	memset(&creds, 0, sizeof(creds));
	cw_sts_error_init(&e);
	rc = cw_credcache_get(j->sw->creds, j->acct, false, &creds, &e, err, sizeof(err));
	cw_creds_release(&creds);
	if (rc) {
		char msg[CW_ERRBUF];

		/* the row has the stage and the code in columns of their own */
		if (e.role_arn[0] && e.message[0]) {
			/* a long AWS message is cut short, which is fine here */
			if (snprintf(msg, sizeof(msg), "%s: %s", e.role_arn, e.message) < 0)
				cw_strlcpy(msg, e.message, sizeof(msg));
		} else {
			cw_strlcpy(msg, e.message[0] ? e.message : err, sizeof(msg));
		}
		j->creds_failed = true;
		job_fail(j, rc, e.stage[0] ? e.stage : "credentials", e.code, msg);
	}
	return rc;
}

/* The account-region's adaptive token bucket as the AWS layer's pacer:
 * every attempt, retries included, takes a token; every answer adjusts the
 * rate. */
struct pace {
	struct cw_ratelimit *rl;
	const atomic_bool *stop;
};

static int pace_wait(void *env)
{
	struct pace *p = env;

	return cw_ratelimit_wait(p->rl, p->stop);
}

static void pace_feedback(void *env, bool throttled)
{
	struct pace *p = env;

	cw_ratelimit_feedback(p->rl, throttled);
}

/* One signed CloudWatch call, paced by the account-region's token bucket. */
static int job_call(struct job *j, struct cw_aws_client *c, struct cw_ratelimit *rl,
		    const char *target, const char *what, const char *body, size_t len,
		    struct cw_aws_response *resp)
{
	struct cw_credcache_ref ref = { j->sw->creds, j->acct };
	char endpoint[512], err[CW_ERRBUF] = "", label[160];
	struct cw_aws_request req;
	struct pace pace = { NULL, NULL };
	const struct cw_aws_pacer pacer = { pace_wait, pace_feedback, &pace };
	int rc;

	rc = cw_endpoint_resolve("monitoring", j->region, j->sw->inv->aws.endpoint_url,
				 endpoint, sizeof(endpoint), err, sizeof(err));
	if (rc) {
		job_fail(j, rc, what, "BadEndpoint", err);
		return rc;
	}
	snprintf(label, sizeof(label), "%s %s", what, j->key);
	memset(&req, 0, sizeof(req));
	req.service = "monitoring";
	req.region = j->region;
	req.endpoint = endpoint;
	req.proto = CW_PROTO_JSON10;
	req.target = target;
	req.body = body;
	req.body_len = len;
	req.what = label;
	if (rl) {
		pace.rl = rl;
		pace.stop = &j->sw->stop_now;
		req.pacer = &pacer;
	}
	rc = cw_aws_call(c, &req, cw_credcache_fn, &ref, resp, err, sizeof(err));
	if (rc == CW_EAWS)
		job_fail(j, rc, what, resp->code, resp->message);
	else if (rc)
		job_fail(j, rc, what, rc == CW_EINTR ? "Interrupted" : rc == CW_ETOOBIG
			 ? "ResponseTooLarge" : cw_strerror(rc), err);
	return rc;
}

/*
 * Take the memory to parse an answer from the run-wide parse bound (waits
 * while other workers parse); a job failure when the answer alone would
 * pass the bound.  *cost: what to give back after the parse.
 */
static int parse_memory_take(struct job *j, const char *stage, const struct cw_buf *body,
			     size_t *cost)
{
	char msg[CW_ERRBUF];
	int rc;

	*cost = cw_json_parse_cost(body->data ? body->data : "", body->len);
	rc = cw_aws_parse_memory_take(j->sw->aws, *cost, &j->sw->stop_now);
	if (rc == CW_ETOOBIG) {
		snprintf(msg, sizeof(msg), "an answer of %zu bytes would take about %zu MiB to "
			 "parse, more than the %d MiB bound (aws.response_memory_mb)",
			 body->len, *cost >> 20, j->sw->inv->aws.response_memory_mb);
		job_fail(j, rc, stage, "ResponseTooLarge", msg);
	} else if (rc) {
		job_fail(j, rc, stage, "Interrupted", "interrupted before the answer was read");
	}
	if (rc)
		*cost = 0;
	return rc;
}

static int names_add(struct job *j, char *const *names, size_t n)
{
	if (j->nnames + n > j->capnames) {
		size_t cap = (j->nnames + n) * 2 + 16;
		char **v = realloc(j->names, cap * sizeof(*v));

		if (!v)
			return CW_ENOMEM;
		j->names = v;
		j->capnames = cap;
	}
	for (size_t i = 0; i < n; i++) {
		j->names[j->nnames] = cw_strdup(names[i]);
		if (!j->names[j->nnames])
			return CW_ENOMEM;
		j->nnames++;
	}
	return 0;
}

/*
 * One kind of ListMetrics listing: how to ask for a page, and how to take
 * one into the job (on the worker thread; the job is the worker's alone).
 * take sets *next to the page's NextToken (owned) or NULL; CW_ENOMEM is a
 * "NoMemory" failure, any other error a "MalformedResponse".
 */
struct lister {
	const char *stage;
	int (*request)(const struct job *j, char **body, size_t *len, const char *next,
		       char *err, size_t errlen);
	int (*take)(struct job *j, const char *data, size_t len, char **next,
		    char *err, size_t errlen);
};

/* Every page of a listing, with the rate limit, the parse-memory bound and
 * the pager's loop check. */
static void list_pages(struct job *j, struct cw_aws_client *c, const struct lister *l)
{
	struct cw_ratelimit *rl = cw_rl_registry_get(j->sw->rl_lm, j->key);
	char *next = NULL, err[CW_ERRBUF] = "";
	struct cw_pager pg;

	cw_pager_init(&pg, MAX_PAGES);
	do {
		struct cw_aws_response resp;
		char *body = NULL;
		size_t len = 0, cost = 0;
		int rc = l->request(j, &body, &len, next, err, sizeof(err));

		free(next);
		next = NULL;
		if (rc) {
			job_fail(j, rc, l->stage, "RequestBuild", err);
			break;
		}
		cw_aws_response_init(&resp);
		rc = job_call(j, c, rl, CW_TARGET_LM, l->stage, body, len, &resp);
		free(body);
		if (rc) {
			cw_aws_response_release(&resp);
			break;
		}
		if (parse_memory_take(j, l->stage, &resp.body, &cost)) {
			cw_aws_response_release(&resp);
			break;
		}
		rc = l->take(j, resp.body.data, resp.body.len, &next, err, sizeof(err));
		cw_aws_response_release(&resp);
		cw_aws_parse_memory_give(j->sw->aws, cost);
		if (rc) {
			job_fail(j, rc, l->stage, rc == CW_ENOMEM ? "NoMemory" : "MalformedResponse",
				 err);
			break;
		}
		rc = cw_pager_next(&pg, next, "ListMetrics", err, sizeof(err));
		if (rc) {
			job_fail(j, rc, l->stage, cw_pager_code(rc), err);
			break;
		}
	} while (next);
	cw_pager_release(&pg);
	free(next);
}

/* The request metric of the job: names of the buckets that have it. */
static int lm_request(const struct job *j, char **body, size_t *len, const char *next,
		      char *err, size_t errlen)
{
	return cw_lm_request_at(body, len, j->metric, j->acct->id, j->region, next, err, errlen);
}

static int lm_take(struct job *j, const char *data, size_t len, char **next,
		   char *err, size_t errlen)
{
	struct cw_lm_page page;
	int rc;

	memset(&page, 0, sizeof(page));
	rc = cw_lm_parse_at(&page, j->metric, j->acct->id, j->region, data, len, err, errlen);
	if (rc)
		return rc;
	rc = names_add(j, page.names, page.n);
	*next = page.next_token;
	page.next_token = NULL;
	cw_lm_page_release(&page);
	return rc ? cw_fail(err, errlen, CW_ENOMEM, "out of memory") : 0;
}

static const struct lister lm_lister = { "list-metrics", lm_request, lm_take };

/* AWS/S3 BucketSizeBytes: the pair's buckets with data. */
static int slm_request(const struct job *j, char **body, size_t *len, const char *next,
		       char *err, size_t errlen)
{
	return cw_storage_lm_request(body, len, next, err, errlen);
}

static int slm_take(struct job *j, const char *data, size_t len, char **next,
		    char *err, size_t errlen)
{
	struct cw_storage_page page;
	int rc = cw_storage_lm_parse(&page, data, len, err, errlen);

	if (rc)
		return rc;
	rc = cw_storage_set_add(&j->sset, &page);
	*next = page.next_token;
	page.next_token = NULL;
	cw_storage_page_release(&page);
	return rc ? cw_fail(err, errlen, CW_ENOMEM, "out of memory") : 0;
}

static const struct lister storage_lister = { "list-storage-metrics", slm_request, slm_take };

/* AWS/Billing EstimatedCharges in the payer, every page. */
static int blm_request(const struct job *j, char **body, size_t *len, const char *next,
		       char *err, size_t errlen)
{
	return cw_billing_lm_request(body, len, next, err, errlen);
}

static int blm_take(struct job *j, const char *data, size_t len, char **next,
		    char *err, size_t errlen)
{
	struct cw_billing_page page;
	struct cw_billing_item *v;
	int rc = cw_billing_lm_parse(&page, data, len, err, errlen);

	if (rc)
		return rc;
	j->bpage.seen += page.seen;
	v = realloc(j->bpage.v, (j->bpage.n + page.n + 1) * sizeof(*v));
	if (!v) {
		cw_billing_page_release(&page);
		return cw_fail(err, errlen, CW_ENOMEM, "out of memory");
	}
	j->bpage.v = v;
	memcpy(v + j->bpage.n, page.v, page.n * sizeof(*v));
	j->bpage.n += page.n;
	page.n = 0; /* the items moved */
	*next = page.next_token;
	page.next_token = NULL;
	cw_billing_page_release(&page);
	return 0;
}

static const struct lister billing_lister = { "list-billing-metrics", blm_request, blm_take };

static const char *job_stage(const struct job *j);

static void fetch_run(struct job *j, struct cw_aws_client *c)
{
	struct cw_ratelimit *rl = cw_rl_registry_get(j->sw->rl_gmd, j->key);
	/* fixed when the plan was built; stored bytes are daily, billing hourly */
	int64_t period = j->kind == JOB_SFETCH ? 86400 : j->kind == JOB_BFETCH
			 ? CW_BILLING_FETCH_PERIOD : j->sw->plan.period;
	char *next = NULL, err[CW_ERRBUF] = "";
	struct cw_pager pg;
	int rc;

	rc = cw_gmd_results_new(&j->results, j->n, j->start, j->end, period);
	if (rc) {
		job_fail(j, rc, job_stage(j), "NoMemory", "out of memory");
		return;
	}
	cw_pager_init(&pg, MAX_PAGES);
	do {
		struct cw_aws_response resp;
		struct cw_gmd_page page;
		char *body = NULL;
		size_t len = 0, cost = 0;

		rc = cw_gmd_request(&body, &len, j->queries, j->n, j->start, j->end, period,
				    next, err, sizeof(err));
		free(next);
		next = NULL;
		if (rc) {
			job_fail(j, rc, job_stage(j), "RequestBuild", err);
			break;
		}
		cw_aws_response_init(&resp);
		rc = job_call(j, c, rl, CW_TARGET_GMD, job_stage(j), body, len, &resp);
		free(body);
		if (rc) {
			cw_aws_response_release(&resp);
			break;
		}
		if (parse_memory_take(j, "get-metric-data", &resp.body, &cost)) {
			cw_aws_response_release(&resp);
			break;
		}
		memset(&page, 0, sizeof(page));
		rc = cw_gmd_accumulate(j->results, j->n, NULL, j->n, resp.body.data,
				       resp.body.len, &page, err, sizeof(err));
		cw_aws_response_release(&resp);
		cw_aws_parse_memory_give(j->sw->aws, cost);
		if (rc) {
			job_fail(j, rc, job_stage(j), "MalformedResponse", err);
			break;
		}
		next = page.next_token;
		page.next_token = NULL;
		cw_gmd_page_release(&page);
		rc = cw_pager_next(&pg, next, "GetMetricData", err, sizeof(err));
		if (rc) {
			job_fail(j, rc, job_stage(j), cw_pager_code(rc), err);
			break;
		}
	} while (next);
	cw_pager_release(&pg);
	free(next);
}

static void done_push(struct job *j)
{
	struct sweep *sw = j->sw;

	pthread_mutex_lock(&sw->done_mu);
	j->next = sw->done;
	sw->done = j;
	pthread_cond_signal(&sw->done_cv);
	pthread_mutex_unlock(&sw->done_mu);
}

static const char *job_stage(const struct job *j)
{
	switch (j->kind) {
	case JOB_LIST: return "list-metrics";
	case JOB_SLIST: return "list-storage-metrics";
	case JOB_SFETCH: return "storage-bytes";
	case JOB_BLIST: return "list-billing-metrics";
	case JOB_BFETCH: return "billing-data";
	case JOB_CREDS: return "assume-role";
	case JOB_FETCH: break;
	}
	return "get-metric-data";
}

/* An opener has its account's credentials: tell the main thread now, not
 * after the opener's own calls (out of memory: it learns when the opener
 * is back). */
static void creds_ready(const struct job *j)
{
	struct job *n = calloc(1, sizeof(*n));

	if (!n)
		return;
	n->kind = JOB_CREDS;
	n->sw = j->sw;
	n->acct = j->acct;
	done_push(n);
}

/* On a worker, without the pool's lock. */
static void job_run(void *arg, void *wctx, unsigned worker)
{
	struct job *j = arg;

	if (stopping(j->sw))
		job_fail(j, CW_EINTR, job_stage(j), "Interrupted",
			 "the run was interrupted before this call");
	else if (job_creds(j) == 0) {
		if (j->opener)
			creds_ready(j);
		if (j->kind == JOB_LIST)
			list_pages(j, wctx, &lm_lister);
		else if (j->kind == JOB_SLIST)
			list_pages(j, wctx, &storage_lister);
		else if (j->kind == JOB_BLIST)
			list_pages(j, wctx, &billing_lister);
		else
			fetch_run(j, wctx);
	}
	done_push(j);
}

/* On the thread that calls cw_pool_cancel (the main thread). */
static void job_cancelled(void *arg)
{
	struct job *j = arg;

	job_fail(j, CW_EINTR, job_stage(j), "Interrupted",
		 "the run was interrupted before this call");
	done_push(j);
}

/* ---- main-thread side ---------------------------------------------------- */

static int submit(struct sweep *sw, struct job *j)
{
	struct cw_pool_job pj = { job_run, job_cancelled, j };
	int rc = cw_pool_submit(sw->pool, &pj);

	if (rc) {
		job_free(j);
		return rc;
	}
	sw->outstanding++;
	return 0;
}

/* "k=v;k=v": the account's tags, then the bucket's (a bucket's tag wins
 * over the account's of the same key).  Appended to b; errors leave it short. */
static void target_tags(const struct cw_plan_target *t, struct cw_buf *b)
{
	const struct cw_account_def *a = t->account;
	const struct cw_bucket_def *d = t->def;

	for (size_t i = 0; i < a->ntags; i++) {
		bool over = false;

		for (size_t k = 0; d && k < d->ntags && !over; k++)
			over = strcmp(d->tags[k].key, a->tags[i].key) == 0;
		if (!over)
			cw_buf_printf(b, "%s%s=%s", b->len ? ";" : "", a->tags[i].key,
				      a->tags[i].value ? a->tags[i].value : "");
	}
	for (size_t k = 0; d && k < d->ntags; k++)
		cw_buf_printf(b, "%s%s=%s", b->len ? ";" : "", d->tags[k].key,
			      d->tags[k].value ? d->tags[k].value : "");
}

/* id borrows from the plan and from tags (a scratch buffer the caller
 * releases). */
static void target_id(const struct sweep *sw, const struct cw_plan_target *t,
		      struct cw_target_id *id, struct cw_buf *tags)
{
	memset(id, 0, sizeof(*id));
	id->account_id = (char *)t->account->id;
	id->account_name = t->account->name ? t->account->name : (char *)t->account->id;
	id->region = (char *)t->region;
	id->bucket = t->bucket;
	id->metric = t->metric->label;
	id->unit = t->metric->unit ? t->metric->unit : "";
	id->owner = t->account->owner ? t->account->owner : "";
	cw_buf_reset(tags);
	target_tags(t, tags);
	id->tags = (char *)cw_buf_str(tags);
}

static void mark_reported(struct sweep *sw, size_t t)
{
	if (t >= sw->nreported) {
		size_t n = sw->plan.ntargets > t ? sw->plan.ntargets : t + 1;
		unsigned char *v = realloc(sw->reported, n);

		if (!v)
			return; /* worst case: a target is reported twice */
		memset(v + sw->nreported, 0, n - sw->nreported);
		sw->reported = v;
		sw->nreported = n;
	}
	sw->reported[t] = 1;
}

static bool is_reported(const struct sweep *sw, size_t t)
{
	return t < sw->nreported && sw->reported[t];
}

/* A target whose series was judged (reported, value 2). */
static void mark_judged(struct sweep *sw, size_t t)
{
	mark_reported(sw, t);
	if (t < sw->nreported)
		sw->reported[t] = 2;
}

static bool is_judged(const struct sweep *sw, size_t t)
{
	return t < sw->nreported && sw->reported[t] == 2;
}

static void add_target_failure(struct sweep *sw, size_t t, const char *stage,
			       const char *code, const char *message)
{
	struct cw_target_id id;
	struct cw_buf tags = CW_BUF_INIT;

	target_id(sw, &sw->plan.targets[t], &id, &tags);
	cw_run_add_failure(sw->run, &id, stage, code, message);
	cw_buf_release(&tags);
	mark_reported(sw, t);
	sw->errors++;
	sw->targets_done++;
}

static void add_account_failure(struct sweep *sw, const struct job *j)
{
	size_t a = acct_index(sw, j->acct);
	struct cw_target_id id;

	if (sw->acct_failed[a])
		return;
	sw->acct_failed[a] = true;
	memset(&id, 0, sizeof(id));
	id.account_id = (char *)j->acct->id;
	id.account_name = j->acct->name ? j->acct->name : (char *)j->acct->id;
	id.owner = j->acct->owner;
	cw_run_add_failure(sw->run, &id, j->stage, j->code, j->message);
	sw->errors++;
	/* its targets are done for the progress line (a candidate group once) */
	{
		size_t first, n = acct_pairs(sw, j->acct, &first);

		sw->targets_done += cw_plan_pairs_groups(&sw->plan, first, n);
	}
}

/*
 * Effective detectors for a target: the bucket's set when it has one
 * (defaults merged with its overrides), else the account's.
 */
static const struct cw_det_set *target_dets(const struct cw_plan_target *t)
{
	if (t->def && t->def->detectors.n)
		return &t->def->detectors;
	return &t->account->detectors;
}

static bool stat_is_count(const char *stat)
{
	return stat && (cw_str_ieq(stat, "Sum") || cw_str_ieq(stat, "SampleCount"));
}

/*
 * CloudWatch publishes no Sum datapoint for a period without requests.  For
 * a metric the listing confirmed, a gap after the first datapoint therefore
 * means "no requests": count it as 0.  Gaps before the first datapoint stay
 * gaps (the metrics configuration may be younger than the lookback).
 */
static size_t fill_quiet_periods(struct cw_series *s)
{
	size_t i = 0, filled = 0;

	while (i < s->n && isnan(s->values[i]))
		i++;
	for (; i < s->n; i++) {
		if (isnan(s->values[i])) {
			s->values[i] = 0;
			filled++;
		}
	}
	return filled;
}

/* The inventory's exclusions that cover this target, on its series. */
static int apply_exclusions(struct sweep *sw, const struct cw_target_id *id, size_t idx)
{
	for (size_t i = 0; i < sw->inv->nexclusions; i++) {
		const struct cw_exclusion *x = &sw->inv->exclusions[i];
		int rc;

		if (!cw_exclusion_matches(x, id->account_id, id->bucket))
			continue;
		if ((rc = cw_run_exclude(sw->run, idx, x->from, x->to, x->reason)))
			return rc;
	}
	return 0;
}

static void apply_fetch(struct sweep *sw, struct job *j)
{
	struct cw_buf tags = CW_BUF_INIT;

	for (size_t i = 0; i < j->n; i++) {
		size_t t = j->targets[i];
		const struct cw_plan_target *pt = &sw->plan.targets[t];
		struct cw_gmd_result *r = j->results ? &j->results[i] : NULL;
		const struct cw_det_set *dets = target_dets(pt);
		struct cw_target_id id;
		char err[CW_ERRBUF];
		size_t idx;

		if (j->rc || !r) {
			add_target_failure(sw, t, j->stage, j->code, j->message);
			continue;
		}
		if (r->status == CW_GMD_FORBIDDEN || r->status == CW_GMD_INTERNAL_ERROR) {
			add_target_failure(sw, t, "get-metric-data", cw_gmd_status_name(r->status),
					   r->message ? r->message
						      : "CloudWatch returned no data for this query");
			continue;
		}
		/* the last page still said PartialData: the answer is not whole,
		 * and its missing datapoints must not read as quiet periods */
		if (r->status != CW_GMD_COMPLETE) {
			add_target_failure(sw, t, "get-metric-data",
					   r->status == CW_GMD_PARTIAL ? "PartialData" : "NoResult",
					   r->status == CW_GMD_PARTIAL
					   ? "CloudWatch answered PartialData without a NextToken: "
					     "datapoints are missing, so this bucket is not judged"
					   : "CloudWatch answered without a result for this query");
			continue;
		}
		/* a gap is 0 only where the listing proved the metric exists and
		 * the answer was complete (checked above) */
		if (stat_is_count(pt->metric->stat) && pt->listing != SIZE_MAX && pt->found)
			fill_quiet_periods(&r->series);
		target_id(sw, pt, &id, &tags);
		if (cw_cost_priced(&id)) {
			/* the detectors' dollar gate prices an excess at the table's
			 * first (highest) rate: it never hides more than it should */
			const struct cw_price_table *pr = cw_inventory_prices(sw->inv, id.region);
			if (pr && pr->ntiers)
				r->series.usd_per_unit = pr->tiers[0].usd_per_gb / 1e9;
		}
		if (cw_run_add_series(sw->run, &id, &r->series, &idx) != 0 ||
		    apply_exclusions(sw, &id, idx) != 0 ||
		    cw_run_judge(sw->run, idx, dets->v, dets->n, sw->o->all_periods,
				 err, sizeof(err)) != 0) {
			add_target_failure(sw, t, "judge", "Internal", "out of memory");
			continue;
		}
		mark_judged(sw, t);
		sw->series_done++;
		sw->targets_done++;
	}
	cw_buf_release(&tags);
}

static struct job *job_new(struct sweep *sw, enum job_kind kind,
			   const struct cw_account_def *acct, const char *region,
			   const struct cw_metric_def *metric)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->kind = kind;
	j->sw = sw;
	j->acct = acct;
	j->region = region;
	j->metric = metric;
	snprintf(j->key, sizeof(j->key), "%s/%s", acct->id, region);
	return j;
}

/*
 * The stored bytes of a pair's buckets: one GetMetricData query per bucket
 * and storage type (Average, 1 day, the last few days), 500 a call.
 */
static void queue_storage_fetches(struct sweep *sw, size_t p)
{
	struct pair_storage *ps = &sw->pst[p];
	size_t total = cw_storage_set_metrics(&ps->set), done = 0;
	size_t bi = 0, ti = 0;
	int64_t ws, we;

	cw_storage_window(sw->plan.end, &ws, &we);
	while (done < total && !stopping(sw)) {
		size_t n = total - done < 500 ? total - done : 500;
		struct job *j = job_new(sw, JOB_SFETCH, sw->plan.pairs[p].account,
					sw->plan.pairs[p].region, NULL);
		bool ok = j != NULL;

		if (j) {
			j->pair = p;
			j->start = ws;
			j->end = we;
			j->queries = calloc(n, sizeof(*j->queries));
			j->buckets = calloc(n, sizeof(*j->buckets));
			j->smetrics = calloc(n, sizeof(*j->smetrics));
			ok = j->queries && j->buckets && j->smetrics;
		}
		for (size_t i = 0; ok && i < n; i++) {
			const struct cw_storage_bucket *b = &ps->set.v[bi];

			j->buckets[i] = cw_strdup(b->name);
			if (!j->buckets[i] || cw_storage_metric_init(&j->smetrics[i], b->types[ti])) {
				j->n = i + 1; /* release what was made */
				ok = false;
				break;
			}
			j->n = i + 1;
			j->queries[i].metric = &j->smetrics[i].def;
			j->queries[i].bucket = j->buckets[i];
			if (++ti == b->ntypes) {
				ti = 0;
				bi++;
			}
		}
		if (!ok || submit(sw, j) != 0) {
			if (!ok)
				job_free(j);
			ps->bytes_failed = true;
			cw_strlcpy(ps->stage, "storage-bytes", sizeof(ps->stage));
			cw_strlcpy(ps->code, ok ? "Interrupted" : "NoMemory", sizeof(ps->code));
			cw_strlcpy(ps->message, ok ? "the run was interrupted before this call"
						   : "out of memory", sizeof(ps->message));
			return;
		}
		done += n;
	}
}

/* Every listing of an account is back: batch and queue its fetches. */
static void account_ready(struct sweep *sw, const struct cw_account_def *acct)
{
	size_t a = acct_index(sw, acct), p0, np = acct_pairs(sw, acct, &p0);

	if (sw->acct_submitted[a])
		return;
	sw->acct_submitted[a] = true;
	sw->accounts_ready++;
	if (cw_plan_resolve_pairs(&sw->plan, p0, np) != 0)
		return;
	/* its buckets without the metric are settled now (one per bucket) */
	for (size_t p = p0; p < p0 + np; p++)
		for (size_t k = 0; k < sw->plan.pairs[p].ntargets; k++)
			sw->targets_done += sw->plan.targets[sw->plan.pairs[p].targets[k]].state ==
					    CW_TGT_UNMEASURED;
	for (size_t p = p0; p < p0 + np; p++) {
		struct cw_batch_list batches = { NULL, 0 };
		size_t *targets = NULL, n = 0;

		if (cw_plan_pair_targets(&sw->plan, p, CW_TGT_FETCH, &targets, &n) || n == 0 ||
		    cw_batch_build(&batches, targets, n, sw->plan.start, sw->plan.end,
				   sw->plan.period)) {
			free(targets);
			continue;
		}
		for (size_t b = 0; b < batches.n; b++) {
			const struct cw_batch *bt = &batches.v[b];
			struct job *j;

			if (stopping(sw)) {
				for (size_t i = 0; i < bt->n; i++)
					add_target_failure(sw, bt->targets[i], "get-metric-data",
							   "Interrupted",
							   "the run was interrupted before this call");
				continue;
			}
			j = job_new(sw, JOB_FETCH, acct, sw->plan.pairs[p].region,
				    sw->plan.targets[bt->targets[0]].metric);
			if (j) {
				/*
				 * The inventory keeps the lookback inside the period's
				 * retention, so a query never passes 100,800 points and
				 * every batch covers the whole window: a target is never
				 * split over two jobs.
				 */
				j->start = bt->start;
				j->end = bt->end;
				j->n = bt->n;
				j->targets = malloc(bt->n * sizeof(*j->targets));
				j->queries = calloc(bt->n, sizeof(*j->queries));
				j->buckets = calloc(bt->n, sizeof(*j->buckets));
			}
			if (!j || !j->targets || !j->queries || !j->buckets) {
				job_free(j);
				for (size_t i = 0; i < bt->n; i++)
					add_target_failure(sw, bt->targets[i], "get-metric-data",
							   "NoMemory", "out of memory");
				continue;
			}
			for (size_t i = 0; i < bt->n; i++) {
				const struct cw_plan_target *t = &sw->plan.targets[bt->targets[i]];

				j->targets[i] = bt->targets[i];
				j->buckets[i] = cw_strdup(t->bucket);
				j->queries[i].metric = t->metric;
				j->queries[i].bucket = j->buckets[i] ? j->buckets[i] : "";
				j->queries[i].account = acct->id;
				j->queries[i].region = sw->plan.pairs[p].region;
			}
			if (submit(sw, j) != 0)
				for (size_t i = 0; i < bt->n; i++)
					add_target_failure(sw, bt->targets[i], "get-metric-data",
							   "Interrupted",
							   "the run was interrupted before this call");
		}
		cw_batch_list_release(&batches);
		free(targets);
	}
	for (size_t p = p0; p < p0 + np; p++)
		if (sw->pst[p].state == PST_DONE && sw->pst[p].set.n > 0)
			queue_storage_fetches(sw, p);
}

static void apply_listing(struct sweep *sw, struct job *j)
{
	size_t a = acct_index(sw, j->acct);

	if (j->rc) {
		cw_plan_listing_failed(&sw->plan, j->listing);
		sw->pst[sw->plan.listings[j->listing].pair].lm_failed = true;
		if (j->creds_failed)
			add_account_failure(sw, j);
		else if (j->rc != CW_EINTR) {
			struct cw_target_id id;

			memset(&id, 0, sizeof(id));
			id.account_id = (char *)j->acct->id;
			id.account_name = j->acct->name;
			id.region = (char *)j->region;
			id.metric = j->metric->label;
			id.owner = j->acct->owner;
			cw_run_add_failure(sw->run, &id, j->stage, j->code, j->message);
			sw->errors++;
		}
	} else {
		size_t before = sw->plan.ntargets;

		cw_plan_listing_found(&sw->plan, j->listing, (const char *const *)j->names,
				      j->nnames);
		sw->discovered += sw->plan.ntargets - before;
		cw_plan_listing_done(&sw->plan, j->listing);
	}
	if (sw->acct_pending[a] > 0 && --sw->acct_pending[a] == 0)
		account_ready(sw, j->acct);
}

static void apply_slist(struct sweep *sw, struct job *j)
{
	struct pair_storage *ps = &sw->pst[j->pair];
	size_t a = acct_index(sw, j->acct);

	if (j->rc) {
		ps->state = PST_FAILED;
		if (j->creds_failed)
			add_account_failure(sw, j);
		cw_strlcpy(ps->stage, j->stage, sizeof(ps->stage));
		cw_strlcpy(ps->code, j->code, sizeof(ps->code));
		cw_strlcpy(ps->message, j->message, sizeof(ps->message));
	} else {
		ps->set = j->sset;
		memset(&j->sset, 0, sizeof(j->sset));
		cw_storage_set_finish(&ps->set);
		ps->state = PST_DONE;
	}
	if (sw->acct_pending[a] > 0 && --sw->acct_pending[a] == 0)
		account_ready(sw, j->acct);
}

static void apply_sfetch(struct sweep *sw, struct job *j)
{
	struct pair_storage *ps = &sw->pst[j->pair];

	if (j->rc || !j->results) {
		if (!ps->bytes_failed) {
			ps->bytes_failed = true;
			cw_strlcpy(ps->stage, j->stage, sizeof(ps->stage));
			cw_strlcpy(ps->code, j->code, sizeof(ps->code));
			cw_strlcpy(ps->message, j->message, sizeof(ps->message));
		}
		return;
	}
	for (size_t i = 0; i < j->n; i++) {
		struct cw_storage_bucket *b = cw_storage_set_find(&ps->set, j->buckets[i]);
		double v = cw_storage_latest(&j->results[i].series);

		if (!b || isnan(v) || v < 0)
			continue;
		b->bytes = (b->sized ? b->bytes : 0) + v;
		b->sized = true;
	}
}

/* ---- billing ------------------------------------------------------------- */

static void billing_failure(struct sweep *sw, const char *stage, const char *code,
			    const char *message)
{
	const struct cw_account_def *p = &sw->inv->billing.payer;
	struct cw_target_id id;

	memset(&id, 0, sizeof(id));
	id.account_id = (char *)p->id;
	id.account_name = p->name ? p->name : (char *)p->id;
	id.region = CW_BILLING_REGION;
	id.metric = "AWS/Billing EstimatedCharges";
	id.unit = "USD";
	cw_run_add_failure(sw->run, &id, stage, code, message);
	sw->errors++;
}

/* The inventory account of a linked account id, or NULL. */
static const struct cw_account_def *inv_account(const struct sweep *sw, const char *id)
{
	for (size_t i = 0; i < sw->inv->naccounts; i++)
		if (strcmp(sw->inv->accounts[i].id, id) == 0)
			return &sw->inv->accounts[i];
	return NULL;
}

static bool billing_wanted(const struct sweep *sw, const struct cw_billing_item *it)
{
	const struct cw_billing_def *b = &sw->inv->billing;
	bool svc = false;

	for (size_t i = 0; i < b->nservices && !svc; i++)
		svc = strcmp(b->services[i], it->service) == 0;
	return svc && (b->linked_all || inv_account(sw, it->linked));
}

static void billing_window(const struct sweep *sw, int64_t *ws, int64_t *we)
{
	/* whole days, one more in front: its last value starts the differences */
	*we = cw_time_floor(sw->plan.end, 86400);
	*ws = *we - ((int64_t)sw->inv->lookback_days + 1) * 86400;
}

static void apply_blist(struct sweep *sw, struct job *j)
{
	const struct cw_account_def *payer = &sw->inv->billing.payer;
	size_t *pick = NULL, n = 0, per_call;
	int64_t ws, we;

	if (j->rc) {
		if (j->rc != CW_EINTR)
			billing_failure(sw, j->stage, j->code, j->message);
		return;
	}
	if (j->bpage.seen == 0) {
		billing_failure(sw, "billing", "BillingAlertsNotEnabled",
				"the payer has no AWS/Billing metric in us-east-1: billing alerts "
				"are not enabled. Turn on \"Receive CloudWatch billing alerts\" in "
				"the payer's Billing and Cost Management preferences (as the "
				"management account); the metrics appear within a day");
		return;
	}
	pick = malloc((j->bpage.n + 1) * sizeof(*pick));
	if (!pick) {
		billing_failure(sw, "billing", "NoMemory", "out of memory");
		return;
	}
	for (size_t i = 0; i < j->bpage.n; i++) {
		bool dup = false;

		for (size_t k = 0; k < n && !dup; k++)
			dup = strcmp(j->bpage.v[pick[k]].linked, j->bpage.v[i].linked) == 0 &&
			      strcmp(j->bpage.v[pick[k]].service, j->bpage.v[i].service) == 0;
		if (!dup && billing_wanted(sw, &j->bpage.v[i]))
			pick[n++] = i;
	}
	billing_window(sw, &ws, &we);
	per_call = cw_batch_per_call(ws, we, CW_BILLING_FETCH_PERIOD);
	if (per_call == 0)
		per_call = 1;
	for (size_t done = 0; done < n && !stopping(sw);) {
		size_t m = n - done < per_call ? n - done : per_call;
		struct job *f = job_new(sw, JOB_BFETCH, payer, CW_BILLING_REGION, NULL);
		bool ok = f != NULL;

		if (f) {
			f->start = ws;
			f->end = we;
			f->queries = calloc(m, sizeof(*f->queries));
			f->buckets = calloc(m, sizeof(*f->buckets));
			f->bmetrics = calloc(m, sizeof(*f->bmetrics));
			ok = f->queries && f->buckets && f->bmetrics;
		}
		for (size_t i = 0; ok && i < m; i++) {
			const struct cw_billing_item *it = &j->bpage.v[pick[done + i]];

			f->n = i + 1;
			f->buckets[i] = cw_strdup(it->linked);
			if (!f->buckets[i] ||
			    cw_billing_metric_init(&f->bmetrics[i], it->linked, it->service)) {
				ok = false;
				break;
			}
			f->queries[i].metric = &f->bmetrics[i].def;
			f->queries[i].bucket = "";
		}
		if (!ok) {
			job_free(f);
			billing_failure(sw, "billing-data", "NoMemory", "out of memory");
			break;
		}
		if (submit(sw, f) != 0) {
			billing_failure(sw, "billing-data", "Interrupted",
					"the run was interrupted before this call");
			break;
		}
		done += m;
	}
	free(pick);
}

static void apply_bfetch(struct sweep *sw, struct job *j)
{
	const struct cw_det_set *dets = &sw->inv->billing.payer.detectors;

	if (j->rc || !j->results) {
		if (j->rc != CW_EINTR || !sw->interrupted)
			billing_failure(sw, j->stage, j->code, j->message);
		return;
	}
	for (size_t i = 0; i < j->n; i++) {
		const struct cw_gmd_result *r = &j->results[i];
		const struct cw_account_def *a = inv_account(sw, j->buckets[i]);
		struct cw_series daily;
		struct cw_target_id id;
		char err[CW_ERRBUF];
		size_t idx;

		if (r->status == CW_GMD_FORBIDDEN || r->status == CW_GMD_INTERNAL_ERROR) {
			billing_failure(sw, "billing-data", cw_gmd_status_name(r->status),
					r->message ? r->message
						   : "CloudWatch returned no data for this query");
			continue;
		}
		if (cw_billing_daily(&r->series, &daily, NULL) != 0) {
			billing_failure(sw, "billing-data", "NoMemory", "out of memory");
			continue;
		}
		daily.usd_per_unit = 1.0; /* dollars: the dollar gate reads them as such */
		memset(&id, 0, sizeof(id));
		id.account_id = j->buckets[i];
		id.account_name = a && a->name ? a->name : "";
		id.region = CW_BILLING_REGION;
		id.bucket = "";
		id.metric = j->bmetrics[i].def.label;
		id.unit = "USD";
		id.owner = a && a->owner ? a->owner : "";
		if (cw_run_add_series(sw->run, &id, &daily, &idx) != 0 ||
		    cw_run_judge(sw->run, idx, dets->v, dets->n, sw->o->all_periods,
				 err, sizeof(err)) != 0) {
			cw_series_release(&daily);
			billing_failure(sw, "judge", "Internal", "out of memory");
			continue;
		}
		sw->series_done++;
	}
}

/* Queue the billing listing when the inventory has `billing:` and the
 * payer takes part (--account, --shard). */
static void billing_start(struct sweep *sw)
{
	const struct cw_billing_def *b = &sw->inv->billing;
	struct job *j;

	if (!b->enabled || (sw->o->include && !sw->o->include(sw->o->include_ctx, &b->payer)))
		return;
	j = job_new(sw, JOB_BLIST, &b->payer, CW_BILLING_REGION, NULL);
	if (!j || submit(sw, j) != 0)
		billing_failure(sw, "list-billing-metrics", "NoMemory", "out of memory");
}

static void show_progress(struct sweep *sw)
{
	int64_t el = (cw_time_mono_ms() - sw->t0_ms) / 1000;
	size_t total = sw->plan.counts.targets + sw->discovered;
	size_t done = sw->targets_done < total ? sw->targets_done : total;
	struct cw_aws_stats st;
	char left[32] = "";

	if (!cw_log_progress_enabled())
		return;
	cw_aws_ctx_stats(sw->aws, &st);
	if (done > 0 && done < total && el > 0)
		snprintf(left, sizeof(left), ", ~%llds left",
			 (long long)(el * (int64_t)(total - done) / (int64_t)done));
	cw_log_progress("cwsweep: targets %zu/%zu, accounts %zu/%zu, calls %llu, errors %zu, "
			"%llds%s", done, total, sw->accounts_ready, sw->accounts_total,
			(unsigned long long)st.attempts, sw->errors, (long long)el, left);
}

/* Queue one feed step (a listing) without blocking: 0, CW_ETOOBIG when the
 * pool is full, else the feed failed. */
static int feed_step(struct sweep *sw, size_t step, bool opener)
{
	const struct feed_step *f = &sw->feed[step];
	size_t pair = f->storage ? f->idx : sw->plan.listings[f->idx].pair;
	const struct cw_plan_pair *pr = &sw->plan.pairs[pair];
	struct job *j = job_new(sw, f->storage ? JOB_SLIST : JOB_LIST, pr->account, pr->region,
				f->storage ? NULL : sw->plan.listings[f->idx].metric);
	struct cw_pool_job pj = { job_run, job_cancelled, j };
	int rc;

	if (!j) {
		sw->feed_failed = true;
		return CW_ENOMEM;
	}
	j->listing = f->storage ? SIZE_MAX : f->idx;
	j->pair = pair;
	j->opener = opener;
	rc = cw_pool_try_submit(sw->pool, &pj);
	if (rc) {
		job_free(j);
		if (rc != CW_ETOOBIG)
			sw->feed_failed = true;
		return rc; /* full: more once a job is back */
	}
	sw->outstanding++;
	return 0;
}

/* The account's credentials are known (or its opener is back): its other
 * steps may go. */
static void release_account(struct sweep *sw, const struct cw_account_def *acct)
{
	size_t a = acct_index(sw, acct);
	struct acct_feed *f = &sw->af[a];

	if (f->released)
		return;
	f->released = true;
	if (sw->opening)
		sw->opening--;
	if (f->next < f->first + f->n)
		sw->rel[sw->rel_tail++] = a;
}

/* Whether an AssumeRole for acct could start now; if not, when (feed_wake_ms). */
static bool sts_ready(struct sweep *sw, const struct cw_account_def *acct)
{
	struct cw_ratelimit *rl;
	double have;

	if (acct->nroles == 0)
		return true;
	rl = cw_rl_registry_get(sw->rl_sts, cw_credcache_sts_region(sw->creds, acct));
	if (!rl || (have = cw_ratelimit_tokens(rl)) >= 1.0)
		return true;
	sw->feed_wake_ms = (int64_t)((1.0 - have) * 1000.0 / cw_ratelimit_rate(rl)) + 1;
	return false;
}

/*
 * Queue listings while the pool has room, without blocking: the main thread
 * must stay free to apply finished listings, so an account's fetches are
 * queued as soon as its own listings are back, interleaved with the other
 * accounts' listings (a blocking submit here would hold every fetch back
 * until the last listing of the plan had been queued).
 */
static void feed_listings(struct sweep *sw)
{
	sw->feed_wake_ms = 0;
	while (!sw->feed_failed && !stopping(sw)) {
		const struct cw_account_def *acct;
		struct acct_feed *f;

		/* first the accounts whose credentials are there */
		if (sw->rel_head < sw->rel_tail) {
			f = &sw->af[sw->rel[sw->rel_head]];
			if (f->next == f->first + f->n) {
				sw->rel_head++;
			} else {
				if (feed_step(sw, f->next, false))
					return;
				f->next++;
			}
			continue;
		}
		/* then open the next account */
		if (sw->next_acct == sw->nfeed_accts || sw->opening >= sw->workers)
			return;
		acct = &sw->inv->accounts[sw->feed_accts[sw->next_acct]];
		f = &sw->af[sw->feed_accts[sw->next_acct]];
		if (!sts_ready(sw, acct) || feed_step(sw, f->next, true))
			return;
		f->next++;
		sw->next_acct++;
		sw->opening++;
		if (acct->nroles == 0)
			release_account(sw, acct); /* ambient credentials: nothing to wait for */
	}
}

/* Feed listings, wait for finished jobs and apply them until none is left. */
static void drain(struct sweep *sw)
{
	int64_t last_progress = 0;

	for (;;) {
		struct job *list;

		feed_listings(sw);
		/* with nothing under way, only the STS pacing holds the feed back */
		if (sw->outstanding == 0 && sw->feed_wake_ms == 0)
			break;
		pthread_mutex_lock(&sw->done_mu);
		while (!sw->done && !(stopping(sw) && !sw->interrupted)) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += (sw->feed_wake_ms > 0 && sw->feed_wake_ms < 250
				       ? sw->feed_wake_ms : 250) * 1000000L;
			while (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&sw->done_cv, &sw->done_mu, &ts);
			if (cw_time_mono_ms() - last_progress >= 500 || sw->feed_wake_ms > 0)
				break;
		}
		list = sw->done;
		sw->done = NULL;
		pthread_mutex_unlock(&sw->done_mu);

		if (stopping(sw) && !sw->interrupted) {
			sw->interrupted = true;
			atomic_store(&sw->stop_now, true);
			cw_log_progress_end();
			cw_log_warn("interrupted: finishing the calls under way, dropping the rest");
			cw_aws_interrupt(sw->aws);
			cw_pool_cancel(sw->pool); /* cancelled jobs land in sw->done */
		}
		/* oldest first, so accounts complete in the order they started */
		struct job *rev = NULL;

		while (list) {
			struct job *nx = list->next;

			list->next = rev;
			rev = list;
			list = nx;
		}
		while (rev) {
			struct job *j = rev;

			rev = j->next;
			if (j->kind == JOB_CREDS) {
				release_account(sw, j->acct);
				job_free(j);
				continue;
			}
			sw->outstanding--;
			if (j->opener)
				release_account(sw, j->acct);
			if (j->kind == JOB_LIST)
				apply_listing(sw, j);
			else if (j->kind == JOB_SLIST)
				apply_slist(sw, j);
			else if (j->kind == JOB_SFETCH)
				apply_sfetch(sw, j);
			else if (j->kind == JOB_BLIST)
				apply_blist(sw, j);
			else if (j->kind == JOB_BFETCH)
				apply_bfetch(sw, j);
			else
				apply_fetch(sw, j);
			job_free(j);
		}
		if (cw_time_mono_ms() - last_progress >= 500) {
			show_progress(sw);
			last_progress = cw_time_mono_ms();
		}
	}
	cw_log_progress_end();
}

/* ---- coverage ------------------------------------------------------------ */

/* Watch state of the per-bucket targets, sorted by (account, bucket,
 * region) for lookups. */
struct bkey {
	size_t acct;
	const char *bucket, *region; /* borrowed from the plan */
	bool judged;                 /* a series of it was judged */
	bool fetch;                  /* it has the request metric (judged or failed) */
};

static int cmp_bkey(const void *x, const void *y)
{
	const struct bkey *a = x, *b = y;
	int c;

	if (a->acct != b->acct)
		return a->acct < b->acct ? -1 : 1;
	c = strcmp(a->bucket, b->bucket);
	return c ? c : strcmp(a->region, b->region);
}

/* Built account by account (in inventory order), each account's keys
 * sorted apart: the sort costs n log(n / accounts), not n log n. */
static struct bkey *bkeys_build(const struct sweep *sw, size_t *n)
{
	struct bkey *v = calloc(sw->plan.ntargets + 1, sizeof(*v));

	*n = 0;
	if (!v)
		return NULL;
	for (size_t a = 0; a < sw->inv->naccounts; a++) {
		size_t p0 = sw->acct_pair0[a], from = *n;

		for (size_t p = p0; p < p0 + sw->acct_npairs[a]; p++) {
			const struct cw_plan_pair *pr = &sw->plan.pairs[p];

			for (size_t k = 0; k < pr->ntargets; k++) {
				size_t t = pr->targets[k];
				const struct cw_plan_target *pt = &sw->plan.targets[t];

				if (!pt->metric->per_bucket || pt->state != CW_TGT_FETCH)
					continue;
				v[*n].acct = a;
				v[*n].bucket = pt->bucket;
				v[*n].region = pt->region;
				v[*n].judged = is_judged(sw, t);
				v[*n].fetch = true;
				(*n)++;
			}
		}
		qsort(v + from, *n - from, sizeof(*v), cmp_bkey);
	}
	return v;
}

/* keys (sorted) and the not-watched rows nw (sorted here) in one sorted
 * array (new; free() it), without sorting keys again. */
static struct bkey *bkeys_merge(const struct bkey *keys, size_t nkeys, struct bkey *nw,
				size_t nnw, size_t *n)
{
	struct bkey *all = malloc((nkeys + nnw + 1) * sizeof(*all));
	size_t i = 0, k = 0;

	*n = 0;
	if (!all)
		return NULL;
	if (nnw)
		qsort(nw, nnw, sizeof(*nw), cmp_bkey);
	while (i < nkeys || k < nnw)
		all[(*n)++] = k == nnw || (i < nkeys && cmp_bkey(&keys[i], &nw[k]) <= 0)
			      ? keys[i++] : nw[k++];
	return all;
}

/* Any key of (acct, bucket[, region]); region NULL = any region. */
static bool bkeys_has(const struct bkey *v, size_t n, size_t acct, const char *bucket,
		      const char *region)
{
	size_t lo = 0, hi = n;

	while (lo < hi) { /* first key >= (acct, bucket, "") */
		size_t mid = lo + (hi - lo) / 2;
		int c = v[mid].acct != acct ? (v[mid].acct < acct ? -1 : 1)
					    : strcmp(v[mid].bucket, bucket);

		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n && v[lo].acct == acct && strcmp(v[lo].bucket, bucket) == 0; lo++)
		if (!region || strcmp(v[lo].region, region) == 0)
			return true;
	return false;
}

/* The storage entry of a bucket in one of the account's pairs (the pair's
 * index in *pair), or NULL; *known: every pair looked at was listed. */
static struct cw_storage_bucket *storage_find(const struct sweep *sw,
					      const struct cw_plan_target *pt,
					      size_t *pair, bool *known)
{
	size_t from = pt->pair;

	*known = true;
	/* the account's pairs are consecutive in the plan */
	while (from > 0 && sw->plan.pairs[from - 1].account == pt->account)
		from--;
	for (size_t p = from; p < sw->plan.npairs && sw->plan.pairs[p].account == pt->account;
	     p++) {
		struct cw_storage_bucket *b;

		if (!pt->candidate && p != pt->pair)
			continue;
		if (sw->pst[p].state != PST_DONE) {
			*known = false;
			continue;
		}
		b = cw_storage_set_find(&sw->pst[p].set, pt->bucket);
		if (b) {
			*pair = p;
			return b;
		}
	}
	return NULL;
}

static void fix_command(char *fix, size_t len, const char *region, const char *bucket)
{
	snprintf(fix, len,
		 "aws s3api put-bucket-metrics-configuration%s%s --bucket %s --id EntireBucket "
		 "--metrics-configuration Id=EntireBucket", region && *region ? " --region " : "",
		 region && *region ? region : "", bucket);
}

static size_t nw_hash(size_t acct, const char *bucket, const char *region)
{
	uint64_t h = 14695981039346656037u ^ (uint64_t)acct;

	for (const char *c = bucket; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211u;
	h = (h ^ '/') * 1099511628211u;
	for (const char *c = region; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211u;
	return (size_t)h;
}

static bool nw_seen(const struct sweep *sw, size_t acct, const char *bucket,
		    const char *region)
{
	if (!sw->capnwh)
		return false;
	for (size_t i = nw_hash(acct, bucket, region) & (sw->capnwh - 1);; i = (i + 1) &
	     (sw->capnwh - 1)) {
		const struct bkey *k;

		if (!sw->nwh[i])
			return false;
		k = &sw->nw[sw->nwh[i] - 1];
		if (k->acct == acct && strcmp(k->bucket, bucket) == 0 &&
		    strcmp(k->region, region) == 0)
			return true;
	}
}

static void nw_put(size_t *tab, size_t cap, const struct bkey *k, size_t idx)
{
	size_t i = nw_hash(k->acct, k->bucket, k->region) & (cap - 1);

	while (tab[i])
		i = (i + 1) & (cap - 1);
	tab[i] = idx + 1;
}

/* Index nw[idx] (filled in), the hash kept at most half full.  0 or
 * CW_ENOMEM (then the row is not added). */
static int nw_index(struct sweep *sw, size_t idx)
{
	if (2 * (idx + 1) > sw->capnwh) {
		size_t cap = sw->capnwh ? sw->capnwh * 2 : 64;
		size_t *tab = calloc(cap, sizeof(*tab));

		if (!tab)
			return CW_ENOMEM;
		for (size_t i = 0; i < idx; i++)
			nw_put(tab, cap, &sw->nw[i], i);
		free(sw->nwh);
		sw->nwh = tab;
		sw->capnwh = cap;
	}
	nw_put(sw->nwh, sw->capnwh, &sw->nw[idx], idx);
	return 0;
}

static void add_not_watched(struct sweep *sw, const struct cw_account_def *acct,
			    const char *region, const char *bucket, const char *metric,
			    const char *unit, double bytes)
{
	struct cw_target_id id;
	char reason[768], fix[512];
	size_t a = acct_index(sw, acct);

	/* one row per bucket, however many metrics it lacks */
	if (nw_seen(sw, a, bucket, region))
		return;
	if (sw->nnw == sw->capnw) {
		size_t cap = sw->capnw ? sw->capnw * 2 : 32;
		struct bkey *v = realloc(sw->nw, cap * sizeof(*v));

		if (!v)
			return;
		sw->nw = v;
		sw->capnw = cap;
	}
	memset(&sw->nw[sw->nnw], 0, sizeof(sw->nw[0]));
	sw->nw[sw->nnw].acct = a;
	sw->nw[sw->nnw].bucket = bucket;
	sw->nw[sw->nnw].region = region;
	if (nw_index(sw, sw->nnw) != 0)
		return;
	sw->nnw++;

	memset(&id, 0, sizeof(id));
	id.account_id = (char *)acct->id;
	id.account_name = acct->name ? acct->name : (char *)acct->id;
	id.region = (char *)region;
	id.bucket = (char *)bucket;
	id.metric = (char *)metric;
	id.unit = (char *)unit;
	id.owner = acct->owner ? acct->owner : "";
	snprintf(reason, sizeof(reason),
		 "no request-metrics configuration: the bucket has data (daily storage "
		 "metrics) but CloudWatch has no %s for it", metric);
	fix_command(fix, sizeof(fix), region, bucket);
	cw_run_add_unwatched(sw->run, &id, CW_UNMEASURED_NOT_WATCHED, bytes,
			     cw_inventory_watch_usd(sw->inv), reason, fix);
}

/*
 * A listed bucket without the request metric: NOT_WATCHED when the
 * storage metrics show it has data and no other metric watches it,
 * NOT_FOUND when the storage listing says it has none, and the old "no
 * such metric" row when the storage metrics could not be listed.
 */
static void unmeasured_row(struct sweep *sw, size_t t, const struct bkey *keys, size_t nkeys)
{
	const struct cw_plan_target *pt = &sw->plan.targets[t];
	size_t a = acct_index(sw, pt->account), pair = pt->pair;
	struct cw_storage_bucket *sb = NULL;
	bool known = false, watched;
	struct cw_target_id id;
	char reason[768], fix[512], where[512] = "";

	if (pt->metric->per_bucket)
		sb = storage_find(sw, pt, &pair, &known);
	watched = bkeys_has(keys, nkeys, a, pt->bucket, NULL);
	if (sb && !watched) {
		add_not_watched(sw, pt->account, sw->plan.pairs[pair].region, pt->bucket,
				pt->metric->label, pt->metric->unit ? pt->metric->unit : "",
				sb->sized ? sb->bytes : NAN);
		return;
	}
	if (pt->candidate) {
		size_t o = 0;
		char *const *regions = pt->account->nregions ? pt->account->regions
							     : sw->inv->regions;
		size_t nregions = pt->account->nregions ? pt->account->nregions
							: sw->inv->nregions;

		for (size_t r = 0; r < nregions; r++)
			o += (size_t)snprintf(where + o, o < sizeof(where) ? sizeof(where) - o : 0,
					      "%s%s", r ? ", " : "", regions[r]);
	} else {
		cw_strlcpy(where, pt->region, sizeof(where));
	}
	if (known && !sb && pt->metric->per_bucket) {
		snprintf(reason, sizeof(reason),
			 "not found in %s: CloudWatch has neither its %s nor its daily storage "
			 "metrics (a typo, another account or region, or an empty bucket)",
			 where, pt->metric->label);
		snprintf(fix, sizeof(fix), "check the bucket's name, account and region in the "
			 "inventory (aws s3api get-bucket-location --bucket %s)", pt->bucket);
	} else {
		snprintf(reason, sizeof(reason),
			 "CloudWatch has no %s metric for this bucket in %s: request metrics "
			 "are not enabled, or there were no requests for two weeks",
			 pt->metric->label, where);
		snprintf(fix, sizeof(fix), "enable a request-metrics configuration on the bucket: ");
		fix_command(fix + strlen(fix), sizeof(fix) - strlen(fix),
			    pt->candidate ? NULL : pt->region, pt->bucket);
	}
	{
		struct cw_buf tags = CW_BUF_INIT;

		target_id(sw, pt, &id, &tags);
		if (pt->candidate)
			id.region = "";
		cw_run_add_unmeasured(sw->run, &id, reason, fix);
		cw_buf_release(&tags);
	}
}

static void unmeasured_rows(struct sweep *sw, const struct bkey *keys, size_t nkeys)
{
	for (size_t t = 0; t < sw->plan.ntargets; t++) {
		const struct cw_plan_target *pt = &sw->plan.targets[t];
		size_t a = acct_index(sw, pt->account);

		if (is_reported(sw, t))
			continue;
		switch (pt->state) {
		case CW_TGT_UNMEASURED:
			unmeasured_row(sw, t, keys, nkeys);
			mark_reported(sw, t);
			break;
		case CW_TGT_UNCHECKED:
		case CW_TGT_PENDING:
			if (sw->acct_failed[a]) {
				mark_reported(sw, t);
				break;
			}
			add_target_failure(sw, t, "list-metrics",
					   sw->interrupted ? "Interrupted" : "NotChecked",
					   sw->interrupted
						   ? "the run was interrupted before this bucket was fetched"
						   : "the metric listing of this account-region failed (see its row)");
			break;
		case CW_TGT_FETCH:
			add_target_failure(sw, t, "get-metric-data", "Interrupted",
					   "the run was interrupted before this bucket was fetched");
			break;
		case CW_TGT_SKIP:
			break;
		}
	}
}

/* A run that judged nothing at all, and failed nowhere: blind, not green. */
static void account_failure_run(struct sweep *sw)
{
	struct cw_target_id id;

	memset(&id, 0, sizeof(id));
	cw_run_add_failure(sw->run, &id, "coverage", "NothingJudged",
			   "the sweep judged no series: no bucket of the inventory has request "
			   "metrics and no bucket with data was found (see Not watched / Not "
			   "measured)");
	sw->errors++;
}

/* The first per-bucket metric of the inventory (what auto would watch). */
static const struct cw_metric_def *first_bucket_metric(const struct sweep *sw)
{
	for (size_t i = 0; i < sw->inv->nmetrics; i++)
		if (sw->inv->metrics[i].per_bucket)
			return &sw->inv->metrics[i];
	return NULL;
}

/* The pair (acct, region); first[acct] is the account's first pair (an
 * account's pairs are consecutive in the plan), SIZE_MAX when it has none. */
static size_t pair_of(const struct sweep *sw, const size_t *first, size_t acct,
		      const char *region)
{
	for (size_t p = first[acct]; p < sw->plan.npairs &&
	     acct_index(sw, sw->plan.pairs[p].account) == acct; p++)
		if (strcmp(sw->plan.pairs[p].region, region) == 0)
			return p;
	return SIZE_MAX;
}

static void pair_failure(struct sweep *sw, size_t p)
{
	const struct pair_storage *ps = &sw->pst[p];
	const struct cw_account_def *acct = sw->plan.pairs[p].account;
	struct cw_target_id id;

	memset(&id, 0, sizeof(id));
	id.account_id = (char *)acct->id;
	id.account_name = acct->name ? acct->name : (char *)acct->id;
	id.region = (char *)sw->plan.pairs[p].region;
	id.metric = "AWS/S3 BucketSizeBytes Average";
	id.unit = "Bytes";
	id.owner = acct->owner ? acct->owner : "";
	cw_run_add_failure(sw->run, &id, ps->stage, ps->code, ps->message);
	sw->errors++;
}

static void account_failure(struct sweep *sw, const struct cw_account_def *acct,
			    const char *stage, const char *code, const char *message)
{
	struct cw_target_id id;

	memset(&id, 0, sizeof(id));
	id.account_id = (char *)acct->id;
	id.account_name = acct->name ? acct->name : (char *)acct->id;
	id.owner = acct->owner ? acct->owner : "";
	cw_run_add_failure(sw->run, &id, stage, code, message);
}

/*
 * After the unmeasured rows: the not-watched buckets of `buckets: auto`
 * accounts, each account's coverage, the storage failures, and the
 * failure rows of accounts (or a run) that have buckets but judged
 * nothing: a sweep is never green while it is blind.
 */
static void coverage_rows(struct sweep *sw, const struct bkey *keys, size_t nkeys)
{
	const struct cw_metric_def *m0 = first_bucket_metric(sw);
	size_t naccts = sw->inv->naccounts, nall;
	struct bkey *all = NULL;
	struct cw_coverage *cov = NULL;
	bool *has = NULL, *fetchable = NULL;
	size_t *first = NULL;
	char msg[512];

	cov = calloc(naccts + 1, sizeof(*cov));
	has = calloc(naccts + 1, sizeof(*has));
	fetchable = calloc(naccts + 1, sizeof(*fetchable));
	first = malloc((naccts + 1) * sizeof(*first));
	if (!cov || !has || !fetchable || !first)
		goto out;
	for (size_t a = 0; a <= naccts; a++)
		first[a] = SIZE_MAX;
	for (size_t p = sw->plan.npairs; p > 0; p--)
		first[acct_index(sw, sw->plan.pairs[p - 1].account)] = p - 1;
	/* 1. auto accounts: every bucket with data that nothing judges */
	for (size_t p = 0; m0 && p < sw->plan.npairs; p++) {
		const struct cw_plan_pair *pr = &sw->plan.pairs[p];
		const struct pair_storage *ps = &sw->pst[p];

		if (ps->state != PST_DONE || !pr->account->buckets_auto)
			continue;
		for (size_t i = 0; i < ps->set.n; i++) {
			const struct cw_storage_bucket *b = &ps->set.v[i];

			if (!bkeys_has(keys, nkeys, acct_index(sw, pr->account), b->name, pr->region))
				add_not_watched(sw, pr->account, pr->region, b->name, m0->label,
						m0->unit ? m0->unit : "", b->sized ? b->bytes : NAN);
		}
	}
	/* 2. coverage: the buckets that exist, watched or not */
	all = bkeys_merge(keys, nkeys, sw->nw, sw->nnw, &nall);
	if (!all)
		goto out;
	for (size_t p = 0; p < sw->plan.npairs; p++) {
		size_t a = acct_index(sw, sw->plan.pairs[p].account);
		const struct pair_storage *ps = &sw->pst[p];

		if (ps->state == PST_NONE)
			continue;
		if (!has[a]) {
			has[a] = true;
			cov[a].complete = true;
		}
		if (ps->state != PST_DONE || ps->bytes_failed)
			cov[a].complete = false;
	}
	for (size_t i = 0; i < nall;) {
		size_t k = i, p;
		bool judged = false;
		const struct cw_storage_bucket *b;
		double bytes = 0;

		while (k < nall && cmp_bkey(&all[i], &all[k]) == 0) {
			judged = judged || all[k].judged;
			fetchable[all[i].acct] = fetchable[all[i].acct] || all[k].fetch;
			k++;
		}
		p = first[all[i].acct] == SIZE_MAX ? SIZE_MAX
						   : pair_of(sw, first, all[i].acct, all[i].region);
		b = p != SIZE_MAX ? cw_storage_set_find(&sw->pst[p].set, all[i].bucket) : NULL;
		if (b && b->sized)
			bytes = b->bytes;
		cov[all[i].acct].buckets++;
		cov[all[i].acct].bytes += bytes;
		if (judged) {
			cov[all[i].acct].watched++;
			cov[all[i].acct].watched_bytes += bytes;
		}
		i = k;
	}
	/* 3. storage listings and byte fetches that failed (an account whose
	 * credentials failed, or a region whose request listing failed, has
	 * its row already) */
	for (size_t p = 0; p < sw->plan.npairs; p++) {
		const struct pair_storage *ps = &sw->pst[p];
		size_t a = acct_index(sw, sw->plan.pairs[p].account);

		if (sw->acct_failed[a] || ps->lm_failed)
			continue;
		if ((ps->state == PST_FAILED || ps->bytes_failed) && ps->code[0] &&
		    !(sw->interrupted && strcmp(ps->code, "Interrupted") == 0))
			pair_failure(sw, p);
	}
	/* 4. coverage rows and blindness */
	for (size_t a = 0; a < naccts; a++) {
		const struct cw_account_def *acct = &sw->inv->accounts[a];

		if (!has[a])
			continue;
		cov[a].account_id = (char *)acct->id;
		cov[a].account_name = acct->name ? acct->name : (char *)acct->id;
		cw_run_add_coverage(sw->run, &cov[a]);
		/* blind: buckets with data, and none has the request metric (a
		 * bucket whose fetch failed has its own failure row) */
		if (cov[a].buckets > 0 && !fetchable[a] && !sw->acct_failed[a] &&
		    !sw->interrupted) {
			snprintf(msg, sizeof(msg), "%zu bucket%s with data and none has request "
				 "metrics: nothing in this account was judged (see Not watched for "
				 "the fix and its monthly cost)", cov[a].buckets,
				 cov[a].buckets == 1 ? "" : "s");
			account_failure(sw, acct, "coverage", "NothingWatched", msg);
			sw->errors++;
		}
	}
	if (sw->run->nseries == 0 && sw->run->nfailures == 0 && sw->plan.counts.accounts > 0)
		account_failure_run(sw);
out:
	free(all);
	free(cov);
	free(has);
	free(fetchable);
	free(first);
}

/* ---- setup --------------------------------------------------------------- */

/* AssumeRole pacing per STS region (aws.rate_limits.sts_tps); any thread. */
static int pace_sts(void *env, const char *region)
{
	struct sweep *sw = env;

	return cw_ratelimit_wait(cw_rl_registry_get(sw->rl_sts, region), &sw->stop_now);
}

/* How an AssumeRole answer went: the STS region's bucket adapts. */
static void pace_sts_feedback(void *env, const char *region, bool throttled)
{
	struct sweep *sw = env;

	cw_ratelimit_feedback(cw_rl_registry_get(sw->rl_sts, region), throttled);
}

static bool include_account(void *ctx, const struct cw_account_def *a)
{
	const struct cw_sweep_opts *o = ctx;

	return !o->include || o->include(o->include_ctx, a);
}

static int plan_build(struct cw_plan *plan, const struct cw_sweep_opts *o,
		      char *err, size_t errlen)
{
	struct cw_plan_opts po;

	memset(&po, 0, sizeof(po));
	po.now = o->now;
	po.include = include_account;
	po.include_ctx = (void *)o;
	po.include_region = o->include_region;
	po.region_ctx = o->region_ctx;
	return cw_plan_build(plan, o->inv, &po, err, errlen);
}

int cw_sweep_dry_run(FILE *out, const struct cw_sweep_opts *o, char *err, size_t errlen)
{
	struct cw_plan plan;
	const struct cw_plan_counts *c;
	char a[CW_TIME_ISO_LEN], b[CW_TIME_ISO_LEN], per[16];
	int rc = plan_build(&plan, o, err, errlen);

	if (rc)
		return rc;
	c = &plan.counts;
	fprintf(out,
		"cwsweep dry run: no network calls were made\n"
		"  window        %s .. %s (period %s, complete periods only)\n"
		"  accounts      %zu (%zu account-regions, %zu distinct regions)\n"
		"  targets       %zu known%s%s\n",
		cw_time_iso(plan.start, a, sizeof(a)), cw_time_iso(plan.end, b, sizeof(b)),
		cw_fmt_duration(plan.period, per, sizeof(per)), c->accounts, c->pairs, c->regions,
		c->targets, c->candidates ? " (buckets whose region the listings decide counted once)" : "",
		c->discovery ? ", plus what `buckets: auto` discovers" : "");
	fprintf(out,
		"  API calls     AssumeRole %zu, ListMetrics %zu (first pages), GetMetricData %zu\n"
		"                (%zu queries per call, at most 500 and 100,800 datapoints)\n"
		"  est. cost     $%.4f: %zu metrics requested x $0.01 per 1,000 (GetMetricData;\n"
		"                an estimate: discovered buckets and extra pages add to it)\n",
		c->sts_calls, c->list_metrics_calls, c->gmd_calls, c->per_call,
		c->cost_usd, c->metrics_requested);
	if (c->storage_list_calls)
		fprintf(out,
			"  coverage      ListMetrics %zu more (AWS/S3 BucketSizeBytes, one per "
			"account-region),\n"
			"                GetMetricData for the stored bytes: >= %zu metrics, est. "
			"$%.4f more\n"
			"                (one per bucket and storage class; discovered buckets add "
			"to it)\n",
			c->storage_list_calls, c->storage_metrics, c->storage_cost_usd);
	if (o->inv->billing.enabled &&
	    (!o->include || o->include(o->include_ctx, &o->inv->billing.payer))) {
		const struct cw_billing_def *bd = &o->inv->billing;
		size_t m = bd->linked_all ? 0 : o->inv->naccounts * bd->nservices;

		fprintf(out,
			"  billing       payer %s (us-east-1): ListMetrics 1, GetMetricData for "
			"%s%zu metrics\n"
			"                (AWS/Billing EstimatedCharges per linked account and "
			"service, hourly), est. $%.4f\n",
			bd->payer.id, bd->linked_all ? "every linked account: >= " : "",
			bd->linked_all ? bd->nservices : m,
			(double)(bd->linked_all ? bd->nservices : m) * CW_GMD_USD_PER_METRIC);
	}
	for (size_t i = 0; i < plan.nnotes; i++)
		fprintf(out, "  note: %s\n", plan.notes[i]);
	cw_plan_release(&plan);
	return 0;
}

static void sweep_release(struct sweep *sw)
{
	cw_pool_free(sw->pool);
	cw_credcache_free(sw->creds);
	cw_creds_provider_free(sw->ambient);
	cw_rl_registry_free(sw->rl_gmd);
	cw_rl_registry_free(sw->rl_lm);
	cw_rl_registry_free(sw->rl_sts);
	cw_aws_ctx_free(sw->aws);
	for (size_t p = 0; sw->pst && p < sw->plan.npairs; p++)
		cw_storage_set_release(&sw->pst[p].set);
	cw_plan_release(&sw->plan);
	free(sw->pst);
	free(sw->feed);
	free(sw->af);
	free(sw->feed_accts);
	free(sw->rel);
	free(sw->nw);
	free(sw->nwh);
	free(sw->acct_pending);
	free(sw->acct_failed);
	free(sw->acct_submitted);
	free(sw->acct_pair0);
	free(sw->acct_npairs);
	free(sw->reported);
	pthread_mutex_destroy(&sw->done_mu);
	pthread_cond_destroy(&sw->done_cv);
}

static int sweep_setup(struct sweep *sw, char *err, size_t errlen)
{
	const struct cw_inventory *inv = sw->inv;
	struct cw_aws_opts ao;
	struct cw_creds_opts co;
	struct cw_credcache_opts cc;
	struct cw_pool_ops ops = { worker_init, worker_fini, sw };
	struct cw_creds probe;
	char session[80];
	unsigned jobs = sw->o->jobs ? sw->o->jobs : inv->aws.jobs > 0 ? (unsigned)inv->aws.jobs
								     : DEFAULT_JOBS;
	int rc;

	rc = cw_aws_env_retry(&ao.max_attempts, err, errlen); /* a bad value is exit 2 */
	if (rc)
		return rc;
	memset(&ao, 0, sizeof(ao));
	ao.max_attempts = inv->aws.max_attempts;
	ao.connect_timeout_ms = inv->aws.connect_timeout_s * 1000L;
	ao.total_timeout_ms = inv->aws.request_timeout_s * 1000L;
	ao.response_memory = (size_t)(inv->aws.response_memory_mb > 0
				      ? inv->aws.response_memory_mb : 256) << 20;
	ao.throttle_window_ms = (int64_t)inv->aws.throttle_window_s * 1000;
	rc = cw_aws_ctx_new(&sw->aws, &ao);
	if (rc)
		return cw_fail(err, errlen, rc, "cannot set up the AWS client: %s", cw_strerror(rc));

	snprintf(session, sizeof(session), "cwsweep-%s", sw->o->run_id ? sw->o->run_id : "run");
	memset(&co, 0, sizeof(co));
	co.profile = sw->o->profile;
	co.aws = sw->aws;
	co.sts_region = inv->aws.sts_region;
	co.endpoint_url = inv->aws.endpoint_url;
	co.session_name = session;
	rc = cw_creds_provider_new(&sw->ambient, &co, err, errlen);
	if (rc)
		return rc;
	/* No credentials at all is a configuration error: say so before any work. */
	memset(&probe, 0, sizeof(probe));
	rc = cw_creds_provider_get(sw->ambient, false, &probe, err, errlen);
	cw_creds_release(&probe);
	if (rc)
		return rc;

	memset(&cc, 0, sizeof(cc));
	cc.ambient = sw->ambient;
	cc.aws = sw->aws;
	cc.endpoint_url = inv->aws.endpoint_url;
	cc.sts_region = inv->aws.sts_region;
	cc.session_name = session;
	cc.pace = pace_sts;
	cc.pace_feedback = pace_sts_feedback;
	cc.pace_env = sw;
	rc = cw_credcache_new(&sw->creds, &cc, err, errlen);
	if (rc)
		return rc;
	if (cw_rl_registry_new(&sw->rl_gmd, inv->aws.gmd_tps > 0 ? inv->aws.gmd_tps : 40,
			       (unsigned)(inv->aws.gmd_tps > 1 ? inv->aws.gmd_tps : 1), NULL) ||
	    cw_rl_registry_new(&sw->rl_lm, inv->aws.lm_tps > 0 ? inv->aws.lm_tps : 20,
			       (unsigned)(inv->aws.lm_tps > 1 ? inv->aws.lm_tps : 1), NULL) ||
	    cw_rl_registry_new(&sw->rl_sts, inv->aws.sts_tps > 0 ? inv->aws.sts_tps : 100,
			       (unsigned)(inv->aws.sts_tps > 1 ? inv->aws.sts_tps : 1), NULL))
		return cw_fail(err, errlen, CW_ENOMEM, "out of memory");

	sw->acct_pending = calloc(inv->naccounts + 1, sizeof(*sw->acct_pending));
	sw->acct_failed = calloc(inv->naccounts + 1, sizeof(*sw->acct_failed));
	sw->acct_submitted = calloc(inv->naccounts + 1, sizeof(*sw->acct_submitted));
	sw->acct_pair0 = calloc(inv->naccounts + 1, sizeof(*sw->acct_pair0));
	sw->acct_npairs = calloc(inv->naccounts + 1, sizeof(*sw->acct_npairs));
	if (!sw->acct_pending || !sw->acct_failed || !sw->acct_submitted || !sw->acct_pair0 ||
	    !sw->acct_npairs)
		return cw_fail(err, errlen, CW_ENOMEM, "out of memory");
	for (size_t p = sw->plan.npairs; p > 0; p--) {
		size_t a = acct_index(sw, sw->plan.pairs[p - 1].account);

		sw->acct_pair0[a] = p - 1;
		sw->acct_npairs[a]++;
	}

	sw->workers = jobs;
	rc = cw_pool_new(&sw->pool, jobs, (size_t)jobs * 4, &ops, err, errlen);
	return rc;
}

int cw_sweep_run(struct cw_run *run, const struct cw_sweep_opts *o, char *err, size_t errlen)
{
	struct sweep sw;
	struct cw_aws_stats st;
	int rc;

	memset(&sw, 0, sizeof(sw));
	sw.o = o;
	sw.inv = o->inv;
	sw.run = run;
	atomic_init(&sw.stop_now, false);
	pthread_mutex_init(&sw.done_mu, NULL);
	pthread_cond_init(&sw.done_cv, NULL);
	sw.t0_ms = cw_time_mono_ms();

	rc = plan_build(&sw.plan, o, err, errlen);
	if (rc) {
		pthread_mutex_destroy(&sw.done_mu);
		pthread_cond_destroy(&sw.done_cv);
		return rc;
	}
	rc = sweep_setup(&sw, err, errlen);
	if (rc)
		goto out;

	run->period = sw.plan.period;
	run->lookback = sw.plan.end - sw.plan.start;
	run->accounts = sw.plan.counts.accounts;
	run->regions = sw.plan.counts.regions;
	run->all_periods = o->all_periods;

	/*
	 * The feed: every listing, each account-region's storage listing just
	 * before its first request-metric listing (pairs without a listing
	 * need no bucket set).  Accounts wait for all of their listings; the
	 * rest are ready at once.
	 */
	sw.pst = calloc(sw.plan.npairs + 1, sizeof(*sw.pst));
	sw.feed = calloc(2 * sw.plan.nlistings + 1, sizeof(*sw.feed));
	sw.af = calloc(sw.inv->naccounts + 1, sizeof(*sw.af));
	sw.feed_accts = calloc(sw.inv->naccounts + 1, sizeof(*sw.feed_accts));
	sw.rel = calloc(sw.inv->naccounts + 1, sizeof(*sw.rel));
	if (!sw.pst || !sw.feed || !sw.af || !sw.feed_accts || !sw.rel) {
		rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t l = 0; l < sw.plan.nlistings; l++) {
		size_t p = sw.plan.listings[l].pair;
		size_t a = acct_index(&sw, sw.plan.pairs[p].account);

		if (sw.pst[p].state == PST_NONE) {
			sw.pst[p].state = PST_PENDING;
			sw.feed[sw.nfeed].storage = true;
			sw.feed[sw.nfeed++].idx = p;
			sw.acct_pending[a]++;
		}
		sw.feed[sw.nfeed].storage = false;
		sw.feed[sw.nfeed++].idx = l;
		sw.acct_pending[a]++;
	}
	/* an account's listings are consecutive in the plan, so its steps are */
	for (size_t i = 0; i < sw.nfeed; i++) {
		const struct feed_step *f = &sw.feed[i];
		size_t p = f->storage ? f->idx : sw.plan.listings[f->idx].pair;
		size_t a = acct_index(&sw, sw.plan.pairs[p].account);

		if (sw.af[a].n == 0) {
			sw.af[a].first = sw.af[a].next = i;
			sw.feed_accts[sw.nfeed_accts++] = a;
		}
		sw.af[a].n++;
	}
	sw.accounts_total = sw.plan.counts.accounts;

	/* accounts without any listing (metrics without {bucket}) */
	for (size_t p = 0; p < sw.plan.npairs; p++) {
		const struct cw_account_def *a = sw.plan.pairs[p].account;

		if (sw.acct_pending[acct_index(&sw, a)] == 0)
			account_ready(&sw, a);
	}
	billing_start(&sw);
	drain(&sw); /* queues the listings as the pool has room */
	cw_plan_resolve(&sw.plan);
	{
		size_t nkeys = 0;
		struct bkey *keys = bkeys_build(&sw, &nkeys);

		/* out of memory: no key, as before (every lookup misses) */
		unmeasured_rows(&sw, keys, keys ? nkeys : 0);
		if (keys)
			coverage_rows(&sw, keys, nkeys);
		free(keys);
	}
	rc = 0;
out:
	if (sw.aws) {
		struct cw_aws_action_stats as[CW_AWS_MAX_ACTIONS];
		size_t na = cw_aws_ctx_actions(sw.aws, as, CW_AWS_MAX_ACTIONS);

		cw_aws_ctx_stats(sw.aws, &st);
		run->api_calls = (size_t)st.attempts;
		run->ncalls = 0;
		for (size_t i = 0; i < na && i < sizeof(run->calls) / sizeof(run->calls[0]); i++) {
			cw_strlcpy(run->calls[i].action, as[i].action, sizeof(run->calls[i].action));
			run->calls[i].calls = (size_t)as[i].attempts;
			run->calls[i].throttled = (size_t)as[i].throttled;
			run->ncalls++;
		}
	}
	sweep_release(&sw);
	return rc;
}
