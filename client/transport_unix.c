/* SPDX-License-Identifier: MIT */
/*
 * "unix:PATH": the daemon's socket (the dom0 socket, or a per-domain socket
 * DIR/domain/N). Also the byte stream over a file descriptor that the xenbus
 * transport shares. recv never waits: a socket is read with MSG_DONTWAIT, a
 * device is made non-blocking. recv_wait waits for the reply of a
 * synchronous call: on a socket with one blocking recv, as libxenstore reads
 * (a poll first costs a system call and, measured across the two CPUs of a
 * VM, ~10 us of wake-up per round trip); on a device by poll then read.
 * send waits for POLLOUT when the peer is slow.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client_int.h"

struct fd_transport {
	struct vsc_transport base;
	int fd;
	bool is_socket;
};

static struct fd_transport *fd_from(struct vsc_transport *t)
{
	return (struct fd_transport *)t;
}

/* The one place errno of the stream becomes a VS code. */
static int fd_err(int e, const char *what)
{
	switch (e) {
	case ENOENT:
		return vs_error_set(VS_ENOENT, "%s: no such file", what);
	case EACCES:
	case EPERM:
		return vs_error_set(VS_EACCES, "%s: permission denied", what);
	case ENOMEM:
		return vs_error_set(VS_ENOMEM, "%s: out of memory", what);
	default:
		return vs_error_set(VS_EIO, "%s: %s", what, strerror(e));
	}
}

int vsc__fd_transport_new(struct vsc_transport **out, const struct vsc_transport_ops *ops, int fd,
			  bool is_socket)
{
	struct fd_transport *ft;
	int fl = fcntl(fd, F_GETFL);

	*out = NULL;
	if (fl < 0 || (!is_socket && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)) {
		int err = fd_err(errno, "fcntl");
		close(fd);
		return err;
	}
	if (!(ft = calloc(1, sizeof(*ft)))) {
		close(fd);
		return vs_error_set(VS_ENOMEM, "out of memory");
	}
	ft->base.ops = ops;
	ft->fd = fd;
	ft->is_socket = is_socket;
	*out = &ft->base;
	return 0;
}

int vsc__unix_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return vs_error_set(VS_EINVAL, "socket path too long: %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return fd_err(errno, "socket");
	while ((err = connect(fd, (struct sockaddr *)&sa, sizeof(sa))) < 0 && errno == EINTR)
		;
	if (err < 0) {
		err = fd_err(errno, path);
		close(fd);
		return err;
	}
	return fd;
}

/* Wait until @fd may take more bytes. */
static int wait_writable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR)
			return fd_err(errno, "poll");
	return 0;
}

int vsc__fd_send(struct vsc_transport *t, const struct iovec *iov, size_t n)
{
	struct fd_transport *ft = fd_from(t);
	struct iovec v[8];
	int err;

	if (n > 8)
		return vs_error_set(VS_EINVAL, "too many pieces in one message");
	memcpy(v, iov, n * sizeof(*v));
	struct iovec *p = v;
	while (n) {
		ssize_t w;
		if (ft->is_socket) {
			struct msghdr m = {.msg_iov = p, .msg_iovlen = n};
			w = sendmsg(ft->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		} else {
			w = writev(ft->fd, p, (int)n);
		}
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if ((err = wait_writable(ft->fd)) < 0)
					return err;
				continue;
			}
			return fd_err(errno, "send");
		}
		/* Skip what went out, piece by piece. */
		size_t done = (size_t)w;
		while (n && done >= p->iov_len) {
			done -= p->iov_len;
			p++;
			n--;
		}
		if (n) {
			p->iov_base = (char *)p->iov_base + done;
			p->iov_len -= done;
		}
	}
	return 0;
}

/* Read what is there (@wait: at least one byte, waiting for it). */
static long fd_read(struct fd_transport *ft, void *buf, size_t len, bool wait)
{
	for (;;) {
		ssize_t r = ft->is_socket ? recv(ft->fd, buf, len, wait ? 0 : MSG_DONTWAIT)
					  : read(ft->fd, buf, len);
		if (r > 0)
			return (long)r;
		if (r == 0)
			return vs_error_set(VS_EIO, "connection closed by the peer");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return fd_err(errno, "recv");
		if (!wait)
			return VS_EAGAIN;
		/*
		 * A socket someone made non-blocking (libuv's uv_poll_init does,
		 * for the asynchronous form): make it block again, as only
		 * this recv relies on the mode.
		 */
		int fl = ft->is_socket ? fcntl(ft->fd, F_GETFL) : -1;
		if (fl >= 0 && (fl & O_NONBLOCK) && fcntl(ft->fd, F_SETFL, fl & ~O_NONBLOCK) == 0)
			continue;
		/* A non-blocking device: wait until it has bytes. */
		struct pollfd p = {.fd = ft->fd, .events = POLLIN};
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return fd_err(errno, "poll");
	}
}

long vsc__fd_recv(struct vsc_transport *t, void *buf, size_t len)
{
	return fd_read(fd_from(t), buf, len, false);
}

long vsc__fd_recv_wait(struct vsc_transport *t, void *buf, size_t len)
{
	return fd_read(fd_from(t), buf, len, true);
}

int vsc__fd_fd(struct vsc_transport *t)
{
	return fd_from(t)->fd;
}

void vsc__fd_close(struct vsc_transport *t)
{
	struct fd_transport *ft = fd_from(t);
	if (ft->fd >= 0)
		close(ft->fd);
	ft->fd = -1;
}

void vsc__fd_free(struct vsc_transport *t)
{
	if (!t)
		return;
	vsc__fd_close(t);
	free(fd_from(t));
}

/* libxenstore's xs_daemon_socket(): $XENSTORED_PATH, else $XENSTORED_RUNDIR/socket. */
int vsc__socket_path(char *out, size_t n)
{
	const char *p = getenv("XENSTORED_PATH");
	const char *dir = getenv("XENSTORED_RUNDIR");
	int len = p ? snprintf(out, n, "%s", p)
		    : snprintf(out, n, "%s/socket", dir ? dir : VSC_RUNDIR_DEFAULT);
	if (len < 0 || (size_t)len >= n)
		return vs_error_set(VS_EINVAL, "daemon socket path too long");
	return 0;
}

static int unix_connect(struct vsc_transport **out, const struct vsc_transport_ops *ops,
			const char *address)
{
	char path[4096];
	int fd, err;

	*out = NULL;
	if (!*address) {
		if ((err = vsc__socket_path(path, sizeof(path))) < 0)
			return err;
		address = path;
	}
	if ((fd = vsc__unix_connect(address)) < 0)
		return fd;
	return vsc__fd_transport_new(out, ops, fd, true);
}

const struct vsc_transport_ops vsc__unix_ops = {
    .version = VSC_TRANSPORT_OPS_VERSION,
    .scheme = "unix",
    .connect = unix_connect,
    .send = vsc__fd_send,
    .recv = vsc__fd_recv,
    .recv_wait = vsc__fd_recv_wait,
    .fd = vsc__fd_fd,
    .log = vsc__log_control,
    .read_at = vsc__read_at_control,
    .close = vsc__fd_close,
    .free = vsc__fd_free,
};
