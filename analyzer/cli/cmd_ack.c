/*
 * cmd_ack.c - `cwsweep ack ACCOUNT/REGION/BUCKET`: record in the alert state
 * that a bucket's anomaly is known, so the digest stops announcing it; the
 * reports still show it, marked "acknowledged".
 *
 * The acknowledgement holds until --until (a time, or a duration from now),
 * or else until the bucket's current episode ends.  The state file is
 * --state FILE, or the inventory's reporting.state_file.
 *
 * A sweep reads the state, updates it and saves it: ack takes the run's
 * lock (--lock, or the inventory's, as `cwsweep run` finds it) for its own
 * read-modify-write, so it never interleaves with a sweep's.  While a
 * sweep holds it, ack records nothing and exits 75 (as a second run
 * would): run it again when the sweep is done.  When the lock is not
 * known (--state alone), the sweep's save still keeps an acknowledgement
 * written meanwhile (cw_state_save merges them).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "err.h"
#include "inventory.h"
#include "lock.h"
#include "state.h"
#include "strutil.h"
#include "timeutil.h"
#include "units.h"
#include "validate.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cwsweep ack ACCOUNT/REGION/BUCKET [-i accounts.yaml] [--state FILE]\n"
		"                   [--lock FILE] [--until TIME|DURATION] [--reason TEXT]\n"
		"\n"
		"Acknowledge a bucket's anomaly: the Slack digest stops announcing it, the\n"
		"reports mark it \"acknowledged\".  It holds until --until, or else until\n"
		"the bucket's current episode ends.  ack takes the runs' lock: while a\n"
		"sweep holds it, nothing is recorded and ack exits 75; run it again when\n"
		"the sweep is done.\n"
		"\n"
		"options:\n"
		"  -i, --inventory FILE  the inventory whose reporting.state_file to use\n"
		"                        (default accounts.yaml)\n"
		"  --state FILE          the alert state file (instead of the inventory's)\n"
		"  --lock FILE           the runs' lock file (default: the inventory's\n"
		"                        reporting.lock_file, else OUTPUT_DIR/.cwsweep.lock;\n"
		"                        with --state and no -i, none unless given)\n"
		"  --until TIME          2026-12-01T00:00:00Z, or a duration from now: 3d, 12h\n"
		"  --reason TEXT         why, shown to whoever reads the state\n"
		"  -h, --help            this text\n"
		"\n%s", cw_exit_codes_help);
}

/*
 * Take the runs' lock at path (NULL: none known).  A folder that does not
 * exist has never held a run's lock: nothing to take.  CW_EXIT_OK, or the
 * exit code with the message printed: 75 while a sweep holds it.
 */
static int take_lock(const char *path, int64_t now, struct cw_lock *lock)
{
	char dir[4096], err[CW_ERRBUF];
	struct stat sb;
	const char *slash;
	int rc;

	if (!path)
		return CW_EXIT_OK;
	slash = strrchr(path, '/');
	if (slash && (size_t)(slash - path) < sizeof(dir)) {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		if (dir[0] && stat(dir, &sb) != 0 && errno == ENOENT)
			return CW_EXIT_OK;
	}
	rc = cw_lock_acquire(path, now, lock, err, sizeof(err));
	if (rc == CW_LOCK_HELD) {
		fprintf(stderr, "cwsweep: ack: a sweep is in progress: %s; nothing was recorded, "
			"acknowledge again when it is done\n", err);
		return CW_EXIT_LOCKED;
	}
	if (rc)
		return cw_usage_error("ack: %s", err);
	return CW_EXIT_OK;
}

int cw_cmd_ack(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "inventory", required_argument, NULL, 'i' },
		{ "state", required_argument, NULL, 'S' },
		{ "lock", required_argument, NULL, 'L' },
		{ "until", required_argument, NULL, 'U' },
		{ "reason", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *inv_path = NULL, *state_path = NULL, *until_s = NULL, *lock_path = NULL;
	const char *reason = "";
	char target[512], err[CW_ERRBUF], when[32], lock_default[4096];
	char *acct, *region, *bucket, *slash;
	struct cw_inventory inv;
	struct cw_state st;
	struct cw_lock lock = { -1, NULL };
	bool inv_loaded = false;
	int64_t now = cw_time_now(), until = 0;
	int c, code = CW_EXIT_USAGE;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': inv_path = optarg; break;
		case 'S': state_path = optarg; break;
		case 'L': lock_path = optarg; break;
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
	if (!state_path || inv_path) {
		struct cw_diags diags = { NULL, 0, 0 };
		if (!inv_path)
			inv_path = "accounts.yaml";
		if (cw_inventory_load(inv_path, &inv, &diags)) {
			cw_diags_print(&diags, stderr);
			cw_diags_release(&diags);
			return cw_usage_error("ack: -i %s: cannot read the inventory (or give "
					      "--state FILE)", inv_path);
		}
		cw_diags_release(&diags);
		inv_loaded = true;
		if (!state_path)
			state_path = inv.reporting.state_file;
		if (!state_path) {
			cw_inventory_release(&inv);
			return cw_usage_error("ack: %s has no reporting.state_file (or give "
					      "--state FILE)", inv_path);
		}
		if (!lock_path && inv.reporting.lock_file)
			lock_path = inv.reporting.lock_file;
		if (!lock_path) {
			snprintf(lock_default, sizeof(lock_default), "%s/.cwsweep.lock",
				 inv.reporting.output_dir ? inv.reporting.output_dir
							  : "./cwsweep-report");
			lock_path = lock_default;
		}
	}
	code = take_lock(lock_path, now, &lock);
	if (code != CW_EXIT_OK) {
		if (inv_loaded)
			cw_inventory_release(&inv);
		return code;
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
	cw_lock_release(&lock);
	if (inv_loaded)
		cw_inventory_release(&inv);
	return code;
}
