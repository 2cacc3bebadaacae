/* SPDX-License-Identifier: MIT */
/*
 * vstore diff REV1 REV2 [PATH]: the nodes that differ between two commits,
 * printed as show prints a commit's changes.
 */
#include "cmd_args.h"

#include <string.h>

int diff_args_parse(struct diff_args *out, struct cli *cli, int argc, char **argv)
{
	int i, rc;
	memset(out, 0, sizeof(*out));
	if ((rc = show_opts_parse(&i, &out->raw, &out->json, cli, argc, argv)) != 0)
		return rc;
	if (argc - i < 2)
		return cli_usage_error(cli, "two revisions needed");
	out->rev1 = argv[i++];
	out->rev2 = argv[i++];
	if (i < argc) {
		if ((rc = cli_xs_path_arg(out->xpath, sizeof(out->xpath), cli, argv[i++])) != 0)
			return rc;
		out->path = out->xpath;
	}
	return cli_args_end(cli, argc, argv, i);
}

int cmd_diff(struct cli *cli, int argc, char **argv)
{
	struct diff_args a;
	struct vs_repo *repo = NULL;
	struct vs_oid id1, id2;
	int err, rc = diff_args_parse(&a, cli, argc, argv);
	if (rc)
		return rc;
	if ((rc = cli_open_repo(&repo, cli, false)))
		return rc;
	if ((err = cli_resolve_rev(&id1, cli, repo, a.rev1)) < 0 ||
	    (err = cli_resolve_rev(&id2, cli, repo, a.rev2)) < 0) {
		rc = cli_error_vs(cli, err, NULL);
		goto out;
	}
	if (a.json)
		putchar('[');
	err = show_changes(cli, repo, &id1, &id2, a.path, a.raw, a.json);
	if (a.json)
		fputs("]\n", stdout);
	if (err < 0)
		rc = cli_error_vs(cli, err, "comparing");
out:
	vs_repo_close(repo);
	return rc;
}
