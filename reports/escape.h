/*
 * escape.h - making outside text safe for each report format.
 *
 * Names of buckets, series, accounts and error messages come from outside
 * (the inventory, AWS, the files given to `analyze`), so every one of them
 * goes through one of these before it reaches a report or the terminal:
 *
 *   Markdown  backslash before every character that means something in a
 *             table cell or inline text; line breaks become spaces
 *   CSV       RFC 4180 quoting, plus a leading ' on text that a
 *             spreadsheet would take for a formula
 *   JSON      string escaping
 *   terminal  control characters replaced
 *   HTML      & < > " ' as character references (safe in text and in
 *             quoted attribute values, SVG included); control characters
 *             become spaces
 *
 * All of them also repair invalid UTF-8 (each bad byte becomes U+FFFD), so
 * every report is valid UTF-8 whatever the input was.
 */
#ifndef CW_ESCAPE_H
#define CW_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/*
 * Length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes at s
 * are not one (overlong forms, surrogates and code points above U+10FFFF
 * are invalid).  s must be NUL-terminated; *s must not be NUL.
 */
size_t cw_utf8_len(const char *s);

/* Append s (NULL = "") escaped for a Markdown table cell. */
int cw_md_escape(struct cw_buf *out, const char *s);

/*
 * Append s (NULL = "") as one CSV cell.  A text cell (is_text) that starts
 * with = + - @ TAB or CR gets a leading ' so that a spreadsheet shows it
 * instead of evaluating it; numbers are never changed.  The cell is quoted
 * when it holds , " CR or LF, with " doubled.
 */
int cw_csv_cell(struct cw_buf *out, const char *s, bool is_text);

/* Append s (NULL = "") as a quoted JSON string. */
int cw_json_string(struct cw_buf *out, const char *s);

/* Append s (NULL = "") for HTML text or a quoted attribute value. */
int cw_html_escape(struct cw_buf *out, const char *s);

/* Append s (NULL = "") for a terminal: control characters become '?'. */
int cw_term_escape(struct cw_buf *out, const char *s);

#endif
