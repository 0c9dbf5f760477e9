#!/usr/bin/env python3
"""The fake AWS endpoint used by cwsweep's tests, demo and benchmark.

One loopback HTTP/1.1 server answers, on one port:
  * CloudWatch, AWS JSON 1.0 (X-Amz-Target: GraniteServiceVersion20100801.*):
    GetMetricData, ListMetrics, GetMetricStatistics;
  * STS, Query protocol with XML answers: AssumeRole,
    AssumeRoleWithWebIdentity, GetCallerIdentity;
  * EC2 instance metadata (IMDSv2) and container credentials;
  * a Slack incoming-webhook receiver (POST /slack/...);
  * test hooks: GET /_health /_requests /_stats /_slack /_series /_now.
Every CloudWatch and STS request (except AssumeRoleWithWebIdentity) must
carry a valid SigV4 signature; it is verified with botocore's signer when
botocore imports, else with fake_sigv4's own implementation.

Scenario format, endpoints and faults: README.md next to this file.

Threads: ThreadingHTTPServer runs one daemon thread per connection. Shared
state lives in class State; its `lock` guards credentials, fault counters,
rate buckets, Slack records, IMDS tokens and statistics; `log_lock` guards
the request log (file and in-memory list). Scenario caches have their own
lock (fake_scenario).
"""

import argparse
import base64
import datetime
import fnmatch
import gc
import hashlib
import hmac
import json
import math
import os
import random
import re
import secrets
import signal
import socket
import string
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from json.encoder import encode_basestring_ascii as _encode_str
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape as xml_escape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_scenario  # noqa: E402
import fake_sigv4  # noqa: E402

LOOP_TOKEN = "fake-loop-token-0001"


def s3_etag(body):
    """An object's ETag as S3 sends it for a single-part upload: its MD5 in
    quotes."""
    return '"%s"' % hashlib.md5(bytes(body)).hexdigest()


CW_TARGET_PREFIX = "GraniteServiceVersion20100801."
CW_JSON = "application/x-amz-json-1.0"
ORG_TARGET_PREFIX = "AWSOrganizationsV20161128."
ORG_JSON = "application/x-amz-json-1.1"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
MAX_BODY = 16 * 1024 * 1024
GMD_MAX_QUERIES = 500
GMD_MAX_DATAPOINTS = 100800
GMS_MAX_DATAPOINTS = 1440
LIST_PAGE = 500
ID_RE = re.compile(r"^[a-z][a-zA-Z0-9_]*$")
SESSION_RE = re.compile(r"^[\w+=,.@-]*$")
EXTID_RE = re.compile(r"^[\w+=,.@:/-]*$")
STAT_RE = re.compile(r"^(Sum|Average|Minimum|Maximum|SampleCount|p\d{1,2}(\.\d+)?)$")

# CloudWatch JSON error: query code -> (http status, __type, fault side)
CW_ERRORS = {
    "SignatureDoesNotMatch": (403, "com.amazon.coral.service#InvalidSignatureException", "Sender"),
    "IncompleteSignature": (403, "com.amazon.coral.service#IncompleteSignatureException", "Sender"),
    "MissingAuthenticationToken": (403, "com.amazon.coral.service#MissingAuthenticationTokenException", "Sender"),
    "InvalidClientTokenId": (403, "com.amazon.coral.service#UnrecognizedClientException", "Sender"),
    "ExpiredToken": (403, "com.amazon.coral.service#ExpiredTokenException", "Sender"),
    "AccessDenied": (403, "com.amazon.coral.service#AccessDeniedException", "Sender"),
    "Throttling": (400, "com.amazon.coral.availability#ThrottlingException", "Sender"),
    "ValidationError": (400, "com.amazon.coral.validate#ValidationException", "Sender"),
    "InvalidParameterValue": (400, "com.amazonaws.cloudwatch#InvalidParameterValueException", "Sender"),
    "InvalidParameterCombination": (400, "com.amazonaws.cloudwatch#InvalidParameterCombinationException", "Sender"),
    "MissingParameter": (400, "com.amazonaws.cloudwatch#MissingRequiredParameterException", "Sender"),
    "InvalidNextToken": (400, "com.amazonaws.cloudwatch#InvalidNextToken", "Sender"),
    "SerializationException": (400, "com.amazon.coral.service#SerializationException", "Sender"),
    "UnknownOperationException": (400, "com.amazon.coral.service#UnknownOperationException", "Sender"),
    "InternalFailure": (500, "com.amazon.coral.service#InternalFailure", "Receiver"),
    "ServiceUnavailable": (503, "com.amazon.coral.service#ServiceUnavailableException", "Receiver"),
}
# STS XML error: code -> (http status, type)
STS_ERRORS = {
    "SignatureDoesNotMatch": (403, "Sender"),
    "IncompleteSignature": (403, "Sender"),
    "MissingAuthenticationToken": (403, "Sender"),
    "InvalidClientTokenId": (403, "Sender"),
    "ExpiredToken": (400, "Sender"),
    "AccessDenied": (403, "Sender"),
    "RegionDisabledException": (403, "Sender"),
    "Throttling": (400, "Sender"),
    "ValidationError": (400, "Sender"),
    "MissingParameter": (400, "Sender"),
    "MalformedInput": (400, "Sender"),
    "InvalidAction": (400, "Sender"),
    "InvalidIdentityToken": (400, "Sender"),
    "IDPRejectedClaim": (403, "Sender"),
    "InternalFailure": (500, "Receiver"),
    "ServiceUnavailable": (503, "Receiver"),
}
MSG_SIG = ("The request signature we calculated does not match the signature you "
           "provided. Check your AWS Secret Access Key and signing method. Consult "
           "the service documentation for details.")
MSG_BAD_TOKEN = "The security token included in the request is invalid."
MSG_EXPIRED = "The security token included in the request is expired"


def iso8601(epoch):
    return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) \
        .strftime("%Y-%m-%dT%H:%M:%SZ")


def amz_compact(epoch):
    return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) \
        .strftime("%Y%m%dT%H%M%SZ")


def parse_amz_date(s):
    return datetime.datetime.strptime(s, "%Y%m%dT%H%M%SZ") \
        .replace(tzinfo=datetime.timezone.utc).timestamp()


class ApiError(Exception):
    """An AWS error answer: code (query-style), message, optional status."""

    def __init__(self, code, message, status=None):
        Exception.__init__(self, message)
        self.code = code
        self.message = message
        self.status = status


class Dropped(Exception):
    """Close the connection without an answer (fault)."""


def random_key_id(prefix):
    alphabet = string.ascii_uppercase + "234567"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(16))


def random_secret():
    return base64.b64encode(secrets.token_bytes(30)).decode()


def random_session_token():
    # Real session tokens are long base64 blobs with + / and = padding.
    while True:
        raw = secrets.token_bytes(secrets.choice(range(400, 700, 3)) + 1)
        tok = "IQoJb3JpZ2luX2VjE" + base64.b64encode(raw).decode()
        if "+" in tok and "/" in tok and tok.endswith("="):
            return tok


# ---- shared state -----------------------------------------------------------

class State:
    def __init__(self, scenario, log_path, pinned_now):
        self.sc = scenario
        self.pinned_now = pinned_now
        self.lock = threading.Lock()
        self.log_lock = threading.Lock()
        self.log_path = log_path
        # one os.write per line on an O_APPEND descriptor: no buffering in
        # this process, no fsync; a reader sees the line before the answer
        self.log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644) \
            if log_path else None
        self.log = []
        self.keys = dict(scenario.callers)  # access key -> credential record
        self.fault_hits = {}
        self.fault_rng = {}
        self.buckets = {}
        self.slack_received = []
        self.pings = []
        self.slack_attempts = 0
        self.slack_script_pos = 0
        self.imds_tokens = {}
        self.imds_creds = None
        self.stats = {"requests": 0, "verified": 0, "bad_signature": 0,
                      "unsigned": 0, "verified_botocore": 0, "verified_builtin": 0,
                      "verifier": "botocore" if fake_sigv4.HAVE_BOTOCORE else "builtin",
                      "connections": 0}
        # FAKE_AWS_VERIFIER=builtin forces the standard-library verifier
        self.prefer_botocore = os.environ.get("FAKE_AWS_VERIFIER", "") != "builtin"
        if not self.prefer_botocore:
            self.stats["verifier"] = "builtin"
        for i, f in enumerate(scenario.faults):
            self.fault_rng[i] = random.Random(f.get("seed", 1234 + i))

    def series_now(self):
        if self.pinned_now is not None:
            return int(self.pinned_now)
        return int(time.time())

    def write_log(self, entry):
        line = (_compact(entry) + "\n").encode("utf-8")
        with self.log_lock:
            self.log.append(entry)
            if self.log_fd is not None:
                os.write(self.log_fd, line)

    def close_log(self):
        with self.log_lock:
            if self.log_fd is not None:
                os.close(self.log_fd)
                self.log_fd = None

    def issue(self, account, arn, kind, duration, chained=False, role=None,
              access_key=None, secret=None, token=None):
        rec = {"access_key": access_key or random_key_id("ASIA"),
               "secret": secret or random_secret(),
               "token": token if token is not None else random_session_token(),
               "account": account, "arn": arn, "kind": kind,
               "user_id": "AROA" + hashlib.sha1(arn.encode()).hexdigest()[:17].upper(),
               "expires": int(time.time()) + int(duration) if duration else None,
               "chained": chained, "role": role}
        with self.lock:
            self.keys[rec["access_key"]] = rec
        return rec

    # Faults: a rule fires when its fields match and its trigger says so.
    def match_faults(self, service, action, account, region, access_key,
                     kinds=None, metric=None):
        """The rules that fire for this request (counting it for each rule
        that matches). IMDS and container rules must name their service."""
        out = []
        for i, f in enumerate(self.sc.faults):
            if service in ("imds", "container") and f.get("service") is None:
                continue
            if kinds is not None and f.get("kind") not in kinds:
                continue
            if kinds is None and f.get("kind") == "query_status":
                continue
            if not _fmatch(f.get("service"), service) or \
                    not _fmatch(f.get("action"), action) or \
                    not _fmatch(f.get("account"), account) or \
                    not _fmatch(f.get("region"), region) or \
                    not _fmatch(f.get("access_key"), access_key) or \
                    (f.get("metric") is not None and
                     not _fmatch(f.get("metric"), metric or "")):
                continue
            with self.lock:
                n = self.fault_hits.get(i, 0) + 1
                self.fault_hits[i] = n
                after = int(f.get("after", 0))
                count = f.get("count")
                if "nth" in f:
                    after = int(f["nth"]) - 1
                    count = 1
                if n <= after:
                    continue
                if count is not None and n > after + int(count):
                    continue
                every = int(f.get("every", 1))
                if every > 1 and (n - after) % every != 0:
                    continue
                p = f.get("probability")
                if p is not None and self.fault_rng[i].random() >= float(p):
                    continue
            out.append(f)
        return out

    def rate_ok(self, action, account, region):
        lim = self.sc.rate_limits.get(action)
        if not lim:
            return True
        if isinstance(lim, dict):
            tps = float(lim.get("tps", 1))
            burst = float(lim.get("burst", tps))
        else:
            tps = float(lim)
            burst = tps
        key = (action, account, region)
        now = time.monotonic()
        with self.lock:
            tokens, last = self.buckets.get(key, (burst, now))
            tokens = min(burst, tokens + (now - last) * tps)
            if tokens >= 1.0:
                self.buckets[key] = (tokens - 1.0, now)
                return True
            self.buckets[key] = (tokens, now)
            return False

    def latency(self, action):
        lat = self.sc.latency_ms
        if isinstance(lat, dict):
            lat = lat.get(action, lat.get("default", 0))
        return float(lat or 0) / 1000.0


def _fmatch(pattern, value):
    if pattern is None:
        return True
    if isinstance(pattern, list):
        return any(_fmatch(p, value) for p in pattern)
    return value is not None and fnmatch.fnmatchcase(str(value), str(pattern))


# ---- the request handler ------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-aws/1.0"
    sys_version = ""
    state = None  # set by make_server

    def setup(self):
        BaseHTTPRequestHandler.setup(self)
        with self.state.lock:
            self.state.stats["connections"] += 1
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, fmt, *args):  # quiet: the JSON log is the record
        pass

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_GET

    # -- plumbing --

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            total = 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(n) if n else b""

    def send_raw(self, status, body, ctype, headers=None, truncate=False):
        reason = self.responses.get(status, ("",))[0]
        lines = ["HTTP/1.1 %d %s" % (status, reason),
                 "Date: " + self.date_time_string(),
                 "Server: " + self.server_version,
                 "Content-Type: " + ctype,
                 "Content-Length: %d" % len(body)]
        for k, v in (headers or {}).items():
            lines.append("%s: %s" % (k, v))
        if truncate or self.close_connection:
            lines.append("Connection: close")
            self.close_connection = True
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        payload = body[: max(1, len(body) // 2)] if truncate else body
        if self.command == "HEAD":
            payload = b""
        try:
            self.wfile.write(head + payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def send_endless(self, ctx):
        """200 with a chunked body that never ends, until the client hangs up."""
        ctx["status"] = 200
        ctx["fault"] = "endless"
        self.state.write_log(_log_entry(ctx))
        self.close_connection = True
        chunk = b"%x\r\n%s\r\n" % (65536, b"7" * 65536)
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0"
                             b"\r\nTransfer-Encoding: chunked\r\n\r\n")
            while True:
                self.wfile.write(chunk)
        except OSError:
            pass

    def finish_request(self, ctx, status, body, ctype, headers=None, truncate=False):
        ctx["status"] = status
        if truncate:
            ctx["fault"] = ctx.get("fault") or "truncate"
        self.state.write_log(_log_entry(ctx))
        self.send_raw(status, body, ctype, headers, truncate)

    def dispatch(self):
        st = self.state
        ctx = {"ts": time.time(), "service": "unknown", "action": None,
               "account": None, "region": None, "access_key": None,
               "status": 0, "error_code": None, "signature": "unsigned",
               "verifier": None, "queries": 0, "body_len": 0, "fault": None,
               "metric": None}
        try:
            body = self.read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self.finish_request(ctx, 413, b"request body too large\n", "text/plain")
            return
        ctx["body_len"] = len(body)
        url = urlsplit(self.path)
        path = url.path
        try:
            if path.startswith("/_"):
                return self.admin(path, url.query, body)
            if path.startswith("/latest/"):
                ctx["service"] = "imds"
                return self.imds(ctx, path)
            cont = (st.sc.container or {}).get("path", "/container-credentials/")
            if st.sc.container is not None and (
                    path == cont or (cont.endswith("/") and path.startswith(cont))):
                ctx["service"] = "container"
                return self.container(ctx, path)
            if path.startswith("/slack/"):
                ctx["service"] = "slack"
                return self.slack(ctx, path, body)
            if path.startswith("/ping/"):
                # a heartbeat receiver (healthchecks.io style): GET /_pings lists them
                with st.lock:
                    st.pings.append({"method": self.command, "path": path,
                                     "query": url.query,
                                     "body": body.decode("utf-8", "replace")})
                self.send_raw(200, b"OK", "text/plain", None, False)
                return
            if path == "/federation/credentials":
                ctx["service"] = "sso"
                return self.sso_portal(ctx, url.query)
            if "/s3/aws4_request" in (self.headers.get("Authorization") or ""):
                ctx["service"] = "s3"
                if self.command == "PUT" and "metrics" not in url.query:
                    return self.s3_put_object(ctx, path, body)
                if self.command == "GET" and "metrics" not in url.query:
                    return self.s3_read(ctx, path, url.query, body)
                return self.s3(ctx, path, url.query, body)
            if self.command == "GET" and "%2Fs3%2Faws4_request" in url.query:
                ctx["service"] = "s3"
                return self.s3_presigned_get(ctx, path, url.query)
            target = self.headers.get("X-Amz-Target")
            if target is not None and target.startswith(ORG_TARGET_PREFIX):
                ctx["service"] = "organizations"
                return self.organizations(ctx, target, body)
            if target is not None:
                ctx["service"] = "cloudwatch"
                return self.cloudwatch(ctx, target, body)
            params = self.form_params(url.query, body)
            if "Action" in params:
                ctx["service"] = "sts"
                return self.sts(ctx, params, body)
            ctx["service"] = "none"
            self.finish_request(ctx, 404, b'{"message":"not found"}\n', "application/json")
        except Dropped:
            ctx["status"] = 0
            ctx["fault"] = "drop"
            st.write_log(_log_entry(ctx))
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        except Exception:  # a bug in the fake: answer 500 and say why on stderr
            traceback.print_exc()
            ctx["error_code"] = "InternalFailure"
            self.finish_request(ctx, 500, b'{"__type":"InternalFailure"}', CW_JSON)

    def form_params(self, query, body):
        ctype = (self.headers.get("Content-Type") or "").lower()
        params = {}
        if query:
            for k, v in parse_qs(query, keep_blank_values=True).items():
                params[k] = v[0]
        if body and "x-www-form-urlencoded" in ctype:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                return params
            for k, v in parse_qs(text, keep_blank_values=True).items():
                params[k] = v[0]
        return params

    # -- SigV4 --

    def authenticate(self, ctx, body, service):
        """Returns the credential record or raises ApiError."""
        st = self.state
        authz = self.headers.get("Authorization")
        if authz is None:
            ctx["signature"] = "unsigned"
            with st.lock:
                st.stats["unsigned"] += 1
            raise ApiError("MissingAuthenticationToken",
                           "Request is missing Authentication Token")
        try:
            auth = fake_sigv4.parse_authorization(authz)
        except fake_sigv4.AuthParseError as e:
            ctx["signature"] = "bad"
            raise ApiError("IncompleteSignature", str(e))
        ctx["access_key"] = auth.access_key
        ctx["region"] = auth.region
        amz_date = self.headers.get("X-Amz-Date")
        if not fake_sigv4.valid_amz_date(amz_date):
            ctx["signature"] = "bad"
            raise ApiError("IncompleteSignature",
                           "Authorization header requires existence of either a "
                           "'X-Amz-Date' or a 'Date' header.")
        if "host" not in auth.signed_headers or "x-amz-date" not in auth.signed_headers:
            ctx["signature"] = "bad"
            raise ApiError("SignatureDoesNotMatch",
                           "'Host' and 'X-Amz-Date' must be signed headers")
        with st.lock:
            cred = st.keys.get(auth.access_key)
        if cred is None:
            ctx["signature"] = "bad"
            raise ApiError("InvalidClientTokenId", MSG_BAD_TOKEN)
        if auth.service != service:
            ctx["signature"] = "bad"
            raise ApiError("SignatureDoesNotMatch",
                           "Credential should be scoped to correct service: '%s'. "
                           % service)
        if auth.date != amz_date[:8]:
            ctx["signature"] = "bad"
            raise ApiError("SignatureDoesNotMatch",
                           "Date in Credential scope does not match YYYYMMDD from "
                           "ISO-8601 version of date from HTTP: '%s' != '%s', from "
                           "'%s'." % (auth.date, amz_date[:8], amz_date))
        now = time.time()
        t = parse_amz_date(amz_date)
        skew = st.sc.clock_skew
        if t < now - skew:
            ctx["signature"] = "bad"
            raise ApiError("SignatureDoesNotMatch",
                           "Signature expired: %s is now earlier than %s (%s - %d min.)"
                           % (amz_date, amz_compact(now - skew), amz_compact(now),
                              skew // 60))
        if t > now + skew:
            ctx["signature"] = "bad"
            raise ApiError("SignatureDoesNotMatch",
                           "Signature not yet current: %s is still later than %s "
                           "(%s + %d min.)" % (amz_date, amz_compact(now + skew),
                                                amz_compact(now), skew // 60))
        headers = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        csha = headers.get("x-amz-content-sha256")
        if csha is not None and csha[0].strip() != hashlib.sha256(body).hexdigest():
            ctx["signature"] = "bad"
            raise ApiError("SignatureDoesNotMatch",
                           "The provided 'x-amz-content-sha256' header does not "
                           "match what was computed.")
        token_hdr = self.headers.get("X-Amz-Security-Token")
        sig, verifier = fake_sigv4.compute_signature(
            self.command, self.path, headers, body, auth, amz_date,
            auth.access_key, cred["secret"], token_hdr, st.prefer_botocore)
        ctx["verifier"] = verifier
        if not hmac.compare_digest(sig, auth.signature):
            ctx["signature"] = "bad"
            with st.lock:
                st.stats["bad_signature"] += 1
            raise ApiError("SignatureDoesNotMatch", MSG_SIG)
        ctx["signature"] = "ok"
        with st.lock:
            st.stats["verified"] += 1
            st.stats["verified_" + verifier] += 1
        if cred.get("token") is not None and token_hdr != cred["token"]:
            raise ApiError("InvalidClientTokenId", MSG_BAD_TOKEN)
        if cred.get("expires") is not None and time.time() >= cred["expires"]:
            raise ApiError("ExpiredToken", MSG_EXPIRED)
        ctx["account"] = cred["account"]
        return cred

    def common_faults(self, ctx, err_mapper):
        """Apply latency, rate limits and the scripted faults that act before
        the action runs. Returns (truncate, malformed) flags."""
        st = self.state
        delay = st.latency(ctx["action"])
        truncate = malformed = False
        for f in st.match_faults(ctx["service"], ctx["action"], ctx["account"],
                                 ctx["region"], ctx["access_key"],
                                 metric=ctx.get("metric")):
            kind = f.get("kind")
            ctx["fault"] = kind
            if kind == "slow":
                delay += float(f.get("delay_ms", 1000)) / 1000.0
                continue
            if kind == "drop":
                if delay:
                    time.sleep(delay)
                raise Dropped()
            if kind == "truncate":
                truncate = True
                continue
            if kind == "malformed":
                malformed = True
                continue
            if kind in ("loop_token", "endless", "json_bomb", "concurrent_write"):
                ctx["_" + kind] = f
                continue
            if kind == "echo_headers":
                # a proxy that quotes the request back in its error text
                tok = self.headers.get("X-Amz-Security-Token") or ""
                raise ApiError("AccessDenied", "request refused by proxy: the token %s "
                               "is not valid here; X-Amz-Security-Token: %s; "
                               "Authorization: %s" % (
                                   tok, tok, self.headers.get("Authorization") or ""),
                               int(f.get("status", 403)))
            if delay:
                time.sleep(delay)
            delay = 0
            if kind == "throttle":
                raise ApiError("Throttling", "Rate exceeded")
            if kind == "error":
                status = int(f.get("status", 500))
                if status in (502, 504):
                    raise ApiError("_html", "gateway", status)
                raise ApiError("ServiceUnavailable" if status == 503 else
                               "InternalFailure",
                               f.get("message", "Service Unavailable" if status == 503
                                     else "An internal error occurred"), status)
            if kind == "expired_token":
                with st.lock:
                    rec = st.keys.get(ctx["access_key"])
                    if rec is not None and rec["kind"] != "caller":
                        rec["expires"] = int(time.time())
                raise ApiError("ExpiredToken", MSG_EXPIRED)
            if kind == "access_denied":
                raise err_mapper("access_denied", f)
            if kind == "region_disabled":
                raise err_mapper("region_disabled", f)
            if kind == "invalid_token":
                raise ApiError("InvalidClientTokenId", MSG_BAD_TOKEN)
        if ctx["action"] and not st.rate_ok(ctx["action"], ctx["account"], ctx["region"]):
            ctx["fault"] = "rate_limit"
            if delay:
                time.sleep(delay)
            raise ApiError("Throttling", "Rate exceeded")
        if delay:
            time.sleep(delay)
        return truncate, malformed

    # -- CloudWatch --

    def cw_error(self, ctx, e):
        if e.code == "_html":
            ctx["error_code"] = str(e.status)
            body = ("<html><body><b>Http/1.1 %d</b></body></html>" % e.status).encode()
            self.finish_request(ctx, e.status, body, "text/html")
            return
        status, typ, side = CW_ERRORS.get(e.code, (400, "com.amazon.coral.service#" + e.code,
                                                   "Sender"))
        if e.status:
            status = e.status
        ctx["error_code"] = e.code
        body = json.dumps({"__type": typ, "message": e.message}).encode()
        self.finish_request(ctx, status, body, CW_JSON, {
            "x-amzn-RequestId": str(uuid.uuid4()),
            "x-amzn-query-error": "%s;%s" % (e.code, side)})

    def cloudwatch(self, ctx, target, body):
        st = self.state
        action = target[len(CW_TARGET_PREFIX):] if target.startswith(CW_TARGET_PREFIX) else None
        ctx["action"] = action or target

        def mapper(kind, f):
            if kind == "access_denied":
                cred = st.keys.get(ctx["access_key"]) or {}
                return ApiError("AccessDenied", f.get(
                    "message", "User: %s is not authorized to perform: cloudwatch:%s "
                    "because no identity-based policy allows the cloudwatch:%s action"
                    % (cred.get("arn", "unknown"), action, action)))
            return ApiError("InvalidClientTokenId", MSG_BAD_TOKEN)

        try:
            cred = self.authenticate(ctx, body, "monitoring")
            if action not in ("GetMetricData", "ListMetrics", "GetMetricStatistics"):
                raise ApiError("UnknownOperationException", "")
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if ctype != CW_JSON:
                raise ApiError("SerializationException",
                               "expected Content-Type %s, got %r" % (CW_JSON, ctype))
            try:
                req = json.loads(body.decode("utf-8")) if body else {}
            except (UnicodeDecodeError, ValueError):
                raise ApiError("SerializationException", "body is not valid JSON")
            if not isinstance(req, dict):
                raise ApiError("SerializationException", "body must be a JSON object")
            if action == "GetMetricData" and isinstance(req.get("MetricDataQueries"), list):
                ctx["queries"] = len(req["MetricDataQueries"])
            ctx["metric"] = _request_metric(action, req)
            truncate, malformed = self.common_faults(ctx, mapper)
            if ctx.pop("_endless", False):
                return self.send_endless(ctx)
            bomb = ctx.pop("_json_bomb", None)
            if bomb is not None:
                # valid JSON that costs a parser ~80x its size: {},{},{},...
                n = int(float(bomb.get("size_mb", 40)) * (1 << 20)) // 3
                out = RawJSON("")
                out.data = b'{"MetricDataResults":[' + b"{}," * (n - 1) + b"{}]}"
            elif ctx.pop("_loop_token", False) and action in ("GetMetricData", "ListMetrics"):
                # the same NextToken, whatever token the request sent
                out = RawJSON(('{"MetricDataResults":[],"Messages":[],"NextToken":"%s"}'
                               if action == "GetMetricData" else
                               '{"Metrics":[],"NextToken":"%s"}') % LOOP_TOKEN)
            elif action == "GetMetricData":
                out = self.get_metric_data(ctx, cred, req)
            elif action == "ListMetrics":
                out = self.list_metrics(ctx, cred, req)
            else:
                out = self.get_metric_statistics(ctx, cred, req)
        except ApiError as e:
            return self.cw_error(ctx, e)
        data = out.data if isinstance(out, RawJSON) else _compact(out).encode()
        if malformed:
            data = data[: max(1, len(data) // 3)] + b'"\x00,,]'
        self.finish_request(ctx, 200, data, CW_JSON,
                            {"x-amzn-RequestId": str(uuid.uuid4())}, truncate)

    def _time_param(self, req, name):
        v = req.get(name)
        if v is None:
            raise ApiError("MissingParameter", "The parameter %s is required." % name)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ApiError("SerializationException",
                           "%s must be a number of epoch seconds" % name)
        return v

    def get_metric_data(self, ctx, cred, req):
        st = self.state
        sc = st.sc
        qs = req.get("MetricDataQueries")
        if not isinstance(qs, list) or not qs:
            raise ApiError("ValidationError",
                           "1 validation error detected: Value null at "
                           "'metricDataQueries' failed to satisfy constraint: "
                           "Member must not be null")
        if len(qs) > GMD_MAX_QUERIES:
            raise ApiError("ValidationError",
                           "The collection MetricDataQueries must not have a size "
                           "greater than %d." % GMD_MAX_QUERIES)
        start = self._time_param(req, "StartTime")
        end = self._time_param(req, "EndTime")
        if start >= end:
            raise ApiError("ValidationError",
                           "The parameter StartTime must be less than the parameter "
                           "EndTime.")
        scan = req.get("ScanBy", "TimestampDescending")
        if scan not in ("TimestampDescending", "TimestampAscending"):
            raise ApiError("ValidationError",
                           "1 validation error detected: Value '%s' at 'scanBy' failed "
                           "to satisfy constraint: Member must satisfy enum value set: "
                           "[TimestampDescending, TimestampAscending]" % scan)
        maxdp = req.get("MaxDatapoints")
        if maxdp is not None and (not isinstance(maxdp, int) or maxdp < 1):
            raise ApiError("ValidationError", "MaxDatapoints must be a positive integer")
        ids = set()
        parsed = []
        requested = 0
        span = end - start
        npoints = {}  # period -> ceil((end - start) / period)
        for n, q in enumerate(qs, 1):
            if not isinstance(q, dict):
                raise ApiError("SerializationException", "query %d is not an object" % n)
            qid = q.get("Id")
            if not isinstance(qid, str) or not ID_RE.match(qid) or len(qid) > 255:
                raise ApiError("ValidationError",
                               "Invalid metric data query id: %s. The id must start "
                               "with a lowercase letter and contain only letters, "
                               "numbers and underscores." % qid)
            if qid in ids:
                raise ApiError("ValidationError",
                               "The values for parameter id in MetricDataQueries are "
                               "not unique.")
            ids.add(qid)
            ms = q.get("MetricStat")
            if "Expression" in q or not isinstance(ms, dict):
                raise ApiError("ValidationError",
                               "The parameter MetricDataQueries.member.%d.MetricStat is "
                               "required (this fake serves MetricStat queries only)." % n)
            m = ms.get("Metric") or {}
            period = ms.get("Period")
            stat = ms.get("Stat")
            if not isinstance(period, int) or isinstance(period, bool) or period < 1 or \
                    (period % 60 != 0 and period not in (1, 5, 10, 30)):
                raise ApiError("ValidationError",
                               "The parameter MetricDataQueries.member.%d.MetricStat."
                               "Period must be a multiple of 60." % n)
            if not isinstance(stat, str) or not STAT_RE.match(stat):
                raise ApiError("ValidationError",
                               "The value %s for parameter MetricDataQueries.member.%d."
                               "MetricStat.Stat is not supported." % (stat, n))
            if not m.get("Namespace") or not m.get("MetricName"):
                raise ApiError("ValidationError",
                               "The parameter MetricDataQueries.member.%d.MetricStat."
                               "Metric must have Namespace and MetricName." % n)
            dims = m.get("Dimensions") or []
            dkey = _dims_key(dims)
            if dkey is None:
                raise ApiError("ValidationError",
                               "The parameter MetricDataQueries.member.%d.MetricStat."
                               "Metric.Dimensions is invalid." % n)
            k = npoints.get(period)
            if k is None:
                k = npoints[period] = int(math.ceil(span / float(period)))
            requested += k
            parsed.append((q, m, period, stat, ms.get("Unit"), dkey))
        page = int(sc.cloudwatch.get("page_size") or GMD_MAX_DATAPOINTS)
        if requested > GMD_MAX_DATAPOINTS:
            if sc.cloudwatch.get("datapoint_limit", "error") == "error":
                raise ApiError("ValidationError",
                               "You have requested up to %d datapoints, which exceeds "
                               "the limit of %d. You may reduce the datapoints "
                               "requested by increasing Period, or decreasing the "
                               "time range." % (requested, GMD_MAX_DATAPOINTS))
        page = min(page, GMD_MAX_DATAPOINTS, maxdp or GMD_MAX_DATAPOINTS)
        offset = 0
        reqhash = None
        if req.get("NextToken") is not None:
            reqhash = _req_hash(req, cred["account"], ctx["region"])
            offset = _decode_token(req["NextToken"], reqhash)
        now = st.series_now()
        # Round StartTime down as CloudWatch does (by age of the start).
        age = now - start
        rnd = 60 if age <= 15 * 86400 else (300 if age <= 63 * 86400 else 3600)
        start_r = int(start) - int(start) % rnd if all(p[2] >= 60 for p in parsed) else int(start)
        end_i = int(math.ceil(end))
        status_faults = st.match_faults("cloudwatch", "GetMetricData", cred["account"],
                                        ctx["region"], ctx["access_key"],
                                        kinds=("query_status",)) \
            if any(f.get("kind") == "query_status" for f in sc.faults) else []
        metrics = sc.metric_map(cred["account"], ctx["region"])
        metric_key = fake_scenario.metric_key
        descending = scan == "TimestampDescending"
        # Each query's datapoints come as JSON text (cached for complete
        # days); only an answer that is one page of several slices lists.
        results = []
        total = 0
        for q, m, period, stat, unit, dims in parsed:
            if q.get("ReturnData") is False:
                continue
            label = q.get("Label") or m["MetricName"]
            forced = None
            drop_newest = 0
            for f in status_faults:
                bucket = dict(dims).get("BucketName")
                if _fmatch(f.get("bucket"), bucket) and _fmatch(f.get("query_id"), q["Id"]):
                    forced = f.get("status_code", "Forbidden")
                    drop_newest = int(f.get("drop_newest", 0))
            npts, text, s = 0, EMPTY_POINTS, None
            if forced in (None, "PartialData"):
                s = metrics.get(metric_key(m["Namespace"], m["MetricName"], dims))
                if s is not None and (unit is None or unit == s.unit):
                    npts, text = sc.points_json(s, now, start_r, end_i, period, stat,
                                                descending)
                    if drop_newest > 0:
                        # PartialData that leaves out the newest datapoints
                        pts = sc.aggregate(s, now, start_r, end_i, period, stat)
                        pts = pts[:max(0, len(pts) - drop_newest)]
                        if descending:
                            pts.reverse()
                        npts = len(pts)
                        text = '"Timestamps":%s,"Values":%s' % (
                            _compact([t for t, _ in pts]), _compact([v for _, v in pts]))
                else:
                    s = None
            total += npts
            results.append((q["Id"], label, npts, text, forced, s, period, stat))
        limit = offset + page
        paged = offset > 0 or total > limit
        parts = []
        pos = 0
        for qid, label, npts, text, forced, s, period, stat in results:
            done = True
            if paged:
                lo = max(0, offset - pos)
                hi = max(0, min(npts, limit - pos))
                text = EMPTY_POINTS
                if lo < hi:
                    pts = sc.aggregate(s, now, start_r, end_i, period, stat)
                    if descending:
                        pts.reverse()
                    chunk = pts[lo:hi]
                    text = '"Timestamps":%s,"Values":%s' % (
                        _compact([t for t, _ in chunk]), _compact([v for _, v in chunk]))
                done = pos + npts <= limit
            pos += npts
            code = "Complete" if done else "PartialData"
            extra = ""
            if forced in ("Forbidden", "InternalError"):
                code = forced
                extra = ',"Messages":' + _compact([{
                    "Code": forced, "Value": "%s: the fake's scenario withholds this "
                    "metric" % forced}])
            elif forced == "PartialData":
                code = "PartialData"
            parts.append('{"Id":%s,"Label":%s,%s,"StatusCode":%s%s}'
                         % (_js(qid), _js(label), text, _js(code), extra))
        tail = ""
        if pos > limit:
            if reqhash is None:
                reqhash = _req_hash(req, cred["account"], ctx["region"])
            tail = ',"NextToken":' + _js(_encode_token(reqhash, limit))
        return RawJSON('{"MetricDataResults":[%s],"Messages":[]%s}'
                       % (",".join(parts), tail))

    def list_metrics(self, ctx, cred, req):
        sc = self.state.sc
        ns = req.get("Namespace")
        name = req.get("MetricName")
        filters = req.get("Dimensions") or []
        if not isinstance(filters, list) or len(filters) > 10 or any(
                not isinstance(f, dict) or "Name" not in f for f in filters):
            raise ApiError("InvalidParameterValue",
                           "The parameter Dimensions must be a list of at most 10 "
                           "filters with a Name.")
        recent = req.get("RecentlyActive")
        if recent is not None and recent != "PT3H":
            raise ApiError("ValidationError",
                           "1 validation error detected: Value '%s' at 'recentlyActive' "
                           "failed to satisfy constraint: Member must satisfy enum "
                           "value set: [PT3H]" % recent)
        offset = 0
        if req.get("NextToken") is not None:
            offset = _decode_token(req["NextToken"],
                                   _req_hash(req, cred["account"], ctx["region"]))
        fkey = tuple((f["Name"], f.get("Value")) for f in filters)
        found = sc.listed(cred["account"], ctx["region"], ns, name, fkey,
                          1 if recent else 14)
        page = int(sc.cloudwatch.get("list_page_size") or LIST_PAGE)
        page = max(1, min(page, LIST_PAGE))
        chunk = found[offset: offset + page]
        tail = ""
        if offset + page < len(found):
            tail = ',"NextToken":' + _js(_encode_token(
                _req_hash(req, cred["account"], ctx["region"]), offset + page))
        return RawJSON('{"Metrics":[%s]%s}' % (",".join(x.listing_json() for x in chunk),
                                               tail))

    def get_metric_statistics(self, ctx, cred, req):
        st = self.state
        for p in ("Namespace", "MetricName", "StartTime", "EndTime", "Period"):
            if req.get(p) is None:
                raise ApiError("MissingParameter", "The parameter %s is required." % p)
        start = self._time_param(req, "StartTime")
        end = self._time_param(req, "EndTime")
        period = req["Period"]
        if not isinstance(period, int) or period < 1 or \
                (period % 60 != 0 and period not in (1, 5, 10, 30)):
            raise ApiError("InvalidParameterValue",
                           "The parameter Period must be a multiple of 60.")
        stats = req.get("Statistics") or []
        ext = req.get("ExtendedStatistics") or []
        if not stats and not ext:
            raise ApiError("InvalidParameterCombination",
                           "Must specify either Statistics or ExtendedStatistics")
        for s in stats:
            if s not in ("Sum", "Average", "Minimum", "Maximum", "SampleCount"):
                raise ApiError("InvalidParameterValue",
                               "The parameter Statistics.member.1 must be a value in "
                               "the set [ Maximum, Sum, SampleCount, Average, Minimum ].")
        for s in ext:
            if not STAT_RE.match(s) or not s.startswith("p"):
                raise ApiError("InvalidParameterValue",
                               "The parameter ExtendedStatistics is invalid: %s" % s)
        if start >= end:
            raise ApiError("InvalidParameterValue",
                           "The parameter StartTime must be less than the parameter "
                           "EndTime.")
        npts = int(math.ceil((end - start) / float(period)))
        if npts > GMS_MAX_DATAPOINTS:
            raise ApiError("InvalidParameterCombination",
                           "You have requested up to %d datapoints, which exceeds the "
                           "limit of %d. You may reduce the datapoints requested by "
                           "increasing Period, or decreasing the time range."
                           % (npts, GMS_MAX_DATAPOINTS))
        dims = req.get("Dimensions") or []
        dkey = tuple((d.get("Name"), d.get("Value")) for d in dims)
        s = st.sc.lookup(cred["account"], ctx["region"], req["Namespace"],
                         req["MetricName"], dkey)
        out = {"Label": req["MetricName"], "Datapoints": []}
        unit = req.get("Unit")
        if s is None or (unit is not None and unit != s.unit):
            return out
        now = st.series_now()
        start_i, end_i = int(start), int(math.ceil(end))
        per_stat = {}
        for stat in list(stats) + list(ext):
            per_stat[stat] = dict(st.sc.aggregate(s, now, start_i, end_i, period, stat))
        times = sorted(set().union(*[set(v) for v in per_stat.values()]))
        for t in times:
            dp = {"Timestamp": t}
            for stat in stats:
                if t in per_stat[stat]:
                    dp[stat] = per_stat[stat][t]
            if ext:
                dp["ExtendedStatistics"] = {e: per_stat[e][t] for e in ext
                                            if t in per_stat[e]}
            dp["Unit"] = s.unit
            out["Datapoints"].append(dp)
        return out

    # -- STS --

    def sts_error(self, ctx, e):
        if e.code == "_html":
            ctx["error_code"] = str(e.status)
            body = ("<html><body><b>Http/1.1 %d</b></body></html>" % e.status).encode()
            self.finish_request(ctx, e.status, body, "text/html")
            return
        status, typ = STS_ERRORS.get(e.code, (400, "Sender"))
        if e.status:
            status = e.status
        ctx["error_code"] = e.code
        rid = str(uuid.uuid4())
        body = ('<ErrorResponse xmlns="%s">\n  <Error>\n    <Type>%s</Type>\n'
                '    <Code>%s</Code>\n    <Message>%s</Message>\n  </Error>\n'
                '  <RequestId>%s</RequestId>\n</ErrorResponse>\n'
                % (STS_NS, typ, xml_escape(e.code), xml_escape(e.message), rid))
        self.finish_request(ctx, status, body.encode(), "text/xml",
                            {"x-amzn-RequestId": rid})

    def sts(self, ctx, params, body):
        st = self.state
        action = params.get("Action")
        ctx["action"] = action
        role_arn = params.get("RoleArn") or ""
        parts = role_arn.split(":")
        target_account = parts[4] if len(parts) >= 6 else None

        def mapper(kind, f):
            if kind == "region_disabled":
                return ApiError("RegionDisabledException", f.get(
                    "message", "STS is not activated in this region for account:%s. "
                    "Your account administrator can activate STS in this region "
                    "using the IAM Console." % (ctx.get("caller_account") or "")))
            cred = st.keys.get(ctx["access_key"] or "") or {}
            return ApiError("AccessDenied", f.get(
                "message", "User: %s is not authorized to perform: sts:%s on "
                "resource: %s" % (cred.get("arn", "unknown"), action, role_arn)))

        try:
            if action not in ("AssumeRole", "AssumeRoleWithWebIdentity",
                              "GetCallerIdentity"):
                raise ApiError("InvalidAction",
                               "Could not find operation %s for version %s"
                               % (action, params.get("Version")))
            if params.get("Version") != "2011-06-15":
                raise ApiError("InvalidAction", "Could not find operation %s for "
                               "version %s" % (action, params.get("Version")))
            cred = None
            if action == "AssumeRoleWithWebIdentity":
                ctx["region"] = _region_from_host(self.headers.get("Host"))
            else:
                cred = self.authenticate(ctx, body, "sts")
                ctx["caller_account"] = cred["account"]
            if action != "GetCallerIdentity" and target_account:
                ctx["account"] = target_account
            truncate, malformed = self.common_faults(ctx, mapper)
            if action == "AssumeRole":
                xml = self.assume_role(ctx, cred, params)
            elif action == "AssumeRoleWithWebIdentity":
                xml = self.assume_role_web(ctx, params)
            else:
                xml = self.caller_identity(cred)
        except ApiError as e:
            return self.sts_error(ctx, e)
        data = xml.encode()
        if malformed:
            data = data[: len(data) // 2]
        self.finish_request(ctx, 200, data, "text/xml",
                            {"x-amzn-RequestId": str(uuid.uuid4())}, truncate)

    def _check_session_params(self, params, chained, role):
        name = params.get("RoleSessionName")
        if name is None:
            raise ApiError("ValidationError",
                           "1 validation error detected: Value null at "
                           "'roleSessionName' failed to satisfy constraint: Member "
                           "must not be null")
        _check_len_pattern(name, "roleSessionName", 2, 64, SESSION_RE,
                           r"[\w+=,.@-]*")
        ext = params.get("ExternalId")
        if ext is not None:
            _check_len_pattern(ext, "externalId", 2, 1224, EXTID_RE,
                               r"[\w+=,.@:\/-]*")
        dur = params.get("DurationSeconds")
        duration = 3600
        if dur is not None:
            try:
                duration = int(dur)
            except ValueError:
                raise ApiError("MalformedInput", "DurationSeconds: %r is not an "
                               "integer" % dur)
            if duration < 900:
                raise ApiError("ValidationError",
                               "1 validation error detected: Value '%d' at "
                               "'durationSeconds' failed to satisfy constraint: "
                               "Member must have value greater than or equal to 900"
                               % duration)
            if duration > 43200:
                raise ApiError("ValidationError",
                               "1 validation error detected: Value '%d' at "
                               "'durationSeconds' failed to satisfy constraint: "
                               "Member must have value less than or equal to 43200"
                               % duration)
        return name, ext, duration

    def assume_role(self, ctx, cred, params):
        st = self.state
        arn = params.get("RoleArn")
        if arn is None:
            raise ApiError("ValidationError",
                           "1 validation error detected: Value null at 'roleArn' "
                           "failed to satisfy constraint: Member must not be null")
        if len(arn) < 20 or len(arn) > 2048:
            raise ApiError("ValidationError",
                           "1 validation error detected: Value '%s' at 'roleArn' "
                           "failed to satisfy constraint: Member must have length "
                           "greater than or equal to 20" % arn)
        if not re.match(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$", arn):
            raise ApiError("ValidationError", "%s is invalid" % arn)
        chained = cred["kind"] == "assumed"
        name, ext, duration = self._check_session_params(params, chained, None)
        role = st.sc.get_role(arn)
        denied = "User: %s is not authorized to perform: sts:AssumeRole on " \
                 "resource: %s" % (cred["arn"], arn)
        if role is None or role.deny:
            raise ApiError("AccessDenied", denied)
        if not _trusted(role, cred):
            raise ApiError("AccessDenied", denied)
        if role.external_id is not None and ext != role.external_id:
            raise ApiError("AccessDenied", denied)
        if chained and duration > 3600:
            raise ApiError("ValidationError",
                           "The requested DurationSeconds exceeds the 1 hour session "
                           "limit for roles assumed by role chaining.")
        if duration > role.max_session_duration:
            raise ApiError("ValidationError",
                           "The requested DurationSeconds exceeds the MaxSessionDuration "
                           "set for this role.")
        sess_arn = "arn:aws:sts::%s:assumed-role/%s/%s" % (role.account, role.name, name)
        rec = st.issue(role.account, sess_arn, "assumed", duration, chained, arn)
        role_id = "AROA" + hashlib.sha1(arn.encode()).hexdigest()[:17].upper()
        return _sts_creds_xml("AssumeRole", rec, sess_arn, role_id + ":" + name,
                              extra="    <PackedPolicySize>6</PackedPolicySize>\n")

    def assume_role_web(self, ctx, params):
        st = self.state
        arn = params.get("RoleArn") or ""
        token = params.get("WebIdentityToken")
        if token is None:
            raise ApiError("ValidationError",
                           "1 validation error detected: Value null at "
                           "'webIdentityToken' failed to satisfy constraint: Member "
                           "must not be null")
        name, _, duration = self._check_session_params(params, False, None)
        entry = None
        for w in st.sc.web_identity:
            if w.get("role_arn") == arn:
                entry = w
        if entry is None:
            raise ApiError("AccessDenied",
                           "Not authorized to perform sts:AssumeRoleWithWebIdentity")
        if token.strip() != str(entry.get("token", "")).strip():
            raise ApiError("InvalidIdentityToken",
                           "The web identity token that was passed could not be "
                           "validated by AWS. Get a new identity token from the "
                           "identity provider and then retry the request.")
        acct = arn.split(":")[4]
        ctx["account"] = acct
        role_name = arn.split("/")[-1]
        sess_arn = "arn:aws:sts::%s:assumed-role/%s/%s" % (acct, role_name, name)
        rec = st.issue(acct, sess_arn, "assumed", duration, False, arn)
        role_id = "AROA" + hashlib.sha1(arn.encode()).hexdigest()[:17].upper()
        extra = ("    <SubjectFromWebIdentityToken>%s</SubjectFromWebIdentityToken>\n"
                 "    <Audience>%s</Audience>\n    <Provider>%s</Provider>\n"
                 % (xml_escape(entry.get("subject", "system:serviceaccount:cwsweep:cwsweep")),
                    xml_escape(entry.get("audience", "sts.amazonaws.com")),
                    xml_escape(entry.get("provider", "oidc.example.com"))))
        return _sts_creds_xml("AssumeRoleWithWebIdentity", rec, sess_arn,
                              role_id + ":" + name, extra=extra)

    def caller_identity(self, cred):
        return ('<GetCallerIdentityResponse xmlns="%s">\n'
                '  <GetCallerIdentityResult>\n    <Arn>%s</Arn>\n'
                '    <UserId>%s</UserId>\n    <Account>%s</Account>\n'
                '  </GetCallerIdentityResult>\n  <ResponseMetadata>\n'
                '    <RequestId>%s</RequestId>\n  </ResponseMetadata>\n'
                '</GetCallerIdentityResponse>\n'
                % (STS_NS, xml_escape(cred["arn"]), xml_escape(cred["user_id"]),
                   cred["account"], uuid.uuid4()))

    # -- IMDSv2 and container credentials --

    def _instance_creds(self, conf, kind):
        """The credential record IMDS/container hand out (re-issued when it
        has less than 5 minutes left)."""
        st = self.state
        acct = str(conf.get("account", "000000000000"))
        arn = conf.get("role_arn") or "arn:aws:iam::%s:role/%s" % (
            acct, conf.get("role", "cwsweep-instance"))
        with st.lock:
            cur = st.imds_creds if kind == "imds" else getattr(st, "container_creds", None)
        if cur is not None and (cur["expires"] is None or cur["expires"] - time.time() > 300):
            return cur
        dur = int(conf.get("expiration_seconds", 21600))
        sess_arn = "arn:aws:sts::%s:assumed-role/%s/%s" % (
            acct, arn.split("/")[-1], "i-0fake0instance0id" if kind == "imds" else "task")
        rec = st.issue(acct, sess_arn, kind, dur, False, arn,
                       access_key=conf.get("access_key"), secret=conf.get("secret_key"),
                       token=conf.get("session_token"))
        with st.lock:
            if kind == "imds":
                st.imds_creds = rec
            else:
                st.container_creds = rec
        return rec

    def imds(self, ctx, path):
        st = self.state
        conf = st.sc.imds
        ctype = "text/plain"
        if conf is None:
            ctx["action"] = "disabled"
            return self.finish_request(ctx, 404, b"Not Found", ctype)
        if self.headers.get("X-Forwarded-For"):
            ctx["action"] = "forwarded"
            return self.finish_request(ctx, 403, b"Forbidden", ctype)
        if path == "/latest/api/token":
            ctx["action"] = "token"
            if self.command != "PUT":
                return self.finish_request(ctx, 405, b"Method Not Allowed", ctype)
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
            try:
                ttl_i = int(ttl)
            except (TypeError, ValueError):
                ttl_i = 0
            if not 1 <= ttl_i <= 21600:
                return self.finish_request(ctx, 400, b"Bad Request", ctype)
            tok = base64.urlsafe_b64encode(secrets.token_bytes(42)).decode()
            with st.lock:
                st.imds_tokens[tok] = time.time() + ttl_i
            for f in st.match_faults("imds", "token", None, None, None,
                                     kinds=("error",)):
                if f.get("kind") == "error":
                    return self.finish_request(ctx, int(f.get("status", 500)),
                                               b"Internal Error", ctype)
            return self.finish_request(ctx, 200, tok.encode(), ctype,
                                       {"X-aws-ec2-metadata-token-ttl-seconds": str(ttl_i)})
        ctx["action"] = "metadata"
        if self.command != "GET":
            return self.finish_request(ctx, 405, b"Method Not Allowed", ctype)
        tok = self.headers.get("X-aws-ec2-metadata-token")
        if tok is None:
            if conf.get("token_required", True):
                return self.finish_request(ctx, 401, b"Unauthorized", ctype)
        else:
            with st.lock:
                exp = st.imds_tokens.get(tok)
            if exp is None or exp < time.time():
                return self.finish_request(ctx, 401, b"Unauthorized", ctype)
        role = conf.get("role", "cwsweep-instance")
        prefix = "/latest/meta-data/iam/security-credentials/"
        region = conf.get("region", "us-east-1")
        if path in (prefix, prefix[:-1]):
            ctx["action"] = "roles"
            return self.finish_request(ctx, 200, role.encode(), ctype)
        if path == prefix + role:
            ctx["action"] = "credentials"
            for f in st.match_faults("imds", "credentials", None, None, None,
                                     kinds=("error",)):
                if f.get("kind") == "error":
                    return self.finish_request(ctx, int(f.get("status", 500)),
                                               b"Internal Error", ctype)
            rec = self._instance_creds(conf, "imds")
            ctx["account"] = rec["account"]
            ctx["access_key"] = rec["access_key"]
            body = {"Code": "Success", "LastUpdated": iso8601(time.time()),
                    "Type": "AWS-HMAC", "AccessKeyId": rec["access_key"],
                    "SecretAccessKey": rec["secret"], "Token": rec["token"],
                    "Expiration": iso8601(rec["expires"] or time.time() + 21600)}
            return self.finish_request(ctx, 200, json.dumps(body, indent=2).encode(), ctype)
        if path == "/latest/meta-data/placement/region":
            return self.finish_request(ctx, 200, region.encode(), ctype)
        if path == "/latest/dynamic/instance-identity/document":
            doc = {"accountId": str(conf.get("account", "000000000000")),
                   "region": region, "instanceId": "i-0fake0instance0id",
                   "availabilityZone": region + "a"}
            return self.finish_request(ctx, 200, json.dumps(doc, indent=2).encode(),
                                       "application/json")
        return self.finish_request(ctx, 404, b"Not Found", ctype)

    def container(self, ctx, path):
        st = self.state
        conf = st.sc.container
        ctx["action"] = "credentials"
        want = conf.get("authorization")
        if want is not None:
            got = self.headers.get("Authorization")
            if got is None:
                return self.finish_request(ctx, 401, json.dumps(
                    {"code": "Unauthorized", "message": "missing authorization token"})
                    .encode(), "application/json")
            if got != want:
                return self.finish_request(ctx, 403, json.dumps(
                    {"code": "AccessDenied", "message": "invalid authorization token"})
                    .encode(), "application/json")
        for f in st.match_faults("container", "credentials", None, None, None,
                                     kinds=("error",)):
            if f.get("kind") == "error":
                return self.finish_request(ctx, int(f.get("status", 500)),
                                           b'{"code":"InternalError"}', "application/json")
        rec = self._instance_creds(conf, "container")
        ctx["account"] = rec["account"]
        ctx["access_key"] = rec["access_key"]
        body = {"RoleArn": rec["role"], "AccessKeyId": rec["access_key"],
                "SecretAccessKey": rec["secret"], "Token": rec["token"],
                "Expiration": iso8601(rec["expires"] or time.time() + 21600)}
        return self.finish_request(ctx, 200, json.dumps(body).encode(), "application/json")

    # -- Organizations (AWS JSON 1.1) --

    def org_error(self, ctx, e):
        if e.code == "_html":
            return self.cw_error(ctx, e)
        ctx["error_code"] = e.code
        status = e.status or (403 if e.code in ("SignatureDoesNotMatch",
                                                  "IncompleteSignature",
                                                  "MissingAuthenticationToken",
                                                  "InvalidClientTokenId") else 400)
        code = {"Throttling": "TooManyRequestsException",
                "ExpiredToken": "ExpiredTokenException",
                "InvalidClientTokenId": "UnrecognizedClientException",
                "SignatureDoesNotMatch": "InvalidSignatureException"}.get(e.code, e.code)
        body = json.dumps({"__type": code, "Message": e.message}).encode()
        self.finish_request(ctx, status, body, ORG_JSON,
                            {"x-amzn-RequestId": str(uuid.uuid4())})

    def organizations(self, ctx, target, body):
        """ListAccounts, ListAccountsForParent, ListChildren, ListRoots over
        scenario "organizations": {"management_account", "root", "page_size",
        "ous": [{"id", "name", "parent"}], "accounts": [{"id", "name",
        "status", "parent"}], "repeat_token"}.  Only the management account's
        credentials may list (others: AccessDeniedException)."""
        st = self.state
        org = st.sc.organizations
        action = target[len(ORG_TARGET_PREFIX):]
        ctx["action"] = action

        def mapper(kind, f):
            return ApiError("AccessDeniedException", f.get(
                "message", "You don't have permissions to access this resource."))
        try:
            cred = self.authenticate(ctx, body, "organizations")
            if ctx["region"] != "us-east-1":
                raise ApiError("InvalidSignatureException",
                               "Credential should be scoped to a valid region. ")
            if action not in ("ListAccounts", "ListAccountsForParent", "ListChildren",
                              "ListRoots"):
                raise ApiError("UnknownOperationException", "")
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if ctype != ORG_JSON:
                raise ApiError("SerializationException",
                               "expected Content-Type %s, got %r" % (ORG_JSON, ctype))
            try:
                req = json.loads(body.decode("utf-8")) if body else {}
            except (UnicodeDecodeError, ValueError):
                raise ApiError("SerializationException", "body is not valid JSON")
            if not isinstance(req, dict):
                raise ApiError("SerializationException", "body must be a JSON object")
            self.common_faults(ctx, mapper)
            if org is None:
                raise ApiError("AWSOrganizationsNotInUseException",
                               "Your account is not a member of an organization.")
            if cred["account"] != str(org.get("management_account")):
                raise ApiError("AccessDeniedException",
                               "You don't have permissions to access this resource.")
            out = self.org_list(action, req, org)
        except ApiError as e:
            return self.org_error(ctx, e)
        self.finish_request(ctx, 200, json.dumps(out).encode(), ORG_JSON,
                            {"x-amzn-RequestId": str(uuid.uuid4())})

    def org_list(self, action, req, org):
        root = org.get("root", "r-f4k3")
        ous = org.get("ous", [])
        accts = org.get("accounts", [])
        parents = {root} | {o["id"] for o in ous}
        parent = req.get("ParentId")
        if action in ("ListAccountsForParent", "ListChildren"):
            if not isinstance(parent, str):
                raise ApiError("InvalidInputException",
                               "You provided a value that does not match the required "
                               "pattern.")
            if parent not in parents:
                raise ApiError("ParentNotFoundException",
                               "We can't find a root or OU with the ParentId that you "
                               "specified.")
        if action == "ListAccounts":
            items, key = accts, "Accounts"
        elif action == "ListAccountsForParent":
            items, key = [a for a in accts if a.get("parent", root) == parent], "Accounts"
        elif action == "ListChildren":
            ct = req.get("ChildType")
            if ct not in ("ACCOUNT", "ORGANIZATIONAL_UNIT"):
                raise ApiError("InvalidInputException", "ChildType is required.")
            src = accts if ct == "ACCOUNT" else ous
            items = [{"Id": x["id"], "Type": ct} for x in src
                     if x.get("parent", root) == parent]
            key = "Children"
        else:
            items = [{"Id": root, "Arn": "arn:aws:organizations::%s:root/o-f4k3/%s"
                      % (org.get("management_account"), root), "Name": "Root",
                      "PolicyTypes": []}]
            key = "Roots"
        if key == "Accounts":
            mgmt = str(org.get("management_account"))
            items = [{"Id": a["id"], "Name": a.get("name", a["id"]),
                      "Arn": "arn:aws:organizations::%s:account/o-f4k3/%s" % (mgmt, a["id"]),
                      "Email": "aws+%s@example.com" % a["id"],
                      "Status": a.get("status", "ACTIVE"), "JoinedMethod": "CREATED",
                      "JoinedTimestamp": 1.6e9} for a in items]
        size = int(org.get("page_size", 20))
        mr = req.get("MaxResults")
        if isinstance(mr, int) and 1 <= mr < size:
            size = mr
        off = 0
        tok = req.get("NextToken")
        if tok is not None:
            try:
                op, par, off = base64.b64decode(tok).decode().split("|")
                off = int(off)
                if op != action or par != str(parent):
                    raise ValueError
            except (ValueError, UnicodeDecodeError):
                raise ApiError("InvalidInputException", "The NextToken is not valid.")
        out = {key: items[off:off + size]}
        if off + size < len(items):
            nxt = off if org.get("repeat_token") and tok is not None else off + size
            out["NextToken"] = base64.b64encode(("%s|%s|%d" % (action, parent, nxt))
                                                .encode()).decode()
        return out

    # -- S3 (REST, path style): bucket metrics configurations --

    def s3_error(self, ctx, status, code, message):
        ctx["error_code"] = code
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code>'
                "<Message>%s</Message><RequestId>%s</RequestId></Error>"
                % (code, xml_escape(message), uuid.uuid4().hex[:16].upper())).encode()
        self.finish_request(ctx, status, body, "application/xml")

    def s3_put_object(self, ctx, path, body):
        """PutObject, path style: PUT /BUCKET/KEY, signed; kept in memory with
        its Content-Type and x-amz-server-side-encryption (GET /_s3objects).
        Conditional writes as S3 does them: If-Match: ETAG writes only over
        the object with that ETag, If-None-Match: * only where there is
        none; else 412 PreconditionFailed.  A fault rule that names
        "action": "PutObject" with kind access_denied (and optionally a
        region) refuses it; no other rule acts here."""
        st = self.state
        ctx["action"] = "PutObject"
        try:
            self.authenticate(ctx, body, "s3")
        except ApiError as e:
            return self.s3_error(ctx, 403, e.code, e.message)
        for f in st.sc.faults:
            if f.get("action") == "PutObject" and f.get("kind") == "access_denied" and \
                    _fmatch(f.get("region"), ctx["region"]):
                ctx["fault"] = "access_denied"
                return self.s3_error(ctx, 403, "AccessDenied", "Access Denied")
        parts = path.lstrip("/").split("/", 1)
        if len(parts) != 2 or not parts[1]:
            return self.s3_error(ctx, 400, "InvalidRequest", "PUT /BUCKET/KEY (path style)")
        from urllib.parse import unquote
        if_match = self.headers.get("If-Match")
        if_none = self.headers.get("If-None-Match")
        if if_none is not None and if_none != "*":
            return self.s3_error(ctx, 501, "NotImplemented",
                                 "If-None-Match takes only * on PutObject")
        with st.lock:
            objs = st.__dict__.setdefault("s3_objects", {})
            key = (parts[0], unquote(parts[1]))
            have = objs.get(key)
            ok = not ((if_match is not None and
                       (have is None or s3_etag(have["body"]) != if_match)) or
                      (if_none is not None and have is not None))
            if ok:
                objs[key] = {
                    "body": bytes(body),
                    "content_type": self.headers.get("Content-Type") or "",
                    "sse": self.headers.get("x-amz-server-side-encryption") or ""}
        if not ok:
            return self.s3_error(ctx, 412, "PreconditionFailed",
                                 "At least one of the pre-conditions you specified did not hold")
        return self.finish_request(ctx, 200, b"", "application/xml",
                                   headers={"ETag": s3_etag(body)})

    def s3_presigned_get(self, ctx, path, query):
        """GET /BUCKET/KEY?X-Amz-...: the query signature is checked with
        botocore's S3SigV4QueryAuth (recomputed for the same time and expiry)
        when botocore is importable; the object comes back."""
        st = self.state
        ctx["action"] = "GetObject"
        q = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        akey = q.get("X-Amz-Credential", "").split("/")[0]
        with st.lock:
            cred = st.keys.get(akey)
        if cred is None:
            return self.s3_error(ctx, 403, "InvalidAccessKeyId", "unknown key")
        try:
            from botocore.auth import S3SigV4QueryAuth
            from botocore.awsrequest import AWSRequest
            from botocore.credentials import Credentials
        except ImportError:
            S3SigV4QueryAuth = None
        if S3SigV4QueryAuth is not None:
            region = q["X-Amz-Credential"].split("/")[2]
            auth = S3SigV4QueryAuth(Credentials(akey, cred["secret"],
                                                q.get("X-Amz-Security-Token")),
                                    "s3", region, expires=int(q["X-Amz-Expires"]))
            host = self.headers.get("Host")
            req = AWSRequest(method="GET", url="http://%s%s" % (host, path))
            req.context["timestamp"] = q["X-Amz-Date"]
            auth._modify_request_before_signing(req)
            want = auth.signature(auth.string_to_sign(req, auth.canonical_request(req)), req)
            with st.lock:
                st.stats["verifier"] = "botocore"
            if want != q.get("X-Amz-Signature"):
                ctx["signature"] = "bad"
                return self.s3_error(ctx, 403, "SignatureDoesNotMatch",
                                     "The request signature we calculated does not match")
            ctx["signature"] = "ok"
        parts = path.lstrip("/").split("/", 1)
        from urllib.parse import unquote
        with st.lock:
            obj = st.__dict__.get("s3_objects", {}).get((parts[0], unquote(parts[1]))
                                                         if len(parts) == 2 else None)
        if obj is None:
            return self.s3_error(ctx, 404, "NoSuchKey", "The specified key does not exist.")
        return self.finish_request(ctx, 200, obj["body"], obj["content_type"])

    def s3_read(self, ctx, path, query, body):
        """ListObjectsV2 (GET /BUCKET?list-type=2&prefix=&max-keys=
        [&continuation-token=]) and GetObject (GET /BUCKET/KEY), signed,
        over the objects PutObject kept.  A bucket exists when the
        scenario's "s3": {"buckets": [...]} names it or an object was put
        in it.  "s3": {"list_page_size": N} pages listings by N keys;
        faults by action ListObjectsV2 / GetObject (access_denied,
        throttle, error, loop_token: the same token again;
        concurrent_write on GetObject of keys under "key_prefix": right
        after the answer another writer changes the object (to "replace",
        else the same with a newline added), or creates it with "body" when
        there was none)."""
        from urllib.parse import unquote
        st = self.state
        conf = st.sc.raw.get("s3") or {}
        q = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        parts = path.lstrip("/").split("/", 1)
        listing = len(parts) == 1 or not parts[1]
        ctx["action"] = "ListObjectsV2" if listing else "GetObject"

        def mapper(kind, f):
            return ApiError("AccessDenied", f.get("message", "Access Denied"), 403)
        try:
            self.authenticate(ctx, body, "s3")
            self.common_faults(ctx, mapper)
        except ApiError as e:
            return self.s3_api_error(ctx, e)
        bucket = unquote(parts[0])
        with st.lock:
            objs = {k: o for (b, k), o in st.__dict__.get("s3_objects", {}).items()
                    if b == bucket}
        if not objs and bucket not in conf.get("buckets", []):
            return self.s3_error(ctx, 404, "NoSuchBucket",
                                 "The specified bucket does not exist")
        if not listing:
            key = unquote(parts[1])
            obj = objs.get(key)
            cw = ctx.get("_concurrent_write")
            if cw is not None and key.startswith(cw.get("key_prefix", "")):
                with st.lock:  # the answer below is what was there before
                    st.__dict__.setdefault("s3_objects", {})[(bucket, key)] = {
                        "body": (cw["replace"].encode() if "replace" in cw else
                                 obj["body"] + b"\n") if obj else
                        cw.get("body", "{}").encode(),
                        "content_type": "application/json", "sse": ""}
            if obj is None:
                return self.s3_error(ctx, 404, "NoSuchKey",
                                     "The specified key does not exist.")
            return self.finish_request(ctx, 200, obj["body"], obj["content_type"],
                                       headers={"ETag": s3_etag(obj["body"])})
        if q.get("list-type") != "2":
            return self.s3_error(ctx, 501, "NotImplemented",
                                 "only ListObjectsV2 (list-type=2) on a bucket")
        try:
            max_keys = int(q.get("max-keys", "1000"))
        except ValueError:
            return self.s3_error(ctx, 400, "InvalidArgument", "max-keys: not a number")
        page = min(max_keys, 1000, int(conf.get("list_page_size", 1000)))
        prefix = q.get("prefix", "")
        keys = sorted(k for k in objs if k.startswith(prefix))
        start = 0
        tok = q.get("continuation-token")
        if tok is not None:
            try:
                start = int(base64.b64decode(tok.encode(), validate=True).decode()
                            .split(":", 1)[1])
            except (ValueError, IndexError, UnicodeDecodeError):
                return self.s3_error(ctx, 400, "InvalidArgument",
                                     "The continuation token provided is incorrect")
        chunk = keys[start:start + page]
        truncated = start + page < len(keys)
        loop = ctx.get("_loop_token") is not None and tok is not None
        truncated = truncated or loop
        out = ['<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult '
               'xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
               "<Name>%s</Name><Prefix>%s</Prefix><KeyCount>%d</KeyCount>"
               "<MaxKeys>%d</MaxKeys><IsTruncated>%s</IsTruncated>"
               % (xml_escape(bucket), xml_escape(prefix), len(chunk), max_keys,
                  "true" if truncated else "false")]
        if tok is not None:
            out.append("<ContinuationToken>%s</ContinuationToken>" % xml_escape(tok))
        if truncated:
            nxt = start if loop else start + page  # loop: a token it has sent before
            out.append("<NextContinuationToken>%s</NextContinuationToken>" % base64.b64encode(
                ("%s:%d" % (uuid.uuid5(uuid.NAMESPACE_URL, bucket + prefix).hex[:8], nxt))
                .encode()).decode())
        for k in chunk:
            out.append("<Contents><Key>%s</Key><LastModified>2026-01-01T00:00:00.000Z"
                       "</LastModified><ETag>&quot;%s&quot;</ETag><Size>%d</Size>"
                       "<StorageClass>STANDARD</StorageClass></Contents>"
                       % (xml_escape(k), s3_etag(objs[k]["body"]).strip('"'),
                          len(objs[k]["body"])))
        out.append("</ListBucketResult>")
        return self.finish_request(ctx, 200, "".join(out).encode(), "application/xml")

    def s3_api_error(self, ctx, e):
        status = e.status or (403 if e.code in ("SignatureDoesNotMatch",
                                                 "InvalidClientTokenId",
                                                 "AccessDenied",
                                                 "MissingAuthenticationToken",
                                                 "ExpiredToken") else
                              503 if e.code == "Throttling" else 400)
        code = {"Throttling": "SlowDown",
                "InvalidClientTokenId": "InvalidAccessKeyId"}.get(e.code, e.code)
        return self.s3_error(ctx, status, code, e.message)

    def s3(self, ctx, path, query, body):
        """GET/PUT /BUCKET?metrics&id=ID on the buckets of the caller's
        account (scenario accounts[].buckets; a bucket with
        "request_metrics" has the configuration "filter_id", default
        EntireBucket).  Configurations put here are kept in memory."""
        st = self.state
        q = parse_qs(query, keep_blank_values=True)
        ctx["action"] = {"GET": "GetBucketMetricsConfiguration",
                         "PUT": "PutBucketMetricsConfiguration"}.get(self.command,
                                                                     self.command)

        def mapper(kind, f):
            return ApiError("AccessDenied", f.get("message", "Access Denied"), 403)
        try:
            cred = self.authenticate(ctx, body, "s3")
            self.common_faults(ctx, mapper)
        except ApiError as e:
            return self.s3_api_error(ctx, e)
        parts = [p for p in path.split("/") if p]
        if len(parts) != 1 or "metrics" not in q or "id" not in q:
            return self.s3_error(ctx, 501, "NotImplemented",
                                 "only ?metrics&id= on a bucket (path style)")
        bucket, mid = parts[0], q["id"][0]
        acc = st.sc.get_account(cred["account"])
        b = next((x for x in (acc.buckets if acc else []) if x["name"] == bucket), None)
        if b is None:
            return self.s3_error(ctx, 404, "NoSuchBucket",
                                 "The specified bucket does not exist")
        if b["region"] != ctx["region"]:
            return self.s3_error(ctx, 400, "AuthorizationHeaderMalformed",
                                 "The authorization header is malformed; the region '%s' "
                                 "is wrong; expecting '%s'" % (ctx["region"], b["region"]))
        key = (cred["account"], bucket)
        with st.lock:
            confs = st.__dict__.setdefault("metrics_configs", {})
            have = confs.get(key)
            if have is None:
                have = confs[key] = (
                    {b.get("filter_id", "EntireBucket")} if b.get("request_metrics", True)
                    else set())
            if self.command == "GET":
                if mid not in have:
                    found = None
                else:
                    found = mid
            elif self.command == "PUT":
                m = re.search(rb"<MetricsConfiguration[^>]*>\s*<Id>([^<]*)</Id>", body)
                if not m or m.group(1).decode() != mid:
                    found = "malformed"
                else:
                    have.add(mid)
                    found = "put"
            else:
                found = "method"
        if found == "method":
            return self.s3_error(ctx, 405, "MethodNotAllowed", "GET or PUT")
        if found == "malformed":
            return self.s3_error(ctx, 400, "MalformedXML", "The XML you provided was not "
                                 "well-formed or did not validate against our published "
                                 "schema")
        if found is None:
            return self.s3_error(ctx, 404, "NoSuchConfiguration",
                                 "The specified configuration does not exist.")
        if found == "put":
            return self.finish_request(ctx, 200, b"", "application/xml")
        out = ('<?xml version="1.0" encoding="UTF-8"?>\n<MetricsConfiguration '
               'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Id>%s</Id>'
               "</MetricsConfiguration>" % xml_escape(mid)).encode()
        return self.finish_request(ctx, 200, out, "application/xml")

    # -- IAM Identity Center portal --

    def sso_portal(self, ctx, query):
        """GetRoleCredentials: GET /federation/credentials?account_id=&role_name=
        with x-amz-sso_bearer_token.  scenario "sso": {"access_token",
        "roles": [{"account", "role_name", "expiration_seconds"}]}; the
        credentials it issues sign CloudWatch and STS calls as that role."""
        st = self.state
        conf = st.sc.sso or {}
        ctx["action"] = "GetRoleCredentials"
        ctype = "application/json"

        def error(status, kind, msg):
            ctx["error_code"] = kind
            return self.finish_request(ctx, status, json.dumps({"message": msg}).encode(),
                                       ctype, {"x-amzn-ErrorType": kind})
        if self.command != "GET":
            return error(405, "MethodNotAllowed", "GET only")
        q = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        tok = self.headers.get("x-amz-sso_bearer_token")
        if not tok or tok != conf.get("access_token"):
            return error(401, "UnauthorizedException", "Session token not found or invalid")
        acct, role = q.get("account_id", ""), q.get("role_name", "")
        ctx["account"] = acct
        for f in st.match_faults("sso", "GetRoleCredentials", acct, None, None,
                                 kinds=("error",)):
            return error(int(f.get("status", 500)), f.get("code", "InternalServerException"),
                         "scripted fault")
        for r in conf.get("roles", []):
            if str(r.get("account")) == acct and r.get("role_name") == role:
                break
        else:
            return error(403, "ForbiddenException", "No access")
        arn = "arn:aws:sts::%s:assumed-role/AWSReservedSSO_%s_0123456789abcdef/user" % (
            acct, role)
        rec = st.issue(acct, arn, "sso", int(r.get("expiration_seconds", 3600)), False,
                       "arn:aws:iam::%s:role/aws-reserved/sso.amazonaws.com/%s" % (acct, role))
        ctx["access_key"] = rec["access_key"]
        body = {"roleCredentials": {"accessKeyId": rec["access_key"],
                                    "secretAccessKey": rec["secret"],
                                    "sessionToken": rec["token"],
                                    "expiration": int(rec["expires"]) * 1000}}
        return self.finish_request(ctx, 200, json.dumps(body).encode(), ctype)

    # -- Slack --

    def slack(self, ctx, path, body):
        st = self.state
        conf = st.sc.slack or {}
        ctx["action"] = "webhook"
        ctype = "text/html"
        if self.command != "POST":
            return self.finish_request(ctx, 405, b"invalid_method", ctype)
        with st.lock:
            st.slack_attempts += 1
            script = conf.get("responses", [])
            step = None
            if st.slack_script_pos < len(script):
                step = script[st.slack_script_pos]
                st.slack_script_pos += 1
        paths = conf.get("paths")
        if paths is not None and path not in paths:
            ctx["error_code"] = "no_service"
            return self.finish_request(ctx, 404, b"no_service", ctype)
        if step is not None:
            status = int(step.get("status", 200))
            text = step.get("body", {429: "rate_limited", 500: "internal_error"}
                            .get(status, "ok"))
            hdrs = {}
            if "retry_after" in step:
                hdrs["Retry-After"] = str(step["retry_after"])
            if status != 200:
                ctx["error_code"] = text
                return self.finish_request(ctx, status, text.encode(), ctype, hdrs)
        err = _slack_validate(body, self.headers.get("Content-Type") or "") \
            if conf.get("validate", True) else None
        if err is not None:
            ctx["error_code"] = err
            return self.finish_request(ctx, 400, err.encode(), ctype)
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            payload = body.decode("utf-8", "replace")
        with st.lock:
            st.slack_received.append({"path": path, "payload": payload,
                                      "ts": time.time()})
        return self.finish_request(ctx, 200, b"ok", ctype)

    # -- test hooks --

    def admin(self, path, query, body):
        st = self.state
        q = {k: v[0] for k, v in parse_qs(query).items()}
        if path == "/_health":
            out = {"ok": True, "verifier": st.stats["verifier"]}
        elif path == "/_requests":
            with st.log_lock:
                out = {"requests": list(st.log)}
        elif path == "/_stats":
            with st.lock:
                out = dict(st.stats)
            with st.log_lock:
                out["requests"] = len(st.log)
        elif path == "/_s3objects":
            with st.lock:
                objs = dict(st.__dict__.get("s3_objects", {}))
            out = {"objects": [{"bucket": b, "key": k, "content_type": o["content_type"],
                                "sse": o["sse"], "size": len(o["body"]),
                                "etag": s3_etag(o["body"])}
                               for (b, k), o in sorted(objs.items())]}
            if query == "bodies=1":  # the text of each (JSON and other text)
                for o, (_, v) in zip(out["objects"], sorted(objs.items())):
                    o["body"] = v["body"].decode("utf-8", "replace")
        elif path == "/_pings":
            with st.lock:
                out = {"pings": list(st.pings)}
        elif path == "/_slack":
            with st.lock:
                out = {"received": list(st.slack_received),
                       "attempts": st.slack_attempts}
        elif path == "/_now":
            now = st.series_now()
            out = {"now": now, "today": now - now % 86400, "real_now": time.time()}
        elif path == "/_series":
            try:
                out = self.series_dump(q)
            except (KeyError, ValueError) as e:
                data = json.dumps({"error": str(e)}).encode()
                return self.send_raw(400, data, "application/json")
        elif path == "/_reset" and self.command == "POST":
            with st.log_lock:
                st.log = []
            with st.lock:
                st.slack_received = []
                st.slack_attempts = 0
                st.slack_script_pos = 0
                st.fault_hits = {}
            out = {"ok": True}
        else:
            return self.send_raw(404, b'{"message":"not found"}', "application/json")
        self.send_raw(200, json.dumps(out).encode(), "application/json")

    def series_dump(self, q):
        sc = self.state.sc
        acct = q["account"]
        region = q.get("region")
        metric = q.get("metric", "BytesDownloaded")
        bucket = q["bucket"]
        period = int(q.get("period", 86400))
        stat = q.get("stat", "Sum")
        now = self.state.series_now()
        today = now - now % 86400
        start = int(q.get("start", today - 60 * 86400))
        end = int(q.get("end", today))
        acc = sc.get_account(acct)
        if acc is None:
            raise KeyError("no account %s" % acct)
        for reg, (per, ordered) in acc.index(sc).items():
            if region and reg != region:
                continue
            for s in ordered:
                if s.bucket == bucket and s.name == metric:
                    pts = sc.aggregate(s, now, start, end, period, stat)
                    return {"region": reg, "dimensions": s.dims_json(),
                            "Timestamps": [t for t, _ in pts],
                            "Values": [v for _, v in pts]}
        raise KeyError("no metric %s for bucket %s" % (metric, bucket))


# ---- helpers ---------------------------------------------------------------------

class RawJSON:
    """An answer already serialised (compact JSON text, as _compact writes)."""

    __slots__ = ("data",)

    def __init__(self, text):
        self.data = text.encode()


_compact = json.JSONEncoder(separators=(",", ":")).encode
EMPTY_POINTS = '"Timestamps":[],"Values":[]'


def _js(v):
    """The compact JSON text of a value (a string most of the time)."""
    if type(v) is str:
        return _encode_str(v)
    return _compact(v)


def _dims_key(dims):
    """((Name, Value), ...) of a Dimensions list, None when it is not a list
    of at most 30 objects with Name and Value."""
    if not isinstance(dims, list) or len(dims) > 30:
        return None
    out = []
    for d in dims:
        if not isinstance(d, dict) or "Name" not in d or "Value" not in d:
            return None
        out.append((d["Name"], d["Value"]))
    return tuple(out)


def _request_metric(action, req):
    """The MetricName a CloudWatch call is about: ListMetrics' filter, or the
    first GetMetricData query's; None when it names none."""
    try:
        if action == "ListMetrics":
            m = req.get("MetricName")
        elif action == "GetMetricData":
            m = req["MetricDataQueries"][0]["MetricStat"]["Metric"]["MetricName"]
        else:
            m = req.get("MetricName")
    except (KeyError, IndexError, TypeError):
        return None
    return m if isinstance(m, str) else None


def _log_entry(ctx):
    return {"ts": _iso_ms(ctx["ts"]), "service": ctx["service"], "action": ctx["action"],
            "account": ctx["account"], "region": ctx["region"],
            "access_key": ctx["access_key"], "status": ctx["status"],
            "error_code": ctx["error_code"], "signature": ctx["signature"],
            "verifier": ctx["verifier"], "queries": ctx["queries"],
            "body_len": ctx["body_len"], "fault": ctx["fault"],
            "metric": ctx.get("metric")}


def _iso_ms(t):
    d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (d.microsecond // 1000)


def _req_hash(req, account, region):
    r = {k: v for k, v in req.items() if k != "NextToken"}
    blob = json.dumps([account, region, r], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _encode_token(reqhash, offset):
    raw = json.dumps({"h": reqhash, "o": offset}, separators=(",", ":")).encode()
    return base64.b64encode(raw).decode()


def _decode_token(tok, reqhash):
    try:
        d = json.loads(base64.b64decode(tok.encode(), validate=True))
        if d["h"] != reqhash or not isinstance(d["o"], int) or d["o"] < 0:
            raise ValueError
        return d["o"]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ApiError("InvalidNextToken", "The service returned an invalid next token "
                       "or the request changed between pages.")


def _check_len_pattern(value, field, lo, hi, regex, pattern):
    if len(value) < lo:
        raise ApiError("ValidationError",
                       "1 validation error detected: Value '%s' at '%s' failed to "
                       "satisfy constraint: Member must have length greater than or "
                       "equal to %d" % (value, field, lo))
    if len(value) > hi:
        raise ApiError("ValidationError",
                       "1 validation error detected: Value '%s' at '%s' failed to "
                       "satisfy constraint: Member must have length less than or "
                       "equal to %d" % (value, field, hi))
    if not regex.match(value):
        raise ApiError("ValidationError",
                       "1 validation error detected: Value '%s' at '%s' failed to "
                       "satisfy constraint: Member must satisfy regular expression "
                       "pattern: %s" % (value, field, pattern))


def _trusted(role, cred):
    trust = role.trust
    if trust is None:
        return True
    if cred["account"] in [str(a) for a in trust.get("accounts", [])]:
        return True
    if cred["access_key"] in trust.get("access_keys", []):
        return True
    for p in trust.get("principals", []):
        if fnmatch.fnmatchcase(cred["arn"], p) or cred.get("role") == p:
            return True
    return False


def _sts_creds_xml(action, rec, sess_arn, assumed_id, extra=""):
    return ('<%sResponse xmlns="%s">\n  <%sResult>\n'
            '    <AssumedRoleUser>\n      <Arn>%s</Arn>\n'
            '      <AssumedRoleId>%s</AssumedRoleId>\n    </AssumedRoleUser>\n'
            '    <Credentials>\n      <AccessKeyId>%s</AccessKeyId>\n'
            '      <SecretAccessKey>%s</SecretAccessKey>\n'
            '      <SessionToken>%s</SessionToken>\n'
            '      <Expiration>%s</Expiration>\n    </Credentials>\n%s'
            '  </%sResult>\n  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n'
            '  </ResponseMetadata>\n</%sResponse>\n'
            % (action, STS_NS, action, xml_escape(sess_arn), xml_escape(assumed_id),
               rec["access_key"], xml_escape(rec["secret"]), xml_escape(rec["token"]),
               iso8601(rec["expires"]), extra, action, uuid.uuid4(), action))


def _region_from_host(host):
    m = re.match(r"^sts\.([a-z0-9-]+)\.amazonaws\.com", host or "")
    return m.group(1) if m else "us-east-1"


def _slack_validate(body, ctype):
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "invalid_payload"
    if not isinstance(payload, dict):
        return "invalid_payload"
    blocks = payload.get("blocks")
    text = payload.get("text")
    if blocks is None and not (isinstance(text, str) and text.strip()):
        return "no_text"
    if blocks is not None:
        if not isinstance(blocks, list) or len(blocks) > 50:
            return "invalid_blocks"
        for b in blocks:
            if not isinstance(b, dict) or "type" not in b:
                return "invalid_blocks"
            t = b.get("text")
            if isinstance(t, dict) and len(t.get("text", "")) > 3000:
                return "invalid_blocks"
            for fld in b.get("fields", []) or []:
                if isinstance(fld, dict) and len(fld.get("text", "")) > 2000:
                    return "invalid_blocks"
    return None


# ---- main ------------------------------------------------------------------------

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def make_server(scenario, host="127.0.0.1", port=0, log_path=None, now=None):
    """Build (server, state); the caller runs server.serve_forever()."""
    pinned = now if now is not None else scenario.now
    state = State(scenario, log_path, pinned)
    handler = type("BoundHandler", (Handler,), {"state": state})
    server = _Server((host, port), handler)
    return server, state


def main(argv=None):
    ap = argparse.ArgumentParser(description="fake AWS endpoint for cwsweep tests")
    ap.add_argument("--scenario", required=True, help="scenario JSON file")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 = a free port")
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--log", help="append one JSON line per request here")
    ap.add_argument("--now", type=float, help="pin the series clock (epoch seconds)")
    args = ap.parse_args(argv)
    try:
        scenario = fake_scenario.load(args.scenario)
    except (OSError, fake_scenario.ScenarioError) as e:
        print("fake_aws: %s" % e, file=sys.stderr)
        return 2
    server, state = make_server(scenario, args.host, args.port, args.log, args.now)
    if scenario.raw.get("prewarm"):
        # prewarm builds long-lived objects only: the cyclic garbage
        # collector would just rescan them, over and over (half the time)
        t0 = time.monotonic()
        gc.disable()
        try:
            n = scenario.prewarm(state.series_now())
        finally:
            gc.enable()
        print("fake_aws: prewarmed %d series in %.1f s" % (n, time.monotonic() - t0),
              file=sys.stderr, flush=True)
    # what exists now lives as long as the process: keep it out of every
    # later collection (a full one would walk all the series)
    gc.freeze()
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True)
    t.start()
    port = server.server_address[1]
    if args.port_file:
        tmp = "%s.tmp.%d" % (args.port_file, os.getpid())
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    print("fake_aws: listening on http://%s:%d (verifier %s)"
          % (args.host, port, state.stats["verifier"]), file=sys.stderr, flush=True)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    state.close_log()
    return 0


if __name__ == "__main__":
    sys.exit(main())
