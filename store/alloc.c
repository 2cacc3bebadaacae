/* SPDX-License-Identifier: MIT */
/*
 * The allocator hook. Global by design (libgit2 git_allocator, libuv
 * uv_replace_allocator): set once at start-up, before any object exists.
 */
#include "store_int.h"

static struct vs_allocator allocator = { malloc, realloc, free };

void vs_set_allocator(const struct vs_allocator *a)
{
	if (a)
		allocator = *a;
	else
		allocator = (struct vs_allocator){ malloc, realloc, free };
}

void *vs__malloc(size_t n)
{
	return allocator.malloc(n ? n : 1);
}

void *vs__calloc(size_t nmemb, size_t n)
{
	if (n && nmemb > SIZE_MAX / n)
		return NULL;
	void *p = vs__malloc(nmemb * n);
	if (p)
		memset(p, 0, nmemb * n);
	return p;
}

void *vs__realloc(void *p, size_t n)
{
	return allocator.realloc(p, n ? n : 1);
}

void vs_free(void *p)
{
	if (p)
		allocator.free(p);
}

char *vs__strndup(const char *s, size_t n)
{
	char *d = vs__malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

char *vs__strdup(const char *s)
{
	return vs__strndup(s, strlen(s));
}

void vs_strarray_dispose(struct vs_strarray *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->count && !a->packed; i++)
		vs_free(a->strings[i]);
	vs_free(a->strings);
	a->strings = NULL;
	a->count = 0;
	a->packed = false;
}
