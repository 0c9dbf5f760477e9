/*
 * buf.h - a growable byte buffer with a hard size cap.
 *
 * The content is always NUL-terminated (data[len] == 0) once anything was
 * added.  An append that would pass the cap, or that cannot allocate, frees
 * the buffer and returns CW_ETOOBIG / CW_ENOMEM, so a caller that sees an
 * error never works on a truncated body.  Used for HTTP bodies (the cap
 * guards against a broken or hostile server), canonical requests and
 * report text.
 */
#ifndef CW_BUF_H
#define CW_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct cw_buf {
	char *data;   /* owned; NULL while empty */
	size_t len;   /* bytes used, excluding the NUL */
	size_t alloc; /* bytes allocated */
	size_t max;   /* hard cap on len; 0 means CW_BUF_DEFAULT_MAX */
};

#define CW_BUF_DEFAULT_MAX ((size_t)256 * 1024 * 1024)
#define CW_BUF_INIT { NULL, 0, 0, 0 }

void cw_buf_init(struct cw_buf *b, size_t max);
/* Free what b holds and make it empty again (the cap is kept). */
void cw_buf_release(struct cw_buf *b);
/* Keep the allocation, drop the content. */
void cw_buf_reset(struct cw_buf *b);

int cw_buf_add(struct cw_buf *b, const void *p, size_t n);
int cw_buf_addstr(struct cw_buf *b, const char *s);
int cw_buf_addch(struct cw_buf *b, char c);
int cw_buf_printf(struct cw_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int cw_buf_vprintf(struct cw_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/*
 * Hand the content to the caller (new reference: free() it) and leave b
 * empty.  Returns an empty malloc'd string when b was empty; NULL only when
 * that allocation fails.
 */
char *cw_buf_detach(struct cw_buf *b, size_t *len);

/* Always a valid C string, "" when empty (borrowed). */
const char *cw_buf_str(const struct cw_buf *b);

#endif
