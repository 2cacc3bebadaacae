/* SPDX-License-Identifier: MIT */
/*
 * Runs the built xenstored for integration tests: one daemon per harness,
 * in its own temporary directory (DIR/run is the run directory, DIR/store
 * the LMDB store, DIR/daemon.log its stdout and stderr). Every wait is
 * bounded, the daemon dies with the test process (PR_SET_PDEATHSIG), and
 * xsd_harness_free() kills whatever still runs. Not thread-safe.
 */
#ifndef XSD_DAEMON_HARNESS_H
#define XSD_DAEMON_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

/** One daemon under test. The strings are owned by the harness. */
struct xsd_harness {
	pid_t pid;     /* the running daemon, 0 when none */
	int status;    /* how the last daemon ended: exit code, 128 + signal, -1 unknown */
	char *dir;     /* the test's temporary directory, removed by xsd_harness_free() */
	char *run_dir; /* DIR/run, passed as --run-dir */
	char *sock;    /* DIR/run/socket: what clients connect to (XENSTORED_PATH) */
	char *store;   /* "lmdb:DIR/store", passed as --store */
	char *log;     /* DIR/daemon.log */
};

/** The daemon executable: $XSD_TEST_DAEMON, which meson sets; NULL when unset. */
const char *xsd_harness_exe(void);

/**
 * A harness in a fresh temporary directory whose name contains @p tag; no
 * daemon runs yet. @return NULL on failure. Free with xsd_harness_free().
 */
struct xsd_harness *xsd_harness_new(const char *tag);

/**
 * Start `xenstored -N --run-dir DIR/run --store lmdb:DIR/store` followed by
 * the NULL-terminated @p extra arguments (NULL for none), then wait up to
 * 20 s until DIR/run/socket accepts a connection.
 * @return 0; -1 when the daemon exited first (h->status says how) or did not
 * get ready in time (it is then killed).
 */
int xsd_harness_start(struct xsd_harness *h, const char *const *extra);

/**
 * Run the daemon with exactly the NULL-terminated @p args (nothing added)
 * and wait up to @p timeout_ms for it to exit; for start-up failures and the
 * detaching parent. @return its exit code, 128 + signal, or -1 on timeout
 * (it is then killed).
 */
int xsd_harness_run(struct xsd_harness *h, const char *const *args, int timeout_ms);

/**
 * Stop the running daemon with SIGTERM and reap it within 10 s (SIGKILL
 * after that). @return its exit code, 128 + signal, or -1 when none ran or
 * it had to be killed.
 */
int xsd_harness_stop(struct xsd_harness *h);

/** SIGKILL the running daemon, if any, and reap it. */
void xsd_harness_kill(struct xsd_harness *h);

/** Copy the daemon's log (h->log) to stderr: why it failed. */
void xsd_harness_dump_log(const struct xsd_harness *h);

/** Kill the daemon if it runs, remove the directory, free @p h. NULL-safe. */
void xsd_harness_free(struct xsd_harness *h);

/** Whether the unix socket @p path accepts a connection within @p timeout_ms. */
bool xsd_harness_wait_socket(const char *path, int timeout_ms);

/**
 * Run the shell command @p fmt (printf-style) with XENSTORED_PATH set to
 * @p sock (NULL: h->sock), killed after 20 s. stdout goes to *out when
 * @p out is not NULL (malloc'd, NUL-terminated; the caller frees it),
 * stderr to the test's stderr. @return the exit code, or -1 (failed to
 * run, killed, timed out).
 */
int xsd_harness_sh(struct xsd_harness *h, const char *sock, char **out, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
