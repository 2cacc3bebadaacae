/* SPDX-License-Identifier: MIT */
/*
 * bench_retain: the daemon's store under a steady stream of writes, without
 * and with retention (xenstored --keep-last). Each run starts
 * build/xenstored/xenstored (bench_xsd.h) on a fresh LMDB store; one
 * libxenstore client writes small values to /local/domain/<i % 10>/data/
 * k<i / 10 % 50> at -r writes per second (0: as fast as it answers). At ten
 * checkpoints the bench prints the LMDB pages in use (the store opened
 * read-only beside the daemon) and the daemon's CPU per write so far; at
 * the end, the history's length and the daemon's `gc` report. The summary
 * compares the two runs: bytes in use at the end, their growth over the
 * second half of the run (retention should level it off: the window is
 * full by then), and the daemon's CPU per write. A benchmark, not a test:
 * no target here changes the exit status, errors do.
 *
 * usage: bench_retain --help
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenstore.h>

#include "vstore/sys/backend.h"

#define BENCH_NAME "bench_retain"
#include "bench_util.h"
#include "bench_xsd.h"

#define CHECKPOINTS 10

static struct {
	const char *daemon, *tmpdir, *every;
	long writes, keep_last;
	double rate, wait_seconds;
	bool keep;
} opt = { .writes = 100000, .keep_last = 20000, .rate = 2000, .wait_seconds = 10 };

struct run {
	uint64_t used[CHECKPOINTS]; /* LMDB bytes in use at each checkpoint */
	double cpu_us;              /* daemon CPU per write over the run */
	double secs;
	size_t commits;             /* history length at the end */
};

static void usage(FILE *to)
{
	fprintf(to,
		"usage: bench_retain [options]\n"
		"Writes to xenstored at a steady rate, without and with --keep-last, and\n"
		"compares the store's size and the daemon's CPU per write.\n"
		"  -n, --writes N       writes per run (default 100000)\n"
		"  -r, --rate R         writes per second (default 2000; 0: as fast as possible)\n"
		"  -k, --keep-last K    the retention run's --keep-last (default 20000)\n"
		"  -e, --gc-every E     its --gc-every (default: the daemon's, K/2)\n"
		"      --daemon PATH    xenstored binary (default: as bench_xenstored finds it)\n"
		"      --tmpdir DIR     where run dirs are made (default $TMPDIR or /tmp)\n"
		"      --wait S         how long to wait for the daemon's socket (default 10)\n"
		"      --keep           keep the run dirs\n"
		"  -h, --help           this text\n");
}

static double parse_num(const char *s, const char *what)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (!*s || *end || errno || v < 0)
		bench_usage_die("%s: '%s' is not a number >= 0", what, s);
	return v;
}

static void parse_args(int argc, char **argv)
{
	enum { O_DAEMON = 256, O_TMPDIR, O_WAIT, O_KEEP };
	static const struct option longs[] = {
		{ "writes", 1, NULL, 'n' },	{ "rate", 1, NULL, 'r' },
		{ "keep-last", 1, NULL, 'k' },	{ "gc-every", 1, NULL, 'e' },
		{ "daemon", 1, NULL, O_DAEMON }, { "tmpdir", 1, NULL, O_TMPDIR },
		{ "wait", 1, NULL, O_WAIT },	{ "keep", 0, NULL, O_KEEP },
		{ "help", 0, NULL, 'h' },	{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "n:r:k:e:h", longs, NULL)) != -1) {
		switch (c) {
		case 'n': opt.writes = (long)parse_num(optarg, "--writes"); break;
		case 'r': opt.rate = parse_num(optarg, "--rate"); break;
		case 'k': opt.keep_last = (long)parse_num(optarg, "--keep-last"); break;
		case 'e': opt.every = optarg; break;
		case O_DAEMON: opt.daemon = optarg; break;
		case O_TMPDIR: opt.tmpdir = optarg; break;
		case O_WAIT: opt.wait_seconds = parse_num(optarg, "--wait"); break;
		case O_KEEP: opt.keep = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc)
		bench_usage_die("unexpected argument: %s", argv[optind]);
	if (opt.writes < CHECKPOINTS || opt.keep_last < 1)
		bench_usage_die("--writes must be at least %d and --keep-last at least 1",
				CHECKPOINTS);
}

/* The store, read-only beside the daemon: LMDB pages in use, in bytes. */
static uint64_t used_bytes(const char *uri)
{
	struct vs_repo_opts o = { .version = VS_REPO_OPTS_VERSION,
				  .flags = VS_REPO_READONLY | VS_REPO_NOCREATE };
	struct vs_repo *repo;
	CHECK(vs_repo_open(&repo, uri, &o), uri);
	uint64_t n = bench_bytes_used(repo);
	vs_repo_close(repo);
	return n;
}

static int count_commit(void *payload, struct vs_commit *c)
{
	(void)c;
	(*(size_t *)payload)++;
	return 0;
}

static size_t history_length(const char *uri)
{
	struct vs_repo_opts o = { .version = VS_REPO_OPTS_VERSION,
				  .flags = VS_REPO_READONLY | VS_REPO_NOCREATE };
	struct vs_repo *repo;
	struct vs_oid head;
	size_t n = 0;
	CHECK(vs_repo_open(&repo, uri, &o), uri);
	CHECK(vs_branch_head(&head, repo, "main"), "head of main");
	CHECK(vs_log(repo, &head, NULL, count_commit, &n), "log");
	vs_repo_close(repo);
	return n;
}

static bool one_run(struct run *r, const char *bin, bool retain)
{
	char keep[32], uri[PATH_MAX + 8];
	const char *extra[4];
	unsigned int nextra = 0;
	struct bench_xsd dm;

	snprintf(keep, sizeof(keep), "%ld", opt.keep_last);
	if (retain) {
		extra[nextra++] = "--keep-last";
		extra[nextra++] = keep;
		if (opt.every) {
			extra[nextra++] = "--gc-every";
			extra[nextra++] = opt.every;
		}
	}
	struct bench_xsd_opts o = { .bin = bin, .tmpdir = opt.tmpdir, .extra = extra,
				    .nextra = nextra, .wait = opt.wait_seconds, .keep = opt.keep };
	if (!bench_xsd_start(&dm, &o, 0))
		return false;
	snprintf(uri, sizeof(uri), "lmdb:%s/store", dm.dir);
	printf("%s (%s)\n", retain ? "with --keep-last" : "without retention", dm.dir);
	printf("  %10s %14s %12s\n", "writes", "bytes in use", "cpu/write");
	double cpu0 = bench_xsd_cpu(dm.pid), t0 = bench_now();
	for (long i = 0, next = opt.writes / CHECKPOINTS, cp = 0; i < opt.writes; i++) {
		char path[64], val[32];
		snprintf(path, sizeof(path), "/local/domain/%ld/data/k%ld", i % 10, i / 10 % 50);
		int len = snprintf(val, sizeof(val), "v%ld", i);
		if (!xs_write(dm.h, XBT_NULL, path, val, (unsigned int)len)) {
			fprintf(stderr, "%s: write %s: %s\n", BENCH_NAME, path, strerror(errno));
			bench_xsd_stop(&dm, opt.keep);
			return false;
		}
		while (opt.rate > 0 && bench_now() < t0 + (double)(i + 1) / opt.rate)
			usleep(100);
		if (i + 1 == next) {
			r->used[cp] = used_bytes(uri);
			printf("  %10ld %14llu %9.1f us\n", i + 1, (unsigned long long)r->used[cp],
			       (bench_xsd_cpu(dm.pid) - cpu0) * 1e6 / (double)(i + 1));
			fflush(stdout);
			cp++;
			next = opt.writes * (cp + 1) / CHECKPOINTS;
		}
	}
	r->secs = bench_now() - t0;
	r->cpu_us = (bench_xsd_cpu(dm.pid) - cpu0) * 1e6 / (double)opt.writes;
	if (retain) {
		char *rep = xs_control_command(dm.h, "gc", NULL, 0);
		printf("  gc: %s", rep ? rep : "(no answer)\n");
		free(rep);
	}
	r->commits = history_length(uri);
	bench_xsd_stop(&dm, opt.keep);
	printf("  %ld writes in %.1f s; %zu commits of history\n\n", opt.writes, r->secs,
	       r->commits);
	return true;
}

int main(int argc, char **argv)
{
	struct run plain = { 0 }, kept = { 0 };

	parse_args(argc, argv);
	const char *bin = bench_xsd_find(opt.daemon);
	if (!bin)
		return 2;
	if (opt.rate > 0)
		printf("bench_retain: %ld writes at %.0f/s", opt.writes, opt.rate);
	else
		printf("bench_retain: %ld writes as fast as they are answered", opt.writes);
	printf(", one libxenstore client; --keep-last %ld\n\n", opt.keep_last);
	if (!one_run(&plain, bin, false) || !one_run(&kept, bin, true))
		return 1;
	int half = CHECKPOINTS / 2 - 1, last = CHECKPOINTS - 1;
	printf("%-34s %14s %14s %8s\n", "figure", "without", "with", "ratio");
	printf("%-34s %14llu %14llu %8.2f\n", "bytes in use at the end",
	       (unsigned long long)plain.used[last], (unsigned long long)kept.used[last],
	       (double)kept.used[last] / (double)plain.used[last]);
	printf("%-34s %14.2f %14.2f\n", "growth over the second half (x)",
	       (double)plain.used[last] / (double)plain.used[half],
	       (double)kept.used[last] / (double)kept.used[half]);
	printf("%-34s %14.1f %14.1f %8.2f\n", "daemon cpu per write (us)", plain.cpu_us,
	       kept.cpu_us, kept.cpu_us / plain.cpu_us);
	printf("%-34s %14zu %14zu\n", "commits of history", plain.commits, kept.commits);
	return 0;
}
