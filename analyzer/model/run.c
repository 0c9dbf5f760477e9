/*
 * run.c - the run model: what one run fetched, judged and failed at, the
 * judge that runs detectors over a series, counts, exit code and the
 * reading order of results.
 *
 * Not locked: one thread owns a cw_run (see run.h).  cw_run_judge only
 * reads the detector confs, so several runs may share them.
 *
 * History requirement (min_history) is enforced here, the one path every
 * caller takes: a slot is judged when the non-gap slots before it, times the
 * period, reach min_history.  A detector's own insufficient_history (an
 * empty window) passes through as it is.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "idxsort.h"
#include "log.h"
#include "run.h"
#include "strutil.h"
#include "timeutil.h"
#include "units.h"

/* Grow *v (element size sz) so that one more fits: by half (the series and
 * results of a large run are most of its memory; less slack than doubling). */
static int grow(void **v, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap + *cap / 2 : 8;
	void *nv = realloc(*v, nc * sz);
	if (!nv)
		return CW_ENOMEM;
	*v = nv;
	*cap = nc;
	return 0;
}

/* ---- the string pool ------------------------------------------------- */

/*
 * Series of one run share most of their names (account, region, metric,
 * unit, owner, tags): each distinct string is stored once, in chunks, and
 * found again through an open-addressing table.  Equal strings of a pool
 * are the same pointer.
 */
struct pool_chunk {
	struct pool_chunk *next;
	size_t used, size;
	char data[];
};

struct cw_strpool {
	const char **slot; /* cap entries, NULL = free; cap a power of two */
	size_t cap, n;
	struct pool_chunk *chunks;
};

#define POOL_CHUNK ((size_t)64 * 1024)

static void pool_free(struct cw_strpool *p)
{
	if (!p)
		return;
	while (p->chunks) {
		struct pool_chunk *c = p->chunks;

		p->chunks = c->next;
		free(c);
	}
	free(p->slot);
	free(p);
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int pool_grow(struct cw_strpool *p)
{
	size_t cap = p->cap ? p->cap * 2 : 1024;
	const char **slot = calloc(cap, sizeof(*slot));

	if (!slot)
		return CW_ENOMEM;
	for (size_t i = 0; i < p->cap; i++) {
		size_t k;

		if (!p->slot[i])
			continue;
		for (k = str_hash(p->slot[i]) & (cap - 1); slot[k]; k = (k + 1) & (cap - 1))
			;
		slot[k] = p->slot[i];
	}
	free(p->slot);
	p->slot = slot;
	p->cap = cap;
	return 0;
}

/* Put every string of the chunks back in a new table (after pool_drop);
 * 0 or CW_ENOMEM with the pool as it was. */
static int pool_rebuild(struct cw_strpool *p)
{
	size_t cap = 1024;
	const char **slot;

	while ((p->n + 1) * 4 > cap * 3)
		cap *= 2;
	if (!(slot = calloc(cap, sizeof(*slot))))
		return CW_ENOMEM;
	for (const struct pool_chunk *c = p->chunks; c; c = c->next) {
		for (size_t off = 0; off < c->used; off += strlen(c->data + off) + 1) {
			size_t k;

			for (k = str_hash(c->data + off) & (cap - 1); slot[k]; k = (k + 1) & (cap - 1))
				;
			slot[k] = c->data + off;
		}
	}
	p->slot = slot;
	p->cap = cap;
	return 0;
}

/* Free the lookup table (8 bytes a string, more than a tenth of what a run
 * of a million series holds); the strings stay.  The next intern builds
 * it again. */
static void pool_drop(struct cw_strpool *p)
{
	free(p->slot);
	p->slot = NULL;
	p->cap = 0;
}

/* The pool's copy of s (NULL -> ""); NULL when out of memory. */
static char *pool_intern(struct cw_strpool *p, const char *s)
{
	size_t len, k;
	char *d;

	if (!s)
		s = "";
	if (!p->slot && p->n && pool_rebuild(p))
		return NULL;
	if ((p->n + 1) * 4 > p->cap * 3 && pool_grow(p))
		return NULL;
	for (k = str_hash(s) & (p->cap - 1); p->slot[k]; k = (k + 1) & (p->cap - 1))
		if (strcmp(p->slot[k], s) == 0)
			return (char *)p->slot[k];
	len = strlen(s) + 1;
	if (!p->chunks || p->chunks->size - p->chunks->used < len) {
		size_t size = len > POOL_CHUNK ? len : POOL_CHUNK;
		struct pool_chunk *c = malloc(sizeof(*c) + size);

		if (!c)
			return NULL;
		c->next = p->chunks;
		c->used = 0;
		c->size = size;
		p->chunks = c;
	}
	d = p->chunks->data + p->chunks->used;
	memcpy(d, s, len);
	p->chunks->used += len;
	p->slot[k] = d;
	p->n++;
	return d;
}

static int intern_id(struct cw_run *run, struct cw_target_id *dst,
		     const struct cw_target_id *src)
{
	static const struct cw_target_id none;

	if (!src)
		src = &none;
	if (!run->pool && !(run->pool = calloc(1, sizeof(*run->pool))))
		return CW_ENOMEM;
	if (!(dst->account_id = pool_intern(run->pool, src->account_id)) ||
	    !(dst->account_name = pool_intern(run->pool, src->account_name)) ||
	    !(dst->region = pool_intern(run->pool, src->region)) ||
	    !(dst->bucket = pool_intern(run->pool, src->bucket)) ||
	    !(dst->metric = pool_intern(run->pool, src->metric)) ||
	    !(dst->unit = pool_intern(run->pool, src->unit)) ||
	    !(dst->owner = pool_intern(run->pool, src->owner)) ||
	    !(dst->tags = pool_intern(run->pool, src->tags)))
		return CW_ENOMEM;
	return 0;
}

/* ---- what the summaries keep of a series ------------------------------ */

#define DAY 86400

static void add_nan(long double *acc, double v)
{
	if (isnan(v))
		return;
	*acc = isnan(*acc) ? v : *acc + v;
}

/* Sum of the non-gap values of [from, to); false when all are gaps. */
static bool window_sum(const struct cw_series *s, size_t from, size_t to, double *sum)
{
	bool any = false;

	*sum = 0;
	for (size_t i = from; i < to; i++) {
		if (!isnan(s->values[i])) {
			*sum += s->values[i];
			any = true;
		}
	}
	return any;
}

/* The transfer over the last CW_SERIES_MONTH_DAYS of complete slots, scaled
 * up to that span when the series holds less history. */
static double month_sum(const struct cw_series *s)
{
	const int64_t span = (int64_t)CW_SERIES_MONTH_DAYS * DAY;
	int64_t wstart, covered;
	double sum = 0;

	if (s->n == 0 || s->period <= 0)
		return 0;
	wstart = s->complete_end - span;
	if (wstart < s->start)
		wstart = s->start;
	covered = s->complete_end - wstart;
	if (covered <= 0)
		return 0;
	for (size_t i = 0; i < s->n; i++) {
		int64_t t = cw_series_time(s, i);

		if (t >= wstart && t + s->period <= s->complete_end && !isnan(s->values[i]))
			sum += s->values[i];
	}
	return covered < span ? sum * (double)span / (double)covered : sum;
}

static void take_sums(struct cw_series_sums *m, const struct cw_target_id *id,
		      const struct cw_series *s)
{
	size_t k = cw_series_complete(s), w;

	memset(m, 0, sizeof(*m));
	m->month = s->values ? month_sum(s) : 0;
	m->bytes = strcmp(id->unit, "Bytes") == 0 && s->period > 0 && s->period <= DAY &&
		   DAY % s->period == 0;
	if (!m->bytes || !s->values)
		return;
	w = (size_t)(7 * DAY / s->period);
	m->moved = k >= 2 * w && window_sum(s, k - w, k, &m->wow_week) &&
		   window_sum(s, k - 2 * w, k - w, &m->wow_prev);
}

/* Does a stand for id (by account id, or by name when the id is "")?  Pool
 * strings: equal is the same pointer. */
static bool acct_is(const struct cw_acct_sums *a, const struct cw_target_id *id)
{
	return a->account_id == id->account_id &&
	       (id->account_id[0] || a->account_name == id->account_name);
}

/* Widen a's days to cover [first, last] (UTC days); false when that would
 * be more than a century of days (not a chart: the days stay as they are). */
static int widen_days(struct cw_acct_sums *a, int64_t first, int64_t last, bool *ok)
{
	int64_t lo, hi;
	size_t shift, n;

	*ok = true;
	if (a->ndaily == 0)
		a->base = first;
	if (first >= a->base && last < a->base + (int64_t)a->ndaily * DAY)
		return 0;
	lo = first < a->base ? first : a->base;
	hi = a->base + (int64_t)a->ndaily * DAY;
	if (last + DAY > hi)
		hi = last + DAY;
	n = (size_t)((hi - lo) / DAY);
	shift = (size_t)((a->base - lo) / DAY);
	if (n > 40000) {
		*ok = false;
		return 0;
	}
	if (n > a->cap) {
		size_t cap = a->cap ? a->cap : 64;
		long double *v;

		while (cap < n)
			cap *= 2;
		v = realloc(a->daily, cap * sizeof(*v));
		if (!v)
			return CW_ENOMEM;
		a->daily = v;
		a->cap = cap;
	}
	memmove(a->daily + shift, a->daily, a->ndaily * sizeof(*a->daily));
	for (size_t d = 0; d < shift; d++)
		a->daily[d] = NAN;
	for (size_t d = shift + a->ndaily; d < n; d++)
		a->daily[d] = NAN;
	a->base = lo;
	a->ndaily = n;
	return 0;
}

/* Count a new series in its account's totals. */
static int add_to_account(struct cw_run *run, const struct cw_target_id *id,
			  const struct cw_series *s, bool bytes)
{
	size_t k = cw_series_complete(s), i = run->last_acct, w;
	struct cw_acct_sums *a;
	int64_t first, last;
	bool ok;
	int rc;

	if (i >= run->naccts || !acct_is(&run->accts[i], id)) {
		for (i = 0; i < run->naccts && !acct_is(&run->accts[i], id); i++)
			;
		if (i == run->naccts) {
			if (grow((void **)&run->accts, &run->cap_accts, run->naccts,
				 sizeof(*run->accts)))
				return CW_ENOMEM;
			a = &run->accts[run->naccts++];
			memset(a, 0, sizeof(*a));
			a->account_id = id->account_id;
			a->account_name = id->account_name;
			a->week = a->prev = NAN;
			a->lo = INT64_MAX;
			a->hi = INT64_MIN;
		}
		run->last_acct = i;
	}
	a = &run->accts[i];
	a->series++;
	if (!bytes)
		return 0;
	a->byte_series++;
	if (!s->values) /* read back without values (merge): no volume */
		return 0;
	for (size_t j = 0; j < k; j++)
		add_nan(&a->lookback, s->values[j]);
	w = (size_t)(7 * DAY / s->period);
	for (size_t j = k > w ? k - w : 0; j < k; j++)
		add_nan(&a->week, s->values[j]);
	for (size_t j = k > 2 * w ? k - 2 * w : 0; j + w < k && k >= w; j++)
		add_nan(&a->prev, s->values[j]);
	if (k == 0)
		return 0;
	if (s->start < a->lo)
		a->lo = s->start;
	if (cw_series_time(s, k) > a->hi)
		a->hi = cw_series_time(s, k);
	first = s->start - (((s->start % DAY) + DAY) % DAY);
	last = cw_series_time(s, k - 1);
	last -= ((last % DAY) + DAY) % DAY;
	if ((rc = widen_days(a, first, last, &ok)) || !ok)
		return rc;
	for (size_t j = 0; j < k; j++)
		add_nan(&a->daily[(cw_series_time(s, j) - a->base) / DAY], s->values[j]);
	return 0;
}

int cw_run_init(struct cw_run *run, const char *mode)
{
	memset(run, 0, sizeof(*run));
	run->total_excess_usd = NAN;
	if (cw_str_set(&run->mode, mode) || cw_str_set(&run->run_id, "") ||
	    cw_str_set(&run->inventory, "") || cw_str_set(&run->price_note, "")) {
		cw_run_release(run);
		return CW_ENOMEM;
	}
	return 0;
}

void cw_target_id_release(struct cw_target_id *id)
{
	if (!id)
		return;
	free(id->account_id);
	free(id->account_name);
	free(id->region);
	free(id->bucket);
	free(id->metric);
	free(id->unit);
	free(id->owner);
	free(id->tags);
	memset(id, 0, sizeof(*id));
}

int cw_target_id_copy(struct cw_target_id *dst, const struct cw_target_id *src)
{
	static const struct cw_target_id none;
	memset(dst, 0, sizeof(*dst));
	if (!src)
		src = &none;
	if (cw_str_set(&dst->account_id, src->account_id) ||
	    cw_str_set(&dst->account_name, src->account_name) ||
	    cw_str_set(&dst->region, src->region) || cw_str_set(&dst->bucket, src->bucket) ||
	    cw_str_set(&dst->metric, src->metric) || cw_str_set(&dst->unit, src->unit) ||
	    cw_str_set(&dst->owner, src->owner) || cw_str_set(&dst->tags, src->tags)) {
		cw_target_id_release(dst);
		return CW_ENOMEM;
	}
	return 0;
}

void cw_run_release(struct cw_run *run)
{
	if (!run)
		return;
	for (size_t i = 0; i < run->nseries; i++) {
		cw_series_release(&run->series[i].series);
	}
	free(run->series);
	for (size_t i = 0; i < run->nexcl; i++)
		free(run->excl[i].slot);
	free(run->excl);
	for (size_t i = 0; i < run->naccts; i++)
		free(run->accts[i].daily);
	free(run->accts);
	pool_free(run->pool);
	for (size_t i = 0; i < run->nresults; i++)
		free(run->results[i].note);
	free(run->results);
	for (size_t i = 0; i < run->nfailures; i++) {
		cw_target_id_release(&run->failures[i].id);
		free(run->failures[i].stage);
		free(run->failures[i].code);
		free(run->failures[i].message);
	}
	free(run->failures);
	for (size_t i = 0; i < run->nunmeasured; i++) {
		cw_target_id_release(&run->unmeasured[i].id);
		free(run->unmeasured[i].reason);
		free(run->unmeasured[i].fix);
	}
	free(run->unmeasured);
	for (size_t i = 0; i < run->ncoverage; i++) {
		free(run->coverage[i].account_id);
		free(run->coverage[i].account_name);
	}
	free(run->coverage);
	for (size_t i = 0; i < run->ndetectors; i++)
		free(run->detectors[i]);
	free(run->detectors);
	free(run->mode);
	free(run->run_id);
	free(run->inventory);
	free(run->price_note);
	memset(run, 0, sizeof(*run));
}

int cw_run_add_series(struct cw_run *run, const struct cw_target_id *id,
		      struct cw_series *s, size_t *idx)
{
	if (run->nseries >= UINT32_MAX || /* cw_result.series */
	    grow((void **)&run->series, &run->cap_series, run->nseries, sizeof(*run->series)))
		return CW_ENOMEM;
	struct cw_run_series *rs = &run->series[run->nseries];
	memset(rs, 0, sizeof(*rs));
	if (intern_id(run, &rs->id, id))
		return CW_ENOMEM;
	take_sums(&rs->sums, &rs->id, s);
	if (add_to_account(run, &rs->id, s, rs->sums.bytes))
		return CW_ENOMEM;
	rs->series = *s;
	memset(s, 0, sizeof(*s));
	if (idx)
		*idx = run->nseries;
	run->nseries++;
	return 0;
}

/* A run keeps one result per series and detector: millions.  A field put
 * where it opens a hole in them costs megabytes (README "Scale"). */
_Static_assert(sizeof(struct cw_judgement) <= 72, "cw_judgement grew");
_Static_assert(sizeof(struct cw_result) <= 104, "cw_result grew");

void cw_run_added(struct cw_run *run)
{
	if (run->pool)
		pool_drop(run->pool);
}

int cw_run_add_result(struct cw_run *run, size_t series, const char *detector,
		      const struct cw_judgement *j, const char *note)
{
	if (grow((void **)&run->results, &run->cap_results, run->nresults,
		 sizeof(*run->results)))
		return CW_ENOMEM;
	struct cw_result *r = &run->results[run->nresults];
	memset(r, 0, sizeof(*r));
	if (note) {
		r->note = cw_strdup(note);
		if (!r->note)
			return CW_ENOMEM;
	}
	r->series = (uint32_t)series;
	r->detector = detector;
	r->j = *j;
	r->est_excess_usd = NAN;
	r->alert = CW_ALERT_NONE;
	run->nresults++;
	run->sorted = false;
	return 0;
}

/*
 * *dst = a redacted copy of src (NULL -> ""): failure texts come from AWS
 * or a proxy, which may echo a token; every report and the terminal read
 * them from here.
 */
static int set_redacted(char **dst, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	size_t cap = n * 3 + 16; /* a marker can grow by its "[REDACTED]" */
	char *v = malloc(cap);

	if (!v)
		return CW_ENOMEM;
	cw_redact(src ? src : "", v, cap);
	free(*dst);
	*dst = v;
	return 0;
}

int cw_run_add_failure(struct cw_run *run, const struct cw_target_id *id,
		       const char *stage, const char *code, const char *message)
{
	if (grow((void **)&run->failures, &run->cap_failures, run->nfailures,
		 sizeof(*run->failures)))
		return CW_ENOMEM;
	struct cw_failure *f = &run->failures[run->nfailures];
	memset(f, 0, sizeof(*f));
	if (cw_target_id_copy(&f->id, id) || cw_str_set(&f->stage, stage) ||
	    set_redacted(&f->code, code) || set_redacted(&f->message, message)) {
		cw_target_id_release(&f->id);
		free(f->stage);
		free(f->code);
		free(f->message);
		return CW_ENOMEM;
	}
	run->nfailures++;
	return 0;
}

int cw_run_add_unmeasured(struct cw_run *run, const struct cw_target_id *id,
			  const char *reason, const char *fix)
{
	if (grow((void **)&run->unmeasured, &run->cap_unmeasured, run->nunmeasured,
		 sizeof(*run->unmeasured)))
		return CW_ENOMEM;
	struct cw_unmeasured *u = &run->unmeasured[run->nunmeasured];
	memset(u, 0, sizeof(*u));
	if (cw_target_id_copy(&u->id, id) || cw_str_set(&u->reason, reason) ||
	    cw_str_set(&u->fix, fix)) {
		cw_target_id_release(&u->id);
		free(u->reason);
		free(u->fix);
		return CW_ENOMEM;
	}
	u->stored_bytes = NAN;
	u->watch_usd_month = NAN;
	run->nunmeasured++;
	return 0;
}

int cw_run_add_unwatched(struct cw_run *run, const struct cw_target_id *id,
			 enum cw_unmeasured_kind kind, double stored_bytes,
			 double watch_usd_month, const char *reason, const char *fix)
{
	int rc = cw_run_add_unmeasured(run, id, reason, fix);
	struct cw_unmeasured *u;

	if (rc)
		return rc;
	u = &run->unmeasured[run->nunmeasured - 1];
	u->kind = kind;
	u->stored_bytes = stored_bytes;
	u->watch_usd_month = watch_usd_month;
	return 0;
}

const char *cw_unmeasured_kind_name(enum cw_unmeasured_kind k)
{
	return k == CW_UNMEASURED_NOT_WATCHED ? "not_watched" : "not_found";
}

int cw_run_add_coverage(struct cw_run *run, const struct cw_coverage *c)
{
	struct cw_coverage *d;

	if (grow((void **)&run->coverage, &run->cap_coverage, run->ncoverage,
		 sizeof(*run->coverage)))
		return CW_ENOMEM;
	d = &run->coverage[run->ncoverage];
	*d = *c;
	d->account_id = NULL;
	d->account_name = NULL;
	if (cw_str_set(&d->account_id, c->account_id) ||
	    cw_str_set(&d->account_name, c->account_name)) {
		free(d->account_id);
		free(d->account_name);
		return CW_ENOMEM;
	}
	run->ncoverage++;
	return 0;
}

bool cw_run_coverage_total(const struct cw_run *run, struct cw_coverage *t)
{
	memset(t, 0, sizeof(*t));
	t->complete = true;
	for (size_t i = 0; i < run->ncoverage; i++) {
		const struct cw_coverage *c = &run->coverage[i];

		t->buckets += c->buckets;
		t->watched += c->watched;
		t->bytes += c->bytes;
		t->watched_bytes += c->watched_bytes;
		t->complete = t->complete && c->complete;
	}
	return run->ncoverage > 0;
}

char *cw_coverage_line(const struct cw_coverage *c, char *buf, size_t len)
{
	char pct[32];

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (!c)
		return buf;
	if (c->bytes > 0) {
		double p = 100.0 * c->watched_bytes / c->bytes;
		/* never round a partial coverage up to 100% or a real one down to 0% */
		if (p > 99.0 && p < 100.0)
			snprintf(pct, sizeof(pct), " (>99%% of stored bytes)");
		else if (p > 0.0 && p < 1.0)
			snprintf(pct, sizeof(pct), " (<1%% of stored bytes)");
		else
			snprintf(pct, sizeof(pct), " (%.0f%% of stored bytes)", p);
	} else {
		pct[0] = '\0';
	}
	snprintf(buf, len, "watching %zu of %zu bucket%s%s%s", c->watched, c->buckets,
		 c->buckets == 1 ? "" : "s", pct, c->complete ? "" : ", some regions unknown");
	return buf;
}

/* ---- judging ---------------------------------------------------------- */

/* What the emit callback needs: the history requirement is applied as the
 * judgements stream by in slot order. */
struct judge_ctx {
	struct cw_run *run;
	size_t series;
	const struct cw_series *s;
	const char *detector;
	int64_t min_history;  /* seconds */
	double min_excess_usd;/* the dollar gate */
	size_t hist_idx;      /* history counted over [0, hist_idx) */
	size_t hist_cnt;      /* non-gap slots in [0, hist_idx) */
	bool keep_short;      /* add insufficient results too (last-only mode) */
	size_t added;
};

/* "episode since 2026-11-20T00:00Z, 3 periods, peak 340000000000; level_shift" */
static const char *episode_note(const struct cw_judgement *j, const struct cw_series *s,
				char *buf, size_t len)
{
	char when[32];
	int w = 0;

	(void)s;
	buf[0] = 0;
	if (j->episode_len > 1) {
		cw_time_iso(j->episode_start, when, sizeof(when));
		w = snprintf(buf, len, "episode since %s, %u periods, peak %.17g", when,
			     (unsigned)j->episode_len, j->episode_peak);
	}
	if (j->kind && w >= 0 && (size_t)w < len)
		snprintf(buf + w, len - (size_t)w, "%s%s", w ? "; " : "", j->kind);
	return buf[0] ? buf : NULL;
}

static int judge_emit(void *vctx, const struct cw_judgement *jin)
{
	struct judge_ctx *c = vctx;
	const struct cw_series *s = c->s;
	struct cw_judgement j = *jin;
	char note[192];
	const char *why = NULL;

	size_t i = (size_t)((j.period_start - s->start) / s->period);
	while (c->hist_idx < i) {
		c->hist_cnt += !isnan(s->values[c->hist_idx]);
		c->hist_idx++;
	}
	int64_t have = (int64_t)c->hist_cnt * s->period;
	if (have < c->min_history) {
		char a[32], b[32];
		j.status = CW_STATUS_INSUFFICIENT;
		snprintf(note, sizeof(note), "%s of history, %s needed",
			 cw_fmt_duration(have, a, sizeof(a)),
			 cw_fmt_duration(c->min_history, b, sizeof(b)));
		why = note;
	} else if (j.status == CW_STATUS_INSUFFICIENT) {
		why = "no datapoint in the detector's window";
	} else if (j.status == CW_STATUS_ANOMALY &&
		   cw_judge_below_gate(&j, s, c->min_excess_usd)) {
		/* still a row, but not an alert: the excess costs too little */
		double ref = !isnan(j.baseline) ? j.baseline : j.limit;
		j.status = CW_STATUS_OK;
		snprintf(note, sizeof(note),
			 "below the dollar gate: excess est. $%.2f a day < min_excess_usd $%g",
			 fabs(j.value - ref) * s->usd_per_unit * 86400.0 / (double)s->period,
			 c->min_excess_usd);
		why = note;
	} else if (j.kind || j.episode_len > 1) {
		why = episode_note(&j, s, note, sizeof(note));
	}
	if (j.status == CW_STATUS_INSUFFICIENT && !c->keep_short)
		return 0;
	int rc = cw_run_add_result(c->run, c->series, c->detector, &j, why);
	if (rc == 0)
		c->added++;
	return rc;
}

/* First slot whose non-gap history before it reaches min_history (k when
 * none does). */
static size_t first_judgeable(const struct cw_series *s, size_t k, int64_t min_history)
{
	size_t cnt = 0;
	for (size_t i = 0; i < k; i++) {
		if ((int64_t)cnt * s->period >= min_history)
			return i;
		cnt += !isnan(s->values[i]);
	}
	return k;
}

static int add_short(struct cw_run *run, size_t series, const char *det,
		     const struct cw_series *s, size_t slot, const char *note)
{
	struct cw_judgement j = {
		.status = CW_STATUS_INSUFFICIENT,
		.severity = CW_SEV_INFO,
		.period_start = s->n ? cw_series_time(s, slot) : s->start,
		.value = s->n ? s->values[slot] : NAN,
		.baseline = NAN,
		.limit = NAN,
		.score = NAN,
	};
	return cw_run_add_result(run, series, det, &j, note);
}

/* An excluded period: ok, with its own value and the reason. */
static int add_excluded(struct cw_run *run, size_t series, const char *det,
			const struct cw_detector_conf *dc, const struct cw_run_series *rs,
			const char *const *excluded, size_t slot)
{
	char note[160];
	struct cw_judgement j = cw_judgement_start(&rs->series, slot, dc->p);

	j.status = CW_STATUS_OK;
	snprintf(note, sizeof(note), "excluded: %s", excluded[slot]);
	return cw_run_add_result(run, series, det, &j, note);
}

/* Where series is or would go in cw_run.excl (kept in series order: a
 * run that is not lean keeps every entry, so no scan of them all). */
static size_t excl_pos(const struct cw_run *run, size_t series)
{
	size_t lo = 0, hi = run->nexcl;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (run->excl[mid].series < series)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The entry of cw_run.excl for series; NULL when it has none. */
static struct cw_run_excl *excl_of(const struct cw_run *run, size_t series)
{
	size_t i = excl_pos(run, series);

	return i < run->nexcl && run->excl[i].series == series ? &run->excl[i] : NULL;
}

int cw_run_exclude(struct cw_run *run, size_t series, int64_t from, int64_t to,
		   const char *reason)
{
	if (series >= run->nseries)
		return CW_EINVAL;
	const struct cw_series *s = &run->series[series].series;
	struct cw_run_excl *x = excl_of(run, series);
	for (size_t i = 0; i < s->n; i++) {
		int64_t t = cw_series_time(s, i);
		if (t + s->period <= from || t >= to)
			continue;
		if (!x) {
			const char **slot = calloc(s->n, sizeof(*slot));

			if (!slot || grow((void **)&run->excl, &run->cap_excl, run->nexcl,
					  sizeof(*run->excl))) {
				free(slot);
				return CW_ENOMEM;
			}
			size_t at = excl_pos(run, series);

			memmove(&run->excl[at + 1], &run->excl[at],
				(run->nexcl - at) * sizeof(*run->excl));
			run->nexcl++;
			x = &run->excl[at];
			x->series = series;
			x->slot = slot;
		}
		if (!x->slot[i])
			x->slot[i] = reason;
	}
	return 0;
}

/* A judged series of a lean run: its values go unless a judgement of it
 * (results[first..]) is an anomaly; the exclusions were for judging only. */
static void settle(struct cw_run *run, size_t series, size_t first)
{
	struct cw_run_series *rs = &run->series[series];
	struct cw_run_excl *x = excl_of(run, series);

	if (x) {
		size_t at = (size_t)(x - run->excl);

		free(x->slot);
		memmove(x, x + 1, (--run->nexcl - at) * sizeof(*x));
	}
	for (size_t i = first; i < run->nresults; i++)
		if (run->results[i].j.status == CW_STATUS_ANOMALY)
			return;
	free(rs->series.values);
	rs->series.values = NULL;
}

int cw_run_judge(struct cw_run *run, size_t series,
		 const struct cw_detector_conf *dets, size_t ndets,
		 bool all_periods, char *err, size_t errlen)
{
	if (series >= run->nseries)
		return cw_fail(err, errlen, CW_EINVAL, "judge: no series %zu", series);
	const struct cw_run_series *rs = &run->series[series];
	const struct cw_series *s = &rs->series;
	const struct cw_run_excl *x = excl_of(run, series);
	const char *const *excluded = x ? x->slot : NULL;
	struct cw_series hidden;
	size_t k = cw_series_complete(s), first = run->nresults;
	int out = 0;

	if (excluded) {
		/* the detectors see excluded periods as gaps */
		hidden = *s;
		hidden.values = malloc((s->n ? s->n : 1) * sizeof(double));
		if (!hidden.values)
			return cw_fail(err, errlen, CW_ENOMEM, "out of memory");
		for (size_t i = 0; i < s->n; i++)
			hidden.values[i] = excluded[i] ? NAN : s->values[i];
		s = &hidden;
	}

	for (size_t d = 0; d < ndets; d++) {
		const struct cw_detector_conf *dc = &dets[d];
		const char *name = dc->ops->name;
		int rc;

		if (k == 0) {
			rc = add_short(run, series, name, s, 0, "no complete period in the series");
			if (rc)
				goto oom;
			continue;
		}
		struct judge_ctx c = {
			.run = run, .series = series, .s = s, .detector = name,
			.min_history = (int64_t)dc->p[CW_P_MIN_HISTORY],
			.min_excess_usd = dc->p[CW_P_MIN_EXCESS_USD],
			.keep_short = !all_periods,
		};
		size_t from = k - 1;
		if (all_periods) {
			from = first_judgeable(s, k, c.min_history);
		} else if (excluded && excluded[k - 1]) {
			rc = add_excluded(run, series, name, dc, rs, excluded, k - 1);
			if (rc)
				goto oom;
			continue;
		} else if (isnan(s->values[k - 1])) {
			rc = add_short(run, series, name, s, k - 1,
				       "no datapoint in the judged period");
			if (rc)
				goto oom;
			continue;
		}
		if (from < k) {
			rc = dc->ops->run(dc->state, dc->p, s, from, k, judge_emit, &c);
			if (rc) {
				out = cw_fail(err, errlen, rc, "%s: judging series %zu failed: %s",
					      name, series, cw_strerror(rc));
				goto done;
			}
		}
		for (size_t i = from; all_periods && excluded && i < k; i++) {
			if (excluded[i] && !isnan(rs->series.values[i]) &&
			    (rc = add_excluded(run, series, name, dc, rs, excluded, i)))
				goto oom;
			c.added += excluded[i] != NULL;
		}
		if (all_periods && c.added == 0) {
			/* nothing judgeable: say so once rather than stay silent */
			char a[32], note[96];
			snprintf(note, sizeof(note), "no period with %s of history before it",
				 cw_fmt_duration(c.min_history, a, sizeof(a)));
			rc = add_short(run, series, name, s, k - 1, note);
			if (rc)
				goto oom;
		}
	}
	goto done;
oom:
	out = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
done:
	if (s == &hidden)
		free(hidden.values);
	if (out == 0 && run->lean)
		settle(run, series, first);
	return out;
}



/* ---- summaries -------------------------------------------------------- */

void cw_run_count(const struct cw_run *run, struct cw_run_counts *c)
{
	memset(c, 0, sizeof(*c));
	c->series = run->nseries;
	c->judgements = run->nresults;
	c->failures = run->nfailures;
	c->unmeasured = run->nunmeasured;
	for (size_t i = 0; i < run->nunmeasured; i++) {
		if (run->unmeasured[i].kind == CW_UNMEASURED_NOT_WATCHED)
			c->not_watched++;
		else
			c->not_found++;
	}
	for (size_t i = 0; i < run->nresults; i++) {
		switch (run->results[i].j.status) {
		case CW_STATUS_OK: c->ok++; break;
		case CW_STATUS_ANOMALY: c->anomalies++; break;
		case CW_STATUS_INSUFFICIENT: c->insufficient++; break;
		case CW_STATUS_FAILED: c->failures++; break;
		}
	}
}

int cw_run_exit_code(const struct cw_run *run)
{
	struct cw_run_counts c;
	cw_run_count(run, &c);
	if (c.failures > 0)
		return 3;
	return c.anomalies > 0 ? 1 : 0;
}

/* ---- reading order ---------------------------------------------------- */

static int status_rank(enum cw_status st)
{
	switch (st) {
	case CW_STATUS_ANOMALY: return 0;
	case CW_STATUS_FAILED: return 1;
	case CW_STATUS_INSUFFICIENT: return 2;
	case CW_STATUS_OK: return 3;
	}
	return 4;
}

static double excess(const struct cw_result *r)
{
	double e = fabs(r->j.value - r->j.baseline);
	return isnan(e) ? -1 : e;
}

static int strcmp0(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int result_cmp(const struct cw_run *run, const struct cw_result *a,
		      const struct cw_result *b)
{
	int ra = status_rank(a->j.status), rb = status_rank(b->j.status);
	if (ra != rb)
		return ra < rb ? -1 : 1;
	if (a->j.status == CW_STATUS_ANOMALY && a->j.severity != b->j.severity)
		return a->j.severity > b->j.severity ? -1 : 1;
	double ea = excess(a), eb = excess(b);
	if (ea != eb)
		return ea > eb ? -1 : 1;
	if (a->series != b->series && a->series < run->nseries && b->series < run->nseries) {
		const struct cw_target_id *x = &run->series[a->series].id;
		const struct cw_target_id *y = &run->series[b->series].id;
		int c;
		if ((c = strcmp0(x->account_name, y->account_name)) ||
		    (c = strcmp0(x->account_id, y->account_id)) ||
		    (c = strcmp0(x->region, y->region)) ||
		    (c = strcmp0(x->bucket, y->bucket)) ||
		    (c = strcmp0(x->metric, y->metric)))
			return c;
	}
	return strcmp0(a->detector, b->detector);
}

/*
 * Put a[] in the order of ix (a[i] becomes the old a[ix[i]]) in place,
 * following each cycle of the permutation once; ix is spent (every entry
 * ends as its own index).
 */
static void permute(struct cw_result *a, uint32_t *ix, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct cw_result x;
		size_t j = i;

		if (ix[i] == i)
			continue;
		x = a[i];
		for (;;) {
			size_t k = ix[j];

			ix[j] = (uint32_t)j;
			if (k == i) {
				a[j] = x;
				break;
			}
			a[j] = a[k];
			j = k;
		}
	}
}

static int result_cmp_idx(const void *ctx, uint32_t a, uint32_t b)
{
	const struct cw_run *run = ctx;

	return result_cmp(run, &run->results[a], &run->results[b]);
}

void cw_run_sort_results(struct cw_run *run)
{
	size_t n = run->nresults;
	struct cw_result *a = run->results;
	uint32_t *ix = NULL;

	if (n < 2) {
		run->sorted = true;
		return;
	}
	/* The sort moves 32-bit indices (a run holds millions of results: a
	 * second copy of them would be the run's peak of memory), then the
	 * results move once, in place. */
	if (n <= UINT32_MAX && (ix = malloc(n * sizeof(*ix)))) {
		for (size_t i = 0; i < n; i++)
			ix[i] = (uint32_t)i;
		if (cw_idxsort(ix, n, result_cmp_idx, run) == 0) {
			permute(a, ix, n);
			free(ix);
			run->sorted = true;
			return;
		}
		free(ix);
	}
	/* stable insertion sort in place when memory is short (or beyond 2^32
	 * results, more than memory holds) */
	for (size_t i = 1; i < n; i++) {
		struct cw_result x = a[i];
		size_t k = i;
		while (k > 0 && result_cmp(run, &a[k - 1], &x) > 0) {
			a[k] = a[k - 1];
			k--;
		}
		a[k] = x;
	}
	run->sorted = true;
}
