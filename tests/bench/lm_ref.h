/*
 * lm_ref.h - the reference ListMetrics page parser (jansson tree), for the
 * tests and the fuzzer only: same contract as cw_lm_parse_at
 * (cloudwatch.h).  json_object_seed must have been called before threads
 * start.
 */
#ifndef CW_LM_REF_H
#define CW_LM_REF_H

#include <stddef.h>

#include "cloudwatch.h"

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
