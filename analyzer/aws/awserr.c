/*
 * awserr.c - pull code, message and request id out of an AWS error answer
 * (JSON 1.0 with jansson, Query/XML with libexpat; never string search).
 *
 * Hostile input is expected (a broken proxy, a fuzzer): every field is
 * copied through clean_copy(), which bounds, trims, blanks control
 * characters and replaces invalid UTF-8, so the result can go into logs,
 * Markdown and JSON reports as is.  No shared state.
 */
#include "awserr.h"

#include <expat.h>
#include <jansson.h>
#include <stdbool.h>
#include <string.h>

#include "err.h"

/* Error answers are small; a large body (an HTML page from a proxy) is only
 * looked at this far. */
#define PARSE_MAX ((size_t)1024 * 1024)

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned int cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * Copy n bytes of src into dst (size dstlen >= 1), trimmed, with control
 * characters as spaces and invalid UTF-8 bytes as '?', cut on a character
 * boundary.
 */
static void clean_copy(char *dst, size_t dstlen, const char *src, size_t n)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0;

	while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
		s++;
		n--;
	}
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(s + i, n - i);

		if (k == 0) {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = '?';
			i++;
			continue;
		}
		if (o + k >= dstlen)
			break;
		if (k == 1) {
			dst[o++] = (s[i] < 0x20 || s[i] == 0x7f) ? ' ' : (char)s[i];
		} else {
			memcpy(dst + o, s + i, k);
			o += k;
		}
		i += k;
	}
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
}

static void clean_str(char *dst, size_t dstlen, const char *src)
{
	clean_copy(dst, dstlen, src, strlen(src));
}

/* "com.amazonaws.cloudwatch#ResourceNotFound:http://..." -> "ResourceNotFound" */
static void set_type_code(struct cw_awserr *out, const char *t)
{
	const char *hash = strrchr(t, '#');
	size_t n;

	if (hash)
		t = hash + 1;
	n = strcspn(t, ":");
	clean_copy(out->code, sizeof(out->code), t, n);
}

static const char *json_str(json_t *obj, const char *const *keys)
{
	for (size_t i = 0; keys[i]; i++) {
		const char *s = json_string_value(json_object_get(obj, keys[i]));

		if (s)
			return s;
	}
	return NULL;
}

static void parse_json(const char *body, size_t len, struct cw_awserr *out)
{
	static const char *const code_keys[] = { "__type", "code", "Code", NULL };
	static const char *const msg_keys[] = { "message", "Message", "errorMessage", NULL };
	static const char *const rid_keys[] = { "RequestId", "requestId", NULL };
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr);
	const char *s;

	if (!root)
		return;
	if (json_is_object(root)) {
		if ((s = json_str(root, code_keys)))
			set_type_code(out, s);
		if ((s = json_str(root, msg_keys)))
			clean_str(out->message, sizeof(out->message), s);
		if ((s = json_str(root, rid_keys)))
			clean_str(out->request_id, sizeof(out->request_id), s);
	}
	json_decref(root);
}

/* ---- XML ------------------------------------------------------------------ */

enum xfield { XF_NONE, XF_CODE, XF_MESSAGE, XF_TYPE, XF_RID };

struct xstate {
	XML_Parser p;
	struct cw_awserr *out;
	int depth;
	bool parent_is_error; /* the element at depth-1 is <Error> */
	int error_depth;      /* depth of the innermost open <Error>, 0 when none */
	enum xfield field;    /* collecting text for this field */
	int field_depth;
	char text[600];
	size_t text_len;
};

static void XMLCALL x_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct xstate *x = ud;

	(void)attrs;
	x->depth++;
	if (x->field != XF_NONE)
		return; /* markup inside a field: keep collecting its text */
	if (strcmp(name, "Error") == 0) {
		x->error_depth = x->depth;
		return;
	}
	if (x->error_depth && x->depth == x->error_depth + 1) {
		if (strcmp(name, "Code") == 0 && !x->out->code[0])
			x->field = XF_CODE;
		else if (strcmp(name, "Message") == 0 && !x->out->message[0])
			x->field = XF_MESSAGE;
		else if (strcmp(name, "Type") == 0 && !x->out->type[0])
			x->field = XF_TYPE;
	}
	if (x->field == XF_NONE && x->depth <= 3 && !x->out->request_id[0] &&
	    (strcmp(name, "RequestId") == 0 || strcmp(name, "RequestID") == 0))
		x->field = XF_RID;
	if (x->field != XF_NONE) {
		x->field_depth = x->depth;
		x->text_len = 0;
	}
}

static void XMLCALL x_end(void *ud, const XML_Char *name)
{
	struct xstate *x = ud;
	struct cw_awserr *o = x->out;

	(void)name;
	if (x->field != XF_NONE && x->depth == x->field_depth) {
		switch (x->field) {
		case XF_CODE:
			clean_copy(o->code, sizeof(o->code), x->text, x->text_len);
			break;
		case XF_MESSAGE:
			clean_copy(o->message, sizeof(o->message), x->text, x->text_len);
			break;
		case XF_TYPE:
			clean_copy(o->type, sizeof(o->type), x->text, x->text_len);
			break;
		case XF_RID:
			clean_copy(o->request_id, sizeof(o->request_id), x->text, x->text_len);
			break;
		case XF_NONE:
			break;
		}
		x->field = XF_NONE;
	}
	if (x->depth == x->error_depth)
		x->error_depth = 0;
	x->depth--;
}

static void XMLCALL x_text(void *ud, const XML_Char *s, int len)
{
	struct xstate *x = ud;
	size_t room;

	if (x->field == XF_NONE || len <= 0)
		return;
	room = sizeof(x->text) - x->text_len;
	if ((size_t)len < room)
		room = (size_t)len;
	memcpy(x->text + x->text_len, s, room);
	x->text_len += room;
}

/* AWS never sends a DTD: refuse them rather than expand entities. */
static void XMLCALL x_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
			      const XML_Char *pubid, int has_internal_subset)
{
	struct xstate *x = ud;

	(void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
	XML_StopParser(x->p, XML_FALSE);
}

static void parse_xml(const char *body, size_t len, struct cw_awserr *out)
{
	struct xstate x;

	memset(&x, 0, sizeof(x));
	x.out = out;
	x.p = XML_ParserCreate(NULL); /* the declared encoding; output is UTF-8 */
	if (!x.p)
		return;
	XML_SetUserData(x.p, &x);
	XML_SetElementHandler(x.p, x_start, x_end);
	XML_SetCharacterDataHandler(x.p, x_text);
	XML_SetStartDoctypeDeclHandler(x.p, x_doctype);
	XML_SetParamEntityParsing(x.p, XML_PARAM_ENTITY_PARSING_NEVER);
	/* Fields seen before a syntax error are kept: the answer was already
	 * an error, a half-readable code beats none. */
	(void)XML_Parse(x.p, body, (int)len, XML_TRUE);
	XML_ParserFree(x.p);
}

static void parse_query_header(const char *h, struct cw_awserr *out)
{
	size_t n = strcspn(h, ";");

	clean_copy(out->code, sizeof(out->code), h, n);
	if (h[n] == ';')
		clean_str(out->type, sizeof(out->type), h + n + 1);
}

static bool contains(const char *s, const char *needle)
{
	return s && strstr(s, needle) != NULL;
}

int cw_awserr_parse(const char *body, size_t len, const char *content_type,
		    const char *query_error_header, struct cw_awserr *out)
{
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	if (!body)
		len = 0;
	if (len > PARSE_MAX)
		len = PARSE_MAX;
	while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' ||
			   body[i] == '\n'))
		i++;
	if (i < len) {
		if (body[i] == '{')
			parse_json(body + i, len - i, out);
		else if (body[i] == '<')
			parse_xml(body + i, len - i, out);
		else if (contains(content_type, "json"))
			parse_json(body + i, len - i, out);
		/* anything else (text/plain, an HTML page) carries no AWS code */
	}
	if (query_error_header && *query_error_header) {
		struct cw_awserr q;

		memset(&q, 0, sizeof(q));
		parse_query_header(query_error_header, &q);
		if (q.code[0]) {
			memcpy(out->code, q.code, sizeof(out->code));
			if (q.type[0])
				memcpy(out->type, q.type, sizeof(out->type));
		}
	}
	return out->code[0] ? 0 : CW_ENOTFOUND;
}
