/*
 * findings.c - anomalous judgements grouped per series and period
 * (findings.h).
 */
#include "findings.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

static int strcmp0(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	for (; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	h ^= 0x1f; /* a separator no name holds: "a"+"bc" differs from "ab"+"c" */
	h *= 0x100000001b3ULL;
	return h;
}

char *cw_finding_id(const struct cw_target_id *id, int64_t period_start, char *buf,
		    size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	char when[32];

	snprintf(when, sizeof(when), "%" PRId64, period_start);
	h = fnv1a(h, id->account_id);
	h = fnv1a(h, id->region);
	h = fnv1a(h, id->bucket);
	h = fnv1a(h, id->metric);
	h = fnv1a(h, when);
	snprintf(buf, len, "f-%016" PRIx64, h);
	return buf;
}

char *cw_result_finding_id(const struct cw_run *run, const struct cw_result *r, char *buf,
			   size_t len)
{
	if (r->j.status != CW_STATUS_ANOMALY || r->series >= run->nseries) {
		if (len)
			buf[0] = '\0';
		return buf;
	}
	return cw_finding_id(&run->series[r->series].id, r->j.period_start, buf, len);
}

/* Sort context for qsort (single-threaded report rendering). */
struct order {
	const struct cw_run *run;
	size_t idx;
};

/* Group order: series, period, detector. */
static int group_cmp(const void *pa, const void *pb)
{
	const struct order *a = pa, *b = pb;
	const struct cw_result *x = &a->run->results[a->idx], *y = &b->run->results[b->idx];
	int c;

	if (x->series != y->series)
		return x->series < y->series ? -1 : 1;
	if (x->j.period_start != y->j.period_start)
		return x->j.period_start < y->j.period_start ? -1 : 1;
	if ((c = strcmp0(x->detector, y->detector)))
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static double usd_key(double v)
{
	return isnan(v) ? -INFINITY : v;
}

static double excess_key(const struct cw_result *r)
{
	double e = r->j.value - r->j.baseline;

	return isnan(e) ? -INFINITY : e;
}

/* True when a is a better lead than b. */
static bool better_lead(const struct cw_result *a, const struct cw_result *b)
{
	double ua = usd_key(a->est_excess_usd), ub = usd_key(b->est_excess_usd);
	double ea = excess_key(a), eb = excess_key(b);

	if (ua != ub)
		return ua > ub;
	if (ea != eb)
		return ea > eb;
	return strcmp0(a->detector, b->detector) < 0;
}

int cw_alert_rank(enum cw_alert a)
{
	switch (a) {
	case CW_ALERT_NEW: return 4;
	case CW_ALERT_GREW: return 3;
	case CW_ALERT_ONGOING: return 2;
	case CW_ALERT_RESOLVED: return 1;
	case CW_ALERT_ACKED: return 1;
	case CW_ALERT_NONE: return 0;
	}
	return 0;
}

static int finding_cmp(const void *pa, const void *pb)
{
	const struct cw_finding *a = pa, *b = pb;
	const struct cw_target_id *p = a->tid, *q = b->tid;
	double ua = usd_key(a->est_excess_usd), ub = usd_key(b->est_excess_usd);
	double ea = isnan(a->excess) ? -INFINITY : a->excess;
	double eb = isnan(b->excess) ? -INFINITY : b->excess;
	int c;

	if (ua != ub)
		return ua > ub ? -1 : 1;
	if (a->severity != b->severity)
		return a->severity > b->severity ? -1 : 1;
	if (ea != eb)
		return ea > eb ? -1 : 1;
	if ((c = strcmp0(p->account_name, q->account_name)) ||
	    (c = strcmp0(p->account_id, q->account_id)) || (c = strcmp0(p->region, q->region)) ||
	    (c = strcmp0(p->bucket, q->bucket)) || (c = strcmp0(p->metric, q->metric)))
		return c;
	if (a->period_start != b->period_start)
		return a->period_start < b->period_start ? -1 : 1;
	return a->series < b->series ? -1 : a->series > b->series;
}

int cw_findings_build(const struct cw_run *run, const bool *include,
		      struct cw_findings *out)
{
	struct order *o = NULL;
	size_t i, n = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < run->nresults; i++)
		if (run->results[i].j.status == CW_STATUS_ANOMALY && (!include || include[i]) &&
		    run->results[i].series < run->nseries)
			n++;
	if (n == 0)
		return 0;
	o = malloc(n * sizeof(*o));
	out->member_store = malloc(n * sizeof(*out->member_store));
	out->v = calloc(n, sizeof(*out->v));
	if (!o || !out->member_store || !out->v) {
		free(o);
		return CW_ENOMEM;
	}
	for (i = 0, n = 0; i < run->nresults; i++)
		if (run->results[i].j.status == CW_STATUS_ANOMALY && (!include || include[i]) &&
		    run->results[i].series < run->nseries)
			o[n++] = (struct order){ run, i };
	qsort(o, n, sizeof(*o), group_cmp);
	for (i = 0; i < n; i++) {
		const struct cw_result *r = &run->results[o[i].idx];
		struct cw_finding *f = out->n ? &out->v[out->n - 1] : NULL;

		out->member_store[i] = o[i].idx;
		if (!f || f->series != r->series || f->period_start != r->j.period_start) {
			f = &out->v[out->n++];
			f->series = r->series;
			f->period_start = r->j.period_start;
			f->members = &out->member_store[i];
			f->lead = o[i].idx;
			f->severity = r->j.severity;
			f->alert = r->alert;
		} else {
			if (better_lead(r, &run->results[f->lead]))
				f->lead = o[i].idx;
			if (r->j.severity > f->severity)
				f->severity = r->j.severity;
			if (cw_alert_rank(r->alert) > cw_alert_rank(f->alert))
				f->alert = r->alert;
		}
		f->nmembers++;
	}
	out->judgements = n;
	for (i = 0; i < out->n; i++) {
		struct cw_finding *f = &out->v[i];

		f->est_excess_usd = run->results[f->lead].est_excess_usd;
		f->excess = run->results[f->lead].j.value - run->results[f->lead].j.baseline;
		f->tid = &run->series[f->series].id;
		cw_finding_id(&run->series[f->series].id, f->period_start, f->id, sizeof(f->id));
	}
	qsort(out->v, out->n, sizeof(*out->v), finding_cmp);
	free(o);
	return 0;
}

void cw_findings_release(struct cw_findings *f)
{
	if (!f)
		return;
	free(f->v);
	free(f->member_store);
	memset(f, 0, sizeof(*f));
}

int cw_finding_detectors(const struct cw_run *run, const struct cw_finding *f,
			 struct cw_buf *out)
{
	int rc = 0;

	for (size_t i = 0; i < f->nmembers && !rc; i++) {
		if (i)
			rc = cw_buf_addstr(out, ", ");
		if (!rc)
			rc = cw_buf_addstr(out, run->results[f->members[i]].detector);
	}
	return rc;
}
