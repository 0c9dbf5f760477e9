/*
 * cli_org.c - the subcommands' side of the `organization:` section: list
 * the accounts through Organizations and swap the loaded inventory for the
 * resolved one (run, run --dry-run, validate --resolve).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "inventory.h"
#include "log.h"
#include "orgsync.h"

int cw_cli_resolve_org(struct cw_inventory *inv, const char *profile,
		       struct cw_cli_org *res)
{
	struct cw_orgsync_opts o;
	struct cw_inventory out;
	struct cw_diags diags = { NULL, 0, 0 };
	int rc;

	memset(res, 0, sizeof(*res));
	if (!inv->org)
		return 0;
	memcpy(res->management_account, inv->org->management_account, 13);
	memset(&o, 0, sizeof(o));
	o.profile = profile;
	o.endpoint_url = inv->aws.endpoint_url;
	o.sts_region = inv->aws.sts_region;
	o.max_attempts = inv->aws.max_attempts;
	rc = cw_orgsync_resolve(&o, inv, &out, &res->stats, &diags, res->err,
				sizeof(res->err));
	cw_diags_print(&diags, stderr);
	cw_diags_release(&diags);
	if (rc == CW_EINVAL && res->stats.code[0] == '\0')
		return CW_EXIT_USAGE;
	if (rc) {
		res->failed = true;
		cw_log_warn("organization: %s; sweeping the %zu account%s written in the "
			    "inventory only", res->err, inv->naccounts,
			    inv->naccounts == 1 ? "" : "s");
		return CW_EXIT_PARTIAL;
	}
	cw_log_info("organization: %zu account%s listed, %zu not active, %zu excluded, "
		    "%zu in the sweep (%zu Organizations call%s)", res->stats.listed,
		    res->stats.listed == 1 ? "" : "s", res->stats.inactive, res->stats.excluded,
		    out.naccounts, res->stats.calls, res->stats.calls == 1 ? "" : "s");
	cw_inventory_release(inv);
	*inv = out;
	return 0;
}

void cw_cli_print_org(FILE *f, const struct cw_inventory *inv, const struct cw_cli_org *org)
{
	if (!org->management_account[0] || org->failed)
		return;
	fprintf(f, "organization %s: %zu account%s listed (%zu Organizations call%s, the only "
		"calls made), %zu not active, %zu excluded; %zu to sweep:\n", org->management_account,
		org->stats.listed, org->stats.listed == 1 ? "" : "s", org->stats.calls,
		org->stats.calls == 1 ? "" : "s", org->stats.inactive, org->stats.excluded,
		inv->naccounts);
	for (size_t i = 0; i < inv->naccounts; i++) {
		const struct cw_account_def *a = &inv->accounts[i];

		fprintf(f, "  %s  %-32s %s%s\n", a->id, a->name,
			a->from_org ? "from Organizations" : "inventory entry",
			a->nroles ? "" : " (ambient credentials)");
	}
}
