#!/usr/bin/env python3
"""Command-line conventions of `cwsweep run` against the fake endpoint's demo
scenario (accounts.yaml.example, the clock pinned with --at):

- --slack-preview: stdout is the payload's JSON and nothing else;
- --at in the future is refused (exit 2, nothing written);
- --region keeps only that region of each account;
- --slack-env VAR names the variable holding the webhook;
- every --help line is whole (no line ends mid-sentence with a colon or a
  dangling word).
"""

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

BIN = os.path.abspath(os.environ["CW_BIN"]) if os.environ.get("CW_BIN") else ""
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("CW_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "fake_aws"))
from fakehelper import FakeAWS  # noqa: E402

DEMO = os.path.join(SRC, "tests", "fake_aws", "scenarios", "demo.json")
EXAMPLE = os.path.join(SRC, "accounts.yaml.example")
SERIES_NOW = 1764936000  # 2025-12-05T12:00:00Z
AT = "2025-12-05T12:00:00Z"


class RunCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = FakeAWS(DEMO, now=SERIES_NOW)
        cls.fake.start()

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cwcli-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_cw(self, *args, env_extra=None):
        env = self.fake.env()
        env.update(HOME=self.tmp, AWS_CONFIG_FILE="/dev/null",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        env.pop("SLACK_WEBHOOK_URL", None)
        env.update(env_extra or {})
        out = os.path.join(self.tmp, "out")
        p = subprocess.run([BIN, "run", "-i", EXAMPLE, "-o", out, "--no-state"] + list(args),
                           env=env, capture_output=True, text=True, timeout=120)
        return p, out

    def test_slack_preview_stdout_is_only_json(self):
        p, _ = self.run_cw("--at", AT, "--slack-preview")
        self.assertEqual(p.returncode, 3, p.stderr)
        doc = json.loads(p.stdout)  # the whole of stdout parses
        self.assertIn("blocks", doc)
        self.assertIn("cwsweep: ", p.stderr)  # the summary went to stderr
        self.assertIn("finding", p.stderr)

    def test_future_at_is_refused(self):
        p, out = self.run_cw("--at", "2999-01-01T00:00:00Z", "--no-slack")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--at", p.stderr)
        self.assertIn("future", p.stderr)
        self.assertFalse(os.path.exists(out))

    def test_region_restricts(self):
        p, out = self.run_cw("--at", AT, "--no-slack", "--region", "eu-west-1")
        self.assertIn(p.returncode, (0, 1, 3), p.stderr)
        with open(os.path.join(out, "report.csv"), newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        # S3 buckets (AWS/Billing lives in us-east-1 whatever the regions)
        judged = [r for r in rows if r["status"] in ("ok", "anomaly") and r["bucket"]]
        self.assertTrue(judged)
        self.assertEqual({r["region"] for r in judged}, {"eu-west-1"})
        p2, _ = self.run_cw("--region", "moon-base-1")
        self.assertEqual(p2.returncode, 2)
        self.assertIn("--region", p2.stderr)

    def test_slack_env(self):
        hook = self.fake.url + "/slack/services/T0/B0/cli-test"
        before = len(self.fake.slack().get("received", []))
        p, _ = self.run_cw("--at", AT, "--slack-env", "MY_TEAM_HOOK",
                           env_extra={"MY_TEAM_HOOK": hook})
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertNotIn(hook, p.stdout + p.stderr)  # the webhook is a secret
        got = self.fake.slack().get("received", [])
        self.assertEqual(len(got), before + 1, p.stderr)
        p, _ = self.run_cw("--slack-env", "not a name")
        self.assertEqual(p.returncode, 2)


class StateFailures(unittest.TestCase):
    """With a state file the demo's AccessDenied is posted the first night and
    not the next (nor the ongoing spike): the second run sends nothing."""

    def test_ongoing_failure_posted_once(self):
        tmp = tempfile.mkdtemp(prefix="cwstate-")
        fake = FakeAWS(DEMO, now=SERIES_NOW)
        fake.start()
        try:
            env = fake.env()
            env.update(HOME=tmp, AWS_CONFIG_FILE="/dev/null",
                       AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                       SLACK_WEBHOOK_URL=fake.url + "/slack/services/T0/B0/state")
            state = os.path.join(tmp, "state.json")
            sent = []
            for night in range(2):
                p = subprocess.run([BIN, "run", "-i", EXAMPLE, "-o",
                                    os.path.join(tmp, "out%d" % night), "--at", AT,
                                    "--state", state, "-q", "--format", "json"],
                                   env=env, capture_output=True, text=True, timeout=120)
                self.assertEqual(p.returncode, 3, p.stderr)
                sent.append(len(fake.slack().get("received", [])))
            self.assertEqual(sent, [1, 1], "the second night had nothing new to say")
            first = fake.slack()["received"][0]
            text = json.dumps(first)
            self.assertIn("AccessDenied", text)
            with open(state, encoding="utf-8") as f:
                keys = [e["key"]["detector"] for e in json.load(f)["entries"]]
            self.assertIn("failure:assume-role:AccessDenied", keys)
        finally:
            fake.stop()
            shutil.rmtree(tmp, ignore_errors=True)


class Publish(unittest.TestCase):
    """reporting.publish: the reports go to S3 (PutObject, SSE, content types)
    under PREFIX/RUN_ID/, and the digest links report.html through a
    presigned GET URL that the fake checks with botocore's presigner."""

    def test_publish_and_link(self):
        import re
        import urllib.error
        import urllib.request
        tmp = tempfile.mkdtemp(prefix="cwpub-")
        fake = FakeAWS(DEMO, now=SERIES_NOW)
        fake.start()
        try:
            with open(EXAMPLE, encoding="utf-8") as f:
                text = f.read()
            text = text.replace("  # lock_file:", "  publish: s3://cwsweep-reports/nightly/\n"
                                "  publish_region: eu-west-1\n"
                                "  publish_link_expiry: 2d\n  # lock_file:", 1)
            inv = os.path.join(tmp, "inv.yaml")
            with open(inv, "w", encoding="utf-8") as f:
                f.write(text)
            env = fake.env()
            env.update(HOME=tmp, AWS_CONFIG_FILE="/dev/null",
                       AWS_SHARED_CREDENTIALS_FILE="/dev/null")
            p = subprocess.run([BIN, "run", "-i", inv, "-o", os.path.join(tmp, "out"),
                                "--at", AT, "--no-state", "--slack-preview"], env=env,
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 3, p.stderr)
            doc = json.loads(p.stdout)
            foot = doc["blocks"][-1]["elements"][0]["text"]
            m = re.search(r"<(http://[^|>]+)\|the report>", foot)
            self.assertIsNotNone(m, foot)
            url = m.group(1).replace("&amp;", "&")
            self.assertIn("/cwsweep-reports/nightly/", url)
            self.assertIn("/report.html?X-Amz-Algorithm=AWS4-HMAC-SHA256&", url)
            self.assertIn("X-Amz-Expires=172800", url)
            self.assertNotIn("a local file", foot)
            objs = fake.get("/_s3objects")["objects"]
            names = sorted(o["key"].rsplit("/", 1)[1] for o in objs)
            self.assertEqual(names, ["report.csv", "report.html", "report.json", "report.md",
                                     "report.xlsx"])
            for o in objs:
                self.assertEqual(o["bucket"], "cwsweep-reports")
                self.assertTrue(o["key"].startswith("nightly/"), o)
                self.assertEqual(o["sse"], "AES256")
                self.assertGreater(o["size"], 0)
            ctypes = {o["key"].rsplit(".", 1)[1]: o["content_type"] for o in objs}
            self.assertEqual(ctypes["html"], "text/html; charset=utf-8")
            self.assertEqual(ctypes["xlsx"], "application/vnd.openxmlformats-officedocument."
                             "spreadsheetml.sheet")
            with urllib.request.urlopen(url, timeout=10) as r:
                self.assertTrue(r.read().startswith(b"<!DOCTYPE html>"))
            bad = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
            with self.assertRaises(urllib.error.HTTPError) as cm:
                urllib.request.urlopen(bad, timeout=10)
            self.assertEqual(cm.exception.code, 403)
        finally:
            fake.stop()
            shutil.rmtree(tmp, ignore_errors=True)


class Validate(unittest.TestCase):
    def test_long_names_keep_their_id(self):
        tmp = tempfile.mkdtemp(prefix="cwcli-")
        try:
            name = "a-very-long-account-name-that-goes-on-and-on-" * 2
            inv = os.path.join(tmp, "inv.yaml")
            with open(inv, "w", encoding="utf-8") as f:
                f.write('accounts:\n  - id: "012345678901"\n    name: %s\n'
                        '    role_arn: arn:aws:iam::012345678901:role/r\n'
                        '    regions: [us-east-1]\n    buckets: [bucket-one]\n' % name)
            p = subprocess.run([BIN, "validate", "-i", inv], capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("%s (012345678901) 1" % name, p.stdout)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_per_period_defaults_are_named_not_printed_as_numbers(self):
        # robust's defaults depend on the series' period (NaN until judged):
        # validate says so instead of printing a cast of NaN
        p = subprocess.run([BIN, "validate", "-i", EXAMPLE], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(" window=per-period ", p.stdout)
        self.assertNotIn("-9223372036854775808", p.stdout)
        self.assertNotRegex(p.stdout, r" [a-z_]+= ")


class Merge(unittest.TestCase):
    """merge checks that its inputs belong together, and names what is missing."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cwmerge-")
        with open(os.path.join(SRC, "tests", "data", "golden", "report.json"),
                  encoding="utf-8") as f:
            self.doc = json.load(f)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def shard(self, name, shard=None, at=None, mode="run", run_id=None):
        d = json.loads(json.dumps(self.doc))
        d["run"]["shard"] = shard
        d["run"]["at"] = at
        d["run"]["mode"] = mode
        d["run"]["run_id"] = run_id or "20140215T031500Z-" + name
        path = os.path.join(self.tmp, name + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(d, f)
        return path

    def merge(self, *paths):
        out = os.path.join(self.tmp, "out")
        p = subprocess.run([BIN, "merge"] + list(paths) + ["-o", out, "--no-slack", "-q",
                                                            "--format", "json,csv"],
                           capture_output=True, text=True, timeout=60)
        return p, out

    def test_missing_shard_is_named(self):
        at = "2014-02-15T03:15:00Z"
        p, out = self.merge(self.shard("a", "0/3", at), self.shard("b", "2/3", at))
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("shard 1/3", p.stderr)
        with open(os.path.join(out, "report.json"), encoding="utf-8") as f:
            doc = json.load(f)
        missing = [x for x in doc["failures"] if x["code"] == "MissingShard"]
        self.assertEqual(len(missing), 1)
        self.assertIn("shard 1/3", missing[0]["message"])
        self.assertEqual(doc["run"]["at"], at)
        self.assertIsNone(doc["run"]["shard"])

    def test_refused(self):
        at = "2014-02-15T03:15:00Z"
        cases = {
            "twice": (self.shard("a", "0/2", at), self.shard("b", "0/2", at), "given twice"),
            "same run": (self.shard("c", "0/2", at, run_id="R"),
                         self.shard("d", "1/2", at, run_id="R"), "given twice"),
            "other N": (self.shard("e", "0/2", at), self.shard("f", "1/3", at), "split"),
            "other at": (self.shard("g", "0/2", at),
                         self.shard("h", "1/2", "2014-02-16T03:15:00Z"), "--at"),
            "mix": (self.shard("i", None, None),
                    self.shard("j", None, None, mode="analyze"), "cannot join"),
        }
        for name, (a, b, words) in cases.items():
            with self.subTest(name):
                p, out = self.merge(a, b)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn(words, p.stderr)
                self.assertFalse(os.path.exists(out))

    def test_sweep_records_shard_and_at(self):
        fake = FakeAWS(DEMO, now=SERIES_NOW)
        fake.start()
        try:
            env = fake.env()
            env.update(HOME=self.tmp, AWS_CONFIG_FILE="/dev/null",
                       AWS_SHARED_CREDENTIALS_FILE="/dev/null")
            out = os.path.join(self.tmp, "s1")
            p = subprocess.run([BIN, "run", "-i", EXAMPLE, "-o", out, "--at", AT,
                                "--shard", "1/2", "--no-state", "--no-slack", "-q",
                                "--format", "json"], env=env, capture_output=True,
                               text=True, timeout=120)
            self.assertIn(p.returncode, (0, 1, 3), p.stderr)
        finally:
            fake.stop()
        with open(os.path.join(out, "report.json"), encoding="utf-8") as f:
            run = json.load(f)["run"]
        self.assertEqual(run["shard"], "1/2")
        self.assertEqual(run["at"], AT)
        # merged alone: shard 0/2 is missing, exit 3
        p, _ = self.merge(os.path.join(out, "report.json"))
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("shard 0/2", p.stderr)


class Help(unittest.TestCase):
    def test_help_lines_whole(self):
        for cmd in ("run", "analyze", "validate", "merge"):
            p = subprocess.run([BIN, cmd, "--help"], capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(p.returncode, 0, cmd)
            lines = p.stdout.splitlines()
            for i, line in enumerate(lines):
                if cmd == "run":
                    self.assertLessEqual(len(line), 84, "%s --help: %r" % (cmd, line))
                # the last line of an option's text ends its sentence (the
                # --at text used to stop at "replays")
                nxt = lines[i + 1] if i + 1 < len(lines) else ""
                if line.startswith("  ") and (not nxt.strip() or nxt.startswith("  -")):
                    self.assertFalse(line.rstrip().endswith(
                        ("replays", " a", " the", " of", " to", " and", " or", ",", ":")),
                        "%s --help: %r" % (cmd, line))
                # an option's text ends with a word or a closing mark, never
                # with ":" unless a list follows on the next lines
                if line.rstrip().endswith(":") and line.startswith("  --"):
                    nxt = lines[i + 1] if i + 1 < len(lines) else ""
                    self.assertTrue(nxt.startswith("      "), "%s: %r" % (cmd, line))


if __name__ == "__main__":
    unittest.main(verbosity=2)
