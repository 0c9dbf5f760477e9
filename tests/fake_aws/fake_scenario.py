"""Scenario model of the fake AWS endpoint: accounts, roles, buckets, series.

A scenario is a JSON file (see README.md). This module loads it, generates
the synthetic organisation of a "generate" block lazily (an account is built
the first time something asks for it), and turns each bucket's series
description into datapoints relative to a "now".

Series are generated at a base resolution (3600 s by default) for complete
days, cached per (series, UTC day of now); today's partial day is computed on
every call. Aggregation into a requested period is cached per
(series, day of now, period, period offset) as bins of (sum, count, min, max).

Answers are pre-serialised too: per (series, day of now, period, offset,
stat) the JSON text of the complete-day bins' values, ascending and
descending, sliceable by element (timestamps text shared by series with the
same bins), so a GetMetricData query is a few string slices; per
account-region and filter the metrics ListMetrics selects, each with its
JSON text. prewarm fills the daily Sum text of BytesDownloaded.

Thread safety: the caches are plain dicts filled under one lock; a value is
never modified after it has been stored, so readers need no lock.
"""

import array
import bisect
import collections
import datetime
import json
import json.encoder
import math
import threading
import zlib

DAY = 86400
# cache sizes (entries) above which a cache is emptied and refilled
BASE_CACHE_MAX = 200000
TS_CACHE_MAX = 10000
TEXTS_PER_SERIES = 16
LIST_CACHE_MAX = 20000

_dumps_compact = json.JSONEncoder(separators=(",", ":")).encode
_encode_str = json.encoder.encode_basestring_ascii


def _js(v):
    """Compact JSON text of a value, as json.dumps writes it."""
    return _encode_str(v) if type(v) is str else _dumps_compact(v)

REQUEST_METRICS = {
    # name: (unit, scale applied to the bucket's BytesDownloaded daily value)
    "BytesDownloaded": ("Bytes", 1.0),
    "BytesUploaded": ("Bytes", 0.08),
    "GetRequests": ("Count", 1.0 / 2.0e6),
    "AllRequests": ("Count", 1.25 / 2.0e6),
}
STORAGE_METRICS = {
    # name: (unit, storage type, scale on BytesDownloaded base)
    "BucketSizeBytes": ("Bytes", "StandardStorage", 30.0),
    "NumberOfObjects": ("Count", "AllStorageTypes", 30.0 / 2.0e6),
}


class ScenarioError(Exception):
    pass


def _diurnal_cum(res):
    """Cumulative share of a day's total reached at the end of each slot of
    res seconds: a smooth day curve (peak mid-afternoon UTC)."""
    n = DAY // res
    w = []
    for k in range(n):
        h = (k * res + res / 2.0) / 3600.0
        w.append(1.0 + 0.5 * math.sin(2 * math.pi * (h - 9.0) / 24.0))
    tot = sum(w)
    cum = [0.0]
    acc = 0.0
    for x in w:
        acc += x
        cum.append(acc / tot)
    cum[-1] = 1.0
    return cum


_CUM_CACHE = {}


def diurnal_cum(res):
    c = _CUM_CACHE.get(res)
    if c is None:
        c = _diurnal_cum(res)
        _CUM_CACHE[res] = c
    return c


# A series key that starts so names a template shared by many buckets (see
# "templates" in generate): its points and bins are cached once for all.
SHARED_PREFIX = "\x00template-"


def _shared_key(s):
    key = s.spec_args[1]
    if type(key) is str and key.startswith(SHARED_PREFIX):
        return (key, s.res, s.storage)
    return None


def unit_noise(key, day0):
    """Deterministic number in [-1, 1] for a series key and a UTC day."""
    h = zlib.crc32(("%s:%d" % (key, day0)).encode("utf-8"))
    return h / 2147483647.5 - 1.0


def weekday(day0):
    """0 = Monday .. 6 = Sunday for an epoch day start."""
    return (day0 // DAY + 3) % 7


class SeriesSpec:
    """How one metric of one bucket behaves over time."""

    def __init__(self, d, key, default_days=40, scale=1.0, daily_only=False):
        if not isinstance(d, dict):
            raise ScenarioError("series of %s: expected an object" % key)
        self.key = key
        self.base = float(d.get("base", 1.0e9)) * scale
        self.weekly = [float(x) for x in d.get("weekly", [1.0] * 7)]
        if len(self.weekly) != 7:
            raise ScenarioError("series of %s: weekly needs 7 multipliers" % key)
        self.noise = float(d.get("noise", 0.0))
        self.days = int(d.get("days", default_days))
        self.spikes = {}
        for s in d.get("spikes", []):
            da = int(s["days_ago"])
            self.spikes[da] = self.spikes.get(da, 1.0) * float(s.get("factor", 1.0))
        self.gaps = set(int(x) for x in d.get("gaps", []))
        daily = d.get("daily")
        self.daily = None
        if daily is not None:
            # explicit values for days_ago = len(daily) .. 1; today partial
            # repeats the last one; null = gap
            self.daily = [None if v is None else float(v) * scale for v in daily]
            self.days = len(self.daily) + 1
        self.integer = bool(d.get("integer", True))
        self.daily_only = daily_only
        # "weekday" (default): the weekly multipliers and the noise follow the
        # calendar (weekly[0] = Monday).  "days_ago": they follow the distance
        # from the series clock (weekly[d % 7] for the day d days ago), so a
        # sweep of the last complete day sees the same numbers on every
        # weekday: the demo uses it.
        self.rhythm = d.get("rhythm", "weekday")
        if self.rhythm not in ("weekday", "days_ago"):
            raise ScenarioError("series of %s: rhythm must be weekday or days_ago" % key)
        # month_to_date: the value of a day is the sum of the daily values
        # from the 1st of its month (UTC) to it, as AWS/Billing
        # EstimatedCharges; a gap day has no value, but its spend still counts
        self.month_to_date = bool(d.get("month_to_date", False))

    def day_value(self, day0, days_ago):
        """The full-day total of the day starting at day0 (None = gap)."""
        if not self.month_to_date:
            return self._day_value(day0, days_ago, True)
        if days_ago in self.gaps or days_ago >= self.days or days_ago < 0:
            return None
        d = datetime.datetime.fromtimestamp(day0, datetime.timezone.utc)
        first = day0 - (d.day - 1) * DAY
        total = 0.0
        for k in range((day0 - first) // DAY + 1):
            v = self._day_value(first + k * DAY, days_ago + (day0 - first) // DAY - k, False)
            # whole daily values add up exactly, wherever the month starts
            total += (math.floor(v) if self.integer else v) if v else 0.0
        return total

    def _day_value(self, day0, days_ago, gaps):
        """The day's own value; gaps=False ignores the gap list."""
        if (gaps and days_ago in self.gaps) or days_ago >= self.days or days_ago < 0:
            return None
        if self.daily is not None:
            idx = len(self.daily) - max(days_ago, 1)
            v = self.daily[idx]
            if v is None:
                return None
        else:
            if self.rhythm == "days_ago":
                v = self.base * self.weekly[days_ago % 7]
                if self.noise:
                    v *= 1.0 + self.noise * unit_noise(self.key, -days_ago)
            else:
                v = self.base * self.weekly[weekday(day0)]
                if self.noise:
                    v *= 1.0 + self.noise * unit_noise(self.key, day0)
        v *= self.spikes.get(days_ago, 1.0)
        return max(v, 0.0)

    def active_within(self, days):
        """Whether the series has data in the last `days` days."""
        for da in range(0, min(days, self.days)):
            if da in self.gaps:
                continue
            if self.daily is not None and da >= 1 and self.daily[len(self.daily) - da] is None:
                continue
            return True
        return False


class Series:
    """One metric (namespace, name, exact dimensions) of one account-region.
    Its SeriesSpec is built from spec_args on first use (big generated
    organisations list many metrics that nobody reads)."""

    __slots__ = ("namespace", "name", "dims", "unit", "_spec", "spec_args", "res",
                 "bucket", "storage", "key", "_json", "texts")

    def __init__(self, namespace, name, dims, unit, spec_args, res, bucket,
                 storage=False):
        self.namespace = namespace
        self.name = name
        self.dims = dims  # tuple of (Name, Value) in listing order
        self.unit = unit
        self._spec = None
        self.spec_args = spec_args  # (dict, key, default_days, scale, daily_only)
        self.res = res
        self.bucket = bucket
        self.storage = storage
        self.key = metric_key(namespace, name, dims)
        self._json = None
        self.texts = {}  # Scenario._bin_text's cache of this series

    @property
    def spec(self):
        sp = self._spec
        if sp is None:
            sp = SeriesSpec(*self.spec_args)
            self._spec = sp
        return sp

    def dims_json(self):
        return [{"Name": n, "Value": v} for n, v in self.dims]

    def listing_json(self):
        """This metric as a ListMetrics entry, compact JSON text."""
        js = self._json
        if js is None:
            js = '{"Namespace":%s,"MetricName":%s,"Dimensions":[%s]}' % (
                _js(self.namespace), _js(self.name),
                ",".join('{"Name":%s,"Value":%s}' % (_js(n), _js(v)) for n, v in self.dims))
            self._json = js
        return js


def metric_key(namespace, name, dims):
    return (namespace, name, frozenset(dims))


class Account:
    def __init__(self, acct_id, name):
        self.id = acct_id
        self.name = name
        self.buckets = []  # list of dicts {name, region, ...}
        self._index = None
        # {region: {(namespace, name): [Series in listing order]}}, set with
        # the index
        self.by_name = None
        self._lock = threading.Lock()

    def index(self, scenario):
        """{region: {metric key: Series}} and per region a sorted list."""
        idx = self._index
        if idx is not None:
            return idx
        with self._lock:
            if self._index is None:
                self._index = scenario.build_index(self)
            return self._index


class Role:
    def __init__(self, arn, account, external_id=None, trust=None,
                 max_session_duration=3600, deny=False):
        self.arn = arn
        self.account = account
        self.name = arn.split("/")[-1]
        self.external_id = external_id
        self.trust = trust  # None = scenario callers and their chains
        self.max_session_duration = max_session_duration
        self.deny = deny


class Scenario:
    def __init__(self, d, source="scenario"):
        if not isinstance(d, dict):
            raise ScenarioError("%s: top level must be an object" % source)
        self.raw = d
        self.source = source
        self.now = d.get("now")
        self.resolution = int(d.get("resolution", 3600))
        _check_res(self.resolution, "resolution")
        self.clock_skew = int(d.get("clock_skew_seconds", 900))
        self.callers = {}
        for c in d.get("callers", []):
            acct = str(c["account"])
            self.callers[c["access_key"]] = {
                "access_key": c["access_key"], "secret": c["secret_key"],
                "token": c.get("session_token"), "account": acct,
                "arn": c.get("arn", "arn:aws:iam::%s:user/cwsweep" % acct),
                "user_id": c.get("user_id", "AIDA" + c["access_key"][4:20]),
                "expires": None, "chained": False, "kind": "caller"}
        self.roles = {}
        self.accounts = {}
        self.account_order = []
        for a in d.get("accounts", []):
            self._add_account(a)
        for r in d.get("roles", []):
            self._add_role(r)
        self.web_identity = d.get("web_identity", [])
        self.imds = d.get("imds")
        self.container = d.get("container")
        self.sso = d.get("sso")
        self.organizations = d.get("organizations")
        self.cloudwatch = d.get("cloudwatch", {})
        self.slack = d.get("slack", {})
        self.faults = d.get("faults", [])
        self.latency_ms = d.get("latency_ms", 0)
        self.rate_limits = d.get("rate_limits", {})
        self.gen = d.get("generate")
        if self.gen:
            g = self.gen
            self.gen_n = int(g.get("accounts", 1))
            self.gen_start = int(g.get("account_id_start", 100000000000))
            self.gen_regions = list(g.get("regions", ["us-east-1"]))
            self.gen_nb = int(g.get("buckets_per_account", 10))
            self.gen_days = int(g.get("days", 35))
            self.gen_res = int(g.get("resolution", DAY))
            _check_res(self.gen_res, "generate.resolution")
            self.gen_role = g.get("role_name", "cwsweep-reader")
            self.gen_ext = g.get("external_id")
            # keep_accounts: at most this many generated accounts stay built
            # (oldest first out, rebuilt on a later request): a million
            # buckets then fit in memory; 0 keeps them all
            self.gen_keep = int(g.get("keep_accounts", 0))
            self.gen_built = collections.deque()
        self._lock = threading.Lock()
        self._base_cache = {}
        self._bin_cache = {}
        self._ts_cache = {}
        self._list_cache = {}

    # ---- accounts and roles ------------------------------------------------

    def _add_account(self, a):
        acct_id = str(a["id"])
        if len(acct_id) != 12 or not acct_id.isdigit():
            raise ScenarioError("%s: account id %r is not 12 digits"
                                % (self.source, acct_id))
        acc = Account(acct_id, a.get("name", acct_id))
        for b in a.get("buckets", []):
            if "name" not in b or "region" not in b:
                raise ScenarioError("%s: account %s: bucket needs name and region"
                                    % (self.source, acct_id))
            acc.buckets.append(b)
        self.accounts[acct_id] = acc
        self.account_order.append(acct_id)
        role = a.get("role")
        if role is not None:
            if isinstance(role, str):
                role = {"name": role}
            arn = role.get("arn") or "arn:aws:iam::%s:role/%s" % (
                acct_id, role.get("name", "cwsweep-reader"))
            r = dict(role)
            r["arn"] = arn
            self._add_role(r)

    def _add_role(self, r):
        arn = r["arn"]
        parts = arn.split(":")
        if len(parts) < 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
            raise ScenarioError("%s: %r is not a role ARN" % (self.source, arn))
        self.roles[arn] = Role(arn, parts[4], r.get("external_id"), r.get("trust"),
                               int(r.get("max_session_duration", 3600)),
                               bool(r.get("deny", False)))

    def _gen_account_id(self, i):
        return "%012d" % (self.gen_start + i)

    def generated_ids(self):
        if not self.gen:
            return []
        return [self._gen_account_id(i) for i in range(self.gen_n)]

    def get_account(self, acct_id):
        acc = self.accounts.get(acct_id)
        if acc is not None or not self.gen:
            return acc
        try:
            i = int(acct_id) - self.gen_start
        except ValueError:
            return None
        if i < 0 or i >= self.gen_n:
            return None
        with self._lock:
            acc = self.accounts.get(acct_id)
            if acc is None:
                acc = self._generate_account(i, acct_id)
                self.accounts[acct_id] = acc
                if self.gen_keep > 0:
                    self.gen_built.append(acct_id)
                    while len(self.gen_built) > self.gen_keep:
                        self.accounts.pop(self.gen_built.popleft(), None)
        return acc

    def _generate_account(self, i, acct_id):
        g = self.gen
        acc = Account(acct_id, "%s-%03d" % (g.get("account_prefix", "gen"), i))
        lo, hi = g.get("base", [1.0e9, 5.0e10])
        weekly = g.get("weekly", [1.1, 1.15, 1.1, 1.05, 1.0, 0.6, 0.55])
        spike_every = int(g.get("spike_every", 50))
        no_metrics_every = int(g.get("no_request_metrics_every", 0))
        prefix = g.get("bucket_prefix", "gen")
        # templates: K: bucket n's BytesDownloaded is template n % K (K a
        # multiple of spike_every keeps the spikes where they were), so the
        # points are made once per template, not per bucket: a lighter mode
        # for a million-bucket bench
        templates = int(g.get("templates", 0))
        if spike_every and templates % spike_every:
            templates = 0
        for j in range(self.gen_nb):
            name = "%s-%s-%03d" % (prefix, acct_id, j)
            n = (i * self.gen_nb + j)
            seed = "%s%d" % (SHARED_PREFIX, n % templates) if templates else name
            u = zlib.crc32(seed.encode()) / 4294967295.0
            series = {"base": lo * (hi / lo) ** u, "weekly": weekly,
                      "noise": float(g.get("noise", 0.08)), "days": self.gen_days}
            if spike_every and n % spike_every == spike_every - 1:
                series["spikes"] = [{"days_ago": 1,
                                     "factor": float(g.get("spike_factor", 8))}]
            rm = not (no_metrics_every and n % no_metrics_every == no_metrics_every - 1)
            acc.buckets.append({"name": name,
                                "region": self.gen_regions[j % len(self.gen_regions)],
                                "request_metrics": rm, "series": series,
                                "resolution": self.gen_res, "series_key": seed})
        return acc

    def get_role(self, arn):
        r = self.roles.get(arn)
        if r is not None or not self.gen:
            return r
        parts = arn.split(":")
        if len(parts) != 6 or parts[5] != "role/" + self.gen_role:
            return None
        if self.get_account(parts[4]) is None:
            return None
        return Role(arn, parts[4], self.gen_ext, None,
                    int(self.gen.get("max_session_duration", 3600)))

    # ---- metric index ------------------------------------------------------

    def build_index(self, acc):
        idx = {}
        for b in acc.buckets:
            region = b["region"]
            res = int(b.get("resolution", self.resolution))
            _check_res(res, "bucket %s resolution" % b["name"])
            per = idx.setdefault(region, {})
            sdef = b.get("series", {})
            overrides = b.get("metrics", {})
            days_default = int(sdef.get("days", 40)) if isinstance(sdef, dict) else 40
            if b.get("request_metrics", True):
                fid = b.get("filter_id", "EntireBucket")
                dims = (("BucketName", b["name"]), ("FilterId", fid))
                for mname, (unit, scale) in REQUEST_METRICS.items():
                    if mname in overrides:
                        args = (overrides[mname], "%s/%s" % (b["name"], mname),
                                days_default, 1.0, False)
                    elif mname == "BytesDownloaded":
                        args = (sdef, b.get("series_key", b["name"]), days_default, 1.0,
                                False)
                    else:
                        args = (sdef, "%s/%s" % (b["name"], mname), days_default,
                                scale, False)
                    s = Series("AWS/S3", mname, dims, unit, args, res, b["name"])
                    per[s.key] = s
            if b.get("storage_metrics", True):
                for mname, (unit, stype, scale) in STORAGE_METRICS.items():
                    # BucketSizeBytes: one metric per storage class the
                    # bucket holds ("storage_classes", default Standard only)
                    stypes = ([stype] if mname != "BucketSizeBytes"
                              else b.get("storage_classes", [stype]))
                    for st in stypes:
                        dims = (("BucketName", b["name"]), ("StorageType", st))
                        args = (dict(sdef, spikes=[], noise=0.0, weekly=[1.0] * 7),
                                "%s/%s" % (b.get("series_key", b["name"]), mname),
                                days_default, scale, True)
                        s = Series("AWS/S3", mname, dims, unit, args, DAY, b["name"],
                                   storage=True)
                        per[s.key] = s
            for extra in b.get("extra_metrics", []):
                dims = tuple((dd["Name"], dd["Value"]) for dd in extra["dimensions"])
                args = (extra.get("series", {}), "%s/%s" % (b["name"], extra["name"]),
                        days_default, 1.0, False)
                s = Series(extra.get("namespace", "AWS/S3"), extra["name"], dims,
                           extra.get("unit", "None"), args,
                           int(extra.get("resolution", res)), b["name"])
                per[s.key] = s
        out = {}
        by_name = {}
        for region, per in idx.items():
            ordered = sorted(per.values(),
                             key=lambda s: (s.namespace, s.name, s.dims))
            out[region] = (per, ordered)
            names = by_name[region] = {}
            for s in ordered:
                names.setdefault((s.namespace, s.name), []).append(s)
        acc.by_name = by_name
        return out

    def lookup(self, acct_id, region, namespace, name, dims):
        acc = self.get_account(acct_id)
        if acc is None:
            return None
        per = acc.index(self).get(region)
        if per is None:
            return None
        return per[0].get(metric_key(namespace, name, dims))

    def metric_map(self, acct_id, region):
        """{metric key: Series} of an account-region ({} when none); look a
        query up with metric_key(namespace, name, dims)."""
        acc = self.get_account(acct_id)
        if acc is None:
            return {}
        per = acc.index(self).get(region)
        return per[0] if per else {}

    def listed(self, acct_id, region, ns, name, filters, days):
        """The metrics ListMetrics selects, in listing order (a cached list:
        do not modify). filters: ((Name, Value or None), ...)."""
        ck = (acct_id, region, ns, name, filters, days)
        try:
            hit = self._list_cache.get(ck)
        except TypeError:  # a filter that is not a string: no caching
            ck = None
            hit = None
        if hit is not None:
            return hit
        found = []
        cands = None
        if type(ns) is str and type(name) is str:
            acc = self.get_account(acct_id)
            if acc is not None and acc.index(self).get(region) is not None:
                cands = acc.by_name[region].get((ns, name), [])
        if cands is None:
            cands = self.metrics_in(acct_id, region)
        for s in cands:
            if ns is not None and s.namespace != ns:
                continue
            if name is not None and s.name != name:
                continue
            dd = dict(s.dims)
            ok = True
            for fname, fval in filters:
                if fname not in dd or (fval is not None and dd[fname] != fval):
                    ok = False
                    break
            if not ok:
                continue
            if not s.spec.active_within(days):
                continue
            found.append(s)
        if ck is not None:
            with self._lock:
                if len(self._list_cache) > LIST_CACHE_MAX:
                    self._list_cache.clear()
                self._list_cache[ck] = found
        return found

    def metrics_in(self, acct_id, region):
        acc = self.get_account(acct_id)
        if acc is None:
            return []
        per = acc.index(self).get(region)
        return per[1] if per else []

    # ---- datapoints --------------------------------------------------------

    def _complete_points(self, s, today0):
        """(timestamps, values) of all complete days before today0."""
        ck = (_shared_key(s) or (id(s), s.key), today0)
        hit = self._base_cache.get(ck)
        if hit is not None:
            return hit
        ts, vs = [], []
        spec = s.spec
        res = s.res
        cum = diurnal_cum(res) if not s.storage else None
        daily = s.storage or res == DAY
        day_value = spec.day_value
        integer = spec.integer
        floor = math.floor
        for da in range(spec.days - 1, 0, -1):
            day0 = today0 - da * DAY
            v = day_value(day0, da)
            if v is None:
                continue
            if daily:
                ts.append(day0)
                vs.append(float(floor(v)) if integer else v)
                continue
            _slots(ts, vs, day0, v, cum, res, len(cum) - 1, 0.0, integer)
        hit = (ts, vs)
        with self._lock:
            if len(self._base_cache) > BASE_CACHE_MAX:
                self._base_cache.clear()
                self._bin_cache.clear()
            self._base_cache[ck] = hit
        return hit

    def _today_points(self, s, today0, now):
        """Points of today's partial day (timestamps < now)."""
        if s.storage:
            return [], []  # storage metrics are daily, published for past days
        v = s.spec.day_value(today0, 0)
        if v is None or now <= today0:
            return [], []
        ts, vs = [], []
        res = s.res
        if res == DAY:
            frac = (now - today0) / float(DAY)
            ts.append(today0)
            vs.append(float(math.floor(v * frac)) if s.spec.integer else v * frac)
            return ts, vs
        cum = diurnal_cum(res)
        elapsed = now - today0
        full = int(elapsed // res)
        part = (elapsed - full * res) / float(res)
        _slots(ts, vs, today0, v, cum, res, full, part, s.spec.integer)
        return ts, vs

    def raw_points(self, s, now, start, end):
        """Base points with start <= t < end and t < now, ascending."""
        today0 = (int(now) // DAY) * DAY
        cts, cvs = self._complete_points(s, today0)
        lo = bisect.bisect_left(cts, start)
        hi = bisect.bisect_left(cts, end)
        ts = cts[lo:hi]
        vs = cvs[lo:hi]
        if end > today0:
            tts, tvs = self._today_points(s, today0, now)
            for t, v in zip(tts, tvs):
                if start <= t < end and t < now:
                    ts.append(t)
                    vs.append(v)
        return ts, vs

    def _complete_bins(self, s, today0, period, offset):
        """Bins over the complete days: (keys, sums, counts, mins, maxs)."""
        ck = (_shared_key(s) or (id(s), s.key), today0, period, offset)
        hit = self._bin_cache.get(ck)
        if hit is not None:
            return hit
        cts, cvs = self._complete_points(s, today0)
        keys, sums, cnts, mins, maxs = [], [], [], [], []
        if s.res == period and offset % period == 0 or (
                s.res == DAY and period == DAY and offset == 0):
            keys, sums = list(cts), list(cvs)
            cnts, mins, maxs = [1] * len(cts), sums, sums
        else:
            last = None
            for t, v in zip(cts, cvs):
                b = t - ((t - offset) % period)
                if b != last:
                    keys.append(b)
                    sums.append(v)
                    cnts.append(1)
                    mins.append(v)
                    maxs.append(v)
                    last = b
                else:
                    sums[-1] += v
                    cnts[-1] += 1
                    if v < mins[-1]:
                        mins[-1] = v
                    if v > maxs[-1]:
                        maxs[-1] = v
        hit = (keys, sums, cnts, mins, maxs)
        with self._lock:
            self._bin_cache[ck] = hit
        return hit

    def aggregate(self, s, now, start, end, period, stat):
        """[(timestamp, value)] ascending for bins start + k*period within
        [start, end), only bins holding at least one point before now."""
        if stat.startswith("p"):
            return _percentile_bins(self.raw_points(s, now, start, end),
                                    start, period, stat)
        today0 = (int(now) // DAY) * DAY
        offset = start % period
        keys, sums, cnts, mins, maxs = self._complete_bins(s, today0, period, offset)
        # Cached bins are used only where they lie wholly inside [start, end)
        # and before today; the rest comes from the raw points.
        limit = min(end, today0)
        k = max(0, (limit - start) // period)
        split = start + k * period
        lo = bisect.bisect_left(keys, start)
        hi = bisect.bisect_left(keys, split)
        out = list(zip(keys[lo:hi], _stat_values(stat, sums, cnts, mins, maxs, lo, hi)))
        if split < end:
            out.extend(self._tail_bins(s, now, split, end, period, offset, stat))
        return out

    def _tail_bins(self, s, now, split, end, period, offset, stat):
        """[(timestamp, value)] of the bins aggregate() builds from raw points
        (those in [split, end) that the cached bins do not cover)."""
        ts, vs = self.raw_points(s, now, split, end)
        tk, ts_, tc, tn, tx = [], [], [], [], []
        for t, v in zip(ts, vs):
            b = t - ((t - offset) % period)
            if tk and tk[-1] == b:
                ts_[-1] += v
                tc[-1] += 1
                tn[-1] = min(tn[-1], v)
                tx[-1] = max(tx[-1], v)
            else:
                tk.append(b)
                ts_.append(v)
                tc.append(1)
                tn.append(v)
                tx.append(v)
        return list(zip(tk, _stat_values(stat, ts_, tc, tn, tx, 0, len(tk))))

    def _bin_text(self, s, today0, period, offset, stat):
        """(keys, timestamps _Text, values _Text) of the complete-day bins
        of a series for one stat (Sum, Average, Minimum, Maximum,
        SampleCount). The timestamps text is shared by all series with the
        same bins."""
        texts = s.texts
        ck = (today0, period, offset, stat)
        hit = texts.get(ck)
        if hit is not None:
            return hit
        keys, sums, cnts, mins, maxs = self._complete_bins(s, today0, period, offset)
        tk = tuple(keys)
        tt = self._ts_cache.get(tk)
        if tt is None:
            tt = _Text(_json_items(keys))
        vt = _Text(_json_items(_stat_values(stat, sums, cnts, mins, maxs, 0, len(keys))))
        hit = (keys, tt, vt)
        with self._lock:
            if len(self._ts_cache) > TS_CACHE_MAX:
                self._ts_cache.clear()
            self._ts_cache[tk] = tt
            if len(texts) >= TEXTS_PER_SERIES:
                texts.clear()
            texts[ck] = hit
        return hit

    def points_json(self, s, now, start, end, period, stat, descending):
        """(n, text): the number of datapoints aggregate() gives and the JSON
        members '"Timestamps":[...],"Values":[...]' of them (compact, as
        json.dumps with separators (",", ":") writes them), newest first when
        descending. The complete-day bins come from cached text."""
        if stat.startswith("p"):
            pts = self.aggregate(s, now, start, end, period, stat)
            if descending:
                pts.reverse()
            return len(pts), _points_text([t for t, _ in pts], [v for _, v in pts])
        # the same split as aggregate(): cached bins, then raw points
        today0 = (int(now) // DAY) * DAY
        offset = start % period
        keys, tt, vt = self._bin_text(s, today0, period, offset, stat)
        limit = min(end, today0)
        k = max(0, (limit - start) // period)
        split = start + k * period
        lo = bisect.bisect_left(keys, start)
        hi = bisect.bisect_left(keys, split)
        ts = tt.slice(lo, hi, descending)
        vs = vt.slice(lo, hi, descending)
        n = max(0, hi - lo)
        if split < end:
            tail = self._tail_bins(s, now, split, end, period, offset, stat)
            if tail:
                n += len(tail)
                tts = _json_items([t for t, _ in tail])
                tvs = _json_items([v for _, v in tail])
                if descending:
                    tts.reverse()
                    tvs.reverse()
                    ts = ",".join(tts + [ts] if ts else tts)
                    vs = ",".join(tvs + [vs] if vs else tvs)
                else:
                    ts = ",".join([ts] + tts if ts else tts)
                    vs = ",".join([vs] + tvs if vs else tvs)
        return n, '"Timestamps":[%s],"Values":[%s]' % (ts, vs)

    def prewarm(self, now, periods=(DAY,), metrics=("BytesDownloaded", "BucketSizeBytes")):
        """Generate every series of the scenario ahead of the first request:
        the daily BytesDownloaded sums and the BucketSizeBytes averages (a
        sweep's coverage asks for the stored bytes of every bucket)."""
        today0 = (int(now) // DAY) * DAY
        ids = list(self.account_order) + self.generated_ids()
        n = 0
        for acct_id in ids:
            acc = self.get_account(acct_id)
            for per, ordered in acc.index(self).values():
                for s in ordered:
                    if s.name in metrics:
                        for p in periods:
                            self._bin_text(s, today0, p, today0 % p,
                                           "Average" if s.storage else "Sum")
                        s.listing_json()
                        n += 1
        return n


class _Text:
    """The JSON text of a list of numbers, ascending and descending, that
    answers any run of consecutive elements by slicing."""

    __slots__ = ("asc", "desc", "starts")

    def __init__(self, items):
        """items: the JSON text of each number."""
        self.asc = ",".join(items)
        self.desc = ",".join(reversed(items))
        starts = array.array("I")
        pos = 0
        for x in items:
            starts.append(pos)
            pos += len(x) + 1
        starts.append(pos)
        self.starts = starts

    def slice(self, lo, hi, descending):
        """Elements lo..hi-1 (ascending index), comma-separated."""
        if hi <= lo:
            return ""
        if lo == 0 and hi == len(self.starts) - 1:
            return self.desc if descending else self.asc
        a = self.starts[lo]
        b = self.starts[hi] - 1
        if not descending:
            return self.asc[a:b]
        n = len(self.asc)
        return self.desc[n - b:n - a]


def _json_items(nums):
    """The compact JSON text of each number of a list."""
    if not nums:
        return []
    return _dumps_compact(list(nums))[1:-1].split(",")


def _points_text(ts, vs):
    return '"Timestamps":%s,"Values":%s' % (_dumps_compact(ts), _dumps_compact(vs))


def _stat_values(stat, sums, cnts, mins, maxs, lo, hi):
    if stat == "Sum":
        return sums[lo:hi]
    if stat == "Average":
        return [sums[i] / cnts[i] for i in range(lo, hi)]
    if stat == "Minimum":
        return mins[lo:hi]
    if stat == "Maximum":
        return maxs[lo:hi]
    if stat == "SampleCount":
        return [float(c) for c in cnts[lo:hi]]
    raise ValueError(stat)


def _slots(ts, vs, day0, v, cum, res, nfull, part, integer):
    """Append the slots of one day: nfull complete slots and, when part > 0,
    a fraction of the next; integer totals keep the day's sum exact."""
    prev = 0.0
    for k in range(nfull):
        c = v * cum[k + 1]
        if integer:
            c = math.floor(c)
            val = c - prev
        else:
            val = c - prev
        prev = c
        ts.append(day0 + k * res)
        vs.append(float(val))
    if part > 0 and nfull < len(cum) - 1:
        c = v * (cum[nfull] + (cum[nfull + 1] - cum[nfull]) * part)
        if integer:
            c = math.floor(c)
        ts.append(day0 + nfull * res)
        vs.append(float(c - prev))


def _percentile_bins(points, start, period, stat):
    ts, vs = points
    bins = {}
    for t, v in zip(ts, vs):
        b = start + ((t - start) // period) * period
        bins.setdefault(b, []).append(v)
    try:
        q = float(stat[1:]) / 100.0
    except ValueError:
        raise ValueError(stat)
    out = []
    for b in sorted(bins):
        xs = sorted(bins[b])
        idx = min(len(xs) - 1, max(0, int(math.ceil(q * len(xs))) - 1))
        out.append((b, xs[idx]))
    return out


def _check_res(res, what):
    if res <= 0 or DAY % res != 0 or (res < 60 and res not in (1, 5, 10, 30)):
        raise ScenarioError("%s: %d must divide 86400" % (what, res))


def load(path):
    with open(path, "r", encoding="utf-8") as f:
        try:
            d = json.load(f)
        except json.JSONDecodeError as e:
            raise ScenarioError("%s:%d:%d: %s" % (path, e.lineno, e.colno, e.msg))
    try:
        return Scenario(d, path)
    except (KeyError, TypeError, ValueError) as e:
        raise ScenarioError("%s: %s: %s" % (path, type(e).__name__, e))
