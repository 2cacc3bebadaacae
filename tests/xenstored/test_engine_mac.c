/* SPDX-License-Identifier: MIT */
/*
 * The engine's mandatory access control hooks, with a fake policy standing
 * in for mac/: what each request asks (operation, path, stored label, the
 * target domain of domain requests), labels computed at creation and kept
 * in the metadata, "mac relabel" as a checked change with its own commit,
 * the head-change notifications the daemon learns domain names from, and
 * the privileged reads of the head (xsd_engine_read/directory/stat).
 */
#include "engine_fixture.h"

#define MAX_CALLS 256

/* A policy by table: deny one label, one operation, or domain requests on one target. */
struct fake {
	struct ef_fixture *f;
	const char *deny_label;	    /* every check on a node with this label (NULL: none) */
	int deny_op;		    /* every check of this operation (-1: none) */
	unsigned int deny_domid;    /* denials apply only to this domain (UINT32_MAX: all) */
	unsigned int deny_target;   /* domain requests on it (UINT32_MAX: none) */
	char calls[MAX_CALLS][160]; /* "op domid path label[ quiet]" per check */
	size_t ncalls;
	char changed[MAX_CALLS][160]; /* "path domid priv|guest [removed]" per notification */
	size_t nchanged;
	char control[160]; /* the last "mac ..." command the hook got */
};

static const char *const op_names[] = {"read",	    "write",   "create",  "remove",
				       "list",	    "watch",   "setperm", "relabel",
				       "introduce", "release", "control"};

static int fake_check(void *payload, unsigned int domid, enum xsd_mac_op op, const char *path,
		      const char *label, bool quiet)
{
	struct fake *k = payload;
	if (k->ncalls < MAX_CALLS)
		snprintf(k->calls[k->ncalls++], sizeof(k->calls[0]), "%s %u %s %s%s", op_names[op],
			 domid, path ? path : "-", label ? label : "-", quiet ? " quiet" : "");
	bool who = k->deny_domid == UINT32_MAX || domid == k->deny_domid;
	if (who &&
	    ((int)op == k->deny_op || (label && k->deny_label && !strcmp(label, k->deny_label))))
		return VS_EACCES;
	return 0;
}

static int fake_check_domain(void *payload, unsigned int domid, enum xsd_mac_op op,
			     unsigned int target)
{
	struct fake *k = payload;
	if (k->ncalls < MAX_CALLS)
		snprintf(k->calls[k->ncalls++], sizeof(k->calls[0]), "%s %u @domain:%u",
			 op_names[op], domid, target);
	return target == k->deny_target ? VS_EACCES : 0;
}

/* Labels by path: a "secret" component and below is "secret", else the parent's, else "plain". */
static int fake_label_new(void *payload, char *out, size_t outsz, unsigned int domid,
			  const char *path, const char *parent_label)
{
	(void)payload, (void)domid;
	snprintf(out, outsz, "%s",
		 strstr(path, "/secret") ? "secret"
		 : parent_label		 ? parent_label
					 : "plain");
	return 0;
}

static int fake_label_check(void *payload, const char *label)
{
	(void)payload;
	return strchr(label, '!') ? vs_error_set(VS_EINVAL, "no such label %s", label) : 0;
}

static void fake_changed(void *payload, const char *path, unsigned int domid, bool priv,
			 bool removed)
{
	struct fake *k = payload;
	if (k->nchanged < MAX_CALLS)
		snprintf(k->changed[k->nchanged++], sizeof(k->changed[0]), "%s %u %s%s", path,
			 domid, priv ? "priv" : "guest", removed ? " removed" : "");
}

static int fake_control(void *payload, struct vs_buf *out, const char *const *argv, size_t n)
{
	struct fake *k = payload;
	size_t at = 0;
	k->control[0] = '\0';
	for (size_t i = 0; i < n && at < sizeof(k->control); i++)
		at += (size_t)snprintf(k->control + at, sizeof(k->control) - at, "%s%s",
				       i ? " " : "", argv[i]);
	return n && !strcmp(argv[0], "fail") ? vs_error_set(VS_EINVAL, "fail")
					     : vs_buf_puts(out, "fake");
}

static int setup(void **state)
{
	struct fake *k = calloc(1, sizeof(*k));
	struct xsd_engine_opts o;
	if (!k)
		return -1;
	k->deny_op = -1;
	k->deny_domid = UINT32_MAX;
	k->deny_target = UINT32_MAX;
	ef_default_opts(&o);
	o.mac = (struct xsd_mac_hooks){.check = fake_check,
				       .check_domain = fake_check_domain,
				       .label_new = fake_label_new,
				       .label_check = fake_label_check,
				       .node_changed = fake_changed,
				       .control = fake_control,
				       .payload = k};
	k->f = ef_new(&o);
	*state = k;
	return 0;
}

static int teardown(void **state)
{
	struct fake *k = *state;
	ef_free(k->f);
	free(k);
	return 0;
}

/* Whether the check log holds exactly @want since index @from. */
static bool called(const struct fake *k, size_t from, const char *want)
{
	for (size_t i = from; i < k->ncalls; i++)
		if (!strcmp(k->calls[i], want))
			return true;
	return false;
}

static bool notified(const struct fake *k, const char *want)
{
	for (size_t i = 0; i < k->nchanged; i++)
		if (!strcmp(k->changed[i], want))
			return true;
	return false;
}

static void test_a_new_node_gets_its_label_and_checks_use_it(void **state)
{
	struct fake *k = *state;
	struct ef_conn *p = ef_priv(k->f);
	char label[256];
	unsigned int owner;

	assert_string_equal(ef_write(p, "/secret/a/b", "v"), "OK");
	assert_true(called(k, 0, "create 0 /secret secret"));
	assert_true(called(k, 0, "create 0 /secret/a/b secret"));
	assert_vs_ok(xsd_engine_stat(&owner, label, sizeof(label), k->f->e, "/secret/a"));
	assert_string_equal(label, "secret");
	assert_int_equal(owner, 0);
	assert_string_equal(ef_write(p, "/open/x", "v"), "OK");
	assert_vs_ok(xsd_engine_stat(NULL, label, sizeof(label), k->f->e, "/open/x"));
	assert_string_equal(label, "plain");
	/* The stored label goes to each check; a denial is EACCES, after DAC. */
	size_t from = k->ncalls;
	k->deny_label = "secret";
	assert_string_equal(ef_read(p, "/secret/a/b"), "EACCES");
	assert_true(called(k, from, "read 0 /secret/a/b secret"));
	assert_string_equal(ef_dir(p, "/secret"), "EACCES");
	assert_string_equal(ef_write(p, "/secret/a/b", "w"), "EACCES");
	assert_string_equal(ef_rm(p, "/secret/a"), "EACCES");
	assert_string_equal(ef_setperms(p, "/secret/a", "n0 r3"), "EACCES");
	assert_string_equal(ef_read(p, "/open/x"), "v");
	/* A missing node below a denied one: hidden as EACCES, checked quietly. */
	from = k->ncalls;
	struct ef_conn *g = ef_conn(k->f, 3, 0);
	k->deny_label = NULL;
	assert_string_equal(ef_setperms(p, "/open", "n0 r3"), "OK");
	k->deny_label = "plain";
	assert_string_equal(ef_read(g, "/open/none"), "EACCES");
	assert_true(called(k, from, "read 3 /open plain quiet"));
}

static void test_domain_requests_are_checked_on_their_target(void **state)
{
	struct fake *k = *state;
	struct ef_conn *p = ef_priv(k->f);

	assert_string_equal(ef_call(p, XSD_INTRODUCE, 0, "5 0 7"), "OK");
	assert_true(called(k, 0, "introduce 0 @domain:5"));
	assert_string_equal(ef_call(p, XSD_SET_TARGET, 0, "5 0"), "OK");
	assert_true(called(k, 0, "introduce 0 @domain:0"));
	assert_string_equal(ef_call(p, XSD_RESUME, 0, "5"), "OK");
	assert_true(called(k, 0, "release 0 @domain:5"));
	k->deny_target = 6;
	assert_string_equal(ef_call(p, XSD_INTRODUCE, 0, "6 0 7"), "EACCES");
	assert_string_equal(ef_call(p, XSD_IS_DOMAIN_INTRODUCED, 0, "6"), "EACCES");
	assert_int_equal(k->f->nintroduced, 1);
	k->deny_target = 5;
	assert_string_equal(ef_call(p, XSD_RELEASE, 0, "5"), "EACCES");
	assert_int_equal(k->f->nreleased, 0);
	k->deny_target = UINT32_MAX;
	assert_string_equal(ef_call(p, XSD_RELEASE, 0, "5"), "OK");
	assert_true(called(k, 0, "release 0 @domain:5"));
	/* A malformed domid is the request's EINVAL, not the policy's. */
	assert_string_equal(ef_call(p, XSD_RELEASE, 0, "x"), "EINVAL");
}

static void test_control_and_quota_are_checked_on_the_daemon(void **state)
{
	struct fake *k = *state;
	struct ef_conn *p = ef_priv(k->f);

	assert_string_equal(ef_call(p, XSD_CONTROL, 0, "mac status now"), "fake");
	assert_string_equal(k->control, "status now");
	assert_true(called(k, 0, "control 0 - -"));
	assert_string_equal(ef_call(p, XSD_CONTROL, 0, "mac fail"), "EINVAL");
	k->deny_op = XSD_MAC_CONTROL;
	assert_string_equal(ef_call(p, XSD_CONTROL, 0, "mac status"), "EACCES");
	assert_string_equal(ef_call(p, XSD_GET_QUOTA, 0, "nodes"), "EACCES");
	assert_string_equal(ef_call(p, XSD_CONTROL, 0, "check"), "EACCES");
}

static void test_relabel_is_a_checked_change_with_a_commit(void **state)
{
	struct fake *k = *state;
	struct ef_conn *p = ef_priv(k->f), *w = ef_conn(k->f, 0, XSD_CONN_PRIV);
	char label[256];

	assert_string_equal(ef_write(p, "/open/x", "v"), "OK");
	assert_string_equal(ef_watch(w, "/open/x", "t"), "OK");
	ef_drain(w);
	size_t commits = ef_ncommits(k->f), from = k->ncalls;
	assert_string_equal(ef_call(p, XSD_CONTROL, 0, "mac relabel /open/x secret"), "OK");
	assert_true(called(k, from, "relabel 0 /open/x plain"));
	assert_true(called(k, from, "relabel 0 /open/x secret"));
	assert_vs_ok(xsd_engine_stat(NULL, label, sizeof(label), k->f->e, "/open/x"));
	assert_string_equal(label, "secret");
	assert_int_equal(ef_ncommits(k->f), commits + 1);
	struct vs_commit *c = ef_head(k->f);
	assert_non_null(strstr(vs_commit_message(c), "Xs-Op: CONTROL"));
	vs_commit_free(c);
	assert_string_equal(ef_event(w), "/open/x t");
	/* The same label again: nothing to commit. */
	assert_string_equal(ef_call(p, XSD_CONTROL, 0, "mac relabel /open/x secret"),
			    "OK: unchanged");
	assert_int_equal(ef_ncommits(k->f), commits + 1);
	/* Refused: on the old label, on the new one, an unknown label, no node. */
	k->deny_label = "secret";
	assert_string_equal(ef_call(p, XSD_CONTROL, 0, "mac relabel /open/x plain"), "EACCES");
	k->deny_label = "other";
	assert_string_equal(ef_call(p, XSD_CONTROL, 0, "mac relabel /open/x other"), "EACCES");
	assert_string_equal(ef_call(p, XSD_CONTROL, 0, "mac relabel /open/x bad!"), "EINVAL");
	assert_string_equal(ef_call(p, XSD_CONTROL, 0, "mac relabel /open/none x"), "ENOENT");
	assert_string_equal(ef_call(p, XSD_CONTROL, 0, "mac relabel /open/x"), "EINVAL");
	assert_int_equal(ef_ncommits(k->f), commits + 1);
	assert_vs_ok(xsd_engine_stat(NULL, label, sizeof(label), k->f->e, "/open/x"));
	assert_string_equal(label, "secret");
	/* The label survives a restart: it is in the node's metadata. */
	ef_restart(k->f);
	assert_vs_ok(xsd_engine_stat(NULL, label, sizeof(label), k->f->e, "/open/x"));
	assert_string_equal(label, "secret");
}

static void test_head_changes_are_reported_with_who_made_them(void **state)
{
	struct fake *k = *state;
	struct ef_conn *p = ef_priv(k->f), *g = ef_conn(k->f, 3, 0);

	assert_string_equal(ef_mkdir(p, "/local/domain/3"), "OK");
	assert_string_equal(ef_setperms(p, "/local/domain/3", "n3"), "OK");
	assert_true(notified(k, "/local/domain/3 0 priv"));
	assert_true(notified(k, "/local/domain 0 priv")); /* implied parents too */
	assert_string_equal(ef_write(g, "name", "me"), "OK");
	assert_true(notified(k, "/local/domain/3/name 3 guest"));
	/* A transaction reports at its commit, not before, and never when aborted. */
	uint32_t tx = ef_txn_start(g);
	assert_string_equal(ef_write_tx(g, tx, "/local/domain/3/a", "1"), "OK");
	assert_false(notified(k, "/local/domain/3/a 3 guest"));
	assert_string_equal(ef_txn_end(g, tx, true), "OK");
	assert_true(notified(k, "/local/domain/3/a 3 guest"));
	tx = ef_txn_start(g);
	assert_string_equal(ef_write_tx(g, tx, "/local/domain/3/b", "1"), "OK");
	assert_string_equal(ef_txn_end(g, tx, false), "OK");
	assert_false(notified(k, "/local/domain/3/b 3 guest"));
	/* Removal reports every node of the subtree. */
	assert_string_equal(ef_rm(p, "/local/domain/3"), "OK");
	assert_true(notified(k, "/local/domain/3/name 0 priv removed"));
	assert_true(notified(k, "/local/domain/3 0 priv removed"));
}

static void test_privileged_reads_see_the_head_without_checks(void **state)
{
	struct fake *k = *state;
	struct ef_conn *p = ef_priv(k->f);
	struct vs_buf b = VS_BUF_INIT;
	unsigned int owner;
	char small[4];

	assert_string_equal(ef_write(p, "/d/one", "1"), "OK");
	assert_string_equal(ef_write(p, "/d/two", "22"), "OK");
	k->deny_op = XSD_MAC_READ; /* the engine's own reads are not requests */
	size_t from = k->ncalls;
	assert_vs_ok(xsd_engine_read(&b, k->f->e, "/d/two"));
	assert_int_equal(b.size, 2);
	assert_memory_equal(b.ptr, "22", 2);
	assert_int_equal(xsd_engine_directory(&b, k->f->e, "/d"), 2);
	assert_int_equal(b.size, 8);
	assert_memory_equal(b.ptr, "one\0two\0", 8);
	assert_int_equal(xsd_engine_directory(&b, k->f->e, "/d/one"), 0);
	assert_int_equal(b.size, 0);
	assert_vs_ok(xsd_engine_stat(&owner, NULL, 0, k->f->e, "@releaseDomain"));
	assert_int_equal(owner, 0);
	assert_int_equal(k->ncalls, from);
	assert_vs_err(VS_ENOENT, xsd_engine_read(&b, k->f->e, "/d/three"));
	assert_vs_err(VS_ENOENT, xsd_engine_directory(&b, k->f->e, "/none"));
	assert_vs_err(VS_EINVAL, xsd_engine_read(&b, k->f->e, "d/two"));
	assert_vs_err(VS_EINVAL, xsd_engine_stat(NULL, NULL, 0, k->f->e, "/d/"));
	assert_vs_err(VS_EINVAL, xsd_engine_stat(NULL, small, sizeof(small), k->f->e, "/d/one"));
	/* Special nodes are no children of "/". */
	assert_int_equal(xsd_engine_directory(&b, k->f->e, "/"), 2);
	assert_memory_equal(b.ptr, "tool\0d\0", 7);
	vs_buf_release(&b);
}

static void test_watch_events_are_filtered_by_the_policy(void **state)
{
	struct fake *k = *state;
	struct ef_conn *p = ef_priv(k->f), *g = ef_conn(k->f, 3, 0);

	assert_string_equal(ef_mkdir(p, "/open"), "OK");
	assert_string_equal(ef_setperms(p, "/open", "n0 r3"), "OK"); /* DAC: 3 reads it all */
	assert_string_equal(ef_watch(g, "/open", "w"), "OK");
	ef_drain(g);
	k->deny_domid = 3;
	k->deny_label = "secret";
	size_t from = k->ncalls;
	assert_string_equal(ef_write(p, "/open/secret", "s"), "OK");
	assert_string_equal(ef_write(p, "/open/plain", "p"), "OK");
	/* Only the node it may read is named to it; the other was asked quietly. */
	assert_string_equal(ef_event(g), "/open/plain w");
	assert_int_equal(ef_nevents(g), 0);
	assert_true(called(k, from, "read 3 /open/secret secret quiet"));
	/* Watching a node not created yet: the label it would be created with. */
	assert_string_equal(ef_watch(g, "/open/secret/later", "s"), "EACCES");
	assert_true(called(k, from, "watch 3 /open/secret/later secret"));
	assert_string_equal(ef_watch(g, "/open/later", "s"), "OK");
	ef_drain(g);
	/* Removed: the label it had decides. */
	assert_string_equal(ef_rm(p, "/open/secret"), "OK");
	assert_int_equal(ef_nevents(g), 0);
	k->deny_label = NULL;
	assert_string_equal(ef_rm(p, "/open/plain"), "OK");
	assert_string_equal(ef_event(g), "/open/plain w");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_a_new_node_gets_its_label_and_checks_use_it, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_domain_requests_are_checked_on_their_target, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_control_and_quota_are_checked_on_the_daemon, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_relabel_is_a_checked_change_with_a_commit, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_head_changes_are_reported_with_who_made_them,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_privileged_reads_see_the_head_without_checks,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_watch_events_are_filtered_by_the_policy, setup,
					    teardown),
	};
	return cmocka_run_group_tests_name("xsd.engine_mac", tests, NULL, NULL);
}
