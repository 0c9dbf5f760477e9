/*
 * check_notify.c - posting the digest to the fake endpoint's Slack
 * webhook receiver: the payload that arrives, 429 with Retry-After then
 * success, a Retry-After past the wait budget, 500 retried and 500 for
 * good, Slack's plain-text errors (invalid_payload, channel_is_archived),
 * a refused connection, a refused URL; and that the webhook path (the
 * secret) never appears in an error message or the log.  Sleeps are
 * recorded, never slept.  Each test starts its own fake with its own
 * scenario (the Slack script is per fake) and stops it in the teardown.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "http.h"
#include "log.h"
#include "notify.h"
#include "run.h"
#include "slack.h"
#include "strutil.h"
#include "testlib.h"

#define SECRET "T0000FAKE/B0000FAKE/s3cr3tW3bh00kPath"

static struct cw_fake fake;
static bool fake_up;
static char *tmp;

static void setup(void)
{
	char err[CW_ERRBUF];

	ck_assert_int_eq(cw_http_global_init(err, sizeof(err)), 0);
	tmp = cw_test_tmpdir();
	ck_assert_ptr_nonnull(tmp);
	fake_up = false;
}

static void teardown(void)
{
	if (fake_up)
		cw_fake_stop(&fake);
	fake_up = false;
	cw_test_rmtree(tmp);
	free(tmp);
}

/* Start the fake with {"slack": slack_json}; the webhook URL in url. */
static void start(const char *slack_json, char *url, size_t urllen)
{
	char *text = cw_asprintf("{\"slack\": %s}", slack_json);
	char *path = cw_test_write(tmp, "scenario.json", text);

	ck_assert_int_eq(cw_fake_start(&fake, path), 0);
	fake_up = true;
	snprintf(url, urllen, "%s/slack/" SECRET, fake.url);
	free(path);
	free(text);
}

/* GET /_slack: {"received": [{path, payload}], "attempts": n} */
static json_t *received(void)
{
	struct cw_http *h = NULL;
	struct cw_http_request req = { .method = "GET" };
	struct cw_http_response resp;
	char url[128], err[CW_ERRBUF];
	json_t *j;

	snprintf(url, sizeof(url), "%s/_slack", fake.url);
	req.url = url;
	cw_http_response_init(&resp);
	ck_assert_int_eq(cw_http_new(&h, NULL, err, sizeof(err)), 0);
	ck_assert_msg(cw_http_do(h, &req, &resp, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(resp.status, 200);
	j = json_loads(cw_buf_str(&resp.body), 0, NULL);
	ck_assert_ptr_nonnull(j);
	cw_http_response_release(&resp);
	cw_http_free(h);
	return j;
}

static long attempts(json_t *j)
{
	return (long)json_integer_value(json_object_get(j, "attempts"));
}

static size_t nreceived(json_t *j)
{
	return json_array_size(json_object_get(j, "received"));
}

/* Waits the code asked for, instead of sleeping. */
struct sleeps {
	int64_t ms[8];
	int n;
};

static void record_sleep(void *env, int64_t ms)
{
	struct sleeps *s = env;

	if (s->n < 8)
		s->ms[s->n] = ms;
	s->n++;
}

static const char *const PAYLOAD = "{\"text\": \"cwsweep: 1 anomaly\", \"blocks\": "
				   "[{\"type\": \"divider\"}]}";

static int post(const char *url, const char *payload, struct sleeps *s, char *err,
		size_t errlen)
{
	struct cw_slack_post_opts o = { .sleep_ms = record_sleep, .env = s };

	return cw_slack_post(url, payload, strlen(payload), &o, err, errlen);
}

START_TEST(test_digest_arrives)
{
	struct cw_run run;
	struct cw_target_id id = { .account_id = (char *)"111111111111",
				   .account_name = (char *)"prod", .region = (char *)"us-east-1",
				   .bucket = (char *)"<!channel>",
				   .metric = (char *)"AWS/S3 BytesDownloaded Sum",
				   .unit = (char *)"Bytes" };
	struct cw_judgement j = { .status = CW_STATUS_ANOMALY, .value = 9e11, .baseline = 1e11,
				  .limit = 2e11, .score = 3 };
	struct cw_series s;
	struct cw_buf payload;
	struct sleeps sl = { { 0 }, 0 };
	char url[256], err[CW_ERRBUF] = "", logpath[512], *log;
	json_t *got, *sent, *rec;
	size_t idx;
	int saved;
	FILE *lf;

	start("{}", url, sizeof(url));
	ck_assert_int_eq(cw_run_init(&run, "run"), 0);
	ck_assert_int_eq(cw_series_init(&s, 19675 * 86400LL, 86400, 10), 0);
	for (size_t i = 0; i < 10; i++)
		s.values[i] = i == 9 ? 9e11 : 1e11;
	ck_assert_int_eq(cw_run_add_series(&run, &id, &s, &idx), 0);
	j.period_start = 19675 * 86400LL + 9 * 86400;
	ck_assert_int_eq(cw_run_add_result(&run, idx, "mean7d", &j, NULL), 0);
	cw_buf_init(&payload, 0);
	ck_assert_int_eq(cw_slack_digest(&run, NULL, NULL, &payload, err, sizeof(err)), 0);

	/* the log (verbose) names the host, never the path */
	snprintf(logpath, sizeof(logpath), "%s/stderr.txt", tmp);
	lf = fopen(logpath, "w");
	ck_assert_ptr_nonnull(lf);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fileno(lf), STDERR_FILENO);
	cw_log_set_level(CW_LOG_VERBOSE);
	ck_assert_msg(post(url, cw_buf_str(&payload), &sl, err, sizeof(err)) == 0, "%s", err);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	fclose(lf);
	log = cw_test_slurp(logpath);
	ck_assert_ptr_nonnull(strstr(log, "slack: posting the digest to 127.0.0.1"));
	ck_assert_ptr_null(strstr(log, "s3cr3t"));
	free(log);

	ck_assert_int_eq(sl.n, 0);
	got = received();
	ck_assert_int_eq(attempts(got), 1);
	ck_assert_uint_eq(nreceived(got), 1);
	rec = json_array_get(json_object_get(got, "received"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(rec, "path")), "/slack/" SECRET);
	sent = json_loads(cw_buf_str(&payload), 0, NULL);
	ck_assert(json_equal(json_object_get(rec, "payload"), sent));
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_object_get(
		json_array_get(json_object_get(sent, "blocks"), 3), "text"), "text")),
		"`&lt;!channel&gt;`"));
	json_decref(sent);
	json_decref(got);
	cw_buf_release(&payload);
	cw_run_release(&run);
}
END_TEST

START_TEST(test_429_then_ok)
{
	struct sleeps sl = { { 0 }, 0 };
	char url[256], err[CW_ERRBUF] = "";
	json_t *got;

	start("{\"responses\": [{\"status\": 429, \"retry_after\": 2}]}", url, sizeof(url));
	ck_assert_msg(post(url, PAYLOAD, &sl, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(sl.n, 1);
	ck_assert_int_eq(sl.ms[0], 2000); /* Retry-After honoured */
	got = received();
	ck_assert_int_eq(attempts(got), 2);
	ck_assert_uint_eq(nreceived(got), 1);
	json_decref(got);
}
END_TEST

START_TEST(test_429_past_budget)
{
	struct sleeps sl = { { 0 }, 0 };
	char url[256], err[CW_ERRBUF] = "";
	json_t *got;

	start("{\"responses\": [{\"status\": 429, \"retry_after\": 120}]}", url, sizeof(url));
	ck_assert_int_eq(post(url, PAYLOAD, &sl, err, sizeof(err)), CW_EHTTP);
	ck_assert_int_eq(sl.n, 0); /* 120 s is past the 30 s budget: no wait */
	ck_assert_str_eq(err, "slack webhook (127.0.0.1): HTTP 429: rate limited "
			 "(Retry-After 120 s, waited 0 ms in 1 try)");
	got = received();
	ck_assert_int_eq(attempts(got), 1);
	ck_assert_uint_eq(nreceived(got), 0);
	json_decref(got);
}
END_TEST

START_TEST(test_500_then_ok)
{
	struct sleeps sl = { { 0 }, 0 };
	char url[256], err[CW_ERRBUF] = "";
	json_t *got;

	start("{\"responses\": [{\"status\": 500}, {\"status\": 503, \"body\": \"x\"}]}", url,
	      sizeof(url));
	ck_assert_msg(post(url, PAYLOAD, &sl, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(sl.n, 2);
	ck_assert_int_eq(sl.ms[0], 1000);
	ck_assert_int_eq(sl.ms[1], 2000);
	got = received();
	ck_assert_int_eq(attempts(got), 3);
	ck_assert_uint_eq(nreceived(got), 1);
	json_decref(got);
}
END_TEST

START_TEST(test_500_for_good)
{
	struct sleeps sl = { { 0 }, 0 };
	char url[256], err[CW_ERRBUF] = "";
	json_t *got;

	start("{\"responses\": [{\"status\": 500}, {\"status\": 500}, {\"status\": 500}, "
	      "{\"status\": 500}]}", url, sizeof(url));
	ck_assert_int_eq(post(url, PAYLOAD, &sl, err, sizeof(err)), CW_EHTTP);
	ck_assert_str_eq(err, "slack webhook (127.0.0.1): HTTP 500: internal_error "
			 "(after retries)");
	ck_assert_int_eq(sl.n, 2);
	got = received();
	ck_assert_int_eq(attempts(got), 3);
	ck_assert_uint_eq(nreceived(got), 0);
	json_decref(got);
}
END_TEST

START_TEST(test_invalid_payload)
{
	struct sleeps sl = { { 0 }, 0 };
	char url[256], err[CW_ERRBUF] = "";
	json_t *got;

	start("{}", url, sizeof(url));
	/* the receiver validates like Slack: not JSON */
	ck_assert_int_eq(post(url, "{\"text\": ", &sl, err, sizeof(err)), CW_EHTTP);
	ck_assert_str_eq(err, "slack webhook (127.0.0.1): HTTP 400: invalid_payload");
	/* 51 blocks */
	{
		struct cw_buf b;

		cw_buf_init(&b, 0);
		ck_assert_int_eq(cw_buf_addstr(&b, "{\"text\": \"t\", \"blocks\": ["), 0);
		for (int i = 0; i < 51; i++)
			ck_assert_int_eq(cw_buf_addstr(&b, i ? ",{\"type\":\"divider\"}"
							    : "{\"type\":\"divider\"}"), 0);
		ck_assert_int_eq(cw_buf_addstr(&b, "]}"), 0);
		ck_assert_int_eq(post(url, cw_buf_str(&b), &sl, err, sizeof(err)), CW_EHTTP);
		ck_assert_str_eq(err, "slack webhook (127.0.0.1): HTTP 400: invalid_blocks");
		cw_buf_release(&b);
	}
	ck_assert_int_eq(sl.n, 0); /* never retried */
	got = received();
	ck_assert_int_eq(attempts(got), 2);
	json_decref(got);
}
END_TEST

START_TEST(test_channel_is_archived)
{
	struct sleeps sl = { { 0 }, 0 };
	char url[256], err[CW_ERRBUF] = "";

	start("{\"responses\": [{\"status\": 410, \"body\": \"channel_is_archived\"}]}", url,
	      sizeof(url));
	ck_assert_int_eq(post(url, PAYLOAD, &sl, err, sizeof(err)), CW_EHTTP);
	ck_assert_str_eq(err, "slack webhook (127.0.0.1): HTTP 410: channel_is_archived");
	ck_assert_ptr_null(strstr(err, "s3cr3t"));
	ck_assert_int_eq(sl.n, 0);
}
END_TEST

START_TEST(test_body_sanitised)
{
	struct sleeps sl = { { 0 }, 0 };
	char url[256], err[CW_ERRBUF] = "";
	char script[600];
	char longbody[301];

	memset(longbody, 'a', 300);
	longbody[300] = '\0';
	snprintf(script, sizeof(script), "{\"responses\": [{\"status\": 404, \"body\": "
		 "\"no\\u001b[31mred\"}, {\"status\": 403, \"body\": \"%s\"}]}", longbody);
	start(script, url, sizeof(url));
	ck_assert_int_eq(post(url, PAYLOAD, &sl, err, sizeof(err)), CW_EHTTP);
	ck_assert_str_eq(err, "slack webhook (127.0.0.1): HTTP 404: no?[31mred");
	ck_assert_int_eq(post(url, PAYLOAD, &sl, err, sizeof(err)), CW_EHTTP);
	/* cut to 100 characters */
	ck_assert_uint_eq(strlen(err), strlen("slack webhook (127.0.0.1): HTTP 403: ") + 103);
	ck_assert(cw_str_endswith(err, "aaa..."));
}
END_TEST

START_TEST(test_connect_refused)
{
	struct sleeps sl = { { 0 }, 0 };
	char url[256], err[CW_ERRBUF] = "";
	int port;

	/* a port that was just in use and is closed now */
	start("{}", url, sizeof(url));
	port = fake.port;
	cw_fake_stop(&fake);
	fake_up = false;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/slack/" SECRET, port);
	ck_assert_int_eq(post(url, PAYLOAD, &sl, err, sizeof(err)), CW_EHTTP);
	ck_assert_int_eq(sl.n, 2); /* nothing was sent: tried 3 times */
	ck_assert_ptr_nonnull(strstr(err, "slack webhook (127.0.0.1): "));
	ck_assert_ptr_null(strstr(err, "s3cr3t"));
	ck_assert_ptr_null(strstr(err, "/slack"));
}
END_TEST

START_TEST(test_url_refused)
{
	char err[CW_ERRBUF] = "";

	/* plain http to a host that is not loopback: nothing is sent */
	ck_assert_int_eq(cw_slack_post("http://hooks.slack.com/services/" SECRET, PAYLOAD,
				       strlen(PAYLOAD), NULL, err, sizeof(err)), CW_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "slack webhook: not a usable URL"));
	ck_assert_ptr_null(strstr(err, "s3cr3t"));
	ck_assert_int_eq(cw_slack_post("hooks.slack.com/services/" SECRET, PAYLOAD,
				       strlen(PAYLOAD), NULL, err, sizeof(err)), CW_EINVAL);
	ck_assert_ptr_null(strstr(err, "s3cr3t"));
}
END_TEST

START_TEST(test_webhook_from_env)
{
	char out[128], err[CW_ERRBUF] = "";
	char host[64];

	setenv("CW_TEST_HOOK", "https://hooks.slack.com/services/" SECRET, 1);
	ck_assert_int_eq(cw_slack_webhook_from_env("CW_TEST_HOOK", out, sizeof(out), err,
						   sizeof(err)), 0);
	ck_assert_str_eq(out, "https://hooks.slack.com/services/" SECRET);
	ck_assert_str_eq(cw_slack_webhook_host(out, host, sizeof(host)), "hooks.slack.com");
	/* too small a buffer */
	ck_assert_int_eq(cw_slack_webhook_from_env("CW_TEST_HOOK", out, 20, err, sizeof(err)),
			 CW_ETOOBIG);
	ck_assert_str_eq(out, "");
	ck_assert_ptr_null(strstr(err, "s3cr3t"));
	/* not a URL: the message names the variable, not the value */
	setenv("CW_TEST_HOOK", "s3cr3t-not-a-url", 1);
	ck_assert_int_eq(cw_slack_webhook_from_env("CW_TEST_HOOK", out, sizeof(out), err,
						   sizeof(err)), CW_EINVAL);
	ck_assert(cw_str_startswith(err, "CW_TEST_HOOK: not a usable webhook URL"));
	ck_assert_ptr_null(strstr(err, "s3cr3t"));
	setenv("CW_TEST_HOOK", "http://hooks.slack.com/services/" SECRET, 1);
	ck_assert_int_eq(cw_slack_webhook_from_env("CW_TEST_HOOK", out, sizeof(out), err,
						   sizeof(err)), CW_EINVAL);
	ck_assert_ptr_null(strstr(err, "s3cr3t"));
	setenv("CW_TEST_HOOK", "", 1);
	ck_assert_int_eq(cw_slack_webhook_from_env("CW_TEST_HOOK", out, sizeof(out), err,
						   sizeof(err)), CW_ENOTFOUND);
	ck_assert_str_eq(err, "CW_TEST_HOOK: not set");
	unsetenv("CW_TEST_HOOK");
	ck_assert_int_eq(cw_slack_webhook_from_env("CW_TEST_HOOK", out, sizeof(out), err,
						   sizeof(err)), CW_ENOTFOUND);
	ck_assert_str_eq(cw_slack_webhook_host("nonsense", host, sizeof(host)), "(invalid URL)");
}
END_TEST

/* The notice: redacted, escaped for Slack, valid JSON with text and blocks. */
START_TEST(test_notice_payload)
{
	struct cw_buf b = CW_BUF_INIT;
	json_error_t je;
	json_t *doc;
	const char *text;

	ck_assert_int_eq(cw_notice_payload(&b, 2, "a <b> & X-Amz-Security-Token: SECRETTOKEN1",
					   "20261126T031500Z-4f2a", "batch-1"), 0);
	doc = json_loads(cw_buf_str(&b), 0, &je);
	ck_assert_ptr_nonnull(doc);
	text = json_string_value(json_object_get(doc, "text"));
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(strstr(text, "*cwsweep could not run* on batch-1: a &lt;b&gt; &amp; "));
	ck_assert_ptr_null(strstr(text, "SECRETTOKEN1"));
	ck_assert_ptr_nonnull(strstr(text, "exit code 2, run 20261126T031500Z-4f2a"));
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "blocks")), 1);
	json_decref(doc);
	cw_buf_release(&b);
}
END_TEST

static Suite *notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *fk = tcase_create("fake");
	TCase *tc = tcase_create("local");

	tcase_add_checked_fixture(fk, setup, teardown);
	tcase_set_timeout(fk, 60);
	tcase_add_test(fk, test_digest_arrives);
	tcase_add_test(fk, test_429_then_ok);
	tcase_add_test(fk, test_429_past_budget);
	tcase_add_test(fk, test_500_then_ok);
	tcase_add_test(fk, test_500_for_good);
	tcase_add_test(fk, test_invalid_payload);
	tcase_add_test(fk, test_channel_is_archived);
	tcase_add_test(fk, test_body_sanitised);
	tcase_add_test(fk, test_connect_refused);
	suite_add_tcase(s, fk);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_url_refused);
	tcase_add_test(tc, test_webhook_from_env);
	tcase_add_test(tc, test_notice_payload);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(notify_suite());
}
