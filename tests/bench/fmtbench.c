/*
 * fmtbench.c - cw-fmtbench: nanoseconds per number of cw_fmt_plain and per
 * time of cw_time_iso, against the printf/strtod and gmtime/strftime
 * formatting they replaced (kept here as the "old" column), and how many
 * outputs differ between the two.  Prints; asserts nothing.
 *
 * Usage: cw-fmtbench [N]   (N numbers per class, default 1000000)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"
#include "units.h"

/* cw_fmt_plain before the shortest-digits printer. */
static char *old_fmt_plain(double v, char *buf, size_t len)
{
	if (isnan(v) || isinf(v)) {
		if (len)
			buf[0] = '\0';
		return buf;
	}
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		snprintf(buf, len, "%lld", (long long)v);
		return buf;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (strchr(buf, 'e') && fabs(v) >= 1e-6 && fabs(v) < 1e15) {
		snprintf(buf, len, "%.9f", v);
		char *e = buf + strlen(buf) - 1;

		while (e > buf && *e == '0')
			*e-- = '\0';
		if (e > buf && *e == '.')
			*e = '\0';
	}
	return buf;
}

/* cw_time_iso before: gmtime_r and strftime. */
static char *old_time_iso(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%lld", (long long)t);
	return buf;
}

static uint64_t rng_state = 0x5eed0004;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

enum { CLASSES = 5 };
static const char *const class_names[CLASSES] = {
	"integers (byte counts)", "cents", "ratios", "small (1e-6..1e-4)", "random bits",
};

static double make(int cls)
{
	double v;

	switch (cls) {
	case 0: return (double)(rng() >> (rng() % 40 + 10));
	case 1: return (double)(rng() % 100000000) / 100.0;
	case 2: return (double)(rng() % 100000000) / (double)(rng() % 100000 + 1);
	case 3: return 1e-6 + (double)(rng() % 1000000) * 1e-10;
	default:
		do {
			uint64_t u = rng();

			memcpy(&v, &u, sizeof(v));
		} while (!isfinite(v));
		return v;
	}
}

static double bench_num(char *(*fn)(double, char *, size_t), const double *v, size_t n)
{
	char buf[64];
	volatile size_t sink = 0;
	double t0 = now_ns();

	for (size_t i = 0; i < n; i++)
		sink += strlen(fn(v[i], buf, sizeof(buf)));
	(void)sink;
	return (now_ns() - t0) / (double)n;
}

static double bench_time(char *(*fn)(int64_t, char *, size_t), const int64_t *t, size_t n)
{
	char buf[CW_TIME_ISO_LEN];
	volatile size_t sink = 0;
	double t0 = now_ns();

	for (size_t i = 0; i < n; i++)
		sink += strlen(fn(t[i], buf, sizeof(buf)));
	(void)sink;
	return (now_ns() - t0) / (double)n;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
	double *v = malloc(n * sizeof(*v));
	int64_t *t = malloc(n * sizeof(*t));

	if (!n || !v || !t) {
		fprintf(stderr, "usage: cw-fmtbench [N > 0]\n");
		return 2;
	}
	printf("%-24s %10s %10s %10s  %s\n", "cw_fmt_plain", "old ns", "new ns", "differ",
	       "first differences (old -> new)");
	for (int c = 0; c < CLASSES; c++) {
		size_t differ = 0;
		int shown = 0;
		char a[64], b[64], ex[256] = "";
		double told, tnew;

		for (size_t i = 0; i < n; i++)
			v[i] = make(c);
		told = bench_num(old_fmt_plain, v, n);
		tnew = bench_num(cw_fmt_plain, v, n);
		for (size_t i = 0; i < n; i++) {
			if (strcmp(old_fmt_plain(v[i], a, sizeof(a)), cw_fmt_plain(v[i], b, sizeof(b))) == 0)
				continue;
			if (shown++ < 2) {
				size_t l = strlen(ex);

				snprintf(ex + l, sizeof(ex) - l, "%s%s -> %s", l ? ", " : "", a, b);
			}
			differ++;
		}
		printf("%-24s %10.1f %10.1f %10zu  %s\n", class_names[c], told, tnew, differ, ex);
	}
	for (size_t i = 0; i < n; i++)
		t[i] = 1400000000 + (int64_t)(rng() % 1000000000);
	{
		double told = bench_time(old_time_iso, t, n), tnew = bench_time(cw_time_iso, t, n);
		size_t differ = 0;
		char a[CW_TIME_ISO_LEN], b[CW_TIME_ISO_LEN];

		for (size_t i = 0; i < n; i++)
			differ += strcmp(old_time_iso(t[i], a, sizeof(a)),
					 cw_time_iso(t[i], b, sizeof(b))) != 0;
		printf("%-24s %10.1f %10.1f %10zu\n", "cw_time_iso", told, tnew, differ);
	}
	printf("(%zu values per row)\n", n);
	free(v);
	free(t);
	return 0;
}
