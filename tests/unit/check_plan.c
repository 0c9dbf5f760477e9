/*
 * check_plan.c - inventory -> plan: targets, candidates, discovery
 * listings, the time window, the dry-run numbers, and folding listing
 * answers back in.  Inventories are built by hand (exact control over
 * every field), plus one parsed from YAML text with cw_inventory_parse.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "err.h"
#include "inventory.h"
#include "plan.h"
#include "testlib.h"

#define DAY 86400
#define T0 1700006400 /* 2023-11-15T00:00:00Z */

static struct cw_dim_tmpl s3_dims[2] = { { "BucketName", "{bucket}" },
					 { "FilterId", "EntireBucket" } };
static struct cw_metric_def s3_metric = {
	.namespace_ = "AWS/S3", .name = "BytesDownloaded", .stat = "Sum",
	.unit = "Bytes", .dims = s3_dims, .ndims = 2, .per_bucket = true,
	.label = "AWS/S3 BytesDownloaded Sum",
};
static struct cw_metric_def billing_metric = {
	.namespace_ = "AWS/Billing", .name = "EstimatedCharges", .stat = "Maximum",
	.dims = NULL, .ndims = 0, .per_bucket = false,
};

static char *use1 = "us-east-1", *euw1 = "eu-west-1", *usw2 = "us-west-2",
	    *aps1 = "ap-south-1";
static char *role1 = "arn:aws:iam::999999999999:role/hub";
static char *role2 = "arn:aws:iam::111111111111:role/reader";

/*
 * A: 2 roles, [us-east-1, eu-west-1], logs@us-east-1, assets, media
 * B: 1 role, [us-east-1], auto + known
 * C: excluded by the include callback
 * D: ambient credentials, default regions ([us-east-1]), d1@ap-south-1, d2
 */
struct fixture {
	struct cw_inventory inv;
	struct cw_account_def acc[4];
	struct cw_bucket_def ba[3], bb[1], bc[1], bd[2];
	char *regions_a[2], *regions_b[1], *regions_c[1], *roles_a[2], *roles_b[1];
	char *defregions[1];
	struct cw_metric_def metrics[2];
};

static void fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->defregions[0] = use1;
	f->inv.regions = f->defregions;
	f->inv.nregions = 1;
	f->inv.lookback_days = 35;
	f->inv.period = DAY;
	f->metrics[0] = s3_metric;
	f->metrics[1] = billing_metric;
	f->inv.metrics = f->metrics;
	f->inv.nmetrics = 1;

	f->regions_a[0] = use1;
	f->regions_a[1] = euw1;
	f->roles_a[0] = role1;
	f->roles_a[1] = role2;
	f->ba[0].name = "logs";
	f->ba[0].region = use1;
	f->ba[1].name = "assets";
	f->ba[2].name = "media";
	memcpy(f->acc[0].id, "111111111111", 13);
	f->acc[0].roles = f->roles_a;
	f->acc[0].nroles = 2;
	f->acc[0].regions = f->regions_a;
	f->acc[0].nregions = 2;
	f->acc[0].buckets = f->ba;
	f->acc[0].nbuckets = 3;

	f->regions_b[0] = use1;
	f->roles_b[0] = "arn:aws:iam::222222222222:role/reader";
	f->bb[0].name = "known";
	memcpy(f->acc[1].id, "222222222222", 13);
	f->acc[1].roles = f->roles_b;
	f->acc[1].nroles = 1;
	f->acc[1].regions = f->regions_b;
	f->acc[1].nregions = 1;
	f->acc[1].buckets_auto = true;
	f->acc[1].buckets = f->bb;
	f->acc[1].nbuckets = 1;

	f->regions_c[0] = usw2;
	f->bc[0].name = "x";
	memcpy(f->acc[2].id, "333333333333", 13);
	f->acc[2].roles = f->roles_b;
	f->acc[2].nroles = 1;
	f->acc[2].regions = f->regions_c;
	f->acc[2].nregions = 1;
	f->acc[2].buckets = f->bc;
	f->acc[2].nbuckets = 1;

	f->bd[0].name = "d1";
	f->bd[0].region = aps1;
	f->bd[1].name = "d2";
	memcpy(f->acc[3].id, "444444444444", 13);
	f->acc[3].buckets = f->bd;
	f->acc[3].nbuckets = 2;

	f->inv.accounts = f->acc;
	f->inv.naccounts = 4;
}

static bool not_c(void *ctx, const struct cw_account_def *a)
{
	(void)ctx;
	return strcmp(a->id, "333333333333") != 0;
}

static void build(struct cw_plan *plan, const struct cw_inventory *inv, int64_t now)
{
	struct cw_plan_opts o = { .now = now, .include = not_c };
	char err[CW_ERRBUF] = "";

	ck_assert_msg(cw_plan_build(plan, inv, &o, err, sizeof(err)) == 0, "%s", err);
}

static void target_is(const struct cw_plan *p, size_t i, const char *acct, const char *region,
		      const char *bucket, bool candidate, size_t pair, size_t listing)
{
	const struct cw_plan_target *t = &p->targets[i];

	ck_assert_msg(i < p->ntargets, "target %zu missing", i);
	ck_assert_str_eq(t->account->id, acct);
	ck_assert_str_eq(t->region, region);
	ck_assert_str_eq(t->bucket, bucket);
	ck_assert_msg(t->candidate == candidate, "target %zu candidate", i);
	ck_assert_uint_eq(t->pair, pair);
	ck_assert_uint_eq(t->listing, listing);
}

START_TEST(targets_and_listings)
{
	struct fixture f;
	struct cw_plan p;

	fixture_init(&f);
	build(&p, &f.inv, T0 + 12345);
	/* pairs: A/use1, A/euw1, B/use1, D/use1 (default regions), D/aps1 */
	ck_assert_uint_eq(p.npairs, 5);
	ck_assert_str_eq(p.pairs[1].region, "eu-west-1");
	ck_assert_str_eq(p.pairs[3].account->id, "444444444444");
	ck_assert_str_eq(p.pairs[3].region, "us-east-1");
	ck_assert_str_eq(p.pairs[4].region, "ap-south-1");
	ck_assert_uint_eq(p.ntargets, 8);
	target_is(&p, 0, "111111111111", "us-east-1", "logs", false, 0, 0);
	target_is(&p, 1, "111111111111", "us-east-1", "assets", true, 0, 0);
	target_is(&p, 2, "111111111111", "eu-west-1", "assets", true, 1, 1);
	target_is(&p, 3, "111111111111", "us-east-1", "media", true, 0, 0);
	target_is(&p, 4, "111111111111", "eu-west-1", "media", true, 1, 1);
	target_is(&p, 5, "222222222222", "us-east-1", "known", false, 2, 2);
	target_is(&p, 6, "444444444444", "ap-south-1", "d1", false, 4, 3);
	target_is(&p, 7, "444444444444", "us-east-1", "d2", false, 3, 4);
	ck_assert_uint_eq(p.targets[1].group, p.targets[2].group);
	ck_assert_uint_eq(p.targets[3].group, p.targets[4].group);
	ck_assert_uint_ne(p.targets[1].group, p.targets[3].group);
	ck_assert_ptr_eq(p.targets[0].def, &f.ba[0]);
	/* a listed bucket's name is its definition's, not a copy; the
	 * candidates of one bucket all point at it */
	ck_assert_ptr_eq(p.targets[0].bucket, f.ba[0].name);
	ck_assert_ptr_eq(p.targets[1].bucket, p.targets[2].bucket);
	for (size_t i = 0; i < p.ntargets; i++)
		ck_assert_int_eq(p.targets[i].state, CW_TGT_PENDING);
	/* one listing per account-region-metric; B's discovers */
	ck_assert_uint_eq(p.nlistings, 5);
	ck_assert_uint_eq(p.listings[0].ntargets, 3);
	ck_assert_uint_eq(p.listings[1].ntargets, 2);
	ck_assert(p.listings[2].discover);
	ck_assert(!p.listings[0].discover);
	ck_assert_uint_eq(p.listings[2].pair, 2);
	ck_assert_ptr_eq(p.listings[2].metric, &f.metrics[0]);

	char key[64];
	ck_assert_int_eq(cw_plan_pair_key(&p, 1, key, sizeof(key)), 0);
	ck_assert_str_eq(key, "111111111111/eu-west-1");
	ck_assert_int_eq(cw_plan_pair_key(&p, 5, key, sizeof(key)), CW_EINVAL);
	ck_assert_int_eq(cw_plan_pair_key(&p, 0, key, 10), CW_ETOOBIG);
	cw_plan_release(&p);
	ck_assert_uint_eq(p.ntargets, 0);
}
END_TEST

START_TEST(window_is_utc_aligned)
{
	struct fixture f;
	struct cw_plan p;

	fixture_init(&f);
	/* 03:25:45 on T0: today's partial day is excluded */
	build(&p, &f.inv, T0 + 12345);
	ck_assert_int_eq(p.end, T0);
	ck_assert_int_eq(p.start, T0 - 35 * DAY);
	ck_assert_int_eq(p.period, DAY);
	ck_assert_uint_eq(p.nnotes, 0);
	cw_plan_release(&p);

	/* exactly midnight: the day that just ended is complete */
	build(&p, &f.inv, T0);
	ck_assert_int_eq(p.end, T0);
	cw_plan_release(&p);

	/* hourly: end at the last full hour, start 35 days of hours before */
	f.inv.period = 3600;
	build(&p, &f.inv, T0 + 12345);
	ck_assert_int_eq(p.end, T0 + 3 * 3600);
	ck_assert_int_eq(p.start, T0 + 3 * 3600 - 35 * DAY);
	ck_assert_uint_eq(p.counts.per_call, 120);
	cw_plan_release(&p);

	/* 1 minute over 35 days: beyond the 15-day retention -> a note */
	f.inv.period = 60;
	build(&p, &f.inv, T0 + 12345);
	ck_assert_int_eq(p.end, T0 + 12300);
	ck_assert_uint_eq(p.nnotes, 1);
	ck_assert_str_eq(p.notes[0], "period 60s: CloudWatch keeps 60-second data for 15 days; "
				     "the older part of the 35-day lookback will be gaps");
	cw_plan_release(&p);
}
END_TEST

START_TEST(dry_run_numbers)
{
	struct fixture f;
	struct cw_plan p;

	fixture_init(&f);
	build(&p, &f.inv, T0 + 12345);
	ck_assert_uint_eq(p.counts.accounts, 3);     /* C left out */
	ck_assert_uint_eq(p.counts.regions, 3);      /* us-east-1, eu-west-1, ap-south-1 */
	ck_assert_uint_eq(p.counts.pairs, 5);
	ck_assert_uint_eq(p.counts.targets, 6);      /* logs, assets, media, known, d1, d2 */
	ck_assert_uint_eq(p.counts.candidates, 2);
	ck_assert_uint_eq(p.counts.discovery, 1);
	ck_assert_uint_eq(p.counts.sts_calls, 3);    /* 2 (chain) + 1 + 0 */
	ck_assert_uint_eq(p.counts.list_metrics_calls, 5);
	/* A: 1 call (logs + the 2 candidates fit in it), B: 1, D: 2 regions */
	ck_assert_uint_eq(p.counts.gmd_calls, 4);
	ck_assert_uint_eq(p.counts.windows, 1);
	ck_assert_uint_eq(p.counts.per_call, 500);
	ck_assert_uint_eq(p.counts.metrics_requested, 6);
	ck_assert_double_eq_tol(p.counts.cost_usd, 0.00006, 1e-12);
	cw_plan_release(&p);
}
END_TEST

/* An account with n explicit buckets in region 0 and c candidates. */
static void big_account(struct fixture *f, struct cw_bucket_def *b, size_t n, size_t c,
			char (*names)[16])
{
	for (size_t i = 0; i < n + c; i++) {
		snprintf(names[i], 16, "b%05u", (unsigned)(i % 100000));
		b[i].name = names[i];
		b[i].region = i < n ? use1 : NULL;
	}
	f->acc[0].buckets = b;
	f->acc[0].nbuckets = n + c;
	f->inv.naccounts = 1;
}

START_TEST(gmd_floor_with_candidates)
{
	static struct cw_bucket_def b[1300];
	static char names[1300][16];
	struct fixture f;
	struct cw_plan p;

	fixture_init(&f);
	/* 499 explicit + 1 candidate: the candidate fills the one call */
	big_account(&f, b, 499, 1, names);
	build(&p, &f.inv, T0 + 1);
	ck_assert_uint_eq(p.counts.targets, 500);
	ck_assert_uint_eq(p.counts.gmd_calls, 1);
	ck_assert_uint_eq(p.counts.list_metrics_calls, 2);
	cw_plan_release(&p);
	/* 499 + 3: 502 targets somewhere -> 2 calls */
	big_account(&f, b, 499, 3, names);
	build(&p, &f.inv, T0 + 1);
	ck_assert_uint_eq(p.counts.gmd_calls, 2);
	ck_assert_uint_eq(p.counts.metrics_requested, 502);
	ck_assert_double_eq_tol(p.counts.cost_usd, 0.00502, 1e-12);
	cw_plan_release(&p);
	/* hourly, 1200 explicit: 120 a call -> 10 calls, and 5 candidates ->
	 * ceil(1205 / 120) = 11 */
	f.inv.period = 3600;
	big_account(&f, b, 1195, 5, names);
	build(&p, &f.inv, T0 + 1);
	ck_assert_uint_eq(p.counts.per_call, 120);
	ck_assert_uint_eq(p.counts.gmd_calls, 10); /* 1195 -> 10 calls, room for 5 */
	cw_plan_release(&p);
	big_account(&f, b, 1195, 6, names);
	build(&p, &f.inv, T0 + 1);
	ck_assert_uint_eq(p.counts.gmd_calls, 11);
	cw_plan_release(&p);
	/* 60 s over 90 days: two time windows, every target requested twice */
	f.inv.period = 60;
	f.inv.lookback_days = 90;
	big_account(&f, b, 3, 0, names);
	build(&p, &f.inv, T0);
	ck_assert_uint_eq(p.counts.windows, 2);
	ck_assert_uint_eq(p.counts.per_call, 1);
	ck_assert_uint_eq(p.counts.gmd_calls, 6);
	ck_assert_uint_eq(p.counts.metrics_requested, 6);
	cw_plan_release(&p);
}
END_TEST

START_TEST(metric_without_bucket)
{
	struct fixture f;
	struct cw_plan p;
	size_t *idx = NULL, n = 0;

	fixture_init(&f);
	f.inv.nmetrics = 2; /* + AWS/Billing EstimatedCharges, one per account-region */
	build(&p, &f.inv, T0 + 12345);
	/* A: 2 regions, B: 1, D: 1 (its regions, not a pinned bucket's) */
	ck_assert_uint_eq(p.ntargets, 8 + 4);
	ck_assert_uint_eq(p.nlistings, 5); /* no listing for it */
	ck_assert_uint_eq(p.counts.targets, 6 + 4);
	ck_assert_int_eq(cw_plan_resolve(&p), 0);
	ck_assert_int_eq(cw_plan_pair_targets(&p, 1, CW_TGT_FETCH, &idx, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(p.targets[idx[0]].bucket, "");
	ck_assert_ptr_eq(p.targets[idx[0]].metric, &f.metrics[1]);
	ck_assert_uint_eq(p.targets[idx[0]].listing, SIZE_MAX);
	free(idx);
	cw_plan_release(&p);
}
END_TEST

START_TEST(listings_resolve)
{
	struct fixture f;
	struct cw_plan p;
	const char *l0[] = { "logs", "assets" }, *l1[] = { "other" };
	const char *l2a[] = { "known", "new1" }, *l2b[] = { "new2", "new1", "new2" };
	size_t *idx = NULL, n = 0;

	fixture_init(&f);
	build(&p, &f.inv, T0 + 12345);
	ck_assert_int_eq(cw_plan_listing_found(&p, 0, l0, 2), 0);
	cw_plan_listing_done(&p, 0);
	ck_assert_int_eq(cw_plan_listing_found(&p, 1, l1, 1), 0);
	cw_plan_listing_done(&p, 1);
	ck_assert_uint_eq(p.ntargets, 8); /* "other": not a discovery listing */
	/* discovery over two pages; names repeat across and within pages */
	ck_assert_int_eq(cw_plan_listing_found(&p, 2, l2a, 2), 0);
	ck_assert_int_eq(cw_plan_listing_found(&p, 2, l2b, 3), 0);
	cw_plan_listing_done(&p, 2);
	ck_assert_uint_eq(p.ntargets, 10);
	target_is(&p, 8, "222222222222", "us-east-1", "new1", false, 2, 2);
	target_is(&p, 9, "222222222222", "us-east-1", "new2", false, 2, 2);
	ck_assert(p.targets[8].discovered);
	ck_assert_ptr_null(p.targets[8].def);
	ck_assert_ptr_ne(p.targets[8].bucket, p.targets[9].bucket); /* its own copy */
	ck_assert_uint_eq(p.listings[2].ntargets, 3);
	cw_plan_listing_failed(&p, 3);   /* D/ap-south-1 */
	cw_plan_listing_done(&p, 4);     /* D/us-east-1: no d2 */
	ck_assert_int_eq(cw_plan_listing_found(&p, 99, l0, 2), CW_EINVAL);

	ck_assert_int_eq(cw_plan_resolve(&p), 0);
	ck_assert_int_eq(p.targets[0].state, CW_TGT_FETCH);      /* logs */
	ck_assert_int_eq(p.targets[1].state, CW_TGT_FETCH);      /* assets here */
	ck_assert_int_eq(p.targets[2].state, CW_TGT_SKIP);       /* not there */
	ck_assert_int_eq(p.targets[3].state, CW_TGT_UNMEASURED); /* media: one row */
	ck_assert_int_eq(p.targets[4].state, CW_TGT_SKIP);
	ck_assert_int_eq(p.targets[5].state, CW_TGT_FETCH);      /* known */
	ck_assert_int_eq(p.targets[6].state, CW_TGT_UNCHECKED);  /* d1: listing failed */
	ck_assert_int_eq(p.targets[7].state, CW_TGT_UNMEASURED); /* d2 */
	ck_assert_int_eq(p.targets[8].state, CW_TGT_FETCH);
	ck_assert_int_eq(p.targets[9].state, CW_TGT_FETCH);

	ck_assert_int_eq(cw_plan_pair_targets(&p, 0, CW_TGT_FETCH, &idx, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(idx[0], 0);
	ck_assert_uint_eq(idx[1], 1);
	free(idx);
	ck_assert_int_eq(cw_plan_pair_targets(&p, 2, CW_TGT_FETCH, &idx, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(idx[0], 5);
	ck_assert_uint_eq(idx[1], 8);
	ck_assert_uint_eq(idx[2], 9);
	free(idx);
	ck_assert_int_eq(cw_plan_pair_targets(&p, 1, CW_TGT_FETCH, &idx, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(idx);
	cw_plan_release(&p);
}
END_TEST

START_TEST(candidates_when_a_listing_fails)
{
	struct fixture f;
	struct cw_plan p;
	const char *l1[] = { "assets" };

	fixture_init(&f);
	build(&p, &f.inv, T0 + 12345);
	cw_plan_listing_failed(&p, 0);   /* A/us-east-1 */
	ck_assert_int_eq(cw_plan_listing_found(&p, 1, l1, 1), 0);
	cw_plan_listing_done(&p, 1);
	ck_assert_int_eq(cw_plan_resolve(&p), 0);
	ck_assert_int_eq(p.targets[0].state, CW_TGT_UNCHECKED); /* logs */
	ck_assert_int_eq(p.targets[1].state, CW_TGT_SKIP);      /* assets is in eu-west-1 */
	ck_assert_int_eq(p.targets[2].state, CW_TGT_FETCH);
	/* media: absent where we could look, unknown where we could not:
	 * one failure row, not "unmeasured" */
	ck_assert_int_eq(p.targets[3].state, CW_TGT_UNCHECKED);
	ck_assert_int_eq(p.targets[4].state, CW_TGT_SKIP);
	cw_plan_release(&p);

	/* nothing answered (the account's AssumeRole failed): pending counts
	 * as failed, every bucket gets exactly one row */
	build(&p, &f.inv, T0 + 12345);
	ck_assert_int_eq(cw_plan_resolve(&p), 0);
	ck_assert_int_eq(p.targets[0].state, CW_TGT_UNCHECKED);
	ck_assert_int_eq(p.targets[1].state, CW_TGT_UNCHECKED);
	ck_assert_int_eq(p.targets[2].state, CW_TGT_SKIP);
	ck_assert_int_eq(p.targets[3].state, CW_TGT_UNCHECKED);
	ck_assert_int_eq(p.targets[4].state, CW_TGT_SKIP);
	cw_plan_release(&p);
}
END_TEST

START_TEST(resolve_by_account)
{
	struct fixture f;
	struct cw_plan p, q;
	const char *l0[] = { "logs", "assets" }, *l2[] = { "known", "new1", "new2" };

	fixture_init(&f);
	build(&p, &f.inv, T0 + 12345);
	build(&q, &f.inv, T0 + 12345);
	ck_assert_uint_eq(p.npairs, 5);
	/* the pairs know their targets, ascending */
	ck_assert_uint_eq(p.pairs[0].ntargets, 3);
	ck_assert_uint_eq(p.pairs[0].targets[0], 0);
	ck_assert_uint_eq(p.pairs[0].targets[2], 3);
	ck_assert_uint_eq(p.pairs[1].ntargets, 2);
	/* distinct groups: a candidate group once (A: logs, assets, media) */
	ck_assert_uint_eq(cw_plan_pairs_groups(&p, 0, 2), 3);
	ck_assert_uint_eq(cw_plan_pairs_groups(&p, 0, 2), 3); /* scratch left clean */
	ck_assert_uint_eq(cw_plan_pairs_groups(&p, 3, 2), 2);
	ck_assert_uint_eq(cw_plan_pairs_groups(&p, 2, 9), 0);  /* out of range */
	for (int k = 0; k < 2; k++) {
		struct cw_plan *x = k ? &q : &p;

		ck_assert_int_eq(cw_plan_listing_found(x, 0, l0, 2), 0);
		cw_plan_listing_done(x, 0);
		cw_plan_listing_done(x, 1);
		ck_assert_int_eq(cw_plan_listing_found(x, 2, l2, 3), 0);
		cw_plan_listing_done(x, 2);
		cw_plan_listing_failed(x, 3);
		cw_plan_listing_done(x, 4);
	}
	ck_assert_uint_eq(p.pairs[2].ntargets, 3); /* discovered ones joined B's pair */
	ck_assert_uint_eq(cw_plan_pairs_groups(&p, 2, 1), 3);
	/* account A alone: the others are left as they were */
	ck_assert_int_eq(cw_plan_resolve_pairs(&p, 0, 2), 0);
	ck_assert_int_eq(p.targets[1].state, CW_TGT_FETCH);
	ck_assert_int_eq(p.targets[2].state, CW_TGT_SKIP);
	ck_assert_int_eq(p.targets[3].state, CW_TGT_UNMEASURED);
	ck_assert_int_eq(p.targets[4].state, CW_TGT_SKIP);
	ck_assert_int_eq(p.targets[5].state, CW_TGT_PENDING);
	ck_assert_int_eq(p.targets[6].state, CW_TGT_PENDING);
	ck_assert_int_eq(cw_plan_resolve_pairs(&p, 2, 1), 0);
	ck_assert_int_eq(cw_plan_resolve_pairs(&p, 3, 2), 0);
	ck_assert_int_eq(cw_plan_resolve_pairs(&p, 4, 2), CW_EINVAL);
	/* account by account == all at once */
	ck_assert_int_eq(cw_plan_resolve(&q), 0);
	ck_assert_uint_eq(p.ntargets, q.ntargets);
	for (size_t i = 0; i < p.ntargets; i++)
		ck_assert_int_eq(p.targets[i].state, q.targets[i].state);
	cw_plan_release(&p);
	cw_plan_release(&q);
}
END_TEST

START_TEST(bad_settings)
{
	struct fixture f;
	struct cw_plan p;
	char err[CW_ERRBUF];

	fixture_init(&f);
	f.inv.period = 0;
	ck_assert_int_eq(cw_plan_build(&p, &f.inv, NULL, err, sizeof(err)), CW_EINVAL);
	ck_assert_str_eq(err, "period: 0 seconds: out of range");
	ck_assert_uint_eq(p.ntargets, 0);
	f.inv.period = DAY;
	f.inv.lookback_days = 0;
	ck_assert_int_eq(cw_plan_build(&p, &f.inv, NULL, err, sizeof(err)), CW_EINVAL);
	ck_assert_str_eq(err, "lookback_days: 0: must be 1..3650");
	/* no options: every account, the real clock */
	f.inv.lookback_days = 35;
	ck_assert_int_eq(cw_plan_build(&p, &f.inv, NULL, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.counts.accounts, 4);
	ck_assert_int_eq(p.end % DAY, 0);
	ck_assert_int_gt(p.end, T0);
	cw_plan_release(&p);
}
END_TEST

static const char yaml[] =
	"version: 1\n"
	"defaults:\n"
	"  regions: [us-east-1, eu-west-1]\n"
	"  lookback_days: 35\n"
	"  period: 1d\n"
	"accounts:\n"
	"  - id: \"111111111111\"\n"
	"    role_arn: arn:aws:iam::111111111111:role/cwsweep-reader\n"
	"    buckets:\n"
	"      - media-prod-assets\n"
	"      - name: media-prod-videos\n"
	"        region: us-east-1\n"
	"  - id: \"222222222222\"\n"
	"    role_arn: arn:aws:iam::222222222222:role/cwsweep-reader\n"
	"    regions: [eu-west-1]\n"
	"    buckets: auto\n"
	"  - id: \"333333333333\"\n"
	"    enabled: false\n"
	"    regions: [us-east-1]\n"
	"    buckets: [sandbox-web]\n";

START_TEST(from_yaml)
{
	struct cw_inventory inv;
	struct cw_diags diags = { 0 };
	struct cw_plan p;
	char err[CW_ERRBUF];
	struct cw_plan_opts o = { .now = T0 + 5 };

	memset(&inv, 0, sizeof(inv));
	ck_assert_int_eq(cw_inventory_parse("test.yaml", yaml, strlen(yaml), &inv, &diags), 0);
	ck_assert_int_eq(cw_plan_build(&p, &inv, &o, err, sizeof(err)), 0);
	/* the disabled account is not planned */
	ck_assert_uint_eq(p.counts.accounts, 2);
	ck_assert_uint_eq(p.counts.pairs, 3);
	/* media-prod-assets: a candidate in 2 regions; media-prod-videos pinned */
	ck_assert_uint_eq(p.ntargets, 3);
	ck_assert_str_eq(p.targets[0].bucket, "media-prod-assets");
	ck_assert(p.targets[0].candidate);
	ck_assert_str_eq(p.targets[2].bucket, "media-prod-videos");
	ck_assert_str_eq(p.targets[2].region, "us-east-1");
	ck_assert(!p.targets[2].candidate);
	ck_assert_uint_eq(p.counts.targets, 2);
	ck_assert_uint_eq(p.counts.discovery, 1);
	ck_assert_uint_eq(p.counts.list_metrics_calls, 3);
	ck_assert_uint_eq(p.counts.sts_calls, 2);
	ck_assert_uint_eq(p.counts.gmd_calls, 1);
	ck_assert_int_eq(p.end, T0);
	cw_plan_release(&p);
	cw_inventory_release(&inv);
	cw_diags_release(&diags);
}
END_TEST

static Suite *plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("plan");

	tcase_add_test(tc, targets_and_listings);
	tcase_add_test(tc, window_is_utc_aligned);
	tcase_add_test(tc, dry_run_numbers);
	tcase_add_test(tc, gmd_floor_with_candidates);
	tcase_add_test(tc, metric_without_bucket);
	tcase_add_test(tc, listings_resolve);
	tcase_add_test(tc, candidates_when_a_listing_fails);
	tcase_add_test(tc, resolve_by_account);
	tcase_add_test(tc, bad_settings);
	tcase_add_test(tc, from_yaml);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(plan_suite());
}
