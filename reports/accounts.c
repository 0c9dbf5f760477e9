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

static bool bytes_series(const struct cw_run_series *rs)
{
	const struct cw_series *s = &rs->series;

	return rs->id.unit && strcmp(rs->id.unit, "Bytes") == 0 && s->period > 0 &&
	       s->period <= DAY && DAY % s->period == 0;
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

/* The daily totals of account k: a slot per day from the earliest series
 * start to the latest complete end. */
static int daily(const struct cw_run *run, struct cw_acct_total *a)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN;

	for (size_t i = 0; i < run->nseries; i++) {
		const struct cw_run_series *rs = &run->series[i];
		size_t k;

		if (!bytes_series(rs) || strcmp0(rs->id.account_id, a->account_id) != 0 ||
		    (!a->account_id[0] && strcmp0(rs->id.account_name, a->account_name) != 0))
			continue;
		k = cw_series_complete(&rs->series);
		if (k == 0)
			continue;
		if (rs->series.start < lo)
			lo = rs->series.start;
		if (cw_series_time(&rs->series, k) > hi)
			hi = cw_series_time(&rs->series, k);
	}
	if (lo >= hi)
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
	for (size_t d = 0; d < a->ndaily; d++)
		a->daily[d] = NAN;
	for (size_t i = 0; i < run->nseries; i++) {
		const struct cw_run_series *rs = &run->series[i];
		size_t k;

		if (!bytes_series(rs) || strcmp0(rs->id.account_id, a->account_id) != 0 ||
		    (!a->account_id[0] && strcmp0(rs->id.account_name, a->account_name) != 0))
			continue;
		k = cw_series_complete(&rs->series);
		for (size_t j = 0; j < k; j++) {
			int64_t t = cw_series_time(&rs->series, j);
			size_t d;

			if (t < lo)
				continue;
			d = (size_t)((t - lo) / DAY);
			if (d < a->ndaily)
				add(&a->daily[d], rs->series.values[j]);
		}
	}
	return 0;
}

int cw_acct_totals_build(const struct cw_run *run, const struct cw_findings *fs,
			 struct cw_acct_totals *out)
{
	size_t cap = run->nseries + (fs ? fs->n : 0) + 1;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->v = calloc(cap, sizeof(*out->v));
	if (!out->v)
		return CW_ENOMEM;
	for (size_t i = 0; i < run->nseries; i++) {
		const struct cw_run_series *rs = &run->series[i];
		struct cw_acct_total *a = &out->v[find_or_add(out, &rs->id)];
		const struct cw_series *s = &rs->series;
		size_t k = cw_series_complete(s), w;

		a->series++;
		if (!bytes_series(rs))
			continue;
		a->byte_series++;
		for (size_t j = 0; j < k; j++)
			add(&a->lookback, s->values[j]);
		w = (size_t)(7 * DAY / s->period);
		for (size_t j = k > w ? k - w : 0; j < k; j++)
			add(&a->week, s->values[j]);
		for (size_t j = k > 2 * w ? k - 2 * w : 0; j + w < k && k >= w; j++)
			add(&a->prev, s->values[j]);
	}
	for (size_t i = 0; fs && i < fs->n; i++) {
		const struct cw_finding *f = &fs->v[i];
		struct cw_acct_total *a = &out->v[find_or_add(out, f->tid)];

		a->findings++;
		add(&a->usd, f->est_excess_usd);
	}
	for (size_t i = 0; i < out->n && !rc; i++) {
		if (out->v[i].lookback == 0 && out->v[i].byte_series == 0)
			out->v[i].lookback = NAN;
		rc = daily(run, &out->v[i]);
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
