#!/usr/bin/env python3
"""report.html in a real browser: headless Chromium renders the report of
the demo sweep (accounts.yaml.example against the fake endpoint's demo
scenario, the clock pinned with --at), and the test checks what a reader
would get:

- the DOM after loading (--dump-dom): as many finding cards as findings
  (one per distinct finding_id of report.csv), one <svg> chart in each, no
  <script>, nothing that loads a resource;
- no script error on the console (Chromium's log, --enable-logging);
- no network request attempted: Chromium runs with its proxy pointed at a
  local listener that records every connection; the page's own requests
  would show there (Chromium's background services, which the flags do not
  silence completely, are told apart by their hosts);
- a screenshot (1280 px wide) that is not blank, kept as
  BUILD/artifacts/report-html.png for CI.

Two control pages prove that the checks can fail: one with a script error,
one that loads an image from the network.

Chromium is the Debian package `chromium` (scripts/install-deps --test);
where it is absent the test says so loudly and skips.
"""

import csv
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import unittest
import zlib
from html.parser import HTMLParser

BIN = os.path.abspath(os.environ["CW_BIN"]) if os.environ.get("CW_BIN") else ""
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("CW_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("CW_BUILD_DIR") or os.path.join(SRC, "build")
sys.path.insert(0, os.path.join(SRC, "tests", "fake_aws"))
from fakehelper import FakeAWS  # noqa: E402

CHROMIUM = (os.environ.get("CW_CHROMIUM") or shutil.which("chromium")
            or shutil.which("chromium-browser"))
DEMO = os.path.join(SRC, "tests", "fake_aws", "scenarios", "demo.json")
EXAMPLE = os.path.join(SRC, "accounts.yaml.example")
SERIES_NOW = 1764936000  # 2025-12-05T12:00:00Z: a fixed clock, a fixed report
AT = "2025-12-05T12:00:00Z"
# Hosts of Chromium's own background services (time, updates, sign-in).
BROWSER_HOSTS = ("google.com", "googleapis.com", "gstatic.com", "gvt1.com", "gvt2.com")


class Trap:
    """A listener that records the first bytes of every connection."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.hits = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            c.settimeout(2)
            try:
                self.hits.append(c.recv(512).decode("latin-1"))
            except OSError:
                self.hits.append("?")
            c.close()

    def page_requests(self):
        """The requests that did not come from Chromium's own services."""
        out = []
        for h in self.hits:
            first = h.split("\r\n", 1)[0]
            target = first.split(" ")[1] if " " in first else first
            host = target.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
            if not any(host == b or host.endswith("." + b) for b in BROWSER_HOSTS):
                out.append(first)
        return out

    def close(self):
        self.sock.close()


def chromium(args, profile, trap, timeout=90):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile,
           "--enable-logging=stderr", "--v=0", "--hide-scrollbars",
           "--proxy-server=http://127.0.0.1:%d" % trap.port,
           "--virtual-time-budget=3000"] + args
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env=browser_env())


def browser_env():
    """The environment without libfaketime (scripts/test runs the suite under
    it): the browser needs no fake clock, and a preloaded one can break it."""
    return {k: v for k, v in os.environ.items()
            if k != "LD_PRELOAD" and not k.startswith("FAKETIME")}


def console_errors(stderr):
    return [l for l in stderr.splitlines()
            if ":CONSOLE" in l and ("Uncaught" in l or "Error" in l or "Refused" in l)]


class Dom(HTMLParser):
    """Finding cards, the <svg> in each, scripts and loading attributes."""

    def __init__(self):
        super().__init__()
        self.cards = []       # per card: number of <svg>
        self.card_depth = 0   # >0 inside a card
        self.depth = 0
        self.scripts = 0
        self.loads = []       # (tag, attr, value) that would load something
        self.h2 = []
        self.in_h2 = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.depth += 1
        if tag == "article" and "finding" in (a.get("class") or "").split():
            self.cards.append(0)
            self.card_depth = self.depth
        if tag == "svg" and self.card_depth:
            self.cards[-1] += 1
        if tag == "script":
            self.scripts += 1
        for k in ("src", "srcset", "data", "poster", "background"):
            if k in a:
                self.loads.append((tag, k, a[k]))
        if tag == "link":
            self.loads.append((tag, "href", a.get("href")))
        if tag in ("image", "use", "feimage") and ("href" in a or "xlink:href" in a):
            self.loads.append((tag, "href", a.get("href") or a.get("xlink:href")))
        if tag == "h2":
            self.in_h2 = True
            self.h2.append("")

    def handle_endtag(self, tag):
        if tag == "article" and self.card_depth == self.depth:
            self.card_depth = 0
        if tag == "h2":
            self.in_h2 = False
        self.depth -= 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_data(self, data):
        if self.in_h2:
            self.h2[-1] += data


def png_pixels(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit non-interlaced PNG."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and ctype in (2, 6), (depth, ctype)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ft == 1:
                line[i] = (line[i] + a) & 255
            elif ft == 2:
                line[i] = (line[i] + b) & 255
            elif ft == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


@unittest.skipIf(not CHROMIUM, "chromium is not installed")
class HtmlInBrowser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cwhtml-")
        cls.out = os.path.join(cls.tmp, "out")
        with FakeAWS(DEMO, now=SERIES_NOW) as fake:
            env = fake.env()
            env.update(HOME=cls.tmp, AWS_EC2_METADATA_DISABLED="true",
                       AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
            p = subprocess.run([BIN, "run", "-i", EXAMPLE, "-o", cls.out, "--at", AT,
                                "--no-state", "--no-slack", "-q"],
                               env=env, capture_output=True, text=True, timeout=120)
        assert p.returncode in (1, 3), (p.returncode, p.stderr)
        cls.html = os.path.join(cls.out, "report.html")
        with open(os.path.join(cls.out, "report.csv"), newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        cls.findings = {r["finding_id"] for r in rows if r["status"] == "anomaly"}
        cls.trap = Trap()
        cls.dom_run = chromium(["--dump-dom", "file://" + cls.html],
                               os.path.join(cls.tmp, "p1"), cls.trap)
        cls.dom = Dom()
        cls.dom.feed(cls.dom_run.stdout)
        art = os.path.join(BUILD, "artifacts")
        os.makedirs(art, exist_ok=True)
        cls.shot = os.path.join(art, "report-html.png")
        if os.path.exists(cls.shot):
            os.remove(cls.shot)
        cls.shot_run = chromium(["--window-size=1280,2000", "--screenshot=" + cls.shot,
                                 "file://" + cls.html], os.path.join(cls.tmp, "p2"), cls.trap)

    @classmethod
    def tearDownClass(cls):
        cls.trap.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_rendered(self):
        self.assertEqual(self.dom_run.returncode, 0, self.dom_run.stderr[-2000:])
        self.assertIn("cwsweep report", self.dom_run.stdout)

    def test_one_card_and_one_chart_per_finding(self):
        self.assertGreater(len(self.findings), 0, "the demo has a spike")
        self.assertEqual(len(self.dom.cards), len(self.findings))
        self.assertEqual(self.dom.cards, [1] * len(self.findings))
        self.assertIn("Findings (%d)" % len(self.findings), self.dom.h2)

    def test_no_script_no_script_error(self):
        self.assertEqual(self.dom.scripts, 0)
        self.assertEqual(console_errors(self.dom_run.stderr), [])
        self.assertEqual(console_errors(self.shot_run.stderr), [])

    def test_nothing_loaded(self):
        self.assertEqual(self.dom.loads, [])
        self.assertEqual(self.trap.page_requests(), [])

    def test_screenshot_not_blank(self):
        self.assertEqual(self.shot_run.returncode, 0, self.shot_run.stderr[-2000:])
        w, h, bpp, rows = png_pixels(self.shot)
        self.assertEqual(w, 1280)
        colours, ink = set(), 0
        bg = rows[0][:3]
        for y in range(0, h, 4):
            r = rows[y]
            for x in range(0, w * bpp, bpp * 4):
                px = r[x:x + 3]
                colours.add(px)
                ink += px != bg
        samples = (h // 4) * (w // 4)
        self.assertGreater(len(colours), 20, "a blank or flat screenshot")
        self.assertGreater(ink / samples, 0.02, "almost nothing drawn")
        print("screenshot: %s (%d colours, %.1f%% ink)" % (self.shot, len(colours),
                                                          100 * ink / samples),
              file=sys.stderr)


@unittest.skipIf(not CHROMIUM, "chromium is not installed")
class ChecksCanFail(unittest.TestCase):
    """Control pages: the same checks catch a script error and a load."""

    def test_controls(self):
        tmp = tempfile.mkdtemp(prefix="cwhtml-ctl-")
        trap = Trap()
        try:
            page = os.path.join(tmp, "bad.html")
            with open(page, "w", encoding="utf-8") as f:
                f.write('<html><body><img src="http://cwsweep-trap.invalid/x.png">'
                        '<script>throw new Error("control")</script></body></html>')
            p = chromium(["--dump-dom", "file://" + page], os.path.join(tmp, "p"), trap)
            self.assertNotEqual(console_errors(p.stderr), [], p.stderr[-2000:])
            self.assertTrue(any("cwsweep-trap.invalid" in r for r in trap.page_requests()),
                            trap.hits)
            dom = Dom()
            dom.feed(p.stdout)
            self.assertEqual(dom.scripts, 1)
            self.assertEqual(len(dom.loads), 1)
        finally:
            trap.close()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if not CHROMIUM:
        print("\n*** SKIPPED: chromium is not installed, report.html was NOT checked in a "
              "browser (scripts/install-deps --test installs it) ***\n", file=sys.stderr)
    unittest.main(verbosity=2)
