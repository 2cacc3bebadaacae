/* SPDX-License-Identifier: MIT */
/*
 * Unix socket transport. DIR/socket (mode 0600) is the privileged socket of
 * dom0 tools: each connection acts as the privileged domain with every check
 * passing, as in C xenstored. With --domains socket, INTRODUCE of domain N
 * creates DIR/domain/N (mode 0660: the daemon's user and group; chown or
 * bind-mount it to hand it to a container) where each connection acts as
 * unprivileged domain N. DIR/xenstored.lock, held with flock() for the life
 * of the daemon, keeps a second daemon off the same run directory.
 * The state is refcounted by its listeners and connections, so a libuv close
 * callback never outlives it.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define SOCK_BACKLOG 64
#define SOCK_MODE_PRIV 0600
#define SOCK_MODE_DOMAIN 0660
#define SOCK_READ_BUF (64u * 1024)
#define SOCK_IOV 16

struct sock_state;

/* One listening socket. */
struct sock_listener {
	uv_pipe_t pipe;
	struct sock_state *st;
	unsigned int domid; /* what its connections act as */
	unsigned int flags; /* XSD_CONN_PRIV for DIR/socket */
	char *path;
	struct sock_listener *next; /* in st->domains */
};

/* One accepted connection; conn.c's client points here through ->transport. */
struct sock_conn {
	uv_pipe_t pipe;
	struct sock_state *st;
	struct xsd_client *cl; /* NULL once conn.c closed the client */
	uv_write_t wreq;
	size_t wlen; /* bytes handed to uv_write */
	bool writing;
};

struct sock_state {
	struct xsd_daemon *d;
	unsigned int refs; /* self, listeners, connections */
	int lock_fd;
	struct sock_listener *priv;
	struct sock_listener *domains;
	/* Shared by all connections: a read callback consumes it whole. */
	char rbuf[SOCK_READ_BUF];
};

static const struct xsd_client_ops sock_client_ops;

static void sock_unref(struct sock_state *st)
{
	if (--st->refs == 0)
		free(st);
}

static void conn_closed(uv_handle_t *h)
{
	struct sock_conn *sc = xsd_container_of((uv_pipe_t *)h, struct sock_conn, pipe);
	struct sock_state *st = sc->st;

	free(sc);
	sock_unref(st);
}

static void conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct sock_conn *sc = xsd_container_of((uv_pipe_t *)h, struct sock_conn, pipe);

	*buf = uv_buf_init(sc->st->rbuf, sizeof(sc->st->rbuf));
}

static void conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct sock_conn *sc = xsd_container_of((uv_pipe_t *)s, struct sock_conn, pipe);

	if (n == 0 || !sc->cl)
		return;
	if (n < 0) {
		if (n != UV_EOF)
			xsd_log(sc->st->d, LOG_INFO, "domain %u: read: %s", sc->cl->domid,
				uv_strerror((int)n));
		uv_read_stop(s);
		xsd_client_close(sc->cl);
		return;
	}
	if (xsd_client_input(sc->cl, buf->base, (size_t)n) < 0) {
		uv_read_stop(s);
		xsd_client_close(sc->cl);
	}
}

static void conn_kick(struct xsd_client *cl);

static void conn_written(uv_write_t *req, int status)
{
	struct sock_conn *sc = xsd_container_of(req, struct sock_conn, wreq);

	sc->writing = false;
	if (!sc->cl)
		return; /* closed meanwhile: the bytes belonged to a freed queue */
	if (status < 0) {
		xsd_log(sc->st->d, LOG_INFO, "domain %u: write: %s", sc->cl->domid,
			uv_strerror(status));
		xsd_client_close(sc->cl);
		return;
	}
	xsd_client_out_consume(sc->cl, sc->wlen);
	conn_kick(sc->cl);
}

static size_t bufs_len(const uv_buf_t *bufs, size_t n)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		len += bufs[i].len;
	return len;
}

/* Write what is queued: uv_try_write while the socket takes it, uv_write for the rest. */
static void conn_kick(struct xsd_client *cl)
{
	struct sock_conn *sc = cl->transport;
	uv_stream_t *s = (uv_stream_t *)&sc->pipe;
	uv_buf_t bufs[SOCK_IOV];

	if (sc->writing || cl->closing)
		return;
	for (;;) {
		size_t nb = xsd_client_out_iov(cl, bufs, SOCK_IOV);
		if (!nb)
			return;
		size_t want = bufs_len(bufs, nb);
		int r = uv_try_write(s, bufs, (unsigned int)nb);
		if (r == UV_EAGAIN)
			r = 0;
		if (r < 0) {
			xsd_log(sc->st->d, LOG_INFO, "domain %u: write: %s", cl->domid,
				uv_strerror(r));
			xsd_client_close(cl);
			return;
		}
		if (r > 0)
			xsd_client_out_consume(cl, (size_t)r);
		if ((size_t)r == want)
			continue;
		/* The socket is full: queue the rest, finish in conn_written. */
		nb = xsd_client_out_iov(cl, bufs, SOCK_IOV);
		if (!nb)
			return;
		sc->wlen = bufs_len(bufs, nb);
		int err = uv_write(&sc->wreq, s, bufs, (unsigned int)nb, conn_written);
		if (err < 0) {
			xsd_log(sc->st->d, LOG_INFO, "domain %u: write: %s", cl->domid,
				uv_strerror(err));
			xsd_client_close(cl);
			return;
		}
		sc->writing = true;
		return;
	}
}

static void conn_pause(struct xsd_client *cl, bool paused)
{
	struct sock_conn *sc = cl->transport;

	if (paused)
		uv_read_stop((uv_stream_t *)&sc->pipe);
	else if (!cl->closing)
		uv_read_start((uv_stream_t *)&sc->pipe, conn_alloc, conn_read);
}

static void conn_close(struct xsd_client *cl)
{
	struct sock_conn *sc = cl->transport;
	uv_buf_t bufs[SOCK_IOV];

	/* Best effort: hand the peer what is still queued (its last replies). */
	if (!sc->writing) {
		size_t nb = xsd_client_out_iov(cl, bufs, SOCK_IOV);
		if (nb)
			(void)uv_try_write((uv_stream_t *)&sc->pipe, bufs, (unsigned int)nb);
	}
	sc->cl = NULL;
	uv_close((uv_handle_t *)&sc->pipe, conn_closed);
}

static const struct xsd_client_ops sock_client_ops = {
    .kick = conn_kick,
    .pause = conn_pause,
    .close = conn_close,
};

static void on_connection(uv_stream_t *server, int status)
{
	struct sock_listener *l = xsd_container_of((uv_pipe_t *)server, struct sock_listener, pipe);
	struct sock_state *st = l->st;
	struct xsd_daemon *d = st->d;

	if (status < 0) {
		xsd_log(d, LOG_WARNING, "%s: accept: %s", l->path, uv_strerror(status));
		return;
	}
	struct sock_conn *sc = calloc(1, sizeof(*sc));
	if (!sc) {
		xsd_log(d, LOG_ERR, "%s: no memory for a new connection", l->path);
		return;
	}
	sc->st = st;
	st->refs++;
	uv_pipe_init(d->loop, &sc->pipe, 0);
	int err = uv_accept(server, (uv_stream_t *)&sc->pipe);
	if (err < 0) {
		xsd_log(d, LOG_WARNING, "%s: accept: %s", l->path, uv_strerror(err));
		uv_close((uv_handle_t *)&sc->pipe, conn_closed);
		return;
	}
	if (xsd_client_new(&sc->cl, d, l->domid, l->flags, &sock_client_ops, sc) < 0) {
		xsd_log(d, LOG_ERR, "%s: %s", l->path, vs_error_last()->message);
		uv_close((uv_handle_t *)&sc->pipe, conn_closed);
		return;
	}
	uv_read_start((uv_stream_t *)&sc->pipe, conn_alloc, conn_read);
}

static void listener_closed(uv_handle_t *h)
{
	struct sock_listener *l = xsd_container_of((uv_pipe_t *)h, struct sock_listener, pipe);
	struct sock_state *st = l->st;

	free(l->path);
	free(l);
	sock_unref(st);
}

/* Stop listening and remove the socket file. */
static void listener_close(struct sock_listener *l)
{
	unlink(l->path);
	uv_close((uv_handle_t *)&l->pipe, listener_closed);
}

/* 1: a live daemon answers on @p path; 0: nobody listens (a stale file). */
static int socket_alive(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return vs_error_set(VS_EIO, "socket: %s", strerror(errno));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN)
		return 1;
	if (e == ECONNREFUSED || e == ENOENT)
		return 0;
	return vs_error_set(VS_EIO, "cannot probe %s: %s", path, strerror(e));
}

/* Listen on @p path with mode @p mode, replacing a stale socket file. */
static int listener_open(struct sock_listener **out, struct sock_state *st, char *path,
			 unsigned int domid, unsigned int flags, mode_t mode)
{
	struct sockaddr_un sa;
	struct stat sb;
	int err;

	*out = NULL;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		err = vs_error_set(VS_EINVAL, "socket path %s is longer than %zu bytes", path,
				   sizeof(sa.sun_path) - 1);
		free(path);
		return err;
	}
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode))
			err = vs_error_set(VS_EEXIST, "%s exists and is not a socket", path);
		else if ((err = socket_alive(path)) > 0)
			err = vs_error_set(VS_EBUSY, "a daemon is already listening on %s", path);
		else if (err == 0 && unlink(path) < 0 && errno != ENOENT)
			err = vs_error_set(VS_EIO, "cannot remove the stale socket %s: %s", path,
					   strerror(errno));
		if (err < 0) {
			free(path);
			return err;
		}
	}
	struct sock_listener *l = calloc(1, sizeof(*l));
	if (!l) {
		free(path);
		return vs_error_set(VS_ENOMEM, "no memory for a listener");
	}
	l->st = st;
	l->domid = domid;
	l->flags = flags;
	l->path = path;
	st->refs++;
	uv_pipe_init(st->d->loop, &l->pipe, 0);
	/* No window in which the socket is open to others: chmod widens it after. */
	mode_t old = umask(0177);
	err = uv_pipe_bind(&l->pipe, path);
	umask(old);
	if (err < 0) {
		err = vs_error_set(VS_EIO, "cannot bind %s: %s", path, uv_strerror(err));
		uv_close((uv_handle_t *)&l->pipe, listener_closed);
		return err;
	}
	if (chmod(path, mode) < 0) {
		err = vs_error_set(VS_EIO, "cannot chmod %s: %s", path, strerror(errno));
		listener_close(l);
		return err;
	}
	if ((err = uv_listen((uv_stream_t *)&l->pipe, SOCK_BACKLOG, on_connection)) < 0) {
		err = vs_error_set(VS_EIO, "cannot listen on %s: %s", path, uv_strerror(err));
		listener_close(l);
		return err;
	}
	*out = l;
	return 0;
}

static char *path_join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = malloc(a + b + 2);

	if (p) {
		memcpy(p, dir, a);
		p[a] = '/';
		memcpy(p + a + 1, name, b + 1);
	}
	return p;
}

/* Take DIR/xenstored.lock: one daemon per run directory. */
static int lock_run_dir(struct sock_state *st)
{
	char *path = path_join(st->d->run_dir, "xenstored.lock");
	int err = 0;

	if (!path)
		return vs_error_set(VS_ENOMEM, "no memory");
	st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lock_fd < 0)
		err = vs_error_set(errno == EACCES ? VS_EACCES : VS_EIO, "cannot open %s: %s", path,
				   strerror(errno));
	else if (flock(st->lock_fd, LOCK_EX | LOCK_NB) < 0)
		err = vs_error_set(errno == EWOULDBLOCK ? VS_EBUSY : VS_EIO,
				   "another xenstored runs with run directory %s (%s: %s)",
				   st->d->run_dir, path, strerror(errno));
	free(path);
	return err;
}

/*
 * The transport's state, created (with the run directory's lock) by the
 * first of xsd_socket_start() and xsd_socket_introduce().
 */
static int sock_state_get(struct sock_state **out, struct xsd_daemon *d)
{
	int err;

	*out = d->sock;
	if (*out)
		return 0;
	if (d->stopping)
		return vs_error_set(VS_EIO, "the socket transport is stopped");
	struct sock_state *st = calloc(1, sizeof(*st));
	if (!st)
		return vs_error_set(VS_ENOMEM, "no memory for the socket transport");
	st->d = d;
	st->refs = 1;
	st->lock_fd = -1;
	d->sock = st;
	if ((err = lock_run_dir(st)) < 0) {
		xsd_socket_stop(d);
		return err;
	}
	*out = st;
	return 0;
}

int xsd_socket_start(struct xsd_daemon *d)
{
	struct sock_state *st;
	int err;

	if ((err = sock_state_get(&st, d)) < 0)
		return err;
	if (st->priv)
		return 0;
	char *path = path_join(d->run_dir, "socket");
	if (!path)
		err = vs_error_set(VS_ENOMEM, "no memory");
	else
		err = listener_open(&st->priv, st, path, d->priv_domid, XSD_CONN_PRIV,
				    SOCK_MODE_PRIV);
	if (err < 0)
		xsd_socket_stop(d);
	return err;
}

void xsd_socket_stop(struct xsd_daemon *d)
{
	struct sock_state *st = d->sock;

	if (!st)
		return;
	d->sock = NULL;
	if (st->priv)
		listener_close(st->priv);
	while (st->domains) {
		struct sock_listener *l = st->domains;
		st->domains = l->next;
		listener_close(l);
	}
	char *dir = path_join(d->run_dir, "domain");
	if (dir)
		rmdir(dir); /* only when empty, and it may never have existed */
	free(dir);
	/* After the sockets are gone, so a successor never finds ours. */
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	sock_unref(st);
}

static struct sock_listener **domain_find(struct sock_state *st, unsigned int domid)
{
	struct sock_listener **pp = &st->domains;

	while (*pp && (*pp)->domid != domid)
		pp = &(*pp)->next;
	return pp;
}

int xsd_socket_introduce(struct xsd_daemon *d, unsigned int domid)
{
	struct sock_state *st;
	char name[32];
	int err;

	if ((err = sock_state_get(&st, d)) < 0)
		return err;
	if (*domain_find(st, domid))
		return 0;
	char *dir = path_join(d->run_dir, "domain");
	if (!dir)
		return vs_error_set(VS_ENOMEM, "no memory");
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		err = vs_error_set(VS_EIO, "cannot create %s: %s", dir, strerror(errno));
		free(dir);
		return err;
	}
	snprintf(name, sizeof(name), "%u", domid);
	char *path = path_join(dir, name);
	free(dir);
	if (!path)
		return vs_error_set(VS_ENOMEM, "no memory");
	struct sock_listener *l;
	if ((err = listener_open(&l, st, path, domid, 0, SOCK_MODE_DOMAIN)) < 0)
		return err;
	l->next = st->domains;
	st->domains = l;
	xsd_log(d, LOG_INFO, "domain %u: listening on %s", domid, l->path);
	return 0;
}

void xsd_socket_release(struct xsd_daemon *d, unsigned int domid)
{
	struct sock_state *st = d->sock;

	if (!st)
		return;
	for (struct xsd_client *cl = d->clients; cl; cl = cl->next)
		if (cl->ops == &sock_client_ops && !(cl->flags & XSD_CONN_PRIV) &&
		    cl->domid == domid)
			xsd_client_close(cl);
	struct sock_listener **pp = domain_find(st, domid);
	struct sock_listener *l = *pp;
	if (!l)
		return;
	*pp = l->next;
	listener_close(l);
}
