/* SPDX-License-Identifier: MIT */
/*
 * mac/ internals shared by policy.c (parser), policy_check.c (checker),
 * label.c (label table and label text), pattern.c (path patterns, name
 * globs, node labelling), decide.c (pure decisions), avc.c (cache),
 * audit.c (rate-limited audit lines) and server.c (the security server).
 * A label name is interned once per policy as a small index (a "type");
 * index 0 is always the built-in "unlabeled".
 */
#ifndef MAC_INT_H
#define MAC_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mac/mac.h>

#define MAC_UNLABELED 0u       /* type index of "unlabeled" */
#define MAC_UNBOUND UINT32_MAX /* a label bound to no domain */
#define MAC_OPS_ALL ((1u << MAC_OP_COUNT) - 1)

/* --- label.c: interned label names --- */
struct mac_labels {
	char **names;	    /* by type index; owned */
	unsigned int *line; /* declaring line of each (0 for built-ins) */
	uint32_t count, cap;
	uint32_t *slots; /* open addressing: type index + 1, 0 = empty */
	uint32_t nslots; /* a power of two, at least twice count */
};
int mac__labels_init(struct mac_labels *t);
void mac__labels_release(struct mac_labels *t);
/* Add @name (@len bytes). @return its new index, VS_EEXIST (index in *dup), VS_ENOMEM. */
int mac__labels_add(struct mac_labels *t, const char *name, size_t len, unsigned int line,
		    uint32_t *dup);
/* The index of @name (@len bytes), or -1. */
int64_t mac__labels_find(const struct mac_labels *t, const char *name, size_t len);
/* Whether @name (@len bytes) is a valid label name (letters, digits, _ . -). */
bool mac__name_ok(const char *name, size_t len);
/* Parse label text into its type and bound domid; unknown types are MAC_UNLABELED. */
void mac__label_parse(const struct mac_labels *t, const char *text, uint32_t *type,
		      uint32_t *bound);
/* Parse a canonical decimal domid of @len bytes (no sign, no leading 0). */
bool mac__domid_parse(const char *s, size_t len, uint32_t *out);
/* Format type (+ ":bound") into @out (MAC_LABEL_MAX + 1 bytes). */
void mac__label_format(const struct mac_labels *t, char *out, uint32_t type, uint32_t bound);

/* --- pattern.c: path patterns and domain-name globs --- */
enum mac_comp_kind { MAC_COMP_DSTAR, MAC_COMP_STAR, MAC_COMP_SELF, MAC_COMP_LIT };
struct mac_comp {
	enum mac_comp_kind kind;
	const char *text; /* literal components: points into mac_path_rule.text */
	size_t len;
};
struct mac_path_rule {
	char *text;		/* the pattern as written; owned */
	struct mac_comp *comps; /* owned */
	size_t ncomps;
	bool special; /* "@name": matches only that special path */
	uint32_t label;
	unsigned int line;
};
/* Parse @text (@len bytes) into @out. @return 0, VS_EINVAL (message in @err), VS_ENOMEM. */
int mac__pattern_parse(struct mac_path_rule *out, const char *text, size_t len, char *err,
		       size_t errsz);
void mac__pattern_release(struct mac_path_rule *r);
/* Sort order: the most specific pattern first (POLICY.md, "Specificity"). */
int mac__pattern_cmp(const void *a, const void *b);
/* Whether two patterns are the same (same kinds, same literals). */
bool mac__pattern_same(const struct mac_path_rule *a, const struct mac_path_rule *b);
/* Does @path match @r? *bound gets the $self domid (MAC_UNBOUND without $self). */
bool mac__pattern_match(const struct mac_path_rule *r, const char *path, uint32_t *bound);
/* Does @name match @glob ('*' matches any run of bytes)? */
bool mac__glob_match(const char *glob, const char *name);

/* --- policy.c --- */
struct mac_rule {
	uint64_t *subj;	   /* bitset over types, policy nwords words; owned */
	uint64_t *obj;	   /* likewise */
	uint32_t ops;	   /* 1 << enum mac_op */
	unsigned int cond; /* enum mac_cond */
	unsigned int line;
};
enum mac_cond { MAC_COND_ANY, MAC_COND_SELF, MAC_COND_SERVES, MAC_COND_SERVED, MAC_COND_COUNT };

struct mac_domid_rule {
	uint32_t domid;
	uint32_t label;
	unsigned int line;
};
struct mac_name_rule {
	char *glob;  /* owned */
	size_t lits; /* bytes other than '*', for ordering */
	bool exact;  /* no '*' */
	uint32_t label;
	unsigned int line;
};

struct mac_policy {
	atomic_uint refs;
	struct mac_labels labels;
	size_t nwords; /* words per type bitset */
	struct mac_rule *allow, *never;
	size_t nallow, nnever;
	struct mac_path_rule *paths; /* most specific first */
	size_t npaths;
	struct mac_domid_rule *domids; /* sorted by domid */
	size_t ndomids;
	struct mac_name_rule *names; /* best match first */
	size_t nnames;
	uint32_t default_label; /* MAC_UNLABELED when there is no `domain default` */
	unsigned int default_line;
};

/* --- policy_check.c --- */
/* Append an error for @line (printf-style). @return 0, VS_ENOMEM. */
int mac__error_add(struct mac_errors *errs, unsigned int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Check every neverallow against every allow rule, appending errors. */
int mac__check_neverallow(const struct mac_policy *p, struct mac_errors *errs);
/* Sort the errors from index @from on by line (stable). */
void mac__errors_sort(struct mac_errors *errs, size_t from);
static inline bool mac__bit(const uint64_t *set, uint32_t i)
{
	return (set[i / 64] >> (i % 64)) & 1u;
}

/* --- decide.c --- */
/* What a (subject type, object type) pair may do, per condition. */
struct mac_vec {
	uint32_t ops[MAC_COND_COUNT];
};
void mac__vec_compute(const struct mac_policy *p, uint32_t stype, uint32_t ttype,
		      struct mac_vec *out);
/* Apply the vector to one request. */
bool mac__vec_allows(const struct mac_vec *v, enum mac_op op, uint32_t domid, uint32_t bound,
		     mac_serves_fn *serves, void *payload);
/* Domain label from the policy's rules only. */
uint32_t mac__policy_domain_type(const struct mac_policy *p, uint32_t domid, const char *name);

/* --- avc.c: (subject type, object type) -> vector, flushed by sequence number --- */
#define MAC_AVC_SLOTS 512u
struct mac_avc_entry {
	uint32_t stype, ttype;
	uint64_t seq; /* valid when equal to the cache's seq */
	struct mac_vec vec;
};
struct mac_avc {
	uint64_t seq; /* starts at 1: a zeroed entry is invalid */
	uint64_t hits, misses;
	struct mac_avc_entry slot[MAC_AVC_SLOTS];
};
void mac__avc_init(struct mac_avc *c);
void mac__avc_flush(struct mac_avc *c);
/* The vector of (stype, ttype), computed from @p on a miss. */
const struct mac_vec *mac__avc_lookup(struct mac_avc *c, const struct mac_policy *p, uint32_t stype,
				      uint32_t ttype);

/* --- audit.c: rate-limited audit lines --- */
struct mac_audit;
int mac__audit_new(struct mac_audit **out, const struct mac_server_opts *opts);
void mac__audit_free(struct mac_audit *a);
/* Emit @line subject to the rate limits. */
void mac__audit_emit(struct mac_audit *a, const char *line);
void mac__audit_flush(struct mac_audit *a);
void mac__audit_counts(const struct mac_audit *a, uint64_t *lines, uint64_t *suppressed);

#endif
