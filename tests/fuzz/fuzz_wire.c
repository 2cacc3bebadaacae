/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the wire codec: the input's head picks chunk sizes,
 * its rest is a byte stream fed to xsd_reader in those chunks; every
 * complete message is checked, its arguments split and its header and
 * payload rebuilt with xsd_msg_build and read back. The same stream read
 * in one piece must give the same messages and the same verdict.
 */
#include "fuzz.h"

#include <stdbool.h>
#include <string.h>
#include <vstore/buf.h>
#include <vstore/errors.h>

#include "xsd/wire.h"

/* What reading one stream gave. */
struct wire_run {
	struct xsd_reader r;    /* the reader under test */
	struct xsd_reader echo; /* reads back each rebuilt message */
	size_t msgs;            /* complete messages */
	uint64_t hash;          /* FNV-1a over every message's header and payload */
	long err;               /* the reader's error, 0 when none */
	size_t partial;         /* bytes of an unfinished last message */
};

static uint64_t wire_fnv(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* xsd_args_split's promises, checked against the payload itself. */
static void wire_check_args(const struct xsd_msg_hdr *hdr, const unsigned char *p, size_t len)
{
	const char *argv[8];
	const unsigned char *tail;
	size_t tail_len;
	size_t count = xsd_args_split(argv, 8, p, len, &tail, &tail_len);
	size_t nuls = 0;
	for (size_t i = 0; i < len; i++)
		nuls += p[i] == '\0';
	XSD_FUZZ_CHECK(count == nuls);
	XSD_FUZZ_CHECK(xsd_args_split(NULL, 0, p, len, NULL, NULL) == count);

	const char *next = (const char *)p;
	for (size_t i = 0; i < count && i < 8; i++) {
		XSD_FUZZ_CHECK(argv[i] == next);
		size_t n = strlen(argv[i]);
		XSD_FUZZ_CHECK((const unsigned char *)argv[i] + n < p + len);
		next = argv[i] + n + 1;
	}
	if (len && p[len - 1] != '\0') {
		XSD_FUZZ_CHECK(tail != NULL && tail_len > 0);
		XSD_FUZZ_CHECK(tail + tail_len == p + len);
		XSD_FUZZ_CHECK(memchr(tail, '\0', tail_len) == NULL);
	} else {
		XSD_FUZZ_CHECK(tail == NULL && tail_len == 0);
	}

	/* An error reply's name maps to an errno and back to itself. */
	if (hdr->type == XSD_ERROR && count >= 1) {
		int e = xsd_error_from_name(argv[0]);
		XSD_FUZZ_CHECK(e <= 0);
		if (e < 0)
			XSD_FUZZ_CHECK(strcmp(xsd_error_name(e), argv[0]) == 0);
	}
}

/* Rebuild the message and read it back in one piece: the same bytes. */
static void wire_check_echo(struct wire_run *run, const struct xsd_msg_hdr *hdr,
			    const unsigned char *p)
{
	struct vs_buf out = VS_BUF_INIT;
	bool done = false;

	XSD_FUZZ_CHECK(xsd_msg_build(&out, hdr, p, hdr->len) == 0);
	XSD_FUZZ_CHECK(out.size == sizeof(*hdr) + hdr->len);
	xsd_reader_init(&run->echo);
	long used = xsd_reader_feed(&run->echo, out.ptr, out.size, &done);
	XSD_FUZZ_CHECK(used == (long)out.size && done);
	XSD_FUZZ_CHECK(memcmp(&run->echo.hdr, hdr, sizeof(*hdr)) == 0);
	XSD_FUZZ_CHECK(memcmp(xsd_reader_payload(&run->echo), p, hdr->len) == 0);
	xsd_reader_release(&run->echo);
	vs_buf_release(&out);
}

static void wire_check_msg(struct wire_run *run)
{
	const struct xsd_msg_hdr *hdr = &run->r.hdr;
	const unsigned char *p = xsd_reader_payload(&run->r);

	XSD_FUZZ_CHECK(hdr->len <= XSD_PAYLOAD_MAX);
	const char *name = xsd_msg_type_name(hdr->type);
	XSD_FUZZ_CHECK(name == NULL || (hdr->type < XSD_TYPE_COUNT && name[0] != '\0'));
	/* Any int names a wire error that maps back to an errno. */
	XSD_FUZZ_CHECK(xsd_error_from_name(xsd_error_name((int)hdr->req_id)) < 0);

	wire_check_args(hdr, p, hdr->len);
	wire_check_echo(run, hdr, p);
	run->msgs++;
	run->hash = wire_fnv(run->hash, hdr, sizeof(*hdr));
	run->hash = wire_fnv(run->hash, p, hdr->len);
}

/* Read @p n bytes of @p s in chunks of pat[i % k] + 1 bytes (k == 0: one chunk). */
static void wire_read(struct wire_run *run, const uint8_t *s, size_t n, const uint8_t *pat,
		      size_t k)
{
	size_t off = 0, turn = 0;

	xsd_reader_init(&run->r);
	run->msgs = 0;
	run->hash = 0xcbf29ce484222325ull;
	run->err = 0;
	while (off < n) {
		size_t chunk = k ? (size_t)pat[turn++ % k] + 1 : n - off;
		if (chunk > n - off)
			chunk = n - off;
		size_t at = 0;
		while (at < chunk) {
			bool done = false;
			long used = xsd_reader_feed(&run->r, s + off + at, chunk - at, &done);
			if (used < 0) {
				XSD_FUZZ_CHECK(used == VS_E2BIG && !done);
				XSD_FUZZ_CHECK(run->r.hdr.len > XSD_PAYLOAD_MAX);
				run->err = used;
				run->partial = run->r.have;
				return;
			}
			XSD_FUZZ_CHECK((size_t)used <= chunk - at);
			at += (size_t)used;
			if (done) {
				wire_check_msg(run);
				xsd_reader_next(&run->r);
			} else {
				/* Short of a whole message, every byte is taken. */
				XSD_FUZZ_CHECK(at == chunk);
			}
		}
		off += chunk;
	}
	run->partial = run->r.have;
	XSD_FUZZ_CHECK(run->partial < sizeof(struct xsd_msg_hdr) + XSD_PAYLOAD_MAX);
	xsd_reader_release(&run->r);
}

int xsd_fuzz_wire(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t k = data[0] % 16;
	if (k > size - 1)
		k = size - 1;
	const uint8_t *pat = data + 1;
	const uint8_t *s = pat + k;
	size_t n = size - 1 - k;

	struct wire_run *chunked = malloc(sizeof(*chunked));
	struct wire_run *whole = malloc(sizeof(*whole));
	if (chunked && whole) {
		wire_read(chunked, s, n, pat, k);
		wire_read(whole, s, n, NULL, 0);
		XSD_FUZZ_CHECK(chunked->msgs == whole->msgs);
		XSD_FUZZ_CHECK(chunked->hash == whole->hash);
		XSD_FUZZ_CHECK(chunked->err == whole->err);
		XSD_FUZZ_CHECK(chunked->partial == whole->partial);
	}
	free(chunked);
	free(whole);
	return 0;
}

#ifndef XSD_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return xsd_fuzz_wire(data, size);
}
#endif
