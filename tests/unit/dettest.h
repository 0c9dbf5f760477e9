/*
 * dettest.h - helpers the detector suites share (check_detectors,
 * check_robust, check_newhigh): build a detector from a spec, collect its
 * judgements, judge a whole series.  Header only: each suite is one file.
 */
#ifndef CW_DETTEST_H
#define CW_DETTEST_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "detector.h"
#include "err.h"

/* The judgements a run emitted, in order (free .j). */
struct got {
	struct cw_judgement *j;
	size_t n, cap;
};

static inline int collect(void *ctx, const struct cw_judgement *j)
{
	struct got *g = ctx;
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 64;
		g->j = realloc(g->j, g->cap * sizeof(*g->j));
		ck_assert_ptr_nonnull(g->j);
	}
	g->j[g->n++] = *j;
	return 0;
}

/* Build one detector from "name:key=value..." or fail the test. */
static inline struct cw_detector_conf *det(const char *spec)
{
	struct cw_detector_conf *c = NULL;
	size_t n = 0;
	char err[CW_ERRBUF] = "";
	ck_assert_msg(cw_detector_parse_list(spec, &c, &n, err, sizeof(err)) == 0, "%s: %s",
		      spec, err);
	ck_assert_uint_eq(n, 1);
	return c;
}

static inline void det_free(struct cw_detector_conf *c)
{
	cw_detector_conf_release(c);
	free(c);
}

/* Every slot of v (NaN = gap) judged; g.j[k] is slot k when no slot is a
 * gap.  start: epoch seconds of slot 0. */
static inline struct got judge_all(const char *spec, const double *v, size_t n, int64_t start,
				   int64_t period)
{
	struct cw_detector_conf *c = det(spec);
	struct cw_series s;
	struct got g = { NULL, 0, 0 };
	ck_assert_int_eq(cw_series_init(&s, start, period, n), 0);
	memcpy(s.values, v, n * sizeof(double));
	ck_assert_int_eq(c->ops->run(c->state, c->p, &s, 0, n, collect, &g), 0);
	cw_series_release(&s);
	det_free(c);
	return g;
}

#endif
