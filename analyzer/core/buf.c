/*
 * buf.c - growable byte buffer with a hard cap (see buf.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"

void cw_buf_init(struct cw_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
	b->sink = NULL;
	b->sink_ctx = NULL;
	b->sink_at = 0;
}

void cw_buf_release(struct cw_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
}

void cw_buf_reset(struct cw_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static size_t buf_max(const struct cw_buf *b)
{
	return b->max ? b->max : CW_BUF_DEFAULT_MAX;
}

/* Make room for n more bytes plus the NUL; on failure the buffer is freed. */
static int buf_grow(struct cw_buf *b, size_t n)
{
	size_t need, alloc;
	char *p;

	if (n > buf_max(b) || b->len > buf_max(b) - n) {
		cw_buf_release(b);
		return CW_ETOOBIG;
	}
	need = b->len + n + 1;
	if (need <= b->alloc)
		return 0;
	alloc = b->alloc ? b->alloc : 64;
	while (alloc < need)
		alloc = alloc > SIZE_MAX / 2 ? need : alloc * 2;
	p = realloc(b->data, alloc);
	if (!p) {
		cw_buf_release(b);
		return CW_ENOMEM;
	}
	b->data = p;
	b->alloc = alloc;
	return 0;
}

int cw_buf_reserve(struct cw_buf *b, size_t n)
{
	return buf_grow(b, n);
}

int cw_buf_flush(struct cw_buf *b)
{
	int rc;

	if (!b->sink || b->len == 0)
		return 0;
	rc = b->sink(b->sink_ctx, b->data, b->len);
	if (rc) {
		b->sink = NULL;
		cw_buf_release(b);
		return rc;
	}
	cw_buf_reset(b);
	return 0;
}

/* After an append: stream the content out once it reached the threshold. */
static int buf_appended(struct cw_buf *b)
{
	if (b->sink && b->len >= b->sink_at)
		return cw_buf_flush(b);
	return 0;
}

int cw_buf_add(struct cw_buf *b, const void *p, size_t n)
{
	int rc = buf_grow(b, n);

	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return buf_appended(b);
}

int cw_buf_addstr(struct cw_buf *b, const char *s)
{
	return cw_buf_add(b, s, strlen(s));
}

int cw_buf_addch(struct cw_buf *b, char c)
{
	/* The usual case (escaped report text goes a byte at a time): room is
	 * there, the cap is not reached and neither is the sink's threshold. */
	if (b->len + 2 <= b->alloc && b->len < buf_max(b) &&
	    (!b->sink || b->len + 1 < b->sink_at)) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
		return 0;
	}
	return cw_buf_add(b, &c, 1);
}

int cw_buf_vprintf(struct cw_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n, rc;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return CW_EINVAL;
	rc = buf_grow(b, (size_t)n);
	if (rc)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return buf_appended(b);
}

int cw_buf_printf(struct cw_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = cw_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

char *cw_buf_detach(struct cw_buf *b, size_t *len)
{
	char *p = b->data;

	if (len)
		*len = b->len;
	if (!p)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	return p;
}

const char *cw_buf_str(const struct cw_buf *b)
{
	return b->data ? b->data : "";
}

void cw_buf_set_sink(struct cw_buf *b, cw_buf_sink_fn fn, void *ctx, size_t threshold)
{
	b->sink = fn;
	b->sink_ctx = fn ? ctx : NULL;
	b->sink_at = fn ? threshold : 0;
}
