/*
 * check_lock.c - the run lock: a second run (a fork()ed child, which is
 * another process with its own open file) is refused with the holder's pid
 * and start time; release lets the next one in; a dead holder leaves no
 * stale lock; the file is 0600 and the descriptor close-on-exec.
 */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "lock.h"
#include "strutil.h"
#include "testlib.h"
#include "timeutil.h"

static char *dir, *path;
static int64_t t0;

static void setup(void)
{
	dir = cw_test_tmpdir();
	ck_assert_ptr_nonnull(dir);
	path = cw_asprintf("%s/cwsweep.lock", dir);
	ck_assert_int_eq(cw_time_parse("2026-11-26T03:00:00Z", &t0), 0);
}

static void teardown(void)
{
	cw_test_rmtree(dir);
	free(dir);
	free(path);
}

/*
 * In a child process: try the lock once and report through the exit status
 * (0 taken, 1 held, 2 error) and the message through a pipe.
 */
static int try_in_child(char *msg, size_t msglen)
{
	int fds[2], status;
	pid_t pid;
	ssize_t n;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct cw_lock l;
		char err[CW_ERRBUF] = "";
		int rc = cw_lock_acquire(path, t0 + 60, &l, err, sizeof(err));

		close(fds[0]);
		if (write(fds[1], err, strlen(err)) < 0)
			_exit(3);
		if (rc == 0)
			cw_lock_release(&l);
		_exit(rc == 0 ? 0 : rc == CW_LOCK_HELD ? 1 : 2);
	}
	close(fds[1]);
	n = read(fds[0], msg, msglen - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(test_second_run_refused_then_allowed)
{
	struct cw_lock l;
	char err[CW_ERRBUF], msg[CW_ERRBUF], want[CW_ERRBUF];
	struct stat sb;

	ck_assert_int_eq(cw_lock_acquire(path, t0, &l, err, sizeof(err)), 0);
	ck_assert_int_ge(l.fd, 0);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	/* not inherited by programs the run starts */
	ck_assert(fcntl(l.fd, F_GETFD) & FD_CLOEXEC);

	ck_assert_int_eq(try_in_child(msg, sizeof(msg)), 1);
	snprintf(want, sizeof(want), "another cwsweep run holds the lock %s (pid %ld, "
		 "started 2026-11-26T03:00:00Z)", path, (long)getpid());
	ck_assert_str_eq(msg, want);

	cw_lock_release(&l);
	ck_assert_int_eq(l.fd, -1);
	cw_lock_release(&l); /* twice is harmless */
	ck_assert_int_eq(try_in_child(msg, sizeof(msg)), 0);
	ck_assert_str_eq(msg, "");
	ck_assert_int_eq(cw_lock_acquire(path, t0, &l, err, sizeof(err)), 0);
	cw_lock_release(&l);
}
END_TEST

/* flock belongs to the open file, not the process: the same process
 * opening it twice is refused too (two runs in one test binary). */
START_TEST(test_same_process_second_open)
{
	struct cw_lock a, b;
	char err[CW_ERRBUF];

	long long pid;
	int64_t started;

	ck_assert_int_eq(cw_lock_acquire(path, t0, &a, err, sizeof(err)), 0);
	ck_assert_int_eq(cw_lock_acquire(path, t0, &b, err, sizeof(err)), CW_LOCK_HELD);
	ck_assert_int_eq(b.fd, -1);
	ck_assert_ptr_nonnull(strstr(err, "another cwsweep run holds the lock"));
	/* who holds it, for the skipped run's metrics and stale-lock notice */
	ck_assert_int_eq(cw_lock_holder(path, &pid, &started), 0);
	ck_assert_int_eq(pid, (long long)getpid());
	ck_assert_int_eq(started, t0);
	cw_lock_release(&b);
	cw_lock_release(&a);
	/* released: the record is gone */
	ck_assert_int_eq(cw_lock_holder(path, &pid, &started), CW_ENOTFOUND);
	ck_assert_int_eq(pid, 0);
	ck_assert_int_eq(started, 0);
	ck_assert_int_eq(cw_lock_holder("/nonexistent/x.lock", &pid, &started), CW_ENOTFOUND);
	ck_assert_int_eq(cw_lock_acquire(path, t0, &b, err, sizeof(err)), 0);
	cw_lock_release(&b);
}
END_TEST

/* A holder killed with SIGKILL leaves no stale lock behind. */
START_TEST(test_killed_holder_leaves_no_lock)
{
	struct cw_lock l;
	char err[CW_ERRBUF];
	int fds[2], status;
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		if (cw_lock_acquire(path, t0, &l, err, sizeof(err)) != 0)
			_exit(2);
		if (write(fds[1], "x", 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &c, 1), 1); /* the child holds it now */
	close(fds[0]);
	ck_assert_int_eq(cw_lock_acquire(path, t0, &l, err, sizeof(err)), CW_LOCK_HELD);
	ck_assert(strstr(err, "(pid ") != NULL);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(cw_lock_acquire(path, t0, &l, err, sizeof(err)), 0);
	cw_lock_release(&l);
}
END_TEST

/* The file's content is only a hint: a holder that has not written it yet
 * (or a file from elsewhere) still gives a clear message. */
START_TEST(test_held_without_holder_info)
{
	struct cw_lock l;
	char err[CW_ERRBUF], want[CW_ERRBUF];
	int fd = open(path, O_RDWR | O_CREAT, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "garbage\n", 8), 8);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
	ck_assert_int_eq(cw_lock_acquire(path, t0, &l, err, sizeof(err)), CW_LOCK_HELD);
	snprintf(want, sizeof(want), "another cwsweep run holds the lock %s", path);
	ck_assert_str_eq(err, want);
	close(fd);
}
END_TEST

START_TEST(test_missing_folder)
{
	struct cw_lock l;
	char err[CW_ERRBUF], *bad = cw_asprintf("%s/no/such/dir/x.lock", dir);
	int rc = cw_lock_acquire(bad, t0, &l, err, sizeof(err));

	ck_assert_int_eq(rc, CW_EIO);
	ck_assert_ptr_nonnull(strstr(err, bad));
	ck_assert_ptr_nonnull(strstr(err, "cannot open"));
	ck_assert_int_eq(l.fd, -1);
	free(bad);
}
END_TEST

/* A link at the lock path is never followed: its target keeps its content. */
START_TEST(test_symlink_refused)
{
	struct cw_lock l;
	char err[CW_ERRBUF], *target = cw_test_write(dir, "precious.txt", "keep me\n"), *text;

	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_eq(cw_lock_acquire(path, t0, &l, err, sizeof(err)), CW_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "symbolic link"));
	text = cw_test_slurp(target);
	ck_assert_str_eq(text, "keep me\n");
	free(text);
	free(target);
}
END_TEST

/* --lock pointed at a file of other data refuses it and leaves it alone. */
START_TEST(test_foreign_file_untouched)
{
	struct cw_lock l;
	char err[CW_ERRBUF], *text;
	char *other = cw_test_write(dir, "notes.txt", "my notes, not a lock\n");

	ck_assert_int_eq(cw_lock_acquire(other, t0, &l, err, sizeof(err)), CW_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not a cwsweep lock file"));
	ck_assert_int_eq(l.fd, -1);
	text = cw_test_slurp(other);
	ck_assert_str_eq(text, "my notes, not a lock\n");
	free(text);
	/* a lock file of an earlier run (holder record) is fine */
	free(other);
	other = cw_test_write(dir, "old.lock", "4242 2026-11-25T03:00:00Z\n");
	ck_assert_int_eq(cw_lock_acquire(other, t0, &l, err, sizeof(err)), 0);
	cw_lock_release(&l);
	free(other);
}
END_TEST

/* A FIFO (or a hard link) at the lock path is refused at once, no hang. */
START_TEST(test_fifo_and_hard_link_refused)
{
	struct cw_lock l;
	char err[CW_ERRBUF], *link2 = cw_asprintf("%s/second-name", dir);

	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(cw_lock_acquire(path, t0, &l, err, sizeof(err)), CW_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not a plain file"));
	ck_assert_int_eq(unlink(path), 0);
	free(cw_test_write(dir, "cwsweep.lock", ""));
	ck_assert_int_eq(link(path, link2), 0);
	ck_assert_int_eq(cw_lock_acquire(path, t0, &l, err, sizeof(err)), CW_EINVAL);
	free(link2);
}
END_TEST

static Suite *lock_suite(void)
{
	Suite *s = suite_create("lock");
	TCase *tc = tcase_create("lock");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_second_run_refused_then_allowed);
	tcase_add_test(tc, test_same_process_second_open);
	tcase_add_test(tc, test_killed_holder_leaves_no_lock);
	tcase_add_test(tc, test_held_without_holder_info);
	tcase_add_test(tc, test_missing_folder);
	tcase_add_test(tc, test_symlink_refused);
	tcase_add_test(tc, test_foreign_file_untouched);
	tcase_add_test(tc, test_fifo_and_hard_link_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return cw_test_run_suite(lock_suite());
}
