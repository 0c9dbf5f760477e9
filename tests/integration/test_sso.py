#!/usr/bin/env python3
"""test_sso.py - a sweep from an IAM Identity Center (SSO) profile.

~/.aws/config holds a profile with `sso_session` (and its [sso-session]
section) and the token `aws sso login` would have cached in
~/.aws/sso/cache/SHA1(session).json; the fake serves the portal's
GetRoleCredentials (AWS_ENDPOINT_URL_SSO), and the credentials it issues
assume each account's role.  Checked: `cwsweep run --profile NAME` sweeps
with them (no static keys in the environment); an expired token stops the
run with exit 2 and says to run `aws sso login --profile NAME`;
AWS_MAX_ATTEMPTS that is not a number is exit 2.
"""
import hashlib
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_sweep  # noqa: E402
from test_sweep import SweepCase, ORG, ORG_INVENTORY, AT  # noqa: E402

TOKEN = "itest-sso-access-token"


def with_sso(sc):
    sc["sso"] = {"access_token": TOKEN,
                 "roles": [{"account": "000000000000", "role_name": "FinOps"}]}


class SsoTest(SweepCase):

    def sso_env(self, fake, expires="2099-01-01T00:00:00Z"):
        aws = os.path.join(self.home, ".aws")
        cache = os.path.join(aws, "sso", "cache")
        os.makedirs(cache, exist_ok=True)
        with open(os.path.join(aws, "config"), "w") as f:
            f.write("[profile finops]\nsso_session = corp\nsso_account_id = 000000000000\n"
                    "sso_role_name = FinOps\nregion = us-east-1\n\n"
                    "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
                    "sso_region = us-east-1\n")
        name = hashlib.sha1(b"corp").hexdigest() + ".json"
        with open(os.path.join(cache, name), "w") as f:
            json.dump({"startUrl": "https://corp.awsapps.com/start", "region": "us-east-1",
                       "accessToken": TOKEN, "expiresAt": expires}, f)
        env = self.env_for(fake)
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                  "AWS_CONFIG_FILE"):
            env.pop(k, None)
        env["AWS_ENDPOINT_URL_SSO"] = fake.url
        return env

    def run_sweep(self, env, *extra):
        path = self.tmpfile("inventory.yaml", ORG_INVENTORY)
        out = os.path.join(self.tmp, "out")
        p = self.cwsweep(["run", "-i", path, "-o", out, "--at", AT, "--no-state",
                          "--no-slack", "--profile", "finops"] + list(extra), env)
        return p, out

    def test_sweep_with_an_sso_profile(self):
        fake = self.start_fake(ORG, with_sso)
        p, out = self.run_sweep(self.sso_env(fake))
        self.assertTrue(os.path.isdir(out), p.stderr)
        rep = self.read_reports(out, p)
        self.assertEqual(rep.accounts_seen(), {"111111111111", "222222222222",
                                               "300000000000"})
        reqs = fake.requests()
        portal = [r for r in reqs if r["service"] == "sso"]
        self.assertEqual(len(portal), 1, portal)
        self.assertEqual(portal[0]["status"], 200)
        self.assertNotIn(TOKEN, p.stdout + p.stderr)

    def test_expired_token_says_to_log_in(self):
        fake = self.start_fake(ORG, with_sso)
        p, out = self.run_sweep(self.sso_env(fake, "2020-01-01T00:00:00Z"))
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("run aws sso login --profile finops", p.stderr)
        self.assertFalse(os.path.exists(out))
        self.assertEqual([r for r in fake.requests() if r["service"] == "sso"], [])

    def test_bad_max_attempts_is_exit_2(self):
        fake = self.start_fake(ORG, with_sso)
        env = self.sso_env(fake)
        env["AWS_MAX_ATTEMPTS"] = "many"
        p, out = self.run_sweep(env)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("AWS_MAX_ATTEMPTS: must be a whole number from 1 to 20", p.stderr)
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    unittest.main(verbosity=2)
