/* SPDX-License-Identifier: MIT */
/*
 * The daemon harness (daemon_harness.h): fork/exec of the built xenstored,
 * bounded waits on its socket and its exit, and shell commands run with
 * XENSTORED_PATH pointing at it, each killed (with its process group) when
 * it overruns.
 */
#include "vst.h"

#include "daemon_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_TIMEOUT_MS 20000
#define STOP_TIMEOUT_MS 10000
#define SH_TIMEOUT_MS 20000
#define POLL_MS 10

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int decode_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

/* Reap @p pid within @p timeout_ms: 1 and *status, or 0 when it still runs. */
static int reap(pid_t pid, int timeout_ms, int *status)
{
	long end = now_ms() + timeout_ms;

	for (;;) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			*status = decode_status(st);
			return 1;
		}
		if (r < 0 && errno != EINTR) {
			*status = -1;
			return 1; /* not our child (any more) */
		}
		if (now_ms() >= end)
			return 0;
		usleep(POLL_MS * 1000);
	}
}

/* @p a followed by @p b, malloc'd (NULL when @p a is). */
static char *concat(const char *a, const char *b)
{
	if (!a)
		return NULL;
	size_t n = strlen(a) + strlen(b) + 1;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s%s", a, b);
	return s;
}

const char *xsd_harness_exe(void)
{
	const char *exe = getenv("XSD_TEST_DAEMON");

	return exe && *exe ? exe : NULL;
}

struct xsd_harness *xsd_harness_new(const char *tag)
{
	struct xsd_harness *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->status = -1;
	h->dir = vst_tmpdir(tag);
	h->run_dir = concat(h->dir, "/run");
	h->sock = concat(h->dir, "/run/socket");
	h->log = concat(h->dir, "/daemon.log");
	char *store = concat(h->dir, "/store");
	h->store = concat("lmdb:", store ? store : "");
	free(store);
	if (!h->dir || !h->run_dir || !h->sock || !h->store || !h->log) {
		xsd_harness_free(h);
		return NULL;
	}
	return h;
}

/* fork + exec @p argv, stdout and stderr appended to h->log; dies with us. */
static pid_t spawn(struct xsd_harness *h, const char *const *argv)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	int fd = open(h->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

void xsd_harness_dump_log(const struct xsd_harness *h)
{
	FILE *f = fopen(h->log, "r");
	char line[1024];

	if (!f)
		return;
	fprintf(stderr, "--- %s:\n", h->log);
	while (fgets(line, sizeof(line), f))
		fputs(line, stderr);
	fclose(f);
}

bool xsd_harness_wait_socket(const char *path, int timeout_ms)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	long end = now_ms() + timeout_ms;

	if (strlen(path) >= sizeof(sa.sun_path))
		return false;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return false;
		int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		close(fd);
		if (rc == 0)
			return true;
		if (now_ms() >= end)
			return false;
		usleep(POLL_MS * 1000);
	}
}

int xsd_harness_start(struct xsd_harness *h, const char *const *extra)
{
	const char *argv[64];
	size_t n = 0;

	if (!xsd_harness_exe() || h->pid > 0)
		return -1;
	argv[n++] = xsd_harness_exe();
	argv[n++] = "-N";
	argv[n++] = "--run-dir";
	argv[n++] = h->run_dir;
	argv[n++] = "--store";
	argv[n++] = h->store;
	for (size_t i = 0; extra && extra[i] && n < 63; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	h->pid = spawn(h, argv);
	if (h->pid < 0) {
		h->pid = 0;
		return -1;
	}
	long end = now_ms() + START_TIMEOUT_MS;
	do {
		if (reap(h->pid, 0, &h->status)) {
			h->pid = 0;
			xsd_harness_dump_log(h);
			return -1;
		}
		if (xsd_harness_wait_socket(h->sock, 0))
			return 0;
		usleep(POLL_MS * 1000);
	} while (now_ms() < end);
	xsd_harness_kill(h);
	xsd_harness_dump_log(h);
	return -1;
}

int xsd_harness_run(struct xsd_harness *h, const char *const *args, int timeout_ms)
{
	const char *argv[64];
	size_t n = 0;
	int status;

	if (!xsd_harness_exe())
		return -1;
	argv[n++] = xsd_harness_exe();
	for (size_t i = 0; args && args[i] && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid_t pid = spawn(h, argv);
	if (pid < 0)
		return -1;
	if (reap(pid, timeout_ms, &status))
		return status;
	kill(pid, SIGKILL);
	reap(pid, STOP_TIMEOUT_MS, &status);
	return -1;
}

int xsd_harness_stop(struct xsd_harness *h)
{
	if (h->pid <= 0)
		return -1;
	kill(h->pid, SIGTERM);
	if (!reap(h->pid, STOP_TIMEOUT_MS, &h->status)) {
		fprintf(stderr, "xenstored %ld ignored SIGTERM for %d ms: killing it\n",
			(long)h->pid, STOP_TIMEOUT_MS);
		kill(h->pid, SIGKILL);
		reap(h->pid, STOP_TIMEOUT_MS, &h->status);
		h->status = -1;
	}
	h->pid = 0;
	return h->status;
}

void xsd_harness_kill(struct xsd_harness *h)
{
	if (h->pid <= 0)
		return;
	kill(h->pid, SIGKILL);
	reap(h->pid, STOP_TIMEOUT_MS, &h->status);
	h->pid = 0;
}

void xsd_harness_free(struct xsd_harness *h)
{
	if (!h)
		return;
	xsd_harness_kill(h);
	vst_rmrf(h->dir);
	free(h->dir);
	free(h->run_dir);
	free(h->sock);
	free(h->store);
	free(h->log);
	free(h);
}

/* Read the child's stdout into *out until EOF or @p end. 0, or -1 on timeout/error. */
static int collect(int fd, char **out, long end)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	if (!buf)
		return -1;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		long left = end - now_ms();
		if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
			free(buf);
			return -1;
		}
		if (cap - len < 2) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				return -1;
			}
			buf = nb;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

int xsd_harness_sh(struct xsd_harness *h, const char *sock, char **out, const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int p[2] = {-1, -1}, status = -1;

	if (out)
		*out = NULL;
	va_start(ap, fmt);
	int len = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(cmd))
		return -1;
	if (out && pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		setenv("XENSTORED_PATH", sock ? sock : h->sock, 1);
		if (out)
			dup2(p[1], STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (out)
		close(p[1]);
	if (pid < 0) {
		if (out)
			close(p[0]);
		return -1;
	}
	long end = now_ms() + SH_TIMEOUT_MS;
	int rc = out ? collect(p[0], out, end) : 0;
	if (out)
		close(p[0]);
	long left = end - now_ms();
	if (rc < 0 || !reap(pid, left > 0 ? (int)left : 0, &status)) {
		fprintf(stderr, "command timed out after %d ms: %s\n", SH_TIMEOUT_MS, cmd);
		kill(-pid, SIGKILL);
		reap(pid, STOP_TIMEOUT_MS, &status);
		if (out) {
			free(*out);
			*out = NULL;
		}
		return -1;
	}
	return status;
}
