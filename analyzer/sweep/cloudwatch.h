/*
 * cloudwatch.h - CloudWatch GetMetricData / ListMetrics in AWS JSON 1.0:
 * request bodies and response parsing.  Pure functions, no network: the
 * sweep sends the bodies with cw_aws_call (target
 * "GraniteServiceVersion20100801.GetMetricData" / ".ListMetrics").
 *
 * Responses are untrusted: every parser bounds sizes and counts, accepts
 * only the documented types, and either applies a whole page or nothing.
 *
 * Threads: no shared state; a result array belongs to one thread at a time.
 */
#ifndef CW_CLOUDWATCH_H
#define CW_CLOUDWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inventory.h"
#include "series.h"

#define CW_TARGET_GMD "GraniteServiceVersion20100801.GetMetricData"
#define CW_TARGET_LM "GraniteServiceVersion20100801.ListMetrics"

/* Parser limits (a response over them is refused as CW_ETOOBIG). */
#define CW_CW_MAX_BODY ((size_t)64 * 1024 * 1024)
#define CW_CW_MAX_TOKEN ((size_t)64 * 1024)   /* NextToken bytes */
#define CW_CW_MAX_POINTS ((size_t)1000000)    /* points per result per page */
#define CW_CW_MAX_RESULTS ((size_t)10000)     /* results / metrics per page */

/* ---- query ids ----------------------------------------------------------- */

/* "q<i>" into buf (>= 24 bytes): a valid id ([a-z][a-zA-Z0-9_]*). */
char *cw_query_id(size_t i, char *buf, size_t len);
/* Index of an id made by cw_query_id; CW_EINVAL for anything else
 * ("q01", "q", "Q1", "q1x", overflow). */
int cw_query_index(const char *id, size_t *out);

/* ---- GetMetricData ------------------------------------------------------- */

/* One query: metric (borrowed) with {bucket} in its dimension values
 * replaced by bucket (borrowed; may be "" for metrics without {bucket}),
 * and {account} / {region} by account / region (borrowed; NULL leaves the
 * placeholder as it is). */
struct cw_gmd_query {
	const struct cw_metric_def *metric;
	const char *bucket;
	const char *account, *region;
};

/*
 * {"MetricDataQueries":[{"Id":"q0","MetricStat":{"Metric":{"Namespace",
 * "MetricName","Dimensions":[{"Name","Value"}...]},"Period","Stat"},
 * "ReturnData":true}...],"StartTime":S,"EndTime":E,
 * "ScanBy":"TimestampDescending"[,"NextToken":T]} with epoch seconds.
 * Query i gets id "q<i>".  New string in *body (free() it).
 */
int cw_gmd_request(char **body, size_t *len, const struct cw_gmd_query *q, size_t n,
		   int64_t start, int64_t end, int64_t period, const char *next_token,
		   char *err, size_t errlen);

enum cw_gmd_status {
	CW_GMD_NONE = 0,        /* no result for this query (yet) */
	CW_GMD_COMPLETE,
	CW_GMD_PARTIAL,         /* PartialData: more pages follow */
	CW_GMD_INTERNAL_ERROR,  /* InternalError: retry later */
	CW_GMD_FORBIDDEN,       /* Forbidden: no permission for this metric */
};

const char *cw_gmd_status_name(enum cw_gmd_status s); /* "Complete", ... */

/* What one target's query produced, across every page. */
struct cw_gmd_result {
	struct cw_series series; /* over the whole window; NaN = no datapoint */
	enum cw_gmd_status status; /* InternalError/Forbidden stick once seen;
				    * otherwise the latest page's status */
	char *message;           /* owned, NULL: first "Code: Value" message */
	size_t points;           /* datapoints placed */
	size_t outside;          /* datapoints outside the window, ignored */
};

/*
 * n results with empty series over [start, end) at period, complete_end =
 * end (new array in *out; free with cw_gmd_results_free).
 */
int cw_gmd_results_new(struct cw_gmd_result **out, size_t n, int64_t start,
		       int64_t end, int64_t period);
void cw_gmd_results_free(struct cw_gmd_result *r, size_t n);

/* What one page said besides the results. */
struct cw_gmd_page {
	char *next_token; /* owned; NULL on the last page */
	char *messages;   /* owned; NULL or "Code: Value; ..." (top-level Messages) */
	size_t results;   /* results in the page */
	size_t unknown;   /* results whose Id was not one of ours (ignored) */
};
void cw_gmd_page_release(struct cw_gmd_page *p);

/*
 * Merge one GetMetricData response page into the results: the result of
 * id "q<i>" (i < nq) goes to r[map ? map[i] : i] (map[i] < nr).  Points
 * are placed by timestamp (epoch numbers, or ISO 8601 strings), so the
 * order (newest first) and the page split do not matter; a slot nobody
 * reported stays a gap.  Follow page->next_token until it is NULL.
 * The page is read in place, without a tree and without allocating per
 * datapoint (about 32 KiB plus a record per result, whatever its size).
 * Returns 0; CW_EPARSE (not JSON, or not the documented shape),
 * CW_ETOOBIG (over a limit), CW_EINVAL (map points past nr) or
 * CW_ENOMEM, and then r is as it was and *page empty.
 */
int cw_gmd_accumulate(struct cw_gmd_result *r, size_t nr, const size_t *map, size_t nq,
		      const char *body, size_t len, struct cw_gmd_page *page,
		      char *err, size_t errlen);

/* ---- ListMetrics --------------------------------------------------------- */

/*
 * {"Namespace":N,"MetricName":M,"Dimensions":[{"Name","Value"}...]
 * [,"NextToken":T]}: the metric's dimensions with a fixed value (e.g.
 * FilterId=EntireBucket); the {bucket} dimension is left out, so every
 * bucket matches.  New string in *body (free() it).
 */
int cw_lm_request(char **body, size_t *len, const struct cw_metric_def *m,
		  const char *next_token, char *err, size_t errlen);
/* The same for one account-region: {account} and {region} in the fixed
 * dimension values become account and region. */
int cw_lm_request_at(char **body, size_t *len, const struct cw_metric_def *m,
		     const char *account, const char *region, const char *next_token,
		     char *err, size_t errlen);

struct cw_lm_page {
	char **names;     /* owned: bucket names, sorted, no duplicates */
	size_t n;
	char *next_token; /* owned; NULL on the last page */
	size_t skipped;   /* metrics that did not match the template exactly */
};
void cw_lm_page_release(struct cw_lm_page *p);

/* One metric of a ListMetrics page as the scanner read it.  Strings are
 * NUL-terminated and borrowed until the visitor returns. */
struct cw_lm_dim {
	const char *name;  /* Dimensions[k].Name */
	const char *value; /* its Value; NULL: absent or null */
	size_t value_len;
};
struct cw_lm_metric {
	const char *namespace_; /* NULL: absent or not a string */
	const char *name;       /* MetricName; NULL likewise */
	const struct cw_lm_dim *dims;
	size_t ndims;
};

/* Called for each metric in page order; 0, or CW_ENOMEM to stop. */
typedef int (*cw_lm_visit_fn)(void *ctx, const struct cw_lm_metric *m);

/*
 * Check a ListMetrics page (a JSON object of at most CW_CW_MAX_BODY bytes,
 * checked as strictly as json_loadb with JSON_REJECT_DUPLICATES; Metrics
 * absent, null or an array of at most CW_CW_MAX_RESULTS objects whose
 * Dimensions, when present, are {Name: string, Value: string or null};
 * NextToken absent, null or a string of at most CW_CW_MAX_TOKEN bytes) and
 * visit its metrics while it reads them, without a tree.  When it fails,
 * the visitor may already have seen some metrics: drop what it kept.
 * *next_token is new (NULL when there is none).  0, CW_EPARSE, CW_ETOOBIG
 * or CW_ENOMEM.
 */
int cw_lm_scan(const char *body, size_t len, cw_lm_visit_fn visit, void *ctx,
	       char **next_token, char *err, size_t errlen);

/*
 * Parse one ListMetrics page.  A metric counts only if its namespace and
 * name match m and its dimension set is exactly m's (same names, fixed
 * values equal); the bucket is the {bucket} dimension's value.  Returns 0,
 * CW_EPARSE, CW_ETOOBIG or CW_ENOMEM (then *page is empty).
 */
int cw_lm_parse(struct cw_lm_page *page, const struct cw_metric_def *m,
		const char *body, size_t len, char *err, size_t errlen);
/* The same, matching {account} / {region} in fixed values (see
 * cw_lm_request_at). */
int cw_lm_parse_at(struct cw_lm_page *page, const struct cw_metric_def *m,
		   const char *account, const char *region, const char *body, size_t len,
		   char *err, size_t errlen);

#endif
