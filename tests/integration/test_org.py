#!/usr/bin/env python3
"""test_org.py - accounts from AWS Organizations, end to end against the fake.

The fake (tests/fake_aws) serves tests/fake_aws/scenarios/itest_org.json
plus an organisation: a root, an OU "prod" holding alpha and the nested OU
"team" (beta), an OU "sandbox" (gamma), and a suspended account; one
account per page, so every listing pages.  The inventory has an
`organization:` section, a role and bucket template, and `accounts:`
entries that override some accounts.  Checked: who is swept (names from
Organizations unless overridden), include/exclude OUs recursively,
suspended and excluded accounts, AccessDenied and a repeated NextToken as
failure rows (exit 3) with the inventory's own accounts still swept, the
management account reached through a role, `--dry-run` and
`validate --resolve` showing the resolved list, and every Organizations
call signed for service `organizations` in us-east-1.
"""
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_sweep as ts  # noqa: E402
from test_sweep import SweepCase, ORG, AT  # noqa: E402

ROOT, PROD, TEAM, SBOX = "r-f4k3", "ou-f4k3-prod0001", "ou-f4k3-team0001", "ou-f4k3-sbox0001"
ALPHA, BETA, GAMMA, GONE = "111111111111", "222222222222", "300000000000", "400000000000"


def with_org(mgmt="000000000000", **extra):
    def patch(sc):
        org = {"management_account": mgmt, "root": ROOT, "page_size": 1,
               "ous": [{"id": PROD, "name": "prod", "parent": ROOT},
                       {"id": TEAM, "name": "team", "parent": PROD},
                       {"id": SBOX, "name": "sandbox", "parent": ROOT}],
               "accounts": [{"id": ALPHA, "name": "Alpha Org Name", "parent": PROD},
                            {"id": BETA, "name": "beta-from-org", "parent": TEAM},
                            {"id": GAMMA, "name": "gamma-from-org", "parent": SBOX},
                            {"id": GONE, "name": "closed", "parent": PROD,
                             "status": "SUSPENDED"}]}
        org.update(extra.pop("org", {}))
        sc["organizations"] = org
        sc.setdefault("roles", []).extend(extra.pop("roles", []))
        sc.setdefault("faults", []).extend(extra.pop("faults", []))
    return patch


def inventory(org_section, accounts=None):
    text = ("defaults:\n  regions: [us-east-1]\n  role_name: cwsweep-reader\n"
            "  buckets: auto\norganization:\n" + org_section)
    if accounts is not None:
        text += "accounts:\n" + accounts
    return text


OVERRIDES = """\
  - id: "111111111111"
    name: alpha
    external_id: itest-ext-alpha-42
    regions: [us-east-1, eu-west-1]
  - id: "300000000000"
    regions: [us-east-1, eu-west-1]
"""


class OrgTest(SweepCase):

    def org_calls(self, fake):
        reqs = fake.requests()
        calls = [r for r in reqs if r["service"] == "organizations"]
        for r in calls:
            self.assertEqual(r["signature"], "ok", r)
            self.assertEqual(r["region"], "us-east-1", r)
        return calls

    def validate(self, fake, inv, *extra):
        path = self.tmpfile("inventory.yaml", inv)
        return self.cwsweep(["validate", "-i", path, "--resolve"] + list(extra),
                            self.env_for(fake))

    def test_whole_organization_swept_with_overrides(self):
        fake = self.start_fake(ORG, with_org())
        p, rep = self.sweep(fake, inventory('  management_account: "000000000000"\n',
                                            OVERRIDES))
        self.assertIsNotNone(rep, p.stderr)
        self.assertIn(p.returncode, (0, 1), p.stderr)
        self.assertEqual(rep.failures(), [])
        names = {r["account_id"]: r["account_name"] for r in rep.rows}
        self.assertEqual(names, {ALPHA: "alpha", BETA: "beta-from-org",
                                 GAMMA: "gamma-from-org"})
        regions = {(r["account_id"], r["region"]) for r in rep.rows}
        self.assertIn((GAMMA, "eu-west-1"), regions)   # the override's regions
        self.assertIn((ALPHA, "eu-west-1"), regions)
        calls = self.org_calls(fake)
        # one account per page: 4 pages of ListAccounts, nothing else needed
        self.assertEqual([c["action"] for c in calls], ["ListAccounts"] * 4)
        st = fake.stats()
        self.assertEqual(st["bad_signature"], 0, st)
        self.assertEqual(st["unsigned"], 0, st)

    def test_include_and_exclude_ous_recursively(self):
        fake = self.start_fake(ORG, with_org())
        p = self.validate(fake, inventory('  management_account: "000000000000"\n'
                                          '  include_ous: [%s]\n' % PROD))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("alpha", p.stdout.lower())
        self.assertIn("beta-from-org (222222222222)", p.stdout)   # nested OU
        self.assertNotIn("gamma", p.stdout)
        self.assertNotIn(GONE, p.stdout)                          # suspended
        self.assertIn("1 not active", p.stdout)
        p = self.validate(fake, inventory('  management_account: "000000000000"\n'
                                          '  include_ous: [%s]\n  exclude_ous: [%s]\n'
                                          % (PROD, TEAM)))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("Alpha Org Name (111111111111)", p.stdout)
        self.assertNotIn("beta", p.stdout)
        # the whole organisation less an OU, an account, and a disabled entry
        p = self.validate(fake, inventory('  management_account: "000000000000"\n'
                                          '  exclude_ous: [%s]\n'
                                          '  exclude_accounts: ["300000000000"]\n'
                                          '  include_suspended: true\n' % TEAM,
                                          '  - id: "111111111111"\n    enabled: false\n'))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("closed (400000000000)", p.stdout)
        self.assertNotIn(ALPHA, p.stdout.split("organization:")[-1].split("\n", 1)[1])
        self.assertNotIn(BETA, p.stdout)
        self.assertNotIn("gamma", p.stdout)
        self.assertIn("1 excluded", p.stdout)
        actions = {c["action"] for c in self.org_calls(fake)}
        self.assertEqual(actions, {"ListAccounts", "ListAccountsForParent", "ListChildren"})

    def test_dry_run_shows_the_resolved_list(self):
        fake = self.start_fake(ORG, with_org())
        path = self.tmpfile("inventory.yaml",
                            inventory('  management_account: "000000000000"\n', OVERRIDES))
        p = self.cwsweep(["run", "--dry-run", "-i", path, "--at", AT], self.env_for(fake))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("organization 000000000000: 4 accounts listed (4 Organizations "
                      "calls, the only calls made), 1 not active, 0 excluded; 3 to sweep:",
                      p.stdout)
        self.assertIn("111111111111  alpha", p.stdout)
        self.assertIn("222222222222  beta-from-org", p.stdout)
        self.assertIn("from Organizations", p.stdout)
        self.assertIn("inventory entry", p.stdout)
        # nothing but Organizations was called
        self.assertEqual({r["service"] for r in fake.requests()}, {"organizations"})

    def test_access_denied_is_a_failure_row(self):
        fake = self.start_fake(ORG, with_org(faults=[
            {"service": "organizations", "kind": "access_denied"}]))
        p, rep = self.sweep(fake, inventory('  management_account: "000000000000"\n',
                                            OVERRIDES))
        self.assertIsNotNone(rep, p.stderr)
        self.assertEqual(p.returncode, 3, p.stderr)
        f = rep.failures(stage="organizations")
        self.assertEqual(len(f), 1, rep.doc["failures"])
        self.assertEqual(f[0]["code"], "AccessDeniedException")
        self.assertEqual(f[0]["account_id"], "000000000000")
        self.assertIn("You don't have permissions", f[0]["message"])
        # the inventory's own accounts were still swept
        self.assertEqual(rep.accounts_seen() - {"000000000000"}, {ALPHA, GAMMA})
        # validate --resolve says so too, exit 3
        p = self.validate(fake, inventory('  management_account: "000000000000"\n'))
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("AccessDeniedException", p.stderr)

    def test_member_account_credentials_are_refused(self):
        # the organisation's management account is another one: AccessDenied
        fake = self.start_fake(ORG, with_org(mgmt="999999999999"))
        p = self.validate(fake, inventory('  management_account: "999999999999"\n'))
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("organizations ListAccounts: AccessDeniedException", p.stderr)

    def test_management_account_through_a_role(self):
        role = {"arn": "arn:aws:iam::999999999999:role/cwsweep-org-reader",
                "trust": {"accounts": ["000000000000"]}, "external_id": "org-ext-77"}
        fake = self.start_fake(ORG, with_org(mgmt="999999999999", roles=[role]))
        p = self.validate(fake, inventory(
            '  management_account: "999999999999"\n'
            '  role_arn: arn:aws:iam::999999999999:role/cwsweep-org-reader\n'
            '  external_id: org-ext-77\n'))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("gamma-from-org (300000000000)", p.stdout)
        calls = self.org_calls(fake)
        self.assertTrue(calls)
        self.assertEqual({c["account"] for c in calls}, {"999999999999"})
        self.assertEqual(len([r for r in fake.requests() if r["action"] == "AssumeRole"]), 1)

    def test_names_stay_unique(self):
        # two accounts with one name, and an org name an entry already uses
        fake = self.start_fake(ORG, with_org(org={"accounts": [
            {"id": ALPHA, "name": "shared", "parent": PROD},
            {"id": BETA, "name": "shared", "parent": TEAM},
            {"id": GAMMA, "name": "alpha", "parent": SBOX}]}))
        p = self.validate(fake, inventory('  management_account: "000000000000"\n',
                                          '  - id: "111111111111"\n    name: alpha\n'))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("alpha (111111111111)", p.stdout)
        self.assertIn("shared (222222222222)", p.stdout)
        self.assertNotIn("shared (222222222222) (", p.stdout)
        self.assertIn("alpha (300000000000) (300000000000)", p.stdout)

    def test_repeated_next_token_is_an_error(self):
        fake = self.start_fake(ORG, with_org(org={"repeat_token": True}))
        p = self.validate(fake, inventory('  management_account: "000000000000"\n'))
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("organizations ListAccounts answered a NextToken it had sent before",
                      p.stderr)
        self.assertLess(len(self.org_calls(fake)), 5)


if __name__ == "__main__":
    unittest.main(verbosity=2)
