/* SPDX-License-Identifier: MIT */
/*
 * xenstored: the command line (options compatible with Xen's C xenstored
 * where they mean the same), start-up, detaching and shutdown. Start-up
 * happens after the fork, because an LMDB environment must not cross one;
 * the parent waits on a pipe until the child is ready (exit 0) or has failed
 * (the child's exit status), so start-up errors still reach the terminal.
 * SIGTERM/SIGINT stop accepting, commit and sync what was taken, close every
 * connection and free everything; SIGHUP reopens the trace file and, with
 * --policy, the audit file and the policy (mac_glue.c).
 */
#include "daemon.h"
#include "mac_glue.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_STORE "lmdb:/var/lib/vstore/xenstore"
#define DEFAULT_RUN_DIR "/var/run/xenstored"
#define DEFAULT_EVENT_TIMEOUT 20
#define MAX_INFLIGHT 1024u
#define DOMID_FIRST_RESERVED 0x7FF0u
#define EXIT_USAGE 2
#define DEFAULT_WRL_RATE 200u /* C xenstored's WRL_RATE and WRL_DBURST */
#define DEFAULT_WRL_BURST 10u

struct options {
	bool no_fork, verbose, keep_orphans, sync_always;
	int domains; /* enum xsd_domains_mode; -1: xen when available */
	const char *pid_file, *trace_file, *store, *run_dir;
	unsigned int priv_domid, master_domid, event_timeout;
	unsigned int wrl_rate, wrl_burst;
	struct xsd_quota quota;
	struct xsd_retention retention;
	struct xsd_mac_glue_opts mac;
};

/* Everything the running daemon owns. */
struct daemon_main {
	struct xsd_daemon d;
	uv_loop_t loop;
	uv_signal_t sig_term, sig_int, sig_hup;
	char *trace_path; /* absolute, for SIGHUP */
	char *pid_file;	  /* absolute; removed at exit once written */
	struct xsd_mac_glue *mac; /* --policy: mandatory access control, or NULL */
	bool pid_written, loop_started, signals_started, xen_started;
};

enum { OPT_STORE = 256, OPT_RUN_DIR, OPT_DOMAINS, OPT_SYNC, OPT_WRL_RATE, OPT_WRL_BURST,
       OPT_KEEP_LAST, OPT_KEEP_NEWER, OPT_GC_EVERY };

static const struct option long_options[] = {
    {"no-fork", no_argument, NULL, 'N'},
    {"pid-file", required_argument, NULL, 'F'},
    {"trace-file", required_argument, NULL, 'T'},
    {"verbose", no_argument, NULL, 'V'},
    {"entry-nb", required_argument, NULL, 'E'},
    {"entry-size", required_argument, NULL, 'S'},
    {"watch-nb", required_argument, NULL, 'W'},
    {"transaction", required_argument, NULL, 't'},
    {"perm-nb", required_argument, NULL, 'A'},
    {"path-max", required_argument, NULL, 'M'},
    {"quota", required_argument, NULL, 'Q'},
    {"quota-soft", required_argument, NULL, 'q'},
    {"timeout", required_argument, NULL, 'w'},
    {"keep-orphans", no_argument, NULL, 'K'},
    {"priv-domid", required_argument, NULL, 'p'},
    {"master-domid", required_argument, NULL, 'm'},
    {"help", no_argument, NULL, 'h'},
    {"store", required_argument, NULL, OPT_STORE},
    {"run-dir", required_argument, NULL, OPT_RUN_DIR},
    {"domains", required_argument, NULL, OPT_DOMAINS},
    {"sync", required_argument, NULL, OPT_SYNC},
    {"wrl-rate", required_argument, NULL, OPT_WRL_RATE},
    {"wrl-burst", required_argument, NULL, OPT_WRL_BURST},
    {"keep-last", required_argument, NULL, OPT_KEEP_LAST},
    {"keep-newer-than", required_argument, NULL, OPT_KEEP_NEWER},
    {"gc-every", required_argument, NULL, OPT_GC_EVERY},
    {"policy", required_argument, NULL, XSD_MAC_OPT_POLICY},
    {"mac", required_argument, NULL, XSD_MAC_OPT_MODE},
    {"check-policy", required_argument, NULL, XSD_MAC_OPT_CHECK},
    {"audit-file", required_argument, NULL, XSD_MAC_OPT_AUDIT_FILE},
    {"audit-grants", no_argument, NULL, XSD_MAC_OPT_AUDIT_GRANTS},
    {NULL, 0, NULL, 0},
};

static void usage(void)
{
	struct xsd_quota q;

	xsd_quota_defaults(&q);
	printf("Usage: xenstored [OPTION]...\n"
	       "The Xenstore daemon, on a versioned store: every change is a commit.\n\n"
	       "  -N, --no-fork             stay in the foreground (default: detach once\n"
	       "                            the socket accepts connections)\n"
	       "  -F, --pid-file FILE       write the daemon's pid to FILE once it is ready\n"
	       "  -T, --trace-file FILE     log every request, reply and event to FILE\n"
	       "                            (reopened on SIGHUP)\n"
	       "  -V, --verbose             also log connections (stderr; syslog once detached)\n"
	       "  -E, --entry-nb N          nodes a domain may own (quota nodes)\n"
	       "  -S, --entry-size N        bytes of a node: value, permissions and child\n"
	       "                            names (quota node-size)\n"
	       "  -W, --watch-nb N          watches per domain (quota watches)\n"
	       "  -t, --transaction N       open transactions per domain (quota transactions)\n"
	       "  -A, --perm-nb N           permission entries per node (quota node-permissions)\n"
	       "  -M, --path-max N          path length below /local/domain/<domid>/\n"
	       "                            (quota path-max)\n"
	       "  -Q, --quota NAME=N        set quota NAME for every unprivileged domain;\n"
	       "                            0 disables it. NAME (default):\n");
	for (int k = 0; k < XSD_QUOTA_COUNT; k++)
		printf("                              %-20s (%llu)\n",
		       xsd_quota_name((enum xsd_quota_kind)k), (unsigned long long)q.hard[k]);
	printf("  -q, --quota-soft memory=N warn (do not refuse) when a domain uses more\n"
	       "                            than N bytes (default %llu)\n"
	       "  -w, --timeout watch-event=SEC\n"
	       "                            drop a watch event not yet delivered to an\n"
	       "                            unprivileged domain after SEC seconds\n"
	       "                            (default %d; 0: keep it)\n"
	       "  -K, --keep-orphans        when a domain goes away, give the nodes it owned\n"
	       "                            to the privileged domain instead of removing them\n"
	       "  -p, --priv-domid N        the privileged (control) domain (default 0)\n"
	       "  -m, --master-domid N      accepted for compatibility, no effect: this daemon\n"
	       "                            always runs in the control domain\n"
	       "      --store URI           the store: lmdb:DIR, git:DIR or mem: (default\n"
	       "                            " DEFAULT_STORE ")\n"
	       "      --run-dir DIR         DIR/socket is the privileged socket (default\n"
	       "                            $XENSTORED_RUNDIR, else " DEFAULT_RUN_DIR ")\n"
	       "      --domains xen|socket  how guests connect: xenbus rings, or a socket\n"
	       "                            DIR/domain/<domid> created by INTRODUCE (default:\n"
	       "                            xen when the event-channel device exists)\n"
	       "      --sync always|default always: fsync every commit before its reply;\n"
	       "                            default: sync to disk within about a second\n"
	       "      --wrl-rate N          while transactions are open, an unprivileged\n"
	       "                            domain's writes are limited to N per second\n"
	       "                            (default %u; 0: no limit), as C xenstored does\n"
	       "      --wrl-burst N         writes such a domain may make at once (default %u)\n"
	       "      --keep-last N         retention: keep the last N commits of history\n"
	       "      --keep-newer-than D   retention: keep commits younger than D (seconds,\n"
	       "                            or a number with s, m, h, d or w: 30d)\n"
	       "      --gc-every N          collect the store every N commits (default: half\n"
	       "                            of --keep-last, at least 100; 10000 with only\n"
	       "                            --keep-newer-than). Without --keep-*, all\n"
	       "                            history is kept and nothing collected unless\n"
	       "                            'xenstore-control gc start' asks\n",
	       (unsigned long long)q.soft_memory, DEFAULT_EVENT_TIMEOUT, DEFAULT_WRL_RATE,
	       DEFAULT_WRL_BURST);
	xsd_mac_glue_usage(stdout);
	printf("  -h, -H, --help            show this help and exit\n"
	       "\n"
	       "Clients find the socket through XENSTORED_PATH=DIR/socket (or\n"
	       "XENSTORED_RUNDIR=DIR).\n");
}

static int bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int bad_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("xenstored: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'xenstored --help' for more information.\n", stderr);
	return -1;
}

/* A decimal number up to @p max; -1 (after the message) when it is not one. */
static int parse_num(uint64_t *out, const char *what, const char *s, uint64_t max)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *s == '-' || *s == '+' || *end || errno || v > max)
		return bad_usage("%s: '%s' is not a number from 0 to %llu", what, s,
				 (unsigned long long)max);
	*out = v;
	return 0;
}

static int parse_uint(unsigned int *out, const char *what, const char *s, unsigned int max)
{
	uint64_t v = 0;

	if (parse_num(&v, what, s, max) < 0)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

/* "NAME=N": the name (copied into @p name) and the number. */
static int parse_assign(char *name, size_t cap, uint64_t *val, const char *what, const char *arg)
{
	const char *eq = strchr(arg, '=');

	if (!eq || eq == arg || (size_t)(eq - arg) >= cap)
		return bad_usage("%s: expected NAME=N, got '%s'", what, arg);
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	return parse_num(val, what, eq + 1, UINT64_MAX);
}

/* -Q NAME=N, -q memory=N, -w watch-event=SEC. */
static int parse_named(struct options *o, int c, const char *arg)
{
	char name[64], what[3] = {'-', (char)c, '\0'};
	uint64_t v = 0;

	if (parse_assign(name, sizeof(name), &v, what, arg) < 0)
		return -1;
	if (c == 'Q') {
		int k = xsd_quota_from_name(name);
		if (k < 0)
			return bad_usage("-Q: unknown quota '%s' (see --help)", name);
		o->quota.hard[k] = v;
	} else if (c == 'q') {
		if (strcmp(name, "memory"))
			return bad_usage("-q: unknown soft quota '%s' (only memory)", name);
		o->quota.soft_memory = v;
	} else {
		if (strcmp(name, "watch-event"))
			return bad_usage("-w: unknown timeout '%s' (only watch-event)", name);
		if (v > UINT_MAX / 1000)
			return bad_usage("-w: %llu seconds is too long", (unsigned long long)v);
		o->event_timeout = (unsigned int)v;
	}
	return 0;
}

static int parse_option(struct options *o, int c, const char *arg)
{
	static const enum xsd_quota_kind quota_of[128] = {
	    ['E'] = XSD_QUOTA_NODES,	  ['S'] = XSD_QUOTA_NODE_SIZE,
	    ['W'] = XSD_QUOTA_WATCHES,	  ['t'] = XSD_QUOTA_TRANSACTIONS,
	    ['A'] = XSD_QUOTA_NODE_PERMS, ['M'] = XSD_QUOTA_PATH_MAX,
	};
	char what[8];

	snprintf(what, sizeof(what), "-%c", c < 128 ? c : '?');
	switch (c) {
	case 'N':
		o->no_fork = true;
		return 0;
	case 'F':
		o->pid_file = arg;
		return 0;
	case 'T':
		o->trace_file = arg;
		return 0;
	case 'V':
		o->verbose = true;
		return 0;
	case 'K':
		o->keep_orphans = true;
		return 0;
	case 'E':
	case 'S':
	case 'W':
	case 't':
	case 'A':
	case 'M':
		return parse_num(&o->quota.hard[quota_of[c]], what, arg, UINT64_MAX);
	case 'Q':
	case 'q':
	case 'w':
		return parse_named(o, c, arg);
	case 'p':
		return parse_uint(&o->priv_domid, what, arg, DOMID_FIRST_RESERVED - 1);
	case 'm':
		return parse_uint(&o->master_domid, what, arg, DOMID_FIRST_RESERVED - 1);
	case OPT_WRL_RATE:
		return parse_uint(&o->wrl_rate, "--wrl-rate", arg, 1000000);
	case OPT_WRL_BURST:
		return parse_uint(&o->wrl_burst, "--wrl-burst", arg, 1000000);
	case OPT_KEEP_LAST:
	case OPT_KEEP_NEWER:
	case OPT_GC_EVERY:
		if (xsd_retention_set(&o->retention,
				      c == OPT_KEEP_LAST    ? "keep-last"
				      : c == OPT_KEEP_NEWER ? "keep-newer-than"
							    : "gc-every",
				      arg) < 0)
			return bad_usage("--%s", vs_error_last()->message);
		return 0;
	case OPT_STORE:
		o->store = arg;
		return 0;
	case OPT_RUN_DIR:
		o->run_dir = arg;
		return 0;
	case OPT_DOMAINS:
		if (!strcmp(arg, "xen"))
			o->domains = XSD_DOMAINS_XEN;
		else if (!strcmp(arg, "socket"))
			o->domains = XSD_DOMAINS_SOCKET;
		else
			return bad_usage("--domains: '%s' is neither xen nor socket", arg);
		return 0;
	case OPT_SYNC:
		if (!strcmp(arg, "always") || !strcmp(arg, "default"))
			o->sync_always = !strcmp(arg, "always");
		else
			return bad_usage("--sync: '%s' is neither always nor default", arg);
		return 0;
	default:
		return xsd_mac_glue_option(&o->mac, c, arg);
	}
}

/* 0, 1 (--help was shown) or -1 (bad usage, reported). */
static int parse_args(struct options *o, int argc, char **argv)
{
	int c;

	*o = (struct options){.domains = -1,
			      .event_timeout = DEFAULT_EVENT_TIMEOUT,
			      .wrl_rate = DEFAULT_WRL_RATE,
			      .wrl_burst = DEFAULT_WRL_BURST};
	xsd_quota_defaults(&o->quota);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":NF:T:VE:S:W:t:A:M:Q:q:w:Kp:m:hH", long_options,
				NULL)) != -1) {
		if (c == 'h' || c == 'H') {
			usage();
			return 1;
		}
		if (c == '?') {
			if (optopt)
				return bad_usage("unknown option '-%c'", optopt);
			return bad_usage("unknown option '%s'", argv[optind - 1]);
		}
		if (c == ':')
			return bad_usage("option '%s' needs a value", argv[optind - 1]);
		if (parse_option(o, c, optarg) < 0)
			return -1;
	}
	if (optind < argc)
		return bad_usage("unexpected argument '%s'", argv[optind]);
	if (xsd_retention_check(&o->retention) < 0)
		return bad_usage("--%s", vs_error_last()->message);
	if (xsd_mac_glue_options_done(&o->mac) < 0)
		return -1;
	if (!o->store)
		o->store = DEFAULT_STORE;
	if (!*o->store)
		return bad_usage("--store: empty URI");
	if (!o->run_dir)
		o->run_dir = getenv("XENSTORED_RUNDIR");
	if (!o->run_dir || !*o->run_dir)
		o->run_dir = DEFAULT_RUN_DIR;
	return 0;
}

/* @p path made absolute against the working directory; malloc'd, NULL on failure. */
static char *abs_path(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	size_t a = strlen(cwd), b = strlen(path);
	char *p = malloc(a + b + 2);
	if (p)
		snprintf(p, a + b + 2, "%s/%s", cwd, path);
	return p;
}

/* mkdir -p @p path (each missing component with @p mode). */
static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return vs_error_set(VS_EINVAL, "path too long: %s", path);
	for (char *p = buf + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return vs_error_set(errno == EACCES ? VS_EACCES : VS_EIO,
					    "cannot create directory %s: %s", buf, strerror(errno));
		if (!(*p = c))
			return 0;
	}
}

/*
 * The store URI with an absolute path (we chdir to / once detached), its
 * parent directories created. malloc'd into *out.
 */
static int store_prepare(char **out, const char *uri)
{
	const char *colon = strchr(uri, ':');
	*out = NULL;
	if (!colon || (strncmp(uri, "lmdb:", 5) && strncmp(uri, "git:", 4))) {
		*out = strdup(uri);
		return *out ? 0 : vs_error_set(VS_ENOMEM, "no memory");
	}
	if (!colon[1])
		return vs_error_set(VS_EINVAL, "store %s names no directory", uri);
	char *path = abs_path(colon + 1);
	if (!path)
		return vs_error_set(VS_EIO, "cannot resolve %s: %s", colon + 1, strerror(errno));
	size_t n = (size_t)(colon - uri) + 1 + strlen(path) + 1;
	char *full = malloc(n);
	int err = 0;
	if (!full) {
		free(path);
		return vs_error_set(VS_ENOMEM, "no memory");
	}
	snprintf(full, n, "%.*s:%s", (int)(colon - uri), uri, path);
	char *slash = strrchr(path, '/');
	if (slash && slash != path) {
		*slash = '\0';
		err = mkdir_p(path, 0755);
	}
	free(path);
	if (err < 0) {
		free(full);
		return err;
	}
	*out = full;
	return 0;
}

/* Prefix the last error's message (copied first: it is the buffer written). */
static int err_wrap(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int err_wrap(int code, const char *fmt, ...)
{
	char prefix[512], msg[1024];
	va_list ap;

	snprintf(msg, sizeof(msg), "%s", vs_error_last()->message);
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	return vs_error_set(code, "%s: %s", prefix, msg);
}

static void on_trace(void *payload, const char *line)
{
	struct xsd_daemon *d = payload;

	if (d->trace)
		fprintf(d->trace, "%s\n", line);
}

static void on_engine_log(void *payload, const char *line)
{
	xsd_log(payload, LOG_WARNING, "%s", line);
}

static int trace_open(struct daemon_main *m)
{
	m->d.trace = fopen(m->trace_path, "ae");
	if (!m->d.trace)
		return vs_error_set(VS_EIO, "cannot open the trace file %s: %s", m->trace_path,
				    strerror(errno));
	setvbuf(m->d.trace, NULL, _IOLBF, 0);
	return 0;
}

/* The engine's domain hooks: connect a domain through the chosen transport. */
static int hook_introduce(void *payload, unsigned int domid, uint64_t gfn, uint32_t evtchn)
{
	struct xsd_daemon *d = payload;

	if (d->domains == XSD_DOMAINS_XEN)
		return xsd_xen_introduce(d, domid, gfn, evtchn);
	return xsd_socket_introduce(d, domid);
}

static void hook_release(void *payload, unsigned int domid)
{
	struct xsd_daemon *d = payload;
	struct daemon_main *m = xsd_container_of(d, struct daemon_main, d);

	if (d->domains == XSD_DOMAINS_XEN)
		xsd_xen_release(d, domid);
	else
		xsd_socket_release(d, domid);
	xsd_client_close_domain(d, domid);
	xsd_mac_glue_domain_released(m->mac, domid);
}

/* Stop accepting, commit and sync, close every connection and handle. */
static void daemon_stop(struct daemon_main *m)
{
	struct xsd_daemon *d = &m->d;

	if (d->stopping)
		return;
	d->stopping = true;
	xsd_socket_stop(d);
	if (m->xen_started)
		xsd_xen_stop(d);
	if (d->engine && m->loop_started)
		xsd_loop_flush(d);
	xsd_clients_close_all(d);
	if (m->loop_started)
		xsd_loop_close(d);
	xsd_mac_glue_stop(m->mac);
	if (m->signals_started) {
		uv_close((uv_handle_t *)&m->sig_term, NULL);
		uv_close((uv_handle_t *)&m->sig_int, NULL);
		uv_close((uv_handle_t *)&m->sig_hup, NULL);
	}
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct daemon_main *m = h->data;

	if (signum == SIGHUP) {
		if (m->d.trace) {
			fclose(m->d.trace);
			if (trace_open(m) < 0)
				xsd_log(&m->d, LOG_ERR, "%s", vs_error_last()->message);
		}
		if (m->mac)
			xsd_mac_glue_hup(m->mac);
		return;
	}
	xsd_log(&m->d, LOG_INFO, "%s: shutting down", strsignal(signum));
	daemon_stop(m);
}

static int signals_start(struct daemon_main *m)
{
	uv_signal_t *hs[] = {&m->sig_term, &m->sig_int, &m->sig_hup};
	int sigs[] = {SIGTERM, SIGINT, SIGHUP};

	for (int i = 0; i < 3; i++) {
		uv_signal_init(m->d.loop, hs[i]);
		hs[i]->data = m;
	}
	m->signals_started = true;
	for (int i = 0; i < 3; i++) {
		int err = uv_signal_start(hs[i], on_signal, sigs[i]);
		if (err < 0)
			return vs_error_set(VS_EIO, "cannot handle %s: %s", strsignal(sigs[i]),
					    uv_strerror(err));
	}
	return 0;
}

static int engine_start(struct daemon_main *m, const struct options *o)
{
	struct xsd_daemon *d = &m->d;
	struct xsd_engine_opts eo = {
	    .version = XSD_ENGINE_OPTS_VERSION,
	    .priv_domid = o->priv_domid,
	    .keep_orphans = o->keep_orphans,
	    .quota = o->quota,
	    .wrl_rate = o->wrl_rate,
	    .wrl_burst = o->wrl_burst ? o->wrl_burst : 1,
	    .hooks = {.introduce = hook_introduce, .release = hook_release, .payload = d},
	    .trace = o->trace_file ? on_trace : NULL,
	    .log = on_engine_log,
	    .log_payload = d,
	    .retention = o->retention,
	};
	if (m->mac)
		xsd_mac_glue_hooks(&eo.mac, m->mac);
	int err = xsd_engine_new(&d->engine, d->repo, &eo);
	if (err < 0)
		return err_wrap(err, "cannot start the engine on %s", o->store);
	return m->mac ? xsd_mac_glue_start(m->mac) : 0;
}

/* Everything up to a socket that accepts connections. */
static int daemon_start(struct daemon_main *m, const struct options *o)
{
	struct xsd_daemon *d = &m->d;
	char *uri = NULL;
	int err;

	if (!(d->run_dir = abs_path(o->run_dir)) ||
	    (o->pid_file && !(m->pid_file = abs_path(o->pid_file))) ||
	    (o->trace_file && !(m->trace_path = abs_path(o->trace_file))))
		return vs_error_set(VS_ENOMEM, "cannot resolve paths: %s", strerror(errno));
	/* An invalid policy refuses the start before anything is made. */
	if (o->mac.policy && (err = xsd_mac_glue_new(&m->mac, d, &o->mac)) < 0)
		return err;
	if ((err = mkdir_p(d->run_dir, 0755)) < 0)
		return err;
	if (access(d->run_dir, W_OK | X_OK) < 0)
		return vs_error_set(VS_EACCES, "run directory %s is not writable: %s", d->run_dir,
				    strerror(errno));
	if ((err = store_prepare(&uri, o->store)) < 0)
		return err;
	struct vs_repo_opts ro = {
	    .version = VS_REPO_OPTS_VERSION,
	    .flags = o->sync_always ? 0 : VS_REPO_NOSYNC,
	    .cache_trees = 4096,
	    .cache_value_bytes = 4u << 20,
	};
	err = vs_repo_open(&d->repo, uri, &ro);
	if (err < 0)
		err = err_wrap(err, "cannot open the store %s", uri);
	free(uri);
	if (err < 0)
		return err;
	if (m->trace_path && (err = trace_open(m)) < 0)
		return err;
	if ((err = uv_loop_init(&m->loop)) < 0)
		return vs_error_set(VS_EIO, "cannot create the event loop: %s", uv_strerror(err));
	d->loop = &m->loop;
	if ((err = signals_start(m)) < 0)
		return err;
	if ((err = engine_start(m, o)) < 0)
		return err;
	if ((err = xsd_loop_init(d)) < 0)
		return err;
	m->loop_started = true;
	if (d->domains == XSD_DOMAINS_XEN) {
		if ((err = xsd_xen_start(d)) < 0)
			return err;
		m->xen_started = true;
	}
	/* Last: a socket that accepts means a daemon ready to serve. */
	return xsd_socket_start(d);
}

/* Written whole under a temporary name, then renamed: never seen half-written. */
static int pid_file_write(struct daemon_main *m)
{
	size_t n = strlen(m->pid_file) + 5;
	char *tmp = malloc(n);
	int err = 0;

	if (!tmp)
		return vs_error_set(VS_ENOMEM, "no memory");
	snprintf(tmp, n, "%s.new", m->pid_file);
	FILE *f = fopen(tmp, "we");
	bool ok = f != NULL;
	if (f) {
		ok = fprintf(f, "%ld\n", (long)getpid()) > 0;
		ok = fclose(f) == 0 && ok;
	}
	if (!ok || rename(tmp, m->pid_file) < 0) {
		err = vs_error_set(VS_EIO, "cannot write the pid file %s: %s", m->pid_file,
				   strerror(errno));
		unlink(tmp);
	} else {
		m->pid_written = true;
	}
	free(tmp);
	return err;
}

/* Free what daemon_start made, after the loop has closed every handle. */
static void daemon_free(struct daemon_main *m)
{
	struct xsd_daemon *d = &m->d;

	if (d->loop) {
		daemon_stop(m);
		uv_run(d->loop, UV_RUN_DEFAULT);
	}
	xsd_engine_free(d->engine);
	xsd_mac_glue_free(m->mac);
	if (d->repo && vs_repo_sync(d->repo) < 0)
		xsd_log(d, LOG_ERR, "cannot sync the store: %s", vs_error_last()->message);
	vs_repo_close(d->repo);
	if (d->loop && uv_loop_close(d->loop) < 0)
		xsd_log(d, LOG_ERR, "the event loop still had open handles at exit");
	if (d->trace)
		fclose(d->trace);
	if (m->pid_written)
		unlink(m->pid_file);
	free(m->pid_file);
	free(m->trace_path);
	free(d->run_dir);
}

/*
 * Fork; the parent exits with 0 once the child reports it is ready, or with
 * the child's status when it fails. In the child, *notify is the pipe to report on.
 */
static void detach(int *notify)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0) {
		fprintf(stderr, "xenstored: pipe: %s\n", strerror(errno));
		exit(1);
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "xenstored: fork: %s\n", strerror(errno));
		exit(1);
	}
	if (pid > 0) {
		unsigned char c;
		ssize_t n;
		int st;
		close(p[1]);
		while ((n = read(p[0], &c, 1)) < 0 && errno == EINTR)
			;
		if (n == 1)
			exit(c);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
	}
	close(p[0]);
	setsid();
	*notify = p[1];
}

/* Ready: tell the parent, leave the terminal, log to syslog from now on. */
static void detach_done(struct daemon_main *m, int notify)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	openlog("xenstored", LOG_PID, LOG_DAEMON);
	m->d.use_syslog = true;
	if (chdir("/") < 0)
		xsd_log(&m->d, LOG_WARNING, "chdir /: %s", strerror(errno));
	if (write(notify, "", 1) < 0)
		xsd_log(&m->d, LOG_WARNING, "cannot report readiness: %s", strerror(errno));
	close(notify);
}

int main(int argc, char **argv)
{
	struct options o;
	struct daemon_main m = {0};
	int notify = -1, rc = parse_args(&o, argc, argv);

	if (rc != 0)
		return rc > 0 ? 0 : EXIT_USAGE;
	if (o.mac.check)
		return xsd_mac_glue_check_file(o.mac.check);
	signal(SIGPIPE, SIG_IGN);
	if (!o.no_fork)
		detach(&notify);

	struct xsd_daemon *d = &m.d;
	d->verbose = o.verbose;
	d->sync_always = o.sync_always;
	d->priv_domid = o.priv_domid;
	d->event_timeout = o.event_timeout;
	uint64_t outstanding = o.quota.hard[XSD_QUOTA_OUTSTANDING];
	d->max_inflight =
	    outstanding && outstanding < MAX_INFLIGHT ? (unsigned int)outstanding : MAX_INFLIGHT;
	if (o.domains < 0)
		d->domains = xsd_xen_available() ? XSD_DOMAINS_XEN : XSD_DOMAINS_SOCKET;
	else
		d->domains = (enum xsd_domains_mode)o.domains;

	if (daemon_start(&m, &o) < 0 || (m.pid_file && pid_file_write(&m) < 0)) {
		fprintf(stderr, "xenstored: %s\n", vs_error_last()->message);
		daemon_free(&m);
		return 1;
	}
	xsd_log(d, LOG_INFO, "ready: %s/socket, store %s, domains by %s", d->run_dir, o.store,
		d->domains == XSD_DOMAINS_XEN ? "xen rings" : "sockets");
	if (notify >= 0)
		detach_done(&m, notify);
	uv_run(d->loop, UV_RUN_DEFAULT);
	daemon_free(&m);
	return 0;
}
