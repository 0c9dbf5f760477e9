/*
 * shortest.h - the shortest decimal digits that read back to a double.
 *
 * A thin C face on Dragonbox (Debian: libdragonbox-dev), the only C++ in
 * the tree (shortest.cc).  cw_fmt_plain (units.h) lays the digits out.
 */
#ifndef CW_SHORTEST_H
#define CW_SHORTEST_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * For a finite, nonzero v: |v| reads back from digits * 10^exp10, digits
 * has no trailing zero, no decimal with fewer digits reads back to v, and
 * among those of that length it is the one nearest v (ties to even).  The
 * sign of v is ignored.
 */
void cw_shortest(double v, uint64_t *digits, int *exp10);

#ifdef __cplusplus
}
#endif

#endif
