/* SPDX-License-Identifier: MIT */
/*
 * The daemon under test for bench_xenstored: finding the binary, starting it
 * on its documented command line in a fresh run dir, stopping it, and what
 * /proc says about it (CPU time, resident memory). Include after
 * bench_util.h (BENCH_NAME, bench_now).
 */
#ifndef VSTORE_BENCH_XSD_H
#define VSTORE_BENCH_XSD_H

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xenstore.h>

/* The daemon's --sync modes, by index. */
static const char *const bench_xsd_sync_names[2] = { "default", "always" };

/* "BENCH_NAME: <message>" on stderr, then exit 2: a bad command line. */
static inline __attribute__((format(printf, 1, 2), noreturn)) void
bench_usage_die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", BENCH_NAME);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/*
 * The comma list @s of names from @names (@count of them) as a mask of their
 * indexes. An unknown name ends the run: "unknown @what: <the list from it>".
 */
static inline unsigned int bench_names_mask(const char *s, const char *const *names, int count,
					     const char *what)
{
	unsigned int mask = 0;
	while (*s) {
		size_t len = strcspn(s, ",");
		int i = 0;
		while (i < count && (strlen(names[i]) != len || strncmp(names[i], s, len)))
			i++;
		if (i == count)
			bench_usage_die("unknown %s: %s", what, s);
		mask |= 1u << i;
		s += len + (s[len] == ',');
	}
	return mask;
}

/* How to start the daemon: every field is borrowed. */
struct bench_xsd_opts {
	const char *bin;          /* the binary */
	const char *store;        /* store URI, @DIR@ = the run dir; NULL: lmdb:@DIR@/store */
	const char *tmpdir;       /* where the run dir is made; NULL: $TMPDIR or /tmp */
	const char *const *extra; /* more daemon arguments, @nextra of them */
	unsigned int nextra;
	double wait;              /* seconds to wait for DIR/socket to answer */
	bool keep;                /* keep the run dir on stop */
};

/* One running daemon. */
struct bench_xsd {
	pid_t pid;                /* 0 once reaped */
	char dir[PATH_MAX - 64];  /* the run dir: DIR/socket, DIR/domain/<domid> */
	struct xs_handle *h;      /* dom0's connection, over DIR/socket */
	unsigned int sync;        /* index into bench_xsd_sync_names */
};

/* The run dir's parent: @tmpdir, $TMPDIR or /tmp. */
static inline const char *bench_xsd_tmpdir(const char *tmpdir)
{
	return tmpdir ? tmpdir : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
}

/*
 * The daemon binary: @given when set, else ../../xenstored/xenstored beside
 * this executable, build/xenstored/xenstored or xenstored/xenstored. NULL
 * (with the reason on stderr) when none is executable.
 */
static inline const char *bench_xsd_find(const char *given)
{
	static char self[PATH_MAX];
	if (given) {
		if (!access(given, X_OK))
			return given;
		fprintf(stderr, "%s: daemon binary not found or not executable: %s (see --daemon)\n",
			BENCH_NAME, given);
		return NULL;
	}
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 32);
	char *slash = n > 0 ? (self[n] = '\0', strrchr(self, '/')) : NULL;
	if (slash) {
		strcpy(slash, "/../../xenstored/xenstored");
		if (!access(self, X_OK))
			return self;
	}
	if (!access("build/xenstored/xenstored", X_OK))
		return "build/xenstored/xenstored";
	if (!access("xenstored/xenstored", X_OK))
		return "xenstored/xenstored";
	fprintf(stderr, "%s: daemon binary not found (tried %s, build/xenstored/xenstored, "
		"xenstored/xenstored): build it with `ninja -C build` or pass --daemon PATH\n",
		BENCH_NAME, slash ? self : "<exe dir>/../../xenstored/xenstored");
	return NULL;
}

/* Daemon CPU time (utime + stime of every thread) in seconds, or -1. */
static inline double bench_xsd_cpu(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long ut, st;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The "@key:   N kB" line of /proc/PID/status (RssAnon, RssFile...) in kB, or -1. */
static inline long bench_xsd_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	long v = -1;
	size_t klen = strlen(key);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (v < 0 && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			v = strtol(line + klen + 1, NULL, 10);
	fclose(f);
	return v;
}

/* A libxenstore connection over socket @sock (XENSTORED_PATH), or NULL with errno. */
static inline struct xs_handle *bench_xsd_open(const char *sock)
{
	setenv("XENSTORED_PATH", sock, 1);
	return xs_open(XS_OPEN_SOCKETONLY);
}

/* The last 2 kB of the daemon's output (DIR/xenstored.log), on stderr. */
static inline void bench_xsd_log_tail(const struct bench_xsd *dm)
{
	char path[PATH_MAX], buf[2048];
	snprintf(path, sizeof(path), "%s/xenstored.log", dm->dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	fseek(f, 0, SEEK_END);
	long size = ftell(f), keep = (long)sizeof(buf) - 1;
	fseek(f, size > keep ? size - keep : 0, SEEK_SET);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	fprintf(stderr, "--- end of %s ---\n%s%s---\n", path, buf, n && buf[n - 1] != '\n' ? "\n" : "");
}

/* nftw callback: remove one entry of the run dir. */
static inline int bench_xsd_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* Close dom0's connection, SIGTERM the daemon (SIGKILL after 5 s), remove the run dir unless @keep. */
static inline void bench_xsd_stop(struct bench_xsd *dm, bool keep)
{
	int status;
	xs_close(dm->h);
	dm->h = NULL;
	if (dm->pid > 0) {
		kill(dm->pid, SIGTERM);
		double end = bench_now() + 5;
		while (waitpid(dm->pid, &status, WNOHANG) == 0) {
			if (bench_now() > end) {
				fprintf(stderr, "%s: daemon %d ignored SIGTERM for 5 s; killing it\n",
					BENCH_NAME, (int)dm->pid);
				kill(dm->pid, SIGKILL);
				waitpid(dm->pid, &status, 0);
				break;
			}
			usleep(10000);
		}
		dm->pid = 0;
	}
	if (keep)
		fprintf(stderr, "%s: kept %s\n", BENCH_NAME, dm->dir);
	else
		nftw(dm->dir, bench_xsd_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* "@what (status N)" or "(signal N)" for a wait status, on stderr. */
static inline void bench_xsd_exit_status(const char *what, int status)
{
	fprintf(stderr, "%s: %s (%s %d)\n", BENCH_NAME, what, WIFEXITED(status) ? "status" : "signal",
		WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

/*
 * Start `BIN -N --run-dir DIR --store URI --domains socket --sync MODE
 * [extra...]` in a fresh DIR (output to DIR/xenstored.log), wait at most
 * @o->wait seconds for DIR/socket to answer and connect to it as dom0.
 * false when it exited or never answered: the reason and the log's tail are
 * on stderr and the run dir is gone.
 */
static inline bool bench_xsd_start(struct bench_xsd *dm, const struct bench_xsd_opts *o,
				   unsigned int sync)
{
	char store[PATH_MAX], sock[PATH_MAX], logp[PATH_MAX];
	const char *uri = o->store ? o->store : "lmdb:@DIR@/store", *at = strstr(uri, "@DIR@");
	memset(dm, 0, sizeof(*dm));
	dm->sync = sync;
	snprintf(dm->dir, sizeof(dm->dir), "%s/bench_xsd.XXXXXX", bench_xsd_tmpdir(o->tmpdir));
	if (!mkdtemp(dm->dir)) {
		fprintf(stderr, "%s: mkdtemp %s: %s\n", BENCH_NAME, dm->dir, strerror(errno));
		return false;
	}
	if (at)
		snprintf(store, sizeof(store), "%.*s%s%s", (int)(at - uri), uri, dm->dir, at + 5);
	else
		snprintf(store, sizeof(store), "%s", uri);
	snprintf(sock, sizeof(sock), "%s/socket", dm->dir);
	snprintf(logp, sizeof(logp), "%s/xenstored.log", dm->dir);
	const char *argv[12 + 16] = { o->bin, "-N", "--run-dir", dm->dir, "--store", store,
				      "--domains", "socket", "--sync", bench_xsd_sync_names[sync] };
	for (unsigned int i = 0; i < o->nextra && i < 16; i++)
		argv[10 + i] = o->extra[i];
	fflush(NULL);
	if ((dm->pid = fork()) < 0) {
		fprintf(stderr, "%s: fork: %s\n", BENCH_NAME, strerror(errno));
		return false;
	}
	if (dm->pid == 0) {
		FILE *lf = fopen(logp, "w");
		if (lf && (dup2(fileno(lf), 1) < 0 || dup2(fileno(lf), 2) < 0))
			_exit(126);
		execv(o->bin, (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", o->bin, strerror(errno));
		_exit(127);
	}
	double end = bench_now() + o->wait;
	struct stat st;
	int status;
	for (;;) {
		if (waitpid(dm->pid, &status, WNOHANG) == dm->pid) {
			bench_xsd_exit_status("the daemon exited before its socket answered", status);
			dm->pid = 0;
			break;
		}
		if (!stat(sock, &st) && S_ISSOCK(st.st_mode) && (dm->h = bench_xsd_open(sock)))
			return true;
		if (bench_now() > end) {
			fprintf(stderr, "%s: no answer on %s within %g s (see --wait)\n", BENCH_NAME,
				sock, o->wait);
			break;
		}
		usleep(10000);
	}
	bench_xsd_log_tail(dm);
	bench_xsd_stop(dm, false);
	return false;
}

/* true while the daemon runs; else says how it ended, with its log's tail. */
static inline bool bench_xsd_alive(struct bench_xsd *dm)
{
	int status;
	if (dm->pid <= 0)
		return false;
	if (waitpid(dm->pid, &status, WNOHANG) != dm->pid)
		return true;
	bench_xsd_exit_status("the daemon died", status);
	dm->pid = 0;
	bench_xsd_log_tail(dm);
	return false;
}

/* What kind of file system @dir is on (fsync costs nothing on tmpfs). */
static inline const char *bench_xsd_fs_kind(const char *dir)
{
	struct statfs sf;
	if (statfs(dir, &sf))
		return "?";
	return sf.f_type == 0x01021994 ? "tmpfs (fsync is free)" : sf.f_type == 0xEF53 ? "ext2/3/4" : "other";
}

/* Read exactly @len bytes within @secs; false on EOF, error or timeout. */
static inline bool bench_read_full(int fd, void *buf, size_t len, double secs)
{
	double end = bench_now() + secs;
	size_t got = 0;
	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)((end - bench_now()) * 1000);
		if (left <= 0 || poll(&p, 1, left) <= 0)
			return false;
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

/* Reap the children, killing any still running after @secs. */
static inline void bench_reap(pid_t *pids, unsigned int n, double secs)
{
	double end = bench_now() + secs;
	int status;
	for (unsigned int i = 0; i < n; i++) {
		while (pids[i] > 0 && waitpid(pids[i], &status, WNOHANG) == 0) {
			if (bench_now() > end) {
				kill(pids[i], SIGKILL);
				waitpid(pids[i], &status, 0);
				break;
			}
			usleep(5000);
		}
	}
}

#endif
