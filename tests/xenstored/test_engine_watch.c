/* SPDX-License-Identifier: MIT */
/*
 * Watches: the initial event, which changes fire which watches (subtree,
 * depth, recursive removal), relative paths, transactions, the permission
 * filter, duplicates, the payload limit and the special watches
 * @introduceDomain / @releaseDomain.
 */
#include "engine_fixture.h"

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Every queued event of @c, "path token" each, sorted (the order between
 * watches is not specified) and joined by '|', in a static buffer.
 */
static const char *events(struct ef_conn *c)
{
	static char buf[16384];
	char *v[64];
	const char *e;
	size_t n = 0, len = 0;

	while ((e = ef_event(c))) {
		assert_true(n < 64);
		v[n] = strdup(e);
		assert_non_null(v[n++]);
	}
	qsort(v, n, sizeof(v[0]), str_cmp);
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]);
		assert_true(len + l + 2 < sizeof(buf));
		if (i)
			buf[len++] = '|';
		memcpy(buf + len, v[i], l + 1);
		len += l;
		free(v[i]);
	}
	return buf;
}

static void test_a_new_watch_fires_once_at_once(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *g = ef_conn(f, 3, 0);

	assert_string_equal(ef_watch(p, "/w", "tok"), "OK");
	assert_string_equal(events(p), "/w tok");
	/* Also for a missing node, and for one the watcher cannot read (4.17). */
	assert_string_equal(ef_write(p, "/priv/x", "v"), "OK");
	assert_string_equal(ef_watch(g, "/nonexistent/x", "t1"), "OK");
	assert_string_equal(ef_watch(g, "/priv", "t2"), "OK");
	assert_string_equal(events(g), "/nonexistent/x t1|/priv t2");
	assert_string_equal(events(p), "");
}

static void test_a_watch_fires_for_changes_in_its_subtree(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *q = ef_priv(f);

	assert_string_equal(ef_mkdir(p, "/a"), "OK");
	assert_string_equal(ef_watch(p, "/a", "t"), "OK");
	ef_drain(p);
	assert_string_equal(ef_write(q, "/a/x", "1"), "OK");
	assert_string_equal(events(p), "/a/x t");
	assert_string_equal(ef_write(q, "/a", "v"), "OK");
	assert_string_equal(events(p), "/a t");
	assert_string_equal(ef_setperms(q, "/a/x", "n0 r1"), "OK");
	assert_string_equal(events(p), "/a/x t");
	/* Not for a sibling that shares the prefix, nor for a mere read. */
	assert_string_equal(ef_write(q, "/ab", "1"), "OK");
	assert_string_equal(ef_read(q, "/a/x"), "1");
	assert_string_equal(events(p), "");
	/* A write that creates parents fires for the node written (4.17 fires only that). */
	assert_string_equal(ef_write(q, "/a/b/c", "v"), "OK");
	assert_non_null(strstr(events(p), "/a/b/c t"));
	/* Rewriting the same value fires (4.17 does), though nothing is committed. */
	size_t n = ef_ncommits(f);
	assert_string_equal(ef_write(q, "/a/x", "1"), "OK");
	assert_string_equal(events(p), "/a/x t");
	assert_int_equal(ef_ncommits(f), n);
	/* An existing node made again changes nothing, fires nothing (4.17 too). */
	assert_string_equal(ef_mkdir(q, "/a/b"), "OK");
	assert_string_equal(events(p), "");
}

static void test_watch_depth_limits_the_levels_below(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *q = ef_priv(f);

	assert_string_equal(ef_write(p, "/d/a/b", ""), "OK");
	assert_string_equal(ef_call(p, XSD_WATCH, 0, "/d zero 0"), "OK");
	assert_string_equal(ef_call(p, XSD_WATCH, 0, "/d one 1"), "OK");
	assert_string_equal(events(p), "/d one|/d zero");
	assert_string_equal(ef_write(q, "/d", "v"), "OK");
	assert_string_equal(events(p), "/d one|/d zero");
	assert_string_equal(ef_write(q, "/d/a", "v"), "OK");
	assert_string_equal(events(p), "/d/a one");
	assert_string_equal(ef_write(q, "/d/a/b", "v"), "OK");
	assert_string_equal(events(p), "");
	assert_string_equal(ef_call(p, XSD_WATCH, 0, "/d bad -1"), "EINVAL");
	assert_string_equal(ef_call(p, XSD_WATCH, 0, "/d bad x"), "EINVAL");
	assert_string_equal(ef_call(p, XSD_WATCH, 0, "/d bad 1 extra"), "EINVAL");
}

static void test_a_relative_watch_gets_relative_paths(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *g = ef_conn(f, 3, 0);

	assert_string_equal(ef_mkdir(p, "/local/domain/3"), "OK");
	assert_string_equal(ef_setperms(p, "/local/domain/3", "b3"), "OK");
	assert_string_equal(ef_watch(g, "data", "rel"), "OK");
	assert_string_equal(ef_watch(g, "/local/domain/3/data", "abs"), "OK");
	assert_string_equal(events(g), "/local/domain/3/data abs|data rel");
	assert_string_equal(ef_write(g, "data/a", "v"), "OK");
	assert_string_equal(events(g), "/local/domain/3/data/a abs|data/a rel");
	assert_string_equal(ef_write(p, "/local/domain/3/data/b", "v"), "OK");
	assert_string_equal(events(g), "/local/domain/3/data/b abs|data/b rel");
	/* Relative and absolute name the same watch. */
	assert_string_equal(ef_watch(g, "/local/domain/3/data", "rel"), "EEXIST");
	assert_string_equal(ef_unwatch(g, "/local/domain/3/data", "rel"), "OK");
	assert_string_equal(ef_unwatch(g, "data", "abs"), "OK");
	assert_string_equal(ef_write(g, "data/c", "v"), "OK");
	assert_string_equal(events(g), "");
}

static void test_transactional_changes_fire_at_commit_only(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *w = ef_priv(f);

	assert_string_equal(ef_mkdir(p, "/a"), "OK");
	assert_string_equal(ef_watch(w, "/a", "t"), "OK");
	ef_drain(w);
	uint32_t tx = ef_txn_start(p);
	assert_string_equal(ef_write_tx(p, tx, "/a/x", "v"), "OK");
	assert_string_equal(ef_write_tx(p, tx, "/a/y/z", "w"), "OK");
	assert_int_equal(ef_nevents(w), 0);
	assert_string_equal(ef_txn_end(p, tx, true), "OK");
	const char *ev = events(w);
	assert_non_null(strstr(ev, "/a/x t"));
	assert_non_null(strstr(ev, "/a/y/z t"));

	/* Aborted, or refused with EAGAIN: nothing happened, nothing fires. */
	tx = ef_txn_start(p);
	assert_string_equal(ef_write_tx(p, tx, "/a/x", "aborted"), "OK");
	assert_string_equal(ef_txn_end(p, tx, false), "OK");
	assert_int_equal(ef_nevents(w), 0);
	tx = ef_txn_start(p);
	assert_string_equal(ef_read_tx(p, tx, "/a/x"), "v");
	assert_string_equal(ef_write_tx(p, tx, "/a/x", "stale"), "OK");
	assert_string_equal(ef_write(w, "/other", "1"), "OK");
	assert_string_equal(ef_write(w, "/a/x", "changed"), "OK");
	assert_string_equal(events(w), "/a/x t");
	assert_string_equal(ef_txn_end(p, tx, true), "EAGAIN");
	assert_int_equal(ef_nevents(w), 0);
}

static void test_events_go_only_to_those_who_may_read_the_node(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *g = ef_conn(f, 3, 0);

	assert_string_equal(ef_mkdir(p, "/s"), "OK");
	assert_string_equal(ef_setperms(p, "/s", "n0 r3"), "OK");
	assert_string_equal(ef_watch(g, "/s", "t"), "OK");
	ef_drain(g);
	/* New nodes inherit r3: readable. */
	assert_string_equal(ef_write(p, "/s/open", "v"), "OK");
	assert_string_equal(events(g), "/s/open t");
	/* Made unreadable: the old permissions still let this change through. */
	assert_string_equal(ef_write(p, "/s/open/hid", "v"), "OK");
	ef_drain(g);
	assert_string_equal(ef_setperms(p, "/s/open/hid", "n0"), "OK");
	assert_string_equal(events(g), "/s/open/hid t");
	/* Hidden below a readable parent: the parent decides (watch_permitted). */
	assert_string_equal(ef_write(p, "/s/open/hid", "x"), "OK");
	assert_string_equal(events(g), "/s/open/hid t");
	/* Neither the node nor its parent readable: no event. */
	assert_string_equal(ef_setperms(p, "/s/open", "n0"), "OK");
	ef_drain(g);
	assert_string_equal(ef_write(p, "/s/open/hid", "w"), "OK");
	assert_string_equal(events(g), "");
	/* A node the watcher could read before the change still fires. */
	assert_string_equal(ef_write(p, "/s/was", "v"), "OK");
	ef_drain(g);
	assert_string_equal(ef_setperms(p, "/s/was", "n0"), "OK");
	assert_string_equal(events(g), "/s/was t");
}

static void test_a_recursive_rm_fires_removed_watched_nodes_with_their_own_path(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *w = ef_priv(f);

	assert_string_equal(ef_write(p, "/r/a/b", "v"), "OK");
	assert_string_equal(ef_watch(w, "/r", "anc"), "OK");
	assert_string_equal(ef_watch(w, "/r/a", "root"), "OK");
	assert_string_equal(ef_watch(w, "/r/a/b", "desc"), "OK");
	assert_string_equal(ef_watch(w, "/other", "no"), "OK");
	ef_drain(w);
	assert_string_equal(ef_rm(p, "/r/a"), "OK");
	const char *ev = events(w);
	/* 4.17: "/r/a/b desc", "/r/a anc", "/r/a root", each once. */
	assert_non_null(strstr(ev, "/r/a/b desc"));
	assert_non_null(strstr(ev, "/r/a anc"));
	assert_non_null(strstr(ev, "/r/a root"));
	assert_null(strstr(ev, "no"));
	assert_null(strstr(ev, "/r/a/b anc"));
	assert_null(strstr(ev, "/r/a/b root"));
	assert_int_equal(strlen(ev), strlen("/r/a/b desc|/r/a anc|/r/a root"));
}

static void test_duplicate_and_unknown_watches_are_errors(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *q = ef_priv(f);

	assert_string_equal(ef_watch(p, "/a", "t"), "OK");
	assert_string_equal(ef_watch(p, "/a", "t"), "EEXIST");
	assert_string_equal(ef_watch(p, "/a", "u"), "OK");
	assert_string_equal(ef_watch(q, "/a", "t"), "OK");
	assert_string_equal(ef_unwatch(p, "/a", "zz"), "ENOENT");
	assert_string_equal(ef_unwatch(p, "/b", "t"), "ENOENT");
	ef_drain(p);
	assert_string_equal(ef_unwatch(p, "/a", "t"), "OK");
	assert_string_equal(ef_unwatch(p, "/a", "t"), "ENOENT");
	assert_string_equal(ef_write(q, "/a", "v"), "OK");
	assert_string_equal(events(p), "/a u");
	/* Malformed requests. */
	assert_string_equal(ef_call(p, XSD_WATCH, 0, "/a"), "EINVAL");
	assert_string_equal(ef_call(p, XSD_UNWATCH, 0, "/a u 1"), "EINVAL");
	assert_string_equal(ef_watch(p, "/a/", "t"), "EINVAL");
	/* RESET_WATCHES drops them all. */
	assert_string_equal(ef_call(p, XSD_RESET_WATCHES, 0, ""), "OK");
	assert_string_equal(ef_write(q, "/a", "w"), "OK");
	assert_string_equal(events(p), "");
	assert_string_equal(ef_unwatch(p, "/a", "u"), "ENOENT");
}

static void test_an_event_above_the_payload_limit_is_never_sent(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *q = ef_priv(f);
	static char path[2100], token[2100], child[2100]; /* zeroed: terminated */

	path[0] = '/';
	memset(path + 1, 'p', 1999);
	memset(token, 't', 2090);
	assert_string_equal(ef_mkdir(p, path), "OK");
	assert_string_equal(ef_watch(p, path, token), "OK");
	assert_int_equal(ef_nevents(p), 1); /* 4094 bytes: fits */
	ef_drain(p);
	memcpy(child, path, 2000);
	child[2000] = '/';
	memset(child + 2001, 'c', 40); /* 2041 bytes, within path-max */
	assert_string_equal(ef_write(q, child, "v"), "OK");
	assert_int_equal(ef_nevents(p), 0);
	/* The connection goes on: the short one still comes. */
	assert_string_equal(ef_watch(p, "/s", "t"), "OK");
	ef_drain(p);
	assert_string_equal(ef_write(q, "/s", "v"), "OK");
	assert_string_equal(events(p), "/s t");
}

static void test_introduce_and_release_fire_the_special_watches(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f);

	assert_string_equal(ef_watch(p, "@introduceDomain", "in"), "OK");
	assert_string_equal(ef_watch(p, "@releaseDomain", "out"), "OK");
	assert_string_equal(ef_call(p, XSD_WATCH, 0, "@releaseDomain one 1"), "OK");
	assert_string_equal(ef_watch(p, "@releaseDomain/6", "six"), "OK");
	ef_drain(p);
	assert_string_equal(ef_call(p, XSD_INTRODUCE, 0, "5 0 7"), "OK");
	assert_string_equal(events(p), "@introduceDomain in");
	assert_string_equal(ef_call(p, XSD_INTRODUCE, 0, "6 0 8"), "OK");
	ef_drain(p);
	assert_string_equal(ef_call(p, XSD_RELEASE, 0, "5"), "OK");
	const char *ev = events(p);
	assert_non_null(strstr(ev, "@releaseDomain out"));
	assert_non_null(strstr(ev, "@releaseDomain/5 one"));
	assert_null(strstr(ev, "six"));
	assert_string_equal(ef_call(p, XSD_RELEASE, 0, "6"), "OK");
	ev = events(p);
	assert_non_null(strstr(ev, "@releaseDomain/6 six"));
	assert_non_null(strstr(ev, "@releaseDomain/6 one"));
	/* Writes never fire the special watches. */
	assert_string_equal(ef_write(p, "/x", "v"), "OK");
	assert_string_equal(events(p), "");
}

static void test_special_watches_need_the_special_nodes_permission(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *g = ef_conn(f, 3, 0);

	assert_string_equal(ef_watch(g, "@introduceDomain", "in"), "OK");
	assert_string_equal(events(g), "@introduceDomain in");
	assert_string_equal(ef_call(p, XSD_INTRODUCE, 0, "5 0 7"), "OK");
	assert_string_equal(events(g), "");
	assert_string_equal(ef_setperms(g, "@introduceDomain", "n0 r3"), "EACCES");
	assert_string_equal(ef_setperms(p, "@introduceDomain", "n0 r3"), "OK");
	assert_string_equal(ef_call(p, XSD_INTRODUCE, 0, "6 0 7"), "OK");
	assert_string_equal(events(g), "@introduceDomain in");
	/* Only the special names exist as '@' nodes. */
	assert_string_equal(ef_setperms(p, "@other", "n0"), "ENOENT");
	assert_string_equal(ef_write(p, "@introduceDomain", "v"), "EINVAL");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, ef_setup, ef_teardown)
		T(test_a_new_watch_fires_once_at_once),
		T(test_a_watch_fires_for_changes_in_its_subtree),
		T(test_watch_depth_limits_the_levels_below),
		T(test_a_relative_watch_gets_relative_paths),
		T(test_transactional_changes_fire_at_commit_only),
		T(test_events_go_only_to_those_who_may_read_the_node),
		T(test_a_recursive_rm_fires_removed_watched_nodes_with_their_own_path),
		T(test_duplicate_and_unknown_watches_are_errors),
		T(test_an_event_above_the_payload_limit_is_never_sent),
		T(test_introduce_and_release_fire_the_special_watches),
		T(test_special_watches_need_the_special_nodes_permission),
#undef T
	};
	return cmocka_run_group_tests_name("engine_watch", tests, NULL, NULL);
}
