/*
 * registry.c - the table of report formats, writing the chosen ones
 * atomically, and the short summary the commands print on stdout.
 *
 * Reports stream to their files in REPORT_CHUNK pieces (a run with tens of
 * thousands of series makes reports of tens of megabytes), each into its
 * own temporary file; they replace the old reports together at the end.
 * The formats render at the same time, one thread each: they only read
 * the run, and each has its own buffer, file and error text.
 */
#include "report.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicio.h"
#include "err.h"
#include "escape.h"
#include "findings.h"
#include "render.h"
#include "strutil.h"

extern const struct cw_report_ops cw_report_md;
extern const struct cw_report_ops cw_report_csv;
extern const struct cw_report_ops cw_report_json;
extern const struct cw_report_ops cw_report_html;
extern const struct cw_report_ops cw_report_xlsx;

const struct cw_report_ops *const cw_reports[] = {
	&cw_report_md,
	&cw_report_csv,
	&cw_report_json,
	&cw_report_html,
	&cw_report_xlsx,
	NULL,
};

#define KNOWN "md, csv, json, html, xlsx"

#define NFORMATS (sizeof(cw_reports) / sizeof(cw_reports[0]) - 1)

/* How much report text collects in memory before it goes to the file. */
#define REPORT_CHUNK ((size_t)256 * 1024)

/* Terminal summary: how many anomalies / failures are listed by name. */
#define SUMMARY_TOP 5

const struct cw_report_ops *cw_report_find(const char *name)
{
	size_t i;

	for (i = 0; cw_reports[i]; i++)
		if (strcmp(cw_reports[i]->name, name) == 0)
			return cw_reports[i];
	return NULL;
}

/*
 * Mark the formats named in a comma list (NULL = all) in sel[NFORMATS].
 * Blanks around names are ignored, repeats are harmless; an empty list,
 * an empty entry or an unknown name is an error that names it.
 */
static int parse_formats(const char *formats, bool *sel, char *err, size_t errlen)
{
	const char *p = formats;
	size_t i;

	memset(sel, 0, NFORMATS * sizeof(*sel));
	if (!formats) {
		for (i = 0; i < NFORMATS; i++)
			sel[i] = true;
		return 0;
	}
	if (!formats[0])
		return cw_fail(err, errlen, CW_EINVAL, "no format given (known: " KNOWN ")");
	for (;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		bool found = false;

		while (n && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0)
			return cw_fail(err, errlen, CW_EINVAL,
				       "empty format name in '%s' (known: " KNOWN ")",
				       formats);
		for (i = 0; i < NFORMATS; i++) {
			if (strlen(cw_reports[i]->name) == n &&
			    strncmp(cw_reports[i]->name, p, n) == 0) {
				sel[i] = true;
				found = true;
			}
		}
		if (!found)
			return cw_fail(err, errlen, CW_EINVAL,
				       "unknown format '%.*s' (known: " KNOWN ")",
				       (int)(n > 64 ? 64 : n), p);
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

int cw_reports_check_formats(const char *formats, char *err, size_t errlen)
{
	bool sel[NFORMATS];

	return parse_formats(formats, sel, err, errlen);
}

/* A report file being written: where the streamed text goes. */
struct sink {
	struct cw_afile *file;
	int rc;               /* the write error, if any */
	char err[CW_ERRBUF];  /* and what it was */
};

static int to_file(void *ctx, const char *data, size_t len)
{
	struct sink *s = ctx;

	s->rc = cw_afile_write(s->file, data, len, s->err, sizeof(s->err));
	return s->rc;
}

/* Render one format into a finished (fsync'd, closed) temporary file. */
static int render_to_file(const struct cw_run *run, const char *dir,
			  const struct cw_report_ops *ops, struct cw_afile *file,
			  char *err, size_t errlen)
{
	struct sink s = { file, 0, "" };
	struct cw_buf out;
	char *path = cw_asprintf("%s/%s", dir, ops->filename);
	int rc;

	if (!path)
		return cw_fail(err, errlen, CW_ENOMEM, "out of memory");
	rc = cw_afile_open(file, path, 0644, err, errlen);
	free(path);
	if (rc)
		return rc;
	cw_buf_init(&out, 0);
	cw_buf_set_sink(&out, to_file, &s, REPORT_CHUNK);
	rc = ops->render(run, &out, err, errlen);
	if (!rc)
		rc = cw_buf_flush(&out);
	cw_buf_release(&out);
	if (rc && s.rc)
		return cw_fail(err, errlen, s.rc, "%s", s.err); /* says more than the render */
	if (rc) {
		if (err && errlen && !err[0])
			cw_fail(err, errlen, rc, "%s: %s", ops->filename, cw_strerror(rc));
		return rc;
	}
	return cw_afile_finish(file, err, errlen);
}

/* One format rendered on a thread of its own (the run is only read). */
struct render_job {
	const struct cw_run *run;
	const char *dir;
	const struct cw_report_ops *ops;
	struct cw_afile *file;
	pthread_t thread;
	bool started;
	int rc;
	char err[CW_ERRBUF];
};

static void *render_job(void *arg)
{
	struct render_job *j = arg;

	j->rc = render_to_file(j->run, j->dir, j->ops, j->file, j->err, sizeof(j->err));
	return NULL;
}

/*
 * Render every format at once, one thread each (the first on this one; a
 * thread that cannot start runs here too); the first format's error in
 * table order is the one reported.
 */
static int render_all(const struct cw_run *run, const char *dir,
		      const struct cw_report_ops *const *ops, struct cw_afile *files, size_t n,
		      char *err, size_t errlen)
{
	struct render_job *jobs = calloc(n + 1, sizeof(*jobs));
	int rc = 0;

	if (!jobs)
		return cw_fail(err, errlen, CW_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		jobs[i] = (struct render_job){ .run = run, .dir = dir, .ops = ops[i],
					       .file = &files[i] };
		if (i > 0)
			jobs[i].started = pthread_create(&jobs[i].thread, NULL, render_job,
							 &jobs[i]) == 0;
	}
	for (size_t i = 0; i < n; i++)
		if (i == 0 || !jobs[i].started)
			render_job(&jobs[i]);
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].started)
			pthread_join(jobs[i].thread, NULL);
		if (!rc && jobs[i].rc) {
			rc = jobs[i].rc;
			if (err && errlen)
				snprintf(err, errlen, "%s", jobs[i].err);
		}
	}
	free(jobs);
	return rc;
}

int cw_reports_write_ops(const struct cw_run *run, const char *dir,
			 const struct cw_report_ops *const *ops, char *err, size_t errlen)
{
	struct cw_afile *files;
	struct stat st;
	bool had_dir = stat(dir, &st) == 0;
	size_t i, n;
	int rc;

	for (n = 0; ops[n]; n++)
		;
	files = calloc(n + 1, sizeof(*files)); /* zeroed: cw_afile_abort is safe */
	if (!files)
		return cw_fail(err, errlen, CW_ENOMEM, "out of memory");
	if ((rc = cw_mkdirs(dir, err, errlen)))
		goto out;
	rc = render_all(run, dir, ops, files, n, err, errlen);
	/* Every report is complete on disk: only now replace the old ones. */
	for (i = 0; i < n && !rc; i++)
		rc = cw_afile_commit(&files[i], err, errlen);
out:
	for (i = 0; i < n; i++)
		cw_afile_abort(&files[i]); /* removes what was not committed */
	free(files);
	if (rc && !had_dir)
		rmdir(dir); /* only when we made it and it is empty */
	return rc;
}

int cw_reports_write(const struct cw_run *run, const char *dir,
		     const char *formats, char *err, size_t errlen)
{
	const struct cw_report_ops *ops[NFORMATS + 1];
	bool sel[NFORMATS];
	size_t i, n = 0;
	int rc;

	if ((rc = parse_formats(formats, sel, err, errlen)))
		return rc;
	for (i = 0; i < NFORMATS; i++)
		if (sel[i])
			ops[n++] = cw_reports[i];
	ops[n] = NULL;
	return cw_reports_write_ops(run, dir, ops, err, errlen);
}

/* "account/region/bucket-or-series", the parts that are known. */
static int add_label(struct cw_buf *out, const struct cw_target_id *id)
{
	const char *acct = id->account_name && id->account_name[0] ? id->account_name
								   : id->account_id;
	const char *parts[3] = { acct, id->region,
				 id->bucket && id->bucket[0] ? id->bucket : id->metric };
	bool first = true;
	size_t i;
	int rc;

	for (i = 0; i < 3; i++) {
		if (!parts[i] || !parts[i][0])
			continue;
		if (!first && (rc = cw_buf_addch(out, '/')))
			return rc;
		if ((rc = cw_term_escape(out, parts[i])))
			return rc;
		first = false;
	}
	return first ? cw_buf_addstr(out, "(unnamed)") : 0;
}

/*
 * One line per finding: the bucket, its period, the lead judgement's value,
 * baseline and cost, and every detector that flagged it.
 */
static int summary_finding(struct cw_buf *out, const struct cw_run *run,
			   const struct cw_finding *f)
{
	const struct cw_result *r = cw_finding_lead(run, f);
	const struct cw_run_series *rs = &run->series[f->series];
	char when[32], val[64], base[64], pct[32];
	int rc;

	if ((rc = cw_buf_printf(out, "  %s ", cw_rep_severity(f->severity))) ||
	    (rc = add_label(out, &rs->id)) ||
	    (rc = cw_buf_printf(out, " %s: %s, baseline %s (%s)",
				cw_rep_time(f->period_start, rs->series.period, when,
					    sizeof(when)),
				cw_rep_human(r->j.value, rs->id.unit, val, sizeof(val)),
				cw_rep_human(r->j.baseline, rs->id.unit, base, sizeof(base)),
				cw_rep_pct(cw_rep_change_pct(&r->j), pct, sizeof(pct)))))
		return rc;
	if (!isnan(f->est_excess_usd) &&
	    (rc = cw_buf_printf(out, ", est. $%.2f", f->est_excess_usd)))
		return rc;
	if ((rc = cw_buf_addstr(out, " [")) || (rc = cw_finding_detectors(run, f, out)))
		return rc;
	return cw_buf_addstr(out, "]\n");
}

int cw_report_summary(const struct cw_run *run, const char *dir,
		      struct cw_buf *out)
{
	struct cw_run_counts c;
	struct cw_findings fs;
	size_t i;
	int rc;

	memset(&fs, 0, sizeof(fs));
	cw_run_count(run, &c);
	if ((rc = cw_findings_build(run, NULL, &fs)))
		goto out;
	rc = cw_buf_printf(out, "cwsweep: %zu series, %zu judgements: %zu finding%s "
			   "(%zu anomalous judgement%s), %zu ok, %zu insufficient history, "
			   "%zu failure%s",
			   c.series, c.judgements, fs.n, fs.n == 1 ? "" : "s",
			   c.anomalies, c.anomalies == 1 ? "" : "s", c.ok, c.insufficient,
			   c.failures, c.failures == 1 ? "" : "s");
	if (!rc && c.not_found)
		rc = cw_buf_printf(out, ", %zu not measured", c.not_found);
	if (!rc && c.not_watched)
		rc = cw_buf_printf(out, ", %zu not watched", c.not_watched);
	if (!rc && !isnan(run->total_excess_usd))
		rc = cw_buf_printf(out, "; est. excess $%.2f", run->total_excess_usd);
	if (!rc)
		rc = cw_buf_addch(out, '\n');
	{
		struct cw_coverage t;
		char line[160];

		if (!rc && cw_run_coverage_total(run, &t))
			rc = cw_buf_printf(out, "  coverage: %s\n",
					   cw_coverage_line(&t, line, sizeof(line)));
	}
	if (rc)
		goto out;

	for (i = 0; i < fs.n && i < SUMMARY_TOP; i++)
		if ((rc = summary_finding(out, run, &fs.v[i])))
			goto out;
	if (fs.n > SUMMARY_TOP &&
	    (rc = cw_buf_printf(out, "  ... and %zu more finding%s\n", fs.n - SUMMARY_TOP,
				fs.n - SUMMARY_TOP == 1 ? "" : "s")))
		goto out;

	for (i = 0; i < run->nfailures && i < SUMMARY_TOP; i++) {
		const struct cw_failure *f = &run->failures[i];

		if ((rc = cw_buf_addstr(out, "  failed: ")) ||
		    (rc = add_label(out, &f->id)) ||
		    (rc = cw_buf_addstr(out, " [")) ||
		    (rc = cw_term_escape(out, f->stage)) ||
		    (rc = cw_buf_addch(out, ' ')) ||
		    (rc = cw_term_escape(out, f->code)) ||
		    (rc = cw_buf_addstr(out, "]: ")) ||
		    (rc = cw_term_escape(out, f->message)) ||
		    (rc = cw_buf_addch(out, '\n')))
			goto out;
	}
	if (run->nfailures > SUMMARY_TOP &&
	    (rc = cw_buf_printf(out, "  ... and %zu more failures\n",
				run->nfailures - SUMMARY_TOP)))
		goto out;

	for (i = 0; i < run->nunmeasured && i < SUMMARY_TOP; i++) {
		const struct cw_unmeasured *u = &run->unmeasured[i];

		if ((rc = cw_buf_addstr(out, u->kind == CW_UNMEASURED_NOT_WATCHED
					      ? "  not watched: " : "  not measured: ")) ||
		    (rc = add_label(out, &u->id)) ||
		    (rc = cw_buf_addstr(out, ": ")) ||
		    (rc = cw_term_escape(out, u->reason)) ||
		    (rc = cw_buf_addch(out, '\n')))
			goto out;
	}
	if (run->nunmeasured > SUMMARY_TOP &&
	    (rc = cw_buf_printf(out, "  ... and %zu more not measured or not watched\n",
				run->nunmeasured - SUMMARY_TOP)))
		goto out;

	if (dir) {
		struct cw_buf md = CW_BUF_INIT;
		struct stat st;
		bool have_md;

		/* Point at the Markdown report when it was written, else at
		 * the folder. */
		if ((rc = cw_buf_printf(&md, "%s/report.md", dir)))
			goto out;
		have_md = stat(cw_buf_str(&md), &st) == 0 && S_ISREG(st.st_mode);
		rc = cw_buf_addstr(out, have_md ? "report: " : "reports: ");
		if (!rc)
			rc = cw_term_escape(out, have_md ? cw_buf_str(&md) : dir);
		cw_buf_release(&md);
		if (!rc)
			rc = cw_buf_addch(out, '\n');
	}
out:
	cw_findings_release(&fs);
	return rc;
}
