/*
 * orgsync.c - accounts from Organizations into the inventory (orgsync.h).
 * Runs on the calling thread, before the sweep starts.
 */
#include "orgsync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "credcache.h"
#include "creds.h"
#include "err.h"
#include "strutil.h"

int cw_orgsync_list(const struct cw_orgsync_opts *o, const struct cw_org_settings *settings,
		    struct cw_org_accounts *out, struct cw_orgsync_stats *st,
		    char *err, size_t errlen)
{
	struct cw_aws_opts ao;
	struct cw_aws_ctx *aws = NULL;
	struct cw_aws_client *client = NULL;
	struct cw_creds_provider *ambient = NULL;
	struct cw_credcache *cache = NULL;
	struct cw_creds_opts co;
	struct cw_credcache_opts cc;
	struct cw_account_def mgmt;
	struct cw_credcache_ref ref;
	struct cw_org_client oc;
	struct cw_org_filter f;
	char *roles[1];
	int rc;

	memset(out, 0, sizeof(*out));
	memset(st, 0, sizeof(*st));
	memset(&ao, 0, sizeof(ao));
	ao.max_attempts = o->max_attempts;
	rc = cw_aws_ctx_new(&aws, &ao);
	if (!rc)
		rc = cw_aws_client_new(&client, aws);
	if (rc) {
		cw_strlcpy(st->code, "Setup", sizeof(st->code));
		rc = cw_fail(err, errlen, rc, "organizations: cannot set up the AWS client: %s",
			     cw_strerror(rc));
		goto out;
	}
	memset(&co, 0, sizeof(co));
	co.profile = o->profile;
	co.aws = aws;
	co.sts_region = o->sts_region;
	co.endpoint_url = o->endpoint_url;
	co.session_name = "cwsweep-organizations";
	rc = cw_creds_provider_new(&ambient, &co, err, errlen);
	if (rc) {
		cw_strlcpy(st->code, "Credentials", sizeof(st->code));
		goto out;
	}
	memset(&oc, 0, sizeof(oc));
	oc.aws = client;
	oc.endpoint_url = o->endpoint_url;
	oc.get_creds = cw_creds_provider_fn;
	oc.creds_ctx = ambient;
	if (settings && settings->role_arn) {
		memset(&cc, 0, sizeof(cc));
		cc.ambient = ambient;
		cc.aws = aws;
		cc.endpoint_url = o->endpoint_url;
		cc.sts_region = o->sts_region;
		cc.session_name = "cwsweep-organizations";
		rc = cw_credcache_new(&cache, &cc, err, errlen);
		if (rc) {
			cw_strlcpy(st->code, "Setup", sizeof(st->code));
			goto out;
		}
		memset(&mgmt, 0, sizeof(mgmt));
		memcpy(mgmt.id, settings->management_account, 13);
		roles[0] = settings->role_arn;
		mgmt.roles = roles;
		mgmt.nroles = 1;
		mgmt.external_id = settings->external_id;
		mgmt.duration_seconds = 900;
		ref.cache = cache;
		ref.acct = &mgmt;
		oc.get_creds = cw_credcache_fn;
		oc.creds_ctx = &ref;
	}
	memset(&f, 0, sizeof(f));
	if (settings) {
		f.include_ous = settings->include_ous;
		f.ninclude = settings->ninclude;
		f.exclude_ous = settings->exclude_ous;
		f.nexclude = settings->nexclude;
	}
	rc = cw_org_list(&oc, &f, out, err, errlen);
	st->calls = oc.calls;
	if (rc)
		cw_strlcpy(st->code, oc.code[0] ? oc.code : rc == CW_EAUTH ? "Credentials" :
			   rc == CW_EPARSE ? "MalformedAnswer" : cw_strerror(rc), sizeof(st->code));
	else
		st->listed = out->n;
out:
	cw_credcache_free(cache);
	cw_creds_provider_free(ambient);
	cw_aws_client_free(client);
	cw_aws_ctx_free(aws);
	return rc;
}

static bool listed(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static bool name_used(const struct cw_inventory *inv, const struct cw_org_member *m, size_t n,
		      const char *name, const char *self)
{
	for (size_t i = 0; i < inv->naccounts; i++)
		if (strcmp(inv->accounts[i].name, name) == 0 && strcmp(inv->accounts[i].id, self))
			return true;
	for (size_t i = 0; i < n; i++)
		if (strcmp(m[i].name, name) == 0)
			return true;
	return false;
}

/* The name an `accounts:` entry gives id ("" when it has none, or no entry).
 * An entry without a name was given its id as name by the parse. */
static const char *entry_name(const struct cw_inventory *inv, const char *id, bool *has_entry)
{
	*has_entry = false;
	for (size_t i = 0; i < inv->naccounts; i++)
		if (strcmp(inv->accounts[i].id, id) == 0) {
			*has_entry = true;
			return strcmp(inv->accounts[i].name, id) ? inv->accounts[i].name : "";
		}
	return "";
}

int cw_orgsync_resolve(const struct cw_orgsync_opts *o, const struct cw_inventory *inv,
		       struct cw_inventory *out, struct cw_orgsync_stats *st,
		       struct cw_diags *diags, char *err, size_t errlen)
{
	const struct cw_org_settings *os = inv->org;
	struct cw_org_accounts accts;
	struct cw_org_member *m = NULL;
	char **names = NULL;
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = cw_orgsync_list(o, os, &accts, st, err, errlen);
	if (rc)
		return rc;
	m = calloc(accts.n + 1, sizeof(*m));
	names = calloc(accts.n + 1, sizeof(*names));
	if (!m || !names) {
		rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < accts.n; i++) {
		const struct cw_org_account *a = &accts.v[i];
		char *nm;

		if (!os->include_suspended && strcmp(a->status, "ACTIVE") != 0) {
			st->inactive++;
			continue;
		}
		if (listed(os->exclude_accounts, os->nexclude_accounts, a->id)) {
			st->excluded++;
			continue;
		}
		/* an entry in the file keeps its own name when it has one; the
		 * others take Organizations' name, made unique with the id */
		{
			bool has_entry;
			const char *own = entry_name(inv, a->id, &has_entry);

			if (*own)
				nm = cw_strdup(own);
			else if (name_used(inv, m, n, a->name, a->id))
				nm = cw_asprintf("%s (%s)", a->name, a->id);
			else
				nm = cw_strdup(a->name);
		}
		if (!nm) {
			rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
			goto out;
		}
		names[n] = nm;
		m[n].id = a->id;
		m[n].name = nm;
		n++;
	}
	rc = cw_inventory_parse_members(inv->path, os->text, os->text_len, m, n, out, diags);
	if (rc)
		rc = cw_fail(err, errlen, rc == CW_ENOMEM ? CW_ENOMEM : CW_EINVAL,
			     "the inventory with the accounts of the organization has problems");
out:
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
	free(m);
	cw_org_accounts_release(&accts);
	return rc;
}
