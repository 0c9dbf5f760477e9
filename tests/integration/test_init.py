#!/usr/bin/env python3
"""test_init.py - `cwsweep init`: starter inventories that validate as written.

--from-c7n-org on files written the way c7n-org's documentation shows
(tests/data/c7n-org/docs-example.yml, the documented AWS example) and the
way its orgaccounts.py script writes them (tests/data/c7n-org/
orgaccounts.yml, with hand-made additions): the output must pass
`cwsweep validate` unchanged, carry every key that has a cwsweep
equivalent, and list on stderr what it could not carry over.  A broken file
is exit 2 with file:line:column.  --from-organizations against the fake
endpoint's organisation: active accounts written, suspended ones as
comments, and the result validates.
"""
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_sweep  # noqa: E402
from test_sweep import SweepCase, ORG, SRC  # noqa: E402
from test_org import with_org  # noqa: E402

DATA = os.path.join(SRC, "tests", "data", "c7n-org")


class InitTest(SweepCase):

    def init(self, *args, env=None):
        return self.cwsweep(["init"] + list(args), env or {"PATH": "/usr/bin:/bin",
                                                           "HOME": self.home})

    def validates(self, text):
        path = self.tmpfile("converted.yaml", text)
        p = self.cwsweep(["validate", "-i", path], {"PATH": "/usr/bin:/bin",
                                                     "HOME": self.home})
        self.assertEqual(p.returncode, 0, p.stderr + "\n" + text)
        return p.stdout

    def test_c7n_org_documentation_example(self):
        p = self.init("--from-c7n-org", os.path.join(DATA, "docs-example.yml"))
        self.assertEqual(p.returncode, 0, p.stderr)
        out = self.validates(p.stdout)
        self.assertIn("role_name: CloudCustodian", p.stdout)
        self.assertIn('"division": "some division"', p.stdout)
        self.assertIn('"pci": ""', p.stdout)
        self.assertIn('external_id: "c7n-external-2"', p.stdout)
        self.assertIn("account-1 (123123123123)", out)
        self.assertIn("arn:aws:iam::456456456456:role/CloudCustodian", out)
        self.assertIn("account 123123123123: vars: not carried over", p.stderr)

    def test_c7n_org_orgaccounts_script_output(self):
        p = self.init("--from-c7n-org", os.path.join(DATA, "orgaccounts.yml"))
        self.assertEqual(p.returncode, 0, p.stderr)
        out = self.validates(p.stdout)
        self.assertIn("(role chain)", out)
        self.assertIn('"path": "/Root/workloads/prod"', p.stdout)
        self.assertIn('name: "prod (222222222222)"', p.stdout)
        self.assertIn("regions: [eu-west-1, eu-central-1]", p.stdout)   # the alias
        for want in ("vars: not carried over", "profile: not carried over",
                     "regions: all", "email: not carried over",
                     "display_name: not carried over", "keeps its last value"):
            self.assertIn(want, p.stderr)

    def test_c7n_org_broken_file(self):
        path = self.tmpfile("bad.yml", "accounts:\n- account_id: 123\n  role: nope\n"
                                       "- name: x\nsubscriptions: []\n")
        p = self.init("--from-c7n-org", path)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertIn(path + ":2:15: account_id: 12 digits in quotes", p.stderr)
        self.assertIn(path + ":5:1: subscriptions: Azure, GCP and OCI", p.stderr)
        p = self.init("--from-c7n-org", os.path.join(self.tmp, "missing.yml"))
        self.assertEqual(p.returncode, 2, p.stderr)
        p = self.init("--from-c7n-org")
        self.assertEqual(p.returncode, 2, p.stderr)

    def test_from_organizations(self):
        fake = self.start_fake(ORG, with_org())
        p = self.init("--from-organizations", "--role-name", "finops/cwsweep-reader",
                      "--region", "eu-west-1", env=self.env_for(fake))
        self.assertEqual(p.returncode, 0, p.stderr)
        out = self.validates(p.stdout)
        self.assertIn('name: "Alpha Org Name"', p.stdout)
        self.assertIn("role_name: finops/cwsweep-reader", p.stdout)
        self.assertIn("regions: [eu-west-1]", p.stdout)
        self.assertIn('# SUSPENDED (left out): - id: "400000000000"', p.stdout)
        self.assertIn("arn:aws:iam::300000000000:role/finops/cwsweep-reader", out)
        self.assertIn("3 accounts written, 1 not active", p.stderr)

    def test_from_organizations_denied(self):
        fake = self.start_fake(ORG, with_org(mgmt="999999999999"))
        p = self.init("--from-organizations", env=self.env_for(fake))
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertIn("AccessDeniedException", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
