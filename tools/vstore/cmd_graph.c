/* SPDX-License-Identifier: MIT */
/*
 * `vstore graph`: the commit graph in Graphviz dot, oldest on the left. A
 * Xenstore transaction that did not start from the head is a side branch
 * (its commit on the commit it started from) merged back by a two-parent
 * commit: drawn as such, side commits and merges in their own colours.
 * Branch heads are labelled, retention's boundary commits double-framed,
 * and parents beyond -n lead to one "older" node. --svg FILE pipes the dot
 * text through `dot -Tsvg` (Graphviz). Read-only.
 */
#include "cli.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* One commit of the drawing. */
struct gnode {
	struct vs_oid id;
	struct vs_oid parents[2]; /* the first two (a third would be unusual) */
	size_t nparents;
	char summary[96];
	char author[64];
	bool side; /* the second parent of a merge: a transaction's own commit */
};

struct graph {
	struct gnode *v;
	size_t n, cap, max;
	size_t *slots; /* open addressing over v: index + 1, 0 empty */
	size_t nslots; /* a power of two, at least twice n */
};

static size_t id_slot(const struct graph *g, const struct vs_oid *id)
{
	size_t h;
	memcpy(&h, id->id, sizeof(h)); /* ids are hashes already */
	return h & (g->nslots - 1);
}

static bool graph_has(const struct graph *g, const struct vs_oid *id)
{
	if (!g->nslots)
		return false;
	for (size_t j = id_slot(g, id); g->slots[j]; j = (j + 1) & (g->nslots - 1))
		if (vs_oid_equal(&g->v[g->slots[j] - 1].id, id))
			return true;
	return false;
}

static void index_put(struct graph *g, size_t i)
{
	size_t j = id_slot(g, &g->v[i].id);
	while (g->slots[j])
		j = (j + 1) & (g->nslots - 1);
	g->slots[j] = i + 1;
}

/* Make room for one more commit, in the array and the index. */
static int graph_reserve(struct graph *g)
{
	if (g->n == g->cap) {
		size_t ncap = g->cap ? g->cap * 2 : 64;
		struct gnode *nv = realloc(g->v, ncap * sizeof(*nv));
		if (!nv)
			return VS_ENOMEM;
		g->v = nv;
		g->cap = ncap;
	}
	if ((g->n + 1) * 2 > g->nslots) {
		size_t ns = g->nslots ? g->nslots * 2 : 128;
		size_t *slots = calloc(ns, sizeof(*slots));
		if (!slots)
			return VS_ENOMEM;
		free(g->slots);
		g->slots = slots;
		g->nslots = ns;
		for (size_t i = 0; i < g->n; i++)
			index_put(g, i);
	}
	return 0;
}

static int graph_add(void *payload, struct vs_commit *c)
{
	struct graph *g = payload;
	int err;
	if (g->max && g->n >= g->max)
		return 1;
	if (graph_has(g, vs_commit_id(c)))
		return 0;
	if ((err = graph_reserve(g)) < 0)
		return err;
	struct gnode *n = &g->v[g->n];
	memset(n, 0, sizeof(*n));
	n->id = *vs_commit_id(c);
	n->nparents = vs_commit_parentcount(c);
	for (size_t i = 0; i < n->nparents && i < 2; i++)
		n->parents[i] = *vs_commit_parent_id(c, i);
	vs_commit_summary(c, n->summary, sizeof(n->summary));
	snprintf(n->author, sizeof(n->author), "%s", vs_commit_author(c)->name);
	index_put(g, g->n++);
	return 0;
}

/* Mark as side commits the second parents of merges: a transaction's own commit. */
static void mark_sides(struct graph *g)
{
	for (size_t i = 0; i < g->n; i++) {
		if (g->v[i].nparents < 2)
			continue;
		for (size_t j = 0; j < g->n; j++)
			if (vs_oid_equal(&g->v[j].id, &g->v[i].parents[1]))
				g->v[j].side = true;
	}
}

/* A dot string body: quotes and backslashes escaped, non-ASCII and controls as '?'. */
static void dot_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
		} else if (c < ' ' || c > '~')
			fputc('?', f);
		else
			fputc(c, f);
	}
}

static void emit_dot(FILE *f, const struct graph *g, const struct vs_strarray *branches,
		     const struct vs_oid *heads, const struct vs_strarray *boundary)
{
	char hex[VS_OID_MAXHEXSZ + 1], phex[VS_OID_MAXHEXSZ + 1];
	bool older = false;

	fputs("digraph vstore {\n"
	      "\trankdir=LR;\n"
	      "\tnode [shape=box, style=\"rounded,filled\", fillcolor=white, "
	      "fontname=\"monospace\", fontsize=10];\n"
	      "\tedge [color=gray40];\n",
	      f);
	for (size_t i = 0; i < g->n; i++) {
		const struct gnode *n = &g->v[i];
		vs_oid_tostr(hex, &n->id);
		bool cut = false;
		for (size_t b = 0; b < boundary->count; b++)
			cut |= !strcmp(boundary->strings[b], hex);
		fprintf(f, "\t\"c%s\" [label=\"%.10s\\n", hex, hex);
		dot_text(f, n->summary);
		fputs("\\n", f);
		dot_text(f, n->author);
		fputs("\"", f);
		if (n->nparents > 1)
			fputs(", fillcolor=lightblue", f);
		else if (n->side)
			fputs(", fillcolor=lightyellow", f);
		if (cut)
			fputs(", peripheries=2, tooltip=\"retention boundary\"", f);
		fputs("];\n", f);
	}
	for (size_t i = 0; i < g->n; i++) {
		const struct gnode *n = &g->v[i];
		vs_oid_tostr(hex, &n->id);
		for (size_t p = 0; p < n->nparents && p < 2; p++) {
			vs_oid_tostr(phex, &n->parents[p]);
			if (graph_has(g, &n->parents[p])) {
				fprintf(f, "\t\"c%s\" -> \"c%s\"%s;\n", phex, hex,
					p ? " [style=dashed, label=\"merge\"]" : "");
			} else {
				fprintf(f, "\t\"older\" -> \"c%s\" [style=dotted];\n", hex);
				older = true;
			}
		}
	}
	if (older)
		fputs("\t\"older\" [label=\"...\", shape=plaintext, style=\"\"];\n", f);
	for (size_t b = 0; b < branches->count; b++) {
		if (!graph_has(g, &heads[b]))
			continue;
		fputs("\t\"b:", f);
		dot_text(f, branches->strings[b]);
		fputs("\" [label=\"", f);
		dot_text(f, branches->strings[b]);
		fputs("\", shape=cds, fillcolor=palegreen];\n\t\"c", f);
		fprintf(f, "%s\" -> \"b:", vs_oid_tostr(hex, &heads[b]));
		dot_text(f, branches->strings[b]);
		fputs("\" [style=dashed, arrowhead=none];\n", f);
	}
	fputs("}\n", f);
}

/* Feed @text to `dot -Tsvg -o FILE`. @return 0, or CLI_EXIT_FAIL after a message. */
static int run_dot(struct cli *cli, const char *text, size_t len, const char *file)
{
	int fds[2], status;
	if (pipe(fds) < 0)
		return cli_error(cli, "pipe failed");
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return cli_error(cli, "fork failed");
	}
	if (pid == 0) {
		dup2(fds[0], STDIN_FILENO);
		close(fds[0]);
		close(fds[1]);
		execlp("dot", "dot", "-Tsvg", "-o", file, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fds[1], text + off, len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(fds[1]);
	signal(SIGPIPE, old);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return cli_error(cli, "dot failed");
	if (WEXITSTATUS(status) == 127)
		return cli_error(cli, "cannot run dot: install Graphviz (package graphviz)");
	if (WEXITSTATUS(status) != 0)
		return cli_error(cli, "dot could not write %s", file);
	return 0;
}

/* Gather the commits: from REV, or every branch with --all. */
static int gather(struct graph *g, struct cli *cli, struct vs_repo *repo, const char *rev, bool all,
		  const struct vs_strarray *branches, const struct vs_oid *heads)
{
	struct vs_log_opts lo = {0};
	struct vs_oid start;
	int err = 0;

	if (!all) {
		if ((err = cli_resolve_rev(&start, cli, repo, rev ? rev : "HEAD")) < 0)
			return err;
		err = vs_log(repo, &start, &lo, graph_add, g);
	} else {
		for (size_t b = 0; b < branches->count && err >= 0; b++) {
			size_t before = g->max;
			g->max = before ? g->n + before : 0; /* -n per branch */
			err = vs_log(repo, &heads[b], &lo, graph_add, g);
			g->max = before;
		}
	}
	return err < 0 ? err : 0;
}

/* -n, --max-count, into the struct graph @p payload */
static int graph_opt_max(struct cli *cli, void *payload, const char *value)
{
	struct graph *g = payload;
	char *end;
	long long v = strtoll(value, &end, 10);
	if (*end || !*value || v < 0)
		return cli_usage_error(cli, "-n takes a count (0: all)");
	g->max = (size_t)v;
	return 0;
}

int cmd_graph(struct cli *cli, int argc, char **argv)
{
	struct graph g = {.max = 100};
	struct vs_strarray branches = {0}, boundary = {0};
	struct vs_oid *heads = NULL;
	struct vs_repo *repo;
	const char *svg = NULL, *rev = NULL;
	bool all = false;
	int rc, err;
	const struct cli_opt opts[] = {
	    {"svg", 0, .value = &svg},
	    {"max-count", 'n', .fn = graph_opt_max, .payload = &g},
	    {"rev", 'r', .value = &rev},
	    {"all", 0, .flag = &all},
	    {NULL},
	};

	if ((rc = cli_parse_opts(NULL, cli, argc, argv, opts)) != 0)
		return rc;
	if (all && rev)
		return cli_usage_error(cli, "--all and --rev exclude each other");
	if (svg && !*svg)
		return cli_usage_error(cli, "--svg needs a file name");
	if ((rc = cli_open_repo(&repo, cli, false)) != 0)
		return rc;
	if ((err = vs_branch_list(&branches, repo)) < 0 ||
	    (err = vs_gc_boundary(&boundary, repo)) < 0)
		goto fail;
	if (!(heads = calloc(branches.count ? branches.count : 1, sizeof(*heads)))) {
		err = VS_ENOMEM;
		goto fail;
	}
	for (size_t b = 0; b < branches.count; b++)
		if ((err = vs_branch_head(&heads[b], repo, branches.strings[b])) < 0)
			goto fail;
	if ((err = gather(&g, cli, repo, rev, all, &branches, heads)) < 0)
		goto fail;
	mark_sides(&g);
	if (!svg) {
		emit_dot(stdout, &g, &branches, heads, &boundary);
	} else {
		char *text = NULL;
		size_t len = 0;
		FILE *mf = open_memstream(&text, &len);
		if (!mf) {
			rc = cli_error(cli, "out of memory");
		} else {
			emit_dot(mf, &g, &branches, heads, &boundary);
			fclose(mf);
			rc = run_dot(cli, text, len, svg);
			if (rc == 0 && !cli->json)
				fprintf(stderr, "wrote %s (%zu commit%s)\n", svg, g.n,
					g.n == 1 ? "" : "s");
		}
		free(text);
	}
	goto out;
fail:
	rc = cli_error_vs(cli, err, NULL);
out:
	free(heads);
	free(g.v);
	free(g.slots);
	vs_strarray_dispose(&branches);
	vs_strarray_dispose(&boundary);
	vs_repo_close(repo);
	return rc;
}
