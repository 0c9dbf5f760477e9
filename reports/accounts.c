/*
 * accounts.c - per-account totals (accounts.h).
 */
#include "accounts.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#define DAY 86400

static int strcmp0(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static size_t find_or_add(struct cw_acct_totals *t, const struct cw_target_id *id)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp0(t->v[i].account_id, id->account_id) == 0 &&
		    (id->account_id && id->account_id[0] ? 1
			: strcmp0(t->v[i].account_name, id->account_name) == 0))
			return i;
	memset(&t->v[i], 0, sizeof(t->v[i]));
	t->v[i].account_id = id->account_id ? id->account_id : "";
	t->v[i].account_name = id->account_name ? id->account_name : "";
	t->v[i].week = t->v[i].prev = t->v[i].usd = NAN;
	t->n++;
	return i;
}

static void add(double *acc, double v)
{
	if (isnan(v))
		return;
	*acc = isnan(*acc) ? v : *acc + v;
}

static int tot_cmp(const void *pa, const void *pb)
{
	const struct cw_acct_total *a = pa, *b = pb;
	double ua = isnan(a->usd) ? -1 : a->usd, ub = isnan(b->usd) ? -1 : b->usd;
	double wa = isnan(a->week) ? -1 : a->week, wb = isnan(b->week) ? -1 : b->week;
	int c;

	if (ua != ub)
		return ua > ub ? -1 : 1;
	if (wa != wb)
		return wa > wb ? -1 : 1;
	if ((c = strcmp0(a->account_name, b->account_name)))
		return c;
	return strcmp0(a->account_id, b->account_id);
}

/* The daily chart of an account: a slot per day from the earliest series
 * start to the latest complete end (at most 4000). */
static int daily(const struct cw_acct_sums *s, struct cw_acct_total *a)
{
	int64_t lo = s->lo, hi = s->hi;

	if (lo >= hi || s->ndaily == 0)
		return 0;
	lo -= ((lo % DAY) + DAY) % DAY;
	a->start = lo;
	a->period = DAY;
	a->ndaily = (size_t)((hi - lo + DAY - 1) / DAY);
	if (a->ndaily > 4000) /* more than ten years: not a chart */
		a->ndaily = 4000;
	a->daily = malloc(a->ndaily * sizeof(*a->daily));
	if (!a->daily)
		return CW_ENOMEM;
	for (size_t d = 0; d < a->ndaily; d++) {
		int64_t t = lo + (int64_t)d * DAY;
		size_t k = (size_t)((t - s->base) / DAY);

		a->daily[d] = t >= s->base && k < s->ndaily ? (double)s->daily[k] : NAN;
	}
	return 0;
}

int cw_acct_totals_build(const struct cw_run *run, const struct cw_findings *fs,
			 struct cw_acct_totals *out)
{
	size_t cap = run->naccts + (fs ? fs->n : 0) + 1;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->v = calloc(cap, sizeof(*out->v));
	if (!out->v)
		return CW_ENOMEM;
	/* the run added up each account as its series came */
	for (size_t i = 0; i < run->naccts && !rc; i++) {
		const struct cw_acct_sums *s = &run->accts[i];
		struct cw_acct_total *a = &out->v[out->n++];

		a->account_id = s->account_id;
		a->account_name = s->account_name;
		a->usd = NAN;
		a->series = s->series;
		a->byte_series = s->byte_series;
		a->lookback = s->lookback == 0 && s->byte_series == 0 ? NAN : (double)s->lookback;
		a->week = (double)s->week;
		a->prev = (double)s->prev;
		rc = daily(s, a);
	}
	for (size_t i = 0; fs && i < fs->n; i++) {
		const struct cw_finding *f = &fs->v[i];
		struct cw_acct_total *a = &out->v[find_or_add(out, f->tid)];

		a->findings++;
		add(&a->usd, f->est_excess_usd);
	}
	qsort(out->v, out->n, sizeof(*out->v), tot_cmp);
	return rc;
}

void cw_acct_totals_release(struct cw_acct_totals *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].daily);
	free(t->v);
	memset(t, 0, sizeof(*t));
}
