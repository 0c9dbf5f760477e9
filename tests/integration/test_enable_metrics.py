#!/usr/bin/env python3
"""test_enable_metrics.py - `cwsweep enable-metrics` against the fake endpoint.

The fake (tests/fake_aws, scenario itest_org.json) holds alpha's buckets in
two regions, one of them (alpha-cold) without a request-metrics
configuration, beta's two and gamma's two, all with one.  Checked: the plan
lists each bucket in its own region with the right state and writes
nothing (no PUT reaches the fake); --bucket and --min-stored narrow it;
--apply puts exactly the missing configuration (id EntireBucket, path
style, signed for s3 in the bucket's region) and a second --apply puts
nothing; AccessDenied on the PUT is a failure and exit 3; every request
is signed and verified.
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_sweep  # noqa: E402
from test_sweep import SweepCase, ORG, ORG_INVENTORY, AT  # noqa: E402
from test_sweep import add_faults  # noqa: E402


class EnableMetricsTest(SweepCase):

    def enable(self, fake, *args, inventory=ORG_INVENTORY):
        path = self.tmpfile("inventory.yaml", inventory)
        return self.cwsweep(["enable-metrics", "-i", path, "--at", AT] + list(args),
                            self.env_for(fake))

    def s3_calls(self, fake, method=None):
        return [r for r in fake.requests() if r["service"] == "s3"
                and (method is None or r["action"] == method)]

    def rows(self, out):
        return {tuple(line.split()[:3]): line for line in out.splitlines()[1:]
                if line and not line.startswith(("estimated", "nothing")) and
                len(line.split()) > 3 and "bucket" not in line.split()[1]}

    def test_plan_writes_nothing(self):
        fake = self.start_fake(ORG)
        p = self.enable(fake)
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        self.assertRegex(p.stdout, r"alpha\s+us-east-1\s+alpha-cold\s+\S+\s+would add")
        self.assertRegex(p.stdout, r"alpha\s+eu-west-1\s+alpha-eu\s+\S+\s+has it")
        self.assertRegex(p.stdout, r"gamma\s+eu-west-1\s+gamma-eu\s+\S+\s+has it")
        self.assertIn("1 bucket would get EntireBucket, 7 have it already", p.stdout)
        self.assertIn("up to $4.80 a month", p.stdout)
        self.assertIn("nothing was written", p.stdout)
        self.assertEqual(self.s3_calls(fake, "PutBucketMetricsConfiguration"), [])
        gets = self.s3_calls(fake, "GetBucketMetricsConfiguration")
        self.assertEqual(len(gets), 8)
        self.assertTrue(all(r["signature"] == "ok" for r in gets), gets)
        self.assertEqual({(r["account"], r["region"]) for r in gets if r["account"] ==
                          "111111111111"}, {("111111111111", "us-east-1"),
                                            ("111111111111", "eu-west-1")})
        st = fake.stats()
        self.assertEqual(st["bad_signature"], 0, st)

    def test_cost_from_the_price_table(self):
        fake = self.start_fake(ORG)
        p = self.enable(fake, inventory=ORG_INVENTORY + "prices:\n  request_metrics:\n"
                        "    usd_per_metric_month: 0.10\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("up to $1.60 a month (1 configurations x 16 request metrics x $0.10",
                      p.stdout)

    def test_filters(self):
        fake = self.start_fake(ORG)
        p = self.enable(fake, "--bucket", "alpha-*", "--bucket", "beta-web")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("gamma-one", p.stdout)
        self.assertNotIn("beta-data", p.stdout)
        self.assertIn("beta-web", p.stdout)
        p = self.enable(fake, "--min-stored", "1PB")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("0 buckets would get EntireBucket, 0 have it already, 8 below",
                      p.stdout)
        p = self.enable(fake, "--min-stored", "500GB")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"alpha-assets\s+1.20 TB\s+has it")
        self.assertRegex(p.stdout, r"alpha-cold\s+1.50 GB\s+too small")
        self.assertIn("0 buckets would get EntireBucket, 3 have it already, 5 below", p.stdout)
        p = self.enable(fake, "--min-stored", "lots")
        self.assertEqual(p.returncode, 2, p.stderr)

    def test_buckets_in_other_storage_classes(self):
        # a bucket holding only Standard-IA and Glacier data publishes no
        # StandardStorage metric: it is found all the same, sized over its
        # classes, and a sweep names it as not watched
        def patch(sc):
            gamma = [a for a in sc["accounts"] if a["id"] == "300000000000"][0]
            gamma["buckets"].append({
                "name": "gamma-archive", "region": "us-east-1", "request_metrics": False,
                "storage_classes": ["StandardIAStorage", "GlacierStorage"],
                "series": {"base": 1.0e10, "weekly": [1.0] * 7, "noise": 0.0, "days": 40}})
        fake = self.start_fake(ORG, patch)
        p = self.enable(fake, "--min-stored", "500GB")
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        self.assertRegex(p.stdout, r"gamma\s+us-east-1\s+gamma-archive\s+600(\.0+)? GB\s+"
                         r"would add")
        self.assertIn("1 bucket would get EntireBucket, 3 have it already, 5 below",
                      p.stdout)
        p, rep = self.sweep(fake, ORG_INVENTORY)
        self.assertIn(p.returncode, (0, 1), p.stderr)
        self.assertIn(("300000000000", "gamma-archive"),
                      [(u["account_id"], u["bucket"]) for u in rep.doc["unwatched"]])

    def test_apply_is_idempotent(self):
        fake = self.start_fake(ORG)
        p = self.enable(fake, "--apply")
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        self.assertRegex(p.stdout, r"alpha-cold\s+\S+\s+added")
        self.assertIn("1 bucket got EntireBucket", p.stdout)
        puts = self.s3_calls(fake, "PutBucketMetricsConfiguration")
        self.assertEqual(len(puts), 1)
        self.assertEqual((puts[0]["account"], puts[0]["region"], puts[0]["status"]),
                         ("111111111111", "us-east-1", 200))
        p = self.enable(fake, "--apply")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("0 buckets got EntireBucket, 8 have it already", p.stdout)
        self.assertEqual(len(self.s3_calls(fake, "PutBucketMetricsConfiguration")), 1)

    def test_access_denied_on_put_is_exit_3(self):
        fake = self.start_fake(ORG, add_faults(
            {"service": "s3", "action": "PutBucketMetricsConfiguration",
             "kind": "access_denied"}))
        p = self.enable(fake, "--apply")
        self.assertEqual(p.returncode, 3, p.stderr + p.stdout)
        self.assertRegex(p.stdout, r"alpha-cold\s+\S+\s+FAILED: .*AccessDenied")
        self.assertIn("1 failed", p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
