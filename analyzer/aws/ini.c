/*
 * ini.c - parser for the AWS shared config and credentials files (see
 * ini.h).  One pass over the lines; entries kept in file order in a flat
 * array, looked up from the end so that later definitions win.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ini.h"
#include "strutil.h"

struct ini_section {
	char *raw;            /* owned: name between the brackets, trimmed */
	char *profile;        /* owned: profile it defines, NULL when none */
	bool explicit_prefix; /* config file: written "[profile default]" */
};

struct ini_entry {
	size_t section;       /* index into sections */
	char *key;            /* owned, lowercase; "parent.sub" for sub-properties */
	char *value;          /* owned, trimmed */
};

struct cw_ini {
	enum cw_ini_kind kind;
	struct ini_section *sections;
	size_t nsections, capsections;
	struct ini_entry *entries;
	size_t nentries, capentries;
	bool has_profile_default; /* config file has "[profile default]" */
	const char **profiles;    /* sorted unique names (borrowed from sections) */
	size_t nprofiles;
};

/* Parser state for one run. */
struct ini_parser {
	struct cw_ini *ini;
	const char *name;
	size_t line;
	long cur;        /* entry that indented lines continue, -1 when none */
	bool cur_sub;    /* those lines are sub-properties */
	char *err;
	size_t errlen;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Trim s[0..*n) in place: returns the new start, updates *n. */
static const char *trim(const char *s, size_t *n)
{
	while (*n && is_space(*s)) {
		s++;
		(*n)--;
	}
	while (*n && is_space(s[*n - 1]))
		(*n)--;
	return s;
}

/* Length of s[0..n) before an inline comment: '#' or ';' after a blank. */
static size_t cut_comment(const char *s, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if ((s[i] == '#' || s[i] == ';') && is_blank(s[i - 1]))
			return i;
	return n;
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static int perr(struct ini_parser *p, const char *why)
{
	return cw_fail(p->err, p->errlen, CW_EPARSE, "%s:%zu: %s", p->name, p->line, why);
}

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *na;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	if (ncap > SIZE_MAX / size)
		return CW_ENOMEM;
	na = realloc(*arr, ncap * size);
	if (!na)
		return CW_ENOMEM;
	*arr = na;
	*cap = ncap;
	return 0;
}

/* The profile a section defines in a file of this kind (new string), or
 * NULL with *rc == 0 when it defines none. */
static char *section_profile(enum cw_ini_kind kind, const char *raw, bool *explicit_prefix,
			     int *rc)
{
	const char *p;
	size_t n;
	char *r;

	*explicit_prefix = false;
	*rc = 0;
	if (kind == CW_INI_CREDENTIALS || strcmp(raw, "default") == 0)
		p = raw;
	else if (strncmp(raw, "profile", 7) == 0 && is_blank(raw[7]))
		p = raw + 7;
	else
		return NULL;
	n = strlen(p);
	p = trim(p, &n);
	if (!n || memchr(p, ' ', n) || memchr(p, '\t', n))
		return NULL; /* the SDKs ignore such sections too */
	*explicit_prefix = p != raw;
	r = cw_strndup(p, n);
	if (!r)
		*rc = CW_ENOMEM;
	return r;
}

static int add_section(struct ini_parser *p, const char *s, size_t n)
{
	struct cw_ini *ini = p->ini;
	struct ini_section *sec;
	int rc;

	rc = grow((void **)&ini->sections, &ini->capsections, ini->nsections,
		  sizeof(*ini->sections));
	if (rc)
		return rc;
	sec = &ini->sections[ini->nsections];
	sec->raw = cw_strndup(s, n);
	if (!sec->raw)
		return CW_ENOMEM;
	sec->profile = section_profile(ini->kind, sec->raw, &sec->explicit_prefix, &rc);
	if (rc) {
		free(sec->raw);
		return rc;
	}
	if (sec->profile && sec->explicit_prefix && strcmp(sec->profile, "default") == 0)
		ini->has_profile_default = true;
	ini->nsections++;
	return 0;
}

/* Add key (k, kn bytes; prefix "parent." when parent) = value (v, vn). */
static int add_entry(struct ini_parser *p, const char *parent, const char *k, size_t kn,
		     const char *v, size_t vn)
{
	struct cw_ini *ini = p->ini;
	struct ini_entry *e;
	int rc;

	rc = grow((void **)&ini->entries, &ini->capentries, ini->nentries,
		  sizeof(*ini->entries));
	if (rc)
		return rc;
	e = &ini->entries[ini->nentries];
	e->section = ini->nsections - 1;
	if (parent)
		e->key = cw_asprintf("%s.%.*s", parent, (int)kn, k);
	else
		e->key = cw_strndup(k, kn);
	e->value = cw_strndup(v, vn);
	if (!e->key || !e->value) {
		free(e->key);
		free(e->value);
		return CW_ENOMEM;
	}
	lower(e->key);
	ini->nentries++;
	return 0;
}

/* "key = value" (s, n: trimmed, not a comment); parent for sub-properties. */
static int property(struct ini_parser *p, const char *s, size_t n, const char *parent)
{
	const char *eq = memchr(s, '=', n), *k, *v;
	size_t kn, vn;

	if (!eq)
		return perr(p, parent ? "sub-property without '='" : "expected 'key = value'");
	kn = (size_t)(eq - s);
	k = trim(s, &kn);
	if (!kn)
		return perr(p, "property without a name");
	vn = n - (size_t)(eq - s) - 1;
	v = eq + 1;
	vn = cut_comment(v, vn);
	v = trim(v, &vn);
	return add_entry(p, parent, k, kn, v, vn);
}

/* An indented line after a property: a sub-property or more of its value. */
static int continuation(struct ini_parser *p, const char *s, size_t n)
{
	struct ini_entry *e = &p->ini->entries[p->cur];
	size_t old, cn;
	char *nv, *parent;
	int rc;

	if (p->cur_sub || e->value[0] == '\0') {
		p->cur_sub = true;
		parent = cw_strdup(e->key);
		if (!parent)
			return CW_ENOMEM;
		rc = property(p, s, n, parent);
		free(parent);
		return rc;
	}
	cn = cut_comment(s, n);
	s = trim(s, &cn);
	if (!cn)
		return 0;
	old = strlen(e->value);
	nv = realloc(e->value, old + cn + 2);
	if (!nv)
		return CW_ENOMEM;
	nv[old] = '\n';
	memcpy(nv + old + 1, s, cn);
	nv[old + 1 + cn] = '\0';
	e->value = nv;
	return 0;
}

static int header(struct ini_parser *p, const char *s, size_t n)
{
	const char *close = memchr(s, ']', n), *name;
	size_t rest, nn;

	if (!close)
		return perr(p, "section header without ']'");
	rest = n - (size_t)(close - s) - 1;
	if (rest) {
		const char *r = close + 1;

		r = trim(r, &rest);
		if (rest && r[0] != '#' && r[0] != ';')
			return perr(p, "unexpected text after section header");
	}
	nn = (size_t)(close - s) - 1;
	name = trim(s + 1, &nn);
	if (!nn)
		return perr(p, "empty section name");
	if (memchr(name, '[', nn))
		return perr(p, "'[' in section name");
	p->cur = -1;
	p->cur_sub = false;
	return add_section(p, name, nn);
}

static int parse_line(struct ini_parser *p, const char *s, size_t n)
{
	bool indented = n && is_blank(s[0]);
	const char *t;
	size_t tn = n;

	if (memchr(s, '\0', n))
		return perr(p, "NUL byte");
	t = trim(s, &tn);
	if (!tn || t[0] == '#' || t[0] == ';')
		return 0;
	if (indented && p->cur >= 0)
		return continuation(p, t, tn);
	if (t[0] == '[')
		return header(p, t, tn);
	if (!p->ini->nsections)
		return perr(p, "property outside any section");
	p->cur_sub = false;
	p->cur = (long)p->ini->nentries;
	return property(p, t, tn, NULL);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int collect_profiles(struct cw_ini *ini)
{
	size_t i, n = 0;

	ini->profiles = calloc(ini->nsections + 1, sizeof(*ini->profiles));
	if (!ini->profiles)
		return CW_ENOMEM;
	for (i = 0; i < ini->nsections; i++)
		if (ini->sections[i].profile)
			ini->profiles[n++] = ini->sections[i].profile;
	if (n)
		qsort(ini->profiles, n, sizeof(*ini->profiles), name_cmp);
	ini->nprofiles = 0;
	for (i = 0; i < n; i++)
		if (!ini->nprofiles ||
		    strcmp(ini->profiles[ini->nprofiles - 1], ini->profiles[i]) != 0)
			ini->profiles[ini->nprofiles++] = ini->profiles[i];
	ini->profiles[ini->nprofiles] = NULL;
	return 0;
}

int cw_ini_parse(struct cw_ini **out, const char *text, size_t len, enum cw_ini_kind kind,
		 const char *name, char *err, size_t errlen)
{
	struct ini_parser p;
	size_t pos = 0;
	int rc = 0;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.name = name ? name : "ini";
	p.cur = -1;
	p.err = err;
	p.errlen = errlen;
	if (len > CW_INI_MAX)
		return cw_fail(err, errlen, CW_ETOOBIG, "%s: larger than %zu bytes", p.name,
			       CW_INI_MAX);
	if (len && !text)
		return cw_fail(err, errlen, CW_EINVAL, "%s: no text", p.name);
	p.ini = calloc(1, sizeof(*p.ini));
	if (!p.ini) {
		rc = CW_ENOMEM;
		goto fail;
	}
	p.ini->kind = kind;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3; /* UTF-8 byte order mark */
	while (pos < len) {
		const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;

		pos += n + (nl != NULL);
		p.line++;
		rc = parse_line(&p, s, n);
		if (rc)
			goto fail;
	}
	rc = collect_profiles(p.ini);
	if (rc)
		goto fail;
	*out = p.ini;
	return 0;
fail:
	if (rc == CW_ENOMEM)
		cw_fail(err, errlen, rc, "%s: out of memory", p.name);
	cw_ini_free(p.ini);
	return rc;
}

void cw_ini_free(struct cw_ini *ini)
{
	size_t i;

	if (!ini)
		return;
	for (i = 0; i < ini->nentries; i++) {
		free(ini->entries[i].key);
		/* values include secret keys and session tokens */
		cw_wipe(ini->entries[i].value, strlen(ini->entries[i].value));
		free(ini->entries[i].value);
	}
	for (i = 0; i < ini->nsections; i++) {
		free(ini->sections[i].raw);
		free(ini->sections[i].profile);
	}
	free(ini->entries);
	free(ini->sections);
	free(ini->profiles);
	free(ini);
}

const char *cw_ini_get(const struct cw_ini *ini, const char *section, const char *key)
{
	size_t i;

	if (!ini || !section || !key)
		return NULL;
	for (i = ini->nentries; i-- > 0;) {
		const struct ini_entry *e = &ini->entries[i];

		if (cw_str_ieq(e->key, key) && strcmp(ini->sections[e->section].raw, section) == 0)
			return e->value;
	}
	return NULL;
}

/* Does section i define profile (config: "[profile default]" hides "[default]")? */
static bool section_is(const struct cw_ini *ini, size_t i, const char *profile)
{
	const struct ini_section *s = &ini->sections[i];

	if (!s->profile || strcmp(s->profile, profile) != 0)
		return false;
	if (ini->kind == CW_INI_CONFIG && strcmp(profile, "default") == 0)
		return s->explicit_prefix == ini->has_profile_default;
	return true;
}

const char *cw_ini_profile_get(const struct cw_ini *ini, const char *profile, const char *key)
{
	size_t i;

	if (!ini || !profile || !key)
		return NULL;
	for (i = ini->nentries; i-- > 0;) {
		const struct ini_entry *e = &ini->entries[i];

		if (cw_str_ieq(e->key, key) && section_is(ini, e->section, profile))
			return e->value;
	}
	return NULL;
}

bool cw_ini_has_profile(const struct cw_ini *ini, const char *profile)
{
	size_t i;

	if (!ini || !profile)
		return false;
	for (i = 0; i < ini->nsections; i++)
		if (section_is(ini, i, profile))
			return true;
	return false;
}

const char *const *cw_ini_profiles(const struct cw_ini *ini, size_t *n)
{
	static const char *const none[] = { NULL };

	if (!ini) {
		if (n)
			*n = 0;
		return none;
	}
	if (n)
		*n = ini->nprofiles;
	return ini->profiles;
}
