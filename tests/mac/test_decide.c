/* SPDX-License-Identifier: MIT */
/*
 * Decisions, table-driven: the shipped xen-host.policy (dom0, guests,
 * a driver domain serving a guest's vif), node labelling (specificity,
 * $self, inheritance), domain labelling (domid, name, default, explicit),
 * device pairing through a fake oracle, and domain-object checks.
 */
#include "mac_fixture.h"

/* Domains of the shipped-policy scenario. */
#define DOM0 0u
#define DRIVER 3u /* named "driver-net": driver_t; serves guest 5's vif */
#define G5 5u
#define G6 6u
#define LABELLED 7u /* explicit label driver_t, serves nobody */

struct fixture {
	struct mac_policy *policy;
	struct mac_server *server;
	struct fake_pairs pairs;
	struct sink sink;
};

static int setup_shipped(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct mac_server_opts opts = MAC_SERVER_OPTS_INIT;

	assert_non_null(f);
	f->policy = policy_shipped();
	f->pairs.pairs[0][0] = DRIVER;
	f->pairs.pairs[0][1] = G5;
	f->pairs.n = 1;
	opts.serves = fake_serves;
	opts.serves_payload = &f->pairs;
	opts.audit = sink_fn;
	opts.audit_payload = &f->sink;
	opts.audit_burst = 1000;
	opts.audit_total = 1000;
	assert_vs_ok(mac_server_new(&f->server, f->policy, &opts));
	assert_vs_ok(mac_domain_set_name(f->server, DRIVER, "driver-net"));
	assert_vs_ok(mac_domain_set_name(f->server, G5, "web"));
	assert_vs_ok(mac_domain_set_label(f->server, LABELLED, "driver_t"));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	mac_server_free(f->server);
	mac_policy_free(f->policy);
	sink_clear(&f->sink);
	free(f);
	return 0;
}

struct row {
	unsigned int domid;
	enum mac_op op;
	const char *path;
	const char *label; /* stored label; NULL: computed from the path */
	bool allow;
};

static void run_rows(struct fixture *f, const struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		int rc = mac_check(f->server, r->domid, r->op, r->path, r->label, 0);

		if ((rc == 0) != r->allow)
			fail_msg("row %zu: domain %u %s %s (%s): got %s, want %s", i, r->domid,
				 mac_op_name(r->op), r->path, r->label ? r->label : "computed",
				 rc == 0 ? "allow" : vs_err_name(rc), r->allow ? "allow" : "deny");
		if (!r->allow)
			assert_int_equal(rc, VS_EACCES);
	}
}

static void test_shipped_policy_decisions_follow_the_table(void **state)
{
	static const struct row rows[] = {
	    /* dom0 and its toolstack: everywhere */
	    {DOM0, MAC_OP_WRITE, "/tool/xenstored", NULL, true},
	    {DOM0, MAC_OP_CREATE, "/local/domain/5/data/x", "home_t:5", true},
	    {DOM0, MAC_OP_SETPERM, "/local/domain/5/name", "name_t:5", true},
	    {DOM0, MAC_OP_WATCH, "@introduceDomain", NULL, true},
	    {DOM0, MAC_OP_WATCH, "@releaseDomain", NULL, true},
	    {DOM0, MAC_OP_CONTROL, "/tool/xenstored", NULL, true},
	    {DOM0, MAC_OP_RELABEL, "/local/domain/5/data/x", "home_t:5", true},
	    {DOM0, MAC_OP_READ, "/vm/uuid/name", "unlabeled", true},
	    /* a guest in its own home, as DAC allows */
	    {G5, MAC_OP_READ, "/local/domain/5/data/x", "home_t:5", true},
	    {G5, MAC_OP_WRITE, "/local/domain/5/data/x", "home_t:5", true},
	    {G5, MAC_OP_CREATE, "/local/domain/5/data/y", NULL, true},
	    {G5, MAC_OP_REMOVE, "/local/domain/5/data", "home_t:5", true},
	    {G5, MAC_OP_LIST, "/local/domain/5", "home_t:5", true},
	    {G5, MAC_OP_WATCH, "/local/domain/5/control", NULL, true},
	    {G5, MAC_OP_SETPERM, "/local/domain/5/data/x", "home_t:5", true},
	    {G5, MAC_OP_READ, "/local/domain/5/name", "name_t:5", true},
	    {G5, MAC_OP_WRITE, "/local/domain/5/name", "name_t:5", false},
	    {G5, MAC_OP_RELABEL, "/local/domain/5/data/x", "home_t:5", false},
	    /* ...but not another guest's home, whatever its owner granted */
	    {G6, MAC_OP_READ, "/local/domain/5/data/x", "home_t:5", false},
	    {G6, MAC_OP_WRITE, "/local/domain/5/data/x", "home_t:5", false},
	    {G6, MAC_OP_LIST, "/local/domain/5", NULL, false},
	    {G6, MAC_OP_WATCH, "/local/domain/5/data", NULL, false},
	    {G6, MAC_OP_READ, "/local/domain/5/device/vif/0/state", NULL, false},
	    /* nobody but dom0 on the daemon's and the toolstack's nodes */
	    {G5, MAC_OP_WRITE, "/tool/xenstored", NULL, false},
	    {G5, MAC_OP_READ, "/tool/xenstored/quota", NULL, false},
	    {DRIVER, MAC_OP_CREATE, "/tool/xenstored/x", NULL, false},
	    {G5, MAC_OP_LIST, "/", NULL, false},
	    {G5, MAC_OP_LIST, "/local/domain", NULL, false},
	    {G5, MAC_OP_CONTROL, "/tool/xenstored", NULL, false},
	    {G5, MAC_OP_WATCH, "@introduceDomain", NULL, false},
	    {DRIVER, MAC_OP_WATCH, "@releaseDomain", NULL, false},
	    /* the frontend: its device nodes, and its backend's nodes for it */
	    {G5, MAC_OP_WRITE, "/local/domain/5/device/vif/0/state", NULL, true},
	    {G5, MAC_OP_READ, "/local/domain/3/backend/vif/5/0/state", NULL, true},
	    {G5, MAC_OP_WATCH, "/local/domain/3/backend/vif/5/0/state", NULL, true},
	    {G5, MAC_OP_WRITE, "/local/domain/3/backend/vif/5/0/state", NULL, false},
	    {G6, MAC_OP_READ, "/local/domain/3/backend/vif/5/0/state", NULL, false},
	    {G6, MAC_OP_CREATE, "/local/domain/6/backend/vif/5/0/state", NULL, false},
	    /* the driver domain: the devices it serves, and its own home */
	    {DRIVER, MAC_OP_READ, "/local/domain/5/device/vif/0/ring-ref", NULL, true},
	    {DRIVER, MAC_OP_WATCH, "/local/domain/5/device/vif/0/state", NULL, true},
	    {DRIVER, MAC_OP_WRITE, "/local/domain/5/device/vif/0/state", NULL, false},
	    {DRIVER, MAC_OP_WRITE, "/local/domain/3/backend/vif/5/0/state", NULL, true},
	    {DRIVER, MAC_OP_CREATE, "/local/domain/3/backend/vif/5/0/feature-sg", NULL, true},
	    {DRIVER, MAC_OP_READ, "/local/domain/3/control/shutdown", NULL, true},
	    {DRIVER, MAC_OP_LIST, "/local/domain/3/backend/vif", NULL, true},
	    {DRIVER, MAC_OP_READ, "/local/domain/6/device/vif/0/state", NULL, false},
	    {DRIVER, MAC_OP_WRITE, "/local/domain/3/backend/vif/6/0/state", NULL, false},
	    {DRIVER, MAC_OP_READ, "/local/domain/5/data/x", NULL, false},
	    {DRIVER, MAC_OP_SETPERM, "/local/domain/3/backend/vif/5/0/state", NULL, false},
	    /* an explicit label: driver_t, but serving nobody */
	    {LABELLED, MAC_OP_READ, "/local/domain/5/device/vif/0/state", NULL, false},
	    {LABELLED, MAC_OP_WRITE, "/local/domain/7/data", NULL, true},
	    /* labels the policy does not know act as unlabeled: dom0 only */
	    {G5, MAC_OP_READ, "/local/domain/5/old", "old_t:5", false},
	    {G5, MAC_OP_READ, "/local/domain/5/old", "home_t:05", false},
	    {DOM0, MAC_OP_READ, "/local/domain/5/old", "old_t:5", true},
	};

	run_rows(*state, rows, ARRAY_SIZE(rows));
}

static void test_shipped_policy_domain_checks_are_dom0s(void **state)
{
	struct fixture *f = *state;

	assert_vs_ok(mac_check_domain(f->server, DOM0, MAC_OP_INTRODUCE, G5, 0));
	assert_vs_ok(mac_check_domain(f->server, DOM0, MAC_OP_RELEASE, DRIVER, 0));
	assert_vs_err(VS_EACCES, mac_check_domain(f->server, G5, MAC_OP_RELEASE, G5, 0));
	assert_vs_err(VS_EACCES, mac_check_domain(f->server, DRIVER, MAC_OP_INTRODUCE, G6, 0));
	assert_int_equal(f->sink.n, 2);
	assert_string_equal(f->sink.lines[0], "mac: verdict=denied op=release domid=5 "
					      "slabel=guest_t path=@domain:5 tlabel=guest_t:5 "
					      "mode=enforcing");
}

static void test_domain_labels_by_id_name_default_and_explicit(void **state)
{
	struct fixture *f = *state;

	assert_string_equal(mac_domain_label(f->server, DOM0), "dom0_t");
	assert_string_equal(mac_domain_label(f->server, DRIVER), "driver_t");
	assert_string_equal(mac_domain_label(f->server, G5), "guest_t");
	assert_string_equal(mac_domain_label(f->server, 42), "guest_t");
	assert_string_equal(mac_domain_label(f->server, LABELLED), "driver_t");
	/* renaming re-resolves; forgetting falls back to the default */
	assert_vs_ok(mac_domain_set_name(f->server, G6, "driver-disk"));
	assert_string_equal(mac_domain_label(f->server, G6), "driver_t");
	assert_vs_ok(mac_domain_set_name(f->server, G6, "db"));
	assert_string_equal(mac_domain_label(f->server, G6), "guest_t");
	mac_domain_forget(f->server, DRIVER);
	assert_string_equal(mac_domain_label(f->server, DRIVER), "guest_t");
	/* the explicit label beats even the domid rule, and can be removed */
	assert_vs_ok(mac_domain_set_label(f->server, DOM0, "guest_t"));
	assert_string_equal(mac_domain_label(f->server, DOM0), "guest_t");
	assert_vs_ok(mac_domain_set_label(f->server, DOM0, NULL));
	assert_string_equal(mac_domain_label(f->server, DOM0), "dom0_t");
	/* only declared label names */
	assert_vs_err(VS_EINVAL, mac_domain_set_label(f->server, G5, "nope_t"));
	assert_vs_err(VS_EINVAL, mac_domain_set_label(f->server, G5, "home_t:5"));
	assert_vs_err(VS_EINVAL, mac_domain_set_label(f->server, 0x7FF0, "guest_t"));
	assert_string_equal(mac_domain_label(f->server, G5), "guest_t");
}

static void test_domain_name_rules_exact_then_longest_glob(void **state)
{
	struct mac_policy *p = policy_from("label a b c d e\n"
					   "domain name \"db*\" a\n"
					   "domain name db-primary b\n"
					   "domain name \"db-*\" c\n"
					   "domain name \"*\" d\n"
					   "domain 9 e\n");
	static const struct {
		unsigned int domid;
		const char *name, *want;
	} cases[] = {
	    {1, "db-primary", "b"}, {1, "db-replica", "c"}, {1, "dbx", "a"}, {1, "web", "d"},
	    {1, NULL, "unlabeled"}, {9, "db-primary", "e"}, {1, "", "d"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		assert_string_equal(mac_policy_domain_label(p, cases[i].domid, cases[i].name),
				    cases[i].want);
	mac_policy_free(p);
	(void)state;
}

static void test_most_specific_pattern_labels_the_node(void **state)
{
	struct mac_policy *p = policy_from("label any one two lit self deep sp root\n"
					   "path /** any\n"
					   "path / root\n"
					   "path /x/* one\n"
					   "path /x/*/* two\n"
					   "path /x/y lit\n"
					   "path /x/$self self\n"
					   "path /x/$self/** deep\n"
					   "path /p/q/* lit\n"
					   "path /p/*/r one\n"
					   "path /a/**  any\n"
					   "path /a/*/** two\n"
					   "path @releaseDomain sp\n");
	static const struct {
		const char *path, *want;
	} cases[] = {
	    {"/", "root"}, /* "/" beats the catch-all (no double star) */
	    {"/z", "any"},
	    {"/x", "any"},
	    {"/x/y", "lit"},	 /* literal beats $self and * */
	    {"/x/5", "self:5"},	 /* $self beats * */
	    {"/x/05", "one"},	 /* not a canonical domid: * */
	    {"/x/32752", "one"}, /* beyond the domid range */
	    {"/x/32751", "self:32751"},
	    {"/x/5/q", "deep:5"}, /* same literals: $self beats two stars */
	    {"/x/y/q", "two"},
	    {"/p/q/r", "lit"}, /* same counts: the leftmost literal wins */
	    {"/a", "any"},     /* ** matches zero components */
	    {"/a/b", "two"},   /* more * beats fewer */
	    {"/a/b/c/d", "two"},
	    {"@releaseDomain", "sp"},
	    {"@introduceDomain", "unlabeled"},
	};
	char out[MAC_LABEL_MAX + 1];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		mac_policy_label_node(p, out, cases[i].path, NULL);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("%s: got %s, want %s", cases[i].path, out, cases[i].want);
	}
	mac_policy_free(p);
	(void)state;
}

static void test_unmatched_nodes_inherit_the_parent_label(void **state)
{
	struct mac_policy *p = policy_from("label top home\n"
					   "path /top top\n"
					   "path /h/$self home\n");
	char out[MAC_LABEL_MAX + 1];

	mac_policy_label_node(p, out, "/top/a", "home:4"); /* bound labels pass down */
	assert_string_equal(out, "home:4");
	mac_policy_label_node(p, out, "/top/a", "gone_t"); /* verbatim, even unknown */
	assert_string_equal(out, "gone_t");
	mac_policy_label_node(p, out, "/top/a", "bad label"); /* not label text */
	assert_string_equal(out, "unlabeled");
	mac_policy_label_node(p, out, "/top/a/b", NULL); /* no parent label: nearest ancestor */
	assert_string_equal(out, "top");
	mac_policy_label_node(p, out, "/h/9/x/y", NULL);
	assert_string_equal(out, "home:9");
	mac_policy_label_node(p, out, "/other", NULL);
	assert_string_equal(out, "unlabeled");
	mac_policy_label_node(p, out, "/h/9", "top"); /* a match beats the parent */
	assert_string_equal(out, "home:9");
	mac_policy_free(p);
	(void)state;
}

static void test_conditions_self_serves_served(void **state)
{
	struct mac_policy *p = policy_from("label s o\n"
					   "allow s o read\n"
					   "allow s o write if self\n"
					   "allow s o create if serves\n"
					   "allow s o remove if served\n");
	struct fake_pairs pairs = {.pairs = {{2, 9}}, .n = 1};
	static const struct {
		unsigned int domid;
		enum mac_op op;
		const char *tlabel;
		bool allow;
		unsigned int calls; /* oracle calls this row may make */
	} rows[] = {
	    {2, MAC_OP_READ, "o", true, 0},
	    {2, MAC_OP_READ, "o:7", true, 0},
	    {7, MAC_OP_WRITE, "o:7", true, 0},
	    {2, MAC_OP_WRITE, "o:7", false, 0},
	    {2, MAC_OP_WRITE, "o", false, 0},	 /* unbound: no condition holds */
	    {2, MAC_OP_CREATE, "o:9", true, 1},	 /* 2 serves 9 */
	    {9, MAC_OP_CREATE, "o:2", false, 1}, /* 9 does not serve 2 */
	    {9, MAC_OP_REMOVE, "o:2", true, 1},	 /* 9 is served by 2 */
	    {2, MAC_OP_REMOVE, "o:9", false, 1},
	    {2, MAC_OP_LIST, "o:9", false, 0}, /* no rule at all: oracle not asked */
	    {2, MAC_OP_READ, "s:9", false, 0},
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		pairs.calls = 0;
		bool got = mac_policy_decide(p, "s", rows[i].domid, rows[i].op, rows[i].tlabel,
					     fake_serves, &pairs);
		if (got != rows[i].allow || pairs.calls > rows[i].calls)
			fail_msg("row %zu: got %d with %u oracle calls", i, got, pairs.calls);
	}
	/* without an oracle, pairing rules never apply */
	assert_false(mac_policy_decide(p, "s", 2, MAC_OP_CREATE, "o:9", NULL, NULL));
	assert_false(mac_policy_decide(p, "s", 2, MAC_OP_COUNT, "o", NULL, NULL));
	mac_policy_free(p);
	(void)state;
}

static void test_sets_complements_and_wildcards(void **state)
{
	struct mac_policy *p = policy_from("label a b c x y\n"
					   "allow ~a { x y } { read list }\n"
					   "allow ~{ a b } * write\n"
					   "allow * ~x watch\n"
					   "allow a x *\n");
	static const struct {
		const char *s, *t;
		enum mac_op op;
		bool allow;
	} rows[] = {
	    {"b", "x", MAC_OP_READ, true},	    {"a", "y", MAC_OP_READ, false},
	    {"c", "unlabeled", MAC_OP_WRITE, true}, {"b", "x", MAC_OP_WRITE, false},
	    {"a", "y", MAC_OP_WATCH, true},	    {"unlabeled", "x", MAC_OP_WATCH, false},
	    {"a", "x", MAC_OP_CONTROL, true},	    {"a", "y", MAC_OP_CONTROL, false},
	    {"nope", "y", MAC_OP_WRITE, true}, /* unknown subject: unlabeled, in ~{a b} */
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		if (mac_policy_decide(p, rows[i].s, 1, rows[i].op, rows[i].t, NULL, NULL) !=
		    rows[i].allow)
			fail_msg("row %zu: %s %s %s", i, rows[i].s, mac_op_name(rows[i].op),
				 rows[i].t);
	mac_policy_free(p);
	(void)state;
}

static void test_label_check_accepts_only_this_policys_labels(void **state)
{
	struct fixture *f = *state;
	const struct mac_policy *p = mac_server_policy(f->server);

	assert_vs_ok(mac_policy_label_check(p, "home_t"));
	assert_vs_ok(mac_policy_label_check(p, "home_t:32751"));
	assert_vs_ok(mac_policy_label_check(p, "unlabeled"));
	assert_vs_err(VS_EINVAL, mac_policy_label_check(p, "home_t:32752"));
	assert_vs_err(VS_EINVAL, mac_policy_label_check(p, "home_t:"));
	assert_vs_err(VS_EINVAL, mac_policy_label_check(p, "home_t:007"));
	assert_vs_err(VS_EINVAL, mac_policy_label_check(p, "nope_t"));
	assert_vs_err(VS_EINVAL, mac_policy_label_check(p, ""));
	assert_vs_err(VS_EINVAL, mac_policy_label_check(p, NULL));
}

static void test_op_and_mode_names_round_trip(void **state)
{
	for (int op = 0; op < MAC_OP_COUNT; op++)
		assert_int_equal(mac_op_from_name(mac_op_name(op)), op);
	assert_vs_err(VS_EINVAL, mac_op_from_name("delete"));
	assert_string_equal(mac_op_name(MAC_OP_COUNT), "?");
	assert_int_equal(mac_mode_from_name("enforcing"), MAC_MODE_ENFORCING);
	assert_int_equal(mac_mode_from_name("permissive"), MAC_MODE_PERMISSIVE);
	assert_string_equal(mac_mode_name(MAC_MODE_PERMISSIVE), "permissive");
	assert_vs_err(VS_EINVAL, mac_mode_from_name("disabled"));
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_shipped_policy_decisions_follow_the_table,
					    setup_shipped, teardown),
	    cmocka_unit_test_setup_teardown(test_shipped_policy_domain_checks_are_dom0s,
					    setup_shipped, teardown),
	    cmocka_unit_test_setup_teardown(test_domain_labels_by_id_name_default_and_explicit,
					    setup_shipped, teardown),
	    cmocka_unit_test(test_domain_name_rules_exact_then_longest_glob),
	    cmocka_unit_test(test_most_specific_pattern_labels_the_node),
	    cmocka_unit_test(test_unmatched_nodes_inherit_the_parent_label),
	    cmocka_unit_test(test_conditions_self_serves_served),
	    cmocka_unit_test(test_sets_complements_and_wildcards),
	    cmocka_unit_test_setup_teardown(test_label_check_accepts_only_this_policys_labels,
					    setup_shipped, teardown),
	    cmocka_unit_test(test_op_and_mode_names_round_trip),
	};

	return cmocka_run_group_tests_name("mac.decide", tests, NULL, NULL);
}
