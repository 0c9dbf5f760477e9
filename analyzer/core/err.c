/*
 * err.c - descriptions of cw_err codes and the cw_fail helper.
 */
#include <stdarg.h>
#include <stdio.h>

#include "err.h"

const char *cw_strerror(int err)
{
	switch (err) {
	case CW_OK: return "success";
	case CW_ENOMEM: return "out of memory";
	case CW_EINVAL: return "invalid input";
	case CW_EIO: return "input/output error";
	case CW_EPARSE: return "malformed document";
	case CW_ETOOBIG: return "size limit exceeded";
	case CW_ENOTFOUND: return "not found";
	case CW_EHTTP: return "transport error";
	case CW_EAWS: return "AWS error";
	case CW_EAUTH: return "credentials error";
	case CW_EINTR: return "interrupted";
	case CW_ESTATE: return "invalid state";
	case CW_ESTALE: return "changed since it was read";
	default: return "unknown error";
	}
}

int cw_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return code;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}
