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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "escape.h"
#include "accounts.h"
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

/*
 * The answer first: the estimated excess, the findings, the coverage; then
 * one short line saying which run this was.  The parameters are at the end.
 */
static int header(const struct cw_run *run, const struct cw_findings *fs, struct cw_buf *out)
{
	struct cw_run_counts c;
	char when[32], dur[32];
	int rc;

	cw_run_count(run, &c);
	rc = cw_buf_addstr(out, "# cwsweep report\n\n**");
	if (!rc && !isnan(run->total_excess_usd))
		rc = cw_buf_printf(out, "Estimated excess: est. $%.2f \xc2\xb7 ",
				   run->total_excess_usd);
	if (!rc)
		rc = cw_buf_printf(out, "%zu finding%s \xc2\xb7 coverage: %zu series judged",
				   fs->n, fs->n == 1 ? "" : "s", c.series);
	if (!rc && (c.failures || c.not_found || c.not_watched))
		rc = cw_buf_printf(out, ", %zu failure%s, %zu not watched, %zu not found",
				   c.failures, c.failures == 1 ? "" : "s", c.not_watched,
				   c.not_found);
	if (!rc)
		rc = cw_buf_addstr(out, "**\n\n");
	if (!rc)
		rc = cw_md_escape(out, run->mode);
	if (!rc)
		rc = cw_buf_addstr(out, " \xc2\xb7 run "); /* U+00B7 MIDDLE DOT */
	if (!rc)
		rc = cw_md_escape(out, run->run_id);
	if (!rc)
		rc = cw_buf_printf(out, " \xc2\xb7 started %s UTC",
				   cw_rep_time(run->started, 0, when, sizeof(when)));
	if (!rc)
		rc = cw_buf_printf(out, " \xc2\xb7 period %s",
				   run->period > 0 ? cw_fmt_duration(run->period, dur, sizeof(dur))
						   : "mixed");
	if (!rc && run->lookback > 0)
		rc = cw_buf_printf(out, " \xc2\xb7 lookback %s",
				   cw_fmt_duration(run->lookback, dur, sizeof(dur)));
	if (!rc && (run->accounts || run->regions))
		rc = cw_buf_printf(out, " \xc2\xb7 %zu account%s, %zu region%s", run->accounts,
				   run->accounts == 1 ? "" : "s", run->regions,
				   run->regions == 1 ? "" : "s");
	return rc ? rc : cw_buf_addstr(out, "\n\n");
}

/* Counts per status, for the judgements section. */
static int counts(const struct cw_run *run, struct cw_buf *out)
{
	static const struct col cols[] = {
		{ "Series", true, true }, { "Judgements", true, true },
		{ "Anomalies", true, true }, { "OK", true, true },
		{ "Insufficient history", true, true }, { "Failures", true, true },
		{ "Not measured", true, true }, { "Not watched", true, true },
	};
	struct cw_run_counts c;
	int rc;

	cw_run_count(run, &c);
	if ((rc = table_head(out, cols, sizeof(cols) / sizeof(cols[0]))))
		return rc;
	return cw_buf_printf(out, "| %zu | %zu | %zu | %zu | %zu | %zu | %zu | %zu |\n\n",
			     c.series, c.judgements, c.anomalies, c.ok, c.insufficient,
			     c.failures, c.not_found, c.not_watched);
}

/* Coverage, right after the answer: how many buckets are watched, and
 * whether that fell since the last run. */
static int coverage(const struct cw_run *run, struct cw_buf *out)
{
	struct cw_coverage t;
	char line[160];
	int rc = 0;

	if (cw_run_coverage_total(run, &t) &&
	    (rc = cw_buf_printf(out, "**Coverage: %s.**%s\n\n",
				cw_coverage_line(&t, line, sizeof(line)),
				t.watched < t.buckets ? " The buckets that are not judged "
				"are listed under Not watched, with the fix and what "
				"watching them costs." : "")))
		return rc;
	if (run->coverage_fell &&
	    (rc = cw_buf_printf(out, "Coverage fell since the last run: it was %s.\n\n",
				cw_coverage_line(&run->coverage_was, line, sizeof(line)))))
		return rc;
	return 0;
}

enum { A_SEV, A_EST, A_TARGET, A_METRIC, A_WHEN, A_VALUE, A_DET, A_RECENT, A_ALERT,
       A_NOTE, A_LINKS, A_NCOLS };

/* "[graph](<URL>) [bucket](<URL>)": the console pages of a series. */
static int links(struct cw_buf *out, const struct cw_run *run, const struct cw_target_id *id,
		 int64_t period)
{
	struct cw_buf url = CW_BUF_INIT;
	int rc = cw_rep_metric_url(&url, id, period, run->lookback);

	if (!rc && url.len)
		rc = cw_buf_printf(out, "[graph](<%s>)", cw_buf_str(&url));
	cw_buf_reset(&url);
	if (!rc)
		rc = cw_rep_bucket_url(&url, id);
	if (!rc && url.len)
		rc = cw_buf_printf(out, " [bucket](<%s>)", cw_buf_str(&url));
	cw_buf_release(&url);
	return rc;
}

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
		rc = cw_buf_printf(out, "| **%s** vs ",
				   cw_rep_human(r->j.value, id->unit, buf, sizeof(buf)));
	if (!rc)
		rc = cw_buf_printf(out, "%s (%s), ",
				   cw_rep_human(r->j.baseline, id->unit, buf, sizeof(buf)),
				   r->detector);
	if (!rc)
		rc = cw_buf_printf(out, "%s ", cw_rep_pct(cw_rep_change_pct(&r->j), buf,
							 sizeof(buf)));
	if (!rc && !(rc = cw_buf_addstr(out, "| ")) && !(rc = cw_finding_detectors(run, f, out)))
		rc = cw_buf_addch(out, ' ');
	/* an episode the detector tracked: how long, since when */
	if (!rc && r->j.episode_len > 1)
		rc = cw_buf_printf(out, "(%u periods since %s) ", r->j.episode_len,
				   cw_rep_time(r->j.episode_start, rs->series.period, buf,
					       sizeof(buf)));
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
	if (!rc && cols[A_NOTE].on) /* an episode's start, length and peak; a level shift */
		rc = cell(out, r->note ? r->note : "");
	if (!rc && cols[A_LINKS].on && !(rc = cw_buf_addstr(out, "| ")) &&
	    !(rc = links(out, run, id, rs->series.period)))
		rc = cw_buf_addch(out, ' ');
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
		[A_VALUE] = { "Value vs baseline (from), change", false, true },
		[A_DET] = { "Detectors", false, true },
		[A_RECENT] = { "Recent", false, true },
		[A_ALERT] = { "Alert", false, false },
		[A_NOTE] = { "Note", false, false },
		[A_LINKS] = { "Console", false, false },
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

		struct cw_buf url = CW_BUF_INIT;

		cols[A_EST].on |= !isnan(fs->v[i].est_excess_usd);
		if (!cols[A_LINKS].on && cw_rep_bucket_url(&url, id) == 0 && url.len)
			cols[A_LINKS].on = true;
		cw_buf_release(&url);
		cols[A_ALERT].on |= fs->v[i].alert != CW_ALERT_NONE;
		if (i && has(id->bucket) &&
		    strcmp(id->metric, run->series[fs->v[0].series].id.metric) != 0)
			cols[A_METRIC].on = true;
		cols[A_NOTE].on |= has(cw_finding_lead(run, &fs->v[i])->note);
	}
	if ((rc = cw_buf_printf(out, "One row per bucket and period; %zu anomalous "
				"judgement%s in all. The baseline is the one of the detector "
				"named next to it (the largest estimated cost, else the largest "
				"excess).\n\n",
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

/* Failures grouped by cause: "assume-role AccessDenied: 7 failures in 7 accounts". */
static int causes(const struct cw_run *run, struct cw_buf *out)
{
	static const struct col cols[] = {
		{ "Cause (stage, code)", false, true }, { "Failures", true, true },
		{ "Accounts", true, true }, { "For example", false, true },
	};
	struct cw_rep_cause *v;
	size_t n;
	int rc;

	if ((rc = cw_rep_causes(run, NULL, &v, &n)) || n == 0)
		return rc;
	rc = table_head(out, cols, sizeof(cols) / sizeof(cols[0]));
	for (size_t i = 0; i < n && i < CW_REPORT_MD_MAX_ROWS && !rc; i++) {
		const struct cw_failure *f = &run->failures[v[i].first];

		if ((rc = cw_buf_addstr(out, "| ")) || (rc = cw_md_escape(out, v[i].stage)) ||
		    (rc = cw_buf_addch(out, ' ')) || (rc = cw_md_escape(out, v[i].code)) ||
		    (rc = cw_buf_printf(out, " | %zu | %zu ", v[i].failures, v[i].accounts)) ||
		    (rc = cell(out, f->message)) || (rc = row_end(out)))
			break;
	}
	if (!rc)
		rc = cw_buf_addch(out, '\n');
	free(v);
	return rc;
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
	if ((rc = cw_buf_printf(out, "## Failures (%zu)\n\nThese targets could not be judged; "
				"nothing is known about them.\n\n", run->nfailures)) ||
	    (rc = causes(run, out)))
		return rc;
	if (shown < run->nfailures &&
	    (rc = cw_buf_printf(out, "The first %zu; report.csv lists all of them.\n\n", shown)))
		return rc;
	if ((rc = table_head(out, cols, sizeof(cols) / sizeof(cols[0]))))
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

/* Not watched rows, most stored bytes first (unknown sizes last). */
static int nw_cmp(const void *pa, const void *pb)
{
	const struct cw_unmeasured *a = *(const struct cw_unmeasured *const *)pa;
	const struct cw_unmeasured *b = *(const struct cw_unmeasured *const *)pb;
	double x = isnan(a->stored_bytes) ? -1 : a->stored_bytes;
	double y = isnan(b->stored_bytes) ? -1 : b->stored_bytes;

	if (x != y)
		return x > y ? -1 : 1;
	return strcmp(a->id.bucket ? a->id.bucket : "", b->id.bucket ? b->id.bucket : "");
}

static int not_watched(const struct cw_run *run, struct cw_buf *out)
{
	static const struct col cols[] = {
		{ "Account", false, true }, { "Region", false, true },
		{ "Bucket", false, true }, { "Stored", true, true },
		{ "Watching costs", true, true }, { "Reason", false, true },
		{ "Fix", false, true },
	};
	const struct cw_unmeasured **v;
	size_t i, n = 0, shown;
	double usd = 0;
	char buf[64];
	int rc = 0;

	v = malloc((run->nunmeasured + 1) * sizeof(*v));
	if (!v)
		return CW_ENOMEM;
	for (i = 0; i < run->nunmeasured; i++)
		if (run->unmeasured[i].kind == CW_UNMEASURED_NOT_WATCHED) {
			v[n++] = &run->unmeasured[i];
			if (isfinite(run->unmeasured[i].watch_usd_month))
				usd += run->unmeasured[i].watch_usd_month;
		}
	if (n == 0)
		goto out;
	qsort(v, n, sizeof(*v), nw_cmp);
	shown = n > CW_REPORT_MD_MAX_ROWS ? CW_REPORT_MD_MAX_ROWS : n;
	snprintf(buf, sizeof(buf), "%.2f", usd);
	if ((rc = section_head(out, "Not watched", n, shown,
			       "These buckets hold data (S3 publishes their free daily storage "
			       "metrics) but have no request-metrics configuration, so CloudWatch "
			       "has no request metric to judge. Each fix enables one configuration "
			       "(`cwsweep enable-metrics --apply` does them all); S3 bills its "
			       "metrics as CloudWatch custom metrics (est. per month, see the price "
			       "table).", cols, sizeof(cols) / sizeof(cols[0]))))
		goto out;
	for (i = 0; i < shown; i++) {
		const struct cw_unmeasured *u = v[i];
		char b1[32] = "n/a", b2[32] = "n/a";

		if (isfinite(u->stored_bytes))
			cw_fmt_bytes(u->stored_bytes, b1, sizeof(b1));
		if (isfinite(u->watch_usd_month))
			snprintf(b2, sizeof(b2), "$%.2f/month", u->watch_usd_month);
		if ((rc = cell_account(out, &u->id)) || (rc = cell(out, u->id.region)) ||
		    (rc = cell(out, u->id.bucket)) || (rc = cell_raw(out, b1)) ||
		    (rc = cell_raw(out, b2)) || (rc = cell(out, u->reason)) ||
		    (rc = cell(out, u->fix)) || (rc = row_end(out)))
			goto out;
	}
	rc = cw_buf_printf(out, "\nWatching all %zu would cost about $%s a month (est.).\n\n",
			   n, buf);
out:
	free(v);
	return rc;
}

/* Coverage by account: how much of each account is judged. */
static int coverage_by_account(const struct cw_run *run, struct cw_buf *out)
{
	static const struct col cols[] = {
		{ "Account", false, true }, { "Buckets", true, true },
		{ "Watched", true, true }, { "Stored", true, true },
		{ "Of stored bytes", true, true },
	};
	size_t i, shown = run->ncoverage;
	int rc;

	if (run->ncoverage == 0)
		return 0;
	if (shown > CW_REPORT_MD_MAX_ROWS)
		shown = CW_REPORT_MD_MAX_ROWS;
	if ((rc = section_head(out, "Coverage by account", run->ncoverage, shown,
			       "Buckets that exist (daily storage metrics, or judged) and how many "
			       "of them are watched (judged on a request metric).",
			       cols, sizeof(cols) / sizeof(cols[0]))))
		return rc;
	for (i = 0; i < shown; i++) {
		const struct cw_coverage *c = &run->coverage[i];
		struct cw_target_id id;
		char b1[32], b2[32], b3[32], b4[32] = "n/a";

		memset(&id, 0, sizeof(id));
		id.account_id = c->account_id;
		id.account_name = c->account_name;
		snprintf(b1, sizeof(b1), "%zu", c->buckets);
		snprintf(b2, sizeof(b2), "%zu%s", c->watched, c->complete ? "" : " (incomplete)");
		cw_fmt_bytes(c->bytes, b3, sizeof(b3));
		if (c->bytes > 0)
			snprintf(b4, sizeof(b4), "%.0f%%", 100.0 * c->watched_bytes / c->bytes);
		if ((rc = cell_account(out, &id)) || (rc = cell_raw(out, b1)) ||
		    (rc = cell_raw(out, b2)) || (rc = cell_raw(out, b3)) ||
		    (rc = cell_raw(out, b4)) || (rc = row_end(out)))
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
	size_t i, k, n = 0, shown;
	int rc;

	for (i = 0; i < run->nunmeasured; i++)
		n += run->unmeasured[i].kind == CW_UNMEASURED_NOT_FOUND;
	if (n == 0)
		return 0;
	shown = n > CW_REPORT_MD_MAX_ROWS ? CW_REPORT_MD_MAX_ROWS : n;
	if ((rc = section_head(out, "Not measured", n, shown,
			       "CloudWatch has no such metric for these buckets, so they were "
			       "not judged.", cols, sizeof(cols) / sizeof(cols[0]))))
		return rc;
	for (i = 0, k = 0; i < run->nunmeasured && k < shown; i++) {
		const struct cw_unmeasured *u = &run->unmeasured[i];

		if (u->kind != CW_UNMEASURED_NOT_FOUND)
			continue;
		k++;

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
/* A mover moved at least this many bytes in one of the two weeks: a
 * bucket going from 2 KB to 50 KB is +2400% and means nothing. */
#define MOVER_MIN_BYTES 1e9

struct wow {
	size_t series;
	double week, prev; /* sums over the last 7 complete days and the 7 before */
};

/* The size of a move: |change| in percent; a series that was 0 and is
 * not any more ranks above every finite change. */
static double move(const struct wow *w)
{
	if (w->prev == 0)
		return w->week == 0 ? 0 : INFINITY;
	return fabs((w->week - w->prev) / w->prev * 100);
}

/* The larger move first, then the larger week, then by name (not by the
 * series' index: the run adds series in the order the workers finish). */
static int wow_cmp(const struct cw_run *run, const struct wow *a, const struct wow *b)
{
	const struct cw_target_id *x = &run->series[a->series].id;
	const struct cw_target_id *y = &run->series[b->series].id;
	double ma = move(a), mb = move(b);
	int c;

	if (ma != mb)
		return ma > mb ? -1 : 1;
	if (a->week != b->week)
		return a->week > b->week ? -1 : 1;
	if ((c = strcmp(x->account_id, y->account_id)) || (c = strcmp(x->region, y->region)) ||
	    (c = strcmp(x->bucket, y->bucket)) || (c = strcmp(x->metric, y->metric)) ||
	    (c = strcmp(x->account_name, y->account_name)))
		return c;
	return a->series < b->series ? -1 : a->series > b->series;
}

/* Keep v[0..*n) the best WOW_ROWS movers in order, with x among them when
 * it belongs. */
static void top_insert(const struct cw_run *run, struct wow *v, size_t *n,
		       const struct wow *x)
{
	size_t k = *n < WOW_ROWS ? (*n)++ : WOW_ROWS;

	while (k > 0 && wow_cmp(run, x, &v[k - 1]) < 0) {
		if (k < WOW_ROWS)
			v[k] = v[k - 1];
		k--;
	}
	if (k < WOW_ROWS)
		v[k] = *x;
}

/*
 * What moved this week: the series whose last 7 complete days differ most
 * (in percent, either way) from the 7 before, among those that moved at
 * least MOVER_MIN_BYTES in one of the two weeks.  Series in bytes whose
 * period divides a day and that hold two complete weeks; the total line
 * counts all of them.
 */
static int week_over_week(const struct cw_run *run, struct cw_buf *out)
{
	static const struct col cols[] = {
		{ "Account", false, true }, { "Region", false, true },
		{ "Bucket / series", false, true }, { "Last 7 days", true, true },
		{ "Previous 7 days", true, true }, { "Change", true, true },
	};
	struct wow v[WOW_ROWS];
	long double week = 0, prev = 0; /* exact for byte counts, in any order */
	char a[32], b[32], pct[32], min[32];
	size_t n = 0, ntop = 0, all = 0;
	int rc = 0;

	/* the sums were taken as each series was added; a bounded top list */
	for (size_t i = 0; i < run->nseries; i++) {
		const struct cw_series_sums *m = &run->series[i].sums;
		struct wow x = { i, m->wow_week, m->wow_prev };

		if (!m->moved)
			continue;
		week += x.week;
		prev += x.prev;
		all++;
		if (x.week >= MOVER_MIN_BYTES || x.prev >= MOVER_MIN_BYTES) {
			n++;
			top_insert(run, v, &ntop, &x);
		}
	}
	if (all == 0)
		return 0;
	cw_rep_human(MOVER_MIN_BYTES, "Bytes", min, sizeof(min));
	if ((rc = cw_buf_printf(out, "## Top movers\n\nThe last 7 complete days against the 7 "
				"before, the largest change (either way) first, among the "
				"series that moved at least %s in one of the two weeks "
				"(%zu of %zu).\n\n", min, n, all)) ||
	    (rc = table_head(out, cols, sizeof(cols) / sizeof(cols[0]))))
		goto out;
	for (size_t i = 0; i < ntop && !rc; i++) {
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
	cw_rep_human((double)week, "Bytes", a, sizeof(a));
	cw_rep_human((double)prev, "Bytes", b, sizeof(b));
	cw_rep_pct(prev != 0 ? ((double)week - (double)prev) / (double)prev * 100 : NAN, pct,
		   sizeof(pct));
	rc = cw_buf_printf(out, "| **all %zu series** | | | **%s** | **%s** | **%s** |\n\n",
			   all, a, b, pct);
out:
	return rc;
}

/* Per-account totals, the largest estimated cost first. */
static int accounts(const struct cw_run *run, const struct cw_findings *fs, struct cw_buf *out)
{
	static const struct col cols[] = {
		{ "Account", false, true }, { "Series", true, true },
		{ "Last 7 days", true, true }, { "Previous 7 days", true, true },
		{ "Change", true, true }, { "Est. excess", true, true },
		{ "Findings", true, true },
	};
	struct cw_acct_totals t;
	char a[32], b[32], pct[32];
	int rc;

	if ((rc = cw_acct_totals_build(run, fs, &t)))
		goto out;
	/* analyze runs have no accounts: nothing to total */
	if (t.n == 0 || (t.n == 1 && !has(t.v[0].account_id) && !has(t.v[0].account_name)))
		goto out;
	if ((rc = cw_buf_printf(out, "## Accounts (%zu)\n\nBytes of the series in bytes "
				"(volumes), and the findings with their estimated cost.\n\n",
				t.n)) ||
	    (rc = table_head(out, cols, sizeof(cols) / sizeof(cols[0]))))
		goto out;
	for (size_t i = 0; i < t.n && i < CW_REPORT_MD_MAX_ROWS && !rc; i++) {
		const struct cw_acct_total *x = &t.v[i];
		struct cw_target_id id = { 0 };

		id.account_id = (char *)x->account_id;
		id.account_name = (char *)x->account_name;
		cw_rep_human(x->week, "Bytes", a, sizeof(a));
		cw_rep_human(x->prev, "Bytes", b, sizeof(b));
		cw_rep_pct(!isnan(x->prev) && x->prev != 0 ? (x->week - x->prev) / x->prev * 100
							   : NAN, pct, sizeof(pct));
		if ((rc = cell_account(out, &id)) ||
		    (rc = cw_buf_printf(out, "| %zu | %s | %s | %s ", x->series, a, b, pct)))
			break;
		if (isnan(x->usd))
			rc = cell_raw(out, "");
		else
			rc = cw_buf_printf(out, "| est. $%.2f ", x->usd);
		if (!rc)
			rc = cw_buf_printf(out, "| %zu |\n", x->findings);
	}
	if (!rc)
		rc = cw_buf_addch(out, '\n');
out:
	cw_acct_totals_release(&t);
	return rc;
}

/* The run's parameters, with units. */
static int parameters(const struct cw_run *run, struct cw_buf *out)
{
	struct cw_buf d = CW_BUF_INIT;
	char dur[32];
	int rc;

	rc = cw_buf_addstr(out, "## Parameters\n\n");
	if (!rc && has(run->inventory) && !(rc = cw_buf_addstr(out, "- inventory: ")) &&
	    !(rc = cw_md_escape(out, run->inventory)))
		rc = cw_buf_addch(out, '\n');
	if (!rc)
		rc = cw_buf_printf(out, "- period: %s",
				   run->period > 0 ? cw_fmt_duration(run->period, dur, sizeof(dur))
						   : "mixed");
	if (!rc && run->lookback > 0)
		rc = cw_buf_printf(out, "; lookback: %s",
				   cw_fmt_duration(run->lookback, dur, sizeof(dur)));
	if (!rc)
		rc = cw_buf_printf(out, "; judged: %s\n", run->all_periods
				   ? "every complete period" : "the last complete period");
	if (!rc && run->api_calls)
		rc = cw_buf_printf(out, "- AWS API calls: %zu\n", run->api_calls);
	for (size_t i = 0; i < run->ndetectors && !rc; i++) {
		cw_buf_reset(&d);
		if (!(rc = cw_rep_detector_text(&d, run->detectors[i])) &&
		    !(rc = cw_buf_addstr(out, "- detector: ")) &&
		    !(rc = cw_md_escape(out, cw_buf_str(&d))))
			rc = cw_buf_addch(out, '\n');
	}
	cw_buf_release(&d);
	return rc ? rc : cw_buf_addch(out, '\n');
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

	if ((rc = cw_buf_addstr(out, "## All judgements\n\n")) || (rc = counts(run, out)))
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
	if ((rc = header(run, &fs, out)) || (rc = coverage(run, out)) ||
	    (rc = findings_table(run, &fs, out)) ||
	    (rc = accounts(run, &fs, out)) || (rc = week_over_week(run, out)) ||
	    (rc = failures(run, out)) || (rc = not_watched(run, out)) ||
	    (rc = unmeasured(run, out)) || (rc = coverage_by_account(run, out)) ||
	    (rc = judgements(run, out)) || (rc = parameters(run, out)) ||
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
