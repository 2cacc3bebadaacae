/* SPDX-License-Identifier: MIT */
/*
 * vstore: main(), the commands[] table and help. Each entry's usage text is
 * what `vstore CMD --help` prints; entries of cmd files not built are
 * compiled out (VSTORE_HAVE_CMD_<FILE>, see cli.h), so the table lists
 * exactly the commands this binary has.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#define REV_HELP                                                                   \
	"REV is a commit id or a unique prefix of one, a branch, or HEAD (main),\n" \
	"then ~N or ^ for first-parent ancestors (HEAD~2), ^2 for a merge's second\n" \
	"parent; BRANCH@{DATE} or @{DATE} is the newest commit at or before DATE\n" \
	"(\"2026-11-20 10:00\", \"2 hours ago\", \"yesterday\", \"@1700000000\").\n"

#define AT_HELP "  --at REV|TIME   read the tree of that commit, or of main at that time\n"

const struct cli_command cli_commands[] = {
#ifdef VSTORE_HAVE_CMD_LOG
	{ "log", cmd_log, "list commits, newest first, optionally only those changing PATH",
	  "usage: vstore log [options] [PATH]\n"
	  "List commits of main (or --rev REV), newest first; with PATH only those\n"
	  "that changed the Xenstore node PATH or anything below it.\n"
	  "  -n, --max-count N   at most N commits\n"
	  "  --since TIME        only commits at or after TIME\n"
	  "  --until TIME        only commits at or before TIME\n"
	  "  --domain N          only commits made by domain N (Xs-Domain trailer)\n"
	  "  --op OP             only commits of request OP (Xs-Op trailer: WRITE, RM...)\n"
	  "  -r, --rev REV       start from REV instead of main\n"
	  "  --oneline           one line per commit: short id and summary\n"
	  "  --json              one JSON object per line\n" REV_HELP,
	  CLI_CMD_PAGER },
#endif
#ifdef VSTORE_HAVE_CMD_SHOW
	{ "show", cmd_show, "show a commit's metadata and the nodes it changed",
	  "usage: vstore show [--json] [--raw] [REV]\n"
	  "Show commit REV (default HEAD): id, parents, author, date, message, then\n"
	  "each changed Xenstore node: path, old -> new value and permission changes.\n"
	  "  --raw    show store paths and values instead of Xenstore nodes\n"
	  "  --json   one JSON object\n" REV_HELP,
	  CLI_CMD_PAGER },
#endif
#ifdef VSTORE_HAVE_CMD_DIFF
	{ "diff", cmd_diff, "the nodes that differ between two revisions",
	  "usage: vstore diff [--json] [--raw] REV1 REV2 [PATH]\n"
	  "Show each Xenstore node that differs between REV1 and REV2 (below PATH\n"
	  "when given): added (+), removed (-) or changed (~), with old -> new values\n"
	  "and permission changes.\n"
	  "  --raw    store paths and values instead of Xenstore nodes\n"
	  "  --json   a JSON array of the changed nodes\n" REV_HELP,
	  CLI_CMD_PAGER },
#endif
#ifdef VSTORE_HAVE_CMD_BLAME
	{ "blame", cmd_blame, "the last commit that changed each node below PATH",
	  "usage: vstore blame [--json] [-r REV] PATH\n"
	  "For PATH and every node below it, the newest commit (from main or REV)\n"
	  "that changed the node's value or permissions: id, date, domain, path.\n"
	  "  -r, --rev REV   blame as of REV\n"
	  "  --json          one JSON object per node, one per line\n" REV_HELP,
	  CLI_CMD_PAGER },
#endif
#ifdef VSTORE_HAVE_CMD_CAT
	{ "cat", cmd_cat, "print a node's value",
	  "usage: vstore cat [--raw] [--at REV|TIME] PATH\n"
	  "Print the value of Xenstore node PATH (as stored, no newline added).\n" AT_HELP
	  "  --raw           PATH is a store path (\"local/domain/0/name/.value\")\n" REV_HELP,
	  0 },
#endif
#ifdef VSTORE_HAVE_CMD_LS
	{ "ls", cmd_ls, "list nodes with their values, like xenstore-ls",
	  "usage: vstore ls [-r] [-p] [--raw] [--json] [--at REV|TIME] [PATH]\n"
	  "List the children of Xenstore node PATH (default /) in creation order,\n"
	  "as name = \"value\".\n"
	  "  -r, --recursive  the whole subtree, indented as xenstore-ls\n"
	  "  -p, --perms      permissions too, like xenstore-ls -p\n"
	  "  --raw            the store's own tree (names, modes, ids), not Xenstore nodes\n"
	  "  --json           one JSON object per node, one per line\n" AT_HELP REV_HELP,
	  CLI_CMD_PAGER },
#endif
#ifdef VSTORE_HAVE_CMD_BRANCH
	{ "branch", cmd_branch, "list, create or delete branches",
	  "usage: vstore branch [-v] [--json]\n"
	  "       vstore branch [-f] NAME [REV]\n"
	  "       vstore branch -d NAME\n"
	  "List branches with their head commits; create NAME at REV (default\n"
	  "HEAD); or delete NAME. Refs move by compare-and-swap, so a daemon\n"
	  "committing meanwhile loses nothing; main is not moved or deleted while\n"
	  "a daemon answers.\n"
	  "  -v, --verbose   full commit ids\n"
	  "  -f, --force     move an existing NAME to REV; allow main next to a daemon\n"
	  "  -d, --delete    delete NAME\n"
	  "  --socket PATH   the daemon socket checked (default $XENSTORED_PATH)\n"
	  "  --json          one JSON object per branch, one per line\n" REV_HELP,
	  0 },
#endif
#ifdef VSTORE_HAVE_CMD_RESTORE
	{ "restore", cmd_restore, "write an old subtree back through the daemon",
	  "usage: vstore restore [options] PATH --at REV|TIME\n"
	  "Make Xenstore node PATH and everything below it what it was at REV,\n"
	  "through the running daemon in one transaction: old values and\n"
	  "permissions written back, nodes added since removed (PATH too when it\n"
	  "did not exist then). The daemon commits it as one new commit on main;\n"
	  "history is not rewritten. The old tree is read from the store.\n"
	  "  --at REV|TIME   the revision, or main as it was at that time\n"
	  "  -n, --dry-run   show what would change; change nothing\n"
	  "  -v, --verbose   list each write, chmod and rm\n"
	  "  --socket PATH   the daemon's socket (default $XENSTORED_PATH, else\n"
	  "                  /var/run/xenstored/socket)\n"
	  "  --daemon URI    any libvsclient URI instead (unix:PATH, xenbus:...)\n"
	  "  --json          one JSON object\n" REV_HELP,
	  0 },
#endif
#ifdef VSTORE_HAVE_CMD_SYNC
	{ "push", cmd_push, "push branches to a git remote",
	  "usage: vstore push [-f] [--json] REMOTE [BRANCH[:REMOTE-BRANCH]]...\n"
	  "Send branches (default main) and their history to git repository REMOTE\n"
	  "(a path, file://, git://, ssh:// or https:// URL). A vs-format store\n"
	  "converts commits and remembers their git ids (it writes that map), so\n"
	  "later pushes convert only what is new. History cut by gc cannot be pushed.\n"
	  "  -f, --force   allow a non-fast-forward update of the remote branch\n"
	  "  --json        one JSON object per branch\n",
	  0 },
	{ "fetch", cmd_fetch, "fetch branches from a git remote",
	  "usage: vstore fetch [-f] [--json] REMOTE [BRANCH[:LOCAL]]...\n"
	  "Fetch branches (default main) of git repository REMOTE with their\n"
	  "history and print each head; with :LOCAL, move local branch LOCAL there\n"
	  "(a fast-forward unless --force; main not while a daemon answers).\n"
	  "  -f, --force     allow a non-fast-forward move, or main next to a daemon\n"
	  "  --socket PATH   the daemon socket checked (default $XENSTORED_PATH)\n"
	  "  --json          one JSON object per branch\n",
	  0 },
	{ "pull", cmd_pull, "fetch and merge from a git remote",
	  "usage: vstore pull [options] REMOTE [BRANCH[:LOCAL]]\n"
	  "Fetch BRANCH (default main) from REMOTE and merge it into local branch\n"
	  "LOCAL (default the same name): a fast-forward when possible, else a\n"
	  "merge commit. Not into main while a daemon answers.\n"
	  "  --merge FN      values both sides changed: default (conflict unless\n"
	  "                  equal), lww (last writer wins), counter, json\n"
	  "  -f, --force     pull into main although a daemon answers\n"
	  "  --socket PATH   the daemon socket checked (default $XENSTORED_PATH)\n"
	  "  --json          one JSON object\n",
	  0 },
	{ "clone", cmd_clone, "make a new store from a git remote",
	  "usage: vstore clone [--format git|vs] [--json] REMOTE STORE\n"
	  "Create store STORE (lmdb:DIR, git:DIR) holding every branch of git\n"
	  "repository REMOTE and its history. lmdb stores default to the vs format\n"
	  "(converted, ids mapped); git stores keep the remote's ids.\n"
	  "  --format F   the new store's object format\n"
	  "  --json       one JSON object\n",
	  0 },
#endif
#ifdef VSTORE_HAVE_CMD_EXPORT
	{ "export", cmd_export, "export history to a git repository",
	  "usage: vstore export [--json] (--git DIR | STORE-URI)\n"
	  "Copy every branch and its history into git repository DIR (created bare\n"
	  "when missing) or into another store, converting between the vs and git\n"
	  "formats. The store is only read; the whole history is converted each\n"
	  "time ('vstore push' sends only what is new).\n"
	  "  --git DIR   the git repository to write\n"
	  "  --json      one JSON object\n",
	  0 },
	{ "import", cmd_import, "import history from a git repository",
	  "usage: vstore import [-f] [--json] (--git DIR | STORE-URI)\n"
	  "Copy every branch and its history of git repository DIR, or of another\n"
	  "store, into the store (created when missing). Branches are overwritten,\n"
	  "main too: refused while a daemon answers.\n"
	  "  --git DIR       the git repository to read\n"
	  "  -f, --force     import although a daemon answers (it uses another store)\n"
	  "  --socket PATH   the daemon socket checked (default $XENSTORED_PATH)\n"
	  "  --json          one JSON object\n",
	  0 },
#endif
#ifdef VSTORE_HAVE_CMD_GC
	{ "gc", cmd_gc, "drop history beyond the retention limits",
	  "usage: vstore gc [retention options] [-f] [--json]\n"
	  "Cut history older than the retention window off, as in a shallow clone\n"
	  "(the oldest kept commits become the boundary), and delete the objects\n"
	  "nothing kept reaches, in bounded steps. Each branch keeps its head and\n"
	  "its own window. A commit is kept when any rule keeps it. gc must be the\n"
	  "store's only writer: stop the daemon first (gc refuses while one answers).\n"
	  "  --keep-all              keep all history; delete only unreachable\n"
	  "                          objects (the default)\n"
	  "  --keep-last N           keep commits fewer than N steps below a head\n"
	  "  --keep-newer-than DUR   keep commits newer than DUR (3600, 2d,\n"
	  "                          \"12 hours\", 1w)\n"
	  "  --keep-refs             keep only the commits branches name\n"
	  "  -f, --force             run although a daemon answers (another store)\n"
	  "  --socket PATH           the daemon socket checked ($XENSTORED_PATH)\n"
	  "  --json                  the statistics as one JSON object\n",
	  0 },
#endif
#ifdef VSTORE_HAVE_CMD_CHECK
	{ "check", cmd_check, "verify the store's integrity",
	  "usage: vstore check [--no-nodes] [--json]\n"
	  "Verify that every ref names a commit and every reachable object exists,\n"
	  "hashes to its id and parses; then, in a daemon's store, that every\n"
	  "Xenstore node of main's head has metadata that parses. Read-only.\n"
	  "  --no-nodes   skip the Xenstore check\n"
	  "  --json       the counts as one JSON object\n",
	  0 },
#endif
#ifdef VSTORE_HAVE_CMD_STATS
	{ "stats", cmd_stats, "commits, objects, bytes, oldest kept commit",
	  "usage: vstore stats [--quick] [--json]\n"
	  "Show the store's branches, its commits (each counted once), objects by\n"
	  "kind, bytes on disk, the oldest (kept) and newest commits and the\n"
	  "retention boundary. Read-only.\n"
	  "  --quick   do not count objects (that walks all kept history)\n"
	  "  --json    one JSON object\n",
	  0 },
#endif
#ifdef VSTORE_HAVE_CMD_WATCH
	{ "watch", cmd_watch, "print changes below PATH as they are committed",
	  "usage: vstore watch [options] [PATH]\n"
	  "Print each change at or below Xenstore node PATH (default /) as it is\n"
	  "committed, one line each: PATH = \"VALUE\", or PATH removed. Through the\n"
	  "daemon (a Xenstore watch) by default; with --poll from the store, each\n"
	  "commit's changes led by its id. Runs until interrupted unless bounded.\n"
	  "  -n, --count N       stop after N changes (exit 1 if the timeout comes first)\n"
	  "  --timeout SECONDS   stop after that long\n"
	  "  --poll              poll the store read-only instead of using the daemon\n"
	  "  --interval MS       the polling period (default 200)\n"
	  "  --socket PATH       the daemon's socket (default $XENSTORED_PATH)\n"
	  "  --daemon URI        any libvsclient URI instead\n"
	  "  --json              one JSON object per change\n",
	  0 },
#endif
#ifdef VSTORE_HAVE_CMD_GRAPH
	{ "graph", cmd_graph, "draw the commit graph with Graphviz",
	  "usage: vstore graph [-n N] [-r REV | --all] [--svg FILE]\n"
	  "Print the commit graph in Graphviz dot, oldest on the left. A\n"
	  "transaction that did not start from the head is a side commit (yellow)\n"
	  "merged back (blue, dashed \"merge\" edge); branch heads are labelled and\n"
	  "retention's boundary commits double-framed.\n"
	  "  -n, --max-count N   the newest N commits (default 100, 0: all)\n"
	  "  -r, --rev REV       start from REV (default HEAD)\n"
	  "  --all               start from every branch\n"
	  "  --svg FILE          render to FILE with dot -Tsvg (package graphviz)\n" REV_HELP,
	  CLI_CMD_PAGER },
#endif
#ifdef VSTORE_HAVE_CMD_CONDUIT
	{ "conduit", cmd_conduit, "set up the conduit rendezvous registry",
	  "usage: vstore conduit [--socket PATH | --daemon URI] [--json] init|list\n"
	  "The MirageOS conduit registry in Xenstore, through the daemon.\n"
	  "  init   create /conduit (an old registry is removed) with perms b0,\n"
	  "         every domain may read and write, as xenstore-conduit-init;\n"
	  "         needs the control domain\n"
	  "  list   the registered names, their domains and pending requests\n"
	  "  --socket PATH   the daemon's socket (default $XENSTORED_PATH)\n"
	  "  --daemon URI    any libvsclient URI instead\n"
	  "  --json          one JSON object per name\n",
	  0 },
#endif
#ifdef VSTORE_HAVE_CMD_POLICY
	{ "check-policy", cmd_check_policy, "check a mandatory access control policy",
	  "usage: vstore check-policy FILE...\n"
	  "Parse and check each access control policy FILE (mac/POLICY.md), its\n"
	  "neverallow assertions included, as xenstored --check-policy does: every\n"
	  "error as FILE:LINE: message and exit 1, or FILE: OK and exit 0.\n",
	  0 },
#endif
};

const size_t cli_ncommands = sizeof(cli_commands) / sizeof(cli_commands[0]);

const struct cli_command *cli_command_find(const char *name)
{
	for (size_t i = 0; i < cli_ncommands; i++)
		if (!strcmp(cli_commands[i].name, name))
			return &cli_commands[i];
	return NULL;
}

static const char main_usage[] =
	"usage: vstore [--store URI] [--json] [--no-pager] [--color[=WHEN]] COMMAND [ARGS]\n"
	"\n"
	"  --store URI      the store: lmdb:DIR, git:DIR or a directory (default\n"
	"                   $VSTORE_STORE, else " CLI_DEFAULT_STORE ")\n"
	"  --json           machine-readable output, where the command has it\n"
	"  --no-pager       do not page output on a terminal\n"
	"  --color[=WHEN]   auto (default), always or never\n"
	"  --version        print the version\n"
	"\n"
	"Commands:\n";

static void print_main_usage(FILE *f)
{
	fputs(main_usage, f);
	for (size_t i = 0; i < cli_ncommands; i++)
		fprintf(f, "  %-9s %s\n", cli_commands[i].name, cli_commands[i].summary);
	fputs("\nSee 'vstore help COMMAND' or 'vstore COMMAND --help', and vstore(1).\n", f);
}

/* `vstore help [CMD]` */
static int help(struct cli *cli, int argc, char **argv)
{
	if (argc < 2) {
		print_main_usage(stdout);
		return CLI_EXIT_OK;
	}
	const struct cli_command *c = cli_command_find(argv[1]);
	if (!c)
		return cli_usage_error(cli, "'%s' is not a vstore command", argv[1]);
	fputs(c->usage, stdout);
	return CLI_EXIT_OK;
}

/* True when argv asks for help before any "--". */
static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return false;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	struct cli cli;
	cli_init(&cli);
	int i = cli_parse_global(&cli, argc, argv);
	if (i < 0)
		return CLI_EXIT_USAGE;
	if (i < argc && (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))) {
		print_main_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (i < argc && !strcmp(argv[i], "--version")) {
		printf("vstore %s\n", vs_version());
		return CLI_EXIT_OK;
	}
	if (i >= argc) {
		print_main_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	cli.cmd = argv[i];
	if (!strcmp(argv[i], "help"))
		return help(&cli, argc - i, argv + i);
	const struct cli_command *c = cli_command_find(argv[i]);
	if (!c) {
		cli.cmd = NULL;
		return cli_usage_error(&cli, "'%s' is not a vstore command", argv[i]);
	}
	cli.command = c;
	if (wants_help(argc - i, argv + i)) {
		fputs(c->usage, stdout);
		return CLI_EXIT_OK;
	}
	cli_color_resolve(&cli);
	if ((c->flags & CLI_CMD_PAGER) && !cli.json)
		cli_pager_start(&cli);
	int rc = c->fn(&cli, argc - i, argv + i);
	if (fflush(stdout) != 0 && rc == CLI_EXIT_OK)
		rc = cli_error(&cli, "writing output failed");
	cli_pager_stop(&cli);
	return rc;
}
