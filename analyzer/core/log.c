/*
 * log.c - diagnostics on stderr (see log.h).
 *
 * Locking: one mutex serialises every write to stderr so lines from worker
 * threads never interleave; the level is an atomic read.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "strutil.h"

static atomic_int log_level = CW_LOG_INFO;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static bool log_color;
static bool progress_shown; /* under log_mu */
static char first_error[1024]; /* under log_mu: the first error of the process */

void cw_log_set_level(enum cw_log_level lvl)
{
	atomic_store(&log_level, (int)lvl);
}

enum cw_log_level cw_log_get_level(void)
{
	return (enum cw_log_level)atomic_load(&log_level);
}

void cw_log_init_from_env(void)
{
	const char *nc = getenv("NO_COLOR");

	log_color = isatty(STDERR_FILENO) && !(nc && *nc);
}

static void log_line(const char *tag, const char *color, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#define LINE_MAX_BYTES 8192

static void log_line(const char *tag, const char *color, const char *fmt, va_list ap)
{
	char raw[LINE_MAX_BYTES], red[LINE_MAX_BYTES + 256];

	/* formatted and redacted outside the lock */
	vsnprintf(raw, sizeof(raw), fmt, ap);
	cw_redact(raw, red, sizeof(red));
	pthread_mutex_lock(&log_mu);
	if (tag && strcmp(tag, "error") == 0 && !first_error[0])
		cw_strlcpy(first_error, red, sizeof(first_error));
	if (progress_shown) {
		fputs("\r\033[K", stderr);
		progress_shown = false;
	}
	if (tag) {
		if (log_color && color)
			fprintf(stderr, "%scwsweep: %s:\033[0m ", color, tag);
		else
			fprintf(stderr, "cwsweep: %s: ", tag);
	} else {
		fputs("cwsweep: ", stderr);
	}
	fputs(red, stderr);
	fputc('\n', stderr);
	fflush(stderr);
	pthread_mutex_unlock(&log_mu);
}

#define LOG_FN(fn, lvl, tag, color)                         \
	void fn(const char *fmt, ...)                       \
	{                                                   \
		va_list ap;                                 \
		if (atomic_load(&log_level) < (lvl))        \
			return;                             \
		va_start(ap, fmt);                          \
		log_line(tag, color, fmt, ap);              \
		va_end(ap);                                 \
	}

LOG_FN(cw_log_error, CW_LOG_QUIET, "error", "\033[1;31m")
LOG_FN(cw_log_warn, CW_LOG_QUIET, "warning", "\033[1;33m")
LOG_FN(cw_log_info, CW_LOG_INFO, NULL, NULL)
LOG_FN(cw_log_verbose, CW_LOG_VERBOSE, NULL, NULL)
LOG_FN(cw_log_debug, CW_LOG_DEBUG, "debug", "\033[2m")

bool cw_log_progress_enabled(void)
{
	return atomic_load(&log_level) >= CW_LOG_INFO && isatty(STDERR_FILENO);
}

void cw_log_progress(const char *fmt, ...)
{
	va_list ap;

	if (!cw_log_progress_enabled())
		return;
	pthread_mutex_lock(&log_mu);
	fputs("\r\033[K", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
	progress_shown = true;
	pthread_mutex_unlock(&log_mu);
}

void cw_log_progress_end(void)
{
	pthread_mutex_lock(&log_mu);
	if (progress_shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		progress_shown = false;
	}
	pthread_mutex_unlock(&log_mu);
}

/*
 * Secret markers.  After a marker, separators (quotes, colon, equals, '>'
 * and blanks) are copied, then the value is replaced up to its end: the end
 * of the line for whole-line markers (Authorization), else the first quote,
 * '<', '&', comma, blank or line end.
 */
static const struct {
	const char *word;
	bool whole_line;
} secret_markers[] = {
	{ "authorization", true },
	{ "x-amz-security-token", false },
	{ "x-aws-ec2-metadata-token", false },
	{ "secretaccesskey", false },
	{ "sessiontoken", false },
	{ "webidentitytoken", false },
	{ "secret_access_key", false },
	{ "session_token", false },
	{ "\"token\"", false },
	{ "<token>", false },
	{ "hooks.slack.com", false },
	{ "/services/", false },
	{ "/slack/", false },
};

static size_t match_marker(const char *p, bool *whole_line)
{
	for (size_t i = 0; i < sizeof(secret_markers) / sizeof(secret_markers[0]); i++) {
		const char *w = secret_markers[i].word;
		size_t n = strlen(w), k;

		for (k = 0; k < n && p[k]; k++)
			if (tolower((unsigned char)p[k]) != w[k])
				break;
		if (k == n) {
			*whole_line = secret_markers[i].whole_line;
			return n;
		}
	}
	return 0;
}

void cw_redact(const char *text, char *out, size_t outlen)
{
	static const char mark[] = "[REDACTED]";
	size_t o = 0;
	const char *p = text;

	if (!outlen)
		return;
#define PUT(c) do { if (o + 1 < outlen) out[o++] = (c); } while (0)
	while (*p) {
		bool whole = false;
		size_t n = match_marker(p, &whole);

		if (!n) {
			PUT(*p);
			p++;
			continue;
		}
		for (size_t i = 0; i < n; i++)
			PUT(p[i]);
		p += n;
		/* separators; a slash belongs to the value of URL markers */
		for (int i = 0; i < 6 && *p && strchr("\"': =>\t", *p); i++)
			PUT(*p++);
		if (whole) {
			if (*p && *p != '\r' && *p != '\n')
				for (const char *m = mark; *m; m++)
					PUT(*m);
			while (*p && *p != '\r' && *p != '\n')
				p++;
			continue;
		}
		if (*p && !strchr("\"'<&,; \t\r\n}", *p)) {
			for (const char *m = mark; *m; m++)
				PUT(*m);
			while (*p && !strchr("\"'<&,; \t\r\n}", *p))
				p++;
		}
	}
#undef PUT
	out[o] = '\0';
}

void cw_redact_inplace(char *text, size_t size)
{
	char *tmp;

	if (!text || !size || !(tmp = malloc(size)))
		return;
	cw_redact(text, tmp, size);
	memcpy(text, tmp, size);
	free(tmp);
}

void cw_redact_value(char *text, const char *secret)
{
	static const char mark[] = "[REDACTED]";
	size_t n = secret ? strlen(secret) : 0;
	char *p;

	if (!text || n < sizeof(mark) - 1)
		return;
	while ((p = strstr(text, secret)) != NULL) {
		memcpy(p, mark, sizeof(mark) - 1);
		memmove(p + sizeof(mark) - 1, p + n, strlen(p + n) + 1);
	}
}

void cw_log_remember_error(const char *text)
{
	char red[sizeof(first_error) + 256];

	cw_redact(text ? text : "", red, sizeof(red));
	pthread_mutex_lock(&log_mu);
	if (!first_error[0])
		cw_strlcpy(first_error, red, sizeof(first_error));
	pthread_mutex_unlock(&log_mu);
}

void cw_log_first_error(char *out, size_t outlen)
{
	pthread_mutex_lock(&log_mu);
	cw_strlcpy(out, first_error, outlen);
	pthread_mutex_unlock(&log_mu);
}
