/*
 * robust_window.h - the order statistics of robust's sliding windows: a
 * sorted array of the window's values, kept sorted one value at a time,
 * and its percentile and MAD.
 *
 * A window of n values is a plain sorted array a[0..n): reading a rank is
 * one load, which the percentile and the MAD's search do many times a
 * slot.  What costs is finding where a value goes: for the window sizes
 * robust uses (28, 168, 288 values) a binary search is a chain of
 * dependent loads, so the ranks are counted instead, in two levels (every
 * 16th value, then the 16 values of one block), with no load waiting for
 * another.  Ties: a value leaves from the first place that holds an equal
 * value and enters before the first value not below it, whatever the
 * method, so the array is the same bit for bit.
 */
#ifndef CW_ROBUST_WINDOW_H
#define CW_ROBUST_WINDOW_H

#include <stddef.h>
#include <string.h>

/* First index of sorted a[0..n) whose value is not below x. */
size_t cw_sorted_rank(const double *a, size_t n, double x);

/* Sorted a[0..n): insert x (a has room for n + 1).  Among values equal to
 * x (they differ only as 0 and -0) it goes after them in windows of up to
 * 48 values, before them in longer ones. */
void cw_sorted_insert(double *a, size_t n, double x);

/* Sorted a[0..n): replace the first value equal to `old` (present) by x;
 * only the values ranked between the two move. */
void cw_sorted_replace(double *a, size_t n, double old, double x);

/* cw_sorted_replace for a handful of values (n <= CW_SORTED_SMALL, the
 * same n every call): the new array is built in loops that always run n
 * times, so no jump depends on the data. */
#define CW_SORTED_SMALL 32
static inline void cw_sorted_replace_small(double *a, size_t n, double old, double x)
{
	double t[CW_SORTED_SMALL];
	size_t i = 0, p = 0;

	for (size_t k = 0; k < n; k++) {
		i += a[k] < old;
		p += a[k] < x;
	}
	p -= old < x; /* i: where old is; p: where x goes once old left */
	for (size_t k = 0; k < n; k++) {
		/* below both or above both: stays; between: moves one place
		 * towards where old was */
		size_t from = k + (k >= i && k < p) - (k > p && k <= i);
		t[k] = a[from];
	}
	t[p] = x;
	memcpy(a, t, n * sizeof(double));
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
