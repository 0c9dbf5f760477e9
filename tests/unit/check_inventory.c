/*
 * check_inventory.c - loading accounts.yaml: every file under
 * tests/inventories/bad/ must fail with exactly the problems its
 * `# expect: LINE:COL: text` header lines name (LINE:COL 0:0 = no
 * position); every file under tests/inventories/good/ and
 * accounts.yaml.example must load, with the values asserted here; plus
 * files that are missing, directories, empty, too big, too deep.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <check.h>

#include "detector.h"
#include "err.h"
#include "inventory.h"
#include "testlib.h"

/* ---- helpers ------------------------------------------------------------- */

static bool has_diag(const struct cw_diags *d, int line, int col, const char *text)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].line == line && d->v[i].col == col && strstr(d->v[i].msg, text))
			return true;
	return false;
}

static char *all_diags(const struct cw_diags *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	cw_diags_print(d, f);
	fclose(f);
	return buf;
}

/* Parse text held in memory; the caller releases diags. */
static int parse(const char *text, struct cw_inventory *inv, struct cw_diags *d)
{
	return cw_inventory_parse("t.yaml", text, strlen(text), inv, d);
}

static void expect_one(const char *text, int line, int col, const char *what)
{
	struct cw_inventory inv;
	struct cw_diags d = { NULL, 0, 0 };
	char *got;
	int rc = parse(text, &inv, &d);

	got = all_diags(&d);
	ck_assert_msg(rc == CW_EINVAL, "want CW_EINVAL, got %d; diags:\n%s", rc, got);
	ck_assert_msg(has_diag(&d, line, col, what), "want %d:%d: ...%s..., got:\n%s", line, col,
		      what, got);
	ck_assert_ptr_null(inv.accounts);
	free(got);
	cw_diags_release(&d);
}

static const struct cw_detector_conf *find_det(const struct cw_det_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].ops->name, name) == 0)
			return &s->v[i];
	return NULL;
}

static double param(const struct cw_det_set *s, const char *det, const char *name)
{
	const struct cw_detector_conf *c = find_det(s, det);
	size_t idx;

	ck_assert_msg(c != NULL, "detector %s not in the set", det);
	ck_assert_ptr_nonnull(cw_detector_param(c->ops, name, &idx));
	return c->p[idx];
}

static const struct cw_account_def *account(const struct cw_inventory *inv, const char *id)
{
	for (size_t i = 0; i < inv->naccounts; i++)
		if (strcmp(inv->accounts[i].id, id) == 0)
			return &inv->accounts[i];
	ck_abort_msg("account %s not loaded", id);
	return NULL;
}

/* ---- the bad inventories ------------------------------------------------- */

struct expect {
	int line, col;
	char text[256];
};

static size_t read_expects(const char *path, struct expect *e, size_t max)
{
	FILE *f = fopen(path, "r");
	char line[512];
	size_t n = 0;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	while (fgets(line, sizeof(line), f) && n < max) {
		int off = 0;

		if (strncmp(line, "# expect: ", 10) != 0)
			break;
		ck_assert_msg(sscanf(line + 10, "%d:%d: %n", &e[n].line, &e[n].col, &off) == 2 &&
				      off > 0, "%s: bad expect line: %s", path, line);
		snprintf(e[n].text, sizeof(e[n].text), "%s", line + 10 + off);
		e[n].text[strcspn(e[n].text, "\n")] = '\0';
		n++;
	}
	fclose(f);
	return n;
}

START_TEST(test_bad_inventories)
{
	char *dir = cw_test_src("tests/inventories/bad");
	DIR *dp = opendir(dir);
	struct dirent *de;
	size_t files = 0;

	ck_assert_msg(dp != NULL, "cannot open %s", dir);
	while ((de = readdir(dp)) != NULL) {
		struct expect e[32];
		struct cw_inventory inv;
		struct cw_diags d = { NULL, 0, 0 };
		char path[1024], *got;
		size_t n;
		int rc;

		if (strlen(de->d_name) < 6 ||
		    strcmp(de->d_name + strlen(de->d_name) - 5, ".yaml") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = read_expects(path, e, 32);
		ck_assert_msg(n > 0, "%s: no `# expect:` line", path);
		rc = cw_inventory_load(path, &inv, &d);
		got = all_diags(&d);
		ck_assert_msg(rc == CW_EINVAL, "%s: want CW_EINVAL, got %d; diags:\n%s",
			      de->d_name, rc, got);
		ck_assert_msg(d.n == n, "%s: want %zu problems, got %zu:\n%s", de->d_name, n, d.n,
			      got);
		for (size_t i = 0; i < n; i++)
			ck_assert_msg(has_diag(&d, e[i].line, e[i].col, e[i].text),
				      "%s: want %d:%d: ...%s..., got:\n%s", de->d_name, e[i].line,
				      e[i].col, e[i].text, got);
		for (size_t i = 0; i < d.n; i++)
			ck_assert_str_eq(d.v[i].file, path);
		ck_assert_ptr_null(inv.accounts);
		ck_assert_uint_eq(inv.naccounts, 0);
		free(got);
		cw_diags_release(&d);
		files++;
	}
	closedir(dp);
	free(dir);
	ck_assert_msg(files >= 25, "only %zu bad inventories", files);
}
END_TEST

/* ---- the good ones -------------------------------------------------------- */

static void load_ok(const char *rel, struct cw_inventory *inv)
{
	struct cw_diags d = { NULL, 0, 0 };
	char *path = cw_test_src(rel), *got;
	int rc = cw_inventory_load(path, inv, &d);

	got = all_diags(&d);
	ck_assert_msg(rc == 0, "%s: want 0, got %d:\n%s", rel, rc, got);
	ck_assert_uint_eq(d.n, 0);
	free(got);
	free(path);
	cw_diags_release(&d);
}

START_TEST(test_good_inventories)
{
	char *dir = cw_test_src("tests/inventories/good");
	DIR *dp = opendir(dir);
	struct dirent *de;
	size_t files = 0;

	ck_assert_msg(dp != NULL, "cannot open %s", dir);
	while ((de = readdir(dp)) != NULL) {
		struct cw_inventory inv;
		char rel[512];

		if (strlen(de->d_name) < 6 ||
		    strcmp(de->d_name + strlen(de->d_name) - 5, ".yaml") != 0)
			continue;
		snprintf(rel, sizeof(rel), "tests/inventories/good/%s", de->d_name);
		load_ok(rel, &inv);
		ck_assert_uint_gt(inv.naccounts, 0);
		cw_inventory_release(&inv);
		files++;
	}
	closedir(dp);
	free(dir);
	ck_assert_uint_ge(files, 3);
}
END_TEST

/* The demo organisation of accounts.yaml.example, as the demo expects it. */
START_TEST(test_example)
{
	struct cw_inventory inv;
	struct cw_inventory_summary s;
	const struct cw_account_def *a;
	char *path = cw_test_src("accounts.yaml.example");
	char *text = cw_test_slurp(path);

	ck_assert_ptr_nonnull(text);
	/* no secret may live in the example */
	ck_assert_ptr_null(strstr(text, "hooks.slack.com"));
	ck_assert_ptr_null(strstr(text, "AKIA"));
	ck_assert_ptr_null(strstr(text, "aws_secret_access_key"));
	free(text);
	free(path);

	load_ok("accounts.yaml.example", &inv);
	ck_assert_int_eq(inv.lookback_days, 98);
	ck_assert_uint_eq(inv.detectors.n, 2); /* the built-in set: robust, newhigh */
	ck_assert_str_eq(inv.detectors.v[0].ops->name, "robust");
	ck_assert_str_eq(inv.detectors.v[1].ops->name, "newhigh");
	ck_assert_int_eq(inv.period, 86400);
	ck_assert_uint_eq(inv.nregions, 2);
	ck_assert_str_eq(inv.regions[0], "us-east-1");
	ck_assert_str_eq(inv.regions[1], "eu-west-1");
	ck_assert_uint_eq(inv.nmetrics, 1);
	ck_assert_str_eq(inv.metrics[0].namespace_, "AWS/S3");
	ck_assert_str_eq(inv.metrics[0].name, "BytesDownloaded");
	ck_assert_str_eq(inv.metrics[0].stat, "Sum");
	ck_assert(inv.metrics[0].per_bucket);
	ck_assert_uint_eq(inv.naccounts, 3);

	a = account(&inv, "111111111111");
	ck_assert_str_eq(a->name, "media-prod");
	ck_assert_str_eq(a->owner, "media-platform");
	ck_assert_uint_eq(a->nroles, 1);
	ck_assert_str_eq(a->roles[0], "arn:aws:iam::111111111111:role/cwsweep-reader");
	ck_assert_str_eq(a->external_id, "cwsweep-demo-7f3a9c");
	ck_assert_uint_eq(a->nregions, 2);
	ck_assert(!a->buckets_auto);
	ck_assert_uint_eq(a->nbuckets, 9);
	ck_assert_str_eq(a->buckets[0].name, "media-prod-assets");
	ck_assert_str_eq(a->buckets[8].name, "media-prod-legacy-archive");

	a = account(&inv, "222222222222");
	ck_assert_str_eq(a->name, "analytics");
	ck_assert_str_eq(a->owner, "data-eng");
	ck_assert_str_eq(a->external_id, "cwsweep-demo-2b81d4");
	ck_assert(a->buckets_auto);
	ck_assert_uint_eq(a->nbuckets, 0);

	a = account(&inv, "333333333333");
	ck_assert_str_eq(a->name, "sandbox");
	ck_assert_str_eq(a->owner, "platform");
	ck_assert_ptr_null(a->external_id); /* the fake denies AssumeRole without one */
	ck_assert_str_eq(a->roles[0], "arn:aws:iam::333333333333:role/cwsweep-reader");
	ck_assert_uint_eq(a->nregions, 1);
	ck_assert_str_eq(a->regions[0], "us-east-1");
	ck_assert_uint_eq(a->nbuckets, 2);
	ck_assert_str_eq(a->buckets[0].name, "sandbox-scratch");
	ck_assert_str_eq(a->buckets[1].name, "sandbox-web");

	ck_assert_str_eq(inv.reporting.slack_webhook_env, "SLACK_WEBHOOK_URL");
	cw_inventory_summarize(&inv, &s);
	ck_assert_uint_eq(s.accounts, 3);
	ck_assert_uint_eq(s.regions, 2);
	ck_assert_uint_eq(s.buckets, 11);
	ck_assert_uint_eq(s.auto_accounts, 1);
	ck_assert_uint_eq(s.metrics, 1);
	ck_assert_uint_eq(s.targets, 11);
	ck_assert_uint_eq(s.disabled, 0);
	cw_inventory_release(&inv);
}
END_TEST

/* defaults.role_name and defaults.buckets, anchors, aliases, merge keys */
START_TEST(test_templates)
{
	struct cw_inventory inv;
	const struct cw_account_def *a;

	load_ok("tests/inventories/good/templates.yaml", &inv);
	ck_assert_uint_eq(inv.naccounts, 5);
	a = account(&inv, "555555555555"); /* role_arn: ~ : ambient, no template */
	ck_assert_uint_eq(a->nroles, 0);
	ck_assert_ptr_null(a->external_id);
	a = account(&inv, "111111111111");
	ck_assert_str_eq(a->roles[0], "arn:aws:iam::111111111111:role/finops/cwsweep-reader");
	ck_assert_str_eq(a->external_id, "cwsweep-org-1234");
	ck_assert(a->buckets_auto);
	ck_assert_uint_eq(a->nregions, 2);
	a = account(&inv, "222222222222"); /* <<: *media, then its own keys */
	ck_assert_str_eq(a->name, "analytics");
	ck_assert_str_eq(a->owner, "data-eng");
	ck_assert_uint_eq(a->ntags, 1);
	ck_assert_str_eq(a->tags[0].value, "media");
	ck_assert(!a->buckets_auto);
	ck_assert_uint_eq(a->nbuckets, 1);
	ck_assert_str_eq(a->roles[0], "arn:aws:iam::222222222222:role/finops/cwsweep-reader");
	a = account(&inv, "333333333333"); /* the partition follows the region */
	ck_assert_str_eq(a->roles[0],
			 "arn:aws-us-gov:iam::333333333333:role/finops/cwsweep-reader");
	ck_assert_uint_eq(a->detectors.n, 1);
	a = account(&inv, "444444444444"); /* its own role_arn wins */
	ck_assert_str_eq(a->roles[0], "arn:aws:iam::444444444444:role/old-reader");
	cw_inventory_release(&inv);
}
END_TEST

/* An anchor on a merge key's value: the alias sees the whole map. */
START_TEST(test_merge_anchor)
{
	struct cw_inventory inv;

	load_ok("tests/inventories/good/merge_anchor.yaml", &inv);
	ck_assert_uint_eq(inv.nregions, 2);
	ck_assert_uint_eq(inv.accounts[0].nregions, 2);
	ck_assert_int_eq(inv.accounts[0].duration_seconds, 1800);
	ck_assert(inv.accounts[0].buckets_auto);
	cw_inventory_release(&inv);
	expect_one("defaults:\n  <<: &a {regions: [us-east-1], lookback_days: 30}\naccounts:\n"
		   "  - <<: *a\n    id: \"111111111111\"\n    buckets: auto\n", 2, 33,
		   "accounts[0].lookback_days: unknown key");
}
END_TEST

/* A list in defaults.buckets is every account's; not a duplicate. */
START_TEST(test_default_bucket_list)
{
	struct cw_inventory inv;
	struct cw_diags d = { NULL, 0, 0 };
	const char *text = "defaults:\n  regions: [us-east-1]\n  role_name: r\n"
			   "  buckets: [shared-logs]\naccounts:\n  - id: \"111111111111\"\n"
			   "  - id: \"222222222222\"\n    buckets: [own]\n"
			   "  - id: \"333333333333\"\n";

	ck_assert_int_eq(parse(text, &inv, &d), 0);
	ck_assert_uint_eq(inv.accounts[0].nbuckets, 1);
	ck_assert_str_eq(inv.accounts[0].buckets[0].name, "shared-logs");
	ck_assert_str_eq(inv.accounts[1].buckets[0].name, "own");
	ck_assert_str_eq(inv.accounts[2].buckets[0].name, "shared-logs");
	ck_assert_str_eq(inv.accounts[2].roles[0], "arn:aws:iam::333333333333:role/r");
	cw_inventory_release(&inv);
	cw_diags_release(&d);
	/* did you mean, in defaults */
	expect_one("defaults:\n  role_nam: r\naccounts:\n  - id: \"111111111111\"\n", 2, 3,
		   "defaults.role_nam: unknown key; did you mean role_name?");
}
END_TEST

/* organization: the section, then the members Organizations listed */
START_TEST(test_organization)
{
	static const struct cw_org_member m[] = {
		{ "111111111111", "Media From Org" },  /* an entry names it: media */
		{ "222222222222", "disabled-in-file" }, /* enabled: false in the file */
		{ "333333333333", "analytics" },       /* no entry: the defaults */
	};
	struct cw_inventory inv, out;
	struct cw_diags d = { NULL, 0, 0 };
	const struct cw_account_def *a;

	load_ok("tests/inventories/good/organization.yaml", &inv);
	ck_assert_ptr_nonnull(inv.org);
	ck_assert_str_eq(inv.org->management_account, "999999999999");
	ck_assert_str_eq(inv.org->role_arn, "arn:aws:iam::999999999999:role/cwsweep-org-reader");
	ck_assert_str_eq(inv.org->external_id, "org-mgmt-ext");
	ck_assert_uint_eq(inv.org->ninclude, 2);
	ck_assert_str_eq(inv.org->exclude_ous[0], "ou-ab12-sbox0001");
	ck_assert_str_eq(inv.org->exclude_accounts[0], "123456789012");
	ck_assert(!inv.org->include_suspended);
	ck_assert_uint_eq(inv.naccounts, 1);
	ck_assert_uint_eq(inv.naccounts_disabled, 1);

	ck_assert_int_eq(cw_inventory_parse_members(inv.path, inv.org->text, inv.org->text_len,
						    m, 3, &out, &d), 0);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_ptr_null(out.org);
	ck_assert_uint_eq(out.naccounts, 2);
	ck_assert_uint_eq(out.naccounts_disabled, 1);
	a = &out.accounts[0];
	ck_assert_str_eq(a->id, "111111111111");
	ck_assert_str_eq(a->name, "media");
	ck_assert(!a->from_org);
	ck_assert_uint_eq(a->nregions, 2);
	a = &out.accounts[1];
	ck_assert_str_eq(a->id, "333333333333");
	ck_assert_str_eq(a->name, "analytics");
	ck_assert(a->from_org);
	ck_assert_str_eq(a->roles[0], "arn:aws:iam::333333333333:role/cwsweep-reader");
	ck_assert_str_eq(a->external_id, "org-ext-1");
	ck_assert(a->buckets_auto);
	cw_inventory_release(&out);

	/* no member at all, no entry: an empty sweep, not an error */
	cw_inventory_release(&inv);
	ck_assert_int_eq(parse("defaults: {regions: [us-east-1], role_name: r, buckets: auto}\n"
			       "organization: {management_account: \"999999999999\"}\n",
			       &inv, &d), 0);
	ck_assert_uint_eq(inv.naccounts, 0);
	ck_assert_int_eq(cw_inventory_parse_members("t.yaml", inv.org->text, inv.org->text_len,
						    NULL, 0, &out, &d), 0);
	ck_assert_uint_eq(out.naccounts, 0);
	cw_inventory_release(&out);
	cw_inventory_release(&inv);
	cw_diags_release(&d);
}
END_TEST

START_TEST(test_full)
{
	struct cw_inventory inv;
	struct cw_inventory_summary s;
	const struct cw_account_def *a;
	const struct cw_bucket_def *b;
	const struct cw_price_table *pt;

	load_ok("tests/inventories/good/full.yaml", &inv);
	ck_assert_int_eq(inv.period, 3600);
	ck_assert_int_eq(inv.lookback_days, 60);
	ck_assert_uint_eq(inv.nmetrics, 2);
	ck_assert(inv.metrics[0].per_bucket);
	ck_assert(!inv.metrics[1].per_bucket);
	ck_assert_str_eq(inv.metrics[1].label, "AWS/Billing EstimatedCharges Maximum");
	ck_assert_str_eq(inv.metrics[1].unit, "");
	ck_assert_uint_eq(inv.naccounts, 2);
	ck_assert_uint_eq(inv.naccounts_disabled, 1);

	/* defaults: mean7d factor 3, zscore defaults */
	ck_assert_uint_eq(inv.detectors.n, 2);
	ck_assert_double_eq(param(&inv.detectors, "mean7d", "factor"), 3);

	a = account(&inv, "111111111111");
	ck_assert_uint_eq(a->nroles, 2);
	ck_assert_str_eq(a->roles[0], "arn:aws-us-gov:iam::999999999999:role/hub");
	ck_assert_str_eq(a->external_id, "org-wide-id");      /* from defaults */
	ck_assert_str_eq(a->session_name, "cwsweep-nightly"); /* from defaults */
	ck_assert_int_eq(a->duration_seconds, 1800);
	ck_assert_uint_eq(a->nregions, 1);
	ck_assert_str_eq(a->regions[0], "us-gov-west-1");
	ck_assert_uint_eq(a->ntags, 1);
	ck_assert_str_eq(a->tags[0].key, "cost-center");
	ck_assert_str_eq(a->tags[0].value, "4711");
	/* account merges min_excess over the defaults' factor */
	ck_assert_double_eq(param(&a->detectors, "mean7d", "factor"), 3);
	ck_assert_double_eq(param(&a->detectors, "mean7d", "min_excess"), 5e9);
	ck_assert_uint_eq(a->detectors.n, 2);
	ck_assert_uint_eq(a->nbuckets, 2);
	b = &a->buckets[0];
	ck_assert_str_eq(b->name, "plain-bucket");
	ck_assert_ptr_null(b->region);
	ck_assert_uint_eq(b->detectors.n, 2);
	ck_assert_double_eq(param(&b->detectors, "mean7d", "min_excess"), 5e9);
	/* no detectors of its own: the account's set, shared, not a copy */
	ck_assert(b->detectors.borrowed);
	ck_assert_ptr_eq(b->detectors.v, a->detectors.v);
	b = &a->buckets[1];
	ck_assert_str_eq(b->name, "special.bucket");
	ck_assert_str_eq(b->region, "us-gov-west-1");
	ck_assert_int_eq(b->line, 33);
	ck_assert_int_eq(b->col, 9);
	/* bucket: + threshold, - zscore, mean7d as the account has it */
	ck_assert_uint_eq(b->detectors.n, 2);
	ck_assert_ptr_null(find_det(&b->detectors, "zscore"));
	ck_assert_double_eq(param(&b->detectors, "threshold", "limit"), 2e12);
	ck_assert_double_eq(param(&b->detectors, "threshold", "severity"), CW_SEV_CRITICAL);
	ck_assert_double_eq(param(&b->detectors, "mean7d", "min_excess"), 5e9);
	ck_assert_uint_eq(b->ntags, 1);
	ck_assert(!b->detectors.borrowed); /* its own layer: its own set */
	ck_assert_ptr_ne(b->detectors.v, a->detectors.v);
	for (size_t i = 0; i < b->detectors.n; i++)
		ck_assert_ptr_eq(b->detectors.v[i].ops, cw_detector_find(
					 b->detectors.v[i].ops->name));

	a = account(&inv, "222222222222");
	ck_assert_str_eq(a->name, "222222222222"); /* name defaults to the id */
	ck_assert_str_eq(a->external_id, "own-id");
	ck_assert_str_eq(a->session_name, "own-session");
	ck_assert_int_eq(a->duration_seconds, 43200);
	ck_assert_uint_eq(a->nregions, 2); /* from defaults */
	ck_assert(a->buckets_auto);
	ck_assert_ptr_null(find_det(&a->detectors, "mean7d")); /* off */
	ck_assert_ptr_nonnull(find_det(&a->detectors, "zscore"));
	ck_assert_ptr_nonnull(find_det(&a->detectors, "seasonal"));

	ck_assert_str_eq(inv.reporting.output_dir, "/var/lib/cwsweep/reports");
	ck_assert_str_eq(inv.reporting.formats, "json,md");
	ck_assert(!inv.reporting.slack_enabled);
	ck_assert_str_eq(inv.reporting.slack_webhook_env, "FINOPS_HOOK");
	ck_assert_uint_eq(inv.reporting.slack_max_findings, 25);
	ck_assert_str_eq(inv.reporting.state_file, "/var/lib/cwsweep/state.json");
	ck_assert_int_eq(inv.reporting.cooldown, 3 * 86400);
	ck_assert_double_eq(inv.reporting.growth_factor, 1.5);
	ck_assert_str_eq(inv.reporting.lock_file, "/run/cwsweep.lock");

	ck_assert_str_eq(inv.aws.endpoint_url, "http://127.0.0.1:4566");
	ck_assert_str_eq(inv.aws.sts_region, "us-east-1");
	ck_assert_int_eq(inv.aws.jobs, 64);
	ck_assert_double_eq(inv.aws.gmd_tps, 50);
	ck_assert_double_eq(inv.aws.lm_tps, 25);
	ck_assert_double_eq(inv.aws.sts_tps, 5);
	ck_assert_int_eq(inv.aws.max_attempts, 5);
	ck_assert_int_eq(inv.aws.connect_timeout_s, 5);
	ck_assert_int_eq(inv.aws.request_timeout_s, 120);

	ck_assert_uint_eq(inv.nprices, 2);
	pt = cw_inventory_prices(&inv, "us-east-1");
	ck_assert_ptr_eq(pt, &inv.prices[0]);
	ck_assert_double_eq(pt->free_bytes, 0);
	ck_assert_uint_eq(pt->ntiers, 2);
	ck_assert_double_eq(pt->tiers[0].upto_bytes, 1e13);
	ck_assert_double_eq(pt->tiers[0].usd_per_gb, 0.1);
	ck_assert(isinf(pt->tiers[1].upto_bytes));
	pt = cw_inventory_prices(&inv, "eu-west-1");
	ck_assert_str_eq(pt->region, "eu-west-1");
	ck_assert_double_eq(pt->free_bytes, 0); /* inherited from default */
	ck_assert_double_eq(pt->tiers[0].upto_bytes, 1e15);
	ck_assert_double_eq(pt->tiers[1].usd_per_gb, 0.02);
	ck_assert_int_eq(inv.watch.metrics_per_config, 8);
	ck_assert_double_eq(inv.watch.usd_per_metric_month, 0.1);
	ck_assert_double_eq_tol(cw_inventory_watch_usd(&inv), 0.8, 1e-12);

	cw_inventory_summarize(&inv, &s);
	ck_assert_uint_eq(s.accounts, 2);
	ck_assert_uint_eq(s.disabled, 1);
	ck_assert_uint_eq(s.regions, 3);
	ck_assert_uint_eq(s.buckets, 2);
	ck_assert_uint_eq(s.auto_accounts, 1);
	ck_assert_uint_eq(s.metrics, 2);
	ck_assert_uint_eq(s.detectors, 4); /* mean7d zscore threshold seasonal */
	/* 2 buckets x 1 bucket metric + 1 region x billing; 2 regions x billing */
	ck_assert_uint_eq(s.targets, 5);
	cw_inventory_release(&inv);
}
END_TEST

START_TEST(test_defaults)
{
	struct cw_inventory inv;
	const struct cw_price_table *pt;

	ck_assert_int_eq(cw_inventory_defaults(&inv), 0);
	ck_assert_uint_eq(inv.naccounts, 0);
	ck_assert_int_eq(inv.period, 86400);
	ck_assert_int_eq(inv.lookback_days, 35);
	ck_assert_uint_eq(inv.nmetrics, 1);
	ck_assert_str_eq(inv.metrics[0].label, "AWS/S3 BytesDownloaded Sum");
	ck_assert_str_eq(inv.metrics[0].unit, "Bytes");
	ck_assert_uint_eq(inv.metrics[0].ndims, 2);
	ck_assert_str_eq(inv.metrics[0].dims[0].name, "BucketName");
	ck_assert_str_eq(inv.metrics[0].dims[0].value, "{bucket}");
	ck_assert_str_eq(inv.metrics[0].dims[1].name, "FilterId");
	ck_assert_str_eq(inv.metrics[0].dims[1].value, "EntireBucket");
	ck_assert_uint_eq(inv.detectors.n, 2);
	ck_assert_str_eq(inv.detectors.v[0].ops->name, "robust");
	ck_assert_str_eq(inv.detectors.v[1].ops->name, "newhigh");
	ck_assert_str_eq(inv.reporting.output_dir, "./cwsweep-report");
	ck_assert_str_eq(inv.reporting.formats, "md,csv,json,html,xlsx");
	ck_assert_str_eq(inv.reporting.slack_webhook_env, "SLACK_WEBHOOK_URL");
	ck_assert_uint_eq(inv.reporting.slack_max_findings, 10);
	ck_assert_int_eq(inv.reporting.cooldown, 7 * 86400);
	ck_assert_double_eq(inv.aws.gmd_tps, 40);
	ck_assert_int_eq(inv.aws.max_attempts, 3);
	/* one request-metrics configuration: 16 metrics x $0.30 a month */
	ck_assert_int_eq(inv.watch.metrics_per_config, 16);
	ck_assert_double_eq(inv.watch.usd_per_metric_month, 0.30);
	ck_assert_double_eq_tol(cw_inventory_watch_usd(&inv), 4.8, 1e-12);
	/* DESIGN.md: $0.09 to 10 TB, $0.085 next 40, $0.07 next 100, $0.05 beyond */
	pt = cw_inventory_prices(&inv, "ap-south-1");
	ck_assert_ptr_eq(pt, &inv.prices[0]);
	ck_assert_double_eq(pt->free_bytes, 100e9);
	ck_assert_uint_eq(pt->ntiers, 4);
	ck_assert_double_eq(pt->tiers[0].upto_bytes, 10e12);
	ck_assert_double_eq(pt->tiers[0].usd_per_gb, 0.09);
	ck_assert_double_eq(pt->tiers[1].upto_bytes, 50e12);
	ck_assert_double_eq(pt->tiers[1].usd_per_gb, 0.085);
	ck_assert_double_eq(pt->tiers[2].upto_bytes, 150e12);
	ck_assert_double_eq(pt->tiers[2].usd_per_gb, 0.07);
	ck_assert(isinf(pt->tiers[3].upto_bytes));
	ck_assert_double_eq(pt->tiers[3].usd_per_gb, 0.05);
	cw_inventory_release(&inv);
	cw_inventory_release(&inv); /* released twice: harmless */
}
END_TEST

/* ---- files that are not inventories -------------------------------------- */

START_TEST(test_missing_file)
{
	struct cw_inventory inv;
	struct cw_diags d = { NULL, 0, 0 };

	ck_assert_int_eq(cw_inventory_load("/nonexistent/accounts.yaml", &inv, &d), CW_EIO);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.v[0].file, "/nonexistent/accounts.yaml");
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "no such file"));
	cw_diags_release(&d);
}
END_TEST

START_TEST(test_directory)
{
	struct cw_inventory inv;
	struct cw_diags d = { NULL, 0, 0 };
	char *dir = cw_test_tmpdir();

	ck_assert_int_eq(cw_inventory_load(dir, &inv, &d), CW_EIO);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "is a directory"));
	cw_diags_release(&d);
	cw_test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_huge_file)
{
	struct cw_inventory inv;
	struct cw_diags d = { NULL, 0, 0 };
	char *dir = cw_test_tmpdir(), *path;
	FILE *f;
	char line[] = "# padding padding padding padding padding padding padding padding\n";

	path = cw_test_write(dir, "huge.yaml", "accounts: []\n");
	f = fopen(path, "a");
	ck_assert_ptr_nonnull(f);
	for (size_t n = 0; n < 16u * 1024 * 1024 + 1; n += sizeof(line) - 1)
		fputs(line, f);
	fclose(f);
	ck_assert_int_eq(cw_inventory_load(path, &inv, &d), CW_EINVAL);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "larger than 16 MiB are refused"));
	cw_diags_release(&d);
	cw_test_rmtree(dir);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_empty_file)
{
	struct cw_inventory inv;
	struct cw_diags d = { NULL, 0, 0 };
	char *dir = cw_test_tmpdir(), *path = cw_test_write(dir, "empty.yaml", "");

	ck_assert_int_eq(cw_inventory_load(path, &inv, &d), CW_EINVAL);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_int_eq(d.v[0].line, 0);
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "empty inventory"));
	cw_diags_release(&d);
	cw_test_rmtree(dir);
	free(path);
	free(dir);
}
END_TEST

/* ---- parsing details ------------------------------------------------------ */

#define ACCT "accounts:\n  - id: \"111111111111\"\n    regions: [us-east-1]\n"

START_TEST(test_exclusions)
{
	struct cw_inventory inv;
	struct cw_diags d = { NULL, 0, 0 };
	int rc = parse(ACCT "    buckets: [media-assets]\n"
		       "exclusions:\n"
		       "  - {from: 2026-11-20T00:00:00Z, to: 2026-11-23T00:00:00Z, reason: migration}\n"
		       "  - from: 2026-12-01\n"
		       "    to: 2026-12-02\n"
		       "    account: \"111111111111\"\n"
		       "    bucket: \"media-*\"\n"
		       "    reason: launch\n", &inv, &d);
	char *got = all_diags(&d);

	ck_assert_msg(rc == 0, "%s", got);
	ck_assert_uint_eq(inv.nexclusions, 2);
	ck_assert_int_eq(inv.exclusions[0].from, 1795132800); /* 2026-11-20 */
	ck_assert_int_eq(inv.exclusions[0].to, 1795132800 + 3 * 86400);
	ck_assert_ptr_null(inv.exclusions[0].account);
	ck_assert_str_eq(inv.exclusions[0].reason, "migration");
	ck_assert(cw_exclusion_matches(&inv.exclusions[0], "222222222222", "anything"));
	ck_assert(cw_exclusion_matches(&inv.exclusions[1], "111111111111", "media-assets"));
	ck_assert(!cw_exclusion_matches(&inv.exclusions[1], "111111111111", "logs"));
	ck_assert(!cw_exclusion_matches(&inv.exclusions[1], "222222222222", "media-assets"));
	ck_assert(!cw_exclusion_matches(&inv.exclusions[1], "111111111111", NULL));
	free(got);
	cw_diags_release(&d);
	cw_inventory_release(&inv);
}
END_TEST

START_TEST(test_positions_count_characters)
{
	/* "ü" is two bytes, one column: the id's quote is character 21, byte 22 */
	expect_one("accounts:\n  - {name: \"ü\", id: \"1\"}\n", 2, 21, "accounts[0].id:");
	/* tabs are a syntax error in YAML indentation */
	expect_one("accounts:\n\t- id: \"111111111111\"\n", 2, 1, "YAML syntax error");
}
END_TEST

START_TEST(test_bad_bytes)
{
	struct cw_inventory inv;
	struct cw_diags d = { NULL, 0, 0 };
	static const char text[] = "accounts:\n  - id: \"1\xff\"\n";

	ck_assert_int_eq(cw_inventory_parse("t.yaml", text, sizeof(text) - 1, &inv, &d),
			 CW_EINVAL);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_int_eq(d.v[0].line, 2);
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "UTF-8"));
	cw_diags_release(&d);
}
END_TEST

START_TEST(test_deep_nesting)
{
	char text[512];
	size_t n = 0;

	n += (size_t)snprintf(text + n, sizeof(text) - n, "accounts: ");
	for (int i = 0; i < 70; i++)
		text[n++] = '[';
	text[n] = '\0';
	/* the top-level map is level 1, so the 64th [ (column 74) is level 65 */
	expect_one(text, 1, 74, "nested more than 64 levels");
}
END_TEST

START_TEST(test_diag_cap)
{
	struct cw_inventory inv;
	struct cw_diags d = { NULL, 0, 0 };
	char *text = malloc(64 * 1024);
	size_t n = 0;

	n += (size_t)snprintf(text + n, 64 * 1024 - n, "%s    buckets:\n", ACCT);
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(text + n, 64 * 1024 - n, "      - Bad_%d\n", i);
	ck_assert_int_eq(parse(text, &inv, &d), CW_EINVAL);
	ck_assert_uint_eq(d.n, 501);
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "more than 500 problems")); /* no position */
	ck_assert_ptr_nonnull(strstr(d.v[1].msg, "accounts[0].buckets[0]"));
	cw_diags_release(&d);
	free(text);
}
END_TEST

START_TEST(test_all_problems_sorted)
{
	struct cw_inventory inv;
	struct cw_diags d = { NULL, 0, 0 };
	const char *text = "accounts:\n"
			   "  - id: \"1\"\n"
			   "    buckets: [Bad]\n"
			   "    regions: [mars-1]\n"
			   "defaults:\n"
			   "  period: 7s\n";

	char *got;

	ck_assert_int_eq(parse(text, &inv, &d), CW_EINVAL);
	got = all_diags(&d);
	ck_assert_msg(d.n == 4, "%s", got);
	for (size_t i = 1; i < d.n; i++)
		ck_assert(d.v[i - 1].line < d.v[i].line ||
			  (d.v[i - 1].line == d.v[i].line && d.v[i - 1].col <= d.v[i].col));
	ck_assert_msg(has_diag(&d, 2, 9, "accounts[0].id: an AWS account id has exactly 12"),
		      "%s", got);
	ck_assert_msg(has_diag(&d, 3, 15, "accounts[0].buckets[0]: bucket names have no upper"),
		      "%s", got);
	ck_assert_msg(has_diag(&d, 4, 15, "accounts[0].regions[0]: not an AWS region"), "%s",
		      got);
	ck_assert(has_diag(&d, 6, 11, "defaults.period: must be between 1m and 1d, got 7s"));
	free(got);
	cw_diags_release(&d);
}
END_TEST

START_TEST(test_diags_print)
{
	struct cw_diags d = { NULL, 0, 0 };
	char *got;

	ck_assert_int_eq(cw_diags_add(&d, "accounts.yaml", 12, 15, "%s: %s",
				      "accounts[1].role_arn", "not an IAM role ARN"), 0);
	ck_assert_int_eq(cw_diags_add(&d, "accounts.yaml", 0, 0, "no such file"), 0);
	got = all_diags(&d);
	ck_assert_str_eq(got, "accounts.yaml:12:15: accounts[1].role_arn: not an IAM role ARN\n"
			      "accounts.yaml: no such file\n");
	free(got);
	cw_diags_release(&d);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_ptr_null(d.v);
}
END_TEST

START_TEST(test_scalars_and_types)
{
	/* a quoted "true" is a string, not a boolean */
	expect_one(ACCT "    buckets: auto\n    enabled: \"true\"\n", 5, 14,
		   "accounts[0].enabled: must be true or false");
	/* !!str makes a number a string: accepted for the id */
	{
		struct cw_inventory inv;
		struct cw_diags d = { NULL, 0, 0 };

		ck_assert_int_eq(parse("accounts:\n  - id: !!str 012345678901\n"
				       "    regions: [us-east-1]\n    buckets: auto\n",
				       &inv, &d), 0);
		ck_assert_str_eq(inv.accounts[0].id, "012345678901");
		cw_inventory_release(&inv);
		cw_diags_release(&d);
	}
	expect_one("accounts:\n  - id: !!int 111111111111\n    regions: [us-east-1]\n"
		   "    buckets: auto\n", 2, 9, "YAML tag tag:yaml.org,2002:int is not supported");
	expect_one(ACCT "    buckets: auto\n    tags: [a, b]\n", 5, 11,
		   "accounts[0].tags: must be a map (key: value lines), got a list");
	expect_one(ACCT "    buckets: auto\n    name:\n", 5, 10,
		   "accounts[0].name: must be a single value, got nothing");
	expect_one(ACCT "    buckets: auto\n    ? [a]\n    : b\n", 5, 7,
		   "a map key must be a plain name");
}
END_TEST

START_TEST(test_disabled_account)
{
	struct cw_inventory inv;
	struct cw_diags d = { NULL, 0, 0 };

	ck_assert_int_eq(parse(ACCT "    buckets: [one-bucket]\n"
			       "  - id: \"222222222222\"\n    enabled: false\n"
			       "    regions: [us-east-1]\n    buckets: [two-bucket]\n",
			       &inv, &d), 0);
	ck_assert_uint_eq(inv.naccounts, 1);
	ck_assert_uint_eq(inv.naccounts_disabled, 1);
	ck_assert_str_eq(inv.accounts[0].id, "111111111111");
	cw_inventory_release(&inv);
	/* a disabled account is still checked */
	expect_one(ACCT "    buckets: [one-bucket]\n"
		   "  - id: \"222222222222\"\n    enabled: false\n"
		   "    regions: [us-east-1]\n    buckets: [Two]\n", 8, 15,
		   "accounts[1].buckets[0]: bucket names have no uppercase");
}
END_TEST

START_TEST(test_history_vs_lookback)
{
	/* a lookback too short for the detectors' min_history */
	struct cw_inventory inv;
	struct cw_diags d = { NULL, 0, 0 };
	int rc = parse("defaults:\n  lookback_days: 5\n" ACCT "    buckets: auto\n", &inv, &d);
	char *got = all_diags(&d);

	/* robust needs 3 weeks of history; 5 days cannot hold it (newhigh's
	 * 1 day fits) */
	ck_assert_msg(rc == CW_EINVAL, "%s", got);
	ck_assert_msg(has_diag(&d, 2, 18, "defaults.lookback_days: 5 days cannot hold the 3w "
				   "of history that robust needs"), "%s", got);
	ck_assert_uint_eq(d.n, 1);
	free(got);
	cw_diags_release(&d);
}
END_TEST

/* The hardening keys: memory bound, throttle window, metrics file, heartbeat. */
START_TEST(test_hardening_keys)
{
	struct cw_inventory inv;
	struct cw_diags d = { NULL, 0, 0 };
	const char *text =
		"defaults:\n  regions: [us-east-1]\n"
		"accounts:\n  - id: \"111111111111\"\n    buckets: [a-bucket]\n"
		"aws:\n  response_memory_mb: 64\n  throttle_window: 2m\n"
		"reporting:\n  metrics_file: /var/lib/x/cwsweep.prom\n"
		"  heartbeat_url_env: CWSWEEP_HB\n";

	ck_assert_int_eq(parse(text, &inv, &d), 0);
	ck_assert_int_eq(inv.aws.response_memory_mb, 64);
	ck_assert_int_eq(inv.aws.throttle_window_s, 120);
	ck_assert_str_eq(inv.reporting.metrics_file, "/var/lib/x/cwsweep.prom");
	ck_assert_str_eq(inv.reporting.heartbeat_url_env, "CWSWEEP_HB");
	cw_inventory_release(&inv);
	cw_diags_release(&d);
	ck_assert_int_eq(cw_inventory_defaults(&inv), 0);
	ck_assert_int_eq(inv.aws.response_memory_mb, 256);
	ck_assert_int_eq(inv.aws.throttle_window_s, 300);
	ck_assert_ptr_null(inv.reporting.metrics_file);
	cw_inventory_release(&inv);
	/* the URL itself is refused, and never echoed */
	expect_one("defaults:\n  regions: [us-east-1]\n"
		   "accounts:\n  - id: \"111111111111\"\n    buckets: [a-bucket]\n"
		   "reporting:\n  heartbeat_url_env: https://hc-ping.com/SECRET\n",
		   7, 22, "give the NAME of an environment variable");
	expect_one("defaults:\n  regions: [us-east-1]\n"
		   "accounts:\n  - id: \"111111111111\"\n    buckets: [a-bucket]\n"
		   "aws:\n  response_memory_mb: 8\n", 7, 23, "response_memory_mb");
}
END_TEST

static Suite *inventory_suite(void)
{
	Suite *s = suite_create("inventory");
	TCase *files = tcase_create("files");
	TCase *parsing = tcase_create("parsing");

	tcase_set_timeout(files, 60);
	tcase_add_test(files, test_bad_inventories);
	tcase_add_test(files, test_good_inventories);
	tcase_add_test(files, test_example);
	tcase_add_test(files, test_full);
	tcase_add_test(files, test_templates);
	tcase_add_test(files, test_merge_anchor);
	tcase_add_test(files, test_organization);
	tcase_add_test(files, test_default_bucket_list);
	tcase_add_test(files, test_missing_file);
	tcase_add_test(files, test_directory);
	tcase_add_test(files, test_huge_file);
	tcase_add_test(files, test_empty_file);
	suite_add_tcase(s, files);

	tcase_add_test(parsing, test_defaults);
	tcase_add_test(parsing, test_hardening_keys);
	tcase_add_test(parsing, test_positions_count_characters);
	tcase_add_test(parsing, test_bad_bytes);
	tcase_add_test(parsing, test_deep_nesting);
	tcase_add_test(parsing, test_diag_cap);
	tcase_add_test(parsing, test_all_problems_sorted);
	tcase_add_test(parsing, test_diags_print);
	tcase_add_test(parsing, test_scalars_and_types);
	tcase_add_test(parsing, test_disabled_account);
	tcase_add_test(parsing, test_history_vs_lookback);
	tcase_add_test(parsing, test_exclusions);
	suite_add_tcase(s, parsing);
	return s;
}

int main(void)
{
	return cw_test_run_suite(inventory_suite());
}
