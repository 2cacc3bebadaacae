/* SPDX-License-Identifier: MIT */
/*
 * Export macro and the few types every libvstore header shares.
 */
#ifndef VSTORE_COMMON_H
#define VSTORE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#if defined(__GNUC__)
#define VS_EXTERN __attribute__((visibility("default")))
#else
#define VS_EXTERN
#endif

/**
 * A list of strings; each string and the array belong to the list. Zero it
 * (or fill all three members) before handing it out.
 */
struct vs_strarray {
	char **strings; /**< the strings, NUL-terminated */
	size_t count;   /**< how many */
	bool packed;    /**< the strings lie in the allocation of strings: one free */
};

/** Free the strings and the array of @p a, leaving it empty. NULL-safe. */
VS_EXTERN void vs_strarray_dispose(struct vs_strarray *a);

#endif
