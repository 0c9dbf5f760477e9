/*
 * publish.h - the run's reports where Slack readers can open them:
 * `reporting.publish: s3://BUCKET/PREFIX/` uploads every report of the
 * output folder to PREFIX/RUN_ID/report.EXT (S3 PutObject, SigV4 for s3,
 * x-amz-server-side-encryption: AES256, each with its content type) with
 * the ambient credentials, and makes a presigned GET URL of report.html
 * (report.md when there is no HTML) that lives reporting.
 * publish_link_expiry (at most 7 days) for the digest to link.
 */
#ifndef CW_PUBLISH_H
#define CW_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct cw_publish_opts {
	const char *bucket;       /* reporting.publish */
	const char *prefix;       /* "" or "a/b" */
	const char *region;       /* the bucket's; NULL: us-east-1 */
	int64_t expiry;           /* presigned link lifetime, seconds */
	const char *endpoint_url; /* aws.endpoint_url (emulators, tests); may be NULL */
	const char *profile;      /* --profile; NULL: the default chain */
	const char *sts_region;   /* for role profiles; may be NULL */
	int max_attempts;         /* 0: the default */
};

/*
 * Upload DIR/report.* under PREFIX/RUN_ID/ and append the presigned link
 * to link.  *uploaded: how many files went up.  0, or a cw_err with err
 * naming the object and S3's answer (nothing is retried beyond the usual
 * AWS retries; the reports on disk are untouched).
 */
int cw_publish_reports(const struct cw_publish_opts *o, const char *dir, const char *run_id,
		       struct cw_buf *link, size_t *uploaded, char *err, size_t errlen);

#endif
