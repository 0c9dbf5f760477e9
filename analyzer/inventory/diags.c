/*
 * diags.c - the list of problems found in an inventory, each tied to a file
 * position, printed the way compilers do: `file:line:col: message`.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "err.h"
#include "inventory.h"
#include "strutil.h"

void cw_diags_release(struct cw_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
}

int cw_diags_add(struct cw_diags *d, const char *file, int line, int col,
		 const char *fmt, ...)
{
	struct cw_diag *g;
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct cw_diag *v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			return CW_ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	g = &d->v[d->n];
	g->file = cw_strdup(file ? file : "");
	g->msg = cw_strdup(msg);
	if (!g->file || !g->msg) {
		free(g->file);
		free(g->msg);
		return CW_ENOMEM;
	}
	g->line = line;
	g->col = col;
	d->n++;
	return 0;
}

void cw_diags_print(const struct cw_diags *d, void *file)
{
	FILE *f = file;

	for (size_t i = 0; i < d->n; i++) {
		const struct cw_diag *g = &d->v[i];

		if (g->line > 0)
			fprintf(f, "%s:%d:%d: %s\n", g->file, g->line, g->col, g->msg);
		else
			fprintf(f, "%s: %s\n", g->file, g->msg);
	}
}
