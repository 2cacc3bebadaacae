/* SPDX-License-Identifier: MIT */
/*
 * The command lines of the history-reading commands (log, show, diff, blame,
 * cat, ls), parsed into plain structs by functions with no side effects but
 * the usage-error line, so tests/tools/ can check them without a store.
 * Every parser returns 0 or CLI_EXIT_USAGE (the line already printed); the
 * structs borrow their strings from argv.
 */
#ifndef VSTORE_CMD_ARGS_H
#define VSTORE_CMD_ARGS_H

#include "cli.h"

/* vstore log [options] [PATH] */
struct log_args {
	const char *path; /* Xenstore path filter (canonical, in xpath) or NULL */
	char xpath[XSD_PATH_BUF];
	const char *rev; /* --rev, NULL: HEAD */
	size_t max;	 /* -n, 0: no limit */
	bool has_since;	 /* --since given */
	int64_t since;	 /* seconds since 1970 */
	bool has_until;	 /* --until given */
	int64_t until;
	long domain;	/* --domain, -1: any */
	const char *op; /* --op (compared without case), NULL: any */
	bool oneline;	/* --oneline */
	bool json;	/* --json (or the global one) */
};

/** Parse `log`'s arguments (argv[0] is "log"). */
int log_args_parse(struct log_args *out, struct cli *cli, int argc, char **argv);

/** True when commit message @p msg with author name @p author passes the --domain/--op filters. */
bool log_args_match(const struct log_args *a, const char *msg, const char *author);

/* vstore show [--raw] [--json] [REV] */
struct show_args {
	const char *rev; /* NULL: HEAD */
	bool raw;	 /* store paths instead of nodes */
	bool json;
};

/** Parse `show`'s arguments. */
int show_args_parse(struct show_args *out, struct cli *cli, int argc, char **argv);

/**
 * Parse the options show and diff share, --raw and --json (preset from the
 * global --json), with cli_parse_opts(); *out is the first operand's index.
 */
int show_opts_parse(int *out, bool *raw, bool *json, struct cli *cli, int argc, char **argv);

/* vstore diff [--raw] [--json] REV1 REV2 [PATH] */
struct diff_args {
	const char *rev1, *rev2; /* both required */
	const char *path;	 /* canonical filter in xpath, or NULL */
	char xpath[XSD_PATH_BUF];
	bool raw;
	bool json;
};

/** Parse `diff`'s arguments. */
int diff_args_parse(struct diff_args *out, struct cli *cli, int argc, char **argv);

/* vstore blame [-r REV] [--json] PATH */
struct blame_args {
	const char *rev; /* NULL: HEAD */
	char xpath[XSD_PATH_BUF];
	bool json;
};

/** Parse `blame`'s arguments. */
int blame_args_parse(struct blame_args *out, struct cli *cli, int argc, char **argv);

/* vstore cat [--at REV|TIME] [--raw] [-n] [--json] PATH */
struct cat_args {
	const char *at;		  /* NULL: HEAD */
	const char *path;	  /* as given (a store path with --raw) */
	char xpath[XSD_PATH_BUF]; /* canonical, without --raw */
	bool raw;
	bool no_newline; /* -n: no newline after the value */
	bool json;
};

/** Parse `cat`'s arguments. */
int cat_args_parse(struct cat_args *out, struct cli *cli, int argc, char **argv);

/* vstore ls [-r] [-p] [--raw] [--json] [--at REV|TIME] [PATH] */
struct ls_args {
	const char *at;	  /* NULL: HEAD */
	const char *path; /* as given, NULL: the root */
	char xpath[XSD_PATH_BUF];
	bool recursive;
	bool perms;
	bool raw;
	bool json;
};

/** Parse `ls`'s arguments. */
int ls_args_parse(struct ls_args *out, struct cli *cli, int argc, char **argv);

/* ---- Shared output of commits and changes (cmd_show.c) ------------------ */

/** Print commit @p c as `git log` does (plain or --oneline). */
void show_commit_text(struct cli *cli, struct vs_commit *c, bool oneline);

/** Print commit @p c as one JSON object, without a newline. */
void show_commit_json(struct vs_commit *c);

/** Print one changed node as a line (+, -, ~); a cli_xs_change_fn, payload the struct cli. */
int show_change_text(void *payload, const struct cli_xs_change *ch);

/** Print one changed node as a JSON object (no newline). */
void show_change_json(const struct cli_xs_change *ch);

/**
 * Print the changes from commit @p a (NULL: empty) to @p b below @p xpath
 * (NULL: all): text lines, or JSON objects separated by commas (the caller
 * writes the brackets); @p raw: the store's value deltas instead of nodes.
 * @return 0, VS_ENOENT, VS_EINVAL; the caller prints the error.
 */
int show_changes(struct cli *cli, struct vs_repo *repo, const struct vs_oid *a,
		 const struct vs_oid *b, const char *xpath, bool raw, bool json);

#endif
