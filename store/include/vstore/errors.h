/* SPDX-License-Identifier: MIT */
/*
 * Error codes and the thread-local "last error" message.
 * Functions return 0 or a negative VS_E* code; the message describing the
 * failure is set where the error is born and read with vs_error_last().
 */
#ifndef VSTORE_ERRORS_H
#define VSTORE_ERRORS_H

#include <errno.h>
#include "common.h"

/* errno-valued codes: VS_E<name> == -E<name>. */
#define VS_ERRNO_MAP(XX) \
	XX(EPERM)        \
	XX(ENOENT)       \
	XX(EIO)          \
	XX(E2BIG)        \
	XX(EAGAIN)       \
	XX(ENOMEM)       \
	XX(EACCES)       \
	XX(EBUSY)        \
	XX(EEXIST)       \
	XX(ENOTDIR)      \
	XX(EISDIR)       \
	XX(EINVAL)       \
	XX(ENOSPC)       \
	XX(EROFS)        \
	XX(ERANGE)       \
	XX(ENOSYS)       \
	XX(ENOTEMPTY)    \
	XX(ENOTSUP)      \
	XX(ETIMEDOUT)

enum vs_errno {
	VS_OK = 0,
#define XX(e) VS_##e = -e,
	VS_ERRNO_MAP(XX)
#undef XX
	VS_ECONFLICT = -7001, /**< lost a compare-and-swap race, or a merge conflict */
	VS_ECORRUPT = -7002,  /**< stored data fails to parse or to verify */
	VS_EBACKEND = -7003,  /**< the storage engine failed (message has its words) */
	VS_EQUOTA = -7004,    /**< a configured limit was reached */
};

/** The last error of the calling thread. */
struct vs_error {
	int code;            /**< a VS_E* code, 0 when none */
	const char *message; /**< human-readable, never NULL */
};

/**
 * The last error set on this thread. Read it right after a call failed.
 * @return borrowed; valid until the next libvstore call on this thread.
 */
VS_EXTERN const struct vs_error *vs_error_last(void);

/**
 * Set the thread's last error to @p code with a printf-style message.
 * @return @p code, so a failure site reads `return vs_error_set(...)`.
 */
VS_EXTERN int vs_error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** Forget the thread's last error. */
VS_EXTERN void vs_error_clear(void);

/** A static description of @p code ("no such entry"); never NULL. */
VS_EXTERN const char *vs_strerror(int code);

/** The symbolic name of @p code ("ENOENT", "ECONFLICT"); never NULL. */
VS_EXTERN const char *vs_err_name(int code);

#endif
