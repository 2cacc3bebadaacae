/* SPDX-License-Identifier: MIT */
/*
 * Internal interfaces of the Xenstore engine (libxsd), shared by its files
 * and its unit tests; never installed. Each module keeps its declarations in
 * its own headed section. Everything here is pure code: no I/O, no store
 * access, no global state.
 */
#ifndef XSD_INT_H
#define XSD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vstore/buf.h>

#include "xsd/wire.h"

/* ---- Paths (path.c) ---------------------------------------------------- */
/*
 * The rules of C xenstored 4.17 (core.c canonicalize/is_valid_nodename):
 * - a path not starting with '/' or '@' is relative to /local/domain/<domid>;
 * - an absolute path uses only [A-Za-z0-9-/_@], has no "//", does not end in
 *   '/' (except "/" itself) and is not empty;
 * - length: the part after a leading "/local/domain/<N>/" (N: at most five
 *   characters of sscanf's %5u, as cxenstored scans it) may be at most
 *   path-max long; path-max is the quota (default and ceiling
 *   XSD_REL_PATH_MAX, as -M is clamped); for any other path the whole length
 *   counts. 4.17 applies it to every connection, dom0 included; 4.18+ only
 *   to unprivileged ones: the caller chooses by the value it passes.
 *   Every violation is EINVAL in cxenstored, the path-max quota included.
 * - '@' names are legal only where the caller allows them (XSD_PATH_SPECIAL:
 *   WATCH, UNWATCH, SET_PERMS and GET_PERMS of the special nodes). 4.17
 *   accepted any '@' string of up to 2048 bytes as a watch path; we apply the
 *   stricter rules of later versions (same charset, no "//", no trailing '/',
 *   path-max), a subset of what 4.17 took. Which '@' names mean something is
 *   xsd_path_special()'s business.
 */

/* Room for any canonical path and its NUL. */
#define XSD_PATH_BUF (XSD_ABS_PATH_MAX + 1)
/* Room for the store path of any canonical path (chunk marks, "/.value"). */
#define XSD_STORE_PATH_BUF (XSD_ABS_PATH_MAX + 64)
/* Longest store name (libvstore's limit); longer Xenstore names are chunked. */
#define XSD_STORE_NAME_MAX 255u

enum xsd_path_flags {
	XSD_PATH_SPECIAL = 1 << 0, /* accept "@..." names */
};

/** What an '@' path means (see xsd_path_special()). */
enum xsd_special {
	XSD_SPECIAL_NONE = 0,	   /* not an '@' path */
	XSD_SPECIAL_INTRODUCE,	   /* "@introduceDomain" */
	XSD_SPECIAL_RELEASE,	   /* "@releaseDomain" */
	XSD_SPECIAL_RELEASE_DOMID, /* "@releaseDomain/<domid>": one domain (newer than 4.17) */
	XSD_SPECIAL_OTHER,	   /* any other '@' name: legal, never fires */
};

/** Which part of a node a store path names. */
enum xsd_store_part {
	XSD_STORE_NODE,	 /* the node's tree */
	XSD_STORE_VALUE, /* its value blob, "<node>/.value" */
	XSD_STORE_META,	 /* its metadata blob, "<node>/.meta" */
};

/** What a name listed in a node's store tree is (xsd_store_entry_kind()). */
enum xsd_store_entry {
	XSD_ENTRY_CHILD, /* a child node, named as in Xenstore */
	XSD_ENTRY_CHUNK, /* the first 254 bytes of a longer child name + '.': descend */
	XSD_ENTRY_VALUE, /* ".value" */
	XSD_ENTRY_META,	 /* ".meta" */
	XSD_ENTRY_OTHER, /* anything else: not written by this mapping */
};

/**
 * Validate @p path and write its canonical absolute form to @p out: relative
 * paths are resolved against /local/domain/@p domid. @p path_max is the
 * path-max quota (0: XSD_REL_PATH_MAX); @p flags are enum xsd_path_flags.
 * @return 0; VS_EINVAL for a path cxenstored rejects (message says why);
 * VS_ERANGE when @p outsz is too small (XSD_PATH_BUF always suffices).
 */
int xsd_path_canonical(char *out, size_t outsz, const char *path, unsigned int domid,
		       unsigned int path_max, unsigned int flags);

/**
 * Check an already absolute (or, with XSD_PATH_SPECIAL, '@') path by the
 * rules of xsd_path_canonical(). @return 0 or VS_EINVAL.
 */
int xsd_path_check(const char *path, unsigned int path_max, unsigned int flags);

/**
 * Classify '@' path @p path. For XSD_SPECIAL_RELEASE_DOMID, *domid (if not
 * NULL) receives the domain; only the canonical decimal form up to 65535
 * counts, since cxenstored builds the event path with "%u".
 */
enum xsd_special xsd_path_special(const char *path, unsigned int *domid);

/** Write "/local/domain/<domid>" (GET_DOMAIN_PATH). @return 0 or VS_ERANGE. */
int xsd_path_domain_home(char *out, size_t outsz, unsigned int domid);

/**
 * Write the parent of canonical @p path to @p out, as cxenstored's
 * get_parent(): "/a/b" -> "/a", "/a" -> "/", "@releaseDomain" -> "/",
 * "@releaseDomain/5" -> "@releaseDomain".
 * @return 0; VS_ENOENT for "/" (the root has no parent); VS_ERANGE.
 */
int xsd_path_parent(char *out, size_t outsz, const char *path);

/** The last component of @p path (borrowed, inside it): "" for "/". */
const char *xsd_path_basename(const char *path);

/**
 * True when @p path is @p ancestor or below it, on component boundaries
 * ("/a/bc" is not below "/a/b"); every absolute path is below "/".
 */
bool xsd_path_is_descendant(const char *path, const char *ancestor);

/**
 * How many components @p path lies below @p ancestor (0 for itself), the
 * watch-depth measure; -1 when it is not a descendant-or-self.
 */
int xsd_path_depth(const char *path, const char *ancestor);

/**
 * The domain of a path in "/local/domain/<N>" or below it, N in canonical
 * decimal up to 65535. @return 0 (and *domid), or VS_ENOENT.
 */
int xsd_path_domid(const char *path, unsigned int *domid);

/**
 * @p path as a watch registered relative by domain @p domid sees it: without
 * the leading "/local/domain/<domid>/". Borrowed (points inside @p path);
 * @p path itself when it does not start with that prefix.
 */
const char *xsd_path_relative(const char *path, unsigned int domid);

/**
 * The store path of canonical node @p path (or its .value/.meta blob):
 * "/a/b" -> "a/b", "a/b/.value", "a/b/.meta"; "/" -> "", ".value", ".meta";
 * "@name" -> ".@name" (a top-level entry no Xenstore name can equal). A
 * component longer than XSD_STORE_NAME_MAX becomes a chain of 254-byte
 * chunks each ending in '.', then the rest (Xenstore names hold no '.').
 * @return 0, VS_EINVAL (not a canonical path), VS_ERANGE.
 */
int xsd_path_store(char *out, size_t outsz, const char *path, enum xsd_store_part part);

/**
 * The reverse of xsd_path_store(): the Xenstore path of store path
 * @p store_path (a leading '/' is accepted) and, in *part (may be NULL),
 * which part it names. @return 0, VS_EINVAL (not a path this mapping
 * writes, e.g. a chunk without its rest), VS_ERANGE.
 */
int xsd_path_from_store(char *out, size_t outsz, const char *store_path, enum xsd_store_part *part);

/** Classify a name listed in a node's store tree. */
enum xsd_store_entry xsd_store_entry_kind(const char *name);

/* ---- Permissions and node metadata (perms.c) --------------------------- */
/*
 * Node permissions as C xenstored keeps them: a list of (domid, perm), the
 * first entry naming the owner and giving the default for domains not
 * listed. Wire form per entry: a letter n/r/w/b and the domid ("b0", "r5").
 *
 * Dead domains, as 4.17 handles them (domain.c domain_alloc_permrefs,
 * domain_adjust_node_perms, chk_domain_generation): entries are not removed
 * from ACLs but flagged XSD_PERM_IGNORE; an ignored entry matches nobody,
 * yet GET_PERMS still lists it with its letter, and the flag is kept when
 * the node is written. SET_PERMS flags entries of domains that do not exist
 * and fails with ENOENT when that hits the owner. On later reads and writes
 * cxenstored flags the entries of domains that died (or were created after
 * the node was last written) and gives a dead owner's node to the
 * privileged domain. Nodes owned by a domain are removed when it goes away
 * (or re-owned to the privileged domain with --keep-orphans).
 *
 * DOMID_ANY (0x7FF5, feature bit XSD_FEATURE_DOMID_ANY; added to Xen in 2026,
 * absent in 4.17): an entry with it matches every domain (the owner entry too); when
 * it is set by a connection without the feature it is flagged ignored.
 */

/** Permission bits, valued as in xenstore_lib.h. */
enum xsd_perm_bits {
	XSD_PERM_NONE = 0x00,
	XSD_PERM_READ = 0x01,
	XSD_PERM_WRITE = 0x02,
	XSD_PERM_BOTH = XSD_PERM_READ | XSD_PERM_WRITE,
	XSD_PERM_OWNER = 0x08,	/* in decisions only: may change perms */
	XSD_PERM_IGNORE = 0x10, /* on entries: the entry matches nobody */
};

/* The largest domid an entry may name (domid_t is 16 bits). */
#define XSD_DOMID_MAX 0xFFFFu
/* "No target" for xsd_perm_for(): a value no entry can hold. */
#define XSD_NO_TARGET (~0u)

/** One entry. */
struct xsd_perm {
	unsigned int domid; /* 0..XSD_DOMID_MAX (DOMID_ANY included) */
	unsigned int perm;  /* XSD_PERM_NONE/READ/WRITE/BOTH, maybe | XSD_PERM_IGNORE */
};

/** A permission list, owner first. Caller-owned: init/release. */
struct xsd_perms {
	struct xsd_perm *p; /* entries; NULL when num == 0 */
	unsigned int num;   /* entries in use */
	unsigned int cap;   /* entries allocated */
};

#define XSD_PERMS_INIT                                                                             \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/** Make @p ps an empty list. */
void xsd_perms_init(struct xsd_perms *ps);
/** Free the entries and leave @p ps empty (reusable). NULL-safe. */
void xsd_perms_release(struct xsd_perms *ps);
/** Append an entry. @return 0, VS_ENOMEM. */
int xsd_perms_add(struct xsd_perms *ps, unsigned int domid, unsigned int perm);
/** Replace @p out's entries by a copy of @p src's. @return 0, VS_ENOMEM. */
int xsd_perms_copy(struct xsd_perms *out, const struct xsd_perms *src);
/** True when both lists hold the same entries (flags included) in the same order. */
bool xsd_perms_equal(const struct xsd_perms *a, const struct xsd_perms *b);

/** The letter of @p perm's access bits ('n', 'r', 'w', 'b'); flags are ignored. */
char xsd_perm_letter(unsigned int perm);

/**
 * Parse one wire entry (NUL-terminated @p s) as xenstore_strings_to_perms()
 * does: a letter, then a number in strtol(…, 0) syntax (leading blanks, sign,
 * 0x hex, 0 octal) using the whole rest. Unlike cxenstored, which truncates
 * any long into an unsigned domid, values outside 0..XSD_DOMID_MAX are
 * refused. @return 0 or VS_EINVAL.
 */
int xsd_perm_parse(struct xsd_perm *out, const char *s);

/**
 * Parse a SET_PERMS list: the NUL-terminated entries in @p buf (@p len
 * bytes, the payload after the path). Bytes after the last NUL are ignored,
 * as cxenstored counts strings by their NULs. @p max (0: none) is the
 * node-permissions quota, checked before parsing as cxenstored does.
 * @return 0; VS_EINVAL (no entry, bad entry); VS_ENOSPC (more than @p max).
 */
int xsd_perms_parse_wire(struct xsd_perms *out, const void *buf, size_t len, unsigned int max);

/** Append the GET_PERMS reply ("b0\0r5\0", flags dropped) to @p out. @return 0, VS_ENOMEM. */
int xsd_perms_format_wire(struct vs_buf *out, const struct xsd_perms *ps);

/**
 * Append the text form kept in .meta: entries separated by one space, an
 * ignored entry prefixed by '!' ("b0 r5 !n7"). @return 0, VS_EINVAL (empty
 * list or a bad entry), VS_ENOMEM.
 */
int xsd_perms_format_text(struct vs_buf *out, const struct xsd_perms *ps);

/**
 * Parse the text form strictly (the exact output of xsd_perms_format_text:
 * canonical decimal domids, single spaces). @return 0, VS_ECORRUPT, VS_ENOMEM.
 */
int xsd_perms_parse_text(struct xsd_perms *out, const char *s, size_t len);

/**
 * The access domain @p domid has to a node with @p ps, as cxenstored's
 * perm_for_conn(): XSD_PERM_READ | WRITE | OWNER for a privileged
 * connection (@p priv) and for the owner; otherwise the first entry after
 * the owner that is not ignored and names @p domid, @p target (the domain
 * set by SET_TARGET, or XSD_NO_TARGET) or DOMID_ANY; else the owner entry's
 * bits as the default. The owner entry matches @p target and DOMID_ANY too.
 */
unsigned int xsd_perm_for(const struct xsd_perms *ps, unsigned int domid, unsigned int target,
			  bool priv);

/** True when xsd_perm_for() grants every bit of @p want. */
bool xsd_perm_allows(const struct xsd_perms *ps, unsigned int domid, unsigned int target, bool priv,
		     unsigned int want);

/**
 * The perms of a node created below a node with @p parent (construct_node):
 * a copy, whose owner becomes @p creator unless the creator is privileged.
 * An entry the creator already had stays where it was (it can no longer
 * matter: the owner matches first). @return 0, VS_ENOMEM.
 */
int xsd_perms_inherit(struct xsd_perms *out, const struct xsd_perms *parent, unsigned int creator,
		      bool priv);

/** Does domain @p domid exist (or, for a node, still exist as it was)? */
typedef bool xsd_domid_valid_fn(void *payload, unsigned int domid);

/**
 * Prepare a SET_PERMS list as domain_alloc_permrefs(): flag ignored every
 * entry whose domain @p exists says is not there, and every DOMID_ANY entry
 * when the writing connection lacks the feature (@p domid_any_ok false).
 * @return 0; VS_ENOENT when the owner entry got flagged (cxenstored's answer).
 */
int xsd_perms_prepare_set(struct xsd_perms *ps, bool domid_any_ok, xsd_domid_valid_fn *exists,
			  void *payload);

/**
 * Re-check a stored list as domain_adjust_node_perms(): a non-owner entry
 * whose domain @p valid rejects is flagged ignored (DOMID_ANY entries are
 * left alone); an owner it rejects is replaced by @p priv_domid.
 * @return true when @p ps changed.
 */
bool xsd_perms_adjust(struct xsd_perms *ps, unsigned int priv_domid, xsd_domid_valid_fn *valid,
		      void *payload);

/**
 * The same for one domain known to be gone (RELEASE, domain death): its
 * entries after the owner are flagged ignored, an owner @p domid becomes
 * @p priv_domid. @return true when @p ps changed.
 */
bool xsd_perms_forget_domain(struct xsd_perms *ps, unsigned int domid, unsigned int priv_domid);

/*
 * A node's .meta blob: short text lines, in this order, each ending in '\n':
 *   perms <text form>     required, e.g. "perms b0 r5 !n7"
 *   seq <decimal>         required: creation sequence number (DIRECTORY order)
 *   label <label>         optional: MAC label, 1..XSD_LABEL_MAX bytes of 0x21..0x7e
 * Numbers are canonical decimal. Parsing is strict (anything else is
 * VS_ECORRUPT) and formatting canonical, so equal metadata gives equal
 * bytes and an unchanged node keeps its blob id.
 */
#define XSD_LABEL_MAX 255u

/** A node's metadata. Caller-owned: init/release. */
struct xsd_meta {
	struct xsd_perms perms; /* owner first, at least one entry */
	uint64_t seq;		/* creation sequence number */
	char *label;		/* MAC label, NUL-terminated, or NULL; owned */
};

/** Make @p m empty (no perms, seq 0, no label). */
void xsd_meta_init(struct xsd_meta *m);
/** Free what @p m holds and leave it empty. NULL-safe. */
void xsd_meta_release(struct xsd_meta *m);
/** Copy @p label into @p m (NULL removes it). @return 0, VS_EINVAL (bad label), VS_ENOMEM. */
int xsd_meta_set_label(struct xsd_meta *m, const char *label);
/** Replace @p out by a deep copy of @p src. @return 0, VS_ENOMEM. */
int xsd_meta_copy(struct xsd_meta *out, const struct xsd_meta *src);
/** Parse a .meta blob into @p out (replacing it). @return 0, VS_ECORRUPT, VS_ENOMEM. */
int xsd_meta_parse(struct xsd_meta *out, const void *data, size_t len);
/** Replace @p out's contents by the canonical blob of @p m. @return 0, VS_EINVAL, VS_ENOMEM. */
int xsd_meta_format(struct vs_buf *out, const struct xsd_meta *m);

#endif
