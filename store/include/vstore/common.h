/* SPDX-License-Identifier: MIT */
/*
 * Export macro and the few types every libvstore header shares.
 */
#ifndef VSTORE_COMMON_H
#define VSTORE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define VS_EXTERN __attribute__((visibility("default")))
#else
#define VS_EXTERN
#endif

/** A list of strings; each string and the array belong to the list. */
struct vs_strarray {
	char **strings; /**< the strings, NUL-terminated */
	size_t count;   /**< how many */
};

/** Free the strings and the array of @p a, leaving it empty. NULL-safe. */
VS_EXTERN void vs_strarray_dispose(struct vs_strarray *a);

#endif
