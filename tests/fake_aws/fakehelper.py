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
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlencode

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("CW_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import fake_sigv4  # noqa: E402


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
        return {"AWS_ENDPOINT_URL": self.url, "AWS_ACCESS_KEY_ID": access_key,
                "AWS_SECRET_ACCESS_KEY": secret_key, "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_REGION": "us-east-1"}

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


def sign(url, body, headers, key, secret, token, region, service, amz_date):
    """Headers with SigV4 for a POST to url (botocore when importable)."""
    if fake_sigv4.HAVE_BOTOCORE:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        req = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
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
    return fake_sigv4.sign_request("POST", url, headers, body, key, secret, region,
                                   service, amz_date, token)
