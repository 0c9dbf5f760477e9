#!/usr/bin/env python3
"""report.xlsx read back by a real spreadsheet engine.

A report.json (the golden run, with an account id that starts with 0 and
buckets named `1e10` and `2024-01-02`, the names a CSV import turns into a
number and a date) is turned into report.xlsx by `cwsweep merge --format
xlsx`.  Gnumeric's ssconvert (Debian `gnumeric`, scripts/install-deps
--test) converts it to Gnumeric's own XML, which records each cell's type:
ids and names must be strings with their leading zeros, values, GB,
dollars and dates numbers.  The workbook's own XML (stdlib zipfile) must
have the four sheets, a frozen header, an autofilter, column widths and
the currency, percent and date formats.  Where ssconvert is absent the
engine half says so loudly and skips.
"""

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET
import zipfile

BIN = os.path.abspath(os.environ["CW_BIN"]) if os.environ.get("CW_BIN") else ""
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("CW_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
SSCONVERT = os.environ.get("CW_SSCONVERT") or shutil.which("ssconvert")
GNM = "{http://www.gnumeric.org/v10.dtd}"
SHEETS = ["Findings", "Series", "Accounts", "Not watched & failures"]
TEXT, NUMBER = "60", "40"


def make_workbook(tmp):
    with open(os.path.join(SRC, "tests", "data", "golden", "report.json"),
              encoding="utf-8") as f:
        doc = json.load(f)
    col = {c: i for i, c in enumerate(doc["series_columns"])}
    for row in doc["series"]:  # rows of the series table
        if row[col["account_id"]] == "111111111111":
            row[col["account_id"]] = "012345678901"
        if row[col["bucket"]] == "new,bucket\nline":
            row[col["bucket"]] = "1e10"
        if row[col["bucket"]].startswith("=HYPERLINK"):
            row[col["bucket"]] = "2024-01-02"
    for r in doc["failures"] + doc["unmeasured"]:
        if r["account_id"] == "111111111111":
            r["account_id"] = "012345678901"
    src = os.path.join(tmp, "r.json")
    with open(src, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    out = os.path.join(tmp, "out")
    p = subprocess.run([BIN, "merge", src, "-o", out, "--format", "xlsx", "--no-slack", "-q"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode in (1, 3), (p.returncode, p.stderr)
    return os.path.join(out, "report.xlsx")


class Workbook(unittest.TestCase):
    """The file itself: sheets, header, filter, widths, formats."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cwxlsx-")
        cls.path = make_workbook(cls.tmp)
        cls.zip = zipfile.ZipFile(cls.path)

    @classmethod
    def tearDownClass(cls):
        cls.zip.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_sheets(self):
        wb = self.zip.read("xl/workbook.xml").decode()
        for name in SHEETS:
            self.assertIn('name="%s"' % name.replace("&", "&amp;"), wb)

    def test_header_filter_widths(self):
        for i in range(1, 5):
            s = self.zip.read("xl/worksheets/sheet%d.xml" % i).decode()
            self.assertIn('state="frozen"', s)
            self.assertIn("<autoFilter", s)
            self.assertIn("customWidth", s)

    def test_run_id_in_properties(self):
        with open(os.path.join(SRC, "tests", "data", "golden", "report.json"),
                  encoding="utf-8") as f:
            run_id = json.load(f)["run"]["run_id"]
        core = ET.fromstring(self.zip.read("docProps/core.xml"))
        subject = core.find("{http://purl.org/dc/elements/1.1/}subject")
        # merge names its own run after the shards' ("merge-" + their id)
        self.assertIn(run_id, subject.text)

    def test_number_formats(self):
        styles = self.zip.read("xl/styles.xml").decode()
        for code in ("[$$-409]#,##0.00", "0.0%", "yyyy-mm-dd hh:mm", "#,##0.000"):
            self.assertIn('formatCode="%s"' % code, styles)


@unittest.skipIf(not SSCONVERT, "ssconvert (gnumeric) is not installed")
class ReadBack(unittest.TestCase):
    """What a spreadsheet engine makes of it: typed cells."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cwxlsx-")
        path = make_workbook(cls.tmp)
        gnm = os.path.join(cls.tmp, "r.gnumeric")
        env = {k: v for k, v in os.environ.items()  # no libfaketime for Gnumeric
               if k != "LD_PRELOAD" and not k.startswith("FAKETIME")}
        p = subprocess.run([SSCONVERT, path, gnm], capture_output=True, text=True,
                           timeout=120, env=env)
        assert p.returncode == 0, p.stderr
        with gzip.open(gnm) as f:
            root = ET.parse(f).getroot()
        cls.sheets = {}
        for sh in root.iter(GNM + "Sheet"):
            name = sh.find(GNM + "Name").text
            cells = {}
            for c in sh.iter(GNM + "Cell"):
                cells[(int(c.get("Row")), int(c.get("Col")))] = (c.get("ValueType"),
                                                                   c.text or "")
            cls.sheets[name] = cells

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def column(self, sheet, title):
        cells = self.sheets[sheet]
        col = [c for (r, c), v in cells.items() if r == 0 and v[1] == title]
        self.assertEqual(len(col), 1, (sheet, title))
        rows = max(r for r, _ in cells)
        return [cells.get((r, col[0])) for r in range(1, rows + 1)]

    def test_sheets(self):
        self.assertEqual(sorted(self.sheets), sorted(SHEETS))

    def test_ids_keep_leading_zeros(self):
        for sheet in ("Findings", "Series", "Accounts", "Not watched & failures"):
            ids = [v for v in self.column(sheet, "account_id") if v]
            self.assertIn((TEXT, "012345678901"), ids, sheet)
            self.assertTrue(all(t == TEXT for t, _ in ids), (sheet, ids))

    def test_names_that_look_like_numbers_stay_text(self):
        buckets = [v for v in self.column("Series", "bucket") if v]
        self.assertIn((TEXT, "1e10"), buckets)
        self.assertIn((TEXT, "2024-01-02"), buckets)
        self.assertTrue(all(t == TEXT for t, _ in buckets), buckets)

    def test_numbers_are_numbers(self):
        for title in ("value", "value_gb", "mean7d baseline", "mean7d limit", "mean7d score",
                      "threshold limit", "period_start (UTC)"):
            vals = [v for v in self.column("Series", title) if v]
            self.assertTrue(vals, title)
            self.assertTrue(all(t == NUMBER for t, _ in vals), (title, vals))
        usd = [v for v in self.column("Findings", "est_excess_usd") if v]
        self.assertEqual(len(usd), 1)
        self.assertEqual(usd[0][0], NUMBER)
        self.assertAlmostEqual(float(usd[0][1]), 0.405)
        gb = [float(v[1]) for v in self.column("Findings", "value_gb") if v]
        self.assertEqual(gb, [5.5])

    def test_dates_are_utc_days(self):
        # 2014-02-14T00:00:00Z is day 41684 of the 1900 date system
        days = [v for v in self.column("Findings", "period_start (UTC)") if v]
        self.assertEqual(days, [(NUMBER, "41684")])

    def test_one_row_per_series_and_period(self):
        with open(os.path.join(SRC, "tests", "data", "golden", "report.json"),
                  encoding="utf-8") as f:
            doc = json.load(f)
        groups = {(r[0], r[4]) for r in doc["results"]}
        status = [v[1] for v in self.column("Series", "status")]
        self.assertEqual(len(status), len(groups))
        # a row is an anomaly when any detector flagged it, and its
        # detectors' verdicts are side by side
        verdicts = list(zip(status, self.column("Series", "mean7d"),
                            self.column("Series", "threshold")))
        for st, m, t in verdicts:
            flagged = [v for v in (m, t) if v and v[1] == "anomaly"]
            self.assertEqual(st == "anomaly", bool(flagged), verdicts)
        self.assertIn("anomaly", status)

    def test_series_columns(self):
        # the unit is the metric's and the value's format tells bytes: it is
        # on the Findings rows, not repeated on every Series row
        titles = {v[1] for (r, _), v in self.sheets["Series"].items() if r == 0}
        for t in ("status", "account_id", "bucket", "metric", "value", "value_gb",
                  "severity", "alert", "est_excess_usd", "finding_id", "note"):
            self.assertIn(t, titles)
        self.assertNotIn("unit", titles)
        findings = {v[1] for (r, _), v in self.sheets["Findings"].items() if r == 0}
        self.assertIn("unit", findings)

    def test_failures_and_not_measured(self):
        kinds = [v[1] for v in self.column("Not watched & failures", "kind") if v]
        self.assertEqual(kinds, ["failed", "not_found"])


if __name__ == "__main__":
    if not SSCONVERT:
        print("\n*** SKIPPED: ssconvert (gnumeric) is not installed, report.xlsx was NOT "
              "read back by a spreadsheet engine (scripts/install-deps --test installs it) "
              "***\n", file=sys.stderr)
    unittest.main(verbosity=2)
