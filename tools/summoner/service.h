/* SPDX-License-Identifier: MIT */
/*
 * Summoning services: a domain per running service, introduced through the
 * client API with a toolstack-like home, the command started with
 * XENSTORED_PATH on that domain's socket, readiness awaited with vsc_wait(),
 * and the domain released when the command exits. Single-threaded.
 */
#ifndef SUMMONER_SERVICE_H
#define SUMMONER_SERVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <vsclient/client.h>

#include "config.h"

/** The run-time state of one configured service. */
struct summoner_instance {
	pid_t pid;	      /* the command's process (and group), 0: not running */
	unsigned int domid;   /* its domain while running */
	bool ready;	      /* its ready key appeared (false: answered on time-out) */
	unsigned long starts; /* how many times it was summoned */
};

struct summoner;

/** Asked between waits: true when the summoner must stop now. */
typedef bool summoner_stop_fn(struct summoner *s);

/** The summoner: configuration, Xenstore connection, instances. */
struct summoner {
	const struct summoner_config *cfg; /* borrowed */
	struct vsc_client *xs;		   /* the control domain's connection (borrowed) */
	const char *run_dir;		   /* the daemon's run dir: domain sockets below */
	unsigned int domid_lo, domid_hi;   /* the domain ids it may use */
	unsigned int domid_next;	   /* where the next search starts */
	struct summoner_instance *inst;	   /* one per cfg->services[i] (owned) */
	FILE *log;			   /* progress and errors (borrowed) */
	bool quiet;			   /* log errors only */
	summoner_stop_fn *stop;		   /* may be NULL */
};

/**
 * Set up @p s for @p cfg over @p xs with domain ids @p lo..@p hi.
 * @return 0, VS_ENOMEM, VS_EINVAL (bad range). Free with summoner_fini().
 */
int summoner_init(struct summoner *s, const struct summoner_config *cfg, struct vsc_client *xs,
		  const char *run_dir, unsigned int lo, unsigned int hi, FILE *log);

/** Stop every running service (summoner_stop_all()) and free @p s's state. */
void summoner_fini(struct summoner *s);

/**
 * Make service @p idx run: nothing if it does; else give it a domain, start
 * its command and wait for its ready key or its timeout (then it still
 * counts as running: the answer goes out anyway, as Jitsu does).
 * @return 0, VS_EBUSY (no free domain id), VS_EIO (the command failed or
 * exited before it was ready; its domain is released again).
 */
int summoner_summon(struct summoner *s, size_t idx);

/** Reap exited commands (after SIGCHLD) and release their domains. */
void summoner_reap(struct summoner *s);

/** After @releaseDomain: stop the services whose domain is gone. */
void summoner_check_domains(struct summoner *s);

/** Stop every running service (SIGTERM, SIGKILL after 2 s) and release its domain. */
void summoner_stop_all(struct summoner *s);

/** Monotonic milliseconds, for latencies. */
double summoner_now_ms(void);

#endif
