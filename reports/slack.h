/*
 * slack.h - the Slack digest: one incoming-webhook message per run.
 *
 * The payload is JSON {text, blocks}: `text` is the plain fallback that
 * notifications show; the blocks are a header with the run summary, the
 * top findings by estimated dollars (then by excess over the baseline),
 * "...and N more, see report" past what fits, a "Resolved" line, the
 * failures one line each, and a footer with the pricing assumption.
 *
 * Slack's limits are kept by construction, not hoped for: at most 50
 * blocks, at most 3,000 characters per section or context text, 150 for
 * the header, and at most 40,000 characters of text in all (counted in
 * bytes, which is never less than characters).
 *
 * Everything that came from outside (account, bucket and metric names,
 * regions, AWS error codes and messages, paths) is escaped for Slack
 * mrkdwn: & < > become entities, so a bucket named "<!channel>" cannot
 * ping a channel and "<https://x|click>" cannot become a link; such text
 * is also shown inside `code` spans (backticks in it replaced), so
 * *bold*, _italic_ or ~strike~ in a name cannot change the layout, and
 * line breaks become spaces.
 */
#ifndef CW_SLACK_H
#define CW_SLACK_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "run.h"

#define CW_SLACK_MAX_BLOCKS 50
#define CW_SLACK_MAX_SECTION 3000 /* section / context text */
#define CW_SLACK_MAX_HEADER 150   /* header block plain_text */
#define CW_SLACK_MAX_TOTAL 40000  /* all text of the message together */
#define CW_SLACK_DEFAULT_FINDINGS 10
#define CW_SLACK_DEFAULT_FAILURES 10

struct cw_slack_opts {
	size_t max_findings;     /* 0: CW_SLACK_DEFAULT_FINDINGS; fewer when the limits say so */
	size_t max_failures;     /* failure lines; 0: CW_SLACK_DEFAULT_FAILURES */
	const char *report_url;  /* where Slack readers open report.html (https); NULL: none */
	const char *report_path; /* the local report, named (and called local) only
				  * when there is no report_url; NULL: "see the report" */
	bool post_when_clear;    /* send "all clear" when there is nothing to announce */
	/* parallel to run->failures: which ones to announce (the alert state's
	 * verdict: new, or ongoing past the cooldown); NULL = all of them */
	const bool *announce_failures;
};

/*
 * Build the digest of run into out_json (appended; pretty-printed JSON).
 *
 * announce: NULL = every anomaly is announced; else an array parallel to
 * run->results (the alert state's verdict): an announced anomaly is a
 * finding, an announced result whose alert is CW_ALERT_RESOLVED goes into
 * the "Resolved" line, anything else is left out.  (With announce NULL a
 * result whose alert is CW_ALERT_RESOLVED is listed as resolved too.)
 *
 * When nothing is announced, nothing resolved and nothing failed, nothing
 * is appended (out_json->len stays as it was) unless opts->post_when_clear:
 * the caller then sends nothing and says so.  opts NULL = defaults.
 */
int cw_slack_digest(const struct cw_run *run, const bool *announce,
		    const struct cw_slack_opts *opts, struct cw_buf *out_json,
		    char *err, size_t errlen);

/*
 * Append s (NULL = "") escaped for Slack mrkdwn: & < > as entities,
 * control characters as spaces, invalid UTF-8 as U+FFFD.  At most max
 * bytes are appended (0 = no limit); a longer text is cut at a character
 * boundary and ends with "…".
 */
int cw_slack_escape(struct cw_buf *out, const char *s, size_t max);

/* "$1,234.56 (est.)"; "n/a" for NaN. */
char *cw_slack_money(double usd, char *buf, size_t len);

#endif
