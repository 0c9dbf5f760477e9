/*
 * state.h - alert state across runs: what the previous nightly sweeps
 * already announced, so the digest tells only what changed.
 *
 * The state file remembers, per key (account id, region, bucket, metric,
 * detector), the episode of an anomaly: when it was first seen, when it was
 * last announced and how big it was then.  cw_state_apply compares a new
 * run with it and decides, for the latest judgement of each key:
 *
 *   NEW       anomalous now, and not anomalous in the state (absent, or
 *             resolved earlier): announced
 *   GREW      anomalous and announced before, and its excess over the
 *             baseline is now >= growth_factor times the excess announced
 *             last time: announced again
 *   ONGOING   anomalous and announced before: announced again only when
 *             the cooldown has passed since the last announcement
 *   RESOLVED  ok now, anomalous in the state: announced once
 *
 * Everything else (ok keys that were never anomalous, insufficient
 * history, failed series, older periods in --all-periods mode) keeps
 * CW_ALERT_NONE and is not announced.  A key that this run did not judge
 * (bucket gone, target failed) keeps its entry untouched; an entry not seen
 * for CW_STATE_PRUNE_DAYS is dropped.
 *
 * File: JSON, schema "cwsweep.state/1", written atomically with mode 0600:
 *   {"schema": "cwsweep.state/1", "saved_at": "2026-11-26T03:00:00Z",
 *    "entries": [{"key": {"account_id", "region", "bucket", "metric",
 *                         "detector"},
 *                 "status": "anomaly" | "resolved",
 *                 "first_seen", "last_seen", "last_announced": ISO 8601 UTC,
 *                 "announced_value", "announced_excess", "last_value",
 *                 "last_excess": numbers (null when unknown)}],
 *    "notices": [{"reason", "last_posted"}]}   (optional; see below)
 * Only keys that have been anomalous are stored: a fleet of quiet buckets
 * costs nothing.  A missing file is an empty state; a corrupt, foreign or
 * oversized one is a warning and an empty state (everything anomalous is
 * announced as new once), never a failure.
 *
 * Threads: none.  The state is loaded, applied and saved by the thread
 * that owns the run, under the run lock (lock.h), so two runs never write
 * the same file.
 */
#ifndef CW_STATE_H
#define CW_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "run.h"

#define CW_STATE_SCHEMA "cwsweep.state/1"
#define CW_STATE_MAX_BYTES ((size_t)64 * 1024 * 1024)
#define CW_STATE_PRUNE_DAYS 90

struct cw_state_key {
	char *account_id, *region, *bucket, *metric, *detector; /* owned, never NULL */
};

enum cw_state_status {
	CW_STATE_ANOMALY,  /* the episode is going on */
	CW_STATE_RESOLVED, /* it ended at last_seen */
};

struct cw_state_entry {
	struct cw_state_key key;
	enum cw_state_status status;
	int64_t first_seen;     /* the run that found this episode */
	int64_t last_seen;      /* the last run that judged it anomalous, or resolved it */
	int64_t last_announced; /* the last run whose digest carried it */
	double announced_value, announced_excess; /* at last_announced; NaN unknown */
	double last_value, last_excess;           /* at last_seen; NaN unknown */
};

/* A "could not run / ran partly" notice posted to Slack, so the same
 * reason is posted at most once a UTC day. */
struct cw_state_notice {
	char *reason;         /* owned: the reason, digits dropped */
	int64_t last_posted;  /* UTC epoch seconds */
};

/* The coverage of the last complete run (optional member "coverage":
 * {"buckets", "watched", "stored_bytes", "watched_bytes"}). */
struct cw_state_coverage {
	bool known;
	size_t buckets, watched;
	double bytes, watched_bytes;
};

/*
 * An acknowledgement (`cwsweep ack`): while it holds, the digest does not
 * announce the bucket's anomalies and the reports mark them acknowledged.
 * It holds until `until`, or (until == 0) until the bucket has no
 * anomalous entry left, checked from the first run after it was given.
 */
struct cw_state_ack {
	char *account_id, *region, *bucket; /* owned, never NULL */
	char *reason;                       /* owned, may be "" */
	int64_t at;                         /* when it was given */
	int64_t until;                      /* 0: until the episode ends */
};

struct cw_state {
	struct cw_state_entry *v;
	size_t n, cap;
	struct cw_state_coverage coverage;
	struct cw_state_notice *notices;
	size_t nnotices;
	struct cw_state_ack *acks;
	size_t nacks;
	/* What cw_state_load read: the file's identity (device, inode, size,
	 * modification time in ns; all 0 when there was no file) and its
	 * acknowledgements, so that cw_state_save keeps one given since. */
	uint64_t loaded_id[4];
	struct cw_state_ack *loaded_acks;
	size_t nloaded_acks;
};

/* Record an acknowledgement (replacing one for the same bucket). 0 or
 * CW_ENOMEM.  File: "acks": [{"account_id", "region", "bucket", "reason",
 * "at", "until" (null: until the episode ends)}]. */
int cw_state_ack_add(struct cw_state *st, const char *account_id, const char *region,
		     const char *bucket, int64_t at, int64_t until, const char *reason);

void cw_state_init(struct cw_state *st);
void cw_state_release(struct cw_state *st);

/*
 * Load path into st (emptied first).  A missing file gives an empty state
 * and returns 0; an unreadable, corrupt, foreign or too big file is logged
 * with cw_log_warn ("state file PATH: ...; starting from an empty state")
 * and also gives an empty state and 0.  Only CW_ENOMEM is an error.
 */
int cw_state_load(struct cw_state *st, const char *path, char *err, size_t errlen);

/*
 * Parse state text (name is what messages call it).  0, or CW_EPARSE with
 * err saying where ("NAME: entries[3].status: ...") and st left empty, or
 * CW_ETOOBIG / CW_ENOMEM.  cw_state_load is this plus the file and the
 * warning.
 */
int cw_state_parse(struct cw_state *st, const char *name, const char *text, size_t len,
		   char *err, size_t errlen);

/*
 * Coverage: when the run's coverage (cw_run_coverage_total) is below the
 * state's -- fewer buckets watched, or at least one point less of the
 * stored bytes -- run->coverage_fell is set and run->coverage_was holds
 * the state's, so the digest announces the drop once; a complete run's
 * coverage then replaces the state's (a run with regions unknown leaves it).
 *
 * Judge run against st at time now (UTC seconds, the run's start): set
 * each result's alert, fill announce[i] (caller-allocated, run->nresults
 * entries; may be NULL) with whether result i belongs in the digest, and
 * update st (new episodes, announcements, resolutions, pruning entries not
 * seen for CW_STATE_PRUNE_DAYS).  cooldown in seconds (0: re-announce an
 * ongoing anomaly every run); growth_factor >= 1 (below 1: growth is not
 * tracked).  Only each key's latest judged period counts.  0 or CW_ENOMEM
 * (then st may be partly updated: do not save it).
 */
int cw_state_apply(struct cw_state *st, struct cw_run *run, int64_t now, int64_t cooldown,
		   double growth_factor, bool *announce);

/*
 * The same for the run's failures: a failure is keyed by its target
 * (account, region, bucket, metric) and "failure:STAGE:CODE" in place of
 * the detector.  A new failure is announced; an ongoing one (the same key
 * failed last time) again only once the cooldown has passed, so an
 * AccessDenied that lasts a month is not posted every night (but a
 * NothingWatched account, where nothing was judged at all, every run).  A failure
 * that did not happen again, for an account (and region) the run did
 * judge, is over: the next one is new.  announce: run->nfailures entries
 * (may be NULL).  0 or CW_ENOMEM.
 */
int cw_state_apply_failures(struct cw_state *st, const struct cw_run *run, int64_t now,
			    int64_t cooldown, bool *announce);

/*
 * Without a state (--no-state, or no state file configured): every
 * anomaly of each key's latest judged period is announced, every alert is
 * NONE, as the old one-bucket script did every night.  announce as above.
 */
void cw_state_announce_all(struct cw_run *run, bool *announce);

/*
 * Write st to path atomically, mode 0600, entries sorted by key.
 * Acknowledgements are merged, not overwritten: when the file changed
 * since st was loaded (`cwsweep ack` wrote it meanwhile), each
 * acknowledgement in it that was not there at load time is kept too (for
 * the same bucket, the one given last wins); one that st dropped because
 * it ended stays dropped.
 */
int cw_state_save(const struct cw_state *st, const char *path, int64_t now,
		  char *err, size_t errlen);
/* The same text in *text (malloc'd, NUL-terminated; free it), for a state
 * kept elsewhere (S3): st's acknowledgements only.  0 or CW_ENOMEM. */
int cw_state_text(const struct cw_state *st, int64_t now, char **text);

/*
 * Problem notices ("cwsweep could not run: ..."): due when the same reason
 * (compared with its digits dropped, so counts do not make it new) was not
 * posted on the same UTC day as now.  cw_state_notice_posted records a
 * post (0 or CW_ENOMEM); notices older than 30 days are dropped on save.
 */
bool cw_state_notice_due(const struct cw_state *st, const char *reason, int64_t now);
int cw_state_notice_posted(struct cw_state *st, const char *reason, int64_t now);

/* The entry of a key (borrowed), NULL when none.  Linear: for tests and
 * tools, not for inner loops. */
const struct cw_state_entry *cw_state_find(const struct cw_state *st, const char *account_id,
					   const char *region, const char *bucket,
					   const char *metric, const char *detector);

#endif
