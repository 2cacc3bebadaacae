/* SPDX-License-Identifier: MIT */
/*
 * vstore ls: Xenstore nodes as xenstore-ls prints them (one space of indent
 * per level, name = "value", with -p the dotted padding to column 60 and the
 * perms), children in creation order; or with --raw the store's own tree,
 * as git ls-tree prints it. Values are never truncated (xenstore-ls cuts
 * them at the terminal width): scripts get everything.
 */
#include "cmd_args.h"

#include <stdlib.h>
#include <string.h>

#define LS_PERMS_COLUMN 60 /* xenstore-ls's desired_width */

int ls_args_parse(struct ls_args *out, struct cli *cli, int argc, char **argv)
{
	int i, rc;
	memset(out, 0, sizeof(*out));
	out->json = cli->json;
	const struct cli_opt opts[] = {
	    {"recursive", 'r', .flag = &out->recursive},
	    {"perms", 'p', .flag = &out->perms},
	    {"at", 0, .value = &out->at},
	    {"raw", 0, .flag = &out->raw},
	    {"json", 0, .flag = &out->json},
	    {NULL},
	};
	if ((rc = cli_parse_opts(&i, cli, argc, argv, opts)) != 0)
		return rc;
	if (i < argc)
		out->path = argv[i++];
	if ((rc = cli_args_end(cli, argc, argv, i)) != 0)
		return rc;
	if (out->raw)
		return 0;
	return cli_xs_path_arg(out->xpath, sizeof(out->xpath), cli, out->path ? out->path : "/");
}

struct ls_state {
	struct cli *cli;
	const struct ls_args *args;
	struct vs_tree *tree;
	struct vs_buf line; /* scratch */
};

static void print_node(struct ls_state *st, const char *name, const char *path, int depth,
		       const struct cli_xs_node *n)
{
	struct vs_buf *b = &st->line;
	vs_buf_clear(b);
	if (st->args->json) {
		fputs("{\"path\":", stdout);
		cli_json_str(stdout, path);
		fputs(",\"value\":", stdout);
		cli_json_string(stdout, n->value.ptr ? n->value.ptr : "", n->value.size);
		if (n->has_meta && cli_xs_perms_format(b, &n->meta.perms) >= 0) {
			fputs(",\"perms\":", stdout);
			cli_json_str(stdout, b->ptr ? b->ptr : "");
			fputs(",\"label\":", stdout);
			cli_json_str(stdout, n->meta.label);
		}
		fputs("}\n", stdout);
		return;
	}
	int err = vs_buf_printf(b, "%*s%s = \"", depth, "", name);
	if (err >= 0)
		err = cli_xs_value_escape(b, n->value.ptr, n->value.size);
	if (err >= 0)
		err = vs_buf_putc(b, '"');
	if (err >= 0 && st->args->perms) {
		size_t w = b->size; /* bytes, as xenstore-ls counts them */
		err = vs_buf_putc(b, ' ');
		for (w++; err >= 0 && w < LS_PERMS_COLUMN; w++)
			err = vs_buf_putc(b, (w & 1) ? '.' : ' ');
		if (err >= 0)
			err = vs_buf_puts(b, "  (");
		if (err >= 0 && n->has_meta)
			err = cli_xs_perms_format(b, &n->meta.perms);
		if (err >= 0)
			err = vs_buf_putc(b, ')');
	}
	if (err >= 0)
		printf("%s\n", b->ptr);
}

/* Print the children of @p xpath (and, with -r, their subtrees). */
static int ls_children(struct ls_state *st, const char *xpath, int depth)
{
	struct vs_strarray kids;
	struct cli_xs_node n;
	char path[XSD_PATH_BUF];
	int err = cli_xs_children(&kids, st->tree, xpath);
	if (err < 0)
		return err;
	cli_xs_node_init(&n);
	for (size_t i = 0; err >= 0 && i < kids.count && !ferror(stdout); i++) {
		if ((err = cli_xs_child_path(path, sizeof(path), xpath, kids.strings[i])) < 0 ||
		    (err = cli_xs_node_read(&n, st->tree, path)) < 0)
			break;
		print_node(st, kids.strings[i], path, depth, &n);
		if (st->args->recursive)
			err = ls_children(st, path, depth + 1);
	}
	cli_xs_node_release(&n);
	vs_strarray_dispose(&kids);
	return err;
}

/* --raw: the entries of a store tree, collected before recursing. */
struct raw_entry {
	char *name;
	struct vs_tree_stat st;
};

struct raw_list {
	struct raw_entry *v;
	size_t n, cap;
};

static int raw_collect(void *payload, const char *name, const struct vs_tree_stat *st)
{
	struct raw_list *l = payload;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		struct raw_entry *nv = realloc(l->v, ncap * sizeof(*nv));
		if (!nv)
			return VS_ENOMEM;
		l->v = nv;
		l->cap = ncap;
	}
	if (!(l->v[l->n].name = strdup(name)))
		return VS_ENOMEM;
	l->v[l->n++].st = *st;
	return 0;
}

static void raw_print(const struct ls_state *st, const char *path, const struct vs_tree_stat *s)
{
	static const char *const kinds[] = {"?", "blob", "tree", "commit"};
	char hex[VS_OID_MAXHEXSZ + 1];
	vs_oid_tostr(hex, &s->id);
	if (st->args->json) {
		fputs("{\"path\":", stdout);
		cli_json_str(stdout, path);
		printf(",\"kind\":\"%s\",\"mode\":\"%06o\",\"id\":\"%s\",\"size\":%zu}\n",
		       kinds[s->kind], s->mode, hex, s->size);
		return;
	}
	printf("%06o %s %s\t%s\n", s->mode, kinds[s->kind], hex, path);
}

static int ls_raw(struct ls_state *st, const char *spath)
{
	struct raw_list l = {0};
	char child[XSD_STORE_PATH_BUF + 256];
	int err = vs_tree_list(st->tree, spath, raw_collect, &l);
	if (err == VS_ENOTDIR)
		err = vs_error_set(VS_ENOTDIR, "%s is a value, not a tree", spath);
	else if (err == VS_ENOENT)
		err = vs_error_set(VS_ENOENT, "no tree %s", *spath ? spath : "(root)");
	for (size_t i = 0; err >= 0 && i < l.n && !ferror(stdout); i++) {
		int len =
		    snprintf(child, sizeof(child), "%s%s%s", spath, *spath ? "/" : "", l.v[i].name);
		if (len < 0 || (size_t)len >= sizeof(child)) {
			err = vs_error_set(VS_ERANGE, "path below %s too long", spath);
			break;
		}
		/* As git ls-tree -r: recurse into trees, list what is not one. */
		if (st->args->recursive && l.v[i].st.kind == VS_ENTRY_TREE)
			err = ls_raw(st, child);
		else
			raw_print(st, child, &l.v[i].st);
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i].name);
	free(l.v);
	return err;
}

int cmd_ls(struct cli *cli, int argc, char **argv)
{
	struct ls_args a;
	struct vs_repo *repo = NULL;
	struct ls_state st = {.cli = cli, .args = &a};
	int err, rc = ls_args_parse(&a, cli, argc, argv);
	if (rc)
		return rc;
	if ((rc = cli_open_repo(&repo, cli, false)))
		return rc;
	if ((err = cli_tree_at(&st.tree, NULL, cli, repo, a.at)) < 0) {
		rc = cli_error_vs(cli, err, NULL);
		goto out;
	}
	if (a.raw) {
		const char *p = a.path ? a.path : "";
		while (*p == '/')
			p++;
		char sp[XSD_STORE_PATH_BUF];
		size_t len = strlen(p);
		if (len >= sizeof(sp)) {
			rc = cli_error(cli, "path too long");
			goto out;
		}
		memcpy(sp, p, len + 1);
		while (len && sp[len - 1] == '/')
			sp[--len] = '\0';
		err = ls_raw(&st, sp);
	} else {
		struct cli_xs_node n;
		cli_xs_node_init(&n);
		err = cli_xs_node_read(&n, st.tree, a.xpath); /* the node must exist */
		cli_xs_node_release(&n);
		if (err >= 0)
			err = ls_children(&st, a.xpath, 0);
	}
	if (err < 0)
		rc = cli_error_vs(cli, err, NULL);
out:
	vs_buf_release(&st.line);
	vs_tree_free(st.tree);
	vs_repo_close(repo);
	return rc;
}
