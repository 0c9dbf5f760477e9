#!/usr/bin/env python3
"""Generate tests/data/sigv4/vectors.json with botocore's own SigV4 signer.

The vectors are the requests cwsweep really sends: CloudWatch AWS JSON 1.0
POSTs (GetMetricData, ListMetrics) and STS AssumeRole form POSTs, each with
and without a session token, plus two requests that exercise the query
string and an already-encoded path.  tests/unit/check_sigv4.c signs every
vector with cwsweep's signer and compares the canonical request, the string
to sign, the signature and the Authorization value byte for byte.

Usage: scripts/gen-sigv4-vectors.py [OUTPUT]   (default: the file above)
The credentials below are made up; nothing here reaches AWS.
"""
import datetime
import json
import os
import sys
import urllib.parse
from unittest import mock

import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS_KEY = "AKIDCWSWEEPEXAMPLE01"
SECRET_KEY = "k3Y+/cwsweep/EXAMPLE+secret/AbCdEfGhIjKlMnOpQrStU="
# Session tokens have no fixed size; this one is long and full of + / =.
SESSION_TOKEN = (
    "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+cwsweep/"
    "token+with/plus+and/slash==AiBfZXhhbXBsZS90b2tlbi8rKysvLy89PT0KKpYDCBA"
    "QARoMMTExMTExMTExMTExIgx+EXAMPLE/EXAMPLE+EXAMPLE/EXAMPLE+EXAMPLE/EXAMP"
    "LE+EXAMPLE/EXAMPLE+EXAMPLE/EXAMPLE+EXAMPLE/EXAMPLE+EXAMPLE/EXAMPLE+EXA"
    "MPLE/EXAMPLE+EXAMPLE/EXAMPLE+EXAMPLE/EXAMPLE+EXAMPLE/EXAMPLE+EXAMPLE/E"
    "XAMPLE+EXAMPLE/EXAMPLE+EXAMPLE/EXAMPLE+EXAMPLE/EXAMPLE+EXAMPLE/EXAMPLE"
    "+EXAMPLE/EXAMPLE+EXAMPLE/EXAMPLE+EXAMPLE/EXAMPLE+EXAMPLE/EXAMPLE+EXAMP"
    "LE/EXAMPLE+EXAMPLE/EXAMPLE+EXAMPLE/EXAMPLE+EXAMPLE/EXAMPLE+EXAMPLE/EXA"
    "MPLE+EXAMPLE/EXAMPLE+EXAMPLE/EXAMPLE+EXAMPLE/EXAMPLE+EXAMPLE/EXAMPLE+E"
    "XAMPLE/EXAMPLE+EXAMPLE/EXAMPLE+EXAMPLE/EXAMPLE+EXAMPLE/EXAMPLE+Ew==")

TIMES = [
    datetime.datetime(2024, 6, 11, 8, 30, 0, tzinfo=datetime.timezone.utc),
    # one second before midnight: the scope date and x-amz-date must agree
    datetime.datetime(2025, 1, 31, 23, 59, 59, tzinfo=datetime.timezone.utc),
]


def gmd_body(start, end):
    queries = []
    for i, bucket in enumerate(["finops-logs", "cdn-origin.example.com", "data_lake-raw"]):
        queries.append({
            "Id": "m%d" % i,
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/S3",
                    "MetricName": "BytesDownloaded",
                    "Dimensions": [
                        {"Name": "BucketName", "Value": bucket},
                        {"Name": "FilterId", "Value": "EntireBucket"},
                    ],
                },
                "Period": 3600,
                "Stat": "Sum",
            },
            "ReturnData": True,
        })
    return json.dumps({
        "MetricDataQueries": queries,
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampDescending",
        "MaxDatapoints": 100800,
    }, separators=(",", ":"))


def form(params):
    # what the Query protocol sends: every reserved character percent-encoded
    return "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"),
                               urllib.parse.quote(v, safe="-_.~"))
                    for k, v in params)


ASSUME_ROLE = [
    ("Action", "AssumeRole"),
    ("Version", "2011-06-15"),
    ("RoleArn", "arn:aws:iam::111111111111:role/finops/cw+sweep=reader,ro@org"),
    ("RoleSessionName", "cwsweep-111111111111@2024-06-11"),
    ("ExternalId", "org/finops:cw+sweep=1,a@b c/d"),
    ("DurationSeconds", "3600"),
]


def requests():
    """(name, method, url, headers, body, region, service, time)"""
    out = []
    t0 = TIMES[0]
    end = int(t0.timestamp()) // 3600 * 3600
    for region, t in (("us-east-1", TIMES[0]), ("eu-west-1", TIMES[1])):
        host = "monitoring.%s.amazonaws.com" % region
        out.append(("monitoring-getmetricdata-" + region, "POST", "https://%s/" % host,
                    [("Host", host),
                     ("Content-Type", "application/x-amz-json-1.0"),
                     ("X-Amz-Target", "GraniteServiceVersion20100801.GetMetricData")],
                    gmd_body(end - 14 * 86400, end), region, "monitoring", t))
    host = "monitoring.us-east-1.amazonaws.com"
    out.append(("monitoring-listmetrics-us-east-1", "POST", "https://%s/" % host,
                [("Host", host),
                 ("Content-Type", "application/x-amz-json-1.0"),
                 ("X-Amz-Target", "GraniteServiceVersion20100801.ListMetrics")],
                json.dumps({"Namespace": "AWS/S3", "MetricName": "BytesDownloaded",
                            "Dimensions": [{"Name": "FilterId"}],
                            "NextToken": "eyJ0b2tlbiI6ICJhYmMrZGVmL2doaT0ifQ=="},
                           separators=(",", ":")),
                "us-east-1", "monitoring", TIMES[0]))
    for region, t in (("us-east-1", TIMES[0]), ("eu-west-1", TIMES[1])):
        host = "sts.%s.amazonaws.com" % region
        out.append(("sts-assumerole-" + region, "POST", "https://%s/" % host,
                    [("Host", host),
                     ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
                    form(ASSUME_ROLE), region, "sts", t))
    # The same call as a GET query (sorted by key, valueless key kept) and an
    # already-encoded path (signed encoded once more).
    host = "sts.us-east-1.amazonaws.com"
    q = form(list(reversed(ASSUME_ROLE)) + [("Flag", "")])
    out.append(("sts-assumerole-query-get", "GET", "https://%s/?%s" % (host, q),
                [("Host", host)], "", "us-east-1", "sts", TIMES[0]))
    out.append(("encoded-path-get", "GET",
                "https://%s/a%%20b/c%%2Bd/%%E1%%88%%B4/" % host,
                [("Host", host), ("My-Header", "  spaced   out  value ")],
                "", "us-east-1", "sts", TIMES[0]))
    return out


def sign(method, url, headers, body, region, service, when, token):
    req = AWSRequest(method=method, url=url, data=body.encode("utf-8"))
    for k, v in headers:
        req.headers[k] = v
    creds = Credentials(ACCESS_KEY, SECRET_KEY, token)
    auth = botocore.auth.SigV4Auth(creds, service, region)
    naive = when.replace(tzinfo=None)
    if hasattr(botocore.auth, "get_current_datetime"):
        patcher = mock.patch.object(botocore.auth, "get_current_datetime", lambda: naive)
    else:  # older botocore: datetime.datetime.utcnow()
        fake = mock.MagicMock(wraps=datetime)
        fake.datetime.utcnow.return_value = naive
        patcher = mock.patch.object(botocore.auth, "datetime", fake)
    with patcher:
        auth.add_auth(req)
    amz_date = req.context["timestamp"]
    assert amz_date == when.strftime("%Y%m%dT%H%M%SZ"), amz_date
    # Recompute the intermediate strings from the request as add_auth saw it
    # (before it added the Authorization header).
    authz = req.headers["Authorization"]
    del req.headers["Authorization"]
    cr = auth.canonical_request(req)
    sts = auth.string_to_sign(req, cr)
    sig = auth.signature(sts, req)
    assert authz.endswith("Signature=" + sig)
    return {"canonical_request": cr, "string_to_sign": sts, "signature": sig,
            "authorization": authz, "amz_date": amz_date}


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        root, "tests", "data", "sigv4", "vectors.json")
    vectors = []
    for name, method, url, headers, body, region, service, when in requests():
        parts = urllib.parse.urlsplit(url)
        for token in (None, SESSION_TOKEN):
            vectors.append({
                "name": name + ("-token" if token else ""),
                "method": method,
                "path": parts.path,
                "query": parts.query,
                "headers": [[k, v] for k, v in headers],
                "body": body,
                "region": region,
                "service": service,
                "time": int(when.timestamp()),
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "session_token": token,
                "expected": sign(method, url, headers, body, region, service, when, token),
            })
    doc = {
        "about": "SigV4 vectors signed by botocore's SigV4Auth; regenerate with "
                 "scripts/gen-sigv4-vectors.py. Made-up credentials.",
        "botocore_version": botocore.__version__,
        "vectors": vectors,
    }
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print("wrote %d vectors to %s" % (len(vectors), path))


if __name__ == "__main__":
    main()
