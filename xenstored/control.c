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

static int cmd_help(struct xsd_conn *c, struct vs_buf *out, const char **argv, size_t n);

static const struct control_cmd cmds[] = {
	{ "check", "", "check the tree and the store", cmd_check },
	{ "help", "", "list the commands", cmd_help },
	{ "log", "[on|off]", "switch the log on or off", cmd_log },
	{ "logfile", "<file>", "append the log to <file>", cmd_logfile },
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
