/*
 * heartbeat.c - ping a heartbeat URL after a run (see heartbeat.h).
 */
#include "heartbeat.h"

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "http.h"
#include "strutil.h"

int cw_heartbeat_url(const char *url, bool ok, char *out, size_t outlen)
{
	size_t n = strcspn(url, "?"), base = n;
	int w;

	while (base > 0 && url[base - 1] == '/')
		base--;
	w = ok ? snprintf(out, outlen, "%s", url)
	       : snprintf(out, outlen, "%.*s/fail%s", (int)base, url, url + n);
	if (w < 0 || (size_t)w >= outlen) {
		if (outlen)
			out[0] = '\0';
		return CW_ETOOBIG;
	}
	return 0;
}

int cw_heartbeat_ping(const char *url, bool ok, const char *body, char *err, size_t errlen)
{
	struct cw_http *h = NULL;
	struct cw_http_opts ho;
	struct cw_http_response r;
	struct cw_http_header hd[] = { { "Content-Type", "text/plain; charset=utf-8" } };
	struct cw_http_request rq;
	char target[4096], host[256] = "", why[CW_ERRBUF];
	int rc;

	if (cw_heartbeat_url(url, ok, target, sizeof(target)))
		return cw_fail(err, errlen, CW_ETOOBIG, "heartbeat: url too long");
	if (cw_http_url_check(target, false, host, sizeof(host), NULL, NULL, 0, why,
			      sizeof(why)))
		return cw_fail(err, errlen, CW_EINVAL, "heartbeat: %s", why);
	memset(&ho, 0, sizeof(ho));
	ho.total_timeout_ms = 10000;
	ho.connect_timeout_ms = 5000;
	ho.max_response = 64 * 1024;
	if ((rc = cw_http_new(&h, &ho, why, sizeof(why))))
		return cw_fail(err, errlen, rc, "heartbeat (%s): %s", host, why);
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.url = target;
	rq.headers = hd;
	rq.nheaders = 1;
	rq.body = body ? body : "";
	rq.body_len = body ? strlen(body) : 0;
	cw_http_response_init(&r);
	for (int i = 0; i < 2; i++) {
		rc = cw_http_do(h, &rq, &r, why, sizeof(why));
		if (rc == 0 || (r.xfer != CW_XFER_CONNECT))
			break;
	}
	if (rc)
		rc = cw_fail(err, errlen, CW_EHTTP, "heartbeat: %s", why);
	else if (r.status < 200 || r.status >= 300)
		rc = cw_fail(err, errlen, CW_EHTTP, "heartbeat (%s): HTTP %ld", host, r.status);
	cw_http_response_release(&r);
	cw_http_free(h);
	cw_wipe(target, sizeof(target));
	return rc;
}
