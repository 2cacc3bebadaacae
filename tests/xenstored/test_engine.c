/* SPDX-License-Identifier: MIT */
/*
 * The engine's node requests (READ, WRITE, MKDIR, RM, DIRECTORY,
 * DIRECTORY_PART), argument checking, the history every change leaves on
 * the branch, restarts on the same store, and CONTROL. Expected answers are
 * C xenstored 4.17's, checked against the real daemon where noted.
 */
#include "engine_fixture.h"

static void test_fresh_store_holds_the_initial_tree(void **state)
{
	struct ef_conn *p = ef_priv(*state);

	assert_string_equal(ef_dir(p, "/"), "tool");
	assert_string_equal(ef_dir(p, "/tool"), "xenstored");
	assert_string_equal(ef_read(p, "/tool/xenstored"), "");
	assert_string_equal(ef_perms(p, "/"), "n0");
	assert_string_equal(ef_perms(p, "/tool/xenstored"), "n0");
}

static void test_write_then_read_returns_the_bytes_written(void **state)
{
	struct ef_conn *p = ef_priv(*state);
	static const char bin[] = "/bin\0x\0y\x01\xff";

	assert_string_equal(ef_write(p, "/a", "hello"), "OK");
	assert_string_equal(ef_read(p, "/a"), "hello");
	assert_string_equal(ef_write(p, "/a", "bye"), "OK");
	assert_string_equal(ef_read(p, "/a"), "bye");

	/* Values are bytes: NULs included, no terminator added. */
	ef_req(p, XSD_WRITE, 0, bin, sizeof(bin) - 1);
	assert_false(ef_failed(p));
	const struct ef_msg *m = ef_req(p, XSD_READ, 0, "/bin", 5);
	assert_int_equal(m->hdr.len, 5);
	assert_memory_equal(m->body, "x\0y\x01\xff", 5);

	assert_string_equal(ef_write(p, "/empty", ""), "OK");
	m = ef_req(p, XSD_READ, 0, "/empty", 7);
	assert_int_equal(m->hdr.type, XSD_READ);
	assert_int_equal(m->hdr.len, 0);
}

static void test_write_creates_missing_parents_with_empty_values(void **state)
{
	struct ef_conn *p = ef_priv(*state);

	assert_string_equal(ef_write(p, "/a/b/c", "v"), "OK");
	assert_string_equal(ef_read(p, "/a"), "");
	assert_string_equal(ef_read(p, "/a/b"), "");
	assert_string_equal(ef_read(p, "/a/b/c"), "v");
	assert_string_equal(ef_dir(p, "/a"), "b");
	assert_string_equal(ef_dir(p, "/a/b/c"), "");
	/* Inherited from "/", whose owner is the privileged creator too. */
	assert_string_equal(ef_perms(p, "/a/b"), "n0");
}

static void test_mkdir_creates_an_empty_node_and_keeps_an_existing_value(void **state)
{
	struct ef_conn *p = ef_priv(*state);

	assert_string_equal(ef_mkdir(p, "/m/n"), "OK");
	assert_string_equal(ef_read(p, "/m"), "");
	assert_string_equal(ef_read(p, "/m/n"), "");
	assert_string_equal(ef_write(p, "/m/n", "x"), "OK");
	assert_string_equal(ef_mkdir(p, "/m/n"), "OK");
	assert_string_equal(ef_read(p, "/m/n"), "x");
}

static void test_rm_removes_the_whole_subtree(void **state)
{
	struct ef_conn *p = ef_priv(*state);

	assert_string_equal(ef_write(p, "/r/a/b/c", "1"), "OK");
	assert_string_equal(ef_write(p, "/r/d", "2"), "OK");
	assert_string_equal(ef_rm(p, "/r/a"), "OK");
	assert_string_equal(ef_read(p, "/r/a"), "ENOENT");
	assert_string_equal(ef_read(p, "/r/a/b"), "ENOENT");
	assert_string_equal(ef_read(p, "/r/a/b/c"), "ENOENT");
	assert_string_equal(ef_dir(p, "/r"), "d");
	assert_string_equal(ef_read(p, "/r/d"), "2");
	/* The name can be used again, from nothing. */
	assert_string_equal(ef_mkdir(p, "/r/a"), "OK");
	assert_string_equal(ef_dir(p, "/r/a"), "");
}

/* Checked against C xenstored 4.17: OK, ENOENT, EINVAL. */
static void test_rm_of_a_missing_node_is_ok_only_when_its_parent_exists(void **state)
{
	struct ef_conn *p = ef_priv(*state);

	assert_string_equal(ef_mkdir(p, "/r"), "OK");
	assert_string_equal(ef_rm(p, "/r/missing"), "OK");
	assert_string_equal(ef_rm(p, "/nope/deeper"), "ENOENT");
	assert_string_equal(ef_rm(p, "/"), "EINVAL");
	assert_string_equal(ef_dir(p, "/"), "tool r");
}

static void test_directory_lists_children_in_creation_order(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f);

	assert_string_equal(ef_write(p, "/d/b", ""), "OK");
	assert_string_equal(ef_write(p, "/d/a", ""), "OK");
	assert_string_equal(ef_mkdir(p, "/d/c"), "OK");
	assert_string_equal(ef_dir(p, "/d"), "b a c");
	/* Deleted and created again: the child goes last (as in 4.17). */
	assert_string_equal(ef_rm(p, "/d/b"), "OK");
	assert_string_equal(ef_write(p, "/d/b", ""), "OK");
	assert_string_equal(ef_dir(p, "/d"), "a c b");
	/* Rewriting a child does not move it. */
	assert_string_equal(ef_write(p, "/d/a", "new"), "OK");
	assert_string_equal(ef_dir(p, "/d"), "a c b");
	ef_restart(f);
	p = ef_priv(f);
	assert_string_equal(ef_dir(p, "/d"), "a c b");
}

/* Parse a DIRECTORY_PART reply: its generation and the names, appended to @names. */
static bool dir_part(struct ef_conn *c, const char *path, size_t off, char **gen, char *names,
		     size_t *nnames)
{
	char req[256];
	int n = snprintf(req, sizeof(req), "%s%c%zu", path, '\0', off);
	const struct ef_msg *m = ef_req(c, XSD_DIRECTORY_PART, 0, req, (size_t)n + 1);
	assert_int_equal(m->hdr.type, XSD_DIRECTORY_PART);
	assert_true(m->hdr.len >= 2 && m->body[m->hdr.len - 1] == '\0');
	*gen = strdup(m->body);
	size_t at = strlen(m->body) + 1;
	bool done = false;
	while (at < m->hdr.len) {
		size_t l = strlen(m->body + at);
		if (l == 0) { /* the extra NUL: the list ends here */
			assert_int_equal(at + 1, m->hdr.len);
			done = true;
			break;
		}
		memcpy(names + *nnames, m->body + at, l + 1);
		*nnames += l + 1;
		at += l + 1;
	}
	return done;
}

static void test_directory_part_pages_a_list_too_long_for_directory(void **state)
{
	struct ef_conn *p = ef_priv(*state);
	static char want[8192], got[8192];
	size_t wlen = 0, glen = 0;
	char path[160];

	for (int i = 0; i < 60; i++) {
		int n = snprintf(path, sizeof(path), "/big/%02d", i);
		memset(path + n, 'x', 98);
		path[n + 98] = '\0';
		assert_string_equal(ef_write(p, path, ""), "OK");
		memcpy(want + wlen, path + 5, strlen(path + 5) + 1);
		wlen += strlen(path + 5) + 1;
	}
	assert_true(wlen > XSD_PAYLOAD_MAX);
	assert_string_equal(ef_dir(p, "/big"), "E2BIG");

	char *gen1 = NULL, *gen2 = NULL;
	assert_false(dir_part(p, "/big", 0, &gen1, got, &glen));
	assert_true(glen > 0 && glen < wlen);
	assert_true(dir_part(p, "/big", glen, &gen2, got, &glen));
	assert_string_equal(gen1, gen2);
	assert_int_equal(glen, wlen);
	assert_memory_equal(got, want, wlen);
	free(gen2);

	/* At the very end: only the generation and the extra NUL. */
	size_t none = 0;
	assert_true(dir_part(p, "/big", wlen, &gen2, got, &none));
	assert_int_equal(none, 0);
	free(gen2);

	/* A change of the list changes the generation. */
	assert_string_equal(ef_write(p, "/big/new", ""), "OK");
	none = 0;
	assert_false(dir_part(p, "/big", 0, &gen2, got, &none));
	assert_string_not_equal(gen1, gen2);
	free(gen1);
	free(gen2);
}

static void test_directory_part_of_a_short_list_ends_with_an_extra_nul(void **state)
{
	struct ef_conn *p = ef_priv(*state);

	assert_string_equal(ef_write(p, "/dp/aa", ""), "OK");
	assert_string_equal(ef_write(p, "/dp/b", ""), "OK");
	const struct ef_msg *m = ef_req(p, XSD_DIRECTORY_PART, 0, "/dp\0" "0", 6);
	size_t gl = strlen(m->body) + 1;
	assert_true(gl > 1);
	assert_int_equal(m->hdr.len, gl + 6);
	assert_memory_equal(m->body + gl, "aa\0b\0", 6);
	/* Offset 3 is where "b" starts. */
	m = ef_req(p, XSD_DIRECTORY_PART, 0, "/dp\0" "3", 6);
	assert_memory_equal(m->body + strlen(m->body) + 1, "b\0", 3);
	/* Without the offset: EINVAL (4.17 too). */
	assert_string_equal(ef_call(p, XSD_DIRECTORY_PART, 0, "/dp"), "EINVAL");
	assert_string_equal(ef_call(p, XSD_DIRECTORY_PART, 0, "/missing 0"), "ENOENT");
}

static void test_names_longer_than_a_store_name_are_kept_whole(void **state)
{
	struct ef_conn *p = ef_priv(*state);
	char a[700], b[700], c[700], list[2200];

	/* a and b share their first 300 bytes, more than one store name. */
	memcpy(a, "/long/", 6);
	memset(a + 6, 'q', 300);
	strcpy(a + 306, "A");
	memcpy(b, a, 306);
	strcpy(b + 306, "B");
	memcpy(c, "/long/", 6);
	memset(c + 6, 'z', 600);
	c[606] = '\0';

	assert_string_equal(ef_write(p, a, "va"), "OK");
	assert_string_equal(ef_write(p, b, "vb"), "OK");
	assert_string_equal(ef_write(p, c, "vc"), "OK");
	assert_string_equal(ef_write(p, "/long/short", "vs"), "OK");
	snprintf(list, sizeof(list), "%s %s %s short", a + 6, b + 6, c + 6);
	assert_string_equal(ef_dir(p, "/long"), list);
	assert_string_equal(ef_read(p, a), "va");
	assert_string_equal(ef_read(p, b), "vb");
	assert_string_equal(ef_read(p, c), "vc");
	/* A child below a long name. */
	char below[720];
	snprintf(below, sizeof(below), "%s/kid", a);
	assert_string_equal(ef_write(p, below, "k"), "OK");
	assert_string_equal(ef_dir(p, a), "kid");

	assert_string_equal(ef_rm(p, a), "OK");
	snprintf(list, sizeof(list), "%s %s short", b + 6, c + 6);
	assert_string_equal(ef_dir(p, "/long"), list);
	assert_string_equal(ef_read(p, a), "ENOENT");
	assert_string_equal(ef_read(p, b), "vb");
}

/* Names around the store's name limit and its chunk size (254 + '.'). */
static void test_names_at_the_chunk_boundaries_are_kept_whole(void **state)
{
	struct ef_conn *p = ef_priv(*state);
	static const size_t lens[] = { 1, 253, 254, 255, 256, 508, 509, 510, 511, 1000 };
	static char path[1100], list[8000];
	size_t at = 0;

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		memcpy(path, "/b/", 3);
		memset(path + 3, 'a' + (int)(i % 26), lens[i]);
		path[3 + lens[i]] = '\0';
		assert_string_equal(ef_write(p, path, path + 3 + lens[i] - 1), "OK");
		assert_string_equal(ef_read(p, path), path + 3 + lens[i] - 1);
		at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%s", i ? " " : "", path + 3);
	}
	assert_string_equal(ef_dir(p, "/b"), list);
	assert_string_equal(ef_rm(p, "/b"), "OK");
	assert_string_equal(ef_dir(p, "/"), "tool");
}

static void test_single_path_requests_need_exactly_one_string(void **state)
{
	struct ef_conn *p = ef_priv(*state);
	static const uint32_t types[] = { XSD_READ, XSD_MKDIR, XSD_RM, XSD_DIRECTORY,
					  XSD_GET_PERMS };
	static const struct {
		const char *s;
		size_t len;
	} bad[] = {
		{ "", 0 }, { "/a", 2 }, { "/a\0/b", 6 }, { "/a\0\0", 4 }, { "/a\0x", 4 },
	};

	assert_string_equal(ef_write(p, "/a", "v"), "OK");
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			ef_req(p, types[t], 0, bad[i].s, bad[i].len);
			assert_string_equal(ef_text(p, &p->last), "EINVAL");
		}
	/* WRITE needs its path terminated; the value may be anything. */
	ef_req(p, XSD_WRITE, 0, "/a", 2);
	assert_string_equal(ef_text(p, &p->last), "EINVAL");
	ef_req(p, XSD_WRITE, 0, NULL, 0);
	assert_string_equal(ef_text(p, &p->last), "EINVAL");
	assert_string_equal(ef_read(p, "/a"), "v");
}

static void test_bad_paths_are_einval(void **state)
{
	struct ef_conn *p = ef_priv(*state);
	static const char *const bad[] = { "/a/", "//a", "/a//b", "/a b", "/a.b", "/a\\b",
					   "/a:b", "@foo", "" };
	static char huge[3200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_string_equal(ef_read(p, bad[i]), "EINVAL");
		assert_string_equal(ef_write(p, bad[i], "v"), "EINVAL");
	}
	huge[0] = '/';
	memset(huge + 1, 'h', sizeof(huge) - 2);
	assert_string_equal(ef_write(p, huge, "v"), "EINVAL");
	assert_string_equal(ef_read(p, huge), "EINVAL");
	/* Legal characters, including '-', '_' and '@' inside a path. */
	assert_string_equal(ef_write(p, "/a-b_c@d/AZ09", "v"), "OK");
	assert_string_equal(ef_read(p, "/a-b_c@d/AZ09"), "v");
}

static void test_unknown_message_types_answer_enosys(void **state)
{
	struct ef_conn *p = ef_priv(*state);
	static const uint32_t types[] = { 20, 27, XSD_WATCH_EVENT, XSD_ERROR, 100, XSD_INVALID };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		assert_string_equal(ef_call(p, types[i], 0, "/"), "ENOSYS");
}

/* The message of the head commit, and its author, checked against @op etc. */
static void assert_head(struct ef_fixture *f, const char *summary, unsigned int domid,
			const char *op, uint32_t tx)
{
	struct vs_commit *c = ef_head(f);
	const char *msg = vs_commit_message(c);
	char want[256], author[32];

	snprintf(want, sizeof(want), "%s\n\nXs-Domain: %u\nXs-Op: %s\nXs-Tx: %u\n", summary, domid,
		 op, tx);
	assert_string_equal(msg, want);
	snprintf(author, sizeof(author), "dom%u", domid);
	assert_string_equal(vs_commit_author(c)->name, author);
	vs_commit_free(c);
}

static void test_every_change_is_a_commit_with_its_trailers(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *g = ef_conn(f, 3, 0);
	size_t n = ef_ncommits(f);

	assert_string_equal(ef_write(p, "/h/x", "v"), "OK");
	assert_head(f, "write /h/x", 0, "WRITE", 0);
	assert_string_equal(ef_mkdir(p, "/h/y"), "OK");
	assert_head(f, "mkdir /h/y", 0, "MKDIR", 0);
	assert_string_equal(ef_rm(p, "/h/y"), "OK");
	assert_head(f, "rm /h/y", 0, "RM", 0);
	assert_string_equal(ef_mkdir(p, "/local/domain/3"), "OK");
	assert_string_equal(ef_setperms(p, "/local/domain/3", "b3"), "OK");
	assert_head(f, "chmod /local/domain/3", 0, "SET_PERMS", 0);
	assert_string_equal(ef_write(g, "data", "1"), "OK");
	assert_head(f, "write /local/domain/3/data", 3, "WRITE", 0);
	assert_int_equal(ef_ncommits(f), n + 6);
}

static void test_a_request_that_changes_nothing_makes_no_commit(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f);

	assert_string_equal(ef_write(p, "/s/x", "same"), "OK");
	assert_string_equal(ef_setperms(p, "/s/x", "n0 r1"), "OK");
	size_t n = ef_ncommits(f);
	assert_string_equal(ef_write(p, "/s/x", "same"), "OK");
	assert_string_equal(ef_mkdir(p, "/s/x"), "OK");
	assert_string_equal(ef_rm(p, "/s/missing"), "OK");
	assert_string_equal(ef_setperms(p, "/s/x", "n0 r1"), "OK");
	assert_string_equal(ef_read(p, "/s/x"), "same");
	assert_string_equal(ef_write(p, "/s/bad/", "x"), "EINVAL");
	uint32_t tx = ef_txn_start(p);
	assert_string_equal(ef_read_tx(p, tx, "/s/x"), "same");
	assert_string_equal(ef_txn_end(p, tx, true), "OK");
	assert_int_equal(ef_ncommits(f), n);
}

static void test_a_transaction_not_started_from_the_head_commits_as_a_merge(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *q = ef_priv(f);

	/* From the head: an ordinary commit. */
	uint32_t tx = ef_txn_start(p);
	assert_string_equal(ef_write_tx(p, tx, "/t/a", "1"), "OK");
	assert_string_equal(ef_txn_end(p, tx, true), "OK");
	struct vs_commit *c = ef_head(f);
	assert_int_equal(vs_commit_parentcount(c), 1);
	vs_commit_free(c);
	char summary[64];
	snprintf(summary, sizeof(summary), "transaction %u: write /t/a", tx);
	assert_head(f, summary, 0, "TRANSACTION_END", tx);

	struct vs_commit *base = ef_head(f);
	tx = ef_txn_start(p);
	assert_string_equal(ef_write_tx(p, tx, "/t/b", "2"), "OK");
	assert_string_equal(ef_write_tx(p, tx, "/t/c", "3"), "OK");
	assert_string_equal(ef_write(q, "/t/d", "4"), "OK");
	struct vs_commit *other = ef_head(f);
	assert_string_equal(ef_txn_end(p, tx, true), "OK");

	c = ef_head(f);
	assert_int_equal(vs_commit_parentcount(c), 2);
	assert_true(vs_oid_equal(vs_commit_parent_id(c, 0), vs_commit_id(other)));
	/* The second parent: the transaction's own tree on the commit it started from. */
	struct vs_commit *side = NULL;
	assert_vs_ok(vs_commit_lookup(&side, f->repo, vs_commit_parent_id(c, 1)));
	assert_int_equal(vs_commit_parentcount(side), 1);
	assert_true(vs_oid_equal(vs_commit_parent_id(side, 0), vs_commit_id(base)));
	snprintf(summary, sizeof(summary), "transaction %u: write /t/b (+1 more)", tx);
	assert_head(f, summary, 0, "TRANSACTION_END", tx);
	assert_string_equal(ef_dir(q, "/t"), "a d b c");
	vs_commit_free(side);
	vs_commit_free(c);
	vs_commit_free(other);
	vs_commit_free(base);
}

static void test_a_restart_finds_the_tree_as_it_was(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f);

	assert_string_equal(ef_write(p, "/keep/b", "2"), "OK");
	assert_string_equal(ef_write(p, "/keep/a", "1"), "OK");
	assert_string_equal(ef_setperms(p, "/keep/a", "b3 r5"), "OK");
	assert_string_equal(ef_rm(p, "/keep/b"), "OK");
	assert_string_equal(ef_write(p, "/keep/b", "again"), "OK");
	size_t n = ef_ncommits(f);
	struct vs_commit *before = ef_head(f);

	ef_restart(f);
	p = ef_priv(f);
	assert_string_equal(ef_dir(p, "/keep"), "a b");
	assert_string_equal(ef_read(p, "/keep/a"), "1");
	assert_string_equal(ef_read(p, "/keep/b"), "again");
	assert_string_equal(ef_perms(p, "/keep/a"), "b3 r5");
	assert_string_equal(ef_dir(p, "/"), "tool keep");
	/* Opening an existing store changes nothing. */
	struct vs_commit *after = ef_head(f);
	assert_true(vs_oid_equal(vs_commit_id(before), vs_commit_id(after)));
	assert_int_equal(ef_ncommits(f), n);
	vs_commit_free(before);
	vs_commit_free(after);
	/* And it goes on from there. */
	assert_string_equal(ef_write(p, "/keep/c", "3"), "OK");
	assert_int_equal(ef_ncommits(f), n + 1);
}

static void test_control_commands_are_for_the_privileged(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *g = ef_conn(f, 3, 0);

	const char *help = ef_call(p, XSD_CONTROL, 0, "help");
	assert_false(ef_failed(p));
	assert_non_null(strstr(help, "check"));
	assert_non_null(strstr(help, "quota"));
	assert_string_equal(ef_write(p, "/c/x", "1"), "OK");
	const char *check = ef_call(p, XSD_CONTROL, 0, "check");
	assert_false(ef_failed(p));
	assert_true(!strncmp(check, "OK", 2));
	assert_string_equal(ef_call(p, XSD_CONTROL, 0, "print hello"), "OK");
	const char *quota = ef_call(p, XSD_CONTROL, 0, "quota");
	assert_false(ef_failed(p));
	assert_non_null(strstr(quota, "nodes"));
	assert_non_null(strstr(quota, "1000"));
	assert_string_equal(ef_call(p, XSD_CONTROL, 0, "quota set nodes 7"), "OK");
	assert_string_equal(ef_call(p, XSD_GET_QUOTA, 0, "nodes"), "7");
	assert_string_equal(ef_call(p, XSD_CONTROL, 0, "no-such-command"), "EINVAL");
	assert_string_equal(ef_call(p, XSD_CONTROL, 0, NULL), "EINVAL");
	assert_string_equal(ef_call(g, XSD_CONTROL, 0, "help"), "EACCES");
	assert_string_equal(ef_call(g, XSD_CONTROL, 0, "check"), "EACCES");
}

/* Group commit: nothing is answered, and no watch fires, before the flush. */
static void test_replies_and_events_wait_for_the_flush(void **state)
{
	struct ef_fixture *f = *state;
	struct ef_conn *p = ef_priv(f), *w = ef_priv(f);

	assert_string_equal(ef_watch(w, "/g", "t"), "OK");
	ef_drain(w);
	size_t n = ef_ncommits(f);
	struct xsd_msg_hdr hdr = { XSD_WRITE, 77, 0, 4 };
	assert_int_equal(xsd_conn_request(p->c, &hdr, "/g\0v"), 0);
	assert_true(xsd_engine_pending(f->e));
	assert_int_equal(p->nq, 0);
	assert_int_equal(ef_nevents(w), 0);
	assert_int_equal(ef_ncommits(f), n);
	assert_vs_ok(xsd_engine_flush(f->e));
	assert_false(xsd_engine_pending(f->e));
	assert_int_equal(ef_ncommits(f), n + 1);
	assert_int_equal(p->nq, 1);
	assert_int_equal(p->q[0].hdr.type, XSD_WRITE);
	assert_int_equal(p->q[0].hdr.req_id, 77);
	assert_string_equal(ef_event(w), "/g t");
	/* A reply with nothing to store is held too, and released by the flush. */
	hdr = (struct xsd_msg_hdr){ XSD_READ, 78, 0, 3 };
	assert_int_equal(xsd_conn_request(p->c, &hdr, "/g"), 0);
	assert_int_equal(p->nq, 1);
	assert_vs_ok(xsd_engine_flush(f->e));
	assert_int_equal(p->nq, 2);
	assert_int_equal(p->q[1].hdr.req_id, 78);
	assert_string_equal(p->q[1].body, "v");
}

static void test_a_request_breaking_the_protocol_closes_the_connection(void **state)
{
	struct ef_conn *p = ef_priv(*state);
	struct xsd_msg_hdr hdr = { XSD_READ, 1, 0, XSD_PAYLOAD_MAX + 1 };
	static char big[XSD_PAYLOAD_MAX + 1];

	assert_true(xsd_conn_request(p->c, &hdr, big) < 0);
	hdr.len = 4;
	assert_true(xsd_conn_request(p->c, &hdr, NULL) < 0);
}

/*
 * A store failure at flush: the held replies become the error, the head
 * goes back to what is stored, no watch fires, and open transactions can no
 * longer commit. The store's allocations are made to fail (the engine's own
 * do not go through the store's allocator).
 */
static void test_a_store_failure_at_flush_undoes_the_changes(void **state)
{
	(void)state;
	vst_alloc_install();
	struct ef_fixture *f = ef_new(NULL);
	struct ef_conn *p = ef_priv(f), *w = ef_priv(f);

	assert_string_equal(ef_write(p, "/x", "old"), "OK");
	assert_string_equal(ef_watch(w, "/x", "t"), "OK");
	ef_drain(w);
	uint32_t tx = ef_txn_start(w);
	assert_string_equal(ef_read_tx(w, tx, "/x"), "old");
	assert_string_equal(ef_write_tx(w, tx, "/y", "from tx"), "OK");
	size_t n = ef_ncommits(f);

	struct xsd_msg_hdr hdr = { XSD_WRITE, 90, 0, 6 };
	assert_int_equal(xsd_conn_request(p->c, &hdr, "/x\0new"), 0);
	vst_alloc_fail_after(0);
	int rc = xsd_engine_flush(f->e);
	vst_alloc_fail_after(-1);
	assert_true(rc < 0);
	assert_false(xsd_engine_pending(f->e));
	assert_int_equal(p->nq, 1);
	struct ef_msg reply = p->q[0];
	p->nq = 0;
	assert_int_equal(reply.hdr.req_id, 90);
	assert_int_equal(ef_nevents(w), 0);
	assert_int_equal(ef_ncommits(f), n);
	assert_string_equal(ef_read(p, "/x"), "old");
	assert_string_equal(ef_txn_end(w, tx, true), "EAGAIN");
	/* And on from there. */
	assert_string_equal(ef_write(p, "/x", "again"), "OK");
	assert_string_equal(ef_event(w), "/x t");
	assert_int_equal(ef_ncommits(f), n + 1);
	ef_free(f);
	/* The write was not stored: it must not have been acknowledged. */
	int type = (int)reply.hdr.type;
	char body[16];
	snprintf(body, sizeof(body), "%s", reply.body);
	free(reply.body);
	assert_int_equal(type, XSD_ERROR);
	assert_string_equal(body, "ENOMEM");
}

/* The same for a transaction's commit: END must not answer OK. */
static void test_a_store_failure_at_flush_fails_a_transaction_commit(void **state)
{
	(void)state;
	vst_alloc_install();
	struct ef_fixture *f = ef_new(NULL);
	struct ef_conn *p = ef_priv(f);

	uint32_t tx = ef_txn_start(p);
	assert_string_equal(ef_write_tx(p, tx, "/t", "v"), "OK");
	struct xsd_msg_hdr hdr = { XSD_TRANSACTION_END, 91, tx, 2 };
	assert_int_equal(xsd_conn_request(p->c, &hdr, "T"), 0);
	vst_alloc_fail_after(0);
	int rc = xsd_engine_flush(f->e);
	vst_alloc_fail_after(-1);
	assert_true(rc < 0);
	assert_int_equal(p->nq, 1);
	int type = (int)p->q[0].hdr.type;
	free(p->q[0].body);
	p->nq = 0;
	assert_string_equal(ef_read(p, "/t"), "ENOENT");
	ef_free(f);
	assert_int_equal(type, XSD_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, ef_setup, ef_teardown)
		T(test_fresh_store_holds_the_initial_tree),
		T(test_write_then_read_returns_the_bytes_written),
		T(test_write_creates_missing_parents_with_empty_values),
		T(test_mkdir_creates_an_empty_node_and_keeps_an_existing_value),
		T(test_rm_removes_the_whole_subtree),
		T(test_rm_of_a_missing_node_is_ok_only_when_its_parent_exists),
		T(test_directory_lists_children_in_creation_order),
		T(test_directory_part_pages_a_list_too_long_for_directory),
		T(test_directory_part_of_a_short_list_ends_with_an_extra_nul),
		T(test_names_longer_than_a_store_name_are_kept_whole),
		T(test_names_at_the_chunk_boundaries_are_kept_whole),
		T(test_single_path_requests_need_exactly_one_string),
		T(test_bad_paths_are_einval),
		T(test_unknown_message_types_answer_enosys),
		T(test_every_change_is_a_commit_with_its_trailers),
		T(test_a_request_that_changes_nothing_makes_no_commit),
		T(test_a_transaction_not_started_from_the_head_commits_as_a_merge),
		T(test_a_restart_finds_the_tree_as_it_was),
		T(test_control_commands_are_for_the_privileged),
		T(test_replies_and_events_wait_for_the_flush),
		T(test_a_request_breaking_the_protocol_closes_the_connection),
		cmocka_unit_test(test_a_store_failure_at_flush_undoes_the_changes),
		cmocka_unit_test(test_a_store_failure_at_flush_fails_a_transaction_commit),
#undef T
	};
	return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
