/*
 * testlib.c - helpers shared by the Check suites (see testlib.h); the fake
 * endpoint's start/stop lives in fake.c.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strutil.h"
#include "testlib.h"

static char *join(const char *base, const char *rel)
{
	if (!base)
		return NULL;
	if (!rel || !*rel)
		return cw_strdup(base);
	if (rel[0] == '/')
		return cw_strdup(rel);
	return cw_asprintf("%s/%s", base, rel);
}

char *cw_test_src(const char *rel)
{
	const char *s = getenv("CW_SOURCE_DIR");

	return join(s ? s : ".", rel);
}

char *cw_test_data(const char *rel)
{
	const char *d = getenv("CW_TESTDATA");

	return d && *d ? join(d, rel) : NULL;
}

bool cw_test_data_present(const char *rel)
{
	char *p = cw_test_data(rel);
	struct stat st;
	bool ok = p && stat(p, &st) == 0;

	free(p);
	return ok;
}

char *cw_test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *tmpl = cw_asprintf("%s/cwsweep-test-XXXXXX", base && *base ? base : "/tmp");

	if (tmpl && !mkdtemp(tmpl)) {
		free(tmpl);
		return NULL;
	}
	return tmpl;
}

void cw_test_rmtree(const char *path)
{
	DIR *d;
	struct dirent *e;

	if (!path)
		return;
	d = opendir(path);
	if (!d) {
		unlink(path);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char *child;
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		child = cw_asprintf("%s/%s", path, e->d_name);
		if (!child)
			continue;
		if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
			cw_test_rmtree(child);
		else
			unlink(child);
		free(child);
	}
	closedir(d);
	rmdir(path);
}

char *cw_test_write(const char *dir, const char *name, const char *text)
{
	char *path = cw_asprintf("%s/%s", dir, name);
	FILE *f;

	if (!path)
		return NULL;
	f = fopen(path, "w");
	if (!f) {
		free(path);
		return NULL;
	}
	fputs(text, f);
	fclose(f);
	chmod(path, 0600);
	return path;
}

char *cw_test_slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap ? cap * 2 : 8192);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap = cap ? cap * 2 : 8192;
		}
		size_t r = fread(buf + len, 1, cap - len - 1, f);

		len += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

int cw_test_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
