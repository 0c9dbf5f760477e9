"""Start, stop and talk to the fake AWS endpoint from Python tests.

    from fakehelper import FakeAWS
    with FakeAWS("tests/fake_aws/scenarios/basic.json") as fake:
        env = fake.env()                 # AWS_ENDPOINT_URL etc. for cwsweep
        ... run cwsweep ...
        fake.count(service="sts", action="AssumeRole")

Paths are relative to CW_SOURCE_DIR (or the repository root found from this
file). The fake runs as a child process (CW_PYTHON, default this
interpreter) on a free loopback port; stop() (or leaving the with block)
terminates it, whatever happened in between.
"""

import datetime
import hashlib
import http.client
import json
import re
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import threading
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("CW_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import fake_sigv4  # noqa: E402


def clock_env():
    """The variables that move the clock of a whole test run (libfaketime:
    LD_PRELOAD, FAKETIME, FAKETIME_*), for the clean environments that the
    tests give cwsweep, so a run under faketime moves every process alike."""
    return {k: v for k, v in os.environ.items()
            if k == "LD_PRELOAD" or k.startswith("FAKETIME") or k == "DONT_FAKE_MONOTONIC"}


class FakeAWS:
    def __init__(self, scenario, now=None, extra_args=None):
        self.scenario = scenario if os.path.isabs(scenario) else os.path.join(SRC, scenario)
        self.now = now
        self.extra_args = list(extra_args or [])
        self.proc = None
        self.dir = None
        self.port = None
        self.url = None
        self.log_path = None

    def start(self, timeout=10.0):
        self.dir = tempfile.mkdtemp(prefix="cwfake-")
        port_file = os.path.join(self.dir, "port")
        self.log_path = os.path.join(self.dir, "requests.jsonl")
        py = os.environ.get("CW_PYTHON") or sys.executable
        cmd = [py, os.path.join(HERE, "fake_aws.py"), "--scenario", self.scenario,
               "--port", "0", "--port-file", port_file, "--log", self.log_path]
        if self.now is not None:
            cmd += ["--now", str(self.now)]
        cmd += self.extra_args
        self.stderr = open(os.path.join(self.dir, "stderr.txt"), "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.stderr)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(port_file):
                with open(port_file) as f:
                    self.port = int(f.read().strip())
                self.url = "http://127.0.0.1:%d" % self.port
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        err = self.stderr_text()
        self.stop()
        raise RuntimeError("fake AWS did not start: %s" % err)

    def stderr_text(self):
        try:
            with open(os.path.join(self.dir, "stderr.txt"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.proc = None
        if getattr(self, "stderr", None):
            self.stderr.close()
            self.stderr = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- test hooks ----

    def get(self, path):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return json.loads(r.read())
        finally:
            c.close()

    def requests(self):
        return self.get("/_requests")["requests"]

    def count(self, **match):
        """Number of logged requests whose fields equal all of match."""
        return sum(1 for r in self.requests()
                   if all(r.get(k) == v for k, v in match.items()))

    def stats(self):
        return self.get("/_stats")

    def slack(self):
        return self.get("/_slack")

    def env(self, access_key="AKIADEMO00000000CALLER",
            secret_key="demo/caller/secret/key/0000000000000000"):
        """Environment for a cwsweep child process aimed at this fake."""
        env = {"AWS_ENDPOINT_URL": self.url, "AWS_ACCESS_KEY_ID": access_key,
               "AWS_SECRET_ACCESS_KEY": secret_key, "AWS_EC2_METADATA_DISABLED": "true",
               "AWS_REGION": "us-east-1"}
        env.update(clock_env())
        return env

    # ---- signed calls (botocore's signer when present, else fake_sigv4) ----

    def raw(self, method, path, body=b"", headers=None):
        """(status, headers dict lowercased, body bytes) of one plain request."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def signed(self, service, region, body, headers, creds, tamper=None,
               amz_date=None):
        key, secret, token = creds
        now = amz_date or datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y%m%dT%H%M%SZ")
        url = self.url + "/"
        h = sign(url, body, headers, key, secret, token, region, service, now)
        if tamper:
            tamper(h)
        return self.raw("POST", "/", body, h)

    def cw(self, action, payload, creds, region="us-east-1", tamper=None):
        body = json.dumps(payload).encode()
        st, h, data = self.signed("monitoring", region, body, {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "GraniteServiceVersion20100801." + action}, creds, tamper)
        try:
            return st, h, json.loads(data) if data else None
        except ValueError:
            return st, h, data

    def sts(self, params, creds, region="us-east-1", tamper=None):
        p = {"Version": "2011-06-15"}
        p.update(params)
        body = urlencode(p).encode()
        hdrs = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        if creds is None:
            return self.raw("POST", "/", body, hdrs)
        return self.signed("sts", region, body, hdrs, creds, tamper)


def report_rows(doc):
    """A report.json ("cwsweep.report/3": tables of column names and rows)
    with its two tables as lists of dicts: each result holds its series'
    target names too, each series its history as {"start", "period",
    "values"} (values None when the run kept none). Older schemas as they
    are."""
    if doc.get("schema") != "cwsweep.report/3":
        return doc
    series = [dict(zip(doc["series_columns"], row)) for row in doc["series"]]
    names = ("account_id", "account_name", "region", "bucket", "metric", "unit", "owner",
             "tags")
    results = []
    for row in doc["results"]:
        r = dict(zip(doc["result_columns"], row))
        r.update({k: series[r["series"]][k] for k in names})
        results.append(r)
    out = dict(doc)
    out["results"] = results
    out["series"] = [dict(s, start=s["start"], period=s["period_seconds"], values=s["values"])
                     for s in series]
    return out


def promtool_check(test, path):
    """`promtool check metrics` (Debian: prometheus) on a metrics file."""
    tool = shutil.which("promtool")
    if not tool:
        print("\n*** SKIPPED promtool check: promtool is not installed (Debian package "
              "prometheus) ***", file=sys.stderr)
        return
    with open(path, "rb") as f:
        p = subprocess.run([tool, "check", "metrics"], stdin=f, capture_output=True,
                           text=True)
    test.assertEqual(p.returncode, 0, p.stdout + p.stderr)


def parse_metrics(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def load_report(path):
    """report_rows of the report.json at path."""
    with open(path, encoding="utf-8") as f:
        return report_rows(json.load(f))


def sign(url, body, headers, key, secret, token, region, service, amz_date,
         method="POST"):
    """Headers with SigV4 for a request to url (botocore when importable)."""
    if fake_sigv4.HAVE_BOTOCORE:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        req = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
        req.headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
        signer = SigV4Auth(Credentials(key, secret, token), service, region)
        # sign with the given date (not "now") so clock tests can move it
        req.context["timestamp"] = amz_date
        signer._modify_request_before_signing(req)  # sets X-Amz-Date, token
        creq = signer.canonical_request(req)
        sts = signer.string_to_sign(req, creq)
        sig = signer.signature(sts, req)
        signer._inject_signature_to_request(req, sig)
        out = dict(req.headers.items())
        out["Host"] = url.split("/")[2]
        return out
    return fake_sigv4.sign_request(method, url, headers, body, key, secret, region,
                                   service, amz_date, token)


class RecordingProxy:
    """A loopback HTTP proxy that forwards every request to the fake as it
    came (Host header included, so signatures still verify) and keeps each
    exchange: what cwsweep sent (e.g. the ExternalId of an AssumeRole) and
    what the fake answered (e.g. the secret keys and session tokens it
    issued), which the fake itself never logs."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.exchanges = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def forward(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                up = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port,
                                                timeout=60)
                try:
                    up.putrequest(self.command, self.path, skip_host=True,
                                  skip_accept_encoding=True)
                    for k, v in self.headers.items():
                        if k.lower() not in ("expect", "connection", "keep-alive",
                                             "content-length", "transfer-encoding"):
                            up.putheader(k, v)
                    up.putheader("Content-Length", str(len(body)))
                    up.endheaders(body)
                    r = up.getresponse()
                    data = r.read()
                    status, reason, rh = r.status, r.reason, r.getheaders()
                except (OSError, http.client.HTTPException):
                    self.close_connection = True
                    return
                finally:
                    up.close()
                with proxy.lock:
                    proxy.exchanges.append({"headers": dict(self.headers.items()),
                                            "body": body, "status": status,
                                            "response": data})
                self.send_response(status, reason)
                for k, v in rh:
                    if k.lower() not in ("date", "server", "content-length",
                                         "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def sts_calls(self, action="AssumeRole"):
        """(request params, response body) of each STS call of that action."""
        out = []
        with self.lock:
            for x in self.exchanges:
                p = {k: v[0] for k, v in parse_qs(x["body"].decode("utf-8", "replace"),
                                                  keep_blank_values=True).items()}
                if p.get("Action") == action:
                    out.append((p, x["response"]))
        return out

    def gmd_bodies(self):
        """The parsed request bodies of every GetMetricData call."""
        with self.lock:
            return [json.loads(x["body"]) for x in self.exchanges
                    if x["headers"].get("X-Amz-Target", "").endswith(".GetMetricData")]

    def issued_secrets(self):
        """Every SecretAccessKey and SessionToken the fake handed out."""
        out = []
        for _, resp in self.sts_calls():
            try:
                root = ET.fromstring(resp)
            except ET.ParseError:
                continue
            for el in root.iter():
                tag = el.tag.rsplit("}", 1)[-1]
                if tag in ("SecretAccessKey", "SessionToken") and el.text:
                    out.append(el.text)
        return out

    def signatures(self):
        out = []
        with self.lock:
            for x in self.exchanges:
                a = x["headers"].get("Authorization", "")
                m = re.search(r"Signature=([0-9a-f]{64})", a)
                if m:
                    out.append(m.group(1))
        return out
