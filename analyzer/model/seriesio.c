/*
 * seriesio.c - CSV and get-metric-data JSON files into named series (see
 * seriesio.h for the formats).  Reentrant; nothing shared.
 */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomicio.h"
#include "buf.h"
#include "err.h"
#include "seriesio.h"
#include "strutil.h"
#include "timeutil.h"

/* Growable (time, value) list. */
struct pts {
	int64_t *t;
	double *v;
	size_t n, cap;
};

/* Room for cap points in all (a file of thousands of series holds all of
 * their points at once: each list is sized to its series, not rounded up). */
static int pts_reserve(struct pts *p, size_t cap)
{
	if (cap <= p->cap)
		return 0;
	int64_t *nt = realloc(p->t, cap * sizeof(*nt));
	if (!nt)
		return CW_ENOMEM;
	p->t = nt;
	double *nv = realloc(p->v, cap * sizeof(*nv));
	if (!nv)
		return CW_ENOMEM;
	p->v = nv;
	p->cap = cap;
	return 0;
}

static int pts_add(struct pts *p, int64_t t, double v)
{
	if (p->n == p->cap && pts_reserve(p, p->cap ? p->cap * 2 : 64))
		return CW_ENOMEM;
	p->t[p->n] = t;
	p->v[p->n] = v;
	p->n++;
	return 0;
}

static void pts_release(struct pts *p)
{
	free(p->t);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

void cw_named_series_free(struct cw_named_series *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].unit);
		free(v[i].status);
		cw_series_release(&v[i].s);
	}
	free(v);
}

/* "dir/s3-prod.csv" -> "s3-prod" (new string). */
static char *stem(const char *where)
{
	const char *b = strrchr(where, '/');
	b = b ? b + 1 : where;
	const char *dot = strrchr(b, '.');
	size_t n = dot && dot != b ? (size_t)(dot - b) : strlen(b);
	return cw_strndup(b, n);
}

/* Build one named series from points; err gets "where: reason". */
static int make_series(struct cw_named_series *ns, const char *name, const char *status,
		       const struct pts *p, int64_t period, const char *where,
		       char *err, size_t errlen)
{
	char why[CW_ERRBUF];
	int rc;

	memset(ns, 0, sizeof(*ns));
	ns->name = cw_strdup(name);
	ns->unit = cw_strdup("");
	ns->status = cw_strdup(status);
	if (!ns->name || !ns->unit || !ns->status) {
		rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
		goto fail;
	}
	if (p->n == 0)
		return 0; /* empty series: n == 0 */
	rc = cw_series_from_points(&ns->s, p->t, p->v, p->n, period, why, sizeof(why));
	if (rc) {
		rc = cw_fail(err, errlen, rc, "%s: %s: %s", where, name, why);
		goto fail;
	}
	return 0;
fail:
	free(ns->name);
	free(ns->unit);
	free(ns->status);
	memset(ns, 0, sizeof(*ns));
	return rc;
}

/* ---- CSV -------------------------------------------------------------- */

/* Trim blanks and one pair of surrounding double quotes. */
static void field_trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
	if (*n >= 2 && (*s)[0] == '"' && (*s)[*n - 1] == '"') {
		(*s)++;
		*n -= 2;
	}
}

/* A value field: finite number, or empty / null for a gap.  "nan" and
 * "inf" are refused alike: they come from a broken computation, and an
 * empty cell says "no datapoint" without doubt. */
static int parse_value(const char *s, size_t n, double *out)
{
	char buf[64];
	char *end;

	if (n == 0) {
		*out = NAN;
		return 0;
	}
	if (n >= sizeof(buf))
		return CW_EINVAL;
	memcpy(buf, s, n);
	buf[n] = 0;
	if (cw_str_ieq(buf, "null")) {
		*out = NAN;
		return 0;
	}
	*out = strtod(buf, &end);
	if (end == buf || *end || !isfinite(*out))
		return CW_EINVAL;
	return 0;
}

static int parse_csv(const char *text, size_t len, const char *where, int64_t period,
		     struct cw_named_series **out, size_t *nout, char *err, size_t errlen)
{
	struct pts p = { 0 };
	struct cw_named_series *v = NULL;
	char *name = NULL;
	size_t lineno = 0;
	bool first = true;
	int rc;

	for (size_t pos = 0; pos < len;) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t ln = nl ? (size_t)(nl - line) : len - pos;
		pos += ln + (nl ? 1 : 0);
		lineno++;
		if (ln > 0 && line[ln - 1] == '\r')
			ln--;
		const char *l = line;
		size_t n = ln;
		field_trim(&l, &n);
		if (n == 0 || l[0] == '#')
			continue;

		const char *comma = memchr(line, ',', ln);
		const char *f1 = line, *f2 = comma ? comma + 1 : line + ln;
		size_t n1 = comma ? (size_t)(comma - line) : ln;
		size_t n2 = comma ? (size_t)(line + ln - f2) : 0;
		field_trim(&f1, &n1);
		field_trim(&f2, &n2);
		int64_t t;
		bool is_time = cw_time_parse_n(f1, n1, &t) == 0;
		if (first && !is_time) {
			first = false; /* a header line */
			continue;
		}
		first = false;
		if (!comma || memchr(f2, ',', n2)) {
			rc = cw_fail(err, errlen, CW_EPARSE,
				     "%s:%zu: expected 2 columns (timestamp,value)", where, lineno);
			goto fail;
		}
		if (!is_time) {
			rc = cw_fail(err, errlen, CW_EPARSE, "%s:%zu: bad timestamp '%.*s'", where,
				     lineno, (int)(n1 > 40 ? 40 : n1), f1);
			goto fail;
		}
		double x;
		if (parse_value(f2, n2, &x)) {
			rc = cw_fail(err, errlen, CW_EPARSE, "%s:%zu: bad value '%.*s' (want a "
				     "finite number; leave the cell empty for no datapoint)", where,
				     lineno, (int)(n2 > 40 ? 40 : n2), f2);
			goto fail;
		}
		if (pts_add(&p, t, x)) {
			rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
			goto fail;
		}
	}
	if (p.n == 0) {
		rc = cw_fail(err, errlen, CW_EPARSE, "%s: no datapoints", where);
		goto fail;
	}
	name = stem(where);
	v = calloc(1, sizeof(*v));
	if (!name || !v) {
		rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
		goto fail;
	}
	rc = make_series(&v[0], name, "", &p, period, where, err, errlen);
	if (rc)
		goto fail;
	free(name);
	pts_release(&p);
	*out = v;
	*nout = 1;
	return 0;
fail:
	free(v);
	free(name);
	pts_release(&p);
	return rc;
}

/* ---- get-metric-data JSON --------------------------------------------- */

struct group {
	const char *id, *label, *status; /* borrowed from the JSON document */
	struct pts p;
};

/*
 * The group of entries with Id id: byid maps ids to indices into *gs (a
 * file holds thousands of entries: no scan of the groups per entry).
 */
static int parse_entry(json_t *e, size_t idx, const char *where, json_t *byid,
		       struct group **gs, size_t *ng, char *err, size_t errlen)
{
	json_t *jid = json_object_get(e, "Id");
	json_t *jts = json_object_get(e, "Timestamps");
	json_t *jvs = json_object_get(e, "Values");
	json_t *jl = json_object_get(e, "Label");
	json_t *jst = json_object_get(e, "StatusCode");

	if (!json_is_object(e) || !json_is_string(jid))
		return cw_fail(err, errlen, CW_EPARSE, "%s: MetricDataResults[%zu]: no Id",
			       where, idx);
	const char *id = json_string_value(jid);
	if ((jts && !json_is_array(jts)) || (jvs && !json_is_array(jvs)) ||
	    json_array_size(jts) != json_array_size(jvs))
		return cw_fail(err, errlen, CW_EPARSE,
			       "%s: MetricDataResults[%zu] (%s): Timestamps and Values must be "
			       "arrays of the same length", where, idx, id);

	struct group *g = NULL;
	json_t *known = json_object_get(byid, id);
	if (known) {
		g = &(*gs)[json_integer_value(known)];
	} else {
		struct group *n = realloc(*gs, (*ng + 1) * sizeof(*n));
		if (!n || json_object_set_new(byid, id, json_integer((json_int_t)*ng)))
			return cw_fail(err, errlen, CW_ENOMEM, "out of memory");
		*gs = n;
		g = &n[(*ng)++];
		memset(g, 0, sizeof(*g));
		g->id = id;
	}
	if (json_is_string(jl) && json_string_length(jl) > 0)
		g->label = json_string_value(jl);
	if (json_is_string(jst))
		g->status = json_string_value(jst); /* the last page's word stands */

	if (pts_reserve(&g->p, g->p.n + json_array_size(jts)))
		return cw_fail(err, errlen, CW_ENOMEM, "out of memory");
	for (size_t k = 0; k < json_array_size(jts); k++) {
		json_t *jt = json_array_get(jts, k), *jv = json_array_get(jvs, k);
		int64_t t;
		double x;
		if (json_is_string(jt)) {
			if (cw_time_parse(json_string_value(jt), &t))
				return cw_fail(err, errlen, CW_EPARSE,
					       "%s: %s: Timestamps[%zu]: bad timestamp '%.40s'",
					       where, id, k, json_string_value(jt));
		} else if (json_is_number(jt) && isfinite(json_number_value(jt))) {
			t = (int64_t)json_number_value(jt);
		} else {
			return cw_fail(err, errlen, CW_EPARSE,
				       "%s: %s: Timestamps[%zu]: not a time", where, id, k);
		}
		if (json_is_null(jv))
			x = NAN;
		else if (json_is_number(jv) && isfinite(json_number_value(jv)))
			x = json_number_value(jv);
		else
			return cw_fail(err, errlen, CW_EPARSE, "%s: %s: Values[%zu]: not a number",
				       where, id, k);
		if (pts_add(&g->p, t, x))
			return cw_fail(err, errlen, CW_ENOMEM, "out of memory");
	}
	return 0;
}

/*
 * What `aws cloudwatch get-metric-statistics` prints: {"Label": "...",
 * "Datapoints": [{"Timestamp", "Sum" | "Average" | "Maximum" | "Minimum" |
 * "SampleCount" | "ExtendedStatistics": {"p99": ...}, "Unit"}]}, in no
 * particular order.  One series per statistic present, named after the
 * label ("BytesDownloaded"), or "Label Stat" when it holds several; the
 * unit from the datapoints.
 */
#define GMS_MAX_STATS 16

static int parse_gms(json_t *root, const char *where, int64_t period,
		     struct cw_named_series **out, size_t *nout, char *err, size_t errlen)
{
	static const char *const basic[] = { "Sum", "Average", "Maximum", "Minimum",
					     "SampleCount" };
	json_t *dps = json_object_get(root, "Datapoints"), *jl = json_object_get(root, "Label");
	const char *label = json_is_string(jl) && json_string_length(jl) ? json_string_value(jl)
									 : NULL;
	const char *stats[GMS_MAX_STATS], *unit = "";
	struct pts p[GMS_MAX_STATS];
	struct cw_named_series *v = NULL;
	size_t ns = 0, nv = 0, i;
	char *stem_name = stem(where);
	int rc = 0;

	memset(p, 0, sizeof(p));
	if (!stem_name)
		return cw_fail(err, errlen, CW_ENOMEM, "out of memory");
	/* which statistics the datapoints carry, in a fixed order */
	for (i = 0; i < json_array_size(dps); i++) {
		json_t *d = json_array_get(dps, i), *ext = json_object_get(d, "ExtendedStatistics");
		const char *key;
		json_t *val;

		if (!json_is_object(d)) {
			rc = cw_fail(err, errlen, CW_EPARSE, "%s: Datapoints[%zu]: not an object",
				     where, i);
			goto out;
		}
		for (size_t b = 0; b < sizeof(basic) / sizeof(basic[0]); b++) {
			size_t k;

			if (!json_object_get(d, basic[b]))
				continue;
			for (k = 0; k < ns && strcmp(stats[k], basic[b]) != 0; k++)
				;
			if (k == ns && ns < GMS_MAX_STATS)
				stats[ns++] = basic[b];
		}
		json_object_foreach(ext, key, val) {
			size_t k;

			for (k = 0; k < ns && strcmp(stats[k], key) != 0; k++)
				;
			if (k == ns && ns < GMS_MAX_STATS)
				stats[ns++] = key;
		}
		if (json_is_string(json_object_get(d, "Unit")) && !unit[0])
			unit = json_string_value(json_object_get(d, "Unit"));
	}
	if (json_array_size(dps) == 0 || ns == 0) {
		rc = cw_fail(err, errlen, CW_EPARSE, "%s: Datapoints: no datapoint with a "
			     "statistic (Sum, Average, Maximum, Minimum, SampleCount or "
			     "ExtendedStatistics)", where);
		goto out;
	}
	for (i = 0; i < json_array_size(dps); i++) {
		json_t *d = json_array_get(dps, i), *jt = json_object_get(d, "Timestamp");
		int64_t t;

		if (json_is_string(jt)) {
			if (cw_time_parse(json_string_value(jt), &t)) {
				rc = cw_fail(err, errlen, CW_EPARSE, "%s: Datapoints[%zu].Timestamp: "
					     "bad timestamp '%.40s'", where, i, json_string_value(jt));
				goto out;
			}
		} else if (json_is_number(jt) && isfinite(json_number_value(jt))) {
			t = (int64_t)json_number_value(jt);
		} else {
			rc = cw_fail(err, errlen, CW_EPARSE, "%s: Datapoints[%zu]: no Timestamp",
				     where, i);
			goto out;
		}
		for (size_t k = 0; k < ns; k++) {
			json_t *jv = json_object_get(d, stats[k]);

			if (!jv)
				jv = json_object_get(json_object_get(d, "ExtendedStatistics"), stats[k]);
			if (!jv)
				continue; /* this datapoint lacks the statistic: a gap */
			if (!json_is_number(jv) || !isfinite(json_number_value(jv))) {
				rc = cw_fail(err, errlen, CW_EPARSE, "%s: Datapoints[%zu].%s: not a "
					     "number", where, i, stats[k]);
				goto out;
			}
			if (pts_add(&p[k], t, json_number_value(jv))) {
				rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
				goto out;
			}
		}
	}
	v = calloc(ns, sizeof(*v));
	if (!v) {
		rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
		goto out;
	}
	for (nv = 0; nv < ns; nv++) {
		const char *base = label ? label : stem_name;
		char *name = ns > 1 ? cw_asprintf("%s %s", base, stats[nv]) : cw_strdup(base);

		if (!name) {
			rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
			goto out;
		}
		rc = make_series(&v[nv], name, "Complete", &p[nv], period, where, err, errlen);
		free(name);
		if (!rc && cw_str_set(&v[nv].unit, unit))
			rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
		if (rc) {
			nv++;
			goto out;
		}
	}
	*out = v;
	*nout = nv;
	v = NULL;
out:
	cw_named_series_free(v, nv);
	for (i = 0; i < GMS_MAX_STATS; i++)
		pts_release(&p[i]);
	free(stem_name);
	return rc;
}

static int parse_json(const char *text, size_t len, const char *where, int64_t period,
		      struct cw_named_series **out, size_t *nout, char *err, size_t errlen)
{
	json_error_t je;
	struct group *gs = NULL;
	struct cw_named_series *v = NULL;
	json_t *byid = NULL, *bylabel = NULL; /* id / label -> first group's index */
	bool *shared = NULL;
	size_t ng = 0, nv = 0;
	int rc = 0;

	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return cw_fail(err, errlen, CW_EPARSE, "%s:%d:%d: %s", where, je.line, je.column,
			       je.text);
	json_t *arr = json_object_get(root, "MetricDataResults");
	if (!json_is_array(arr) && json_is_array(json_object_get(root, "Datapoints"))) {
		rc = parse_gms(root, where, period, out, nout, err, errlen);
		goto out;
	}
	if (!json_is_array(arr)) {
		rc = cw_fail(err, errlen, CW_EPARSE,
			     "%s: no MetricDataResults or Datapoints array (expected the output "
			     "of aws cloudwatch get-metric-data or get-metric-statistics)", where);
		goto out;
	}
	if (!(byid = json_object()) || !(bylabel = json_object())) {
		rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(arr); i++) {
		rc = parse_entry(json_array_get(arr, i), i, where, byid, &gs, &ng, err, errlen);
		if (rc)
			goto out;
	}
	if (ng == 0) {
		rc = cw_fail(err, errlen, CW_EPARSE, "%s: MetricDataResults is empty", where);
		goto out;
	}
	v = calloc(ng, sizeof(*v));
	shared = calloc(ng, sizeof(*shared));
	if (!v || !shared) {
		rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
		goto out;
	}
	/* the CLI's default label is the metric name, the same for every
	 * query of one metric: then "Label (Id)" tells them apart */
	for (size_t k = 0; k < ng; k++) {
		json_t *first;

		if (!gs[k].label)
			continue;
		if ((first = json_object_get(bylabel, gs[k].label))) {
			shared[json_integer_value(first)] = shared[k] = true;
		} else if (json_object_set_new(bylabel, gs[k].label, json_integer((json_int_t)k))) {
			rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
			goto out;
		}
	}
	for (nv = 0; nv < ng; nv++) {
		struct group *g = &gs[nv];
		char *name = NULL;

		if (shared[nv] && !(name = cw_asprintf("%s (%s)", g->label, g->id))) {
			rc = cw_fail(err, errlen, CW_ENOMEM, "out of memory");
			goto out;
		}
		rc = make_series(&v[nv], name ? name : g->label ? g->label : g->id,
				 g->status ? g->status : "", &g->p, period, where, err, errlen);
		free(name);
		if (rc)
			goto out;
	}
	*out = v;
	*nout = nv;
	v = NULL;
out:
	cw_named_series_free(v, nv);
	for (size_t i = 0; i < ng; i++)
		pts_release(&gs[i].p);
	free(gs);
	free(shared);
	json_decref(byid);
	json_decref(bylabel);
	json_decref(root);
	return rc;
}

/* ---- entry points ----------------------------------------------------- */

int cw_seriesio_parse(const char *text, size_t len, const char *where, int64_t period,
		      struct cw_named_series **out, size_t *n, char *err, size_t errlen)
{
	size_t i = 0, bom = 0;

	*out = NULL;
	*n = 0;
	if (period < 0)
		return cw_fail(err, errlen, CW_EINVAL, "period: must be positive");
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		bom = i = 3; /* UTF-8 byte order mark, as spreadsheets write it */
	while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' ||
			   text[i] == '\n'))
		i++;
	if (i < len && text[i] == '{')
		return parse_json(text + i, len - i, where, period, out, n, err, errlen);
	return parse_csv(text + bom, len - bom, where, period, out, n, err, errlen);
}

/* All of standard input, at most CW_SERIESIO_MAX_FILE bytes. */
static int read_stdin(char **text, size_t *len, char *err, size_t errlen)
{
	struct cw_buf b;
	char chunk[65536];
	size_t got;

	cw_buf_init(&b, CW_SERIESIO_MAX_FILE);
	while ((got = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if (cw_buf_add(&b, chunk, got))
			return cw_fail(err, errlen, CW_ETOOBIG, "stdin: larger than %zu bytes",
				       CW_SERIESIO_MAX_FILE);
	if (ferror(stdin)) {
		cw_buf_release(&b);
		return cw_fail(err, errlen, CW_EIO, "stdin: read error");
	}
	*text = cw_buf_detach(&b, len);
	if (!*text)
		return cw_fail(err, errlen, CW_ENOMEM, "out of memory");
	return 0;
}

int cw_seriesio_read(const char *path, int64_t period, struct cw_named_series **out,
		     size_t *n, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;

	*out = NULL;
	*n = 0;
	int rc = strcmp(path, "-") == 0 ? read_stdin(&text, &len, err, errlen)
				       : cw_read_file(path, CW_SERIESIO_MAX_FILE, &text, &len, err,
						      errlen);
	if (rc)
		return rc;
	rc = cw_seriesio_parse(text, len, strcmp(path, "-") == 0 ? "stdin" : path, period, out,
			       n, err, errlen);
	free(text);
	return rc;
}
