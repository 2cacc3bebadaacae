/* SPDX-License-Identifier: MIT */
/*
 * The allocator hook: every allocation libvstore makes goes through it, so
 * a program can account for memory and tests can make allocations fail.
 */
#ifndef VSTORE_SYS_ALLOC_H
#define VSTORE_SYS_ALLOC_H

#include "../common.h"

/** malloc/realloc/free with the usual semantics. */
struct vs_allocator {
	void *(*malloc)(size_t size);
	void *(*realloc)(void *ptr, size_t size);
	void (*free)(void *ptr);
};

/**
 * Use @p a for every later allocation (NULL: the C library's). Call it
 * before any object exists: memory is freed by the allocator that made it.
 */
VS_EXTERN void vs_set_allocator(const struct vs_allocator *a);

#endif
