#!/usr/bin/env python3
"""test_sweep.py - `cwsweep run` end to end against the fake AWS endpoint.

Every test starts its own fake (tests/fake_aws, a free loopback port, the
series clock pinned to yesterday noon UTC and cwsweep run with the same
--at, so two runs see the same numbers) and stops it whatever happens.
cwsweep runs with a clean environment: the fake's endpoint and caller keys,
HOME in a temp folder, no shared config, no instance metadata.

Each sweep is checked three ways: the exit code; the rows of report.csv
(csv module) and report.json (json module), compared with what the fake
serves (GET /_series); and the fake's own record (GET /_requests, /_stats):
every signed request verified (with botocore's signer when the fake's
python imports botocore), nothing unsigned, no bad signature.

Scenarios: tests/fake_aws/scenarios/demo.json with accounts.yaml.example,
and tests/fake_aws/scenarios/itest_org.json, which the tests copy and
extend with faults and paging.  Inventories are written by the tests.
"""
import calendar
import csv
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import zipfile

BIN = os.path.abspath(os.environ["CW_BIN"]) if os.environ.get("CW_BIN") else ""
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("CW_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
PY = os.environ.get("CW_PYTHON") or sys.executable
sys.path.insert(0, os.path.join(SRC, "tests", "fake_aws"))
from fakehelper import FakeAWS, RecordingProxy, clock_env, report_rows  # noqa: E402

DEMO = os.path.join(SRC, "tests", "fake_aws", "scenarios", "demo.json")
ORG = os.path.join(SRC, "tests", "fake_aws", "scenarios", "itest_org.json")
EXAMPLE = os.path.join(SRC, "accounts.yaml.example")

CSV_COLUMNS = [
    "run_id", "account_id", "account_name", "region", "bucket", "metric",
    "detector", "period_start", "value", "baseline", "limit", "change_pct",
    "score", "status", "severity", "alert", "est_excess_usd", "unit", "note",
    # appended columns (the first 19 keep their order)
    "value_gb", "baseline_gb", "est_excess_usd_all", "owner", "tags", "finding_id",
]
REPORTS = ["report.csv", "report.html", "report.json", "report.md", "report.xlsx"]
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

DAY = 86400
# The series clock, pinned (never the wall clock): 2026-06-16T12:00:00Z.  The
# last complete day is then 2026-06-15, which the scenarios' "days_ago: 1"
# spikes hit.
SERIES_NOW = 1781611200
LAST_DAY = (SERIES_NOW // DAY - 1) * DAY


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


AT = iso(SERIES_NOW)

# The callers of the scenarios (key, secret, session token).  itest_org's
# secret and token are distinctive so that a leak is easy to find.
DEMO_CALLER = ("AKIADEMO00000000CALLER", "demo/caller/secret/key/0000000000000000", None)
ORG_CALLER = ("AKIAITESTCALLER00001", "itestCallerSECRETdoNotLeak/0000000000001",
              "itestCallerSESSIONTOKENdoNotLeak+0000000000000000000000000000000000/0000=")
# Every session token the fake issues starts with this (fake_aws.py).
ISSUED_TOKEN_PREFIX = "IQoJb3JpZ2luX2VjE"

ALPHA, BETA, GAMMA = "111111111111", "222222222222", "300000000000"
# What itest_org.json + ORG_INVENTORY judge: (account, region, bucket).
ORG_JUDGED = {
    (ALPHA, "us-east-1", "alpha-assets"), (ALPHA, "us-east-1", "alpha-logs"),
    (ALPHA, "eu-west-1", "alpha-eu"),
    (BETA, "us-east-1", "beta-data"), (BETA, "us-east-1", "beta-web"),
    (GAMMA, "us-east-1", "gamma-one"), (GAMMA, "eu-west-1", "gamma-eu"),
}
DETECTORS = {"mean7d", "zscore"}

# alpha: a flat bucket list over two regions (cwsweep finds each bucket's
# region), an ExternalId, a bucket without request metrics; beta: one
# region; gamma: `buckets: auto` over two regions.
ORG_INVENTORY = """\
defaults:
  regions: [us-east-1]
  lookback_days: 35
  period: 1d
  detectors: {mean7d: {}, zscore: {}}   # pinned: the assertions name them
accounts:
  - id: "111111111111"
    name: alpha
    role_arn: arn:aws:iam::111111111111:role/cwsweep-reader
    external_id: itest-ext-alpha-42
    regions: [us-east-1, eu-west-1]
    buckets: [alpha-assets, alpha-logs, alpha-eu, alpha-cold]
  - id: "222222222222"
    name: beta
    role_arn: arn:aws:iam::222222222222:role/cwsweep-reader
    buckets: [beta-data, beta-web]
  - id: "300000000000"
    name: gamma
    role_arn: arn:aws:iam::300000000000:role/cwsweep-reader
    regions: [us-east-1, eu-west-1]
    buckets: auto
"""

HAVE_BOTOCORE = False


def setUpModule():
    global HAVE_BOTOCORE
    if not BIN or not os.access(BIN, os.X_OK):
        raise unittest.SkipTest("CW_BIN is not an executable: %r" % BIN)
    p = subprocess.run([PY, "-c", "import botocore"], capture_output=True)
    HAVE_BOTOCORE = p.returncode == 0
    if not HAVE_BOTOCORE:
        print("\n*** NOTE: botocore does not import in %s: the fake verifies SigV4 "
              "with its own standard-library code only, not with botocore's signer "
              "***\n" % PY, file=sys.stderr)


# ---- a recording proxy in front of the fake ---------------------------------

# ---- the base of every test -------------------------------------------------

class Report:
    def __init__(self, out, rows, doc):
        self.out, self.rows, self.doc = out, rows, doc

    def results(self, **match):
        return [r for r in self.rows if r["status"] in ("ok", "anomaly")
                and all(r[k] == v for k, v in match.items())]

    def judged(self):
        """{(account, region, bucket): {detector: row}}"""
        out = {}
        for r in self.results():
            out.setdefault((r["account_id"], r["region"], r["bucket"]), {})[r["detector"]] = r
        return out

    def failures(self, **match):
        return [f for f in self.doc["failures"]
                if all(f[k] == v for k, v in match.items())]

    def unmeasured(self):
        return self.doc.get("unmeasured") or []

    def accounts_seen(self):
        ids = {r["account_id"] for r in self.rows}
        return ids

    def comparable_rows(self):
        """The CSV rows without the run id, sorted: equal for equal sweeps."""
        return sorted(tuple(r[c] for c in CSV_COLUMNS[1:]) for r in self.rows)


class SweepCase(unittest.TestCase):
    maxDiff = 4000

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cwsweep-itest-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.home = os.path.join(self.tmp, "home")
        os.mkdir(self.home)
        self.nfiles = 0

    # -- setup helpers --

    def tmpfile(self, name, text):
        self.nfiles += 1
        path = os.path.join(self.tmp, "%02d-%s" % (self.nfiles, name))
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def start_fake(self, scenario=ORG, patch=None, now=SERIES_NOW):
        """Start a fake on a free port (stopped at cleanup); patch is a
        function that edits a copy of the scenario first."""
        path = scenario
        if patch is not None:
            with open(scenario, encoding="utf-8") as f:
                sc = json.load(f)
            patch(sc)
            path = self.tmpfile("scenario.json", json.dumps(sc))
        fake = FakeAWS(path, now=now)
        fake.start()
        self.addCleanup(fake.stop)
        return fake

    def start_proxy(self, fake):
        proxy = RecordingProxy(fake.port)
        self.addCleanup(proxy.stop)
        return proxy

    def env_for(self, fake, caller=ORG_CALLER, url=None):
        env = fake.env(access_key=caller[0], secret_key=caller[1])
        if caller[2]:
            env["AWS_SESSION_TOKEN"] = caller[2]
        if url:
            env["AWS_ENDPOINT_URL"] = url
        env.update(HOME=self.home, AWS_EC2_METADATA_DISABLED="true",
                   AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        return env

    def cwsweep(self, argv, env, timeout=60):
        return subprocess.run([BIN] + argv, env=env, cwd=self.tmp, capture_output=True,
                              text=True, timeout=timeout)

    def sweep(self, fake, inventory, *extra, out="out", caller=ORG_CALLER, url=None,
              plain=True, at=AT):
        """cwsweep run (--no-state --no-slack --at AT unless plain=False);
        returns (process, Report or None)."""
        if not os.path.isabs(inventory) and "\n" in inventory:
            inventory = self.tmpfile("inventory.yaml", inventory)
        out = os.path.join(self.tmp, out)
        argv = ["run", "-i", inventory, "-o", out, "--at", at]
        if plain:
            argv += ["--no-state", "--no-slack"]
        p = self.cwsweep(argv + list(extra), self.env_for(fake, caller, url))
        rep = self.read_reports(out, p) if os.path.isdir(out) else None
        return p, rep

    # -- checks --

    def read_reports(self, out, proc, mode="run"):
        """Parse the three reports; check that they agree with each other
        and with the exit code."""
        # the run lock lives in the folder by default (--lock)
        self.assertEqual(sorted(f for f in os.listdir(out) if f != ".cwsweep.lock"), REPORTS,
                         "exactly the three reports, no temporary file\n" + proc.stderr)
        with open(os.path.join(out, "report.csv"), "rb") as f:
            raw = f.read().decode("utf-8")
        table = list(csv.reader(io.StringIO(raw, newline="")))
        self.assertEqual(table[0], CSV_COLUMNS)
        rows = [dict(zip(CSV_COLUMNS, r)) for r in table[1:]]
        for r in table[1:]:
            self.assertEqual(len(r), len(CSV_COLUMNS), r)
        with open(os.path.join(out, "report.json"), encoding="utf-8") as f:
            doc = report_rows(json.load(f))
        self.assertEqual(doc["schema"], "cwsweep.report/3")
        self.assertEqual(doc["run"]["mode"], mode)
        s = doc["summary"]
        res = [r for r in rows if r["status"] in ("ok", "anomaly", "insufficient_history")]
        self.assertEqual(len(res), s["judgements"])
        self.assertEqual(len(doc["results"]), s["judgements"])
        self.assertEqual(len(doc["failures"]), s["failures"])
        self.assertEqual(len(doc.get("unmeasured") or []), s["not_measured"])
        self.assertEqual(sum(r["status"] == "failed" for r in rows), s["failures"])
        self.assertEqual(sum(r["status"] == "not_found" for r in rows), s["not_measured"])
        self.assertEqual(sum(r["status"] == "not_watched" for r in rows), s["not_watched"])
        self.assertEqual(len(doc["unwatched"]), s["not_watched"])
        self.assertEqual(sum(r["status"] == "anomaly" for r in rows), s["anomalies"])
        for r in rows:
            self.assertEqual(r["run_id"], doc["run"]["run_id"])
            if r["status"] in ("ok", "anomaly"):
                self.assertRegex(r["period_start"], ISO_UTC)
                self.assertTrue(math.isfinite(float(r["value"])), r)
        with open(os.path.join(out, "report.md"), encoding="utf-8") as f:
            self.assertTrue(f.read().startswith("# cwsweep report\n"))
        want = 3 if s["failures"] else (1 if s["anomalies"] else 0)
        self.assertEqual(proc.returncode, want,
                         "exit code disagrees with the report\n" + proc.stderr)
        return Report(out, rows, doc)

    def assert_signed(self, fake):
        """Every CloudWatch/STS request reached the fake signed, and the fake
        verified every signature.  Returns the request log."""
        reqs = fake.requests()
        signed = [r for r in reqs if r["service"] in ("cloudwatch", "sts")]
        st = fake.stats()
        self.assertEqual(st["bad_signature"], 0, st)
        self.assertEqual(st["unsigned"], 0, st)
        self.assertEqual(st["verified"], len(signed), st)
        self.assertEqual([r for r in signed if r["signature"] != "ok"], [])
        if HAVE_BOTOCORE:
            self.assertEqual(st["verifier"], "botocore", st)
            self.assertEqual(st["verified_botocore"], len(signed), st)
        else:
            print("NOTE: %s: signatures verified by the fake's builtin SigV4 code, "
                  "not botocore" % self.id(), file=sys.stderr)
        return reqs

    def series(self, fake, account, bucket):
        """{day start: daily Sum} as the fake serves it."""
        s = fake.get("/_series?account=%s&bucket=%s&period=86400&stat=Sum"
                     % (account, bucket))
        return dict(zip(s["Timestamps"], s["Values"]))

    def assert_judged(self, fake, rep, targets, detectors=DETECTORS):
        """Each target has its rows of `detectors` (mean7d and zscore), for
        the last complete day, with the value the fake serves and the series
        the fake serves."""
        judged = rep.judged()
        results = {(r["account_id"], r["region"], r["bucket"], r["detector"]): r
                   for r in rep.doc["results"]}
        for t in sorted(targets):
            self.assertIn(t, judged, "no row for %s" % (t,))
            self.assertTrue(detectors <= set(judged[t]), (t, sorted(judged[t])))
            want = self.series(fake, t[0], t[2])
            for det in detectors:
                row = judged[t][det]
                self.assertEqual(row["period_start"], iso(LAST_DAY), (t, det))
                self.assertEqual(float(row["value"]), want[LAST_DAY], (t, det))
                h = rep.doc["series"][results[t + (det,)]["series"]]
                # the history of a series with a finding only
                self.assertEqual(h["values"] is not None,
                                 any(r["status"] == "anomaly" for r in judged[t].values()),
                                 (t, det))
                if h["values"] is None:
                    continue
                start = calendar.timegm(time.strptime(h["start"], "%Y-%m-%dT%H:%M:%SZ"))
                self.assertEqual(h["values"],
                                 [want[start + i * DAY] for i in range(len(h["values"]))],
                                 "the series of %s differs from the fake's" % (t,))

    def assert_no_rows_for(self, rep, account):
        self.assertEqual([r for r in rep.rows if r["account_id"] == account
                          and r["status"] != "failed"], [])

    def gmd_calls(self, reqs, account=None, region=None, storage=False):
        """GetMetricData calls of the request metrics (storage=True: of the
        stored bytes, AWS/S3 BucketSizeBytes)."""
        return [r for r in reqs if r["action"] == "GetMetricData"
                and (r.get("metric") == "BucketSizeBytes") == storage
                and (account is None or r["account"] == account)
                and (region is None or r["region"] == region)]

    def lm_calls(self, reqs, account=None, region=None, storage=False):
        return [r for r in reqs if r["action"] == "ListMetrics"
                and (r.get("metric") == "BucketSizeBytes") == storage
                and (account is None or r["account"] == account)
                and (region is None or r["region"] == region)]


def add_faults(*faults):
    def patch(sc):
        sc.setdefault("faults", []).extend(faults)
    return patch


# ---- 1. the demo: several accounts, ExternalId, a denied role ----------------

class DemoSweepTest(SweepCase):

    def test_demo_findings_are_the_same_on_every_weekday(self):
        # scripts/demo sweeps the real "now": its findings (bucket, value,
        # baseline, change) must not depend on the weekday it runs on
        seen = {}
        for d in range(7):
            now = SERIES_NOW + d * DAY
            fake = self.start_fake(DEMO, now=now)
            p, rep = self.sweep(fake, EXAMPLE, caller=DEMO_CALLER, out="out%d" % d,
                                at=iso(now))
            self.assertEqual(p.returncode, 3, p.stderr)
            seen[d] = sorted((r["bucket"], r["detector"], r["value"], r["baseline"],
                              r["change_pct"]) for r in rep.rows if r["status"] == "anomaly")
            self.assertTrue(seen[d], p.stderr)
        for d in range(1, 7):
            self.assertEqual(seen[d], seen[0], "day %d" % d)

    def test_demo_multi_account_external_id(self):
        fake = self.start_fake(DEMO)
        proxy = self.start_proxy(fake)
        p, rep = self.sweep(fake, EXAMPLE, caller=DEMO_CALLER, url=proxy.url)
        self.assertEqual(p.returncode, 3, p.stderr)

        # exactly the spike: media-prod-assets, robust (the example's default
        # set; newhigh leaves daily series to robust), the last day
        # (and the same spike in media-prod's AWS/Billing AmazonS3 spend)
        billing = [r for r in rep.rows if r["status"] == "anomaly" and not r["bucket"]]
        self.assertEqual(sorted((r["account_id"], r["metric"], r["detector"], r["unit"])
                                for r in billing),
                         [("111111111111", "AWS/Billing EstimatedCharges AmazonS3 (daily)",
                           "robust", "USD")])
        # the denied account's spend is known all the same: billing needs
        # nothing from the member accounts
        self.assertTrue([r for r in rep.rows if r["account_id"] == "333333333333"
                         and r["metric"].startswith("AWS/Billing")])
        anomalies = [r for r in rep.rows if r["status"] == "anomaly" and r["bucket"]]
        self.assertEqual(sorted((r["account_id"], r["region"], r["bucket"], r["detector"])
                                for r in anomalies),
                         [("111111111111", "us-east-1", "media-prod-assets", "robust")])
        s = self.series(fake, "111111111111", "media-prod-assets")
        r = anomalies[0]
        self.assertEqual(r["period_start"], iso(LAST_DAY))
        self.assertEqual(float(r["value"]), s[LAST_DAY])
        self.assertEqual(r["severity"], "warning")
        self.assertEqual(r["account_name"], "media-prod")
        self.assertEqual(r["unit"], "Bytes")
        # robust: at least 2.5x the expected value (ratio 2.5, daily default)
        base, limit = float(r["baseline"]), float(r["limit"])
        self.assertGreater(base, 0)
        self.assertGreaterEqual(limit, 2.5 * base * (1 - 1e-12))
        self.assertGreater(s[LAST_DAY], limit)
        # a priced series: the excess is estimated in dollars
        self.assertGreater(float(r["est_excess_usd"]), 3)

        # every measured bucket of media-prod and analytics is judged, in its region
        with open(DEMO, encoding="utf-8") as f:
            demo = json.load(f)
        want = {(a["id"], b["region"], b["name"]) for a in demo["accounts"]
                if a["id"] not in ("333333333333", "999999999999") for b in a["buckets"]
                if b.get("request_metrics", True)}
        self.assertEqual({t for t in rep.judged() if t[2]}, want)
        self.assertIn("threshold", rep.judged()[("111111111111", "us-east-1",
                                                  "media-prod-videos")])
        self.assert_judged(fake, rep, want, {"robust", "newhigh"})

        # the denied account: one failure row, with the role and AWS's words
        role = "arn:aws:iam::333333333333:role/cwsweep-reader"
        aws_msg = ("User: arn:aws:iam::000000000000:user/cwsweep is not authorized to "
                   "perform: sts:AssumeRole on resource: " + role)
        self.assertEqual(len(rep.doc["failures"]), 1, rep.doc["failures"])
        f = rep.doc["failures"][0]
        self.assertEqual((f["account_id"], f["account_name"], f["stage"], f["code"]),
                         ("333333333333", "sandbox", "assume-role", "AccessDenied"))
        self.assertIn(role, f["message"])
        self.assertIn(aws_msg, f["message"])
        sandbox = [r for r in rep.rows if r["account_id"] == "333333333333"
                   and not r["metric"].startswith("AWS/Billing")]
        self.assertEqual(len(sandbox), 1, sandbox)
        self.assertEqual(sandbox[0]["status"], "failed")
        self.assertIn(aws_msg, sandbox[0]["note"])
        self.assertIn("AccessDenied", sandbox[0]["note"])
        # and the bucket with data but without request metrics: not
        # watched (with the fix and its price), not a 0
        self.assertEqual(rep.unmeasured(), [])
        self.assertEqual(sorted(u["bucket"] for u in rep.doc["unwatched"]),
                         ["analytics-ml-datasets", "media-prod-legacy-archive"])

        # one AssumeRole per account (and the payer), each with its own ExternalId
        calls = {p_["RoleArn"]: p_ for p_, _ in proxy.sts_calls()}
        self.assertEqual(len(proxy.sts_calls()), 4, list(calls))
        self.assertEqual(calls["arn:aws:iam::999999999999:role/cwsweep-billing"]
                         .get("ExternalId"), "cwsweep-demo-billing")
        self.assertEqual(calls["arn:aws:iam::111111111111:role/cwsweep-reader"]
                         .get("ExternalId"), "cwsweep-demo-7f3a9c")
        self.assertEqual(calls["arn:aws:iam::222222222222:role/cwsweep-reader"]
                         .get("ExternalId"), "cwsweep-demo-2b81d4")
        self.assertNotIn("ExternalId", calls[role])
        for c in calls.values():
            self.assertEqual(c["RoleSessionName"], "cwsweep-demo")
            self.assertEqual(c["DurationSeconds"], "3600")
        reqs = self.assert_signed(fake)
        sts = {r["account"]: (r["status"], r["error_code"]) for r in reqs
               if r["action"] == "AssumeRole"}
        self.assertEqual(sts, {"111111111111": (200, None), "222222222222": (200, None),
                               "333333333333": (403, "AccessDenied"),
                               "999999999999": (200, None)})
        self.assertEqual(rep.doc["run"]["api_calls"], len(reqs))

    def test_wrong_external_id_is_denied(self):
        """The control of the test above: the fake does check ExternalId."""
        fake = self.start_fake()
        p, rep = self.sweep(fake, ORG_INVENTORY.replace("itest-ext-alpha-42",
                                                        "itest-ext-wrong"))
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertEqual([(f["account_id"], f["code"]) for f in rep.doc["failures"]],
                         [(ALPHA, "AccessDenied")])
        self.assert_no_rows_for(rep, ALPHA)
        self.assert_judged(fake, rep, {t for t in ORG_JUDGED if t[0] != ALPHA})
        self.assert_signed(fake)


# ---- 2-8: faults ------------------------------------------------------------

class FaultTest(SweepCase):

    def test_throttling_storm_then_ok(self):
        fake = self.start_fake(patch=add_faults(
            {"service": "cloudwatch", "action": "GetMetricData", "account": BETA,
             "metric": "BytesDownloaded", "kind": "throttle", "count": 2}))
        p, rep = self.sweep(fake, ORG_INVENTORY)
        self.assertEqual(p.returncode, 1, p.stderr)  # as without the storm
        self.assertEqual(rep.doc["failures"], [])
        self.assert_judged(fake, rep, ORG_JUDGED)
        reqs = self.assert_signed(fake)
        beta = [(r["status"], r["error_code"]) for r in self.gmd_calls(reqs, BETA)]
        self.assertEqual(beta, [(400, "Throttling"), (400, "Throttling"), (200, None)])

    def test_throttling_longer_than_the_retries(self):
        fake = self.start_fake(patch=add_faults(
            {"service": "cloudwatch", "action": "GetMetricData", "account": BETA,
             "metric": "BytesDownloaded", "kind": "throttle"}))
        # throttled calls retry, paced, for aws.throttle_window: keep it short
        p, rep = self.sweep(fake, ORG_INVENTORY + "aws:\n  throttle_window: 3s\n")
        self.assertEqual(p.returncode, 3, p.stderr)
        fails = rep.failures(account_id=BETA)
        self.assertEqual(sorted(f["bucket"] for f in fails), ["beta-data", "beta-web"])
        for f in fails:
            self.assertEqual((f["region"], f["stage"], f["code"]),
                             ("us-east-1", "get-metric-data", "Throttling"))
        self.assertEqual(len(rep.doc["failures"]), 2)
        self.assert_no_rows_for(rep, BETA)
        self.assert_judged(fake, rep, {t for t in ORG_JUDGED if t[0] != BETA})
        reqs = self.assert_signed(fake)
        calls = self.gmd_calls(reqs, BETA)
        self.assertGreater(len(calls), 3, "retried past the 3 attempts, within the window")
        self.assertLess(len(calls), 40, "paced, not a retry storm")

    def test_5xx_bursts_then_ok(self):
        fake = self.start_fake(patch=add_faults(
            {"service": "cloudwatch", "action": "GetMetricData", "account": BETA,
             "metric": "BytesDownloaded", "kind": "error", "status": 503, "count": 1},
            {"service": "cloudwatch", "action": "GetMetricData", "account": BETA,
             "metric": "BytesDownloaded", "kind": "error", "status": 500, "after": 1, "count": 1},
            {"service": "cloudwatch", "action": "ListMetrics", "account": GAMMA,
             "region": "us-east-1", "metric": "BytesDownloaded", "kind": "error", "status": 502, "count": 1},
            {"service": "sts", "action": "AssumeRole", "account": ALPHA,
             "kind": "error", "status": 503, "count": 1}))
        p, rep = self.sweep(fake, ORG_INVENTORY)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(rep.doc["failures"], [])
        self.assert_judged(fake, rep, ORG_JUDGED)
        reqs = self.assert_signed(fake)
        self.assertEqual([r["status"] for r in self.gmd_calls(reqs, BETA)], [503, 500, 200])
        self.assertEqual([r["status"] for r in self.lm_calls(reqs, GAMMA, "us-east-1")],
                         [502, 200])
        self.assertEqual([r["status"] for r in reqs if r["action"] == "AssumeRole"
                          and r["account"] == ALPHA], [503, 200])

    def test_expired_token_mid_run_reassumes(self):
        fake = self.start_fake(patch=add_faults(
            {"service": "cloudwatch", "action": "GetMetricData", "account": GAMMA,
             "kind": "expired_token", "nth": 1}))
        p, rep = self.sweep(fake, ORG_INVENTORY, "-v")
        reqs = self.assert_signed(fake)
        gamma = [(r["action"], r["region"], r["status"], r["error_code"]) for r in reqs
                 if r["account"] == GAMMA or r["error_code"] == "ExpiredToken"]
        assumes = [r for r in reqs if r["action"] == "AssumeRole" and r["account"] == GAMMA]
        self.assertEqual(
            len(assumes), 2,
            "BUG: after ExpiredToken cwsweep must AssumeRole again (refresh once, then "
            "retry); it reused the expired credentials instead.  gamma's requests: %s\n"
            "failures: %s" % (gamma, rep.doc["failures"] if rep else None))
        first_expired = next(i for i, r in enumerate(reqs) if r["error_code"] == "ExpiredToken")
        self.assertGreater(reqs.index(assumes[1]), first_expired)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(rep.doc["failures"], [])
        self.assert_judged(fake, rep, ORG_JUDGED)

    def test_access_denied_for_one_account(self):
        fake = self.start_fake(patch=add_faults(
            {"service": "sts", "action": "AssumeRole", "account": BETA,
             "kind": "access_denied"}))
        p, rep = self.sweep(fake, ORG_INVENTORY)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertEqual(len(rep.doc["failures"]), 1, rep.doc["failures"])
        f = rep.doc["failures"][0]
        self.assertEqual((f["account_id"], f["account_name"], f["region"], f["bucket"],
                          f["stage"], f["code"]),
                         (BETA, "beta", "", "", "assume-role", "AccessDenied"))
        self.assertIn("arn:aws:iam::222222222222:role/cwsweep-reader", f["message"])
        self.assertIn("not authorized to perform: sts:AssumeRole", f["message"])
        self.assertEqual(len([r for r in rep.rows if r["account_id"] == BETA]), 1)
        self.assert_judged(fake, rep, {t for t in ORG_JUDGED if t[0] != BETA})
        reqs = self.assert_signed(fake)
        self.assertEqual([r for r in reqs if r["service"] == "cloudwatch"
                          and r["account"] == BETA], [])

    def test_malformed_and_truncated_bodies(self):
        fake = self.start_fake(patch=add_faults(
            {"service": "cloudwatch", "action": "GetMetricData", "account": BETA,
             "metric": "BytesDownloaded", "kind": "malformed"},
            {"service": "cloudwatch", "action": "GetMetricData", "account": GAMMA,
             "region": "eu-west-1", "metric": "BytesDownloaded", "kind": "truncate"}))
        p, rep = self.sweep(fake, ORG_INVENTORY)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertNotIn("Traceback", p.stderr)
        beta = rep.failures(account_id=BETA)
        self.assertEqual(sorted(f["bucket"] for f in beta), ["beta-data", "beta-web"])
        for f in beta:
            self.assertEqual((f["stage"], f["code"]), ("get-metric-data", "MalformedResponse"))
            self.assertIn("GetMetricData", f["message"])
        gamma = rep.failures(account_id=GAMMA)
        self.assertEqual([(f["region"], f["bucket"], f["stage"]) for f in gamma],
                         [("eu-west-1", "gamma-eu", "get-metric-data")])
        self.assertTrue(gamma[0]["code"])
        self.assertEqual(len(rep.doc["failures"]), 3)
        self.assert_no_rows_for(rep, BETA)
        self.assert_judged(fake, rep, {t for t in ORG_JUDGED
                                       if t[0] != BETA and t[2] != "gamma-eu"})
        self.assert_signed(fake)


# ---- 5, 6, 9, 10: paging, batching, discovery, not measured -----------------

class FetchTest(SweepCase):

    def test_pagination_equals_unpaginated(self):
        def tiny_pages(sc):
            sc["cloudwatch"] = {"page_size": 10, "list_page_size": 1}
        paged = self.start_fake(patch=tiny_pages)
        plain = self.start_fake()
        p1, rep1 = self.sweep(paged, ORG_INVENTORY, out="paged")
        p2, rep2 = self.sweep(plain, ORG_INVENTORY, out="plain")
        self.assertEqual(p1.returncode, 1, p1.stderr)
        self.assertEqual(p2.returncode, 1, p2.stderr)
        self.assert_judged(paged, rep1, ORG_JUDGED)
        self.assertEqual(rep1.comparable_rows(), rep2.comparable_rows())
        self.assertEqual(rep1.doc["results"], rep2.doc["results"])
        reqs = self.assert_signed(paged)
        self.assert_signed(plain)
        # NextToken followed: 35 daily points per query, 10 points a page
        for acct, region in {(t[0], t[1]) for t in ORG_JUDGED}:
            calls = self.gmd_calls(reqs, acct, region)
            nq = calls[0]["queries"]
            self.assertEqual(len(calls), math.ceil(35 * nq / 10), (acct, region))
            self.assertTrue(all(c["queries"] == nq and c["status"] == 200 for c in calls))
        lm = self.lm_calls(reqs, ALPHA, "us-east-1")
        self.assertEqual(len(lm), 2, "one metric a page: alpha-assets, alpha-logs")

    def test_datapoint_cap_splits_the_batch(self):
        n = 250
        def big(sc):
            sc["accounts"] = []
            sc["generate"] = {"accounts": 1, "account_id_start": 100000000000,
                              "regions": ["us-east-1"], "buckets_per_account": n,
                              "days": 37, "resolution": 3600, "role_name": "cwsweep-reader",
                              "bucket_prefix": "cap", "spike_every": 0}
        fake = self.start_fake(patch=big)
        buckets = ["cap-100000000000-%03d" % j for j in range(n)]
        inv = ("defaults:\n  regions: [us-east-1]\n  lookback_days: 35\n  period: 1h\n"
               "  detectors: {mean7d: {}, zscore: {}}\n"
               "accounts:\n  - id: \"100000000000\"\n"
               "    role_arn: arn:aws:iam::100000000000:role/cwsweep-reader\n"
               "    buckets:\n" + "".join("      - %s\n" % b for b in buckets))
        p, rep = self.sweep(fake, inv)
        self.assertIn(p.returncode, (0, 1), p.stderr)
        self.assertEqual(rep.doc["failures"], [])
        reqs = self.assert_signed(fake)
        calls = self.gmd_calls(reqs)
        # 1h over 35 days = 840 points a query: 100,800 / 840 = 120 queries a call
        self.assertEqual(len(calls), math.ceil(n / 120), [c["queries"] for c in calls])
        self.assertTrue(all(c["queries"] <= 120 and c["status"] == 200 for c in calls))
        self.assertEqual(sum(c["queries"] for c in calls), n)
        judged = rep.judged()
        self.assertEqual(set(judged), {("100000000000", "us-east-1", b) for b in buckets})
        for t, dets in judged.items():
            self.assertTrue(DETECTORS <= set(dets), t)
            for r in dets.values():
                self.assertRegex(r["period_start"], r"T\d\d:00:00Z$")

    def test_discovery_with_paged_list_metrics(self):
        def more(sc):
            sc["cloudwatch"] = {"list_page_size": 2}
            g = next(a for a in sc["accounts"] if a["id"] == GAMMA)
            tmpl = g["buckets"][0]
            for name, region, extra in [("gamma-two", "us-east-1", {}),
                                        ("gamma-three", "us-east-1", {}),
                                        ("gamma-four", "us-east-1", {}),
                                        ("gamma-five", "us-east-1", {}),
                                        ("gamma-eu-two", "eu-west-1", {}),
                                        ("gamma-cold", "us-east-1", {"request_metrics": False}),
                                        ("gamma-images", "us-east-1", {"filter_id": "ImagesOnly"})]:
                b = dict(tmpl, name=name, region=region)
                b.update(extra)
                g["buckets"].append(b)
        fake = self.start_fake(patch=more)
        p, rep = self.sweep(fake, ORG_INVENTORY)
        self.assertEqual(p.returncode, 1, p.stderr)
        found = {t for t in rep.judged() if t[0] == GAMMA}
        want = {(GAMMA, "us-east-1", b) for b in
                ("gamma-one", "gamma-two", "gamma-three", "gamma-four", "gamma-five")} | \
               {(GAMMA, "eu-west-1", b) for b in ("gamma-eu", "gamma-eu-two")}
        self.assertEqual(found, want)
        self.assert_judged(fake, rep, ORG_JUDGED | want)
        # buckets: auto judges what has request metrics (EntireBucket); the
        # buckets with data but without them are not watched, with the fix
        cold = [r for r in rep.rows if r["bucket"] in ("gamma-cold", "gamma-images")]
        self.assertEqual(sorted((r["bucket"], r["status"], r["region"]) for r in cold),
                         [("gamma-cold", "not_watched", "us-east-1"),
                          ("gamma-images", "not_watched", "us-east-1")])
        self.assertEqual(sorted(u["bucket"] for u in rep.doc["unwatched"]
                                if u["account_id"] == GAMMA),
                         ["gamma-cold", "gamma-images"])
        reqs = self.assert_signed(fake)
        lm = {reg: len(self.lm_calls(reqs, GAMMA, reg))
              for reg in ("us-east-1", "eu-west-1")}
        self.assertEqual(lm, {"us-east-1": 3, "eu-west-1": 1})

    def test_bucket_without_request_metrics_and_flat_regions(self):
        fake = self.start_fake()
        p, rep = self.sweep(fake, ORG_INVENTORY)
        self.assertEqual(p.returncode, 1, p.stderr)  # anomalies; not watched is no failure
        cold = [r for r in rep.rows if r["bucket"] == "alpha-cold"]
        self.assertEqual(len(cold), 1, "one row, not one per region: %s" % cold)
        r = cold[0]
        # it has data (storage metrics in us-east-1): not watched, in its region
        self.assertEqual((r["account_id"], r["region"], r["status"]),
                         (ALPHA, "us-east-1", "not_watched"))
        self.assertGreater(float(r["value"]), 0)  # its stored bytes
        self.assertTrue(r["note"].startswith("not_watched: no request-metrics configuration"),
                        r["note"])
        self.assertIn("put-bucket-metrics-configuration --region us-east-1 --bucket alpha-cold",
                      r["note"])
        self.assertIn("$4.80 a month", r["note"])
        self.assertEqual(rep.unmeasured(), [])
        self.assertEqual(len(rep.doc["unwatched"]), 1)
        u = rep.doc["unwatched"][0]
        self.assertEqual((u["account_id"], u["bucket"], u["region"]),
                         (ALPHA, "alpha-cold", "us-east-1"))
        self.assertAlmostEqual(u["watch_usd_month"], 4.8)
        self.assertIn("put-bucket-metrics-configuration", u["fix"])
        self.assertEqual(rep.doc["summary"]["not_watched"], 1)
        cov = rep.doc["summary"]["coverage"]
        self.assertEqual(cov["watched"] + 1, cov["buckets"])
        self.assertFalse([x for x in rep.doc["results"] if x["bucket"] == "alpha-cold"])
        self.assertEqual(rep.doc["failures"], [])
        # the flat list: each bucket judged in its own region only
        self.assertEqual({t for t in rep.judged() if t[0] == ALPHA},
                         {t for t in ORG_JUDGED if t[0] == ALPHA})
        self.assert_judged(fake, rep, ORG_JUDGED)
        anomalies = {(r["bucket"], r["detector"]) for r in rep.rows if r["status"] == "anomaly"}
        self.assertEqual(anomalies, {("alpha-assets", "mean7d"), ("alpha-assets", "zscore")})
        reqs = self.assert_signed(fake)
        self.assertEqual([c["queries"] for c in self.gmd_calls(reqs, ALPHA, "us-east-1")], [2])
        self.assertEqual([c["queries"] for c in self.gmd_calls(reqs, ALPHA, "eu-west-1")], [1])


# ---- 11-15: dry run, secrets, usage errors, shards, progress ----------------

class CliTest(SweepCase):

    def test_dry_run_makes_no_request(self):
        fake = self.start_fake()
        p, rep = self.sweep(fake, ORG_INVENTORY, "--dry-run")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIsNone(rep, "a dry run writes no report")
        self.assertEqual(fake.requests(), [])
        self.assertEqual(fake.stats()["requests"], 0)
        out = p.stdout
        self.assertIn("no network calls were made", out)
        self.assertIn("accounts      3 (5 account-regions, 2 distinct regions)", out)
        self.assertRegex(out, r"window\s+%s \.\. %s \(period 1d" %
                         (re.escape(iso(LAST_DAY - 34 * DAY)), re.escape(iso(LAST_DAY + DAY))))
        self.assertRegex(out, r"AssumeRole 3, ListMetrics 5")
        m = re.search(r"est\. cost\s+\$(\d+\.\d+): (\d+) metrics requested", out)
        self.assertTrue(m, out)
        self.assertAlmostEqual(float(m.group(1)), int(m.group(2)) * 0.01 / 1000, places=4)

    def test_no_secret_in_any_output(self):
        fake = self.start_fake()
        proxy = self.start_proxy(fake)
        p, rep = self.sweep(fake, ORG_INVENTORY, "--debug-http", url=proxy.url)
        self.assertEqual(p.returncode, 1, p.stderr)
        reqs = self.assert_signed(fake)
        actions = {r["action"] for r in reqs}
        self.assertTrue({"AssumeRole", "ListMetrics", "GetMetricData"} <= actions, actions)
        issued = proxy.issued_secrets()
        self.assertEqual(len(issued), 6, "3 AssumeRole answers, a secret and a token each")
        self.assertTrue(all(t.startswith(ISSUED_TOKEN_PREFIX) for t in issued[1::2]))
        secrets = [ORG_CALLER[1], ORG_CALLER[2]] + issued + proxy.signatures()
        texts = {"stdout": p.stdout, "stderr": p.stderr}
        for name in REPORTS:
            if name.endswith(".xlsx"):  # a zip of XML parts: read every part
                with zipfile.ZipFile(os.path.join(rep.out, name)) as z:
                    texts[name] = "".join(z.read(n).decode("utf-8") for n in z.namelist())
                continue
            with open(os.path.join(rep.out, name), encoding="utf-8") as f:
                texts[name] = f.read()
        for where, text in texts.items():
            for s in secrets:
                self.assertNotIn(s, text, "a secret (%s...) leaked into %s" % (s[:4], where))
            for marker in ("doNotLeak", ISSUED_TOKEN_PREFIX, "Signature=", "Credential="):
                self.assertNotIn(marker, text, "%r in %s" % (marker, where))
        # --debug-http did print the exchanges, with the credentials redacted
        auth = [ln for ln in p.stderr.splitlines() if "Authorization:" in ln]
        self.assertGreaterEqual(len(auth), len([r for r in reqs if r["service"]
                                                in ("cloudwatch", "sts")]))
        for ln in auth:
            self.assertRegex(ln, r"Authorization: \[REDACTED\]$")
        tok = [ln for ln in p.stderr.splitlines() if "X-Amz-Security-Token:" in ln]
        self.assertTrue(tok)
        for ln in tok:
            self.assertRegex(ln, r"X-Amz-Security-Token: \[REDACTED\]$")
        self.assertIn("GraniteServiceVersion20100801.GetMetricData", p.stderr)

    def assert_usage_error(self, p, out, *words):
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertFalse(os.path.exists(out), "exit 2 must write nothing: %s exists"
                         % out)
        for w in words:
            self.assertIn(w, p.stderr)

    def test_usage_errors_write_nothing(self):
        fake = self.start_fake()
        env = self.env_for(fake)
        out = os.path.join(self.tmp, "out", "sub")
        inv = self.tmpfile("inventory.yaml", ORG_INVENTORY)
        bad = os.path.join(SRC, "tests", "inventories", "bad", "syntax_error.yaml")
        p = self.cwsweep(["run", "-i", bad, "-o", out, "--no-state", "--no-slack"], env)
        self.assert_usage_error(p, out, "syntax_error.yaml:")
        self.assertRegex(p.stderr, r"syntax_error\.yaml:\d+:\d+: ")
        missing = os.path.join(self.tmp, "nope.yaml")
        p = self.cwsweep(["run", "-i", missing, "-o", out, "--no-state"], env)
        self.assert_usage_error(p, out, "nope.yaml")
        p = self.cwsweep(["run", "-i", inv, "-o", out, "--no-such-option"], env)
        self.assert_usage_error(p, out, "--no-such-option")
        # no credentials at all: an empty environment (the endpoint aside)
        bare = {"HOME": self.home, "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_ENDPOINT_URL": fake.url}
        p = self.cwsweep(["run", "-i", inv, "-o", out, "--no-state", "--no-slack"], bare)
        self.assert_usage_error(p, out, "no AWS credentials", "environment", "profile",
                                "web identity", "container", "instance metadata")
        self.assertEqual(fake.requests(), [])

    def test_no_credentials_with_dev_null_config_files(self):
        """AWS_CONFIG_FILE=/dev/null (the usual way to switch the shared
        files off, and what the demo does) is an empty file, not an error."""
        fake = self.start_fake()
        out = os.path.join(self.tmp, "out")
        inv = self.tmpfile("inventory.yaml", ORG_INVENTORY)
        env = {"HOME": self.home, "AWS_EC2_METADATA_DISABLED": "true",
               "AWS_ENDPOINT_URL": fake.url, "AWS_CONFIG_FILE": "/dev/null",
               "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", **clock_env()}
        p = self.cwsweep(["run", "-i", inv, "-o", out, "--no-state", "--no-slack"], env)
        self.assert_usage_error(p, out)
        self.assertIn("no AWS credentials", p.stderr,
                      "BUG: the shared files set to /dev/null must read as empty and the "
                      "message name the sources tried; got: %s" % p.stderr.strip())
        self.assertEqual(fake.requests(), [])

    @staticmethod
    def shard_of(account_id, n):
        """The documented shard hash: FNV-1a, then murmur3's fmix32, mod n."""
        h = 2166136261
        for c in account_id.encode():
            h = ((h ^ c) * 16777619) & 0xFFFFFFFF
        h ^= h >> 16
        h = (h * 0x85EBCA6B) & 0xFFFFFFFF
        h ^= h >> 13
        h = (h * 0xC2B2AE35) & 0xFFFFFFFF
        h ^= h >> 16
        return h % n

    def test_shards_cover_every_account_once_and_merge(self):
        fake = self.start_fake()
        inv = self.tmpfile("inventory.yaml", ORG_INVENTORY)
        p, whole = self.sweep(fake, inv, out="whole")
        self.assertEqual(p.returncode, 1, p.stderr)
        n0 = len(fake.requests())
        n = 3
        shards, assumed = [], []
        for k in range(n):
            before = len(fake.requests())
            p, rep = self.sweep(fake, inv, "--shard", "%d/%d" % (k, n), out="shard%d" % k)
            self.assertIn(p.returncode, (0, 1, 3), p.stderr)
            shards.append(rep)
            assumed.append({r["account"] for r in fake.requests()[before:]
                            if r["action"] == "AssumeRole"})
        self.assertGreater(len(fake.requests()), n0)
        seen = [rep.accounts_seen() for rep in shards]
        # the hash is a contract: shards on other machines and versions agree
        want = [{a for a in (ALPHA, BETA, GAMMA) if self.shard_of(a, n) == k}
                for k in range(n)]
        self.assertEqual(seen, want)
        self.assertEqual(sum(1 for s in seen if s), n, "each account its own shard: %s" % seen)
        self.assertEqual(set().union(*seen), {ALPHA, BETA, GAMMA})
        self.assertEqual(assumed, seen)
        self.assertEqual(sum(rep.doc["run"]["accounts"] for rep in shards), 3)
        merged = os.path.join(self.tmp, "merged")
        p = self.cwsweep(["merge"] + [os.path.join(rep.out, "report.json") for rep in shards]
                         + ["-o", merged], {"HOME": self.home})
        self.assertEqual(p.returncode, 1, p.stderr)
        rep = self.read_reports(merged, p, mode="merge")
        self.assertEqual(rep.doc["run"]["run_id"], "merge-" + shards[0].doc["run"]["run_id"])
        self.assertEqual(rep.comparable_rows(), whole.comparable_rows())
        self.assertEqual(rep.doc["summary"], whole.doc["summary"])
        key = lambda r: (r["account_id"], r["region"], r["bucket"], r["detector"])  # noqa: E731
        self.assertEqual(sorted(rep.doc["results"], key=key),
                         sorted(whole.doc["results"], key=key))
        self.assertEqual(rep.unmeasured(), whole.unmeasured())
        # one digest for all the shards: every anomaly of the whole run, once per bucket
        p = self.cwsweep(["merge"] + [os.path.join(r.out, "report.json") for r in shards]
                         + ["-o", os.path.join(self.tmp, "merged2"), "--slack-preview", "-q"],
                         {"HOME": self.home})
        self.assertEqual(p.returncode, 1, p.stderr)
        payload = json.loads(p.stdout)
        text = json.dumps(payload["blocks"])
        spiked = {r["bucket"] for r in whole.doc["results"] if r["status"] == "anomaly"}
        self.assertTrue(spiked)
        for bucket in spiked:
            self.assertEqual(text.count("`%s`" % bucket), 1, text)
        self.assert_signed(fake)

    def test_no_progress_without_terminal_and_quiet(self):
        fake = self.start_fake()
        inv = self.tmpfile("inventory.yaml", ORG_INVENTORY)
        p, rep = self.sweep(fake, inv, out="loud")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertNotIn("\r", p.stderr)
        self.assertNotIn("\x1b", p.stderr)
        lines = p.stderr.splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        m = re.match(r"^cwsweep: run (\S+): 3 accounts, 7 series, 2 anomalies, 0 failures, "
                     r"0 not measured, 1 not watched, watching 7 of 8 buckets "
                     r"\(>99% of stored bytes\), (\d+) API calls, \d+\.\d s$", lines[0])
        self.assertTrue(m, lines[0])
        self.assertEqual(m.group(1), rep.doc["run"]["run_id"])
        self.assertEqual(int(m.group(2)), len(fake.requests()))
        self.assertIn("report: ", p.stdout)
        # -q: nothing on stdout, only the summary line on stderr
        p, rep = self.sweep(fake, inv, "-q", out="quiet")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        self.assertRegex(p.stderr, r"^cwsweep: run \S+: 3 accounts, ")
        # -q with a failing account: still only that line
        fake2 = self.start_fake(patch=add_faults(
            {"service": "sts", "action": "AssumeRole", "account": BETA,
             "kind": "access_denied"}))
        p, rep = self.sweep(fake2, inv, "-q", out="quiet3")
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        self.assertRegex(p.stderr, r"^cwsweep: run \S+: 3 accounts, .* 1 failure, ")
        self.assert_signed(fake)
        self.assert_signed(fake2)


# ---- exclusions: a known event is not an anomaly -----------------------------

class ExclusionTest(SweepCase):

    def test_excluded_spike_is_ok_with_its_reason(self):
        """The demo's one spike, inside an inventory exclusion for its
        buckets: judged ok with the reason; the other buckets are judged as
        usual, and an exclusion for another account changes nothing."""
        with open(EXAMPLE, encoding="utf-8") as f:
            example = f.read()
        excl = ("\nexclusions:\n"
                "  - from: %s\n    to: %s\n    account: \"111111111111\"\n"
                "    bucket: \"media-prod-a*\"\n    reason: a known launch\n"
                "  - {from: %s, to: %s, account: \"222222222222\", reason: other}\n"
                % (iso(LAST_DAY), iso(LAST_DAY + DAY), iso(LAST_DAY), iso(LAST_DAY + DAY)))
        fake = self.start_fake(DEMO)
        p, rep = self.sweep(fake, example + excl, caller=DEMO_CALLER)
        self.assertEqual(p.returncode, 3, p.stderr)  # the denied account only
        # (the demo's billing series still sees the spend: not a bucket)
        self.assertEqual([r for r in rep.rows if r["status"] == "anomaly" and r["bucket"]], [])
        rows = [r for r in rep.rows if r["bucket"] == "media-prod-assets"]
        self.assertTrue(rows)
        for r in rows:
            self.assertEqual(r["status"], "ok")
            self.assertEqual(r["note"], "excluded: a known launch")
        other = [r for r in rep.rows if r["bucket"] == "media-prod-thumbnails"]
        self.assertTrue(other and all(r["note"] == "" for r in other), other)

    def test_ack_quiets_the_digest_and_marks_the_report(self):
        """cwsweep ack records the acknowledgement in the state file; the next
        run marks the spike acknowledged and has nothing new to announce."""
        fake = self.start_fake(DEMO)
        state = os.path.join(self.tmp, "state.json")
        env = self.env_for(fake, DEMO_CALLER)
        p, rep = self.sweep(fake, EXAMPLE, "--state", state, "--no-slack", out="n1",
                            caller=DEMO_CALLER, plain=False)
        self.assertEqual(p.returncode, 3, p.stderr)
        spike = [r for r in rep.rows if r["status"] == "anomaly"
                 and r["bucket"] == "media-prod-assets"]
        self.assertEqual([r["alert"] for r in spike], ["new"])
        for argv, needle in ((["ack", "1111/us-east-1/media-prod-assets", "--state", state],
                              "12 digits"),
                             (["ack", "111111111111/us-east-1", "--state", state],
                              "ACCOUNT/REGION/BUCKET"),
                             (["ack", "111111111111/us-east-1/media-prod-assets", "--state",
                               state, "--until", "2001-01-01T00:00:00Z"], "future")):
            a = self.cwsweep(argv, env)
            self.assertEqual(a.returncode, 2, a.stderr)
            self.assertIn(needle, a.stderr)
        a = self.cwsweep(["ack", "111111111111/us-east-1/media-prod-assets", "--state", state,
                          "--reason", "known launch"], env)
        self.assertEqual(a.returncode, 0, a.stderr)
        self.assertIn("acknowledged 111111111111/us-east-1/media-prod-assets", a.stdout)
        with open(state, encoding="utf-8") as f:
            self.assertEqual(json.load(f)["acks"][0]["reason"], "known launch")
        p, rep = self.sweep(fake, EXAMPLE, "--state", state, "--slack-preview", out="n2",
                            caller=DEMO_CALLER, plain=False)
        spike = [r for r in rep.rows if r["status"] == "anomaly"
                 and r["bucket"] == "media-prod-assets"]
        self.assertEqual([r["alert"] for r in spike], ["acknowledged"])
        # --slack-preview: stdout is the payload alone; none at all when nothing
        # is news (the sandbox's AccessDenied was announced the night before)
        digest = json.loads(p.stdout) if p.stdout.strip() else {}
        self.assertNotIn("media-prod-assets", json.dumps(digest))  # not announced

    def test_ack_refuses_while_a_sweep_holds_the_lock(self):
        """ack takes the runs' lock for its read-modify-write of the state:
        while a sweep holds it (held here as a run holds it), ack records
        nothing, names the holder and exits 75; afterwards it records.  The
        lock is --lock, or the inventory's reporting.lock_file."""
        import fcntl
        state = os.path.join(self.tmp, "state.json")
        lock = os.path.join(self.tmp, "run.lock")
        inv = self.tmpfile("inventory.yaml",
                           'accounts:\n  - {id: "111111111111", regions: [us-east-1], '
                           "buckets: [media]}\nreporting:\n  state_file: %s\n"
                           "  lock_file: %s\n" % (state, lock))
        env = {"HOME": self.home, "PATH": os.environ.get("PATH", ""), **clock_env()}
        target = "111111111111/us-east-1/media"
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(fd, b"4242 2026-11-26T03:00:00Z\n")
            for argv in (["ack", target, "--state", state, "--lock", lock],
                         ["ack", target, "-i", inv]):
                a = self.cwsweep(argv, env)
                self.assertEqual(a.returncode, 75, a.stderr)
                self.assertIn("a sweep is in progress", a.stderr)
                self.assertIn("(pid 4242, started 2026-11-26T03:00:00Z)", a.stderr)
                self.assertIn("nothing was recorded", a.stderr)
                self.assertEqual(a.stdout, "")
                self.assertFalse(os.path.exists(state))
        finally:
            os.close(fd)  # the sweep ends: its lock goes with it
        a = self.cwsweep(["ack", target, "-i", inv, "--reason", "known launch"], env)
        self.assertEqual(a.returncode, 0, a.stderr)
        with open(state, encoding="utf-8") as f:
            self.assertEqual([x["bucket"] for x in json.load(f)["acks"]], ["media"])
        # the lock is free again, emptied by ack as a run empties it
        with open(lock, encoding="utf-8") as f:
            self.assertEqual(f.read(), "")


# ---- replay: the nightly verdict is the --all-periods verdict ------------------

class ReplayTest(SweepCase):

    def test_last_period_equals_all_periods(self):
        """The demo swept as the nightly run does (the last day judged) and
        with --all-periods: for every series and detector, the last day's
        verdict, baseline, limit and note are the same (robust replays its
        episodes from the first fetched day either way)."""
        fake = self.start_fake(DEMO)
        p1, nightly = self.sweep(fake, EXAMPLE, out="nightly", caller=DEMO_CALLER)
        p2, every = self.sweep(fake, EXAMPLE, "--all-periods", out="every",
                               caller=DEMO_CALLER)
        self.assertEqual(p1.returncode, 3, p1.stderr)
        self.assertEqual(p2.returncode, 3, p2.stderr)

        def last_day(rep):
            return {(r["account_id"], r["region"], r["bucket"], r["detector"]):
                    (r["status"], r["baseline"], r["limit"], r["note"])
                    for r in rep.rows
                    if r["status"] != "failed" and r["period_start"] == iso(LAST_DAY)}
        a, b = last_day(nightly), last_day(every)
        self.assertTrue(a)
        self.assertEqual(a, b)
        self.assertIn("robust", {k[3] for k in a})


if __name__ == "__main__":
    unittest.main(verbosity=2)
