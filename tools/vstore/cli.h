/* SPDX-License-Identifier: MIT */
/*
 * The vstore command line's internal API, shared by vstore.c (main, global
 * options, the commands[] table, help) and the cmd_<name>.c files.
 *
 * Rules every command follows:
 * - A command is `int cmd_<name>(struct cli *cli, int argc, char **argv)`;
 *   argv[0] is the command's name, the global options are already parsed
 *   into @p cli. It returns the exit code: 0 success, 1 failure
 *   (cli_error()), 2 bad usage (cli_usage_error()). `CMD --help` and `-h`
 *   never reach it: vstore.c prints the table's usage text.
 * - Options are parsed by cli_parse_opts() from a table of struct cli_opt
 *   (getopt_long() underneath: options and operands mix, "--" ends the
 *   options); cli_args_end() refuses operands left over.
 * - Read commands open the store with cli_open_repo(cli, false): read-only,
 *   never created, safe next to a daemon writing the same LMDB store.
 * - Output goes to stdout (through the pager when vstore.c started it,
 *   for commands flagged CLI_CMD_PAGER); messages and progress to stderr.
 *   Colour only through cli_color(); plain, stable text when piped.
 *
 * Build rule (how a missing file never breaks the build): tools/vstore/
 * meson.build compiles each tools/vstore/cmd_<file>.c that exists and
 * defines VSTORE_HAVE_CMD_<FILE> (upper case) for it; vstore.c guards the
 * table entries of each file with that macro. The files and the commands
 * they must define:
 *   cmd_log.c log        cmd_show.c show      cmd_diff.c diff
 *   cmd_blame.c blame    cmd_cat.c cat        cmd_ls.c ls
 *   cmd_branch.c branch  cmd_restore.c restore
 *   cmd_sync.c push fetch pull clone          cmd_export.c export import
 *   cmd_gc.c gc          cmd_check.c check    cmd_stats.c stats
 *   cmd_watch.c watch    cmd_graph.c graph    cmd_conduit.c conduit
 *   cmd_policy.c check-policy
 * A new file needs its name in meson.build's vstore_cmd_files list and its
 * entries in vstore.c's table; helpers shared by a group of commands live
 * in their own cli_<group>.c/.h (meson.build's optional helper list, e.g.
 * cli_manage.c). Parsers worth unit tests are non-static, declared in a
 * header (cmd_args.h for the history commands), and tested from
 * tests/tools/ through the vstore_cli static library (vstore_cli_dep).
 */
#ifndef VSTORE_CLI_H
#define VSTORE_CLI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <vstore/vstore.h>

#include "xsd_int.h"

/* The daemon's default store (xenstored/main.c DEFAULT_STORE). */
#define CLI_DEFAULT_STORE "lmdb:/var/lib/vstore/xenstore"
/* The branch the daemon commits on; HEAD names it. */
#define CLI_MAIN_BRANCH "main"

/* Exit codes. */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAIL = 1,  /* the operation failed (one line on stderr) */
	CLI_EXIT_USAGE = 2, /* bad command line */
};

/* --color=auto|always|never */
enum cli_color_mode {
	CLI_COLOR_AUTO = 0,
	CLI_COLOR_ALWAYS,
	CLI_COLOR_NEVER,
};

/* What a piece of output is, for cli_color(). */
enum cli_color_slot {
	CLI_C_RESET = 0, /* back to plain */
	CLI_C_COMMIT,	 /* commit ids (yellow, as git) */
	CLI_C_HEADER,	 /* headers, paths in diffs (bold) */
	CLI_C_ADDED,	 /* new values (green) */
	CLI_C_REMOVED,	 /* old values (red) */
	CLI_C_BRANCH,	 /* branch names (bold green) */
	CLI_C_META,	 /* dates, perms, secondary text (cyan) */
	CLI_C_COUNT,
};

/* The global state of one vstore run. */
struct cli {
	const char *store;		   /* store URI: --store, $VSTORE_STORE, or the default */
	bool json;			   /* --json: machine-readable output */
	bool no_pager;			   /* --no-pager */
	enum cli_color_mode color_mode;	   /* --color */
	bool color;			   /* resolved: emit escape sequences */
	int64_t now;			   /* "now" for relative times (seconds since 1970) */
	const char *cmd;		   /* the running command's name, for messages */
	const struct cli_command *command; /* its table entry, NULL before dispatch */
	pid_t pager_pid;		   /* the pager's pid, 0 when none runs */
};

/* A command's entry point: the exit code (enum cli_exit). */
typedef int cli_cmd_fn(struct cli *cli, int argc, char **argv);

/* Flags of a table entry. */
enum cli_command_flags {
	CLI_CMD_PAGER = 1 << 0, /* page stdout on a terminal (log, show, diff...) */
};

/* One entry of vstore.c's commands[] table. */
struct cli_command {
	const char *name;    /* "log" */
	cli_cmd_fn *fn;	     /* cmd_log */
	const char *summary; /* one line for `vstore help` */
	const char *usage;   /* the full text of `vstore CMD --help`, ending in '\n' */
	unsigned int flags;  /* enum cli_command_flags */
};

/* The table (vstore.c) and its length. */
extern const struct cli_command cli_commands[];
extern const size_t cli_ncommands;

/** Find the table entry named @p name. @return borrowed, or NULL. */
const struct cli_command *cli_command_find(const char *name);

/* ---- Commands (one file each, see the header comment) ------------------ */
int cmd_log(struct cli *cli, int argc, char **argv);
int cmd_show(struct cli *cli, int argc, char **argv);
int cmd_diff(struct cli *cli, int argc, char **argv);
int cmd_blame(struct cli *cli, int argc, char **argv);
int cmd_cat(struct cli *cli, int argc, char **argv);
int cmd_ls(struct cli *cli, int argc, char **argv);
int cmd_branch(struct cli *cli, int argc, char **argv);
int cmd_restore(struct cli *cli, int argc, char **argv);
int cmd_push(struct cli *cli, int argc, char **argv);
int cmd_fetch(struct cli *cli, int argc, char **argv);
int cmd_pull(struct cli *cli, int argc, char **argv);
int cmd_clone(struct cli *cli, int argc, char **argv);
int cmd_export(struct cli *cli, int argc, char **argv);
int cmd_import(struct cli *cli, int argc, char **argv);
int cmd_gc(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_stats(struct cli *cli, int argc, char **argv);
int cmd_watch(struct cli *cli, int argc, char **argv);
int cmd_graph(struct cli *cli, int argc, char **argv);
int cmd_conduit(struct cli *cli, int argc, char **argv);
int cmd_check_policy(struct cli *cli, int argc, char **argv); /* cmd_policy.c */

/* ---- Setup, global options (cli.c) -------------------------------------- */

/** Fill @p cli with the defaults: $VSTORE_STORE or the daemon's store, now = time(NULL). */
void cli_init(struct cli *cli);

/**
 * Parse the global options at the front of @p argv (argv[0] is the program):
 * --store URI, --json, --no-pager, --color[=WHEN]; -h/--help and --version
 * are left to the caller. Stops at the first non-option (the command) or
 * after "--".
 * @return the index of the command in @p argv (== argc when none), or -1
 * after printing a usage error (exit CLI_EXIT_USAGE).
 */
int cli_parse_global(struct cli *cli, int argc, char **argv);

/** Resolve cli->color from the mode and whether stdout is a terminal. */
void cli_color_resolve(struct cli *cli);

/* ---- Messages (cli.c) ---------------------------------------------------- */

/**
 * Print "vstore CMD: <message>" as one line on stderr.
 * @return CLI_EXIT_FAIL, so a command fails with `return cli_error(...)`.
 */
int cli_error(const struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * Print "vstore CMD: <what>: <the store's last error message>" for a failed
 * libvstore call that returned @p err (NULL @p what: the message alone).
 * @return CLI_EXIT_FAIL.
 */
int cli_error_vs(const struct cli *cli, int err, const char *what);

/** Print "vstore CMD: <message> (see 'vstore CMD --help')". @return CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * Report getopt_long()'s failure @p opt ('?' unknown, ':' missing value) for
 * the option at argv[optind - 1]. @return CLI_EXIT_USAGE.
 */
int cli_opt_error(const struct cli *cli, int opt, char **argv);

/* ---- Command options (cli.c) --------------------------------------------- */

/**
 * Check and store the value @p value of an option (a cli_opt's fn), @p payload
 * being the cli_opt's. @return 0, or an exit code after printing why
 * (cli_usage_error()), which cli_parse_opts() returns.
 */
typedef int cli_opt_fn(struct cli *cli, void *payload, const char *value);

/*
 * One option of a command, for cli_parse_opts(): exactly one of flag, value
 * and fn says what it does. Tables name the first two fields and designate
 * the third: {"json", 0, .flag = &cli->json}, {"at", 0, .value = &at},
 * {"max-count", 'n', .fn = parse_max, .payload = args}; {NULL} ends one.
 */
struct cli_opt {
	const char *name;   /* long form: "json" for --json; NULL ends the table */
	char letter;	    /* short form: 'n' for -n, or 0 for none */
	bool *flag;	    /* takes no value: set to true when given */
	const char **value; /* takes a value: the last one given is stored here */
	cli_opt_fn *fn;	    /* takes a value: fn(cli, payload, value) checks and stores it */
	void *payload;
};

/* Most options one table may have. */
#define CLI_OPTS_MAX 24

/**
 * Parse the options of @p argv (argv[0] is the command) as the table @p opts
 * says, with getopt_long(): long names may be abbreviated while unambiguous,
 * options and operands mix (the operands are moved to the end), "--" ends
 * the options. *out is the index of the first operand (argc: none); a
 * NULL @p out means the command takes none (cli_args_end()).
 * @return 0, CLI_EXIT_USAGE after cli_opt_error()'s line (unknown option,
 * missing value) or an operand refused, or what an option's fn returned.
 */
int cli_parse_opts(int *out, struct cli *cli, int argc, char **argv, const struct cli_opt *opts);

/**
 * Refuse the operands from argv[@p i] on: 0 when @p i == @p argc, else
 * CLI_EXIT_USAGE after "unexpected argument 'argv[i]'".
 */
int cli_args_end(const struct cli *cli, int argc, char **argv, int i);

/* ---- The store ----------------------------------------------------------- */

/**
 * Open cli->store. Read-only (VS_REPO_READONLY | VS_REPO_NOCREATE) unless
 * @p writable; a read-only LMDB open never blocks or modifies a live
 * daemon's store. A URI without "scheme:" is a directory: lmdb when it
 * holds data.mdb, git otherwise. On failure prints the error line.
 * @return 0 and *out (caller closes with vs_repo_close()), or CLI_EXIT_FAIL.
 */
int cli_open_repo(struct vs_repo **out, struct cli *cli, bool writable);

/* ---- Revisions and times (cli_rev.c) ------------------------------------- */

/* Most ~/^ groups one revision may have. */
#define CLI_REV_MAX_STEPS 16

/* A parsed revision: BASE, BASE@{DATE} or @{DATE}, then ~N / ^K steps. */
struct cli_rev {
	char base[256];	     /* id, id prefix, branch or ref; "" means HEAD */
	bool has_date;	     /* @{DATE} given: the newest commit of base at or before date */
	int64_t date;	     /* that time, seconds since 1970 */
	unsigned int back;   /* commits stepped over in all (sum of the counts) */
	unsigned int nsteps; /* groups in steps */
	struct {
		unsigned int parent; /* which parent to follow, 1 = first */
		unsigned int count;  /* how many times */
	} steps[CLI_REV_MAX_STEPS];  /* "~3^2" = {1, 3}, {2, 1} */
};

/**
 * Parse revision syntax: "HEAD", "main", "a1b2c3d", "HEAD~3", "main^^",
 * "HEAD^2" (a merge's second parent), "@{2026-11-20 10:00}",
 * "main@{2 hours ago}", "@{yesterday}~1". "HEAD" and "@" become base "".
 * Nothing is resolved. @return 0, VS_EINVAL (message says why).
 */
int cli_rev_parse(struct cli_rev *out, const char *spec, int64_t now);

/**
 * Parse a time: "2026-11-20", "2026-11-20 10:00[:05]", "2026-11-20T10:00:05"
 * (local time, or UTC with a "Z" or "+HH:MM"/"-HHMM" suffix), "@1700000000"
 * (seconds since 1970), "now", "today", "yesterday", "N UNIT[s] [ago]" and
 * "N{s,m,h,d,w}" (relative to @p now; UNIT second/minute/hour/day/week/
 * month(30 days)/year(365 days)).
 * @return 0 and *out, VS_EINVAL.
 */
int cli_parse_time(int64_t *out, const char *s, int64_t now);

/**
 * Resolve @p spec (cli_rev_parse syntax) in @p repo to a commit id. A base
 * is tried as HEAD/branch/full ref/full id/unique prefix (at least 4 hex
 * digits), in that order.
 * @return 0, VS_ENOENT (unknown revision, or no commit that old), VS_EINVAL
 * (bad syntax, ambiguous prefix); message set.
 */
int cli_resolve_rev(struct vs_oid *out, struct cli *cli, struct vs_repo *repo, const char *spec);

/**
 * Resolve an --at argument: a revision, or else a time (cli_parse_time), which
 * names the newest commit of main committed at or before it.
 * @return as cli_resolve_rev().
 */
int cli_resolve_at(struct vs_oid *out, struct cli *cli, struct vs_repo *repo, const char *spec);

/**
 * The tree of the commit @p at names (cli_resolve_at syntax; NULL: HEAD) and
 * that commit's id in @p commit_out (may be NULL). The caller frees *out
 * with vs_tree_free(). @return as cli_resolve_at(); message set.
 */
int cli_tree_at(struct vs_tree **out, struct vs_oid *commit_out, struct cli *cli,
		struct vs_repo *repo, const char *at);

/**
 * The newest commit reachable from @p start whose committer time is at or
 * before @p t (first-parent walk, as git's @{date} on a ref without reflog).
 * @return 0, VS_ENOENT (history starts later).
 */
int cli_commit_at_time(struct vs_oid *out, struct vs_repo *repo, const struct vs_oid *start,
		       int64_t t);

/**
 * Print @p id abbreviated to 12 hex digits into @p out (at least 13 bytes).
 * @return @p out.
 */
char *cli_short_id(char *out, size_t n, const struct vs_oid *id);

/* How cli_format_time() writes a time. */
enum cli_time_style {
	CLI_TIME_GIT, /* "Thu Nov 20 10:00:00 2026 +0100" */
	CLI_TIME_ISO, /* "2026-11-20T10:00:00+01:00" */
};

/**
 * Format @p t at @p offset minutes east of UTC in @p style into @p out
 * (at least 40 bytes). @return @p out.
 */
char *cli_format_time(char *out, size_t n, int64_t t, int offset, enum cli_time_style style);

/**
 * Find trailer @p key ("Xs-Op") in commit message @p msg: a line
 * "Key: value" after the first blank line. Copies the value to @p out.
 * @return true when found.
 */
bool cli_trailer(char *out, size_t n, const char *msg, const char *key);

/* ---- Output: pager, colour, JSON, progress (cli_out.c) ----------------------- */

/**
 * Start the pager when stdout is a terminal and --no-pager was not given:
 * $VSTORE_PAGER, else $PAGER, else "less" (with LESS=FRX unless set); ""
 * or "cat" means none. stdout then writes into it. Failure to start one
 * is not an error (output stays on the terminal).
 */
void cli_pager_start(struct cli *cli);

/** Flush stdout, close the pipe and wait for the pager to exit. No-op without one. */
void cli_pager_stop(struct cli *cli);

/** The escape sequence for @p slot, or "" when colour is off. Borrowed, static. */
const char *cli_color(const struct cli *cli, enum cli_color_slot slot);

/**
 * Write @p len bytes as a JSON string (quotes included) to @p f. Valid UTF-8
 * passes through; control characters and '"', '\\' are escaped; each byte
 * of invalid UTF-8 becomes \u00XX (Latin-1), so binary values stay JSON.
 */
void cli_json_string(FILE *f, const void *s, size_t len);

/** cli_json_string() of a NUL-terminated string; NULL writes null. */
void cli_json_str(FILE *f, const char *s);

/** A progress reporter for long operations; lines go to stderr on a terminal only. */
struct cli_progress {
	bool on;	 /* stderr is a terminal and output is not --json */
	char stage[32];	 /* the stage last shown */
	int64_t last_ms; /* when the line was last redrawn (monotonic) */
	size_t done;	 /* last counts seen */
	size_t total;
	bool dirty; /* a line is on screen without its newline */
};

/** Milliseconds on the monotonic clock (CLOCK_MONOTONIC), for timeouts and redraw rates. */
int64_t cli_mono_ms(void);

/** Set up @p p for @p cli (decides whether anything is shown). */
void cli_progress_init(struct cli_progress *p, const struct cli *cli);

/**
 * A vs_progress_fn: pass it with a struct cli_progress * as payload. Redraws
 * "stage: done/total (pct%)" at most ten times a second, and at a stage change.
 * @return 0 (never stops the operation).
 */
int cli_progress_cb(void *payload, const char *stage, size_t done, size_t total);

/** End the progress line (prints the final counts and a newline if one is shown). */
void cli_progress_done(struct cli_progress *p);

/* ---- Xenstore nodes in the store (cli_xs.c, cli_xs_diff.c) ---------------- */

/*
 * Xenstore paths on the command line are absolute ("/local/domain/3");
 * a missing leading '/' is added. "@introduceDomain"-style names are the
 * special nodes.
 */

/**
 * Check Xenstore path @p path and write its canonical form ("/a/b", "/") to
 * @p out (XSD_PATH_BUF bytes suffice). @return 0, VS_EINVAL (message says why).
 */
int cli_xs_path(char *out, size_t n, const char *path);

/**
 * cli_xs_path() of operand @p arg for a command's parser.
 * @return 0, or CLI_EXIT_USAGE after printing why it is no Xenstore path.
 */
int cli_xs_path_arg(char *out, size_t n, const struct cli *cli, const char *arg);

/**
 * Write the path of child @p name of node @p dir ("/a" + "b": "/a/b", "/" +
 * "b": "/b") to @p out. @return 0, VS_ERANGE (longer than @p n; message set).
 */
int cli_xs_child_path(char *out, size_t n, const char *dir, const char *name);

/** cli_xs_child_path() into memory the caller frees; NULL when out of memory. */
char *cli_xs_child_dup(const char *dir, const char *name);

/**
 * The store path that limits a history walk or diff (vs_log_opts.path,
 * vs_diff_commits()) to node @p xpath and below: *out NULL for all (@p xpath
 * NULL or "/"), else @p sp (XSD_STORE_PATH_BUF bytes) holding it.
 * @return 0, VS_EINVAL (not a Xenstore path; message set).
 */
int cli_xs_store_filter(const char **out, char *sp, const char *xpath);

/** A Xenstore node as stored in one tree. Caller-owned: init/release. */
struct cli_xs_node {
	struct vs_buf value;  /* the value (empty when none) */
	bool has_meta;	      /* .meta was present and parsed */
	struct xsd_meta meta; /* perms, seq, label */
	struct vs_oid id;     /* the id of the node's store tree */
};

/** Make @p n empty. */
void cli_xs_node_init(struct cli_xs_node *n);
/** Free what @p n holds and leave it empty. NULL-safe. */
void cli_xs_node_release(struct cli_xs_node *n);

/**
 * Read node @p xpath (canonical) of the Xenstore tree @p root into @p out.
 * @return 0, VS_ENOENT (no such node), VS_ECORRUPT (bad .meta).
 */
int cli_xs_node_read(struct cli_xs_node *out, struct vs_tree *root, const char *xpath);

/**
 * The children of node @p xpath in creation order (their seq, then name):
 * full Xenstore names, chunked long names joined. The caller disposes @p out
 * with vs_strarray_dispose(). @return 0, VS_ENOENT.
 */
int cli_xs_children(struct vs_strarray *out, struct vs_tree *root, const char *xpath);

/** Append @p ps as xenstore-ls -p shows them: "n0,r5" (ignored entries keep their letter). */
int cli_xs_perms_format(struct vs_buf *out, const struct xsd_perms *ps);

/**
 * Append @p len bytes of a value as xenstore-ls prints it between quotes
 * (libxenstore's sanitise_value): printable ASCII as is ('"' too), '\\' as
 * "\\\\", \t \n \r, bytes 0..7 as \000..\007, any other byte as \xNN.
 * @return 0, VS_ENOMEM.
 */
int cli_xs_value_escape(struct vs_buf *out, const void *v, size_t len);

/* What a change did to one Xenstore node (cli_xs_diff(), cli_xs_diff_trees()). */
enum cli_xs_change_kind {
	CLI_XS_ADDED = 1,    /* the node appeared */
	CLI_XS_REMOVED = 2,  /* the node went away */
	CLI_XS_MODIFIED = 3, /* value and/or metadata changed */
};

/* One changed node; everything is borrowed for the callback. */
struct cli_xs_change {
	enum cli_xs_change_kind kind;
	const char *path;	   /* Xenstore path ("/a/b", "@introduceDomain") */
	bool value_changed;	   /* old_value and new_value differ */
	struct vs_slice old_value; /* empty for ADDED */
	struct vs_slice new_value; /* empty for REMOVED */
	/* The metadata, given when .meta changed (so always for ADDED/REMOVED
	 * nodes of the mapping); NULL when unchanged, absent or unreadable. */
	const struct xsd_meta *old_meta; /* NULL for ADDED */
	const struct xsd_meta *new_meta; /* NULL for REMOVED */
	bool perms_changed;		 /* perms differ (both metas given) */
	bool label_changed;		 /* labels differ (both metas given) */
	bool raw;			 /* a store path outside the node mapping */
};

/** Called once per changed node, in path order; non-zero stops (returned). */
typedef int cli_xs_change_fn(void *payload, const struct cli_xs_change *ch);

/**
 * The Xenstore-level difference between commits @p a (NULL: empty) and @p b,
 * limited to node @p xpath and below (NULL: all): the store's value deltas
 * grouped per node, .value and .meta merged, nodes ordered by path. A node
 * whose only change is its seq is not reported. Store paths outside the
 * node mapping are reported as they are (path without a leading '/').
 * @return 0, VS_ENOENT (a commit is missing), or what @p cb returned.
 */
int cli_xs_diff(struct vs_repo *repo, const struct vs_oid *a, const struct vs_oid *b,
		const char *xpath, cli_xs_change_fn *cb, void *payload);

/** cli_xs_diff() between trees @p a and @p b (either NULL: empty), whole trees. */
int cli_xs_diff_trees(struct vs_tree *a, struct vs_tree *b, cli_xs_change_fn *cb, void *payload);

#endif
