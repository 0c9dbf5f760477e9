/*
 * accounts.h - per-account totals for the reports (report.md, report.html,
 * report.xlsx): how many bytes each account's series moved over the last
 * 7 complete days and the 7 before, its findings and their estimated cost,
 * and its daily total over the lookback (for a small chart).
 *
 * Only series in Bytes at the run's period (a period that divides a day)
 * add to the volumes and the chart; every series counts in `series`.
 * Analyze runs (no account ids) have one row named after nothing ("").
 */
#ifndef CW_ACCOUNTS_H
#define CW_ACCOUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "findings.h"
#include "run.h"

struct cw_acct_total {
	const char *account_id;   /* borrowed from the run */
	const char *account_name; /* borrowed */
	size_t series;            /* judged series of the account */
	size_t byte_series;       /* of those, the ones in the volumes */
	double week, prev;        /* bytes, last 7 complete days / the 7 before (NaN: no data) */
	double lookback;          /* bytes over every fetched complete period */
	double usd;               /* sum of its findings' estimates (NaN: none priced) */
	size_t findings;
	int64_t start, period;    /* the daily chart: slot 0 and its step */
	double *daily;            /* owned; ndaily slots, NaN = no data */
	size_t ndaily;
};

struct cw_acct_totals {
	struct cw_acct_total *v; /* largest estimated cost first, then volume, then name */
	size_t n;
};

int cw_acct_totals_build(const struct cw_run *run, const struct cw_findings *fs,
			 struct cw_acct_totals *out);
void cw_acct_totals_release(struct cw_acct_totals *t);

#endif
