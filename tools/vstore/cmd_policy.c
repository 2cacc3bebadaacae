/* SPDX-License-Identifier: MIT */
/*
 * `vstore check-policy FILE...`: the mandatory access control policy checker
 * (mac/POLICY.md), the same as `xenstored --check-policy`: every error as
 * FILE:LINE: message on stdout and exit 1, or FILE: OK and exit 0.
 */
#include "cli.h"

#include <mac/mac.h>
#include <stdio.h>

static int check_one(const struct cli *cli, const char *path)
{
	struct mac_errors errs;
	struct mac_policy *p = NULL;
	int err;

	mac_errors_init(&errs);
	err = mac_policy_load(&p, &errs, path);
	if (err == VS_EINVAL)
		mac_errors_print(stdout, path, &errs);
	else if (err < 0)
		cli_error(cli, "%s: %s", path, vs_error_last()->message);
	else
		printf("%s: OK\n", path);
	mac_errors_release(&errs);
	mac_policy_free(p);
	return err < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cmd_check_policy(struct cli *cli, int argc, char **argv)
{
	static const struct cli_opt opts[] = { { NULL, 0, NULL, NULL, NULL, NULL } };
	int first, rc = CLI_EXIT_OK, err;

	if ((err = cli_parse_opts(&first, cli, argc, argv, opts)) != 0)
		return err;
	if (first == argc)
		return cli_usage_error(cli, "which policy file?");
	for (int i = first; i < argc; i++)
		if (check_one(cli, argv[i]) != CLI_EXIT_OK)
			rc = CLI_EXIT_FAIL;
	return rc;
}
