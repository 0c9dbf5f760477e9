/*
 * sigv4.c - AWS Signature Version 4 header signing (see sigv4.h).
 *
 * Canonical request, string to sign, signing key and Authorization value,
 * built with OpenSSL's one-shot SHA-256 and HMAC-SHA256.  No global state:
 * safe to call from any number of threads at once.  A caller's key cache
 * (struct cw_sigv4_keys) has its own mutex.
 *
 * The path is URI-encoded once more as it is given.  A caller passes the
 * path as sent on the wire (already percent-encoded), so "/a%20b" signs as
 * "/a%2520b": the double encoding that every service except S3 expects (and
 * that botocore does).  cwsweep signs no S3 request.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "err.h"
#include "sigv4.h"
#include "strutil.h"

/* Canonical request and string to sign: the headers (session token
 * included) are the only part that can grow. */
#define SIG_BUF_MAX ((size_t)4 * 1024 * 1024)

struct sig_hdr {
	char *name;    /* owned, lowercase */
	char *value;   /* owned, trimmed, whitespace folded */
	size_t order;  /* position in the input: same-name values keep it */
};

static const char hexdig[] = "0123456789abcdef";

static void to_hex(const unsigned char *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexdig[p[i] >> 4];
		out[2 * i + 1] = hexdig[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void cw_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	static const char empty[1] = "";

	if (!data)
		data = empty;
	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) {
		/* Only on a broken OpenSSL; a hash nobody can match. */
		memset(out, '0', 64);
		out[64] = '\0';
		return;
	}
	to_hex(md, 32, out);
}

static int hmac256(const void *key, size_t keylen, const void *data, size_t len,
		   unsigned char out[32])
{
	unsigned int outlen = 0;

	if (!HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen) || outlen != 32)
		return CW_EINVAL;
	return 0;
}

static int is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

int cw_uri_encode(struct cw_buf *b, const char *s, size_t n, bool keep_slash)
{
	static const char HEX[] = "0123456789ABCDEF";
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_unreserved(c) || (keep_slash && c == '/')) {
			rc = cw_buf_addch(b, (char)c);
		} else {
			char enc[3] = { '%', HEX[c >> 4], HEX[c & 15] };

			rc = cw_buf_add(b, enc, 3);
		}
		if (rc)
			return rc;
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode s[0..n) into a new string (caller frees).  A '%' not
 * followed by two hex digits stays a literal '%'; '+' stays '+' (SigV4
 * knows no form encoding in the query).
 */
static char *pct_decode(const char *s, size_t n, size_t *outlen)
{
	char *d = malloc(n + 1);
	size_t i, j = 0;

	if (!d)
		return NULL;
	for (i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			d[j++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			d[j++] = s[i];
		}
	}
	d[j] = '\0';
	*outlen = j;
	return d;
}

/* ---- canonical URI ------------------------------------------------------ */

/*
 * Remove "." and ".." segments and empty segments (duplicate slashes); keep
 * a trailing slash when the path had one.  "" and every path that
 * normalises to nothing become "/".
 */
static int normalize_path(struct cw_buf *out, const char *path)
{
	size_t n = strlen(path), nseg = 0, i, *starts = NULL, *lens = NULL;
	size_t p = 0;
	int rc = 0;

	starts = calloc(n / 2 + 2, sizeof(*starts));
	lens = calloc(n / 2 + 2, sizeof(*lens));
	if (!starts || !lens) {
		rc = CW_ENOMEM;
		goto out;
	}
	while (p < n) {
		size_t q = p, len;

		while (q < n && path[q] != '/')
			q++;
		len = q - p;
		if (len == 0 || (len == 1 && path[p] == '.')) {
			/* skip */
		} else if (len == 2 && path[p] == '.' && path[p + 1] == '.') {
			if (nseg)
				nseg--;
		} else {
			starts[nseg] = p;
			lens[nseg] = len;
			nseg++;
		}
		p = q + 1;
	}
	rc = cw_buf_addch(out, '/');
	for (i = 0; !rc && i < nseg; i++) {
		rc = cw_buf_add(out, path + starts[i], lens[i]);
		if (!rc && (i + 1 < nseg || (n && path[n - 1] == '/')))
			rc = cw_buf_addch(out, '/');
	}
out:
	free(starts);
	free(lens);
	return rc;
}

static int canonical_uri(struct cw_buf *cr, const char *path, bool normalize)
{
	struct cw_buf tmp = CW_BUF_INIT;
	int rc;

	if (!path || !*path)
		path = "/";
	if (!normalize)
		return cw_uri_encode(cr, path, strlen(path), true);
	cw_buf_init(&tmp, SIG_BUF_MAX);
	rc = normalize_path(&tmp, path);
	if (!rc)
		rc = cw_uri_encode(cr, tmp.data, tmp.len, true);
	cw_buf_release(&tmp);
	return rc;
}

/* ---- canonical query ---------------------------------------------------- */

struct qparam {
	char *key;   /* owned, encoded */
	char *value; /* owned, encoded */
};

static int qparam_cmp(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : strcmp(x->value, y->value);
}

/* Decode s[0..n) and encode it again, as SigV4 wants (new string). */
static char *reencode(const char *s, size_t n)
{
	struct cw_buf b = CW_BUF_INIT;
	size_t dlen;
	char *d = pct_decode(s, n, &dlen), *r;

	if (!d)
		return NULL;
	cw_buf_init(&b, SIG_BUF_MAX);
	if (cw_uri_encode(&b, d, dlen, false)) {
		free(d);
		return NULL;
	}
	free(d);
	r = cw_buf_detach(&b, NULL);
	return r;
}

static int canonical_query(struct cw_buf *cr, const char *query)
{
	struct qparam *ps = NULL;
	size_t np = 0, cap = 0, i;
	const char *p = query;
	int rc = 0;

	if (!query || !*query)
		return 0;
	while (*p) {
		const char *amp = strchr(p, '&'), *eq;
		size_t len = amp ? (size_t)(amp - p) : strlen(p);

		if (len) {
			if (np == cap) {
				size_t ncap = cap ? cap * 2 : 8;
				struct qparam *nps = realloc(ps, ncap * sizeof(*ps));

				if (!nps) {
					rc = CW_ENOMEM;
					goto out;
				}
				ps = nps;
				cap = ncap;
			}
			eq = memchr(p, '=', len);
			ps[np].key = reencode(p, eq ? (size_t)(eq - p) : len);
			ps[np].value = eq ? reencode(eq + 1, len - (size_t)(eq - p) - 1)
					  : cw_strdup("");
			np++;
			if (!ps[np - 1].key || !ps[np - 1].value) {
				rc = CW_ENOMEM;
				goto out;
			}
		}
		p += len;
		if (*p == '&')
			p++;
	}
	if (np)
		qsort(ps, np, sizeof(*ps), qparam_cmp);
	for (i = 0; !rc && i < np; i++) {
		if (i)
			rc = cw_buf_addch(cr, '&');
		if (!rc)
			rc = cw_buf_printf(cr, "%s=%s", ps[i].key, ps[i].value);
	}
out:
	for (i = 0; i < np; i++) {
		free(ps[i].key);
		free(ps[i].value);
	}
	free(ps);
	return rc;
}

/* ---- canonical headers -------------------------------------------------- */

static int is_tchar(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Trim the value and fold every run of whitespace into one space.  A line
 * break is accepted only as obsolete line folding (followed by a space or
 * tab): anything else would be a second header in disguise.
 */
static char *fold_value(const char *v, char *err, size_t errlen, const char *name, int *rc)
{
	size_t n = strlen(v), i, j = 0;
	char *d = malloc(n + 1);
	bool pending = false;

	if (!d) {
		*rc = CW_ENOMEM;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		char c = v[i];

		if (c == '\r' || c == '\n') {
			size_t k = i + 1;

			if (c == '\r' && k < n && v[k] == '\n')
				k++;
			if (k >= n || (v[k] != ' ' && v[k] != '\t')) {
				free(d);
				*rc = cw_fail(err, errlen, CW_EINVAL,
					      "header %s: line break in value", name);
				return NULL;
			}
		}
		if (is_ws(c)) {
			pending = j > 0;
			continue;
		}
		if (pending)
			d[j++] = ' ';
		pending = false;
		d[j++] = c;
	}
	d[j] = '\0';
	return d;
}

static int hdr_cmp(const void *a, const void *b)
{
	const struct sig_hdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void hdrs_free(struct sig_hdr *h, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(h[i].name);
		if (h[i].value) {
			cw_wipe(h[i].value, strlen(h[i].value));
			free(h[i].value);
		}
	}
	free(h);
}

/* Append one header (name lowercased, value folded) to h[*n]. */
static int hdr_add(struct sig_hdr *h, size_t *n, const char *name, const char *value,
		   char *err, size_t errlen)
{
	size_t i, len = strlen(name);
	int rc = 0;

	if (!len)
		return cw_fail(err, errlen, CW_EINVAL, "header with an empty name");
	for (i = 0; i < len; i++)
		if (!is_tchar((unsigned char)name[i]))
			return cw_fail(err, errlen, CW_EINVAL, "header name: invalid character");
	h[*n].name = cw_strdup(name);
	if (!h[*n].name)
		return CW_ENOMEM;
	for (i = 0; i < len; i++)
		if (h[*n].name[i] >= 'A' && h[*n].name[i] <= 'Z')
			h[*n].name[i] = (char)(h[*n].name[i] - 'A' + 'a');
	h[*n].value = fold_value(value ? value : "", err, errlen, h[*n].name, &rc);
	if (!h[*n].value) {
		free(h[*n].name);
		h[*n].name = NULL;
		return rc;
	}
	h[*n].order = *n;
	(*n)++;
	return 0;
}

/* Headers that the signer adds itself and a caller must not pass. */
static bool reserved_header(const struct cw_sigv4_input *in, const char *name)
{
	if (cw_str_ieq(name, "x-amz-date") || cw_str_ieq(name, "authorization"))
		return true;
	if (in->session_token && cw_str_ieq(name, "x-amz-security-token"))
		return true;
	return in->sign_content_sha256 && cw_str_ieq(name, "x-amz-content-sha256");
}

/* Canonical headers block (each "name:value\n") into cr, signed list into sh. */
static int canonical_headers(const struct cw_sigv4_input *in, const char *amz_date,
			     const char *payload_hash, struct cw_buf *cr, struct cw_buf *sh,
			     char *err, size_t errlen)
{
	struct sig_hdr *h;
	size_t n = 0, i;
	bool host = false;
	int rc = 0;

	h = calloc(in->nheaders + 3, sizeof(*h));
	if (!h)
		return CW_ENOMEM;
	for (i = 0; i < in->nheaders; i++) {
		const char *name = in->headers[i].name;

		if (!name) {
			rc = cw_fail(err, errlen, CW_EINVAL, "header with no name");
			goto out;
		}
		if (reserved_header(in, name)) {
			rc = cw_fail(err, errlen, CW_EINVAL,
				     "header %s: added by the signer, do not pass it", name);
			goto out;
		}
		if (cw_str_ieq(name, "host"))
			host = true;
		rc = hdr_add(h, &n, name, in->headers[i].value, err, errlen);
		if (rc)
			goto out;
	}
	if (!host) {
		rc = cw_fail(err, errlen, CW_EINVAL, "request has no host header");
		goto out;
	}
	rc = hdr_add(h, &n, "x-amz-date", amz_date, err, errlen);
	if (!rc && in->session_token && in->sign_session_token)
		rc = hdr_add(h, &n, "x-amz-security-token", in->session_token, err, errlen);
	if (!rc && in->sign_content_sha256)
		rc = hdr_add(h, &n, "x-amz-content-sha256", payload_hash, err, errlen);
	if (rc)
		goto out;
	qsort(h, n, sizeof(*h), hdr_cmp);
	for (i = 0; !rc && i < n; i++) {
		bool first = i == 0 || strcmp(h[i].name, h[i - 1].name) != 0;

		if (first) {
			if (i)
				rc = cw_buf_addch(cr, '\n');
			if (!rc && i)
				rc = cw_buf_addch(sh, ';');
			if (!rc)
				rc = cw_buf_printf(cr, "%s:", h[i].name);
			if (!rc)
				rc = cw_buf_addstr(sh, h[i].name);
		} else {
			rc = cw_buf_addch(cr, ',');
		}
		if (!rc)
			rc = cw_buf_addstr(cr, h[i].value);
	}
	if (!rc)
		rc = cw_buf_addch(cr, '\n');
out:
	hdrs_free(h, n);
	return rc;
}

/* ---- signing ------------------------------------------------------------ */

/* Region, service: used in the credential scope, so no '/' or spaces. */
static bool scope_part_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

static int check_input(const struct cw_sigv4_input *in, char *err, size_t errlen)
{
	const char *s;

	if (!in->method || !*in->method)
		return cw_fail(err, errlen, CW_EINVAL, "sigv4: no method");
	for (s = in->method; *s; s++)
		if (!is_tchar((unsigned char)*s))
			return cw_fail(err, errlen, CW_EINVAL, "sigv4: method: invalid character");
	if (!scope_part_ok(in->region))
		return cw_fail(err, errlen, CW_EINVAL, "sigv4: region: missing or invalid");
	if (!scope_part_ok(in->service))
		return cw_fail(err, errlen, CW_EINVAL, "sigv4: service: missing or invalid");
	if (!scope_part_ok(in->access_key))
		return cw_fail(err, errlen, CW_EINVAL, "sigv4: access key id: missing or invalid");
	if (!in->secret_key || !*in->secret_key)
		return cw_fail(err, errlen, CW_EINVAL, "sigv4: no secret access key");
	if (in->nheaders && !in->headers)
		return cw_fail(err, errlen, CW_EINVAL, "sigv4: no headers");
	if (in->payload_len && !in->payload)
		return cw_fail(err, errlen, CW_EINVAL, "sigv4: payload length without payload");
	return 0;
}

/* Signing key: HMAC chain over date, region, service, "aws4_request". */
static int signing_key(const struct cw_sigv4_input *in, const char *date, unsigned char key[32])
{
	size_t slen = strlen(in->secret_key);
	char *k0 = malloc(slen + 5);
	unsigned char k1[32], k2[32];
	int rc;

	if (!k0)
		return CW_ENOMEM;
	memcpy(k0, "AWS4", 4);
	memcpy(k0 + 4, in->secret_key, slen + 1);
	rc = hmac256(k0, slen + 4, date, 8, k1);
	if (!rc)
		rc = hmac256(k1, 32, in->region, strlen(in->region), k2);
	if (!rc)
		rc = hmac256(k2, 32, in->service, strlen(in->service), k1);
	if (!rc)
		rc = hmac256(k1, 32, "aws4_request", 12, key);
	cw_wipe(k0, slen + 4);
	free(k0);
	cw_wipe(k1, sizeof(k1));
	cw_wipe(k2, sizeof(k2));
	return rc;
}

/* ---- signing keys kept across requests ----------------------------------- */

/* Keys kept: a worker pool's credentials and regions of one moment. */
#define KEYS_MAX 64

struct cw_sigv4_keys {
	pthread_mutex_t mu; /* guards everything below */
	struct {
		unsigned char id[32];  /* SHA-256 of secret, date, region, service */
		unsigned char key[32]; /* the derived signing key */
	} e[KEYS_MAX];
	size_t n;    /* entries in use */
	size_t next; /* the one to replace when full */
};

int cw_sigv4_keys_new(struct cw_sigv4_keys **out)
{
	struct cw_sigv4_keys *k = calloc(1, sizeof(*k));

	*out = NULL;
	if (!k)
		return CW_ENOMEM;
	if (pthread_mutex_init(&k->mu, NULL) != 0) {
		free(k);
		return CW_ENOMEM;
	}
	*out = k;
	return 0;
}

void cw_sigv4_keys_free(struct cw_sigv4_keys *k)
{
	if (!k)
		return;
	pthread_mutex_destroy(&k->mu);
	cw_wipe(k, sizeof(*k));
	free(k);
}

/* The cache's name for a key: SHA-256 over the four parts, each with its
 * length first (so no two different sets of parts can run together). */
static int key_id(const struct cw_sigv4_input *in, const char *date, unsigned char id[32])
{
	const char *part[4] = { in->secret_key, date, in->region, in->service };
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int len = 0;
	int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL);

	for (size_t i = 0; ok && i < 4; i++) {
		uint64_t n = strlen(part[i]);

		ok = EVP_DigestUpdate(md, &n, sizeof(n)) && EVP_DigestUpdate(md, part[i], n);
	}
	ok = ok && EVP_DigestFinal_ex(md, id, &len) && len == 32;
	EVP_MD_CTX_free(md);
	return ok ? 0 : CW_EINVAL;
}

/* The signing key from the cache, or derived (and kept). */
static int cached_signing_key(const struct cw_sigv4_input *in, const char *date,
			      unsigned char key[32])
{
	struct cw_sigv4_keys *k = in->keys;
	unsigned char id[32];
	bool found = false;
	int rc;

	if ((rc = key_id(in, date, id)))
		return rc;
	pthread_mutex_lock(&k->mu);
	for (size_t i = 0; i < k->n && !found; i++)
		if (memcmp(k->e[i].id, id, sizeof(id)) == 0) {
			memcpy(key, k->e[i].key, 32);
			found = true;
		}
	pthread_mutex_unlock(&k->mu);
	if (!found && !(rc = signing_key(in, date, key))) {
		pthread_mutex_lock(&k->mu);
		size_t i = k->n < KEYS_MAX ? k->n++ : k->next++ % KEYS_MAX;

		memcpy(k->e[i].id, id, sizeof(id));
		memcpy(k->e[i].key, key, 32);
		pthread_mutex_unlock(&k->mu);
	}
	cw_wipe(id, sizeof(id));
	return rc;
}

static void output_init(struct cw_sigv4_output *out)
{
	memset(out, 0, sizeof(*out));
	cw_buf_init(&out->canonical_request, SIG_BUF_MAX);
	cw_buf_init(&out->string_to_sign, SIG_BUF_MAX);
	cw_buf_init(&out->authorization, SIG_BUF_MAX);
}

void cw_sigv4_output_release(struct cw_sigv4_output *out)
{
	if (!out)
		return;
	/* The canonical request may hold the session token. */
	if (out->canonical_request.data)
		cw_wipe(out->canonical_request.data, out->canonical_request.len);
	cw_buf_release(&out->canonical_request);
	cw_buf_release(&out->string_to_sign);
	cw_buf_release(&out->authorization);
}

int cw_sigv4_sign(const struct cw_sigv4_input *in, struct cw_sigv4_output *out,
		  char *err, size_t errlen)
{
	struct cw_buf signed_hdrs = CW_BUF_INIT;
	struct tm tm;
	time_t t;
	char date[9], scope[256], cr_hash[65];
	unsigned char key[32], sig[32];
	int rc, n;

	output_init(out);
	cw_buf_init(&signed_hdrs, SIG_BUF_MAX);
	if (err && errlen)
		err[0] = '\0';
	rc = check_input(in, err, errlen);
	if (rc)
		goto fail;
	t = (time_t)in->time;
	if ((int64_t)t != in->time || !gmtime_r(&t, &tm) || tm.tm_year < 0 ||
	    tm.tm_year > 9999 - 1900) {
		rc = cw_fail(err, errlen, CW_EINVAL, "sigv4: time out of range");
		goto fail;
	}
	n = snprintf(out->amz_date, sizeof(out->amz_date), "%04d%02d%02dT%02d%02d%02dZ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		     tm.tm_sec);
	if (n != 16) {
		rc = cw_fail(err, errlen, CW_EINVAL, "sigv4: time out of range");
		goto fail;
	}
	memcpy(date, out->amz_date, 8);
	date[8] = '\0';
	n = snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date, in->region,
		     in->service);
	if (n < 0 || (size_t)n >= sizeof(scope)) {
		rc = cw_fail(err, errlen, CW_EINVAL, "sigv4: region or service too long");
		goto fail;
	}
	cw_sha256_hex(in->payload, in->payload_len, out->payload_hash);

	/* Canonical request. */
	rc = cw_buf_printf(&out->canonical_request, "%s\n", in->method);
	if (!rc)
		rc = canonical_uri(&out->canonical_request, in->path, in->normalize_path);
	if (!rc)
		rc = cw_buf_addch(&out->canonical_request, '\n');
	if (!rc)
		rc = canonical_query(&out->canonical_request, in->query);
	if (!rc)
		rc = cw_buf_addch(&out->canonical_request, '\n');
	if (!rc)
		rc = canonical_headers(in, out->amz_date, out->payload_hash,
				       &out->canonical_request, &signed_hdrs, err, errlen);
	if (!rc)
		rc = cw_buf_printf(&out->canonical_request, "\n%s\n%s", cw_buf_str(&signed_hdrs),
				   out->payload_hash);
	if (rc)
		goto fail;

	/* String to sign. */
	cw_sha256_hex(out->canonical_request.data, out->canonical_request.len, cr_hash);
	rc = cw_buf_printf(&out->string_to_sign, "AWS4-HMAC-SHA256\n%s\n%s\n%s", out->amz_date,
			   scope, cr_hash);
	if (rc)
		goto fail;

	/* Signature. */
	rc = in->keys ? cached_signing_key(in, date, key) : signing_key(in, date, key);
	if (!rc)
		rc = hmac256(key, sizeof(key), out->string_to_sign.data, out->string_to_sign.len,
			     sig);
	cw_wipe(key, sizeof(key));
	if (rc)
		goto fail;
	to_hex(sig, 32, out->signature);
	rc = cw_buf_printf(&out->authorization,
			   "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
			   in->access_key, scope, cw_buf_str(&signed_hdrs), out->signature);
	if (rc)
		goto fail;
	cw_buf_release(&signed_hdrs);
	return 0;

fail:
	/* Allocation failures and size caps did not write a message yet. */
	if (err && errlen && !*err)
		cw_fail(err, errlen, rc, "sigv4: %s", cw_strerror(rc));
	cw_buf_release(&signed_hdrs);
	cw_sigv4_output_release(out);
	return rc;
}
