/*
 * invsettings.c - the inventory's settings sections: `reporting:`, `aws:`,
 * `prices:` and `defaults.metrics`, each with its built-in defaults.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "invpriv.h"
#include "strutil.h"
#include "units.h"
#include "validate.h"

/* ---- reporting ----------------------------------------------------------- */

void cw_inv_reporting_defaults(struct cw_reporting *r)
{
	memset(r, 0, sizeof(*r));
	r->slack_enabled = true;
	r->slack_max_findings = 10;
	r->cooldown = 7 * 86400;
	r->growth_factor = 2.0;
	r->publish_expiry = 7 * 86400;
}

void cw_inv_reporting_release(struct cw_reporting *r)
{
	free(r->output_dir);
	free(r->formats);
	free(r->slack_webhook_env);
	free(r->state_file);
	free(r->lock_file);
	free(r->report_url);
	free(r->publish_bucket);
	free(r->publish_prefix);
	free(r->publish_region);
	free(r->metrics_file);
	free(r->heartbeat_url_env);
	memset(r, 0, sizeof(*r));
}

static void rep_output_dir(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			   const char *path, void *obj)
{
	cw_inv_str(c, v, path, &((struct cw_reporting *)obj)->output_dir);
}

/* Where Slack readers open the reports: an https URL, no spaces, no | < >. */
static void rep_report_url(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			   const char *path, void *obj)
{
	struct cw_reporting *r = obj;

	cw_inv_str(c, v, path, &r->report_url);
	if (r->report_url && (strncmp(r->report_url, "https://", 8) != 0 ||
			      strlen(r->report_url) == 8 ||
			      strpbrk(r->report_url, " \t|<>\"'") != NULL))
		cw_inv_diag(c, v, path, "not an https URL (the folder that serves report.html, "
			    "e.g. https://reports.example.com/cwsweep)");
}

/* s3://BUCKET/PREFIX/: where the run's reports are uploaded. */
static void rep_publish(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
			void *obj)
{
	struct cw_reporting *r = obj;
	const char *s, *slash;
	char *bucket;
	size_t n;

	if (!cw_inv_scalar(c, v, path))
		return;
	s = v->str;
	if (strncmp(s, "s3://", 5) != 0) {
		cw_inv_diag(c, v, path, "want s3://BUCKET/PREFIX/ (where the reports are "
			    "uploaded), got \"%.80s\"", s);
		return;
	}
	s += 5;
	slash = strchr(s, '/');
	n = slash ? (size_t)(slash - s) : strlen(s);
	bucket = cw_strndup(s, n);
	if (!bucket) {
		c->oom = true;
		return;
	}
	if (cw_check_bucket_name(bucket)) {
		cw_inv_diag(c, v, path, "bucket \"%s\": %s", bucket, cw_check_bucket_name(bucket));
		free(bucket);
		return;
	}
	free(r->publish_bucket);
	r->publish_bucket = bucket;
	s = slash ? slash + 1 : "";
	n = strlen(s);
	while (n && s[n - 1] == '/')
		n--;
	free(r->publish_prefix);
	r->publish_prefix = cw_strndup(s, n);
	if (!r->publish_prefix)
		c->oom = true;
}

static void rep_publish_region(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			       const char *path, void *obj)
{
	struct cw_reporting *r = obj;

	cw_inv_str(c, v, path, &r->publish_region);
	if (r->publish_region && cw_check_region(r->publish_region))
		cw_inv_diag(c, v, path, "%s", cw_check_region(r->publish_region));
}

static void rep_publish_expiry(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			       const char *path, void *obj)
{
	/* S3 accepts at most seven days for a presigned URL */
	cw_inv_duration(c, v, path, 60, 7 * 86400, &((struct cw_reporting *)obj)->publish_expiry);
}

static void rep_state_file(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			   const char *path, void *obj)
{
	cw_inv_str(c, v, path, &((struct cw_reporting *)obj)->state_file);
}

static void rep_lock_file(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			  const char *path, void *obj)
{
	cw_inv_str(c, v, path, &((struct cw_reporting *)obj)->lock_file);
}

static void rep_metrics_file(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			     const char *path, void *obj)
{
	cw_inv_str(c, v, path, &((struct cw_reporting *)obj)->metrics_file);
}

/* The NAME of a variable holding a URL, never the URL (it may be a secret). */
static void env_name(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		     char **dst, const char *example)
{
	const char *s;

	if (!cw_inv_scalar(c, v, path))
		return;
	s = v->str;
	if (strstr(s, "://") || strchr(s, '/')) {
		cw_inv_diag(c, v, path, "give the NAME of an environment variable that holds "
			    "the URL (e.g. %s), never the URL: it is a secret and must stay "
			    "out of this file", example);
		return;
	}
	if (!cw_env_name_ok(s)) {
		cw_inv_diag(c, v, path, "not an environment variable name (want e.g. %s)",
			    example);
		return;
	}
	cw_inv_str(c, v, path, dst);
}

static void rep_heartbeat_env(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			      const char *path, void *obj)
{
	env_name(c, v, path, &((struct cw_reporting *)obj)->heartbeat_url_env,
		 "CWSWEEP_HEARTBEAT_URL");
}

static const char *check_format(const char *s)
{
	if (strcmp(s, "md") && strcmp(s, "csv") && strcmp(s, "json") && strcmp(s, "html") &&
	    strcmp(s, "xlsx"))
		return "unknown report format (want md, csv, json, html or xlsx)";
	return NULL;
}

static void rep_formats(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			const char *path, void *obj)
{
	struct cw_reporting *r = obj;
	char **list = NULL;
	size_t n = 0;
	char joined[128] = "";
	size_t used = 0;

	if (!cw_inv_str_list(c, v, path, check_format, "[md, csv, json, html, xlsx]", &list, &n))
		return;
	/* a handful of short names (repeats included) fit */
	for (size_t i = 0; i < n && used < sizeof(joined); i++) {
		int k = snprintf(joined + used, sizeof(joined) - used, "%s%s", i ? "," : "",
				 list[i]);

		if (k > 0)
			used += (size_t)k;
	}
	cw_inv_free_strv(list, n);
	free(r->formats);
	r->formats = cw_strdup(joined);
	if (!r->formats)
		c->oom = true;
}

static void rep_cooldown(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			 const char *path, void *obj)
{
	cw_inv_duration(c, v, path, 0, 365 * 86400, &((struct cw_reporting *)obj)->cooldown);
}

static void rep_growth(struct cw_inv_ctx *c, const struct cw_yt_node *v,
		       const char *path, void *obj)
{
	cw_inv_number(c, v, path, 1.0, 1000.0, &((struct cw_reporting *)obj)->growth_factor);
}

static void slack_enabled(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			  const char *path, void *obj)
{
	cw_inv_bool(c, v, path, &((struct cw_reporting *)obj)->slack_enabled);
}

static void slack_webhook_env(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			      const char *path, void *obj)
{
	struct cw_reporting *r = obj;
	const char *s;

	if (!cw_inv_scalar(c, v, path))
		return;
	s = v->str;
	/* never echo the value: it might be the secret URL itself */
	if (strstr(s, "://") || strchr(s, '/')) {
		cw_inv_diag(c, v, path, "give the NAME of an environment variable that holds "
			    "the webhook URL (e.g. SLACK_WEBHOOK_URL), never the URL: it is a "
			    "secret and must stay out of this file");
		return;
	}
	if (!cw_env_name_ok(s)) {
		cw_inv_diag(c, v, path, "not an environment variable name (want e.g. "
			    "SLACK_WEBHOOK_URL)");
		return;
	}
	cw_inv_str(c, v, path, &r->slack_webhook_env);
}

static void slack_max_findings(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			       const char *path, void *obj)
{
	long long x;

	/* a Slack message holds at most 50 blocks; a few are headers */
	if (cw_inv_int(c, v, path, 1, 40, &x))
		((struct cw_reporting *)obj)->slack_max_findings = (size_t)x;
}

static const struct cw_inv_key slack_keys[] = {
	{ "enabled", slack_enabled, false },
	{ "webhook_env", slack_webhook_env, false },
	{ "max_findings", slack_max_findings, false },
	{ NULL, NULL, false },
};

static void rep_slack(struct cw_inv_ctx *c, const struct cw_yt_node *v,
		      const char *path, void *obj)
{
	cw_inv_walk(c, v, path, slack_keys, obj);
}

static const struct cw_inv_key reporting_keys[] = {
	{ "output_dir", rep_output_dir, false },
	{ "formats", rep_formats, false },
	{ "slack", rep_slack, false },
	{ "state_file", rep_state_file, false },
	{ "cooldown", rep_cooldown, false },
	{ "growth_factor", rep_growth, false },
	{ "lock_file", rep_lock_file, false },
	{ "report_url", rep_report_url, false },
	{ "publish", rep_publish, false },
	{ "publish_region", rep_publish_region, false },
	{ "publish_link_expiry", rep_publish_expiry, false },
	{ "metrics_file", rep_metrics_file, false },
	{ "heartbeat_url_env", rep_heartbeat_env, false },
	{ NULL, NULL, false },
};

void cw_inv_reporting_parse(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			    const char *path, struct cw_reporting *r)
{
	cw_inv_walk(c, v, path, reporting_keys, r);
}

/* ---- aws ----------------------------------------------------------------- */

void cw_inv_aws_defaults(struct cw_aws_settings *a)
{
	memset(a, 0, sizeof(*a));
	a->gmd_tps = 40;
	a->lm_tps = 20;
	a->sts_tps = 100;
	a->max_attempts = 3;
	a->connect_timeout_s = 10;
	a->request_timeout_s = 60;
	a->response_memory_mb = 256;
	a->throttle_window_s = 300;
}

void cw_inv_aws_release(struct cw_aws_settings *a)
{
	free(a->endpoint_url);
	free(a->sts_region);
	memset(a, 0, sizeof(*a));
}

static bool is_loopback_host(const char *h, size_t n)
{
	if (n == 9 && strncmp(h, "localhost", 9) == 0)
		return true;
	if (n == 5 && strncmp(h, "[::1]", 5) == 0)
		return true;
	if (n >= 9 && strncmp(h, "127.", 4) == 0)
		return strspn(h, "0123456789.") >= n;
	return false;
}

/* Why url is not an endpoint URL, or NULL.  Never quotes the URL. */
static const char *check_endpoint(const char *url)
{
	const char *host, *end;
	size_t n;
	bool http;

	if (strncmp(url, "https://", 8) == 0) {
		http = false;
		host = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		http = true;
		host = url + 7;
	} else {
		return "must start with https:// (or http:// for a loopback test endpoint)";
	}
	n = strcspn(host, "/?#");
	if (memchr(host, '@', n))
		return "must not hold a user name or password";
	if (strpbrk(host, "?#"))
		return "must not have a query or fragment";
	if (strpbrk(host, " \t\r\n"))
		return "must not contain spaces";
	if (host[0] == '[') {
		end = memchr(host, ']', n);
		if (!end)
			return "has an unclosed [ in the host";
		end++;
	} else {
		end = memchr(host, ':', n);
		if (!end)
			end = host + n;
	}
	if (end == host)
		return "has no host name";
	if (*end == ':') {
		long long port;
		size_t pl = n - (size_t)(end + 1 - host);
		char buf[8];

		if (pl == 0 || pl >= sizeof(buf))
			return "has a bad port";
		memcpy(buf, end + 1, pl);
		buf[pl] = '\0';
		if (cw_parse_i64(buf, 1, 65535, &port))
			return "has a bad port";
	}
	if (http && !is_loopback_host(host, (size_t)(end - host)))
		return "plain http is allowed only for a loopback host (127.0.0.1, ::1, "
		       "localhost); use https";
	return NULL;
}

static void aws_endpoint(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			 const char *path, void *obj)
{
	const char *why;

	if (!cw_inv_scalar(c, v, path))
		return;
	why = check_endpoint(v->str);
	if (why) {
		cw_inv_diag(c, v, path, "%s", why);
		return;
	}
	cw_inv_str(c, v, path, &((struct cw_aws_settings *)obj)->endpoint_url);
}

static void aws_sts_region(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			   const char *path, void *obj)
{
	cw_inv_region(c, v, path, &((struct cw_aws_settings *)obj)->sts_region);
}

static void aws_jobs(struct cw_inv_ctx *c, const struct cw_yt_node *v,
		     const char *path, void *obj)
{
	long long x;

	if (cw_inv_int(c, v, path, 1, 256, &x))
		((struct cw_aws_settings *)obj)->jobs = (int)x;
}

static void aws_attempts(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			 const char *path, void *obj)
{
	long long x;

	if (cw_inv_int(c, v, path, 1, 10, &x))
		((struct cw_aws_settings *)obj)->max_attempts = (int)x;
}

static void aws_connect_timeout(struct cw_inv_ctx *c, const struct cw_yt_node *v,
				const char *path, void *obj)
{
	int64_t x;

	if (cw_inv_duration(c, v, path, 1, 300, &x))
		((struct cw_aws_settings *)obj)->connect_timeout_s = (int)x;
}

static void aws_request_timeout(struct cw_inv_ctx *c, const struct cw_yt_node *v,
				const char *path, void *obj)
{
	int64_t x;

	if (cw_inv_duration(c, v, path, 1, 3600, &x))
		((struct cw_aws_settings *)obj)->request_timeout_s = (int)x;
}

static void aws_response_memory(struct cw_inv_ctx *c, const struct cw_yt_node *v,
				const char *path, void *obj)
{
	long long x;

	if (cw_inv_int(c, v, path, 16, 65536, &x))
		((struct cw_aws_settings *)obj)->response_memory_mb = (int)x;
}

static void aws_throttle_window(struct cw_inv_ctx *c, const struct cw_yt_node *v,
				const char *path, void *obj)
{
	int64_t x;

	if (cw_inv_duration(c, v, path, 0, 86400, &x))
		((struct cw_aws_settings *)obj)->throttle_window_s = (int)x;
}

/* Upper bounds: the AWS quotas per account and region (GetMetricData 50,
 * ListMetrics 25); STS is far higher, 100 keeps a run polite. */
static void rl_gmd(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		   void *obj)
{
	double x;

	if (cw_inv_number(c, v, path, 0.01, 50, &x))
		((struct cw_aws_settings *)obj)->gmd_tps = x;
}

static void rl_lm(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		  void *obj)
{
	double x;

	if (cw_inv_number(c, v, path, 0.01, 25, &x))
		((struct cw_aws_settings *)obj)->lm_tps = x;
}

static void rl_sts(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		   void *obj)
{
	double x;

	/* AWS allows 600 STS requests a second per account and region */
	if (cw_inv_number(c, v, path, 0.01, 600, &x))
		((struct cw_aws_settings *)obj)->sts_tps = x;
}

static const struct cw_inv_key rate_keys[] = {
	{ "get_metric_data_tps", rl_gmd, false },
	{ "list_metrics_tps", rl_lm, false },
	{ "sts_tps", rl_sts, false },
	{ NULL, NULL, false },
};

static void aws_rate_limits(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			    const char *path, void *obj)
{
	cw_inv_walk(c, v, path, rate_keys, obj);
}

static const struct cw_inv_key aws_keys[] = {
	{ "endpoint_url", aws_endpoint, false },
	{ "sts_region", aws_sts_region, false },
	{ "jobs", aws_jobs, false },
	{ "rate_limits", aws_rate_limits, false },
	{ "max_attempts", aws_attempts, false },
	{ "connect_timeout", aws_connect_timeout, false },
	{ "request_timeout", aws_request_timeout, false },
	{ "response_memory_mb", aws_response_memory, false },
	{ "throttle_window", aws_throttle_window, false },
	{ NULL, NULL, false },
};

void cw_inv_aws_parse(struct cw_inv_ctx *c, const struct cw_yt_node *v,
		      const char *path, struct cw_aws_settings *a)
{
	const struct cw_yt_node *ct = cw_yt_get(v, "connect_timeout");
	const struct cw_yt_node *rt = cw_yt_get(v, "request_timeout");
	char p[CW_INV_PATHLEN];

	if (!cw_inv_walk(c, v, path, aws_keys, a))
		return;
	if ((ct || rt) && a->connect_timeout_s > a->request_timeout_s)
		cw_inv_diag(c, rt ? rt : ct,
			    cw_inv_path(p, sizeof(p), path, rt ? "request_timeout" :
								  "connect_timeout"),
			    "request_timeout (%ds) is shorter than connect_timeout (%ds)",
			    a->request_timeout_s, a->connect_timeout_s);
}

/* ---- prices -------------------------------------------------------------- */

#define GB 1e9
#define TB 1e12

static void table_release(struct cw_price_table *t)
{
	free(t->region);
	free(t->tiers);
	memset(t, 0, sizeof(*t));
}

void cw_inv_prices_release(struct cw_inventory *inv)
{
	for (size_t i = 0; i < inv->nprices; i++)
		table_release(&inv->prices[i]);
	free(inv->prices);
	inv->prices = NULL;
	inv->nprices = 0;
}

int cw_inv_prices_defaults(struct cw_inventory *inv)
{
	/* S3 data transfer out to the internet, us-east-1 (DESIGN.md) */
	static const struct cw_price_tier tiers[] = {
		{ 10 * TB, 0.09 }, { 50 * TB, 0.085 }, { 150 * TB, 0.07 }, { INFINITY, 0.05 },
	};

	inv->prices = calloc(1, sizeof(*inv->prices));
	if (!inv->prices)
		return CW_ENOMEM;
	inv->prices[0].tiers = malloc(sizeof(tiers));
	if (!inv->prices[0].tiers) {
		free(inv->prices);
		inv->prices = NULL;
		return CW_ENOMEM;
	}
	memcpy(inv->prices[0].tiers, tiers, sizeof(tiers));
	inv->prices[0].ntiers = sizeof(tiers) / sizeof(tiers[0]);
	inv->prices[0].free_bytes = 100 * GB;
	inv->nprices = 1;
	inv->watch.metrics_per_config = CW_WATCH_METRICS_DEFAULT;
	inv->watch.usd_per_metric_month = CW_WATCH_USD_PER_METRIC_DEFAULT;
	return 0;
}

double cw_inventory_watch_usd(const struct cw_inventory *inv)
{
	if (!inv || inv->watch.metrics_per_config <= 0)
		return (double)CW_WATCH_METRICS_DEFAULT * CW_WATCH_USD_PER_METRIC_DEFAULT;
	return (double)inv->watch.metrics_per_config * inv->watch.usd_per_metric_month;
}

static void watch_metrics(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
			  void *obj)
{
	long long n;

	if (cw_inv_int(c, v, path, 1, 1000, &n))
		((struct cw_watch_price *)obj)->metrics_per_config = (int)n;
}

static void watch_usd(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		      void *obj)
{
	cw_inv_number(c, v, path, 0, 100, &((struct cw_watch_price *)obj)->usd_per_metric_month);
}

static const struct cw_inv_key watch_keys[] = {
	{ "metrics_per_config", watch_metrics, false },
	{ "usd_per_metric_month", watch_usd, false },
	{ NULL, NULL, false },
};

struct tier_parse {
	struct cw_price_tier *t;
	bool has_upto;
	const struct cw_yt_node *upto_at;
};

static void tier_upto(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		      void *obj)
{
	struct tier_parse *tp = obj;

	if (!cw_inv_bytes(c, v, path, 0, 1e21, &tp->t->upto_bytes))
		return;
	/* a bare number is bytes: "upto: 10000" meant as GB would be 10 kB */
	if (tp->t->upto_bytes < GB) {
		cw_inv_diag(c, v, path, "%.40s is less than 1 GB; a bare number is bytes, so "
			    "write a unit (e.g. 10TB)", v->str);
		return;
	}
	tp->has_upto = true;
	tp->upto_at = v;
}

static void tier_price(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		       void *obj)
{
	struct tier_parse *tp = obj;

	cw_inv_number(c, v, path, 0, 10, &tp->t->usd_per_gb);
}

static const struct cw_inv_key tier_keys[] = {
	{ "upto", tier_upto, false },
	{ "usd_per_gb", tier_price, true },
	{ NULL, NULL, false },
};

struct table_parse {
	struct cw_price_table *t;
	bool has_tiers;
};

static void table_free_gb(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
			  void *obj)
{
	struct table_parse *tp = obj;
	double gb;

	if (cw_inv_number(c, v, path, 0, 1e9, &gb))
		tp->t->free_bytes = gb * GB;
}

static void table_tiers(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
			void *obj)
{
	struct table_parse *tp = obj;
	struct cw_price_tier *tiers;
	char p[CW_INV_PATHLEN], pu[CW_INV_PATHLEN];
	double last = 0;
	bool ok = true;

	if (!cw_inv_list(c, v, path, "[{upto: 10TB, usd_per_gb: 0.09}, {usd_per_gb: 0.05}]"))
		return;
	if (v->n == 0) {
		cw_inv_diag(c, v, path, "must not be an empty list");
		return;
	}
	tiers = calloc(v->n, sizeof(*tiers));
	if (!tiers) {
		c->oom = true;
		return;
	}
	for (size_t i = 0; i < v->n; i++) {
		struct tier_parse t = { &tiers[i], false, NULL };
		size_t before = cw_inv_ndiags(c);

		cw_inv_index(p, sizeof(p), path, i);
		if (!cw_inv_walk(c, v->items[i], p, tier_keys, &t) || cw_inv_ndiags(c) > before) {
			ok = false;
			continue;
		}
		cw_inv_path(pu, sizeof(pu), p, "upto");
		if (i + 1 < v->n && !t.has_upto) {
			cw_inv_diag(c, v->items[i], p, "every tier but the last needs upto "
				    "(the monthly volume where the tier ends)");
			ok = false;
		} else if (i + 1 == v->n && t.has_upto) {
			cw_inv_diag(c, t.upto_at, pu, "the last tier has no upto: it covers "
				    "everything above the tier before it");
			ok = false;
		} else if (t.has_upto && tiers[i].upto_bytes <= last) {
			cw_inv_diag(c, t.upto_at, pu, "must be larger than the previous tier's "
				    "upto (volumes are cumulative)");
			ok = false;
		}
		if (t.has_upto)
			last = tiers[i].upto_bytes;
		else
			tiers[i].upto_bytes = INFINITY;
	}
	if (!ok) {
		free(tiers);
		return;
	}
	free(tp->t->tiers);
	tp->t->tiers = tiers;
	tp->t->ntiers = v->n;
	tp->has_tiers = true;
}

static const struct cw_inv_key table_keys[] = {
	{ "free_gb", table_free_gb, false },
	{ "tiers", table_tiers, true },
	{ NULL, NULL, false },
};

static void prices_default(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			   const char *path, void *obj)
{
	struct cw_inventory *inv = obj;
	struct cw_price_table t;
	struct table_parse tp = { &t, false };
	size_t before = cw_inv_ndiags(c);

	memset(&t, 0, sizeof(t));
	t.free_bytes = 100 * GB;
	cw_inv_walk(c, v, path, table_keys, &tp);
	if (!tp.has_tiers || cw_inv_ndiags(c) > before) {
		table_release(&t);
		return;
	}
	table_release(&inv->prices[0]);
	inv->prices[0] = t;
}

static void prices_regions(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			   const char *path, void *obj)
{
	struct cw_inventory *inv = obj;
	struct cw_price_table *grown;
	char p[CW_INV_PATHLEN];
	bool *dup = NULL;

	if (v->kind == CW_YT_MAP && v->n > 0) {
		dup = calloc(v->n, sizeof(*dup));
		grown = realloc(inv->prices, (inv->nprices + v->n) * sizeof(*grown));
		if (!dup || !grown) {
			free(dup);
			c->oom = true;
			return;
		}
		inv->prices = grown;
	}
	if (!cw_inv_map_keys(c, v, path, dup)) {
		free(dup);
		return;
	}
	for (size_t i = 0; v->kind == CW_YT_MAP && i < v->n; i++) {
		const struct cw_yt_pair *pr = &v->pairs[i];
		struct cw_price_table t;
		struct table_parse tp = { &t, false };
		size_t before = cw_inv_ndiags(c);

		if (dup[i])
			continue;
		cw_inv_path(p, sizeof(p), path, pr->key->str);
		memset(&t, 0, sizeof(t));
		t.free_bytes = inv->prices[0].free_bytes;
		if (!cw_inv_region(c, pr->key, p, &t.region))
			continue;
		cw_inv_walk(c, pr->val, p, table_keys, &tp);
		if (!tp.has_tiers || cw_inv_ndiags(c) > before) {
			table_release(&t);
			continue;
		}
		inv->prices[inv->nprices++] = t;
	}
	free(dup);
}

void cw_inv_prices_parse(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			 const char *path, struct cw_inventory *inv)
{
	/* default first, so that region tables inherit its free_gb */
	const struct cw_yt_node *d = cw_yt_get(v, "default");
	const struct cw_yt_node *r = cw_yt_get(v, "regions");
	const struct cw_yt_node *w = cw_yt_get(v, "request_metrics");
	static const struct cw_inv_key prices_keys[] = {
		{ "default", NULL, false }, { "regions", NULL, false },
		{ "request_metrics", NULL, false }, { NULL, NULL, false },
	};
	char p[CW_INV_PATHLEN];

	if (!cw_inv_walk(c, v, path, prices_keys, inv))
		return;
	if (d)
		prices_default(c, d, cw_inv_path(p, sizeof(p), path, "default"), inv);
	if (r)
		prices_regions(c, r, cw_inv_path(p, sizeof(p), path, "regions"), inv);
	if (w)
		cw_inv_walk(c, w, cw_inv_path(p, sizeof(p), path, "request_metrics"), watch_keys,
			    &inv->watch);
}

/* ---- metrics ------------------------------------------------------------- */

static void metric_release(struct cw_metric_def *m)
{
	free(m->namespace_);
	free(m->name);
	free(m->stat);
	free(m->unit);
	for (size_t i = 0; i < m->ndims; i++) {
		free(m->dims[i].name);
		free(m->dims[i].value);
	}
	free(m->dims);
	free(m->label);
	memset(m, 0, sizeof(*m));
}

void cw_inv_metrics_release(struct cw_inventory *inv)
{
	for (size_t i = 0; i < inv->nmetrics; i++)
		metric_release(&inv->metrics[i]);
	free(inv->metrics);
	inv->metrics = NULL;
	inv->nmetrics = 0;
}

static int metric_finish(struct cw_metric_def *m)
{
	m->per_bucket = false;
	for (size_t i = 0; i < m->ndims; i++)
		if (strstr(m->dims[i].value, "{bucket}"))
			m->per_bucket = true;
	free(m->label);
	m->label = cw_asprintf("%s %s %s", m->namespace_, m->name, m->stat);
	return m->label ? 0 : CW_ENOMEM;
}

int cw_inv_metrics_defaults(struct cw_inventory *inv)
{
	struct cw_metric_def *m = calloc(1, sizeof(*m));

	if (!m)
		return CW_ENOMEM;
	inv->metrics = m;
	inv->nmetrics = 1;
	m->namespace_ = cw_strdup("AWS/S3");
	m->name = cw_strdup("BytesDownloaded");
	m->stat = cw_strdup("Sum");
	m->unit = cw_strdup("Bytes");
	m->dims = calloc(2, sizeof(*m->dims));
	if (!m->namespace_ || !m->name || !m->stat || !m->unit || !m->dims)
		goto fail;
	m->ndims = 2;
	m->dims[0].name = cw_strdup("BucketName");
	m->dims[0].value = cw_strdup("{bucket}");
	m->dims[1].name = cw_strdup("FilterId");
	m->dims[1].value = cw_strdup("EntireBucket");
	if (!m->dims[0].name || !m->dims[0].value || !m->dims[1].name || !m->dims[1].value)
		goto fail;
	if (metric_finish(m))
		goto fail;
	return 0;
fail:
	cw_inv_metrics_release(inv);
	return CW_ENOMEM;
}

static const char *const units[] = {
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
	"Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
	"Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
	"Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
	"Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None", NULL
};

static const char *const basic_stats[] = {
	"Sum", "Average", "Minimum", "Maximum", "SampleCount", NULL
};

/* Sum | Average | Minimum | Maximum | SampleCount | pNN[.NN] | tmNN | wmNN |
 * tcNN | tsNN | IQM */
static bool stat_ok(const char *s)
{
	static const char *const pre[] = { "p", "tm", "wm", "tc", "ts", NULL };
	double x;
	char err[64];

	for (size_t i = 0; basic_stats[i]; i++)
		if (strcmp(s, basic_stats[i]) == 0)
			return true;
	if (strcmp(s, "IQM") == 0)
		return true;
	for (size_t i = 0; pre[i]; i++) {
		size_t n = strlen(pre[i]);

		if (strncmp(s, pre[i], n) == 0 && s[n] >= '0' && s[n] <= '9' &&
		    strspn(s + n, "0123456789.") == strlen(s + n) &&
		    cw_parse_number(s + n, &x, err, sizeof(err)) == 0 && x >= 0 && x <= 100)
			return true;
	}
	return false;
}

static bool text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static void m_namespace(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
			void *obj)
{
	struct cw_metric_def *m = obj;

	if (!cw_inv_scalar(c, v, path))
		return;
	if (!text_ok(v->str, 255) || strchr(v->str, ':')) {
		cw_inv_diag(c, v, path, "not a CloudWatch namespace (1 to 255 printable "
			    "characters, no colon; e.g. AWS/S3)");
		return;
	}
	cw_inv_str(c, v, path, &m->namespace_);
}

static void m_name(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		   void *obj)
{
	struct cw_metric_def *m = obj;

	if (!cw_inv_scalar(c, v, path))
		return;
	if (!text_ok(v->str, 255)) {
		cw_inv_diag(c, v, path, "not a metric name (1 to 255 printable characters)");
		return;
	}
	cw_inv_str(c, v, path, &m->name);
}

static void m_stat(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		   void *obj)
{
	const char *near;

	if (!cw_inv_scalar(c, v, path))
		return;
	if (!stat_ok(v->str)) {
		near = cw_closest(v->str, basic_stats);
		cw_inv_diag(c, v, path, "not a CloudWatch statistic (want Sum, Average, Minimum, "
			    "Maximum, SampleCount or a percentile like p99)%s%s%s",
			    near ? "; did you mean " : "", near ? near : "", near ? "?" : "");
		return;
	}
	cw_inv_str(c, v, path, &((struct cw_metric_def *)obj)->stat);
}

static void m_unit(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		   void *obj)
{
	const char *near;
	bool ok = false;

	if (!cw_inv_scalar(c, v, path))
		return;
	for (size_t i = 0; units[i] && !ok; i++)
		ok = strcmp(units[i], v->str) == 0;
	if (!ok) {
		near = cw_closest(v->str, units);
		cw_inv_diag(c, v, path, "not a CloudWatch unit (e.g. Bytes, Count, "
			    "Seconds)%s%s%s", near ? "; did you mean " : "", near ? near : "",
			    near ? "?" : "");
		return;
	}
	cw_inv_str(c, v, path, &((struct cw_metric_def *)obj)->unit);
}

/* A dimension value: placeholders {bucket}, {account} (the account id)
 * and {region}. */
static const char *check_dim_value(const char *s)
{
	const char *p = s;

	if (!text_ok(s, 1024))
		return "a dimension value has 1 to 1024 printable characters";
	while ((p = strchr(p, '{')) != NULL) {
		if (strncmp(p, "{bucket}", 8) == 0)
			p += 8;
		else if (strncmp(p, "{account}", 9) == 0)
			p += 9;
		else if (strncmp(p, "{region}", 8) == 0)
			p += 8;
		else
			return "unknown placeholder (they are {bucket}, {account} and {region})";
	}
	return NULL;
}

static void m_dims(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		   void *obj)
{
	struct cw_metric_def *m = obj;
	struct cw_dim_tmpl *d = NULL;
	char p[CW_INV_PATHLEN];
	bool *dup = NULL;
	size_t k = 0;

	if (v->kind == CW_YT_MAP && v->n > 30) {
		cw_inv_diag(c, v, path, "a metric has at most 30 dimensions");
		return;
	}
	if (v->kind == CW_YT_MAP && v->n > 0) {
		dup = calloc(v->n, sizeof(*dup));
		d = calloc(v->n, sizeof(*d));
		if (!dup || !d) {
			free(dup);
			free(d);
			c->oom = true;
			return;
		}
	}
	if (!cw_inv_map_keys(c, v, path, dup)) {
		free(dup);
		free(d);
		return;
	}
	for (size_t i = 0; v->kind == CW_YT_MAP && i < v->n; i++) {
		const struct cw_yt_pair *pr = &v->pairs[i];
		const char *why;

		if (dup[i])
			continue;
		cw_inv_path(p, sizeof(p), path, pr->key->str);
		if (!text_ok(pr->key->str, 255)) {
			cw_inv_diag(c, pr->key, p, "a dimension name has 1 to 255 printable "
				    "characters");
			continue;
		}
		if (!cw_inv_scalar(c, pr->val, p))
			continue;
		why = check_dim_value(pr->val->str);
		if (why) {
			cw_inv_diag(c, pr->val, p, "%s", why);
			continue;
		}
		d[k].name = cw_strdup(pr->key->str);
		d[k].value = cw_strdup(pr->val->str);
		k++;
		if (!d[k - 1].name || !d[k - 1].value)
			c->oom = true;
	}
	free(dup);
	for (size_t i = 0; i < m->ndims; i++) {
		free(m->dims[i].name);
		free(m->dims[i].value);
	}
	free(m->dims);
	m->dims = d;
	m->ndims = k;
}

static const struct cw_inv_key metric_keys[] = {
	{ "namespace", m_namespace, true },
	{ "name", m_name, true },
	{ "stat", m_stat, false },
	{ "unit", m_unit, false },
	{ "dimensions", m_dims, false },
	{ NULL, NULL, false },
};

/* Same namespace, name, stat and dimensions: the same series twice. */
static bool metric_same(const struct cw_metric_def *a, const struct cw_metric_def *b)
{
	if (strcmp(a->namespace_, b->namespace_) || strcmp(a->name, b->name) ||
	    strcmp(a->stat, b->stat) || a->ndims != b->ndims)
		return false;
	for (size_t i = 0; i < a->ndims; i++) {
		bool found = false;

		for (size_t j = 0; j < b->ndims && !found; j++)
			found = !strcmp(a->dims[i].name, b->dims[j].name) &&
				!strcmp(a->dims[i].value, b->dims[j].value);
		if (!found)
			return false;
	}
	return true;
}

void cw_inv_metrics_parse(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			  const char *path, struct cw_inventory *inv)
{
	struct cw_metric_def *ms;
	char p[CW_INV_PATHLEN];
	size_t k = 0;
	bool ok = true;

	if (!cw_inv_list(c, v, path, "[{namespace: AWS/S3, name: BytesDownloaded, ...}]"))
		return;
	if (v->n == 0) {
		cw_inv_diag(c, v, path, "must not be an empty list");
		return;
	}
	ms = calloc(v->n, sizeof(*ms));
	if (!ms) {
		c->oom = true;
		return;
	}
	for (size_t i = 0; i < v->n; i++) {
		struct cw_metric_def *m = &ms[k];
		size_t before = cw_inv_ndiags(c);

		cw_inv_index(p, sizeof(p), path, i);
		if (!cw_inv_walk(c, v->items[i], p, metric_keys, m) ||
		    cw_inv_ndiags(c) > before || c->oom) {
			metric_release(m);
			ok = false;
			continue;
		}
		if (!m->stat)
			m->stat = cw_strdup("Sum");
		if (!m->unit)
			m->unit = cw_strdup("");
		if (!m->dims)
			m->dims = calloc(1, sizeof(*m->dims));
		if (!m->stat || !m->unit || !m->dims || metric_finish(m)) {
			c->oom = true;
			metric_release(m);
			ok = false;
			continue;
		}
		for (size_t j = 0; j < k; j++)
			if (metric_same(&ms[j], m)) {
				cw_inv_diag(c, v->items[i], p, "the same metric as %s[%zu]",
					    path, j);
				ok = false;
			}
		k++;
	}
	if (!ok) {
		for (size_t i = 0; i < k; i++)
			metric_release(&ms[i]);
		free(ms);
		return;
	}
	cw_inv_metrics_release(inv);
	inv->metrics = ms;
	inv->nmetrics = k;
}
