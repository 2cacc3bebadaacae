/* SPDX-License-Identifier: MIT */
/*
 * `vstore gc`: apply a retention policy and sweep what it no longer keeps
 * (store/include/vstore/gc.h). Commits older than the window are cut off as
 * in a shallow clone; objects nothing kept reaches are deleted in bounded
 * steps. A collection must be the store's only writer (objects a daemon
 * writes meanwhile could be swept), so gc refuses to run while a daemon
 * answers on its socket, unless --force says the daemon uses another store.
 */
#include "cli_manage.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* A duration: plain seconds, "2d", "36 hours", "1 week"... (cli_parse_time's relative forms). */
static int parse_duration(int64_t *out, const char *s, int64_t now)
{
	const char *p = s;
	while (isdigit((unsigned char)*p))
		p++;
	if (p != s && !*p) {
		char *end;
		long long v = strtoll(s, &end, 10);
		if (*end || v <= 0)
			return -1;
		*out = v;
		return 0;
	}
	int64_t t;
	if (*s == '@' || cli_parse_time(&t, s, now) < 0 || t >= now)
		return -1;
	*out = now - t;
	return 0;
}

static int parse_count(size_t *out, const char *s)
{
	char *end;
	unsigned long long v;
	if (!isdigit((unsigned char)*s))
		return -1;
	v = strtoull(s, &end, 10);
	if (*end || v == 0 || v > SIZE_MAX)
		return -1;
	*out = (size_t)v;
	return 0;
}

static void print_stats(const struct cli *cli, const struct vs_gc_stats *st,
			const struct vs_strarray *boundary)
{
	if (cli->json) {
		printf("{\"commits_kept\":%zu,\"commits_dropped\":%zu,\"boundary\":%zu,"
		       "\"objects_marked\":%zu,\"objects_swept\":%zu,\"objects_unswept\":%zu,"
		       "\"bytes_swept\":%llu,\"bytes_freed\":%llu,\"records_moved\":%zu,"
		       "\"steps\":%zu,\"boundary_commits\":[",
		       st->commits_kept, st->commits_dropped, st->boundary, st->objects_marked,
		       st->objects_swept, st->objects_unswept, (unsigned long long)st->bytes_swept,
		       (unsigned long long)st->bytes_freed, st->records_moved, st->steps);
		for (size_t i = 0; i < boundary->count; i++)
			printf("%s\"%s\"", i ? "," : "", boundary->strings[i]);
		fputs("]}\n", stdout);
		return;
	}
	printf("commits: %zu kept, %zu dropped; boundary: %zu commit%s\n", st->commits_kept,
	       st->commits_dropped, st->boundary, st->boundary == 1 ? "" : "s");
	printf("objects: %zu reachable, %zu swept", st->objects_marked, st->objects_swept);
	if (st->objects_unswept)
		printf(", %zu left in packs", st->objects_unswept);
	printf("\nspace freed: %llu bytes (%llu bytes of content swept)\n",
	       (unsigned long long)st->bytes_freed, (unsigned long long)st->bytes_swept);
}

/* --keep-last, into the struct vs_gc_policy @p payload */
static int gc_opt_keep_last(struct cli *cli, void *payload, const char *value)
{
	struct vs_gc_policy *pol = payload;
	if (parse_count(&pol->keep_last, value) < 0)
		return cli_usage_error(cli, "--keep-last takes a count >= 1, not '%s'", value);
	return 0;
}

/* --keep-newer-than, into the struct vs_gc_policy @p payload */
static int gc_opt_keep_newer(struct cli *cli, void *payload, const char *value)
{
	struct vs_gc_policy *pol = payload;
	if (parse_duration(&pol->keep_newer_than, value, cli->now) < 0)
		return cli_usage_error(cli,
				       "--keep-newer-than takes a duration "
				       "(3600, 2d, \"12 hours\"), not '%s'",
				       value);
	return 0;
}

int cmd_gc(struct cli *cli, int argc, char **argv)
{
	struct vs_gc_policy pol = {.version = VS_GC_POLICY_VERSION, .now = cli->now};
	struct vs_gc_stats st = {0};
	struct vs_strarray boundary = {0};
	struct cli_progress p;
	struct vs_repo *repo;
	const char *sock = NULL;
	bool force = false, refs = false;
	int rc, err;
	const struct cli_opt opts[] = {
	    {"keep-all", 0, .flag = &pol.keep_all},
	    {"keep-last", 0, .fn = gc_opt_keep_last, .payload = &pol},
	    {"keep-newer-than", 0, .fn = gc_opt_keep_newer, .payload = &pol},
	    {"keep-refs", 0, .flag = &refs},
	    {"force", 'f', .flag = &force},
	    {"socket", 0, .value = &sock},
	    {"json", 0, .flag = &cli->json},
	    {NULL},
	};

	if ((rc = cli_parse_opts(NULL, cli, argc, argv, opts)) != 0)
		return rc;
	if (pol.keep_all && (pol.keep_last || pol.keep_newer_than || refs))
		return cli_usage_error(cli, "--keep-all keeps everything: no other rule applies");
	/* Only the commits refs name: a window one commit deep. */
	if (refs && !pol.keep_last)
		pol.keep_last = 1;
	if (!pol.keep_last && !pol.keep_newer_than)
		pol.keep_all = true;
	/* A running daemon collects its own store: xenstored --keep-last, CONTROL gc start. */
	if ((rc = cli_daemon_guard(cli, sock, force,
				   "collecting garbage; a running daemon collects its own store "
				   "with --keep-last or 'xenstore-control gc start'")) != 0)
		return rc;
	if ((rc = cli_open_existing(&repo, cli)) != 0)
		return rc;

	cli_progress_init(&p, cli);
	struct vs_gc_opts go = {
	    .version = VS_GC_OPTS_VERSION, .progress = cli_progress_cb, .payload = &p};
	err = vs_gc_run(repo, &pol, &go, &st);
	cli_progress_done(&p);
	if (err == VS_ENOTSUP)
		rc = cli_error_vs(cli, err, "this store cannot delete objects");
	else if (err < 0)
		rc = cli_error_vs(cli, err, "garbage collection failed");
	else if ((err = vs_gc_boundary(&boundary, repo)) < 0)
		rc = cli_error_vs(cli, err, "cannot read the boundary");
	else
		print_stats(cli, &st, &boundary);
	vs_strarray_dispose(&boundary);
	vs_repo_close(repo);
	return rc;
}
