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
 *
 * The state of sharded runs lives in S3 (`merge --state s3://BUCKET/KEY`):
 * `ack --state s3://BUCKET/KEY` reads it and writes it back with a
 * conditional PutObject (state_src.h).  S3 has no lock; when a merge wrote
 * the object in between, ack reads it again and adds its acknowledgement
 * to what the merge wrote (a few tries), so neither loses the other's.
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
#include "log.h"
#include "merge_src.h"
#include "state.h"
#include "state_src.h"
#include "strutil.h"
#include "timeutil.h"
#include "units.h"
#include "validate.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cwsweep ack ACCOUNT/REGION/BUCKET [-i accounts.yaml]\n"
		"                   [--state FILE|s3://BUCKET/KEY] [--region NAME]\n"
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
		"  --state s3://BUCKET/KEY\n"
		"                        the alert state that `merge --state` keeps in S3\n"
		"                        for sharded runs: GetObject, then PutObject only\n"
		"                        over the object read (a merge that wrote it in\n"
		"                        between: read again, a few tries); ambient\n"
		"                        credentials; no lock\n"
		"  --region NAME         the region of that bucket (default AWS_REGION,\n"
		"                        AWS_DEFAULT_REGION, then us-east-1)\n"
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

#define ACK_S3_TRIES 4

/* Record the acknowledgement in the state object at url (s3://BUCKET/KEY).
 * The exit code, the error printed: 2 for a state it may not read or
 * write (no such bucket, access refused), 3 when S3 failed past the
 * retries or merges kept writing it in between. */
static int ack_s3(const char *url, const char *s3_region, const char *acct,
		  const char *region, const char *bucket, int64_t now, int64_t until,
		  const char *reason)
{
	struct cw_merge_src *src = NULL;
	struct cw_state_src ss;
	struct cw_state st;
	char err[CW_ERRBUF];
	bool transient = false;
	int rc;

	if (cw_state_src_set(&ss, url, err, sizeof(err)))
		return cw_usage_error("ack: --state: %s", err);
	if (cw_merge_src_open(&src, NULL, 0, s3_region, &transient, err, sizeof(err)))
		return cw_usage_error("ack: --state %s: %s", url, err);
	for (int i = 0; i < ACK_S3_TRIES; i++) {
		cw_state_init(&st);
		rc = cw_state_src_load(&ss, src, &st, &transient, err, sizeof(err));
		if (!rc && cw_state_ack_add(&st, acct, region, bucket, now, until, reason))
			rc = cw_fail(err, sizeof(err), CW_ENOMEM, "out of memory");
		if (!rc)
			rc = cw_state_src_save(&ss, src, &st, now, err, sizeof(err));
		cw_state_release(&st);
		if (rc != CW_ESTALE)
			break;
		cw_log_info("ack: %s changed while ack ran (a merge?); reading it again", url);
	}
	cw_merge_src_free(src);
	if (!rc)
		return CW_EXIT_OK;
	if (rc == CW_ESTALE || rc == CW_ENOMEM || transient) {
		fprintf(stderr, "cwsweep: ack: %s; nothing was recorded, acknowledge again "
			"later\n", err);
		return CW_EXIT_PARTIAL;
	}
	return cw_usage_error("ack: --state: %s", err);
}

int cw_cmd_ack(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "inventory", required_argument, NULL, 'i' },
		{ "state", required_argument, NULL, 'S' },
		{ "lock", required_argument, NULL, 'L' },
		{ "until", required_argument, NULL, 'U' },
		{ "reason", required_argument, NULL, 'R' },
		{ "region", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *inv_path = NULL, *state_path = NULL, *until_s = NULL, *lock_path = NULL;
	const char *reason = "", *s3_region = NULL;
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
		case 'G':
			if (cw_check_region(optarg))
				return cw_usage_error("ack: --region: %s: %s", optarg,
						      cw_check_region(optarg));
			s3_region = optarg;
			break;
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
	if (cw_str_startswith(state_path, "s3://")) {
		code = ack_s3(state_path, s3_region, acct, region, bucket, now, until, reason);
		if (code == CW_EXIT_OK)
			printf("acknowledged %s/%s/%s until %s%s%s\n", acct, region, bucket,
			       until ? cw_time_iso(until, when, sizeof(when)) : "its episode ends",
			       reason[0] ? ": " : "", reason);
		if (inv_loaded)
			cw_inventory_release(&inv);
		return code;
	}
	if (s3_region) {
		if (inv_loaded)
			cw_inventory_release(&inv);
		return cw_usage_error("ack: --region is for a state in S3 (--state s3://...)");
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
