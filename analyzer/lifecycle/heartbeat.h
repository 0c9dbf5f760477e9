/*
 * heartbeat.h - a dead man's switch: ping a URL after every run, as
 * healthchecks.io and Cronitor expect (reporting.heartbeat_url_env names
 * the variable that holds the URL; the URL is a secret and is never
 * printed, only its host).
 *
 * Success (exit 0 or 1): POST to the URL.  Failure (exit 2 or 3): POST to
 * URL/fail (before any query).  The body is the run's one-line summary,
 * which such services keep with the ping.  A ping that cannot be sent is
 * a warning, never a change of the exit code: the missing ping is itself
 * the alarm.
 *
 * Threads: the thread that owns the run, after cw_http_global_init().
 */
#ifndef CW_HEARTBEAT_H
#define CW_HEARTBEAT_H

#include <stdbool.h>
#include <stddef.h>

/* The URL to ping: url itself, or with "/fail" inserted before its query.
 * CW_ETOOBIG when it does not fit. */
int cw_heartbeat_url(const char *url, bool ok, char *out, size_t outlen);

/* Ping (one try, and one more after a connection failure; 10 s each).
 * 0, or CW_EINVAL (a refused URL) / CW_EHTTP with err naming the host. */
int cw_heartbeat_ping(const char *url, bool ok, const char *body,
		      char *err, size_t errlen);

#endif
