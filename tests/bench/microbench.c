/*
 * microbench.c - cw-microbench: the cost of reading GetMetricData pages on
 * this machine.  Synthetic pages of 500 series (daily: 90 points each;
 * hourly: 201 points each, a full page under the 100,800-datapoint cap)
 * are parsed by cw_gmd_accumulate (the scanner), by the reference jansson
 * parser it replaced, and by a "floor": one pass that only finds the
 * numbers and sums them with the same fast number path, no checks.
 *
 * Output, one line per case (scripts/bench prints it; keep it stable):
 *   NAME ns_per_datapoint=X MBps=Y
 * Each figure is the best of several rounds of thread CPU time (the machine
 * is shared, so wall time would measure the neighbours).
 * Not a test: nothing here asserts a speed.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cloudwatch.h"
#include "err.h"
#include "gmd_ref.h"

#define NSERIES 500
#define T0 1700006400 /* 2023-11-15T00:00:00Z */

typedef int (*parse_fn)(struct cw_gmd_result *r, size_t nr, const size_t *map, size_t nq,
			const char *body, size_t len, struct cw_gmd_page *page,
			char *err, size_t errlen);

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * A page as CloudWatch sends it: every series newest first, integer
 * epoch timestamps, values as a JSON encoder prints doubles: byte sums
 * ("123456789.0") and, when long_values, 17-digit decimals.
 */
static char *make_page(int64_t period, size_t points, bool long_values, size_t *len)
{
	struct cw_buf b = CW_BUF_INIT;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	int rc = 0;

	cw_buf_init(&b, 0);
	rc |= cw_buf_addstr(&b, "{\"MetricDataResults\":[");
	for (size_t i = 0; i < NSERIES && !rc; i++) {
		rc |= cw_buf_printf(&b, "%s{\"Id\":\"q%zu\",\"Label\":\"AWS/S3 BytesDownloaded "
				    "Sum bucket-%zu\",\"Timestamps\":[", i ? "," : "", i, i);
		for (size_t k = 0; k < points; k++)
			rc |= cw_buf_printf(&b, "%s%lld", k ? "," : "",
					    (long long)(T0 + (int64_t)(points - 1 - k) * period));
		rc |= cw_buf_addstr(&b, "],\"Values\":[");
		for (size_t k = 0; k < points; k++) {
			uint64_t x = rng_next(&seed);

			if (long_values)
				rc |= cw_buf_printf(&b, "%s%.17g", k ? "," : "",
						    (double)(x >> 11) / 9007199254740992.0 * 1e6);
			else
				rc |= cw_buf_printf(&b, "%s%llu.0", k ? "," : "",
						    (unsigned long long)(x % 10000000000ULL));
		}
		rc |= cw_buf_addstr(&b, "],\"StatusCode\":\"Complete\",\"Messages\":[]}");
	}
	rc |= cw_buf_addstr(&b, "],\"Messages\":[]}");
	if (rc) {
		fprintf(stderr, "cw-microbench: out of memory\n");
		exit(1);
	}
	return cw_buf_detach(&b, len);
}

/* The floor: find every number and sum it, nothing else. */
static double floor_pass(const char *s, size_t len)
{
	static const double p10[23] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
					1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
					1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
	const char *p = s, *end = s + len;
	double sum = 0;

	while (p < end) {
		uint64_t m = 0;
		int dexp = 0;

		if (*p < '0' || *p > '9') {
			if (*p == '"') /* strings: skip (digits in ids are not numbers) */
				for (p++; p < end && *p != '"'; p++)
					;
			p++;
			continue;
		}
		while (p < end && *p >= '0' && *p <= '9')
			m = m * 10 + (uint64_t)(*p++ - '0');
		if (p < end && *p == '.')
			for (p++; p < end && *p >= '0' && *p <= '9'; p++, dexp--)
				m = m * 10 + (uint64_t)(*p - '0');
		if (dexp >= -22 && m <= ((uint64_t)1 << 53))
			sum += (double)m / p10[-dexp];
		else
			sum += strtod(p, NULL); /* never taken on these pages */
	}
	return sum;
}

static void report(const char *name, double ns, size_t points, size_t bytes)
{
	printf("%s ns_per_datapoint=%.1f MBps=%.1f\n", name, ns / (double)points,
	       (double)bytes / (ns / 1e9) / 1e6);
	fflush(stdout);
}

/* Best time of one parse of body into fresh results (as a sweep applies
 * each page once), in ns. */
static double time_parse(parse_fn fn, const char *body, size_t len, int64_t period,
			 size_t points, int rounds)
{
	double best = -1;
	char err[CW_ERRBUF];

	for (int i = 0; i < rounds; i++) {
		struct cw_gmd_result *r = NULL;
		struct cw_gmd_page page;
		double t0, t;

		if (cw_gmd_results_new(&r, NSERIES, T0, T0 + (int64_t)points * period, period)) {
			fprintf(stderr, "cw-microbench: out of memory\n");
			exit(1);
		}
		t0 = now_ns();
		if (fn(r, NSERIES, NULL, NSERIES, body, len, &page, err, sizeof(err))) {
			fprintf(stderr, "cw-microbench: %s\n", err);
			exit(1);
		}
		t = now_ns() - t0;
		cw_gmd_page_release(&page);
		if (r[0].points != points || r[NSERIES - 1].points != points) {
			fprintf(stderr, "cw-microbench: %zu points placed, want %zu\n", r[0].points,
				points);
			exit(1);
		}
		cw_gmd_results_free(r, NSERIES);
		if (best < 0 || t < best)
			best = t;
	}
	return best;
}

static void run_case(const char *name, int64_t period, size_t points, bool long_values,
		     int rounds)
{
	size_t len, total = NSERIES * points;
	char *body = make_page(period, points, long_values, &len);
	char label[96];
	volatile double sink = 0;
	double best = -1;

	snprintf(label, sizeof(label), "gmd-%s-scanner", name);
	report(label, time_parse(cw_gmd_accumulate, body, len, period, points, rounds), total,
	       len);
	snprintf(label, sizeof(label), "gmd-%s-jansson", name);
	report(label, time_parse(cw_gmd_accumulate_ref, body, len, period, points,
				 rounds / 2 + 1), total, len);
	for (int i = 0; i < rounds; i++) {
		double t0 = now_ns(), t;

		sink += floor_pass(body, len);
		t = now_ns() - t0;
		if (best < 0 || t < best)
			best = t;
	}
	(void)sink;
	snprintf(label, sizeof(label), "gmd-%s-floor", name);
	report(label, best, total, len);
	free(body);
}

int main(int argc, char **argv)
{
	long rounds = 15;
	char *end = NULL;

	if (argc == 2)
		rounds = strtol(argv[1], &end, 10);
	if (argc > 2 || (argc == 2 && (*end || rounds <= 0 || rounds > 100000))) {
		fprintf(stderr, "usage: cw-microbench [ROUNDS]\n");
		return 2;
	}
	json_object_seed(0);
	run_case("daily", 86400, 90, false, (int)rounds);
	run_case("hourly", 3600, 201, false, (int)rounds);
	run_case("hourly-17digit", 3600, 201, true, (int)rounds);
	return 0;
}
