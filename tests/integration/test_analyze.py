#!/usr/bin/env python3
"""test_analyze.py - `cwsweep analyze FILE...` end to end.

Runs the binary (CW_BIN) on the real NAB CloudWatch series
(CW_TESTDATA/nab-aws, skipped loudly when absent) and on small files made
here, and checks exit codes 0/1/2/3, the three reports (parsed with the
csv and json modules), their columns, that a usage error writes nothing,
that a bad file is a failures row, and that no temporary file is left.
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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "fake_aws"))
from fakehelper import report_rows  # noqa: E402

BIN = os.environ.get("CW_BIN", "")
TESTDATA = os.environ.get("CW_TESTDATA", "")
NAB = os.path.join(TESTDATA, "nab-aws") if TESTDATA else ""

CSV_COLUMNS = [
    "run_id", "account_id", "account_name", "region", "bucket", "metric",
    "detector", "period_start", "value", "baseline", "limit", "change_pct",
    "score", "status", "severity", "alert", "est_excess_usd", "unit", "note",
    # appended columns (the first 19 keep their order)
    "value_gb", "baseline_gb", "est_excess_usd_all", "owner", "tags", "finding_id",
]
NUMBER_COLUMNS = ["value", "baseline", "limit", "change_pct", "score",
                  "est_excess_usd", "value_gb", "baseline_gb", "est_excess_usd_all"]
STATUSES = {"anomaly", "ok", "insufficient_history", "failed"}
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
REPORTS = ["report.csv", "report.html", "report.json", "report.md", "report.xlsx"]


def nab_files():
    if not NAB or not os.path.isdir(NAB):
        return []
    return sorted(os.path.join(NAB, f) for f in os.listdir(NAB)
                  if f.endswith(".csv"))


def skip_without_nab(test):
    if not nab_files():
        msg = ("SKIPPED LOUDLY: NAB series not found (CW_TESTDATA=%r); "
               "the real-data tests did not run" % TESTDATA)
        print(msg, file=sys.stderr)
        raise unittest.SkipTest(msg)


def write_series(path, values, start=1388534400, period=300):
    """A timestamp,value CSV: one point per period from start (UTC)."""
    with open(path, "w", newline="") as f:
        f.write("timestamp,value\n")
        for i, v in enumerate(values):
            f.write("%d,%s\n" % (start + i * period, v))


class AnalyzeTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not BIN or not os.access(BIN, os.X_OK):
            raise unittest.SkipTest("CW_BIN is not an executable: %r" % BIN)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cwsweep-analyze-")
        self.out = os.path.join(self.tmp, "out")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def analyze(self, *args, out=True):
        argv = [BIN, "analyze"] + list(args)
        if out:
            argv += ["-o", self.out]
        p = subprocess.run(argv, cwd=self.tmp, capture_output=True, text=True,
                           timeout=300)
        return p

    def test_stdin_get_metric_statistics_and_unit(self):
        """`aws cloudwatch get-metric-statistics ... | cwsweep analyze -`: the
        statistic it holds, the unit it says; --unit overrides the unit."""
        day = 86400
        t0 = 1704067200  # 2024-01-01
        dps = [{"Timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+00:00",
                                           time.gmtime(t0 + i * day)),
                "Sum": 1e9 * (9 if i == 20 else 1), "Unit": "Bytes"} for i in range(21)]
        doc = json.dumps({"Label": "BytesDownloaded", "Datapoints": dps[::-1]})
        argv = [BIN, "analyze", "-", "-o", self.out, "--format", "csv,md",
                "--detectors", "mean7d"]
        p = subprocess.run(argv, input=doc, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        rows, _ = self.read_csv()
        anom = [r for r in rows if r["status"] == "anomaly"]
        self.assertTrue(anom)
        self.assertEqual({r["metric"] for r in rows}, {"BytesDownloaded"})
        self.assertEqual({r["unit"] for r in rows}, {"Bytes"})
        self.assertEqual(anom[0]["value_gb"], "9")
        with open(os.path.join(self.out, "report.md"), encoding="utf-8") as f:
            self.assertIn("**9.00 GB**", f.read())
        p = subprocess.run(argv + ["--unit", "Count"], input=doc, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        rows, _ = self.read_csv()
        self.assertEqual({r["unit"] for r in rows}, {"Count"})
        self.assertEqual({r["value_gb"] for r in rows}, {""})
        p = self.analyze("-", "-", out=True)
        self.assertEqual(p.returncode, 2)
        p = self.analyze("x.csv", "--unit", "parsecs")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--unit", p.stderr)

    # ---- readers and checks ----------------------------------------------

    def read_csv(self):
        with open(os.path.join(self.out, "report.csv"), "rb") as f:
            raw = f.read()
        raw.decode("utf-8")  # valid UTF-8 or this raises
        self.assertTrue(raw.endswith(b"\r\n"), "CSV lines must end in CRLF")
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
        self.assertEqual(rows[0], CSV_COLUMNS)
        return [dict(zip(rows[0], r)) for r in rows[1:]], rows

    def read_json(self):
        with open(os.path.join(self.out, "report.json"), encoding="utf-8") as f:
            return report_rows(json.load(f))

    def check_reports(self, proc):
        """Every report exists and parses; CSV, JSON and exit code agree."""
        self.assertEqual(sorted(os.listdir(self.out)), REPORTS,
                         "exactly the reports, no temporary file")
        rows, raw_rows = self.read_csv()
        for r in raw_rows[1:]:
            self.assertEqual(len(r), len(CSV_COLUMNS), r)
        doc = self.read_json()
        self.assertEqual(doc["schema"], "cwsweep.report/3")
        self.assertEqual(doc["run"]["mode"], "analyze")
        for key in ("started", "finished"):
            self.assertRegex(doc["run"][key], ISO_UTC)
        s = doc["summary"]
        results = [r for r in rows if r["status"] != "failed"]
        failed = [r for r in rows if r["status"] == "failed"]
        self.assertEqual(len(results), s["judgements"])
        self.assertEqual(len(doc["results"]), s["judgements"])
        self.assertEqual(len(failed), s["failures"] + s["not_measured"])
        self.assertEqual(len(doc["failures"]), s["failures"])
        n_anom = sum(r["status"] == "anomaly" for r in rows)
        self.assertEqual(n_anom, s["anomalies"])
        self.assertEqual(sum(r["status"] == "ok" for r in rows), s["ok"])
        for r in rows:
            self.assertIn(r["status"], STATUSES)
            if r["status"] in ("anomaly", "ok"):
                self.assertRegex(r["period_start"], ISO_UTC)
            elif r["period_start"]:  # empty when the series had no datapoint
                self.assertRegex(r["period_start"], ISO_UTC)
            for c in NUMBER_COLUMNS:
                if r[c] != "":
                    v = float(r[c])  # a plain number a spreadsheet reads
                    self.assertTrue(math.isfinite(v))
                    self.assertNotIn(",", r[c])
            for c, v in r.items():
                if c not in NUMBER_COLUMNS and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
                    self.fail("formula-looking text cell %s=%r" % (c, v))
            self.assertEqual(r["severity"] != "", r["status"] == "anomaly")
        # each judged series once; results name it by index; the history
        # of a series with a finding only
        used = {r["series"] for r in doc["results"]}
        found = {r["series"] for r in doc["results"] if r["status"] == "anomaly"}
        self.assertEqual(found, {i for i, h in enumerate(doc["series"])
                                 if h["values"] is not None and h["slots"]})
        self.assertEqual(used, set(range(len(doc["series"]))))
        self.assertLessEqual(len(doc["series"]), s["series"])
        for h in doc["series"]:
            if h["values"]:
                self.assertRegex(h["start"], ISO_UTC)
            if not doc["run"]["all_periods"]:
                self.assertLessEqual(h["slots"], 14)
            for v in h["values"] or []:
                self.assertTrue(v is None or isinstance(v, (int, float)))
        for r in doc["results"]:
            h = doc["series"][r["series"]]
            if r["period_start"] and h["values"]:
                # the judged period is the series' history window (or ends it)
                start = calendar.timegm(time.strptime(h["start"], "%Y-%m-%dT%H:%M:%SZ"))
                judged = calendar.timegm(time.strptime(r["period_start"],
                                                       "%Y-%m-%dT%H:%M:%SZ"))
                self.assertLess(judged, start + len(h["values"]) * h["period"], r)
                self.assertGreaterEqual(judged, start, r)
        with open(os.path.join(self.out, "report.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertTrue(md.startswith("# cwsweep report\n"))
        # one finding per series and period, named by the rows' finding_id
        findings = {r["finding_id"] for r in rows if r["status"] == "anomaly"}
        for r in rows:
            self.assertEqual(r["finding_id"].startswith("f-"), r["status"] == "anomaly", r)
        self.assertIn("finding%s · coverage: %d series judged" % (
            "" if len(findings) == 1 else "s", s["series"]), md.split("\n")[2])
        self.assertIn("## Findings (%d)" % len(findings), md)
        if s["failures"]:
            self.assertIn("## Failures (%d)" % s["failures"], md)
        want = 3 if s["failures"] else (1 if s["anomalies"] else 0)
        self.assertEqual(proc.returncode, want, proc.stderr)
        if proc.stdout:
            self.assertIn("%d series, %d judgements" % (s["series"], s["judgements"]),
                          proc.stdout)
            self.assertIn("report: %s/report.md" % self.out, proc.stdout)
        return rows, doc, md

    # ---- real data -----------------------------------------------------------

    def test_nab_last_period(self):
        skip_without_nab(self)
        files = nab_files()
        p = self.analyze(*files)
        self.assertIn(p.returncode, (0, 1), p.stderr)
        rows, doc, _ = self.check_reports(p)
        self.assertEqual(doc["summary"]["series"], len(files))
        # default detectors: robust and newhigh, one judgement each per series
        self.assertEqual(doc["summary"]["judgements"], 2 * len(files))
        self.assertEqual({r["detector"] for r in rows}, {"robust", "newhigh"})
        self.assertEqual(doc["run"]["period_seconds"], 300)
        self.assertFalse(doc["run"]["all_periods"])
        names = {r["metric"] for r in rows}
        self.assertIn("ec2_cpu_utilization_24ae8d", names)

    def test_nab_all_periods(self):
        skip_without_nab(self)
        files = [f for f in nab_files() if "disk_write_bytes" in f or "network_in" in f]
        self.assertTrue(files)
        p = self.analyze("--all-periods", *files)
        rows, doc, md = self.check_reports(p)
        self.assertTrue(doc["run"]["all_periods"])
        # every complete period with enough history is judged, not just one
        self.assertGreater(doc["summary"]["judgements"], 100 * len(files))
        # these series have labelled spikes: something must be found
        self.assertGreater(doc["summary"]["anomalies"], 0)
        self.assertEqual(p.returncode, 1)
        # worst first in the Markdown, and not one row per judgement
        self.assertLess(md.count("\n| warning |") + md.count("\n| critical |")
                        + md.count("\n| info |"), 101)

    def test_nab_bad_file_is_a_failure_row(self):
        skip_without_nab(self)
        bad = os.path.join(self.tmp, "garbage.csv")
        with open(bad, "w") as f:
            f.write("timestamp,value\nyesterday,12\n")
        missing = os.path.join(self.tmp, "missing.csv")
        p = self.analyze(nab_files()[0], bad, missing)
        self.assertEqual(p.returncode, 3, p.stderr)
        rows, doc, md = self.check_reports(p)
        failed = {r["metric"]: r for r in rows if r["status"] == "failed"}
        self.assertEqual(set(failed), {bad, missing})
        self.assertTrue(failed[bad]["note"].startswith("parse: "), failed[bad])
        self.assertTrue(failed[missing]["note"].startswith("read: "), failed[missing])
        self.assertEqual(doc["summary"]["series"], 1)
        self.assertEqual({f["stage"] for f in doc["failures"]}, {"read", "parse"})
        self.assertIn("## Failures (2)", md)

    # ---- made-up data ---------------------------------------------------------

    def test_quiet_series_exit_0(self):
        path = os.path.join(self.tmp, "calm.csv")
        # 12 days of a gentle repeating pattern: nothing unusual at the end
        write_series(path, [100 + (i % 7) for i in range(12 * 288)])
        p = self.analyze(path)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.check_reports(p)

    def test_spike_exit_1(self):
        path = os.path.join(self.tmp, "spike.csv")
        write_series(path, [100 + (i % 7) for i in range(12 * 288)] + [5000])
        p = self.analyze(path)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        rows, _, md = self.check_reports(p)
        # 5-minute data: newhigh judges it (robust needs 3 weeks, and leaves
        # minute-level series to newhigh anyway)
        by = {r["detector"]: r for r in rows}
        self.assertEqual(by["newhigh"]["status"], "anomaly", rows)
        self.assertEqual(by["robust"]["status"], "insufficient_history", rows)
        self.assertIn("| spike |", md)

    def test_every_file_fails_exit_3(self):
        p = self.analyze(os.path.join(self.tmp, "nope1.csv"),
                         os.path.join(self.tmp, "nope2.csv"))
        self.assertEqual(p.returncode, 3, p.stderr)
        rows, doc, _ = self.check_reports(p)
        self.assertEqual(len(rows), 2)
        self.assertEqual(doc["summary"]["failures"], 2)
        self.assertIn("nope1.csv", p.stderr)

    def test_get_metric_data_json(self):
        path = os.path.join(self.tmp, "gmd.json")
        t0 = 1388534400
        points = list(range(12 * 24))  # 12 days, hourly
        doc = {"MetricDataResults": [
            {"Id": "m1", "Label": "hourly", "StatusCode": "Complete",
             "Timestamps": [t0 + 3600 * i for i in reversed(points)],
             "Values": [50.0 + (i % 5) for i in reversed(points)]},
            {"Id": "m2", "Label": "denied", "StatusCode": "Forbidden",
             "Timestamps": [], "Values": []},
            {"Id": "m3", "Label": "nodata", "StatusCode": "Complete",
             "Timestamps": [], "Values": []}],
            "Messages": []}
        with open(path, "w") as f:
            json.dump(doc, f)
        p = self.analyze("--detectors", "mean7d,zscore", path)
        self.assertEqual(p.returncode, 3, p.stderr)
        rows, doc, _ = self.check_reports(p)
        self.assertEqual({r["metric"] for r in rows}, {"hourly", "denied", "nodata"})
        self.assertEqual([f["stage"] for f in doc["failures"]], ["get-metric-data"])
        self.assertEqual(doc["failures"][0]["code"], "Forbidden")
        for r in rows:
            if r["metric"] == "nodata":
                self.assertEqual(r["status"], "insufficient_history")
                self.assertEqual(r["period_start"], "")
            if r["metric"] == "hourly":
                self.assertEqual(r["status"], "ok")

    def test_formula_name_is_guarded(self):
        path = os.path.join(self.tmp, "=HYPERLINK(1).csv")
        write_series(path, [10, 11, 12, 13])
        p = self.analyze(path)
        self.assertIn(p.returncode, (0, 1), p.stderr)
        rows, doc, md = self.check_reports(p)
        self.assertEqual({r["metric"] for r in rows}, {"'=HYPERLINK(1)"})
        # JSON keeps the name as it is; Markdown escapes nothing here but
        # the name still appears
        self.assertEqual({r["metric"] for r in doc["results"]}, {"=HYPERLINK(1)"})

    def test_dollar_gate(self):
        # a daily series of 1 GB, then 10 GB: 10x, but the 9 GB excess costs
        # $0.81 a day at $0.09/GB, under robust's min_excess_usd of 3
        path = os.path.join(self.tmp, "tiny.csv")
        write_series(path, [1e9] * 40 + [10e9], period=86400)
        p = self.analyze("--detectors", "robust", path)
        self.assertEqual(p.returncode, 1, p.stderr)  # not priced: no gate
        p = self.analyze("--detectors", "robust", "--usd-per-gb", "0.09", path)
        self.assertEqual(p.returncode, 0, p.stderr)
        rows, _, _ = self.check_reports(p)
        self.assertEqual(rows[0]["status"], "ok")
        self.assertIn("below the dollar gate: excess est. $0.81 a day", rows[0]["note"])
        # 100 GB: $8.91 a day, an alert
        write_series(path, [1e9] * 40 + [100e9], period=86400)
        p = self.analyze("--detectors", "robust", "--usd-per-gb", "0.09", path)
        self.assertEqual(p.returncode, 1, p.stderr)

    def test_episode_in_the_note(self):
        # robust: an episode of three days names its start, length and peak
        path = os.path.join(self.tmp, "episode.csv")
        write_series(path, [100] * 40 + [900, 800, 700], period=86400)
        p = self.analyze("--detectors", "robust", "--all-periods", path)
        self.assertEqual(p.returncode, 1, p.stderr)
        rows, _, md = self.check_reports(p)
        last = [r for r in rows if r["period_start"] == "2014-02-12T00:00:00Z"][0]
        self.assertEqual(last["status"], "anomaly")
        self.assertEqual(last["note"],
                         "episode since 2014-02-10T00:00:00Z, 3 periods, peak 900")
        # and the Markdown for people shows it next to the anomaly
        self.assertIn("| episode since 2014-02-10T00:00:00Z, 3 periods, peak 900 |", md)

    def test_inventory_exclusions(self):
        """-i: the inventory's exclusions apply to the files' series: a
        bucket glob matches the series' name; an exclusion for one account
        does not apply (a file has no account); a bad inventory is exit 2
        with its file:line:column and nothing written."""
        spike = os.path.join(self.tmp, "spike.csv")
        other = os.path.join(self.tmp, "other.csv")
        for path in (spike, other):
            write_series(path, [100] * 40 + [900, 100], period=86400)
        inv = os.path.join(self.tmp, "inv.yaml")
        with open(inv, "w") as f:
            f.write('accounts:\n  - {id: "111111111111", regions: [us-east-1], '
                    'buckets: [media]}\n'
                    "exclusions:\n"
                    "  - {from: 2014-02-10T00:00:00Z, to: 2014-02-11T00:00:00Z,\n"
                    '     bucket: "spi*", reason: a known launch}\n'
                    "  - {from: 2014-02-01T00:00:00Z, to: 2014-02-12T00:00:00Z,\n"
                    '     account: "111111111111", reason: one account}\n')
        p = self.analyze("-i", inv, "--detectors", "robust", "--all-periods", spike, other)
        self.assertEqual(p.returncode, 1, p.stderr)
        rows, _, _ = self.check_reports(p)
        day = {(r["metric"], r["period_start"][:10]): r for r in rows}
        s = day[("spike", "2014-02-10")]
        self.assertEqual((s["status"], s["note"], s["baseline"]),
                         ("ok", "excluded: a known launch", ""))
        # the excluded 900 fed no baseline: the next day's median is 100
        self.assertEqual(day[("spike", "2014-02-11")]["baseline"], "100")
        o = day[("other", "2014-02-10")]
        self.assertEqual((o["status"], o["note"]), ("anomaly", ""))
        # without -i the same spike is an anomaly
        shutil.rmtree(self.out)
        p = self.analyze("--detectors", "robust", "--all-periods", spike)
        self.assertEqual(p.returncode, 1, p.stderr)
        # a bad inventory: exit 2, the place named, nothing written
        shutil.rmtree(self.out)
        with open(inv, "w") as f:
            f.write('accounts:\n  - {id: "111111111111", regions: [us-east-1], '
                    'buckets: [media]}\n'
                    "exclusions:\n  - {from: yesterday, to: 2014-02-11T00:00:00Z, "
                    "reason: x}\n")
        p = self.analyze("-i", inv, spike)
        self.assertEqual(p.returncode, 2)
        self.assertIn("inv.yaml:4:", p.stderr)
        self.assertIn("not a time", p.stderr)
        self.assertFalse(os.path.exists(self.out))

    def test_usage_errors_write_nothing(self):
        ok = os.path.join(self.tmp, "ok.csv")
        write_series(ok, [1, 2, 3])
        cases = [
            (["--bogus", ok], "--bogus"),
            (["-x", ok], "-x"),
            ([ok, "--detectors"], "--detectors"),
            (["--detectors", "nosuch", ok], "--detectors"),
            (["--detectors", "mean7d:factor=0", ok], "--detectors"),
            (["--detectors", "mean7d:nosuch=1", ok], "--detectors"),
            (["--format", "md,xml", ok], "--format"),
            (["--format", "", ok], "--format"),
            (["--period", "soon", ok], "--period"),
            (["--period", "0", ok], "--period"),
            (["--usd-per-gb", "cheap", ok], "--usd-per-gb"),
            (["--usd-per-gb", "-1", ok], "--usd-per-gb"),
            (["-o", "--format", "md", ok], "-o"),
            ([], "no input file"),
        ]
        for args, needle in cases:
            with self.subTest(args=args):
                p = self.analyze(*args)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertEqual(p.stdout, "")
                lines = p.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, p.stderr)
                self.assertIn(needle, lines[0])
                self.assertFalse(os.path.exists(self.out), "a usage error wrote %s"
                                 % self.out)
        # "-o" without a value at the end: nothing written in the cwd either
        p = self.analyze(ok, "-o", out=False)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(sorted(os.listdir(self.tmp)), ["ok.csv"])

    def test_format_subset_quiet_and_rewrite(self):
        path = os.path.join(self.tmp, "s.csv")
        write_series(path, [1, 2, 3, 4])
        p = self.analyze("--format", "csv", "-q", path)
        self.assertIn(p.returncode, (0, 1), p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertEqual(os.listdir(self.out), ["report.csv"])
        # a second run replaces the files in place, leaving nothing else
        for _ in range(2):
            p = self.analyze(path)
            self.check_reports(p)
        self.assertEqual(sorted(os.listdir(self.out)), REPORTS)

    def test_default_output_dir_and_period(self):
        path = os.path.join(self.tmp, "hourly.csv")
        write_series(path, list(range(1, 60)), period=3600)
        p = self.analyze(path, "--period", "1h", out=False)
        self.assertIn(p.returncode, (0, 1), p.stderr)
        self.assertEqual(sorted(os.listdir(os.path.join(self.tmp, "cwsweep-report"))),
                         REPORTS)
        self.assertIn("report: ./cwsweep-report/report.md", p.stdout)
        with open(os.path.join(self.tmp, "cwsweep-report", "report.json")) as f:
            self.assertEqual(json.load(f)["run"]["period_seconds"], 3600)

    def test_help(self):
        p = self.analyze("--help", out=False)
        self.assertEqual(p.returncode, 0)
        self.assertIn("usage: cwsweep analyze", p.stdout)
        self.assertIn("--all-periods", p.stdout)
        self.assertIn("exit codes", p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
