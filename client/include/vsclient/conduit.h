/* SPDX-License-Identifier: MIT */
/*
 * Conduit rendezvous: the MirageOS conduit/vchan layout over Xenstore, so
 * vstore peers find each other the way Mirage unikernels do.
 *   /conduit                       created by dom0, perms "b0" (all read+write)
 *   /conduit/N = <domid>           listener or connector N is registered
 *   /conduit/N/C/P = P             connector C asks listener N for port P
 *   <home of S>/data/vchan/C/P/{ring-ref,event-channel}
 *                                  vchan server S offers client C its ring
 * Names and ports are 1..VSC_CONDUIT_NAME_MAX characters of [A-Za-z0-9_-]
 * (Xenstore's path characters, less '/' and '@').
 * Every wait is bounded by the caller's timeout; none of these calls is
 * thread-safe (they share the client's connection).
 */
#ifndef VSCLIENT_CONDUIT_H
#define VSCLIENT_CONDUIT_H

#include <stdint.h>

#include "client.h"

/** Longest name or port, in bytes. */
#define VSC_CONDUIT_NAME_MAX 64

/** One connection request taken by a listener. */
struct vsc_conduit_peer {
	unsigned int domid;		     /* the connector's domain, from /conduit/<name> */
	char name[VSC_CONDUIT_NAME_MAX + 1]; /* the connector's registered name */
	char port[VSC_CONDUIT_NAME_MAX + 1]; /* the port it asked for */
};

/** The two values a vchan server hands its client. */
struct vsc_vchan_keys {
	uint32_t ring_ref;	/* grant reference of the shared ring page */
	uint32_t event_channel; /* the server's event-channel port */
};

/**
 * Create /conduit (removing any old registry) with perms "b0", as
 * `vstore conduit init` and Mirage's xenstore-conduit-init do. Needs the
 * control domain. @return 0, VS_EACCES (not privileged).
 */
VSC_EXTERN int vsc_conduit_init(struct vsc_client *c);

/**
 * This connection's domain id, read from the relative key "domid" (the
 * toolstack writes /local/domain/<id>/domid), as Mirage does.
 * @return 0, VS_ENOENT (no "domid" key: pass the id explicitly).
 */
VSC_EXTERN int vsc_conduit_self_domid(unsigned int *out, struct vsc_client *c);

/**
 * Register @p name for domain @p domid: write /conduit/<name> = <domid>.
 * Listeners and connectors both register. @return 0, VS_EINVAL (bad name),
 * VS_ENOENT (no /conduit: the message says to run `vstore conduit init`).
 */
VSC_EXTERN int vsc_conduit_register(struct vsc_client *c, const char *name, unsigned int domid);

/** Remove /conduit/<name> and the requests below it. @return 0, VS_ENOENT (not registered). */
VSC_EXTERN int vsc_conduit_unregister(struct vsc_client *c, const char *name);

/**
 * Wait up to @p timeout_ms (-1: forever) for a connector to ask listener
 * @p name for a port; take the first (connector, port), read the
 * connector's domid and remove its request /conduit/<name>/<connector>.
 * A request from an unregistered connector is removed and skipped.
 * @return 0 (@p out filled), VS_ENOENT (@p name is not registered, or no
 * /conduit), VS_ETIMEDOUT.
 */
VSC_EXTERN int vsc_conduit_accept(struct vsc_conduit_peer *out, struct vsc_client *c,
				  const char *name, int timeout_ms);

/**
 * Called for each accepted request: 0 to go on accepting, positive to stop
 * (the loop then returns its count), negative to stop with that error.
 */
typedef int vsc_conduit_accept_fn(const struct vsc_conduit_peer *peer, void *payload);

/**
 * The accept loop: accept requests for @p name and hand each to @p cb until
 * @p cb asks to stop, @p max were accepted (0: no limit) or none came for
 * @p idle_timeout_ms (must be >= 0, so the loop ends by itself).
 * @return how many were accepted (>= 0; the quiet timeout ends it
 * normally), or @p cb's negative value, or an error of vsc_conduit_accept().
 */
VSC_EXTERN int vsc_conduit_accept_loop(struct vsc_client *c, const char *name, unsigned int max,
				       int idle_timeout_ms, vsc_conduit_accept_fn *cb,
				       void *payload);

/**
 * Connector @p self (registered) asks listener @p name for @p port: read
 * /conduit/<name> for the peer's domid into @p out, then write
 * /conduit/<name>/<self>/<port> = <port>.
 * @return 0, VS_ENOENT (no such peer, @p self unregistered, or no /conduit;
 * the message says which), VS_EINVAL (bad name or port).
 */
VSC_EXTERN int vsc_conduit_connect(unsigned int *out, struct vsc_client *c, const char *self,
				   const char *name, const char *port);

/**
 * vchan server @p server_domid offers client @p client_domid @p keys on
 * @p port: write <home of server>/data/vchan/<client>/<port>/ring-ref and
 * event-channel in one transaction, each with perms owner server, others
 * none, client read. @return 0, VS_EACCES (this connection may not write
 * there), VS_EINVAL (bad port).
 */
VSC_EXTERN int vsc_vchan_server_publish(struct vsc_client *c, unsigned int server_domid,
					unsigned int client_domid, const char *port,
					const struct vsc_vchan_keys *keys);

/**
 * vchan client side: wait up to @p timeout_ms (-1: forever) until server
 * @p server_domid has published both keys for @p client_domid on @p port,
 * and read them into @p out. @return 0, VS_ETIMEDOUT, VS_ECORRUPT (a key
 * is not a number).
 */
VSC_EXTERN int vsc_vchan_client_wait(struct vsc_vchan_keys *out, struct vsc_client *c,
				     unsigned int server_domid, unsigned int client_domid,
				     const char *port, int timeout_ms);

/**
 * Tear a channel down: remove .../data/vchan/<client>/<port>, then
 * .../data/vchan/<client> when no other port is left. @return 0, VS_ENOENT
 * (no such channel).
 */
VSC_EXTERN int vsc_vchan_teardown(struct vsc_client *c, unsigned int server_domid,
				  unsigned int client_domid, const char *port);

#endif
