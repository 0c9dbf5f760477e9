/*
 * timeutil.c - UTC time parsing and formatting (see timeutil.h).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "timeutil.h"

/* Read exactly n digits at *p; advances *p. */
static bool digits(const char **p, const char *end, int n, int *out)
{
	int v = 0;

	if (end - *p < n)
		return false;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static int days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dm[m - 1];
}

/*
 * Days from 1970-01-01 to y-m-d (proleptic Gregorian, as timegm counts),
 * without timegm (the sweep parses one time per data point): the inverse
 * of civil_from_days below, after H. Hinnant's days_from_civil.
 */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);				/* [0, 399] */
	doy = (unsigned)((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1);	/* [0, 365] */
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;			/* [0, 146096] */
	return era * 146097 + (int64_t)doe - 719468;
}

static int parse_epoch(const char *p, const char *end, int64_t *out)
{
	int64_t v = 0;
	bool neg = false, any = false;

	if (p < end && *p == '-') {
		neg = true;
		p++;
	}
	for (; p < end && isdigit((unsigned char)*p); p++) {
		if (v > (INT64_MAX - 9) / 10)
			return CW_EINVAL;
		v = v * 10 + (*p - '0');
		any = true;
	}
	if (p < end && *p == '.') {
		p++;
		if (p == end)
			return CW_EINVAL;
		while (p < end && isdigit((unsigned char)*p))
			p++;
	}
	if (!any || p != end)
		return CW_EINVAL;
	*out = neg ? -v : v;
	return 0;
}

int cw_time_parse_n(const char *s, size_t n, int64_t *out)
{
	const char *p = s, *end = s + n;
	int y, mo, d, h = 0, mi = 0, se = 0, oh = 0, om = 0, sign = 0;

	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (p == end)
		return CW_EINVAL;
	/* Epoch seconds: digits only (a date always has a '-' at index 4). */
	if (end - p < 5 || p[4] != '-')
		return parse_epoch(p, end, out);

	if (!digits(&p, end, 4, &y) || p == end || *p++ != '-' ||
	    !digits(&p, end, 2, &mo) || p == end || *p++ != '-' ||
	    !digits(&p, end, 2, &d))
		return CW_EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return CW_EINVAL;
	if (p < end && (*p == 'T' || *p == 't' || *p == ' ')) {
		p++;
		if (!digits(&p, end, 2, &h) || p == end || *p++ != ':' ||
		    !digits(&p, end, 2, &mi))
			return CW_EINVAL;
		if (p < end && *p == ':') {
			p++;
			if (!digits(&p, end, 2, &se))
				return CW_EINVAL;
			if (p < end && (*p == '.' || *p == ',')) {
				p++;
				if (p == end || !isdigit((unsigned char)*p))
					return CW_EINVAL;
				while (p < end && isdigit((unsigned char)*p))
					p++;
			}
		}
		if (h > 23 || mi > 59 || se > 60)
			return CW_EINVAL;
	}
	while (p < end && *p == ' ')
		p++;
	if (p < end) {
		if ((*p == 'Z' || *p == 'z') && p + 1 == end) {
			p++;
		} else if (end - p == 3 && memcmp(p, "UTC", 3) == 0) {
			p += 3;
		} else if (*p == '+' || *p == '-') {
			sign = *p++ == '-' ? -1 : 1;
			if (!digits(&p, end, 2, &oh))
				return CW_EINVAL;
			if (p < end && *p == ':')
				p++;
			if (p < end && !digits(&p, end, 2, &om))
				return CW_EINVAL;
			if (oh > 23 || om > 59)
				return CW_EINVAL;
		}
	}
	if (p != end)
		return CW_EINVAL;

	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se -
	       (int64_t)sign * (oh * 3600 + om * 60);
	return 0;
}

int cw_time_parse(const char *s, int64_t *out)
{
	return cw_time_parse_n(s, strlen(s), out);
}

/*
 * Calendar date of a count of days since 1970-01-01 (proleptic Gregorian):
 * the era arithmetic of H. Hinnant's "chrono-compatible low-level date
 * algorithms" (civil_from_days): 400-year eras of 146097 days, years that
 * start on 1 March so the leap day falls last.
 */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;			/* days from 0000-03-01 */
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);				/* [0, 146096] */
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;	/* [0, 399] */
	yy = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);			/* [0, 365] */
	mp = (5 * doy + 2) / 153;					/* [0, 11] */
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yy + (*m <= 2);
}

static void put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

/*
 * "YYYY-MM-DD" (date_only) or "YYYY-MM-DDTHH:MM:SSZ" into buf, without
 * gmtime and strftime (a report writes one per series).  Years 1000..9999
 * only; false for the others, which keep strftime's own spelling.
 */
static bool fmt_utc(int64_t t, bool date_only, char *buf, size_t len)
{
	int64_t days, y;
	int sod, m, d;
	char s[21];
	size_t n = date_only ? 10 : 20;

	if (len <= n || t < -30610224000LL || t > 253402300799LL)
		return false;
	days = (t >= 0 ? t : t - 86399) / 86400;
	sod = (int)(t - days * 86400);
	civil_from_days(days, &y, &m, &d);
	put2(s, (int)(y / 100));
	put2(s + 2, (int)(y % 100));
	s[4] = '-';
	put2(s + 5, m);
	s[7] = '-';
	put2(s + 8, d);
	s[10] = 'T';
	put2(s + 11, sod / 3600);
	s[13] = ':';
	put2(s + 14, sod / 60 % 60);
	s[16] = ':';
	put2(s + 17, sod % 60);
	s[19] = 'Z';
	memcpy(buf, s, n);
	buf[n] = '\0';
	return true;
}

char *cw_time_iso(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (fmt_utc(t, false, buf, len))
		return buf;
	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%lld", (long long)t);
	return buf;
}

char *cw_time_date(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (fmt_utc(t, true, buf, len))
		return buf;
	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d", &tm))
		snprintf(buf, len, "%lld", (long long)t);
	return buf;
}

int64_t cw_time_floor(int64_t t, int64_t period)
{
	int64_t r;

	if (period <= 0)
		return t;
	r = t % period;
	if (r < 0)
		r += period;
	return t - r;
}

int64_t cw_time_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

int64_t cw_time_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
