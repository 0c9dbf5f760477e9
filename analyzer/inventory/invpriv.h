/*
 * invpriv.h - what the inventory's parsing files share (not a public API).
 *
 * The parse walks the node tree that yamltree.c builds.  Each map is read
 * through a small table of keys (name, handler, required), in the spirit of
 * nginx's command tables; the same table answers "did you mean" for an
 * unknown key.  Handlers report problems with cw_inv_diag() and carry on,
 * so one parse reports every problem in the file.
 */
#ifndef CW_INVPRIV_H
#define CW_INVPRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inventory.h"
#include "yamltree.h"

#define CW_INV_PATHLEN 256   /* "accounts[12].buckets[3].detectors.zscore.factor" */
#define CW_INV_MAX_DIAGS 500 /* past this, one last "too many problems" */
#define CW_INV_MAX_BYTES ((size_t)16 * 1024 * 1024)

struct cw_inv_ctx {
	const char *file;
	struct cw_diags *diags;
	size_t first_diag;  /* diags before this were there when the parse started */
	bool oom;           /* an allocation failed: the parse fails with CW_ENOMEM */
	bool capped;        /* CW_INV_MAX_DIAGS reached */
};

/* Report "path: message" at node `at` (NULL: no position).  Problems on a
 * node that stands in for one already reported (an alias) are dropped, and
 * so are exact repeats. */
void cw_inv_diag(struct cw_inv_ctx *c, const struct cw_yt_node *at, const char *path,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Number of problems reported by this parse so far. */
size_t cw_inv_ndiags(const struct cw_inv_ctx *c);

/* out = base + "." + key (or key when base is empty); returns out. */
const char *cw_inv_path(char *out, size_t n, const char *base, const char *key);
/* out = base + "[i]"; returns out. */
const char *cw_inv_index(char *out, size_t n, const char *base, size_t i);

/* ---- typed scalars: each reports its own problem and returns false ------ */

/* Owned copy of a non-empty string in *out (any earlier value freed). */
bool cw_inv_str(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		char **out);
bool cw_inv_bool(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		 bool *out);
bool cw_inv_int(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		long long min, long long max, long long *out);
bool cw_inv_number(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		   double min, double max, double *out);
/* A duration ("1d", "5m", "300") between min and max seconds. */
bool cw_inv_duration(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		     int64_t min, int64_t max, int64_t *out);
bool cw_inv_bytes(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		  double min, double max, double *out);
/* A scalar; false with a problem for a list, a map or nothing. */
bool cw_inv_scalar(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path);
/* A list; false with a problem (naming `example`) otherwise. */
bool cw_inv_list(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		 const char *example);

/*
 * A list of strings, each checked by `check` (NULL: any non-empty string)
 * and unique.  Owned array of owned strings in *out (previous value freed).
 */
bool cw_inv_str_list(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		     const char *(*check)(const char *), const char *example,
		     char ***out, size_t *n);
void cw_inv_free_strv(char **v, size_t n);

/* A map of string -> string (tags). */
bool cw_inv_kv_map(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		   struct cw_kv **out, size_t *n);
void cw_inv_free_kv(struct cw_kv *v, size_t n);

/* A region name; on failure the problem suggests the closest known region. */
bool cw_inv_region(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		   char **out);

/* The candidate (NULL-terminated list) that `s` probably meant: the
 * closest by edit distance, else the only one that `s` begins (at least 4
 * characters, e.g. lookback -> lookback_days); NULL when none. */
const char *cw_inv_suggest(const char *s, const char *const *candidates);

/* ---- table-driven maps --------------------------------------------------- */

typedef void (*cw_inv_key_fn)(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			      const char *path, void *obj);

struct cw_inv_key {
	const char *name;
	cw_inv_key_fn fn; /* NULL: known here, read by the caller afterwards */
	bool required;
};

/*
 * Walk a map through a NULL-terminated key table: unknown keys (with a
 * suggestion from the table), duplicate keys and missing required keys are
 * reported; each known key's handler gets its value.  A null node counts
 * as an empty map.  Returns false when v is not a map at all.
 */
bool cw_inv_walk(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		 const struct cw_inv_key *keys, void *obj);

/*
 * For maps whose keys are data (detector names, tags, price regions):
 * false with a problem when v is neither a map nor null; otherwise report
 * duplicate keys and return true.  When dup is not NULL (v->n entries,
 * caller-allocated) dup[i] marks a repeat that the caller skips.
 */
bool cw_inv_map_keys(struct cw_inv_ctx *c, const struct cw_yt_node *v, const char *path,
		     bool *dup);

/* ---- uniqueness over many strings ---------------------------------------- */

struct cw_inv_seen {
	const char *scope;           /* borrowed; keys repeat only within a scope; may be NULL */
	const char *key;             /* borrowed */
	const struct cw_yt_node *at;
	char path[CW_INV_PATHLEN];
};

struct cw_inv_seenv {
	struct cw_inv_seen *v;
	size_t n, cap;
};

/* Remember key at node `at` (path copied); false (and c->oom) when out of memory. */
bool cw_inv_seen_push(struct cw_inv_ctx *c, struct cw_inv_seenv *s, const char *scope,
		      const char *key, const struct cw_yt_node *at, const char *path);

/* Report each repeat ("what KEY is listed twice (first at line L)") and free s. */
void cw_inv_report_dups(struct cw_inv_ctx *c, struct cw_inv_seenv *s, const char *what);

/* ---- detectors (invdet.c) ------------------------------------------------ */

struct cw_inv_det_entry {
	const struct cw_detector_ops *ops; /* NULL: unknown, already reported */
	bool enabled;
	const struct cw_yt_node *at;       /* the detector's key */
	const struct cw_yt_node *params;   /* its parameter map, or NULL */
	char path[CW_INV_PATHLEN];
};

/* One level of detector settings: defaults, an account, or a bucket. */
struct cw_inv_det_layer {
	bool present;
	bool broken;   /* an entry was dropped for a reported problem */
	struct cw_inv_det_entry *v;
	size_t n;
};

/* Read a detectors map into layer (reporting unknown detectors and bad
 * parameters); the layer borrows nodes from the tree. */
void cw_inv_det_layer_parse(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			    const char *path, struct cw_inv_det_layer *layer);
void cw_inv_det_layer_release(struct cw_inv_det_layer *layer);

struct cw_inv_det_opts {
	int64_t period;                  /* the sweep's period, seconds */
	int lookback_days;
	const struct cw_yt_node *owner;  /* where to report "no detector enabled"; NULL: don't */
	const char *owner_path;
	/* where to report a detector default's min_history that the lookback
	 * cannot cover; NULL: only report explicitly set min_history values */
	const struct cw_yt_node *lookback_at;
	const char *lookback_path;
};

/*
 * Build the effective set from layers (layers[0] are the defaults: when
 * absent, the built-in set robust + newhigh; later layers merge over it,
 * `false` removing a detector).  Problems (cross-parameter checks, history
 * longer than the lookback) are reported at the layer that set the
 * detector last.  Every conf in *out is built (state created).
 */
void cw_inv_det_build(struct cw_inv_ctx *c, struct cw_det_set *out,
		      const struct cw_inv_det_layer *const *layers, size_t nlayers,
		      const struct cw_inv_det_opts *o);
void cw_inv_det_set_release(struct cw_det_set *s);

/* ---- settings (invsettings.c) -------------------------------------------- */

void cw_inv_reporting_defaults(struct cw_reporting *r);
void cw_inv_reporting_release(struct cw_reporting *r);
void cw_inv_reporting_parse(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			    const char *path, struct cw_reporting *r);

void cw_inv_aws_defaults(struct cw_aws_settings *a);
void cw_inv_aws_release(struct cw_aws_settings *a);
void cw_inv_aws_parse(struct cw_inv_ctx *c, const struct cw_yt_node *v,
		      const char *path, struct cw_aws_settings *a);

/* The us-east-1 data-transfer-out table of DESIGN.md, as prices[0]. */
int cw_inv_prices_defaults(struct cw_inventory *inv);
void cw_inv_prices_release(struct cw_inventory *inv);
void cw_inv_prices_parse(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			 const char *path, struct cw_inventory *inv);

/* The default metric (AWS/S3 BytesDownloaded Sum Bytes per bucket). */
void cw_inv_exclusions_parse(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			     const char *path, struct cw_inventory *inv);
void cw_inv_exclusions_release(struct cw_inventory *inv);

int cw_inv_metrics_defaults(struct cw_inventory *inv);
void cw_inv_metrics_release(struct cw_inventory *inv);
void cw_inv_metrics_parse(struct cw_inv_ctx *c, const struct cw_yt_node *v,
			  const char *path, struct cw_inventory *inv);

#endif
