/*
 * atomicio.c - whole-file writes (at once or piece by piece) and reads
 * (see atomicio.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
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

/* Close and remove the temporary file (a failed step). */
static void afile_drop(struct cw_afile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->tmp && !f->done)
		unlink(f->tmp);
	f->done = true;
}

int cw_afile_open(struct cw_afile *f, const char *path, mode_t mode,
		  char *err, size_t errlen)
{
	f->path = cw_strdup(path);
	/* PATH.tmp.PID.XXXXXX: a fresh name, created with O_EXCL by mkstemp, so a link or
	 * file planted at a guessable name is never followed or reused */
	f->tmp = cw_asprintf("%s" CW_TMP_INFIX "%ld.XXXXXX", path, (long)getpid());
	f->fd = -1;
	f->done = true;
	if (!f->path || !f->tmp) {
		cw_afile_abort(f);
		return cw_fail(err, errlen, CW_ENOMEM, "%s: out of memory", path);
	}
	f->fd = mkstemp(f->tmp); /* O_CREAT | O_EXCL, mode 0600 */
	if (f->fd >= 0)
		(void)fcntl(f->fd, F_SETFD, FD_CLOEXEC);
	if (f->fd < 0) {
		int rc = cw_fail(err, errlen, CW_EIO, "%s: cannot create: %s", f->tmp,
				 strerror(errno));

		cw_afile_abort(f);
		return rc;
	}
	f->done = false;
	/* the umask must not widen or narrow what the caller asked for */
	if (fchmod(f->fd, mode) != 0) {
		int rc = cw_fail(err, errlen, CW_EIO, "%s: chmod: %s", f->tmp, strerror(errno));

		afile_drop(f);
		return rc;
	}
	return 0;
}

int cw_afile_write(struct cw_afile *f, const void *data, size_t len,
		   char *err, size_t errlen)
{
	const char *p = data;

	if (f->fd < 0)
		return cw_fail(err, errlen, CW_ESTATE, "%s: not open for writing",
			       f->path ? f->path : "file");
	while (len > 0) {
		ssize_t w = write(f->fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int rc = cw_fail(err, errlen, CW_EIO, "%s: write: %s", f->tmp,
					 strerror(errno));

			afile_drop(f);
			return rc;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int cw_afile_finish(struct cw_afile *f, char *err, size_t errlen)
{
	int rc;

	if (f->fd < 0)
		return f->done ? cw_fail(err, errlen, CW_ESTATE, "%s: not open for writing",
					 f->path ? f->path : "file") : 0;
	if (fsync(f->fd) != 0) {
		rc = cw_fail(err, errlen, CW_EIO, "%s: fsync: %s", f->tmp, strerror(errno));
		afile_drop(f);
		return rc;
	}
	rc = close(f->fd);
	f->fd = -1;
	if (rc != 0) {
		rc = cw_fail(err, errlen, CW_EIO, "%s: close: %s", f->tmp, strerror(errno));
		afile_drop(f);
		return rc;
	}
	return 0;
}

int cw_afile_commit(struct cw_afile *f, char *err, size_t errlen)
{
	int rc;

	if ((rc = cw_afile_finish(f, err, errlen)))
		return rc;
	if (rename(f->tmp, f->path) != 0) {
		rc = cw_fail(err, errlen, CW_EIO, "%s: rename: %s", f->path, strerror(errno));
		afile_drop(f);
		return rc;
	}
	f->done = true;
	rc = fsync_dir_of(f->path);
	if (rc)
		cw_fail(err, errlen, rc, "%s: fsync of folder failed", f->path);
	return rc;
}

void cw_afile_abort(struct cw_afile *f)
{
	if (f->tmp)
		afile_drop(f);
	free(f->path);
	free(f->tmp);
	f->path = NULL;
	f->tmp = NULL;
	f->fd = -1;
	f->done = true;
}

int cw_write_file_atomic(const char *path, const void *data, size_t len,
			 mode_t mode, char *err, size_t errlen)
{
	struct cw_afile f;
	int rc;

	if (!(rc = cw_afile_open(&f, path, mode, err, errlen)) &&
	    !(rc = cw_afile_write(&f, data, len, err, errlen)))
		rc = cw_afile_commit(&f, err, errlen);
	cw_afile_abort(&f);
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
	/* O_NONBLOCK: a FIFO or a device at the path must not hang the open */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
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
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
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

/* "NAME.tmp.PID" or "NAME.tmp.PID.XXXXXX": the PID, or 0 when name is not one. */
static long tmp_pid(const char *name)
{
	const char *p = NULL, *q;
	long long pid;
	char digits[24];
	size_t n;

	for (q = strstr(name, CW_TMP_INFIX); q; q = strstr(q + 1, CW_TMP_INFIX))
		p = q; /* the last one */
	if (!p || p == name)
		return 0;
	p += sizeof(CW_TMP_INFIX) - 1;
	n = strspn(p, "0123456789");
	if (n == 0 || n >= sizeof(digits))
		return 0;
	if (p[n] != '\0' && !(p[n] == '.' && strlen(p + n + 1) == 6))
		return 0;
	memcpy(digits, p, n);
	digits[n] = '\0';
	if (cw_parse_i64(digits, 1, 0x7fffffff, &pid) != 0)
		return 0;
	return (long)pid;
}

int cw_remove_stale_temps(const char *dir, const char *name, size_t *removed,
			  char *err, size_t errlen)
{
	DIR *d;
	struct dirent *e;
	int dfd;

	if (removed)
		*removed = 0;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : cw_fail(err, errlen, CW_EIO, "%s: %s", dir,
						     strerror(errno));
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return cw_fail(err, errlen, CW_EIO, "%s: %s", dir, strerror(errno));
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		long pid = tmp_pid(e->d_name);

		if (pid <= 0 || pid == (long)getpid())
			continue;
		if (name && strncmp(e->d_name, name, strlen(name)) != 0)
			continue;
		/* a live process (any owner) may still be writing it */
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		/* regular files and links only, never what a link points to */
		if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !(S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)))
			continue;
		if (unlinkat(dfd, e->d_name, 0) == 0 && removed)
			(*removed)++;
	}
	closedir(d);
	return 0;
}
