/* SPDX-License-Identifier: MIT */
/*
 * Owned growable byte buffers and borrowed byte slices.
 */
#ifndef VSTORE_BUF_H
#define VSTORE_BUF_H

#include <stdarg.h>
#include "common.h"

/**
 * An owned, growable buffer. ptr is NUL-terminated past size whenever it is
 * non-NULL, so text can be used as a C string. Release with vs_buf_release().
 */
struct vs_buf {
	char *ptr;    /**< the bytes, or NULL when nothing was ever added */
	size_t size;  /**< bytes in use */
	size_t asize; /**< bytes allocated */
};

#define VS_BUF_INIT { NULL, 0, 0 }

/** Borrowed bytes; the header of the call that returned it says until when. */
struct vs_slice {
	const void *ptr; /**< first byte */
	size_t len;      /**< byte count */
};

/** Make room for @p extra more bytes. @return 0 or VS_ENOMEM. */
VS_EXTERN int vs_buf_grow(struct vs_buf *b, size_t extra);
/** Append @p len bytes. @return 0 or VS_ENOMEM. */
VS_EXTERN int vs_buf_put(struct vs_buf *b, const void *data, size_t len);
/** Append a C string. @return 0 or VS_ENOMEM. */
VS_EXTERN int vs_buf_puts(struct vs_buf *b, const char *s);
/** Append one byte. @return 0 or VS_ENOMEM. */
VS_EXTERN int vs_buf_putc(struct vs_buf *b, char c);
/** Append printf-style text. @return 0 or VS_ENOMEM. */
VS_EXTERN int vs_buf_printf(struct vs_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/** Replace the contents with @p len bytes. @return 0 or VS_ENOMEM. */
VS_EXTERN int vs_buf_set(struct vs_buf *b, const void *data, size_t len);
/** Empty the buffer, keeping its memory. */
VS_EXTERN void vs_buf_clear(struct vs_buf *b);
/** Free the memory and reset to VS_BUF_INIT. NULL-safe. */
VS_EXTERN void vs_buf_release(struct vs_buf *b);
/** Take the bytes (caller frees with vs_free()) and reset the buffer. */
VS_EXTERN char *vs_buf_detach(struct vs_buf *b);

#endif
