/*
 * pager.h - the guard every paged AWS call (NextToken) goes through.
 *
 * A service that answers with a NextToken it has already sent (a loop, by
 * a bug or a hostile endpoint) would keep a client paging forever, and
 * every page of GetMetricData costs money.  The pager remembers a hash of
 * every token of one listing and stops at the first repeat, and caps the
 * number of pages.
 *
 *   struct cw_pager pg;
 *   cw_pager_init(&pg, 10000);
 *   do { ...call with next...; next = page's token;
 *        rc = cw_pager_next(&pg, next, "ListMetrics", err, errlen);
 *   } while (rc == 0 && next);
 *   cw_pager_release(&pg);
 *
 * Threads: a pager belongs to one listing on one thread.
 */
#ifndef CW_PAGER_H
#define CW_PAGER_H

#include <stddef.h>
#include <stdint.h>

struct cw_pager {
	uint64_t *seen;   /* open-addressing set of token hashes (0 = empty) */
	size_t cap, n;
	size_t pages;     /* pages answered so far */
	size_t max_pages;
};

/* max_pages 0: 10000. */
void cw_pager_init(struct cw_pager *p, size_t max_pages);
void cw_pager_release(struct cw_pager *p);

/*
 * One more page was answered, with next token tok (NULL or "": the last
 * page).  Returns 0 (go on when tok is set); CW_EINVAL when tok was
 * already answered before in this listing (err: "WHAT answered a NextToken
 * it had sent before (page N): a pagination loop; gave up"); CW_ETOOBIG
 * after max_pages pages; CW_ENOMEM.
 */
int cw_pager_next(struct cw_pager *p, const char *tok, const char *what,
		  char *err, size_t errlen);

/* The failure code for a reports' row: "PaginationLoop" / "TooManyPages". */
const char *cw_pager_code(int rc);

#endif
