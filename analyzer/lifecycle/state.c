/*
 * state.c - the alert state file: load (forgiving), apply a run to it,
 * save (atomic, 0600).  See state.h for the rules and the file format.
 *
 * Entries are kept sorted by key, so a run looks each key up with bsearch
 * and the saved file is stable from night to night.  One thread, under
 * the run lock (which `cwsweep ack` takes too); a save still keeps an
 * acknowledgement written since the load (see cw_state_save).
 */
#include "state.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomicio.h"
#include "err.h"
#include "idxsort.h"
#include "log.h"
#include "strutil.h"
#include "timeutil.h"

#define DAY 86400
/* A nightly job drifts by seconds: a run this much before the cooldown
 * ends still counts as after it (at most an hour, a tenth of the cooldown). */
#define COOLDOWN_SLACK_MAX 3600

/* ---- keys and entries ---------------------------------------------------- */

static const char *s0(const char *s)
{
	return s ? s : "";
}

/* The five key parts of a key, in order. */
static void key_parts(const struct cw_state_key *k, const char *p[5])
{
	p[0] = k->account_id;
	p[1] = k->region;
	p[2] = k->bucket;
	p[3] = k->metric;
	p[4] = k->detector;
}

static int parts_cmp(const char *const a[5], const char *const b[5])
{
	for (int i = 0; i < 5; i++) {
		int c = strcmp(s0(a[i]), s0(b[i]));

		if (c)
			return c;
	}
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const char *pa[5], *pb[5];

	key_parts(&((const struct cw_state_entry *)a)->key, pa);
	key_parts(&((const struct cw_state_entry *)b)->key, pb);
	return parts_cmp(pa, pb);
}

static void key_release(struct cw_state_key *k)
{
	free(k->account_id);
	free(k->region);
	free(k->bucket);
	free(k->metric);
	free(k->detector);
	memset(k, 0, sizeof(*k));
}

/* Copy the five parts (NULL -> "") into k.  0 or CW_ENOMEM (k empty). */
static int key_set(struct cw_state_key *k, const char *const p[5])
{
	k->account_id = cw_strdup(s0(p[0]));
	k->region = cw_strdup(s0(p[1]));
	k->bucket = cw_strdup(s0(p[2]));
	k->metric = cw_strdup(s0(p[3]));
	k->detector = cw_strdup(s0(p[4]));
	if (k->account_id && k->region && k->bucket && k->metric && k->detector)
		return 0;
	key_release(k);
	return CW_ENOMEM;
}

static int entries_grow(struct cw_state *st, size_t need)
{
	size_t ncap;
	void *nv;

	if (need <= st->cap)
		return 0;
	ncap = st->cap ? st->cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	if (ncap > SIZE_MAX / sizeof(*st->v))
		return CW_ENOMEM;
	nv = realloc(st->v, ncap * sizeof(*st->v));
	if (!nv)
		return CW_ENOMEM;
	st->v = nv;
	st->cap = ncap;
	return 0;
}

void cw_state_init(struct cw_state *st)
{
	memset(st, 0, sizeof(*st));
}

static void ack_release(struct cw_state_ack *a)
{
	free(a->account_id);
	free(a->region);
	free(a->bucket);
	free(a->reason);
}

int cw_state_ack_add(struct cw_state *st, const char *account_id, const char *region,
		     const char *bucket, int64_t at, int64_t until, const char *reason)
{
	struct cw_state_ack a = { cw_strdup(account_id), cw_strdup(region), cw_strdup(bucket),
				  cw_strdup(reason ? reason : ""), at, until };
	struct cw_state_ack *v;

	if (!a.account_id || !a.region || !a.bucket || !a.reason)
		goto oom;
	for (size_t i = 0; i < st->nacks; i++) {
		struct cw_state_ack *o = &st->acks[i];
		if (strcmp(o->account_id, account_id) == 0 && strcmp(o->region, region) == 0 &&
		    strcmp(o->bucket, bucket) == 0) {
			ack_release(o);
			*o = a;
			return 0;
		}
	}
	v = realloc(st->acks, (st->nacks + 1) * sizeof(*v));
	if (!v)
		goto oom;
	st->acks = v;
	st->acks[st->nacks++] = a;
	return 0;
oom:
	ack_release(&a);
	return CW_ENOMEM;
}

/* The acknowledgement that holds for this bucket now, or NULL. */
static const struct cw_state_ack *ack_for(const struct cw_state *st, const char *account_id,
					  const char *region, const char *bucket, int64_t now)
{
	for (size_t i = 0; i < st->nacks; i++) {
		const struct cw_state_ack *a = &st->acks[i];
		if (strcmp(a->account_id, account_id ? account_id : "") == 0 &&
		    strcmp(a->region, region ? region : "") == 0 &&
		    strcmp(a->bucket, bucket ? bucket : "") == 0 &&
		    (a->until == 0 || now < a->until))
			return a;
	}
	return NULL;
}

/* Drop acknowledgements that ended: past `until`, or (no until) given
 * before this run for a bucket with no anomalous entry left. */
static void acks_expire(struct cw_state *st, int64_t now)
{
	size_t k = 0;

	for (size_t i = 0; i < st->nacks; i++) {
		struct cw_state_ack *a = &st->acks[i];
		bool live = a->until ? now < a->until : a->at >= now;
		for (size_t j = 0; !live && !a->until && j < st->n; j++)
			live = st->v[j].status == CW_STATE_ANOMALY &&
			       strcmp(st->v[j].key.account_id, a->account_id) == 0 &&
			       strcmp(st->v[j].key.region, a->region) == 0 &&
			       strcmp(st->v[j].key.bucket, a->bucket) == 0;
		if (!live) {
			ack_release(a);
			continue;
		}
		st->acks[k++] = *a;
	}
	st->nacks = k;
}

void cw_state_release(struct cw_state *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n; i++)
		key_release(&st->v[i].key);
	free(st->v);
	for (size_t i = 0; i < st->nnotices; i++)
		free(st->notices[i].reason);
	free(st->notices);
	for (size_t i = 0; i < st->nacks; i++)
		ack_release(&st->acks[i]);
	free(st->acks);
	for (size_t i = 0; i < st->nloaded_acks; i++)
		ack_release(&st->loaded_acks[i]);
	free(st->loaded_acks);
	memset(st, 0, sizeof(*st));
}

const struct cw_state_entry *cw_state_find(const struct cw_state *st, const char *account_id,
					   const char *region, const char *bucket,
					   const char *metric, const char *detector)
{
	const char *want[5] = { account_id, region, bucket, metric, detector };

	for (size_t i = 0; i < st->n; i++) {
		const char *have[5];

		key_parts(&st->v[i].key, have);
		if (parts_cmp(have, want) == 0)
			return &st->v[i];
	}
	return NULL;
}

/* ---- parse --------------------------------------------------------------- */

static const char *const status_words[] = { "anomaly", "resolved" };

/* A string member (may be ""), or NULL with a message. */
static const char *get_str(json_t *obj, const char *name, const char *where,
			   const char *file, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, name);

	if (!json_is_string(v)) {
		cw_fail(err, errlen, CW_EPARSE, "%s: %s.%s: %s", file, where, name,
			v ? "not a string" : "missing");
		return NULL;
	}
	return json_string_value(v);
}

static int get_time(json_t *obj, const char *name, const char *where, const char *file,
		    int64_t *out, char *err, size_t errlen)
{
	const char *s = get_str(obj, name, where, file, err, errlen);

	if (!s)
		return CW_EPARSE;
	if (cw_time_parse(s, out) != 0)
		return cw_fail(err, errlen, CW_EPARSE, "%s: %s.%s: not an ISO 8601 time",
			       file, where, name);
	return 0;
}

/* A number, or null / absent for "unknown" (NaN). */
static int get_num(json_t *obj, const char *name, const char *where, const char *file,
		   double *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, name);

	if (!v || json_is_null(v)) {
		*out = NAN;
		return 0;
	}
	if (!json_is_number(v))
		return cw_fail(err, errlen, CW_EPARSE, "%s: %s.%s: not a number", file, where,
			       name);
	*out = json_number_value(v);
	return 0;
}

static int parse_entry(json_t *e, const char *where, const char *file,
		       struct cw_state_entry *out, char *err, size_t errlen)
{
	static const char *const names[5] = { "account_id", "region", "bucket", "metric",
					      "detector" };
	const char *parts[5], *status;
	char kwhere[64];
	json_t *key;
	size_t si;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(e))
		return cw_fail(err, errlen, CW_EPARSE, "%s: %s: not an object", file, where);
	key = json_object_get(e, "key");
	if (!json_is_object(key))
		return cw_fail(err, errlen, CW_EPARSE, "%s: %s.key: %s", file, where,
			       key ? "not an object" : "missing");
	snprintf(kwhere, sizeof(kwhere), "%s.key", where);
	for (int i = 0; i < 5; i++) {
		parts[i] = get_str(key, names[i], kwhere, file, err, errlen);
		if (!parts[i])
			return CW_EPARSE;
	}
	status = get_str(e, "status", where, file, err, errlen);
	if (!status)
		return CW_EPARSE;
	for (si = 0; si < 2; si++)
		if (strcmp(status, status_words[si]) == 0)
			break;
	if (si == 2)
		return cw_fail(err, errlen, CW_EPARSE, "%s: %s.status: not anomaly or resolved",
			       file, where);
	out->status = (enum cw_state_status)si;
	if ((rc = get_time(e, "first_seen", where, file, &out->first_seen, err, errlen)) ||
	    (rc = get_time(e, "last_seen", where, file, &out->last_seen, err, errlen)) ||
	    (rc = get_time(e, "last_announced", where, file, &out->last_announced, err,
			   errlen)) ||
	    (rc = get_num(e, "announced_value", where, file, &out->announced_value, err,
			  errlen)) ||
	    (rc = get_num(e, "announced_excess", where, file, &out->announced_excess, err,
			  errlen)) ||
	    (rc = get_num(e, "last_value", where, file, &out->last_value, err, errlen)) ||
	    (rc = get_num(e, "last_excess", where, file, &out->last_excess, err, errlen)))
		return rc;
	if (key_set(&out->key, parts))
		return cw_fail(err, errlen, CW_ENOMEM, "%s: out of memory", file);
	return 0;
}

/* The optional "coverage" member; absent or null = unknown. */
static int parse_coverage(json_t *c, const char *name, struct cw_state_coverage *out,
			  char *err, size_t errlen)
{
	json_t *b, *w, *sb, *wb;

	memset(out, 0, sizeof(*out));
	if (!c || json_is_null(c))
		return 0;
	b = json_object_get(c, "buckets");
	w = json_object_get(c, "watched");
	sb = json_object_get(c, "stored_bytes");
	wb = json_object_get(c, "watched_bytes");
	if (!json_is_object(c) || !json_is_integer(b) || !json_is_integer(w) ||
	    !json_is_number(sb) || !json_is_number(wb) || json_integer_value(b) < 0 ||
	    json_integer_value(w) < 0 || json_integer_value(w) > json_integer_value(b) ||
	    json_number_value(sb) < 0 || json_number_value(wb) < 0)
		return cw_fail(err, errlen, CW_EPARSE, "%s: coverage: expected {buckets, watched, "
			       "stored_bytes, watched_bytes} with watched <= buckets", name);
	out->known = true;
	out->buckets = (size_t)json_integer_value(b);
	out->watched = (size_t)json_integer_value(w);
	out->bytes = json_number_value(sb);
	out->watched_bytes = json_number_value(wb);
	return 0;
}

#define NOTICE_KEEP_S (30 * 86400)
#define NOTICE_MAX 64

/* "notices" is optional (older files have none). */
static int parse_notices(struct cw_state *st, json_t *notices, const char *name,
			 char *err, size_t errlen)
{
	if (!notices)
		return 0;
	if (!json_is_array(notices))
		return cw_fail(err, errlen, CW_EPARSE, "%s: notices: not a list", name);
	for (size_t i = 0; i < json_array_size(notices) && i < NOTICE_MAX; i++) {
		json_t *n = json_array_get(notices, i);
		char where[48];
		const char *reason;
		int64_t at;
		int rc;

		snprintf(where, sizeof(where), "notices[%zu]", i);
		if (!json_is_object(n))
			return cw_fail(err, errlen, CW_EPARSE, "%s: %s: not an object", name, where);
		reason = get_str(n, "reason", where, name, err, errlen);
		if (!reason)
			return CW_EPARSE;
		if ((rc = get_time(n, "last_posted", where, name, &at, err, errlen)))
			return rc;
		if ((rc = cw_state_notice_posted(st, reason, at)))
			return cw_fail(err, errlen, rc, "%s: out of memory", name);
	}
	return 0;
}

#define ACK_MAX 10000

/* "acks" is optional (older files have none). */
static int parse_acks(struct cw_state *st, json_t *acks, const char *name, char *err,
		      size_t errlen)
{
	if (!acks)
		return 0;
	if (!json_is_array(acks))
		return cw_fail(err, errlen, CW_EPARSE, "%s: acks: not a list", name);
	for (size_t i = 0; i < json_array_size(acks) && i < ACK_MAX; i++) {
		json_t *a = json_array_get(acks, i), *u;
		const char *acct, *region, *bucket, *reason;
		char where[48];
		int64_t at, until = 0;
		int rc;

		snprintf(where, sizeof(where), "acks[%zu]", i);
		if (!json_is_object(a))
			return cw_fail(err, errlen, CW_EPARSE, "%s: %s: not an object", name, where);
		if (!(acct = get_str(a, "account_id", where, name, err, errlen)) ||
		    !(region = get_str(a, "region", where, name, err, errlen)) ||
		    !(bucket = get_str(a, "bucket", where, name, err, errlen)) ||
		    !(reason = get_str(a, "reason", where, name, err, errlen)))
			return CW_EPARSE;
		if ((rc = get_time(a, "at", where, name, &at, err, errlen)))
			return rc;
		u = json_object_get(a, "until");
		if (u && !json_is_null(u) &&
		    (rc = get_time(a, "until", where, name, &until, err, errlen)))
			return rc;
		if (cw_state_ack_add(st, acct, region, bucket, at, until, reason))
			return cw_fail(err, errlen, CW_ENOMEM, "%s: out of memory", name);
	}
	return 0;
}

/* reason without digits, lowercased spaces kept: the key of a notice. */
static char *notice_key(const char *reason)
{
	size_t n = strlen(reason), o = 0;
	char *k = malloc(n + 1);

	if (!k)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (reason[i] < '0' || reason[i] > '9') /* ASCII only: valid JSON text */
			k[o++] = (unsigned char)reason[i] < 0x20 ||
				 (unsigned char)reason[i] >= 0x7f ? '?' : reason[i];
	k[o] = '\0';
	return k;
}

bool cw_state_notice_due(const struct cw_state *st, const char *reason, int64_t now)
{
	char *k = notice_key(reason);
	bool due = true;

	for (size_t i = 0; k && i < st->nnotices && due; i++)
		if (strcmp(st->notices[i].reason, k) == 0)
			due = st->notices[i].last_posted / 86400 != now / 86400;
	free(k);
	return due;
}

int cw_state_notice_posted(struct cw_state *st, const char *reason, int64_t now)
{
	char *k = notice_key(reason);
	struct cw_state_notice *v;

	if (!k)
		return CW_ENOMEM;
	for (size_t i = 0; i < st->nnotices; i++)
		if (strcmp(st->notices[i].reason, k) == 0) {
			if (now > st->notices[i].last_posted)
				st->notices[i].last_posted = now;
			free(k);
			return 0;
		}
	v = realloc(st->notices, (st->nnotices + 1) * sizeof(*v));
	if (!v) {
		free(k);
		return CW_ENOMEM;
	}
	st->notices = v;
	v[st->nnotices].reason = k;
	v[st->nnotices].last_posted = now;
	st->nnotices++;
	return 0;
}

int cw_state_parse(struct cw_state *st, const char *name, const char *text, size_t len,
		   char *err, size_t errlen)
{
	json_error_t je;
	json_t *root, *schema, *entries;
	int rc = 0;

	cw_state_init(st);
	if (len > CW_STATE_MAX_BYTES)
		return cw_fail(err, errlen, CW_ETOOBIG, "%s: larger than %zu bytes", name,
			       CW_STATE_MAX_BYTES);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return cw_fail(err, errlen, CW_EPARSE, "%s:%d:%d: not valid JSON: %s", name,
			       je.line, je.column, je.text);
	schema = json_is_object(root) ? json_object_get(root, "schema") : NULL;
	if (!json_is_string(schema) || strcmp(json_string_value(schema), CW_STATE_SCHEMA)) {
		rc = cw_fail(err, errlen, CW_EPARSE, "%s: not a cwsweep state file (schema "
			     "is not \"" CW_STATE_SCHEMA "\")", name);
		goto out;
	}
	entries = json_object_get(root, "entries");
	if (!json_is_array(entries)) {
		rc = cw_fail(err, errlen, CW_EPARSE, "%s: entries: %s", name,
			     entries ? "not a list" : "missing");
		goto out;
	}
	if (entries_grow(st, json_array_size(entries))) {
		rc = cw_fail(err, errlen, CW_ENOMEM, "%s: out of memory", name);
		goto out;
	}
	for (size_t i = 0; i < json_array_size(entries); i++) {
		char where[48];

		snprintf(where, sizeof(where), "entries[%zu]", i);
		rc = parse_entry(json_array_get(entries, i), where, name, &st->v[st->n], err,
				 errlen);
		if (rc)
			goto out;
		st->n++;
	}
	rc = parse_coverage(json_object_get(root, "coverage"), name, &st->coverage, err, errlen);
	if (rc)
		goto out;
	rc = parse_notices(st, json_object_get(root, "notices"), name, err, errlen);
	if (!rc)
		rc = parse_acks(st, json_object_get(root, "acks"), name, err, errlen);
	if (rc)
		goto out;
	if (st->n > 1)
		qsort(st->v, st->n, sizeof(*st->v), entry_cmp);
	for (size_t i = 1; i < st->n; i++)
		if (entry_cmp(&st->v[i - 1], &st->v[i]) == 0) {
			rc = cw_fail(err, errlen, CW_EPARSE, "%s: entries: a key is listed twice",
				     name);
			goto out;
		}
out:
	json_decref(root);
	if (rc)
		cw_state_release(st);
	return rc;
}

/* The identity of the file at path (all 0 when there is none): a save
 * renames a new file into place, so any write changes it. */
static void file_id(const char *path, uint64_t id[4])
{
	struct stat sb;

	memset(id, 0, 4 * sizeof(*id));
	if (stat(path, &sb) != 0)
		return;
	id[0] = (uint64_t)sb.st_dev;
	id[1] = (uint64_t)sb.st_ino;
	id[2] = (uint64_t)sb.st_size;
	id[3] = (uint64_t)sb.st_mtim.tv_sec * 1000000000u + (uint64_t)sb.st_mtim.tv_nsec;
}

static bool ack_same(const struct cw_state_ack *a, const struct cw_state_ack *b)
{
	return strcmp(a->account_id, b->account_id) == 0 && strcmp(a->region, b->region) == 0 &&
	       strcmp(a->bucket, b->bucket) == 0;
}

static bool ack_equal(const struct cw_state_ack *a, const struct cw_state_ack *b)
{
	return ack_same(a, b) && a->at == b->at && a->until == b->until &&
	       strcmp(a->reason, b->reason) == 0;
}

/* Remember the acknowledgements as loaded (see cw_state_save). */
static int acks_remember(struct cw_state *st)
{
	if (!st->nacks)
		return 0;
	st->loaded_acks = calloc(st->nacks, sizeof(*st->loaded_acks));
	if (!st->loaded_acks)
		return CW_ENOMEM;
	for (size_t i = 0; i < st->nacks; i++) {
		const struct cw_state_ack *a = &st->acks[i];
		struct cw_state_ack *c = &st->loaded_acks[st->nloaded_acks++];

		*c = (struct cw_state_ack){ cw_strdup(a->account_id), cw_strdup(a->region),
					    cw_strdup(a->bucket), cw_strdup(a->reason), a->at,
					    a->until };
		if (!c->account_id || !c->region || !c->bucket || !c->reason)
			return CW_ENOMEM;
	}
	return 0;
}

int cw_state_load(struct cw_state *st, const char *path, char *err, size_t errlen)
{
	char msg[CW_ERRBUF];
	char *text = NULL;
	uint64_t id[4];
	size_t len = 0;
	int rc;

	cw_state_init(st);
	file_id(path, id); /* before reading: a write in between is seen on save */
	rc = cw_read_file(path, CW_STATE_MAX_BYTES, &text, &len, msg, sizeof(msg));
	if (rc == CW_ENOTFOUND)
		return 0; /* the first run */
	if (rc == 0)
		rc = cw_state_parse(st, path, text, len, msg, sizeof(msg));
	free(text);
	memcpy(st->loaded_id, id, sizeof(id));
	if (rc == 0 && acks_remember(st))
		rc = CW_ENOMEM;
	if (rc == CW_ENOMEM)
		return cw_fail(err, errlen, rc, "state file %s: out of memory", path);
	/* msg starts with the path */
	if (rc)
		cw_log_warn("state file %s; starting from an empty state (every current "
			    "anomaly is announced as new)", msg);
	return 0;
}

/* ---- apply --------------------------------------------------------------- */

/* A judgement's key, borrowed from the run. */
static void judged_key(const struct cw_run *run, const struct cw_result *r, const char *k[5])
{
	const struct cw_target_id *id = &run->series[r->series].id;

	k[0] = id->account_id;
	k[1] = id->region;
	k[2] = id->bucket;
	k[3] = id->metric;
	k[4] = r->detector;
}

/* The keys of results a and b compared. */
static int judged_key_cmp(const struct cw_run *run, uint32_t a, uint32_t b)
{
	const char *kx[5], *ky[5];

	judged_key(run, &run->results[a], kx);
	judged_key(run, &run->results[b], ky);
	return parts_cmp(kx, ky);
}

/* By key, the latest first, then in the run's order. */
static int judged_cmp(const void *ctx, uint32_t a, uint32_t b)
{
	const struct cw_run *run = ctx;
	const struct cw_result *x = &run->results[a], *y = &run->results[b];
	int c = judged_key_cmp(run, a, b);

	if (c)
		return c;
	if (x->j.period_start != y->j.period_start) /* latest first */
		return x->j.period_start > y->j.period_start ? -1 : 1;
	return a < b ? -1 : a > b;
}

/*
 * The latest judgement of each key: *out (new array, free() it) holds the
 * result indices, one per key.  Every alert is reset to NONE and announce
 * to false.  Results with a bad series index are left out.  The sort moves
 * 32-bit result indices: a run holds millions of results.
 */
static int latest_per_key(struct cw_run *run, bool *announce, size_t **out, size_t *nout)
{
	uint32_t *v;
	size_t n = 0, k = 0;

	*out = NULL;
	*nout = 0;
	for (size_t i = 0; i < run->nresults; i++) {
		run->results[i].alert = CW_ALERT_NONE;
		if (announce)
			announce[i] = false;
	}
	if (run->nresults == 0)
		return 0;
	if (run->nresults > UINT32_MAX) /* cw_result.series: fewer series than that */
		return CW_ENOMEM;
	v = malloc(run->nresults * sizeof(*v));
	*out = malloc(run->nresults * sizeof(**out));
	if (!v || !*out) {
		free(v);
		free(*out);
		*out = NULL;
		return CW_ENOMEM;
	}
	for (size_t i = 0; i < run->nresults; i++)
		if (run->results[i].series < run->nseries)
			v[n++] = (uint32_t)i;
	if (cw_idxsort(v, n, judged_cmp, run)) {
		free(v);
		free(*out);
		*out = NULL;
		return CW_ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if (i == 0 || judged_key_cmp(run, v[i - 1], v[i]) != 0)
			(*out)[k++] = v[i];
	free(v);
	*nout = k;
	return 0;
}

/* How far the value is from normal: |value - baseline| (the limit when
 * the detector has no baseline); NaN when unknown. */
static double excess_of(const struct cw_judgement *j)
{
	double ref = !isnan(j->baseline) ? j->baseline : j->limit;

	if (isnan(j->value) || isnan(ref))
		return NAN;
	return fabs(j->value - ref);
}

static bool grew(const struct cw_state_entry *e, double x, double growth_factor)
{
	double was = e->announced_excess;

	if (growth_factor < 1 || isnan(x) || isnan(was) || !(was > 0))
		return false;
	return x > was && x >= growth_factor * was;
}

static bool cooled_down(const struct cw_state_entry *e, int64_t now, int64_t cooldown)
{
	int64_t slack = cooldown / 10 < COOLDOWN_SLACK_MAX ? cooldown / 10 : COOLDOWN_SLACK_MAX;

	/* a last announcement "in the future" (a clock that moved back) must
	 * not silence a finding: announce */
	if (e->last_announced > now)
		return true;
	return now - e->last_announced >= cooldown - slack;
}

static void announced(struct cw_state_entry *e, int64_t now, double value, double x)
{
	e->last_announced = now;
	e->announced_value = value;
	e->announced_excess = x;
}

/* Drop entries not seen for CW_STATE_PRUNE_DAYS (order kept). */
static void prune(struct cw_state *st, int64_t now)
{
	size_t k = 0;

	for (size_t i = 0; i < st->n; i++) {
		if (now - st->v[i].last_seen > (int64_t)CW_STATE_PRUNE_DAYS * DAY) {
			key_release(&st->v[i].key);
			continue;
		}
		st->v[k++] = st->v[i];
	}
	st->n = k;
}

static double pct(double part, double whole)
{
	return whole > 0 ? 100.0 * part / whole : 100.0;
}

/* See cw_state_apply: a coverage drop is announced once. */
static void coverage_apply(struct cw_state *st, struct cw_run *run)
{
	struct cw_coverage t;
	struct cw_state_coverage *c = &st->coverage;

	run->coverage_fell = false;
	if (!cw_run_coverage_total(run, &t))
		return;
	if (c->known && (t.watched < c->watched ||
			 pct(t.watched_bytes, t.bytes) <= pct(c->watched_bytes, c->bytes) - 1.0)) {
		run->coverage_fell = true;
		memset(&run->coverage_was, 0, sizeof(run->coverage_was));
		run->coverage_was.buckets = c->buckets;
		run->coverage_was.watched = c->watched;
		run->coverage_was.bytes = c->bytes;
		run->coverage_was.watched_bytes = c->watched_bytes;
		run->coverage_was.complete = true;
	}
	if (t.complete) {
		c->known = true;
		c->buckets = t.buckets;
		c->watched = t.watched;
		c->bytes = t.bytes;
		c->watched_bytes = t.watched_bytes;
	}
}

int cw_state_apply(struct cw_state *st, struct cw_run *run, int64_t now, int64_t cooldown,
		   double growth_factor, bool *announce)
{
	struct cw_state fresh; /* entries for keys the state did not know */
	size_t *latest = NULL, nlatest = 0;
	int rc;

	cw_state_init(&fresh);
	coverage_apply(st, run);
	rc = latest_per_key(run, announce, &latest, &nlatest);
	if (rc)
		return rc;
	if (st->n > 1)
		qsort(st->v, st->n, sizeof(*st->v), entry_cmp);

	for (size_t li = 0; li < nlatest; li++) {
		struct cw_result *r = &run->results[latest[li]];
		const struct cw_target_id *id = &run->series[r->series].id;
		const char *parts[5] = { id->account_id, id->region, id->bucket, id->metric,
					 r->detector };
		struct cw_state_entry probe, *e;
		double x = excess_of(&r->j);
		bool ann = false;

		if (r->j.status != CW_STATUS_ANOMALY && r->j.status != CW_STATUS_OK)
			continue; /* not judged: the state keeps what it knew */
		memset(&probe, 0, sizeof(probe));
		probe.key.account_id = (char *)s0(parts[0]);
		probe.key.region = (char *)s0(parts[1]);
		probe.key.bucket = (char *)s0(parts[2]);
		probe.key.metric = (char *)s0(parts[3]);
		probe.key.detector = (char *)s0(parts[4]);
		e = st->n ? bsearch(&probe, st->v, st->n, sizeof(*st->v), entry_cmp) : NULL;
		/* what was announced before, kept when an acknowledgement holds */
		int64_t was_at = e ? e->last_announced : 0;
		double was_value = e ? e->announced_value : NAN;
		double was_excess = e ? e->announced_excess : NAN;

		if (r->j.status == CW_STATUS_OK) {
			if (!e || e->status != CW_STATE_ANOMALY)
				continue;
			r->alert = CW_ALERT_RESOLVED;
			ann = true;
			e->status = CW_STATE_RESOLVED;
			e->last_seen = now;
			e->last_value = r->j.value;
			e->last_excess = NAN;
			announced(e, now, r->j.value, NAN);
		} else if (!e || e->status != CW_STATE_ANOMALY) {
			if (!e) {
				if (entries_grow(&fresh, fresh.n + 1)) {
					rc = CW_ENOMEM;
					goto out;
				}
				e = &fresh.v[fresh.n];
				memset(e, 0, sizeof(*e));
				if (key_set(&e->key, parts)) {
					rc = CW_ENOMEM;
					goto out;
				}
				fresh.n++;
			}
			r->alert = CW_ALERT_NEW;
			ann = true;
			e->status = CW_STATE_ANOMALY;
			e->first_seen = now;
			announced(e, now, r->j.value, x);
		} else if (grew(e, x, growth_factor)) {
			r->alert = CW_ALERT_GREW;
			ann = true;
			announced(e, now, r->j.value, x);
		} else {
			r->alert = CW_ALERT_ONGOING;
			ann = cooled_down(e, now, cooldown);
			if (ann)
				announced(e, now, r->j.value, x);
		}
		if (r->j.status == CW_STATUS_ANOMALY) {
			e->last_seen = now;
			e->last_value = r->j.value;
			e->last_excess = x;
			if (ack_for(st, id->account_id, id->region, id->bucket, now)) {
				r->alert = CW_ALERT_ACKED; /* acknowledged: not announced */
				ann = false;
				e->last_announced = was_at;
				e->announced_value = was_value;
				e->announced_excess = was_excess;
			}
		}
		if (announce)
			announce[latest[li]] = ann;
	}

	if (entries_grow(st, st->n + fresh.n)) {
		rc = CW_ENOMEM;
		goto out;
	}
	if (fresh.n)
		memcpy(st->v + st->n, fresh.v, fresh.n * sizeof(*fresh.v));
	st->n += fresh.n;
	fresh.n = 0;
	prune(st, now);
	if (st->n > 1)
		qsort(st->v, st->n, sizeof(*st->v), entry_cmp);
	acks_expire(st, now);
out:
	cw_state_release(&fresh);
	free(latest);
	return rc;
}

void cw_state_announce_all(struct cw_run *run, bool *announce)
{
	size_t *latest = NULL, n = 0;

	if (latest_per_key(run, announce, &latest, &n) == 0 && announce) {
		for (size_t i = 0; i < n; i++)
			announce[latest[i]] = run->results[latest[i]].j.status ==
					      CW_STATUS_ANOMALY;
		free(latest);
		return;
	}
	free(latest);
	/* out of memory: announcing too much beats announcing nothing */
	for (size_t i = 0; announce && i < run->nresults; i++)
		announce[i] = run->results[i].j.status == CW_STATUS_ANOMALY;
}

/* ---- save ---------------------------------------------------------------- */

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *iso(int64_t t)
{
	char buf[CW_TIME_ISO_LEN];

	return json_string(cw_time_iso(t, buf, sizeof(buf)));
}

/* Set name to v (stolen, also on failure); false when v is NULL or out of
 * memory. */
static bool put(json_t *obj, const char *name, json_t *v)
{
	if (!v)
		return false;
	return json_object_set_new(obj, name, v) == 0;
}

static json_t *entry_json(const struct cw_state_entry *e)
{
	json_t *o = json_object(), *k = json_object();
	const struct cw_state_key *key = &e->key;
	bool ok;

	ok = o && k && put(k, "account_id", json_string(key->account_id)) &&
	     put(k, "region", json_string(key->region)) &&
	     put(k, "bucket", json_string(key->bucket)) &&
	     put(k, "metric", json_string(key->metric)) &&
	     put(k, "detector", json_string(key->detector));
	if (!ok) {
		json_decref(k);
		json_decref(o);
		return NULL;
	}
	ok = put(o, "key", k) && /* k is o's from here on, even on failure */
	     put(o, "status", json_string(status_words[e->status])) &&
	     put(o, "first_seen", iso(e->first_seen)) &&
	     put(o, "last_seen", iso(e->last_seen)) &&
	     put(o, "last_announced", iso(e->last_announced)) &&
	     put(o, "announced_value", num_or_null(e->announced_value)) &&
	     put(o, "announced_excess", num_or_null(e->announced_excess)) &&
	     put(o, "last_value", num_or_null(e->last_value)) &&
	     put(o, "last_excess", num_or_null(e->last_excess));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * The acknowledgements to save: st's, and those given in the file since st
 * was loaded (not among st->loaded_acks), the later one for a bucket.
 * Borrowed pointers into st and disk, in *out (free it).
 */
static int acks_to_save(const struct cw_state *st, const char *path, struct cw_state *disk,
			const struct cw_state_ack ***out, size_t *nout)
{
	const struct cw_state_ack **v;
	uint64_t id[4];
	char *text = NULL, msg[CW_ERRBUF];
	size_t len = 0, n = 0;

	cw_state_init(disk);
	memset(id, 0, sizeof(id));
	if (path)
		file_id(path, id);
	if (id[1] && memcmp(id, st->loaded_id, sizeof(id)) != 0 &&
	    cw_read_file(path, CW_STATE_MAX_BYTES, &text, &len, msg, sizeof(msg)) == 0) {
		/* a file that does not parse has nothing to keep */
		(void)cw_state_parse(disk, path, text, len, msg, sizeof(msg));
		free(text);
	}
	v = malloc((st->nacks + disk->nacks + 1) * sizeof(*v));
	if (!v)
		return CW_ENOMEM;
	for (size_t i = 0; i < st->nacks; i++)
		v[n++] = &st->acks[i];
	for (size_t i = 0; i < disk->nacks; i++) {
		const struct cw_state_ack *d = &disk->acks[i];
		bool known = false;
		size_t k;

		for (k = 0; k < st->nloaded_acks && !known; k++)
			known = ack_equal(d, &st->loaded_acks[k]);
		if (known)
			continue;
		for (k = 0; k < n && !ack_same(v[k], d); k++)
			;
		if (k == n)
			v[n++] = d;
		else if (d->at > v[k]->at)
			v[k] = d;
	}
	*out = v;
	*nout = n;
	return 0;
}

/* The state's JSON text in *out (malloc'd), with the acknowledgements
 * written to the file at path since st was loaded (path NULL: none). */
static int state_json(const struct cw_state *st, const char *path, int64_t now, char **out)
{
	json_t *root = json_object(), *entries = json_array();
	const struct cw_state_ack **acks_v = NULL;
	struct cw_state disk;
	size_t nacks = 0;
	char *text = NULL;

	if (acks_to_save(st, path, &disk, &acks_v, &nacks)) {
		json_decref(entries);
		goto oom;
	}
	if (!root || !entries) {
		json_decref(entries);
		goto oom;
	}
	if (!put(root, "schema", json_string(CW_STATE_SCHEMA)) ||
	    !put(root, "saved_at", iso(now))) {
		json_decref(entries);
		goto oom;
	}
	/* put() steals what it is given, even when it fails: entries is root's */
	if (!put(root, "entries", entries))
		goto oom;
	if (st->coverage.known &&
	    !put(root, "coverage", json_pack("{s:I, s:I, s:f, s:f}",
					     "buckets", (json_int_t)st->coverage.buckets,
					     "watched", (json_int_t)st->coverage.watched,
					     "stored_bytes", st->coverage.bytes,
					     "watched_bytes", st->coverage.watched_bytes)))
		goto oom;
	/* st is kept sorted by cw_state_parse and cw_state_apply */
	for (size_t i = 0; i < st->n; i++)
		if (json_array_append_new(entries, entry_json(&st->v[i])) != 0)
			goto oom;
	if (st->nnotices) {
		json_t *notices = json_array();

		if (!put(root, "notices", notices))
			goto oom;
		for (size_t i = 0; i < st->nnotices; i++) {
			const struct cw_state_notice *n = &st->notices[i];
			json_t *o = json_object();

			if (now - n->last_posted > NOTICE_KEEP_S) {
				json_decref(o);
				continue;
			}
			if (!o || json_array_append_new(notices, o) != 0 ||
			    !put(o, "reason", json_string(n->reason)) ||
			    !put(o, "last_posted", iso(n->last_posted)))
				goto oom;
		}
	}
	if (nacks) {
		json_t *acks = json_array();

		if (!put(root, "acks", acks))
			goto oom;
		for (size_t i = 0; i < nacks; i++) {
			const struct cw_state_ack *a = acks_v[i];
			json_t *o = json_object();

			if (!o || json_array_append_new(acks, o) != 0 ||
			    !put(o, "account_id", json_string(a->account_id)) ||
			    !put(o, "region", json_string(a->region)) ||
			    !put(o, "bucket", json_string(a->bucket)) ||
			    !put(o, "reason", json_string(a->reason)) ||
			    !put(o, "at", iso(a->at)) ||
			    !put(o, "until", a->until ? iso(a->until) : json_null()))
				goto oom;
		}
	}
	text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	if (!text)
		goto oom;
	json_decref(root);
	free(acks_v);
	cw_state_release(&disk);
	*out = text;
	return 0;
oom:
	json_decref(root);
	free(acks_v);
	cw_state_release(&disk);
	return CW_ENOMEM;
}

int cw_state_text(const struct cw_state *st, int64_t now, char **text)
{
	*text = NULL;
	return state_json(st, NULL, now, text);
}

int cw_state_save(const struct cw_state *st, const char *path, int64_t now,
		  char *err, size_t errlen)
{
	char *text = NULL;
	int rc = state_json(st, path, now, &text);

	if (rc)
		return cw_fail(err, errlen, CW_ENOMEM, "state file %s: out of memory", path);
	rc = cw_write_file_atomic(path, text, strlen(text), 0600, err, errlen);
	free(text);
	return rc;
}

/* ---- failures -------------------------------------------------------------- */

#define FAILURE_PREFIX "failure:"

static bool is_failure_key(const struct cw_state_key *k)
{
	return strncmp(s0(k->detector), FAILURE_PREFIX, sizeof(FAILURE_PREFIX) - 1) == 0;
}

/* True when the run judged a series of this account (and region, when the
 * key has one): then a failure of it that did not happen again is over. */
static bool run_covers(const struct cw_run *run, const struct cw_state_key *k)
{
	for (size_t i = 0; i < run->nseries; i++) {
		const struct cw_target_id *id = &run->series[i].id;

		if (strcmp(s0(id->account_id), s0(k->account_id)) == 0 &&
		    (!k->region[0] || strcmp(s0(id->region), k->region) == 0))
			return true;
	}
	return false;
}

int cw_state_apply_failures(struct cw_state *st, const struct cw_run *run, int64_t now,
			    int64_t cooldown, bool *announce)
{
	size_t nbefore;
	bool *seen = NULL;
	int rc = 0;

	if (st->n > 1)
		qsort(st->v, st->n, sizeof(*st->v), entry_cmp);
	nbefore = st->n;
	seen = calloc(nbefore ? nbefore : 1, sizeof(*seen));
	if (!seen)
		return CW_ENOMEM;
	for (size_t i = 0; i < run->nfailures; i++) {
		const struct cw_failure *f = &run->failures[i];
		char *det = cw_asprintf(FAILURE_PREFIX "%s:%s", s0(f->stage), s0(f->code));
		const char *parts[5] = { f->id.account_id, f->id.region, f->id.bucket,
					 f->id.metric, det };
		struct cw_state_entry probe, *e = NULL;
		bool ann;

		if (!det) {
			rc = CW_ENOMEM;
			break;
		}
		memset(&probe, 0, sizeof(probe));
		probe.key.account_id = (char *)s0(parts[0]);
		probe.key.region = (char *)s0(parts[1]);
		probe.key.bucket = (char *)s0(parts[2]);
		probe.key.metric = (char *)s0(parts[3]);
		probe.key.detector = det;
		if (nbefore)
			e = bsearch(&probe, st->v, nbefore, sizeof(*st->v), entry_cmp);
		for (size_t k = nbefore; !e && k < st->n; k++) /* added by this run */
			if (entry_cmp(&probe, &st->v[k]) == 0)
				e = &st->v[k];
		if (!e) {
			if (entries_grow(st, st->n + 1)) {
				free(det);
				rc = CW_ENOMEM;
				break;
			}
			e = &st->v[st->n];
			memset(e, 0, sizeof(*e));
			if (key_set(&e->key, parts)) {
				free(det);
				rc = CW_ENOMEM;
				break;
			}
			e->status = CW_STATE_RESOLVED; /* made new just below */
			e->last_value = e->last_excess = NAN;
			e->announced_value = e->announced_excess = NAN;
			st->n++;
			{
				bool *grown = realloc(seen, st->n * sizeof(*seen)); /* in step */

				if (!grown) {
					free(det);
					rc = CW_ENOMEM;
					break;
				}
				seen = grown;
			}
		}
		if (e->status != CW_STATE_ANOMALY) {
			e->status = CW_STATE_ANOMALY;
			e->first_seen = now;
			ann = true; /* a new failure */
		} else if (strcmp(s0(f->code), "NothingWatched") == 0) {
			ann = true; /* an account nothing was judged in is never old news */
		} else {
			ann = cooled_down(e, now, cooldown); /* ongoing: once per cooldown */
		}
		if (ann)
			announced(e, now, NAN, NAN);
		e->last_seen = now;
		seen[e - st->v] = true;
		if (announce)
			announce[i] = ann;
		free(det);
	}
	/* failures that did not happen again where the run did look: over */
	for (size_t k = 0; !rc && k < nbefore; k++) {
		struct cw_state_entry *e = &st->v[k];

		if (!seen[k] && is_failure_key(&e->key) && e->status == CW_STATE_ANOMALY &&
		    run_covers(run, &e->key)) {
			e->status = CW_STATE_RESOLVED;
			e->last_seen = now;
		}
	}
	free(seen);
	if (!rc && st->n > 1)
		qsort(st->v, st->n, sizeof(*st->v), entry_cmp);
	return rc;
}
