/*
 * invexcl.c - the inventory's `exclusions:` (maintenance windows, migrations,
 * a known launch): time ranges, optionally narrowed to one account and a
 * bucket glob, with a reason.  Periods inside one are not judged as
 * anomalies and do not feed any baseline (see cw_run_exclude).
 *
 *   exclusions:
 *     - from: 2026-11-20T00:00:00Z    # required, ISO 8601 (UTC unless a zone)
 *       to: 2026-11-23T00:00:00Z      # required, after from; [from, to)
 *       account: "111111111111"        # optional: every account when absent
 *       bucket: "media-*"             # optional fnmatch(3) glob: every bucket
 *       reason: CDN migration         # required, shown in the reports
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "invpriv.h"
#include "strutil.h"
#include "timeutil.h"
#include "validate.h"

static void x_time(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		   int64_t *out)
{
	if (!cw_inv_scalar(c, v, path))
		return;
	if (cw_time_parse(v->str, out) != 0)
		cw_inv_diag(c, v, path, "not a time: \"%.60s\" (write e.g. 2026-11-20T00:00:00Z)",
			    v->str);
}

static void x_from(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		   void *obj)
{
	x_time(c, v, path, &((struct cw_exclusion *)obj)->from);
}

static void x_to(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		 void *obj)
{
	x_time(c, v, path, &((struct cw_exclusion *)obj)->to);
}

static void x_account(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		      void *obj)
{
	struct cw_exclusion *x = obj;
	const char *why;

	if (!cw_inv_str(c, v, path, &x->account))
		return;
	if ((why = cw_check_account_id(x->account)) != NULL)
		cw_inv_diag(c, v, path, "%s", why);
}

static void x_bucket(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		     void *obj)
{
	cw_inv_str(c, v, path, &((struct cw_exclusion *)obj)->bucket);
}

static void x_reason(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		     void *obj)
{
	cw_inv_str(c, v, path, &((struct cw_exclusion *)obj)->reason);
}

static const struct cw_inv_key excl_keys[] = {
	{ "from", x_from, true },
	{ "to", x_to, true },
	{ "account", x_account, false },
	{ "bucket", x_bucket, false },
	{ "reason", x_reason, true },
	{ NULL, NULL, false },
};

static void excl_release(struct cw_exclusion *x)
{
	free(x->account);
	free(x->bucket);
	free(x->reason);
	memset(x, 0, sizeof(*x));
}

void cw_inv_exclusions_parse(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			     const char *path, struct cw_inventory *inv)
{
	if (!v || !cw_inv_list(c, v, path, "[{from: 2026-11-20T00:00:00Z, "
			       "to: 2026-11-23T00:00:00Z, reason: migration}]"))
		return;
	inv->exclusions = calloc(v->n ? v->n : 1, sizeof(*inv->exclusions));
	if (!inv->exclusions) {
		c->oom = true;
		return;
	}
	for (size_t i = 0; i < v->n; i++) {
		struct cw_exclusion x;
		char p[CW_INV_PATHLEN];
		size_t before = cw_inv_ndiags(c);

		memset(&x, 0, sizeof(x));
		x.from = x.to = INT64_MIN;
		cw_inv_index(p, sizeof(p), path, i);
		cw_inv_walk(c, v->items[i], p, excl_keys, &x);
		if (cw_inv_ndiags(c) == before && x.to <= x.from) {
			char pt[CW_INV_PATHLEN];
			cw_inv_diag(c, cw_yt_get(v->items[i], "to"),
				    cw_inv_path(pt, sizeof(pt), p, "to"), "must be after from");
		}
		if (cw_inv_ndiags(c) != before) {
			excl_release(&x);
			continue;
		}
		inv->exclusions[inv->nexclusions++] = x;
	}
}

void cw_inv_exclusions_release(struct cw_inventory *inv)
{
	for (size_t i = 0; i < inv->nexclusions; i++)
		excl_release(&inv->exclusions[i]);
	free(inv->exclusions);
	inv->exclusions = NULL;
	inv->nexclusions = 0;
}

bool cw_exclusion_matches(const struct cw_exclusion *x, const char *account_id,
			  const char *bucket)
{
	if (x->account && (!account_id || strcmp(x->account, account_id) != 0))
		return false;
	if (x->bucket && (!bucket || fnmatch(x->bucket, bucket, 0) != 0))
		return false;
	return true;
}
