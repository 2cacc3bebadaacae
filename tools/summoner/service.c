/* SPDX-License-Identifier: MIT */
/*
 * Summoning (service.h). A service's life: pick a free domain id, create
 * its home /local/domain/<id> (owner the domain, with name, domid and the
 * configured keys) in one transaction, INTRODUCE it (the daemon, run with
 * --domains socket, then listens on RUN_DIR/domain/<id>), start the command
 * in its own process group, wait for the ready key. When the command's
 * process exits its group is killed and the domain RELEASEd, which fires
 * @releaseDomain and removes the domain's nodes.
 */
#include "service.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vstore/vstore.h>

extern char **environ;

/* Granularity of the ready wait: how soon a crashed command is noticed. */
#define READY_SLICE_MS 100
/* How long a stopped service gets between SIGTERM and SIGKILL. */
#define STOP_GRACE_MS 2000
/* Homes and keys: "/local/domain/<id>/" plus a key path (config.c: <= 1024). */
#define PATH_LEN 1100

double summoner_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

__attribute__((format(printf, 3, 4))) static void say(const struct summoner *s, bool error,
						      const char *fmt, ...)
{
	if (!s->log || (s->quiet && !error))
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("summoner: ", s->log);
	vfprintf(s->log, fmt, ap);
	fputc('\n', s->log);
	fflush(s->log);
	va_end(ap);
}

int summoner_init(struct summoner *s, const struct summoner_config *cfg, struct vsc_client *xs,
		  const char *run_dir, unsigned int lo, unsigned int hi, FILE *log)
{
	*s = (struct summoner){.cfg = cfg,
			       .xs = xs,
			       .run_dir = run_dir,
			       .domid_lo = lo,
			       .domid_hi = hi,
			       .domid_next = lo,
			       .log = log};
	if (lo == 0 || lo > hi || hi >= 0x7FF0)
		return vs_error_set(VS_EINVAL, "domain ids %u-%u: need 1 <= low <= high < 32752",
				    lo, hi);
	s->inst = calloc(cfg->count ? cfg->count : 1, sizeof(*s->inst));
	if (!s->inst)
		return vs_error_set(VS_ENOMEM, "out of memory");
	return 0;
}

void summoner_fini(struct summoner *s)
{
	if (!s || !s->inst)
		return;
	summoner_stop_all(s);
	free(s->inst);
	s->inst = NULL;
}

static int alloc_domid(unsigned int *out, struct summoner *s)
{
	unsigned int n = s->domid_hi - s->domid_lo + 1;
	for (unsigned int i = 0; i < n; i++) {
		unsigned int d = s->domid_lo + (s->domid_next - s->domid_lo + i) % n;
		bool used = false;
		for (size_t k = 0; k < s->cfg->count && !used; k++)
			used = s->inst[k].pid && s->inst[k].domid == d;
		if (used)
			continue;
		/* Someone else's domain (INTRODUCE again would just say OK). */
		int err = vsc_is_introduced(&used, s->xs, d);
		if (err < 0)
			return err;
		if (used)
			continue;
		/* Round robin, as Xen hands out ids: a reused id shows up late. */
		s->domid_next = d == s->domid_hi ? s->domid_lo : d + 1;
		*out = d;
		return 0;
	}
	return vs_error_set(VS_EBUSY, "every domain id in %u-%u is in use", s->domid_lo,
			    s->domid_hi);
}

struct home_ctx {
	const struct summoner_service *svc;
	unsigned int domid;
	char home[32];
};

static int write_str(struct vsc_client *c, vsc_txn_t t, const char *home, const char *key,
		     const char *value)
{
	char path[PATH_LEN];
	snprintf(path, sizeof(path), "%s/%s", home, key);
	return vsc_write(c, t, path, value, strlen(value));
}

/* The toolstack's part: a home the domain owns, its name, id and config keys. */
static int home_txn(struct vsc_client *c, vsc_txn_t t, void *payload)
{
	struct home_ctx *h = payload;
	char owner[16], id[16];
	const char *perms[] = {owner};
	int err;

	snprintf(owner, sizeof(owner), "n%u", h->domid);
	snprintf(id, sizeof(id), "%u", h->domid);
	if ((err = vsc_rm(c, t, h->home)) < 0 && err != VS_ENOENT)
		return err;
	if ((err = vsc_mkdir(c, t, h->home)) < 0 ||
	    (err = vsc_set_perms(c, t, h->home, perms, 1)) < 0 ||
	    (err = write_str(c, t, h->home, "name", h->svc->domain_name)) < 0 ||
	    (err = write_str(c, t, h->home, "domid", id)) < 0)
		return err;
	for (size_t i = 0; i < h->svc->nkeys && err >= 0; i++)
		err = write_str(c, t, h->home, h->svc->keys[i].path, h->svc->keys[i].value);
	return err;
}

/*
 * The command's environment: ours, with XENSTORED_PATH on the domain's
 * socket and SUMMONER_{NAME,DOMID}; built before fork() so the child only
 * calls async-signal-safe functions. Free with free_env().
 */
static char **make_env(const struct summoner *s, const struct summoner_service *svc,
		       unsigned int domid)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + 4, sizeof(*env));
	if (!env)
		return NULL;
	size_t k = 0;
	struct vs_buf b = VS_BUF_INIT;
	bool ok = vs_buf_printf(&b, "XENSTORED_PATH=%s/domain/%u", s->run_dir, domid) >= 0 &&
		  (env[k++] = strdup(b.ptr)) != NULL;
	vs_buf_clear(&b);
	ok = ok && vs_buf_printf(&b, "SUMMONER_NAME=%s", svc->name) >= 0 &&
	     (env[k++] = strdup(b.ptr)) != NULL;
	vs_buf_clear(&b);
	ok = ok && vs_buf_printf(&b, "SUMMONER_DOMID=%u", domid) >= 0 &&
	     (env[k++] = strdup(b.ptr)) != NULL;
	vs_buf_release(&b);
	for (size_t i = 0; ok && i < n; i++) {
		if (!strncmp(environ[i], "XENSTORED_PATH=", 15) ||
		    !strncmp(environ[i], "SUMMONER_", 9))
			continue;
		ok = (env[k++] = strdup(environ[i])) != NULL;
	}
	if (!ok) {
		for (size_t i = 0; i < n + 4; i++)
			free(env[i]);
		free(env);
		return NULL;
	}
	return env;
}

static void free_env(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

static int spawn(pid_t *out, const struct summoner *s, const struct summoner_service *svc,
		 unsigned int domid)
{
	char **env = make_env(s, svc, domid);
	if (!env)
		return vs_error_set(VS_ENOMEM, "out of memory");
	char *argv[] = {"sh", "-c", svc->command, NULL};
	sigset_t none;
	sigemptyset(&none);
	pid_t pid = fork();
	if (pid == 0) {
		/* The child: own process group, dies with us, a clean slate of fds. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		sigprocmask(SIG_SETMASK, &none, NULL);
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0 && null != STDIN_FILENO) {
			dup2(null, STDIN_FILENO);
			close(null);
		}
		close_range(3, ~0u, 0);
		execve("/bin/sh", argv, env);
		_exit(127);
	}
	free_env(env);
	if (pid < 0)
		return vs_error_set(VS_EIO, "fork: %s", strerror(errno));
	setpgid(pid, pid); /* also here: whichever runs first */
	*out = pid;
	return 0;
}

static void describe_exit(char *buf, size_t size, int status)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exit code %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "signal %d", WTERMSIG(status));
	else
		snprintf(buf, size, "status %#x", (unsigned int)status);
}

/* The command is gone: kill what is left of its group, release the domain. */
static void service_down(struct summoner *s, size_t idx, const char *why)
{
	struct summoner_instance *in = &s->inst[idx];
	char home[32];

	char failure[256] = "";
	kill(-in->pid, SIGKILL);
	int err = vsc_release(s->xs, in->domid);
	if (err < 0)
		snprintf(failure, sizeof(failure), "%s", vs_error_last()->message);
	/* Kept nodes (--keep-orphans) must not greet the next owner of the id. */
	snprintf(home, sizeof(home), "/local/domain/%u", in->domid);
	vsc_rm(s->xs, VSC_TXN_NONE, home);
	if (err < 0 && err != VS_ENOENT && err != VS_EINVAL)
		say(s, true, "%s: %s; releasing domain %u failed: %s", s->cfg->services[idx].name,
		    why, in->domid, failure);
	else
		say(s, false, "%s: %s; domain %u released", s->cfg->services[idx].name, why,
		    in->domid);
	in->pid = 0;
	in->ready = false;
}

struct ready_ctx {
	char path[PATH_LEN];
};

static int ready_cond(struct vsc_client *c, void *payload)
{
	struct ready_ctx *r = payload;
	struct vs_buf b = VS_BUF_INIT;
	int err = vsc_read(&b, c, VSC_TXN_NONE, r->path);
	vs_buf_release(&b);
	return err == VS_ENOENT ? VSC_WAIT_AGAIN : err;
}

/*
 * Wait for the ready key in slices, so that a command dying early or a stop
 * request is seen within a slice. @return 0 (ready), VS_ETIMEDOUT, VS_EIO
 * (the command exited: reaped here), VS_EINTR-like VS_EAGAIN (stopping).
 */
static int wait_ready(struct summoner *s, size_t idx, const char *home)
{
	const struct summoner_service *svc = &s->cfg->services[idx];
	struct summoner_instance *in = &s->inst[idx];
	struct ready_ctx r;
	double deadline = summoner_now_ms() + svc->timeout_ms;

	snprintf(r.path, sizeof(r.path), "%s/%s", home, svc->wait_for_key);
	for (;;) {
		double left = deadline - summoner_now_ms();
		if (left <= 0)
			return vs_error_set(VS_ETIMEDOUT, "%s not written within %d ms", r.path,
					    svc->timeout_ms);
		int slice = left < READY_SLICE_MS ? (int)left + 1 : READY_SLICE_MS;
		int err = vsc_wait(s->xs, ready_cond, &r, slice);
		if (err != VS_EAGAIN)
			return err;
		int status;
		if (waitpid(in->pid, &status, WNOHANG) == in->pid) {
			char how[64];
			describe_exit(how, sizeof(how), status);
			char why[128];
			snprintf(why, sizeof(why), "the command ended (%s) before it was ready",
				 how);
			service_down(s, idx, why);
			return vs_error_set(VS_EIO, "%s: %s", svc->name, why);
		}
		if (s->stop && s->stop(s))
			return vs_error_set(VS_EAGAIN, "stopping");
	}
}

int summoner_summon(struct summoner *s, size_t idx)
{
	const struct summoner_service *svc = &s->cfg->services[idx];
	struct summoner_instance *in = &s->inst[idx];
	struct home_ctx h = {.svc = svc};
	double t0 = summoner_now_ms();
	int err;

	if (in->pid)
		return 0;
	if ((err = alloc_domid(&h.domid, s)) < 0)
		return err;
	snprintf(h.home, sizeof(h.home), "/local/domain/%u", h.domid);
	if ((err = vsc_transaction_run(s->xs, home_txn, &h, NULL)) < 0)
		return err;
	/* In socket mode the event channel is unused, but 0 is never a valid one. */
	if ((err = vsc_introduce(s->xs, h.domid, 0, 1)) < 0) {
		vsc_rm(s->xs, VSC_TXN_NONE, h.home);
		return err;
	}
	if ((err = spawn(&in->pid, s, svc, h.domid)) < 0) {
		vsc_release(s->xs, h.domid);
		vsc_rm(s->xs, VSC_TXN_NONE, h.home);
		return err;
	}
	in->domid = h.domid;
	in->starts++;
	in->ready = !svc->wait_for_key;
	if (svc->wait_for_key) {
		err = wait_ready(s, idx, h.home);
		if (err == VS_ETIMEDOUT) {
			say(s, true, "%s: %s; answering anyway", svc->name,
			    vs_error_last()->message);
			err = 0;
		} else if (err >= 0) {
			in->ready = true;
		} else if (in->pid) {
			char why[160];
			snprintf(why, sizeof(why), "stopped while waiting (%s)",
				 vs_error_last()->message);
			service_down(s, idx, why);
			return err;
		} else {
			return err;
		}
	}
	say(s, false, "%s: summoned as domain %u (pid %d, start %lu) in %.1f ms%s", svc->name,
	    in->domid, (int)in->pid, in->starts, summoner_now_ms() - t0,
	    in->ready ? "" : ", not ready");
	return 0;
}

void summoner_reap(struct summoner *s)
{
	int status;
	pid_t pid;
	/* Bounded: each pid is reaped once, and we have few children. */
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < s->cfg->count; i++) {
			if (s->inst[i].pid != pid)
				continue;
			char how[64], why[96];
			describe_exit(how, sizeof(how), status);
			snprintf(why, sizeof(why), "the command ended (%s)", how);
			service_down(s, i, why);
		}
	}
}

void summoner_check_domains(struct summoner *s)
{
	for (size_t i = 0; i < s->cfg->count; i++) {
		struct summoner_instance *in = &s->inst[i];
		bool alive = true;
		if (!in->pid || vsc_is_introduced(&alive, s->xs, in->domid) < 0 || alive)
			continue;
		/* Released behind our back: the service loses its store, so stop it. */
		say(s, false, "%s: domain %u was released; stopping pid %d",
		    s->cfg->services[i].name, in->domid, (int)in->pid);
		kill(-in->pid, SIGTERM);
	}
}

void summoner_stop_all(struct summoner *s)
{
	bool any = false;
	for (size_t i = 0; i < s->cfg->count; i++)
		if (s->inst[i].pid) {
			kill(-s->inst[i].pid, SIGTERM);
			any = true;
		}
	double deadline = summoner_now_ms() + STOP_GRACE_MS;
	while (any) {
		any = false;
		for (size_t i = 0; i < s->cfg->count; i++) {
			struct summoner_instance *in = &s->inst[i];
			int status;
			if (!in->pid)
				continue;
			if (waitpid(in->pid, &status, WNOHANG) == in->pid ||
			    summoner_now_ms() > deadline) {
				if (summoner_now_ms() > deadline) {
					kill(-in->pid, SIGKILL);
					waitpid(in->pid, &status, 0);
				}
				service_down(s, i, "stopped");
			} else {
				any = true;
			}
		}
		if (any)
			usleep(10000);
	}
}
