/*
 * state_src.h - where `merge --state` and `ack --state` keep the alert
 * state: a file (cw_state_load / cw_state_save, atomic) or an S3 object
 * (s3://BUCKET/KEY: GetObject, then a conditional PutObject on the
 * session of a cw_merge_src).
 *
 * S3 has no lock.  What was read is remembered (whether there was an
 * object, its ETag), and the write goes only over that object (If-Match)
 * or only where there was none (If-None-Match: *): a writer that came in
 * between makes the write fail with CW_ESTALE and the object stays as
 * that writer left it, never silently overwritten.
 *
 * Threads: one thread (the command's).
 */
#ifndef CW_STATE_SRC_H
#define CW_STATE_SRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "merge_src.h"
#include "state.h"

struct cw_state_src {
	const char *where;  /* as given */
	char bucket[64];    /* "" for a file */
	char key[1024];
	bool existed;       /* S3: there was an object when it was read */
	char etag[128];     /* S3: its ETag; "" when S3 sent none */
};

/* Take arg (a path, or s3://BUCKET/KEY naming an object, not a prefix).
 * 0, or CW_EINVAL with err saying why. */
int cw_state_src_set(struct cw_state_src *ss, const char *arg, char *err, size_t errlen);

/* Read the state into st (initialised by the caller; none yet: empty; one
 * that does not parse: a warning and empty, as a run treats it).  0, or a
 * cw_err with err naming the place; *transient for S3 failures worth a
 * later try (network, throttling, 5xx). */
int cw_state_src_load(struct cw_state_src *ss, struct cw_merge_src *src, struct cw_state *st,
		      bool *transient, char *err, size_t errlen);

/* Write st back: 0, CW_ESTALE (S3: someone wrote it since it was read;
 * unchanged), or another cw_err; err says what. */
int cw_state_src_save(const struct cw_state_src *ss, struct cw_merge_src *src,
		      const struct cw_state *st, int64_t now, char *err, size_t errlen);

#endif
