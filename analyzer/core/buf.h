/*
 * buf.h - a growable byte buffer with a hard size cap.
 *
 * The content is always NUL-terminated (data[len] == 0) once anything was
 * added.  An append that would pass the cap, or that cannot allocate, frees
 * the buffer and returns CW_ETOOBIG / CW_ENOMEM, so a caller that sees an
 * error never works on a truncated body.  Used for HTTP bodies (the cap
 * guards against a broken or hostile server), canonical requests and
 * report text.
 *
 * A buffer may stream instead (cw_buf_set_sink): once the content reaches
 * a threshold it is handed to a sink (a file) and the buffer is emptied,
 * so a large report never sits in memory whole.  Code that appends to such
 * a buffer must never read back or change what it appended earlier.
 */
#ifndef CW_BUF_H
#define CW_BUF_H

#include <stdarg.h>
#include <stddef.h>

/* Takes len bytes of a streaming buffer's content (borrowed): 0 or a cw_err. */
typedef int (*cw_buf_sink_fn)(void *ctx, const char *data, size_t len);

struct cw_buf {
	char *data;   /* owned; NULL while empty */
	size_t len;   /* bytes used, excluding the NUL */
	size_t alloc; /* bytes allocated */
	size_t max;   /* hard cap on len; 0 means CW_BUF_DEFAULT_MAX */
	cw_buf_sink_fn sink; /* NULL: keep everything (the usual case) */
	void *sink_ctx;
	size_t sink_at;      /* hand the content to sink once len reaches this */
};

#define CW_BUF_DEFAULT_MAX ((size_t)256 * 1024 * 1024)
#define CW_BUF_INIT { NULL, 0, 0, 0, NULL, NULL, 0 }

void cw_buf_init(struct cw_buf *b, size_t max);
/* Free what b holds and make it empty again (the cap is kept). */
void cw_buf_release(struct cw_buf *b);
/* Keep the allocation, drop the content. */
void cw_buf_reset(struct cw_buf *b);

/* Make room for n more bytes now (the allocation grows as appends would
 * grow it), so appends up to that size never move the content.  Fails,
 * and frees b, as an append of n bytes would. */
int cw_buf_reserve(struct cw_buf *b, size_t n);

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

/*
 * Stream b: whenever an append leaves len >= threshold, the content goes
 * to fn(ctx, data, len) and b is emptied (its allocation kept).  When fn
 * fails, the append returns fn's error, b is freed and the sink dropped.
 * fn = NULL stops streaming.  The cap then limits only what is buffered.
 */
void cw_buf_set_sink(struct cw_buf *b, cw_buf_sink_fn fn, void *ctx, size_t threshold);

/* Hand whatever is buffered to the sink now (no-op without a sink or when
 * empty): 0 or the sink's error (b freed as above). */
int cw_buf_flush(struct cw_buf *b);

#endif
