/* SPDX-License-Identifier: MIT */
/*
 * The LMDB backend beyond the shared conformance suite: its layout (20- and
 * 32-byte ids, records across chunks, storage per commit), map growth with
 * batch replay, readers in other processes, env sharing between handles, and
 * corrupt data. Calls go through b->ops directly, as libvstore hides the
 * core's checked wrappers.
 */
#include "vst.h"

#include <lmdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vstore/sys/backend.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct fixture {
	char *dir;       /* the temporary directory */
	char path[4200]; /* the store inside it (created by the backend) */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dir = vst_tmpdir("lmdb");
	snprintf(f->path, sizeof(f->path), "%s/store/sub", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	vst_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static struct vs_backend *store_open(const char *path, unsigned int flags, size_t mapsize)
{
	struct vs_repo_opts opts = { .version = VS_REPO_OPTS_VERSION, .flags = flags,
				     .lmdb_mapsize = mapsize };
	struct vs_backend *b = NULL;
	assert_vs_ok(vs_backend_lmdb_open(&b, path, &opts));
	assert_non_null(b);
	return b;
}

static void store_close(struct vs_backend *b)
{
	b->ops->free(b);
}

/* A deterministic id of @type (VS_OID_SHA1 or VS_OID_SHA256) from @seed. */
static struct vs_oid oid_make(enum vs_oid_type type, uint32_t seed)
{
	struct vs_oid id = { .type = (unsigned char)type };
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < vs_oid_size(type); i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		id.id[i] = (unsigned char)x;
	}
	return id;
}

static void fill(unsigned char *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 31 + i * 7 + (i >> 8));
}

static void assert_obj(struct vs_backend *b, const struct vs_oid *id, enum vs_otype type,
		       const void *data, size_t len)
{
	struct vs_buf out = VS_BUF_INIT;
	enum vs_otype t = 0;
	assert_vs_ok(b->ops->obj_read(b, id, &t, &out));
	assert_int_equal(t, type);
	assert_int_equal(out.size, len);
	if (len)
		assert_memory_equal(out.ptr, data, len);
	assert_int_equal(b->ops->obj_exists(b, id), 1);
	vs_buf_release(&out);
}

static int count_cb(void *payload, const struct vs_oid *id)
{
	(void)id;
	(*(size_t *)payload)++;
	return 0;
}

static size_t stat_value(struct vs_backend *b, const char *key)
{
	struct vs_buf out = VS_BUF_INIT;
	assert_vs_ok(b->ops->config_get(b, key, &out));
	size_t v = strtoull(out.ptr, NULL, 10);
	vs_buf_release(&out);
	return v;
}

static void test_objects_round_trip_with_20_and_32_byte_ids(void **state)
{
	struct fixture *f = *state;
	static unsigned char big[50000 + 40];
	struct vs_backend *b = store_open(f->path, 0, 0);
	struct vs_oid ids[40];

	fill(big, sizeof(big), 7);
	assert_vs_ok(b->ops->batch_begin(b));
	for (uint32_t i = 0; i < 40; i++) {
		ids[i] = oid_make(i % 2 ? VS_OID_SHA256 : VS_OID_SHA1, i);
		/* sizes from empty to many chunks, so records straddle chunks */
		size_t len = i == 39 ? 50000 : (i * 397) % 3000;
		assert_vs_ok(b->ops->obj_write(b, &ids[i], 1 + i % 4, big + i, len));
		assert_obj(b, &ids[i], 1 + i % 4, big + i, len); /* read inside the batch */
	}
	assert_vs_ok(b->ops->batch_commit(b));
	struct vs_oid missing = oid_make(VS_OID_SHA256, 1000);
	assert_int_equal(b->ops->obj_exists(b, &missing), 0);
	struct vs_buf out = VS_BUF_INIT;
	enum vs_otype t;
	assert_vs_err(VS_ENOENT, b->ops->obj_read(b, &missing, &t, &out));
	store_close(b);

	b = store_open(f->path, VS_REPO_NOCREATE, 0);
	for (uint32_t i = 0; i < 40; i++)
		assert_obj(b, &ids[i], 1 + i % 4, big + i, i == 39 ? 50000 : (i * 397) % 3000);
	size_t n = 0;
	assert_vs_ok(b->ops->obj_foreach(b, count_cb, &n));
	assert_int_equal(n, 40);
	store_close(b);
}

static void test_writing_an_existing_object_is_a_no_op(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = store_open(f->path, 0, 0);
	struct vs_oid id = oid_make(VS_OID_SHA1, 1);

	assert_vs_ok(b->ops->obj_write(b, &id, VS_OBJ_BLOB, "first", 5));
	assert_vs_ok(b->ops->obj_write(b, &id, VS_OBJ_TREE, "second!", 7));
	assert_vs_ok(b->ops->batch_begin(b));
	assert_vs_ok(b->ops->obj_write(b, &id, VS_OBJ_TREE, "third", 5));
	assert_vs_ok(b->ops->batch_commit(b));
	assert_obj(b, &id, VS_OBJ_BLOB, "first", 5);
	size_t n = 0;
	assert_vs_ok(b->ops->obj_foreach(b, count_cb, &n));
	assert_int_equal(n, 1);
	store_close(b);
}

static void test_batch_commit_lands_objects_and_ref_together(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = store_open(f->path, 0, 0);
	struct vs_backend *other = store_open(f->path, 0, 0); /* sees only commits */
	struct vs_oid id = oid_make(VS_OID_SHA1, 2), got;

	assert_vs_ok(b->ops->batch_begin(b));
	assert_vs_ok(b->ops->obj_write(b, &id, VS_OBJ_COMMIT, "commit", 6));
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/main", &id, NULL));
	assert_vs_ok(b->ops->ref_read(b, "refs/heads/main", &got)); /* through the batch */
	assert_true(vs_oid_equal(&got, &id));
	assert_int_equal(other->ops->obj_exists(other, &id), 0);
	assert_vs_err(VS_ENOENT, other->ops->ref_read(other, "refs/heads/main", &got));
	assert_vs_ok(b->ops->batch_commit(b));

	assert_int_equal(other->ops->obj_exists(other, &id), 1);
	assert_vs_ok(other->ops->ref_read(other, "refs/heads/main", &got));
	assert_true(vs_oid_equal(&got, &id));
	store_close(other);
	store_close(b);
}

static void test_batch_abort_leaves_neither_objects_nor_ref(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = store_open(f->path, 0, 0);
	struct vs_oid id = oid_make(VS_OID_SHA256, 3), got;

	assert_vs_ok(b->ops->batch_begin(b));
	assert_vs_ok(b->ops->obj_write(b, &id, VS_OBJ_BLOB, "x", 1));
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/main", &id, NULL));
	b->ops->batch_abort(b);
	assert_int_equal(b->ops->obj_exists(b, &id), 0);
	assert_vs_err(VS_ENOENT, b->ops->ref_read(b, "refs/heads/main", &got));
	store_close(b);

	b = store_open(f->path, 0, 0);
	assert_int_equal(b->ops->obj_exists(b, &id), 0);
	assert_vs_err(VS_ENOENT, b->ops->ref_read(b, "refs/heads/main", &got));
	/* the log tail the aborted batch wrote is gone too: a new object reads back */
	assert_vs_ok(b->ops->obj_write(b, &id, VS_OBJ_TREE, "yz", 2));
	assert_obj(b, &id, VS_OBJ_TREE, "yz", 2);
	store_close(b);
}

static void test_ref_cas_with_stale_expected_conflicts_and_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = store_open(f->path, 0, 0);
	struct vs_oid a = oid_make(VS_OID_SHA1, 10), c = oid_make(VS_OID_SHA1, 11);
	struct vs_oid d = oid_make(VS_OID_SHA1, 12), got;

	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/main", &a, NULL));
	assert_vs_err(VS_ECONFLICT, b->ops->ref_cas(b, "refs/heads/main", &c, NULL));
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/main", &c, &a));
	assert_vs_err(VS_ECONFLICT, b->ops->ref_cas(b, "refs/heads/main", &d, &a));
	assert_vs_err(VS_ECONFLICT, b->ops->ref_cas(b, "refs/heads/other", &d, &a));
	assert_vs_ok(b->ops->ref_read(b, "refs/heads/main", &got));
	assert_true(vs_oid_equal(&got, &c));
	assert_vs_err(VS_ENOENT, b->ops->ref_read(b, "refs/heads/other", &got));
	/* a conflict inside a batch fails that call only */
	assert_vs_ok(b->ops->batch_begin(b));
	assert_vs_err(VS_ECONFLICT, b->ops->ref_cas(b, "refs/heads/main", &d, &a));
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/main", &d, &c));
	assert_vs_ok(b->ops->batch_commit(b));
	assert_vs_ok(b->ops->ref_read(b, "refs/heads/main", &got));
	assert_true(vs_oid_equal(&got, &d));
	store_close(b);
}

static void test_ref_delete_needs_the_expected_value(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = store_open(f->path, 0, 0);
	struct vs_oid a = oid_make(VS_OID_SHA256, 20), c = oid_make(VS_OID_SHA256, 21), got;

	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/a", &a, NULL));
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/b", &a, NULL));
	assert_vs_err(VS_ECONFLICT, b->ops->ref_delete(b, "refs/heads/a", &c));
	assert_vs_ok(b->ops->ref_read(b, "refs/heads/a", &got));
	assert_vs_ok(b->ops->ref_delete(b, "refs/heads/a", &a));
	assert_vs_err(VS_ENOENT, b->ops->ref_read(b, "refs/heads/a", &got));
	assert_vs_err(VS_ENOENT, b->ops->ref_delete(b, "refs/heads/a", NULL));
	assert_vs_ok(b->ops->batch_begin(b));
	assert_vs_ok(b->ops->ref_delete(b, "refs/heads/b", NULL));
	b->ops->batch_abort(b);
	assert_vs_ok(b->ops->ref_read(b, "refs/heads/b", &got));
	assert_vs_ok(b->ops->ref_delete(b, "refs/heads/b", NULL));
	assert_vs_err(VS_ENOENT, b->ops->ref_read(b, "refs/heads/b", &got));
	store_close(b);
}

struct listing {
	char names[16][64];
	size_t n;
};

static int list_cb(void *payload, const char *name, const struct vs_oid *target)
{
	struct listing *l = payload;
	struct vs_oid want = oid_make(VS_OID_SHA1, (uint32_t)strlen(name));
	assert_true(vs_oid_equal(target, &want));
	assert_true(l->n < 16);
	snprintf(l->names[l->n++], sizeof(l->names[0]), "%s", name);
	return 0;
}

static void test_ref_list_with_prefix_is_sorted(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = store_open(f->path, 0, 0);
	static const char *const names[] = { "refs/heads/zeta", "refs/tags/v1", "refs/heads/a/b",
					     "refs/heads", "refs/heads/alpha", "refs/headsx",
					     "refs/heads/a" };
	struct listing l = { .n = 0 };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct vs_oid id = oid_make(VS_OID_SHA1, (uint32_t)strlen(names[i]));
		assert_vs_ok(b->ops->ref_cas(b, names[i], &id, NULL));
	}
	assert_vs_ok(b->ops->ref_list(b, "refs/heads/", list_cb, &l));
	assert_int_equal(l.n, 4);
	assert_string_equal(l.names[0], "refs/heads/a");
	assert_string_equal(l.names[1], "refs/heads/a/b");
	assert_string_equal(l.names[2], "refs/heads/alpha");
	assert_string_equal(l.names[3], "refs/heads/zeta");
	l.n = 0;
	assert_vs_ok(b->ops->ref_list(b, "", list_cb, &l));
	assert_int_equal(l.n, ARRAY_SIZE(names));
	for (size_t i = 1; i < l.n; i++)
		assert_true(strcmp(l.names[i - 1], l.names[i]) < 0);
	store_close(b);
}

static void test_full_map_grows_and_batch_survives(void **state)
{
	struct fixture *f = *state;
	const size_t mib = 1 << 20, nobj = 700, len = 4500; /* ~3 MiB into a 1 MiB map */
	struct vs_backend *b = store_open(f->path, 0, mib);
	static unsigned char data[4500 + 700];
	struct vs_oid head = oid_make(VS_OID_SHA1, 99999), got;

	fill(data, sizeof(data), 3);
	assert_true(stat_value(b, "stat.map_size") <= 2 * mib);
	assert_vs_ok(b->ops->batch_begin(b));
	/* the ref first, so the replay after growing must redo it too */
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/main", &head, NULL));
	for (uint32_t i = 0; i < nobj; i++) {
		struct vs_oid id = oid_make(i % 3 ? VS_OID_SHA1 : VS_OID_SHA256, i);
		assert_vs_ok(b->ops->obj_write(b, &id, VS_OBJ_BLOB, data + i, len));
	}
	assert_vs_ok(b->ops->batch_commit(b));
	assert_true(stat_value(b, "stat.map_size") >= 4 * mib);
	assert_true(stat_value(b, "stat.bytes_used") >= nobj * len);
	store_close(b);

	b = store_open(f->path, VS_REPO_READONLY, mib); /* a smaller map is adopted */
	assert_vs_ok(b->ops->ref_read(b, "refs/heads/main", &got));
	assert_true(vs_oid_equal(&got, &head));
	for (uint32_t i = 0; i < nobj; i++) {
		struct vs_oid id = oid_make(i % 3 ? VS_OID_SHA1 : VS_OID_SHA256, i);
		assert_obj(b, &id, VS_OBJ_BLOB, data + i, len);
	}
	size_t n = 0;
	assert_vs_ok(b->ops->obj_foreach(b, count_cb, &n)); /* more than one foreach step */
	assert_int_equal(n, nobj);
	store_close(b);
}

/* The layout's purpose: a commit of 8 small objects (6 trees, a blob, a
 * commit) grows the store by at most 1.3x their bytes (objects keyed by id
 * would take ~1.8x: random keys leave B-tree pages ~69% full). */
static void test_storage_per_commit_stays_within_1_3x_of_object_bytes(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = store_open(f->path, 0, 0);
	static const size_t sizes[8] = { 214, 226, 219, 231, 208, 222, 20, 251 };
	unsigned char data[256];
	size_t raw = 0, ncommits = 1500, n = 0;
	struct vs_oid prev;

	fill(data, sizeof(data), 5);
	size_t before = stat_value(b, "stat.bytes_used");
	for (uint32_t c = 0; c < ncommits; c++) {
		assert_vs_ok(b->ops->batch_begin(b));
		for (uint32_t k = 0; k < 8; k++) {
			struct vs_oid id = oid_make(VS_OID_SHA1, c * 8 + k + 1);
			assert_vs_ok(b->ops->obj_write(b, &id, k < 6 ? VS_OBJ_TREE : 1 + k % 2,
						       data, sizes[k]));
			raw += sizes[k];
		}
		struct vs_oid head = oid_make(VS_OID_SHA1, c * 8 + 8);
		assert_vs_ok(b->ops->ref_cas(b, "refs/heads/main", &head, c ? &prev : NULL));
		assert_vs_ok(b->ops->batch_commit(b));
		prev = head;
	}
	double ratio = (double)(stat_value(b, "stat.bytes_used") - before) / (double)raw;
	print_message("storage: %.3f x the object bytes\n", ratio);
	assert_true(ratio <= 1.3);
	assert_vs_ok(b->ops->obj_foreach(b, count_cb, &n)); /* several foreach steps */
	assert_int_equal(n, ncommits * 8);
	store_close(b);
}

/* Deletes every object it is shown (as a sweep does), counting them. */
struct delete_walk {
	struct vs_backend *b;
	size_t n;
};

static int delete_cb(void *payload, const struct vs_oid *id)
{
	struct delete_walk *w = payload;
	w->n++;
	return w->b->ops->obj_delete(w->b, id);
}

/* A walk resumes after the last id it listed even when that entry is gone
 * (a callback, a collection or another process deleted or moved it). */
static void test_foreach_goes_on_past_entries_deleted_during_the_walk(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = store_open(f->path, 0, 0);
	uint32_t nobj = 3 * 1024 + 17; /* several steps of the walk */
	struct delete_walk w = { b, 0 };
	size_t left = 0;

	assert_vs_ok(b->ops->batch_begin(b));
	for (uint32_t i = 0; i < nobj; i++) {
		struct vs_oid id = oid_make(VS_OID_SHA256, i);
		assert_vs_ok(b->ops->obj_write(b, &id, VS_OBJ_BLOB, &i, sizeof(i)));
	}
	assert_vs_ok(b->ops->batch_commit(b));
	assert_vs_ok(b->ops->obj_foreach(b, delete_cb, &w));
	assert_int_equal(w.n, nobj);
	assert_vs_ok(b->ops->obj_foreach(b, count_cb, &left));
	assert_int_equal(left, 0);
	store_close(b);
}

/* Bytes a record of @len content bytes takes in the log: a type byte, the
 * length in LEB128, the content. */
static size_t rec_bytes(size_t len)
{
	size_t n = 2;
	for (size_t rest = len >> 7; rest; rest >>= 7)
		n++;
	return n + len;
}

/* Write objects @seed.. of @len bytes until the log reaches @until; returns
 * the next seed, *off the log's end. */
static uint32_t write_until(struct vs_backend *b, uint32_t seed, size_t len, uint64_t *off,
			    uint64_t until, const unsigned char *data)
{
	assert_vs_ok(b->ops->batch_begin(b));
	for (; *off < until; seed++) {
		struct vs_oid id = oid_make(VS_OID_SHA256, seed);
		assert_vs_ok(b->ops->obj_write(b, &id, VS_OBJ_BLOB, data + seed % 64, len));
		*off += rec_bytes(len);
	}
	assert_vs_ok(b->ops->batch_commit(b));
	return seed;
}

/*
 * Compaction clears a dead stretch in the middle of the log without copying
 * the live records before it (the oldest records are live: a pass from the
 * log's start would not pay), and a live record that starts before the
 * stretch and runs into it is moved, not cut.
 */
static void test_compaction_clears_a_dead_stretch_behind_live_records(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = store_open(f->path, 0, 0);
	static unsigned char data[300000];
	uint64_t seg = 32 * stat_value(b, "lmdb.chunk_size"); /* SEG_CHUNKS chunks */
	uint64_t off = 0, freed = 0;
	size_t moved = 0;
	int rc;

	fill(data, sizeof(data), 9);

	/* 16 segments of live records, then one big live record ending 64 bytes
	 * into segment 20, 8 segments of records to delete, 2 more live ones. */
	uint32_t front = write_until(b, 0, 1000, &off, 16 * seg, data);
	struct vs_oid big = oid_make(VS_OID_SHA256, 100000);
	size_t big_len = (size_t)(20 * seg + 64 - off) - 4; /* a 4-byte header */
	assert_true(big_len >= 16384 && big_len < 2097152);
	assert_vs_ok(b->ops->obj_write(b, &big, VS_OBJ_BLOB, data, big_len));
	off += rec_bytes(big_len);
	uint32_t middle = write_until(b, front, 1000, &off, 28 * seg, data);
	uint32_t tail = write_until(b, middle, 1000, &off, 30 * seg + 100, data);
	for (uint32_t i = front; i < middle; i++) {
		struct vs_oid id = oid_make(VS_OID_SHA256, i);
		assert_vs_ok(b->ops->obj_delete(b, &id));
	}

	for (size_t steps = 0; (rc = b->ops->compact_step(b, 64, &freed, &moved)) == 1; steps++)
		assert_true(steps < 1000);
	assert_vs_ok(rc);
	print_message("compaction: %zu records moved, %llu bytes freed\n", moved,
		      (unsigned long long)freed);
	/* Segments 20-27 went, the first holding the big record's last 64 bytes:
	 * it must have moved to be read back. */
	assert_int_equal(freed, 8 * seg);
	assert_int_equal(moved, 1);
	assert_obj(b, &big, VS_OBJ_BLOB, data, big_len);
	for (uint32_t i = 0; i < tail; i++) {
		struct vs_oid id = oid_make(VS_OID_SHA256, i);
		if (i < front || i >= middle)
			assert_obj(b, &id, VS_OBJ_BLOB, data + i % 64, 1000);
		else
			assert_int_equal(b->ops->obj_exists(b, &id), 0);
	}
	store_close(b);
}

static void test_nocreate_on_missing_dir_fails_with_enoent(void **state)
{
	struct fixture *f = *state;
	struct vs_repo_opts opts = { .version = VS_REPO_OPTS_VERSION, .flags = VS_REPO_NOCREATE };
	struct vs_backend *b = NULL;

	assert_vs_err(VS_ENOENT, vs_backend_lmdb_open(&b, f->path, &opts));
	assert_null(b);
	assert_non_null(strstr(vs_error_last()->message, f->path));
	opts.flags = VS_REPO_READONLY;
	assert_vs_err(VS_ENOENT, vs_backend_lmdb_open(&b, f->path, &opts));
	assert_int_not_equal(access(f->path, F_OK), 0); /* nothing was created */
	assert_vs_ok(vs_backend_lmdb_open(&b, f->path, NULL)); /* default: mkdir -p */
	store_close(b);
}

/* The child: read-only, reports each head it sees back on @ack. Exit status 0 on success. */
static int reader_child(const char *path, int cmd, int ack)
{
	struct vs_repo_opts opts = { .version = VS_REPO_OPTS_VERSION, .flags = VS_REPO_READONLY,
				     .lmdb_mapsize = 1 << 20 };
	struct vs_backend *b = NULL;
	struct vs_oid want, got;
	int bad = 0;

	if (vs_backend_lmdb_open(&b, path, &opts) < 0)
		return 2;
	while (read(cmd, &want, sizeof(want)) == (ssize_t)sizeof(want)) {
		if (b->ops->ref_read(b, "refs/heads/main", &got) < 0 || !vs_oid_equal(&got, &want)) {
			fprintf(stderr, "child: %s\n", vs_error_last()->message);
			bad = 3;
		}
		if (write(ack, &bad, sizeof(bad)) != (ssize_t)sizeof(bad))
			break;
	}
	b->ops->free(b);
	return bad;
}

static void test_readonly_child_process_sees_every_committed_head(void **state)
{
	struct fixture *f = *state;
	static unsigned char blob[150000]; /* 20 of them outgrow the 1 MiB map */
	struct vs_backend *b = store_open(f->path, 0, 1 << 20);
	struct vs_oid prev = oid_make(VS_OID_SHA1, 0);
	int cmd[2], ack[2], status, bad;

	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/main", &prev, NULL));
	assert_int_equal(pipe(cmd), 0);
	assert_int_equal(pipe(ack), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(cmd[1]);
		close(ack[0]);
		alarm(60);
		_exit(reader_child(f->path, cmd[0], ack[1]));
	}
	close(cmd[0]);
	close(ack[1]);
	for (uint32_t i = 1; i <= 20; i++) {
		struct vs_oid id = oid_make(VS_OID_SHA1, i);
		fill(blob, sizeof(blob), i);
		assert_vs_ok(b->ops->batch_begin(b));
		assert_vs_ok(b->ops->obj_write(b, &id, VS_OBJ_COMMIT, blob, sizeof(blob)));
		assert_vs_ok(b->ops->ref_cas(b, "refs/heads/main", &id, &prev));
		assert_vs_ok(b->ops->batch_commit(b));
		prev = id;
		assert_int_equal(write(cmd[1], &id, sizeof(id)), sizeof(id));
		struct pollfd p = { .fd = ack[0], .events = POLLIN };
		assert_int_equal(poll(&p, 1, 10000), 1);
		assert_int_equal(read(ack[0], &bad, sizeof(bad)), sizeof(bad));
		assert_int_equal(bad, 0);
	}
	close(cmd[1]);
	close(ack[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(stat_value(b, "stat.map_size") > 1 << 20);
	store_close(b);
}

static off_t data_file_size(const char *dir)
{
	char path[4300];
	struct stat st;
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* A child that opens the store with liblmdb, begins a read txn, reports it
 * on @ready and dies with the txn open: its reader slot stays behind. */
static void die_reading(const char *dir, int ready)
{
	MDB_env *env;
	MDB_txn *txn;
	char one = 1;

	if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 8) ||
	    mdb_env_open(env, dir, MDB_RDONLY, 0644) ||
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))
		_exit(2);
	if (write(ready, &one, 1) != 1)
		_exit(3);
	raise(SIGKILL);
	_exit(4);
}

/* A reader killed in its txn pins the snapshot it read: without a check for
 * dead readers, every page the writer frees afterwards stays unusable and
 * the file grows by each txn's copied pages (~16 KiB a ref update here). */
static void test_a_reader_killed_in_its_txn_stops_pinning_pages(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = store_open(f->path, 0, 0);
	struct vs_oid v[2] = { oid_make(VS_OID_SHA1, 1), oid_make(VS_OID_SHA1, 2) };
	const unsigned int updates = 1000;
	int ready[2], status;
	char one;

	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/main", &v[0], NULL));
	assert_int_equal(pipe(ready), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		die_reading(f->path, ready[1]);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &one, 1), 1);
	close(ready[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));

	off_t before = data_file_size(f->path);
	for (unsigned int i = 0; i < updates; i++)
		assert_vs_ok(b->ops->ref_cas(b, "refs/heads/main", &v[(i + 1) % 2], &v[i % 2]));
	off_t grown = data_file_size(f->path) - before;
	/* What the 64 txns before the first check pinned (~0.75 MiB); 15 MiB without. */
	assert_true(grown <= (off_t)1 << 20);
	store_close(b);
}

struct counter {
	const char *path;
	int done;
};

/* Increment the counter ref 50 times by CAS through a handle of our own. */
static void *count_up(void *arg)
{
	struct counter *c = arg;
	struct vs_backend *b = NULL;
	if (vs_backend_lmdb_open(&b, c->path, NULL) < 0)
		return NULL;
	while (c->done < 50) {
		struct vs_oid cur, next;
		if (b->ops->ref_read(b, "refs/heads/count", &cur) < 0)
			break;
		uint32_t v = (uint32_t)cur.id[0] << 8 | cur.id[1];
		next = cur;
		next.id[0] = (unsigned char)((v + 1) >> 8);
		next.id[1] = (unsigned char)(v + 1);
		int err = b->ops->ref_cas(b, "refs/heads/count", &next, &cur);
		if (err == 0)
			c->done++;
		else if (err != VS_ECONFLICT)
			break;
	}
	b->ops->free(b);
	return NULL;
}

static void test_two_handles_in_one_process_share_the_env_and_cas_correctly(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *a = store_open(f->path, 0, 0), *b = store_open(f->path, 0, 0);
	struct vs_oid x = oid_make(VS_OID_SHA1, 1), y = oid_make(VS_OID_SHA1, 2), got;

	assert_vs_ok(a->ops->ref_cas(a, "refs/heads/main", &x, NULL));
	assert_vs_ok(b->ops->ref_read(b, "refs/heads/main", &got));
	assert_true(vs_oid_equal(&got, &x));
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/main", &y, &x));
	assert_vs_err(VS_ECONFLICT, a->ops->ref_cas(a, "refs/heads/main", &y, &x));
	assert_vs_ok(a->ops->ref_read(a, "refs/heads/main", &got));
	assert_true(vs_oid_equal(&got, &y));
	/* Shared env: a second writer in the thread holding the batch is refused, not deadlocked. */
	alarm(30);
	assert_vs_ok(a->ops->batch_begin(a));
	assert_vs_err(VS_EBUSY, b->ops->ref_cas(b, "refs/heads/other", &x, NULL));
	assert_vs_ok(a->ops->batch_commit(a));
	assert_vs_ok(b->ops->ref_cas(b, "refs/heads/other", &x, NULL));

	/* Two threads, two handles, 100 increments by CAS: none is lost. */
	struct vs_oid zero = { .type = VS_OID_SHA1 };
	assert_vs_ok(a->ops->ref_cas(a, "refs/heads/count", &zero, NULL));
	struct counter c1 = { f->path, 0 }, c2 = { f->path, 0 };
	pthread_t t1, t2;
	assert_int_equal(pthread_create(&t1, NULL, count_up, &c1), 0);
	assert_int_equal(pthread_create(&t2, NULL, count_up, &c2), 0);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	alarm(0);
	assert_int_equal(c1.done + c2.done, 100);
	assert_vs_ok(a->ops->ref_read(a, "refs/heads/count", &got));
	assert_int_equal(got.id[0] << 8 | got.id[1], 100);
	store_close(a);
	store_close(b);
}

/* Rewrite a stored value behind the backend's back (the store must be closed). */
static void raw_put(const char *path, const char *db, const void *key, size_t klen,
		    void (*edit)(MDB_val *v, void *buf), const void *value, size_t vlen)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)value };
	char buf[8192];

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 4), 0);
	assert_int_equal(mdb_env_open(env, path, 0, 0644), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	if (edit) {
		assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
		assert_true(v.mv_size <= sizeof(buf));
		memcpy(buf, v.mv_data, v.mv_size);
		edit(&v, buf);
		v.mv_data = buf;
	}
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Log chunk 0 holds [type][len=3]"abc" then [type][len=3]"def". */
static void break_type_byte(MDB_val *v, void *buf)
{
	((unsigned char *)buf)[0] = 0x7f;
}

static void break_length(MDB_val *v, void *buf)
{
	unsigned char *p = buf;
	p[6] = 0xff, p[7] = 0xff, p[8] = 0x7f; /* second record: ~2 MiB past the end */
}

static void test_corrupt_stored_data_is_reported_as_ecorrupt(void **state)
{
	struct fixture *f = *state;
	struct vs_oid a = oid_make(VS_OID_SHA1, 1), c = oid_make(VS_OID_SHA256, 2), got;
	struct vs_backend *b = store_open(f->path, 0, 0);
	struct vs_buf out = VS_BUF_INIT;
	enum vs_otype t;
	char hex[VS_OID_MAXHEXSZ + 1];
	size_t chunk0 = 0;

	assert_vs_ok(b->ops->obj_write(b, &a, VS_OBJ_BLOB, "abc", 3));
	assert_vs_ok(b->ops->obj_write(b, &c, VS_OBJ_BLOB, "def", 3));
	store_close(b);
	raw_put(f->path, "log", &chunk0, sizeof(chunk0), break_type_byte, NULL, 0);
	raw_put(f->path, "log", &chunk0, sizeof(chunk0), break_length, NULL, 0);
	raw_put(f->path, "refs", "refs/heads/bad", 14, NULL, "short", 5);

	b = store_open(f->path, 0, 0);
	assert_vs_err(VS_ECORRUPT, b->ops->obj_read(b, &a, &t, &out));
	assert_non_null(strstr(vs_error_last()->message, vs_oid_tostr(hex, &a)));
	assert_vs_err(VS_ECORRUPT, b->ops->obj_read(b, &c, &t, &out));
	assert_non_null(strstr(vs_error_last()->message, vs_oid_tostr(hex, &c)));
	assert_vs_err(VS_ECORRUPT, b->ops->ref_read(b, "refs/heads/bad", &got));
	assert_non_null(strstr(vs_error_last()->message, "refs/heads/bad"));
	struct listing l = { .n = 0 };
	assert_vs_err(VS_ECORRUPT, b->ops->ref_list(b, "refs/", list_cb, &l));
	vs_buf_release(&out);
	store_close(b);
}

static void test_settings_persist_and_stats_are_computed(void **state)
{
	struct fixture *f = *state;
	struct vs_backend *b = store_open(f->path, 0, 0);
	struct vs_buf out = VS_BUF_INIT;

	assert_string_equal(b->default_format, "vs");
	assert_vs_err(VS_ENOENT, b->ops->config_get(b, "format", &out));
	assert_vs_ok(b->ops->config_set(b, "format", "git"));
	assert_vs_err(VS_EINVAL, b->ops->config_set(b, "stat.bytes_used", "1"));
	size_t before = stat_value(b, "stat.bytes_used");
	assert_true(before > 0);
	store_close(b);

	b = store_open(f->path, VS_REPO_READONLY, 0);
	assert_true(b->readonly);
	assert_vs_ok(b->ops->config_get(b, "format", &out));
	assert_string_equal(out.ptr, "git");
	vs_buf_release(&out);
	store_close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_objects_round_trip_with_20_and_32_byte_ids),
		T(test_writing_an_existing_object_is_a_no_op),
		T(test_batch_commit_lands_objects_and_ref_together),
		T(test_batch_abort_leaves_neither_objects_nor_ref),
		T(test_ref_cas_with_stale_expected_conflicts_and_changes_nothing),
		T(test_ref_delete_needs_the_expected_value),
		T(test_ref_list_with_prefix_is_sorted),
		T(test_full_map_grows_and_batch_survives),
		T(test_storage_per_commit_stays_within_1_3x_of_object_bytes),
		T(test_foreach_goes_on_past_entries_deleted_during_the_walk),
		T(test_compaction_clears_a_dead_stretch_behind_live_records),
		T(test_nocreate_on_missing_dir_fails_with_enoent),
		T(test_readonly_child_process_sees_every_committed_head),
		T(test_a_reader_killed_in_its_txn_stops_pinning_pages),
		T(test_two_handles_in_one_process_share_the_env_and_cas_correctly),
		T(test_corrupt_stored_data_is_reported_as_ecorrupt),
		T(test_settings_persist_and_stats_are_computed),
#undef T
	};
	return cmocka_run_group_tests_name("backend_lmdb", tests, NULL, NULL);
}
