/*
 * creds.h - the ambient AWS credentials chain, in the SDKs' order:
 *
 *   1. environment     AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
 *   2. profile         --profile / AWS_PROFILE / "default" in
 *                      AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials) and
 *                      AWS_CONFIG_FILE (~/.aws/config, "[profile NAME]"):
 *                      role_arn + source_profile | web_identity_token_file,
 *                      IAM Identity Center (sso_session / sso_start_url,
 *                      creds_sso.h), static keys, credential_process
 *   3. web identity    AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
 *   4. container       AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI
 *   5. EC2 IMDSv2      unless AWS_EC2_METADATA_DISABLED=true
 *
 * A source that is not configured is skipped (and named in the final
 * "no AWS credentials found: tried ..." message); a source that is
 * configured but fails stops the chain with its own error, as the SDKs do.
 *
 * A cw_creds_provider resolves the chain once, remembers which source
 * answered, and refreshes from that source when fewer than 5 minutes are
 * left or when asked to (after ExpiredToken).  Threads: one mutex guards the
 * provider and is held during a fetch, so concurrent callers wait for a
 * single refresh and then share its result.
 */
#ifndef CW_CREDS_H
#define CW_CREDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws.h"

#define CW_CREDS_REFRESH_MARGIN 300 /* seconds before expiry that count as expired */
#define CW_CREDS_FORCE_INTERVAL 10  /* a forced refresh this soon after a fetch reuses it */
#define CW_CREDS_RETRY_INTERVAL 30  /* after a failed refresh, still-valid credentials
				     * are reused this long before trying again */

struct cw_creds_opts {
	const char *profile;        /* --profile; NULL: AWS_PROFILE, then "default" */
	struct cw_aws_ctx *aws;     /* for STS (role profiles, web identity); NULL: those fail */
	const char *sts_region;     /* NULL: AWS_REGION, AWS_DEFAULT_REGION, the profile's
				     * region, then "us-east-1" */
	const char *endpoint_url;   /* inventory endpoint_url for STS; NULL: none */
	const char *session_name;   /* RoleSessionName default; NULL: "cwsweep-<epoch>" */
	long metadata_timeout_ms;   /* IMDS / container connect and total; 0: 1000 */
	long process_timeout_ms;    /* credential_process; 0: 60000 */
	int64_t (*now)(void *env);  /* UTC seconds; NULL: cw_time_now */
	/* A custom single source instead of the chain (tests, embedding); NULL:
	 * the chain.  Called with the provider's lock held. */
	int (*fetch)(void *env, struct cw_creds *out, char *err, size_t errlen);
	void *env;
};

/* ---- one pass over the chain ------------------------------------------- */

enum cw_creds_source {
	CW_CREDS_SRC_NONE = 0,
	CW_CREDS_SRC_ENV,
	CW_CREDS_SRC_PROFILE,
	CW_CREDS_SRC_WEB_IDENTITY,
	CW_CREDS_SRC_CONTAINER,
	CW_CREDS_SRC_IMDS,
	CW_CREDS_SRC_CUSTOM,
};

/* "environment", "profile", "web identity", "container", "EC2 instance metadata" */
const char *cw_creds_source_name(enum cw_creds_source s);

/*
 * Walk the chain (or only `only` when it is not CW_CREDS_SRC_NONE).  On
 * success 0, out filled (cw_creds_release it), *src set when not NULL.
 * CW_EAUTH "no AWS credentials found: tried ..." when no source is
 * configured; another cw_err with that source's reason when one failed.
 */
int cw_creds_resolve(const struct cw_creds_opts *o, enum cw_creds_source only,
		     struct cw_creds *out, enum cw_creds_source *src, char *err, size_t errlen);

/*
 * The individual sources.  Each returns 0 (out filled), CW_ENOTFOUND when
 * it is not configured (err says why, e.g. "AWS_ACCESS_KEY_ID unset"), or
 * another cw_err when it is configured but failed.
 */
/* The region the environment names: AWS_REGION, else AWS_DEFAULT_REGION
 * (empty counts as unset), else dflt (may be NULL). */
const char *cw_env_region(const char *dflt);
int cw_creds_from_env(struct cw_creds *out, char *err, size_t errlen);
int cw_creds_from_profile(const struct cw_creds_opts *o, struct cw_creds *out,
			  char *err, size_t errlen);
int cw_creds_from_web_identity_env(const struct cw_creds_opts *o, struct cw_creds *out,
				   char *err, size_t errlen);
int cw_creds_from_container(const struct cw_creds_opts *o, struct cw_creds *out,
			    char *err, size_t errlen);
int cw_creds_from_imds(const struct cw_creds_opts *o, struct cw_creds *out,
		       char *err, size_t errlen);

/* Run a credential_process command (/bin/sh -c) and read its JSON. */
int cw_creds_from_process(const char *command, long timeout_ms, struct cw_creds *out,
			  char *err, size_t errlen);

/* Parse {AccessKeyId, SecretAccessKey, Token|SessionToken, Expiration}
 * (container, IMDS, credential_process JSON).  what names the source in
 * messages.  Expiration required when require_expiration. */
int cw_creds_parse_json(const char *json, size_t len, const char *what,
			bool require_expiration, struct cw_creds *out, char *err, size_t errlen);

/* ---- the provider -------------------------------------------------------- */

struct cw_creds_provider;

/* New provider in *out (free with cw_creds_provider_free); strings in o are
 * copied.  Nothing is fetched yet. */
int cw_creds_provider_new(struct cw_creds_provider **out, const struct cw_creds_opts *o,
			  char *err, size_t errlen);
void cw_creds_provider_free(struct cw_creds_provider *p);

/*
 * Current credentials (a copy in out: cw_creds_release it), fetching or
 * refreshing first when needed.  Thread-safe; a single fetch at a time.
 */
int cw_creds_provider_get(struct cw_creds_provider *p, bool force_refresh,
			  struct cw_creds *out, char *err, size_t errlen);

/* The source that answered ("" before the first success), into buf. */
void cw_creds_provider_source(struct cw_creds_provider *p, char *buf, size_t len);
/* How many fetches were made (successful or not). */
uint64_t cw_creds_provider_fetches(struct cw_creds_provider *p);

/* cw_creds_fn adapter: ctx is a struct cw_creds_provider *. */
int cw_creds_provider_fn(void *ctx, bool force_refresh, struct cw_creds *out,
			 char *err, size_t errlen);

/* cw_creds_fn that hands out a copy of fixed credentials: ctx is a
 * const struct cw_creds * (borrowed, must outlive the calls). */
int cw_creds_static_fn(void *ctx, bool force_refresh, struct cw_creds *out,
		       char *err, size_t errlen);

#endif
