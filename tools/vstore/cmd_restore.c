/* SPDX-License-Identifier: MIT */
/*
 * `vstore restore PATH --at REV`: make Xenstore node PATH and everything
 * below it what it was at REV, through the running daemon, in one
 * transaction: old values written back, old permissions set again, nodes
 * added since removed (PATH itself when it did not exist at REV). The old
 * subtree is read from the store (read-only); the current one through the
 * transaction, whose reads make it conflict, and be run again, when another
 * client changes the subtree meanwhile. History is never rewritten: the
 * daemon commits the transaction as one new commit on main.
 */
#include "cli_manage.h"

#include <stdlib.h>
#include <string.h>

/* One node of the subtree at REV, in pre-order (parents first). */
struct old_node {
	char *path;		  /* canonical Xenstore path */
	struct vs_buf value;	  /* its value (empty when none) */
	struct vs_strarray perms; /* "b0", "r5"...: owner first, ignore flags dropped */
};

struct restore {
	struct cli *cli;
	const char *path;	/* canonical PATH */
	bool exists;		/* PATH existed at REV */
	struct old_node *nodes; /* the subtree at REV, pre-order */
	size_t n, cap;
	char **sorted; /* the nodes' paths, sorted, for membership */
	bool dry_run;
	/* Per attempt (reset when the transaction runs again): */
	size_t written, chmods, removed;
	struct vs_buf actions; /* "write /a\n", "chmod /a b0 r5\n", "rm /b\n" */
};

static void restore_release(struct restore *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->nodes[i].path);
		vs_buf_release(&r->nodes[i].value);
		vs_strarray_dispose(&r->nodes[i].perms);
	}
	free(r->nodes);
	free(r->sorted);
	vs_buf_release(&r->actions);
}

static int perms_strings(struct vs_strarray *out, const struct xsd_perms *ps)
{
	out->strings = calloc(ps->num ? ps->num : 1, sizeof(char *));
	out->count = 0;
	out->packed = false;
	if (!out->strings)
		return VS_ENOMEM;
	for (unsigned int i = 0; i < ps->num; i++) {
		char s[16];
		snprintf(s, sizeof(s), "%c%u", xsd_perm_letter(ps->p[i].perm), ps->p[i].domid);
		if (!(out->strings[i] = strdup(s)))
			return VS_ENOMEM;
		out->count++;
	}
	return 0;
}

/* Append node @path of @root and, recursively, its children (creation order). */
static int collect(struct restore *r, struct vs_tree *root, const char *path)
{
	struct cli_xs_node node;
	struct vs_strarray kids = {0};
	int err;

	cli_xs_node_init(&node);
	if ((err = cli_xs_node_read(&node, root, path)) < 0)
		goto out;
	if (!node.has_meta) {
		err = vs_error_set(VS_ECORRUPT, "%s has no Xenstore metadata", path);
		goto out;
	}
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 64;
		struct old_node *nn = realloc(r->nodes, ncap * sizeof(*nn));
		if (!nn) {
			err = VS_ENOMEM;
			goto out;
		}
		r->nodes = nn;
		r->cap = ncap;
	}
	struct old_node *o = &r->nodes[r->n];
	*o = (struct old_node){.path = strdup(path)};
	o->value = node.value;
	node.value = (struct vs_buf)VS_BUF_INIT;
	r->n++;
	if (!o->path || (err = perms_strings(&o->perms, &node.meta.perms)) < 0) {
		err = VS_ENOMEM;
		goto out;
	}
	if ((err = cli_xs_children(&kids, root, path)) < 0)
		goto out;
	for (size_t i = 0; i < kids.count && err >= 0; i++) {
		char *kp = cli_xs_child_dup(path, kids.strings[i]);
		err = kp ? collect(r, root, kp) : VS_ENOMEM;
		free(kp);
	}
out:
	vs_strarray_dispose(&kids);
	cli_xs_node_release(&node);
	return err;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool was_there(const struct restore *r, const char *path)
{
	return r->n && bsearch(&path, r->sorted, r->n, sizeof(char *), cmp_str);
}

/* Read the subtree at REV; r->exists false when PATH did not exist then. */
static int load_old(struct restore *r, struct vs_repo *repo, const struct vs_oid *rev)
{
	struct vs_commit *c = NULL;
	struct vs_tree *root = NULL;
	int err;

	if ((err = vs_commit_lookup(&c, repo, rev)) < 0 || (err = vs_commit_tree(&root, c)) < 0)
		goto out;
	err = collect(r, root, r->path);
	if (err == VS_ENOENT && r->n == 0) {
		r->exists = false;
		err = 0;
		goto out;
	}
	if (err < 0)
		goto out;
	r->exists = true;
	if (!(r->sorted = malloc(r->n * sizeof(char *)))) {
		err = VS_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < r->n; i++)
		r->sorted[i] = r->nodes[i].path;
	qsort(r->sorted, r->n, sizeof(char *), cmp_str);
out:
	vs_tree_free(root);
	vs_commit_free(c);
	return err;
}

static int do_rm(struct restore *r, struct vsc_client *c, vsc_txn_t t, const char *path)
{
	int err = r->dry_run ? 0 : vsc_rm(c, t, path);
	if (err < 0)
		return err;
	r->removed++;
	return vs_buf_printf(&r->actions, "rm %s\n", path);
}

/* Remove what is below @path now but was not at REV. */
static int prune(struct restore *r, struct vsc_client *c, vsc_txn_t t, const char *path)
{
	struct vs_strarray kids = {0};
	int err = vsc_directory(&kids, c, t, path);
	if (err == VS_ENOENT)
		return 0;
	for (size_t i = 0; i < kids.count && err >= 0; i++) {
		char *kp = cli_xs_child_dup(path, kids.strings[i]);
		if (!kp)
			err = VS_ENOMEM;
		else if (!was_there(r, kp))
			err = do_rm(r, c, t, kp);
		else
			err = prune(r, c, t, kp);
		free(kp);
	}
	vs_strarray_dispose(&kids);
	return err;
}

static bool perms_equal(const struct vs_strarray *a, const struct vs_strarray *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++)
		if (strcmp(a->strings[i], b->strings[i]))
			return false;
	return true;
}

/* Make one node what it was: value, then permissions. */
static int put_node(struct restore *r, struct vsc_client *c, vsc_txn_t t, const struct old_node *o)
{
	struct vs_buf cur = VS_BUF_INIT;
	struct vs_strarray perms = {0};
	int err = vsc_read(&cur, c, t, o->path);
	bool present = err >= 0;

	if (err < 0 && err != VS_ENOENT)
		goto out;
	err = 0;
	if (!present || cur.size != o->value.size ||
	    (cur.size && memcmp(cur.ptr, o->value.ptr, cur.size))) {
		if (!r->dry_run &&
		    (err = vsc_write(c, t, o->path, o->value.ptr, o->value.size)) < 0)
			goto out;
		r->written++;
		if ((err = vs_buf_printf(&r->actions, "write %s\n", o->path)) < 0)
			goto out;
	}
	if (present && (err = vsc_get_perms(&perms, c, t, o->path)) < 0)
		goto out;
	if (!present || !perms_equal(&perms, &o->perms)) {
		if (!r->dry_run &&
		    (err = vsc_set_perms(c, t, o->path, (const char *const *)o->perms.strings,
					 o->perms.count)) < 0)
			goto out;
		r->chmods++;
		err = vs_buf_printf(&r->actions, "chmod %s", o->path);
		for (size_t i = 0; i < o->perms.count && err >= 0; i++)
			err = vs_buf_printf(&r->actions, " %s", o->perms.strings[i]);
		if (err >= 0)
			err = vs_buf_putc(&r->actions, '\n');
	}
out:
	vs_buf_release(&cur);
	vs_strarray_dispose(&perms);
	return err;
}

/* The transaction's body; run again from scratch after a conflict. */
static int restore_txn(struct vsc_client *c, vsc_txn_t t, void *payload)
{
	struct restore *r = payload;
	struct vs_buf probe = VS_BUF_INIT;
	int err = 0;

	r->written = r->chmods = r->removed = 0;
	vs_buf_clear(&r->actions);
	if (!r->exists) {
		err = vsc_read(&probe, c, t, r->path);
		vs_buf_release(&probe);
		if (err == VS_ENOENT)
			return 0;
		return err < 0 ? err : do_rm(r, c, t, r->path);
	}
	if ((err = prune(r, c, t, r->path)) < 0)
		return err;
	for (size_t i = 0; i < r->n && err >= 0; i++)
		err = put_node(r, c, t, &r->nodes[i]);
	return err;
}

static void report(struct restore *r, const char *rev_hex, struct vs_repo *repo, bool changed)
{
	struct vs_oid head;
	char hex[VS_OID_MAXHEXSZ + 1] = "";
	bool has_head = changed && !r->dry_run && vs_branch_head(&head, repo, CLI_MAIN_BRANCH) >= 0;

	if (has_head)
		vs_oid_tostr(hex, &head);
	if (r->cli->json) {
		fputs("{\"path\":", stdout);
		cli_json_str(stdout, r->path);
		printf(",\"rev\":\"%s\",\"dry_run\":%s,\"written\":%zu,\"chmods\":%zu,"
		       "\"removed\":%zu,\"commit\":",
		       rev_hex, r->dry_run ? "true" : "false", r->written, r->chmods, r->removed);
		cli_json_str(stdout, has_head ? hex : NULL);
		fputs("}\n", stdout);
		return;
	}
	if (r->actions.size && r->dry_run)
		fwrite(r->actions.ptr, 1, r->actions.size, stdout);
	if (!changed) {
		printf("%s already matches %.12s: nothing to do\n", r->path, rev_hex);
		return;
	}
	printf("%s %s as of %.12s: %zu written, %zu permission change%s, %zu removed", r->path,
	       r->dry_run ? "would be restored" : "restored", rev_hex, r->written, r->chmods,
	       r->chmods == 1 ? "" : "s", r->removed);
	if (has_head)
		printf("; commit %.12s", hex);
	putchar('\n');
}

int cmd_restore(struct cli *cli, int argc, char **argv)
{
	const char *at = NULL, *sock = NULL, *uri = NULL;
	bool verbose = false;
	struct restore r = {.cli = cli};
	char path[XSD_PATH_BUF], rev_hex[VS_OID_MAXHEXSZ + 1];
	struct vs_repo *repo = NULL;
	struct vsc_client *client = NULL;
	struct vs_oid rev;
	int i, err, rc;
	const struct cli_opt opts[] = {
	    {"at", 0, .value = &at},
	    {"socket", 0, .value = &sock},
	    {"daemon", 0, .value = &uri},
	    {"dry-run", 'n', .flag = &r.dry_run},
	    {"verbose", 'v', .flag = &verbose},
	    {"json", 0, .flag = &cli->json},
	    {NULL},
	};

	if ((rc = cli_parse_opts(&i, cli, argc, argv, opts)) != 0)
		return rc;
	if (argc - i != 1)
		return cli_usage_error(cli, "restore takes one PATH");
	if (!at)
		return cli_usage_error(cli, "--at REV is required");
	if ((err = cli_xs_path(path, sizeof(path), argv[i])) < 0)
		return cli_error_vs(cli, err, NULL);
	if (path[0] != '/')
		return cli_error(cli, "%s: only nodes below / can be restored", path);
	r.path = path;

	if ((rc = cli_open_repo(&repo, cli, false)) != 0)
		return rc;
	if ((err = cli_resolve_at(&rev, cli, repo, at)) < 0) {
		rc = cli_error_vs(cli, err, NULL);
		goto out;
	}
	vs_oid_tostr(rev_hex, &rev);
	if ((err = load_old(&r, repo, &rev)) < 0) {
		rc = cli_error_vs(cli, err, path);
		goto out;
	}
	if ((rc = cli_daemon_open(&client, cli, uri, sock)) != 0)
		goto out;
	if ((err = vsc_transaction_run(client, restore_txn, &r, NULL)) < 0) {
		rc = err == VS_EAGAIN ? cli_error(cli, "%s kept changing: gave up", path)
				      : cli_error_vs(cli, err, "the daemon refused");
		goto out;
	}
	if (verbose && !r.dry_run && !cli->json && r.actions.size)
		fwrite(r.actions.ptr, 1, r.actions.size, stdout);
	report(&r, rev_hex, repo, r.written || r.chmods || r.removed);
out:
	vsc_client_close(client);
	vs_repo_close(repo);
	restore_release(&r);
	return rc;
}
