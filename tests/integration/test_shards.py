#!/usr/bin/env python3
"""test_shards.py - the S3 hand-off of a sharded run, end to end.

Four shards run as a Kubernetes Indexed Job or an AWS Batch array job would
run them (`cwsweep run --shard index/4` with JOB_COMPLETION_INDEX or
AWS_BATCH_JOB_ARRAY_INDEX set, `--hand-off s3://BUCKET/PREFIX/RUN/`), each
uploading its report.json under RUN/shard-K-of-4/; then `cwsweep merge
s3://BUCKET/PREFIX/RUN/` lists the prefix (ListObjectsV2, paged), reads
every report.json (GetObject), writes the merged reports and posts exactly
one digest to the fake's Slack receiver.  A shard that never handed off is
a MissingShard failure row and exit 3; a wrong bucket, refused access, an
empty prefix or a pagination loop is exit 2 with a message naming the
argument; S3 failing past every retry is exit 3; nothing is written in
either case.

Against the fake AWS endpoint (tests/fake_aws: CloudWatch, STS, S3 PutObject,
ListObjectsV2, GetObject, Slack), and against moto_server's S3 when it is on
PATH (the sweep's CloudWatch stays on the fake; skipped, loudly, without it).
"""
import hashlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

BIN = os.path.abspath(os.environ["CW_BIN"]) if os.environ.get("CW_BIN") else ""
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("CW_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "fake_aws"))
sys.path.insert(0, HERE)
from fakehelper import (FakeAWS, clock_env, parse_metrics, promtool_check,  # noqa: E402
                        report_rows)

ORG = os.path.join(SRC, "tests", "fake_aws", "scenarios", "itest_org.json")
CALLER = ("AKIAITESTCALLER00001", "itestCallerSECRETdoNotLeak/0000000000001",
          "itestCallerSESSIONTOKENdoNotLeak+0000000000000000000000000000000000/0000=")
# The series clock, pinned: 2026-06-16T12:00:00Z (the spikes of itest_org.json
# hit the day before); every shard replays the same --at.
SERIES_NOW = 1781611200
AT = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(SERIES_NOW))
HOOK_PATH = "/slack/services/T0SHARDS/B0SHARDS/xoxShardsHookSecretDoNotLeak"
BUCKET = "cwsweep-handoff"
N = 4

INVENTORY = """\
defaults:
  regions: [us-east-1]
  lookback_days: 35
  period: 1d
  detectors: {mean7d: {}, zscore: {}}
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
reporting:
  slack: {enabled: true}
"""

MOTO = shutil.which("moto_server")
FAKETIME_LIB = next((p for p in ("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                                 "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
                                 "/usr/lib/faketime/libfaketime.so.1")
                     if os.path.exists(p)), None)


def result_key(r):
    return (r["account_id"], r["region"], r["bucket"], r["detector"], r["status"])


class HandOff(unittest.TestCase):
    """Shards publish to one prefix; merge reads the prefix; one digest."""

    @classmethod
    def setUpClass(cls):
        if not BIN or not os.access(BIN, os.X_OK):
            raise unittest.SkipTest("CW_BIN is not set (run through ctest)")
        cls.tmp = tempfile.mkdtemp(prefix="cwshards-")
        cls.home = os.path.join(cls.tmp, "home")
        os.makedirs(cls.home)
        with open(ORG, encoding="utf-8") as f:
            sc = json.load(f)
        # listings of two keys a page, so merge must follow continuation
        # tokens; the fault rules pick the case by the region merge signs for
        sc["s3"] = {"buckets": [BUCKET, "cwsweep-empty"], "list_page_size": 2}
        # shards run with their own clocks (libfaketime) a day apart from
        # the fake's: signatures are not refused for that
        sc["clock_skew_seconds"] = 20 * 366 * 86400
        sc["faults"] = list(sc.get("faults", [])) + [
            {"service": "s3", "action": "ListObjectsV2", "region": "ap-south-1",
             "kind": "access_denied"},
            {"service": "s3", "action": "ListObjectsV2", "region": "eu-central-1",
             "kind": "loop_token"},
            {"service": "s3", "action": "GetObject", "region": "ap-northeast-1",
             "kind": "error", "status": 503},
            {"service": "s3", "action": "PutObject", "region": "ca-central-1",
             "kind": "access_denied"},
            # another merge writes the state right after this one read it
            {"service": "s3", "action": "GetObject", "region": "sa-east-1",
             "kind": "concurrent_write", "key_prefix": "race/",
             "body": '{"schema": "cwsweep.state/1", "keys": {}}'},
            # a merge writes the state (with another bucket's ack) once,
            # right after an ack read it
            {"service": "s3", "action": "GetObject", "region": "me-south-1",
             "kind": "concurrent_write", "key_prefix": "race-ack/", "count": 1,
             "replace": json.dumps({"schema": "cwsweep.state/1", "entries": [], "acks": [
                 {"account_id": "111111111111", "region": "us-east-1",
                  "bucket": "other-bucket", "reason": "a merge's", "at": "2026-06-16T00:00:00Z",
                  "until": None}]})},
        ]
        cls.scenario = os.path.join(cls.tmp, "scenario.json")
        with open(cls.scenario, "w", encoding="utf-8") as f:
            json.dump(sc, f)
        cls.inv = os.path.join(cls.tmp, "accounts.yaml")
        with open(cls.inv, "w", encoding="utf-8") as f:
            f.write(INVENTORY)
        cls.fake = FakeAWS(cls.scenario, now=SERIES_NOW)
        cls.fake.start()
        try:
            cls.whole = cls.run_whole()
        except BaseException:
            cls.fake.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def env(cls, extra=None, s3_url=None):
        env = cls.fake.env(access_key=CALLER[0], secret_key=CALLER[1])
        env.update(AWS_SESSION_TOKEN=CALLER[2], HOME=cls.home,
                   AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE="/dev/null",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                   SLACK_WEBHOOK_URL=cls.fake.url + HOOK_PATH, **clock_env())
        if s3_url:
            env["AWS_ENDPOINT_URL_S3"] = s3_url
        env.update(extra or {})
        return env

    @classmethod
    def cwsweep(cls, argv, env):
        return subprocess.run([BIN] + argv, env=env, cwd=cls.tmp, capture_output=True,
                              text=True, timeout=120)

    @classmethod
    def run_whole(cls):
        out = os.path.join(cls.tmp, "whole")
        p = cls.cwsweep(["run", "-i", cls.inv, "-o", out, "--at", AT, "--no-state",
                         "--no-slack", "--format", "json"], cls.env())
        if p.returncode != 1:
            raise AssertionError("the unsharded run: exit %d\n%s" % (p.returncode, p.stderr))
        with open(os.path.join(out, "report.json"), encoding="utf-8") as f:
            return report_rows(json.load(f))

    def shard(self, k, url, via="k8s", s3_url=None):
        """One shard as the job engine starts it: K only in the environment."""
        var = "JOB_COMPLETION_INDEX" if via == "k8s" else "AWS_BATCH_JOB_ARRAY_INDEX"
        out = os.path.join(self.tmp, "shard-%s-%d" % (url.replace("/", "_"), k))
        return self.cwsweep(["run", "-i", self.inv, "-o", out, "--at", AT, "--no-state",
                             "--shard", "index/%d" % N, "--hand-off", url,
                             "--format", "json"], self.env({var: str(k)}, s3_url))

    def shard_at_clock(self, k, url, clock, at=AT):
        """Shard k as a pod that starts at `clock` (UTC, libfaketime), with
        the run's one --at, or none."""
        # (an ASan build wants its runtime first; libfaketime is preloaded)
        env = self.env({"JOB_COMPLETION_INDEX": str(k), "LD_PRELOAD": FAKETIME_LIB,
                        "FAKETIME": "@" + clock, "TZ": "UTC",
                        "ASAN_OPTIONS": "verify_asan_link_order=0"})
        # the pod's own clock from its start: none of an outer faketime's
        # settings (FAKETIME_DONT_RESET would carry the outer run's elapsed
        # seconds into this clock)
        for key in [k for k in env if k.startswith("FAKETIME_")]:
            del env[key]
        out = os.path.join(self.tmp, "clock-%s-%d" % (url.replace("/", "_"), k))
        argv = ["run", "-i", self.inv, "-o", out, "--no-state", "--shard", "index/%d" % N,
                "--hand-off", url, "--format", "json"] + (["--at", at] if at else [])
        p = self.cwsweep(argv, env)
        self.assertTrue(os.path.exists(os.path.join(out, "report.json")), p.stderr)
        with open(os.path.join(out, "report.json"), encoding="utf-8") as f:
            finished = json.load(f)["run"]["finished"]
        # the clock really was the pod's
        self.assertEqual(finished[:10], clock[:10], p.stderr)
        return p

    def merge(self, *args, s3_url=None, out=None, extra=None):
        if out is None:
            out = tempfile.mkdtemp(prefix="merged-", dir=self.tmp)
            os.rmdir(out)
        p = self.cwsweep(["merge"] + list(args) + ["-o", out],
                         self.env(extra, s3_url=s3_url))
        return p, out

    def objects(self):
        return {o["key"]: o for o in self.fake.get("/_s3objects")["objects"]
                if o["bucket"] == BUCKET}

    def slack_posts(self):
        return [r for r in self.fake.slack()["received"] if r["path"] == HOOK_PATH]

    def assert_nothing_written(self, p, out, code, *words):
        self.assertEqual(p.returncode, code, p.stdout + p.stderr)
        self.assertFalse(os.path.exists(out), "merge wrote %s" % out)
        for w in words:
            self.assertIn(w, p.stderr)

    # -- the whole hand-off ------------------------------------------------

    def test_four_shards_publish_merge_reads_the_prefix_one_digest(self):
        url = "s3://%s/nightly/set-1/" % BUCKET
        posts0 = len(self.slack_posts())
        for k in range(N):
            p = self.shard(k, url, via="k8s" if k % 2 == 0 else "batch")
            # anomalies and failures are merge's to count: the job succeeded
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("handed off to s3://%s/nightly/set-1/shard-%d-of-%d/"
                          % (BUCKET, k, N), p.stderr)
        # a set whose name starts alike is not part of this one
        p = self.shard(0, "s3://%s/nightly/set-10/" % BUCKET)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(self.slack_posts()), posts0, "a shard never posts a digest")
        objs = self.objects()
        for k in range(N):
            o = objs["nightly/set-1/shard-%d-of-%d/report.json" % (k, N)]
            self.assertEqual(o["sse"], "AES256")
            self.assertEqual(o["content_type"], "application/json")

        lists0 = self.fake.count(action="ListObjectsV2")
        gets0 = self.fake.count(action="GetObject")
        p, out = self.merge(url)
        self.assertEqual(p.returncode, 1, p.stderr)
        with open(os.path.join(out, "report.json"), encoding="utf-8") as f:
            doc = report_rows(json.load(f))
        self.assertEqual(sorted(map(result_key, doc["results"])),
                         sorted(map(result_key, self.whole["results"])))
        self.assertEqual(doc["summary"], self.whole["summary"])
        self.assertEqual(doc["failures"], [])
        # four keys, two a page: two pages, the second asked with the token
        lists = [r for r in self.fake.requests() if r["action"] == "ListObjectsV2"][lists0:]
        self.assertEqual(len(lists), 2)
        self.assertTrue(all(r["signature"] == "ok" for r in lists), lists)
        self.assertEqual(self.fake.count(action="GetObject") - gets0, N)
        posts = self.slack_posts()[posts0:]
        self.assertEqual(len(posts), 1, "exactly one digest for the four shards")
        text = json.dumps(posts[0]["payload"])
        self.assertIn("alpha-assets", text)
        for where in (p.stdout, p.stderr, text):
            self.assertNotIn("doNotLeak", where)

    def test_merge_publishes_the_merged_reports_and_links_them(self):
        """merge --publish: the merged reports go to S3 under PREFIX/RUN_ID/
        (PutObject, SSE), the one digest links report.html there through a
        presigned URL that works; never inside the prefix merge reads; a
        refused upload is exit 3, the reports stay on disk and the digest
        is still posted, without the link."""
        import re
        import urllib.request
        url = "s3://%s/nightly/set-pub/" % BUCKET
        for k in range(N):
            self.assertEqual(self.shard(k, url).returncode, 0)
        posts0 = len(self.slack_posts())
        p, out = self.merge(url, "--publish", "s3://%s/reports/" % BUCKET,
                            "--publish-link-expiry", "2d")
        self.assertEqual(p.returncode, 1, p.stderr)
        with open(os.path.join(out, "report.json"), encoding="utf-8") as f:
            run_id = json.load(f)["run"]["run_id"]
        self.assertTrue(run_id.startswith("merge-"), run_id)
        objs = self.objects()
        names = sorted(k for k in objs if k.startswith("reports/"))
        self.assertEqual(names, ["reports/%s/report.%s" % (run_id, e)
                                 for e in ("csv", "html", "json", "md", "xlsx")])
        for k in names:
            self.assertEqual(objs[k]["sse"], "AES256")
            self.assertEqual(objs[k]["size"], os.path.getsize(os.path.join(
                out, k.rsplit("/", 1)[1])), k)
        posts = self.slack_posts()[posts0:]
        self.assertEqual(len(posts), 1)
        text = json.dumps(posts[0]["payload"])
        m = re.search(r"<(http://[^|>]+)\|the report>", json.loads(text)["blocks"][-1]
                      ["elements"][0]["text"])
        self.assertIsNotNone(m, text)
        link = m.group(1).replace("&amp;", "&")
        self.assertIn("/%s/reports/%s/report.html?X-Amz-Algorithm=" % (BUCKET, run_id), link)
        self.assertIn("X-Amz-Expires=172800", link)
        with urllib.request.urlopen(link, timeout=10) as r:
            self.assertTrue(r.read().startswith(b"<!DOCTYPE html>"))

        # inside the prefix it reads: refused before anything is read
        never = os.path.join(self.tmp, "never-pub")
        for inside in (url + "merged/", url):
            p, _ = self.merge(url, "--publish", inside, out=never)
            self.assert_nothing_written(p, never, 2, "inside the input prefix")
        p, _ = self.merge("s3://%s/" % BUCKET, "--publish", "s3://%s/reports/" % BUCKET,
                          out=never)
        self.assert_nothing_written(p, never, 2, "inside the input prefix")
        p, _ = self.merge(url, "--publish", "s3://%s/nightly/set-pub-merged/" % BUCKET,
                          "--no-slack", out=never)
        self.assertEqual(p.returncode, 1, "a sibling prefix is not inside: " + p.stderr)
        shutil.rmtree(never)
        for bad in (["--publish", "https://x/"], ["--publish-link-expiry", "8d"],
                    ["--publish-link-expiry", "soon"]):
            p, _ = self.merge(url, *bad, out=never)
            self.assert_nothing_written(p, never, 2, bad[0])

        # refused: exit 3, the reports on disk, the digest without a link
        posts0 = len(self.slack_posts())
        p, out = self.merge(url, "--region", "ca-central-1",
                            "--publish", "s3://%s/reports/" % BUCKET)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("AccessDenied", p.stderr)
        self.assertIn("the reports are in %s" % out, p.stderr)
        self.assertTrue(os.path.exists(os.path.join(out, "report.html")))
        # the digest, without a link; then the notice that says why exit 3
        digest, notice = self.slack_posts()[posts0:]
        self.assertNotIn("X-Amz-Signature", json.dumps(digest["payload"]))
        text = json.dumps(notice["payload"])
        self.assertIn("ran partly", text)
        self.assertIn("could not be published", text)
        self.assertIn("AccessDenied", text)

    def test_merge_keeps_the_alert_state_of_the_sharded_runs(self):
        """The shards run --no-state; merge --state s3://BUCKET/KEY keeps one
        state for the whole set: the first night announces the anomaly as
        new and writes the state object; the same night merged again finds
        it ongoing and posts nothing new.  A local --state FILE does the
        same.  A state that cannot be read is exit 2, nothing written."""
        state = "s3://%s/state/cwsweep-state.json" % BUCKET
        local = os.path.join(self.tmp, "merge-state.json")

        def night(name, where, *extra):
            url = "s3://%s/nightly/%s/" % (BUCKET, name)
            for k in range(N):
                self.assertEqual(self.shard(k, url).returncode, 0)
            posts0 = len(self.slack_posts())
            p, out = self.merge(url, "--state", where, *extra)
            self.assertEqual(p.returncode, 1, p.stderr)
            with open(os.path.join(out, "report.json"), encoding="utf-8") as f:
                doc = report_rows(json.load(f))
            alerts = {r["alert"] for r in doc["results"] if r["status"] == "anomaly"}
            return alerts, self.slack_posts()[posts0:]

        for where, extra in ((state, ["-i", self.inv]), (local, [])):
            alerts, posts = night("state-1-%d" % len(where), where, *extra)
            self.assertEqual(alerts, {"new"})
            self.assertEqual(len(posts), 1)
            self.assertIn("alpha-assets", json.dumps(posts[0]["payload"]))
            alerts, posts = night("state-2-%d" % len(where), where, *extra)
            self.assertEqual(alerts, {"ongoing"})
            self.assertEqual(posts, [], "nothing new: no digest")
        obj = self.objects()["state/cwsweep-state.json"]
        self.assertEqual(obj["content_type"], "application/json")
        with open(local, encoding="utf-8") as f:
            self.assertEqual(json.load(f)["schema"], "cwsweep.state/1")

        url = "s3://%s/nightly/state-1-%d/" % (BUCKET, len(state))
        never = os.path.join(self.tmp, "never-state")
        for argv, words in (
                (["--state", "s3://cwsweep-nope/state.json"], ["NoSuchBucket", "--state"]),
                (["--state", "s3://%s/state/" % BUCKET], ["s3://BUCKET/KEY"]),
                (["--state", "s3://%s" % BUCKET], ["s3://BUCKET/KEY"]),
                (["--heartbeat-env", "http://x/"], ["--heartbeat-env"]),
                (["--metrics-file", ""], ["--metrics-file"]),
                (["--state", local, "-i", os.path.join(self.tmp, "nope.yaml")], ["-i"])):
            p, _ = self.merge(url, *argv, out=never)
            self.assert_nothing_written(p, never, 2, *words)

    def test_a_missing_shard_is_a_failure_row_and_exit_3(self):
        """... told by merge's metrics file and a failure heartbeat too (the
        nightly sharded run's outcome is merge's); once the shard is there,
        a success ping and a last-success time."""
        url = "s3://%s/nightly/set-2/" % BUCKET
        for k in (0, 1, 3):
            p = self.shard(k, url)
            self.assertEqual(p.returncode, 0, p.stderr)
        posts0 = len(self.slack_posts())
        metrics = os.path.join(self.tmp, "merge-set-2.prom")
        hb = {"CWSWEEP_HB": "http://127.0.0.1:%d/ping/merge-set-2" % self.fake.port}
        pings0 = len(self.fake.get("/_pings")["pings"])
        p, out = self.merge(url, "--metrics-file", metrics, "--heartbeat-env", "CWSWEEP_HB",
                            extra=hb)
        self.assertEqual(p.returncode, 3, p.stderr)
        promtool_check(self, metrics)
        m = parse_metrics(metrics)
        self.assertEqual(m["cwsweep_last_run_exit_code"], 3)
        self.assertEqual(m["cwsweep_last_run_failures"], 1)
        self.assertGreater(m["cwsweep_last_run_series_judged"], 0)
        self.assertNotIn("cwsweep_last_success_timestamp_seconds", m)
        pings = self.fake.get("/_pings")["pings"][pings0:]
        self.assertEqual([x["path"] for x in pings], ["/ping/merge-set-2/fail"])
        self.assertIn("MissingShard", pings[0]["body"])
        self.assertIn("shard 2/4", p.stderr)
        with open(os.path.join(out, "report.json"), encoding="utf-8") as f:
            doc = report_rows(json.load(f))
        missing = [x for x in doc["failures"] if x["code"] == "MissingShard"]
        self.assertEqual(len(missing), 1, doc["failures"])
        self.assertIn("shard 2/4", missing[0]["message"])
        self.assertEqual(len(self.slack_posts()) - posts0, 1)
        # the shard arrives: the set is whole
        p = self.shard(2, url)
        self.assertEqual(p.returncode, 0, p.stderr)
        p, out = self.merge(url, "--metrics-file", metrics, "--heartbeat-env", "CWSWEEP_HB",
                            "--no-slack", extra=hb)
        self.assertEqual(p.returncode, 1, p.stderr)
        m = parse_metrics(metrics)
        self.assertEqual(m["cwsweep_last_run_exit_code"], 1)
        self.assertEqual(m["cwsweep_last_run_failures"], 0)
        self.assertGreater(m["cwsweep_last_success_timestamp_seconds"], 0)
        pings = self.fake.get("/_pings")["pings"][pings0:]
        self.assertEqual([x["path"] for x in pings],
                         ["/ping/merge-set-2/fail", "/ping/merge-set-2"])
        # an inventory that does not load: exit 2, still in the metrics file
        # named on the command line, the last success kept
        ok_at = m["cwsweep_last_success_timestamp_seconds"]
        p, out = self.merge(url, "--metrics-file", metrics, "-i",
                            os.path.join(self.tmp, "nope.yaml"), "--no-slack", extra=hb)
        self.assert_nothing_written(p, out, 2, "-i")
        m = parse_metrics(metrics)
        self.assertEqual(m["cwsweep_last_run_exit_code"], 2)
        self.assertEqual(m["cwsweep_last_success_timestamp_seconds"], ok_at)

    def test_shards_started_on_either_side_of_midnight_judge_one_day(self):
        """A pod rescheduled after midnight, a child queued for hours: with
        the run's one --at (as scripts/k8s and scripts/batch pass it) every
        shard judges the same day and merge joins them; without it, merge
        refuses the set (exit 2, naming both days) instead of mixing days."""
        if not FAKETIME_LIB:
            print("\n*** SKIPPED: libfaketime not found: shards with different clocks "
                  "were NOT checked ***", file=sys.stderr)
            self.skipTest("libfaketime")
        clocks = ["2026-06-16 23:40:00", "2026-06-16 23:59:30", "2026-06-17 00:00:30",
                  "2026-06-17 05:10:00"]
        url = "s3://%s/nightly/set-clocks/" % BUCKET
        for k in range(N):
            p = self.shard_at_clock(k, url, clocks[k])
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertNotIn("without --at", p.stderr)
        p, out = self.merge(url, "--no-slack")
        self.assertEqual(p.returncode, 1, p.stderr)
        with open(os.path.join(out, "report.json"), encoding="utf-8") as f:
            doc = report_rows(json.load(f))
        self.assertEqual(sorted(map(result_key, doc["results"])),
                         sorted(map(result_key, self.whole["results"])))

        url = "s3://%s/nightly/set-clocks-no-at/" % BUCKET
        for k in range(N):
            p = self.shard_at_clock(k, url, clocks[k], at=None)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("--hand-off without --at", p.stderr)
        never = os.path.join(self.tmp, "never-clocks")
        p, _ = self.merge(url, "--no-slack", out=never)
        self.assert_nothing_written(p, never, 2, "judged the period ending "
                                    "2026-06-17T00:00:00Z", "2026-06-16T00:00:00Z",
                                    "the same --at")

    # -- inputs that cannot be read: a clear message, nothing written ------

    def test_wrong_bucket_refused_access_empty_prefix(self):
        out = os.path.join(self.tmp, "never")
        posts0 = len(self.slack_posts())
        p, _ = self.merge("s3://cwsweep-nope/nightly/x/", out=out)
        self.assert_nothing_written(p, out, 2, "s3://cwsweep-nope/nightly/x/", "NoSuchBucket")
        # the nightly merge that could not run says so where people look
        (notice,) = self.slack_posts()[posts0:]
        text = json.dumps(notice["payload"])
        self.assertIn("could not run", text)
        self.assertIn("NoSuchBucket", text)
        self.assertNotIn("doNotLeak", text)
        p, _ = self.merge("s3://cwsweep-nope/nightly/x/", "--no-slack", out=out)
        self.assertEqual(len(self.slack_posts()), posts0 + 1, "--no-slack posts nothing")
        p, _ = self.merge("s3://cwsweep-empty/nightly/x/", out=out)
        self.assert_nothing_written(p, out, 2, "s3://cwsweep-empty/nightly/x/",
                                    "no report.json under this prefix", "--hand-off")
        p, _ = self.merge("s3://%s/" % BUCKET, "--region", "ap-south-1", out=out)
        self.assert_nothing_written(p, out, 2, "access denied", "s3:ListBucket")
        p, _ = self.merge("s3://Not_A_Bucket/x/", out=out)
        self.assert_nothing_written(p, out, 2, "not an S3 bucket name")

    def test_two_merges_at_once_do_not_lose_a_state_update(self):
        """S3 has no lock: merge writes its state back only over the object it
        read (If-Match: its ETag), or only where there was none
        (If-None-Match: *).  When another merge wrote it meanwhile, the
        write fails (exit 3, said why), the other merge's state stays, and
        the digest is still posted.  Without a race the same writes pass."""
        url = "s3://%s/nightly/race-set/" % BUCKET
        for k in range(N):
            self.assertEqual(self.shard(k, url).returncode, 0)
        other = b'{"schema": "cwsweep.state/1", "keys": {}}'
        for name in ("new", "existing"):
            key = "race/state-%s.json" % name
            state = "s3://%s/%s" % (BUCKET, key)
            before = None
            if name == "existing":  # a state from an earlier night
                p, _ = self.merge(url, "--state", state, "--no-slack")
                self.assertEqual(p.returncode, 1, p.stderr)
                before = self.objects()[key]
            posts0 = len(self.slack_posts())
            p, out = self.merge(url, "--state", state, "--region", "sa-east-1")
            self.assertEqual(p.returncode, 3, p.stderr)
            self.assertIn("PreconditionFailed", p.stderr)
            self.assertIn("another merge at the same time", p.stderr)
            self.assertTrue(os.path.exists(os.path.join(out, "report.json")))
            # the digest still goes (the first night's news; the second
            # found it ongoing), and a notice says the state was not saved
            posts = [json.dumps(x["payload"]) for x in self.slack_posts()[posts0:]]
            self.assertEqual(len(posts), 2 if before is None else 1, posts)
            if before is None:
                self.assertIn("alpha-assets", posts[0])
            self.assertIn("alert state could not be saved", posts[-1])
            # the other writer's object, untouched by this merge
            after = self.objects()[key]
            if before is None:
                self.assertEqual(after["etag"], '"%s"' % hashlib.md5(other).hexdigest())
            else:
                self.assertNotEqual(after["etag"], before["etag"])
                self.assertEqual(after["size"], before["size"] + 1)
        puts = [r for r in self.fake.requests()
                if r.get("action") == "PutObject" and r.get("region") == "sa-east-1"]
        self.assertEqual([r["status"] for r in puts], [412, 412])

    def test_ack_in_s3_quiets_the_digest_and_keeps_what_a_merge_wrote(self):
        """`ack --state s3://BUCKET/KEY`: the sharded runs' state, read and
        written back only over what was read; when a merge wrote it in
        between, ack reads it again and adds its acknowledgement to it."""
        url = "s3://%s/nightly/ack-set/" % BUCKET
        state = "s3://%s/race-ack/state.json" % BUCKET
        for k in range(N):
            self.assertEqual(self.shard(k, url).returncode, 0)
        p, _ = self.merge(url, "--state", state, "--no-slack")
        self.assertEqual(p.returncode, 1, p.stderr)
        target = "111111111111/us-east-1/alpha-assets"
        p = self.cwsweep(["ack", target, "--state", state, "--region", "me-south-1",
                          "--reason", "known launch"], self.env())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("acknowledged " + target, p.stdout)
        puts = [r["status"] for r in self.fake.requests()
                if r.get("action") == "PutObject" and r.get("region") == "me-south-1"]
        self.assertEqual(puts, [412, 200], "written once over the merge's state")
        (obj,) = [o for o in self.fake.get("/_s3objects?bodies=1")["objects"]
                  if o["bucket"] == BUCKET and o["key"] == "race-ack/state.json"]
        acks = {(a["bucket"], a["reason"]) for a in json.loads(obj["body"])["acks"]}
        self.assertEqual(acks, {("other-bucket", "a merge's"),
                                ("alpha-assets", "known launch")})
        # both acknowledgements are in the object; the next merge marks it
        posts0 = len(self.slack_posts())
        p, out = self.merge(url, "--state", state)
        self.assertEqual(p.returncode, 1, p.stderr)
        with open(os.path.join(out, "report.json"), encoding="utf-8") as f:
            doc = report_rows(json.load(f))
        self.assertEqual({r["alert"] for r in doc["results"] if r["status"] == "anomaly"},
                         {"acknowledged"})
        self.assertEqual(self.slack_posts()[posts0:], [], "acknowledged: no digest")
        for argv, code, words in (
                (["--state", "s3://cwsweep-nope/s.json"], 2, ["NoSuchBucket"]),
                (["--state", "s3://%s/race-ack/" % BUCKET], 2, ["s3://BUCKET/KEY"]),
                (["--state", "/tmp/x.json", "--region", "us-east-1"], 2, ["--region"]),
                (["--state", state, "--region", "nowhere"], 2, ["--region"])):
            p = self.cwsweep(["ack", target] + argv, self.env())
            self.assertEqual(p.returncode, code, p.stderr)
            for w in words:
                self.assertIn(w, p.stderr)

    def test_pagination_loop_and_s3_failing_past_retries(self):
        url = "s3://%s/nightly/set-3/" % BUCKET
        for k in range(N):
            self.assertEqual(self.shard(k, url).returncode, 0)
        out = os.path.join(self.tmp, "never2")
        p, _ = self.merge(url, "--region", "eu-central-1", out=out)
        self.assert_nothing_written(p, out, 2, url, "ListObjectsV2", "pagination loop")
        gets0 = self.fake.count(action="GetObject")
        p, _ = self.merge(url, "--region", "ap-northeast-1", out=out)
        self.assert_nothing_written(p, out, 3, "GetObject", "try again later")
        self.assertEqual(self.fake.count(action="GetObject") - gets0, 3,
                         "the standard retry mode: 3 attempts")

    def test_hand_off_usage_errors(self):
        out = os.path.join(self.tmp, "never3")
        for argv, words in [
                (["--hand-off", "s3://%s/x/" % BUCKET], ["--hand-off needs --shard"]),
                (["--shard", "0/2", "--hand-off", "https://x/"], ["want s3://"]),
                (["--shard", "index/2", "--hand-off", "s3://%s/x/" % BUCKET],
                 ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"]),
                (["--shard", "0/2", "--hand-off", "s3://%s/x/" % BUCKET, "--no-publish"],
                 ["excludes"])]:
            p = self.cwsweep(["run", "-i", self.inv, "-o", out, "--no-state"] + argv,
                             self.env())
            self.assert_nothing_written(p, out, 2, *words)
        p = self.cwsweep(["run", "-i", self.inv, "-o", out, "--shard", "index/2"],
                         self.env({"JOB_COMPLETION_INDEX": "1",
                                   "AWS_BATCH_JOB_ARRAY_INDEX": "0"}))
        self.assert_nothing_written(p, out, 2, "disagree")
        p = self.cwsweep(["run", "-i", self.inv, "-o", out, "--shard", "index/2"],
                         self.env({"AWS_BATCH_JOB_ARRAY_INDEX": "2"}))
        self.assert_nothing_written(p, out, 2, "not a number from 0 to N-1")


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@unittest.skipUnless(MOTO, "moto_server not on PATH")
class HandOffMoto(HandOff):
    """The same hand-off with S3 on moto_server, an independent emulator:
    its ListObjectsV2 pages and XML are moto's, not the fake's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.moto = None
        try:
            for _ in range(3):
                port = free_port()
                cls.moto_log = tempfile.TemporaryFile()
                cls.moto = subprocess.Popen([MOTO, "-p", str(port), "-H", "127.0.0.1"],
                                            stdout=cls.moto_log, stderr=subprocess.STDOUT)
                cls.moto_url = "http://127.0.0.1:%d" % port
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and cls.moto.poll() is None:
                    try:
                        c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                        c.request("PUT", "/" + BUCKET, headers={
                            "Authorization": "AWS4-HMAC-SHA256 Credential=%s/20250101/"
                                             "us-east-1/s3/aws4_request, SignedHeaders=host,"
                                             " Signature=0" % CALLER[0]})
                        if c.getresponse().status in (200, 409):
                            return
                    except OSError:
                        time.sleep(0.2)
                    finally:
                        c.close()
                cls.moto.terminate()
                cls.moto.wait()
            raise RuntimeError("moto_server did not answer on 127.0.0.1")
        except BaseException:
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.moto is not None and cls.moto.poll() is None:
            cls.moto.terminate()
            try:
                cls.moto.wait(10)
            except subprocess.TimeoutExpired:
                cls.moto.kill()
                cls.moto.wait()
        super().tearDownClass()

    def shard(self, k, url, via="k8s", s3_url=None):
        return super().shard(k, url, via, s3_url=self.moto_url)

    def merge(self, *args, s3_url=None, out=None, extra=None):
        return super().merge(*args, s3_url=self.moto_url, out=out, extra=extra)

    def test_four_shards_publish_merge_reads_the_prefix_one_digest(self):
        url = "s3://%s/nightly/set-1/" % BUCKET
        posts0 = len(self.slack_posts())
        for k in range(N):
            p = self.shard(k, url, via="k8s" if k % 2 == 0 else "batch")
            self.assertEqual(p.returncode, 0, p.stderr)
        p, out = self.merge(url)
        self.assertEqual(p.returncode, 1, p.stderr)
        with open(os.path.join(out, "report.json"), encoding="utf-8") as f:
            doc = report_rows(json.load(f))
        self.assertEqual(sorted(map(result_key, doc["results"])),
                         sorted(map(result_key, self.whole["results"])))
        self.assertEqual(doc["failures"], [])
        self.assertEqual(len(self.slack_posts()) - posts0, 1)

    def test_wrong_bucket_refused_access_empty_prefix(self):
        out = os.path.join(self.tmp, "never-moto")
        p, _ = self.merge("s3://cwsweep-nope/nightly/x/", out=out)
        self.assert_nothing_written(p, out, 2, "NoSuchBucket")
        p, _ = self.merge("s3://%s/nowhere/" % BUCKET, out=out)
        self.assert_nothing_written(p, out, 2, "no report.json under this prefix")

    # the fault rules and the clock tolerance are the fake's: moto has none
    test_pagination_loop_and_s3_failing_past_retries = None
    test_shards_started_on_either_side_of_midnight_judge_one_day = None
    test_merge_publishes_the_merged_reports_and_links_them = None
    test_merge_keeps_the_alert_state_of_the_sharded_runs = None
    test_two_merges_at_once_do_not_lose_a_state_update = None
    test_ack_in_s3_quiets_the_digest_and_keeps_what_a_merge_wrote = None
    test_hand_off_usage_errors = None


if __name__ == "__main__":
    if not MOTO:
        print("\n*** SKIPPED: moto_server is not on PATH: the S3 hand-off was NOT "
              "checked against moto's S3 ***\n", file=sys.stderr)
    unittest.main(verbosity=2)
