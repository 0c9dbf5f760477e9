/*
 * json.c - the whole run for programs (and for `cwsweep merge`):
 * report.json, schema "cwsweep.report/3".
 *
 * Keys come in a fixed order and every value is written the same way each
 * time, so the output of one run is byte-for-byte stable.  The document is
 * written directly rather than built with jansson: jansson prints reals
 * with "%.17g" (0.1 becomes 0.10000000000000001), while here every number
 * is the shortest text that reads back to the same double (cw_fmt_plain,
 * as in the CSV).  Missing numbers (NaN) are null.  The tests parse the
 * output with jansson and with Python's json module.  It is written front
 * to back and never read back, so it can stream to its file.
 *
 * Compact by default (no blank, no line break); run->pretty indents it for
 * people, a row of the two tables on one line each.
 *
 * The two large parts are tables, a list of column names and rows as
 * arrays: "series" names each judged series once (its target, period and
 * the span the file describes, with the values of that span only for a
 * series with a finding: the run keeps no other history), and "results"
 * holds every judgement, naming its series by index.  json_read.c reads
 * it back (and the older /2 and /1).
 */
#include "report.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "err.h"
#include "escape.h"
#include "findings.h"
#include "render.h"
#include "timeutil.h"
#include "units.h"

/* The writer: compact, or two spaces per level when pretty; a row (an
 * array in a table) stays on one line.  Errors sticky in rc. */
struct jw {
	struct cw_buf *out;
	int depth;
	bool has_items; /* the open container has an element already */
	bool pretty;
	int row;        /* > 0: inside a row, items on one line */
	int rc;
};

/* Separator, line break and indent before an element; then "key": if any. */
static void jw_item(struct jw *w, const char *key)
{
	int i;

	if (w->rc)
		return;
	if (w->has_items)
		w->rc = cw_buf_addstr(w->out, w->row && w->pretty ? ", " : ",");
	if (w->pretty && !w->row) {
		if (!w->rc)
			w->rc = cw_buf_addch(w->out, '\n');
		for (i = 0; i < w->depth && !w->rc; i++)
			w->rc = cw_buf_addstr(w->out, "  ");
	}
	if (key && !w->row && !w->rc) { /* a row's members are its columns */
		w->rc = cw_json_string(w->out, key);
		if (!w->rc)
			w->rc = cw_buf_addstr(w->out, w->pretty ? ": " : ":");
	}
	w->has_items = true;
}

static void jw_raw(struct jw *w, const char *s)
{
	if (!w->rc)
		w->rc = cw_buf_addstr(w->out, s);
}

static void jw_begin(struct jw *w, const char *key, const char *open)
{
	jw_item(w, key);
	jw_raw(w, open);
	w->depth++;
	w->has_items = false;
}

static void jw_end(struct jw *w, const char *close)
{
	w->depth--;
	if (w->has_items && w->pretty && !w->row) {
		int i;

		jw_raw(w, "\n");
		for (i = 0; i < w->depth; i++)
			jw_raw(w, "  ");
	}
	jw_raw(w, close);
	w->has_items = true;
}

static void jw_str(struct jw *w, const char *key, const char *s);

/* A row of a table: an array on one line. */
static void jw_row_begin(struct jw *w)
{
	jw_begin(w, NULL, "[");
	w->row++;
}

static void jw_row_end(struct jw *w)
{
	jw_end(w, "]");
	w->row--;
}

/* The column names of a table. */
static void jw_columns(struct jw *w, const char *key, const char *const *names, size_t n)
{
	jw_begin(w, key, "[");
	w->row++;
	for (size_t i = 0; i < n; i++)
		jw_str(w, NULL, names[i]);
	jw_end(w, "]");
	w->row--;
}

/* A string, or null when s is NULL. */
static void jw_str(struct jw *w, const char *key, const char *s)
{
	jw_item(w, key);
	if (!s)
		jw_raw(w, "null");
	else if (!w->rc)
		w->rc = cw_json_string(w->out, s);
}

static void jw_plain(struct jw *w, double v)
{
	char buf[64];

	if (!isfinite(v))
		jw_raw(w, "null");
	else
		jw_raw(w, cw_fmt_plain(v, buf, sizeof(buf)));
}

/* A number, or null when v is NaN (or infinite). */
static void jw_num(struct jw *w, const char *key, double v)
{
	jw_item(w, key);
	jw_plain(w, v);
}

static void jw_int(struct jw *w, const char *key, long long v)
{
	char digits[24];

	jw_item(w, key);
	jw_raw(w, cw_fmt_int(v, digits, sizeof(digits)));
}

static void jw_bool(struct jw *w, const char *key, bool v)
{
	jw_item(w, key);
	jw_raw(w, v ? "true" : "false");
}

/* A time, or null when !known. */
static void jw_time(struct jw *w, const char *key, int64_t t, bool known)
{
	char buf[CW_TIME_ISO_LEN];

	jw_str(w, key, known ? cw_time_iso(t, buf, sizeof(buf)) : NULL);
}

/* The identifying members shared by results, failures and unmeasured. */
static void jw_ident(struct jw *w, const struct cw_target_id *id)
{
	jw_str(w, "account_id", id->account_id ? id->account_id : "");
	jw_str(w, "account_name", id->account_name ? id->account_name : "");
	jw_str(w, "region", id->region ? id->region : "");
	jw_str(w, "bucket", id->bucket ? id->bucket : "");
	jw_str(w, "metric", id->metric ? id->metric : "");
	jw_str(w, "unit", id->unit ? id->unit : "");
	jw_str(w, "owner", id->owner ? id->owner : "");
	jw_str(w, "tags", id->tags ? id->tags : "");
}

/* The counts of a coverage (an account's or the run's). */
static void jw_coverage(struct jw *w, const struct cw_coverage *c)
{
	jw_int(w, "buckets", (long long)c->buckets);
	jw_int(w, "watched", (long long)c->watched);
	jw_num(w, "stored_bytes", c->bytes);
	jw_num(w, "watched_bytes", c->watched_bytes);
	jw_num(w, "watched_bytes_pct", c->bytes > 0 ? 100.0 * c->watched_bytes / c->bytes : NAN);
	jw_bool(w, "complete", c->complete);
}

static void jw_run(struct jw *w, const struct cw_run *run)
{
	size_t i;

	jw_begin(w, "run", "{");
	jw_str(w, "mode", run->mode ? run->mode : "");
	jw_str(w, "run_id", run->run_id ? run->run_id : "");
	jw_str(w, "inventory", run->inventory ? run->inventory : "");
	jw_time(w, "started", run->started, true);
	jw_time(w, "finished", run->finished, true);
	jw_int(w, "period_seconds", run->period);
	jw_int(w, "lookback_seconds", run->lookback);
	jw_bool(w, "all_periods", run->all_periods);
	jw_int(w, "accounts", (long long)run->accounts);
	jw_int(w, "regions", (long long)run->regions);
	jw_int(w, "api_calls", (long long)run->api_calls);
	if (run->shard_n) {
		char shard[48];

		snprintf(shard, sizeof(shard), "%u/%u", run->shard_k, run->shard_n);
		jw_str(w, "shard", shard);
	} else {
		jw_str(w, "shard", NULL);
	}
	jw_time(w, "at", run->at, run->at != 0);
	jw_begin(w, "detectors", "[");
	for (i = 0; i < run->ndetectors; i++)
		jw_str(w, NULL, run->detectors[i]);
	jw_end(w, "]");
	jw_end(w, "}");
}

static void jw_summary(struct jw *w, const struct cw_run *run)
{
	struct cw_run_counts c;

	cw_run_count(run, &c);
	jw_begin(w, "summary", "{");
	jw_int(w, "series", (long long)c.series);
	jw_int(w, "judgements", (long long)c.judgements);
	jw_int(w, "anomalies", (long long)c.anomalies);
	jw_int(w, "ok", (long long)c.ok);
	jw_int(w, "insufficient_history", (long long)c.insufficient);
	jw_int(w, "failures", (long long)c.failures);
	jw_int(w, "not_measured", (long long)c.not_found);
	jw_num(w, "total_est_excess_usd", run->total_excess_usd);
	jw_int(w, "not_watched", (long long)c.not_watched);
	jw_int(w, "not_found", (long long)c.not_found);
	{
		struct cw_coverage t;
		char line[160];

		if (cw_run_coverage_total(run, &t)) {
			jw_begin(w, "coverage", "{");
			jw_coverage(w, &t);
			jw_str(w, "line", cw_coverage_line(&t, line, sizeof(line)));
			jw_end(w, "}");
		} else {
			jw_item(w, "coverage");
			jw_raw(w, "null");
		}
	}
	jw_end(w, "}");
}

/*
 * The series of the report: numbered in order of first appearance in the
 * sorted results (so the numbering, like the rest, does not depend on the
 * order the run collected its series in), each with the slots [from, to)
 * that span the history windows of all its judgements.
 */
struct jseries {
	/* 32 bits: a run holds fewer than 2^32 series (cw_result.series) */
	uint32_t *num;   /* run series index -> report index, UINT32_MAX = none */
	uint32_t *order; /* report index -> run series index */
	uint32_t *from, *to; /* by report index */
	size_t n;
};

static void jseries_release(struct jseries *js)
{
	free(js->num);
	free(js->order);
	free(js->from);
	free(js->to);
}

static int jseries_build(struct jseries *js, const struct cw_run *run,
			 const struct cw_result *sorted)
{
	size_t i, k = run->nseries ? run->nseries : 1;

	js->n = 0;
	js->num = malloc(k * sizeof(*js->num));
	js->order = malloc(k * sizeof(*js->order));
	js->from = malloc(k * sizeof(*js->from));
	js->to = malloc(k * sizeof(*js->to));
	if (!js->num || !js->order || !js->from || !js->to)
		return CW_ENOMEM;
	for (i = 0; i < run->nseries; i++)
		js->num[i] = UINT32_MAX;
	for (i = 0; i < run->nresults; i++) {
		const struct cw_result *r = &sorted[i];
		size_t from, to;

		cw_rep_window(&run->series[r->series].series, r->j.period_start, &from, &to);
		k = js->num[r->series];
		if (k == UINT32_MAX) {
			k = js->n++;
			js->num[r->series] = (uint32_t)k;
			js->order[k] = r->series;
			js->from[k] = (uint32_t)from;
			js->to[k] = (uint32_t)to;
		} else if (from < to) {
			/* an empty window adds nothing to the span */
			if (js->from[k] == js->to[k] || from < js->from[k])
				js->from[k] = (uint32_t)from;
			if (to > js->to[k])
				js->to[k] = (uint32_t)to;
		}
	}
	return 0;
}

static const char *const series_columns[] = {
	"account_id", "account_name", "region", "bucket", "metric", "unit", "owner", "tags",
	"period_seconds", "start", "slots", "values",
};

/* One series: its target, period, the span [from, to) and its values there
 * (null when the run kept none: a series without a finding; [] when it has
 * no slot). */
static void jw_series(struct jw *w, const struct cw_run_series *rs, size_t from, size_t to)
{
	const struct cw_series *s = &rs->series;

	jw_row_begin(w);
	jw_ident(w, &rs->id);
	jw_int(w, NULL, s->period);
	jw_time(w, NULL, s->n ? cw_series_time(s, from) : 0, s->n > 0);
	jw_int(w, NULL, (long long)(to - from));
	if (s->values || s->n == 0) {
		jw_begin(w, NULL, "[");
		for (size_t i = from; i < to; i++) {
			jw_item(w, NULL);
			jw_plain(w, s->values[i]);
		}
		jw_end(w, "]");
	} else {
		jw_item(w, NULL);
		jw_raw(w, "null");
	}
	jw_row_end(w);
}

static const char *const result_columns[] = {
	"series", "detector", "status", "severity", "period_start", "value", "baseline", "limit",
	"score", "alert", "est_excess_usd", "note", "finding_id",
};

static void jw_result(struct jw *w, const struct cw_run *run, const struct cw_result *r,
		      const struct jseries *js)
{
	const struct cw_run_series *rs = &run->series[r->series];
	char fid[CW_FINDING_ID_LEN];

	jw_row_begin(w);
	jw_int(w, NULL, (long long)js->num[r->series]);
	jw_str(w, NULL, r->detector ? r->detector : "");
	jw_str(w, NULL, cw_rep_status(r->j.status));
	jw_str(w, NULL, r->j.status == CW_STATUS_ANOMALY ? cw_rep_severity(r->j.severity) : NULL);
	/* A series without slots (nothing was read) has no judged period. */
	jw_time(w, NULL, r->j.period_start, rs->series.n > 0);
	jw_num(w, NULL, r->j.value);
	jw_num(w, NULL, r->j.baseline);
	jw_num(w, NULL, r->j.limit);
	jw_num(w, NULL, r->j.score);
	jw_str(w, NULL, r->alert == CW_ALERT_NONE ? NULL : cw_rep_alert(r->alert));
	jw_num(w, NULL, r->est_excess_usd);
	jw_str(w, NULL, r->note);
	jw_str(w, NULL, r->j.status == CW_STATUS_ANOMALY
			? cw_result_finding_id(run, r, fid, sizeof(fid)) : NULL);
	jw_row_end(w);
}

static int json_render(const struct cw_run *run, struct cw_buf *out, char *err,
		       size_t errlen)
{
	struct jw w = { .out = out, .depth = 1, .pretty = run->pretty };
	struct jseries js = { NULL, NULL, NULL, NULL, 0 };
	const struct cw_result *sorted = NULL;
	size_t i;

	if ((w.rc = cw_rep_sorted(run, &sorted)) || (w.rc = jseries_build(&js, run, sorted)))
		goto out;
	jw_raw(&w, "{");
	jw_str(&w, "schema", "cwsweep.report/3");
	jw_run(&w, run);
	jw_summary(&w, run);

	jw_columns(&w, "series_columns", series_columns,
		   sizeof(series_columns) / sizeof(series_columns[0]));
	jw_begin(&w, "series", "[");
	for (i = 0; i < js.n; i++)
		jw_series(&w, &run->series[js.order[i]], js.from[i], js.to[i]);
	jw_end(&w, "]");

	jw_columns(&w, "result_columns", result_columns,
		   sizeof(result_columns) / sizeof(result_columns[0]));
	jw_begin(&w, "results", "[");
	for (i = 0; i < run->nresults; i++)
		jw_result(&w, run, &sorted[i], &js);
	jw_end(&w, "]");

	jw_begin(&w, "failures", "[");
	for (i = 0; i < run->nfailures; i++) {
		const struct cw_failure *f = &run->failures[i];

		jw_begin(&w, NULL, "{");
		jw_ident(&w, &f->id);
		jw_str(&w, "stage", f->stage ? f->stage : "");
		jw_str(&w, "code", f->code ? f->code : "");
		jw_str(&w, "message", f->message ? f->message : "");
		jw_end(&w, "}");
	}
	jw_end(&w, "]");

	jw_begin(&w, "unmeasured", "[");
	for (i = 0; i < run->nunmeasured; i++) {
		const struct cw_unmeasured *u = &run->unmeasured[i];

		if (u->kind != CW_UNMEASURED_NOT_FOUND)
			continue;
		jw_begin(&w, NULL, "{");
		jw_ident(&w, &u->id);
		jw_str(&w, "reason", u->reason ? u->reason : "");
		jw_str(&w, "fix", u->fix ? u->fix : "");
		jw_end(&w, "}");
	}
	jw_end(&w, "]");

	jw_begin(&w, "unwatched", "[");
	for (i = 0; i < run->nunmeasured; i++) {
		const struct cw_unmeasured *u = &run->unmeasured[i];

		if (u->kind != CW_UNMEASURED_NOT_WATCHED)
			continue;
		jw_begin(&w, NULL, "{");
		jw_ident(&w, &u->id);
		jw_num(&w, "stored_bytes", u->stored_bytes);
		jw_num(&w, "watch_usd_month", u->watch_usd_month);
		jw_str(&w, "reason", u->reason ? u->reason : "");
		jw_str(&w, "fix", u->fix ? u->fix : "");
		jw_end(&w, "}");
	}
	jw_end(&w, "]");

	jw_begin(&w, "coverage", "[");
	for (i = 0; i < run->ncoverage; i++) {
		const struct cw_coverage *c = &run->coverage[i];

		jw_begin(&w, NULL, "{");
		jw_str(&w, "account_id", c->account_id ? c->account_id : "");
		jw_str(&w, "account_name", c->account_name ? c->account_name : "");
		jw_coverage(&w, c);
		jw_end(&w, "}");
	}
	jw_end(&w, "]");

	jw_str(&w, "price_note", run->price_note);
	jw_raw(&w, w.pretty ? "\n}\n" : "}\n");
out:
	jseries_release(&js);
	cw_rep_sorted_free(run, sorted);
	if (w.rc)
		return cw_fail(err, errlen, w.rc, "report.json: %s", cw_strerror(w.rc));
	return 0;
}

const struct cw_report_ops cw_report_json = {
	.name = "json",
	.filename = "report.json",
	.render = json_render,
};
