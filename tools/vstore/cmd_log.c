/* SPDX-License-Identifier: MIT */
/*
 * vstore log: commits newest first (vs_log's order), optionally only those
 * that changed a node's subtree, filtered by time and by the daemon's
 * Xs-Domain / Xs-Op trailers.
 */
#include "cmd_args.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { OPT_SINCE = 256, OPT_UNTIL, OPT_DOMAIN, OPT_OP, OPT_ONELINE, OPT_JSON };

static const struct option log_opts[] = {
    {"max-count", required_argument, NULL, 'n'},
    {"rev", required_argument, NULL, 'r'},
    {"since", required_argument, NULL, OPT_SINCE},
    {"after", required_argument, NULL, OPT_SINCE},
    {"until", required_argument, NULL, OPT_UNTIL},
    {"before", required_argument, NULL, OPT_UNTIL},
    {"domain", required_argument, NULL, OPT_DOMAIN},
    {"op", required_argument, NULL, OPT_OP},
    {"oneline", no_argument, NULL, OPT_ONELINE},
    {"json", no_argument, NULL, OPT_JSON},
    {NULL, 0, NULL, 0},
};

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

int log_args_parse(struct log_args *out, struct cli *cli, int argc, char **argv)
{
	int opt;
	long v;

	memset(out, 0, sizeof(*out));
	out->domain = -1;
	out->json = cli->json;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":n:r:", log_opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (!parse_count(&v, optarg, 1000000000L))
				return cli_usage_error(cli, "-n needs a count, not '%s'", optarg);
			out->max = (size_t)v;
			if (!v) /* git: -n 0 shows nothing */
				out->max = SIZE_MAX;
			break;
		case 'r':
			out->rev = optarg;
			break;
		case OPT_SINCE:
		case OPT_UNTIL: {
			int64_t t;
			if (cli_parse_time(&t, optarg, cli->now) < 0)
				return cli_usage_error(cli, "%s", vs_error_last()->message);
			if (opt == OPT_SINCE)
				out->has_since = true, out->since = t;
			else
				out->has_until = true, out->until = t;
			break;
		}
		case OPT_DOMAIN:
			if (!parse_count(&v, optarg, XSD_DOMID_MAX))
				return cli_usage_error(cli, "--domain needs a domain id, not '%s'",
						       optarg);
			out->domain = v;
			break;
		case OPT_OP:
			if (!*optarg)
				return cli_usage_error(cli, "--op needs an operation name");
			out->op = optarg;
			break;
		case OPT_ONELINE:
			out->oneline = true;
			break;
		case OPT_JSON:
			out->json = true;
			break;
		default:
			return cli_opt_error(cli, opt, argv);
		}
	}
	if (optind < argc) {
		if (cli_xs_path(out->xpath, sizeof(out->xpath), argv[optind]) < 0)
			return cli_usage_error(cli, "%s", vs_error_last()->message);
		out->path = out->xpath;
		optind++;
	}
	if (optind < argc)
		return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
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
	if (a.path && strcmp(a.path, "/")) {
		if (xsd_path_store(sp, sizeof(sp), a.path, XSD_STORE_NODE) < 0) {
			rc = cli_error(cli, "'%s' is not a Xenstore path", a.path);
			goto out;
		}
		lo.path = sp;
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
