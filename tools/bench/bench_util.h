/* SPDX-License-Identifier: MIT */
/*
 * What every benchmark needs: a monotonic clock, dying with the library's
 * error message, and a fixed-seed generator so runs are repeatable.
 * Define BENCH_NAME before including it.
 */
#ifndef VSTORE_BENCH_UTIL_H
#define VSTORE_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "vstore/sys/backend.h"
#include "vstore/vstore.h"

static inline double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void bench_die(const char *what)
{
	const struct vs_error *e = vs_error_last();
	fprintf(stderr, "%s: %s: %s (%s)\n", BENCH_NAME, what, e->message, vs_err_name(e->code));
	exit(1);
}

/* Exit with the error when a libvstore call fails. */
#define CHECK(x, what)                   \
	do {                             \
		if ((x) < 0)             \
			bench_die(what); \
	} while (0)

/* The bytes @repo's backend counts as in use ("stat.bytes_used": LMDB's pages). */
static inline uint64_t bench_bytes_used(struct vs_repo *repo)
{
	struct vs_backend *b = vs_repo_backend(repo);
	struct vs_buf v = VS_BUF_INIT;
	CHECK(b->ops->config_get(b, "stat.bytes_used", &v), "stat.bytes_used");
	uint64_t n = strtoull(v.ptr, NULL, 10);
	vs_buf_release(&v);
	return n;
}

/* xorshift64: the same sequence on every run. */
static inline uint64_t bench_rnd(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

#endif
