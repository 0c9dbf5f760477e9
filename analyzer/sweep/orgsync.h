/*
 * orgsync.h - the inventory's `organization:` section made concrete: list
 * the organisation's accounts through Organizations (organizations.h),
 * from the management account's credentials, filter them, and parse the
 * inventory again with them (cw_inventory_parse_members).
 *
 * Filters, in order: only ACTIVE accounts unless include_suspended;
 * include_ous / exclude_ous (recursive, in the client); exclude_accounts.
 * A name Organizations gives twice, or that an `accounts:` entry already
 * uses, becomes "NAME (ID)" so that names stay unique.
 */
#ifndef CW_ORGSYNC_H
#define CW_ORGSYNC_H

#include <stddef.h>

#include "inventory.h"
#include "organizations.h"

struct cw_orgsync_opts {
	const char *profile;        /* --profile; NULL: AWS_PROFILE, "default" */
	const char *endpoint_url;   /* the inventory's aws.endpoint_url; may be NULL */
	const char *sts_region;     /* the inventory's aws.sts_region; may be NULL */
	int max_attempts;           /* 0: the default */
};

struct cw_orgsync_stats {
	size_t listed;      /* accounts the listing gave */
	size_t inactive;    /* left out: not ACTIVE */
	size_t excluded;    /* left out: exclude_accounts */
	size_t calls;       /* Organizations calls */
	char code[128];     /* on failure: the AWS error code, or a short cwsweep code */
};

/*
 * The accounts of the organisation that settings select (settings may be
 * NULL: the whole organisation, ambient credentials), all statuses, in
 * *out (cw_org_accounts_release it).  On failure err says what and
 * st->code names it.
 */
int cw_orgsync_list(const struct cw_orgsync_opts *o, const struct cw_org_settings *settings,
		    struct cw_org_accounts *out, struct cw_orgsync_stats *st,
		    char *err, size_t errlen);

/*
 * inv (with inv->org) resolved into *out.  0; CW_EINVAL when the
 * resolved inventory has problems (in diags); another code when
 * Organizations could not be read (err, st->code): then *out is empty and
 * the caller sweeps the `accounts:` it has, with a failure row.
 */
int cw_orgsync_resolve(const struct cw_orgsync_opts *o, const struct cw_inventory *inv,
		       struct cw_inventory *out, struct cw_orgsync_stats *st,
		       struct cw_diags *diags, char *err, size_t errlen);

#endif
