/* SPDX-License-Identifier: MIT */
/*
 * Xenstore nodes as the daemon stores them (docs/design-notes.md): node /a/b
 * is the tree a/b with .value (absent when empty), .meta (perms, seq,
 * label) and one subtree per child, long names chunked. The mapping itself
 * is libxsd's (xsd_path_store, xsd_path_from_store, xsd_meta_parse), and so
 * is the listing of children in creation order (node.c); this file reads
 * nodes and turns the store's value deltas into per-node changes.
 */
#include "cli.h"
#include "engine_int.h"

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

int cli_xs_children(struct vs_strarray *out, struct vs_tree *root, const char *xpath)
{
	struct xsd_child *kids = NULL;
	size_t n = 0;
	/* The daemon's own listing; lenient, so `vstore check` can walk into bad nodes. */
	int err = xsd__node_children_lenient(&kids, &n, root, xpath);

	*out = (struct vs_strarray){0};
	if (err == VS_ENOENT || err == VS_ENOTDIR)
		return vs_error_set(VS_ENOENT, "no node %s", xpath);
	if (err < 0)
		return err;
	if (!(out->strings = calloc(n ? n : 1, sizeof(char *)))) {
		xsd__children_free(kids, n);
		return VS_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) { /* the names move over */
		out->strings[out->count++] = kids[i].name;
		kids[i].name = NULL;
	}
	xsd__children_free(kids, n);
	return 0;
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
