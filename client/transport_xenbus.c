/* SPDX-License-Identifier: MIT */
/*
 * "xenbus:[PATH]": a guest's xenbus device (Linux /dev/xen/xenbus), which
 * carries the very same wire protocol as the daemon's socket: whole messages
 * written, replies and events read back, pollable. PATH is opened with
 * open(2) when it is a character device and connected to when it is a
 * socket (as libxenstore's get_handle() decides by stat), so tests and
 * containers can point it at a daemon socket. No history: a device gives
 * none (vsc_log() answers VS_ENOTSUP).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client_int.h"

/*
 * libxenstore's xs_domain_dev(): $XENSTORED_PATH, else the Linux device
 * where it exists, else the old /proc one.
 */
int vsc__device_path(char *out, size_t n)
{
	const char *p = getenv("XENSTORED_PATH");
	if (!p)
		p = access("/dev/xen/xenbus", F_OK) == 0 ? "/dev/xen/xenbus" : "/proc/xen/xenbus";
	int len = snprintf(out, n, "%s", p);
	if (len < 0 || (size_t)len >= n)
		return vs_error_set(VS_EINVAL, "xenbus device path too long");
	return 0;
}

static int xenbus_connect(struct vsc_transport **out, const struct vsc_transport_ops *ops,
			  const char *address)
{
	char path[4096];
	struct stat st;
	int fd, err;

	*out = NULL;
	if (!*address) {
		if ((err = vsc__device_path(path, sizeof(path))) < 0)
			return err;
		address = path;
	}
	if (stat(address, &st) < 0)
		return errno == ENOENT ? vs_error_set(VS_ENOENT, "%s: no such device", address)
				       : vs_error_set(VS_EIO, "%s: %s", address, strerror(errno));
	if (S_ISSOCK(st.st_mode)) {
		if ((fd = vsc__unix_connect(address)) < 0)
			return fd;
		return vsc__fd_transport_new(out, ops, fd, true);
	}
	if (!S_ISCHR(st.st_mode))
		return vs_error_set(VS_EINVAL, "%s is neither a character device nor a socket",
				    address);
	if ((fd = open(address, O_RDWR | O_CLOEXEC)) < 0)
		return errno == EACCES || errno == EPERM
			   ? vs_error_set(VS_EACCES, "%s: permission denied", address)
			   : vs_error_set(VS_EIO, "%s: %s", address, strerror(errno));
	return vsc__fd_transport_new(out, ops, fd, false);
}

const struct vsc_transport_ops vsc__xenbus_ops = {
    .version = VSC_TRANSPORT_OPS_VERSION,
    .scheme = "xenbus",
    .connect = xenbus_connect,
    .send = vsc__fd_send,
    .recv = vsc__fd_recv,
    .recv_wait = vsc__fd_recv_wait,
    .fd = vsc__fd_fd,
    .close = vsc__fd_close,
    .free = vsc__fd_free,
};
