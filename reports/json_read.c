/*
 * json_read.c - read a report.json back into a cw_run, for `cwsweep merge`.
 *
 * Schema "cwsweep.report/3" (what json.c writes): two tables, each a list
 * of column names and rows as arrays.  "series" names each series once with
 * the span of slots the file describes (start, slots) and its values there,
 * or null when the run kept none (a series without a finding: it is read
 * back as a series of that span without values, so the reports list it but
 * chart nothing and count none of its volume); "results" holds the
 * judgements, each naming its series by index.  Columns are found by name.
 *
 * Schema "cwsweep.report/2": "series" holds the recent history of each
 * judged series once (start, period, values), and each result names its
 * series by index (results[i].series); the target's names come from the
 * results.  Each series becomes one series of the run, spanning exactly the
 * slots written, so rendering the loaded run gives the same reports again.
 *
 * Schema "cwsweep.report/1" (older reports) is read too: each result
 * carries the history window of its series (history.start, .period,
 * .values).  Results with the same target and period belong to one
 * series: it is rebuilt to span the union of their windows.  Slots outside
 * every window are gaps.
 */
#include "report.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomicio.h"
#include "err.h"
#include "render.h"
#include "strutil.h"
#include "timeutil.h"

/* Largest report.json accepted (some 2.5 million judgements). */
#define LOAD_MAX ((size_t)2 * 1024 * 1024 * 1024)

/* Where we are, for error messages: "report.json: results[3].status". */
struct ld {
	const char *path;
	char where[64];
	char *err;
	size_t errlen;
};

static int bad(struct ld *c, const char *key, const char *what)
{
	return cw_fail(c->err, c->errlen, CW_EPARSE, "%s: %s%s%s: %s", c->path, c->where,
		       c->where[0] && key ? "." : "", key ? key : "", what);
}

/* A string member; NULL (for null) only when nullable. Borrowed. */
static int get_str(struct ld *c, json_t *obj, const char *key, bool nullable,
		   const char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (nullable && (!v || json_is_null(v)))
		return 0;
	if (!json_is_string(v))
		return bad(c, key, nullable ? "expected a string or null" : "expected a string");
	*out = json_string_value(v);
	return 0;
}

/* A number member; null is NaN. */
static int get_num(struct ld *c, json_t *obj, const char *key, double *out)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v)) {
		*out = NAN;
		return 0;
	}
	if (!json_is_number(v))
		return bad(c, key, "expected a number or null");
	*out = json_number_value(v);
	return 0;
}

static int get_int(struct ld *c, json_t *obj, const char *key, long long min,
		   long long max, long long *out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v))
		return bad(c, key, "expected an integer");
	*out = json_integer_value(v);
	if (*out < min || *out > max)
		return bad(c, key, "out of range");
	return 0;
}

/* A time; null (when nullable) is 0. */
static int get_time(struct ld *c, json_t *obj, const char *key, bool nullable,
		    int64_t *out)
{
	const char *s;
	int rc = get_str(c, obj, key, nullable, &s);

	*out = 0;
	if (rc || !s)
		return rc;
	if (cw_time_parse(s, out))
		return bad(c, key, "not an ISO 8601 time");
	return 0;
}

/* The seven identifying strings, borrowed from the document (cw_run_add_*
 * copy them; the casts only fit the struct's field types). */
static int get_id(struct ld *c, json_t *obj, struct cw_target_id *id)
{
	const char *v[8] = { NULL };
	static const char *const keys[8] = { "account_id", "account_name", "region",
					     "bucket", "metric", "unit", "owner", "tags" };
	size_t i;
	int rc;

	for (i = 0; i < 8; i++) /* tags: newer than the schema, optional */
		if ((rc = get_str(c, obj, keys[i], i == 7, &v[i])))
			return rc;
	id->account_id = (char *)v[0];
	id->account_name = (char *)v[1];
	id->region = (char *)v[2];
	id->bucket = (char *)v[3];
	id->metric = (char *)v[4];
	id->unit = (char *)v[5];
	id->owner = (char *)v[6];
	id->tags = (char *)v[7];
	return 0;
}

/* Index of name in a NULL-terminated list of words, or -1. */
static int word(const char *name, const char *const *words)
{
	int i;

	for (i = 0; words[i]; i++)
		if (strcmp(name, words[i]) == 0)
			return i;
	return -1;
}

/* ---- grouping results into series ------------------------------------- */

struct group {
	char *key;            /* identity + period; NULL = free slot */
	int64_t start, end;   /* union of the history windows */
	int64_t period;
	size_t first;         /* first result of the group */
	size_t series;        /* index in the run, once added */
};

struct groups {
	struct group *slot;   /* open addressing, cap a power of two */
	size_t cap;
	size_t *order;        /* slot indices in order of first appearance */
	size_t n;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* The group for key (created when new: *created set). */
static int groups_get(struct groups *g, const char *key, size_t *slot, bool *created)
{
	size_t i = (size_t)fnv1a(key) & (g->cap - 1);

	*created = false;
	while (g->slot[i].key) {
		if (strcmp(g->slot[i].key, key) == 0) {
			*slot = i;
			return 0;
		}
		i = (i + 1) & (g->cap - 1);
	}
	g->slot[i].key = cw_strdup(key);
	if (!g->slot[i].key)
		return CW_ENOMEM;
	g->order[g->n++] = i;
	*slot = i;
	*created = true;
	return 0;
}

static void groups_release(struct groups *g)
{
	size_t i;

	for (i = 0; g->slot && i < g->cap; i++)
		free(g->slot[i].key);
	free(g->slot);
	free(g->order);
}

/* The key of a series: its identity and period, fields apart by 0x1f. */
static int series_key(struct cw_buf *b, const struct cw_target_id *id, int64_t period)
{
	cw_buf_reset(b);
	return cw_buf_printf(b, "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%lld",
			     id->account_id, id->account_name, id->region, id->bucket,
			     id->metric, id->unit, id->owner, id->tags ? id->tags : "",
			     (long long)period);
}

struct hist {
	int64_t start, period;
	json_t *values;
};

/* A history window {start, period, values}: o itself, its place in c->where. */
static int get_window(struct ld *c, json_t *o, struct hist *h)
{
	long long period = 0;
	int rc;

	if (!json_is_object(o))
		return bad(c, NULL, "expected an object");
	if ((rc = get_time(c, o, "start", true, &h->start)) ||
	    (rc = get_int(c, o, "period", 0, 366LL * 86400, &period)))
		return rc;
	h->period = period;
	h->values = json_object_get(o, "values");
	if (!json_is_array(h->values))
		return bad(c, "values", "expected an array");
	if (json_array_size(h->values) && period <= 0)
		return bad(c, "period", "must be positive");
	return 0;
}

/* Schema 1: the history window of result r (c->where names r). */
static int get_hist(struct ld *c, json_t *r, struct hist *h)
{
	size_t at = strlen(c->where);
	int rc;

	snprintf(c->where + at, sizeof(c->where) - at, ".history");
	rc = get_window(c, json_object_get(r, "history"), h);
	c->where[at] = '\0';
	return rc;
}

/* Copy the window's values into s from slot off on. */
static int fill_values(struct ld *c, const struct hist *h, struct cw_series *s, size_t off)
{
	size_t i;

	for (i = 0; i < json_array_size(h->values); i++) {
		json_t *v = json_array_get(h->values, i);

		if (json_is_number(v))
			s->values[off + i] = json_number_value(v);
		else if (!json_is_null(v))
			return bad(c, "values", "expected numbers or null");
	}
	return 0;
}

/* A series with n slots from h->start (no slots: nothing was read for it),
 * every slot a gap. */
static int new_series(struct ld *c, const struct hist *h, size_t n, struct cw_series *s)
{
	int rc;

	if (n == 0) {
		memset(s, 0, sizeof(*s));
		s->start = s->complete_end = h->start;
		s->period = h->period;
		return 0;
	}
	if ((rc = cw_series_init(s, h->start, h->period, n)))
		return rc == CW_ENOMEM ? rc : bad(c, NULL, "series too long");
	return 0;
}

/* Pass 1: group the results and find each series' span. */
static int group_results(struct ld *c, json_t *results, struct groups *g, size_t *gslot)
{
	struct cw_buf key = CW_BUF_INIT;
	size_t i, n = json_array_size(results);
	int rc = 0;

	for (i = 0; i < n && !rc; i++) {
		json_t *r = json_array_get(results, i);
		struct cw_target_id id;
		struct hist h;
		struct group *gr;
		bool created;
		int64_t end;

		snprintf(c->where, sizeof(c->where), "results[%zu]", i);
		if (!json_is_object(r)) {
			rc = bad(c, NULL, "expected an object");
			break;
		}
		if ((rc = get_id(c, r, &id)) || (rc = get_hist(c, r, &h)) ||
		    (rc = series_key(&key, &id, h.period)) ||
		    (rc = groups_get(g, cw_buf_str(&key), &gslot[i], &created)))
			break;
		gr = &g->slot[gslot[i]];
		end = h.start + (int64_t)json_array_size(h.values) * h.period;
		if (created) {
			gr->start = h.start;
			gr->end = end;
			gr->period = h.period;
			gr->first = i;
			continue;
		}
		if (h.period > 0 && (h.start - gr->start) % h.period != 0) {
			rc = bad(c, "history.start", "not on the series' period grid");
			break;
		}
		gr->start = h.start < gr->start ? h.start : gr->start;
		gr->end = end > gr->end ? end : gr->end;
	}
	cw_buf_release(&key);
	return rc;
}

/* Schema 1, pass 2: a series for each group (tmp[k] for the group's
 * order k, kept in gr->series until the series joins the run). */
static int new_group_series(struct ld *c, struct groups *g, struct cw_series *tmp)
{
	int rc;

	for (size_t k = 0; k < g->n; k++) {
		struct group *gr = &g->slot[g->order[k]];
		struct hist h = { gr->start, gr->period, NULL };
		size_t n = gr->period > 0 ? (size_t)((gr->end - gr->start) / gr->period) : 0;

		snprintf(c->where, sizeof(c->where), "results[%zu].history", gr->first);
		if ((rc = new_series(c, &h, n, &tmp[k])))
			return rc;
		gr->series = k;
	}
	return 0;
}

/* Schema 1, pass 4: the filled series join the run (the run takes their
 * sums as they come, so they come whole). */
static int add_series(struct ld *c, json_t *results, struct groups *g, struct cw_series *tmp,
		      struct cw_run *run)
{
	int rc;

	for (size_t k = 0; k < g->n; k++) {
		struct group *gr = &g->slot[g->order[k]];
		struct cw_target_id id;

		snprintf(c->where, sizeof(c->where), "results[%zu]", gr->first);
		if ((rc = get_id(c, json_array_get(results, gr->first), &id)) ||
		    (rc = cw_run_add_series(run, &id, &tmp[k], &gr->series)))
			return rc;
	}
	return 0;
}

static const char *const status_words[] = { "ok", "anomaly", "insufficient_history",
					    "failed", NULL };
static const char *const severity_words[] = { "info", "warning", "critical", NULL };
static const char *const alert_words[] = { "", "new", "ongoing", "grew", "resolved",
					   "acknowledged", NULL };

/* Add the judgement of result r to series `series` of the run. */
static int add_result(struct ld *c, json_t *r, size_t series, struct cw_run *run)
{
	const struct cw_detector_ops *ops;
	struct cw_judgement j;
	struct cw_result *res;
	const char *det, *status, *sev, *alert, *note;
	double est;
	int st, sv = CW_SEV_WARNING, al = CW_ALERT_NONE, rc;

	memset(&j, 0, sizeof(j));
	if ((rc = get_str(c, r, "detector", false, &det)) ||
	    (rc = get_str(c, r, "status", false, &status)) ||
	    (rc = get_str(c, r, "severity", true, &sev)) ||
	    (rc = get_str(c, r, "alert", true, &alert)) ||
	    (rc = get_str(c, r, "note", true, &note)) ||
	    (rc = get_time(c, r, "period_start", true, &j.period_start)) ||
	    (rc = get_num(c, r, "value", &j.value)) ||
	    (rc = get_num(c, r, "baseline", &j.baseline)) ||
	    (rc = get_num(c, r, "limit", &j.limit)) ||
	    (rc = get_num(c, r, "score", &j.score)) ||
	    (rc = get_num(c, r, "est_excess_usd", &est)))
		return rc;
	if (json_object_get(r, "est_excess_usd_all")) { /* every priced row; newer files */
		double all;

		if ((rc = get_num(c, r, "est_excess_usd_all", &all)))
			return rc;
		if (!isnan(all))
			est = all;
	}
	ops = cw_detector_find(det);
	if (!ops)
		return bad(c, "detector", "not a known detector");
	if ((st = word(status, status_words)) < 0)
		return bad(c, "status", "not a known status");
	if (sev && (sv = word(sev, severity_words)) < 0)
		return bad(c, "severity", "not a known severity");
	if (alert && (al = word(alert, alert_words)) < 0)
		return bad(c, "alert", "not a known alert state");
	j.status = (enum cw_status)st;
	j.severity = (enum cw_severity)sv;

	if ((rc = cw_run_add_result(run, series, ops->name, &j, note)))
		return rc;
	res = &run->results[run->nresults - 1];
	res->est_excess_usd = est;
	res->alert = (enum cw_alert)al;
	return 0;
}

/* Schema 1, pass 3: fill result r's history into its group's series. */
static int fill_result_v1(struct ld *c, json_t *r, const struct group *gr, struct cw_series *tmp)
{
	struct cw_series *s = &tmp[gr->series];
	struct hist h;
	size_t off, at = strlen(c->where);
	int rc;

	if ((rc = get_hist(c, r, &h)))
		return rc;
	off = s->period > 0 ? (size_t)((h.start - s->start) / s->period) : 0;
	snprintf(c->where + at, sizeof(c->where) - at, ".history");
	rc = fill_values(c, &h, s, off);
	c->where[at] = '\0';
	return rc;
}

/* ---- the document ------------------------------------------------------ */

static int load_meta(struct ld *c, json_t *doc, struct cw_run *run)
{
	json_t *meta = json_object_get(doc, "run"), *dets, *summary;
	const char *mode, *run_id, *inventory, *price_note;
	long long v;
	size_t i;
	int rc;

	snprintf(c->where, sizeof(c->where), "run");
	if (!json_is_object(meta))
		return bad(c, NULL, "expected an object");
	if ((rc = get_str(c, meta, "mode", false, &mode)) ||
	    (rc = get_str(c, meta, "run_id", false, &run_id)) ||
	    (rc = get_str(c, meta, "inventory", false, &inventory)))
		return rc;
	if ((rc = cw_run_init(run, mode)))
		return rc;
	if ((rc = cw_str_set(&run->run_id, run_id)) ||
	    (rc = cw_str_set(&run->inventory, inventory)) ||
	    (rc = get_time(c, meta, "started", false, &run->started)) ||
	    (rc = get_time(c, meta, "finished", false, &run->finished)))
		return rc;
	if ((rc = get_int(c, meta, "period_seconds", 0, INT64_MAX, &v)))
		return rc;
	run->period = v;
	if ((rc = get_int(c, meta, "lookback_seconds", 0, INT64_MAX, &v)))
		return rc;
	run->lookback = v;
	if (!json_is_boolean(json_object_get(meta, "all_periods")))
		return bad(c, "all_periods", "expected true or false");
	run->all_periods = json_is_true(json_object_get(meta, "all_periods"));
	if ((rc = get_int(c, meta, "accounts", 0, INT64_MAX, &v)))
		return rc;
	run->accounts = (size_t)v;
	if ((rc = get_int(c, meta, "regions", 0, INT64_MAX, &v)))
		return rc;
	run->regions = (size_t)v;
	if ((rc = get_int(c, meta, "api_calls", 0, INT64_MAX, &v)))
		return rc;
	run->api_calls = (size_t)v;
	/* newer keys, optional: the shard and the replayed time */
	{
		const char *shard = NULL;
		unsigned k, n;
		char tail;

		if ((rc = get_str(c, meta, "shard", true, &shard)))
			return rc;
		if (shard) {
			if (sscanf(shard, "%u/%u%c", &k, &n, &tail) != 2 || n == 0 || k >= n)
				return bad(c, "shard", "expected K/N with 0 <= K < N");
			run->shard_k = k;
			run->shard_n = n;
		}
		if ((rc = get_time(c, meta, "at", true, &run->at)))
			return rc;
	}

	dets = json_object_get(meta, "detectors");
	if (!json_is_array(dets))
		return bad(c, "detectors", "expected an array");
	run->detectors = calloc(json_array_size(dets) + 1, sizeof(*run->detectors));
	if (!run->detectors)
		return CW_ENOMEM;
	for (i = 0; i < json_array_size(dets); i++) {
		json_t *d = json_array_get(dets, i);

		if (!json_is_string(d))
			return bad(c, "detectors", "expected strings");
		run->detectors[i] = cw_strdup(json_string_value(d));
		if (!run->detectors[i])
			return CW_ENOMEM;
		run->ndetectors++;
	}

	snprintf(c->where, sizeof(c->where), "summary");
	summary = json_object_get(doc, "summary");
	if (!json_is_object(summary))
		return bad(c, NULL, "expected an object");
	if ((rc = get_num(c, summary, "total_est_excess_usd", &run->total_excess_usd)))
		return rc;
	c->where[0] = '\0';
	if ((rc = get_str(c, doc, "price_note", true, &price_note)))
		return rc;
	return cw_str_set(&run->price_note, price_note);
}

/* unwatched[] and coverage[] (newer reports; absent in older ones). */
static int load_coverage(struct ld *c, json_t *doc, struct cw_run *run)
{
	json_t *u = json_object_get(doc, "unwatched"), *cv = json_object_get(doc, "coverage");
	size_t i;
	int rc;

	if (u && !json_is_array(u))
		return bad(c, "unwatched", "expected an array");
	if (cv && !json_is_array(cv))
		return bad(c, "coverage", "expected an array");
	for (i = 0; i < json_array_size(u); i++) {
		json_t *f = json_array_get(u, i);
		struct cw_target_id id;
		const char *reason, *fix;
		double bytes, usd;

		snprintf(c->where, sizeof(c->where), "unwatched[%zu]", i);
		if (!json_is_object(f))
			return bad(c, NULL, "expected an object");
		if ((rc = get_id(c, f, &id)) || (rc = get_str(c, f, "reason", false, &reason)) ||
		    (rc = get_str(c, f, "fix", false, &fix)) ||
		    (rc = get_num(c, f, "stored_bytes", &bytes)) ||
		    (rc = get_num(c, f, "watch_usd_month", &usd)) ||
		    (rc = cw_run_add_unwatched(run, &id, CW_UNMEASURED_NOT_WATCHED, bytes, usd,
					       reason, fix)))
			return rc;
	}
	for (i = 0; i < json_array_size(cv); i++) {
		json_t *f = json_array_get(cv, i);
		struct cw_coverage k;
		const char *aid, *aname;
		long long nb, nw;
		json_t *comp;

		snprintf(c->where, sizeof(c->where), "coverage[%zu]", i);
		if (!json_is_object(f))
			return bad(c, NULL, "expected an object");
		memset(&k, 0, sizeof(k));
		if ((rc = get_str(c, f, "account_id", false, &aid)) ||
		    (rc = get_str(c, f, "account_name", false, &aname)) ||
		    (rc = get_int(c, f, "buckets", 0, 1LL << 40, &nb)) ||
		    (rc = get_int(c, f, "watched", 0, nb, &nw)) ||
		    (rc = get_num(c, f, "stored_bytes", &k.bytes)) ||
		    (rc = get_num(c, f, "watched_bytes", &k.watched_bytes)))
			return rc;
		comp = json_object_get(f, "complete");
		if (!json_is_boolean(comp))
			return bad(c, "complete", "expected true or false");
		k.account_id = (char *)aid;
		k.account_name = (char *)aname;
		k.buckets = (size_t)nb;
		k.watched = (size_t)nw;
		k.complete = json_is_true(comp);
		if (isnan(k.bytes))
			k.bytes = 0;
		if (isnan(k.watched_bytes))
			k.watched_bytes = 0;
		if ((rc = cw_run_add_coverage(run, &k)))
			return rc;
	}
	return 0;
}

static int load_failures(struct ld *c, json_t *doc, struct cw_run *run)
{
	json_t *a = json_object_get(doc, "failures"), *u = json_object_get(doc, "unmeasured");
	size_t i;
	int rc;

	c->where[0] = '\0';
	if (!json_is_array(a))
		return bad(c, "failures", "expected an array");
	if (!json_is_array(u))
		return bad(c, "unmeasured", "expected an array");
	for (i = 0; i < json_array_size(a); i++) {
		json_t *f = json_array_get(a, i);
		struct cw_target_id id;
		const char *stage, *code, *message;

		snprintf(c->where, sizeof(c->where), "failures[%zu]", i);
		if (!json_is_object(f))
			return bad(c, NULL, "expected an object");
		if ((rc = get_id(c, f, &id)) || (rc = get_str(c, f, "stage", false, &stage)) ||
		    (rc = get_str(c, f, "code", false, &code)) ||
		    (rc = get_str(c, f, "message", false, &message)) ||
		    (rc = cw_run_add_failure(run, &id, stage, code, message)))
			return rc;
	}
	for (i = 0; i < json_array_size(u); i++) {
		json_t *f = json_array_get(u, i);
		struct cw_target_id id;
		const char *reason, *fix;

		snprintf(c->where, sizeof(c->where), "unmeasured[%zu]", i);
		if (!json_is_object(f))
			return bad(c, NULL, "expected an object");
		if ((rc = get_id(c, f, &id)) || (rc = get_str(c, f, "reason", false, &reason)) ||
		    (rc = get_str(c, f, "fix", false, &fix)) ||
		    (rc = cw_run_add_unmeasured(run, &id, reason, fix)))
			return rc;
	}
	return load_coverage(c, doc, run);
}

/* Schema 1: series rebuilt from the results' history windows. */
static int load_results_v1(struct ld *c, json_t *results, struct cw_run *run)
{
	struct groups g = { NULL, 0, NULL, 0 };
	struct cw_series *tmp = NULL;
	size_t *gslot = NULL, i, n = json_array_size(results);
	int rc;

	for (g.cap = 16; g.cap < 2 * n; g.cap *= 2)
		;
	g.slot = calloc(g.cap, sizeof(*g.slot));
	g.order = calloc(g.cap, sizeof(*g.order));
	gslot = calloc(n + 1, sizeof(*gslot));
	tmp = calloc(n + 1, sizeof(*tmp)); /* at most one group per result */
	if (!g.slot || !g.order || !gslot || !tmp) {
		rc = CW_ENOMEM;
		goto out;
	}
	if ((rc = group_results(c, results, &g, gslot)) ||
	    (rc = new_group_series(c, &g, tmp)))
		goto out;
	for (i = 0; i < n; i++) {
		snprintf(c->where, sizeof(c->where), "results[%zu]", i);
		if ((rc = fill_result_v1(c, json_array_get(results, i), &g.slot[gslot[i]], tmp)))
			goto out;
	}
	if ((rc = add_series(c, results, &g, tmp, run)))
		goto out;
	for (i = 0; i < n; i++) {
		snprintf(c->where, sizeof(c->where), "results[%zu]", i);
		if ((rc = add_result(c, json_array_get(results, i), g.slot[gslot[i]].series, run)))
			goto out;
	}
out:
	for (i = 0; tmp && i < n + 1; i++)
		cw_series_release(&tmp[i]);
	free(tmp);
	free(gslot);
	groups_release(&g);
	return rc;
}

/*
 * Schema 2: one run series per entry of "series", named after the first
 * result that refers to it; every result that refers to it must name the
 * same target.
 */
static int load_results_v2(struct ld *c, json_t *results, json_t *series, struct cw_run *run)
{
	struct cw_buf key = CW_BUF_INIT, first_key = CW_BUF_INIT;
	size_t *first = NULL, *idx = NULL, *ref = NULL, i, k;
	size_t n = json_array_size(results), ns = json_array_size(series);
	int rc = 0;

	first = malloc((ns + 1) * sizeof(*first));
	idx = malloc((ns + 1) * sizeof(*idx));
	ref = malloc((n + 1) * sizeof(*ref));
	if (!first || !idx || !ref) {
		rc = CW_ENOMEM;
		goto out;
	}
	for (k = 0; k < ns; k++)
		first[k] = SIZE_MAX;
	/* Which series each result names; the first result of each series. */
	for (i = 0; i < n; i++) {
		json_t *r = json_array_get(results, i);
		long long v = 0;

		snprintf(c->where, sizeof(c->where), "results[%zu]", i);
		if (!json_is_object(r)) {
			rc = bad(c, NULL, "expected an object");
			goto out;
		}
		if ((rc = get_int(c, r, "series", 0, ns ? (long long)ns - 1 : -1, &v)))
			goto out;
		ref[i] = (size_t)v;
		if (first[ref[i]] == SIZE_MAX)
			first[ref[i]] = i;
	}
	for (k = 0; k < ns; k++) {
		struct cw_target_id id;
		struct cw_series s;
		struct hist h;

		snprintf(c->where, sizeof(c->where), "series[%zu]", k);
		if (first[k] == SIZE_MAX) {
			rc = bad(c, NULL, "no result refers to it");
			goto out;
		}
		if ((rc = get_window(c, json_array_get(series, k), &h)) ||
		    (rc = new_series(c, &h, json_array_size(h.values), &s)))
			goto out;
		if ((rc = fill_values(c, &h, &s, 0))) {
			cw_series_release(&s);
			goto out;
		}
		snprintf(c->where, sizeof(c->where), "results[%zu]", first[k]);
		if ((rc = get_id(c, json_array_get(results, first[k]), &id)) == 0)
			rc = cw_run_add_series(run, &id, &s, &idx[k]);
		cw_series_release(&s);
		if (rc)
			goto out;
	}
	for (i = 0; i < n; i++) {
		json_t *r = json_array_get(results, i);
		struct cw_target_id id;

		snprintf(c->where, sizeof(c->where), "results[%zu]", i);
		if ((rc = get_id(c, r, &id)) ||
		    (rc = series_key(&key, &id, 0)))
			goto out;
		if (first[ref[i]] != i) {
			cw_buf_reset(&first_key);
			if ((rc = series_key(&first_key, &run->series[idx[ref[i]]].id, 0)))
				goto out;
			if (strcmp(cw_buf_str(&key), cw_buf_str(&first_key)) != 0) {
				rc = bad(c, "series", "names the series of another target");
				goto out;
			}
		}
		if ((rc = add_result(c, r, idx[ref[i]], run)))
			goto out;
	}
out:
	cw_buf_release(&key);
	cw_buf_release(&first_key);
	free(first);
	free(idx);
	free(ref);
	return rc;
}

/*
 * Schema 3: a row of a table as an object keyed by the table's column
 * names (*out a new reference; rows may be shorter or longer than the
 * columns: what is missing is null, what is extra is ignored).
 */
static int row_object(struct ld *c, json_t *cols, json_t *row, json_t **out)
{
	json_t *o;

	*out = NULL;
	if (!json_is_array(row))
		return bad(c, NULL, "expected an array");
	o = json_object();
	if (!o)
		return CW_ENOMEM;
	for (size_t i = 0; i < json_array_size(cols) && i < json_array_size(row); i++)
		if (json_object_set(o, json_string_value(json_array_get(cols, i)),
				    json_array_get(row, i))) {
			json_decref(o);
			return CW_ENOMEM;
		}
	*out = o;
	return 0;
}

/* Schema 3: the column names of table `key` ("series" -> "series_columns"). */
static int get_columns(struct ld *c, json_t *doc, const char *key, json_t **cols)
{
	*cols = json_object_get(doc, key);
	c->where[0] = '\0';
	if (!json_is_array(*cols))
		return bad(c, key, "expected an array of column names");
	for (size_t i = 0; i < json_array_size(*cols); i++)
		if (!json_is_string(json_array_get(*cols, i)))
			return bad(c, key, "expected an array of column names");
	return 0;
}

/* Schema 3: series row o as a series of the run (index in *idx). */
static int add_series_v3(struct ld *c, json_t *o, struct cw_run *run, size_t *idx)
{
	struct cw_target_id id;
	struct cw_series s;
	struct hist h;
	long long period = 0, slots = 0;
	json_t *values = json_object_get(o, "values");
	int rc;

	if ((rc = get_id(c, o, &id)) ||
	    (rc = get_int(c, o, "period_seconds", 0, 366LL * 86400, &period)) ||
	    (rc = get_time(c, o, "start", true, &h.start)) ||
	    (rc = get_int(c, o, "slots", 0, 20LL * 1000 * 1000, &slots)))
		return rc;
	if (values && !json_is_null(values) &&
	    (!json_is_array(values) || json_array_size(values) != (size_t)slots))
		return bad(c, "values", "expected null or an array of `slots` numbers");
	if (slots && period <= 0)
		return bad(c, "period_seconds", "must be positive");
	h.period = period;
	h.values = json_is_array(values) ? values : NULL;
	if ((rc = new_series(c, &h, (size_t)slots, &s)))
		return rc;
	if (h.values && (rc = fill_values(c, &h, &s, 0))) {
		cw_series_release(&s);
		return rc;
	}
	if (!h.values) { /* the run kept no values of it */
		free(s.values);
		s.values = NULL;
	}
	rc = cw_run_add_series(run, &id, &s, idx);
	cw_series_release(&s);
	return rc;
}

/* Schema 3: the series table, then the results table. */
static int load_results_v3(struct ld *c, json_t *doc, json_t *results, json_t *series,
			   struct cw_run *run)
{
	json_t *scols, *rcols, *o = NULL;
	size_t ns = json_array_size(series), *idx;
	unsigned char *used; /* 1: a result refers to it, 2: an anomaly does */
	int rc;

	if ((rc = get_columns(c, doc, "series_columns", &scols)) ||
	    (rc = get_columns(c, doc, "result_columns", &rcols)))
		return rc;
	idx = malloc((ns + 1) * sizeof(*idx));
	used = calloc(ns + 1, sizeof(*used));
	if (!idx || !used) {
		free(idx);
		free(used);
		return CW_ENOMEM;
	}
	for (size_t k = 0; k < ns && !rc; k++) {
		snprintf(c->where, sizeof(c->where), "series[%zu]", k);
		if ((rc = row_object(c, scols, json_array_get(series, k), &o)) == 0)
			rc = add_series_v3(c, o, run, &idx[k]);
		json_decref(o);
		o = NULL;
	}
	for (size_t i = 0; i < json_array_size(results) && !rc; i++) {
		long long k = 0;

		snprintf(c->where, sizeof(c->where), "results[%zu]", i);
		if ((rc = row_object(c, rcols, json_array_get(results, i), &o)) == 0 &&
		    (rc = get_int(c, o, "series", 0, ns ? (long long)ns - 1 : -1, &k)) == 0 &&
		    (rc = add_result(c, o, idx[k], run)) == 0)
			used[k] |= run->results[run->nresults - 1].j.status == CW_STATUS_ANOMALY
				   ? 2 : 1;
		json_decref(o);
		o = NULL;
	}
	for (size_t k = 0; k < ns && !rc; k++) {
		struct cw_series *sr = &run->series[idx[k]].series;

		snprintf(c->where, sizeof(c->where), "series[%zu]", k);
		if (!used[k])
			rc = bad(c, NULL, "no result refers to it");
		/* a finding is charted: a file without its values gets gaps */
		if (!rc && (used[k] & 2) && !sr->values && sr->n) {
			if (!(sr->values = malloc(sr->n * sizeof(*sr->values))))
				rc = CW_ENOMEM;
			for (size_t i = 0; !rc && i < sr->n; i++)
				sr->values[i] = NAN;
		}
	}
	free(idx);
	free(used);
	return rc;
}

static int load_doc(struct ld *c, json_t *doc, struct cw_run *run)
{
	json_t *results, *series, *schema;
	const char *name;
	int rc, version;

	schema = json_object_get(doc, "schema");
	name = json_is_object(doc) && json_is_string(schema) ? json_string_value(schema) : "";
	if (strcmp(name, "cwsweep.report/3") == 0)
		version = 3;
	else if (strcmp(name, "cwsweep.report/2") == 0)
		version = 2;
	else if (strcmp(name, "cwsweep.report/1") == 0)
		version = 1;
	else
		return cw_fail(c->err, c->errlen, CW_EPARSE,
			       "%s: not a cwsweep report (schema \"cwsweep.report/3\", /2 or "
			       "/1 wanted)", c->path);
	if ((rc = load_meta(c, doc, run)))
		return rc;
	results = json_object_get(doc, "results");
	c->where[0] = '\0';
	if (!json_is_array(results))
		return bad(c, "results", "expected an array");
	if (version == 1) {
		rc = load_results_v1(c, results, run);
	} else {
		series = json_object_get(doc, "series");
		if (!json_is_array(series))
			return bad(c, "series", "expected an array");
		rc = version == 3 ? load_results_v3(c, doc, results, series, run)
				  : load_results_v2(c, results, series, run);
	}
	return rc ? rc : load_failures(c, doc, run);
}

int cw_report_json_parse(const char *name, const char *text, size_t len, struct cw_run *run,
			 char *err, size_t errlen)
{
	struct ld c = { name, "", err, errlen };
	json_error_t jerr;
	json_t *doc;
	int rc;

	memset(run, 0, sizeof(*run));
	if (len > LOAD_MAX)
		return cw_fail(err, errlen, CW_ETOOBIG, "%s: larger than %zu bytes", name,
			       (size_t)LOAD_MAX);
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		return cw_fail(err, errlen, CW_EPARSE, "%s:%d:%d: %s", name, jerr.line,
			       jerr.column, jerr.text);
	rc = load_doc(&c, doc, run);
	json_decref(doc);
	if (rc) {
		if (rc == CW_ENOMEM)
			cw_fail(err, errlen, rc, "%s: out of memory", name);
		cw_run_release(run);
	}
	return rc;
}

int cw_report_json_load(const char *path, struct cw_run *run, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	memset(run, 0, sizeof(*run));
	if ((rc = cw_read_file(path, LOAD_MAX, &text, &len, err, errlen)))
		return rc;
	rc = cw_report_json_parse(path, text, len, run, err, errlen);
	free(text);
	return rc;
}
