/*
 * units.h - numbers with units, as users write them in the inventory and
 * on the command line.
 *
 *   bytes:    "100GB", "1.5TiB", "512 MB", "1e9", "42"   (GB = 10^9,
 *             GiB = 2^30; B, KB..PB and KiB..PiB; case-insensitive suffix)
 *   duration: "90s", "15m", "1h", "1d", "7d", "2w", "3600" (plain = seconds)
 *   number:   "2.5", "-1", "3e2"
 *
 * Each returns 0, or CW_EINVAL with a short reason in err.  NaN, infinities
 * and trailing garbage are rejected.
 */
#ifndef CW_UNITS_H
#define CW_UNITS_H

#include <stddef.h>
#include <stdint.h>

int cw_parse_number(const char *s, double *out, char *err, size_t errlen);
int cw_parse_bytes(const char *s, double *out, char *err, size_t errlen);
int cw_parse_duration(const char *s, int64_t *out, char *err, size_t errlen);

/* Human form for reports: "1.23 GB" (decimal units, 3 significant digits). */
char *cw_fmt_bytes(double v, char *buf, size_t len);
/* Human form of a duration: "7d", "1h", "90s" (largest exact unit). */
char *cw_fmt_duration(int64_t secs, char *buf, size_t len);
/* Plain number for machine formats: the shortest digits that read back to
 * v (strtod), "" for NaN and infinities.  Integers below 2^53 as integers;
 * 1e-6 <= |v| < 1e15 positional ("0.000012345", "1234.5"); else "%g"-style
 * ("1.5e-07", "1e+16").  Never thousands separators, never locale. */
char *cw_fmt_plain(double v, char *buf, size_t len);
/* Decimal integers, as "%lld" and "%llu" print them (cut to len - 1). */
char *cw_fmt_int(long long v, char *buf, size_t len);
char *cw_fmt_uint(unsigned long long v, char *buf, size_t len);

#endif
