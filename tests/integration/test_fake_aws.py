#!/usr/bin/env python3
"""Self-test of the fake AWS endpoint (tests/fake_aws/fake_aws.py).

Starts the fake with tests/fake_aws/scenarios/basic.json (and small variants
written to a temporary folder) and talks to it over HTTP: SigV4 checks,
STS AssumeRole rules, GetMetricData limits and pagination, ListMetrics
paging, GetMetricStatistics, faults, IMDSv2, container credentials, web
identity and the Slack receiver. Requests are signed with botocore's signer
when botocore imports, else with the fake's own signer; the tests that need
botocore say loudly that they were skipped.
"""

import datetime
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

SRC = os.environ.get("CW_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SRC, "tests", "fake_aws"))
import fake_sigv4  # noqa: E402
from fakehelper import FakeAWS as _FakeAWS  # noqa: E402

BASIC = os.path.join(SRC, "tests", "fake_aws", "scenarios", "basic.json")
NS = {"s": "https://sts.amazonaws.com/doc/2011-06-15/"}
CALLER = ("AKIAFAKEBASIC0CALLER", "basic/caller/secret/0000000000000000000000", None)
STRANGER = ("AKIAFAKEBASIC0OTHER1", "basic/other/secret/00000000000000000000000", None)
READER = "arn:aws:iam::111111111111:role/cwsweep-reader"
DEV_READER = "arn:aws:iam::222222222222:role/cwsweep-reader"
DAY = 86400

if not fake_sigv4.HAVE_BOTOCORE:
    sys.stderr.write("test_fake_aws: botocore is NOT importable: the fake verifies "
                     "with its built-in SigV4 code and the botocore cross-checks "
                     "are SKIPPED\n")


def basic_with(**changes):
    with open(BASIC) as f:
        d = json.load(f)
    d.update(changes)
    return d


def write_scenario(tmp, name, d):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        json.dump(d, f)
    return path


def sts_creds(xml):
    root = ET.fromstring(xml)
    cr = root.find(".//s:Credentials", NS)
    return tuple(cr.find("s:" + k, NS).text
                 for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")), \
        cr.find("s:Expiration", NS).text


def sts_error(xml):
    root = ET.fromstring(xml)
    assert root.tag == "{%s}ErrorResponse" % NS["s"], root.tag
    e = root.find("s:Error", NS)
    return (e.find("s:Type", NS).text, e.find("s:Code", NS).text,
            e.find("s:Message", NS).text, root.find("s:RequestId", NS).text)


def bd_query(qid, bucket, period=DAY, stat="Sum", dims=None):
    dims = dims if dims is not None else [
        {"Name": "BucketName", "Value": bucket},
        {"Name": "FilterId", "Value": "EntireBucket"}]
    return {"Id": qid, "MetricStat": {"Metric": {
        "Namespace": "AWS/S3", "MetricName": "BytesDownloaded", "Dimensions": dims},
        "Period": period, "Stat": stat}}


# The series clock of every fake in this file: a Wednesday, 10:30 UTC.  Real
# time still decides signatures and credential expiry; only which datapoints
# exist follows this clock, so the numbers are the same on every day the
# tests run.
NOW = 1781692200  # 2026-06-17T10:30:00Z


class FakeAWS(_FakeAWS):
    def __init__(self, scenario, now=NOW, extra_args=None):
        super().__init__(scenario, now=now, extra_args=extra_args)


def today0(now=NOW):
    return now - now % DAY


class FakeCase(unittest.TestCase):
    scenario = BASIC

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeAWS(cls.scenario).start()

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def assume(self, role=READER, ext="basic-ext-1111", creds=CALLER, **extra):
        p = {"Action": "AssumeRole", "RoleArn": role, "RoleSessionName": "cwsweep-test"}
        if ext is not None:
            p["ExternalId"] = ext
        p.update(extra)
        st, h, body = self.fake.sts(p, creds)
        self.assertEqual(st, 200, body)
        return sts_creds(body)[0]

    def gmd(self, creds, queries, start, end, **extra):
        body = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end}
        body.update(extra)
        return self.fake.cw("GetMetricData", body, creds)

    def assert_cw_error(self, res, status, code):
        st, h, body = res
        self.assertEqual(st, status, body)
        self.assertEqual(h.get("x-amzn-query-error"), code + ";Sender")
        self.assertIn("__type", body)
        self.assertIn("message", body)
        self.assertEqual(h.get("content-type"), "application/x-amz-json-1.0")


class TestSignatures(FakeCase):
    def test_signed_request_accepted_and_logged(self):
        st, h, body = self.fake.cw("ListMetrics", {}, CALLER)
        self.assertEqual(st, 200)
        self.assertEqual(body, {"Metrics": []})
        last = self.fake.requests()[-1]
        self.assertEqual(last["service"], "cloudwatch")
        self.assertEqual(last["action"], "ListMetrics")
        self.assertEqual(last["signature"], "ok")
        self.assertEqual(last["account"], "000000000000")
        self.assertEqual(last["region"], "us-east-1")
        for k in ("ts", "access_key", "status", "error_code", "queries", "body_len"):
            self.assertIn(k, last)
        stats = self.fake.stats()
        self.assertGreaterEqual(stats["verified"], 1)
        self.assertEqual(stats["verifier"],
                         "botocore" if fake_sigv4.HAVE_BOTOCORE else "builtin")

    def test_wrong_signature_rejected_cloudwatch(self):
        before = self.fake.stats()["bad_signature"]
        res = self.fake.cw("ListMetrics", {}, (CALLER[0], "not-the-secret", None))
        self.assert_cw_error(res, 403, "SignatureDoesNotMatch")
        self.assertIn("signature we calculated does not match", res[2]["message"])
        self.assertEqual(self.fake.stats()["bad_signature"], before + 1)
        self.assertEqual(self.fake.requests()[-1]["signature"], "bad")

    def test_wrong_signature_rejected_sts(self):
        st, h, body = self.fake.sts({"Action": "GetCallerIdentity"},
                                    (CALLER[0], "nope", None))
        self.assertEqual(st, 403)
        typ, code, msg, rid = sts_error(body)
        self.assertEqual((typ, code), ("Sender", "SignatureDoesNotMatch"))
        self.assertTrue(rid)

    def test_tampered_header_and_body(self):
        def tamper(h):
            h["X-Amz-Target"] = "GraniteServiceVersion20100801.GetMetricStatistics"
        res = self.fake.cw("ListMetrics", {}, CALLER, tamper=tamper)
        self.assert_cw_error(res, 403, "SignatureDoesNotMatch")
        # a body that no longer matches its signed hash
        body = b'{"Namespace":"AWS/S3"}'
        amz = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        from fakehelper import sign
        h = sign(self.fake.url + "/", body, {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics"},
            CALLER[0], CALLER[1], None, "us-east-1", "monitoring", amz)
        st, rh, data = self.fake.raw("POST", "/", b'{"Namespace":"AWS/EC2"}', h)
        self.assertEqual(st, 403)
        self.assertEqual(rh["x-amzn-query-error"], "SignatureDoesNotMatch;Sender")

    def test_unknown_key(self):
        res = self.fake.cw("ListMetrics", {}, ("AKIAUNKNOWN000000000", "x", None))
        self.assert_cw_error(res, 403, "InvalidClientTokenId")
        self.assertTrue(res[2]["__type"].endswith("#UnrecognizedClientException"))
        st, h, body = self.fake.sts({"Action": "GetCallerIdentity"},
                                    ("AKIAUNKNOWN000000000", "x", None))
        self.assertEqual(sts_error(body)[1], "InvalidClientTokenId")

    def test_stale_date(self):
        old = (datetime.datetime.now(datetime.timezone.utc)
               - datetime.timedelta(minutes=20)).strftime("%Y%m%dT%H%M%SZ")
        st, h, data = self.fake.signed("monitoring", "us-east-1", b"{}", {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics"},
            CALLER, amz_date=old)
        self.assertEqual(st, 403)
        self.assertIn(b"Signature expired", data)

    def test_unsigned_and_wrong_service_scope(self):
        st, h, data = self.fake.raw("POST", "/", b"{}", {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics"})
        self.assertEqual(st, 403)
        self.assertEqual(h["x-amzn-query-error"], "MissingAuthenticationToken;Sender")
        self.assertEqual(self.fake.requests()[-1]["signature"], "unsigned")
        st, h, data = self.fake.signed("sts", "us-east-1", b"{}", {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics"}, CALLER)
        self.assertEqual(st, 403)
        self.assertIn(b"scoped to correct service", data)

    def test_wrong_content_type(self):
        res = self.fake.signed("monitoring", "us-east-1", b"{}", {
            "Content-Type": "application/json",
            "X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics"}, CALLER)
        self.assertEqual(res[0], 400)
        self.assertEqual(res[1]["x-amzn-query-error"], "SerializationException;Sender")

    def test_keep_alive_many_requests_one_connection(self):
        from fakehelper import sign
        conn = http.client.HTTPConnection("127.0.0.1", self.fake.port, timeout=10)
        try:
            for _ in range(5):
                amz = datetime.datetime.now(datetime.timezone.utc).strftime(
                    "%Y%m%dT%H%M%SZ")
                h = sign(self.fake.url + "/", b"{}", {
                    "Content-Type": "application/x-amz-json-1.0",
                    "X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics"},
                    CALLER[0], CALLER[1], None, "us-east-1", "monitoring", amz)
                conn.request("POST", "/", b"{}", h)
                r = conn.getresponse()
                self.assertEqual(r.status, 200)
                self.assertEqual(int(r.getheader("Content-Length")), len(r.read()))
        finally:
            conn.close()

    def test_no_secret_in_log(self):
        creds = self.assume()
        self.fake.cw("ListMetrics", {}, creds)
        with open(self.fake.log_path) as f:
            log = f.read()
        for secret in (CALLER[1], creds[1], creds[2]):
            self.assertNotIn(secret, log)
        self.assertNotIn("Authorization", log)


@unittest.skipUnless(fake_sigv4.HAVE_BOTOCORE,
                     "botocore not importable: cross-check of the verifiers SKIPPED")
class TestVerifiersAgree(unittest.TestCase):
    def test_builtin_equals_botocore(self):
        from fakehelper import sign
        for i, (path, body, hdrs) in enumerate([
                ("/", b"{}", {"Content-Type": "application/x-amz-json-1.0"}),
                ("/", b"Action=AssumeRole&Version=2011-06-15",
                 {"Content-Type": "application/x-www-form-urlencoded",
                  "X-Odd": "  a   b  "}),
                ("/", "é".encode() * 40, {"Content-Type": "text/plain"})]):
            amz = "20240229T23595%dZ" % i
            h = sign("http://127.0.0.1:9" + path, body, hdrs, "AKIDEXAMPLE", "s/e+c=",
                     "tok+/=" if i else None, "eu-west-1", "monitoring", amz)
            auth = fake_sigv4.parse_authorization(h["Authorization"])
            lower = {}
            for k, v in h.items():
                lower.setdefault(k.lower(), []).append(v)
            a = fake_sigv4.compute_signature("POST", path, lower, body, auth, amz,
                                             "AKIDEXAMPLE", "s/e+c=", None, True)
            b = fake_sigv4.compute_signature("POST", path, lower, body, auth, amz,
                                             "AKIDEXAMPLE", "s/e+c=", None, False)
            self.assertEqual(a[1], "botocore")
            self.assertEqual(b[1], "builtin")
            self.assertEqual(a[0], b[0])
            self.assertEqual(a[0], auth.signature)


class TestSigV4Suite(unittest.TestCase):
    """The fake's built-in verifier against the official SigV4 suite."""

    def test_suite_header_signatures(self):
        base = os.environ.get("CW_TESTDATA")
        suite = os.path.join(base, "sigv4-suite") if base else None
        if not suite or not os.path.isdir(suite):
            self.skipTest("SigV4 suite not present (CW_TESTDATA): SKIPPED")
        checked = 0
        for case in sorted(os.listdir(suite)):
            d = os.path.join(suite, case)
            ctxf = os.path.join(d, "context.json")
            if not os.path.exists(ctxf):
                continue
            with open(ctxf) as f:
                ctx = json.load(f)
            if not ctx.get("normalize", True) or ctx["credentials"].get("token"):
                continue
            with open(os.path.join(d, "header-signed-request.txt"), "rb") as f:
                raw = f.read().decode("utf-8")
            head, _, body = raw.partition("\n\n")
            lines = head.split("\n")
            method, _, rest = lines[0].partition(" ")
            path = rest.rsplit(" ", 1)[0]
            headers = {}
            for ln in lines[1:]:
                if ln[:1] in (" ", "\t") and headers:
                    continue  # folded continuation: the suite's multiline case
                k, _, v = ln.partition(":")
                headers.setdefault(k.lower(), []).append(v)
            if "authorization" not in headers or any(
                    ln[:1] in (" ", "\t") for ln in lines[1:]):
                continue
            auth = fake_sigv4.parse_authorization(headers["authorization"][0])
            amz = headers["x-amz-date"][0]
            sig, _ = fake_sigv4.compute_signature(
                method, path, headers, body.encode("utf-8"), auth, amz,
                auth.access_key, ctx["credentials"]["secret_access_key"], None, False)
            self.assertEqual(sig, auth.signature, case)
            checked += 1
        self.assertGreater(checked, 20)


class TestSts(FakeCase):
    def test_assume_role_ok(self):
        st, h, body = self.fake.sts({"Action": "AssumeRole", "RoleArn": READER,
                                     "RoleSessionName": "cwsweep-1",
                                     "ExternalId": "basic-ext-1111",
                                     "DurationSeconds": "900"}, CALLER)
        self.assertEqual(st, 200)
        self.assertEqual(h["content-type"], "text/xml")
        (key, secret, token), exp = sts_creds(body)
        self.assertTrue(key.startswith("ASIA") and len(key) == 20)
        self.assertTrue(400 <= len(token) <= 1000, len(token))
        for c in "+/=":
            self.assertIn(c, token)
        t = datetime.datetime.strptime(exp, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        self.assertLess(abs(t - (time.time() + 900)), 30)
        root = ET.fromstring(body)
        self.assertEqual(root.find(".//s:AssumedRoleUser/s:Arn", NS).text,
                         "arn:aws:sts::111111111111:assumed-role/cwsweep-reader/cwsweep-1")
        last = self.fake.requests()[-1]
        self.assertEqual((last["action"], last["account"], last["status"]),
                         ("AssumeRole", "111111111111", 200))
        # the temporary credentials work, and only with their token
        st, h, out = self.fake.cw("ListMetrics", {"MetricName": "BytesDownloaded"},
                                  (key, secret, token))
        self.assertEqual(st, 200)
        self.assertEqual(len(out["Metrics"]), 2)
        self.assert_cw_error(self.fake.cw("ListMetrics", {}, (key, secret, None)),
                             403, "InvalidClientTokenId")

    def test_external_id_required_and_checked(self):
        msg = ("User: arn:aws:iam::000000000000:user/cwsweep is not authorized to "
               "perform: sts:AssumeRole on resource: " + READER)
        for ext in (None, "wrong-external-id"):
            p = {"Action": "AssumeRole", "RoleArn": READER, "RoleSessionName": "s1"}
            if ext:
                p["ExternalId"] = ext
            st, h, body = self.fake.sts(p, CALLER)
            self.assertEqual(st, 403)
            self.assertEqual(sts_error(body)[1:3], ("AccessDenied", msg))

    def test_untrusted_and_unknown_roles_denied(self):
        st, h, body = self.fake.sts({"Action": "AssumeRole", "RoleArn": DEV_READER,
                                     "RoleSessionName": "s1"}, STRANGER)
        self.assertEqual(sts_error(body)[1], "AccessDenied")
        st, h, body = self.fake.sts({"Action": "AssumeRole",
                                     "RoleArn": "arn:aws:iam::444444444444:role/nope",
                                     "RoleSessionName": "s1"}, CALLER)
        self.assertEqual(st, 403)
        self.assertEqual(sts_error(body)[1], "AccessDenied")

    def test_validation(self):
        cases = [({"RoleSessionName": "x"}, "roleSessionName"),
                 ({"RoleSessionName": "a" * 65}, "roleSessionName"),
                 ({"RoleSessionName": "bad name"}, "roleSessionName"),
                 ({"ExternalId": "x"}, "externalId"),
                 ({"DurationSeconds": "100"}, "durationSeconds"),
                 ({"DurationSeconds": "50000"}, "durationSeconds"),
                 ({"DurationSeconds": "7200"}, "MaxSessionDuration")]
        for extra, needle in cases:
            p = {"Action": "AssumeRole", "RoleArn": DEV_READER,
                 "RoleSessionName": "ok-name"}
            p.update(extra)
            st, h, body = self.fake.sts(p, CALLER)
            self.assertEqual(st, 400, extra)
            typ, code, msg, _ = sts_error(body)
            self.assertEqual(code, "ValidationError", extra)
            self.assertIn(needle, msg)

    def test_role_chaining(self):
        hop = self.assume("arn:aws:iam::111111111111:role/cwsweep-hop", None)
        chained = self.assume("arn:aws:iam::222222222222:role/cwsweep-chained", None,
                              creds=hop)
        st, h, body = self.fake.sts({"Action": "GetCallerIdentity"}, chained)
        self.assertEqual(st, 200)
        self.assertIn(b"<Account>222222222222</Account>", body)
        st, h, body = self.fake.sts({"Action": "AssumeRole", "DurationSeconds": "7200",
                                     "RoleArn": "arn:aws:iam::222222222222:role/cwsweep-chained",
                                     "RoleSessionName": "s1"}, hop)
        self.assertIn("role chaining", sts_error(body)[2])
        # the chained role trusts only the hop role
        st, h, body = self.fake.sts({"Action": "AssumeRole", "RoleSessionName": "s1",
                                     "RoleArn": "arn:aws:iam::222222222222:role/cwsweep-chained"},
                                    CALLER)
        self.assertEqual(sts_error(body)[1], "AccessDenied")

    def test_web_identity(self):
        p = {"Action": "AssumeRoleWithWebIdentity",
             "RoleArn": "arn:aws:iam::000000000000:role/cwsweep-web",
             "RoleSessionName": "web1", "WebIdentityToken": "fake-oidc-token-basic"}
        st, h, body = self.fake.sts(p, None)
        self.assertEqual(st, 200, body)
        self.assertIn(b"AssumeRoleWithWebIdentityResult", body)
        creds = sts_creds(body)[0]
        self.assertEqual(self.fake.cw("ListMetrics", {}, creds)[0], 200)
        p["WebIdentityToken"] = "forged"
        st, h, body = self.fake.sts(p, None)
        self.assertEqual(sts_error(body)[1], "InvalidIdentityToken")

    def test_caller_identity_and_bad_action(self):
        st, h, body = self.fake.sts({"Action": "GetCallerIdentity"}, CALLER)
        self.assertIn(b"<Arn>arn:aws:iam::000000000000:user/cwsweep</Arn>", body)
        st, h, body = self.fake.sts({"Action": "GetSessionToken"}, CALLER)
        self.assertEqual(sts_error(body)[1], "InvalidAction")


class TestGetMetricData(FakeCase):
    @classmethod
    def setUpClass(cls):
        FakeCase.setUpClass.__func__(cls)
        st, h, body = cls.fake.sts({"Action": "AssumeRole", "RoleArn": READER,
                                    "RoleSessionName": "gmd", "ExternalId": "basic-ext-1111"},
                                   CALLER)
        cls.prod = sts_creds(body)[0]
        st, h, body = cls.fake.sts({"Action": "AssumeRole", "RoleArn": DEV_READER,
                                    "RoleSessionName": "gmd"}, CALLER)
        cls.dev = sts_creds(body)[0]

    def test_hand_computed_daily_values(self):
        # basic-dev-flat: daily values 1000..10000 for 10..1 days ago
        t0 = today0()
        st, h, out = self.gmd(self.dev, [bd_query("flat", "basic-dev-flat")],
                              t0 - 5 * DAY, t0)
        self.assertEqual(st, 200)
        r = out["MetricDataResults"][0]
        self.assertEqual(r["StatusCode"], "Complete")
        self.assertEqual(r["Label"], "BytesDownloaded")
        self.assertEqual(r["Timestamps"], [t0 - d * DAY for d in range(1, 6)])
        self.assertEqual(r["Values"], [10000, 9000, 8000, 7000, 6000])
        # hourly period: 24 points per day that add up to the day
        st, h, out = self.gmd(self.dev, [bd_query("h", "basic-dev-flat", 3600)],
                              t0 - DAY, t0, ScanBy="TimestampAscending")
        r = out["MetricDataResults"][0]
        self.assertEqual(len(r["Values"]), 24)
        self.assertEqual(sum(r["Values"]), 10000)
        self.assertEqual(r["Timestamps"], sorted(r["Timestamps"]))

    def test_spike_and_partial_today(self):
        t0 = today0()
        st, h, out = self.gmd(self.prod, [bd_query("a", "basic-assets")],
                              t0 - 8 * DAY, t0 + DAY)
        r = out["MetricDataResults"][0]
        self.assertEqual(r["Timestamps"][0], t0)  # today's partial value comes first
        self.assertEqual(r["Timestamps"][1], t0 - DAY)
        normal = sorted(r["Values"][2:])[len(r["Values"][2:]) // 2]
        self.assertGreater(r["Values"][1], 5 * normal)
        self.assertLess(r["Values"][0], r["Values"][1])

    def test_exact_dimensions_and_account_isolation(self):
        t0 = today0()
        wrong = bd_query("w", "basic-assets", dims=[
            {"Name": "BucketName", "Value": "basic-assets"},
            {"Name": "StorageType", "Value": "StandardStorage"}])
        st, h, out = self.gmd(self.prod, [wrong, bd_query("ok", "basic-assets"),
                                          bd_query("arch", "basic-archive")],
                              t0 - 3 * DAY, t0)
        res = {r["Id"]: r for r in out["MetricDataResults"]}
        self.assertEqual((res["w"]["StatusCode"], res["w"]["Values"]), ("Complete", []))
        self.assertEqual(len(res["ok"]["Values"]), 3)
        self.assertEqual(res["arch"]["Values"], [])
        st, h, out = self.gmd(self.dev, [bd_query("ok", "basic-assets")], t0 - 3 * DAY, t0)
        self.assertEqual(out["MetricDataResults"][0]["Values"], [])

    def test_limits(self):
        t0 = today0()
        cases = [
            ([bd_query("q%d" % i, "basic-assets") for i in range(501)], "500"),
            ([bd_query("q", "basic-assets"), bd_query("q", "basic-static")], "unique"),
            ([bd_query("Q1", "basic-assets")], "lowercase"),
            ([bd_query("q1", "basic-assets", 60), bd_query("q2", "basic-static", 60)],
             "100800"),
            ([bd_query("q1", "basic-assets", 90)], "multiple of 60"),
            ([bd_query("q1", "basic-assets", DAY, "Median")], "Stat"),
        ]
        for queries, needle in cases:
            res = self.gmd(self.prod, queries, t0 - 40 * DAY, t0)
            self.assert_cw_error(res, 400, "ValidationError")
            self.assertIn(needle, res[2]["message"])
        res = self.gmd(self.prod, [bd_query("q", "basic-assets")], t0, t0 - DAY)
        self.assert_cw_error(res, 400, "ValidationError")
        res = self.gmd(self.prod, [bd_query("q", "basic-assets")],
                       "2024-01-01T00:00:00Z", t0)
        self.assert_cw_error(res, 400, "SerializationException")
        # exactly 100,800 datapoints is allowed
        q = [bd_query("q%d" % i, "basic-assets", 60) for i in range(7)]
        st, h, out = self.gmd(self.prod, q, t0 - 14400 * 60, t0)
        self.assertEqual(st, 200, out)
        res = self.gmd(self.prod, q, t0 - 14400 * 60 - 60, t0)
        self.assert_cw_error(res, 400, "ValidationError")

    def test_list_metrics(self):
        st, h, out = self.fake.cw("ListMetrics", {
            "Namespace": "AWS/S3", "MetricName": "BytesDownloaded",
            "Dimensions": [{"Name": "FilterId", "Value": "EntireBucket"}]}, self.prod)
        names = sorted(d["Value"] for m in out["Metrics"] for d in m["Dimensions"]
                       if d["Name"] == "BucketName")
        self.assertEqual(names, ["basic-assets", "basic-static"])
        st, h, out = self.fake.cw("ListMetrics", {
            "Namespace": "AWS/S3", "Dimensions": [{"Name": "BucketName",
                                                   "Value": "basic-archive"}]}, self.prod)
        self.assertEqual(sorted(m["MetricName"] for m in out["Metrics"]),
                         ["BucketSizeBytes", "NumberOfObjects"])
        st, h, out = self.fake.cw("ListMetrics", {}, self.prod, region="eu-west-1")
        self.assertEqual(out["Metrics"], [])

    def test_get_metric_statistics(self):
        t0 = today0()
        st, h, out = self.fake.cw("GetMetricStatistics", {
            "Namespace": "AWS/S3", "MetricName": "BytesDownloaded",
            "Dimensions": [{"Name": "BucketName", "Value": "basic-dev-flat"},
                           {"Name": "FilterId", "Value": "EntireBucket"}],
            "StartTime": t0 - 3 * DAY, "EndTime": t0, "Period": DAY,
            "Statistics": ["Sum", "SampleCount"]}, self.dev)
        self.assertEqual(st, 200)
        self.assertEqual(out["Label"], "BytesDownloaded")
        self.assertEqual([(d["Timestamp"], d["Sum"], d["Unit"]) for d in out["Datapoints"]],
                         [(t0 - 3 * DAY, 8000, "Bytes"), (t0 - 2 * DAY, 9000, "Bytes"),
                          (t0 - DAY, 10000, "Bytes")])
        self.assertEqual(out["Datapoints"][0]["SampleCount"], 24)
        res = self.fake.cw("GetMetricStatistics", {
            "Namespace": "AWS/S3", "MetricName": "BytesDownloaded",
            "StartTime": t0 - 1441 * 60, "EndTime": t0, "Period": 60,
            "Statistics": ["Sum"]}, self.dev)
        self.assert_cw_error(res, 400, "InvalidParameterCombination")
        self.assertIn("1441", res[2]["message"])


class TestPaging(FakeCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fake-paging-")
        cls.scenario = write_scenario(cls.tmp, "paging.json", basic_with(
            cloudwatch={"page_size": 10, "list_page_size": 3}))
        FakeCase.setUpClass.__func__(cls)
        st, h, body = cls.fake.sts({"Action": "AssumeRole", "RoleArn": READER,
                                    "RoleSessionName": "pg", "ExternalId": "basic-ext-1111"},
                                   CALLER)
        cls.prod = sts_creds(body)[0]

    @classmethod
    def tearDownClass(cls):
        FakeCase.tearDownClass.__func__(cls)
        import shutil
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_get_metric_data_pages(self):
        t0 = today0()
        qs = [bd_query("a", "basic-assets"), bd_query("s", "basic-static")]
        req = {"MetricDataQueries": qs, "StartTime": t0 - 12 * DAY, "EndTime": t0}
        merged = {"a": [], "s": []}
        pages = 0
        token = None
        while True:
            body = dict(req)
            if token:
                body["NextToken"] = token
            st, h, out = self.fake.cw("GetMetricData", body, self.prod)
            self.assertEqual(st, 200, out)
            pages += 1
            for r in out["MetricDataResults"]:
                merged[r["Id"]] += list(zip(r["Timestamps"], r["Values"]))
                if "NextToken" in out and r["Id"] == "s":
                    self.assertEqual(r["StatusCode"], "PartialData")
            token = out.get("NextToken")
            if not token:
                self.assertTrue(all(r["StatusCode"] == "Complete"
                                    for r in out["MetricDataResults"]))
                break
        self.assertEqual(pages, 3)  # 24 points, 10 per page
        self.assertEqual(len(merged["a"]), 12)
        self.assertEqual(len(merged["s"]), 12)
        self.assertEqual([t for t, _ in merged["a"]], [t0 - d * DAY for d in range(1, 13)])
        # a token from another request, and garbage
        st, h, first = self.fake.cw("GetMetricData", req, self.prod)
        other = dict(req, StartTime=t0 - 11 * DAY, NextToken=first["NextToken"])
        self.assert_cw_error(self.fake.cw("GetMetricData", other, self.prod), 400,
                             "InvalidNextToken")
        bad = dict(req, NextToken="garbage!!")
        self.assert_cw_error(self.fake.cw("GetMetricData", bad, self.prod), 400,
                             "InvalidNextToken")
        # MaxDatapoints lowers the page further
        st, h, out = self.fake.cw("GetMetricData", dict(req, MaxDatapoints=5), self.prod)
        self.assertEqual(len(out["MetricDataResults"][0]["Values"]), 5)

    def test_list_metrics_pages(self):
        seen = []
        token = None
        pages = 0
        while True:
            body = {"Namespace": "AWS/S3"}
            if token:
                body["NextToken"] = token
            st, h, out = self.fake.cw("ListMetrics", body, self.prod)
            self.assertEqual(st, 200)
            self.assertLessEqual(len(out["Metrics"]), 3)
            seen += out["Metrics"]
            pages += 1
            token = out.get("NextToken")
            if not token:
                break
        # 2 buckets x (4 request + 2 storage metrics) + archive x 2 storage
        self.assertEqual(len(seen), 14)
        self.assertEqual(pages, 5)
        self.assertEqual(len({json.dumps(m, sort_keys=True) for m in seen}), 14)


class TestFaults(FakeCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fake-faults-")
        faults = [
            {"service": "cloudwatch", "action": "ListMetrics", "account": "111111111111",
             "kind": "throttle", "count": 2},
            {"service": "cloudwatch", "action": "GetMetricStatistics",
             "account": "111111111111", "kind": "error", "status": 503, "count": 1},
            {"service": "cloudwatch", "action": "GetMetricStatistics",
             "account": "111111111111", "kind": "drop", "after": 1, "count": 1},
            {"service": "cloudwatch", "action": "GetMetricStatistics",
             "account": "111111111111", "kind": "truncate", "after": 2, "count": 1},
            {"service": "cloudwatch", "action": "GetMetricStatistics",
             "account": "111111111111", "kind": "malformed", "after": 3, "count": 1},
            {"service": "cloudwatch", "action": "GetMetricStatistics",
             "account": "111111111111", "kind": "slow", "delay_ms": 300, "after": 4,
             "count": 1},
            {"service": "cloudwatch", "action": "GetMetricData", "account": "222222222222",
             "kind": "expired_token", "nth": 2},
            {"service": "sts", "action": "AssumeRole", "account": "999999999999",
             "kind": "access_denied"},
            {"service": "sts", "region": "ap-south-2", "kind": "region_disabled"},
            {"service": "cloudwatch", "action": "GetMetricData", "kind": "query_status",
             "bucket": "basic-static", "status_code": "Forbidden"},
        ]
        cls.scenario = write_scenario(cls.tmp, "faults.json", basic_with(
            faults=faults, rate_limits={"GetCallerIdentity": {"tps": 1, "burst": 2}},
            slack={"responses": [{"status": 429, "retry_after": 2},
                                 {"status": 500}, {"status": 410,
                                                   "body": "channel_is_archived"}]}))
        FakeCase.setUpClass.__func__(cls)

    @classmethod
    def tearDownClass(cls):
        FakeCase.tearDownClass.__func__(cls)
        import shutil
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_throttling_burst(self):
        prod = self.assume()
        for _ in range(2):
            res = self.fake.cw("ListMetrics", {}, prod)
            self.assert_cw_error(res, 400, "Throttling")
        self.assertEqual(self.fake.cw("ListMetrics", {}, prod)[0], 200)
        self.assertEqual(self.fake.requests()[-2]["fault"], "throttle")

    def test_sequence_of_transport_faults(self):
        prod = self.assume()
        t0 = today0()
        body = {"Namespace": "AWS/S3", "MetricName": "BytesDownloaded",
                "Dimensions": [{"Name": "BucketName", "Value": "basic-assets"},
                               {"Name": "FilterId", "Value": "EntireBucket"}],
                "StartTime": t0 - DAY, "EndTime": t0, "Period": DAY,
                "Statistics": ["Sum"]}
        st, h, out = self.fake.cw("GetMetricStatistics", body, prod)
        self.assertEqual(st, 503)
        self.assertEqual(h["x-amzn-query-error"], "ServiceUnavailable;Receiver")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.fake.cw("GetMetricStatistics", body, prod)
        with self.assertRaises(http.client.IncompleteRead):
            self.fake.cw("GetMetricStatistics", body, prod)
        st, h, out = self.fake.cw("GetMetricStatistics", body, prod)
        self.assertEqual(st, 200)
        self.assertIsInstance(out, bytes)  # did not parse as JSON
        t = time.monotonic()
        st, h, out = self.fake.cw("GetMetricStatistics", body, prod)
        self.assertGreaterEqual(time.monotonic() - t, 0.3)
        self.assertEqual(len(out["Datapoints"]), 1)

    def test_expired_token_on_nth_call(self):
        dev = self.assume(DEV_READER, None)
        t0 = today0()
        q = [bd_query("a", "basic-dev-data")]
        self.assertEqual(self.gmd(dev, q, t0 - DAY, t0)[0], 200)
        res = self.gmd(dev, q, t0 - DAY, t0)
        self.assert_cw_error(res, 403, "ExpiredToken")
        self.assertTrue(res[2]["__type"].endswith("ExpiredTokenException"))
        self.assert_cw_error(self.gmd(dev, q, t0 - DAY, t0), 403, "ExpiredToken")
        fresh = self.assume(DEV_READER, None)
        self.assertEqual(self.gmd(fresh, q, t0 - DAY, t0)[0], 200)

    def test_query_status_forbidden(self):
        prod = self.assume()
        t0 = today0()
        st, h, out = self.gmd(prod, [bd_query("a", "basic-assets"),
                                     bd_query("s", "basic-static")], t0 - 3 * DAY, t0)
        res = {r["Id"]: r for r in out["MetricDataResults"]}
        self.assertEqual(res["a"]["StatusCode"], "Complete")
        self.assertEqual((res["s"]["StatusCode"], res["s"]["Values"]), ("Forbidden", []))

    def test_sts_faults(self):
        st, h, body = self.fake.sts({"Action": "AssumeRole",
                                     "RoleArn": "arn:aws:iam::999999999999:role/x-role",
                                     "RoleSessionName": "s1"}, CALLER)
        self.assertEqual(sts_error(body)[1], "AccessDenied")
        st, h, body = self.fake.sts({"Action": "GetCallerIdentity"}, CALLER,
                                    region="ap-south-2")
        self.assertEqual(st, 403)
        self.assertEqual(sts_error(body)[1], "RegionDisabledException")

    def test_rate_limit(self):
        codes = [self.fake.sts({"Action": "GetCallerIdentity"}, STRANGER)[0]
                 for _ in range(4)]
        self.assertEqual(codes[:2], [200, 200])
        self.assertIn(400, codes[2:])
        self.assertEqual(self.fake.requests()[-1]["fault"], "rate_limit")

    def test_slack_script_then_ok(self):
        def post(payload):
            return self.fake.raw("POST", "/slack/T0/B0/secretpath",
                                 json.dumps(payload).encode(),
                                 {"Content-Type": "application/json"})
        st, h, body = post({"text": "one"})
        self.assertEqual((st, h.get("retry-after")), (429, "2"))
        self.assertEqual(post({"text": "one"})[0], 500)
        self.assertEqual(post({"text": "one"})[2], b"channel_is_archived")
        st, h, body = post({"text": "digest", "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}]})
        self.assertEqual((st, body), (200, b"ok"))
        self.assertEqual(self.fake.raw("POST", "/slack/T0/B0/secretpath", b"{not json",
                                       {})[2], b"invalid_payload")
        self.assertEqual(post({"blocks": [{"type": "section"}] * 51})[2], b"invalid_blocks")
        got = self.fake.slack()
        self.assertEqual(len(got["received"]), 1)
        self.assertEqual(got["received"][0]["payload"]["text"], "digest")
        with open(self.fake.log_path) as f:
            self.assertNotIn("secretpath", f.read())


class TestInstanceCredentials(FakeCase):
    def test_imdsv2(self):
        st, h, body = self.fake.raw("PUT", "/latest/api/token")
        self.assertEqual(st, 400)
        st, h, tok = self.fake.raw("PUT", "/latest/api/token", headers={
            "X-aws-ec2-metadata-token-ttl-seconds": "21600"})
        self.assertEqual(st, 200)
        self.assertEqual(h["x-aws-ec2-metadata-token-ttl-seconds"], "21600")
        path = "/latest/meta-data/iam/security-credentials/"
        self.assertEqual(self.fake.raw("GET", path + "cwsweep-instance")[0], 401)
        auth = {"X-aws-ec2-metadata-token": tok.decode()}
        st, h, body = self.fake.raw("GET", path, headers=auth)
        self.assertEqual(body, b"cwsweep-instance")
        st, h, body = self.fake.raw("GET", path + "cwsweep-instance", headers=auth)
        d = json.loads(body)
        self.assertEqual(d["Code"], "Success")
        self.assertTrue(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", d["Expiration"]))
        creds = (d["AccessKeyId"], d["SecretAccessKey"], d["Token"])
        self.assertEqual(self.fake.cw("ListMetrics", {}, creds)[0], 200)
        bad = {"X-aws-ec2-metadata-token": "forged"}
        self.assertEqual(self.fake.raw("GET", path, headers=bad)[0], 401)

    def test_container_credentials(self):
        path = "/container-credentials/cwsweep"
        self.assertEqual(self.fake.raw("GET", path)[0], 401)
        self.assertEqual(self.fake.raw("GET", path, headers={"Authorization": "x"})[0], 403)
        st, h, body = self.fake.raw("GET", path, headers={
            "Authorization": "basic-container-auth-token"})
        d = json.loads(body)
        creds = (d["AccessKeyId"], d["SecretAccessKey"], d["Token"])
        st, h, out = self.fake.sts({"Action": "GetCallerIdentity"}, creds)
        self.assertEqual(st, 200)


class TestProcess(unittest.TestCase):
    def test_sigterm_stops_cleanly_and_bad_scenario_fails(self):
        fake = FakeAWS(BASIC).start()
        proc = fake.proc
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(10), 0)
        fake.stop()
        with tempfile.TemporaryDirectory() as tmp:
            bad = os.path.join(tmp, "bad.json")
            with open(bad, "w") as f:
                f.write('{"accounts": [ {"id": "12"} ]}')
            py = os.environ.get("CW_PYTHON") or sys.executable
            r = subprocess.run([py, os.path.join(SRC, "tests/fake_aws/fake_aws.py"),
                                "--scenario", bad], capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 2)
            self.assertIn(b"12", r.stderr)

    def test_builtin_verifier_mode(self):
        os.environ["FAKE_AWS_VERIFIER"] = "builtin"
        try:
            with FakeAWS(BASIC) as fake:
                self.assertEqual(fake.cw("ListMetrics", {}, CALLER)[0], 200)
                self.assertEqual(fake.cw("ListMetrics", {}, (CALLER[0], "x", None))[0], 403)
                st = fake.stats()
                self.assertEqual((st["verifier"], st["verified_builtin"]), ("builtin", 1))
        finally:
            del os.environ["FAKE_AWS_VERIFIER"]

    def test_demo_scenario(self):
        caller = ("AKIADEMO00000000CALLER", "demo/caller/secret/key/0000000000000000", None)
        with FakeAWS("tests/fake_aws/scenarios/demo.json") as fake:
            def assume(acct, ext):
                p = {"Action": "AssumeRole", "RoleSessionName": "demo",
                     "RoleArn": "arn:aws:iam::%s:role/cwsweep-reader" % acct}
                if ext:
                    p["ExternalId"] = ext
                return fake.sts(p, caller)
            st, h, body = assume("333333333333", None)
            self.assertEqual(sts_error(body)[2],
                             "User: arn:aws:iam::000000000000:user/cwsweep is not "
                             "authorized to perform: sts:AssumeRole on resource: "
                             "arn:aws:iam::333333333333:role/cwsweep-reader")
            st, h, body = assume("111111111111", "cwsweep-demo-7f3a9c")
            media = sts_creds(body)[0]
            st, h, body = assume("222222222222", "cwsweep-demo-2b81d4")
            self.assertEqual(st, 200)
            st, h, out = fake.cw("ListMetrics", {"MetricName": "BytesDownloaded"}, media,
                                 region="eu-west-1")
            self.assertEqual(len(out["Metrics"]), 2)
            st, h, out = fake.cw("ListMetrics", {"MetricName": "BytesDownloaded"}, media)
            names = {m["Dimensions"][0]["Value"] for m in out["Metrics"]}
            self.assertEqual(len(names), 6)
            self.assertNotIn("media-prod-legacy-archive", names)
            t0 = today0()
            st, h, out = fake.cw("GetMetricData", {
                "MetricDataQueries": [bd_query("a", "media-prod-assets")],
                "StartTime": t0 - 35 * DAY, "EndTime": t0}, media)
            v = out["MetricDataResults"][0]["Values"]
            self.assertEqual(len(v), 35)
            week = sorted(v[1:8])
            self.assertTrue(6 * week[3] < v[0] < 10 * week[3], (v[0], week))
            self.assertTrue(25e9 < week[3] < 55e9)

    def test_demo_same_numbers_on_every_weekday(self):
        # The demo's rhythm follows the series clock, not the calendar: the
        # last 35 complete days are the same numbers whatever day "now" is
        # (each weekday, a Sunday, 1 March after 29 February, New Year).
        caller = ("AKIADEMO00000000CALLER", "demo/caller/secret/key/0000000000000000", None)
        nows = [NOW + d * DAY for d in range(7)] + [
            1835514000,  # 2028-03-01T09:00:00Z, after 29 February
            1830297540,  # 2027-12-31T23:59:00Z
            1798761600]  # 2027-01-01T00:00:00Z
        seen = []
        for now in nows:
            with FakeAWS("tests/fake_aws/scenarios/demo.json", now=now) as fake:
                st, h, body = fake.sts({
                    "Action": "AssumeRole", "RoleSessionName": "demo",
                    "ExternalId": "cwsweep-demo-7f3a9c",
                    "RoleArn": "arn:aws:iam::111111111111:role/cwsweep-reader"}, caller)
                media = sts_creds(body)[0]
                t0 = today0(now)
                st, h, out = fake.cw("GetMetricData", {
                    "MetricDataQueries": [bd_query("a", "media-prod-assets"),
                                          bd_query("b", "media-prod-videos")],
                    "StartTime": t0 - 35 * DAY, "EndTime": t0}, media)
                self.assertEqual(st, 200)
                seen.append([r["Values"] for r in out["MetricDataResults"]])
        for other in seen[1:]:
            self.assertEqual(other, seen[0])

if __name__ == "__main__":
    unittest.main(verbosity=2)
