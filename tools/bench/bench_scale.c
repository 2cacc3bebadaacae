/* SPDX-License-Identifier: MIT */
/*
 * bench_scale: what one write costs as a directory grows. For fan-outs of
 * 10 to 100 000 entries under one directory, per object format on LMDB:
 * microseconds per single-key commit, bytes stored per commit, microseconds
 * per read of a random key at the head by another handle with the store's
 * default caches (a reader process in its steady state: it has read every
 * key once before), the same by a handle with no caches to speak of (each
 * read loads the commit, every tree on the path and the value: one backend
 * read per level), microseconds per diff of two adjacent commits, and each
 * as a ratio to the fan-out-10 figure. Reads and diffs are timed in three
 * passes and the median pass is printed: a pass takes milliseconds, and a
 * shared machine's hiccups would otherwise decide the ratios. The vs
 * format's bounded nodes should keep the ratios near 1 (the uncached read's
 * grows with the depth of the trie); git's flat trees grow with the directory. For reference the last
 * column is a read from the writer's in-memory tree (what a daemon serves).
 *
 * The directory is built in the vs format (cheap: bounded nodes) and, for
 * the git format, converted with vs_repo_copy.
 *
 * usage: bench_scale [-n COMMITS] [-r READS] [-m MAX_FANOUT] [-f git,vs] [-d DIR]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vstore/sys/backend.h"
#include "vstore/vstore.h"

#define BENCH_NAME "bench_scale"
#include "bench_util.h"

struct figures {
	double commit_us, bytes, read_us, cold_read_us, diff_us, mem_read_us;
};

static uint64_t rng = 0x853c49e6748fea9bull;

static uint64_t rnd(void)
{
	return bench_rnd(&rng);
}

static struct vs_repo *open_with(const char *dir, const char *name, const struct vs_repo_opts *o)
{
	char uri[4300];
	struct vs_repo *repo;
	snprintf(uri, sizeof(uri), "lmdb:%s/%s", dir, name);
	CHECK(vs_repo_open(&repo, uri, o), uri);
	return repo;
}

static struct vs_repo *open_store(const char *dir, const char *name, const char *format)
{
	struct vs_repo_opts o = { .version = VS_REPO_OPTS_VERSION, .format = format };
	return open_with(dir, name, &o);
}

/* Microseconds per vs_read_at of a random key of d/ at @head by @repo. */
static double time_reads(struct vs_repo *repo, const struct vs_oid *head, size_t fanout,
			 size_t nreads)
{
	struct vs_buf v = VS_BUF_INIT;
	char path[32];
	double t0 = bench_now();

	for (size_t i = 0; i < nreads; i++) {
		snprintf(path, sizeof(path), "d/k%" PRIu64, rnd() % fanout);
		CHECK(vs_read_at(&v, repo, head, path), "read at");
	}
	vs_buf_release(&v);
	return (bench_now() - t0) * 1e6 / (double)nreads;
}

/* Reads every key of d/ once at @head, untimed: fills @repo's caches. */
static void warm_reads(struct vs_repo *repo, const struct vs_oid *head, size_t fanout)
{
	struct vs_buf v = VS_BUF_INIT;
	char path[32];

	for (size_t k = 0; k < fanout; k++) {
		snprintf(path, sizeof(path), "d/k%zu", k);
		CHECK(vs_read_at(&v, repo, head, path), "read at");
	}
	vs_buf_release(&v);
}

static int count_delta(void *payload, const struct vs_delta *d)
{
	(void)d;
	(*(size_t *)payload)++;
	return 0;
}

/* Microseconds per diff of each of @ncommits + 1 commits @ids with the next. */
static double time_diffs(struct vs_repo *repo, const struct vs_oid *ids, size_t ncommits)
{
	size_t deltas = 0;
	double t0 = bench_now();

	for (size_t i = 0; i < ncommits; i++)
		CHECK(vs_diff_commits(repo, &ids[i], &ids[i + 1], NULL, count_delta, &deltas),
		      "diff");
	double us = (bench_now() - t0) * 1e6 / (double)ncommits;
	if (deltas > ncommits)
		fprintf(stderr, "bench_scale: %zu deltas for %zu single-key commits\n", deltas,
			ncommits);
	return us;
}

static double median3(double a, double b, double c)
{
	return a > b ? (b > c ? b : a < c ? a : c) : (a > c ? a : b < c ? b : c);
}

/* A second handle that keeps almost nothing: reads go to the backend. */
static struct vs_repo *open_uncached(const char *dir, const char *name)
{
	struct vs_repo_opts o = { .version = VS_REPO_OPTS_VERSION, .cache_trees = 1,
				  .flags = VS_REPO_NO_VALUE_CACHE };
	return open_with(dir, name, &o);
}

/* The directory d/k0 .. d/k<fanout-1> committed on main of a vs store. */
static void build_vs(struct vs_repo *repo, size_t fanout)
{
	struct vs_signature sig = { "bench", "bench@example.org", 1700000000, 0 };
	struct vs_commit_opts o = { .author = &sig, .message = "build\n" };
	struct vs_tree *t, *n;
	struct vs_oid id;
	char path[32], val[32];

	CHECK(vs_tree_new(&t, repo), "tree");
	for (size_t k = 0; k < fanout; k++) {
		snprintf(path, sizeof(path), "d/k%zu", k);
		snprintf(val, sizeof(val), "value-%zu", k);
		CHECK(vs_tree_set(&n, t, path, val, strlen(val)), "set");
		vs_tree_free(t);
		t = n;
	}
	CHECK(vs_branch_commit(&id, repo, "main", NULL, t, &o), "commit");
	vs_tree_free(t);
}

static void measure(struct figures *f, struct vs_repo *repo, struct vs_repo *reader,
		    struct vs_repo *cold, size_t fanout, size_t ncommits, size_t nreads)
{
	struct vs_signature sig = { "bench", "bench@example.org", 1800000000, 0 };
	struct vs_commit_opts o = { .author = &sig, .message = "write\n" };
	struct vs_oid head, *ids = calloc(ncommits + 1, sizeof(*ids));
	struct vs_commit *c;
	struct vs_tree *t, *n;
	struct vs_buf v = VS_BUF_INIT;
	char path[32], val[32];

	CHECK(vs_branch_head(&head, repo, "main"), "head");
	CHECK(vs_commit_lookup(&c, repo, &head), "lookup");
	CHECK(vs_commit_tree(&t, c), "tree");
	vs_commit_free(c);
	ids[0] = head;
	uint64_t before = bench_bytes_used(repo);
	double t0 = bench_now();
	for (size_t i = 0; i < ncommits; i++) {
		snprintf(path, sizeof(path), "d/k%" PRIu64, rnd() % fanout);
		snprintf(val, sizeof(val), "write-%zu", i);
		sig.time++;
		CHECK(vs_tree_set(&n, t, path, val, strlen(val)), "set");
		vs_tree_free(t);
		t = n;
		CHECK(vs_branch_commit(&ids[i + 1], repo, "main", &ids[i], t, &o), "commit");
	}
	f->commit_us = (bench_now() - t0) * 1e6 / (double)ncommits;
	f->bytes = (double)(bench_bytes_used(repo) - before) / (double)ncommits;

	for (size_t i = 0; i < nreads; i++) { /* warm: the tree holds what it read */
		snprintf(path, sizeof(path), "d/k%" PRIu64, rnd() % fanout);
		CHECK(vs_tree_get(&v, t, path), "get");
	}
	t0 = bench_now();
	for (size_t i = 0; i < nreads; i++) {
		snprintf(path, sizeof(path), "d/k%" PRIu64, rnd() % fanout);
		CHECK(vs_tree_get(&v, t, path), "get");
	}
	f->mem_read_us = (bench_now() - t0) * 1e6 / (double)nreads;

	/* From the store by a reader that has read every key once. */
	const struct vs_oid *at = &ids[ncommits];
	warm_reads(reader, at, fanout);
	f->read_us = median3(time_reads(reader, at, fanout, nreads),
			     time_reads(reader, at, fanout, nreads),
			     time_reads(reader, at, fanout, nreads));
	/* Uncached: every read loads its path (fewer reads: git's are slow). */
	size_t ncold = nreads / 50 ? nreads / 50 : 1;
	f->cold_read_us = median3(time_reads(cold, at, fanout, ncold),
				  time_reads(cold, at, fanout, ncold),
				  time_reads(cold, at, fanout, ncold));
	f->diff_us = median3(time_diffs(repo, ids, ncommits), time_diffs(repo, ids, ncommits),
			     time_diffs(repo, ids, ncommits));
	vs_buf_release(&v);
	vs_tree_free(t);
	free(ids);
}

static void row(const char *format, size_t fanout, const struct figures *f,
		const struct figures *base)
{
	printf("%-4s %7zu | %9.1f x%5.2f | %8.0f x%5.2f | %7.2f x%5.2f | %8.1f x%5.2f | "
	       "%7.1f x%5.2f | %5.2f\n",
	       format, fanout, f->commit_us, f->commit_us / base->commit_us, f->bytes,
	       f->bytes / base->bytes, f->read_us, f->read_us / base->read_us, f->cold_read_us,
	       f->cold_read_us / base->cold_read_us, f->diff_us, f->diff_us / base->diff_us,
	       f->mem_read_us);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	size_t ncommits = 200, nreads = 100000, max_fanout = 100000;
	const char *formats = "vs,git", *dir = NULL;
	char tmpl[4096];
	int opt;

	while ((opt = getopt(argc, argv, "n:r:m:f:d:h")) != -1) {
		switch (opt) {
		case 'n':
			ncommits = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			nreads = strtoul(optarg, NULL, 10);
			break;
		case 'm':
			max_fanout = strtoul(optarg, NULL, 10);
			break;
		case 'f':
			formats = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		default:
			fprintf(stderr, "usage: bench_scale [-n COMMITS] [-r READS] [-m MAX_FANOUT] "
					"[-f git,vs] [-d DIR]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (!ncommits || !nreads || max_fanout < 10) {
		fprintf(stderr, "bench_scale: -n and -r must be positive, -m at least 10\n");
		return 2;
	}
	if (!dir) {
		snprintf(tmpl, sizeof(tmpl), "%s/bench_scale.XXXXXX",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (!(dir = mkdtemp(tmpl))) {
			perror("bench_scale: mkdtemp");
			return 1;
		}
	}
	printf("bench_scale: LMDB, %zu single-key commits and %zu reads per fan-out, in %s\n",
	       ncommits, nreads, dir);
	printf("fmt   fanout | us/commit  ratio | B/commit  ratio | us/read  ratio | "
	       "uncached  ratio | us/diff  ratio | in memory\n");
	char *list = strdup(formats);
	for (char *fmt = strtok(list, ","); fmt; fmt = strtok(NULL, ",")) {
		struct figures base = { 0 };
		for (size_t fanout = 10; fanout <= max_fanout; fanout *= 10) {
			char name[64];
			struct figures f;
			snprintf(name, sizeof(name), "vs-%zu", fanout);
			struct vs_repo *vs = open_store(dir, name, "vs"), *repo = vs;
			build_vs(vs, fanout);
			if (strcmp(fmt, "vs")) {
				snprintf(name, sizeof(name), "%s-%zu", fmt, fanout);
				repo = open_store(dir, name, fmt);
				CHECK(vs_repo_copy(repo, vs, NULL, NULL), "convert");
				vs_repo_close(vs);
			}
			struct vs_repo *reader = open_store(dir, name, NULL);
			struct vs_repo *cold = open_uncached(dir, name);
			measure(&f, repo, reader, cold, fanout, ncommits, nreads);
			vs_repo_close(cold);
			vs_repo_close(reader);
			if (fanout == 10)
				base = f;
			row(fmt, fanout, &f, &base);
			vs_repo_close(repo);
		}
	}
	free(list);
	return 0;
}
