/*
 * check_creds.c - the credentials chain (each source with temp files and
 * environment variables), credential_process, the provider's single refresh
 * under contention, the per-account cache (role chains, negative caching,
 * one slow account not blocking another), and, against the fake endpoint
 * (tests/fake_aws/scenarios/creds.json), AssumeRole, web identity,
 * container credentials and IMDSv2.
 *
 * Every test runs in its own process (Check's fork mode) with a scrubbed
 * environment and HOME pointing at a fresh temp folder.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aws.h"
#include "atomicio.h"
#include "credcache.h"
#include "creds.h"
#include "creds_sso.h"
#include "err.h"
#include "http.h"
#include "strutil.h"
#include "sts.h"
#include "testlib.h"
#include "timeutil.h"

static char *tmp;

static const char *const scrub[] = {
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
	"AWS_DEFAULT_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_REGION", "AWS_DEFAULT_REGION",
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_CA_BUNDLE", "AWS_ENDPOINT_URL_SSO",
	NULL,
};

static void setup(void)
{
	for (size_t i = 0; scrub[i]; i++)
		unsetenv(scrub[i]);
	tmp = cw_test_tmpdir();
	ck_assert_ptr_nonnull(tmp);
	setenv("HOME", tmp, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static void teardown(void)
{
	cw_test_rmtree(tmp);
	free(tmp);
	tmp = NULL;
}

/* Write ~/.aws/NAME with mode 0600; returns the malloc'd path. */
static char *write_aws_path(const char *name, const char *text)
{
	char *dir = cw_asprintf("%s/.aws", tmp), *p;

	mkdir(dir, 0700);
	p = cw_test_write(dir, name, text);
	ck_assert_ptr_nonnull(p);
	free(dir);
	return p;
}

static void write_aws(const char *name, const char *text)
{
	free(write_aws_path(name, text));
}

static void assert_has(const char *s, const char *want)
{
	ck_assert_msg(strstr(s, want) != NULL, "\"%s\" lacks \"%s\"", s, want);
}

static void assert_lacks(const char *s, const char *secret)
{
	ck_assert_msg(strstr(s, secret) == NULL, "\"%s\" shows a secret", s);
}

/* ---- environment and the final message ----------------------------------- */

START_TEST(env_static)
{
	struct cw_creds c;
	char err[CW_ERRBUF] = "";

	setenv("AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE000001", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env/secret", 1);
	ck_assert_int_eq(cw_creds_from_env(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.access_key, "AKIAENVEXAMPLE000001");
	ck_assert_str_eq(c.secret_key, "env/secret");
	ck_assert_ptr_null(c.session_token);
	ck_assert_int_eq(c.expiration, 0);
	ck_assert_str_eq(c.source, "environment");
	cw_creds_release(&c);

	setenv("AWS_SESSION_TOKEN", "env-token", 1);
	ck_assert_int_eq(cw_creds_from_env(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.session_token, "env-token");
	cw_creds_release(&c);
}
END_TEST

START_TEST(env_partial_and_missing)
{
	struct cw_creds c;
	char err[CW_ERRBUF] = "";

	ck_assert_int_eq(cw_creds_from_env(&c, err, sizeof(err)), CW_ENOTFOUND);
	ck_assert_str_eq(err, "AWS_ACCESS_KEY_ID unset");
	setenv("AWS_SECRET_ACCESS_KEY", "lonely-secret-value", 1);
	ck_assert_int_eq(cw_creds_from_env(&c, err, sizeof(err)), CW_EAUTH);
	ck_assert_str_eq(err, "environment: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID "
			 "is not");
	setenv("AWS_ACCESS_KEY_ID", "AKIA WITH SPACE", 1);
	ck_assert_int_eq(cw_creds_from_env(&c, err, sizeof(err)), CW_EINVAL);
	assert_lacks(err, "lonely-secret-value");
}
END_TEST

START_TEST(no_credentials_message)
{
	struct cw_creds_opts o;
	struct cw_creds c;
	char err[CW_ERRBUF] = "";

	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(cw_creds_resolve(&o, CW_CREDS_SRC_NONE, &c, NULL, err, sizeof(err)),
			 CW_EAUTH);
	ck_assert_str_eq(err, "no AWS credentials found: tried environment (AWS_ACCESS_KEY_ID "
			 "unset), profile \"default\" (~/.aws/credentials: no such file), web "
			 "identity (AWS_WEB_IDENTITY_TOKEN_FILE unset), container (unset), EC2 "
			 "instance metadata (disabled)");
}
END_TEST

START_TEST(env_wins_over_profile)
{
	struct cw_creds_opts o;
	struct cw_creds c;
	enum cw_creds_source src;
	char err[CW_ERRBUF] = "";

	write_aws("credentials", "[default]\naws_access_key_id = AKIAPROFILE\n"
		  "aws_secret_access_key = profile-secret\n");
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(cw_creds_resolve(&o, CW_CREDS_SRC_NONE, &c, &src, err, sizeof(err)), 0);
	ck_assert_int_eq(src, CW_CREDS_SRC_ENV);
	ck_assert_str_eq(c.access_key, "AKIAENV");
	cw_creds_release(&c);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	ck_assert_int_eq(cw_creds_resolve(&o, CW_CREDS_SRC_NONE, &c, &src, err, sizeof(err)), 0);
	ck_assert_int_eq(src, CW_CREDS_SRC_PROFILE);
	ck_assert_str_eq(c.access_key, "AKIAPROFILE");
	ck_assert_str_eq(c.source, "profile:default");
	cw_creds_release(&c);
}
END_TEST

/* ---- profiles -------------------------------------------------------------- */

START_TEST(profile_static)
{
	struct cw_creds_opts o;
	struct cw_creds c;
	char err[CW_ERRBUF] = "";

	write_aws("credentials", "[default]\naws_access_key_id = AKIADEFAULT\n"
		  "aws_secret_access_key = default-secret\n\n[dev]\n"
		  "aws_access_key_id = AKIADEV\naws_secret_access_key = dev-secret\n"
		  "aws_session_token = dev-token\n");
	write_aws("config", "[default]\nregion = eu-west-1\n\n[profile cfgonly]\n"
		  "aws_access_key_id = AKIACFGONLY\naws_secret_access_key = cfg-secret\n");
	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(cw_creds_from_profile(&o, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.access_key, "AKIADEFAULT");
	ck_assert_ptr_null(c.session_token);
	cw_creds_release(&c);

	setenv("AWS_PROFILE", "dev", 1);
	ck_assert_int_eq(cw_creds_from_profile(&o, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.access_key, "AKIADEV");
	ck_assert_str_eq(c.secret_key, "dev-secret");
	ck_assert_str_eq(c.session_token, "dev-token");
	ck_assert_str_eq(c.source, "profile:dev");
	cw_creds_release(&c);

	o.profile = "cfgonly"; /* --profile wins over AWS_PROFILE */
	ck_assert_int_eq(cw_creds_from_profile(&o, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.access_key, "AKIACFGONLY");
	cw_creds_release(&c);

	o.profile = "nope";
	ck_assert_int_eq(cw_creds_from_profile(&o, &c, err, sizeof(err)), CW_EAUTH);
	ck_assert_str_eq(err, "profile \"nope\" not found in ~/.aws/credentials or ~/.aws/config");
}
END_TEST

START_TEST(profile_files_from_env)
{
	struct cw_creds_opts o;
	struct cw_creds c;
	char *cred = cw_test_write(tmp, "my-creds", "[other]\naws_access_key_id = AKIAOTHER\n"
				   "aws_secret_access_key = other-secret\n");
	char err[CW_ERRBUF] = "";

	setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
	memset(&o, 0, sizeof(o));
	/* "default" absent and not asked for: skipped, the reason says where we looked. */
	ck_assert_int_eq(cw_creds_from_profile(&o, &c, err, sizeof(err)), CW_ENOTFOUND);
	ck_assert_str_eq(err, "not in ~/my-creds or /nonexistent/config");
	o.profile = "other";
	ck_assert_int_eq(cw_creds_from_profile(&o, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.access_key, "AKIAOTHER");
	cw_creds_release(&c);
	free(cred);
}
END_TEST

START_TEST(profile_mode_refused)
{
	struct cw_creds_opts o;
	struct cw_creds c;
	char *p = write_aws_path("credentials", "[default]\naws_access_key_id = AKIAOPEN\n"
			    "aws_secret_access_key = open-secret\n");
	char err[CW_ERRBUF] = "";

	chmod(p, 0644);
	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(cw_creds_from_profile(&o, &c, err, sizeof(err)), CW_EAUTH);
	ck_assert_str_eq(err, "~/.aws/credentials: readable by group or others (mode 644); "
			 "run chmod 600 on it");
	assert_lacks(err, "open-secret");
	free(p);
}
END_TEST

START_TEST(profile_errors_stop_chain)
{
	struct cw_creds_opts o;
	struct cw_creds c;
	char err[CW_ERRBUF] = "";

	write_aws("config", "[profile lost]\nrole_arn = arn:aws:iam::111111111111:role/x\n\n"
		  "[profile half]\naws_access_key_id = AKIAHALF\n\n"
		  "[profile loop]\nrole_arn = arn:aws:iam::111111111111:role/x\n"
		  "source_profile = loop2\n\n[profile loop2]\n"
		  "role_arn = arn:aws:iam::111111111111:role/y\nsource_profile = loop\n");
	/* Would succeed if the chain went on past the broken profile. */
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/x", 1);
	memset(&o, 0, sizeof(o));
	o.profile = "lost";
	ck_assert_int_eq(cw_creds_resolve(&o, CW_CREDS_SRC_NONE, &c, NULL, err, sizeof(err)),
			 CW_EINVAL);
	ck_assert_str_eq(err, "profile \"lost\": role_arn needs source_profile, "
			 "credential_source or web_identity_token_file");
	o.profile = "half";
	ck_assert_int_eq(cw_creds_resolve(&o, CW_CREDS_SRC_NONE, &c, NULL, err, sizeof(err)),
			 CW_EAUTH);
	ck_assert_str_eq(err, "profile \"half\": aws_access_key_id without aws_secret_access_key");
	o.profile = "loop";
	ck_assert_int_eq(cw_creds_resolve(&o, CW_CREDS_SRC_NONE, &c, NULL, err, sizeof(err)),
			 CW_EINVAL);
	assert_has(err, "source_profile chain longer than 5");
}
END_TEST

/* ---- credential_process ---------------------------------------------------- */

START_TEST(process_ok)
{
	struct cw_creds_opts o;
	struct cw_creds c;
	char *script = cw_test_write(tmp, "cp.sh",
		"#!/bin/sh\n"
		"cat <<EOF\n"
		"{\"Version\": 1, \"AccessKeyId\": \"ASIAPROCESS\", \"SecretAccessKey\": "
		"\"process-secret\",\n \"SessionToken\": \"process-token\", \"Expiration\": "
		"\"2026-11-26T04:15:00Z\"}\n"
		"EOF\n");
	char *conf = cw_asprintf("[profile proc]\ncredential_process = /bin/sh %s --arg 'x y'\n",
				 script);
	char err[CW_ERRBUF] = "";

	write_aws("config", conf);
	memset(&o, 0, sizeof(o));
	o.profile = "proc";
	ck_assert_int_eq(cw_creds_from_profile(&o, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.access_key, "ASIAPROCESS");
	ck_assert_str_eq(c.secret_key, "process-secret");
	ck_assert_str_eq(c.session_token, "process-token");
	ck_assert_int_eq(c.expiration, 1795666500);
	ck_assert_str_eq(c.source, "profile:proc");
	cw_creds_release(&c);

	/* No expiration: long-term keys. */
	ck_assert_int_eq(cw_creds_from_process("echo '{\"Version\":1,\"AccessKeyId\":\"AKIAP\","
					       "\"SecretAccessKey\":\"s\"}'", 5000, &c, err,
					       sizeof(err)), 0);
	ck_assert_int_eq(c.expiration, 0);
	ck_assert_ptr_null(c.session_token);
	cw_creds_release(&c);
	free(conf);
	free(script);
}
END_TEST

START_TEST(process_failures)
{
	struct cw_creds_opts o;
	struct cw_creds c;
	char err[CW_ERRBUF] = "";

	write_aws("config", "[profile bad]\ncredential_process = echo '{\"Version\":1,"
		  "\"AccessKeyId\":\"AKIALEAK\",\"SecretAccessKey\":\"leaky-secret\"}'; "
		  "echo 'boom: sso session expired' >&2; echo second line >&2; exit 3\n");
	memset(&o, 0, sizeof(o));
	o.profile = "bad";
	ck_assert_int_eq(cw_creds_from_profile(&o, &c, err, sizeof(err)), CW_EAUTH);
	ck_assert_str_eq(err, "profile \"bad\": credential_process: exited with status 3: "
			 "boom: sso session expired");
	assert_lacks(err, "leaky-secret");

	ck_assert_int_eq(cw_creds_from_process("echo not json; echo sk=leaky-secret", 5000, &c,
					       err, sizeof(err)), CW_EPARSE);
	ck_assert_str_eq(err, "credential_process: malformed JSON at line 1 column 3");
	ck_assert_int_eq(cw_creds_from_process("echo '{\"Version\":2,\"AccessKeyId\":\"A\","
					       "\"SecretAccessKey\":\"leaky-secret\"}'", 5000,
					       &c, err, sizeof(err)), CW_EPARSE);
	ck_assert_str_eq(err, "credential_process: \"Version\" must be 1");
	ck_assert_int_eq(cw_creds_from_process("echo '{\"AccessKeyId\":\"A\","
					       "\"SecretAccessKey\":\"s\"}'", 5000,
					       &c, err, sizeof(err)), CW_EPARSE);
	ck_assert_int_eq(cw_creds_from_process("echo '{\"Version\":1,\"AccessKeyId\":\"A\"}'",
					       5000, &c, err, sizeof(err)), CW_EPARSE);
	ck_assert_str_eq(err, "credential_process: SecretAccessKey missing");
	ck_assert_int_eq(cw_creds_from_process("kill -9 $$", 5000, &c, err, sizeof(err)),
			 CW_EAUTH);
	ck_assert_str_eq(err, "credential_process: killed by signal 9");
	/* A hung helper is killed at the deadline (the whole process group). */
	ck_assert_int_eq(cw_creds_from_process("sleep 30 & sleep 30", 200, &c, err, sizeof(err)),
			 CW_EAUTH);
	ck_assert_str_eq(err, "credential_process: timed out after 200 ms");
}
END_TEST

/* ---- JSON answers ------------------------------------------------------------ */

START_TEST(parse_json)
{
	struct cw_creds c;
	char err[CW_ERRBUF] = "";
	const char *ok = "{\"RoleArn\":\"arn:aws:iam::1:role/r\",\"AccessKeyId\":\"ASIAC\","
			 "\"SecretAccessKey\":\"sk\",\"Token\":\"tok\","
			 "\"Expiration\":\"2026-11-26T04:15:00Z\"}";
	const char *noexp = "{\"AccessKeyId\":\"ASIAC\",\"SecretAccessKey\":\"sk\"}";
	const char *broken = "{\"AccessKeyId\":\"ASIAC\",\"SecretAccessKey\":\"leaky-secret\"";
	const char *badtok = "{\"AccessKeyId\":\"ASIAC\",\"SecretAccessKey\":\"sk\","
			     "\"Token\":\"a\\r\\nX-Evil: 1\"}";

	ck_assert_int_eq(cw_creds_parse_json(ok, strlen(ok), "container", true, &c, err,
					     sizeof(err)), 0);
	ck_assert_str_eq(c.access_key, "ASIAC");
	ck_assert_str_eq(c.session_token, "tok");
	ck_assert_int_eq(c.expiration, 1795666500);
	cw_creds_release(&c);
	ck_assert_int_eq(cw_creds_parse_json(noexp, strlen(noexp), "container", true, &c, err,
					     sizeof(err)), CW_EPARSE);
	ck_assert_str_eq(err, "container: Expiration missing");
	ck_assert_int_eq(cw_creds_parse_json(noexp, strlen(noexp), "container", false, &c, err,
					     sizeof(err)), 0);
	cw_creds_release(&c);
	ck_assert_int_eq(cw_creds_parse_json(broken, strlen(broken), "container", false, &c,
					     err, sizeof(err)), CW_EPARSE);
	assert_lacks(err, "leaky");
	ck_assert_int_eq(cw_creds_parse_json(badtok, strlen(badtok), "container", false, &c,
					     err, sizeof(err)), CW_EINVAL);
	ck_assert_str_eq(err, "container: session token is malformed");
	ck_assert_int_eq(cw_creds_parse_json("[1]", 3, "container", false, &c, err,
					     sizeof(err)), CW_EPARSE);
	ck_assert_str_eq(err, "container: answer is not a JSON object");
}
END_TEST

/* ---- the provider: one refresh under contention ------------------------------ */

struct counting {
	pthread_mutex_t lock;
	int fetches;
	int64_t now;      /* the injected clock */
	bool fail;        /* the next fetches fail */
};

static int64_t counting_now(void *env)
{
	struct counting *k = env;
	int64_t t;

	pthread_mutex_lock(&k->lock);
	t = k->now;
	pthread_mutex_unlock(&k->lock);
	return t;
}

static int counting_fetch(void *env, struct cw_creds *out, char *err, size_t errlen)
{
	struct counting *k = env;
	int n;

	pthread_mutex_lock(&k->lock);
	n = ++k->fetches;
	pthread_mutex_unlock(&k->lock);
	memset(out, 0, sizeof(*out));
	if (k->fail)
		return cw_fail(err, errlen, CW_EHTTP, "metadata service unreachable");
	snprintf(out->access_key, sizeof(out->access_key), "ASIAFETCH%d", n);
	snprintf(out->secret_key, sizeof(out->secret_key), "secret-%d", n);
	out->session_token = cw_strdup("tok");
	out->expiration = counting_now(k) + 3600;
	snprintf(out->source, sizeof(out->source), "custom");
	return 0;
}

#define NTHREADS 16

struct getter {
	struct cw_creds_provider *p;
	bool force;
	int rc;
	char key[128];
};

static void *getter_main(void *arg)
{
	struct getter *g = arg;
	struct cw_creds c;
	char err[CW_ERRBUF];

	g->rc = cw_creds_provider_fn(g->p, g->force, &c, err, sizeof(err));
	if (!g->rc)
		cw_strlcpy(g->key, c.access_key, sizeof(g->key));
	cw_creds_release(&c);
	return NULL;
}

/* NTHREADS callers at once; every one must see the same key. */
static void storm(struct cw_creds_provider *p, bool force, const char *want)
{
	pthread_t th[NTHREADS];
	struct getter g[NTHREADS];

	for (int i = 0; i < NTHREADS; i++) {
		g[i] = (struct getter){ .p = p, .force = force };
		ck_assert_int_eq(pthread_create(&th[i], NULL, getter_main, &g[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(g[i].rc, 0);
		ck_assert_str_eq(g[i].key, want);
	}
}

START_TEST(provider_refresh_once)
{
	struct counting k = { .now = 1795660000 };
	struct cw_creds_opts o;
	struct cw_creds_provider *p;
	char src[48];

	pthread_mutex_init(&k.lock, NULL);
	memset(&o, 0, sizeof(o));
	o.fetch = counting_fetch;
	o.now = counting_now;
	o.env = &k;
	ck_assert_int_eq(cw_creds_provider_new(&p, &o, NULL, 0), 0);
	cw_creds_provider_source(p, src, sizeof(src));
	ck_assert_str_eq(src, "");

	storm(p, false, "ASIAFETCH1");        /* first use: one fetch */
	ck_assert_int_eq(k.fetches, 1);
	k.now += 3600 - 301;                    /* 301 s left: still good */
	storm(p, false, "ASIAFETCH1");
	ck_assert_int_eq(k.fetches, 1);
	k.now += 2;                             /* 299 s left: one refresh */
	storm(p, false, "ASIAFETCH2");
	ck_assert_int_eq(k.fetches, 2);
	k.now += CW_CREDS_FORCE_INTERVAL;       /* ExpiredToken everywhere: one refresh */
	storm(p, true, "ASIAFETCH3");
	ck_assert_int_eq(k.fetches, 3);
	ck_assert_int_eq(cw_creds_provider_fetches(p), 3);
	cw_creds_provider_source(p, src, sizeof(src));
	ck_assert_str_eq(src, "custom");

	/* A failed refresh keeps the current credentials while they last, and
	 * is not tried again by every caller. */
	k.fail = true;
	k.now += 3600 - 100;
	storm(p, false, "ASIAFETCH3");
	ck_assert_int_eq(k.fetches, 4);
	k.now += CW_CREDS_RETRY_INTERVAL;
	storm(p, false, "ASIAFETCH3");
	ck_assert_int_eq(k.fetches, 5);
	k.now += 100;                           /* now expired: the failure shows */
	{
		struct cw_creds c;
		char err[CW_ERRBUF] = "";

		ck_assert_int_eq(cw_creds_provider_get(p, false, &c, err, sizeof(err)), CW_EHTTP);
		ck_assert_str_eq(err, "metadata service unreachable");
		ck_assert_str_eq(c.access_key, "");
	}
	cw_creds_provider_free(p);

	/* Nothing found at all: the answer is remembered for a while, so many
	 * workers do not walk the chain one after the other. */
	k.fetches = 0;
	ck_assert_int_eq(cw_creds_provider_new(&p, &o, NULL, 0), 0);
	for (int i = 0; i < 5; i++) {
		struct cw_creds c;
		char err[CW_ERRBUF] = "";

		ck_assert_int_eq(cw_creds_provider_get(p, false, &c, err, sizeof(err)), CW_EHTTP);
		ck_assert_str_eq(err, "metadata service unreachable");
	}
	ck_assert_int_eq(k.fetches, 1);
	k.now += CW_CREDS_RETRY_INTERVAL;
	k.fail = false;
	storm(p, false, "ASIAFETCH2");
	ck_assert_int_eq(k.fetches, 2);
	cw_creds_provider_free(p);
	pthread_mutex_destroy(&k.lock);
}
END_TEST

/* ---- the per-account cache with an injected AssumeRole -------------------- */

struct fake_sts {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int calls;
	int64_t now;
	struct { char role[128], signer[128], ext[64], session[80]; int duration; } log[16];
	const char *deny_role;      /* AccessDenied for this role */
	const char *throttle_role;  /* Throttling for this role */
	const char *slow_role;      /* blocks until released */
	bool slow_entered, slow_release;
};

static int64_t fake_now(void *env)
{
	struct fake_sts *f = env;

	return f->now;
}

static int fake_assume(void *env, const struct cw_sts_request *req, cw_creds_fn get_creds,
		       void *creds_ctx, struct cw_creds *out, struct cw_sts_error *e)
{
	struct fake_sts *f = env;
	struct cw_creds signer;
	char err[CW_ERRBUF];
	int n, rc;

	memset(out, 0, sizeof(*out));
	cw_sts_error_init(e);
	cw_strlcpy(e->stage, "assume-role", sizeof(e->stage));
	cw_strlcpy(e->role_arn, req->role_arn, sizeof(e->role_arn));
	rc = get_creds(creds_ctx, false, &signer, err, sizeof(err));
	ck_assert_int_eq(rc, 0);
	pthread_mutex_lock(&f->lock);
	n = f->calls++;
	if (n < 16) {
		cw_strlcpy(f->log[n].role, req->role_arn, sizeof(f->log[n].role));
		cw_strlcpy(f->log[n].signer, signer.access_key, sizeof(f->log[n].signer));
		cw_strlcpy(f->log[n].ext, req->external_id ? req->external_id : "-",
			   sizeof(f->log[n].ext));
		cw_strlcpy(f->log[n].session, req->session_name, sizeof(f->log[n].session));
		f->log[n].duration = req->duration_seconds;
	}
	if (f->slow_role && strcmp(req->role_arn, f->slow_role) == 0) {
		f->slow_entered = true;
		pthread_cond_broadcast(&f->cond);
		while (!f->slow_release)
			pthread_cond_wait(&f->cond, &f->lock);
	}
	pthread_mutex_unlock(&f->lock);
	cw_creds_release(&signer);
	if (f->deny_role && strcmp(req->role_arn, f->deny_role) == 0) {
		e->rc = CW_EAWS;
		cw_strlcpy(e->code, "AccessDenied", sizeof(e->code));
		snprintf(e->message, sizeof(e->message), "User: arn:aws:iam::000000000000:user/"
			 "cwsweep is not authorized to perform: sts:AssumeRole on resource: %s",
			 req->role_arn);
		e->permanent = true;
		return CW_EAWS;
	}
	if (f->throttle_role && strcmp(req->role_arn, f->throttle_role) == 0) {
		e->rc = CW_EAWS;
		cw_strlcpy(e->code, "Throttling", sizeof(e->code));
		cw_strlcpy(e->message, "Rate exceeded", sizeof(e->message));
		return CW_EAWS;
	}
	snprintf(out->access_key, sizeof(out->access_key), "ASIAHOP%d", n + 1);
	snprintf(out->secret_key, sizeof(out->secret_key), "hop-secret-%d", n + 1);
	out->session_token = cw_strdup("hop-token");
	out->expiration = f->now + 3600;
	return 0;
}

static int ambient_env_fetch(void *env, struct cw_creds *out, char *err, size_t errlen)
{
	(void)env;
	memset(out, 0, sizeof(*out));
	cw_strlcpy(out->access_key, "AKIAAMBIENT", sizeof(out->access_key));
	cw_strlcpy(out->secret_key, "ambient-secret", sizeof(out->secret_key));
	cw_strlcpy(out->source, "environment", sizeof(out->source));
	return 0;
}

struct cache_fx {
	struct fake_sts f;
	struct cw_creds_provider *amb;
	struct cw_credcache *cache;
};

static void cache_fx_init(struct cache_fx *x)
{
	struct cw_creds_opts ao;
	struct cw_credcache_opts co;

	memset(x, 0, sizeof(*x));
	pthread_mutex_init(&x->f.lock, NULL);
	pthread_cond_init(&x->f.cond, NULL);
	x->f.now = 1795660000;
	memset(&ao, 0, sizeof(ao));
	ao.fetch = ambient_env_fetch;
	ck_assert_int_eq(cw_creds_provider_new(&x->amb, &ao, NULL, 0), 0);
	memset(&co, 0, sizeof(co));
	co.ambient = x->amb;
	co.session_name = "cwsweep-20261126T031500Z-4f2a";
	co.now = fake_now;
	co.assume = fake_assume;
	co.env = &x->f;
	ck_assert_int_eq(cw_credcache_new(&x->cache, &co, NULL, 0), 0);
}

static void cache_fx_release(struct cache_fx *x)
{
	cw_credcache_free(x->cache);
	cw_creds_provider_free(x->amb);
}

static char *roles2[] = { "arn:aws:iam::111111111111:role/cwsweep-hop",
			  "arn:aws:iam::222222222222:role/cwsweep-chained" };
static char *role_denied[] = { "arn:aws:iam::333333333333:role/cwsweep-reader" };
static char *role_throttled[] = { "arn:aws:iam::444444444444:role/cwsweep-busy" };
static char *role_slow[] = { "arn:aws:iam::555555555555:role/cwsweep-slow" };

static struct cw_account_def account(const char *id, char **roles, size_t n)
{
	struct cw_account_def a;

	memset(&a, 0, sizeof(a));
	cw_strlcpy(a.id, id, sizeof(a.id));
	a.roles = roles;
	a.nroles = n;
	return a;
}

START_TEST(cache_role_chain)
{
	struct cache_fx x;
	struct cw_account_def a = account("222222222222", roles2, 2);
	struct cw_creds c;
	char err[CW_ERRBUF] = "";

	cache_fx_init(&x);
	a.external_id = "creds-ext-2222";
	a.duration_seconds = 7200;
	ck_assert_int_eq(cw_credcache_get(x.cache, &a, false, &c, NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(c.access_key, "ASIAHOP2");
	ck_assert_str_eq(c.source, "assume-role");
	cw_creds_release(&c);
	ck_assert_int_eq(x.f.calls, 2);
	/* hop 1: signed with the ambient keys, no external id, full duration */
	ck_assert_str_eq(x.f.log[0].role, roles2[0]);
	ck_assert_str_eq(x.f.log[0].signer, "AKIAAMBIENT");
	ck_assert_str_eq(x.f.log[0].ext, "-");
	ck_assert_int_eq(x.f.log[0].duration, 7200);
	ck_assert_str_eq(x.f.log[0].session, "cwsweep-20261126T031500Z-4f2a");
	/* hop 2: signed with hop 1's keys, external id, chained cap */
	ck_assert_str_eq(x.f.log[1].role, roles2[1]);
	ck_assert_str_eq(x.f.log[1].signer, "ASIAHOP1");
	ck_assert_str_eq(x.f.log[1].ext, "creds-ext-2222");
	ck_assert_int_eq(x.f.log[1].duration, 3600);

	/* Cached until 5 minutes before expiry. */
	x.f.now += 3600 - 301;
	ck_assert_int_eq(cw_credcache_get(x.cache, &a, false, &c, NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(c.access_key, "ASIAHOP2");
	cw_creds_release(&c);
	ck_assert_int_eq(x.f.calls, 2);
	x.f.now += 2;
	ck_assert_int_eq(cw_credcache_get(x.cache, &a, false, &c, NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(c.access_key, "ASIAHOP4");
	cw_creds_release(&c);
	ck_assert_int_eq(x.f.calls, 4);
	ck_assert_int_eq(cw_credcache_assume_calls(x.cache), 4);

	/* The account's own session name wins. */
	a.session_name = "finops-weekly";
	ck_assert_int_eq(cw_credcache_get(x.cache, &a, false, &c, NULL, err, sizeof(err)), 0);
	cw_creds_release(&c);
	ck_assert_str_eq(x.f.log[4].session, "finops-weekly");
	cache_fx_release(&x);
}
END_TEST

START_TEST(cache_force_and_adapter)
{
	struct cache_fx x;
	struct cw_account_def a = account("222222222222", roles2, 1);
	struct cw_credcache_ref ref;
	struct cw_creds c;
	char err[CW_ERRBUF] = "";

	cache_fx_init(&x);
	ref.cache = x.cache;
	ref.acct = &a;
	ck_assert_int_eq(cw_credcache_fn(&ref, false, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.access_key, "ASIAHOP1");
	cw_creds_release(&c);
	/* ExpiredToken for the cached key: a new AssumeRole at once, even
	 * right after the last one. */
	memset(&c, 0, sizeof(c));
	cw_strlcpy(c.access_key, "ASIAHOP1", sizeof(c.access_key));
	ck_assert_int_eq(cw_credcache_fn(&ref, true, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.access_key, "ASIAHOP2");
	cw_creds_release(&c);
	/* ExpiredToken for a key another worker replaced already: reuse. */
	memset(&c, 0, sizeof(c));
	cw_strlcpy(c.access_key, "ASIAHOP1", sizeof(c.access_key));
	ck_assert_int_eq(cw_credcache_fn(&ref, true, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.access_key, "ASIAHOP2");
	cw_creds_release(&c);
	/* Without the refused key, a fetch seconds old counts as the refresh. */
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(cw_credcache_fn(&ref, true, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.access_key, "ASIAHOP2");
	cw_creds_release(&c);
	x.f.now += CW_CREDS_FORCE_INTERVAL;
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(cw_credcache_fn(&ref, true, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.access_key, "ASIAHOP3");
	cw_creds_release(&c);

	/* No roles: the ambient credentials. */
	a.nroles = 0;
	ck_assert_int_eq(cw_credcache_fn(&ref, false, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.access_key, "AKIAAMBIENT");
	cw_creds_release(&c);
	ck_assert_int_eq(x.f.calls, 3);
	cache_fx_release(&x);
}
END_TEST

struct cache_getter {
	struct cw_credcache *cache;
	const struct cw_account_def *acct;
	int rc;
	char err[CW_ERRBUF];
};

static void *cache_getter_main(void *arg)
{
	struct cache_getter *g = arg;
	struct cw_creds c;

	g->rc = cw_credcache_get(g->cache, g->acct, false, &c, NULL, g->err, sizeof(g->err));
	cw_creds_release(&c);
	return NULL;
}

START_TEST(cache_negative)
{
	struct cache_fx x;
	struct cw_account_def a = account("333333333333", role_denied, 1);
	struct cw_account_def b = account("444444444444", role_throttled, 1);
	struct cache_getter g[10];
	pthread_t th[10];
	struct cw_sts_error e;
	struct cw_creds c;
	char err[CW_ERRBUF] = "";

	cache_fx_init(&x);
	x.f.deny_role = role_denied[0];
	x.f.throttle_role = role_throttled[0];
	for (int i = 0; i < 10; i++) {
		g[i] = (struct cache_getter){ .cache = x.cache, .acct = &a };
		ck_assert_int_eq(pthread_create(&th[i], NULL, cache_getter_main, &g[i]), 0);
	}
	for (int i = 0; i < 10; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(g[i].rc, CW_EAWS);
		ck_assert_str_eq(g[i].err, "assume-role arn:aws:iam::333333333333:role/"
				 "cwsweep-reader: AccessDenied: User: arn:aws:iam::000000000000:"
				 "user/cwsweep is not authorized to perform: sts:AssumeRole on "
				 "resource: arn:aws:iam::333333333333:role/cwsweep-reader");
	}
	ck_assert_int_eq(x.f.calls, 1); /* remembered for the run */
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(cw_credcache_get(x.cache, &a, true, &c, &e, err, sizeof(err)), CW_EAWS);
	ck_assert_int_eq(x.f.calls, 1);
	ck_assert_str_eq(e.code, "AccessDenied");
	ck_assert_str_eq(e.stage, "assume-role");
	ck_assert_str_eq(e.role_arn, role_denied[0]);
	ck_assert(e.permanent);

	/* Throttled past every retry: not remembered, the next worker tries. */
	ck_assert_int_eq(cw_credcache_get(x.cache, &b, false, &c, &e, err, sizeof(err)), CW_EAWS);
	ck_assert_str_eq(err, "assume-role arn:aws:iam::444444444444:role/cwsweep-busy: "
			 "Throttling: Rate exceeded");
	ck_assert(!e.permanent);
	ck_assert_int_eq(cw_credcache_get(x.cache, &b, false, &c, &e, err, sizeof(err)), CW_EAWS);
	ck_assert_int_eq(x.f.calls, 3);
	cache_fx_release(&x);
}
END_TEST

START_TEST(cache_slow_account_blocks_nobody_else)
{
	struct cache_fx x;
	struct cw_account_def slow = account("555555555555", role_slow, 1);
	struct cw_account_def fast = account("111111111111", roles2, 1);
	struct cache_getter g = { 0 };
	pthread_t th;
	struct cw_creds c;
	char err[CW_ERRBUF] = "";

	cache_fx_init(&x);
	x.f.slow_role = role_slow[0];
	g.cache = x.cache;
	g.acct = &slow;
	ck_assert_int_eq(pthread_create(&th, NULL, cache_getter_main, &g), 0);
	pthread_mutex_lock(&x.f.lock);
	while (!x.f.slow_entered)
		pthread_cond_wait(&x.f.cond, &x.f.lock);
	pthread_mutex_unlock(&x.f.lock);
	/* The slow account is in the middle of its refresh; this must not wait
	 * for it (if it did, the test would hang until Check's timeout). */
	ck_assert_int_eq(cw_credcache_get(x.cache, &fast, false, &c, NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(c.access_key, "ASIAHOP2");
	cw_creds_release(&c);
	pthread_mutex_lock(&x.f.lock);
	x.f.slow_release = true;
	pthread_cond_broadcast(&x.f.cond);
	pthread_mutex_unlock(&x.f.lock);
	pthread_join(th, NULL);
	ck_assert_int_eq(g.rc, 0);
	ck_assert_int_eq(x.f.calls, 2);
	cache_fx_release(&x);
}
END_TEST

/* ---- against the fake endpoint -------------------------------------------- */

static struct cw_fake fake;
static bool fake_up;

static void fake_setup(void)
{
	setup();
	memset(&fake, 0, sizeof(fake));
	fake_up = cw_fake_start(&fake, "tests/fake_aws/scenarios/creds.json") == 0;
	ck_assert_msg(fake_up, "the fake AWS endpoint did not start");
}

static void fake_teardown(void)
{
	if (fake_up)
		cw_fake_stop(&fake);
	fake_up = false;
	teardown();
}

static struct cw_aws_ctx *new_ctx(void)
{
	struct cw_aws_ctx *ctx;
	struct cw_aws_opts ao;

	memset(&ao, 0, sizeof(ao));
	ao.connect_timeout_ms = 2000;
	ao.total_timeout_ms = 10000;
	ck_assert_int_eq(cw_aws_ctx_new(&ctx, &ao), 0);
	return ctx;
}

static void caller_env(void)
{
	setenv("AWS_ACCESS_KEY_ID", "AKIACREDSTESTCALLER0", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "creds/caller/secret/000000000000000000000", 1);
}

START_TEST(fake_assume_role_chain)
{
	struct cw_aws_ctx *ctx = new_ctx();
	struct cw_creds_provider *amb;
	struct cw_credcache *cache;
	struct cw_creds_opts ao;
	struct cw_credcache_opts co;
	struct cw_account_def a = account("222222222222", roles2, 2);
	struct cw_account_def d = account("333333333333", role_denied, 1);
	struct cw_sts_error e;
	struct cw_creds c;
	char err[CW_ERRBUF] = "";

	caller_env();
	memset(&ao, 0, sizeof(ao));
	ck_assert_int_eq(cw_creds_provider_new(&amb, &ao, NULL, 0), 0);
	memset(&co, 0, sizeof(co));
	co.ambient = amb;
	co.aws = ctx;
	co.endpoint_url = fake.url;
	co.sts_region = "eu-west-1";
	co.session_name = "cwsweep-20261126T031500Z-4f2a";
	ck_assert_int_eq(cw_credcache_new(&cache, &co, NULL, 0), 0);

	a.external_id = "creds-ext-2222";
	a.duration_seconds = 7200; /* the fake refuses > 3600 on the chained hop */
	ck_assert_msg(cw_credcache_get(cache, &a, false, &c, NULL, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert(cw_str_startswith(c.access_key, "ASIA"));
	ck_assert_ptr_nonnull(c.session_token);
	ck_assert_int_gt(c.expiration, cw_time_now() + 3000);
	cw_creds_release(&c);
	ck_assert_int_eq(cw_fake_count(&fake, "\"AssumeRole\""), 2);

	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(cw_credcache_get(cache, &d, false, &c, &e, err, sizeof(err)),
				 CW_EAWS);
		ck_assert_str_eq(err, "assume-role arn:aws:iam::333333333333:role/cwsweep-reader: "
				 "AccessDenied: User: arn:aws:iam::000000000000:user/cwsweep "
				 "is not authorized to perform: sts:AssumeRole on resource: "
				 "arn:aws:iam::333333333333:role/cwsweep-reader");
	}
	ck_assert_int_eq(cw_fake_count(&fake, "\"AssumeRole\""), 3);

	/* Without the external id the chained role refuses. */
	a.external_id = NULL;
	ck_assert_int_eq(cw_credcache_get(cache, &a, false, &c, &e, err, sizeof(err)), CW_EAWS);
	ck_assert_str_eq(e.code, "AccessDenied");
	ck_assert_str_eq(e.role_arn, roles2[1]);
	assert_lacks(err, "creds/caller/secret");

	cw_credcache_free(cache);
	cw_creds_provider_free(amb);
	cw_aws_ctx_free(ctx);
}
END_TEST

/* ~/.aws/sso/cache/NAME.json as `aws sso login` writes it. */
static void write_sso_token(const char *name, const char *token, const char *expires)
{
	char *dir = cw_asprintf("%s/.aws/sso/cache", tmp), *text, *p;

	ck_assert_int_eq(cw_mkdirs(dir, NULL, 0), 0);
	text = cw_asprintf("{\"startUrl\": \"https://corp.awsapps.com/start\", "
			   "\"region\": \"eu-west-1\", \"accessToken\": \"%s\", "
			   "\"expiresAt\": \"%s\"}", token, expires);
	p = cw_asprintf("%s.json", name);
	free(cw_test_write(dir, p, text));
	free(p);
	free(text);
	free(dir);
}

START_TEST(sso_cache_key)
{
	char k[41];

	cw_sso_cache_key("corp", k);
	ck_assert_str_eq(k, "ee0bfd2552fbd840c02cc48b6e823320543c450f");
	cw_sso_cache_key("https://legacy.awsapps.com/start", k);
	ck_assert_str_eq(k, "79e435d7a515078e81c9dffc35f38d5687ebd3a7");
}
END_TEST

START_TEST(sso_portal_answers)
{
	static const char ok[] = "{\"roleCredentials\": {\"accessKeyId\": \"ASIASSOEXAMPLE000001\", "
		"\"secretAccessKey\": \"sso/secret\", \"sessionToken\": \"sso-token\", "
		"\"expiration\": 1796000000000}}";
	static const char *const bad[] = {
		"", "[]", "{\"roleCredentials\": {}}",
		"{\"roleCredentials\": {\"accessKeyId\": \"A\", \"secretAccessKey\": \"s\", "
		"\"sessionToken\": \"t\", \"expiration\": \"soon\"}}",
		"{\"roleCredentials\": {\"accessKeyId\": \"A B\", \"secretAccessKey\": \"s\", "
		"\"sessionToken\": \"t\", \"expiration\": 1}}",
		"{\"roleCredentials\": {\"accessKeyId\": \"A\", \"secretAccessKey\": \"s\", "
		"\"sessionToken\": \"t\\n\", \"expiration\": 1}}",
	};
	struct cw_creds c;
	char err[CW_ERRBUF];

	ck_assert_int_eq(cw_sso_parse_role_credentials("p", ok, strlen(ok), &c, err, sizeof(err)),
			 0);
	ck_assert_str_eq(c.access_key, "ASIASSOEXAMPLE000001");
	ck_assert_str_eq(c.session_token, "sso-token");
	ck_assert_int_eq(c.expiration, 1796000000);
	cw_creds_release(&c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(cw_sso_parse_role_credentials("p", bad[i], strlen(bad[i]), &c, err,
							    sizeof(err)) == CW_EPARSE, "%s", bad[i]);
		assert_has(err, "profile \"p\": the SSO portal's answer holds no role credentials");
	}
}
END_TEST

START_TEST(fake_sso_profiles)
{
	struct cw_creds_opts o;
	struct cw_creds c;
	enum cw_creds_source src;
	char err[CW_ERRBUF] = "";

	write_aws("config", "[profile finops]\nsso_session = corp\n"
		  "sso_account_id = 777777777777\nsso_role_name = CwsweepReadOnly\n"
		  "region = eu-west-1\n\n"
		  "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
		  "sso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n\n"
		  "[profile legacy]\nsso_start_url = https://legacy.awsapps.com/start\n"
		  "sso_region = us-east-1\nsso_account_id = 777777777777\n"
		  "sso_role_name = CwsweepReadOnly\n\n"
		  "[profile norole]\nsso_session = corp\nsso_account_id = 777777777777\n"
		  "sso_role_name = Admin\n\n"
		  "[profile nosession]\nsso_session = gone\nsso_account_id = 777777777777\n"
		  "sso_role_name = CwsweepReadOnly\n");
	setenv("AWS_ENDPOINT_URL_SSO", fake.url, 1);
	memset(&o, 0, sizeof(o));
	o.profile = "finops";

	/* no login yet */
	ck_assert_int_eq(cw_creds_from_profile(&o, &c, err, sizeof(err)), CW_EAUTH);
	assert_has(err, "no cached SSO token (~/.aws/sso/cache/"
		   "ee0bfd2552fbd840c02cc48b6e823320543c450f.json)");
	assert_has(err, "run aws sso login --profile finops");
	/* an old login */
	write_sso_token("ee0bfd2552fbd840c02cc48b6e823320543c450f", "creds-sso-access-token",
			"2020-01-01T00:00:00Z");
	ck_assert_int_eq(cw_creds_from_profile(&o, &c, err, sizeof(err)), CW_EAUTH);
	assert_has(err, "the SSO token expired at 2020-01-01T00:00:00Z; run aws sso login "
		   "--profile finops");
	ck_assert_int_eq(cw_fake_count(&fake, "GetRoleCredentials"), 0);
	/* a token the portal does not know */
	write_sso_token("ee0bfd2552fbd840c02cc48b6e823320543c450f", "revoked-token",
			"2099-01-01T00:00:00UTC");
	ck_assert_int_eq(cw_creds_from_profile(&o, &c, err, sizeof(err)), CW_EAUTH);
	assert_has(err, "refused the cached token (UnauthorizedException); run aws sso login");
	assert_lacks(err, "revoked-token");
	/* logged in: through the whole chain, as AWS_PROFILE */
	write_sso_token("ee0bfd2552fbd840c02cc48b6e823320543c450f", "creds-sso-access-token",
			"2099-01-01T00:00:00Z");
	o.profile = NULL;
	setenv("AWS_PROFILE", "finops", 1);
	ck_assert_msg(cw_creds_resolve(&o, CW_CREDS_SRC_NONE, &c, &src, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(src, CW_CREDS_SRC_PROFILE);
	ck_assert(cw_str_startswith(c.access_key, "ASIA"));
	ck_assert_ptr_nonnull(c.session_token);
	ck_assert_int_gt(c.expiration, cw_time_now() + 3000);
	ck_assert_int_lt(c.expiration, cw_time_now() + 3700);
	cw_creds_release(&c);
	unsetenv("AWS_PROFILE");
	/* the legacy form: the token is named after the start URL */
	o.profile = "legacy";
	ck_assert_int_eq(cw_creds_from_profile(&o, &c, err, sizeof(err)), CW_EAUTH);
	assert_has(err, "79e435d7a515078e81c9dffc35f38d5687ebd3a7.json");
	write_sso_token("79e435d7a515078e81c9dffc35f38d5687ebd3a7", "creds-sso-access-token",
			"2099-01-01T00:00:00Z");
	ck_assert_msg(cw_creds_from_profile(&o, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.source, "profile:legacy");
	cw_creds_release(&c);
	/* a role the user has no assignment for */
	o.profile = "norole";
	ck_assert_int_eq(cw_creds_from_profile(&o, &c, err, sizeof(err)), CW_EAUTH);
	assert_has(err, "no access to role Admin in account 777777777777 (ForbiddenException)");
	/* a session that is not defined */
	o.profile = "nosession";
	ck_assert_int_eq(cw_creds_from_profile(&o, &c, err, sizeof(err)), CW_EINVAL);
	assert_has(err, "no [sso-session gone] section");
	ck_assert_int_eq(cw_fake_count(&fake, "GetRoleCredentials"), 4);
}
END_TEST

START_TEST(fake_profile_source_profile)
{
	struct cw_aws_ctx *ctx = new_ctx();
	struct cw_creds_opts o;
	struct cw_creds c;
	char err[CW_ERRBUF] = "";

	write_aws("credentials", "[base]\naws_access_key_id = AKIACREDSTESTCALLER0\n"
		  "aws_secret_access_key = creds/caller/secret/000000000000000000000\n");
	write_aws("config", "[profile hop]\nrole_arn = arn:aws:iam::111111111111:role/cwsweep-hop\n"
		  "source_profile = base\nrole_session_name = from-profile\n"
		  "duration_seconds = 7200\nregion = eu-central-1\n\n"
		  "[profile chained]\nrole_arn = arn:aws:iam::222222222222:role/cwsweep-chained\n"
		  "source_profile = hop\nexternal_id = creds-ext-2222\n");
	memset(&o, 0, sizeof(o));
	o.aws = ctx;
	o.endpoint_url = fake.url;
	o.profile = "hop";
	ck_assert_msg(cw_creds_from_profile(&o, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert(cw_str_startswith(c.access_key, "ASIA"));
	ck_assert_str_eq(c.source, "profile:hop");
	cw_creds_release(&c);
	ck_assert_int_eq(cw_fake_count(&fake, "from-profile"), 0); /* the log holds no bodies */
	o.profile = "chained";
	ck_assert_msg(cw_creds_from_profile(&o, &c, err, sizeof(err)) == 0, "%s", err);
	cw_creds_release(&c);
	ck_assert_int_eq(cw_fake_count(&fake, "\"AssumeRole\""), 3);
	cw_aws_ctx_free(ctx);
}
END_TEST

START_TEST(fake_web_identity)
{
	struct cw_aws_ctx *ctx = new_ctx();
	struct cw_creds_opts o;
	struct cw_creds c;
	enum cw_creds_source src;
	char *tok = cw_test_write(tmp, "token", "fake-oidc-token-creds\n");
	char *bad = cw_test_write(tmp, "bad-token", "not-the-right-oidc-token\n");
	char err[CW_ERRBUF] = "";

	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tok, 1);
	setenv("AWS_ROLE_ARN", "arn:aws:iam::444444444444:role/cwsweep-web", 1);
	setenv("AWS_ROLE_SESSION_NAME", "pod-1", 1);
	memset(&o, 0, sizeof(o));
	o.aws = ctx;
	o.endpoint_url = fake.url;
	ck_assert_msg(cw_creds_resolve(&o, CW_CREDS_SRC_NONE, &c, &src, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(src, CW_CREDS_SRC_WEB_IDENTITY);
	ck_assert_str_eq(c.source, "web-identity");
	ck_assert(cw_str_startswith(c.access_key, "ASIA"));
	cw_creds_release(&c);
	ck_assert_int_eq(cw_fake_count(&fake, "AssumeRoleWithWebIdentity"), 1);

	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", bad, 1);
	ck_assert_int_eq(cw_creds_from_web_identity_env(&o, &c, err, sizeof(err)), CW_EAWS);
	assert_has(err, "assume-role-with-web-identity arn:aws:iam::444444444444:role/"
		   "cwsweep-web: InvalidIdentityToken: ");
	assert_lacks(err, "not-the-right-oidc-token");

	/* The same through a profile. */
	{
		char *conf = cw_asprintf("[profile web]\nrole_arn = arn:aws:iam::444444444444:role/"
					 "cwsweep-web\nweb_identity_token_file = %s\n", tok);

		write_aws("config", conf);
		free(conf);
		o.profile = "web";
		ck_assert_msg(cw_creds_resolve(&o, CW_CREDS_SRC_NONE, &c, &src, err,
					       sizeof(err)) == 0, "%s", err);
		ck_assert_int_eq(src, CW_CREDS_SRC_PROFILE);
		ck_assert_str_eq(c.source, "profile:web");
		cw_creds_release(&c);
		ck_assert_int_eq(cw_fake_count(&fake, "AssumeRoleWithWebIdentity"), 3);
		o.profile = NULL;
	}

	unsetenv("AWS_ROLE_ARN");
	ck_assert_int_eq(cw_creds_from_web_identity_env(&o, &c, err, sizeof(err)), CW_EAUTH);
	ck_assert_str_eq(err, "web identity: AWS_WEB_IDENTITY_TOKEN_FILE is set but "
			 "AWS_ROLE_ARN is not");
	free(tok);
	free(bad);
	cw_aws_ctx_free(ctx);
}
END_TEST

START_TEST(fake_container)
{
	struct cw_creds_opts o;
	struct cw_creds c;
	enum cw_creds_source src;
	char *url = cw_asprintf("%s/container-credentials/cwsweep", fake.url);
	char *tokf = cw_test_write(tmp, "auth", "creds-container-auth-token\n");
	char err[CW_ERRBUF] = "";

	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tokf, 1);
	memset(&o, 0, sizeof(o));
	ck_assert_msg(cw_creds_resolve(&o, CW_CREDS_SRC_NONE, &c, &src, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(src, CW_CREDS_SRC_CONTAINER);
	ck_assert_str_eq(c.access_key, "ASIACREDSTESTCONTAIN");
	ck_assert_str_eq(c.secret_key, "creds/container/secret/00000000000000000000");
	ck_assert_str_eq(c.session_token, "creds-container-session-token");
	ck_assert_int_gt(c.expiration, cw_time_now());
	cw_creds_release(&c);

	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong-token", 1);
	ck_assert_int_eq(cw_creds_from_container(&o, &c, err, sizeof(err)), CW_EAUTH);
	ck_assert_str_eq(err, "container: credentials endpoint answered HTTP 403");

	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds", 1);
	ck_assert_int_eq(cw_creds_from_container(&o, &c, err, sizeof(err)), CW_EINVAL);
	assert_has(err, "must be https, or http to a loopback");
	free(url);
	free(tokf);
}
END_TEST

START_TEST(fake_imds)
{
	struct cw_creds_opts o;
	struct cw_creds c;
	enum cw_creds_source src;
	char err[CW_ERRBUF] = "";

	unsetenv("AWS_EC2_METADATA_DISABLED");
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url, 1);
	memset(&o, 0, sizeof(o));
	ck_assert_msg(cw_creds_resolve(&o, CW_CREDS_SRC_NONE, &c, &src, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(src, CW_CREDS_SRC_IMDS);
	ck_assert_str_eq(c.access_key, "ASIACREDSTESTIMDS000");
	ck_assert_str_eq(c.secret_key, "creds/imds/secret/0000000000000000000000000");
	ck_assert_str_eq(c.session_token, "creds-imds-session-token");
	ck_assert_str_eq(c.source, "imds:cwsweep-instance");
	ck_assert_int_gt(c.expiration, cw_time_now());
	cw_creds_release(&c);
	ck_assert_int_eq(cw_fake_count(&fake, "\"token\""), 1);
	ck_assert_int_eq(cw_fake_count(&fake, "\"roles\""), 1);
	ck_assert_int_eq(cw_fake_count(&fake, "\"credentials\""), 1);

	/* Nothing listens: skipped quickly, and the reason is in the message. */
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1", 1);
	ck_assert_int_eq(cw_creds_from_imds(&o, &c, err, sizeof(err)), CW_ENOTFOUND);
	assert_has(err, "not reachable");
	setenv("AWS_EC2_METADATA_DISABLED", "TRUE", 1);
	ck_assert_int_eq(cw_creds_from_imds(&o, &c, err, sizeof(err)), CW_ENOTFOUND);
	ck_assert_str_eq(err, "disabled");
}
END_TEST

static Suite *creds_suite(void)
{
	Suite *s = suite_create("creds");
	TCase *env = tcase_create("env"), *prof = tcase_create("profile"),
	      *prov = tcase_create("provider"), *cache = tcase_create("cache"),
	      *fk = tcase_create("fake");

	tcase_add_checked_fixture(env, setup, teardown);
	tcase_add_test(env, env_static);
	tcase_add_test(env, env_partial_and_missing);
	tcase_add_test(env, no_credentials_message);
	tcase_add_test(env, env_wins_over_profile);
	tcase_add_test(env, parse_json);
	tcase_add_checked_fixture(prof, setup, teardown);
	tcase_add_test(prof, profile_static);
	tcase_add_test(prof, profile_files_from_env);
	tcase_add_test(prof, profile_mode_refused);
	tcase_add_test(prof, profile_errors_stop_chain);
	tcase_add_test(prof, process_ok);
	tcase_add_test(prof, process_failures);
	tcase_add_checked_fixture(prov, setup, teardown);
	tcase_add_test(prov, provider_refresh_once);
	tcase_add_checked_fixture(cache, setup, teardown);
	tcase_add_test(cache, cache_role_chain);
	tcase_add_test(cache, cache_force_and_adapter);
	tcase_add_test(cache, cache_negative);
	tcase_add_test(cache, cache_slow_account_blocks_nobody_else);
	tcase_set_timeout(cache, 20);
	tcase_add_checked_fixture(fk, fake_setup, fake_teardown);
	tcase_add_test(fk, fake_assume_role_chain);
	tcase_add_test(fk, fake_profile_source_profile);
	tcase_add_test(fk, fake_web_identity);
	tcase_add_test(fk, fake_container);
	tcase_add_test(fk, fake_imds);
	tcase_add_test(fk, fake_sso_profiles);
	tcase_add_test(env, sso_cache_key);
	tcase_add_test(env, sso_portal_answers);
	tcase_set_timeout(fk, 60);
	suite_add_tcase(s, env);
	suite_add_tcase(s, prof);
	suite_add_tcase(s, prov);
	suite_add_tcase(s, cache);
	suite_add_tcase(s, fk);
	return s;
}

int main(void)
{
	return cw_test_run_suite(creds_suite());
}
