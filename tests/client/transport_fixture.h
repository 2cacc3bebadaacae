/* SPDX-License-Identifier: MIT */
/*
 * The conformance fixture of libvsclient: one test body, run against every
 * transport named on the command line (meson runs each binary once per
 * transport). Each test gets a fresh store: the real daemon (started with
 * -N --domains socket by the daemon harness) for the socket kinds, a fresh
 * in-process store otherwise. Domain 5 is introduced everywhere, its home
 * /local/domain/5 (perms n0 r5) holds data/ (owned by 5), and every test
 * works below VSCT_BASE, so a privileged client and domain 5 see the same
 * tree. A helper client (privileged, same store) plays "someone else".
 */
#ifndef VSC_TRANSPORT_FIXTURE_H
#define VSC_TRANSPORT_FIXTURE_H

#include <stdbool.h>

#include "vst.h"

#include <vsclient/client.h>

#define VSCT_DOMID 5u
#define VSCT_BASE "/local/domain/5/data/t"

/** How one transport behaves: what the shared tests expect of it. */
struct vsct_kind {
	const char *name; /* the meson argument: "unix", "domain", "xenbus", "inproc-mem"... */
	bool daemon;	  /* runs against the real daemon */
	bool priv;	  /* the client is privileged (else domain VSCT_DOMID) */
	bool history;	  /* vsc_log / vsc_read_at work (xenbus: VS_ENOTSUP) */
};

struct vsct_fixture {
	const struct vsct_kind *kind;
	struct xsd_harness *h;	   /* the daemon, or NULL */
	char *dir;		   /* the in-process store's directory, or NULL */
	char uri[1100];		   /* the client's URI */
	char helper_uri[1024];	   /* a privileged client's URI on the same store */
	struct vsc_client *c;	   /* the client under test */
	struct vsc_client *helper; /* privileged, on the same store */
	unsigned int domid;	   /* the client's own domain (0 or VSCT_DOMID) */
};

/** The transport chosen by argv[1] (exits with a usage message when unknown). */
const struct vsct_kind *vsct_kind_from_args(int argc, char **argv);
/** The kind this process runs (set by vsct_kind_from_args). */
extern const struct vsct_kind *vsct_kind;

/** cmocka setup/teardown: a fresh store, the helper, the client; *state is the fixture. */
int vsct_setup(void **state);
int vsct_teardown(void **state);

/** VSCT_BASE "/" @p rel in a static buffer (one of 4 rotating). */
const char *vsct_path(const char *rel);

/** Read @p path through @p c and compare with the string @p want. */
void vsct_assert_value(struct vsc_client *c, const char *path, const char *want);

/** Expect one event with @p path and @p token within @p ms (through the event fd). */
void vsct_expect_event(struct vsc_client *c, const char *path, const char *token, int ms);
/** Expect no event within @p ms. */
void vsct_expect_no_event(struct vsc_client *c, int ms);

/** Whether the client's event fd polls readable within @p ms. */
bool vsct_fd_readable(struct vsc_client *c, int ms);

#endif
