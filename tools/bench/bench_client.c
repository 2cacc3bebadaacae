/* SPDX-License-Identifier: MIT */
/*
 * bench_client: libvsclient against Debian's libxenstore on the same daemon
 * in the same run. The bench starts build/xenstored/xenstored itself (as
 * bench_xenstored does, bench_xsd.h), introduces domain 1 with its
 * /local/domain/1 and ~/data holding 100 keys, and then, over one connection
 * to the per-domain socket DIR/domain/1 (an unprivileged guest, as in the
 * daemon benchmark), measures the daemon benchmark's operations
 *
 *   write      a small value to ~/data/k<j % 100>
 *   read       the same keys
 *   directory  ~/data (100 entries)
 *
 * with (a) libxenstore (xs_write / xs_read / xs_directory, one request at a
 * time, as it allows), (b) libvsclient's synchronous calls and (c) its
 * asynchronous form on a libuv loop with -i (64) requests in flight, each
 * callback issuing the next. Per figure: ops/s, the daemon's CPU per op and
 * this process's; then b/a and c/a against the issue's targets (sync >=
 * 1.0x, async >= 2.0x). The three take turns in ROUNDS slices of each
 * workload, and the whole is repeated -r (3) times since the machine is
 * shared; the summary takes the median ratio. A benchmark, not a test:
 * misses do not change the exit status, errors do.
 *
 * usage: bench_client --help
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <uv.h>
#include <vsclient/async.h>
#include <vsclient/client.h>
#include <xenstore.h>

#define BENCH_NAME "bench_client"
#include "bench_util.h"
#include "bench_xsd.h"

#define KEYS 100
#define DOMID 1
#define BASE "/local/domain/1/data"
#define MAX_RUNS 16
#define ROUNDS 20 /* turns each client takes per figure */

enum workload { W_WRITE, W_READ, W_DIRECTORY, W_COUNT };
static const char *const wl_names[W_COUNT] = {"write", "read", "directory"};
enum client_kind { C_LIBXS, C_SYNC, C_ASYNC, C_COUNT };
static const char *const kind_names[C_COUNT] = {"libxenstore", "vsclient sync", "vsclient async"};

static struct {
	const char *daemon, *store, *tmpdir;
	long ops;
	unsigned int runs, inflight, mask;
	double seconds, wait_seconds;
	bool keep;
} opt = {
    .ops = 20000,
    .runs = 3,
    .inflight = 64,
    .mask = (1u << W_COUNT) - 1,
    .seconds = 10,
    .wait_seconds = 10,
};

/* ops/s, daemon and client (this process) CPU µs/op of every (run, workload, client). */
static double rate[MAX_RUNS][W_COUNT][C_COUNT], cpu_us[MAX_RUNS][W_COUNT][C_COUNT],
    self_us[MAX_RUNS][W_COUNT][C_COUNT];
static int failures;

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: bench_client [options]\n"
	    "Starts xenstored and compares libvsclient (sync and async) with libxenstore on it.\n"
	    "  -n, --ops N          ops per figure (default 20000)\n"
	    "  -T, --seconds S      time bound per figure (default 10)\n"
	    "  -r, --runs N         repetitions of the whole (default 3, at most %d)\n"
	    "  -i, --inflight N     requests in flight in the async form (default 64)\n"
	    "  -W, --workloads LIST of write,read,directory (default all)\n"
	    "      --daemon PATH    xenstored binary (default: found as bench_xenstored does)\n"
	    "      --store URI      store URI; @DIR@ becomes the run dir (default "
	    "lmdb:@DIR@/store)\n"
	    "      --tmpdir DIR     where the run dir is made (default $TMPDIR or /tmp)\n"
	    "      --wait S         how long to wait for the daemon's socket (default 10)\n"
	    "      --keep           keep the run dir\n"
	    "  -h, --help           this text\n",
	    MAX_RUNS);
}

static double parse_num(const char *s, double lo, double hi)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || v < lo || v > hi)
		bench_usage_die("bad number: %s (%g..%g)", s, lo, hi);
	return v;
}

static void parse_args(int argc, char **argv)
{
	enum { O_DAEMON = 256, O_STORE, O_TMP, O_WAIT, O_KEEP };
	static const struct option lo[] = {
	    {"ops", 1, NULL, 'n'},	   {"seconds", 1, NULL, 'T'},	{"runs", 1, NULL, 'r'},
	    {"inflight", 1, NULL, 'i'},	   {"workloads", 1, NULL, 'W'}, {"help", 0, NULL, 'h'},
	    {"daemon", 1, NULL, O_DAEMON}, {"store", 1, NULL, O_STORE}, {"tmpdir", 1, NULL, O_TMP},
	    {"wait", 1, NULL, O_WAIT},	   {"keep", 0, NULL, O_KEEP},	{NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "n:T:r:i:W:h", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			opt.ops = (long)parse_num(optarg, 1, 1e9);
			break;
		case 'T':
			opt.seconds = parse_num(optarg, 0.1, 1e6);
			break;
		case 'r':
			opt.runs = (unsigned int)parse_num(optarg, 1, MAX_RUNS);
			break;
		case 'i':
			opt.inflight = (unsigned int)parse_num(optarg, 1, 4096);
			break;
		case 'W':
			opt.mask = bench_names_mask(optarg, wl_names, W_COUNT, "workload in");
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case O_DAEMON:
			opt.daemon = optarg;
			break;
		case O_STORE:
			opt.store = optarg;
			break;
		case O_TMP:
			opt.tmpdir = optarg;
			break;
		case O_WAIT:
			opt.wait_seconds = parse_num(optarg, 0, 1e6);
			break;
		case O_KEEP:
			opt.keep = true;
			break;
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc)
		bench_usage_die("unexpected argument: %s", argv[optind]);
	if (!opt.mask)
		bench_usage_die("empty --workloads");
}

/* The path and value of op @j. */
static int op_args(char *path, size_t plen, char *val, size_t vlen, long j)
{
	snprintf(path, plen, BASE "/k%ld", j % KEYS);
	return snprintf(val, vlen, "v%ld", j);
}

/* ---- (a) libxenstore ---- */

static bool libxs_op(struct xs_handle *h, enum workload w, long j)
{
	char path[64], val[24];
	unsigned int n;
	int vlen = op_args(path, sizeof(path), val, sizeof(val), j);
	errno = 0;
	if (w == W_WRITE) {
		if (xs_write(h, XBT_NULL, path, val, (unsigned int)vlen))
			return true;
	} else if (w == W_READ) {
		char *v = xs_read(h, XBT_NULL, path, &n);
		bool ok = v && n && v[0] == 'v'; /* every value is "v<j>" */
		free(v);
		if (ok)
			return true;
	} else {
		char **v = xs_directory(h, XBT_NULL, BASE, &n);
		bool ok = v && (j || n == KEYS);
		free(v);
		if (ok)
			return true;
	}
	fprintf(stderr, "%s: libxenstore %s %s: %s\n", BENCH_NAME, wl_names[w], path,
		errno ? strerror(errno) : "wrong result");
	return false;
}

/* Ops @from .. @to - 1 of workload @w, or fewer when @deadline passes: how many, -1 on error. */
static long run_libxs(struct xs_handle *h, enum workload w, long from, long to, double deadline)
{
	long j = from;
	for (; j < to; j++) {
		if ((j & 63) == 0 && bench_now() > deadline)
			break;
		if (!libxs_op(h, w, j))
			return -1;
	}
	return j - from;
}

/* ---- (b) libvsclient, synchronous ---- */

static long run_sync(struct vsc_client *c, enum workload w, long from, long to, double deadline)
{
	struct vs_buf b = VS_BUF_INIT;
	struct vs_strarray a;
	char path[64], val[24];
	int err = 0;
	long j = from;
	for (; j < to && err >= 0; j++) {
		if ((j & 63) == 0 && bench_now() > deadline)
			break;
		int vlen = op_args(path, sizeof(path), val, sizeof(val), j);
		if (w == W_WRITE) {
			err = vsc_write(c, VSC_TXN_NONE, path, val, (size_t)vlen);
		} else if (w == W_READ) {
			if ((err = vsc_read(&b, c, VSC_TXN_NONE, path)) >= 0 && b.ptr[0] != 'v')
				err = vs_error_set(VS_EIO, "%s: unexpected value", path);
		} else if ((err = vsc_directory(&a, c, VSC_TXN_NONE, BASE)) >= 0) {
			if (!j && a.count != KEYS)
				err = vs_error_set(VS_EIO, "%zu entries, not %d", a.count, KEYS);
			vs_strarray_dispose(&a);
		}
	}
	vs_buf_release(&b);
	if (err < 0) {
		fprintf(stderr, "%s: vsclient sync %s: %s\n", BENCH_NAME, wl_names[w],
			vs_error_last()->message);
		return -1;
	}
	return j - from;
}

/* ---- (c) libvsclient, asynchronous ---- */

struct async_run {
	struct vsc_async *a;
	enum workload w;
	long issued, done, to; /* ops issued and answered; issued stops at to */
	double deadline;
	int err; /* the first error */
	char msg[200];
};

static void issue(struct async_run *r);

static void finished(struct async_run *r, int err)
{
	r->done++;
	if (err < 0 && !r->err) {
		r->err = err;
		snprintf(r->msg, sizeof(r->msg), "%s", vs_error_last()->message);
	}
	if (!r->err)
		issue(r);
}

static void done_cb(void *payload, int err)
{
	finished(payload, err);
}

static void read_cb(void *payload, int err, struct vs_buf *value)
{
	if (err >= 0 && value->ptr[0] != 'v')
		err = vs_error_set(VS_EIO, "unexpected value \"%s\"", value->ptr);
	finished(payload, err);
}

static void list_cb(void *payload, int err, struct vs_strarray *list)
{
	struct async_run *r = payload;
	if (err >= 0 && r->done == 0 && list->count != KEYS)
		err = vs_error_set(VS_EIO, "%zu entries, not %d", list->count, KEYS);
	finished(r, err);
}

/* Send one more op unless all were sent or time is up. */
static void issue(struct async_run *r)
{
	char path[64], val[24];
	int err;
	if (r->issued == r->to || ((r->issued & 63) == 0 && bench_now() > r->deadline)) {
		r->deadline = 0; /* time is up for everyone */
		return;
	}
	int vlen = op_args(path, sizeof(path), val, sizeof(val), r->issued);
	if (r->w == W_WRITE)
		err = vsc_async_write(r->a, VSC_TXN_NONE, path, val, (size_t)vlen, done_cb, r);
	else if (r->w == W_READ)
		err = vsc_async_read(r->a, VSC_TXN_NONE, path, read_cb, r);
	else
		err = vsc_async_directory(r->a, VSC_TXN_NONE, BASE, list_cb, r);
	if (err < 0) {
		r->err = err;
		snprintf(r->msg, sizeof(r->msg), "%s", vs_error_last()->message);
		return;
	}
	r->issued++;
}

static long run_async(struct vsc_client *c, uv_loop_t *loop, enum workload w, long from, long to,
		      double deadline)
{
	struct async_run r = {.w = w, .issued = from, .to = to, .deadline = deadline};
	if (vsc_async_new(&r.a, c, loop, NULL, NULL) < 0) {
		fprintf(stderr, "%s: vsc_async_new: %s\n", BENCH_NAME, vs_error_last()->message);
		return -1;
	}
	for (unsigned int i = 0; i < opt.inflight && !r.err; i++)
		issue(&r);
	/* The loop ends once nothing is in flight: every callback ran. */
	uv_run(loop, UV_RUN_DEFAULT);
	vsc_async_close(r.a);
	uv_run(loop, UV_RUN_DEFAULT);
	if (r.err) {
		fprintf(stderr, "%s: vsclient async %s: %s\n", BENCH_NAME, wl_names[w], r.msg);
		return -1;
	}
	return r.done;
}

/* ---- the measurement ---- */

/* This process's CPU time (user + system) in seconds. */
static double self_cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct conns {
	struct xs_handle *xs;
	struct vsc_client *c;
	uv_loop_t loop;
};

/*
 * One figure per client for workload @w in run @run. The clients take turns
 * in ROUNDS slices of the ops (a, b, c, a, b, c...), so that a change of
 * load on the shared machine hits all three alike; each client's time, and
 * the daemon's and this process's CPU, are summed over its slices.
 */
static bool measure(struct bench_xsd *dm, struct conns *k, unsigned int run, enum workload w)
{
	double secs[C_COUNT] = {0}, cpu[C_COUNT] = {0}, self[C_COUNT] = {0};
	long done[C_COUNT] = {0};
	for (int round = 0; round < ROUNDS; round++) {
		long from = opt.ops * round / ROUNDS, to = opt.ops * (round + 1) / ROUNDS;
		for (int ck = 0; ck < C_COUNT; ck++) {
			double cpu0 = bench_xsd_cpu(dm->pid), self0 = self_cpu(), t0 = bench_now();
			double deadline = t0 + opt.seconds / ROUNDS;
			long n = ck == C_LIBXS	? run_libxs(k->xs, w, from, to, deadline)
				 : ck == C_SYNC ? run_sync(k->c, w, from, to, deadline)
						: run_async(k->c, &k->loop, w, from, to, deadline);
			if (n <= 0)
				return false;
			secs[ck] += bench_now() - t0;
			cpu[ck] += bench_xsd_cpu(dm->pid) - cpu0;
			self[ck] += self_cpu() - self0;
			done[ck] += n;
		}
	}
	for (int ck = 0; ck < C_COUNT; ck++) {
		if (done[ck] < opt.ops)
			fprintf(stderr, "%s: run %u %s %s: time bound hit after %ld of %ld ops\n",
				BENCH_NAME, run + 1, wl_names[w], kind_names[ck], done[ck],
				opt.ops);
		rate[run][w][ck] = (double)done[ck] / secs[ck];
		cpu_us[run][w][ck] = cpu[ck] * 1e6 / (double)done[ck];
		self_us[run][w][ck] = self[ck] * 1e6 / (double)done[ck];
		printf("run %u  %-10s %-15s %10.0f ops/s  %7.1f us daemon cpu/op  "
		       "%6.2f us client cpu/op\n",
		       run + 1, wl_names[w], kind_names[ck], rate[run][w][ck], cpu_us[run][w][ck],
		       self_us[run][w][ck]);
	}
	fflush(stdout);
	return true;
}

/* Domain 1 with its home, and ~/data holding the keys, through dom0's handle. */
static bool prepare(struct bench_xsd *dm)
{
	struct xs_permissions perm = {.id = DOMID, .perms = XS_PERM_NONE};
	char path[64], val[24];
	if (!xs_introduce_domain(dm->h, DOMID, 1, 1) ||
	    !xs_mkdir(dm->h, XBT_NULL, "/local/domain/1") ||
	    !xs_set_permissions(dm->h, XBT_NULL, "/local/domain/1", &perm, 1) ||
	    !xs_mkdir(dm->h, XBT_NULL, BASE) ||
	    !xs_set_permissions(dm->h, XBT_NULL, BASE, &perm, 1)) {
		fprintf(stderr, "%s: preparing domain 1: %s\n", BENCH_NAME, strerror(errno));
		return false;
	}
	for (long j = 0; j < KEYS; j++) {
		int vlen = op_args(path, sizeof(path), val, sizeof(val), j);
		if (!xs_write(dm->h, XBT_NULL, path, val, (unsigned int)vlen)) {
			fprintf(stderr, "%s: write %s: %s\n", BENCH_NAME, path, strerror(errno));
			return false;
		}
	}
	return true;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

/* The median over the runs of @f(run). */
static double median(double (*f)(unsigned int, enum workload, enum client_kind), enum workload w,
		     enum client_kind ck)
{
	double v[MAX_RUNS];
	for (unsigned int i = 0; i < opt.runs; i++)
		v[i] = f(i, w, ck);
	qsort(v, opt.runs, sizeof(v[0]), cmp_double);
	return opt.runs % 2 ? v[opt.runs / 2] : (v[opt.runs / 2 - 1] + v[opt.runs / 2]) / 2;
}

static double ratio_of(unsigned int run, enum workload w, enum client_kind ck)
{
	return rate[run][w][C_LIBXS] > 0 ? rate[run][w][ck] / rate[run][w][C_LIBXS] : 0;
}

static double rate_of(unsigned int run, enum workload w, enum client_kind ck)
{
	return rate[run][w][ck];
}

static void summary(void)
{
	static const double target[C_COUNT] = {0, 1.0, 2.0};
	printf("\n%-10s %-15s %12s %10s  %-8s %s\n", "workload", "client", "ops/s (med)", "ratio/a",
	       "target", "per run (ratio to libxenstore)");
	for (int w = 0; w < W_COUNT; w++) {
		if (!(opt.mask & (1u << w)))
			continue;
		for (int ck = 0; ck < C_COUNT; ck++) {
			double m = median(ratio_of, (enum workload)w, (enum client_kind)ck);
			printf("%-10s %-15s %12.0f", wl_names[w], kind_names[ck],
			       median(rate_of, (enum workload)w, (enum client_kind)ck));
			if (!ck) {
				printf(" %10s  %-8s", "-", "-");
			} else {
				char t[16];
				snprintf(t, sizeof(t), ">= %.1f", target[ck]);
				printf(" %9.2fx  %-8s", m, t);
			}
			for (unsigned int i = 0; i < opt.runs; i++)
				printf(" %.2f",
				       ratio_of(i, (enum workload)w, (enum client_kind)ck));
			printf("%s\n", ck ? (m >= target[ck] ? "  ok" : "  MISS") : "");
		}
	}
}

int main(int argc, char **argv)
{
	char sock[PATH_MAX], uri[PATH_MAX + 8];
	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	struct bench_xsd_opts o = {.bin = bench_xsd_find(opt.daemon),
				   .store = opt.store,
				   .tmpdir = opt.tmpdir,
				   .wait = opt.wait_seconds,
				   .keep = opt.keep};
	if (!o.bin)
		return 2;
	struct bench_xsd dm;
	if (!bench_xsd_start(&dm, &o, 0))
		return 1;
	printf("bench_client: daemon %s (--sync default), store %s, run dir %s (%s)\n", o.bin,
	       opt.store ? opt.store : "lmdb:@DIR@/store", dm.dir, bench_xsd_fs_kind(dm.dir));
	printf("one connection to DIR/domain/%d per client; %ld ops per figure (bound %g s); "
	       "async: %u in flight; %u runs\n\n",
	       DOMID, opt.ops, opt.seconds, opt.inflight, opt.runs);
	struct conns k = {0};
	snprintf(sock, sizeof(sock), "%s/domain/%d", dm.dir, DOMID);
	snprintf(uri, sizeof(uri), "unix:%s", sock);
	if (!prepare(&dm) || !(k.xs = bench_xsd_open(sock)) || vsc_client_open(&k.c, uri) < 0 ||
	    uv_loop_init(&k.loop) < 0) {
		fprintf(stderr, "%s: connecting to %s: %s / %s\n", BENCH_NAME, sock,
			strerror(errno), vs_error_last()->message);
		failures++;
	} else {
		for (unsigned int run = 0; run < opt.runs && !failures; run++)
			for (int w = 0; w < W_COUNT && !failures; w++)
				if ((opt.mask & (1u << w)) &&
				    (!bench_xsd_alive(&dm) ||
				     !measure(&dm, &k, run, (enum workload)w)))
					failures++;
		if (!failures)
			summary();
		uv_loop_close(&k.loop);
	}
	vsc_client_close(k.c);
	if (k.xs)
		xs_close(k.xs);
	if (!bench_xsd_alive(&dm))
		failures++;
	bench_xsd_stop(&dm, opt.keep);
	if (failures)
		fprintf(stderr, "%s: %d failure(s)\n", BENCH_NAME, failures);
	return failures ? 1 : 0;
}
