/*
 * check_numfmt.c - cw_fmt_plain (shortest round-trip numbers) and the ISO
 * time formatting of timeutil, against slow references built on printf,
 * strtod, gmtime_r and strftime.
 */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testlib.h"
#include "timeutil.h"
#include "units.h"

/* splitmix64: a fixed seed, so every run tries the same numbers. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double from_bits(uint64_t u)
{
	double v;

	memcpy(&v, &u, sizeof(v));
	return v;
}

/*
 * The oracle: the fewest significant digits p (1..17) of a decimal that
 * strtod reads back as v, by trying every precision.  *nearest tells
 * whether printf's correctly rounded p digits are such a decimal (else only
 * a neighbour one unit away in the last digit is: near powers of two the
 * rounding interval is lopsided).  *x is the decimal exponent.
 */
static int oracle(double v, bool *nearest, int *x)
{
	char s[64], t[64];

	for (int p = 1; p <= 17; p++) {
		unsigned long long m = 0;
		char *e;

		snprintf(s, sizeof(s), "%.*e", p - 1, v);
		e = strchr(s, 'e');
		*x = atoi(e + 1);
		if (strtod(s, NULL) == v) {
			*nearest = true;
			return p;
		}
		for (const char *q = s; q < e; q++)
			if (*q >= '0' && *q <= '9')
				m = m * 10 + (unsigned long long)(*q - '0');
		for (int dm = -1; dm <= 1; dm += 2) {
			snprintf(t, sizeof(t), "%s%llue%d", v < 0 ? "-" : "", m + (unsigned long long)dm,
				 *x - (p - 1));
			if (strtod(t, NULL) == v) {
				*nearest = false;
				return p;
			}
		}
	}
	*nearest = false;
	return 99;		/* unreachable: 17 digits always read back */
}

/* Significant digits in a cw_fmt_plain output (no leading or trailing 0s). */
static int sig_digits(const char *s)
{
	int first = -1, last = -1, i = 0;

	for (; *s && *s != 'e'; s++) {
		if (*s < '0' || *s > '9')
			continue;
		if (*s != '0') {
			if (first < 0)
				first = i;
			last = i;
		}
		i++;
	}
	return first < 0 ? 0 : last - first + 1;
}

/*
 * The expected text of a non-integer (or >= 2^53) v whose nearest p digits
 * read back, laid out by printf alone: "%.*e" where the layout is
 * exponential, else "%.*f" with the decimals the p digits reach.
 */
static void reference(double v, int p, int x, char *out, size_t len)
{
	if ((x < -4 && fabs(v) < 1e-6) || x >= (p > 15 ? p : 15))
		snprintf(out, len, "%.*e", p - 1, v);
	else
		snprintf(out, len, "%.*f", p - 1 - x > 0 ? p - 1 - x : 0, v);
}

static bool is_plain_int(double v)
{
	return v == floor(v) && fabs(v) < 9007199254740992.0;
}

/* Everything the oracle and the reference say about one finite v. */
static void check_one(double v)
{
	char got[64], want[64];
	bool nearest;
	int p, x;

	cw_fmt_plain(v, got, sizeof(got));
	if (strtod(got, NULL) != v)
		ck_abort_msg("%a: \"%s\" does not read back", v, got);
	if (is_plain_int(v)) {
		snprintf(want, sizeof(want), "%lld", (long long)v);
		if (strcmp(got, want) != 0)
			ck_abort_msg("%a: \"%s\", want \"%s\"", v, got, want);
		return;
	}
	p = oracle(v, &nearest, &x);
	if (sig_digits(got) != p)
		ck_abort_msg("%a: \"%s\" has %d digits, the shortest has %d", v, got,
			     sig_digits(got), p);
	if (!nearest)
		return;
	reference(v, p, x, want, sizeof(want));
	if (strcmp(got, want) != 0)
		ck_abort_msg("%a: \"%s\", want \"%s\"", v, got, want);
}

static const struct {
	double v;
	const char *want;
} layout_cases[] = {
	{ 0.0, "0" }, { -0.0, "0" }, { 1.0, "1" }, { -1.0, "-1" },
	{ 123456789012.0, "123456789012" },
	{ 9007199254740991.0, "9007199254740991" },
	{ -9007199254740991.0, "-9007199254740991" },
	/* 2^53 and above leave the integer path: shortest digits, %g layout */
	{ 9007199254740992.0, "9007199254740992" },
	{ 9007199254740994.0, "9007199254740994" },
	{ 1e16, "1e+16" }, { 1.5e17, "1.5e+17" }, { 18014398509481984.0, "18014398509481984" },
	{ 1e23, "1e+23" }, { -1e300, "-1e+300" },
	{ 0.1, "0.1" }, { -2.5, "-2.5" }, { 0.3, "0.3" },
	{ 1.0 / 3.0, "0.3333333333333333" }, { 2.0 / 3.0, "0.6666666666666666" },
	{ 0.1 + 0.2, "0.30000000000000004" }, { 1234.5678, "1234.5678" },
	{ 999999999999999.9, "999999999999999.9" },
	{ 1000000000000000.5, "1000000000000000.5" },
	{ 4503599627370495.5, "4503599627370495.5" },
	{ 0.0001, "0.0001" }, { 0.00012345, "0.00012345" },
	/* 1e-6 <= |v| < 1e-4: positional, every digit */
	{ 1e-5, "0.00001" }, { 1e-6, "0.000001" }, { -2.5e-6, "-0.0000025" },
	{ 1.2345678901234e-5, "0.000012345678901234" },
	{ 9.9999999999999e-6, "0.0000099999999999999" },
	/* below 1e-6: exponential */
	{ 5e-7, "5e-07" }, { 9.99999e-7, "9.99999e-07" }, { -1.5e-7, "-1.5e-07" },
	{ 1e-100, "1e-100" },
	{ 2.2250738585072014e-308, "2.2250738585072014e-308" },	/* least normal */
	{ 2.225073858507201e-308, "2.225073858507201e-308" },	/* greatest subnormal */
	{ 5e-324, "5e-324" },						/* least subnormal */
	{ 1e-323, "1e-323" },
	{ DBL_MAX, "1.7976931348623157e+308" },
	{ NAN, "" }, { INFINITY, "" }, { -INFINITY, "" },
};

START_TEST(layout_table)
{
	char buf[64];
	double v = layout_cases[_i].v;

	ck_assert_str_eq(cw_fmt_plain(v, buf, sizeof(buf)), layout_cases[_i].want);
	if (isfinite(v))
		check_one(v);
}
END_TEST

/*
 * Published test values of shortest round-trip printers: Ryu's d2s tests
 * (regressions, values that look like powers of five, the shifts at the
 * ends of the exponent range, output of every length) and the classic
 * hard cases of Steele & White / Grisu (where 17 digits are the shortest,
 * and the boundaries next to powers of two).  Each is expected with its
 * shortest digits in cw_fmt_plain's layout.
 */
static const char *const vectors[] = {
	/* Ryu d2s_test: Regression */
	"-2.109808898695963e+16", "4.940656e-318", "1.18575755e-316",
	"2.989102097996e-312", "9.0608011534336e+15", "4.708356024711512e+18",
	"9.409340012568248e+18", "1.2345678",
	/* LooksLikePow5 */
	"5.764607523034235e+39", "1.152921504606847e+40", "2.305843009213694e+40",
	/* MinMaxShift */
	"1.7800590868057611e-307", "2.8480945388892175e-306", "2.446494580089078e-296",
	"4.8929891601781557e-296", "1.8014398509481984e+16", "3.6028797018963964e+16",
	"2.900835519859558e-216", "5.801671039719115e-216", "3.196104012172126e-27",
	"6.392208024344252e-27",
	/* OutputLength */
	"1", "1.2", "1.23", "1.234", "1.2345", "1.23456", "1.234567", "1.2345678",
	"1.23456789", "1.234567895", "1.2345678901", "1.23456789012", "1.234567890123",
	"1.2345678901234", "1.23456789012345", "1.234567890123456", "1.2345678901234567",
	/* 2^n boundaries, 17-digit cases */
	"1.7976931348623157e+308", "2.2250738585072014e-308",
	"4.35679556e+16", "5.960464477539063e-08", "8.41e+21", "5.12e+22",
	"1.9430376160308388e+16", "-6.9741824662760956e+19", "4.3816050601147837e+18",
	"1.8531501765868567e+21", "-3.347727380279489e+33", "7.205759403792794e+16",
	"9.533993072280003e-05", "2.028240960365167e+31", "1.2676506002282294e+30",
};

START_TEST(published_vectors)
{
	const char *s = vectors[_i];
	double v = strtod(s, NULL);
	char got[64];

	cw_fmt_plain(v, got, sizeof(got));
	ck_assert_msg(strtod(got, NULL) == v, "%s: \"%s\" does not read back", s, got);
	/* the same digits as the published shortest form */
	{
		char a[32], b[32];
		int na = 0, nb = 0;

		for (const char *q = s; *q && *q != 'e'; q++)
			if (*q >= '0' && *q <= '9' && (na || *q != '0'))
				a[na++] = *q;
		for (const char *q = got; *q && *q != 'e'; q++)
			if (*q >= '0' && *q <= '9' && (nb || *q != '0'))
				b[nb++] = *q;
		while (na > 1 && a[na - 1] == '0')
			na--;
		while (nb > 1 && b[nb - 1] == '0')
			nb--;
		a[na] = b[nb] = '\0';
		ck_assert_msg(strcmp(a, b) == 0, "%s printed as \"%s\"", s, got);
	}
	check_one(v);
}
END_TEST

START_TEST(truncates_like_snprintf)
{
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	ck_assert_str_eq(cw_fmt_plain(0.125, buf, 3), "0.");
	ck_assert_int_eq(buf[3], 'x');
	ck_assert_str_eq(cw_fmt_plain(-123456789.0, buf, sizeof(buf)), "-123456");
	ck_assert_str_eq(cw_fmt_plain(1.5e-7, buf, 1), "");
	buf[0] = 'x';
	cw_fmt_plain(1.5, buf, 0);
	ck_assert_int_eq(buf[0], 'x');
}
END_TEST

/* Any finite bit pattern reads back; every 16th against the oracle. */
START_TEST(random_bits_round_trip)
{
	char got[64];
	long n = 0;

	rng_state = 0x5eed0001;
	for (long i = 0; i < 2000000; i++) {
		double v = from_bits(rng());

		if (!isfinite(v))
			continue;
		if (i % 16 == 0) {
			check_one(v);
			continue;
		}
		cw_fmt_plain(v, got, sizeof(got));
		if (strtod(got, NULL) != v)
			ck_abort_msg("%a: \"%s\" does not read back", v, got);
		n++;
	}
	ck_assert_int_gt(n, 1800000);
}
END_TEST

/* Values like a report's: counts, cents, byte sizes, ratios, rates. */
static double report_like(void)
{
	uint64_t r = rng();
	double a = (double)(rng() % 100000000), b = (double)(rng() % 100000 + 1);

	switch (r % 8) {
	case 0: return (double)(rng() >> (rng() % 64));		/* counts, any size */
	case 1: return (double)(int64_t)(rng() % 10000000) / 100.0;	/* dollars and cents */
	case 2: return a / 1e9;					/* GB from bytes */
	case 3: return a * 1024.0 / b;				/* bytes per unit */
	case 4: return a / b;					/* ratios */
	case 5: return b / (a + 1.0) / 1000.0;			/* small rates */
	case 6: return -a / b * 0.01;				/* negative changes */
	default: return (double)(rng() % 1000000) * 1e-6 * (double)(rng() % 7 + 1);
	}
}

START_TEST(report_like_against_oracle)
{
	rng_state = 0x5eed0002;
	for (int i = 0; i < 300000; i++)
		check_one(report_like());
}
END_TEST

/* Every decimal exponent and the neighbours of powers of two and of ten. */
START_TEST(boundaries_against_oracle)
{
	for (int e = -1074; e <= 1023; e++) {
		double p2 = ldexp(1.0, e);

		check_one(p2);
		check_one(nextafter(p2, 0));
		check_one(nextafter(p2, INFINITY));
	}
	for (int e = -323; e <= 308; e++) {
		char s[16];
		double p10;

		snprintf(s, sizeof(s), "1e%d", e);
		p10 = strtod(s, NULL);
		check_one(p10);
		check_one(-p10);
		check_one(nextafter(p10, 0));
		check_one(nextafter(p10, INFINITY));
	}
}
END_TEST

/* ---- time ---------------------------------------------------------------- */

/* The formatting as it was: gmtime_r and strftime. */
static void time_reference(int64_t t, bool date_only, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    !strftime(buf, len, date_only ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%lld", (long long)t);
}

static void check_time(int64_t t)
{
	static const size_t lens[] = { CW_TIME_ISO_LEN, 21, 20, 11, 10, 5, 1 };
	char got[CW_TIME_ISO_LEN], want[CW_TIME_ISO_LEN];

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t len = lens[i];

		cw_time_iso(t, got, len);
		time_reference(t, false, want, len);
		if (strcmp(got, want) != 0)
			ck_abort_msg("%lld (len %zu): iso \"%s\", want \"%s\"", (long long)t, len,
				     got, want);
		cw_time_date(t, got, len);
		time_reference(t, true, want, len);
		if (strcmp(got, want) != 0)
			ck_abort_msg("%lld (len %zu): date \"%s\", want \"%s\"", (long long)t, len,
				     got, want);
	}
}

START_TEST(time_matches_strftime)
{
	static const int64_t edges[] = {
		0, -1, 1, 86399, 86400, -86400, -86401,
		951782400, 951868800, 4107456000LL,		/* 2000-02-29, 2000-03-01, 2100-02-28 */
		-2203891200LL, -2208988800LL,			/* 1900-03-01, 1900-01-01 */
		-30610224000LL, -30610224001LL,			/* 1000-01-01 and just before */
		253402300799LL, 253402300800LL,			/* 9999-12-31T23:59:59 and after */
		-62167219200LL, -62167219201LL,			/* year 0, year -1 */
		INT64_MAX, INT64_MIN, 67768036191676799LL, 67768036191676800LL,
	};

	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		check_time(edges[i]);
	/* every day of 1999..2101, at a time of day that moves */
	for (int64_t t = 915148800LL; t < 4133980800LL; t += 86400 + 7)
		check_time(t);
	/* random seconds over the years -3000..12000 */
	rng_state = 0x5eed0003;
	for (int i = 0; i < 200000; i++)
		check_time((int64_t)(rng() % 473000000000ULL) - 157000000000LL);
}
END_TEST

/* Parsing as it was: the fields through timegm. */
static int64_t timegm_reference(int y, int mo, int d, int h, int mi, int se)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	return (int64_t)timegm(&tm);
}

START_TEST(time_parse_matches_timegm)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	char s[64], iso[CW_TIME_ISO_LEN];
	int64_t got;

	rng_state = 0x5eed0005;
	for (int i = 0; i < 300000; i++) {
		int y = (int)(rng() % 10000), mo = (int)(rng() % 12) + 1;
		int d = (int)(rng() % (uint64_t)mdays[mo - 1]) + 1, h = (int)(rng() % 24);
		int mi = (int)(rng() % 60), se = (int)(rng() % 61), oh = (int)(rng() % 24);
		int om = (int)(rng() % 60), form = (int)(rng() % 3);
		bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		int64_t want;

		if (mo == 2 && d == 29 && !leap)
			d = 28;
		want = timegm_reference(y, mo, d, h, mi, se);
		if (form == 0) {
			snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, se);
		} else if (form == 1) {
			snprintf(s, sizeof(s), "%04d-%02d-%02d %02d:%02d:%02d.123-%02d:%02d", y, mo, d,
				 h, mi, se, oh, om);
			want += oh * 3600 + om * 60;
		} else {
			snprintf(s, sizeof(s), "%04d-%02d-%02d", y, mo, d);
			want = timegm_reference(y, mo, d, 0, 0, 0);
		}
		if (cw_time_parse(s, &got) != 0 || got != want)
			ck_abort_msg("\"%s\": %lld, want %lld", s, (long long)got, (long long)want);
		if (y >= 1000 && form == 0 && se < 60) {
			cw_time_iso(want, iso, sizeof(iso));
			ck_assert_str_eq(iso, s);
		}
	}
}
END_TEST

static Suite *numfmt_suite(void)
{
	Suite *s = suite_create("numfmt");
	TCase *tc = tcase_create("numfmt");

	/* millions of numbers: slow under the sanitizers, never timed */
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, layout_table, 0,
			    (int)(sizeof(layout_cases) / sizeof(layout_cases[0])));
	tcase_add_loop_test(tc, published_vectors, 0, (int)(sizeof(vectors) / sizeof(vectors[0])));
	tcase_add_test(tc, truncates_like_snprintf);
	tcase_add_test(tc, random_bits_round_trip);
	tcase_add_test(tc, report_like_against_oracle);
	tcase_add_test(tc, boundaries_against_oracle);
	tcase_add_test(tc, time_matches_strftime);
	tcase_add_test(tc, time_parse_matches_timegm);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(numfmt_suite());
}
