#!/usr/bin/env python3
"""Coverage: every bucket with data is known from the daily storage metrics
(AWS/S3 BucketSizeBytes), judged when it has request metrics, else listed as
not watched with its stored bytes, the fix and the monthly cost of watching
it; a listed bucket with neither is not found; an account with data and
nothing to judge is a failure (exit 3), never "all clear".

Runs `cwsweep run` against the fake endpoint with
tests/fake_aws/scenarios/coverage.json, the series clock pinned.
"""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_sweep import BIN, SRC, SweepCase, setUpModule  # noqa: E402,F401

COVERAGE = os.path.join(SRC, "tests", "fake_aws", "scenarios", "coverage.json")
LAKE, SHOP, EMPTY = "111111111111", "222222222222", "333333333333"

INVENTORY = """\
defaults:
  regions: [us-east-1, eu-west-1]
  detectors:
    mean7d: {}
    zscore: {}
accounts:
  - id: "111111111111"
    name: lake
    role_arn: arn:aws:iam::111111111111:role/cwsweep-reader
    buckets: auto
  - id: "222222222222"
    name: shop
    role_arn: arn:aws:iam::222222222222:role/cwsweep-reader
    buckets: [shop-web, shop-archive, shop-typo]
  - id: "333333333333"
    name: empty
    role_arn: arn:aws:iam::333333333333:role/cwsweep-reader
    buckets: auto
"""


def only_lake(inv=INVENTORY):
    return inv.split("  - id: \"222222222222\"")[0]


class CoverageTest(SweepCase):

    def start(self, patch=None):
        return self.start_fake(scenario=COVERAGE, patch=patch)

    def stored(self, fake, account, bucket, region="us-east-1"):
        """The latest BucketSizeBytes the fake serves for a bucket."""
        s = fake.get("/_series?account=%s&bucket=%s&region=%s&metric=BucketSizeBytes"
                     "&period=86400&stat=Average" % (account, bucket, region))
        vals = [v for v in s["Values"] if v is not None]
        self.assertTrue(vals, s)
        return vals[-1]

    def test_not_watched_not_found_and_a_blind_account(self):
        fake = self.start()
        p, rep = self.sweep(fake, INVENTORY, "--slack-preview", plain=False)
        self.assertEqual(p.returncode, 3, p.stderr)
        # the blind account is a failure row; nothing else failed
        self.assertEqual([(f["account_id"], f["stage"], f["code"]) for f in rep.doc["failures"]],
                         [(LAKE, "coverage", "NothingWatched")])
        self.assertIn("3 buckets with data and none has request metrics",
                      rep.doc["failures"][0]["message"])
        # not watched: every bucket with data but no request metrics, with
        # its region, stored bytes, fix and price
        nw = {(u["account_id"], u["region"], u["bucket"]): u for u in rep.doc["unwatched"]}
        self.assertEqual(set(nw), {(LAKE, "us-east-1", "lake-raw"),
                                   (LAKE, "us-east-1", "lake-curated"),
                                   (LAKE, "eu-west-1", "lake-eu"),
                                   (SHOP, "us-east-1", "shop-archive")})
        for (acct, region, bucket), u in nw.items():
            self.assertEqual(u["stored_bytes"], self.stored(fake, acct, bucket, region))
            self.assertAlmostEqual(u["watch_usd_month"], 16 * 0.30)
            self.assertEqual(u["fix"], "aws s3api put-bucket-metrics-configuration --region %s "
                             "--bucket %s --id EntireBucket --metrics-configuration "
                             "Id=EntireBucket" % (region, bucket))
            self.assertIn("no request-metrics configuration", u["reason"])
        # not found: listed, but neither request nor storage metrics
        self.assertEqual([(u["account_id"], u["bucket"], u["region"]) for u in rep.unmeasured()],
                         [(SHOP, "shop-typo", "")])
        self.assertIn("not found in us-east-1, eu-west-1", rep.unmeasured()[0]["reason"])
        self.assertIn("neither", rep.unmeasured()[0]["reason"])
        # CSV: one row per bucket that is not judged, with the status
        rows = {r["bucket"]: r for r in rep.rows if r["status"] in ("not_watched", "not_found")}
        self.assertEqual({b: r["status"] for b, r in rows.items()},
                         {"lake-raw": "not_watched", "lake-curated": "not_watched",
                          "lake-eu": "not_watched", "shop-archive": "not_watched",
                          "shop-typo": "not_found"})
        self.assertEqual(float(rows["shop-archive"]["value"]),
                         self.stored(fake, SHOP, "shop-archive"))
        self.assertEqual(rows["shop-typo"]["value"], "")
        # shop-web is judged, and spikes
        self.assertEqual({(r["bucket"], r["status"]) for r in rep.rows
                          if r["detector"] == "mean7d"}, {("shop-web", "anomaly")})
        # coverage: 5 buckets exist (shop-typo does not), 1 watched
        web = self.stored(fake, SHOP, "shop-web")
        total = web + sum(u["stored_bytes"] for u in nw.values())
        cov = rep.doc["summary"]["coverage"]
        self.assertEqual((cov["buckets"], cov["watched"], cov["complete"]), (5, 1, True))
        self.assertEqual(cov["stored_bytes"], total)
        self.assertEqual(cov["watched_bytes"], web)
        pct = round(100 * web / total)
        line = "watching 1 of 5 buckets (%d%% of stored bytes)" % pct
        self.assertEqual(cov["line"], line)
        self.assertEqual((rep.doc["summary"]["not_watched"], rep.doc["summary"]["not_found"]),
                         (4, 1))
        per = {c["account_id"]: (c["buckets"], c["watched"]) for c in rep.doc["coverage"]}
        self.assertEqual(per, {LAKE: (3, 0), SHOP: (2, 1), EMPTY: (0, 0)})
        # the line everywhere: report.md's top, the terminal, the stderr
        # summary line and the Slack header
        with open(os.path.join(rep.out, "report.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertLess(md.index("**Coverage: %s.**" % line), md.index("## Findings"))
        self.assertIn("## Not watched (4)", md)
        self.assertIn("Watching all 4 would cost about $19.20 a month (est.).", md)
        self.assertLess(md.index("| shop-archive |"), md.index("| lake-curated |"),
                        "most stored bytes first")
        self.assertIn("## Not measured (1)", md)
        self.assertIn("## Coverage by account (3)", md)
        # (--slack-preview: stdout is the payload alone, the summary on stderr)
        self.assertIn("coverage: " + line, p.stderr)
        self.assertIn(", 1 not measured, 4 not watched, " + line, p.stderr)
        payload = json.loads(p.stdout)
        self.assertIn("Coverage: *%s*" % line, json.dumps(payload["blocks"][:3]))

    def test_a_run_that_sees_nothing_watchable_is_never_green(self):
        fake = self.start()
        p, rep = self.sweep(fake, only_lake())
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertEqual(rep.doc["summary"]["series"], 0)
        self.assertEqual([f["code"] for f in rep.doc["failures"]], ["NothingWatched"])
        self.assertEqual(rep.doc["summary"]["coverage"]["line"].split(" (")[0],
                         "watching 0 of 3 buckets")
        # with a state file too, every night: blind is never old news
        state = os.path.join(self.tmp, "state.json")
        for night in ("n1", "n2"):
            p, rep = self.sweep(fake, only_lake(), "--state", state, "--slack-preview",
                                out=night, plain=False)
            self.assertEqual(p.returncode, 3, p.stderr)
            self.assertIn("NothingWatched", p.stdout, night)
            self.assertIn("watching 0 of 3 buckets", p.stdout, night)

    def test_an_empty_account_is_still_no_green_run(self):
        fake = self.start()
        inv = INVENTORY.split("  - id: \"111111111111\"")[0] + \
            INVENTORY[INVENTORY.index("  - id: \"333333333333\""):]
        p, rep = self.sweep(fake, inv)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertEqual([(f["account_id"], f["stage"], f["code"])
                          for f in rep.doc["failures"]], [("", "coverage", "NothingJudged")])

    def test_price_of_watching_is_overridable(self):
        fake = self.start()
        inv = INVENTORY + ("prices:\n  request_metrics:\n    metrics_per_config: 10\n"
                           "    usd_per_metric_month: 0.1\n")
        p, rep = self.sweep(fake, inv)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertEqual({u["watch_usd_month"] for u in rep.doc["unwatched"]}, {1.0})

    def test_storage_listing_failure_is_a_failure_not_a_guess(self):
        fake = self.start(patch=lambda sc: sc.setdefault("faults", []).append(
            {"service": "cloudwatch", "action": "ListMetrics", "account": SHOP,
             "metric": "BucketSizeBytes", "kind": "access_denied"}))
        p, rep = self.sweep(fake, INVENTORY)
        self.assertEqual(p.returncode, 3, p.stderr)
        shop = rep.failures(account_id=SHOP)
        self.assertEqual(sorted((f["region"], f["stage"], f["code"]) for f in shop),
                         [("eu-west-1", "list-storage-metrics", "AccessDenied"),
                          ("us-east-1", "list-storage-metrics", "AccessDenied")])
        per = {c["account_id"]: c for c in rep.doc["coverage"]}
        self.assertFalse(per[SHOP]["complete"])
        self.assertTrue(per[LAKE]["complete"])
        self.assertFalse(rep.doc["summary"]["coverage"]["complete"])
        self.assertIn("some regions unknown", rep.doc["summary"]["coverage"]["line"])
        # without the storage listing, shop-archive and shop-typo cannot be
        # told apart: both keep the "no such metric" wording
        self.assertEqual(sorted(u["bucket"] for u in rep.unmeasured()),
                         ["shop-archive", "shop-typo"])

    def test_a_coverage_drop_is_announced_once(self):
        fake = self.start()
        state = os.path.join(self.tmp, "state.json")
        shop = ("defaults:\n  detectors: {mean7d: {}, zscore: {}}\n"
                "accounts:\n  - id: \"222222222222\"\n    name: shop\n"
                "    role_arn: arn:aws:iam::222222222222:role/cwsweep-reader\n"
                "    regions: [us-east-1]\n    buckets: [%s]\n")
        full = self.tmpfile("full.yaml", shop % "shop-web")
        less = self.tmpfile("less.yaml", shop % "shop-web, shop-archive")

        def run(inv, out):
            p, rep = self.sweep(fake, inv, "--state", state, "--slack-preview",
                                "-q", out=out, plain=False)
            return p, rep

        p1, rep1 = run(full, "r1")
        self.assertEqual(p1.returncode, 1, p1.stderr)
        self.assertEqual(rep1.doc["summary"]["coverage"]["line"],
                         "watching 1 of 1 bucket (100% of stored bytes)")
        with open(state, encoding="utf-8") as f:
            self.assertEqual(json.load(f)["coverage"]["watched"], 1)
        # the next night a bucket with data is not watched: the drop is news
        p2, rep2 = run(less, "r2")
        self.assertEqual(p2.returncode, 1, p2.stderr)
        self.assertIn("Coverage fell since the last run: it was watching 1 of 1 bucket",
                      open(os.path.join(rep2.out, "report.md"), encoding="utf-8").read())
        self.assertIn("fell since the last run (was 1 of 1 bucket", p2.stdout)
        # and only once: the night after, nothing new, nothing posted
        p3, rep3 = run(less, "r3")
        self.assertEqual(p3.returncode, 1, p3.stderr)
        self.assertNotIn("fell since", p3.stdout)
        self.assertNotIn('"blocks"', p3.stdout)

    def test_shards_merge_their_coverage(self):
        fake = self.start()
        p, whole = self.sweep(fake, INVENTORY, out="whole")
        shards = []
        for k in range(2):
            p, rep = self.sweep(fake, INVENTORY, "--shard", "%d/2" % k, out="s%d" % k)
            self.assertIn(p.returncode, (0, 1, 3), p.stderr)
            shards.append(rep)
        merged = os.path.join(self.tmp, "merged")
        p = self.cwsweep(["merge"] + [os.path.join(r.out, "report.json") for r in shards]
                         + ["-o", merged, "--no-slack"], {"HOME": self.home})
        rep = self.read_reports(merged, p, mode="merge")
        self.assertEqual(rep.doc["summary"]["coverage"], whole.doc["summary"]["coverage"])
        self.assertEqual(sorted(rep.doc["coverage"], key=lambda c: c["account_id"]),
                         sorted(whole.doc["coverage"], key=lambda c: c["account_id"]))
        key = lambda u: (u["account_id"], u["region"], u["bucket"])  # noqa: E731
        self.assertEqual(sorted(rep.doc["unwatched"], key=key),
                         sorted(whole.doc["unwatched"], key=key))
        self.assertEqual(rep.unmeasured(), whole.unmeasured())
        self.assertEqual(rep.doc["summary"]["not_watched"], 4)

    def test_dry_run_shows_the_extra_cost(self):
        fake = self.start()
        p, rep = self.sweep(fake, INVENTORY, "--dry-run")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(fake.requests(), [])
        # 6 account-regions, each with a listing; 3 listed buckets known
        self.assertRegex(p.stdout, r"coverage\s+ListMetrics 6 more \(AWS/S3 BucketSizeBytes")
        self.assertRegex(p.stdout, r">= 3 metrics, est\. \$0\.0000 more")

    def test_storage_calls_stay_few(self):
        fake = self.start()
        p, rep = self.sweep(fake, INVENTORY)
        reqs = self.assert_signed(fake)
        lm = [r for r in reqs if r["action"] == "ListMetrics" and r["metric"] == "BucketSizeBytes"]
        gmd = [r for r in reqs if r["action"] == "GetMetricData"
               and r["metric"] == "BucketSizeBytes"]
        # one listing per account-region; one bytes call per account-region
        # that has buckets (lake us-east-1, lake eu-west-1, shop us-east-1)
        self.assertEqual(len(lm), 6, lm)
        self.assertEqual(sorted((r["account"], r["region"], r["queries"]) for r in gmd),
                         [(LAKE, "eu-west-1", 1), (LAKE, "us-east-1", 2),
                          (SHOP, "us-east-1", 2)])


if __name__ == "__main__":
    if not BIN:
        print("CW_BIN is not set: skipping", file=sys.stderr)
        sys.exit(0)
    unittest.main(verbosity=2)
