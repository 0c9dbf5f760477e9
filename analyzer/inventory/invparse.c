/*
 * invparse.c - the inventory parser's toolbox: problem reporting, key
 * paths, typed scalars, lists, and the table-driven map walk.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "invpriv.h"
#include "strutil.h"
#include "units.h"
#include "validate.h"

void cw_inv_diag(struct cw_inv_ctx *c, const struct cw_yt_node *at, const char *path,
		 const char *fmt, ...)
{
	char what[1024], msg[1400];
	int line = at ? at->line : 0, col = at ? at->col : 0;
	va_list ap;

	if (at && at->bad)
		return;
	if (c->capped)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (path && *path)
		snprintf(msg, sizeof(msg), "%s: %s", path, what);
	else
		snprintf(msg, sizeof(msg), "%s", what);
	for (size_t i = c->first_diag; i < c->diags->n; i++) {
		const struct cw_diag *g = &c->diags->v[i];

		if (g->line == line && g->col == col && strcmp(g->msg, msg) == 0)
			return;
	}
	if (cw_inv_ndiags(c) >= CW_INV_MAX_DIAGS) {
		c->capped = true;
		snprintf(msg, sizeof(msg), "more than %d problems; stopped reporting",
			 CW_INV_MAX_DIAGS);
		line = col = 0;
	}
	if (cw_diags_add(c->diags, c->file, line, col, "%s", msg))
		c->oom = true;
}

size_t cw_inv_ndiags(const struct cw_inv_ctx *c)
{
	return c->diags->n - c->first_diag;
}

const char *cw_inv_path(char *out, size_t n, const char *base, const char *key)
{
	int k = snprintf(out, n, "%s%s%s", base, *base ? "." : "", key);

	if (k < 0)
		out[0] = '\0';
	return out;
}

const char *cw_inv_index(char *out, size_t n, const char *base, size_t i)
{
	int k = snprintf(out, n, "%s[%zu]", base, i);

	if (k < 0)
		out[0] = '\0';
	return out;
}

bool cw_inv_scalar(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path)
{
	if (v->bad)
		return false;
	if (v->kind != CW_YT_SCALAR || cw_yt_is_null(v)) {
		cw_inv_diag(c, v, path, "must be a single value, got %s", cw_yt_what(v));
		return false;
	}
	return true;
}

bool cw_inv_list(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		 const char *example)
{
	if (v->bad)
		return false;
	if (v->kind != CW_YT_SEQ) {
		cw_inv_diag(c, v, path, "must be a list (e.g. %s), got %s", example,
			    cw_yt_what(v));
		return false;
	}
	return true;
}

bool cw_inv_str(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		char **out)
{
	char *s;

	if (!cw_inv_scalar(c, v, path))
		return false;
	if (v->len == 0) {
		cw_inv_diag(c, v, path, "must not be empty");
		return false;
	}
	s = cw_strdup(v->str);
	if (!s) {
		c->oom = true;
		return false;
	}
	free(*out);
	*out = s;
	return true;
}

bool cw_inv_bool(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		 bool *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES",
					   "on", "On", "ON", NULL };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO",
					  "off", "Off", "OFF", NULL };

	if (!cw_inv_scalar(c, v, path))
		return false;
	for (size_t i = 0; v->plain && yes[i]; i++)
		if (strcmp(v->str, yes[i]) == 0) {
			*out = true;
			return true;
		}
	for (size_t i = 0; v->plain && no[i]; i++)
		if (strcmp(v->str, no[i]) == 0) {
			*out = false;
			return true;
		}
	cw_inv_diag(c, v, path, "must be true or false (unquoted), got \"%.40s\"", v->str);
	return false;
}

bool cw_inv_int(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		long long min, long long max, long long *out)
{
	long long x;

	if (!cw_inv_scalar(c, v, path))
		return false;
	if (cw_parse_i64(v->str, LLONG_MIN, LLONG_MAX, &x)) {
		cw_inv_diag(c, v, path, "must be a whole number, got \"%.40s\"", v->str);
		return false;
	}
	if (x < min || x > max) {
		cw_inv_diag(c, v, path, "must be between %lld and %lld, got %lld", min, max, x);
		return false;
	}
	*out = x;
	return true;
}

bool cw_inv_number(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		   double min, double max, double *out)
{
	char err[CW_ERRBUF];
	double x;

	if (!cw_inv_scalar(c, v, path))
		return false;
	if (cw_parse_number(v->str, &x, err, sizeof(err))) {
		cw_inv_diag(c, v, path, "must be a number, got \"%.40s\"", v->str);
		return false;
	}
	if (x < min || x > max) {
		cw_inv_diag(c, v, path, "must be between %g and %g, got %g", min, max, x);
		return false;
	}
	*out = x;
	return true;
}

bool cw_inv_duration(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		     int64_t min, int64_t max, int64_t *out)
{
	char err[CW_ERRBUF], a[32], b[32], g[32];
	int64_t x;

	if (!cw_inv_scalar(c, v, path))
		return false;
	if (cw_parse_duration(v->str, &x, err, sizeof(err))) {
		cw_inv_diag(c, v, path, "not a duration (want e.g. 90s, 5m, 1h, 1d, 2w, or "
			    "seconds), got \"%.40s\"", v->str);
		return false;
	}
	if (x < min || x > max) {
		cw_inv_diag(c, v, path, "must be between %s and %s, got %s",
			    cw_fmt_duration(min, a, sizeof(a)), cw_fmt_duration(max, b, sizeof(b)),
			    cw_fmt_duration(x, g, sizeof(g)));
		return false;
	}
	*out = x;
	return true;
}

bool cw_inv_bytes(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		  double min, double max, double *out)
{
	char err[CW_ERRBUF], a[32], b[32];
	double x;

	if (!cw_inv_scalar(c, v, path))
		return false;
	if (cw_parse_bytes(v->str, &x, err, sizeof(err))) {
		cw_inv_diag(c, v, path, "not a byte size (want e.g. 500GB, 10TB, 1.5TiB), "
			    "got \"%.40s\"", v->str);
		return false;
	}
	if (x < min || x > max) {
		cw_inv_diag(c, v, path, "must be between %s and %s, got \"%.40s\"",
			    cw_fmt_bytes(min, a, sizeof(a)), cw_fmt_bytes(max, b, sizeof(b)),
			    v->str);
		return false;
	}
	*out = x;
	return true;
}

void cw_inv_free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

bool cw_inv_str_list(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		     const char *(*check)(const char *), const char *example,
		     char ***out, size_t *n)
{
	char p[CW_INV_PATHLEN];
	char **list;
	size_t k = 0;
	bool ok = true;

	if (!cw_inv_list(c, v, path, example))
		return false;
	if (v->n == 0) {
		cw_inv_diag(c, v, path, "must not be an empty list");
		return false;
	}
	list = calloc(v->n, sizeof(*list));
	if (!list) {
		c->oom = true;
		return false;
	}
	for (size_t i = 0; i < v->n; i++) {
		const struct cw_yt_node *it = v->items[i];
		const char *why = NULL;
		bool dup = false;

		cw_inv_index(p, sizeof(p), path, i);
		if (check == cw_check_region) {
			if (!cw_inv_region(c, it, p, &list[k])) {
				ok = false;
				continue;
			}
		} else {
			if (!cw_inv_str(c, it, p, &list[k])) {
				ok = false;
				continue;
			}
			why = check ? check(it->str) : NULL;
			if (why) {
				cw_inv_diag(c, it, p, "%s", why);
				free(list[k]);
				list[k] = NULL;
				ok = false;
				continue;
			}
		}
		for (size_t j = 0; j < k; j++)
			dup = dup || strcmp(list[j], list[k]) == 0;
		if (dup) {
			cw_inv_diag(c, it, p, "%.80s is listed twice", it->str);
			free(list[k]);
			list[k] = NULL;
			ok = false;
			continue;
		}
		k++;
	}
	if (!ok) {
		cw_inv_free_strv(list, k);
		return false;
	}
	cw_inv_free_strv(*out, *n);
	*out = list;
	*n = k;
	return true;
}

void cw_inv_free_kv(struct cw_kv *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
}

bool cw_inv_kv_map(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		   struct cw_kv **out, size_t *n)
{
	char p[CW_INV_PATHLEN];
	struct cw_kv *kv = NULL;
	bool *dup = NULL;
	size_t k = 0;
	bool ok = true;

	if (v->kind == CW_YT_MAP && v->n > 0) {
		dup = calloc(v->n, sizeof(*dup));
		kv = calloc(v->n, sizeof(*kv));
		if (!dup || !kv) {
			free(dup);
			free(kv);
			c->oom = true;
			return false;
		}
	}
	if (!cw_inv_map_keys(c, v, path, dup)) {
		free(dup);
		free(kv);
		return false;
	}
	for (size_t i = 0; v->kind == CW_YT_MAP && i < v->n; i++) {
		const struct cw_yt_pair *pr = &v->pairs[i];

		if (dup[i])
			continue;
		cw_inv_path(p, sizeof(p), path, pr->key->str);
		if (pr->key->len == 0 || pr->key->len > 128) {
			cw_inv_diag(c, pr->key, p, "a tag key has 1 to 128 characters");
			ok = false;
			continue;
		}
		if (!cw_inv_scalar(c, pr->val, p)) {
			ok = false;
			continue;
		}
		if (pr->val->len > 256) {
			cw_inv_diag(c, pr->val, p, "a tag value has at most 256 characters");
			ok = false;
			continue;
		}
		kv[k].key = cw_strdup(pr->key->str);
		kv[k].value = cw_strdup(pr->val->str);
		k++;
		if (!kv[k - 1].key || !kv[k - 1].value)
			c->oom = true;
	}
	free(dup);
	if (!ok || c->oom) {
		cw_inv_free_kv(kv, k);
		return false;
	}
	cw_inv_free_kv(*out, *n);
	*out = kv;
	*n = k;
	return true;
}

/* Regions AWS has announced, for "did you mean" only (the grammar decides). */
static const char *const known_regions[] = {
	"us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1",
	"ap-east-2", "ap-south-1", "ap-south-2", "ap-northeast-1", "ap-northeast-2",
	"ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
	"ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3",
	"eu-south-1", "eu-south-2", "eu-north-1", "il-central-1", "me-south-1",
	"me-central-1", "mx-central-1", "sa-east-1", "cn-north-1", "cn-northwest-1",
	"us-gov-west-1", "us-gov-east-1", NULL
};

bool cw_inv_region(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		   char **out)
{
	const char *why, *near;

	if (!cw_inv_scalar(c, v, path))
		return false;
	why = cw_check_region(v->str);
	if (why) {
		near = cw_closest(v->str, known_regions);
		if (near)
			cw_inv_diag(c, v, path, "%s; did you mean %s?", why, near);
		else
			cw_inv_diag(c, v, path, "%s", why);
		return false;
	}
	return cw_inv_str(c, v, path, out);
}

const char *cw_inv_suggest(const char *s, const char *const *candidates)
{
	const char *near = cw_closest(s, candidates), *only = NULL;
	size_t n = strlen(s), hits = 0;

	if (near || n < 4)
		return near;
	for (size_t i = 0; candidates[i]; i++)
		if (strncmp(candidates[i], s, n) == 0) {
			only = candidates[i];
			hits++;
		}
	return hits == 1 ? only : NULL;
}

static int pair_cmp(const void *a, const void *b)
{
	const struct cw_yt_pair *x = *(const struct cw_yt_pair *const *)a;
	const struct cw_yt_pair *y = *(const struct cw_yt_pair *const *)b;
	int r = strcmp(x->key->str, y->key->str);

	if (r)
		return r;
	return x < y ? -1 : x > y;
}

bool cw_inv_map_keys(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		     bool *dup)
{
	const struct cw_yt_pair **s;
	char p[CW_INV_PATHLEN];

	if (v->bad)
		return false;
	if (cw_yt_is_null(v))
		return true;
	if (v->kind != CW_YT_MAP) {
		cw_inv_diag(c, v, path, "must be a map (key: value lines), got %s",
			    cw_yt_what(v));
		return false;
	}
	if (v->n < 2)
		return true;
	s = malloc(v->n * sizeof(*s));
	if (!s) {
		c->oom = true;
		return false;
	}
	for (size_t i = 0; i < v->n; i++)
		s[i] = &v->pairs[i];
	qsort(s, v->n, sizeof(*s), pair_cmp);
	for (size_t i = 1, run = 0; i < v->n; i++) {
		const struct cw_yt_pair *first = s[run];

		if (strcmp(s[i]->key->str, first->key->str) != 0) {
			run = i;
			continue;
		}
		cw_inv_path(p, sizeof(p), path, s[i]->key->str);
		cw_inv_diag(c, s[i]->key, p, "duplicate key (first at line %d)",
			    first->key->line);
		if (dup)
			dup[s[i] - v->pairs] = true;
	}
	free(s);
	return true;
}

bool cw_inv_walk(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		 const struct cw_inv_key *keys, void *obj)
{
	const char *names[64];
	char p[CW_INV_PATHLEN];
	bool *dup = NULL;
	size_t nk = 0;

	for (; keys[nk].name && nk < 63; nk++)
		names[nk] = keys[nk].name;
	names[nk] = NULL;
	if (v->kind == CW_YT_MAP && v->n > 0) {
		dup = calloc(v->n, sizeof(*dup));
		if (!dup) {
			c->oom = true;
			return false;
		}
	}
	if (!cw_inv_map_keys(c, v, path, dup)) {
		free(dup);
		return false;
	}
	for (size_t i = 0; v->kind == CW_YT_MAP && i < v->n; i++) {
		const struct cw_yt_pair *pr = &v->pairs[i];
		const struct cw_inv_key *k = NULL;
		const char *near;

		if (dup[i])
			continue;
		cw_inv_path(p, sizeof(p), path, pr->key->str);
		for (size_t j = 0; j < nk && !k; j++)
			if (strcmp(keys[j].name, pr->key->str) == 0)
				k = &keys[j];
		if (!k) {
			near = cw_inv_suggest(pr->key->str, names);
			if (near)
				cw_inv_diag(c, pr->key, p, "unknown key; did you mean %s?", near);
			else
				cw_inv_diag(c, pr->key, p, "unknown key (known here: %s%s%s%s%s%s)",
					    names[0] ? names[0] : "", nk > 1 ? ", " : "",
					    nk > 1 ? names[1] : "", nk > 2 ? ", " : "",
					    nk > 2 ? names[2] : "", nk > 3 ? ", ..." : "");
			continue;
		}
		if (k->fn)
			k->fn(c, pr->val, p, obj);
	}
	for (size_t j = 0; j < nk; j++) {
		if (!keys[j].required)
			continue;
		if (v->kind == CW_YT_MAP && cw_yt_get(v, keys[j].name))
			continue;
		cw_inv_diag(c, v, path, "missing required key %s", keys[j].name);
	}
	free(dup);
	return true;
}

static int seen_cmp(const void *a, const void *b)
{
	const struct cw_inv_seen *x = a, *y = b;
	int r = strcmp(x->scope ? x->scope : "", y->scope ? y->scope : "");

	if (r)
		return r;
	r = strcmp(x->key, y->key);

	if (r)
		return r;
	if (x->at->line != y->at->line)
		return x->at->line < y->at->line ? -1 : 1;
	return x->at->col < y->at->col ? -1 : x->at->col > y->at->col;
}

static int seen_cmp_key(const struct cw_inv_seen *x, const struct cw_inv_seen *y)
{
	int r = strcmp(x->scope ? x->scope : "", y->scope ? y->scope : "");

	return r ? r : strcmp(x->key, y->key);
}

bool cw_inv_seen_push(struct cw_inv_ctx *c, struct cw_inv_seenv *s, const char *scope,
		      const char *key, const struct cw_yt_node *at, const char *path)
{
	struct cw_inv_seen *e;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct cw_inv_seen *v = realloc(s->v, cap * sizeof(*v));

		if (!v) {
			c->oom = true;
			return false;
		}
		s->v = v;
		s->cap = cap;
	}
	e = &s->v[s->n++];
	e->scope = scope;
	e->key = key;
	e->at = at;
	cw_strlcpy(e->path, path, sizeof(e->path));
	return true;
}

void cw_inv_report_dups(struct cw_inv_ctx *c, struct cw_inv_seenv *s, const char *what)
{
	struct cw_inv_seen *v = s->v;
	size_t first = 0;

	if (s->n > 1)
		qsort(v, s->n, sizeof(*v), seen_cmp);
	for (size_t i = 1; i < s->n; i++) {
		if (seen_cmp_key(&v[i], &v[first]) != 0) {
			first = i;
			continue;
		}
		cw_inv_diag(c, v[i].at, v[i].path, "%s %.80s is listed twice (first at line %d)",
			    what, v[i].key, v[first].at->line);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}
