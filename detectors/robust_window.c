/*
 * robust_window.c - sorted sliding windows: ranks, insertion, replacement,
 * the MAD.  See robust_window.h.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "robust_window.h"

/* Windows up to SHORT values count ranks in one pass over all of them;
 * up to LONG values in two levels of blocks of BLOCK; longer ones halve. */
#define SHORT CW_SORTED_SHORT
#define BLOCK 16
#define LONG 2048
/* The MAD's split is looked for this many places either way of the last
 * one before a search */

/* First index of sorted a[0..n) whose value is not below x; branchless
 * halving (a conditional move, no jump), so noisy data costs no
 * mispredicted jumps. */
static size_t lower_bound(const double *a, size_t n, double x)
{
	size_t at = 0;

	if (n == 0)
		return 0;
	while (n > 1) {
		size_t half = n / 2;
		at = a[at + half - 1] < x ? at + half : at;
		n -= half;
	}
	return at + (a[at] < x);
}

/* lower_bound of two values in one loop: the two searches are independent,
 * so their loads overlap instead of waiting for each other. */
static void lower_bound2(const double *a, size_t n, double x, double y, size_t *ix,
			 size_t *iy)
{
	size_t ax = 0, ay = 0;

	while (n > 1) {
		size_t half = n / 2;
		ax = a[ax + half - 1] < x ? ax + half : ax;
		ay = a[ay + half - 1] < y ? ay + half : ay;
		n -= half;
	}
	*ix = ax + (a[ax] < x);
	*iy = ay + (a[ay] < y);
}

/* How many of the 16 values at a are below x (all of them present). */
static size_t count_block(const double *a, double x)
{
	cw_v2d vx = { x, x };
	cw_v2l c1 = { 0, 0 }, c2 = { 0, 0 };

	cw_v2d e[BLOCK / 2];

	memcpy(e, a, sizeof(e)); /* the whole block, then no loop to run */
	c1 += e[0] < vx;
	c2 += e[1] < vx;
	c1 += e[2] < vx;
	c2 += e[3] < vx;
	c1 += e[4] < vx;
	c2 += e[5] < vx;
	c1 += e[6] < vx;
	c2 += e[7] < vx;
	c1 += c2;
	return (size_t)-(c1[0] + c1[1]);
}

/* The first block that may hold values not below x: past the blocks whose
 * last value is below x; the last block ends at n (it overlaps the one
 * before it when n is not a multiple of BLOCK, n >= BLOCK). */
static size_t block_of(size_t c, size_t n)
{
	size_t at = c * BLOCK;
	return at + BLOCK <= n ? at : n - BLOCK;
}

/* The rank of x in sorted a[0..n), n >= BLOCK, in two levels: the blocks
 * whose last value is below x lie wholly below it, then one block is
 * counted. */
static size_t rank_blocks(const double *a, size_t n, double x)
{
	size_t c = 0;

	for (size_t k = BLOCK - 1; k < n; k += BLOCK)
		c += a[k] < x;
	size_t at = block_of(c, n);
	return at + count_block(a + at, x);
}

/* rank_blocks of two values: one pass over the blocks' last values, two
 * of them at a time. */
static void rank_blocks2(const double *a, size_t n, double x, double y, size_t *ix,
			 size_t *iy)
{
	cw_v2d vx = { x, x }, vy = { y, y };
	cw_v2l c1 = { 0, 0 }, c2 = { 0, 0 };
	size_t k = BLOCK - 1;

	for (; k + BLOCK < n; k += 2 * BLOCK) {
		cw_v2d e = { a[k], a[k + BLOCK] };
		c1 += e < vx;
		c2 += e < vy;
	}
	size_t cx = (size_t)-(c1[0] + c1[1]), cy = (size_t)-(c2[0] + c2[1]);
	if (k < n) {
		cx += a[k] < x;
		cy += a[k] < y;
	}
	size_t ax = block_of(cx, n), ay = block_of(cy, n);
	*ix = ax + count_block(a + ax, x);
	*iy = ay + count_block(a + ay, y);
}

size_t cw_sorted_rank(const double *a, size_t n, double x)
{
	size_t r, unused;

	if (n <= SHORT) {
		cw_count_below2(a, n, x, x, &r, &unused);
		return r;
	}
	return n <= LONG ? rank_blocks(a, n, x) : lower_bound(a, n, x);
}

void cw_sorted_insert(double *a, size_t n, double x)
{
	if (n > SHORT) {
		size_t at = cw_sorted_rank(a, n, x);
		memmove(a + at + 1, a + at, (n - at) * sizeof(double));
		a[at] = x;
		return;
	}
	size_t i = n;
	while (i > 0 && a[i - 1] > x) {
		a[i] = a[i - 1];
		i--;
	}
	a[i] = x;
}

void cw_sorted_replace_long(double *a, size_t n, double old, double x)
{
	size_t i, p;

	if (n <= LONG)
		rank_blocks2(a, n, old, x, &i, &p);
	else
		lower_bound2(a, n, old, x, &i, &p);
	p -= old < x; /* i: where old is; p: where x goes once old left */
	if (p > i)
		memmove(a + i, a + i + 1, (p - i) * sizeof(double));
	else if (p < i)
		memmove(a + p + 1, a + p, (i - p) * sizeof(double));
	a[p] = x;
}

/*
 * Median absolute deviation from the median m of sorted a[0..n).  The
 * distances to m on each side of it are sorted (left: m - a[l-1-i],
 * right: a[r+j] - m), so the k-th smallest distance is the k-th of two
 * sorted arrays: a binary search, O(log n).  One value of the window
 * changes between two slots, so the split between the two sides hardly
 * moves: the search starts from the last one (`hint`).  On uniform noise
 * it moves at most one place more than 9 times in 10, so the four
 * comparisons around it are made at once and settle it without a jump;
 * otherwise it looks a few places either way, then halves what is left.
 */
struct sides {
	const double *a;
	size_t l, r, n; /* a[..l) < m <= a[r..n) with l == r */
	double m;
};

static double side_a(const struct sides *sd, size_t i) { return sd->m - sd->a[sd->l - 1 - i]; }
static double side_b(const struct sides *sd, size_t j) { return sd->a[sd->r + j] - sd->m; }

/* lo <= i < hi <= min(na, k + 1): both sides have the index, and side a's
 * i-th distance is below the one of side b that it competes with */
static bool a_below(const struct sides *sd, size_t k, size_t i)
{
	return side_a(sd, i) < side_b(sd, k - i);
}

/* The k-th and (k+1)-th (0-based) smallest distances, in one search. */
static inline __attribute__((always_inline)) void
kth_distances(const struct sides *sd, size_t k, size_t *hint, double *kth, double *next)
{
	size_t na = sd->l, nb = sd->n - sd->r;
	size_t lo = k + 1 > nb ? k + 1 - nb : 0, hi = k + 1 < na ? k + 1 : na;
	/* the split is the first i in [lo, hi) where a_below fails (hi when
	 * none): narrow [lo, hi] around the last one */
	size_t h = *hint < lo ? lo : *hint > hi ? hi : *hint;
	int steps = 4;
	if (h >= lo + 2 && h + 1 < hi && isfinite(sd->m)) {
		/* most often the split moved one place at most: the
		 * comparisons around it at once, without a jump each */
		size_t below = (size_t)a_below(sd, k, h - 2) + a_below(sd, k, h - 1) +
			       a_below(sd, k, h) + a_below(sd, k, h + 1);
		if (below > 0 && below < 4) {
			lo = h - 2 + below;
			goto found;
		}
	}
	if (h < hi && a_below(sd, k, h)) {
		lo = h + 1;
		while (steps-- > 0 && lo < hi && a_below(sd, k, lo))
			lo++;
		if (lo < hi && !a_below(sd, k, lo))
			hi = lo;
	} else {
		hi = h;
		while (steps-- > 0 && hi > lo && !a_below(sd, k, hi - 1))
			hi--;
		if (hi > lo && a_below(sd, k, hi - 1))
			lo = hi;
	}
	while (lo < hi) {
		size_t i = lo + (hi - lo) / 2;
		bool right = a_below(sd, k, i);
		lo = right ? i + 1 : lo;
		hi = right ? hi : i;
	}
found:;
	size_t i = lo, j = k + 1 - lo;
	*hint = lo;
	double x = i > 0 ? side_a(sd, i - 1) : -INFINITY;
	double y = j > 0 ? side_b(sd, j - 1) : -INFINITY;
	*kth = x > y ? x : y;
	/* the next one: the smaller of what follows on either side */
	x = i < na ? side_a(sd, i) : INFINITY;
	y = j < nb ? side_b(sd, j) : INFINITY;
	*next = x < y ? x : y;
}

double cw_sorted_mad(const double *a, size_t n, double m, size_t *hint)
{
	struct sides sd = { a, 0, 0, n, m };
	double lo, hi;

	/* m is the median: where it starts is the middle, unless ties
	 * with it reach below the middle */
	size_t h = n / 2;
	sd.l = sd.r = h > 0 && a[h - 1] < m && a[h] >= m ? h : lower_bound(a, n, m);
	if (n % 2) {
		kth_distances(&sd, n / 2, hint, &lo, &hi);
		return lo;
	}
	kth_distances(&sd, n / 2 - 1, hint, &lo, &hi);
	return (lo + hi) / 2;
}
