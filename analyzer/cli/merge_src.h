/*
 * merge_src.h - the inputs of `cwsweep merge`: report.json files on disk,
 * and every report.json under an S3 prefix (s3://BUCKET/PREFIX/, where
 * shards ran with `--hand-off`), listed with ListObjectsV2 and read with
 * GetObject on the ambient credentials.
 *
 * All listings are made when the sources are opened, so a wrong bucket,
 * refused credentials or an empty prefix stop merge before anything is
 * read or written.
 *
 * Threads: one thread (the command's).
 */
#ifndef CW_MERGE_SRC_H
#define CW_MERGE_SRC_H

#include <stdbool.h>
#include <stddef.h>

#include "run.h"

struct cw_merge_src;

/*
 * Expand args (paths and s3:// prefixes, in order; a prefix gives its
 * report.json objects in key order) into *out (cw_merge_src_free it).
 * region: the buckets' region (NULL: AWS_REGION, AWS_DEFAULT_REGION,
 * us-east-1).  0, or a cw_err with err naming the argument; *transient
 * tells a failure worth retrying later (network, throttling, 5xx) from a
 * wrong input (no such bucket, access denied, nothing there).
 */
int cw_merge_src_open(struct cw_merge_src **out, char *const *args, size_t nargs,
		      const char *region, bool *transient, char *err, size_t errlen);
void cw_merge_src_free(struct cw_merge_src *s);

size_t cw_merge_src_count(const struct cw_merge_src *s);
/* What messages call input i: its path, or s3://BUCKET/KEY (borrowed). */
const char *cw_merge_src_name(const struct cw_merge_src *s, size_t i);

/* Read input i into *run (initialised here, as cw_report_json_load does).
 * 0, or a cw_err with err naming the input; *transient as above. */
int cw_merge_src_load(struct cw_merge_src *s, size_t i, struct cw_run *run, bool *transient,
		      char *err, size_t errlen);

/*
 * The alert state merge keeps in S3 (`merge --state s3://BUCKET/KEY`), on
 * the same session as the inputs (opened here when needed).  GetObject:
 * the bytes in *body (malloc'd, NUL-terminated; free it) and the object's
 * ETag in etag ("" when S3 sent none), CW_ENOTFOUND when there is no such
 * key (nothing in *body).  PutObject of body (JSON; encrypted as the
 * bucket's default says), as a conditional write when etag is not NULL:
 * "" only where there is no object yet (If-None-Match: *), else only over
 * the object with that ETag (If-Match); CW_ESTALE when that did not hold
 * (412, or 409 for a write at the same moment): the object is unchanged.
 * Either: 0, or a cw_err with err naming the object and *transient as
 * above.
 */
int cw_merge_src_get_object(struct cw_merge_src *s, const char *bucket, const char *key,
			    char **body, size_t *len, char *etag, size_t etaglen,
			    bool *transient, char *err, size_t errlen);
int cw_merge_src_put_object(struct cw_merge_src *s, const char *bucket, const char *key,
			    const char *body, size_t len, const char *etag, bool *transient,
			    char *err, size_t errlen);

#endif
