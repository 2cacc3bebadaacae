/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the engine: the input is a sequence of requests, each
 * a record [flags][type][len lo][len hi][len bytes of payload], sent through
 * one of two connections (privileged dom0 and unprivileged dom1) of an
 * engine on a fresh "mem:" store. Flag bits: 0 picks the connection, 1
 * flushes after the request, 2..7 pick the transaction id: 0 for none, s for
 * the (s-1)-th id that connection got from TRANSACTION_START (modulo how many
 * it has; s itself while it has none). Type 0xff stands for XSD_INVALID.
 * Every reply and event is checked against the protocol.
 */
#include "fuzz.h"

#include <stdbool.h>
#include <string.h>
#include <vstore/repo.h>

#include "xsd/engine.h"
#include "xsd/wire.h"

#define ENGINE_TXIDS 16 /* transaction ids remembered per connection */

/* One of the two connections and what came back to it. */
struct engine_peer {
	struct xsd_conn *conn;
	unsigned int domid;
	unsigned int flags;          /* enum xsd_conn_flags */
	uint32_t txids[ENGINE_TXIDS]; /* ids from TRANSACTION_START replies, a ring */
	size_t ntxids;               /* ids received so far */
	size_t replies;              /* messages received */
};

static int engine_introduce(void *payload, unsigned int domid, uint64_t gfn, uint32_t evtchn)
{
	(void)payload, (void)domid, (void)gfn, (void)evtchn;
	return 0;
}

static void engine_release(void *payload, unsigned int domid)
{
	(void)payload, (void)domid;
}

/* Every message out of the engine must be a well-formed one. */
static void engine_send(void *payload, const struct xsd_msg_hdr *hdr, const void *body)
{
	struct engine_peer *peer = payload;
	const unsigned char *p = body;
	const char *argv[2];
	unsigned int sum = 0;

	XSD_FUZZ_CHECK(hdr->len <= XSD_PAYLOAD_MAX);
	XSD_FUZZ_CHECK(hdr->len == 0 || p != NULL);
	for (size_t i = 0; i < hdr->len; i++)
		sum += p[i]; /* lets ASan see the whole body */
	(void)sum;
	peer->replies++;

	if (hdr->type == XSD_ERROR) {
		/* "ENAME\0", a name from xs_wire.h's list. */
		XSD_FUZZ_CHECK(hdr->len >= 2 && p[hdr->len - 1] == '\0');
		XSD_FUZZ_CHECK(xsd_error_from_name((const char *)p) < 0);
		return;
	}
	XSD_FUZZ_CHECK(xsd_msg_type_name(hdr->type) != NULL);
	if (hdr->type == XSD_WATCH_EVENT) {
		/* "path\0token\0". */
		XSD_FUZZ_CHECK(xsd_args_split(argv, 2, p, hdr->len, NULL, NULL) >= 2);
		return;
	}
	if (hdr->type == XSD_TRANSACTION_START && hdr->len > 0 && p[hdr->len - 1] == '\0') {
		unsigned long id = strtoul((const char *)p, NULL, 10);
		peer->txids[peer->ntxids++ % ENGINE_TXIDS] = (uint32_t)id;
	}
}

static uint32_t engine_txid(const struct engine_peer *peer, unsigned int sel)
{
	if (sel == 0)
		return 0;
	if (peer->ntxids == 0)
		return sel;
	size_t have = peer->ntxids < ENGINE_TXIDS ? peer->ntxids : ENGINE_TXIDS;
	return peer->txids[(sel - 1) % have];
}

static int engine_connect(struct engine_peer *peer, struct xsd_engine *e)
{
	return xsd_conn_new(&peer->conn, e, peer->domid, peer->flags, engine_send, peer);
}

/* Send one request; a connection the engine gives up on is replaced. */
static void engine_request(struct engine_peer *peer, struct xsd_engine *e,
			   const struct xsd_msg_hdr *hdr, const uint8_t *data)
{
	/* An allocation of exactly len bytes, so ASan sees any overread. */
	unsigned char *body = malloc(hdr->len ? hdr->len : 1);
	if (!body)
		return;
	if (hdr->len)
		memcpy(body, data, hdr->len);
	int rc = xsd_conn_request(peer->conn, hdr, body);
	free(body);
	(void)xsd_conn_throttle_ms(peer->conn);
	if (rc < 0) {
		xsd_conn_free(peer->conn);
		peer->conn = NULL;
		peer->ntxids = 0;
		if (engine_connect(peer, e) < 0)
			peer->conn = NULL;
	}
}

static void engine_run(struct xsd_engine *e, struct engine_peer *peers, const uint8_t *data,
		       size_t size)
{
	uint32_t req_id = 1;
	size_t off = 0;

	while (size - off >= 4) {
		uint8_t flags = data[off];
		uint8_t type = data[off + 1];
		size_t len = (size_t)data[off + 2] | (size_t)data[off + 3] << 8;
		off += 4;
		if (len > XSD_PAYLOAD_MAX)
			len = XSD_PAYLOAD_MAX;
		if (len > size - off)
			len = size - off;

		struct engine_peer *peer = &peers[flags & 1];
		if (!peer->conn)
			return;
		struct xsd_msg_hdr hdr = {
			.type = type == 0xff ? XSD_INVALID : type,
			.req_id = req_id++,
			.tx_id = engine_txid(peer, flags >> 2),
			.len = (uint32_t)len,
		};
		engine_request(peer, e, &hdr, data + off);
		off += len;
		if (flags & 2)
			(void)xsd_engine_flush(e);
	}
}

int xsd_fuzz_engine(const uint8_t *data, size_t size)
{
	struct vs_repo *repo = NULL;
	struct xsd_engine *e = NULL;
	struct engine_peer peers[2] = {
		{ .domid = 0, .flags = XSD_CONN_PRIV },
		{ .domid = 1, .flags = 0 },
	};
	struct xsd_engine_opts opts = {
		.version = XSD_ENGINE_OPTS_VERSION,
		.priv_domid = 0,
		.hooks = { .introduce = engine_introduce, .release = engine_release },
	};

	xsd_quota_defaults(&opts.quota);
	XSD_FUZZ_CHECK(vs_repo_open(&repo, "mem:", NULL) == 0);
	XSD_FUZZ_CHECK(xsd_engine_new(&e, repo, &opts) == 0);
	XSD_FUZZ_CHECK(engine_connect(&peers[0], e) == 0);
	XSD_FUZZ_CHECK(engine_connect(&peers[1], e) == 0);

	engine_run(e, peers, data, size);
	/* The mem: store cannot fail, so neither can committing to it. */
	XSD_FUZZ_CHECK(xsd_engine_flush(e) == 0);
	XSD_FUZZ_CHECK(!xsd_engine_pending(e));

	xsd_conn_free(peers[0].conn);
	xsd_conn_free(peers[1].conn);
	xsd_engine_free(e);
	vs_repo_close(repo);
	return 0;
}

#ifndef XSD_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return xsd_fuzz_engine(data, size);
}
#endif
