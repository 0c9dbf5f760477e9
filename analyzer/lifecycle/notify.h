/*
 * notify.h - posting the Slack digest to an incoming webhook.
 *
 * The webhook URL is a secret (its path is the credential): it is never
 * printed, logged or put in an error message; only its host is
 * ("slack webhook (hooks.slack.com): HTTP 404: channel_not_found").
 *
 * Answers: 200 (body "ok") is success.  429 waits Retry-After seconds and
 * tries again, as long as the waits stay within max_wait_ms in total;
 * 500/502/503/504 and connection failures (nothing was delivered) are
 * tried again after 1 s, 2 s, ...; everything else (Slack's plain-text
 * errors: invalid_payload, channel_not_found, channel_is_archived, ...)
 * fails at once.  A timeout or a reset after sending is not retried: the
 * message may have arrived, and a duplicate is worse than a gap.
 *
 * Threads: call from one thread (the one that owns the run) after
 * cw_http_global_init().
 */
#ifndef CW_NOTIFY_H
#define CW_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "http.h"

#define CW_SLACK_MAX_TRIES 3
#define CW_SLACK_MAX_WAIT_MS 30000

struct cw_slack_post_opts {
	struct cw_http *http;   /* borrowed; NULL: a handle made for this call */
	int max_tries;          /* 0: CW_SLACK_MAX_TRIES */
	int64_t max_wait_ms;    /* waits between tries, in total; 0: CW_SLACK_MAX_WAIT_MS */
	long timeout_ms;        /* per try; 0: 15000 */
	const char *ca_bundle;  /* for a handle made here; NULL: system */
	/* Injectable for tests; NULL: nanosleep. */
	void (*sleep_ms)(void *env, int64_t ms);
	void *env;
};

/*
 * POST payload (JSON, len bytes, borrowed) to webhook_url.  0 when Slack
 * answered "ok"; CW_EINVAL for a URL that is refused (not https, or http
 * to a host that is not loopback); CW_EHTTP when Slack refused the message
 * or could not be reached (err: "slack webhook (HOST): HTTP 404:
 * channel_not_found", the body cut to 100 characters, control characters
 * replaced).  opts may be NULL.
 */
int cw_slack_post(const char *webhook_url, const char *payload, size_t len,
		  const struct cw_slack_post_opts *opts, char *err, size_t errlen);

/*
 * Read the webhook URL from the environment variable var_name into out.
 * CW_ENOTFOUND when unset or empty; CW_ETOOBIG when it does not fit;
 * CW_EINVAL when it is not a usable URL.  Messages name the variable,
 * never its value.
 */
int cw_slack_webhook_from_env(const char *var_name, char *out, size_t outlen,
			      char *err, size_t errlen);

/*
 * The host of a webhook URL, for logs ("hooks.slack.com"); "(invalid
 * URL)" when it has none.  Never the path, the secret part.
 */
const char *cw_slack_webhook_host(const char *webhook_url, char *host, size_t hostlen);

/*
 * The short Slack message of a run that could not run (exit 2, or 75 for a
 * stale lock) or ran partly (exit 3): "*cwsweep could not run* on HOST:
 * REASON" with the run
 * id and exit code, as {text, blocks} JSON into out (appended).  reason is
 * outside text: redacted and escaped for Slack here.  0 or CW_ENOMEM.
 */
int cw_notice_payload(struct cw_buf *out, int exit_code, const char *reason,
		      const char *run_id, const char *host);

#endif
