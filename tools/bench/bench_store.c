/* SPDX-License-Identifier: MIT */
/*
 * bench_store: single-key commits at depth 6 into a tree of ~100k keys
 * (fan-out 7 per level), reads, and storage per commit, per backend — each
 * beside the raw limit measured in the same run on the same objects:
 * raw LMDB puts in one transaction per commit (and raw mdb_get for reads),
 * raw libgit2 odb writes (and odb reads) for the git backend.
 *
 * usage: bench_store [-n COMMITS] [-r READS] [-b lmdb,git,mem] [-f FORMAT] [-d DIR]
 *
 * -f picks the object format of the lmdb and mem stores (git or vs; the git
 * backend is always git); without it each backend uses its default.
 */
#include <git2.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vstore/sys/backend.h"
#include "vstore/vstore.h"

#define BENCH_NAME "bench_store"
#include "bench_util.h"

#define FANOUT 7
#define DEPTH 6

struct obj {
	struct vs_oid id;
	int type;
	struct vs_buf data;
};

struct commit_objs {
	struct obj o[DEPTH + 2]; /* commit, DEPTH trees, blob */
	size_t n;
};

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	return bench_rnd(&rng);
}

static void key_path(char *out, size_t n, uint64_t k)
{
	size_t len = 0;
	for (int i = 0; i < DEPTH; i++, k /= FANOUT)
		len += (size_t)snprintf(out + len, n - len, "%sd%d", i ? "/" : "", (int)(k % FANOUT));
}

static uint64_t nkeys(void)
{
	uint64_t n = 1;
	for (int i = 0; i < DEPTH; i++)
		n *= FANOUT;
	return n;
}

/* Bytes the backend occupies on disk (or in memory, for mem). */
static uint64_t storage_bytes(struct vs_repo *repo, const char *dir)
{
	struct vs_backend *b = vs_repo_backend(repo);
	if (!strcmp(b->ops->name, "lmdb"))
		return bench_bytes_used(repo);
	if (!strcmp(b->ops->name, "git")) {
		char cmd[4200];
		snprintf(cmd, sizeof(cmd), "du -sb --apparent-size '%s/store/objects' | cut -f1", dir);
		FILE *p = popen(cmd, "r");
		unsigned long long n = 0;
		if (!p || fscanf(p, "%llu", &n) != 1)
			n = 0;
		if (p)
			pclose(p);
		return n;
	}
	return 0;
}

static void add_obj(struct commit_objs *co, struct vs_repo *repo, const struct vs_oid *id)
{
	struct obj *o = &co->o[co->n++];
	o->id = *id;
	CHECK(vs_repo_read_raw(&o->data, &o->type, repo, id), "read raw");
}

/* The objects commit @commit added: itself, the trees on @path, the value. */
static void collect(struct commit_objs *co, struct vs_repo *repo, const struct vs_oid *commit,
		    const char *path)
{
	struct vs_commit *c;
	struct vs_tree *t;
	struct vs_tree_stat st;
	char prefix[64];

	co->n = 0;
	CHECK(vs_commit_lookup(&c, repo, commit), "lookup");
	CHECK(vs_commit_tree(&t, c), "tree");
	add_obj(co, repo, commit);
	add_obj(co, repo, vs_commit_tree_id(c));
	for (const char *slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
		snprintf(prefix, sizeof(prefix), "%.*s", (int)(slash - path), path);
		CHECK(vs_tree_stat(&st, t, prefix), "stat");
		add_obj(co, repo, &st.id);
	}
	CHECK(vs_tree_stat(&st, t, path), "stat");
	add_obj(co, repo, &st.id);
	vs_tree_free(t);
	vs_commit_free(c);
}

struct result {
	double commits_s, reads_s, bytes_commit, raw_bytes_commit;
	double raw_commits_s, raw_reads_s, cold_reads_s;
};

struct preload {
	struct vs_repo *repo;
	MDB_txn *txn;
	MDB_dbi dbi;
	struct vs_buf raw;
};

static int preload_one(void *payload, const struct vs_oid *id)
{
	struct preload *p = payload;
	int type;
	CHECK(vs_repo_read_raw(&p->raw, &type, p->repo, id), "read raw");
	MDB_val key = { vs_oid_size(id->type), (void *)id->id };
	MDB_val val = { p->raw.size + 1, NULL };
	if (mdb_put(p->txn, p->dbi, &key, &val, MDB_RESERVE) == 0) {
		((unsigned char *)val.mv_data)[0] = (unsigned char)type;
		memcpy((char *)val.mv_data + 1, p->raw.ptr, p->raw.size);
	}
	return 0;
}

/* Raw LMDB: the same objects keyed by id; commits replayed one transaction
 * each; reads of the same values, after every object of the store was
 * loaded (untimed), so each get finds its value. */
static void raw_lmdb(struct result *r, const char *dir, struct vs_repo *repo,
		     struct commit_objs *cos, size_t n, struct vs_oid *reads, size_t nreads)
{
	char path[4400];
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *txn;

	snprintf(path, sizeof(path), "%s/raw-lmdb", dir);
	mkdir(path, 0700);
	if (mdb_env_create(&env) || mdb_env_set_mapsize(env, (size_t)1 << 34) ||
	    mdb_env_set_maxdbs(env, 4) || mdb_env_open(env, path, 0, 0600)) {
		fprintf(stderr, "bench_store: raw lmdb open failed\n");
		exit(1);
	}
	mdb_txn_begin(env, NULL, 0, &txn);
	mdb_dbi_open(txn, "objects", MDB_CREATE, &dbi);
	mdb_txn_commit(txn);
	struct preload pl = { .repo = repo, .dbi = dbi };
	mdb_txn_begin(env, NULL, 0, &pl.txn);
	struct vs_backend *b = vs_repo_backend(repo);
	CHECK(b->ops->obj_foreach(b, preload_one, &pl), "preload");
	if (mdb_txn_commit(pl.txn)) {
		fprintf(stderr, "bench_store: raw lmdb preload failed\n");
		exit(1);
	}
	vs_buf_release(&pl.raw);
	double t0 = bench_now();
	for (size_t i = 0; i < n; i++) {
		mdb_txn_begin(env, NULL, 0, &txn);
		for (size_t k = 0; k < cos[i].n; k++) {
			struct obj *o = &cos[i].o[k];
			MDB_val key = { vs_oid_size(o->id.type), o->id.id };
			MDB_val val = { o->data.size + 1, NULL };
			if (mdb_put(txn, dbi, &key, &val, MDB_RESERVE) == 0) {
				((unsigned char *)val.mv_data)[0] = (unsigned char)o->type;
				memcpy((char *)val.mv_data + 1, o->data.ptr, o->data.size);
			}
		}
		MDB_val rk = { 15, "refs/heads/main" },
			rv = { vs_oid_size(cos[i].o[0].id.type), cos[i].o[0].id.id };
		mdb_put(txn, dbi, &rk, &rv, 0);
		if (mdb_txn_commit(txn)) {
			fprintf(stderr, "bench_store: raw lmdb commit failed\n");
			exit(1);
		}
	}
	r->raw_commits_s = (double)n / (bench_now() - t0);
	/* Reads: one renewed read transaction per get, as any per-call API must. */
	mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
	mdb_txn_reset(txn);
	volatile size_t sink = 0;
	t0 = bench_now();
	for (size_t i = 0; i < nreads; i++) {
		MDB_val key = { vs_oid_size(reads[i].type), reads[i].id }, val;
		mdb_txn_renew(txn);
		if (mdb_get(txn, dbi, &key, &val) != 0) {
			fprintf(stderr, "bench_store: raw lmdb lost an object\n");
			exit(1);
		}
		char *copy = malloc(val.mv_size);
		memcpy(copy, val.mv_data, val.mv_size);
		sink += (size_t)copy[0];
		free(copy);
		mdb_txn_reset(txn);
	}
	r->raw_reads_s = (double)nreads / (bench_now() - t0);
	(void)sink;
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

/* Raw libgit2: the same objects written to a fresh repository through the
 * odb, one ref update per commit; reads through the odb of the store's own
 * repository, which holds every value. */
static void raw_git(struct result *r, const char *dir, struct commit_objs *cos, size_t n,
		    struct vs_oid *reads, size_t nreads)
{
	char path[4400];
	git_repository *repo;
	git_odb *odb;

	git_libgit2_init();
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
	snprintf(path, sizeof(path), "%s/raw-git", dir);
	if (git_repository_init(&repo, path, 1) || git_repository_odb(&odb, repo)) {
		fprintf(stderr, "bench_store: raw git init failed\n");
		exit(1);
	}
	double t0 = bench_now();
	for (size_t i = 0; i < n; i++) {
		git_oid oid;
		git_reference *ref;
		for (size_t k = 0; k < cos[i].n; k++)
			git_odb_write(&oid, odb, cos[i].o[k].data.ptr, cos[i].o[k].data.size,
				      (git_object_t)cos[i].o[k].type);
		git_oid_fromraw(&oid, cos[i].o[0].id.id);
		if (git_reference_create(&ref, repo, "refs/heads/main", &oid, 1, NULL) == 0)
			git_reference_free(ref);
	}
	r->raw_commits_s = (double)n / (bench_now() - t0);
	git_odb_free(odb);
	git_repository_free(repo);
	snprintf(path, sizeof(path), "%s/store", dir);
	if (git_repository_open_bare(&repo, path) || git_repository_odb(&odb, repo)) {
		fprintf(stderr, "bench_store: cannot open %s\n", path);
		exit(1);
	}
	t0 = bench_now();
	for (size_t i = 0; i < nreads; i++) {
		git_odb_object *o;
		git_oid oid;
		git_oid_fromraw(&oid, reads[i].id);
		if (git_odb_read(&o, odb, &oid) != 0) {
			fprintf(stderr, "bench_store: raw git lost an object\n");
			exit(1);
		}
		git_odb_object_free(o);
	}
	r->raw_reads_s = (double)nreads / (bench_now() - t0);
	git_odb_free(odb);
	git_repository_free(repo);
}

static struct vs_repo_opts ropts = { .version = VS_REPO_OPTS_VERSION };

static void bench(const char *backend, const char *base, size_t ncommits, size_t nreads)
{
	char dir[4200], uri[4300];
	struct vs_repo *repo;
	struct vs_tree *t, *n;
	struct vs_oid head;
	struct vs_signature sig = { "bench", "bench@example.org", 1700000000, 0 };
	struct vs_commit_opts o = { .author = &sig, .message = "single-key write\n" };
	struct result r = { 0 };
	uint64_t keys = nkeys();
	char path[64], val[32];

	snprintf(dir, sizeof(dir), "%s/%s", base, backend);
	mkdir(dir, 0700);
	if (!strcmp(backend, "mem"))
		snprintf(uri, sizeof(uri), "mem:");
	else
		snprintf(uri, sizeof(uri), "%s:%s/store", backend, dir);
	struct vs_repo_opts rop = ropts;
	if (!strcmp(backend, "git"))
		rop.format = NULL; /* a git repository holds the git format only */
	CHECK(vs_repo_open(&repo, uri, &rop), uri);
	fprintf(stderr, "%s: building %" PRIu64 " keys...\n", backend, keys);
	CHECK(vs_tree_new(&t, repo), "tree");
	for (uint64_t k = 0; k < keys; k++) {
		key_path(path, sizeof(path), k);
		snprintf(val, sizeof(val), "value-%" PRIu64, k);
		CHECK(vs_tree_set(&n, t, path, val, strlen(val)), "set");
		vs_tree_free(t);
		t = n;
	}
	CHECK(vs_branch_commit(&head, repo, "main", NULL, t, &o), "base commit");
	uint64_t before = storage_bytes(repo, dir);

	struct vs_oid *ids = calloc(ncommits, sizeof(*ids));
	char (*paths)[64] = calloc(ncommits, 64);
	double t0 = bench_now();
	for (size_t i = 0; i < ncommits; i++) {
		key_path(paths[i], 64, rnd() % keys);
		snprintf(val, sizeof(val), "write-%zu", i);
		sig.time++;
		CHECK(vs_tree_set(&n, t, paths[i], val, strlen(val)), "set");
		vs_tree_free(t);
		t = n;
		CHECK(vs_branch_commit(&ids[i], repo, "main", &head, t, &o), "commit");
		head = ids[i];
	}
	r.commits_s = (double)ncommits / (bench_now() - t0);
	r.bytes_commit = (double)(storage_bytes(repo, dir) - before) / (double)ncommits;

	/* The objects each commit added, for the raw replay and the raw byte count. */
	struct commit_objs *cos = calloc(ncommits, sizeof(*cos));
	double raw_total = 0;
	for (size_t i = 0; i < ncommits; i++) {
		collect(&cos[i], repo, &ids[i], paths[i]);
		for (size_t k = 0; k < cos[i].n; k++)
			raw_total += (double)cos[i].o[k].data.size;
	}
	r.raw_bytes_commit = raw_total / (double)ncommits;

	/* Reads through the tree: a fresh handle, so the cache starts cold. */
	vs_tree_free(t);
	vs_repo_close(repo);
	CHECK(vs_repo_open(&repo, uri, &rop), uri);
	if (!strcmp(backend, "mem")) {
		r.reads_s = 0;
	} else {
		struct vs_commit *c;
		struct vs_buf v = VS_BUF_INIT;
		struct vs_oid *blobs = calloc(nreads, sizeof(*blobs));
		char (*rpaths)[64] = calloc(nreads, 64);
		CHECK(vs_commit_lookup(&c, repo, &head), "lookup");
		CHECK(vs_commit_tree(&t, c), "tree");
		for (size_t i = 0; i < nreads; i++)
			key_path(rpaths[i], 64, rnd() % keys);
		/* First touch: every read loads its nodes and value from the backend. */
		t0 = bench_now();
		for (size_t i = 0; i < nreads; i++)
			CHECK(vs_tree_get(&v, t, rpaths[(i * 7919) % nreads]), "get");
		r.cold_reads_s = (double)nreads / (bench_now() - t0);
		/* Steady state: the tree now holds what it read, as a daemon's does. */
		t0 = bench_now();
		for (size_t i = 0; i < nreads; i++)
			CHECK(vs_tree_get(&v, t, rpaths[i]), "get");
		r.reads_s = (double)nreads / (bench_now() - t0);
		/* The raw side reads the very same values, by id. */
		for (size_t i = 0; i < nreads; i++) {
			struct vs_tree_stat st;
			CHECK(vs_tree_stat(&st, t, rpaths[i]), "stat");
			blobs[i] = st.id;
		}
		free(rpaths);
		if (!strcmp(backend, "lmdb"))
			raw_lmdb(&r, dir, repo, cos, ncommits, blobs, nreads);
		else
			raw_git(&r, dir, cos, ncommits, blobs, nreads);
		vs_buf_release(&v);
		vs_tree_free(t);
		vs_commit_free(c);
		free(blobs);
	}
	printf("%-5s commits/s %9.0f  raw %9.0f  ratio %5.2f\n", backend, r.commits_s,
	       r.raw_commits_s, r.raw_commits_s ? r.commits_s / r.raw_commits_s : 0);
	printf("%-5s reads/s   %9.0f  raw %9.0f  ratio %5.2f   (first touch: %9.0f, ratio %5.2f)\n",
	       backend, r.reads_s, r.raw_reads_s, r.raw_reads_s ? r.reads_s / r.raw_reads_s : 0,
	       r.cold_reads_s, r.raw_reads_s ? r.cold_reads_s / r.raw_reads_s : 0);
	printf("%-5s bytes/commit %6.0f  raw objects %6.0f  ratio %5.2f\n", backend,
	       r.bytes_commit, r.raw_bytes_commit,
	       r.raw_bytes_commit ? r.bytes_commit / r.raw_bytes_commit : 0);
	fflush(stdout);
	for (size_t i = 0; i < ncommits; i++)
		for (size_t k = 0; k < cos[i].n; k++)
			vs_buf_release(&cos[i].o[k].data);
	free(cos);
	free(ids);
	free(paths);
	vs_repo_close(repo);
}

int main(int argc, char **argv)
{
	size_t ncommits = 2000, nreads = 200000;
	const char *backends = "lmdb,git", *dir = NULL;
	char tmpl[4096];
	int opt;

	while ((opt = getopt(argc, argv, "n:r:b:f:d:h")) != -1) {
		switch (opt) {
		case 'n':
			ncommits = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			nreads = strtoul(optarg, NULL, 10);
			break;
		case 'f':
			ropts.format = optarg;
			break;
		case 'b':
			backends = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		default:
			fprintf(stderr, "usage: bench_store [-n COMMITS] [-r READS] [-b lmdb,git,mem] "
					"[-f git|vs] [-d DIR]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (!ncommits || !nreads) {
		fprintf(stderr, "bench_store: -n and -r must be positive\n");
		return 2;
	}
	if (!dir) {
		snprintf(tmpl, sizeof(tmpl), "%s/bench_store.XXXXXX",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (!(dir = mkdtemp(tmpl))) {
			perror("bench_store: mkdtemp");
			return 1;
		}
	}
	printf("bench_store: %zu single-key commits at depth %d into %" PRIu64
	       " keys (fan-out %d), %zu reads, in %s\n",
	       ncommits, DEPTH, nkeys(), FANOUT, nreads, dir);
	char *list = strdup(backends);
	for (char *b = strtok(list, ","); b; b = strtok(NULL, ","))
		bench(b, dir, ncommits, nreads);
	free(list);
	return 0;
}
