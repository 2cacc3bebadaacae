/* SPDX-License-Identifier: MIT */
/*
 * vstore log: commits newest first (vs_log's order), optionally only those
 * that changed a node's subtree, filtered by time and by the daemon's
 * Xs-Domain / Xs-Op trailers.
 */
#include "cmd_args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A decimal number 0..max, the whole string. */
static bool parse_count(long *out, const char *s, long max)
{
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > max)
		return false;
	*out = v;
	return true;
}

/* -n, --max-count */
static int log_opt_max(struct cli *cli, void *payload, const char *value)
{
	struct log_args *out = payload;
	long v;
	if (!parse_count(&v, value, 1000000000L))
		return cli_usage_error(cli, "-n needs a count, not '%s'", value);
	out->max = v ? (size_t)v : SIZE_MAX; /* git: -n 0 shows nothing */
	return 0;
}

/* A time bound: --since and --until. */
static int log_opt_time(struct cli *cli, bool *has, int64_t *t, const char *value)
{
	int64_t v;
	if (cli_parse_time(&v, value, cli->now) < 0)
		return cli_usage_error(cli, "%s", vs_error_last()->message);
	*has = true;
	*t = v;
	return 0;
}

/* --since, --after */
static int log_opt_since(struct cli *cli, void *payload, const char *value)
{
	struct log_args *out = payload;
	return log_opt_time(cli, &out->has_since, &out->since, value);
}

/* --until, --before */
static int log_opt_until(struct cli *cli, void *payload, const char *value)
{
	struct log_args *out = payload;
	return log_opt_time(cli, &out->has_until, &out->until, value);
}

static int log_opt_domain(struct cli *cli, void *payload, const char *value)
{
	struct log_args *out = payload;
	long v;
	if (!parse_count(&v, value, XSD_DOMID_MAX))
		return cli_usage_error(cli, "--domain needs a domain id, not '%s'", value);
	out->domain = v;
	return 0;
}

static int log_opt_op(struct cli *cli, void *payload, const char *value)
{
	struct log_args *out = payload;
	if (!*value)
		return cli_usage_error(cli, "--op needs an operation name");
	out->op = value;
	return 0;
}

int log_args_parse(struct log_args *out, struct cli *cli, int argc, char **argv)
{
	int i, rc;

	memset(out, 0, sizeof(*out));
	out->domain = -1;
	out->json = cli->json;
	const struct cli_opt opts[] = {
	    {"max-count", 'n', .fn = log_opt_max, .payload = out},
	    {"rev", 'r', .value = &out->rev},
	    {"since", 0, .fn = log_opt_since, .payload = out},
	    {"after", 0, .fn = log_opt_since, .payload = out},
	    {"until", 0, .fn = log_opt_until, .payload = out},
	    {"before", 0, .fn = log_opt_until, .payload = out},
	    {"domain", 0, .fn = log_opt_domain, .payload = out},
	    {"op", 0, .fn = log_opt_op, .payload = out},
	    {"oneline", 0, .flag = &out->oneline},
	    {"json", 0, .flag = &out->json},
	    {NULL},
	};
	if ((rc = cli_parse_opts(&i, cli, argc, argv, opts)) != 0)
		return rc;
	if (i < argc) {
		if ((rc = cli_xs_path_arg(out->xpath, sizeof(out->xpath), cli, argv[i++])) != 0)
			return rc;
		out->path = out->xpath;
	}
	if ((rc = cli_args_end(cli, argc, argv, i)) != 0)
		return rc;
	if (out->has_since && out->has_until && out->since > out->until)
		return cli_usage_error(cli, "--since is after --until");
	return 0;
}

bool log_args_match(const struct log_args *a, const char *msg, const char *author)
{
	char v[64];
	if (a->domain >= 0) {
		long d = -1;
		char *end = NULL;
		if (cli_trailer(v, sizeof(v), msg, "Xs-Domain"))
			d = strtol(v, &end, 10);
		else if (author && !strncmp(author, "dom", 3) && author[3])
			d = strtol(author + 3, &end, 10);
		if (d < 0 || !end || *end || d != a->domain)
			return false;
	}
	if (a->op && (!cli_trailer(v, sizeof(v), msg, "Xs-Op") || strcasecmp(v, a->op)))
		return false;
	return true;
}

struct log_state {
	struct cli *cli;
	const struct log_args *args;
	size_t shown;
};

static int log_one(void *payload, struct vs_commit *c)
{
	struct log_state *st = payload;
	const struct log_args *a = st->args;
	if (!log_args_match(a, vs_commit_message(c), vs_commit_author(c)->name))
		return 0;
	if (a->max && st->shown >= a->max)
		return 1;
	if (a->json) {
		show_commit_json(c);
		putchar('\n');
	} else {
		if (st->shown && !a->oneline)
			putchar('\n');
		show_commit_text(st->cli, c, a->oneline);
	}
	st->shown++;
	if (ferror(stdout))
		return 1;
	return a->max && st->shown >= a->max ? 1 : 0;
}

int cmd_log(struct cli *cli, int argc, char **argv)
{
	struct log_args a;
	struct vs_repo *repo = NULL;
	struct vs_oid start;
	char sp[XSD_STORE_PATH_BUF];
	int rc = log_args_parse(&a, cli, argc, argv);
	if (rc)
		return rc;
	if ((rc = cli_open_repo(&repo, cli, false)))
		return rc;
	int err = cli_resolve_rev(&start, cli, repo, a.rev ? a.rev : "HEAD");
	if (err < 0) {
		rc = cli_error_vs(cli, err, NULL);
		goto out;
	}
	struct vs_log_opts lo = {0};
	if ((err = cli_xs_store_filter(&lo.path, sp, a.path)) < 0) {
		rc = cli_error_vs(cli, err, NULL);
		goto out;
	}
	/* vs_log treats 0 as "no bound"; an explicit bound at 0 still means one. */
	lo.since = a.has_since && a.since > 0 ? a.since : 0;
	lo.until = a.has_until ? a.until : 0;
	if (a.has_until && a.until <= 0)
		goto out; /* nothing is that old */
	if (a.max == SIZE_MAX)
		goto out;
	struct log_state st = {.cli = cli, .args = &a};
	err = vs_log(repo, &start, &lo, log_one, &st);
	if (err < 0)
		rc = cli_error_vs(cli, err, "reading history");
out:
	vs_repo_close(repo);
	return rc;
}
