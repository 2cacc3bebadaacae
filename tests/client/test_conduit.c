/* SPDX-License-Identifier: MIT */
/*
 * Conduit rendezvous and the vchan key exchange against the real daemon
 * with per-domain sockets: dom0 on the main socket, domains 1 (listener,
 * vchan server), 2 (connector, vchan client) and 3 (a bystander), each a
 * client on RUN_DIR/domain/<id>. Late peers run in threads, each with its
 * own client. Every wait has a timeout.
 */
#include "vst.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <vsclient/client.h>
#include <vsclient/conduit.h>

#include "daemon_harness.h"

#define NDOM 3
#define WAIT_MS 10000

struct fixture {
	struct xsd_harness *h;
	struct vsc_client *dom0;
	struct vsc_client *d[NDOM + 1]; /* d[1..3] */
	char uri[NDOM + 1][4300];	/* their URIs, for threads */
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

static int setup(void **state)
{
	if (!xsd_harness_exe()) {
		print_message("XSD_TEST_DAEMON unset: run through meson\n");
		return -1;
	}
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->h = xsd_harness_new("conduit");
	assert_non_null(f->h);
	const char *extra[] = {"--domains", "socket", NULL};
	if (xsd_harness_start(f->h, extra) < 0) {
		xsd_harness_dump_log(f->h);
		fail_msg("the daemon did not start");
	}
	snprintf(f->uri[0], sizeof(f->uri[0]), "unix:%s", f->h->sock);
	assert_vs_ok(vsc_client_open(&f->dom0, f->uri[0]));
	for (unsigned int n = 1; n <= NDOM; n++) {
		char home[64], owner[16], sock[4200];
		const char *perms[] = {owner};
		snprintf(home, sizeof(home), "/local/domain/%u", n);
		snprintf(owner, sizeof(owner), "n%u", n);
		assert_vs_ok(vsc_introduce(f->dom0, n, 0, 1));
		assert_vs_ok(vsc_mkdir(f->dom0, VSC_TXN_NONE, home));
		assert_vs_ok(vsc_set_perms(f->dom0, VSC_TXN_NONE, home, perms, 1));
		snprintf(sock, sizeof(sock), "%s/domain/%u", f->h->run_dir, n);
		assert_true(xsd_harness_wait_socket(sock, WAIT_MS));
		snprintf(f->uri[n], sizeof(f->uri[n]), "unix:%s", sock);
		assert_vs_ok(vsc_client_open(&f->d[n], f->uri[n]));
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (!f)
		return 0;
	for (unsigned int n = 1; n <= NDOM; n++)
		vsc_client_close(f->d[n]);
	vsc_client_close(f->dom0);
	xsd_harness_free(f->h);
	free(f);
	return 0;
}

static void assert_message_has(const char *needle)
{
	const char *msg = vs_error_last()->message;
	if (!strstr(msg, needle))
		fail_msg("message \"%s\" lacks \"%s\"", msg, needle);
}

static bool exists(struct vsc_client *c, const char *path)
{
	struct vs_buf b = VS_BUF_INIT;
	int err = vsc_read(&b, c, VSC_TXN_NONE, path);
	vs_buf_release(&b);
	assert_true(err == 0 || err == VS_ENOENT);
	return err == 0;
}

static void init_and_register(struct fixture *f)
{
	assert_vs_ok(vsc_conduit_init(f->dom0));
	assert_vs_ok(vsc_conduit_register(f->d[1], "server", 1));
	assert_vs_ok(vsc_conduit_register(f->d[2], "client", 2));
}

static void test_without_conduit_every_call_says_to_run_init(void **state)
{
	struct fixture *f = *state;
	struct vsc_conduit_peer peer;
	unsigned int domid;

	assert_vs_err(VS_ENOENT, vsc_conduit_register(f->d[1], "server", 1));
	assert_message_has("run `vstore conduit init`");
	assert_vs_err(VS_ENOENT, vsc_conduit_connect(&domid, f->d[2], "client", "server", "p"));
	assert_message_has("run `vstore conduit init`");
	assert_vs_err(VS_ENOENT, vsc_conduit_accept(&peer, f->d[1], "server", 100));
	assert_message_has("run `vstore conduit init`");
	assert_vs_err(VS_ENOENT, vsc_conduit_unregister(f->d[1], "server"));
	assert_message_has("run `vstore conduit init`");
}

static void test_init_makes_conduit_open_to_all_and_resets_it(void **state)
{
	struct fixture *f = *state;
	struct vs_strarray perms = {0};

	assert_true(vsc_conduit_init(f->d[1]) < 0); /* not the control domain */
	assert_vs_ok(vsc_conduit_init(f->dom0));
	assert_vs_ok(vsc_get_perms(&perms, f->dom0, VSC_TXN_NONE, "/conduit"));
	assert_int_equal(perms.count, 1);
	assert_string_equal(perms.strings[0], "b0");
	vs_strarray_dispose(&perms);
	assert_vs_ok(vsc_conduit_register(f->d[1], "server", 1));
	assert_true(exists(f->dom0, "/conduit/server"));
	assert_vs_ok(vsc_conduit_init(f->dom0)); /* again: a clean registry */
	assert_false(exists(f->dom0, "/conduit/server"));
	assert_true(exists(f->dom0, "/conduit"));
}

static void test_connect_then_accept_exchanges_domain_and_port(void **state)
{
	struct fixture *f = *state;
	struct vsc_conduit_peer peer;
	unsigned int domid = 99;
	char buf[16];

	init_and_register(f);
	struct vs_buf b = VS_BUF_INIT;
	assert_vs_ok(vsc_read(&b, f->dom0, VSC_TXN_NONE, "/conduit/server"));
	assert_string_equal(b.ptr, "1");
	vs_buf_release(&b);

	assert_vs_ok(vsc_conduit_connect(&domid, f->d[2], "client", "server", "http"));
	assert_int_equal(domid, 1);
	assert_true(exists(f->dom0, "/conduit/server/client/http"));
	assert_vs_ok(vsc_conduit_accept(&peer, f->d[1], "server", WAIT_MS));
	assert_int_equal(peer.domid, 2);
	assert_string_equal(peer.name, "client");
	assert_string_equal(peer.port, "http");
	/* The request is consumed. */
	assert_false(exists(f->dom0, "/conduit/server/client"));
	double t0 = now_ms();
	assert_vs_err(VS_ETIMEDOUT, vsc_conduit_accept(&peer, f->d[1], "server", 150));
	double waited = now_ms() - t0;
	assert_true(waited >= 140 && waited < 5000);
	snprintf(buf, sizeof(buf), "within 150 ms");
	assert_message_has(buf);

	assert_vs_ok(vsc_conduit_unregister(f->d[1], "server"));
	assert_false(exists(f->dom0, "/conduit/server"));
	assert_vs_err(VS_ENOENT, vsc_conduit_unregister(f->d[1], "server"));
	assert_message_has("\"server\" is not registered");
	assert_vs_err(VS_ENOENT, vsc_conduit_accept(&peer, f->d[1], "server", 100));
	assert_message_has("listener \"server\" is not registered");
}

struct late_connect {
	const char *uri;
	int delay_ms;
	int err;
};

static void *late_connect_main(void *arg)
{
	struct late_connect *l = arg;
	struct vsc_client *c = NULL;
	unsigned int domid;
	sleep_ms(l->delay_ms);
	l->err = vsc_client_open(&c, l->uri);
	if (l->err >= 0)
		l->err = vsc_conduit_connect(&domid, c, "client", "server", "late");
	vsc_client_close(c);
	return NULL;
}

static void test_accept_wakes_up_when_a_connector_arrives(void **state)
{
	struct fixture *f = *state;
	struct vsc_conduit_peer peer;
	struct late_connect l = {f->uri[2], 150, 1};
	pthread_t th;

	init_and_register(f);
	assert_int_equal(pthread_create(&th, NULL, late_connect_main, &l), 0);
	double t0 = now_ms();
	int err = vsc_conduit_accept(&peer, f->d[1], "server", WAIT_MS);
	double waited = now_ms() - t0;
	pthread_join(th, NULL);
	assert_vs_ok(l.err);
	assert_vs_ok(err);
	assert_string_equal(peer.port, "late");
	assert_int_equal(peer.domid, 2);
	assert_true(waited >= 100 && waited < WAIT_MS / 2);
}

static void test_missing_peer_or_unregistered_connector_is_named(void **state)
{
	struct fixture *f = *state;
	unsigned int domid;

	init_and_register(f);
	assert_vs_err(VS_ENOENT, vsc_conduit_connect(&domid, f->d[2], "client", "nobody", "p"));
	assert_message_has("peer \"nobody\" not found");
	assert_vs_err(VS_ENOENT, vsc_conduit_connect(&domid, f->d[3], "ghost", "server", "p"));
	assert_message_has("connector \"ghost\" is not registered");
	assert_false(exists(f->dom0, "/conduit/server/ghost"));
}

static void test_requests_from_unregistered_connectors_are_dropped(void **state)
{
	struct fixture *f = *state;
	struct vsc_conduit_peer peer;
	struct vs_strarray left = {0};
	unsigned int domid;

	init_and_register(f);
	/* A request nobody can answer: "ghost" never registered. */
	assert_vs_ok(vsc_write(f->dom0, VSC_TXN_NONE, "/conduit/server/ghost/p", "p", 1));
	assert_vs_ok(vsc_conduit_connect(&domid, f->d[2], "client", "server", "real"));
	assert_vs_ok(vsc_conduit_accept(&peer, f->d[1], "server", WAIT_MS));
	assert_string_equal(peer.name, "client");
	assert_string_equal(peer.port, "real");
	/* Whatever the order, the ghost is gone after a quiet accept. */
	assert_vs_err(VS_ETIMEDOUT, vsc_conduit_accept(&peer, f->d[1], "server", 100));
	assert_vs_ok(vsc_directory(&left, f->dom0, VSC_TXN_NONE, "/conduit/server"));
	assert_int_equal(left.count, 0);
	vs_strarray_dispose(&left);
}

struct collected {
	char names[8][VSC_CONDUIT_NAME_MAX + 1];
	int n;
	int stop_after; /* 0: never */
};

static int collect(const struct vsc_conduit_peer *peer, void *payload)
{
	struct collected *c = payload;
	assert_true(c->n < 8);
	snprintf(c->names[c->n++], sizeof(c->names[0]), "%s", peer->name);
	return c->stop_after && c->n >= c->stop_after ? 1 : 0;
}

static int has_name(const struct collected *c, const char *name)
{
	for (int i = 0; i < c->n; i++)
		if (!strcmp(c->names[i], name))
			return 1;
	return 0;
}

static int refuse(const struct vsc_conduit_peer *peer, void *payload)
{
	return vs_error_set(VS_EPERM, "refused %s", peer->name);
}

static void test_accept_loop_takes_each_request_and_ends_when_quiet(void **state)
{
	struct fixture *f = *state;
	const char *names[] = {"c1", "c2", "c3"};
	struct collected got = {.n = 0};
	unsigned int domid;

	init_and_register(f);
	for (int i = 0; i < 3; i++) {
		assert_vs_ok(vsc_conduit_register(f->d[2], names[i], 2));
		assert_vs_ok(vsc_conduit_connect(&domid, f->d[2], names[i], "server", "p"));
	}
	assert_int_equal(vsc_conduit_accept_loop(f->d[1], "server", 0, 200, collect, &got), 3);
	assert_int_equal(got.n, 3);
	for (int i = 0; i < 3; i++)
		assert_true(has_name(&got, names[i]));

	/* Stopping early: by the callback, by max, or with the callback's error. */
	struct collected one = {.stop_after = 1};
	for (int i = 0; i < 3; i++)
		assert_vs_ok(vsc_conduit_connect(&domid, f->d[2], names[i], "server", "p"));
	assert_int_equal(vsc_conduit_accept_loop(f->d[1], "server", 0, 200, collect, &one), 1);
	struct collected any = {.n = 0};
	assert_int_equal(vsc_conduit_accept_loop(f->d[1], "server", 1, 200, collect, &any), 1);
	assert_vs_err(VS_EPERM, vsc_conduit_accept_loop(f->d[1], "server", 0, 200, refuse, NULL));
	assert_vs_err(VS_EINVAL, vsc_conduit_accept_loop(f->d[1], "server", 0, -1, collect, &any));
}

static void test_vchan_keys_reach_the_client_and_nobody_else(void **state)
{
	struct fixture *f = *state;
	const struct vsc_vchan_keys keys = {.ring_ref = 17, .event_channel = 42};
	struct vsc_vchan_keys got;
	struct vs_strarray perms = {0};
	struct vs_buf b = VS_BUF_INIT;
	const char *dir = "/local/domain/1/data/vchan/2/ch0";

	assert_vs_ok(vsc_vchan_server_publish(f->d[1], 1, 2, "ch0", &keys));
	char path[128];
	snprintf(path, sizeof(path), "%s/ring-ref", dir);
	assert_vs_ok(vsc_get_perms(&perms, f->dom0, VSC_TXN_NONE, path));
	assert_int_equal(perms.count, 2);
	assert_string_equal(perms.strings[0], "n1");
	assert_string_equal(perms.strings[1], "r2");
	vs_strarray_dispose(&perms);
	assert_vs_ok(vsc_vchan_client_wait(&got, f->d[2], 1, 2, "ch0", WAIT_MS));
	assert_int_equal(got.ring_ref, 17);
	assert_int_equal(got.event_channel, 42);
	/* A third domain cannot read them. */
	assert_vs_err(VS_EACCES, vsc_read(&b, f->d[3], VSC_TXN_NONE, path));
	assert_vs_err(VS_ETIMEDOUT, vsc_vchan_client_wait(&got, f->d[3], 1, 2, "ch0", 100));
	/* Nothing published on another port: a bounded wait. */
	assert_vs_err(VS_ETIMEDOUT, vsc_vchan_client_wait(&got, f->d[2], 1, 2, "ch1", 100));
	assert_message_has("within 100 ms");

	/* Teardown removes the port, then the client's directory when empty. */
	assert_vs_ok(vsc_vchan_server_publish(f->d[1], 1, 2, "ch1", &keys));
	assert_vs_ok(vsc_vchan_teardown(f->d[1], 1, 2, "ch0"));
	assert_false(exists(f->dom0, dir));
	assert_true(exists(f->dom0, "/local/domain/1/data/vchan/2"));
	assert_vs_ok(vsc_vchan_teardown(f->d[1], 1, 2, "ch1"));
	assert_false(exists(f->dom0, "/local/domain/1/data/vchan/2"));
	assert_vs_err(VS_ENOENT, vsc_vchan_teardown(f->d[1], 1, 2, "ch0"));
	vs_buf_release(&b);
}

struct late_publish {
	const char *uri;
	int err;
};

static void *late_publish_main(void *arg)
{
	struct late_publish *l = arg;
	const struct vsc_vchan_keys keys = {.ring_ref = 5, .event_channel = 6};
	struct vsc_client *c = NULL;
	sleep_ms(150);
	l->err = vsc_client_open(&c, l->uri);
	if (l->err >= 0)
		l->err = vsc_vchan_server_publish(c, 1, 2, "late", &keys);
	vsc_client_close(c);
	return NULL;
}

static void test_vchan_client_waits_for_a_late_server(void **state)
{
	struct fixture *f = *state;
	struct late_publish l = {f->uri[1], 1};
	struct vsc_vchan_keys got;
	pthread_t th;

	assert_int_equal(pthread_create(&th, NULL, late_publish_main, &l), 0);
	double t0 = now_ms();
	int err = vsc_vchan_client_wait(&got, f->d[2], 1, 2, "late", WAIT_MS);
	double waited = now_ms() - t0;
	pthread_join(th, NULL);
	assert_vs_ok(l.err);
	assert_vs_ok(err);
	assert_int_equal(got.ring_ref, 5);
	assert_int_equal(got.event_channel, 6);
	assert_true(waited >= 100 && waited < WAIT_MS / 2);
}

static void test_self_domid_comes_from_the_toolstack_key(void **state)
{
	struct fixture *f = *state;
	unsigned int domid = 99;

	assert_vs_ok(vsc_write(f->dom0, VSC_TXN_NONE, "/local/domain/1/domid", "1", 1));
	assert_vs_ok(vsc_conduit_self_domid(&domid, f->d[1]));
	assert_int_equal(domid, 1);
	assert_vs_err(VS_ENOENT, vsc_conduit_self_domid(&domid, f->d[2]));
	assert_message_has("pass the domain id");
}

static void test_bad_names_and_ports_are_rejected(void **state)
{
	struct fixture *f = *state;
	char longname[VSC_CONDUIT_NAME_MAX + 2];
	const struct vsc_vchan_keys keys = {1, 2};
	unsigned int domid;

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	init_and_register(f);
	assert_vs_err(VS_EINVAL, vsc_conduit_register(f->d[1], "a/b", 1));
	assert_message_has("has '/'");
	assert_vs_err(VS_EINVAL, vsc_conduit_register(f->d[1], "", 1));
	assert_vs_err(VS_EINVAL, vsc_conduit_register(f->d[1], longname, 1));
	assert_vs_err(VS_EINVAL, vsc_conduit_register(f->d[1], "a.b", 1));
	assert_vs_err(VS_EINVAL, vsc_conduit_connect(&domid, f->d[2], "client", "server", "x y"));
	assert_vs_err(VS_EINVAL, vsc_vchan_server_publish(f->d[1], 1, 2, "../up", &keys));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_without_conduit_every_call_says_to_run_init),
	    T(test_init_makes_conduit_open_to_all_and_resets_it),
	    T(test_connect_then_accept_exchanges_domain_and_port),
	    T(test_accept_wakes_up_when_a_connector_arrives),
	    T(test_missing_peer_or_unregistered_connector_is_named),
	    T(test_requests_from_unregistered_connectors_are_dropped),
	    T(test_accept_loop_takes_each_request_and_ends_when_quiet),
	    T(test_vchan_keys_reach_the_client_and_nobody_else),
	    T(test_vchan_client_waits_for_a_late_server),
	    T(test_self_domid_comes_from_the_toolstack_key),
	    T(test_bad_names_and_ports_are_rejected),
	};
#undef T
	return cmocka_run_group_tests_name("conduit", tests, NULL, NULL);
}
