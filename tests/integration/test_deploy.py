#!/usr/bin/env python3
"""test_deploy.py - the deployment files under scripts/, checked offline.

* scripts/k8s/*.yaml: well-formed YAML (yamllint: no duplicate keys, no
  tabs); every document a known kind and apiVersion; every field known to
  the Kubernetes API of python3-kubernetes (the official client's models,
  walked strictly: an unknown or misspelt key fails), required fields
  present; the fields newer than that client (podFailurePolicy, timeZone)
  checked by hand.  Then what the sweep needs: the shards' CronJob makes an
  Indexed Job whose completions, parallelism and `--shard index/N` agree,
  restartPolicy Never, exit 2 fails the Job; the nightly Job never retries
  (a second merge would post the digest twice), starts exactly the shards'
  CronJob, has the RBAC for it, and merges the very prefix the shards hand
  off to.
* scripts/batch/*.json: RegisterJobDefinition and SubmitJob requests checked
  with botocore's own parameter validator against the AWS Batch API model;
  `arrayProperties.size` equals the N of `--shard index/N`; the merge job
  depends on the array job and never retries; every Ref:: has a parameter;
  scripts/batch/submit run with a stand-in `aws` chains the two jobs.
* Every cwsweep command line in them uses options that `cwsweep COMMAND
  --help` lists, with values cwsweep accepts; every environment variable they
  set for cwsweep is one cwsweep reads (a getenv in the source, or named in
  its --help) and the README documents, or one that the command line itself
  expands.  The inventory in the ConfigMap passes `cwsweep validate`.
* scripts/container/Dockerfile: two stages on debian:12-slim, the build stage
  through scripts/install-deps, a runtime stage whose packages provide every
  shared library `ldd` shows for the built binary (dpkg -S, with the
  packages' own dependencies and the base image's essential packages), no
  -dev package, no secret, a non-root USER.

python3-yaml is needed; the schema checks need python3-kubernetes and
botocore, the lint yamllint (scripts/install-deps --test installs them) and
say loudly when they are skipped.
"""
import glob
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

import yaml

sys.path.insert(0, os.path.join(os.environ.get("CW_SOURCE_DIR") or
                                os.path.dirname(os.path.dirname(os.path.dirname(
                                    os.path.abspath(__file__)))), "tests", "fake_aws"))
from fakehelper import clock_env  # noqa: E402

BIN = os.path.abspath(os.environ["CW_BIN"]) if os.environ.get("CW_BIN") else ""
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("CW_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
K8S = os.path.join(SRC, "scripts", "k8s")
BATCH = os.path.join(SRC, "scripts", "batch")
DOCKERFILE = os.path.join(SRC, "scripts", "container", "Dockerfile")

try:
    import kubernetes.client as kclient
except ImportError:
    kclient = None
try:
    import botocore.session
    from botocore.validate import ParamValidator
except ImportError:
    botocore = None
try:
    import yamllint.config
    import yamllint.linter
except ImportError:
    yamllint = None

API_VERSIONS = {
    "ServiceAccount": "v1", "ConfigMap": "v1", "Secret": "v1",
    "Role": "rbac.authorization.k8s.io/v1", "RoleBinding": "rbac.authorization.k8s.io/v1",
    "CronJob": "batch/v1", "Job": "batch/v1",
}
# Fields newer than the python3-kubernetes models (API 1.22), and the
# Kubernetes release where each became GA; checked by hand below.
NEWER_FIELDS = {
    ("V1JobSpec", "podFailurePolicy"): "1.31",
    ("V1CronJobSpec", "timeZone"): "1.27",
}
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
SECRETISH = re.compile(r"SECRET|TOKEN|PASSWORD|PASSWD|WEBHOOK|PRIVATE|_KEY\b", re.I)


def k8s_docs():
    out = []
    for path in sorted(glob.glob(os.path.join(K8S, "*.yaml"))):
        with open(path, encoding="utf-8") as f:
            for i, d in enumerate(yaml.safe_load_all(f)):
                if d is not None:
                    out.append((os.path.relpath(path, SRC), i, d))
    return out


def read_json(name):
    with open(os.path.join(BATCH, name), encoding="utf-8") as f:
        return json.load(f)


def pod_specs(doc):
    """(where, pod spec) of a CronJob or Job."""
    if doc["kind"] == "CronJob":
        return [("jobTemplate", doc["spec"]["jobTemplate"]["spec"]["template"]["spec"])]
    if doc["kind"] == "Job":
        return [("template", doc["spec"]["template"]["spec"])]
    return []


def job_spec(doc):
    return doc["spec"]["jobTemplate"]["spec"] if doc["kind"] == "CronJob" else doc["spec"]


class Cwsweep:
    """What the built binary says about itself."""
    _help = {}

    @classmethod
    def help(cls, command):
        if command not in cls._help:
            p = subprocess.run([BIN, command, "--help"], capture_output=True, text=True,
                               timeout=30)
            assert p.returncode == 0, (command, p.stderr)
            cls._help[command] = p.stdout
        return cls._help[command]

    @classmethod
    def options(cls, command):
        return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", cls.help(command)))

    @classmethod
    def commands(cls):
        p = subprocess.run([BIN, "--help"], capture_output=True, text=True, timeout=30)
        return set(re.findall(r"^\s{2,}([a-z][a-z-]+)\s", p.stdout, re.M))


def env_read_by_cwsweep():
    """Variables cwsweep reads: a getenv (or a wrapper of it) on a literal in
    the source, and the variables its help texts name (the webhook's default
    variable, the job schedulers' indexes)."""
    names = set()
    call = re.compile(r"\b(?:getenv|env_[a-z_]+|env_or|env)\(\s*\"([A-Z][A-Z0-9_]+)\"")
    for root in ("analyzer", "reports"):
        for path in glob.glob(os.path.join(SRC, root, "**", "*.c"), recursive=True):
            with open(path, encoding="utf-8") as f:
                names.update(call.findall(f.read()))
    for command in ("run", "merge"):
        names.update(re.findall(r"\b((?:AWS|SLACK|JOB)_[A-Z0-9_]+)\b", Cwsweep.help(command)))
    return names


def readme_names():
    with open(os.path.join(SRC, "README.md"), encoding="utf-8") as f:
        return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", f.read()))


def expanded(argv):
    """Variables a command line expands: Kubernetes $(VAR), shell $VAR/${VAR}."""
    text = " ".join(argv)
    return set(re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", text)) | \
        set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", text))


def check_merge_outputs(test, argv, handoff, shard_argv):
    """merge publishes its reports (--publish), outside the prefix it reads
    (cwsweep refuses that too: the next merge would read them); it keeps
    the alert state of the whole set in one S3 object (--state), with the
    inventory's settings (-i), while the shards keep none (--no-state)."""
    test.assertIn("--publish", argv, "the merged reports must reach S3")
    pub = argv[argv.index("--publish") + 1]
    test.assertRegex(pub, r"^s3://[a-z0-9.-]+/.+/$")
    test.assertFalse(pub.startswith(handoff) or handoff.startswith(pub),
                     "%s overlaps the hand-off prefix %s" % (pub, handoff))
    test.assertIn("--state", argv, "merge keeps the alert state")
    state = argv[argv.index("--state") + 1]
    test.assertRegex(state, r"^s3://[a-z0-9.-]+/[^$]+\.json$")
    test.assertFalse(state.startswith(handoff) or state.startswith(pub), state)
    test.assertEqual(argv[argv.index("--inventory") + 1],
                     shard_argv[shard_argv.index("--inventory") + 1],
                     "the shards' inventory gives merge its cooldown")
    test.assertIn("--no-state", shard_argv, "one state: merge's")


def setUpModule():
    if not BIN or not os.access(BIN, os.X_OK):
        raise unittest.SkipTest("CW_BIN is not set (run through ctest)")


class CommandLines(unittest.TestCase):
    """Shared checks of one cwsweep command line (argv after the program)."""

    def check_argv(self, where, argv, subst):
        """argv: the cwsweep arguments; subst: $(VAR) / Ref::name -> sample."""
        self.assertIn(argv[0], Cwsweep.commands(), "%s: not a cwsweep command" % where)
        opts = Cwsweep.options(argv[0])
        for a in argv[1:]:
            if a.startswith("-"):
                self.assertTrue(a.startswith("--"), "%s: %s: use long options" % (where, a))
                self.assertIn(a.split("=")[0], opts, "%s: `cwsweep %s` has no option %s"
                              % (where, argv[0], a))
        real = [subst(a) for a in argv]
        if "--shard" in real:
            v = real[real.index("--shard") + 1]
            self.assertRegex(v, r"^(index|\d+)/[1-9]\d*$", where)
        for i, a in enumerate(real):
            if a.startswith("s3://"):
                # a prefix, or the object of --state
                end = r"/[^\s$]+\.json" if real[i - 1] == "--state" else r"(/[^\s$]*)?/"
                self.assertRegex(a, r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]%s$" % end,
                                 "%s: %s" % (where, a))
        return real

    def check_env(self, where, names, argv):
        read, documented, used = env_read_by_cwsweep(), readme_names(), expanded(argv)
        # variables the command line names for cwsweep to read
        read |= {argv[i + 1] for i, a in enumerate(argv[:-1])
                 if a in ("--heartbeat-env", "--slack-env")}
        for n in names:
            if n in used:
                continue
            self.assertIn(n, read, "%s: sets %s, which cwsweep does not read" % (where, n))
            self.assertIn(n, documented, "%s: %s is not in the README" % (where, n))
        for n in used:
            self.assertIn(n, names, "%s: expands $(%s) that it does not set" % (where, n))


class Kubernetes(CommandLines):

    @classmethod
    def setUpClass(cls):
        cls.docs = k8s_docs()
        cls.by = {(d["kind"], d["metadata"]["name"]): d for _, _, d in cls.docs}

    def test_well_formed(self):
        self.assertTrue(self.docs, "no manifest under scripts/k8s")
        if yamllint is None:
            print("\n*** SKIPPED: yamllint is not importable: the YAML lint was NOT "
                  "run ***", file=sys.stderr)
        else:
            conf = yamllint.config.YamlLintConfig(
                "extends: default\nrules: {line-length: {max: 100}, document-start: disable,"
                " comments: {min-spaces-from-content: 1}, braces: {max-spaces-inside: 1}}")
            for path in glob.glob(os.path.join(K8S, "*.yaml")):
                with open(path, encoding="utf-8") as f:
                    probs = [p for p in yamllint.linter.run(f, conf)]
                self.assertEqual([], ["%s:%d:%d: %s" % (path, p.line, p.column, p.message)
                                      for p in probs])
        names = set()
        for where, i, d in self.docs:
            w = "%s[%d]" % (where, i)
            self.assertIn(d.get("kind"), API_VERSIONS, w)
            self.assertEqual(d.get("apiVersion"), API_VERSIONS[d["kind"]], w)
            md = d.get("metadata") or {}
            self.assertRegex(md.get("name", ""), DNS_LABEL, w)
            self.assertEqual(md.get("namespace"), "cwsweep", w)
            self.assertNotIn((d["kind"], md["name"]), names, "%s: defined twice" % w)
            names.add((d["kind"], md["name"]))
            self.assertNotEqual(d["kind"], "Secret", "%s: no secret in the repository" % w)

    def walk(self, where, value, typ):
        """Every key of value known to the model typ (a python3-kubernetes
        type string), recursively; the types of leaves."""
        m = re.match(r"^list\[(.+)\]$", typ)
        if m:
            self.assertIsInstance(value, list, where)
            for i, v in enumerate(value):
                self.walk("%s[%d]" % (where, i), v, m.group(1))
            return
        if typ.startswith("dict("):
            self.assertIsInstance(value, dict, where)
            for k, v in value.items():
                self.assertIsInstance(v, str, "%s.%s" % (where, k))
            return
        if typ in ("str", "datetime"):
            self.assertIsInstance(value, str, where)
            return
        if typ == "int":
            self.assertTrue(isinstance(value, int) and not isinstance(value, bool), where)
            return
        if typ == "bool":
            self.assertIsInstance(value, bool, where)
            return
        if typ == "object":  # int-or-string quantities and the like
            return
        model = getattr(kclient, typ)
        self.assertIsInstance(value, dict, where)
        known = {v: k for k, v in model.attribute_map.items()}
        for k, v in value.items():
            if (typ, k) in NEWER_FIELDS:
                continue
            self.assertIn(k, known, "%s: %s has no field %r" % (where, typ, k))
            self.walk("%s.%s" % (where, k), v, model.openapi_types[known[k]])

    def test_schema(self):
        if kclient is None:
            print("\n*** SKIPPED: python3-kubernetes is not importable: the manifests were "
                  "NOT checked against the Kubernetes API models ***", file=sys.stderr)
            self.skipTest("python3-kubernetes")
        api = kclient.ApiClient()
        for where, i, d in self.docs:
            typ = "V1" + d["kind"]
            self.walk("%s[%d]" % (where, i), d, typ)
            # the models' constructors refuse a missing required field
            api._ApiClient__deserialize(d, typ)
        for where, i, d in self.docs:
            if d["kind"] in ("CronJob", "Job"):
                pfp = job_spec(d).get("podFailurePolicy")
                if pfp is not None:
                    self.assertEqual(set(pfp), {"rules"})
                    for r in pfp["rules"]:
                        self.assertIn(r["action"], ("FailJob", "FailIndex", "Ignore", "Count"))
                        self.assertEqual(set(r) - {"action", "onExitCodes",
                                                   "onPodConditions"}, set())
                        if "onExitCodes" in r:
                            self.assertIn(r["onExitCodes"]["operator"], ("In", "NotIn"))
                            self.assertTrue(all(isinstance(c, int)
                                                for c in r["onExitCodes"]["values"]))
                tz = d["spec"].get("timeZone") if d["kind"] == "CronJob" else None
                if tz is not None:
                    self.assertTrue(os.path.exists(os.path.join("/usr/share/zoneinfo", tz))
                                    or tz == "Etc/UTC", tz)

    def cwsweep_containers(self):
        """(where, container, argv) of every container running cwsweep."""
        out = []
        for _, _, d in self.docs:
            for w, spec in pod_specs(d):
                for kind in ("initContainers", "containers"):
                    for c in spec.get(kind, []):
                        if "cwsweep:" in c["image"]:
                            self.assertNotIn("command", c, "the image's ENTRYPOINT is "
                                             "cwsweep: give args")
                            out.append(("%s %s %s/%s" % (d["metadata"]["name"], w, kind,
                                                        c["name"]), c, d, c["args"]))
        return out

    def test_command_lines_and_environment(self):
        cs = self.cwsweep_containers()
        self.assertEqual(sorted(c[3][0] for c in cs), ["merge", "run"])
        for where, c, d, argv in cs:
            self.check_argv(where, argv, lambda a: re.sub(r"\$\((\w+)\)", "run-1", a))
            names = [e["name"] for e in c.get("env", [])]
            self.assertEqual(len(names), len(set(names)), where)
            self.check_env(where, names, argv)
            for e in c.get("env", []):
                if SECRETISH.search(e["name"]):
                    self.assertNotIn("value", e, "%s: %s in clear" % (where, e["name"]))

    def test_the_shards_and_the_merge_fit_together(self):
        shards = self.by[("CronJob", "cwsweep-shards")]
        nightly = self.by[("CronJob", "cwsweep-nightly")]
        self.assertTrue(shards["spec"]["suspend"], "the shards start only from the nightly Job")
        js = job_spec(shards)
        self.assertEqual(js["completionMode"], "Indexed")
        pod = js["template"]["spec"]
        self.assertEqual(pod["restartPolicy"], "Never")
        (c,) = pod["containers"]
        args = c["args"]
        n = int(args[args.index("--shard") + 1].split("/")[1])
        self.assertEqual(args[args.index("--shard") + 1], "index/%d" % n)
        self.assertEqual(js["completions"], n, "completions == N of --shard index/N")
        self.assertEqual(js["parallelism"], n, "parallelism == N")
        self.assertIn("--hand-off", args)
        # exit 2 (usage) would fail again: it fails the Job at once
        rules = js["podFailurePolicy"]["rules"]
        self.assertIn({"action": "FailJob", "onExitCodes": {"containerName": c["name"],
                                                            "operator": "In", "values": [2]}},
                      rules)
        # the shards' RUN is their Job's name
        run_env = {e["name"]: e for e in c["env"]}
        handoff = args[args.index("--hand-off") + 1]
        (var,) = re.findall(r"\$\((\w+)\)", handoff)
        self.assertEqual(run_env[var]["valueFrom"]["fieldRef"]["fieldPath"],
                         "metadata.labels['batch.kubernetes.io/job-name']")

        njs = job_spec(nightly)
        self.assertEqual(njs["backoffLimit"], 0, "a retried merge would post twice")
        self.assertEqual(nightly["spec"]["concurrencyPolicy"], "Forbid")
        self.assertEqual(len(nightly["spec"]["schedule"].split()), 5)
        npod = njs["template"]["spec"]
        self.assertEqual(npod["restartPolicy"], "Never")
        (init,) = npod["initContainers"]
        script = init["command"][-1]
        m = re.search(r'kubectl create job "\$JOB_NAME(-\w+)" --from=cronjob/([\w-]+)', script)
        self.assertIsNotNone(m, script)
        self.assertEqual(m.group(2), "cwsweep-shards")
        (merge,) = npod["containers"]
        # the prefix merge reads is the one the shards hand off to
        nightly_job = "cwsweep-nightly-29000000"
        shard_url = handoff.replace("$(%s)" % var, nightly_job + m.group(1))
        merge_url = merge["args"][1].replace("$(JOB_NAME)", nightly_job)
        self.assertEqual(merge_url, shard_url)
        check_merge_outputs(self, merge["args"], merge_url, args)
        mounts = {m["mountPath"] for m in merge.get("volumeMounts", [])}
        self.assertIn(os.path.dirname(merge["args"][merge["args"].index("--inventory") + 1]),
                      mounts)
        for e in init["env"] + merge["env"]:
            if e["name"] == "JOB_NAME":
                self.assertEqual(e["valueFrom"]["fieldRef"]["fieldPath"],
                                 "metadata.labels['batch.kubernetes.io/job-name']")
        # the merge pod may start exactly that CronJob's Job
        sa = npod["serviceAccountName"]
        self.assertIn(("ServiceAccount", sa), self.by)
        self.assertIn(("ServiceAccount", pod["serviceAccountName"]), self.by)
        bindings = [d for (k, _), d in self.by.items() if k == "RoleBinding" and
                    any(s["name"] == sa for s in d["subjects"])]
        self.assertEqual(len(bindings), 1)
        role = self.by[("Role", bindings[0]["roleRef"]["name"])]
        verbs = {(r["resources"][0], v) for r in role["rules"] for v in r["verbs"]}
        self.assertTrue({("cronjobs", "get"), ("jobs", "create"), ("jobs", "get")} <= verbs)
        cron_rule = [r for r in role["rules"] if r["resources"] == ["cronjobs"]][0]
        self.assertEqual(cron_rule["resourceNames"], ["cwsweep-shards"])

    def test_every_shard_gets_the_run_s_one_at(self):
        """The nightly Job's init script, run with a stand-in `kubectl`: the
        shards' Job it creates carries CWSWEEP_AT (the scheduled time the
        CronJob put on the nightly Job, else its creation time) in its pod
        template, and the shard's `--at $(CWSWEEP_AT)` is a time cwsweep
        takes; the template's own empty value is refused (exit 2)."""
        shards = self.by[("CronJob", "cwsweep-shards")]
        nightly = self.by[("CronJob", "cwsweep-nightly")]
        (c,) = job_spec(shards)["template"]["spec"]["containers"]
        args = c["args"]
        self.assertEqual(args[args.index("--at") + 1], "$(CWSWEEP_AT)")
        env = {e["name"]: e for e in c["env"]}
        self.assertEqual(env["CWSWEEP_AT"].get("value"), "")
        (init,) = job_spec(nightly)["template"]["spec"]["initContainers"]
        self.assertEqual(init["command"][:2], ["/bin/sh", "-c"])
        tmp = tempfile.mkdtemp(prefix="cwkubectl-")
        try:
            tpl = os.path.join(tmp, "cronjob.json")
            with open(tpl, "w", encoding="utf-8") as f:
                json.dump(shards, f)
            kubectl = os.path.join(tmp, "kubectl")
            # get / create --dry-run / set env --local / create -f, as kubectl
            # does them, on the CronJob of the manifest
            with open(kubectl, "w", encoding="utf-8") as f:
                f.write("""#!%s
import json, os, sys
a = sys.argv[1:]
rec = os.path.join(%r, "created.json")
def opt(name):
    return a[a.index(name) + 1]
if a[:2] == ["get", "job"]:
    jp = opt("-o")
    if a[2].endswith("-shards"):
        print("Complete" if os.path.exists(rec) else "")
    elif "cronjob-scheduled-timestamp" in jp:
        assert jp == "jsonpath={.metadata.annotations.batch\\.kubernetes\\.io/" \
                     "cronjob-scheduled-timestamp}", jp
        print(os.environ.get("SCHEDULED", ""), end="")
    else:
        assert jp == "jsonpath={.metadata.creationTimestamp}", jp
        print("2026-12-07T02:00:07Z", end="")
elif a[:2] == ["create", "job"]:
    assert a[3] == "--from=cronjob/cwsweep-shards" and "--dry-run=client" in a, a
    cj = json.load(open(%r))
    print(json.dumps({"apiVersion": "batch/v1", "kind": "Job",
                      "metadata": {"name": a[2], "namespace": "cwsweep"},
                      "spec": cj["spec"]["jobTemplate"]["spec"]}))
elif a[:2] == ["set", "env"]:
    assert "--local" in a, a
    job = json.load(open(opt("-f")))
    k, v = a[-3].split("=", 1) if a[-2] == "-o" else (None, None)
    for c in job["spec"]["template"]["spec"]["containers"]:
        if c["name"] == opt("-c"):
            c["env"] = [e for e in c.get("env", []) if e["name"] != k] + \
                [{"name": k, "value": v}]
    print(json.dumps(job))
elif a[:2] == ["create", "-f"]:
    os.rename(a[2], rec)
else:
    sys.exit("kubectl stand-in: unexpected %%r" %% a)
""" % (sys.executable, tmp, tpl))
            os.chmod(kubectl, stat.S_IRWXU)
            script = init["command"][2].replace("/tmp/", tmp + "/")
            for scheduled, want in (("2026-12-07T02:00:00Z", "2026-12-07T02:00:00Z"),
                                    ("", "2026-12-07T02:00:07Z")):
                rec = os.path.join(tmp, "created.json")
                if os.path.exists(rec):
                    os.unlink(rec)
                p = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True,
                                   timeout=30, env={"PATH": tmp + ":/usr/bin:/bin",
                                                    "JOB_NAME": "cwsweep-nightly-29000000",
                                                    "SCHEDULED": scheduled, "HOME": tmp})
                self.assertEqual(p.returncode, 0, p.stderr)
                with open(rec, encoding="utf-8") as f:
                    job = json.load(f)
                self.assertEqual(job["metadata"]["name"], "cwsweep-nightly-29000000-shards")
                (sc,) = job["spec"]["template"]["spec"]["containers"]
                got = [e for e in sc["env"] if e["name"] == "CWSWEEP_AT"]
                self.assertEqual(got, [{"name": "CWSWEEP_AT", "value": want}])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        # what the shards' args become: a time cwsweep takes; the
        # template's empty default is a usage error, never some other day
        for value, code in (("2026-12-07T02:00:00Z", 0), ("2026-12-07T03:00:00+01:00", 0),
                            ("", 2)):
            p = subprocess.run([BIN, "run", "--at", value, "--help"], capture_output=True,
                               text=True, timeout=30,
                               env={"PATH": "/usr/bin:/bin", **clock_env()})
            self.assertEqual(p.returncode, code, (value, p.stderr))

    def test_the_inventory_validates(self):
        cm = self.by[("ConfigMap", "cwsweep-inventory")]
        tmp = tempfile.mkdtemp(prefix="cwdeploy-")
        try:
            inv = os.path.join(tmp, "accounts.yaml")
            with open(inv, "w", encoding="utf-8") as f:
                f.write(cm["data"]["accounts.yaml"])
            p = subprocess.run([BIN, "validate", "-i", inv], capture_output=True, text=True,
                               timeout=30, env={"HOME": tmp, "PATH": "/usr/bin:/bin",
                                                 **clock_env()})
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        mounts = {m["mountPath"] for _, c, _, a in self.cwsweep_containers()
                  for m in c.get("volumeMounts", [])}
        self.assertIn("/etc/cwsweep", mounts)


class Batch(CommandLines):

    @classmethod
    def setUpClass(cls):
        cls.shard_def = read_json("shard-job-definition.json")
        cls.merge_def = read_json("merge-job-definition.json")
        cls.submit_shards = read_json("submit-shards.json")
        cls.submit_merge = read_json("submit-merge.json")

    def test_requests_match_the_batch_api(self):
        if botocore is None:
            print("\n*** SKIPPED: botocore is not importable: the Batch JSON was NOT checked "
                  "against the AWS Batch API model ***", file=sys.stderr)
            self.skipTest("botocore")
        model = botocore.session.get_session().get_service_model("batch")
        for name, op, doc in (("shard-job-definition.json", "RegisterJobDefinition",
                               self.shard_def),
                              ("merge-job-definition.json", "RegisterJobDefinition",
                               self.merge_def),
                              ("submit-shards.json", "SubmitJob", self.submit_shards),
                              ("submit-merge.json", "SubmitJob", self.submit_merge)):
            report = ParamValidator().validate(doc, model.operation_model(op).input_shape)
            self.assertFalse(report.has_errors(), "%s: %s" % (name, report.generate_report()))

    def test_job_definitions(self):
        for d in (self.shard_def, self.merge_def):
            self.assertRegex(d["jobDefinitionName"], r"^[A-Za-z0-9_-]{1,128}$")
            self.assertEqual(d["type"], "container")
            cp = d["containerProperties"]
            res = {r["type"]: r["value"] for r in cp["resourceRequirements"]}
            self.assertEqual(set(res), {"VCPU", "MEMORY"})
            if "FARGATE" in d.get("platformCapabilities", []):
                self.assertIn("executionRoleArn", cp, "Fargate pulls with the execution role")
                self.assertIn("networkConfiguration", cp)
            self.assertNotEqual(cp.get("user", "0"), "0")
            self.assertNotIn("privileged", cp)
            for e in cp.get("environment", []):
                self.assertIsNone(SECRETISH.search(e["name"]), "%s in clear" % e["name"])
            refs = re.findall(r"^Ref::(\w+)$", " ".join(cp["command"]), re.M)
            refs = [a[5:] for a in cp["command"] if a.startswith("Ref::")]
            self.assertTrue(all(r in d["parameters"] for r in refs), refs)
            names = [e["name"] for e in cp.get("environment", []) + cp.get("secrets", [])]
            self.check_env(d["jobDefinitionName"], names, cp["command"])
            self.check_argv(d["jobDefinitionName"], cp["command"],
                            lambda a: "s3://acme-cwsweep-reports/nightly/run-1/"
                            if a.startswith("Ref::") else a)
        # exit 2 (usage) would fail again; anything else (a lost instance, a
        # failed upload) is tried again
        rs = self.shard_def["retryStrategy"]
        self.assertGreaterEqual(rs["attempts"], 2)
        self.assertEqual(rs["evaluateOnExit"][0], {"onExitCode": "2", "action": "EXIT"})
        self.assertEqual(self.merge_def["retryStrategy"]["attempts"], 1,
                         "a retried merge would post the digest twice")

    def test_array_job_and_merge_fit_together(self):
        cmd = self.shard_def["containerProperties"]["command"]
        self.assertEqual(cmd[0], "run")
        shard = cmd[cmd.index("--shard") + 1]
        self.assertRegex(shard, r"^index/\d+$", "K from AWS_BATCH_JOB_ARRAY_INDEX")
        n = int(shard.split("/")[1])
        self.assertEqual(self.submit_shards["arrayProperties"]["size"], n,
                         "arrayProperties.size == N of --shard index/N")
        self.assertTrue(2 <= n <= 10000, "an array job has 2 to 10,000 children")
        self.assertEqual(cmd[cmd.index("--hand-off") + 1], "Ref::handoff")
        # one --at for the whole array, fixed at submission; not given, the
        # default is refused by cwsweep (exit 2) rather than a guess
        self.assertEqual(cmd[cmd.index("--at") + 1], "Ref::at")
        p = subprocess.run([BIN, "run", "--at", self.shard_def["parameters"]["at"], "--help"],
                           capture_output=True, text=True, timeout=30,
                           env={"PATH": "/usr/bin:/bin", **clock_env()})
        self.assertEqual(p.returncode, 2, "the default --at must not be a time")
        mcmd = self.merge_def["containerProperties"]["command"]
        self.assertEqual(mcmd[:2], ["merge", "Ref::handoff"])
        check_merge_outputs(self, mcmd, self.submit_merge["parameters"]["handoff"], cmd)
        self.assertEqual(self.submit_shards["jobDefinition"], self.shard_def["jobDefinitionName"])
        self.assertEqual(self.submit_merge["jobDefinition"], self.merge_def["jobDefinitionName"])
        self.assertEqual(self.submit_shards["parameters"]["handoff"],
                         self.submit_merge["parameters"]["handoff"])
        self.assertEqual(len(self.submit_merge["dependsOn"]), 1)
        self.assertNotIn("type", self.submit_merge["dependsOn"][0],
                         "merge waits for the whole array (not N_TO_N)")
        self.assertNotIn("arrayProperties", self.submit_merge)

    def test_submit_chains_the_jobs(self):
        """scripts/batch/submit with a stand-in `aws` that records its calls."""
        tmp = tempfile.mkdtemp(prefix="cwbatch-")
        try:
            log = os.path.join(tmp, "calls.jsonl")
            aws = os.path.join(tmp, "aws")
            with open(aws, "w", encoding="utf-8") as f:
                f.write("#!%s\nimport json, sys\n"
                        "with open(%r, 'a') as f:\n"
                        "    f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
                        "n = sum(1 for _ in open(%r))\n"
                        "print('job-%%d' %% n)\n" % (sys.executable, log, log))
            os.chmod(aws, stat.S_IRWXU)
            env = {"PATH": tmp + ":/usr/bin:/bin"}
            p = subprocess.run([os.path.join(BATCH, "submit"), "nightly-20261207T0200Z",
                                "2026-12-07T02:00:00Z"],
                               capture_output=True, text=True, env=env, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(log, encoding="utf-8") as f:
                calls = [json.loads(line) for line in f]
            self.assertEqual(len(calls), 2)
            arr, mrg = calls
            self.assertEqual(arr[:2], ["batch", "submit-job"])
            self.assertIn("file://%s/submit-shards.json" % BATCH, arr)
            self.assertIn("file://%s/submit-merge.json" % BATCH, mrg)
            want = "handoff=s3://acme-cwsweep-reports/nightly/nightly-20261207T0200Z/"
            # the array job gets the run's one --at; every child judges it
            self.assertEqual(arr[arr.index("--parameters") + 1],
                             want + ",at=2026-12-07T02:00:00Z")
            self.assertEqual(mrg[mrg.index("--parameters") + 1], want)
            self.assertEqual(mrg[mrg.index("--depends-on") + 1], "jobId=job-1")
            self.assertIn("shards job-1, merge job-2", p.stdout)
            # without RUN and AT: both from one reading of the clock
            os.unlink(log)
            p = subprocess.run([os.path.join(BATCH, "submit")], capture_output=True,
                               text=True, env={**env, **clock_env()}, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(log, encoding="utf-8") as f:
                arr = json.loads(f.readline())
            m = re.fullmatch(r"handoff=s3://acme-cwsweep-reports/nightly/nightly-(\d{8})T"
                             r"(\d{4})Z/,at=(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):\d\dZ",
                             arr[arr.index("--parameters") + 1])
            self.assertIsNotNone(m, arr)
            self.assertEqual(m.group(1) + m.group(2), "".join(m.group(i) for i in range(3, 8)))
            r = subprocess.run([BIN, "run", "--at", m.group(0).split(",at=")[1], "--help"],
                               capture_output=True, text=True, timeout=30,
                               env={"PATH": "/usr/bin:/bin", **clock_env()})
            self.assertEqual(r.returncode, 0, "cwsweep takes the --at: " + r.stderr)
            for argv in (["bad name"], ["run-1", "yesterday"], ["run-1", "2026-12-07"]):
                p = subprocess.run([os.path.join(BATCH, "submit")] + argv,
                                   capture_output=True, text=True, env=env, timeout=30)
                self.assertEqual(p.returncode, 2, argv)
            if shutil.which("shellcheck"):
                p = subprocess.run(["shellcheck", os.path.join(BATCH, "submit")],
                                   capture_output=True, text=True, timeout=60)
                self.assertEqual(p.returncode, 0, p.stdout)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class Container(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        with open(DOCKERFILE, encoding="utf-8") as f:
            text = f.read()
        # instructions, continuation lines joined, comments dropped
        text = re.sub(r"\\\n", " ", "\n".join(ln for ln in text.splitlines()
                                             if not ln.lstrip().startswith("#")))
        cls.ins = [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1].strip())
                   for ln in text.splitlines() if ln.strip()]
        stages, cur = [], None
        for op, arg in cls.ins:
            if op == "FROM":
                cur = []
                stages.append((arg, cur))
            cur.append((op, arg))
        cls.stages = stages

    def runtime_packages(self):
        runs = [arg for op, arg in self.stages[-1][1] if op == "RUN" and "apt-get install" in arg]
        self.assertEqual(len(runs), 1)
        words = shlex.split(runs[0].split("apt-get install", 1)[1].split("&&")[0])
        return [w for w in words if not w.startswith("-")]

    def test_stages(self):
        self.assertEqual(len(self.stages), 2, "build and runtime")
        self.assertEqual(self.stages[0][0], "debian:12-slim AS build")
        self.assertEqual(self.stages[1][0], "debian:12-slim")
        build = " ".join(arg for op, arg in self.stages[0][1] if op == "RUN")
        self.assertIn("scripts/install-deps", build)
        self.assertNotIn("--test", build)
        self.assertIn("--target cwsweep", build)
        rt = self.stages[1][1]
        users = [arg for op, arg in rt if op == "USER"]
        self.assertEqual(len(users), 1)
        self.assertNotIn(users[0].split(":")[0], ("0", "root"))
        copies = [arg for op, arg in rt if op == "COPY"]
        self.assertEqual(copies, ["--from=build /build/cwsweep /usr/local/bin/cwsweep"])
        self.assertIn(("ENTRYPOINT", '["/usr/local/bin/cwsweep"]'), rt)
        for p in self.runtime_packages():
            self.assertFalse(p.endswith("-dev"), p)

    def test_no_secret_baked_in(self):
        for op, arg in self.ins:
            if op in ("ENV", "ARG", "LABEL"):
                self.assertIsNone(SECRETISH.search(arg), "%s %s" % (op, arg))
            if op in ("COPY", "ADD"):
                for bad in (".aws", "credentials", "config.env", "accounts.yaml", ".env"):
                    self.assertNotIn(bad, arg, "%s %s" % (op, arg))

    def test_runtime_packages_provide_every_linked_library(self):
        if not shutil.which("dpkg"):
            self.skipTest("not a Debian system")
        # what the binary links, not what this test's environment preloads
        # (the suite's faketime pass sets LD_PRELOAD)
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        p = subprocess.run(["ldd", BIN], capture_output=True, text=True, timeout=30, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        # a sanitizer build (-DCWSWEEP_SANITIZE) links its runtime too; the
        # image builds a Release binary
        libs = [lib for lib in re.findall(r"=>\s+(/\S+)", p.stdout)
                if not re.match(r"lib(asan|ubsan|tsan|lsan)\.so", os.path.basename(lib))]
        self.assertTrue(libs)

        def owner(path):
            for cand in (path, os.path.realpath(path), "/usr" + path,
                         path.replace("/usr/lib/", "/lib/")):
                q = subprocess.run(["dpkg", "-S", cand], capture_output=True, text=True)
                if q.returncode == 0:
                    return q.stdout.split(":")[0].split(",")[0].strip()
            self.fail("no Debian package owns %s" % path)

        def depends(pkg):
            q = subprocess.run(["dpkg-query", "-W", "-f=${Depends},${Pre-Depends}", pkg],
                               capture_output=True, text=True)
            out = set()
            for alt in q.stdout.split(","):
                for d in alt.split("|"):
                    d = d.strip().split(" ")[0].split(":")[0]
                    if d:
                        out.add(d)
            return out

        def closure(pkgs):
            have, todo = set(), list(pkgs)
            while todo:
                pkg = todo.pop()
                if pkg not in have:
                    have.add(pkg)
                    todo.extend(depends(pkg))
            return have

        # what debian:12-slim has: the essential and required packages and
        # what they depend on (libc6 among them)
        q = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Essential} ${Priority}\n"],
                           capture_output=True, text=True)
        base = closure(ln.split()[0] for ln in q.stdout.splitlines()
                       if ln.split()[1:2] == ["yes"] or ln.split()[2:3] == ["required"])

        def essential(pkg):
            return pkg in base

        have = closure(self.runtime_packages())
        missing = sorted({(lib, owner(lib)) for lib in libs
                          if owner(lib) not in have and not essential(owner(lib))})
        self.assertEqual(missing, [], "libraries whose package the runtime stage does not "
                         "install: %s" % missing)
        # and the binary's own NEEDED libraries are named (or in the base
        # image), not only pulled in by chance
        p = subprocess.run(["readelf", "-d", BIN], capture_output=True, text=True)
        direct = [lib for lib in re.findall(r"NEEDED\).*\[(.+)\]", p.stdout)
                  if not re.match(r"lib(asan|ubsan|tsan|lsan)\.so", lib)]
        named = set(self.runtime_packages())
        for lib in direct:
            path = [x for x in libs if os.path.basename(x) == lib]
            pkg = owner(path[0])
            self.assertTrue(pkg in named or essential(pkg), "%s (%s) is not named in the "
                            "runtime stage" % (lib, pkg))


if __name__ == "__main__":
    missing = [n for n, m in (("python3-kubernetes", kclient), ("botocore", botocore),
                              ("yamllint", yamllint)) if m is None]
    if missing:
        print("\n*** SKIPPED parts: %s not importable (scripts/install-deps --test) ***\n"
              % ", ".join(missing), file=sys.stderr)
    unittest.main(verbosity=2)
