/* SPDX-License-Identifier: MIT */
/*
 * Conduit rendezvous and the vchan key exchange (conduit.h), written only
 * against the public client API. Every wait goes through vsc_wait(), so it
 * watches exactly the nodes its condition read and ends at the caller's
 * deadline. Condition callbacks only read; the writes they decide on
 * (removing a taken or stale request) happen after vsc_wait() returns.
 */
#include "vsclient/conduit.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Longest path built here: /conduit/<name>/<name>/<name>, or a vchan key. */
#define PATH_LEN 512
#define DOMID_MAX 65535u

/* Names and ports: Xenstore's path characters, less '/' and '@'. */
static bool name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-';
}

static int check_name(const char *what, const char *s)
{
	if (!s || !*s)
		return vs_error_set(VS_EINVAL, "conduit: empty %s", what);
	size_t n = strlen(s);
	if (n > VSC_CONDUIT_NAME_MAX)
		return vs_error_set(VS_EINVAL, "conduit: %s \"%.20s...\" is longer than %d bytes",
				    what, s, VSC_CONDUIT_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!name_char(ch))
			return vs_error_set(VS_EINVAL,
					    "conduit: %s \"%s\" has '%c'; use [A-Za-z0-9_-]", what,
					    s, ch);
	}
	return 0;
}

static bool name_ok(const char *s)
{
	if (!s || !*s || strlen(s) > VSC_CONDUIT_NAME_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if (!name_char(*p))
			return false;
	return true;
}

/* A decimal in [0, max]: no sign, no blanks, no trailing bytes. */
static bool parse_u32(uint32_t *out, const char *s, unsigned long max)
{
	if (!s || *s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || errno == ERANGE || v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What is left of @p timeout_ms started at @p start (-1 stays -1, never below 0). */
static int remaining_ms(int64_t start, int timeout_ms)
{
	if (timeout_ms < 0)
		return -1;
	int64_t left = start + timeout_ms - now_ms();
	return left > 0 ? (int)left : 0;
}

/* Absent, or hidden: a missing node under an unreadable ancestor is EACCES. */
static bool gone(int err)
{
	return err == VS_ENOENT || err == VS_EACCES;
}

static int no_conduit(void)
{
	return vs_error_set(VS_ENOENT, "conduit: no /conduit node in Xenstore (or not readable): "
				       "run `vstore conduit init` in the control domain first");
}

/*
 * Turn a VS_ENOENT met below /conduit into the precise complaint: no
 * registry at all (run the init command), or what @p fmt says.
 */
__attribute__((format(printf, 2, 3))) static int conduit_enoent(struct vsc_client *c,
								const char *fmt, ...)
{
	struct vs_buf b = VS_BUF_INIT;
	int err = vsc_read(&b, c, VSC_TXN_NONE, "/conduit");
	vs_buf_release(&b);
	if (gone(err))
		return no_conduit();
	char msg[PATH_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return vs_error_set(VS_ENOENT, "%s", msg);
}

/* Read @p path as a domain id. */
static int read_domid(unsigned int *out, struct vsc_client *c, vsc_txn_t t, const char *path)
{
	struct vs_buf b = VS_BUF_INIT;
	uint32_t v = 0;
	int err = vsc_read(&b, c, t, path);
	if (err >= 0 && !parse_u32(&v, b.ptr ? b.ptr : "", DOMID_MAX))
		err = vs_error_set(VS_ECORRUPT, "conduit: %s is \"%.32s\", not a domain id", path,
				   b.ptr ? b.ptr : "");
	vs_buf_release(&b);
	*out = v;
	return err;
}

static int init_txn(struct vsc_client *c, vsc_txn_t t, void *payload)
{
	static const char *const perms[] = {"b0"};
	int err = vsc_rm(c, t, "/conduit");
	if (err < 0 && err != VS_ENOENT)
		return err;
	if ((err = vsc_write(c, t, "/conduit", "", 0)) < 0)
		return err;
	return vsc_set_perms(c, t, "/conduit", perms, 1);
}

int vsc_conduit_init(struct vsc_client *c)
{
	if (!c)
		return vs_error_set(VS_EINVAL, "conduit: no client");
	return vsc_transaction_run(c, init_txn, NULL, NULL);
}

int vsc_conduit_self_domid(unsigned int *out, struct vsc_client *c)
{
	if (!out || !c)
		return vs_error_set(VS_EINVAL, "conduit: no client or output");
	*out = 0;
	int err = read_domid(out, c, VSC_TXN_NONE, "domid");
	if (err == VS_ENOENT)
		return vs_error_set(VS_ENOENT, "conduit: this domain has no \"domid\" key under "
					       "its home: pass the domain id explicitly");
	return err;
}

struct register_ctx {
	const char *path;
	char value[16];
};

static int register_txn(struct vsc_client *c, vsc_txn_t t, void *payload)
{
	struct register_ctx *r = payload;
	struct vs_buf b = VS_BUF_INIT;
	int err = vsc_read(&b, c, t, "/conduit");
	vs_buf_release(&b);
	if (gone(err))
		return no_conduit();
	if (err < 0)
		return err;
	return vsc_write(c, t, r->path, r->value, strlen(r->value));
}

int vsc_conduit_register(struct vsc_client *c, const char *name, unsigned int domid)
{
	char path[PATH_LEN];
	struct register_ctx r = {path, ""};
	int err;

	if (!c)
		return vs_error_set(VS_EINVAL, "conduit: no client");
	if ((err = check_name("name", name)) < 0)
		return err;
	if (domid > DOMID_MAX)
		return vs_error_set(VS_EINVAL, "conduit: domain id %u is out of range", domid);
	snprintf(path, sizeof(path), "/conduit/%s", name);
	snprintf(r.value, sizeof(r.value), "%u", domid);
	return vsc_transaction_run(c, register_txn, &r, NULL);
}

int vsc_conduit_unregister(struct vsc_client *c, const char *name)
{
	char path[PATH_LEN];
	struct vs_buf b = VS_BUF_INIT;
	int err;

	if (!c)
		return vs_error_set(VS_EINVAL, "conduit: no client");
	if ((err = check_name("name", name)) < 0)
		return err;
	snprintf(path, sizeof(path), "/conduit/%s", name);
	/* RM of a missing child succeeds in Xenstore, so look first. */
	err = vsc_read(&b, c, VSC_TXN_NONE, path);
	vs_buf_release(&b);
	if (gone(err))
		return conduit_enoent(c, "conduit: \"%s\" is not registered", name);
	if (err < 0)
		return err;
	return vsc_rm(c, VSC_TXN_NONE, path);
}

/* The accept condition's state: what it found, or the stale request to drop. */
struct accept_ctx {
	const char *name;
	struct vsc_conduit_peer *out;
	char stale[PATH_LEN]; /* a bad request to remove, "" for none */
};

static int accept_cond(struct vsc_client *c, void *payload)
{
	struct accept_ctx *a = payload;
	struct vs_strarray reqs = {0}, ports = {0};
	char path[PATH_LEN];
	int err;

	a->stale[0] = '\0';
	snprintf(path, sizeof(path), "/conduit/%s", a->name);
	if ((err = vsc_directory(&reqs, c, VSC_TXN_NONE, path)) < 0) {
		if (gone(err))
			err = conduit_enoent(c,
					     "conduit: listener \"%s\" is not registered "
					     "(call vsc_conduit_register first)",
					     a->name);
		goto out;
	}
	if (reqs.count == 0) {
		err = VSC_WAIT_AGAIN;
		goto out;
	}
	const char *who = reqs.strings[0];
	if (!name_ok(who)) {
		snprintf(a->stale, sizeof(a->stale), "%s", who);
		goto out; /* err == 0: the caller removes it */
	}
	snprintf(path, sizeof(path), "/conduit/%s/%s", a->name, who);
	err = vsc_directory(&ports, c, VSC_TXN_NONE, path);
	if (err == VS_ENOENT) { /* withdrawn meanwhile */
		err = VSC_WAIT_AGAIN;
		goto out;
	}
	if (err < 0)
		goto out;
	snprintf(path, sizeof(path), "/conduit/%s", who);
	if (ports.count > 0 && name_ok(ports.strings[0]))
		err = read_domid(&a->out->domid, c, VSC_TXN_NONE, path);
	if (ports.count == 0 || !name_ok(ports.strings[0]) || err == VS_ENOENT ||
	    err == VS_ECORRUPT) {
		/* No port, a bad one, or an unregistered connector: drop it. */
		snprintf(a->stale, sizeof(a->stale), "%s", who);
		err = 0;
		goto out;
	}
	if (err < 0)
		goto out;
	snprintf(a->out->name, sizeof(a->out->name), "%s", who);
	snprintf(a->out->port, sizeof(a->out->port), "%s", ports.strings[0]);
out:
	vs_strarray_dispose(&reqs);
	vs_strarray_dispose(&ports);
	return err;
}

int vsc_conduit_accept(struct vsc_conduit_peer *out, struct vsc_client *c, const char *name,
		       int timeout_ms)
{
	struct accept_ctx a = {.name = name, .out = out};
	char path[2 * PATH_LEN];
	int64_t start = now_ms();
	int err;

	if (!out || !c)
		return vs_error_set(VS_EINVAL, "conduit: no client or output");
	memset(out, 0, sizeof(*out));
	if ((err = check_name("listener name", name)) < 0)
		return err;
	for (;;) {
		err = vsc_wait(c, accept_cond, &a, remaining_ms(start, timeout_ms));
		if (err == VS_EAGAIN)
			return vs_error_set(
			    VS_ETIMEDOUT, "conduit: no connection request for \"%s\" within %d ms",
			    name, timeout_ms);
		if (err < 0)
			return err;
		const char *drop = a.stale[0] ? a.stale : out->name;
		snprintf(path, sizeof(path), "/conduit/%s/%s", name, drop);
		if ((err = vsc_rm(c, VSC_TXN_NONE, path)) < 0 && err != VS_ENOENT)
			return err;
		if (drop == out->name)
			return 0;
		memset(out, 0, sizeof(*out));
		if (timeout_ms >= 0 && remaining_ms(start, timeout_ms) == 0)
			return vs_error_set(VS_ETIMEDOUT,
					    "conduit: no valid connection request for \"%s\" "
					    "within %d ms",
					    name, timeout_ms);
	}
}

int vsc_conduit_accept_loop(struct vsc_client *c, const char *name, unsigned int max,
			    int idle_timeout_ms, vsc_conduit_accept_fn *cb, void *payload)
{
	if (!cb || idle_timeout_ms < 0)
		return vs_error_set(VS_EINVAL, "conduit: the accept loop needs a callback and "
					       "an idle timeout >= 0");
	int n = 0;
	while ((max == 0 || (unsigned int)n < max) && n < INT_MAX) {
		struct vsc_conduit_peer peer;
		int err = vsc_conduit_accept(&peer, c, name, idle_timeout_ms);
		if (err == VS_ETIMEDOUT) {
			vs_error_clear();
			break;
		}
		if (err < 0)
			return err;
		n++;
		if ((err = cb(&peer, payload)) < 0)
			return err;
		if (err > 0)
			break;
	}
	return n;
}

int vsc_conduit_connect(unsigned int *out, struct vsc_client *c, const char *self, const char *name,
			const char *port)
{
	char path[PATH_LEN];
	unsigned int peer = 0, me = 0;
	int err;

	if (!out || !c)
		return vs_error_set(VS_EINVAL, "conduit: no client or output");
	*out = 0;
	if ((err = check_name("connector name", self)) < 0 ||
	    (err = check_name("listener name", name)) < 0 || (err = check_name("port", port)) < 0)
		return err;
	snprintf(path, sizeof(path), "/conduit/%s", name);
	if (gone(err = read_domid(&peer, c, VSC_TXN_NONE, path)))
		return conduit_enoent(c,
				      "conduit: peer \"%s\" not found (no /conduit/<name>: "
				      "is the listener registered?)",
				      name);
	if (err < 0)
		return err;
	snprintf(path, sizeof(path), "/conduit/%s", self);
	if (gone(err = read_domid(&me, c, VSC_TXN_NONE, path)))
		return vs_error_set(VS_ENOENT,
				    "conduit: connector \"%s\" is not registered: the listener "
				    "could not find its domain (call vsc_conduit_register first)",
				    self);
	if (err < 0)
		return err;
	snprintf(path, sizeof(path), "/conduit/%s/%s/%s", name, self, port);
	if ((err = vsc_write(c, VSC_TXN_NONE, path, port, strlen(port))) < 0)
		return err;
	*out = peer;
	return 0;
}

/* <home of server>/data/vchan/<client>[/<port>] into @p out. */
static int vchan_dir(char *out, size_t size, struct vsc_client *c, unsigned int server,
		     unsigned int client, const char *port)
{
	struct vs_buf home = VS_BUF_INIT;
	int err;

	if (!c)
		return vs_error_set(VS_EINVAL, "vchan: no client");
	if (port && (err = check_name("vchan port", port)) < 0)
		return err;
	if ((err = vsc_get_domain_path(&home, c, server)) < 0)
		return err;
	int n = port ? snprintf(out, size, "%s/data/vchan/%u/%s", home.ptr, client, port)
		     : snprintf(out, size, "%s/data/vchan/%u", home.ptr, client);
	vs_buf_release(&home);
	if (n < 0 || (size_t)n >= size)
		return vs_error_set(VS_EINVAL, "vchan: the domain path is too long");
	return 0;
}

struct publish_ctx {
	const char *dir;
	const struct vsc_vchan_keys *keys;
	char owner[16], reader[16];
};

static int publish_txn(struct vsc_client *c, vsc_txn_t t, void *payload)
{
	struct publish_ctx *p = payload;
	const char *const perms[] = {p->owner, p->reader};
	const char *names[] = {"ring-ref", "event-channel"};
	uint32_t values[] = {p->keys->ring_ref, p->keys->event_channel};
	char path[PATH_LEN + 32], v[16];
	int err = 0;

	for (size_t i = 0; i < 2 && err >= 0; i++) {
		snprintf(path, sizeof(path), "%s/%s", p->dir, names[i]);
		snprintf(v, sizeof(v), "%u", values[i]);
		if ((err = vsc_write(c, t, path, v, strlen(v))) >= 0)
			err = vsc_set_perms(c, t, path, perms, 2);
	}
	return err;
}

int vsc_vchan_server_publish(struct vsc_client *c, unsigned int server_domid,
			     unsigned int client_domid, const char *port,
			     const struct vsc_vchan_keys *keys)
{
	char dir[PATH_LEN];
	struct publish_ctx p = {dir, keys, "", ""};
	int err;

	if (!keys)
		return vs_error_set(VS_EINVAL, "vchan: no keys to publish");
	if ((err = vchan_dir(dir, sizeof(dir), c, server_domid, client_domid, port)) < 0)
		return err;
	/* Owner the server, nobody else; the client may read. */
	snprintf(p.owner, sizeof(p.owner), "n%u", server_domid);
	snprintf(p.reader, sizeof(p.reader), "r%u", client_domid);
	return vsc_transaction_run(c, publish_txn, &p, NULL);
}

struct keys_ctx {
	const char *dir;
	struct vsc_vchan_keys *out;
	bool denied; /* the last miss was EACCES rather than ENOENT */
};

static int keys_cond(struct vsc_client *c, void *payload)
{
	struct keys_ctx *k = payload;
	const char *names[] = {"ring-ref", "event-channel"};
	uint32_t *dst[] = {&k->out->ring_ref, &k->out->event_channel};
	char path[PATH_LEN + 32];
	struct vs_buf b = VS_BUF_INIT;
	int err = 0;

	/*
	 * Read both every time, so both are watched while either is missing.
	 * A missing key below the server's unreadable home reads as EACCES
	 * (Xenstore hides what the ancestors do not show), so that is "not yet"
	 * too; the time-out message mentions it.
	 */
	bool missing = false;
	k->denied = false;
	for (size_t i = 0; i < 2 && err >= 0; i++) {
		snprintf(path, sizeof(path), "%s/%s", k->dir, names[i]);
		err = vsc_read(&b, c, VSC_TXN_NONE, path);
		if (err == VS_ENOENT || err == VS_EACCES) {
			k->denied |= err == VS_EACCES;
			missing = true;
			err = 0;
		} else if (err >= 0 && !parse_u32(dst[i], b.ptr ? b.ptr : "", UINT32_MAX)) {
			err = vs_error_set(VS_ECORRUPT, "vchan: %s is \"%.32s\", not a number",
					   path, b.ptr ? b.ptr : "");
		}
	}
	vs_buf_release(&b);
	return err < 0 ? err : missing ? VSC_WAIT_AGAIN : 0;
}

int vsc_vchan_client_wait(struct vsc_vchan_keys *out, struct vsc_client *c,
			  unsigned int server_domid, unsigned int client_domid, const char *port,
			  int timeout_ms)
{
	char dir[PATH_LEN];
	struct keys_ctx k = {dir, out, false};
	int err;

	if (!out)
		return vs_error_set(VS_EINVAL, "vchan: no output");
	memset(out, 0, sizeof(*out));
	if ((err = vchan_dir(dir, sizeof(dir), c, server_domid, client_domid, port)) < 0)
		return err;
	err = vsc_wait(c, keys_cond, &k, timeout_ms);
	if (err == VS_EAGAIN)
		return vs_error_set(VS_ETIMEDOUT,
				    "vchan: domain %u published no keys for domain %u port \"%s\" "
				    "within %d ms%s",
				    server_domid, client_domid, port, timeout_ms,
				    k.denied ? " (reads were denied: they are missing, or not "
					       "readable by this domain)"
					     : "");
	return err;
}

int vsc_vchan_teardown(struct vsc_client *c, unsigned int server_domid, unsigned int client_domid,
		       const char *port)
{
	char dir[PATH_LEN];
	struct vs_strarray left = {0};
	int err;

	if ((err = vchan_dir(dir, sizeof(dir), c, server_domid, client_domid, port)) < 0)
		return err;
	if ((err = vsc_directory(&left, c, VSC_TXN_NONE, dir)) == VS_ENOENT)
		return vs_error_set(VS_ENOENT, "vchan: no channel %s", dir);
	vs_strarray_dispose(&left);
	if (err < 0 || (err = vsc_rm(c, VSC_TXN_NONE, dir)) < 0)
		return err;
	/* The client's directory goes too once its last port is gone. */
	if ((err = vchan_dir(dir, sizeof(dir), c, server_domid, client_domid, NULL)) < 0)
		return err;
	err = vsc_directory(&left, c, VSC_TXN_NONE, dir);
	if (err >= 0 && left.count == 0)
		err = vsc_rm(c, VSC_TXN_NONE, dir);
	vs_strarray_dispose(&left);
	return err == VS_ENOENT ? 0 : err;
}
