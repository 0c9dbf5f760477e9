/*
 * inventory.h - the accounts.yaml inventory: parse, validate, hold.
 *
 * accounts.yaml.example documents every key; README.md has the reference.
 * Parsing uses libyaml's event API and keeps the line and column of every
 * node, so each problem is reported as `file:line:column: key: what`.
 * Every problem in the file is collected, not just the first.
 *
 * Once loaded, an inventory is immutable and may be read from any thread.
 */
#ifndef CW_INVENTORY_H
#define CW_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detector.h"

/* ---- diagnostics ------------------------------------------------------ */

struct cw_diag {
	char *file;   /* owned */
	int line, col; /* 1-based; 0 when not tied to a position */
	char *msg;    /* owned: "accounts[2].role_arn: not an IAM role ARN ..." */
};

struct cw_diags {
	struct cw_diag *v;
	size_t n, cap;
};

void cw_diags_release(struct cw_diags *d);
int cw_diags_add(struct cw_diags *d, const char *file, int line, int col,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Print each as "file:line:col: msg" (or "file: msg") on its own line. */
void cw_diags_print(const struct cw_diags *d, void *file /* FILE* */);

/* ---- the model -------------------------------------------------------- */

struct cw_kv { char *key, *value; };

/* A dimension of a metric; value may contain the placeholder "{bucket}". */
struct cw_dim_tmpl { char *name, *value; };

struct cw_metric_def {
	char *namespace_;  /* "AWS/S3" */
	char *name;        /* "BytesDownloaded" */
	char *stat;        /* "Sum", "Average", "Maximum", "p99", ... */
	char *unit;        /* "Bytes", "Count", "" = any */
	struct cw_dim_tmpl *dims; size_t ndims;
	bool per_bucket;   /* some dimension value holds {bucket} */
	char *label;       /* "AWS/S3 BytesDownloaded Sum" (derived) */
};

/* A detector set: the detectors that judge a target, with parameters. */
struct cw_det_set {
	struct cw_detector_conf *v; size_t n;
	/* v belongs to another set (a bucket without detectors of its own
	 * shares its account's): releasing this one leaves it alone */
	bool borrowed;
};

struct cw_bucket_def {
	char *name;
	char *region;               /* NULL: look in every region of the account */
	struct cw_det_set detectors;/* effective set (defaults merged with overrides) */
	struct cw_kv *tags; size_t ntags;
	int line, col;
};

struct cw_account_def {
	char id[13];                /* 12 digits */
	char *name;                 /* defaults to the id */
	char **roles; size_t nroles;/* role chain, assumed in order; 0 = ambient creds */
	char *external_id;          /* NULL when none; used on the last hop */
	char *session_name;         /* NULL: "cwsweep-<run id>" */
	int duration_seconds;       /* 900..43200; chains cap at 3600 */
	char **regions; size_t nregions;
	bool buckets_auto;          /* discover through ListMetrics */
	struct cw_bucket_def *buckets; size_t nbuckets;
	struct cw_det_set detectors;/* effective set for this account's targets */
	char *owner;
	struct cw_kv *tags; size_t ntags;
	bool from_org;              /* listed by Organizations, not written in the file */
	int line, col;
};

/*
 * The `organization:` section: accounts come from AWS Organizations at run
 * time (cw_inventory_parse_members), each with the defaults' role_name and
 * buckets; `accounts:` entries with the same id override them.
 */
struct cw_org_settings {
	char management_account[13];
	char *role_arn;          /* NULL: the ambient credentials are the management account's */
	char *external_id;       /* with role_arn */
	char **include_ous; size_t ninclude;  /* OU or root ids; none: the whole organization */
	char **exclude_ous; size_t nexclude;  /* matched recursively */
	char **exclude_accounts; size_t nexclude_accounts;
	bool include_suspended;  /* default false: SUSPENDED / PENDING_CLOSURE left out */
	char *text; size_t text_len; /* the inventory's text, parsed again with the members */
	int line, col;
};

/* An account Organizations listed, for cw_inventory_parse_members. */
struct cw_org_member {
	const char *id;   /* 12 digits */
	const char *name; /* used unless the file's entry names the account */
};

struct cw_price_tier {
	double upto_bytes;  /* this tier ends at this monthly volume; INFINITY last */
	double usd_per_gb;  /* GB = 10^9 bytes as AWS bills */
};

struct cw_price_table {
	char *region;       /* NULL for the default table */
	struct cw_price_tier *tiers; size_t ntiers;
	double free_bytes;  /* free allowance per account-month */
};

/*
 * What watching a bucket costs: S3 request metrics are billed as CloudWatch
 * custom metrics, and one request-metrics configuration publishes a whole
 * set of them (`prices.request_metrics`; README "Coverage").
 */
struct cw_watch_price {
	int metrics_per_config;      /* default 16 */
	double usd_per_metric_month; /* default 0.30 (first 10,000 metrics) */
};

#define CW_WATCH_METRICS_DEFAULT 16
#define CW_WATCH_USD_PER_METRIC_DEFAULT 0.30

struct cw_reporting {
	char *output_dir;      /* default "./cwsweep-report" */
	char *formats;         /* comma list, default "md,csv,json,html,xlsx" */
	bool slack_enabled;    /* default true when the webhook variable is set */
	char *slack_webhook_env; /* variable NAME, default "SLACK_WEBHOOK_URL" */
	size_t slack_max_findings; /* default 10 */
	char *state_file;      /* NULL: no alert state */
	int64_t cooldown;      /* seconds before re-announcing; default 7d */
	double growth_factor;  /* re-announce when grown by this; default 2 */
	char *lock_file;       /* NULL: derived from output_dir */
	char *report_url;      /* https URL serving output_dir (the digest links
				* REPORT_URL/report.html); NULL: none */
	char *publish_bucket;  /* reporting.publish: s3://BUCKET/PREFIX/; NULL: none */
	char *publish_prefix;  /* "" or "a/b" (no slash at either end) */
	char *publish_region;  /* the bucket's region; NULL: us-east-1 */
	int64_t publish_expiry;/* presigned link lifetime, seconds; default 7d */
	char *metrics_file;    /* NULL: none; Prometheus textfile of the run */
	char *heartbeat_url_env; /* variable NAME holding a heartbeat URL; NULL: none */
};

struct cw_aws_settings {
	char *endpoint_url;    /* NULL: AWS endpoints (env overrides apply) */
	char *sts_region;      /* NULL: the account's first region */
	int jobs;              /* 0: default */
	double gmd_tps;        /* GetMetricData per account-region, default 40 */
	double lm_tps;         /* ListMetrics per account-region, default 20 */
	double sts_tps;        /* AssumeRole per STS region, default 100 */
	int max_attempts;      /* default 3 */
	int connect_timeout_s; /* default 10 */
	int request_timeout_s; /* default 60 */
	int response_memory_mb; /* responses being received, all workers; default 256 */
	int throttle_window_s; /* how long throttled calls keep retrying; default 300 */
};

/* A time range whose periods are not judged as anomalies and feed no
 * baseline (inventory `exclusions:`). */
struct cw_exclusion {
	int64_t from, to; /* [from, to), UTC epoch seconds */
	char *account;    /* 12-digit id; NULL = every account */
	char *bucket;     /* fnmatch(3) glob; NULL = every bucket */
	char *reason;     /* shown in the reports */
};

/* True when x applies to this account and bucket (either may be NULL). */
bool cw_exclusion_matches(const struct cw_exclusion *x, const char *account_id,
			  const char *bucket);

/*
 * `billing:` - AWS/Billing EstimatedCharges of the management (payer)
 * account, us-east-1: month-to-date charges per ServiceName and
 * LinkedAccount, judged as daily spend.
 */
struct cw_billing_def {
	bool enabled;                 /* the section is present */
	struct cw_account_def payer;  /* id, roles, external_id, session, duration,
				       * regions = [us-east-1], detectors */
	char **services; size_t nservices; /* default [AmazonS3, AWSDataTransfer] */
	bool linked_all;              /* linked_accounts: all (else: inventory) */
};

struct cw_inventory {
	char *path;
	/* defaults */
	char **regions; size_t nregions;
	int lookback_days;     /* default 35 */
	int64_t period;        /* seconds, default 86400 */
	struct cw_metric_def *metrics; size_t nmetrics; /* default: S3 BytesDownloaded */
	struct cw_det_set detectors; /* default set */
	/* accounts */
	struct cw_account_def *accounts; size_t naccounts;
	size_t naccounts_disabled; /* `enabled: false`: validated, then left out */
	struct cw_reporting reporting;
	struct cw_aws_settings aws;
	struct cw_price_table *prices; size_t nprices; /* [0] is the default */
	struct cw_watch_price watch;  /* prices.request_metrics */
	struct cw_billing_def billing;
	struct cw_org_settings *org; /* NULL: no organization section */
	struct cw_exclusion *exclusions; size_t nexclusions;
};

/* Monthly cost of one request-metrics configuration (est.). */
double cw_inventory_watch_usd(const struct cw_inventory *inv);

/*
 * Parse and validate.  On success 0 and *inv filled.  On failure
 * CW_EINVAL (or CW_EIO for an unreadable file) with every problem in
 * diags; *inv is left empty.  name is what messages call the file.
 */
int cw_inventory_load(const char *path, struct cw_inventory *inv,
		      struct cw_diags *diags);
int cw_inventory_parse(const char *name, const char *text, size_t len,
		       struct cw_inventory *inv, struct cw_diags *diags);

/*
 * Parse text again with the accounts Organizations listed: a member whose
 * id has an entry in `accounts:` gets its name there unless the entry
 * names it; every other member becomes an entry of its own (from_org),
 * with the defaults.  The result has no `org` left to resolve.
 */
int cw_inventory_parse_members(const char *name, const char *text, size_t len,
			       const struct cw_org_member *m, size_t n,
			       struct cw_inventory *inv, struct cw_diags *diags);

/* The built-in inventory used when only CLI options are given (analyze). */
int cw_inventory_defaults(struct cw_inventory *inv);

void cw_inventory_release(struct cw_inventory *inv);

/* The price table for a region (falls back to the default). */
const struct cw_price_table *cw_inventory_prices(const struct cw_inventory *inv,
						 const char *region);

/* Counts for `validate`'s summary. */
struct cw_inventory_summary {
	size_t accounts, regions, buckets, auto_accounts, metrics, detectors,
	       targets; /* targets known before discovery */
	size_t disabled; /* accounts left out with `enabled: false` */
};
void cw_inventory_summarize(const struct cw_inventory *inv,
			    struct cw_inventory_summary *s);

#endif
