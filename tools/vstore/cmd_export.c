/* SPDX-License-Identifier: MIT */
/*
 * `vstore export` and `vstore import`: copy every branch and its history
 * between the store and another store, a git repository by default, with
 * vs_repo_copy() (objects converted between the vs and git formats). Export
 * opens the store read-only, so it never modifies it, next to a live daemon
 * too; it converts the whole history each time (`vstore push` keeps an id
 * map and sends only what is new). Import writes branches, main included,
 * so it is refused while a daemon answers, unless --force.
 */
#include "cli_manage.h"

#include <string.h>

struct copy_args {
	const char *git;   /* --git DIR */
	const char *other; /* or a store URI operand */
	bool force;
	const char *sock;
};

static int copy_opts(struct copy_args *a, struct cli *cli, int argc, char **argv)
{
	const struct cli_opt opts[] = {
	    {"git", 0, .value = &a->git},
	    {"force", 'f', .flag = &a->force},
	    {"socket", 0, .value = &a->sock},
	    {"json", 0, .flag = &cli->json},
	    {NULL},
	};
	int i, rc = cli_parse_opts(&i, cli, argc, argv, opts);

	if (rc != 0)
		return rc;
	if (argc - i > 1 || (argc - i == 1) == (a->git != NULL))
		return cli_usage_error(cli, "give either --git DIR or one store URI");
	if (argc - i == 1) {
		a->other = argv[i];
		if (!strchr(a->other, ':'))
			return cli_usage_error(cli, "'%s' is not a store URI (lmdb:DIR, git:DIR)",
					       a->other);
	}
	if (a->git && !*a->git)
		return cli_usage_error(cli, "--git needs a directory");
	return 0;
}

/* Open the other end: "git:DIR" for --git, else the URI. */
static int open_other(struct vs_repo **out, struct cli *cli, const struct copy_args *a,
		      bool writable)
{
	char uri[4200];
	const char *u = a->other;
	struct vs_repo_opts o = {.version = VS_REPO_OPTS_VERSION,
				 .flags = writable ? 0 : VS_REPO_READONLY | VS_REPO_NOCREATE};
	if (a->git) {
		if ((size_t)snprintf(uri, sizeof(uri), "git:%s", a->git) >= sizeof(uri))
			return cli_error(cli, "path too long");
		u = uri;
	}
	int err = vs_repo_open(out, u, &o);
	if (err == VS_ENOENT)
		return cli_error(cli, "%s does not exist", a->git ? a->git : u);
	if (err < 0)
		return cli_error_vs(cli, err, a->git ? a->git : u);
	return 0;
}

static int copy_run(struct cli *cli, struct vs_repo *dst, struct vs_repo *src, const char *verb,
		    const char *where)
{
	struct cli_progress p;
	struct vs_strarray names = {0};
	int err;

	cli_progress_init(&p, cli);
	err = vs_repo_copy(dst, src, cli_progress_cb, &p);
	cli_progress_done(&p);
	if (err == VS_ENOTSUP)
		return cli_error_vs(cli, err, "cannot convert this history");
	if (err < 0 || (err = vs_branch_list(&names, src)) < 0)
		return cli_error_vs(cli, err, where);
	if (cli->json) {
		printf("{\"op\":\"%s\",\"where\":", verb);
		cli_json_str(stdout, where);
		printf(",\"format\":\"%s\",\"branches\":%zu}\n", vs_repo_format(dst), names.count);
	} else {
		printf("%s %zu branch%s %s %s (%s format)\n", verb, names.count,
		       names.count == 1 ? "" : "es", !strcmp(verb, "exported") ? "to" : "from",
		       where,
		       !strcmp(verb, "exported") ? vs_repo_format(dst) : vs_repo_format(src));
	}
	vs_strarray_dispose(&names);
	return 0;
}

int cmd_export(struct cli *cli, int argc, char **argv)
{
	struct copy_args a = {0};
	struct vs_repo *src = NULL, *dst = NULL;
	int rc = copy_opts(&a, cli, argc, argv);

	if (rc != 0)
		return rc;
	if ((rc = cli_open_repo(&src, cli, false)) != 0)
		return rc;
	if ((rc = open_other(&dst, cli, &a, true)) == 0)
		rc = copy_run(cli, dst, src, "exported", a.git ? a.git : a.other);
	vs_repo_close(dst);
	vs_repo_close(src);
	return rc;
}

int cmd_import(struct cli *cli, int argc, char **argv)
{
	struct copy_args a = {0};
	struct vs_repo *src = NULL, *dst = NULL;
	int rc = copy_opts(&a, cli, argc, argv);

	if (rc != 0)
		return rc;
	if ((rc = cli_daemon_guard(cli, a.sock, a.force, "importing branches")) != 0)
		return rc;
	if ((rc = open_other(&src, cli, &a, false)) != 0)
		return rc;
	if ((rc = cli_open_repo(&dst, cli, true)) == 0)
		rc = copy_run(cli, dst, src, "imported", a.git ? a.git : a.other);
	vs_repo_close(dst);
	vs_repo_close(src);
	return rc;
}
