#!/usr/bin/env python3
"""test_examples.py - the cron and systemd examples work as written.

The crontab line of scripts/cron.example runs under /bin/sh the way cron
runs it (the % escapes undone, a fresh HOME, cron's small environment, no
folders at all): it must make what it needs, or fail loudly into a log
that exists and with a line that cron mails.  Only the path of the binary
is replaced (by a wrapper that pins --at, so the test does not depend on
the day it runs).

The systemd units are checked with `systemd-analyze verify` (Debian's
systemd package), ExecStart pointed at the built binary; the test is
skipped, loudly, where systemd-analyze is absent.
"""
import os
import re
import shutil
import stat
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_sweep as ts  # noqa: E402
from test_sweep import AT, ORG_CALLER, SweepCase  # noqa: E402

CRON = os.path.join(ts.SRC, "scripts", "cron.example")
UNITS = [os.path.join(ts.SRC, "scripts", n) for n in ("cwsweep.service", "cwsweep.timer")]
INSTALLED = "/usr/local/bin/cwsweep"


def setUpModule():
    ts.setUpModule()


def cron_command():
    """The command of the first active crontab line that runs cwsweep, as
    cron hands it to the shell."""
    with open(CRON, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or "cwsweep run" not in line:
                continue
            fields = line.rstrip("\n").split(None, 5)
            assert len(fields) == 6, line
            cmd = fields[5]
            # cron: an unescaped % ends the command (the rest is stdin)
            assert not re.search(r"(?<!\\)%", cmd), "unescaped % in " + cmd
            return cmd.replace("\\%", "%")
    raise AssertionError("no cwsweep line in " + CRON)


class CronTest(SweepCase):

    def run_cron(self, cmd, home):
        env = {"HOME": home, "LOGNAME": "cwsweep", "SHELL": "/bin/sh",
               "PATH": "/usr/local/bin:/usr/bin:/bin", **ts.clock_env()}
        return subprocess.run(["/bin/sh", "-c", cmd], env=env, cwd=home,
                              capture_output=True, text=True, timeout=120)

    def test_cron_line_on_a_fresh_home(self):
        wrapper = os.path.join(self.tmp, "cwsweep-wrapper")
        with open(wrapper, "w", encoding="utf-8") as f:
            f.write('#!/bin/sh\nexec "%s" "$@" --at %s\n' % (ts.BIN, AT))
        os.chmod(wrapper, stat.S_IRWXU)
        cmd = cron_command()
        self.assertIn(INSTALLED, cmd)
        cmd = cmd.replace(INSTALLED, wrapper)
        home = os.path.join(self.tmp, "fresh-home")
        os.mkdir(home)
        # 1: nothing there at all: the folders are made, the failure is
        # logged and one line goes to cron's mail
        p = self.run_cron(cmd, home)
        self.assertEqual(p.stderr, "")
        self.assertRegex(p.stdout, r"^cwsweep: exit 2, see .*/cwsweep/logs/cwsweep-")
        logs = os.listdir(os.path.join(home, "cwsweep", "logs"))
        self.assertEqual(len(logs), 1, logs)
        with open(os.path.join(home, "cwsweep", "logs", logs[0]), encoding="utf-8") as f:
            log = f.read()
        self.assertIn("cwsweep.env: no Slack digest", log)
        self.assertIn("accounts.yaml", log)
        self.assertRegex(log, r"Z exit 2\n$")
        self.assertFalse(os.path.exists(os.path.join(home, "cwsweep", "report")))
        # 2: configured: a normal night is silent for cron and posts the digest
        fake = self.start_fake()
        with open(os.path.join(home, "cwsweep", "accounts.yaml"), "w",
                  encoding="utf-8") as f:
            f.write(ts.ORG_INVENTORY)
        os.makedirs(os.path.join(home, ".config", "cwsweep"))
        envfile = os.path.join(home, ".config", "cwsweep", "cwsweep.env")
        env = self.env_for(fake)
        env["SLACK_WEBHOOK_URL"] = "http://127.0.0.1:%d/slack/T0/B0/cron" % fake.port
        with open(envfile, "w", encoding="utf-8") as f:
            for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                      "AWS_ENDPOINT_URL", "AWS_EC2_METADATA_DISABLED", "AWS_CONFIG_FILE",
                      "AWS_SHARED_CREDENTIALS_FILE", "SLACK_WEBHOOK_URL"):
                if env.get(k):
                    f.write("%s='%s'\n" % (k, env[k]))
        os.chmod(envfile, 0o600)
        p = self.run_cron(cmd, home)
        self.assertEqual((p.stdout, p.stderr), ("", ""))
        # the log of this night (a new file when midnight passed meanwhile)
        logs = sorted(os.listdir(os.path.join(home, "cwsweep", "logs")))
        with open(os.path.join(home, "cwsweep", "logs", logs[-1]), encoding="utf-8") as f:
            log = f.read()
        self.assertRegex(log, r"Z exit [01]\n$")
        self.assertNotIn(ORG_CALLER[1], log)
        out = os.path.join(home, "cwsweep", "report")
        self.assertTrue(os.path.exists(os.path.join(out, "report.json")))
        self.assertTrue(os.path.exists(os.path.join(home, "cwsweep", "state.json")))
        self.assertTrue(os.path.exists(os.path.join(home, "cwsweep", "cwsweep.prom")))
        self.assertEqual(len(fake.slack()["received"]), 1)


class SystemdTest(unittest.TestCase):

    def test_units_verify(self):
        tool = shutil.which("systemd-analyze")
        if not tool:
            print("\n*** SKIPPED: systemd-analyze is not installed (Debian package "
                  "systemd); the units were not verified ***", file=sys.stderr)
            raise unittest.SkipTest("systemd-analyze is not installed")
        import tempfile
        tmp = tempfile.mkdtemp(prefix="cwsweep-units-")
        self.addCleanup(shutil.rmtree, tmp, True)
        paths = []
        for u in UNITS:
            with open(u, encoding="utf-8") as f:
                text = f.read()
            if u.endswith(".service"):
                self.assertIn(INSTALLED, text)
            dst = os.path.join(tmp, os.path.basename(u))
            with open(dst, "w", encoding="utf-8") as f:
                f.write(text.replace(INSTALLED, os.path.abspath(ts.BIN)))
            paths.append(dst)
        p = subprocess.run([tool, "verify"] + paths, capture_output=True, text=True,
                           cwd=tmp, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(p.stderr.strip(), "", "systemd-analyze warned")


if __name__ == "__main__":
    unittest.main(verbosity=2)
