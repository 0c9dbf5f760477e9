/*
 * credcache.h - per-account credentials for the sweep's workers.
 *
 * An account with a role chain gets credentials by assuming each role in
 * turn (every hop signed with the previous hop's credentials, the first
 * with the ambient provider's); an account without roles uses the ambient
 * credentials.  Results are cached per account (key: account id + role
 * chain + external id) and refreshed 5 minutes before they expire.  A
 * permanent failure (AccessDenied, ...) is remembered for the rest of the
 * run, so many workers do not ask STS the same question again.
 *
 * Threads: a global mutex guards only the entry list; each entry has its
 * own mutex, held while that account refreshes, so workers of the same
 * account wait for one refresh and reuse it while other accounts are never
 * blocked by a slow one.
 */
#ifndef CW_CREDCACHE_H
#define CW_CREDCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws.h"
#include "creds.h"
#include "inventory.h"
#include "sts.h"

struct cw_credcache_opts {
	struct cw_creds_provider *ambient; /* borrowed: first hop's signer, no-role accounts */
	struct cw_aws_ctx *aws;            /* borrowed: STS calls */
	const char *endpoint_url;          /* inventory aws.endpoint_url; NULL: none */
	const char *sts_region;            /* inventory aws.sts_region; NULL: the account's
					    * first region, then "us-east-1" */
	const char *session_name;          /* default RoleSessionName: "cwsweep-<run id>" */
	int64_t (*now)(void *env);         /* UTC seconds; NULL: cw_time_now */
	/* The AssumeRole call; NULL: cw_sts_assume_role on a client of the
	 * cache's own.  Tests inject a counting fake here. */
	int (*assume)(void *env, const struct cw_sts_request *req, cw_creds_fn get_creds,
		      void *creds_ctx, struct cw_creds *out, struct cw_sts_error *e);
	void *env;
	/* Called before each AssumeRole hop with the STS region, on the calling
	 * thread, no lock held (it may wait: a rate limit); non-zero aborts the
	 * hop as interrupted.  NULL: no pacing. */
	int (*pace)(void *pace_env, const char *region);
	/* How each AssumeRole answer went (throttled or not), for an adaptive
	 * pace; with it, pace is called before every attempt, retries
	 * included, and throttling retries within aws' throttle window.
	 * NULL: pace once per hop. */
	void (*pace_feedback)(void *pace_env, const char *region, bool throttled);
	void *pace_env;
};

struct cw_credcache;

/* New cache in *out (free with cw_credcache_free); strings copied. */
int cw_credcache_new(struct cw_credcache **out, const struct cw_credcache_opts *o,
		     char *err, size_t errlen);
void cw_credcache_free(struct cw_credcache *c);

/*
 * Credentials for acct (a copy in out: cw_creds_release it).  force_refresh
 * after ExpiredToken.  On failure err holds the formatted per-account error
 * ("assume-role ARN: AccessDenied: ...") and, when e is not NULL, e the
 * details.  acct must stay valid while the cache lives (the inventory is).
 */
int cw_credcache_get(struct cw_credcache *c, const struct cw_account_def *acct,
		     bool force_refresh, struct cw_creds *out, struct cw_sts_error *e,
		     char *err, size_t errlen);

/* The STS region of acct's AssumeRole calls (borrowed: the cache's or the
 * inventory's), for pacing decisions before a call. */
const char *cw_credcache_sts_region(const struct cw_credcache *c,
				    const struct cw_account_def *acct);

/* How many AssumeRole calls were made (every hop counted). */
uint64_t cw_credcache_assume_calls(struct cw_credcache *c);

/* cw_creds_fn adapter for cw_aws_call: ctx is a struct cw_credcache_ref *. */
struct cw_credcache_ref {
	struct cw_credcache *cache;
	const struct cw_account_def *acct;
};
int cw_credcache_fn(void *ctx, bool force_refresh, struct cw_creds *out,
		    char *err, size_t errlen);

#endif
