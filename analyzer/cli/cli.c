/*
 * cli.c - what the subcommands share.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "detector.h"
#include "run.h"
#include "err.h"
#include "strutil.h"
#include "timeutil.h"
#include "units.h"

const char cw_exit_codes_help[] =
	"exit codes:\n"
	"  0   ran fully, nothing anomalous\n"
	"  1   ran fully, anomalies found\n"
	"  2   usage or configuration error (nothing fetched, nothing written)\n"
	"  3   partial failure: some targets failed; reports written with a failures section\n"
	"  75  another run holds the lock\n";

int cw_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("cwsweep: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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

		if (conf->p[i] == def.p[i])
			continue;
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
