/* SPDX-License-Identifier: MIT */
/*
 * Xenstore path rules (xenstored/path.c) against C xenstored 4.17's
 * canonicalize()/is_valid_nodename(), the path helpers, and the mapping
 * to store paths. Table-driven where the rule is a list of cases.
 */
#include "vst.h"

#include "xsd_int.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A path of @prefix followed by @n copies of @c; static storage, one at a time per slot. */
static const char *longpath(int slot, const char *prefix, size_t n, char c)
{
	static char bufs[4][8192];
	char *b = bufs[slot];
	size_t plen = strlen(prefix);

	assert_true(plen + n < sizeof(bufs[0]));
	memcpy(b, prefix, plen);
	memset(b + plen, c, n);
	b[plen + n] = '\0';
	return b;
}

struct canon_case {
	const char *path;
	unsigned int domid;
	unsigned int flags;
	int rc;
	const char *want; /* expected canonical path when rc == 0 */
};

static void test_canonical_follows_cxenstored_rules(void **state)
{
	static const struct canon_case cases[] = {
	    {"/", 0, 0, 0, "/"},
	    {"/a", 0, 0, 0, "/a"},
	    {"/a/b/c", 7, 0, 0, "/a/b/c"},
	    {"/AZaz09-_@", 0, 0, 0, "/AZaz09-_@"},
	    {"/a@b/@c", 0, 0, 0, "/a@b/@c"},
	    {"a", 5, 0, 0, "/local/domain/5/a"},
	    {"a/b", 0, 0, 0, "/local/domain/0/a/b"},
	    {"device/vif/0", 12, 0, 0, "/local/domain/12/device/vif/0"},
	    {"@x", 5, 0, VS_EINVAL, NULL},
	    /* empty: relative, so "/local/domain/5/", which ends in '/' */
	    {"", 5, 0, VS_EINVAL, NULL},
	    {"a/", 5, 0, VS_EINVAL, NULL},
	    {"a//b", 5, 0, VS_EINVAL, NULL},
	    {"/a/", 0, 0, VS_EINVAL, NULL},
	    {"//", 0, 0, VS_EINVAL, NULL},
	    {"//a", 0, 0, VS_EINVAL, NULL},
	    {"/a//b", 0, 0, VS_EINVAL, NULL},
	    {"/a b", 0, 0, VS_EINVAL, NULL},
	    {"/a.b", 0, 0, VS_EINVAL, NULL},
	    {"/..", 0, 0, VS_EINVAL, NULL},
	    {"/a~", 0, 0, VS_EINVAL, NULL},
	    {"/a:b", 0, 0, VS_EINVAL, NULL},
	    {"/a\tb", 0, 0, VS_EINVAL, NULL},
	    {"/caf\xc3\xa9", 0, 0, VS_EINVAL, NULL},
	    {"a.b", 3, 0, VS_EINVAL, NULL},
	    /* '@' names only where allowed, with the same charset and shape */
	    {"@introduceDomain", 0, 0, VS_EINVAL, NULL},
	    {"@introduceDomain", 0, XSD_PATH_SPECIAL, 0, "@introduceDomain"},
	    {"@releaseDomain/5", 0, XSD_PATH_SPECIAL, 0, "@releaseDomain/5"},
	    {"@anything_else", 0, XSD_PATH_SPECIAL, 0, "@anything_else"},
	    {"@", 0, XSD_PATH_SPECIAL, 0, "@"},
	    {"@x/", 0, XSD_PATH_SPECIAL, VS_EINVAL, NULL},
	    {"@x//y", 0, XSD_PATH_SPECIAL, VS_EINVAL, NULL},
	    {"@x y", 0, XSD_PATH_SPECIAL, VS_EINVAL, NULL},
	    /* the flag changes nothing for ordinary paths */
	    {"/a", 0, XSD_PATH_SPECIAL, 0, "/a"},
	    {"b", 4, XSD_PATH_SPECIAL, 0, "/local/domain/4/b"},
	};
	char out[XSD_PATH_BUF];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct canon_case *c = &cases[i];
		int rc = xsd_path_canonical(out, sizeof(out), c->path, c->domid, 0, c->flags);

		if (rc != c->rc)
			fail_msg("case %zu '%s': rc %d, want %d", i, c->path, rc, c->rc);
		if (!rc)
			assert_string_equal(out, c->want);
	}
	assert_vs_err(VS_EINVAL, xsd_path_canonical(out, sizeof(out), NULL, 0, 0, 0));
	assert_vs_err(VS_EINVAL, xsd_path_check(NULL, 0, 0));
	assert_vs_err(VS_EINVAL, xsd_path_check("a", 0, 0));
	assert_vs_ok(xsd_path_check("/a", 0, 0));
}

struct len_case {
	const char *prefix;
	size_t n;
	unsigned int domid;
	unsigned int path_max;
	unsigned int flags;
	int rc;
};

static void test_path_max_counts_after_the_local_domain_prefix(void **state)
{
	static const struct len_case cases[] = {
	    /* default and ceiling: 2048 after "/local/domain/<N>/" */
	    {"/local/domain/5/", 2048, 0, 0, 0, 0},
	    {"/local/domain/5/", 2049, 0, 0, 0, VS_EINVAL},
	    {"/local/domain/5/", 2048, 0, 2048, 0, 0},
	    {"/local/domain/5/", 2048, 0, 9999, 0, 0},
	    {"/local/domain/5/", 2049, 0, 9999, 0, VS_EINVAL},
	    /* other paths count whole */
	    {"/", 2047, 0, 0, 0, 0},
	    {"/", 2048, 0, 0, 0, VS_EINVAL},
	    {"/local/domain/", 2034, 0, 0, 0, 0},
	    {"/local/domain/", 2035, 0, 0, 0, VS_EINVAL},
	    /* a smaller quota */
	    {"/local/domain/5/", 10, 0, 10, 0, 0},
	    {"/local/domain/5/", 11, 0, 10, 0, VS_EINVAL},
	    {"/", 9, 0, 10, 0, 0},
	    {"/", 10, 0, 10, 0, VS_EINVAL},
	    /* relative paths: their own length is what counts */
	    {"", 2048, 5, 0, 0, 0},
	    {"", 2049, 5, 0, 0, VS_EINVAL},
	    {"", 2048, 65535, 0, 0, 0},
	    {"", 4000, 5, 0, 0, VS_EINVAL},
	    /* sscanf("%5u"): at most five characters for the domid */
	    {"/local/domain/12345/", 2048, 0, 0, 0, 0},
	    {"/local/domain/123456/", 2027, 0, 0, 0, 0},
	    {"/local/domain/123456/", 2028, 0, 0, 0, VS_EINVAL},
	    {"/local/domain/00001/", 2048, 0, 0, 0, 0},
	    {"/local/domain/-1/", 2048, 0, 0, 0, 0},
	    {"/local/domain/-1234/", 2048, 0, 0, 0, 0},
	    {"/local/domain/-12345/", 2048, 0, 0, 0, VS_EINVAL},
	    {"/local/domain/x/", 2040, 0, 0, 0, VS_EINVAL},
	    /* a relative path of a domid too long for %5u counts whole too */
	    {"", 2027, 123456, 0, 0, 0},
	    {"", 2028, 123456, 0, 0, VS_EINVAL},
	    /* '@' names count whole */
	    {"@", 2047, 0, 0, XSD_PATH_SPECIAL, 0},
	    {"@", 2048, 0, 0, XSD_PATH_SPECIAL, VS_EINVAL},
	    {"@", 19, 0, 20, XSD_PATH_SPECIAL, 0},
	    {"@", 20, 0, 20, XSD_PATH_SPECIAL, VS_EINVAL},
	};
	char out[XSD_PATH_BUF];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct len_case *c = &cases[i];
		const char *p = longpath(0, c->prefix, c->n, 'a');
		int rc = xsd_path_canonical(out, sizeof(out), p, c->domid, c->path_max, c->flags);

		if (rc != c->rc)
			fail_msg("case %zu (%s + %zu): rc %d, want %d", i, c->prefix, c->n, rc,
				 c->rc);
		if (!rc)
			assert_int_equal(xsd_path_check(out, c->path_max, c->flags), 0);
	}
}

static void test_canonical_reports_a_short_buffer_as_erange(void **state)
{
	char small[8];
	char out[XSD_PATH_BUF];

	(void)state;
	assert_vs_err(VS_ERANGE, xsd_path_canonical(small, sizeof(small), "/abcdefgh", 0, 0, 0));
	assert_vs_ok(xsd_path_canonical(small, sizeof(small), "/abcdef", 0, 0, 0));
	assert_string_equal(small, "/abcdef");
	assert_vs_err(VS_ERANGE, xsd_path_canonical(small, sizeof(small), "a", 1, 0, 0));
	/* invalid wins over a short buffer */
	assert_vs_err(VS_EINVAL, xsd_path_canonical(small, sizeof(small), "/a b c d e", 0, 0, 0));
	/* the largest valid path fits XSD_PATH_BUF */
	assert_vs_ok(xsd_path_canonical(out, sizeof(out), longpath(0, "", 2048, 'z'), 99999, 0, 0));
	assert_int_equal(strlen(out), strlen("/local/domain/99999/") + 2048);
}

struct special_case {
	const char *path;
	enum xsd_special kind;
	unsigned int domid;
};

static void test_special_names_are_classified(void **state)
{
	static const struct special_case cases[] = {
	    {"/a", XSD_SPECIAL_NONE, 0},
	    {"a", XSD_SPECIAL_NONE, 0},
	    {"@introduceDomain", XSD_SPECIAL_INTRODUCE, 0},
	    {"@releaseDomain", XSD_SPECIAL_RELEASE, 0},
	    {"@releaseDomain/0", XSD_SPECIAL_RELEASE_DOMID, 0},
	    {"@releaseDomain/5", XSD_SPECIAL_RELEASE_DOMID, 5},
	    {"@releaseDomain/65535", XSD_SPECIAL_RELEASE_DOMID, 65535},
	    {"@releaseDomain/65536", XSD_SPECIAL_OTHER, 0},
	    {"@releaseDomain/05", XSD_SPECIAL_OTHER, 0},
	    {"@releaseDomain/", XSD_SPECIAL_OTHER, 0},
	    {"@releaseDomain/5/x", XSD_SPECIAL_OTHER, 0},
	    {"@releaseDomainX", XSD_SPECIAL_OTHER, 0},
	    {"@introduceDomain/5", XSD_SPECIAL_OTHER, 0},
	    {"@releasedomain", XSD_SPECIAL_OTHER, 0},
	    {"@", XSD_SPECIAL_OTHER, 0},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		unsigned int domid = 12345;
		enum xsd_special k = xsd_path_special(cases[i].path, &domid);

		if (k != cases[i].kind)
			fail_msg("case %zu '%s': kind %d, want %d", i, cases[i].path, k,
				 cases[i].kind);
		if (k == XSD_SPECIAL_RELEASE_DOMID)
			assert_int_equal(domid, cases[i].domid);
	}
	assert_int_equal(xsd_path_special(NULL, NULL), XSD_SPECIAL_NONE);
	assert_int_equal(xsd_path_special("@releaseDomain/9", NULL), XSD_SPECIAL_RELEASE_DOMID);
}

static void test_domain_home_is_local_domain_n(void **state)
{
	char out[XSD_PATH_BUF];
	char small[10];

	(void)state;
	assert_vs_ok(xsd_path_domain_home(out, sizeof(out), 0));
	assert_string_equal(out, "/local/domain/0");
	assert_vs_ok(xsd_path_domain_home(out, sizeof(out), 32753));
	assert_string_equal(out, "/local/domain/32753");
	assert_vs_err(VS_ERANGE, xsd_path_domain_home(small, sizeof(small), 1));
}

static void test_parent_is_what_get_parent_returns(void **state)
{
	static const char *const cases[][2] = {
	    {"/a", "/"},
	    {"/a/b", "/a"},
	    {"/a/b/c", "/a/b"},
	    {"/local/domain/5", "/local/domain"},
	    {"@releaseDomain", "/"},
	    {"@releaseDomain/5", "@releaseDomain"},
	};
	char out[XSD_PATH_BUF];
	char small[4];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_vs_ok(xsd_path_parent(out, sizeof(out), cases[i][0]));
		assert_string_equal(out, cases[i][1]);
	}
	assert_vs_err(VS_ENOENT, xsd_path_parent(out, sizeof(out), "/"));
	assert_vs_err(VS_ERANGE, xsd_path_parent(small, sizeof(small), "/abc/d"));
	assert_vs_ok(xsd_path_parent(small, sizeof(small), "/ab/c"));
	assert_string_equal(small, "/ab");
}

static void test_basename_is_the_last_component(void **state)
{
	static const char *const cases[][2] = {
	    {"/", ""},
	    {"/a", "a"},
	    {"/a/bc", "bc"},
	    {"@releaseDomain", "@releaseDomain"},
	    {"@releaseDomain/7", "7"},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		assert_string_equal(xsd_path_basename(cases[i][0]), cases[i][1]);
}

struct desc_case {
	const char *path;
	const char *ancestor;
	int depth; /* -1: not a descendant-or-self */
};

static void test_descendants_and_depth_respect_component_boundaries(void **state)
{
	static const struct desc_case cases[] = {
	    {"/", "/", 0},
	    {"/a", "/", 1},
	    {"/a/b", "/", 2},
	    {"/a/b/c", "/", 3},
	    {"/a", "/a", 0},
	    {"/a/b", "/a", 1},
	    {"/a/b/c", "/a", 2},
	    {"/a/b/c", "/a/b", 1},
	    {"/ab", "/a", -1},
	    {"/a/bc", "/a/b", -1},
	    {"/a", "/a/b", -1},
	    {"/", "/a", -1},
	    {"/b", "/a", -1},
	    {"@releaseDomain", "/", -1},
	    {"@releaseDomain", "@releaseDomain", 0},
	    {"@releaseDomain/5", "@releaseDomain", 1},
	    {"@releaseDomainX", "@releaseDomain", -1},
	    {"/local/domain/5/data/x", "/local/domain/5", 2},
	    {"/local/domain/50", "/local/domain/5", -1},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct desc_case *c = &cases[i];
		int d = xsd_path_depth(c->path, c->ancestor);

		if (d != c->depth ||
		    xsd_path_is_descendant(c->path, c->ancestor) != (c->depth >= 0))
			fail_msg("case %zu '%s' under '%s': depth %d, want %d", i, c->path,
				 c->ancestor, d, c->depth);
	}
}

struct domid_case {
	const char *path;
	int rc;
	unsigned int domid;
};

static void test_domid_of_a_path_below_local_domain(void **state)
{
	static const struct domid_case cases[] = {
	    {"/local/domain/0", 0, 0},		 {"/local/domain/5", 0, 5},
	    {"/local/domain/5/", 0, 5},		 {"/local/domain/5/device/vbd", 0, 5},
	    {"/local/domain/65535/x", 0, 65535}, {"/local/domain/65536", VS_ENOENT, 0},
	    {"/local/domain/05", VS_ENOENT, 0},	 {"/local/domain/00", VS_ENOENT, 0},
	    {"/local/domain/5x", VS_ENOENT, 0},	 {"/local/domain/-1", VS_ENOENT, 0},
	    {"/local/domain/", VS_ENOENT, 0},	 {"/local/domain", VS_ENOENT, 0},
	    {"/local/domainx/5", VS_ENOENT, 0},	 {"/vm/5", VS_ENOENT, 0},
	    {"@releaseDomain/5", VS_ENOENT, 0},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		unsigned int domid = 777;
		int rc = xsd_path_domid(cases[i].path, &domid);

		if (rc != cases[i].rc)
			fail_msg("case %zu '%s': rc %d, want %d", i, cases[i].path, rc,
				 cases[i].rc);
		assert_int_equal(domid, rc ? 777 : cases[i].domid);
	}
}

static void test_relative_strips_only_the_own_home(void **state)
{
	static const struct {
		const char *path;
		unsigned int domid;
		const char *want;
	} cases[] = {
	    {"/local/domain/5/device/vif", 5, "device/vif"},
	    {"/local/domain/5/x", 5, "x"},
	    {"/local/domain/5", 5, "/local/domain/5"},
	    {"/local/domain/50/x", 5, "/local/domain/50/x"},
	    {"/local/domain/6/x", 5, "/local/domain/6/x"},
	    {"/vm/x", 5, "/vm/x"},
	    {"/local/domain/0/x", 0, "x"},
	    {"@releaseDomain", 0, "@releaseDomain"},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		assert_string_equal(xsd_path_relative(cases[i].path, cases[i].domid),
				    cases[i].want);
	/* a relative watch sees the event path it would have registered */
	{
		char canon[XSD_PATH_BUF];

		assert_vs_ok(xsd_path_canonical(canon, sizeof(canon), "data/x", 9, 0, 0));
		assert_string_equal(xsd_path_relative(canon, 9), "data/x");
	}
}

struct store_case {
	const char *path;
	const char *node;
	const char *value;
	const char *meta;
};

static void test_store_paths_of_nodes_and_blobs(void **state)
{
	static const struct store_case cases[] = {
	    {"/", "", ".value", ".meta"},
	    {"/a", "a", "a/.value", "a/.meta"},
	    {"/local/domain/1/name", "local/domain/1/name", "local/domain/1/name/.value",
	     "local/domain/1/name/.meta"},
	    {"/a@b/-_", "a@b/-_", "a@b/-_/.value", "a@b/-_/.meta"},
	    {"@releaseDomain", ".@releaseDomain", ".@releaseDomain/.value",
	     ".@releaseDomain/.meta"},
	    {"@introduceDomain", ".@introduceDomain", ".@introduceDomain/.value",
	     ".@introduceDomain/.meta"},
	    {"@releaseDomain/5", ".@releaseDomain/5", ".@releaseDomain/5/.value",
	     ".@releaseDomain/5/.meta"},
	};
	char out[XSD_STORE_PATH_BUF], back[XSD_PATH_BUF];
	enum xsd_store_part part;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct store_case *c = &cases[i];
		const char *want[3] = {c->node, c->value, c->meta};

		for (int p = XSD_STORE_NODE; p <= XSD_STORE_META; p++) {
			assert_vs_ok(xsd_path_store(out, sizeof(out), c->path, p));
			assert_string_equal(out, want[p]);
			part = 99;
			assert_vs_ok(xsd_path_from_store(back, sizeof(back), out, &part));
			assert_string_equal(back, c->path);
			assert_int_equal(part, p);
		}
	}
	/* not canonical: refused */
	assert_vs_err(VS_EINVAL, xsd_path_store(out, sizeof(out), "a", XSD_STORE_NODE));
	assert_vs_err(VS_EINVAL, xsd_path_store(out, sizeof(out), "/a/", XSD_STORE_NODE));
	assert_vs_err(VS_EINVAL, xsd_path_store(out, sizeof(out), "/a.b", XSD_STORE_VALUE));
	/* short buffers */
	assert_vs_err(VS_ERANGE, xsd_path_store(out, 5, "/a/b", XSD_STORE_VALUE));
	assert_vs_err(VS_ERANGE, xsd_path_store(out, 0, "/", XSD_STORE_NODE));
	assert_vs_err(VS_ERANGE, xsd_path_from_store(back, 3, "a/b/c", NULL));
	/* a leading '/' is accepted on the way back, and part may be NULL */
	assert_vs_ok(xsd_path_from_store(back, sizeof(back), "/a/b/.meta", NULL));
	assert_string_equal(back, "/a/b");
}

static void test_long_names_become_chunk_chains(void **state)
{
	static const size_t lengths[] = {1, 254, 255, 256, 257, 508, 509, 510, 600, 2048};
	char out[XSD_STORE_PATH_BUF], back[XSD_PATH_BUF];
	enum xsd_store_part part;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lengths); i++) {
		size_t n = lengths[i], chunks = 0, rest;
		const char *path = longpath(0, "/local/domain/3/", n, 'q');
		const char *s;

		assert_vs_ok(xsd_path_store(out, sizeof(out), path, XSD_STORE_VALUE));
		assert_true(!strncmp(out, "local/domain/3/", 15));
		/* every store name fits; chunks are 254 bytes + '.', the rest 2..255 */
		for (s = out + 15;;) {
			size_t len = strcspn(s, "/");

			assert_true(len >= 1 && len <= XSD_STORE_NAME_MAX);
			if (s[len - 1] != '.')
				break;
			assert_int_equal(len, XSD_STORE_NAME_MAX);
			{
				char name[XSD_STORE_NAME_MAX + 1];

				memcpy(name, s, len);
				name[len] = '\0';
				assert_int_equal(xsd_store_entry_kind(name), XSD_ENTRY_CHUNK);
			}
			chunks++;
			s += len + 1;
		}
		rest = strcspn(s, "/");
		assert_string_equal(s + rest, "/.value");
		assert_int_equal(chunks * 254 + rest, n);
		assert_int_equal(chunks, n > 255 ? (n - 2) / 254 : 0);
		assert_vs_ok(xsd_path_from_store(back, sizeof(back), out, &part));
		assert_string_equal(back, path);
		assert_int_equal(part, XSD_STORE_VALUE);
	}
	/* a long special name: the ".@" prefix is part of the chained name */
	{
		const char *path = longpath(0, "@", 400, 'k');

		assert_vs_ok(xsd_path_store(out, sizeof(out), path, XSD_STORE_META));
		assert_true(!strncmp(out, ".@kkk", 5));
		assert_int_equal(strcspn(out, "/"), XSD_STORE_NAME_MAX);
		assert_vs_ok(xsd_path_from_store(back, sizeof(back), out, &part));
		assert_string_equal(back, path);
		assert_int_equal(part, XSD_STORE_META);
	}
	/* the longest canonical path fits XSD_STORE_PATH_BUF */
	assert_vs_ok(xsd_path_store(
	    out, sizeof(out), longpath(0, "/local/domain/12345/", 2048, 'w'), XSD_STORE_VALUE));
}

static void test_from_store_refuses_what_the_mapping_never_writes(void **state)
{
	char chunk[300], bad[700];
	char back[XSD_PATH_BUF];
	static const char *const cases[] = {
	    "a/.value/x",     /* a blob is a leaf */
	    ".value/.meta",   /* likewise */
	    "a/.meta/.value", /* likewise */
	    ".foo",	      /* reserved top-level name */
	    "a/.@x",	      /* ".@" only at the top */
	    "a b",	      /* charset */
	    "a.b",	      /* '.' inside a name */
	    "a//b",	      /* empty component */
	    "a/",	      /* trailing '/' */
	    "x./y",	      /* a '.'-ended name that is not a chunk */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		if (xsd_path_from_store(back, sizeof(back), cases[i], NULL) != VS_EINVAL)
			fail_msg("case %zu '%s' accepted", i, cases[i]);
	/* a chunk alone, without the rest of its name */
	snprintf(chunk, sizeof(chunk), "%s.", longpath(0, "", 254, 'c'));
	assert_vs_err(VS_EINVAL, xsd_path_from_store(back, sizeof(back), chunk, NULL));
	snprintf(bad, sizeof(bad), "%s/.value", chunk);
	assert_vs_err(VS_EINVAL, xsd_path_from_store(back, sizeof(back), bad, NULL));
	/* a chain whose rest is 1 byte: the whole name (255) fits one store name */
	snprintf(bad, sizeof(bad), "%s/c", chunk);
	assert_vs_err(VS_EINVAL, xsd_path_from_store(back, sizeof(back), bad, NULL));
	/* ...with 2 bytes it is the canonical form of a 256-byte name */
	snprintf(bad, sizeof(bad), "%s/cc", chunk);
	assert_vs_ok(xsd_path_from_store(back, sizeof(back), bad, NULL));
	assert_int_equal(strlen(back), 257);
	/* a chunk of the wrong length is not a chunk */
	snprintf(bad, sizeof(bad), "%s./cc", longpath(0, "", 100, 'c'));
	assert_vs_err(VS_EINVAL, xsd_path_from_store(back, sizeof(back), bad, NULL));
	/* a name over 255 bytes is not a store name */
	assert_vs_err(VS_EINVAL,
		      xsd_path_from_store(back, sizeof(back), longpath(0, "", 256, 'c'), NULL));
}

static void test_store_entries_are_classified(void **state)
{
	char chunk[300];

	(void)state;
	snprintf(chunk, sizeof(chunk), "%s.", longpath(0, "", 254, 'c'));
	assert_int_equal(xsd_store_entry_kind(".value"), XSD_ENTRY_VALUE);
	assert_int_equal(xsd_store_entry_kind(".meta"), XSD_ENTRY_META);
	assert_int_equal(xsd_store_entry_kind("name"), XSD_ENTRY_CHILD);
	assert_int_equal(xsd_store_entry_kind("a-b_c@9"), XSD_ENTRY_CHILD);
	assert_int_equal(xsd_store_entry_kind(longpath(0, "", 255, 'c')), XSD_ENTRY_CHILD);
	assert_int_equal(xsd_store_entry_kind(chunk), XSD_ENTRY_CHUNK);
	assert_int_equal(xsd_store_entry_kind(".@releaseDomain"), XSD_ENTRY_OTHER);
	assert_int_equal(xsd_store_entry_kind(".git"), XSD_ENTRY_OTHER);
	assert_int_equal(xsd_store_entry_kind("x."), XSD_ENTRY_OTHER);
	assert_int_equal(xsd_store_entry_kind("a b"), XSD_ENTRY_OTHER);
	assert_int_equal(xsd_store_entry_kind(""), XSD_ENTRY_OTHER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_canonical_follows_cxenstored_rules),
	    cmocka_unit_test(test_path_max_counts_after_the_local_domain_prefix),
	    cmocka_unit_test(test_canonical_reports_a_short_buffer_as_erange),
	    cmocka_unit_test(test_special_names_are_classified),
	    cmocka_unit_test(test_domain_home_is_local_domain_n),
	    cmocka_unit_test(test_parent_is_what_get_parent_returns),
	    cmocka_unit_test(test_basename_is_the_last_component),
	    cmocka_unit_test(test_descendants_and_depth_respect_component_boundaries),
	    cmocka_unit_test(test_domid_of_a_path_below_local_domain),
	    cmocka_unit_test(test_relative_strips_only_the_own_home),
	    cmocka_unit_test(test_store_paths_of_nodes_and_blobs),
	    cmocka_unit_test(test_long_names_become_chunk_chains),
	    cmocka_unit_test(test_from_store_refuses_what_the_mapping_never_writes),
	    cmocka_unit_test(test_store_entries_are_classified),
	};

	return cmocka_run_group_tests_name("path", tests, NULL, NULL);
}
