/* SPDX-License-Identifier: MIT */
/*
 * `vstore branch`: list branches with their heads, create one at a revision,
 * or delete one. Listing opens the store read-only; creating and deleting
 * move refs by compare-and-swap, so a daemon committing meanwhile never loses
 * a commit. Moving or deleting main while a daemon runs is refused (it keeps
 * main's head in memory), unless --force.
 */
#include "cli_manage.h"

#include <string.h>

struct branch_args {
	bool del;	  /* -d */
	bool force;	  /* -f: move an existing branch; allow main next to a daemon */
	bool verbose;	  /* -v: full ids */
	const char *sock; /* --socket, for the daemon guard */
};

static int branch_list(struct cli *cli, const struct branch_args *a)
{
	struct vs_repo *repo;
	struct vs_strarray names = {0};
	int rc = cli_open_repo(&repo, cli, false);
	if (rc != 0)
		return rc;
	int err = vs_branch_list(&names, repo);
	if (err < 0) {
		rc = cli_error_vs(cli, err, "cannot list branches");
		goto out;
	}
	for (size_t i = 0; i < names.count; i++) {
		const char *name = names.strings[i];
		struct vs_oid id;
		struct vs_commit *c = NULL;
		char hex[VS_OID_MAXHEXSZ + 1], sum[256];

		if ((err = vs_branch_head(&id, repo, name)) < 0 ||
		    (err = vs_commit_lookup(&c, repo, &id)) < 0) {
			rc = cli_error_vs(cli, err, name);
			goto out;
		}
		vs_oid_tostr(hex, &id);
		vs_commit_summary(c, sum, sizeof(sum));
		if (cli->json) {
			fputs("{\"name\":", stdout);
			cli_json_str(stdout, name);
			printf(",\"commit\":\"%s\",\"time\":%lld,\"summary\":", hex,
			       (long long)vs_commit_committer(c)->time);
			cli_json_str(stdout, sum);
			fputs("}\n", stdout);
		} else {
			if (!a->verbose)
				hex[12] = '\0';
			printf("%s%-16s%s %s%s%s %s\n", cli_color(cli, CLI_C_BRANCH), name,
			       cli_color(cli, CLI_C_RESET), cli_color(cli, CLI_C_COMMIT), hex,
			       cli_color(cli, CLI_C_RESET), sum);
		}
		vs_commit_free(c);
	}
out:
	vs_strarray_dispose(&names);
	vs_repo_close(repo);
	return rc;
}

static int branch_create(struct cli *cli, const struct branch_args *a, const char *name,
			 const char *rev)
{
	struct vs_repo *repo;
	struct vs_oid target, cur;
	char sid[16];
	int err, rc;

	if (vs_branch_name_check(name) < 0)
		return cli_error(cli, "'%s' is not a valid branch name", name);
	if (!strcmp(name, CLI_MAIN_BRANCH) &&
	    (rc = cli_daemon_guard(cli, a->sock, a->force, "moving main")) != 0)
		return rc;
	if ((rc = cli_open_existing(&repo, cli)) != 0)
		return rc;
	if ((err = cli_resolve_rev(&target, cli, repo, rev ? rev : "HEAD")) < 0) {
		rc = cli_error_vs(cli, err, NULL);
		goto out;
	}
	err = vs_branch_create(repo, name, &target);
	if (err == VS_EEXIST && a->force) {
		/* -f moves it, still by compare-and-swap against what we read. */
		if ((err = vs_branch_head(&cur, repo, name)) >= 0)
			err = vs_branch_update(repo, name, &target, &cur);
	}
	if (err == VS_EEXIST)
		rc = cli_error(cli, "branch %s already exists (-f moves it)", name);
	else if (err == VS_ECONFLICT)
		rc = cli_error(cli, "branch %s moved meanwhile; nothing changed", name);
	else if (err < 0)
		rc = cli_error_vs(cli, err, name);
	else if (!cli->json)
		printf("branch %s at %s\n", name, cli_short_id(sid, sizeof(sid), &target));
out:
	vs_repo_close(repo);
	return rc;
}

static int branch_delete(struct cli *cli, const struct branch_args *a, const char *name)
{
	struct vs_repo *repo;
	struct vs_oid head;
	char sid[16];
	int err, rc;

	if (!strcmp(name, CLI_MAIN_BRANCH) &&
	    (rc = cli_daemon_guard(cli, a->sock, a->force, "deleting main")) != 0)
		return rc;
	if ((rc = cli_open_existing(&repo, cli)) != 0)
		return rc;
	if ((err = vs_branch_head(&head, repo, name)) < 0) {
		rc = err == VS_ENOENT ? cli_error(cli, "no branch %s", name)
				      : cli_error_vs(cli, err, name);
		goto out;
	}
	if ((err = vs_branch_delete(repo, name, &head)) < 0)
		rc = err == VS_ECONFLICT ? cli_error(cli, "branch %s moved meanwhile; kept", name)
					 : cli_error_vs(cli, err, name);
	else if (!cli->json)
		printf("deleted branch %s (was %s)\n", name, cli_short_id(sid, sizeof(sid), &head));
out:
	vs_repo_close(repo);
	return rc;
}

int cmd_branch(struct cli *cli, int argc, char **argv)
{
	struct branch_args a = {0};
	const struct cli_opt opts[] = {
	    {"delete", 'd', .flag = &a.del},	  {"force", 'f', .flag = &a.force},
	    {"verbose", 'v', .flag = &a.verbose}, {"json", 0, .flag = &cli->json},
	    {"socket", 0, .value = &a.sock},	  {NULL},
	};
	int i, rc = cli_parse_opts(&i, cli, argc, argv, opts);

	if (rc != 0)
		return rc;
	int n = argc - i;
	char **rest = argv + i;
	if (a.del) {
		if (n != 1)
			return cli_usage_error(cli, "-d takes exactly one branch name");
		return branch_delete(cli, &a, rest[0]);
	}
	if (n == 0)
		return branch_list(cli, &a);
	if (n > 2)
		return cli_usage_error(cli, "too many arguments");
	return branch_create(cli, &a, rest[0], n == 2 ? rest[1] : NULL);
}
