/*
 * c7norg.h - a Cloud Custodian c7n-org accounts file turned into a
 * cwsweep inventory (`cwsweep init --from-c7n-org FILE`).
 *
 * c7n-org's file (its CONFIG_SCHEMA): top-level `accounts` (and `vars`);
 * each account has `account_id` (12 digits), `name`, `role` (an ARN, or a
 * list of ARNs assumed in turn), `external_id`, `regions` (default
 * us-east-1 and us-west-2; `all`), `tags` (a list of "key:value"
 * strings), `vars`, and also `profile`, `display_name`, `email`, `org_id`.
 *
 * Carried over: id, name, role (a chain stays a chain; when every account
 * uses the same role name in its own account, it becomes
 * defaults.role_name), external_id (defaults.external_id when all agree),
 * regions, tags (a tag without ':' gets an empty value).  Reported, not
 * carried: `vars`, `profile` (cwsweep assumes roles from one set of
 * credentials), `regions: [all]`, display_name/email/org_id.  Buckets are
 * not in c7n-org: every account gets `buckets: auto`.
 */
#ifndef CW_C7NORG_H
#define CW_C7NORG_H

#include <stddef.h>
#include <stdio.h>

#include "buf.h"
#include "inventory.h"

/*
 * Convert len bytes of c7n-org YAML (name labels messages).  The
 * inventory goes to out, one line per thing not carried over to notes.
 * role_name: defaults.role_name to prefer (NULL: derived).  0, CW_EINVAL
 * (problems of the input in diags, as file:line:col), CW_ENOMEM.  The
 * result is checked by parsing it as an inventory.
 */
int cw_c7n_org_to_inventory(const char *name, const char *text, size_t len,
			    const char *role_name, struct cw_buf *out, struct cw_buf *notes,
			    struct cw_diags *diags);

/* Read path, convert, write the inventory to out and the notes and
 * problems to err.  0 or a cw_err. */
int cw_c7n_org_convert(const char *path, const char *role_name, FILE *out, FILE *err);

#endif
