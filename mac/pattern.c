/* SPDX-License-Identifier: MIT */
/*
 * Path patterns (`path` rules) and domain-name globs (`domain name` rules),
 * and node labelling: a new node takes the label of the most specific
 * matching pattern, else its parent's. A pattern is "/" followed by
 * components: a literal, `*` (one component), `$self` (one component that is
 * a domid, bound into the label) or a final `**` (zero or more components);
 * or a literal special path "@name". Patterns are kept sorted most specific
 * first, so the first match is the answer.
 */
#include "mac_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vstore/errors.h>

/* Xenstore's node name characters (is_valid_nodename), without '/'. */
static bool path_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '@';
}

static int comp_parse(struct mac_comp *c, const char *s, size_t len, bool last, bool *had_self,
		      char *err, size_t errsz)
{
	if (len == 0) {
		snprintf(err, errsz, "empty component");
		return VS_EINVAL;
	}
	if (len == 2 && s[0] == '*' && s[1] == '*') {
		if (!last) {
			snprintf(err, errsz, "'**' must be the last component");
			return VS_EINVAL;
		}
		c->kind = MAC_COMP_DSTAR;
		return 0;
	}
	if (len == 1 && s[0] == '*') {
		c->kind = MAC_COMP_STAR;
		return 0;
	}
	if (s[0] == '$') {
		if (len != 5 || memcmp(s, "$self", 5) != 0) {
			snprintf(err, errsz, "unknown variable '%.*s' (the only one is $self)",
				 (int)(len > 32 ? 32 : len), s);
			return VS_EINVAL;
		}
		if (*had_self) {
			snprintf(err, errsz, "$self may appear only once");
			return VS_EINVAL;
		}
		*had_self = true;
		c->kind = MAC_COMP_SELF;
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '*') {
			snprintf(err, errsz, "'*' must be a whole component");
			return VS_EINVAL;
		}
		if (!path_char_ok(s[i])) {
			snprintf(err, errsz, "bad character '%c' (letters, digits, - _ @)", s[i]);
			return VS_EINVAL;
		}
	}
	c->kind = MAC_COMP_LIT;
	c->text = s;
	c->len = len;
	return 0;
}

int mac__pattern_parse(struct mac_path_rule *out, const char *text, size_t len, char *err,
		       size_t errsz)
{
	bool had_self = false;
	size_t n = 0;
	int rc = VS_EINVAL;

	memset(out, 0, sizeof(*out));
	if (len == 0 || (text[0] != '/' && text[0] != '@')) {
		snprintf(err, errsz, "must start with '/' or '@'");
		return VS_EINVAL;
	}
	if (!(out->text = strndup(text, len)))
		return vs_error_set(VS_ENOMEM, "out of memory for a pattern");
	for (size_t i = 0; i < len; i++)
		n += out->text[i] == '/';
	out->comps = calloc(n + 1, sizeof(*out->comps));
	if (!out->comps) {
		rc = vs_error_set(VS_ENOMEM, "out of memory for a pattern");
		goto fail;
	}
	if (text[0] == '@') {
		/* A special path is a single literal ("@releaseDomain"). */
		out->special = true;
		if (len < 2 || n > 0) {
			snprintf(err, errsz, "a special path is '@' and a name, without '/'");
			goto fail;
		}
		for (size_t i = 1; i < len; i++) {
			if (!path_char_ok(text[i]) || text[i] == '@') {
				snprintf(err, errsz, "bad character '%c' in a special path",
					 text[i]);
				goto fail;
			}
		}
		out->comps[0] = (struct mac_comp){MAC_COMP_LIT, out->text, len};
		out->ncomps = 1;
		return 0;
	}
	if (len == 1) /* "/" itself: no components */
		return 0;
	if (text[len - 1] == '/') {
		snprintf(err, errsz, "must not end with '/'");
		goto fail;
	}
	const char *s = out->text + 1, *end = out->text + len;
	while (s <= end) {
		const char *slash = memchr(s, '/', (size_t)(end - s));
		const char *e = slash ? slash : end;

		if ((rc = comp_parse(&out->comps[out->ncomps], s, (size_t)(e - s), !slash,
				     &had_self, err, errsz)) < 0)
			goto fail;
		out->ncomps++;
		s = e + 1;
	}
	return 0;
fail:
	mac__pattern_release(out);
	return rc;
}

void mac__pattern_release(struct mac_path_rule *r)
{
	if (!r)
		return;
	free(r->text);
	free(r->comps);
	memset(r, 0, sizeof(*r));
}

struct pattern_score {
	size_t lits, selfs, stars;
	bool dstar;
};

static struct pattern_score pattern_score(const struct mac_path_rule *r)
{
	struct pattern_score sc = {0};

	for (size_t i = 0; i < r->ncomps; i++) {
		switch (r->comps[i].kind) {
		case MAC_COMP_LIT:
			sc.lits++;
			break;
		case MAC_COMP_SELF:
			sc.selfs++;
			break;
		case MAC_COMP_STAR:
			sc.stars++;
			break;
		case MAC_COMP_DSTAR:
			sc.dstar = true;
			break;
		}
	}
	return sc;
}

#define CMP_DESC(x, y)                                                                             \
	do {                                                                                       \
		if ((x) != (y))                                                                    \
			return (x) > (y) ? -1 : 1;                                                 \
	} while (0)

/*
 * Most specific first: more literal components, then more $self, then more
 * `*`, then no `**`; then, position by position from the left, the stronger
 * kind (literal > $self > `*` > `**`); then the earlier line. Two patterns
 * equal up to the line either never match the same path (different
 * literals) or are duplicates, which the parser rejects.
 */
int mac__pattern_cmp(const void *a, const void *b)
{
	const struct mac_path_rule *x = a, *y = b;
	struct pattern_score sx = pattern_score(x), sy = pattern_score(y);

	CMP_DESC(sx.lits, sy.lits);
	CMP_DESC(sx.selfs, sy.selfs);
	CMP_DESC(sx.stars, sy.stars);
	CMP_DESC(!sx.dstar, !sy.dstar);
	for (size_t i = 0; i < x->ncomps && i < y->ncomps; i++)
		CMP_DESC(x->comps[i].kind, y->comps[i].kind);
	return x->line < y->line ? -1 : x->line > y->line;
}

bool mac__pattern_same(const struct mac_path_rule *a, const struct mac_path_rule *b)
{
	if (a->special != b->special || a->ncomps != b->ncomps)
		return false;
	for (size_t i = 0; i < a->ncomps; i++) {
		const struct mac_comp *x = &a->comps[i], *y = &b->comps[i];

		if (x->kind != y->kind)
			return false;
		if (x->kind == MAC_COMP_LIT &&
		    (x->len != y->len || memcmp(x->text, y->text, x->len) != 0))
			return false;
	}
	return true;
}

bool mac__pattern_match(const struct mac_path_rule *r, const char *path, uint32_t *bound)
{
	*bound = MAC_UNBOUND;
	if (path[0] == '@')
		return r->special && strcmp(r->comps[0].text, path) == 0;
	if (r->special || path[0] != '/')
		return false;
	const char *s = path + 1; /* the next component, or "" at the end */
	for (size_t i = 0; i < r->ncomps; i++) {
		const struct mac_comp *c = &r->comps[i];

		if (c->kind == MAC_COMP_DSTAR)
			return true; /* last, by construction: takes the rest */
		if (!*s)
			return false; /* path too short */
		const char *slash = strchr(s, '/');
		size_t len = slash ? (size_t)(slash - s) : strlen(s);

		switch (c->kind) {
		case MAC_COMP_LIT:
			if (len != c->len || memcmp(s, c->text, len) != 0)
				return false;
			break;
		case MAC_COMP_SELF:
			if (!mac__domid_parse(s, len, bound))
				return false;
			break;
		default:
			break;
		}
		s = slash ? slash + 1 : s + len;
	}
	if (*s) {
		*bound = MAC_UNBOUND;
		return false; /* path too long */
	}
	return true;
}

bool mac__glob_match(const char *glob, const char *name)
{
	const char *star = NULL, *resume = NULL;

	/* Iterative wildcard match: on a mismatch after a '*', let it eat one more byte. */
	while (*name) {
		if (*glob == '*') {
			star = glob++;
			resume = name;
		} else if (*glob == *name) {
			glob++;
			name++;
		} else if (star) {
			glob = star + 1;
			name = ++resume;
		} else {
			return false;
		}
	}
	while (*glob == '*')
		glob++;
	return *glob == '\0';
}

static bool label_text_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAC_LABEL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

/* The label of the most specific pattern matching @path into @out. @return whether one did. */
static bool label_by_pattern(const struct mac_policy *p, char *out, const char *path)
{
	uint32_t bound;

	for (size_t i = 0; i < p->npaths; i++) {
		if (mac__pattern_match(&p->paths[i], path, &bound)) {
			mac__label_format(&p->labels, out, p->paths[i].label, bound);
			return true;
		}
	}
	return false;
}

void mac_policy_label_node(const struct mac_policy *p, char *out, const char *path,
			   const char *parent_label)
{
	char up[4096];
	size_t len;

	if (path && label_by_pattern(p, out, path))
		return;
	/* Inherited verbatim, even a label this policy does not know: it is history. */
	if (parent_label && label_text_ok(parent_label)) {
		snprintf(out, MAC_LABEL_MAX + 1, "%s", parent_label);
		return;
	}
	/*
	 * No parent label: as if every ancestor had been created under this
	 * policy, the nearest ancestor a pattern matches gives the label.
	 */
	if (!parent_label && path && path[0] == '/' && (len = strlen(path)) < sizeof(up)) {
		memcpy(up, path, len + 1);
		while (len > 1) {
			while (len > 1 && up[len - 1] != '/')
				len--;
			up[len > 1 ? len - 1 : 1] = '\0';
			len = len > 1 ? len - 1 : 1;
			if (label_by_pattern(p, out, up))
				return;
		}
	}
	snprintf(out, MAC_LABEL_MAX + 1, "%s", p->labels.names[MAC_UNLABELED]);
}
