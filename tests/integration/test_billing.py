#!/usr/bin/env python3
"""The AWS/Billing source: `billing:` in the inventory makes cwsweep read
EstimatedCharges (month-to-date) in the payer's us-east-1, turn it into
daily spend per linked account and service, and judge it like any series.

Runs `cwsweep run` against the fake endpoint with
tests/fake_aws/scenarios/billing.json (its series clock pinned to
2026-12-03T12:00Z, so month boundaries are always in the same place).
"""
import calendar
import datetime
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_sweep import BIN, SRC, SweepCase, setUpModule  # noqa: E402,F401
from fakehelper import FakeAWS  # noqa: E402  (test_sweep put it on the path)

BILLING = os.path.join(SRC, "tests", "fake_aws", "scenarios", "billing.json")
NOW = calendar.timegm((2026, 12, 3, 12, 0, 0))
AT = "2026-12-03T12:00:00Z"
DAY = 86400
MEDIA, SHOP, OTHER = "111111111111", "222222222222", "444444444444"

ACCOUNTS = """\
defaults:
  regions: [us-east-1]
  lookback_days: 35
  detectors: {mean7d: {}, zscore: {}}
accounts:
  - id: "111111111111"
    name: media
    role_arn: arn:aws:iam::111111111111:role/cwsweep-reader
    buckets: auto
  - id: "222222222222"
    name: shop
    role_arn: arn:aws:iam::222222222222:role/cwsweep-reader
    buckets: auto
"""
BILLING_SECTION = """\
billing:
  account: "999999999999"
  role_arn: arn:aws:iam::999999999999:role/cwsweep-billing
"""


def day(s):
    return calendar.timegm(datetime.datetime.strptime(s, "%Y-%m-%d").timetuple())


class BillingTest(SweepCase):

    def start(self):
        fake = FakeAWS(BILLING, now=NOW)
        fake.start()
        self.addCleanup(fake.stop)
        return fake

    def run_at(self, fake, inv, *extra):
        p, rep = self.sweep(fake, inv, "--at", AT, *extra)
        return p, rep

    def sweep(self, fake, inventory, *extra, out="out", plain=True):
        # test_sweep's sweep() pins its own --at; this scenario has its own clock
        if "\n" in inventory:
            inventory = self.tmpfile("inventory.yaml", inventory)
        out = os.path.join(self.tmp, out)
        argv = ["run", "-i", inventory, "-o", out] + list(extra)
        if plain:
            argv += ["--no-state", "--no-slack"]
        p = self.cwsweep(argv, self.env_for(fake))
        rep = self.read_reports(out, p) if os.path.isdir(out) else None
        return p, rep

    def billing_series(self, rep):
        """{(account, service): {day start: value}} of the judged billing series."""
        out = {}
        for r in rep.doc["results"]:
            if not r["metric"].startswith("AWS/Billing") or r["detector"] != "mean7d":
                continue
            svc = r["metric"].split()[2]
            h = rep.doc["series"][r["series"]]
            if h["values"] is None:  # the history of a series with a finding only
                continue
            start = calendar.timegm(datetime.datetime.strptime(
                h["start"], "%Y-%m-%dT%H:%M:%SZ").timetuple())
            out[(r["account_id"], svc)] = {start + i * h["period"]: v
                                           for i, v in enumerate(h["values"])}
        return out

    def test_daily_spend_and_a_spike_in_one_linked_account(self):
        fake = self.start()
        p, rep = self.run_at(fake, ACCOUNTS + BILLING_SECTION)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(rep.doc["failures"], [])
        rows = [r for r in rep.doc["results"] if r["metric"].startswith("AWS/Billing")]
        # default services, linked accounts of the inventory only
        self.assertEqual({(r["account_id"], r["metric"]) for r in rows},
                         {(a, "AWS/Billing EstimatedCharges %s (daily)" % s)
                          for a in (MEDIA, SHOP) for s in ("AmazonS3", "AWSDataTransfer")})
        for r in rows:
            self.assertEqual((r["region"], r["bucket"], r["unit"]), ("us-east-1", "", "USD"))
            self.assertEqual(r["period_start"], "2026-12-02T00:00:00Z")
        anomalies = {(r["account_id"], r["metric"].split()[2], r["detector"]): r
                     for r in rows if r["status"] == "anomaly"}
        self.assertEqual(set(anomalies), {(MEDIA, "AmazonS3", "mean7d"),
                                          (MEDIA, "AmazonS3", "zscore")})
        a = anomalies[(MEDIA, "AmazonS3", "mean7d")]
        # Wednesday 2026-12-02: 40 x 0.95 x 6; the excess is the cost itself
        self.assertAlmostEqual(a["value"], 228.0)
        self.assertAlmostEqual(a["est_excess_usd"], a["value"] - a["baseline"])
        self.assertEqual(a["account_name"], "media")
        # only billing was priced: the note says how, and nothing of S3 tiers
        self.assertIn("AWS/Billing daily spend", rep.doc["price_note"])
        self.assertNotIn("data transfer out", rep.doc["price_note"])

    def test_month_boundary_gap_and_downward_revision(self):
        fake = self.start()
        # report.json holds the history of a series with a finding only: a
        # threshold every day's spend crosses makes each one a finding
        p, rep = self.run_at(fake, ACCOUNTS + BILLING_SECTION +
                             "  detectors:\n    threshold: {limit: 0.001}\n")
        s = self.billing_series(rep)
        media = s[(MEDIA, "AmazonS3")]
        # Dec 1 (a Tuesday): the estimate restarted, the day's spend is its value
        self.assertAlmostEqual(media[day("2026-12-01")], 40 * 1.05)
        self.assertAlmostEqual(media[day("2026-11-30")], 40 * 1.0)
        shop = s[(SHOP, "AmazonS3")]
        # no value on Nov 25: that day and the next are gaps, not 0 or a spike
        self.assertIsNone(shop[day("2026-11-25")])
        self.assertIsNone(shop[day("2026-11-26")])
        self.assertAlmostEqual(shop[day("2026-11-27")], 12 * 1.1)  # a Friday
        dt = s[(SHOP, "AWSDataTransfer")]
        # Nov 20 (Friday, 30 x 1.1 = 33 spent) revised down by 45: 0, and the
        # remaining 12 are made up on Nov 21 (Saturday, 30 x 0.8 = 24 -> 12)
        self.assertEqual(dt[day("2026-11-20")], 0)
        self.assertAlmostEqual(dt[day("2026-11-21")], 12.0)
        self.assertAlmostEqual(dt[day("2026-11-22")], 30 * 0.75)
        self.assertTrue(all(v is None or v >= 0 for v in dt.values()))

    def test_services_and_all_linked_accounts(self):
        fake = self.start()
        inv = ACCOUNTS + BILLING_SECTION + ("  services: [AmazonS3]\n"
                                            "  linked_accounts: all\n"
                                            "  detectors:\n    threshold: {limit: 1000}\n")
        p, rep = self.run_at(fake, inv)
        self.assertEqual(p.returncode, 1, p.stderr)
        rows = {(r["account_id"], r["account_name"], r["metric"])
                for r in rep.doc["results"] if r["metric"].startswith("AWS/Billing")}
        self.assertEqual(rows, {(a, n, "AWS/Billing EstimatedCharges AmazonS3 (daily)")
                                for a, n in ((MEDIA, "media"), (SHOP, "shop"), (OTHER, ""))})
        # the billing detectors merge over the defaults
        self.assertEqual({r["detector"] for r in rep.doc["results"]
                          if r["metric"].startswith("AWS/Billing")},
                         {"threshold", "mean7d", "zscore"})

    def test_payer_without_billing_metrics(self):
        fake = self.start()
        inv = ACCOUNTS + BILLING_SECTION.replace("999999999999", "888888888888")
        p, rep = self.run_at(fake, inv)
        self.assertEqual(p.returncode, 3, p.stderr)
        f = rep.doc["failures"]
        self.assertEqual([(x["account_id"], x["region"], x["stage"], x["code"]) for x in f],
                         [("888888888888", "us-east-1", "billing", "BillingAlertsNotEnabled")])
        self.assertIn("Receive CloudWatch billing alerts", f[0]["message"])
        with open(os.path.join(rep.out, "report.md"), encoding="utf-8") as fh:
            self.assertIn("BillingAlertsNotEnabled", fh.read())

    def test_generated_month_to_date_series(self):
        """The fake's month_to_date series (what the demo uses): a day's
        spend is the day's own value, across the month boundary."""
        with open(BILLING, encoding="utf-8") as f:
            sc = json.load(f)
        payer = next(a for a in sc["accounts"] if a["id"] == "999999999999")
        payer["buckets"][0]["extra_metrics"] = [{
            "namespace": "AWS/Billing", "name": "EstimatedCharges", "unit": "None",
            "resolution": 86400,
            "dimensions": [{"Name": "Currency", "Value": "USD"},
                           {"Name": "ServiceName", "Value": "AmazonS3"},
                           {"Name": "LinkedAccount", "Value": MEDIA}],
            "series": {"base": 10, "days": 45, "integer": False, "month_to_date": True,
                       "spikes": [{"days_ago": 1, "factor": 3}]}}]
        path = self.tmpfile("billing-mtd.json", json.dumps(sc))
        fake = FakeAWS(path, now=NOW)
        fake.start()
        self.addCleanup(fake.stop)
        p, rep = self.run_at(fake, ACCOUNTS + BILLING_SECTION)
        s = self.billing_series(rep)[(MEDIA, "AmazonS3")]
        for d in ("2026-11-29", "2026-11-30", "2026-12-01"):
            self.assertAlmostEqual(s[day(d)], 10.0, msg=d)
        self.assertAlmostEqual(s[day("2026-12-02")], 30.0)

    def test_billing_calls(self):
        fake = self.start()
        p, rep = self.run_at(fake, ACCOUNTS + BILLING_SECTION)
        reqs = self.assert_signed(fake)
        lm = [r for r in reqs if r["action"] == "ListMetrics"
              and r["metric"] == "EstimatedCharges"]
        gmd = [r for r in reqs if r["action"] == "GetMetricData"
               and r["metric"] == "EstimatedCharges"]
        self.assertEqual([(r["account"], r["region"]) for r in lm],
                         [("999999999999", "us-east-1")])
        self.assertEqual([(r["account"], r["region"], r["queries"]) for r in gmd],
                         [("999999999999", "us-east-1", 4)])
        # the dry run names the billing calls
        p, _ = self.sweep(fake, ACCOUNTS + BILLING_SECTION, "--at", AT, "--dry-run",
                          out="dry")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("billing       payer 999999999999 (us-east-1): ListMetrics 1", p.stdout)

    def test_validation_is_strict(self):
        fake = self.start()
        inv = ACCOUNTS + ("billing:\n  account: \"99999999999\"\n  services: [Amazon S3]\n"
                          "  linked_accounts: some\n  role: x\n")
        p, rep = self.run_at(fake, inv)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIsNone(rep)
        for want in ("billing.account:", "billing.services[0]: not an AWS/Billing ServiceName",
                     "billing.linked_accounts: want inventory", "billing.role: unknown key"):
            self.assertIn(want, p.stderr)
        self.assertEqual(fake.requests(), [])


if __name__ == "__main__":
    if not BIN:
        print("CW_BIN is not set: skipping", file=sys.stderr)
        sys.exit(0)
    unittest.main(verbosity=2)
