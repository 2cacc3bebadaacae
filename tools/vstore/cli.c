/* SPDX-License-Identifier: MIT */
/*
 * Global options, error lines and opening the store. Every failure a user
 * sees is one line on stderr, "vstore CMD: what went wrong".
 */
#include "cli.h"

#include <assert.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void cli_init(struct cli *cli)
{
	memset(cli, 0, sizeof(*cli));
	const char *env = getenv("VSTORE_STORE");
	cli->store = env && *env ? env : CLI_DEFAULT_STORE;
	cli->color_mode = CLI_COLOR_AUTO;
	cli->now = (int64_t)time(NULL);
}

static int parse_color(enum cli_color_mode *out, const char *s)
{
	if (!strcmp(s, "auto"))
		*out = CLI_COLOR_AUTO;
	else if (!strcmp(s, "always"))
		*out = CLI_COLOR_ALWAYS;
	else if (!strcmp(s, "never"))
		*out = CLI_COLOR_NEVER;
	else
		return -1;
	return 0;
}

/* "--opt=VALUE" or "--opt VALUE": the value, advancing *i past it; NULL if none. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);
	if (!strncmp(argv[*i], name, n) && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (strcmp(argv[*i], name))
		return NULL;
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

int cli_parse_global(struct cli *cli, int argc, char **argv)
{
	int i;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v;
		if (a[0] != '-' || !strcmp(a, "--help") || !strcmp(a, "-h") ||
		    !strcmp(a, "--version"))
			break;
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "--json")) {
			cli->json = true;
		} else if (!strcmp(a, "--no-pager")) {
			cli->no_pager = true;
		} else if (!strcmp(a, "--color")) {
			cli->color_mode = CLI_COLOR_ALWAYS;
		} else if (!strncmp(a, "--color=", 8)) {
			if (parse_color(&cli->color_mode, a + 8) < 0) {
				cli_usage_error(
				    cli, "--color takes auto, always or never, not '%s'", a + 8);
				return -1;
			}
		} else if (!strcmp(a, "--store") || !strncmp(a, "--store=", 8)) {
			if (!(v = opt_value(argc, argv, &i, "--store")) || !*v) {
				cli_usage_error(cli, "--store needs a store URI");
				return -1;
			}
			cli->store = v;
		} else {
			cli_usage_error(cli, "unknown option '%s'", a);
			return -1;
		}
	}
	return i;
}

void cli_color_resolve(struct cli *cli)
{
	switch (cli->color_mode) {
	case CLI_COLOR_ALWAYS:
		cli->color = true;
		break;
	case CLI_COLOR_NEVER:
		cli->color = false;
		break;
	default: {
		const char *term = getenv("TERM");
		cli->color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR") &&
			     !(term && !strcmp(term, "dumb"));
		break;
	}
	}
}

static void vline(const struct cli *cli, const char *fmt, va_list ap)
{
	fflush(stdout);
	if (cli && cli->cmd)
		fprintf(stderr, "vstore %s: ", cli->cmd);
	else
		fputs("vstore: ", stderr);
	vfprintf(stderr, fmt, ap);
}

int cli_error(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vline(cli, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EXIT_FAIL;
}

int cli_error_vs(const struct cli *cli, int err, const char *what)
{
	const struct vs_error *e = vs_error_last();
	const char *msg =
	    e->code == err && e->message && *e->message ? e->message : vs_strerror(err);
	if (what)
		return cli_error(cli, "%s: %s", what, msg);
	return cli_error(cli, "%s", msg);
}

int cli_usage_error(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vline(cli, fmt, ap);
	va_end(ap);
	if (cli && cli->cmd)
		fprintf(stderr, " (see 'vstore %s --help')\n", cli->cmd);
	else
		fputs(" (see 'vstore --help')\n", stderr);
	return CLI_EXIT_USAGE;
}

int cli_opt_error(const struct cli *cli, int opt, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";
	if (opt == ':')
		return cli_usage_error(cli, "option '%s' needs a value", arg);
	if (optopt && strncmp(arg, "--", 2))
		return cli_usage_error(cli, "unknown option '-%c'", optopt);
	return cli_usage_error(cli, "unknown option '%s'", arg);
}

int cli_parse_opts(int *out, struct cli *cli, int argc, char **argv, const struct cli_opt *opts)
{
	struct option lo[CLI_OPTS_MAX + 1] = {{0}};
	char shorts[2 + 2 * CLI_OPTS_MAX] = ":"; /* ':': a missing value returns ':' */
	size_t n = 0, ns = 1;
	int opt, rc;

	/* getopt_long()'s tables: a short form returns its letter, a long one
	 * without it 256 + its index. */
	for (; opts[n].name; n++) {
		assert(n < CLI_OPTS_MAX);
		lo[n] =
		    (struct option){opts[n].name, opts[n].flag ? no_argument : required_argument,
				    NULL, opts[n].letter ? opts[n].letter : 256 + (int)n};
		if (opts[n].letter) {
			shorts[ns++] = opts[n].letter;
			if (!opts[n].flag)
				shorts[ns++] = ':';
		}
	}
	optind = 0; /* 0, not 1: GNU getopt starts afresh */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		size_t i = 0;
		while (i < n && lo[i].val != opt)
			i++;
		if (i == n)
			return cli_opt_error(cli, opt, argv);
		if (opts[i].flag)
			*opts[i].flag = true;
		else if (opts[i].value)
			*opts[i].value = optarg;
		else if ((rc = opts[i].fn(cli, opts[i].payload, optarg)) != 0)
			return rc;
	}
	if (!out)
		return cli_args_end(cli, argc, argv, optind);
	*out = optind;
	return 0;
}

int cli_args_end(const struct cli *cli, int argc, char **argv, int i)
{
	if (i < argc)
		return cli_usage_error(cli, "unexpected argument '%s'", argv[i]);
	return 0;
}

static bool is_file(const char *dir, const char *name)
{
	char p[4096];
	struct stat st;
	if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, name) >= sizeof(p))
		return false;
	return stat(p, &st) == 0;
}

/* "lmdb:" / "git:" / "mem:" prefix? (a Windows-free world: no drive letters) */
static bool has_scheme(const char *uri)
{
	const char *colon = strchr(uri, ':');
	const char *slash = strchr(uri, '/');
	return colon && colon > uri && (!slash || colon < slash);
}

int cli_open_repo(struct vs_repo **out, struct cli *cli, bool writable)
{
	struct vs_repo_opts o = {.version = VS_REPO_OPTS_VERSION};
	char uri[4200];
	const char *u = cli->store;
	int err;

	*out = NULL;
	if (!has_scheme(u)) {
		struct stat st;
		if (stat(u, &st) != 0 || !S_ISDIR(st.st_mode))
			return cli_error(cli, "store %s does not exist", u);
		const char *scheme = is_file(u, "data.mdb") ? "lmdb" : "git";
		if ((size_t)snprintf(uri, sizeof(uri), "%s:%s", scheme, u) >= sizeof(uri))
			return cli_error(cli, "store path too long");
		u = uri;
	} else if (!strncmp(u, "lmdb:", 5) || !strncmp(u, "git:", 4)) {
		/* The backends report a missing directory in their own words, or
		 * (git) would create one; a read command must not. */
		const char *dir = strchr(u, ':') + 1;
		struct stat st;
		if (!writable && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
			return cli_error(cli, "store %s does not exist", cli->store);
	}
	o.flags = writable ? 0 : VS_REPO_READONLY | VS_REPO_NOCREATE;
	if ((err = vs_repo_open(out, u, &o)) < 0) {
		*out = NULL;
		if (err == VS_ENOENT)
			return cli_error(cli, "store %s does not exist", cli->store);
		char what[4300];
		snprintf(what, sizeof(what), "cannot open store %s", cli->store);
		return cli_error_vs(cli, err, what);
	}
	return 0;
}
