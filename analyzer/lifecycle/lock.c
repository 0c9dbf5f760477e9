/*
 * lock.c - the run lock (see lock.h): flock(LOCK_EX | LOCK_NB) on a file
 * that records who holds it.
 *
 * No threads: taken and released on the main thread.
 */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "strutil.h"
#include "timeutil.h"

#define HOLDER_MAX 128 /* "PID TIME\n" is far shorter */

/* Read the holder's "PID TIME" into pid / when (and *started, when not
 * NULL); false when the file does not hold them (the holder may be writing
 * it right now). */
static bool read_holder_at(int fd, long long *pid, char *when, size_t whenlen,
			   int64_t *started)
{
	char buf[HOLDER_MAX];
	char *save = NULL, *p, *t;
	ssize_t n;
	int64_t at;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strtok_r(buf, " \n", &save);
	t = p ? strtok_r(NULL, " \n", &save) : NULL;
	if (!t || cw_parse_i64(p, 1, 0x7fffffff, pid) != 0 || cw_time_parse(t, &at) != 0)
		return false;
	cw_time_iso(at, when, whenlen);
	if (started)
		*started = at;
	return true;
}

static bool read_holder(int fd, long long *pid, char *when, size_t whenlen)
{
	return read_holder_at(fd, pid, when, whenlen, NULL);
}

int cw_lock_holder(const char *path, long long *pid, int64_t *started)
{
	char when[CW_TIME_ISO_LEN];
	struct stat st;
	bool ok;
	int fd;

	*pid = 0;
	*started = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return CW_ENOTFOUND;
	ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	     read_holder_at(fd, pid, when, sizeof(when), started);
	close(fd);
	return ok ? 0 : CW_ENOTFOUND;
}

static int write_holder(int fd, int64_t now)
{
	char buf[HOLDER_MAX], when[CW_TIME_ISO_LEN];
	int n;

	n = snprintf(buf, sizeof(buf), "%ld %s\n", (long)getpid(),
		     cw_time_iso(now, when, sizeof(when)));
	if (n < 0 || (size_t)n >= sizeof(buf))
		return CW_EIO;
	if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != (ssize_t)n)
		return CW_EIO;
	return 0;
}

void cw_lock_release(struct cw_lock *lock)
{
	if (!lock)
		return;
	if (lock->fd >= 0) {
		/* only the holder empties it, so the next message never names a
		 * finished run; the lock goes with the descriptor */
		if (ftruncate(lock->fd, 0) != 0) {
			/* nothing to do: the content is only a hint */
		}
		close(lock->fd);
	}
	free(lock->path);
	lock->fd = -1;
	lock->path = NULL;
}

int cw_lock_acquire(const char *path, int64_t now, struct cw_lock *out,
		    char *err, size_t errlen)
{
	char when[CW_TIME_ISO_LEN];
	long long pid;
	int fd, rc;

	struct stat st;

	out->fd = -1;
	out->path = NULL;
	if (!path || !*path)
		return cw_fail(err, errlen, CW_EINVAL, "lock file: empty path");
	/* never through a link (its target would be truncated), never a FIFO
	 * or device (O_NONBLOCK: the open must not hang) */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK,
		  0600);
	if (fd < 0)
		return cw_fail(err, errlen, errno == ELOOP ? CW_EINVAL : CW_EIO,
			       "lock file %s: cannot open: %s", path,
			       errno == ELOOP ? "it is a symbolic link" : strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		close(fd);
		return cw_fail(err, errlen, CW_EINVAL, "lock file %s: not a plain file "
			       "(a link, folder, FIFO or device is refused)", path);
	}
	while ((rc = flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR)
		;
	if (rc != 0) {
		int e = errno;

		if (e == EWOULDBLOCK) {
			if (read_holder(fd, &pid, when, sizeof(when)))
				cw_fail(err, errlen, 0, "another cwsweep run holds the lock %s "
					"(pid %lld, started %s)", path, pid, when);
			else
				cw_fail(err, errlen, 0, "another cwsweep run holds the lock %s",
					path);
			close(fd);
			return CW_LOCK_HELD;
		}
		close(fd);
		return cw_fail(err, errlen, CW_EIO, "lock file %s: cannot lock: %s", path,
			       strerror(e));
	}
	/* a file that holds something else (a typo in --lock) is left alone */
	if (fstat(fd, &st) != 0 ||
	    (st.st_size > 0 && (st.st_size >= HOLDER_MAX ||
				!read_holder(fd, &pid, when, sizeof(when))))) {
		close(fd);
		return cw_fail(err, errlen, CW_EINVAL, "lock file %s: exists and is not a "
			       "cwsweep lock file; not touching it", path);
	}
	out->path = cw_strdup(path);
	if (!out->path) {
		close(fd);
		return cw_fail(err, errlen, CW_ENOMEM, "lock file %s: out of memory", path);
	}
	out->fd = fd;
	if (write_holder(fd, now ? now : cw_time_now()) != 0) {
		rc = cw_fail(err, errlen, CW_EIO, "lock file %s: cannot write: %s", path,
			     strerror(errno));
		cw_lock_release(out);
		return rc;
	}
	return 0;
}
