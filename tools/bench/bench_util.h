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

/* xorshift64: the same sequence on every run. */
static inline uint64_t bench_rnd(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

#endif
