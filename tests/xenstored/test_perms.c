/* SPDX-License-Identifier: MIT */
/*
 * Node permissions (xenstored/perms.c): wire and text forms, the access
 * decision of C xenstored's perm_for_conn(), inheritance on creation, the
 * handling of dead domains and DOMID_ANY, and the .meta blob codec.
 */
#include "vst.h"

#include "xsd_int.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ANY XSD_DOMID_ANY
#define NOT XSD_NO_TARGET
#define ALL (XSD_PERM_READ | XSD_PERM_WRITE | XSD_PERM_OWNER)

/* Parse @text (the .meta form) into @ps, which must be initialised. */
static void perms_from(struct xsd_perms *ps, const char *text)
{
	assert_vs_ok(xsd_perms_parse_text(ps, text, strlen(text)));
}

/* The .meta text form of @ps, in a static buffer. */
static const char *perms_text(const struct xsd_perms *ps)
{
	static char out[512];
	struct vs_buf b = VS_BUF_INIT;

	assert_vs_ok(xsd_perms_format_text(&b, ps));
	assert_true(b.size < sizeof(out));
	memcpy(out, b.ptr, b.size + 1);
	vs_buf_release(&b);
	return out;
}

struct parse_case {
	const char *s;
	int rc;
	unsigned int domid;
	unsigned int perm;
};

static void test_wire_entries_parse_like_xenstore_strings_to_perms(void **state)
{
	static const struct parse_case cases[] = {
	    {"b0", 0, 0, XSD_PERM_BOTH},
	    {"r5", 0, 5, XSD_PERM_READ},
	    {"w3", 0, 3, XSD_PERM_WRITE},
	    {"n7", 0, 7, XSD_PERM_NONE},
	    {"r65535", 0, 65535, XSD_PERM_READ},
	    {"r32757", 0, ANY, XSD_PERM_READ},
	    /* strtol(…, 0): hex, octal, blanks, sign */
	    {"r0x10", 0, 16, XSD_PERM_READ},
	    {"r0X1f", 0, 31, XSD_PERM_READ},
	    {"r010", 0, 8, XSD_PERM_READ},
	    {"r00", 0, 0, XSD_PERM_READ},
	    {"r 5", 0, 5, XSD_PERM_READ},
	    {"r\t5", 0, 5, XSD_PERM_READ},
	    {"r+5", 0, 5, XSD_PERM_READ},
	    {"r-0", 0, 0, XSD_PERM_READ},
	    {"r000000000000000000000000007", 0, 7, XSD_PERM_READ},
	    /* refused */
	    {"", VS_EINVAL, 0, 0},
	    {"r", VS_EINVAL, 0, 0},
	    {"x1", VS_EINVAL, 0, 0},
	    {"R5", VS_EINVAL, 0, 0},
	    {"5", VS_EINVAL, 0, 0},
	    {"r5x", VS_EINVAL, 0, 0},
	    {"r5 ", VS_EINVAL, 0, 0},
	    {"r ", VS_EINVAL, 0, 0},
	    {"r08", VS_EINVAL, 0, 0},
	    {"r0x", VS_EINVAL, 0, 0},
	    {"r0xg", VS_EINVAL, 0, 0},
	    {"r--1", VS_EINVAL, 0, 0},
	    {"rr5", VS_EINVAL, 0, 0},
	    /* outside domid_t: cxenstored would truncate, we refuse */
	    {"r-1", VS_EINVAL, 0, 0},
	    {"r65536", VS_EINVAL, 0, 0},
	    {"r4294967296", VS_EINVAL, 0, 0},
	    {"r99999999999999999999999999", VS_EINVAL, 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct parse_case *c = &cases[i];
		struct xsd_perm e = {12345, 99};
		int rc = xsd_perm_parse(&e, c->s);

		if (rc != c->rc)
			fail_msg("case %zu '%s': rc %d, want %d", i, c->s, rc, c->rc);
		if (!rc) {
			assert_int_equal(e.domid, c->domid);
			assert_int_equal(e.perm, c->perm);
		}
	}
}

static void test_set_perms_payload_is_a_nul_separated_list(void **state)
{
	struct xsd_perms ps = XSD_PERMS_INIT;

	(void)state;
	assert_vs_ok(xsd_perms_parse_wire(&ps, "b0\0r5\0w7", 9, 0));
	assert_int_equal(ps.num, 3);
	assert_string_equal(perms_text(&ps), "b0 r5 w7");
	/* bytes after the last NUL are not an entry (cxenstored counts NULs) */
	assert_vs_ok(xsd_perms_parse_wire(&ps, "b0\0r5", 5, 0));
	assert_string_equal(perms_text(&ps), "b0");
	/* no entry at all, or an empty one */
	assert_vs_err(VS_EINVAL, xsd_perms_parse_wire(&ps, "", 0, 0));
	assert_int_equal(ps.num, 0);
	assert_vs_err(VS_EINVAL, xsd_perms_parse_wire(&ps, "r5", 2, 0));
	assert_vs_err(VS_EINVAL, xsd_perms_parse_wire(&ps, "\0", 1, 0));
	assert_vs_err(VS_EINVAL, xsd_perms_parse_wire(&ps, "b0\0\0", 4, 0));
	assert_vs_err(VS_EINVAL, xsd_perms_parse_wire(&ps, "b0\0q1\0", 6, 0));
	assert_int_equal(ps.num, 0);
	/* node-permissions quota: checked before the entries are parsed */
	assert_vs_ok(xsd_perms_parse_wire(&ps, "b0\0r1\0r2\0", 9, 3));
	assert_vs_err(VS_ENOSPC, xsd_perms_parse_wire(&ps, "b0\0r1\0r2\0r3\0", 12, 3));
	assert_vs_err(VS_ENOSPC, xsd_perms_parse_wire(&ps, "x\0y\0z\0", 6, 2));
	assert_vs_err(VS_EINVAL, xsd_perms_parse_wire(&ps, "", 0, 2));
	xsd_perms_release(&ps);
	xsd_perms_release(&ps);
	xsd_perms_release(NULL);
}

static void test_get_perms_reply_lists_entries_without_flags(void **state)
{
	struct xsd_perms ps = XSD_PERMS_INIT;
	struct vs_buf b = VS_BUF_INIT;

	(void)state;
	perms_from(&ps, "b0 r5 !w7 n32757");
	assert_vs_ok(xsd_perms_format_wire(&b, &ps));
	assert_int_equal(b.size, 16);
	assert_memory_equal(b.ptr, "b0\0r5\0w7\0n32757\0", 16);
	/* appends */
	assert_vs_ok(xsd_perms_format_wire(&b, &ps));
	assert_int_equal(b.size, 32);
	/* and it parses back (flags are not part of the wire form) */
	assert_vs_ok(xsd_perms_parse_wire(&ps, b.ptr, 16, 0));
	assert_string_equal(perms_text(&ps), "b0 r5 w7 n32757");
	vs_buf_release(&b);
	xsd_perms_release(&ps);
}

static void test_text_form_is_strict_and_canonical(void **state)
{
	static const char *const good[] = {
	    "b0", "n0 r5", "r0 !w5 b7", "b32757", "!n1 r2", "w65535 r0",
	};
	static const char *const bad[] = {
	    "",	    " ", "b0 ", " b0",	"b0  r5", "b00",    "b01",   "B0",  "b-1",  "b+1",
	    "!!b0", "!", "b",	"b0r5", "b0\n",	  "b65536", "b0,r5", "b 0", "b0x1", "b0\tr5",
	};
	struct xsd_perms ps = XSD_PERMS_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		perms_from(&ps, good[i]);
		assert_string_equal(perms_text(&ps), good[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (xsd_perms_parse_text(&ps, bad[i], strlen(bad[i])) != VS_ECORRUPT)
			fail_msg("case %zu '%s' accepted", i, bad[i]);
		assert_int_equal(ps.num, 0);
	}
	/* the length bounds the text: a NUL or what follows is not read */
	assert_vs_ok(xsd_perms_parse_text(&ps, "b0 r5XYZ", 5));
	assert_string_equal(perms_text(&ps), "b0 r5");
	assert_vs_err(VS_ECORRUPT, xsd_perms_parse_text(&ps, "b0\0", 3));
	/* an empty list or a bad entry has no text form */
	{
		struct xsd_perms empty = XSD_PERMS_INIT;
		struct vs_buf b = VS_BUF_INIT;

		assert_vs_err(VS_EINVAL, xsd_perms_format_text(&b, &empty));
		perms_from(&ps, "b0");
		ps.p[0].perm = XSD_PERM_OWNER;
		assert_vs_err(VS_EINVAL, xsd_perms_format_text(&b, &ps));
		vs_buf_release(&b);
	}
	xsd_perms_release(&ps);
}

struct decide_case {
	const char *perms;
	unsigned int domid;
	unsigned int target;
	bool priv;
	unsigned int want;
};

static void test_access_decision_is_perm_for_conn(void **state)
{
	static const struct decide_case cases[] = {
	    /* privileged connections get everything, whatever the list says */
	    {"n5", 0, NOT, true, ALL},
	    {"n5", 9, NOT, true, ALL},
	    /* the owner gets everything, whatever its letter */
	    {"n5", 5, NOT, false, ALL},
	    {"r5 n5", 5, NOT, false, ALL},
	    /* dom0 is only privileged when the caller says so */
	    {"n5", 0, NOT, false, XSD_PERM_NONE},
	    /* others: the first matching entry after the owner */
	    {"n0 r5", 5, NOT, false, XSD_PERM_READ},
	    {"n0 w5", 5, NOT, false, XSD_PERM_WRITE},
	    {"n0 b5", 5, NOT, false, XSD_PERM_BOTH},
	    {"b0 n5", 5, NOT, false, XSD_PERM_NONE},
	    {"n0 r5 w5", 5, NOT, false, XSD_PERM_READ},
	    {"n0 r6 w5", 5, NOT, false, XSD_PERM_WRITE},
	    /* else the owner entry's letter is the default */
	    {"n0 r5", 6, NOT, false, XSD_PERM_NONE},
	    {"r0 w5", 6, NOT, false, XSD_PERM_READ},
	    {"b0", 6, NOT, false, XSD_PERM_BOTH},
	    {"w0 n5", 6, NOT, false, XSD_PERM_WRITE},
	    /* ignored entries match nobody */
	    {"n0 !r5", 5, NOT, false, XSD_PERM_NONE},
	    {"r0 !n5", 5, NOT, false, XSD_PERM_READ},
	    {"n0 !r5 w5", 5, NOT, false, XSD_PERM_WRITE},
	    /* SET_TARGET: the target's rights too, first match wins */
	    {"n7", 5, 7, false, ALL},
	    {"n0 r7", 5, 7, false, XSD_PERM_READ},
	    {"n0 w7 r5", 5, 7, false, XSD_PERM_WRITE},
	    {"n0 r5 w7", 5, 7, false, XSD_PERM_READ},
	    {"n0 !r7", 5, 7, false, XSD_PERM_NONE},
	    {"n0 r7", 5, NOT, false, XSD_PERM_NONE},
	    {"n0 r7", 7, 5, false, XSD_PERM_READ},
	    /* DOMID_ANY matches every domain, the owner entry included */
	    {"n0 r32757", 9, NOT, false, XSD_PERM_READ},
	    {"n0 w5 r32757", 5, NOT, false, XSD_PERM_WRITE},
	    {"n0 r32757 w5", 5, NOT, false, XSD_PERM_READ},
	    {"n0 w5 r32757", 6, NOT, false, XSD_PERM_READ},
	    {"n0 !r32757", 9, NOT, false, XSD_PERM_NONE},
	    {"n32757", 9, NOT, false, ALL},
	};
	struct xsd_perms ps = XSD_PERMS_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct decide_case *c = &cases[i];
		unsigned int got;

		perms_from(&ps, c->perms);
		got = xsd_perm_for(&ps, c->domid, c->target, c->priv);
		if (got != c->want)
			fail_msg("case %zu '%s' for %u (target %u, priv %d): %#x, want %#x", i,
				 c->perms, c->domid, c->target, c->priv, got, c->want);
		assert_true(xsd_perm_allows(&ps, c->domid, c->target, c->priv, c->want));
		assert_true(xsd_perm_allows(&ps, c->domid, c->target, c->priv, 0));
		if (c->want != ALL)
			assert_false(xsd_perm_allows(&ps, c->domid, c->target, c->priv,
						     c->want | XSD_PERM_OWNER));
	}
	/* SET_PERMS needs write and ownership */
	perms_from(&ps, "n0 b5");
	assert_false(xsd_perm_allows(&ps, 5, NOT, false, XSD_PERM_WRITE | XSD_PERM_OWNER));
	assert_true(xsd_perm_allows(&ps, 0, NOT, false, XSD_PERM_WRITE | XSD_PERM_OWNER));
	xsd_perms_release(&ps);
}

static void test_new_nodes_inherit_and_unprivileged_creators_own_them(void **state)
{
	static const struct {
		const char *parent;
		unsigned int creator;
		bool priv;
		const char *want;
	} cases[] = {
	    {"r0 w5", 7, false, "r7 w5"},
	    /* the creator's own entry stays (the owner entry matches first) */
	    {"r0 w5", 5, false, "r5 w5"},
	    {"n0 r5 b9", 9, false, "n9 r5 b9"},
	    /* privileged creators keep the parent's owner */
	    {"r0 w5", 0, true, "r0 w5"},
	    {"n3", 0, true, "n3"},
	    /* flags are inherited as they are */
	    {"n0 !r3", 9, false, "n9 !r3"},
	    {"b32757 r1", 4, false, "b4 r1"},
	};
	struct xsd_perms parent = XSD_PERMS_INIT, child = XSD_PERMS_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		perms_from(&parent, cases[i].parent);
		assert_vs_ok(xsd_perms_inherit(&child, &parent, cases[i].creator, cases[i].priv));
		assert_string_equal(perms_text(&child), cases[i].want);
		assert_string_equal(perms_text(&parent), cases[i].parent);
	}
	xsd_perms_release(&parent);
	xsd_perms_release(&child);
}

/* Domains 0, 5 and 6 exist. */
static bool exists_056(void *payload, unsigned int domid)
{
	int *calls = payload;

	if (calls)
		(*calls)++;
	return domid == 0 || domid == 5 || domid == 6;
}

static void test_set_perms_flags_unknown_domains_and_refuses_an_unknown_owner(void **state)
{
	static const struct {
		const char *in;
		bool any_ok;
		int rc;
		const char *out;
	} cases[] = {
	    {"b0 r5 w6", false, 0, "b0 r5 w6"},
	    {"b0 r5 w9", false, 0, "b0 r5 !w9"},
	    {"n5 r9 r10 b0", false, 0, "n5 !r9 !r10 b0"},
	    {"b9 r5", false, VS_ENOENT, NULL},
	    /* DOMID_ANY needs the writer's feature */
	    {"b0 r32757", false, 0, "b0 !r32757"},
	    {"b0 r32757", true, 0, "b0 r32757"},
	    {"r32757", false, VS_ENOENT, NULL},
	    {"r32757 w9", true, 0, "r32757 !w9"},
	    /* an already flagged entry stays flagged */
	    {"b0 !r5", false, 0, "b0 !r5"},
	};
	struct xsd_perms ps = XSD_PERMS_INIT;
	int calls = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int rc;

		perms_from(&ps, cases[i].in);
		rc = xsd_perms_prepare_set(&ps, cases[i].any_ok, exists_056, &calls);
		if (rc != cases[i].rc)
			fail_msg("case %zu '%s': rc %d, want %d", i, cases[i].in, rc, cases[i].rc);
		if (!rc)
			assert_string_equal(perms_text(&ps), cases[i].out);
	}
	assert_true(calls > 0);
	/* no existence callback: every real domain counts as there */
	perms_from(&ps, "b9 r10");
	assert_vs_ok(xsd_perms_prepare_set(&ps, false, NULL, NULL));
	assert_string_equal(perms_text(&ps), "b9 r10");
	xsd_perms_release(&ps);
}

static void test_dead_domains_are_ignored_and_dead_owners_replaced(void **state)
{
	static const struct {
		const char *in;
		bool changed;
		const char *out;
	} cases[] = {
	    {"b0 r5 w6", false, "b0 r5 w6"},   {"b0 r5 w7", true, "b0 r5 !w7"},
	    {"n9 r5 w7", true, "n0 r5 !w7"},   {"n9", true, "n0"},
	    {"b0 !r7 r7", true, "b0 !r7 !r7"}, {"b0 !r7", false, "b0 !r7"},
	    {"b0 r32757", false, "b0 r32757"}, {"r32757 r9", true, "r32757 !r9"},
	};
	struct xsd_perms ps = XSD_PERMS_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		perms_from(&ps, cases[i].in);
		assert_int_equal(xsd_perms_adjust(&ps, 0, exists_056, NULL), cases[i].changed);
		assert_string_equal(perms_text(&ps), cases[i].out);
		/* a second pass finds nothing to do */
		assert_false(xsd_perms_adjust(&ps, 0, exists_056, NULL));
	}
	/* the privileged domain may be another one */
	perms_from(&ps, "n9 r5");
	assert_true(xsd_perms_adjust(&ps, 6, exists_056, NULL));
	assert_string_equal(perms_text(&ps), "n6 r5");
	/* no callback: nothing to check */
	perms_from(&ps, "n9 r7");
	assert_false(xsd_perms_adjust(&ps, 0, NULL, NULL));
	xsd_perms_release(&ps);
}

static void test_forgetting_a_domain_flags_its_entries(void **state)
{
	static const struct {
		const char *in;
		unsigned int domid;
		bool changed;
		const char *out;
	} cases[] = {
	    {"b5 r5 r7", 5, true, "b0 !r5 r7"},	    {"b5 r5 r7", 7, true, "b5 r5 !r7"},
	    {"b5 r5 r7", 9, false, "b5 r5 r7"},	    {"b0 r7 w7", 7, true, "b0 !r7 !w7"},
	    {"b0 !r7", 7, false, "b0 !r7"},	    {"b0 r7", 0, false, "b0 r7"},
	    {"b0 r32757", ANY, false, "b0 r32757"},
	};
	struct xsd_perms ps = XSD_PERMS_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		perms_from(&ps, cases[i].in);
		assert_int_equal(xsd_perms_forget_domain(&ps, cases[i].domid, 0), cases[i].changed);
		assert_string_equal(perms_text(&ps), cases[i].out);
	}
	/* the dead domain loses its rights at once */
	perms_from(&ps, "n0 r7");
	assert_int_equal(xsd_perm_for(&ps, 7, NOT, false), XSD_PERM_READ);
	xsd_perms_forget_domain(&ps, 7, 0);
	assert_int_equal(xsd_perm_for(&ps, 7, NOT, false), XSD_PERM_NONE);
	xsd_perms_release(&ps);
}

static void test_lists_copy_and_compare(void **state)
{
	struct xsd_perms a = XSD_PERMS_INIT, b;

	(void)state;
	xsd_perms_init(&b);
	assert_true(xsd_perms_equal(&a, &b));
	for (unsigned int i = 0; i < 100; i++)
		assert_vs_ok(xsd_perms_add(&a, i, i % 4));
	assert_int_equal(a.num, 100);
	assert_true(a.cap >= 100);
	assert_false(xsd_perms_equal(&a, &b));
	assert_vs_ok(xsd_perms_copy(&b, &a));
	assert_true(xsd_perms_equal(&a, &b));
	b.p[50].perm |= XSD_PERM_IGNORE;
	assert_false(xsd_perms_equal(&a, &b));
	assert_vs_ok(xsd_perms_copy(&b, &b));
	perms_from(&b, "b0");
	assert_int_equal(b.num, 1);
	assert_vs_ok(xsd_perms_copy(&a, &b));
	assert_int_equal(a.num, 1);
	assert_int_equal(xsd_perm_letter(XSD_PERM_NONE), 'n');
	assert_int_equal(xsd_perm_letter(XSD_PERM_READ | XSD_PERM_IGNORE), 'r');
	assert_int_equal(xsd_perm_letter(XSD_PERM_WRITE), 'w');
	assert_int_equal(xsd_perm_letter(XSD_PERM_BOTH), 'b');
	xsd_perms_release(&a);
	xsd_perms_release(&b);
}

/* Format @m and compare with @want byte for byte. */
static void assert_meta_bytes(const struct xsd_meta *m, const char *want)
{
	struct vs_buf b = VS_BUF_INIT;

	assert_vs_ok(xsd_meta_format(&b, m));
	assert_int_equal(b.size, strlen(want));
	assert_memory_equal(b.ptr, want, b.size);
	vs_buf_release(&b);
}

static void test_meta_blob_is_canonical_text(void **state)
{
	struct xsd_meta m, back;
	struct vs_buf b = VS_BUF_INIT;

	(void)state;
	xsd_meta_init(&m);
	xsd_meta_init(&back);
	perms_from(&m.perms, "b0 r5 !n7");
	m.seq = 123456;
	assert_meta_bytes(&m, "perms b0 r5 !n7\nseq 123456\n");
	assert_vs_ok(xsd_meta_set_label(&m, "system_u:object_r:xs_t:s0"));
	assert_meta_bytes(&m, "perms b0 r5 !n7\nseq 123456\nlabel system_u:object_r:xs_t:s0\n");
	/* parse gives the same metadata, which formats to the same bytes */
	assert_vs_ok(xsd_meta_format(&b, &m));
	assert_vs_ok(xsd_meta_parse(&back, b.ptr, b.size));
	assert_true(xsd_perms_equal(&back.perms, &m.perms));
	assert_true(back.seq == 123456);
	assert_string_equal(back.label, m.label);
	assert_meta_bytes(&back, b.ptr);
	/* format replaces the buffer's contents */
	assert_vs_ok(xsd_meta_set_label(&m, NULL));
	assert_null(m.label);
	assert_vs_ok(xsd_meta_format(&b, &m));
	assert_int_equal(b.size, strlen("perms b0 r5 !n7\nseq 123456\n"));
	/* parsing a blob without label drops the old one */
	assert_vs_ok(xsd_meta_parse(&back, b.ptr, b.size));
	assert_null(back.label);
	/* the extremes of seq */
	m.seq = 0;
	assert_meta_bytes(&m, "perms b0 r5 !n7\nseq 0\n");
	m.seq = UINT64_MAX;
	assert_meta_bytes(&m, "perms b0 r5 !n7\nseq 18446744073709551615\n");
	assert_vs_ok(xsd_meta_format(&b, &m));
	assert_vs_ok(xsd_meta_parse(&back, b.ptr, b.size));
	assert_true(back.seq == UINT64_MAX);
	vs_buf_release(&b);
	xsd_meta_release(&m);
	xsd_meta_release(&back);
	xsd_meta_release(NULL);
}

static void test_meta_parse_rejects_anything_else(void **state)
{
	static const char *const bad[] = {
	    "",
	    "perms b0\n",
	    "seq 1\n",
	    "seq 1\nperms b0\n",
	    "perms b0\nseq 1",
	    "perms b0\nseq 1\n\n",
	    "perms b0\nseq 01\n",
	    "perms b0\nseq -1\n",
	    "perms b0\nseq 1x\n",
	    "perms b0\nseq \n",
	    "perms b0\nseq 18446744073709551616\n",
	    "perms \nseq 1\n",
	    "perms b0 \nseq 1\n",
	    "perms  b0\nseq 1\n",
	    "perms b0\r\nseq 1\r\n",
	    "Perms b0\nseq 1\n",
	    "perms b0\nseq 1\nlabel \n",
	    "perms b0\nseq 1\nlabel a b\n",
	    "perms b0\nseq 1\nlabel x\nlabel y\n",
	    "perms b0\nseq 1\nlabel x",
	    "perms b0\nseq 1\nowner 0\n",
	    "perms b0\nseq 1\nlabel x\nseq 2\n",
	    "perms b0\nlabel x\nseq 1\n",
	    "perms b0\nseq 1\nlabel \x7f\n",
	};
	struct xsd_meta m;

	(void)state;
	xsd_meta_init(&m);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (xsd_meta_parse(&m, bad[i], strlen(bad[i])) != VS_ECORRUPT)
			fail_msg("case %zu '%s' accepted", i, bad[i]);
		assert_int_equal(m.perms.num, 0);
		assert_null(m.label);
	}
	/* a NUL inside the label */
	assert_vs_err(VS_ECORRUPT, xsd_meta_parse(&m, "perms b0\nseq 1\nlabel a\0b\n", 25));
	/* a label of the longest length is fine, one more byte is not */
	{
		char blob[600];
		int n = snprintf(blob, sizeof(blob), "perms b0\nseq 1\nlabel %0255d\n", 0);

		assert_vs_ok(xsd_meta_parse(&m, blob, (size_t)n));
		assert_int_equal(strlen(m.label), XSD_LABEL_MAX);
		n = snprintf(blob, sizeof(blob), "perms b0\nseq 1\nlabel %0256d\n", 0);
		assert_vs_err(VS_ECORRUPT, xsd_meta_parse(&m, blob, (size_t)n));
	}
	xsd_meta_release(&m);
}

static void test_meta_labels_and_copies(void **state)
{
	struct xsd_meta m, c;
	struct vs_buf b = VS_BUF_INIT;
	char longlabel[XSD_LABEL_MAX + 2];

	(void)state;
	xsd_meta_init(&m);
	xsd_meta_init(&c);
	assert_vs_err(VS_EINVAL, xsd_meta_set_label(&m, ""));
	assert_vs_err(VS_EINVAL, xsd_meta_set_label(&m, "a b"));
	assert_vs_err(VS_EINVAL, xsd_meta_set_label(&m, "a\nb"));
	memset(longlabel, 'l', sizeof(longlabel) - 1);
	longlabel[sizeof(longlabel) - 1] = '\0';
	assert_vs_err(VS_EINVAL, xsd_meta_set_label(&m, longlabel));
	longlabel[XSD_LABEL_MAX] = '\0';
	assert_vs_ok(xsd_meta_set_label(&m, longlabel));
	/* no perms: no blob */
	assert_vs_err(VS_EINVAL, xsd_meta_format(&b, &m));
	perms_from(&m.perms, "r0 b3");
	m.seq = 42;
	assert_vs_ok(xsd_meta_copy(&c, &m));
	assert_true(xsd_perms_equal(&c.perms, &m.perms));
	assert_true(c.seq == 42);
	assert_string_equal(c.label, m.label);
	assert_ptr_not_equal(c.label, m.label);
	assert_ptr_not_equal(c.perms.p, m.perms.p);
	/* the copy owns its memory: it outlives the original */
	xsd_meta_release(&m);
	{
		char want[600];

		snprintf(want, sizeof(want), "perms r0 b3\nseq 42\nlabel %s\n", longlabel);
		assert_meta_bytes(&c, want);
	}
	xsd_meta_release(&c);
	vs_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wire_entries_parse_like_xenstore_strings_to_perms),
	    cmocka_unit_test(test_set_perms_payload_is_a_nul_separated_list),
	    cmocka_unit_test(test_get_perms_reply_lists_entries_without_flags),
	    cmocka_unit_test(test_text_form_is_strict_and_canonical),
	    cmocka_unit_test(test_access_decision_is_perm_for_conn),
	    cmocka_unit_test(test_new_nodes_inherit_and_unprivileged_creators_own_them),
	    cmocka_unit_test(test_set_perms_flags_unknown_domains_and_refuses_an_unknown_owner),
	    cmocka_unit_test(test_dead_domains_are_ignored_and_dead_owners_replaced),
	    cmocka_unit_test(test_forgetting_a_domain_flags_its_entries),
	    cmocka_unit_test(test_lists_copy_and_compare),
	    cmocka_unit_test(test_meta_blob_is_canonical_text),
	    cmocka_unit_test(test_meta_parse_rejects_anything_else),
	    cmocka_unit_test(test_meta_labels_and_copies),
	};

	return cmocka_run_group_tests_name("perms", tests, NULL, NULL);
}
