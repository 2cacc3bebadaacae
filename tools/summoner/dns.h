/* SPDX-License-Identifier: MIT */
/*
 * The summoner's DNS messages, parsed and built with libldns: a query is
 * turned into a name and a type, and a reply carries the question back with
 * at most one A record. Nothing here does I/O.
 */
#ifndef SUMMONER_DNS_H
#define SUMMONER_DNS_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>
#include <vstore/vstore.h>

#include "config.h"

/** One received query. */
struct summoner_dns_query {
	ldns_pkt *pkt;	/* the parsed message; NULL when it did not parse (owned) */
	uint16_t id;	/* its header id, also when pkt is NULL */
	uint8_t opcode; /* its header opcode */
	int rcode;	/* LDNS_RCODE_NOERROR: a usable question; else the error to answer */
	char name[SUMMONER_NAME_MAX + 2]; /* the question's name, no final dot ("" if none) */
	uint16_t qtype;			  /* the question's type (LDNS_RR_TYPE_A...) */
	uint16_t qclass;		  /* the question's class (LDNS_RR_CLASS_IN...) */
};

/**
 * Parse the datagram @p buf of @p len bytes into @p q (replaced; release
 * it with summoner_dns_query_release() whatever this returns).
 * @return 0 (reply to it: q->rcode is NOERROR for a single standard
 * question, FORMERR or NOTIMP otherwise), VS_EINVAL (drop it: shorter than
 * a header, or a response rather than a query).
 */
int summoner_dns_parse(struct summoner_dns_query *q, const void *buf, size_t len);

/**
 * The reply to @p q with @p rcode (an LDNS_RCODE_...) and, when @p ip is not
 * NULL, one A record for the question's name with @p ttl; @p aa sets the
 * authoritative-answer bit. The bytes go into @p out (replaced).
 * @return 0, VS_ENOMEM.
 */
int summoner_dns_reply(struct vs_buf *out, const struct summoner_dns_query *q, int rcode, bool aa,
		       const struct in_addr *ip, uint32_t ttl);

/** Free what @p q holds. NULL-safe. */
void summoner_dns_query_release(struct summoner_dns_query *q);

/** The name of DNS type @p type ("A", "AAAA", "TYPE65534"), into @p buf of @p size bytes. */
const char *summoner_dns_type_name(char *buf, size_t size, uint16_t type);

#endif
