/*
 * idxsort.h - a stable sort of 32-bit indices by a comparison that looks
 * the items up itself.
 *
 * For arrays of millions of large records (a run's results): sorting 4-byte
 * indices needs 8 bytes of scratch per item, where sorting the records
 * themselves needs a second copy of them.
 */
#ifndef CW_IDXSORT_H
#define CW_IDXSORT_H

#include <stddef.h>
#include <stdint.h>

/* <0, 0, >0 as a before, equal to, after b (the items numbered a and b). */
typedef int (*cw_idx_cmp)(const void *ctx, uint32_t a, uint32_t b);

/*
 * Sort ix[0..n) by cmp, stably (equal items keep their order in ix), in
 * O(n log n) comparisons.  0, or CW_ENOMEM (the scratch of n indices could
 * not be had) with ix as it was.
 */
int cw_idxsort(uint32_t *ix, size_t n, cw_idx_cmp cmp, const void *ctx);

#endif
