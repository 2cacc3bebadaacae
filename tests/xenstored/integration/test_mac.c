/* SPDX-License-Identifier: MIT */
/*
 * Mandatory access control end to end, as a user would try it: the real
 * daemon with --policy (the shipped mac/policies/xen-host.policy unless a
 * test edits a copy), guests and a driver domain on their per-domain
 * sockets, dom0 on the privileged one. Denials must be EACCES with one
 * audit line in the daemon's log; permissive mode allows and says so; a
 * device handshake works; watches never name a node the watcher may not
 * read; reloads (SIGHUP, CONTROL) switch atomically or not at all; labels
 * are stored with the nodes, so they are in the history and survive a
 * restart. Every wait is bounded.
 */
#include "vst.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <vstore/vstore.h>

#include "daemon_harness.h"
#include "xsfixture.h"

#define QUIET_MS 300
#define EVENT_MS 3000
#define LOG_MS 5000

static const char *policy_file(void)
{
	const char *p = getenv("MAC_TEST_POLICY");
	if (!p)
		fail_msg("MAC_TEST_POLICY is not set (meson sets it)");
	return p;
}

/* Each test: a daemon (started by the test) and a directory for policies and audit files. */
struct fx {
	struct xsf *f;
	char *tmp;
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	if (!x)
		return -1;
	x->tmp = vst_tmpdir("mac");
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	int err = xsf_stop(x->f);
	vst_rmrf(x->tmp);
	free(x->tmp);
	free(x);
	return err;
}

/* A daemon enforcing @p policy, plus the NULL-terminated @p more arguments. */
static struct xsf *start_with(struct fx *x, const char *policy, const char *const *more)
{
	const char *args[14] = {"--policy", policy};
	size_t n = 2;
	for (size_t i = 0; more && more[i] && n < 13; i++)
		args[n++] = more[i];
	args[n] = NULL;
	return x->f = xsf_start(args);
}

/* The whole file @p path (malloc'd), or NULL. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	struct vs_buf b = VS_BUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(vs_buf_put(&b, chunk, n), 0);
	fclose(f);
	assert_int_equal(vs_buf_putc(&b, '\0'), 0);
	return vs_buf_detach(&b);
}

/* Whether @p needle shows up in file @p path within @p timeout_ms. */
static bool file_has(const char *path, const char *needle, int timeout_ms)
{
	uint64_t end = xst_now_ms() + (uint64_t)timeout_ms;
	do {
		char *text = slurp(path);
		bool found = text && strstr(text, needle);
		free(text);
		if (found)
			return true;
		usleep(20 * 1000);
	} while (xst_now_ms() < end);
	return false;
}

/* How many times @p needle occurs in file @p path. */
static size_t file_count(const char *path, const char *needle)
{
	char *text = slurp(path);
	size_t n = 0;
	for (const char *p = text; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	free(text);
	return n;
}

/* A CONTROL command (words separated by spaces) on the dom0 socket: the reply text, malloc'd. */
static char *control(struct xsf *f, const char *words, int *err)
{
	struct xst_conn *c = xsf_raw(f);
	struct xst_msg *m = calloc(1, sizeof(*m));
	char buf[512];
	size_t len = (size_t)snprintf(buf, sizeof(buf), "%s", words) + 1;
	assert_non_null(m);
	for (size_t i = 0; i < len; i++)
		if (buf[i] == ' ')
			buf[i] = '\0';
	*err = xst_request(c, XSD_CONTROL, 0, buf, len, m);
	xst_close(c);
	char *text = strdup(m->body);
	free(m);
	return text;
}

/* A CONTROL command that must succeed; its reply must contain @p want. */
static void control_ok(struct xsf *f, const char *words, const char *want)
{
	int err;
	char *text = control(f, words, &err);
	if (err || !strstr(text, want))
		fail_msg("control '%s': error %d, reply '%s', expected '%s'", words, err, text,
			 want);
	free(text);
}

/* A value read as domain @p h: the value, or NULL with errno. */
static bool reads_as(struct xs_handle *h, const char *path, const char *want)
{
	char *v = xsf_read(h, path);
	bool ok = v && !strcmp(v, want);
	if (!ok)
		print_message("read %s: %s (errno %d)\n", path, v ? v : "(none)", v ? 0 : errno);
	free(v);
	return ok;
}

static bool denied_read(struct xs_handle *h, const char *path)
{
	char *v = xsf_read(h, path);
	int e = errno;
	free(v);
	return !v && e == EACCES;
}

/* Guest 1 writes its node and grants guest 2 read and write (DAC): the scenario. */
static void grant_scenario(struct xsf *f, struct xs_handle **g1, struct xs_handle **g2)
{
	xsf_make_home(f, 1);
	xsf_make_home(f, 2);
	assert_non_null(*g1 = xsf_open_domain(f, 1));
	assert_non_null(*g2 = xsf_open_domain(f, 2));
	assert_true(xsf_write(*g1, "/local/domain/1/data/x", "secret"));
	assert_true(xsf_set_perms(*g1, "/local/domain/1/data/x", "n1", "b2", NULL));
}

static void test_an_owners_grant_does_not_open_a_guests_home(void **state)
{
	struct fx *x = *state;
	char audit[4096];
	snprintf(audit, sizeof(audit), "%s/audit.log", x->tmp);
	const char *const more[] = {"--audit-file", audit, NULL};
	struct xsf *f = start_with(x, policy_file(), more);
	struct xs_handle *g1, *g2;
	grant_scenario(f, &g1, &g2);

	assert_true(reads_as(g1, "/local/domain/1/data/x", "secret"));
	assert_true(denied_read(g2, "/local/domain/1/data/x"));
	assert_false(xsf_write(g2, "/local/domain/1/data/x", "stolen"));
	assert_int_equal(errno, EACCES);
	assert_true(reads_as(f->h, "/local/domain/1/data/x", "secret"));
	assert_true(file_has(f->d->log,
			     "mac: verdict=denied op=read domid=2 slabel=guest_t "
			     "path=/local/domain/1/data/x tlabel=home_t:1 mode=enforcing",
			     LOG_MS));
	assert_true(file_has(f->d->log, "mac: verdict=denied op=write domid=2", LOG_MS));
	/* Nothing else was denied: dom0 and the owner were never refused. */
	assert_int_equal(file_count(f->d->log, "verdict=denied"), 2);
	/* The audit file has the same lines, without the log's prefix. */
	assert_true(file_has(audit, "mac: verdict=denied op=read domid=2 slabel=guest_t", LOG_MS));
	assert_int_equal(file_count(audit, "verdict=denied"), 2);
	xs_close(g1);
	xs_close(g2);
}

static void test_permissive_mode_allows_and_says_so(void **state)
{
	const char *const more[] = {"--mac", "permissive", NULL};
	struct xsf *f = start_with(*state, policy_file(), more);
	struct xs_handle *g1, *g2;
	grant_scenario(f, &g1, &g2);

	assert_true(reads_as(g2, "/local/domain/1/data/x", "secret"));
	assert_true(file_has(f->d->log,
			     "mac: verdict=denied op=read domid=2 slabel=guest_t "
			     "path=/local/domain/1/data/x tlabel=home_t:1 mode=permissive",
			     LOG_MS));
	/* Switched to enforcing by CONTROL: the same read is refused at once. */
	control_ok(f, "mac mode enforcing", "OK: enforcing");
	assert_true(denied_read(g2, "/local/domain/1/data/x"));
	assert_true(file_has(f->d->log, "tlabel=home_t:1 mode=enforcing", LOG_MS));
	xs_close(g1);
	xs_close(g2);
}

/* What the toolstack sets up for vif 0 of guest @fe served by driver domain @be. */
static void make_vif(struct xsf *f, unsigned int be, unsigned int fe, bool backend_dir)
{
	char fdir[128], bdir[128], path[192], val[128], owner[8], reader[8];
	snprintf(fdir, sizeof(fdir), "/local/domain/%u/device/vif/0", fe);
	snprintf(bdir, sizeof(bdir), "/local/domain/%u/backend/vif/%u/0", be, fe);
	snprintf(owner, sizeof(owner), "n%u", fe);
	snprintf(reader, sizeof(reader), "r%u", be);
	assert_true(xs_mkdir(f->h, XBT_NULL, fdir));
	assert_true(xsf_set_perms(f->h, fdir, owner, reader, NULL));
	snprintf(path, sizeof(path), "%s/backend-id", fdir);
	snprintf(val, sizeof(val), "%u", be);
	assert_true(xsf_write(f->h, path, val));
	snprintf(path, sizeof(path), "%s/backend", fdir);
	assert_true(xsf_write(f->h, path, bdir));
	snprintf(path, sizeof(path), "%s/state", fdir);
	assert_true(xsf_write(f->h, path, "1"));
	if (!backend_dir)
		return;
	snprintf(owner, sizeof(owner), "n%u", be);
	snprintf(reader, sizeof(reader), "r%u", fe);
	assert_true(xs_mkdir(f->h, XBT_NULL, bdir));
	assert_true(xsf_set_perms(f->h, bdir, owner, reader, NULL));
	snprintf(path, sizeof(path), "%s/frontend-id", bdir);
	snprintf(val, sizeof(val), "%u", fe);
	assert_true(xsf_write(f->h, path, val));
	snprintf(path, sizeof(path), "%s/state", bdir);
	assert_true(xsf_write(f->h, path, "1"));
}

/* Driver domain 3 ("driver-net") and guest 5, homes made, vif 0 of 5 served by 3. */
static void driver_setup(struct xsf *f, struct xs_handle **drv, struct xs_handle **gst)
{
	xsf_make_home(f, 3);
	xsf_make_home(f, 5);
	assert_true(xsf_write(f->h, "/local/domain/3/name", "driver-net"));
	assert_true(xsf_write(f->h, "/local/domain/5/name", "guest-five"));
	control_ok(f, "mac label 3", "driver_t");
	control_ok(f, "mac label 5", "guest_t");
	make_vif(f, 3, 5, true);
	assert_non_null(*drv = xsf_open_domain(f, 3));
	assert_non_null(*gst = xsf_open_domain(f, 5));
}

#define FE_STATE "/local/domain/5/device/vif/0/state"
#define BE_STATE "/local/domain/3/backend/vif/5/0/state"

/* @h writes @value at @path; @peer, watching it, hears of it and reads it back. */
static void step(struct xs_handle *h, const char *path, const char *value, struct xs_handle *peer)
{
	assert_true(xsf_write(h, path, value));
	assert_true(xsf_expect_watch(peer, path, EVENT_MS));
	assert_true(reads_as(peer, path, value));
}

static void test_a_vif_handshake_between_guest_and_driver_domain_works(void **state)
{
	struct xsf *f = start_with(*state, policy_file(), NULL);
	struct xs_handle *drv, *gst;
	driver_setup(f, &drv, &gst);

	/* A node not created yet is judged by the label it will have: vif 1's frontend. */
	assert_true(xs_watch(drv, "/local/domain/5/device/vif/1/state", "fe1"));
	assert_true(xs_unwatch(drv, "/local/domain/5/device/vif/1/state", "fe1"));
	assert_false(xs_watch(drv, "/local/domain/5/data/later", "no"));
	assert_int_equal(errno, EACCES);
	xsf_drain_watches(drv, QUIET_MS);
	assert_true(xs_watch(drv, FE_STATE, "fe"));
	assert_true(xs_watch(gst, BE_STATE, "be"));
	assert_true(xsf_expect_watch(drv, FE_STATE, EVENT_MS)); /* the initial events */
	assert_true(xsf_expect_watch(gst, BE_STATE, EVENT_MS));
	assert_true(reads_as(drv, FE_STATE, "1"));
	assert_true(reads_as(gst, "/local/domain/5/device/vif/0/backend-id", "3"));
	step(drv, BE_STATE, "2", gst); /* InitWait */
	step(gst, FE_STATE, "3", drv); /* Initialised */
	step(drv, BE_STATE, "4", gst); /* Connected */
	step(gst, FE_STATE, "4", drv); /* Connected */
	/* The driver lists the frontend directory; the guest lists the backend's. */
	unsigned int n = 0;
	char **names = xs_directory(drv, XBT_NULL, "/local/domain/5/device/vif/0", &n);
	assert_non_null(names);
	assert_int_equal(n, 3);
	free(names);
	assert_int_equal(file_count(f->d->log, "verdict=denied"), 1); /* data/later */

	/* The driver reaches nothing else of the guest, DAC or not. */
	assert_true(xsf_set_perms(f->h, "/local/domain/5/data", "n5", "r3", NULL));
	assert_true(xsf_write(f->h, "/local/domain/5/data/secret", "s"));
	assert_true(denied_read(drv, "/local/domain/5/data/secret"));
	/* Guest 6 may read the frontend by DAC, never by the policy. */
	struct xs_handle *other = xsf_open_domain(f, 6);
	assert_non_null(other);
	assert_true(xsf_set_perms(f->h, FE_STATE, "n5", "r3", "r6", NULL));
	assert_true(denied_read(other, FE_STATE));
	/* A backend-id alone, without the toolstack's backend directory, pairs nothing. */
	xsf_make_home(f, 7);
	make_vif(f, 3, 7, false);
	assert_true(denied_read(drv, "/local/domain/7/device/vif/0/state"));
	xs_close(other);
	xs_close(drv);
	xs_close(gst);
}

static void test_watches_never_name_a_node_the_watcher_may_not_read(void **state)
{
	struct xsf *f = start_with(*state, policy_file(), NULL);
	struct xs_handle *drv, *gst;
	driver_setup(f, &drv, &gst);

	/* The driver watches its whole backend tree (its home: allowed). */
	assert_true(xs_watch(drv, "/local/domain/3/backend", "all"));
	xsf_drain_watches(drv, QUIET_MS);
	/* Backend nodes of guest 6, which it does not serve: DAC lets it read them. */
	assert_true(xsf_write(f->h, "/local/domain/3/backend/vif/6/0/state", "1"));
	assert_true(xsf_write(f->h, "/local/domain/3/backend/vif/6/0/mac", "00:16:3e"));
	assert_true(denied_read(drv, "/local/domain/3/backend/vif/6/0/state"));
	/* Then a change it may see: the first event it gets is that one. */
	assert_true(xsf_write(f->h, BE_STATE, "2"));
	char **ev = xsf_wait_watch(drv, EVENT_MS);
	assert_non_null(ev);
	assert_string_equal(ev[XS_WATCH_PATH], BE_STATE);
	free(ev);
	assert_true(xsf_no_watch(drv, QUIET_MS));
	/* Watch events are filtered quietly: no audit line for them. */
	assert_int_equal(file_count(f->d->log, "path=/local/domain/3/backend/vif/6/0/mac"), 0);

	/* A guest cannot watch another guest's home, nor the domain events. */
	assert_false(xs_watch(gst, "/local/domain/3", "peek"));
	assert_int_equal(errno, EACCES);
	assert_false(xs_watch(gst, "@releaseDomain", "rel"));
	assert_int_equal(errno, EACCES);
	assert_true(xs_watch(gst, "/local/domain/5", "home"));
	xsf_drain_watches(gst, QUIET_MS);
	assert_true(xsf_write(f->h, "/local/domain/3/data/y", "z"));
	assert_true(xsf_no_watch(gst, QUIET_MS));
	xs_close(drv);
	xs_close(gst);
}

static void test_an_explicit_label_beats_the_rules_until_release(void **state)
{
	struct xsf *f = start_with(*state, policy_file(), NULL);
	xsf_make_home(f, 5);
	xsf_make_home(f, 8);
	make_vif(f, 8, 5, true);
	struct xs_handle *d8 = xsf_open_domain(f, 8);
	assert_non_null(d8);
	assert_true(denied_read(d8, FE_STATE)); /* guest_t by default */
	control_ok(f, "mac label 8 driver_t", "OK: driver_t");
	assert_true(reads_as(d8, FE_STATE, "1"));
	int err;
	char *text = control(f, "mac label 8 no_such_t", &err);
	assert_int_equal(err, -EINVAL);
	free(text);
	xs_close(d8);
	assert_true(xs_release_domain(f->h, 8));
	control_ok(f, "mac label 8", "guest_t");
}

/* A copy of the shipped policy in the test's directory (malloc'd path). */
static char *policy_copy(struct fx *x, const char *name)
{
	char *path = NULL;
	assert_true(asprintf(&path, "%s/%s", x->tmp, name) > 0);
	assert_int_equal(vst_sh("cp '%s' '%s'", policy_file(), path), 0);
	return path;
}

/* The 1-based number of the line of file @p path where @p needle starts. */
static unsigned int line_of(const char *path, const char *needle)
{
	char *text = slurp(path);
	assert_non_null(text);
	char *at = strstr(text, needle);
	assert_non_null(at);
	unsigned int line = 1;
	for (const char *p = text; p < at; p++)
		line += *p == '\n';
	free(text);
	return line;
}

static void policy_edit(const char *path, const char *from, const char *to)
{
	char *text = slurp(path);
	assert_non_null(text);
	char *at = strstr(text, from);
	if (!at)
		fail_msg("'%s' is not in %s", from, path);
	FILE *out = fopen(path, "w");
	assert_non_null(out);
	fprintf(out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	assert_int_equal(fclose(out), 0);
	free(text);
}

#define DRIVER_FE "allow driver_t frontend_t { read list watch } if serves"

static void test_a_reload_that_tightens_takes_effect_on_the_next_request(void **state)
{
	char *policy = policy_copy(*state, "tight.policy");
	struct xsf *f = start_with(*state, policy, NULL);
	struct xs_handle *drv, *gst;
	driver_setup(f, &drv, &gst);
	assert_true(xs_watch(drv, FE_STATE, "fe"));
	assert_true(xs_unwatch(drv, FE_STATE, "fe"));

	/* SIGHUP: no more watching frontends. */
	policy_edit(policy, DRIVER_FE, "allow driver_t frontend_t { read list } if serves");
	assert_int_equal(kill(f->pid, SIGHUP), 0);
	assert_true(file_has(f->d->log, "mac: reload: OK", LOG_MS));
	assert_false(xs_watch(drv, FE_STATE, "fe"));
	assert_int_equal(errno, EACCES);
	assert_true(reads_as(drv, FE_STATE, "1"));

	/* CONTROL: no more reading them either. */
	policy_edit(policy, "{ read list } if serves", "list if serves");
	control_ok(f, "mac reload", "OK:");
	assert_true(denied_read(drv, FE_STATE));
	control_ok(f, "mac status", "reloads 2");
	xs_close(drv);
	xs_close(gst);
	free(policy);
}

static void test_an_invalid_reload_keeps_the_old_policy(void **state)
{
	char *policy = policy_copy(*state, "broken.policy");
	struct xsf *f = start_with(*state, policy, NULL);
	struct xs_handle *g1, *g2;
	grant_scenario(f, &g1, &g2);

	/*
	 * An edit that would open every home, with two errors: an unknown
	 * statement and a rule that breaks a neverallow. None of it may apply.
	 */
	policy_edit(policy, "domain default guest_t",
		    "domain default guest_t\npermit everything\n"
		    "allow guest_t home_t read\nallow guest_t root_t write");
	char want[256];
	unsigned int line = line_of(policy, "permit everything");
	int err;
	char *text = control(f, "mac reload", &err);
	assert_int_equal(err, 0);
	assert_non_null(strstr(text, "keeping the old policy"));
	snprintf(want, sizeof(want), "broken.policy:%u: unknown statement 'permit'", line);
	assert_non_null(strstr(text, want));
	snprintf(want, sizeof(want), "broken.policy:%u: ", line + 2);
	assert_non_null(strstr(text, want));
	free(text);
	assert_true(denied_read(g2, "/local/domain/1/data/x")); /* still enforced */
	assert_true(reads_as(g1, "/local/domain/1/data/x", "secret"));

	/* The same by SIGHUP: logged, nothing changes. */
	assert_int_equal(kill(f->pid, SIGHUP), 0);
	snprintf(want, sizeof(want), "broken.policy:%u: unknown statement", line);
	assert_true(file_has(f->d->log, want, LOG_MS));
	assert_true(denied_read(g2, "/local/domain/1/data/x"));
	/* A file that is not there either. */
	text = control(f, "mac reload /nonexistent/x.policy", &err);
	assert_int_equal(err, 0);
	assert_non_null(strstr(text, "keeping the old policy"));
	free(text);
	control_ok(f, "mac status", "reloads 0");
	xs_close(g1);
	xs_close(g2);
	free(policy);
}

/* The .meta blob of @p node in commit @p id of store @p uri (malloc'd text). */
static char *meta_at(struct vs_repo *repo, const struct vs_oid *id, const char *node)
{
	struct vs_buf b = VS_BUF_INIT;
	char path[256];
	snprintf(path, sizeof(path), "%s/.meta", node + 1);
	assert_vs_ok(vs_read_at(&b, repo, id, path));
	assert_vs_ok(vs_buf_putc(&b, '\0'));
	return vs_buf_detach(&b);
}

static void test_labels_are_versioned_and_survive_a_restart(void **state)
{
	struct fx *x = *state;
	const char *const args[] = {"--domains", "socket", "--policy", policy_file(), NULL};
	struct xsf *f = start_with(x, policy_file(), NULL);
	struct xs_handle *g1, *g2;
	grant_scenario(f, &g1, &g2);

	/* Relabelled by dom0: now guest 2's, no longer guest 1's. */
	control_ok(f, "mac relabel /local/domain/1/data/x home_t:2", "OK");
	assert_true(reads_as(g2, "/local/domain/1/data/x", "secret"));
	assert_true(denied_read(g1, "/local/domain/1/data/x"));
	assert_true(file_has(f->d->log,
			     "op=read domid=1 slabel=guest_t path=/local/domain/1/data/x "
			     "tlabel=home_t:2",
			     LOG_MS));
	int err;
	char *text = control(f, "mac relabel /local/domain/1/data/x nonsense_t", &err);
	assert_int_equal(err, -EINVAL);
	free(text);
	text = control(f, "mac relabel /local/domain/1/data/none home_t:1", &err);
	assert_int_equal(err, -ENOENT);
	free(text);
	xs_close(g1);
	xs_close(g2);
	xs_close(f->h);
	f->h = NULL;
	assert_int_equal(xsd_harness_stop(f->d), 0);

	/* The history: the relabel is a commit of its own, the label before it in its parent. */
	struct vs_repo_opts o = {.version = VS_REPO_OPTS_VERSION,
				 .flags = VS_REPO_READONLY | VS_REPO_NOCREATE};
	struct vs_repo *repo;
	struct vs_commit *c;
	struct vs_oid head;
	assert_vs_ok(vs_repo_open(&repo, f->d->store, &o));
	assert_vs_ok(vs_branch_head(&head, repo, "main"));
	assert_vs_ok(vs_commit_lookup(&c, repo, &head));
	assert_non_null(strstr(vs_commit_message(c), "Xs-Op: CONTROL"));
	char *meta = meta_at(repo, &head, "/local/domain/1/data/x");
	assert_non_null(strstr(meta, "label home_t:2\n"));
	free(meta);
	meta = meta_at(repo, vs_commit_parent_id(c, 0), "/local/domain/1/data/x");
	assert_non_null(strstr(meta, "label home_t:1\n"));
	free(meta);
	meta = meta_at(repo, &head, "/local/domain/1/data");
	assert_non_null(strstr(meta, "label home_t:1\n"));
	free(meta);
	vs_commit_free(c);
	vs_repo_close(repo);

	/* Restarted on the same store: the stored label still decides. */
	if (xsd_harness_start(f->d, args) < 0)
		fail_msg("the daemon did not start again");
	f->pid = f->d->pid;
	assert_non_null(f->h = xsf_open_path(f->sock));
	assert_non_null(g1 = xsf_open_domain(f, 1));
	assert_non_null(g2 = xsf_open_domain(f, 2));
	assert_true(reads_as(g2, "/local/domain/1/data/x", "secret"));
	assert_true(denied_read(g1, "/local/domain/1/data/x"));
	xs_close(g1);
	xs_close(g2);
}

static void test_domain_names_are_remembered_across_a_restart(void **state)
{
	struct fx *x = *state;
	const char *const args[] = {"--domains", "socket", "--policy", policy_file(), NULL};
	struct xsf *f = start_with(x, policy_file(), NULL);
	xsf_make_home(f, 3);
	assert_true(xsf_write(f->h, "/local/domain/3/name", "driver-blk"));
	control_ok(f, "mac label 3", "driver_t");
	xs_close(f->h);
	f->h = NULL;
	assert_int_equal(xsd_harness_stop(f->d), 0);
	if (xsd_harness_start(f->d, args) < 0)
		fail_msg("the daemon did not start again");
	f->pid = f->d->pid;
	assert_non_null(f->h = xsf_open_path(f->sock));
	control_ok(f, "mac label 3", "driver_t");
	/* Renamed, then its name removed, by dom0. */
	assert_true(xsf_write(f->h, "/local/domain/3/name", "plain"));
	control_ok(f, "mac label 3", "guest_t");
	assert_true(xsf_write(f->h, "/local/domain/3/name", "driver-net"));
	control_ok(f, "mac label 3", "driver_t");
	assert_true(xs_rm(f->h, XBT_NULL, "/local/domain/3/name"));
	control_ok(f, "mac label 3", "guest_t");
}

/* The checker's output on every golden file of tests/mac/data, and on the shipped policy. */
static void test_check_policy_prints_every_error_with_its_line(void **state)
{
	struct fx *x = *state;
	const char *data = getenv("MAC_TEST_DATA");
	const char *exe = xsd_harness_exe();
	assert_non_null(data);
	assert_non_null(exe);
	static const char *const names[] = {"syntax", "labels",	    "domains",
					    "paths",  "neverallow", "bytes"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char out[4096], golden[4096];
		snprintf(out, sizeof(out), "%s/%s.out", x->tmp, names[i]);
		snprintf(golden, sizeof(golden), "%s/%s.errors", data, names[i]);
		assert_int_equal(vst_sh("cd '%s' && '%s' --check-policy %s.policy > '%s'", data,
					exe, names[i], out),
				 1);
		char *got = slurp(out), *want = slurp(golden);
		assert_non_null(got);
		assert_non_null(want);
		assert_string_equal(got, want);
		free(got);
		free(want);
	}
	char *ok = vst_sh_out("'%s' --check-policy '%s'", exe, policy_file());
	assert_non_null(ok);
	assert_non_null(strstr(ok, ": OK\n"));
	free(ok);
	assert_int_equal(vst_sh("'%s' --check-policy /nonexistent.policy > /dev/null", exe), 1);
}

static void test_the_daemon_refuses_to_start_with_an_invalid_policy(void **state)
{
	struct fx *x = *state;
	struct xsd_harness *h = xsd_harness_new("macbad");
	char bad[4096];
	assert_non_null(h);
	snprintf(bad, sizeof(bad), "%s/bad.policy", x->tmp);
	assert_int_equal(vst_sh("printf 'label a\\nallow a b read\\n' > '%s'", bad), 0);
	const char *const args[] = {"-N",     "--run-dir", h->run_dir, "--store",
				    h->store, "--policy",  bad,	       NULL};
	assert_int_equal(xsd_harness_run(h, args, 10000), 1);
	assert_true(file_has(h->log, "bad.policy:2: ", 0));
	assert_true(file_has(h->log, "has 1 error(s); not starting", 0));
	assert_false(xsd_harness_wait_socket(h->sock, 0));
	/* --mac needs a policy: a usage error. */
	const char *const usage[] = {"-N", "--run-dir", h->run_dir, "--mac", "permissive", NULL};
	assert_int_equal(xsd_harness_run(h, usage, 10000), 2);
	xsd_harness_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_an_owners_grant_does_not_open_a_guests_home, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_permissive_mode_allows_and_says_so, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_a_vif_handshake_between_guest_and_driver_domain_works, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_watches_never_name_a_node_the_watcher_may_not_read,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_an_explicit_label_beats_the_rules_until_release,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_a_reload_that_tightens_takes_effect_on_the_next_request, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_an_invalid_reload_keeps_the_old_policy, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_labels_are_versioned_and_survive_a_restart, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_domain_names_are_remembered_across_a_restart,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check_policy_prints_every_error_with_its_line,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_the_daemon_refuses_to_start_with_an_invalid_policy,
					    setup, teardown),
	};
	xsf_filter_from_env();
	return cmocka_run_group_tests_name("xsd.mac", tests, NULL, NULL);
}
