/* SPDX-License-Identifier: MIT */
/*
 * The Xenstore wire protocol (Xen's xs_wire.h): a 16-byte header in host
 * byte order, then at most XSD_PAYLOAD_MAX bytes of payload. These names are
 * our own (xs_wire.h owns struct xsd_sockmsg and friends); a test checks that
 * the values match xs_wire.h when libxen-dev is installed.
 */
#ifndef XSD_WIRE_H
#define XSD_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XSD_PAYLOAD_MAX 4096u    /* longer messages kill the connection */
#define XSD_ABS_PATH_MAX 3072u   /* XENSTORE_ABS_PATH_MAX */
#define XSD_REL_PATH_MAX 2048u   /* XENSTORE_REL_PATH_MAX */
#define XSD_DOMID_ANY 0x7FF5u    /* a permission entry matching any domain */

/** Message types, numbered as in xs_wire.h. */
enum xsd_msg_type {
	XSD_CONTROL = 0, /* also XS_DEBUG */
	XSD_DIRECTORY = 1,
	XSD_READ = 2,
	XSD_GET_PERMS = 3,
	XSD_WATCH = 4,
	XSD_UNWATCH = 5,
	XSD_TRANSACTION_START = 6,
	XSD_TRANSACTION_END = 7,
	XSD_INTRODUCE = 8,
	XSD_RELEASE = 9,
	XSD_GET_DOMAIN_PATH = 10,
	XSD_WRITE = 11,
	XSD_MKDIR = 12,
	XSD_RM = 13,
	XSD_SET_PERMS = 14,
	XSD_WATCH_EVENT = 15,
	XSD_ERROR = 16,
	XSD_IS_DOMAIN_INTRODUCED = 17,
	XSD_RESUME = 18,
	XSD_SET_TARGET = 19,
	/* 20 was RESTRICT: removed, invalid */
	XSD_RESET_WATCHES = 21,
	XSD_DIRECTORY_PART = 22,
	XSD_GET_FEATURE = 23,
	XSD_SET_FEATURE = 24,
	XSD_GET_QUOTA = 25,
	XSD_SET_QUOTA = 26,
	XSD_TYPE_COUNT = 27,
	XSD_INVALID = 0xffff,
};

/** Feature bits (server_features on the ring, GET/SET_FEATURE). */
enum xsd_feature {
	XSD_FEATURE_RECONNECTION = 1 << 0,
	XSD_FEATURE_ERROR = 1 << 1,
	XSD_FEATURE_WATCHDEPTH = 1 << 2,
	XSD_FEATURE_DOMID_ANY = 1 << 3,
};

/** The header of every message. */
struct xsd_msg_hdr {
	uint32_t type;   /* enum xsd_msg_type */
	uint32_t req_id; /* echoed in the reply */
	uint32_t tx_id;  /* transaction, 0 for none */
	uint32_t len;    /* payload bytes that follow */
};

/** The name of message type @p type ("READ"), or NULL when it has none. */
const char *xsd_msg_type_name(uint32_t type);

/**
 * The wire name of an error ("ENOENT") for a negative vs error / errno
 * value (a positive errno is accepted too); what Xen's daemon would send.
 * The store's own codes are translated: VS_ECONFLICT -> "EAGAIN" (retry the
 * transaction), VS_ECORRUPT / VS_EBACKEND -> "EIO", VS_EQUOTA -> "ENOSPC".
 * Codes outside xs_wire.h's list map to "EINVAL", as C xenstored does.
 * @return a static string, never NULL.
 */
const char *xsd_error_name(int err);

/**
 * The negative errno for wire error name @p name (one of xs_wire.h's
 * xsd_errors[], matched exactly), or 0 when unknown or NULL.
 */
int xsd_error_from_name(const char *name);

/**
 * Incremental reader of messages from a byte stream (socket or ring). Feed
 * bytes as they come; a complete message is returned once it is whole.
 * Caller-owned: xsd_reader_init / xsd_reader_release.
 */
struct xsd_reader {
	struct xsd_msg_hdr hdr;
	size_t have;                        /* bytes of the current message read */
	unsigned char buf[16 + XSD_PAYLOAD_MAX];
};

/** Make @p r wait for the first header of a stream. */
void xsd_reader_init(struct xsd_reader *r);
/** Drop whatever @p r holds (it owns no memory); it is left as after init. */
void xsd_reader_release(struct xsd_reader *r);

/**
 * Consume up to @p len bytes of @p data. Returns the number of bytes used
 * (>= 0); *complete is set when a whole message is ready in r->hdr and
 * xsd_reader_payload(r) — handle it, then call xsd_reader_next(). It stops
 * at the end of that message, so feed the rest of @p data afterwards; while
 * a message is complete it uses nothing. Returns VS_E2BIG (a negative value)
 * for a header whose len exceeds XSD_PAYLOAD_MAX, then again on every call:
 * the stream cannot be resynchronised, close it.
 */
long xsd_reader_feed(struct xsd_reader *r, const void *data, size_t len, bool *complete);
/** The payload of the complete message (r->hdr.len bytes), borrowed. */
const unsigned char *xsd_reader_payload(const struct xsd_reader *r);
/** Forget the complete message; the reader waits for the next header. */
void xsd_reader_next(struct xsd_reader *r);

/**
 * Split a request payload into NUL-terminated strings: fills @p argv with
 * up to @p max pointers into @p payload (borrowed) and returns how many
 * strings the payload holds, which may exceed @p max (as C xenstored's
 * get_strings does: a caller checks for too many arguments that way). A
 * payload that does not end in NUL has a last "string" without terminator:
 * it is not counted, and *tail / *tail_len (each if not NULL) give it;
 * otherwise they are set to NULL / 0. WRITE's value is everything after the
 * path's NUL, NULs included: take it from the path's length, not from here.
 */
size_t xsd_args_split(const char **argv, size_t max, const unsigned char *payload, size_t len,
		      const unsigned char **tail, size_t *tail_len);

struct vs_buf;

/**
 * Append one message to @p out: header @p hdr (its len replaced by @p len)
 * in host byte order, then @p len bytes of @p body (may be NULL when @p len
 * is 0). @return 0, VS_E2BIG when @p len exceeds XSD_PAYLOAD_MAX (nothing
 * appended), or VS_ENOMEM.
 */
int xsd_msg_build(struct vs_buf *out, const struct xsd_msg_hdr *hdr, const void *body, size_t len);

#endif
