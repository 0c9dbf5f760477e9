#!/usr/bin/env python3
"""reporting.publish against moto_server's S3, an independent emulator: the
reports are uploaded (PutObject with SSE-S3) and the presigned link from the
Slack payload opens report.html there.  (moto checks signatures only with
its IAM emulation on; test_cli's Publish test has the fake endpoint refuse
a changed signature, with botocore's presigner.)  Skipped, loudly, where
moto_server is not on PATH.
"""

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_moto import MOTO, Moto, BASE, NOW, DAY, GB  # noqa: E402
import fakehelper  # noqa: E402  (test_moto put its folder on the path)

BIN = os.environ.get("CW_BIN", "")
INVENTORY = """\
accounts:
  - id: "123456789012"
    name: caller
    regions: [us-east-1]
    buckets: [pub-spiky]
reporting:
  formats: [md, html]
  publish: s3://cwsweep-reports/nightly/
  publish_region: us-east-1
  publish_link_expiry: 1h
"""


@unittest.skipUnless(MOTO, "moto_server not on PATH")
class MotoPublish(unittest.TestCase):
    def test_upload_and_presigned_link(self):
        tmp = tempfile.mkdtemp(prefix="cwmotopub-")
        moto = Moto()
        moto.start()
        try:
            c = http.client.HTTPConnection("127.0.0.1", moto.port, timeout=10)
            c.request("PUT", "/cwsweep-reports", headers={
                "Authorization": "AWS4-HMAC-SHA256 Credential=%s/20250101/us-east-1/s3/"
                                 "aws4_request, SignedHeaders=host, Signature=0" % BASE[0]})
            self.assertIn(c.getresponse().status, (200, 409), moto.output())
            c.close()
            # 35 days of 10 GB, yesterday x10: one finding, so one digest
            today = NOW - NOW % DAY
            pts = [("pub-spiky", today - ago * DAY + h * 3600,
                    (100 if ago == 1 else 10) * GB // 4)
                   for ago in range(1, 36) for h in (3, 9, 15, 21)]
            moto.put_metric_data(BASE + (None,), pts)
            inv = os.path.join(tmp, "inv.yaml")
            with open(inv, "w", encoding="utf-8") as f:
                f.write(INVENTORY)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp,
                   "AWS_ENDPOINT_URL": moto.url, "AWS_ACCESS_KEY_ID": BASE[0],
                   "AWS_SECRET_ACCESS_KEY": BASE[1], "AWS_REGION": "us-east-1",
                   "AWS_EC2_METADATA_DISABLED": "true",
                   "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_CONFIG_FILE": "/dev/null",
                   **fakehelper.clock_env()}
            at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW))
            p = subprocess.run([BIN, "run", "-i", inv, "-o", os.path.join(tmp, "out"),
                                "--no-state", "--slack-preview", "--at", at], env=env,
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 1, p.stderr + moto.output())
            self.assertIn("2 reports published to s3://cwsweep-reports/nightly/", p.stderr)
            self.assertNotIn("could not be published", p.stderr)
            doc = json.loads(p.stdout)
            foot = doc["blocks"][-1]["elements"][0]["text"]
            m = re.search(r"<(http://[^|>]+)\|the report>", foot)
            self.assertIsNotNone(m, foot)
            url = m.group(1).replace("&amp;", "&")
            with urllib.request.urlopen(url, timeout=10) as r:
                self.assertTrue(r.read().startswith(b"<!DOCTYPE html>"))
            # (moto checks signatures only with its IAM emulation on; the fake
            # endpoint's test refuses a changed signature, with botocore)
            self.assertIn("X-Amz-Expires=3600", url)
        finally:
            moto.stop()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if not MOTO:
        print("\n*** SKIPPED: moto_server is not on PATH: publishing was NOT checked "
              "against moto's S3 ***\n", file=sys.stderr)
    unittest.main(verbosity=2)
