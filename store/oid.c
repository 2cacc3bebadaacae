/* SPDX-License-Identifier: MIT */
/*
 * Object ids: parsing, printing and comparing.
 */
#include "store_int.h"

size_t vs_oid_size(enum vs_oid_type type)
{
	switch (type) {
	case VS_OID_SHA1:
		return 20;
	case VS_OID_SHA256:
		return 32;
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int vs_oid_fromhex(struct vs_oid *out, const char *hex, size_t len)
{
	enum vs_oid_type type;

	if (len == 40)
		type = VS_OID_SHA1;
	else if (len == 64)
		type = VS_OID_SHA256;
	else
		return vs_error_set(VS_EINVAL, "an object id has 40 or 64 hex digits, not %zu", len);
	memset(out, 0, sizeof(*out));
	out->type = (unsigned char)type;
	for (size_t i = 0; i < len; i += 2) {
		int hi = hexval(hex[i]), lo = hexval(hex[i + 1]);
		if (hi < 0 || lo < 0) {
			memset(out, 0, sizeof(*out));
			return vs_error_set(VS_EINVAL, "'%.*s' is not a hex object id", (int)len,
					    hex);
		}
		out->id[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int vs_oid_fromstr(struct vs_oid *out, const char *hex)
{
	return vs_oid_fromhex(out, hex, strlen(hex));
}

int vs_oid_fromraw(struct vs_oid *out, enum vs_oid_type type, const void *raw)
{
	size_t n = vs_oid_size(type);
	if (!n)
		return vs_error_set(VS_EINVAL, "unknown object id type %d", (int)type);
	memset(out, 0, sizeof(*out));
	out->type = (unsigned char)type;
	memcpy(out->id, raw, n);
	return 0;
}

char *vs_oid_tostr(char *out, const struct vs_oid *id)
{
	static const char digits[] = "0123456789abcdef";
	size_t n = vs_oid_size(id->type);
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[id->id[i] >> 4];
		out[2 * i + 1] = digits[id->id[i] & 15];
	}
	out[2 * n] = '\0';
	return out;
}

int vs_oid_cmp(const struct vs_oid *a, const struct vs_oid *b)
{
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return memcmp(a->id, b->id, VS_OID_MAXSZ);
}

bool vs_oid_equal(const struct vs_oid *a, const struct vs_oid *b)
{
	return vs_oid_cmp(a, b) == 0;
}

bool vs_oid_is_null(const struct vs_oid *id)
{
	return id->type == 0;
}
