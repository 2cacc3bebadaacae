/* SPDX-License-Identifier: MIT */
/*
 * vstore cat PATH [--at REV|TIME]: a node's value as of a commit, printed
 * as xenstore-read prints it (the bytes, then a newline).
 */
#include "cmd_args.h"

#include <string.h>

int cat_args_parse(struct cat_args *out, struct cli *cli, int argc, char **argv)
{
	int i, rc;
	memset(out, 0, sizeof(*out));
	out->json = cli->json;
	const struct cli_opt opts[] = {
	    {"at", 0, .value = &out->at},
	    {"raw", 0, .flag = &out->raw},
	    {"json", 0, .flag = &out->json},
	    {"no-newline", 'n', .flag = &out->no_newline},
	    {NULL},
	};
	if ((rc = cli_parse_opts(&i, cli, argc, argv, opts)) != 0)
		return rc;
	if (i >= argc)
		return cli_usage_error(cli, "a path is needed");
	out->path = argv[i++];
	if ((rc = cli_args_end(cli, argc, argv, i)) != 0)
		return rc;
	return out->raw ? 0 : cli_xs_path_arg(out->xpath, sizeof(out->xpath), cli, out->path);
}

static void print_json(const struct cat_args *a, const struct vs_oid *commit,
		       const struct vs_buf *value, const struct cli_xs_node *node)
{
	char hex[VS_OID_MAXHEXSZ + 1];
	fputs("{\"path\":", stdout);
	cli_json_str(stdout, a->raw ? a->path : a->xpath);
	fputs(",\"value\":", stdout);
	cli_json_string(stdout, value->ptr ? value->ptr : "", value->size);
	if (node && node->has_meta) {
		struct vs_buf p = VS_BUF_INIT;
		if (cli_xs_perms_format(&p, &node->meta.perms) >= 0) {
			fputs(",\"perms\":", stdout);
			cli_json_str(stdout, p.ptr ? p.ptr : "");
		}
		vs_buf_release(&p);
		fputs(",\"label\":", stdout);
		cli_json_str(stdout, node->meta.label);
	}
	printf(",\"commit\":\"%s\"}\n", vs_oid_tostr(hex, commit));
}

int cmd_cat(struct cli *cli, int argc, char **argv)
{
	struct cat_args a;
	struct vs_repo *repo = NULL;
	struct vs_tree *tree = NULL;
	struct vs_oid commit;
	struct cli_xs_node node;
	struct vs_buf raw = VS_BUF_INIT;
	const struct vs_buf *value;
	int err, rc = cat_args_parse(&a, cli, argc, argv);
	if (rc)
		return rc;
	cli_xs_node_init(&node);
	if ((rc = cli_open_repo(&repo, cli, false)))
		return rc;
	if ((err = cli_tree_at(&tree, &commit, cli, repo, a.at)) < 0) {
		rc = cli_error_vs(cli, err, NULL);
		goto out;
	}
	if (a.raw) {
		err = vs_tree_get(&raw, tree, a.path);
		if (err == VS_ENOENT)
			err = vs_error_set(VS_ENOENT, "no value at %s", a.path);
		else if (err == VS_EISDIR)
			err = vs_error_set(VS_EISDIR, "%s is a tree, not a value", a.path);
		value = &raw;
	} else {
		err = cli_xs_node_read(&node, tree, a.xpath);
		value = &node.value;
	}
	if (err < 0) {
		rc = cli_error_vs(cli, err, NULL);
		goto out;
	}
	if (a.json) {
		print_json(&a, &commit, value, a.raw ? NULL : &node);
	} else {
		fwrite(value->ptr ? value->ptr : "", 1, value->size, stdout);
		if (!a.no_newline)
			putchar('\n');
	}
out:
	vs_buf_release(&raw);
	cli_xs_node_release(&node);
	vs_tree_free(tree);
	vs_repo_close(repo);
	return rc;
}
