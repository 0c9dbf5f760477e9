/*
 * report.h - report formats.
 *
 * A report format renders a finished cw_run into text; the caller writes
 * it atomically to DIR/report.EXT.  Formats never change the run, and
 * only append to `out`: it may stream to the file as it fills, so a
 * renderer never reads back or rewrites what it appended before.
 *
 * Adding a format:
 *   1. write reports/NAME.c defining `const struct cw_report_ops
 *      cw_report_NAME`;
 *   2. add `&cw_report_NAME,` to the table in reports/registry.c.
 */
#ifndef CW_REPORT_H
#define CW_REPORT_H

#include <stddef.h>

#include "buf.h"
#include "run.h"

struct cw_report_ops {
	const char *name;      /* "md", "csv", "json", "html", "xlsx" (as in --format) */
	const char *filename;  /* "report.md" */
	/* Append the rendering of run to out. 0 or a cw_err. */
	int (*render)(const struct cw_run *run, struct cw_buf *out,
		      char *err, size_t errlen);
};

extern const struct cw_report_ops *const cw_reports[]; /* NULL-terminated */
const struct cw_report_ops *cw_report_find(const char *name);

/*
 * Render every format in `formats` (a comma list such as "md,csv,json";
 * NULL = all) into dir (created if missing).  Each format streams into its
 * own temporary file there (never whole in memory); only when every one
 * was rendered and written are they renamed over DIR/report.EXT, so a
 * render or write error removes the temporary files and leaves the old
 * reports as they were.
 */
int cw_reports_write(const struct cw_run *run, const char *dir,
		     const char *formats, char *err, size_t errlen);

/* The same for an explicit NULL-terminated list of formats (borrowed). */
int cw_reports_write_ops(const struct cw_run *run, const char *dir,
			 const struct cw_report_ops *const *ops, char *err, size_t errlen);

/* How many workbook parts report.xlsx packed at its own deflate level
 * since the start (0: libxlsxwriter packs at zlib's default; see xlsx.c). */
size_t cw_xlsx_fast_parts(void);

/* Check a --format list without rendering; err names the bad entry. */
int cw_reports_check_formats(const char *formats, char *err, size_t errlen);

/* A short multi-line summary for the terminal (stdout), shared by the
 * commands: counts, top anomalies, failures, where the reports are. */
int cw_report_summary(const struct cw_run *run, const char *dir,
		      struct cw_buf *out);

/*
 * Read a report.json (schema "cwsweep.report/3", or the older /2 and /1)
 * back into *run (for `cwsweep merge`): metadata, judgements, failures,
 * unmeasured buckets; each series rebuilt from its history window (/3: a
 * series without a finding has no values, only its span).  *run is
 * initialised here (cw_run_release it); on failure it is left empty and
 * err names the file and the place ("r.json: results[3].status: ...").
 */
int cw_report_json_load(const char *path, struct cw_run *run, char *err, size_t errlen);
/* The same from text (len bytes; name is what messages call it). */
int cw_report_json_parse(const char *name, const char *text, size_t len, struct cw_run *run,
			 char *err, size_t errlen);

#endif
