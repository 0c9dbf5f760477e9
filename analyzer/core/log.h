/*
 * log.h - diagnostics on stderr.
 *
 * stdout is reserved for what a command produces (summaries, previews); all
 * logging, progress and warnings go to stderr.  Thread-safe: each call
 * writes one whole line under a mutex.  Callers must never pass a secret;
 * cw_redact() exists for the --debug-http dumps that must show headers.
 */
#ifndef CW_LOG_H
#define CW_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum cw_log_level {
	CW_LOG_QUIET = 0, /* -q: errors and warnings only (no info, no progress) */
	CW_LOG_INFO = 1,  /* default: warnings, one-line summaries */
	CW_LOG_VERBOSE = 2, /* -v: one line per HTTP request */
	CW_LOG_DEBUG = 3,   /* --debug-http: headers and bodies, redacted */
};

void cw_log_set_level(enum cw_log_level lvl);
enum cw_log_level cw_log_get_level(void);
/* Colour only on a terminal and when NO_COLOR is unset. */
void cw_log_init_from_env(void);

void cw_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cw_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cw_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cw_log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cw_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The first error of the process (cw_log_error, or one given to
 * cw_log_remember_error by code that prints its own), redacted; "" when
 * none: the reason a "could not run" notice gives.
 */
void cw_log_remember_error(const char *text);
void cw_log_first_error(char *out, size_t outlen);

/* True when stderr is a terminal and the level is at least INFO. */
bool cw_log_progress_enabled(void);
/* Rewrite the progress line in place (\r); cleared by the next log line. */
void cw_log_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cw_log_progress_end(void);

/*
 * Copy text into out (always terminated) with secrets replaced by
 * "[REDACTED]": Authorization and X-Amz-Security-Token header values,
 * SessionToken / SecretAccessKey / Token values in JSON, XML or form
 * bodies, aws_secret_access_key, and the path of hooks.slack.com URLs.
 */
void cw_redact(const char *text, char *out, size_t outlen);

/* cw_redact in place (text is size bytes, terminated). */
void cw_redact_inplace(char *text, size_t size);

/*
 * Replace every occurrence of the literal secret (a session token or a
 * secret key that was sent; ignored when shorter than 10 characters) in
 * text with "[REDACTED]", in place: for a server that echoes it without a
 * marker.
 */
void cw_redact_value(char *text, const char *secret);

/*
 * Every line the log functions write passes cw_redact first, so a text
 * that came from outside (an AWS error message) never puts a secret on
 * the terminal, whoever forgot to redact it.
 */

#endif
