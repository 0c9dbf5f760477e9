/*
 * yamltree.h - a YAML document as a small tree whose nodes keep their line
 * and column, built from libyaml's event API.
 *
 * Only what an inventory needs: maps, sequences and scalars.  Anchors and
 * aliases are resolved into copies (bounded by CW_YT_MAX_EXPANSION bytes
 * in all, so a "billion laughs" file is refused) and merge keys
 * (`<<: *base`) are applied.  Tags other than !!str/!!map/!!seq, an alias
 * with no anchor before it, and more than one document are reported as
 * problems; duplicate keys are left to the caller, which knows the key's
 * path.  Nesting is capped at CW_YT_MAX_DEPTH levels, aliases included.
 */
#ifndef CW_YAMLTREE_H
#define CW_YAMLTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "inventory.h"

#define CW_YT_MAX_DEPTH 64
#define CW_YT_MAX_EXPANSION ((size_t)16 << 20) /* bytes copied by aliases, in all */

enum cw_yt_kind { CW_YT_SCALAR, CW_YT_SEQ, CW_YT_MAP };

struct cw_yt_node;

struct cw_yt_pair {
	struct cw_yt_node *key; /* always a scalar */
	struct cw_yt_node *val;
};

struct cw_yt_node {
	enum cw_yt_kind kind;
	int line, col;   /* 1-based position of the node's first character */
	bool plain;      /* scalar written without quotes or tag (may mean null/bool/number) */
	bool bad;        /* stands in for something already reported */
	char *str;       /* scalar text, NUL-terminated (owned) */
	size_t len;
	struct cw_yt_node **items; /* sequence items (owned) */
	struct cw_yt_pair *pairs;  /* map entries in document order (owned) */
	size_t n, cap;             /* items or pairs */
};

/*
 * Parse len bytes of text.  *root gets the document's root node (owned by
 * the caller: cw_yt_free), or NULL when the stream holds no document.
 * Problems go to diags under the file name `name`.  Returns 0, CW_EPARSE
 * (syntax error or unsupported construct; *root is NULL), or CW_ENOMEM.
 */
int cw_yt_parse(struct cw_yt_node **root, const char *name, const char *text,
		size_t len, struct cw_diags *diags);

void cw_yt_free(struct cw_yt_node *n);

/* ---- building nodes (documents made by the program, e.g. the accounts
 * that Organizations lists); such nodes have line and column 0 ---------- */

/* A new quoted (not plain) scalar holding a copy of s; NULL when out of memory. */
struct cw_yt_node *cw_yt_new_scalar(const char *s);
/* A new empty map or sequence; NULL when out of memory. */
struct cw_yt_node *cw_yt_new(enum cw_yt_kind kind);
/* Append to a map (takes key and val, even on failure) or a sequence (takes
 * item).  0 or CW_ENOMEM. */
int cw_yt_map_add(struct cw_yt_node *map, struct cw_yt_node *key, struct cw_yt_node *val);
int cw_yt_seq_add(struct cw_yt_node *seq, struct cw_yt_node *item);

/* A plain empty, ~, null, Null or NULL scalar. */
bool cw_yt_is_null(const struct cw_yt_node *n);

/* "a string", "a list", "a map" (or "nothing" for a null scalar). */
const char *cw_yt_what(const struct cw_yt_node *n);

/* The value for key in a map, or NULL. */
const struct cw_yt_node *cw_yt_get(const struct cw_yt_node *map, const char *key);

#endif
