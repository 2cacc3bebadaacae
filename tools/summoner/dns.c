/* SPDX-License-Identifier: MIT */
/*
 * DNS query parsing and reply building over libldns. ldns status codes stop
 * here: a parse failure becomes FORMERR for the peer, an allocation failure
 * VS_ENOMEM. A message that does not parse still gets a bare FORMERR
 * header built by hand, as long as it has an id to echo.
 */
#include "dns.h"

#include <stdlib.h>
#include <string.h>

/* What the EDNS OPT record of a reply advertises (the common safe size). */
#define EDNS_UDP_SIZE 1232
#define DNS_HEADER_LEN 12

/* The question's name as text, lower-case, without the final dot. */
static bool question_name(char *out, size_t size, const ldns_rdf *owner)
{
	char *text = ldns_rdf2str(owner);
	if (!text)
		return false;
	size_t n = strlen(text);
	if (n > 1 && text[n - 1] == '.')
		text[--n] = '\0';
	bool fits = n < size;
	if (fits)
		for (size_t i = 0; i <= n; i++)
			out[i] =
			    (char)((text[i] >= 'A' && text[i] <= 'Z') ? text[i] + 32 : text[i]);
	free(text);
	return fits;
}

int summoner_dns_parse(struct summoner_dns_query *q, const void *buf, size_t len)
{
	const uint8_t *wire = buf;

	memset(q, 0, sizeof(*q));
	q->rcode = LDNS_RCODE_FORMERR;
	if (len < DNS_HEADER_LEN)
		return vs_error_set(VS_EINVAL, "a %zu-byte datagram is no DNS message", len);
	if (wire[2] & 0x80)
		return vs_error_set(VS_EINVAL, "a DNS response, not a query");
	q->id = (uint16_t)(wire[0] << 8 | wire[1]);
	q->opcode = (wire[2] >> 3) & 0x0f;
	if (q->opcode != LDNS_PACKET_QUERY) {
		q->rcode = LDNS_RCODE_NOTIMPL;
		return 0;
	}
	if (ldns_wire2pkt(&q->pkt, wire, len) != LDNS_STATUS_OK) {
		q->pkt = NULL;
		return 0; /* FORMERR */
	}
	const ldns_rr_list *qs = ldns_pkt_question(q->pkt);
	if (!qs || ldns_rr_list_rr_count(qs) != 1)
		return 0;
	const ldns_rr *rr = ldns_rr_list_rr(qs, 0);
	if (!question_name(q->name, sizeof(q->name), ldns_rr_owner(rr)))
		return 0;
	q->qtype = (uint16_t)ldns_rr_get_type(rr);
	q->qclass = (uint16_t)ldns_rr_get_class(rr);
	q->rcode = LDNS_RCODE_NOERROR;
	return 0;
}

/* For a message ldns could not parse: the header alone, echoing id and opcode. */
static int bare_reply(struct vs_buf *out, const struct summoner_dns_query *q, int rcode)
{
	uint8_t h[DNS_HEADER_LEN] = {0};
	h[0] = (uint8_t)(q->id >> 8);
	h[1] = (uint8_t)q->id;
	h[2] = (uint8_t)(0x80 | (q->opcode & 0x0f) << 3);
	h[3] = (uint8_t)(rcode & 0x0f);
	return vs_buf_set(out, h, sizeof(h));
}

static ldns_rr *a_record(const ldns_rr *question, const struct in_addr *ip, uint32_t ttl)
{
	ldns_rr *rr = ldns_rr_new();
	ldns_rdf *owner = ldns_rdf_clone(ldns_rr_owner(question));
	ldns_rdf *addr = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4, &ip->s_addr);
	if (!rr || !owner || !addr || !ldns_rr_push_rdf(rr, addr)) {
		ldns_rr_free(rr);
		ldns_rdf_deep_free(owner);
		ldns_rdf_deep_free(addr);
		return NULL;
	}
	ldns_rr_set_owner(rr, owner);
	ldns_rr_set_type(rr, LDNS_RR_TYPE_A);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, ttl);
	return rr;
}

int summoner_dns_reply(struct vs_buf *out, const struct summoner_dns_query *q, int rcode, bool aa,
		       const struct in_addr *ip, uint32_t ttl)
{
	if (!q->pkt)
		return bare_reply(out, q, rcode);

	int err = 0;
	uint8_t *wire = NULL;
	size_t size = 0;
	ldns_pkt *r = ldns_pkt_new();
	if (!r)
		return vs_error_set(VS_ENOMEM, "out of memory for a DNS reply");
	ldns_pkt_set_id(r, q->id);
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_aa(r, aa);
	ldns_pkt_set_rd(r, ldns_pkt_rd(q->pkt));
	ldns_pkt_set_opcode(r, LDNS_PACKET_QUERY);
	ldns_pkt_set_rcode(r, (uint8_t)rcode);
	if (ldns_pkt_edns(q->pkt)) {
		ldns_pkt_set_edns_udp_size(r, EDNS_UDP_SIZE);
		ldns_pkt_set_edns_do(r, ldns_pkt_edns_do(q->pkt));
	}
	const ldns_rr_list *qs = ldns_pkt_question(q->pkt);
	const ldns_rr *question = NULL;
	if (qs && ldns_rr_list_rr_count(qs) == 1) {
		question = ldns_rr_list_rr(qs, 0);
		ldns_rr *copy = ldns_rr_clone(question);
		if (!copy || !ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, copy)) {
			ldns_rr_free(copy);
			err = vs_error_set(VS_ENOMEM, "out of memory for a DNS reply");
			goto out;
		}
	}
	if (ip && question) {
		ldns_rr *a = a_record(question, ip, ttl);
		if (!a || !ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, a)) {
			ldns_rr_free(a);
			err = vs_error_set(VS_ENOMEM, "out of memory for a DNS reply");
			goto out;
		}
	}
	if (ldns_pkt2wire(&wire, r, &size) != LDNS_STATUS_OK) {
		err = vs_error_set(VS_ENOMEM, "cannot encode a DNS reply");
		goto out;
	}
	err = vs_buf_set(out, wire, size);
out:
	free(wire);
	ldns_pkt_free(r);
	return err;
}

void summoner_dns_query_release(struct summoner_dns_query *q)
{
	if (!q)
		return;
	ldns_pkt_free(q->pkt);
	q->pkt = NULL;
}

const char *summoner_dns_type_name(char *buf, size_t size, uint16_t type)
{
	char *s = ldns_rr_type2str((ldns_rr_type)type);
	snprintf(buf, size, "%s", s ? s : "?");
	free(s);
	return buf;
}
