/*
 * slack.c - the Slack digest payload (slack.h).
 *
 * Every piece of text is built first, with a byte budget per outside
 * string, so that each section is far below Slack's 3,000 characters
 * whatever the names are; then the findings are added while the block
 * count and the total text allow, and the rest becomes "...and N more".
 * The payload is assembled with jansson.  Sending is someone else's job
 * (analyzer/lifecycle/notify.h); nothing here knows the webhook URL.
 */
#include "slack.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "escape.h"
#include "findings.h"
#include "render.h"

#define ELLIPSIS "\xe2\x80\xa6"   /* U+2026 */
#define EM_DASH "\xe2\x80\x94"    /* U+2014 */
#define MIDDOT " \xc2\xb7 "        /* " · " */

/* Byte budgets for outside text (escaped) inside one line. */
#define B_NAME 300    /* account name, bucket, metric */
#define B_SHORT 64    /* account id, region, detector, stage */
#define B_CODE 100    /* AWS error code, run id */
#define B_MESSAGE 600 /* AWS error message */
#define B_PATH 600    /* report path */

/* Room kept in the total for the "...and N more" line. */
#define MORE_RESERVE 3000

/* ---- escaping ------------------------------------------------------------ */

/* The escaped form of the character at s in *rep / *rlen; returns the
 * bytes of s it stands for (>= 1). */
static size_t slack_piece(const char *s, bool code, const char **rep, size_t *rlen)
{
	unsigned char c = (unsigned char)*s;
	size_t n;

	if (c == '&') {
		*rep = "&amp;";
		*rlen = 5;
		return 1;
	}
	if (c == '<' || c == '>') {
		*rep = c == '<' ? "&lt;" : "&gt;";
		*rlen = 4;
		return 1;
	}
	if (c == '`' && code) {
		*rep = "\xcb\x8b"; /* U+02CB MODIFIER LETTER GRAVE ACCENT */
		*rlen = 2;
		return 1;
	}
	if (c < 0x20 || c == 0x7f) {
		*rep = " ";
		*rlen = 1;
		return 1;
	}
	n = cw_utf8_len(s);
	if (n == 0) {
		*rep = "\xef\xbf\xbd"; /* U+FFFD */
		*rlen = 3;
		return 1;
	}
	*rep = s;
	*rlen = n;
	return n;
}

static int escape_impl(struct cw_buf *out, const char *s, size_t max, bool code)
{
	const char *p, *rep;
	size_t total = 0, written = 0, rlen, budget;
	int rc;

	if (!s)
		s = "";
	for (p = s; *p;) {
		p += slack_piece(p, code, &rep, &rlen);
		total += rlen;
	}
	budget = max == 0 || total <= max ? total : max > 3 ? max - 3 : 0;
	for (p = s; *p;) {
		size_t used = slack_piece(p, code, &rep, &rlen);

		if (written + rlen > budget)
			break;
		if ((rc = cw_buf_add(out, rep, rlen)))
			return rc;
		written += rlen;
		p += used;
	}
	if (*p && max >= 3)
		return cw_buf_addstr(out, ELLIPSIS);
	return 0;
}

int cw_slack_escape(struct cw_buf *out, const char *s, size_t max)
{
	return escape_impl(out, s, max, false);
}

/* Outside text as a `code` span (formatting characters inert there); an
 * empty one as an em dash. */
static int code(struct cw_buf *out, const char *s, size_t max)
{
	int rc;

	if (!s || !*s)
		return cw_buf_addstr(out, EM_DASH);
	if ((rc = cw_buf_addch(out, '`')) || (rc = escape_impl(out, s, max, true)))
		return rc;
	return cw_buf_addch(out, '`');
}

/* A link <URL|text>: the URL escaped (& < >), | and spaces kept out. */
static int slack_link(struct cw_buf *b, const char *url, const char *text)
{
	int rc = cw_buf_addch(b, '<');

	for (const char *p = url; *p && !rc; p++)
		rc = *p == '|' || *p == ' ' ? cw_buf_printf(b, "%%%02X", (unsigned char)*p)
					    : cw_slack_escape(b, (char[2]){ *p, 0 }, 0);
	if (!rc)
		rc = cw_buf_printf(b, "|%s>", text);
	return rc;
}

char *cw_slack_money(double usd, char *buf, size_t len)
{
	char digits[64], grouped[96];
	long long cents;
	size_t n, o = 0;

	if (isnan(usd)) {
		snprintf(buf, len, "n/a");
		return buf;
	}
	if (fabs(usd) >= 1e15) {
		snprintf(buf, len, "%s$%.3g (est.)", usd < 0 ? "-" : "", fabs(usd));
		return buf;
	}
	cents = llround(fabs(usd) * 100.0);
	snprintf(digits, sizeof(digits), "%lld", cents / 100);
	n = strlen(digits);
	for (size_t i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			grouped[o++] = ',';
		grouped[o++] = digits[i];
	}
	grouped[o] = '\0';
	snprintf(buf, len, "%s$%s.%02lld (est.)", usd < 0 && cents ? "-" : "", grouped,
		 cents % 100);
	return buf;
}

/* ---- what to say --------------------------------------------------------- */

static bool has(const char *s)
{
	return s && *s;
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* "`prod` (111111111111) · `us-east-1` · `bucket`" (what is known of it). */
static int target(struct cw_buf *b, const struct cw_target_id *id, bool with_metric)
{
	const char *acct = has(id->account_name) ? id->account_name : id->account_id;
	bool any = false;
	int rc = 0;

	if (has(acct)) {
		rc = code(b, acct, B_NAME);
		if (!rc && has(id->account_id) && has(id->account_name) &&
		    strcmp(id->account_id, id->account_name) != 0) {
			rc = cw_buf_addstr(b, " (");
			if (!rc)
				rc = cw_slack_escape(b, id->account_id, B_SHORT);
			if (!rc)
				rc = cw_buf_addch(b, ')');
		}
		any = true;
	}
	if (!rc && has(id->region)) {
		if (any)
			rc = cw_buf_addstr(b, MIDDOT);
		if (!rc)
			rc = code(b, id->region, B_SHORT);
		any = true;
	}
	if (!rc && (has(id->bucket) || with_metric || !any)) {
		if (any)
			rc = cw_buf_addstr(b, MIDDOT);
		if (!rc)
			rc = code(b, has(id->bucket) ? id->bucket : id->metric, B_NAME);
	}
	return rc;
}

static int alert_tag(struct cw_buf *b, enum cw_alert a)
{
	switch (a) {
	case CW_ALERT_NEW:
		return cw_buf_addstr(b, MIDDOT "*new*");
	case CW_ALERT_GREW:
		return cw_buf_addstr(b, MIDDOT "*grew*");
	case CW_ALERT_ONGOING:
		return cw_buf_addstr(b, MIDDOT "ongoing");
	default:
		return 0;
	}
}

/* "\n<URL|CloudWatch graph> · <URL|S3 bucket>" when the series has them. */
static int console_links(struct cw_buf *b, const struct cw_run *run,
			 const struct cw_target_id *id, int64_t period)
{
	struct cw_buf url = CW_BUF_INIT;
	int rc = cw_rep_metric_url(&url, id, period, run->lookback);
	bool first = true;

	/* (real bucket names are at most 63 characters: a longer URL is not
	 * a bucket's, and it would eat the section's budget) */
	if (!rc && url.len && url.len <= B_PATH && !(rc = cw_buf_addch(b, '\n'))) {
		rc = slack_link(b, cw_buf_str(&url), "CloudWatch graph");
		first = false;
	}
	cw_buf_reset(&url);
	if (!rc)
		rc = cw_rep_bucket_url(&url, id);
	if (!rc && url.len && url.len <= B_PATH &&
	    !(rc = cw_buf_addstr(b, first ? "\n" : MIDDOT)))
		rc = slack_link(b, cw_buf_str(&url), "S3 bucket");
	cw_buf_release(&url);
	return rc;
}

/* One finding's section text. */
static int finding_text(struct cw_buf *b, const struct cw_run *run, size_t rank,
			const struct cw_finding *f)
{
	const struct cw_result *r = cw_finding_lead(run, f);
	const struct cw_run_series *rs = &run->series[r->series];
	const struct cw_target_id *id = &rs->id;
	char v[64], base[64], pct[32], when[40], usd[64];
	size_t from, to;
	int rc;

	cw_rep_human(r->j.value, id->unit, v, sizeof(v));
	cw_rep_human(r->j.baseline, id->unit, base, sizeof(base));
	cw_rep_pct(cw_rep_change_pct(&r->j), pct, sizeof(pct));
	cw_rep_time(r->j.period_start, rs->series.period, when, sizeof(when));
	if ((rc = cw_buf_printf(b, "*%zu.* ", rank)) || (rc = target(b, id, false)) ||
	    (rc = cw_buf_printf(b, MIDDOT "%s", cw_rep_severity(f->severity))) ||
	    (rc = alert_tag(b, f->alert)) || (rc = cw_buf_addch(b, '\n')))
		return rc;
	if (has(id->bucket) && has(id->metric) &&
	    ((rc = code(b, id->metric, B_NAME)) || (rc = cw_buf_addch(b, ' '))))
		return rc;
	if ((rc = cw_buf_printf(b, "%s: *%s* vs %s baseline (*%s*)" MIDDOT, when, v, base, pct)))
		return rc;
	for (size_t i = 0; i < f->nmembers; i++)
		if ((i && (rc = cw_buf_addstr(b, ", "))) ||
		    (rc = cw_slack_escape(b, run->results[f->members[i]].detector, B_SHORT)))
			return rc;
	/* an accepted level shift says so; an episode gives its start, its
	 * length and its peak: "since Jun 12 (4 days), peak 2.1 TB" */
	if (r->j.kind && !strcmp(r->j.kind, "level_shift") &&
	    (rc = cw_buf_addstr(b, MIDDOT "level shift: the new normal from now on")))
		return rc;
	if (r->j.episode_len > 1) {
		char since[40], peak[64];
		int64_t span = (int64_t)r->j.episode_len * rs->series.period;
		int64_t unit = span % 86400 == 0 ? 86400 : span % 3600 == 0 ? 3600 : 60;
		const char *uname = unit == 86400 ? "day" : unit == 3600 ? "hour" : "minute";

		if ((rc = cw_buf_printf(b, MIDDOT "since %s (%lld %s%s), peak %s",
					cw_rep_time(r->j.episode_start, rs->series.period, since,
						    sizeof(since)),
					(long long)(span / unit), uname, span == unit ? "" : "s",
					cw_rep_human(r->j.episode_peak, id->unit, peak,
						     sizeof(peak)))))
			return rc;
	}
	if ((rc = cw_buf_addstr(b, "\n`")))
		return rc;
	cw_rep_window(&rs->series, r->j.period_start, &from, &to);
	if ((rc = cw_sparkline(b, rs->series.values + from, to - from)) ||
	    (rc = cw_buf_addch(b, '`')))
		return rc;
	if (!isnan(f->est_excess_usd))
		rc = cw_buf_printf(b, "  *%s*",
				   cw_slack_money(f->est_excess_usd, usd, sizeof(usd)));
	if (!rc)
		rc = console_links(b, run, id, rs->series.period);
	return rc;
}

/* One line of the fallback text for a finding. */
static int finding_line(struct cw_buf *b, const struct cw_run *run,
			const struct cw_finding *f)
{
	const struct cw_result *r = cw_finding_lead(run, f);
	const struct cw_target_id *id = &run->series[r->series].id;
	char v[64], base[64], pct[32], usd[64];
	int rc;

	cw_rep_human(r->j.value, id->unit, v, sizeof(v));
	cw_rep_human(r->j.baseline, id->unit, base, sizeof(base));
	cw_rep_pct(cw_rep_change_pct(&r->j), pct, sizeof(pct));
	if ((rc = cw_buf_addstr(b, "\n\xe2\x80\xa2 ")) || (rc = target(b, id, false)) ||
	    (rc = cw_buf_printf(b, ": %s vs %s (%s)", v, base, pct)))
		return rc;
	if (!isnan(f->est_excess_usd))
		rc = cw_buf_printf(b, " %s", cw_slack_money(f->est_excess_usd, usd, sizeof(usd)));
	return rc;
}

/* "see <URL|the report>", or, when only a path on the host that ran
 * cwsweep is known, say so: nobody in Slack can open it. */
static int see_report(struct cw_buf *b, const struct cw_slack_opts *o)
{
	int rc;

	if (has(o->report_url)) {
		if ((rc = cw_buf_addstr(b, "see ")))
			return rc;
		return slack_link(b, o->report_url, "the report");
	}
	rc = cw_buf_addstr(b, "see the report");
	if (!rc && has(o->report_path)) {
		if ((rc = cw_buf_addstr(b, " (a local file on the host that ran cwsweep: ")) ||
		    (rc = code(b, o->report_path, B_PATH)))
			return rc;
		rc = cw_buf_addch(b, ')');
	}
	return rc;
}

/*
 * The failures grouped by cause: "*7 failures*" then one line per cause,
 * "• `assume-role` `AccessDenied`: 7 failures in 7 accounts (`a`, `b`, …):
 * `message`", while the section stays within its limit.
 */
static int failures_text(struct cw_buf *b, const struct cw_run *run,
			 const struct cw_slack_opts *o, size_t nfail)
{
	const bool *inc = o->announce_failures;
	struct cw_buf line = CW_BUF_INIT;
	struct cw_rep_cause *v = NULL;
	size_t n = 0, shown = 0, covered = 0;
	int rc;

	if ((rc = cw_rep_causes(run, inc, &v, &n)))
		return rc;
	rc = cw_buf_printf(b, "*%zu %s*", nfail, plural(nfail, "failure", "failures"));
	for (size_t i = 0; i < n && shown < o->max_failures && !rc; i++) {
		const struct cw_failure *f = &run->failures[v[i].first];
		size_t names = 0;

		cw_buf_reset(&line);
		if ((rc = cw_buf_addstr(&line, "\xe2\x80\xa2 ")) ||
		    (rc = code(&line, v[i].stage, B_SHORT)) || (rc = cw_buf_addch(&line, ' ')) ||
		    (rc = code(&line, v[i].code, B_CODE)) ||
		    (rc = cw_buf_printf(&line, ": %zu %s in %zu %s (", v[i].failures,
					plural(v[i].failures, "failure", "failures"), v[i].accounts,
					plural(v[i].accounts, "account", "accounts"))))
			break;
		/* the first few targets it hit */
		for (size_t k = v[i].first; k < run->nfailures && names < 3 && !rc; k++) {
			const struct cw_failure *g = &run->failures[k];

			if ((inc && !inc[k]) || strcmp(g->stage ? g->stage : "", v[i].stage) ||
			    strcmp(g->code ? g->code : "", v[i].code))
				continue;
			if (names && (rc = cw_buf_addstr(&line, ", ")))
				break;
			rc = target(&line, &g->id, false);
			names++;
		}
		if (!rc && v[i].failures > names)
			rc = cw_buf_addstr(&line, ", " ELLIPSIS);
		if (!rc)
			rc = cw_buf_addch(&line, ')');
		if (!rc && has(f->message) &&
		    !(rc = cw_buf_addstr(&line, ": ")))
			rc = code(&line, f->message, B_MESSAGE);
		if (rc)
			break;
		if (b->len + 1 + line.len > CW_SLACK_MAX_SECTION - 200)
			break;
		if (!(rc = cw_buf_addch(b, '\n')) && !(rc = cw_buf_add(b, line.data, line.len))) {
			shown++;
			covered += v[i].failures;
		}
	}
	if (!rc && covered < nfail &&
	    !(rc = cw_buf_printf(b, "\n" ELLIPSIS "and %zu more %s of %zu more %s, ",
				 nfail - covered,
				 plural(nfail - covered, "failure", "failures"), n - shown,
				 plural(n - shown, "cause", "causes"))))
		rc = see_report(b, o);
	cw_buf_release(&line);
	free(v);
	return rc;
}

static int resolved_text(struct cw_buf *b, const struct cw_run *run, const size_t *res,
			 size_t nres, const struct cw_slack_opts *o)
{
	struct cw_buf item = CW_BUF_INIT;
	size_t shown = 0;
	int rc;

	rc = cw_buf_printf(b, "*Resolved* (%zu): ", nres);
	for (size_t i = 0; i < nres && !rc; i++) {
		const struct cw_result *r = &run->results[res[i]];

		cw_buf_reset(&item);
		if ((rc = target(&item, &run->series[r->series].id, false)) ||
		    (rc = cw_buf_addstr(&item, " (")) ||
		    (rc = cw_slack_escape(&item, r->detector, B_SHORT)) ||
		    (rc = cw_buf_addch(&item, ')')))
			break;
		if (b->len + 2 + item.len > CW_SLACK_MAX_SECTION - 200)
			break;
		if ((!shown || !(rc = cw_buf_addstr(b, "; "))) &&
		    !(rc = cw_buf_add(b, item.data, item.len)))
			shown++;
	}
	if (!rc && shown < nres &&
	    !(rc = cw_buf_printf(b, "; " ELLIPSIS "and %zu more, ", nres - shown)))
		rc = see_report(b, o);
	cw_buf_release(&item);
	return rc;
}

/* ---- the payload --------------------------------------------------------- */

static json_t *text_obj(const char *type, const char *text)
{
	json_t *t = json_object();

	if (!t || json_object_set_new(t, "type", json_string(type)) ||
	    json_object_set_new(t, "text", json_string(text))) {
		json_decref(t);
		return NULL;
	}
	if (strcmp(type, "plain_text") == 0 && json_object_set_new(t, "emoji", json_true())) {
		json_decref(t);
		return NULL;
	}
	return t;
}

/* Append a block: "header" / "section" / "context" with text, "divider". */
static int block(json_t *blocks, const char *type, const char *text)
{
	json_t *b = json_object(), *t = NULL;

	if (!b || json_object_set_new(b, "type", json_string(type)))
		goto fail;
	if (strcmp(type, "header") == 0) {
		if (!(t = text_obj("plain_text", text)) || json_object_set_new(b, "text", t))
			goto fail;
	} else if (strcmp(type, "section") == 0) {
		if (!(t = text_obj("mrkdwn", text)) || json_object_set_new(b, "text", t))
			goto fail;
	} else if (strcmp(type, "context") == 0) {
		json_t *el = json_array();

		if (!el || json_object_set_new(b, "elements", el) ||
		    !(t = text_obj("mrkdwn", text)) || json_array_append_new(el, t))
			goto fail;
	}
	if (json_array_append_new(blocks, b))
		return CW_ENOMEM;
	return 0;
fail:
	json_decref(b);
	return CW_ENOMEM;
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
	return cw_buf_add(data, buffer, size) ? -1 : 0;
}

/* The parts of the message, built before the blocks are assembled. */
struct digest {
	const struct cw_run *run;
	struct cw_slack_opts o;
	struct cw_findings fs;   /* the announced findings */
	size_t nfind;            /* fs.n */
	size_t nall;             /* findings of the whole run, announced or not */
	size_t *res; size_t nres;
	size_t nfail;            /* failures announced (all without a state) */
	struct cw_buf header, summary, resolved, failures, footer, text;
};

static void digest_release(struct digest *d)
{
	cw_findings_release(&d->fs);
	free(d->res);
	cw_buf_release(&d->header);
	cw_buf_release(&d->summary);
	cw_buf_release(&d->resolved);
	cw_buf_release(&d->failures);
	cw_buf_release(&d->footer);
	cw_buf_release(&d->text);
}

/* The announced findings (one per series and period, however many
 * detectors flagged it), the resolved results and the run's finding count. */
static int collect(struct digest *d, const bool *announce)
{
	const struct cw_run *run = d->run;
	size_t n = run->nresults ? run->nresults : 1;
	struct cw_findings all;
	bool *inc;
	int rc;

	d->res = malloc(n * sizeof(*d->res));
	inc = malloc(n * sizeof(*inc));
	if (!d->res || !inc) {
		free(inc);
		return CW_ENOMEM;
	}
	for (size_t i = 0; i < run->nresults; i++) {
		const struct cw_result *r = &run->results[i];

		inc[i] = false;
		if (announce && !announce[i])
			continue;
		if (r->alert == CW_ALERT_RESOLVED)
			d->res[d->nres++] = i;
		else
			inc[i] = r->j.status == CW_STATUS_ANOMALY;
	}
	rc = cw_findings_build(run, inc, &d->fs);
	free(inc);
	if (rc)
		return rc;
	d->nfind = d->fs.n;
	if ((rc = cw_findings_build(run, NULL, &all)) == 0)
		d->nall = all.n;
	cw_findings_release(&all);
	return rc;
}

/* "3 anomalies, 1 failure, 2 resolved" or "all clear". */
static int headline(struct cw_buf *b, const struct digest *d)
{
	const char *sep = "";
	int rc = 0;

	if (!d->nfind && !d->nfail && !d->nres && d->run->coverage_fell)
		return cw_buf_addstr(b, "coverage fell");
	if (!d->nfind && !d->nfail && !d->nres)
		return cw_buf_addstr(b, "all clear");
	if (d->nfind) {
		rc = cw_buf_printf(b, "%zu %s", d->nfind, plural(d->nfind, "finding", "findings"));
		sep = ", ";
	}
	if (!rc && d->nfail) {
		rc = cw_buf_printf(b, "%s%zu %s", sep, d->nfail,
				   plural(d->nfail, "failure", "failures"));
		sep = ", ";
	}
	if (!rc && d->nres)
		rc = cw_buf_printf(b, "%s%zu resolved", sep, d->nres);
	return rc;
}

static int build_texts(struct digest *d, const bool *announce)
{
	const struct cw_run *run = d->run;
	struct cw_run_counts c;
	char usd[64], when[40];
	int rc;

	cw_run_count(run, &c);
	/* header: numbers only, far below 150 characters */
	if ((rc = cw_buf_addstr(&d->header, "cwsweep: ")) || (rc = headline(&d->header, d)))
		return rc;
	{
		struct cw_coverage t;

		/* "· watching 12 of 40 buckets (83%)": at most ~60 more */
		if (cw_run_coverage_total(run, &t) &&
		    (rc = cw_buf_printf(&d->header, MIDDOT "watching %zu of %zu buckets", t.watched,
					t.buckets)))
			return rc;
		if (cw_run_coverage_total(run, &t) && t.bytes > 0)
			rc = cw_buf_printf(&d->header, " (%.0f%%)", 100.0 * t.watched_bytes / t.bytes);
		if (rc)
			return rc;
	}

	rc = cw_buf_addstr(&d->summary, "*Run* ");
	if (!rc)
		rc = code(&d->summary, run->run_id, B_CODE);
	if (!rc && has(run->mode) && !(rc = cw_buf_addstr(&d->summary, " (")) &&
	    !(rc = cw_slack_escape(&d->summary, run->mode, B_SHORT)))
		rc = cw_buf_addch(&d->summary, ')');
	if (!rc && run->started > 0)
		rc = cw_buf_printf(&d->summary, MIDDOT "%s UTC",
				   cw_rep_time(run->started, 60, when, sizeof(when)));
	if (!rc && run->accounts)
		rc = cw_buf_printf(&d->summary, "\n*%zu* %s" MIDDOT "*%zu* %s" MIDDOT,
				   run->accounts, plural(run->accounts, "account", "accounts"),
				   run->regions,
				   plural(run->regions, "region", "regions"));
	else if (!rc)
		rc = cw_buf_addch(&d->summary, '\n');
	if (!rc)
		rc = cw_buf_printf(&d->summary, "*%zu* series judged" MIDDOT "*%zu* %s", c.series,
				   d->nall, plural(d->nall, "finding", "findings"));
	if (!rc && announce)
		rc = cw_buf_printf(&d->summary, " (*%zu* announced)", d->nfind);
	if (!rc)
		rc = cw_buf_printf(&d->summary, MIDDOT "*%zu* %s", c.failures,
				   plural(c.failures, "failure", "failures"));
	if (!rc && d->o.announce_failures)
		rc = cw_buf_printf(&d->summary, " (*%zu* announced)", d->nfail);
	if (!rc && c.not_found)
		rc = cw_buf_printf(&d->summary, MIDDOT "*%zu* %s not found", c.not_found,
				   plural(c.not_found, "bucket", "buckets"));
	{
		struct cw_coverage t;
		char line[160];

		if (!rc && cw_run_coverage_total(run, &t))
			rc = cw_buf_printf(&d->summary, "\nCoverage: *%s*",
					   cw_coverage_line(&t, line, sizeof(line)));
		if (!rc && run->coverage_fell)
			rc = cw_buf_printf(&d->summary, " :warning: fell since the last run (was %s)",
					   cw_coverage_line(&run->coverage_was, line, sizeof(line)) +
					   strlen("watching "));
	}
	if (!rc && !isnan(run->total_excess_usd))
		rc = cw_buf_printf(&d->summary, "\nEstimated excess: *%s*",
				   cw_slack_money(run->total_excess_usd, usd, sizeof(usd)));

	if (!rc && d->nres)
		rc = resolved_text(&d->resolved, run, d->res, d->nres, &d->o);
	if (!rc && d->nfail)
		rc = failures_text(&d->failures, run, &d->o, d->nfail);

	/* the price note once, short: the report holds the whole assumption */
	if (!rc && has(run->price_note))
		rc = cw_buf_addstr(&d->footer, "Dollar figures are estimates: excess bytes at the "
				   "account's S3 data-transfer-out rate, not a bill");
	if (!rc && (has(run->run_id) || has(d->o.report_path) || has(d->o.report_url))) {
		if (d->footer.len)
			rc = cw_buf_addstr(&d->footer, MIDDOT);
		if (!rc && has(run->run_id) && !(rc = cw_buf_addstr(&d->footer, "run ")))
			rc = code(&d->footer, run->run_id, B_CODE);
		if (!rc && (has(d->o.report_path) || has(d->o.report_url))) {
			if (has(run->run_id))
				rc = cw_buf_addstr(&d->footer, MIDDOT);
			if (!rc)
				rc = see_report(&d->footer, &d->o);
		}
	}

	/* the fallback for notifications: the headline and the top three */
	if (!rc)
		rc = cw_buf_printf(&d->text, "cwsweep: ");
	if (!rc)
		rc = headline(&d->text, d);
	if (!rc && !isnan(run->total_excess_usd) && d->nfind)
		rc = cw_buf_printf(&d->text, "; estimated excess %s",
				   cw_slack_money(run->total_excess_usd, usd, sizeof(usd)));
	for (size_t i = 0; i < d->nfind && i < 3 && !rc; i++)
		rc = finding_line(&d->text, run, &d->fs.v[i]);
	return rc;
}

/*
 * The findings that did not fit, rolled up by account: "*12 more findings,
 * by account*" then "• `prod` (1111…): 7 findings, $1,234.00 (est.)", the
 * costliest account first, while the section stays within its limit.
 */
struct acct_roll {
	const struct cw_target_id *id;
	size_t n;
	double usd; /* NaN: none priced */
};

static int roll_cmp(const void *pa, const void *pb)
{
	const struct acct_roll *a = pa, *b = pb;
	double ua = isnan(a->usd) ? -1 : a->usd, ub = isnan(b->usd) ? -1 : b->usd;

	if (ua != ub)
		return ua > ub ? -1 : 1;
	if (a->n != b->n)
		return a->n > b->n ? -1 : 1;
	return strcmp(a->id->account_id ? a->id->account_id : "",
		      b->id->account_id ? b->id->account_id : "");
}

static int rollup(struct cw_buf *b, const struct digest *d, size_t shown)
{
	size_t rest = d->nfind - shown, n = 0, listed = 0, covered = 0;
	struct acct_roll *v = calloc(rest, sizeof(*v));
	struct cw_buf line = CW_BUF_INIT;
	char usd[64];
	int rc;

	if (!v)
		return CW_ENOMEM;
	for (size_t i = shown; i < d->nfind; i++) {
		const struct cw_finding *f = &d->fs.v[i];
		size_t k;

		/* by account id; by name where there is no id (analyze) */
		for (k = 0; k < n; k++)
			if (has(f->tid->account_id)
				    ? strcmp(v[k].id->account_id ? v[k].id->account_id : "",
					     f->tid->account_id) == 0
				    : !has(v[k].id->account_id) &&
				      strcmp(v[k].id->account_name ? v[k].id->account_name : "",
					     f->tid->account_name ? f->tid->account_name : "") == 0)
				break;
		if (k == n) {
			v[n].id = f->tid;
			v[n].usd = NAN;
			n++;
		}
		v[k].n++;
		if (!isnan(f->est_excess_usd))
			v[k].usd = isnan(v[k].usd) ? f->est_excess_usd : v[k].usd + f->est_excess_usd;
	}
	qsort(v, n, sizeof(*v), roll_cmp);
	rc = cw_buf_printf(b, "*%zu more %s, by account*", rest,
			   plural(rest, "finding", "findings"));
	for (size_t k = 0; k < n && !rc; k++) {
		struct cw_target_id acct = { 0 };

		acct.account_id = v[k].id->account_id;
		acct.account_name = v[k].id->account_name;
		cw_buf_reset(&line);
		if ((rc = cw_buf_addstr(&line, "\xe2\x80\xa2 ")) ||
		    (rc = target(&line, &acct, false)) ||
		    (rc = cw_buf_printf(&line, ": %zu %s", v[k].n,
					plural(v[k].n, "finding", "findings"))))
			break;
		if (!isnan(v[k].usd) &&
		    (rc = cw_buf_printf(&line, ", %s", cw_slack_money(v[k].usd, usd, sizeof(usd)))))
			break;
		if (b->len + 1 + line.len > CW_SLACK_MAX_SECTION - 400)
			break;
		if (!(rc = cw_buf_addch(b, '\n')) && !(rc = cw_buf_add(b, line.data, line.len))) {
			listed++;
			covered += v[k].n;
		}
	}
	if (!rc && listed < n)
		rc = cw_buf_printf(b, "\n" ELLIPSIS "and %zu more %s in %zu more %s", rest - covered,
				   plural(rest - covered, "finding", "findings"), n - listed,
				   plural(n - listed, "account", "accounts"));
	if (!rc && !(rc = cw_buf_addstr(b, "\n")))
		rc = see_report(b, &d->o);
	cw_buf_release(&line);
	free(v);
	return rc;
}

static int assemble(struct digest *d, json_t *root)
{
	json_t *blocks = json_array();
	struct cw_buf sec = CW_BUF_INIT;
	size_t fixed, cap, shown = 0, total;
	bool tail = d->nres || d->nfail;
	int rc;

	if (!blocks || json_object_set_new(root, "text", json_string(cw_buf_str(&d->text))) ||
	    json_object_set_new(root, "blocks", blocks))
		return CW_ENOMEM;
	/* header, summary, [divider, findings..., more], [divider, resolved,
	 * failures], footer */
	fixed = 2 + (d->nfind ? 1 : 0) + (tail ? 1 : 0) + (d->nres ? 1 : 0) +
		(d->nfail ? 1 : 0) + (d->footer.len ? 1 : 0);
	cap = CW_SLACK_MAX_BLOCKS - fixed;
	if (d->nfind > cap || d->nfind > d->o.max_findings)
		cap--; /* room for the "more" line */
	if (cap > d->o.max_findings)
		cap = d->o.max_findings;
	/* (when the total text stops the findings early, fewer than cap are
	 * shown, so the "more" line still has its block) */
	total = d->header.len + d->summary.len + d->resolved.len + d->failures.len +
		d->footer.len + d->text.len + MORE_RESERVE;

	if ((rc = block(blocks, "header", cw_buf_str(&d->header))) ||
	    (rc = block(blocks, "section", cw_buf_str(&d->summary))))
		goto out;
	if (d->nfind && (rc = block(blocks, "divider", NULL)))
		goto out;
	for (size_t i = 0; i < d->nfind && shown < cap; i++) {
		cw_buf_reset(&sec);
		if ((rc = finding_text(&sec, d->run, i + 1, &d->fs.v[i])))
			goto out;
		if (total + sec.len > CW_SLACK_MAX_TOTAL)
			break;
		if ((rc = block(blocks, "section", cw_buf_str(&sec))))
			goto out;
		total += sec.len;
		shown++;
	}
	if (shown < d->nfind) {
		cw_buf_reset(&sec);
		if ((rc = rollup(&sec, d, shown)) || (rc = block(blocks, "section", cw_buf_str(&sec))))
			goto out;
	}
	if (tail && (rc = block(blocks, "divider", NULL)))
		goto out;
	if (d->nres && (rc = block(blocks, "section", cw_buf_str(&d->resolved))))
		goto out;
	if (d->nfail && (rc = block(blocks, "section", cw_buf_str(&d->failures))))
		goto out;
	if (d->footer.len)
		rc = block(blocks, "context", cw_buf_str(&d->footer));
out:
	cw_buf_release(&sec);
	return rc;
}

int cw_slack_digest(const struct cw_run *run, const bool *announce,
		    const struct cw_slack_opts *opts, struct cw_buf *out_json,
		    char *err, size_t errlen)
{
	struct digest d;
	json_t *root = NULL;
	int rc;

	memset(&d, 0, sizeof(d));
	d.run = run;
	if (opts)
		d.o = *opts;
	if (d.o.max_findings == 0)
		d.o.max_findings = CW_SLACK_DEFAULT_FINDINGS;
	if (d.o.max_failures == 0)
		d.o.max_failures = CW_SLACK_DEFAULT_FAILURES;
	if ((rc = collect(&d, announce)))
		goto out;
	for (size_t i = 0; i < run->nfailures; i++)
		d.nfail += !d.o.announce_failures || d.o.announce_failures[i];
	if (!d.nfind && !d.nres && !d.nfail && !run->coverage_fell && !d.o.post_when_clear)
		goto out; /* nothing to say */
	if ((rc = build_texts(&d, announce)))
		goto out;
	root = json_object();
	if (!root) {
		rc = CW_ENOMEM;
		goto out;
	}
	if ((rc = assemble(&d, root)))
		goto out;
	if (json_dump_callback(root, dump_cb, out_json, JSON_INDENT(2) | JSON_PRESERVE_ORDER))
		rc = CW_ENOMEM;
	else
		rc = cw_buf_addch(out_json, '\n');
out:
	if (rc)
		cw_fail(err, errlen, rc, "slack digest: %s", cw_strerror(rc));
	json_decref(root);
	digest_release(&d);
	return rc;
}
