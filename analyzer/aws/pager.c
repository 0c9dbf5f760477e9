/*
 * pager.c - repeated-NextToken and page-count guard (see pager.h).
 */
#include "pager.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

#define DEF_MAX_PAGES 10000

void cw_pager_init(struct cw_pager *p, size_t max_pages)
{
	memset(p, 0, sizeof(*p));
	p->max_pages = max_pages ? max_pages : DEF_MAX_PAGES;
}

void cw_pager_release(struct cw_pager *p)
{
	free(p->seen);
	p->seen = NULL;
	p->cap = p->n = 0;
}

/* FNV-1a 64 with a finaliser; never 0 (0 marks an empty slot). */
static uint64_t token_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h ? h : 1;
}

static int grow(struct cw_pager *p)
{
	size_t cap = p->cap ? p->cap * 2 : 64;
	uint64_t *v = calloc(cap, sizeof(*v));

	if (!v)
		return CW_ENOMEM;
	for (size_t i = 0; i < p->cap; i++) {
		size_t j;

		if (!p->seen[i])
			continue;
		for (j = p->seen[i] & (cap - 1); v[j]; j = (j + 1) & (cap - 1))
			;
		v[j] = p->seen[i];
	}
	free(p->seen);
	p->seen = v;
	p->cap = cap;
	return 0;
}

/* Insert h; 1 when it was there already. */
static int insert(struct cw_pager *p, uint64_t h)
{
	size_t j;

	if ((p->n + 1) * 2 > p->cap && grow(p))
		return CW_ENOMEM;
	for (j = h & (p->cap - 1); p->seen[j]; j = (j + 1) & (p->cap - 1))
		if (p->seen[j] == h)
			return 1;
	p->seen[j] = h;
	p->n++;
	return 0;
}

int cw_pager_next(struct cw_pager *p, const char *tok, const char *what,
		  char *err, size_t errlen)
{
	int rc;

	p->pages++;
	if (!tok || !*tok)
		return 0;
	rc = insert(p, token_hash(tok));
	if (rc < 0)
		return cw_fail(err, errlen, rc, "%s: out of memory", what);
	if (rc == 1)
		return cw_fail(err, errlen, CW_EINVAL, "%s answered a NextToken it had sent "
			       "before (page %zu): a pagination loop; gave up", what, p->pages);
	if (p->pages >= p->max_pages)
		return cw_fail(err, errlen, CW_ETOOBIG, "%s kept answering with a NextToken "
			       "for %zu pages; gave up", what, p->pages);
	return 0;
}

const char *cw_pager_code(int rc)
{
	return rc == CW_EINVAL ? "PaginationLoop" : rc == CW_ETOOBIG ? "TooManyPages"
							       : "NoMemory";
}
