/*
 * creds.c - the ambient credentials chain (see creds.h for the order) and
 * the provider that caches and refreshes what it found.
 *
 * Threads: the chain functions are reentrant (they read the environment
 * and files, and use their own HTTP handles and STS clients).  The provider
 * holds its mutex for the whole of a fetch, so when many workers ask at once
 * one of them fetches and the others wait and reuse the result.
 * credential_process forks: the child only calls async-signal-safe
 * functions before exec.
 */
#include "creds.h"
#include "creds_sso.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "atomicio.h"
#include "err.h"
#include "http.h"
#include "ini.h"
#include "log.h"
#include "strutil.h"
#include "sts.h"
#include "timeutil.h"

#define CREDS_FILE_MAX ((size_t)1 << 20)   /* ~/.aws files, token files */
#define CREDS_JSON_MAX ((size_t)64 << 10)  /* metadata / process answers */
#define PROFILE_HOPS_MAX 5                 /* role_arn -> source_profile depth */

/* ---- small helpers -------------------------------------------------------- */

static const char *env_get(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static bool env_true(const char *name)
{
	const char *v = env_get(name);

	return v && cw_str_ieq(v, "true");
}

static int64_t opts_now(const struct cw_creds_opts *o)
{
	return o && o->now ? o->now(o->env) : cw_time_now();
}

/* Visible ASCII only: keys and tokens go into HTTP headers. */
static bool header_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* Trim surrounding whitespace in place. */
static char *trim(char *s)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static void wipe_free(char *s, size_t n)
{
	if (s) {
		cw_wipe(s, n);
		free(s);
	}
}

/* Fill static keys; token may be NULL or "".  what names them for errors. */
static int set_keys(struct cw_creds *out, const char *akid, const char *secret,
		    const char *token, const char *what, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (strlen(akid) >= sizeof(out->access_key) || !header_safe(akid))
		return cw_fail(err, errlen, CW_EINVAL, "%s: access key id is malformed", what);
	if (strlen(secret) >= sizeof(out->secret_key) || !header_safe(secret))
		return cw_fail(err, errlen, CW_EINVAL, "%s: secret access key is malformed", what);
	if (token && *token && !header_safe(token))
		return cw_fail(err, errlen, CW_EINVAL, "%s: session token is malformed", what);
	cw_strlcpy(out->access_key, akid, sizeof(out->access_key));
	cw_strlcpy(out->secret_key, secret, sizeof(out->secret_key));
	if (token && *token) {
		out->session_token = cw_strdup(token);
		if (!out->session_token) {
			cw_creds_release(out);
			return cw_fail(err, errlen, CW_ENOMEM, "%s: out of memory", what);
		}
	}
	return 0;
}

/* "~/.aws/credentials" when path is under $HOME, else path. */
static void display_path(const char *path, char *buf, size_t len)
{
	const char *home = env_get("HOME");
	size_t hl = home ? strlen(home) : 0;

	if (home && strncmp(path, home, hl) == 0 && path[hl] == '/')
		snprintf(buf, len, "~%s", path + hl);
	else
		cw_strlcpy(buf, path, len);
}

const char *cw_env_region(const char *dflt)
{
	const char *r = env_get("AWS_REGION");

	return r ? r : env_get("AWS_DEFAULT_REGION") ? env_get("AWS_DEFAULT_REGION") : dflt;
}

static const char *sts_region(const struct cw_creds_opts *o, const char *profile_region)
{
	const char *env = cw_env_region(NULL);

	if (o->sts_region && *o->sts_region)
		return o->sts_region;
	if (env)
		return env;
	if (profile_region && *profile_region)
		return profile_region;
	return "us-east-1";
}

static void default_session_name(const struct cw_creds_opts *o, char *buf, size_t len)
{
	if (o->session_name && *o->session_name)
		cw_strlcpy(buf, o->session_name, len);
	else
		snprintf(buf, len, "cwsweep-%lld", (long long)opts_now(o));
}

/* ---- JSON credentials (container, IMDS, credential_process) --------------- */

enum {
	JSON_REQUIRE_EXP = 1,     /* Expiration must be there */
	JSON_REQUIRE_VERSION = 2, /* "Version": 1 must be there */
	JSON_CHECK_CODE = 4,      /* IMDS: "Code" must be "Success" when present */
};

static int parse_json_creds(const char *json, size_t len, const char *what, int flags,
			    struct cw_creds *out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *v;
	const char *akid, *secret, *token = NULL, *exp = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	root = json_loadb(json ? json : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) /* jerr.text may quote the input: never shown */
		return cw_fail(err, errlen, CW_EPARSE, "%s: malformed JSON at line %d column %d",
			       what, jerr.line, jerr.column);
	if (!json_is_object(root)) {
		rc = cw_fail(err, errlen, CW_EPARSE, "%s: answer is not a JSON object", what);
		goto out;
	}
	v = json_object_get(root, "Version");
	if ((v || (flags & JSON_REQUIRE_VERSION)) &&
	    (!json_is_integer(v) || json_integer_value(v) != 1)) {
		rc = cw_fail(err, errlen, CW_EPARSE, "%s: \"Version\" must be 1", what);
		goto out;
	}
	v = json_object_get(root, "Code");
	if ((flags & JSON_CHECK_CODE) && v &&
	    (!json_is_string(v) || strcmp(json_string_value(v), "Success") != 0)) {
		char code[64];

		cw_strlcpy(code, json_is_string(v) ? json_string_value(v) : "?", sizeof(code));
		for (char *c = code; *c; c++)
			if (!isprint((unsigned char)*c))
				*c = '?';
		rc = cw_fail(err, errlen, CW_EAUTH, "%s: Code is \"%s\", not \"Success\"", what,
			     code);
		goto out;
	}
	akid = json_string_value(json_object_get(root, "AccessKeyId"));
	secret = json_string_value(json_object_get(root, "SecretAccessKey"));
	v = json_object_get(root, "Token");
	if (!v)
		v = json_object_get(root, "SessionToken");
	if (v && !json_is_null(v)) {
		token = json_string_value(v);
		if (!token) {
			rc = cw_fail(err, errlen, CW_EPARSE, "%s: session token is not a string",
				     what);
			goto out;
		}
	}
	v = json_object_get(root, "Expiration");
	if (v && !json_is_null(v))
		exp = json_string_value(v);
	if (!akid || !*akid) {
		rc = cw_fail(err, errlen, CW_EPARSE, "%s: AccessKeyId missing", what);
		goto out;
	}
	if (!secret || !*secret) {
		rc = cw_fail(err, errlen, CW_EPARSE, "%s: SecretAccessKey missing", what);
		goto out;
	}
	if ((v && !json_is_null(v) && !exp) || (!exp && (flags & JSON_REQUIRE_EXP))) {
		rc = cw_fail(err, errlen, CW_EPARSE, "%s: Expiration missing", what);
		goto out;
	}
	rc = set_keys(out, akid, secret, token, what, err, errlen);
	if (rc)
		goto out;
	if (exp && (cw_time_parse(exp, &out->expiration) || out->expiration <= 0)) {
		cw_creds_release(out);
		rc = cw_fail(err, errlen, CW_EPARSE, "%s: Expiration is not a time", what);
	}
out:
	json_decref(root);
	return rc;
}

int cw_creds_parse_json(const char *json, size_t len, const char *what,
			bool require_expiration, struct cw_creds *out, char *err, size_t errlen)
{
	return parse_json_creds(json, len, what, require_expiration ? JSON_REQUIRE_EXP : 0,
				out, err, errlen);
}

/* ---- 1. environment ------------------------------------------------------- */

int cw_creds_from_env(struct cw_creds *out, char *err, size_t errlen)
{
	const char *akid = env_get("AWS_ACCESS_KEY_ID");
	const char *secret = env_get("AWS_SECRET_ACCESS_KEY");
	int rc;

	memset(out, 0, sizeof(*out));
	if (!akid && !secret)
		return cw_fail(err, errlen, CW_ENOTFOUND, "AWS_ACCESS_KEY_ID unset");
	if (!akid || !secret)
		return cw_fail(err, errlen, CW_EAUTH, "environment: %s is set but %s is not",
			       akid ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
			       akid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	rc = set_keys(out, akid, secret, env_get("AWS_SESSION_TOKEN"), "environment", err,
		      errlen);
	if (!rc)
		cw_strlcpy(out->source, "environment", sizeof(out->source));
	return rc;
}

/* ---- STS with a temporary client ------------------------------------------ */

/* One STS call on a client of our own: the caller's client may be in the
 * middle of the call that asked for these credentials. */
static int sts_call(const struct cw_creds_opts *o, const struct cw_sts_request *req,
		    cw_creds_fn get_creds, void *creds_ctx, struct cw_creds *out,
		    char *err, size_t errlen)
{
	struct cw_aws_client *c = NULL;
	struct cw_sts_error e;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!o->aws)
		return cw_fail(err, errlen, CW_ESTATE, "%s %s: no AWS context to call STS with",
			       req->web_identity_token ? "assume-role-with-web-identity" :
			       "assume-role", req->role_arn);
	rc = cw_aws_client_new(&c, o->aws);
	if (rc)
		return cw_fail(err, errlen, rc, "sts client: %s", cw_strerror(rc));
	rc = cw_sts_assume_role(c, req, get_creds, creds_ctx, out, &e);
	if (rc)
		cw_sts_error_format(&e, err, errlen);
	cw_aws_client_free(c);
	return rc;
}

static int web_identity(const struct cw_creds_opts *o, const char *token_file,
			const char *role_arn, const char *session, const char *region,
			const char *what, struct cw_creds *out, char *err, size_t errlen)
{
	struct cw_sts_request req;
	char *data = NULL, *tok;
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = cw_read_file(token_file, CREDS_FILE_MAX, &data, &len, err, errlen);
	if (rc) {
		if (rc == CW_ENOTFOUND)
			rc = CW_EAUTH; /* configured but missing: an error, not a skip */
		return rc;
	}
	tok = trim(data);
	if (!*tok) {
		rc = cw_fail(err, errlen, CW_EAUTH, "%s: web identity token file %s is empty",
			     what, token_file);
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.region = region;
	req.endpoint_url = o->endpoint_url;
	req.role_arn = role_arn;
	req.session_name = session;
	req.web_identity_token = tok;
	rc = sts_call(o, &req, NULL, NULL, out, err, errlen);
out:
	wipe_free(data, len);
	return rc;
}

/* ---- 3. web identity from the environment --------------------------------- */

int cw_creds_from_web_identity_env(const struct cw_creds_opts *o, struct cw_creds *out,
				   char *err, size_t errlen)
{
	const char *file = env_get("AWS_WEB_IDENTITY_TOKEN_FILE");
	const char *arn = env_get("AWS_ROLE_ARN");
	char session[80];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!file)
		return cw_fail(err, errlen, CW_ENOTFOUND, "AWS_WEB_IDENTITY_TOKEN_FILE unset");
	if (!arn)
		return cw_fail(err, errlen, CW_EAUTH,
			       "web identity: AWS_WEB_IDENTITY_TOKEN_FILE is set but "
			       "AWS_ROLE_ARN is not");
	if (env_get("AWS_ROLE_SESSION_NAME"))
		cw_strlcpy(session, env_get("AWS_ROLE_SESSION_NAME"), sizeof(session));
	else
		default_session_name(o, session, sizeof(session));
	rc = web_identity(o, file, arn, session, sts_region(o, NULL), "web identity", out,
			  err, errlen);
	if (!rc)
		cw_strlcpy(out->source, "web-identity", sizeof(out->source));
	return rc;
}

/* ---- credential_process --------------------------------------------------- */

static int64_t mono_ms(void)
{
	return cw_time_mono_ms();
}

static void set_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl >= 0)
		fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

/* First line of a process's stderr, printable, for messages. */
static void first_line(const struct cw_buf *b, char *out, size_t len)
{
	const char *s = cw_buf_str(b);
	size_t i = 0;

	while (*s == '\n' || *s == '\r' || *s == ' ')
		s++;
	for (; s[i] && s[i] != '\n' && s[i] != '\r' && i + 1 < len && i < 200; i++)
		out[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	out[i] = '\0';
}

int cw_creds_from_process(const char *command, long timeout_ms, struct cw_creds *out,
			  char *err, size_t errlen)
{
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	struct cw_buf obuf, ebuf;
	bool timed_out = false, too_big = false;
	int64_t deadline;
	pid_t pid = -1;
	int status = 0, rc = 0;

	memset(out, 0, sizeof(*out));
	cw_buf_init(&obuf, CREDS_JSON_MAX);
	cw_buf_init(&ebuf, 0);
	if (timeout_ms <= 0)
		timeout_ms = 60000;
	if (pipe(po) || pipe(pe)) {
		rc = cw_fail(err, errlen, CW_EIO, "credential_process: pipe: %s", strerror(errno));
		goto out;
	}
	set_cloexec(po[0]); set_cloexec(po[1]); set_cloexec(pe[0]); set_cloexec(pe[1]);
	pid = fork();
	if (pid < 0) {
		rc = cw_fail(err, errlen, CW_EIO, "credential_process: fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		/* Child: async-signal-safe calls only. */
		int devnull = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;

	deadline = mono_ms() + timeout_ms;
	while (po[0] >= 0 || pe[0] >= 0) {
		struct pollfd fds[2];
		int nf = 0, left = (int)(deadline - mono_ms());

		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (po[0] >= 0)
			fds[nf++] = (struct pollfd){ .fd = po[0], .events = POLLIN };
		if (pe[0] >= 0)
			fds[nf++] = (struct pollfd){ .fd = pe[0], .events = POLLIN };
		if (poll(fds, (nfds_t)nf, left) < 0) {
			if (errno == EINTR)
				continue;
			rc = cw_fail(err, errlen, CW_EIO, "credential_process: poll: %s",
				     strerror(errno));
			break;
		}
		for (int i = 0; i < nf; i++) {
			char chunk[4096];
			ssize_t n;
			bool is_out = fds[i].fd == po[0];

			if (!fds[i].revents)
				continue;
			n = read(fds[i].fd, chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(fds[i].fd);
				if (is_out)
					po[0] = -1;
				else
					pe[0] = -1;
				continue;
			}
			if (is_out) {
				if (cw_buf_add(&obuf, chunk, (size_t)n)) {
					too_big = true;
					break;
				}
			} else if (ebuf.len < 4096) {
				cw_buf_add(&ebuf, chunk, (size_t)n);
			}
			cw_wipe(chunk, sizeof(chunk));
		}
		if (too_big || rc)
			break;
	}
	if (timed_out || too_big || rc) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	/* Reap; a child that closed its output but lingers is killed at the deadline. */
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid || (w < 0 && errno != EINTR))
			break;
		if (w == 0 && mono_ms() >= deadline) {
			timed_out = true;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		if (w == 0)
			poll(NULL, 0, 5);
	}
	if (rc)
		goto out;
	if (timed_out) {
		rc = cw_fail(err, errlen, CW_EAUTH, "credential_process: timed out after %ld ms",
			     timeout_ms);
		goto out;
	}
	if (too_big) {
		rc = cw_fail(err, errlen, CW_EAUTH,
			     "credential_process: output larger than %zu bytes",
			     CREDS_JSON_MAX);
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char line[208];

		first_line(&ebuf, line, sizeof(line));
		if (WIFEXITED(status))
			rc = cw_fail(err, errlen, CW_EAUTH,
				     "credential_process: exited with status %d%s%s",
				     WEXITSTATUS(status), line[0] ? ": " : "", line);
		else
			rc = cw_fail(err, errlen, CW_EAUTH,
				     "credential_process: killed by signal %d%s%s",
				     WIFSIGNALED(status) ? WTERMSIG(status) : 0,
				     line[0] ? ": " : "", line);
		goto out;
	}
	rc = parse_json_creds(obuf.data, obuf.len, "credential_process", JSON_REQUIRE_VERSION,
			      out, err, errlen);
	if (!rc)
		cw_strlcpy(out->source, "credential-process", sizeof(out->source));
out:
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	if (obuf.data)
		cw_wipe(obuf.data, obuf.len);
	cw_buf_release(&obuf);
	cw_buf_release(&ebuf);
	return rc;
}

/* ---- 2. profiles ---------------------------------------------------------- */

struct prof_files {
	struct cw_ini *cred, *conf;    /* NULL when the file is missing */
	char cred_path[1024], conf_path[1024];
	char cred_disp[1024], conf_disp[1024];
	bool cred_open;                /* group/other may read the credentials file */
	int cred_mode;
};

static void prof_files_release(struct prof_files *pf)
{
	cw_ini_free(pf->cred);
	cw_ini_free(pf->conf);
	pf->cred = pf->conf = NULL;
}

/* Load one file: 0 (ini set), CW_ENOTFOUND (missing), or an error. */
static int prof_load(const char *path, const char *disp, enum cw_ini_kind kind,
		     struct cw_ini **ini, struct stat *st, char *err, size_t errlen)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	*ini = NULL;
	if (stat(path, st) != 0)
		return cw_fail(err, errlen, CW_ENOTFOUND, "%s: no such file", disp);
	/* AWS_CONFIG_FILE=/dev/null is the usual way to say "no file": empty */
	if (S_ISCHR(st->st_mode))
		return cw_ini_parse(ini, "", 0, kind, disp, err, errlen);
	rc = cw_read_file(path, CREDS_FILE_MAX, &data, &len, err, errlen);
	if (rc)
		return rc;
	rc = cw_ini_parse(ini, data, len, kind, disp, err, errlen);
	wipe_free(data, len);
	return rc;
}

static int prof_files_load(struct prof_files *pf, char *err, size_t errlen)
{
	const char *home = env_get("HOME");
	const char *p;
	struct stat st;
	int rc;

	memset(pf, 0, sizeof(*pf));
	p = env_get("AWS_SHARED_CREDENTIALS_FILE");
	if (p)
		cw_strlcpy(pf->cred_path, p, sizeof(pf->cred_path));
	else
		snprintf(pf->cred_path, sizeof(pf->cred_path), "%s/.aws/credentials",
			 home ? home : "");
	p = env_get("AWS_CONFIG_FILE");
	if (p)
		cw_strlcpy(pf->conf_path, p, sizeof(pf->conf_path));
	else
		snprintf(pf->conf_path, sizeof(pf->conf_path), "%s/.aws/config", home ? home : "");
	display_path(pf->cred_path, pf->cred_disp, sizeof(pf->cred_disp));
	display_path(pf->conf_path, pf->conf_disp, sizeof(pf->conf_disp));

	rc = prof_load(pf->cred_path, pf->cred_disp, CW_INI_CREDENTIALS, &pf->cred, &st,
		       err, errlen);
	if (rc && rc != CW_ENOTFOUND)
		goto fail;
	if (!rc) {
		pf->cred_mode = (int)(st.st_mode & 0777);
		pf->cred_open = (st.st_mode & 0077) != 0;
	}
	rc = prof_load(pf->conf_path, pf->conf_disp, CW_INI_CONFIG, &pf->conf, &st, err, errlen);
	if (rc && rc != CW_ENOTFOUND)
		goto fail;
	return 0;
fail:
	prof_files_release(pf);
	return rc;
}

/* A key of the profile: the credentials file first, then the config file. */
static const char *prof_get(const struct prof_files *pf, const char *profile, const char *key)
{
	const char *v = pf->cred ? cw_ini_profile_get(pf->cred, profile, key) : NULL;

	if (v && *v)
		return v;
	v = pf->conf ? cw_ini_profile_get(pf->conf, profile, key) : NULL;
	return v && *v ? v : NULL;
}

static bool prof_exists(const struct prof_files *pf, const char *profile)
{
	return (pf->cred && cw_ini_has_profile(pf->cred, profile)) ||
	       (pf->conf && cw_ini_has_profile(pf->conf, profile));
}

static int prof_resolve(const struct cw_creds_opts *o, const struct prof_files *pf,
			const char *profile, int depth, struct cw_creds *out,
			char *err, size_t errlen);

static int prof_static(const struct prof_files *pf, const char *profile,
		       struct cw_creds *out, char *err, size_t errlen)
{
	const char *akid = prof_get(pf, profile, "aws_access_key_id");
	const char *secret = prof_get(pf, profile, "aws_secret_access_key");
	char what[300];

	snprintf(what, sizeof(what), "profile \"%s\"", profile);
	if (!akid || !secret)
		return cw_fail(err, errlen, CW_EAUTH, "%s: %s without %s", what,
			       akid ? "aws_access_key_id" : "aws_secret_access_key",
			       akid ? "aws_secret_access_key" : "aws_access_key_id");
	/* Like ssh with its keys: a secret in a file others can read is refused. */
	if (pf->cred_open && pf->cred &&
	    cw_ini_profile_get(pf->cred, profile, "aws_secret_access_key"))
		return cw_fail(err, errlen, CW_EAUTH,
			       "%s: readable by group or others (mode %03o); run chmod 600 on it",
			       pf->cred_disp, pf->cred_mode);
	return set_keys(out, akid, secret, prof_get(pf, profile, "aws_session_token"), what,
			err, errlen);
}

static int prof_assume(const struct cw_creds_opts *o, const struct prof_files *pf,
		       const char *profile, const char *role_arn, int depth,
		       struct cw_creds *out, char *err, size_t errlen)
{
	const char *src = prof_get(pf, profile, "source_profile");
	const char *csrc = prof_get(pf, profile, "credential_source");
	const char *token_file = prof_get(pf, profile, "web_identity_token_file");
	const char *sess = prof_get(pf, profile, "role_session_name");
	const char *dur = prof_get(pf, profile, "duration_seconds");
	const char *region = sts_region(o, prof_get(pf, profile, "region"));
	struct cw_creds base;
	struct cw_sts_request req;
	char session[80], what[300];
	long long d = 0;
	int rc;

	snprintf(what, sizeof(what), "profile \"%s\"", profile);
	if (sess)
		cw_strlcpy(session, sess, sizeof(session));
	else
		default_session_name(o, session, sizeof(session));
	if (token_file)
		return web_identity(o, token_file, role_arn, session, region, what, out, err,
				    errlen);
	if (dur && cw_parse_i64(dur, 900, 43200, &d))
		return cw_fail(err, errlen, CW_EINVAL,
			       "%s: duration_seconds: must be a whole number from 900 to 43200",
			       what);

	memset(&base, 0, sizeof(base));
	if (src) {
		if (!prof_exists(pf, src))
			return cw_fail(err, errlen, CW_EAUTH,
				       "%s: source_profile \"%s\" does not exist", what, src);
		if (strcmp(src, profile) == 0) /* a role whose keys sit beside it */
			rc = prof_static(pf, profile, &base, err, errlen);
		else
			rc = prof_resolve(o, pf, src, depth + 1, &base, err, errlen);
	} else if (csrc) {
		enum cw_creds_source s = CW_CREDS_SRC_NONE;

		if (strcmp(csrc, "Environment") == 0)
			s = CW_CREDS_SRC_ENV;
		else if (strcmp(csrc, "EcsContainer") == 0)
			s = CW_CREDS_SRC_CONTAINER;
		else if (strcmp(csrc, "Ec2InstanceMetadata") == 0)
			s = CW_CREDS_SRC_IMDS;
		else
			return cw_fail(err, errlen, CW_EINVAL,
				       "%s: credential_source: \"%s\" is not Environment, "
				       "EcsContainer or Ec2InstanceMetadata", what, csrc);
		rc = cw_creds_resolve(o, s, &base, NULL, err, errlen);
	} else {
		return cw_fail(err, errlen, CW_EINVAL,
			       "%s: role_arn needs source_profile, credential_source or "
			       "web_identity_token_file", what);
	}
	if (rc)
		return rc;
	memset(&req, 0, sizeof(req));
	req.region = region;
	req.endpoint_url = o->endpoint_url;
	req.role_arn = role_arn;
	req.session_name = session;
	req.external_id = prof_get(pf, profile, "external_id");
	req.duration_seconds = (int)d;
	rc = sts_call(o, &req, cw_creds_static_fn, &base, out, err, errlen);
	cw_creds_release(&base);
	return rc;
}

/* IAM Identity Center: sso_session (its [sso-session NAME] section) or the
 * legacy sso_start_url form; see creds_sso.h. */
static int prof_sso(const struct cw_creds_opts *o, const struct prof_files *pf,
		    const char *profile, struct cw_creds *out, char *err, size_t errlen)
{
	struct cw_sso_config c;
	char sect[300];

	memset(&c, 0, sizeof(c));
	c.profile = profile;
	c.session = prof_get(pf, profile, "sso_session");
	c.account_id = prof_get(pf, profile, "sso_account_id");
	c.role_name = prof_get(pf, profile, "sso_role_name");
	if (c.session) {
		snprintf(sect, sizeof(sect), "sso-session %s", c.session);
		if (!pf->conf || !cw_ini_get(pf->conf, sect, "sso_start_url"))
			return cw_fail(err, errlen, CW_EINVAL, "profile \"%s\": sso_session "
				       "\"%s\" has no [sso-session %s] section with sso_start_url "
				       "in %s", profile, c.session, c.session, pf->conf_disp);
		c.start_url = cw_ini_get(pf->conf, sect, "sso_start_url");
		c.region = cw_ini_get(pf->conf, sect, "sso_region");
	} else {
		c.start_url = prof_get(pf, profile, "sso_start_url");
		c.region = prof_get(pf, profile, "sso_region");
	}
	return cw_creds_from_sso(o, &c, out, err, errlen);
}

static int prof_resolve(const struct cw_creds_opts *o, const struct prof_files *pf,
			const char *profile, int depth, struct cw_creds *out,
			char *err, size_t errlen)
{
	const char *role_arn = prof_get(pf, profile, "role_arn");
	const char *proc;

	memset(out, 0, sizeof(*out));
	if (depth > PROFILE_HOPS_MAX)
		return cw_fail(err, errlen, CW_EINVAL,
			       "profile \"%s\": source_profile chain longer than %d (a loop?)",
			       profile, PROFILE_HOPS_MAX);
	if (role_arn)
		return prof_assume(o, pf, profile, role_arn, depth, out, err, errlen);
	if (prof_get(pf, profile, "sso_session") || prof_get(pf, profile, "sso_start_url"))
		return prof_sso(o, pf, profile, out, err, errlen);
	if (prof_get(pf, profile, "aws_access_key_id") ||
	    prof_get(pf, profile, "aws_secret_access_key"))
		return prof_static(pf, profile, out, err, errlen);
	proc = prof_get(pf, profile, "credential_process");
	if (proc) {
		int rc = cw_creds_from_process(proc, o->process_timeout_ms, out, err, errlen);

		if (rc && err && errlen) { /* name the profile in front */
			char tmp[CW_ERRBUF];

			cw_strlcpy(tmp, err, sizeof(tmp));
			snprintf(err, errlen, "profile \"%s\": %s", profile, tmp);
		}
		return rc;
	}
	return cw_fail(err, errlen, CW_ENOTFOUND, "profile \"%s\" has no credentials", profile);
}

/* The profile to use and whether the user named it. */
static const char *profile_name(const struct cw_creds_opts *o, bool *explicit_)
{
	*explicit_ = true;
	if (o->profile && *o->profile)
		return o->profile;
	if (env_get("AWS_PROFILE"))
		return env_get("AWS_PROFILE");
	if (env_get("AWS_DEFAULT_PROFILE"))
		return env_get("AWS_DEFAULT_PROFILE");
	*explicit_ = false;
	return "default";
}

int cw_creds_from_profile(const struct cw_creds_opts *o, struct cw_creds *out,
			  char *err, size_t errlen)
{
	struct prof_files pf;
	bool named;
	const char *profile = profile_name(o, &named);
	int rc;

	memset(out, 0, sizeof(*out));
	rc = prof_files_load(&pf, err, errlen);
	if (rc)
		return rc;
	if (!prof_exists(&pf, profile)) {
		if (!pf.cred && !pf.conf)
			rc = cw_fail(err, errlen, CW_ENOTFOUND, "%s: no such file", pf.cred_disp);
		else
			rc = cw_fail(err, errlen, CW_ENOTFOUND, "not in %s or %s", pf.cred_disp,
				     pf.conf_disp);
		if (named) /* the user asked for it: not finding it is an error */
			rc = cw_fail(err, errlen, CW_EAUTH,
				     "profile \"%s\" not found in %s or %s", profile,
				     pf.cred_disp, pf.conf_disp);
		goto out;
	}
	rc = prof_resolve(o, &pf, profile, 0, out, err, errlen);
	if (rc == CW_ENOTFOUND && named)
		rc = CW_EAUTH;
	if (!rc)
		snprintf(out->source, sizeof(out->source), "profile:%s", profile);
out:
	prof_files_release(&pf);
	return rc;
}

/* ---- 4. container and 5. IMDS: plain HTTP to a metadata service ------------ */

static long md_timeout(const struct cw_creds_opts *o)
{
	return o->metadata_timeout_ms > 0 ? o->metadata_timeout_ms : 1000;
}

static int md_http_new(const struct cw_creds_opts *o, struct cw_http **h,
		       char *err, size_t errlen)
{
	struct cw_http_opts ho;

	memset(&ho, 0, sizeof(ho));
	ho.connect_timeout_ms = md_timeout(o);
	ho.total_timeout_ms = 2 * md_timeout(o);
	ho.low_speed_secs = 2;
	ho.max_response = CREDS_JSON_MAX;
	return cw_http_new(h, &ho, err, errlen);
}

/* One request, tried once more after a transport failure or a 5xx. */
static int md_do(struct cw_http *h, const struct cw_http_request *req,
		 struct cw_http_response *resp, char *err, size_t errlen)
{
	int rc = 0;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (resp->body.data)
			cw_wipe(resp->body.data, resp->body.len);
		rc = cw_http_do(h, req, resp, err, errlen);
		if (rc == CW_EINVAL || rc == CW_EINTR)
			break;
		if (!rc && resp->status < 500)
			break;
	}
	return rc;
}

static void md_response_release(struct cw_http_response *r)
{
	if (r->body.data)
		cw_wipe(r->body.data, r->body.len);
	cw_http_response_release(r);
}

int cw_creds_from_container(const struct cw_creds_opts *o, struct cw_creds *out,
			    char *err, size_t errlen)
{
	const char *rel = env_get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env_get("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *tok_env = env_get("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	const char *tok_file = env_get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	struct cw_http_response resp;
	struct cw_http_header hdr[1];
	struct cw_http_request req;
	struct cw_http *h = NULL;
	char url[2048], host[256], *tokdata = NULL, *tok = NULL;
	size_t toklen = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	cw_http_response_init(&resp);
	if (!rel && !full)
		return cw_fail(err, errlen, CW_ENOTFOUND, "unset");
	if (rel) {
		if (rel[0] != '/')
			return cw_fail(err, errlen, CW_EINVAL,
				       "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must "
				       "start with /");
		snprintf(url, sizeof(url), "http://169.254.170.2%s", rel);
	} else {
		cw_strlcpy(url, full, sizeof(url));
		rc = cw_http_url_check(url, true, host, sizeof(host), NULL, NULL, 0, err, errlen);
		if (rc)
			return cw_fail(err, errlen, CW_EINVAL,
				       "container: AWS_CONTAINER_CREDENTIALS_FULL_URI must be "
				       "https, "
				       "or http to a loopback or container-metadata host");
	}
	if (tok_file) {
		rc = cw_read_file(tok_file, CREDS_FILE_MAX, &tokdata, &toklen, err, errlen);
		if (rc) {
			rc = rc == CW_ENOTFOUND ? CW_EAUTH : rc;
			goto out;
		}
		tok = trim(tokdata);
	} else if (tok_env) {
		tok = (char *)tok_env;
	}
	if (tok && (strchr(tok, '\n') || strchr(tok, '\r'))) {
		rc = cw_fail(err, errlen, CW_EINVAL,
			     "container: the authorization token holds a line break");
		goto out;
	}
	rc = md_http_new(o, &h, err, errlen);
	if (rc)
		goto out;
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	if (tok && *tok) {
		hdr[0] = (struct cw_http_header){ "Authorization", tok };
		req.headers = hdr;
		req.nheaders = 1;
	}
	req.metadata_http = true;
	req.secret_bodies = true;
	rc = md_do(h, &req, &resp, err, errlen);
	if (rc) {
		char tmp[CW_ERRBUF];

		cw_strlcpy(tmp, err ? err : "", sizeof(tmp));
		rc = cw_fail(err, errlen, CW_EAUTH, "container: %s", tmp);
		goto out;
	}
	if (resp.status != 200) {
		rc = cw_fail(err, errlen, CW_EAUTH,
			     "container: credentials endpoint answered HTTP %ld",
			     resp.status);
		goto out;
	}
	rc = parse_json_creds(resp.body.data, resp.body.len, "container", 0, out, err, errlen);
	if (!rc)
		cw_strlcpy(out->source, "container", sizeof(out->source));
out:
	md_response_release(&resp);
	cw_http_free(h);
	wipe_free(tokdata, toklen);
	return rc;
}

int cw_creds_from_imds(const struct cw_creds_opts *o, struct cw_creds *out,
		       char *err, size_t errlen)
{
	const char *base_env = env_get("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	struct cw_http_response resp;
	struct cw_http_header hdr[1];
	struct cw_http_request req;
	struct cw_http *h = NULL;
	char base[512], url[1024], token[256], role[128], why[CW_ERRBUF];
	size_t n;
	int rc;

	memset(out, 0, sizeof(*out));
	cw_http_response_init(&resp);
	token[0] = '\0';
	if (env_true("AWS_EC2_METADATA_DISABLED"))
		return cw_fail(err, errlen, CW_ENOTFOUND, "disabled");
	cw_strlcpy(base, base_env ? base_env : "http://169.254.169.254", sizeof(base));
	n = strlen(base);
	while (n && base[n - 1] == '/')
		base[--n] = '\0';
	rc = md_http_new(o, &h, err, errlen);
	if (rc)
		goto out;

	/* The session token (IMDSv2). */
	memset(&req, 0, sizeof(req));
	snprintf(url, sizeof(url), "%s/latest/api/token", base);
	hdr[0] = (struct cw_http_header){ "X-aws-ec2-metadata-token-ttl-seconds", "21600" };
	req.method = "PUT";
	req.url = url;
	req.headers = hdr;
	req.nheaders = 1;
	req.metadata_http = true;
	req.secret_bodies = true;
	rc = md_do(h, &req, &resp, why, sizeof(why));
	if (rc == CW_EINVAL) {
		rc = cw_fail(err, errlen, CW_EINVAL, "EC2 instance metadata: %s", why);
		goto out;
	}
	if (rc) { /* nothing listens: not on EC2 */
		rc = cw_fail(err, errlen, CW_ENOTFOUND, "not reachable: %s", why);
		goto out;
	}
	if (resp.status != 200 || resp.body.len == 0 || resp.body.len >= sizeof(token)) {
		rc = cw_fail(err, errlen, CW_ENOTFOUND, "no IMDSv2 token (HTTP %ld)", resp.status);
		goto out;
	}
	cw_strlcpy(token, resp.body.data, sizeof(token));
	if (!header_safe(trim(token))) {
		rc = cw_fail(err, errlen, CW_EAUTH, "EC2 instance metadata: malformed token");
		goto out;
	}

	/* The instance's role. */
	hdr[0] = (struct cw_http_header){ "X-aws-ec2-metadata-token", trim(token) };
	snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/", base);
	req.method = "GET";
	rc = md_do(h, &req, &resp, why, sizeof(why));
	if (rc) {
		rc = cw_fail(err, errlen, CW_EAUTH, "EC2 instance metadata: %s", why);
		goto out;
	}
	if (resp.status == 404) {
		rc = cw_fail(err, errlen, CW_ENOTFOUND, "no IAM role attached to the instance");
		goto out;
	}
	if (resp.status != 200) {
		rc = cw_fail(err, errlen, CW_EAUTH, "EC2 instance metadata: role list: HTTP %ld",
			     resp.status);
		goto out;
	}
	n = strcspn(cw_buf_str(&resp.body), "\r\n");
	if (n == 0 || n >= sizeof(role)) {
		rc = cw_fail(err, errlen, CW_ENOTFOUND, "no IAM role attached to the instance");
		goto out;
	}
	memcpy(role, resp.body.data, n);
	role[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)role[i]) && !strchr("+=,.@_-", role[i])) {
			rc = cw_fail(err, errlen, CW_EAUTH,
				     "EC2 instance metadata: malformed role name");
			goto out;
		}

	/* The role's credentials. */
	snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/%s", base, role);
	rc = md_do(h, &req, &resp, why, sizeof(why));
	if (rc) {
		rc = cw_fail(err, errlen, CW_EAUTH, "EC2 instance metadata: %s", why);
		goto out;
	}
	if (resp.status != 200) {
		rc = cw_fail(err, errlen, CW_EAUTH, "EC2 instance metadata: role %s: HTTP %ld",
			     role, resp.status);
		goto out;
	}
	rc = parse_json_creds(resp.body.data, resp.body.len, "EC2 instance metadata",
			      JSON_REQUIRE_EXP | JSON_CHECK_CODE, out, err, errlen);
	if (!rc) {
		char src[sizeof(role) + 8];

		snprintf(src, sizeof(src), "imds:%s", role);
		cw_strlcpy(out->source, src, sizeof(out->source));
	}
out:
	cw_wipe(token, sizeof(token));
	md_response_release(&resp);
	cw_http_free(h);
	return rc;
}

/* ---- the chain ------------------------------------------------------------ */

const char *cw_creds_source_name(enum cw_creds_source s)
{
	switch (s) {
	case CW_CREDS_SRC_ENV: return "environment";
	case CW_CREDS_SRC_PROFILE: return "profile";
	case CW_CREDS_SRC_WEB_IDENTITY: return "web identity";
	case CW_CREDS_SRC_CONTAINER: return "container";
	case CW_CREDS_SRC_IMDS: return "EC2 instance metadata";
	case CW_CREDS_SRC_CUSTOM: return "custom";
	case CW_CREDS_SRC_NONE: break;
	}
	return "none";
}

static int run_source(const struct cw_creds_opts *o, enum cw_creds_source s,
		      struct cw_creds *out, char *err, size_t errlen)
{
	switch (s) {
	case CW_CREDS_SRC_ENV: return cw_creds_from_env(out, err, errlen);
	case CW_CREDS_SRC_PROFILE: return cw_creds_from_profile(o, out, err, errlen);
	case CW_CREDS_SRC_WEB_IDENTITY: return cw_creds_from_web_identity_env(o, out, err, errlen);
	case CW_CREDS_SRC_CONTAINER: return cw_creds_from_container(o, out, err, errlen);
	case CW_CREDS_SRC_IMDS: return cw_creds_from_imds(o, out, err, errlen);
	case CW_CREDS_SRC_CUSTOM:
		if (o->fetch)
			return o->fetch(o->env, out, err, errlen);
		break;
	case CW_CREDS_SRC_NONE:
		break;
	}
	return cw_fail(err, errlen, CW_ESTATE, "no such credentials source");
}

int cw_creds_resolve(const struct cw_creds_opts *o, enum cw_creds_source only,
		     struct cw_creds *out, enum cw_creds_source *src, char *err, size_t errlen)
{
	static const enum cw_creds_source chain[] = {
		CW_CREDS_SRC_ENV, CW_CREDS_SRC_PROFILE, CW_CREDS_SRC_WEB_IDENTITY,
		CW_CREDS_SRC_CONTAINER, CW_CREDS_SRC_IMDS,
	};
	struct cw_buf tried = CW_BUF_INIT;
	char why[CW_ERRBUF];
	int rc = CW_ENOTFOUND;

	memset(out, 0, sizeof(*out));
	if (src)
		*src = CW_CREDS_SRC_NONE;
	if (only == CW_CREDS_SRC_NONE && o->fetch)
		only = CW_CREDS_SRC_CUSTOM;
	for (size_t i = 0; i < sizeof(chain) / sizeof(chain[0]) || only; i++) {
		enum cw_creds_source s = only ? only : chain[i];

		why[0] = '\0';
		rc = run_source(o, s, out, why, sizeof(why));
		if (rc == 0) {
			if (src)
				*src = s;
			break;
		}
		if (rc != CW_ENOTFOUND) { /* configured but broken: stop here */
			cw_fail(err, errlen, rc, "%s", why);
			break;
		}
		if (s == CW_CREDS_SRC_PROFILE) {
			bool named;

			cw_buf_printf(&tried, "%sprofile \"%s\" (%s)", tried.len ? ", " : "",
				      profile_name(o, &named), why);
		} else {
			cw_buf_printf(&tried, "%s%s (%s)", tried.len ? ", " : "",
				      cw_creds_source_name(s), why);
		}
		if (only)
			break;
	}
	if (rc == CW_ENOTFOUND)
		rc = cw_fail(err, errlen, CW_EAUTH, "no AWS credentials found: tried %s",
			     cw_buf_str(&tried));
	cw_buf_release(&tried);
	return rc;
}

/* ---- the provider --------------------------------------------------------- */

struct cw_creds_provider {
	pthread_mutex_t lock;        /* guards everything below; held during a fetch */
	struct cw_creds_opts o;      /* strings point at the copies below */
	char *profile, *sts_region, *endpoint_url, *session_name;
	enum cw_creds_source source; /* NONE until the chain answered once */
	bool have;
	struct cw_creds cur;
	int64_t fetched_at;          /* when cur was fetched (opts clock) */
	int64_t retry_at;            /* after a failed refresh: no new try before this */
	int fail_rc;                 /* the last failure while nothing was held ... */
	char fail_msg[CW_ERRBUF];    /* ... repeated to callers until retry_at */
	uint64_t fetches;
};

int cw_creds_provider_new(struct cw_creds_provider **out, const struct cw_creds_opts *o,
			  char *err, size_t errlen)
{
	struct cw_creds_provider *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!p)
		return cw_fail(err, errlen, CW_ENOMEM, "credentials provider: out of memory");
	if (o)
		p->o = *o;
	p->profile = cw_strdup(p->o.profile);
	p->sts_region = cw_strdup(p->o.sts_region);
	p->endpoint_url = cw_strdup(p->o.endpoint_url);
	p->session_name = cw_strdup(p->o.session_name);
	if ((p->o.profile && !p->profile) || (p->o.sts_region && !p->sts_region) ||
	    (p->o.endpoint_url && !p->endpoint_url) || (p->o.session_name && !p->session_name)) {
		cw_creds_provider_free(p);
		return cw_fail(err, errlen, CW_ENOMEM, "credentials provider: out of memory");
	}
	p->o.profile = p->profile;
	p->o.sts_region = p->sts_region;
	p->o.endpoint_url = p->endpoint_url;
	p->o.session_name = p->session_name;
	pthread_mutex_init(&p->lock, NULL);
	*out = p;
	return 0;
}

void cw_creds_provider_free(struct cw_creds_provider *p)
{
	if (!p)
		return;
	cw_creds_release(&p->cur);
	free(p->profile);
	free(p->sts_region);
	free(p->endpoint_url);
	free(p->session_name);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/*
 * Called with p->lock held.  A forced refresh (after ExpiredToken) reuses
 * the current credentials only when they are not the refused ones: another
 * worker refreshed them already.  Without the refused key, only a fetch
 * that is a few seconds old counts as that.
 */
static bool provider_fresh(const struct cw_creds_provider *p, int64_t now, bool force,
			   const char *refused)
{
	if (!p->have)
		return false;
	if (force && refused[0])
		return strcmp(p->cur.access_key, refused) != 0;
	if (force)
		return now - p->fetched_at < CW_CREDS_FORCE_INTERVAL;
	return p->cur.expiration == 0 || p->cur.expiration - now > CW_CREDS_REFRESH_MARGIN;
}

int cw_creds_provider_get(struct cw_creds_provider *p, bool force_refresh,
			  struct cw_creds *out, char *err, size_t errlen)
{
	struct cw_creds fresh;
	enum cw_creds_source src = CW_CREDS_SRC_NONE;
	char refused[sizeof(out->access_key)] = "";
	int64_t now;
	int rc;

	if (force_refresh)
		memcpy(refused, out->access_key, sizeof(refused) - 1); /* bounded: may be unset */
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&p->lock);
	now = opts_now(&p->o);
	if (provider_fresh(p, now, force_refresh, refused) ||
	    (!force_refresh && p->have && now < p->retry_at && now < p->cur.expiration)) {
		rc = cw_creds_copy(out, &p->cur);
		goto out;
	}
	if (!force_refresh && !p->have && p->fail_rc && now < p->retry_at) {
		/* Nothing found a moment ago: do not walk the chain (and wait for
		 * metadata timeouts) again for every worker. */
		rc = cw_fail(err, errlen, p->fail_rc, "%s", p->fail_msg);
		goto out;
	}
	p->fetches++;
	rc = cw_creds_resolve(&p->o, p->source, &fresh, &src, p->fail_msg,
			      sizeof(p->fail_msg));
	if (rc) {
		cw_fail(err, errlen, rc, "%s", p->fail_msg);
		if (!p->have) {
			p->fail_rc = rc;
			p->retry_at = now + CW_CREDS_RETRY_INTERVAL;
		}
		/* Still valid for a while: keep going on what we have. */
		if (p->have && !force_refresh && p->cur.expiration > now) {
			p->retry_at = now + CW_CREDS_RETRY_INTERVAL;
			cw_log_warn("credentials from %s: refresh failed, using the current ones "
				    "until they expire: %s", p->cur.source, err ? err : "");
			rc = cw_creds_copy(out, &p->cur);
		}
		goto out;
	}
	cw_creds_release(&p->cur);
	p->cur = fresh;
	p->have = true;
	p->fetched_at = now;
	p->fail_rc = 0;
	p->retry_at = 0;
	if (p->source == CW_CREDS_SRC_NONE) {
		p->source = src;
		cw_log_verbose("credentials: using %s", p->cur.source);
	}
	rc = cw_creds_copy(out, &p->cur);
out:
	if (rc)
		memset(out, 0, sizeof(*out));
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void cw_creds_provider_source(struct cw_creds_provider *p, char *buf, size_t len)
{
	pthread_mutex_lock(&p->lock);
	cw_strlcpy(buf, p->have ? p->cur.source : "", len);
	pthread_mutex_unlock(&p->lock);
}

uint64_t cw_creds_provider_fetches(struct cw_creds_provider *p)
{
	uint64_t n;

	pthread_mutex_lock(&p->lock);
	n = p->fetches;
	pthread_mutex_unlock(&p->lock);
	return n;
}

int cw_creds_provider_fn(void *ctx, bool force_refresh, struct cw_creds *out,
			 char *err, size_t errlen)
{
	return cw_creds_provider_get(ctx, force_refresh, out, err, errlen);
}

int cw_creds_static_fn(void *ctx, bool force_refresh, struct cw_creds *out,
		       char *err, size_t errlen)
{
	int rc = cw_creds_copy(out, ctx);

	(void)force_refresh;
	if (rc)
		return cw_fail(err, errlen, rc, "credentials: out of memory");
	return 0;
}
