/* SPDX-License-Identifier: MIT */
/*
 * The xenbus transport end to end, without Xen: the real daemon runs with
 * --domains xen under LD_PRELOAD=libxenfake.so (tests/xenfake), a fakeguest
 * process plays domain 5 on its ring, and this test is the toolstack on
 * the dom0 socket (INTRODUCE, watches on @releaseDomain) speaking the wire
 * protocol directly. Paths come from meson: XSD_TEST_DAEMON, XENFAKE_LIB,
 * XENFAKE_GUEST. Every wait is bounded; teardown kills both processes.
 */
#include "vst.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GUEST 5u
#define GUEST_PORT 7u
#define DOM0_PORT 9u
#define WAIT_MS 10000

enum {
	XS_READ = 2,
	XS_WATCH = 4,
	XS_INTRODUCE = 8,
	XS_WRITE = 11,
	XS_MKDIR = 12,
	XS_SET_PERMS = 14,
	XS_WATCH_EVENT = 15,
	XS_ERROR = 16,
	XS_IS_INTRODUCED = 17
};

struct hdr {
	uint32_t type, req_id, tx_id, len;
};

struct proc {
	pid_t pid;
	FILE *in, *out; /* a fakeguest's command pipe and answers */
};

struct fixture {
	char *tmp;
	char xdir[512];
	pid_t daemon;
	int sock;
	uint32_t next_id;
	char events[32][256]; /* dom0's watch events, "path token" */
	size_t nevents;
	struct proc guest;
};

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* ---- the fake guest ---- */

static void guest_spawn(struct proc *p, const char *xdir, unsigned int domid, unsigned int port)
{
	int to[2], from[2];
	char sdom[16], sport[16];

	assert_int_equal(pipe(to), 0);
	assert_int_equal(pipe(from), 0);
	snprintf(sdom, sizeof(sdom), "%u", domid);
	snprintf(sport, sizeof(sport), "%u", port);
	p->pid = fork();
	assert_true(p->pid >= 0);
	if (p->pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[1]);
		close(from[0]);
		execl(getenv("XENFAKE_GUEST"), "fakeguest", xdir, sdom, sport, (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	p->in = fdopen(to[1], "w");
	p->out = fdopen(from[0], "r");
	assert_non_null(p->in);
	assert_non_null(p->out);
}

/* Run one guest command; returns its answer line (static buffer). */
static const char *guest(struct proc *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static const char *guest(struct proc *p, const char *fmt, ...)
{
	static char line[4200];
	va_list ap;

	va_start(ap, fmt);
	vfprintf(p->in, fmt, ap);
	va_end(ap);
	fputc('\n', p->in);
	fflush(p->in);
	struct pollfd pfd = {.fd = fileno(p->out), .events = POLLIN};
	if (poll(&pfd, 1, 3 * WAIT_MS) <= 0 || !fgets(line, sizeof(line), p->out))
		fail_msg("fakeguest did not answer");
	line[strcspn(line, "\n")] = '\0';
	return line;
}

static void proc_stop(struct proc *p)
{
	if (p->in)
		fclose(p->in);
	if (p->out)
		fclose(p->out);
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
	}
	memset(p, 0, sizeof(*p));
}

/* ---- the daemon and its dom0 socket ---- */

static void daemon_start(struct fixture *f, bool no_gnttab, bool dom0_ring)
{
	char sock[600], log[600], dev[600], kva[600], port[600], asan[1024];

	snprintf(sock, sizeof(sock), "%s/socket", f->tmp);
	snprintf(log, sizeof(log), "%s/daemon.log", f->tmp);
	/* The event-channel "device" only has to exist: the fake does the rest. */
	snprintf(dev, sizeof(dev), "%s/evtchn-device", f->xdir);
	assert_int_equal(vst_sh("touch '%s'", dev), 0);
	snprintf(kva, sizeof(kva), "%s/%s", f->xdir, dom0_ring ? "ring-0" : "no-kva");
	snprintf(port, sizeof(port), "%s/%s", f->xdir, dom0_ring ? "port-0" : "no-port");
	/* A preloaded library comes before libasan in a sanitizer build. */
	const char *old = getenv("ASAN_OPTIONS");
	snprintf(asan, sizeof(asan), "%s%sverify_asan_link_order=0", old ? old : "",
		 old && *old ? ":" : "");

	f->daemon = fork();
	assert_true(f->daemon >= 0);
	if (f->daemon == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		setenv("LD_PRELOAD", getenv("XENFAKE_LIB"), 1);
		setenv("XENFAKE_DIR", f->xdir, 1);
		setenv("XSD_XEN_EVTCHN_DEV", dev, 1);
		setenv("XSD_XEN_KVA_DEV", kva, 1);
		setenv("XSD_XEN_PORT_DEV", port, 1);
		setenv("ASAN_OPTIONS", asan, 1);
		if (no_gnttab)
			setenv("XENFAKE_NO_GNTTAB", "1", 1);
		execl(getenv("XSD_TEST_DAEMON"), "xenstored", "-N", "--domains", "xen", "--run-dir",
		      f->tmp, "--store", "mem:", (char *)NULL);
		_exit(127);
	}

	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	assert_true(strlen(sock) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	for (long deadline = now_ms() + WAIT_MS;; usleep(20000)) {
		f->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(f->sock >= 0);
		if (connect(f->sock, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return;
		close(f->sock);
		f->sock = -1;
		if (waitpid(f->daemon, NULL, WNOHANG) == f->daemon) {
			f->daemon = 0;
			vst_sh("cat '%s' >&2", log);
			fail_msg("the daemon exited at startup");
		}
		if (now_ms() > deadline)
			fail_msg("the daemon's socket never appeared");
	}
}

static bool read_full(int fd, void *buf, size_t len, long deadline)
{
	for (size_t off = 0; off < len;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		long left = deadline - now_ms();
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return false;
		ssize_t n = read(fd, (char *)buf + off, len - off);
		if (n <= 0)
			return false;
		off += (size_t)n;
	}
	return true;
}

/* One message from the daemon; false on timeout. @body gets a NUL after it. */
static bool dom0_recv(struct fixture *f, struct hdr *h, char *body, long deadline)
{
	if (!read_full(f->sock, h, sizeof(*h), deadline))
		return false;
	assert_true(h->len <= 4096);
	if (!read_full(f->sock, body, h->len, deadline))
		return false;
	body[h->len] = '\0';
	return true;
}

static void dom0_queue_event(struct fixture *f, const char *body, uint32_t len)
{
	if (f->nevents < 32) {
		const char *token = body + strlen(body) + 1;
		snprintf(f->events[f->nevents++], sizeof(f->events[0]), "%s %.*s", body,
			 (int)(body + len - token), token);
	}
}

/* Send a request; returns the reply type, the reply body in @out (static). */
static uint32_t dom0_req(struct fixture *f, uint32_t type, const void *payload, size_t len,
			 const char **out)
{
	static char body[4097];
	struct hdr h = {.type = type, .req_id = ++f->next_id, .len = (uint32_t)len};

	assert_int_equal(write(f->sock, &h, sizeof(h)), sizeof(h));
	if (len)
		assert_int_equal(write(f->sock, payload, len), (ssize_t)len);
	for (long deadline = now_ms() + WAIT_MS;;) {
		struct hdr r;
		if (!dom0_recv(f, &r, body, deadline))
			fail_msg("no reply to request type %u", type);
		if (r.type == XS_WATCH_EVENT) {
			dom0_queue_event(f, body, r.len);
			continue;
		}
		if (r.req_id != h.req_id)
			continue;
		if (out)
			*out = body;
		return r.type;
	}
}

/* A request whose arguments are NUL-terminated strings; must succeed. */
static const char *dom0_ok(struct fixture *f, uint32_t type, size_t n, const char *args[])
{
	char buf[4096];
	size_t len = 0;
	const char *out;

	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(args[i]) + (i + 1 < n || type != XS_WRITE);
		memcpy(buf + len, args[i], l);
		len += l;
	}
	uint32_t rt = dom0_req(f, type, buf, len, &out);
	if (rt == XS_ERROR)
		fail_msg("request type %u failed: %s", type, out);
	assert_int_equal(rt, type);
	return out;
}

#define DOM0(f, type, ...)                                                                         \
	dom0_ok((f), (type), sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *),         \
		(const char *[]){__VA_ARGS__})

/* Wait until dom0 has an event "@path @token"; false on timeout. */
static bool dom0_wait_event(struct fixture *f, const char *want, long ms)
{
	static char body[4097];
	long deadline = now_ms() + ms;

	for (;;) {
		for (size_t i = 0; i < f->nevents; i++) {
			if (strcmp(f->events[i], want) == 0) {
				memmove(&f->events[i], &f->events[i + 1],
					(--f->nevents - i) * sizeof(f->events[0]));
				return true;
			}
		}
		struct hdr r;
		if (!dom0_recv(f, &r, body, deadline))
			return false;
		if (r.type == XS_WATCH_EVENT)
			dom0_queue_event(f, body, r.len);
	}
}

static bool log_has(struct fixture *f, const char *line, long ms)
{
	for (long deadline = now_ms() + ms;; usleep(20000)) {
		if (vst_sh("grep -qx '%s' '%s/log'", line, f->xdir) == 0)
			return true;
		if (now_ms() > deadline)
			return false;
	}
}

static void introduce_guest(struct fixture *f, const char *gfn)
{
	char domid[16], port[16];

	snprintf(domid, sizeof(domid), "%u", GUEST);
	snprintf(port, sizeof(port), "%u", GUEST_PORT);
	DOM0(f, XS_MKDIR, "/local/domain/5");
	DOM0(f, XS_SET_PERMS, "/local/domain/5", "n5");
	DOM0(f, XS_INTRODUCE, domid, gfn, port);
}

static int fixture_up(void **state, bool no_gnttab)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	*state = f;
	if (!getenv("XSD_TEST_DAEMON") || !getenv("XENFAKE_LIB") || !getenv("XENFAKE_GUEST"))
		skip();
	f->sock = -1;
	f->tmp = vst_tmpdir("ringfake");
	snprintf(f->xdir, sizeof(f->xdir), "%s/xen", f->tmp);
	assert_int_equal(mkdir(f->xdir, 0700), 0);
	guest_spawn(&f->guest, f->xdir, GUEST, GUEST_PORT);
	assert_string_equal(guest(&f->guest, "init"), "OK");
	daemon_start(f, no_gnttab, false);
	return 0;
}

static int setup(void **state)
{
	return fixture_up(state, false);
}

static int setup_no_gnttab(void **state)
{
	return fixture_up(state, true);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	proc_stop(&f->guest);
	if (f->sock >= 0)
		close(f->sock);
	if (f->daemon > 0) {
		kill(f->daemon, SIGTERM);
		for (int i = 0; i < 100 && waitpid(f->daemon, NULL, WNOHANG) == 0; i++)
			usleep(20000);
		kill(f->daemon, SIGKILL);
		waitpid(f->daemon, NULL, 0);
	}
	vst_rmrf(f->tmp);
	free(f->tmp);
	free(f);
	return 0;
}

static void test_guest_writes_and_reads_through_its_ring(void **state)
{
	struct fixture *f = *state;
	const char *out;

	introduce_guest(f, "4660");
	assert_true(log_has(f, "map gnttab 5", 0));
	assert_string_equal(guest(&f->guest, "features"), "FEATURES 3");
	assert_string_equal(guest(&f->guest, "domain-path"), "VALUE /local/domain/5");
	assert_string_equal(guest(&f->guest, "write data/x hello ring"), "OK");
	assert_string_equal(guest(&f->guest, "read /local/domain/5/data/x"), "VALUE hello ring");
	assert_string_equal(guest(&f->guest, "read /tool/xenstored"), "ERR EACCES");
	assert_int_equal(dom0_req(f, XS_READ, "/local/domain/5/data/x", 23, &out), XS_READ);
	assert_string_equal(out, "hello ring");
	/* A reply larger than the ring arrives in pieces. */
	char big[2001];
	memset(big, 'v', 2000);
	big[2000] = '\0';
	assert_string_equal(guest(&f->guest, "write data/big %s", big), "OK");
	const char *r = guest(&f->guest, "read data/big");
	assert_int_equal(strlen(r), 6 + 2000);
	assert_string_equal(r + 6, big);
}

static void test_guest_gets_watch_events_for_dom0_writes(void **state)
{
	struct fixture *f = *state;

	introduce_guest(f, "4660");
	assert_string_equal(guest(&f->guest, "watch /local/domain/5/data w1"), "OK");
	assert_string_equal(guest(&f->guest, "event"), "EVENT /local/domain/5/data w1");
	DOM0(f, XS_WRITE, "/local/domain/5/data/y", "from dom0");
	/* Events for the implicitly created parent may come first. */
	const char *ev = guest(&f->guest, "event");
	for (int i = 0; i < 3 && strcmp(ev, "EVENT /local/domain/5/data w1") == 0; i++)
		ev = guest(&f->guest, "event");
	assert_string_equal(ev, "EVENT /local/domain/5/data/y w1");
	assert_string_equal(guest(&f->guest, "read data/y"), "VALUE from dom0");
}

static void test_reconnect_drops_watches_and_ring_keeps_working(void **state)
{
	struct fixture *f = *state;

	introduce_guest(f, "4660");
	assert_string_equal(guest(&f->guest, "watch /local/domain/5/data w1"), "OK");
	assert_string_equal(guest(&f->guest, "event"), "EVENT /local/domain/5/data w1");
	assert_string_equal(guest(&f->guest, "reconnect"), "OK");
	DOM0(f, XS_WRITE, "/local/domain/5/data/z", "after");
	assert_string_equal(guest(&f->guest, "event 300"), "NONE");
	assert_string_equal(guest(&f->guest, "read data/z"), "VALUE after");
}

static void test_corrupt_index_sets_error_until_reconnect(void **state)
{
	struct fixture *f = *state;

	introduce_guest(f, "4660");
	assert_string_equal(guest(&f->guest, "write data/a 1"), "OK");
	assert_string_equal(guest(&f->guest, "corrupt"), "OK");
	assert_string_equal(guest(&f->guest, "wait-error"), "ERROR 2");
	assert_string_equal(guest(&f->guest, "reconnect"), "OK");
	assert_string_equal(guest(&f->guest, "wait-error 200"), "NONE");
	assert_string_equal(guest(&f->guest, "read data/a"), "VALUE 1");
}

static void test_oversized_packet_sets_protocol_error(void **state)
{
	struct fixture *f = *state;

	introduce_guest(f, "4660");
	assert_string_equal(guest(&f->guest, "oversize"), "OK");
	assert_string_equal(guest(&f->guest, "wait-error"), "ERROR 3");
	assert_string_equal(guest(&f->guest, "reconnect"), "OK");
	assert_string_equal(guest(&f->guest, "write data/b 2"), "OK");
}

static void test_dying_domain_fires_release_domain_and_is_unmapped(void **state)
{
	struct fixture *f = *state;
	const char *out;

	introduce_guest(f, "4660");
	assert_string_equal(guest(&f->guest, "write data/c 3"), "OK");
	DOM0(f, XS_WATCH, "@releaseDomain", "rel");
	dom0_wait_event(f, "@releaseDomain rel", 500); /* the initial event, if any */
	assert_int_equal(dom0_req(f, XS_IS_INTRODUCED, "5", 2, &out), XS_IS_INTRODUCED);
	assert_string_equal(out, "T");

	/* A VIRQ while the domain lives changes nothing. */
	assert_string_equal(guest(&f->guest, "virq"), "OK");
	assert_false(dom0_wait_event(f, "@releaseDomain rel", 300));
	assert_string_equal(guest(&f->guest, "read data/c"), "VALUE 3");

	assert_string_equal(guest(&f->guest, "state dying"), "OK");
	assert_string_equal(guest(&f->guest, "virq"), "OK");
	assert_true(dom0_wait_event(f, "@releaseDomain rel", WAIT_MS));
	assert_true(log_has(f, "unmap 5", WAIT_MS));
	assert_true(log_has(f, "unbind [0-9]*", 0));
	assert_int_equal(dom0_req(f, XS_IS_INTRODUCED, "5", 2, &out), XS_IS_INTRODUCED);
	assert_string_equal(out, "F");
	/* The dead guest's requests go nowhere. */
	assert_string_equal(guest(&f->guest, "timeout 500"), "OK");
	assert_string_equal(guest(&f->guest, "read data/c"), "TIMEOUT");
}

static void test_foreign_memory_maps_the_gfn_when_grants_fail(void **state)
{
	struct fixture *f = *state;

	introduce_guest(f, "4660");
	assert_true(log_has(f, "map foreign gfn=4660 5", 0));
	assert_string_equal(guest(&f->guest, "write data/d 4"), "OK");
	assert_string_equal(guest(&f->guest, "read data/d"), "VALUE 4");
}

static void test_dom0_kernel_ring_is_served_as_privileged_domain_0(void **state)
{
	struct fixture *f = *state;
	struct proc dom0 = {0};
	const char *out;

	/* Restart the daemon with a dom0 ring set up before it starts. */
	close(f->sock);
	kill(f->daemon, SIGKILL);
	waitpid(f->daemon, NULL, 0);
	guest_spawn(&dom0, f->xdir, 0, DOM0_PORT);
	assert_string_equal(guest(&dom0, "init"), "OK");
	daemon_start(f, false, true);
	/* dom0's page is mmapped from the "kva device" directly; its port is bound. */
	assert_true(log_has(f, "bind 0 9 [0-9]*", WAIT_MS));
	assert_string_equal(guest(&dom0, "write /tool/from-kernel yes"), "OK");
	assert_int_equal(dom0_req(f, XS_READ, "/tool/from-kernel", 18, &out), XS_READ);
	assert_string_equal(out, "yes");
	proc_stop(&dom0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_guest_writes_and_reads_through_its_ring, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_guest_gets_watch_events_for_dom0_writes, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_reconnect_drops_watches_and_ring_keeps_working,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_index_sets_error_until_reconnect, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_oversized_packet_sets_protocol_error, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_dying_domain_fires_release_domain_and_is_unmapped,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_memory_maps_the_gfn_when_grants_fail,
					    setup_no_gnttab, teardown),
	    cmocka_unit_test_setup_teardown(test_dom0_kernel_ring_is_served_as_privileged_domain_0,
					    setup, teardown),
	};
	return cmocka_run_group_tests_name("ring_fake", tests, NULL, NULL);
}
