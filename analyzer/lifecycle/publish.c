/*
 * publish.c - upload the reports to S3 and make the digest's link
 * (publish.h).  Runs on the thread that owns the run, after the reports.
 */
#include "publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomicio.h"
#include "aws.h"
#include "creds.h"
#include "err.h"
#include "presign.h"
#include "s3.h"
#include "sigv4.h"
#include "strutil.h"
#include "timeutil.h"

/* Largest report uploaded in one PutObject (S3 takes 5 GB). */
#define MAX_REPORT ((size_t)4 * 1024 * 1024 * 1024)

static const struct {
	const char *name, *ctype;
} reports[] = {
	{ "report.html", "text/html; charset=utf-8" },
	{ "report.md", "text/markdown; charset=utf-8" },
	{ "report.csv", "text/csv; charset=utf-8" },
	{ "report.json", "application/json" },
	{ "report.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
};

int cw_publish_reports(const struct cw_publish_opts *o, const char *dir, const char *run_id,
		       struct cw_buf *link, size_t *uploaded, char *err, size_t errlen)
{
	const char *region = o->region && o->region[0] ? o->region : "us-east-1";
	struct cw_s3_session_opts so = {
		.profile = o->profile,
		.sts_region = o->sts_region,
		.endpoint_url = o->endpoint_url,
		.session_name = "cwsweep-publish",
		.max_attempts = o->max_attempts,
	};
	struct cw_s3_session ses;
	struct cw_creds creds;
	const char *linked = NULL;
	char key[1024];
	int rc;

	*uploaded = 0;
	memset(&creds, 0, sizeof(creds));
	if ((rc = cw_s3_session_open(&ses, &so, err, errlen)))
		return rc;

	for (size_t i = 0; i < sizeof(reports) / sizeof(reports[0]); i++) {
		static const char *const sse[] = { "x-amz-server-side-encryption", "AES256" };
		char *path = cw_asprintf("%s/%s", dir, reports[i].name), *text = NULL;
		char endpoint[512], opath[2048], what[200];
		struct cw_aws_response resp;
		struct cw_aws_request req;
		struct stat st;
		size_t len = 0;
		bool ps;

		if (!path) {
			rc = CW_ENOMEM;
			goto out;
		}
		if (stat(path, &st) != 0) { /* a format that was not written */
			free(path);
			continue;
		}
		rc = cw_read_file(path, MAX_REPORT, &text, &len, err, errlen);
		free(path);
		if (rc)
			goto out;
		snprintf(key, sizeof(key), "%.700s%s%.200s/%s", o->prefix, o->prefix[0] ? "/" : "", run_id,
			 reports[i].name);
		rc = cw_s3_address(&ses.s3, region, o->bucket, key, endpoint, sizeof(endpoint), opath,
				   sizeof(opath), &ps, err, errlen);
		if (rc) {
			free(text);
			goto out;
		}
		snprintf(what, sizeof(what), "s3 PutObject %.80s/%.100s", o->bucket, key);
		memset(&req, 0, sizeof(req));
		req.service = "s3";
		req.region = region;
		req.endpoint = endpoint;
		req.proto = CW_PROTO_REST;
		req.method = "PUT";
		req.path = opath;
		req.content_type = reports[i].ctype;
		req.extra_headers = sse;
		req.nextra_headers = 1;
		req.body = text;
		req.body_len = len;
		req.what = what;
		cw_aws_response_init(&resp);
		rc = cw_aws_call(ses.client, &req, ses.s3.get_creds, ses.s3.creds_ctx, &resp, err,
				 errlen);
		if (rc == CW_EAWS)
			rc = cw_fail(err, errlen, rc, "publish: s3://%s/%s: %s: %s", o->bucket, key,
				     resp.code, resp.message);
		cw_aws_response_release(&resp);
		free(text);
		if (rc)
			goto out;
		(*uploaded)++;
		if (!linked)
			linked = reports[i].name; /* report.html first, else report.md, ... */
	}
	if (!linked) {
		rc = cw_fail(err, errlen, CW_ENOTFOUND, "publish: no report in %s", dir);
		goto out;
	}
	if ((rc = cw_creds_provider_get(ses.ambient, false, &creds, err, errlen)))
		goto out;
	snprintf(key, sizeof(key), "%s%s%s/%s", o->prefix, o->prefix[0] ? "/" : "", run_id,
		 linked);
	rc = cw_s3_presign_get(&ses.s3, &creds, region, o->bucket, key, cw_time_now(), o->expiry,
			       link, err, errlen);
out:
	cw_creds_release(&creds);
	cw_s3_session_close(&ses);
	return rc;
}
