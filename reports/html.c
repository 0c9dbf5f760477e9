/*
 * html.c - the report a person opens in a browser: report.html.
 *
 * One self-contained file: no script, no external stylesheet, font or
 * image (a Content-Security-Policy in the page forbids every load), so it
 * reads the same offline, from a mail attachment or an S3 link, and prints
 * on paper (a print stylesheet drops the navigation and keeps charts whole).
 * Colours come from CSS variables with a dark variant under
 * prefers-color-scheme, and the SVG charts draw with those variables.
 *
 * It opens with the answer (estimated excess, findings, coverage), then:
 * the findings table (one row per bucket and period, the largest estimated
 * cost first), one card per finding with an SVG chart of its series over
 * the lookback (the baseline band from the lead detector's baseline to its
 * limit, the limit, the judged period and the episode: the run of periods
 * up to the judged one that are beyond the limit), per-account totals with
 * a small chart each, failures, buckets not measured, per-detector counts
 * and the parameters.  At most CW_REPORT_MD_MAX_ROWS findings get a card.
 *
 * Every name and message that came from outside goes through
 * cw_html_escape (text and attribute values alike).
 */
#include "report.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "err.h"
#include "escape.h"
#include "findings.h"
#include "render.h"
#include "units.h"

/* A writer with a sticky error. */
struct hw {
	struct cw_buf *out;
	int rc;
};

static void raw(struct hw *w, const char *s)
{
	if (!w->rc)
		w->rc = cw_buf_addstr(w->out, s);
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void fmt(struct hw *w, const char *f, ...)
{
	va_list ap;
	char buf[512];
	int n;

	if (w->rc)
		return;
	va_start(ap, f);
	n = vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		w->rc = CW_EINVAL; /* only short, program-made text comes here */
	else
		w->rc = cw_buf_addstr(w->out, buf);
}

static void esc(struct hw *w, const char *s)
{
	if (!w->rc)
		w->rc = cw_html_escape(w->out, s);
}

static bool has(const char *s)
{
	return s && s[0];
}

static const char css[] =
	":root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#59636e;"
	"--line:#d1d9e0;--card:#f6f8fa;--accent:#0969da;--bad:#cf222e;--band:rgba(9,105,218,.12);"
	"--episode:rgba(207,34,46,.14);--series:#0969da;--judged:rgba(207,34,46,.30)}\n"
	"@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;"
	"--line:#3d444d;--card:#151b23;--accent:#4493f8;--bad:#f85149;--band:rgba(68,147,248,.18);"
	"--episode:rgba(248,81,73,.20);--series:#4493f8;--judged:rgba(248,81,73,.40)}}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0 auto;max-width:1240px;padding:16px 20px;background:var(--bg);color:var(--fg);"
	"font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif}\n"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;"
	"border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:15px;margin:0 0 6px}\n"
	".meta,.note{color:var(--muted)}.meta{margin:0 0 10px}\n"
	".answer{font-size:17px;margin:8px 0 4px}.answer strong{font-size:20px}\n"
	"nav a{margin-right:14px}a{color:var(--accent)}\n"
	"table{border-collapse:collapse;width:100%;margin:6px 0}\n"
	"th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}\n"
	"th{font-weight:600;white-space:nowrap}td.n,th.n{text-align:right;white-space:nowrap;"
	"font-variant-numeric:tabular-nums}\n"
	"td.name{overflow-wrap:anywhere;max-width:360px}td.nw{white-space:nowrap}\n"
	".finding{background:var(--card);border:1px solid var(--line);border-radius:6px;"
	"padding:10px 12px;margin:12px 0;break-inside:avoid}\n"
	".facts{display:flex;flex-wrap:wrap;gap:4px 18px;margin:0 0 6px}.facts span{white-space:nowrap}\n"
	"svg.chart{width:100%;height:auto;display:block}svg.mini{width:160px;height:36px}\n"
	"svg.mini .s-line{vector-effect:non-scaling-stroke;stroke-width:1.5}\n"
	"svg text{fill:var(--muted);font:11px system-ui,sans-serif}\n"
	".s-line{fill:none;stroke:var(--series);stroke-width:1.6}\n"
	".s-band{fill:var(--band)}.s-base{stroke:var(--accent);stroke-dasharray:4 3;stroke-width:1}\n"
	".s-limit{stroke:var(--bad);stroke-dasharray:6 3;stroke-width:1.2}\n"
	".s-axis{stroke:var(--line);stroke-width:1}.s-episode{fill:var(--episode)}\n"
	".s-judged{fill:var(--judged)}.s-dot{fill:var(--bad)}\n"
	".sev-critical{color:var(--bad);font-weight:600}.sev-warning{font-weight:600}\n"
	"@media print{nav{display:none}body{max-width:none;padding:0}"
	".finding{border-color:#999}a{color:inherit;text-decoration:none}}\n";

/* ---- charts -------------------------------------------------------------- */

#define CW_W 1180.0 /* chart viewBox width: about the card's width, so text keeps its size */
#define CW_H 220.0
#define CW_L 70.0   /* left margin (y labels) */
#define CW_R 10.0
#define CW_T 10.0
#define CW_B 22.0   /* bottom margin (x labels) */

struct scale {
	double lo, hi;  /* y range */
	size_t n;       /* slots */
};

static double sx(const struct scale *s, double i)
{
	return CW_L + (CW_W - CW_L - CW_R) * (s->n > 1 ? i / (double)(s->n - 1) : 0.5);
}

static double sy(const struct scale *s, double v)
{
	double f = s->hi > s->lo ? (v - s->lo) / (s->hi - s->lo) : 0;

	if (f < 0)
		f = 0;
	if (f > 1.05)
		f = 1.05;
	return CW_H - CW_B - (CW_H - CW_B - CW_T) * f;
}

/* The values as polylines, broken at gaps. */
static void polyline(struct hw *w, const struct scale *s, const double *v, size_t n,
		     const char *cls)
{
	bool open = false;

	for (size_t i = 0; i < n; i++) {
		if (isnan(v[i]) || !isfinite(v[i])) {
			if (open)
				raw(w, "\"/>");
			open = false;
			continue;
		}
		if (!open)
			fmt(w, "<polyline class=\"%s\" points=\"", cls);
		fmt(w, "%s%.1f,%.1f", open ? " " : "", sx(s, (double)i), sy(s, v[i]));
		open = true;
	}
	if (open)
		raw(w, "\"/>");
}

static bool beyond(double v, double base, double limit)
{
	if (isnan(v) || isnan(limit))
		return false;
	if (!isnan(base) && limit < base)
		return v < limit; /* a downward detector */
	return v > limit;
}

/*
 * The chart of one finding: its series' complete periods, the band from
 * the lead's baseline to its limit, both as lines, the episode and the
 * judged period shaded, the judged value as a dot.
 */
static void finding_chart(struct hw *w, const struct cw_run *run, const struct cw_finding *f)
{
	const struct cw_result *r = cw_finding_lead(run, f);
	const struct cw_run_series *rs = &run->series[f->series];
	const struct cw_series *s = &rs->series;
	size_t n = cw_series_complete(s), judged, ep;
	struct scale sc = { 0, 0, n };
	char a[64], b[64], t0[32], t1[32];
	double lo = INFINITY, hi = -INFINITY, slot;

	if (n == 0 || s->period <= 0 || f->period_start < s->start ||
	    (size_t)((f->period_start - s->start) / s->period) >= n) {
		raw(w, "<p class=\"note\">No history to chart.</p>");
		return;
	}
	judged = (size_t)((f->period_start - s->start) / s->period);
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(s->values[i]))
			continue;
		lo = s->values[i] < lo ? s->values[i] : lo;
		hi = s->values[i] > hi ? s->values[i] : hi;
	}
	if (isfinite(r->j.limit) && r->j.limit > hi)
		hi = r->j.limit;
	if (isfinite(r->j.baseline) && r->j.baseline < lo)
		lo = r->j.baseline;
	if (isfinite(r->j.limit) && r->j.limit < lo)
		lo = r->j.limit;
	sc.lo = lo >= 0 || !isfinite(lo) ? 0 : lo;
	sc.hi = isfinite(hi) && hi > sc.lo ? hi * (hi > 0 ? 1.08 : 0.92) : sc.lo + 1;
	/* the episode: as the detector tracked it (where it began), else the
	 * consecutive periods up to the judged one beyond the limit */
	if (r->j.episode_len >= 1 && r->j.episode_start >= s->start &&
	    r->j.episode_start <= f->period_start) {
		ep = (size_t)((r->j.episode_start - s->start) / s->period);
	} else {
		for (ep = judged; ep > 0 && beyond(s->values[ep - 1], r->j.baseline, r->j.limit);
		     ep--)
			;
	}
	slot = n > 1 ? (CW_W - CW_L - CW_R) / (double)(n - 1) : 20;

	fmt(w, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
	       "xmlns=\"http://www.w3.org/2000/svg\"><title>", CW_W, CW_H);
	esc(w, has(rs->id.bucket) ? rs->id.bucket : rs->id.metric);
	fmt(w, ": %zu periods, the judged one marked</title>", n);
	/* baseline band and lines */
	if (isfinite(r->j.baseline) && isfinite(r->j.limit)) {
		double y1 = sy(&sc, r->j.limit), y2 = sy(&sc, r->j.baseline);

		fmt(w, "<rect class=\"s-band\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
		    CW_L, y1 < y2 ? y1 : y2, CW_W - CW_L - CW_R, fabs(y2 - y1));
	}
	/* episode and judged period */
	if (ep < judged)
		fmt(w, "<rect class=\"s-episode\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		       "height=\"%.1f\"><title>episode: %zu periods</title></rect>",
		    sx(&sc, (double)ep) - slot / 2, CW_T, slot * (double)(judged - ep),
		    CW_H - CW_B - CW_T, judged - ep + 1);
	fmt(w, "<rect class=\"s-judged\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
	    sx(&sc, (double)judged) - slot / 2, CW_T, slot < 3 ? 3 : slot, CW_H - CW_B - CW_T);
	if (isfinite(r->j.baseline))
		fmt(w, "<line class=\"s-base\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
		    CW_L, CW_W - CW_R, sy(&sc, r->j.baseline), sy(&sc, r->j.baseline));
	if (isfinite(r->j.limit))
		fmt(w, "<line class=\"s-limit\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
		    CW_L, CW_W - CW_R, sy(&sc, r->j.limit), sy(&sc, r->j.limit));
	/* axes and labels */
	fmt(w, "<line class=\"s-axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
	    CW_L, CW_W - CW_R, CW_H - CW_B, CW_H - CW_B);
	fmt(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>", CW_L - 6,
	    sy(&sc, sc.lo) + 4, cw_rep_human(sc.lo, rs->id.unit, a, sizeof(a)));
	fmt(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>", CW_L - 6,
	    CW_T + 8, cw_rep_human(sc.hi, rs->id.unit, b, sizeof(b)));
	if (isfinite(r->j.limit))
		fmt(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">limit %s</text>",
		    CW_W - CW_R - 2, sy(&sc, r->j.limit) - 3,
		    cw_rep_human(r->j.limit, rs->id.unit, a, sizeof(a)));
	if (isfinite(r->j.baseline))
		fmt(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"start\">baseline %s (%s)</text>",
		    CW_L + 4, sy(&sc, r->j.baseline) + 12,
		    cw_rep_human(r->j.baseline, rs->id.unit, b, sizeof(b)), r->detector);
	fmt(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"start\">%s</text>", CW_L, CW_H - 6,
	    cw_rep_time(cw_series_time(s, 0), s->period, t0, sizeof(t0)));
	fmt(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>", CW_W - CW_R, CW_H - 6,
	    cw_rep_time(cw_series_time(s, n - 1), s->period, t1, sizeof(t1)));
	polyline(w, &sc, s->values, n, "s-line");
	if (isfinite(s->values[judged]))
		fmt(w, "<circle class=\"s-dot\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\"><title>%s</title>"
		       "</circle>", sx(&sc, (double)judged), sy(&sc, s->values[judged]),
		    cw_rep_human(s->values[judged], rs->id.unit, a, sizeof(a)));
	raw(w, "</svg>");
}

/* A small chart of an account's daily total. */
static void mini_chart(struct hw *w, const struct cw_acct_total *a)
{
	double hi = 0;
	struct scale sc;

	if (a->ndaily < 2) {
		raw(w, "\xe2\x80\x94");
		return;
	}
	for (size_t i = 0; i < a->ndaily; i++)
		if (isfinite(a->daily[i]) && a->daily[i] > hi)
			hi = a->daily[i];
	sc = (struct scale){ 0, hi > 0 ? hi : 1, a->ndaily };
	/* drawn in the big chart's coordinates, scaled by the viewBox */
	fmt(w, "<svg class=\"mini\" viewBox=\"%.0f %.0f %.0f %.0f\" preserveAspectRatio=\"none\" "
	       "role=\"img\" xmlns=\"http://www.w3.org/2000/svg\"><title>daily total, %zu days"
	       "</title>", CW_L, CW_T, CW_W - CW_L - CW_R, CW_H - CW_B - CW_T, a->ndaily);
	polyline(w, &sc, a->daily, a->ndaily, "s-line");
	raw(w, "</svg>");
}

/* ---- sections ------------------------------------------------------------ */

static void money(struct hw *w, double usd)
{
	if (isnan(usd))
		raw(w, "\xe2\x80\x94");
	else
		fmt(w, "est. $%.2f", usd);
}

static void account_text(struct hw *w, const struct cw_target_id *id)
{
	if (has(id->account_name))
		esc(w, id->account_name);
	if (has(id->account_id) && (!has(id->account_name) ||
				    strcmp(id->account_id, id->account_name) != 0)) {
		raw(w, has(id->account_name) ? " (" : "");
		esc(w, id->account_id);
		raw(w, has(id->account_name) ? ")" : "");
	}
}

static void link(struct hw *w, const char *text, struct cw_buf *url)
{
	if (!url->len)
		return;
	raw(w, "<a rel=\"noreferrer\" href=\"");
	esc(w, cw_buf_str(url));
	raw(w, "\">");
	raw(w, text);
	raw(w, "</a> ");
}

static void header(struct hw *w, const struct cw_run *run, const struct cw_findings *fs)
{
	struct cw_run_counts c;
	char when[32], dur[32];

	cw_run_count(run, &c);
	raw(w, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	       "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	       "style-src 'unsafe-inline'; img-src data:\">\n"
	       "<meta name=\"color-scheme\" content=\"light dark\">\n<title>cwsweep report ");
	esc(w, run->run_id);
	raw(w, "</title>\n<style>\n");
	raw(w, css);
	raw(w, "</style></head>\n<body>\n<header><h1>cwsweep report</h1>\n<p class=\"meta\">");
	esc(w, run->mode);
	raw(w, " \xc2\xb7 run ");
	esc(w, run->run_id);
	fmt(w, " \xc2\xb7 started %s UTC", cw_rep_time(run->started, 0, when, sizeof(when)));
	fmt(w, " \xc2\xb7 period %s", run->period > 0 ? cw_fmt_duration(run->period, dur,
									   sizeof(dur)) : "mixed");
	if (run->lookback > 0)
		fmt(w, " \xc2\xb7 lookback %s", cw_fmt_duration(run->lookback, dur, sizeof(dur)));
	if (run->accounts || run->regions)
		fmt(w, " \xc2\xb7 %zu account%s, %zu region%s", run->accounts,
		    run->accounts == 1 ? "" : "s", run->regions, run->regions == 1 ? "" : "s");
	raw(w, "</p>\n<p class=\"answer\" id=\"answer\">");
	if (!isnan(run->total_excess_usd))
		fmt(w, "<strong>est. $%.2f</strong> estimated excess \xc2\xb7 ",
		    run->total_excess_usd);
	fmt(w, "<strong>%zu</strong> finding%s \xc2\xb7 coverage: <strong>%zu</strong> series "
	       "judged", fs->n, fs->n == 1 ? "" : "s", c.series);
	if (c.failures || c.not_found || c.not_watched)
		fmt(w, ", %zu failure%s, %zu not watched, %zu not found", c.failures,
		    c.failures == 1 ? "" : "s", c.not_watched, c.not_found);
	{
		struct cw_coverage t;
		char line[160];

		if (cw_run_coverage_total(run, &t))
			fmt(w, " \xc2\xb7 %s%s", cw_coverage_line(&t, line, sizeof(line)),
			    run->coverage_fell ? " (fell since the last run)" : "");
	}
	raw(w, "</p>\n<nav><a href=\"#findings\">Findings</a><a href=\"#accounts\">Accounts</a>"
	       "<a href=\"#failures\">Failures</a><a href=\"#judgements\">Judgements</a>"
	       "<a href=\"#parameters\">Parameters</a></nav></header>\n");
}

static void finding_cells(struct hw *w, const struct cw_run *run, const struct cw_finding *f,
			  size_t rank)
{
	const struct cw_result *r = cw_finding_lead(run, f);
	const struct cw_run_series *rs = &run->series[f->series];
	const struct cw_target_id *id = &rs->id;
	char a[64];
	struct cw_buf det = CW_BUF_INIT;

	fmt(w, "<tr><td class=\"n\"><a href=\"#%s\">%zu</a></td><td class=\"sev-%s\">%s</td>"
	       "<td class=\"n\">", f->id, rank, cw_rep_severity(f->severity),
	    cw_rep_severity(f->severity));
	money(w, f->est_excess_usd);
	raw(w, "</td><td class=\"name\">");
	esc(w, has(id->bucket) ? id->bucket : id->metric);
	raw(w, "</td><td class=\"name\">");
	account_text(w, id);
	raw(w, "</td><td class=\"nw\">");
	esc(w, id->region);
	fmt(w, "</td><td class=\"nw\">%s</td>",
	    cw_rep_time(f->period_start, rs->series.period, a, sizeof(a)));
	fmt(w, "<td class=\"n\">%s</td>", cw_rep_human(r->j.value, id->unit, a, sizeof(a)));
	fmt(w, "<td class=\"n\">%s", cw_rep_human(r->j.baseline, id->unit, a, sizeof(a)));
	fmt(w, " (%s)</td>", r->detector);
	fmt(w, "<td class=\"n\">%s</td><td>", cw_rep_pct(cw_rep_change_pct(&r->j), a, sizeof(a)));
	if (!w->rc)
		w->rc = cw_finding_detectors(run, f, &det);
	esc(w, cw_buf_str(&det));
	fmt(w, "</td><td>%s</td></tr>\n", cw_rep_alert(f->alert));
	cw_buf_release(&det);
}

static void finding_card(struct hw *w, const struct cw_run *run, const struct cw_finding *f,
			 size_t rank)
{
	const struct cw_result *r = cw_finding_lead(run, f);
	const struct cw_run_series *rs = &run->series[f->series];
	const struct cw_target_id *id = &rs->id;
	struct cw_buf url = CW_BUF_INIT, det = CW_BUF_INIT;
	char a[64], b[64];

	fmt(w, "<article class=\"finding\" id=\"%s\"><h3>%zu. ", f->id, rank);
	esc(w, has(id->bucket) ? id->bucket : id->metric);
	if (has(id->account_name) || has(id->account_id)) {
		raw(w, " \xc2\xb7 ");
		account_text(w, id);
	}
	if (has(id->region)) {
		raw(w, " \xc2\xb7 ");
		esc(w, id->region);
	}
	fmt(w, "</h3>\n<div class=\"facts\"><span class=\"sev-%s\">%s</span><span>",
	    cw_rep_severity(f->severity), cw_rep_severity(f->severity));
	money(w, f->est_excess_usd);
	fmt(w, "</span><span>%s: <strong>%s</strong>",
	    cw_rep_time(f->period_start, rs->series.period, a, sizeof(a)),
	    cw_rep_human(r->j.value, id->unit, b, sizeof(b)));
	fmt(w, " vs baseline %s (", cw_rep_human(r->j.baseline, id->unit, a, sizeof(a)));
	fmt(w, "%s), %s</span><span>flagged by ", r->detector,
	    cw_rep_pct(cw_rep_change_pct(&r->j), a, sizeof(a)));
	if (!w->rc)
		w->rc = cw_finding_detectors(run, f, &det);
	esc(w, cw_buf_str(&det));
	raw(w, "</span>");
	if (has(id->bucket) && has(id->metric)) {
		raw(w, "<span>");
		esc(w, id->metric);
		raw(w, "</span>");
	}
	if (has(id->owner)) {
		raw(w, "<span>owner ");
		esc(w, id->owner);
		raw(w, "</span>");
	}
	if (f->alert != CW_ALERT_NONE)
		fmt(w, "<span>alert: %s</span>", cw_rep_alert(f->alert));
	if (r->j.episode_len > 1) {
		char since[32], peak[64];

		fmt(w, "<span>episode: %u periods since %s, peak %s</span>", r->j.episode_len,
		    cw_rep_time(r->j.episode_start, rs->series.period, since, sizeof(since)),
		    cw_rep_human(r->j.episode_peak, id->unit, peak, sizeof(peak)));
	}
	if (r->j.kind)
		fmt(w, "<span>%s</span>", r->j.kind);
	raw(w, "</div>\n");
	finding_chart(w, run, f);
	if (!w->rc)
		w->rc = cw_rep_metric_url(&url, id, rs->series.period, run->lookback);
	if (url.len) {
		raw(w, "\n<p class=\"note\">");
		link(w, "CloudWatch graph", &url);
		cw_buf_reset(&url);
		if (!w->rc)
			w->rc = cw_rep_bucket_url(&url, id);
		link(w, "S3 bucket", &url);
		raw(w, "</p>");
	}
	fmt(w, "\n</article>\n");
	cw_buf_release(&url);
	cw_buf_release(&det);
}

static void findings(struct hw *w, const struct cw_run *run, const struct cw_findings *fs)
{
	size_t shown = fs->n < CW_REPORT_MD_MAX_ROWS ? fs->n : CW_REPORT_MD_MAX_ROWS;

	fmt(w, "<section id=\"findings\"><h2>Findings (%zu)</h2>\n", fs->n);
	if (fs->n == 0) {
		raw(w, "<p>No anomalies.</p></section>\n");
		return;
	}
	fmt(w, "<p class=\"note\">One row per bucket and period (%zu anomalous judgement%s in "
	       "all); the baseline shown is the named detector's, the one with the largest "
	       "estimate.", fs->judgements, fs->judgements == 1 ? "" : "s");
	if (shown < fs->n)
		fmt(w, " The %zu largest of %zu; report.csv lists all of them.", shown, fs->n);
	raw(w, "</p>\n<table><thead><tr><th class=\"n\">#</th><th>Severity</th>"
	       "<th class=\"n\">Est. excess</th><th>Bucket / series</th><th>Account</th>"
	       "<th>Region</th><th>Period (UTC)</th><th class=\"n\">Value</th>"
	       "<th class=\"n\">Baseline (from)</th><th class=\"n\">Change</th><th>Detectors</th>"
	       "<th>Alert</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < shown; i++)
		finding_cells(w, run, &fs->v[i], i + 1);
	raw(w, "</tbody></table>\n");
	for (size_t i = 0; i < shown; i++)
		finding_card(w, run, &fs->v[i], i + 1);
	raw(w, "</section>\n");
}

static void accounts(struct hw *w, const struct cw_acct_totals *t)
{
	char a[64], b[64], c[64];

	fmt(w, "<section id=\"accounts\"><h2>Accounts (%zu)</h2>\n", t->n);
	if (t->n == 0) {
		raw(w, "<p>Nothing was judged.</p></section>\n");
		return;
	}
	raw(w, "<table><thead><tr><th>Account</th><th class=\"n\">Series</th>"
	       "<th class=\"n\">Last 7 days</th><th class=\"n\">Previous 7 days</th>"
	       "<th class=\"n\">Change</th><th class=\"n\">Est. excess</th>"
	       "<th class=\"n\">Findings</th><th>Daily total</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < t->n; i++) {
		const struct cw_acct_total *x = &t->v[i];
		struct cw_target_id id = { 0 };

		id.account_id = (char *)x->account_id;
		id.account_name = (char *)x->account_name;
		raw(w, "<tr><td class=\"name\">");
		if (has(x->account_id) || has(x->account_name))
			account_text(w, &id);
		else
			raw(w, "(files)");
		fmt(w, "</td><td class=\"n\">%zu</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
		       "<td class=\"n\">%s</td><td class=\"n\">", x->series,
		    cw_rep_human(x->week, "Bytes", a, sizeof(a)),
		    cw_rep_human(x->prev, "Bytes", b, sizeof(b)),
		    cw_rep_pct(!isnan(x->prev) && x->prev != 0 ? (x->week - x->prev) / x->prev * 100
							       : NAN, c, sizeof(c)));
		money(w, x->usd);
		fmt(w, "</td><td class=\"n\">%zu</td><td>", x->findings);
		mini_chart(w, x);
		raw(w, "</td></tr>\n");
	}
	raw(w, "</tbody></table></section>\n");
}

static void failures(struct hw *w, const struct cw_run *run)
{
	fmt(w, "<section id=\"failures\"><h2>Failures (%zu)</h2>\n", run->nfailures);
	if (run->nfailures == 0)
		raw(w, "<p>None: every target was fetched.</p>\n");
	else
		raw(w, "<p class=\"note\">These targets could not be judged; nothing is known about "
		       "them.</p>\n<table><thead><tr><th>Account</th><th>Region</th>"
		       "<th>Bucket / series</th><th>Stage</th><th>Code</th><th>Message</th></tr>"
		       "</thead><tbody>\n");
	for (size_t i = 0; i < run->nfailures && i < CW_REPORT_MD_MAX_ROWS; i++) {
		const struct cw_failure *f = &run->failures[i];

		raw(w, "<tr><td class=\"name\">");
		account_text(w, &f->id);
		raw(w, "</td><td>");
		esc(w, f->id.region);
		raw(w, "</td><td class=\"name\">");
		esc(w, has(f->id.bucket) ? f->id.bucket : has(f->id.metric) ? f->id.metric : "(all)");
		raw(w, "</td><td>");
		esc(w, f->stage);
		raw(w, "</td><td>");
		esc(w, f->code);
		raw(w, "</td><td class=\"name\">");
		esc(w, f->message);
		raw(w, "</td></tr>\n");
	}
	if (run->nfailures)
		raw(w, "</tbody></table>\n");
	if (run->nfailures > CW_REPORT_MD_MAX_ROWS)
		fmt(w, "<p class=\"note\">The first %d; report.csv lists all of them.</p>\n",
		    CW_REPORT_MD_MAX_ROWS);
	raw(w, "</section>\n");
	if (run->nunmeasured == 0)
		return;
	fmt(w, "<section id=\"unmeasured\"><h2>Not watched and not found (%zu)</h2>\n"
	       "<p class=\"note\">CloudWatch has no such metric for these buckets, so they "
	       "were not judged: not watched (the bucket has data but no request metrics) or "
	       "not found.</p>\n<table><thead><tr><th>Kind</th><th>Account</th><th>Region</th>"
	       "<th>Bucket</th><th class=\"n\">Stored</th><th>Metric</th><th>Reason</th>"
	       "<th>Fix</th></tr></thead><tbody>\n", run->nunmeasured);
	for (size_t i = 0; i < run->nunmeasured && i < CW_REPORT_MD_MAX_ROWS; i++) {
		const struct cw_unmeasured *u = &run->unmeasured[i];
		char stored[64];

		fmt(w, "<tr><td>%s</td><td class=\"name\">", cw_unmeasured_kind_name(u->kind));
		account_text(w, &u->id);
		raw(w, "</td><td>");
		esc(w, u->id.region);
		raw(w, "</td><td class=\"name\">");
		esc(w, u->id.bucket);
		fmt(w, "</td><td class=\"n\">%s</td><td>",
		    cw_rep_human(u->stored_bytes, "Bytes", stored, sizeof(stored)));
		esc(w, u->id.metric);
		raw(w, "</td><td class=\"name\">");
		esc(w, u->reason);
		raw(w, "</td><td class=\"name\"><code>");
		esc(w, u->fix);
		raw(w, "</code></td></tr>\n");
	}
	raw(w, "</tbody></table></section>\n");
}

static void judgements(struct hw *w, const struct cw_run *run)
{
	const char *names[64];
	size_t counts[64][4], n = 0;

	raw(w, "<section id=\"judgements\"><h2>Judgements</h2>\n");
	memset(counts, 0, sizeof(counts));
	for (size_t i = 0; i < run->nresults; i++) {
		const struct cw_result *r = &run->results[i];
		size_t k;

		for (k = 0; k < n && strcmp(names[k], r->detector ? r->detector : "") != 0; k++)
			;
		if (k == n) {
			if (n == 64)
				continue;
			names[n++] = r->detector ? r->detector : "";
		}
		counts[k][0]++;
		counts[k][r->j.status == CW_STATUS_ANOMALY ? 1
			  : r->j.status == CW_STATUS_OK ? 2 : 3]++;
	}
	if (n == 0) {
		raw(w, "<p>Nothing was judged.</p></section>\n");
		return;
	}
	raw(w, "<table><thead><tr><th>Detector</th><th class=\"n\">Judgements</th>"
	       "<th class=\"n\">Anomalies</th><th class=\"n\">OK</th>"
	       "<th class=\"n\">Insufficient history</th></tr></thead><tbody>\n");
	for (size_t k = 0; k < n; k++) {
		raw(w, "<tr><td>");
		esc(w, names[k]);
		fmt(w, "</td><td class=\"n\">%zu</td><td class=\"n\">%zu</td><td class=\"n\">%zu</td>"
		       "<td class=\"n\">%zu</td></tr>\n", counts[k][0], counts[k][1], counts[k][2],
		    counts[k][3]);
	}
	raw(w, "</tbody></table>\n<p class=\"note\">Every judgement, the ok ones too, is a row in "
	       "report.csv, report.json and report.xlsx.</p></section>\n");
}

static void parameters(struct hw *w, const struct cw_run *run)
{
	raw(w, "<section id=\"parameters\"><h2>Parameters</h2>\n<ul>");
	if (has(run->inventory)) {
		raw(w, "<li>inventory: ");
		esc(w, run->inventory);
		raw(w, "</li>");
	}
	fmt(w, "<li>judged: %s</li>", run->all_periods ? "every complete period"
						       : "the last complete period");
	if (run->api_calls)
		fmt(w, "<li>AWS API calls: %zu</li>", run->api_calls);
	for (size_t i = 0; i < run->ndetectors; i++) {
		struct cw_buf d = CW_BUF_INIT;

		if (!w->rc)
			w->rc = cw_rep_detector_text(&d, run->detectors[i]);
		raw(w, "<li>detector ");
		esc(w, cw_buf_str(&d));
		raw(w, "</li>");
		cw_buf_release(&d);
	}
	{
		char dur[32];

		fmt(w, "<li>period %s", run->period > 0 ? cw_fmt_duration(run->period, dur,
									     sizeof(dur)) : "mixed");
		if (run->lookback > 0)
			fmt(w, ", lookback %s", cw_fmt_duration(run->lookback, dur, sizeof(dur)));
		raw(w, "</li>");
	}
	raw(w, "</ul>\n");
	if (has(run->price_note)) {
		raw(w, "<p class=\"note\">Dollar figures are estimates: ");
		esc(w, run->price_note);
		raw(w, "</p>\n");
	}
	raw(w, "</section>\n");
}

static int html_render(const struct cw_run *run, struct cw_buf *out, char *err, size_t errlen)
{
	struct hw w = { out, 0 };
	struct cw_findings fs;
	struct cw_acct_totals t;

	memset(&t, 0, sizeof(t));
	if ((w.rc = cw_findings_build(run, NULL, &fs)) ||
	    (w.rc = cw_acct_totals_build(run, &fs, &t)))
		goto out;
	header(&w, run, &fs);
	raw(&w, "<main>\n");
	findings(&w, run, &fs);
	accounts(&w, &t);
	failures(&w, run);
	judgements(&w, run);
	parameters(&w, run);
	raw(&w, "</main>\n<footer class=\"note\">cwsweep; every dollar figure is an estimate, "
		"not a bill.</footer>\n</body></html>\n");
out:
	cw_acct_totals_release(&t);
	cw_findings_release(&fs);
	if (w.rc)
		return cw_fail(err, errlen, w.rc, "report.html: %s", cw_strerror(w.rc));
	return 0;
}

const struct cw_report_ops cw_report_html = {
	.name = "html",
	.filename = "report.html",
	.render = html_render,
};
