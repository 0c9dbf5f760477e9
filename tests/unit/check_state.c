/*
 * check_state.c - alert state across nightly runs: runs built in code
 * (a spike appears, persists, grows, outlives the cooldown, resolves,
 * returns), each night saved to and loaded from a real file; a broken,
 * foreign or oversized state file is a warning and an empty state; the
 * file is written 0600; --no-state announces every anomaly.
 *
 * Values are in GB for reading (1 GB = 1e9 here, any unit would do): a
 * threshold at 100 with value 150 has excess 50.
 */
#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicio.h"
#include "err.h"
#include "run.h"
#include "state.h"
#include "strutil.h"
#include "testlib.h"
#include "timeutil.h"

#define DAY 86400
#define COOLDOWN (7 * DAY)
#define GROWTH 2.0
#define ACCT "111122223333"
#define METRIC "AWS/S3 BytesDownloaded Sum"

static char *dir, *path;
static int64_t t0; /* the first night's run, 2026-11-26T03:00:00Z */

static void setup(void)
{
	dir = cw_test_tmpdir();
	ck_assert_ptr_nonnull(dir);
	path = cw_asprintf("%s/state.json", dir);
	ck_assert_int_eq(cw_time_parse("2026-11-26T03:00:00Z", &t0), 0);
}

static void teardown(void)
{
	cw_test_rmtree(dir);
	free(dir);
	free(path);
}

/* ---- building runs ------------------------------------------------------- */

/* A series of one slot for bucket b; its index. */
static size_t add_series(struct cw_run *run, const char *bucket, int64_t day_start)
{
	struct cw_target_id id = { ACCT, "prod", "us-east-1", (char *)bucket, METRIC,
				   "Bytes", "", "" };
	struct cw_series s;
	size_t idx;

	ck_assert_int_eq(cw_series_init(&s, day_start, DAY, 1), 0);
	ck_assert_int_eq(cw_run_add_series(run, &id, &s, &idx), 0);
	return idx;
}

/* A threshold judgement at limit 100: anomaly when value > 100. */
static size_t add_judged(struct cw_run *run, size_t series, const char *detector,
			 enum cw_status st, int64_t period_start, double value)
{
	struct cw_judgement j = {
		.status = st, .severity = CW_SEV_WARNING, .period_start = period_start,
		.value = value, .baseline = 100, .limit = 100, .score = value / 100,
	};

	ck_assert_int_eq(cw_run_add_result(run, series, detector, &j, NULL), 0);
	return run->nresults - 1;
}

/* One night: bucket "logs" judged with value v (NAN: not judged at all),
 * bucket "quiet" always ok.  Result 0 is logs (when judged). */
static void night(struct cw_run *run, int64_t now, double v)
{
	int64_t day = cw_time_floor(now, DAY) - DAY;

	ck_assert_int_eq(cw_run_init(run, "run"), 0);
	if (!isnan(v))
		add_judged(run, add_series(run, "logs", day), "threshold",
			   v > 100 ? CW_STATUS_ANOMALY : CW_STATUS_OK, day, v);
	add_judged(run, add_series(run, "quiet", day), "threshold", CW_STATUS_OK, day, 3);
}

struct outcome {
	enum cw_alert alert;
	bool announced;
};

/* Load the state file, apply a night with value v, save; what result 0 got. */
static struct outcome sweep(int64_t now, double v)
{
	struct cw_state st;
	struct cw_run run;
	struct outcome o;
	bool ann[4] = { true, true, true, true };
	char err[CW_ERRBUF];

	ck_assert_int_eq(cw_state_load(&st, path, err, sizeof(err)), 0);
	night(&run, now, v);
	ck_assert_int_eq(cw_state_apply(&st, &run, now, COOLDOWN, GROWTH, ann), 0);
	/* the quiet bucket is never announced and never stored */
	ck_assert_int_eq(run.results[run.nresults - 1].alert, CW_ALERT_NONE);
	ck_assert(!ann[run.nresults - 1]);
	ck_assert_ptr_null(cw_state_find(&st, ACCT, "us-east-1", "quiet", METRIC, "threshold"));
	ck_assert_msg(cw_state_save(&st, path, now, err, sizeof(err)) == 0, "%s", err);
	o.alert = run.results[0].alert;
	o.announced = ann[0];
	cw_run_release(&run);
	cw_state_release(&st);
	return o;
}

static struct cw_state_entry logs_entry(void)
{
	struct cw_state st;
	struct cw_state_entry e;
	const struct cw_state_entry *p;
	char err[CW_ERRBUF];

	ck_assert_int_eq(cw_state_load(&st, path, err, sizeof(err)), 0);
	p = cw_state_find(&st, ACCT, "us-east-1", "logs", METRIC, "threshold");
	ck_assert_ptr_nonnull(p);
	e = *p;
	memset(&e.key, 0, sizeof(e.key));
	cw_state_release(&st);
	return e;
}

/* ---- stderr capture, to see the warnings --------------------------------- */

static int saved_fd = -1;
static char *log_path;

static void capture_start(void)
{
	int fd;

	log_path = cw_asprintf("%s/stderr.log", dir);
	fflush(stderr);
	saved_fd = dup(2);
	fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	dup2(fd, 2);
	close(fd);
}

/* Everything written to stderr since capture_start (malloc'd). */
static char *capture_end(void)
{
	char *text;

	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	text = cw_test_slurp(log_path);
	free(log_path);
	return text ? text : cw_strdup("");
}

/* ---- the nightly story --------------------------------------------------- */

START_TEST(test_nights)
{
	struct outcome o;
	struct cw_state_entry e;
	struct stat sb;

	/* night 1: the spike appears (excess 50) */
	o = sweep(t0, 150);
	ck_assert_int_eq(o.alert, CW_ALERT_NEW);
	ck_assert(o.announced);
	e = logs_entry();
	ck_assert_int_eq(e.status, CW_STATE_ANOMALY);
	ck_assert_int_eq(e.first_seen, t0);
	ck_assert_int_eq(e.last_announced, t0);
	ck_assert_double_eq(e.announced_excess, 50);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);

	/* night 2: it persists, excess 60 < 2 x 50: shown as ongoing, not announced */
	o = sweep(t0 + DAY, 160);
	ck_assert_int_eq(o.alert, CW_ALERT_ONGOING);
	ck_assert(!o.announced);
	e = logs_entry();
	ck_assert_int_eq(e.last_seen, t0 + DAY);
	ck_assert_int_eq(e.last_announced, t0);
	ck_assert_double_eq(e.last_excess, 60);
	ck_assert_double_eq(e.announced_excess, 50);

	/* night 3: it grows x3 (excess 150 >= 2 x 50): announced as grown */
	o = sweep(t0 + 2 * DAY, 250);
	ck_assert_int_eq(o.alert, CW_ALERT_GREW);
	ck_assert(o.announced);
	e = logs_entry();
	ck_assert_int_eq(e.last_announced, t0 + 2 * DAY);
	ck_assert_double_eq(e.announced_value, 250);
	ck_assert_double_eq(e.announced_excess, 150);
	ck_assert_int_eq(e.first_seen, t0);

	/* night 4: 260 is not twice the excess announced last (150) */
	o = sweep(t0 + 3 * DAY, 260);
	ck_assert_int_eq(o.alert, CW_ALERT_ONGOING);
	ck_assert(!o.announced);

	/* 7 days after the last announcement, 30 s earlier in the evening
	 * than that night (cron drift): the cooldown is over, announced again */
	o = sweep(t0 + 9 * DAY - 30, 255);
	ck_assert_int_eq(o.alert, CW_ALERT_ONGOING);
	ck_assert(o.announced);
	ck_assert_int_eq(logs_entry().last_announced, t0 + 9 * DAY - 30);

	/* the next night it is quiet again within the new cooldown */
	o = sweep(t0 + 10 * DAY, 255);
	ck_assert_int_eq(o.alert, CW_ALERT_ONGOING);
	ck_assert(!o.announced);

	/* it resolves: announced once, kept as resolved */
	o = sweep(t0 + 11 * DAY, 40);
	ck_assert_int_eq(o.alert, CW_ALERT_RESOLVED);
	ck_assert(o.announced);
	e = logs_entry();
	ck_assert_int_eq(e.status, CW_STATE_RESOLVED);
	ck_assert_int_eq(e.last_seen, t0 + 11 * DAY);

	/* ok again: nothing to say */
	o = sweep(t0 + 12 * DAY, 40);
	ck_assert_int_eq(o.alert, CW_ALERT_NONE);
	ck_assert(!o.announced);
	ck_assert_int_eq(logs_entry().last_seen, t0 + 11 * DAY);

	/* it comes back: a new episode */
	o = sweep(t0 + 13 * DAY, 120);
	ck_assert_int_eq(o.alert, CW_ALERT_NEW);
	ck_assert(o.announced);
	e = logs_entry();
	ck_assert_int_eq(e.first_seen, t0 + 13 * DAY);
	ck_assert_int_eq(e.status, CW_STATE_ANOMALY);
}
END_TEST

/* The three nights of the issue, on one state in memory (no file). */
START_TEST(test_three_nights_in_memory)
{
	struct cw_state st;
	struct cw_run run;
	bool ann[2];

	cw_state_init(&st);
	night(&run, t0, 150);
	ck_assert_int_eq(cw_state_apply(&st, &run, t0, COOLDOWN, GROWTH, ann), 0);
	ck_assert_int_eq(run.results[0].alert, CW_ALERT_NEW);
	ck_assert(ann[0] && !ann[1]);
	cw_run_release(&run);

	night(&run, t0 + DAY, 150);
	ck_assert_int_eq(cw_state_apply(&st, &run, t0 + DAY, COOLDOWN, GROWTH, ann), 0);
	ck_assert_int_eq(run.results[0].alert, CW_ALERT_ONGOING);
	ck_assert(!ann[0] && !ann[1]);
	cw_run_release(&run);

	night(&run, t0 + 2 * DAY, 90);
	ck_assert_int_eq(cw_state_apply(&st, &run, t0 + 2 * DAY, COOLDOWN, GROWTH, ann), 0);
	ck_assert_int_eq(run.results[0].alert, CW_ALERT_RESOLVED);
	ck_assert(ann[0] && !ann[1]);
	cw_run_release(&run);
	ck_assert_uint_eq(st.n, 1);
	cw_state_release(&st);
}
END_TEST

START_TEST(test_cooldown_zero_and_no_growth)
{
	struct cw_state st;
	struct cw_run run;
	bool ann[2];

	cw_state_init(&st);
	for (int i = 0; i < 3; i++) {
		night(&run, t0 + i * DAY, 150 + 200 * i);
		/* cooldown 0: every night; growth factor 0: never "grew" */
		ck_assert_int_eq(cw_state_apply(&st, &run, t0 + i * DAY, 0, 0, ann), 0);
		ck_assert_int_eq(run.results[0].alert, i ? CW_ALERT_ONGOING : CW_ALERT_NEW);
		ck_assert(ann[0]);
		cw_run_release(&run);
	}
	cw_state_release(&st);
}
END_TEST

/* Not judged this run: a bucket that vanished, a failed target, a gap. */
START_TEST(test_unjudged_keys_keep_their_state)
{
	struct cw_state_entry before, after;
	struct cw_state st;
	struct cw_run run;
	bool ann[2];
	char err[CW_ERRBUF];
	int64_t now = t0 + DAY, day = cw_time_floor(now, DAY) - DAY;

	sweep(t0, 150);
	before = logs_entry();

	/* vanished: no series for logs at all */
	sweep(now, NAN);
	after = logs_entry();
	ck_assert_int_eq(after.status, CW_STATE_ANOMALY);
	ck_assert_int_eq(after.last_seen, before.last_seen);

	/* failed and insufficient judgements change nothing either */
	ck_assert_int_eq(cw_state_load(&st, path, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_run_init(&run, "run"), 0);
	add_judged(&run, add_series(&run, "logs", day), "threshold", CW_STATUS_FAILED, day, NAN);
	add_judged(&run, add_series(&run, "logs", day), "threshold", CW_STATUS_INSUFFICIENT,
		   day, NAN);
	ck_assert_int_eq(cw_state_apply(&st, &run, now, COOLDOWN, GROWTH, ann), 0);
	ck_assert_int_eq(run.results[0].alert, CW_ALERT_NONE);
	ck_assert_int_eq(run.results[1].alert, CW_ALERT_NONE);
	ck_assert(!ann[0] && !ann[1]);
	ck_assert_int_eq(cw_state_find(&st, ACCT, "us-east-1", "logs", METRIC, "threshold")
			 ->last_seen, t0);
	cw_run_release(&run);
	cw_state_release(&st);

	/* still anomalous the night after: ongoing, not new */
	ck_assert_int_eq(sweep(now + DAY, 150).alert, CW_ALERT_ONGOING);
}
END_TEST

START_TEST(test_prune_after_90_days)
{
	struct cw_state st;
	char err[CW_ERRBUF];

	sweep(t0, 150);
	/* 90 days later to the second: kept */
	sweep(t0 + 90 * (int64_t)DAY, NAN);
	ck_assert_int_eq(cw_state_load(&st, path, err, sizeof(err)), 0);
	ck_assert_uint_eq(st.n, 1);
	cw_state_release(&st);
	/* one second more: dropped */
	sweep(t0 + 90 * (int64_t)DAY + 1, NAN);
	ck_assert_int_eq(cw_state_load(&st, path, err, sizeof(err)), 0);
	ck_assert_uint_eq(st.n, 0);
	cw_state_release(&st);
}
END_TEST

/* --all-periods: only each key's latest period counts. */
START_TEST(test_all_periods_latest_only)
{
	struct cw_state st;
	struct cw_run run;
	bool ann[6];
	int64_t d = cw_time_floor(t0, DAY);
	size_t s, z, r_old, r_new, r_z_old, r_z_new;

	cw_state_init(&st);
	ck_assert_int_eq(cw_run_init(&run, "run"), 0);
	run.all_periods = true;
	s = add_series(&run, "logs", d - 3 * DAY);
	z = add_series(&run, "site", d - 3 * DAY);
	/* logs: anomalous three days ago, ok on the last day */
	r_old = add_judged(&run, s, "threshold", CW_STATUS_ANOMALY, d - 3 * DAY, 300);
	r_new = add_judged(&run, s, "threshold", CW_STATUS_OK, d - DAY, 20);
	add_judged(&run, s, "threshold", CW_STATUS_OK, d - 2 * DAY, 20);
	/* site: results out of order; the last day is the anomaly */
	r_z_new = add_judged(&run, z, "zscore", CW_STATUS_ANOMALY, d - DAY, 500);
	r_z_old = add_judged(&run, z, "zscore", CW_STATUS_ANOMALY, d - 2 * DAY, 400);
	add_judged(&run, z, "zscore", CW_STATUS_OK, d - 3 * DAY, 10);

	ck_assert_int_eq(cw_state_apply(&st, &run, t0, COOLDOWN, GROWTH, ann), 0);
	ck_assert_int_eq(run.results[r_old].alert, CW_ALERT_NONE);
	ck_assert_int_eq(run.results[r_new].alert, CW_ALERT_NONE);
	ck_assert(!ann[r_old] && !ann[r_new]);
	ck_assert_int_eq(run.results[r_z_new].alert, CW_ALERT_NEW);
	ck_assert(ann[r_z_new]);
	ck_assert_int_eq(run.results[r_z_old].alert, CW_ALERT_NONE);
	ck_assert(!ann[r_z_old]);
	ck_assert_uint_eq(st.n, 1);
	ck_assert_double_eq(st.v[0].last_value, 500);
	cw_run_release(&run);
	cw_state_release(&st);
}
END_TEST

/* ---- the file ------------------------------------------------------------ */

START_TEST(test_missing_file_is_empty_quietly)
{
	struct cw_state st;
	char err[CW_ERRBUF], *log;

	capture_start();
	ck_assert_int_eq(cw_state_load(&st, path, err, sizeof(err)), 0);
	log = capture_end();
	ck_assert_uint_eq(st.n, 0);
	ck_assert_str_eq(log, "");
	free(log);
	cw_state_release(&st);
}
END_TEST

/* A broken file: a warning naming it, an empty state, and the next save
 * replaces it with a good one. */
static void expect_empty_with_warning(const char *text, const char *needle)
{
	struct cw_state st;
	struct cw_run run;
	char err[CW_ERRBUF], *log, *p;
	bool ann[2];

	p = cw_test_write(dir, "state.json", text);
	free(p);
	capture_start();
	ck_assert_int_eq(cw_state_load(&st, path, err, sizeof(err)), 0);
	log = capture_end();
	ck_assert_uint_eq(st.n, 0);
	ck_assert_msg(strstr(log, path) != NULL, "warning does not name the file: %s", log);
	ck_assert_msg(strstr(log, "empty state") != NULL, "%s", log);
	ck_assert_msg(strstr(log, needle) != NULL, "expected \"%s\" in: %s", needle, log);
	free(log);
	/* everything anomalous is new, and the file is rewritten sound */
	night(&run, t0, 150);
	ck_assert_int_eq(cw_state_apply(&st, &run, t0, COOLDOWN, GROWTH, ann), 0);
	ck_assert_int_eq(run.results[0].alert, CW_ALERT_NEW);
	ck_assert_int_eq(cw_state_save(&st, path, t0, err, sizeof(err)), 0);
	cw_run_release(&run);
	cw_state_release(&st);
	ck_assert_int_eq(cw_state_load(&st, path, err, sizeof(err)), 0);
	ck_assert_uint_eq(st.n, 1);
	cw_state_release(&st);
}

START_TEST(test_corrupt_file)
{
	expect_empty_with_warning("{\"schema\": \"cwsweep.state/1\", \"entries\": [",
				  "not valid JSON");
}
END_TEST

START_TEST(test_binary_garbage)
{
	expect_empty_with_warning("\x7f" "ELF\x01\x02 garbage", "not valid JSON");
}
END_TEST

START_TEST(test_foreign_json)
{
	/* valid JSON, someone else's: a cwsweep report */
	expect_empty_with_warning("{\"schema\": \"cwsweep.report/1\", \"results\": []}",
				  "not a cwsweep state file");
	expect_empty_with_warning("[1, 2, 3]", "not a cwsweep state file");
}
END_TEST

START_TEST(test_bad_entry)
{
	expect_empty_with_warning(
		"{\"schema\": \"cwsweep.state/1\", \"entries\": [{\"key\": {\"account_id\": "
		"\"1\", \"region\": \"r\", \"bucket\": \"b\", \"metric\": \"m\", "
		"\"detector\": \"d\"}, \"status\": \"sleeping\", \"first_seen\": "
		"\"2026-11-26T03:00:00Z\", \"last_seen\": \"2026-11-26T03:00:00Z\", "
		"\"last_announced\": \"2026-11-26T03:00:00Z\"}]}",
		"entries[0].status");
	expect_empty_with_warning(
		"{\"schema\": \"cwsweep.state/1\", \"entries\": [{\"key\": {\"account_id\": 7}}]}",
		"entries[0].key.account_id");
}
END_TEST

START_TEST(test_too_big_file)
{
	struct cw_state st;
	char err[CW_ERRBUF], *log;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	/* sparse: costs no disk */
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)CW_STATE_MAX_BYTES + 1), 0);
	close(fd);
	capture_start();
	ck_assert_int_eq(cw_state_load(&st, path, err, sizeof(err)), 0);
	log = capture_end();
	ck_assert_uint_eq(st.n, 0);
	ck_assert_msg(strstr(log, "larger than") != NULL, "%s", log);
	free(log);
	cw_state_release(&st);
}
END_TEST

START_TEST(test_mode_0600_whatever_was_there)
{
	struct cw_state st;
	struct stat sb;
	char err[CW_ERRBUF];
	mode_t old = umask(0);

	/* a state file someone made world-readable, and a permissive umask */
	free(cw_test_write(dir, "state.json", "{}"));
	ck_assert_int_eq(chmod(path, 0666), 0);
	cw_state_init(&st);
	ck_assert_int_eq(cw_state_save(&st, path, t0, err, sizeof(err)), 0);
	umask(old);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0600);
	cw_state_release(&st);
}
END_TEST

START_TEST(test_round_trip_and_odd_names)
{
	struct cw_state st, back;
	struct cw_run run;
	struct cw_target_id id = { "", "", "", "", "a \"quoted\"\\ name \xc3\xa9\n", "", "", "" };
	struct cw_series s;
	size_t idx;
	bool ann[1];
	char err[CW_ERRBUF], *text;
	struct cw_judgement j = { .status = CW_STATUS_ANOMALY, .period_start = t0,
				  .value = 7, .baseline = NAN, .limit = NAN, .score = NAN };

	/* analyze mode: empty account/region/bucket, no baseline at all */
	cw_state_init(&st);
	ck_assert_int_eq(cw_run_init(&run, "analyze"), 0);
	ck_assert_int_eq(cw_series_init(&s, t0, DAY, 1), 0);
	ck_assert_int_eq(cw_run_add_series(&run, &id, &s, &idx), 0);
	ck_assert_int_eq(cw_run_add_result(&run, idx, "mean7d", &j, NULL), 0);
	ck_assert_int_eq(cw_state_apply(&st, &run, t0, COOLDOWN, GROWTH, ann), 0);
	ck_assert(ann[0]);
	ck_assert_int_eq(cw_state_save(&st, path, t0, err, sizeof(err)), 0);
	text = cw_test_slurp(path);
	ck_assert_ptr_nonnull(strstr(text, "\"schema\": \"cwsweep.state/1\""));
	ck_assert_ptr_nonnull(strstr(text, "\"announced_excess\": null"));
	ck_assert_ptr_nonnull(strstr(text, "\"first_seen\": \"2026-11-26T03:00:00Z\""));
	free(text);
	ck_assert_int_eq(cw_state_load(&back, path, err, sizeof(err)), 0);
	ck_assert_uint_eq(back.n, 1);
	ck_assert_str_eq(back.v[0].key.metric, id.metric);
	ck_assert_str_eq(back.v[0].key.account_id, "");
	ck_assert(isnan(back.v[0].announced_excess));
	ck_assert_double_eq(back.v[0].announced_value, 7);
	ck_assert_ptr_nonnull(cw_state_find(&back, "", "", "", id.metric, "mean7d"));
	cw_state_release(&back);
	cw_state_release(&st);
	cw_run_release(&run);
}
END_TEST

/* --no-state: every night's anomalies are announced, no alert words, no file. */
/* The coverage of a complete run is remembered; a drop is flagged once. */
START_TEST(test_coverage_drop_once)
{
	struct cw_state st, back;
	struct cw_run run;
	struct cw_coverage c;
	char err[CW_ERRBUF];
	bool ann[1];

	cw_state_init(&st);
	memset(&c, 0, sizeof(c));
	c.account_id = (char *)ACCT;
	c.buckets = 40;
	c.watched = 12;
	c.bytes = 1000;
	c.watched_bytes = 830;
	c.complete = true;
	for (int night = 0; night < 4; night++) {
		ck_assert_int_eq(cw_run_init(&run, "run"), 0);
		if (night >= 1) /* from the second night on, one bucket fewer */
			c.watched = 11;
		if (night == 3) { /* regions unknown: no new baseline */
			c.watched = 5;
			c.complete = false;
		}
		ck_assert_int_eq(cw_run_add_coverage(&run, &c), 0);
		ck_assert_int_eq(cw_state_apply(&st, &run, t0 + night * DAY, COOLDOWN, GROWTH,
						ann), 0);
		ck_assert_msg(run.coverage_fell == (night == 1 || night == 3), "night %d", night);
		if (night == 1)
			ck_assert_uint_eq(run.coverage_was.watched, 12);
		cw_run_release(&run);
	}
	ck_assert(st.coverage.known);
	ck_assert_uint_eq(st.coverage.watched, 11);
	ck_assert_int_eq(cw_state_save(&st, path, t0, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_state_load(&back, path, err, sizeof(err)), 0);
	ck_assert(back.coverage.known);
	ck_assert_uint_eq(back.coverage.buckets, 40);
	ck_assert_uint_eq(back.coverage.watched, 11);
	ck_assert(back.coverage.watched_bytes == 830);
	cw_state_release(&back);
	cw_state_release(&st);
	/* a bad coverage member is a corrupt file */
	{
		const char *bad = "{\"schema\":\"cwsweep.state/1\",\"entries\":[],\"coverage\":"
				  "{\"buckets\":1,\"watched\":2,\"stored_bytes\":0,"
				  "\"watched_bytes\":0}}";

		ck_assert_int_eq(cw_state_parse(&back, "s", bad, strlen(bad), err, sizeof(err)),
				 CW_EPARSE);
	}
	ck_assert_msg(strstr(err, "coverage") != NULL, "%s", err);
}
END_TEST

START_TEST(test_no_state)
{
	struct cw_run run;
	bool ann[2];
	struct stat sb;

	for (int i = 0; i < 3; i++) {
		night(&run, t0 + i * DAY, i < 2 ? 150 : 50);
		run.results[0].alert = CW_ALERT_GREW; /* stale, must be reset */
		cw_state_announce_all(&run, ann);
		ck_assert_int_eq(run.results[0].alert, CW_ALERT_NONE);
		ck_assert(ann[0] == (i < 2));
		ck_assert(!ann[1]);
		cw_run_release(&run);
	}
	ck_assert_int_ne(stat(path, &sb), 0);
}
END_TEST

/*
 * Failures: announced when new, an ongoing one again only after the
 * cooldown, over when the account was judged without it, new again after.
 * Night by night through the saved file, as cron runs it.
 */
static bool failure_night(int64_t now, bool fails, bool judged)
{
	struct cw_target_id denied = { ACCT, "prod", "us-east-1", "", "", "", "", "" };
	struct cw_state st;
	struct cw_run run;
	bool ann[1] = { false };
	char err[CW_ERRBUF];

	ck_assert_int_eq(cw_state_load(&st, path, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_run_init(&run, "run"), 0);
	if (judged)
		add_judged(&run, add_series(&run, "quiet", cw_time_floor(now, DAY) - DAY),
			   "threshold", CW_STATUS_OK, cw_time_floor(now, DAY) - DAY, 3);
	if (fails)
		ck_assert_int_eq(cw_run_add_failure(&run, &denied, "get-metric-data",
						    "AccessDenied", "no"), 0);
	ck_assert_int_eq(cw_state_apply(&st, &run, now, COOLDOWN, GROWTH, NULL), 0);
	ck_assert_int_eq(cw_state_apply_failures(&st, &run, now, COOLDOWN, ann), 0);
	ck_assert_int_eq(cw_state_save(&st, path, now, err, sizeof(err)), 0);
	cw_state_release(&st);
	cw_run_release(&run);
	return fails && ann[0];
}

START_TEST(test_failures_once)
{
	const struct cw_state_entry *e;
	struct cw_state st;
	char err[CW_ERRBUF];

	ck_assert(failure_night(t0, true, false));            /* new */
	ck_assert(!failure_night(t0 + DAY, true, false));     /* ongoing, quiet */
	ck_assert(!failure_night(t0 + 6 * DAY, true, false)); /* still inside the cooldown */
	ck_assert(failure_night(t0 + 7 * DAY, true, false));  /* cooldown over: once more */
	ck_assert(!failure_night(t0 + 8 * DAY, true, false));
	/* not swept (another shard): the failure is not over */
	failure_night(t0 + 9 * DAY, false, false);
	ck_assert(!failure_night(t0 + 10 * DAY, true, false));
	/* the account was judged and did not fail: over; the next one is new */
	failure_night(t0 + 11 * DAY, false, true);
	ck_assert_int_eq(cw_state_load(&st, path, err, sizeof(err)), 0);
	e = cw_state_find(&st, ACCT, "us-east-1", "", "", "failure:get-metric-data:AccessDenied");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->status, CW_STATE_RESOLVED);
	cw_state_release(&st);
	ck_assert(failure_night(t0 + 12 * DAY, true, true));
}
END_TEST

/* Problem notices: once a UTC day per reason (counts do not make a new
 * reason), kept across save and load, dropped after 30 days. */
START_TEST(test_notices_once_a_day)
{
	struct cw_state st, back;
	char err[CW_ERRBUF], *tdir = cw_test_tmpdir(), *spath = cw_asprintf("%s/s.json", tdir);
	int64_t day;

	ck_assert_int_eq(cw_time_parse("2026-11-26T03:00:00Z", &day), 0);
	cw_state_init(&st);
	ck_assert(cw_state_notice_due(&st, "3 targets failed: Throttling (3)", day));
	ck_assert_int_eq(cw_state_notice_posted(&st, "3 targets failed: Throttling (3)", day), 0);
	ck_assert(!cw_state_notice_due(&st, "5 targets failed: Throttling (5)", day + 3600));
	ck_assert(cw_state_notice_due(&st, "accounts.yaml: role_arn: bad", day + 3600));
	ck_assert(cw_state_notice_due(&st, "3 targets failed: Throttling (3)", day + 86400));
	ck_assert_int_eq(cw_state_save(&st, spath, day, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_state_load(&back, spath, err, sizeof(err)), 0);
	ck_assert_uint_eq(back.nnotices, 1);
	ck_assert(!cw_state_notice_due(&back, "3 targets failed: Throttling (3)", day + 60));
	cw_state_release(&back);
	/* 31 days later the notice is gone from the file */
	ck_assert_int_eq(cw_state_save(&st, spath, day + 31 * 86400, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_state_load(&back, spath, err, sizeof(err)), 0);
	ck_assert_uint_eq(back.nnotices, 0);
	cw_state_release(&back);
	cw_state_release(&st);
	free(spath);
	cw_test_rmtree(tdir);
	free(tdir);
}
END_TEST

/* A FIFO at the state path: an empty state at once, never a hang. */
START_TEST(test_fifo_is_no_hang)
{
	struct cw_state st;
	char err[CW_ERRBUF], *tdir = cw_test_tmpdir(), *spath = cw_asprintf("%s/s.json", tdir);

	ck_assert_int_eq(mkfifo(spath, 0600), 0);
	ck_assert_int_eq(cw_state_load(&st, spath, err, sizeof(err)), 0);
	ck_assert_uint_eq(st.n, 0);
	cw_state_release(&st);
	free(spath);
	cw_test_rmtree(tdir);
	free(tdir);
}
END_TEST

/* An acknowledgement in the state file (cwsweep ack): the bucket's anomaly
 * is not announced and is marked acknowledged while it holds; without
 * `until` it ends with the episode; with one, at that time; it survives a
 * save and a load. */
static void ack(int64_t at, int64_t until)
{
	struct cw_state st;
	char err[CW_ERRBUF];

	ck_assert_int_eq(cw_state_load(&st, path, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_state_ack_add(&st, ACCT, "us-east-1", "logs", at, until, "known"),
			 0);
	ck_assert_msg(cw_state_save(&st, path, at, err, sizeof(err)) == 0, "%s", err);
	cw_state_release(&st);
}

static size_t nacks(void)
{
	struct cw_state st;
	char err[CW_ERRBUF];
	size_t n;

	ck_assert_int_eq(cw_state_load(&st, path, err, sizeof(err)), 0);
	n = st.nacks;
	cw_state_release(&st);
	return n;
}

START_TEST(test_ack)
{
	struct outcome o;

	o = sweep(t0, 500); /* night 1: new, announced */
	ck_assert_int_eq(o.alert, CW_ALERT_NEW);
	ack(t0 + DAY / 2, 0); /* acknowledged until the episode ends */
	ck_assert_uint_eq(nacks(), 1);
	o = sweep(t0 + DAY, 2000); /* grew 4x: would be announced */
	ck_assert_int_eq(o.alert, CW_ALERT_ACKED);
	ck_assert(!o.announced);
	o = sweep(t0 + 9 * DAY, 2000); /* past the cooldown: still quiet */
	ck_assert_int_eq(o.alert, CW_ALERT_ACKED);
	ck_assert(!o.announced);
	ck_assert_uint_eq(nacks(), 1);
	o = sweep(t0 + 10 * DAY, 50); /* resolved: announced, the ack ends */
	ck_assert_int_eq(o.alert, CW_ALERT_RESOLVED);
	ck_assert(o.announced);
	ck_assert_uint_eq(nacks(), 0);
	o = sweep(t0 + 11 * DAY, 500); /* a new episode is news again */
	ck_assert_int_eq(o.alert, CW_ALERT_NEW);
	ck_assert(o.announced);

	/* with until: quiet before it, announced (cooldown passed) after */
	ack(t0 + 11 * DAY + 1, t0 + 20 * DAY);
	o = sweep(t0 + 19 * DAY, 500);
	ck_assert_int_eq(o.alert, CW_ALERT_ACKED);
	ck_assert(!o.announced);
	o = sweep(t0 + 20 * DAY, 500);
	ck_assert_int_eq(o.alert, CW_ALERT_ONGOING);
	ck_assert(o.announced);
	ck_assert_uint_eq(nacks(), 0);
}
END_TEST

/* Acknowledge bucket b at `at` in the file, as `cwsweep ack` does. */
static void ack_bucket(const char *b, int64_t at, int64_t until, const char *reason)
{
	struct cw_state st;
	char err[CW_ERRBUF];

	ck_assert_int_eq(cw_state_load(&st, path, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_state_ack_add(&st, ACCT, "us-east-1", b, at, until, reason), 0);
	ck_assert_msg(cw_state_save(&st, path, at, err, sizeof(err)) == 0, "%s", err);
	cw_state_release(&st);
}

/* A run's read-modify-write of the state with acknowledgements written in
 * the middle of it (ack under another lock): the run's save keeps them,
 * the later one for a bucket wins, and one the run ended stays ended. */
START_TEST(test_ack_written_during_a_run)
{
	struct cw_state st, back;
	struct cw_run run;
	bool ann[4];
	char err[CW_ERRBUF];

	sweep(t0, 500);
	ack_bucket("logs", t0 + 60, t0 + DAY, "until night 2");
	ack_bucket("media", t0 + 120, 0, "old reason");
	/* night 2 starts: the run loads both */
	ck_assert_int_eq(cw_state_load(&st, path, err, sizeof(err)), 0);
	ck_assert_uint_eq(st.nacks, 2);
	/* meanwhile: media acknowledged again, thumbs for the first time */
	ack_bucket("media", t0 + DAY + 60, 0, "new reason");
	ack_bucket("thumbs", t0 + DAY + 90, 0, "launch");
	/* the run ends both it loaded (logs: its until; media: no anomaly
	 * left) and saves */
	night(&run, t0 + DAY, 2000);
	ck_assert_int_eq(cw_state_apply(&st, &run, t0 + DAY, COOLDOWN, GROWTH, ann), 0);
	ck_assert_uint_eq(st.nacks, 0);
	ck_assert_msg(cw_state_save(&st, path, t0 + DAY, err, sizeof(err)) == 0, "%s", err);
	cw_run_release(&run);
	cw_state_release(&st);

	ck_assert_int_eq(cw_state_load(&back, path, err, sizeof(err)), 0);
	ck_assert_uint_eq(back.nacks, 2);
	ck_assert_str_eq(back.acks[0].bucket, "media");
	ck_assert_str_eq(back.acks[0].reason, "new reason");
	ck_assert_int_eq(back.acks[0].at, t0 + DAY + 60);
	ck_assert_str_eq(back.acks[1].bucket, "thumbs");
	ck_assert_str_eq(back.acks[1].reason, "launch");
	/* the run's own entries are what it saved */
	ck_assert_ptr_nonnull(cw_state_find(&back, ACCT, "us-east-1", "logs", METRIC,
					    "threshold"));
	/* a bucket acknowledged again during a run that keeps the old one:
	 * the later wins */
	ack_bucket("media", t0 + DAY + 600, 0, "newest");
	ck_assert_msg(cw_state_save(&back, path, t0 + DAY, err, sizeof(err)) == 0, "%s", err);
	cw_state_release(&back);
	ck_assert_int_eq(cw_state_load(&back, path, err, sizeof(err)), 0);
	ck_assert_uint_eq(back.nacks, 2);
	ck_assert_str_eq(back.acks[0].reason, "newest");
	cw_state_release(&back);
}
END_TEST

START_TEST(test_ack_file)
{
	struct cw_state st;
	char err[CW_ERRBUF];
	const char *text =
		"{\"schema\": \"cwsweep.state/1\", \"entries\": [], \"acks\": ["
		"{\"account_id\": \"111122223333\", \"region\": \"us-east-1\", "
		"\"bucket\": \"logs\", \"reason\": \"launch\", "
		"\"at\": \"2026-11-26T03:00:00Z\", \"until\": null}]}";

	ck_assert_int_eq(cw_state_parse(&st, "s.json", text, strlen(text), err, sizeof(err)), 0);
	ck_assert_uint_eq(st.nacks, 1);
	ck_assert_str_eq(st.acks[0].reason, "launch");
	ck_assert_int_eq(st.acks[0].until, 0);
	cw_state_release(&st);
	text = "{\"schema\": \"cwsweep.state/1\", \"entries\": [], \"acks\": [{}]}";
	ck_assert_int_eq(cw_state_parse(&st, "s.json", text, strlen(text), err, sizeof(err)),
			 CW_EPARSE);
	ck_assert_str_eq(err, "s.json: acks[0].account_id: missing");
}
END_TEST

/* The text for a state kept in S3 is the file's text, less the merge with
 * what another writer put in the file since the load (S3's conditional
 * write guards that instead). */
START_TEST(test_state_text)
{
	struct cw_state st;
	char err[CW_ERRBUF], *text = NULL, *file = NULL;
	size_t len;

	sweep(t0, 500);
	ack_bucket("logs", t0 + 60, t0 + DAY, "until night 2");
	ck_assert_int_eq(cw_state_load(&st, path, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_state_text(&st, t0 + 60, &text), 0);
	ck_assert_int_eq(cw_read_file(path, 1 << 20, &file, &len, err, sizeof(err)), 0);
	ck_assert_str_eq(text, file);
	free(text);
	/* another writer's ack: the file keeps it on save, the text does not */
	ack_bucket("thumbs", t0 + 90, 0, "launch");
	ck_assert_int_eq(cw_state_text(&st, t0 + 60, &text), 0);
	ck_assert_ptr_null(strstr(text, "thumbs"));
	ck_assert_str_eq(text, file);
	free(text);
	free(file);
	cw_state_release(&st);
}
END_TEST

static Suite *state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("state");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_nights);
	tcase_add_test(tc, test_ack);
	tcase_add_test(tc, test_ack_file);
	tcase_add_test(tc, test_state_text);
	tcase_add_test(tc, test_ack_written_during_a_run);
	tcase_add_test(tc, test_three_nights_in_memory);
	tcase_add_test(tc, test_cooldown_zero_and_no_growth);
	tcase_add_test(tc, test_unjudged_keys_keep_their_state);
	tcase_add_test(tc, test_prune_after_90_days);
	tcase_add_test(tc, test_all_periods_latest_only);
	tcase_add_test(tc, test_missing_file_is_empty_quietly);
	tcase_add_test(tc, test_corrupt_file);
	tcase_add_test(tc, test_binary_garbage);
	tcase_add_test(tc, test_foreign_json);
	tcase_add_test(tc, test_bad_entry);
	tcase_add_test(tc, test_too_big_file);
	tcase_add_test(tc, test_mode_0600_whatever_was_there);
	tcase_add_test(tc, test_round_trip_and_odd_names);
	tcase_add_test(tc, test_no_state);
	tcase_add_test(tc, test_failures_once);
	tcase_add_test(tc, test_coverage_drop_once);
	tcase_add_test(tc, test_notices_once_a_day);
	tcase_add_test(tc, test_fifo_is_no_hang);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(state_suite());
}
