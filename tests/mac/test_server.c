/* SPDX-License-Identifier: MIT */
/*
 * The security server around the decisions: the cache (hits, flush on
 * reload), atomic reload (a tightened policy acts on the next check; a
 * refused one changes nothing), enforcing and permissive modes, and the
 * audit lines: format, grants on request, quiet checks, sanitising, and
 * rate limiting against a fake clock (per line, in total, on eviction).
 */
#include "mac_fixture.h"

static const char *const small_policy = "label dom0_t guest_t home_t\n"
					"domain 0 dom0_t\n"
					"domain default guest_t\n"
					"path /home/$self/** home_t\n"
					"allow dom0_t * *\n"
					"allow guest_t home_t { read write } if self\n"
					"allow guest_t home_t read\n";

struct fixture {
	struct mac_policy *policy;
	struct mac_server *server;
	struct sink sink;
	uint64_t now;
};

static int setup_opts(void **state, unsigned int burst, unsigned int total)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct mac_server_opts opts = MAC_SERVER_OPTS_INIT;

	assert_non_null(f);
	f->policy = policy_from(small_policy);
	f->now = 1000;
	opts.audit = sink_fn;
	opts.audit_payload = &f->sink;
	opts.audit_burst = burst;
	opts.audit_total = total;
	opts.audit_interval_ms = 1000;
	opts.clock = fake_clock;
	opts.clock_payload = &f->now;
	assert_vs_ok(mac_server_new(&f->server, f->policy, &opts));
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_opts(state, 3, 100);
}

static int setup_total(void **state)
{
	return setup_opts(state, 3, 4);
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

static void test_cache_answers_repeated_pairs_and_reload_flushes_it(void **state)
{
	struct fixture *f = *state;
	struct mac_stats st;

	assert_vs_ok(mac_check(f->server, 5, MAC_OP_READ, "/home/5/x", "home_t:5", 0));
	mac_server_stats(f->server, &st);
	assert_int_equal(st.cache_misses, 1);
	assert_int_equal(st.cache_hits, 0);
	/* the same label pair: another domain, another bound domid, another op */
	assert_vs_ok(mac_check(f->server, 6, MAC_OP_READ, "/home/5/x", "home_t:5", 0));
	assert_vs_ok(mac_check(f->server, 5, MAC_OP_WRITE, "/home/5/x", "home_t:5", 0));
	assert_vs_err(VS_EACCES, mac_check(f->server, 6, MAC_OP_WRITE, "/home/5/x", "home_t:7", 0));
	mac_server_stats(f->server, &st);
	assert_int_equal(st.cache_misses, 1);
	assert_int_equal(st.cache_hits, 3);
	assert_int_equal(st.checks, 4);
	assert_int_equal(st.denials, 1);
	assert_int_equal(st.policy_seq, 1);
	/* a new label pair misses */
	assert_vs_ok(mac_check(f->server, 0, MAC_OP_READ, "/home/5/x", "home_t:5", 0));
	mac_server_stats(f->server, &st);
	assert_int_equal(st.cache_misses, 2);

	/* a reload flushes: the same pairs miss again, under the new rules */
	struct mac_policy *tight = policy_from("label dom0_t guest_t home_t\n"
					       "domain 0 dom0_t\n"
					       "domain default guest_t\n"
					       "path /home/$self/** home_t\n"
					       "allow dom0_t * *\n"
					       "allow guest_t home_t { read write } if self\n");
	assert_vs_ok(mac_server_set_policy(f->server, tight));
	mac_policy_free(tight); /* the server keeps its own reference */
	assert_vs_err(VS_EACCES, mac_check(f->server, 6, MAC_OP_READ, "/home/5/x", "home_t:5", 0));
	assert_vs_ok(mac_check(f->server, 5, MAC_OP_READ, "/home/5/x", "home_t:5", 0));
	mac_server_stats(f->server, &st);
	assert_int_equal(st.policy_seq, 2);
	assert_int_equal(st.cache_misses, 3);
	assert_int_equal(st.cache_hits, 4);
}

static void test_reload_keeps_the_old_policy_when_refused(void **state)
{
	struct fixture *f = *state;
	const struct mac_policy *before = mac_server_policy(f->server);
	struct mac_policy *other = policy_from("label dom0_t\nallow dom0_t * *\n");

	assert_vs_ok(mac_domain_set_label(f->server, 9, "home_t"));
	assert_vs_err(VS_EINVAL, mac_server_set_policy(f->server, other));
	assert_non_null(strstr(vs_error_last()->message, "domain 9 has the label 'home_t'"));
	assert_ptr_equal(mac_server_policy(f->server), before);
	assert_vs_ok(mac_check(f->server, 6, MAC_OP_READ, "/home/5/x", "home_t:5", 0));
	/* once the label is gone, the same policy is taken */
	mac_domain_forget(f->server, 9);
	assert_vs_ok(mac_server_set_policy(f->server, other));
	assert_ptr_equal(mac_server_policy(f->server), other);
	assert_string_equal(mac_domain_label(f->server, 6), "unlabeled");
	assert_vs_err(VS_EACCES, mac_check(f->server, 6, MAC_OP_READ, "/home/6/x", NULL, 0));
	/* re-installing the policy in force is a reload like any other */
	assert_vs_ok(mac_server_set_policy(f->server, other));
	mac_policy_free(other);
	assert_ptr_equal(mac_server_policy(f->server), other);
	struct mac_stats st;
	mac_server_stats(f->server, &st);
	assert_int_equal(st.policy_seq, 3);
	assert_vs_err(VS_EINVAL, mac_server_set_policy(f->server, NULL));
}

static void test_denials_write_one_stable_audit_line(void **state)
{
	struct fixture *f = *state;

	assert_vs_err(VS_EACCES, mac_check(f->server, 6, MAC_OP_WRITE, "/home/5/x", "home_t:5", 0));
	assert_int_equal(f->sink.n, 1);
	assert_string_equal(f->sink.lines[0],
			    "mac: verdict=denied op=write domid=6 slabel=guest_t path=/home/5/x "
			    "tlabel=home_t:5 mode=enforcing");
	/* the message names the same facts */
	assert_string_equal(vs_error_last()->message,
			    "mac: write denied to domain 6 (guest_t) on /home/5/x (home_t:5)");
	/* grants are silent unless asked for */
	assert_vs_ok(mac_check(f->server, 5, MAC_OP_WRITE, "/home/5/x", "home_t:5", 0));
	assert_int_equal(f->sink.n, 1);
	mac_server_set_audit_grants(f->server, true);
	assert_vs_ok(mac_check(f->server, 5, MAC_OP_WRITE, "/home/5/x", NULL, 0));
	assert_int_equal(f->sink.n, 2);
	assert_string_equal(f->sink.lines[1],
			    "mac: verdict=granted op=write domid=5 slabel=guest_t path=/home/5/x "
			    "tlabel=home_t:5 mode=enforcing");
	/* quiet checks (watch event filtering) decide but never audit */
	assert_vs_err(VS_EACCES,
		      mac_check(f->server, 6, MAC_OP_WRITE, "/home/5/x", NULL, MAC_CHECK_QUIET));
	assert_vs_ok(mac_check(f->server, 5, MAC_OP_READ, "/home/5/x", NULL, MAC_CHECK_QUIET));
	assert_int_equal(f->sink.n, 2);
	/* bytes that would break the line become '?' */
	assert_vs_err(VS_EACCES, mac_check(f->server, 6, MAC_OP_CONTROL, "/a b\nc", "x y", 0));
	assert_string_equal(f->sink.lines[2],
			    "mac: verdict=denied op=control domid=6 slabel=guest_t path=/a?b?c "
			    "tlabel=x?y mode=enforcing");
	assert_vs_err(VS_EINVAL, mac_check(f->server, 6, MAC_OP_COUNT, "/a", NULL, 0));
	assert_vs_err(VS_EINVAL, mac_check(f->server, 6, MAC_OP_READ, NULL, NULL, 0));
}

static void test_permissive_mode_allows_but_audits(void **state)
{
	struct fixture *f = *state;
	struct mac_stats st;

	mac_server_set_mode(f->server, MAC_MODE_PERMISSIVE);
	assert_int_equal(mac_server_mode(f->server), MAC_MODE_PERMISSIVE);
	assert_vs_ok(mac_check(f->server, 6, MAC_OP_WRITE, "/home/5/x", "home_t:5", 0));
	assert_vs_ok(mac_check_domain(f->server, 6, MAC_OP_INTRODUCE, 7, 0));
	assert_vs_ok(mac_check(f->server, 6, MAC_OP_WRITE, "/home/5/x", NULL, MAC_CHECK_QUIET));
	assert_int_equal(f->sink.n, 2);
	assert_string_equal(f->sink.lines[0],
			    "mac: verdict=denied op=write domid=6 slabel=guest_t path=/home/5/x "
			    "tlabel=home_t:5 mode=permissive");
	assert_string_equal(f->sink.lines[1],
			    "mac: verdict=denied op=introduce domid=6 slabel=guest_t "
			    "path=@domain:7 tlabel=guest_t:7 mode=permissive");
	mac_server_stats(f->server, &st);
	assert_int_equal(st.denials, 3);
	mac_server_set_mode(f->server, MAC_MODE_ENFORCING);
	assert_vs_err(VS_EACCES, mac_check(f->server, 6, MAC_OP_WRITE, "/home/5/x", "home_t:5", 0));
}

static void test_identical_lines_are_rate_limited_with_a_summary(void **state)
{
	struct fixture *f = *state;
	struct mac_stats st;

	for (int i = 0; i < 10; i++)
		assert_vs_err(VS_EACCES,
			      mac_check(f->server, 6, MAC_OP_WRITE, "/home/5/x", "home_t:5", 0));
	assert_int_equal(f->sink.n, 3); /* the burst */
	/* another line has its own budget */
	assert_vs_err(VS_EACCES, mac_check(f->server, 6, MAC_OP_WRITE, "/home/5/y", NULL, 0));
	assert_int_equal(f->sink.n, 4);
	/* still inside the interval: dropped */
	f->now += 999;
	assert_vs_err(VS_EACCES, mac_check(f->server, 6, MAC_OP_WRITE, "/home/5/x", "home_t:5", 0));
	assert_int_equal(f->sink.n, 4);
	/* the next interval: the summary, then the line again */
	f->now += 1;
	assert_vs_err(VS_EACCES, mac_check(f->server, 6, MAC_OP_WRITE, "/home/5/x", "home_t:5", 0));
	assert_int_equal(f->sink.n, 6);
	assert_string_equal(f->sink.lines[4],
			    "mac: suppressed=8 verdict=denied op=write domid=6 slabel=guest_t "
			    "path=/home/5/x tlabel=home_t:5 mode=enforcing");
	assert_string_equal(f->sink.lines[5], f->sink.lines[0]);
	mac_server_stats(f->server, &st);
	assert_int_equal(st.audit_lines, 6);
	assert_int_equal(st.audit_suppressed, 8);
	/* the decision itself is never rate limited */
	assert_int_equal(st.denials, 13);
	/* a flush reports what is pending, once */
	for (int i = 0; i < 5; i++)
		assert_vs_err(VS_EACCES,
			      mac_check(f->server, 6, MAC_OP_WRITE, "/home/5/x", "home_t:5", 0));
	mac_audit_flush(f->server);
	mac_audit_flush(f->server);
	assert_int_equal(f->sink.n, 9);
	assert_non_null(strstr(f->sink.lines[8], "mac: suppressed=3 verdict=denied op=write"));
}

static void test_total_limit_caps_distinct_lines(void **state)
{
	struct fixture *f = *state;
	char path[64];

	for (int i = 0; i < 10; i++) {
		snprintf(path, sizeof(path), "/home/5/n%d", i);
		assert_vs_err(VS_EACCES, mac_check(f->server, 6, MAC_OP_WRITE, path, NULL, 0));
	}
	assert_int_equal(f->sink.n, 4);
	f->now += 1000;
	assert_vs_err(VS_EACCES, mac_check(f->server, 6, MAC_OP_WRITE, "/home/5/z", NULL, 0));
	assert_int_equal(f->sink.n, 6);
	assert_string_equal(f->sink.lines[4], "mac: suppressed=6 scope=all");
	assert_non_null(strstr(f->sink.lines[5], "path=/home/5/z "));
}

static void test_evicted_keys_report_their_drops(void **state)
{
	struct fixture *f = *state;
	char path[64];

	for (int i = 0; i < 5; i++)
		assert_vs_err(VS_EACCES,
			      mac_check(f->server, 6, MAC_OP_WRITE, "/home/5/a", NULL, 0));
	assert_int_equal(f->sink.n, 3);
	/* 256 other lines, in later intervals so the total limit stays out of the way */
	for (int i = 0; i < 256; i++) {
		if (i % 50 == 0)
			f->now += 1000;
		snprintf(path, sizeof(path), "/home/5/k%d", i);
		assert_vs_err(VS_EACCES, mac_check(f->server, 6, MAC_OP_WRITE, path, NULL, 0));
	}
	bool found = false;
	for (size_t i = 3; i < f->sink.n; i++)
		found |= strstr(f->sink.lines[i], "suppressed=2 ") &&
			 strstr(f->sink.lines[i], "path=/home/5/a ");
	assert_true(found);
}

static void test_server_rejects_bad_options(void **state)
{
	struct mac_policy *p = policy_from(small_policy);
	struct mac_server_opts opts = MAC_SERVER_OPTS_INIT;
	struct mac_server *s = (struct mac_server *)&opts;

	opts.version = 99;
	assert_vs_err(VS_EINVAL, mac_server_new(&s, p, &opts));
	assert_null(s);
	assert_vs_err(VS_EINVAL, mac_server_new(&s, NULL, NULL));
	assert_vs_ok(mac_server_new(&s, p, NULL)); /* defaults: enforcing, no sink */
	assert_int_equal(mac_server_mode(s), MAC_MODE_ENFORCING);
	assert_vs_err(VS_EACCES, mac_check(s, 6, MAC_OP_WRITE, "/x", NULL, 0));
	struct mac_stats st;
	mac_server_stats(s, &st);
	assert_int_equal(st.audit_lines, 1); /* counted even without a sink */
	mac_server_free(s);
	mac_server_free(NULL);
	mac_policy_free(p);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_cache_answers_repeated_pairs_and_reload_flushes_it,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_keeps_the_old_policy_when_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_denials_write_one_stable_audit_line, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_permissive_mode_allows_but_audits, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_identical_lines_are_rate_limited_with_a_summary,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_total_limit_caps_distinct_lines, setup_total,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_evicted_keys_report_their_drops, setup, teardown),
	    cmocka_unit_test(test_server_rejects_bad_options),
	};

	return cmocka_run_group_tests_name("mac.server", tests, NULL, NULL);
}
