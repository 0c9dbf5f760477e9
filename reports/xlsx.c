/*
 * xlsx.c - the run for spreadsheet users: report.xlsx (libxlsxwriter).
 *
 * A CSV leaves every cell's type to the spreadsheet's guess: an account id
 * 012345678901 loses its leading zero, a bucket named 1e10 or 2024-01-02
 * becomes a number or a date.  Here every cell carries its type: ids,
 * names and words are text, times are dates (UTC), bytes are numbers with
 * a GB column beside them, dollars have a currency format, percentages a
 * percent format.  Each sheet has a bold frozen header, an autofilter and
 * column widths.  Text is never a formula (strings are written as
 * strings), control characters become spaces and invalid UTF-8 U+FFFD, so
 * the file is valid XML whatever the names are.
 *
 * Sheets:
 *   Findings               one row per finding (bucket and period), largest cost first
 *   Series                 one row per series and judged period: the series'
 *                          columns, then each detector's verdict, baseline,
 *                          limit and score side by side (the judgements of
 *                          report.csv, half the rows and no repeated names)
 *   Accounts               per-account totals
 *   Not watched & failures failures, then buckets not watched or not found
 *                          (a "kind" column says which), with stored bytes
 *
 * libxlsxwriter writes to a file name only, so the workbook is built in a
 * temporary file (constant-memory mode: rows go to disk as they are
 * written) and then streamed into `out`.
 */
#include "report.h"

#include <dlfcn.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <minizip/zip.h>
#include <xlsxwriter.h>
#include <zlib.h>

#include "accounts.h"
#include "err.h"
#include "escape.h"
#include "findings.h"
#include "render.h"
#include "strutil.h"

/* Excel's limit on one cell's text. */
#define CELL_MAX 32767

struct xw {
	lxw_workbook *wb;
	lxw_format *head, *date, *bytes, *gb, *usd, *pct, *num;
	struct cw_buf tmp; /* a cleaned string */
	int rc;
	char *err;
	size_t errlen;
};

static void lxw_check(struct xw *x, lxw_error e, const char *what)
{
	if (e != LXW_NO_ERROR && !x->rc)
		x->rc = cw_fail(x->err, x->errlen, CW_EIO, "report.xlsx: %s: %s", what,
				lxw_strerror(e));
}

/* s as valid XML text: UTF-8 repaired, control characters as spaces, at
 * most CELL_MAX bytes (cut at a character boundary). */
static const char *clean(struct xw *x, const char *s)
{
	size_t k = 0;

	if (!s)
		return "";
	/* the common case: short printable ASCII, as it is */
	while (k < CELL_MAX - 4 && (unsigned char)s[k] >= 0x20 && (unsigned char)s[k] < 0x7f)
		k++;
	if (!s[k])
		return s;
	cw_buf_reset(&x->tmp);
	for (; *s && x->tmp.len < CELL_MAX - 4;) {
		size_t n = cw_utf8_len(s);
		int rc;

		if (n == 0)
			rc = cw_buf_addstr(&x->tmp, "\xef\xbf\xbd");
		else if (n == 1 && ((unsigned char)*s < 0x20 || *s == 0x7f))
			rc = cw_buf_addch(&x->tmp, ' ');
		else
			rc = cw_buf_add(&x->tmp, s, n);
		if (rc) {
			x->rc = rc;
			return "";
		}
		s += n ? n : 1;
	}
	return cw_buf_str(&x->tmp);
}

static void text(struct xw *x, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, const char *s)
{
	if (x->rc || !s || !s[0])
		return;
	lxw_check(x, worksheet_write_string(ws, r, c, clean(x, s), NULL), "write");
}

/* The fixed columns of the Series sheet, before each detector's four. */
#define SERIES_FIXED 16

/* Columns 1-5 of a row: account id and name, region, bucket, metric. */
static void id_cells(struct xw *x, lxw_worksheet *ws, lxw_row_t r, const struct cw_target_id *id)
{
	text(x, ws, r, 1, id->account_id);
	text(x, ws, r, 2, id->account_name);
	text(x, ws, r, 3, id->region);
	text(x, ws, r, 4, id->bucket);
	text(x, ws, r, 5, id->metric);
}

static void num(struct xw *x, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, double v,
		lxw_format *f)
{
	if (x->rc || !isfinite(v))
		return;
	lxw_check(x, worksheet_write_number(ws, r, c, v, f), "write");
}

static void when(struct xw *x, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, int64_t t)
{
	if (x->rc)
		return;
	lxw_check(x, worksheet_write_unixtime(ws, r, c, (int64_t)t, x->date), "write");
}

static bool is_bytes(const struct cw_target_id *id)
{
	return id->unit && strcmp(id->unit, "Bytes") == 0;
}

/* A column: title, width, format for the whole column (NULL: general). */
struct xcol {
	const char *title;
	double width;
};

static lxw_worksheet *sheet(struct xw *x, const char *name, const struct xcol *cols,
			    size_t ncols, size_t nrows)
{
	lxw_worksheet *ws = workbook_add_worksheet(x->wb, name);

	if (!ws) {
		x->rc = cw_fail(x->err, x->errlen, CW_ENOMEM, "report.xlsx: cannot add sheet %s",
				name);
		return NULL;
	}
	for (size_t i = 0; i < ncols && !x->rc; i++) {
		lxw_check(x, worksheet_set_column(ws, (lxw_col_t)i, (lxw_col_t)i, cols[i].width,
						  NULL), "column");
		lxw_check(x, worksheet_write_string(ws, 0, (lxw_col_t)i, cols[i].title, x->head),
			  "header");
	}
	worksheet_freeze_panes(ws, 1, 0);
	lxw_check(x, worksheet_autofilter(ws, 0, 0, (lxw_row_t)(nrows > 0 ? nrows : 1),
					  (lxw_col_t)(ncols - 1)), "autofilter");
	return ws;
}

static double pct_fraction(const struct cw_judgement *j)
{
	return cw_rep_change_pct(j) / 100.0;
}

static void findings_sheet(struct xw *x, const struct cw_run *run, const struct cw_findings *fs)
{
	static const struct xcol cols[] = {
		{ "finding_id", 20 }, { "severity", 10 }, { "est_excess_usd", 14 },
		{ "account_id", 15 }, { "account_name", 18 }, { "region", 13 },
		{ "bucket", 30 }, { "metric", 28 }, { "period_start (UTC)", 17 },
		{ "value", 18 }, { "value_gb", 12 }, { "baseline", 18 }, { "baseline_gb", 12 },
		{ "baseline_from", 13 }, { "change", 10 }, { "detectors", 18 }, { "alert", 9 },
		{ "unit", 8 }, { "owner", 16 }, { "tags", 28 },
	};
	lxw_worksheet *ws = sheet(x, "Findings", cols, sizeof(cols) / sizeof(cols[0]), fs->n);
	struct cw_buf det = CW_BUF_INIT;

	for (size_t i = 0; ws && i < fs->n && !x->rc; i++) {
		const struct cw_finding *f = &fs->v[i];
		const struct cw_result *r = cw_finding_lead(run, f);
		const struct cw_target_id *id = &run->series[f->series].id;
		lxw_row_t row = (lxw_row_t)(i + 1);
		bool b = is_bytes(id);

		cw_buf_reset(&det);
		if ((x->rc = cw_finding_detectors(run, f, &det)))
			break;
		text(x, ws, row, 0, f->id);
		text(x, ws, row, 1, cw_rep_severity(f->severity));
		num(x, ws, row, 2, f->est_excess_usd, x->usd);
		text(x, ws, row, 3, id->account_id);
		text(x, ws, row, 4, id->account_name);
		text(x, ws, row, 5, id->region);
		text(x, ws, row, 6, id->bucket);
		text(x, ws, row, 7, id->metric);
		when(x, ws, row, 8, f->period_start);
		num(x, ws, row, 9, r->j.value, b ? x->bytes : x->num);
		num(x, ws, row, 10, b ? r->j.value / 1e9 : NAN, x->gb);
		num(x, ws, row, 11, r->j.baseline, b ? x->bytes : x->num);
		num(x, ws, row, 12, b ? r->j.baseline / 1e9 : NAN, x->gb);
		text(x, ws, row, 13, r->detector);
		num(x, ws, row, 14, pct_fraction(&r->j), x->pct);
		text(x, ws, row, 15, cw_buf_str(&det));
		text(x, ws, row, 16, cw_rep_alert(f->alert));
		text(x, ws, row, 17, id->unit);
		text(x, ws, row, 18, id->owner);
		text(x, ws, row, 19, id->tags);
	}
	cw_buf_release(&det);
}

/*
 * The judgements of one series and period side by side.  Grouping is
 * linear in the results: a counting sort by series, then each series'
 * few results by period (and reading position).
 */
struct member {
	int64_t period; /* its period_start */
	uint32_t pos;   /* its position in the sorted results */
};

struct groups {
	struct member *by_series; /* grouped by series, then period and position */
	size_t *first;       /* per series: its slice of by_series (nseries + 1) */
	uint32_t *at;        /* per position: where it sits in by_series */
	const char **dets;   /* detector names, first seen first */
	size_t ndets;
};

static int member_cmp(const void *pa, const void *pb)
{
	const struct member *a = pa, *b = pb;

	if (a->period != b->period)
		return a->period < b->period ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static void group_release(struct groups *g)
{
	free(g->by_series);
	free(g->first);
	free(g->at);
	free(g->dets);
	memset(g, 0, sizeof(*g));
}

static int det_index(struct groups *g, const char *name, size_t cap)
{
	for (size_t d = 0; d < g->ndets; d++)
		if (g->dets[d] == name || strcmp(g->dets[d], name) == 0)
			return (int)d;
	if (g->ndets == cap)
		return -1;
	g->dets[g->ndets] = name;
	return (int)g->ndets++;
}

static int group_build(const struct cw_run *run, const struct cw_result *sorted,
		       struct groups *g)
{
	size_t n = run->nresults, ns = run->nseries, cap = 16;

	memset(g, 0, sizeof(*g));
	g->by_series = malloc((n ? n : 1) * sizeof(*g->by_series));
	g->at = malloc((n ? n : 1) * sizeof(*g->at));
	g->first = calloc(ns + 2, sizeof(*g->first));
	g->dets = malloc(cap * sizeof(*g->dets));
	if (!g->by_series || !g->at || !g->first || !g->dets)
		return CW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *name = run->results[i].detector ? run->results[i].detector : "";

		if (run->results[i].series >= ns)
			continue;
		g->first[run->results[i].series + 2]++;
		if (det_index(g, name, cap) < 0) {
			const char **more = realloc(g->dets, 2 * cap * sizeof(*g->dets));

			if (!more)
				return CW_ENOMEM;
			g->dets = more;
			cap *= 2;
			det_index(g, name, cap);
		}
	}
	for (size_t s = 2; s < ns + 2; s++)
		g->first[s] += g->first[s - 1];
	for (size_t i = 0; i < n; i++)
		if (sorted[i].series < ns)
			g->by_series[g->first[sorted[i].series + 1]++] =
				(struct member){ sorted[i].j.period_start, (uint32_t)i };
	for (size_t s = 0; s < ns; s++) {
		size_t lo = g->first[s], hi = g->first[s + 1];

		if (hi - lo > 1)
			qsort(g->by_series + lo, hi - lo, sizeof(*g->by_series), member_cmp);
		for (size_t k = lo; k < hi; k++)
			g->at[g->by_series[k].pos] = (uint32_t)k;
	}
	return 0;
}

static const char *worst_status(const struct cw_result *sorted, const struct member *m, size_t nm)
{
	enum cw_status st = sorted[m[0].pos].j.status;

	for (size_t k = 1; k < nm; k++) {
		enum cw_status o = sorted[m[k].pos].j.status;

		if (o == CW_STATUS_ANOMALY || (o == CW_STATUS_OK && st != CW_STATUS_ANOMALY))
			st = o;
	}
	return cw_rep_status(st);
}

/* One row: a series' judgements of one period (members m, positions in sorted). */
static void series_row(struct xw *x, lxw_worksheet *ws, lxw_row_t row, const struct cw_run *run,
		       const struct cw_result *sorted, const struct groups *g, const struct member *m,
		       size_t nm, struct cw_buf *note)
{
	const struct cw_result *r0 = &sorted[m[0].pos];
	const struct cw_run_series *rs = &run->series[r0->series];
	const struct cw_target_id *id = &rs->id;
	bool b = is_bytes(id), anomaly = false;
	enum cw_severity sev = CW_SEV_INFO;
	enum cw_alert alert = CW_ALERT_NONE;
	double value = NAN, usd = NAN;
	char fid[CW_FINDING_ID_LEN];

	cw_buf_reset(note);
	for (size_t k = 0; k < nm; k++) {
		const struct cw_result *r = &sorted[m[k].pos];
		int d = det_index((struct groups *)g, r->detector ? r->detector : "", g->ndets);
		lxw_col_t c = (lxw_col_t)(SERIES_FIXED + 4 * (d < 0 ? 0 : d));

		if (isnan(value))
			value = r->j.value;
		if (r->j.status == CW_STATUS_ANOMALY) {
			if (!anomaly || r->j.severity > sev)
				sev = r->j.severity;
			anomaly = true;
			if (!isnan(r->est_excess_usd) && (isnan(usd) || r->est_excess_usd > usd))
				usd = r->est_excess_usd;
		}
		if (cw_alert_rank(r->alert) > cw_alert_rank(alert))
			alert = r->alert;
		if (r->note && r->note[0] && !x->rc &&
		    ((note->len && (x->rc = cw_buf_addstr(note, "; "))) ||
		     (x->rc = cw_buf_addstr(note, r->detector ? r->detector : "")) ||
		     (x->rc = cw_buf_addstr(note, ": ")) || (x->rc = cw_buf_addstr(note, r->note))))
			return;
		if (d < 0)
			continue;
		text(x, ws, row, c, cw_rep_status(r->j.status));
		num(x, ws, row, c + 1, r->j.baseline, b ? x->bytes : x->num);
		num(x, ws, row, c + 2, r->j.limit, b ? x->bytes : x->num);
		num(x, ws, row, c + 3, r->j.score, x->num);
	}
	text(x, ws, row, 0, worst_status(sorted, m, nm));
	id_cells(x, ws, row, id);
	if (rs->series.n)
		when(x, ws, row, 6, r0->j.period_start);
	num(x, ws, row, 7, value, b ? x->bytes : x->num);
	num(x, ws, row, 8, b ? value / 1e9 : NAN, x->gb);
	text(x, ws, row, 9, anomaly ? cw_rep_severity(sev) : "");
	text(x, ws, row, 10, cw_rep_alert(alert));
	num(x, ws, row, 11, usd, x->usd);
	text(x, ws, row, 12, anomaly ? cw_finding_id(id, r0->j.period_start, fid, sizeof(fid))
				     : "");
	text(x, ws, row, 13, id->owner);
	text(x, ws, row, 14, id->tags);
	text(x, ws, row, 15, cw_buf_str(note));
}

/*
 * "Series": one row per series and judged period (every detector's verdict
 * in its own columns), in the reading order of its first judgement.
 * Past a sheet's rows they go on in "Series (2)", "(3)", ...
 */
static void series_sheet(struct xw *x, const struct cw_run *run, const struct cw_result *sorted)
{
	static const struct xcol fixed[SERIES_FIXED] = {
		{ "status", 12 }, { "account_id", 15 }, { "account_name", 18 },
		{ "region", 13 }, { "bucket", 30 }, { "metric", 28 },
		{ "period_start (UTC)", 17 }, { "value", 18 }, { "value_gb", 12 },
		{ "severity", 10 }, { "alert", 9 }, { "est_excess_usd", 14 },
		{ "finding_id", 20 }, { "owner", 16 }, { "tags", 28 }, { "note", 30 },
	};
	static const char *const per_det[4] = { "", " baseline", " limit", " score" };
	static const double per_width[4] = { 12, 18, 18, 9 };
	const size_t per = LXW_ROW_MAX - 1;
	struct groups g;
	struct xcol *cols = NULL;
	char **titles = NULL;
	size_t ncols = 0, nrows = 0, row = 0, sheets = 0;
	uint8_t *done = NULL;
	lxw_worksheet *ws = NULL;
	struct cw_buf note = CW_BUF_INIT;

	if ((x->rc = group_build(run, sorted, &g)))
		goto out;
	ncols = SERIES_FIXED + 4 * g.ndets;
	cols = calloc(ncols, sizeof(*cols));
	titles = calloc(4 * g.ndets + 1, sizeof(*titles));
	done = calloc(run->nresults + 1, 1);
	if (!cols || !titles || !done) {
		x->rc = CW_ENOMEM;
		goto out;
	}
	memcpy(cols, fixed, sizeof(fixed));
	for (size_t d = 0; d < g.ndets; d++)
		for (size_t k = 0; k < 4; k++) {
			char **t = &titles[4 * d + k];

			if (!(*t = cw_asprintf("%s%s", g.dets[d], per_det[k]))) {
				x->rc = CW_ENOMEM;
				goto out;
			}
			cols[SERIES_FIXED + 4 * d + k] = (struct xcol){ *t, per_width[k] };
		}
	/* rows: one per series and period */
	for (size_t i = 0; i < run->nresults; i++) {
		if (sorted[i].series >= run->nseries)
			continue;
		size_t k = g.at[i], lo = g.first[sorted[i].series];

		if (k == lo || g.by_series[k - 1].period != sorted[i].j.period_start)
			nrows++;
	}
	for (size_t i = 0; (i == 0 || ws) && i < run->nresults && !x->rc; i++) {
		if (sorted[i].series >= run->nseries || done[i])
			continue;
		size_t k = g.at[i], hi = g.first[sorted[i].series + 1], nm = 0;
		const struct member *m;

		while (k > g.first[sorted[i].series] &&
		       g.by_series[k - 1].period == sorted[i].j.period_start)
			k--;
		m = &g.by_series[k];
		while (k + nm < hi && m[nm].period == sorted[i].j.period_start)
			done[m[nm++].pos] = 1;
		if (row % per == 0) {
			char name[48];
			size_t left = nrows - row;

			if (sheets++ == 0)
				snprintf(name, sizeof(name), "Series");
			else
				snprintf(name, sizeof(name), "Series (%zu)", sheets);
			ws = sheet(x, name, cols, ncols, left < per ? left : per);
			if (!ws)
				break;
		}
		series_row(x, ws, (lxw_row_t)(row % per + 1), run, sorted, &g, m, nm, &note);
		row++;
	}
	if (!x->rc && sheets == 0)
		sheet(x, "Series", cols, ncols, 0);
out:
	for (size_t i = 0; titles && i < 4 * g.ndets; i++)
		free(titles[i]);
	free(titles);
	free(cols);
	free(done);
	cw_buf_release(&note);
	group_release(&g);
}

static void accounts_sheet(struct xw *x, const struct cw_acct_totals *t)
{
	static const struct xcol cols[] = {
		{ "account_id", 15 }, { "account_name", 20 }, { "series", 8 },
		{ "last_7_days_bytes", 18 }, { "last_7_days_gb", 14 },
		{ "previous_7_days_bytes", 20 }, { "previous_7_days_gb", 16 }, { "change", 10 },
		{ "est_excess_usd", 14 }, { "findings", 9 },
	};
	lxw_worksheet *ws = sheet(x, "Accounts", cols, sizeof(cols) / sizeof(cols[0]), t->n);

	for (size_t i = 0; ws && i < t->n && !x->rc; i++) {
		const struct cw_acct_total *a = &t->v[i];
		lxw_row_t row = (lxw_row_t)(i + 1);

		text(x, ws, row, 0, a->account_id);
		text(x, ws, row, 1, a->account_name);
		num(x, ws, row, 2, (double)a->series, x->num);
		num(x, ws, row, 3, a->week, x->bytes);
		num(x, ws, row, 4, a->week / 1e9, x->gb);
		num(x, ws, row, 5, a->prev, x->bytes);
		num(x, ws, row, 6, a->prev / 1e9, x->gb);
		num(x, ws, row, 7, !isnan(a->prev) && a->prev != 0 ? (a->week - a->prev) / a->prev
								    : NAN, x->pct);
		num(x, ws, row, 8, a->usd, x->usd);
		num(x, ws, row, 9, (double)a->findings, x->num);
	}
}

static void gaps_sheet(struct xw *x, const struct cw_run *run)
{
	static const struct xcol cols[] = {
		{ "kind", 13 }, { "account_id", 15 }, { "account_name", 18 }, { "region", 13 },
		{ "bucket", 30 }, { "metric", 28 }, { "stage", 16 }, { "code", 18 },
		{ "message", 60 }, { "fix", 60 }, { "owner", 16 }, { "stored_bytes", 18 },
		{ "stored_gb", 12 },
	};
	lxw_worksheet *ws = sheet(x, "Not watched & failures", cols,
				  sizeof(cols) / sizeof(cols[0]), run->nfailures + run->nunmeasured);
	lxw_row_t row = 1;

	for (size_t i = 0; ws && i < run->nfailures && !x->rc; i++, row++) {
		const struct cw_failure *f = &run->failures[i];

		text(x, ws, row, 0, "failed");
		id_cells(x, ws, row, &f->id);
		text(x, ws, row, 6, f->stage);
		text(x, ws, row, 7, f->code);
		text(x, ws, row, 8, f->message);
		text(x, ws, row, 10, f->id.owner);
	}
	for (size_t i = 0; ws && i < run->nunmeasured && !x->rc; i++, row++) {
		const struct cw_unmeasured *u = &run->unmeasured[i];

		text(x, ws, row, 0, cw_unmeasured_kind_name(u->kind));
		id_cells(x, ws, row, &u->id);
		text(x, ws, row, 8, u->reason);
		text(x, ws, row, 9, u->fix);
		text(x, ws, row, 10, u->id.owner);
		num(x, ws, row, 11, u->stored_bytes, x->bytes);
		num(x, ws, row, 12, u->stored_bytes / 1e9, x->gb);
	}
}

static lxw_format *format(struct xw *x, const char *num_format)
{
	lxw_format *f = workbook_add_format(x->wb);

	if (!f) {
		if (!x->rc)
			x->rc = CW_ENOMEM;
		return NULL;
	}
	if (num_format)
		format_set_num_format(f, num_format);
	return f;
}

/* Append the file at path to out. */
static int slurp_into(const char *path, struct cw_buf *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;
	int rc = 0;

	if (!f)
		return cw_fail(err, errlen, CW_EIO, "report.xlsx: cannot read the workbook back");
	while (!rc && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = cw_buf_add(out, chunk, n);
	if (!rc && ferror(f))
		rc = cw_fail(err, errlen, CW_EIO, "report.xlsx: cannot read the workbook back");
	fclose(f);
	return rc;
}

static int xlsx_render(const struct cw_run *run, struct cw_buf *out, char *err, size_t errlen)
{
	const char *tmpdir = getenv("TMPDIR");
	struct xw x = { .err = err, .errlen = errlen };
	lxw_workbook_options opt = { .constant_memory = LXW_TRUE };
	lxw_doc_properties props = { .title = "cwsweep report", .comments = "every dollar "
				     "figure is an estimate, not a bill" };
	struct cw_findings fs;
	struct cw_acct_totals t;
	const struct cw_result *sorted = NULL;
	char *path = NULL;
	int fd;

	memset(&fs, 0, sizeof(fs));
	memset(&t, 0, sizeof(t));
	cw_buf_init(&x.tmp, 0);
	path = cw_asprintf("%s/cwsweep-xlsx-XXXXXX", tmpdir && tmpdir[0] ? tmpdir : "/tmp");
	if (!path) {
		x.rc = CW_ENOMEM;
		goto out;
	}
	if ((fd = mkstemp(path)) < 0) {
		x.rc = cw_fail(err, errlen, CW_EIO, "report.xlsx: cannot create a temporary file "
			       "in %s", tmpdir && tmpdir[0] ? tmpdir : "/tmp");
		free(path);
		path = NULL;
		goto out;
	}
	close(fd);
	if ((x.rc = cw_rep_sorted(run, &sorted)) || (x.rc = cw_findings_build(run, NULL, &fs)) ||
	    (x.rc = cw_acct_totals_build(run, &fs, &t)))
		goto out;
	opt.tmpdir = tmpdir && tmpdir[0] ? (char *)tmpdir : NULL;
	x.wb = workbook_new_opt(path, &opt);
	if (!x.wb) {
		x.rc = cw_fail(err, errlen, CW_ENOMEM, "report.xlsx: cannot start a workbook");
		goto out;
	}
	props.created = (time_t)run->started; /* the same run, the same file */
	props.subject = run->run_id && run->run_id[0] ? run->run_id : NULL; /* not on every row */
	lxw_check(&x, workbook_set_properties(x.wb, &props), "properties");
	x.head = format(&x, NULL);
	if (x.head)
		format_set_bold(x.head);
	x.date = format(&x, "yyyy-mm-dd hh:mm");
	x.bytes = format(&x, "#,##0");
	x.gb = format(&x, "#,##0.000");
	x.usd = format(&x, "[$$-409]#,##0.00");
	x.pct = format(&x, "0.0%");
	x.num = format(&x, "General");
	if (!x.rc) {
		findings_sheet(&x, run, &fs);
		series_sheet(&x, run, sorted ? sorted : run->results);
		accounts_sheet(&x, &t);
		gaps_sheet(&x, run);
	}
	{
		lxw_error e = workbook_close(x.wb); /* frees the workbook, always */

		if (!x.rc)
			lxw_check(&x, e, "write");
	}
	if (!x.rc)
		x.rc = slurp_into(path, out, err, errlen);
out:
	if (path) {
		unlink(path);
		free(path);
	}
	cw_buf_release(&x.tmp);
	cw_acct_totals_release(&t);
	cw_findings_release(&fs);
	cw_rep_sorted_free(run, sorted);
	if (x.rc && err && errlen && !err[0])
		cw_fail(err, errlen, x.rc, "report.xlsx: %s", cw_strerror(x.rc));
	return x.rc;
}

/*
 * The deflate level of the package's parts.
 *
 * libxlsxwriter 1.1 (Debian 12) packs every part with minizip's
 * zipOpenNewFileInZip4_64() at zlib's default level (6) and has no option
 * for it; deflating the Series sheet's XML was half of the workbook's CPU.
 * Level 1 does it in about half the time for a file about a fifth larger
 * (2.1 MB -> 2.6 MB for 20,000 series).  The call is made through the
 * dynamic linker, and a program's own definition of a symbol comes before
 * a library's, so this one is what libxlsxwriter calls: it passes every
 * argument on to minizip's unchanged but the level.  (Where libxlsxwriter
 * carries its own copy of minizip, nothing reaches here and the parts keep
 * the default level: a larger CPU cost, the same workbook.)  The
 * prototype is minizip's own (<minizip/zip.h>, Debian's libminizip-dev),
 * so the compiler holds this definition to it.
 */
#define XLSX_DEFLATE_LEVEL 1

typedef __typeof__(zipOpenNewFileInZip4_64) zip_open4_fn;

static atomic_size_t fast_parts; /* parts opened here (for the tests) */

int ZEXPORT zipOpenNewFileInZip4_64(zipFile file, const char *filename,
				    const zip_fileinfo *zipfi, const void *extra_local,
				    uInt size_extra_local, const void *extra_global,
				    uInt size_extra_global, const char *comment, int method,
				    int level, int raw, int window_bits, int mem_level, int strategy,
				    const char *password, uLong crc_for_crypting,
				    uLong version_made_by, uLong flag_base, int zip64)
{
	static zip_open4_fn *_Atomic real; /* minizip's; the same for every thread */
	zip_open4_fn *f = atomic_load(&real);

	if (!f) {
		void *sym = dlsym(RTLD_NEXT, "zipOpenNewFileInZip4_64");

		if (!sym)
			return -102; /* ZIP_PARAMERROR: no minizip below us */
		memcpy(&f, &sym, sizeof(f)); /* a data pointer to a function pointer */
		atomic_store(&real, f);
	}
	if (method == Z_DEFLATED && level == Z_DEFAULT_COMPRESSION) {
		level = XLSX_DEFLATE_LEVEL;
		atomic_fetch_add(&fast_parts, 1);
	}
	return f(file, filename, zipfi, extra_local, size_extra_local, extra_global,
		 size_extra_global, comment, method, level, raw, window_bits, mem_level, strategy,
		 password, crc_for_crypting, version_made_by, flag_base, zip64);
}

size_t cw_xlsx_fast_parts(void)
{
	return atomic_load(&fast_parts);
}

const struct cw_report_ops cw_report_xlsx = {
	.name = "xlsx",
	.filename = "report.xlsx",
	.render = xlsx_render,
};
