/*
 * cmd_init.c - `cwsweep init`: write a starter inventory on stdout, from
 * the accounts AWS Organizations lists (--from-organizations) or from a
 * Cloud Custodian c7n-org accounts file (--from-c7n-org FILE).  What could
 * not be carried over is said on stderr; stdout holds only the YAML, which
 * `cwsweep validate` accepts as it is.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c7norg.h"
#include "cli.h"
#include "commands.h"
#include "creds.h"
#include "err.h"
#include "orgsync.h"
#include "strutil.h"
#include "timeutil.h"
#include "validate.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cwsweep init --from-organizations [--role-name NAME] [--profile NAME]\n"
		"                    [--management-role ARN [--external-id ID]] [--region R]...\n"
		"       cwsweep init --from-c7n-org FILE [--role-name NAME]\n"
		"\n"
		"Write a commented starter inventory on stdout (redirect it to accounts.yaml),\n"
		"then check it with `cwsweep validate -i accounts.yaml`.\n"
		"\n"
		"  --from-organizations  every account AWS Organizations lists (ListAccounts\n"
		"                        from the management account's credentials: the\n"
		"                        ambient ones, or --management-role); suspended\n"
		"                        accounts are written as comments\n"
		"  --from-c7n-org FILE   convert a Cloud Custodian c7n-org accounts file\n"
		"                        (accounts[].account_id, name, role, regions,\n"
		"                        external_id, tags, vars); what cannot be carried\n"
		"                        over is listed on stderr\n"
		"  --role-name NAME      defaults.role_name (default cwsweep-reader; with\n"
		"                        c7n-org, used only when roles differ by more than\n"
		"                        the account id)\n"
		"  --management-role ARN role to assume in the management account\n"
		"  --external-id ID      its sts:ExternalId\n"
		"  --region R            defaults.regions (repeatable; default AWS_REGION,\n"
		"                        else us-east-1)\n"
		"  --profile NAME        AWS profile (default: AWS_PROFILE)\n"
		"  -h, --help            this help\n"
		"\n"
		"exit codes: 0 written; 2 usage error or a file that cannot be read;\n"
		"3 Organizations could not be read (nothing written)\n");
}

/* A YAML double-quoted scalar: only printable ASCII passes unescaped. */
static void yq(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static int from_organizations(const char *role_name, const char *profile,
			      const char *mgmt_role, const char *external_id,
			      char **regions, size_t nregions)
{
	struct cw_orgsync_opts o;
	struct cw_org_settings os;
	struct cw_orgsync_stats st;
	struct cw_org_accounts a;
	char err[CW_ERRBUF], date[16], acct[13] = "";
	size_t active = 0;
	int rc;

	memset(&o, 0, sizeof(o));
	o.profile = profile;
	memset(&os, 0, sizeof(os));
	if (mgmt_role) {
		if (cw_role_arn_account(mgmt_role, acct))
			return cw_usage_error("init: --management-role: not an IAM role ARN");
		memcpy(os.management_account, acct, 13);
		os.role_arn = (char *)mgmt_role;
		os.external_id = (char *)external_id;
	}
	rc = cw_orgsync_list(&o, mgmt_role ? &os : NULL, &a, &st, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "cwsweep: init: %s\n", err);
		return rc == CW_EAUTH ? CW_EXIT_USAGE : CW_EXIT_PARTIAL;
	}
	for (size_t i = 0; i < a.n; i++)
		active += strcmp(a.v[i].status, "ACTIVE") == 0;
	printf("# accounts.yaml - a starter inventory that `cwsweep init --from-organizations`\n"
	       "# wrote on %s from the %zu accounts AWS Organizations listed (%zu active).\n"
	       "# Check it with `cwsweep validate -i accounts.yaml`; accounts.yaml.example\n"
	       "# documents every key.\n"
	       "#\n"
	       "# To follow the organisation instead of this list, uncomment the\n"
	       "# organization section and keep only the accounts that override something.\n"
	       "version: 1\n\n"
	       "defaults:\n"
	       "  # The regions your buckets live in: edit.\n"
	       "  regions: [", cw_time_date(cw_time_now(), date, sizeof(date)), a.n, active);
	for (size_t i = 0; i < nregions; i++)
		printf("%s%s", i ? ", " : "", regions[i]);
	printf("]\n"
	       "  # The role cwsweep assumes in every account (scripts/aws/ deploys it).\n"
	       "  role_name: %s\n"
	       "  # external_id: ...           # the sts:ExternalId its trust policy requires\n"
	       "  buckets: auto                # each account's buckets, found through ListMetrics\n"
	       "\n"
	       "# organization:\n"
	       "#   management_account: \"%s\"   # %s\n"
	       "#   include_ous: [ou-...]       # only these OUs (and the OUs inside them)\n"
	       "#   exclude_ous: [ou-...]\n"
	       "\n"
	       "accounts:\n", role_name, acct[0] ? acct : "123456789012",
	       acct[0] ? "the account that answered" : "your management account's id");
	if (!active)
		printf("  []\n");
	for (size_t i = 0; i < a.n; i++) {
		if (strcmp(a.v[i].status, "ACTIVE") != 0)
			continue;
		printf("  - id: \"%s\"\n    name: ", a.v[i].id);
		yq(stdout, a.v[i].name);
		putchar('\n');
	}
	for (size_t i = 0; i < a.n; i++)
		if (strcmp(a.v[i].status, "ACTIVE") != 0) {
			printf("  # %s (left out): - id: \"%s\"  name: ", a.v[i].status, a.v[i].id);
			yq(stdout, a.v[i].name);
			putchar('\n');
		}
	fprintf(stderr, "cwsweep: init: %zu accounts written, %zu not active left as comments "
		"(%zu Organizations call%s)\n", active, a.n - active, st.calls,
		st.calls == 1 ? "" : "s");
	cw_org_accounts_release(&a);
	return CW_EXIT_OK;
}

int cw_cmd_init(int argc, char **argv)
{
	enum { O_ORG = 256, O_C7N, O_ROLE, O_PROFILE, O_MGMT, O_EXT, O_REGION };
	static const struct option longopts[] = {
		{ "from-organizations", no_argument, NULL, O_ORG },
		{ "from-c7n-org", required_argument, NULL, O_C7N },
		{ "role-name", required_argument, NULL, O_ROLE },
		{ "profile", required_argument, NULL, O_PROFILE },
		{ "management-role", required_argument, NULL, O_MGMT },
		{ "external-id", required_argument, NULL, O_EXT },
		{ "region", required_argument, NULL, O_REGION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *c7n = NULL, *role = NULL, *profile = NULL, *mgmt = NULL, *ext = NULL;
	char *regions[16];
	size_t nregions = 0;
	bool org = false;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case O_ORG:
			org = true;
			break;
		case O_C7N:
			c7n = optarg;
			break;
		case O_ROLE:
			if (cw_check_role_name(optarg))
				return cw_usage_error("init: --role-name: %s",
						      cw_check_role_name(optarg));
			role = optarg;
			break;
		case O_PROFILE:
			profile = optarg;
			break;
		case O_MGMT:
			mgmt = optarg;
			break;
		case O_EXT:
			if (cw_check_external_id(optarg))
				return cw_usage_error("init: --external-id: %s",
						      cw_check_external_id(optarg));
			ext = optarg;
			break;
		case O_REGION:
			if (cw_check_region(optarg))
				return cw_usage_error("init: --region %s: %s", optarg,
						      cw_check_region(optarg));
			if (nregions == sizeof(regions) / sizeof(regions[0]))
				return cw_usage_error("init: --region: at most 16");
			regions[nregions++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return CW_EXIT_OK;
		case ':':
			return cw_usage_error("init: %s: missing value", argv[optind - 1]);
		default:
			return cw_usage_error("init: %s: unknown option (see `cwsweep init --help`)",
					      argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cw_usage_error("init: %s: unexpected argument", argv[optind]);
	if (org == (c7n != NULL))
		return cw_usage_error("init: give one of --from-organizations or --from-c7n-org "
				      "FILE (see `cwsweep init --help`)");
	if (ext && !mgmt)
		return cw_usage_error("init: --external-id goes with --management-role");
	if (c7n) {
		if (mgmt || profile || nregions)
			return cw_usage_error("init: --from-c7n-org takes only --role-name");
		return cw_c7n_org_convert(c7n, role, stdout, stderr) ? CW_EXIT_USAGE : CW_EXIT_OK;
	}
	if (!nregions) {
		const char *r = cw_env_region(NULL);

		regions[nregions++] = (char *)(r && !cw_check_region(r) ? r : "us-east-1");
	}
	return from_organizations(role ? role : "cwsweep-reader", profile, mgmt, ext, regions,
				  nregions);
}
