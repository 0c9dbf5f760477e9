#!/usr/bin/env python3
"""test_aws_templates.py - the reader role of scripts/aws/, checked offline.

- the CloudFormation template is well-formed JSON with the expected shape
  (parameters, the role, its trust with sts:ExternalId, the conditional
  Organizations policy), and cfn-lint passes where it is installed;
- the Terraform module is well-formed (`terraform fmt -check` where
  terraform is installed; always: balanced blocks, the files it reads
  exist, its variables match the template's parameters);
- both carry exactly the documents in scripts/aws/policies/;
- every action in those documents is one that cwsweep's source calls;
- scripts/aws/README.md and README.md show the same documents.
Tools that are absent are skipped loudly, never silently.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("CW_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
AWS = os.path.join(SRC, "scripts", "aws")
CFN = os.path.join(AWS, "cwsweep-reader.cfn.json")
TF = os.path.join(AWS, "terraform", "main.tf")

# each action -> text that the C source holds where it makes that call
EVIDENCE = {
    "cloudwatch:GetMetricData": ("analyzer", "GraniteServiceVersion20100801.GetMetricData"),
    "cloudwatch:ListMetrics": ("analyzer", "GraniteServiceVersion20100801.ListMetrics"),
    "organizations:ListAccounts": ("analyzer/aws/organizations.c", '"ListAccounts"'),
    "organizations:ListAccountsForParent": ("analyzer/aws/organizations.c",
                                            '"ListAccountsForParent"'),
    "organizations:ListChildren": ("analyzer/aws/organizations.c", '"ListChildren"'),
    "s3:GetMetricsConfiguration": ("analyzer/aws/s3.c", '"GET", bucket, NULL, q'),
    "s3:PutMetricsConfiguration": ("analyzer/aws/s3.c", '"PUT", bucket, NULL, q'),
}


def load(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def policy(name):
    return json.loads(load(os.path.join(AWS, "policies", name)))


def json_blocks(markdown):
    """The ```json blocks that are JSON (README.md also sketches report.json)."""
    out = []
    for b in re.findall(r"```json\n(.*?)```", markdown, re.S):
        try:
            out.append(json.loads(b))
        except ValueError:
            pass
    return out


def source_has(where, text):
    path = os.path.join(SRC, where)
    files = [path] if os.path.isfile(path) else [
        os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs if f.endswith((".c", ".h"))]
    return any(text in load(f) for f in files)


class TemplatesTest(unittest.TestCase):

    def test_cloudformation_shape(self):
        t = json.loads(load(CFN))
        self.assertEqual(t["AWSTemplateFormatVersion"], "2010-09-09")
        self.assertEqual(set(t["Parameters"]), {"RoleName", "RolePath", "SweeperPrincipalArn",
                                                "ExternalId", "OrganizationsRead",
                                                "MetricsWrite"})
        role = t["Resources"]["ReaderRole"]
        self.assertEqual(role["Type"], "AWS::IAM::Role")
        trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        self.assertEqual(len(trust), 1)
        self.assertEqual(trust[0]["Action"], "sts:AssumeRole")
        self.assertEqual(trust[0]["Principal"], {"AWS": {"Ref": "SweeperPrincipalArn"}})
        self.assertEqual(trust[0]["Condition"],
                         {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}})
        self.assertEqual(role["Properties"]["MaxSessionDuration"], 3600)
        self.assertEqual(role["Properties"]["Policies"][0]["PolicyDocument"],
                         policy("read-metrics.json"))
        org = t["Resources"]["OrganizationsReadPolicy"]
        self.assertEqual(org["Condition"], "WithOrganizationsRead")
        self.assertEqual(org["Properties"]["PolicyDocument"], policy("read-organization.json"))
        mw = t["Resources"]["MetricsWritePolicy"]
        self.assertEqual(mw["Condition"], "WithMetricsWrite")
        self.assertEqual(mw["Properties"]["PolicyDocument"], policy("enable-metrics.json"))
        # nothing else grants anything
        self.assertEqual(set(t["Resources"]), {"ReaderRole", "OrganizationsReadPolicy",
                                               "MetricsWritePolicy"})

    def test_cfn_lint(self):
        lint = shutil.which("cfn-lint")
        if not lint:
            self.skipTest("*** cfn-lint not installed: template checked by shape only ***")
        p = subprocess.run([lint, CFN], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_terraform_module(self):
        tf = load(TF)
        self.assertEqual(tf.count("{"), tf.count("}"))
        for f in re.findall(r'file\("\$\{path\.module\}/([^"]+)"\)', tf):
            self.assertTrue(os.path.isfile(os.path.join(AWS, "terraform", f)), f)
        self.assertIn('file("${path.module}/../policies/read-metrics.json")', tf)
        self.assertIn('file("${path.module}/../policies/read-organization.json")', tf)
        self.assertIn('file("${path.module}/../policies/enable-metrics.json")', tf)
        self.assertEqual(set(re.findall(r'^variable "(\w+)"', tf, re.M)),
                         {"role_name", "role_path", "sweeper_principal_arn", "external_id",
                          "organizations_read", "metrics_write"})
        self.assertIn('"sts:ExternalId" = var.external_id', tf)
        self.assertIn("max_session_duration = 3600", tf)
        self.assertIn('default     = "cwsweep-reader"', tf)
        tform = shutil.which("terraform")
        if not tform:
            print("\n*** terraform not installed: module checked by text only ***",
                  file=sys.stderr)
            return
        p = subprocess.run([tform, "fmt", "-check", "-diff", os.path.dirname(TF)],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_every_action_is_one_cwsweep_calls(self):
        actions = []
        for name in os.listdir(os.path.join(AWS, "policies")):
            for st in policy(name)["Statement"]:
                self.assertEqual(st["Effect"], "Allow")
                self.assertEqual(st["Resource"], "*")
                actions += st["Action"]
        self.assertEqual(len(actions), len(set(actions)))
        for a in actions:
            self.assertIn(a, EVIDENCE, "%s: not an action cwsweep is known to call" % a)
            where, text = EVIDENCE[a]
            self.assertTrue(source_has(where, text), "%s: %s not in %s" % (a, text, where))

    def test_readmes_show_the_templates_documents(self):
        docs = json_blocks(load(os.path.join(AWS, "README.md")))
        self.assertEqual(docs, [policy("read-metrics.json"), policy("read-organization.json"),
                                policy("enable-metrics.json")])
        top = json_blocks(load(os.path.join(SRC, "README.md")))
        self.assertIn(policy("read-metrics.json"), top)
        self.assertIn("ParameterKey=ExternalId", load(os.path.join(AWS, "README.md")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
