/*
 * plan.h - what a sweep will fetch: inventory -> targets, listings, window
 * and the dry-run numbers.
 *
 * A target is account x region x metric x bucket.  Buckets come from three
 * places:
 *   - a bucket with a region (or in an account with one region): one
 *     target, confirmed by the ListMetrics listing of its account-region;
 *   - a bucket without a region in an account with several regions: a
 *     CANDIDATE in every region (same `group`); the listings decide where
 *     it is; it is fetched where found, and when no region has it the group
 *     gets ONE "unmeasured" row, not one per region;
 *   - `buckets: auto`: the listing of each account-region-metric discovers
 *     them (new targets are appended by cw_plan_listing_found).
 * A metric whose dimensions do not mention {bucket} gives one target per
 * account-region with bucket "" and needs no listing.
 *
 * One listing = one paged ListMetrics call per account-region-metric: it
 * both discovers and confirms (a bucket without request metrics is absent
 * from it), for every bucket of that account-region at once.
 *
 * Use from the orchestrator:
 *   cw_plan_build -> for each listing: ListMetrics pages ->
 *   cw_plan_listing_found (per page) -> cw_plan_listing_done / _failed ->
 *   cw_plan_resolve -> for each pair: cw_plan_pair_targets -> batch.h.
 *
 * Threads: a plan is built and changed on one thread; workers may read it
 * (targets, listings, window) while nobody changes it.  Targets are
 * appended during discovery: keep indices, not pointers, across
 * cw_plan_listing_found.
 */
#ifndef CW_PLAN_H
#define CW_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inventory.h"

/* GetMetricData price: $0.01 per 1,000 metrics requested (no free tier). */
#define CW_GMD_USD_PER_METRIC (0.01 / 1000.0)

enum cw_target_state {
	CW_TGT_PENDING,    /* its listing has not answered yet */
	CW_TGT_FETCH,      /* fetch it */
	CW_TGT_UNMEASURED, /* no such metric: report one "unmeasured" row */
	CW_TGT_SKIP,       /* a candidate that lives elsewhere, or whose group
			    * is reported by another target: nothing to do */
	CW_TGT_UNCHECKED,  /* its listing failed: report one failure row */
};

struct cw_plan_target {
	const struct cw_account_def *account; /* borrowed from the inventory */
	const char *region;                   /* borrowed */
	const struct cw_metric_def *metric;   /* borrowed */
	const struct cw_bucket_def *def;      /* borrowed; NULL when discovered
					       * or when the metric has no {bucket} */
	char *bucket;       /* def->name (borrowed) when def, else owned; "" when
			     * the metric has no {bucket} */
	size_t pair;        /* index into plan->pairs */
	size_t listing;     /* index into plan->listings; SIZE_MAX: none needed */
	size_t group;       /* candidates of one bucket share it; else unique */
	bool candidate;     /* one of several possible regions */
	bool discovered;    /* appended by a discovery listing */
	bool found;         /* its listing named it */
	enum cw_target_state state;
};

/* An account-region: the unit of batching and of rate limiting.  An
 * account's pairs are consecutive in plan->pairs. */
struct cw_plan_pair {
	const struct cw_account_def *account; /* borrowed */
	const char *region;                   /* borrowed */
	size_t *targets; size_t ntargets, cap;/* owned: its targets, ascending */
};

enum cw_listing_state { CW_LIST_PENDING, CW_LIST_DONE, CW_LIST_FAILED };

/* One paged ListMetrics on namespace/metric with the metric's fixed
 * dimensions (FilterId=EntireBucket) and the bucket dimension unset. */
struct cw_plan_listing {
	size_t pair;                        /* index into plan->pairs */
	const struct cw_metric_def *metric; /* borrowed */
	bool discover;                      /* buckets: auto */
	enum cw_listing_state state;
	size_t *targets; size_t ntargets, cap; /* owned: targets it checks */
};

/* The dry-run numbers, known before any call. */
struct cw_plan_counts {
	size_t accounts;        /* accounts included */
	size_t regions;         /* distinct region names */
	size_t pairs;           /* account-regions */
	size_t targets;         /* known targets, a candidate group counted once */
	size_t candidates;      /* buckets whose region the listings decide */
	size_t discovery;       /* discovery listings (their buckets come later) */
	size_t sts_calls;       /* AssumeRole calls: every role of every chain */
	size_t list_metrics_calls; /* one (first page) per listing */
	size_t gmd_calls;       /* GetMetricData calls, the batcher's floor */
	size_t windows;         /* time windows (1 unless the datapoint cap splits) */
	size_t per_call;        /* queries per call in the first window */
	size_t metrics_requested; /* targets x windows */
	double cost_usd;        /* metrics_requested x $0.01/1000, an estimate */
	/* coverage: the daily storage metrics of every account-region that has
	 * a listing (its bucket set and their stored bytes) */
	size_t storage_list_calls;  /* ListMetrics (first pages), one per such pair */
	size_t storage_metrics;     /* GetMetricData metrics for the known buckets: one
				     * per bucket and storage class, at least one each */
	double storage_cost_usd;    /* storage_metrics x $0.01/1000, an estimate */
};

struct cw_plan {
	/* [start, end): UTC, multiples of period; end = floor(now, period) so
	 * the current partial period is never fetched. */
	int64_t start, end, period;
	struct cw_plan_target *targets; size_t ntargets, cap_targets;
	struct cw_plan_pair *pairs; size_t npairs;
	struct cw_plan_listing *listings; size_t nlistings;
	struct cw_plan_counts counts;
	char **notes; size_t nnotes; /* owned warnings, e.g. retention limits */
	size_t ngroups;
	/* scratch of cw_plan_resolve_pairs / cw_plan_pairs_groups: one entry
	 * per group, left unset between calls (so a call costs its own
	 * targets, not the plan's); made only once candidates need it */
	struct cw_plan_group *gscratch; size_t cap_gscratch;
};

struct cw_plan_opts {
	int64_t now; /* UTC seconds; 0 = cw_time_now() */
	/* Which accounts take part (disabled ones, --account, --shard K/N);
	 * NULL = all.  Called on the building thread. */
	bool (*include)(void *ctx, const struct cw_account_def *account);
	void *include_ctx;
	/* Which regions take part (--region); NULL = all.  A bucket pinned to a
	 * region that is left out is left out too. */
	bool (*include_region)(void *ctx, const char *region);
	void *region_ctx;
};

/*
 * Build the plan.  inv is borrowed and must outlive the plan.  opts may be
 * NULL.  Returns 0, CW_EINVAL (bad period or lookback; err says which) or
 * CW_ENOMEM.  On failure the plan is empty.
 */
int cw_plan_build(struct cw_plan *plan, const struct cw_inventory *inv,
		  const struct cw_plan_opts *opts, char *err, size_t errlen);
void cw_plan_release(struct cw_plan *plan);

/*
 * One ListMetrics page of `listing` named these buckets (borrowed; see
 * cw_lm_parse).  Marks the listing's targets found; on a discovery listing
 * appends a target for each new name.  Call once per page.
 */
int cw_plan_listing_found(struct cw_plan *plan, size_t listing,
			  const char *const *names, size_t n);
/* The listing's last page was seen. */
void cw_plan_listing_done(struct cw_plan *plan, size_t listing);
/* The listing could not be made (AssumeRole failed, AccessDenied, ...). */
void cw_plan_listing_failed(struct cw_plan *plan, size_t listing);

/*
 * Decide every target's state once the listings are over (a listing still
 * pending counts as failed):
 *   bucket with a known region: FETCH if found, UNMEASURED if its listing
 *     is done without it, UNCHECKED if its listing failed;
 *   candidates: FETCH where found, SKIP elsewhere; found nowhere: one of
 *     the group becomes UNCHECKED (if some listing of the group failed) or
 *     UNMEASURED (otherwise) and the rest SKIP;
 *   discovered targets and targets without a listing: FETCH.
 * May be called again after more listings finish.  0 or CW_ENOMEM.
 */
int cw_plan_resolve(struct cw_plan *plan);

/*
 * The same for the targets of pairs [first, first + n) only: an account's
 * pairs (candidate groups never leave their account).  Costs the number
 * of those targets, so an account can be resolved when its listings are
 * back without touching the rest of the plan.  0 or CW_ENOMEM.
 */
int cw_plan_resolve_pairs(struct cw_plan *plan, size_t first, size_t n);

/* Distinct groups among the targets of pairs [first, first + n) (a
 * candidate group counts once); 0 when out of memory. */
size_t cw_plan_pairs_groups(struct cw_plan *plan, size_t first, size_t n);

/*
 * The indices of pair's targets in `state` (ascending), for the batcher
 * (new array in *out, free() it; NULL when n is 0).
 */
int cw_plan_pair_targets(const struct cw_plan *plan, size_t pair,
			 enum cw_target_state state, size_t **out, size_t *n);

/* Bucket-rate-limiter key of a pair: "ACCOUNT/REGION". */
int cw_plan_pair_key(const struct cw_plan *plan, size_t pair, char *buf, size_t len);

#endif
