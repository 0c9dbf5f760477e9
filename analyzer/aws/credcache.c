/*
 * credcache.c - per-account assumed-role credentials, cached and refreshed
 * (see credcache.h).
 *
 * Locking: c->lock guards the entry table and the idle STS clients only
 * (entries are never removed before cw_credcache_free, so an entry pointer
 * stays valid once found).  Each entry's lock is held for the whole of its
 * refresh: workers of that account wait and then reuse the result; other
 * accounts go on.
 *
 * STS clients: a refresh borrows an idle client (its easy handle keeps the
 * connection to STS open) and gives it back, so AssumeRole calls reuse a
 * few connections (at most one per thread refreshing at a time) instead of
 * opening one per account.
 */
#include "credcache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "strutil.h"
#include "timeutil.h"

#define CC_BUCKETS 1024 /* entry table size (chained); the first lookup grows nothing */

struct cc_entry {
	struct cc_entry *next;     /* same table slot */
	char *key;                 /* "id|role1|role2|external id|session name" */
	pthread_mutex_t lock;      /* guards the fields below; held while refreshing */
	bool have;
	struct cw_creds creds;
	int64_t fetched_at;
	int64_t retry_at;          /* after a failed refresh: no new try before this */
	bool failed;               /* a permanent failure: returned for the rest of the run */
	struct cw_sts_error fail;
};

struct cc_client {
	struct cc_client *next;
	struct cw_aws_client *client;
};

struct cw_credcache {
	pthread_mutex_t lock;      /* guards entries and idle */
	struct cc_entry *entries[CC_BUCKETS];
	struct cc_client *idle;    /* STS clients not in use */
	struct cw_credcache_opts o;
	char *endpoint_url, *sts_region, *session_name; /* owned copies */
	_Atomic uint64_t assume_calls;
};

int cw_credcache_new(struct cw_credcache **out, const struct cw_credcache_opts *o,
		     char *err, size_t errlen)
{
	struct cw_credcache *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return cw_fail(err, errlen, CW_ENOMEM, "credential cache: out of memory");
	c->o = *o;
	c->endpoint_url = cw_strdup(o->endpoint_url);
	c->sts_region = cw_strdup(o->sts_region);
	c->session_name = cw_strdup(o->session_name ? o->session_name : "cwsweep");
	if ((o->endpoint_url && !c->endpoint_url) || (o->sts_region && !c->sts_region) ||
	    !c->session_name) {
		free(c->endpoint_url);
		free(c->sts_region);
		free(c->session_name);
		free(c);
		return cw_fail(err, errlen, CW_ENOMEM, "credential cache: out of memory");
	}
	c->o.endpoint_url = c->endpoint_url;
	c->o.sts_region = c->sts_region;
	c->o.session_name = c->session_name;
	atomic_init(&c->assume_calls, 0);
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

void cw_credcache_free(struct cw_credcache *c)
{
	struct cc_entry *e, *next;
	struct cc_client *k, *knext;

	if (!c)
		return;
	for (size_t b = 0; b < CC_BUCKETS; b++) {
		for (e = c->entries[b]; e; e = next) {
			next = e->next;
			cw_creds_release(&e->creds);
			pthread_mutex_destroy(&e->lock);
			free(e->key);
			free(e);
		}
	}
	for (k = c->idle; k; k = knext) {
		knext = k->next;
		cw_aws_client_free(k->client);
		free(k);
	}
	free(c->endpoint_url);
	free(c->sts_region);
	free(c->session_name);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

uint64_t cw_credcache_assume_calls(struct cw_credcache *c)
{
	return atomic_load(&c->assume_calls);
}

static const char *session_for(const struct cw_credcache *c, const struct cw_account_def *a)
{
	return a->session_name && *a->session_name ? a->session_name : c->o.session_name;
}

/* The entry for acct, created on first use; NULL when out of memory. */
static struct cc_entry *cc_lookup(struct cw_credcache *c, const struct cw_account_def *a)
{
	struct cw_buf key = CW_BUF_INIT;
	struct cc_entry *e, **slot;
	uint64_t h = 14695981039346656037u;
	int rc;

	rc = cw_buf_addstr(&key, a->id);
	for (size_t i = 0; !rc && i < a->nroles; i++)
		rc = cw_buf_printf(&key, "|%s", a->roles[i]);
	if (!rc)
		rc = cw_buf_printf(&key, "|%s|%s", a->external_id ? a->external_id : "",
				   session_for(c, a));
	if (rc)
		return NULL;
	/* FNV-1a of the key picks the slot */
	for (const char *k = cw_buf_str(&key); *k; k++)
		h = (h ^ (unsigned char)*k) * 1099511628211u;
	slot = &c->entries[h % CC_BUCKETS];
	pthread_mutex_lock(&c->lock);
	for (e = *slot; e; e = e->next)
		if (strcmp(e->key, cw_buf_str(&key)) == 0)
			break;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (e) {
			e->key = cw_buf_detach(&key, NULL);
			if (!e->key) {
				free(e);
				e = NULL;
			} else {
				pthread_mutex_init(&e->lock, NULL);
				e->next = *slot;
				*slot = e;
			}
		}
	}
	pthread_mutex_unlock(&c->lock);
	cw_buf_release(&key);
	return e;
}

static int64_t cc_now(const struct cw_credcache *c)
{
	return c->o.now ? c->o.now(c->o.env) : cw_time_now();
}

/* The cache's pace and feedback as the AWS layer's pacer, for one region. */
struct cc_pace {
	struct cw_credcache *c;
	const char *region;
};

static int cc_pace_wait(void *env)
{
	struct cc_pace *p = env;

	return p->c->o.pace(p->c->o.pace_env, p->region);
}

static void cc_pace_feedback(void *env, bool throttled)
{
	struct cc_pace *p = env;

	p->c->o.pace_feedback(p->c->o.pace_env, p->region, throttled);
}

/* An idle STS client, or a new one in *out; NULL on failure (rc). */
static int cc_client_take(struct cw_credcache *c, struct cw_aws_client **out)
{
	struct cc_client *k;

	pthread_mutex_lock(&c->lock);
	k = c->idle;
	if (k)
		c->idle = k->next;
	pthread_mutex_unlock(&c->lock);
	if (k) {
		*out = k->client;
		free(k);
		return 0;
	}
	return cw_aws_client_new(out, c->o.aws);
}

/* Give a client back for the next refresh (freed when out of memory). */
static void cc_client_give(struct cw_credcache *c, struct cw_aws_client *cl)
{
	struct cc_client *k;

	if (!cl)
		return;
	k = malloc(sizeof(*k));
	if (!k) {
		cw_aws_client_free(cl);
		return;
	}
	k->client = cl;
	pthread_mutex_lock(&c->lock);
	k->next = c->idle;
	c->idle = k;
	pthread_mutex_unlock(&c->lock);
}

/* One AssumeRole, through the injected function or a real STS call. */
static int cc_assume(struct cw_credcache *c, struct cw_aws_client **cl,
		     const struct cw_sts_request *req, cw_creds_fn fn, void *fn_ctx,
		     struct cw_creds *out, struct cw_sts_error *e)
{
	struct cc_pace cp = { c, req->region ? req->region : "us-east-1" };
	const struct cw_aws_pacer pacer = { cc_pace_wait, cc_pace_feedback, &cp };
	struct cw_sts_request paced = *req;
	/* adaptive: the AWS layer paces every attempt itself */
	bool per_attempt = c->o.pace && c->o.pace_feedback && !c->o.assume;
	int rc;

	if (per_attempt)
		paced.pacer = &pacer;
	else if (c->o.pace && c->o.pace(c->o.pace_env, cp.region)) {
		cw_sts_error_init(e);
		cw_strlcpy(e->stage, "assume-role", sizeof(e->stage));
		cw_strlcpy(e->role_arn, req->role_arn, sizeof(e->role_arn));
		cw_strlcpy(e->code, "Interrupted", sizeof(e->code));
		cw_strlcpy(e->message, "interrupted before the call", sizeof(e->message));
		e->rc = CW_EINTR;
		return CW_EINTR;
	}
	atomic_fetch_add(&c->assume_calls, 1);
	if (c->o.assume)
		return c->o.assume(c->o.env, req, fn, fn_ctx, out, e);
	if (!*cl) {
		cw_sts_error_init(e);
		cw_strlcpy(e->stage, "assume-role", sizeof(e->stage));
		cw_strlcpy(e->role_arn, req->role_arn, sizeof(e->role_arn));
		if (!c->o.aws) {
			e->rc = CW_ESTATE;
			cw_strlcpy(e->message, "no AWS context to call STS with",
				   sizeof(e->message));
			return e->rc;
		}
		rc = cc_client_take(c, cl);
		if (rc) {
			e->rc = rc;
			snprintf(e->message, sizeof(e->message), "sts client: %s", cw_strerror(rc));
			return rc;
		}
	}
	rc = cw_sts_assume_role(*cl, &paced, fn, fn_ctx, out, e);
	if (rc == CW_EINTR && !e->code[0])
		cw_strlcpy(e->code, "Interrupted", sizeof(e->code));
	return rc;
}

const char *cw_credcache_sts_region(const struct cw_credcache *c,
				    const struct cw_account_def *a)
{
	return c->o.sts_region ? c->o.sts_region : a->nregions ? a->regions[0] : "us-east-1";
}

/* Walk the role chain of a; called with the entry's lock held. */
static int cc_refresh(struct cw_credcache *c, const struct cw_account_def *a,
		      struct cw_creds *out, struct cw_sts_error *e)
{
	struct cw_aws_client *cl = NULL;
	struct cw_creds prev, next, ambient;
	const char *region;
	bool ambient_temp = false;
	char err[CW_ERRBUF];
	int rc = 0;

	memset(&prev, 0, sizeof(prev));
	memset(out, 0, sizeof(*out));
	cw_sts_error_init(e);
	region = cw_credcache_sts_region(c, a);

	/* Temporary ambient credentials make the first hop a role chain too. */
	if (c->o.ambient) {
		rc = cw_creds_provider_get(c->o.ambient, false, &ambient, err, sizeof(err));
		if (rc) {
			e->rc = rc;
			cw_strlcpy(e->stage, "assume-role", sizeof(e->stage));
			cw_strlcpy(e->role_arn, a->roles[0], sizeof(e->role_arn));
			cw_strlcpy(e->message, err, sizeof(e->message));
			return rc;
		}
		ambient_temp = ambient.session_token != NULL;
		cw_creds_release(&ambient);
	}
	for (size_t i = 0; i < a->nroles; i++) {
		struct cw_sts_request req;
		bool chained = i > 0 || ambient_temp;

		memset(&req, 0, sizeof(req));
		req.region = region;
		req.endpoint_url = c->o.endpoint_url;
		req.role_arn = a->roles[i];
		req.session_name = session_for(c, a);
		req.external_id = i + 1 == a->nroles ? a->external_id : NULL;
		req.duration_seconds = a->duration_seconds;
		if (chained && req.duration_seconds > CW_STS_MAX_CHAINED_DURATION)
			req.duration_seconds = CW_STS_MAX_CHAINED_DURATION;
		if (i == 0)
			rc = cc_assume(c, &cl, &req, c->o.ambient ? cw_creds_provider_fn : NULL,
				       c->o.ambient, &next, e);
		else
			rc = cc_assume(c, &cl, &req, cw_creds_static_fn, &prev, &next, e);
		cw_creds_release(&prev);
		if (rc) {
			e->rc = rc;
			break;
		}
		prev = next;
	}
	if (!rc) {
		*out = prev;
		cw_strlcpy(out->source, "assume-role", sizeof(out->source));
	}
	cc_client_give(c, cl);
	return rc;
}

int cw_credcache_get(struct cw_credcache *c, const struct cw_account_def *acct,
		     bool force_refresh, struct cw_creds *out, struct cw_sts_error *eout,
		     char *err, size_t errlen)
{
	struct cw_sts_error e;
	struct cw_creds fresh;
	struct cc_entry *ent;
	char refused[sizeof(out->access_key)] = "";
	int64_t now;
	bool reuse;
	int rc;

	/* a forced refresh names the refused key in out (see cw_creds_fn) */
	if (force_refresh)
		memcpy(refused, out->access_key, sizeof(refused) - 1); /* bounded: may be unset */
	if (eout)
		cw_sts_error_init(eout);
	if (acct->nroles == 0) {
		/* out still names the refused key for the provider */
		if (!c->o.ambient) {
			memset(out, 0, sizeof(*out));
			return cw_fail(err, errlen, CW_EAUTH, "account %s: no credentials provider",
				       acct->id);
		}
		return cw_creds_provider_get(c->o.ambient, force_refresh, out, err, errlen);
	}
	memset(out, 0, sizeof(*out));
	ent = cc_lookup(c, acct);
	if (!ent)
		return cw_fail(err, errlen, CW_ENOMEM, "credential cache: out of memory");

	pthread_mutex_lock(&ent->lock);
	now = cc_now(c);
	if (ent->failed) {
		e = ent->fail;
		rc = e.rc;
		goto fail;
	}
	/* forced: reuse only credentials another worker already replaced */
	if (force_refresh)
		reuse = refused[0] ? strcmp(ent->creds.access_key, refused) != 0
				   : now - ent->fetched_at < CW_CREDS_FORCE_INTERVAL;
	else
		reuse = ent->creds.expiration == 0 ||
			ent->creds.expiration - now > CW_CREDS_REFRESH_MARGIN ||
			(now < ent->retry_at && now < ent->creds.expiration);
	if (ent->have && reuse) {
		rc = cw_creds_copy(out, &ent->creds);
		goto done;
	}
	rc = cc_refresh(c, acct, &fresh, &e);
	if (rc) {
		if (e.permanent) {
			ent->failed = true;
			ent->fail = e;
		} else if (ent->have && !force_refresh && ent->creds.expiration > now) {
			char msg[CW_ERRBUF];

			ent->retry_at = now + CW_CREDS_RETRY_INTERVAL;
			cw_sts_error_format(&e, msg, sizeof(msg));
			cw_log_warn("account %s: refresh failed, using the current credentials "
				    "until they expire: %s", acct->id, msg);
			rc = cw_creds_copy(out, &ent->creds);
			goto done;
		}
		goto fail;
	}
	cw_creds_release(&ent->creds);
	ent->creds = fresh;
	ent->have = true;
	ent->fetched_at = now;
	rc = cw_creds_copy(out, &ent->creds);
done:
	pthread_mutex_unlock(&ent->lock);
	if (rc)
		return cw_fail(err, errlen, rc, "account %s: credentials: out of memory", acct->id);
	return 0;
fail:
	pthread_mutex_unlock(&ent->lock);
	if (eout)
		*eout = e;
	cw_sts_error_format(&e, err, errlen);
	return rc;
}

int cw_credcache_fn(void *ctx, bool force_refresh, struct cw_creds *out,
		    char *err, size_t errlen)
{
	struct cw_credcache_ref *ref = ctx;

	return cw_credcache_get(ref->cache, ref->acct, force_refresh, out, NULL, err, errlen);
}
