/* SPDX-License-Identifier: MIT */
/*
 * Xenstore path rules, as C xenstored 4.17 applies them (core.c
 * canonicalize() and is_valid_nodename()), path helpers for watches and
 * domains, and the mapping between Xenstore paths and store paths. Pure:
 * every function works on caller buffers, and a canonical path is at most
 * XSD_ABS_PATH_MAX bytes, so XSD_PATH_BUF/XSD_STORE_PATH_BUF always fit.
 */
#include "xsd_int.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <vstore/errors.h>

#define LOCAL_DOMAIN "/local/domain/"
#define LOCAL_DOMAIN_LEN (sizeof(LOCAL_DOMAIN) - 1)
/* A chunk of a long store name: this many bytes of the name, then '.'. */
#define CHUNK_BODY (XSD_STORE_NAME_MAX - 1)
/* Short quote of a path in error messages. */
#define QUOTE_MAX 64

static bool path_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '/' || c == '_' || c == '@';
}

static bool scanf_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/*
 * Where the per-domain part of @path starts: just past "/local/domain/<N>/"
 * as sscanf(path, "/local/domain/%5u/%n") finds it (blanks skipped, a sign
 * and at most five characters for the number), else 0. Blanks and '+' fail
 * the charset anyway; '-' does not, so "/local/domain/-1/x" counts as local
 * here exactly as in cxenstored.
 */
static size_t local_offset(const char *path)
{
	const char *s;
	unsigned int width = 0, digits = 0;

	if (strncmp(path, LOCAL_DOMAIN, LOCAL_DOMAIN_LEN) != 0)
		return 0;
	s = path + LOCAL_DOMAIN_LEN;
	while (scanf_space(*s))
		s++;
	if (*s == '+' || *s == '-') {
		s++;
		width++;
	}
	while (width < 5 && *s >= '0' && *s <= '9') {
		s++;
		width++;
		digits++;
	}
	if (!digits || *s != '/')
		return 0;
	return (size_t)(s + 1 - path);
}

/* The effective path-max: the quota, never above XENSTORE_REL_PATH_MAX (-M is clamped so). */
static size_t path_limit(unsigned int path_max)
{
	return path_max == 0 || path_max > XSD_REL_PATH_MAX ? XSD_REL_PATH_MAX : path_max;
}

int xsd_path_check(const char *path, unsigned int path_max, unsigned int flags)
{
	size_t len, off;

	if (!path)
		return vs_error_set(VS_EINVAL, "no path");
	if (path[0] == '@') {
		if (!(flags & XSD_PATH_SPECIAL))
			return vs_error_set(VS_EINVAL, "'@' names are not valid here: '%.*s'",
					    QUOTE_MAX, path);
	} else if (path[0] != '/') {
		return vs_error_set(VS_EINVAL, "path '%.*s' is not absolute", QUOTE_MAX, path);
	}
	len = strlen(path);
	for (size_t i = 0; i < len; i++)
		if (!path_char_ok(path[i]))
			return vs_error_set(VS_EINVAL,
					    "path '%.*s' has a character outside [A-Za-z0-9-/_@]",
					    QUOTE_MAX, path);
	if (len > 1 && path[len - 1] == '/')
		return vs_error_set(VS_EINVAL, "path '%.*s' ends with '/'", QUOTE_MAX, path);
	if (strstr(path, "//"))
		return vs_error_set(VS_EINVAL, "path '%.*s' has an empty component", QUOTE_MAX,
				    path);
	off = path[0] == '/' ? local_offset(path) : 0;
	if (len - off > path_limit(path_max))
		return vs_error_set(VS_EINVAL, "path '%.*s...' is longer than path-max (%zu)",
				    QUOTE_MAX, path, path_limit(path_max));
	/* Implied by the check above (a local prefix is at most 20 bytes); kept as the rule. */
	if (len > XSD_ABS_PATH_MAX)
		return vs_error_set(VS_EINVAL, "path is longer than %u bytes", XSD_ABS_PATH_MAX);
	return 0;
}

int xsd_path_canonical(char *out, size_t outsz, const char *path, unsigned int domid,
		       unsigned int path_max, unsigned int flags)
{
	size_t len, need;
	int prefix, err;

	if (!path)
		return vs_error_set(VS_EINVAL, "no path");
	len = strlen(path);
	if (path[0] == '/' || path[0] == '@') {
		if ((err = xsd_path_check(path, path_max, flags)) < 0)
			return err;
		if (len >= outsz)
			return vs_error_set(VS_ERANGE, "path buffer too small");
		memcpy(out, path, len + 1);
		return 0;
	}
	/* Relative: below the connection's home, /local/domain/<domid>. */
	prefix = snprintf(NULL, 0, LOCAL_DOMAIN "%u/", domid);
	assert(prefix > 0);
	need = (size_t)prefix + len;
	/* Too long to be valid under any quota: say so before touching @out. */
	if (need > XSD_ABS_PATH_MAX)
		return vs_error_set(VS_EINVAL, "path '%.*s...' is longer than path-max", QUOTE_MAX,
				    path);
	if (need >= outsz)
		return vs_error_set(VS_ERANGE, "path buffer too small");
	snprintf(out, outsz, LOCAL_DOMAIN "%u/%s", domid, path);
	if ((err = xsd_path_check(out, path_max, flags)) < 0) {
		out[0] = '\0';
		return err;
	}
	return 0;
}

/* Parse canonical decimal @s (no sign, no leading zero) up to @max; *end past it. */
static bool parse_canon_uint(const char *s, unsigned long max, unsigned long *val, const char **end)
{
	unsigned long v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > max)
			return false;
	}
	*val = v;
	*end = p;
	return true;
}

enum xsd_special xsd_path_special(const char *path, unsigned int *domid)
{
	static const char release[] = "@releaseDomain";
	unsigned long id;
	const char *end;

	if (!path || path[0] != '@')
		return XSD_SPECIAL_NONE;
	if (!strcmp(path, "@introduceDomain"))
		return XSD_SPECIAL_INTRODUCE;
	if (!strcmp(path, release))
		return XSD_SPECIAL_RELEASE;
	if (!strncmp(path, release, sizeof(release) - 1) && path[sizeof(release) - 1] == '/' &&
	    parse_canon_uint(path + sizeof(release), XSD_DOMID_MAX, &id, &end) && !*end) {
		if (domid)
			*domid = (unsigned int)id;
		return XSD_SPECIAL_RELEASE_DOMID;
	}
	return XSD_SPECIAL_OTHER;
}

int xsd_path_domain_home(char *out, size_t outsz, unsigned int domid)
{
	int n = snprintf(out, outsz, LOCAL_DOMAIN "%u", domid);

	if (n < 0 || (size_t)n >= outsz)
		return vs_error_set(VS_ERANGE, "path buffer too small");
	return 0;
}

int xsd_path_parent(char *out, size_t outsz, const char *path)
{
	const char *slash;
	size_t len;

	if (!strcmp(path, "/"))
		return vs_error_set(VS_ENOENT, "the root has no parent");
	/* As get_parent(): the last '/' after the first byte, else the root. */
	slash = strrchr(path + 1, '/');
	len = slash ? (size_t)(slash - path) : 1;
	if (len >= outsz)
		return vs_error_set(VS_ERANGE, "path buffer too small");
	memmove(out, slash ? path : "/", len);
	out[len] = '\0';
	return 0;
}

const char *xsd_path_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

bool xsd_path_is_descendant(const char *path, const char *ancestor)
{
	size_t n;

	if (!strcmp(ancestor, "/"))
		return path[0] == '/';
	n = strlen(ancestor);
	return !strncmp(path, ancestor, n) && (path[n] == '\0' || path[n] == '/');
}

int xsd_path_depth(const char *path, const char *ancestor)
{
	const char *rest;
	int depth;

	if (!xsd_path_is_descendant(path, ancestor))
		return -1;
	if (!strcmp(ancestor, "/")) {
		rest = path + 1;
		depth = *rest ? 1 : 0; /* the first component has no '/' before it here */
	} else {
		rest = path + strlen(ancestor);
		depth = 0;
	}
	for (; *rest; rest++)
		depth += *rest == '/';
	return depth;
}

int xsd_path_domid(const char *path, unsigned int *domid)
{
	unsigned long id;
	const char *end;

	if (strncmp(path, LOCAL_DOMAIN, LOCAL_DOMAIN_LEN) != 0 ||
	    !parse_canon_uint(path + LOCAL_DOMAIN_LEN, XSD_DOMID_MAX, &id, &end) ||
	    (*end != '\0' && *end != '/'))
		return vs_error_set(VS_ENOENT, "'%.*s' is not below /local/domain/<domid>",
				    QUOTE_MAX, path);
	*domid = (unsigned int)id;
	return 0;
}

const char *xsd_path_relative(const char *path, unsigned int domid)
{
	char prefix[sizeof(LOCAL_DOMAIN) + 12];
	int n = snprintf(prefix, sizeof(prefix), LOCAL_DOMAIN "%u/", domid);

	assert(n > 0 && (size_t)n < sizeof(prefix));
	return strncmp(path, prefix, (size_t)n) ? path : path + n;
}

/* ---- store paths ---- */

/* A bounded string builder over a caller buffer; overflow is sticky. */
struct sbuf {
	char *p;
	size_t cap;
	size_t len;
	bool overflow;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->overflow || b->len + n >= b->cap) {
		b->overflow = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* One store name, or a chain of chunks ("<254 bytes>./…/<rest>") when too long. */
static void sb_put_name(struct sbuf *b, const char *name, size_t len)
{
	while (len > XSD_STORE_NAME_MAX) {
		sb_put(b, name, CHUNK_BODY);
		sb_put(b, "./", 2);
		name += CHUNK_BODY;
		len -= CHUNK_BODY;
	}
	sb_put(b, name, len);
}

int xsd_path_store(char *out, size_t outsz, const char *path, enum xsd_store_part part)
{
	struct sbuf b = {out, outsz, 0, false};
	const char *s = path;
	int err;

	if ((err = xsd_path_check(path, 0, XSD_PATH_SPECIAL)) < 0)
		return err;
	if (!outsz)
		return vs_error_set(VS_ERANGE, "store path buffer too small");
	out[0] = '\0';
	if (path[0] == '@') {
		/* ".@name": a top-level entry no Xenstore name can be. */
		char first[XSD_PATH_BUF + 1];
		size_t n = strcspn(path, "/");

		first[0] = '.';
		memcpy(first + 1, path, n);
		sb_put_name(&b, first, n + 1);
		s = path + n;
	}
	while (*s == '/' && s[1]) {
		size_t n;

		s++;
		n = strcspn(s, "/");
		if (b.len)
			sb_put(&b, "/", 1);
		sb_put_name(&b, s, n);
		s += n;
	}
	if (part != XSD_STORE_NODE) {
		if (b.len)
			sb_put(&b, "/", 1);
		sb_put(&b, part == XSD_STORE_VALUE ? ".value" : ".meta",
		       part == XSD_STORE_VALUE ? 6 : 5);
	}
	if (b.overflow)
		return vs_error_set(VS_ERANGE, "store path buffer too small");
	return 0;
}

static bool name_chars_ok(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || !path_char_ok(s[i]))
			return false;
	return true;
}

static bool is_chunk(const char *s, size_t n)
{
	return n == XSD_STORE_NAME_MAX && s[n - 1] == '.' && name_chars_ok(s, n - 1);
}

/*
 * Append to @b the Xenstore name whose store form starts at *s (chunks, then
 * the rest), advancing *s past it. @first: the first name, which may be the
 * ".@name" of a special node. Rejects what xsd_path_store() never writes:
 * a chunk not followed by its rest, or a chain whose last chunk was not
 * needed (the rest must then be at least 2 bytes).
 */
static int from_store_name(struct sbuf *b, const char **s, bool first)
{
	char name[XSD_PATH_BUF + 1];
	size_t len = 0, chunks = 0, rest;

	for (;;) {
		const char *c = *s;
		size_t n = strcspn(c, "/");
		bool chunk = n == XSD_STORE_NAME_MAX && c[n - 1] == '.';
		size_t body = chunk ? n - 1 : n;

		if (!n || n > XSD_STORE_NAME_MAX || len + body > XSD_PATH_BUF)
			return VS_EINVAL;
		memcpy(name + len, c, body);
		len += body;
		*s += n;
		if (!chunk) {
			rest = n;
			break;
		}
		chunks++;
		if (**s != '/')
			return VS_EINVAL;
		(*s)++;
	}
	if (chunks && rest < 2)
		return VS_EINVAL;
	if (first && len > 1 && name[0] == '.' && name[1] == '@') {
		if (!name_chars_ok(name + 1, len - 1))
			return VS_EINVAL;
		sb_put(b, name + 1, len - 1);
	} else {
		if (!name_chars_ok(name, len))
			return VS_EINVAL;
		sb_put(b, "/", 1);
		sb_put(b, name, len);
	}
	return 0;
}

/* Cut a trailing ".value"/".meta" component off store path @node; say which it was. */
static enum xsd_store_part split_leaf(char *node)
{
	char *slash = strrchr(node, '/');
	char *leaf = slash ? slash + 1 : node;
	enum xsd_store_part part;

	if (!strcmp(leaf, ".value"))
		part = XSD_STORE_VALUE;
	else if (!strcmp(leaf, ".meta"))
		part = XSD_STORE_META;
	else
		return XSD_STORE_NODE;
	*(slash ? slash : node) = '\0';
	return part;
}

int xsd_path_from_store(char *out, size_t outsz, const char *store_path, enum xsd_store_part *part)
{
	struct sbuf b = {out, outsz, 0, false};
	enum xsd_store_part p;
	char node[XSD_STORE_PATH_BUF];
	const char *s = store_path;
	size_t len;

	if (*s == '/')
		s++;
	len = strlen(s);
	if (len >= sizeof(node))
		return vs_error_set(VS_EINVAL, "store path too long");
	memcpy(node, s, len + 1);
	p = split_leaf(node);
	if (!outsz)
		return vs_error_set(VS_ERANGE, "path buffer too small");
	out[0] = '\0';
	s = node;
	if (!*s)
		sb_put(&b, "/", 1);
	for (bool first = true; *s; first = false) {
		if (from_store_name(&b, &s, first) < 0)
			return vs_error_set(VS_EINVAL, "'%.*s' is not a node's store path",
					    QUOTE_MAX, store_path);
		if (*s == '/' && !*++s)
			return vs_error_set(VS_EINVAL, "store path '%.*s' ends with '/'", QUOTE_MAX,
					    store_path);
	}
	if (b.overflow)
		return vs_error_set(VS_ERANGE, "path buffer too small");
	if (xsd_path_check(out, 0, XSD_PATH_SPECIAL) < 0)
		return vs_error_set(VS_EINVAL, "'%.*s' is not a node's store path", QUOTE_MAX,
				    store_path);
	if (part)
		*part = p;
	return 0;
}

enum xsd_store_entry xsd_store_entry_kind(const char *name)
{
	size_t n = strlen(name);

	if (!strcmp(name, ".value"))
		return XSD_ENTRY_VALUE;
	if (!strcmp(name, ".meta"))
		return XSD_ENTRY_META;
	if (is_chunk(name, n))
		return XSD_ENTRY_CHUNK;
	if (n <= XSD_STORE_NAME_MAX && name_chars_ok(name, n))
		return XSD_ENTRY_CHILD;
	return XSD_ENTRY_OTHER;
}
