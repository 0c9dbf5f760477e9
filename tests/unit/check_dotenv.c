/*
 * check_dotenv.c - config.env: the dotenv syntax (quotes, export, comments,
 * CRLF, last one wins), garbage reported by line without repeating the
 * line, the ssh-style refusal of a readable file holding a secret, the
 * checks of each key, the one-bucket inventory it becomes (threshold at
 * GB x 1024^3, FilterId=EntireBucket, ambient credentials) and the plan
 * that inventory gives.
 */
#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detector.h"
#include "dotenv.h"
#include "err.h"
#include "inventory.h"
#include "plan.h"
#include "strutil.h"
#include "testlib.h"
#include "validate.h"

#define HOOK "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXX"

static char *dir;

static void setup(void)
{
	dir = cw_test_tmpdir();
	ck_assert_ptr_nonnull(dir);
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
}

static void teardown(void)
{
	cw_test_rmtree(dir);
	free(dir);
}

static const char *val(const struct cw_dotenv *d, const char *key)
{
	const struct cw_dotenv_var *v = cw_dotenv_get(d, key);

	return v ? v->value : NULL;
}

/* ---- syntax -------------------------------------------------------------- */

START_TEST(test_syntax)
{
	static const char text[] =
		"# config for the old script\n"
		"\n"
		"   # indented comment\n"
		"PLAIN=value\n"
		"export EXPORTED=yes\n"
		"export\tTABBED=1\n"
		"SPACED = around equals  \n"
		"SINGLE='literal $HOME \\n \"x\" # not a comment'\n"
		"DOUBLE=\"a \\\"b\\\" \\\\ \\$HOME \\n\\tend \\q\"\n"
		"COMMENTED=value # a comment\n"
		"HASH=https://example.com/x#frag\n"
		"QUOTED_COMMENT=\"v\"   # after the quote\n"
		"EMPTY=\n"
		"EMPTY_QUOTED=''\n"
		"EMPTY_COMMENT= # nothing\n"
		"INNER=two words\n"
		"CRLF=windows\r\n"
		"DUP=first\n"
		"DUP=second\n"
		"export=a key named export\n"
		"LAST=no newline at the end";
	struct cw_dotenv d;
	char err[CW_ERRBUF];

	ck_assert_msg(cw_dotenv_parse(&d, "config.env", text, sizeof(text) - 1, err,
				      sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(val(&d, "PLAIN"), "value");
	ck_assert_str_eq(val(&d, "EXPORTED"), "yes");
	ck_assert_str_eq(val(&d, "TABBED"), "1");
	ck_assert_str_eq(val(&d, "SPACED"), "around equals");
	ck_assert_str_eq(val(&d, "SINGLE"), "literal $HOME \\n \"x\" # not a comment");
	ck_assert_str_eq(val(&d, "DOUBLE"), "a \"b\" \\ $HOME \n\tend \\q");
	ck_assert_str_eq(val(&d, "COMMENTED"), "value");
	ck_assert_str_eq(val(&d, "HASH"), "https://example.com/x#frag");
	ck_assert_str_eq(val(&d, "QUOTED_COMMENT"), "v");
	ck_assert_str_eq(val(&d, "EMPTY"), "");
	ck_assert_str_eq(val(&d, "EMPTY_QUOTED"), "");
	ck_assert_str_eq(val(&d, "EMPTY_COMMENT"), "");
	ck_assert_str_eq(val(&d, "INNER"), "two words");
	ck_assert_str_eq(val(&d, "CRLF"), "windows");
	ck_assert_str_eq(val(&d, "DUP"), "second");
	ck_assert_int_eq(cw_dotenv_get(&d, "DUP")->line, 19);
	ck_assert_str_eq(val(&d, "export"), "a key named export");
	ck_assert_str_eq(val(&d, "LAST"), "no newline at the end");
	ck_assert_ptr_null(cw_dotenv_get(&d, "MISSING"));
	ck_assert_uint_eq(d.n, 17);
	cw_dotenv_release(&d);
}
END_TEST

/* text -> the exact error; and the error never holds the secret bits */
static void bad(const char *text, const char *want)
{
	struct cw_dotenv d;
	char err[CW_ERRBUF];

	ck_assert_int_eq(cw_dotenv_parse(&d, "config.env", text, strlen(text), err,
					 sizeof(err)), CW_EINVAL);
	ck_assert_str_eq(err, want);
	ck_assert_msg(!strstr(err, "hooks.slack") && !strstr(err, "SECRETVALUE"),
		      "a value leaked into: %s", err);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_ptr_null(d.v);
}

START_TEST(test_garbage_by_line)
{
	bad("A=1\n\n" HOOK "\n",
	    "config.env:3: expected KEY=VALUE (a name of letters, digits and _, then =)");
	bad("A=1\nSECRETVALUE\n",
	    "config.env:2: expected KEY=VALUE (a name of letters, digits and _, then =)");
	bad("# c\n1KEY=SECRETVALUE\n",
	    "config.env:2: expected KEY=VALUE (a name of letters, digits and _, then =)");
	bad("KEY-NAME=SECRETVALUE\n",
	    "config.env:1: expected KEY=VALUE (a name of letters, digits and _, then =)");
	bad("A=1\r\nB=2\r\nSLACK_WEBHOOK_URL=\"" HOOK "\r\n",
	    "config.env:3: SLACK_WEBHOOK_URL: unterminated double quote (a value ends on "
	    "its own line)");
	bad("X='SECRETVALUE\n",
	    "config.env:1: X: unterminated single quote (a value ends on its own line)");
	bad("X='SECRETVALUE' trailing\n",
	    "config.env:1: X: unexpected text after the closing quote (quote the whole "
	    "value)");
	bad("X=\"SECRETVALUE\"oops\n",
	    "config.env:1: X: unexpected text after the closing quote (quote the whole "
	    "value)");
	bad("X=SECRET\x01VALUE\n", "config.env:1: X: control character in the value");
	bad("export \n", "config.env:1: expected KEY=VALUE (a name of letters, digits and "
	    "_, then =)");
}
END_TEST

START_TEST(test_nul_byte)
{
	static const char text[] = "A=1\nB=SECRET\0VALUE\n";
	struct cw_dotenv d;
	char err[CW_ERRBUF];

	ck_assert_int_eq(cw_dotenv_parse(&d, "c.env", text, sizeof(text) - 1, err,
					 sizeof(err)), CW_EINVAL);
	ck_assert_str_eq(err, "c.env:2: NUL byte: not a text file");
}
END_TEST

/* ---- config.env ---------------------------------------------------------- */

static char *write_env(const char *text, mode_t mode)
{
	char *p = cw_test_write(dir, "config.env", text);

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(chmod(p, mode), 0);
	return p;
}

START_TEST(test_load_the_old_scripts_file)
{
	char *p = write_env("# what the python script read\n"
			    "SLACK_WEBHOOK_URL=\"" HOOK "\"\n"
			    "S3_BUCKET_NAME=my-data-bucket\n"
			    "DATA_TRANSFER_THRESHOLD_GB=2.5\n"
			    "AWS_REGION=eu-west-1\n", 0600);
	struct cw_config_env c;
	char err[CW_ERRBUF];

	ck_assert_msg(cw_config_env_load(p, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.path, p);
	ck_assert_str_eq(c.bucket, "my-data-bucket");
	ck_assert_int_eq(c.bucket_line, 3);
	ck_assert_double_eq(c.threshold_gb, 2.5);
	/* the script's GB: 2.5 x 1024^3 = 2684354560 bytes */
	ck_assert_double_eq(c.threshold_bytes, 2684354560.0);
	ck_assert_str_eq(c.region, "eu-west-1");
	ck_assert_str_eq(c.region_from, "config.env");
	ck_assert_str_eq(c.slack_webhook, HOOK);
	cw_config_env_release(&c);
	free(p);
}
END_TEST

/* The wording, with the file named as the user named it. */
START_TEST(test_refused_when_readable_by_others)
{
	char *p = write_env("SLACK_WEBHOOK_URL=" HOOK "\nS3_BUCKET_NAME=b-1\n"
			    "DATA_TRANSFER_THRESHOLD_GB=1\n", 0644);
	char cwd[4096], err[CW_ERRBUF];
	struct cw_config_env c;
	int rc;

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(dir), 0);
	rc = cw_config_env_load("config.env", &c, err, sizeof(err));
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert_int_eq(rc, CW_EINVAL);
	ck_assert_str_eq(err, "config.env: permissions 0644 are too open for a file holding "
			 "SLACK_WEBHOOK_URL; run: chmod 600 config.env");
	ck_assert_ptr_null(c.slack_webhook);

	/* group-readable only is refused too; the fix works */
	ck_assert_int_eq(chmod(p, 0640), 0);
	ck_assert_int_eq(cw_config_env_load(p, &c, err, sizeof(err)), CW_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "permissions 0640 are too open"));
	ck_assert_int_eq(chmod(p, 0600), 0);
	ck_assert_int_eq(cw_config_env_load(p, &c, err, sizeof(err)), 0);
	cw_config_env_release(&c);
	free(p);
}
END_TEST

START_TEST(test_refusal_names_the_secret)
{
	char *p = write_env("S3_BUCKET_NAME=b-1\nDATA_TRANSFER_THRESHOLD_GB=1\n"
			    "AWS_ACCESS_KEY_ID=AKIDEXAMPLE\n"
			    "AWS_SECRET_ACCESS_KEY=SECRETVALUE\n", 0604);
	struct cw_config_env c;
	char err[CW_ERRBUF];

	ck_assert_int_eq(cw_config_env_load(p, &c, err, sizeof(err)), CW_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "permissions 0604 are too open for a file "
				     "holding AWS_SECRET_ACCESS_KEY; run: chmod 600 "));
	ck_assert_ptr_null(strstr(err, "SECRETVALUE"));
	free(p);

	/* no secret (no webhook, an empty one): 0644 is fine */
	p = write_env("S3_BUCKET_NAME=b-1\nDATA_TRANSFER_THRESHOLD_GB=1\nSLACK_WEBHOOK_URL=\n",
		      0644);
	ck_assert_msg(cw_config_env_load(p, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_null(c.slack_webhook);
	cw_config_env_release(&c);
	free(p);
}
END_TEST

START_TEST(test_refusal_quotes_odd_paths)
{
	char *sub = cw_asprintf("%s/my configs", dir), *p;
	struct cw_config_env c;
	char err[CW_ERRBUF];
	FILE *f;

	ck_assert_int_eq(mkdir(sub, 0700), 0);
	p = cw_asprintf("%s/config.env", sub);
	f = fopen(p, "w");
	fputs("SLACK_WEBHOOK_URL=" HOOK "\n", f);
	fclose(f);
	ck_assert_int_eq(chmod(p, 0644), 0);
	ck_assert_int_eq(cw_config_env_load(p, &c, err, sizeof(err)), CW_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "; run: chmod 600 '"));
	ck_assert_ptr_nonnull(strstr(err, "/my configs/config.env'"));
	free(p);
	free(sub);
}
END_TEST

/* config.env text (0600) -> the exact error */
static void bad_config(const char *text, const char *want)
{
	char *p = write_env(text, 0600);
	struct cw_config_env c;
	char err[CW_ERRBUF], full[CW_ERRBUF];

	ck_assert_int_eq(cw_config_env_load(p, &c, err, sizeof(err)), CW_EINVAL);
	snprintf(full, sizeof(full), "%s%s", p, want);
	ck_assert_str_eq(err, full);
	ck_assert_ptr_null(strstr(err, "hooks.slack"));
	ck_assert_ptr_null(c.bucket);
	free(p);
}

START_TEST(test_key_checks)
{
	bad_config("DATA_TRANSFER_THRESHOLD_GB=1\n",
		   ": S3_BUCKET_NAME: missing (the bucket whose downloads are watched)");
	bad_config("S3_BUCKET_NAME=\nDATA_TRANSFER_THRESHOLD_GB=1\n",
		   ": S3_BUCKET_NAME: missing (the bucket whose downloads are watched)");
	bad_config("S3_BUCKET_NAME=b-1\n",
		   ": DATA_TRANSFER_THRESHOLD_GB: missing (the daily download limit in GB)");
	bad_config("S3_BUCKET_NAME=b-1\nDATA_TRANSFER_THRESHOLD_GB=lots\n",
		   ":2: DATA_TRANSFER_THRESHOLD_GB: not a number (GB per day, e.g. 100 or 2.5)");
	bad_config("S3_BUCKET_NAME=b-1\nDATA_TRANSFER_THRESHOLD_GB=10GB\n",
		   ":2: DATA_TRANSFER_THRESHOLD_GB: not a number (GB per day, e.g. 100 or 2.5)");
	bad_config("S3_BUCKET_NAME=b-1\nDATA_TRANSFER_THRESHOLD_GB=0\n",
		   ":2: DATA_TRANSFER_THRESHOLD_GB: must be above 0");
	bad_config("S3_BUCKET_NAME=b-1\nDATA_TRANSFER_THRESHOLD_GB=-3\n",
		   ":2: DATA_TRANSFER_THRESHOLD_GB: must be above 0");
	bad_config("S3_BUCKET_NAME=b-1\nDATA_TRANSFER_THRESHOLD_GB=1e30\n",
		   ":2: DATA_TRANSFER_THRESHOLD_GB: too large (at most 931322574615)");
	bad_config("SLACK_WEBHOOK_URL=http://hooks.slack.com/services/x\n"
		   "S3_BUCKET_NAME=b-1\nDATA_TRANSFER_THRESHOLD_GB=1\n",
		   ":1: SLACK_WEBHOOK_URL: not an https:// URL");
	bad_config("S3_BUCKET_NAME=b-1\nDATA_TRANSFER_THRESHOLD_GB=1\n\nAWS_REGION=mars-1\n",
		   ":4: AWS_REGION: not an AWS region name (want e.g. us-east-1, eu-central-2)");
}
END_TEST

START_TEST(test_bucket_grammar)
{
	char *p = write_env("S3_BUCKET_NAME=My_Bucket\nDATA_TRANSFER_THRESHOLD_GB=1\n", 0600);
	struct cw_config_env c;
	char err[CW_ERRBUF], want[CW_ERRBUF];

	ck_assert_int_eq(cw_config_env_load(p, &c, err, sizeof(err)), CW_EINVAL);
	snprintf(want, sizeof(want), "%s:1: S3_BUCKET_NAME: %s", p,
		 cw_check_bucket_name("My_Bucket"));
	ck_assert_str_eq(err, want);
	free(p);
}
END_TEST

START_TEST(test_missing_file)
{
	struct cw_config_env c;
	char err[CW_ERRBUF], *p = cw_asprintf("%s/nope.env", dir);

	ck_assert_int_eq(cw_config_env_load(p, &c, err, sizeof(err)), CW_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err, "nope.env: cannot open"));
	free(p);
}
END_TEST

START_TEST(test_region_sources)
{
	char *p = write_env("S3_BUCKET_NAME=b-1\nDATA_TRANSFER_THRESHOLD_GB=1\n", 0600);
	struct cw_config_env c;
	char err[CW_ERRBUF];

	ck_assert_int_eq(cw_config_env_load(p, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.region, "us-east-1");
	ck_assert_str_eq(c.region_from, "default");
	cw_config_env_release(&c);

	setenv("AWS_DEFAULT_REGION", "ap-southeast-2", 1);
	ck_assert_int_eq(cw_config_env_load(p, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.region, "ap-southeast-2");
	ck_assert_str_eq(c.region_from, "environment");
	cw_config_env_release(&c);

	setenv("AWS_REGION", "eu-central-1", 1); /* beats AWS_DEFAULT_REGION */
	ck_assert_int_eq(cw_config_env_load(p, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.region, "eu-central-1");
	cw_config_env_release(&c);
	free(p);

	/* the file beats the environment */
	p = write_env("S3_BUCKET_NAME=b-1\nDATA_TRANSFER_THRESHOLD_GB=1\n"
		      "AWS_DEFAULT_REGION=us-west-2\n", 0600);
	ck_assert_int_eq(cw_config_env_load(p, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.region, "us-west-2");
	ck_assert_str_eq(c.region_from, "config.env");
	cw_config_env_release(&c);
	free(p);

	setenv("AWS_REGION", "not a region", 1);
	p = write_env("S3_BUCKET_NAME=b-1\nDATA_TRANSFER_THRESHOLD_GB=1\n", 0600);
	ck_assert_int_eq(cw_config_env_load(p, &c, err, sizeof(err)), CW_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "environment variable AWS_REGION: "));
	free(p);
}
END_TEST

START_TEST(test_unknown_key_warns)
{
	char *p = write_env("S3_BUCKET=b-1\nS3_BUCKET_NAME=b-1\nDATA_TRANSFER_THRESHOLD_GB=1\n",
			    0600);
	char *log_path = cw_asprintf("%s/stderr.log", dir), *log, err[CW_ERRBUF], want[600];
	struct cw_config_env c;
	int saved = dup(2), fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	fflush(stderr);
	dup2(fd, 2);
	close(fd);
	ck_assert_int_eq(cw_config_env_load(p, &c, err, sizeof(err)), 0);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	log = cw_test_slurp(log_path);
	snprintf(want, sizeof(want), "%s:1: S3_BUCKET: not a config.env key, ignored (did "
		 "you mean S3_BUCKET_NAME?)", p);
	ck_assert_msg(log && strstr(log, want), "got: %s", log ? log : "(nothing)");
	free(log);
	free(log_path);
	cw_config_env_release(&c);
	free(p);
}
END_TEST

START_TEST(test_export_like_load_dotenv)
{
	char *p = write_env("S3_BUCKET_NAME=b-1\nDATA_TRANSFER_THRESHOLD_GB=1\n"
			    "AWS_ACCESS_KEY_ID=AKIDFILE\nAWS_SECRET_ACCESS_KEY=secretfile\n"
			    "AWS_PROFILE=\n", 0600);
	struct cw_config_env c;
	char err[CW_ERRBUF];

	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_PROFILE");
	setenv("AWS_SECRET_ACCESS_KEY", "secretenv", 1);
	unsetenv("AWS_SESSION_TOKEN");
	ck_assert_int_eq(cw_config_env_load(p, &c, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_config_env_export(&c), 1);
	ck_assert_str_eq(getenv("AWS_ACCESS_KEY_ID"), "AKIDFILE");
	ck_assert_str_eq(getenv("AWS_SECRET_ACCESS_KEY"), "secretenv"); /* env wins */
	ck_assert_ptr_null(getenv("AWS_PROFILE"));                      /* empty: not set */
	ck_assert_ptr_null(getenv("AWS_SESSION_TOKEN"));
	cw_config_env_release(&c);
	free(p);
}
END_TEST

/* ---- the inventory ------------------------------------------------------- */

START_TEST(test_inventory)
{
	char *p = write_env("SLACK_WEBHOOK_URL='" HOOK "'\nS3_BUCKET_NAME=my-data-bucket\n"
			    "DATA_TRANSFER_THRESHOLD_GB=100\nAWS_REGION=eu-west-1\n", 0600);
	const struct cw_detector_conf *d;
	const struct cw_metric_def *m;
	const struct cw_account_def *a;
	struct cw_config_env c;
	struct cw_inventory inv;
	struct cw_plan plan;
	struct cw_plan_opts po = { 0 };
	char err[CW_ERRBUF];
	size_t li;

	ck_assert_int_eq(cw_config_env_load(p, &c, err, sizeof(err)), 0);
	ck_assert_msg(cw_config_env_to_inventory(&c, &inv, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(inv.path, p);
	ck_assert_int_eq(inv.period, 86400);
	ck_assert_int_eq(inv.lookback_days, 3);
	ck_assert_uint_eq(inv.nregions, 1);
	ck_assert_str_eq(inv.regions[0], "eu-west-1");

	/* the metric: BytesDownloaded Sum with the request-metrics filter */
	ck_assert_uint_eq(inv.nmetrics, 1);
	m = &inv.metrics[0];
	ck_assert_str_eq(m->namespace_, "AWS/S3");
	ck_assert_str_eq(m->name, "BytesDownloaded");
	ck_assert_str_eq(m->stat, "Sum");
	ck_assert_uint_eq(m->ndims, 2);
	ck_assert_str_eq(m->dims[0].name, "BucketName");
	ck_assert_str_eq(m->dims[0].value, "{bucket}");
	ck_assert_str_eq(m->dims[1].name, "FilterId");
	ck_assert_str_eq(m->dims[1].value, "EntireBucket");

	/* the ambient credentials' account */
	ck_assert_uint_eq(inv.naccounts, 1);
	a = &inv.accounts[0];
	ck_assert_str_eq(a->id, "");
	ck_assert_str_eq(a->name, "default credentials");
	ck_assert_uint_eq(a->nroles, 0);
	ck_assert_uint_eq(a->nregions, 1);
	ck_assert_str_eq(a->regions[0], "eu-west-1");
	ck_assert(!a->buckets_auto);
	ck_assert_uint_eq(a->nbuckets, 1);
	ck_assert_str_eq(a->buckets[0].name, "my-data-bucket");
	ck_assert_str_eq(a->buckets[0].region, "eu-west-1");

	/* one threshold at 100 x 1024^3 = 107374182400 bytes, no history needed */
	ck_assert_uint_eq(a->buckets[0].detectors.n, 1);
	d = &a->buckets[0].detectors.v[0];
	ck_assert_str_eq(d->ops->name, "threshold");
	ck_assert(cw_detector_param(d->ops, "limit", &li) != NULL);
	ck_assert_double_eq(d->p[li], 107374182400.0);
	ck_assert_double_eq(d->p[CW_P_MIN_HISTORY], 0);
	ck_assert_int_eq((int)d->p[CW_P_DIRECTION], CW_DIR_UP);
	ck_assert_uint_eq(a->detectors.n, 1);
	ck_assert_double_eq(a->detectors.v[0].p[li], 107374182400.0);
	ck_assert_uint_eq(inv.detectors.n, 1);
	ck_assert_double_eq(inv.detectors.v[0].p[li], 107374182400.0);

	/* Slack on, no state: the old script alerted every night it was over */
	ck_assert(inv.reporting.slack_enabled);
	ck_assert_ptr_null(inv.reporting.state_file);

	/* what the sweep will do: one target, no AssumeRole, three days fetched */
	po.now = 1795662000; /* 2026-11-26T03:00:00Z */
	ck_assert_msg(cw_plan_build(&plan, &inv, &po, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(plan.ntargets, 1);
	ck_assert_str_eq(plan.targets[0].bucket, "my-data-bucket");
	ck_assert_str_eq(plan.targets[0].region, "eu-west-1");
	ck_assert_uint_eq(plan.counts.sts_calls, 0);
	ck_assert_uint_eq(plan.counts.pairs, 1);
	ck_assert_int_eq(plan.end - plan.start, 3 * 86400);
	ck_assert_int_eq(plan.end, 1795651200); /* 2026-11-26T00:00:00Z */
	cw_plan_release(&plan);

	cw_inventory_release(&inv);
	cw_config_env_release(&c);
	free(p);
}
END_TEST

START_TEST(test_inventory_without_webhook)
{
	char *p = write_env("S3_BUCKET_NAME=b-1\nDATA_TRANSFER_THRESHOLD_GB=0.5\n", 0644);
	struct cw_config_env c;
	struct cw_inventory inv;
	char err[CW_ERRBUF];
	size_t li;

	ck_assert_int_eq(cw_config_env_load(p, &c, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_config_env_to_inventory(&c, &inv, err, sizeof(err)), 0);
	ck_assert(!inv.reporting.slack_enabled);
	ck_assert(cw_detector_param(inv.accounts[0].buckets[0].detectors.v[0].ops, "limit",
				    &li));
	/* 0.5 x 1024^3 */
	ck_assert_double_eq(inv.accounts[0].buckets[0].detectors.v[0].p[li], 536870912.0);
	ck_assert_str_eq(inv.regions[0], "us-east-1");
	cw_inventory_release(&inv);
	cw_config_env_release(&c);
	free(p);
}
END_TEST

static Suite *dotenv_suite(void)
{
	Suite *s = suite_create("dotenv");
	TCase *tc = tcase_create("dotenv");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_syntax);
	tcase_add_test(tc, test_garbage_by_line);
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_load_the_old_scripts_file);
	tcase_add_test(tc, test_refused_when_readable_by_others);
	tcase_add_test(tc, test_refusal_names_the_secret);
	tcase_add_test(tc, test_refusal_quotes_odd_paths);
	tcase_add_test(tc, test_key_checks);
	tcase_add_test(tc, test_bucket_grammar);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_region_sources);
	tcase_add_test(tc, test_unknown_key_warns);
	tcase_add_test(tc, test_export_like_load_dotenv);
	tcase_add_test(tc, test_inventory);
	tcase_add_test(tc, test_inventory_without_webhook);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(dotenv_suite());
}
