/*
 * err.h - error codes shared by every module.
 *
 * Functions return 0 on success and a negative cw_err on failure.  Where a
 * human-readable reason matters, the caller passes its own message buffer
 * (char *err, size_t errlen; CW_ERRBUF bytes is enough) that the callee
 * fills; there is no global "last error", so every worker job owns its own.
 * Messages start lowercase, have no trailing full stop, and never contain a
 * secret.
 */
#ifndef CW_ERR_H
#define CW_ERR_H

#include <stddef.h>

#define CW_ERRBUF 512

enum cw_err {
	CW_OK = 0,
	CW_ENOMEM = -1,    /* out of memory */
	CW_EINVAL = -2,    /* bad argument or bad input */
	CW_EIO = -3,       /* file or socket I/O */
	CW_EPARSE = -4,    /* malformed document (JSON, XML, YAML, CSV, INI) */
	CW_ETOOBIG = -5,   /* a size cap was hit */
	CW_ENOTFOUND = -6, /* no such thing (file, profile, metric) */
	CW_EHTTP = -7,     /* transport failure (connect, timeout, reset) */
	CW_EAWS = -8,      /* AWS answered with an error code */
	CW_EAUTH = -9,     /* no credentials, or credentials refused */
	CW_EINTR = -10,    /* interrupted by a signal or a shutdown request */
	CW_ESTATE = -11,   /* call made in the wrong state (programmer error) */
	CW_ESTALE = -12,   /* what was read changed before it was written back */
};

/* A static, lowercase description of a cw_err. Never NULL. */
const char *cw_strerror(int err);

/*
 * Format a message into err (may be NULL, then nothing happens) and return
 * code unchanged, so a failure path reads `return cw_fail(err, errlen,
 * CW_EINVAL, "period: %s", why);`.
 */
int cw_fail(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
