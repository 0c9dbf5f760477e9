/*
 * timeutil.h - UTC time: parsing, formatting, period alignment.
 *
 * Every time in cwsweep is an int64_t count of seconds since the Unix epoch,
 * UTC.  Nothing here reads the local time zone.
 */
#ifndef CW_TIMEUTIL_H
#define CW_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse "2014-02-14 14:30:00", "2014-02-14T14:30:00Z",
 * "2014-02-14T14:30:00.000+02:00", "2014-02-14" (midnight), or epoch
 * seconds ("1392388200", fractional part allowed and dropped).  A time
 * without a zone is UTC.  Returns 0 or CW_EINVAL.
 */
int cw_time_parse(const char *s, int64_t *out);

/* Same, for a string of known length (no NUL needed). */
int cw_time_parse_n(const char *s, size_t n, int64_t *out);

/* "2014-02-14T14:30:00Z" into buf (at least CW_TIME_ISO_LEN bytes). */
#define CW_TIME_ISO_LEN 32
char *cw_time_iso(int64_t t, char *buf, size_t len);

/* "2014-02-14" into buf (at least 16 bytes). */
char *cw_time_date(int64_t t, char *buf, size_t len);

/* Largest multiple of period that is <= t (floor, correct for t < 0). */
int64_t cw_time_floor(int64_t t, int64_t period);

/* Wall-clock now, UTC seconds. */
int64_t cw_time_now(void);

/* Monotonic clock in milliseconds, for durations and rate limiting. */
int64_t cw_time_mono_ms(void);

#endif
