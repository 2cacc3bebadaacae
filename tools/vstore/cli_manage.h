/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the management commands (branch, restore, sync, export,
 * gc, watch, conduit): reaching the daemon through libvsclient, refusing
 * history rewrites while a daemon runs, opening an existing store for
 * writing, and the signature of commits the command line makes.
 */
#ifndef VSTORE_CLI_MANAGE_H
#define VSTORE_CLI_MANAGE_H

#include <vsclient/client.h>

#include "cli.h"

/**
 * The daemon's socket path: @p sock when not NULL, else $XENSTORED_PATH,
 * else $XENSTORED_RUNDIR/socket, else /var/run/xenstored/socket (the order
 * libxenstore uses). Borrowed: @p sock, the environment or a static string.
 */
const char *cli_daemon_socket(const char *sock);

/**
 * Open a libvsclient client on the daemon: @p uri (any vsclient URI) when
 * given, else "unix:" + @p sock when given, else the default lookup of
 * vsc_client_open(NULL). Prints the error line on failure.
 * @return 0 and *out (close with vsc_client_close()), or CLI_EXIT_FAIL.
 */
int cli_daemon_open(struct vsc_client **out, struct cli *cli, const char *uri, const char *sock);

/** True when something accepts a connection on unix socket @p path within 200 ms. */
bool cli_daemon_running(const char *path);

/**
 * Refuse @p what ("gc") while a daemon answers on cli_daemon_socket(@p sock),
 * unless @p force: the daemon keeps the head of main in memory and would
 * lose objects swept, or find main moved, under it.
 * @return 0 to go on, or CLI_EXIT_FAIL after printing why.
 */
int cli_daemon_guard(struct cli *cli, const char *sock, bool force, const char *what);

/**
 * Open cli->store for writing without creating it: a store that does not
 * exist is an error, as for read commands. Prints the error line.
 * @return 0 and *out (close with vs_repo_close()), or CLI_EXIT_FAIL.
 */
int cli_open_existing(struct vs_repo **out, struct cli *cli);

/** Room for the strings of a cli_signature(). */
struct cli_sig_buf {
	char name[64];	 /* "vstore (USER)" */
	char email[128]; /* "USER@HOST" */
};

/**
 * Fill @p out as the author of a commit made by the command line (a merge by
 * `vstore pull`): "vstore (USER) <USER@HOST>", at cli->now, UTC. The strings
 * live in @p buf.
 */
void cli_signature(struct vs_signature *out, struct cli_sig_buf *buf, const struct cli *cli);

#endif
