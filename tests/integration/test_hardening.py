#!/usr/bin/env python3
"""test_hardening.py - `cwsweep run` under hostile answers and faults.

Against the fake AWS endpoint (tests/fake_aws) with the faults it scripts:
PartialData without a NextToken, error bodies that echo the session token,
a NextToken that repeats, endless response bodies on every worker, and
sustained throttling; and against the file system: folders that cannot be
written, states that cannot be saved, bad options that must leave nothing
behind.  The helpers (a fake per test, a clean environment, the three
reports parsed and checked against each other) are test_sweep.py's.
"""
import json
import os
import resource
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_sweep as ts  # noqa: E402
from test_sweep import (ALPHA, AT, BETA, GAMMA, ORG_CALLER, ORG_INVENTORY,  # noqa: E402
                        ISSUED_TOKEN_PREFIX, SweepCase, add_faults)
from fakehelper import parse_metrics, promtool_check  # noqa: E402


def setUpModule():
    ts.setUpModule()


# alpha and beta only: two account-regions in us-east-1 plus alpha's eu-west-1
SMALL_INVENTORY = ORG_INVENTORY.split("  - id: \"300000000000\"")[0]


class HostileAnswersTest(SweepCase):

    def all_output(self, p, out):
        text = p.stdout + p.stderr
        for name in sorted(os.listdir(out)):
            path = os.path.join(out, name)
            if os.path.isfile(path):
                with open(path, encoding="utf-8", errors="replace") as f:
                    text += f.read()
        return text

    def test_partial_data_without_next_token_is_a_failure_not_zeros(self):
        """PartialData on the last page, newest days missing: the bucket is a
        failure row (exit 3), never quiet zeros judged ok."""
        fake = self.start_fake(patch=add_faults({
            "kind": "query_status", "bucket": "beta-web", "status_code": "PartialData",
            "drop_newest": 3}))
        p, rep = self.sweep(fake, SMALL_INVENTORY)
        self.assertEqual(p.returncode, 3, p.stderr)
        fails = rep.failures(bucket="beta-web")
        self.assertEqual(len(fails), 1, rep.doc["failures"])
        self.assertEqual(fails[0]["code"], "PartialData")
        self.assertEqual(rep.results(bucket="beta-web"), [])
        # the other buckets are judged as usual
        self.assertTrue(rep.results(bucket="beta-data"))
        self.assertTrue(rep.results(bucket="alpha-assets"))

    def test_echoed_session_token_never_reaches_reports_or_terminal(self):
        """An error body that quotes the session token and the Authorization
        header: every report and the terminal get it redacted."""
        fake = self.start_fake(patch=add_faults({
            "kind": "echo_headers", "service": "cloudwatch", "action": "GetMetricData",
            "account": BETA}))
        p, rep = self.sweep(fake, SMALL_INVENTORY, "-v")
        self.assertEqual(p.returncode, 3, p.stderr)
        fails = rep.failures(account_id=BETA)
        self.assertTrue(fails, rep.doc["failures"])
        self.assertIn("[REDACTED]", fails[0]["message"])
        text = self.all_output(p, rep.out)
        self.assertNotIn(ISSUED_TOKEN_PREFIX, text)
        self.assertNotIn(ORG_CALLER[2], text)
        self.assertNotIn("Signature=", text)
        # the summary on stdout (not -q) carries the failure too
        p2, _ = self.sweep(fake, SMALL_INVENTORY, out="out2")
        self.assertNotIn(ISSUED_TOKEN_PREFIX, p2.stdout + p2.stderr)

    def test_repeated_next_token_stops_at_once(self):
        """A NextToken that repeats is a pagination loop: the listing and the
        fetch stop at the second page, a failure row each, no long wait."""
        fake = self.start_fake(patch=add_faults(
            {"kind": "loop_token", "action": "GetMetricData", "account": BETA,
             "metric": "BytesDownloaded"},
            {"kind": "loop_token", "action": "ListMetrics", "account": GAMMA,
             "metric": "BytesDownloaded"}))
        t0 = time.monotonic()
        p, rep = self.sweep(fake, ORG_INVENTORY)
        self.assertLess(time.monotonic() - t0, 30)
        self.assertEqual(p.returncode, 3, p.stderr)
        codes = {(f["account_id"], f["code"]) for f in rep.doc["failures"]}
        self.assertIn((BETA, "PaginationLoop"), codes)
        self.assertIn((GAMMA, "PaginationLoop"), codes)
        reqs = fake.requests()
        # the request metrics' calls (the storage-metric calls are not looped)
        beta_gmd = [r for r in reqs if r["action"] == "GetMetricData"
                    and r["account"] == BETA and r["metric"] == "BytesDownloaded"]
        self.assertEqual(len(beta_gmd), 2, "one page, then the repeated token")
        gamma_lm = [r for r in reqs if r["action"] == "ListMetrics"
                    and r["account"] == GAMMA and r["metric"] == "BytesDownloaded"]
        # two regions, two pages each at most
        self.assertLessEqual(len(gamma_lm), 4)
        self.assertTrue(rep.results(account_id=ALPHA))


# ---- a generated organisation of 40 accounts ---------------------------------

GEN_START = 400000000000
GEN_ACCOUNTS = 40


def gen_scenario(**extra):
    with open(ts.ORG, encoding="utf-8") as f:
        org = json.load(f)
    sc = {"description": "40 generated accounts for throttling and memory tests",
          "resolution": 86400, "callers": org["callers"], "accounts": [],
          "generate": {"accounts": GEN_ACCOUNTS, "account_id_start": GEN_START,
                       "regions": ["us-east-1"], "buckets_per_account": 10,
                       "days": 40, "resolution": 86400}}
    sc.update(extra)
    return sc


def gen_inventory(extra_aws=""):
    lines = ["defaults:", "  regions: [us-east-1]", "  lookback_days: 35",
             "  period: 1d", "aws:", "  jobs: 16"]
    lines += ["  " + x for x in extra_aws.splitlines() if x]
    lines.append("accounts:")
    for i in range(GEN_ACCOUNTS):
        acct = "%012d" % (GEN_START + i)
        lines += ['  - id: "%s"' % acct,
                  "    role_arn: arn:aws:iam::%s:role/cwsweep-reader" % acct,
                  "    buckets: auto"]
    return "\n".join(lines) + "\n"


class GeneratedOrgCase(SweepCase):

    def start_gen(self, **extra):
        path = self.tmpfile("scenario.json", json.dumps(gen_scenario(**extra)))
        fake = ts.FakeAWS(path, now=ts.SERIES_NOW)
        fake.start()
        self.addCleanup(fake.stop)
        return fake


class ThrottlingTest(GeneratedOrgCase):

    def test_sustained_throttling_rides_out(self):
        """GetMetricData limited to 5 a second per account-region (burst 5),
        18 pages per account-region, 40 accounts: the sweep slows to the
        quota and finishes with 0 failures."""
        fake = self.start_gen(
            rate_limits={"GetMetricData": {"tps": 5, "burst": 5}},
            cloudwatch={"page_size": 20})
        t0 = time.monotonic()
        out = os.path.join(self.tmp, "out")
        p = self.cwsweep(["run", "-i", self.tmpfile("inventory.yaml", gen_inventory()),
                          "-o", out, "--at", AT, "--no-state", "--no-slack"],
                         self.env_for(fake), timeout=600)
        took = time.monotonic() - t0
        rep = self.read_reports(out, p)
        self.assertIn(p.returncode, (0, 1), p.stderr[-3000:])
        self.assertEqual(rep.doc["failures"], [])
        reqs = fake.requests()
        throttled = [r for r in reqs if r.get("fault") == "rate_limit"]
        gmd = [r for r in reqs if r["action"] == "GetMetricData"]
        self.assertTrue(throttled, "the fake never throttled: the test tests nothing")
        judged = {r["account_id"] for r in rep.results()}
        self.assertEqual(len(judged), GEN_ACCOUNTS)
        print("\nthrottling: %d GetMetricData calls, %d throttled, %.1f s"
              % (len(gmd), len(throttled), took), file=sys.stderr)


    def test_throttled_assume_role_rides_out(self):
        """The first 100 AssumeRole calls of a 40-account sweep are throttled
        (more than 3 attempts each could absorb): STS pacing adapts and the
        calls retry within the throttle window, 0 failures."""
        fake = self.start_gen(faults=[{"kind": "throttle", "service": "sts",
                                       "action": "AssumeRole", "count": 100}])
        out = os.path.join(self.tmp, "out")
        p = self.cwsweep(["run", "-i", self.tmpfile("inventory.yaml", gen_inventory()),
                          "-o", out, "--at", AT, "--no-state", "--no-slack"],
                         self.env_for(fake), timeout=600)
        rep = self.read_reports(out, p)
        self.assertEqual(rep.doc["failures"], [])
        assumes = [r for r in fake.requests() if r["action"] == "AssumeRole"]
        self.assertEqual(sum(r["status"] != 200 for r in assumes), 100)
        self.assertEqual(sum(r["status"] == 200 for r in assumes), GEN_ACCOUNTS)


# peak RSS of one command, in KiB, measured by a parent of its own
RSS_WRAPPER = ("import resource, subprocess, sys\n"
               "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
               "sys.stderr.write(p.stderr)\n"
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
               "sys.exit(p.returncode)\n")


class MemoryBoundTest(GeneratedOrgCase):

    def test_endless_bodies_on_every_worker_stay_in_bound(self):
        """Every GetMetricData answer is an endless chunked body, 16 workers
        at once: the responses in flight stay within aws.response_memory_mb
        together, every target fails cleanly (exit 3)."""
        fake = self.start_gen(faults=[{"kind": "endless", "action": "GetMetricData"}])
        inv = self.tmpfile("inventory.yaml", gen_inventory("response_memory_mb: 64"))
        out = os.path.join(self.tmp, "out")
        argv = [ts.BIN, "run", "-i", inv, "-o", out, "--at", AT, "--no-state",
                "--no-slack", "-j", "16"]
        p = subprocess.run([ts.PY, "-c", RSS_WRAPPER] + argv, env=self.env_for(fake),
                           cwd=self.tmp, capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 3, p.stderr[-3000:])
        rss_mb = int(p.stdout.strip()) / 1024.0
        print("\nendless bodies: peak RSS %.0f MB (bound 64 MiB of responses)" % rss_mb,
              file=sys.stderr)
        # the bound plus the program itself (about 15 MB); it was ~950 MB.
        # A sanitizer's shadow memory and quarantine make RSS meaningless.
        with open(ts.BIN, "rb") as f:
            image = f.read()
        sanitized = b"__asan_init" in image or b"__tsan_init" in image
        if sanitized:
            print("\nNOTE: sanitizer build: peak RSS not compared with the bound",
                  file=sys.stderr)
        else:
            self.assertLess(rss_mb, 128, "peak RSS %.0f MB" % rss_mb)
        with open(os.path.join(out, "report.json"), encoding="utf-8") as f:
            doc = json.load(f)
        self.assertEqual(doc["results"], [])
        msgs = {f["message"] for f in doc["failures"]}
        self.assertTrue(any("MiB bound" in m or "larger than" in m for m in msgs), msgs)
        self.assertEqual({f["code"] for f in doc["failures"]}, {"ResponseTooLarge"})


class NoSilentFailureTest(SweepCase):
    """exit 2 and 3 tell the channel, once a day per reason."""

    def slack_env(self, fake):
        env = self.env_for(fake)
        env["SLACK_WEBHOOK_URL"] = "http://127.0.0.1:%d/slack/T0/B0/hardening" % fake.port
        return env

    def texts(self, fake):
        return [m["payload"]["text"] for m in fake.slack()["received"]]

    def test_broken_inventory_posts_could_not_run_once_a_day(self):
        fake = self.start_fake()
        inv = self.tmpfile("inventory.yaml", ORG_INVENTORY.replace(
            "role_arn: arn:aws:iam::222222222222:role/cwsweep-reader",
            "role_arn: not-an-arn"))
        state = os.path.join(self.tmp, "state.json")
        out = os.path.join(self.tmp, "out")
        argv = ["run", "-i", inv, "-o", out, "--at", AT, "--state", state, "-q"]
        p = self.cwsweep(argv, self.slack_env(fake))
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("role_arn", p.stderr)  # -q still says why
        texts = self.texts(fake)
        self.assertEqual(len(texts), 1, texts)
        self.assertIn("cwsweep could not run", texts[0])
        self.assertIn("role_arn", texts[0])
        self.assertNotIn("hardening", texts[0])
        self.assertFalse(os.path.exists(out))
        # the same night again: not posted twice
        p = self.cwsweep(argv, self.slack_env(fake))
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(len(self.texts(fake)), 1)
        # the next day: posted again
        argv[argv.index("--at") + 1] = ts.iso(ts.SERIES_NOW + 86400)
        p = self.cwsweep(argv, self.slack_env(fake))
        self.assertEqual(len(self.texts(fake)), 2)
        # --no-slack: never
        p = self.cwsweep(argv + ["--no-slack"], self.slack_env(fake))
        self.assertEqual(len(self.texts(fake)), 2)

    def test_unsaved_state_posts_ran_partly(self):
        fake = self.start_fake()
        state = os.path.join(self.tmp, "state.json")
        os.mkdir(state)
        out = os.path.join(self.tmp, "out")
        p = self.cwsweep(["run", "-i", self.tmpfile("inv.yaml", SMALL_INVENTORY), "-o", out,
                          "--at", AT, "--state", state, "-q"], self.slack_env(fake))
        self.assertEqual(p.returncode, 3, p.stderr)
        texts = self.texts(fake)
        self.assertTrue(any("ran partly" in t and "alert state could not be saved" in t
                            for t in texts), texts)

    def test_failures_are_told_by_the_digest_not_twice(self):
        fake = self.start_fake(patch=add_faults(
            {"service": "sts", "action": "AssumeRole", "account": BETA,
             "kind": "access_denied"}))
        out = os.path.join(self.tmp, "out")
        p = self.cwsweep(["run", "-i", self.tmpfile("inv.yaml", SMALL_INVENTORY), "-o", out,
                          "--at", AT, "--no-state", "-q"], self.slack_env(fake))
        self.assertEqual(p.returncode, 3, p.stderr)
        texts = self.texts(fake)
        self.assertEqual(len(texts), 1, texts)
        self.assertNotIn("ran partly", texts[0])

    def test_preview_shows_the_notice(self):
        fake = self.start_fake()
        p = self.cwsweep(["run", "-i", self.tmpfile("inv.yaml", "accounts: []\n"), "-o",
                          os.path.join(self.tmp, "out"), "--slack-preview"],
                         self.slack_env(fake))
        self.assertEqual(p.returncode, 2, p.stderr)
        doc = json.loads(p.stdout)
        self.assertIn("could not run", doc["text"])
        self.assertEqual(self.texts(fake), [])


class MetricsAndHeartbeatTest(SweepCase):

    def test_metrics_file_and_heartbeat(self):
        fake = self.start_fake(patch=add_faults(
            {"service": "sts", "action": "AssumeRole", "account": BETA,
             "kind": "access_denied", "count": 1}))
        metrics = os.path.join(self.tmp, "prom", "cwsweep.prom")
        os.mkdir(os.path.dirname(metrics))
        inv = self.tmpfile("inv.yaml", SMALL_INVENTORY + "reporting:\n"
                           "  metrics_file: %s\n  heartbeat_url_env: CWSWEEP_HB\n" % metrics)
        env = self.env_for(fake)
        env["CWSWEEP_HB"] = "http://127.0.0.1:%d/ping/abc-123?src=cron" % fake.port
        argv = ["run", "-i", inv, "-o", os.path.join(self.tmp, "out"), "--at", AT,
                "--no-state", "--no-slack", "-q"]
        # 1: beta's AssumeRole is denied once: exit 3, /fail
        p = self.cwsweep(argv, env)
        self.assertEqual(p.returncode, 3, p.stderr)
        promtool_check(self, metrics)
        m = parse_metrics(metrics)
        self.assertEqual(m["cwsweep_last_run_exit_code"], 3)
        self.assertNotIn("cwsweep_last_success_timestamp_seconds", m)
        self.assertGreater(m['cwsweep_last_run_api_calls{action="GetMetricData"}'], 0)
        self.assertEqual(m['cwsweep_last_run_api_calls{action="AssumeRole"}'], 2)
        self.assertEqual(m["cwsweep_last_run_failures"], 1)
        self.assertEqual(m["cwsweep_last_run_accounts"], 2)
        self.assertGreater(m["cwsweep_last_run_series_judged"], 0)
        self.assertEqual(m["cwsweep_buckets_known"] - m["cwsweep_buckets_watched"], 1)
        self.assertGreaterEqual(m["cwsweep_last_run_end_timestamp_seconds"],
                                m["cwsweep_last_run_start_timestamp_seconds"])
        pings = fake.get("/_pings")["pings"]
        self.assertEqual([(x["method"], x["path"], x["query"]) for x in pings],
                         [("POST", "/ping/abc-123/fail", "src=cron")])
        self.assertIn("1 failure", pings[0]["body"])
        # 2: all fine: success ping and a success time
        p = self.cwsweep(argv, env)
        self.assertEqual(p.returncode, 1, p.stderr)
        m = parse_metrics(metrics)
        ok_at = m["cwsweep_last_success_timestamp_seconds"]
        self.assertEqual(m["cwsweep_last_run_exit_code"], 1)
        self.assertEqual(fake.get("/_pings")["pings"][-1]["path"], "/ping/abc-123")
        # 3: a run that could not run keeps the last success time
        bad = self.tmpfile("bad.yaml", "accounts: [\n")
        p = self.cwsweep(["run", "-i", bad, "--metrics-file", metrics, "--no-slack"], env)
        self.assertEqual(p.returncode, 2, p.stderr)
        promtool_check(self, metrics)
        m = parse_metrics(metrics)
        self.assertEqual(m["cwsweep_last_run_exit_code"], 2)
        self.assertEqual(m["cwsweep_last_success_timestamp_seconds"], ok_at)
        self.assertEqual([n for n in os.listdir(os.path.dirname(metrics))], ["cwsweep.prom"])
        with open(metrics, encoding="utf-8") as f:
            self.assertNotIn("abc-123", f.read())
        self.assertNotIn("abc-123", p.stderr)


class SkippedRunTest(SweepCase):
    """A run that finds the lock held (exit 75) is not silent: the metrics
    file counts the skips in a row and names when the holder started; while
    the holder is young nothing more (it will ping and post itself); once it
    has held the lock longer than --stale-lock-after, the skip is a failure:
    an error, one problem notice a UTC day for that holder, a failure ping."""

    HOOK = "/slack/services/T0LOCK/B0LOCK/lockHookSecretDoNotLeak"

    def test_skips_counted_and_a_stale_lock_is_a_failure(self):
        import fcntl
        fake = self.start_fake()
        metrics = os.path.join(self.tmp, "cwsweep.prom")
        lock = os.path.join(self.tmp, "run.lock")
        inv = self.tmpfile("inv.yaml", SMALL_INVENTORY + "reporting:\n"
                           "  metrics_file: %s\n  heartbeat_url_env: CWSWEEP_HB\n"
                           "  lock_file: %s\n  slack: {enabled: true}\n" % (metrics, lock))
        env = self.env_for(fake)
        env["CWSWEEP_HB"] = "http://127.0.0.1:%d/ping/lock-1" % fake.port
        env["SLACK_WEBHOOK_URL"] = fake.url + self.HOOK
        argv = ["run", "-i", inv, "-o", os.path.join(self.tmp, "out"), "--at", AT,
                "--no-state"]

        def posts():
            return [r for r in fake.slack()["received"] if r["path"] == self.HOOK]

        def pings():
            return [x["path"] for x in fake.get("/_pings")["pings"]]

        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # a holder that started just now (its clock is ours)
            young = int(time.time())
            os.write(fd, ("4242 %s\n" % time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                      time.gmtime(young))).encode())
            for n in (1, 2):
                p = self.cwsweep(argv, env)
                self.assertEqual(p.returncode, 75, p.stderr)
                self.assertNotIn("may hang", p.stderr)
                promtool_check(self, metrics)
                m = parse_metrics(metrics)
                self.assertEqual(m["cwsweep_last_run_exit_code"], 75)
                self.assertEqual(m["cwsweep_skipped_runs_in_a_row"], n)
                self.assertEqual(m["cwsweep_lock_holder_start_timestamp_seconds"], young)
            self.assertEqual((posts(), pings()), ([], []), "the holder tells, not a skip")
            self.assertEqual(fake.requests(), [], "nothing fetched while locked")

            # the same lock, held since long ago: a hung sweep
            long_ago = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(young - 30 * 86400))
            os.ftruncate(fd, 0)
            os.pwrite(fd, ("4242 %s\n" % long_ago).encode(), 0)
            for n in (3, 4):
                p = self.cwsweep(argv, env)
                self.assertEqual(p.returncode, 75, p.stderr)
                self.assertIn("(pid 4242, started %s) has held the lock" % long_ago,
                              p.stderr)
                self.assertIn("longer than --stale-lock-after (12.0 h)", p.stderr)
                m = parse_metrics(metrics)
                self.assertEqual(m["cwsweep_skipped_runs_in_a_row"], n)
            # one notice for that holder today, a failure ping each time
            (notice,) = posts()
            text = json.dumps(notice["payload"])
            self.assertIn("could not run", text)
            self.assertIn("may hang", text)
            self.assertIn("exit code 75", text)
            self.assertEqual(pings(), ["/ping/lock-1/fail"] * 2)
            self.assertIn("has held the lock", fake.get("/_pings")["pings"][0]["body"])
            # a shorter limit is taken; a wrong one is a usage error
            p = self.cwsweep(argv + ["--stale-lock-after", "soon"], env)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn("--stale-lock-after", p.stderr)
            os.ftruncate(fd, 0)
            os.pwrite(fd, ("4242 %s\n" % time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(young - 7200))).encode(), 0)
            p = self.cwsweep(argv + ["--stale-lock-after", "1h"], env)
            self.assertEqual(p.returncode, 75, p.stderr)
            self.assertIn("longer than --stale-lock-after (1.0 h)", p.stderr)
            self.assertEqual(len(posts()), 2, "a new holder: told again")
        finally:
            os.close(fd)  # the hung sweep ends
        self.assertTrue(os.path.exists(lock + ".stale"))
        p = self.cwsweep(argv, env)
        self.assertIn(p.returncode, (0, 1), p.stderr)
        self.assertFalse(os.path.exists(lock + ".stale"), "the next run clears the record")
        m = parse_metrics(metrics)
        self.assertEqual(m["cwsweep_skipped_runs_in_a_row"], 0)
        self.assertNotIn("cwsweep_lock_holder_start_timestamp_seconds", m)
        for where in [p.stderr] + [json.dumps(x["payload"]) for x in posts()]:
            self.assertNotIn("lockHookSecret", where)


class KillTest(SweepCase):
    """kill -9 at several points of a run: whatever was written is whole,
    the lock is free, and the next run cleans up and completes."""

    def check_folder(self, out, state):
        import fcntl
        names = sorted(os.listdir(out)) if os.path.isdir(out) else []
        for n in names:
            path = os.path.join(out, n)
            if n == "report.json":
                with open(path, encoding="utf-8") as f:
                    json.load(f)  # whole, never half-written
        if os.path.exists(state):
            with open(state, encoding="utf-8") as f:
                self.assertEqual(json.load(f)["schema"], "cwsweep.state/1")
        lock = os.path.join(out, ".cwsweep.lock")
        if os.path.exists(lock):
            with open(lock, "r+b") as f:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the kernel freed it
                fcntl.flock(f, fcntl.LOCK_UN)
        return names

    def test_kill_9_at_several_points(self):
        fake = self.start_fake(patch=lambda sc: sc.update(latency_ms=150))
        inv = self.tmpfile("inventory.yaml", ORG_INVENTORY)
        out = os.path.join(self.tmp, "out")
        state = os.path.join(self.tmp, "state.json")
        argv = [ts.BIN, "run", "-i", inv, "-o", out, "--at", AT, "--state", state,
                "--no-slack", "-q"]
        env = self.env_for(fake)
        # a complete run first, so the later kills hit a folder with reports
        p = subprocess.run(argv, env=env, cwd=self.tmp, capture_output=True, text=True,
                           timeout=120)
        self.assertIn(p.returncode, (0, 1), p.stderr)
        full = time.monotonic()
        p = subprocess.run(argv, env=env, cwd=self.tmp, capture_output=True, text=True,
                           timeout=120)
        full = time.monotonic() - full
        for frac in (0.05, 0.3, 0.6, 0.85, 0.95, 0.99):
            proc = subprocess.Popen(argv, env=env, cwd=self.tmp, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(full * frac)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            names = self.check_folder(out, state)
        # what a killed writer leaves: a big temp file of a dead pid
        dead = subprocess.Popen(["true"])
        dead.wait()
        stale = os.path.join(out, "report.csv.tmp.%d.AbCdEf" % dead.pid)
        with open(stale, "wb") as f:
            f.write(b"x" * (1 << 20))
        p = subprocess.run(argv, env=env, cwd=self.tmp, capture_output=True, text=True,
                           timeout=120)
        self.assertIn(p.returncode, (0, 1), p.stderr)
        names = self.check_folder(out, state)
        self.assertEqual([n for n in names if ".tmp." in n], [], names)
        self.assertEqual(sorted(n for n in names if n != ".cwsweep.lock"), ts.REPORTS)


class JsonBombTest(SweepCase):

    def bomb(self, action):
        """A run whose every `action` answer is 40 MB of "{}," (valid JSON,
        a tree of ~3 GB): (exit code, peak RSS in MB or None under a
        sanitizer, failures of report.json)."""
        fake = self.start_fake(patch=add_faults(
            {"kind": "json_bomb", "action": action, "size_mb": 40}))
        inv = self.tmpfile("inv.yaml", SMALL_INVENTORY + "aws:\n  response_memory_mb: 64\n")
        out = os.path.join(self.tmp, "out-" + action)
        # one worker: each 40 MB answer fits the receive bound
        argv = [ts.BIN, "run", "-i", inv, "-o", out, "--at", AT, "--no-state", "--no-slack",
                "-j", "1"]
        p = subprocess.run([ts.PY, "-c", RSS_WRAPPER] + argv, env=self.env_for(fake),
                           cwd=self.tmp, capture_output=True, text=True, timeout=300)
        rss_mb = int(p.stdout.strip()) / 1024.0
        print("\njson bomb on %s: peak RSS %.0f MB" % (action, rss_mb), file=sys.stderr)
        with open(os.path.join(out, "report.json"), encoding="utf-8") as f:
            doc = json.load(f)
        with open(ts.BIN, "rb") as f:
            image = f.read()
        if b"__asan_init" in image or b"__tsan_init" in image:
            rss_mb = None
        return p, rss_mb, doc["failures"]

    def test_answers_that_cost_more_to_parse_than_the_bound(self):
        """ListMetrics answers are parsed into a tree: a 40 MB bomb is
        refused before parsing, with the bound in the message; the process
        stays small."""
        p, rss_mb, failures = self.bomb("ListMetrics")
        self.assertEqual(p.returncode, 3, p.stderr[-3000:])
        # the listing's row, and each of its listed buckets as not checked
        self.assertEqual({f["code"] for f in failures}, {"ResponseTooLarge", "NotChecked"},
                         failures)
        for f in failures:
            if f["code"] == "ResponseTooLarge":
                self.assertIn("to parse, more than the 64 MiB bound", f["message"])
        if rss_mb is not None:
            self.assertLess(rss_mb, 200, "peak RSS %.0f MB" % rss_mb)

    def test_get_metric_data_bomb_is_scanned_in_place(self):
        """GetMetricData answers are scanned without a tree: the same bomb
        costs its text, and is refused for its shape, not its size."""
        p, rss_mb, failures = self.bomb("GetMetricData")
        self.assertEqual(p.returncode, 3, p.stderr[-3000:])
        self.assertEqual({f["code"] for f in failures}, {"MalformedResponse"}, failures)
        if rss_mb is not None:
            self.assertLess(rss_mb, 200, "peak RSS %.0f MB" % rss_mb)


class BadOptionsTest(SweepCase):
    """Options that are refused before anything is fetched or written."""

    def run_bare(self, argv):
        env = dict(HOME=self.home, PATH="/usr/bin:/bin", AWS_EC2_METADATA_DISABLED="true",
                   AWS_ACCESS_KEY_ID="AKIAX", AWS_SECRET_ACCESS_KEY="x" * 40,
                   AWS_ENDPOINT_URL="http://127.0.0.1:9")
        env.update(ts.clock_env())
        return self.cwsweep(argv, env)

    def test_unknown_account_is_exit_2(self):
        inv = self.tmpfile("inventory.yaml", ORG_INVENTORY)
        out = os.path.join(self.tmp, "out")
        p = self.run_bare(["run", "-i", inv, "-o", out, "--account", "999999999999",
                           "--no-state", "--no-slack"])
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--account 999999999999: no such account", p.stderr)
        self.assertFalse(os.path.exists(out))

    def test_empty_lock_writes_nothing(self):
        inv = self.tmpfile("inventory.yaml", ORG_INVENTORY)
        out = os.path.join(self.tmp, "out", "nested")
        for lock in ("", os.path.join(self.tmp, "no", "such", "dir", "x.lock")):
            p = self.run_bare(["run", "-i", inv, "-o", out, "--lock", lock, "--no-state",
                               "--no-slack"])
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertFalse(os.path.exists(os.path.join(self.tmp, "out")),
                             "the output folder was created for a refused run")

    def test_lock_on_foreign_file_is_left_alone(self):
        inv = self.tmpfile("inventory.yaml", ORG_INVENTORY)
        notes = self.tmpfile("notes.txt", "precious notes\n")
        p = self.run_bare(["run", "-i", inv, "-o", os.path.join(self.tmp, "out"),
                           "--lock", notes, "--no-state", "--no-slack"])
        self.assertEqual(p.returncode, 2, p.stderr)
        with open(notes, encoding="utf-8") as f:
            self.assertEqual(f.read(), "precious notes\n")

    def test_analyze_period_must_be_a_cloudwatch_period(self):
        csvf = self.tmpfile("s.csv", "2024-03-01,1\n2024-03-02,2\n")
        for bad in ("7s", "90s", "7h", "2d"):
            p = self.run_bare(["analyze", "--period", bad, csvf])
            self.assertEqual(p.returncode, 2, (bad, p.stderr))
            self.assertIn("--period", p.stderr)

    def test_analyze_nan_is_refused(self):
        csvf = self.tmpfile("s.csv", "2024-03-01,1\n2024-03-02,nan\n")
        p = self.run_bare(["analyze", "-o", os.path.join(self.tmp, "a"), csvf])
        # a file that cannot be read is a failure row of the analysis
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("bad value 'nan'", p.stderr)


class StateFileTest(SweepCase):

    def test_state_that_cannot_be_saved_is_exit_3(self):
        fake = self.start_fake()
        state = os.path.join(self.tmp, "state.json")
        os.mkdir(state)  # a folder where the file should be
        out = os.path.join(self.tmp, "out")
        p = self.cwsweep(["run", "-i", self.tmpfile("inv.yaml", SMALL_INVENTORY), "-o", out,
                          "--at", AT, "--state", state, "--no-slack", "-q"],
                         self.env_for(fake))
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("state.json: rename", p.stderr)
        # -q keeps warnings: the unreadable state is said too
        self.assertIn("starting from an empty state", p.stderr)
        self.assertTrue(os.path.exists(os.path.join(out, "report.json")))

    def test_fifo_at_state_path_does_not_hang(self):
        fake = self.start_fake()
        state = os.path.join(self.tmp, "state.json")
        os.mkfifo(state)
        out = os.path.join(self.tmp, "out")
        p = self.cwsweep(["run", "-i", self.tmpfile("inv.yaml", SMALL_INVENTORY), "-o", out,
                          "--at", AT, "--state", state, "--no-slack"],
                         self.env_for(fake), timeout=60)
        self.assertIn(p.returncode, (0, 1), p.stderr)
        self.assertIn("not a regular file", p.stderr)
        # the next run takes the lock at once
        p = self.cwsweep(["run", "-i", self.tmpfile("inv.yaml", SMALL_INVENTORY), "-o", out,
                          "--at", AT, "--no-state", "--no-slack"], self.env_for(fake))
        self.assertIn(p.returncode, (0, 1), p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
