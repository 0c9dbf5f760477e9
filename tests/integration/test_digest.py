#!/usr/bin/env python3
"""test_digest.py - the Slack digest, the alert state, the config.env mode,
the run lock and signal handling of `cwsweep run`, end to end.

Every test starts its own fake AWS endpoint (tests/fake_aws, a free loopback
port) and stops it whatever happens.  cwsweep runs with a clean environment:
the fake's endpoint and caller keys, HOME in a temp folder, no shared config,
no instance metadata, and SLACK_WEBHOOK_URL aimed at the fake's Slack
receiver, whose path holds a distinctive secret that must never show up in
any output.

Scenario: tests/fake_aws/scenarios/itest5_digest.json (flat daily series,
no weekly pattern, no noise), copied and patched per test with spikes,
latency and scripted Slack answers.  The series clock of the fake (--now)
and cwsweep's --at move together, one day per nightly run, so the alert
state sees the same episode night after night.

Each check reads what the receiver got (GET /_slack), the exit code, and the
rows of report.csv / report.json.
"""
import csv
import fcntl
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

BIN = os.path.abspath(os.environ["CW_BIN"]) if os.environ.get("CW_BIN") else ""
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("CW_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "fake_aws"))
from fakehelper import FakeAWS, RecordingProxy, report_rows  # noqa: E402

SCENARIO = os.path.join(SRC, "tests", "fake_aws", "scenarios", "itest5_digest.json")
CALLER = ("AKIAITEST5CALLER0001", "itest5CallerSECRETdoNotLeak/000000000000")

CSV_COLUMNS = [
    "run_id", "account_id", "account_name", "region", "bucket", "metric",
    "detector", "period_start", "value", "baseline", "limit", "change_pct",
    "score", "status", "severity", "alert", "est_excess_usd", "unit", "note",
    # appended columns (the first 19 keep their order)
    "value_gb", "baseline_gb", "est_excess_usd_all", "owner", "tags", "finding_id",
]
REPORTS = ["report.csv", "report.html", "report.json", "report.md", "report.xlsx"]

DAY = 86400
# Pinned clocks, never the wall clock: night 1 of the nightly runs is
# 2026-06-13T03:00:00Z (a Saturday, so the nights cross a weekend); the series
# clock of one-shot tests is 2026-06-16T12:00:00Z.  Real time decides only
# signatures and credential expiry.
NIGHT1 = 1781319600
NOW = 1781611200

BASE = 40e9  # ops-media's flat daily total (itest5_digest.json)
OPS = "111111111111"

# The secret part of the webhook: the path after the host.
HOOK_PATH = "/slack/services/T0ITEST5/B0ITEST5/xoxItest5HookSecretDoNotLeak"
HOOK_SECRET = "xoxItest5HookSecretDoNotLeak"

# One detector (mean7d, factor 3) so that each bucket has one alert key.
# The account name carries Slack mrkdwn control text: it must reach Slack
# escaped.
ACCOUNT_NAME = "ops <!channel> & <https://evil.example|co>"
INVENTORY = """\
defaults:
  regions: [us-east-1]
  lookback_days: 35
  period: 1d
  detectors:
    mean7d: {factor: 3}
    zscore: false
accounts:
  - id: "111111111111"
    name: "%s"
    role_arn: arn:aws:iam::111111111111:role/cwsweep-reader
    buckets: [ops-media, ops-quiet]
reporting:
  slack:
    enabled: true
    webhook_env: SLACK_WEBHOOK_URL
  cooldown: 7d
  growth_factor: 2
""" % ACCOUNT_NAME

# Four accounts, one bucket each, for the interrupted sweep.
SLOW_INVENTORY = """\
defaults:
  regions: [us-east-1]
  lookback_days: 35
  period: 1d
  detectors:
    mean7d: {factor: 3}
    zscore: false
accounts:
  - id: "111111111111"
    role_arn: arn:aws:iam::111111111111:role/cwsweep-reader
    buckets: [ops-media]
  - id: "222222222222"
    role_arn: arn:aws:iam::222222222222:role/cwsweep-reader
    buckets: [web-assets]
  - id: "333333333333"
    role_arn: arn:aws:iam::333333333333:role/cwsweep-reader
    buckets: [data-lake]
  - id: "444444444444"
    role_arn: arn:aws:iam::444444444444:role/cwsweep-reader
    buckets: [logs-archive]
"""
SLOW_BUCKETS = {"ops-media", "web-assets", "data-lake", "logs-archive"}


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def setUpModule():
    if not BIN or not os.access(BIN, os.X_OK):
        raise unittest.SkipTest("CW_BIN is not an executable: %r" % BIN)


def texts_of(payload):
    """Every string in a Slack payload (the fallback text and all blocks)."""
    out = []

    def walk(x):
        if isinstance(x, str):
            out.append(x)
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(payload)
    return "\n".join(out)


def spikes_of(bucket, spikes):
    """A scenario patch: give one bucket these {days_ago: factor} spikes."""
    def patch(sc):
        for a in sc["accounts"]:
            for b in a["buckets"]:
                if b["name"] == bucket:
                    b["series"]["spikes"] = [{"days_ago": d, "factor": f}
                                             for d, f in sorted(spikes.items())]
    return patch


def slack_answers(*answers):
    def patch(sc):
        sc["slack"] = {"responses": list(answers)}
    return patch


class Report:
    def __init__(self, out, rows, doc):
        self.out, self.rows, self.doc = out, rows, doc

    def row(self, bucket):
        rows = [r for r in self.rows if r["bucket"] == bucket]
        assert len(rows) == 1, rows
        return rows[0]


class DigestCase(unittest.TestCase):
    maxDiff = 4000

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cwsweep-itest5-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.home = os.path.join(self.tmp, "home")
        os.mkdir(self.home)
        self.nfiles = 0

    def tmpfile(self, name, text, mode=0o600):
        self.nfiles += 1
        path = os.path.join(self.tmp, "%02d-%s" % (self.nfiles, name))
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def start_fake(self, *patches, now=NOW):
        """A fake with a patched copy of the scenario, stopped at cleanup."""
        with open(SCENARIO, encoding="utf-8") as f:
            sc = json.load(f)
        for p in patches:
            p(sc)
        fake = FakeAWS(self.tmpfile("scenario.json", json.dumps(sc)), now=now)
        fake.start()
        self.addCleanup(fake.stop)
        return fake

    def hook_url(self, fake):
        return fake.url + HOOK_PATH

    def env_for(self, fake, slack=True, url=None):
        env = fake.env(access_key=CALLER[0], secret_key=CALLER[1])
        if url:
            env["AWS_ENDPOINT_URL"] = url
        env.update(HOME=self.home, AWS_EC2_METADATA_DISABLED="true",
                   AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        if slack:
            env["SLACK_WEBHOOK_URL"] = self.hook_url(fake)
        return env

    def cwsweep(self, argv, env, timeout=60):
        return subprocess.run([BIN] + argv, env=env, cwd=self.tmp, capture_output=True,
                              text=True, timeout=timeout)

    def run_sweep(self, fake, *extra, inventory=INVENTORY, out="out", at=NOW, slack=True):
        """cwsweep run -i INVENTORY -o OUT --at AT EXTRA...; (process, Report)."""
        inv = self.tmpfile("inventory.yaml", inventory)
        out = os.path.join(self.tmp, out)
        p = self.cwsweep(["run", "-i", inv, "-o", out, "--at", iso(at)] + list(extra),
                         self.env_for(fake, slack))
        rep = self.read_reports(out) if os.path.exists(os.path.join(out, "report.csv")) \
            else None
        return p, rep

    def read_reports(self, out):
        names = sorted(os.listdir(out))
        self.assertEqual([n for n in names if ".tmp" in n], [], "temporary files left")
        for r in REPORTS:
            self.assertIn(r, names)
        with open(os.path.join(out, "report.csv"), encoding="utf-8", newline="") as f:
            table = list(csv.reader(f))
        self.assertEqual(table[0], CSV_COLUMNS)
        rows = [dict(zip(CSV_COLUMNS, r)) for r in table[1:]]
        with open(os.path.join(out, "report.json"), encoding="utf-8") as f:
            doc = report_rows(json.load(f))
        self.assertEqual(doc["schema"], "cwsweep.report/3")
        with open(os.path.join(out, "report.md"), encoding="utf-8") as f:
            self.assertTrue(f.read().startswith("# cwsweep report\n"))
        return Report(out, rows, doc)

    def received(self, fake):
        """The payloads the Slack receiver accepted, and its attempt count."""
        s = fake.slack()
        for r in s["received"]:
            self.assertEqual(r["path"], HOOK_PATH)
        return [r["payload"] for r in s["received"]], s["attempts"]

    def assert_no_hook(self, where, text):
        for s in (HOOK_SECRET, HOOK_PATH, "T0ITEST5", "/slack/services"):
            self.assertNotIn(s, text, "the webhook path leaked into %s" % where)


# ---- 1, 2: the alert state over nightly runs -----------------------------------

class AlertStateTest(DigestCase):

    def night(self, n, spikes, state, *extra):
        """Night n (1-based): the fake's clock and --at a day later each night;
        spikes {calendar night: factor} for ops-media, placed on the last
        complete day of that night."""
        now = NIGHT1 + (n - 1) * DAY
        fake = self.start_fake(spikes_of("ops-media", {n - k + 1: f for k, f in spikes.items()
                                                       if k <= n}), now=now)
        args = (["--state", state] if state else []) + list(extra)
        p, rep = self.run_sweep(fake, *args, out="night%d" % n, at=now)
        payloads, attempts = self.received(fake)
        self.assert_no_hook("stderr", p.stderr)
        self.assert_no_hook("stdout", p.stdout)
        return p, rep, payloads, attempts

    def check_state_file(self, state):
        st = os.stat(state)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600, "state file mode %o"
                         % stat.S_IMODE(st.st_mode))
        with open(state, encoding="utf-8") as f:
            doc = json.load(f)
        self.assertEqual(doc["schema"], "cwsweep.state/1")
        return {e["key"]["bucket"]: e for e in doc["entries"]}

    def nights(self, factor2):
        state = os.path.join(self.tmp, "state.json")
        spikes = {1: 8, 2: factor2}

        # night 1: ops-media at 8x its flat 40 GB: new, announced
        p, rep, payloads, _ = self.night(1, spikes, state)
        self.assertEqual(p.returncode, 1, p.stderr)
        media = rep.row("ops-media")
        self.assertEqual((media["status"], media["alert"]), ("anomaly", "new"))
        self.assertEqual(float(media["value"]), 8 * BASE)
        self.assertEqual(float(media["baseline"]), BASE)
        self.assertEqual((rep.row("ops-quiet")["status"], rep.row("ops-quiet")["alert"]),
                         ("ok", ""))
        self.assertEqual(len(payloads), 1, payloads)
        text = texts_of(payloads[0])
        self.assertIn("ops-media", text)
        self.assertIn("*new*", text)
        self.assertNotIn("ops-quiet", text)
        entries = self.check_state_file(state)
        self.assertEqual(set(entries), {"ops-media"})
        self.assertEqual(entries["ops-media"]["status"], "anomaly")
        self.assertEqual(entries["ops-media"]["first_seen"], iso(NIGHT1))
        return state

    def test_three_nights_new_ongoing_resolved(self):
        state = self.nights(8)
        # night 2: still 8x, the baseline now holds night 1 (2x): ongoing,
        # within the cooldown, and nothing else new: no message at all
        p, rep, payloads, attempts = self.night(2, {1: 8, 2: 8}, state)
        self.assertEqual(p.returncode, 1, p.stderr)
        media = rep.row("ops-media")
        self.assertEqual((media["status"], media["alert"]), ("anomaly", "ongoing"))
        self.assertEqual(float(media["baseline"]), 2 * BASE)
        self.assertEqual(payloads, [], "an ongoing anomaly within the cooldown is not "
                         "announced again")
        self.assertEqual(attempts, 0)
        with open(os.path.join(rep.out, "report.md"), encoding="utf-8") as f:
            md = [ln for ln in f if "ops-media" in ln and "|" in ln]
        self.assertTrue(md and any("ongoing" in ln for ln in md), md)
        j = [r for r in rep.doc["results"] if r["bucket"] == "ops-media"]
        self.assertEqual([r.get("alert") for r in j], ["ongoing"])
        entries = self.check_state_file(state)
        self.assertEqual(entries["ops-media"]["status"], "anomaly")
        self.assertEqual(entries["ops-media"]["last_announced"], iso(NIGHT1))
        self.assertEqual(entries["ops-media"]["last_seen"], iso(NIGHT1 + DAY))

        # night 3: back to 40 GB: resolved, announced once
        p, rep, payloads, _ = self.night(3, {1: 8, 2: 8}, state)
        self.assertEqual(p.returncode, 0, p.stderr)
        media = rep.row("ops-media")
        self.assertEqual((media["status"], media["alert"]), ("ok", "resolved"))
        self.assertEqual(float(media["value"]), BASE)
        self.assertEqual(len(payloads), 1, payloads)
        text = texts_of(payloads[0])
        self.assertIn("Resolved", text)
        self.assertIn("ops-media", text)
        self.assertNotIn("*new*", text)
        entries = self.check_state_file(state)
        self.assertEqual(entries["ops-media"]["status"], "resolved")

    def test_growth_is_announced_again(self):
        state = self.nights(20)
        # night 2: 20x over a 2x baseline: excess 18 x 40 GB >= 2 x 7 x 40 GB
        p, rep, payloads, _ = self.night(2, {1: 8, 2: 20}, state)
        self.assertEqual(p.returncode, 1, p.stderr)
        media = rep.row("ops-media")
        self.assertEqual((media["status"], media["alert"]), ("anomaly", "grew"))
        self.assertEqual(float(media["value"]), 20 * BASE)
        self.assertEqual(len(payloads), 1, payloads)
        text = texts_of(payloads[0])
        self.assertIn("ops-media", text)
        self.assertIn("*grew*", text)
        entries = self.check_state_file(state)
        self.assertEqual(entries["ops-media"]["last_announced"], iso(NIGHT1 + DAY))

    def test_corrupt_state_is_a_warning_and_empty(self):
        state = self.tmpfile("state.json", '{"schema": "cwsweep.state/1", "entries": [{')
        p, rep, payloads, _ = self.night(1, {1: 8}, state)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertRegex(p.stderr, r"warning.*state file %s" % re.escape(state))
        self.assertIn("empty state", p.stderr)
        media = rep.row("ops-media")
        self.assertEqual((media["status"], media["alert"]), ("anomaly", "new"))
        self.assertEqual(len(payloads), 1, payloads)
        self.assertIn("*new*", texts_of(payloads[0]))
        # rewritten as a valid state
        self.assertEqual(set(self.check_state_file(state)), {"ops-media"})

    def test_no_state_ignores_the_state_file(self):
        state = os.path.join(self.tmp, "state.json")
        inv = INVENTORY + "  state_file: %s\n" % state
        fake = self.start_fake(spikes_of("ops-media", {1: 8}))
        # first run: the inventory's state file records the episode
        p, rep = self.run_sweep(fake, inventory=inv, out="first")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(rep.row("ops-media")["alert"], "new")
        # same night again: with the state it would be ongoing and silent
        p, rep = self.run_sweep(fake, inventory=inv, out="again")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(rep.row("ops-media")["alert"], "ongoing")
        self.assertEqual(len(self.received(fake)[0]), 1)
        with open(state, "rb") as f:
            before = f.read()
        # --no-state: announced again (as the old script did), state untouched
        p, rep = self.run_sweep(fake, "--no-state", inventory=inv, out="nostate")
        self.assertEqual(p.returncode, 1, p.stderr)
        media = rep.row("ops-media")
        self.assertEqual((media["status"], media["alert"]), ("anomaly", ""))
        payloads, _ = self.received(fake)
        self.assertEqual(len(payloads), 2, payloads)
        self.assertIn("ops-media", texts_of(payloads[1]))
        with open(state, "rb") as f:
            self.assertEqual(f.read(), before, "--no-state must not touch the state file")


# ---- 3, 4: posting to Slack --------------------------------------------------

class SlackTest(DigestCase):

    def test_429_then_ok(self):
        fake = self.start_fake(spikes_of("ops-media", {1: 8}),
                               slack_answers({"status": 429, "retry_after": 1}))
        t0 = time.monotonic()
        p, rep = self.run_sweep(fake, "--no-state")
        self.assertEqual(p.returncode, 1, p.stderr)  # as without Slack
        self.assertGreaterEqual(time.monotonic() - t0, 1.0, "Retry-After: 1 was honoured")
        payloads, attempts = self.received(fake)
        self.assertEqual(len(payloads), 1)
        self.assertEqual(attempts, 2)
        self.assertIn("ops-media", texts_of(payloads[0]))

    def test_500_every_time(self):
        fake = self.start_fake(spikes_of("ops-media", {1: 8}),
                               slack_answers(*[{"status": 500}] * 10))
        p, rep = self.run_sweep(fake, "--no-state")
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIsNotNone(rep, "the reports are written before the digest")
        self.assertEqual(rep.row("ops-media")["status"], "anomaly")
        payloads, attempts = self.received(fake)
        self.assertEqual(payloads, [])
        self.assertEqual(attempts, 3, "a 500 is tried 3 times")
        err = [ln for ln in p.stderr.splitlines() if "slack" in ln.lower()]
        self.assertTrue(any("127.0.0.1" in ln and "500" in ln for ln in err), p.stderr)
        self.assert_no_hook("stderr", p.stderr)
        self.assert_no_hook("stdout", p.stdout)

    def test_slack_refusals_are_clear_errors(self):
        for status, body in ((400, "invalid_payload"), (410, "channel_is_archived"),
                             (404, "channel_not_found")):
            with self.subTest(body=body):
                fake = self.start_fake(spikes_of("ops-media", {1: 8}),
                                       slack_answers({"status": status, "body": body}))
                p, rep = self.run_sweep(fake, "--no-state", out="out-" + body)
                self.assertEqual(p.returncode, 3, p.stderr)
                self.assertIsNotNone(rep)
                self.assertRegex(p.stderr, r"slack webhook \(127\.0\.0\.1[^)]*\): HTTP %d: %s"
                                 % (status, body))
                payloads, attempts = self.received(fake)
                self.assertEqual((payloads, attempts), ([], 1), "refusals are not retried")
                self.assert_no_hook("stderr", p.stderr)

    def test_no_slack_and_preview(self):
        fake = self.start_fake(spikes_of("ops-media", {1: 8}))
        p, rep = self.run_sweep(fake, "--no-state", "--no-slack", out="a")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(self.received(fake), ([], 0))
        p, rep = self.run_sweep(fake, "--no-state", "--slack-preview", "-q", out="b")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(self.received(fake), ([], 0))
        payload = json.loads(p.stdout)
        self.assertIn("text", payload)
        self.assertLessEqual(len(payload["blocks"]), 50)
        self.assertIn("ops-media", texts_of(payload))
        self.assert_no_hook("stdout", p.stdout)
        # the preview is what would have been posted
        p, rep = self.run_sweep(fake, "--no-state", out="c")
        self.assertEqual(p.returncode, 1, p.stderr)
        posted = self.received(fake)[0]
        self.assertEqual(len(posted), 1)
        strip = lambda t: re.sub(r"\d{8}T\d{6}Z-[0-9a-f]{4}|/[^`]*/(b|c)/report\.md",  # noqa
                                 "X", t)
        self.assertEqual(strip(texts_of(posted[0])), strip(texts_of(payload)))

    def test_outside_text_is_escaped(self):
        fake = self.start_fake(spikes_of("ops-media", {1: 8}))
        p, rep = self.run_sweep(fake, "--no-state")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(rep.row("ops-media")["account_name"], ACCOUNT_NAME)
        payloads, _ = self.received(fake)
        self.assertEqual(len(payloads), 1)
        text = texts_of(payloads[0])
        self.assertIn("ops-media", text)
        self.assertIn("&lt;!channel&gt;", text, "the account name is shown, escaped")
        self.assertIn("&amp;", text)
        for raw in ("<!channel>", "<https://evil", "|co>"):
            self.assertNotIn(raw, text)
            self.assertNotIn(raw, json.dumps(payloads[0], ensure_ascii=False))
        # no stray < or >: Slack would read them as markup; the only ones
        # are the console links cwsweep made, <https://...console...|label>
        links = re.findall(r"<https://[a-z0-9.-]+\.console\.aws\.amazon\.com/[^<>|\s]*\|"
                           r"(?:CloudWatch graph|S3 bucket)>", text)
        self.assertEqual(len(links), 2, text)
        bare = text
        for link in links:
            bare = bare.replace(link, "")
        self.assertNotIn("<", bare)
        self.assertNotIn(">", bare)

    def test_webhook_never_printed(self):
        for answers, code in (([], 1), ([{"status": 500}] * 3, 3),
                              ([{"status": 403, "body": "invalid_token"}], 3)):
            for flags in (["-v"], ["--debug-http"]):
                with self.subTest(answers=answers, flags=flags):
                    fake = self.start_fake(spikes_of("ops-media", {1: 8}),
                                           slack_answers(*answers))
                    state = os.path.join(self.tmp, "state-%d.json" % self.nfiles)
                    p, rep = self.run_sweep(fake, "--state", state, *flags,
                                            out="out%d" % self.nfiles)
                    self.assertEqual(p.returncode, code, p.stderr)
                    self.assertIn("slack", p.stderr.lower(), "-v says what it posted")
                    self.assertIn("127.0.0.1", p.stderr)
                    self.assert_no_hook("stdout", p.stdout)
                    self.assert_no_hook("stderr", p.stderr)
                    for name in sorted(os.listdir(rep.out)) + [state]:
                        path = os.path.join(rep.out, name)
                        with open(path, encoding="utf-8", errors="replace") as f:
                            self.assert_no_hook(name, f.read())
                    if flags == ["--debug-http"]:
                        self.assertIn("GetMetricData", p.stderr)


# ---- 5: the old script's config.env ------------------------------------------

GIB = 1024 ** 3


class ConfigEnvTest(DigestCase):

    def config(self, fake, mode=0o600, extra="", threshold="50"):
        text = ("# the one-bucket script's configuration\n"
                "SLACK_WEBHOOK_URL=%s\n"
                "S3_BUCKET_NAME=legacy-downloads\n"
                "DATA_TRANSFER_THRESHOLD_GB=%s\n"
                "AWS_REGION=eu-west-1\n%s" % (self.hook_url(fake), threshold, extra))
        d = os.path.join(self.tmp, "cfg%d" % self.nfiles)
        self.nfiles += 1
        os.mkdir(d)
        path = os.path.join(d, "config.env")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def run_config(self, fake, cfg, out="out", url=None):
        env = self.env_for(fake, slack=False, url=url)
        env.pop("AWS_REGION", None)
        out = os.path.join(self.tmp, out)
        p = self.cwsweep(["run", "--config", cfg, "-o", out, "--at", iso(NOW)], env)
        rep = self.read_reports(out) if os.path.exists(os.path.join(out, "report.csv")) \
            else None
        self.assert_no_hook("stderr", p.stderr)
        self.assert_no_hook("stdout", p.stdout)
        return p, rep

    def test_above_threshold_alerts_once(self):
        # 54e9 bytes: above 50 GiB (53,687,091,200), as the script computed GB
        fake = self.start_fake(spikes_of("legacy-downloads", {1: 2.7}))
        proxy = RecordingProxy(fake.port)
        self.addCleanup(proxy.stop)
        p, rep = self.run_config(fake, self.config(fake), url=proxy.url)
        self.assertEqual(p.returncode, 1, p.stderr)
        rows = [r for r in rep.rows if r["status"] in ("ok", "anomaly")]
        self.assertEqual(len(rows), 1, rep.rows)
        r = rows[0]
        self.assertEqual((r["bucket"], r["region"], r["metric"], r["detector"], r["status"]),
                         ("legacy-downloads", "eu-west-1", "AWS/S3 BytesDownloaded Sum",
                          "threshold", "anomaly"))
        self.assertEqual(float(r["value"]), 54e9)
        self.assertEqual(float(r["limit"]), 50 * GIB)
        self.assertEqual(r["period_start"], iso((NOW // DAY - 1) * DAY))
        payloads, attempts = self.received(fake)
        self.assertEqual((len(payloads), attempts), (1, 1))
        self.assertIn("legacy-downloads", texts_of(payloads[0]))
        # the query: BytesDownloaded with BucketName + FilterId=EntireBucket
        bodies = proxy.gmd_bodies()
        self.assertTrue(bodies)
        seen = 0
        for b in bodies:
            for q in b["MetricDataQueries"]:
                m = q["MetricStat"]["Metric"]
                if m["MetricName"] == "BucketSizeBytes":
                    continue  # the coverage: its stored bytes
                seen += 1
                self.assertEqual((m["Namespace"], m["MetricName"]),
                                 ("AWS/S3", "BytesDownloaded"))
                self.assertEqual(sorted((d["Name"], d["Value"]) for d in m["Dimensions"]),
                                 [("BucketName", "legacy-downloads"),
                                  ("FilterId", "EntireBucket")])
                self.assertEqual(q["MetricStat"]["Stat"], "Sum")
        self.assertGreater(seen, 0)
        gmd = [x for x in fake.requests() if x["action"] == "GetMetricData"]
        self.assertTrue(gmd)
        self.assertTrue(all((x["account"], x["region"], x["status"]) ==
                            ("000000000000", "eu-west-1", 200) for x in gmd), gmd)
        self.assertEqual([x for x in fake.requests() if x["action"] == "AssumeRole"], [],
                         "config.env mode uses the ambient credentials")

    def test_below_threshold_is_quiet(self):
        # 52e9 bytes: above 50 * 10^9 but below 50 GiB: no alert
        fake = self.start_fake(spikes_of("legacy-downloads", {1: 2.6}))
        p, rep = self.run_config(fake, self.config(fake))
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = [r for r in rep.rows if r["status"] in ("ok", "anomaly")]
        self.assertEqual([(r["bucket"], r["status"], float(r["value"])) for r in rows],
                         [("legacy-downloads", "ok", 52e9)])
        self.assertEqual(self.received(fake), ([], 0))

    def test_open_permissions_refused(self):
        fake = self.start_fake(spikes_of("legacy-downloads", {1: 2.7}))
        cfg = self.config(fake, mode=0o644)
        p, rep = self.run_config(fake, cfg)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("chmod 600", p.stderr)
        self.assertIn("config.env", p.stderr)
        self.assertIsNone(rep)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "out")))
        self.assertEqual(fake.requests(), [])
        self.assertEqual(self.received(fake), ([], 0))

    def test_garbage_line(self):
        fake = self.start_fake()
        cfg = self.config(fake, extra="this line is no assignment\n")
        p, rep = self.run_config(fake, cfg)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("config.env:6", p.stderr)
        self.assertNotIn("this line is no assignment", p.stderr)
        self.assertIsNone(rep)
        self.assertEqual(fake.requests(), [])


# ---- 6, 7: lock and signals --------------------------------------------------

class LockSignalTest(DigestCase):

    def test_lock_held(self):
        fake = self.start_fake(spikes_of("ops-media", {1: 8}))
        lock = os.path.join(self.tmp, "cwsweep.lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            p, rep = self.run_sweep(fake, "--no-state", "--lock", lock)
            self.assertEqual(p.returncode, 75, p.stderr)
            self.assertIn(lock, p.stderr)
            self.assertIn("lock", p.stderr)
            self.assertIsNone(rep)
            self.assertEqual(fake.requests(), [], "nothing fetched while locked")
            self.assertEqual(self.received(fake), ([], 0))
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        p, rep = self.run_sweep(fake, "--no-state", "--lock", lock)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(rep.row("ops-media")["status"], "anomaly")
        self.assertEqual(len(self.received(fake)[0]), 1)

    def test_sigterm_during_a_slow_sweep(self):
        def slow(sc):
            sc["latency_ms"] = {"GetMetricData": 2000, "default": 0}
        fake = self.start_fake(slow, spikes_of("ops-media", {1: 8}))
        inv = self.tmpfile("inventory.yaml", SLOW_INVENTORY)
        out = os.path.join(self.tmp, "out")
        state = os.path.join(self.tmp, "state.json")
        argv = [BIN, "run", "-i", inv, "-o", out, "--at", iso(NOW), "--jobs", "1",
                "--state", state]
        proc = subprocess.Popen(argv, env=self.env_for(fake), cwd=self.tmp,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and proc.poll() is None:
                if fake.count(action="GetMetricData") >= 1:
                    break
                time.sleep(0.05)
            self.assertGreaterEqual(fake.count(action="GetMetricData"), 1)
            # the fake logs a call just before it answers: let that answer
            # arrive; the next call (2 s) is then under way
            time.sleep(0.5)
            self.assertIsNone(proc.poll(), "the sweep ended before the signal")
            proc.send_signal(signal.SIGTERM)
            t0 = time.monotonic()
            stdout, stderr = proc.communicate(timeout=15)
            took = time.monotonic() - t0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        self.assertEqual(proc.returncode, 3, stderr)
        self.assertLess(took, 5.0, "cwsweep took %.1f s to stop after SIGTERM" % took)
        self.assertEqual([n for n in os.listdir(out) if ".tmp" in n], [])
        rep = self.read_reports(out)
        judged = {r["bucket"] for r in rep.rows if r["status"] in ("ok", "anomaly")}
        failed = {f["bucket"] for f in rep.doc["failures"]}
        interrupted = [f for f in rep.doc["failures"] if f["code"] == "Interrupted"]
        self.assertTrue(interrupted, rep.doc["failures"])
        self.assertTrue(judged, "what was fetched before the signal is judged")
        self.assertLess(len(judged), len(SLOW_BUCKETS), "the sweep was cut short")
        # every bucket is accounted for: judged, or a failure row
        self.assertEqual(judged | failed, SLOW_BUCKETS, rep.doc["failures"])
        self.assertEqual(judged & failed, set())
        for f in rep.doc["failures"]:
            self.assertEqual(f["code"], "Interrupted", f)
        csv_failed = {r["bucket"] for r in rep.rows if r["status"] == "failed"}
        self.assertEqual(csv_failed, failed)
        with open(state, encoding="utf-8") as f:
            self.assertEqual(json.load(f)["schema"], "cwsweep.state/1")
        self.assertEqual(stat.S_IMODE(os.stat(state).st_mode), 0o600)


if __name__ == "__main__":
    unittest.main(verbosity=2)
