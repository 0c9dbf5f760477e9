/*
 * gmd_ref.h - the reference GetMetricData page parser (jansson tree), for
 * the tests, the fuzzer and cw-microbench only: same contract as
 * cw_gmd_accumulate (cloudwatch.h).  json_object_seed must have been
 * called before threads start.
 */
#ifndef CW_GMD_REF_H
#define CW_GMD_REF_H

#include <stddef.h>

#include "cloudwatch.h"

int cw_gmd_accumulate_ref(struct cw_gmd_result *r, size_t nr, const size_t *map, size_t nq,
			  const char *body, size_t len, struct cw_gmd_page *page,
			  char *err, size_t errlen);

#endif
