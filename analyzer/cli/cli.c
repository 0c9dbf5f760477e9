/*
 * cli.c - what the subcommands share.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "detector.h"
#include "run.h"
#include "slack.h"
#include "err.h"
#include "log.h"
#include "notify.h"
#include "publish.h"
#include "strutil.h"
#include "timeutil.h"
#include "units.h"

const char cw_exit_codes_help[] =
	"exit codes:\n"
	"  0   ran fully, nothing anomalous\n"
	"  1   ran fully, anomalies found\n"
	"  2   usage or configuration error (nothing fetched, nothing written)\n"
	"  3   partial failure: some targets failed, or buckets with data but nothing\n"
	"      to judge; reports written with a failures section\n"
	"  75  another run holds the lock\n";

int cw_usage_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "cwsweep: %s\n", msg);
	cw_log_remember_error(msg);
	return CW_EXIT_USAGE;
}

/* "mean7d" or "mean7d:factor=4:min_history=3d": the parameters that differ
 * from the defaults, in a form --detectors accepts.  New string or NULL. */
static char *describe_detector(const struct cw_detector_conf *conf)
{
	struct cw_detector_conf def;
	struct cw_buf b = CW_BUF_INIT;
	size_t i, n = cw_detector_nparams(conf->ops);
	int rc = cw_buf_addstr(&b, conf->ops->name);

	cw_detector_conf_defaults(&def, conf->ops);
	for (i = 0; i < n && i < CW_DET_MAX_PARAMS && !rc; i++) {
		const struct cw_param_spec *sp = cw_detector_param_at(conf->ops, i);
		char val[64];

		if (conf->p[i] == def.p[i] || (isnan(conf->p[i]) && isnan(def.p[i])))
			continue; /* NaN: "per period", left as it is */
		switch (sp->type) {
		case CW_PARAM_ENUM:
			snprintf(val, sizeof(val), "%s", sp->choices[(size_t)conf->p[i]]);
			break;
		case CW_PARAM_DURATION:
			cw_fmt_duration((int64_t)conf->p[i], val, sizeof(val));
			break;
		default:
			cw_fmt_plain(conf->p[i], val, sizeof(val));
			break;
		}
		rc = cw_buf_printf(&b, ":%s=%s", sp->name, val);
	}
	return rc ? NULL : cw_buf_detach(&b, NULL);
}

int cw_cli_run_meta(struct cw_run *run, const struct cw_detector_conf *dets, size_t ndets)
{
	char stamp[32];
	time_t now = (time_t)cw_time_now();
	struct tm tm;
	unsigned suffix = ((unsigned)getpid() * 2654435761u ^ (unsigned)cw_time_mono_ms()) & 0xffffu;

	if (!gmtime_r(&now, &tm) || !strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm))
		cw_strlcpy(stamp, "run", sizeof(stamp));
	free(run->run_id);
	run->run_id = cw_asprintf("%s-%04x", stamp, suffix);
	if (!run->run_id)
		return CW_ENOMEM;
	run->detectors = calloc(ndets ? ndets : 1, sizeof(*run->detectors));
	if (!run->detectors)
		return CW_ENOMEM;
	for (size_t i = 0; i < ndets; i++) {
		run->detectors[i] = describe_detector(&dets[i]);
		if (!run->detectors[i])
			return CW_ENOMEM;
		run->ndetectors++;
	}
	return 0;
}

int cw_cli_digest(const struct cw_run *run, const bool *announce, const char *dir,
		  const struct cw_digest_opts *o)
{
	struct cw_slack_opts so;
	struct cw_buf payload = CW_BUF_INIT;
	char err[CW_ERRBUF] = "", url[2048] = "", report[4096], link[4096] = "";
	const char *var = o->webhook_env ? o->webhook_env : "SLACK_WEBHOOK_URL";
	int rc = 0;

	snprintf(report, sizeof(report), "%s/report.md", dir);
	memset(&so, 0, sizeof(so));
	so.max_findings = o->max_findings;
	so.report_path = report;
	so.announce_failures = o->announce_failures;
	if (o->report_link && o->report_link[0]) {
		so.report_url = o->report_link;
	} else if (o->report_url && o->report_url[0]) {
		size_t n = strlen(o->report_url);

		snprintf(link, sizeof(link), "%s%sreport.html", o->report_url,
			 o->report_url[n - 1] == '/' ? "" : "/");
		so.report_url = link;
	}
	if (cw_slack_digest(run, announce, &so, &payload, err, sizeof(err))) {
		cw_log_error("slack: cannot build the digest: %s", err);
		rc = -1;
		goto out;
	}
	if (o->preview) {
		if (payload.len) {
			printf("%s\n", payload.data);
			fflush(stdout);
		} else
			cw_log_info("slack: nothing new to announce (no payload)");
		goto out;
	}
	if (payload.len == 0) {
		cw_log_info("slack: nothing new to announce, no message sent");
		goto out;
	}
	if (o->webhook) {
		cw_strlcpy(url, o->webhook, sizeof(url));
	} else if ((rc = cw_slack_webhook_from_env(var, url, sizeof(url), err, sizeof(err)))) {
		/* no webhook configured is a choice, a broken one is a problem */
		if (rc == CW_ENOTFOUND)
			cw_log_info("slack: %s is not set; no digest sent", var);
		else
			cw_log_warn("slack: %s; digest not sent", err);
		rc = 0;
		goto out;
	}
	if (cw_slack_post(url, payload.data, payload.len, NULL, err, sizeof(err))) {
		cw_log_error("%s", err);
		rc = -1;
	}
out:
	cw_wipe(url, sizeof(url));
	cw_buf_release(&payload);
	return rc;
}

bool cw_cli_digest_told(const struct cw_run *run, const bool *announce, const char *dir,
			const struct cw_digest_opts *o, char *partly, int *code)
{
	if (cw_cli_digest(run, announce, dir, o) != 0) {
		*code = CW_EXIT_PARTIAL;
		partly[0] = '\0';
		return true;
	}
	return run->nfailures > 0 && !partly[0];
}

int cw_cli_publish(const char *cmd, const struct cw_publish_opts *po, const char *dir,
		   const char *folder, const char *verb, struct cw_buf *link, char *why,
		   size_t whylen)
{
	char err[CW_ERRBUF];
	size_t up = 0;
	int rc = cw_publish_reports(po, dir, folder, link, &up, err, sizeof(err));

	if (rc) {
		cw_log_error("%s: %s (the reports are in %s)", cmd, err, dir);
		if (why && whylen)
			snprintf(why, whylen, "the reports could not be published: %s", err);
		cw_buf_reset(link);
		return rc;
	}
	cw_log_info("%s: %zu reports %s s3://%s/%s%s%s/", cmd, up, verb, po->bucket, po->prefix,
		    po->prefix[0] ? "/" : "", folder);
	return 0;
}
