/*
 * awserr.h - the error code, message and request id of an AWS error answer.
 *
 * Understands AWS JSON 1.0 bodies ({"__type": "ns#Code", "message": ...}),
 * the x-amzn-query-error header ("Code;Sender", preferred when present) and
 * Query/XML bodies (ErrorResponse/Error/{Type,Code,Message} + RequestId, and
 * the <Error> and <Response><Errors> variants), parsed with libexpat.  Any
 * input is safe: the fields are always terminated, with control characters
 * replaced by spaces and truncation on a UTF-8 character boundary.
 */
#ifndef CW_AWSERR_H
#define CW_AWSERR_H

#include <stddef.h>

struct cw_awserr {
	char code[128];      /* "Throttling", "AccessDenied"; "" when none */
	char message[512];
	char request_id[80];
	char type[16];       /* "Sender" / "Receiver" when given */
};

/*
 * Parse an error answer.  body may be NULL or not terminated; content_type
 * and query_error_header may be NULL.  Returns 0 when a code was found,
 * CW_ENOTFOUND when the answer has none (the other fields may still be
 * set); out is always initialised.
 */
int cw_awserr_parse(const char *body, size_t len, const char *content_type,
		    const char *query_error_header, struct cw_awserr *out);

#endif
