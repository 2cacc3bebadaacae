/* SPDX-License-Identifier: MIT */
/*
 * Regression tests for the Xen security advisories about permissions and
 * paths (docs/xsa.md): each test replays the attack of one advisory against
 * the daemon, acting as a guest over its per-domain socket, and asserts the
 * safe outcome that the fixed C xenstored gives.
 */
#include "vst.h"

#include <errno.h>

#include "xsfixture.h"

#define QUIET_MS 300
#define EVENT_MS 3000

static int setup(void **state)
{
	*state = xsf_start(NULL);
	return 0;
}

static int teardown(void **state)
{
	return xsf_stop(*state);
}

/*
 * XSA-115: watch events were sent for nodes the watcher may not read, so a
 * guest watching "/" saw every change in the store. Events must only reach
 * watchers that can read the node (or its parent), and a watcher that loses
 * access by a permission change still hears of that change.
 */
static void test_xsa115_watch_events_respect_permissions(void **state)
{
	struct xsf *f = *state;
	xsf_make_home(f, 5);
	assert_true(xs_mkdir(f->h, XBT_NULL, "/secret"));
	assert_true(xsf_set_perms(f->h, "/secret", "n0", NULL));
	assert_true(xs_mkdir(f->h, XBT_NULL, "/shared"));
	assert_true(xsf_set_perms(f->h, "/shared", "n0", "r5", NULL));

	struct xs_handle *d5 = xsf_open_domain(f, 5);
	assert_non_null(d5);
	assert_true(xs_watch(d5, "/", "all"));
	assert_true(xsf_expect_watch(d5, "/", EVENT_MS));
	xsf_drain_watches(d5, QUIET_MS);

	assert_true(xsf_write(f->h, "/secret/key", "hidden"));
	assert_true(xsf_write(f->h, "/secret/key", "hidden2"));
	assert_true(xs_rm(f->h, XBT_NULL, "/secret/key"));
	assert_true(xsf_no_watch(d5, QUIET_MS));

	/* Readable nodes (and nodes whose parent is readable) do fire. */
	assert_true(xsf_write(f->h, "/shared/visible", "v"));
	assert_true(xsf_expect_watch(d5, "/shared/visible", EVENT_MS));
	assert_true(xsf_write(f->h, "/local/domain/5/data/k", "v"));
	assert_true(xsf_expect_watch(d5, "/local/domain/5/data/k", EVENT_MS));
	xsf_drain_watches(d5, QUIET_MS);

	/* Losing read access is itself an event the old reader may see. */
	assert_true(xs_mkdir(f->h, XBT_NULL, "/shared/sub"));
	assert_true(xsf_set_perms(f->h, "/shared/sub", "n0", "r5", NULL));
	xsf_drain_watches(d5, QUIET_MS);
	assert_true(xsf_set_perms(f->h, "/shared/sub", "n0", NULL));
	assert_true(xsf_expect_watch(d5, "/shared/sub", EVENT_MS));
	xs_close(d5);
}

/*
 * XSA-115: @introduceDomain and @releaseDomain told any guest about other
 * guests. A guest may register the watch (and gets the initial event) but
 * hears nothing more unless the toolstack granted it read access to the
 * special node. (@releaseDomain is left out: newer C xenstored makes it
 * readable by every domain with DOMID_ANY, 4.17 does not.)
 */
static void test_xsa115_special_watches_are_privileged(void **state)
{
	struct xsf *f = *state;
	struct xs_handle *d5 = xsf_open_domain(f, 5);
	assert_non_null(d5);
	assert_true(xs_watch(d5, "@introduceDomain", "intro"));
	assert_true(xsf_expect_watch(d5, "@introduceDomain", EVENT_MS));
	xsf_drain_watches(d5, QUIET_MS);

	assert_true(xsf_introduce(f, 6));
	assert_true(xsf_no_watch(d5, QUIET_MS));

	/* C xenstored lets dom0 open the event to a guest by SET_PERMS on it. */
	assert_true(xsf_set_perms(f->h, "@introduceDomain", "n0", "r5", NULL));
	assert_true(xsf_introduce(f, 7));
	assert_true(xsf_expect_watch(d5, "@introduceDomain", EVENT_MS));
	xs_close(d5);
}

/* Grant domain 5 read access to /shared/n, then release the domain. */
static void grant_then_release(struct xsf *f)
{
	assert_true(xsf_introduce(f, 5));
	assert_true(xsf_write(f->h, "/shared/n", "for domain 5 only"));
	assert_true(xsf_set_perms(f->h, "/shared", "n0", "r5", NULL));
	assert_true(xsf_set_perms(f->h, "/shared/n", "n0", "r5", NULL));
	struct xs_handle *d5 = xsf_open_domain(f, 5);
	assert_non_null(d5);
	char *v = xsf_read(d5, "/shared/n");
	assert_non_null(v);
	free(v);
	xs_close(d5);
	assert_true(xs_release_domain(f->h, 5));
}

/*
 * XSA-322: a new domain reusing the domid of a dead one inherited the dead
 * domain's permission entries. A reintroduced domid starts with no rights.
 */
static void test_xsa322_new_domain_does_not_inherit_permissions(void **state)
{
	struct xsf *f = *state;
	grant_then_release(f);
	struct xs_handle *d5 = xsf_open_domain(f, 5);
	assert_non_null(d5);
	assert_null(xsf_read(d5, "/shared/n"));
	assert_int_equal(errno, EACCES);
	xs_close(d5);
}

/*
 * XSA-417: the same when another domain writes the node between the old
 * domain's death and the new domain's introduction.
 */
static void test_xsa417_write_after_release_does_not_revive_permissions(void **state)
{
	struct xsf *f = *state;
	grant_then_release(f);
	assert_true(xsf_write(f->h, "/shared/n", "rewritten while domain 5 is gone"));
	assert_true(xsf_write(f->h, "/shared/new", "created while domain 5 is gone"));
	struct xs_handle *d5 = xsf_open_domain(f, 5);
	assert_non_null(d5);
	assert_null(xsf_read(d5, "/shared/n"));
	assert_int_equal(errno, EACCES);
	xs_close(d5);
}

/*
 * XSA-323: path lengths were checked on the path as the guest gave it, so a
 * guest could create nodes (relative to its home) whose absolute paths were
 * too long for the toolstack. The limit applies below /local/domain/<domid>/
 * and the toolstack can reach whatever the guest created.
 */
static void test_xsa323_guest_paths_stay_reachable_by_dom0(void **state)
{
	struct xsf *f = *state;
	xsf_make_home(f, 5);
	struct xs_handle *d5 = xsf_open_domain(f, 5);
	assert_non_null(d5);
	/*
	 * A relative path of exactly 2048 bytes: "data/xxxxxxxxx/xxx...", in
	 * components short enough for the node-size quota (a parent counts its
	 * children's names).
	 */
	char rel[2100], abs[2200];
	for (int i = 0; i < 2048; i++)
		rel[i] = i % 10 == 4 ? '/' : 'x';
	memcpy(rel, "data/", 5);
	rel[2048] = '\0';
	assert_true(xsf_write(d5, rel, "deep"));
	snprintf(abs, sizeof(abs), "/local/domain/5/%s", rel);
	char *v = xsf_read(f->h, abs);
	assert_non_null(v);
	assert_string_equal(v, "deep");
	free(v);
	assert_true(xs_rm(f->h, XBT_NULL, abs));

	/* One byte more is refused, however it is spelled. */
	rel[2048] = 'x';
	rel[2049] = '\0';
	assert_false(xsf_write(d5, rel, "too long"));
	assert_int_equal(errno, EINVAL);
	snprintf(abs, sizeof(abs), "/local/domain/5/%s", rel);
	assert_false(xsf_write(d5, abs, "too long"));
	assert_int_equal(errno, EINVAL);
	xs_close(d5);
}

/*
 * XSA-352: oxenstored let an unprivileged client change the owner of its
 * node (and so escape its quota). Only the privileged domain may.
 */
static void test_xsa352_guest_cannot_change_node_owner(void **state)
{
	struct xsf *f = *state;
	xsf_make_home(f, 5);
	assert_true(xsf_introduce(f, 6));
	struct xs_handle *d5 = xsf_open_domain(f, 5);
	assert_non_null(d5);
	assert_true(xsf_write(d5, "data/mine", "v"));
	assert_false(xsf_set_perms(d5, "/local/domain/5/data/mine", "n6", NULL));
	assert_int_equal(errno, EPERM);
	assert_false(xsf_set_perms(d5, "/local/domain/5/data/mine", "n0", NULL));
	assert_int_equal(errno, EPERM);
	unsigned int n = 0;
	struct xs_permissions *p = xs_get_permissions(f->h, XBT_NULL,
						     "/local/domain/5/data/mine", &n);
	assert_non_null(p);
	assert_int_equal(p[0].id, 5);
	free(p);
	/* dom0 may. */
	assert_true(xsf_set_perms(f->h, "/local/domain/5/data/mine", "n6", NULL));
	xs_close(d5);
}

/*
 * XSA-353: oxenstored skipped the permission checks on the root node: a
 * guest could chmod "/", remove nearly the whole store or list it.
 */
static void test_xsa353_root_node_is_checked_like_any_other(void **state)
{
	struct xsf *f = *state;
	struct xst_conn *d5 = xsf_raw_domain(f, 5);
	assert_int_equal(xst_requestv(d5, XSD_DIRECTORY, 0, NULL, "/", NULL), -EACCES);
	assert_int_equal(xst_requestv(d5, XSD_GET_PERMS, 0, NULL, "/", NULL), -EACCES);
	assert_int_equal(xst_requestv(d5, XSD_READ, 0, NULL, "/", NULL), -EACCES);
	assert_int_equal(xst_requestv(d5, XSD_SET_PERMS, 0, NULL, "/", "b5", NULL), -EACCES);
	assert_int_equal(xst_write(d5, 0, "/", "owned"), -EACCES);
	assert_int_equal(xst_write(d5, 0, "/newtop", "x"), -EACCES);
	assert_int_equal(xst_requestv(d5, XSD_MKDIR, 0, NULL, "/newtop", NULL), -EACCES);
	int rm = xst_requestv(d5, XSD_RM, 0, NULL, "/", NULL);
	assert_true(rm == -EACCES || rm == -EINVAL);
	assert_int_equal(xst_requestv(d5, XSD_RM, 0, NULL, "/tool", NULL), -EACCES);
	assert_int_equal(xst_requestv(d5, XSD_DIRECTORY_PART, 0, NULL, "/", "0", NULL), -EACCES);
	xst_close(d5);

	/* The tree is intact and dom0 still owns the root. */
	unsigned int n = 0;
	char **dir = xs_directory(f->h, XBT_NULL, "/", &n);
	assert_non_null(dir);
	bool tool = false;
	for (unsigned int i = 0; i < n; i++)
		tool |= !strcmp(dir[i], "tool");
	assert_true(tool);
	free(dir);
	assert_null(xsf_read(f->h, "/newtop"));
	struct xs_permissions *p = xs_get_permissions(f->h, XBT_NULL, "/", &n);
	assert_non_null(p);
	assert_int_equal(p[0].id, 0);
	assert_int_equal(p[0].perms, XS_PERM_NONE);
	free(p);
}

/*
 * XSA-481: the illegal path "/local/domain/" (and its like) crashed C
 * xenstored through a clobbered error code. Each must be refused with
 * EINVAL, for guests and dom0, and the guest must go on being served.
 */
static void test_xsa481_malformed_domain_paths_are_einval(void **state)
{
	struct xsf *f = *state;
	xsf_make_home(f, 5);
	static const char *const bad[] = {
		"/local/domain/",  "/local/domain/5/", "/local/domain//5", "//",
		"/local//domain",  "data/",	       "/a/",		   "",
		"/local/domain/5/data/", "/bad char",  "/dot.name",	   "/tab\tname",
	};
	static const uint32_t ops[] = { XSD_READ, XSD_DIRECTORY, XSD_GET_PERMS, XSD_MKDIR,
					XSD_RM };
	struct xst_conn *d5 = xsf_raw_domain(f, 5);
	struct xst_conn *c = xsf_raw(f);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
			int e1 = xst_requestv(d5, ops[o], 0, NULL, bad[i], NULL);
			int e2 = xst_requestv(c, ops[o], 0, NULL, bad[i], NULL);
			if (e1 != -EINVAL || e2 != -EINVAL)
				fail_msg("op %u path \"%s\": guest %d dom0 %d, want EINVAL",
					 ops[o], bad[i], e1, e2);
		}
		assert_int_equal(xst_write(d5, 0, bad[i], "v"), -EINVAL);
		assert_int_equal(xst_requestv(d5, XSD_WATCH, 0, NULL, bad[i], "t", NULL),
				 -EINVAL);
	}
	/* Still served, both of them. */
	assert_int_equal(xst_write(d5, 0, "data/after", "ok"), 0);
	assert_int_equal(xst_requestv(c, XSD_READ, 0, NULL, "/local/domain/5/data/after", NULL),
			 0);
	xst_close(c);
	xst_close(d5);
	assert_true(xsf_alive(f));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_xsa115_watch_events_respect_permissions),
		T(test_xsa115_special_watches_are_privileged),
		T(test_xsa322_new_domain_does_not_inherit_permissions),
		T(test_xsa417_write_after_release_does_not_revive_permissions),
		T(test_xsa323_guest_paths_stay_reachable_by_dom0),
		T(test_xsa352_guest_cannot_change_node_owner),
		T(test_xsa353_root_node_is_checked_like_any_other),
		T(test_xsa481_malformed_domain_paths_are_einval),
#undef T
	};
	xsf_filter_from_env();
	return cmocka_run_group_tests_name("xsd_xsa_perms", tests, NULL, NULL);
}
