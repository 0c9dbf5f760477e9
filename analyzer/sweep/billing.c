/*
 * billing.c - ListMetrics of AWS/Billing EstimatedCharges, its metric
 * templates and the month-to-date -> daily spend transform (billing.h).
 *
 * Parsing checks the whole page first and applies it second.  No shared
 * state, no locking.
 */
#include "billing.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "lmpage.h"
#include "strutil.h"
#include "timeutil.h"

#define MAX_VALUE 256
#define DAY 86400

int cw_billing_lm_request(char **body, size_t *len, const char *next_token,
			  char *err, size_t errlen)
{
	return cw_lm_page_request(body, len, CW_BILLING_NAMESPACE, CW_BILLING_METRIC, next_token, err, errlen);
}

void cw_billing_page_release(struct cw_billing_page *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].linked);
		free(p->v[i].service);
	}
	free(p->v);
	free(p->next_token);
	memset(p, 0, sizeof(*p));
}

static bool str_is(json_t *v, const char *want)
{
	const char *s = json_string_value(v);

	return s && strcmp(s, want) == 0;
}

static const char *dim_value(json_t *d)
{
	json_t *v = json_object_get(d, "Value");
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);

	if (!s || n == 0 || n > MAX_VALUE || memchr(s, '\0', n))
		return NULL;
	return s;
}

/* A 12-digit account id. */
static bool account_id(const char *s)
{
	return s && strlen(s) == 12 && strspn(s, "0123456789") == 12;
}

/* linked account and service of EstimatedCharges{Currency=USD, ServiceName,
 * LinkedAccount}, exactly those three dimensions. */
static bool match(json_t *met, const char **linked, const char **service)
{
	json_t *dims = json_object_get(met, "Dimensions"), *d;
	bool usd = false;
	size_t k;

	*linked = *service = NULL;
	if (json_array_size(dims) != 3)
		return false;
	json_array_foreach(dims, k, d) {
		json_t *n = json_object_get(d, "Name");

		if (str_is(n, "Currency") && !usd)
			usd = str_is(json_object_get(d, "Value"), "USD");
		else if (str_is(n, "ServiceName") && !*service)
			*service = dim_value(d);
		else if (str_is(n, "LinkedAccount") && !*linked)
			*linked = dim_value(d);
		else
			return false;
	}
	return usd && *service && account_id(*linked);
}

int cw_billing_lm_parse(struct cw_billing_page *page, const char *body, size_t len,
			char *err, size_t errlen)
{
	json_t *root, *metrics, *tok, *met;
	size_t i;
	int rc;

	memset(page, 0, sizeof(*page));
	rc = cw_lm_page_open(&root, &metrics, &tok, body, len, err, errlen);
	if (rc)
		return rc;
	page->v = calloc(json_array_size(metrics) + 1, sizeof(*page->v));
	if (!page->v || (json_string_length(tok) > 0 &&
			 !(page->next_token = cw_strdup(json_string_value(tok))))) {
		rc = cw_fail(err, errlen, CW_ENOMEM, "ListMetrics response: out of memory");
		goto out;
	}
	json_array_foreach(metrics, i, met) {
		const char *l, *s;
		struct cw_billing_item *it;

		if (!str_is(json_object_get(met, "Namespace"), CW_BILLING_NAMESPACE) ||
		    !str_is(json_object_get(met, "MetricName"), CW_BILLING_METRIC))
			continue;
		page->seen++;
		if (!match(met, &l, &s))
			continue;
		it = &page->v[page->n];
		it->linked = cw_strdup(l);
		it->service = cw_strdup(s);
		page->n++;
		if (!it->linked || !it->service) {
			rc = cw_fail(err, errlen, CW_ENOMEM, "ListMetrics response: out of memory");
			goto out;
		}
	}
out:
	json_decref(root);
	if (rc)
		cw_billing_page_release(page);
	return rc;
}

int cw_billing_metric_init(struct cw_billing_metric *m, const char *linked,
			   const char *service)
{
	memset(m, 0, sizeof(*m));
	m->def.namespace_ = cw_strdup(CW_BILLING_NAMESPACE);
	m->def.name = cw_strdup(CW_BILLING_METRIC);
	m->def.stat = cw_strdup("Maximum");
	m->def.unit = cw_strdup("USD");
	m->def.label = cw_asprintf("AWS/Billing EstimatedCharges %s (daily)", service);
	m->dims[0].name = cw_strdup("Currency");
	m->dims[0].value = cw_strdup("USD");
	m->dims[1].name = cw_strdup("ServiceName");
	m->dims[1].value = cw_strdup(service);
	m->dims[2].name = cw_strdup("LinkedAccount");
	m->dims[2].value = cw_strdup(linked);
	m->def.dims = m->dims;
	m->def.ndims = 3;
	for (size_t i = 0; i < 3; i++)
		if (!m->dims[i].name || !m->dims[i].value)
			goto nomem;
	if (!m->def.namespace_ || !m->def.name || !m->def.stat || !m->def.unit || !m->def.label)
		goto nomem;
	return 0;
nomem:
	cw_billing_metric_release(m);
	return CW_ENOMEM;
}

void cw_billing_metric_release(struct cw_billing_metric *m)
{
	if (!m)
		return;
	free(m->def.namespace_);
	free(m->def.name);
	free(m->def.stat);
	free(m->def.unit);
	free(m->def.label);
	for (size_t i = 0; i < 3; i++) {
		free(m->dims[i].name);
		free(m->dims[i].value);
	}
	memset(m, 0, sizeof(*m));
}

/* Day of the month (1..31) of a day start. */
static int mday(int64_t day0)
{
	time_t t = (time_t)day0;
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return 0;
	return tm.tm_mday;
}

int cw_billing_daily(const struct cw_series *in, struct cw_series *out, size_t *revisions)
{
	int64_t first, end;
	size_t ndays, perday;
	double prev = NAN, carry = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (revisions)
		*revisions = 0;
	if (!in || in->period <= 0 || DAY % in->period != 0)
		return CW_EINVAL;
	perday = (size_t)(DAY / in->period);
	first = cw_time_floor(in->start + DAY - 1, DAY); /* the first whole day */
	end = cw_time_floor(in->start + (int64_t)in->n * in->period, DAY);
	ndays = end > first ? (size_t)((end - first) / DAY) : 0;
	rc = cw_series_init(out, first, DAY, ndays);
	if (rc)
		return rc;
	for (size_t d = 0; d < ndays; d++) {
		int64_t day0 = first + (int64_t)d * DAY;
		size_t from = (size_t)((day0 - in->start) / in->period);
		double last = NAN, diff;

		for (size_t k = perday; k > 0; k--)
			if (from + k - 1 < in->n && !isnan(in->values[from + k - 1])) {
				last = in->values[from + k - 1];
				break;
			}
		if (mday(day0) == 1) {
			carry = 0; /* a new month: the estimate starts from 0 */
			diff = isnan(last) ? NAN : last;
		} else {
			diff = last - prev; /* NaN when either is a gap */
		}
		prev = last;
		if (isnan(diff))
			continue; /* a gap stays a gap (out starts as gaps) */
		if (diff < 0 && revisions)
			(*revisions)++;
		diff += carry;
		carry = diff < 0 ? diff : 0;
		out->values[d] = diff > 0 ? diff : 0;
	}
	return 0;
}
