/*
 * notify.c - posting the Slack digest to an incoming webhook (notify.h).
 *
 * The URL goes only to cw_http_do (which logs the origin, never the path)
 * and to cw_http_url_check for its host; every message here names the
 * host alone, and any text from below that happens to hold the path is
 * withheld.  Called on one thread.
 */
#include "notify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "err.h"
#include "log.h"
#include "retry.h"
#include "strutil.h"

#define URL_MAX 2048
#define HOST_MAX 256
#define BODY_SHOWN 100
#define DEFAULT_TIMEOUT_MS 15000
#define MAX_RESPONSE (64 * 1024)

static void real_sleep(void *env, int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	(void)env;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

const char *cw_slack_webhook_host(const char *webhook_url, char *host, size_t hostlen)
{
	char h[HOST_MAX];

	if (cw_http_url_check(webhook_url, false, h, sizeof(h), NULL, NULL, 0, NULL, 0) != 0 ||
	    !h[0])
		cw_strlcpy(host, "(invalid URL)", hostlen);
	else
		cw_strlcpy(host, h, hostlen);
	return host;
}

int cw_slack_webhook_from_env(const char *var_name, char *out, size_t outlen,
			      char *err, size_t errlen)
{
	const char *v = getenv(var_name);
	char why[CW_ERRBUF];

	if (outlen)
		out[0] = '\0';
	if (!v || !*v)
		return cw_fail(err, errlen, CW_ENOTFOUND, "%s: not set", var_name);
	if (strlen(v) >= outlen)
		return cw_fail(err, errlen, CW_ETOOBIG, "%s: longer than %zu bytes", var_name,
			       outlen ? outlen - 1 : 0);
	/* url_check messages describe the problem, never the URL */
	if (cw_http_url_check(v, false, NULL, 0, NULL, NULL, 0, why, sizeof(why)) != 0)
		return cw_fail(err, errlen, CW_EINVAL, "%s: not a usable webhook URL: %s "
			       "(want https://hooks.slack.com/services/...)", var_name, why);
	cw_strlcpy(out, v, outlen);
	return 0;
}

/* Slack's plain-text error, short and printable: "channel_not_found". */
static void body_excerpt(const struct cw_buf *body, char *out, size_t outlen)
{
	size_t o = 0, n = body->len < BODY_SHOWN ? body->len : BODY_SHOWN;

	for (size_t i = 0; i < n && o + 1 < outlen; i++) {
		unsigned char c = (unsigned char)body->data[i];

		if (c == '\n' && i + 1 == body->len)
			break;
		out[o++] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
	}
	if (body->len > BODY_SHOWN && o + 4 < outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	if (!o)
		cw_strlcpy(out, "(empty body)", outlen);
}

static bool status_retryable(long st)
{
	return st == 500 || st == 502 || st == 503 || st == 504;
}

int cw_slack_post(const char *webhook_url, const char *payload, size_t len,
		  const struct cw_slack_post_opts *opts, char *err, size_t errlen)
{
	static const struct cw_http_header headers[] = {
		{ "Content-Type", "application/json; charset=utf-8" },
	};
	struct cw_slack_post_opts o;
	struct cw_http *own = NULL, *http;
	struct cw_http_response resp;
	struct cw_http_request req;
	char host[HOST_MAX], path[URL_MAX], why[CW_ERRBUF], body[BODY_SHOWN + 8];
	int64_t waited = 0;
	int rc, tries = 0;

	memset(&o, 0, sizeof(o));
	if (opts)
		o = *opts;
	if (o.max_tries <= 0)
		o.max_tries = CW_SLACK_MAX_TRIES;
	if (o.max_wait_ms <= 0)
		o.max_wait_ms = CW_SLACK_MAX_WAIT_MS;
	if (!o.sleep_ms)
		o.sleep_ms = real_sleep;
	cw_http_response_init(&resp);

	if (cw_http_url_check(webhook_url, false, host, sizeof(host), NULL, path, sizeof(path),
			      why, sizeof(why)) != 0)
		return cw_fail(err, errlen, CW_EINVAL, "slack webhook: not a usable URL: %s", why);
	http = o.http;
	if (!http) {
		struct cw_http_opts ho = { .max_response = MAX_RESPONSE,
					   .ca_bundle = o.ca_bundle };

		if ((rc = cw_http_new(&own, &ho, why, sizeof(why))))
			return cw_fail(err, errlen, rc, "slack webhook (%s): %s", host, why);
		http = own;
	}
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = webhook_url;
	req.headers = headers;
	req.nheaders = sizeof(headers) / sizeof(headers[0]);
	req.body = payload;
	req.body_len = len;
	req.timeout_ms = o.timeout_ms > 0 ? o.timeout_ms : DEFAULT_TIMEOUT_MS;

	for (;;) {
		int64_t wait;

		tries++;
		cw_log_verbose("slack: posting the digest to %s (try %d)", host, tries);
		rc = cw_http_do(http, &req, &resp, why, sizeof(why));
		if (rc == 0 && resp.status >= 200 && resp.status < 300) {
			cw_log_verbose("slack: %s accepted the digest", host);
			goto out;
		}
		if (rc != 0) {
			/* only a failure before anything was sent is safe to repeat */
			if (resp.xfer != CW_XFER_CONNECT || tries >= o.max_tries) {
				rc = cw_fail(err, errlen, rc == CW_EINVAL ? CW_EINVAL : CW_EHTTP,
					     "slack webhook (%s): %s%s", host, why,
					     tries > 1 ? " (after retries)" : "");
				goto out;
			}
			wait = 1000LL << (tries - 1);
		} else if (resp.status == 429) {
			wait = cw_retry_after_parse(resp.retry_after);
			if (wait < 0)
				wait = 1000;
			if (tries >= o.max_tries || waited + wait > o.max_wait_ms) {
				const char *ra = resp.retry_after[0] ? resp.retry_after : "-";

				rc = cw_fail(err, errlen, CW_EHTTP, "slack webhook (%s): HTTP 429: "
					     "rate limited (Retry-After %s s, waited %lld ms in %d "
					     "%s)", host, ra, (long long)waited, tries,
					     tries == 1 ? "try" : "tries");
				goto out;
			}
		} else if (status_retryable(resp.status) && tries < o.max_tries) {
			wait = 1000LL << (tries - 1);
		} else {
			body_excerpt(&resp.body, body, sizeof(body));
			rc = cw_fail(err, errlen, CW_EHTTP, "slack webhook (%s): HTTP %ld: %s%s",
				     host, resp.status, body,
				     tries > 1 ? " (after retries)" : "");
			goto out;
		}
		if (waited + wait > o.max_wait_ms)
			wait = o.max_wait_ms - waited;
		if (wait > 0) {
			cw_log_verbose("slack: %s: waiting %lld ms before trying again", host,
				       (long long)wait);
			o.sleep_ms(o.env, wait);
			waited += wait;
		}
	}
out:
	/* a message from below must not carry the secret part of the URL */
	if (rc && err && path[0] && strcmp(path, "/") != 0 && strstr(err, path))
		cw_fail(err, errlen, rc, "slack webhook (%s): request failed (details withheld: "
			"they held the webhook path)", host);
	cw_http_response_release(&resp);
	cw_http_free(own);
	return rc;
}

int cw_notice_payload(struct cw_buf *out, int exit_code, const char *reason,
		      const char *run_id, const char *host)
{
	char red[2048], clean[1024];
	struct cw_buf text = CW_BUF_INIT;
	json_t *root = NULL, *blocks, *sec, *txt;
	char *dump = NULL;
	size_t o = 0;
	int rc = CW_ENOMEM;

	cw_redact(reason ? reason : "", red, sizeof(red));
	/* one line of printable ASCII or UTF-8, at most ~1000 bytes, and & < >
	 * as Slack wants them */
	for (const char *p = red; *p && o + 6 < sizeof(clean); p++) {
		const char *rep = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;"
				  : NULL;

		if (rep) {
			memcpy(clean + o, rep, strlen(rep));
			o += strlen(rep);
		} else {
			clean[o++] = (unsigned char)*p < 0x20 ? ' ' : *p;
		}
	}
	clean[o] = '\0';
	if (cw_buf_printf(&text, "*cwsweep %s* on %s: %s\nexit code %d%s%s",
			  exit_code == 3 ? "ran partly" : "could not run",
			  host && *host ? host : "this host", clean, exit_code,
			  run_id && *run_id ? ", run " : "", run_id ? run_id : ""))
		goto out;
	root = json_object();
	blocks = json_array();
	sec = json_object();
	txt = json_object();
	if (!root || !blocks || !sec || !txt) {
		json_decref(blocks);
		json_decref(sec);
		json_decref(txt);
		goto out;
	}
	/* json_string refuses invalid UTF-8: fall back to a plain copy */
	json_t *s1 = json_string(cw_buf_str(&text));

	if (!s1)
		s1 = json_string("cwsweep: a run failed (its reason is not valid UTF-8; see the log)");
	json_object_set_new(root, "text", s1);
	json_object_set_new(txt, "type", json_string("mrkdwn"));
	json_object_set(txt, "text", s1);
	json_object_set_new(sec, "type", json_string("section"));
	json_object_set_new(sec, "text", txt);
	json_array_append_new(blocks, sec);
	json_object_set_new(root, "blocks", blocks);
	dump = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!dump || cw_buf_addstr(out, dump) || cw_buf_addch(out, '\n'))
		goto out;
	rc = 0;
out:
	free(dump);
	json_decref(root);
	cw_buf_release(&text);
	return rc;
}
