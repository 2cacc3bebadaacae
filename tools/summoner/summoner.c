/* SPDX-License-Identifier: MIT */
/*
 * vstore-summoner: a DNS server that starts services on demand, as Jitsu
 * does for unikernels. It answers A queries for the names in its
 * configuration; the first query for a stopped service summons it
 * (service.c) and the answer goes out once it is ready. One thread, one
 * poll() loop over the UDP socket, a signalfd (SIGCHLD, SIGTERM, SIGINT)
 * and a Xenstore watch on @releaseDomain; a summon blocks the loop for at
 * most the service's timeout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vsclient/client.h>
#include <vstore/vstore.h>

#include "config.h"
#include "dns.h"
#include "service.h"

#define DEFAULT_RUN_DIR "/var/run/xenstored"
#define DEFAULT_DOMIDS_LO 100u
#define DEFAULT_DOMIDS_HI 999u
/* Datagrams handled per wake-up before signals and watches get a turn. */
#define BATCH 64
#define WATCH_TOKEN "summoner"

struct options {
	const char *config;
	const char *run_dir;
	const char *uri;
	const char *listen;
	unsigned int port;
	unsigned int lo, hi;
	const char *ready_file;
	double exit_after; /* seconds, 0: until a signal */
	bool quiet;
	bool check;
};

struct server {
	struct options o;
	struct summoner_config cfg;
	struct summoner sm;
	struct vsc_client *xs; /* requests */
	struct vsc_client *ev; /* the @releaseDomain watch, kept apart from vsc_wait */
	int udp;
	int sigfd;
	bool stopping;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vstore-summoner -c FILE [options]\n"
		"Answer DNS A queries for the services in FILE, starting each one in a\n"
		"domain of its own when it is first asked for (tools/summoner/README.md).\n"
		"  -c, --config FILE      the services (required)\n"
		"  -r, --run-dir DIR      the daemon's run dir: DIR/socket, DIR/domain/<id>\n"
		"                         (default $XENSTORED_RUNDIR, else " DEFAULT_RUN_DIR ")\n"
		"  -u, --uri URI          the control connection (default unix:DIR/socket)\n"
		"  -l, --listen ADDR      IPv4 address to answer on (default 127.0.0.1)\n"
		"  -p, --port N           UDP port (default 53; 0: any free one)\n"
		"  -d, --domids LO-HI     domain ids to give services (default %u-%u)\n"
		"      --ready-file FILE  write the bound port to FILE once listening\n"
		"      --exit-after SEC   stop by itself after SEC seconds (default: never)\n"
		"      --check            check the configuration and exit\n"
		"  -q, --quiet            log errors only\n"
		"  -h, --help             show this help\n",
		DEFAULT_DOMIDS_LO, DEFAULT_DOMIDS_HI);
}

static bool parse_uint(unsigned int *out, const char *s, unsigned int max)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno || v > max)
		return false;
	*out = (unsigned int)v;
	return true;
}

static int parse_options(struct options *o, int argc, char **argv)
{
	enum { OPT_READY = 256, OPT_EXIT, OPT_CHECK };
	static const struct option longs[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"run-dir", required_argument, NULL, 'r'},
	    {"uri", required_argument, NULL, 'u'},
	    {"listen", required_argument, NULL, 'l'},
	    {"port", required_argument, NULL, 'p'},
	    {"domids", required_argument, NULL, 'd'},
	    {"ready-file", required_argument, NULL, OPT_READY},
	    {"exit-after", required_argument, NULL, OPT_EXIT},
	    {"check", no_argument, NULL, OPT_CHECK},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *env = getenv("XENSTORED_RUNDIR");
	*o = (struct options){.run_dir = env && *env ? env : DEFAULT_RUN_DIR,
			      .listen = "127.0.0.1",
			      .port = 53,
			      .lo = DEFAULT_DOMIDS_LO,
			      .hi = DEFAULT_DOMIDS_HI};
	int ch;
	char *end;
	while ((ch = getopt_long(argc, argv, "c:r:u:l:p:d:qh", longs, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'r':
			o->run_dir = optarg;
			break;
		case 'u':
			o->uri = optarg;
			break;
		case 'l':
			o->listen = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case OPT_READY:
			o->ready_file = optarg;
			break;
		case OPT_CHECK:
			o->check = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'p':
			if (!parse_uint(&o->port, optarg, 65535))
				return fprintf(stderr, "summoner: --port: bad port '%s'\n", optarg),
				       -1;
			break;
		case 'd': {
			char *dash = strchr(optarg, '-');
			if (dash)
				*dash = '\0';
			if (!dash || !parse_uint(&o->lo, optarg, 0x7FEF) ||
			    !parse_uint(&o->hi, dash + 1, 0x7FEF) || o->lo == 0 || o->lo > o->hi)
				return fprintf(stderr, "summoner: --domids wants LO-HI with "
						       "1 <= LO <= HI <= 32751\n"),
				       -1;
			break;
		}
		case OPT_EXIT:
			o->exit_after = strtod(optarg, &end);
			if (*end || !(o->exit_after >= 0) || o->exit_after > 86400 * 365)
				return fprintf(stderr, "summoner: --exit-after: bad seconds '%s'\n",
					       optarg),
				       -1;
			break;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || !o->config) {
		fprintf(stderr, "summoner: %s\n",
			o->config ? "unexpected arguments" : "no configuration: give -c FILE");
		usage(stderr);
		return -1;
	}
	return 0;
}

static int open_udp(struct server *sv)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)sv->o.port)};
	if (inet_pton(AF_INET, sv->o.listen, &a.sin_addr) != 1)
		return vs_error_set(VS_EINVAL, "--listen: '%s' is not an IPv4 address",
				    sv->o.listen);
	sv->udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (sv->udp < 0 || bind(sv->udp, (struct sockaddr *)&a, sizeof(a)) < 0)
		return vs_error_set(VS_EIO, "cannot listen on %s:%u/udp: %s", sv->o.listen,
				    sv->o.port, strerror(errno));
	socklen_t len = sizeof(a);
	getsockname(sv->udp, (struct sockaddr *)&a, &len);
	sv->o.port = ntohs(a.sin_port);
	if (sv->o.ready_file) {
		/* Write then rename, so a reader never sees half a number. */
		char tmp[4096];
		snprintf(tmp, sizeof(tmp), "%s.tmp", sv->o.ready_file);
		FILE *f = fopen(tmp, "we");
		if (!f || fprintf(f, "%u\n", sv->o.port) < 0 || fclose(f) != 0 ||
		    rename(tmp, sv->o.ready_file) < 0)
			return vs_error_set(VS_EIO, "cannot write %s: %s", sv->o.ready_file,
					    strerror(errno));
	}
	return 0;
}

static bool stop_requested(struct summoner *sm)
{
	struct server *sv = (struct server *)(void *)((char *)sm - offsetof(struct server, sm));
	struct signalfd_siginfo si;
	/* Only termination matters mid-summon; serve() reaps after each batch anyway. */
	while (read(sv->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		if (si.ssi_signo != SIGCHLD)
			sv->stopping = true;
	return sv->stopping;
}

static const char *rcode_name(int rcode)
{
	static const char *const names[] = {"NOERROR",	"FORMERR", "SERVFAIL",
					    "NXDOMAIN", "NOTIMP",  "REFUSED"};
	return rcode >= 0 && rcode < 6 ? names[rcode] : "RCODE?";
}

static void answer(struct server *sv, const void *buf, size_t len, const struct sockaddr_in *from)
{
	struct summoner_dns_query q;
	struct vs_buf out = VS_BUF_INIT;
	char peer[INET_ADDRSTRLEN], tname[32];
	double t0 = summoner_now_ms();
	const char *what = "";

	inet_ntop(AF_INET, &from->sin_addr, peer, sizeof(peer));
	if (summoner_dns_parse(&q, buf, len) < 0) {
		summoner_dns_query_release(&q);
		return; /* not worth an answer */
	}
	int rcode = q.rcode;
	bool aa = false;
	const struct summoner_service *svc = NULL;
	if (rcode == LDNS_RCODE_NOERROR) {
		svc = summoner_config_find(&sv->cfg, q.name);
		if (!svc || q.qclass != LDNS_RR_CLASS_IN) {
			rcode = LDNS_RCODE_REFUSED; /* not ours */
			svc = NULL;
			what = "refused";
		} else {
			aa = true;
		}
	}
	if (svc && q.qtype == LDNS_RR_TYPE_A) {
		size_t idx = (size_t)(svc - sv->cfg.services);
		bool cold = !sv->sm.inst[idx].pid;
		if (summoner_summon(&sv->sm, idx) < 0) {
			fprintf(stderr, "summoner: %s: %s\n", svc->name, vs_error_last()->message);
			rcode = LDNS_RCODE_SERVFAIL;
			svc = NULL;
			what = "summon failed";
		} else {
			what = cold ? "summoned" : "warm";
		}
	} else if (svc) {
		what = "no data for this type";
		svc = NULL; /* a name we own, without that type: NOERROR, no answer */
	}
	int err =
	    summoner_dns_reply(&out, &q, rcode, aa, svc ? &svc->ip : NULL, svc ? svc->ttl : 0);
	if (err >= 0 &&
	    sendto(sv->udp, out.ptr, out.size, 0, (const struct sockaddr *)from, sizeof(*from)) < 0)
		fprintf(stderr, "summoner: reply to %s: %s\n", peer, strerror(errno));
	else if (err < 0)
		fprintf(stderr, "summoner: reply to %s: %s\n", peer, vs_error_last()->message);
	if (!sv->o.quiet)
		fprintf(stderr, "summoner: %s:%u asks %s %s: %s, %s in %.2f ms\n", peer,
			ntohs(from->sin_port), q.name[0] ? q.name : "?",
			summoner_dns_type_name(tname, sizeof(tname), q.qtype), rcode_name(rcode),
			what, summoner_now_ms() - t0);
	vs_buf_release(&out);
	summoner_dns_query_release(&q);
}

static void on_udp(struct server *sv)
{
	uint8_t buf[4096];
	for (int i = 0; i < BATCH && !sv->stopping; i++) {
		struct sockaddr_in from;
		socklen_t len = sizeof(from);
		ssize_t n = recvfrom(sv->udp, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
		if (n < 0)
			break; /* EAGAIN: drained */
		if (len == sizeof(from) && from.sin_family == AF_INET)
			answer(sv, buf, (size_t)n, &from);
	}
}

static void on_signal(struct server *sv)
{
	struct signalfd_siginfo si;
	while (read(sv->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			summoner_reap(&sv->sm);
		else
			sv->stopping = true;
	}
}

/* @releaseDomain fired: check our domains. A broken connection ends the server. */
static int on_watch(struct server *sv)
{
	struct vsc_event e;
	bool released = false;
	int err = 0;
	for (int i = 0; i < BATCH && (err = vsc_event_next(&e, sv->ev, 0)) == 0; i++) {
		released = true;
		vsc_event_release(&e);
	}
	if (released)
		summoner_check_domains(&sv->sm);
	if (err < 0 && err != VS_EAGAIN) {
		char why[256]; /* copied: the message slot is rewritten below */
		snprintf(why, sizeof(why), "%s", vs_error_last()->message);
		return vs_error_set(err, "lost the watch connection to xenstored (%s): %s",
				    vs_err_name(err), why);
	}
	return 0;
}

static int serve(struct server *sv)
{
	double deadline = sv->o.exit_after > 0 ? summoner_now_ms() + sv->o.exit_after * 1e3 : 0;
	int err;
	struct pollfd fds[3] = {{.fd = sv->udp, .events = POLLIN},
				{.fd = sv->sigfd, .events = POLLIN},
				{.fd = vsc_event_fd(sv->ev), .events = POLLIN}};
	if (!sv->o.quiet)
		fprintf(stderr, "summoner: answering on %s:%u/udp for %zu service(s)\n",
			sv->o.listen, sv->o.port, sv->cfg.count);
	while (!sv->stopping) {
		int timeout = -1;
		if (deadline > 0) {
			double left = deadline - summoner_now_ms();
			if (left <= 0) {
				fprintf(stderr, "summoner: --exit-after reached\n");
				break;
			}
			timeout = (int)left + 1;
		}
		int n = poll(fds, 3, timeout);
		if (n < 0 && errno != EINTR)
			return vs_error_set(VS_EIO, "poll: %s", strerror(errno));
		if (n <= 0)
			continue;
		if (fds[1].revents)
			on_signal(sv);
		if (fds[2].revents && (err = on_watch(sv)) < 0)
			return err;
		if (fds[0].revents && !sv->stopping)
			on_udp(sv);
		/* A SIGCHLD read by stop_requested() during a summon is not lost. */
		summoner_reap(&sv->sm);
	}
	return 0;
}

static int start(struct server *sv)
{
	char uri[4200];
	int err;

	if (sv->o.uri)
		snprintf(uri, sizeof(uri), "%s", sv->o.uri);
	else
		snprintf(uri, sizeof(uri), "unix:%s/socket", sv->o.run_dir);
	if ((err = vsc_client_open(&sv->xs, uri)) < 0 || (err = vsc_client_open(&sv->ev, uri)) < 0)
		return err;
	if ((err = vsc_watch(sv->ev, "@releaseDomain", WATCH_TOKEN, -1)) < 0)
		return err;
	if ((err = summoner_init(&sv->sm, &sv->cfg, sv->xs, sv->o.run_dir, sv->o.lo, sv->o.hi,
				 stderr)) < 0)
		return err;
	sv->sm.quiet = sv->o.quiet;
	sv->sm.stop = stop_requested;

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (sv->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		return vs_error_set(VS_EIO, "signalfd: %s", strerror(errno));
	return open_udp(sv);
}

int main(int argc, char **argv)
{
	struct server sv = {.udp = -1, .sigfd = -1};
	int err;

	if (parse_options(&sv.o, argc, argv) < 0)
		return 2;
	if ((err = summoner_config_load(&sv.cfg, sv.o.config)) < 0) {
		fprintf(stderr, "summoner: %s\n", vs_error_last()->message);
		summoner_config_release(&sv.cfg);
		return 2;
	}
	if (sv.o.check) {
		printf("%s: %zu service(s), OK\n", sv.o.config, sv.cfg.count);
		summoner_config_release(&sv.cfg);
		return 0;
	}
	if ((err = start(&sv)) >= 0)
		err = serve(&sv);
	if (err < 0)
		fprintf(stderr, "summoner: %s\n", vs_error_last()->message);
	summoner_fini(&sv.sm);
	vsc_client_close(sv.ev);
	vsc_client_close(sv.xs);
	if (sv.udp >= 0)
		close(sv.udp);
	if (sv.sigfd >= 0)
		close(sv.sigfd);
	summoner_config_release(&sv.cfg);
	return err < 0 ? 1 : 0;
}
