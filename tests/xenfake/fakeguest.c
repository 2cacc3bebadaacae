/* SPDX-License-Identifier: MIT */
/*
 * fakeguest: the guest side of a xenbus ring under the fake Xen (xenfake.h),
 * written from Xen's own xs_wire.h rather than the daemon's ring.c so the
 * two sides are independent. Usage:
 *   fakeguest DIR DOMID PORT [COMMAND-LINE...]
 * runs each argument as one command line, or reads command lines from stdin
 * when there are none, printing one result line per command (flushed), so a
 * test can drive it through pipes. Commands and their answers:
 *   init                      create ring-N, dom-N ("running"), our FIFO (and
 *                             port-0 for domain 0)                 -> OK
 *   write PATH VALUE...       -> OK | ERR <name>     (VALUE: rest of line)
 *   read PATH                 -> VALUE <value> | ERR <name>
 *   mkdir|rm PATH             -> OK | ERR <name>
 *   dir PATH                  -> DIR <child> ... | ERR <name>
 *   watch|unwatch PATH TOKEN  -> OK | ERR <name>
 *   domain-path               -> VALUE <path> | ERR <name>
 *   event [MS]                -> EVENT <path> <token> | NONE  (wait MS, 5000)
 *   reconnect                 -> OK | TIMEOUT  (ring reconnection protocol)
 *   corrupt                   make req_prod inconsistent, notify  -> OK
 *   oversize                  send a header announcing too long a payload -> OK
 *   wait-error [MS]           -> ERROR <n> | NONE  (the page's error field)
 *   features                  -> FEATURES <server_features>
 *   timeout MS                how long requests wait for replies (5000) -> OK
 *   state running|shutdown|dying|gone  set dom-N (gone: remove)  -> OK
 *   virq                      raise VIRQ_DOM_EXC at the daemon    -> OK
 * A request that gets no answer prints TIMEOUT; a broken ring RING <error>.
 */
#include "xenfake.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

#define TIMEOUT_MS 5000
#define MAX_EVENTS 64
#define VIRQ_DOM_EXC 3

struct event {
	char *path, *token;
};

struct guest {
	const char *dir;
	unsigned int domid, port;
	struct xenstore_domain_interface *page;
	int evfd; /* our FIFO: one byte per notification from the daemon */
	uint32_t next_id;
	long timeout_ms; /* how long a request waits for its reply */
	unsigned char in[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	size_t in_len; /* received bytes not yet returned as a message */
	struct event events[MAX_EVENTS];
	size_t nevents;
};

static void path_of(const struct guest *g, char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void path_of(const struct guest *g, char *buf, size_t size, const char *fmt, ...)
{
	int n = snprintf(buf, size, "%s/", g->dir);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + n, size - (size_t)n, fmt, ap);
	va_end(ap);
}

static uint32_t load(volatile uint32_t *p)
{
	uint32_t v = *p;
	atomic_thread_fence(memory_order_seq_cst);
	return v;
}

static void store(volatile uint32_t *p, uint32_t v)
{
	atomic_thread_fence(memory_order_seq_cst);
	*p = v;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void send_record(const struct guest *g, uint32_t domid, uint32_t port)
{
	char path[4096];
	struct xenfake_event ev = {.domid = domid, .port = port};

	path_of(g, path, sizeof(path), "evtchn");
	/* No daemon listening: the event is lost, as with an unbound channel. */
	int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, &ev, sizeof(ev)) < 0)
		(void)0;
	close(fd);
}

static void notify(const struct guest *g)
{
	send_record(g, g->domid, g->port);
}

/* Wait for a notification until @deadline; false on timeout. */
static bool wait_event(struct guest *g, long deadline)
{
	char buf[256];
	long left = deadline - now_ms();

	if (left <= 0)
		return false;
	struct pollfd pfd = {.fd = g->evfd, .events = POLLIN};
	/* Short slices: the page may change without a notification. */
	int rc = poll(&pfd, 1, left < 20 ? (int)left : 20);
	if (rc > 0)
		while (read(g->evfd, buf, sizeof(buf)) > 0)
			;
	return true;
}

static int guest_open(struct guest *g, bool create)
{
	char path[4096];

	path_of(g, path, sizeof(path), "ring-%u", g->domid);
	int fd = open(path, O_RDWR | (create ? O_CREAT : 0) | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, XENFAKE_PAGE_SIZE) < 0) {
		perror(path);
		return -1;
	}
	g->page = mmap(NULL, XENFAKE_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (g->page == MAP_FAILED) {
		g->page = NULL;
		return -1;
	}
	path_of(g, path, sizeof(path), "guest-%u-%u", g->domid, g->port);
	if (create && mkfifo(path, 0600) < 0 && errno != EEXIST)
		return -1;
	g->evfd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	return g->evfd < 0 ? -1 : 0;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static bool cmd_init(struct guest *g)
{
	char path[4096], num[32];

	if (!g->page && guest_open(g, true) < 0)
		return false;
	path_of(g, path, sizeof(path), "dom-%u", g->domid);
	if (write_file(path, "running\n") < 0)
		return false;
	if (g->domid == 0) {
		snprintf(num, sizeof(num), "%u\n", g->port);
		path_of(g, path, sizeof(path), "port-0");
		if (write_file(path, num) < 0)
			return false;
	}
	return true;
}

/* Put @len bytes on the request ring, waiting for space. */
static bool ring_put(struct guest *g, const void *data, size_t len, long deadline)
{
	const char *p = data;
	while (len > 0) {
		uint32_t cons = load(&g->page->req_cons), prod = load(&g->page->req_prod);
		size_t space = XENSTORE_RING_SIZE - (prod - cons);
		if (space == 0) {
			if (g->page->error || !wait_event(g, deadline))
				return false;
			continue;
		}
		if (space > len)
			space = len;
		for (size_t i = 0; i < space; i++)
			g->page->req[MASK_XENSTORE_IDX(prod + (uint32_t)i)] = p[i];
		store(&g->page->req_prod, prod + (uint32_t)space);
		notify(g);
		p += space;
		len -= space;
	}
	return true;
}

/* Take reply bytes into g->in; true when any arrived. */
static bool ring_take(struct guest *g)
{
	uint32_t cons = load(&g->page->rsp_cons), prod = load(&g->page->rsp_prod);
	size_t avail = prod - cons, room = sizeof(g->in) - g->in_len;
	if (avail > room)
		avail = room;
	if (avail == 0)
		return false;
	for (size_t i = 0; i < avail; i++)
		g->in[g->in_len + i] =
		    (unsigned char)g->page->rsp[MASK_XENSTORE_IDX(cons + (uint32_t)i)];
	g->in_len += avail;
	store(&g->page->rsp_cons, cons + (uint32_t)avail);
	notify(g);
	return true;
}

/* The next whole message: header into @hdr, payload NUL-terminated into @body. */
static bool recv_msg(struct guest *g, struct xsd_sockmsg *hdr, char *body, long deadline)
{
	for (;;) {
		if (g->in_len >= sizeof(*hdr)) {
			memcpy(hdr, g->in, sizeof(*hdr));
			size_t total = sizeof(*hdr) + hdr->len;
			if (hdr->len <= XENSTORE_PAYLOAD_MAX && g->in_len >= total) {
				memcpy(body, g->in + sizeof(*hdr), hdr->len);
				body[hdr->len] = '\0';
				memmove(g->in, g->in + total, g->in_len - total);
				g->in_len -= total;
				return true;
			}
		}
		if (ring_take(g))
			continue;
		if (g->page->error || !wait_event(g, deadline))
			return false;
	}
}

static void queue_event(struct guest *g, const char *body, size_t len)
{
	if (g->nevents == MAX_EVENTS)
		return;
	const char *token = memchr(body, '\0', len) ? body + strlen(body) + 1 : body + len;
	struct event *e = &g->events[g->nevents++];
	e->path = strdup(body);
	e->token = strndup(token, (size_t)(body + len - token));
}

static void drop_events(struct guest *g)
{
	for (size_t i = 0; i < g->nevents; i++) {
		free(g->events[i].path);
		free(g->events[i].token);
	}
	g->nevents = 0;
}

/* Why a request got no answer: a broken ring, or silence. */
static void print_no_answer(const struct guest *g)
{
	if (g->page->error)
		printf("RING %u\n", (unsigned int)g->page->error);
	else
		printf("TIMEOUT\n");
}

/*
 * Send one request and wait for its reply, queueing watch events that come
 * first. Prints the answer as the command's result line.
 */
static void request(struct guest *g, uint32_t type, const char *payload, size_t len,
		    const char *ok_prefix)
{
	static char body[XENSTORE_PAYLOAD_MAX + 1];
	struct xsd_sockmsg hdr = {
	    .type = type, .req_id = ++g->next_id, .tx_id = 0, .len = (uint32_t)len};
	long deadline = now_ms() + g->timeout_ms;

	if (!ring_put(g, &hdr, sizeof(hdr), deadline) || !ring_put(g, payload, len, deadline)) {
		print_no_answer(g);
		return;
	}
	for (;;) {
		struct xsd_sockmsg rep;
		if (!recv_msg(g, &rep, body, deadline)) {
			print_no_answer(g);
			return;
		}
		if (rep.type == XS_WATCH_EVENT) {
			queue_event(g, body, rep.len);
			continue;
		}
		if (rep.req_id != hdr.req_id)
			continue;
		if (rep.type == XS_ERROR) {
			printf("ERR %s\n", body);
		} else if (!ok_prefix) {
			printf("OK\n");
		} else {
			/* DIRECTORY: NUL-separated names become spaces. */
			for (size_t i = 0; rep.len > 0 && i < rep.len - 1; i++)
				if (body[i] == '\0')
					body[i] = ' ';
			printf("%s %s\n", ok_prefix, body);
		}
		return;
	}
}

static void cmd_event(struct guest *g, long ms)
{
	static char body[XENSTORE_PAYLOAD_MAX + 1];
	long deadline = now_ms() + ms;

	while (g->nevents == 0) {
		struct xsd_sockmsg hdr;
		if (!recv_msg(g, &hdr, body, deadline)) {
			printf("NONE\n");
			return;
		}
		if (hdr.type == XS_WATCH_EVENT)
			queue_event(g, body, hdr.len);
	}
	printf("EVENT %s %s\n", g->events[0].path, g->events[0].token);
	free(g->events[0].path);
	free(g->events[0].token);
	memmove(&g->events[0], &g->events[1], --g->nevents * sizeof(g->events[0]));
}

static void cmd_reconnect(struct guest *g)
{
	long deadline = now_ms() + TIMEOUT_MS;

	store(&g->page->connection, XENSTORE_RECONNECT);
	notify(g);
	while (load(&g->page->connection) != XENSTORE_CONNECTED) {
		if (!wait_event(g, deadline)) {
			printf("TIMEOUT\n");
			return;
		}
	}
	/* The server dropped everything in flight: so do we. */
	g->in_len = 0;
	drop_events(g);
	printf("OK\n");
}

static void cmd_wait_error(struct guest *g, long ms)
{
	long deadline = now_ms() + ms;

	while (load(&g->page->error) == XENSTORE_ERROR_NONE)
		if (!wait_event(g, deadline)) {
			printf("NONE\n");
			return;
		}
	printf("ERROR %u\n", (unsigned int)g->page->error);
}

static bool cmd_state(struct guest *g, const char *state)
{
	char path[4096], text[64];

	path_of(g, path, sizeof(path), "dom-%u", g->domid);
	if (strcmp(state, "gone") == 0)
		return unlink(path) == 0 || errno == ENOENT;
	snprintf(text, sizeof(text), "%s\n", state);
	return write_file(path, text) == 0;
}

/* Two NUL-terminated strings back to back (WATCH, UNWATCH). */
static size_t two_strings(char *buf, size_t size, const char *a, const char *b)
{
	int n = snprintf(buf, size, "%s%c%s", a, '\0', b);
	return n < 0 || (size_t)n >= size ? 0 : (size_t)n + 1;
}

static void run(struct guest *g, char *line)
{
	static char buf[XENSTORE_PAYLOAD_MAX + 1];
	char *save = NULL;

	line[strcspn(line, "\r\n")] = '\0';
	char *cmd = strtok_r(line, " ", &save);
	if (!cmd)
		return;
	if (strcmp(cmd, "init") == 0) {
		if (cmd_init(g))
			printf("OK\n");
		else
			printf("FAIL init: %s\n", strerror(errno));
		return;
	}
	if (!g->page && guest_open(g, false) < 0) {
		printf("FAIL no ring (run init first)\n");
		return;
	}
	char *a1 = strtok_r(NULL, " ", &save);
	char *rest = save && *save ? save : "";
	if (strcmp(cmd, "write") == 0 && a1) {
		size_t n = strlen(a1) + 1, v = strlen(rest);
		if (n + v > sizeof(buf))
			v = sizeof(buf) - n;
		memcpy(buf, a1, n);
		memcpy(buf + n, rest, v);
		request(g, XS_WRITE, buf, n + v, NULL);
	} else if (strcmp(cmd, "read") == 0 && a1) {
		request(g, XS_READ, a1, strlen(a1) + 1, "VALUE");
	} else if (strcmp(cmd, "mkdir") == 0 && a1) {
		request(g, XS_MKDIR, a1, strlen(a1) + 1, NULL);
	} else if (strcmp(cmd, "rm") == 0 && a1) {
		request(g, XS_RM, a1, strlen(a1) + 1, NULL);
	} else if (strcmp(cmd, "dir") == 0 && a1) {
		request(g, XS_DIRECTORY, a1, strlen(a1) + 1, "DIR");
	} else if ((strcmp(cmd, "watch") == 0 || strcmp(cmd, "unwatch") == 0) && a1 && *rest) {
		size_t n = two_strings(buf, sizeof(buf), a1, rest);
		request(g, cmd[0] == 'w' ? XS_WATCH : XS_UNWATCH, buf, n, NULL);
	} else if (strcmp(cmd, "domain-path") == 0) {
		int n = snprintf(buf, sizeof(buf), "%u", g->domid);
		request(g, XS_GET_DOMAIN_PATH, buf, (size_t)n + 1, "VALUE");
	} else if (strcmp(cmd, "event") == 0) {
		cmd_event(g, a1 ? atol(a1) : TIMEOUT_MS);
	} else if (strcmp(cmd, "reconnect") == 0) {
		cmd_reconnect(g);
	} else if (strcmp(cmd, "corrupt") == 0) {
		store(&g->page->req_prod, load(&g->page->req_cons) + 2 * XENSTORE_RING_SIZE);
		notify(g);
		printf("OK\n");
	} else if (strcmp(cmd, "oversize") == 0) {
		struct xsd_sockmsg hdr = {
		    .type = XS_READ, .req_id = ++g->next_id, .len = XENSTORE_PAYLOAD_MAX + 1};
		if (ring_put(g, &hdr, sizeof(hdr), now_ms() + TIMEOUT_MS))
			printf("OK\n");
		else
			print_no_answer(g);
	} else if (strcmp(cmd, "wait-error") == 0) {
		cmd_wait_error(g, a1 ? atol(a1) : TIMEOUT_MS);
	} else if (strcmp(cmd, "timeout") == 0 && a1) {
		g->timeout_ms = atol(a1);
		printf("OK\n");
	} else if (strcmp(cmd, "features") == 0) {
		printf("FEATURES %u\n", (unsigned int)load(&g->page->server_features));
	} else if (strcmp(cmd, "state") == 0 && a1) {
		if (cmd_state(g, a1))
			printf("OK\n");
		else
			printf("FAIL state: %s\n", strerror(errno));
	} else if (strcmp(cmd, "virq") == 0) {
		send_record(g, XENFAKE_VIRQ_DOMID, VIRQ_DOM_EXC);
		printf("OK\n");
	} else {
		printf("FAIL unknown command %s\n", cmd);
	}
}

int main(int argc, char **argv)
{
	struct guest g = {.evfd = -1, .timeout_ms = TIMEOUT_MS};
	char line[XENSTORE_PAYLOAD_MAX + 256];

	if (argc < 4) {
		fprintf(stderr, "usage: %s DIR DOMID PORT [COMMAND-LINE...]\n", argv[0]);
		return 2;
	}
	g.dir = argv[1];
	g.domid = (unsigned int)strtoul(argv[2], NULL, 10);
	g.port = (unsigned int)strtoul(argv[3], NULL, 10);
	if (argc > 4) {
		for (int i = 4; i < argc; i++) {
			snprintf(line, sizeof(line), "%s", argv[i]);
			run(&g, line);
		}
	} else {
		while (fgets(line, sizeof(line), stdin)) {
			run(&g, line);
			fflush(stdout);
		}
	}
	drop_events(&g);
	return 0;
}
