/*
 * cmd_validate.c - `cwsweep validate [-i FILE]`: load an inventory, print
 * every problem as `file:line:col: message` (exit 2), or a summary of what
 * a run would sweep (exit 0).  Nothing is fetched and nothing is written.
 */
#include <getopt.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "detector.h"
#include "err.h"
#include "inventory.h"
#include "units.h"

#define DEFAULT_INVENTORY "accounts.yaml"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cwsweep validate [-i FILE] [--resolve [--profile NAME]]\n"
		"\n"
		"Check an inventory and print what a run would sweep: accounts, regions,\n"
		"buckets, metrics, and the detectors with their effective parameters.\n"
		"Every problem is printed as FILE:LINE:COLUMN: message.\n"
		"\n"
		"options:\n"
		"  -i, --inventory FILE  the inventory (default " DEFAULT_INVENTORY ")\n"
		"  --resolve             with an organization section: list the accounts\n"
		"                        through Organizations now and show the resolved list\n"
		"  --profile NAME        AWS profile for --resolve (default: AWS_PROFILE)\n"
		"  -h, --help            this help\n"
		"\n"
		"exit codes: 0 the inventory is valid; 2 it is not (or a usage error);\n"
		"3 --resolve could not read Organizations\n");
}

/* One parameter value as a user would write it. */
static void fmt_param(const struct cw_param_spec *sp, double v, char *buf, size_t len)
{
	if (isnan(v)) { /* resolved from the series' period when it is judged */
		snprintf(buf, len, "per-period");
		return;
	}
	switch (sp->type) {
	case CW_PARAM_BYTES:
		cw_fmt_bytes(v, buf, len);
		break;
	case CW_PARAM_DURATION:
		cw_fmt_duration((int64_t)v, buf, len);
		break;
	case CW_PARAM_ENUM:
		snprintf(buf, len, "%s", sp->choices ? sp->choices[(size_t)v] : "?");
		break;
	default:
		cw_fmt_plain(v, buf, len);
		break;
	}
}

static void print_conf(const struct cw_detector_conf *conf, const char *indent)
{
	size_t n = cw_detector_nparams(conf->ops);
	char val[64];

	printf("%s%-9s", indent, conf->ops->name);
	for (size_t i = 0; i < n; i++) {
		const struct cw_param_spec *sp = cw_detector_param_at(conf->ops, i);

		if (!sp)
			continue;
		fmt_param(sp, conf->p[i], val, sizeof(val));
		printf(" %s=%s", sp->name, val);
	}
	putchar('\n');
}

static bool same_set(const struct cw_det_set *a, const struct cw_det_set *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].ops != b->v[i].ops ||
		    memcmp(a->v[i].p, b->v[i].p, sizeof(a->v[i].p)) != 0)
			return false;
	return true;
}

static void print_summary(const char *path, const struct cw_inventory *inv,
			  const struct cw_cli_org *org)
{
	struct cw_inventory_summary s;
	char a[32], b[32];

	cw_inventory_summarize(inv, &s);
	printf("%s: ok\n", path);
	printf("accounts:  %zu (%zu with bucket auto-discovery, %zu disabled)\n", s.accounts,
	       s.auto_accounts, s.disabled);
	printf("regions:   %zu\n", s.regions);
	printf("buckets:   %zu listed\n", s.buckets);
	printf("period:    %s, lookback %d days\n", cw_fmt_duration(inv->period, a, sizeof(a)),
	       inv->lookback_days);
	printf("metrics:   %zu\n", s.metrics);
	for (size_t i = 0; i < inv->nmetrics; i++) {
		const struct cw_metric_def *m = &inv->metrics[i];

		printf("  %s%s%s%s", m->label, m->unit[0] ? " (" : "", m->unit,
		       m->unit[0] ? ")" : "");
		for (size_t d = 0; d < m->ndims; d++)
			printf(" %s=%s", m->dims[d].name, m->dims[d].value);
		putchar('\n');
	}
	printf("detectors: %zu in use; the defaults:\n", s.detectors);
	for (size_t i = 0; i < inv->detectors.n; i++)
		print_conf(&inv->detectors.v[i], "  ");
	printf("targets:   %zu known before discovery%s\n", s.targets,
	       s.auto_accounts ? " (plus the buckets discovery finds)" : "");
	if (inv->org)
		printf("organization: management account %s%s%s; its accounts are listed at "
		       "run time (validate --resolve lists them now)\n",
		       inv->org->management_account, inv->org->role_arn ? " through " : "",
		       inv->org->role_arn ? inv->org->role_arn : "");
	if (org && !org->failed && org->management_account[0])
		printf("organization: management account %s: %zu accounts listed, %zu not active, "
		       "%zu excluded\n", org->management_account, org->stats.listed,
		       org->stats.inactive, org->stats.excluded);
	printf("\n%-32s %-8s %-8s %s\n", "account", "regions", "buckets", "credentials");
	for (size_t i = 0; i < inv->naccounts; i++) {
		const struct cw_account_def *ac = &inv->accounts[i];
		/* the whole name and id, however long: the column widens */
		int w = printf("%s (%s)", ac->name, ac->id);

		snprintf(b, sizeof(b), "%zu", ac->nbuckets);
		printf("%*s %-8zu %-8s %s%s%s\n", w < 32 ? 32 - w : 0, "", ac->nregions,
		       ac->buckets_auto ? "auto" : b,
		       ac->nroles ? ac->roles[ac->nroles - 1] : "ambient credentials",
		       ac->nroles > 1 ? " (role chain)" : "",
		       org && org->management_account[0] && !ac->from_org ? " (inventory)" : "");
		if (!same_set(&ac->detectors, &inv->detectors)) {
			printf("  detectors of %s:\n", ac->name);
			for (size_t k = 0; k < ac->detectors.n; k++)
				print_conf(&ac->detectors.v[k], "    ");
		}
		for (size_t k = 0; k < ac->nbuckets; k++) {
			const struct cw_bucket_def *bk = &ac->buckets[k];

			if (same_set(&bk->detectors, &ac->detectors))
				continue;
			printf("  detectors of bucket %s:\n", bk->name);
			for (size_t j = 0; j < bk->detectors.n; j++)
				print_conf(&bk->detectors.v[j], "    ");
		}
	}
	if (inv->billing.enabled) {
		const struct cw_billing_def *bd = &inv->billing;

		printf("\nbilling:   payer %s, us-east-1, %s; linked accounts: %s; services:",
		       bd->payer.id, bd->payer.nroles ? bd->payer.roles[bd->payer.nroles - 1]
						      : "ambient credentials",
		       bd->linked_all ? "all" : "those of this inventory");
		for (size_t i = 0; i < bd->nservices; i++)
			printf(" %s", bd->services[i]);
		putchar('\n');
		if (!same_set(&bd->payer.detectors, &inv->detectors)) {
			printf("  detectors of billing:\n");
			for (size_t k = 0; k < bd->payer.detectors.n; k++)
				print_conf(&bd->payer.detectors.v[k], "    ");
		}
	}
}

int cw_cmd_validate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "inventory", required_argument, NULL, 'i' },
		{ "resolve", no_argument, NULL, 'R' },
		{ "profile", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_INVENTORY, *profile = NULL;
	struct cw_inventory inv;
	struct cw_cli_org org;
	bool resolve = false;
	struct cw_diags diags = { NULL, 0, 0 };
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (!optarg[0])
				return cw_usage_error("validate: -i: empty file name");
			path = optarg;
			break;
		case 'R':
			resolve = true;
			break;
		case 'P':
			profile = optarg;
			break;
		case 'h':
			usage(stdout);
			return CW_EXIT_OK;
		case ':':
			return cw_usage_error("validate: %s: missing value", argv[optind - 1]);
		default:
			if (optopt && optopt != '?')
				return cw_usage_error("validate: -%c: unknown option (see "
						      "`cwsweep validate --help`)", optopt);
			return cw_usage_error("validate: %s: unknown option (see "
					      "`cwsweep validate --help`)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cw_usage_error("validate: %s: unexpected argument (the inventory is "
				      "given with -i FILE)", argv[optind]);
	rc = cw_inventory_load(path, &inv, &diags);
	if (rc) {
		cw_diags_print(&diags, stderr);
		if (diags.n == 0)
			fprintf(stderr, "%s: %s\n", path, cw_strerror(rc));
		cw_diags_release(&diags);
		return CW_EXIT_USAGE;
	}
	memset(&org, 0, sizeof(org));
	if (resolve && inv.org) {
		rc = cw_cli_resolve_org(&inv, profile, &org);
		if (rc) {
			if (org.failed)
				fprintf(stderr, "%s: organization: %s\n", path, org.err);
			cw_inventory_release(&inv);
			return rc;
		}
	}
	print_summary(path, &inv, &org);
	cw_inventory_release(&inv);
	cw_diags_release(&diags);
	return CW_EXIT_OK;
}
