/* SPDX-License-Identifier: MIT */
/*
 * The vstore command line's view of Xenstore nodes in the store (cli_xs.c,
 * cli_xs_diff.c) on a mem store laid out as the daemon writes it, and its
 * JSON string escaping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "vst.h"

struct fixture {
	struct vs_repo *repo;
	struct vs_tree *tree; /* the tree being built */
	struct vs_oid c[2];
};

/* Set node @p xpath to @p value with perms "@p perms" (text form) and @p seq. */
static void put_node(struct fixture *f, const char *xpath, const char *value, const char *perms,
		     uint64_t seq)
{
	char sp[XSD_STORE_PATH_BUF];
	struct xsd_meta m;
	struct vs_buf b = VS_BUF_INIT;
	struct vs_tree *n;
	xsd_meta_init(&m);
	assert_vs_ok(xsd_perms_parse_text(&m.perms, perms, strlen(perms)));
	m.seq = seq;
	assert_vs_ok(xsd_meta_format(&b, &m));
	assert_vs_ok(xsd_path_store(sp, sizeof(sp), xpath, XSD_STORE_META));
	assert_vs_ok(vs_tree_set(&n, f->tree, sp, b.ptr, b.size));
	vs_tree_free(f->tree);
	f->tree = n;
	assert_vs_ok(xsd_path_store(sp, sizeof(sp), xpath, XSD_STORE_VALUE));
	if (*value)
		assert_vs_ok(vs_tree_set(&n, f->tree, sp, value, strlen(value)));
	else
		assert_vs_ok(vs_tree_remove(&n, f->tree, sp));
	vs_tree_free(f->tree);
	f->tree = n;
	vs_buf_release(&b);
	xsd_meta_release(&m);
}

static void rm_node(struct fixture *f, const char *xpath)
{
	char sp[XSD_STORE_PATH_BUF];
	struct vs_tree *n;
	assert_vs_ok(xsd_path_store(sp, sizeof(sp), xpath, XSD_STORE_NODE));
	assert_vs_ok(vs_tree_remove(&n, f->tree, sp));
	vs_tree_free(f->tree);
	f->tree = n;
}

static void commit(struct fixture *f, struct vs_oid *out)
{
	struct vs_signature sig = vst_sig(1700000000);
	struct vs_commit_opts o = {.author = &sig, .message = "m\n"};
	assert_vs_ok(vs_branch_commit(out, f->repo, "main", NULL, f->tree, &o));
}

static char long_name[301];

/*
 * c0: "/", @introduceDomain, /a (b0), /a/z = "zz" (seq 11), /a/b = "x" (seq 12),
 *     /a/<300 x 'L'> = "long" (seq 13, a chunked store name).
 * c1: /a/b = "y", /a's perms b0 r5, /a/-d added (sorts before ".meta"), /a/z removed.
 */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	memset(long_name, 'L', 300);
	f->repo = vst_repo_open("mem", NULL);
	assert_vs_ok(vs_tree_new(&f->tree, f->repo));
	char lp[400];
	snprintf(lp, sizeof(lp), "/a/%s", long_name);
	put_node(f, "/", "", "n0", 0);
	put_node(f, "@introduceDomain", "", "n0", 0);
	put_node(f, "/a", "", "b0", 10);
	put_node(f, "/a/z", "zz", "n0", 11);
	put_node(f, "/a/b", "x", "n0 r3", 12);
	put_node(f, lp, "long", "n0", 13);
	commit(f, &f->c[0]);
	put_node(f, "/a/b", "y", "n0 r3", 12);
	put_node(f, "/a", "", "b0 r5", 10);
	put_node(f, "/a/-d", "dash", "n7", 14);
	rm_node(f, "/a/z");
	commit(f, &f->c[1]);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	vs_tree_free(f->tree);
	vs_repo_close(f->repo);
	free(f);
	return 0;
}

static void test_nodes_read_value_and_perms(void **state)
{
	struct fixture *f = *state;
	struct cli_xs_node n;
	struct vs_buf b = VS_BUF_INIT;
	cli_xs_node_init(&n);
	assert_vs_ok(cli_xs_node_read(&n, f->tree, "/a/b"));
	assert_int_equal(n.value.size, 1);
	assert_memory_equal(n.value.ptr, "y", 1);
	assert_true(n.has_meta);
	assert_int_equal(n.meta.seq, 12);
	assert_vs_ok(cli_xs_perms_format(&b, &n.meta.perms));
	assert_string_equal(b.ptr, "n0,r3");
	assert_vs_ok(cli_xs_node_read(&n, f->tree, "/a"));
	assert_int_equal(n.value.size, 0);
	assert_vs_err(VS_ENOENT, cli_xs_node_read(&n, f->tree, "/a/z"));
	assert_vs_err(VS_ENOENT, cli_xs_node_read(&n, f->tree, "/nope"));
	cli_xs_node_release(&n);
	vs_buf_release(&b);
}

static void test_children_come_in_creation_order_with_long_names_joined(void **state)
{
	struct fixture *f = *state;
	struct vs_strarray kids;
	assert_vs_ok(cli_xs_children(&kids, f->tree, "/a"));
	assert_int_equal(kids.count, 3);
	assert_string_equal(kids.strings[0], "b");
	assert_string_equal(kids.strings[1], long_name);
	assert_string_equal(kids.strings[2], "-d");
	vs_strarray_dispose(&kids);
	/* The special nodes are not children of "/". */
	assert_vs_ok(cli_xs_children(&kids, f->tree, "/"));
	assert_int_equal(kids.count, 1);
	assert_string_equal(kids.strings[0], "a");
	vs_strarray_dispose(&kids);
	assert_vs_err(VS_ENOENT, cli_xs_children(&kids, f->tree, "/nope"));
}

/* The changes cli_xs_diff reported, one line each. */
struct seen {
	char text[2048];
};

static int record(void *payload, const struct cli_xs_change *ch)
{
	struct seen *s = payload;
	struct vs_buf b = VS_BUF_INIT;
	size_t len = strlen(s->text);
	static const char kinds[] = "?+-~";
	vs_buf_printf(&b, "%c%s", kinds[ch->kind], ch->path);
	if (ch->value_changed)
		vs_buf_printf(&b, " v:%.*s>%.*s", (int)ch->old_value.len,
			      (const char *)ch->old_value.ptr, (int)ch->new_value.len,
			      (const char *)ch->new_value.ptr);
	if (ch->perms_changed) {
		vs_buf_puts(&b, " p:");
		cli_xs_perms_format(&b, &ch->old_meta->perms);
		vs_buf_puts(&b, ">");
		cli_xs_perms_format(&b, &ch->new_meta->perms);
	}
	snprintf(s->text + len, sizeof(s->text) - len, "%s;", b.ptr);
	vs_buf_release(&b);
	return 0;
}

static void test_diffs_group_store_deltas_per_node(void **state)
{
	struct fixture *f = *state;
	struct seen s = {""};
	assert_vs_ok(cli_xs_diff(f->repo, &f->c[0], &f->c[1], NULL, record, &s));
	assert_string_equal(s.text, "~/a p:b0>b0,r5;+/a/-d v:>dash;~/a/b v:x>y;-/a/z v:zz>;");
	memset(&s, 0, sizeof(s));
	assert_vs_ok(cli_xs_diff(f->repo, &f->c[0], &f->c[1], "/a/b", record, &s));
	assert_string_equal(s.text, "~/a/b v:x>y;");
	memset(&s, 0, sizeof(s));
	assert_vs_ok(cli_xs_diff(f->repo, NULL, &f->c[0], "/a/z", record, &s));
	assert_string_equal(s.text, "+/a/z v:>zz;");
}

static int stop(void *p, const struct cli_xs_change *ch)
{
	(*(int *)p)++;
	return 7;
}

static void test_a_callback_can_stop_the_diff(void **state)
{
	struct fixture *f = *state;
	int calls = 0;
	assert_int_equal(cli_xs_diff(f->repo, &f->c[0], &f->c[1], NULL, stop, &calls), 7);
	assert_int_equal(calls, 1);
}

static void test_values_escape_as_xenstore_ls(void **state)
{
	struct vs_buf b = VS_BUF_INIT;
	/* As Debian's xenstore-ls 4.17 prints them (checked against it). */
	assert_vs_ok(cli_xs_value_escape(&b, "a\"b\\c\td\n\r\x01\x07\x08\x1b\x7f\xff~", 16));
	assert_string_equal(b.ptr, "a\"b\\\\c\\td\\n\\r\\001\\007\\x08\\x1b\\x7f\\xff~");
	vs_buf_release(&b);
}

static char *json_of(const void *s, size_t len)
{
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	assert_non_null(f);
	cli_json_string(f, s, len);
	fclose(f);
	return out;
}

static void test_json_strings_stay_valid_for_any_bytes(void **state)
{
	char *j = json_of("a\"\\\n\x01 \xc3\xa9 \xe2\x82\xac", 12);
	assert_string_equal(j, "\"a\\\"\\\\\\n\\u0001 \xc3\xa9 \xe2\x82\xac\"");
	free(j);
	j = json_of("\xff\xc3(\0", 4); /* invalid UTF-8 and a NUL */
	assert_string_equal(j, "\"\\u00ff\\u00c3(\\u0000\"");
	free(j);
	j = json_of("\xed\xa0\x80", 3); /* a surrogate is not UTF-8 */
	assert_string_equal(j, "\"\\u00ed\\u00a0\\u0080\"");
	free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_nodes_read_value_and_perms, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_children_come_in_creation_order_with_long_names_joined, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_diffs_group_store_deltas_per_node, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_a_callback_can_stop_the_diff, setup, teardown),
	    cmocka_unit_test(test_values_escape_as_xenstore_ls),
	    cmocka_unit_test(test_json_strings_stay_valid_for_any_bytes),
	};
	return cmocka_run_group_tests_name("cli_xs", tests, NULL, NULL);
}
