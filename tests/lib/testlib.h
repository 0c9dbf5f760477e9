/*
 * testlib.h - helpers shared by the Check suites.
 *
 * Paths come from the environment that ctest sets (tests/CMakeLists.txt):
 * CW_SOURCE_DIR, CW_BUILD_DIR, CW_TESTDATA (the shared SigV4 suite and NAB
 * series; may be absent), CW_PYTHON, CW_BIN.
 */
#ifndef CW_TESTLIB_H
#define CW_TESTLIB_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>

/* Path under the source tree / shared test data (static buffer per call
 * site is NOT used: returns a malloc'd string the caller frees). */
char *cw_test_src(const char *rel);
char *cw_test_data(const char *rel);      /* NULL when CW_TESTDATA is unset */
bool cw_test_data_present(const char *rel);

/* A fresh temporary folder (mkdtemp), removed with everything in it by
 * cw_test_rmtree. */
char *cw_test_tmpdir(void);
void cw_test_rmtree(const char *path);

/* Write text to dir/name (mode 0600); returns the malloc'd full path. */
char *cw_test_write(const char *dir, const char *name, const char *text);
/* Whole file, malloc'd, NULL when missing. */
char *cw_test_slurp(const char *path);

/* Run a Check suite: srunner, print, return EXIT_SUCCESS/FAILURE. */
int cw_test_run_suite(Suite *s);

/* ---- the fake AWS endpoint (tests/fake_aws/fake_aws.py) -------------- */

struct cw_fake {
	int pid;
	int port;
	char url[64];       /* "http://127.0.0.1:PORT" */
	char *dir;          /* temp folder: port file, request log */
	char *requests_log; /* JSON-lines log of every request the fake saw */
};

/*
 * Start the fake with a scenario file (path relative to the source tree,
 * e.g. "tests/fake_aws/scenarios/basic.json", or absolute); waits until it
 * listens.  Returns 0 or -1 (and the test should fail).
 */
int cw_fake_start(struct cw_fake *f, const char *scenario);
/* Stop it (SIGTERM, then SIGKILL) and remove its folder. Safe to call twice. */
void cw_fake_stop(struct cw_fake *f);
/* Number of requests logged whose JSON line contains needle (or all when
 * needle is NULL). */
int cw_fake_count(const struct cw_fake *f, const char *needle);

#endif
