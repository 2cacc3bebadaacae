/* SPDX-License-Identifier: MIT */
/*
 * Xenstore nodes as the daemon stores them (docs/design-notes.md): node /a/b
 * is the tree a/b with .value (absent when empty), .meta (perms, seq,
 * label) and one subtree per child, long names chunked. The mapping itself
 * is libxsd's (xsd_path_store, xsd_path_from_store, xsd_meta_parse); this
 * file reads nodes, lists children in creation order and turns the store's
 * value deltas into per-node changes.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

int cli_xs_path(char *out, size_t n, const char *path)
{
	char tmp[XSD_PATH_BUF + 1];
	size_t len = strlen(path);
	if (len + 2 > sizeof(tmp))
		return vs_error_set(VS_EINVAL, "path too long");
	if (path[0] == '/' || path[0] == '@')
		memcpy(tmp, path, len + 1);
	else {
		tmp[0] = '/';
		memcpy(tmp + 1, path, len + 1);
		len++;
	}
	while (len > 1 && tmp[len - 1] == '/') /* "/local/domain/" as typed */
		tmp[--len] = '\0';
	if (len + 1 > n)
		return vs_error_set(VS_ERANGE, "path too long");
	if (xsd_path_check(tmp, XSD_ABS_PATH_MAX, XSD_PATH_SPECIAL) < 0)
		return vs_error_set(VS_EINVAL, "'%s' is not a Xenstore path", path);
	memcpy(out, tmp, len + 1);
	return 0;
}

int cli_xs_path_arg(char *out, size_t n, const struct cli *cli, const char *arg)
{
	if (cli_xs_path(out, n, arg) < 0)
		return cli_usage_error(cli, "%s", vs_error_last()->message);
	return 0;
}

int cli_xs_child_path(char *out, size_t n, const char *dir, const char *name)
{
	int len = snprintf(out, n, "%s/%s", strcmp(dir, "/") ? dir : "", name);
	if (len < 0 || (size_t)len >= n)
		return vs_error_set(VS_ERANGE, "path below %s too long", dir);
	return 0;
}

char *cli_xs_child_dup(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		cli_xs_child_path(p, n, dir, name); /* fits */
	return p;
}

void cli_xs_node_init(struct cli_xs_node *n)
{
	memset(n, 0, sizeof(*n));
	xsd_meta_init(&n->meta);
}

void cli_xs_node_release(struct cli_xs_node *n)
{
	if (!n)
		return;
	vs_buf_release(&n->value);
	xsd_meta_release(&n->meta);
	cli_xs_node_init(n);
}

/* The store path of @p xpath's @p part. */
static int store_path(char *out, const char *xpath, enum xsd_store_part part)
{
	int err = xsd_path_store(out, XSD_STORE_PATH_BUF, xpath, part);
	if (err < 0)
		return vs_error_set(VS_EINVAL, "'%s' is not a Xenstore path", xpath);
	return 0;
}

int cli_xs_store_filter(const char **out, char *sp, const char *xpath)
{
	int err;
	*out = NULL;
	if (!xpath || !strcmp(xpath, "/"))
		return 0;
	if ((err = store_path(sp, xpath, XSD_STORE_NODE)) < 0)
		return err;
	*out = sp;
	return 0;
}

int cli_xs_node_read(struct cli_xs_node *out, struct vs_tree *root, const char *xpath)
{
	char sp[XSD_STORE_PATH_BUF];
	struct vs_tree_stat st;
	int err;

	cli_xs_node_release(out);
	if ((err = store_path(sp, xpath, XSD_STORE_NODE)) < 0)
		return err;
	err = vs_tree_stat(&st, root, sp);
	if (err == VS_ENOENT || (err == 0 && st.kind != VS_ENTRY_TREE))
		return vs_error_set(VS_ENOENT, "no node %s", xpath);
	if (err < 0)
		return err;
	out->id = st.id;
	if ((err = store_path(sp, xpath, XSD_STORE_VALUE)) < 0)
		return err;
	err = vs_tree_get(&out->value, root, sp);
	if (err == VS_ENOENT)
		vs_buf_clear(&out->value);
	else if (err < 0)
		return err;
	if ((err = store_path(sp, xpath, XSD_STORE_META)) < 0)
		return err;
	struct vs_buf m = VS_BUF_INIT;
	err = vs_tree_get(&m, root, sp);
	if (err == 0) {
		err = xsd_meta_parse(&out->meta, m.ptr ? m.ptr : "", m.size);
		out->has_meta = err == 0;
		if (err < 0)
			err = vs_error_set(VS_ECORRUPT, "node %s: bad metadata", xpath);
	} else if (err == VS_ENOENT) {
		err = 0;
	}
	vs_buf_release(&m);
	return err;
}

/* One child while listing: its full name, store path and creation seq. */
struct child {
	char *name;
	char *spath;
	uint64_t seq;
};

struct child_list {
	struct child *v;
	size_t n, cap;
	const char *prefix; /* the chunks walked so far, joined */
	const char *spath;  /* the store tree being listed */
	int err;
};

static int child_add(struct child_list *l, const char *name, bool chunk)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		struct child *nv = realloc(l->v, ncap * sizeof(*nv));
		if (!nv)
			return VS_ENOMEM;
		l->v = nv;
		l->cap = ncap;
	}
	struct child *c = &l->v[l->n];
	size_t plen = strlen(l->prefix), nlen = strlen(name) - (chunk ? 1 : 0);
	c->name = malloc(plen + nlen + 1);
	c->spath = malloc(strlen(l->spath) + strlen(name) + 2);
	if (!c->name || !c->spath) {
		free(c->name);
		free(c->spath);
		return VS_ENOMEM;
	}
	memcpy(c->name, l->prefix, plen);
	memcpy(c->name + plen, name, nlen);
	c->name[plen + nlen] = '\0';
	sprintf(c->spath, "%s%s%s", l->spath, *l->spath ? "/" : "", name);
	c->seq = chunk ? UINT64_MAX : 0; /* chunks are expanded, then dropped */
	l->n++;
	return 0;
}

static int child_cb(void *payload, const char *name, const struct vs_tree_stat *st)
{
	struct child_list *l = payload;
	if (st->kind != VS_ENTRY_TREE)
		return 0;
	switch (xsd_store_entry_kind(name)) {
	case XSD_ENTRY_CHILD:
		return child_add(l, name, false);
	case XSD_ENTRY_CHUNK:
		return child_add(l, name, true);
	default:
		return 0;
	}
}

static int child_cmp(const void *a, const void *b)
{
	const struct child *x = a, *y = b;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* List @p spath's children into @p l, expanding chunk chains in place. */
static int list_level(struct child_list *l, struct vs_tree *root, const char *spath,
		      const char *prefix)
{
	l->prefix = prefix;
	l->spath = spath;
	size_t first = l->n;
	int err = vs_tree_list(root, spath, child_cb, l);
	if (err < 0)
		return err;
	for (size_t i = first; i < l->n; i++) {
		if (l->v[i].seq != UINT64_MAX)
			continue;
		/* A chunk: its subtree holds the rest of the names (copies: v moves). */
		char *cprefix = strdup(l->v[i].name), *cspath = strdup(l->v[i].spath);
		if (!cprefix || !cspath)
			err = VS_ENOMEM;
		else
			err = list_level(l, root, cspath, cprefix);
		free(cprefix);
		free(cspath);
		if (err < 0)
			return err;
	}
	return 0;
}

int cli_xs_children(struct vs_strarray *out, struct vs_tree *root, const char *xpath)
{
	char sp[XSD_STORE_PATH_BUF];
	struct child_list l = {0};
	struct vs_buf m = VS_BUF_INIT;
	struct xsd_meta meta;
	int err;

	out->strings = NULL;
	out->count = 0;
	xsd_meta_init(&meta);
	if ((err = store_path(sp, xpath, XSD_STORE_NODE)) < 0)
		return err;
	err = list_level(&l, root, sp, "");
	if (err == VS_ENOENT || err == VS_ENOTDIR)
		err = vs_error_set(VS_ENOENT, "no node %s", xpath);
	size_t keep = 0;
	for (size_t i = 0; err >= 0 && i < l.n; i++) {
		struct child c = l.v[i];
		if (c.seq == UINT64_MAX) {
			free(c.name);
			free(c.spath);
			continue;
		}
		/* A child whose .meta is missing or bad sorts last, by name. */
		c.seq = UINT64_MAX - 1;
		char mp[XSD_STORE_PATH_BUF + 8];
		snprintf(mp, sizeof(mp), "%s/.meta", c.spath);
		if (vs_tree_get(&m, root, mp) == 0 &&
		    xsd_meta_parse(&meta, m.ptr ? m.ptr : "", m.size) == 0)
			c.seq = meta.seq;
		l.v[keep++] = c;
	}
	if (err >= 0) {
		l.n = keep;
		if (l.n)
			qsort(l.v, l.n, sizeof(*l.v), child_cmp);
		out->strings = calloc(l.n ? l.n : 1, sizeof(char *));
		if (!out->strings)
			err = VS_ENOMEM;
	}
	for (size_t i = 0; i < l.n; i++) {
		if (err >= 0)
			out->strings[out->count++] = l.v[i].name;
		else
			free(l.v[i].name);
		free(l.v[i].spath);
	}
	free(l.v);
	vs_buf_release(&m);
	xsd_meta_release(&meta);
	return err < 0 ? err : 0;
}

int cli_xs_perms_format(struct vs_buf *out, const struct xsd_perms *ps)
{
	int err = 0;
	for (unsigned int i = 0; err >= 0 && i < ps->num; i++)
		err = vs_buf_printf(out, "%s%c%u", i ? "," : "", xsd_perm_letter(ps->p[i].perm),
				    ps->p[i].domid);
	return err;
}

int cli_xs_value_escape(struct vs_buf *out, const void *v, size_t len)
{
	const unsigned char *p = v;
	int err = 0;
	for (size_t i = 0; err >= 0 && i < len; i++) {
		unsigned char c = p[i];
		if (c == '\\')
			err = vs_buf_puts(out, "\\\\");
		else if (c == '\t')
			err = vs_buf_puts(out, "\\t");
		else if (c == '\n')
			err = vs_buf_puts(out, "\\n");
		else if (c == '\r')
			err = vs_buf_puts(out, "\\r");
		else if (c < 8) /* libxenstore's short octal form for 0..7 */
			err = vs_buf_printf(out, "\\%03o", c);
		else if (c < ' ' || c > '~')
			err = vs_buf_printf(out, "\\x%02x", c);
		else
			err = vs_buf_putc(out, (char)c);
	}
	return err;
}
