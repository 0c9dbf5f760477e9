/*
 * seriesio.h - series from files, for `cwsweep analyze FILE...`.
 *
 * Two formats, told apart by content (a document whose first non-blank
 * character is '{' is JSON, anything else CSV):
 *
 *   CSV   `timestamp,value` lines.  An optional header line (the first
 *         non-blank line, when its first field is not a time).  Times as
 *         cw_time_parse reads them: ISO 8601 with or without a zone
 *         ("2014-02-14T14:30:00Z", "2014-02-14 14:30:00", no zone = UTC) or
 *         epoch seconds.  Fields may be double-quoted; CRLF is fine; blank
 *         lines and lines starting with '#' are skipped.  An empty value
 *         (or NaN / null) is an explicit gap.  One series, named after the
 *         file's stem ("data/s3-prod.csv" -> "s3-prod").
 *
 *   JSON  what `aws cloudwatch get-metric-data` prints:
 *         {"MetricDataResults":[{"Id","Label","Timestamps":[...],
 *         "Values":[...],"StatusCode"}], "Messages":[]}.  Timestamps are
 *         ISO strings (or epoch numbers), in any order (the CLI prints
 *         newest first).  Each entry becomes one series named by its Label,
 *         or its Id when the label is empty, or "Label (Id)" when another
 *         entry has the same Label (the CLI's default label is the metric
 *         name); entries with the same Id (the CLI concatenates pages) are
 *         merged into one series.
 *
 *   JSON  what `aws cloudwatch get-metric-statistics` prints: {"Label",
 *         "Datapoints": [{"Timestamp", "Sum" | "Average" | "Maximum" |
 *         "Minimum" | "SampleCount" | "ExtendedStatistics": {...}, "Unit"}]}
 *         in any order.  One series per statistic present, named by the
 *         Label ("Label Stat" when there are several), with the Unit.
 *
 * cw_seriesio_read reads standard input for the path "-" (named "stdin").
 *
 * The period is `period` when > 0, otherwise the most common gap between
 * consecutive timestamps (see cw_series_from_points).  Points are put into
 * the slot that contains them; when several land in one slot (duplicates,
 * jitter, or a period longer than the data's) the one latest in time wins,
 * and for equal times the one later in the file.  A file holds finished
 * periods only: every slot up to the last datapoint is complete.
 *
 * Errors name the place: "data.csv:12: bad timestamp 'yesterday'".
 */
#ifndef CW_SERIESIO_H
#define CW_SERIESIO_H

#include <stddef.h>
#include <stdint.h>

#include "series.h"

struct cw_named_series {
	char *name;   /* owned: Label, Id or the file stem */
	char *unit;   /* owned: "" when the file does not say */
	char *status; /* owned: JSON StatusCode ("Complete", "PartialData",
		       * "Forbidden", ...), "" for CSV.  An entry with no
		       * datapoints has an empty series (n == 0, period 0). */
	struct cw_series s;
};

/* Largest file cw_seriesio_read accepts. */
#define CW_SERIESIO_MAX_FILE ((size_t)512 * 1024 * 1024)

/*
 * Read one file into *out (new array of *n series, free with
 * cw_named_series_free); *out NULL and *n 0 on failure.
 */
int cw_seriesio_read(const char *path, int64_t period, struct cw_named_series **out,
		     size_t *n, char *err, size_t errlen);

/*
 * The same from memory (text is borrowed, need not be NUL-terminated).
 * `where` names the source in messages and gives the CSV series name (its
 * stem, as for a path).
 */
int cw_seriesio_parse(const char *text, size_t len, const char *where, int64_t period,
		      struct cw_named_series **out, size_t *n, char *err, size_t errlen);

/* Free an array from cw_seriesio_read / _parse and everything in it. */
void cw_named_series_free(struct cw_named_series *v, size_t n);

#endif
