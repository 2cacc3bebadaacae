/* SPDX-License-Identifier: MIT */
/*
 * Object ids: SHA-1 (the git format) or SHA-256 (the vs format).
 */
#ifndef VSTORE_OID_H
#define VSTORE_OID_H

#include "common.h"

enum vs_oid_type {
	VS_OID_SHA1 = 1,   /**< 20 bytes, as git */
	VS_OID_SHA256 = 2, /**< 32 bytes */
};

#define VS_OID_MAXSZ 32
#define VS_OID_MAXHEXSZ 64

/** An object id. Compare with vs_oid_equal(); copy by value. */
struct vs_oid {
	unsigned char type;              /**< enum vs_oid_type; 0 means "no id" */
	unsigned char id[VS_OID_MAXSZ];  /**< raw bytes; the tail past the size is zero */
};

/** Bytes in an id of @p type (20 or 32), 0 for an unknown type. */
VS_EXTERN size_t vs_oid_size(enum vs_oid_type type);

/** Parse 40 (SHA-1) or 64 (SHA-256) hex digits. @return 0 or VS_EINVAL. */
VS_EXTERN int vs_oid_fromhex(struct vs_oid *out, const char *hex, size_t len);

/** Parse a NUL-terminated hex id. @return 0 or VS_EINVAL. */
VS_EXTERN int vs_oid_fromstr(struct vs_oid *out, const char *hex);

/** Build an id of @p type from @p raw bytes. @return 0 or VS_EINVAL. */
VS_EXTERN int vs_oid_fromraw(struct vs_oid *out, enum vs_oid_type type, const void *raw);

/**
 * Write @p id as lower-case hex plus NUL into @p out (at least
 * VS_OID_MAXHEXSZ + 1 bytes). @return @p out.
 */
VS_EXTERN char *vs_oid_tostr(char *out, const struct vs_oid *id);

/** Order ids (type first, then bytes); 0 when equal. */
VS_EXTERN int vs_oid_cmp(const struct vs_oid *a, const struct vs_oid *b);

/** True when @p a and @p b are the same id. */
VS_EXTERN bool vs_oid_equal(const struct vs_oid *a, const struct vs_oid *b);

/** True for the "no id" value (type 0). */
VS_EXTERN bool vs_oid_is_null(const struct vs_oid *id);

#endif
