/*
 * creds_sso.h - IAM Identity Center (SSO) profiles, one source of the
 * credentials chain (creds.h): a profile with `sso_session` (its
 * [sso-session NAME] section gives sso_start_url and sso_region) or the
 * legacy `sso_start_url` + `sso_region`, both with sso_account_id and
 * sso_role_name.
 *
 * As the SDKs do: read the token that `aws sso login` cached in
 * ~/.aws/sso/cache/SHA1HEX.json (SHA-1 of the session name, or of the
 * start URL for the legacy form), then GET the portal's
 * /federation/credentials?account_id=ID&role_name=NAME with the header
 * x-amz-sso_bearer_token.  The portal is https://portal.sso.REGION.
 * amazonaws.com, or AWS_ENDPOINT_URL_SSO / AWS_ENDPOINT_URL / the
 * inventory's endpoint_url.  A missing or expired token (or a portal that
 * refuses it) says to run `aws sso login --profile NAME`.  The token is not
 * refreshed here: the CLI's login refreshes it.
 *
 * Reentrant: each call reads the files and uses its own HTTP handle.
 */
#ifndef CW_CREDS_SSO_H
#define CW_CREDS_SSO_H

#include <stddef.h>

#include "creds.h"

struct cw_sso_config {
	const char *profile;    /* for messages: "aws sso login --profile NAME" */
	const char *session;    /* sso_session name; NULL for the legacy form */
	const char *start_url;  /* sso_start_url */
	const char *region;     /* sso_region: the portal's region */
	const char *account_id; /* sso_account_id */
	const char *role_name;  /* sso_role_name */
};

/*
 * Credentials for c in out (cw_creds_release them; out->expiration from
 * the portal).  CW_EINVAL for an incomplete profile, CW_EAUTH for a
 * missing/expired/refused token or a role the user may not use, CW_EHTTP
 * when the portal cannot be reached.
 */
int cw_creds_from_sso(const struct cw_creds_opts *o, const struct cw_sso_config *c,
		      struct cw_creds *out, char *err, size_t errlen);

/* The portal's answer {"roleCredentials": {accessKeyId, secretAccessKey,
 * sessionToken, expiration (epoch ms)}} into out (untrusted input; profile
 * names it in messages).  0 or CW_EPARSE / CW_ENOMEM. */
int cw_sso_parse_role_credentials(const char *profile, const char *body, size_t len,
				  struct cw_creds *out, char *err, size_t errlen);

/* The cache file name's stem: lower-case hex SHA-1 of key, into out[41]. */
void cw_sso_cache_key(const char *key, char out[41]);

#endif
