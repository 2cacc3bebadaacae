/* SPDX-License-Identifier: MIT */
/*
 * vstore blame PATH: for PATH and each node below it, the newest commit that
 * changed the node's value or permissions. One history walk, not one per
 * node: vs_log() with the subtree's store path yields the commits that
 * touched it, newest first; each is compared with its parents and credits
 * the nodes it changed against every parent (git's rule: a merge that took
 * a node from one side is not its author, that side's commit is), until
 * every node has its commit or history ends.
 */
#include "cmd_args.h"

#include <stdlib.h>
#include <string.h>

int blame_args_parse(struct blame_args *out, struct cli *cli, int argc, char **argv)
{
	int i, rc;
	memset(out, 0, sizeof(*out));
	out->json = cli->json;
	const struct cli_opt opts[] = {
	    {"rev", 'r', .value = &out->rev},
	    {"json", 0, .flag = &out->json},
	    {NULL},
	};
	if ((rc = cli_parse_opts(&i, cli, argc, argv, opts)) != 0)
		return rc;
	if (i >= argc)
		return cli_usage_error(cli, "a path is needed");
	if ((rc = cli_xs_path_arg(out->xpath, sizeof(out->xpath), cli, argv[i++])) != 0)
		return rc;
	return cli_args_end(cli, argc, argv, i);
}

/* A commit some node is credited to. */
struct bcommit {
	struct vs_oid id;
	char *author;
	int64_t time;
	int offset;
	char summary[256];
	char domain[16], op[32];
};

/* A node being blamed. */
struct bnode {
	char *path;
	struct vs_buf value;
	size_t commit;	   /* index in commits, or SIZE_MAX while unknown */
	unsigned int hits; /* parents this commit differs from it in (this round) */
	size_t round;	   /* which commit @hits counts for */
};

struct blame {
	struct cli *cli;
	const struct blame_args *args;
	struct vs_repo *repo;
	struct bnode *nodes; /* depth first, creation order */
	size_t n, cap;
	size_t *by_path; /* indices sorted by path */
	struct bcommit *commits;
	size_t ncommits;
	size_t left;  /* nodes not yet credited */
	size_t round; /* commits examined */
	size_t *hit;  /* nodes the current commit changed against some parent */
	size_t nhit, hitcap;
	int err; /* an error inside the log callback */
};

static int add_node(struct blame *b, const char *path, struct vs_tree *tree)
{
	if (b->n == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 64;
		struct bnode *nv = realloc(b->nodes, ncap * sizeof(*nv));
		if (!nv)
			return VS_ENOMEM;
		b->nodes = nv;
		b->cap = ncap;
	}
	struct bnode *n = &b->nodes[b->n];
	struct cli_xs_node xn;
	cli_xs_node_init(&xn);
	int err = cli_xs_node_read(&xn, tree, path);
	if (err < 0) {
		cli_xs_node_release(&xn);
		return err;
	}
	memset(n, 0, sizeof(*n));
	n->value = xn.value; /* taken over */
	xn.value = (struct vs_buf)VS_BUF_INIT;
	cli_xs_node_release(&xn);
	if (!(n->path = strdup(path))) {
		vs_buf_release(&n->value);
		return VS_ENOMEM;
	}
	n->commit = SIZE_MAX;
	n->round = SIZE_MAX;
	b->n++;
	return 0;
}

static int collect(struct blame *b, struct vs_tree *tree, const char *path)
{
	struct vs_strarray kids;
	char child[XSD_PATH_BUF];
	int err = add_node(b, path, tree);
	if (err < 0 || (err = cli_xs_children(&kids, tree, path)) < 0)
		return err;
	for (size_t i = 0; err >= 0 && i < kids.count; i++) {
		if ((err = cli_xs_child_path(child, sizeof(child), path, kids.strings[i])) >= 0)
			err = collect(b, tree, child);
	}
	vs_strarray_dispose(&kids);
	return err;
}

static int by_path_cmp(const void *x, const void *y, void *ctx)
{
	const struct blame *b = ctx;
	return strcmp(b->nodes[*(const size_t *)x].path, b->nodes[*(const size_t *)y].path);
}

static struct bnode *find(struct blame *b, const char *path)
{
	size_t lo = 0, hi = b->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct bnode *n = &b->nodes[b->by_path[mid]];
		int c = strcmp(path, n->path);
		if (!c)
			return n;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int count_change(void *payload, const struct cli_xs_change *ch)
{
	struct blame *b = payload;
	struct bnode *n = ch->raw || ch->kind == CLI_XS_REMOVED ? NULL : find(b, ch->path);
	if (!n || n->commit != SIZE_MAX)
		return 0;
	if (n->round != b->round) {
		if (b->nhit == b->hitcap) {
			size_t ncap = b->hitcap ? b->hitcap * 2 : 64;
			size_t *nv = realloc(b->hit, ncap * sizeof(*nv));
			if (!nv)
				return VS_ENOMEM;
			b->hit = nv;
			b->hitcap = ncap;
		}
		b->hit[b->nhit++] = (size_t)(n - b->nodes);
		n->round = b->round;
		n->hits = 0;
	}
	n->hits++;
	return 0;
}

static int credit(struct blame *b, struct vs_commit *c, unsigned int nparents)
{
	struct bcommit bc = {.id = *vs_commit_id(c)};
	bool used = false;
	for (size_t i = 0; i < b->nhit; i++) {
		struct bnode *n = &b->nodes[b->hit[i]];
		if (n->commit != SIZE_MAX || n->hits < nparents)
			continue;
		if (!used) {
			struct bcommit *nv = realloc(b->commits, (b->ncommits + 1) * sizeof(*nv));
			if (!nv)
				return VS_ENOMEM;
			b->commits = nv;
			const struct vs_signature *a = vs_commit_author(c);
			if (!(bc.author = strdup(a->name)))
				return VS_ENOMEM;
			bc.time = a->time;
			bc.offset = a->offset;
			vs_commit_summary(c, bc.summary, sizeof(bc.summary));
			const char *msg = vs_commit_message(c);
			if (!cli_trailer(bc.domain, sizeof(bc.domain), msg, "Xs-Domain"))
				bc.domain[0] = '\0';
			if (!cli_trailer(bc.op, sizeof(bc.op), msg, "Xs-Op"))
				bc.op[0] = '\0';
			b->commits[b->ncommits++] = bc;
			used = true;
		}
		n->commit = b->ncommits - 1;
		b->left--;
	}
	return 0;
}

static int blame_commit(void *payload, struct vs_commit *c)
{
	struct blame *b = payload;
	const struct vs_oid *id = vs_commit_id(c);
	unsigned int nparents = 0;
	int err = 0;

	b->round++;
	b->nhit = 0;
	for (size_t i = 0; err >= 0 && i < vs_commit_parentcount(c); i++) {
		struct vs_commit *p;
		const struct vs_oid *pid = vs_commit_parent_id(c, i);
		if (vs_commit_lookup(&p, b->repo, pid) < 0)
			continue; /* cut by gc: this commit is where history starts */
		vs_commit_free(p);
		nparents++;
		err = cli_xs_diff(b->repo, pid, id, b->args->xpath, count_change, b);
	}
	if (err >= 0 && !nparents) {
		nparents = 1;
		err = cli_xs_diff(b->repo, NULL, id, b->args->xpath, count_change, b);
	}
	if (err >= 0)
		err = credit(b, c, nparents);
	if (err < 0) {
		b->err = err;
		return 1;
	}
	return b->left ? 0 : 1;
}

static void print_line(const struct blame *b, const struct bnode *n)
{
	const struct cli *cli = b->cli;
	const struct bcommit *c = n->commit != SIZE_MAX ? &b->commits[n->commit] : NULL;
	char hex[VS_OID_MAXHEXSZ + 1], when[64];
	if (b->args->json) {
		fputs("{\"path\":", stdout);
		cli_json_str(stdout, n->path);
		fputs(",\"value\":", stdout);
		cli_json_string(stdout, n->value.ptr ? n->value.ptr : "", n->value.size);
		if (c) {
			printf(",\"commit\":\"%s\",\"author\":", vs_oid_tostr(hex, &c->id));
			cli_json_str(stdout, c->author);
			printf(
			    ",\"time\":%lld,\"date\":\"%s\",\"domain\":%s", (long long)c->time,
			    cli_format_time(when, sizeof(when), c->time, c->offset, CLI_TIME_ISO),
			    *c->domain ? c->domain : "null");
			fputs(",\"op\":", stdout);
			cli_json_str(stdout, *c->op ? c->op : NULL);
			fputs(",\"summary\":", stdout);
			cli_json_str(stdout, c->summary);
		} else {
			fputs(",\"commit\":null", stdout);
		}
		fputs("}\n", stdout);
		return;
	}
	struct vs_buf v = VS_BUF_INIT;
	if (cli_xs_value_escape(&v, n->value.ptr, n->value.size) < 0)
		vs_buf_clear(&v);
	if (c) {
		char s[16];
		printf("%s%s%s (%s %s) %s = \"%s\"\n", cli_color(cli, CLI_C_COMMIT),
		       cli_short_id(s, sizeof(s), &c->id), cli_color(cli, CLI_C_RESET), c->author,
		       cli_format_time(when, sizeof(when), c->time, c->offset, CLI_TIME_ISO),
		       n->path, v.ptr ? v.ptr : "");
	} else {
		printf("???????????? (not in the kept history) %s = \"%s\"\n", n->path,
		       v.ptr ? v.ptr : "");
	}
	vs_buf_release(&v);
}

int cmd_blame(struct cli *cli, int argc, char **argv)
{
	struct blame_args a;
	struct blame b = {.cli = cli, .args = &a};
	struct vs_tree *tree = NULL;
	struct vs_oid start;
	char sp[XSD_STORE_PATH_BUF];
	int err, rc = blame_args_parse(&a, cli, argc, argv);
	if (rc)
		return rc;
	if ((rc = cli_open_repo(&b.repo, cli, false)))
		return rc;
	if ((err = cli_tree_at(&tree, &start, cli, b.repo, a.rev)) < 0 ||
	    (err = collect(&b, tree, a.xpath)) < 0)
		goto fail;
	if (!(b.by_path = malloc(b.n * sizeof(*b.by_path)))) {
		err = VS_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < b.n; i++)
		b.by_path[i] = i;
	qsort_r(b.by_path, b.n, sizeof(*b.by_path), by_path_cmp, &b);
	b.left = b.n;
	struct vs_log_opts lo = {0};
	if (strcmp(a.xpath, "/")) {
		if ((err = xsd_path_store(sp, sizeof(sp), a.xpath, XSD_STORE_NODE)) < 0)
			goto fail;
		lo.path = sp;
	}
	err = vs_log(b.repo, &start, &lo, blame_commit, &b);
	if (b.err < 0)
		err = b.err;
	if (err < 0)
		goto fail;
	for (size_t i = 0; i < b.n && !ferror(stdout); i++)
		print_line(&b, &b.nodes[i]);
	goto out;
fail:
	rc = cli_error_vs(cli, err, NULL);
out:
	for (size_t i = 0; i < b.n; i++) {
		free(b.nodes[i].path);
		vs_buf_release(&b.nodes[i].value);
	}
	for (size_t i = 0; i < b.ncommits; i++)
		free(b.commits[i].author);
	free(b.nodes);
	free(b.by_path);
	free(b.hit);
	free(b.commits);
	vs_tree_free(tree);
	vs_repo_close(b.repo);
	return rc;
}
