/* SPDX-License-Identifier: MIT */
/*
 * Shared fixture of the libxenstore and XSA tests (see xsfixture.h). The
 * daemon itself is started and stopped by daemon_harness.c; this file adds
 * what those tests need on top: libxenstore handles per domain, bounded
 * waits for watch events, quota and permission shortcuts.
 */
#include "vst.h"

#include "xsfixture.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon_harness.h"

struct xs_handle *xsf_open_path(const char *path)
{
	/*
	 * libxenstore reads XENSTORED_PATH in xs_open() only; the test is
	 * single-threaded at this point (libxenstore's reader threads never
	 * read the environment), so switching it per handle is safe.
	 */
	if (setenv("XENSTORED_PATH", path, 1) < 0)
		return NULL;
	return xs_open(0);
}

const char *xsf_domain_sock(const struct xsf *f, unsigned int domid, char *buf, size_t n)
{
	snprintf(buf, n, "%s/domain/%u", f->dir, domid);
	return buf;
}

bool xsf_introduce(struct xsf *f, unsigned int domid)
{
	char path[4096];
	struct stat st;
	if (!xs_is_domain_introduced(f->h, domid) && !xs_introduce_domain(f->h, domid, 0, 1))
		return false;
	xsf_domain_sock(f, domid, path, sizeof(path));
	/* The socket should exist once INTRODUCE is acknowledged; allow 2 s. */
	for (int i = 0; i < 200; i++) {
		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			return true;
		usleep(10 * 1000);
	}
	return false;
}

void xsf_make_home(struct xsf *f, unsigned int domid)
{
	char home[64], data[80], owner[16], reader[16];
	snprintf(home, sizeof(home), "/local/domain/%u", domid);
	snprintf(data, sizeof(data), "%s/data", home);
	snprintf(owner, sizeof(owner), "n%u", domid);
	snprintf(reader, sizeof(reader), "r%u", domid);
	assert_true(xs_mkdir(f->h, XBT_NULL, home));
	assert_true(xsf_set_perms(f->h, home, "n0", reader, NULL));
	assert_true(xs_mkdir(f->h, XBT_NULL, data));
	assert_true(xsf_set_perms(f->h, data, owner, NULL));
}

struct xs_handle *xsf_open_domain(struct xsf *f, unsigned int domid)
{
	char path[4096];
	if (!xsf_introduce(f, domid))
		return NULL;
	return xsf_open_path(xsf_domain_sock(f, domid, path, sizeof(path)));
}

struct xst_conn *xsf_raw(struct xsf *f)
{
	struct xst_conn *c = NULL;
	assert_int_equal(xst_connect(&c, f->sock), 0);
	return c;
}

struct xst_conn *xsf_raw_domain(struct xsf *f, unsigned int domid)
{
	char path[4096];
	struct xst_conn *c = NULL;
	assert_true(xsf_introduce(f, domid));
	assert_int_equal(xst_connect(&c, xsf_domain_sock(f, domid, path, sizeof(path))), 0);
	return c;
}

char **xsf_wait_watch(struct xs_handle *h, int timeout_ms)
{
	int fd = xs_fileno(h);
	uint64_t deadline = xst_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		char **ev = xs_check_watch(h);
		if (ev)
			return ev;
		uint64_t now = xst_now_ms();
		if (now >= deadline)
			return NULL;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			return NULL;
	}
}

bool xsf_expect_watch(struct xs_handle *h, const char *path, int timeout_ms)
{
	uint64_t deadline = xst_now_ms() + (uint64_t)timeout_ms;
	for (int i = 0; i < 10000; i++) {
		uint64_t now = xst_now_ms();
		if (now >= deadline)
			return false;
		char **ev = xsf_wait_watch(h, (int)(deadline - now));
		if (!ev)
			return false;
		bool match = !strcmp(ev[XS_WATCH_PATH], path);
		free(ev);
		if (match)
			return true;
	}
	return false;
}

bool xsf_no_watch(struct xs_handle *h, int quiet_ms)
{
	char **ev = xsf_wait_watch(h, quiet_ms);
	if (ev)
		print_message("unexpected watch event %s (token %s)\n", ev[XS_WATCH_PATH],
			      ev[XS_WATCH_TOKEN]);
	free(ev);
	return ev == NULL;
}

void xsf_drain_watches(struct xs_handle *h, int quiet_ms)
{
	char **ev;
	for (int i = 0; i < 100000 && (ev = xsf_wait_watch(h, quiet_ms)); i++)
		free(ev);
}

int xsf_set_quota(struct xsf *f, int domid, const char *name, unsigned long val)
{
	char dom[16], v[32];
	struct xst_conn *c = xsf_raw(f);
	snprintf(dom, sizeof(dom), "%d", domid);
	snprintf(v, sizeof(v), "%lu", val);
	int err = domid < 0 ? xst_requestv(c, XSD_SET_QUOTA, 0, NULL, name, v, NULL)
			    : xst_requestv(c, XSD_SET_QUOTA, 0, NULL, dom, name, v, NULL);
	xst_close(c);
	return err;
}

bool xsf_set_perms(struct xs_handle *h, const char *path, ...)
{
	struct xs_permissions perms[16];
	unsigned int n = 0;
	va_list ap;
	va_start(ap, path);
	for (const char *s; n < 16 && (s = va_arg(ap, const char *)); n++) {
		perms[n].perms = s[0] == 'r'   ? XS_PERM_READ
				 : s[0] == 'w' ? XS_PERM_WRITE
				 : s[0] == 'b' ? XS_PERM_READ | XS_PERM_WRITE
					       : XS_PERM_NONE;
		perms[n].id = (unsigned int)strtoul(s + 1, NULL, 10);
	}
	va_end(ap);
	return xs_set_permissions(h, XBT_NULL, path, perms, n);
}

bool xsf_alive(struct xsf *f)
{
	if (kill(f->pid, 0) < 0)
		return false;
	struct xst_conn *c = NULL;
	if (xst_connect(&c, f->sock) < 0)
		return false;
	int err = xst_requestv(c, XSD_READ, 0, NULL, "/", NULL);
	xst_close(c);
	return err == 0;
}

void xsf_filter_from_env(void)
{
	const char *pattern = getenv("XSF_TEST_FILTER");
	if (pattern && *pattern)
		cmocka_set_test_filter(pattern);
}

char *xsf_read(struct xs_handle *h, const char *path)
{
	unsigned int len;
	return xs_read(h, XBT_NULL, path, &len);
}

bool xsf_write(struct xs_handle *h, const char *path, const char *value)
{
	return xs_write(h, XBT_NULL, path, value, (unsigned int)strlen(value));
}

struct xsf *xsf_start(const char *const *extra)
{
	const char *args[16] = { "--domains", "socket" };
	size_t n = 2;
	for (size_t i = 0; extra && extra[i] && n < 15; i++)
		args[n++] = extra[i];
	args[n] = NULL;

	/*
	 * A sanitizer build of the daemon keeps freed memory in quarantine
	 * (256 MiB by default), which would swamp the memory bounds the XSA
	 * tests measure; the daemon inherits this environment.
	 */
	const char *asan = getenv("ASAN_OPTIONS");
	if (!asan || !strstr(asan, "quarantine_size_mb")) {
		char opts[1024];
		snprintf(opts, sizeof(opts), "%s%squarantine_size_mb=8", asan ? asan : "",
			 asan && *asan ? ":" : "");
		setenv("ASAN_OPTIONS", opts, 1);
	}

	struct xsf *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->d = xsd_harness_new("xsf");
	assert_non_null(f->d);
	if (xsd_harness_start(f->d, args) < 0)
		fail_msg("daemon did not start (status %d); see %s", f->d->status, f->d->log);
	f->dir = f->d->run_dir;
	f->sock = f->d->sock;
	f->pid = f->d->pid;
	f->h = xsf_open_path(f->sock);
	assert_non_null(f->h);
	return f;
}

int xsf_stop(struct xsf *f)
{
	int err = 0;
	if (!f)
		return 0;
	xs_close(f->h);
	/* A daemon that died during the test, or did not stop cleanly, fails it. */
	if (f->d && f->d->pid && (kill(f->d->pid, 0) < 0 || xsd_harness_stop(f->d) != 0)) {
		print_error("daemon ended badly (status %d); log %s:\n", f->d->status,
			    f->d->log);
		vst_sh("head -n 60 '%s' >&2", f->d->log);
		err = -1;
	}
	xsd_harness_free(f->d);
	free(f);
	return err;
}
