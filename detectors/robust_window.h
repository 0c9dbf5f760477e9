/*
 * robust_window.h - the order statistics of robust's sliding windows: a
 * sorted array of the window's values, kept sorted one value at a time,
 * and its percentile and MAD.
 *
 * A window of n values is a plain sorted array a[0..n): reading a rank is
 * one load, which the percentile and the MAD's search do many times a
 * slot.  What costs is finding where a value goes and moving the values
 * between where one left and where the other enters.  A binary search is
 * a chain of dependent loads, so ranks are counted instead: in one pass
 * over windows of up to 48 values (robust's daily 28), in two levels over
 * windows of up to 2048 (every 16th value, then the 16 values of one
 * block: hourly 168, 5-minute 288), with no load waiting for another;
 * longer windows halve.  Ties: in a replacement a value leaves from the
 * first place that holds an equal value and enters before the first value
 * not below it, whatever the method, so the array is the same bit for bit
 * (equal values differ only as 0 and -0).
 */
#ifndef CW_ROBUST_WINDOW_H
#define CW_ROBUST_WINDOW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* First index of sorted a[0..n) whose value is not below x. */
size_t cw_sorted_rank(const double *a, size_t n, double x);

/* Sorted a[0..n): insert x (a has room for n + 1).  Among values equal to
 * x (they differ only as 0 and -0) it goes after them in windows of up to
 * 48 values, before them in longer ones. */
void cw_sorted_insert(double *a, size_t n, double x);

/* Windows up to this many values count ranks in one pass over them all. */
#define CW_SORTED_SHORT 48
/* ... and up to this many move their values without a jump (robust's
 * weekly profile: 4 or 8 values a phase). */
#define CW_SORTED_TINY 8

typedef double cw_v2d __attribute__((vector_size(16)));
typedef long long cw_v2l __attribute__((vector_size(16)));

/* How many of a[0..n) are below x and below y: one pass, two lanes at a
 * time (a comparison gives -1 per value below). */
static inline void cw_count_below2(const double *a, size_t n, double x, double y, size_t *cx,
				   size_t *cy)
{
	cw_v2d vx = { x, x }, vy = { y, y };
	cw_v2l c1 = { 0, 0 }, c2 = { 0, 0 }, c3 = { 0, 0 }, c4 = { 0, 0 };
	size_t k = 0;

	for (; k + 4 <= n; k += 4) {
		cw_v2d e, f;
		memcpy(&e, a + k, sizeof(e));
		memcpy(&f, a + k + 2, sizeof(f));
		c1 += e < vx;
		c2 += e < vy;
		c3 += f < vx;
		c4 += f < vy;
	}
	for (; k + 2 <= n; k += 2) {
		cw_v2d e;
		memcpy(&e, a + k, sizeof(e));
		c1 += e < vx;
		c2 += e < vy;
	}
	c1 += c3;
	c2 += c4;
	size_t i = (size_t)-(c1[0] + c1[1]), p = (size_t)-(c2[0] + c2[1]);
	if (k < n) {
		i += a[k] < x;
		p += a[k] < y;
	}
	*cx = i;
	*cy = p;
}

/* cw_sorted_replace of a window longer than CW_SORTED_SHORT. */
void cw_sorted_replace_long(double *a, size_t n, double old, double x);

/* cw_sorted_replace of a window of up to CW_SORTED_TINY values.  How far
 * the values move is noise: each place takes its own value or a
 * neighbour's, chosen by masks (the bits are moved as integers), without a
 * jump. */
static inline __attribute__((always_inline)) void cw_sorted_replace_tiny(double *a, size_t n,
									   double old, double x)
{
	uint64_t prev = 0, cur, nxt, v;
	size_t i, p;

	cw_count_below2(a, n, old, x, &i, &p);
	p -= old < x; /* i: where old is; p: where x goes once old left */
	/* places [i, p) take the next value, (p, i] the one before */
	size_t nl = (p - i) & -(size_t)(p > i), nr = (i - p) & -(size_t)(i > p);
	memcpy(&cur, a, sizeof(cur));
	for (size_t q = 0; q < n; q++) {
		uint64_t left = -(uint64_t)(q - i < nl);
		uint64_t right = -(uint64_t)(q - p - 1 < nr);
		memcpy(&nxt, a + (q + 1 < n ? q + 1 : q), sizeof(nxt));
		v = (nxt & left) | (prev & right) | (cur & ~(left | right));
		memcpy(a + q, &v, sizeof(v));
		prev = cur;
		cur = nxt;
	}
	a[p] = x;
}

/* Sorted a[0..n): replace the first value equal to `old` (present) by x;
 * only the values ranked between the two move.  Short windows are done
 * here, inline: a loop costs less than the calls. */
static inline void cw_sorted_replace(double *a, size_t n, double old, double x)
{
	size_t i, p;

	if (n > CW_SORTED_SHORT) {
		cw_sorted_replace_long(a, n, old, x);
		return;
	}
	if (n <= CW_SORTED_TINY) {
		/* robust's profile: 4 or 8 values (hourly, daily), known
		 * here so that the loops unroll */
		if (n == 4)
			cw_sorted_replace_tiny(a, 4, old, x);
		else if (n == 8)
			cw_sorted_replace_tiny(a, 8, old, x);
		else
			cw_sorted_replace_tiny(a, n, old, x);
		return;
	}
	cw_count_below2(a, n, old, x, &i, &p);
	p -= old < x; /* i: where old is; p: where x goes once old left */
	for (; i < p; i++)
		a[i] = a[i + 1];
	for (; i > p; i--)
		a[i] = a[i - 1];
	a[p] = x;
}

/* Where the pct-th percentile of n sorted values sits (kept per window
 * length by the caller: the division is the costly part). */
static inline double cw_quantile_pos(size_t n, double pct)
{
	return (double)(n - 1) * pct / 100.0;
}

/* The value at position pos of sorted a[0..n), interpolated. */
static inline double cw_sorted_quantile(const double *a, size_t n, double pos)
{
	size_t lo = (size_t)pos;
	if (lo + 1 >= n)
		return a[n - 1];
	return a[lo] + (a[lo + 1] - a[lo]) * (pos - (double)lo);
}

/* Median absolute deviation from the median m of sorted a[0..n), n >= 1;
 * *hint is where the last search split the two sides (0 at first). */
double cw_sorted_mad(const double *a, size_t n, double m, size_t *hint);

#endif
