/*
 * batch.h - pack the targets of one account-region into as few
 * GetMetricData calls as the limits allow.
 *
 * A call holds at most 500 queries AND at most 100,800 datapoints, where a
 * query over [start, end) at `period` asks for (end - start) / period
 * points.  So one call takes k = min(500, 100800 / points) queries and an
 * account-region with n targets needs ceil(n / k) calls, never one per
 * bucket.  Daily over 35 days: 35 points, k = 500.  Hourly over 35 days:
 * 840 points, k = 120.  5-minute over 15 days: 4,320 points, k = 23.
 *
 * When ONE query alone would pass 100,800 points (60 s over 90 days =
 * 129,600), the time range is split into the fewest equal windows that
 * fit, and every window gets its own calls: the batches of different
 * windows then hold the same targets, so their answers go into the same
 * series (cw_gmd_accumulate places points by time).  Run those batches one
 * after the other (one job per account-region does that naturally): they
 * share result slots.
 *
 * Query i of a batch has the id "q<i>" (cw_query_id in cloudwatch.h) and
 * fetches plan target b->targets[i].
 *
 * No state, no locking.
 */
#ifndef CW_BATCH_H
#define CW_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "plan.h"

#define CW_GMD_MAX_QUERIES 500
#define CW_GMD_MAX_POINTS 100800

struct cw_batch {
	int64_t start, end; /* this call's window, [start, end) */
	size_t window;      /* which window of the range (0 unless split) */
	size_t *targets;    /* owned: plan target indices, query i = targets[i] */
	size_t n;
};

struct cw_batch_list {
	struct cw_batch *v; /* owned */
	size_t n;
};

/* Number of time windows [start, end) is split into (1 unless one query
 * would pass the datapoint cap); 0 when the range is empty or invalid. */
size_t cw_batch_nwindows(int64_t start, int64_t end, int64_t period);
/* Window i of that split: period-aligned, together they tile the range. */
void cw_batch_window(int64_t start, int64_t end, int64_t period, size_t i,
		     int64_t *wstart, int64_t *wend);
/* Queries per call for a window of that length (1..500; 0 if invalid). */
size_t cw_batch_per_call(int64_t wstart, int64_t wend, int64_t period);
/* Calls needed for n targets of one account-region: the sum over windows
 * of ceil(n / per_call). */
size_t cw_batch_calls(size_t n, int64_t start, int64_t end, int64_t period);

/*
 * Split targets (borrowed; the indices are copied) over [start, end) into
 * batches, in order: window 0's batches first.  Returns 0, CW_EINVAL for a
 * bad range or period, CW_ENOMEM.  *out is empty on failure.
 */
int cw_batch_build(struct cw_batch_list *out, const size_t *targets, size_t n,
		   int64_t start, int64_t end, int64_t period);
void cw_batch_list_release(struct cw_batch_list *l);

/*
 * The JSON body of one GetMetricData call for batch b (new string in *body,
 * free() it; length in *len).  next_token: NULL for the first page, then
 * the page's next_token.
 */
int cw_batch_request(const struct cw_plan *plan, const struct cw_batch *b,
		     const char *next_token, char **body, size_t *len,
		     char *err, size_t errlen);

#endif
