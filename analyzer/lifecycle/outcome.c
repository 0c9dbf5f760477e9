/*
 * outcome.c - notice, metrics file and heartbeat after a run (see
 * outcome.h).
 */
#include "outcome.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomicio.h"
#include "buf.h"
#include "err.h"
#include "heartbeat.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "strutil.h"

#define EXIT_LOCKED 75 /* another run holds the lock: that run pings, if alive */

double cw_outcome_wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1000.0;
}

void cw_outcome_failures_reason(const struct cw_run *run, char *out, size_t outlen)
{
	size_t o;

	if (!outlen)
		return;
	o = (size_t)snprintf(out, outlen, "%zu target%s failed:", run->nfailures,
			     run->nfailures == 1 ? "" : "s");
	for (size_t i = 0; i < run->nfailures && o < outlen; i++) {
		size_t same = 0;
		bool first = true;

		for (size_t k = 0; k < i && first; k++)
			first = strcmp(run->failures[k].code, run->failures[i].code) != 0;
		if (!first)
			continue;
		for (size_t k = i; k < run->nfailures; k++)
			same += strcmp(run->failures[k].code, run->failures[i].code) == 0;
		o += (size_t)snprintf(out + o, outlen - o, "%s %s (%zu)", i ? "," : "",
				      run->failures[i].code, same);
	}
}

void cw_outcome_notice(const struct cw_outcome *o)
{
	const char *var = o->webhook_env ? o->webhook_env : "SLACK_WEBHOOK_URL";
	const char *reason = o->reason && *o->reason ? o->reason : "see the log";
	struct cw_state own;
	struct cw_state *st = o->state;
	struct cw_buf payload = CW_BUF_INIT;
	char url[2048] = "", err[CW_ERRBUF], host[256] = "";

	if (!o->notice)
		return;
	cw_state_init(&own);
	if (o->state_path && !st && cw_state_load(&own, o->state_path, err, sizeof(err)) == 0)
		st = &own;
	if (st && !cw_state_notice_due(st, reason, o->now)) {
		cw_log_info("slack: the same problem was posted earlier today; not again");
		goto out;
	}
	if (gethostname(host, sizeof(host) - 1) != 0)
		host[0] = '\0';
	if (cw_notice_payload(&payload, o->exit_code, reason, o->run_id, host))
		goto out;
	if (o->preview) {
		fputs(cw_buf_str(&payload), stdout);
		fflush(stdout);
		goto out;
	}
	if (o->webhook)
		cw_strlcpy(url, o->webhook, sizeof(url));
	else if (cw_slack_webhook_from_env(var, url, sizeof(url), err, sizeof(err)))
		goto out; /* no webhook known: the log is all there is */
	if (cw_slack_post(url, payload.data, payload.len, NULL, err, sizeof(err))) {
		cw_log_warn("could not post the problem notice: %s", err);
		goto out;
	}
	if (st && o->state_path && cw_state_notice_posted(st, reason, o->now) == 0 &&
	    cw_state_save(st, o->state_path, o->now, err, sizeof(err)) != 0)
		cw_log_warn("%s (the notice may be posted again today)", err);
out:
	cw_wipe(url, sizeof(url));
	cw_buf_release(&payload);
	cw_state_release(&own);
}

/* Temporary files of the metrics file that a killed run left. */
static void remove_stale_of(const char *file)
{
	char *copy = cw_strdup(file), err[CW_ERRBUF];
	char *slash = copy ? strrchr(copy, '/') : NULL;

	if (!copy)
		return;
	if (!slash) {
		(void)cw_remove_stale_temps(".", copy, NULL, err, sizeof(err));
	} else if (slash[1]) {
		char *base = cw_strdup(slash + 1);

		slash[slash == copy] = '\0';
		if (base)
			(void)cw_remove_stale_temps(copy, base, NULL, err, sizeof(err));
		free(base);
	}
	free(copy);
}

void cw_outcome_publish(const struct cw_outcome *o)
{
	bool ok = o->exit_code == 0 || o->exit_code == 1;
	char err[CW_ERRBUF];

	if (o->metrics_path) {
		struct cw_metrics_in m = { o->run, o->exit_code, o->wall_start,
					   cw_outcome_wall_now(), 0, 0,
					   (double)o->lock_holder_started };

		m.last_success = cw_metrics_last_success(o->metrics_path);
		if (o->exit_code == EXIT_LOCKED)
			m.skipped_in_a_row = cw_metrics_skipped_in_a_row(o->metrics_path) + 1;
		remove_stale_of(o->metrics_path);
		if (cw_metrics_write(o->metrics_path, &m, err, sizeof(err)))
			cw_log_warn("%s", err);
	}
	/* a skipped run: the holder pings when it ends, unless it hangs */
	if (o->heartbeat_env && (o->exit_code != EXIT_LOCKED || o->stale_lock)) {
		const char *url = getenv(o->heartbeat_env);
		char body[640];

		if (!url || !*url) {
			cw_log_warn("heartbeat: %s is not set; no ping sent", o->heartbeat_env);
			return;
		}
		if (o->summary)
			cw_strlcpy(body, o->summary, sizeof(body));
		else if (o->reason && *o->reason)
			cw_strlcpy(body, o->reason, sizeof(body));
		else
			cw_log_first_error(body, sizeof(body));
		if (cw_heartbeat_ping(url, ok, body, err, sizeof(err)))
			cw_log_warn("%s", err);
	}
}
