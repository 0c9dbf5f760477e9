/*
 * http.c - the libcurl wrapper behind every request cwsweep makes.
 *
 * One easy handle per cw_http, set up once in cw_http_new() and reused, so
 * connections (and TLS sessions) stay open between calls of one worker.
 * Per request only the URL, method, headers, body, protocols, proxy and
 * timeouts are set again.  The write callback enforces the response cap
 * while receiving; the header callback keeps the few headers the callers
 * need.
 *
 * Threads: a cw_http is used by one thread at a time; the callbacks run on
 * that thread inside curl_easy_perform.  cw_http_global_init() runs once,
 * before threads.
 */
#include "http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "err.h"
#include "log.h"
#include "strutil.h"

#define DEF_CONNECT_MS 10000L
#define DEF_TOTAL_MS 60000L
#define DEF_LOW_SPEED_BPS 1L
#define DEF_LOW_SPEED_SECS 30L
#define DEF_MAX_RESPONSE ((size_t)64 * 1024 * 1024)
#define RAW_HEADERS_MAX ((size_t)64 * 1024)
#define DUMP_MAX 4096
#define BUDGET_FREE ((size_t)1 << 20) /* per response, outside the shared bound */

struct cw_http {
	CURL *curl;
	struct cw_http_opts opts; /* defaults filled in; ca_bundle points below */
	char *ca_bundle;          /* owned copy */
	char errbuf[CURL_ERROR_SIZE];
	/* state of the transfer in progress */
	struct cw_http_response *resp;
	bool too_big;
	bool over_budget;         /* the shared budget refused more memory */
	size_t reserved;          /* bytes this transfer holds in the budget */
	bool oom;
	bool debug;               /* --debug-http: collect raw headers */
	struct cw_buf raw_headers;
};

const char *cw_xfer_name(enum cw_xfer x)
{
	switch (x) {
	case CW_XFER_OK: return "ok";
	case CW_XFER_CONNECT: return "connect error";
	case CW_XFER_TIMEOUT: return "timeout";
	case CW_XFER_IO: return "connection error";
	case CW_XFER_TOOBIG: return "response too large";
	case CW_XFER_REFUSED: return "refused";
	case CW_XFER_TLS: return "tls verification failed";
	case CW_XFER_CANCELLED: return "cancelled";
	case CW_XFER_OTHER: return "transfer error";
	}
	return "transfer error";
}

/* ---- global init ----------------------------------------------------------- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init_once(void)
{
	struct sigaction sa;

	/* A peer closing a TLS connection must not kill the process. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
	/* jansson seeds its hash function lazily, which races between threads */
	json_object_seed(0);
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int cw_http_global_init(char *err, size_t errlen)
{
	pthread_once(&global_once, global_init_once);
	if (global_rc != CURLE_OK)
		return cw_fail(err, errlen, CW_EHTTP, "libcurl initialisation failed: %s",
			       curl_easy_strerror(global_rc));
	return 0;
}

/* ---- URL checks ------------------------------------------------------------ */

bool cw_http_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!host || !*host)
		return false;
	if (cw_str_ieq(host, "localhost") || cw_str_ieq(host, "localhost."))
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
	}
	return false;
}

/* The link-local addresses of IMDS and the container credential agents. */
static bool host_is_metadata(const char *host)
{
	static const char *const v4[] = { "169.254.169.254", "169.254.170.2",
					  "169.254.170.23", NULL };
	static const char *const v6[] = { "fd00:ec2::254", "fd00:ec2::23", NULL };
	struct in6_addr a6, m6;

	for (size_t i = 0; v4[i]; i++)
		if (strcmp(host, v4[i]) == 0)
			return true;
	if (inet_pton(AF_INET6, host, &a6) != 1)
		return false;
	for (size_t i = 0; v6[i]; i++)
		if (inet_pton(AF_INET6, v6[i], &m6) == 1 && memcmp(&a6, &m6, sizeof(a6)) == 0)
			return true;
	return false;
}

static int url_part(CURLU *u, CURLUPart part, char **out)
{
	*out = NULL;
	return curl_url_get(u, part, out, 0) == CURLUE_OK ? 0 : -1;
}

int cw_http_url_check(const char *url, bool metadata_http, char *host, size_t hostlen,
		      int *port, char *path, size_t pathlen, char *err, size_t errlen)
{
	CURLU *u = NULL;
	char *scheme = NULL, *h = NULL, *p = NULL, *pth = NULL, *x = NULL;
	const char *bare;
	size_t blen;
	int rc = CW_EINVAL;

	if (host && hostlen)
		host[0] = '\0';
	if (path && pathlen)
		path[0] = '\0';
	if (port)
		*port = -1;
	if (!url || !*url)
		return cw_fail(err, errlen, CW_EINVAL, "empty url");
	for (const char *c = url; *c; c++)
		if ((unsigned char)*c <= 0x20 || *c == 0x7f)
			return cw_fail(err, errlen, CW_EINVAL,
				       "url contains a space or control character");
	u = curl_url();
	if (!u)
		return cw_fail(err, errlen, CW_ENOMEM, "out of memory");
	/* the raw path: it is signed as sent */
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME | CURLU_PATH_AS_IS) !=
	    CURLUE_OK) {
		cw_fail(err, errlen, CW_EINVAL, "not an absolute url");
		goto out;
	}
	if (url_part(u, CURLUPART_SCHEME, &scheme) || url_part(u, CURLUPART_HOST, &h) ||
	    !*h) {
		cw_fail(err, errlen, CW_EINVAL, "url has no host");
		goto out;
	}
	bare = h;
	blen = strlen(h);
	if (blen >= 2 && h[0] == '[' && h[blen - 1] == ']') {
		h[blen - 1] = '\0';
		bare = h + 1;
	}
	if (url_part(u, CURLUPART_USER, &x) == 0) {
		cw_fail(err, errlen, CW_EINVAL, "url must not contain a user name or password");
		goto out;
	}
	if (url_part(u, CURLUPART_FRAGMENT, &x) == 0) {
		cw_fail(err, errlen, CW_EINVAL, "url must not contain a fragment");
		goto out;
	}
	if (strcmp(scheme, "http") == 0) {
		if (!cw_http_host_is_loopback(bare) && !(metadata_http && host_is_metadata(bare))) {
			cw_fail(err, errlen, CW_EINVAL,
				"plain http is allowed only to a loopback host, use https");
			goto out;
		}
	} else if (strcmp(scheme, "https") != 0) {
		cw_fail(err, errlen, CW_EINVAL, "url scheme must be https");
		goto out;
	}
	if (host && cw_strlcpy(host, bare, hostlen) >= hostlen) {
		cw_fail(err, errlen, CW_EINVAL, "url host too long");
		goto out;
	}
	if (port && url_part(u, CURLUPART_PORT, &p) == 0) {
		long long v;

		if (cw_parse_i64(p, 1, 65535, &v) != 0) {
			cw_fail(err, errlen, CW_EINVAL, "url port out of range");
			goto out;
		}
		*port = (int)v;
	}
	if (path) {
		if (url_part(u, CURLUPART_PATH, &pth) != 0 || !*pth) {
			curl_free(pth);
			pth = NULL;
		}
		if (cw_strlcpy(path, pth ? pth : "/", pathlen) >= pathlen) {
			cw_fail(err, errlen, CW_EINVAL, "url path too long");
			goto out;
		}
	}
	rc = 0;
out:
	curl_free(scheme);
	curl_free(h);
	curl_free(p);
	curl_free(pth);
	curl_free(x);
	curl_url_cleanup(u);
	return rc;
}

/* ---- callbacks (run on the calling thread inside curl_easy_perform) ------- */

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
	struct cw_http *h = ud;
	struct cw_buf *b = &h->resp->body;
	size_t n = size * nmemb;

	if (n > h->opts.max_response || b->len > h->opts.max_response - n) {
		h->too_big = true;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	/* charge the buffer's growth to the run-wide bound before it happens
	 * (cw_buf doubles its allocation from 64 bytes); the first MiB of each
	 * response is its own, so small answers (STS, ListMetrics) never fail
	 * because other workers hold large ones */
	if (h->opts.budget && h->opts.budget->max && b->len + n + 1 > b->alloc) {
		size_t grown = b->alloc ? b->alloc : 64, now, peak;

		while (grown < b->len + n + 1)
			grown = grown > SIZE_MAX / 2 ? b->len + n + 1 : grown * 2;
		grown = grown > BUDGET_FREE ? grown - BUDGET_FREE : 0;
		if (grown > h->reserved) {
			size_t d = grown - h->reserved;

			now = atomic_fetch_add(&h->opts.budget->used, d) + d;
			h->reserved += d;
			peak = atomic_load(&h->opts.budget->peak);
			while (now > peak && !atomic_compare_exchange_weak(&h->opts.budget->peak,
									   &peak, now))
				;
			if (now > h->opts.budget->max) {
				h->too_big = h->over_budget = true;
				return 0;
			}
		}
	}
	if (cw_buf_add(b, data, n) != 0) {
		h->oom = true;
		return 0;
	}
	return n;
}

void cw_membudget_init(struct cw_membudget *b, size_t max)
{
	atomic_init(&b->used, 0);
	atomic_init(&b->peak, 0);
	b->max = max;
}

/* Give back what the transfer held (its body is released or handed on). */
static void budget_return(struct cw_http *h)
{
	if (h->opts.budget && h->reserved)
		atomic_fetch_sub(&h->opts.budget->used, h->reserved);
	h->reserved = 0;
}

static void header_value(char *dst, size_t dstlen, const char *v, size_t n)
{
	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' ||
			 v[n - 1] == '\n'))
		n--;
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
	for (size_t i = 0; i < n; i++) /* never keep control characters */
		if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f)
			dst[i] = ' ';
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *ud)
{
	struct cw_http *h = ud;
	struct cw_http_response *r = h->resp;
	size_t n = size * nmemb;
	const char *colon;
	size_t nlen;

	if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
		/* a new response (after 100 Continue): forget the earlier headers */
		r->content_type[0] = r->request_id[0] = r->query_error[0] = '\0';
		r->retry_after[0] = r->etag[0] = '\0';
		cw_buf_reset(&h->raw_headers);
	}
	if (h->debug && h->raw_headers.len + n <= RAW_HEADERS_MAX)
		(void)cw_buf_add(&h->raw_headers, line, n);
	colon = memchr(line, ':', n);
	if (!colon)
		return n;
	nlen = (size_t)(colon - line);
	colon++;
#define IS(name) (nlen == sizeof(name) - 1 && strncasecmp(line, name, nlen) == 0)
	if (IS("content-type"))
		header_value(r->content_type, sizeof(r->content_type), colon,
			     n - (size_t)(colon - line));
	else if (IS("x-amzn-requestid") || IS("x-amz-request-id"))
		header_value(r->request_id, sizeof(r->request_id), colon,
			     n - (size_t)(colon - line));
	else if (IS("x-amzn-query-error"))
		header_value(r->query_error, sizeof(r->query_error), colon,
			     n - (size_t)(colon - line));
	else if (IS("retry-after"))
		header_value(r->retry_after, sizeof(r->retry_after), colon,
			     n - (size_t)(colon - line));
	else if (IS("etag"))
		header_value(r->etag, sizeof(r->etag), colon, n - (size_t)(colon - line));
#undef IS
	return n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct cw_http *h = ud;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return h->opts.cancelled && h->opts.cancelled(h->opts.cancel_arg) ? 1 : 0;
}

/* ---- handle ---------------------------------------------------------------- */

void cw_http_response_init(struct cw_http_response *r)
{
	memset(r, 0, sizeof(*r));
	cw_buf_init(&r->body, DEF_MAX_RESPONSE);
}

void cw_http_response_release(struct cw_http_response *r)
{
	cw_buf_release(&r->body);
}

void cw_http_free(struct cw_http *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	cw_buf_release(&h->raw_headers);
	free(h->ca_bundle);
	free(h);
}

int cw_http_new(struct cw_http **out, const struct cw_http_opts *opts,
		char *err, size_t errlen)
{
	struct cw_http *h;
	CURLcode c = CURLE_OK;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return cw_fail(err, errlen, CW_ENOMEM, "out of memory");
	if (opts)
		h->opts = *opts;
	if (h->opts.connect_timeout_ms <= 0)
		h->opts.connect_timeout_ms = DEF_CONNECT_MS;
	if (h->opts.total_timeout_ms <= 0)
		h->opts.total_timeout_ms = DEF_TOTAL_MS;
	if (h->opts.low_speed_bps <= 0)
		h->opts.low_speed_bps = DEF_LOW_SPEED_BPS;
	if (h->opts.low_speed_secs <= 0)
		h->opts.low_speed_secs = DEF_LOW_SPEED_SECS;
	if (h->opts.max_response == 0)
		h->opts.max_response = DEF_MAX_RESPONSE;
	cw_buf_init(&h->raw_headers, RAW_HEADERS_MAX);
	if (h->opts.ca_bundle && *h->opts.ca_bundle) {
		h->ca_bundle = cw_strdup(h->opts.ca_bundle);
		if (!h->ca_bundle)
			goto oom;
	}
	h->opts.ca_bundle = h->ca_bundle;
	h->curl = curl_easy_init();
	if (!h->curl)
		goto oom;

#define SET(opt, val) do { if (c == CURLE_OK) c = curl_easy_setopt(h->curl, opt, val); } while (0)
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, h->errbuf);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_bundle)
		SET(CURLOPT_CAINFO, h->ca_bundle);
	SET(CURLOPT_WRITEFUNCTION, on_write);
	SET(CURLOPT_WRITEDATA, h);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, h);
	SET(CURLOPT_XFERINFOFUNCTION, on_progress);
	SET(CURLOPT_XFERINFODATA, h);
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_LOW_SPEED_LIMIT, h->opts.low_speed_bps);
	SET(CURLOPT_LOW_SPEED_TIME, h->opts.low_speed_secs);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->opts.max_response);
	SET(CURLOPT_USERAGENT, "cwsweep/" CWSWEEP_VERSION);
	SET(CURLOPT_ACCEPT_ENCODING, ""); /* decoded size is what the cap counts */
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_PATH_AS_IS, 1L);      /* the signed path is the path sent */
#undef SET
	if (c != CURLE_OK) {
		int rc = cw_fail(err, errlen, CW_EHTTP, "libcurl setup failed: %s",
				 curl_easy_strerror(c));
		cw_http_free(h);
		return rc;
	}
	*out = h;
	return 0;
oom:
	cw_http_free(h);
	return cw_fail(err, errlen, CW_ENOMEM, "out of memory");
}

/* ---- --debug-http dumps ---------------------------------------------------- */

static bool secret_header(const char *name, size_t n)
{
	static const char *const names[] = { "authorization", "x-amz-security-token",
					     "x-aws-ec2-metadata-token", "cookie",
					     "set-cookie", "x-amz-sso_bearer_token", NULL };

	for (size_t i = 0; names[i]; i++)
		if (strlen(names[i]) == n && strncasecmp(name, names[i], n) == 0)
			return true;
	return false;
}

/* One header line (no CR/LF), secret values masked, the rest redacted. */
static void dump_header(char dir, const char *line, size_t n)
{
	char tmp[1024], red[1200];
	const char *colon = memchr(line, ':', n);

	if (n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	if (colon && secret_header(line, (size_t)(colon - line))) {
		cw_log_debug("%c %.*s: [REDACTED]", dir, (int)(colon - line), line);
		return;
	}
	memcpy(tmp, line, n);
	tmp[n] = '\0';
	cw_redact(tmp, red, sizeof(red));
	cw_log_debug("%c %s", dir, red);
}

static void dump_body(char dir, const void *body, size_t len, bool secret)
{
	char tmp[DUMP_MAX + 1], red[DUMP_MAX + 512];
	size_t n = len < DUMP_MAX ? len : DUMP_MAX;

	if (len == 0)
		return;
	if (secret) {
		cw_log_debug("%c [body of %zu bytes not shown: holds credentials]", dir, len);
		return;
	}
	memcpy(tmp, body, n);
	tmp[n] = '\0';
	cw_redact(tmp, red, sizeof(red));
	cw_log_debug("%c %s%s", dir, red, n < len ? " [...]" : "");
}

static void dump_request(const struct cw_http_request *req, const char *host, int port)
{
	bool v6 = strchr(host, ':') != NULL;
	char portstr[16] = "";

	if (port > 0)
		snprintf(portstr, sizeof(portstr), ":%d", port);
	/* the origin only: a path may be a secret (Slack webhook) */
	cw_log_debug("> %s %s://%s%s%s%s", req->method,
		     cw_str_startswith(req->url, "https:") ? "https" : "http",
		     v6 ? "[" : "", host, v6 ? "]" : "", portstr);
	for (size_t i = 0; i < req->nheaders; i++) {
		char line[1024];

		snprintf(line, sizeof(line), "%s: %s", req->headers[i].name,
			 req->headers[i].value);
		dump_header('>', line, strlen(line));
	}
	dump_body('>', req->body, req->body_len, req->secret_bodies);
}

static void dump_response(struct cw_http *h, const struct cw_http_request *req)
{
	const char *p = cw_buf_str(&h->raw_headers);

	while (*p) {
		size_t n = strcspn(p, "\r\n");

		if (n)
			dump_header('<', p, n);
		p += n;
		p += strspn(p, "\r\n");
	}
	dump_body('<', h->resp->body.data, h->resp->body.len, req->secret_bodies);
}

/* ---- one request ----------------------------------------------------------- */

static enum cw_xfer map_curl(CURLcode c)
{
	switch (c) {
	case CURLE_OK:
		return CW_XFER_OK;
	case CURLE_OPERATION_TIMEDOUT:
		return CW_XFER_TIMEOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
		return CW_XFER_CONNECT;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return CW_XFER_IO;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return CW_XFER_TLS;
	case CURLE_FILESIZE_EXCEEDED:
		return CW_XFER_TOOBIG;
	case CURLE_ABORTED_BY_CALLBACK:
		return CW_XFER_CANCELLED;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return CW_XFER_REFUSED;
	default:
		return CW_XFER_OTHER;
	}
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int set_method(CURL *curl, const struct cw_http_request *req)
{
	CURLcode c = CURLE_OK;
	bool get = strcmp(req->method, "GET") == 0;
	bool head = strcmp(req->method, "HEAD") == 0;
	bool has_body = req->body_len > 0 || strcmp(req->method, "POST") == 0 ||
			strcmp(req->method, "PUT") == 0 || strcmp(req->method, "PATCH") == 0;

#define SET(opt, val) do { if (c == CURLE_OK) c = curl_easy_setopt(curl, opt, val); } while (0)
	SET(CURLOPT_CUSTOMREQUEST, (char *)NULL);
	SET(CURLOPT_NOBODY, head ? 1L : 0L);
	if (has_body) {
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		SET(CURLOPT_POSTFIELDS, req->body_len ? (const char *)req->body : "");
		if (strcmp(req->method, "POST") != 0)
			SET(CURLOPT_CUSTOMREQUEST, req->method);
	} else if (!head) {
		SET(CURLOPT_HTTPGET, 1L);
		if (!get)
			SET(CURLOPT_CUSTOMREQUEST, req->method);
	}
#undef SET
	return c == CURLE_OK ? 0 : -1;
}

static bool valid_token(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == ':' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static bool valid_value(const char *s)
{
	for (; s && *s; s++)
		if (*s == '\r' || *s == '\n' || *s == '\0')
			return false;
	return s != NULL;
}

/* Header list for curl: the caller's, plus "Expect:" (no 100-continue
 * round trip) and an empty Content-Type when the caller set none. */
static int build_headers(const struct cw_http_request *req, struct curl_slist **out,
			 char *err, size_t errlen)
{
	struct curl_slist *l = NULL, *t;
	bool has_ct = false;
	struct cw_buf line = CW_BUF_INIT;
	int rc = 0;

	*out = NULL;
	for (size_t i = 0; i < req->nheaders; i++) {
		const struct cw_http_header *hd = &req->headers[i];

		if (!valid_token(hd->name) || !valid_value(hd->value)) {
			rc = cw_fail(err, errlen, CW_EINVAL, "invalid http header %s",
				     valid_token(hd->name) ? hd->name : "name");
			goto fail;
		}
		if (cw_str_ieq(hd->name, "content-type"))
			has_ct = true;
		cw_buf_reset(&line);
		/* "Name;" is how curl sends a header with an empty value */
		if ((rc = cw_buf_printf(&line, *hd->value ? "%s: %s" : "%s;", hd->name,
					hd->value)) != 0)
			goto oom;
		t = curl_slist_append(l, cw_buf_str(&line));
		if (!t)
			goto oom;
		l = t;
	}
	if (!(t = curl_slist_append(l, "Expect:")))
		goto oom;
	l = t;
	if (!has_ct) {
		if (!(t = curl_slist_append(l, "Content-Type:")))
			goto oom;
		l = t;
	}
	cw_wipe(line.data, line.alloc); /* may have held an Authorization value */
	cw_buf_release(&line);
	*out = l;
	return 0;
oom:
	rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
fail:
	if (line.data)
		cw_wipe(line.data, line.alloc);
	cw_buf_release(&line);
	curl_slist_free_all(l);
	return rc;
}

static void wipe_headers(struct curl_slist *l)
{
	for (struct curl_slist *p = l; p; p = p->next)
		cw_wipe(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

int cw_http_do(struct cw_http *h, const struct cw_http_request *req,
	       struct cw_http_response *resp, char *err, size_t errlen)
{
	char host[256];
	int port = -1;
	bool plain_ok, direct;
	struct curl_slist *hdrs = NULL;
	CURLcode c = CURLE_OK;
	int64_t t0;
	int rc;

	resp->status = 0;
	resp->content_type[0] = resp->request_id[0] = resp->query_error[0] = '\0';
	resp->retry_after[0] = resp->etag[0] = '\0';
	resp->elapsed_ms = 0;
	resp->xfer = CW_XFER_REFUSED;
	cw_buf_reset(&resp->body);
	resp->body.max = h->opts.max_response;
	if (!req->method || !req->url)
		return cw_fail(err, errlen, CW_EINVAL, "http request without method or url");

	rc = cw_http_url_check(req->url, req->metadata_http, host, sizeof(host), &port,
			       NULL, 0, err, errlen);
	if (rc)
		return rc;
	plain_ok = cw_http_host_is_loopback(host) ||
		   (req->metadata_http && host_is_metadata(host));
	/* a proxy in the environment must not see loopback or metadata traffic */
	direct = plain_ok;
	rc = build_headers(req, &hdrs, err, errlen);
	if (rc)
		return rc;

	h->resp = resp;
	h->too_big = h->oom = h->over_budget = false;
	h->reserved = 0;
	h->errbuf[0] = '\0';
	h->debug = cw_log_get_level() >= CW_LOG_DEBUG;
	cw_buf_reset(&h->raw_headers);

#define SET(opt, val) do { if (c == CURLE_OK) c = curl_easy_setopt(h->curl, opt, val); } while (0)
	SET(CURLOPT_URL, req->url);
	SET(CURLOPT_PROTOCOLS_STR, plain_ok ? "http,https" : "https");
	SET(CURLOPT_PROXY, direct ? "" : (char *)NULL);
	SET(CURLOPT_HTTPHEADER, hdrs);
	SET(CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : h->opts.total_timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms > 0 ? req->connect_timeout_ms
				       : h->opts.connect_timeout_ms);
#undef SET
	if (c != CURLE_OK || set_method(h->curl, req) != 0) {
		rc = cw_fail(err, errlen, CW_EHTTP, "%s: libcurl setup failed", host);
		goto out;
	}
	if (h->debug)
		dump_request(req, host, port);

	t0 = mono_ms();
	c = curl_easy_perform(h->curl);
	resp->elapsed_ms = mono_ms() - t0;
	resp->xfer = map_curl(c);
	if (c == CURLE_WRITE_ERROR && h->too_big)
		resp->xfer = CW_XFER_TOOBIG;

	if (c == CURLE_OK) {
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
		if (h->debug)
			dump_response(h, req);
		rc = 0;
	} else if (resp->xfer == CW_XFER_TOOBIG && h->over_budget) {
		cw_buf_release(&resp->body);
		rc = cw_fail(err, errlen, CW_ETOOBIG, "%s: responses in flight passed the "
			     "%zu MiB bound (aws.response_memory_mb)", host,
			     h->opts.budget->max >> 20);
	} else if (resp->xfer == CW_XFER_TOOBIG) {
		cw_buf_release(&resp->body);
		rc = cw_fail(err, errlen, CW_ETOOBIG, "%s: response larger than %zu bytes", host,
			     h->opts.max_response);
	} else if (h->oom) {
		cw_buf_release(&resp->body);
		resp->xfer = CW_XFER_OTHER;
		rc = cw_fail(err, errlen, CW_ENOMEM, "%s: out of memory for the response", host);
	} else if (resp->xfer == CW_XFER_CANCELLED) {
		cw_buf_reset(&resp->body);
		rc = cw_fail(err, errlen, CW_EINTR, "%s: request cancelled", host);
	} else {
		cw_buf_reset(&resp->body);
		rc = cw_fail(err, errlen, CW_EHTTP, "%s: %s: %s", host, cw_xfer_name(resp->xfer),
			     h->errbuf[0] ? h->errbuf : curl_easy_strerror(c));
	}
out:
	/* the handle keeps option pointers: drop the ones into caller memory */
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, (char *)NULL);
	wipe_headers(hdrs);
	budget_return(h);
	h->resp = NULL;
	return rc;
}
