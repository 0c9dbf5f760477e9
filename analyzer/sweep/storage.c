/*
 * storage.c - ListMetrics of AWS/S3 BucketSizeBytes (the bucket set of an
 * account-region) and the metric templates for its stored bytes.
 *
 * Parsing checks the whole page first and applies it second, so a
 * malformed page changes nothing.  No shared state, no locking.
 */
#include "storage.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloudwatch.h"
#include "err.h"
#include "lmpage.h"
#include "strutil.h"
#include "timeutil.h"

#define DAY 86400

/* ---- ListMetrics ---------------------------------------------------------- */

int cw_storage_lm_request(char **body, size_t *len, const char *next_token,
			  char *err, size_t errlen)
{
	return cw_lm_page_request(body, len, CW_STORAGE_NAMESPACE, CW_STORAGE_METRIC, next_token, err, errlen);
}

void cw_storage_page_release(struct cw_storage_page *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].bucket);
		free(p->v[i].type);
	}
	free(p->v);
	free(p->next_token);
	memset(p, 0, sizeof(*p));
}

/* A usable dimension value: 1..CW_STORAGE_MAX_NAME bytes. */
static const char *dim_value(const struct cw_lm_dim *d)
{
	const char *s = d->value;
	size_t n = d->value_len;

	if (!s || n == 0 || n > CW_STORAGE_MAX_NAME || memchr(s, '\0', n))
		return NULL;
	return s;
}

static bool str_is(const char *s, const char *want)
{
	return s && strcmp(s, want) == 0;
}

/* bucket and type of a BucketSizeBytes{BucketName, StorageType} metric. */
static bool match(const struct cw_lm_metric *met, const char **bucket, const char **type)
{
	*bucket = *type = NULL;
	if (!str_is(met->namespace_, CW_STORAGE_NAMESPACE) ||
	    !str_is(met->name, CW_STORAGE_METRIC) || met->ndims != 2)
		return false;
	for (size_t k = 0; k < met->ndims; k++) {
		const char *n = met->dims[k].name;

		if (str_is(n, "BucketName") && !*bucket)
			*bucket = dim_value(&met->dims[k]);
		else if (str_is(n, "StorageType") && !*type)
			*type = dim_value(&met->dims[k]);
		else
			return false;
	}
	return *bucket && *type;
}

struct take {
	struct cw_storage_page *page;
	size_t alloc;
};

/* One metric of the page (the scanner's visitor). */
static int take(void *ctx, const struct cw_lm_metric *met)
{
	struct take *t = ctx;
	struct cw_storage_page *page = t->page;
	struct cw_storage_item *it;
	const char *b, *ty;

	if (!match(met, &b, &ty)) {
		page->skipped++;
		return 0;
	}
	if (page->n == t->alloc) {
		size_t a = t->alloc ? t->alloc * 2 : 64;
		struct cw_storage_item *v = realloc(page->v, a * sizeof(*v));

		if (!v)
			return CW_ENOMEM;
		page->v = v;
		t->alloc = a;
	}
	it = &page->v[page->n];
	it->bucket = cw_strdup(b);
	it->type = cw_strdup(ty);
	page->n++;
	return it->bucket && it->type ? 0 : CW_ENOMEM;
}

int cw_storage_lm_parse(struct cw_storage_page *page, const char *body, size_t len,
			char *err, size_t errlen)
{
	struct take t = { .page = page };
	int rc;

	memset(page, 0, sizeof(*page));
	rc = cw_lm_scan(body, len, take, &t, &page->next_token, err, errlen);
	if (!rc && !page->v && !(page->v = calloc(1, sizeof(*page->v))))
		rc = cw_fail(err, errlen, CW_ENOMEM, "ListMetrics response: out of memory");
	if (rc)
		cw_storage_page_release(page);
	return rc;
}

/* ---- the set -------------------------------------------------------------- */

void cw_storage_set_release(struct cw_storage_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].name);
		for (size_t k = 0; k < s->v[i].ntypes; k++)
			free(s->v[i].types[k]);
		free(s->v[i].types);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int cmp_bucket(const void *a, const void *b)
{
	return strcmp(((const struct cw_storage_bucket *)a)->name,
		      ((const struct cw_storage_bucket *)b)->name);
}

void cw_storage_set_finish(struct cw_storage_set *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), cmp_bucket);
	s->sorted = true;
}

struct cw_storage_bucket *cw_storage_set_find(const struct cw_storage_set *s,
					      const char *name)
{
	struct cw_storage_bucket key;

	if (!s || s->n == 0 || !name)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.name = (char *)name;
	if (s->sorted)
		return bsearch(&key, s->v, s->n, sizeof(*s->v), cmp_bucket);
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

static int bucket_add_type(struct cw_storage_bucket *b, const char *type)
{
	char **v;

	for (size_t k = 0; k < b->ntypes; k++)
		if (strcmp(b->types[k], type) == 0)
			return 0;
	if (b->ntypes >= CW_STORAGE_MAX_TYPES)
		return 0; /* far more than S3 has: ignore the rest */
	v = realloc(b->types, (b->ntypes + 1) * sizeof(*v));
	if (!v)
		return CW_ENOMEM;
	b->types = v;
	b->types[b->ntypes] = cw_strdup(type);
	if (!b->types[b->ntypes])
		return CW_ENOMEM;
	b->ntypes++;
	return 0;
}

int cw_storage_set_add(struct cw_storage_set *s, const struct cw_storage_page *page)
{
	/* pages come unsorted; a linear find keeps this simple and listings
	 * are small (one entry per bucket and storage class) */
	s->sorted = false;
	for (size_t i = 0; i < page->n; i++) {
		struct cw_storage_bucket *b = cw_storage_set_find(s, page->v[i].bucket);

		if (!b) {
			if (s->n == s->cap) {
				size_t cap = s->cap ? s->cap * 2 : 16;
				struct cw_storage_bucket *v = realloc(s->v, cap * sizeof(*v));

				if (!v)
					return CW_ENOMEM;
				s->v = v;
				s->cap = cap;
			}
			b = &s->v[s->n];
			memset(b, 0, sizeof(*b));
			b->bytes = NAN;
			b->name = cw_strdup(page->v[i].bucket);
			if (!b->name)
				return CW_ENOMEM;
			s->n++;
		}
		if (bucket_add_type(b, page->v[i].type))
			return CW_ENOMEM;
	}
	return 0;
}

size_t cw_storage_set_metrics(const struct cw_storage_set *s)
{
	size_t n = 0;

	for (size_t i = 0; s && i < s->n; i++)
		n += s->v[i].ntypes;
	return n;
}

/* ---- stored bytes ----------------------------------------------------------- */

int cw_storage_metric_init(struct cw_storage_metric *m, const char *type)
{
	memset(m, 0, sizeof(*m));
	m->def.namespace_ = cw_strdup(CW_STORAGE_NAMESPACE);
	m->def.name = cw_strdup(CW_STORAGE_METRIC);
	m->def.stat = cw_strdup("Average");
	m->def.unit = cw_strdup("Bytes");
	m->def.label = cw_strdup("AWS/S3 BucketSizeBytes Average");
	m->dims[0].name = cw_strdup("BucketName");
	m->dims[0].value = cw_strdup("{bucket}");
	m->dims[1].name = cw_strdup("StorageType");
	m->dims[1].value = cw_strdup(type);
	m->def.dims = m->dims;
	m->def.ndims = 2;
	m->def.per_bucket = true;
	if (!m->def.namespace_ || !m->def.name || !m->def.stat || !m->def.unit ||
	    !m->def.label || !m->dims[0].name || !m->dims[0].value || !m->dims[1].name ||
	    !m->dims[1].value) {
		cw_storage_metric_release(m);
		return CW_ENOMEM;
	}
	return 0;
}

void cw_storage_metric_release(struct cw_storage_metric *m)
{
	if (!m)
		return;
	free(m->def.namespace_);
	free(m->def.name);
	free(m->def.stat);
	free(m->def.unit);
	free(m->def.label);
	for (size_t i = 0; i < 2; i++) {
		free(m->dims[i].name);
		free(m->dims[i].value);
	}
	memset(m, 0, sizeof(*m));
}

void cw_storage_window(int64_t end, int64_t *wstart, int64_t *wend)
{
	*wend = cw_time_floor(end, DAY);
	*wstart = *wend - CW_STORAGE_LOOKBACK_DAYS * (int64_t)DAY;
}

double cw_storage_latest(const struct cw_series *s)
{
	for (size_t i = s ? s->n : 0; i > 0; i--)
		if (!isnan(s->values[i - 1]))
			return s->values[i - 1];
	return NAN;
}
