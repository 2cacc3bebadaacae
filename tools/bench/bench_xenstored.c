/* SPDX-License-Identifier: MIT */
/*
 * bench_xenstored: load on the daemon through Debian's libxenstore, the
 * library every Xen tool links. The bench starts build/xenstored/xenstored
 * itself in a fresh run directory (LMDB store unless --store says otherwise,
 * per-domain sockets), introduces D domains and gives each its
 * /local/domain/<N>, then forks C client processes. Client i acts as domain
 * (i % D) + 1 over DIR/domain/<domid> and works in its own subtree:
 *
 *   write        xs_write of a small value to ~/data/k<j % 100>
 *   read         xs_read of the same keys
 *   directory    xs_directory of ~/data (100 entries)
 *   transaction  start + write + end, retried on EAGAIN (retries counted)
 *   watch        one connection watches a node, another writes its clock to
 *                it; latency = receipt time - write time, ping-pong
 *   tree         dom0 creates /local/domain/<i % 1000>/data/key<i / 1000>
 *
 * Per figure: ops/s over all clients, the daemon's CPU time (utime + stime
 * from /proc/PID/stat) per op, watch latency p50/p99, creates/s and the
 * daemon's RssAnon growth per created node. Every figure is printed with the
 * issue's target and the ratio to it; Xen 4.17's C and OCaml xenstored
 * figures from the issue are printed for comparison. A benchmark, not a
 * test: target misses do not change the exit status, errors do.
 *
 * usage: bench_xenstored --help
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenstore.h>

#define BENCH_NAME "bench_xenstored"
#include "bench_util.h"
#include "bench_xsd.h"

#define MAX_LIST 8
#define MAX_CLIENTS 256
#define MAX_EXTRA 16
#define MAX_FIGS 1024
#define KEYS 100

enum workload { W_WRITE, W_READ, W_DIRECTORY, W_TXN, W_WATCH, W_TREE, W_COUNT };
static const char *const wl_names[W_COUNT] = {
	"write", "read", "directory", "transaction", "watch", "tree",
};

enum metric { M_OPS, M_CPU, M_P50, M_P99, M_CREATES, M_BNODE, M_COUNT };
static const char *const metric_names[M_COUNT] = {
	"ops/s", "cpu/op", "latency p50", "latency p99", "creates/s", "RssAnon/node",
};

static struct {
	const char *daemon, *store, *tmpdir;
	unsigned int domains[MAX_LIST], ndomains;
	unsigned int clients[MAX_LIST], nclients;
	unsigned int syncs, run; /* masks: bit i = bench_xsd_sync_names[i], wl_names[i] */
	long ops, tree_nodes, watch_samples;
	double seconds, tree_seconds, wait_seconds;
	const char *extra[MAX_EXTRA];
	unsigned int nextra;
	bool keep;
} opt = {
	.domains = { 10, 1000 }, .ndomains = 2,
	.clients = { 1, 8 }, .nclients = 2,
	.syncs = 3, .run = (1u << W_COUNT) - 1,
	.ops = 20000, .tree_nodes = 100000, .watch_samples = 2000,
	.seconds = 20, .tree_seconds = 120, .wait_seconds = 10,
};

/* One measured figure, kept for the 1000-vs-10-domain comparison. */
struct fig {
	int w, metric;
	unsigned int d, c, sync;
	double v;
};
static struct fig figs[MAX_FIGS];
static size_t nfigs;
static int failures;

/* What a client process sends back (one write, below PIPE_BUF). */
struct client_result {
	long ops, retries;
	double p50, p99; /* watch: seconds */
	unsigned int id; /* which client */
	int err;         /* errno of the failure, 0 when none */
	char what[160];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench_xenstored [options]\n"
		"Starts xenstored in a fresh run dir and drives it with libxenstore clients.\n"
		"  -d, --domains LIST     domains introduced (default 10,1000)\n"
		"  -c, --clients LIST     client processes per phase (default 1,8)\n"
		"  -n, --ops N            ops per client per phase (default 20000)\n"
		"  -T, --seconds S        time bound per phase (default 20)\n"
		"  -t, --tree N           nodes in the tree-building figure (default 100000; 0 skips)\n"
		"      --tree-seconds S   time bound of the tree build (default 120)\n"
		"  -w, --watch N          watch latency samples (default 2000; 0 skips)\n"
		"  -s, --sync LIST        daemon --sync modes of write and transaction (default\n"
		"                         default,always); the other workloads run under one of them\n"
		"  -W, --workloads LIST   of write,read,directory,transaction,watch,tree (default all)\n"
		"      --daemon PATH      xenstored binary (default: ../../xenstored/xenstored next\n"
		"                         to this binary, build/xenstored/xenstored, xenstored/xenstored)\n"
		"      --store URI        store URI; @DIR@ becomes the run dir (default lmdb:@DIR@/store)\n"
		"      --daemon-arg ARG   one more daemon argument (repeatable)\n"
		"      --tmpdir DIR       where run dirs are made (default $TMPDIR or /tmp)\n"
		"      --wait S           how long to wait for the daemon's socket (default 10)\n"
		"      --keep             keep the run dirs (store, xenstored.log)\n"
		"  -h, --help             this text\n"
		"Output: one line per figure: name, value, unit, target, ratio (value/target).\n");
}

static unsigned int parse_list(unsigned int *out, const char *s, unsigned int max, unsigned int hi)
{
	unsigned int n = 0;
	char *end;
	while (*s) {
		unsigned long v = strtoul(s, &end, 10);
		if (end == s || v == 0 || v > hi || n == max || (*end && *end != ','))
			bench_usage_die("bad number list: %s", s);
		out[n++] = (unsigned int)v;
		s = *end ? end + 1 : end;
	}
	if (!n)
		bench_usage_die("empty list");
	return n;
}

static double parse_num(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || v < 0)
		bench_usage_die("bad number: %s", s);
	return v;
}

static void parse_args(int argc, char **argv)
{
	enum { O_TREE_S = 256, O_DAEMON, O_STORE, O_DARG, O_TMP, O_WAIT, O_KEEP };
	static const struct option lo[] = {
		{ "domains", 1, NULL, 'd' }, { "clients", 1, NULL, 'c' }, { "ops", 1, NULL, 'n' },
		{ "seconds", 1, NULL, 'T' }, { "tree", 1, NULL, 't' }, { "watch", 1, NULL, 'w' },
		{ "sync", 1, NULL, 's' }, { "workloads", 1, NULL, 'W' }, { "help", 0, NULL, 'h' },
		{ "tree-seconds", 1, NULL, O_TREE_S }, { "daemon", 1, NULL, O_DAEMON },
		{ "store", 1, NULL, O_STORE }, { "daemon-arg", 1, NULL, O_DARG },
		{ "tmpdir", 1, NULL, O_TMP }, { "wait", 1, NULL, O_WAIT }, { "keep", 0, NULL, O_KEEP },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "d:c:n:T:t:w:s:W:h", lo, NULL)) != -1) {
		switch (c) {
		case 'd': opt.ndomains = parse_list(opt.domains, optarg, MAX_LIST, 65000); break;
		case 'c': opt.nclients = parse_list(opt.clients, optarg, MAX_LIST, MAX_CLIENTS); break;
		case 'n': opt.ops = (long)parse_num(optarg); break;
		case 'T': opt.seconds = parse_num(optarg); break;
		case 't': opt.tree_nodes = (long)parse_num(optarg); break;
		case 'w': opt.watch_samples = (long)parse_num(optarg); break;
		case 's':
			opt.syncs = bench_names_mask(optarg, bench_xsd_sync_names, 2, "name in list");
			break;
		case 'W':
			opt.run = bench_names_mask(optarg, wl_names, W_COUNT, "name in list");
			break;
		case 'h': usage(stdout); exit(0);
		case O_TREE_S: opt.tree_seconds = parse_num(optarg); break;
		case O_DAEMON: opt.daemon = optarg; break;
		case O_STORE: opt.store = optarg; break;
		case O_DARG:
			if (opt.nextra == MAX_EXTRA)
				bench_usage_die("too many --daemon-arg");
			opt.extra[opt.nextra++] = optarg;
			break;
		case O_TMP: opt.tmpdir = optarg; break;
		case O_WAIT: opt.wait_seconds = parse_num(optarg); break;
		case O_KEEP: opt.keep = true; break;
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc)
		bench_usage_die("unexpected argument: %s", argv[optind]);
	if (!opt.syncs || !opt.run)
		bench_usage_die("empty --sync or --workloads");
	if (opt.ops <= 0)
		bench_usage_die("-n must be positive");
}

/* ---- output ---- */

static void print_value(double v)
{
	printf(" %12.*f", v >= 1000 ? 0 : v >= 10 ? 1 : 2, v);
}

/*
 * One line: @cmp is '>' (value should be at least @target), '<' (at most),
 * or 0 (no target: the line is information).
 */
static void line(const char *name, double v, const char *unit, char cmp, double target)
{
	printf("%-46s", name);
	print_value(v);
	printf("  %-8s", unit);
	if (cmp) {
		char t[32];
		snprintf(t, sizeof(t), "%s %g", cmp == '>' ? ">=" : "<=", target);
		bool ok = cmp == '>' ? v >= target : v <= target;
		printf("  %-10s %7.2f  %s\n", t, v / target, ok ? "ok" : "MISS");
	} else {
		printf("  %-10s %7s\n", "-", "-");
	}
	fflush(stdout);
}

static void record(int w, int metric, unsigned int d, unsigned int c, unsigned int sync, double v)
{
	if (nfigs < MAX_FIGS)
		figs[nfigs++] = (struct fig){ w, metric, d, c, sync, v };
}

static const struct fig *find_fig(int w, int metric, unsigned int d, unsigned int c, unsigned int sync)
{
	for (size_t i = 0; i < nfigs; i++)
		if (figs[i].w == w && figs[i].metric == metric && figs[i].d == d && figs[i].c == c &&
		    figs[i].sync == sync)
			return &figs[i];
	return NULL;
}

/* Introduce domains 1..@d and give each /local/domain/<N>, owned by N. */
static bool setup_domains(struct bench_xsd *dm, unsigned int d)
{
	char path[64];
	double t0 = bench_now();
	for (unsigned int id = 1; id <= d; id++) {
		struct xs_permissions perm = { .id = id, .perms = XS_PERM_NONE };
		snprintf(path, sizeof(path), "/local/domain/%u", id);
		const char *what = NULL;
		if (!xs_introduce_domain(dm->h, id, id, 1))
			what = "introduce";
		else if (!xs_mkdir(dm->h, XBT_NULL, path))
			what = "mkdir";
		else if (!xs_set_permissions(dm->h, XBT_NULL, path, &perm, 1))
			what = "set_permissions";
		if (what) {
			fprintf(stderr, "%s: %s of domain %u: %s\n", BENCH_NAME, what, id, strerror(errno));
			failures++;
			return false;
		}
	}
	fprintf(stderr, "%s: introduced %u domains in %.2f s\n", BENCH_NAME, d, bench_now() - t0);
	return true;
}

/* ---- client processes ---- */

/* Note a client's failure (errno and what it was doing) in @r; false. */
static __attribute__((format(printf, 2, 3))) bool fail(struct client_result *r, const char *fmt, ...)
{
	va_list ap;
	r->err = errno ? errno : EIO;
	va_start(ap, fmt);
	vsnprintf(r->what, sizeof(r->what), fmt, ap);
	va_end(ap);
	return false;
}

/* One op of workload @w on key @j; false with @r filled on failure. */
static bool client_op(struct xs_handle *h, enum workload w, const char *base, long j,
		      struct client_result *r)
{
	char path[128], val[24];
	unsigned int len, n;
	snprintf(path, sizeof(path), "%s/k%ld", base, j % KEYS);
	int vlen = snprintf(val, sizeof(val), "v%ld", j);
	errno = 0;
	if (w == W_WRITE) {
		if (!xs_write(h, XBT_NULL, path, val, (unsigned int)vlen))
			return fail(r, "write %s", path);
	} else if (w == W_READ) {
		void *v = xs_read(h, XBT_NULL, path, &len);
		if (!v)
			return fail(r, "read %s", path);
		free(v);
	} else if (w == W_DIRECTORY) {
		char **v = xs_directory(h, XBT_NULL, base, &n);
		if (!v)
			return fail(r, "directory %s", base);
		free(v);
		if (j == 0 && n != KEYS)
			return errno = EINVAL, fail(r, "directory %s: %u entries, not %d", base, n, KEYS);
	} else {
		for (int tries = 0;; tries++) {
			xs_transaction_t t = xs_transaction_start(h);
			if (t == XBT_NULL)
				return fail(r, "transaction_start");
			if (!xs_write(h, t, path, val, (unsigned int)vlen)) {
				fail(r, "write %s in transaction", path);
				xs_transaction_end(h, t, true);
				return false;
			}
			if (xs_transaction_end(h, t, false))
				break;
			if (errno != EAGAIN || tries == 1000)
				return fail(r, "transaction_end (%d tries)", tries + 1);
			r->retries++;
		}
	}
	return true;
}

static void client_main(const struct bench_xsd *dm, enum workload w, unsigned int d, unsigned int i,
			int ready_fd, int go_fd, int res_fd)
{
	struct client_result r = { .id = i };
	char sock[PATH_MAX], base[96];
	unsigned int domid = i % d + 1;
	snprintf(sock, sizeof(sock), "%s/domain/%u", dm->dir, domid);
	/* ~/data; clients sharing a domain (more clients than domains) get ~/data-c<i> */
	snprintf(base, sizeof(base), i < d ? "/local/domain/%u/data" : "/local/domain/%u/data-c%u", domid, i);
	errno = 0;
	struct xs_handle *h = bench_xsd_open(sock);
	if (!h)
		fail(&r, "connect to %s as domain %u", sock, domid);
	else if (!xs_mkdir(h, XBT_NULL, base))
		fail(&r, "mkdir %s as domain %u", base, domid);
	else if (w == W_READ || w == W_DIRECTORY)
		for (long j = 0; j < KEYS; j++)
			if (!client_op(h, W_WRITE, base, j, &r))
				break;
	if (write(ready_fd, "r", 1) != 1)
		_exit(1);
	char c;
	while (read(go_fd, &c, 1) > 0)
		;
	double deadline = bench_now() + opt.seconds;
	for (long j = 0; !r.err && j < opt.ops; j++) {
		if ((j & 15) == 0 && bench_now() > deadline)
			break;
		if (!client_op(h, w, base, j, &r))
			break;
		r.ops++;
	}
	if (write(res_fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(1);
	xs_close(h);
	_exit(0);
}

/*
 * Fork @c clients (or, for watch, the watcher and the writer), let them
 * connect and prepare, release them together, and collect their results.
 * @res gets @c results; @secs_out the wall time, @cpu_out the daemon's CPU.
 */
static bool run_procs(struct bench_xsd *dm, enum workload w, unsigned int d, unsigned int c,
		      void (*body)(const struct bench_xsd *, enum workload, unsigned int, unsigned int, int, int, int),
		      struct client_result *res, double *secs_out, double *cpu_out)
{
	int ready[2], go[2], out[2];
	pid_t pids[MAX_CLIENTS] = { 0 };
	bool ok = false;
	if (pipe(ready) || pipe(go) || pipe(out)) {
		fprintf(stderr, "%s: pipe: %s\n", BENCH_NAME, strerror(errno));
		exit(1);
	}
	fflush(NULL);
	for (unsigned int i = 0; i < c; i++) {
		if ((pids[i] = fork()) < 0) {
			fprintf(stderr, "%s: fork: %s\n", BENCH_NAME, strerror(errno));
			while (i--)
				kill(pids[i], SIGKILL);
			exit(1);
		}
		if (pids[i] == 0) {
			close(ready[0]);
			close(go[1]);
			close(out[0]);
			body(dm, w, d, i, ready[1], go[0], out[1]);
			_exit(0);
		}
	}
	close(ready[1]);
	close(go[0]);
	close(out[1]);
	char buf[MAX_CLIENTS];
	double bound = opt.seconds + 60;
	if (!bench_read_full(ready[0], buf, c, 60)) {
		fprintf(stderr, "%s: %s clients never got ready\n", BENCH_NAME, wl_names[w]);
		close(go[1]);
		goto out;
	}
	double cpu0 = bench_xsd_cpu(dm->pid), t0 = bench_now();
	close(go[1]);
	for (unsigned int i = 0; i < c; i++) {
		struct client_result r;
		if (!bench_read_full(out[0], &r, sizeof(r), bound) || r.id >= c) {
			fprintf(stderr, "%s: %s client gave no result within %g s\n", BENCH_NAME,
				wl_names[w], bound);
			goto out;
		}
		res[r.id] = r;
	}
	*secs_out = bench_now() - t0;
	*cpu_out = bench_xsd_cpu(dm->pid) - cpu0;
	ok = true;
	for (unsigned int i = 0; i < c; i++)
		if (res[i].err) {
			fprintf(stderr, "%s: %s client %u: %s: %s\n", BENCH_NAME, wl_names[w], i,
				res[i].what, strerror(res[i].err));
			ok = false;
		}
out:
	close(ready[0]);
	close(out[0]);
	bench_reap(pids, c, 5);
	if (!ok)
		failures++;
	return ok;
}

static void run_clients(struct bench_xsd *dm, enum workload w, unsigned int d, unsigned int c)
{
	static const double cpu_target[W_COUNT] = { [W_WRITE] = 13, [W_READ] = 10, [W_TXN] = 40 };
	static const double ops_target[W_COUNT] = { [W_WRITE] = 40000, [W_READ] = 54000, [W_TXN] = 14000 };
	struct client_result res[MAX_CLIENTS];
	double secs, cpu;
	char name[96];
	if (!run_procs(dm, w, d, c, client_main, res, &secs, &cpu))
		return;
	long ops = 0, retries = 0;
	for (unsigned int i = 0; i < c; i++)
		ops += res[i].ops, retries += res[i].retries;
	if (ops < opt.ops * (long)c)
		fprintf(stderr, "%s: %s d%u c%u: time bound hit after %ld of %ld ops\n", BENCH_NAME,
			wl_names[w], d, c, ops, opt.ops * (long)c);
	const char *s = bench_xsd_sync_names[dm->sync];
	double rate = ops / secs, cpu_us = ops ? cpu * 1e6 / ops : 0;
	snprintf(name, sizeof(name), "%s d%u c%u %s ops/s", wl_names[w], d, c, s);
	line(name, rate, "ops/s", c == 8 && ops_target[w] ? '>' : 0, ops_target[w]);
	snprintf(name, sizeof(name), "%s d%u c%u %s daemon cpu/op", wl_names[w], d, c, s);
	line(name, cpu_us, "us", cpu_target[w] ? '<' : 0, cpu_target[w]);
	record(w, M_OPS, d, c, dm->sync, rate);
	record(w, M_CPU, d, c, dm->sync, cpu_us);
	if (w == W_TXN) {
		snprintf(name, sizeof(name), "%s d%u c%u %s EAGAIN retries", wl_names[w], d, c, s);
		line(name, (double)retries, "retries", 0, 0);
	}
}

/* ---- watch latency ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

#define WATCH_PATH "/local/domain/1/watched"

/* The watcher's acks to the writer, one byte per event (made before fork). */
static int ack[2];

/* Process 0 watches WATCH_PATH and acks each event on fd 3; 1 writes. */
static void watch_main(const struct bench_xsd *dm, enum workload w, unsigned int d, unsigned int i,
		       int ready_fd, int go_fd, int res_fd)
{
	struct client_result r = { .id = i };
	char sock[PATH_MAX], val[64], c;
	snprintf(sock, sizeof(sock), "%s/domain/1", dm->dir);
	errno = 0;
	struct xs_handle *h = bench_xsd_open(sock);
	double *lat = NULL;
	long n = 0, last = -1;
	if (!h) {
		fail(&r, "connect to %s", sock);
	} else if (i == 0) {
		struct pollfd p = { .fd = xs_fileno(h), .events = POLLIN };
		char **ev;
		if (!(lat = malloc(sizeof(*lat) * (size_t)opt.watch_samples)))
			fail(&r, "malloc");
		else if (!xs_write(h, XBT_NULL, WATCH_PATH, "init", 4))
			fail(&r, "write %s", WATCH_PATH);
		else if (!xs_watch(h, WATCH_PATH, "lat"))
			fail(&r, "watch %s", WATCH_PATH);
		else if (poll(&p, 1, 5000) <= 0 || !(ev = xs_check_watch(h)))
			fail(&r, "no initial watch event within 5 s");
		else
			free(ev);
	}
	if (write(ready_fd, "r", 1) != 1)
		_exit(1);
	while (read(go_fd, &c, 1) > 0)
		;
	if (i == 0) {
		struct pollfd p = { .fd = h ? xs_fileno(h) : -1, .events = POLLIN };
		while (!r.err) {
			char **ev;
			if (poll(&p, 1, 10000) <= 0) {
				fail(&r, "no watch event within 10 s");
				break;
			}
			while (!r.err && (ev = xs_check_watch(h))) {
				double t_recv = bench_now();
				unsigned int len;
				free(ev);
				char *v = xs_read(h, XBT_NULL, WATCH_PATH, &len);
				long seq;
				double t_write;
				if (!v) {
					fail(&r, "read %s", WATCH_PATH);
				} else if (!strcmp(v, "end")) {
					free(v);
					goto done;
				} else if (sscanf(v, "%ld %lf", &seq, &t_write) == 2 && seq != last) {
					last = seq;
					if (n < opt.watch_samples)
						lat[n++] = t_recv - t_write;
					if (write(ack[1], "a", 1) != 1)
						fail(&r, "ack pipe");
				}
				free(v);
			}
			if (!r.err && errno != EAGAIN)
				fail(&r, "check_watch");
		}
done:
		if (n) {
			qsort(lat, (size_t)n, sizeof(*lat), cmp_double);
			r.p50 = lat[n / 2];
			r.p99 = lat[n * 99 / 100];
		}
		r.ops = n;
		free(lat);
	} else if (!r.err) {
		double deadline = bench_now() + opt.seconds;
		for (long k = 0; k < opt.watch_samples && bench_now() < deadline; k++) {
			int len = snprintf(val, sizeof(val), "%ld %.9f", k, bench_now());
			if (!xs_write(h, XBT_NULL, WATCH_PATH, val, (unsigned int)len)) {
				fail(&r, "write %s", WATCH_PATH);
				break;
			}
			if (!bench_read_full(ack[0], &c, 1, 10)) {
				errno = ETIMEDOUT;
				fail(&r, "watcher did not see write %ld within 10 s", k);
				break;
			}
			r.ops++;
		}
		if (!xs_write(h, XBT_NULL, WATCH_PATH, "end", 3) && !r.err)
			fail(&r, "write end marker");
	}
	if (write(res_fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(1);
	xs_close(h);
	_exit(0);
}

static void run_watch(struct bench_xsd *dm, unsigned int d)
{
	struct client_result res[2];
	double secs, cpu;
	char name[96];
	if (pipe(ack)) {
		fprintf(stderr, "%s: pipe: %s\n", BENCH_NAME, strerror(errno));
		exit(1);
	}
	bool ok = run_procs(dm, W_WATCH, d, 2, watch_main, res, &secs, &cpu);
	close(ack[0]);
	close(ack[1]);
	if (!ok || !res[0].ops)
		return;
	const char *s = bench_xsd_sync_names[dm->sync];
	snprintf(name, sizeof(name), "watch d%u %s latency p50 (%ld)", d, s, res[0].ops);
	line(name, res[0].p50 * 1e6, "us", 0, 0);
	snprintf(name, sizeof(name), "watch d%u %s latency p99 (%ld)", d, s, res[0].ops);
	line(name, res[0].p99 * 1e6, "us", 0, 0);
	record(W_WATCH, M_P50, d, 2, dm->sync, res[0].p50 * 1e6);
	record(W_WATCH, M_P99, d, 2, dm->sync, res[0].p99 * 1e6);
}

/* ---- tree building ---- */

static void run_tree(struct bench_xsd *dm)
{
	char path[96], name[96];
	long dirs = opt.tree_nodes < 1000 ? opt.tree_nodes : 1000, done = 0;
	for (long k = 0; k < dirs; k++) {
		snprintf(path, sizeof(path), "/local/domain/%ld/data", k);
		if (!xs_mkdir(dm->h, XBT_NULL, path)) {
			fprintf(stderr, "%s: tree: mkdir %s: %s\n", BENCH_NAME, path, strerror(errno));
			failures++;
			return;
		}
	}
	long anon0 = bench_xsd_kb(dm->pid, "RssAnon"), file0 = bench_xsd_kb(dm->pid, "RssFile");
	double cpu0 = bench_xsd_cpu(dm->pid), t0 = bench_now(), deadline = t0 + opt.tree_seconds;
	for (long i = 0; i < opt.tree_nodes; i++) {
		if ((i & 255) == 0 && bench_now() > deadline) {
			fprintf(stderr, "%s: tree: time bound hit after %ld of %ld creates\n", BENCH_NAME,
				i, opt.tree_nodes);
			break;
		}
		snprintf(path, sizeof(path), "/local/domain/%ld/data/key%ld", i % 1000, i / 1000);
		if (!xs_write(dm->h, XBT_NULL, path, "1", 1)) {
			fprintf(stderr, "%s: tree: write %s: %s\n", BENCH_NAME, path, strerror(errno));
			failures++;
			break;
		}
		done++;
	}
	double secs = bench_now() - t0, cpu = bench_xsd_cpu(dm->pid) - cpu0;
	long anon1 = bench_xsd_kb(dm->pid, "RssAnon"), file1 = bench_xsd_kb(dm->pid, "RssFile");
	if (!done)
		return;
	const char *s = bench_xsd_sync_names[dm->sync];
	double bnode = (double)(anon1 - anon0) * 1024 / (double)done;
	snprintf(name, sizeof(name), "tree %ld nodes %s creates/s", done, s);
	line(name, done / secs, "ops/s", '>', 20000);
	snprintf(name, sizeof(name), "tree %ld nodes %s RssAnon growth/node", done, s);
	line(name, bnode, "B", '<', 134);
	snprintf(name, sizeof(name), "tree %ld nodes %s daemon cpu/create", done, s);
	line(name, cpu * 1e6 / (double)done, "us", 0, 0);
	snprintf(name, sizeof(name), "tree %ld nodes %s RssAnon after", done, s);
	line(name, (double)anon1, "kB", 0, 0);
	snprintf(name, sizeof(name), "tree %ld nodes %s RssFile growth", done, s);
	line(name, (double)(file1 - file0), "kB", 0, 0);
	record(W_TREE, M_CREATES, 0, 1, dm->sync, done / secs);
	record(W_TREE, M_BNODE, 0, 1, dm->sync, bnode);
}

/* ---- summary ---- */

/* The smallest or (@max) the largest of @n values. */
static unsigned int pick(const unsigned int *v, unsigned int n, bool max)
{
	unsigned int r = v[0];
	for (unsigned int i = 1; i < n; i++)
		r = (v[i] > r) == max ? v[i] : r;
	return r;
}

/* Each figure at the largest domain count against the smallest (target 1.2x). */
static void print_scaling(void)
{
	unsigned int dlo = pick(opt.domains, opt.ndomains, false), dhi = pick(opt.domains, opt.ndomains, true);
	char name[96];
	if (dlo == dhi)
		return;
	printf("\n%u-domain figures against the %u-domain ones (slowdown: higher is worse)\n", dhi, dlo);
	for (size_t i = 0; i < nfigs; i++) {
		const struct fig *lo = &figs[i], *hi;
		if (lo->d != dlo || !(hi = find_fig(lo->w, lo->metric, dhi, lo->c, lo->sync)))
			continue;
		if (lo->v <= 0 || hi->v <= 0)
			continue;
		double slow = lo->metric == M_OPS ? lo->v / hi->v : hi->v / lo->v;
		if (lo->w == W_WATCH)
			snprintf(name, sizeof(name), "watch %s %s d%u/d%u", bench_xsd_sync_names[lo->sync],
				 metric_names[lo->metric], dhi, dlo);
		else
			snprintf(name, sizeof(name), "%s c%u %s %s d%u/d%u", wl_names[lo->w], lo->c,
				 bench_xsd_sync_names[lo->sync], metric_names[lo->metric], dhi, dlo);
		line(name, slow, "x", '<', 1.2);
	}
}

/* Ours against Xen 4.17's C and OCaml xenstored (figures quoted in the issue). */
static void print_reference(unsigned int rsync)
{
	static const struct { int w, metric; double c_xsd, o_xsd; const char *what; } refs[] = {
		{ W_WRITE, M_CPU, 13.2, 0, "cpu/write us" },
		{ W_READ, M_CPU, 13.5, 0, "cpu/read us" },
		{ W_TXN, M_CPU, 41, 0, "cpu/transaction us" },
		{ W_TREE, M_CREATES, 3900, 18900, "tree creates/s" },
		{ W_TREE, M_BNODE, 134, 161, "tree RssAnon B/node" },
	};
	unsigned int d = pick(opt.domains, opt.ndomains, false), c = pick(opt.clients, opt.nclients, true);
	printf("\nReference (from the issue): Xen 4.17 C xenstored 13.2 / 13.5 / 41 us daemon CPU per\n"
	       "write / read / transaction, 3.9k creates/s, 134 B/node; OCaml xenstored 18.9k creates/s,\n"
	       "161 B/node. Ours at d%u c%u --sync %s; ratio = ours / theirs.\n", d, c, bench_xsd_sync_names[rsync]);
	printf("%-22s %12s %12s %8s %12s %8s\n", "figure", "ours", "C 4.17", "ratio", "OCaml", "ratio");
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		const struct fig *f = refs[i].w == W_TREE ? find_fig(refs[i].w, refs[i].metric, 0, 1, rsync)
							  : find_fig(refs[i].w, refs[i].metric, d, c, rsync);
		if (!f)
			continue;
		printf("%-22s %12.1f %12.1f %8.2f", refs[i].what, f->v, refs[i].c_xsd, f->v / refs[i].c_xsd);
		if (refs[i].o_xsd)
			printf(" %12.1f %8.2f", refs[i].o_xsd, f->v / refs[i].o_xsd);
		printf("\n");
	}
}

/* Start a daemon for one group of phases; a daemon that will not start is fatal. */
static void start(struct bench_xsd *dm, const struct bench_xsd_opts *o, unsigned int sync)
{
	if (!bench_xsd_start(dm, o, sync)) {
		fprintf(stderr, "%s: cannot run without the daemon; stopping\n", BENCH_NAME);
		exit(1);
	}
}

/* The daemon still runs; its death counts as one failure. */
static bool alive(struct bench_xsd *dm)
{
	bool was = dm->pid > 0, now = bench_xsd_alive(dm);
	failures += was && !now;
	return now;
}

#define RUN(w) (opt.run & (1u << (w)))

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	struct bench_xsd_opts o = { .bin = bench_xsd_find(opt.daemon), .store = opt.store,
				    .tmpdir = opt.tmpdir, .extra = opt.extra, .nextra = opt.nextra,
				    .wait = opt.wait_seconds, .keep = opt.keep };
	if (!o.bin)
		return 2;
	const char *tmp = bench_xsd_tmpdir(opt.tmpdir);
	/* read-only workloads, watches and the tree run once, under this mode */
	unsigned int rsync = opt.syncs & 1 ? 0 : 1;
	printf("bench_xenstored: daemon %s, store %s, run dirs in %s (%s)\n", o.bin,
	       opt.store ? opt.store : "lmdb:@DIR@/store", tmp, bench_xsd_fs_kind(tmp));
	printf("%ld ops per client per phase (bound %g s); CPU from /proc/PID/stat (%ld ticks/s)\n\n",
	       opt.ops, opt.seconds, sysconf(_SC_CLK_TCK));
	printf("%-46s %12s  %-8s  %-10s %7s\n", "figure", "value", "unit", "target", "ratio");
	for (unsigned int di = 0; di < opt.ndomains; di++) {
		unsigned int d = opt.domains[di];
		for (unsigned int s = 0; s < 2; s++) {
			bool ro = s == rsync;
			if (!(opt.syncs & (1u << s)) || (!RUN(W_WRITE) && !RUN(W_TXN) &&
			    !(ro && (RUN(W_READ) || RUN(W_DIRECTORY) || RUN(W_WATCH)))))
				continue;
			struct bench_xsd dm;
			start(&dm, &o, s);
			if (setup_domains(&dm, d)) {
				for (int w = W_WRITE; w <= W_TXN; w++) {
					if (!RUN(w) || (!ro && (w == W_READ || w == W_DIRECTORY)))
						continue;
					for (unsigned int ci = 0; ci < opt.nclients && alive(&dm); ci++)
						run_clients(&dm, (enum workload)w, d, opt.clients[ci]);
				}
				if (ro && RUN(W_WATCH) && opt.watch_samples > 0 && alive(&dm))
					run_watch(&dm, d);
			}
			alive(&dm);
			bench_xsd_stop(&dm, opt.keep);
		}
	}
	if (RUN(W_TREE) && opt.tree_nodes > 0) {
		struct bench_xsd dm;
		start(&dm, &o, rsync);
		run_tree(&dm);
		alive(&dm);
		bench_xsd_stop(&dm, opt.keep);
	}
	if (nfigs) {
		print_scaling();
		print_reference(rsync);
	}
	if (failures)
		fprintf(stderr, "%s: %d failure(s)\n", BENCH_NAME, failures);
	return failures ? 1 : 0;
}
