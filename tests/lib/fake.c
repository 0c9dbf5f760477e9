/*
 * fake.c - start and stop the fake AWS endpoint for the Check suites.
 *
 * cw_fake_start forks and execs "$CW_PYTHON tests/fake_aws/fake_aws.py" on a
 * free loopback port (--port 0) and waits for the port file that the fake
 * writes atomically once it listens. The child dies with the test process
 * (PR_SET_PDEATHSIG), so a crashed test leaves no fake behind. No threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "strutil.h"
#include "testlib.h"

#define FAKE_START_TIMEOUT_MS 10000
#define FAKE_STOP_TIMEOUT_MS 5000
#define FAKE_POLL_MS 10

static void fake_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* The port in the port file, or -1 while it is absent or incomplete. */
static int fake_read_port(const char *path)
{
	char buf[16];
	char *end;
	ssize_t n;
	long v;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || end == buf || (*end != '\n' && *end != '\0') || v < 1 || v > 65535)
		return -1;
	return (int)v;
}

/* Waits up to timeout_ms for pid; returns true once it has been reaped. */
static bool fake_reap(pid_t pid, long timeout_ms)
{
	long waited = 0;

	for (;;) {
		pid_t r = waitpid(pid, NULL, WNOHANG);

		if (r == pid || (r < 0 && errno == ECHILD))
			return true;
		if (waited >= timeout_ms)
			return false;
		fake_sleep_ms(FAKE_POLL_MS);
		waited += FAKE_POLL_MS;
	}
}

/* Child side: never returns. */
static void fake_exec(const char *python, const char *script, const char *scenario,
		      const char *port_file, const char *log, const char *err_file,
		      pid_t parent)
{
	int fd;
	const char *argv[] = { python, script, "--scenario", scenario, "--port", "0",
			       "--port-file", port_file, "--log", log, NULL };

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(126);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	fd = open(err_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	execvp(python, (char *const *)argv);
	fprintf(stderr, "fake: cannot run %s: %s\n", python, strerror(errno));
	_exit(127);
}

/* Copies what the fake printed to our stderr, to explain a failed start. */
static void fake_report_failure(const char *dir, const char *why)
{
	char *path = cw_asprintf("%s/stderr.txt", dir);
	char *text = path ? cw_test_slurp(path) : NULL;

	fprintf(stderr, "fake AWS endpoint: %s\n%s", why, text ? text : "");
	free(text);
	free(path);
}

int cw_fake_start(struct cw_fake *f, const char *scenario)
{
	const char *python = getenv("CW_PYTHON");
	char *script = NULL, *scen = NULL, *port_file = NULL, *err_file = NULL;
	pid_t pid, parent = getpid();
	long waited = 0;
	int port = -1;

	memset(f, 0, sizeof(*f));
	if (!python || !*python)
		python = "python3";
	f->dir = cw_test_tmpdir();
	if (!f->dir)
		goto fail;
	script = cw_test_src("tests/fake_aws/fake_aws.py");
	scen = scenario[0] == '/' ? cw_strdup(scenario) : cw_test_src(scenario);
	port_file = cw_asprintf("%s/port", f->dir);
	err_file = cw_asprintf("%s/stderr.txt", f->dir);
	f->requests_log = cw_asprintf("%s/requests.jsonl", f->dir);
	if (!script || !scen || !port_file || !err_file || !f->requests_log)
		goto fail;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0)
		fake_exec(python, script, scen, port_file, f->requests_log, err_file, parent);
	f->pid = (int)pid;
	while (waited < FAKE_START_TIMEOUT_MS) {
		port = fake_read_port(port_file);
		if (port > 0)
			break;
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			f->pid = 0;
			fake_report_failure(f->dir, "exited before listening");
			goto fail;
		}
		fake_sleep_ms(FAKE_POLL_MS);
		waited += FAKE_POLL_MS;
	}
	if (port <= 0) {
		fake_report_failure(f->dir, "did not listen within 10 s");
		goto fail;
	}
	f->port = port;
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", port);
	free(script);
	free(scen);
	free(port_file);
	free(err_file);
	return 0;
fail:
	free(script);
	free(scen);
	free(port_file);
	free(err_file);
	cw_fake_stop(f);
	return -1;
}

void cw_fake_stop(struct cw_fake *f)
{
	if (!f)
		return;
	if (f->pid > 0) {
		pid_t pid = (pid_t)f->pid;

		kill(pid, SIGTERM);
		if (!fake_reap(pid, FAKE_STOP_TIMEOUT_MS)) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
	}
	f->pid = 0;
	f->port = 0;
	f->url[0] = '\0';
	if (f->dir) {
		cw_test_rmtree(f->dir);
		free(f->dir);
		f->dir = NULL;
	}
	free(f->requests_log);
	f->requests_log = NULL;
}

int cw_fake_count(const struct cw_fake *f, const char *needle)
{
	FILE *fp;
	char *line = NULL;
	size_t cap = 0;
	int n = 0;

	if (!f || !f->requests_log)
		return -1;
	fp = fopen(f->requests_log, "r");
	if (!fp)
		return 0;
	while (getline(&line, &cap, fp) != -1) {
		if (!needle || strstr(line, needle))
			n++;
	}
	free(line);
	fclose(fp);
	return n;
}
