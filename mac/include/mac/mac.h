/* SPDX-License-Identifier: MIT */
/*
 * Mandatory access control for the Xenstore daemon (FLASK-style): a policy
 * gives every domain a label and every node a label, and allow rules over
 * (domain label, node label, operation) decide; everything else is denied.
 * Two objects: struct mac_policy (a parsed, checked, immutable, refcounted
 * policy) and struct mac_server (the "security server" the daemon holds: the
 * current policy, the mode, the decision cache, the audit rate limiter and
 * the per-domain labels). The language is documented in mac/POLICY.md.
 *
 * Errors are libvstore's negative VS_E... codes; the message is in
 * vs_error_last(). Single-threaded like the engine, except that a policy
 * may be parsed, duplicated and freed on any thread (atomic refcount).
 *
 * How the daemon uses it (see each function):
 *   startup   mac_policy_load() (print mac_errors_print() and exit on
 *             VS_EINVAL), mac_server_new()
 *   reload    mac_policy_load() then mac_server_set_policy(); on any error
 *             keep running with the old policy
 *   domains   mac_domain_set_name() when dom0 writes /local/domain/N/name,
 *             mac_domain_set_label() from the CONTROL command,
 *             mac_domain_forget() on release
 *   create    mac_node_label() -> store the text in the node's .meta
 *   request   mac_check() / mac_check_domain() after the DAC check
 *   watches   mac_check(..., MAC_OP_READ, ..., MAC_CHECK_QUIET) per event
 */
#ifndef MAC_MAC_H
#define MAC_MAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** Longest label text ("type" or "type:domid"), as a node's .meta allows. */
#define MAC_LABEL_MAX 255u
/** Longest label name (the "type" part) a policy may declare. */
#define MAC_NAME_MAX 64u
/** Domain ids a policy can name: 0 to MAC_DOMID_MAX (below DOMID_FIRST_RESERVED). */
#define MAC_DOMID_MAX 0x7FEFu

/** The operations a rule allows. The names are the policy's words. */
enum mac_op {
	MAC_OP_READ,	  /* "read": READ, GET_PERMS; each watch event delivered */
	MAC_OP_WRITE,	  /* "write": WRITE of an existing node */
	MAC_OP_CREATE,	  /* "create": a new node (WRITE/MKDIR), on its new label */
	MAC_OP_REMOVE,	  /* "remove": RM, on the subtree's root */
	MAC_OP_LIST,	  /* "list": DIRECTORY, DIRECTORY_PART */
	MAC_OP_WATCH,	  /* "watch": WATCH, on the watched path */
	MAC_OP_SETPERM,	  /* "setperm": SET_PERMS */
	MAC_OP_RELABEL,	  /* "relabel": changing a node's label (old and new label) */
	MAC_OP_INTRODUCE, /* "introduce": INTRODUCE, SET_TARGET (mac_check_domain) */
	MAC_OP_RELEASE,	  /* "release": RELEASE, RESUME (mac_check_domain) */
	MAC_OP_CONTROL,	  /* "control": CONTROL, on /tool/xenstored */
	MAC_OP_COUNT,
};

/** Enforcing denies what the policy denies; permissive allows it but audits it. */
enum mac_mode {
	MAC_MODE_ENFORCING,
	MAC_MODE_PERMISSIVE,
};

/** The policy word of @p op ("read"), or "?" when out of range. */
const char *mac_op_name(enum mac_op op);
/** The operation named @p name. @return its enum mac_op value, or VS_EINVAL. */
int mac_op_from_name(const char *name);
/** "enforcing" or "permissive". */
const char *mac_mode_name(enum mac_mode mode);
/** Parse a mode name (for --mac). @return its enum mac_mode value, or VS_EINVAL. */
int mac_mode_from_name(const char *name);

/* ---------------------------------------------------------------- policies */

struct mac_policy;

/** One checker error: a policy line (1-based; 0 for the whole file) and what is wrong. */
struct mac_error {
	unsigned int line; /* 1-based line number, 0 when no line applies */
	char *message;	   /* one line, no trailing newline; owned */
};

/** The errors of one load, sorted by line. Caller-owned: mac_errors_init/release. */
struct mac_errors {
	struct mac_error *items; /* count entries; owned */
	size_t count;		 /* how many */
};

/** Make @p errs empty. */
void mac_errors_init(struct mac_errors *errs);
/** Free what @p errs holds and leave it empty. NULL-safe. */
void mac_errors_release(struct mac_errors *errs);
/**
 * Print each error as "SOURCE:LINE: MESSAGE\n" (without ":LINE" for line 0)
 * to @p f: the output of `xenstored --check-policy` and of the golden files.
 */
void mac_errors_print(FILE *f, const char *source, const struct mac_errors *errs);

/**
 * Parse and check the policy text @p text (@p len bytes, no NUL needed):
 * syntax, declarations, duplicates, and every neverallow assertion.
 * @param[out] out the policy, or NULL on failure; free with mac_policy_free().
 * @param[out] errs when not NULL, receives every error found (appended).
 * @return 0; VS_EINVAL when the policy has errors (all are in @p errs, the
 *         first also in the message); VS_ENOMEM.
 */
int mac_policy_parse(struct mac_policy **out, struct mac_errors *errs, const char *text,
		     size_t len);

/**
 * Read the file @p path and mac_policy_parse() it.
 * @return 0; VS_EINVAL (errors in @p errs); VS_ENOENT or VS_EIO when the file
 *         cannot be read (no entry in @p errs: read the message); VS_ENOMEM.
 */
int mac_policy_load(struct mac_policy **out, struct mac_errors *errs, const char *path);

/** Take another reference to @p p (which is never modified). @return @p p. */
struct mac_policy *mac_policy_dup(struct mac_policy *p);
/** Drop a reference; the last one frees the policy. NULL-safe. */
void mac_policy_free(struct mac_policy *p);

/**
 * Validate label text for this policy: "type" or "type:domid" with a declared
 * type and a domid up to MAC_DOMID_MAX (for a relabel request).
 * @return 0, or VS_EINVAL with the reason in the message.
 */
int mac_policy_label_check(const struct mac_policy *p, const char *label);

/**
 * The label of a node being created at @p path (canonical: "/", "/a/b" or a
 * special "@name"): the most specific matching `path` rule, with the domid a
 * `$self` component matched bound in ("home_t:5"); else a copy of
 * @p parent_label (the parent node's stored label); with a NULL
 * @p parent_label, the pattern label of the nearest ancestor (the label the
 * node would have had, had its ancestors been created under this policy);
 * else "unlabeled". Pure: the creator does not matter.
 * @param[out] out at least MAC_LABEL_MAX + 1 bytes, NUL-terminated on return.
 */
void mac_policy_label_node(const struct mac_policy *p, char *out, const char *path,
			   const char *parent_label);

/**
 * "Does domain @p backend serve a device of domain @p frontend?": true when
 * some /local/domain/<frontend>/device/<type>/<id>/backend-id holds
 * @p backend (the daemon answers; it may also require the matching
 * /local/domain/<backend>/backend/<type>/<frontend>/<id>).
 */
typedef bool mac_serves_fn(void *payload, unsigned int backend, unsigned int frontend);

/**
 * The pure decision (no cache, no audit, no mode): may a domain labelled
 * @p slabel with id @p domid do @p op on an object labelled @p tlabel?
 * Unknown or malformed labels act as "unlabeled". @p serves may be NULL
 * (then `if serves`/`if served` rules never apply).
 * @return true when allowed.
 */
bool mac_policy_decide(const struct mac_policy *p, const char *slabel, unsigned int domid,
		       enum mac_op op, const char *tlabel, mac_serves_fn *serves, void *payload);

/**
 * The label the policy gives domain @p domid whose name is @p name (NULL:
 * unknown): its `domain N` rule, else the best `domain name` rule, else
 * `domain default`, else "unlabeled". @return borrowed from @p p.
 */
const char *mac_policy_domain_label(const struct mac_policy *p, unsigned int domid,
				    const char *name);

/* ---------------------------------------------------------------- server */

struct mac_server;

/** One audit line, NUL-terminated, without a newline; @p line is borrowed. */
typedef void mac_audit_fn(void *payload, const char *line);
/** A monotonic clock in milliseconds (tests pass a fake one). */
typedef uint64_t mac_clock_fn(void *payload);

#define MAC_SERVER_OPTS_VERSION 1

struct mac_server_opts {
	unsigned int version;  /* MAC_SERVER_OPTS_VERSION */
	enum mac_mode mode;    /* initial mode (enforcing) */
	mac_serves_fn *serves; /* device pairing oracle, or NULL (no pairing) */
	void *serves_payload;
	mac_audit_fn *audit; /* where audit lines go, or NULL (dropped, still counted) */
	void *audit_payload;
	bool audit_grants;		/* also one line per granted check */
	unsigned int audit_burst;	/* identical lines per interval (0: 5) */
	unsigned int audit_total;	/* lines of any kind per interval (0: 100) */
	unsigned int audit_interval_ms; /* the rate-limit window (0: 1000) */
	mac_clock_fn *clock;		/* NULL: CLOCK_MONOTONIC */
	void *clock_payload;
};

#define MAC_SERVER_OPTS_INIT                                                                       \
	{                                                                                          \
		.version = MAC_SERVER_OPTS_VERSION, .mode = MAC_MODE_ENFORCING                     \
	}

/**
 * A security server enforcing @p policy (a reference is taken; the caller
 * keeps its own). @p opts may be NULL for the defaults.
 * @return 0, VS_EINVAL (bad opts version), VS_ENOMEM. Free with mac_server_free().
 */
int mac_server_new(struct mac_server **out, struct mac_policy *policy,
		   const struct mac_server_opts *opts);

/** Emit pending audit summaries, then free the server and its policy reference. NULL-safe. */
void mac_server_free(struct mac_server *s);

/**
 * Switch atomically to @p policy (a reference is taken) and flush the decision
 * cache: the next check uses it. Refused, keeping the current policy, when a
 * label given with mac_domain_set_label() is not declared in @p policy.
 * @return 0, VS_EINVAL.
 */
int mac_server_set_policy(struct mac_server *s, struct mac_policy *policy);

/** The policy in force. @return borrowed until the next mac_server_set_policy(). */
const struct mac_policy *mac_server_policy(const struct mac_server *s);

/** Set enforcing or permissive mode (takes effect on the next check). */
void mac_server_set_mode(struct mac_server *s, enum mac_mode mode);
/** The current mode. */
enum mac_mode mac_server_mode(const struct mac_server *s);
/** Also audit granted checks (true) or only denials (false). */
void mac_server_set_audit_grants(struct mac_server *s, bool on);

/**
 * Domain @p domid is named @p name (the value of /local/domain/<domid>/name,
 * as written by the privileged domain; NULL: forget it). `domain name`
 * rules then apply to it. @return 0, VS_ENOMEM.
 */
int mac_domain_set_name(struct mac_server *s, unsigned int domid, const char *name);

/**
 * Give domain @p domid the explicit label @p label (the CONTROL command at
 * introduce time), which beats every `domain` rule; NULL removes it.
 * @return 0; VS_EINVAL when @p label is not a declared label name; VS_ENOMEM.
 */
int mac_domain_set_label(struct mac_server *s, unsigned int domid, const char *label);

/** Forget the name and explicit label of @p domid (the domain is gone). */
void mac_domain_forget(struct mac_server *s, unsigned int domid);

/**
 * The label domain @p domid acts with: explicit label, else `domain N`, else
 * `domain name`, else `domain default`, else "unlabeled".
 * @return borrowed until the next mac_server_set_policy().
 */
const char *mac_domain_label(struct mac_server *s, unsigned int domid);

/** mac_policy_label_node() with the policy in force. */
void mac_node_label(struct mac_server *s, char *out, const char *path, const char *parent_label);

enum mac_check_flags {
	MAC_CHECK_QUIET = 1 << 0, /* write no audit line (watch event filtering) */
};

/**
 * May domain @p domid do @p op on the node @p path whose stored label is
 * @p label? NULL @p label (a node made before MAC, a special path, a node
 * not created yet) means the label mac_node_label(path, NULL) gives. The
 * check goes through the cache; a denial (and a grant when asked) writes one
 * audit line unless @p flags has MAC_CHECK_QUIET. For CONTROL, pass
 * "/tool/xenstored" and that node's label.
 * @return 0 when allowed (or denied in permissive mode); VS_EACCES when
 *         denied in enforcing mode; VS_EINVAL for an @p op out of range.
 */
int mac_check(struct mac_server *s, unsigned int domid, enum mac_op op, const char *path,
	      const char *label, unsigned int flags);

/**
 * May domain @p domid do @p op (introduce, release) on domain @p target?
 * The object is @p target's domain label bound to @p target ("guest_t:5",
 * so `if self` means "itself"); the audit line's path is "@domain:<target>".
 * @return as mac_check().
 */
int mac_check_domain(struct mac_server *s, unsigned int domid, enum mac_op op, unsigned int target,
		     unsigned int flags);

/**
 * Emit a "suppressed=K" summary line for every rate-limited audit key with
 * drops pending (call it on a timer, e.g. once per interval, and at exit).
 */
void mac_audit_flush(struct mac_server *s);

/** Counters since mac_server_new(). */
struct mac_stats {
	uint64_t policy_seq;	   /* policies installed (1 after mac_server_new) */
	uint64_t checks;	   /* mac_check + mac_check_domain calls */
	uint64_t denials;	   /* checks the policy denied (either mode) */
	uint64_t cache_hits;	   /* decisions answered from the cache */
	uint64_t cache_misses;	   /* decisions computed from the rules */
	uint64_t audit_lines;	   /* lines given to the sink (summaries included) */
	uint64_t audit_suppressed; /* lines dropped by rate limiting */
};

/** Copy the server's counters into @p out. */
void mac_server_stats(const struct mac_server *s, struct mac_stats *out);

#endif
