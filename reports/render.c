/*
 * render.c - helpers the report formats share (see render.h).
 */
#include "render.h"

#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "units.h"

const char *cw_rep_status(enum cw_status st)
{
	switch (st) {
	case CW_STATUS_OK:
		return "ok";
	case CW_STATUS_ANOMALY:
		return "anomaly";
	case CW_STATUS_INSUFFICIENT:
		return "insufficient_history";
	case CW_STATUS_FAILED:
		return "failed";
	}
	return "failed";
}

const char *cw_rep_severity(enum cw_severity sv)
{
	switch (sv) {
	case CW_SEV_INFO:
		return "info";
	case CW_SEV_WARNING:
		return "warning";
	case CW_SEV_CRITICAL:
		return "critical";
	}
	return "warning";
}

const char *cw_rep_alert(enum cw_alert a)
{
	switch (a) {
	case CW_ALERT_NONE:
		return "";
	case CW_ALERT_NEW:
		return "new";
	case CW_ALERT_ONGOING:
		return "ongoing";
	case CW_ALERT_GREW:
		return "grew";
	case CW_ALERT_RESOLVED:
		return "resolved";
	case CW_ALERT_ACKED:
		return "acknowledged";
	}
	return "";
}

int cw_rep_sorted(const struct cw_run *run, const struct cw_result **out)
{
	struct cw_run view;
	struct cw_result *copy;

	*out = NULL;
	if (run->nresults == 0)
		return 0;
	if (run->sorted) {
		*out = run->results;
		return 0;
	}
	copy = malloc(run->nresults * sizeof(*copy));
	if (!copy)
		return CW_ENOMEM;
	memcpy(copy, run->results, run->nresults * sizeof(*copy));
	/* Sort a shallow view of the run: the order is defined once, in the
	 * run model, and the run itself stays untouched. */
	view = *run;
	view.results = copy;
	view.cap_results = run->nresults;
	cw_run_sort_results(&view);
	*out = copy;
	return 0;
}

void cw_rep_sorted_free(const struct cw_run *run, const struct cw_result *sorted)
{
	if (sorted && sorted != run->results)
		free((void *)sorted);
}

double cw_rep_change_pct(const struct cw_judgement *j)
{
	if (isnan(j->value) || isnan(j->baseline) || j->baseline == 0)
		return NAN;
	return (j->value - j->baseline) / fabs(j->baseline) * 100.0;
}

void cw_rep_window(const struct cw_series *s, int64_t period_start,
		   size_t *from, size_t *to)
{
	size_t end;

	if (s->n == 0 || s->period <= 0) {
		*from = *to = 0;
		return;
	}
	if (period_start >= s->start &&
	    (period_start - s->start) / s->period < (int64_t)s->n)
		end = (size_t)((period_start - s->start) / s->period) + 1;
	else
		end = cw_series_complete(s);
	*to = end;
	*from = end > CW_REPORT_HISTORY ? end - CW_REPORT_HISTORY : 0;
}

int cw_sparkline(struct cw_buf *out, const double *v, size_t n)
{
	/* U+2581 LOWER ONE EIGHTH BLOCK .. U+2588 FULL BLOCK, in UTF-8 */
	static const char *const blocks[8] = {
		"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
		"\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88",
	};
	double lo = INFINITY, hi = -INFINITY;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		if (isnan(v[i]))
			continue;
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	if (lo >= 0)
		lo = 0;
	for (i = 0; i < n; i++) {
		int level = 0;

		if (isnan(v[i])) {
			rc = cw_buf_addstr(out, "\xc2\xb7"); /* U+00B7 */
		} else {
			if (hi > lo && isfinite(hi - lo))
				level = (int)lround((v[i] - lo) / (hi - lo) * 7.0);
			level = level < 0 ? 0 : level > 7 ? 7 : level;
			rc = cw_buf_addstr(out, blocks[level]);
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* Drop trailing zeros (and a trailing '.') after a decimal point. */
static void trim_zeros(char *s)
{
	char *dot = strchr(s, '.');
	char *end;

	if (!dot)
		return;
	end = s + strlen(s);
	while (end > dot + 1 && end[-1] == '0')
		*--end = '\0';
	if (end == dot + 1)
		*dot = '\0';
}

char *cw_rep_human(double v, const char *unit, char *buf, size_t len)
{
	static const char *const prefix[] = { "k", "M", "G", "T", "P" };
	double a = fabs(v);
	size_t i;

	if (isnan(v)) {
		snprintf(buf, len, "\xe2\x80\x94"); /* U+2014 EM DASH */
		return buf;
	}
	if (unit && strcmp(unit, "Bytes") == 0)
		return cw_fmt_bytes(v, buf, len);
	if (unit && strcmp(unit, "USD") == 0) { /* AWS/Billing, dollars */
		snprintf(buf, len, "%s$%.2f", v < 0 ? "-" : "", fabs(v));
		return buf;
	}
	if (a < 1e4) {
		if (a != 0 && a < 0.01)
			snprintf(buf, len, "%.3g", v);
		else
			snprintf(buf, len, "%.2f", v);
		trim_zeros(buf);
		if (strcmp(buf, "-0") == 0)
			snprintf(buf, len, "0");
		return buf;
	}
	for (i = 0; i < sizeof(prefix) / sizeof(prefix[0]); i++) {
		double scaled = v / pow(1000.0, (double)(i + 1));

		if (fabs(scaled) < 999.5 || i + 1 == sizeof(prefix) / sizeof(prefix[0])) {
			char num[64];

			snprintf(num, sizeof(num), "%.3g", scaled);
			if (strchr(num, 'e')) /* beyond P: no exponent, whole number */
				snprintf(num, sizeof(num), "%.0f", scaled);
			snprintf(buf, len, "%s %s", num, prefix[i]);
			return buf;
		}
	}
	return buf; /* not reached */
}

char *cw_rep_pct(double pct, char *buf, size_t len)
{
	if (isnan(pct))
		snprintf(buf, len, "\xe2\x80\x94"); /* U+2014 EM DASH */
	else if (fabs(pct) < 0.05) /* would print as -0.0% or +0.0% */
		snprintf(buf, len, "0%%");
	else if (fabs(pct) >= 10)
		snprintf(buf, len, "%+.0f%%", pct);
	else
		snprintf(buf, len, "%+.1f%%", pct);
	return buf;
}

char *cw_rep_time(int64_t t, int64_t period, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm)) {
		snprintf(buf, len, "?");
		return buf;
	}
	if (period > 0 && period % 86400 == 0)
		strftime(buf, len, "%Y-%m-%d", &tm);
	else
		strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
	return buf;
}

/* A string in the console's URL fragment notation: ' then the text, each
 * byte outside [A-Za-z0-9._-] as *XX. */
static int console_str(struct cw_buf *out, const char *s)
{
	int rc = cw_buf_addch(out, '\'');

	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && !rc; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-')
			rc = cw_buf_addch(out, (char)*p);
		else
			rc = cw_buf_printf(out, "*%02x", *p);
	}
	return rc;
}

/* Region names are [a-z0-9-]; anything else makes no link. */
static bool plain_region(const char *r)
{
	if (!r || !r[0])
		return false;
	for (; *r; r++)
		if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') || *r == '-'))
			return false;
	return true;
}

int cw_rep_metric_url(struct cw_buf *out, const struct cw_target_id *id, int64_t period,
		      int64_t lookback)
{
	char ns[128], name[128], stat[64] = "Sum";
	const char *dim = "FilterId", *val = "EntireBucket";
	int n, rc;

	if (!plain_region(id->region) || !id->bucket || !id->bucket[0] || !id->metric)
		return 0;
	n = sscanf(id->metric, "%127s %127s %63s", ns, name, stat);
	if (n < 2 || strcmp(ns, "AWS/S3") != 0)
		return 0;
	if (strcmp(name, "BucketSizeBytes") == 0) {
		dim = "StorageType";
		val = "StandardStorage";
	} else if (strcmp(name, "NumberOfObjects") == 0) {
		dim = "StorageType";
		val = "AllStorageTypes";
	}
	rc = cw_buf_printf(out, "https://%s.console.aws.amazon.com/cloudwatch/home?region=%s"
			   "#metricsV2:graph=~(metrics~(~(~", id->region, id->region);
	if (!rc)
		rc = console_str(out, ns);
	if (!rc)
		rc = cw_buf_addch(out, '~');
	if (!rc)
		rc = console_str(out, name);
	if (!rc)
		rc = cw_buf_addstr(out, "~'BucketName~");
	if (!rc)
		rc = console_str(out, id->bucket);
	if (!rc)
		rc = cw_buf_printf(out, "~'%s~'%s))~view~'timeSeries~stacked~false~region~'%s~stat~",
				   dim, val, id->region);
	if (!rc)
		rc = console_str(out, stat);
	if (!rc)
		rc = cw_buf_printf(out, "~period~%lld~start~'-PT%lldH~end~'P0D)",
				   (long long)(period > 0 ? period : 86400),
				   (long long)((lookback > 0 ? lookback : 35 * 86400) / 3600));
	return rc;
}

int cw_rep_bucket_url(struct cw_buf *out, const struct cw_target_id *id)
{
	int rc;

	if (!plain_region(id->region) || !id->bucket || !id->bucket[0] || !id->account_id ||
	    !id->account_id[0])
		return 0;
	rc = cw_buf_addstr(out, "https://s3.console.aws.amazon.com/s3/buckets/");
	/* bucket names are [a-z0-9.-]; anything else is percent-encoded */
	for (const unsigned char *p = (const unsigned char *)id->bucket; *p && !rc; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-')
			rc = cw_buf_addch(out, (char)*p);
		else
			rc = cw_buf_printf(out, "%%%02X", *p);
	}
	return rc ? rc : cw_buf_printf(out, "?region=%s&tab=metrics", id->region);
}

int cw_rep_detector_text(struct cw_buf *out, const char *spec)
{
	const char *colon = spec ? strchr(spec, ':') : NULL;
	const struct cw_detector_ops *ops;
	char name[64];
	int rc;

	if (!spec)
		return 0;
	if (!colon)
		return cw_buf_addstr(out, spec);
	snprintf(name, sizeof(name), "%.*s", (int)(colon - spec < 63 ? colon - spec : 63), spec);
	ops = cw_detector_find(name);
	if ((rc = cw_buf_printf(out, "%s (", name)))
		return rc;
	for (const char *p = colon + 1; *p && !rc;) {
		const char *end = strchr(p, ':'), *eq;
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char key[64], val[64], human[64];
		const struct cw_param_spec *sp = NULL;
		size_t idx;
		double v;

		eq = memchr(p, '=', n);
		if (p != colon + 1)
			rc = cw_buf_addstr(out, ", ");
		if (!rc && eq && (size_t)(eq - p) < sizeof(key) && n - (size_t)(eq - p) - 1 < sizeof(val)) {
			snprintf(key, sizeof(key), "%.*s", (int)(eq - p), p);
			snprintf(val, sizeof(val), "%.*s", (int)(n - (size_t)(eq - p) - 1), eq + 1);
			if (ops)
				sp = cw_detector_param(ops, key, &idx);
			if (sp && sp->type == CW_PARAM_BYTES && cw_parse_bytes(val, &v, NULL, 0) == 0)
				rc = cw_buf_printf(out, "%s %s", key, cw_fmt_bytes(v, human, sizeof(human)));
			else if (sp && sp->type == CW_PARAM_DURATION &&
				 cw_parse_number(val, &v, NULL, 0) == 0 && v == floor(v))
				rc = cw_buf_printf(out, "%s %s", key,
						   cw_fmt_duration((int64_t)v, human, sizeof(human)));
			else
				rc = cw_buf_printf(out, "%s %s", key, val);
		} else if (!rc) {
			rc = cw_buf_printf(out, "%.*s", (int)n, p);
		}
		p += n;
		if (*p == ':')
			p++;
	}
	return rc ? rc : cw_buf_addch(out, ')');
}

static int strcmp0(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int cause_cmp(const void *pa, const void *pb)
{
	const struct cw_rep_cause *a = pa, *b = pb;
	int c;

	if (a->failures != b->failures)
		return a->failures > b->failures ? -1 : 1;
	if ((c = strcmp0(a->stage, b->stage)))
		return c;
	return strcmp0(a->code, b->code);
}

int cw_rep_causes(const struct cw_run *run, const bool *include, struct cw_rep_cause **out,
		  size_t *n)
{
	struct cw_rep_cause *v;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (run->nfailures == 0)
		return 0;
	v = calloc(run->nfailures, sizeof(*v));
	if (!v)
		return CW_ENOMEM;
	for (size_t i = 0; i < run->nfailures; i++) {
		const struct cw_failure *f = &run->failures[i];
		size_t c;
		bool seen = false;

		if (include && !include[i])
			continue;
		for (c = 0; c < k; c++)
			if (strcmp0(v[c].stage, f->stage) == 0 && strcmp0(v[c].code, f->code) == 0)
				break;
		if (c == k) {
			v[k].stage = f->stage ? f->stage : "";
			v[k].code = f->code ? f->code : "";
			v[k].first = i;
			k++;
		}
		v[c].failures++;
		/* a new account for this cause? (an earlier failure of the cause
		 * with the same account id) */
		for (size_t j = v[c].first; j < i && !seen; j++)
			seen = (!include || include[j]) &&
			       strcmp0(run->failures[j].stage, f->stage) == 0 &&
			       strcmp0(run->failures[j].code, f->code) == 0 &&
			       strcmp0(run->failures[j].id.account_id, f->id.account_id) == 0;
		if (!seen)
			v[c].accounts++;
	}
	if (k == 0) {
		free(v);
		return 0;
	}
	qsort(v, k, sizeof(*v), cause_cmp);
	*out = v;
	*n = k;
	return 0;
}
