/*
 * inventory.c - load accounts.yaml: read the file, build the node tree,
 * walk `defaults:` and `accounts:` through key tables, merge defaults into
 * every account and bucket, cross-check (duplicates, role accounts,
 * partitions, retention), and hold the result.
 *
 * Every problem is collected with its position; the inventory is handed
 * out only when there are none.  The loaded inventory is never written
 * again, so any thread may read it.
 */
#include "inventory.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomicio.h"
#include "err.h"
#include "invpriv.h"
#include "strutil.h"
#include "validate.h"

/* ---- lifecycle ----------------------------------------------------------- */

static void bucket_release(struct cw_bucket_def *b)
{
	free(b->name);
	free(b->region);
	cw_inv_det_set_release(&b->detectors);
	cw_inv_free_kv(b->tags, b->ntags);
	memset(b, 0, sizeof(*b));
}

static void account_release(struct cw_account_def *a)
{
	free(a->name);
	cw_inv_free_strv(a->roles, a->nroles);
	free(a->external_id);
	free(a->session_name);
	cw_inv_free_strv(a->regions, a->nregions);
	for (size_t i = 0; i < a->nbuckets; i++)
		bucket_release(&a->buckets[i]);
	free(a->buckets);
	cw_inv_det_set_release(&a->detectors);
	free(a->owner);
	cw_inv_free_kv(a->tags, a->ntags);
	memset(a, 0, sizeof(*a));
}

static void billing_release(struct cw_billing_def *b)
{
	account_release(&b->payer);
	for (size_t i = 0; i < b->nservices; i++)
		free(b->services[i]);
	free(b->services);
	memset(b, 0, sizeof(*b));
}

static void org_release(struct cw_org_settings *o)
{
	if (!o)
		return;
	free(o->role_arn);
	free(o->external_id);
	cw_inv_free_strv(o->include_ous, o->ninclude);
	cw_inv_free_strv(o->exclude_ous, o->nexclude);
	cw_inv_free_strv(o->exclude_accounts, o->nexclude_accounts);
	free(o->text);
	free(o);
}

void cw_inventory_release(struct cw_inventory *inv)
{
	free(inv->path);
	org_release(inv->org);
	cw_inv_free_strv(inv->regions, inv->nregions);
	cw_inv_metrics_release(inv);
	cw_inv_det_set_release(&inv->detectors);
	for (size_t i = 0; i < inv->naccounts; i++)
		account_release(&inv->accounts[i]);
	free(inv->accounts);
	cw_inv_reporting_release(&inv->reporting);
	cw_inv_aws_release(&inv->aws);
	cw_inv_prices_release(inv);
	cw_inv_exclusions_release(inv);
	billing_release(&inv->billing);
	memset(inv, 0, sizeof(*inv));
}

/* Everything but the detector set, which needs the parse to know its layers. */
static int init_defaults(struct cw_inventory *inv)
{
	int rc;

	memset(inv, 0, sizeof(*inv));
	inv->lookback_days = 35;
	inv->period = 86400;
	cw_inv_reporting_defaults(&inv->reporting);
	cw_inv_aws_defaults(&inv->aws);
	inv->reporting.output_dir = cw_strdup("./cwsweep-report");
	inv->reporting.formats = cw_strdup("md,csv,json,html,xlsx");
	inv->reporting.slack_webhook_env = cw_strdup("SLACK_WEBHOOK_URL");
	if (!inv->reporting.output_dir || !inv->reporting.formats ||
	    !inv->reporting.slack_webhook_env)
		return CW_ENOMEM;
	rc = cw_inv_metrics_defaults(inv);
	if (rc == 0)
		rc = cw_inv_prices_defaults(inv);
	return rc;
}

/* ---- partitions ---------------------------------------------------------- */

static const char *region_partition(const char *r)
{
	if (cw_str_startswith(r, "cn-"))
		return "aws-cn";
	if (strstr(r, "-gov-"))
		return "aws-us-gov";
	if (strstr(r, "-isob-"))
		return "aws-iso-b";
	if (strstr(r, "-isoe-"))
		return "aws-iso-e";
	if (strstr(r, "-isof-"))
		return "aws-iso-f";
	if (strstr(r, "-iso-"))
		return "aws-iso";
	return "aws";
}

/* The partition of a valid role ARN, as a static string. */
static const char *arn_partition(const char *arn)
{
	static const char *const parts[] = {
		"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e",
		"aws-iso-f", NULL
	};
	size_t n = strcspn(arn + 4, ":");

	for (size_t i = 0; parts[i]; i++)
		if (strlen(parts[i]) == n && strncmp(arn + 4, parts[i], n) == 0)
			return parts[i];
	return "aws";
}

/* ---- defaults: ----------------------------------------------------------- */

struct dflt {
	struct cw_inventory *inv;
	struct cw_inv_det_layer det;
	const struct cw_yt_node *det_at;
	char *session_name;
	char *external_id;
	int duration;              /* 0: not given, 3600 applies */
	char *role_name;           /* NULL: no template; "PATH/NAME" without a leading / */
	const struct cw_yt_node *role_name_at, *buckets_at;
	const struct cw_yt_node *lookback_at, *period_at, *duration_at;
	const struct cw_yt_node *regions_at; /* given, even if wrong */
	bool resolving;            /* parsed again with Organizations' members */
};

static void d_regions(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		      void *obj)
{
	struct cw_inventory *inv = ((struct dflt *)obj)->inv;

	((struct dflt *)obj)->regions_at = v;
	cw_inv_str_list(c, v, path, cw_check_region, "[us-east-1, eu-west-1]", &inv->regions,
			&inv->nregions);
}

static void d_lookback(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		       void *obj)
{
	struct dflt *d = obj;
	long long x;

	/* 455 days: the longest CloudWatch keeps anything (hourly data) */
	if (cw_inv_int(c, v, path, 1, 455, &x)) {
		d->inv->lookback_days = (int)x;
		d->lookback_at = v;
	}
}

static void d_period(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		     void *obj)
{
	struct dflt *d = obj;
	int64_t x;

	if (!cw_inv_duration(c, v, path, 60, 86400, &x))
		return;
	if (x % 60 != 0) {
		cw_inv_diag(c, v, path, "must be a whole number of minutes (CloudWatch "
			    "periods are multiples of 60 seconds), got %llds", (long long)x);
		return;
	}
	if (86400 % x != 0) {
		cw_inv_diag(c, v, path, "must divide a day evenly (e.g. 1m, 5m, 15m, 1h, 6h, "
			    "1d) so that periods line up with UTC days");
		return;
	}
	d->inv->period = x;
	d->period_at = v;
}

static void d_metrics(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		      void *obj)
{
	cw_inv_metrics_parse(c, v, path, ((struct dflt *)obj)->inv);
}

static void d_detectors(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
			void *obj)
{
	struct dflt *d = obj;

	cw_inv_det_layer_parse(c, v, path, &d->det);
	d->det_at = v;
}

static bool checked_str(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
			const char *(*check)(const char *), char **out)
{
	const char *why;

	if (!cw_inv_scalar(c, v, path))
		return false;
	why = check(v->str);
	if (why) {
		cw_inv_diag(c, v, path, "%s", why);
		return false;
	}
	return cw_inv_str(c, v, path, out);
}

static void d_session(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		      void *obj)
{
	checked_str(c, v, path, cw_check_session_name, &((struct dflt *)obj)->session_name);
}

static void d_external(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		       void *obj)
{
	checked_str(c, v, path, cw_check_external_id, &((struct dflt *)obj)->external_id);
}

/* STS DurationSeconds: 900 s to 43200 s (the role's own maximum may be lower). */
static bool duration_seconds(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			     const char *path, int *out)
{
	long long x;

	if (!cw_inv_int(c, v, path, 900, 43200, &x))
		return false;
	*out = (int)x;
	return true;
}

static void d_duration(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		       void *obj)
{
	struct dflt *d = obj;

	if (duration_seconds(c, v, path, &d->duration))
		d->duration_at = v;
}

static void d_role_name(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
			void *obj)
{
	struct dflt *d = obj;
	char *s = NULL;

	if (!checked_str(c, v, path, cw_check_role_name, &s))
		return;
	free(d->role_name);
	d->role_name = s;
	if (*s == '/')
		memmove(s, s + 1, strlen(s));
	d->role_name_at = v;
}

static void d_buckets(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		      void *obj)
{
	((struct dflt *)obj)->buckets_at = v; /* read per account, at this path */
}

static const struct cw_inv_key defaults_keys[] = {
	{ "role_name", d_role_name, false },
	{ "buckets", d_buckets, false },
	{ "regions", d_regions, false },
	{ "lookback_days", d_lookback, false },
	{ "period", d_period, false },
	{ "metrics", d_metrics, false },
	{ "detectors", d_detectors, false },
	{ "session_name", d_session, false },
	{ "duration_seconds", d_duration, false },
	{ "external_id", d_external, false },
	{ NULL, NULL, false },
};

/* The longest lookback CloudWatch keeps data for at this period. */
static int retention_days(int64_t period)
{
	if (period % 3600 == 0)
		return 455;
	if (period % 300 == 0)
		return 63;
	return 15;
}

/*
 * lookback_days when the inventory gives none: 98 days for daily periods
 * (the robust detector's 8 weeks of profile and 3 months of month-end
 * peaks; 98 points x 500 series = 49,000 datapoints, inside one
 * GetMetricData call's 100,800), 35 days for shorter periods, never more
 * than CloudWatch keeps at that period.
 */
static int default_lookback(int64_t period, int keep)
{
	int days = period >= 86400 ? 98 : 35;

	return days < keep ? days : keep;
}

static void parse_defaults(struct cw_inv_ctx *c, const struct cw_yt_node *v, struct dflt *d)
{
	struct cw_inventory *inv = d->inv;
	const struct cw_inv_det_layer *layers[1] = { &d->det };
	struct cw_inv_det_opts o;
	int keep;

	if (v)
		cw_inv_walk(c, v, "defaults", defaults_keys, d);
	keep = retention_days(inv->period);
	if (!d->lookback_at)
		inv->lookback_days = default_lookback(inv->period, keep);
	if (inv->lookback_days > keep) {
		const struct cw_yt_node *at = d->lookback_at ? d->lookback_at : d->period_at;

		cw_inv_diag(c, at, d->lookback_at ? "defaults.lookback_days" : "defaults.period",
			    "%d days is longer than CloudWatch keeps %llds data (%d days); use "
			    "a longer period or lookback_days: %d or less", inv->lookback_days,
			    (long long)inv->period, keep, keep);
	}
	memset(&o, 0, sizeof(o));
	o.period = inv->period;
	o.lookback_days = inv->lookback_days;
	o.lookback_at = d->lookback_at;
	o.lookback_path = "defaults.lookback_days";
	if (!o.lookback_at) {
		o.lookback_at = d->period_at ? d->period_at : d->det_at;
		o.lookback_path = d->period_at ? "defaults.period" : "defaults.detectors";
	}
	cw_inv_det_build(c, &inv->detectors, layers, 1, &o);
}

/* ---- accounts: ----------------------------------------------------------- */

/* What one account's walk collects; checked and merged after the walk. */
struct acct {
	struct cw_account_def a;
	bool enabled;
	struct cw_inv_det_layer det;
	const struct cw_yt_node *node, *id_at, *name_at, *roles_at, *ext_at, *dur_at;
	const struct cw_yt_node *regions_at, *buckets_at, *det_at;
	bool id_ok;
	int duration;
	char path[CW_INV_PATHLEN];
};

static void a_id(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		 void *obj)
{
	struct acct *x = obj;
	const char *why;

	if (!cw_inv_scalar(c, v, path))
		return;
	x->id_at = v;
	if (v->plain && v->len > 0 && strspn(v->str, "0123456789") == v->len) {
		cw_inv_diag(c, v, path, "write the account id in quotes (id: \"%.12s\"): "
			    "unquoted, YAML reads it as a number, and numbers lose leading "
			    "zeros", v->str);
		return;
	}
	why = cw_check_account_id(v->str);
	if (why) {
		cw_inv_diag(c, v, path, "%s", why);
		return;
	}
	memcpy(x->a.id, v->str, 13);
	x->id_ok = true;
}

static void a_name(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		   void *obj)
{
	struct acct *x = obj;

	if (!cw_inv_scalar(c, v, path))
		return;
	if (v->len > 128) {
		cw_inv_diag(c, v, path, "an account name has at most 128 characters");
		return;
	}
	for (size_t i = 0; i < v->len; i++)
		if ((unsigned char)v->str[i] < 0x20 || v->str[i] == 0x7f) {
			cw_inv_diag(c, v, path, "an account name has no control characters");
			return;
		}
	if (cw_inv_str(c, v, path, &x->a.name))
		x->name_at = v;
}

static void a_role(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		   void *obj)
{
	struct acct *x = obj;

	x->roles_at = v;
	if (cw_yt_is_null(v))
		return; /* role_arn: null: the ambient credentials, not defaults.role_name */
	if (v->kind == CW_YT_SCALAR) {
		char *s = NULL;

		if (!checked_str(c, v, path, cw_check_role_arn, &s))
			return;
		x->a.roles = calloc(1, sizeof(*x->a.roles));
		if (!x->a.roles) {
			free(s);
			c->oom = true;
			return;
		}
		x->a.roles[0] = s;
		x->a.nroles = 1;
		return;
	}
	if (v->kind == CW_YT_SEQ && v->n > 10) {
		cw_inv_diag(c, v, path, "a role chain of more than 10 roles is not supported");
		return;
	}
	cw_inv_str_list(c, v, path, cw_check_role_arn,
			"[arn:aws:iam::999999999999:role/hub, arn:aws:iam::123456789012:role/NAME]",
			&x->a.roles, &x->a.nroles);
}

static void a_external(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		       void *obj)
{
	struct acct *x = obj;

	if (checked_str(c, v, path, cw_check_external_id, &x->a.external_id))
		x->ext_at = v;
}

static void a_session(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		      void *obj)
{
	checked_str(c, v, path, cw_check_session_name, &((struct acct *)obj)->a.session_name);
}

static void a_duration(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		       void *obj)
{
	struct acct *x = obj;

	if (duration_seconds(c, v, path, &x->duration))
		x->dur_at = v;
}

static void a_regions(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		      void *obj)
{
	struct acct *x = obj;

	x->regions_at = v;
	cw_inv_str_list(c, v, path, cw_check_region, "[us-east-1, eu-west-1]", &x->a.regions,
			&x->a.nregions);
}

static void a_buckets(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		      void *obj)
{
	((struct acct *)obj)->buckets_at = v; /* read once regions and detectors are known */
}

static void a_detectors(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
			void *obj)
{
	struct acct *x = obj;

	cw_inv_det_layer_parse(c, v, path, &x->det);
	x->det_at = v;
}

static void a_owner(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		    void *obj)
{
	cw_inv_str(c, v, path, &((struct acct *)obj)->a.owner);
}

static void a_tags(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		   void *obj)
{
	struct acct *x = obj;

	cw_inv_kv_map(c, v, path, &x->a.tags, &x->a.ntags);
}

static void a_enabled(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		      void *obj)
{
	cw_inv_bool(c, v, path, &((struct acct *)obj)->enabled);
}

static const struct cw_inv_key account_keys[] = {
	{ "id", a_id, true },
	{ "name", a_name, false },
	{ "role_arn", a_role, false },
	{ "external_id", a_external, false },
	{ "session_name", a_session, false },
	{ "duration_seconds", a_duration, false },
	{ "regions", a_regions, false },
	{ "buckets", a_buckets, false },
	{ "detectors", a_detectors, false },
	{ "owner", a_owner, false },
	{ "tags", a_tags, false },
	{ "enabled", a_enabled, false },
	{ NULL, NULL, false },
};

/* ---- buckets ------------------------------------------------------------- */

struct bkt {
	struct cw_bucket_def b;
	struct cw_inv_det_layer det;
	const struct cw_yt_node *name_at, *region_at, *det_at;
};

static void b_name(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		   void *obj)
{
	struct bkt *x = obj;

	if (checked_str(c, v, path, cw_check_bucket_name, &x->b.name))
		x->name_at = v;
}

static void b_region(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		     void *obj)
{
	struct bkt *x = obj;

	if (cw_inv_region(c, v, path, &x->b.region))
		x->region_at = v;
}

static void b_detectors(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
			void *obj)
{
	struct bkt *x = obj;

	cw_inv_det_layer_parse(c, v, path, &x->det);
	x->det_at = v;
}

static void b_tags(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		   void *obj)
{
	struct bkt *x = obj;

	cw_inv_kv_map(c, v, path, &x->b.tags, &x->b.ntags);
}

static const struct cw_inv_key bucket_keys[] = {
	{ "name", b_name, true },
	{ "region", b_region, false },
	{ "detectors", b_detectors, false },
	{ "tags", b_tags, false },
	{ NULL, NULL, false },
};

/* Shared state of the whole accounts list. */
struct accts {
	struct cw_inventory *inv;
	const struct dflt *d;
	struct cw_inv_seenv ids, names, buckets;
};

static bool has_region(const struct cw_account_def *a, const char *r)
{
	for (size_t i = 0; i < a->nregions; i++)
		if (strcmp(a->regions[i], r) == 0)
			return true;
	return false;
}

static void build_bucket(struct cw_inv_ctx *c, struct accts *s, struct acct *x,
			 struct bkt *bk, const char *path)
{
	const struct cw_inv_det_layer *layers[3] = { &s->d->det, &x->det, &bk->det };
	struct cw_inv_det_opts o;
	char p[CW_INV_PATHLEN];

	if (bk->b.region && !has_region(&x->a, bk->b.region) && x->a.nregions > 0) {
		char list[256] = "";
		size_t used = 0;

		for (size_t i = 0; i < x->a.nregions && used < sizeof(list); i++) {
			int k = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
					 x->a.regions[i]);

			if (k > 0)
				used += (size_t)k;
		}
		cw_inv_diag(c, bk->region_at, cw_inv_path(p, sizeof(p), path, "region"),
			    "%s is not one of this account's regions (%s)", bk->b.region, list);
	}
	if (!bk->det.present) {
		/* the account's layers and nothing more: its set, shared (a
		 * thousand accounts of a thousand buckets need no million copies;
		 * building it again would only repeat the account's diagnostics) */
		bk->b.detectors = x->a.detectors;
		bk->b.detectors.borrowed = true;
		return;
	}
	memset(&o, 0, sizeof(o));
	o.period = s->inv->period;
	o.lookback_days = s->inv->lookback_days;
	o.owner = bk->det_at;
	o.owner_path = cw_inv_path(p, sizeof(p), path, "detectors");
	cw_inv_det_build(c, &bk->b.detectors, layers, 3, &o);
}

static void parse_buckets(struct cw_inv_ctx *c, struct accts *s, struct acct *x)
{
	/* an account without buckets takes defaults.buckets; its problems are
	 * reported once, at the defaults, and the same names in many accounts
	 * are not duplicates (each account looks for them in its own listing) */
	bool from_defaults = !x->buckets_at && s->d->buckets_at;
	const struct cw_yt_node *v = from_defaults ? s->d->buckets_at : x->buckets_at;
	const char *scope = x->a.nroles ? arn_partition(x->a.roles[0]) :
			    x->a.nregions ? region_partition(x->a.regions[0]) : "aws";
	char path[CW_INV_PATHLEN], p[CW_INV_PATHLEN];
	bool per_bucket = false;

	for (size_t i = 0; i < s->inv->nmetrics; i++)
		per_bucket = per_bucket || s->inv->metrics[i].per_bucket;
	if (from_defaults)
		cw_strlcpy(path, "defaults.buckets", sizeof(path));
	else
		cw_inv_path(path, sizeof(path), x->path, "buckets");
	if (!v) {
		if (per_bucket)
			cw_inv_diag(c, x->node, x->path, "missing buckets (a list of bucket names, "
				    "or auto to find them through ListMetrics; defaults.buckets "
				    "gives them to every account)");
		return;
	}
	if (v->kind == CW_YT_SCALAR && !cw_yt_is_null(v)) {
		if (strcmp(v->str, "auto") == 0 && v->plain)
			x->a.buckets_auto = true;
		else
			cw_inv_diag(c, v, path, "must be a list of bucket names, or auto; got "
				    "\"%.80s\"", v->str);
		return;
	}
	if (!cw_inv_list(c, v, path, "[my-bucket, other-bucket] or auto"))
		return;
	if (v->n == 0) {
		cw_inv_diag(c, v, path, "must not be an empty list (write auto to find the "
			    "account's buckets)");
		return;
	}
	x->a.buckets = calloc(v->n, sizeof(*x->a.buckets));
	if (!x->a.buckets) {
		c->oom = true;
		return;
	}
	for (size_t i = 0; i < v->n; i++) {
		const struct cw_yt_node *it = v->items[i];
		struct bkt bk;
		size_t before = cw_inv_ndiags(c);

		memset(&bk, 0, sizeof(bk));
		cw_inv_index(p, sizeof(p), path, i);
		if (it->kind == CW_YT_SCALAR && it->plain && strcmp(it->str, "auto") == 0) {
			cw_inv_diag(c, it, p, "auto inside a list would be a bucket named "
				    "\"auto\"; write buckets: auto (no list) to find the "
				    "account's buckets");
			continue;
		}
		if (it->kind == CW_YT_MAP) {
			cw_inv_walk(c, it, p, bucket_keys, &bk);
		} else if (it->kind == CW_YT_SCALAR && !cw_yt_is_null(it)) {
			if (checked_str(c, it, p, cw_check_bucket_name, &bk.b.name))
				bk.name_at = it;
		} else {
			cw_inv_diag(c, it, p, "must be a bucket name or a map {name, region, "
				    "detectors, tags}, got %s", cw_yt_what(it));
		}
		if (bk.name_at && !from_defaults &&
		    !cw_inv_seen_push(c, &s->buckets, scope, bk.name_at->str, bk.name_at, p))
			break;
		if (!bk.b.name || cw_inv_ndiags(c) > before) {
			bucket_release(&bk.b);
			cw_inv_det_layer_release(&bk.det);
			continue;
		}
		build_bucket(c, s, x, &bk, p);
		bk.b.line = it->line;
		bk.b.col = it->col;
		x->a.buckets[x->a.nbuckets++] = bk.b;
		cw_inv_det_layer_release(&bk.det);
	}
}

/* Role chain, external id, session and duration, after the walk. */
static void check_roles(struct cw_inv_ctx *c, const struct dflt *d, struct acct *x)
{
	char p[CW_INV_PATHLEN], acct[13];
	const char *part;

	cw_inv_path(p, sizeof(p), x->path, "role_arn");
	if (x->a.nroles > 0 && x->id_ok) {
		const char *last = x->a.roles[x->a.nroles - 1];
		const struct cw_yt_node *at = x->roles_at->kind == CW_YT_SEQ ?
					      x->roles_at->items[x->a.nroles - 1] : x->roles_at;

		if (cw_role_arn_account(last, acct) == 0 && strcmp(acct, x->a.id) != 0)
			cw_inv_diag(c, at, p, "%s is in account %s, but this account's id is %s "
				    "(%s must be in the account being swept)",
				    x->a.nroles > 1 ? "the last role of the chain" : "the role",
				    acct, x->a.id, x->a.nroles > 1 ? "a chain's last role" :
								     "the role to assume");
	}
	if (x->a.nroles > 0) {
		part = arn_partition(x->a.roles[0]);
		for (size_t i = 1; i < x->a.nroles; i++)
			if (strcmp(arn_partition(x->a.roles[i]), part) != 0)
				cw_inv_diag(c, x->roles_at->items[i], p, "a role chain cannot "
					    "cross partitions (%s, then %s)", part,
					    arn_partition(x->a.roles[i]));
		for (size_t i = 0; i < x->a.nregions; i++) {
			const char *rp = region_partition(x->a.regions[i]);
			char pr[CW_INV_PATHLEN], pri[CW_INV_PATHLEN];

			if (strcmp(rp, part) == 0)
				continue;
			cw_inv_path(pr, sizeof(pr), x->path, "regions");
			cw_inv_diag(c, x->regions_at ? x->regions_at->items[i] : x->roles_at,
				    x->regions_at ? cw_inv_index(pri, sizeof(pri), pr, i) : p,
				    "region %s is in partition %s, but the role is in %s",
				    x->a.regions[i], rp, part);
		}
	}
	if (x->a.external_id && x->a.nroles == 0 &&
	    (!x->roles_at || cw_yt_is_null(x->roles_at))) /* a bad role_arn: reported already */
		cw_inv_diag(c, x->ext_at, cw_inv_path(p, sizeof(p), x->path, "external_id"),
			    "an external id needs role_arn (it is sent with AssumeRole)");
	if (!x->a.external_id && d->external_id && x->a.nroles > 0) {
		x->a.external_id = cw_strdup(d->external_id);
		if (!x->a.external_id)
			c->oom = true;
	}
	if (!x->a.session_name && d->session_name) {
		x->a.session_name = cw_strdup(d->session_name);
		if (!x->a.session_name)
			c->oom = true;
	}
	x->a.duration_seconds = x->duration ? x->duration : d->duration ? d->duration : 3600;
	if (x->a.nroles > 1 && x->a.duration_seconds > 3600) {
		if (x->dur_at)
			cw_inv_diag(c, x->dur_at,
				    cw_inv_path(p, sizeof(p), x->path, "duration_seconds"),
				    "%d is more than 3600, the most AWS allows for a role chain",
				    x->a.duration_seconds);
		else
			cw_inv_diag(c, x->roles_at, p, "a role chain allows at most 3600 "
				    "duration_seconds, but defaults.duration_seconds is %d",
				    x->a.duration_seconds);
	}
}

/*
 * defaults.role_name for an account without role_arn: arn:PARTITION:iam::ID:
 * role/PATH/NAME, the partition that of the account's first region.  The
 * template's node stands for role_arn in later problems.
 */
static bool apply_role_name(struct cw_inv_ctx *c, const struct dflt *d, struct acct *x)
{
	const char *part = x->a.nregions ? region_partition(x->a.regions[0]) : "aws";
	size_t n = strlen(part) + strlen(d->role_name) + 32;
	char *arn = malloc(n);

	x->a.roles = calloc(1, sizeof(*x->a.roles));
	if (!arn || !x->a.roles) {
		free(arn);
		c->oom = true;
		return false;
	}
	snprintf(arn, n, "arn:%s:iam::%s:role/%s", part, x->a.id, d->role_name);
	x->a.roles[0] = arn;
	x->a.nroles = 1;
	x->roles_at = d->role_name_at;
	return true;
}

static void parse_account(struct cw_inv_ctx *c, struct accts *s, const struct cw_yt_node *v,
			  size_t idx)
{
	const struct dflt *d = s->d;
	struct cw_inventory *inv = s->inv;
	const struct cw_inv_det_layer *layers[2] = { &d->det, NULL };
	struct cw_inv_det_opts o;
	struct acct x;
	char p[CW_INV_PATHLEN];

	memset(&x, 0, sizeof(x));
	x.enabled = true;
	x.node = v;
	cw_inv_index(x.path, sizeof(x.path), "accounts", idx);
	if (!cw_inv_walk(c, v, x.path, account_keys, &x))
		return;
	if (cw_yt_is_null(v)) /* walk took it for an empty map and said id is missing */
		return;
	layers[1] = &x.det;
	if (x.id_ok && !cw_inv_seen_push(c, &s->ids, NULL, x.id_at->str, x.id_at,
					  cw_inv_path(p, sizeof(p), x.path, "id")))
		goto done;
	if (x.id_ok && !x.a.name) {
		x.a.name = cw_strdup(x.a.id);
		if (!x.a.name)
			c->oom = true;
	}
	if (x.a.name && !cw_inv_seen_push(c, &s->names, NULL,
					  x.name_at ? x.name_at->str : x.id_at->str,
					  x.name_at ? x.name_at : x.id_at,
					  cw_inv_path(p, sizeof(p), x.path, "name")))
		goto done;
	if (!x.a.regions && !x.regions_at) {
		if (inv->nregions == 0 && !d->regions_at) {
			cw_inv_diag(c, v, x.path, "no regions: give regions here or in "
				    "defaults.regions");
		} else if (inv->nregions > 0) {
			x.a.regions = calloc(inv->nregions, sizeof(*x.a.regions));
			if (!x.a.regions) {
				c->oom = true;
				goto done;
			}
			for (size_t i = 0; i < inv->nregions; i++) {
				x.a.regions[i] = cw_strdup(inv->regions[i]);
				if (!x.a.regions[i])
					c->oom = true;
			}
			x.a.nregions = inv->nregions;
		}
	}
	if (!x.roles_at && d->role_name && x.id_ok && !apply_role_name(c, d, &x))
		goto done;
	check_roles(c, d, &x);
	memset(&o, 0, sizeof(o));
	o.period = inv->period;
	o.lookback_days = inv->lookback_days;
	o.owner = x.det.present ? x.det_at : d->det_at;
	o.owner_path = x.det.present ? cw_inv_path(p, sizeof(p), x.path, "detectors")
				     : "defaults.detectors";
	if (!o.owner) { /* neither set anything: the built-in set is never empty */
		o.owner = v;
		o.owner_path = x.path;
	}
	cw_inv_det_build(c, &x.a.detectors, layers, 2, &o);
	parse_buckets(c, s, &x);
	x.a.line = v->line;
	x.a.col = v->col;
	x.a.from_org = v->line == 0; /* only entries made from Organizations' list have no line */
	if (x.enabled) {
		inv->accounts[inv->naccounts++] = x.a;
		memset(&x.a, 0, sizeof(x.a));
	} else {
		inv->naccounts_disabled++;
	}
done:
	account_release(&x.a);
	cw_inv_det_layer_release(&x.det);
}

static void parse_accounts(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			   const struct dflt *d)
{
	struct cw_inventory *inv = d->inv;
	struct accts s;

	if (!v)
		return; /* every account comes from Organizations, or reported missing */
	if (!cw_inv_list(c, v, "accounts", "[{id: \"123456789012\", role_arn: ..., "
			 "buckets: [...]}]"))
		return;
	if (v->n == 0 && (inv->org || d->resolving))
		return;
	if (v->n == 0) {
		cw_inv_diag(c, v, "accounts", "the list is empty: give at least one account");
		return;
	}
	memset(&s, 0, sizeof(s));
	s.inv = inv;
	s.d = d;
	inv->accounts = calloc(v->n, sizeof(*inv->accounts));
	if (!inv->accounts) {
		c->oom = true;
		return;
	}
	for (size_t i = 0; i < v->n && !c->oom; i++)
		parse_account(c, &s, v->items[i], i);
	cw_inv_report_dups(c, &s.ids, "account id");
	cw_inv_report_dups(c, &s.names, "account name");
	cw_inv_report_dups(c, &s.buckets, "bucket");
}

/* ---- billing: ------------------------------------------------------------ */

struct bill {
	struct acct x;  /* first: the account callbacks take it */
	char **services; size_t nservices;
	bool services_set, linked_all;
};

/* An AWS/Billing ServiceName: letters and digits, as AWS spells them. */
static const char *check_service(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				       "0123456789") != n)
		return "not an AWS/Billing ServiceName (letters and digits, e.g. AmazonS3, "
		       "AWSDataTransfer)";
	return NULL;
}

static void bl_services(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
			void *obj)
{
	struct bill *b = obj;

	if (!cw_inv_str_list(c, v, path, check_service, "[AmazonS3, AWSDataTransfer]",
			     &b->services, &b->nservices))
		return;
	if (b->nservices == 0) {
		cw_inv_diag(c, v, path, "must not be an empty list");
		return;
	}
	for (size_t i = 0; i < b->nservices; i++)
		for (size_t k = 0; k < i; k++)
			if (strcmp(b->services[i], b->services[k]) == 0) {
				cw_inv_diag(c, v->items[i], path, "%s is listed twice",
					    b->services[i]);
				return;
			}
	b->services_set = true;
}

static void bl_linked(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		      void *obj)
{
	struct bill *b = obj;

	if (!cw_inv_scalar(c, v, path))
		return;
	if (strcmp(v->str, "all") == 0)
		b->linked_all = true;
	else if (strcmp(v->str, "inventory") != 0)
		cw_inv_diag(c, v, path, "want inventory (the accounts of this inventory) or all "
			    "(every linked account), got %.40s", v->str);
}

static const struct cw_inv_key billing_keys[] = {
	{ "account", a_id, true },
	{ "role_arn", a_role, false },
	{ "external_id", a_external, false },
	{ "session_name", a_session, false },
	{ "duration_seconds", a_duration, false },
	{ "services", bl_services, false },
	{ "linked_accounts", bl_linked, false },
	{ "detectors", a_detectors, false },
	{ NULL, NULL, false },
};

static void parse_billing(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			  const struct dflt *d)
{
	static const char *const default_services[] = { "AmazonS3", "AWSDataTransfer" };
	struct cw_inventory *inv = d->inv;
	const struct cw_inv_det_layer *layers[2] = { &d->det, NULL };
	struct cw_inv_det_opts o;
	struct bill b;
	char p[CW_INV_PATHLEN];
	size_t before = cw_inv_ndiags(c);

	memset(&b, 0, sizeof(b));
	b.x.node = v;
	cw_strlcpy(b.x.path, "billing", sizeof(b.x.path));
	if (!cw_inv_walk(c, v, "billing", billing_keys, &b) || cw_yt_is_null(v))
		goto done;
	layers[1] = &b.x.det;
	/* the payer's name: the inventory's, when it lists the payer too */
	for (size_t i = 0; b.x.id_ok && i < inv->naccounts && !b.x.a.name; i++)
		if (strcmp(inv->accounts[i].id, b.x.a.id) == 0 && inv->accounts[i].name)
			b.x.a.name = cw_strdup(inv->accounts[i].name);
	if (b.x.id_ok && !b.x.a.name)
		b.x.a.name = cw_strdup(b.x.a.id);
	/* AWS/Billing lives in us-east-1 only */
	b.x.a.regions = calloc(1, sizeof(*b.x.a.regions));
	if (b.x.a.regions)
		b.x.a.regions[0] = cw_strdup("us-east-1");
	if ((b.x.id_ok && !b.x.a.name) || !b.x.a.regions || !b.x.a.regions[0]) {
		c->oom = true;
		goto done;
	}
	b.x.a.nregions = 1;
	check_roles(c, d, &b.x);
	memset(&o, 0, sizeof(o));
	o.period = 86400; /* billing series are daily, whatever defaults.period says */
	o.lookback_days = inv->lookback_days;
	o.owner = b.x.det.present ? b.x.det_at : d->det_at;
	o.owner_path = b.x.det.present ? cw_inv_path(p, sizeof(p), "billing", "detectors")
				       : "defaults.detectors";
	if (!o.owner) {
		o.owner = v;
		o.owner_path = "billing";
	}
	cw_inv_det_build(c, &b.x.a.detectors, layers, 2, &o);
	if (!b.services_set) {
		b.services = calloc(2, sizeof(*b.services));
		if (!b.services) {
			c->oom = true;
			goto done;
		}
		for (size_t i = 0; i < 2; i++)
			if (!(b.services[b.nservices++] = cw_strdup(default_services[i])))
				c->oom = true;
	}
	if (cw_inv_ndiags(c) > before || c->oom)
		goto done;
	b.x.a.line = v->line;
	b.x.a.col = v->col;
	inv->billing.enabled = true;
	inv->billing.payer = b.x.a;
	memset(&b.x.a, 0, sizeof(b.x.a));
	inv->billing.services = b.services;
	inv->billing.nservices = b.nservices;
	b.services = NULL;
	b.nservices = 0;
	inv->billing.linked_all = b.linked_all;
done:
	account_release(&b.x.a);
	cw_inv_det_layer_release(&b.x.det);
	cw_inv_free_strv(b.services, b.nservices);
}

/* ---- organization: -------------------------------------------------------- */

struct orgx {
	struct cw_org_settings *o;
	const struct cw_yt_node *role_at, *ext_at;
	bool id_ok;
};

static void o_mgmt(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		   void *obj)
{
	struct orgx *x = obj;
	const char *why;

	if (!cw_inv_scalar(c, v, path))
		return;
	if (v->plain && v->len > 0 && strspn(v->str, "0123456789") == v->len) {
		cw_inv_diag(c, v, path, "write the account id in quotes (management_account: "
			    "\"%.12s\")", v->str);
		return;
	}
	why = cw_check_account_id(v->str);
	if (why) {
		cw_inv_diag(c, v, path, "%s", why);
		return;
	}
	memcpy(x->o->management_account, v->str, 13);
	x->id_ok = true;
}

static void o_role(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		   void *obj)
{
	struct orgx *x = obj;

	if (checked_str(c, v, path, cw_check_role_arn, &x->o->role_arn))
		x->role_at = v;
}

static void o_external(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		       void *obj)
{
	struct orgx *x = obj;

	if (checked_str(c, v, path, cw_check_external_id, &x->o->external_id))
		x->ext_at = v;
}

static void o_include(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		      void *obj)
{
	struct cw_org_settings *o = ((struct orgx *)obj)->o;

	cw_inv_str_list(c, v, path, cw_check_ou_id, "[ou-ab12-cd345678, r-ab12]",
			&o->include_ous, &o->ninclude);
}

static void o_exclude(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		      void *obj)
{
	struct cw_org_settings *o = ((struct orgx *)obj)->o;

	cw_inv_str_list(c, v, path, cw_check_ou_id, "[ou-ab12-cd345678]", &o->exclude_ous,
			&o->nexclude);
}

static const char *check_quoted_id(const char *s)
{
	return cw_check_account_id(s);
}

static void o_exclude_accounts(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			       const char *path, void *obj)
{
	struct cw_org_settings *o = ((struct orgx *)obj)->o;
	char p[CW_INV_PATHLEN];

	for (size_t i = 0; v->kind == CW_YT_SEQ && i < v->n; i++)
		if (v->items[i]->kind == CW_YT_SCALAR && v->items[i]->plain &&
		    v->items[i]->len && strspn(v->items[i]->str, "0123456789") == v->items[i]->len) {
			cw_inv_diag(c, v->items[i], cw_inv_index(p, sizeof(p), path, i),
				    "write the account id in quotes (\"%.12s\")", v->items[i]->str);
			return;
		}
	cw_inv_str_list(c, v, path, check_quoted_id, "[\"123456789012\"]",
			&o->exclude_accounts, &o->nexclude_accounts);
}

static void o_suspended(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
			void *obj)
{
	cw_inv_bool(c, v, path, &((struct orgx *)obj)->o->include_suspended);
}

static const struct cw_inv_key org_keys[] = {
	{ "management_account", o_mgmt, true },
	{ "role_arn", o_role, false },
	{ "external_id", o_external, false },
	{ "include_ous", o_include, false },
	{ "exclude_ous", o_exclude, false },
	{ "exclude_accounts", o_exclude_accounts, false },
	{ "include_suspended", o_suspended, false },
	{ NULL, NULL, false },
};

static void parse_org(struct cw_inv_ctx *c, const struct cw_yt_node *v, const struct dflt *d,
		      const char *text, size_t len)
{
	struct cw_inventory *inv = d->inv;
	struct orgx x;
	char acct[13];
	bool per_bucket = false;

	memset(&x, 0, sizeof(x));
	x.o = calloc(1, sizeof(*x.o));
	if (!x.o) {
		c->oom = true;
		return;
	}
	inv->org = x.o;
	x.o->line = v->line;
	x.o->col = v->col;
	if (!cw_inv_walk(c, v, "organization", org_keys, &x))
		return;
	if (x.id_ok && x.o->role_arn && cw_role_arn_account(x.o->role_arn, acct) == 0 &&
	    strcmp(acct, x.o->management_account) != 0)
		cw_inv_diag(c, x.role_at, "organization.role_arn", "the role is in account %s, "
			    "but management_account is %s", acct, x.o->management_account);
	if (x.o->external_id && !x.o->role_arn)
		cw_inv_diag(c, x.ext_at, "organization.external_id", "an external id needs "
			    "role_arn (it is sent with AssumeRole)");
	if (!d->role_name)
		cw_inv_diag(c, v, "organization", "accounts from Organizations need "
			    "defaults.role_name (the role to assume in each, e.g. cwsweep-reader)");
	for (size_t i = 0; i < inv->nmetrics; i++)
		per_bucket = per_bucket || inv->metrics[i].per_bucket;
	if (per_bucket && !d->buckets_at)
		cw_inv_diag(c, v, "organization", "accounts from Organizations need "
			    "defaults.buckets (a list of bucket names, or auto)");
	x.o->text = malloc(len + 1);
	if (!x.o->text) {
		c->oom = true;
		return;
	}
	memcpy(x.o->text, text, len);
	x.o->text[len] = '\0';
	x.o->text_len = len;
}

/* Put Organizations' members into the document's accounts list (see
 * cw_inventory_parse_members). */
static int add_members(struct cw_yt_node *root, const struct cw_org_member *m, size_t n)
{
	struct cw_yt_node *accts = (struct cw_yt_node *)cw_yt_get(root, "accounts");
	int rc;

	if (!accts) {
		accts = cw_yt_new(CW_YT_SEQ);
		rc = cw_yt_map_add(root, cw_yt_new_scalar("accounts"), accts);
		if (rc)
			return rc;
	}
	if (accts->kind != CW_YT_SEQ)
		return 0; /* reported by the parse */
	for (size_t i = 0; i < n; i++) {
		struct cw_yt_node *entry = NULL, *it;

		for (size_t k = 0; k < accts->n && !entry; k++) {
			const struct cw_yt_node *id;

			it = accts->items[k];
			id = cw_yt_get(it, "id");
			if (id && id->kind == CW_YT_SCALAR && strcmp(id->str, m[i].id) == 0)
				entry = it;
		}
		if (entry) {
			if (!cw_yt_get(entry, "name") &&
			    (rc = cw_yt_map_add(entry, cw_yt_new_scalar("name"),
						cw_yt_new_scalar(m[i].name))))
				return rc;
			continue;
		}
		entry = cw_yt_new(CW_YT_MAP);
		if (!entry)
			return CW_ENOMEM;
		if ((rc = cw_yt_map_add(entry, cw_yt_new_scalar("id"), cw_yt_new_scalar(m[i].id))) ||
		    (rc = cw_yt_map_add(entry, cw_yt_new_scalar("name"),
					cw_yt_new_scalar(m[i].name)))) {
			cw_yt_free(entry);
			return rc;
		}
		if ((rc = cw_yt_seq_add(accts, entry)))
			return rc;
	}
	return 0;
}

/* ---- the document -------------------------------------------------------- */

/* Top-level keys: known here; each section is read in a fixed order below
 * (defaults before accounts), whatever the order in the file. */
static const struct cw_inv_key top_keys[] = {
	{ "version", NULL, false },
	{ "defaults", NULL, false },
	{ "accounts", NULL, false },
	{ "organization", NULL, false },
	{ "reporting", NULL, false },
	{ "aws", NULL, false },
	{ "prices", NULL, false },
	{ "exclusions", NULL, false },
	{ "billing", NULL, false },
	{ NULL, NULL, false },
};

static void parse_version(struct cw_inv_ctx *c, const struct cw_yt_node *v)
{
	long long x;

	if (!v || !cw_inv_int(c, v, "version", LLONG_MIN, LLONG_MAX, &x))
		return;
	if (x != 1)
		cw_inv_diag(c, v, "version", "unsupported inventory version %lld (this cwsweep "
			    "reads version 1)", x);
}

/* Stable sort of this parse's problems by position (insertion sort: few). */
static void sort_diags(struct cw_diags *d, size_t from)
{
	for (size_t i = from + 1; i < d->n; i++) {
		struct cw_diag t = d->v[i];
		size_t j = i;

		while (j > from && (d->v[j - 1].line > t.line ||
				    (d->v[j - 1].line == t.line && d->v[j - 1].col > t.col))) {
			d->v[j] = d->v[j - 1];
			j--;
		}
		d->v[j] = t;
	}
}

static int parse_doc(const char *name, const char *text, size_t len,
		     const struct cw_org_member *members, size_t nmembers, bool resolve,
		     struct cw_inventory *inv, struct cw_diags *diags)
{
	struct cw_inv_ctx c;
	struct cw_yt_node *root = NULL;
	struct dflt d;
	int rc;

	memset(&c, 0, sizeof(c));
	memset(&d, 0, sizeof(d));
	c.file = name;
	c.diags = diags;
	c.first_diag = diags->n;
	rc = init_defaults(inv);
	if (rc == 0) {
		inv->path = cw_strdup(name);
		if (!inv->path)
			rc = CW_ENOMEM;
	}
	if (rc)
		goto out;
	rc = cw_yt_parse(&root, name, text, len, diags);
	if (rc == CW_ENOMEM)
		goto out;
	if (rc) {
		if (cw_inv_ndiags(&c) == 0)
			cw_inv_diag(&c, NULL, NULL, "not a valid YAML document");
		rc = CW_EINVAL;
		goto out;
	}
	if (!root || cw_yt_is_null(root)) {
		cw_inv_diag(&c, NULL, NULL, "empty inventory: no YAML document (see "
			    "accounts.yaml.example for one to start from)");
		rc = CW_EINVAL;
		goto out;
	}
	if (root->kind != CW_YT_MAP) {
		cw_inv_diag(&c, root, NULL, "the top level must be a map (version, defaults, "
			    "accounts, reporting, aws, prices, billing, exclusions), got %s",
			    cw_yt_what(root));
		rc = CW_EINVAL;
		goto out;
	}
	if (resolve) {
		rc = add_members(root, members, nmembers);
		if (rc)
			goto out;
	}
	d.inv = inv;
	d.resolving = resolve;
	cw_inv_walk(&c, root, "", top_keys, NULL);
	parse_version(&c, cw_yt_get(root, "version"));
	parse_defaults(&c, cw_yt_get(root, "defaults"), &d);
	if (cw_yt_get(root, "reporting"))
		cw_inv_reporting_parse(&c, cw_yt_get(root, "reporting"), "reporting",
				       &inv->reporting);
	if (cw_yt_get(root, "aws"))
		cw_inv_aws_parse(&c, cw_yt_get(root, "aws"), "aws", &inv->aws);
	if (cw_yt_get(root, "prices"))
		cw_inv_prices_parse(&c, cw_yt_get(root, "prices"), "prices", inv);
	cw_inv_exclusions_parse(&c, cw_yt_get(root, "exclusions"), "exclusions", inv);
	if (cw_yt_get(root, "organization") && !resolve)
		parse_org(&c, cw_yt_get(root, "organization"), &d, text, len);
	if (!cw_yt_get(root, "accounts") && !inv->org && !resolve)
		cw_inv_diag(&c, root, NULL, "missing required key accounts (or an organization "
			    "section to list them)");
	parse_accounts(&c, cw_yt_get(root, "accounts"), &d);
	if (cw_yt_get(root, "billing"))
		parse_billing(&c, cw_yt_get(root, "billing"), &d);
	rc = c.oom ? CW_ENOMEM : cw_inv_ndiags(&c) ? CW_EINVAL : 0;
out:
	cw_inv_det_layer_release(&d.det);
	free(d.session_name);
	free(d.external_id);
	free(d.role_name);
	cw_yt_free(root);
	if (rc) {
		if (rc == CW_ENOMEM)
			cw_diags_add(diags, name, 0, 0, "out of memory while reading the inventory");
		sort_diags(diags, c.first_diag);
		cw_inventory_release(inv);
	}
	return rc;
}

int cw_inventory_parse(const char *name, const char *text, size_t len,
		       struct cw_inventory *inv, struct cw_diags *diags)
{
	return parse_doc(name, text, len, NULL, 0, false, inv, diags);
}

int cw_inventory_parse_members(const char *name, const char *text, size_t len,
			       const struct cw_org_member *m, size_t n,
			       struct cw_inventory *inv, struct cw_diags *diags)
{
	return parse_doc(name, text, len, m, n, true, inv, diags);
}

int cw_inventory_load(const char *path, struct cw_inventory *inv, struct cw_diags *diags)
{
	char err[CW_ERRBUF];
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int rc;

	memset(inv, 0, sizeof(*inv));
	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			cw_diags_add(diags, path, 0, 0, "no such file (start from "
				     "accounts.yaml.example, or give one with -i FILE)");
		else
			cw_diags_add(diags, path, 0, 0, "cannot read: %s", strerror(errno));
		return CW_EIO;
	}
	if (S_ISDIR(st.st_mode)) {
		cw_diags_add(diags, path, 0, 0, "is a directory, not an inventory file");
		return CW_EIO;
	}
	if (!S_ISREG(st.st_mode)) {
		cw_diags_add(diags, path, 0, 0, "not a regular file");
		return CW_EIO;
	}
	if ((unsigned long long)st.st_size > CW_INV_MAX_BYTES) {
		cw_diags_add(diags, path, 0, 0, "file is %lld bytes; inventories larger than "
			     "16 MiB are refused", (long long)st.st_size);
		return CW_EINVAL;
	}
	rc = cw_read_file(path, CW_INV_MAX_BYTES, &text, &len, err, sizeof(err));
	if (rc == CW_ETOOBIG) {
		cw_diags_add(diags, path, 0, 0, "inventories larger than 16 MiB are refused");
		return CW_EINVAL;
	}
	if (rc) {
		cw_diags_add(diags, path, 0, 0, "cannot read: %s", err);
		return CW_EIO;
	}
	rc = cw_inventory_parse(path, text, len, inv, diags);
	free(text);
	return rc;
}

int cw_inventory_defaults(struct cw_inventory *inv)
{
	static const struct cw_inv_det_layer none;
	const struct cw_inv_det_layer *layers[1] = { &none };
	struct cw_diags diags = { NULL, 0, 0 };
	struct cw_inv_ctx c;
	struct cw_inv_det_opts o;
	int rc;

	rc = init_defaults(inv);
	if (rc)
		goto fail;
	memset(&c, 0, sizeof(c));
	c.file = "(built-in defaults)";
	c.diags = &diags;
	memset(&o, 0, sizeof(o));
	o.period = inv->period;
	o.lookback_days = inv->lookback_days;
	cw_inv_det_build(&c, &inv->detectors, layers, 1, &o);
	rc = c.oom ? CW_ENOMEM : diags.n ? CW_EINVAL : 0;
	cw_diags_release(&diags);
	if (rc == 0)
		return 0;
fail:
	cw_inventory_release(inv);
	return rc;
}

const struct cw_price_table *cw_inventory_prices(const struct cw_inventory *inv,
						 const char *region)
{
	if (inv->nprices == 0)
		return NULL;
	for (size_t i = 1; region && i < inv->nprices; i++)
		if (inv->prices[i].region && strcmp(inv->prices[i].region, region) == 0)
			return &inv->prices[i];
	return &inv->prices[0];
}

static void count_dets(const struct cw_det_set *set, const struct cw_detector_ops **seen,
		       size_t *n, size_t cap)
{
	for (size_t i = 0; i < set->n; i++) {
		bool found = false;

		for (size_t j = 0; j < *n && !found; j++)
			found = seen[j] == set->v[i].ops;
		if (!found && *n < cap)
			seen[(*n)++] = set->v[i].ops;
	}
}

void cw_inventory_summarize(const struct cw_inventory *inv, struct cw_inventory_summary *s)
{
	const struct cw_detector_ops *dets[64];
	const char **regions = NULL;
	size_t nregions = 0, cap = 0, ndets = 0, per_bucket = 0;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < inv->nmetrics; i++)
		per_bucket += inv->metrics[i].per_bucket;
	s->accounts = inv->naccounts;
	s->disabled = inv->naccounts_disabled;
	s->metrics = inv->nmetrics;
	count_dets(&inv->detectors, dets, &ndets, 64);
	for (size_t i = 0; i < inv->naccounts; i++) {
		const struct cw_account_def *a = &inv->accounts[i];

		s->buckets += a->nbuckets;
		s->auto_accounts += a->buckets_auto;
		/* a listed bucket lives in one region: one target per bucket metric;
		 * metrics without {bucket} are one target per region */
		s->targets += per_bucket * a->nbuckets +
			      (inv->nmetrics - per_bucket) * a->nregions;
		count_dets(&a->detectors, dets, &ndets, 64);
		for (size_t b = 0; b < a->nbuckets; b++)
			count_dets(&a->buckets[b].detectors, dets, &ndets, 64);
		for (size_t r = 0; r < a->nregions; r++) {
			bool found = false;

			for (size_t k = 0; k < nregions && !found; k++)
				found = strcmp(regions[k], a->regions[r]) == 0;
			if (found)
				continue;
			if (nregions == cap) {
				size_t nc = cap ? cap * 2 : 16;
				const char **nv = realloc(regions, nc * sizeof(*nv));

				if (!nv)
					break; /* a count short by a few is all that can go wrong */
				regions = nv;
				cap = nc;
			}
			regions[nregions++] = a->regions[r];
		}
	}
	free(regions);
	s->regions = nregions;
	s->detectors = ndets;
}
