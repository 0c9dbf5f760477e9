/*
 * dotenv.h - the old one-bucket script's config.env, and the one-bucket
 * inventory that `cwsweep run --config config.env` sweeps.
 *
 * Syntax (what python-dotenv and shells agree on), one variable per line:
 *
 *   # a comment                    blank lines and comment lines are skipped
 *   KEY=value                      unquoted: up to the end of the line, or up
 *                                  to " #" (a # after a blank starts a
 *                                  comment; a # inside a word is kept, as in
 *                                  URLs); surrounding blanks are trimmed
 *   export KEY=value               the shell's `export ` prefix is allowed
 *   KEY = value                    blanks around = are allowed
 *   KEY='literal $ and \ kept'     single quotes: taken as is
 *   KEY="a \"b\" \\ \$ \n"         double quotes: \n \t \" \\ \$ are escapes;
 *                                  any other backslash is kept as written
 *   KEY=                           an empty value
 *
 * A quoted value ends on its own line (no multi-line values) and may be
 * followed only by blanks and a comment.  No ${VAR} expansion: $ is a plain
 * character.  CRLF line ends are accepted.  When a key is given twice the
 * last one wins, as when a shell sources the file.  Anything else is an
 * error "FILE:LINE: what", and the message never repeats the line's text:
 * it may hold the webhook URL.
 *
 * Keys of config.env (the old script's three, plus what boto3 would have
 * read from the environment the script loaded it into):
 *   S3_BUCKET_NAME              required: the bucket
 *   DATA_TRANSFER_THRESHOLD_GB  required: a positive number; GB = 1024^3
 *                               bytes, as the script computed
 *   SLACK_WEBHOOK_URL           optional (secret): where the alert goes
 *   AWS_REGION / AWS_DEFAULT_REGION  optional: the bucket's region
 *   AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (secret),
 *   AWS_SESSION_TOKEN (secret)  optional: see cw_config_env_export
 * Other keys are ignored with a warning.
 *
 * Threads: none.  cw_config_env_export calls setenv: call it before any
 * thread starts.
 */
#ifndef CW_DOTENV_H
#define CW_DOTENV_H

#include <stdbool.h>
#include <stddef.h>

#include "inventory.h"

#define CW_DOTENV_MAX_BYTES ((size_t)1024 * 1024)

struct cw_dotenv_var {
	char *key;   /* owned */
	char *value; /* owned; wiped on release (it may be a secret) */
	int line;    /* 1-based line of the last assignment */
};

struct cw_dotenv {
	struct cw_dotenv_var *v; /* owned; file order of first appearance */
	size_t n, cap;
};

/*
 * Parse text (len bytes, NUL not needed) into *out.  name is what messages
 * call the file.  0, or CW_EINVAL with err "NAME:LINE: what" (out left
 * empty), or CW_ENOMEM.
 */
int cw_dotenv_parse(struct cw_dotenv *out, const char *name, const char *text, size_t len,
		    char *err, size_t errlen);
void cw_dotenv_release(struct cw_dotenv *d);
/* The variable named key (borrowed), NULL when absent. */
const struct cw_dotenv_var *cw_dotenv_get(const struct cw_dotenv *d, const char *key);

/* What config.env says, validated. */
struct cw_config_env {
	char *path;            /* owned: the file as named on the command line */
	char *bucket;          /* owned: S3_BUCKET_NAME */
	int bucket_line;
	char *region;          /* owned: AWS_REGION, else AWS_DEFAULT_REGION (the file,
				* then the environment), else "us-east-1" */
	const char *region_from; /* static: "config.env", "environment", "default" */
	double threshold_gb;   /* as written */
	double threshold_bytes;/* threshold_gb x 1024^3 */
	char *slack_webhook;   /* owned, SECRET: never print it; NULL when not set */
	struct cw_dotenv vars; /* everything the file said (for cw_config_env_export) */
};

/*
 * Read and check path.  0, or CW_EINVAL / CW_EIO with err naming the file
 * (and line): a syntax error, a missing or bad key, or a file holding a
 * secret (SLACK_WEBHOOK_URL, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) that
 * group or others may read or write, refused as ssh refuses such keys:
 * "config.env: permissions 0644 are too open for a file holding
 * SLACK_WEBHOOK_URL; run: chmod 600 config.env".  The caller exits 2.
 * *out is empty on failure; cw_config_env_release it on success.
 */
int cw_config_env_load(const char *path, struct cw_config_env *out, char *err,
		       size_t errlen);
void cw_config_env_release(struct cw_config_env *c);

/*
 * The one-bucket inventory (*inv initialised here; cw_inventory_release
 * it): one account "default credentials" with id "" and no roles (the
 * ambient credentials; its real id is unknown without an STS call), in
 * c->region, holding c->bucket; the metric AWS/S3 BytesDownloaded Sum with
 * BucketName + FilterId=EntireBucket; one detector, threshold with limit =
 * threshold_bytes and min_history 0; period 1d, lookback 3 days (only the
 * last complete UTC day is judged); no state file; Slack enabled when the
 * file has a webhook (the caller passes c->slack_webhook to the digest: it
 * is not in the inventory).
 */
int cw_config_env_to_inventory(const struct cw_config_env *c, struct cw_inventory *inv,
			       char *err, size_t errlen);

/*
 * Put the file's AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN into the environment, each only when the environment
 * does not set it already (python-dotenv's load_dotenv, which the old
 * script used), so the default credentials chain finds what the script's
 * boto3 found.  Call before threads start.  Returns how many were set, or
 * CW_ENOMEM.
 */
int cw_config_env_export(const struct cw_config_env *c);

#endif
