/*
 * cost.h - the dollar estimate of an anomaly: excess bytes x the S3
 * data-transfer-out price at the account's volume.
 *
 * Only series that measure data leaving S3 are priced: a metric label
 * holding "BytesDownloaded", unit "Bytes", statistic Sum (or no statistic
 * in the label).  For each such anomaly:
 *
 *   excess  E = max(0, value - baseline) of the judged period
 *             (the limit when the detector has no baseline)
 *   volume  V = the account's estimated monthly transfer: the sum of every
 *             priced series of the account over its last 30 days of
 *             complete periods (gaps count as 0; a series with less than
 *             30 days of history is scaled up to 30 days)
 *   est     = cost(V) - cost(V - E), where cost(x) prices the x - free
 *             bytes above the free allowance through the tiers; inside one
 *             tier this is E / 1e9 x that tier's rate (the marginal rate)
 *
 * A series whose unit is "USD" (AWS/Billing daily spend) needs no price:
 * its est_excess_usd is the excess itself, max(0, value - baseline).
 *
 * The run's total counts each series and period once (the largest
 * estimate when several detectors flagged the same period).  Every figure
 * is an estimate, and run->price_note says how it was made.
 */
#ifndef CW_COST_H
#define CW_COST_H

#include <stdbool.h>

#include "inventory.h"
#include "run.h"

/* Days of history that stand for "a month" of transfer. */
#define CW_COST_MONTH_DAYS CW_SERIES_MONTH_DAYS /* run.h: the sums take it */

/* True when the series of id measures S3 data transfer out (see above). */
bool cw_cost_priced(const struct cw_target_id *id);

/*
 * The bill in USD for a monthly volume of `bytes` under table t: the free
 * allowance first, then each tier's bytes at its rate (GB = 10^9 bytes).
 */
double cw_price_month(const struct cw_price_table *t, double bytes);

/* cost(month) - cost(month - excess), never negative; NaN for a NaN input. */
double cw_price_excess(const struct cw_price_table *t, double month_bytes,
		       double excess_bytes);

/*
 * Set est_excess_usd on every anomaly and ok judgement of a priced series
 * (an ok one: its excess over the baseline, often 0; report.csv shows it
 * in est_excess_usd_all), run->
 * total_excess_usd (NaN when nothing was priced) and run->price_note (""
 * when nothing was priced).  inv: its price tables (per region, falling
 * back to its default table); NULL = the built-in table
 * (cw_inventory_defaults).  Results that are not priced keep NaN.
 */
int cw_cost_apply(struct cw_run *run, const struct cw_inventory *inv,
		  char *err, size_t errlen);

#endif
