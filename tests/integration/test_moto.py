#!/usr/bin/env python3
"""Interop test: cwsweep against moto_server, an independent AWS emulator.

Where `moto_server` is on PATH, the test starts it on a free loopback port,
assumes a role into two accounts through moto's STS (moto keeps accounts
apart by the credentials AssumeRole hands out), puts 35 days of AWS/S3
BytesDownloaded history (BucketName + FilterId=EntireBucket, four points a
day) into each account with PutMetricData - boto3 when it imports, else
signed AWS JSON 1.0 requests - with one spike yesterday in account A and a
huge partial value today in account B, then sweeps both accounts with
`cwsweep run` (AWS_ENDPOINT_URL pointing at moto) and checks the report:
each account's own buckets and nothing else, the spike an anomaly with the
exact value, every other bucket ok with yesterday's exact total, a bucket
that exists only in the other account "not found", exit code 1.

Coverage and billing, through the same moto: every bucket also gets daily
AWS/S3 BucketSizeBytes (StorageType=StandardStorage), and account A has one
more bucket with storage metrics only ("not watched", with its exact stored
bytes); the caller's account plays the payer and holds AWS/Billing
EstimatedCharges (month to date, one value a day) for both linked accounts,
with a spike yesterday in account B's AmazonS3.

A second class makes an organisation in moto (boto3: an OU with a nested
OU, accounts moved into them) and sweeps it from an inventory that has only
an `organization:` section, a role template and one rename.

Where moto_server is absent the test says SKIPPED loudly and passes.

moto quirks met here, handled in the test only: moto answers JSON 1.0 with
`Content-Type: text` (no x-amz-json-1.0), does not verify signatures or
ExternalId, accepts any role ARN, keeps PutMetricData points of any age
(AWS refuses points older than two weeks; the history is put anyway, as
CloudWatch would have collected it day by day), and its ListMetrics ignores
the two-week activity window.
"""

import csv
import datetime
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

SRC = os.environ.get("CW_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SRC, "tests", "fake_aws"))
import fakehelper  # noqa: E402

MOTO = shutil.which("moto_server")
try:
    import boto3  # noqa: F401
    HAVE_BOTO3 = True
except ImportError:
    HAVE_BOTO3 = False

DAY = 86400
GB = 10 ** 9
REGION = "us-east-1"
BASE = ("AKIAMOTOINTEROP00001", "moto/interop/base/secret/000000000000000")
ACCT_A, ACCT_B, CALLER_ACCT = "111111111111", "222222222222", "123456789012"
# daily totals: base x a weekday factor; whole numbers divisible by 4
WEEKLY = [1.00, 1.02, 0.98, 1.01, 0.99, 0.97, 1.03]
BUCKETS = {
    ACCT_A: {"a-assets": 40 * GB, "a-logs": 60 * GB, "a-media": 120 * GB},
    ACCT_B: {"b-data": 80 * GB, "b-web": 24 * GB},
    CALLER_ACCT: {"caller-only": 50 * GB},
}
SPIKE = (ACCT_A, "a-logs", 10)        # yesterday x10 in account A
COLD = (ACCT_A, "a-cold", 7 * GB)     # storage metrics only: not watched
BILL = {ACCT_A: 30.0, ACCT_B: 12.0}   # AmazonS3 dollars a day (month to date summed)
BILL_SPIKE = (ACCT_B, 8)              # yesterday x8 in account B's AmazonS3
PARTIAL = (ACCT_B, "b-web", 10 ** 13)  # today, not a complete day: never judged


def daily_total(base, day):
    """Bytes of the UTC day starting at epoch `day` for a bucket of `base`."""
    wd = datetime.datetime.fromtimestamp(day, datetime.timezone.utc).weekday()
    return int(base * WEEKLY[wd]) // 4 * 4


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Moto:
    """moto_server as a child process on a free loopback port."""

    def __init__(self):
        self.proc = None
        self.port = None
        self.log = None

    def start(self, timeout=30.0):
        for _ in range(3):  # a port taken between the probe and the bind: again
            self.port = free_port()
            self.log = tempfile.TemporaryFile()
            self.proc = subprocess.Popen([MOTO, "-p", str(self.port), "-H", "127.0.0.1"],
                                         stdout=self.log, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                    c.request("GET", "/moto-api/")
                    if c.getresponse().status == 200:
                        return self
                except OSError:
                    time.sleep(0.2)
                finally:
                    c.close()
            self.stop()
        raise RuntimeError("moto_server did not answer on 127.0.0.1")

    def output(self):
        if not self.log:
            return ""
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-3000:]

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.proc = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def post(self, service, body, headers, creds, method="POST", path="/"):
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        h = fakehelper.sign(self.url + path, body, headers, creds[0], creds[1],
                            creds[2] if len(creds) > 2 else None, REGION, service, now,
                            method=method)
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def org(self, action, payload):
        """One Organizations call (AWS JSON 1.1) as the base caller."""
        st, data = self.post("organizations", json.dumps(payload).encode(), {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSOrganizationsV20161128." + action}, BASE + (None,))
        if st != 200:
            raise RuntimeError("moto %s: HTTP %d %r" % (action, st, data[:300]))
        return json.loads(data) if data else {}

    def assume_role(self, account):
        body = urlencode({"Action": "AssumeRole", "Version": "2011-06-15",
                          "RoleArn": "arn:aws:iam::%s:role/cwsweep-reader" % account,
                          "RoleSessionName": "cwsweep-moto-setup"}).encode()
        st, data = self.post("sts", body, {"Content-Type":
                                           "application/x-www-form-urlencoded; charset=utf-8"},
                             BASE + (None,))
        if st != 200:
            raise RuntimeError("moto AssumeRole %s: HTTP %d %r" % (account, st, data[:300]))
        root = ET.fromstring(data)
        return tuple(root.find(".//{*}Credentials/{*}" + k).text
                     for k in ("AccessKeyId", "SecretAccessKey", "SessionToken"))

    def put_metric_data(self, creds, data, namespace="AWS/S3", items=None):
        """data: [(bucket, epoch, value)] of BytesDownloaded, or ready items;
        boto3 when there, else JSON 1.0."""
        if items is None:
            items = [{"MetricName": "BytesDownloaded",
                      "Dimensions": [{"Name": "BucketName", "Value": b},
                                     {"Name": "FilterId", "Value": "EntireBucket"}],
                      "Timestamp": t, "Value": float(v), "Unit": "Bytes"}
                     for b, t, v in data]
        for i in range(0, len(items), 500):
            chunk = items[i:i + 500]
            if HAVE_BOTO3:
                import boto3
                from botocore.config import Config
                # botocore gzips bodies over 10 KB; moto 5 then fails to
                # decompress them (BadGzipFile, HTTP 500): send them plain
                cw = boto3.client("cloudwatch", endpoint_url=self.url, region_name=REGION,
                                  aws_access_key_id=creds[0], aws_secret_access_key=creds[1],
                                  aws_session_token=creds[2],
                                  config=Config(disable_request_compression=True))
                for it in chunk:
                    it["Timestamp"] = datetime.datetime.fromtimestamp(
                        it["Timestamp"], datetime.timezone.utc)
                cw.put_metric_data(Namespace=namespace, MetricData=chunk)
                continue
            body = json.dumps({"Namespace": namespace, "MetricData": chunk}).encode()
            st, out = self.post("monitoring", body, {
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": "GraniteServiceVersion20100801.PutMetricData"}, creds)
            if st != 200:
                raise RuntimeError("moto PutMetricData: HTTP %d %r" % (st, out[:300]))


# The sweep's clock, pinned (never the wall clock): 2026-06-16T12:00:00Z.  The
# history is put at that time and the sweep runs with --at.
NOW = 1781611200


def history(account, now):
    """Points for every bucket of an account: 35 full days, 4 points a day."""
    today = now - now % DAY
    pts, totals = [], {}
    for bucket, base in BUCKETS[account].items():
        for ago in range(1, 36):
            day = today - ago * DAY
            total = daily_total(base, day)
            if (account, bucket) == SPIKE[:2] and ago == 1:
                total *= SPIKE[2]
            totals[(bucket, day)] = total
            for h in (3, 9, 15, 21):
                pts.append((bucket, day + h * 3600, total // 4))
        if (account, bucket) == PARTIAL[:2] and now - today >= 180:
            pts.append((bucket, today + 60, PARTIAL[2]))
    return pts, totals


def stored(bucket):
    """BucketSizeBytes of a bucket: 1,000 x its daily download base."""
    for acct in BUCKETS:
        if bucket in BUCKETS[acct]:
            return BUCKETS[acct][bucket] * 1000
    return COLD[2]


def storage_items(account, now):
    """Daily BucketSizeBytes for the last 5 days (at 00:00, as S3 does)."""
    today = now - now % DAY
    names = list(BUCKETS[account]) + ([COLD[1]] if account == COLD[0] else [])
    return [{"MetricName": "BucketSizeBytes",
             "Dimensions": [{"Name": "BucketName", "Value": b},
                            {"Name": "StorageType", "Value": "StandardStorage"}],
             "Timestamp": today - ago * DAY, "Value": float(stored(b)), "Unit": "Bytes"}
            for b in names for ago in range(1, 6)]


def billing_items(now):
    """Month-to-date AWS/Billing EstimatedCharges for AmazonS3 of each linked
    account, one value a day at 20:00, over 40 days; {(account, day): spend}."""
    today = now - now % DAY
    items, spend = [], {}
    for acct, per_day in BILL.items():
        mtd, month = 0.0, None
        for ago in range(40, 0, -1):
            day = today - ago * DAY
            d = datetime.datetime.fromtimestamp(day, datetime.timezone.utc)
            if d.month != month:
                mtd, month = 0.0, d.month
            v = per_day * (BILL_SPIKE[1] if (acct == BILL_SPIKE[0] and ago == 1) else 1)
            mtd += v
            spend[(acct, day)] = v
            items.append({"MetricName": "EstimatedCharges",
                          "Dimensions": [{"Name": "Currency", "Value": "USD"},
                                         {"Name": "ServiceName", "Value": "AmazonS3"},
                                         {"Name": "LinkedAccount", "Value": acct}],
                          "Timestamp": day + 20 * 3600, "Value": mtd, "Unit": "None"})
    return items, spend


INVENTORY = """\
version: 1
defaults:
  regions: [us-east-1]
  lookback_days: 35
  period: 1d
  detectors:
    mean7d: {factor: 3, min_excess: 10GB}
    zscore: {}
accounts:
  - id: "111111111111"
    name: moto-a
    role_arn: arn:aws:iam::111111111111:role/cwsweep-reader
    buckets: auto
  - id: "222222222222"
    name: moto-b
    role_arn: arn:aws:iam::222222222222:role/cwsweep-reader
    external_id: moto-ignores-this
    buckets: [b-data, b-web, a-assets]
billing:
  account: "123456789012"
  services: [AmazonS3]
  detectors:
    mean7d: {factor: 3, min_excess: 10}   # dollars, not the defaults' 10GB
"""


@unittest.skipUnless(MOTO, "moto_server not on PATH")
class MotoInteropTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bin = os.environ.get("CW_BIN")
        if not cls.bin:
            raise unittest.SkipTest("CW_BIN is not set (run through ctest)")
        cls.tmp = tempfile.mkdtemp(prefix="cwsweep-moto-")
        cls.moto = Moto()
        try:
            cls.moto.start()
            cls.now = NOW
            cls.totals = {}
            for acct in (ACCT_A, ACCT_B, CALLER_ACCT):
                creds = (BASE + (None,)) if acct == CALLER_ACCT else cls.moto.assume_role(acct)
                pts, totals = history(acct, cls.now)
                cls.moto.put_metric_data(creds, pts)
                cls.moto.put_metric_data(creds, None, items=storage_items(acct, cls.now))
                cls.totals[acct] = totals
            items, cls.spend = billing_items(cls.now)
            cls.moto.put_metric_data(BASE + (None,), None, namespace="AWS/Billing",
                                     items=items)
            cls.run_sweep()
        except BaseException:
            cls.moto.stop()
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.moto.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def run_sweep(cls):
        inv = os.path.join(cls.tmp, "accounts.yaml")
        with open(inv, "w") as f:
            f.write(INVENTORY)
        cls.out = os.path.join(cls.tmp, "out")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": cls.tmp,
               "LANG": "C.UTF-8", "AWS_ENDPOINT_URL": cls.moto.url,
               "AWS_ACCESS_KEY_ID": BASE[0], "AWS_SECRET_ACCESS_KEY": BASE[1],
               "AWS_REGION": REGION, "AWS_EC2_METADATA_DISABLED": "true",
               "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_CONFIG_FILE": "/dev/null"}
        env.update(fakehelper.clock_env())
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(cls.now))
        cls.proc = subprocess.run([cls.bin, "run", "-i", inv, "-o", cls.out, "--no-state",
                                   "--no-slack", "--jobs", "4", "--at", at], env=env,
                                  capture_output=True, timeout=300)
        cls.stderr = cls.proc.stderr.decode("utf-8", "replace")
        cls.rows = []
        path = os.path.join(cls.out, "report.csv")
        if os.path.exists(path):
            with open(path, newline="") as f:
                cls.rows = list(csv.DictReader(f))

    def context(self):
        return "\ncwsweep exit %d, stderr:\n%s\nrows:\n%s\nmoto:\n%s" % (
            self.proc.returncode, self.stderr[-3000:],
            "\n".join("%s %s %s %s %s %s" % (r["account_id"], r["bucket"], r["detector"],
                                            r["status"], r["value"], r["note"][:80])
                      for r in self.rows), self.moto.output()[-1500:])

    def measured(self, account):
        return [r for r in self.rows if r["account_id"] == account and r["bucket"]
                and r["status"] in ("ok", "anomaly", "insufficient_history")]

    def test_exit_code_is_one_for_the_anomaly(self):
        self.assertEqual(self.proc.returncode, 1, self.context())

    def test_each_account_sees_only_its_own_buckets(self):
        a = {r["bucket"] for r in self.measured(ACCT_A)}
        b = {r["bucket"] for r in self.measured(ACCT_B)}
        self.assertEqual(a, set(BUCKETS[ACCT_A]), "auto discovery in A" + self.context())
        self.assertEqual(b, set(BUCKETS[ACCT_B]), self.context())
        self.assertFalse([r for r in self.rows if r["bucket"] == "caller-only"],
                         "the caller's own account leaked into the sweep" + self.context())
        self.assertEqual({r["account_id"] for r in self.rows}, {ACCT_A, ACCT_B}, self.context())
        self.assertEqual({r["account_id"] for r in self.rows if not r["bucket"]},
                         {ACCT_A, ACCT_B}, "only the billing rows have no bucket")

    def test_two_detector_rows_per_bucket(self):
        for acct in (ACCT_A, ACCT_B):
            for bucket in BUCKETS[acct]:
                dets = sorted(r["detector"] for r in self.measured(acct) if r["bucket"] == bucket)
                self.assertEqual(dets, ["mean7d", "zscore"], "%s/%s%s" % (acct, bucket,
                                                                         self.context()))

    def test_spike_is_an_anomaly_with_the_exact_value(self):
        yesterday = self.now - self.now % DAY - DAY
        want = self.totals[ACCT_A][("a-logs", yesterday)]
        rows = [r for r in self.measured(ACCT_A) if r["bucket"] == "a-logs"]
        self.assertEqual(len(rows), 2, self.context())
        for r in rows:
            self.assertEqual(r["status"], "anomaly", self.context())
            self.assertEqual(float(r["value"]), float(want), self.context())
            self.assertEqual(r["period_start"], time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                              time.gmtime(yesterday)))

    def test_other_buckets_ok_with_yesterdays_total(self):
        yesterday = self.now - self.now % DAY - DAY
        for acct in (ACCT_A, ACCT_B):
            for r in self.measured(acct):
                if (acct, r["bucket"]) == SPIKE[:2]:
                    continue
                self.assertEqual(r["status"], "ok", self.context())
                # today's partial 10 TB in b-web is not a complete day: not judged
                self.assertEqual(float(r["value"]),
                                 float(self.totals[acct][(r["bucket"], yesterday)]),
                                 "%s/%s%s" % (acct, r["bucket"], self.context()))

    def test_bucket_of_the_other_account_is_not_found(self):
        self.assertEqual([r for r in self.rows if r["status"] == "failed"], [], self.context())
        rows = [r for r in self.rows if r["status"] == "not_found"]
        self.assertEqual(len(rows), 1, self.context())
        self.assertEqual((rows[0]["account_id"], rows[0]["bucket"]), (ACCT_B, "a-assets"))
        self.assertIn("neither", rows[0]["note"], self.context())

    def test_bucket_with_data_but_no_request_metrics_is_not_watched(self):
        rows = [r for r in self.rows if r["status"] == "not_watched"]
        self.assertEqual([(r["account_id"], r["region"], r["bucket"]) for r in rows],
                         [COLD[:1] + (REGION, COLD[1])], self.context())
        self.assertEqual(float(rows[0]["value"]), float(COLD[2]), self.context())
        with open(os.path.join(self.out, "report.json")) as f:
            doc = json.load(f)
        cov = doc["summary"]["coverage"]
        watched = sum(stored(b) for a in (ACCT_A, ACCT_B) for b in BUCKETS[a])
        self.assertEqual((cov["buckets"], cov["watched"]), (6, 5), self.context())
        self.assertEqual(cov["watched_bytes"], watched)
        self.assertEqual(cov["stored_bytes"], watched + COLD[2])

    def test_billing_daily_spend_and_its_spike(self):
        yesterday = self.now - self.now % DAY - DAY
        rows = [r for r in self.rows if r["metric"].startswith("AWS/Billing")]
        self.assertEqual({(r["account_id"], r["metric"], r["detector"]) for r in rows},
                         {(a, "AWS/Billing EstimatedCharges AmazonS3 (daily)", d)
                          for a in (ACCT_A, ACCT_B) for d in ("mean7d", "zscore")},
                         self.context())
        for r in rows:
            self.assertEqual(float(r["value"]), self.spend[(r["account_id"], yesterday)])
            self.assertEqual(r["status"], "anomaly" if r["account_id"] == BILL_SPIKE[0]
                             else "ok", self.context())

    def test_json_report_agrees(self):
        with open(os.path.join(self.out, "report.json")) as f:
            doc = json.load(f)
        self.assertEqual(doc["schema"], "cwsweep.report/3")
        self.assertEqual(doc["summary"]["anomalies"], 4, self.context())


ORG_INVENTORY = """\
version: 1
defaults:
  regions: [us-east-1]
  lookback_days: 35
  period: 1d
  role_name: cwsweep-reader
  buckets: auto
  detectors:
    mean7d: {factor: 3, min_excess: 10GB}
    zscore: {}
organization:
  management_account: "%s"
  include_ous: [%s]
accounts:
  - id: "%s"
    name: renamed-in-inventory
"""


@unittest.skipUnless(MOTO, "moto_server not on PATH")
class MotoOrganizationsTest(unittest.TestCase):
    """The organisation is made in moto (its caller's account is
    the management account): OU prod with the nested OU team, three new
    accounts (moto picks their ids) in prod, team and the root; history in
    the first two.  cwsweep, given only `organization: include_ous: [prod]`
    and a role template, must sweep exactly those two, by their
    Organizations names unless the inventory renames one."""

    @classmethod
    def setUpClass(cls):
        cls.bin = os.environ.get("CW_BIN")
        if not cls.bin:
            raise unittest.SkipTest("CW_BIN is not set (run through ctest)")
        cls.tmp = tempfile.mkdtemp(prefix="cwsweep-moto-org-")
        cls.moto = Moto()
        try:
            cls.moto.start()
            org = cls.moto.org
            org("CreateOrganization", {"FeatureSet": "ALL"})
            root = org("ListRoots", {})["Roots"][0]["Id"]
            prod = org("CreateOrganizationalUnit", {"ParentId": root, "Name": "prod"})[
                "OrganizationalUnit"]["Id"]
            team = org("CreateOrganizationalUnit", {"ParentId": prod, "Name": "team"})[
                "OrganizationalUnit"]["Id"]
            cls.ids = {}
            for name, parent in (("org-a", prod), ("org-b", team), ("org-c", root)):
                st = org("CreateAccount", {"Email": name + "@example.com",
                                           "AccountName": name})
                acct = st["CreateAccountStatus"]["AccountId"]
                if parent != root:
                    org("MoveAccount", {"AccountId": acct, "SourceParentId": root,
                                        "DestinationParentId": parent})
                cls.ids[name] = acct
            cls.now = NOW
            for name in ("org-a", "org-b", "org-c"):
                acct = cls.ids[name]
                BUCKETS[acct] = {name + "-bucket": 30 * GB}
                pts, _ = history(acct, cls.now)
                cls.moto.put_metric_data(cls.moto.assume_role(acct), pts)
            inv = os.path.join(cls.tmp, "accounts.yaml")
            with open(inv, "w") as f:
                f.write(ORG_INVENTORY % (CALLER_ACCT, prod, cls.ids["org-b"]))
            cls.out = os.path.join(cls.tmp, "out")
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": cls.tmp,
                   "LANG": "C.UTF-8", "AWS_ENDPOINT_URL": cls.moto.url,
                   "AWS_ACCESS_KEY_ID": BASE[0], "AWS_SECRET_ACCESS_KEY": BASE[1],
                   "AWS_REGION": REGION, "AWS_EC2_METADATA_DISABLED": "true",
                   "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                   "AWS_CONFIG_FILE": "/dev/null", **fakehelper.clock_env()}
            at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(cls.now))
            cls.proc = subprocess.run([cls.bin, "run", "-i", inv, "-o", cls.out,
                                       "--no-state", "--no-slack", "--jobs", "4",
                                       "--at", at], env=env,
                                      capture_output=True, timeout=300)
            cls.stderr = cls.proc.stderr.decode("utf-8", "replace")
            cls.rows = []
            path = os.path.join(cls.out, "report.csv")
            if os.path.exists(path):
                with open(path, newline="") as f:
                    cls.rows = list(csv.DictReader(f))
        except BaseException:
            cls.moto.stop()
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.moto.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def context(self):
        return "\ncwsweep exit %d, stderr:\n%s\nmoto:\n%s" % (
            self.proc.returncode, self.stderr[-3000:], self.moto.output()[-1500:])

    def test_the_ou_and_its_nested_ou_are_swept(self):
        self.assertEqual(self.proc.returncode, 0, self.context())
        seen = {(r["account_id"], r["account_name"], r["bucket"]) for r in self.rows}
        self.assertEqual(seen, {(self.ids["org-a"], "org-a", "org-a-bucket"),
                                (self.ids["org-b"], "renamed-in-inventory", "org-b-bucket")},
                         self.context())
        self.assertTrue(all(r["status"] == "ok" for r in self.rows), self.context())


@unittest.skipUnless(MOTO, "moto_server not on PATH")
class MotoEnableMetricsTest(unittest.TestCase):
    """enable-metrics --apply against moto's S3: a bucket whose storage
    metric is listed gets its EntireBucket configuration through a signed
    path-style PUT that moto accepts.  moto's GetBucketMetricsConfiguration
    answers 200 with no configuration, which cwsweep reads as none: so the
    fake endpoint, not moto, is where idempotence is tested."""

    def test_apply_puts_the_configuration(self):
        bin_ = os.environ.get("CW_BIN")
        if not bin_:
            self.skipTest("CW_BIN is not set (run through ctest)")
        tmp = tempfile.mkdtemp(prefix="cwsweep-moto-s3-")
        self.addCleanup(shutil.rmtree, tmp, True)
        moto = Moto().start()
        self.addCleanup(moto.stop)
        st, data = moto.post("s3", b"", {}, BASE + (None,), method="PUT",
                             path="/moto-metrics-bucket")
        self.assertEqual(st, 200, data)
        now = int(time.time())
        pts = [("moto-metrics-bucket", now - DAY, 5e9)]
        items = [{"MetricName": "BucketSizeBytes", "Unit": "Bytes", "Value": v,
                  "Timestamp": t,
                  "Dimensions": [{"Name": "BucketName", "Value": b},
                                 {"Name": "StorageType", "Value": "StandardStorage"}]}
                 for b, t, v in pts]
        st, data = moto.post("monitoring", json.dumps({"Namespace": "AWS/S3",
                                                       "MetricData": items}).encode(), {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "GraniteServiceVersion20100801.PutMetricData"}, BASE + (None,))
        self.assertEqual(st, 200, data)
        inv = os.path.join(tmp, "accounts.yaml")
        with open(inv, "w") as f:
            f.write('defaults:\n  regions: [us-east-1]\naccounts:\n'
                    '  - id: "%s"\n    buckets: auto\n' % CALLER_ACCT)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp,
               "LANG": "C.UTF-8", "AWS_ENDPOINT_URL": moto.url,
               "AWS_ACCESS_KEY_ID": BASE[0], "AWS_SECRET_ACCESS_KEY": BASE[1],
               "AWS_REGION": REGION, "AWS_EC2_METADATA_DISABLED": "true",
               "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_CONFIG_FILE": "/dev/null",
               **fakehelper.clock_env()}
        p = subprocess.run([bin_, "enable-metrics", "-i", inv, "--apply"], env=env,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr + moto.output())
        self.assertRegex(p.stdout, r"moto-metrics-bucket\s+-\s+added")
        self.assertIn("1 bucket got EntireBucket", p.stdout)


if __name__ == "__main__":
    if not MOTO:
        sys.stderr.write("\n*** test_moto: SKIPPED: moto_server not on PATH ***\n"
                         "*** (pip install 'moto[server]' to run the moto interop test) ***\n\n")
    unittest.main(verbosity=2)
