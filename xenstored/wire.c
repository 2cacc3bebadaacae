/* SPDX-License-Identifier: MIT */
/*
 * The Xenstore wire codec: message type and error names, the incremental
 * message reader and the payload splitter. Pure code, no I/O. Invariant of
 * the reader: r->have counts the bytes of the current message held in
 * r->buf (header first); once it reaches 16, r->hdr is valid and its len is
 * at most XSD_PAYLOAD_MAX.
 */
#include "xsd/wire.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <vstore/buf.h>
#include <vstore/errors.h>

#define HDR_SIZE sizeof(struct xsd_msg_hdr)

static_assert(sizeof(struct xsd_msg_hdr) == 16, "the wire header is 16 bytes");
static_assert(sizeof(((struct xsd_reader *)0)->buf) == HDR_SIZE + XSD_PAYLOAD_MAX,
	      "the reader holds a header and a maximal payload");

static const char *const type_names[XSD_TYPE_COUNT] = {
	[XSD_CONTROL] = "CONTROL",
	[XSD_DIRECTORY] = "DIRECTORY",
	[XSD_READ] = "READ",
	[XSD_GET_PERMS] = "GET_PERMS",
	[XSD_WATCH] = "WATCH",
	[XSD_UNWATCH] = "UNWATCH",
	[XSD_TRANSACTION_START] = "TRANSACTION_START",
	[XSD_TRANSACTION_END] = "TRANSACTION_END",
	[XSD_INTRODUCE] = "INTRODUCE",
	[XSD_RELEASE] = "RELEASE",
	[XSD_GET_DOMAIN_PATH] = "GET_DOMAIN_PATH",
	[XSD_WRITE] = "WRITE",
	[XSD_MKDIR] = "MKDIR",
	[XSD_RM] = "RM",
	[XSD_SET_PERMS] = "SET_PERMS",
	[XSD_WATCH_EVENT] = "WATCH_EVENT",
	[XSD_ERROR] = "ERROR",
	[XSD_IS_DOMAIN_INTRODUCED] = "IS_DOMAIN_INTRODUCED",
	[XSD_RESUME] = "RESUME",
	[XSD_SET_TARGET] = "SET_TARGET",
	[XSD_RESET_WATCHES] = "RESET_WATCHES",
	[XSD_DIRECTORY_PART] = "DIRECTORY_PART",
	[XSD_GET_FEATURE] = "GET_FEATURE",
	[XSD_SET_FEATURE] = "SET_FEATURE",
	[XSD_GET_QUOTA] = "GET_QUOTA",
	[XSD_SET_QUOTA] = "SET_QUOTA",
};

const char *xsd_msg_type_name(uint32_t type)
{
	return type < XSD_TYPE_COUNT ? type_names[type] : NULL;
}

/*
 * xs_wire.h's xsd_errors[], in its order (new names are only ever appended
 * there). Clients turn any name missing here into EINVAL.
 */
#define XSD_WIRE_ERRORS(XX)                                                              \
	XX(EINVAL) XX(EACCES) XX(EEXIST) XX(EISDIR) XX(ENOENT) XX(ENOMEM) XX(ENOSPC) \
	XX(EIO) XX(ENOTEMPTY) XX(ENOSYS) XX(EROFS) XX(EBUSY) XX(EAGAIN) XX(EISCONN)  \
	XX(E2BIG) XX(EPERM)

static const struct {
	int err; /* positive errno */
	const char *name;
} wire_errors[] = {
#define XX(e) { e, #e },
	XSD_WIRE_ERRORS(XX)
#undef XX
};

const char *xsd_error_name(int err)
{
	switch (err) {
	case VS_ECONFLICT:
		return "EAGAIN"; /* the transaction lost a race: retry it */
	case VS_ECORRUPT:
	case VS_EBACKEND:
		return "EIO";
	case VS_EQUOTA:
		return "ENOSPC"; /* what C xenstored sends for quota hits */
	default:
		break;
	}
	/* -INT_MIN does not exist; it is no errno anyway. */
	int e = err < 0 && err != INT_MIN ? -err : err;
	for (size_t i = 0; i < sizeof(wire_errors) / sizeof(wire_errors[0]); i++)
		if (wire_errors[i].err == e)
			return wire_errors[i].name;
	return "EINVAL";
}

int xsd_error_from_name(const char *name)
{
	if (!name)
		return 0;
	for (size_t i = 0; i < sizeof(wire_errors) / sizeof(wire_errors[0]); i++)
		if (!strcmp(wire_errors[i].name, name))
			return -wire_errors[i].err;
	return 0;
}

void xsd_reader_init(struct xsd_reader *r)
{
	memset(&r->hdr, 0, sizeof(r->hdr));
	r->have = 0;
}

void xsd_reader_release(struct xsd_reader *r)
{
	xsd_reader_init(r);
}

/* True once the header is in and the whole payload has followed it. */
static bool reader_complete(const struct xsd_reader *r)
{
	return r->have >= HDR_SIZE && r->have == HDR_SIZE + r->hdr.len;
}

long xsd_reader_feed(struct xsd_reader *r, const void *data, size_t len, bool *complete)
{
	const unsigned char *p = data;
	size_t used = 0;

	assert(complete);
	*complete = false;
	/* A header announcing too much poisons the reader for good. */
	if (r->have >= HDR_SIZE && r->hdr.len > XSD_PAYLOAD_MAX)
		return vs_error_set(VS_E2BIG, "message payload of %u bytes exceeds %u",
				    (unsigned int)r->hdr.len, XSD_PAYLOAD_MAX);
	if (r->have < HDR_SIZE) {
		size_t n = HDR_SIZE - r->have;
		if (n > len)
			n = len;
		if (n)
			memcpy(r->buf + r->have, p, n);
		r->have += n;
		used += n;
		if (r->have < HDR_SIZE)
			return (long)used;
		memcpy(&r->hdr, r->buf, HDR_SIZE);
		if (r->hdr.len > XSD_PAYLOAD_MAX)
			return vs_error_set(VS_E2BIG, "message payload of %u bytes exceeds %u",
					    (unsigned int)r->hdr.len, XSD_PAYLOAD_MAX);
	}
	size_t want = HDR_SIZE + r->hdr.len - r->have;
	size_t n = len - used < want ? len - used : want;
	if (n)
		memcpy(r->buf + r->have, p + used, n);
	r->have += n;
	used += n;
	*complete = reader_complete(r);
	return (long)used;
}

const unsigned char *xsd_reader_payload(const struct xsd_reader *r)
{
	return r->buf + HDR_SIZE;
}

void xsd_reader_next(struct xsd_reader *r)
{
	xsd_reader_init(r);
}

size_t xsd_args_split(const char **argv, size_t max, const unsigned char *payload, size_t len,
		      const unsigned char **tail, size_t *tail_len)
{
	size_t count = 0, start = 0;

	while (start < len) {
		const unsigned char *nul = memchr(payload + start, '\0', len - start);
		if (!nul)
			break;
		if (count < max)
			argv[count] = (const char *)payload + start;
		count++;
		start = (size_t)(nul - payload) + 1;
	}
	if (tail)
		*tail = start < len ? payload + start : NULL;
	if (tail_len)
		*tail_len = len - start;
	return count;
}

int xsd_msg_build(struct vs_buf *out, const struct xsd_msg_hdr *hdr, const void *body, size_t len)
{
	if (len > XSD_PAYLOAD_MAX)
		return vs_error_set(VS_E2BIG, "reply payload of %zu bytes exceeds %u", len,
				    XSD_PAYLOAD_MAX);
	struct xsd_msg_hdr h = *hdr;
	h.len = (uint32_t)len;
	size_t old = out->size;
	int err = vs_buf_grow(out, HDR_SIZE + len);
	if (err >= 0)
		err = vs_buf_put(out, &h, HDR_SIZE);
	if (err >= 0 && len)
		err = vs_buf_put(out, body, len);
	if (err < 0 && out->ptr) {
		/* Never leave half a message behind. */
		out->size = old;
		out->ptr[old] = '\0';
	}
	return err;
}
