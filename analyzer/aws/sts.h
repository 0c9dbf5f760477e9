/*
 * sts.h - AWS STS AssumeRole and AssumeRoleWithWebIdentity (Query protocol).
 *
 * Builds the form bodies, sends them with cw_aws_call() to the regional
 * endpoint, and reads the XML answer with libexpat (element paths, never
 * string search).  A failure becomes a cw_sts_error that names the stage,
 * the role and AWS's own code and message; it never holds a credential.
 *
 * Threads: everything here is reentrant; the client passed in belongs to
 * the calling thread.
 */
#ifndef CW_STS_H
#define CW_STS_H

#include <stdbool.h>
#include <stddef.h>

#include "aws.h"
#include "buf.h"

#define CW_STS_VERSION "2011-06-15"
#define CW_STS_MAX_CHAINED_DURATION 3600

/* One AssumeRole (or, with web_identity_token, AssumeRoleWithWebIdentity). */
struct cw_sts_request {
	const char *region;        /* STS region; NULL = "us-east-1" */
	const char *endpoint_url;  /* inventory endpoint_url, NULL = the usual resolution */
	const char *role_arn;
	const char *session_name;  /* [\w+=,.@-]{2,64} */
	const char *external_id;   /* NULL when none; [\w+=,.@:/-]{2,1224} */
	int duration_seconds;      /* 0 = STS default; else 900..43200 */
	const char *web_identity_token; /* secret; non-NULL: unsigned web identity call */
	const struct cw_aws_pacer *pacer; /* NULL: not paced (see cw_aws_request) */
};

/* A precise per-account failure; never holds a secret. */
struct cw_sts_error {
	int rc;               /* cw_err: CW_EAWS, CW_EHTTP, CW_EAUTH, CW_EPARSE, CW_EINVAL */
	char stage[40];       /* "assume-role", "assume-role-with-web-identity" */
	char role_arn[256];
	char code[128];       /* AWS error code ("AccessDenied"), "" when AWS did not answer */
	char message[512];    /* AWS's message, or what went wrong locally */
	bool permanent;       /* retrying in this run cannot help (AccessDenied, ...) */
};

void cw_sts_error_init(struct cw_sts_error *e);
/* "assume-role arn:aws:iam::333333333333:role/r: AccessDenied: User: ..." */
void cw_sts_error_format(const struct cw_sts_error *e, char *out, size_t outlen);
/* True for codes that no retry in this run can fix (AccessDenied,
 * InvalidClientTokenId, RegionDisabledException, ValidationError, ...). */
bool cw_sts_code_permanent(const char *code);

/*
 * Append the form body for req to b (AssumeRole, or AssumeRoleWithWebIdentity
 * when req->web_identity_token is set), checking every parameter against
 * STS's rules first.  CW_EINVAL with a message naming the parameter.
 */
int cw_sts_form_body(struct cw_buf *b, const struct cw_sts_request *req,
		     char *err, size_t errlen);

/* application/x-www-form-urlencoded as the AWS Query serializers write it:
 * unreserved [A-Za-z0-9-_.~] kept, everything else %XX (upper case). */
int cw_sts_form_encode(struct cw_buf *b, const char *s);

/*
 * Parse an AssumeRole / AssumeRoleWithWebIdentity response into out
 * (initialised here; cw_creds_release it; wiped on failure).  Every one of
 * AccessKeyId, SecretAccessKey, SessionToken and Expiration must be there.
 * An ErrorResponse gives CW_EAWS with "Code: Message" in err; anything else
 * malformed gives CW_EPARSE.  Pure: no I/O, safe for fuzzing.
 */
int cw_sts_parse_credentials(const char *xml, size_t len, struct cw_creds *out,
			     char *err, size_t errlen);

/* Code and Message of an ErrorResponse document; CW_EPARSE when xml is
 * not one. */
int cw_sts_parse_error(const char *xml, size_t len, char *code, size_t codelen,
		       char *message, size_t msglen);

/*
 * Call STS with client c.  get_creds/creds_ctx sign the call (ignored for
 * web identity, which is unsigned).  On success 0 and out filled
 * (source "assume-role" or "web-identity"); on failure the cw_err in e->rc
 * is returned and e says what happened.
 */
int cw_sts_assume_role(struct cw_aws_client *c, const struct cw_sts_request *req,
		       cw_creds_fn get_creds, void *creds_ctx, struct cw_creds *out,
		       struct cw_sts_error *e);

#endif
