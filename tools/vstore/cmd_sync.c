/* SPDX-License-Identifier: MIT */
/*
 * `vstore push`, `fetch`, `pull` and `clone`: history to and from git
 * remotes (store/include/vstore/sync.h). Branches are given git-style as
 * SRC[:DST]; main when none is given. A vs-format store converts commits on
 * the way and records the ids in its map, so even push writes to the store
 * (the map only: no ref moves). pull and fetch into main are refused while a
 * daemon answers (it holds main's head in memory), unless --force.
 */
#include "cli_manage.h"

#include <string.h>

struct sync_args {
	bool force;	    /* non-fast-forward updates; main next to a daemon */
	const char *sock;   /* --socket, for the daemon guard */
	const char *merge;  /* pull: default, lww, counter, json */
	const char *format; /* clone: git or vs */
};

/* Split "SRC[:DST]" in place: *dst NULL without ':'. */
static int refspec_split(struct cli *cli, char *spec, const char **src, const char **dst)
{
	char *colon = strchr(spec, ':');
	*src = spec;
	*dst = NULL;
	if (colon) {
		*colon = '\0';
		*dst = colon + 1;
	}
	if (!**src || (*dst && !**dst))
		return cli_usage_error(cli, "bad branch spec '%s'", spec);
	if (vs_branch_name_check(*src) < 0)
		return cli_error(cli, "'%s' is not a valid branch name", *src);
	if (*dst && vs_branch_name_check(*dst) < 0)
		return cli_error(cli, "'%s' is not a valid branch name", *dst);
	return 0;
}

/* The options all four share; *out the index of the first operand. @return the exit code. */
static int sync_opts(int *out, struct sync_args *a, struct cli *cli, int argc, char **argv)
{
	const struct cli_opt opts[] = {
	    {"force", 'f', .flag = &a->force},	{"json", 0, .flag = &cli->json},
	    {"socket", 0, .value = &a->sock},	{"merge", 0, .value = &a->merge},
	    {"format", 0, .value = &a->format}, {NULL},
	};
	int rc = cli_parse_opts(out, cli, argc, argv, opts);
	const char *cmd = argv[0];

	if (rc != 0)
		return rc;
	if (a->merge && strcmp(cmd, "pull"))
		return cli_usage_error(cli, "--merge is for pull");
	if (a->format && strcmp(cmd, "clone"))
		return cli_usage_error(cli, "--format is for clone");
	return 0;
}

/* Start showing progress in @p p and return sync options that report to it. */
static struct vs_sync_opts sync_progress(struct cli_progress *p, const struct cli *cli, bool force)
{
	cli_progress_init(p, cli);
	return (struct vs_sync_opts){.version = VS_SYNC_OPTS_VERSION,
				     .progress = cli_progress_cb,
				     .payload = p,
				     .force = force};
}

static void print_result(const struct cli *cli, const char *verb, const char *src, const char *dst,
			 const struct vs_oid *id)
{
	char hex[VS_OID_MAXHEXSZ + 1];
	vs_oid_tostr(hex, id);
	if (cli->json) {
		printf("{\"op\":\"%s\",\"branch\":", verb);
		cli_json_str(stdout, src);
		fputs(",\"to\":", stdout);
		cli_json_str(stdout, dst);
		printf(",\"commit\":\"%s\"}\n", hex);
	} else if (dst) {
		printf("%s %s -> %s (%.12s)\n", verb, src, dst, hex);
	} else {
		printf("%s %s (%.12s)\n", verb, src, hex);
	}
}

/* One run of push or fetch: the store, the remote, the progress shown. */
struct sync_run {
	struct cli *cli;
	struct sync_args a;
	struct vs_repo *repo;
	const char *url;
	struct cli_progress p;
	struct vs_sync_opts so;
};

/* What push or fetch does with one branch spec SRC[:DST] (@p dst NULL without one). */
typedef int sync_branch_fn(struct sync_run *s, const char *src, const char *dst);

/*
 * push and fetch: `CMD [options] REMOTE [SRC[:DST]...]`, each spec (main when
 * none is given) through @p fn in turn until one fails. @return the exit code.
 */
static int sync_each(struct cli *cli, int argc, char **argv, sync_branch_fn *fn)
{
	struct sync_run s = {.cli = cli};
	char main_spec[] = CLI_MAIN_BRANCH;
	int i, rc = sync_opts(&i, &s.a, cli, argc, argv);

	if (rc != 0)
		return rc;
	if (argc - i < 1)
		return cli_usage_error(cli, "%s needs a REMOTE", argv[0]);
	s.url = argv[i++];
	if ((rc = cli_open_existing(&s.repo, cli)) != 0)
		return rc;
	s.so = sync_progress(&s.p, cli, s.a.force);
	for (int k = i; k < (i == argc ? i + 1 : argc) && rc == 0; k++) {
		const char *src, *dst;
		if ((rc = refspec_split(cli, i == argc ? main_spec : argv[k], &src, &dst)) == 0)
			rc = fn(&s, src, dst);
	}
	vs_repo_close(s.repo);
	return rc;
}

static int push_one(struct sync_run *s, const char *src, const char *dst)
{
	struct cli *cli = s->cli;
	struct vs_oid head;
	int err = vs_sync_push(s->repo, s->url, src, dst, &s->so);

	cli_progress_done(&s->p);
	if (err == VS_ENOENT)
		return cli_error(cli, "no branch %s", src);
	if (err == VS_ECONFLICT)
		return cli_error(cli,
				 "%s: the remote's %s is not an ancestor (fetch first, "
				 "or --force)",
				 src, dst ? dst : src);
	if (err < 0)
		return cli_error_vs(cli, err, NULL); /* libgit2's words name the URL */
	if (vs_branch_head(&head, s->repo, src) >= 0)
		print_result(cli, "pushed", src, dst ? dst : src, &head);
	return 0;
}

int cmd_push(struct cli *cli, int argc, char **argv)
{
	return sync_each(cli, argc, argv, push_one);
}

static int fetch_one(struct sync_run *s, const char *src, const char *dst)
{
	struct cli *cli = s->cli;
	struct vs_oid id;
	int rc, err;

	if (dst && !strcmp(dst, CLI_MAIN_BRANCH) &&
	    (rc = cli_daemon_guard(cli, s->a.sock, s->a.force, "fetching into main")) != 0)
		return rc;
	err = vs_sync_fetch(&id, s->repo, s->url, src, dst, &s->so);
	cli_progress_done(&s->p);
	if (err == VS_ENOENT)
		return cli_error(cli, "%s has no branch %s", s->url, src);
	if (err == VS_ECONFLICT)
		return cli_error(cli,
				 "%s has diverged from %s's %s: not a fast-forward "
				 "(--force moves it)",
				 dst, s->url, src);
	if (err < 0)
		return cli_error_vs(cli, err, NULL); /* libgit2's words name the URL */
	print_result(cli, "fetched", src, dst, &id);
	return 0;
}

int cmd_fetch(struct cli *cli, int argc, char **argv)
{
	return sync_each(cli, argc, argv, fetch_one);
}

static int merge_fn(vs_merge_fn **out, const char *name)
{
	static const struct {
		const char *name;
		vs_merge_fn *fn;
	} fns[] = {
	    {"default", vs_merge_default},
	    {"lww", vs_merge_lww},
	    {"counter", vs_merge_counter},
	    {"json", vs_merge_json},
	};
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		if (!strcmp(fns[i].name, name)) {
			*out = fns[i].fn;
			return 0;
		}
	}
	return -1;
}

int cmd_pull(struct cli *cli, int argc, char **argv)
{
	struct sync_args a = {0};
	struct cli_progress p;
	struct vs_repo *repo;
	struct vs_merge_opts mo = {0};
	char spec[] = CLI_MAIN_BRANCH, msg[512];
	const char *src, *dst;
	int i, rc = sync_opts(&i, &a, cli, argc, argv), err;

	if (rc != 0)
		return rc;
	if (argc - i < 1 || argc - i > 2)
		return cli_usage_error(cli, "pull takes REMOTE [BRANCH[:LOCAL]]");
	if (a.merge && merge_fn(&mo.fn, a.merge) < 0)
		return cli_usage_error(cli, "--merge takes default, lww, counter or json");
	const char *url = argv[i];
	if ((rc = refspec_split(cli, argc - i == 2 ? argv[i + 1] : spec, &src, &dst)) != 0)
		return rc;
	const char *local = dst ? dst : src;
	if (!strcmp(local, CLI_MAIN_BRANCH) &&
	    (rc = cli_daemon_guard(cli, a.sock, a.force, "pulling into main")) != 0)
		return rc;
	if ((rc = cli_open_existing(&repo, cli)) != 0)
		return rc;

	struct cli_sig_buf sb;
	struct vs_signature sig;
	cli_signature(&sig, &sb, cli);
	snprintf(msg, sizeof(msg), "Merge branch '%s' of %s into %s\n", src, url, local);
	struct vs_commit_opts co = {.author = &sig, .message = msg};
	struct vs_sync_opts so = sync_progress(&p, cli, a.force);
	struct vs_oid head;
	err = vs_sync_pull(&head, repo, url, local, src, &mo, &co, &so);
	cli_progress_done(&p);
	if (err == VS_ENOENT)
		rc = cli_error(cli, "%s has no branch %s", url, src);
	else if (err == VS_ECONFLICT)
		rc = cli_error_vs(cli, err, "merge conflict, nothing changed");
	else if (err < 0)
		rc = cli_error_vs(cli, err, NULL); /* libgit2's words name the URL */
	else
		print_result(cli, "pulled", src, local, &head);
	vs_repo_close(repo);
	return rc;
}

int cmd_clone(struct cli *cli, int argc, char **argv)
{
	struct sync_args a = {0};
	struct cli_progress p;
	struct vs_repo *repo = NULL;
	struct vs_strarray names = {0};
	int i, err = sync_opts(&i, &a, cli, argc, argv);

	if (err != 0)
		return err;
	if (argc - i != 2)
		return cli_usage_error(cli, "clone takes REMOTE STORE");
	if (a.format && strcmp(a.format, "git") && strcmp(a.format, "vs"))
		return cli_usage_error(cli, "--format takes git or vs");
	const char *url = argv[i], *dst = argv[i + 1];
	if (!strchr(dst, ':'))
		return cli_usage_error(cli, "STORE is a URI: lmdb:DIR, git:DIR");
	struct vs_repo_opts ro = {.version = VS_REPO_OPTS_VERSION, .format = a.format};
	struct vs_sync_opts so = sync_progress(&p, cli, false);
	err = vs_sync_clone(&repo, url, dst, &ro, &so);
	cli_progress_done(&p);
	if (err == VS_EEXIST)
		return cli_error(cli, "%s already holds branches", dst);
	if (err < 0)
		return cli_error_vs(cli, err, NULL); /* libgit2's words name the URL */
	if ((err = vs_branch_list(&names, repo)) < 0) {
		vs_repo_close(repo);
		return cli_error_vs(cli, err, dst);
	}
	if (cli->json) {
		fputs("{\"store\":", stdout);
		cli_json_str(stdout, dst);
		printf(",\"format\":\"%s\",\"branches\":%zu}\n", vs_repo_format(repo), names.count);
	} else {
		printf("cloned %s into %s (%s format): %zu branch%s\n", url, dst,
		       vs_repo_format(repo), names.count, names.count == 1 ? "" : "es");
	}
	vs_strarray_dispose(&names);
	vs_repo_close(repo);
	return 0;
}
