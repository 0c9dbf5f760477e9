/*
 * check_http.c - the HTTP layer and cw_aws_call against a tiny scripted
 * HTTP server that each test runs on a free loopback port in a thread:
 * the response cap while receiving, timeouts on a stalled server, no
 * redirects, https-only for non-loopback hosts, and the retry paths of
 * cw_aws_call (503, throttling, ExpiredToken, AccessDenied) with an
 * injected clock, sleep and random draw, so nothing here sleeps except the
 * two timeout tests, which wait for libcurl's own timers.
 *
 * Threads: the server thread owns its sockets; what it records is read by
 * the test only after srv_stop() joined it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>

#include "aws.h"
#include "err.h"
#include "http.h"
#include "log.h"
#include "testlib.h"

/* ---- the scripted server -------------------------------------------------- */

enum srv_mode {
	SRV_REPLY,       /* send text, close */
	SRV_STALL,       /* send text, then hold the connection until stopped */
	SRV_STREAM,      /* send text, then zeros until the client gives up */
};

struct srv_step {
	enum srv_mode mode;
	const char *text;
};

#define SRV_MAX_REQ 8

struct srv {
	int lfd;
	int port;
	int stop[2]; /* a byte written to stop[1] ends the thread */
	pthread_t th;
	const struct srv_step *steps;
	int nsteps;
	int served;
	char req[SRV_MAX_REQ][16384]; /* raw requests as received */
};

static bool wait_fd(struct srv *s, int fd, short ev)
{
	struct pollfd p[2] = { { fd, ev, 0 }, { s->stop[0], POLLIN, 0 } };

	for (;;) {
		int n = poll(p, 2, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || p[1].revents)
			return false;
		if (p[0].revents)
			return true;
	}
}

/* Read one request (headers and Content-Length body) into out. */
static void srv_read_request(struct srv *s, int fd, char *out, size_t cap)
{
	size_t len = 0, want = 0;
	char *hdr_end = NULL;

	while (len + 1 < cap && wait_fd(s, fd, POLLIN)) {
		ssize_t n = recv(fd, out + len, cap - 1 - len, 0);

		if (n <= 0)
			break;
		len += (size_t)n;
		out[len] = '\0';
		if (!hdr_end && (hdr_end = strstr(out, "\r\n\r\n"))) {
			const char *cl = strstr(out, "Content-Length:");

			want = (size_t)(hdr_end + 4 - out);
			if (!cl)
				cl = strstr(out, "content-length:");
			if (cl && cl < hdr_end)
				want += strtoul(cl + 15, NULL, 10);
		}
		if (hdr_end && len >= want)
			break;
	}
	out[len] = '\0';
}

static void srv_send(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void *srv_main(void *arg)
{
	struct srv *s = arg;
	static char zeros[65536];

	while (wait_fd(s, s->lfd, POLLIN)) {
		int fd = accept(s->lfd, NULL, NULL);
		const struct srv_step *st;
		char scratch[16384];

		if (fd < 0)
			continue;
		st = &s->steps[s->served < s->nsteps ? s->served : s->nsteps - 1];
		srv_read_request(s, fd, s->served < SRV_MAX_REQ ? s->req[s->served] : scratch,
				 sizeof(scratch));
		s->served++;
		srv_send(fd, st->text, strlen(st->text));
		if (st->mode == SRV_STALL) {
			char b[256];

			/* until the client hangs up (its timeout) or the test ends */
			while (wait_fd(s, fd, POLLIN) && recv(fd, b, sizeof(b), 0) > 0)
				;
		} else if (st->mode == SRV_STREAM) {
			for (int i = 0; i < 1024; i++) {
				if (send(fd, zeros, sizeof(zeros), MSG_NOSIGNAL) <= 0)
					break;
			}
		}
		close(fd);
	}
	return NULL;
}

static void srv_start(struct srv *s, const struct srv_step *steps, int nsteps)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int one = 1;

	memset(s, 0, sizeof(*s));
	s->steps = steps;
	s->nsteps = nsteps;
	ck_assert_int_eq(pipe(s->stop), 0);
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(s->lfd, 0);
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(s->lfd, 8), 0);
	ck_assert_int_eq(getsockname(s->lfd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	ck_assert_int_eq(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_stop(struct srv *s)
{
	ck_assert_int_eq(write(s->stop[1], "x", 1), 1);
	pthread_join(s->th, NULL);
	close(s->lfd);
	close(s->stop[0]);
	close(s->stop[1]);
}

static void srv_url(const struct srv *s, char *out, size_t n, const char *path)
{
	snprintf(out, n, "http://127.0.0.1:%d%s", s->port, path);
}

/* A loopback port that nobody listens on. */
static int dead_port(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static struct cw_http *new_http(size_t cap, long total_ms, long low_bps, long low_secs)
{
	struct cw_http *h = NULL;
	struct cw_http_opts o;
	char err[CW_ERRBUF];

	memset(&o, 0, sizeof(o));
	o.max_response = cap;
	o.total_timeout_ms = total_ms;
	o.low_speed_bps = low_bps;
	o.low_speed_secs = low_secs;
	ck_assert_int_eq(cw_http_global_init(err, sizeof(err)), 0);
	ck_assert_msg(cw_http_new(&h, &o, err, sizeof(err)) == 0, "%s", err);
	return h;
}

static int get(struct cw_http *h, const char *url, struct cw_http_response *r, char *err,
	       size_t errlen)
{
	struct cw_http_request q;

	memset(&q, 0, sizeof(q));
	q.method = "GET";
	q.url = url;
	return cw_http_do(h, &q, r, err, errlen);
}

/* ---- cw_http ------------------------------------------------------------- */

START_TEST(test_get_headers_and_reuse)
{
	static const struct srv_step steps[] = {
		{ SRV_REPLY, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			     "x-amzn-RequestId: rid-1\r\nX-Amzn-Query-Error: Throttling;Sender\r\n"
			     "Retry-After: 7\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"
			     "hello" },
		{ SRV_REPLY, "HTTP/1.1 404 Not Found\r\nx-amz-request-id: rid-2\r\n"
			     "Content-Length: 0\r\nConnection: close\r\n\r\n" },
	};
	struct srv s;
	struct cw_http *h = new_http(0, 0, 0, 0);
	struct cw_http_response r;
	struct cw_http_header hd[] = { { "X-Test", "one" } };
	struct cw_http_request q;
	char url[128], err[CW_ERRBUF];

	srv_start(&s, steps, 2);
	cw_http_response_init(&r);
	srv_url(&s, url, sizeof(url), "/latest/api/token");
	memset(&q, 0, sizeof(q));
	q.method = "PUT";
	q.url = url;
	q.headers = hd;
	q.nheaders = 1;
	ck_assert_msg(cw_http_do(h, &q, &r, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(r.xfer, CW_XFER_OK);
	ck_assert_str_eq(cw_buf_str(&r.body), "hello");
	ck_assert_str_eq(r.content_type, "application/json");
	ck_assert_str_eq(r.request_id, "rid-1");
	ck_assert_str_eq(r.query_error, "Throttling;Sender");
	ck_assert_str_eq(r.retry_after, "7");

	/* the same handle again: the old headers and body are gone */
	ck_assert_msg(get(h, url, &r, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(cw_buf_str(&r.body), "");
	ck_assert_str_eq(r.request_id, "rid-2");
	ck_assert_str_eq(r.content_type, "");
	ck_assert_str_eq(r.query_error, "");
	srv_stop(&s);

	ck_assert_int_eq(s.served, 2);
	ck_assert_msg(strncmp(s.req[0], "PUT /latest/api/token HTTP/1.1\r\n", 32) == 0, "%s",
		      s.req[0]);
	ck_assert_ptr_nonnull(strstr(s.req[0], "X-Test: one\r\n"));
	ck_assert_ptr_null(strstr(s.req[0], "Expect:"));
	ck_assert_ptr_null(strstr(s.req[0], "Content-Type:"));
	ck_assert_msg(strncmp(s.req[1], "GET /latest/api/token HTTP/1.1\r\n", 32) == 0, "%s",
		      s.req[1]);
	cw_http_response_release(&r);
	cw_http_free(h);
}
END_TEST

/* The cap is enforced while receiving, with or without Content-Length. */
START_TEST(test_size_cap)
{
	static const struct srv_step steps[] = {
		{ SRV_STREAM, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" },
		{ SRV_REPLY, "HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n"
			     "Connection: close\r\n\r\nabc" },
		{ SRV_REPLY, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n"
			     "Connection: close\r\n\r\n" },
	};
	struct srv s;
	struct cw_http *h = new_http(1000, 5000, 0, 0);
	struct cw_http_response r;
	char url[128], err[CW_ERRBUF], body[1200];

	srv_start(&s, steps, 3);
	cw_http_response_init(&r);
	srv_url(&s, url, sizeof(url), "/");
	ck_assert_int_eq(get(h, url, &r, err, sizeof(err)), CW_ETOOBIG);
	ck_assert_int_eq(r.xfer, CW_XFER_TOOBIG);
	ck_assert_msg(strstr(err, "response larger than 1000 bytes") != NULL, "%s", err);
	ck_assert_uint_eq(r.body.len, 0);
	/* announced too large: refused before the body arrives */
	ck_assert_int_eq(get(h, url, &r, err, sizeof(err)), CW_ETOOBIG);
	ck_assert_int_eq(r.xfer, CW_XFER_TOOBIG);
	srv_stop(&s);

	/* exactly the cap is fine */
	memset(body, 'a', 1000);
	body[1000] = '\0';
	{
		char text[1400];
		struct srv_step ok[1] = { { SRV_REPLY, text } };

		snprintf(text, sizeof(text), "%s%s", steps[2].text, body);
		srv_start(&s, ok, 1);
		srv_url(&s, url, sizeof(url), "/");
		ck_assert_msg(get(h, url, &r, err, sizeof(err)) == 0, "%s", err);
		ck_assert_uint_eq(r.body.len, 1000);
		srv_stop(&s);
	}
	cw_http_response_release(&r);
	cw_http_free(h);
}
END_TEST

START_TEST(test_total_timeout)
{
	static const struct srv_step steps[] = {
		{ SRV_STALL, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc" },
	};
	struct srv s;
	struct cw_http *h = new_http(0, 300, 0, 0);
	struct cw_http_response r;
	char url[128], err[CW_ERRBUF];

	srv_start(&s, steps, 1);
	cw_http_response_init(&r);
	srv_url(&s, url, sizeof(url), "/");
	ck_assert_int_eq(get(h, url, &r, err, sizeof(err)), CW_EHTTP);
	ck_assert_int_eq(r.xfer, CW_XFER_TIMEOUT);
	ck_assert_int_ge(r.elapsed_ms, 250);
	ck_assert_int_lt(r.elapsed_ms, 5000);
	ck_assert_msg(strstr(err, "127.0.0.1: timeout") == err, "%s", err);
	ck_assert_uint_eq(r.body.len, 0); /* never a truncated body */
	srv_stop(&s);
	cw_http_response_release(&r);
	cw_http_free(h);
}
END_TEST

START_TEST(test_low_speed_timeout)
{
	static const struct srv_step steps[] = {
		{ SRV_STALL, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc" },
	};
	struct srv s;
	/* total 20 s, but under 1000 B/s for 1 s aborts */
	struct cw_http *h = new_http(0, 20000, 1000, 1);
	struct cw_http_response r;
	char url[128], err[CW_ERRBUF];

	srv_start(&s, steps, 1);
	cw_http_response_init(&r);
	srv_url(&s, url, sizeof(url), "/");
	ck_assert_int_eq(get(h, url, &r, err, sizeof(err)), CW_EHTTP);
	ck_assert_int_eq(r.xfer, CW_XFER_TIMEOUT);
	ck_assert_int_lt(r.elapsed_ms, 10000);
	srv_stop(&s);
	cw_http_response_release(&r);
	cw_http_free(h);
}
END_TEST

START_TEST(test_no_redirect)
{
	char text[256];
	struct srv_step steps[1] = { { SRV_REPLY, text } };
	struct srv s;
	struct cw_http *h = new_http(0, 0, 0, 0);
	struct cw_http_response r;
	char url[128], err[CW_ERRBUF];

	srv_start(&s, steps, 1);
	snprintf(text, sizeof(text), "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/elsewhere"
		 "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", s.port);
	cw_http_response_init(&r);
	srv_url(&s, url, sizeof(url), "/");
	ck_assert_msg(get(h, url, &r, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(r.status, 302);
	srv_stop(&s);
	ck_assert_int_eq(s.served, 1);
	cw_http_response_release(&r);
	cw_http_free(h);
}
END_TEST

/* Refused without any network I/O: nothing listens, nothing resolves. */
START_TEST(test_https_only)
{
	static const char *const refused[] = {
		"http://example.com/", "http://169.254.169.254/latest/meta-data/",
		"http://127.0.0.1.nip.io/", "ftp://127.0.0.1/", "file:///etc/passwd",
		"http://user:pw@127.0.0.1/", "https://127.0.0.1/#frag", "127.0.0.1/",
		"", "http://127.0.0.1/a b", "http:127.0.0.1", NULL,
	};
	struct cw_http *h = new_http(0, 0, 0, 0);
	struct cw_http_response r;
	char err[CW_ERRBUF];

	cw_http_response_init(&r);
	for (int i = 0; refused[i]; i++) {
		err[0] = '\0';
		ck_assert_msg(get(h, refused[i], &r, err, sizeof(err)) == CW_EINVAL, "%s",
			      refused[i]);
		ck_assert_int_eq(r.xfer, CW_XFER_REFUSED);
		ck_assert_int_eq(r.elapsed_ms, 0);
		ck_assert_int_eq(r.status, 0);
		ck_assert(err[0] != '\0');
	}
	cw_http_response_release(&r);
	cw_http_free(h);
}
END_TEST

START_TEST(test_url_check)
{
	char host[64], path[64], err[CW_ERRBUF];
	int port;

	ck_assert(cw_http_host_is_loopback("127.0.0.1"));
	ck_assert(cw_http_host_is_loopback("127.255.3.4"));
	ck_assert(cw_http_host_is_loopback("::1"));
	ck_assert(cw_http_host_is_loopback("::ffff:127.0.0.1"));
	ck_assert(cw_http_host_is_loopback("LocalHost"));
	ck_assert(!cw_http_host_is_loopback("128.0.0.1"));
	ck_assert(!cw_http_host_is_loopback("127.1"));
	ck_assert(!cw_http_host_is_loopback("localhost.example.com"));
	ck_assert(!cw_http_host_is_loopback("::2"));
	ck_assert(!cw_http_host_is_loopback(""));

	ck_assert_int_eq(cw_http_url_check("http://[::1]:8080/x/y?q=1", false, host,
					   sizeof(host), &port, path, sizeof(path), err,
					   sizeof(err)), 0);
	ck_assert_str_eq(host, "::1");
	ck_assert_int_eq(port, 8080);
	ck_assert_str_eq(path, "/x/y");
	ck_assert_int_eq(cw_http_url_check("https://monitoring.us-east-1.amazonaws.com", false,
					   host, sizeof(host), &port, path, sizeof(path), err,
					   sizeof(err)), 0);
	ck_assert_str_eq(host, "monitoring.us-east-1.amazonaws.com");
	ck_assert_int_eq(port, -1);
	ck_assert_str_eq(path, "/");
	/* metadata addresses only when asked, and only those */
	ck_assert_int_eq(cw_http_url_check("http://169.254.169.254/latest/api/token", true,
					   NULL, 0, NULL, NULL, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_http_url_check("http://169.254.170.2/v2/credentials/x", true,
					   NULL, 0, NULL, NULL, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_http_url_check("http://[fd00:ec2::254]/latest/api/token", true,
					   NULL, 0, NULL, NULL, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_http_url_check("http://169.254.169.253/", true, NULL, 0, NULL,
					   NULL, 0, err, sizeof(err)), CW_EINVAL);
	ck_assert_int_eq(cw_http_url_check("http://169.254.169.254/", false, NULL, 0, NULL,
					   NULL, 0, err, sizeof(err)), CW_EINVAL);
	ck_assert_str_eq(err, "plain http is allowed only to a loopback host, use https");
}
END_TEST

START_TEST(test_connect_refused)
{
	struct cw_http *h = new_http(0, 0, 0, 0);
	struct cw_http_response r;
	char url[128], err[CW_ERRBUF];

	cw_http_response_init(&r);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", dead_port());
	ck_assert_int_eq(get(h, url, &r, err, sizeof(err)), CW_EHTTP);
	ck_assert_int_eq(r.xfer, CW_XFER_CONNECT);
	ck_assert_msg(strstr(err, "127.0.0.1: connect error") == err, "%s", err);
	cw_http_response_release(&r);
	cw_http_free(h);
}
END_TEST

START_TEST(test_bad_header_refused)
{
	struct cw_http *h = new_http(0, 0, 0, 0);
	struct cw_http_response r;
	struct cw_http_header hd[] = { { "X-Evil", "a\r\nInjected: yes" } };
	struct cw_http_request q;
	char err[CW_ERRBUF];

	cw_http_response_init(&r);
	memset(&q, 0, sizeof(q));
	q.method = "GET";
	q.url = "http://127.0.0.1:9/";
	q.headers = hd;
	q.nheaders = 1;
	ck_assert_int_eq(cw_http_do(h, &q, &r, err, sizeof(err)), CW_EINVAL);
	ck_assert_int_eq(r.xfer, CW_XFER_REFUSED);
	cw_http_response_release(&r);
	cw_http_free(h);
}
END_TEST

/* ---- cw_aws_call ---------------------------------------------------------- */

#define T0_MS 1440938160000LL /* 2015-08-30T12:36:00Z */

struct env {
	int64_t sleeps[8];
	int nsleeps;
	struct cw_aws_ctx *ctx;
	bool interrupt_in_sleep;
};

static int64_t env_now(void *e)
{
	(void)e;
	return T0_MS;
}

static void env_sleep(void *e, int64_t ms)
{
	struct env *v = e;

	if (v->nsleeps < 8)
		v->sleeps[v->nsleeps] = ms;
	v->nsleeps++;
	if (v->interrupt_in_sleep)
		cw_aws_interrupt(v->ctx);
}

static double env_rand(void *e)
{
	(void)e;
	return 0.5;
}

struct credsrc {
	int calls;
	int forced;
	bool fail;
};

static int test_creds(void *ctx, bool force, struct cw_creds *out, char *err, size_t errlen)
{
	struct credsrc *c = ctx;

	c->calls++;
	if (c->fail)
		return cw_fail(err, errlen, CW_EAUTH, "no credentials in the test profile");
	memset(out, 0, sizeof(*out));
	if (force)
		c->forced++;
	snprintf(out->access_key, sizeof(out->access_key), "%s", force ? "AKIDNEW" : "AKIDOLD");
	snprintf(out->secret_key, sizeof(out->secret_key), "%s", "wJalrXUtnFEMI/SECRETKEYVALUE");
	out->session_token = strdup(force ? "TOKENNEW-SECRET" : "TOKENOLD-SECRET");
	snprintf(out->source, sizeof(out->source), "test");
	return 0;
}

struct awsfix {
	struct srv s;
	struct env env;
	struct credsrc creds;
	struct cw_aws_ctx *ctx;
	struct cw_aws_client *c;
	struct cw_aws_response resp;
	char endpoint[64];
	char err[CW_ERRBUF];
};

static void aws_setup(struct awsfix *f, const struct srv_step *steps, int nsteps)
{
	struct cw_aws_opts o;

	memset(f, 0, sizeof(*f));
	memset(&o, 0, sizeof(o));
	o.now_ms = env_now;
	o.sleep_ms = env_sleep;
	o.rand01 = env_rand;
	o.env = &f->env;
	o.total_timeout_ms = 5000;
	ck_assert_int_eq(cw_aws_ctx_new(&f->ctx, &o), 0);
	f->env.ctx = f->ctx;
	ck_assert_int_eq(cw_aws_client_new(&f->c, f->ctx), 0);
	cw_aws_response_init(&f->resp);
	if (steps) {
		srv_start(&f->s, steps, nsteps);
		srv_url(&f->s, f->endpoint, sizeof(f->endpoint), "");
	}
}

static int aws_gmd(struct awsfix *f)
{
	static const char body[] = "{\"MetricDataQueries\":[]}";
	struct cw_aws_request q;

	memset(&q, 0, sizeof(q));
	q.service = "monitoring";
	q.region = "us-east-1";
	q.endpoint = f->endpoint;
	q.proto = CW_PROTO_JSON10;
	q.target = "GraniteServiceVersion20100801.GetMetricData";
	q.body = body;
	q.body_len = sizeof(body) - 1;
	q.what = "GetMetricData 111111111111/us-east-1";
	return cw_aws_call(f->c, &q, test_creds, &f->creds, &f->resp, f->err, sizeof(f->err));
}

static void aws_teardown(struct awsfix *f, bool stop)
{
	if (stop)
		srv_stop(&f->s);
	cw_aws_response_release(&f->resp);
	cw_aws_client_free(f->c);
	cw_aws_ctx_free(f->ctx);
}

#define OK200 "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n" \
	"x-amzn-RequestId: ok-rid\r\nContent-Length: 16\r\nConnection: close\r\n\r\n" \
	"{\"Messages\":[] }"
#define E503 "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

START_TEST(test_call_signed_request)
{
	static const struct srv_step steps[] = { { SRV_REPLY, OK200 } };
	struct awsfix f;
	struct cw_aws_stats st;
	char want[96];

	aws_setup(&f, steps, 1);
	ck_assert_msg(aws_gmd(&f) == 0, "%s", f.err);
	ck_assert_int_eq(f.resp.status, 200);
	ck_assert_int_eq(f.resp.attempts, 1);
	ck_assert_str_eq(cw_buf_str(&f.resp.body), "{\"Messages\":[] }");
	ck_assert_str_eq(f.resp.code, "");
	ck_assert_str_eq(f.resp.request_id, "ok-rid");
	srv_stop(&f.s);

	const char *r = f.s.req[0];
	ck_assert_msg(strncmp(r, "POST / HTTP/1.1\r\n", 17) == 0, "%s", r);
	snprintf(want, sizeof(want), "Host: 127.0.0.1:%d\r\n", f.s.port);
	ck_assert_ptr_nonnull(strstr(r, want));
	ck_assert_ptr_nonnull(strstr(r, "Content-Type: application/x-amz-json-1.0\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "X-Amz-Target: GraniteServiceVersion20100801."
					"GetMetricData\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "X-Amz-Date: 20150830T123600Z\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "X-Amz-Security-Token: TOKENOLD-SECRET\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "Authorization: AWS4-HMAC-SHA256 Credential=AKIDOLD/"
					"20150830/us-east-1/monitoring/aws4_request, "));
	ck_assert_ptr_nonnull(strstr(r, "\r\n\r\n{\"MetricDataQueries\":[]}"));
	ck_assert_int_eq(f.env.nsleeps, 0);
	cw_aws_ctx_stats(f.ctx, &st);
	ck_assert_uint_eq(st.attempts, 1);
	ck_assert_uint_eq(st.retries, 0);
	ck_assert_uint_eq(st.failed, 0);
	aws_teardown(&f, false);
}
END_TEST

START_TEST(test_call_503_then_200)
{
	static const struct srv_step steps[] = { { SRV_REPLY, E503 }, { SRV_REPLY, OK200 } };
	struct awsfix f;
	struct cw_aws_stats st;

	aws_setup(&f, steps, 2);
	ck_assert_msg(aws_gmd(&f) == 0, "%s", f.err);
	ck_assert_int_eq(f.resp.attempts, 2);
	ck_assert_int_eq(f.env.nsleeps, 1);
	ck_assert_int_eq(f.env.sleeps[0], 500); /* 0.5 * 2^0 s */
	cw_aws_ctx_stats(f.ctx, &st);
	ck_assert_uint_eq(st.attempts, 2);
	ck_assert_uint_eq(st.retries, 1);
	ck_assert_uint_eq(st.throttled, 0);
	aws_teardown(&f, true);
}
END_TEST

START_TEST(test_call_503_exhausted)
{
	static const struct srv_step steps[] = { { SRV_REPLY, E503 } };
	struct awsfix f;
	struct cw_aws_stats st;

	aws_setup(&f, steps, 1);
	ck_assert_int_eq(aws_gmd(&f), CW_EAWS);
	ck_assert_int_eq(f.resp.attempts, 3);
	ck_assert_int_eq(f.resp.status, 503);
	ck_assert_int_eq(f.env.nsleeps, 2);
	ck_assert_int_eq(f.env.sleeps[0], 500);
	ck_assert_int_eq(f.env.sleeps[1], 1000);
	ck_assert_str_eq(f.resp.code, "");
	ck_assert_msg(strstr(f.err, "GetMetricData 111111111111/us-east-1: ") == f.err, "%s",
		      f.err);
	ck_assert_msg(strstr(f.err, "http 503, 3 attempts; attempts exhausted") != NULL, "%s",
		      f.err);
	cw_aws_ctx_stats(f.ctx, &st);
	ck_assert_uint_eq(st.attempts, 3);
	ck_assert_uint_eq(st.retries, 2);
	ck_assert_uint_eq(st.failed, 1);
	aws_teardown(&f, true);
}
END_TEST

/* AWS_MAX_ATTEMPTS as the SDKs read it; AWS_RETRY_MODE checked */
START_TEST(test_call_env_max_attempts)
{
	static const struct srv_step steps[] = { { SRV_REPLY, E503 } };
	struct awsfix f;
	char err[CW_ERRBUF];
	int n;

	setenv("AWS_MAX_ATTEMPTS", "5", 1);
	setenv("AWS_RETRY_MODE", "standard", 1);
	ck_assert_int_eq(cw_aws_env_retry(&n, err, sizeof(err)), 0);
	ck_assert_int_eq(n, 5);
	aws_setup(&f, steps, 1);
	ck_assert_int_eq(aws_gmd(&f), CW_EAWS);
	ck_assert_int_eq(f.resp.attempts, 5);
	ck_assert_int_eq(f.env.nsleeps, 4);
	aws_teardown(&f, true);

	setenv("AWS_MAX_ATTEMPTS", "0", 1);
	ck_assert_int_eq(cw_aws_env_retry(&n, err, sizeof(err)), CW_EINVAL);
	ck_assert_str_eq(err, "AWS_MAX_ATTEMPTS: must be a whole number from 1 to 20, got \"0\"");
	unsetenv("AWS_MAX_ATTEMPTS");
	setenv("AWS_RETRY_MODE", "fast", 1);
	ck_assert_int_eq(cw_aws_env_retry(&n, err, sizeof(err)), CW_EINVAL);
	ck_assert_str_eq(err, "AWS_RETRY_MODE: \"fast\" is not standard, adaptive or legacy");
	setenv("AWS_RETRY_MODE", "Adaptive", 1);
	ck_assert_int_eq(cw_aws_env_retry(&n, err, sizeof(err)), 0);
	ck_assert_int_eq(n, 0);
	unsetenv("AWS_RETRY_MODE");
}
END_TEST

START_TEST(test_call_throttled_then_200)
{
	static const struct srv_step steps[] = {
		{ SRV_REPLY, "HTTP/1.1 400 Bad Request\r\nx-amzn-query-error: Throttling;Sender\r\n"
			     "Content-Type: application/x-amz-json-1.0\r\nContent-Length: 88\r\n"
			     "Connection: close\r\n\r\n"
			     "{\"__type\":\"com.amazon.coral.availability#ThrottlingException\","
			     "\"message\":\"Rate exceeded\"}" },
		{ SRV_REPLY, OK200 },
	};
	struct awsfix f;
	struct cw_aws_stats st;

	aws_setup(&f, steps, 2);
	ck_assert_msg(aws_gmd(&f) == 0, "%s", f.err);
	ck_assert_int_eq(f.resp.attempts, 2);
	ck_assert_int_eq(f.env.nsleeps, 1);
	ck_assert_int_eq(f.env.sleeps[0], 500);
	cw_aws_ctx_stats(f.ctx, &st);
	ck_assert_uint_eq(st.throttled, 1);
	ck_assert_uint_eq(st.retries, 1);
	aws_teardown(&f, true);
}
END_TEST

START_TEST(test_call_expired_token_refresh)
{
	static const struct srv_step steps[] = {
		{ SRV_REPLY, "HTTP/1.1 400 Bad Request\r\n"
			     "x-amzn-query-error: ExpiredToken;Sender\r\n"
			     "Content-Type: application/x-amz-json-1.0\r\nContent-Length: 76\r\n"
			     "Connection: close\r\n\r\n"
			     "{\"__type\":\"ExpiredTokenException\","
			     "\"message\":\"The security token is expired\"}" },
		{ SRV_REPLY, OK200 },
	};
	struct awsfix f;

	aws_setup(&f, steps, 2);
	ck_assert_msg(aws_gmd(&f) == 0, "%s", f.err);
	ck_assert_int_eq(f.resp.attempts, 2);
	ck_assert_int_eq(f.env.nsleeps, 0); /* a refresh does not wait */
	ck_assert_int_eq(f.creds.calls, 2);
	ck_assert_int_eq(f.creds.forced, 1);
	srv_stop(&f.s);
	ck_assert_ptr_nonnull(strstr(f.s.req[0], "Credential=AKIDOLD/"));
	ck_assert_ptr_nonnull(strstr(f.s.req[1], "Credential=AKIDNEW/"));
	ck_assert_ptr_nonnull(strstr(f.s.req[1], "X-Amz-Security-Token: TOKENNEW-SECRET\r\n"));
	aws_teardown(&f, false);
}
END_TEST

START_TEST(test_call_expired_twice)
{
	static const struct srv_step steps[] = {
		{ SRV_REPLY, "HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\n"
			     "Content-Length: 142\r\nConnection: close\r\n\r\n"
			     "<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code>"
			     "<Message>expired</Message></Error><RequestId>r-9</RequestId>"
			     "</ErrorResponse>" },
	};
	struct awsfix f;

	aws_setup(&f, steps, 1);
	ck_assert_int_eq(aws_gmd(&f), CW_EAWS);
	ck_assert_int_eq(f.resp.attempts, 2);
	ck_assert_str_eq(f.resp.code, "ExpiredToken");
	ck_assert_str_eq(f.resp.message, "expired");
	ck_assert_str_eq(f.resp.request_id, "r-9");
	ck_assert_int_eq(f.creds.forced, 1);
	aws_teardown(&f, true);
}
END_TEST

START_TEST(test_call_access_denied_not_retried)
{
	static const struct srv_step steps[] = {
		{ SRV_REPLY, "HTTP/1.1 400 Bad Request\r\nx-amzn-RequestId: deny-rid\r\n"
			     "Content-Type: application/x-amz-json-1.0\r\nContent-Length: 90\r\n"
			     "Connection: close\r\n\r\n"
			     "{\"__type\":\"com.amazonaws.cloudwatch#AccessDenied\","
			     "\"message\":\"User is not authorized here\"}" },
		{ SRV_REPLY, OK200 },
	};
	struct awsfix f;
	struct cw_aws_stats st;

	aws_setup(&f, steps, 2);
	ck_assert_int_eq(aws_gmd(&f), CW_EAWS);
	ck_assert_int_eq(f.resp.attempts, 1);
	ck_assert_int_eq(f.resp.status, 400);
	ck_assert_str_eq(f.resp.code, "AccessDenied");
	ck_assert_str_eq(f.resp.message, "User is not authorized here");
	ck_assert_str_eq(f.resp.request_id, "deny-rid");
	ck_assert_int_eq(f.env.nsleeps, 0);
	ck_assert_str_eq(f.err, "GetMetricData 111111111111/us-east-1: AccessDenied: "
				"User is not authorized here (http 400, 1 attempt)");
	ck_assert_ptr_nonnull(strstr(cw_buf_str(&f.resp.body), "AccessDenied"));
	cw_aws_ctx_stats(f.ctx, &st);
	ck_assert_uint_eq(st.failed, 1);
	srv_stop(&f.s);
	ck_assert_int_eq(f.s.served, 1);
	aws_teardown(&f, false);
}
END_TEST

START_TEST(test_call_connect_error_retried)
{
	struct awsfix f;

	aws_setup(&f, NULL, 0);
	snprintf(f.endpoint, sizeof(f.endpoint), "http://127.0.0.1:%d", dead_port());
	ck_assert_int_eq(aws_gmd(&f), CW_EHTTP);
	ck_assert_int_eq(f.resp.attempts, 3);
	ck_assert_int_eq(f.env.nsleeps, 2);
	ck_assert_msg(strstr(f.err, "connect error") != NULL, "%s", f.err);
	ck_assert_msg(strstr(f.err, "(3 attempts; attempts exhausted)") != NULL, "%s", f.err);
	aws_teardown(&f, false);
}
END_TEST

START_TEST(test_call_interrupt)
{
	static const struct srv_step steps[] = { { SRV_REPLY, E503 } };
	struct awsfix f;

	/* interrupted during the backoff: stops after the first attempt */
	aws_setup(&f, steps, 1);
	f.env.interrupt_in_sleep = true;
	ck_assert_int_eq(aws_gmd(&f), CW_EINTR);
	ck_assert_int_eq(f.resp.attempts, 1);
	/* interrupted before: nothing sent */
	ck_assert_int_eq(aws_gmd(&f), CW_EINTR);
	ck_assert_int_eq(f.resp.attempts, 0);
	srv_stop(&f.s);
	ck_assert_int_eq(f.s.served, 1);
	aws_teardown(&f, false);
}
END_TEST

START_TEST(test_call_no_creds)
{
	static const struct srv_step steps[] = { { SRV_REPLY, OK200 } };
	struct awsfix f;

	aws_setup(&f, steps, 1);
	f.creds.fail = true;
	ck_assert_int_eq(aws_gmd(&f), CW_EAUTH);
	ck_assert_str_eq(f.err, "no credentials in the test profile");
	ck_assert_int_eq(f.resp.attempts, 0);
	srv_stop(&f.s);
	ck_assert_int_eq(f.s.served, 0);
	aws_teardown(&f, false);
}
END_TEST

/* -v logs one line per attempt; --debug-http dumps without secrets. */
START_TEST(test_call_logging_redacted)
{
	static const struct srv_step steps[] = {
		{ SRV_REPLY, "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 117\r\n"
			     "Connection: close\r\n\r\n"
			     "<R><Credentials><SecretAccessKey>RESPSECRET</SecretAccessKey>"
			     "<SessionToken>RESPTOKEN</SessionToken></Credentials></R>" },
	};
	struct awsfix f;
	char *dir = cw_test_tmpdir();
	char path[512], want[160];
	char *log;
	int fd, saved;

	snprintf(path, sizeof(path), "%s/stderr.log", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	cw_log_set_level(CW_LOG_DEBUG);
	aws_setup(&f, steps, 1);
	ck_assert_msg(aws_gmd(&f) == 0, "%s", f.err);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	log = cw_test_slurp(path);
	ck_assert_ptr_nonnull(log);
	snprintf(want, sizeof(want), "POST http://127.0.0.1:%d/ GetMetricData "
		 "111111111111/us-east-1 -> 200 (attempt 1, ", f.s.port);
	ck_assert_msg(strstr(log, want) != NULL, "%s", log);
	ck_assert_msg(strstr(log, "X-Amz-Target: GraniteServiceVersion20100801.GetMetricData"),
		      "%s", log);
	ck_assert_msg(strstr(log, "[REDACTED]") != NULL, "%s", log);
	ck_assert_msg(strstr(log, "TOKENOLD-SECRET") == NULL, "%s", log);
	ck_assert_msg(strstr(log, "SECRETKEYVALUE") == NULL, "%s", log);
	ck_assert_msg(strstr(log, "RESPSECRET") == NULL, "%s", log);
	ck_assert_msg(strstr(log, "RESPTOKEN") == NULL, "%s", log);
	ck_assert_msg(strstr(log, "Signature=") == NULL, "%s", log);
	free(log);
	aws_teardown(&f, true);
	cw_test_rmtree(dir);
	free(dir);
}
END_TEST

/* ---- endpoints and credentials ------------------------------------------- */

START_TEST(test_endpoint_resolve)
{
	char out[256], err[CW_ERRBUF];

	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_CLOUDWATCH");
	unsetenv("AWS_ENDPOINT_URL_STS");
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	ck_assert_int_eq(cw_endpoint_resolve("monitoring", "eu-west-1", NULL, out, sizeof(out),
					     err, sizeof(err)), 0);
	ck_assert_str_eq(out, "https://monitoring.eu-west-1.amazonaws.com");
	ck_assert_int_eq(cw_endpoint_resolve("sts", "cn-north-1", NULL, out, sizeof(out), err,
					     sizeof(err)), 0);
	ck_assert_str_eq(out, "https://sts.cn-north-1.amazonaws.com.cn");
	ck_assert_int_eq(cw_endpoint_resolve("sts", "us-east-1", "http://127.0.0.1:4566//", out,
					     sizeof(out), err, sizeof(err)), 0);
	ck_assert_str_eq(out, "http://127.0.0.1:4566");

	setenv("AWS_ENDPOINT_URL", "https://all.example.com/", 1);
	ck_assert_int_eq(cw_endpoint_resolve("sts", "us-east-1", "http://127.0.0.1:1", out,
					     sizeof(out), err, sizeof(err)), 0);
	ck_assert_str_eq(out, "https://all.example.com");
	setenv("AWS_ENDPOINT_URL_STS", "https://sts.example.com", 1);
	setenv("AWS_ENDPOINT_URL_CLOUDWATCH", "http://localhost:9000/", 1);
	ck_assert_int_eq(cw_endpoint_resolve("sts", "us-east-1", NULL, out, sizeof(out), err,
					     sizeof(err)), 0);
	ck_assert_str_eq(out, "https://sts.example.com");
	ck_assert_int_eq(cw_endpoint_resolve("monitoring", "us-east-1", NULL, out, sizeof(out),
					     err, sizeof(err)), 0);
	ck_assert_str_eq(out, "http://localhost:9000");
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
	ck_assert_int_eq(cw_endpoint_resolve("monitoring", "us-east-1", NULL, out, sizeof(out),
					     err, sizeof(err)), 0);
	ck_assert_str_eq(out, "https://monitoring.us-east-1.amazonaws.com");
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");

	setenv("AWS_ENDPOINT_URL_STS", "http://sts.example.com", 1);
	ck_assert_int_eq(cw_endpoint_resolve("sts", "us-east-1", NULL, out, sizeof(out), err,
					     sizeof(err)), CW_EINVAL);
	ck_assert_str_eq(err, "AWS_ENDPOINT_URL_STS: plain http is allowed only to a loopback "
			      "host, use https");
	ck_assert_str_eq(out, "");
	unsetenv("AWS_ENDPOINT_URL_STS");
	unsetenv("AWS_ENDPOINT_URL_CLOUDWATCH");
	unsetenv("AWS_ENDPOINT_URL");
	ck_assert_int_eq(cw_endpoint_resolve("monitoring", "us-east-1", "https://x/?a=b", out,
					     sizeof(out), err, sizeof(err)), CW_EINVAL);
	ck_assert_int_eq(cw_endpoint_resolve("monitoring", "us-east-1", "https://x/a/../b", out,
					     sizeof(out), err, sizeof(err)), CW_EINVAL);
	ck_assert_int_eq(cw_endpoint_resolve("monitoring", "US_EAST", NULL, out, sizeof(out),
					     err, sizeof(err)), CW_EINVAL);
	ck_assert_int_eq(cw_endpoint_resolve("monitoring", "evil.com/x", NULL, out, sizeof(out),
					     err, sizeof(err)), CW_EINVAL);
	ck_assert_int_eq(cw_endpoint_resolve("monitoring", "us-east-1", NULL, out, 20, err,
					     sizeof(err)), CW_ETOOBIG);
}
END_TEST

START_TEST(test_creds_copy_release)
{
	struct cw_creds a, b;

	memset(&a, 0, sizeof(a));
	snprintf(a.access_key, sizeof(a.access_key), "AKID");
	snprintf(a.secret_key, sizeof(a.secret_key), "SECRET");
	a.session_token = strdup("TOKEN");
	a.expiration = 42;
	ck_assert_int_eq(cw_creds_copy(&b, &a), 0);
	ck_assert_ptr_ne(b.session_token, a.session_token);
	ck_assert_str_eq(b.session_token, "TOKEN");
	ck_assert_str_eq(b.secret_key, "SECRET");
	ck_assert_int_eq(b.expiration, 42);
	cw_creds_release(&a);
	ck_assert_ptr_null(a.session_token);
	ck_assert_str_eq(a.secret_key, "");
	ck_assert_str_eq(a.access_key, "");
	cw_creds_release(&b);
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *th = tcase_create("http");
	TCase *ta = tcase_create("aws_call");

	tcase_set_timeout(th, 30);
	tcase_add_test(th, test_get_headers_and_reuse);
	tcase_add_test(th, test_size_cap);
	tcase_add_test(th, test_total_timeout);
	tcase_add_test(th, test_low_speed_timeout);
	tcase_add_test(th, test_no_redirect);
	tcase_add_test(th, test_https_only);
	tcase_add_test(th, test_url_check);
	tcase_add_test(th, test_connect_refused);
	tcase_add_test(th, test_bad_header_refused);
	suite_add_tcase(s, th);

	tcase_set_timeout(ta, 30);
	tcase_add_test(ta, test_call_signed_request);
	tcase_add_test(ta, test_call_503_then_200);
	tcase_add_test(ta, test_call_503_exhausted);
	tcase_add_test(ta, test_call_env_max_attempts);
	tcase_add_test(ta, test_call_throttled_then_200);
	tcase_add_test(ta, test_call_expired_token_refresh);
	tcase_add_test(ta, test_call_expired_twice);
	tcase_add_test(ta, test_call_access_denied_not_retried);
	tcase_add_test(ta, test_call_connect_error_retried);
	tcase_add_test(ta, test_call_interrupt);
	tcase_add_test(ta, test_call_no_creds);
	tcase_add_test(ta, test_call_logging_redacted);
	tcase_add_test(ta, test_endpoint_resolve);
	tcase_add_test(ta, test_creds_copy_release);
	suite_add_tcase(s, ta);
	return s;
}

int main(void)
{
	return cw_test_run_suite(http_suite());
}
