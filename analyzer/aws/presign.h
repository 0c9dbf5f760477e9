/*
 * presign.h - presigned S3 GET URLs: SigV4 in the query string, so that a
 * link (in the Slack digest, say) opens an object without credentials
 * until it expires.
 *
 * The URL is the object's address (cw_s3_address: virtual-hosted, or path
 * style with an endpoint) plus X-Amz-Algorithm=AWS4-HMAC-SHA256,
 * X-Amz-Credential=KEY/DATE/REGION/s3/aws4_request, X-Amz-Date,
 * X-Amz-Expires (1..604800 seconds: seven days at most, and never longer
 * than temporary credentials live), X-Amz-Security-Token with temporary
 * credentials, X-Amz-SignedHeaders=host and X-Amz-Signature, the payload
 * hash being UNSIGNED-PAYLOAD.
 */
#ifndef CW_PRESIGN_H
#define CW_PRESIGN_H

#include <stddef.h>
#include <stdint.h>

#include "aws.h"
#include "buf.h"
#include "s3.h"

#define CW_PRESIGN_MAX_EXPIRES 604800 /* seven days, S3's limit */

/*
 * Append the presigned GET URL of bucket/key in region to url, signed with
 * creds at time now (UTC seconds) for `expires` seconds.  0, or CW_EINVAL
 * (expires out of range, no credentials; err says which) or CW_ENOMEM.
 */
int cw_s3_presign_get(const struct cw_s3 *s3, const struct cw_creds *creds,
		      const char *region, const char *bucket, const char *key, int64_t now,
		      int64_t expires, struct cw_buf *url, char *err, size_t errlen);

#endif
