/*
 * cmd_enable_metrics.c - `cwsweep enable-metrics`: which buckets of the
 * inventory would get an S3 request-metrics configuration (id
 * EntireBucket), which have one already, and what it would cost; with
 * --apply, create the missing ones.
 *
 * Per account (its role, as a sweep assumes it) and region: ListMetrics of
 * the free daily storage metric BucketSizeBytes (every StorageType: a
 * bucket of Glacier data only has no StandardStorage metric) finds the
 * buckets and their region, as a sweep's coverage does; with --min-stored,
 * GetMetricData reads their size summed over the storage classes; then
 * GetBucketMetricsConfiguration per bucket says whether EntireBucket
 * exists.  --apply then calls PutBucketMetricsConfiguration for the
 * missing ones only, so an existing configuration is never replaced and a
 * second run changes nothing.  Nothing is written without --apply.
 * Serial, on the main thread: the calls are few and S3 is not rushed.
 */
#include <fnmatch.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "cli.h"
#include "cloudwatch.h"
#include "commands.h"
#include "credcache.h"
#include "creds.h"
#include "err.h"
#include "inventory.h"
#include "log.h"
#include "pager.h"
#include "s3.h"
#include "storage.h"
#include "strutil.h"
#include "timeutil.h"
#include "units.h"
#include "validate.h"

/*
 * One metrics configuration publishes the full set of S3 request metrics
 * (16; operation-specific ones only when such requests happen), billed as
 * CloudWatch custom metrics: $0.30 per metric-month for the first 10,000
 * (us-east-1).  Both are the inventory's prices.request_metrics (defaults
 * 16 and 0.30, the same the reports' Not watched section uses).  See
 * README.md "Enabling request metrics" for the sources.
 */

#define MAX_GLOBS 32

struct opts {
	const char *inventory, *profile, *role_name;
	const char *globs[MAX_GLOBS];
	size_t nglobs;
	double min_stored;  /* bytes; < 0: not asked */
	int64_t at;         /* "now" for the storage window; 0: the clock */
	bool apply;
};

enum state { ST_ADD, ST_HAS, ST_SMALL, ST_NOT_FOUND, ST_FAILED, ST_ADDED };

struct row {
	const struct cw_account_def *acct;
	char *bucket, *region, *note;
	double stored;   /* NaN: unknown */
	enum state st;
};

struct plan {
	struct row *v;
	size_t n, cap;
	size_t calls, failures;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cwsweep enable-metrics [-i FILE] [--bucket GLOB]... [--min-stored SIZE]\n"
		"                              [--role-name NAME] [--profile NAME] [--at TIME]\n"
		"                              [--apply]\n"
		"\n"
		"Plan S3 request metrics (BytesDownloaded and the rest need a metrics\n"
		"configuration on each bucket): which buckets of the inventory would get the\n"
		"configuration " CW_S3_METRICS_ID ", which have it already, and the estimated\n"
		"monthly CloudWatch cost.  Nothing is written without --apply.\n"
		"\n"
		"  -i, --inventory FILE  the inventory (default accounts.yaml); `buckets: auto`\n"
		"                        accounts: every bucket with storage metrics\n"
		"  --bucket GLOB         only buckets whose name matches (repeatable)\n"
		"  --min-stored SIZE     only buckets holding at least SIZE (e.g. 100GB), all\n"
		"                        storage classes together, from BucketSizeBytes\n"
		"  --role-name NAME      assume this role instead of each account's (one that\n"
		"                        may s3:GetMetricsConfiguration/PutMetricsConfiguration)\n"
		"  --profile NAME        AWS profile for the ambient credentials\n"
		"  --at TIME             read sizes as of TIME (UTC, ISO 8601) instead of now\n"
		"  --apply               create the missing configurations; an existing one\n"
		"                        is never replaced\n"
		"  -h, --help            this help\n"
		"\n"
		"exit codes: 0 planned (or applied) fully; 2 usage or configuration error;\n"
		"3 a bucket, an account or Organizations failed (the summary says which)\n");
}

static int row_add(struct plan *p, const struct cw_account_def *a, const char *bucket,
		   const char *region, enum state st, const char *note)
{
	struct row *r;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		void *v = realloc(p->v, cap * sizeof(*p->v));

		if (!v)
			return CW_ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	r = &p->v[p->n];
	memset(r, 0, sizeof(*r));
	r->acct = a;
	r->stored = NAN;
	r->st = st;
	r->bucket = cw_strdup(bucket ? bucket : "");
	r->region = cw_strdup(region ? region : "");
	r->note = NULL;
	if (note) { /* AWS text: redacted as every failure text is */
		size_t cap = strlen(note) * 3 + 16;

		r->note = malloc(cap);
		if (r->note)
			cw_redact(note, r->note, cap);
	}
	if (!r->bucket || !r->region || (note && !r->note))
		return CW_ENOMEM;
	p->n++;
	if (st == ST_FAILED)
		p->failures++;
	return 0;
}

/* Mark row w failed with err (redacted). */
static void row_fail(struct plan *p, struct row *w, const char *err)
{
	size_t cap = strlen(err) * 3 + 16;

	w->st = ST_FAILED;
	free(w->note);
	w->note = malloc(cap);
	if (w->note)
		cw_redact(err, w->note, cap);
	p->failures++;
}

static void plan_release(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].bucket);
		free(p->v[i].region);
		free(p->v[i].note);
	}
	free(p->v);
}

static bool glob_ok(const struct opts *o, const char *bucket)
{
	if (!o->nglobs)
		return true;
	for (size_t i = 0; i < o->nglobs; i++)
		if (fnmatch(o->globs[i], bucket, 0) == 0)
			return true;
	return false;
}

struct ctx {
	const struct opts *o;
	const struct cw_inventory *inv;
	struct cw_aws_client *client;
	struct cw_credcache *cache;
	struct plan *plan;
};

static int cw_call(struct ctx *x, struct cw_credcache_ref *ref, const char *region,
		   const char *target, const char *what, const char *body, size_t len,
		   struct cw_aws_response *resp, char *err, size_t errlen)
{
	char endpoint[512];
	struct cw_aws_request req;
	int rc = cw_endpoint_resolve("monitoring", region, x->inv->aws.endpoint_url, endpoint,
				     sizeof(endpoint), err, errlen);

	if (rc)
		return rc;
	memset(&req, 0, sizeof(req));
	req.service = "monitoring";
	req.region = region;
	req.endpoint = endpoint;
	req.proto = CW_PROTO_JSON10;
	req.target = target;
	req.body = body;
	req.body_len = len;
	req.what = what;
	x->plan->calls++;
	return cw_aws_call(x->client, &req, cw_credcache_fn, ref, resp, err, errlen);
}

/*
 * The buckets the daily storage metrics show in one account-region, in
 * every storage class (a bucket holding only Standard-IA or Glacier data
 * has no StandardStorage metric), into *set (finished).
 */
static int list_region(struct ctx *x, struct cw_credcache_ref *ref, const char *region,
		       struct cw_storage_set *set, char *err, size_t errlen)
{
	struct cw_pager pg;
	char *next = NULL;
	int rc = 0;

	cw_pager_init(&pg, 0);
	for (;;) {
		struct cw_aws_response resp;
		struct cw_storage_page page;
		char *body = NULL;
		size_t len = 0;

		rc = cw_storage_lm_request(&body, &len, next, err, errlen);
		if (rc)
			break;
		cw_aws_response_init(&resp);
		rc = cw_call(x, ref, region, CW_TARGET_LM, "ListMetrics", body, len, &resp, err,
			     errlen);
		free(body);
		memset(&page, 0, sizeof(page));
		if (!rc)
			rc = cw_storage_lm_parse(&page, resp.body.data, resp.body.len, err, errlen);
		cw_aws_response_release(&resp);
		if (!rc && cw_storage_set_add(set, &page))
			rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
		free(next);
		next = page.next_token;
		page.next_token = NULL;
		cw_storage_page_release(&page);
		if (!rc)
			rc = cw_pager_next(&pg, next, "ListMetrics", err, errlen);
		if (rc || !next)
			break;
	}
	free(next);
	cw_pager_release(&pg);
	cw_storage_set_finish(set);
	return rc;
}

/* One GetMetricData call (and its pages) for queries q[0..k): each
 * query's latest datapoint is added to the stored bytes of its row. */
static int sizes_call(struct ctx *x, struct cw_credcache_ref *ref, const char *region,
		      const struct cw_gmd_query *q, struct row *const *rows, size_t k,
		      char *err, size_t errlen)
{
	struct cw_gmd_result *res = NULL;
	struct cw_pager pg;
	char *next = NULL;
	int64_t start, end;
	int rc;

	cw_storage_window(x->o->at ? x->o->at : cw_time_now(), &start, &end);
	rc = cw_gmd_results_new(&res, k, start, end, 86400);
	cw_pager_init(&pg, 0);
	while (!rc) {
		struct cw_aws_response resp;
		struct cw_gmd_page gp;
		char *body = NULL;
		size_t len = 0;

		rc = cw_gmd_request(&body, &len, q, k, start, end, 86400, next, err, errlen);
		if (rc)
			break;
		cw_aws_response_init(&resp);
		rc = cw_call(x, ref, region, CW_TARGET_GMD, "GetMetricData", body, len, &resp,
			     err, errlen);
		free(body);
		memset(&gp, 0, sizeof(gp));
		if (!rc)
			rc = cw_gmd_accumulate(res, k, NULL, k, resp.body.data, resp.body.len, &gp,
					       err, errlen);
		cw_aws_response_release(&resp);
		free(next);
		next = gp.next_token;
		gp.next_token = NULL;
		cw_gmd_page_release(&gp);
		if (!rc)
			rc = cw_pager_next(&pg, next, "GetMetricData", err, errlen);
		if (!next)
			break;
	}
	free(next);
	cw_pager_release(&pg);
	for (size_t i = 0; !rc && i < k; i++) {
		double v = cw_storage_latest(&res[i].series);

		if (!isnan(v))
			rows[i]->stored = isnan(rows[i]->stored) ? v : rows[i]->stored + v;
	}
	if (res)
		cw_gmd_results_free(res, k);
	return rc;
}

/*
 * The stored bytes of rows[from..to): BucketSizeBytes (Average, the latest
 * day) summed over the storage classes set lists for each bucket, 500
 * queries a call.
 */
static int sizes(struct ctx *x, struct cw_credcache_ref *ref, const char *region,
		 const struct cw_storage_set *set, size_t from, size_t to, char *err,
		 size_t errlen)
{
	struct cw_storage_metric *m = calloc(500, sizeof(*m));
	struct cw_gmd_query *q = calloc(500, sizeof(*q));
	struct row **rows = calloc(500, sizeof(*rows));
	size_t k = 0;
	int rc = m && q && rows ? 0 : cw_fail(err, errlen, CW_ENOMEM, "out of memory");

	for (size_t i = from; !rc && i < to; i++) {
		const struct cw_storage_bucket *b = cw_storage_set_find(set, x->plan->v[i].bucket);

		for (size_t t = 0; !rc && b && t < b->ntypes; t++) {
			if (cw_storage_metric_init(&m[k], b->types[t])) {
				rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
				break;
			}
			q[k] = (struct cw_gmd_query){ .metric = &m[k].def,
						      .bucket = x->plan->v[i].bucket };
			rows[k++] = &x->plan->v[i];
			if (k == 500) {
				rc = sizes_call(x, ref, region, q, rows, k, err, errlen);
				while (k > 0)
					cw_storage_metric_release(&m[--k]);
			}
		}
	}
	if (!rc && k)
		rc = sizes_call(x, ref, region, q, rows, k, err, errlen);
	while (m && k > 0)
		cw_storage_metric_release(&m[--k]);
	free(m);
	free(q);
	free(rows);
	return rc;
}

/* One account: find its buckets, their sizes, and their configurations. */
static int plan_account(struct ctx *x, const struct cw_account_def *a, struct cw_s3 *s3)
{
	struct cw_credcache_ref ref = { x->cache, a };
	char err[CW_ERRBUF];
	struct cw_storage_set found[64];
	size_t nr = a->nregions < 64 ? a->nregions : 64;
	int rc = 0;

	memset(found, 0, sizeof(found));
	for (size_t r = 0; r < nr; r++) {
		err[0] = '\0';
		if (list_region(x, &ref, a->regions[r], &found[r], err, sizeof(err))) {
			rc = row_add(x->plan, a, "", a->regions[r], ST_FAILED, err);
			goto out;
		}
	}
	for (size_t r = 0; r < nr; r++) {
		size_t first = x->plan->n;

		for (size_t i = 0; i < found[r].n; i++) {
			const char *b = found[r].v[i].name;
			bool listed = a->buckets_auto;

			for (size_t k = 0; !listed && k < a->nbuckets; k++)
				listed = strcmp(a->buckets[k].name, b) == 0;
			if (listed && glob_ok(x->o, b) && (rc = row_add(x->plan, a, b, a->regions[r],
									 ST_ADD, NULL)))
				goto out;
		}
		if (x->o->min_stored >= 0 && x->plan->n > first &&
		    sizes(x, &ref, a->regions[r], &found[r], first, x->plan->n, err,
			  sizeof(err))) {
			for (size_t i = first; i < x->plan->n; i++)
				row_fail(x->plan, &x->plan->v[i], err);
		}
	}
	/* listed buckets that no region's storage metrics show */
	for (size_t k = 0; k < a->nbuckets; k++) {
		bool seen = false;

		for (size_t r = 0; r < nr && !seen; r++)
			seen = cw_storage_set_find(&found[r], a->buckets[k].name) != NULL;
		if (!seen && glob_ok(x->o, a->buckets[k].name) &&
		    (rc = row_add(x->plan, a, a->buckets[k].name, a->buckets[k].region,
				  ST_NOT_FOUND, "no BucketSizeBytes in any region of the account "
				  "(empty, or not in this account)")))
			goto out;
	}
	s3->creds_ctx = &ref;
	for (size_t i = 0; i < x->plan->n; i++) {
		struct row *w = &x->plan->v[i];
		struct cw_aws_response resp;
		bool exists = false;

		if (w->acct != a || w->st != ST_ADD)
			continue;
		if (x->o->min_stored >= 0 && !(w->stored >= x->o->min_stored)) {
			w->st = ST_SMALL;
			if (isnan(w->stored) && !w->note)
				w->note = cw_strdup("no BucketSizeBytes in the last 4 days: size unknown");
			continue;
		}
		cw_aws_response_init(&resp);
		x->plan->calls++;
		if (cw_s3_metrics_get(s3, w->region, w->bucket, CW_S3_METRICS_ID, &exists, &resp,
				      err, sizeof(err))) {
			row_fail(x->plan, w, err);
		} else if (exists) {
			w->st = ST_HAS;
		}
		cw_aws_response_release(&resp);
	}
out:
	for (size_t r = 0; r < nr; r++)
		cw_storage_set_release(&found[r]);
	return rc;
}

static const char *state_name(enum state s)
{
	static const char *const names[] = { "would add", "has it", "too small",
					      "not found", "FAILED", "added" };

	return names[s];
}

static int apply(struct ctx *x, struct cw_s3 *s3, size_t *added)
{
	char err[CW_ERRBUF];

	*added = 0;
	for (size_t i = 0; i < x->plan->n; i++) {
		struct row *w = &x->plan->v[i];
		struct cw_credcache_ref ref = { x->cache, w->acct };
		struct cw_aws_response resp;

		if (w->st != ST_ADD)
			continue;
		s3->creds_ctx = &ref;
		cw_aws_response_init(&resp);
		x->plan->calls++;
		if (cw_s3_metrics_put(s3, w->region, w->bucket, CW_S3_METRICS_ID, &resp, err,
				      sizeof(err))) {
			row_fail(x->plan, w, err);
		} else {
			w->st = ST_ADDED;
			(*added)++;
		}
		cw_aws_response_release(&resp);
	}
	return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	enum { O_BUCKET = 256, O_MIN, O_ROLE, O_PROFILE, O_APPLY, O_AT };
	static const struct option longopts[] = {
		{ "inventory", required_argument, NULL, 'i' },
		{ "bucket", required_argument, NULL, O_BUCKET },
		{ "min-stored", required_argument, NULL, O_MIN },
		{ "role-name", required_argument, NULL, O_ROLE },
		{ "profile", required_argument, NULL, O_PROFILE },
		{ "apply", no_argument, NULL, O_APPLY },
		{ "at", required_argument, NULL, O_AT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char why[CW_ERRBUF];
	int c;

	memset(o, 0, sizeof(*o));
	o->inventory = "accounts.yaml";
	o->min_stored = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->inventory = optarg;
			break;
		case O_BUCKET:
			if (o->nglobs == MAX_GLOBS)
				return cw_usage_error("enable-metrics: --bucket: at most %d",
						      MAX_GLOBS);
			if (!optarg[0])
				return cw_usage_error("enable-metrics: --bucket: empty pattern");
			o->globs[o->nglobs++] = optarg;
			break;
		case O_MIN:
			if (cw_parse_bytes(optarg, &o->min_stored, why, sizeof(why)))
				return cw_usage_error("enable-metrics: --min-stored %s: %s", optarg,
						      why);
			break;
		case O_ROLE:
			if (cw_check_role_name(optarg))
				return cw_usage_error("enable-metrics: --role-name: %s",
						      cw_check_role_name(optarg));
			o->role_name = optarg;
			break;
		case O_PROFILE:
			o->profile = optarg;
			break;
		case O_APPLY:
			o->apply = true;
			break;
		case O_AT:
			if (cw_time_parse(optarg, &o->at) || o->at <= 0)
				return cw_usage_error("enable-metrics: --at: not a time: \"%s\" (want "
						      "e.g. 2026-11-26T03:00:00Z)", optarg);
			break;
		case 'h':
			usage(stdout);
			return -1;
		case ':':
			return cw_usage_error("enable-metrics: %s: missing value", argv[optind - 1]);
		default:
			return cw_usage_error("enable-metrics: %s: unknown option (see `cwsweep "
					      "enable-metrics --help`)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cw_usage_error("enable-metrics: %s: unexpected argument", argv[optind]);
	return 0;
}

/* --role-name: the last hop of every account becomes that role in its account. */
static int swap_roles(struct cw_inventory *inv, const char *role_name)
{
	for (size_t i = 0; i < inv->naccounts; i++) {
		struct cw_account_def *a = &inv->accounts[i];
		const char *part = "aws";
		char *arn;

		if (a->nroles == 0) {
			char **v = calloc(1, sizeof(*v));

			if (!v)
				return CW_ENOMEM;
			a->roles = v;
			a->nroles = 1;
		} else {
			part = a->roles[a->nroles - 1] + 4;
		}
		arn = cw_asprintf("arn:%.*s:iam::%s:role/%s", (int)strcspn(part, ":"), part, a->id,
				  *role_name == '/' ? role_name + 1 : role_name);
		if (!arn)
			return CW_ENOMEM;
		free(a->roles[a->nroles - 1]);
		a->roles[a->nroles - 1] = arn;
	}
	return 0;
}

int cw_cmd_enable_metrics(int argc, char **argv)
{
	struct opts o;
	struct cw_inventory inv;
	struct cw_diags diags = { NULL, 0, 0 };
	struct cw_cli_org org;
	struct cw_aws_opts ao;
	struct cw_aws_ctx *aws = NULL;
	struct cw_creds_provider *ambient = NULL;
	struct cw_creds_opts co;
	struct cw_credcache_opts cc;
	struct plan plan;
	struct ctx x;
	struct cw_s3 s3;
	char err[CW_ERRBUF] = "", stored[32];
	size_t nadd = 0, nhas = 0, added = 0, nsmall = 0, nmiss = 0;
	int rc, code = CW_EXIT_USAGE;

	rc = parse(argc, argv, &o);
	if (rc)
		return rc < 0 ? CW_EXIT_OK : rc;
	memset(&plan, 0, sizeof(plan));
	memset(&x, 0, sizeof(x));
	rc = cw_inventory_load(o.inventory, &inv, &diags);
	cw_diags_print(&diags, stderr);
	cw_diags_release(&diags);
	if (rc)
		return CW_EXIT_USAGE;
	rc = cw_cli_resolve_org(&inv, o.profile, &org);
	if (rc == CW_EXIT_USAGE)
		goto out;
	if (o.role_name && swap_roles(&inv, o.role_name)) {
		cw_log_error("enable-metrics: out of memory");
		goto out;
	}
	memset(&ao, 0, sizeof(ao));
	ao.max_attempts = inv.aws.max_attempts;
	if (cw_aws_env_retry(&ao.max_attempts, err, sizeof(err))) {
		code = cw_usage_error("%s", err);
		goto out;
	}
	if (!ao.max_attempts)
		ao.max_attempts = inv.aws.max_attempts;
	if (cw_aws_ctx_new(&aws, &ao) || cw_aws_client_new(&x.client, aws)) {
		cw_log_error("enable-metrics: cannot set up the AWS client");
		goto out;
	}
	memset(&co, 0, sizeof(co));
	co.profile = o.profile;
	co.aws = aws;
	co.sts_region = inv.aws.sts_region;
	co.endpoint_url = inv.aws.endpoint_url;
	co.session_name = "cwsweep-enable-metrics";
	memset(&cc, 0, sizeof(cc));
	if (cw_creds_provider_new(&ambient, &co, err, sizeof(err)))
		goto fail;
	{
		struct cw_creds probe;

		memset(&probe, 0, sizeof(probe));
		rc = cw_creds_provider_get(ambient, false, &probe, err, sizeof(err));
		cw_creds_release(&probe);
		if (rc)
			goto fail;
	}
	cc.ambient = ambient;
	cc.aws = aws;
	cc.endpoint_url = inv.aws.endpoint_url;
	cc.sts_region = inv.aws.sts_region;
	cc.session_name = "cwsweep-enable-metrics";
	if (cw_credcache_new(&x.cache, &cc, err, sizeof(err)))
		goto fail;
	x.o = &o;
	x.inv = &inv;
	x.plan = &plan;
	memset(&s3, 0, sizeof(s3));
	s3.aws = x.client;
	s3.endpoint_url = inv.aws.endpoint_url;
	s3.get_creds = cw_credcache_fn;
	if (org.failed && row_add(&plan, NULL, "", "us-east-1", ST_FAILED, org.err))
		goto oom;
	for (size_t i = 0; i < inv.naccounts; i++)
		if (plan_account(&x, &inv.accounts[i], &s3))
			goto oom;
	for (size_t i = 0; i < plan.n; i++) {
		nadd += plan.v[i].st == ST_ADD;
		nhas += plan.v[i].st == ST_HAS;
		nsmall += plan.v[i].st == ST_SMALL;
		nmiss += plan.v[i].st == ST_NOT_FOUND;
	}
	if (o.apply)
		apply(&x, &s3, &added);

	printf("%-28s %-14s %-40s %-12s %s\n", "account", "region", "bucket", "stored", "request metrics (" CW_S3_METRICS_ID ")");
	for (size_t i = 0; i < plan.n; i++) {
		const struct row *w = &plan.v[i];
		char who[64];

		snprintf(who, sizeof(who), "%s", w->acct ? w->acct->name : "organization");
		if (isnan(w->stored))
			snprintf(stored, sizeof(stored), "-");
		else
			cw_fmt_bytes(w->stored, stored, sizeof(stored));
		printf("%-28s %-14s %-40s %-12s %s%s%s\n", who, w->region, w->bucket[0] ? w->bucket : "-",
		       stored, state_name(w->st), w->note ? ": " : "", w->note ? w->note : "");
	}
	printf("\n%zu bucket%s %s " CW_S3_METRICS_ID ", %zu have it already, %zu below "
	       "--min-stored, %zu not found, %zu failed (%zu calls)\n",
	       o.apply ? added : nadd, (o.apply ? added : nadd) == 1 ? "" : "s",
	       o.apply ? "got" : "would get", nhas, nsmall, nmiss, plan.failures, plan.calls);
	printf("estimated cost: up to $%.2f a month (%zu configurations x %d request metrics "
	       "x $%.2f per metric-month, as CloudWatch custom metrics; an estimate)\n",
	       (double)(o.apply ? added : nadd) * cw_inventory_watch_usd(&inv),
	       o.apply ? added : nadd, inv.watch.metrics_per_config, inv.watch.usd_per_metric_month);
	if (!o.apply && nadd)
		printf("nothing was written: run again with --apply to create them\n");
	code = plan.failures ? CW_EXIT_PARTIAL : CW_EXIT_OK;
	goto out;
oom:
	cw_log_error("enable-metrics: out of memory");
	code = CW_EXIT_PARTIAL;
	goto out;
fail:
	cw_log_error("enable-metrics: %s", err);
out:
	plan_release(&plan);
	cw_credcache_free(x.cache);
	cw_creds_provider_free(ambient);
	cw_aws_client_free(x.client);
	cw_aws_ctx_free(aws);
	cw_inventory_release(&inv);
	return code;
}
