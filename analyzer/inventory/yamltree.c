/*
 * yamltree.c - build a position-keeping node tree from libyaml events.
 *
 * An explicit stack of open collections, capped at CW_YT_MAX_DEPTH.
 * Anchors and aliases are resolved here: an alias becomes a copy of its
 * anchored node (only complete nodes can be aliased, so there are no
 * cycles), and every copy is charged to one budget so that a small file
 * cannot expand into gigabytes.  Merge keys (`<<: *base`) are applied
 * when their map ends.  Each node records the 1-based line and column of its
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

struct anchor {
	char *name;                /* owned */
	struct cw_yt_node *node;   /* borrowed from the tree; NULL while still open */
};

struct builder {
	const char *name;
	const char *text;
	size_t len;
	struct cw_diags *diags;
	struct cw_yt_node *stack[CW_YT_MAX_DEPTH + 1];
	struct cw_yt_node *pending_key[CW_YT_MAX_DEPTH + 1]; /* map frames */
	char *open_anchor[CW_YT_MAX_DEPTH + 1];             /* anchor of each open frame */
	int depth;
	struct anchor *anchors;
	size_t nanchors, anchors_cap;
	size_t expanded;   /* bytes that aliases have copied so far */
	/* merge-key entries taken out of their maps: an anchor may still name
	 * them (`<<: &base {...}`), so they are freed when the parse ends */
	struct cw_yt_node **retired;
	size_t nretired, retired_cap;
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

struct cw_yt_node *cw_yt_new_scalar(const char *s)
{
	struct cw_yt_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->kind = CW_YT_SCALAR;
	n->len = strlen(s);
	n->str = cw_strdup(s);
	if (!n->str) {
		free(n);
		return NULL;
	}
	return n;
}

struct cw_yt_node *cw_yt_new(enum cw_yt_kind kind)
{
	struct cw_yt_node *n = calloc(1, sizeof(*n));

	if (n)
		n->kind = kind;
	return n;
}

int cw_yt_map_add(struct cw_yt_node *map, struct cw_yt_node *key, struct cw_yt_node *val)
{
	if (!key || !val || grow((void **)&map->pairs, &map->cap, map->n, sizeof(*map->pairs))) {
		cw_yt_free(key);
		cw_yt_free(val);
		return CW_ENOMEM;
	}
	map->pairs[map->n].key = key;
	map->pairs[map->n].val = val;
	map->n++;
	return 0;
}

int cw_yt_seq_add(struct cw_yt_node *seq, struct cw_yt_node *item)
{
	if (!item || grow((void **)&seq->items, &seq->cap, seq->n, sizeof(*seq->items))) {
		cw_yt_free(item);
		return CW_ENOMEM;
	}
	seq->items[seq->n++] = item;
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

static void check_tag(struct builder *b, const yaml_mark_t *m, const char *tag,
		      const char *allowed_tag)
{
	if (tag && strcmp(tag, allowed_tag) != 0 && strcmp(tag, "!") != 0) {
		cw_diags_add(b->diags, b->name, (int)m->line + 1, (int)m->column + 1,
			     "YAML tag %s is not supported", tag);
	}
}

/* Remember &name for node (NULL: a collection still open).  Takes nothing. */
static int anchor_add(struct builder *b, const char *name, struct cw_yt_node *node)
{
	char *s;
	int rc;

	if (!name)
		return 0;
	rc = grow((void **)&b->anchors, &b->anchors_cap, b->nanchors, sizeof(*b->anchors));
	if (rc)
		return rc;
	s = cw_strdup(name);
	if (!s)
		return CW_ENOMEM;
	b->anchors[b->nanchors].name = s;
	b->anchors[b->nanchors].node = node;
	b->nanchors++;
	return 0;
}

/* The latest anchor called name (a later &name redefines it), or NULL. */
static struct anchor *anchor_find(struct builder *b, const char *name)
{
	for (size_t i = b->nanchors; i-- > 0;)
		if (strcmp(b->anchors[i].name, name) == 0)
			return &b->anchors[i];
	return NULL;
}

/* Levels below and including n (1 for a scalar). */
static int node_height(const struct cw_yt_node *n)
{
	int h = 0;

	for (size_t i = 0; n->kind == CW_YT_SEQ && i < n->n; i++) {
		int k = node_height(n->items[i]);

		h = k > h ? k : h;
	}
	for (size_t i = 0; n->kind == CW_YT_MAP && i < n->n; i++) {
		int k = node_height(n->pairs[i].val);

		h = k > h ? k : h;
	}
	return h + 1;
}

/*
 * A deep copy of n in *out, charged to b->expanded: CW_ETOOBIG once the
 * aliases of the document would copy more than CW_YT_MAX_EXPANSION bytes
 * (the "billion laughs" document: nine levels of ten aliases each).
 */
static int node_copy(struct builder *b, const struct cw_yt_node *n, struct cw_yt_node **out)
{
	struct cw_yt_node *c;
	int rc = 0;

	*out = NULL;
	b->expanded += sizeof(*n) + n->len + n->n * sizeof(struct cw_yt_pair);
	if (b->expanded > CW_YT_MAX_EXPANSION)
		return CW_ETOOBIG;
	c = calloc(1, sizeof(*c));
	if (!c)
		return CW_ENOMEM;
	c->kind = n->kind;
	c->line = n->line;
	c->col = n->col;
	c->plain = n->plain;
	c->bad = n->bad;
	c->len = n->len;
	if (n->str && !(c->str = cw_strndup(n->str, n->len)))
		rc = CW_ENOMEM;
	if (rc == 0 && n->n) {
		c->cap = n->n;
		if (n->kind == CW_YT_SEQ)
			c->items = calloc(n->n, sizeof(*c->items));
		else
			c->pairs = calloc(n->n, sizeof(*c->pairs));
		if (!c->items && !c->pairs)
			rc = CW_ENOMEM;
	}
	for (size_t i = 0; rc == 0 && i < n->n; i++) {
		struct cw_yt_node *k = NULL, *v = NULL;

		if (n->kind == CW_YT_SEQ) {
			rc = node_copy(b, n->items[i], &v);
			if (rc == 0)
				c->items[c->n++] = v;
			continue;
		}
		rc = node_copy(b, n->pairs[i].key, &k);
		if (rc == 0)
			rc = node_copy(b, n->pairs[i].val, &v);
		if (rc) {
			cw_yt_free(k);
			break;
		}
		c->pairs[c->n].key = k;
		c->pairs[c->n].val = v;
		c->n++;
	}
	if (rc) {
		cw_yt_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

static int on_alias(struct builder *b, const yaml_event_t *e)
{
	const yaml_mark_t *m = &e->start_mark;
	const char *name = (const char *)e->data.alias.anchor;
	struct anchor *a = anchor_find(b, name);
	struct cw_yt_node *n;
	int rc;

	if (!a || !a->node) {
		cw_diags_add(b->diags, b->name, (int)m->line + 1, (int)m->column + 1,
			     a ? "alias *%s: refers to the collection that holds it (a cycle)"
			       : "alias *%s: no anchor &%s before it", name, name);
		b->failed = true;
		return 0;
	}
	if (b->depth + node_height(a->node) > CW_YT_MAX_DEPTH) {
		cw_diags_add(b->diags, b->name, (int)m->line + 1, (int)m->column + 1,
			     "alias *%s: nested more than %d levels deep once expanded", name,
			     CW_YT_MAX_DEPTH);
		b->failed = true;
		return 0;
	}
	rc = node_copy(b, a->node, &n);
	if (rc == CW_ETOOBIG) {
		cw_diags_add(b->diags, b->name, (int)m->line + 1, (int)m->column + 1,
			     "alias *%s: aliases expand to more than %zu MiB; write the "
			     "values out", name, (size_t)CW_YT_MAX_EXPANSION >> 20);
		b->failed = true;
		return 0;
	}
	if (rc)
		return rc;
	n->line = (int)m->line + 1; /* the top of a copy points at the alias itself */
	n->col = (int)m->column + 1;
	return attach(b, n);
}

static bool is_merge_key(const struct cw_yt_node *k)
{
	return k->kind == CW_YT_SCALAR && k->plain && strcmp(k->str, "<<") == 0;
}

static bool map_has(const struct cw_yt_node *map, const char *key)
{
	for (size_t i = 0; i < map->n; i++)
		if (!is_merge_key(map->pairs[i].key) && strcmp(map->pairs[i].key->str, key) == 0)
			return true;
	return false;
}

/*
 * YAML merge keys: `<<: *base` (or `<<: [*a, *b]`) adds copies of the
 * entries of the merged maps that the map does not set itself; with a
 * list, earlier maps win.  The `<<` entry is taken out of the map (and
 * freed at the end of the parse, since an anchor may name its value).
 */
static int merge_keys(struct builder *b, struct cw_yt_node *map)
{
	size_t i = 0;

	while (i < map->n) {
		struct cw_yt_node *key = map->pairs[i].key, *val = map->pairs[i].val;
		struct cw_yt_node **src;
		size_t nsrc;

		if (!is_merge_key(key)) {
			i++;
			continue;
		}
		src = val->kind == CW_YT_SEQ ? val->items : &val;
		nsrc = val->kind == CW_YT_SEQ ? val->n : 1;
		for (size_t k = 0; k < nsrc; k++)
			if (src[k]->kind != CW_YT_MAP) {
				cw_diags_add(b->diags, b->name, src[k]->line, src[k]->col,
					     "<<: merges a map (or a list of maps), not %s",
					     cw_yt_what(src[k]));
				b->failed = true;
				return 0;
			}
		/* copies, not the nodes themselves: an anchor may name the merged
		 * map, and a later alias must see it whole */
		for (size_t k = 0; k < nsrc; k++) {
			const struct cw_yt_node *from = src[k];

			for (size_t j = 0; j < from->n; j++) {
				struct cw_yt_node *ck = NULL, *cv = NULL;
				int rc;

				if (map_has(map, from->pairs[j].key->str))
					continue;
				rc = node_copy(b, from->pairs[j].key, &ck);
				if (!rc)
					rc = node_copy(b, from->pairs[j].val, &cv);
				if (!rc)
					rc = cw_yt_map_add(map, ck, cv);
				else
					cw_yt_free(ck);
				if (rc == CW_ETOOBIG) {
					cw_diags_add(b->diags, b->name, key->line, key->col,
						     "<<: aliases expand to more than %zu MiB; write "
						     "the values out", (size_t)CW_YT_MAX_EXPANSION >> 20);
					b->failed = true;
					return 0;
				}
				if (rc)
					return rc;
			}
		}
		if (grow((void **)&b->retired, &b->retired_cap, b->nretired + 1,
			 sizeof(*b->retired)))
			return CW_ENOMEM;
		b->retired[b->nretired++] = key;
		b->retired[b->nretired++] = val;
		memmove(&map->pairs[i], &map->pairs[i + 1], (map->n - i - 1) * sizeof(*map->pairs));
		map->n--;
	}
	return 0;
}

static int on_event(struct builder *b, const yaml_event_t *e)
{
	struct cw_yt_node *n;
	const yaml_mark_t *m = &e->start_mark;
	const char *anchor;

	switch (e->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++b->ndocs > 1) {
			cw_diags_add(b->diags, b->name, (int)m->line + 1, (int)m->column + 1,
				     "more than one YAML document; an inventory is one document");
			b->failed = true;
		}
		return 0;
	case YAML_ALIAS_EVENT:
		return on_alias(b, e);
	case YAML_SCALAR_EVENT:
		check_tag(b, m, (const char *)e->data.scalar.tag, TAG_STR);
		n = node_new(CW_YT_SCALAR, m);
		if (!n)
			return CW_ENOMEM;
		if (anchor_add(b, (const char *)e->data.scalar.anchor, n)) {
			cw_yt_free(n);
			return CW_ENOMEM;
		}
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
			check_tag(b, m, (const char *)e->data.sequence_start.tag, TAG_SEQ);
		else
			check_tag(b, m, (const char *)e->data.mapping_start.tag, TAG_MAP);
		anchor = e->type == YAML_SEQUENCE_START_EVENT ?
			 (const char *)e->data.sequence_start.anchor :
			 (const char *)e->data.mapping_start.anchor;
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
		b->open_anchor[b->depth] = NULL;
		b->depth++;
		if (anchor_add(b, anchor, NULL))
			return CW_ENOMEM;
		if (anchor)
			b->open_anchor[b->depth - 1] = b->anchors[b->nanchors - 1].name;
		return 0;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		b->depth--;
		n = b->stack[b->depth];
		b->stack[b->depth] = NULL;
		/* a dropped non-scalar key leaves no pending key; nothing else can */
		cw_yt_free(b->pending_key[b->depth]);
		b->pending_key[b->depth] = NULL;
		if (n->kind == CW_YT_MAP) {
			int rc = merge_keys(b, n);

			if (rc) {
				cw_yt_free(n);
				return rc;
			}
		}
		if (b->open_anchor[b->depth]) { /* now complete: aliases may copy it */
			for (size_t i = b->nanchors; i-- > 0;)
				if (b->anchors[i].name == b->open_anchor[b->depth]) {
					b->anchors[i].node = n;
					break;
				}
			b->open_anchor[b->depth] = NULL;
		}
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
	for (size_t i = 0; i < b.nanchors; i++)
		free(b.anchors[i].name);
	free(b.anchors);
	for (size_t i = 0; i < b.nretired; i++)
		cw_yt_free(b.retired[i]);
	free(b.retired);
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
