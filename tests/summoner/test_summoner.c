/* SPDX-License-Identifier: MIT */
/*
 * The summoner end to end: the built xenstored with --domains socket
 * (daemon_harness), vstore-summoner on 127.0.0.1 and a free port, dig and
 * raw UDP queries, and a tiny shell service that writes its ready key
 * through its domain's socket. Prints the summon and warm-query latencies.
 * Every wait is bounded; the summoner and its services die with the test.
 */
#include "vst.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>
#include <vsclient/client.h>

#include "daemon_harness.h"

#define DOMID_LO 50
#define DOMID_HI 59
#define WAIT_MS 10000
#define WARM_QUERIES 200
#define SUMMON_CYCLES 5

/* The service: ready at once, then runs until dom0 writes control/stop (60 s at most). */
static const char service_sh[] = "#!/bin/sh\n"
				 "xenstore-write data/ready \"$SUMMONER_DOMID\" || exit 1\n"
				 "i=0\n"
				 "while [ $i -lt 1200 ]; do\n"
				 "  xenstore-read control/stop >/dev/null 2>&1 && exit 0\n"
				 "  sleep 0.05; i=$((i+1))\n"
				 "done\n"
				 "exit 1\n";

struct fixture {
	struct xsd_harness *h;
	struct vsc_client *xs; /* dom0 */
	pid_t summoner;
	unsigned int port;
	char conf[4200], log[4200];
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void dump_summoner_log(const struct fixture *f)
{
	FILE *in = fopen(f->log, "r");
	char line[1024];
	if (!in)
		return;
	fprintf(stderr, "---- summoner log ----\n");
	while (fgets(line, sizeof(line), in))
		fputs(line, stderr);
	fclose(in);
}

static int setup(void **state)
{
	const char *tools[] = {"xenstore-write", "xenstore-read"};
	if (!xsd_harness_exe() || !getenv("SUMMONER_EXE") || !getenv("DIG")) {
		print_message("XSD_TEST_DAEMON, SUMMONER_EXE or DIG unset: run through meson\n");
		return -1;
	}
	for (size_t i = 0; i < 2; i++)
		if (vst_sh("command -v %s >/dev/null", tools[i]) != 0) {
			print_message("%s missing (Debian: xenstore-utils)\n", tools[i]);
			return -1;
		}
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->h = xsd_harness_new("summoner");
	assert_non_null(f->h);
	const char *extra[] = {"--domains", "socket", NULL};
	if (xsd_harness_start(f->h, extra) < 0) {
		xsd_harness_dump_log(f->h);
		fail_msg("the daemon did not start");
	}
	char uri[4200], path[4200];
	snprintf(uri, sizeof(uri), "unix:%s", f->h->sock);
	assert_vs_ok(vsc_client_open(&f->xs, uri));

	snprintf(path, sizeof(path), "%s/service.sh", f->h->dir);
	write_file(path, service_sh, 0755);
	char conf[8192];
	snprintf(conf, sizeof(conf),
		 "# the test's services\n"
		 "[hello.test]\n"
		 "ip = 127.0.0.10\n"
		 "ttl = 30\n"
		 "command = exec %s\n"
		 "wait_for_key = data/ready\n"
		 "timeout = 10\n"
		 "set data/greeting = hi\n"
		 "\n"
		 "[broken.test]\n"
		 "ip = 127.0.0.11\n"
		 "command = exit 3\n"
		 "wait_for_key = data/ready\n"
		 "\n"
		 "[slow.test]\n"
		 "ip = 127.0.0.12\n"
		 "command = exec sleep 30\n"
		 "wait_for_key = data/ready\n"
		 "timeout = 0.3\n",
		 path);
	snprintf(f->conf, sizeof(f->conf), "%s/summoner.conf", f->h->dir);
	write_file(f->conf, conf, 0644);
	snprintf(f->log, sizeof(f->log), "%s/summoner.log", f->h->dir);
	*state = f;
	return 0;
}

static void start_summoner(struct fixture *f)
{
	char portfile[4200], domids[32];
	snprintf(portfile, sizeof(portfile), "%s/port", f->h->dir);
	snprintf(domids, sizeof(domids), "%d-%d", DOMID_LO, DOMID_HI);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(f->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execl(getenv("SUMMONER_EXE"), "vstore-summoner", "-c", f->conf, "-r", f->h->run_dir,
		      "-l", "127.0.0.1", "-p", "0", "--ready-file", portfile, "-d", domids,
		      "--exit-after", "240", (char *)NULL);
		_exit(127);
	}
	f->summoner = pid;
	for (int i = 0; i < WAIT_MS / 10; i++) {
		FILE *in = fopen(portfile, "r");
		if (in) {
			int ok = fscanf(in, "%u", &f->port);
			fclose(in);
			if (ok == 1)
				return;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			f->summoner = 0;
			break;
		}
		sleep_ms(10);
	}
	dump_summoner_log(f);
	fail_msg("the summoner did not start listening");
}

/* SIGTERM the summoner and reap it within 10 s. @return its exit code, -1 if killed. */
static int stop_summoner(struct fixture *f)
{
	int status = 0;
	if (!f->summoner)
		return -1;
	kill(f->summoner, SIGTERM);
	for (int i = 0; i < 1000; i++) {
		if (waitpid(f->summoner, &status, WNOHANG) == f->summoner) {
			f->summoner = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		}
		sleep_ms(10);
	}
	kill(f->summoner, SIGKILL);
	waitpid(f->summoner, &status, 0);
	f->summoner = 0;
	return -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (!f)
		return 0;
	stop_summoner(f);
	vsc_client_close(f->xs);
	xsd_harness_free(f->h);
	free(f);
	return 0;
}

/* What dig said: status, the A answer's address ("" when none), its query time. */
struct dig_result {
	char status[16];
	char address[32];
	int query_ms;
	double wall_ms;
};

static void dig(struct dig_result *r, struct fixture *f, const char *name, const char *type)
{
	char cmd[512], *out = NULL;
	memset(r, 0, sizeof(*r));
	r->query_ms = -1;
	snprintf(cmd, sizeof(cmd), "%s @127.0.0.1 -p %u %s %s +time=5 +tries=1", getenv("DIG"),
		 f->port, name, type);
	double t0 = now_ms();
	int rc = xsd_harness_sh(f->h, NULL, &out, "%s", cmd);
	r->wall_ms = now_ms() - t0;
	if (rc != 0 || !out) {
		dump_summoner_log(f);
		fail_msg("`%s` failed (%d): %s", cmd, rc, out ? out : "");
	}
	const char *s = strstr(out, "status: ");
	if (s)
		sscanf(s, "status: %15[A-Z]", r->status);
	s = strstr(out, ";; ANSWER SECTION:\n");
	if (s && (s = strstr(s, "\tA\t")))
		sscanf(s + 3, "%31[0-9.]", r->address);
	s = strstr(out, "Query time: ");
	if (s)
		sscanf(s, "Query time: %d", &r->query_ms);
	free(out);
}

/* One A query over our own UDP socket: the latency without dig's start-up. */
static double udp_query(struct fixture *f, const char *name, const char *want_ip)
{
	ldns_pkt *q = ldns_pkt_query_new(ldns_dname_new_frm_str(name), LDNS_RR_TYPE_A,
					 LDNS_RR_CLASS_IN, LDNS_RD);
	uint16_t id = (uint16_t)rand();
	uint8_t *wire, buf[1500];
	size_t size;
	assert_non_null(q);
	ldns_pkt_set_id(q, id);
	assert_int_equal(ldns_pkt2wire(&wire, q, &size), LDNS_STATUS_OK);
	ldns_pkt_free(q);

	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f->port)};
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	double t0 = now_ms();
	assert_int_equal(sendto(fd, wire, size, 0, (struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)size);
	free(wire);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 15000), 1);
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	double ms = now_ms() - t0;
	close(fd);
	ldns_pkt *r = NULL;
	assert_true(n > 0);
	assert_int_equal(ldns_wire2pkt(&r, buf, (size_t)n), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(r), id);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(r), 1);
	char *s = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(r), 0), 0));
	assert_string_equal(s, want_ip);
	free(s);
	ldns_pkt_free(r);
	return ms;
}

static bool introduced(struct fixture *f, unsigned int domid)
{
	bool yes = false;
	assert_vs_ok(vsc_is_introduced(&yes, f->xs, domid));
	return yes;
}

/* The domain whose name is @p name, or -1. */
static int domain_named(struct fixture *f, const char *name)
{
	for (unsigned int d = DOMID_LO; d <= DOMID_HI; d++) {
		char path[64];
		struct vs_buf b = VS_BUF_INIT;
		snprintf(path, sizeof(path), "/local/domain/%u/name", d);
		bool match = vsc_read(&b, f->xs, VSC_TXN_NONE, path) == 0 && !strcmp(b.ptr, name);
		vs_buf_release(&b);
		if (match && introduced(f, d))
			return (int)d;
	}
	return -1;
}

static void read_expect(struct fixture *f, const char *path, const char *want)
{
	struct vs_buf b = VS_BUF_INIT;
	assert_vs_ok(vsc_read(&b, f->xs, VSC_TXN_NONE, path));
	assert_string_equal(b.ptr, want);
	vs_buf_release(&b);
}

/* Tell the service in @p domid to exit, and wait until the summoner released it. */
static void stop_service(struct fixture *f, unsigned int domid)
{
	char path[64];
	snprintf(path, sizeof(path), "/local/domain/%u/control/stop", domid);
	assert_vs_ok(vsc_write(f->xs, VSC_TXN_NONE, path, "1", 1));
	for (int i = 0; i < WAIT_MS / 10 && introduced(f, domid); i++)
		sleep_ms(10);
	if (introduced(f, domid)) {
		dump_summoner_log(f);
		fail_msg("domain %u was not released after its service exited", domid);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void test_first_query_summons_warm_answers_at_once_exit_releases(void **state)
{
	struct fixture *f = *state;
	struct dig_result cold, warm;
	char path[64];

	start_summoner(f);
	assert_int_equal(domain_named(f, "hello.test"), -1);

	/* First query: the service is summoned, then the answer comes. */
	dig(&cold, f, "hello.test", "A");
	assert_string_equal(cold.status, "NOERROR");
	assert_string_equal(cold.address, "127.0.0.10");
	int d1 = domain_named(f, "hello.test");
	assert_int_equal(d1, DOMID_LO);
	snprintf(path, sizeof(path), "/local/domain/%d/data/ready", d1);
	read_expect(f, path, "50"); /* it saw its own domain id */
	snprintf(path, sizeof(path), "/local/domain/%d/data/greeting", d1);
	read_expect(f, path, "hi");
	snprintf(path, sizeof(path), "/local/domain/%d/domid", d1);
	read_expect(f, path, "50");

	/* Second query: answered at once by the same instance. */
	dig(&warm, f, "HELLO.test.", "A");
	assert_string_equal(warm.status, "NOERROR");
	assert_string_equal(warm.address, "127.0.0.10");
	assert_int_equal(domain_named(f, "hello.test"), d1);
	double warm_udp[WARM_QUERIES];
	for (int i = 0; i < WARM_QUERIES; i++)
		warm_udp[i] = udp_query(f, "hello.test", "127.0.0.10");
	qsort(warm_udp, WARM_QUERIES, sizeof(double), cmp_double);

	/* The service exits: its domain is released; the next query summons again. */
	stop_service(f, (unsigned int)d1);
	double resummon = udp_query(f, "hello.test", "127.0.0.10");
	int d2 = domain_named(f, "hello.test");
	assert_int_equal(d2, DOMID_LO + 1); /* ids go round, as Xen's do */
	assert_false(introduced(f, (unsigned int)d1));
	double cycles[SUMMON_CYCLES];
	for (int i = 0; i < SUMMON_CYCLES; i++) {
		stop_service(f, (unsigned int)domain_named(f, "hello.test"));
		cycles[i] = udp_query(f, "hello.test", "127.0.0.10");
	}
	qsort(cycles, SUMMON_CYCLES, sizeof(double), cmp_double);
	assert_true(cold.wall_ms < 10000);

	print_message("summon latency (query -> answer): dig %d ms (wall %.1f ms incl. dig "
		      "start-up); re-summon over UDP %.1f ms; %d summons: median %.1f ms, "
		      "max %.1f ms\n",
		      cold.query_ms, cold.wall_ms, resummon, SUMMON_CYCLES,
		      cycles[SUMMON_CYCLES / 2], cycles[SUMMON_CYCLES - 1]);
	print_message("warm query latency: dig %d ms (wall %.1f ms); %d UDP queries: median "
		      "%.3f ms, p99 %.3f ms, max %.3f ms\n",
		      warm.query_ms, warm.wall_ms, WARM_QUERIES, warm_udp[WARM_QUERIES / 2],
		      warm_udp[WARM_QUERIES * 99 / 100], warm_udp[WARM_QUERIES - 1]);
	/* A cold start waits for a process and its key; a warm one must not. */
	assert_true(warm_udp[WARM_QUERIES / 2] < cycles[0]);

	/* Stopping the summoner stops the service and releases its domain. */
	int last = domain_named(f, "hello.test");
	assert_true(last >= DOMID_LO);
	assert_int_equal(stop_summoner(f), 0);
	assert_false(introduced(f, (unsigned int)last));
}

static void test_unknown_names_are_refused_other_types_get_no_data(void **state)
{
	struct fixture *f = *state;
	struct dig_result r;

	start_summoner(f);
	dig(&r, f, "nobody.test", "A");
	assert_string_equal(r.status, "REFUSED");
	assert_string_equal(r.address, "");
	/* A name we serve, another type: no data, and nothing is started. */
	dig(&r, f, "hello.test", "AAAA");
	assert_string_equal(r.status, "NOERROR");
	assert_string_equal(r.address, "");
	assert_int_equal(domain_named(f, "hello.test"), -1);
	assert_int_equal(stop_summoner(f), 0);
}

static void test_a_failing_command_gets_servfail_and_its_domain_back(void **state)
{
	struct fixture *f = *state;
	struct dig_result r;

	start_summoner(f);
	dig(&r, f, "broken.test", "A");
	assert_string_equal(r.status, "SERVFAIL");
	assert_int_equal(domain_named(f, "broken.test"), -1);
	for (unsigned int d = DOMID_LO; d <= DOMID_HI; d++)
		assert_false(introduced(f, d));
	/* The next query tries again (and fails again), with the next id. */
	dig(&r, f, "broken.test", "A");
	assert_string_equal(r.status, "SERVFAIL");
	assert_int_equal(stop_summoner(f), 0);
	assert_int_equal(vst_sh("grep -q 'broken.test: the command ended (exit code 3) before "
				"it was ready' '%s'",
				f->log),
			 0);
}

static void test_a_service_never_ready_is_answered_after_its_timeout(void **state)
{
	struct fixture *f = *state;
	start_summoner(f);
	double ms = udp_query(f, "slow.test", "127.0.0.12");
	assert_true(ms >= 290); /* timeout = 0.3 */
	assert_true(ms < 5000);
	int d = domain_named(f, "slow.test");
	assert_true(d >= DOMID_LO); /* it still runs, as Jitsu keeps it */
	/* Released behind the summoner's back: it stops the service. */
	assert_vs_ok(vsc_release(f->xs, (unsigned int)d));
	for (int i = 0;
	     i < WAIT_MS / 10 && vst_sh("grep -q 'slow.test: the command ended' '%s'", f->log) != 0;
	     i++)
		sleep_ms(10);
	assert_int_equal(vst_sh("grep -q 'slow.test: the command ended' '%s'", f->log), 0);
	print_message("never-ready service answered after %.1f ms (timeout 300 ms)\n", ms);
	assert_int_equal(stop_summoner(f), 0);
}

static void test_check_names_the_bad_line_and_exits_2(void **state)
{
	struct fixture *f = *state;
	char bad[4200], *out = NULL;
	snprintf(bad, sizeof(bad), "%s/bad.conf", f->h->dir);
	write_file(bad, "[ok.test]\nip = 127.0.0.1\ncommand = true\nip = 127.0.0.2\n", 0644);
	int rc = xsd_harness_sh(f->h, NULL, &out, "'%s' --check -c '%s' 2>&1",
				getenv("SUMMONER_EXE"), bad);
	assert_int_equal(rc, 2);
	char want[4400];
	snprintf(want, sizeof(want), "%s:4: `ip` is given twice in [ok.test] (first on line 2)",
		 bad);
	assert_non_null(strstr(out, want));
	free(out);
	rc = xsd_harness_sh(f->h, NULL, &out, "'%s' --check -c '%s' 2>&1", getenv("SUMMONER_EXE"),
			    f->conf);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "3 service(s), OK"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_first_query_summons_warm_answers_at_once_exit_releases, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_names_are_refused_other_types_get_no_data,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_a_failing_command_gets_servfail_and_its_domain_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_a_service_never_ready_is_answered_after_its_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check_names_the_bad_line_and_exits_2, setup,
					    teardown),
	};
	return cmocka_run_group_tests_name("summoner", tests, NULL, NULL);
}
