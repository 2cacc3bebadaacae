/* SPDX-License-Identifier: MIT */
/*
 * The Xenstore operations as requests: payload layouts of xs_wire.h
 * (prior-art §2.2) and the parsing of their replies. DIRECTORY falls back to
 * DIRECTORY_PART when the listing is too large for one reply, restarting
 * when the node's generation changes between parts (as libxenstore).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_int.h"

#define CHECK(cond, fn)                                                                            \
	do {                                                                                       \
		if (!(cond))                                                                       \
			return vs_error_set(VS_EINVAL, "%s: bad arguments", fn);                   \
	} while (0)

/* A reply that is one decimal number (a trailing NUL is allowed). */
static int parse_u64(uint64_t *out, const struct vs_buf *r, const char *what)
{
	char *end;
	if (!r->size || r->ptr[0] < '0' || r->ptr[0] > '9')
		return vs_error_set(VS_EIO, "%s: reply is not a number", what);
	errno = 0;
	unsigned long long v = strtoull(r->ptr, &end, 10);
	if (errno || (size_t)(end - r->ptr) != strnlen(r->ptr, r->size))
		return vs_error_set(VS_EIO, "%s: reply is not a number", what);
	*out = v;
	return 0;
}

/* A text reply: without the NUL the daemon ends it with. */
static void strip_nul(struct vs_buf *b)
{
	while (b->size && !b->ptr[b->size - 1])
		b->ptr[--b->size] = '\0';
}

static int path_request(struct vsc_client *c, uint32_t type, vsc_txn_t t, const char *path)
{
	return vsc__request_strs(NULL, c, type, t, &path, 1);
}

int vsc_read(struct vs_buf *out, struct vsc_client *c, vsc_txn_t t, const char *path)
{
	CHECK(out && c && path, "vsc_read");
	vsc__track(c, path);
	return vsc__request_strs(out, c, XSD_READ, t, &path, 1);
}

int vsc_write(struct vsc_client *c, vsc_txn_t t, const char *path, const void *data, size_t len)
{
	CHECK(c && path && (data || !len), "vsc_write");
	struct iovec v[2] = {{(void *)path, strlen(path) + 1}, {(void *)data, len}};
	return vsc__request(NULL, c, XSD_WRITE, t, v, 2, path);
}

int vsc_mkdir(struct vsc_client *c, vsc_txn_t t, const char *path)
{
	CHECK(c && path, "vsc_mkdir");
	return path_request(c, XSD_MKDIR, t, path);
}

int vsc_rm(struct vsc_client *c, vsc_txn_t t, const char *path)
{
	CHECK(c && path, "vsc_rm");
	return path_request(c, XSD_RM, t, path);
}

/*
 * One pass of DIRECTORY_PART from offset 0 to the end of the list (an empty
 * string). @return 0, 1 when the generation changed (start again), or an
 * error; VS_ENOSYS becomes VS_E2BIG, as libxenstore reports it.
 */
static int directory_part_pass(struct vs_buf *names, struct vsc_client *c, vsc_txn_t t,
			       const char *path)
{
	struct vs_buf r = VS_BUF_INIT;
	char gen0[32] = "", off[24];
	size_t at = 0;
	int err = 0;

	vs_buf_clear(names);
	for (;;) {
		const char *argv[2] = {path, off};
		snprintf(off, sizeof(off), "%zu", at);
		if ((err = vsc__request_strs(&r, c, XSD_DIRECTORY_PART, t, argv, 2)) < 0) {
			if (err == VS_ENOSYS)
				err = vs_error_set(VS_E2BIG,
						   "%s: too many children for DIRECTORY "
						   "and no DIRECTORY_PART",
						   path);
			break;
		}
		const char *p = r.ptr, *end = r.ptr + r.size;
		size_t gl = strnlen(p, r.size), got = 0;
		bool done = false;
		if (gl == r.size || gl >= sizeof(gen0)) {
			err = vs_error_set(VS_EIO, "%s: bad DIRECTORY_PART reply", path);
			break;
		}
		if (!at) {
			memcpy(gen0, p, gl + 1);
		} else if (strcmp(gen0, p)) {
			err = 1;
			break;
		}
		for (p += gl + 1; p < end && err >= 0;) {
			size_t l = strnlen(p, (size_t)(end - p));
			if (!l) {
				done = true;
				break;
			}
			if (p + l == end) /* no terminator: the reply was cut */
				err = vs_error_set(VS_EIO, "%s: bad DIRECTORY_PART reply", path);
			else if ((err = vs_buf_put(names, p, l + 1)) >= 0)
				got += l + 1;
			p += l + 1;
		}
		if (err < 0 || done)
			break;
		if (!got) {
			err = vs_error_set(VS_EIO, "%s: DIRECTORY_PART made no progress", path);
			break;
		}
		at += got;
	}
	vs_buf_release(&r);
	return err;
}

int vsc_directory(struct vs_strarray *out, struct vsc_client *c, vsc_txn_t t, const char *path)
{
	struct vs_buf r = VS_BUF_INIT;
	int err;

	CHECK(out && c && path, "vsc_directory");
	*out = (struct vs_strarray){0};
	vsc__track(c, path);
	err = vsc__request_strs(&r, c, XSD_DIRECTORY, t, &path, 1);
	if (err == VS_E2BIG) {
		int pass = 0;
		do /* a pass that saw the node change starts again */
			err = directory_part_pass(&r, c, t, path);
		while (err > 0 && ++pass < 16);
		if (err > 0)
			err = vs_error_set(VS_EAGAIN, "%s kept changing while it was listed", path);
	}
	if (err >= 0)
		err = vsc__strarray_split(out, r.ptr, r.size, '\0');
	vs_buf_release(&r);
	return err;
}

int vsc_get_perms(struct vs_strarray *out, struct vsc_client *c, vsc_txn_t t, const char *path)
{
	struct vs_buf r = VS_BUF_INIT;
	int err;

	CHECK(out && c && path, "vsc_get_perms");
	*out = (struct vs_strarray){0};
	vsc__track(c, path);
	if ((err = vsc__request_strs(&r, c, XSD_GET_PERMS, t, &path, 1)) >= 0)
		err = vsc__strarray_split(out, r.ptr, r.size, '\0');
	vs_buf_release(&r);
	return err;
}

int vsc_set_perms(struct vsc_client *c, vsc_txn_t t, const char *path, const char *const *perms,
		  size_t n)
{
	struct vs_buf b = VS_BUF_INIT;
	int err = 0;

	CHECK(c && path && (perms || !n), "vsc_set_perms");
	if (!n)
		return vs_error_set(VS_EINVAL, "%s: at least one permission (the owner)", path);
	for (size_t i = 0; i < n && err >= 0; i++)
		err = perms[i] ? vs_buf_put(&b, perms[i], strlen(perms[i]) + 1)
			       : vs_error_set(VS_EINVAL, "%s: NULL permission", path);
	if (err >= 0) {
		struct iovec v[2] = {{(void *)path, strlen(path) + 1}, {b.ptr, b.size}};
		err = vsc__request(NULL, c, XSD_SET_PERMS, t, v, 2, path);
	}
	vs_buf_release(&b);
	return err;
}

/* --- transactions -------------------------------------------------------- */

int vsc_transaction_start(vsc_txn_t *out, struct vsc_client *c)
{
	struct vs_buf r = VS_BUF_INIT;
	struct iovec v = {"", 1};
	uint64_t id = 0;
	int err;

	CHECK(out && c, "vsc_transaction_start");
	*out = VSC_TXN_NONE;
	if ((err = vsc__request(&r, c, XSD_TRANSACTION_START, VSC_TXN_NONE, &v, 1,
				"transaction")) >= 0 &&
	    (err = parse_u64(&id, &r, "TRANSACTION_START")) >= 0) {
		if (!id || id > UINT32_MAX)
			err = vs_error_set(VS_EIO, "TRANSACTION_START: bad id %" PRIu64, id);
		else
			*out = (vsc_txn_t)id;
	}
	vs_buf_release(&r);
	return err;
}

int vsc_transaction_end(struct vsc_client *c, vsc_txn_t t, bool commit)
{
	char what[32];
	struct iovec v = {commit ? "T" : "F", 2};
	CHECK(c && t != VSC_TXN_NONE, "vsc_transaction_end");
	snprintf(what, sizeof(what), "transaction %u", t);
	return vsc__request(NULL, c, XSD_TRANSACTION_END, t, &v, 1, what);
}

/* --- domains --------------------------------------------------------------- */

/* A request whose arguments are numbers, NULL-terminated list of @n values. */
static int num_request(struct vs_buf *reply, struct vsc_client *c, uint32_t type,
		       const uint64_t *vals, const bool *is_signed, size_t n)
{
	char s[4][24];
	const char *argv[4];
	for (size_t i = 0; i < n; i++) {
		if (is_signed && is_signed[i])
			snprintf(s[i], sizeof(s[i]), "%" PRId64, (int64_t)vals[i]);
		else
			snprintf(s[i], sizeof(s[i]), "%" PRIu64, vals[i]);
		argv[i] = s[i];
	}
	return vsc__request_strs(reply, c, type, VSC_TXN_NONE, argv, n);
}

int vsc_introduce(struct vsc_client *c, unsigned int domid, uint64_t gfn, uint32_t evtchn)
{
	const uint64_t v[3] = {domid, gfn, evtchn};
	const bool sg[3] = {false, true, false}; /* libxenstore sends the gfn signed */
	CHECK(c, "vsc_introduce");
	return num_request(NULL, c, XSD_INTRODUCE, v, sg, 3);
}

int vsc_release(struct vsc_client *c, unsigned int domid)
{
	const uint64_t v = domid;
	CHECK(c, "vsc_release");
	return num_request(NULL, c, XSD_RELEASE, &v, NULL, 1);
}

int vsc_resume(struct vsc_client *c, unsigned int domid)
{
	const uint64_t v = domid;
	CHECK(c, "vsc_resume");
	return num_request(NULL, c, XSD_RESUME, &v, NULL, 1);
}

int vsc_is_introduced(bool *out, struct vsc_client *c, unsigned int domid)
{
	struct vs_buf r = VS_BUF_INIT;
	const uint64_t v = domid;
	int err;

	CHECK(out && c, "vsc_is_introduced");
	if ((err = num_request(&r, c, XSD_IS_DOMAIN_INTRODUCED, &v, NULL, 1)) >= 0) {
		strip_nul(&r);
		if (!strcmp(r.ptr, "T"))
			*out = true;
		else if (!strcmp(r.ptr, "F"))
			*out = false;
		else
			err = vs_error_set(VS_EIO, "IS_DOMAIN_INTRODUCED: reply \"%s\"", r.ptr);
	}
	vs_buf_release(&r);
	return err;
}

int vsc_get_domain_path(struct vs_buf *out, struct vsc_client *c, unsigned int domid)
{
	const uint64_t v = domid;
	CHECK(out && c, "vsc_get_domain_path");
	int err = num_request(out, c, XSD_GET_DOMAIN_PATH, &v, NULL, 1);
	if (err >= 0)
		strip_nul(out);
	return err;
}

int vsc_set_target(struct vsc_client *c, unsigned int domid, unsigned int target)
{
	const uint64_t v[2] = {domid, target};
	CHECK(c, "vsc_set_target");
	return num_request(NULL, c, XSD_SET_TARGET, v, NULL, 2);
}

int vsc_get_features(uint32_t *out, struct vsc_client *c, int domid)
{
	struct vs_buf r = VS_BUF_INIT;
	const uint64_t v = (uint64_t)domid;
	uint64_t f = 0;
	int err;

	CHECK(out && c, "vsc_get_features");
	if ((err = num_request(&r, c, XSD_GET_FEATURE, &v, NULL, domid < 0 ? 0 : 1)) >= 0 &&
	    (err = parse_u64(&f, &r, "GET_FEATURE")) >= 0) {
		if (f > UINT32_MAX)
			err = vs_error_set(VS_EIO, "GET_FEATURE: bad reply");
		else
			*out = (uint32_t)f;
	}
	vs_buf_release(&r);
	return err;
}

int vsc_set_features(struct vsc_client *c, unsigned int domid, uint32_t features)
{
	const uint64_t v[2] = {domid, features};
	CHECK(c, "vsc_set_features");
	return num_request(NULL, c, XSD_SET_FEATURE, v, NULL, 2);
}

/* --- quotas and control ----------------------------------------------------- */

int vsc_get_quota(uint64_t *out, struct vsc_client *c, int domid, const char *name)
{
	struct vs_buf r = VS_BUF_INIT;
	char d[16];
	const char *argv[2] = {d, name};
	int err;

	CHECK(out && c && name, "vsc_get_quota");
	snprintf(d, sizeof(d), "%d", domid);
	if (domid < 0)
		err = vsc__request_strs(&r, c, XSD_GET_QUOTA, VSC_TXN_NONE, argv + 1, 1);
	else
		err = vsc__request_strs(&r, c, XSD_GET_QUOTA, VSC_TXN_NONE, argv, 2);
	if (err >= 0)
		err = parse_u64(out, &r, name);
	vs_buf_release(&r);
	return err;
}

int vsc_set_quota(struct vsc_client *c, int domid, const char *name, uint64_t value)
{
	char d[16], v[24];
	const char *argv[3] = {d, name, v};

	CHECK(c && name, "vsc_set_quota");
	snprintf(d, sizeof(d), "%d", domid);
	snprintf(v, sizeof(v), "%" PRIu64, value);
	if (domid < 0)
		return vsc__request_strs(NULL, c, XSD_SET_QUOTA, VSC_TXN_NONE, argv + 1, 2);
	return vsc__request_strs(NULL, c, XSD_SET_QUOTA, VSC_TXN_NONE, argv, 3);
}

int vsc_quota_names(struct vs_strarray *out, struct vsc_client *c)
{
	struct vs_buf r = VS_BUF_INIT;
	int err;

	CHECK(out && c, "vsc_quota_names");
	*out = (struct vs_strarray){0};
	if ((err = vsc__request(&r, c, XSD_GET_QUOTA, VSC_TXN_NONE, NULL, 0, "quota names")) >= 0)
		err = vsc__strarray_split(out, r.ptr, r.size, ' ');
	vs_buf_release(&r);
	return err;
}

int vsc_control(struct vs_buf *out, struct vsc_client *c, const char *const *argv, size_t argc)
{
	struct vs_buf b = VS_BUF_INIT;
	int err = 0;

	CHECK(out && c && argv && argc, "vsc_control");
	for (size_t i = 0; i < argc && err >= 0; i++)
		err = argv[i] ? vs_buf_put(&b, argv[i], strlen(argv[i]) + 1)
			      : vs_error_set(VS_EINVAL, "vsc_control: NULL argument");
	if (err >= 0) {
		struct iovec v = {b.ptr, b.size};
		err = vsc__request(out, c, XSD_CONTROL, VSC_TXN_NONE, &v, 1, argv[0]);
	}
	if (err >= 0)
		strip_nul(out);
	vs_buf_release(&b);
	return err;
}
