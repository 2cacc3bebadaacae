/* SPDX-License-Identifier: MIT */
/*
 * What the management commands share (cli_manage.h): the daemon, the guard
 * against rewriting a live daemon's history, writable opens that never
 * create a store, and the command line's own commit signature.
 */
#include "cli_manage.h"

#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

const char *cli_daemon_socket(const char *sock)
{
	static char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 16];
	const char *env;

	if (sock && *sock)
		return sock;
	if ((env = getenv("XENSTORED_PATH")) && *env)
		return env;
	if ((env = getenv("XENSTORED_RUNDIR")) && *env) {
		snprintf(path, sizeof(path), "%s/socket", env);
		return path;
	}
	return "/var/run/xenstored/socket";
}

int cli_daemon_open(struct vsc_client **out, struct cli *cli, const char *uri, const char *sock)
{
	char buf[4200];
	int err;

	*out = NULL;
	if (!uri && sock) {
		if ((size_t)snprintf(buf, sizeof(buf), "unix:%s", sock) >= sizeof(buf))
			return cli_error(cli, "socket path too long");
		uri = buf;
	}
	if ((err = vsc_client_open(out, uri)) < 0) {
		*out = NULL;
		char what[4300];
		snprintf(what, sizeof(what), "cannot reach the daemon at %s",
			 uri ? uri : cli_daemon_socket(NULL));
		return cli_error_vs(cli, err, what);
	}
	return 0;
}

bool cli_daemon_running(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	bool up = false;

	if (!path || strlen(path) >= sizeof(sa.sun_path))
		return false;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		up = true;
	} else if (errno == EINPROGRESS || errno == EAGAIN) {
		/* A listener with a full backlog still counts as a daemon. */
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int soerr = 0;
		socklen_t len = sizeof(soerr);
		up = poll(&p, 1, 200) == 1 &&
		     getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0;
	}
	close(fd);
	return up;
}

int cli_daemon_guard(struct cli *cli, const char *sock, bool force, const char *what)
{
	const char *path = cli_daemon_socket(sock);
	if (force || !cli_daemon_running(path))
		return 0;
	return cli_error(cli,
			 "a daemon answers on %s: stop it before %s (or pass --force if "
			 "it uses another store)",
			 path, what);
}

int cli_open_existing(struct vs_repo **out, struct cli *cli)
{
	int rc = cli_open_repo(out, cli, false);
	if (rc != 0)
		return rc;
	vs_repo_close(*out);
	*out = NULL;
	return cli_open_repo(out, cli, true);
}

void cli_signature(struct vs_signature *out, struct cli_sig_buf *buf, const struct cli *cli)
{
	const char *user = getenv("USER");
	char host[64];

	if (!user || !*user) {
		struct passwd *pw = getpwuid(getuid());
		user = pw && pw->pw_name ? pw->pw_name : "root";
	}
	if (gethostname(host, sizeof(host)) != 0 || !*host)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	/* A signature may not hold '<', '>' or a newline. */
	snprintf(buf->name, sizeof(buf->name), "vstore (%s)", user);
	snprintf(buf->email, sizeof(buf->email), "%s@%s", user, host);
	for (char *p = buf->name; *p; p++)
		if (*p == '<' || *p == '>' || *p == '\n')
			*p = '_';
	for (char *p = buf->email; *p; p++)
		if (*p == '<' || *p == '>' || *p == '\n')
			*p = '_';
	*out = (struct vs_signature){buf->name, buf->email, cli->now, 0};
}
