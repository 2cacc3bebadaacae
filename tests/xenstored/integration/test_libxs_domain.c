/* SPDX-License-Identifier: MIT */
/*
 * Debian's libxenstore against the real daemon, domain side: INTRODUCE and
 * RELEASE with per-domain sockets, @introduceDomain / @releaseDomain,
 * GET_DOMAIN_PATH, SET_TARGET rights, quotas (hit over libxenstore, set over
 * the raw wire since libxenstore 4.17 predates GET/SET_QUOTA), GET/SET_FEATURE
 * and CONTROL. Expected answers are those of Xen 4.17's C xenstored.
 */
#include "vst.h"

#include <errno.h>
#include <sys/stat.h>

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

static void test_introduce_and_release_fire_special_watches(void **state)
{
	struct xsf *f = *state;
	struct xs_handle *w = xsf_open_path(f->sock);
	assert_non_null(w);
	assert_true(xs_watch(w, "@introduceDomain", "intro"));
	assert_true(xs_watch(w, "@releaseDomain", "rel"));
	xsf_drain_watches(w, QUIET_MS);

	assert_false(xs_is_domain_introduced(f->h, 7));
	assert_true(xs_introduce_domain(f->h, 7, 0, 1));
	assert_true(xs_is_domain_introduced(f->h, 7));
	assert_true(xsf_expect_watch(w, "@introduceDomain", EVENT_MS));
	char path[4096];
	struct stat st;
	assert_int_equal(stat(xsf_domain_sock(f, 7, path, sizeof(path)), &st), 0);
	assert_true(S_ISSOCK(st.st_mode));

	/* A connection of the domain is closed by RELEASE. */
	struct xst_conn *c = NULL;
	assert_int_equal(xst_connect(&c, path), 0);
	assert_int_equal(xst_requestv(c, XSD_READ, 0, NULL, "/", NULL), -EACCES);
	assert_true(xs_release_domain(f->h, 7));
	assert_true(xsf_expect_watch(w, "@releaseDomain", EVENT_MS));
	assert_false(xs_is_domain_introduced(f->h, 7));
	assert_true(xst_wait_closed(c, EVENT_MS));
	xst_close(c);

	/* Releasing it again, or an unknown domain, fails. */
	assert_false(xs_release_domain(f->h, 7));
	assert_false(xs_release_domain(f->h, 4242));
	xs_close(w);
}

static void test_domain_path_and_domain_ops_need_privilege(void **state)
{
	struct xsf *f = *state;
	char *p = xs_get_domain_path(f->h, 123);
	assert_non_null(p);
	assert_string_equal(p, "/local/domain/123");
	free(p);

	struct xst_conn *d5 = xsf_raw_domain(f, 5);
	struct xst_msg m;
	/* Any domain may ask for a domain path. */
	assert_int_equal(xst_requestv(d5, XSD_GET_DOMAIN_PATH, 0, &m, "5", NULL), 0);
	assert_string_equal(m.body, "/local/domain/5");
	/* Domain management is for the privileged domain only. */
	assert_int_equal(xst_requestv(d5, XSD_INTRODUCE, 0, NULL, "9", "0", "1", NULL), -EACCES);
	assert_int_equal(xst_requestv(d5, XSD_RELEASE, 0, NULL, "5", NULL), -EACCES);
	assert_int_equal(xst_requestv(d5, XSD_IS_DOMAIN_INTRODUCED, 0, NULL, "5", NULL), -EACCES);
	assert_int_equal(xst_requestv(d5, XSD_SET_TARGET, 0, NULL, "5", "0", NULL), -EACCES);
	assert_int_equal(xst_requestv(d5, XSD_RESUME, 0, NULL, "5", NULL), -EACCES);
	assert_int_equal(xst_requestv(d5, XSD_CONTROL, 0, NULL, "help", NULL), -EACCES);
	assert_int_equal(xst_requestv(d5, XSD_SET_QUOTA, 0, NULL, "nodes", "5", NULL), -EACCES);
	assert_int_equal(xst_requestv(d5, XSD_GET_QUOTA, 0, NULL, "nodes", NULL), -EACCES);
	/* Domain 0 cannot be released. */
	struct xst_conn *c = xsf_raw(f);
	assert_int_equal(xst_requestv(c, XSD_RELEASE, 0, NULL, "0", NULL), -EINVAL);
	xst_close(c);
	xst_close(d5);
}

static void test_set_target_grants_the_targets_rights(void **state)
{
	struct xsf *f = *state;
	assert_true(xsf_introduce(f, 9));
	assert_true(xs_mkdir(f->h, XBT_NULL, "/local/domain/9/dev"));
	assert_true(xsf_set_perms(f->h, "/local/domain/9/dev", "n9", NULL));

	struct xs_handle *dm = xsf_open_domain(f, 8);
	assert_non_null(dm);
	assert_null(xsf_read(dm, "/local/domain/9/dev"));
	assert_int_equal(errno, EACCES);
	xs_close(dm);

	assert_true(xs_set_target(f->h, 8, 9));
	dm = xsf_open_domain(f, 8);
	assert_non_null(dm);
	char *v = xsf_read(dm, "/local/domain/9/dev");
	assert_non_null(v);
	free(v);
	assert_true(xsf_write(dm, "/local/domain/9/dev/backend", "ok"));
	xs_close(dm);
	/* Both domains must be introduced. */
	assert_false(xs_set_target(f->h, 8, 4343));
}

static void test_node_quota_hit_is_enospc(void **state)
{
	struct xsf *f = *state;
	xsf_make_home(f, 5); /* domain 5 owns .../data: one node */
	assert_int_equal(xsf_set_quota(f, 5, "nodes", 10), 0);
	struct xs_handle *d5 = xsf_open_domain(f, 5);
	assert_non_null(d5);
	char path[64];
	int ok = 0, err = 0;
	for (int i = 0; i < 20 && !err; i++) {
		snprintf(path, sizeof(path), "data/n%d", i);
		if (xsf_write(d5, path, "v"))
			ok++;
		else
			err = errno;
	}
	assert_int_equal(err, ENOSPC);
	assert_int_equal(ok, 9);
	/* Removing a node frees its slot. */
	assert_true(xs_rm(d5, XBT_NULL, "data/n0"));
	assert_true(xsf_write(d5, "data/again", "v"));
	assert_false(xsf_write(d5, "data/over", "v"));
	assert_int_equal(errno, ENOSPC);
	/* Writing an existing node needs no new slot. */
	assert_true(xsf_write(d5, "data/n1", "changed"));
	xs_close(d5);
}

static void test_watch_quota_hit_is_e2big(void **state)
{
	struct xsf *f = *state;
	xsf_make_home(f, 5);
	assert_int_equal(xsf_set_quota(f, 5, "watches", 4), 0);
	struct xs_handle *d5 = xsf_open_domain(f, 5);
	assert_non_null(d5);
	char tok[16];
	int ok = 0, err = 0;
	for (int i = 0; i < 10 && !err; i++) {
		snprintf(tok, sizeof(tok), "t%d", i);
		if (xs_watch(d5, "data", tok))
			ok++;
		else
			err = errno;
	}
	/* C xenstored checks "more than the quota" before adding: 4 or 5 fit. */
	assert_int_equal(err, E2BIG);
	assert_in_range(ok, 4, 5);
	assert_true(xs_unwatch(d5, "data", "t0"));
	assert_true(xs_watch(d5, "data", "again"));
	xs_close(d5);
}

static void test_transaction_quota_hit_is_enospc(void **state)
{
	struct xsf *f = *state;
	xsf_make_home(f, 5);
	assert_int_equal(xsf_set_quota(f, 5, "transactions", 2), 0);
	struct xs_handle *d5 = xsf_open_domain(f, 5);
	assert_non_null(d5);
	xs_transaction_t t[8];
	int ok = 0, err = 0;
	for (int i = 0; i < 8 && !err; i++) {
		t[i] = xs_transaction_start(d5);
		if (t[i] != XBT_NULL)
			ok++;
		else
			err = errno;
	}
	assert_int_equal(err, ENOSPC);
	assert_in_range(ok, 2, 3);
	assert_true(xs_transaction_end(d5, t[0], true));
	xs_transaction_t again = xs_transaction_start(d5);
	assert_int_not_equal(again, XBT_NULL);
	xs_close(d5);
}

static void test_get_and_set_quota_over_the_wire(void **state)
{
	struct xsf *f = *state;
	struct xst_conn *c = xsf_raw(f);
	struct xst_msg m;
	assert_int_equal(xst_request(c, XSD_GET_QUOTA, 0, "", 0, &m), 0);
	/* A blank-separated list of names. */
	static const char *const want[] = { "nodes", "watches", "transactions", "node-size",
					    "node-permissions" };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char padded[4200];
		snprintf(padded, sizeof(padded), " %s ", m.body);
		char needle[64];
		snprintf(needle, sizeof(needle), " %s ", want[i]);
		if (!strstr(padded, needle))
			fail_msg("GET_QUOTA names \"%s\" lack %s", m.body, want[i]);
	}
	assert_int_equal(xst_requestv(c, XSD_GET_QUOTA, 0, &m, "nodes", NULL), 0);
	assert_string_equal(m.body, "1000");
	assert_int_equal(xst_requestv(c, XSD_SET_QUOTA, 0, NULL, "nodes", "1200", NULL), 0);
	assert_int_equal(xst_requestv(c, XSD_GET_QUOTA, 0, &m, "nodes", NULL), 0);
	assert_string_equal(m.body, "1200");

	assert_true(xsf_introduce(f, 5));
	assert_int_equal(xst_requestv(c, XSD_SET_QUOTA, 0, NULL, "5", "watches", "7", NULL), 0);
	assert_int_equal(xst_requestv(c, XSD_GET_QUOTA, 0, &m, "5", "watches", NULL), 0);
	assert_string_equal(m.body, "7");
	assert_int_equal(xst_requestv(c, XSD_GET_QUOTA, 0, &m, "watches", NULL), 0);
	assert_string_equal(m.body, "128");
	assert_int_equal(xst_requestv(c, XSD_SET_QUOTA, 0, NULL, "no-such-quota", "1", NULL),
			 -EINVAL);
	assert_int_equal(xst_requestv(c, XSD_GET_QUOTA, 0, NULL, "no-such-quota", NULL),
			 -EINVAL);
	xst_close(c);
}

static void test_features_get_and_set(void **state)
{
	struct xsf *f = *state;
	struct xst_conn *c = xsf_raw(f);
	struct xst_msg m;
	assert_int_equal(xst_request(c, XSD_GET_FEATURE, 0, "", 0, &m), 0);
	unsigned long all = strtoul(m.body, NULL, 10);
	assert_true(all & XSD_FEATURE_WATCHDEPTH);

	/* Before INTRODUCE the features of a domain can be chosen... */
	assert_int_equal(xst_requestv(c, XSD_SET_FEATURE, 0, NULL, "11", "4", NULL), 0);
	assert_int_equal(xst_requestv(c, XSD_GET_FEATURE, 0, &m, "11", NULL), 0);
	assert_string_equal(m.body, "4");
	/* ...but not bits the daemon does not have, and not after INTRODUCE. */
	assert_int_not_equal(xst_requestv(c, XSD_SET_FEATURE, 0, NULL, "12", "1048576", NULL), 0);
	assert_true(xsf_introduce(f, 11));
	assert_int_not_equal(xst_requestv(c, XSD_SET_FEATURE, 0, NULL, "11", "0", NULL), 0);

	struct xst_conn *d11 = xsf_raw_domain(f, 11);
	assert_int_equal(xst_request(d11, XSD_GET_FEATURE, 0, "", 0, &m), 0);
	assert_string_equal(m.body, "4");
	assert_int_equal(xst_requestv(d11, XSD_GET_FEATURE, 0, NULL, "0", NULL), -EACCES);
	assert_int_equal(xst_requestv(d11, XSD_SET_FEATURE, 0, NULL, "11", "4", NULL), -EACCES);
	xst_close(d11);
	xst_close(c);
}

static void test_control_commands(void **state)
{
	struct xsf *f = *state;
	char *r = xs_control_command(f->h, "print", "hello from test_libxs", 22);
	assert_non_null(r);
	assert_string_equal(r, "OK");
	free(r);
	r = xs_control_command(f->h, "help", NULL, 0);
	assert_non_null(r);
	assert_non_null(strstr(r, "print"));
	assert_non_null(strstr(r, "quota"));
	assert_non_null(strstr(r, "check"));
	free(r);
	r = xs_control_command(f->h, "check", NULL, 0);
	assert_non_null(r);
	/* C xenstored answers exactly "OK"; more detail after it is harmless. */
	assert_int_equal(strncmp(r, "OK", 2), 0);
	free(r);
	r = xs_control_command(f->h, "quota", NULL, 0);
	assert_non_null(r);
	assert_non_null(strstr(r, "nodes"));
	free(r);
	assert_true(xsf_introduce(f, 5));
	r = xs_control_command(f->h, "quota", "5", 2);
	assert_non_null(r);
	assert_non_null(strstr(r, "nodes"));
	free(r);
	assert_null(xs_control_command(f->h, "no-such-command", NULL, 0));
	assert_int_equal(errno, EINVAL);

	struct xs_handle *d5 = xsf_open_domain(f, 5);
	assert_non_null(d5);
	assert_null(xs_control_command(d5, "help", NULL, 0));
	assert_int_equal(errno, EACCES);
	xs_close(d5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_introduce_and_release_fire_special_watches),
		T(test_domain_path_and_domain_ops_need_privilege),
		T(test_set_target_grants_the_targets_rights),
		T(test_node_quota_hit_is_enospc),
		T(test_watch_quota_hit_is_e2big),
		T(test_transaction_quota_hit_is_enospc),
		T(test_get_and_set_quota_over_the_wire),
		T(test_features_get_and_set),
		T(test_control_commands),
#undef T
	};
	xsf_filter_from_env();
	return cmocka_run_group_tests_name("xsd_libxs_domain", tests, NULL, NULL);
}
