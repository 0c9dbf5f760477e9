/*
 * escape.c - making outside text safe for Markdown, CSV, JSON and the
 * terminal (see escape.h).
 */
#include "escape.h"

#include <stdint.h>
#include <string.h>

#include "err.h"

/* U+FFFD REPLACEMENT CHARACTER, what an invalid byte becomes. */
static const char utf8_bad[] = "\xef\xbf\xbd";

size_t cw_utf8_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	/* A NUL stops the loop because it is not a continuation byte. */
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff)
		return 0; /* overlong or out of range */
	if (cp >= 0xd800 && cp <= 0xdfff)
		return 0; /* UTF-16 surrogate */
	return n;
}

/*
 * Which ASCII bytes a format copies as they are: bit c of ok[c / 64].
 * Control characters (below 0x20, and 0x7f) and the format's `special`
 * ones are not plain; the others go out in runs, without a call each.
 */
struct plain {
	uint64_t ok[2];
};

static struct plain plain_of(const char *special)
{
	struct plain p = { { ~(uint64_t)0xffffffffu, ~((uint64_t)1 << 63) } };

	for (; *special; special++)
		p.ok[(unsigned char)*special >> 6] &= ~((uint64_t)1 << ((unsigned char)*special & 63));
	return p;
}

static inline bool is_plain(const struct plain *p, char c)
{
	unsigned char u = (unsigned char)c;

	return u < 0x80 && (p->ok[u >> 6] >> (u & 63) & 1);
}

/*
 * Walk s one character at a time: runs of plain ASCII bytes are copied,
 * other ASCII bytes go to `ascii` (which appends what it likes), valid
 * multi-byte sequences are copied, invalid bytes become U+FFFD.  no_c1:
 * C1 control characters (U+0080..U+009F) become '?' too.  special: the
 * printable ASCII bytes that `ascii` changes.
 */
static int walk(struct cw_buf *out, const char *s, const char *special,
		int (*ascii)(struct cw_buf *out, char c), bool no_c1)
{
	struct plain pl;
	int rc;

	if (!s)
		return 0;
	pl = plain_of(special);
	while (*s) {
		size_t n = 0;

		while (is_plain(&pl, s[n]))
			n++;
		if (n) {
			if ((rc = cw_buf_add(out, s, n)))
				return rc;
			s += n;
			continue;
		}
		n = cw_utf8_len(s);
		if (n == 1)
			rc = ascii(out, *s);
		else if (n == 2 && no_c1 && (unsigned char)s[0] == 0xc2 &&
			 (unsigned char)s[1] < 0xa0)
			rc = cw_buf_addch(out, '?'); /* C1 control, e.g. CSI */
		else if (n == 0)
			rc = cw_buf_add(out, utf8_bad, sizeof(utf8_bad) - 1);
		else
			rc = cw_buf_add(out, s, n);
		if (rc)
			return rc;
		s += n ? n : 1;
	}
	return 0;
}

static bool is_ctl(char c)
{
	return (unsigned char)c < 0x20 || c == 0x7f;
}

/* ---- Markdown ---------------------------------------------------------- */

/* Everything that starts emphasis, code, links, HTML, headings,
 * strike-through, entities or ends a table cell. */
#define MD_SPECIAL "\\|*_`[]<>#~&!"

static int md_char(struct cw_buf *out, char c)
{
	/* Table cells end at a line break: keep the text on one line. */
	if (is_ctl(c))
		return cw_buf_addch(out, ' ');
	if (strchr(MD_SPECIAL, c)) {
		int rc = cw_buf_addch(out, '\\');

		return rc ? rc : cw_buf_addch(out, c);
	}
	return cw_buf_addch(out, c);
}

int cw_md_escape(struct cw_buf *out, const char *s)
{
	return walk(out, s, MD_SPECIAL, md_char, false);
}

/* ---- CSV --------------------------------------------------------------- */

static int csv_char(struct cw_buf *out, char c)
{
	if (c == '"')
		return cw_buf_add(out, "\"\"", 2);
	return cw_buf_addch(out, c);
}

/* The length of s when it is all printable ASCII without any of the two
 * bytes a and b (a cell that goes out as it is), else SIZE_MAX. */
static size_t plain_run(const char *s, char a, char b)
{
	size_t n = 0;

	while ((unsigned char)s[n] >= 0x20 && (unsigned char)s[n] < 0x7f && s[n] != a &&
	       s[n] != b)
		n++;
	return s[n] ? SIZE_MAX : n;
}

int cw_csv_cell(struct cw_buf *out, const char *s, bool is_text)
{
	bool guard, quote;
	size_t n;
	int rc;

	if (!s)
		s = "";
	/* the usual cell: nothing to quote, double or guard */
	n = plain_run(s, ',', '"');
	if (n != SIZE_MAX && !(is_text && n && strchr("=+-@", s[0])))
		return cw_buf_add(out, s, n);
	guard = is_text && s[0] && strchr("=+-@\t\r", s[0]);
	quote = strpbrk(s, ",\"\r\n") != NULL;
	if (quote && (rc = cw_buf_addch(out, '"')))
		return rc;
	if (guard && (rc = cw_buf_addch(out, '\'')))
		return rc;
	if ((rc = walk(out, s, "\"", csv_char, false)))
		return rc;
	return quote ? cw_buf_addch(out, '"') : 0;
}

/* ---- JSON -------------------------------------------------------------- */

static int json_char(struct cw_buf *out, char c)
{
	switch (c) {
	case '"':
		return cw_buf_add(out, "\\\"", 2);
	case '\\':
		return cw_buf_add(out, "\\\\", 2);
	case '\n':
		return cw_buf_add(out, "\\n", 2);
	case '\r':
		return cw_buf_add(out, "\\r", 2);
	case '\t':
		return cw_buf_add(out, "\\t", 2);
	default:
		if (is_ctl(c))
			return cw_buf_printf(out, "\\u%04x", (unsigned)(unsigned char)c);
		return cw_buf_addch(out, c);
	}
}

int cw_json_string(struct cw_buf *out, const char *s)
{
	size_t n = s ? plain_run(s, '"', '\\') : SIZE_MAX;
	int rc;

	/* the usual string: nothing to escape */
	if (n != SIZE_MAX) {
		if ((rc = cw_buf_addch(out, '"')) || (rc = cw_buf_add(out, s, n)))
			return rc;
		return cw_buf_addch(out, '"');
	}
	if ((rc = cw_buf_addch(out, '"')) || (rc = walk(out, s, "\"\\", json_char, false)))
		return rc;
	return cw_buf_addch(out, '"');
}

/* ---- terminal ---------------------------------------------------------- */

static int term_char(struct cw_buf *out, char c)
{
	return cw_buf_addch(out, is_ctl(c) ? '?' : c);
}

int cw_term_escape(struct cw_buf *out, const char *s)
{
	return walk(out, s, "", term_char, true);
}

static int html_ascii(struct cw_buf *out, char c)
{
	switch (c) {
	case '&':
		return cw_buf_addstr(out, "&amp;");
	case '<':
		return cw_buf_addstr(out, "&lt;");
	case '>':
		return cw_buf_addstr(out, "&gt;");
	case '"':
		return cw_buf_addstr(out, "&quot;");
	case '\'':
		return cw_buf_addstr(out, "&#39;");
	default:
		/* HTML has no way to write most control characters at all */
		return cw_buf_addch(out, is_ctl(c) ? ' ' : c);
	}
}

int cw_html_escape(struct cw_buf *out, const char *s)
{
	return walk(out, s, "&<>\"'", html_ascii, true);
}
