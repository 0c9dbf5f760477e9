/*
 * check_robust_window.c - robust's sorted windows against a naive sorted
 * array, on random data: every window size from 1 to 300 and a few longer
 * ones (each way of finding ranks: one pass, blocks, halving), values drawn
 * from a handful (many duplicates, 0 and -0) or from a continuum, NaN as an
 * incoming value.  After every insertion and replacement the array must
 * equal the naive one bit for bit; the ranks, the percentiles and the MAD
 * (with its search started from the last split) must equal naive ones.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "robust_window.h"
#include "testlib.h"

/* A small deterministic generator (the test must not depend on libc's). */
static uint64_t rng = 88172645463325252ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double draw(int pool)
{
	static const double few[] = { 0.0, -0.0, 1.0, 2.0, 2.0, 3.5, 7.0, 1e9 };
	if (pool == 0)
		return few[next() % (sizeof(few) / sizeof(few[0]))];
	return (double)(next() % 1000000) / 7.0;
}

/* Naive: the first index whose value is not below x. */
static size_t naive_rank(const double *a, size_t n, double x)
{
	size_t k = 0;
	while (k < n && a[k] < x)
		k++;
	return k;
}

static void naive_put(double *a, size_t n, size_t at, double x)
{
	memmove(a + at + 1, a + at, (n - at) * sizeof(double));
	a[at] = x;
}

/* Naive insertion with the documented tie rule: after equal values in
 * windows of up to 48, before them in longer ones. */
static void naive_insert(double *a, size_t n, double x)
{
	size_t at = 0;
	if (n <= 48)
		while (at < n && !(a[at] > x))
			at++;
	else
		at = naive_rank(a, n, x);
	naive_put(a, n, at, x);
}

/* Naive replacement: the first value equal to old leaves (the first one
 * not below it), x enters before the first value not below it. */
static void naive_replace(double *a, size_t n, double old, double x)
{
	size_t i = naive_rank(a, n, old);
	memmove(a + i, a + i + 1, (n - 1 - i) * sizeof(double));
	naive_put(a, n - 1, naive_rank(a, n - 1, x), x);
}

static int cmp_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;
	return (a > b) - (a < b);
}

/* Naive MAD: every distance, sorted. */
static double naive_mad(const double *a, size_t n, double m)
{
	double *d = malloc(n * sizeof(double));
	ck_assert_ptr_nonnull(d);
	for (size_t k = 0; k < n; k++)
		d[k] = a[k] < m ? m - a[k] : a[k] - m;
	qsort(d, n, sizeof(double), cmp_double);
	double r = n % 2 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2;
	free(d);
	return r;
}

static void check_same(const double *fast, const double *slow, size_t n, size_t w, int pool)
{
	ck_assert_msg(memcmp(fast, slow, n * sizeof(double)) == 0,
		      "window %zu, pool %d: the arrays differ", w, pool);
}

/* Fill a window of w values one at a time, then slide it over `steps`
 * more, checking everything after each step. */
static void slide(size_t w, int pool, size_t steps)
{
	double *fifo = malloc(w * sizeof(double));
	double *fast = malloc((w + 1) * sizeof(double));
	double *slow = malloc((w + 1) * sizeof(double));
	size_t hint = 0, head = 0;
	ck_assert(fifo && fast && slow);

	for (size_t n = 0; n < w; n++) {
		double x = draw(pool);
		fifo[n] = x;
		cw_sorted_insert(fast, n, x);
		naive_insert(slow, n, x);
		check_same(fast, slow, n + 1, w, pool);
	}
	double pos = cw_quantile_pos(w, 50), pos90 = cw_quantile_pos(w, 90);
	for (size_t s = 0; s < steps; s++) {
		double x = draw(pool);
		cw_sorted_replace(fast, w, fifo[head], x);
		naive_replace(slow, w, fifo[head], x);
		fifo[head] = x;
		head = head + 1 == w ? 0 : head + 1;
		check_same(fast, slow, w, w, pool);

		double y = draw(pool);
		ck_assert_uint_eq(cw_sorted_rank(fast, w, y), naive_rank(slow, w, y));
		double m = cw_sorted_quantile(fast, w, pos);
		size_t lo = (size_t)pos;
		double want = lo + 1 >= w ? slow[w - 1]
					  : slow[lo] + (slow[lo + 1] - slow[lo]) * (pos - (double)lo);
		ck_assert(memcmp(&m, &want, sizeof(double)) == 0);
		ck_assert(cw_sorted_quantile(fast, w, pos90) <= slow[w - 1]);
		double mad = cw_sorted_mad(fast, w, m, &hint), mad0 = naive_mad(slow, w, m);
		ck_assert_msg(mad == mad0, "window %zu, pool %d, step %zu: MAD %.17g, naive %.17g",
			      w, pool, s, mad, mad0);
	}
	free(fifo);
	free(fast);
	free(slow);
}

START_TEST(test_windows_match_naive)
{
	for (size_t w = 1; w <= 300; w++)
		for (int pool = 0; pool < 2; pool++)
			slide(w, pool, w + 40);
	/* beyond the blocks: halving */
	const size_t longer[] = { 2047, 2048, 2049, 3001 };
	for (size_t k = 0; k < sizeof(longer) / sizeof(longer[0]); k++)
		for (int pool = 0; pool < 2; pool++)
			slide(longer[k], pool, 200);
}
END_TEST

/* NaN never enters a window (robust skips gaps), but an incoming NaN goes
 * to the front in every way of ranking, as a binary search puts it. */
START_TEST(test_nan_goes_first)
{
	const size_t sizes[] = { 1, 5, 48, 49, 100, 168, 288, 3000 };
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t w = sizes[k];
		double *a = malloc((w + 1) * sizeof(double));
		ck_assert_ptr_nonnull(a);
		for (size_t i = 0; i < w; i++)
			a[i] = (double)i;
		ck_assert_uint_eq(cw_sorted_rank(a, w, NAN), 0);
		double old = a[w / 2];
		cw_sorted_replace(a, w, old, NAN);
		ck_assert(isnan(a[0]));
		for (size_t i = 1; i < w; i++)
			ck_assert(a[i] == (double)(i - 1 < w / 2 ? i - 1 : i));
		free(a);
	}
}
END_TEST

static Suite *robust_window_suite(void)
{
	Suite *s = suite_create("robust_window");
	TCase *tc = tcase_create("robust_window");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_windows_match_naive);
	tcase_add_test(tc, test_nan_goes_first);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(robust_window_suite());
}
