/*
 * units.c - numbers with byte and time units (see units.h).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "shortest.h"
#include "strutil.h"
#include "units.h"

/* strtod over the whole leading number; *rest points after it and its spaces. */
static int leading_number(const char *s, double *out, const char **rest)
{
	char *end;
	double v;

	while (isspace((unsigned char)*s))
		s++;
	if (!*s || (!isdigit((unsigned char)*s) && *s != '-' && *s != '+' && *s != '.'))
		return CW_EINVAL;
	/* strtod would accept "inf", "nan" and hex floats: refuse those. */
	for (const char *q = s; *q && !isspace((unsigned char)*q); q++)
		if (*q == 'x' || *q == 'X')
			return CW_EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(v))
		return CW_EINVAL;
	while (isspace((unsigned char)*end))
		end++;
	*out = v;
	*rest = end;
	return 0;
}

int cw_parse_number(const char *s, double *out, char *err, size_t errlen)
{
	const char *rest;
	double v;

	if (leading_number(s, &v, &rest) || *rest)
		return cw_fail(err, errlen, CW_EINVAL, "not a number: \"%s\"", s);
	*out = v;
	return 0;
}

int cw_parse_bytes(const char *s, double *out, char *err, size_t errlen)
{
	static const struct { const char *sfx; double mul; } units[] = {
		{ "", 1 }, { "b", 1 },
		{ "kb", 1e3 }, { "mb", 1e6 }, { "gb", 1e9 }, { "tb", 1e12 }, { "pb", 1e15 },
		{ "k", 1e3 }, { "m", 1e6 }, { "g", 1e9 }, { "t", 1e12 }, { "p", 1e15 },
		{ "kib", 1024.0 }, { "mib", 1048576.0 }, { "gib", 1073741824.0 },
		{ "tib", 1099511627776.0 }, { "pib", 1125899906842624.0 },
	};
	const char *rest;
	double v;

	if (leading_number(s, &v, &rest))
		return cw_fail(err, errlen, CW_EINVAL,
			       "not a size: \"%s\" (want e.g. 100GB, 1.5TiB, 42)", s);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (cw_str_ieq(rest, units[i].sfx)) {
			*out = v * units[i].mul;
			return 0;
		}
	}
	return cw_fail(err, errlen, CW_EINVAL,
		       "unknown size unit \"%s\" in \"%s\" (want B, KB, MB, GB, TB, PB, KiB .. PiB)",
		       rest, s);
}

int cw_parse_duration(const char *s, int64_t *out, char *err, size_t errlen)
{
	static const struct { const char *sfx; int64_t mul; } units[] = {
		{ "", 1 }, { "s", 1 }, { "m", 60 }, { "min", 60 }, { "h", 3600 },
		{ "d", 86400 }, { "w", 604800 },
	};
	const char *rest;
	double v;

	if (leading_number(s, &v, &rest) || v < 0)
		return cw_fail(err, errlen, CW_EINVAL,
			       "not a duration: \"%s\" (want e.g. 90s, 15m, 1h, 7d, 2w)", s);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(rest, units[i].sfx) == 0) {
			double secs = v * (double)units[i].mul;

			if (secs > 1e12 || secs != floor(secs))
				return cw_fail(err, errlen, CW_EINVAL,
					       "duration \"%s\" is not a whole number of seconds", s);
			*out = (int64_t)secs;
			return 0;
		}
	}
	return cw_fail(err, errlen, CW_EINVAL,
		       "unknown time unit \"%s\" in \"%s\" (want s, m, h, d or w)", rest, s);
}

char *cw_fmt_bytes(double v, char *buf, size_t len)
{
	static const char *const names[] = { "B", "KB", "MB", "GB", "TB", "PB", "EB" };
	double a = fabs(v);
	size_t i = 0;

	if (isnan(v)) {
		snprintf(buf, len, "-");
		return buf;
	}
	while (a >= 1000 && i < sizeof(names) / sizeof(names[0]) - 1) {
		a /= 1000;
		v /= 1000;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%.0f B", v);
	else
		snprintf(buf, len, a >= 100 ? "%.0f %s" : a >= 10 ? "%.1f %s" : "%.2f %s",
			 v, names[i]);
	return buf;
}

char *cw_fmt_duration(int64_t secs, char *buf, size_t len)
{
	if (secs != 0 && secs % 604800 == 0)
		snprintf(buf, len, "%lldw", (long long)(secs / 604800));
	else if (secs != 0 && secs % 86400 == 0)
		snprintf(buf, len, "%lldd", (long long)(secs / 86400));
	else if (secs != 0 && secs % 3600 == 0)
		snprintf(buf, len, "%lldh", (long long)(secs / 3600));
	else if (secs != 0 && secs % 60 == 0)
		snprintf(buf, len, "%lldm", (long long)(secs / 60));
	else
		snprintf(buf, len, "%llds", (long long)secs);
	return buf;
}

/* "00" "01" .. "99": two digits at a time. */
static const char digit_pairs[201] =
	"0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849"
	"5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

/* The decimal digits of u, written backwards so they end just before end;
 * returns where they start (at most 20 bytes before end). */
static char *u64_digits(uint64_t u, char *end)
{
	while (u >= 100) {
		end -= 2;
		memcpy(end, digit_pairs + 2 * (u % 100), 2);
		u /= 100;
	}
	if (u >= 10) {
		end -= 2;
		memcpy(end, digit_pairs + 2 * u, 2);
	} else {
		*--end = (char)('0' + u);
	}
	return end;
}

/* n bytes of s into buf as snprintf would: cut to len - 1, NUL-terminated. */
static char *put(char *buf, size_t len, const char *s, size_t n)
{
	if (len) {
		if (n >= len)
			n = len - 1;
		memcpy(buf, s, n);
		buf[n] = '\0';
	}
	return buf;
}

char *cw_fmt_int(long long v, char *buf, size_t len)
{
	char out[24], *end = out + sizeof(out);
	char *d = u64_digits(v < 0 ? 0 - (uint64_t)v : (uint64_t)v, end);

	if (v < 0)
		*--d = '-';
	return put(buf, len, d, (size_t)(end - d));
}

char *cw_fmt_uint(unsigned long long v, char *buf, size_t len)
{
	char out[24], *end = out + sizeof(out);
	char *d = u64_digits(v, end);

	return put(buf, len, d, (size_t)(end - d));
}

/*
 * The layout is that of "%.Pg" with P = max(15, digits), the precision at
 * which printf's %g would show these digits, except that 1e-6 <= |v| < 1e-4
 * is positional too (spreadsheets), with every digit.
 */
char *cw_fmt_plain(double v, char *buf, size_t len)
{
	char out[48], dig[24], *o = out, *d;
	uint64_t sig;
	int n, x, e10;

	if (isnan(v) || isinf(v))
		return put(buf, len, "", 0);
	/* Integers up to 2^53 print as integers: byte counts stay readable.
	 * (Most values in a report are integers: this is the hot path.) */
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		return cw_fmt_int((long long)v, buf, len);
	/* Nonzero and finite here. */
	cw_shortest(v, &sig, &e10);
	d = u64_digits(sig, dig + sizeof(dig));
	n = (int)(dig + sizeof(dig) - d);
	x = n - 1 + e10;		/* v = d.ddd * 10^x */
	if (v < 0)
		*o++ = '-';
	if ((x < -4 && fabs(v) < 1e-6) || x >= (n > 15 ? n : 15)) {
		int ax = x < 0 ? -x : x;

		*o++ = d[0];
		if (n > 1) {
			*o++ = '.';
			memcpy(o, d + 1, (size_t)(n - 1));
			o += n - 1;
		}
		*o++ = 'e';
		*o++ = x < 0 ? '-' : '+';
		if (ax >= 100)
			*o++ = (char)('0' + ax / 100);
		memcpy(o, digit_pairs + 2 * (ax % 100), 2);
		o += 2;
	} else if (x < 0) {
		*o++ = '0';
		*o++ = '.';
		memset(o, '0', (size_t)(-x - 1));
		o += -x - 1;
		memcpy(o, d, (size_t)n);
		o += n;
	} else if (x >= n - 1) {
		memcpy(o, d, (size_t)n);
		o += n;
		memset(o, '0', (size_t)(x - (n - 1)));
		o += x - (n - 1);
	} else {
		memcpy(o, d, (size_t)(x + 1));
		o += x + 1;
		*o++ = '.';
		memcpy(o, d + x + 1, (size_t)(n - x - 1));
		o += n - x - 1;
	}
	return put(buf, len, out, (size_t)(o - out));
}
