/*
 * csv.c - every row of a run for spreadsheets and scripts: report.csv.
 *
 * RFC 4180: CRLF line ends, a header row, cells quoted when they hold
 * , " CR or LF.  UTF-8, ISO 8601 UTC times, plain numbers (shortest form
 * that reads back to the same double; an empty cell when there is no
 * number).  A text cell that a spreadsheet would run as a formula gets a
 * leading ' (see cw_csv_cell); numbers never do.
 *
 * One row per judgement (series x detector x judged period), in reading
 * order, then one row per failure (status "failed") and one per bucket
 * that is not judged (status "not_watched": it has data but no request
 * metrics, `value` = its stored bytes; "not_found": listed but found
 * nowhere).  They have no detector; their note says what happened,
 * starting with the stage or the status:
 *   "read: NotFound: cannot open x.csv"           (a failure)
 *   "not_watched: no request-metrics configuration ... (fix: aws s3api ...;
 *    watching it costs about $4.80 a month, est.)"
 * The columns are stable and documented (CSV column reference).
 */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "escape.h"
#include "findings.h"
#include "render.h"
#include "timeutil.h"
#include "units.h"

static const char csv_header[] =
	"run_id,account_id,account_name,region,bucket,metric,detector,period_start,"
	"value,baseline,limit,change_pct,score,status,severity,alert,est_excess_usd,"
	"unit,note,value_gb,baseline_gb,est_excess_usd_all,owner,tags,finding_id\r\n";

/* A text cell and its separator. */
static int text(struct cw_buf *out, const char *s)
{
	int rc = cw_csv_cell(out, s, true);

	return rc ? rc : cw_buf_addch(out, ',');
}

/* A number cell and its separator: plain, empty when not a number (digits,
 * sign, point and exponent never need quoting). */
static int num(struct cw_buf *out, double v)
{
	char buf[64] = "";
	int rc;

	if (isfinite(v))
		cw_fmt_plain(v, buf, sizeof(buf));
	if ((rc = cw_buf_addstr(out, buf)))
		return rc;
	return cw_buf_addch(out, ',');
}

/* run_id and the six identifying columns (account_id .. metric). */
static int ident(struct cw_buf *out, const struct cw_run *run,
		 const struct cw_target_id *id)
{
	int rc;

	if ((rc = text(out, run->run_id)) || (rc = text(out, id->account_id)) ||
	    (rc = text(out, id->account_name)) || (rc = text(out, id->region)) ||
	    (rc = text(out, id->bucket)))
		return rc;
	return text(out, id->metric);
}

/* A number in GB (10^9 bytes) when unit is Bytes, else an empty cell. */
static int gb(struct cw_buf *out, double v, const char *unit)
{
	bool bytes = unit && strcmp(unit, "Bytes") == 0;

	return num(out, bytes ? v / 1e9 : NAN);
}

/* The appended columns: value_gb .. finding_id (the last, no separator). */
static int tail(struct cw_buf *out, const struct cw_run *run, const struct cw_result *r,
		const struct cw_target_id *id)
{
	char fid[CW_FINDING_ID_LEN] = "";
	int rc;

	if (r)
		cw_result_finding_id(run, r, fid, sizeof(fid));
	if ((rc = cw_buf_addch(out, ',')) ||
	    (rc = gb(out, r ? r->j.value : NAN, id->unit)) ||
	    (rc = gb(out, r ? r->j.baseline : NAN, id->unit)) ||
	    (rc = num(out, r ? r->est_excess_usd : NAN)) || (rc = text(out, id->owner)) ||
	    (rc = text(out, id->tags)))
		return rc;
	return cw_csv_cell(out, fid, true);
}

static int result_row(struct cw_buf *out, const struct cw_run *run,
		      const struct cw_result *r)
{
	const struct cw_run_series *rs = &run->series[r->series];
	char when[CW_TIME_ISO_LEN];
	bool anomaly = r->j.status == CW_STATUS_ANOMALY;
	int rc;

	/* A series without slots (nothing was read) has no judged period. */
	if ((rc = ident(out, run, &rs->id)) || (rc = text(out, r->detector)) ||
	    (rc = text(out, rs->series.n ? cw_time_iso(r->j.period_start, when, sizeof(when))
					 : "")) ||
	    (rc = num(out, r->j.value)) || (rc = num(out, r->j.baseline)) ||
	    (rc = num(out, r->j.limit)) || (rc = num(out, cw_rep_change_pct(&r->j))) ||
	    (rc = num(out, r->j.score)) || (rc = text(out, cw_rep_status(r->j.status))) ||
	    (rc = text(out, anomaly ? cw_rep_severity(r->j.severity) : "")) ||
	    (rc = text(out, cw_rep_alert(r->alert))) ||
	    (rc = num(out, anomaly ? r->est_excess_usd : NAN)) ||
	    (rc = text(out, rs->id.unit)) || (rc = cw_csv_cell(out, r->note, true)) ||
	    (rc = tail(out, run, r, &rs->id)))
		return rc;
	return cw_buf_addstr(out, "\r\n");
}

/* A failed / not measured row: detector .. est_excess_usd are empty. */
static int failed_row(struct cw_buf *out, const struct cw_run *run,
		      const struct cw_target_id *id, const struct cw_buf *note)
{
	int rc;

	if ((rc = ident(out, run, id)) || (rc = cw_buf_addstr(out, ",,,,,,,failed,,,,")) ||
	    (rc = text(out, id->unit)) || (rc = cw_csv_cell(out, cw_buf_str(note), true)) ||
	    (rc = tail(out, run, NULL, id)))
		return rc;
	return cw_buf_addstr(out, "\r\n");
}

/* A not_watched / not_found row: value = stored bytes when known. */
static int unmeasured_row(struct cw_buf *out, const struct cw_run *run,
			  const struct cw_unmeasured *u, const char *status,
			  const struct cw_buf *note)
{
	int rc;

	if ((rc = ident(out, run, &u->id)) || (rc = cw_buf_addstr(out, ",,")) ||
	    (rc = num(out, u->stored_bytes)) || (rc = cw_buf_addstr(out, ",,,,")) ||
	    (rc = text(out, status)) || (rc = cw_buf_addstr(out, ",,,")) ||
	    (rc = text(out, isfinite(u->stored_bytes) ? "Bytes" : u->id.unit)) ||
	    (rc = cw_csv_cell(out, cw_buf_str(note), true)) ||
	    (rc = tail(out, run, NULL, &u->id)))
		return rc;
	return cw_buf_addstr(out, "\r\n");
}

static int csv_render(const struct cw_run *run, struct cw_buf *out, char *err,
		      size_t errlen)
{
	const struct cw_result *sorted = NULL;
	struct cw_buf note = CW_BUF_INIT;
	size_t i;
	int rc;

	if ((rc = cw_rep_sorted(run, &sorted)) || (rc = cw_buf_addstr(out, csv_header)))
		goto out;
	for (i = 0; i < run->nresults; i++)
		if ((rc = result_row(out, run, &sorted[i])))
			goto out;
	for (i = 0; i < run->nfailures; i++) {
		const struct cw_failure *f = &run->failures[i];

		cw_buf_reset(&note);
		if ((rc = cw_buf_printf(&note, "%s: %s: %s", f->stage ? f->stage : "",
					f->code ? f->code : "",
					f->message ? f->message : "")) ||
		    (rc = failed_row(out, run, &f->id, &note)))
			goto out;
	}
	/* not found, then not watched (as report.json keeps them) */
	for (i = 0; i < 2 * run->nunmeasured; i++) {
		const struct cw_unmeasured *u = &run->unmeasured[i % run->nunmeasured];
		const char *st = cw_unmeasured_kind_name(u->kind);

		if ((i < run->nunmeasured) != (u->kind == CW_UNMEASURED_NOT_FOUND))
			continue;

		cw_buf_reset(&note);
		rc = cw_buf_printf(&note, "%s: %s", st, u->reason ? u->reason : "");
		if (!rc && u->fix && u->fix[0])
			rc = cw_buf_printf(&note, " (fix: %s", u->fix);
		if (!rc && u->fix && u->fix[0] && isfinite(u->watch_usd_month))
			rc = cw_buf_printf(&note, "; watching it costs about $%.2f a month, est.",
					   u->watch_usd_month);
		if (!rc && u->fix && u->fix[0])
			rc = cw_buf_addch(&note, ')');
		if (rc || (rc = unmeasured_row(out, run, u, st, &note)))
			goto out;
	}
out:
	cw_buf_release(&note);
	cw_rep_sorted_free(run, sorted);
	if (rc)
		return cw_fail(err, errlen, rc, "report.csv: %s", cw_strerror(rc));
	return 0;
}

const struct cw_report_ops cw_report_csv = {
	.name = "csv",
	.filename = "report.csv",
	.render = csv_render,
};
