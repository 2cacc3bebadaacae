/* SPDX-License-Identifier: MIT */
/*
 * The daemon end to end: Debian's xenstore-utils against the real xenstored
 * on a unix socket (expected outputs are what Xen's C xenstored gives),
 * raw protocol clients for what the tools never send, and the process
 * itself: restart on the same store, a second daemon refused, SIGTERM,
 * detaching, bad options. Each test has its own directory and daemon.
 */
#include "vst.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon_harness.h"
#include "xsd/wire.h"

#define WAIT_MS 10000

struct fixture {
	struct xsd_harness *h;
	pid_t detached; /* a daemon that detached from the harness, to kill */
};

static bool have_tools;

static int group_setup(void **state)
{
	have_tools = system("command -v xenstore-write xenstore-read xenstore-ls xenstore-list "
			    "xenstore-exists xenstore-rm xenstore-chmod xenstore-watch "
			    ">/dev/null 2>&1") == 0;
	/* A daemon that detaches is re-parented to us, so we can reap it. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->h = xsd_harness_new("xsd-daemon");
	assert_non_null(f->h);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = 0;

	/* A daemon still running must exit cleanly (sanitizers report at exit). */
	if (f->h->pid > 0 && (rc = xsd_harness_stop(f->h)) != 0) {
		fprintf(stderr, "xenstored exited with %d on SIGTERM\n", rc);
		xsd_harness_dump_log(f->h);
		rc = -1;
	}
	if (f->detached > 0) {
		kill(f->detached, SIGKILL);
		waitpid(f->detached, NULL, 0);
	}
	xsd_harness_free(f->h);
	free(f);
	return rc;
}

static void need_daemon(void)
{
	if (!xsd_harness_exe()) {
		print_message("XSD_TEST_DAEMON is not set: skipped\n");
		skip();
	}
}

static void need_tools(void)
{
	need_daemon();
	if (!have_tools) {
		print_message("xenstore-utils are not installed: skipped\n");
		skip();
	}
}

static void start(struct fixture *f, const char *const *extra)
{
	assert_int_equal(xsd_harness_start(f->h, extra), 0);
}

/* Run a command against the daemon; its exit code. */
#define XS(f, ...) xsd_harness_sh((f)->h, NULL, NULL, __VA_ARGS__)

/* Run a command that must succeed and compare its stdout with @want. */
static void xs_expect(struct fixture *f, const char *want, const char *cmd)
{
	char *out = NULL;

	assert_int_equal(xsd_harness_sh(f->h, NULL, &out, "%s", cmd), 0);
	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static char *path_in(const struct fixture *f, const char *name)
{
	size_t n = strlen(f->h->dir) + strlen(name) + 2;
	char *p = malloc(n);

	assert_non_null(p);
	snprintf(p, n, "%s/%s", f->h->dir, name);
	return p;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf = calloc(1, 65536);

	assert_non_null(buf);
	if (fp) {
		size_t n = fread(buf, 1, 65535, fp);
		buf[n] = '\0';
		fclose(fp);
	}
	return buf;
}

/* Raw protocol clients. */

static int raw_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void raw_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

static void raw_send(int fd, uint32_t type, uint32_t req_id, const void *body, size_t len)
{
	struct xsd_msg_hdr h = {.type = type, .req_id = req_id, .len = (uint32_t)len};

	raw_write_all(fd, &h, sizeof(h));
	if (len)
		raw_write_all(fd, body, len);
}

/* Read exactly @len bytes within @ms: 0, or -1 on EOF, error or timeout. */
static int raw_read_all(int fd, void *buf, size_t len, int ms)
{
	char *p = buf;

	while (len > 0) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, ms) <= 0)
			return -1;
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One message (body NUL-terminated) within @ms: 0, or -1 (EOF, timeout). */
static int raw_recv_ms(int fd, struct xsd_msg_hdr *h, char *body, size_t cap, int ms)
{
	if (raw_read_all(fd, h, sizeof(*h), ms) < 0)
		return -1;
	assert_true(h->len < cap);
	if (raw_read_all(fd, body, h->len, WAIT_MS) < 0)
		return -1;
	body[h->len] = '\0';
	return 0;
}

/* One message (body NUL-terminated) within WAIT_MS: 0, or -1 (EOF, timeout). */
static int raw_recv(int fd, struct xsd_msg_hdr *h, char *body, size_t cap)
{
	if (raw_read_all(fd, h, sizeof(*h), WAIT_MS) < 0)
		return -1;
	assert_true(h->len < cap);
	if (raw_read_all(fd, body, h->len, WAIT_MS) < 0)
		return -1;
	body[h->len] = '\0';
	return 0;
}

/* A request of NUL-separated strings; asserts an answer of the same type. */
static void raw_request_ok(int fd, uint32_t type, const char *body, size_t len)
{
	struct xsd_msg_hdr h;
	char reply[XSD_PAYLOAD_MAX + 1];

	raw_send(fd, type, 77, body, len);
	assert_int_equal(raw_recv(fd, &h, reply, sizeof(reply)), 0);
	if (h.type == XSD_ERROR)
		fail_msg("request type %u failed: %s", type, reply);
	assert_int_equal(h.type, type);
	assert_int_equal(h.req_id, 77);
}

/* Debian's tools against the daemon. */

static void test_written_value_reads_back(void **state)
{
	struct fixture *f = *state;

	need_tools();
	start(f, NULL);
	assert_int_equal(XS(f, "xenstore-write /test/a hello"), 0);
	xs_expect(f, "hello\n", "xenstore-read /test/a");
	/* Several pairs go in one transaction; values are unescaped. */
	assert_int_equal(XS(f, "xenstore-write /test/b 'one two' /test/c 'x\\ty'"), 0);
	xs_expect(f, "one two\nx\\ty\n", "xenstore-read /test/b /test/c");
	xs_expect(f, "/test/b: one two\n", "xenstore-read -p /test/b");
}

static void test_reading_a_missing_node_fails(void **state)
{
	struct fixture *f = *state;

	need_tools();
	start(f, NULL);
	assert_int_equal(XS(f, "xenstore-read /no/such/node 2>/dev/null"), 1);
	assert_int_equal(XS(f, "xenstore-list /no/such/node 2>/dev/null"), 1);
}

static void test_fresh_store_holds_the_initial_tree(void **state)
{
	struct fixture *f = *state;

	need_tools();
	start(f, NULL);
	xs_expect(f, "tool = \"\"\n xenstored = \"\"\n", "xenstore-ls /");
}

static void test_ls_shows_the_tree_in_creation_order(void **state)
{
	struct fixture *f = *state;

	need_tools();
	start(f, NULL);
	assert_int_equal(XS(f, "xenstore-write /t/b 2 && xenstore-write /t/a 1 && "
			       "xenstore-write /t/b/c 3"),
			 0);
	xs_expect(f, "b = \"2\"\n c = \"3\"\na = \"1\"\n", "xenstore-ls /t");
	xs_expect(f, "/t/b = \"2\"\n/t/b/c = \"3\"\n/t/a = \"1\"\n", "xenstore-ls -f /t");
}

static void test_list_and_exists_see_children(void **state)
{
	struct fixture *f = *state;

	need_tools();
	start(f, NULL);
	assert_int_equal(XS(f, "xenstore-write /t/z 1 /t/y 2 /t/y/x 3"), 0);
	xs_expect(f, "z\ny\n", "xenstore-list /t");
	xs_expect(f, "/t/z\n/t/y\n", "xenstore-list -p /t");
	assert_int_equal(XS(f, "xenstore-exists /t/y/x"), 0);
	assert_int_equal(XS(f, "xenstore-exists /t/w"), 1);
}

static void test_rm_removes_the_subtree(void **state)
{
	struct fixture *f = *state;

	need_tools();
	start(f, NULL);
	assert_int_equal(XS(f, "xenstore-write /t/a 1 /t/b/c 2 /t/b/d 3"), 0);
	assert_int_equal(XS(f, "xenstore-rm /t/b"), 0);
	assert_int_equal(XS(f, "xenstore-exists /t/b"), 1);
	assert_int_equal(XS(f, "xenstore-exists /t/b/c"), 1);
	xs_expect(f, "a\n", "xenstore-list /t");
	/* Removing what is absent succeeds under an existing parent only. */
	assert_int_equal(XS(f, "xenstore-rm /t/b"), 0);
	assert_int_equal(XS(f, "xenstore-rm /t/b/c 2>/dev/null"), 1);
	/* -t also removes the parents left empty. */
	assert_int_equal(XS(f, "xenstore-write /u/v/w 1 && xenstore-rm -t /u/v/w"), 0);
	assert_int_equal(XS(f, "xenstore-exists /u"), 1);
}

static void test_chmod_sets_the_permissions(void **state)
{
	struct fixture *f = *state;

	need_tools();
	start(f, NULL);
	/* The owner must be a known domain (C xenstored: ENOENT), the others not. */
	assert_int_equal(XS(f, "xenstore-write /t/a 1 && xenstore-chmod /t/a n0 r5"), 0);
	/* `a = "1"`, dots up to column 60, then the permissions, owner first. */
	xs_expect(f, "a = \"1\"  . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0,r5)\n",
		  "xenstore-ls -p /t");
	assert_int_equal(XS(f, "xenstore-write /t/d/e 1 && xenstore-chmod -r /t/d b0 r7"), 0);
	xs_expect(f, "e = \"1\"  . . . . . . . . . . . . . . . . . . . . . . . . . .  (b0,r7)\n",
		  "xenstore-ls -p /t/d");
}

static void test_watch_reports_the_change(void **state)
{
	struct fixture *f = *state;
	char *outf;

	need_tools();
	start(f, NULL);
	outf = path_in(f, "watch.out");
	assert_int_equal(XS(f, "xenstore-write /w ''"), 0);
	/* The first event is the one every WATCH fires at once. */
	assert_int_equal(XS(f, "timeout 20 xenstore-watch -n 2 /w >'%s' 2>&1 &", outf), 0);
	char *got = NULL;
	for (int i = 0; i < 100; i++) {
		assert_int_equal(XS(f, "xenstore-write /w/x %d", i), 0);
		free(got);
		got = slurp(outf);
		if (strchr(got, '\n') && strchr(strchr(got, '\n') + 1, '\n'))
			break;
		usleep(100 * 1000);
	}
	assert_string_equal(got, "/w\n/w/x\n");
	free(got);
	free(outf);
}

/* The process: store, run directory, signals, options. */

static void test_restart_on_the_same_store_keeps_the_tree(void **state)
{
	struct fixture *f = *state;

	need_tools();
	start(f, NULL);
	assert_int_equal(XS(f, "xenstore-write /keep/a 1 /keep/b 2 && xenstore-rm /keep/b"), 0);
	assert_int_equal(xsd_harness_stop(f->h), 0);
	start(f, NULL);
	xs_expect(f, "a = \"1\"\n", "xenstore-ls /keep");
}

static void test_acknowledged_write_survives_kill_9(void **state)
{
	struct fixture *f = *state;

	need_tools();
	start(f, NULL);
	assert_int_equal(XS(f, "xenstore-write /durable yes"), 0);
	xsd_harness_kill(f->h); /* at once: long before the 1 s sync */
	/* The dead daemon's socket file stays behind: a stale one is replaced. */
	assert_true(exists(f->h->sock));
	start(f, NULL);
	xs_expect(f, "yes\n", "xenstore-read /durable");
}

static void test_acknowledged_write_survives_kill_9_with_sync_always(void **state)
{
	struct fixture *f = *state;
	const char *extra[] = {"--sync", "always", NULL};

	need_tools();
	start(f, extra);
	assert_int_equal(XS(f, "xenstore-write /durable yes"), 0);
	xsd_harness_kill(f->h);
	start(f, extra);
	xs_expect(f, "yes\n", "xenstore-read /durable");
}

static void test_xen_compatible_options_are_accepted(void **state)
{
	struct fixture *f = *state;
	const char *extra[] = {"-E",	    "100",
			       "-S",	    "2048",
			       "-W",	    "10",
			       "-t",	    "5",
			       "-A",	    "5",
			       "-M",	    "512",
			       "-Q",	    "transaction-nodes=100",
			       "-q",	    "memory=1000000",
			       "-w",	    "watch-event=5",
			       "-K",	    "-p",
			       "0",	    "-m",
			       "0",	    "-V",
			       "--sync",    "default",
			       "--domains", "socket",
			       NULL};

	need_tools();
	start(f, extra);
	assert_int_equal(XS(f, "xenstore-write /opts ok"), 0);
	xs_expect(f, "ok\n", "xenstore-read /opts");
}

static void test_second_daemon_on_the_same_run_dir_is_refused(void **state)
{
	struct fixture *f = *state;

	need_tools();
	start(f, NULL);
	const char *args[] = {"-N", "--run-dir", f->h->run_dir, "--store", f->h->store, NULL};
	int rc = xsd_harness_run(f->h, args, WAIT_MS);
	assert_true(rc > 0);
	char *log = slurp(f->h->log);
	assert_non_null(strstr(log, "another xenstored"));
	free(log);
	/* The first one still serves. */
	assert_int_equal(XS(f, "xenstore-write /still here"), 0);
	xs_expect(f, "here\n", "xenstore-read /still");
}

static void test_sigterm_exits_zero_and_removes_socket_and_pid_file(void **state)
{
	struct fixture *f = *state;

	need_daemon();
	char *pidf = path_in(f, "xenstored.pid");
	const char *extra[] = {"-F", pidf, NULL};
	start(f, extra);
	/* Written right after the socket starts listening. */
	char *pid = NULL;
	for (int i = 0; i < WAIT_MS / 10; i++) {
		free(pid);
		pid = slurp(pidf);
		if (*pid)
			break;
		usleep(10 * 1000);
	}
	assert_int_equal(atol(pid), (long)f->h->pid);
	free(pid);
	assert_int_equal(xsd_harness_stop(f->h), 0);
	assert_false(exists(f->h->sock));
	assert_false(exists(pidf));
	free(pidf);
}

static void test_detached_daemon_writes_its_pid_once_ready(void **state)
{
	struct fixture *f = *state;
	int st;

	need_daemon();
	char *pidf = path_in(f, "xenstored.pid");
	const char *args[] = {"--run-dir", f->h->run_dir, "--store", f->h->store, "-F", pidf, NULL};
	/* The parent returns only once the socket is ready. */
	assert_int_equal(xsd_harness_run(f->h, args, 20000), 0);
	assert_true(exists(f->h->sock));
	char *pid = slurp(pidf);
	f->detached = (pid_t)atol(pid);
	free(pid);
	assert_true(f->detached > 1);
	assert_true(xsd_harness_wait_socket(f->h->sock, WAIT_MS));
	assert_int_equal(kill(f->detached, SIGTERM), 0);
	pid_t r = 0;
	for (int i = 0; i < WAIT_MS / 10 && (r = waitpid(f->detached, &st, WNOHANG)) == 0; i++)
		usleep(10 * 1000);
	assert_int_equal(r, f->detached);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	f->detached = 0;
	assert_false(exists(f->h->sock));
	assert_false(exists(pidf));
	free(pidf);
}

static void test_bad_options_exit_2_naming_the_problem(void **state)
{
	struct fixture *f = *state;
	static const char *const cases[][4] = {
	    {"--bogus", NULL, NULL, "--bogus"},
	    {"--sync", "sometimes", NULL, "sometimes"},
	    {"--domains", "carrier-pigeon", NULL, "carrier-pigeon"},
	    {"-Q", "no-such-quota=1", NULL, "no-such-quota"},
	    {"-E", "many", NULL, "many"},
	    {"-w", "lunch=5", NULL, "lunch"},
	    {"-N", "stray", NULL, "stray"},
	    {"-F", NULL, NULL, "-F"},
	    {"--keep-last", "0", NULL, "--keep-last"},
	    {"--keep-newer-than", "3fortnights", NULL, "3fortnights"},
	    {"--gc-every", "5", NULL, "keep-last or keep-newer-than"},
	};

	need_daemon();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unlink(f->h->log);
		assert_int_equal(xsd_harness_run(f->h, cases[i], WAIT_MS), 2);
		char *log = slurp(f->h->log);
		if (!strstr(log, cases[i][3]) || !strstr(log, "--help"))
			fail_msg("case %zu: message does not name '%s': %s", i, cases[i][3], log);
		free(log);
	}
	const char *help[] = {"--help", NULL};
	assert_int_equal(xsd_harness_run(f->h, help, WAIT_MS), 0);
}

static void test_unopenable_store_is_refused(void **state)
{
	struct fixture *f = *state;

	need_daemon();
	const char *args[] = {"-N", "--run-dir", f->h->run_dir, "--store", "nosuch:thing", NULL};
	assert_int_equal(xsd_harness_run(f->h, args, WAIT_MS), 1);
	char *log = slurp(f->h->log);
	assert_non_null(strstr(log, "cannot open the store nosuch:thing"));
	free(log);
	assert_false(exists(f->h->sock));
}

static void test_trace_file_logs_requests(void **state)
{
	struct fixture *f = *state;

	need_tools();
	char *trace = path_in(f, "trace");
	const char *extra[] = {"-T", trace, NULL};
	start(f, extra);
	assert_int_equal(XS(f, "xenstore-write /traced 1"), 0);
	assert_int_equal(xsd_harness_stop(f->h), 0);
	char *log = slurp(trace);
	assert_non_null(strstr(log, "WRITE"));
	free(log);
	free(trace);
}

/* Raw clients: what the tools never send. */

static void test_oversized_message_closes_only_that_connection(void **state)
{
	struct fixture *f = *state;
	struct xsd_msg_hdr h = {.type = XSD_WRITE, .req_id = 1, .len = XSD_PAYLOAD_MAX + 1};
	char buf[64];

	need_tools();
	start(f, NULL);
	int fd = raw_connect(f->h->sock);
	raw_write_all(fd, &h, sizeof(h));
	/* The daemon cannot resynchronise the stream: it hangs up. */
	assert_int_equal(raw_read_all(fd, buf, 1, WAIT_MS), -1);
	close(fd);
	assert_int_equal(XS(f, "xenstore-write /after ok"), 0);
	xs_expect(f, "ok\n", "xenstore-read /after");
}

static void test_pipelined_reads_are_answered_in_order(void **state)
{
	struct fixture *f = *state;
	enum { N = 300, VLEN = 3000 };
	char value[VLEN], body[XSD_PAYLOAD_MAX + 1];
	struct xsd_msg_hdr h;

	need_daemon();
	start(f, NULL);
	int fd = raw_connect(f->h->sock);
	memcpy(body, "/big", 5);
	memset(value, 'v', sizeof(value));
	memcpy(body + 5, value, VLEN);
	raw_request_ok(fd, XSD_WRITE, body, 5 + VLEN);
	/*
	 * One write of all the requests, then ~900 KB of replies: far more
	 * than the socket and the daemon's output bound hold, so it stops
	 * taking requests and keeps the rest of the input until we read.
	 * (A client that keeps writing without reading would block, as
	 * with any daemon that bounds its memory.)
	 */
	static unsigned char reqs[N][sizeof(struct xsd_msg_hdr) + 5];
	for (uint32_t i = 0; i < N; i++) {
		struct xsd_msg_hdr rh = {.type = XSD_READ, .req_id = 1000 + i, .len = 5};
		memcpy(reqs[i], &rh, sizeof(rh));
		memcpy(reqs[i] + sizeof(rh), "/big", 5);
	}
	raw_write_all(fd, reqs, sizeof(reqs));
	usleep(300 * 1000);
	for (uint32_t i = 0; i < N; i++) {
		assert_int_equal(raw_recv(fd, &h, body, sizeof(body)), 0);
		assert_int_equal(h.type, XSD_READ);
		assert_int_equal(h.req_id, 1000 + i);
		assert_int_equal(h.len, VLEN);
		assert_memory_equal(body, value, VLEN);
	}
	close(fd);
}

static void test_domain_socket_acts_as_the_domain(void **state)
{
	struct fixture *f = *state;
	struct xsd_msg_hdr h;
	char reply[XSD_PAYLOAD_MAX + 1];

	need_tools();
	const char *extra[] = {"--domains", "socket", NULL};
	start(f, extra);
	char *dsock = path_in(f, "run/domain/5");
	int fd = raw_connect(f->h->sock);
	raw_request_ok(fd, XSD_INTRODUCE,
		       "5\0"
		       "0\0"
		       "1",
		       6);
	assert_true(xsd_harness_wait_socket(dsock, WAIT_MS));
	assert_int_equal(XS(f, "xenstore-write /local/domain/5/data '' && "
			       "xenstore-chmod /local/domain/5/data n5"),
			 0);
	/* Relative paths are below the domain's home. */
	assert_int_equal(xsd_harness_sh(f->h, dsock, NULL, "xenstore-write data/x hi"), 0);
	xs_expect(f, "hi\n", "xenstore-read /local/domain/5/data/x");
	/* Unprivileged: the root-owned initial tree is closed to it. */
	assert_int_equal(
	    xsd_harness_sh(f->h, dsock, NULL, "xenstore-read /tool/xenstored 2>/dev/null"), 1);
	assert_int_equal(xsd_harness_sh(f->h, dsock, NULL, "xenstore-write /tool/x 1 2>/dev/null"),
			 1);
	/* RELEASE closes the domain's connections and removes its socket. */
	int dfd = raw_connect(dsock);
	raw_request_ok(fd, XSD_RELEASE, "5", 2);
	assert_int_equal(raw_recv(dfd, &h, reply, sizeof(reply)), -1);
	close(dfd);
	assert_false(exists(dsock));
	close(fd);
	free(dsock);
}

static void test_unread_watch_events_are_dropped_never_replies(void **state)
{
	struct fixture *f = *state;
	enum { N = 1000, TOKEN = 1000 };
	char body[XSD_PAYLOAD_MAX + 1];
	struct xsd_msg_hdr h;

	need_daemon();
	const char *extra[] = {"--domains", "socket", NULL};
	start(f, extra);
	char *dsock = path_in(f, "run/domain/5");
	int fd = raw_connect(f->h->sock);
	raw_request_ok(fd, XSD_INTRODUCE,
		       "5\0"
		       "0\0"
		       "1",
		       6);
	raw_request_ok(fd, XSD_MKDIR, "/local/domain/5/data", 21);
	raw_request_ok(fd, XSD_SET_PERMS, "/local/domain/5/data\0n5", 24);
	assert_true(xsd_harness_wait_socket(dsock, WAIT_MS));
	/* Domain 5 watches with a 1000-byte token, then stops reading. */
	int dfd = raw_connect(dsock);
	memcpy(body, "data", 5);
	memset(body + 5, 't', TOKEN);
	body[5 + TOKEN] = '\0';
	raw_request_ok(dfd, XSD_WATCH, body, 5 + TOKEN + 1);
	/* ~1 MB of events for it; dom0 gets every one of its replies. */
	for (int i = 0; i < N; i++) {
		int n = snprintf(body, sizeof(body), "/local/domain/5/data/x%c%d", 0, i);
		raw_request_ok(fd, XSD_WRITE, body, (size_t)n);
	}
	/* It got what the socket and the daemon's bound held, then the rest was dropped. */
	int events = 0;
	while (raw_recv_ms(dfd, &h, body, sizeof(body), 1000) == 0) {
		assert_int_equal(h.type, XSD_WATCH_EVENT);
		events++;
	}
	assert_true(events > 0);
	assert_true(events < N);
	/* Its connection still works: a request gets its reply. */
	raw_send(dfd, XSD_READ, 9, "data/x", 7);
	assert_int_equal(raw_recv(dfd, &h, body, sizeof(body)), 0);
	assert_int_equal(h.type, XSD_READ);
	assert_int_equal(h.req_id, 9);
	assert_string_equal(body, "999");
	close(dfd);
	close(fd);
	char *log = slurp(f->h->log);
	assert_non_null(strstr(log, "dropping watch events"));
	free(log);
	free(dsock);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_written_value_reads_back),
	    T(test_reading_a_missing_node_fails),
	    T(test_fresh_store_holds_the_initial_tree),
	    T(test_ls_shows_the_tree_in_creation_order),
	    T(test_list_and_exists_see_children),
	    T(test_rm_removes_the_subtree),
	    T(test_chmod_sets_the_permissions),
	    T(test_watch_reports_the_change),
	    T(test_restart_on_the_same_store_keeps_the_tree),
	    T(test_acknowledged_write_survives_kill_9),
	    T(test_acknowledged_write_survives_kill_9_with_sync_always),
	    T(test_xen_compatible_options_are_accepted),
	    T(test_second_daemon_on_the_same_run_dir_is_refused),
	    T(test_sigterm_exits_zero_and_removes_socket_and_pid_file),
	    T(test_detached_daemon_writes_its_pid_once_ready),
	    T(test_bad_options_exit_2_naming_the_problem),
	    T(test_unopenable_store_is_refused),
	    T(test_trace_file_logs_requests),
	    T(test_oversized_message_closes_only_that_connection),
	    T(test_pipelined_reads_are_answered_in_order),
	    T(test_domain_socket_acts_as_the_domain),
	    T(test_unread_watch_events_are_dropped_never_replies),
	};
#undef T
	return cmocka_run_group_tests_name("daemon_basic", tests, group_setup, NULL);
}
