/*
 * batch.c - GetMetricData batching under the 500-query and
 * 100,800-datapoint limits (see batch.h for the arithmetic).
 *
 * No state, no locking.
 */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

#include "cloudwatch.h"
#include "err.h"

/* Points one query asks for over [start, end); 0 when invalid. */
static uint64_t batch_points(int64_t start, int64_t end, int64_t period)
{
	if (period <= 0 || end <= start)
		return 0;
	/* end - start cannot overflow for any sane epoch range; guard anyway */
	if (start < 0 && end > INT64_MAX + start)
		return 0;
	return ((uint64_t)(end - start) + (uint64_t)period - 1) / (uint64_t)period;
}

size_t cw_batch_nwindows(int64_t start, int64_t end, int64_t period)
{
	uint64_t p = batch_points(start, end, period);

	if (p == 0)
		return 0;
	return (size_t)((p + CW_GMD_MAX_POINTS - 1) / CW_GMD_MAX_POINTS);
}

void cw_batch_window(int64_t start, int64_t end, int64_t period, size_t i,
		     int64_t *wstart, int64_t *wend)
{
	uint64_t p = batch_points(start, end, period);
	size_t c = cw_batch_nwindows(start, end, period);
	uint64_t per; /* periods per window: equal shares, the last may be short */

	*wstart = *wend = start;
	if (c == 0 || i >= c)
		return;
	per = (p + c - 1) / c;
	*wstart = start + (int64_t)(per * i) * period;
	*wend = start + (int64_t)(per * (i + 1)) * period;
	if (*wend > end || i == c - 1)
		*wend = end;
}

size_t cw_batch_per_call(int64_t wstart, int64_t wend, int64_t period)
{
	uint64_t p = batch_points(wstart, wend, period);
	uint64_t k;

	if (p == 0 || p > CW_GMD_MAX_POINTS)
		return 0;
	k = CW_GMD_MAX_POINTS / p;
	return (size_t)(k > CW_GMD_MAX_QUERIES ? CW_GMD_MAX_QUERIES : k);
}

size_t cw_batch_calls(size_t n, int64_t start, int64_t end, int64_t period)
{
	size_t c = cw_batch_nwindows(start, end, period), calls = 0;

	for (size_t i = 0; i < c && n > 0; i++) {
		int64_t ws, we;
		size_t k;

		cw_batch_window(start, end, period, i, &ws, &we);
		k = cw_batch_per_call(ws, we, period);
		if (k == 0)
			return 0;
		calls += (n + k - 1) / k;
	}
	return calls;
}

void cw_batch_list_release(struct cw_batch_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].targets);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int cw_batch_build(struct cw_batch_list *out, const size_t *targets, size_t n,
		   int64_t start, int64_t end, int64_t period)
{
	size_t c = cw_batch_nwindows(start, end, period);
	size_t total = cw_batch_calls(n, start, end, period), nb = 0;

	memset(out, 0, sizeof(*out));
	if (c == 0)
		return CW_EINVAL;
	if (n == 0)
		return 0;
	out->v = calloc(total, sizeof(*out->v));
	if (!out->v)
		return CW_ENOMEM;
	for (size_t w = 0; w < c; w++) {
		int64_t ws, we;
		size_t k;

		cw_batch_window(start, end, period, w, &ws, &we);
		k = cw_batch_per_call(ws, we, period);
		for (size_t i = 0; i < n; i += k) {
			struct cw_batch *b = &out->v[nb];
			size_t m = n - i < k ? n - i : k;

			b->targets = malloc(m * sizeof(*b->targets));
			if (!b->targets) {
				out->n = nb;
				cw_batch_list_release(out);
				return CW_ENOMEM;
			}
			memcpy(b->targets, targets + i, m * sizeof(*b->targets));
			b->n = m;
			b->start = ws;
			b->end = we;
			b->window = w;
			nb++;
		}
	}
	out->n = nb;
	return 0;
}

int cw_batch_request(const struct cw_plan *plan, const struct cw_batch *b,
		     const char *next_token, char **body, size_t *len,
		     char *err, size_t errlen)
{
	struct cw_gmd_query *q;
	int rc;

	*body = NULL;
	q = calloc(b->n ? b->n : 1, sizeof(*q));
	if (!q)
		return cw_fail(err, errlen, CW_ENOMEM, "GetMetricData request: out of memory");
	for (size_t i = 0; i < b->n; i++) {
		const struct cw_plan_target *t;

		if (b->targets[i] >= plan->ntargets) {
			free(q);
			return cw_fail(err, errlen, CW_EINVAL,
				       "GetMetricData request: target %zu: no such target",
				       b->targets[i]);
		}
		t = &plan->targets[b->targets[i]];
		q[i].metric = t->metric;
		q[i].bucket = t->bucket;
	}
	rc = cw_gmd_request(body, len, q, b->n, b->start, b->end, plan->period, next_token,
			    err, errlen);
	free(q);
	return rc;
}
