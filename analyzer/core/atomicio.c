/*
 * atomicio.c - whole-file writes and reads (see atomicio.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicio.h"
#include "err.h"
#include "strutil.h"

static int fsync_dir_of(const char *path)
{
	char *copy = cw_strdup(path);
	int fd, rc = 0;

	if (!copy)
		return CW_ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		if (fsync(fd) != 0 && errno != EINVAL)
			rc = CW_EIO;
		close(fd);
	}
	free(copy);
	return rc;
}

int cw_write_file_atomic(const char *path, const void *data, size_t len,
			 mode_t mode, char *err, size_t errlen)
{
	char *tmp = cw_asprintf("%s.tmp.%ld", path, (long)getpid());
	const char *p = data;
	int fd, rc = 0;

	if (!tmp)
		return cw_fail(err, errlen, CW_ENOMEM, "%s: out of memory", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		rc = cw_fail(err, errlen, CW_EIO, "%s: cannot create: %s", tmp, strerror(errno));
		goto out;
	}
	/* the umask must not widen or narrow what the caller asked for */
	if (fchmod(fd, mode) != 0) {
		rc = cw_fail(err, errlen, CW_EIO, "%s: chmod: %s", tmp, strerror(errno));
		goto fail;
	}
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = cw_fail(err, errlen, CW_EIO, "%s: write: %s", tmp, strerror(errno));
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) != 0) {
		rc = cw_fail(err, errlen, CW_EIO, "%s: fsync: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = cw_fail(err, errlen, CW_EIO, "%s: close: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = cw_fail(err, errlen, CW_EIO, "%s: rename: %s", path, strerror(errno));
		goto fail;
	}
	rc = fsync_dir_of(path);
	if (rc)
		cw_fail(err, errlen, rc, "%s: fsync of folder failed", path);
	goto out;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out:
	free(tmp);
	return rc;
}

int cw_read_file(const char *path, size_t max, char **out, size_t *len,
		 char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, rc = 0;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cw_fail(err, errlen, errno == ENOENT ? CW_ENOTFOUND : CW_EIO,
			       "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = cw_fail(err, errlen, CW_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = cw_fail(err, errlen, CW_EINVAL, "%s: is a directory, not a file", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = cw_fail(err, errlen, CW_EINVAL, "%s: not a regular file", path);
		goto out;
	}
	if ((uintmax_t)st.st_size > max) {
		rc = cw_fail(err, errlen, CW_ETOOBIG, "%s: file is %lld bytes, larger than the %zu byte limit",
			     path, (long long)st.st_size, max);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = cw_fail(err, errlen, CW_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		ssize_t r;

		if (got == (size_t)st.st_size) {
			/* the file may have grown since fstat: refuse, do not truncate */
			char extra;

			r = read(fd, &extra, 1);
			if (r > 0) {
				rc = cw_fail(err, errlen, CW_EIO, "%s: file changed while reading", path);
				goto out;
			}
			break;
		}
		r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = cw_fail(err, errlen, CW_EIO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	*out = buf;
	buf = NULL;
	if (len)
		*len = got;
out:
	free(buf);
	close(fd);
	return rc;
}

int cw_mkdirs(const char *path, char *err, size_t errlen)
{
	char *p = cw_strdup(path);
	int rc = 0;

	if (!p)
		return cw_fail(err, errlen, CW_ENOMEM, "out of memory");
	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0755) != 0 && errno != EEXIST) {
				rc = cw_fail(err, errlen, CW_EIO, "%s: cannot create folder: %s",
					     p, strerror(errno));
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	if (!rc) {
		struct stat st;

		if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
			rc = cw_fail(err, errlen, CW_EIO, "%s: not a folder", path);
	}
	free(p);
	return rc;
}
