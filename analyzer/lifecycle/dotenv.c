/*
 * dotenv.c - parse config.env (see dotenv.h for the syntax), check what it
 * says, refuse it when it holds a secret that others may read, and turn it
 * into a one-bucket inventory.
 *
 * Values may be secrets: no message here quotes a line, a value or even a
 * would-be key from a line that does not parse, and values are wiped when
 * released.  No threads (cw_config_env_export calls setenv: before any
 * thread starts).
 */
#include "dotenv.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detector.h"
#include "err.h"
#include "log.h"
#include "strutil.h"
#include "units.h"
#include "validate.h"

#define GIB 1073741824.0        /* the script's GB: 1024^3 bytes */
#define LOOKBACK_DAYS 3         /* the last complete day, with room to spare */
#define DEFAULT_REGION "us-east-1"
#define ACCOUNT_NAME "default credentials"

/* ---- the variable list --------------------------------------------------- */

static void var_release(struct cw_dotenv_var *v)
{
	free(v->key);
	if (v->value) {
		cw_wipe(v->value, strlen(v->value));
		free(v->value);
	}
	memset(v, 0, sizeof(*v));
}

void cw_dotenv_release(struct cw_dotenv *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		var_release(&d->v[i]);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

const struct cw_dotenv_var *cw_dotenv_get(const struct cw_dotenv *d, const char *key)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i].key, key) == 0)
			return &d->v[i];
	return NULL;
}

/* Set key (copied, klen bytes) to value (stolen); the last assignment wins. */
static int dotenv_set(struct cw_dotenv *d, const char *key, size_t klen, char *value,
		      int line)
{
	struct cw_dotenv_var *v = NULL;

	for (size_t i = 0; i < d->n; i++)
		if (strlen(d->v[i].key) == klen && memcmp(d->v[i].key, key, klen) == 0)
			v = &d->v[i];
	if (v) {
		cw_wipe(v->value, strlen(v->value));
		free(v->value);
		v->value = value;
		v->line = line;
		return 0;
	}
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 8;
		struct cw_dotenv_var *nv = realloc(d->v, ncap * sizeof(*nv));

		if (!nv)
			goto oom;
		d->v = nv;
		d->cap = ncap;
	}
	v = &d->v[d->n];
	v->key = cw_strndup(key, klen);
	if (!v->key)
		goto oom;
	v->value = value;
	v->line = line;
	d->n++;
	return 0;
oom:
	cw_wipe(value, strlen(value));
	free(value);
	return CW_ENOMEM;
}

/* ---- one line ------------------------------------------------------------ */

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool key_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool key_char(char c)
{
	return key_start(c) || (c >= '0' && c <= '9');
}

/* A control character that has no business in a value (tab is fine). */
static bool control(char c)
{
	return ((unsigned char)c < 0x20 && c != '\t') || c == 0x7f;
}

/* After a closing quote: only blanks, then optionally a comment. */
static const char *after_quote(const char *p, const char *e)
{
	while (p < e && blank(*p))
		p++;
	if (p < e && *p != '#')
		return "unexpected text after the closing quote (quote the whole value)";
	return NULL;
}

/*
 * The value of [p, e) into *out (new string).  0, CW_ENOMEM, or CW_EINVAL
 * with a static reason in *why.  p is at the first character after "=" and
 * its blanks; prev is the character before p (a '#' right after a blank
 * starts a comment).
 */
static int parse_value(const char *p, const char *e, char prev, char **out,
		       const char **why)
{
	char *v = malloc((size_t)(e - p) + 1), *w = v;

	*out = NULL;
	*why = NULL;
	if (!v)
		return CW_ENOMEM;
	if (p < e && *p == '\'') {
		const char *q = memchr(p + 1, '\'', (size_t)(e - p - 1));

		if (!q) {
			*why = "unterminated single quote (a value ends on its own line)";
			goto fail;
		}
		for (p++; p < q; p++) {
			if (control(*p)) {
				*why = "control character in the value";
				goto fail;
			}
			*w++ = *p;
		}
		*why = after_quote(q + 1, e);
	} else if (p < e && *p == '"') {
		for (p++;; p++) {
			if (p >= e) {
				*why = "unterminated double quote (a value ends on its own line)";
				goto fail;
			}
			if (*p == '"')
				break;
			if (control(*p)) {
				*why = "control character in the value";
				goto fail;
			}
			if (*p == '\\' && p + 1 < e) {
				char c = p[1];

				if (c == 'n' || c == 't' || c == '"' || c == '\\' || c == '$') {
					*w++ = c == 'n' ? '\n' : c == 't' ? '\t' : c;
					p++;
					continue;
				}
			}
			*w++ = *p;
		}
		*why = after_quote(p + 1, e);
	} else {
		for (; p < e; prev = *p++) {
			if (*p == '#' && blank(prev))
				break;
			if (control(*p)) {
				*why = "control character in the value";
				goto fail;
			}
			*w++ = *p;
		}
		while (w > v && blank(w[-1]))
			w--;
	}
	if (*why)
		goto fail;
	*w = '\0';
	*out = v;
	return 0;
fail:
	cw_wipe(v, (size_t)(w - v));
	free(v);
	return CW_EINVAL;
}

/* One line [p, e) without its line end.  0, CW_EINVAL (err set), CW_ENOMEM. */
static int parse_line(struct cw_dotenv *d, const char *name, int line, const char *p,
		      const char *e, char *err, size_t errlen)
{
	const char *key, *why;
	size_t klen;
	char *value;
	int rc;

	while (p < e && blank(*p))
		p++;
	if (p == e || *p == '#')
		return 0;
	if (e - p > 7 && memcmp(p, "export", 6) == 0 && blank(p[6])) {
		p += 6;
		while (p < e && blank(*p))
			p++;
	}
	if (p == e || !key_start(*p))
		return cw_fail(err, errlen, CW_EINVAL, "%s:%d: expected KEY=VALUE (a name of "
			       "letters, digits and _, then =)", name, line);
	key = p;
	while (p < e && key_char(*p))
		p++;
	klen = (size_t)(p - key);
	while (p < e && blank(*p))
		p++;
	if (p == e || *p != '=')
		return cw_fail(err, errlen, CW_EINVAL, "%s:%d: expected KEY=VALUE (a name of "
			       "letters, digits and _, then =)", name, line);
	p++;
	while (p < e && blank(*p))
		p++;
	rc = parse_value(p, e, p[-1], &value, &why);
	if (rc == CW_ENOMEM)
		return cw_fail(err, errlen, CW_ENOMEM, "%s: out of memory", name);
	if (rc)
		return cw_fail(err, errlen, CW_EINVAL, "%s:%d: %.*s: %s", name, line,
			       (int)klen, key, why);
	if (dotenv_set(d, key, klen, value, line))
		return cw_fail(err, errlen, CW_ENOMEM, "%s: out of memory", name);
	return 0;
}

int cw_dotenv_parse(struct cw_dotenv *out, const char *name, const char *text, size_t len,
		    char *err, size_t errlen)
{
	const char *p = text, *end = text + len;
	int line = 0, rc = 0;

	memset(out, 0, sizeof(*out));
	if (len > CW_DOTENV_MAX_BYTES)
		return cw_fail(err, errlen, CW_EINVAL, "%s: larger than %zu bytes: not a "
			       "config.env", name, CW_DOTENV_MAX_BYTES);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;

		line++;
		if (memchr(p, '\0', (size_t)(e - p))) {
			rc = cw_fail(err, errlen, CW_EINVAL, "%s:%d: NUL byte: not a text file",
				     name, line);
			break;
		}
		if (e > p && e[-1] == '\r')
			e--;
		rc = parse_line(out, name, line, p, e, err, errlen);
		if (rc)
			break;
		p = nl ? nl + 1 : end;
	}
	if (rc)
		cw_dotenv_release(out);
	return rc;
}

/* ---- config.env ---------------------------------------------------------- */

static const char *const known_keys[] = {
	"S3_BUCKET_NAME", "DATA_TRANSFER_THRESHOLD_GB", "SLACK_WEBHOOK_URL", "AWS_REGION",
	"AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
	"AWS_SESSION_TOKEN", NULL
};

/* In the order the permission message names them. */
static const char *const secret_keys[] = {
	"SLACK_WEBHOOK_URL", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", NULL
};

/* The keys that cw_config_env_export may set. */
static const char *const exported_keys[] = {
	"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", NULL
};

void cw_config_env_release(struct cw_config_env *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->bucket);
	free(c->region);
	if (c->slack_webhook) {
		cw_wipe(c->slack_webhook, strlen(c->slack_webhook));
		free(c->slack_webhook);
	}
	cw_dotenv_release(&c->vars);
	memset(c, 0, sizeof(*c));
}

/* A variable with a non-empty value, or NULL. */
static const struct cw_dotenv_var *given(const struct cw_dotenv *d, const char *key)
{
	const struct cw_dotenv_var *v = cw_dotenv_get(d, key);

	return v && v->value[0] ? v : NULL;
}

/* Read the file through one descriptor: its mode is the mode of what was
 * read.  *text: new string. */
static int read_config(const char *path, char **text, size_t *len, mode_t *mode,
		       char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, rc = 0;

	*text = NULL;
	/* O_NONBLOCK: a FIFO at the path must not hang the open */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return cw_fail(err, errlen, errno == ENOENT ? CW_ENOTFOUND : CW_EIO,
			       "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = cw_fail(err, errlen, CW_EIO, "%s: not a regular file", path);
		goto out;
	}
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if ((size_t)st.st_size > CW_DOTENV_MAX_BYTES) {
		rc = cw_fail(err, errlen, CW_EINVAL, "%s: larger than %zu bytes: not a "
			     "config.env", path, CW_DOTENV_MAX_BYTES);
		goto out;
	}
	buf = malloc(CW_DOTENV_MAX_BYTES + 1);
	if (!buf) {
		rc = cw_fail(err, errlen, CW_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, buf + got, CW_DOTENV_MAX_BYTES + 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = cw_fail(err, errlen, CW_EIO, "%s: read: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (got > CW_DOTENV_MAX_BYTES) {
			rc = cw_fail(err, errlen, CW_EINVAL, "%s: larger than %zu bytes: not "
				     "a config.env", path, CW_DOTENV_MAX_BYTES);
			goto out;
		}
	}
	buf[got] = '\0';
	*mode = st.st_mode;
	*len = got;
	*text = buf;
	buf = NULL;
out:
	if (buf) {
		cw_wipe(buf, got);
		free(buf);
	}
	close(fd);
	return rc;
}

/* path as a word the shell takes as is (quoted when it has to be). */
static void shell_word(const char *path, char *out, size_t len)
{
	if (path[strspn(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"0123456789_./-+,:@%")] == '\0' && path[0] != '-') {
		snprintf(out, len, "%s", path);
		return;
	}
	/* rare enough that a path with ' in it is shown as "PATH" */
	if (strchr(path, '\''))
		snprintf(out, len, "\"%s\"", path);
	else
		snprintf(out, len, "'%s'", path);
}

static int check_permissions(const char *path, const struct cw_dotenv *d, mode_t mode,
			     char *err, size_t errlen)
{
	char word[1024];

	if ((mode & 077) == 0)
		return 0;
	for (size_t i = 0; secret_keys[i]; i++) {
		if (!given(d, secret_keys[i]))
			continue;
		shell_word(path, word, sizeof(word));
		return cw_fail(err, errlen, CW_EINVAL, "%s: permissions %04o are too open for "
			       "a file holding %s; run: chmod 600 %s", path,
			       (unsigned)(mode & 07777), secret_keys[i], word);
	}
	return 0;
}

/* A webhook URL: https, or plain http to this machine (tests, the demo). */
static bool webhook_ok(const char *u)
{
	static const char *const local[] = { "http://127.0.0.1", "http://localhost",
					     "http://[::1]", NULL };

	if (cw_str_startswith(u, "https://") && u[8] && u[8] != '/')
		return true;
	for (size_t i = 0; local[i]; i++) {
		size_t n = strlen(local[i]);

		if (strncmp(u, local[i], n) == 0 && (u[n] == ':' || u[n] == '/'))
			return true;
	}
	return false;
}

static int check_region(struct cw_config_env *c, const char *path, char *err, size_t errlen)
{
	static const char *const keys[] = { "AWS_REGION", "AWS_DEFAULT_REGION", NULL };
	const char *value = NULL, *why;
	int line = 0;

	for (size_t i = 0; keys[i] && !value; i++) {
		const struct cw_dotenv_var *v = given(&c->vars, keys[i]);

		if (v) {
			value = v->value;
			line = v->line;
			c->region_from = "config.env";
			why = cw_check_region(value);
			if (why)
				return cw_fail(err, errlen, CW_EINVAL, "%s:%d: %s: %s", path, line,
					       keys[i], why);
		}
	}
	for (size_t i = 0; keys[i] && !value; i++) {
		const char *env = getenv(keys[i]);

		if (env && *env) {
			value = env;
			c->region_from = "environment";
			why = cw_check_region(value);
			if (why)
				return cw_fail(err, errlen, CW_EINVAL,
					       "environment variable %s: %s", keys[i], why);
		}
	}
	if (!value) {
		value = DEFAULT_REGION;
		c->region_from = "default";
	}
	c->region = cw_strdup(value);
	return c->region ? 0 : cw_fail(err, errlen, CW_ENOMEM, "%s: out of memory", path);
}

/* The known key that k probably meant: the closest by edit distance, else
 * one that k begins (S3_BUCKET -> S3_BUCKET_NAME); NULL when none. */
static const char *suggest(const char *k)
{
	const char *near = cw_closest(k, known_keys);

	for (size_t j = 0; !near && known_keys[j]; j++)
		if (strlen(k) >= 4 && cw_str_startswith(known_keys[j], k))
			near = known_keys[j];
	return near;
}

static int check_keys(struct cw_config_env *c, const char *path, char *err, size_t errlen)
{
	const struct cw_dotenv_var *v;
	const char *why;
	char tmp[CW_ERRBUF];
	double x;

	for (size_t i = 0; i < c->vars.n; i++) {
		const char *k = c->vars.v[i].key, *near;
		bool known = false;

		for (size_t j = 0; known_keys[j] && !known; j++)
			known = strcmp(k, known_keys[j]) == 0;
		if (known)
			continue;
		near = suggest(k);
		cw_log_warn("%s:%d: %s: not a config.env key, ignored%s%s%s", path,
			    c->vars.v[i].line, k, near ? " (did you mean " : "",
			    near ? near : "", near ? "?)" : "");
	}

	v = given(&c->vars, "S3_BUCKET_NAME");
	if (!v)
		return cw_fail(err, errlen, CW_EINVAL, "%s: S3_BUCKET_NAME: missing (the "
			       "bucket whose downloads are watched)", path);
	why = cw_check_bucket_name(v->value);
	if (why)
		return cw_fail(err, errlen, CW_EINVAL, "%s:%d: S3_BUCKET_NAME: %s", path,
			       v->line, why);
	c->bucket = cw_strdup(v->value);
	c->bucket_line = v->line;
	if (!c->bucket)
		return cw_fail(err, errlen, CW_ENOMEM, "%s: out of memory", path);

	v = given(&c->vars, "DATA_TRANSFER_THRESHOLD_GB");
	if (!v)
		return cw_fail(err, errlen, CW_EINVAL, "%s: DATA_TRANSFER_THRESHOLD_GB: "
			       "missing (the daily download limit in GB)", path);
	if (cw_parse_number(v->value, &x, tmp, sizeof(tmp)) != 0)
		return cw_fail(err, errlen, CW_EINVAL, "%s:%d: DATA_TRANSFER_THRESHOLD_GB: "
			       "not a number (GB per day, e.g. 100 or 2.5)", path, v->line);
	if (!(x > 0))
		return cw_fail(err, errlen, CW_EINVAL, "%s:%d: DATA_TRANSFER_THRESHOLD_GB: "
			       "must be above 0", path, v->line);
	if (x * GIB > 1e21)
		return cw_fail(err, errlen, CW_EINVAL, "%s:%d: DATA_TRANSFER_THRESHOLD_GB: "
			       "too large (at most %.0f)", path, v->line, floor(1e21 / GIB));
	c->threshold_gb = x;
	c->threshold_bytes = x * GIB;

	v = given(&c->vars, "SLACK_WEBHOOK_URL");
	if (v) {
		if (!webhook_ok(v->value))
			return cw_fail(err, errlen, CW_EINVAL, "%s:%d: SLACK_WEBHOOK_URL: not "
				       "an https:// URL", path, v->line);
		c->slack_webhook = cw_strdup(v->value);
		if (!c->slack_webhook)
			return cw_fail(err, errlen, CW_ENOMEM, "%s: out of memory", path);
	}
	return check_region(c, path, err, errlen);
}

int cw_config_env_load(const char *path, struct cw_config_env *out, char *err,
		       size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	mode_t mode = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = read_config(path, &text, &len, &mode, err, errlen);
	if (rc)
		return rc;
	rc = cw_dotenv_parse(&out->vars, path, text, len, err, errlen);
	cw_wipe(text, len);
	free(text);
	if (rc)
		goto fail;
	rc = check_permissions(path, &out->vars, mode, err, errlen);
	if (rc)
		goto fail;
	out->path = cw_strdup(path);
	if (!out->path) {
		rc = cw_fail(err, errlen, CW_ENOMEM, "%s: out of memory", path);
		goto fail;
	}
	rc = check_keys(out, path, err, errlen);
	if (rc == 0)
		return 0;
fail:
	cw_config_env_release(out);
	return rc;
}

int cw_config_env_export(const struct cw_config_env *c)
{
	int set = 0;

	for (size_t i = 0; exported_keys[i]; i++) {
		const struct cw_dotenv_var *v = given(&c->vars, exported_keys[i]);
		const char *env = getenv(exported_keys[i]);

		if (!v || (env && *env))
			continue;
		if (setenv(exported_keys[i], v->value, 1) != 0)
			return CW_ENOMEM;
		set++;
	}
	return set;
}

/* ---- the one-bucket inventory -------------------------------------------- */

/* A set of one threshold detector at limit bytes, min_history 0. */
static int threshold_set(struct cw_det_set *set, double limit, char *err, size_t errlen)
{
	const struct cw_detector_ops *ops = cw_detector_find("threshold");
	struct cw_detector_conf *conf;
	size_t idx;
	int rc;

	set->v = NULL;
	set->n = 0;
	if (!ops || !cw_detector_param(ops, "limit", &idx))
		return cw_fail(err, errlen, CW_ESTATE, "the threshold detector is missing");
	conf = calloc(1, sizeof(*conf));
	if (!conf)
		return cw_fail(err, errlen, CW_ENOMEM, "out of memory");
	cw_detector_conf_defaults(conf, ops);
	conf->p[idx] = limit;
	conf->p[CW_P_MIN_HISTORY] = 0;
	rc = cw_detector_conf_build(conf, err, errlen);
	if (rc) {
		free(conf);
		return rc;
	}
	set->v = conf;
	set->n = 1;
	return 0;
}

static void det_set_release(struct cw_det_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		cw_detector_conf_release(&set->v[i]);
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

/* A one-element string list. */
static int one_str(char ***v, size_t *n, const char *s)
{
	*v = calloc(1, sizeof(**v));
	if (!*v)
		return CW_ENOMEM;
	(*v)[0] = cw_strdup(s);
	if (!(*v)[0])
		return CW_ENOMEM; /* the caller's release frees the empty list */
	*n = 1;
	return 0;
}

int cw_config_env_to_inventory(const struct cw_config_env *c, struct cw_inventory *inv,
			       char *err, size_t errlen)
{
	struct cw_account_def *a;
	struct cw_bucket_def *b;
	int rc;

	rc = cw_inventory_defaults(inv);
	if (rc)
		return cw_fail(err, errlen, rc, "%s: cannot build the inventory: %s", c->path,
			       cw_strerror(rc));
	free(inv->path);
	inv->path = cw_strdup(c->path);
	inv->period = 86400;
	inv->lookback_days = LOOKBACK_DAYS;
	det_set_release(&inv->detectors);
	for (size_t i = 0; i < inv->nregions; i++)
		free(inv->regions[i]);
	free(inv->regions);
	inv->regions = NULL;
	inv->nregions = 0;
	if (!inv->path || one_str(&inv->regions, &inv->nregions, c->region))
		goto fail_nomem;
	rc = threshold_set(&inv->detectors, c->threshold_bytes, err, errlen);
	if (rc)
		goto fail;

	inv->accounts = calloc(1, sizeof(*inv->accounts));
	if (!inv->accounts)
		goto fail_nomem;
	inv->naccounts = 1;
	a = &inv->accounts[0];
	/* id "": the ambient credentials' account is not known without an STS
	 * call; no roles means "use the default credentials chain" */
	a->name = cw_strdup(ACCOUNT_NAME);
	a->duration_seconds = 3600;
	if (!a->name || one_str(&a->regions, &a->nregions, c->region))
		goto fail_nomem;
	rc = threshold_set(&a->detectors, c->threshold_bytes, err, errlen);
	if (rc)
		goto fail;
	a->buckets = calloc(1, sizeof(*a->buckets));
	if (!a->buckets)
		goto fail_nomem;
	a->nbuckets = 1;
	b = &a->buckets[0];
	b->name = cw_strdup(c->bucket);
	b->region = cw_strdup(c->region);
	b->line = c->bucket_line;
	b->col = 1;
	if (!b->name || !b->region)
		goto fail_nomem;
	rc = threshold_set(&b->detectors, c->threshold_bytes, err, errlen);
	if (rc)
		goto fail;
	inv->reporting.slack_enabled = c->slack_webhook != NULL;
	return 0;
fail_nomem:
	rc = CW_ENOMEM;
fail:
	if (rc == CW_ENOMEM)
		cw_fail(err, errlen, rc, "%s: out of memory", c->path);
	cw_inventory_release(inv);
	return rc;
}
