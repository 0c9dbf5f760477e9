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
 *   `auto` buckets and confirms the listed ones have request metrics)
 *     -> when every listing of an account is back: resolve its buckets'
 *        regions, batch its targets (<= 500 queries, <= 100,800 points a
 *        call) and queue one GetMetricData job per batch
 *     -> series -> detectors -> run.
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
#include "cloudwatch.h"
#include "cost.h"
#include "credcache.h"
#include "creds.h"
#include "err.h"
#include "log.h"
#include "pager.h"
#include "pool.h"
#include "ratelimit.h"
#include "strutil.h"
#include "sweep.h"
#include "timeutil.h"
#include "units.h"

#define DEFAULT_JOBS 16
#define MAX_PAGES 10000

enum job_kind { JOB_LIST, JOB_FETCH };

struct sweep;

struct job {
	enum job_kind kind;
	struct sweep *sw;
	const struct cw_account_def *acct; /* borrowed from the inventory */
	const char *region;                /* borrowed from the inventory */
	const struct cw_metric_def *metric;/* borrowed from the inventory */
	char key[64];                      /* "ACCOUNT/REGION" for rate limits */
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
	/* outcome */
	int rc;                  /* 0, or why the whole job failed */
	bool creds_failed;       /* the account's credentials could not be had */
	char stage[32];
	char code[128];
	char message[CW_ERRBUF];
	struct job *next;        /* done list */
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
	size_t next_listing;     /* plan listings queued so far (fed as room appears) */
	bool feed_failed;        /* a listing could not be queued: queue no more */
	size_t *acct_pending;    /* listings not back yet, per inventory account */
	bool *acct_failed;       /* credentials failed: one failure row written */
	bool *acct_submitted;
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
		job_fail(j, rc, what, rc == CW_EINTR ? "Interrupted" : cw_strerror(rc), err);
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

static void list_run(struct job *j, struct cw_aws_client *c)
{
	struct cw_ratelimit *rl = cw_rl_registry_get(j->sw->rl_lm, j->key);
	char *next = NULL, err[CW_ERRBUF] = "";
	struct cw_pager pg;

	cw_pager_init(&pg, MAX_PAGES);
	do {
		struct cw_aws_response resp;
		struct cw_lm_page page;
		char *body = NULL;
		size_t len = 0;
		int rc = cw_lm_request(&body, &len, j->metric, next, err, sizeof(err));

		free(next);
		next = NULL;
		if (rc) {
			job_fail(j, rc, "list-metrics", "RequestBuild", err);
			break;
		}
		cw_aws_response_init(&resp);
		rc = job_call(j, c, rl, CW_TARGET_LM, "list-metrics", body, len, &resp);
		free(body);
		if (rc) {
			cw_aws_response_release(&resp);
			break;
		}
		memset(&page, 0, sizeof(page));
		rc = cw_lm_parse(&page, j->metric, resp.body.data, resp.body.len, err, sizeof(err));
		cw_aws_response_release(&resp);
		if (rc) {
			job_fail(j, rc, "list-metrics", "MalformedResponse", err);
			break;
		}
		rc = names_add(j, page.names, page.n);
		next = page.next_token;
		page.next_token = NULL;
		cw_lm_page_release(&page);
		if (rc) {
			job_fail(j, rc, "list-metrics", "NoMemory", "out of memory");
			break;
		}
		rc = cw_pager_next(&pg, next, "ListMetrics", err, sizeof(err));
		if (rc) {
			job_fail(j, rc, "list-metrics", cw_pager_code(rc), err);
			break;
		}
	} while (next);
	cw_pager_release(&pg);
	free(next);
}

static void fetch_run(struct job *j, struct cw_aws_client *c)
{
	struct cw_ratelimit *rl = cw_rl_registry_get(j->sw->rl_gmd, j->key);
	int64_t period = j->sw->plan.period; /* fixed when the plan was built */
	char *next = NULL, err[CW_ERRBUF] = "";
	struct cw_pager pg;
	int rc;

	rc = cw_gmd_results_new(&j->results, j->n, j->start, j->end, period);
	if (rc) {
		job_fail(j, rc, "get-metric-data", "NoMemory", "out of memory");
		return;
	}
	cw_pager_init(&pg, MAX_PAGES);
	do {
		struct cw_aws_response resp;
		struct cw_gmd_page page;
		char *body = NULL;
		size_t len = 0;

		rc = cw_gmd_request(&body, &len, j->queries, j->n, j->start, j->end, period,
				    next, err, sizeof(err));
		free(next);
		next = NULL;
		if (rc) {
			job_fail(j, rc, "get-metric-data", "RequestBuild", err);
			break;
		}
		cw_aws_response_init(&resp);
		rc = job_call(j, c, rl, CW_TARGET_GMD, "get-metric-data", body, len, &resp);
		free(body);
		if (rc) {
			cw_aws_response_release(&resp);
			break;
		}
		memset(&page, 0, sizeof(page));
		rc = cw_gmd_accumulate(j->results, j->n, NULL, j->n, resp.body.data,
				       resp.body.len, &page, err, sizeof(err));
		cw_aws_response_release(&resp);
		if (rc) {
			job_fail(j, rc, "get-metric-data", "MalformedResponse", err);
			break;
		}
		next = page.next_token;
		page.next_token = NULL;
		cw_gmd_page_release(&page);
		rc = cw_pager_next(&pg, next, "GetMetricData", err, sizeof(err));
		if (rc) {
			job_fail(j, rc, "get-metric-data", cw_pager_code(rc), err);
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

/* On a worker, without the pool's lock. */
static void job_run(void *arg, void *wctx, unsigned worker)
{
	struct job *j = arg;

	if (stopping(j->sw))
		job_fail(j, CW_EINTR, j->kind == JOB_LIST ? "list-metrics" : "get-metric-data",
			 "Interrupted", "the run was interrupted before this call");
	else if (job_creds(j) == 0) {
		if (j->kind == JOB_LIST)
			list_run(j, wctx);
		else
			fetch_run(j, wctx);
	}
	done_push(j);
}

/* On the thread that calls cw_pool_cancel (the main thread). */
static void job_cancelled(void *arg)
{
	struct job *j = arg;

	job_fail(j, CW_EINTR, j->kind == JOB_LIST ? "list-metrics" : "get-metric-data",
		 "Interrupted", "the run was interrupted before this call");
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
	for (size_t t = 0; t < sw->plan.ntargets; t++) {
		const struct cw_plan_target *pt = &sw->plan.targets[t];
		bool first = true;

		if (pt->account != j->acct)
			continue;
		for (size_t u = 0; u < t && first; u++)
			first = sw->plan.targets[u].group != pt->group;
		sw->targets_done += first;
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
		    cw_run_judge(sw->run, idx, dets->v, dets->n, sw->o->all_periods,
				 err, sizeof(err)) != 0) {
			add_target_failure(sw, t, "judge", "Internal", "out of memory");
			continue;
		}
		mark_reported(sw, t);
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

/* Every listing of an account is back: batch and queue its fetches. */
static void account_ready(struct sweep *sw, const struct cw_account_def *acct)
{
	size_t a = acct_index(sw, acct);

	if (sw->acct_submitted[a])
		return;
	sw->acct_submitted[a] = true;
	sw->accounts_ready++;
	if (cw_plan_resolve(&sw->plan) != 0)
		return;
	/* its buckets without the metric are settled now (one per bucket) */
	for (size_t t = 0; t < sw->plan.ntargets; t++)
		sw->targets_done += sw->plan.targets[t].account == acct &&
				    sw->plan.targets[t].state == CW_TGT_UNMEASURED;
	for (size_t p = 0; p < sw->plan.npairs; p++) {
		struct cw_batch_list batches = { NULL, 0 };
		size_t *targets = NULL, n = 0;

		if (sw->plan.pairs[p].account != acct)
			continue;
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
}

static void apply_listing(struct sweep *sw, struct job *j)
{
	size_t a = acct_index(sw, j->acct);

	if (j->rc) {
		cw_plan_listing_failed(&sw->plan, j->listing);
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

/*
 * Queue listings while the pool has room, without blocking: the main thread
 * must stay free to apply finished listings, so an account's fetches are
 * queued as soon as its own listings are back, interleaved with the other
 * accounts' listings (a blocking submit here would hold every fetch back
 * until the last listing of the plan had been queued).
 */
static void feed_listings(struct sweep *sw)
{
	while (sw->next_listing < sw->plan.nlistings && !sw->feed_failed && !stopping(sw)) {
		const struct cw_plan_listing *li = &sw->plan.listings[sw->next_listing];
		const struct cw_plan_pair *pr = &sw->plan.pairs[li->pair];
		struct job *j = job_new(sw, JOB_LIST, pr->account, pr->region, li->metric);
		struct cw_pool_job pj = { job_run, job_cancelled, j };
		int rc;

		if (!j) {
			sw->feed_failed = true;
			return;
		}
		j->listing = sw->next_listing;
		rc = cw_pool_try_submit(sw->pool, &pj);
		if (rc) {
			job_free(j);
			if (rc != CW_ETOOBIG)
				sw->feed_failed = true;
			return; /* full: more once a job is back */
		}
		sw->outstanding++;
		sw->next_listing++;
	}
}

/* Feed listings, wait for finished jobs and apply them until none is left. */
static void drain(struct sweep *sw)
{
	int64_t last_progress = 0;

	for (;;) {
		struct job *list;

		feed_listings(sw);
		if (sw->outstanding == 0)
			break;
		pthread_mutex_lock(&sw->done_mu);
		while (!sw->done && !(stopping(sw) && !sw->interrupted)) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 250 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&sw->done_cv, &sw->done_mu, &ts);
			if (cw_time_mono_ms() - last_progress >= 500)
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
			sw->outstanding--;
			if (j->kind == JOB_LIST)
				apply_listing(sw, j);
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

static void unmeasured_rows(struct sweep *sw)
{
	struct cw_buf tags = CW_BUF_INIT;

	for (size_t t = 0; t < sw->plan.ntargets; t++) {
		const struct cw_plan_target *pt = &sw->plan.targets[t];
		size_t a = acct_index(sw, pt->account);
		struct cw_target_id id;
		char reason[768], fix[512], where[512] = "";

		if (is_reported(sw, t))
			continue;
		switch (pt->state) {
		case CW_TGT_UNMEASURED:
			if (pt->candidate) {
				size_t o = 0;

				for (size_t r = 0; r < pt->account->nregions; r++)
					o += (size_t)snprintf(where + o, o < sizeof(where) ? sizeof(where) - o : 0,
							      "%s%s", r ? ", " : "", pt->account->regions[r]);
			} else {
				cw_strlcpy(where, pt->region, sizeof(where));
			}
			snprintf(reason, sizeof(reason),
				 "CloudWatch has no %s metric for this bucket in %s: request metrics "
				 "are not enabled, or there were no requests for two weeks",
				 pt->metric->label, where);
			snprintf(fix, sizeof(fix),
				 "enable a request-metrics configuration on the bucket: aws s3api "
				 "put-bucket-metrics-configuration --bucket %s --id EntireBucket "
				 "--metrics-configuration Id=EntireBucket",
				 pt->bucket);
			target_id(sw, pt, &id, &tags);
			if (pt->candidate)
				id.region = "";
			cw_run_add_unmeasured(sw->run, &id, reason, fix);
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
	cw_buf_release(&tags);
}

/* ---- setup --------------------------------------------------------------- */

/* AssumeRole pacing per STS region (aws.rate_limits.sts_tps); any thread. */
static int pace_sts(void *env, const char *region)
{
	struct sweep *sw = env;

	return cw_ratelimit_wait(cw_rl_registry_get(sw->rl_sts, region), &sw->stop_now);
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
	cw_plan_release(&sw->plan);
	free(sw->acct_pending);
	free(sw->acct_failed);
	free(sw->acct_submitted);
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
	if (!sw->acct_pending || !sw->acct_failed || !sw->acct_submitted)
		return cw_fail(err, errlen, CW_ENOMEM, "out of memory");

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

	/* Which accounts wait for listings; the rest are ready at once. */
	for (size_t l = 0; l < sw.plan.nlistings; l++)
		sw.acct_pending[acct_index(&sw, sw.plan.pairs[sw.plan.listings[l].pair].account)]++;
	sw.accounts_total = sw.plan.counts.accounts;

	/* accounts without any listing (metrics without {bucket}) */
	for (size_t p = 0; p < sw.plan.npairs; p++) {
		const struct cw_account_def *a = sw.plan.pairs[p].account;

		if (sw.acct_pending[acct_index(&sw, a)] == 0)
			account_ready(&sw, a);
	}
	drain(&sw); /* queues the listings as the pool has room */
	cw_plan_resolve(&sw.plan);
	unmeasured_rows(&sw);
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
