/*
 * yamltree.c - build a position-keeping node tree from libyaml events.
 *
 * An explicit stack of open collections (no recursion), capped at
 * CW_YT_MAX_DEPTH.  Each node records the 1-based line and column of its
 * start mark; libyaml counts columns in characters, as editors do.
 */
#include "yamltree.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "err.h"
#include "strutil.h"

#define TAG_STR "tag:yaml.org,2002:str"
#define TAG_SEQ "tag:yaml.org,2002:seq"
#define TAG_MAP "tag:yaml.org,2002:map"

struct builder {
	const char *name;
	const char *text;
	size_t len;
	struct cw_diags *diags;
	struct cw_yt_node *stack[CW_YT_MAX_DEPTH + 1];
	struct cw_yt_node *pending_key[CW_YT_MAX_DEPTH + 1]; /* map frames */
	int depth;
	struct cw_yt_node *root;
	int ndocs;
	bool failed; /* a problem that makes the tree unusable was reported */
};

void cw_yt_free(struct cw_yt_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; n->kind == CW_YT_SEQ && i < n->n; i++)
		cw_yt_free(n->items[i]);
	for (size_t i = 0; n->kind == CW_YT_MAP && i < n->n; i++) {
		cw_yt_free(n->pairs[i].key);
		cw_yt_free(n->pairs[i].val);
	}
	free(n->items);
	free(n->pairs);
	free(n->str);
	free(n);
}

bool cw_yt_is_null(const struct cw_yt_node *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };

	if (!n || n->kind != CW_YT_SCALAR || !n->plain)
		return false;
	for (size_t i = 0; nulls[i]; i++)
		if (strcmp(n->str, nulls[i]) == 0)
			return true;
	return false;
}

const char *cw_yt_what(const struct cw_yt_node *n)
{
	if (!n || cw_yt_is_null(n))
		return "nothing";
	switch (n->kind) {
	case CW_YT_SEQ:
		return "a list";
	case CW_YT_MAP:
		return "a map";
	default:
		return "a string";
	}
}

const struct cw_yt_node *cw_yt_get(const struct cw_yt_node *map, const char *key)
{
	if (!map || map->kind != CW_YT_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(map->pairs[i].key->str, key) == 0)
			return map->pairs[i].val;
	return NULL;
}

static struct cw_yt_node *node_new(enum cw_yt_kind kind, const yaml_mark_t *m)
{
	struct cw_yt_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->kind = kind;
	n->line = (int)m->line + 1;
	n->col = (int)m->column + 1;
	return n;
}

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *p;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 8;
	p = realloc(*v, c * size);
	if (!p)
		return CW_ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

/* Hang n under the innermost open collection (or make it the root).  Takes n. */
static int attach(struct builder *b, struct cw_yt_node *n)
{
	struct cw_yt_node *top;
	int rc;

	if (b->depth == 0) {
		b->root = n;
		return 0;
	}
	top = b->stack[b->depth - 1];
	if (top->kind == CW_YT_SEQ) {
		rc = grow((void **)&top->items, &top->cap, top->n, sizeof(*top->items));
		if (rc) {
			cw_yt_free(n);
			return rc;
		}
		top->items[top->n++] = n;
		return 0;
	}
	if (!b->pending_key[b->depth - 1]) {
		if (n->kind != CW_YT_SCALAR) {
			cw_diags_add(b->diags, b->name, n->line, n->col,
				     "a map key must be a plain name, not %s", cw_yt_what(n));
			b->failed = true;
			cw_yt_free(n);
			return 0;
		}
		b->pending_key[b->depth - 1] = n;
		return 0;
	}
	rc = grow((void **)&top->pairs, &top->cap, top->n, sizeof(*top->pairs));
	if (rc) {
		cw_yt_free(n);
		return rc;
	}
	top->pairs[top->n].key = b->pending_key[b->depth - 1];
	top->pairs[top->n].val = n;
	top->n++;
	b->pending_key[b->depth - 1] = NULL;
	return 0;
}

static void check_props(struct builder *b, const yaml_mark_t *m, const char *anchor,
			const char *tag, const char *allowed_tag)
{
	if (anchor) {
		cw_diags_add(b->diags, b->name, (int)m->line + 1, (int)m->column + 1,
			     "anchor &%s: anchors and aliases are not supported; "
			     "write the value out", anchor);
	}
	if (tag && strcmp(tag, allowed_tag) != 0 && strcmp(tag, "!") != 0) {
		cw_diags_add(b->diags, b->name, (int)m->line + 1, (int)m->column + 1,
			     "YAML tag %s is not supported", tag);
	}
}

static int on_event(struct builder *b, const yaml_event_t *e)
{
	struct cw_yt_node *n;
	const yaml_mark_t *m = &e->start_mark;

	switch (e->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++b->ndocs > 1) {
			cw_diags_add(b->diags, b->name, (int)m->line + 1, (int)m->column + 1,
				     "more than one YAML document; an inventory is one document");
			b->failed = true;
		}
		return 0;
	case YAML_ALIAS_EVENT:
		cw_diags_add(b->diags, b->name, (int)m->line + 1, (int)m->column + 1,
			     "alias *%s: anchors and aliases are not supported; "
			     "write the value out", (const char *)e->data.alias.anchor);
		n = node_new(CW_YT_SCALAR, m);
		if (!n || !(n->str = cw_strdup(""))) {
			cw_yt_free(n);
			return CW_ENOMEM;
		}
		n->plain = true;
		n->bad = true;
		return attach(b, n);
	case YAML_SCALAR_EVENT:
		check_props(b, m, (const char *)e->data.scalar.anchor,
			    (const char *)e->data.scalar.tag, TAG_STR);
		n = node_new(CW_YT_SCALAR, m);
		if (!n)
			return CW_ENOMEM;
		n->len = e->data.scalar.length;
		n->str = cw_strndup((const char *)e->data.scalar.value, n->len);
		if (!n->str) {
			cw_yt_free(n);
			return CW_ENOMEM;
		}
		if (memchr(e->data.scalar.value, '\0', n->len)) {
			cw_diags_add(b->diags, b->name, n->line, n->col,
				     "a NUL character inside a value");
			n->bad = true;
		}
		n->plain = e->data.scalar.plain_implicit && !e->data.scalar.tag &&
			   e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		return attach(b, n);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (e->type == YAML_SEQUENCE_START_EVENT)
			check_props(b, m, (const char *)e->data.sequence_start.anchor,
				    (const char *)e->data.sequence_start.tag, TAG_SEQ);
		else
			check_props(b, m, (const char *)e->data.mapping_start.anchor,
				    (const char *)e->data.mapping_start.tag, TAG_MAP);
		if (b->depth == CW_YT_MAX_DEPTH) {
			cw_diags_add(b->diags, b->name, (int)m->line + 1, (int)m->column + 1,
				     "nested more than %d levels deep", CW_YT_MAX_DEPTH);
			b->failed = true;
			return CW_EPARSE;
		}
		n = node_new(e->type == YAML_SEQUENCE_START_EVENT ? CW_YT_SEQ : CW_YT_MAP, m);
		if (!n)
			return CW_ENOMEM;
		b->stack[b->depth] = n;
		b->pending_key[b->depth] = NULL;
		b->depth++;
		return 0;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		b->depth--;
		n = b->stack[b->depth];
		b->stack[b->depth] = NULL;
		/* a dropped non-scalar key leaves no pending key; nothing else can */
		cw_yt_free(b->pending_key[b->depth]);
		b->pending_key[b->depth] = NULL;
		return attach(b, n);
	default:
		return 0;
	}
}

/* Line and column of a byte offset (for reader errors, which carry no mark). */
static void offset_pos(const char *text, size_t len, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

static void syntax_error(struct builder *b, const yaml_parser_t *p)
{
	int line, col;
	const char *problem = p->problem ? p->problem : "malformed YAML";

	if (p->error == YAML_READER_ERROR) {
		offset_pos(b->text, b->len, p->problem_offset, &line, &col);
		cw_diags_add(b->diags, b->name, line, col, "YAML syntax error: %s", problem);
		return;
	}
	line = (int)p->problem_mark.line + 1;
	col = (int)p->problem_mark.column + 1;
	if (p->context)
		cw_diags_add(b->diags, b->name, line, col,
			     "YAML syntax error: %s (%s at line %d, column %d)", problem,
			     p->context, (int)p->context_mark.line + 1,
			     (int)p->context_mark.column + 1);
	else
		cw_diags_add(b->diags, b->name, line, col, "YAML syntax error: %s", problem);
}

int cw_yt_parse(struct cw_yt_node **root, const char *name, const char *text,
		size_t len, struct cw_diags *diags)
{
	struct builder b;
	yaml_parser_t parser;
	yaml_event_t ev;
	int rc = 0;
	bool done = false;

	*root = NULL;
	memset(&b, 0, sizeof(b));
	b.name = name;
	b.text = text;
	b.len = len;
	b.diags = diags;
	if (!yaml_parser_initialize(&parser))
		return CW_ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done && rc == 0 && !b.failed) {
		if (!yaml_parser_parse(&parser, &ev)) {
			if (parser.error == YAML_MEMORY_ERROR) {
				rc = CW_ENOMEM;
			} else {
				syntax_error(&b, &parser);
				rc = CW_EPARSE;
			}
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = on_event(&b, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	while (b.depth > 0) {
		b.depth--;
		cw_yt_free(b.pending_key[b.depth]);
		cw_yt_free(b.stack[b.depth]);
	}
	if (rc == 0 && b.failed)
		rc = CW_EPARSE;
	if (rc) {
		cw_yt_free(b.root);
		return rc;
	}
	*root = b.root;
	return 0;
}
