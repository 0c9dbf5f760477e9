/*
 * run.h - everything one run found, in the shape the reports read.
 *
 * Data flows one way: the sweep (or `analyze`) fills a cw_run, the judge
 * runs the detectors over each series and appends results, then the
 * reports and the digest read it and never change it.
 *
 * Threads: cw_run itself is not locked.  Workers build their own series and
 * results and hand them to the single thread that owns the run (the sweep
 * collects them under its own lock), so appends happen on one thread.
 */
#ifndef CW_RUN_H
#define CW_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detector.h"
#include "series.h"

/* Who a series belongs to.  Every string is owned by the run. */
struct cw_target_id {
	char *account_id;   /* "" in analyze mode */
	char *account_name; /* "" when unknown */
	char *region;       /* "" in analyze mode */
	char *bucket;       /* "" for non-S3 series */
	char *metric;       /* "AWS/S3 BytesDownloaded Sum" or the file's series name */
	char *unit;         /* "Bytes", "Count", "" when unknown */
	char *owner;        /* from the inventory, "" when none */
	char *tags;         /* inventory tags "k=v;k=v" (bucket over account), "" when none */
};

/*
 * What the summaries need of a series, taken when it is added (so its
 * values may go once it is judged, see cw_run.lean).  Over complete slots.
 */
struct cw_series_sums {
	bool bytes;         /* unit "Bytes" and a period that divides a day */
	bool moved;         /* bytes, 14 days of complete slots, each week with a datapoint */
	double wow_week, wow_prev; /* then the sums of the last 7 days and the 7 before */
	double month;       /* the last CW_SERIES_MONTH_DAYS of complete slots,
			     * scaled up to that span when shorter (0 when none) */
};

#define CW_SERIES_MONTH_DAYS 30

/* One fetched (or read) series.  The id's strings belong to the run's
 * string pool (shared between series, never freed one by one). */
struct cw_run_series {
	struct cw_target_id id;
	/* The values are freed once the series is judged when the run is
	 * lean and no judgement of it is an anomaly: then values is NULL
	 * (n, start, period and complete_end stay). */
	struct cw_series series;
	struct cw_series_sums sums;
	/* (a series' excluded periods are kept apart, in cw_run.excl: few
	 * series have any, and only until they are judged) */
};

/* Alert state across runs (filled by the state module; NONE when unused). */
enum cw_alert { CW_ALERT_NONE, CW_ALERT_NEW, CW_ALERT_ONGOING, CW_ALERT_GREW,
		CW_ALERT_RESOLVED,
		CW_ALERT_ACKED /* anomalous, acknowledged (cwsweep ack): not announced */ };

/* One judgement of one series by one detector. */
struct cw_result {
	struct cw_judgement j;
	const char *detector;/* registry name (static string) */
	char *note;          /* owned, may be NULL: "no datapoint in the judged period" */
	double est_excess_usd; /* NaN when not priced */
	uint32_t series;     /* index into run->series (a run holds fewer than 2^32) */
	uint8_t alert;       /* enum cw_alert (packed: a run holds millions of results) */
};

/* Something that could not be judged (AccessDenied, throttled, bad file). */
struct cw_failure {
	struct cw_target_id id; /* as much as is known; bucket "" = whole account-region */
	char *stage;   /* "assume-role", "get-metric-data", "read", "parse", ... */
	char *code;    /* AWS error code or a short cwsweep code */
	char *message; /* human text, never a secret */
};

/*
 * A bucket that is not judged although it exists or was asked for:
 *   NOT_FOUND    a listed bucket with neither the request metric nor the
 *                daily storage metrics (typo, other account or region,
 *                empty bucket);
 *   NOT_WATCHED  a bucket with data (it has the free daily storage
 *                metrics) but without the request metric: it needs a
 *                request-metrics configuration to be watched.
 */
enum cw_unmeasured_kind { CW_UNMEASURED_NOT_FOUND = 0, CW_UNMEASURED_NOT_WATCHED };

struct cw_unmeasured {
	struct cw_target_id id;
	char *reason;
	char *fix;
	enum cw_unmeasured_kind kind;
	double stored_bytes;    /* BucketSizeBytes over every storage type; NaN unknown */
	double watch_usd_month; /* what watching it costs a month (est.); NaN unknown */
};

/*
 * Coverage of one account: how many of the buckets it has (or that the
 * inventory lists and exist) are judged, by count and by stored bytes.
 * Known only where the daily storage metrics could be listed.
 */
struct cw_coverage {
	char *account_id, *account_name; /* owned */
	size_t buckets;        /* buckets known to exist (storage metrics or judged) */
	size_t watched;        /* of them, with at least one judged series */
	double bytes;          /* stored bytes of every bucket (unknown sizes as 0) */
	double watched_bytes;  /* stored bytes of the watched ones */
	bool complete;         /* every storage listing of the account answered */
};

/*
 * One account's totals, added up as its series are added (accounts with
 * an id by id, the others by name).  Sums skip gaps and are NaN when
 * nothing counted; they cover the complete slots of "Bytes" series.
 */
struct cw_acct_sums {
	const char *account_id, *account_name; /* the run's pool */
	size_t series, byte_series;
	/* long double: byte counts add up exactly in any order (up to 2^64), so
	 * the totals do not depend on the order the series came in */
	long double lookback; /* every complete slot (0 when none) */
	long double week, prev; /* each series' last 7 days, and the 7 before */
	int64_t lo, hi;      /* earliest start, latest complete end (lo > hi: none) */
	int64_t base;        /* UTC day of daily[0] */
	long double *daily;  /* per day from base; NaN: no datapoint */
	size_t ndaily, cap;
};

struct cw_strpool; /* interned strings of a run (run.c) */

struct cw_run {
	/* metadata */
	char *mode;           /* "analyze", "run", "merge" */
	char *run_id;         /* e.g. "20261126T031500Z-4f2a" */
	char *inventory;      /* path or "" */
	int64_t started, finished; /* UTC epoch seconds */
	int64_t period;       /* seconds, 0 when mixed */
	int64_t lookback;     /* seconds, 0 when not applicable */
	bool all_periods;     /* every period judged, not only the last */
	size_t accounts, regions; /* counts for the summary (0 in analyze) */
	size_t api_calls;     /* AWS calls made */
	unsigned shard_k, shard_n; /* `run --shard K/N`; shard_n 0: not a shard */
	int64_t at;           /* `run --at` (the replayed "now"); 0: the real clock */
	/* per API action (attempts, throttled answers), as the sweep counted
	 * them; for the metrics file */
	struct cw_run_calls { char action[48]; size_t calls, throttled; } calls[16];
	size_t ncalls;

	struct cw_run_series *series; size_t nseries, cap_series;
	struct cw_result *results;    size_t nresults, cap_results;
	struct cw_failure *failures;  size_t nfailures, cap_failures;
	struct cw_unmeasured *unmeasured; size_t nunmeasured, cap_unmeasured;
	struct cw_coverage *coverage; size_t ncoverage, cap_coverage; /* per account; 0 = not measured */
	char **detectors; size_t ndetectors; /* names with parameters, for the header */
	bool coverage_fell;      /* below the last run's (alert state): announce it */
	struct cw_coverage coverage_was; /* the last run's totals (no account strings) */
	double total_excess_usd; /* NaN when nothing was priced */
	char *price_note;        /* the pricing assumption, for the reports */

	/* Lean: once a series is judged, free its values unless one of its
	 * judgements is an anomaly (the reports chart and list findings only;
	 * everything else reads the sums).  Set by run and analyze. */
	bool lean;
	bool pretty; /* report.json indented for people (--pretty) */
	/* results are in reading order (cw_run_sort_results ran since the
	 * last result was added): the reports read them as they are */
	bool sorted;
	/* Excluded periods (inventory exclusions, cw_run_exclude) of the
	 * series that have any: per slot the reason, or NULL; the arrays are
	 * owned, the strings borrowed from the inventory.  Used while judging
	 * only: a lean run drops a series' entry once it is judged. */
	struct cw_run_excl { size_t series; const char **slot; } *excl;
	size_t nexcl, cap_excl;
	struct cw_acct_sums *accts; size_t naccts, cap_accts; /* first seen first */
	size_t last_acct;         /* the entry the last series used */
	struct cw_strpool *pool;
};

int cw_run_init(struct cw_run *run, const char *mode);
void cw_run_release(struct cw_run *run);

/* Deep-copy id into the run's storage (strings duplicated; NULL -> ""). */
int cw_target_id_copy(struct cw_target_id *dst, const struct cw_target_id *src);
void cw_target_id_release(struct cw_target_id *id);

/* Append a series (the series' values are stolen: *s is emptied; the id's
 * strings are interned in the run's pool); index in *idx.  Its sums and its
 * account's totals are taken here. */
int cw_run_add_series(struct cw_run *run, const struct cw_target_id *id,
		      struct cw_series *s, size_t *idx);
/* Every series is added (the sweep or the files are done): let go of what
 * only adding needs (the string pool's lookup table, built again should
 * one more come).  Optional; the run stays whole. */
void cw_run_added(struct cw_run *run);
int cw_run_add_result(struct cw_run *run, size_t series, const char *detector,
		      const struct cw_judgement *j, const char *note);
int cw_run_add_failure(struct cw_run *run, const struct cw_target_id *id,
		       const char *stage, const char *code, const char *message);
int cw_run_add_unmeasured(struct cw_run *run, const struct cw_target_id *id,
			  const char *reason, const char *fix);
/* The same with the kind, the stored bytes and the monthly cost of watching
 * it (NaN when unknown); cw_run_add_unmeasured is NOT_FOUND with NaNs. */
int cw_run_add_unwatched(struct cw_run *run, const struct cw_target_id *id,
			 enum cw_unmeasured_kind kind, double stored_bytes,
			 double watch_usd_month, const char *reason, const char *fix);
/* Append one account's coverage (strings copied). */
int cw_run_add_coverage(struct cw_run *run, const struct cw_coverage *c);
/* The run's coverage: every account's added up (complete = all complete).
 * Returns false when the run has no coverage (analyze, or nothing listed). */
bool cw_run_coverage_total(const struct cw_run *run, struct cw_coverage *total);
/* "watching 12 of 40 buckets (83% of stored bytes)" into buf; "" when the
 * run has no coverage.  Returns buf. */
char *cw_coverage_line(const struct cw_coverage *c, char *buf, size_t len);
const char *cw_unmeasured_kind_name(enum cw_unmeasured_kind k); /* "not_watched", ... */

/*
 * Run every detector over one series of the run and append the results.
 * all_periods: judge every complete slot that has enough history;
 * otherwise only the last complete slot (a gap there becomes an
 * insufficient_history result with a note).
 */
/*
 * Exclude the slots of series that overlap [from, to): cw_run_judge does
 * not show them to the detectors (they are gaps to them, so no baseline
 * uses them) and reports each judged one as ok with the note "excluded:
 * REASON".  reason is borrowed until the series is judged.
 */
int cw_run_exclude(struct cw_run *run, size_t series, int64_t from, int64_t to,
		   const char *reason);

int cw_run_judge(struct cw_run *run, size_t series,
		 const struct cw_detector_conf *dets, size_t ndets,
		 bool all_periods, char *err, size_t errlen);

/* Counts for summaries. */
struct cw_run_counts {
	size_t series, judgements, anomalies, ok, insufficient, failures, unmeasured;
	size_t not_watched, not_found; /* unmeasured = not_watched + not_found */
};
void cw_run_count(const struct cw_run *run, struct cw_run_counts *c);

/* The exit code the run deserves: 3 if any failure, else 1 if any anomaly,
 * else 0 (see README "Exit codes"). */
int cw_run_exit_code(const struct cw_run *run);

/* Sort results for reading: anomalies first, by severity (critical first),
 * then by excess over baseline (largest first), then by name.  Stable.
 * Sets run->sorted (cw_run_add_result clears it). */
void cw_run_sort_results(struct cw_run *run);

#endif
