/*
 * cost.c - dollar estimates for S3 data-transfer-out anomalies (cost.h).
 *
 * Runs on the thread that owns the run, after judging and before the
 * reports; nothing here is shared with the workers.
 */
#include "cost.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "strutil.h"

#define GB 1e9
#define DAY 86400

bool cw_cost_priced(const struct cw_target_id *id)
{
	const char *sp;

	if (!id->metric || !strstr(id->metric, "BytesDownloaded"))
		return false;
	if (!id->unit || strcmp(id->unit, "Bytes") != 0)
		return false;
	/* "AWS/S3 BytesDownloaded Sum": an Average or p99 is not a volume */
	sp = strrchr(id->metric, ' ');
	return !sp || strcmp(sp + 1, "Sum") == 0;
}

double cw_price_month(const struct cw_price_table *t, double bytes)
{
	double billable, lo = 0, usd = 0;

	if (isnan(bytes))
		return NAN;
	billable = bytes - t->free_bytes;
	for (size_t i = 0; i < t->ntiers && billable > lo; i++) {
		double hi = t->tiers[i].upto_bytes;
		double in = (billable < hi ? billable : hi) - lo;

		usd += in / GB * t->tiers[i].usd_per_gb;
		lo = hi;
	}
	return usd;
}

double cw_price_excess(const struct cw_price_table *t, double month_bytes,
		       double excess_bytes)
{
	double below, usd;

	if (isnan(month_bytes) || isnan(excess_bytes))
		return NAN;
	if (excess_bytes <= 0)
		return 0;
	/* the month holds at least the excess itself */
	if (month_bytes < excess_bytes)
		month_bytes = excess_bytes;
	below = month_bytes - excess_bytes;
	usd = cw_price_month(t, month_bytes) - cw_price_month(t, below);
	return usd > 0 ? usd : 0;
}

/* month[i]: the monthly volume of series i's account (NaN: not priced),
 * from the sums taken as each series was added.  Pool strings: one account
 * id is one pointer, and accounts come in runs of series. */
static int account_months(const struct cw_run *run, double *month)
{
	/* long double: integral volumes add up exactly in any order (up to
	 * 2^64), so the figure does not depend on the order series came in */
	struct acct { const char *id; long double v; } *acct;
	size_t n = 0, last = 0;

	acct = malloc((run->naccts ? run->naccts : 1) * sizeof(*acct));
	if (!acct)
		return CW_ENOMEM;
	/* the series' months added up in series order, as before */
	for (size_t pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < run->nseries; i++) {
			const struct cw_run_series *rs = &run->series[i];
			size_t k = last;

			if (pass == 1)
				month[i] = NAN;
			if (!cw_cost_priced(&rs->id))
				continue;
			if (k >= n || acct[k].id != rs->id.account_id)
				for (k = 0; k < n && acct[k].id != rs->id.account_id; k++)
					;
			if (k == n) {
				acct[n].id = rs->id.account_id;
				acct[n++].v = 0;
			}
			last = k;
			if (pass == 0)
				acct[k].v += rs->sums.month;
			else
				month[i] = (double)acct[k].v;
		}
	}
	free(acct);
	return 0;
}

struct priced {
	const struct cw_target_id *id; /* the series' (the run's) */
	size_t series;
	int64_t period_start;
	double usd;
};

static int strcmp0(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

/* By the series' names, not their index: the run adds series in the order
 * the workers finish, and the total must not depend on it. */
static int priced_cmp(const void *a, const void *b)
{
	const struct priced *x = a, *y = b;
	int c;

	if (x->series != y->series &&
	    ((c = strcmp0(x->id->account_id, y->id->account_id)) ||
	     (c = strcmp0(x->id->account_name, y->id->account_name)) ||
	     (c = strcmp0(x->id->region, y->id->region)) ||
	     (c = strcmp0(x->id->bucket, y->id->bucket)) ||
	     (c = strcmp0(x->id->metric, y->id->metric))))
		return c;
	if (x->series != y->series)
		return x->series < y->series ? -1 : 1;
	return x->period_start < y->period_start ? -1 : x->period_start > y->period_start;
}

/* Each series and period once: the largest estimate of its detectors. */
static double total_once(struct priced *p, size_t n)
{
	double total = 0;
	size_t i, j;

	qsort(p, n, sizeof(*p), priced_cmp);
	for (i = 0; i < n; i = j) {
		double best = p[i].usd;

		for (j = i + 1; j < n && p[j].series == p[i].series &&
				p[j].period_start == p[i].period_start; j++)
			best = p[j].usd > best ? p[j].usd : best;
		total += best;
	}
	return total;
}

/* "10 TB", "100 GB", "1.5 TB". */
static int add_volume(struct cw_buf *b, double bytes)
{
	if (bytes >= 1e12)
		return cw_buf_printf(b, "%g TB", bytes / 1e12);
	return cw_buf_printf(b, "%g GB", bytes / GB);
}

static bool same_table(const struct cw_price_table *a, const struct cw_price_table *b)
{
	if (a->ntiers != b->ntiers || a->free_bytes != b->free_bytes)
		return false;
	for (size_t i = 0; i < a->ntiers; i++)
		if (a->tiers[i].upto_bytes != b->tiers[i].upto_bytes ||
		    a->tiers[i].usd_per_gb != b->tiers[i].usd_per_gb)
			return false;
	return true;
}

/* "first 100 GB free, then $0.09/GB up to 10 TB, ..., $0.05/GB beyond" */
static int add_table(struct cw_buf *b, const struct cw_price_table *t)
{
	int rc = 0;

	if (t->free_bytes > 0 && ((rc = cw_buf_addstr(b, "first ")) ||
				  (rc = add_volume(b, t->free_bytes)) ||
				  (rc = cw_buf_addstr(b, " free, then "))))
		return rc;
	for (size_t i = 0; i < t->ntiers && !rc; i++) {
		if (i && (rc = cw_buf_addstr(b, ", ")))
			break;
		rc = cw_buf_printf(b, "$%g/GB ", t->tiers[i].usd_per_gb);
		if (!rc && isinf(t->tiers[i].upto_bytes))
			rc = cw_buf_addstr(b, i ? "beyond" : "for every GB");
		else if (!rc && (rc = cw_buf_addstr(b, "up to ")) == 0)
			rc = add_volume(b, t->tiers[i].upto_bytes);
	}
	return rc;
}

/* The assumption behind the figures, for the reports. */
static int build_note(struct cw_buf *b, const struct cw_price_table *def,
		      const struct cw_price_table *builtin,
		      const struct cw_price_table **regional, size_t nregional)
{
	int rc;

	rc = cw_buf_printf(b, "the excess bytes of each anomaly (value minus baseline) priced "
			   "as the last bytes of the account's month, the month being the "
			   "account's S3 BytesDownloaded over the last %d days (scaled up when "
			   "less history was fetched), at S3 data transfer out to the internet "
			   "per account-month: ", CW_COST_MONTH_DAYS);
	if (!rc)
		rc = add_table(b, def);
	if (!rc)
		rc = cw_buf_addstr(b, same_table(def, builtin) ?
				   " (us-east-1 list prices)" : " (prices from the inventory)");
	for (size_t i = 0; i < nregional && !rc; i++) {
		rc = cw_buf_printf(b, "; %s: ", regional[i]->region);
		if (!rc)
			rc = add_table(b, regional[i]);
	}
	return rc ? rc : cw_buf_addstr(b, "; an estimate, not a bill");
}

int cw_cost_apply(struct cw_run *run, const struct cw_inventory *inv,
		  char *err, size_t errlen)
{
	struct cw_inventory builtin;
	const struct cw_price_table **regional = NULL;
	struct priced *priced = NULL;
	struct cw_buf note = CW_BUF_INIT;
	double *month = NULL;
	size_t npriced = 0, nregional = 0, nusd = 0, nanom = 0;
	char *text;
	int rc;

	if ((rc = cw_inventory_defaults(&builtin)))
		return cw_fail(err, errlen, rc, "price table: %s", cw_strerror(rc));
	if (!inv)
		inv = &builtin;
	for (size_t i = 0; i < run->nresults; i++)
		nanom += run->results[i].j.status == CW_STATUS_ANOMALY;
	month = malloc((run->nseries ? run->nseries : 1) * sizeof(*month));
	priced = malloc((nanom ? nanom : 1) * sizeof(*priced));
	regional = calloc(inv->nprices ? inv->nprices : 1, sizeof(*regional));
	if (!month || !priced || !regional) {
		rc = CW_ENOMEM;
		goto fail;
	}
	if ((rc = account_months(run, month)))
		goto fail;
	for (size_t i = 0; i < run->nresults; i++) {
		struct cw_result *r = &run->results[i];
		const struct cw_run_series *rs = &run->series[r->series];
		const struct cw_price_table *t;
		double base = isnan(r->j.baseline) ? r->j.limit : r->j.baseline;
		double excess;

		/* a series in dollars (AWS/Billing daily spend): the excess is the
		 * cost itself, no price table */
		if (r->j.status == CW_STATUS_ANOMALY && rs->id.unit &&
		    strcmp(rs->id.unit, "USD") == 0 && !isnan(r->j.value) && !isnan(base)) {
			excess = r->j.value - base;
			r->est_excess_usd = excess > 0 ? excess : 0;
			priced[npriced].id = &rs->id;
			priced[npriced].series = r->series;
			priced[npriced].period_start = r->j.period_start;
			priced[npriced++].usd = r->est_excess_usd;
			nusd++;
			continue;
		}
		/* every judged row is priced (report.csv shows it for all of
		 * them); only anomalies count in the total */
		if ((r->j.status != CW_STATUS_ANOMALY && r->j.status != CW_STATUS_OK) ||
		    isnan(month[r->series]) || isnan(r->j.value) || isnan(base))
			continue;
		t = cw_inventory_prices(inv, rs->id.region);
		if (!t) {
			rc = cw_fail(err, errlen, CW_EINVAL, "price table: the inventory has none");
			goto out;
		}
		excess = r->j.value - base;
		r->est_excess_usd = cw_price_excess(t, month[r->series], excess > 0 ? excess : 0);
		if (r->j.status != CW_STATUS_ANOMALY)
			continue;
		priced[npriced].id = &rs->id;
		priced[npriced].series = r->series;
		priced[npriced].period_start = r->j.period_start;
		priced[npriced++].usd = r->est_excess_usd;
		if (t != &inv->prices[0]) {
			size_t k;

			for (k = 0; k < nregional && regional[k] != t; k++)
				;
			if (k == nregional)
				regional[nregional++] = t;
		}
	}
	run->total_excess_usd = npriced ? total_once(priced, npriced) : NAN;
	if (npriced > nusd && inv->nprices &&
	    (rc = build_note(&note, &inv->prices[0], &builtin.prices[0], regional, nregional)))
		goto fail;
	if (nusd && (rc = cw_buf_printf(&note, "%sAWS/Billing daily spend: the excess of the "
					"day's estimated charges over the baseline, in dollars "
					"(AWS's own estimate, revised down now and then)",
					npriced > nusd ? "; " : "")))
		goto fail;
	text = cw_buf_detach(&note, NULL);
	if (!text) {
		rc = CW_ENOMEM;
		goto fail;
	}
	free(run->price_note);
	run->price_note = text;
	rc = 0;
	goto out;
fail:
	cw_fail(err, errlen, rc, "cost estimate: %s", cw_strerror(rc));
out:
	cw_buf_release(&note);
	free(month);
	free(priced);
	free(regional);
	cw_inventory_release(&builtin);
	return rc;
}
