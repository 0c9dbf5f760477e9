"""SigV4 verification for the fake AWS endpoint.

Parses the Authorization header of a request and recomputes its signature.
Two verifiers compute the same thing:
  * botocore's own signer (botocore.auth.SigV4Auth) when botocore imports:
    an AWSRequest is rebuilt from the signed headers only, its timestamp is
    set to the request's X-Amz-Date, and the body hash is checked here first;
  * a small standard-library implementation otherwise (and for the rare
    request whose signed headers botocore would leave out of the canonical
    request, such as "expect").
Both are pure functions of their arguments, so any thread may call them;
the builtin one keeps derived signing keys in a dict (the derivation is a
pure function too, so a race only repeats work).
"""

import hashlib
import hmac
import re
from urllib.parse import quote, unquote, urlsplit

try:  # botocore is optional: the fake falls back to its own implementation
    from botocore.auth import SigV4Auth as _BotoSigV4Auth
    from botocore.auth import SIGNED_HEADERS_BLACKLIST as _BOTO_SKIPPED
    from botocore.awsrequest import AWSRequest as _BotoRequest
    from botocore.credentials import Credentials as _BotoCredentials
    HAVE_BOTOCORE = True
except Exception:  # pragma: no cover - depends on the machine
    HAVE_BOTOCORE = False
    _BOTO_SKIPPED = ()

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

_AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256\s+"
    r"Credential=(?P<cred>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<sh>[^,\s]+)\s*,\s*"
    r"Signature=(?P<sig>[0-9a-f]{64})\s*$")
_DATE_RE = re.compile(r"^\d{8}T\d{6}Z$")


class AuthParseError(Exception):
    """The Authorization header is not a well-formed SigV4 header."""


class ParsedAuth:
    """The parts of an Authorization header (no secret in here)."""

    __slots__ = ("access_key", "date", "region", "service", "signed_headers",
                 "signature")

    def __init__(self, access_key, date, region, service, signed_headers,
                 signature):
        self.access_key = access_key
        self.date = date
        self.region = region
        self.service = service
        self.signed_headers = signed_headers
        self.signature = signature


def parse_authorization(value):
    """Split a SigV4 Authorization header; raise AuthParseError when bad."""
    m = _AUTH_RE.match(value.strip())
    if not m:
        raise AuthParseError(
            "Authorization header requires 'Credential', 'Signature' and "
            "'SignedHeaders' parameters")
    cred = m.group("cred").split("/")
    if len(cred) != 5 or cred[4] != "aws4_request" or not all(cred):
        raise AuthParseError(
            "Credential should be scoped to a valid region, not '%s'. "
            % "/".join(cred[1:]))
    sh = m.group("sh").split(";")
    if any(not h or h != h.lower() for h in sh):
        raise AuthParseError("SignedHeaders must be lowercase names")
    return ParsedAuth(cred[0], cred[1], cred[2], cred[3], sh, m.group("sig"))


def valid_amz_date(value):
    return bool(value and _DATE_RE.match(value))


# ---- standard-library implementation -----------------------------------

def _remove_dot_segments(path):
    out = []
    for seg in path.split("/"):
        if not seg or seg == ".":
            continue
        if seg == "..":
            if out:
                out.pop()
            continue
        out.append(seg)
    res = "/" + "/".join(out)
    if path.endswith("/") and res != "/":
        res += "/"
    return res


def canonical_uri(path):
    """Normalized, then URI-encoded once more (non-S3 services)."""
    return quote(_remove_dot_segments(path or "/"), safe="/~")


def canonical_query(query):
    if not query:
        return ""
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        pairs.append((quote(unquote(k.replace("+", " ")), safe="-_.~"),
                      quote(unquote(v.replace("+", " ")), safe="-_.~")))
    pairs.sort()
    return "&".join("%s=%s" % kv for kv in pairs)


def _trimall(v):
    return " ".join(v.split())


def _hmac(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def _derive_key(secret, date, region, service):
    k = _hmac(("AWS4" + secret).encode("utf-8"), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    return _hmac(k, "aws4_request")


_KEY_CACHE = {}  # (secret, date, region, service) -> signing key
_KEY_CACHE_MAX = 4096


def signing_key(secret, date, region, service):
    """The SigV4 signing key, derived once per (secret, date, region,
    service). The cache is a plain dict: a lost race derives a key twice."""
    ck = (secret, date, region, service)
    k = _KEY_CACHE.get(ck)
    if k is None:
        k = _derive_key(secret, date, region, service)
        if len(_KEY_CACHE) >= _KEY_CACHE_MAX:
            _KEY_CACHE.clear()
        _KEY_CACHE[ck] = k
    return k


def builtin_signature(method, raw_path, headers, body_hash, auth, amz_date,
                      secret):
    """headers: dict lowercase name -> list of values (signed ones used)."""
    path, _, query = raw_path.partition("?")
    lines = []
    for name in auth.signed_headers:
        vals = headers.get(name, [])
        lines.append("%s:%s" % (name, ",".join(_trimall(v) for v in vals)))
    creq = "\n".join([
        method.upper(), canonical_uri(path), canonical_query(query),
        "\n".join(lines) + "\n", ";".join(auth.signed_headers), body_hash])
    scope = "%s/%s/%s/aws4_request" % (auth.date, auth.region, auth.service)
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(creq.encode("utf-8")).hexdigest()])
    key = signing_key(secret, auth.date, auth.region, auth.service)
    return hmac.new(key, sts.encode("utf-8"), hashlib.sha256).hexdigest()


def botocore_signature(method, raw_path, headers, body, auth, amz_date,
                       access_key, secret, token):
    """The signature botocore computes for the same signed request."""
    hdrs = {}
    for name in auth.signed_headers:
        hdrs[name] = ",".join(headers.get(name, []))
    host = hdrs.get("host", "localhost")
    req = _BotoRequest(method=method.upper(), url="http://%s%s" % (host, raw_path),
                       headers=hdrs, data=body)
    req.context["timestamp"] = amz_date
    signer = _BotoSigV4Auth(_BotoCredentials(access_key, secret, token),
                            auth.service, auth.region)
    creq = signer.canonical_request(req)
    sts = signer.string_to_sign(req, creq)
    return signer.signature(sts, req)


def compute_signature(method, raw_path, headers, body, auth, amz_date,
                      access_key, secret, token, prefer_botocore=True):
    """Returns (signature, verifier name). The body hash must be checked by
    the caller beforehand when X-Amz-Content-SHA256 is present."""
    use_boto = (prefer_botocore and HAVE_BOTOCORE
                and "host" in auth.signed_headers
                and not any(h in _BOTO_SKIPPED for h in auth.signed_headers))
    if use_boto:
        return (botocore_signature(method, raw_path, headers, body, auth,
                                   amz_date, access_key, secret, token),
                "botocore")
    if "x-amz-content-sha256" in headers:  # the caller checked it
        body_hash = headers["x-amz-content-sha256"][0].strip()
    else:
        body_hash = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
    return (builtin_signature(method, raw_path, headers, body_hash, auth,
                              amz_date, secret), "builtin")


def sign_request(method, url, headers, body, access_key, secret, region,
                 service, amz_date, token=None):
    """Client-side helper used by the self-test when botocore is absent:
    returns a new header dict with X-Amz-Date, token and Authorization."""
    parts = urlsplit(url)
    raw_path = parts.path or "/"
    if parts.query:
        raw_path += "?" + parts.query
    h = dict(headers)
    h["Host"] = parts.netloc
    h["X-Amz-Date"] = amz_date
    if token:
        h["X-Amz-Security-Token"] = token
    lower = {k.lower(): [v] for k, v in h.items()}
    signed = sorted(lower)
    auth = ParsedAuth(access_key, amz_date[:8], region, service, signed, "")
    body_hash = hashlib.sha256(body).hexdigest()
    sig = builtin_signature(method, raw_path, lower, body_hash, auth, amz_date,
                            secret)
    h["Authorization"] = (
        "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
        "SignedHeaders=%s, Signature=%s"
        % (access_key, amz_date[:8], region, service, ";".join(signed), sig))
    return h
