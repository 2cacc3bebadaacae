/* SPDX-License-Identifier: MIT */
/*
 * The conformance fixture (transport_fixture.h): which transport runs, and
 * a fresh store with domain 5 set up for every test.
 */
#include "transport_fixture.h"

#include <poll.h>

#include "daemon_harness.h"

static const struct vsct_kind kinds[] = {
    {"unix", true, true, true},		   /* the dom0 socket */
    {"domain", true, false, true},	   /* the per-domain socket of domain 5 */
    {"xenbus", true, true, false},	   /* the xenbus transport on the daemon socket */
    {"inproc-mem", false, true, true},	   /* the engine in process, mem: store */
    {"inproc-lmdb", false, true, true},	   /* the engine in process, lmdb: store */
    {"inproc-domain", false, false, true}, /* in process, as domain 5 */
};

const struct vsct_kind *vsct_kind;

const struct vsct_kind *vsct_kind_from_args(int argc, char **argv)
{
	for (size_t i = 0; argc > 1 && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(argv[1], kinds[i].name))
			return vsct_kind = &kinds[i];
	fprintf(stderr, "usage: %s unix|domain|xenbus|inproc-mem|inproc-lmdb|inproc-domain\n",
		argv[0]);
	exit(2);
}

const char *vsct_path(const char *rel)
{
	static char bufs[4][512];
	static unsigned int next;
	char *b = bufs[next++ % 4];
	snprintf(b, sizeof(bufs[0]), "%s/%s", VSCT_BASE, rel);
	return b;
}

/* Domain 5 exists, its data/ belongs to it, VSCT_BASE is there. */
static void prepare(struct vsct_fixture *f)
{
	static const char *const home[] = {"n0", "r5"};
	static const char *const data[] = {"n5"};
	struct vsc_client *h = f->helper;

	assert_vs_ok(vsc_introduce(h, VSCT_DOMID, 1, 1));
	assert_vs_ok(vsc_mkdir(h, VSC_TXN_NONE, "/local/domain/5"));
	assert_vs_ok(vsc_set_perms(h, VSC_TXN_NONE, "/local/domain/5", home, 2));
	assert_vs_ok(vsc_mkdir(h, VSC_TXN_NONE, "/local/domain/5/data"));
	assert_vs_ok(vsc_set_perms(h, VSC_TXN_NONE, "/local/domain/5/data", data, 1));
	assert_vs_ok(vsc_mkdir(h, VSC_TXN_NONE, VSCT_BASE));
}

int vsct_setup(void **state)
{
	struct vsct_fixture *f = calloc(1, sizeof(*f));
	const struct vsct_kind *k = vsct_kind;
	static const char *const extra[] = {"--domains", "socket", NULL};

	if (!f)
		return -1;
	*state = f;
	f->kind = k;
	f->domid = k->priv ? 0 : VSCT_DOMID;
	if (k->daemon) {
		if (!(f->h = xsd_harness_new("vsclient")))
			return -1;
		if (xsd_harness_start(f->h, extra) < 0) {
			xsd_harness_dump_log(f->h);
			return -1;
		}
		snprintf(f->helper_uri, sizeof(f->helper_uri), "unix:%s", f->h->sock);
		if (!strcmp(k->name, "xenbus"))
			snprintf(f->uri, sizeof(f->uri), "xenbus:%s", f->h->sock);
		else if (!strcmp(k->name, "domain"))
			snprintf(f->uri, sizeof(f->uri), "unix:%s/domain/%u", f->h->run_dir,
				 VSCT_DOMID);
		else
			snprintf(f->uri, sizeof(f->uri), "%s", f->helper_uri);
	} else {
		if (!strcmp(k->name, "inproc-lmdb")) {
			f->dir = vst_tmpdir("vsclient");
			snprintf(f->helper_uri, sizeof(f->helper_uri), "inproc:lmdb:%s/store",
				 f->dir);
		} else {
			snprintf(f->helper_uri, sizeof(f->helper_uri), "inproc:mem:");
		}
		snprintf(f->uri, sizeof(f->uri), "%s%s", f->helper_uri, k->priv ? "" : "?domid=5");
	}
	assert_vs_ok(vsc_client_open(&f->helper, f->helper_uri));
	prepare(f);
	assert_vs_ok(vsc_client_open(&f->c, f->uri));
	assert_string_equal(vsc_client_transport(f->c), !strcmp(k->name, "xenbus") ? "xenbus"
							: k->daemon		   ? "unix"
										   : "inproc");
	return 0;
}

int vsct_teardown(void **state)
{
	struct vsct_fixture *f = *state;
	if (!f)
		return 0;
	vsc_client_close(f->c);
	vsc_client_close(f->helper);
	xsd_harness_free(f->h);
	if (f->dir) {
		vst_rmrf(f->dir);
		free(f->dir);
	}
	free(f);
	return 0;
}

void vsct_assert_value(struct vsc_client *c, const char *path, const char *want)
{
	struct vs_buf b = VS_BUF_INIT;
	assert_vs_ok(vsc_read(&b, c, VSC_TXN_NONE, path));
	assert_int_equal(b.size, strlen(want));
	assert_string_equal(b.ptr, want);
	vs_buf_release(&b);
}

bool vsct_fd_readable(struct vsc_client *c, int ms)
{
	struct pollfd p = {.fd = vsc_event_fd(c), .events = POLLIN};
	assert_true(p.fd >= 0);
	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

void vsct_expect_event(struct vsc_client *c, const char *path, const char *token, int ms)
{
	struct vsc_event ev;
	/* The fd says when to look; the event must then be there at once. */
	assert_true(vsct_fd_readable(c, ms));
	int err = vsc_event_next(&ev, c, 0);
	if (err == VS_EAGAIN) /* bytes of a message still on their way */
		err = vsc_event_next(&ev, c, ms);
	assert_vs_ok(err);
	assert_string_equal(ev.path, path);
	assert_string_equal(ev.token, token);
	vsc_event_release(&ev);
}

void vsct_expect_no_event(struct vsc_client *c, int ms)
{
	struct vsc_event ev;
	int err = vsc_event_next(&ev, c, ms);
	if (err == 0)
		fail_msg("unexpected event %s %s", ev.path, ev.token);
	assert_vs_err(VS_EAGAIN, err);
}
