/*
 * plan.c - expand the inventory into targets, account-region pairs and
 * ListMetrics listings; fold the listings' answers back in; count the
 * calls a sweep will make.
 *
 * No locking: a plan is built and changed on one thread (see plan.h).
 */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "err.h"
#include "strutil.h"
#include "timeutil.h"

#define DAY 86400
#define MAX_LOOKBACK_DAYS 3650
#define MAX_DISCOVERED_NAME 255

/* ---- growing arrays ------------------------------------------------------ */

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *nv;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	if (ncap > SIZE_MAX / size)
		return CW_ENOMEM;
	nv = realloc(*v, ncap * size);
	if (!nv)
		return CW_ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

static int listing_add_target(struct cw_plan_listing *l, size_t t)
{
	if (grow((void **)&l->targets, &l->cap, l->ntargets + 1, sizeof(*l->targets)))
		return CW_ENOMEM;
	l->targets[l->ntargets++] = t;
	return 0;
}

static int pair_add_target(struct cw_plan_pair *p, size_t t)
{
	if (grow((void **)&p->targets, &p->cap, p->ntargets + 1, sizeof(*p->targets)))
		return CW_ENOMEM;
	p->targets[p->ntargets++] = t;
	return 0;
}

/* Append a target; its listing (if any) learns about it.  Index in *idx. */
static int add_target(struct cw_plan *plan, size_t pair, size_t listing,
		      const struct cw_metric_def *m, const struct cw_bucket_def *def,
		      const char *bucket, size_t group, bool candidate, bool discovered)
{
	struct cw_plan_target *t;
	char *b;

	if (grow((void **)&plan->targets, &plan->cap_targets, plan->ntargets + 1,
		 sizeof(*plan->targets)))
		return CW_ENOMEM;
	/* a listed bucket's name is its definition's (a million targets need
	 * no second copy of it); a discovered one is the target's own */
	b = def && bucket == def->name ? def->name : cw_strdup(bucket);
	if (!b)
		return CW_ENOMEM;
	if (pair_add_target(&plan->pairs[pair], plan->ntargets)) {
		if (b != bucket)
			free(b);
		return CW_ENOMEM;
	}
	if (listing != SIZE_MAX &&
	    listing_add_target(&plan->listings[listing], plan->ntargets)) {
		plan->pairs[pair].ntargets--;
		if (b != bucket)
			free(b);
		return CW_ENOMEM;
	}
	t = &plan->targets[plan->ntargets++];
	memset(t, 0, sizeof(*t));
	t->account = plan->pairs[pair].account;
	t->region = plan->pairs[pair].region;
	t->metric = m;
	t->def = def;
	t->bucket = b;
	t->pair = pair;
	t->listing = listing;
	t->group = group;
	t->candidate = candidate;
	t->discovered = discovered;
	t->state = CW_TGT_PENDING;
	return 0;
}

/* ---- pairs and listings of the account being expanded ------------------- */

/* The pair (account, region), searched among the account's pairs (from
 * index `first` on) and added when missing.  SIZE_MAX on ENOMEM. */
static size_t pair_for(struct cw_plan *plan, size_t *cap, size_t first,
		       const struct cw_account_def *a, const char *region)
{
	for (size_t i = first; i < plan->npairs; i++)
		if (strcmp(plan->pairs[i].region, region) == 0)
			return i;
	if (grow((void **)&plan->pairs, cap, plan->npairs + 1, sizeof(*plan->pairs)))
		return SIZE_MAX;
	memset(&plan->pairs[plan->npairs], 0, sizeof(plan->pairs[0]));
	plan->pairs[plan->npairs].account = a;
	plan->pairs[plan->npairs].region = region;
	return plan->npairs++;
}

/* The listing of (pair, metric), added when missing.  SIZE_MAX on ENOMEM. */
static size_t listing_for(struct cw_plan *plan, size_t *cap, size_t first, size_t pair,
			  const struct cw_metric_def *m)
{
	struct cw_plan_listing *l;

	for (size_t i = first; i < plan->nlistings; i++)
		if (plan->listings[i].pair == pair && plan->listings[i].metric == m)
			return i;
	if (grow((void **)&plan->listings, cap, plan->nlistings + 1,
		 sizeof(*plan->listings)))
		return SIZE_MAX;
	l = &plan->listings[plan->nlistings];
	memset(l, 0, sizeof(*l));
	l->pair = pair;
	l->metric = m;
	l->state = CW_LIST_PENDING;
	return plan->nlistings++;
}

struct build_caps { size_t pairs, listings; };

static bool region_in(const struct cw_plan_opts *opts, const char *region)
{
	return !opts || !opts->include_region || opts->include_region(opts->region_ctx, region);
}

static int expand_account_in(struct cw_plan *plan, struct build_caps *caps,
			     const struct cw_inventory *inv, const struct cw_account_def *a,
			     const struct cw_plan_opts *opts, char *const *regions,
			     size_t nregions);

static int expand_account(struct cw_plan *plan, struct build_caps *caps,
			  const struct cw_inventory *inv, const struct cw_account_def *a,
			  const struct cw_plan_opts *opts)
{
	char *const *all = a->nregions ? a->regions : inv->regions;
	size_t nall = a->nregions ? a->nregions : inv->nregions, n = 0;
	char **kept = malloc((nall ? nall : 1) * sizeof(*kept));
	int rc;

	if (!kept)
		return CW_ENOMEM;
	for (size_t r = 0; r < nall; r++)
		if (region_in(opts, all[r]))
			kept[n++] = all[r];
	rc = expand_account_in(plan, caps, inv, a, opts, kept, n);
	free(kept);
	return rc;
}

static int expand_account_in(struct cw_plan *plan, struct build_caps *caps,
			     const struct cw_inventory *inv, const struct cw_account_def *a,
			     const struct cw_plan_opts *opts, char *const *regions,
			     size_t nregions)
{
	size_t first_pair = plan->npairs, first_listing = plan->nlistings;
	size_t p, l;
	int rc;

	for (size_t r = 0; r < nregions; r++)
		if (pair_for(plan, &caps->pairs, first_pair, a, regions[r]) == SIZE_MAX)
			return CW_ENOMEM;

	for (size_t mi = 0; mi < inv->nmetrics; mi++) {
		const struct cw_metric_def *m = &inv->metrics[mi];

		if (!m->per_bucket) {
			for (size_t r = 0; r < nregions; r++) {
				p = pair_for(plan, &caps->pairs, first_pair, a, regions[r]);
				if (p == SIZE_MAX)
					return CW_ENOMEM;
				rc = add_target(plan, p, SIZE_MAX, m, NULL, "", plan->ngroups++,
						false, false);
				if (rc)
					return rc;
			}
			continue;
		}
		if (a->buckets_auto) {
			for (size_t r = 0; r < nregions; r++) {
				p = pair_for(plan, &caps->pairs, first_pair, a, regions[r]);
				if (p == SIZE_MAX)
					return CW_ENOMEM;
				l = listing_for(plan, &caps->listings, first_listing, p, m);
				if (l == SIZE_MAX)
					return CW_ENOMEM;
				plan->listings[l].discover = true;
			}
		}
		for (size_t bi = 0; bi < a->nbuckets; bi++) {
			const struct cw_bucket_def *b = &a->buckets[bi];
			bool candidate = !b->region && nregions > 1;
			size_t group;

			if ((b->region && !region_in(opts, b->region)) || (!b->region && !nregions))
				continue;
			group = plan->ngroups++;

			for (size_t r = 0; r < (b->region ? 1 : nregions); r++) {
				const char *region = b->region ? b->region : regions[r];

				p = pair_for(plan, &caps->pairs, first_pair, a, region);
				if (p == SIZE_MAX)
					return CW_ENOMEM;
				l = listing_for(plan, &caps->listings, first_listing, p, m);
				if (l == SIZE_MAX)
					return CW_ENOMEM;
				rc = add_target(plan, p, l, m, b, b->name, group, candidate, false);
				if (rc)
					return rc;
			}
		}
	}
	return 0;
}

/* ---- counting ------------------------------------------------------------ */

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static size_t distinct_regions(const struct cw_plan *plan)
{
	const char **v;
	size_t n = 0;

	if (plan->npairs == 0)
		return 0;
	v = malloc(plan->npairs * sizeof(*v));
	if (!v)
		return 0;
	for (size_t i = 0; i < plan->npairs; i++)
		v[i] = plan->pairs[i].region;
	qsort(v, plan->npairs, sizeof(*v), cmp_cstr);
	for (size_t i = 0; i < plan->npairs; i++)
		if (i == 0 || strcmp(v[i - 1], v[i]) != 0)
			n++;
	free(v);
	return n;
}

/*
 * GetMetricData floor for one account: explicit targets per pair (e[r]),
 * plus C candidate buckets that will land in one of the account's regions.
 * With k queries per call: sum ceil(e[r]/k) calls are unavoidable, the
 * candidates first fill those calls' spare room, so the minimum is
 * max(sum ceil(e[r]/k), ceil((sum e[r] + C)/k)).
 */
static size_t account_calls(const size_t *e, size_t np, size_t c, size_t k)
{
	size_t a = 0, sum = 0, all;

	for (size_t i = 0; i < np; i++) {
		a += (e[i] + k - 1) / k;
		sum += e[i];
	}
	all = (sum + c + k - 1) / k;
	return a > all ? a : all;
}

static int count(struct cw_plan *plan, size_t naccounts, size_t sts)
{
	struct cw_plan_counts *c = &plan->counts;
	size_t *e = NULL, *cand_groups = NULL;
	bool *group_seen = NULL;

	memset(c, 0, sizeof(*c));
	c->accounts = naccounts;
	c->regions = distinct_regions(plan);
	c->pairs = plan->npairs;
	c->sts_calls = sts;
	c->list_metrics_calls = plan->nlistings;
	for (size_t i = 0; i < plan->nlistings; i++)
		if (plan->listings[i].discover)
			c->discovery++;
	c->windows = cw_batch_nwindows(plan->start, plan->end, plan->period);
	if (c->windows > 0) {
		int64_t ws, we;

		cw_batch_window(plan->start, plan->end, plan->period, 0, &ws, &we);
		c->per_call = cw_batch_per_call(ws, we, plan->period);
	}

	e = calloc(plan->npairs + 1, sizeof(*e));
	cand_groups = calloc(plan->npairs + 1, sizeof(*cand_groups));
	group_seen = calloc(plan->ngroups + 1, sizeof(*group_seen));
	if (!e || !cand_groups || !group_seen) {
		free(e);
		free(cand_groups);
		free(group_seen);
		return CW_ENOMEM;
	}
	/* explicit targets per pair; candidate groups per account (kept at
	 * the index of the account's first pair) */
	for (size_t i = 0; i < plan->ntargets; i++) {
		const struct cw_plan_target *t = &plan->targets[i];

		if (!t->candidate) {
			e[t->pair]++;
			c->targets++;
		} else if (!group_seen[t->group]) {
			size_t first = t->pair;

			group_seen[t->group] = true;
			while (first > 0 && plan->pairs[first - 1].account == t->account)
				first--;
			cand_groups[first]++;
			c->targets++;
			c->candidates++;
		}
	}
	for (size_t w = 0; w < c->windows; w++) {
		int64_t ws, we;
		size_t k;

		cw_batch_window(plan->start, plan->end, plan->period, w, &ws, &we);
		k = cw_batch_per_call(ws, we, plan->period);
		for (size_t p = 0; p < plan->npairs && k > 0;) {
			size_t q = p;

			while (q < plan->npairs && plan->pairs[q].account == plan->pairs[p].account)
				q++;
			c->gmd_calls += account_calls(e + p, q - p, cand_groups[p], k);
			p = q;
		}
	}
	c->metrics_requested = c->targets * c->windows;
	c->cost_usd = (double)c->metrics_requested * CW_GMD_USD_PER_METRIC;
	{
		bool *pair_listed = calloc(plan->npairs + 1, sizeof(*pair_listed));

		if (!pair_listed) {
			free(e);
			free(cand_groups);
			free(group_seen);
			return CW_ENOMEM;
		}
		for (size_t i = 0; i < plan->nlistings; i++)
			pair_listed[plan->listings[i].pair] = true;
		for (size_t p = 0; p < plan->npairs; p++)
			c->storage_list_calls += pair_listed[p];
		free(pair_listed);
		/* each known bucket once (a candidate group once), whatever its metrics */
		memset(group_seen, 0, (plan->ngroups + 1) * sizeof(*group_seen));
		for (size_t i = 0; i < plan->ntargets; i++) {
			const struct cw_plan_target *t = &plan->targets[i];

			if (t->metric->per_bucket && t->listing != SIZE_MAX &&
			    !group_seen[t->group]) {
				group_seen[t->group] = true;
				c->storage_metrics++;
			}
		}
		c->storage_cost_usd = (double)c->storage_metrics * CW_GMD_USD_PER_METRIC;
	}
	free(e);
	free(cand_groups);
	free(group_seen);
	return 0;
}

/* ---- notes --------------------------------------------------------------- */

static int add_note(struct cw_plan *plan, char *note)
{
	char **v;

	if (!note)
		return CW_ENOMEM;
	v = realloc(plan->notes, (plan->nnotes + 1) * sizeof(*v));
	if (!v) {
		free(note);
		return CW_ENOMEM;
	}
	plan->notes = v;
	plan->notes[plan->nnotes++] = note;
	return 0;
}

/* CloudWatch keeps finer periods for a limited time only; older slots of
 * such a period come back empty. */
static int retention_note(struct cw_plan *plan, int lookback_days)
{
	int64_t keep;
	const char *what;

	if (plan->period < 60) {
		keep = 3 * 3600;
		what = "high-resolution (under 60 s) data for 3 hours";
	} else if (plan->period % 60 == 0 && plan->period < 300) {
		keep = 15 * (int64_t)DAY;
		what = "60-second data for 15 days";
	} else if (plan->period % 300 == 0 && plan->period < 3600) {
		keep = 63 * (int64_t)DAY;
		what = "5-minute data for 63 days";
	} else {
		keep = 455 * (int64_t)DAY;
		what = "1-hour data for 455 days";
	}
	if ((int64_t)lookback_days * DAY <= keep)
		return 0;
	return add_note(plan, cw_asprintf("period %llds: CloudWatch keeps %s; the older "
					  "part of the %d-day lookback will be gaps",
					  (long long)plan->period, what, lookback_days));
}

/* ---- public -------------------------------------------------------------- */

void cw_plan_release(struct cw_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->ntargets; i++)
		if (!plan->targets[i].def || plan->targets[i].bucket != plan->targets[i].def->name)
			free(plan->targets[i].bucket);
	free(plan->targets);
	for (size_t i = 0; i < plan->nlistings; i++)
		free(plan->listings[i].targets);
	free(plan->listings);
	for (size_t i = 0; i < plan->npairs; i++)
		free(plan->pairs[i].targets);
	free(plan->pairs);
	free(plan->gscratch);
	for (size_t i = 0; i < plan->nnotes; i++)
		free(plan->notes[i]);
	free(plan->notes);
	memset(plan, 0, sizeof(*plan));
}

int cw_plan_build(struct cw_plan *plan, const struct cw_inventory *inv,
		  const struct cw_plan_opts *opts, char *err, size_t errlen)
{
	struct build_caps caps = { 0, 0 };
	size_t naccounts = 0, sts = 0;
	int64_t now;
	int rc = 0;

	memset(plan, 0, sizeof(*plan));
	if (inv->period <= 0 || inv->period > 7 * (int64_t)DAY)
		return cw_fail(err, errlen, CW_EINVAL, "period: %lld seconds: out of range",
			       (long long)inv->period);
	if (inv->lookback_days < 1 || inv->lookback_days > MAX_LOOKBACK_DAYS)
		return cw_fail(err, errlen, CW_EINVAL, "lookback_days: %d: must be 1..%d",
			       inv->lookback_days, MAX_LOOKBACK_DAYS);
	now = opts && opts->now ? opts->now : cw_time_now();
	plan->period = inv->period;
	plan->end = cw_time_floor(now, inv->period);
	plan->start = cw_time_floor(plan->end - (int64_t)inv->lookback_days * DAY,
				    inv->period);

	for (size_t i = 0; i < inv->naccounts; i++) {
		const struct cw_account_def *a = &inv->accounts[i];

		if (opts && opts->include && !opts->include(opts->include_ctx, a))
			continue;
		naccounts++;
		sts += a->nroles;
		rc = expand_account(plan, &caps, inv, a, opts);
		if (rc)
			goto fail;
	}
	rc = count(plan, naccounts, sts);
	if (rc == 0)
		rc = retention_note(plan, inv->lookback_days);
	if (rc == 0)
		return 0;
fail:
	cw_plan_release(plan);
	return cw_fail(err, errlen, rc, "plan: %s", cw_strerror(rc));
}

/* A name a discovery listing may add: non-empty, bounded, printable. */
static bool discoverable(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f || n >= MAX_DISCOVERED_NAME)
			return false;
	return n > 0;
}

struct named { const char *name; size_t idx; };

static int cmp_named(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

int cw_plan_listing_found(struct cw_plan *plan, size_t listing,
			  const char *const *names, size_t n)
{
	struct cw_plan_listing *l;
	struct named *have = NULL, *want = NULL;
	size_t nhave;
	int rc = 0;

	if (listing >= plan->nlistings)
		return CW_EINVAL;
	if (n == 0)
		return 0;
	l = &plan->listings[listing];
	nhave = l->ntargets;
	have = malloc((nhave + 1) * sizeof(*have));
	want = malloc(n * sizeof(*want));
	if (!have || !want) {
		rc = CW_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nhave; i++) {
		have[i].name = plan->targets[l->targets[i]].bucket;
		have[i].idx = l->targets[i];
	}
	qsort(have, nhave, sizeof(*have), cmp_named);
	for (size_t i = 0; i < n; i++) {
		want[i].name = names[i];
		want[i].idx = i;
	}
	qsort(want, n, sizeof(*want), cmp_named);

	for (size_t i = 0; i < n; i++) {
		struct named *hit;

		if (!want[i].name || (i > 0 && strcmp(want[i - 1].name, want[i].name) == 0))
			continue;
		hit = nhave ? bsearch(&want[i], have, nhave, sizeof(*have), cmp_named) : NULL;
		if (hit) {
			/* a bucket may be listed once per metric only: one target */
			plan->targets[hit->idx].found = true;
			continue;
		}
		if (!l->discover || !discoverable(want[i].name))
			continue;
		rc = add_target(plan, l->pair, listing, l->metric, NULL, want[i].name,
				plan->ngroups++, false, true);
		if (rc)
			goto out;
		plan->targets[plan->ntargets - 1].found = true;
	}
out:
	free(have);
	free(want);
	return rc;
}

void cw_plan_listing_done(struct cw_plan *plan, size_t listing)
{
	if (listing < plan->nlistings)
		plan->listings[listing].state = CW_LIST_DONE;
}

void cw_plan_listing_failed(struct cw_plan *plan, size_t listing)
{
	if (listing < plan->nlistings)
		plan->listings[listing].state = CW_LIST_FAILED;
}

/* What cw_plan_resolve learns of one candidate group. */
struct cw_plan_group {
	bool used;           /* touched by the call under way */
	bool found;          /* some listing named it */
	size_t first;        /* lowest target of the group, SIZE_MAX */
	size_t first_failed; /* lowest target whose listing failed, SIZE_MAX */
};

/* The scratch entries up to ngroups, new ones unset; NULL on ENOMEM. */
static struct cw_plan_group *groups_scratch(struct cw_plan *plan)
{
	size_t had = plan->cap_gscratch;

	if (grow((void **)&plan->gscratch, &plan->cap_gscratch, plan->ngroups + 1,
		 sizeof(*plan->gscratch)))
		return NULL;
	memset(plan->gscratch + had, 0, (plan->cap_gscratch - had) * sizeof(*plan->gscratch));
	return plan->gscratch;
}

/* Every target of pairs [first, first + n), as t = plan->targets[i]. */
#define FOR_PAIR_TARGETS(plan, first, n, i)                                        \
	for (size_t p_ = (first); p_ < (first) + (n); p_++)                       \
		for (size_t k_ = 0, i = 0; k_ < (plan)->pairs[p_].ntargets &&     \
		     ((i = (plan)->pairs[p_].targets[k_]), 1); k_++)

/* Whether pairs [first, first + n) hold a candidate (only candidates need
 * the group scratch: every other target is a group of its own). */
static bool has_candidates(const struct cw_plan *plan, size_t first, size_t n)
{
	FOR_PAIR_TARGETS(plan, first, n, i)
		if (plan->targets[i].candidate)
			return true;
	return false;
}

int cw_plan_resolve_pairs(struct cw_plan *plan, size_t first, size_t n)
{
	struct cw_plan_group *g = NULL;

	if (first > plan->npairs || n > plan->npairs - first)
		return CW_EINVAL;
	if (has_candidates(plan, first, n) && !(g = groups_scratch(plan)))
		return CW_ENOMEM;
	FOR_PAIR_TARGETS(plan, first, n, i) {
		struct cw_plan_target *t = &plan->targets[i];
		struct cw_plan_group *gi;
		bool failed = t->listing != SIZE_MAX &&
			      plan->listings[t->listing].state != CW_LIST_DONE;

		if (t->discovered || t->listing == SIZE_MAX || t->found)
			t->state = CW_TGT_FETCH;
		else if (!t->candidate)
			t->state = failed ? CW_TGT_UNCHECKED : CW_TGT_UNMEASURED;
		else
			t->state = CW_TGT_PENDING; /* decided below, by group */
		if (!t->candidate)
			continue;
		gi = &g[t->group];
		if (!gi->used) {
			gi->used = true;
			gi->first = SIZE_MAX;
			gi->first_failed = SIZE_MAX;
		}
		if (i < gi->first)
			gi->first = i;
		if (t->found)
			gi->found = true;
		if (failed && i < gi->first_failed)
			gi->first_failed = i;
	}
	FOR_PAIR_TARGETS(plan, first, n, i) {
		struct cw_plan_target *t = &plan->targets[i];
		const struct cw_plan_group *gi;

		if (!t->candidate || t->state == CW_TGT_FETCH)
			continue;
		gi = &g[t->group];
		if (gi->found)
			t->state = CW_TGT_SKIP;
		else if (gi->first_failed != SIZE_MAX)
			t->state = i == gi->first_failed ? CW_TGT_UNCHECKED : CW_TGT_SKIP;
		else
			t->state = i == gi->first ? CW_TGT_UNMEASURED : CW_TGT_SKIP;
	}
	/* leave the scratch unset for the next call */
	FOR_PAIR_TARGETS(plan, first, n, i)
		if (plan->targets[i].candidate)
			memset(&g[plan->targets[i].group], 0, sizeof(*g));
	return 0;
}

int cw_plan_resolve(struct cw_plan *plan)
{
	return cw_plan_resolve_pairs(plan, 0, plan->npairs);
}

size_t cw_plan_pairs_groups(struct cw_plan *plan, size_t first, size_t n)
{
	struct cw_plan_group *g;
	size_t count = 0;

	if (first > plan->npairs || n > plan->npairs - first)
		return 0;
	if (!has_candidates(plan, first, n)) {
		for (size_t p = first; p < first + n; p++)
			count += plan->pairs[p].ntargets; /* each its own group */
		return count;
	}
	g = groups_scratch(plan);
	if (!g)
		return 0;
	FOR_PAIR_TARGETS(plan, first, n, i) {
		struct cw_plan_group *gi = &g[plan->targets[i].group];

		count += !gi->used;
		gi->used = true;
	}
	FOR_PAIR_TARGETS(plan, first, n, i)
		g[plan->targets[i].group].used = false;
	return count;
}

int cw_plan_pair_targets(const struct cw_plan *plan, size_t pair,
			 enum cw_target_state state, size_t **out, size_t *n)
{
	const struct cw_plan_pair *pr;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (pair >= plan->npairs)
		return 0;
	pr = &plan->pairs[pair];
	for (size_t i = 0; i < pr->ntargets; i++)
		k += plan->targets[pr->targets[i]].state == state;
	if (k == 0)
		return 0;
	*out = malloc(k * sizeof(**out));
	if (!*out)
		return CW_ENOMEM;
	for (size_t i = 0; i < pr->ntargets; i++)
		if (plan->targets[pr->targets[i]].state == state)
			(*out)[(*n)++] = pr->targets[i];
	return 0;
}

int cw_plan_pair_key(const struct cw_plan *plan, size_t pair, char *buf, size_t len)
{
	int w;

	if (pair >= plan->npairs)
		return CW_EINVAL;
	w = snprintf(buf, len, "%s/%s", plan->pairs[pair].account->id,
		     plan->pairs[pair].region);
	return w < 0 || (size_t)w >= len ? CW_ETOOBIG : 0;
}
