/*
 * storage.h - the S3 daily storage metrics as a source of the bucket set:
 * every bucket with data publishes AWS/S3 BucketSizeBytes (dimensions
 * BucketName + StorageType, one metric per storage class, daily, free), so
 * one paged ListMetrics per account-region names every bucket, watched or
 * not, and a small GetMetricData (Average, 1 day) gives its stored bytes.
 *
 * Pure functions and a small set type, no network: the sweep sends the
 * bodies with cw_aws_call.  Responses are untrusted: the parser bounds
 * sizes and counts and applies a whole page or nothing.
 *
 * Threads: no shared state; a set belongs to one thread at a time.
 */
#ifndef CW_STORAGE_H
#define CW_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inventory.h"
#include "series.h"

#define CW_STORAGE_NAMESPACE "AWS/S3"
#define CW_STORAGE_METRIC "BucketSizeBytes"
/* Days looked back for the latest BucketSizeBytes datapoint (S3 publishes
 * it once a day, sometimes a day late). */
#define CW_STORAGE_LOOKBACK_DAYS 4
#define CW_STORAGE_MAX_TYPES 64  /* storage types per bucket */
#define CW_STORAGE_MAX_NAME 1024 /* bucket / storage type bytes */

/* ---- ListMetrics ---------------------------------------------------------- */

/* {"Namespace":"AWS/S3","MetricName":"BucketSizeBytes"[,"NextToken":T]}.
 * New string in *body (free() it). */
int cw_storage_lm_request(char **body, size_t *len, const char *next_token,
			  char *err, size_t errlen);

struct cw_storage_item { char *bucket, *type; }; /* owned */

struct cw_storage_page {
	struct cw_storage_item *v; size_t n; /* owned */
	char *next_token; /* owned; NULL on the last page */
	size_t skipped;   /* metrics that are not BucketSizeBytes{BucketName,StorageType} */
};
void cw_storage_page_release(struct cw_storage_page *p);

/*
 * Parse one ListMetrics page: every AWS/S3 BucketSizeBytes metric whose
 * dimensions are exactly BucketName and StorageType.  0, CW_EPARSE,
 * CW_ETOOBIG or CW_ENOMEM (then *page is empty).
 */
int cw_storage_lm_parse(struct cw_storage_page *page, const char *body, size_t len,
			char *err, size_t errlen);

/* ---- the buckets of one account-region ------------------------------------ */

struct cw_storage_bucket {
	char *name;                 /* owned */
	char **types; size_t ntypes;/* owned storage types */
	double bytes;               /* sum of the latest value of each type; NaN unknown */
	bool sized;                 /* some type had a datapoint */
};

struct cw_storage_set {
	struct cw_storage_bucket *v; size_t n, cap;
	bool sorted;
};

void cw_storage_set_release(struct cw_storage_set *s);
/* Add the items of a page (copies; duplicates merged).  0 or CW_ENOMEM. */
int cw_storage_set_add(struct cw_storage_set *s, const struct cw_storage_page *page);
/* Sort by name for cw_storage_set_find (call once the listing is over). */
void cw_storage_set_finish(struct cw_storage_set *s);
/* The bucket (borrowed) or NULL; the set must be finished. */
struct cw_storage_bucket *cw_storage_set_find(const struct cw_storage_set *s,
					      const char *name);
/* Number of (bucket, storage type) metrics: the GetMetricData queries. */
size_t cw_storage_set_metrics(const struct cw_storage_set *s);

/* ---- stored bytes ----------------------------------------------------------- */

/* An AWS/S3 BucketSizeBytes Average metric for one storage type, as a
 * metric template with {bucket} (for cw_gmd_request). */
struct cw_storage_metric {
	struct cw_metric_def def;
	struct cw_dim_tmpl dims[2];
};
/* 0 or CW_ENOMEM; release with cw_storage_metric_release. */
int cw_storage_metric_init(struct cw_storage_metric *m, const char *type);
void cw_storage_metric_release(struct cw_storage_metric *m);

/* [start, end) at 1 day for the bytes, ending at the day of `end`. */
void cw_storage_window(int64_t end, int64_t *wstart, int64_t *wend);

/* The latest value of s that is not a gap; NaN when none. */
double cw_storage_latest(const struct cw_series *s);

#endif
