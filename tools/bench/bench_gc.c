/* SPDX-License-Identifier: MIT */
/*
 * bench_gc: does an LMDB store stay bounded under an endless stream of
 * single-key commits with "keep the last K commits"? After each commit one
 * GC step runs while a collection is under way, as a daemon would between
 * requests; a new collection starts C commits after the previous one
 * started (default K/20: a collection walks the K kept commits and reads
 * every reachable object, so back to back ones cost much for little space).
 * Prints the store's size (LMDB pages in use, and the data file) after K
 * commits and at checkpoints up to N, the final size over the size after K,
 * commit throughput, and GC step times (the longest the write lock is held).
 *
 * usage: bench_gc [-n COMMITS] [-k KEEP] [-c EVERY] [-K KEYS] [-f FORMAT]
 *                 [-s STEP_OBJECTS] [-u STEP_USEC] [-d DIR]
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

#define BENCH_NAME "bench_gc"
#include "bench_util.h"

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	return bench_rnd(&rng);
}

/* LMDB pages in use times the page size, and the data file's size. */
static void sizes(struct vs_repo *repo, const char *dir, uint64_t *used, uint64_t *file)
{
	char path[4200];
	struct stat st;

	*used = bench_bytes_used(repo);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	*file = stat(path, &st) ? 0 : (uint64_t)st.st_size;
}

struct totals {
	size_t cycles, swept, moved, marked;
	uint64_t freed, swept_bytes;
	double step_max, step_sum;
	size_t steps, slow; /* steps over 5 ms */
	double commit_max;  /* the same for commits, to tell GC from the disk */
	size_t commit_slow;
};

static void add_cycle(struct totals *t, const struct vs_gc_stats *st)
{
	t->cycles++;
	t->swept += st->objects_swept;
	t->moved += st->records_moved;
	t->freed += st->bytes_freed;
	t->swept_bytes += st->bytes_swept;
	t->marked = st->objects_marked;
}

/* One GC step, timed; a finished collection is freed and counted. */
static void gc_step(struct vs_gc **gc, struct vs_repo *repo, const struct vs_gc_policy *p,
		    const struct vs_gc_opts *o, struct totals *t)
{
	struct vs_gc_stats st;
	double t0 = bench_now(), dt;
	int rc;

	if (!*gc)
		CHECK(vs_gc_new(gc, repo, p, o), "gc new");
	CHECK(rc = vs_gc_step(*gc, &st), "gc step");
	dt = bench_now() - t0;
	t->steps++;
	t->step_sum += dt;
	t->slow += dt > 0.005;
	if (dt > t->step_max)
		t->step_max = dt;
	if (rc == 0) {
		add_cycle(t, &st);
		vs_gc_free(*gc);
		*gc = NULL;
	}
}

static void report(const char *what, size_t i, struct vs_repo *repo, const char *dir,
		   double t0, const struct totals *t)
{
	uint64_t used, file;
	sizes(repo, dir, &used, &file);
	printf("%-10s %9zu commits  used %7.2f MiB  file %7.2f MiB  %6.0f commits/s  "
	       "%zu collections\n",
	       what, i, (double)used / 1048576.0, (double)file / 1048576.0,
	       (double)i / (bench_now() - t0), t->cycles);
	fflush(stdout);
}

struct run {
	size_t n, keep, keys, every;
	const char *format, *base;
	struct vs_gc_opts o;
};

/* The stream of commits, GC steps between them; prints as it goes. */
static void run(const struct run *r, struct vs_repo *repo)
{
	struct vs_gc_policy p = { .version = VS_GC_POLICY_VERSION, .keep_last = r->keep };
	struct vs_signature sig = { "bench", "bench@example.org", 1700000000, 0 };
	struct vs_commit_opts co = { .author = &sig, .message = "single-key write\n" };
	uint64_t used_k = 0, file_k = 0, used, file;
	struct vs_oid head = { 0 };
	struct totals tot = { 0 };
	struct vs_gc *gc = NULL;
	struct vs_tree *t, *nt;
	char path[64], val[32];
	size_t since = 0;
	double t0 = bench_now();

	CHECK(vs_tree_new(&t, repo), "tree");
	for (size_t i = 0; i < r->n; i++) {
		uint64_t k = rnd() % r->keys;
		/* xenstore-like paths: /local/domain/<dom>/data/<key> */
		snprintf(path, sizeof(path), "local/domain/%" PRIu64 "/data/k%" PRIu64, k / 100,
			 k % 100);
		snprintf(val, sizeof(val), "write-%zu", i);
		sig.time++;
		CHECK(vs_tree_set(&nt, t, path, val, strlen(val)), "set");
		vs_tree_free(t);
		t = nt;
		double c0 = bench_now();
		CHECK(vs_branch_commit(&head, repo, "main", i ? &head : NULL, t, &co), "commit");
		c0 = bench_now() - c0;
		tot.commit_slow += c0 > 0.005;
		if (c0 > tot.commit_max)
			tot.commit_max = c0;
		if (++since >= r->every || gc) {
			if (!gc)
				since = 0; /* counted from a collection's start */
			gc_step(&gc, repo, &p, &r->o, &tot);
		}
		if (i + 1 == r->keep) {
			sizes(repo, r->base, &used_k, &file_k);
			report("after K", i + 1, repo, r->base, t0, &tot);
		} else if ((i + 1) % (r->n / 10 ? r->n / 10 : 1) == 0) {
			report("checkpoint", i + 1, repo, r->base, t0, &tot);
		}
	}
	sizes(repo, r->base, &used, &file);
	printf("size after %zu commits / after %zu: pages in use %.3f (%.2f / %.2f MiB), "
	       "data file %.3f (%.2f / %.2f MiB)\n",
	       r->n, r->keep, (double)used / (double)used_k, (double)used / 1048576.0,
	       (double)used_k / 1048576.0, (double)file / (double)file_k,
	       (double)file / 1048576.0, (double)file_k / 1048576.0);
	printf("gc: %zu collections, %zu objects swept (%.1f MiB of content), %zu records moved, "
	       "%.1f MiB of log released, %zu objects reachable at the last\n",
	       tot.cycles, tot.swept, (double)tot.swept_bytes / 1048576.0, tot.moved,
	       (double)tot.freed / 1048576.0, tot.marked);
	printf("gc steps: %zu, mean %.3f ms, max %.3f ms, %zu over 5 ms; commits: max %.3f ms, "
	       "%zu over 5 ms\n",
	       tot.steps, tot.step_sum / (double)tot.steps * 1e3, tot.step_max * 1e3, tot.slow,
	       tot.commit_max * 1e3, tot.commit_slow);
	vs_gc_free(gc);
	vs_tree_free(t);
}

int main(int argc, char **argv)
{
	struct run r = { .n = 200000, .keep = 20000, .keys = 10000, .format = "vs",
			 .o = { .version = VS_GC_OPTS_VERSION } };
	char tmpl[4096], uri[4300];
	struct vs_repo *repo;
	int opt;

	while ((opt = getopt(argc, argv, "n:k:c:K:f:s:u:d:")) != -1) {
		switch (opt) {
		case 'n': r.n = strtoul(optarg, NULL, 10); break;
		case 'k': r.keep = strtoul(optarg, NULL, 10); break;
		case 'c': r.every = strtoul(optarg, NULL, 10); break;
		case 'K': r.keys = strtoul(optarg, NULL, 10); break;
		case 'f': r.format = optarg; break;
		case 's': r.o.step_objects = strtoul(optarg, NULL, 10); break;
		case 'u': r.o.step_usec = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'd': r.base = optarg; break;
		default:
			fprintf(stderr, "usage: bench_gc [-n COMMITS] [-k KEEP] [-c EVERY] "
					"[-K KEYS] [-f FORMAT] [-s STEP_OBJECTS] [-u STEP_USEC] "
					"[-d DIR]\n");
			return 2;
		}
	}
	if (!r.keep || r.n < r.keep || r.keys < 100) {
		fprintf(stderr, "bench_gc: need KEEP > 0, COMMITS >= KEEP and KEYS >= 100\n");
		return 2;
	}
	if (!r.every)
		r.every = r.keep / 20 ? r.keep / 20 : 1;
	if (!r.base) {
		snprintf(tmpl, sizeof(tmpl), "%s/bench_gc.XXXXXX",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (!(r.base = mkdtemp(tmpl))) {
			perror("bench_gc: mkdtemp");
			return 1;
		}
	}
	snprintf(uri, sizeof(uri), "lmdb:%s", r.base);
	struct vs_repo_opts ro = { .version = VS_REPO_OPTS_VERSION, .format = r.format };
	CHECK(vs_repo_open(&repo, uri, &ro), uri);
	printf("bench_gc: %zu single-key commits over %zu keys, keep_last %zu, a collection "
	       "every %zu commits, format %s, in %s\n",
	       r.n, r.keys, r.keep, r.every, r.format, r.base);
	run(&r, repo);
	CHECK(vs_repo_check(repo, NULL), "check");
	vs_repo_close(repo);
	return 0;
}
