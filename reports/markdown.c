/*
 * markdown.c - the report a person reads: report.md.
 *
 * Written for a weekly review of tens of thousands of series: the
 * anomalies first (worst first, at most CW_REPORT_MD_MAX_ROWS of them),
 * then failures and buckets that are not measured, then only counts for
 * the judgements that were fine.  report.csv holds every row.  Every name
 * and message that came from outside goes through cw_md_escape; numbers
 * are human-formatted here and raw in the machine formats.
 */
#include "report.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "escape.h"
#include "findings.h"
#include "render.h"
#include "units.h"

/* A column of a table, shown only when `on`. */
struct col {
	const char *title;
	bool right; /* right-aligned (numbers) */
	bool on;
};

static bool has(const char *s)
{
	return s && s[0];
}

static int table_head(struct cw_buf *out, const struct col *cols, size_t n)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n && !rc; i++)
		if (cols[i].on)
			rc = cw_buf_printf(out, "| %s ", cols[i].title);
	if (!rc)
		rc = cw_buf_addstr(out, "|\n");
	for (i = 0; i < n && !rc; i++)
		if (cols[i].on)
			rc = cw_buf_addstr(out, cols[i].right ? "|---:" : "|---");
	return rc ? rc : cw_buf_addstr(out, "|\n");
}

/* A cell of outside text, escaped. */
static int cell(struct cw_buf *out, const char *s)
{
	int rc;

	if ((rc = cw_buf_addstr(out, "| ")) || (rc = cw_md_escape(out, s)))
		return rc;
	return cw_buf_addch(out, ' ');
}

/* A cell of text this program made (numbers, times): no escaping needed. */
static int cell_raw(struct cw_buf *out, const char *s)
{
	return cw_buf_printf(out, "| %s ", s);
}

static int row_end(struct cw_buf *out)
{
	return cw_buf_addstr(out, "|\n");
}

/*
 * "## Title (n)", an introduction, a note when only the first `shown` rows
 * are listed, and the table's head.
 */
static int section_head(struct cw_buf *out, const char *title, size_t n, size_t shown,
			const char *intro, const struct col *cols, size_t ncols)
{
	int rc;

	if ((rc = cw_buf_printf(out, "## %s (%zu)\n\n%s\n\n", title, n, intro)))
		return rc;
	if (shown < n &&
	    (rc = cw_buf_printf(out, "The first %zu; report.csv lists all of them.\n\n", shown)))
		return rc;
	return table_head(out, cols, ncols);
}

/* "name (id)", or whichever of the two is known. */
static int cell_account(struct cw_buf *out, const struct cw_target_id *id)
{
	int rc;

	if (!has(id->account_name) || !has(id->account_id))
		return cell(out, has(id->account_name) ? id->account_name : id->account_id);
	if ((rc = cw_buf_addstr(out, "| ")) || (rc = cw_md_escape(out, id->account_name)) ||
	    (rc = cw_buf_addstr(out, " (")) || (rc = cw_md_escape(out, id->account_id)))
		return rc;
	return cw_buf_addstr(out, ") ");
}

static int header(const struct cw_run *run, struct cw_buf *out)
{
	char when[32], dur[32];
	size_t i;
	int rc;

	rc = cw_buf_addstr(out, "# cwsweep report\n\nMode: ");
	if (!rc)
		rc = cw_md_escape(out, run->mode);
	if (!rc)
		rc = cw_buf_addstr(out, " \xc2\xb7 Run: "); /* U+00B7 MIDDLE DOT */
	if (!rc)
		rc = cw_md_escape(out, run->run_id);
	if (!rc)
		rc = cw_buf_printf(out, " \xc2\xb7 Started: %s UTC",
				   cw_rep_time(run->started, 0, when, sizeof(when)));
	if (!rc)
		rc = cw_buf_printf(out, " \xc2\xb7 Period: %s",
				   run->period > 0 ? cw_fmt_duration(run->period, dur, sizeof(dur))
						   : "mixed");
	if (!rc && run->lookback > 0)
		rc = cw_buf_printf(out, " \xc2\xb7 Lookback: %s",
				   cw_fmt_duration(run->lookback, dur, sizeof(dur)));
	if (!rc)
		rc = cw_buf_printf(out, " \xc2\xb7 Judged: %s",
				   run->all_periods ? "every complete period"
						    : "the last complete period");
	if (!rc && has(run->inventory)) {
		rc = cw_buf_addstr(out, " \xc2\xb7 Inventory: ");
		if (!rc)
			rc = cw_md_escape(out, run->inventory);
	}
	if (!rc && (run->accounts || run->regions))
		rc = cw_buf_printf(out, " \xc2\xb7 Accounts: %zu \xc2\xb7 Regions: %zu",
				   run->accounts, run->regions);
	if (!rc && run->api_calls)
		rc = cw_buf_printf(out, " \xc2\xb7 API calls: %zu", run->api_calls);
	if (!rc && run->ndetectors) {
		rc = cw_buf_addstr(out, " \xc2\xb7 Detectors: ");
		for (i = 0; i < run->ndetectors && !rc; i++) {
			if (i)
				rc = cw_buf_addstr(out, ", ");
			if (!rc)
				rc = cw_md_escape(out, run->detectors[i]);
		}
	}
	return rc ? rc : cw_buf_addstr(out, "\n\n");
}

static int summary(const struct cw_run *run, struct cw_buf *out)
{
	static const struct col cols[] = {
		{ "Series", true, true }, { "Judgements", true, true },
		{ "Anomalies", true, true }, { "OK", true, true },
		{ "Insufficient history", true, true }, { "Failures", true, true },
		{ "Not measured", true, true },
	};
	struct cw_run_counts c;
	int rc;

	cw_run_count(run, &c);
	if ((rc = cw_buf_addstr(out, "## Summary\n\n")) ||
	    (rc = table_head(out, cols, sizeof(cols) / sizeof(cols[0]))))
		return rc;
	rc = cw_buf_printf(out, "| %zu | %zu | %zu | %zu | %zu | %zu | %zu |\n\n",
			   c.series, c.judgements, c.anomalies, c.ok, c.insufficient,
			   c.failures, c.unmeasured);
	if (!rc && !isnan(run->total_excess_usd))
		rc = cw_buf_printf(out, "Estimated cost of the excess: est. $%.2f "
				   "(an estimate, see the note at the end).\n\n",
				   run->total_excess_usd);
	return rc;
}

enum { A_SEV, A_EST, A_TARGET, A_METRIC, A_WHEN, A_VALUE, A_BASE, A_CHANGE, A_DET,
       A_RECENT, A_ALERT, A_NCOLS };

/* "bucket · account (id) · region", the parts that are known, escaped. */
static int target_text(struct cw_buf *out, const struct cw_target_id *id)
{
	int rc = cw_md_escape(out, has(id->bucket) ? id->bucket : id->metric);

	if (!rc && (has(id->account_name) || has(id->account_id))) {
		rc = cw_buf_addstr(out, " \xc2\xb7 ");
		if (!rc)
			rc = cw_md_escape(out, has(id->account_name) ? id->account_name
								     : id->account_id);
		if (!rc && has(id->account_name) && has(id->account_id) &&
		    strcmp(id->account_name, id->account_id) != 0 &&
		    !(rc = cw_buf_addstr(out, " (")) && !(rc = cw_md_escape(out, id->account_id)))
			rc = cw_buf_addch(out, ')');
	}
	if (!rc && has(id->region)) {
		rc = cw_buf_addstr(out, " \xc2\xb7 ");
		if (!rc)
			rc = cw_md_escape(out, id->region);
	}
	return rc;
}

static int finding_row(const struct cw_run *run, const struct cw_finding *f,
		       const struct col *cols, struct cw_buf *out)
{
	const struct cw_result *r = cw_finding_lead(run, f);
	const struct cw_run_series *rs = &run->series[f->series];
	const struct cw_target_id *id = &rs->id;
	char buf[64];
	size_t from, to;
	int rc;

	rc = cell_raw(out, cw_rep_severity(f->severity));
	if (!rc && cols[A_EST].on) {
		if (isnan(f->est_excess_usd))
			rc = cell_raw(out, "");
		else
			rc = cw_buf_printf(out, "| **$%.2f** ", f->est_excess_usd);
	}
	if (!rc && !(rc = cw_buf_addstr(out, "| ")) && !(rc = target_text(out, id)))
		rc = cw_buf_addch(out, ' ');
	if (!rc && cols[A_METRIC].on)
		rc = cell(out, has(id->bucket) ? id->metric : "");
	if (!rc)
		rc = cell_raw(out, cw_rep_time(f->period_start, rs->series.period, buf,
					       sizeof(buf)));
	if (!rc)
		rc = cell_raw(out, cw_rep_human(r->j.value, id->unit, buf, sizeof(buf)));
	if (!rc)
		rc = cw_buf_printf(out, "| %s (%s) ",
				   cw_rep_human(r->j.baseline, id->unit, buf, sizeof(buf)),
				   r->detector);
	if (!rc)
		rc = cell_raw(out, cw_rep_pct(cw_rep_change_pct(&r->j), buf, sizeof(buf)));
	if (!rc && !(rc = cw_buf_addstr(out, "| ")) && !(rc = cw_finding_detectors(run, f, out)))
		rc = cw_buf_addch(out, ' ');
	if (!rc) {
		cw_rep_window(&rs->series, f->period_start, &from, &to);
		rc = cw_buf_addstr(out, "| ");
		if (!rc)
			rc = cw_sparkline(out, rs->series.values + from, to - from);
		if (!rc)
			rc = cw_buf_addch(out, ' ');
	}
	if (!rc && cols[A_ALERT].on)
		rc = cell_raw(out, cw_rep_alert(f->alert));
	return rc ? rc : row_end(out);
}

/*
 * One row per finding (a bucket and period, however many detectors
 * flagged it): the largest estimated cost first.  The baseline shown is
 * the lead detector's, named next to it.
 */
static int findings_table(const struct cw_run *run, const struct cw_findings *fs,
			  struct cw_buf *out)
{
	struct col cols[A_NCOLS] = {
		[A_SEV] = { "Severity", false, true },
		[A_EST] = { "Est. excess", true, false },
		[A_TARGET] = { "Bucket / series \xc2\xb7 account \xc2\xb7 region", false, true },
		[A_METRIC] = { "Metric", false, false },
		[A_WHEN] = { "Period (UTC)", false, true },
		[A_VALUE] = { "Value", true, true },
		[A_BASE] = { "Baseline (from)", true, true },
		[A_CHANGE] = { "Change", true, true },
		[A_DET] = { "Detectors", false, true },
		[A_RECENT] = { "Recent", false, true },
		[A_ALERT] = { "Alert", false, false },
	};
	size_t i, n = fs->n, shown;
	int rc;

	shown = n < CW_REPORT_MD_MAX_ROWS ? n : CW_REPORT_MD_MAX_ROWS;
	if ((rc = cw_buf_printf(out, "## Findings (%zu)\n\n", n)))
		return rc;
	if (n == 0)
		return cw_buf_addstr(out, "No anomalies.\n\n");
	/* Optional columns appear when a shown row has something for them;
	 * the metric only when buckets carry more than one. */
	for (i = 0; i < shown; i++) {
		const struct cw_target_id *id = &run->series[fs->v[i].series].id;

		cols[A_EST].on |= !isnan(fs->v[i].est_excess_usd);
		cols[A_ALERT].on |= fs->v[i].alert != CW_ALERT_NONE;
		if (i && has(id->bucket) &&
		    strcmp(id->metric, run->series[fs->v[0].series].id.metric) != 0)
			cols[A_METRIC].on = true;
	}
	if ((rc = cw_buf_printf(out, "One row per bucket and period; %zu anomalous "
				"judgement%s in all. The baseline is the one of the detector "
				"named next to it (the one with the largest estimate).\n\n",
				fs->judgements, fs->judgements == 1 ? "" : "s")))
		return rc;
	if (shown < n &&
	    (rc = cw_buf_printf(out, "The %zu largest of %zu findings; report.csv "
				"lists all of them.\n\n", shown, n)))
		return rc;
	if ((rc = table_head(out, cols, A_NCOLS)))
		return rc;
	for (i = 0; i < shown; i++)
		if ((rc = finding_row(run, &fs->v[i], cols, out)))
			return rc;
	return cw_buf_addch(out, '\n');
}

static int failures(const struct cw_run *run, struct cw_buf *out)
{
	struct col cols[] = {
		{ "Account", false, false }, { "Region", false, false },
		{ "Bucket / series", false, true }, { "Stage", false, true },
		{ "Code", false, true }, { "Message", false, true },
	};
	size_t i, shown = run->nfailures;
	int rc;

	if (run->nfailures == 0)
		return 0;
	if (shown > CW_REPORT_MD_MAX_ROWS)
		shown = CW_REPORT_MD_MAX_ROWS;
	/* No account or region columns when nothing has one (analyze). */
	for (i = 0; i < shown; i++) {
		const struct cw_target_id *id = &run->failures[i].id;

		cols[0].on |= has(id->account_id) || has(id->account_name);
		cols[1].on |= has(id->region);
	}
	if ((rc = section_head(out, "Failures", run->nfailures, shown,
			       "These targets could not be judged; nothing is known about them.",
			       cols, sizeof(cols) / sizeof(cols[0]))))
		return rc;
	for (i = 0; i < shown; i++) {
		const struct cw_failure *f = &run->failures[i];
		const char *what = has(f->id.bucket) ? f->id.bucket
				 : has(f->id.metric) ? f->id.metric : "(all)";

		if ((cols[0].on && (rc = cell_account(out, &f->id))) ||
		    (cols[1].on && (rc = cell(out, f->id.region))) ||
		    (rc = cell(out, what)) ||
		    (rc = cell(out, f->stage)) || (rc = cell(out, f->code)) ||
		    (rc = cell(out, f->message)) || (rc = row_end(out)))
			return rc;
	}
	return cw_buf_addch(out, '\n');
}

static int unmeasured(const struct cw_run *run, struct cw_buf *out)
{
	static const struct col cols[] = {
		{ "Account", false, true }, { "Region", false, true },
		{ "Bucket", false, true }, { "Metric", false, true },
		{ "Reason", false, true }, { "Fix", false, true },
	};
	size_t i, shown = run->nunmeasured;
	int rc;

	if (run->nunmeasured == 0)
		return 0;
	if (shown > CW_REPORT_MD_MAX_ROWS)
		shown = CW_REPORT_MD_MAX_ROWS;
	if ((rc = section_head(out, "Not measured", run->nunmeasured, shown,
			       "CloudWatch has no such metric for these buckets, so they were "
			       "not judged.", cols, sizeof(cols) / sizeof(cols[0]))))
		return rc;
	for (i = 0; i < shown; i++) {
		const struct cw_unmeasured *u = &run->unmeasured[i];

		if ((rc = cell_account(out, &u->id)) || (rc = cell(out, u->id.region)) ||
		    (rc = cell(out, u->id.bucket)) || (rc = cell(out, u->id.metric)) ||
		    (rc = cell(out, u->reason)) || (rc = cell(out, u->fix)) ||
		    (rc = row_end(out)))
			return rc;
	}
	return cw_buf_addch(out, '\n');
}

/* ---- week over week ------------------------------------------------------ */

#define WOW_ROWS 10

struct wow {
	size_t series;
	double week, prev; /* sums over the last 7 complete days and the 7 before */
};

static int wow_cmp(const void *pa, const void *pb)
{
	const struct wow *a = pa, *b = pb;

	if (a->week != b->week)
		return a->week > b->week ? -1 : 1;
	return a->series < b->series ? -1 : a->series > b->series;
}

/* Sum of the non-gap slots in [from, to); false when every slot is a gap. */
static bool window_sum(const struct cw_series *s, size_t from, size_t to, double *sum)
{
	bool any = false;

	*sum = 0;
	for (size_t i = from; i < to; i++) {
		if (!isnan(s->values[i])) {
			*sum += s->values[i];
			any = true;
		}
	}
	return any;
}

/*
 * What a weekly review asks first: where did the bytes go this week, and
 * how does that compare with the week before?  Series in bytes whose
 * period divides a day and that hold two complete weeks.
 */
static int week_over_week(const struct cw_run *run, struct cw_buf *out)
{
	static const struct col cols[] = {
		{ "Account", false, true }, { "Region", false, true },
		{ "Bucket / series", false, true }, { "Last 7 days", true, true },
		{ "Previous 7 days", true, true }, { "Change", true, true },
	};
	struct wow *v = malloc((run->nseries ? run->nseries : 1) * sizeof(*v));
	double week = 0, prev = 0;
	char a[32], b[32], pct[32];
	size_t n = 0;
	int rc = 0;

	if (!v)
		return CW_ENOMEM;
	for (size_t i = 0; i < run->nseries; i++) {
		const struct cw_series *s = &run->series[i].series;
		size_t k = cw_series_complete(s), w;

		if (strcmp(run->series[i].id.unit ? run->series[i].id.unit : "", "Bytes") != 0 ||
		    s->period <= 0 || s->period > 86400 || 86400 % s->period != 0)
			continue;
		w = (size_t)(7 * 86400 / s->period);
		if (k < 2 * w || !window_sum(s, k - w, k, &v[n].week) ||
		    !window_sum(s, k - 2 * w, k - w, &v[n].prev))
			continue;
		v[n].series = i;
		week += v[n].week;
		prev += v[n].prev;
		n++;
	}
	if (n == 0)
		goto out;
	qsort(v, n, sizeof(*v), wow_cmp);
	if ((rc = cw_buf_printf(out, "## Week over week\n\nThe last 7 complete days against "
				"the 7 before%s.\n\n",
				n > WOW_ROWS ? ", the largest first" : "")) ||
	    (rc = table_head(out, cols, sizeof(cols) / sizeof(cols[0]))))
		goto out;
	for (size_t i = 0; i < n && i < WOW_ROWS && !rc; i++) {
		const struct cw_target_id *id = &run->series[v[i].series].id;

		cw_rep_human(v[i].week, "Bytes", a, sizeof(a));
		cw_rep_human(v[i].prev, "Bytes", b, sizeof(b));
		cw_rep_pct(v[i].prev != 0 ? (v[i].week - v[i].prev) / v[i].prev * 100 : NAN,
			   pct, sizeof(pct));
		if ((rc = cell_account(out, id)) || (rc = cell(out, id->region)) ||
		    (rc = cell(out, has(id->bucket) ? id->bucket : id->metric)) ||
		    (rc = cell_raw(out, a)) || (rc = cell_raw(out, b)) ||
		    (rc = cell_raw(out, pct)) || (rc = row_end(out)))
			goto out;
	}
	cw_rep_human(week, "Bytes", a, sizeof(a));
	cw_rep_human(prev, "Bytes", b, sizeof(b));
	cw_rep_pct(prev != 0 ? (week - prev) / prev * 100 : NAN, pct, sizeof(pct));
	rc = cw_buf_printf(out, "| **all %zu series** | | | **%s** | **%s** | **%s** |\n\n",
			   n, a, b, pct);
out:
	free(v);
	return rc;
}

/* Counts per detector, by detector name. */
struct det_count {
	const char *name;
	size_t judged, anomalies, ok, insufficient;
};

static int judgements(const struct cw_run *run, struct cw_buf *out)
{
	static const struct col cols[] = {
		{ "Detector", false, true }, { "Judgements", true, true },
		{ "Anomalies", true, true }, { "OK", true, true },
		{ "Insufficient history", true, true },
	};
	struct det_count *dc = NULL;
	size_t i, k, n = 0;
	int rc;

	if ((rc = cw_buf_addstr(out, "## All judgements\n\n")))
		return rc;
	if (run->nresults == 0)
		return cw_buf_addstr(out, "Nothing was judged.\n\n");
	dc = calloc(run->nresults, sizeof(*dc));
	if (!dc)
		return CW_ENOMEM;
	for (i = 0; i < run->nresults; i++) {
		const struct cw_result *r = &run->results[i];
		const char *name = r->detector ? r->detector : "";

		for (k = 0; k < n && strcmp(dc[k].name, name) < 0; k++)
			;
		if (k == n || strcmp(dc[k].name, name) != 0) {
			memmove(&dc[k + 1], &dc[k], (n - k) * sizeof(*dc));
			memset(&dc[k], 0, sizeof(*dc));
			dc[k].name = name;
			n++;
		}
		dc[k].judged++;
		dc[k].anomalies += r->j.status == CW_STATUS_ANOMALY;
		dc[k].ok += r->j.status == CW_STATUS_OK;
		dc[k].insufficient += r->j.status == CW_STATUS_INSUFFICIENT;
	}
	rc = table_head(out, cols, sizeof(cols) / sizeof(cols[0]));
	for (k = 0; k < n && !rc; k++) {
		rc = cell(out, dc[k].name);
		if (!rc)
			rc = cw_buf_printf(out, "| %zu | %zu | %zu | %zu |\n", dc[k].judged,
					   dc[k].anomalies, dc[k].ok, dc[k].insufficient);
	}
	if (!rc)
		rc = cw_buf_addstr(out, "\nEvery judgement, the ok ones too, is a row in "
				   "report.csv and report.json.\n\n");
	free(dc);
	return rc;
}

static int footer(const struct cw_run *run, struct cw_buf *out)
{
	int rc;

	if (!has(run->price_note))
		return 0;
	if ((rc = cw_buf_addstr(out, "---\n\nDollar figures are estimates: ")) ||
	    (rc = cw_md_escape(out, run->price_note)))
		return rc;
	return cw_buf_addch(out, '\n');
}

static int md_render(const struct cw_run *run, struct cw_buf *out, char *err,
		     size_t errlen)
{
	struct cw_findings fs;
	int rc;

	if ((rc = cw_findings_build(run, NULL, &fs)))
		goto out;
	if ((rc = header(run, out)) || (rc = summary(run, out)) ||
	    (rc = findings_table(run, &fs, out)) || (rc = week_over_week(run, out)) ||
	    (rc = failures(run, out)) ||
	    (rc = unmeasured(run, out)) || (rc = judgements(run, out)) ||
	    (rc = footer(run, out)))
		goto out;
out:
	cw_findings_release(&fs);
	if (rc)
		return cw_fail(err, errlen, rc, "report.md: %s", cw_strerror(rc));
	return 0;
}

const struct cw_report_ops cw_report_md = {
	.name = "md",
	.filename = "report.md",
	.render = md_render,
};
