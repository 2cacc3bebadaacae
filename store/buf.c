/* SPDX-License-Identifier: MIT */
/*
 * vs_buf: owned growable bytes, always NUL-terminated when allocated.
 */
#include <stdio.h>

#include "store_int.h"

int vs_buf_grow(struct vs_buf *b, size_t extra)
{
	if (b->size + extra + 1 <= b->asize && b->ptr)
		return 0;
	if (extra > SIZE_MAX / 2 - b->size)
		return vs__enomem();
	size_t want = b->size + extra + 1;
	size_t n = b->asize ? b->asize : 64;
	while (n < want)
		n += n / 2 + 8;
	char *p = vs__realloc(b->ptr, n);
	if (!p)
		return vs__enomem();
	b->ptr = p;
	b->asize = n;
	b->ptr[b->size] = '\0';
	return 0;
}

int vs_buf_put(struct vs_buf *b, const void *data, size_t len)
{
	int err = vs_buf_grow(b, len);
	if (err < 0)
		return err;
	if (len)
		memcpy(b->ptr + b->size, data, len);
	b->size += len;
	b->ptr[b->size] = '\0';
	return 0;
}

int vs_buf_puts(struct vs_buf *b, const char *s)
{
	return vs_buf_put(b, s, strlen(s));
}

int vs_buf_putc(struct vs_buf *b, char c)
{
	return vs_buf_put(b, &c, 1);
}

int vs_buf_printf(struct vs_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, err;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return vs_error_set(VS_EINVAL, "bad format string");
	if ((err = vs_buf_grow(b, (size_t)n)) < 0)
		return err;
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->size, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->size += (size_t)n;
	return 0;
}

int vs_buf_set(struct vs_buf *b, const void *data, size_t len)
{
	vs_buf_clear(b);
	return vs_buf_put(b, data, len);
}

void vs_buf_clear(struct vs_buf *b)
{
	b->size = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

void vs_buf_release(struct vs_buf *b)
{
	if (!b)
		return;
	vs_free(b->ptr);
	b->ptr = NULL;
	b->size = b->asize = 0;
}

char *vs_buf_detach(struct vs_buf *b)
{
	char *p = b->ptr;
	b->ptr = NULL;
	b->size = b->asize = 0;
	return p;
}
