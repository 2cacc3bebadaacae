/* SPDX-License-Identifier: MIT */
/*
 * `vstore watch PATH`: print each change at or below PATH as it is
 * committed, one line each, flushed at once. Two sources:
 *  - the daemon (default): a Xenstore watch through libvsclient; each event
 *    names a node, printed with the value it has when read back;
 *  - the store (--poll): vs_watch_path() on main, polled; each commit that
 *    changed the subtree is shown node by node (cli_xs_diff against its
 *    first parent), with its id. Read-only: works on a copy or a store no
 *    daemon serves.
 * --count N and --timeout SECONDS bound the run so scripts and tests end.
 */
#include "cli_manage.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct watcher {
	struct cli *cli;
	const char *path;     /* canonical Xenstore path */
	size_t count;	      /* stop after this many changes (0: never) */
	size_t seen;	      /* changes printed */
	int64_t deadline;     /* monotonic ms, 0: none */
	struct vs_repo *repo; /* --poll */
	int err;	      /* first failure inside a watch callback */
};

/* Milliseconds left before the deadline (-1: none), at least 0. */
static int time_left(const struct watcher *w)
{
	if (!w->deadline)
		return -1;
	int64_t left = w->deadline - cli_mono_ms();
	return left < 0 ? 0 : left > 1000000000 ? 1000000000 : (int)left;
}

static bool done(const struct watcher *w)
{
	return (w->count && w->seen >= w->count) || (w->deadline && time_left(w) == 0);
}

/* One line: [COMMIT ]PATH = "VALUE" or [COMMIT ]PATH removed. */
static void print_change(struct watcher *w, const char *commit_hex, const char *path,
			 const struct vs_slice *value)
{
	struct cli *cli = w->cli;
	if (cli->json) {
		fputs("{\"path\":", stdout);
		cli_json_str(stdout, path);
		fputs(",\"value\":", stdout);
		if (value)
			cli_json_string(stdout, value->ptr, value->len);
		else
			fputs("null", stdout);
		if (commit_hex)
			printf(",\"commit\":\"%s\"", commit_hex);
		fputs("}\n", stdout);
	} else {
		struct vs_buf esc = VS_BUF_INIT;
		if (commit_hex)
			printf("%s%.12s%s ", cli_color(cli, CLI_C_COMMIT), commit_hex,
			       cli_color(cli, CLI_C_RESET));
		if (value && cli_xs_value_escape(&esc, value->ptr, value->len) >= 0)
			printf("%s = \"%s\"\n", path, esc.ptr ? esc.ptr : "");
		else
			printf("%s %sremoved%s\n", path, cli_color(cli, CLI_C_REMOVED),
			       cli_color(cli, CLI_C_RESET));
		vs_buf_release(&esc);
	}
	fflush(stdout);
	w->seen++;
}

static int watch_daemon(struct watcher *w, struct vsc_client *c)
{
	static const char token[] = "vstore-watch";
	bool initial = true;
	int err = vsc_watch(c, w->path, token, -1);

	if (err < 0)
		return cli_error_vs(w->cli, err, "cannot watch");
	while (!done(w)) {
		struct vsc_event ev = {0};
		if ((err = vsc_event_next(&ev, c, time_left(w))) == VS_EAGAIN)
			continue;
		if (err < 0)
			return cli_error_vs(w->cli, err, "lost the daemon");
		/* Registering queues one event for the path itself: not a change. */
		if (initial && !strcmp(ev.path, w->path) && !strcmp(ev.token, token)) {
			initial = false;
			vsc_event_release(&ev);
			continue;
		}
		initial = false;
		struct vs_buf val = VS_BUF_INIT;
		if (ev.path[0] == '@') {
			print_change(w, NULL, ev.path, &(struct vs_slice){"", 0});
		} else if ((err = vsc_read(&val, c, VSC_TXN_NONE, ev.path)) == VS_ENOENT) {
			print_change(w, NULL, ev.path, NULL);
		} else if (err < 0) {
			vs_buf_release(&val);
			vsc_event_release(&ev);
			return cli_error_vs(w->cli, err, "cannot read the changed node");
		} else {
			print_change(w, NULL, ev.path,
				     &(struct vs_slice){val.ptr ? val.ptr : "", val.size});
		}
		vs_buf_release(&val);
		vsc_event_release(&ev);
	}
	return 0;
}

struct poll_change {
	struct watcher *w;
	const char *hex;
};

static int poll_print(void *payload, const struct cli_xs_change *ch)
{
	struct poll_change *pc = payload;
	if (pc->w->count && pc->w->seen >= pc->w->count)
		return 1;
	if (ch->kind == CLI_XS_REMOVED)
		print_change(pc->w, pc->hex, ch->path, NULL);
	else
		print_change(pc->w, pc->hex, ch->path, &ch->new_value);
	return 0;
}

struct commit_list {
	const struct vs_oid *stop;
	struct vs_oid *ids;
	size_t n, cap;
};

/* Most commits one poll shows one by one; past that, one diff of the whole move. */
#define POLL_MAX_COMMITS 1000

/*
 * Collect the commits after @stop (NULL: all), newest first, following first
 * parents. @return 0, 1 when @stop is not a first-parent ancestor within
 * POLL_MAX_COMMITS (history rewritten or too long: diff the move at once).
 */
static int collect_new(struct commit_list *l, struct vs_repo *repo, const struct vs_oid *head)
{
	struct vs_oid id = *head;

	while (!l->stop || !vs_oid_equal(&id, l->stop)) {
		struct vs_commit *c;
		int err;
		if (l->n == POLL_MAX_COMMITS)
			return 1;
		if ((err = vs_commit_lookup(&c, repo, &id)) < 0)
			return err;
		if (l->n == l->cap) {
			size_t ncap = l->cap ? l->cap * 2 : 16;
			struct vs_oid *ni = realloc(l->ids, ncap * sizeof(*ni));
			if (!ni) {
				vs_commit_free(c);
				return VS_ENOMEM;
			}
			l->ids = ni;
			l->cap = ncap;
		}
		l->ids[l->n++] = id;
		const struct vs_oid *parent = vs_commit_parent_id(c, 0);
		if (parent)
			id = *parent;
		vs_commit_free(c);
		if (!parent)
			return l->stop ? 1 : 0;
	}
	return 0;
}

static void poll_event(void *payload, const struct vs_watch_event *ev)
{
	struct watcher *w = payload;
	struct commit_list l = {.stop = ev->old_head};
	char hex[VS_OID_MAXHEXSZ + 1];
	int err = 0;

	if (!ev->new_head || w->err)
		return;
	if ((err = collect_new(&l, w->repo, ev->new_head)) == 1) {
		struct poll_change pc = {w, vs_oid_tostr(hex, ev->new_head)};
		err = cli_xs_diff(w->repo, ev->old_head, ev->new_head, w->path, poll_print, &pc);
	} else if (err == 0) {
		/* Oldest first, each against its first parent. */
		for (size_t i = l.n; i-- > 0 && err >= 0 && !done(w);) {
			struct poll_change pc = {w, vs_oid_tostr(hex, &l.ids[i])};
			const struct vs_oid *parent = i + 1 < l.n ? &l.ids[i + 1] : ev->old_head;
			err = cli_xs_diff(w->repo, parent, &l.ids[i], w->path, poll_print, &pc);
		}
	}
	free(l.ids);
	if (err < 0)
		w->err = err;
}

static int watch_store(struct watcher *w, unsigned int interval_ms)
{
	struct vs_watch *vw = NULL;
	char sp[XSD_STORE_PATH_BUF];
	int err;

	if (w->path[0] == '@')
		return cli_error(w->cli, "--poll watches nodes, not %s", w->path);
	if ((err = xsd_path_store(sp, sizeof(sp), w->path, XSD_STORE_NODE)) < 0)
		return cli_error_vs(w->cli, err, w->path);
	if ((err = vs_watch_path(&vw, w->repo, CLI_MAIN_BRANCH, sp, poll_event, w)) < 0)
		return cli_error_vs(w->cli, err, "cannot watch the store");
	while (!done(w) && !w->err) {
		if ((err = vs_watch_poll(w->repo)) < 0)
			break;
		if (done(w) || w->err)
			break;
		int left = time_left(w);
		unsigned int nap = left >= 0 && (unsigned int)left < interval_ms
				       ? (unsigned int)left
				       : interval_ms;
		usleep(nap * 1000u);
	}
	vs_watch_free(vw);
	if (w->err)
		err = w->err;
	return err < 0 ? cli_error_vs(w->cli, err, "cannot read the store") : 0;
}

/* -n, --count, into the struct watcher @p payload */
static int watch_opt_count(struct cli *cli, void *payload, const char *value)
{
	struct watcher *w = payload;
	char *end;
	long long v = strtoll(value, &end, 10);
	if (*end || v < 1 || !*value)
		return cli_usage_error(cli, "--count takes a number >= 1");
	w->count = (size_t)v;
	return 0;
}

/* --timeout, into the struct watcher @p payload */
static int watch_opt_timeout(struct cli *cli, void *payload, const char *value)
{
	struct watcher *w = payload;
	char *end;
	double s = strtod(value, &end);
	if (*end || !*value || !(s > 0) || s > 1e7)
		return cli_usage_error(cli, "--timeout takes seconds > 0");
	w->deadline = cli_mono_ms() + (int64_t)(s * 1000);
	return 0;
}

/* --interval, into the long @p payload */
static int watch_opt_interval(struct cli *cli, void *payload, const char *value)
{
	long *interval = payload;
	char *end;
	*interval = strtol(value, &end, 10);
	if (*end || !*value || *interval < 10 || *interval > 60000)
		return cli_usage_error(cli, "--interval takes 10..60000 ms");
	return 0;
}

int cmd_watch(struct cli *cli, int argc, char **argv)
{
	struct watcher w = {.cli = cli};
	const char *sock = NULL, *uri = NULL;
	char path[XSD_PATH_BUF] = "/";
	bool poll = false;
	long interval = 200;
	int i, rc, err;
	const struct cli_opt opts[] = {
	    {"count", 'n', .fn = watch_opt_count, .payload = &w},
	    {"timeout", 0, .fn = watch_opt_timeout, .payload = &w},
	    {"socket", 0, .value = &sock},
	    {"daemon", 0, .value = &uri},
	    {"poll", 0, .flag = &poll},
	    {"interval", 0, .fn = watch_opt_interval, .payload = &interval},
	    {"json", 0, .flag = &cli->json},
	    {NULL},
	};

	if ((rc = cli_parse_opts(&i, cli, argc, argv, opts)) != 0)
		return rc;
	if (argc - i > 1)
		return cli_usage_error(cli, "watch takes at most one PATH");
	if (poll && (sock || uri))
		return cli_usage_error(cli, "--poll reads the store: no --socket or --daemon");
	if (argc - i == 1 && (err = cli_xs_path(path, sizeof(path), argv[i])) < 0)
		return cli_error_vs(cli, err, NULL);
	w.path = path;

	if (poll) {
		if ((rc = cli_open_repo(&w.repo, cli, false)) != 0)
			return rc;
		rc = watch_store(&w, (unsigned int)interval);
		vs_repo_close(w.repo);
	} else {
		struct vsc_client *c;
		if ((rc = cli_daemon_open(&c, cli, uri, sock)) != 0)
			return rc;
		rc = watch_daemon(&w, c);
		vsc_client_close(c);
	}
	if (rc == 0 && w.count && w.seen < w.count)
		rc = cli_error(cli, "timed out after %zu of %zu change%s", w.seen, w.count,
			       w.count == 1 ? "" : "s");
	return rc;
}
