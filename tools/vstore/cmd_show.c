/* SPDX-License-Identifier: MIT */
/*
 * vstore show: one commit's metadata and the nodes it changed (against its
 * first parent: for a transaction merged into main, what it brought). Also
 * the printing of commits and node changes that log and diff share.
 */
#include "cmd_args.h"

#include <stdlib.h>
#include <string.h>

static void print_indented(const char *msg)
{
	while (*msg) {
		const char *nl = strchr(msg, '\n');
		size_t len = nl ? (size_t)(nl - msg) : strlen(msg);
		if (len)
			printf("    %.*s\n", (int)len, msg);
		else
			putchar('\n');
		if (!nl)
			break;
		msg = nl + 1;
	}
}

void show_commit_text(struct cli *cli, struct vs_commit *c, bool oneline)
{
	char hex[VS_OID_MAXHEXSZ + 1], s[16], when[64], summary[256];
	const char *y = cli_color(cli, CLI_C_COMMIT), *r = cli_color(cli, CLI_C_RESET);
	if (oneline) {
		printf("%s%s%s %s\n", y, cli_short_id(s, sizeof(s), vs_commit_id(c)), r,
		       vs_commit_summary(c, summary, sizeof(summary)));
		return;
	}
	printf("%scommit %s%s\n", y, vs_oid_tostr(hex, vs_commit_id(c)), r);
	size_t np = vs_commit_parentcount(c);
	if (np > 1) {
		fputs("Merge:", stdout);
		for (size_t i = 0; i < np; i++)
			printf(" %s", cli_short_id(s, sizeof(s), vs_commit_parent_id(c, i)));
		putchar('\n');
	}
	const struct vs_signature *a = vs_commit_author(c);
	printf("Author: %s <%s>\n", a->name, a->email);
	printf("Date:   %s\n\n",
	       cli_format_time(when, sizeof(when), a->time, a->offset, CLI_TIME_GIT));
	print_indented(vs_commit_message(c));
}

static void sig_json(const struct vs_signature *s)
{
	char when[64];
	fputs("{\"name\":", stdout);
	cli_json_str(stdout, s->name);
	fputs(",\"email\":", stdout);
	cli_json_str(stdout, s->email);
	printf(",\"time\":%lld,\"date\":\"%s\"}", (long long)s->time,
	       cli_format_time(when, sizeof(when), s->time, s->offset, CLI_TIME_ISO));
}

/* A trailer as a JSON number when it is one, else a string, or null. */
static void trailer_json(const char *msg, const char *key, bool number)
{
	char v[128];
	if (!cli_trailer(v, sizeof(v), msg, key)) {
		fputs("null", stdout);
		return;
	}
	char *end;
	strtoul(v, &end, 10);
	if (number && *v && !*end && v[0] != '-' && v[0] != '+' && strlen(v) < 10)
		fputs(v, stdout);
	else
		cli_json_str(stdout, v);
}

void show_commit_json(struct vs_commit *c)
{
	char hex[VS_OID_MAXHEXSZ + 1], summary[1024];
	const char *msg = vs_commit_message(c);
	printf("{\"id\":\"%s\",\"parents\":[", vs_oid_tostr(hex, vs_commit_id(c)));
	for (size_t i = 0; i < vs_commit_parentcount(c); i++)
		printf("%s\"%s\"", i ? "," : "", vs_oid_tostr(hex, vs_commit_parent_id(c, i)));
	fputs("],\"author\":", stdout);
	sig_json(vs_commit_author(c));
	fputs(",\"committer\":", stdout);
	sig_json(vs_commit_committer(c));
	fputs(",\"summary\":", stdout);
	cli_json_str(stdout, vs_commit_summary(c, summary, sizeof(summary)));
	fputs(",\"message\":", stdout);
	cli_json_str(stdout, msg);
	fputs(",\"domain\":", stdout);
	trailer_json(msg, "Xs-Domain", true);
	fputs(",\"op\":", stdout);
	trailer_json(msg, "Xs-Op", false);
	fputs(",\"tx\":", stdout);
	trailer_json(msg, "Xs-Tx", true);
	putchar('}');
}

/* Print @p v quoted and escaped as xenstore-ls does. */
static void put_value(struct vs_slice v)
{
	struct vs_buf b = VS_BUF_INIT;
	if (cli_xs_value_escape(&b, v.ptr, v.len) < 0)
		fputs("\"...\"", stdout);
	else
		printf("\"%s\"", b.ptr ? b.ptr : "");
	vs_buf_release(&b);
}

static void put_perms(const struct xsd_meta *m)
{
	struct vs_buf b = VS_BUF_INIT;
	if (cli_xs_perms_format(&b, &m->perms) >= 0)
		fputs(b.ptr ? b.ptr : "", stdout);
	vs_buf_release(&b);
}

int show_change_text(void *payload, const struct cli_xs_change *ch)
{
	const struct cli *cli = payload;
	const char *r = cli_color(cli, CLI_C_RESET);
	switch (ch->kind) {
	case CLI_XS_ADDED:
		printf("%s+ %s = ", cli_color(cli, CLI_C_ADDED), ch->path);
		put_value(ch->new_value);
		if (ch->new_meta) {
			fputs("  (", stdout);
			put_perms(ch->new_meta);
			putchar(')');
			if (ch->new_meta->label)
				printf(" label %s", ch->new_meta->label);
		}
		break;
	case CLI_XS_REMOVED:
		printf("%s- %s = ", cli_color(cli, CLI_C_REMOVED), ch->path);
		put_value(ch->old_value);
		break;
	default: {
		const char *sep = "";
		printf("%s~ %s:", cli_color(cli, CLI_C_META), ch->path);
		if (ch->value_changed) {
			putchar(' ');
			put_value(ch->old_value);
			fputs(" -> ", stdout);
			put_value(ch->new_value);
			sep = ",";
		}
		if (ch->perms_changed) {
			printf("%s perms ", sep);
			if (ch->old_meta && ch->new_meta) {
				put_perms(ch->old_meta);
				fputs(" -> ", stdout);
				put_perms(ch->new_meta);
			} else {
				fputs("(unreadable metadata changed)", stdout);
			}
			sep = ",";
		}
		if (ch->label_changed)
			printf("%s label %s -> %s", sep,
			       ch->old_meta->label ? ch->old_meta->label : "(none)",
			       ch->new_meta->label ? ch->new_meta->label : "(none)");
		break;
	}
	}
	printf("%s\n", r);
	return ferror(stdout) ? 1 : 0;
}

static void perms_json(const char *key, const struct xsd_meta *m)
{
	struct vs_buf b = VS_BUF_INIT;
	if (m && cli_xs_perms_format(&b, &m->perms) >= 0) {
		printf(",\"%s\":", key);
		cli_json_str(stdout, b.ptr ? b.ptr : "");
	}
	vs_buf_release(&b);
}

void show_change_json(const struct cli_xs_change *ch)
{
	static const char *const kinds[] = {"?", "added", "removed", "modified"};
	fputs("{\"path\":", stdout);
	cli_json_str(stdout, ch->path);
	printf(",\"change\":\"%s\"", kinds[ch->kind]);
	if (ch->raw)
		fputs(",\"raw\":true", stdout);
	if (ch->kind != CLI_XS_ADDED && (ch->value_changed || ch->kind == CLI_XS_REMOVED)) {
		fputs(",\"old_value\":", stdout);
		cli_json_string(stdout, ch->old_value.ptr, ch->old_value.len);
	}
	if (ch->kind != CLI_XS_REMOVED && (ch->value_changed || ch->kind == CLI_XS_ADDED)) {
		fputs(",\"new_value\":", stdout);
		cli_json_string(stdout, ch->new_value.ptr, ch->new_value.len);
	}
	if (ch->kind != CLI_XS_MODIFIED || ch->perms_changed) {
		perms_json("old_perms", ch->old_meta);
		perms_json("new_perms", ch->new_meta);
	}
	if (ch->kind != CLI_XS_MODIFIED || ch->label_changed) {
		if (ch->old_meta && ch->old_meta->label) {
			fputs(",\"old_label\":", stdout);
			cli_json_str(stdout, ch->old_meta->label);
		}
		if (ch->new_meta && ch->new_meta->label) {
			fputs(",\"new_label\":", stdout);
			cli_json_str(stdout, ch->new_meta->label);
		}
	}
	putchar('}');
}

int show_opts_parse(int *out, bool *raw, bool *json, struct cli *cli, int argc, char **argv)
{
	const struct cli_opt opts[] = {
	    {"raw", 0, .flag = raw},
	    {"json", 0, .flag = json},
	    {NULL},
	};
	*raw = false;
	*json = cli->json;
	return cli_parse_opts(out, cli, argc, argv, opts);
}

int show_args_parse(struct show_args *out, struct cli *cli, int argc, char **argv)
{
	int i, rc;
	memset(out, 0, sizeof(*out));
	if ((rc = show_opts_parse(&i, &out->raw, &out->json, cli, argc, argv)) != 0)
		return rc;
	if (i < argc)
		out->rev = argv[i++];
	return cli_args_end(cli, argc, argv, i);
}

/* JSON array separator state for the change callbacks. */
struct show_json {
	bool first;
};

static int change_json_cb(void *payload, const struct cli_xs_change *ch)
{
	struct show_json *j = payload;
	if (!j->first)
		putchar(',');
	j->first = false;
	show_change_json(ch);
	return 0;
}

/* --raw: the store's own value deltas. */
struct raw_state {
	const struct cli *cli;
	bool json, first;
};

static int raw_cb(void *payload, const struct vs_delta *d)
{
	struct raw_state *st = payload;
	static const char *const names[] = {"?", "added", "removed", "modified"};
	if (st->json) {
		printf("%s{\"path\":", st->first ? "" : ",");
		cli_json_str(stdout, d->path);
		printf(",\"change\":\"%s\"", names[d->status]);
		if (d->status != VS_DELTA_ADDED) {
			fputs(",\"old_value\":", stdout);
			cli_json_string(stdout, d->old_value.ptr, d->old_value.len);
		}
		if (d->status != VS_DELTA_REMOVED) {
			fputs(",\"new_value\":", stdout);
			cli_json_string(stdout, d->new_value.ptr, d->new_value.len);
		}
		putchar('}');
		st->first = false;
		return 0;
	}
	static const char sign[] = "?+-~";
	static const enum cli_color_slot col[] = {CLI_C_RESET, CLI_C_ADDED, CLI_C_REMOVED,
						  CLI_C_META};
	printf("%s%c %s ", cli_color(st->cli, col[d->status]), sign[d->status], d->path);
	if (d->status != VS_DELTA_ADDED)
		put_value(d->old_value);
	if (d->status == VS_DELTA_MODIFIED)
		fputs(" -> ", stdout);
	if (d->status != VS_DELTA_REMOVED)
		put_value(d->new_value);
	printf("%s\n", cli_color(st->cli, CLI_C_RESET));
	return ferror(stdout) ? 1 : 0;
}

int show_changes(struct cli *cli, struct vs_repo *repo, const struct vs_oid *a,
		 const struct vs_oid *b, const char *xpath, bool raw, bool json)
{
	if (raw) {
		char sp[XSD_STORE_PATH_BUF];
		const char *filter;
		int err = cli_xs_store_filter(&filter, sp, xpath);
		if (err < 0)
			return err;
		struct raw_state st = {.cli = cli, .json = json, .first = true};
		return vs_diff_commits(repo, a, b, filter, raw_cb, &st);
	}
	if (json) {
		struct show_json j = {.first = true};
		return cli_xs_diff(repo, a, b, xpath, change_json_cb, &j);
	}
	return cli_xs_diff(repo, a, b, xpath, show_change_text, cli);
}

int cmd_show(struct cli *cli, int argc, char **argv)
{
	struct show_args a;
	struct vs_repo *repo = NULL;
	struct vs_commit *c = NULL;
	struct vs_oid id;
	int err, rc = show_args_parse(&a, cli, argc, argv);
	if (rc)
		return rc;
	if ((rc = cli_open_repo(&repo, cli, false)))
		return rc;
	if ((err = cli_resolve_rev(&id, cli, repo, a.rev ? a.rev : "HEAD")) < 0 ||
	    (err = vs_commit_lookup(&c, repo, &id)) < 0) {
		rc = cli_error_vs(cli, err, NULL);
		goto out;
	}
	/* The first parent, when this store still has it (history may be cut by gc). */
	const struct vs_oid *parent = vs_commit_parent_id(c, 0);
	struct vs_commit *pc = NULL;
	if (parent && vs_commit_lookup(&pc, repo, parent) < 0)
		parent = NULL;
	vs_commit_free(pc);
	if (a.json) {
		fputs("{\"commit\":", stdout);
		show_commit_json(c);
		fputs(",\"changes\":[", stdout);
	} else {
		show_commit_text(cli, c, false);
		putchar('\n');
	}
	err = show_changes(cli, repo, parent, &id, NULL, a.raw, a.json);
	if (a.json)
		fputs("]}\n", stdout);
	if (err < 0)
		rc = cli_error_vs(cli, err, "reading the changes");
out:
	vs_commit_free(c);
	vs_repo_close(repo);
	return rc;
}
