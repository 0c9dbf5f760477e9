/*
 * merge_src.c - where `cwsweep merge` finds its report.json files: paths,
 * and S3 prefixes listed and read through the S3 client (merge_src.h).
 */
#include "merge_src.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "creds.h"
#include "err.h"
#include "report.h"
#include "retry.h"
#include "s3.h"
#include "strutil.h"

/* Bounds: report.json files one merge reads (as many as shards may be),
 * keys listed under one prefix, and bytes of one report.json. */
#define MAX_INPUTS 100000
#define MAX_LISTED ((size_t)1000000)
#define MAX_OBJECT ((size_t)1024 * 1024 * 1024)

struct input {
	char *name;   /* path, or s3://BUCKET/KEY */
	char *bucket; /* NULL: a file */
	char *key;
};

struct cw_merge_src {
	struct input *in;
	size_t n;
	char region[64];
	bool have_session;
	struct cw_s3_session ses;
};

/* Worth trying again later: the network, throttling or S3's own trouble
 * (the retry rules' classes, after the retries ran out). */
static bool is_transient(int rc, const struct cw_aws_response *resp)
{
	if (rc == CW_EHTTP || rc == CW_EINTR)
		return true;
	return rc == CW_EAWS &&
	       cw_retry_classify(resp->status, resp->code, CW_XFER_OK) != CW_RETRY_NONE;
}

/* One clear sentence for S3's answer about what (an s3:// URL). */
static int s3_fail(int rc, const struct cw_aws_response *resp, const char *what,
		   const char *perm, char *err, size_t errlen)
{
	const char *code = resp->code;

	if (rc != CW_EAWS)
		return rc; /* err says it already */
	if (strcmp(code, "NoSuchBucket") == 0)
		return cw_fail(err, errlen, rc, "%s: the bucket does not exist (NoSuchBucket)",
			       what);
	if (strcmp(code, "AccessDenied") == 0 || strcmp(code, "AllAccessDisabled") == 0)
		return cw_fail(err, errlen, rc, "%s: access denied (%s: %s): the credentials "
			       "need %s", what, code, resp->message, perm);
	if (strcmp(code, "NoSuchKey") == 0)
		return cw_fail(err, errlen, rc, "%s: the object is gone (NoSuchKey): was the "
			       "prefix written to while merge read it?", what);
	return cw_fail(err, errlen, rc, "%s: %s: %s (HTTP %ld)", what, code[0] ? code : "error",
		       resp->message, resp->status);
}

/* Say what S3 answered about s3://bucket/key (verb: the call), as the
 * inputs' errors do. */
static int object_fail(int rc, const struct cw_aws_response *resp, const char *verb,
		       const char *bucket, const char *key, const char *perm, bool *transient,
		       char *err, size_t errlen)
{
	char what[1200];

	*transient = is_transient(rc, resp);
	snprintf(what, sizeof(what), "s3://%.63s/%.1024s: %s", bucket, key, verb);
	rc = s3_fail(rc, resp, what, perm, err, errlen);
	if (rc != CW_EAWS) {
		char inner[CW_ERRBUF];

		cw_strlcpy(inner, err, sizeof(inner));
		cw_fail(err, errlen, rc, "%s: %s", what, inner);
	}
	return rc;
}

static int add_input(struct cw_merge_src *s, const char *name, const char *bucket,
		     const char *key)
{
	struct input *grown;

	if (s->n >= MAX_INPUTS)
		return CW_ETOOBIG;
	grown = realloc(s->in, (s->n + 1) * sizeof(*grown));
	if (!grown)
		return CW_ENOMEM;
	s->in = grown;
	memset(&grown[s->n], 0, sizeof(*grown));
	grown[s->n].name = cw_strdup(name);
	grown[s->n].bucket = bucket ? cw_strdup(bucket) : NULL;
	grown[s->n].key = key ? cw_strdup(key) : NULL;
	s->n++;
	if (!grown[s->n - 1].name || (bucket && (!grown[s->n - 1].bucket ||
						 !grown[s->n - 1].key)))
		return CW_ENOMEM;
	return 0;
}

static int open_session(struct cw_merge_src *s, char *err, size_t errlen)
{
	struct cw_s3_session_opts so = {
		.session_name = "cwsweep-merge",
		.max_response = MAX_OBJECT,
	};

	if (s->have_session)
		return 0;
	if (cw_s3_session_open(&s->ses, &so, err, errlen))
		return CW_EAUTH;
	s->have_session = true;
	return 0;
}

/* Every report.json under the prefix of url, in key order. */
static int add_prefix(struct cw_merge_src *s, const char *url, bool *transient, char *err,
		      size_t errlen)
{
	char bucket[64], prefix[1024], list_prefix[1030];
	struct cw_aws_response resp;
	struct cw_s3_object *objs = NULL;
	size_t nobjs = 0, found = 0;
	int rc;

	if ((rc = cw_s3_url_parse(url, bucket, sizeof(bucket), prefix, sizeof(prefix), err,
				  errlen)))
		return rc;
	if ((rc = open_session(s, err, errlen)))
		return rc;
	/* "a/b" lists "a/b/": the set "run-1" is not the set "run-10" */
	snprintf(list_prefix, sizeof(list_prefix), "%s%s", prefix, prefix[0] ? "/" : "");
	cw_aws_response_init(&resp);
	rc = cw_s3_list(&s->ses.s3, s->region, bucket, list_prefix, MAX_LISTED, &objs, &nobjs,
			&resp, err, errlen);
	if (rc) {
		char what[1200];

		*transient = is_transient(rc, &resp);
		snprintf(what, sizeof(what), "%s: ListObjectsV2 s3://%s/%s", url, bucket,
			 list_prefix);
		rc = s3_fail(rc, &resp, what, "s3:ListBucket on the bucket", err, errlen);
		if (rc != CW_EAWS) {
			char inner[CW_ERRBUF];

			cw_strlcpy(inner, err, sizeof(inner));
			cw_fail(err, errlen, rc, "%s: %s", url, inner);
		}
		cw_aws_response_release(&resp);
		return rc;
	}
	cw_aws_response_release(&resp);
	for (size_t i = 0; i < nobjs && !rc; i++) {
		const char *k = objs[i].key;
		char *name;

		/* only keys under the prefix (whatever a broken listing says) */
		if (!cw_str_startswith(k, list_prefix) ||
		    !(strcmp(k + strlen(list_prefix), "report.json") == 0 ||
		      cw_str_endswith(k, "/report.json")))
			continue;
		if ((size_t)objs[i].size > MAX_OBJECT) {
			rc = cw_fail(err, errlen, CW_ETOOBIG, "s3://%s/%s: larger than %zu MiB",
				     bucket, k, MAX_OBJECT >> 20);
			break;
		}
		name = cw_asprintf("s3://%s/%s", bucket, k);
		rc = name ? add_input(s, name, bucket, k) : CW_ENOMEM;
		free(name);
		if (rc == CW_ETOOBIG)
			rc = cw_fail(err, errlen, rc, "%s: more than %d report.json files", url,
				     MAX_INPUTS);
		else if (rc)
			rc = cw_fail(err, errlen, rc, "out of memory");
		found++;
	}
	if (!rc && found == 0)
		rc = cw_fail(err, errlen, CW_ENOTFOUND, "%s: no report.json under this prefix "
			     "(%zu other object%s): is it where the shards handed off to "
			     "(`cwsweep run --shard K/N --hand-off %s`)?", url, nobjs,
			     nobjs == 1 ? "" : "s", url);
	cw_s3_objects_free(objs, nobjs);
	return rc;
}

int cw_merge_src_open(struct cw_merge_src **out, char *const *args, size_t nargs,
		      const char *region, bool *transient, char *err, size_t errlen)
{
	struct cw_merge_src *s = calloc(1, sizeof(*s));
	int rc = 0;

	*out = NULL;
	*transient = false;
	if (!s)
		return cw_fail(err, errlen, CW_ENOMEM, "out of memory");
	cw_strlcpy(s->region, region ? region : cw_env_region("us-east-1"), sizeof(s->region));
	for (size_t i = 0; i < nargs && !rc; i++) {
		if (cw_str_startswith(args[i], "s3://")) {
			rc = add_prefix(s, args[i], transient, err, errlen);
		} else {
			rc = add_input(s, args[i], NULL, NULL);
			if (rc)
				rc = cw_fail(err, errlen, rc, rc == CW_ETOOBIG ? "more than %d "
					     "report.json files" : "out of memory", MAX_INPUTS);
		}
	}
	if (rc) {
		cw_merge_src_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void cw_merge_src_free(struct cw_merge_src *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->in[i].name);
		free(s->in[i].bucket);
		free(s->in[i].key);
	}
	free(s->in);
	if (s->have_session)
		cw_s3_session_close(&s->ses);
	free(s);
}

size_t cw_merge_src_count(const struct cw_merge_src *s)
{
	return s->n;
}

const char *cw_merge_src_name(const struct cw_merge_src *s, size_t i)
{
	return s->in[i].name;
}

int cw_merge_src_load(struct cw_merge_src *s, size_t i, struct cw_run *run, bool *transient,
		      char *err, size_t errlen)
{
	const struct input *in = &s->in[i];
	struct cw_aws_response resp;
	int rc;

	*transient = false;
	if (!in->bucket)
		return cw_report_json_load(in->name, run, err, errlen);
	cw_aws_response_init(&resp);
	rc = cw_s3_get_object(&s->ses.s3, s->region, in->bucket, in->key, &resp, err, errlen);
	if (rc) {
		rc = object_fail(rc, &resp, "GetObject", in->bucket, in->key,
				 "s3:GetObject on the prefix", transient, err, errlen);
		cw_aws_response_release(&resp);
		return rc;
	}
	rc = cw_report_json_parse(in->name, resp.body.data ? resp.body.data : "", resp.body.len,
				  run, err, errlen);
	cw_aws_response_release(&resp);
	return rc;
}

/* GET (body NULL) or PUT of body on s3://bucket/key, on the session of s,
 * a PUT on the condition etag says (NULL: none; "": no such object yet;
 * else: the object still has that ETag); a GET of a key that is not there
 * is CW_ENOTFOUND, a PUT whose condition did not hold CW_ESTALE. */
static int object_call(struct cw_merge_src *s, const char *bucket, const char *key,
		       const char *body, size_t len, const char *etag,
		       struct cw_aws_response *resp, bool *transient, char *err, size_t errlen)
{
	const char *cond[2] = { NULL, NULL };
	int rc;

	*transient = false;
	if ((rc = open_session(s, err, errlen)))
		return rc;
	if (body && etag) {
		cond[0] = *etag ? "If-Match" : "If-None-Match";
		cond[1] = *etag ? etag : "*";
	}
	rc = cw_s3_call_headers(&s->ses.s3, s->region, body ? "PUT" : "GET", bucket, key, NULL,
				body ? "application/json" : NULL, body, len,
				cond[0] ? cond : NULL, cond[0] ? 1 : 0, resp, err, errlen);
	if (rc == CW_EAWS && !body && strcmp(resp->code, "NoSuchKey") == 0)
		return CW_ENOTFOUND;
	/* PreconditionFailed, or ConditionalRequestConflict: a write to the
	 * same key at the same time (S3's conditional writes) */
	if (rc == CW_EAWS && body && etag && (resp->status == 412 || resp->status == 409))
		return cw_fail(err, errlen, CW_ESTALE, "s3://%.63s/%.1024s: PutObject: %s: "
			       "the object changed since it was read (another merge at the "
			       "same time?); not overwritten", bucket, key,
			       resp->code[0] ? resp->code : "PreconditionFailed");
	if (rc)
		rc = object_fail(rc, resp, body ? "PutObject" : "GetObject", bucket, key,
				 body ? "s3:PutObject on it" : "s3:GetObject on it", transient,
				 err, errlen);
	return rc;
}

int cw_merge_src_get_object(struct cw_merge_src *s, const char *bucket, const char *key,
			    char **body, size_t *len, char *etag, size_t etaglen,
			    bool *transient, char *err, size_t errlen)
{
	struct cw_aws_response resp;
	int rc;

	*body = NULL;
	*len = 0;
	if (etaglen)
		etag[0] = '\0';
	cw_aws_response_init(&resp);
	rc = object_call(s, bucket, key, NULL, 0, NULL, &resp, transient, err, errlen);
	if (!rc && etaglen)
		cw_strlcpy(etag, resp.etag, etaglen);
	if (!rc && !(*body = malloc(resp.body.len + 1)))
		rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
	if (!rc) {
		if (resp.body.len)
			memcpy(*body, resp.body.data, resp.body.len);
		(*body)[resp.body.len] = '\0';
		*len = resp.body.len;
	}
	cw_aws_response_release(&resp);
	return rc;
}

int cw_merge_src_put_object(struct cw_merge_src *s, const char *bucket, const char *key,
			    const char *body, size_t len, const char *etag, bool *transient,
			    char *err, size_t errlen)
{
	struct cw_aws_response resp;
	int rc;

	cw_aws_response_init(&resp);
	rc = object_call(s, bucket, key, body ? body : "", len, etag, &resp, transient, err,
			 errlen);
	cw_aws_response_release(&resp);
	return rc;
}
