/*
 * strutil.h - small string helpers that the C library lacks or gets wrong.
 */
#ifndef CW_STRUTIL_H
#define CW_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>

/* strdup that aborts the program on allocation failure is NOT provided on
 * purpose: these return NULL on failure and callers handle it. */
char *cw_strdup(const char *s);             /* NULL in, NULL out */
char *cw_strndup(const char *s, size_t n);
char *cw_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Replace *dst (freed) with a copy of src ("" for NULL); 0 or CW_ENOMEM,
 * and then *dst is unchanged. */
int cw_str_set(char **dst, const char *src);

bool cw_str_startswith(const char *s, const char *prefix);
bool cw_str_endswith(const char *s, const char *suffix);
bool cw_str_ieq(const char *a, const char *b);      /* ASCII case-insensitive */

/* Copy at most size-1 bytes and always terminate; returns strlen(src). */
size_t cw_strlcpy(char *dst, const char *src, size_t size);

/* Levenshtein distance, for "did you mean" suggestions (short strings). */
size_t cw_edit_distance(const char *a, const char *b);

/* The candidate closest to s (NULL-terminated list), or NULL when none is
 * within a sensible distance. */
const char *cw_closest(const char *s, const char *const *candidates);

/* Full-range checked integer parse: whole string, base 10. */
int cw_parse_i64(const char *s, long long min, long long max, long long *out);

/* Constant-time-ish wipe that the compiler may not drop (for secrets). */
void cw_wipe(void *p, size_t n);

/* s is an environment variable's name: [A-Za-z_][A-Za-z0-9_]*, at most 128
 * bytes (never a URL, which may be a secret). */
bool cw_env_name_ok(const char *s);

#endif
