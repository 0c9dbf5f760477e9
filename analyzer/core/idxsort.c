/*
 * idxsort.c - stable bottom-up merge sort of 32-bit indices (idxsort.h).
 */
#include "idxsort.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

int cw_idxsort(uint32_t *ix, size_t n, cw_idx_cmp cmp, const void *ctx)
{
	uint32_t *a = ix, *tmp;

	if (n < 2)
		return 0;
	tmp = malloc(n * sizeof(*tmp));
	if (!tmp)
		return CW_ENOMEM;
	for (size_t width = 1; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t i = lo, j = mid, o = lo;

			/* the right one only when strictly before: stable */
			while (i < mid && j < hi)
				tmp[o++] = cmp(ctx, a[j], a[i]) < 0 ? a[j++] : a[i++];
			while (i < mid)
				tmp[o++] = a[i++];
			while (j < hi)
				tmp[o++] = a[j++];
		}
		uint32_t *t = a;
		a = tmp;
		tmp = t;
	}
	if (a != ix) { /* the last pass wrote the scratch */
		memcpy(ix, a, n * sizeof(*ix));
		tmp = a;
	}
	free(tmp);
	return 0;
}
