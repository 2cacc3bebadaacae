/* SPDX-License-Identifier: MIT */
/*
 * vstore diff REV1 REV2 [PATH]: the nodes that differ between two commits,
 * printed as show prints a commit's changes.
 */
#include "cmd_args.h"

#include <getopt.h>
#include <string.h>

int diff_args_parse(struct diff_args *out, struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"raw", no_argument, NULL, 'R'},
	    {"json", no_argument, NULL, 'J'},
	    {NULL, 0, NULL, 0},
	};
	int opt;
	memset(out, 0, sizeof(*out));
	out->json = cli->json;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (opt == 'R')
			out->raw = true;
		else if (opt == 'J')
			out->json = true;
		else
			return cli_opt_error(cli, opt, argv);
	}
	if (argc - optind < 2)
		return cli_usage_error(cli, "two revisions needed");
	out->rev1 = argv[optind++];
	out->rev2 = argv[optind++];
	if (optind < argc) {
		if (cli_xs_path(out->xpath, sizeof(out->xpath), argv[optind]) < 0)
			return cli_usage_error(cli, "%s", vs_error_last()->message);
		out->path = out->xpath;
		optind++;
	}
	if (optind < argc)
		return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	return 0;
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
