/*
 * state_src.c - the alert state in a file or an S3 object (see state_src.h).
 */
#include "state_src.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "s3.h"
#include "strutil.h"

int cw_state_src_set(struct cw_state_src *ss, const char *arg, char *err, size_t errlen)
{
	memset(ss, 0, sizeof(*ss));
	ss->where = arg;
	if (!*arg)
		return cw_fail(err, errlen, CW_EINVAL, "empty value");
	if (!cw_str_startswith(arg, "s3://"))
		return 0;
	if (cw_s3_url_parse(arg, ss->bucket, sizeof(ss->bucket), ss->key, sizeof(ss->key), err,
			    errlen))
		return CW_EINVAL;
	if (!ss->key[0] || arg[strlen(arg) - 1] == '/')
		return cw_fail(err, errlen, CW_EINVAL, "%s: want s3://BUCKET/KEY (an object, "
			       "not a prefix)", arg);
	return 0;
}

int cw_state_src_load(struct cw_state_src *ss, struct cw_merge_src *src, struct cw_state *st,
		      bool *transient, char *err, size_t errlen)
{
	char *text = NULL, perr[CW_ERRBUF];
	size_t len;
	int rc;

	*transient = false;
	if (!ss->bucket[0])
		return cw_state_load(st, ss->where, err, errlen);
	rc = cw_merge_src_get_object(src, ss->bucket, ss->key, &text, &len, ss->etag,
				     sizeof(ss->etag), transient, err, errlen);
	ss->existed = rc != CW_ENOTFOUND;
	if (rc == CW_ENOTFOUND) {
		cw_log_info("state %s: none yet; starting from an empty state", ss->where);
		return 0;
	}
	if (rc)
		return rc;
	/* as a run treats a corrupt file: a warning, and an empty state */
	rc = cw_state_parse(st, ss->where, text, len, perr, sizeof(perr));
	free(text);
	if (rc == CW_ENOMEM)
		return cw_fail(err, errlen, rc, "out of memory");
	if (rc)
		cw_log_warn("%s; starting from an empty state", perr);
	return 0;
}

int cw_state_src_save(const struct cw_state_src *ss, struct cw_merge_src *src,
		      const struct cw_state *st, int64_t now, char *err, size_t errlen)
{
	bool transient;
	char *text = NULL;
	int rc;

	if (!ss->bucket[0])
		return cw_state_save(st, ss->where, now, err, errlen);
	if (cw_state_text(st, now, &text))
		return cw_fail(err, errlen, CW_ENOMEM, "out of memory");
	rc = cw_merge_src_put_object(src, ss->bucket, ss->key, text, strlen(text),
				     !ss->existed ? "" : ss->etag[0] ? ss->etag : NULL,
				     &transient, err, errlen);
	free(text);
	return rc;
}
