/*
 * organizations.h - a small AWS Organizations client: the member accounts
 * of an organisation, or of some of its OUs.
 *
 * AWS JSON 1.1 (Content-Type application/x-amz-json-1.1, X-Amz-Target
 * AWSOrganizationsV20161128.ListAccounts / ListAccountsForParent /
 * ListChildren), signed for service `organizations` in us-east-1 on the
 * global endpoint https://organizations.us-east-1.amazonaws.com
 * (AWS_ENDPOINT_URL_ORGANIZATIONS, AWS_ENDPOINT_URL and the inventory's
 * endpoint_url override it).  Every listing follows NextToken to its end
 * through the shared pager (pager.h): a token that comes back twice is an
 * error (code PaginationLoop), not an endless loop.
 *
 * With no OU to include, one paged ListAccounts gives every account; with
 * include_ous, each OU is walked recursively (ListAccountsForParent and
 * ListChildren ORGANIZATIONAL_UNIT), skipping the excluded OUs; without
 * include_ous, the excluded OUs are walked to learn whom to drop.
 *
 * Threads: a cw_org_client is used by one thread (it holds one
 * cw_aws_client).
 */
#ifndef CW_ORGANIZATIONS_H
#define CW_ORGANIZATIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "aws.h"

#define CW_ORG_REGION "us-east-1"
#define CW_ORG_MAX_PAGES 10000 /* per listing: far past any real organisation */
#define CW_ORG_MAX_DEPTH 10    /* OUs nest at most 5 deep */

struct cw_org_account {
	char id[13];
	char *name;       /* owned; control characters replaced by spaces */
	char status[24];  /* "ACTIVE", "SUSPENDED", "PENDING_CLOSURE", ... */
};

struct cw_org_accounts {
	struct cw_org_account *v;
	size_t n, cap;
};

void cw_org_accounts_release(struct cw_org_accounts *a);

struct cw_org_filter {
	char *const *include_ous; size_t ninclude; /* OU or root ids; none: everything */
	char *const *exclude_ous; size_t nexclude;
};

struct cw_org_client {
	struct cw_aws_client *aws;  /* borrowed */
	const char *endpoint;       /* NULL: resolved with endpoint_url below */
	const char *endpoint_url;   /* the inventory's aws.endpoint_url, may be NULL */
	cw_creds_fn get_creds;      /* the management account's credentials */
	void *creds_ctx;
	size_t calls;               /* calls made (pages), counted here */
	char code[128];             /* the AWS error code of the last failure, "" else */
	char op[32];                /* the operation that failed */
};

/*
 * The accounts f selects, every status included, sorted by id, each once,
 * in *out (cw_org_accounts_release it; empty on failure).  CW_EAWS (c->code
 * set, err "organizations ListAccounts: CODE: message"), CW_EHTTP,
 * CW_EAUTH, CW_EPARSE for an answer that is not what the API returns.
 */
int cw_org_list(struct cw_org_client *c, const struct cw_org_filter *f,
		struct cw_org_accounts *out, char *err, size_t errlen);

/*
 * One page of ListAccounts / ListAccountsForParent (accounts) or
 * ListChildren (ids into *children, owned strings): the items are appended;
 * *next gets the NextToken (owned) or NULL.  For the fuzzer and tests.
 */
int cw_org_parse_page(const char *body, size_t len, struct cw_org_accounts *accounts,
		      char ***children, size_t *nchildren, char **next,
		      char *err, size_t errlen);

#endif
