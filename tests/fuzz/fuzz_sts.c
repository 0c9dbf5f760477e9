/*
 * fuzz_sts.c - libFuzzer harness for the STS answer parser (sts.h): any
 * bytes.  On success every credential field is set and header-safe; on
 * failure the credentials are empty and the message is terminated.  The
 * error-document parser runs over the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "err.h"
#include "sts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_visible(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cw_creds c;
	char err[CW_ERRBUF], code[128], msg[512];
	int rc;

	memset(err, 'x', sizeof(err));
	rc = cw_sts_parse_credentials((const char *)data, size, &c, err, sizeof(err));
	if (rc) {
		if (!memchr(err, '\0', sizeof(err)) || c.session_token || c.access_key[0] ||
		    c.secret_key[0])
			abort();
	} else {
		if (!c.access_key[0] || !c.secret_key[0] || !c.session_token ||
		    !c.session_token[0] || c.expiration <= 0)
			abort();
		check_visible(c.access_key);
		check_visible(c.secret_key);
		check_visible(c.session_token);
		cw_creds_release(&c);
	}
	memset(code, 'x', sizeof(code));
	memset(msg, 'x', sizeof(msg));
	if (cw_sts_parse_error((const char *)data, size, code, sizeof(code), msg,
			       sizeof(msg)) == 0 &&
	    (!memchr(code, '\0', sizeof(code)) || !memchr(msg, '\0', sizeof(msg))))
		abort();
	return 0;
}
