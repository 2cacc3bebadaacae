/* SPDX-License-Identifier: MIT */
/*
 * The summoner's configuration parser (every error names its line) and its
 * DNS codec (queries in, replies out), without a daemon or a socket.
 */
#include "vst.h"

#include <arpa/inet.h>

#include "config.h"
#include "dns.h"

static const char example[] = "# two services\n"
			      "[Hello.Test.]\n"
			      "ip = 127.0.0.10\n"
			      "ttl = 30\n"
			      "command = exec ./hello --port 80\n"
			      "wait_for_key = data/ready\n"
			      "timeout = 2.5\n"
			      "set data/greeting = hi there\n"
			      "set config/empty =\n"
			      "\n"
			      "  ; another comment style\n"
			      "[plain.test]\r\n"
			      "ip=10.0.0.1\r\n"
			      "command=true\r\n"
			      "domain_name = plain\n";

static void test_example_parses_with_defaults_and_keys(void **state)
{
	struct summoner_config cfg;
	char ip[INET_ADDRSTRLEN];

	assert_vs_ok(summoner_config_parse(&cfg, example, "example"));
	assert_int_equal(cfg.count, 2);
	const struct summoner_service *a = &cfg.services[0], *b = &cfg.services[1];
	assert_string_equal(a->name, "hello.test");
	assert_string_equal(a->domain_name, "hello.test");
	assert_string_equal(inet_ntop(AF_INET, &a->ip, ip, sizeof(ip)), "127.0.0.10");
	assert_int_equal(a->ttl, 30);
	assert_string_equal(a->command, "exec ./hello --port 80");
	assert_string_equal(a->wait_for_key, "data/ready");
	assert_int_equal(a->timeout_ms, 2500);
	assert_int_equal(a->line, 2);
	assert_int_equal(a->nkeys, 2);
	assert_string_equal(a->keys[0].path, "data/greeting");
	assert_string_equal(a->keys[0].value, "hi there");
	assert_string_equal(a->keys[1].path, "config/empty");
	assert_string_equal(a->keys[1].value, "");

	assert_string_equal(b->name, "plain.test");
	assert_string_equal(b->domain_name, "plain");
	assert_string_equal(b->command, "true");
	assert_int_equal(b->ttl, SUMMONER_DEFAULT_TTL);
	assert_int_equal(b->timeout_ms, SUMMONER_DEFAULT_TIMEOUT_MS);
	assert_null(b->wait_for_key);
	assert_int_equal(b->line, 12);

	/* Lookup ignores case and the final dot. */
	assert_ptr_equal(summoner_config_find(&cfg, "HELLO.test."), a);
	assert_ptr_equal(summoner_config_find(&cfg, "plain.test"), b);
	assert_null(summoner_config_find(&cfg, "other.test"));
	assert_null(summoner_config_find(&cfg, "hello..test"));
	summoner_config_release(&cfg);
	summoner_config_release(&cfg); /* empty again: harmless */
}

/* Each bad configuration and the start of its message: the line is named. */
static const struct {
	const char *text;
	const char *message;
} bad[] = {
    {"ip = 1.2.3.4\n", "t:1: `ip` outside any [name] section"},
    {"[a.test]\nip = 1.2.3.4\ncolour = red\n", "t:3: unknown setting `colour`"},
    {"[a.test]\nip = 1.2.3.400\n", "t:2: ip \"1.2.3.400\" is not an IPv4 address"},
    {"[a.test]\nip = 1.2.3.4\ncommand = x\n\nip = 1.2.3.5\n",
     "t:5: `ip` is given twice in [a.test] (first on line 2)"},
    {"# c\n[a.test]\nip = 1.2.3.4\n[b.test]\nip = 1.2.3.4\ncommand = x\n",
     "t:2: [a.test] has no `command"},
    {"[a.test]\ncommand = x\n", "t:1: [a.test] has no `ip"},
    {"[a.test]\nip = 1.2.3.4\ncommand = x\n[A.TEST.]\n",
     "t:4: [a.test] is already defined on line 1"},
    {"[a.test]\ntimeout = 0\n", "t:2: timeout \"0\" is not a number of seconds"},
    {"[a.test]\ntimeout = 1.2345\n", "t:2: timeout \"1.2345\""},
    {"[a.test]\ntimeout = 601\n", "t:2: timeout \"601\""},
    {"[a.test]\nttl = -1\n", "t:2: ttl \"-1\""},
    {"[a.test]\nttl = 2147483648\n", "t:2: ttl \"2147483648\""},
    {"[a.test]\nset /abs = 1\n", "t:2: `set /abs`: not a key path"},
    {"[a.test]\nset a//b = 1\n", "t:2: `set a//b`"},
    {"[a.test]\nset x = 1\nset x = 2\n", "t:3: `set x` is given twice"},
    {"[a.test]\nwait_for_key = data/../x\n", "t:2: wait_for_key \"data/../x\""},
    {"[a.test]\ncommand =\n", "t:2: `command` needs a value"},
    {"[a..test]\n", "t:1: \"a..test\" is not a DNS name"},
    {"[bad name]\n", "t:1: \"bad name\" is not a DNS name"},
    {"[a.test\n", "t:1: section header \"[a.test\" lacks its closing ']'"},
    {"[a.test]\njust words\n", "t:2: expected `[name]`"},
    {"# nothing\n\n", "t: no service"},
};

static void test_each_error_names_its_line(void **state)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct summoner_config cfg;
		int err = summoner_config_parse(&cfg, bad[i].text, "t");
		const char *msg = vs_error_last()->message;
		if (err != VS_EINVAL || strncmp(msg, bad[i].message, strlen(bad[i].message)) != 0)
			fail_msg("case %zu: got %d \"%s\", want \"%s...\"", i, err, msg,
				 bad[i].message);
		summoner_config_release(&cfg);
	}
}

static void test_load_reads_a_file_and_reports_a_missing_one(void **state)
{
	char *dir = vst_tmpdir("summoner-cfg");
	char path[4200];
	struct summoner_config cfg;

	snprintf(path, sizeof(path), "%s/none.conf", dir);
	assert_vs_err(VS_ENOENT, summoner_config_load(&cfg, path));
	summoner_config_release(&cfg);
	snprintf(path, sizeof(path), "%s/s.conf", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(example, f);
	fputs("[third.test]\nip = 1.1.1.1\n", f); /* line 16: no command */
	fclose(f);
	assert_vs_err(VS_EINVAL, summoner_config_load(&cfg, path));
	char want[4300];
	snprintf(want, sizeof(want), "%s:16: [third.test] has no `command", path);
	assert_true(strncmp(vs_error_last()->message, want, strlen(want)) == 0);
	summoner_config_release(&cfg);
	vst_rmrf(dir);
	free(dir);
}

/* A query in wire form, as a resolver sends it. */
static void make_query(struct vs_buf *out, const char *name, ldns_rr_type type, uint16_t id,
		       bool edns)
{
	ldns_pkt *p =
	    ldns_pkt_query_new(ldns_dname_new_frm_str(name), type, LDNS_RR_CLASS_IN, LDNS_RD);
	assert_non_null(p);
	ldns_pkt_set_id(p, id);
	if (edns)
		ldns_pkt_set_edns_udp_size(p, 4096);
	uint8_t *wire;
	size_t size;
	assert_int_equal(ldns_pkt2wire(&wire, p, &size), LDNS_STATUS_OK);
	assert_vs_ok(vs_buf_set(out, wire, size));
	free(wire);
	ldns_pkt_free(p);
}

static void test_a_query_gets_an_authoritative_a_record(void **state)
{
	struct vs_buf wire = VS_BUF_INIT, reply = VS_BUF_INIT;
	struct summoner_dns_query q;
	struct in_addr ip;
	char text[64];

	make_query(&wire, "Hello.Test.", LDNS_RR_TYPE_A, 0x1234, true);
	assert_vs_ok(summoner_dns_parse(&q, wire.ptr, wire.size));
	assert_int_equal(q.rcode, LDNS_RCODE_NOERROR);
	assert_string_equal(q.name, "hello.test");
	assert_int_equal(q.qtype, LDNS_RR_TYPE_A);
	assert_int_equal(q.qclass, LDNS_RR_CLASS_IN);
	assert_int_equal(q.id, 0x1234);
	assert_string_equal(summoner_dns_type_name(text, sizeof(text), q.qtype), "A");

	inet_pton(AF_INET, "127.0.0.10", &ip);
	assert_vs_ok(summoner_dns_reply(&reply, &q, LDNS_RCODE_NOERROR, true, &ip, 30));
	ldns_pkt *r = NULL;
	assert_int_equal(ldns_wire2pkt(&r, (const uint8_t *)reply.ptr, reply.size), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(r), 0x1234);
	assert_true(ldns_pkt_qr(r));
	assert_true(ldns_pkt_aa(r));
	assert_true(ldns_pkt_rd(r));
	assert_true(ldns_pkt_edns(r));
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_qdcount(r), 1);
	assert_int_equal(ldns_pkt_ancount(r), 1);
	ldns_rr *a = ldns_rr_list_rr(ldns_pkt_answer(r), 0);
	assert_int_equal(ldns_rr_get_type(a), LDNS_RR_TYPE_A);
	assert_int_equal(ldns_rr_ttl(a), 30);
	char *s = ldns_rdf2str(ldns_rr_rdf(a, 0));
	assert_string_equal(s, "127.0.0.10");
	free(s);
	s = ldns_rdf2str(ldns_rr_owner(a));
	assert_string_equal(s, "Hello.Test."); /* the owner as asked */
	free(s);
	ldns_pkt_free(r);
	summoner_dns_query_release(&q);

	/* Without an address: the error code and the question, no answer. */
	make_query(&wire, "other.test", LDNS_RR_TYPE_AAAA, 7, false);
	assert_vs_ok(summoner_dns_parse(&q, wire.ptr, wire.size));
	assert_string_equal(q.name, "other.test");
	assert_vs_ok(summoner_dns_reply(&reply, &q, LDNS_RCODE_REFUSED, false, NULL, 0));
	assert_int_equal(ldns_wire2pkt(&r, (const uint8_t *)reply.ptr, reply.size), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_REFUSED);
	assert_false(ldns_pkt_aa(r));
	assert_false(ldns_pkt_edns(r));
	assert_int_equal(ldns_pkt_ancount(r), 0);
	assert_int_equal(ldns_pkt_qdcount(r), 1);
	ldns_pkt_free(r);
	summoner_dns_query_release(&q);
	vs_buf_release(&wire);
	vs_buf_release(&reply);
}

static void test_malformed_messages_get_formerr_notimp_or_nothing(void **state)
{
	struct summoner_dns_query q;
	struct vs_buf reply = VS_BUF_INIT;

	/* Too short for a header, or a response: dropped. */
	assert_vs_err(VS_EINVAL, summoner_dns_parse(&q, "\x12\x34\x01", 3));
	summoner_dns_query_release(&q);
	const uint8_t response[12] = {0, 1, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	assert_vs_err(VS_EINVAL, summoner_dns_parse(&q, response, sizeof(response)));
	summoner_dns_query_release(&q);

	/* Five questions promised, none present: FORMERR echoing the id. */
	const uint8_t liar[12] = {0xab, 0xcd, 0x01, 0, 0, 5, 0, 0, 0, 0, 0, 0};
	assert_vs_ok(summoner_dns_parse(&q, liar, sizeof(liar)));
	assert_int_equal(q.rcode, LDNS_RCODE_FORMERR);
	assert_vs_ok(summoner_dns_reply(&reply, &q, q.rcode, false, NULL, 0));
	assert_int_equal(reply.size, 12);
	const uint8_t *h = (const uint8_t *)reply.ptr;
	assert_int_equal(h[0], 0xab);
	assert_int_equal(h[1], 0xcd);
	assert_int_equal(h[2] & 0x80, 0x80);
	assert_int_equal(h[3] & 0x0f, LDNS_RCODE_FORMERR);
	summoner_dns_query_release(&q);

	/* A STATUS request (opcode 2): the summoner answers NOTIMP. */
	const uint8_t status[12] = {0, 9, 2 << 3, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	assert_vs_ok(summoner_dns_parse(&q, status, sizeof(status)));
	assert_int_equal(q.rcode, LDNS_RCODE_NOTIMPL);
	assert_vs_ok(summoner_dns_reply(&reply, &q, q.rcode, false, NULL, 0));
	h = (const uint8_t *)reply.ptr;
	assert_int_equal((h[2] >> 3) & 0x0f, 2);
	assert_int_equal(h[3] & 0x0f, LDNS_RCODE_NOTIMPL);
	summoner_dns_query_release(&q);
	vs_buf_release(&reply);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_example_parses_with_defaults_and_keys),
	    cmocka_unit_test(test_each_error_names_its_line),
	    cmocka_unit_test(test_load_reads_a_file_and_reports_a_missing_one),
	    cmocka_unit_test(test_a_query_gets_an_authoritative_a_record),
	    cmocka_unit_test(test_malformed_messages_get_formerr_notimp_or_nothing),
	};
	return cmocka_run_group_tests_name("summoner_config", tests, NULL, NULL);
}
