/* SPDX-License-Identifier: MIT */
/*
 * The thread-local last error (libgit2 git_error_last). The only global
 * state besides the allocator hook; every part of vstore reports through it.
 */
#include <stdio.h>

#include "store_int.h"

static _Thread_local struct {
	int code;
	char message[1024];
} last;

static _Thread_local struct vs_error view;

const struct vs_error *vs_error_last(void)
{
	view.code = last.code;
	view.message = last.code ? last.message : "no error";
	return &view;
}

int vs__error_vset(int code, const char *fmt, va_list ap)
{
	last.code = code;
	vsnprintf(last.message, sizeof(last.message), fmt, ap);
	return code;
}

int vs_error_set(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vs__error_vset(code, fmt, ap);
	va_end(ap);
	return code;
}

int vs__error_wrap(int code, const char *fmt, ...)
{
	char prefix[512], old[sizeof(last.message)], both[sizeof(prefix) + sizeof(old) + 2];
	va_list ap;

	memcpy(old, last.code ? last.message : vs_strerror(code), sizeof(old));
	old[sizeof(old) - 1] = '\0';
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	snprintf(both, sizeof(both), "%s: %s", prefix, old);
	last.code = code;
	memcpy(last.message, both, sizeof(last.message) - 1);
	last.message[sizeof(last.message) - 1] = '\0';
	return code;
}

void vs_error_clear(void)
{
	last.code = 0;
	last.message[0] = '\0';
}

int vs__enomem(void)
{
	return vs_error_set(VS_ENOMEM, "out of memory");
}

const char *vs_err_name(int code)
{
	switch (code) {
	case 0:
		return "OK";
#define XX(e)      \
	case VS_##e: \
		return #e;
		VS_ERRNO_MAP(XX)
#undef XX
	case VS_ECONFLICT:
		return "ECONFLICT";
	case VS_ECORRUPT:
		return "ECORRUPT";
	case VS_EBACKEND:
		return "EBACKEND";
	case VS_EQUOTA:
		return "EQUOTA";
	default:
		return "EUNKNOWN";
	}
}

const char *vs_strerror(int code)
{
	switch (code) {
	case 0:
		return "success";
	case VS_ECONFLICT:
		return "conflict";
	case VS_ECORRUPT:
		return "corrupt data";
	case VS_EBACKEND:
		return "storage backend failure";
	case VS_EQUOTA:
		return "quota exceeded";
	default:
		if (code < 0 && code > -4096)
			return strerror(-code);
		return "unknown error";
	}
}
