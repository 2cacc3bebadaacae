/* SPDX-License-Identifier: MIT */
/*
 * CONTROL (xenstore-control): the commands of C xenstored that make sense
 * here. Live update does not: the store outlives the daemon anyway, so a
 * restart on the same store is the upgrade path.
 */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

struct control_cmd {
	const char *name;
	const char *args;
	const char *help;
	int (*fn)(struct xsd_conn *c, struct vs_buf *out, const char **argv, size_t n);
};

static int check_cb(void *payload, const char *path, const struct xsd_meta *meta)
{
	size_t *nodes = payload;
	(void)path;
	if (!meta->perms.num)
		return vs_error_set(VS_ECORRUPT, "%s has no owner", path);
	(*nodes)++;
	return 0;
}

static int cmd_check(struct xsd_conn *c, struct vs_buf *out, const char **argv, size_t n)
{
	struct xsd_engine *e = c->e;
	struct vs_check_stats st;
	size_t nodes = 0;
	int err;
	(void)argv, (void)n;
	if ((err = xsd__node_walk(e->root, "/", check_cb, &nodes)) < 0)
		return vs_buf_printf(out, "node check failed: %s\n", vs_error_last()->message);
	if ((err = vs_repo_check(e->repo, &st)) < 0)
		return vs_buf_printf(out, "store check failed: %s\n", vs_error_last()->message);
	return vs_buf_printf(out, "OK: %zu nodes, store consistent\n", nodes);
}

static int cmd_log(struct xsd_conn *c, struct vs_buf *out, const char **argv, size_t n)
{
	struct xsd_engine *e = c->e;
	if (n == 0)
		return vs_buf_printf(out, "log is %s\n", e->log_on ? "on" : "off");
	if (!strcmp(argv[0], "on"))
		e->log_on = true;
	else if (!strcmp(argv[0], "off"))
		e->log_on = false;
	else if (argv[0][0] == '+' || argv[0][0] == '-')
		return vs_buf_printf(out, "trace switch %s: no such switch here\n", argv[0]);
	else
		return vs_error_set(VS_EINVAL, "log takes on|off");
	return vs_buf_puts(out, "OK");
}

static int cmd_logfile(struct xsd_conn *c, struct vs_buf *out, const char **argv, size_t n)
{
	struct xsd_engine *e = c->e;
	if (n != 1)
		return vs_error_set(VS_EINVAL, "logfile takes a file name");
	FILE *f = fopen(argv[0], "a");
	if (!f)
		return vs_error_set(VS_EIO, "cannot open %s", argv[0]);
	if (e->logfile)
		fclose(e->logfile);
	e->logfile = f;
	return vs_buf_puts(out, "OK");
}

static int cmd_memreport(struct xsd_conn *c, struct vs_buf *out, const char **argv, size_t n)
{
	struct xsd_engine *e = c->e;
	size_t conns = 0, watches = 0, txns = 0, doms = 0;
	for (struct xsd_conn *k = e->conns; k; k = k->next) {
		conns++;
		txns += k->ntxns;
	}
	for (unsigned int i = 0; i < XSD_DOMID_COUNT; i++)
		if (e->dom[i]) {
			doms++;
			watches += e->dom[i]->watches;
		}
	int err = vs_buf_printf(out,
				"connections %zu\ndomains %zu\nwatches %zu\ntransactions %zu\n"
				"held messages %zu\npending changes %zu\nrequests %llu\n"
				"commits %llu\nbatches %llu\n",
				conns, doms, watches, txns, e->nheld, e->nchanges,
				(unsigned long long)e->stats_requests,
				(unsigned long long)e->stats_commits,
				(unsigned long long)e->stats_batches);
	if (err >= 0 && n == 1) {
		FILE *f = fopen(argv[0], "w");
		if (!f)
			return vs_error_set(VS_EIO, "cannot open %s", argv[0]);
		fwrite(out->ptr, 1, out->size, f);
		fclose(f);
		vs_buf_clear(out);
		err = vs_buf_puts(out, "OK");
	}
	return err;
}

static int cmd_gc(struct xsd_conn *c, struct vs_buf *out, const char **argv, size_t n)
{
	if (n == 0)
		return xsd__gc_report(c->e, out);
	if (n != 1 || strcmp(argv[0], "start"))
		return vs_error_set(VS_EINVAL, "gc takes nothing or start");
	if (xsd__gc_request(c->e) < 0)
		return vs_buf_puts(out, "a collection is running or about to\n");
	return vs_buf_puts(out, "OK: a collection starts after this request\n");
}

static int cmd_print(struct xsd_conn *c, struct vs_buf *out, const char **argv, size_t n)
{
	if (n != 1)
		return vs_error_set(VS_EINVAL, "print takes one string");
	xsd__warn(c->e, "control: %s", argv[0]);
	return vs_buf_puts(out, "OK");
}

static int quota_show(struct xsd_engine *e, struct vs_buf *out, unsigned int domid, bool dom)
{
	int err = 0;
	for (int k = 0; k < XSD_QUOTA_COUNT && err >= 0; k++)
		err = vs_buf_printf(out, "%-18s %llu\n", xsd_quota_name(k),
				    (unsigned long long)(dom ? xsd__quota(e, domid, k)
							    : e->opts.quota.hard[k]));
	if (err >= 0 && dom && e->dom[domid]) {
		struct xsd_domain *d = e->dom[domid];
		err = vs_buf_printf(out, "in use: nodes %llu watches %u transactions %u\n",
				    (unsigned long long)d->nodes, d->watches, d->txns);
	}
	return err;
}

static int cmd_quota(struct xsd_conn *c, struct vs_buf *out, const char **argv, size_t n)
{
	struct xsd_engine *e = c->e;
	if (n == 0)
		return quota_show(e, out, 0, false);
	if (!strcmp(argv[0], "set")) {
		if (n != 3)
			return vs_error_set(VS_EINVAL, "quota set <name> <value>");
		int k = xsd_quota_from_name(argv[1]);
		char *end;
		unsigned long long v = strtoull(argv[2], &end, 10);
		if (k < 0 || !*argv[2] || *end)
			return vs_error_set(VS_EINVAL, "bad quota %s=%s", argv[1], argv[2]);
		e->opts.quota.hard[k] = v;
		return vs_buf_puts(out, "OK");
	}
	if (!strcmp(argv[0], "max")) {
		bool reset = n == 2 && !strcmp(argv[1], "-r");
		int err = 0;
		for (unsigned int i = 0; i < XSD_DOMID_COUNT && err >= 0; i++) {
			struct xsd_domain *d = e->dom[i];
			if (!d)
				continue;
			err = vs_buf_printf(out, "dom%u: nodes %llu watches %u transactions %u\n", i,
					    (unsigned long long)d->nodes_max, d->watches_max,
					    d->txns_max);
			if (reset) {
				d->nodes_max = d->nodes;
				d->watches_max = d->watches;
				d->txns_max = d->txns;
			}
		}
		return err;
	}
	char *end;
	unsigned long domid = strtoul(argv[0], &end, 10);
	if (!*argv[0] || *end || domid >= XSD_DOMID_COUNT)
		return vs_error_set(VS_EINVAL, "quota [set <name> <value> | <domid> | max [-r]]");
	return quota_show(e, out, (unsigned int)domid, true);
}

static int cmd_quota_soft(struct xsd_conn *c, struct vs_buf *out, const char **argv, size_t n)
{
	struct xsd_engine *e = c->e;
	if (n == 0)
		return vs_buf_printf(out, "soft-memory %llu\n",
				     (unsigned long long)e->opts.quota.soft_memory);
	char *end;
	if (n != 3 || strcmp(argv[0], "set") || strcmp(argv[1], "memory"))
		return vs_error_set(VS_EINVAL, "quota-soft [set memory <value>]");
	unsigned long long v = strtoull(argv[2], &end, 10);
	if (!*argv[2] || *end)
		return vs_error_set(VS_EINVAL, "bad value %s", argv[2]);
	e->opts.quota.soft_memory = v;
	return vs_buf_puts(out, "OK");
}

/*
 * "mac relabel PATH LABEL": a node's label changes as any change does, one
 * commit, with the policy's say on the old label and on the new one.
 */
static int mac_relabel(struct xsd_conn *c, struct vs_buf *out, const char **argv, size_t n)
{
	struct xsd_engine *e = c->e;
	const struct xsd_mac_hooks *mac = &e->opts.mac;
	char path[XSD_PATH_BUF];
	struct xsd_meta meta, next;
	struct xsd_view v;
	int err;

	if (n != 2)
		return vs_error_set(VS_EINVAL, "mac relabel <path> <label>");
	if ((err = xsd__path_arg(path, sizeof(path), c, argv[0], true)) < 0)
		return err;
	if (!mac->label_check)
		return vs_error_set(VS_ENOTSUP, "this policy hook cannot relabel");
	if ((err = mac->label_check(mac->payload, argv[1])) < 0)
		return err;
	xsd_meta_init(&meta);
	xsd_meta_init(&next);
	xsd__view_init(&v, e, c, NULL, e->root);
	if ((err = xsd__node_meta(&meta, v.root, path)) < 0 ||
	    (err = xsd__mac_check(c, XSD_MAC_RELABEL, path, &meta, false)) < 0 ||
	    (err = xsd_meta_copy(&next, &meta)) < 0 ||
	    (err = xsd_meta_set_label(&next, argv[1])) < 0 ||
	    (err = xsd__mac_check(c, XSD_MAC_RELABEL, path, &next, false)) < 0)
		goto out;
	if (meta.label && !strcmp(meta.label, argv[1])) {
		err = vs_buf_puts(out, "OK: unchanged");
		goto out;
	}
	if ((err = xsd__node_put(&v.root, path, NULL, 0, false, &next)) < 0 ||
	    (err = xsd__effect_add(&v, path, &meta, xsd_meta_owner(&next), false, false)) < 0)
		goto out;
	if (path[0] == '@') /* special nodes count for nobody */
		v.fx[v.nfx - 1].old_owner = v.fx[v.nfx - 1].new_owner = UINT32_MAX;
	vs_tree_free(e->root);
	e->root = vs_tree_dup(v.root);
	err = xsd__change(e, c, XSD_CONTROL, path, 0, 1);
	xsd__view_apply(&v);
	if (err >= 0)
		err = vs_buf_puts(out, "OK");
out:
	xsd__view_release(&v);
	xsd_meta_release(&meta);
	xsd_meta_release(&next);
	return err;
}

/* "mac ...": relabelling here; the rest (reload, mode, labels) is the policy's owner's. */
static int cmd_mac(struct xsd_conn *c, struct vs_buf *out, const char **argv, size_t n)
{
	const struct xsd_mac_hooks *mac = &c->e->opts.mac;

	if (!mac->check)
		return vs_error_set(VS_ENOTSUP, "no access control policy (start with --policy)");
	if (n && !strcmp(argv[0], "relabel"))
		return mac_relabel(c, out, argv + 1, n - 1);
	if (!mac->control)
		return vs_error_set(VS_ENOTSUP, "no mac commands here");
	return mac->control(mac->payload, out, argv, n);
}

/*
 * "history log PATH MAX SKIP [START]" and "history read COMMIT PATH": the
 * history of a node (the commits that changed its subtree) for socket
 * clients; libvsclient's vsc_log() and vsc_read_at() parse these replies
 * (client/history.c documents the format and reads the store the same way
 * for in-process clients). A log reply holds whole lines only and ends in
 * "more" when the next one did not fit: the client asks again with SKIP
 * advanced, from the same START, so new commits do not shift the pages.
 */
#define HISTORY_SUMMARY_MAX 1024
#define HISTORY_REPLY_MAX (XSD_PAYLOAD_MAX - 16) /* room for "more\n" and the NUL */

struct history_walk {
	struct vs_buf *out;
	size_t skip, max, seen, sent;
	bool more;
	int err;
};

/* The acting domain of a commit: its Xs-Domain trailer, else its author "domN". */
static unsigned int history_domid(struct vs_commit *commit)
{
	const char *msg = vs_commit_message(commit);
	const char *t = msg ? strstr(msg, "\nXs-Domain: ") : NULL;
	const char *name = vs_commit_author(commit)->name;
	if (t)
		return (unsigned int)strtoul(t + 12, NULL, 10);
	if (!strncmp(name, "dom", 3) && name[3] >= '0' && name[3] <= '9')
		return (unsigned int)strtoul(name + 3, NULL, 10);
	return ~0u;
}

static int history_cb(void *payload, struct vs_commit *commit)
{
	struct history_walk *w = payload;
	char hex[VS_OID_MAXHEXSZ + 1], sum[HISTORY_SUMMARY_MAX], dom[16];
	char line[HISTORY_SUMMARY_MAX + 128];
	unsigned int domid = history_domid(commit);

	if (w->seen++ < w->skip)
		return 0;
	if (w->max && w->sent == w->max)
		return 1;
	if (domid == ~0u)
		snprintf(dom, sizeof(dom), "-");
	else
		snprintf(dom, sizeof(dom), "%u", domid);
	vs_oid_tostr(hex, vs_commit_id(commit));
	vs_commit_summary(commit, sum, sizeof(sum));
	int n = snprintf(line, sizeof(line), "%s %lld %s %s\n", hex,
			 (long long)vs_commit_committer(commit)->time, dom, sum);
	if (w->out->size + (size_t)n > HISTORY_REPLY_MAX) {
		w->more = true;
		return 1;
	}
	if ((w->err = vs_buf_put(w->out, line, (size_t)n)) < 0)
		return 1;
	w->sent++;
	return 0;
}

static int history_num(size_t *out, const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end)
		return vs_error_set(VS_EINVAL, "bad number %s", s);
	*out = (size_t)v;
	return 0;
}

static int history_log(struct xsd_conn *c, struct vs_buf *out, const char **argv, size_t n)
{
	struct xsd_engine *e = c->e;
	char path[XSD_PATH_BUF], sp[XSD_STORE_PATH_BUF], hex[VS_OID_MAXHEXSZ + 1];
	struct history_walk w = { .out = out };
	struct vs_oid start;
	int err;

	if (n < 3 || n > 4 || history_num(&w.max, argv[1]) < 0 || history_num(&w.skip, argv[2]) < 0)
		return vs_error_set(VS_EINVAL, "history log <path> <max> <skip> [<start>]");
	if ((err = xsd__path_arg(path, sizeof(path), c, argv[0], false)) < 0 ||
	    (err = xsd_path_store(sp, sizeof(sp), path, XSD_STORE_NODE)) < 0)
		return err;
	err = n == 4 ? vs_oid_fromstr(&start, argv[3]) : vs_branch_head(&start, e->repo, e->branch);
	if (err < 0)
		return err;
	struct vs_log_opts o = { .path = *sp ? sp : NULL };
	if ((err = vs_buf_printf(out, "start %s\n", vs_oid_tostr(hex, &start))) < 0 ||
	    (err = vs_log(e->repo, &start, &o, history_cb, &w)) < 0)
		return err;
	if (w.err < 0)
		return w.err;
	return vs_buf_puts(out, w.more ? "more\n" : "end\n");
}

static int history_read(struct xsd_conn *c, struct vs_buf *out, const char **argv, size_t n)
{
	char path[XSD_PATH_BUF], sp[XSD_STORE_PATH_BUF];
	struct vs_buf meta = VS_BUF_INIT;
	struct vs_oid id;
	int err;

	if (n != 2)
		return vs_error_set(VS_EINVAL, "history read <commit> <path>");
	if ((err = xsd__path_arg(path, sizeof(path), c, argv[1], false)) < 0 ||
	    (err = vs_repo_resolve_rev(&id, c->e->repo, argv[0], c->e->branch)) < 0 ||
	    (err = xsd_path_store(sp, sizeof(sp), path, XSD_STORE_VALUE)) < 0)
		return err;
	if ((err = vs_read_at(out, c->e->repo, &id, sp)) != VS_ENOENT && err != VS_ENOTDIR)
		return err;
	/* No value blob: an empty value if the node was there, else ENOENT. */
	vs_buf_clear(out);
	if ((err = xsd_path_store(sp, sizeof(sp), path, XSD_STORE_META)) >= 0)
		err = vs_read_at(&meta, c->e->repo, &id, sp);
	vs_buf_release(&meta);
	if (err == VS_ENOENT || err == VS_ENOTDIR)
		return vs_error_set(VS_ENOENT, "%s: no such node at %s", path, argv[0]);
	return err;
}

static int cmd_history(struct xsd_conn *c, struct vs_buf *out, const char **argv, size_t n)
{
	if (n && !strcmp(argv[0], "log"))
		return history_log(c, out, argv + 1, n - 1);
	if (n && !strcmp(argv[0], "read"))
		return history_read(c, out, argv + 1, n - 1);
	return vs_error_set(VS_EINVAL, "history log <path> <max> <skip> [<start>] | "
				       "history read <commit> <path>");
}

static int cmd_help(struct xsd_conn *c, struct vs_buf *out, const char **argv, size_t n);

static const struct control_cmd cmds[] = {
	{ "check", "", "check the tree and the store", cmd_check },
	{ "gc", "[start]", "retention: show it, or collect now", cmd_gc },
	{ "help", "", "list the commands", cmd_help },
	{ "history", "log <path> <max> <skip> [<start>]", "a node's changes; read <commit> <path>",
	  cmd_history },
	{ "log", "[on|off]", "switch the log on or off", cmd_log },
	{ "logfile", "<file>", "append the log to <file>", cmd_logfile },
	{ "mac", "<command> (mac help)", "mandatory access control", cmd_mac },
	{ "memreport", "[<file>]", "report what the daemon holds", cmd_memreport },
	{ "print", "<string>", "write <string> to the log", cmd_print },
	{ "quota", "[set <name> <val>|<domid>|max [-r]]", "show or set quotas", cmd_quota },
	{ "quota-soft", "[set memory <val>]", "show or set the soft quota", cmd_quota_soft },
};

static int cmd_help(struct xsd_conn *c, struct vs_buf *out, const char **argv, size_t n)
{
	int err = 0;
	(void)c, (void)argv, (void)n;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]) && err >= 0; i++)
		err = vs_buf_printf(out, "%-10s %-36s %s\n", cmds[i].name, cmds[i].args,
				    cmds[i].help);
	return err;
}

int xsd__op_control(struct xsd_conn *c, const struct xsd_msg_hdr *hdr, const unsigned char *body)
{
	const char *argv[16];
	size_t n = xsd_args_split(argv, 16, body, hdr->len, NULL, NULL);
	struct vs_buf out = VS_BUF_INIT;
	int err;

	if (!xsd__priv(c))
		return vs_error_set(VS_EACCES, "CONTROL is for the control domain");
	if ((err = xsd__mac_check(c, XSD_MAC_CONTROL, NULL, NULL, false)) < 0)
		return err;
	if (!n || body[hdr->len - 1])
		return vs_error_set(VS_EINVAL, "CONTROL takes a command and its arguments");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[0], cmds[i].name))
			continue;
		if ((err = cmds[i].fn(c, &out, argv + 1, n - 1)) >= 0 && (err = vs_buf_putc(&out, '\0')) >= 0)
			err = xsd__send(c, hdr->type, hdr->req_id, hdr->tx_id, out.ptr, out.size);
		vs_buf_release(&out);
		return err;
	}
	return vs_error_set(VS_EINVAL, "unknown control command %s", argv[0]);
}
