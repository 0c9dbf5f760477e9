/*
 * aws.c - endpoints, credentials lifetime, and the one signed AWS call
 * with the SDKs' standard retries (see aws.h).
 *
 * Threads: a cw_aws_ctx is shared by every worker.  Its retry quota has its
 * own mutex (retry.c), its counters are under ctx->mu, and the interrupt
 * flag is a lock-free atomic that a signal handler may set.  A
 * cw_aws_client (one easy handle, one random state) is used by one thread.
 */
#include "aws.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "awserr.h"
#include "err.h"
#include "http.h"
#include "log.h"
#include "retry.h"
#include "sigv4.h"
#include "strutil.h"

#define DEF_MAX_ATTEMPTS 3
#define SLEEP_SLICE_MS 50

struct cw_aws_ctx {
	struct cw_aws_opts opts;  /* defaults filled in; ca_bundle points below */
	char *ca_bundle;
	struct cw_retry_quota quota;
	struct cw_membudget budget; /* shared by every client's handle */
	pthread_mutex_t parse_mu;   /* guards parse_used */
	pthread_cond_t parse_cv;
	size_t parse_used;
	pthread_mutex_t mu;       /* guards stats */
	struct cw_aws_stats stats;
	struct cw_aws_action_stats actions[CW_AWS_MAX_ACTIONS]; /* under mu */
	size_t nactions;
	atomic_int interrupted;
};

struct cw_aws_client {
	struct cw_aws_ctx *ctx;
	struct cw_http *http;
	uint64_t rng; /* splitmix64 state for the backoff jitter */
};

/* ---- credentials ------------------------------------------------------------ */

void cw_creds_release(struct cw_creds *c)
{
	if (!c)
		return;
	if (c->session_token) {
		cw_wipe(c->session_token, strlen(c->session_token));
		free(c->session_token);
	}
	cw_wipe(c, sizeof(*c));
}

int cw_creds_copy(struct cw_creds *dst, const struct cw_creds *src)
{
	memcpy(dst, src, sizeof(*dst));
	dst->session_token = NULL;
	if (src->session_token) {
		dst->session_token = cw_strdup(src->session_token);
		if (!dst->session_token) {
			cw_wipe(dst, sizeof(*dst));
			return CW_ENOMEM;
		}
	}
	return 0;
}

/* ---- endpoints --------------------------------------------------------------- */

static bool name_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > max || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-'))
			return false;
	return true;
}

/* Check a configured endpoint and copy it without trailing slashes. */
static int endpoint_take(const char *from, const char *url, char *out, size_t outlen,
			 char *err, size_t errlen)
{
	char why[256], path[1024];
	size_t n = strlen(url);

	if (cw_http_url_check(url, false, NULL, 0, NULL, path, sizeof(path), why,
			      sizeof(why)) != 0)
		return cw_fail(err, errlen, CW_EINVAL, "%s: %s", from, why);
	if (strchr(url, '?'))
		return cw_fail(err, errlen, CW_EINVAL, "%s: endpoint url must not have a query",
			       from);
	/* the path is signed as sent: keep it free of dot segments and escapes */
	if (strstr(path, "/.") || strchr(path, '%'))
		return cw_fail(err, errlen, CW_EINVAL,
			       "%s: endpoint url path must not hold '.' segments or escapes",
			       from);
	while (n > 0 && url[n - 1] == '/')
		n--;
	if (n + 1 > outlen)
		return cw_fail(err, errlen, CW_ETOOBIG, "%s: endpoint url too long", from);
	memcpy(out, url, n);
	out[n] = '\0';
	return 0;
}

static const char *env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

int cw_endpoint_resolve(const char *service, const char *region,
			const char *inventory_url, char *out, size_t outlen,
			char *err, size_t errlen)
{
	char var[64];
	const char *v;
	bool ignore_env;
	int n;

	if (outlen)
		out[0] = '\0';
	if (!name_ok(service, 32))
		return cw_fail(err, errlen, CW_EINVAL, "service: not a service name");
	if (!name_ok(region, 32))
		return cw_fail(err, errlen, CW_EINVAL, "region %s: not a region name",
			       region ? region : "(none)");
	v = env_nonempty("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	ignore_env = v && cw_str_ieq(v, "true");
	if (!ignore_env) {
		/* the SDKs' service id: CloudWatch is "monitoring" when signing */
		if (strcmp(service, "monitoring") == 0) {
			cw_strlcpy(var, "AWS_ENDPOINT_URL_CLOUDWATCH", sizeof(var));
		} else {
			n = snprintf(var, sizeof(var), "AWS_ENDPOINT_URL_%s", service);
			for (size_t i = sizeof("AWS_ENDPOINT_URL_") - 1; n > 0 && var[i]; i++)
				var[i] = var[i] == '-' ? '_' :
					 (var[i] >= 'a' && var[i] <= 'z') ? (char)(var[i] - 32) :
					 var[i];
		}
		if ((v = env_nonempty(var)))
			return endpoint_take(var, v, out, outlen, err, errlen);
		if ((v = env_nonempty("AWS_ENDPOINT_URL")))
			return endpoint_take("AWS_ENDPOINT_URL", v, out, outlen, err, errlen);
	}
	if (inventory_url && *inventory_url)
		return endpoint_take("endpoint_url", inventory_url, out, outlen, err, errlen);
	n = snprintf(out, outlen, "https://%s.%s.amazonaws.com%s", service, region,
		     cw_str_startswith(region, "cn-") ? ".cn" : "");
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen)
			out[0] = '\0';
		return cw_fail(err, errlen, CW_ETOOBIG, "endpoint url too long");
	}
	return 0;
}

/* ---- retry settings from the environment ------------------------------------ */

int cw_aws_env_retry(int *max_attempts, char *err, size_t errlen)
{
	const char *n = env_nonempty("AWS_MAX_ATTEMPTS");
	const char *mode = env_nonempty("AWS_RETRY_MODE");
	long long x = 0;

	*max_attempts = 0;
	if (mode && !cw_str_ieq(mode, "standard") && !cw_str_ieq(mode, "legacy") &&
	    !cw_str_ieq(mode, "adaptive"))
		return cw_fail(err, errlen, CW_EINVAL, "AWS_RETRY_MODE: \"%.40s\" is not "
			       "standard, adaptive or legacy", mode);
	if (n && cw_parse_i64(n, 1, 20, &x))
		return cw_fail(err, errlen, CW_EINVAL, "AWS_MAX_ATTEMPTS: must be a whole number "
			       "from 1 to 20, got \"%.40s\"", n);
	*max_attempts = (int)x;
	return 0;
}

/* ---- context and clients ---------------------------------------------------- */

int cw_aws_ctx_new(struct cw_aws_ctx **out, const struct cw_aws_opts *opts)
{
	struct cw_aws_ctx *ctx;
	const char *ca;
	int env_attempts = 0;

	*out = NULL;
	if (cw_http_global_init(NULL, 0) != 0)
		return CW_EHTTP;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return CW_ENOMEM;
	if (opts)
		ctx->opts = *opts;
	/* AWS_MAX_ATTEMPTS wins over the configured number, as in the SDKs */
	if (cw_aws_env_retry(&env_attempts, NULL, 0) == 0 && env_attempts > 0)
		ctx->opts.max_attempts = env_attempts;
	if (ctx->opts.max_attempts <= 0)
		ctx->opts.max_attempts = DEF_MAX_ATTEMPTS;
	ca = ctx->opts.ca_bundle && *ctx->opts.ca_bundle ? ctx->opts.ca_bundle
							 : env_nonempty("AWS_CA_BUNDLE");
	if (ca && !(ctx->ca_bundle = cw_strdup(ca))) {
		free(ctx);
		return CW_ENOMEM;
	}
	ctx->opts.ca_bundle = ctx->ca_bundle;
	cw_retry_quota_init(&ctx->quota, CW_RETRY_QUOTA_MAX);
	cw_membudget_init(&ctx->budget, ctx->opts.response_memory);
	/* one response never needs more than the whole bound */
	if (ctx->opts.response_memory &&
	    (ctx->opts.max_response == 0 || ctx->opts.max_response > ctx->opts.response_memory))
		ctx->opts.max_response = ctx->opts.response_memory;
	pthread_mutex_init(&ctx->mu, NULL);
	pthread_mutex_init(&ctx->parse_mu, NULL);
	pthread_cond_init(&ctx->parse_cv, NULL);
	atomic_init(&ctx->interrupted, 0);
	*out = ctx;
	return 0;
}

void cw_aws_ctx_free(struct cw_aws_ctx *ctx)
{
	if (!ctx)
		return;
	cw_retry_quota_release(&ctx->quota);
	pthread_mutex_destroy(&ctx->mu);
	pthread_mutex_destroy(&ctx->parse_mu);
	pthread_cond_destroy(&ctx->parse_cv);
	free(ctx->ca_bundle);
	free(ctx);
}

void cw_aws_ctx_stats(struct cw_aws_ctx *ctx, struct cw_aws_stats *out)
{
	pthread_mutex_lock(&ctx->mu);
	*out = ctx->stats;
	pthread_mutex_unlock(&ctx->mu);
}

static bool interrupted(struct cw_aws_ctx *ctx);

/*
 * What jansson allocates per value, measured on Debian 12's libjansson4
 * (a value in an array, with malloc's overhead): a number ~40 bytes, a
 * string ~90 plus its text, an array ~140, an object ~240 (its hashtable).
 * Counting every ',' '[' '{' ':' of the text (inside strings too) gives
 * an upper bound without parsing.
 */
size_t cw_json_parse_cost(const char *body, size_t len)
{
	size_t cost = len + 4096;

	for (size_t i = 0; i < len; i++) {
		switch (body[i]) {
		case '{': cost += 256; break;
		case '[': cost += 160; break;
		case ',': case ':': cost += 96; break;
		default: break;
		}
	}
	return cost;
}

int cw_aws_parse_memory_take(struct cw_aws_ctx *ctx, size_t bytes, const atomic_bool *stop)
{
	size_t max = ctx->opts.response_memory;

	if (!max)
		return 0;
	if (bytes > max)
		return CW_ETOOBIG;
	pthread_mutex_lock(&ctx->parse_mu);
	while (ctx->parse_used + bytes > max) {
		struct timespec ts;

		if ((stop && atomic_load(stop)) || interrupted(ctx)) {
			pthread_mutex_unlock(&ctx->parse_mu);
			return CW_EINTR;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&ctx->parse_cv, &ctx->parse_mu, &ts);
	}
	ctx->parse_used += bytes;
	pthread_mutex_unlock(&ctx->parse_mu);
	return 0;
}

void cw_aws_parse_memory_give(struct cw_aws_ctx *ctx, size_t bytes)
{
	if (!ctx->opts.response_memory || !bytes)
		return;
	pthread_mutex_lock(&ctx->parse_mu);
	ctx->parse_used = bytes > ctx->parse_used ? 0 : ctx->parse_used - bytes;
	pthread_cond_broadcast(&ctx->parse_cv);
	pthread_mutex_unlock(&ctx->parse_mu);
}

size_t cw_aws_ctx_peak_response_memory(struct cw_aws_ctx *ctx)
{
	return atomic_load(&ctx->budget.peak);
}

void cw_aws_interrupt(struct cw_aws_ctx *ctx)
{
	atomic_store(&ctx->interrupted, 1);
}

static bool interrupted(struct cw_aws_ctx *ctx)
{
	return atomic_load(&ctx->interrupted) != 0;
}

static bool http_cancelled(void *arg)
{
	return interrupted(arg);
}

int cw_aws_client_new(struct cw_aws_client **out, struct cw_aws_ctx *ctx)
{
	struct cw_aws_client *c;
	struct cw_http_opts ho;
	int rc;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return CW_ENOMEM;
	memset(&ho, 0, sizeof(ho));
	ho.connect_timeout_ms = ctx->opts.connect_timeout_ms;
	ho.total_timeout_ms = ctx->opts.total_timeout_ms;
	ho.low_speed_bps = ctx->opts.low_speed_bps;
	ho.low_speed_secs = ctx->opts.low_speed_secs;
	ho.max_response = ctx->opts.max_response;
	ho.budget = &ctx->budget;
	ho.ca_bundle = ctx->ca_bundle;
	ho.cancelled = http_cancelled;
	ho.cancel_arg = ctx;
	rc = cw_http_new(&c->http, &ho, NULL, 0);
	if (rc) {
		free(c);
		return rc;
	}
	c->ctx = ctx;
	if (getrandom(&c->rng, sizeof(c->rng), GRND_NONBLOCK) != (ssize_t)sizeof(c->rng)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		c->rng = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uintptr_t)c;
	}
	*out = c;
	return 0;
}

void cw_aws_client_free(struct cw_aws_client *c)
{
	if (!c)
		return;
	cw_http_free(c->http);
	free(c);
}

/* ---- responses --------------------------------------------------------------- */

void cw_aws_response_init(struct cw_aws_response *r)
{
	memset(r, 0, sizeof(*r));
	cw_buf_init(&r->body, 0);
}

void cw_aws_response_release(struct cw_aws_response *r)
{
	cw_buf_release(&r->body);
}

/* ---- injectable clock, sleep, randomness ------------------------------------ */

static int64_t wall_ms(const struct cw_aws_ctx *ctx)
{
	struct timespec ts;

	if (ctx->opts.now_ms)
		return ctx->opts.now_ms(ctx->opts.env);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Monotonic ms for the throttle window (the injected clock when set). */
static int64_t mono_ms(const struct cw_aws_ctx *ctx)
{
	struct timespec ts;

	if (ctx->opts.now_ms)
		return ctx->opts.now_ms(ctx->opts.env);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double client_rand01(struct cw_aws_client *c)
{
	uint64_t z;

	if (c->ctx->opts.rand01)
		return c->ctx->opts.rand01(c->ctx->opts.env);
	z = (c->rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0; /* [0, 1) */
}

/* Wait ms, or less when interrupted; returns CW_EINTR then. */
static int backoff_sleep(struct cw_aws_ctx *ctx, int64_t ms)
{
	if (ctx->opts.sleep_ms) {
		if (ms > 0)
			ctx->opts.sleep_ms(ctx->opts.env, ms);
		return interrupted(ctx) ? CW_EINTR : 0;
	}
	while (ms > 0 && !interrupted(ctx)) {
		int64_t slice = ms < SLEEP_SLICE_MS ? ms : SLEEP_SLICE_MS;
		struct timespec ts = { (time_t)(slice / 1000), (long)(slice % 1000) * 1000000L };

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !interrupted(ctx))
			;
		ms -= slice;
	}
	return interrupted(ctx) ? CW_EINTR : 0;
}

/* ---- the call ----------------------------------------------------------------- */

size_t cw_aws_ctx_actions(struct cw_aws_ctx *ctx, struct cw_aws_action_stats *out,
			  size_t max)
{
	size_t n;

	pthread_mutex_lock(&ctx->mu);
	n = ctx->nactions < max ? ctx->nactions : max;
	memcpy(out, ctx->actions, n * sizeof(*out));
	pthread_mutex_unlock(&ctx->mu);
	return n;
}

/* One attempt of action (under no lock): counted per action. */
static void count_action(struct cw_aws_ctx *ctx, const char *action, bool throttled)
{
	size_t i;

	pthread_mutex_lock(&ctx->mu);
	for (i = 0; i < ctx->nactions; i++)
		if (strcmp(ctx->actions[i].action, action) == 0)
			break;
	if (i == ctx->nactions && i < CW_AWS_MAX_ACTIONS) {
		cw_strlcpy(ctx->actions[i].action, action, sizeof(ctx->actions[i].action));
		ctx->nactions++;
	}
	if (i < ctx->nactions) {
		ctx->actions[i].attempts++;
		ctx->actions[i].throttled += throttled;
	}
	pthread_mutex_unlock(&ctx->mu);
}

static void count(struct cw_aws_ctx *ctx, uint64_t attempts, uint64_t retries,
		  uint64_t throttled, uint64_t failed)
{
	pthread_mutex_lock(&ctx->mu);
	ctx->stats.attempts += attempts;
	ctx->stats.retries += retries;
	ctx->stats.throttled += throttled;
	ctx->stats.failed += failed;
	pthread_mutex_unlock(&ctx->mu);
}

/* force: refresh after ExpiredToken; refused is the key AWS refused. */
static int get_creds_checked(cw_creds_fn get_creds, void *creds_ctx, bool force,
			     const char *refused, struct cw_creds *out, char *err, size_t errlen)
{
	char why[CW_ERRBUF];
	int rc;

	memset(out, 0, sizeof(*out));
	if (force && refused)
		cw_strlcpy(out->access_key, refused, sizeof(out->access_key));
	why[0] = '\0';
	if (!get_creds)
		return cw_fail(err, errlen, CW_EAUTH, "no credentials for a signed call");
	rc = get_creds(creds_ctx, force, out, why, sizeof(why));
	if (rc == 0 && (!out->access_key[0] || !out->secret_key[0])) {
		cw_creds_release(out);
		return cw_fail(err, errlen, CW_EAUTH, "credentials without an access key");
	}
	if (rc) {
		cw_creds_release(out);
		return cw_fail(err, errlen, CW_EAUTH, "%s", why[0] ? why : "no credentials");
	}
	return 0;
}

/* Everything about the request that does not change between attempts. */
struct call_plan {
	char url[4200];
	char host[300];   /* Host header value: host[:port] */
	char path[2100];  /* the path as sent and signed */
	const char *method;
	const char *ctype;
	const char *what;
	char action[48];  /* "GetMetricData", "AssumeRole": for the counters */
};

static int plan_call(const struct cw_aws_request *req, struct call_plan *p,
		     char *err, size_t errlen)
{
	char host[256], path[1024];
	int port;
	size_t n;
	bool https;

	if (!req->endpoint || !req->service || !req->region)
		return cw_fail(err, errlen, CW_EINVAL,
			       "aws call without endpoint, service or region");
	if ((req->proto == CW_PROTO_JSON10 || req->proto == CW_PROTO_JSON11) &&
	    (!req->target || !*req->target))
		return cw_fail(err, errlen, CW_EINVAL, "json call without X-Amz-Target");
	if (req->proto == CW_PROTO_REST && (!req->path || req->path[0] != '/' ||
					    strlen(req->path) > 2000 ||
					    (req->query && strlen(req->query) > 2000)))
		return cw_fail(err, errlen, CW_EINVAL, "rest call without a path");
	if (cw_http_url_check(req->endpoint, false, host, sizeof(host), &port, path,
			      sizeof(path), err, errlen) != 0)
		return CW_EINVAL;
	https = cw_str_startswith(req->endpoint, "https:");
	n = strlen(path);
	while (n > 0 && path[n - 1] == '/')
		n--;
	path[n] = '\0';
	snprintf(p->path, sizeof(p->path), "%s%s", path,
		 req->proto == CW_PROTO_REST ? req->path : "/");
	n = strlen(req->endpoint);
	while (n > 0 && req->endpoint[n - 1] == '/')
		n--;
	if (n + 2 > sizeof(p->url))
		return cw_fail(err, errlen, CW_EINVAL, "endpoint url too long");
	if (req->proto == CW_PROTO_REST)
		snprintf(p->url, sizeof(p->url), "%.*s%s%s%s", (int)n, req->endpoint, req->path,
			 req->query && *req->query ? "?" : "", req->query ? req->query : "");
	else
		snprintf(p->url, sizeof(p->url), "%.*s/", (int)n, req->endpoint);
	p->method = req->proto == CW_PROTO_REST && req->method ? req->method : "POST";
	if (port > 0 && port != (https ? 443 : 80))
		snprintf(p->host, sizeof(p->host), strchr(host, ':') ? "[%s]:%d" : "%s:%d",
			 host, port);
	else
		snprintf(p->host, sizeof(p->host), strchr(host, ':') ? "[%s]" : "%s", host);
	p->ctype = req->proto == CW_PROTO_JSON10 ? "application/x-amz-json-1.0"
		   : req->proto == CW_PROTO_JSON11 ? "application/x-amz-json-1.1"
		   : req->proto == CW_PROTO_REST ? req->content_type
		   : "application/x-www-form-urlencoded; charset=utf-8";
	/* the action: X-Amz-Target's operation, or a Query body's Action= */
	if (req->proto == CW_PROTO_JSON10) {
		const char *dot = strrchr(req->target, '.');

		cw_strlcpy(p->action, dot ? dot + 1 : req->target, sizeof(p->action));
	} else {
		const char *b = req->body;
		size_t blen = b ? req->body_len : 0, k = 0;

		/* bounded by body_len: the body need not be terminated */
		for (size_t i = 0; i + 7 <= blen; i++) {
			if ((i == 0 || b[i - 1] == '&') && memcmp(b + i, "Action=", 7) == 0) {
				for (i += 7; k + 1 < sizeof(p->action) && i < blen && b[i] != '&'; i++)
					p->action[k++] = b[i];
				break;
			}
		}
		p->action[k] = '\0';
		if (!k)
			cw_strlcpy(p->action, req->service, sizeof(p->action));
	}
	for (char *c = p->action; *c; c++) /* a label value: keep it plain */
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_'))
			*c = '_';
	p->what = req->what;
	if (!p->what || !*p->what) {
		const char *dot = req->target ? strrchr(req->target, '.') : NULL;

		p->what = dot ? dot + 1 : req->service;
	}
	return 0;
}

/* One attempt: sign with the time now and send. */
static int attempt(struct cw_aws_client *c, const struct cw_aws_request *req,
		   const struct call_plan *p, const struct cw_creds *creds,
		   struct cw_http_response *hr, char *err, size_t errlen)
{
	struct cw_sig_header sh[3 + CW_AWS_MAX_EXTRA];
	struct cw_http_header hh[8 + CW_AWS_MAX_EXTRA];
	struct cw_sigv4_output so;
	struct cw_http_request hq;
	size_t ns = 0, nh = 0;
	bool signed_call = !req->unsigned_request;
	int rc;

	memset(&so, 0, sizeof(so));
	sh[ns++] = (struct cw_sig_header){ "Host", p->host };
	if (p->ctype)
		sh[ns++] = (struct cw_sig_header){ "Content-Type", p->ctype };
	if (req->proto == CW_PROTO_JSON10 || req->proto == CW_PROTO_JSON11)
		sh[ns++] = (struct cw_sig_header){ "X-Amz-Target", req->target };
	for (size_t i = 0; req->extra_headers && i < req->nextra_headers && i < CW_AWS_MAX_EXTRA;
	     i++)
		sh[ns++] = (struct cw_sig_header){ req->extra_headers[2 * i],
						   req->extra_headers[2 * i + 1] };
	for (size_t i = 0; i < ns; i++)
		hh[nh++] = (struct cw_http_header){ sh[i].name, sh[i].value };

	if (signed_call) {
		struct cw_sigv4_input in;

		memset(&in, 0, sizeof(in));
		in.method = p->method;
		in.path = p->path;
		in.query = req->proto == CW_PROTO_REST && req->query ? req->query : "";
		in.headers = sh;
		in.nheaders = ns;
		in.payload = req->body ? req->body : "";
		in.payload_len = req->body ? req->body_len : 0;
		in.region = req->region;
		in.service = req->service;
		in.time = wall_ms(c->ctx) / 1000;
		in.access_key = creds->access_key;
		in.secret_key = creds->secret_key;
		in.session_token = creds->session_token;
		in.normalize_path = req->proto != CW_PROTO_REST;
		in.sign_content_sha256 = req->proto == CW_PROTO_REST;
		in.sign_session_token = true;
		rc = cw_sigv4_sign(&in, &so, err, errlen);
		if (rc) {
			hr->xfer = CW_XFER_REFUSED; /* nothing was sent */
			return rc;
		}
		hh[nh++] = (struct cw_http_header){ "X-Amz-Date", so.amz_date };
		if (creds->session_token)
			hh[nh++] = (struct cw_http_header){ "X-Amz-Security-Token",
							    creds->session_token };
		if (in.sign_content_sha256)
			hh[nh++] = (struct cw_http_header){ "x-amz-content-sha256",
							    so.payload_hash };
		hh[nh++] = (struct cw_http_header){ "Authorization",
						    cw_buf_str(&so.authorization) };
	}

	memset(&hq, 0, sizeof(hq));
	hq.method = p->method;
	hq.url = p->url;
	hq.headers = hh;
	hq.nheaders = nh;
	hq.body = req->body;
	hq.body_len = req->body ? req->body_len : 0;
	/* web identity tokens go out, STS credentials come back */
	hq.secret_bodies = req->unsigned_request || strcmp(req->service, "sts") == 0;
	rc = cw_http_do(c->http, &hq, hr, err, errlen);
	if (signed_call)
		cw_sigv4_output_release(&so);
	return rc;
}

static void log_attempt(const struct call_plan *p, const struct cw_http_response *hr,
			const char *code, int n)
{
	if (cw_log_get_level() < CW_LOG_VERBOSE)
		return;
	if (hr->xfer != CW_XFER_OK)
		cw_log_verbose("%s %s %s -> %s (attempt %d, %lld ms)", p->method, p->url, p->what,
			       cw_xfer_name(hr->xfer), n, (long long)hr->elapsed_ms);
	else
		cw_log_verbose("%s %s %s -> %ld%s%s (attempt %d, %lld ms)", p->method, p->url,
			       p->what,
			       hr->status, code[0] ? " " : "", code, n,
			       (long long)hr->elapsed_ms);
}

/* The final failure: AWS's answer into resp, a one-line summary into err. */
static int stop_error(const struct call_plan *p, int rc, const struct cw_http_response *hr,
		      struct cw_awserr *ae, const struct cw_retry_decision *d,
		      const struct cw_creds *creds, const char *herr,
		      struct cw_aws_response *resp, char *err, size_t errlen)
{
	const char *why = d->cls != CW_RETRY_NONE ? d->why : "";
	const char *sep = why[0] ? "; " : "";
	const char *plural = resp->attempts == 1 ? "attempt" : "attempts";

	if (rc != 0)
		return cw_fail(err, errlen, hr->xfer == CW_XFER_TOOBIG ? CW_ETOOBIG : CW_EHTTP,
			       "%s: %s (%d %s%s%s)", p->what, herr, resp->attempts, plural, sep,
			       why);
	/* the answer is outside text: a server or proxy may echo what it was
	 * sent (the token, the Authorization header) */
	cw_redact_value(ae->code, creds->session_token);
	cw_redact_value(ae->code, creds->secret_key);
	cw_redact_value(ae->message, creds->session_token);
	cw_redact_value(ae->message, creds->secret_key);
	cw_redact_inplace(ae->code, sizeof(ae->code));
	cw_redact_inplace(ae->message, sizeof(ae->message));
	cw_strlcpy(resp->code, ae->code, sizeof(resp->code));
	if (ae->message[0])
		cw_strlcpy(resp->message, ae->message, sizeof(resp->message));
	else if (!ae->code[0])
		snprintf(resp->message, sizeof(resp->message),
			 "http status %ld without an aws error code", hr->status);
	cw_strlcpy(resp->request_id, ae->request_id, sizeof(resp->request_id));
	return cw_fail(err, errlen, CW_EAWS, "%s: %s%s%s (http %ld, %d %s%s%s)", p->what,
		       ae->code[0] ? ae->code : "error", resp->message[0] ? ": " : "",
		       resp->message, hr->status, resp->attempts, plural, sep, why);
}

int cw_aws_call(struct cw_aws_client *c, const struct cw_aws_request *req,
		cw_creds_fn get_creds, void *creds_ctx,
		struct cw_aws_response *resp, char *err, size_t errlen)
{
	struct cw_aws_ctx *ctx = c->ctx;
	struct cw_retry_policy pol = { ctx->opts.max_attempts, 0, false,
				       req->pacer ? ctx->opts.throttle_window_ms : 0 };
	int64_t first_ms = 0;
	bool started = false;
	struct cw_retry_state st;
	struct cw_retry_decision d;
	struct cw_http_response hr;
	struct cw_creds creds;
	struct call_plan plan;
	char herr[CW_ERRBUF];
	int rc;

	resp->status = 0;
	resp->code[0] = resp->message[0] = resp->request_id[0] = resp->etag[0] = '\0';
	resp->attempts = 0;
	cw_buf_reset(&resp->body);
	memset(&creds, 0, sizeof(creds));
	cw_http_response_init(&hr);
	cw_retry_state_init(&st);

	rc = plan_call(req, &plan, err, errlen);
	if (rc)
		goto out;
	if (!req->unsigned_request) {
		rc = get_creds_checked(get_creds, creds_ctx, false, NULL, &creds, err, errlen);
		if (rc)
			goto out;
	}
	for (;;) {
		struct cw_awserr ae;
		bool ok;

		if (interrupted(ctx)) {
			rc = cw_fail(err, errlen, CW_EINTR, "%s: interrupted", plan.what);
			goto out;
		}
		if (req->pacer && req->pacer->wait && req->pacer->wait(req->pacer->env) != 0) {
			rc = cw_fail(err, errlen, CW_EINTR, "%s: interrupted", plan.what);
			goto out;
		}
		if (!started) {
			first_ms = mono_ms(ctx);
			started = true;
		}
		herr[0] = '\0';
		rc = attempt(c, req, &plan, &creds, &hr, herr, sizeof(herr));
		if (rc == CW_EINTR) {
			rc = cw_fail(err, errlen, CW_EINTR, "%s: interrupted", plan.what);
			goto out;
		}
		if (rc && hr.xfer == CW_XFER_REFUSED) {
			/* nothing was sent: a local problem, not worth a retry */
			rc = cw_fail(err, errlen, rc, "%s: %s", plan.what, herr);
			goto out;
		}
		resp->attempts++;
		resp->status = hr.status;
		ok = rc == 0 && hr.status >= 200 && hr.status < 300;
		memset(&ae, 0, sizeof(ae));
		if (rc == 0 && !ok) {
			/* before any field is cut to size: an echoed secret goes
			 * whole, not as a prefix that no longer matches */
			if (hr.body.data) {
				cw_redact_value(hr.body.data, creds.session_token);
				cw_redact_value(hr.body.data, creds.secret_key);
				hr.body.len = strlen(hr.body.data); /* no NUL in an error text */
			}
			cw_awserr_parse(hr.body.data, hr.body.len, hr.content_type,
					hr.query_error, &ae);
			if (hr.request_id[0])
				cw_strlcpy(ae.request_id, hr.request_id, sizeof(ae.request_id));
		}
		log_attempt(&plan, &hr, ae.code, resp->attempts);
		if (req->pacer && req->pacer->feedback && rc == 0)
			req->pacer->feedback(req->pacer->env,
					     cw_retry_classify(hr.status, ae.code, hr.xfer) ==
					     CW_RETRY_THROTTLING);
		count_action(ctx, plan.action, !ok && cw_retry_classify(hr.status, ae.code, hr.xfer)
						      == CW_RETRY_THROTTLING);
		if (ok) {
			count(ctx, 1, 0, 0, 0);
			cw_retry_on_success(&st, &ctx->quota);
			cw_strlcpy(resp->request_id, hr.request_id, sizeof(resp->request_id));
			cw_strlcpy(resp->etag, hr.etag, sizeof(resp->etag));
			rc = 0;
			goto out;
		}
		st.elapsed_ms = mono_ms(ctx) - first_ms;
		cw_retry_decide(&st, &pol, &ctx->quota, hr.status, ae.code, hr.xfer,
				client_rand01(c), cw_retry_after_parse(hr.retry_after), &d);
		if (d.action == CW_RETRY_REFRESH && req->unsigned_request)
			d.action = CW_RETRY_STOP;
		count(ctx, 1, d.action != CW_RETRY_STOP, d.cls == CW_RETRY_THROTTLING,
		      d.action == CW_RETRY_STOP);
		if (d.action == CW_RETRY_STOP) {
			rc = stop_error(&plan, rc, &hr, &ae, &d, &creds, herr, resp, err, errlen);
			goto out;
		}
		if (d.action == CW_RETRY_REFRESH) {
			char refused[sizeof(creds.access_key)];

			cw_log_verbose("%s: %s, refreshing credentials", plan.what, ae.code);
			cw_strlcpy(refused, creds.access_key, sizeof(refused));
			cw_creds_release(&creds);
			rc = get_creds_checked(get_creds, creds_ctx, true, refused, &creds, err,
					       errlen);
			if (rc)
				goto out;
			continue;
		}
		if (backoff_sleep(ctx, d.delay_ms) != 0) {
			rc = cw_fail(err, errlen, CW_EINTR, "%s: interrupted", plan.what);
			goto out;
		}
	}
out:
	/* the last answer, whatever it was, is the caller's */
	cw_buf_release(&resp->body);
	resp->body = hr.body;
	if (rc == CW_EINTR || rc == CW_EAUTH)
		count(ctx, 0, 0, 0, 1);
	cw_creds_release(&creds);
	return rc;
}
