/* SPDX-License-Identifier: MIT */
/*
 * `vstore stats`: what the store holds. Commits reachable from the branches
 * (each counted once), the oldest and newest of them by committer time (the
 * oldest kept commit, after retention), the retention boundary, objects by
 * kind (vs_repo_check's counts; --quick skips that full walk) and the bytes
 * the store's files take on disk. Read-only, safe next to a running daemon.
 */
#include "cli.h"

#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Commits seen, as an open-addressing set of ids. */
struct commit_set {
	struct vs_oid *slots; /* type 0: empty */
	size_t cap, n;
};

static size_t id_hash(const struct vs_oid *id)
{
	size_t h;
	memcpy(&h, id->id, sizeof(h)); /* ids are hashes already */
	return h;
}

/* 1 when @id was new, 0 when seen, VS_ENOMEM. */
static int set_add(struct commit_set *s, const struct vs_oid *id)
{
	if ((s->n + 1) * 4 > s->cap * 3) {
		size_t ncap = s->cap ? s->cap * 2 : 1024;
		struct vs_oid *ns = calloc(ncap, sizeof(*ns));
		if (!ns)
			return VS_ENOMEM;
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->slots[i].type)
				continue;
			size_t j = id_hash(&s->slots[i]) & (ncap - 1);
			while (ns[j].type)
				j = (j + 1) & (ncap - 1);
			ns[j] = s->slots[i];
		}
		free(s->slots);
		s->slots = ns;
		s->cap = ncap;
	}
	size_t j = id_hash(id) & (s->cap - 1);
	for (; s->slots[j].type; j = (j + 1) & (s->cap - 1))
		if (vs_oid_equal(&s->slots[j], id))
			return 0;
	s->slots[j] = *id;
	s->n++;
	return 1;
}

struct stats {
	struct commit_set seen;
	size_t branches;
	bool any; /* a commit was seen */
	struct vs_oid oldest, newest;
	int64_t oldest_time, newest_time;
	char oldest_summary[256];
	size_t boundary;
	struct vs_check_stats objects;
	bool have_objects;
	uint64_t disk_bytes;
	bool have_disk;
};

static int stats_commit(void *payload, struct vs_commit *c)
{
	struct stats *st = payload;
	int r = set_add(&st->seen, vs_commit_id(c));
	if (r <= 0)
		return r;
	int64_t t = vs_commit_committer(c)->time;
	if (!st->any || t <= st->oldest_time) { /* ties: the later in walk order, nearer the root */
		st->oldest = *vs_commit_id(c);
		st->oldest_time = t;
		vs_commit_summary(c, st->oldest_summary, sizeof(st->oldest_summary));
	}
	if (!st->any || t > st->newest_time) {
		st->newest = *vs_commit_id(c);
		st->newest_time = t;
	}
	st->any = true;
	return 0;
}

/* nftw() passes no payload: the sum of the one walk running. */
static uint64_t du_total;

static int du_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_F)
		du_total += (uint64_t)sb->st_blocks * 512u;
	return 0;
}

/* The directory of an lmdb:/git: URI or a bare directory; NULL for mem:. */
static const char *store_dir(const char *uri)
{
	if (!strncmp(uri, "lmdb:", 5))
		return uri + 5;
	if (!strncmp(uri, "git:", 4))
		return uri + 4;
	return strchr(uri, ':') ? NULL : uri;
}

static int collect(struct stats *st, struct cli *cli, struct vs_repo *repo, bool quick)
{
	struct vs_strarray names = {0}, boundary = {0};
	int err = vs_branch_list(&names, repo);

	st->branches = names.count;
	for (size_t i = 0; i < names.count && err >= 0; i++) {
		struct vs_oid head;
		if ((err = vs_branch_head(&head, repo, names.strings[i])) >= 0)
			err = vs_log(repo, &head, NULL, stats_commit, st);
	}
	if (err >= 0 && (err = vs_gc_boundary(&boundary, repo)) >= 0)
		st->boundary = boundary.count;
	if (err >= 0 && !quick && (err = vs_repo_check(repo, &st->objects)) >= 0)
		st->have_objects = true;
	const char *dir = store_dir(cli->store);
	if (err >= 0 && dir) {
		du_total = 0;
		if (nftw(dir, du_entry, 16, FTW_PHYS) == 0) {
			st->disk_bytes = du_total;
			st->have_disk = true;
		}
	}
	vs_strarray_dispose(&names);
	vs_strarray_dispose(&boundary);
	return err;
}

static void print_json(const struct cli *cli, const struct stats *st, struct vs_repo *repo)
{
	char hex[VS_OID_MAXHEXSZ + 1];
	printf("{\"backend\":\"%s\",\"format\":\"%s\",\"branches\":%zu,\"commits\":%zu,",
	       vs_repo_backend_name(repo), vs_repo_format(repo), st->branches, st->seen.n);
	if (st->have_objects)
		printf("\"objects\":%zu,\"trees\":%zu,\"blobs\":%zu,",
		       st->objects.commits + st->objects.trees + st->objects.blobs,
		       st->objects.trees, st->objects.blobs);
	if (st->have_disk)
		printf("\"bytes\":%llu,", (unsigned long long)st->disk_bytes);
	printf("\"boundary\":%zu,\"oldest\":", st->boundary);
	if (st->any) {
		printf("{\"commit\":\"%s\",\"time\":%lld,\"summary\":",
		       vs_oid_tostr(hex, &st->oldest), (long long)st->oldest_time);
		cli_json_str(stdout, st->oldest_summary);
		printf("},\"newest\":{\"commit\":\"%s\",\"time\":%lld}",
		       vs_oid_tostr(hex, &st->newest), (long long)st->newest_time);
	} else {
		fputs("null,\"newest\":null", stdout);
	}
	fputs("}\n", stdout);
	(void)cli;
}

static void print_text(const struct cli *cli, const struct stats *st, struct vs_repo *repo)
{
	char hex[VS_OID_MAXHEXSZ + 1], when[64];
	printf("store:     %s (%s backend, %s format)\n", cli->store, vs_repo_backend_name(repo),
	       vs_repo_format(repo));
	printf("branches:  %zu\n", st->branches);
	printf("commits:   %zu\n", st->seen.n);
	if (st->have_objects)
		printf("objects:   %zu (%zu commits, %zu trees, %zu blobs)\n",
		       st->objects.commits + st->objects.trees + st->objects.blobs,
		       st->objects.commits, st->objects.trees, st->objects.blobs);
	if (st->have_disk)
		printf("bytes:     %llu on disk\n", (unsigned long long)st->disk_bytes);
	if (st->any) {
		cli_format_time(when, sizeof(when), st->oldest_time, 0, CLI_TIME_ISO);
		printf("oldest:    %s%.12s%s %s %s\n", cli_color(cli, CLI_C_COMMIT),
		       vs_oid_tostr(hex, &st->oldest), cli_color(cli, CLI_C_RESET), when,
		       st->oldest_summary);
		cli_format_time(when, sizeof(when), st->newest_time, 0, CLI_TIME_ISO);
		printf("newest:    %s%.12s%s %s\n", cli_color(cli, CLI_C_COMMIT),
		       vs_oid_tostr(hex, &st->newest), cli_color(cli, CLI_C_RESET), when);
	}
	printf("boundary:  %zu commit%s%s\n", st->boundary, st->boundary == 1 ? "" : "s",
	       st->boundary ? " (history cut by retention)" : " (history complete)");
}

int cmd_stats(struct cli *cli, int argc, char **argv)
{
	struct stats st = {0};
	struct vs_repo *repo;
	bool quick = false;
	int rc, err;
	const struct cli_opt opts[] = {
	    {"json", 0, .flag = &cli->json},
	    {"quick", 'q', .flag = &quick},
	    {NULL},
	};

	if ((rc = cli_parse_opts(NULL, cli, argc, argv, opts)) != 0)
		return rc;
	if ((rc = cli_open_repo(&repo, cli, false)) != 0)
		return rc;
	if ((err = collect(&st, cli, repo, quick)) < 0)
		rc = cli_error_vs(cli, err, "cannot read the store");
	else if (cli->json)
		print_json(cli, &st, repo);
	else
		print_text(cli, &st, repo);
	free(st.seen.slots);
	vs_repo_close(repo);
	return rc;
}
