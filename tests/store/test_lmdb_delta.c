/* SPDX-License-Identifier: MIT */
/*
 * The LMDB backend's deltas (store/backend_lmdb_delta.c): an object written
 * with a base it was edited from is stored as that base with one stretch
 * replaced, reads back whole, in or out of the batch that wrote it, and is
 * stored again when written with another base or none; chains
 * stop after six deltas; nothing is gained, nothing is stored as a delta; a delta
 * whose base is gone is reported, not misread. Calls go through b->ops.
 */
#include "vst.h"

#include "vstore/sys/backend.h"
#include "vstore/vstore.h"

#define CHAIN_MAX 6 /* DELTA_MAX_DEPTH */

struct fixture {
	char *dir;
	char path[4200];
	struct vs_backend *b;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vs_repo_opts opts = { .version = VS_REPO_OPTS_VERSION };
	assert_non_null(f);
	f->dir = vst_tmpdir("delta");
	snprintf(f->path, sizeof(f->path), "%s/store", f->dir);
	assert_vs_ok(vs_backend_lmdb_open(&f->b, f->path, &opts));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	f->b->ops->free(f->b);
	vst_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static struct vs_oid oid_of(uint32_t seed)
{
	struct vs_oid id = { .type = VS_OID_SHA256 };
	uint32_t x = seed * 2654435761u + 7;
	for (size_t i = 0; i < 32; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		id.id[i] = (unsigned char)x;
	}
	return id;
}

/* A node-like content of @n bytes; version @v differs in 32 bytes at @at. */
static void content(unsigned char *p, size_t n, size_t at, uint32_t v)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 7 + (i >> 8));
	for (size_t i = at; i < at + 32 && i < n; i++)
		p[i] = (unsigned char)(v * 13 + i);
}

static void assert_reads(struct vs_backend *b, const struct vs_oid *id, const void *data, size_t n)
{
	struct vs_buf out = VS_BUF_INIT;
	enum vs_otype t = 0;
	assert_vs_ok(b->ops->obj_read(b, id, &t, &out));
	assert_int_equal(t, VS_OBJ_TREE);
	assert_int_equal(out.size, n);
	assert_memory_equal(out.ptr, data, n);
	vs_buf_release(&out);
}

/* Records a read of @id resolves after its own. */
static size_t chain_length(struct vs_backend *b, const struct vs_oid *id)
{
	struct vs_oid at = *id, base;
	size_t n = 0;
	while (n <= 2 * CHAIN_MAX && b->ops->obj_base(b, &at, &base) == 1) {
		at = base;
		n++;
	}
	return n;
}

static void test_an_edited_object_is_stored_as_a_delta_and_reads_back_whole(void **state)
{
	struct vs_backend *b = ((struct fixture *)*state)->b;
	struct vs_oid a = oid_of(1), c = oid_of(2), base;
	unsigned char va[1041], vc[1041];

	content(va, sizeof(va), 500, 1);
	content(vc, sizeof(vc), 500, 2);
	assert_vs_ok(b->ops->obj_write(b, &a, VS_OBJ_TREE, va, sizeof(va)));
	assert_vs_ok(b->ops->obj_write_based(b, &c, VS_OBJ_TREE, vc, sizeof(vc), &a));
	assert_int_equal(b->ops->obj_base(b, &c, &base), 1);
	assert_true(vs_oid_equal(&base, &a));
	assert_int_equal(b->ops->obj_base(b, &a, &base), 0);
	assert_reads(b, &a, va, sizeof(va));
	assert_reads(b, &c, vc, sizeof(vc));
	/* Written again: a no-op as for any object, with the same base too. */
	assert_vs_ok(b->ops->obj_write(b, &c, VS_OBJ_TREE, vc, sizeof(vc)));
	assert_vs_ok(b->ops->obj_write_based(b, &c, VS_OBJ_TREE, vc, sizeof(vc), &a));
	assert_int_equal(b->ops->obj_base(b, &c, &base), 1);
	assert_true(vs_oid_equal(&base, &a));
	/* With another base, or none: stored again, whole, so that a may go. */
	struct vs_oid e = oid_of(3);
	unsigned char ve[1041];
	content(ve, sizeof(ve), 700, 3);
	assert_vs_ok(b->ops->obj_write(b, &e, VS_OBJ_TREE, ve, sizeof(ve)));
	assert_vs_ok(b->ops->obj_write_based(b, &c, VS_OBJ_TREE, vc, sizeof(vc), &e));
	assert_int_equal(b->ops->obj_base(b, &c, &base), 0);
	assert_vs_ok(b->ops->obj_delete(b, &a));
	assert_reads(b, &c, vc, sizeof(vc));
	struct vs_oid none = oid_of(99);
	assert_vs_err(VS_ENOENT, b->ops->obj_base(b, &none, &base));
}

/*
 * An object stored again is stored whole, never as a longer chain: a delta
 * from it recorded its depth, and reads trust that as a bound.
 */
static void test_an_object_stored_again_keeps_the_deltas_from_it_readable(void **state)
{
	struct vs_backend *b = ((struct fixture *)*state)->b;
	static unsigned char v[8][900];
	struct vs_oid id[8], base;

	for (uint32_t i = 0; i < 8; i++) {
		id[i] = oid_of(300 + i);
		content(v[i], sizeof(v[i]), 40 * i, i);
	}
	/* a <- c <- d (depths 0, 1, 2), and e1 <- e2 <- e3 <- e4 (depth 3) */
	assert_vs_ok(b->ops->obj_write(b, &id[0], VS_OBJ_TREE, v[0], sizeof(v[0])));
	assert_vs_ok(b->ops->obj_write_based(b, &id[1], VS_OBJ_TREE, v[1], sizeof(v[1]), &id[0]));
	assert_vs_ok(b->ops->obj_write_based(b, &id[2], VS_OBJ_TREE, v[2], sizeof(v[2]), &id[1]));
	assert_vs_ok(b->ops->obj_write(b, &id[3], VS_OBJ_TREE, v[3], sizeof(v[3])));
	for (int i = 4; i < 7; i++)
		assert_vs_ok(b->ops->obj_write_based(b, &id[i], VS_OBJ_TREE, v[i], sizeof(v[i]),
						     &id[i - 1]));
	assert_int_equal(chain_length(b, &id[6]), 3);
	/* c again, from e4: a chain of four under d's record of two. */
	assert_vs_ok(b->ops->obj_write_based(b, &id[1], VS_OBJ_TREE, v[1], sizeof(v[1]), &id[6]));
	assert_int_equal(b->ops->obj_base(b, &id[1], &base), 0);
	assert_reads(b, &id[2], v[2], sizeof(v[2]));
	assert_int_equal(chain_length(b, &id[2]), 1);
}

static void test_chains_stop_at_six_deltas_and_every_version_reads_back(void **state)
{
	struct vs_backend *b = ((struct fixture *)*state)->b;
	static unsigned char v[30][1041];
	struct vs_oid ids[30];
	size_t whole = 0;

	for (uint32_t i = 0; i < 30; i++) {
		ids[i] = oid_of(100 + i);
		content(v[i], sizeof(v[i]), i * 29, i);
		if (!i)
			assert_vs_ok(b->ops->obj_write(b, &ids[i], VS_OBJ_TREE, v[i], sizeof(v[i])));
		else
			assert_vs_ok(b->ops->obj_write_based(b, &ids[i], VS_OBJ_TREE, v[i],
							     sizeof(v[i]), &ids[i - 1]));
	}
	for (size_t i = 0; i < 30; i++) {
		size_t n = chain_length(b, &ids[i]);
		assert_true(n <= CHAIN_MAX);
		assert_int_equal(n, i % (CHAIN_MAX + 1)); /* whole every seventh version */
		whole += !n;
		assert_reads(b, &ids[i], v[i], sizeof(v[i]));
	}
	assert_int_equal(whole, 5);
}

static void test_nothing_is_a_delta_when_it_would_not_pay_or_has_no_fit_base(void **state)
{
	struct vs_backend *b = ((struct fixture *)*state)->b;
	struct vs_oid a = oid_of(1), blob = oid_of(2), base, id;
	unsigned char va[600], other[600], small[40];

	content(va, sizeof(va), 0, 1);
	for (size_t i = 0; i < sizeof(other); i++)
		other[i] = (unsigned char)(i * 31 + 5);
	memcpy(small, va, sizeof(small));
	small[20] ^= 1;
	assert_vs_ok(b->ops->obj_write(b, &a, VS_OBJ_TREE, va, sizeof(va)));
	assert_vs_ok(b->ops->obj_write(b, &blob, VS_OBJ_BLOB, va, sizeof(va)));

	id = oid_of(10); /* little in common: whole */
	assert_vs_ok(b->ops->obj_write_based(b, &id, VS_OBJ_TREE, other, sizeof(other), &a));
	assert_int_equal(b->ops->obj_base(b, &id, &base), 0);
	assert_reads(b, &id, other, sizeof(other));
	id = oid_of(11); /* a base of another type */
	va[300] ^= 0xff;
	assert_vs_ok(b->ops->obj_write_based(b, &id, VS_OBJ_TREE, va, sizeof(va), &blob));
	assert_int_equal(b->ops->obj_base(b, &id, &base), 0);
	id = oid_of(12); /* a base never stored */
	struct vs_oid missing = oid_of(13);
	assert_vs_ok(b->ops->obj_write_based(b, &id, VS_OBJ_TREE, va, sizeof(va), &missing));
	assert_int_equal(b->ops->obj_base(b, &id, &base), 0);
	assert_reads(b, &id, va, sizeof(va));
	id = oid_of(14); /* too small to gain */
	assert_vs_ok(b->ops->obj_write_based(b, &id, VS_OBJ_TREE, small, sizeof(small), &a));
	assert_int_equal(b->ops->obj_base(b, &id, &base), 0);
	assert_reads(b, &id, small, sizeof(small));
}

static void test_a_delta_whose_base_is_gone_reads_as_ecorrupt(void **state)
{
	struct vs_backend *b = ((struct fixture *)*state)->b;
	struct vs_oid a = oid_of(1), c = oid_of(2);
	unsigned char va[800], vc[800];
	struct vs_buf out = VS_BUF_INIT;
	char hex[VS_OID_MAXHEXSZ + 1];
	enum vs_otype t;

	content(va, sizeof(va), 100, 1);
	content(vc, sizeof(vc), 100, 2);
	assert_vs_ok(b->ops->obj_write(b, &a, VS_OBJ_TREE, va, sizeof(va)));
	assert_vs_ok(b->ops->obj_write_based(b, &c, VS_OBJ_TREE, vc, sizeof(vc), &a));
	assert_vs_ok(b->ops->obj_delete(b, &a));
	assert_vs_err(VS_ECORRUPT, b->ops->obj_read(b, &c, &t, &out));
	assert_non_null(strstr(vs_error_last()->message, vs_oid_tostr(hex, &c)));
	assert_non_null(strstr(vs_error_last()->message, "base of a delta is missing"));
	vs_buf_release(&out);
}

/*
 * In one batch (a daemon's loop turn) each version's base is in the log's
 * tail, still in memory; records of 5 000 bytes straddle chunks.
 */
static void test_deltas_within_one_batch_and_across_chunks_read_back(void **state)
{
	struct vs_backend *b = ((struct fixture *)*state)->b;
	static unsigned char v[12][5000];
	struct vs_oid ids[12], base;
	struct vs_buf out = VS_BUF_INIT;
	enum vs_otype t;

	assert_vs_ok(b->ops->batch_begin(b));
	for (uint32_t i = 0; i < 12; i++) {
		ids[i] = oid_of(200 + i);
		content(v[i], sizeof(v[i]), (i * 411) % 4900, i);
		assert_vs_ok(b->ops->obj_write_based(b, &ids[i], VS_OBJ_TREE, v[i], sizeof(v[i]),
						     i ? &ids[i - 1] : NULL));
		assert_vs_ok(b->ops->obj_read(b, &ids[i], &t, &out));
		assert_int_equal(out.size, sizeof(v[i]));
		assert_memory_equal(out.ptr, v[i], sizeof(v[i]));
	}
	assert_vs_ok(b->ops->batch_commit(b));
	for (size_t i = 0; i < 12; i++) {
		assert_int_equal(b->ops->obj_base(b, &ids[i], &base), i % (CHAIN_MAX + 1) ? 1 : 0);
		assert_reads(b, &ids[i], v[i], sizeof(v[i]));
	}
	vs_buf_release(&out);
}

/*
 * Backend tables of version 2 (before these operations) still open, and the
 * core never reads past their end; a table of version 3 with
 * obj_write_based but no obj_base is refused. The version-2 backend here
 * forwards to a mem backend.
 */
struct fwd {
	struct vs_backend base;
	struct vs_backend *in;
};

#define IN(b) (((struct fwd *)(b))->in)

static int f_read(struct vs_backend *b, const struct vs_oid *id, enum vs_otype *t,
		  struct vs_buf *out)
{
	return IN(b)->ops->obj_read(IN(b), id, t, out);
}
static int f_exists(struct vs_backend *b, const struct vs_oid *id)
{
	return IN(b)->ops->obj_exists(IN(b), id);
}
static int f_write(struct vs_backend *b, const struct vs_oid *id, enum vs_otype t,
		   const void *data, size_t len)
{
	return IN(b)->ops->obj_write(IN(b), id, t, data, len);
}
static int f_foreach(struct vs_backend *b, vs_oid_fn *cb, void *payload)
{
	return IN(b)->ops->obj_foreach(IN(b), cb, payload);
}
static int f_delete(struct vs_backend *b, const struct vs_oid *id)
{
	return IN(b)->ops->obj_delete(IN(b), id);
}
static int f_begin(struct vs_backend *b)
{
	return IN(b)->ops->batch_begin(IN(b));
}
static int f_commit(struct vs_backend *b)
{
	return IN(b)->ops->batch_commit(IN(b));
}
static void f_abort(struct vs_backend *b)
{
	IN(b)->ops->batch_abort(IN(b));
}
static int f_ref_read(struct vs_backend *b, const char *name, struct vs_oid *out)
{
	return IN(b)->ops->ref_read(IN(b), name, out);
}
static int f_ref_cas(struct vs_backend *b, const char *name, const struct vs_oid *target,
		     const struct vs_oid *expected)
{
	return IN(b)->ops->ref_cas(IN(b), name, target, expected);
}
static int f_ref_delete(struct vs_backend *b, const char *name, const struct vs_oid *expected)
{
	return IN(b)->ops->ref_delete(IN(b), name, expected);
}
static int f_ref_list(struct vs_backend *b, const char *prefix, vs_ref_fn *cb, void *payload)
{
	return IN(b)->ops->ref_list(IN(b), prefix, cb, payload);
}
static int f_config_get(struct vs_backend *b, const char *key, struct vs_buf *out)
{
	return IN(b)->ops->config_get(IN(b), key, out);
}
static int f_config_set(struct vs_backend *b, const char *key, const char *value)
{
	return IN(b)->ops->config_set(IN(b), key, value);
}
static void f_free(struct vs_backend *b)
{
	IN(b)->ops->free(IN(b));
	free(b);
}

static int never_write_based(struct vs_backend *b, const struct vs_oid *id, enum vs_otype type,
			     const void *data, size_t len, const struct vs_oid *base)
{
	(void)b, (void)id, (void)type, (void)data, (void)len, (void)base;
	fail_msg("obj_write_based of a version-2 table called");
	return 0;
}

static struct vs_backend_ops fwd_ops = {
	.version = 2, .name = "fwd", .obj_read = f_read, .obj_exists = f_exists,
	.obj_write = f_write, .obj_foreach = f_foreach, .obj_delete = f_delete,
	.batch_begin = f_begin, .batch_commit = f_commit, .batch_abort = f_abort,
	.ref_read = f_ref_read, .ref_cas = f_ref_cas, .ref_delete = f_ref_delete,
	.ref_list = f_ref_list, .config_get = f_config_get, .config_set = f_config_set,
	.free = f_free,
	/* Past a version-2 table's end: must never be read. */
	.obj_write_based = never_write_based,
};

static struct vs_backend *fwd_open(void)
{
	struct vs_repo_opts o = { .version = VS_REPO_OPTS_VERSION };
	struct fwd *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_vs_ok(vs_backend_mem_open(&f->in, &o));
	f->base.ops = &fwd_ops;
	f->base.default_format = "vs";
	return &f->base;
}

static void test_version_2_backend_tables_still_open(void **state)
{
	struct vs_repo_opts o = { .version = VS_REPO_OPTS_VERSION, .format = "vs" };
	struct vs_signature sig = vst_sig(1000);
	struct vs_commit_opts co = { .author = &sig, .message = "m\n" };
	struct vs_repo *repo;
	struct vs_tree *t, *n;
	struct vs_oid id;
	struct vs_buf v = VS_BUF_INIT;
	(void)state;

	assert_vs_ok(vs_repo_open_backend(&repo, fwd_open(), &o));
	assert_vs_ok(vs_tree_new(&t, repo));
	for (int i = 0; i < 40; i++) { /* edits of stored nodes: bases offered */
		char key[16];
		snprintf(key, sizeof(key), "d/k%d", i);
		assert_vs_ok(vs_tree_set(&n, t, key, "value of some length", 20));
		vs_tree_free(t);
		t = n;
		assert_vs_ok(vs_branch_commit(&id, repo, "main", NULL, t, &co));
	}
	assert_vs_ok(vs_read_at(&v, repo, &id, "d/k7"));
	assert_int_equal(v.size, 20);
	struct vs_gc_policy p = { .version = VS_GC_POLICY_VERSION, .keep_last = 2 };
	assert_vs_ok(vs_gc_run(repo, &p, NULL, NULL));
	assert_vs_ok(vs_repo_check(repo, NULL));
	vs_buf_release(&v);
	vs_tree_free(t);
	vs_repo_close(repo);

	fwd_ops.version = 3; /* obj_write_based without obj_base */
	assert_vs_err(VS_EINVAL, vs_repo_open_backend(&repo, fwd_open(), &o));
	assert_non_null(strstr(vs_error_last()->message, "obj_base"));
	fwd_ops.version = 1;
	assert_vs_err(VS_EINVAL, vs_repo_open_backend(&repo, fwd_open(), &o));
	fwd_ops.version = 2;
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_an_edited_object_is_stored_as_a_delta_and_reads_back_whole),
		T(test_chains_stop_at_six_deltas_and_every_version_reads_back),
		T(test_an_object_stored_again_keeps_the_deltas_from_it_readable),
		T(test_nothing_is_a_delta_when_it_would_not_pay_or_has_no_fit_base),
		T(test_a_delta_whose_base_is_gone_reads_as_ecorrupt),
		T(test_deltas_within_one_batch_and_across_chunks_read_back),
		cmocka_unit_test(test_version_2_backend_tables_still_open),
	};
#undef T
	return cmocka_run_group_tests_name("lmdb_delta", tests, NULL, NULL);
}
