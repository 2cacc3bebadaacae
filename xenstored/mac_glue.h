/* SPDX-License-Identifier: MIT */
/*
 * The daemon's mandatory access control: mac/'s security server wired to
 * the engine's hooks (struct xsd_mac_hooks), its options, its audit sink
 * (the daemon log and an optional file), its atomic reloads (SIGHUP and
 * CONTROL "mac reload") and the facts it needs from the tree (domain names,
 * device pairing), read from the engine's head. Lives on the daemon's loop
 * thread like everything else.
 */
#ifndef XSD_MAC_GLUE_H
#define XSD_MAC_GLUE_H

#include <stdbool.h>
#include <stdio.h>

#include "daemon.h"

struct xsd_mac_glue;

/** Long options of the MAC (main.c lists them in its getopt table). */
enum xsd_mac_glue_option {
	XSD_MAC_OPT_POLICY = 512, /* --policy FILE */
	XSD_MAC_OPT_MODE,	  /* --mac enforcing|permissive */
	XSD_MAC_OPT_CHECK,	  /* --check-policy FILE */
	XSD_MAC_OPT_AUDIT_FILE,	  /* --audit-file FILE */
	XSD_MAC_OPT_AUDIT_GRANTS, /* --audit-grants */
};

/** What the command line asks of the MAC; zero-initialised means "none". */
struct xsd_mac_glue_opts {
	const char *policy;	/* --policy FILE: MAC is on when set */
	int mode;		/* enum mac_mode + 1; 0: enforcing (the default) */
	const char *check;	/* --check-policy FILE: check it and exit */
	const char *audit_file; /* --audit-file FILE: audit lines appended there too */
	bool audit_grants;	/* --audit-grants: one audit line per granted check too */
};

/**
 * Take option @p c (enum xsd_mac_glue_option) with argument @p arg into
 * @p o. @return 0, or -1 after printing why @p arg is wrong to stderr.
 */
int xsd_mac_glue_option(struct xsd_mac_glue_opts *o, int c, const char *arg);

/** Check option combinations after parsing. @return 0, or -1 after printing why. */
int xsd_mac_glue_options_done(const struct xsd_mac_glue_opts *o);

/** Print the MAC options' help lines to @p f (part of --help). */
void xsd_mac_glue_usage(FILE *f);

/**
 * --check-policy: print every error of @p path as "FILE:LINE: message" to
 * stdout, or "FILE: OK" when there is none. @return the exit status (0 or 1).
 */
int xsd_mac_glue_check_file(const char *path);

/**
 * Load the policy @p o names and make the security server for daemon @p d
 * (whose engine may not exist yet: the hooks read d->engine when asked).
 * An invalid policy prints its errors to stderr.
 * @return 0; VS_EINVAL (the policy has errors); VS_ENOENT or VS_EIO (a file
 *         cannot be read); VS_ENOMEM. Free with xsd_mac_glue_free().
 */
int xsd_mac_glue_new(struct xsd_mac_glue **out, struct xsd_daemon *d,
		     const struct xsd_mac_glue_opts *o);

/** Fill @p out with the engine hooks that consult @p g (payload @p g). */
void xsd_mac_glue_hooks(struct xsd_mac_hooks *out, struct xsd_mac_glue *g);

/**
 * Once the engine runs: learn the domain names the tree holds, and make
 * the audit flush timer on d->loop. @return 0 or VS_ENOMEM.
 */
int xsd_mac_glue_start(struct xsd_mac_glue *g);

/**
 * Load @p path (NULL: the current policy file) and switch to it atomically;
 * when it is invalid, keep the policy in force. Either way a report for
 * humans goes to @p report (appended): "OK: ..." or the errors, one
 * "FILE:LINE: message" per line. A @p path that loads becomes the file
 * later reloads read. @return 0; VS_EINVAL (errors, old policy kept);
 * VS_ENOENT, VS_EIO (unreadable); VS_ENOMEM.
 */
int xsd_mac_glue_reload(struct xsd_mac_glue *g, const char *path, struct vs_buf *report);

/** SIGHUP: reopen the audit file and reload the policy file, logging the outcome. */
void xsd_mac_glue_hup(struct xsd_mac_glue *g);

/** Domain @p domid is gone: forget its name and explicit label. */
void xsd_mac_glue_domain_released(struct xsd_mac_glue *g, unsigned int domid);

/** Close the timer (shutdown, before the loop ends). NULL-safe. */
void xsd_mac_glue_stop(struct xsd_mac_glue *g);

/** Emit pending audit summaries, free everything. NULL-safe. */
void xsd_mac_glue_free(struct xsd_mac_glue *g);

#endif
