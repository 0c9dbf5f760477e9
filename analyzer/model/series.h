/*
 * series.h - one metric's history as a dense, period-aligned array.
 *
 * Slot i covers [start + i*period, start + (i+1)*period).  A slot without a
 * datapoint is a gap and holds NaN: a missing period is never a silent zero.
 * Only slots that end at or before complete_end are complete; detectors
 * judge complete slots only, so today's partial day is never compared with
 * full days.
 *
 * The dense layout makes every time window a fixed number of slots, which
 * keeps detectors O(n) with rolling sums.
 */
#ifndef CW_SERIES_H
#define CW_SERIES_H

#include <stddef.h>
#include <stdint.h>

struct cw_series {
	int64_t start;        /* UTC epoch seconds of slot 0, a multiple of period */
	int64_t period;       /* seconds, > 0 */
	size_t n;             /* number of slots */
	double *values;       /* n values (owned); NaN = gap */
	int64_t complete_end; /* slots ending after this are partial */
	/* Estimated USD of one unit (a byte) at the marginal price, for the
	 * detectors' dollar gate; 0 = not priced (the default). */
	double usd_per_unit;
};

/* An empty series over [start, start + n*period), every slot a gap. */
int cw_series_init(struct cw_series *s, int64_t start, int64_t period, size_t n);
void cw_series_release(struct cw_series *s);

/* Time of slot i's start. */
static inline int64_t cw_series_time(const struct cw_series *s, size_t i)
{
	return s->start + (int64_t)i * s->period;
}

/*
 * Number of complete slots: slots [0, k) end at or before complete_end.
 * Detectors never judge a slot at index >= k.
 */
size_t cw_series_complete(const struct cw_series *s);

/*
 * Put a datapoint at time t: the slot that contains t.  Points outside
 * [start, end) are ignored (returns 1); several points in one slot: the
 * values are combined by `combine` (CW_COMBINE_SUM for counts and bytes
 * rolled up to a longer period, CW_COMBINE_LAST otherwise).
 */
enum cw_combine { CW_COMBINE_LAST, CW_COMBINE_SUM, CW_COMBINE_MAX };
int cw_series_put(struct cw_series *s, int64_t t, double v, enum cw_combine how);

/*
 * Build a series from unordered (t, v) points: the period is the most
 * common positive gap between sorted timestamps unless period > 0 is
 * given; start is the first point's floor; complete_end is the end of the
 * last slot holding a point (a file holds finished periods only).
 * Timestamps and values arrays are borrowed.
 */
int cw_series_from_points(struct cw_series *s, const int64_t *t,
			  const double *v, size_t n, int64_t period,
			  char *err, size_t errlen);

/* Number of non-gap slots among [from, to). */
size_t cw_series_count(const struct cw_series *s, size_t from, size_t to);

#endif
