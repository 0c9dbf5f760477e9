/*
 * shortest.cc - cw_shortest (shortest.h) through Dragonbox's to_decimal:
 * shortest, nearest, ties to even, the same rounding as strtod.
 */
#include <dragonbox/dragonbox.h>

#include "shortest.h"

void cw_shortest(double v, uint64_t *digits, int *exp10)
{
	auto d = jkj::dragonbox::to_decimal(v, jkj::dragonbox::policy::sign::ignore,
					    jkj::dragonbox::policy::trailing_zero::remove);

	*digits = d.significand;
	*exp10 = d.exponent;
}
