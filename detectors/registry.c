/*
 * registry.c - the table of detectors and everything that reads parameter
 * tables: defaults, parsing "key=value" with units and bounds, the CLI list
 * syntax "name:key=value:key=value,name2" and --help.
 *
 * The table is const and every function here is reentrant.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detector.h"
#include "err.h"
#include "strutil.h"
#include "units.h"

extern const struct cw_detector_ops cw_detector_threshold;
extern const struct cw_detector_ops cw_detector_mean7d;
extern const struct cw_detector_ops cw_detector_zscore;
extern const struct cw_detector_ops cw_detector_seasonal;
extern const struct cw_detector_ops cw_detector_robust;
extern const struct cw_detector_ops cw_detector_newhigh;

/* Adding a detector: one line here (see detector.h). */
const struct cw_detector_ops *const cw_detectors[] = {
	&cw_detector_threshold,
	&cw_detector_mean7d,
	&cw_detector_zscore,
	&cw_detector_seasonal,
	&cw_detector_robust,
	&cw_detector_newhigh,
	NULL,
};

static const char *const direction_names[] = { "up", "down", "both", NULL };
static const char *const severity_names[] = { "info", "warning", "critical", NULL };

const struct cw_param_spec cw_common_params[] = {
	{ "direction", CW_PARAM_ENUM, CW_DIR_UP, 0, 0, direction_names,
	  "which side is anomalous: up (spikes), down (drops) or both" },
	{ "severity", CW_PARAM_ENUM, CW_SEV_WARNING, 0, 0, severity_names,
	  "severity of an anomaly: info, warning or critical" },
	{ "min_history", CW_PARAM_DURATION, 0, 0, 366.0 * 86400, NULL,
	  "data needed before judging: non-gap periods before the judged one x period" },
	{ "min_excess_usd", CW_PARAM_NUMBER, 0, 0, 1e9, NULL,
	  "on priced series, no alert when the excess would cost less than this a day" },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

#define NCOMMON ((size_t)CW_P_FIRST_OWN)

const struct cw_detector_ops *cw_detector_find(const char *name)
{
	for (size_t i = 0; cw_detectors[i]; i++)
		if (strcmp(cw_detectors[i]->name, name) == 0)
			return cw_detectors[i];
	return NULL;
}

size_t cw_detector_nparams(const struct cw_detector_ops *ops)
{
	size_t n = NCOMMON;
	for (const struct cw_param_spec *p = ops->params; p && p->name; p++)
		n++;
	return n;
}

const struct cw_param_spec *cw_detector_param_at(const struct cw_detector_ops *ops,
						 size_t idx)
{
	if (idx < NCOMMON)
		return &cw_common_params[idx];
	if (idx >= cw_detector_nparams(ops))
		return NULL;
	return &ops->params[idx - NCOMMON];
}

const struct cw_param_spec *cw_detector_param(const struct cw_detector_ops *ops,
					      const char *name, size_t *idx)
{
	size_t n = cw_detector_nparams(ops);
	for (size_t i = 0; i < n; i++) {
		const struct cw_param_spec *sp = cw_detector_param_at(ops, i);
		if (strcmp(sp->name, name) == 0) {
			if (idx)
				*idx = i;
			return sp;
		}
	}
	return NULL;
}

void cw_detector_conf_defaults(struct cw_detector_conf *conf,
			       const struct cw_detector_ops *ops)
{
	memset(conf, 0, sizeof(*conf));
	conf->ops = ops;
	size_t n = cw_detector_nparams(ops);
	for (size_t i = 0; i < n && i < CW_DET_MAX_PARAMS; i++)
		conf->p[i] = cw_detector_param_at(ops, i)->def;
	conf->p[CW_P_MIN_HISTORY] = ops->default_min_history;
	conf->p[CW_P_MIN_EXCESS_USD] = ops->default_min_excess_usd;
	conf->p[CW_P_DIRECTION] = ops->default_direction;
}

/* "up, down, both" into buf. */
static const char *choice_list(const char *const *c, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = 0;
	for (size_t i = 0; c[i] && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", c[i]);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	return buf;
}

int cw_detector_conf_set(struct cw_detector_conf *conf, const char *name,
			 const char *value, char *err, size_t errlen)
{
	const struct cw_detector_ops *ops = conf->ops;
	const struct cw_param_spec *sp;
	size_t idx;
	double v = 0;
	char why[128];

	sp = cw_detector_param(ops, name, &idx);
	if (!sp) {
		const char *cand[CW_DET_MAX_PARAMS + 1];
		size_t n = cw_detector_nparams(ops), k = 0;
		for (size_t i = 0; i < n && k < CW_DET_MAX_PARAMS; i++)
			cand[k++] = cw_detector_param_at(ops, i)->name;
		cand[k] = NULL;
		const char *near = cw_closest(name, cand);
		return cw_fail(err, errlen, CW_EINVAL, "%s: no parameter '%s'%s%s%s", ops->name,
			       name, near ? " (did you mean '" : "", near ? near : "",
			       near ? "'?)" : "");
	}
	why[0] = 0;
	switch (sp->type) {
	case CW_PARAM_NUMBER:
		if (cw_parse_number(value, &v, why, sizeof(why)))
			goto bad;
		break;
	case CW_PARAM_BYTES:
		if (cw_parse_bytes(value, &v, why, sizeof(why)))
			goto bad;
		break;
	case CW_PARAM_DURATION: {
		int64_t d;
		if (cw_parse_duration(value, &d, why, sizeof(why)))
			goto bad;
		v = (double)d;
		break;
	}
	case CW_PARAM_ENUM: {
		char list[128];
		for (size_t i = 0; sp->choices[i]; i++) {
			if (cw_str_ieq(sp->choices[i], value)) {
				conf->p[idx] = (double)i;
				return 0;
			}
		}
		return cw_fail(err, errlen, CW_EINVAL, "%s: must be one of %s, got '%s'",
			       sp->name, choice_list(sp->choices, list, sizeof(list)), value);
	}
	}
	if (!(v >= sp->min && v <= sp->max)) {
		if (sp->type == CW_PARAM_DURATION) {
			char a[32], b[32];
			return cw_fail(err, errlen, CW_EINVAL,
				       "%s: must be between %s and %s, got '%s'", sp->name,
				       cw_fmt_duration((int64_t)sp->min, a, sizeof(a)),
				       cw_fmt_duration((int64_t)sp->max, b, sizeof(b)), value);
		}
		return cw_fail(err, errlen, CW_EINVAL, "%s: must be between %g and %g, got %g",
			       sp->name, sp->min, sp->max, v);
	}
	conf->p[idx] = v;
	return 0;
bad:
	return cw_fail(err, errlen, CW_EINVAL, "%s: %s", sp->name,
		       why[0] ? why : "not a valid value");
}

int cw_detector_conf_build(struct cw_detector_conf *conf, char *err, size_t errlen)
{
	char why[CW_ERRBUF];
	void *st = NULL;

	conf->state = NULL;
	if (!conf->ops->create)
		return 0;
	why[0] = 0;
	int rc = conf->ops->create(&st, conf->p, why, sizeof(why));
	if (rc)
		return cw_fail(err, errlen, rc, "%s: %s", conf->ops->name,
			       why[0] ? why : cw_strerror(rc));
	conf->state = st;
	return 0;
}

void cw_detector_conf_release(struct cw_detector_conf *conf)
{
	if (conf && conf->ops && conf->ops->destroy && conf->state)
		conf->ops->destroy(conf->state);
	if (conf)
		conf->state = NULL;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = 0;
	return s;
}

/* One "name:key=value:key=value" item into conf (built). */
static int parse_item(char *item, struct cw_detector_conf *conf, char *err, size_t errlen)
{
	char *save = NULL, *tok;
	char why[CW_ERRBUF];
	const char *names[32];
	size_t k = 0;

	tok = strtok_r(item, ":", &save);
	tok = tok ? trim(tok) : NULL;
	if (!tok || !*tok)
		return cw_fail(err, errlen, CW_EINVAL, "detectors: empty detector name");
	const struct cw_detector_ops *ops = cw_detector_find(tok);
	if (!ops) {
		for (size_t i = 0; cw_detectors[i] && k < 31; i++)
			names[k++] = cw_detectors[i]->name;
		names[k] = NULL;
		const char *near = cw_closest(tok, names);
		return cw_fail(err, errlen, CW_EINVAL, "detectors: unknown detector '%s'%s%s%s",
			       tok, near ? " (did you mean '" : "", near ? near : "",
			       near ? "'?)" : "");
	}
	cw_detector_conf_defaults(conf, ops);
	while ((tok = strtok_r(NULL, ":", &save)) != NULL) {
		char *eq = strchr(tok, '=');
		if (!eq)
			return cw_fail(err, errlen, CW_EINVAL,
				       "detectors: %s: expected key=value, got '%s'", ops->name,
				       trim(tok));
		*eq = 0;
		if (cw_detector_conf_set(conf, trim(tok), trim(eq + 1), why, sizeof(why)))
			return cw_fail(err, errlen, CW_EINVAL, "detectors: %s: %s", ops->name,
				       why);
	}
	if (cw_detector_conf_build(conf, why, sizeof(why)))
		return cw_fail(err, errlen, CW_EINVAL, "detectors: %s", why);
	return 0;
}

int cw_detector_parse_list(const char *list, struct cw_detector_conf **out,
			   size_t *n, char *err, size_t errlen)
{
	struct cw_detector_conf *v = NULL;
	char *copy = NULL, *save = NULL, *item;
	size_t cnt = 0, cap = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	copy = cw_strdup(list ? list : "");
	if (!copy)
		return cw_fail(err, errlen, CW_ENOMEM, "out of memory");
	/* strtok_r would skip empty items silently; reject ",," explicitly. */
	if (strstr(copy, ",,") || copy[0] == ',' ||
	    (copy[0] && copy[strlen(copy) - 1] == ',')) {
		rc = cw_fail(err, errlen, CW_EINVAL, "detectors: empty item in '%s'", copy);
		goto fail;
	}
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 4;
			struct cw_detector_conf *nv = realloc(v, nc * sizeof(*nv));
			if (!nv) {
				rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
				goto fail;
			}
			v = nv;
			cap = nc;
		}
		rc = parse_item(item, &v[cnt], err, errlen);
		if (rc)
			goto fail;
		cnt++;
	}
	if (cnt == 0) {
		rc = cw_fail(err, errlen, CW_EINVAL, "detectors: no detector named");
		goto fail;
	}
	free(copy);
	*out = v;
	*n = cnt;
	return 0;
fail:
	for (size_t i = 0; i < cnt; i++)
		cw_detector_conf_release(&v[i]);
	free(v);
	free(copy);
	return rc;
}

const char *cw_status_name(enum cw_status st)
{
	switch (st) {
	case CW_STATUS_OK: return "ok";
	case CW_STATUS_ANOMALY: return "anomaly";
	case CW_STATUS_INSUFFICIENT: return "insufficient_history";
	case CW_STATUS_FAILED: return "failed";
	}
	return "unknown";
}

const char *cw_severity_name(enum cw_severity sv)
{
	if ((unsigned)sv <= CW_SEV_CRITICAL)
		return severity_names[sv];
	return "unknown";
}

static void print_param(FILE *f, const struct cw_param_spec *sp, double def)
{
	char a[48], b[48], c[48];

	switch (sp->type) {
	case CW_PARAM_ENUM:
		fprintf(f, "    %-14s %s (default %s)\n", sp->name,
			choice_list(sp->choices, a, sizeof(a)), sp->choices[(size_t)def]);
		break;
	case CW_PARAM_DURATION:
		fprintf(f, "    %-14s duration %s..%s (default %s)\n", sp->name,
			cw_fmt_duration((int64_t)sp->min, a, sizeof(a)),
			cw_fmt_duration((int64_t)sp->max, b, sizeof(b)),
			!isnan(def) ? cw_fmt_duration((int64_t)def, c, sizeof(c))
			: sp == &cw_common_params[CW_P_MIN_HISTORY] ? "per detector" : "per period");
		break;
	case CW_PARAM_BYTES:
		fprintf(f, "    %-14s bytes or number (default %s)\n", sp->name,
			isnan(def) ? "per period" : def == 0 ? "0" : cw_fmt_bytes(def, a, sizeof(a)));
		break;
	case CW_PARAM_NUMBER:
		if (isnan(def))
			fprintf(f, "    %-14s number %g..%g (default per period)\n", sp->name,
				sp->min, sp->max);
		else
			fprintf(f, "    %-14s number %g..%g (default %g)\n", sp->name, sp->min,
				sp->max, def);
		break;
	}
	fprintf(f, "                   %s\n", sp->help);
}

void cw_detector_print_help(void *file)
{
	FILE *f = file;

	fprintf(f, "Detectors (--detectors name:key=value:...,name2):\n\n");
	fprintf(f, "  common parameters (every detector):\n");
	for (size_t i = 0; i < NCOMMON; i++)
		print_param(f, &cw_common_params[i],
			    i == CW_P_MIN_HISTORY ? NAN : cw_common_params[i].def);
	fprintf(f, "  (\"per period\": the default depends on the series' period: a day or\n"
		   "  more, an hour or more, or shorter; see the README)\n");
	for (size_t d = 0; cw_detectors[d]; d++) {
		const struct cw_detector_ops *ops = cw_detectors[d];
		char a[32];
		fprintf(f, "\n  %s - %s\n", ops->name, ops->summary);
		fprintf(f, "    min_history default %s, min_excess_usd default %g%s%s\n",
			cw_fmt_duration((int64_t)ops->default_min_history, a, sizeof(a)),
			ops->default_min_excess_usd, ops->default_direction ? ", direction default " : "",
			ops->default_direction ? direction_names[ops->default_direction] : "");
		for (const struct cw_param_spec *sp = ops->params; sp && sp->name; sp++)
			print_param(f, sp, sp->def);
	}
}

void cw_judge_ratio(struct cw_judgement *j, double b, double factor, double min_excess,
		    enum cw_direction dir)
{
	double v = j->value;
	double hi = fmax(factor * b, b + min_excess);
	double low = fmin(b / factor, b - min_excess);
	bool up = dir == CW_DIR_UP || (dir == CW_DIR_BOTH && v >= b);

	j->baseline = b;
	j->limit = up ? hi : low;
	j->status = (up ? v > hi : v < low) ? CW_STATUS_ANOMALY : CW_STATUS_OK;
	j->score = b != 0 ? v / b : NAN;
}

bool cw_judge_below_gate(const struct cw_judgement *j, const struct cw_series *s,
			 double min_excess_usd)
{
	double ref = !isnan(j->baseline) ? j->baseline : j->limit;

	if (!(s->usd_per_unit > 0) || !(min_excess_usd > 0) || isnan(ref) || isnan(j->value))
		return false;
	double per_day = 86400.0 / (double)s->period;
	return fabs(j->value - ref) * s->usd_per_unit * per_day < min_excess_usd;
}
