/* SPDX-License-Identifier: MIT */
/*
 * `vstore check`: verify the store (vs_repo_check: every ref names a commit,
 * every reachable object exists, hashes to its id and parses), then, in a
 * daemon's store, the Xenstore layer of main's head: every node has
 * metadata that parses. Read-only, safe next to a running daemon.
 */
#include "cli.h"

#include <stdlib.h>

struct node_check {
	struct cli_progress *progress;
	size_t nodes;
};

/* Every node at and below @path reads, with metadata. */
static int check_nodes(struct node_check *nc, struct vs_tree *root, const char *path)
{
	struct cli_xs_node node;
	struct vs_strarray kids = {0};
	int err;

	cli_xs_node_init(&node);
	if ((err = cli_xs_node_read(&node, root, path)) < 0) {
		char msg[256]; /* vs_error_set may reuse the old message's memory */
		snprintf(msg, sizeof(msg), "%s", vs_error_last()->message);
		err = vs_error_set(err == VS_ENOENT ? VS_ECORRUPT : err, "node %s: %s", path, msg);
		goto out;
	}
	if (!node.has_meta) {
		err = vs_error_set(VS_ECORRUPT, "node %s has no metadata", path);
		goto out;
	}
	cli_progress_cb(nc->progress, "nodes", ++nc->nodes, 0);
	if ((err = cli_xs_children(&kids, root, path)) < 0)
		goto out;
	for (size_t i = 0; i < kids.count && err >= 0; i++) {
		char *kp = cli_xs_child_dup(path, kids.strings[i]);
		err = kp ? check_nodes(nc, root, kp) : VS_ENOMEM;
		free(kp);
	}
out:
	vs_strarray_dispose(&kids);
	cli_xs_node_release(&node);
	return err;
}

/* The Xenstore layer of main's head; *is_xs false when the store holds no nodes. */
static int check_xenstore(bool *is_xs, struct node_check *nc, struct vs_repo *repo)
{
	struct vs_oid head;
	struct vs_commit *c = NULL;
	struct vs_tree *root = NULL;
	struct cli_xs_node top;
	int err;

	*is_xs = false;
	cli_xs_node_init(&top);
	if ((err = vs_branch_head(&head, repo, CLI_MAIN_BRANCH)) == VS_ENOENT)
		return 0;
	if (err < 0 || (err = vs_commit_lookup(&c, repo, &head)) < 0 ||
	    (err = vs_commit_tree(&root, c)) < 0)
		goto out;
	/* A plain libvstore store has no root node: nothing to check here. */
	if (cli_xs_node_read(&top, root, "/") < 0 || !top.has_meta)
		goto out;
	*is_xs = true;
	err = check_nodes(nc, root, "/");
out:
	cli_xs_node_release(&top);
	vs_tree_free(root);
	vs_commit_free(c);
	return err;
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
	struct vs_check_stats cs = {0};
	struct cli_progress p;
	struct node_check nc = {.progress = &p};
	struct vs_repo *repo;
	bool no_nodes = false, is_xs = false;
	int rc, err;
	const struct cli_opt opts[] = {
	    {"json", 0, .flag = &cli->json},
	    {"no-nodes", 0, .flag = &no_nodes},
	    {NULL},
	};

	if ((rc = cli_parse_opts(NULL, cli, argc, argv, opts)) != 0)
		return rc;
	if ((rc = cli_open_repo(&repo, cli, false)) != 0)
		return rc;
	cli_progress_init(&p, cli);
	/* vs_repo_check reports no progress: show the stage while it runs. */
	cli_progress_cb(&p, "verifying objects", 0, 0);
	err = vs_repo_check(repo, &cs);
	cli_progress_cb(&p, "verifying objects", cs.commits + cs.trees + cs.blobs, 0);
	if (err >= 0 && !no_nodes)
		err = check_xenstore(&is_xs, &nc, repo);
	cli_progress_done(&p);
	if (err < 0) {
		rc = cli_error_vs(cli, err, "check failed");
	} else if (cli->json) {
		printf("{\"ok\":true,\"refs\":%zu,\"commits\":%zu,\"trees\":%zu,\"blobs\":%zu,"
		       "\"nodes\":%zu}\n",
		       cs.refs, cs.commits, cs.trees, cs.blobs, nc.nodes);
	} else {
		printf("ok: %zu ref%s, %zu commit%s, %zu trees, %zu blobs", cs.refs,
		       cs.refs == 1 ? "" : "s", cs.commits, cs.commits == 1 ? "" : "s", cs.trees,
		       cs.blobs);
		if (is_xs)
			printf("; %zu Xenstore node%s", nc.nodes, nc.nodes == 1 ? "" : "s");
		putchar('\n');
	}
	vs_repo_close(repo);
	return rc;
}
