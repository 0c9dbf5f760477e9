/*
 * invdet.c - detector settings in the inventory: read each `detectors:` map
 * (defaults, account, bucket) into a layer, then merge the layers into the
 * effective, built detector set of every account and bucket.
 *
 * Parameters are parsed and bounds-checked by the detector registry
 * (detector.h), so a parameter is declared in exactly one place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "invpriv.h"
#include "strutil.h"
#include "units.h"

/* The set that judges every target when defaults.detectors is absent. */
static const char *const builtin_set[] = { "robust", "newhigh", NULL };

/* err from the registry usually starts with "name: "; the path names it already. */
static const char *strip_name(const char *err, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(err, name, n) == 0 && err[n] == ':' && err[n + 1] == ' ')
		return err + n + 2;
	return err;
}

static void suggest_detector(struct cw_inv_ctx *c, const struct cw_yt_node *at,
			     const char *path, const char *name)
{
	const char *names[64];
	char known[512] = "";
	size_t n = 0, used = 0;
	const char *near;

	for (; cw_detectors[n] && n < 63; n++) {
		names[n] = cw_detectors[n]->name;
		int k = snprintf(known + used, sizeof(known) - used, "%s%s",
				 n ? ", " : "", names[n]);
		if (k > 0 && (size_t)k < sizeof(known) - used)
			used += (size_t)k;
	}
	names[n] = NULL;
	near = cw_inv_suggest(name, names);
	if (near)
		cw_inv_diag(c, at, path, "unknown detector; did you mean %s?", near);
	else
		cw_inv_diag(c, at, path, "unknown detector (known: %s)", known);
}

static void suggest_param(struct cw_inv_ctx *c, const struct cw_yt_node *at,
			  const char *path, const struct cw_detector_ops *ops, const char *key)
{
	const char *names[CW_DET_MAX_PARAMS + 1];
	size_t n = cw_detector_nparams(ops), k = 0;
	const char *near;

	for (size_t i = 0; i < n && k < CW_DET_MAX_PARAMS; i++) {
		const struct cw_param_spec *sp = cw_detector_param_at(ops, i);

		if (sp)
			names[k++] = sp->name;
	}
	names[k] = NULL;
	near = cw_inv_suggest(key, names);
	if (near)
		cw_inv_diag(c, at, path, "%s has no such parameter; did you mean %s?",
			    ops->name, near);
	else
		cw_inv_diag(c, at, path, "%s has no such parameter (see cwsweep --help)",
			    ops->name);
}

/* Check every parameter of one detector entry against the registry. */
static void check_params(struct cw_inv_ctx *c, const struct cw_inv_det_entry *e)
{
	struct cw_detector_conf scratch;
	char p[CW_INV_PATHLEN], err[CW_ERRBUF];
	bool *dup = NULL;
	const struct cw_yt_node *m = e->params;

	if (m->n > 0 && !(dup = calloc(m->n, sizeof(*dup)))) {
		c->oom = true;
		return;
	}
	if (!cw_inv_map_keys(c, m, e->path, dup)) {
		free(dup);
		return;
	}
	memset(&scratch, 0, sizeof(scratch));
	cw_detector_conf_defaults(&scratch, e->ops);
	for (size_t i = 0; i < m->n; i++) {
		const struct cw_yt_pair *pr = &m->pairs[i];
		size_t idx;

		if (dup[i])
			continue;
		cw_inv_path(p, sizeof(p), e->path, pr->key->str);
		if (!cw_detector_param(e->ops, pr->key->str, &idx)) {
			suggest_param(c, pr->key, p, e->ops, pr->key->str);
			continue;
		}
		if (!cw_inv_scalar(c, pr->val, p))
			continue;
		err[0] = '\0';
		if (cw_detector_conf_set(&scratch, pr->key->str, pr->val->str, err, sizeof(err)))
			cw_inv_diag(c, pr->val, p, "%s",
				    err[0] ? strip_name(err, pr->key->str) : "bad value");
	}
	free(dup);
}

void cw_inv_det_layer_release(struct cw_inv_det_layer *layer)
{
	free(layer->v);
	memset(layer, 0, sizeof(*layer));
}

void cw_inv_det_layer_parse(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			    const char *path, struct cw_inv_det_layer *layer)
{
	bool *dup = NULL;

	cw_inv_det_layer_release(layer);
	layer->present = true;
	if (v->kind == CW_YT_MAP && v->n > 0) {
		dup = calloc(v->n, sizeof(*dup));
		layer->v = calloc(v->n, sizeof(*layer->v));
		if (!dup || !layer->v) {
			c->oom = true;
			free(dup);
			return;
		}
	}
	if (!cw_inv_map_keys(c, v, path, dup)) {
		layer->broken = true;
		free(dup);
		return;
	}
	for (size_t i = 0; v->kind == CW_YT_MAP && i < v->n; i++) {
		const struct cw_yt_pair *pr = &v->pairs[i];
		struct cw_inv_det_entry *e = &layer->v[layer->n];
		const struct cw_yt_node *val = pr->val;

		if (dup[i])
			continue;
		cw_inv_path(e->path, sizeof(e->path), path, pr->key->str);
		e->at = pr->key;
		e->ops = cw_detector_find(pr->key->str);
		if (!e->ops) {
			suggest_detector(c, pr->key, e->path, pr->key->str);
			layer->broken = true;
			continue;
		}
		e->enabled = true;
		if (val->kind == CW_YT_MAP) {
			e->params = val;
			check_params(c, e);
		} else if (val->kind == CW_YT_SCALAR && !cw_yt_is_null(val)) {
			if (!cw_inv_bool(c, val, e->path, &e->enabled)) {
				layer->broken = true;
				continue;
			}
		} else if (val->kind == CW_YT_SEQ) {
			cw_inv_diag(c, val, e->path, "must be a map of parameters (e.g. "
				    "{limit: 500GB}), {} for the defaults, or false to turn "
				    "it off; got a list");
			layer->broken = true;
			continue;
		}
		layer->n++;
	}
	free(dup);
}

void cw_inv_det_set_release(struct cw_det_set *s)
{
	if (s->borrowed) {
		memset(s, 0, sizeof(*s));
		return;
	}
	for (size_t i = 0; i < s->n; i++)
		cw_detector_conf_release(&s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* One detector of the set being built, with the entries that configure it. */
struct eff {
	const struct cw_detector_ops *ops;
	const struct cw_inv_det_entry *src[8]; /* one per layer, oldest first */
	size_t nsrc;
	bool on;
};

static struct eff *eff_find(struct eff *v, size_t n, const struct cw_detector_ops *ops)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].ops == ops)
			return &v[i];
	return NULL;
}

/* The last explicit min_history among the entries, or NULL. */
static const struct cw_yt_node *history_node(const struct eff *e, const char **path)
{
	const struct cw_yt_node *at = NULL;

	for (size_t i = 0; i < e->nsrc; i++) {
		const struct cw_yt_node *v = cw_yt_get(e->src[i]->params, "min_history");

		if (v) {
			at = v;
			*path = e->src[i]->path;
		}
	}
	return at;
}

static void check_history(struct cw_inv_ctx *c, const struct eff *e,
			  const struct cw_detector_conf *conf, const struct cw_inv_det_opts *o)
{
	int64_t need = (int64_t)conf->p[CW_P_MIN_HISTORY] + o->period;
	int64_t have = (int64_t)o->lookback_days * 86400;
	const char *path = NULL;
	const struct cw_yt_node *at = history_node(e, &path);
	char p[CW_INV_PATHLEN], h[32];

	if (need <= have)
		return;
	cw_fmt_duration((int64_t)conf->p[CW_P_MIN_HISTORY], h, sizeof(h));
	if (at) {
		cw_inv_path(p, sizeof(p), path, "min_history");
		cw_inv_diag(c, at, p, "%s of history plus the judged period does not fit "
			    "in lookback_days (%d)", h, o->lookback_days);
	} else if (o->lookback_at) {
		cw_inv_diag(c, o->lookback_at, o->lookback_path,
			    "%d days cannot hold the %s of history that %s needs before "
			    "it judges a period", o->lookback_days, h, e->ops->name);
	}
}

void cw_inv_det_build(struct cw_inv_ctx *c, struct cw_det_set *out,
		      const struct cw_inv_det_layer *const *layers, size_t nlayers,
		      const struct cw_inv_det_opts *o)
{
	struct eff effs[64];
	size_t ne = 0;
	char err[CW_ERRBUF];

	memset(out, 0, sizeof(*out));
	if (!layers[0]->present) {
		for (size_t i = 0; builtin_set[i]; i++) {
			const struct cw_detector_ops *ops = cw_detector_find(builtin_set[i]);

			if (!ops) {
				cw_inv_diag(c, NULL, "defaults.detectors",
					    "built-in detector %s is missing from this build",
					    builtin_set[i]);
				continue;
			}
			memset(&effs[ne], 0, sizeof(effs[ne]));
			effs[ne].ops = ops;
			effs[ne++].on = true;
		}
	}
	for (size_t l = 0; l < nlayers && l < 8; l++) {
		for (size_t i = 0; i < layers[l]->n; i++) {
			const struct cw_inv_det_entry *en = &layers[l]->v[i];
			struct eff *e = eff_find(effs, ne, en->ops);

			if (!en->ops)
				continue;
			if (!e) {
				if (!en->enabled || ne == 64)
					continue;
				e = &effs[ne++];
				memset(e, 0, sizeof(*e));
				e->ops = en->ops;
			}
			e->on = en->enabled;
			if (en->enabled)
				e->src[e->nsrc++] = en;
			else
				e->nsrc = 0; /* turned off: settings above do not come back */
		}
	}
	out->v = calloc(ne ? ne : 1, sizeof(*out->v));
	if (!out->v) {
		c->oom = true;
		return;
	}
	for (size_t i = 0; i < ne; i++) {
		struct cw_detector_conf *conf = &out->v[out->n];
		const struct cw_inv_det_entry *last = effs[i].nsrc ? effs[i].src[effs[i].nsrc - 1]
								    : NULL;

		if (!effs[i].on)
			continue;
		memset(conf, 0, sizeof(*conf));
		cw_detector_conf_defaults(conf, effs[i].ops);
		for (size_t s = 0; s < effs[i].nsrc; s++) {
			const struct cw_yt_node *m = effs[i].src[s]->params;

			for (size_t k = 0; m && k < m->n; k++)
				if (m->pairs[k].val->kind == CW_YT_SCALAR)
					(void)cw_detector_conf_set(conf, m->pairs[k].key->str,
								   m->pairs[k].val->str,
								   err, sizeof(err));
		}
		err[0] = '\0';
		if (cw_detector_conf_build(conf, err, sizeof(err))) {
			cw_inv_diag(c, last ? last->at : o->owner,
				    last ? last->path : o->owner_path, "%s",
				    err[0] ? strip_name(err, effs[i].ops->name) :
					     "parameters do not fit together");
			cw_detector_conf_release(conf);
			continue;
		}
		check_history(c, &effs[i], conf, o);
		out->n++;
	}
	for (size_t l = 0; l < nlayers; l++)
		if (layers[l]->broken)
			return; /* empty because of a problem already reported */
	if (out->n == 0 && o->owner)
		cw_inv_diag(c, o->owner, o->owner_path,
			    "no detector is enabled (give detectors, or stop turning them off)");
}
