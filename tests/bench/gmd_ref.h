/*
 * gmd_ref.h - the reference GetMetricData and ListMetrics page parsers
 * (jansson trees), for the tests, the fuzzer and cw-microbench only: same
 * contracts as cw_gmd_accumulate and cw_lm_parse_at (cloudwatch.h).  json_object_seed must have been
 * called before threads start.
 */
#ifndef CW_GMD_REF_H
#define CW_GMD_REF_H

#include <stddef.h>

#include "cloudwatch.h"

int cw_gmd_accumulate_ref(struct cw_gmd_result *r, size_t nr, const size_t *map, size_t nq,
			  const char *body, size_t len, struct cw_gmd_page *page,
			  char *err, size_t errlen);

/*
 * Feed body twice (a second page on top of the first) to cw_gmd_accumulate
 * and to the reference, each into 4 fresh results over 7 days from
 * 1700006400 at a daily period through the map q0->r3, q1->r0, q2->r2.
 * 0 when both agree: the same return code every time and, on success,
 * the same slots (bit for bit), statuses, messages, counts and page;
 * otherwise -1 with what differed in why.
 */
int cw_gmd_ref_compare(const char *body, size_t len, char *why, size_t whylen);

/* The ListMetrics reference: same contract as cw_lm_parse_at. */
int cw_lm_parse_at_ref(struct cw_lm_page *page, const struct cw_metric_def *m,
		       const char *account, const char *region, const char *body, size_t len,
		       char *err, size_t errlen);

/*
 * Parse body with cw_lm_parse_at and with the reference: 0 when both agree
 * (the same return code and, on success, the same names, skipped count and
 * next token; on failure the same message, or both a syntax error; a
 * syntax error of the scanner on a body with a NUL byte, which jansson
 * may skip after a number, is no difference), otherwise -1 with what
 * differed in why.
 */
int cw_lm_ref_compare(const struct cw_metric_def *m, const char *account, const char *region,
		      const char *body, size_t len, char *why, size_t whylen);

#endif
