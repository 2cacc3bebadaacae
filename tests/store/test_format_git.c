/* SPDX-License-Identifier: MIT */
/*
 * The git object format: strict parsing (what git fsck --strict rejects is
 * VS_ECORRUPT), exact round trips, and a bounded mutation fuzz: no input
 * may crash the parsers or make them return anything but 0 or VS_ECORRUPT.
 */
#include "vst.h"
#include "vstore/sys/format.h"

static const char good_commit[] =
	"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
	"parent 0123456789abcdef0123456789abcdef01234567\n"
	"author A U Thor <author@example.org> 1700000000 +0100\n"
	"committer C O Mitter <c@example.org> 1700000001 -0230\n"
	"encoding ISO-8859-1\n"
	"gpgsig -----BEGIN PGP SIGNATURE-----\n"
	" \n"
	" abcdef\n"
	" -----END PGP SIGNATURE-----\n"
	"\n"
	"Subject line\n\nBody.\n";

static const struct vs_format *git(void)
{
	const struct vs_format *f = vs_format_find("git");
	assert_non_null(f);
	return f;
}

static void test_a_commit_round_trips_byte_for_byte(void **state)
{
	struct vs_format_commit c;
	struct vs_buf out = VS_BUF_INIT;
	(void)state;

	assert_vs_ok(git()->commit_parse(&c, good_commit, strlen(good_commit)));
	assert_int_equal(c.nparents, 1);
	assert_string_equal(c.author, "A U Thor <author@example.org> 1700000000 +0100");
	assert_string_equal(c.message, "Subject line\n\nBody.\n");
	assert_non_null(strstr(c.extra_headers, "gpgsig"));
	assert_vs_ok(git()->commit_write(&out, &c));
	assert_int_equal(out.size, strlen(good_commit));
	assert_memory_equal(out.ptr, good_commit, out.size);
	vs_format_commit_dispose(&c);
	vs_buf_release(&out);
}

static void test_malformed_commits_are_corrupt(void **state)
{
	static const char *const bad[] = {
		"",
		"tree 4b825dc642cb6eb9a060e54bf8d69288fbee490\n",
		"tree 4B825DC642CB6EB9A060E54BF8D69288FBEE4904\nauthor a <b> 1 +0000\n"
		"committer a <b> 1 +0000\n\n",
		"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor <b> 1 +0000\n"
		"committer a <b> 1 +0000\n\n",
		"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor a b> 1 +0000\n"
		"committer a <b> 1 +0000\n\n",
		"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor a <b> 01 +0000\n"
		"committer a <b> 1 +0000\n\n",
		"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor a <b> 1 +000\n"
		"committer a <b> 1 +0000\n\n",
		"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor a <b> 1 +0000\n\n",
		"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent 12\nauthor a <b> 1 +0000\n"
		"committer a <b> 1 +0000\n\n",
		"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor a <b> 1 +0000\n"
		"committer a <b> 1 +0000\nunterminated header",
	};
	struct vs_format_commit c;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = git()->commit_parse(&c, bad[i], strlen(bad[i]));
		if (rc != VS_ECORRUPT)
			fail_msg("case %zu parsed with %s: %s", i, vs_err_name(rc), bad[i]);
	}
	/* A NUL byte anywhere (git fsck: nulInCommit). */
	char nul[sizeof(good_commit)];
	memcpy(nul, good_commit, sizeof(nul));
	nul[sizeof(nul) - 4] = '\0';
	assert_vs_err(VS_ECORRUPT, git()->commit_parse(&c, nul, sizeof(nul) - 1));
}

struct bytes_io {
	const void *data;
	size_t len;
	enum vs_otype type;
};

static int io_read(void *ctx, const struct vs_oid *id, enum vs_otype *type, struct vs_buf *out)
{
	struct bytes_io *b = ctx;
	(void)id;
	*type = b->type;
	return vs_buf_set(out, b->data, b->len);
}

static int count_entry(void *payload, const struct vs_format_entry *e)
{
	(*(int *)payload)++;
	assert_true(e->namelen > 0);
	return 0;
}

static int parse_tree(const void *data, size_t len, int *n)
{
	struct bytes_io b = { data, len, VS_OBJ_TREE };
	struct vs_object_io io = { .ctx = &b, .read = io_read };
	struct vs_oid id = { .type = VS_OID_SHA1 };
	*n = 0;
	return git()->tree_load(git(), &io, &id, count_entry, n, NULL);
}

/* "MODE NAME\0" + 20 id bytes, appended to @buf. */
static size_t entry(unsigned char *buf, const char *mode, const char *name)
{
	size_t n = (size_t)sprintf((char *)buf, "%s %s", mode, name) + 1;
	memset(buf + n, 0x42, 20);
	return n + 20;
}

static void test_malformed_trees_are_corrupt(void **state)
{
	unsigned char t[256];
	size_t n;
	int count;
	(void)state;

	n = entry(t, "100644", "a");
	n += entry(t + n, "40000", "b");
	assert_vs_ok(parse_tree(t, n, &count));
	assert_int_equal(count, 2);
	/* git order: "a.b" (a value) sorts before "a" as a tree ("a/"). */
	n = entry(t, "100644", "a.b");
	n += entry(t + n, "40000", "a");
	assert_vs_ok(parse_tree(t, n, &count));
	n = entry(t, "40000", "a");
	n += entry(t + n, "100644", "a.b");
	assert_vs_err(VS_ECORRUPT, parse_tree(t, n, &count));
	n = entry(t, "100644", "b");
	n += entry(t + n, "100644", "a");
	assert_vs_err(VS_ECORRUPT, parse_tree(t, n, &count));
	n = entry(t, "100644", "a");
	n += entry(t + n, "100644", "a");
	assert_vs_err(VS_ECORRUPT, parse_tree(t, n, &count));
	n = entry(t, "040000", "a");
	assert_vs_err(VS_ECORRUPT, parse_tree(t, n, &count));
	n = entry(t, "100664", "a");
	assert_vs_err(VS_ECORRUPT, parse_tree(t, n, &count));
	n = entry(t, "100644", "");
	assert_vs_err(VS_ECORRUPT, parse_tree(t, n, &count));
	n = entry(t, "100644", "a/b");
	assert_vs_err(VS_ECORRUPT, parse_tree(t, n, &count));
	n = entry(t, "100644", "a");
	assert_vs_err(VS_ECORRUPT, parse_tree(t, n - 1, &count));
	/* Not a tree at all. */
	struct bytes_io b = { t, n, VS_OBJ_BLOB };
	struct vs_object_io io = { .ctx = &b, .read = io_read };
	struct vs_oid id = { .type = VS_OID_SHA1 };
	assert_vs_err(VS_ECORRUPT, git()->tree_load(git(), &io, &id, count_entry, &count, NULL));
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Flip, drop, duplicate or insert a few bytes of @src into @dst. */
static size_t mutate(unsigned char *dst, const unsigned char *src, size_t len, size_t cap)
{
	size_t n = len;
	memcpy(dst, src, len);
	for (int k = 0, m = 1 + (int)(next() % 4); k < m && n > 0; k++) {
		size_t at = next() % n;
		switch (next() % 4) {
		case 0:
			dst[at] ^= (unsigned char)(1u << (next() % 8));
			break;
		case 1:
			memmove(dst + at, dst + at + 1, n - at - 1);
			n--;
			break;
		case 2:
			if (n < cap) {
				memmove(dst + at + 1, dst + at, n - at);
				dst[at] = (unsigned char)next();
				n++;
			}
			break;
		default:
			n = at; /* truncate */
			break;
		}
	}
	return n;
}

static void test_mutated_objects_never_crash_the_parsers(void **state)
{
	unsigned char tree[512], buf[600];
	size_t tn = 0;
	(void)state;

	tn += entry(tree + tn, "100644", "a.b");
	tn += entry(tree + tn, "40000", "a");
	tn += entry(tree + tn, "120000", "link");
	tn += entry(tree + tn, "160000", "sub");
	for (int i = 0; i < 20000; i++) {
		struct vs_format_commit c;
		int count, rc;
		size_t n = mutate(buf, (const unsigned char *)good_commit, strlen(good_commit),
				  sizeof(buf));
		rc = git()->commit_parse(&c, buf, n);
		if (rc != 0 && rc != VS_ECORRUPT)
			fail_msg("commit mutation %d gave %s", i, vs_err_name(rc));
		if (rc == 0)
			vs_format_commit_dispose(&c);
		n = mutate(buf, tree, tn, sizeof(buf));
		rc = parse_tree(buf, n, &count);
		if (rc != 0 && rc != VS_ECORRUPT)
			fail_msg("tree mutation %d gave %s", i, vs_err_name(rc));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_commit_round_trips_byte_for_byte),
		cmocka_unit_test(test_malformed_commits_are_corrupt),
		cmocka_unit_test(test_malformed_trees_are_corrupt),
		cmocka_unit_test(test_mutated_objects_never_crash_the_parsers),
	};
	return cmocka_run_group_tests_name("format_git", tests, NULL, NULL);
}
