/*
 * cmd_ack.c - `cwsweep ack ACCOUNT/REGION/BUCKET`: record in the alert state
 * that a bucket's anomaly is known, so the digest stops announcing it; the
 * reports still show it, marked "acknowledged".
 *
 * The acknowledgement holds until --until (a time, or a duration from now),
 * or else until the bucket's current episode ends.  The state file is
 * --state FILE, or the inventory's reporting.state_file.  A sweep saves the
 * state it loaded when it started: acknowledge between runs.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "err.h"
#include "inventory.h"
#include "state.h"
#include "strutil.h"
#include "timeutil.h"
#include "units.h"
#include "validate.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cwsweep ack ACCOUNT/REGION/BUCKET [-i accounts.yaml | --state FILE]\n"
		"                   [--until TIME|DURATION] [--reason TEXT]\n"
		"\n"
		"Acknowledge a bucket's anomaly: the Slack digest stops announcing it, the\n"
		"reports mark it \"acknowledged\".  It holds until --until, or else until\n"
		"the bucket's current episode ends.  Run it between sweeps: a sweep saves\n"
		"the state it loaded when it started.\n"
		"\n"
		"options:\n"
		"  -i, --inventory FILE  the inventory whose reporting.state_file to use\n"
		"                        (default accounts.yaml)\n"
		"  --state FILE          the alert state file (instead of the inventory's)\n"
		"  --until TIME          2026-12-01T00:00:00Z, or a duration from now: 3d, 12h\n"
		"  --reason TEXT         why, shown to whoever reads the state\n"
		"  -h, --help            this text\n"
		"\n%s", cw_exit_codes_help);
}

int cw_cmd_ack(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "inventory", required_argument, NULL, 'i' },
		{ "state", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "reason", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *inv_path = "accounts.yaml", *state_path = NULL, *until_s = NULL;
	const char *reason = "";
	char target[512], err[CW_ERRBUF], when[32];
	char *acct, *region, *bucket, *slash;
	struct cw_inventory inv;
	struct cw_state st;
	bool inv_loaded = false;
	int64_t now = cw_time_now(), until = 0;
	int c, code = CW_EXIT_USAGE;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': inv_path = optarg; break;
		case 'S': state_path = optarg; break;
		case 'U': until_s = optarg; break;
		case 'R': reason = optarg; break;
		case 'h':
			usage(stdout);
			return CW_EXIT_OK;
		case ':':
			return cw_usage_error("ack: %s: missing value", argv[optind - 1]);
		default:
			return cw_usage_error("ack: %s: unknown option (see `cwsweep ack --help`)",
					      argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cw_usage_error("ack: give one ACCOUNT/REGION/BUCKET (see `cwsweep ack "
				      "--help`)");
	if (strlen(argv[optind]) >= sizeof(target))
		return cw_usage_error("ack: %.40s...: too long", argv[optind]);
	cw_strlcpy(target, argv[optind], sizeof(target));
	acct = target;
	slash = strchr(acct, '/');
	region = slash ? slash + 1 : NULL;
	slash = region ? strchr(region, '/') : NULL;
	bucket = slash ? slash + 1 : NULL;
	if (!bucket || strchr(bucket, '/'))
		return cw_usage_error("ack: %s: not ACCOUNT/REGION/BUCKET", argv[optind]);
	region[-1] = '\0';
	bucket[-1] = '\0';
	if (cw_check_account_id(acct))
		return cw_usage_error("ack: %s: %s", acct, cw_check_account_id(acct));
	if (cw_check_region(region))
		return cw_usage_error("ack: %s: %s", region, cw_check_region(region));
	if (cw_check_bucket_name(bucket))
		return cw_usage_error("ack: %s: %s", bucket, cw_check_bucket_name(bucket));
	if (until_s) {
		int64_t d;
		if (cw_time_parse(until_s, &until) != 0) {
			if (cw_parse_duration(until_s, &d, err, sizeof(err)) || d <= 0)
				return cw_usage_error("ack: --until: not a time or a duration: '%s'",
						      until_s);
			until = now + d;
		}
		if (until <= now)
			return cw_usage_error("ack: --until: %s is not in the future", until_s);
	}
	if (!state_path) {
		struct cw_diags diags = { NULL, 0, 0 };
		if (cw_inventory_load(inv_path, &inv, &diags)) {
			cw_diags_print(&diags, stderr);
			cw_diags_release(&diags);
			return cw_usage_error("ack: -i %s: cannot read the inventory (or give "
					      "--state FILE)", inv_path);
		}
		cw_diags_release(&diags);
		inv_loaded = true;
		state_path = inv.reporting.state_file;
		if (!state_path) {
			cw_inventory_release(&inv);
			return cw_usage_error("ack: %s has no reporting.state_file (or give "
					      "--state FILE)", inv_path);
		}
	}
	cw_state_init(&st);
	err[0] = '\0';
	if (cw_state_load(&st, state_path, err, sizeof(err)) ||
	    cw_state_ack_add(&st, acct, region, bucket, now, until, reason) ||
	    cw_state_save(&st, state_path, now, err, sizeof(err))) {
		fprintf(stderr, "cwsweep: ack: %s\n", err[0] ? err : "out of memory");
		code = CW_EXIT_PARTIAL;
	} else {
		printf("acknowledged %s/%s/%s until %s%s%s\n", acct, region, bucket,
		       until ? cw_time_iso(until, when, sizeof(when)) : "its episode ends",
		       reason[0] ? ": " : "", reason);
		code = CW_EXIT_OK;
	}
	cw_state_release(&st);
	if (inv_loaded)
		cw_inventory_release(&inv);
	return code;
}
