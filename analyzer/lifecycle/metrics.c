/*
 * metrics.c - the Prometheus textfile of a run (see metrics.h).
 */
#include "metrics.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomicio.h"
#include "err.h"
#include "strutil.h"

#define LAST_SUCCESS "cwsweep_last_success_timestamp_seconds"
#define SKIPPED "cwsweep_skipped_runs_in_a_row"
#define METRICS_MAX_BYTES ((size_t)1 << 20)

static int gauge(struct cw_buf *b, const char *name, const char *help)
{
	return cw_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static int sample(struct cw_buf *b, const char *name, const char *labels, double v)
{
	/* %.17g keeps whole numbers whole and timestamps exact to the ms */
	return cw_buf_printf(b, "%s%s %.17g\n", name, labels ? labels : "", v);
}

static int one(struct cw_buf *b, const char *name, const char *help, double v)
{
	int rc = gauge(b, name, help);

	return rc ? rc : sample(b, name, NULL, v);
}

/* A bucket by account, for counting distinct ones. */
struct bucket_key {
	const char *account_id, *bucket;
};

static int bucket_key_cmp(const void *a, const void *b)
{
	const struct bucket_key *x = a, *y = b;
	int c = strcmp(x->bucket, y->bucket);

	return c ? c : strcmp(x->account_id, y->account_id);
}

/* Sort keys[0..n) and move the distinct ones to the front; their count. */
static size_t distinct_keys(struct bucket_key *keys, size_t n)
{
	size_t d = 0;

	if (n)
		qsort(keys, n, sizeof(*keys), bucket_key_cmp);
	for (size_t i = 0; i < n; i++)
		if (d == 0 || bucket_key_cmp(&keys[d - 1], &keys[i]) != 0)
			keys[d++] = keys[i];
	return d;
}

/*
 * Buckets watched and known: the run's coverage (storage-metric listing of
 * every bucket) when it has one; else the distinct buckets with a fetched
 * series, and those plus the distinct ones listed as not measured (sorted
 * keys: n log n however many series a run holds).  False when out of
 * memory.
 */
static bool coverage_counts(const struct cw_run *run, size_t *watched, size_t *known)
{
	struct cw_coverage total;
	struct bucket_key *keys;
	size_t n = 0, nw, nu = 0;

	/* the run's coverage (every bucket with data, from the storage
	 * metrics) when it was measured; else what the series tell */
	if (cw_run_coverage_total(run, &total)) {
		*watched = total.watched;
		*known = total.buckets;
		return true;
	}
	keys = malloc((run->nseries + run->nunmeasured + 1) * sizeof(*keys));
	if (!keys)
		return false;
	for (size_t i = 0; i < run->nseries; i++)
		if (run->series[i].id.bucket[0])
			keys[n++] = (struct bucket_key){ run->series[i].id.account_id,
							 run->series[i].id.bucket };
	nw = distinct_keys(keys, n);
	/* the not-measured ones that no series names */
	for (size_t i = 0; i < run->nunmeasured; i++) {
		struct bucket_key k = { run->unmeasured[i].id.account_id,
					run->unmeasured[i].id.bucket };

		if (k.bucket[0] && !bsearch(&k, keys, nw, sizeof(*keys), bucket_key_cmp))
			keys[nw + nu++] = k;
	}
	*watched = nw;
	*known = nw + distinct_keys(keys + nw, nu);
	free(keys);
	return true;
}

int cw_metrics_text(struct cw_buf *b, const struct cw_metrics_in *m)
{
	const struct cw_run *run = m->run;
	bool ok = m->exit_code == 0 || m->exit_code == 1;
	double last_ok = ok ? m->finished : m->last_success;
	struct cw_run_counts c;
	int rc = 0;

	memset(&c, 0, sizeof(c));
	if (run)
		cw_run_count(run, &c);
#define TRY(x) do { if (!rc) rc = (x); } while (0)
	TRY(one(b, "cwsweep_last_run_start_timestamp_seconds",
		"Start of the last cwsweep run, UTC epoch seconds.", m->started));
	TRY(one(b, "cwsweep_last_run_end_timestamp_seconds",
		"End of the last cwsweep run, UTC epoch seconds.", m->finished));
	TRY(one(b, "cwsweep_last_run_duration_seconds",
		"Wall-clock duration of the last run.", m->finished - m->started));
	TRY(one(b, "cwsweep_last_run_exit_code",
		"Exit code of the last run: 0 ok, 1 anomalies, 2 could not run, "
		"3 ran partly, 75 locked out.", m->exit_code));
	if (last_ok > 0)
		TRY(one(b, LAST_SUCCESS, "End of the last run that exited 0 or 1, UTC epoch "
			"seconds.", last_ok));
	TRY(one(b, SKIPPED, "Runs in a row that did not run because another run held the "
		"lock (exit 75); 0 once a run ran.", m->exit_code == 75 ? m->skipped_in_a_row : 0));
	if (m->exit_code == 75 && m->lock_holder_started > 0)
		TRY(one(b, "cwsweep_lock_holder_start_timestamp_seconds", "Start of the run that "
			"held the lock when the last run was skipped, UTC epoch seconds.",
			m->lock_holder_started));
	TRY(gauge(b, "cwsweep_last_run_api_calls", "AWS API attempts of the last run, by "
		  "action."));
	for (size_t i = 0; run && i < run->ncalls && !rc; i++) {
		char lab[80];

		snprintf(lab, sizeof(lab), "{action=\"%s\"}", run->calls[i].action);
		rc = sample(b, "cwsweep_last_run_api_calls", lab, (double)run->calls[i].calls);
	}
	TRY(gauge(b, "cwsweep_last_run_throttled", "Throttled AWS answers of the last run, "
		  "by action."));
	for (size_t i = 0; run && i < run->ncalls && !rc; i++) {
		char lab[80];

		snprintf(lab, sizeof(lab), "{action=\"%s\"}", run->calls[i].action);
		rc = sample(b, "cwsweep_last_run_throttled", lab,
			    (double)run->calls[i].throttled);
	}
	TRY(one(b, "cwsweep_last_run_accounts", "Accounts the last run swept.",
		run ? (double)run->accounts : 0));
	TRY(one(b, "cwsweep_last_run_series_judged", "Series the last run judged.",
		(double)c.series));
	TRY(one(b, "cwsweep_last_run_anomalies", "Anomalous judgements of the last run.",
		(double)c.anomalies));
	TRY(one(b, "cwsweep_last_run_failures", "Targets the last run could not judge.",
		(double)c.failures));
	TRY(one(b, "cwsweep_last_run_not_measured", "Buckets without the metric in the last "
		"run.", (double)c.unmeasured));
	if (run) {
		size_t watched, known;

		if (!coverage_counts(run, &watched, &known))
			TRY(CW_ENOMEM);
		TRY(one(b, "cwsweep_buckets_watched", "Buckets whose series the last run "
			"fetched.", (double)watched));
		TRY(one(b, "cwsweep_buckets_known", "Buckets the last run knew of (watched or "
			"not).", (double)known));
	}
#undef TRY
	return rc;
}

/* The value of the gauge name (no labels) in the file at path; 0 when
 * absent, unreadable or not a positive number. */
static double read_gauge(const char *path, const char *name)
{
	char *text = NULL, err[CW_ERRBUF];
	size_t len, n = strlen(name);
	double v = 0;

	if (cw_read_file(path, METRICS_MAX_BYTES, &text, &len, err, sizeof(err)) != 0)
		return 0;
	for (char *line = text; line && *line; ) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		if (strncmp(line, name, n) == 0 && line[n] == ' ') {
			char *end;
			double x = strtod(line + n + 1, &end);

			if (end != line + n + 1 && isfinite(x) && x > 0)
				v = x;
		}
		line = nl ? nl + 1 : NULL;
	}
	free(text);
	return v;
}

double cw_metrics_last_success(const char *path)
{
	return read_gauge(path, LAST_SUCCESS);
}

double cw_metrics_skipped_in_a_row(const char *path)
{
	return read_gauge(path, SKIPPED);
}

int cw_metrics_write(const char *path, const struct cw_metrics_in *m, char *err,
		     size_t errlen)
{
	struct cw_buf b = CW_BUF_INIT;
	int rc = cw_metrics_text(&b, m);

	if (rc)
		rc = cw_fail(err, errlen, rc, "metrics file %s: out of memory", path);
	else
		rc = cw_write_file_atomic(path, cw_buf_str(&b), b.len, 0644, err, errlen);
	cw_buf_release(&b);
	return rc;
}
