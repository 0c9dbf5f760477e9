/*
 * billing.h - AWS/Billing EstimatedCharges as a source: a signal that needs
 * nothing enabled but the payer's billing alerts.
 *
 * In the management (payer) account, CloudWatch in us-east-1 holds
 * AWS/Billing EstimatedCharges (Maximum) with dimensions Currency (USD),
 * ServiceName and LinkedAccount: a month-to-date cumulative estimate,
 * updated several times a day, reset at the start of each month (UTC),
 * sometimes revised down.  One paged ListMetrics names the (linked
 * account, service) pairs; GetMetricData fetches them hourly; the
 * transform here turns each into daily spend.
 *
 * Pure functions, no network; responses are untrusted (bounded, a whole
 * page or nothing).  Threads: no shared state.
 */
#ifndef CW_BILLING_H
#define CW_BILLING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inventory.h"
#include "series.h"

#define CW_BILLING_NAMESPACE "AWS/Billing"
#define CW_BILLING_METRIC "EstimatedCharges"
#define CW_BILLING_REGION "us-east-1"
#define CW_BILLING_FETCH_PERIOD 3600 /* the day's last value, to the hour */

/* {"Namespace":"AWS/Billing","MetricName":"EstimatedCharges"[,"NextToken"]}. */
int cw_billing_lm_request(char **body, size_t *len, const char *next_token,
			  char *err, size_t errlen);

struct cw_billing_item { char *linked, *service; }; /* owned */

struct cw_billing_page {
	struct cw_billing_item *v; size_t n; /* Currency=USD + ServiceName + LinkedAccount */
	char *next_token;  /* owned; NULL on the last page */
	size_t seen;       /* EstimatedCharges metrics of any shape: 0 on every page
			    * = billing alerts are not enabled */
};
void cw_billing_page_release(struct cw_billing_page *p);

/* Parse one page.  0, CW_EPARSE, CW_ETOOBIG or CW_ENOMEM (page empty). */
int cw_billing_lm_parse(struct cw_billing_page *page, const char *body, size_t len,
			char *err, size_t errlen);

/* The metric of one (linked account, service): every dimension fixed.
 * Label "AWS/Billing EstimatedCharges SERVICE (daily)", unit "USD". */
struct cw_billing_metric {
	struct cw_metric_def def;
	struct cw_dim_tmpl dims[3];
};
int cw_billing_metric_init(struct cw_billing_metric *m, const char *linked,
			   const char *service);
void cw_billing_metric_release(struct cw_billing_metric *m);

/*
 * Month-to-date values (any period dividing a day, e.g. hourly Maximum;
 * NaN = no datapoint) -> daily spend over whole UTC days (*out, new,
 * period 1 day, from the first whole day of `in`; release it):
 *   last(d)   = the day's last value that is not a gap;
 *   spend(d)  = last(d) on the first day of a month (the estimate resets),
 *               else last(d) - last(d-1);
 *   a gap     = a day without a value, or whose previous day (same month)
 *               has none: its increase cannot be told apart, so it stays a
 *               gap, and so does the first day of `in` (no previous day);
 *   revisions = AWS revises estimates down now and then: a negative
 *               difference is spend 0 and the decrease is carried into the
 *               following days of the month (they show spend only once
 *               the estimate is back above where it was), so spend is
 *               never negative and a month's spend adds up to its last
 *               estimate.
 * *revisions (may be NULL) counts the days revised down.  0 or CW_ENOMEM /
 * CW_EINVAL (a period that does not divide a day).
 */
int cw_billing_daily(const struct cw_series *in, struct cw_series *out, size_t *revisions);

#endif
