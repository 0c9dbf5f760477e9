/*
 * ini.h - the AWS shared config and credentials files (~/.aws/config,
 * ~/.aws/credentials), parsed as the SDKs do.
 *
 *   [default]                 a profile (both files)
 *   [profile dev]             profile "dev" in the config file
 *   [dev]                     profile "dev" in the credentials file
 *   [sso-session x]           other sections: reachable with cw_ini_get
 *   key = value               keys are case-insensitive (stored lowercase);
 *                             value trimmed, quotes kept as written
 *   # comment / ; comment     whole lines; inside a value only when the
 *                             '#' or ';' follows a space or tab
 *   s3 =                      an empty value followed by indented
 *     max_concurrent_requests = 10    lines: sub-properties, read as
 *                             key "s3.max_concurrent_requests"
 *   key = first               an indented line after a non-empty value
 *     second                  continues it ("first\nsecond")
 *
 * A section that appears twice is merged; a key defined twice keeps its
 * last value.  Errors name the file and line ("config:12: property outside
 * any section") and never quote the line, which may hold a secret.
 *
 * Thread-safety: a parsed struct cw_ini is immutable; any number of
 * threads may read it at once.
 */
#ifndef CW_INI_H
#define CW_INI_H

#include <stdbool.h>
#include <stddef.h>

#define CW_INI_MAX ((size_t)1024 * 1024) /* larger files are refused */

enum cw_ini_kind {
	CW_INI_CONFIG,      /* ~/.aws/config: [default], [profile NAME] */
	CW_INI_CREDENTIALS, /* ~/.aws/credentials: [NAME] */
};

struct cw_ini;

/*
 * Parse text[0..len) (no NUL terminator needed).  name labels error
 * messages (e.g. "/home/me/.aws/config"; NULL gives "ini").  New object in
 * *out, free with cw_ini_free; *out is NULL on failure.
 * Returns 0, CW_EPARSE, CW_ETOOBIG (more than CW_INI_MAX bytes) or CW_ENOMEM.
 */
int cw_ini_parse(struct cw_ini **out, const char *text, size_t len, enum cw_ini_kind kind,
		 const char *name, char *err, size_t errlen);
void cw_ini_free(struct cw_ini *ini);

/*
 * Value of key in the section named exactly section (as written between
 * the brackets, outer whitespace trimmed: "default", "profile dev",
 * "sso-session x").  Borrowed until cw_ini_free; NULL when absent.
 */
const char *cw_ini_get(const struct cw_ini *ini, const char *section, const char *key);

/*
 * Value of key in a profile, by the rules of the file's kind.  In the
 * config file "default" is "[profile default]" when the file has one, else
 * "[default]"; a "[NAME]" section without "profile " is not a profile
 * there.  Borrowed; NULL when absent.
 */
const char *cw_ini_profile_get(const struct cw_ini *ini, const char *profile, const char *key);
bool cw_ini_has_profile(const struct cw_ini *ini, const char *profile);

/* Profile names the file defines, sorted, each once; borrowed array of
 * *n names, NULL-terminated (for listings and "did you mean"). */
const char *const *cw_ini_profiles(const struct cw_ini *ini, size_t *n);

#endif
