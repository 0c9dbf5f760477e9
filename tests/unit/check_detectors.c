/*
 * check_detectors.c - the registry (parameters, units, bounds, the CLI list
 * syntax, --help) and each detector against hand-computed expectations:
 * gaps, NaN, constant series, values exactly at the limit, directions; the
 * rolling computations against naive ones on random data; a throughput
 * measurement (printed, not asserted); and the real NAB series.
 */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "detector.h"
#include "dettest.h"
#include "err.h"
#include "seriesio.h"
#include "testlib.h"
#include "timeutil.h"
#include "units.h"

#define DAY 86400
#define HOUR 3600

/* ---- helpers ---------------------------------------------------------- */

/* A series from a literal array (NaN = gap), all slots complete. */
static void mkseries(struct cw_series *s, int64_t period, const double *v, size_t n)
{
	ck_assert_int_eq(cw_series_init(s, 100 * DAY, period, n), 0);
	for (size_t i = 0; i < n; i++)
		s->values[i] = v[i];
}

/* Judge slots [from, to); returns the judgements (caller frees .j). */
static struct got judge(const struct cw_detector_conf *c, const struct cw_series *s,
			size_t from, size_t to)
{
	struct got g = { NULL, 0, 0 };
	ck_assert_int_eq(c->ops->run(c->state, c->p, s, from, to, collect, &g), 0);
	return g;
}

/* Judge only slot i; asserts exactly one judgement. */
static struct cw_judgement judge1(const char *spec, const double *v, size_t n,
				  int64_t period, size_t i)
{
	struct cw_detector_conf *c = det(spec);
	struct cw_series s;
	mkseries(&s, period, v, n);
	struct got g = judge(c, &s, i, i + 1);
	ck_assert_uint_eq(g.n, 1);
	struct cw_judgement j = g.j[0];
	ck_assert_int_eq(j.period_start, cw_series_time(&s, i));
	free(g.j);
	cw_series_release(&s);
	det_free(c);
	return j;
}

#define ck_near(a, b) ck_assert_msg(fabs((a) - (b)) <= 1e-9 * (1 + fabs(b)), \
				    "%.17g != %.17g", (double)(a), (double)(b))

/* ---- registry --------------------------------------------------------- */

START_TEST(test_registry_lookup)
{
	const char *names[] = { "threshold", "mean7d", "zscore", "seasonal", "robust",
				"newhigh" };
	for (size_t i = 0; i < 6; i++) {
		ck_assert_ptr_nonnull(cw_detector_find(names[i]));
		ck_assert_ptr_eq(cw_detectors[i], cw_detector_find(names[i]));
	}
	ck_assert_ptr_null(cw_detectors[6]);
	ck_assert_ptr_null(cw_detector_find("nope"));
	ck_assert_str_eq(cw_common_params[0].name, "direction");
	ck_assert_str_eq(cw_common_params[1].name, "severity");
	ck_assert_str_eq(cw_common_params[2].name, "min_history");
	ck_assert_str_eq(cw_common_params[3].name, "min_excess_usd");
	ck_assert_ptr_null(cw_common_params[4].name);

	const struct cw_detector_ops *m = cw_detector_find("mean7d");
	ck_assert_uint_eq(cw_detector_nparams(m), 7);
	size_t idx = 99;
	ck_assert_str_eq(cw_detector_param(m, "factor", &idx)->name, "factor");
	ck_assert_uint_eq(idx, CW_P_FIRST_OWN + 1);
	ck_assert_ptr_nonnull(cw_detector_param(m, "severity", &idx));
	ck_assert_uint_eq(idx, CW_P_SEVERITY);
	ck_assert_ptr_null(cw_detector_param(m, "limit", &idx));
	ck_assert_str_eq(cw_detector_param_at(m, 6)->name, "min_excess");
	ck_assert_ptr_null(cw_detector_param_at(m, 7));
	for (size_t d = 0; cw_detectors[d]; d++)
		ck_assert_uint_le(cw_detector_nparams(cw_detectors[d]), CW_DET_MAX_PARAMS);

	struct cw_detector_conf c;
	cw_detector_conf_defaults(&c, m);
	ck_assert(c.p[CW_P_DIRECTION] == CW_DIR_UP);
	ck_assert(c.p[CW_P_SEVERITY] == CW_SEV_WARNING);
	ck_assert(c.p[CW_P_MIN_HISTORY] == 7 * DAY);
	ck_assert(c.p[CW_P_FIRST_OWN] == 7 * DAY && c.p[CW_P_FIRST_OWN + 1] == 2.0 && c.p[CW_P_FIRST_OWN + 2] == 0);
	cw_detector_conf_defaults(&c, cw_detector_find("threshold"));
	ck_assert(c.p[CW_P_MIN_HISTORY] == 0);
	ck_assert(c.p[CW_P_FIRST_OWN] == 100e9);

	ck_assert_str_eq(cw_status_name(CW_STATUS_OK), "ok");
	ck_assert_str_eq(cw_status_name(CW_STATUS_ANOMALY), "anomaly");
	ck_assert_str_eq(cw_status_name(CW_STATUS_INSUFFICIENT), "insufficient_history");
	ck_assert_str_eq(cw_status_name(CW_STATUS_FAILED), "failed");
	ck_assert_str_eq(cw_severity_name(CW_SEV_INFO), "info");
	ck_assert_str_eq(cw_severity_name(CW_SEV_CRITICAL), "critical");
}
END_TEST

START_TEST(test_registry_set)
{
	struct cw_detector_conf c;
	char err[CW_ERRBUF];

	cw_detector_conf_defaults(&c, cw_detector_find("threshold"));
	ck_assert_int_eq(cw_detector_conf_set(&c, "limit", "1.5TiB", err, sizeof(err)), 0);
	ck_assert(c.p[CW_P_FIRST_OWN] == 1.5 * 1099511627776.0);
	ck_assert_int_eq(cw_detector_conf_set(&c, "limit", "100GB", err, sizeof(err)), 0);
	ck_assert(c.p[CW_P_FIRST_OWN] == 100e9);
	ck_assert_int_eq(cw_detector_conf_set(&c, "limit", "42", err, sizeof(err)), 0);
	ck_assert(c.p[CW_P_FIRST_OWN] == 42);
	ck_assert_int_eq(cw_detector_conf_set(&c, "direction", "DOWN", err, sizeof(err)), 0);
	ck_assert(c.p[CW_P_DIRECTION] == CW_DIR_DOWN);
	ck_assert_int_eq(cw_detector_conf_set(&c, "severity", "critical", err, sizeof(err)), 0);
	ck_assert(c.p[CW_P_SEVERITY] == CW_SEV_CRITICAL);
	ck_assert_int_eq(cw_detector_conf_set(&c, "min_history", "2w", err, sizeof(err)), 0);
	ck_assert(c.p[CW_P_MIN_HISTORY] == 14 * DAY);

	ck_assert_int_eq(cw_detector_conf_set(&c, "direction", "sideways", err, sizeof(err)),
			 CW_EINVAL);
	ck_assert_str_eq(err, "direction: must be one of up, down, both, got 'sideways'");
	ck_assert_int_eq(cw_detector_conf_set(&c, "limt", "1", err, sizeof(err)), CW_EINVAL);
	ck_assert_str_eq(err, "threshold: no parameter 'limt' (did you mean 'limit'?)");
	ck_assert_int_eq(cw_detector_conf_set(&c, "limit", "-1", err, sizeof(err)), CW_EINVAL);
	ck_assert_str_eq(err, "limit: must be between 0 and 1e+21, got -1");
	ck_assert_int_eq(cw_detector_conf_set(&c, "limit", "lots", err, sizeof(err)), CW_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "limit: "));
	ck_assert(c.p[CW_P_FIRST_OWN] == 42); /* unchanged by failures */

	cw_detector_conf_defaults(&c, cw_detector_find("mean7d"));
	ck_assert_int_eq(cw_detector_conf_set(&c, "factor", "0.5", err, sizeof(err)), CW_EINVAL);
	ck_assert_str_eq(err, "factor: must be between 1 and 1000, got 0.5");
	ck_assert_int_eq(cw_detector_conf_set(&c, "factor", "1000", err, sizeof(err)), 0);
	ck_assert_int_eq(cw_detector_conf_set(&c, "window", "1s", err, sizeof(err)), CW_EINVAL);
	ck_assert_str_eq(err, "window: must be between 1m and 366d, got '1s'");
	ck_assert_int_eq(cw_detector_conf_set(&c, "window", "36h", err, sizeof(err)), 0);
	ck_assert(c.p[CW_P_FIRST_OWN] == 36 * HOUR);
}
END_TEST

START_TEST(test_parse_list)
{
	struct cw_detector_conf *v = NULL;
	size_t n = 0;
	char err[CW_ERRBUF] = "";

	ck_assert_int_eq(cw_detector_parse_list(
				 "threshold:limit=100GB,zscore, mean7d:factor=3:min_excess=1GB",
				 &v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0].ops->name, "threshold");
	ck_assert(v[0].p[CW_P_FIRST_OWN] == 100e9);
	ck_assert_str_eq(v[1].ops->name, "zscore");
	ck_assert(v[1].p[CW_P_FIRST_OWN] == 28 * DAY && v[1].p[CW_P_FIRST_OWN + 1] == 3.0);
	ck_assert_str_eq(v[2].ops->name, "mean7d");
	ck_assert(v[2].p[CW_P_FIRST_OWN + 1] == 3.0 && v[2].p[CW_P_FIRST_OWN + 2] == 1e9);
	for (size_t i = 0; i < n; i++)
		cw_detector_conf_release(&v[i]);
	free(v);

	struct {
		const char *list, *msg;
	} bad[] = {
		{ "zscor", "detectors: unknown detector 'zscor' (did you mean 'zscore'?)" },
		{ "zscore,,mean7d", "detectors: empty item in 'zscore,,mean7d'" },
		{ ",zscore", "detectors: empty item in ',zscore'" },
		{ "", "detectors: no detector named" },
		{ "mean7d:factor", "detectors: mean7d: expected key=value, got 'factor'" },
		{ "mean7d:factor=0", "detectors: mean7d: factor: must be between 1 and 1000, "
				     "got 0" },
		{ "zscore,threshold:direction=both",
		  "detectors: threshold: direction: 'both' needs two limits; use two threshold "
		  "entries" },
		{ "seasonal:weeks=2.5", "detectors: seasonal: weeks: must be a whole number, "
					"got 2.5" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = (void *)1;
		n = 7;
		ck_assert_int_eq(cw_detector_parse_list(bad[i].list, &v, &n, err, sizeof(err)),
				 CW_EINVAL);
		ck_assert_str_eq(err, bad[i].msg);
		ck_assert_ptr_null(v);
		ck_assert_uint_eq(n, 0);
	}
}
END_TEST

START_TEST(test_print_help)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	cw_detector_print_help(f);
	fclose(f);
	for (size_t d = 0; cw_detectors[d]; d++) {
		ck_assert_ptr_nonnull(strstr(buf, cw_detectors[d]->name));
		for (const struct cw_param_spec *p = cw_detectors[d]->params; p->name; p++)
			ck_assert_ptr_nonnull(strstr(buf, p->name));
	}
	ck_assert_ptr_nonnull(strstr(buf, "min_history"));
	ck_assert_ptr_nonnull(strstr(buf, "up, down, both (default up)"));
	free(buf);
}
END_TEST

/* ---- threshold -------------------------------------------------------- */

START_TEST(test_threshold)
{
	double v[] = { 50, 100, 100.5, NAN, 0 };
	struct cw_detector_conf *c = det("threshold:limit=100:severity=critical");
	struct cw_series s;
	mkseries(&s, DAY, v, 5);
	struct got g = judge(c, &s, 0, 5);
	ck_assert_uint_eq(g.n, 4); /* the gap yields nothing */
	ck_assert_int_eq(g.j[0].status, CW_STATUS_OK);
	ck_assert_int_eq(g.j[1].status, CW_STATUS_OK); /* exactly at the limit */
	ck_assert_int_eq(g.j[2].status, CW_STATUS_ANOMALY);
	ck_assert_int_eq(g.j[2].severity, CW_SEV_CRITICAL);
	ck_assert(g.j[2].value == 100.5 && g.j[2].baseline == 100 && g.j[2].limit == 100);
	ck_assert(g.j[2].score == 1.005);
	ck_assert_int_eq(g.j[3].period_start, cw_series_time(&s, 4));
	free(g.j);
	det_free(c);

	c = det("threshold:limit=1GB:direction=down");
	s.values[0] = 1e9 - 1;
	s.values[1] = 1e9;
	g = judge(c, &s, 0, 2);
	ck_assert_int_eq(g.j[0].status, CW_STATUS_ANOMALY);
	ck_assert_int_eq(g.j[1].status, CW_STATUS_OK);
	free(g.j);
	det_free(c);

	c = det("threshold:limit=0");
	s.values[0] = 0;
	s.values[1] = 1;
	g = judge(c, &s, 0, 2);
	ck_assert_int_eq(g.j[0].status, CW_STATUS_OK);
	ck_assert_int_eq(g.j[1].status, CW_STATUS_ANOMALY);
	ck_assert(isnan(g.j[1].score));
	free(g.j);
	det_free(c);
	cw_series_release(&s);
}
END_TEST

/* ---- mean7d ----------------------------------------------------------- */

START_TEST(test_mean7d)
{
	double v[9] = { 10, 10, 10, 10, 10, 10, 10, 20, 20.5 };
	struct cw_judgement j;

	/* mean of days 0..6 = 10, limit 2 x 10 = 20: exactly at the limit is ok */
	j = judge1("mean7d", v, 8, DAY, 7);
	ck_assert_int_eq(j.status, CW_STATUS_OK);
	ck_assert(j.baseline == 10 && j.limit == 20 && j.score == 2);
	/* day 8: window days 1..7 = (6 x 10 + 20) / 7 */
	j = judge1("mean7d", v, 9, DAY, 8);
	ck_near(j.baseline, 80.0 / 7);
	ck_near(j.limit, 160.0 / 7);
	ck_assert_int_eq(j.status, CW_STATUS_OK);
	v[7] = 20.5;
	j = judge1("mean7d", v, 8, DAY, 7);
	ck_assert_int_eq(j.status, CW_STATUS_ANOMALY);
	ck_assert_int_eq(j.severity, CW_SEV_WARNING);
	/* min_excess moves the limit to baseline + 15 = 25 */
	j = judge1("mean7d:min_excess=15", v, 8, DAY, 7);
	ck_assert(j.limit == 25);
	ck_assert_int_eq(j.status, CW_STATUS_OK);
	v[7] = 25.25;
	j = judge1("mean7d:min_excess=15", v, 8, DAY, 7);
	ck_assert_int_eq(j.status, CW_STATUS_ANOMALY);

	/* gaps in the window are skipped, not zeros: (5 x 10 + 40) / 6 = 15 */
	double g[8] = { 10, NAN, 10, 10, 40, 10, 10, 31 };
	j = judge1("mean7d", g, 8, DAY, 7);
	ck_assert(j.baseline == 15 && j.limit == 30);
	ck_assert_int_eq(j.status, CW_STATUS_ANOMALY);
	/* a window of 3 days looks at days 4..6 only: (40 + 10 + 10) / 3 = 20 */
	j = judge1("mean7d:window=3d", g, 8, DAY, 7);
	ck_assert(j.baseline == 20);
	ck_assert_int_eq(j.status, CW_STATUS_OK);

	/* down: limit baseline / 2 = 5; 5 is ok, 4.5 is not */
	double d[8] = { 10, 10, 10, 10, 10, 10, 10, 5 };
	j = judge1("mean7d:direction=down", d, 8, DAY, 7);
	ck_assert(j.limit == 5);
	ck_assert_int_eq(j.status, CW_STATUS_OK);
	d[7] = 4.5;
	j = judge1("mean7d:direction=down", d, 8, DAY, 7);
	ck_assert_int_eq(j.status, CW_STATUS_ANOMALY);
	j = judge1("mean7d", d, 8, DAY, 7);
	ck_assert_int_eq(j.status, CW_STATUS_OK);
	j = judge1("mean7d:direction=both", d, 8, DAY, 7);
	ck_assert_int_eq(j.status, CW_STATUS_ANOMALY);
	ck_assert(j.limit == 5);
	d[7] = 21;
	j = judge1("mean7d:direction=both", d, 8, DAY, 7);
	ck_assert_int_eq(j.status, CW_STATUS_ANOMALY);
	ck_assert(j.limit == 20);

	/* an empty window: insufficient, no baseline */
	double e[4] = { 5, NAN, NAN, 9 };
	j = judge1("mean7d:window=2d", e, 4, DAY, 3);
	ck_assert_int_eq(j.status, CW_STATUS_INSUFFICIENT);
	ck_assert(isnan(j.baseline) && j.value == 9);
	/* slot 0 has no history at all */
	j = judge1("mean7d", e, 4, DAY, 0);
	ck_assert_int_eq(j.status, CW_STATUS_INSUFFICIENT);
	/* a zero baseline: any value above min_excess is anomalous, score NaN */
	double z[3] = { 0, 0, 1 };
	j = judge1("mean7d", z, 3, DAY, 2);
	ck_assert_int_eq(j.status, CW_STATUS_ANOMALY);
	ck_assert(isnan(j.score));
}
END_TEST

START_TEST(test_mean7d_window_is_time)
{
	/* 5-minute data, window 1h = 12 slots: slots 0..11 are 1, 12..23 are 3 */
	double v[25];
	for (size_t i = 0; i < 25; i++)
		v[i] = i < 12 ? 1 : 3;
	struct cw_judgement j = judge1("mean7d:window=1h", v, 25, 300, 24);
	ck_assert(j.baseline == 3);
	j = judge1("mean7d:window=1h", v, 25, 300, 18); /* slots 6..17: 6x1 + 6x3 */
	ck_assert(j.baseline == 2);
	/* hourly data, 7d window = 168 slots */
	double *h = calloc(200, sizeof(double));
	for (size_t i = 0; i < 200; i++)
		h[i] = i < 32 ? 1000 : 1;
	j = judge1("mean7d", h, 200, HOUR, 199); /* slots 31..198: one 1000 */
	ck_near(j.baseline, (1000.0 + 167) / 168);
	free(h);
}
END_TEST

/* ---- zscore ----------------------------------------------------------- */

START_TEST(test_zscore)
{
	/* window [10,10,12,12,11]: mean 11, sample sd 1, limit 11 + 3 x 1 = 14 */
	double v[6] = { 10, 10, 12, 12, 11, 14 };
	struct cw_judgement j = judge1("zscore:window=5d", v, 6, DAY, 5);
	ck_assert(j.baseline == 11 && j.limit == 14 && j.score == 3);
	ck_assert_int_eq(j.status, CW_STATUS_OK); /* exactly at the limit */
	v[5] = 14.5;
	j = judge1("zscore:window=5d", v, 6, DAY, 5);
	ck_assert_int_eq(j.status, CW_STATUS_ANOMALY);
	ck_assert(j.score == 3.5);
	/* min_excess larger than 3 sd takes over: limit 11 + 5 */
	j = judge1("zscore:window=5d:min_excess=5", v, 6, DAY, 5);
	ck_assert(j.limit == 16);
	ck_assert_int_eq(j.status, CW_STATUS_OK);
	/* down and both */
	v[5] = 8;
	j = judge1("zscore:window=5d:direction=down", v, 6, DAY, 5);
	ck_assert(j.limit == 8 && j.score == -3);
	ck_assert_int_eq(j.status, CW_STATUS_OK);
	v[5] = 7.5;
	j = judge1("zscore:window=5d:direction=both", v, 6, DAY, 5);
	ck_assert_int_eq(j.status, CW_STATUS_ANOMALY);
	j = judge1("zscore:window=5d:limit=4", v, 6, DAY, 5);
	ck_assert_int_eq(j.status, CW_STATUS_OK);
	/* gaps skipped: window [10,NaN,12,NaN,11] -> mean 11, sd 1 */
	double g[6] = { 10, NAN, 12, NAN, 11, 13.5 };
	j = judge1("zscore:window=5d", g, 6, DAY, 5);
	ck_assert(j.baseline == 11 && j.score == 2.5);
	/* fewer than two datapoints: insufficient */
	double one[3] = { NAN, 4, 100 };
	j = judge1("zscore", one, 3, DAY, 2);
	ck_assert_int_eq(j.status, CW_STATUS_INSUFFICIENT);
}
END_TEST

START_TEST(test_zscore_constant)
{
	/* a constant window has sd 0: equal is ok with z 0; anything else in the
	 * direction is anomalous with score NaN, unless within min_excess */
	double v[8] = { 5e12, 5e12, 5e12, 5e12, 5e12, 5e12, 5e12, 5e12 };
	struct cw_judgement j = judge1("zscore", v, 8, DAY, 7);
	ck_assert_int_eq(j.status, CW_STATUS_OK);
	ck_assert(j.score == 0 && j.baseline == 5e12 && j.limit == 5e12);
	v[7] = 5e12 + 1;
	j = judge1("zscore", v, 8, DAY, 7);
	ck_assert_int_eq(j.status, CW_STATUS_ANOMALY);
	ck_assert(isnan(j.score));
	j = judge1("zscore:min_excess=1", v, 8, DAY, 7);
	ck_assert_int_eq(j.status, CW_STATUS_OK);
	j = judge1("zscore:direction=down", v, 8, DAY, 7);
	ck_assert_int_eq(j.status, CW_STATUS_OK);
	v[7] = 5e12 - 2;
	j = judge1("zscore:direction=down:min_excess=1", v, 8, DAY, 7);
	ck_assert_int_eq(j.status, CW_STATUS_ANOMALY);
	j = judge1("zscore", v, 8, DAY, 7);
	ck_assert_int_eq(j.status, CW_STATUS_OK);

	/* a long constant series judged over every slot stays exactly at sd 0
	 * through the rolling updates (0.1 is not exact in binary) */
	struct cw_detector_conf *c = det("zscore:window=1h");
	struct cw_series s;
	ck_assert_int_eq(cw_series_init(&s, 0, 60, 5000), 0);
	for (size_t i = 0; i < s.n; i++)
		s.values[i] = i < 100 ? 7.3 : 0.1;
	struct got g = judge(c, &s, 0, s.n);
	for (size_t i = 200; i < g.n; i++) {
		ck_assert_int_eq(g.j[i].status, CW_STATUS_OK);
		ck_assert_msg(g.j[i].score == 0, "slot %zu: z %g", i, g.j[i].score);
	}
	free(g.j);
	cw_series_release(&s);
	det_free(c);
}
END_TEST

/* Naive two-pass mean and sample sd over non-gap slots of [lo, hi). */
static void naive_stats(const double *x, size_t lo, size_t hi, double *mean, double *sd,
			size_t *cnt)
{
	double sum = 0, m2 = 0;
	size_t n = 0;
	for (size_t i = lo; i < hi; i++)
		if (!isnan(x[i])) {
			sum += x[i];
			n++;
		}
	*cnt = n;
	*mean = n ? sum / (double)n : NAN;
	for (size_t i = lo; i < hi; i++)
		if (!isnan(x[i]))
			m2 += (x[i] - *mean) * (x[i] - *mean);
	*sd = n > 1 ? sqrt(m2 / (double)(n - 1)) : NAN;
}

START_TEST(test_rolling_matches_naive)
{
	/* byte-sized values (1e12 plus noise) with 10% gaps: the rolling mean
	 * and z must match a naive two-pass computation, from any start slot */
	size_t n = 3000, w = 48;
	struct cw_series s;
	ck_assert_int_eq(cw_series_init(&s, 0, HOUR, n), 0);
	srand(12345);
	for (size_t i = 0; i < n; i++) {
		double r = (double)rand() / RAND_MAX;
		s.values[i] = r < 0.1 ? NAN : 1e12 + 1e6 * ((double)rand() / RAND_MAX);
		if (i % 500 == 250)
			s.values[i] = 5e12; /* spikes */
	}
	struct cw_detector_conf *z = det("zscore:window=2d");
	struct cw_detector_conf *m = det("mean7d:window=2d");
	size_t starts[] = { 0, 1, 47, 48, 49, 1234 };
	for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
		struct got gz = judge(z, &s, starts[k], n);
		struct got gm = judge(m, &s, starts[k], n);
		ck_assert_uint_eq(gz.n, gm.n);
		for (size_t a = 0; a < gz.n; a++) {
			size_t i = (size_t)(gz.j[a].period_start / HOUR);
			double mean, sd;
			size_t cnt;
			naive_stats(s.values, i > w ? i - w : 0, i, &mean, &sd, &cnt);
			if (cnt == 0) {
				ck_assert_int_eq(gm.j[a].status, CW_STATUS_INSUFFICIENT);
				continue;
			}
			ck_near(gm.j[a].baseline, mean);
			if (cnt < 2) {
				ck_assert_int_eq(gz.j[a].status, CW_STATUS_INSUFFICIENT);
				continue;
			}
			ck_near(gz.j[a].baseline, mean);
			double zn = (s.values[i] - mean) / sd;
			ck_assert_msg(fabs(gz.j[a].score - zn) <= 1e-7 * (1 + fabs(zn)),
				      "slot %zu: z %.17g, naive %.17g", i, gz.j[a].score, zn);
			ck_assert_int_eq(gz.j[a].status,
					 zn > 3 ? CW_STATUS_ANOMALY : CW_STATUS_OK);
		}
		free(gz.j);
		free(gm.j);
	}
	det_free(z);
	det_free(m);
	cw_series_release(&s);
}
END_TEST

/* ---- seasonal --------------------------------------------------------- */

START_TEST(test_seasonal)
{
	/* daily; judged day 21 sees days 14, 7, 0 (same weekday) */
	double v[22];
	for (size_t i = 0; i < 22; i++)
		v[i] = 1; /* other weekdays do not matter */
	v[0] = 100;
	v[7] = 1000; /* a one-off spike in the history */
	v[14] = 120;
	v[21] = 240;
	struct cw_judgement j = judge1("seasonal:weeks=3", v, 22, DAY, 21);
	ck_assert(j.baseline == 120 && j.limit == 240 && j.score == 2);
	ck_assert_int_eq(j.status, CW_STATUS_OK); /* exactly at the limit */
	v[21] = 241;
	j = judge1("seasonal:weeks=3", v, 22, DAY, 21);
	ck_assert_int_eq(j.status, CW_STATUS_ANOMALY);
	j = judge1("seasonal:weeks=3:min_excess=200", v, 22, DAY, 21);
	ck_assert(j.limit == 320);
	ck_assert_int_eq(j.status, CW_STATUS_OK);
	/* two weeks: their mean (weeks 1 and 2 = 120 and 1000) */
	j = judge1("seasonal:weeks=2", v, 22, DAY, 21);
	ck_assert(j.baseline == 560);
	/* a gap in one week: the others */
	v[14] = NAN;
	j = judge1("seasonal:weeks=3", v, 22, DAY, 21);
	ck_assert(j.baseline == 550);
	/* down */
	v[14] = 120;
	v[21] = 59;
	j = judge1("seasonal:weeks=3:direction=down", v, 22, DAY, 21);
	ck_assert(j.limit == 60);
	ck_assert_int_eq(j.status, CW_STATUS_ANOMALY);
	/* hourly: 168 slots back */
	double *h = calloc(2 * 168 + 6, sizeof(double));
	h[5] = 10;
	h[168 + 5] = 30;
	h[2 * 168] = 1;
	j = judge1("seasonal:weeks=4", h, 2 * 168 + 6, HOUR, 2 * 168 + 5);
	ck_assert(j.baseline == 20);
	free(h);
	/* no week back yet, or a period that does not divide a week */
	j = judge1("seasonal", v, 22, DAY, 6);
	ck_assert_int_eq(j.status, CW_STATUS_INSUFFICIENT);
	j = judge1("seasonal", v, 22, 2 * DAY, 21);
	ck_assert_int_eq(j.status, CW_STATUS_INSUFFICIENT);
}
END_TEST

/* ---- throughput (measured and printed, never asserted) ---------------- */

START_TEST(test_throughput)
{
	size_t n = 2 * 1000 * 1000;
	struct cw_series s;
	ck_assert_int_eq(cw_series_init(&s, 0, 60, n), 0);
	srand(7);
	for (size_t i = 0; i < n; i++)
		s.values[i] = i % 97 == 0 ? NAN : 1e9 * ((double)rand() / RAND_MAX);
	/* each detector at the periods it is made for */
	const struct {
		const char *spec;
		int64_t period;
	} runs[] = {
		{ "threshold", 60 }, { "mean7d", 60 }, { "zscore", 60 }, { "seasonal", 60 },
		{ "newhigh", 60 }, { "robust", 86400 }, { "robust", 3600 },
		{ "robust:min_period=0", 300 },
	};
	struct got g = { NULL, 0, 0 };
	g.cap = n;
	g.j = malloc(n * sizeof(*g.j));
	ck_assert_ptr_nonnull(g.j);
	memset(g.j, 0, n * sizeof(*g.j)); /* fault the pages in before timing */
	for (size_t k = 0; k < sizeof(runs) / sizeof(runs[0]); k++) {
		struct cw_detector_conf *c = det(runs[k].spec);
		char per[32];
		s.period = runs[k].period;
		g.n = 0;
		/* CPU time, not wall time: the build machine is shared */
		struct timespec t0, t1;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
		ck_assert_int_eq(c->ops->run(c->state, c->p, &s, 0, n, collect, &g), 0);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
		double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		printf("throughput: %-20s %-4s %zu slots in %.0f ms of CPU = %.1f M slots/s\n",
		       runs[k].spec, cw_fmt_duration(runs[k].period, per, sizeof(per)), n, ms,
		       ms > 0 ? (double)n / ms / 1000.0 : INFINITY);
		det_free(c);
	}
	free(g.j);
	cw_series_release(&s);
}
END_TEST

/* ---- the real NAB series ---------------------------------------------- */

struct nab_score {
	size_t windows, hit, in, out;
};

/* Judge every period of one NAB file with one detector and score the
 * anomalies against the labelled windows. */
static struct nab_score nab_eval(const char *file, json_t *wins, const char *spec)
{
	struct nab_score sc = { 0, 0, 0, 0 };
	char *path = cw_test_data(file);
	struct cw_named_series *v = NULL;
	size_t n = 0;
	char err[CW_ERRBUF] = "";

	ck_assert_msg(cw_seriesio_read(path, 0, &v, &n, err, sizeof(err)) == 0, "%s", err);
	const char *base = strrchr(file, '/') + 1;
	json_t *w = json_object_get(wins, base);
	ck_assert_msg(json_is_array(w), "no windows for %s", base);
	sc.windows = json_array_size(w);
	int64_t lo[8], hi[8];
	bool hit[8] = { false };
	ck_assert_uint_le(sc.windows, 8);
	for (size_t i = 0; i < sc.windows; i++) {
		ck_assert_int_eq(cw_time_parse(json_string_value(json_array_get(
						       json_array_get(w, i), 0)), &lo[i]), 0);
		ck_assert_int_eq(cw_time_parse(json_string_value(json_array_get(
						       json_array_get(w, i), 1)), &hi[i]), 0);
	}
	struct cw_detector_conf *c = det(spec);
	/* what cw_run_judge does in all-periods mode: from the first slot
	 * with min_history of data before it */
	size_t from = 0, cnt = 0;
	while (from < v[0].s.n && (double)cnt * (double)v[0].s.period < c->p[CW_P_MIN_HISTORY])
		cnt += !isnan(v[0].s.values[from++]);
	struct got g = judge(c, &v[0].s, from, cw_series_complete(&v[0].s));
	for (size_t a = 0; a < g.n; a++) {
		if (g.j[a].status != CW_STATUS_ANOMALY)
			continue;
		int64_t t = g.j[a].period_start;
		bool inside = false;
		for (size_t i = 0; i < sc.windows; i++)
			if (t + v[0].s.period > lo[i] && t <= hi[i]) {
				inside = true;
				hit[i] = true;
			}
		if (inside)
			sc.in++;
		else
			sc.out++;
	}
	for (size_t i = 0; i < sc.windows; i++)
		sc.hit += hit[i];
	free(g.j);
	det_free(c);
	cw_named_series_free(v, n);
	free(path);
	return sc;
}

static json_t *nab_windows(void)
{
	char *wp = cw_test_data("nab-aws/windows.json");
	json_error_t je;
	json_t *wins = json_load_file(wp, 0, &je);
	ck_assert_msg(wins != NULL, "%s: %s", wp, je.text);
	free(wp);
	return wins;
}

START_TEST(test_nab_flags_labelled_window)
{
	if (!cw_test_data_present("nab-aws/windows.json")) {
		printf("SKIPPED: NAB series not found (set CW_TESTDATA to the shared test data)\n");
		return;
	}
	json_t *wins = nab_windows();
	struct nab_score sc = nab_eval("nab-aws/ec2_cpu_utilization_24ae8d.csv", wins,
				       "zscore:window=1d:limit=4");
	ck_assert_uint_ge(sc.hit, 1);
	sc = nab_eval("nab-aws/ec2_cpu_utilization_24ae8d.csv", wins, "mean7d:window=1d:factor=3");
	ck_assert_uint_ge(sc.hit, 1);
	json_decref(wins);
}
END_TEST

START_TEST(test_nab_all_files)
{
	/* a survey for the documentation: printed, asserted only for sanity */
	if (!cw_test_data_present("nab-aws/windows.json")) {
		printf("SKIPPED: NAB series not found (set CW_TESTDATA to the shared test data)\n");
		return;
	}
	json_t *wins = nab_windows();
	const char *specs[] = {
		"threshold:limit=90", "mean7d", "mean7d:window=1d:factor=3",
		"zscore", "zscore:window=1d:limit=4", "seasonal:weeks=1:min_history=7d",
	};
	const char *key;
	json_t *val;
	for (size_t k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
		struct nab_score tot = { 0, 0, 0, 0 };
		size_t files = 0, noisy = 0;
		json_object_foreach(wins, key, val) {
			char file[256];
			snprintf(file, sizeof(file), "nab-aws/%s", key);
			struct nab_score sc = nab_eval(file, wins, specs[k]);
			tot.windows += sc.windows;
			tot.hit += sc.hit;
			tot.in += sc.in;
			tot.out += sc.out;
			files++;
			noisy += sc.out > 0;
		}
		ck_assert_uint_eq(files, 17);
		printf("nab: %-34s windows hit %2zu/%zu, anomalous periods inside %5zu, "
		       "outside %5zu (in %zu files)\n", specs[k], tot.hit, tot.windows, tot.in,
		       tot.out, noisy);
	}
	json_decref(wins);
}
END_TEST

static Suite *detectors_suite(void)
{
	Suite *s = suite_create("detectors");
	TCase *tc = tcase_create("registry");
	tcase_add_test(tc, test_registry_lookup);
	tcase_add_test(tc, test_registry_set);
	tcase_add_test(tc, test_parse_list);
	tcase_add_test(tc, test_print_help);
	suite_add_tcase(s, tc);
	tc = tcase_create("detectors");
	tcase_add_test(tc, test_threshold);
	tcase_add_test(tc, test_mean7d);
	tcase_add_test(tc, test_mean7d_window_is_time);
	tcase_add_test(tc, test_zscore);
	tcase_add_test(tc, test_zscore_constant);
	tcase_add_test(tc, test_rolling_matches_naive);
	tcase_add_test(tc, test_seasonal);
	suite_add_tcase(s, tc);
	tc = tcase_create("data");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_throughput);
	tcase_add_test(tc, test_nab_flags_labelled_window);
	tcase_add_test(tc, test_nab_all_files);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(detectors_suite());
}
