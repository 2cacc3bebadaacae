/* SPDX-License-Identifier: MIT */
/*
 * "inproc:STORE-URI[?PARAM&...]": the store used as a library, with the
 * daemon's semantics because it runs the daemon's engine (xsd/engine.h).
 * PARAM: domid=N (act as unprivileged domain N), and the daemon's retention
 * settings keep-last=N, keep-newer-than=D, gc-every=N: a collection due is
 * carried out one step (about a millisecond) after each request.
 * Each client is one engine connection: privileged, or domain N. A request
 * is handed to the engine and flushed at once (so it is committed before it
 * is acknowledged, as in the daemon); what the engine sends to a connection
 * (replies, watch events) is appended to that connection's byte stream,
 * which recv() hands to the client, and an eventfd makes it pollable.
 *
 * Clients of one STORE-URI in a process share one store and one engine, as
 * clients of one daemon do: they see each other's changes and events. That
 * table of open engines is process-global (guarded by a mutex), and each
 * engine has a mutex guarding it, its repo and its connections' streams,
 * so clients in different threads may share a store.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <xsd/engine.h>

#include "client_int.h"
#include "xsd_int.h"

#define INPROC_BRANCH "main"
#define PRIV_DOMID 0u

struct inproc_transport;

/* One engine per STORE-URI in the process. */
struct inproc_engine {
	struct inproc_engine *next;
	char *uri;	      /* the STORE-URI, as given */
	unsigned int refs;    /* transports using it */
	pthread_mutex_t lock; /* the engine, the repo, every stream below */
	struct vs_repo *repo;
	struct xsd_engine *e;
	struct inproc_transport *ts; /* its transports (list) */
	struct xsd_retention retention; /* as the first client asked */
};

struct inproc_transport {
	struct vsc_transport base;
	struct inproc_engine *eng;
	struct inproc_transport *next; /* in eng->ts */
	struct xsd_conn *conn;	       /* NULL once closed */
	unsigned int domid;
	bool priv;
	int fd;		   /* eventfd: readable while out holds bytes */
	struct vs_buf out; /* messages for the client, in order */
	size_t out_off;	   /* bytes of out already taken */
	bool dead;	   /* the engine dropped the connection */
};

static pthread_mutex_t engines_lock = PTHREAD_MUTEX_INITIALIZER;
static struct inproc_engine *engines;

static struct inproc_transport *inproc_from(struct vsc_transport *t)
{
	assert(t->ops == &vsc__inproc_ops);
	return (struct inproc_transport *)t;
}

static void fd_signal(int fd, bool readable)
{
	uint64_t v = 1;
	ssize_t r = readable ? write(fd, &v, sizeof(v)) : read(fd, &v, sizeof(v));
	(void)r;
}

/* The engine's output to one connection; called with eng->lock held. */
static void inproc_deliver(void *payload, const struct xsd_msg_hdr *hdr, const void *body)
{
	struct inproc_transport *it = payload;
	bool was_empty = it->out.size == it->out_off;
	if (xsd_msg_build(&it->out, hdr, body, hdr->len) < 0) {
		it->dead = true; /* a lost message desynchronises the client: say so */
		fd_signal(it->fd, true);
		return;
	}
	if (was_empty)
		fd_signal(it->fd, true);
}

/* RELEASE or a dead domain: its connections close, as the daemon closes them. */
static void inproc_release(void *payload, unsigned int domid)
{
	struct inproc_engine *eng = payload;
	for (struct inproc_transport *it = eng->ts; it; it = it->next)
		if (!it->priv && it->domid == domid) {
			it->dead = true;
			fd_signal(it->fd, true);
		}
}

static void engine_unref(struct inproc_engine *eng)
{
	pthread_mutex_lock(&engines_lock);
	if (--eng->refs) {
		pthread_mutex_unlock(&engines_lock);
		return;
	}
	for (struct inproc_engine **pp = &engines; *pp; pp = &(*pp)->next)
		if (*pp == eng) {
			*pp = eng->next;
			break;
		}
	pthread_mutex_unlock(&engines_lock);
	xsd_engine_free(eng->e);
	vs_repo_close(eng->repo);
	pthread_mutex_destroy(&eng->lock);
	free(eng->uri);
	free(eng);
}

static bool same_retention(const struct xsd_retention *a, const struct xsd_retention *b)
{
	return a->keep_last == b->keep_last && a->keep_newer_than == b->keep_newer_than &&
	       a->every == b->every;
}

static int engine_open(struct inproc_engine **out, const char *uri,
		       const struct xsd_retention *retention)
{
	struct inproc_engine *eng;
	int err;

	pthread_mutex_lock(&engines_lock);
	for (eng = engines; eng; eng = eng->next)
		if (!strcmp(eng->uri, uri)) {
			bool same = same_retention(&eng->retention, retention);
			if (same)
				eng->refs++;
			pthread_mutex_unlock(&engines_lock);
			if (!same)
				return vs_error_set(VS_EINVAL,
						    "inproc: %s is open in this process with "
						    "other retention settings",
						    uri);
			*out = eng;
			return 0;
		}
	if (!(eng = calloc(1, sizeof(*eng))) || !(eng->uri = strdup(uri))) {
		free(eng);
		pthread_mutex_unlock(&engines_lock);
		return vs_error_set(VS_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&eng->lock, NULL);
	struct xsd_engine_opts o = {
	    .version = XSD_ENGINE_OPTS_VERSION,
	    .priv_domid = PRIV_DOMID,
	    .hooks = {.release = inproc_release, .payload = eng},
	    .retention = *retention,
	};
	eng->retention = *retention;
	xsd_quota_defaults(&o.quota);
	if ((err = vs_repo_open(&eng->repo, uri, NULL)) < 0 ||
	    (err = xsd_engine_new(&eng->e, eng->repo, &o)) < 0) {
		vs_repo_close(eng->repo);
		pthread_mutex_destroy(&eng->lock);
		free(eng->uri);
		free(eng);
		pthread_mutex_unlock(&engines_lock);
		return err;
	}
	eng->refs = 1;
	eng->next = engines;
	engines = eng;
	pthread_mutex_unlock(&engines_lock);
	*out = eng;
	return 0;
}

/* One "NAME=VALUE" of the address's query. */
static int parse_param(long *domid, struct xsd_retention *r, const char *param)
{
	char name[32];
	const char *eq = strchr(param, '=');

	if (!eq || eq == param || (size_t)(eq - param) >= sizeof(name))
		return vs_error_set(VS_EINVAL, "inproc: '%s' is not NAME=VALUE", param);
	memcpy(name, param, (size_t)(eq - param));
	name[eq - param] = '\0';
	if (strcmp(name, "domid")) {
		int err = xsd_retention_set(r, name, eq + 1);
		return err == VS_ENOENT ? vs_error_set(VS_EINVAL,
						      "inproc: unknown parameter %s (domid, "
						      "keep-last, keep-newer-than, gc-every)",
						      name)
					: err;
	}
	char *end;
	errno = 0;
	*domid = strtol(eq + 1, &end, 10);
	if (!eq[1] || *end || errno || *domid < 0 || *domid > XSD_DOMID_MAX)
		return vs_error_set(VS_EINVAL, "inproc: bad domid '%s'", eq + 1);
	return 0;
}

/* Split "STORE-URI[?NAME=VALUE&...]". */
static int parse_address(char **uri, long *domid, struct xsd_retention *r, const char *address)
{
	const char *q = strrchr(address, '?');
	size_t len = q ? (size_t)(q - address) : strlen(address);
	int err = 0;

	*domid = -1;
	*r = (struct xsd_retention){ 0 };
	if (!len)
		return vs_error_set(VS_EINVAL,
				    "inproc: no store URI (inproc:mem:, inproc:lmdb:DIR)");
	if (q) {
		char *params = strdup(q + 1), *save = NULL;
		if (!params)
			return vs_error_set(VS_ENOMEM, "out of memory");
		for (char *p = strtok_r(params, "&", &save); p && err >= 0;
		     p = strtok_r(NULL, "&", &save))
			err = parse_param(domid, r, p);
		free(params);
		if (err >= 0)
			err = xsd_retention_check(r);
		if (err < 0)
			return err;
	}
	if (!(*uri = strndup(address, len)))
		return vs_error_set(VS_ENOMEM, "out of memory");
	return 0;
}

static int inproc_connect(struct vsc_transport **out, const struct vsc_transport_ops *ops,
			  const char *address)
{
	struct inproc_transport *it;
	struct xsd_retention retention;
	char *uri = NULL;
	long domid;
	int err;

	*out = NULL;
	if ((err = parse_address(&uri, &domid, &retention, address)) < 0)
		return err;
	if (!(it = calloc(1, sizeof(*it)))) {
		free(uri);
		return vs_error_set(VS_ENOMEM, "out of memory");
	}
	it->base.ops = ops;
	it->priv = domid < 0 || domid == PRIV_DOMID;
	it->domid = domid < 0 ? PRIV_DOMID : (unsigned int)domid;
	if ((it->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		free(uri);
		free(it);
		return vs_error_set(VS_EIO, "eventfd: %s", strerror(errno));
	}
	err = engine_open(&it->eng, uri, &retention);
	free(uri);
	if (err < 0) {
		close(it->fd);
		free(it);
		return err;
	}
	pthread_mutex_lock(&it->eng->lock);
	err = xsd_conn_new(&it->conn, it->eng->e, it->domid, it->priv ? XSD_CONN_PRIV : 0,
			   inproc_deliver, it);
	if (err >= 0) {
		it->next = it->eng->ts;
		it->eng->ts = it;
	}
	pthread_mutex_unlock(&it->eng->lock);
	if (err < 0) {
		engine_unref(it->eng);
		close(it->fd);
		free(it);
		return err;
	}
	*out = &it->base;
	return 0;
}

static int inproc_send(struct vsc_transport *t, const struct iovec *iov, size_t n)
{
	struct inproc_transport *it = inproc_from(t);
	unsigned char msg[sizeof(struct xsd_msg_hdr) + XSD_PAYLOAD_MAX];
	struct xsd_msg_hdr hdr;
	size_t len = 0;
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		if (iov[i].iov_len > sizeof(msg) - len)
			return vs_error_set(VS_E2BIG, "inproc: message too long");
		if (iov[i].iov_len) /* an empty payload may have no buffer */
			memcpy(msg + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	if (len < sizeof(hdr))
		return vs_error_set(VS_EINVAL, "inproc: send takes whole messages");
	memcpy(&hdr, msg, sizeof(hdr));
	if (hdr.len != len - sizeof(hdr))
		return vs_error_set(VS_EINVAL, "inproc: send takes whole messages");
	pthread_mutex_lock(&it->eng->lock);
	if (it->dead || !it->conn) {
		err = vs_error_set(VS_EIO, "inproc: the connection was closed");
	} else if ((err = xsd_conn_request(it->conn, &hdr, msg + sizeof(hdr))) < 0) {
		it->dead = true;
		err = vs_error_set(VS_EIO, "inproc: the engine closed the connection (%s)",
				   vs_err_name(err));
	}
	/* Commit before acknowledging; a store failure is answered by the engine. */
	xsd_engine_flush(it->eng->e);
	/* No loop here: a collection due advances a step per request; a failed one
	 * ends, and the next starts after retention.every more commits. */
	(void)xsd_engine_gc_step(it->eng->e);
	pthread_mutex_unlock(&it->eng->lock);
	return err;
}

static long inproc_recv(struct vsc_transport *t, void *buf, size_t len)
{
	struct inproc_transport *it = inproc_from(t);
	long got;

	pthread_mutex_lock(&it->eng->lock);
	size_t avail = it->out.size - it->out_off;
	if (!avail) {
		pthread_mutex_unlock(&it->eng->lock);
		return it->dead ? vs_error_set(VS_EIO, "inproc: the connection was closed")
				: VS_EAGAIN;
	}
	got = (long)(avail < len ? avail : len);
	memcpy(buf, it->out.ptr + it->out_off, (size_t)got);
	it->out_off += (size_t)got;
	if (it->out_off == it->out.size) {
		vs_buf_clear(&it->out);
		it->out_off = 0;
		if (!it->dead)
			fd_signal(it->fd, false);
	}
	pthread_mutex_unlock(&it->eng->lock);
	return got;
}

static int inproc_fd(struct vsc_transport *t)
{
	return inproc_from(t)->fd;
}

static void inproc_close(struct vsc_transport *t)
{
	struct inproc_transport *it = inproc_from(t);
	if (!it->eng)
		return;
	pthread_mutex_lock(&it->eng->lock);
	xsd_conn_free(it->conn); /* aborts its transactions, drops its watches */
	it->conn = NULL;
	for (struct inproc_transport **pp = &it->eng->ts; *pp; pp = &(*pp)->next)
		if (*pp == it) {
			*pp = it->next;
			break;
		}
	xsd_engine_flush(it->eng->e);
	pthread_mutex_unlock(&it->eng->lock);
	engine_unref(it->eng);
	it->eng = NULL;
}

static void inproc_free(struct vsc_transport *t)
{
	if (!t)
		return;
	struct inproc_transport *it = inproc_from(t);
	inproc_close(t);
	vs_buf_release(&it->out);
	close(it->fd);
	free(it);
}

/* History straight from the store; like the daemon's CONTROL, privileged only. */
static int inproc_history_path(char *out, size_t n, struct inproc_transport *it, const char *path)
{
	if (!it->priv)
		return vs_error_set(VS_EACCES, "history is for the control domain");
	if (!it->eng)
		return vs_error_set(VS_EIO, "inproc: the connection was closed");
	return xsd_path_canonical(out, n, path, it->domid, 0, 0);
}

static int inproc_log(struct vsc_change **out, size_t *n, struct vsc_transport *t,
		      struct vsc_client *c, const char *path, size_t max)
{
	struct inproc_transport *it = inproc_from(t);
	char abs[XSD_PATH_BUF];
	int err;
	(void)c;

	if ((err = inproc_history_path(abs, sizeof(abs), it, path)) < 0)
		return err;
	pthread_mutex_lock(&it->eng->lock);
	err = vsc__log_repo(out, n, it->eng->repo, INPROC_BRANCH, abs, max);
	pthread_mutex_unlock(&it->eng->lock);
	return err;
}

static int inproc_read_at(struct vs_buf *out, struct vsc_transport *t, struct vsc_client *c,
			  const char *commit, const char *path)
{
	struct inproc_transport *it = inproc_from(t);
	char abs[XSD_PATH_BUF];
	int err;
	(void)c;

	if ((err = inproc_history_path(abs, sizeof(abs), it, path)) < 0)
		return err;
	pthread_mutex_lock(&it->eng->lock);
	err = vsc__read_at_repo(out, it->eng->repo, INPROC_BRANCH, commit, abs);
	pthread_mutex_unlock(&it->eng->lock);
	return err;
}

const struct vsc_transport_ops vsc__inproc_ops = {
    .version = VSC_TRANSPORT_OPS_VERSION,
    .scheme = "inproc",
    .connect = inproc_connect,
    .send = inproc_send,
    .recv = inproc_recv,
    .fd = inproc_fd,
    .log = inproc_log,
    .read_at = inproc_read_at,
    .close = inproc_close,
    .free = inproc_free,
};
