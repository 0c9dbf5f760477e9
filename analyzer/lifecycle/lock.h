/*
 * lock.h - one run at a time: an exclusive flock(2) on a lock file.
 *
 * A nightly cron job that runs long must not overlap the next one (two
 * runs would write the same reports and state file, and post the digest
 * twice).  The lock is an flock on an open file: the kernel drops it when
 * the process ends, however it ends, so there are no stale locks to clean
 * up and no need for flock(1) in the crontab.  The holder writes its pid
 * and start time into the file, for the message the next run prints.  The
 * file itself is left in place after the run (unlinking it would let a
 * third run lock a new file while a second still holds the old one).
 *
 * Not for NFS: flock there may be local to each client.
 *
 * Threads: take the lock on the main thread before any work starts; the
 * descriptor is close-on-exec, so programs that cwsweep runs (a
 * credential_process) do not inherit it.
 */
#ifndef CW_LOCK_H
#define CW_LOCK_H

#include <stddef.h>
#include <stdint.h>

/*
 * Returned by cw_lock_acquire when another process holds the lock: a
 * positive value, apart from every cw_err, so the caller maps it to exit
 * code 75 (CW_EXIT_LOCKED) and every negative cw_err to a failure.
 */
#define CW_LOCK_HELD 1

struct cw_lock {
	int fd;     /* -1 when not held */
	char *path; /* owned */
};

/*
 * Create (mode 0600) or open path and take an exclusive, non-blocking
 * flock on it; write "PID START_ISO8601\n" into it.  now: the start time to
 * record (0: cw_time_now()).
 * The file is opened without following links (O_NOFOLLOW) and must be a
 * plain file with one link; a file that holds anything but a lock record
 * is refused (CW_EINVAL) and left untouched, so `--lock` pointed at a
 * wrong file never truncates it.
 * Returns 0 (lock held in *out until cw_lock_release), CW_LOCK_HELD with err
 * "another cwsweep run holds the lock PATH (pid 1234, started
 * 2026-11-26T03:00:00Z)", or a negative cw_err (CW_EIO: cannot open or lock
 * the file, e.g. its folder does not exist; CW_EINVAL: a link, not a plain
 * file, or foreign content).  *out is released on failure.
 */
int cw_lock_acquire(const char *path, int64_t now, struct cw_lock *out,
		    char *err, size_t errlen);

/*
 * Who holds the lock at path, from its record (after cw_lock_acquire said
 * CW_LOCK_HELD): *pid and *started (UTC seconds, as the holder wrote it).
 * 0, or CW_ENOTFOUND when there is no readable record (the holder has just
 * finished, or not yet written it); both are 0 then.
 */
int cw_lock_holder(const char *path, long long *pid, int64_t *started);

/* Empty the file and drop the lock (closing the descriptor).  Safe on a
 * lock that was never taken, and twice. */
void cw_lock_release(struct cw_lock *lock);

#endif
