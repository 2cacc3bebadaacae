/* SPDX-License-Identifier: MIT */
/*
 * libxenfake.so: for LD_PRELOAD in front of a daemon linked with libxen. It
 * defines exactly the libxenevtchn, libxengnttab, libxenforeignmemory and
 * libxenctrl calls the xenbus transport (xenstored/conn_ring.c) makes, on
 * the files described in xenfake.h, so a test can run the real daemon with
 * "guests" that are ordinary processes (tests/xenfake/fakeguest.c).
 *
 * Event channels: the daemon's handle reads records from the FIFO
 * $XENFAKE_DIR/evtchn; a record names the sender's (domid, port), which the
 * handle maps to the local port bound to it. Notifying a local port writes
 * one byte to the guest's FIFO. VIRQ_DOM_EXC arrives as a record from
 * XENFAKE_VIRQ_DOMID, so a test "kills" domain N by writing "dying" to
 * dom-N and then sending that record.
 *
 * Debian's own C xenstored (xen-utils-4.17) makes the same calls:
 * xengnttab_map_grant_ref() for rings, xenevtchn_bind_interdomain() and
 * _bind_virq(), a poll on xenevtchn_fd(), xc_domain_getinfo() on
 * VIRQ_DOM_EXC. It should run the same way, as
 *   LD_PRELOAD=libxenfake.so XENFAKE_DIR=DIR xenstored -N ...
 * except that its dom0_init() reads /proc/xen/xsd_port and maps
 * /dev/xen/xsd_kva at fixed paths (our daemon lets XSD_XEN_PORT_DEV and
 * XSD_XEN_KVA_DEV move them), so those two must exist, e.g. as bind mounts
 * of DIR/port-0 and DIR/ring-0 in a private mount namespace. Not tried: it
 * would share /run/xenstored with other tests running on this machine.
 */
#include "xenfake.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Export the faked entry points despite the project's -fvisibility=hidden. */
#pragma GCC visibility push(default)
#include <xenctrl.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>
#pragma GCC visibility pop

#include <xen/grant_table.h>

#define MAX_BINDINGS 128
#define MAX_MAPPINGS 128

struct binding {
	uint32_t local;	 /* 0: slot free */
	uint32_t domid;	 /* remote domain, or XENFAKE_VIRQ_DOMID */
	uint32_t remote; /* remote port, or the VIRQ number */
};

struct xenevtchn_handle {
	int fd; /* the evtchn FIFO, read side */
	uint32_t next_port;
	struct binding b[MAX_BINDINGS];
};

struct xengntdev_handle {
	int unused;
};

struct xenforeignmemory_handle {
	int unused;
};

struct xc_interface_core {
	int unused;
};

/* Pages mapped through either interface, to log which domain an unmap hits. */
static struct {
	void *addr;
	uint32_t domid;
} mappings[MAX_MAPPINGS];

static const char *fake_dir(void)
{
	const char *dir = getenv(XENFAKE_DIR_ENV);
	return dir && *dir ? dir : NULL;
}

static void fake_path(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fake_path(char *buf, size_t size, const char *fmt, ...)
{
	int n = snprintf(buf, size, "%s/", fake_dir());
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + n, size - (size_t)n, fmt, ap);
	va_end(ap);
}

static void fake_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fake_log(const char *fmt, ...)
{
	char path[4096], line[256];
	int saved = errno;

	if (!fake_dir())
		return;
	fake_path(path, sizeof(path), "log");
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, line, (size_t)n) < 0)
			(void)0; /* logging is best effort */
		close(fd);
	}
	errno = saved;
}

/* The state word of domain @domid, or "" when it does not exist. */
static void dom_state(uint32_t domid, char *buf, size_t size)
{
	char path[4096];

	buf[0] = '\0';
	fake_path(path, sizeof(path), "dom-%u", (unsigned int)domid);
	FILE *f = fopen(path, "re");
	if (!f) {
		if (domid == 0)
			snprintf(buf, size, "running");
		return;
	}
	if (!fgets(buf, (int)size, f))
		snprintf(buf, size, "running");
	buf[strcspn(buf, " \t\r\n")] = '\0';
	fclose(f);
}

/* ---- libxenevtchn ---- */

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger, unsigned int open_flags)
{
	char path[4096];

	if (!fake_dir()) {
		errno = ENOENT;
		return NULL;
	}
	fake_path(path, sizeof(path), "evtchn");
	if (mkfifo(path, 0600) < 0 && errno != EEXIST)
		return NULL;
	xenevtchn_handle *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	/* Read-write so the FIFO never reports EOF when no guest holds it open. */
	h->fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (h->fd < 0) {
		free(h);
		return NULL;
	}
	h->next_port = 1;
	return h;
}

int xenevtchn_close(xenevtchn_handle *xce)
{
	if (!xce)
		return 0;
	close(xce->fd);
	free(xce);
	return 0;
}

int xenevtchn_fd(xenevtchn_handle *xce)
{
	return xce->fd;
}

static struct binding *evtchn_find_local(xenevtchn_handle *xce, uint32_t port)
{
	for (size_t i = 0; i < MAX_BINDINGS; i++)
		if (xce->b[i].local == port && port != 0)
			return &xce->b[i];
	return NULL;
}

static xenevtchn_port_or_error_t evtchn_bind(xenevtchn_handle *xce, uint32_t domid, uint32_t remote)
{
	struct binding *free_slot = NULL;
	for (size_t i = 0; i < MAX_BINDINGS && !free_slot; i++)
		if (xce->b[i].local == 0)
			free_slot = &xce->b[i];
	if (!free_slot) {
		errno = ENOSPC;
		return -1;
	}
	free_slot->local = xce->next_port++;
	free_slot->domid = domid;
	free_slot->remote = remote;
	return (xenevtchn_port_or_error_t)free_slot->local;
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
						     evtchn_port_t remote_port)
{
	char state[32];

	dom_state(domid, state, sizeof(state));
	if (!state[0] || strcmp(state, "dying") == 0) {
		errno = ESRCH;
		return -1;
	}
	xenevtchn_port_or_error_t port = evtchn_bind(xce, domid, remote_port);
	if (port >= 0)
		fake_log("bind %u %u %d", (unsigned int)domid, (unsigned int)remote_port, port);
	return port;
}

xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *xce, unsigned int virq)
{
	xenevtchn_port_or_error_t port = evtchn_bind(xce, XENFAKE_VIRQ_DOMID, virq);
	if (port >= 0)
		fake_log("bind-virq %u %d", virq, port);
	return port;
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	struct binding *b = evtchn_find_local(xce, port);
	if (!b) {
		errno = EINVAL;
		return -1;
	}
	fake_log("unbind %u", (unsigned int)port);
	memset(b, 0, sizeof(*b));
	return 0;
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	char path[4096];
	struct binding *b = evtchn_find_local(xce, port);

	if (!b) {
		errno = EINVAL;
		return -1;
	}
	if (b->domid == XENFAKE_VIRQ_DOMID)
		return 0;
	fake_path(path, sizeof(path), "guest-%u-%u", (unsigned int)b->domid,
		  (unsigned int)b->remote);
	/* No reader or a full FIFO: the guest already has an event pending. */
	int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "!", 1) < 0)
			(void)0;
		close(fd);
	}
	return 0;
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
	struct xenfake_event ev;

	for (;;) {
		ssize_t n = read(xce->fd, &ev, sizeof(ev));
		if (n != (ssize_t)sizeof(ev)) {
			errno = n < 0 ? errno : EAGAIN;
			return -1;
		}
		for (size_t i = 0; i < MAX_BINDINGS; i++) {
			struct binding *b = &xce->b[i];
			if (b->local && b->domid == ev.domid && b->remote == ev.port)
				return (xenevtchn_port_or_error_t)b->local;
		}
		/* Nobody bound to that port: the notification is lost, as on Xen. */
	}
}

int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	if (!evtchn_find_local(xce, port)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* ---- page mapping (grant tables and foreign memory) ---- */

static void *map_ring(uint32_t domid, const char *how)
{
	char path[4096];

	fake_path(path, sizeof(path), "ring-%u", (unsigned int)domid);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	void *p = mmap(NULL, XENFAKE_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int saved = errno;
	close(fd);
	if (p == MAP_FAILED) {
		errno = saved;
		return NULL;
	}
	for (size_t i = 0; i < MAX_MAPPINGS; i++) {
		if (!mappings[i].addr) {
			mappings[i].addr = p;
			mappings[i].domid = domid;
			break;
		}
	}
	fake_log("map %s %u", how, (unsigned int)domid);
	return p;
}

static int unmap_ring(void *addr, uint32_t count)
{
	for (size_t i = 0; i < MAX_MAPPINGS; i++) {
		if (mappings[i].addr == addr) {
			fake_log("unmap %u", (unsigned int)mappings[i].domid);
			mappings[i].addr = NULL;
			return munmap(addr, (size_t)count * XENFAKE_PAGE_SIZE);
		}
	}
	errno = EINVAL;
	return -1;
}

xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger, unsigned int open_flags)
{
	if (!fake_dir()) {
		errno = ENOENT;
		return NULL;
	}
	return calloc(1, sizeof(xengnttab_handle));
}

int xengnttab_close(xengnttab_handle *xgt)
{
	free(xgt);
	return 0;
}

int xengnttab_set_max_grants(xengnttab_handle *xgt, uint32_t nr_grants)
{
	return 0;
}

void *xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid, uint32_t ref, int prot)
{
	if (getenv(XENFAKE_NO_GNTTAB_ENV) || ref != GNTTAB_RESERVED_XENSTORE) {
		errno = EINVAL;
		return NULL;
	}
	return map_ring(domid, "gnttab");
}

int xengnttab_unmap(xengnttab_handle *xgt, void *start_address, uint32_t count)
{
	return unmap_ring(start_address, count);
}

xenforeignmemory_handle *xenforeignmemory_open(struct xentoollog_logger *logger,
					       unsigned int open_flags)
{
	if (!fake_dir()) {
		errno = ENOENT;
		return NULL;
	}
	return calloc(1, sizeof(xenforeignmemory_handle));
}

int xenforeignmemory_close(xenforeignmemory_handle *fmem)
{
	free(fmem);
	return 0;
}

void *xenforeignmemory_map(xenforeignmemory_handle *fmem, uint32_t dom, int prot, size_t pages,
			   const xen_pfn_t arr[], int err[])
{
	char how[64];

	if (pages != 1) {
		errno = EINVAL;
		return NULL;
	}
	snprintf(how, sizeof(how), "foreign gfn=%lu", (unsigned long)arr[0]);
	void *p = map_ring(dom, how);
	if (err)
		err[0] = p ? 0 : -errno;
	return p;
}

int xenforeignmemory_unmap(xenforeignmemory_handle *fmem, void *addr, size_t pages)
{
	return unmap_ring(addr, (uint32_t)pages);
}

/* ---- libxenctrl ---- */

xc_interface *xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dombuild_logger,
				unsigned open_flags)
{
	if (!fake_dir()) {
		errno = ENOENT;
		return NULL;
	}
	return calloc(1, sizeof(xc_interface));
}

int xc_interface_close(xc_interface *xch)
{
	free(xch);
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Existing domids, ascending; at most @max. */
static size_t list_domains(uint32_t *ids, size_t max)
{
	size_t n = 0;
	bool have0 = false;
	DIR *dir = opendir(fake_dir());

	if (!dir)
		return 0;
	for (struct dirent *de; (de = readdir(dir)) != NULL && n < max;) {
		unsigned int id;
		char tail;
		if (sscanf(de->d_name, "dom-%u%c", &id, &tail) == 1) {
			ids[n++] = id;
			have0 = have0 || id == 0;
		}
	}
	closedir(dir);
	if (!have0 && n < max)
		ids[n++] = 0;
	qsort(ids, n, sizeof(*ids), cmp_u32);
	return n;
}

int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid, unsigned int max_doms,
		      xc_dominfo_t *info)
{
	uint32_t ids[1024];
	size_t n = list_domains(ids, 1024);
	int count = 0;

	for (size_t i = 0; i < n && (unsigned int)count < max_doms; i++) {
		char state[32];
		if (ids[i] < first_domid)
			continue;
		dom_state(ids[i], state, sizeof(state));
		if (!state[0])
			continue;
		xc_dominfo_t *d = &info[count++];
		memset(d, 0, sizeof(*d));
		d->domid = ids[i];
		d->dying = strcmp(state, "dying") == 0;
		d->shutdown = strcmp(state, "shutdown") == 0;
		d->running = strcmp(state, "running") == 0;
	}
	return count;
}
