/* SPDX-License-Identifier: MIT */
/*
 * The daemon's mandatory access control: mac/'s security server behind the
 * engine's hooks. The engine asks (check, check_domain, label_new) and
 * reports head changes (node_changed); this file answers from the server
 * and keeps it told what the tree says about domains: a domain's name comes
 * only from /local/domain/N/name written by the privileged domain (or, at
 * start-up, owned by it), and "does B serve F" is read from the head when a
 * pairing rule needs it. Reloads build the new policy aside and switch only
 * when it is valid, so a bad edit never leaves the daemon without one.
 */
#include "mac_glue.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mac/mac.h>

#define AUDIT_FLUSH_MS 2000 /* after an audit line: emit the summaries of what was dropped */
#define NAME_MAX_BYTES 256  /* longest domain name taken from the tree */
#define PATH_BYTES 4200	    /* a Xenstore path (3072 at most) and some */

struct xsd_mac_glue {
	struct xsd_daemon *d;	/* the daemon: its log, loop and engine */
	struct mac_server *s;	/* the security server */
	char *policy_path;	/* absolute: what SIGHUP reloads */
	char *audit_path;	/* absolute --audit-file, or NULL */
	FILE *audit;		/* open --audit-file, or NULL */
	uv_timer_t flush_timer; /* one-shot: mac_audit_flush() after audit lines */
	bool timer_ready;	/* flush_timer initialised and not closed */
	bool audit_grants;	/* granted checks are audited too */
};

int xsd_mac_glue_option(struct xsd_mac_glue_opts *o, int c, const char *arg)
{
	int mode;

	switch (c) {
	case XSD_MAC_OPT_POLICY:
		o->policy = arg;
		return 0;
	case XSD_MAC_OPT_MODE:
		if ((mode = mac_mode_from_name(arg)) < 0) {
			fprintf(stderr,
				"xenstored: --mac: '%s' is neither enforcing nor permissive\n",
				arg);
			return -1;
		}
		o->mode = mode + 1;
		return 0;
	case XSD_MAC_OPT_CHECK:
		o->check = arg;
		return 0;
	case XSD_MAC_OPT_AUDIT_FILE:
		o->audit_file = arg;
		return 0;
	case XSD_MAC_OPT_AUDIT_GRANTS:
		o->audit_grants = true;
		return 0;
	default:
		fprintf(stderr, "xenstored: unexpected option %d\n", c);
		return -1;
	}
}

int xsd_mac_glue_options_done(const struct xsd_mac_glue_opts *o)
{
	const char *needs = o->mode	      ? "--mac"
			    : o->audit_file   ? "--audit-file"
			    : o->audit_grants ? "--audit-grants"
					      : NULL;

	if (!o->check && !o->policy && needs) {
		fprintf(stderr, "xenstored: %s needs --policy FILE\n", needs);
		return -1;
	}
	return 0;
}

void xsd_mac_glue_usage(FILE *f)
{
	fputs("      --policy FILE         enforce the mandatory access control policy in\n"
	      "                            FILE (mac/POLICY.md); refuse to start when it\n"
	      "                            has errors. SIGHUP reloads it\n"
	      "      --mac enforcing|permissive\n"
	      "                            permissive allows what the policy denies but\n"
	      "                            still audits it (default: enforcing)\n"
	      "      --check-policy FILE   print every error of FILE as FILE:LINE: message\n"
	      "                            and exit 1, or print FILE: OK and exit 0\n"
	      "      --audit-file FILE     also append the audit lines to FILE (reopened\n"
	      "                            on SIGHUP); they always go to the daemon log\n"
	      "      --audit-grants        audit granted checks too, not only denials\n",
	      f);
}

int xsd_mac_glue_check_file(const char *path)
{
	struct mac_errors errs;
	struct mac_policy *p = NULL;

	mac_errors_init(&errs);
	int err = mac_policy_load(&p, &errs, path);
	if (err == VS_EINVAL)
		mac_errors_print(stdout, path, &errs);
	else if (err < 0)
		printf("%s: %s\n", path, vs_error_last()->message);
	else
		printf("%s: OK\n", path);
	mac_errors_release(&errs);
	mac_policy_free(p);
	return err < 0 ? 1 : 0;
}

/* @p path made absolute against the working directory; malloc'd, NULL on failure. */
static char *absolute(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	size_t n = strlen(cwd) + strlen(path) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", cwd, path);
	return p;
}

static void flush_cb(uv_timer_t *t)
{
	struct xsd_mac_glue *g = xsd_container_of(t, struct xsd_mac_glue, flush_timer);

	mac_audit_flush(g->s);
}

/* The audit sink: the daemon log, and the audit file when there is one. */
static void on_audit(void *payload, const char *line)
{
	struct xsd_mac_glue *g = payload;

	xsd_log(g->d, LOG_NOTICE, "%s", line);
	if (g->audit)
		fprintf(g->audit, "%s\n", line);
	/* Lines dropped by the rate limit are summarised once their interval is over. */
	if (g->timer_ready && !uv_is_active((uv_handle_t *)&g->flush_timer))
		uv_timer_start(&g->flush_timer, flush_cb, AUDIT_FLUSH_MS, 0);
}

static int audit_open(struct xsd_mac_glue *g)
{
	if (!g->audit_path)
		return 0;
	if (!(g->audit = fopen(g->audit_path, "ae")))
		return vs_error_set(VS_EIO, "cannot open the audit file %s: %s", g->audit_path,
				    strerror(errno));
	setvbuf(g->audit, NULL, _IOLBF, 0);
	return 0;
}

/* Does domain @p b serve a device of domain @p f? Read from the head, as POLICY.md says. */
static bool serves(void *payload, unsigned int b, unsigned int f)
{
	struct xsd_mac_glue *g = payload;
	struct xsd_engine *e = g->d->engine;
	struct vs_buf types = VS_BUF_INIT, ids = VS_BUF_INIT, val = VS_BUF_INIT;
	char path[PATH_BYTES];
	bool yes = false;

	snprintf(path, sizeof(path), "/local/domain/%u/device", f);
	if (!e || xsd_engine_directory(&types, e, path) <= 0)
		goto out;
	for (size_t i = 0; !yes && i < types.size; i += strlen(types.ptr + i) + 1) {
		const char *type = types.ptr + i;
		snprintf(path, sizeof(path), "/local/domain/%u/device/%s", f, type);
		if (xsd_engine_directory(&ids, e, path) <= 0)
			continue;
		for (size_t j = 0; !yes && j < ids.size; j += strlen(ids.ptr + j) + 1) {
			const char *id = ids.ptr + j;
			char *end;
			snprintf(path, sizeof(path), "/local/domain/%u/device/%s/%s/backend-id", f,
				 type, id);
			if (xsd_engine_read(&val, e, path) < 0 || !val.size)
				continue; /* val.ptr is NUL-terminated past its size */
			errno = 0;
			unsigned long v = strtoul(val.ptr, &end, 10);
			if (errno || *end || val.ptr[0] < '0' || val.ptr[0] > '9' || v != b)
				continue;
			/* The backend's side must exist too: the toolstack made both. */
			snprintf(path, sizeof(path), "/local/domain/%u/backend/%s/%u/%s", b, type,
				 f, id);
			yes = xsd_engine_stat(NULL, NULL, 0, e, path) >= 0;
		}
	}
out:
	vs_buf_release(&types);
	vs_buf_release(&ids);
	vs_buf_release(&val);
	return yes;
}

int xsd_mac_glue_new(struct xsd_mac_glue **out, struct xsd_daemon *d,
		     const struct xsd_mac_glue_opts *o)
{
	struct mac_server_opts so = MAC_SERVER_OPTS_INIT;
	struct mac_errors errs;
	struct mac_policy *p = NULL;
	struct xsd_mac_glue *g;
	int err;

	*out = NULL;
	if (!(g = calloc(1, sizeof(*g))))
		return vs_error_set(VS_ENOMEM, "out of memory");
	g->d = d;
	mac_errors_init(&errs);
	if (!(g->policy_path = absolute(o->policy)) ||
	    (o->audit_file && !(g->audit_path = absolute(o->audit_file)))) {
		err = vs_error_set(VS_ENOMEM, "cannot resolve paths: %s", strerror(errno));
		goto fail;
	}
	if ((err = mac_policy_load(&p, &errs, g->policy_path)) < 0) {
		if (err == VS_EINVAL) {
			mac_errors_print(stderr, o->policy, &errs);
			err = vs_error_set(err, "the policy %s has %zu error(s); not starting",
					   o->policy, errs.count);
		}
		goto fail;
	}
	if ((err = audit_open(g)) < 0)
		goto fail;
	so.mode = o->mode ? (enum mac_mode)(o->mode - 1) : MAC_MODE_ENFORCING;
	so.serves = serves;
	so.serves_payload = g;
	so.audit = on_audit;
	so.audit_payload = g;
	so.audit_grants = g->audit_grants = o->audit_grants;
	if ((err = mac_server_new(&g->s, p, &so)) < 0)
		goto fail;
	mac_policy_free(p);
	mac_errors_release(&errs);
	*out = g;
	return 0;
fail:
	mac_policy_free(p);
	mac_errors_release(&errs);
	xsd_mac_glue_free(g);
	return err;
}

/* "/local/domain/N/name" names domain N (canonical decimal, a domid the policy can name). */
static bool name_path(const char *path, unsigned int *domid)
{
	static const char prefix[] = "/local/domain/";
	const char *p = path + sizeof(prefix) - 1;
	char *end;

	if (strncmp(path, prefix, sizeof(prefix) - 1) || *p < '0' || *p > '9' ||
	    (p[0] == '0' && p[1] != '/'))
		return false;
	unsigned long v = strtoul(p, &end, 10);
	if (strcmp(end, "/name") || v > MAC_DOMID_MAX)
		return false;
	*domid = (unsigned int)v;
	return true;
}

/* Tell the server domain @p domid's name as node @p path holds it (gone: none). */
static void name_learn(struct xsd_mac_glue *g, unsigned int domid, const char *path)
{
	struct vs_buf val = VS_BUF_INIT;
	char name[NAME_MAX_BYTES];
	bool have = g->d->engine && xsd_engine_read(&val, g->d->engine, path) >= 0;

	/* The value up to its first NUL: names are text. */
	snprintf(name, sizeof(name), "%.*s", have ? (int)val.size : 0, have ? val.ptr : "");
	vs_buf_release(&val);
	if (mac_domain_set_name(g->s, domid, have && name[0] ? name : NULL) < 0) {
		xsd_log(g->d, LOG_ERR, "mac: %s", vs_error_last()->message);
		return;
	}
	if (have && name[0])
		xsd_log(g->d, LOG_INFO, "mac: domain %u is named '%s': label %s", domid, name,
			mac_domain_label(g->s, domid));
	else
		xsd_log(g->d, LOG_INFO, "mac: domain %u has no name: label %s", domid,
			mac_domain_label(g->s, domid));
}

/* The engine's operations are mac/'s, one for one. */
static int mac_op_of(enum xsd_mac_op op)
{
	static const enum mac_op map[] = {
	    [XSD_MAC_READ] = MAC_OP_READ,	    [XSD_MAC_WRITE] = MAC_OP_WRITE,
	    [XSD_MAC_CREATE] = MAC_OP_CREATE,	    [XSD_MAC_REMOVE] = MAC_OP_REMOVE,
	    [XSD_MAC_LIST] = MAC_OP_LIST,	    [XSD_MAC_WATCH] = MAC_OP_WATCH,
	    [XSD_MAC_SETPERM] = MAC_OP_SETPERM,	    [XSD_MAC_RELABEL] = MAC_OP_RELABEL,
	    [XSD_MAC_INTRODUCE] = MAC_OP_INTRODUCE, [XSD_MAC_RELEASE] = MAC_OP_RELEASE,
	    [XSD_MAC_CONTROL] = MAC_OP_CONTROL,
	};
	return (unsigned int)op < sizeof(map) / sizeof(map[0]) ? (int)map[op] : -1;
}

static int hook_check(void *payload, unsigned int domid, enum xsd_mac_op op, const char *path,
		      const char *label, bool quiet)
{
	struct xsd_mac_glue *g = payload;
	char tool[MAC_LABEL_MAX + 1];
	int mop = mac_op_of(op);

	if (mop < 0)
		return vs_error_set(VS_EACCES, "unknown operation %d", (int)op);
	if (!path) {
		/* The daemon itself: the policy labels it as its node /tool/xenstored. */
		path = "/tool/xenstored";
		label = NULL;
		if (g->d->engine &&
		    xsd_engine_stat(NULL, tool, sizeof(tool), g->d->engine, path) >= 0 && tool[0])
			label = tool;
	}
	return mac_check(g->s, domid, (enum mac_op)mop, path, label, quiet ? MAC_CHECK_QUIET : 0);
}

static int hook_check_domain(void *payload, unsigned int domid, enum xsd_mac_op op,
			     unsigned int target)
{
	struct xsd_mac_glue *g = payload;
	int mop = mac_op_of(op);

	if (mop < 0)
		return vs_error_set(VS_EACCES, "unknown operation %d", (int)op);
	return mac_check_domain(g->s, domid, (enum mac_op)mop, target, 0);
}

static int hook_label_new(void *payload, char *out, size_t outsz, unsigned int domid,
			  const char *path, const char *parent_label)
{
	struct xsd_mac_glue *g = payload;
	char label[MAC_LABEL_MAX + 1];

	(void)domid; /* the label depends on the path alone */
	mac_node_label(g->s, label, path, parent_label);
	if (strlen(label) >= outsz)
		return vs_error_set(VS_EINVAL, "label %s too long", label);
	memcpy(out, label, strlen(label) + 1);
	return 0;
}

static int hook_label_check(void *payload, const char *label)
{
	struct xsd_mac_glue *g = payload;

	return mac_policy_label_check(mac_server_policy(g->s), label);
}

/*
 * Domain names only from the privileged domain: a guest that may write its
 * own name node (under some policy) must not pick its label by naming itself.
 */
static void hook_node_changed(void *payload, const char *path, unsigned int domid, bool priv,
			      bool removed)
{
	struct xsd_mac_glue *g = payload;
	unsigned int named;

	if (!name_path(path, &named))
		return;
	if (!priv) {
		xsd_log(g->d, LOG_INFO, "mac: domain %u changed %s; its name stays as it was",
			domid, path);
		return;
	}
	if (removed)
		mac_domain_set_name(g->s, named, NULL);
	else
		name_learn(g, named, path);
}

int xsd_mac_glue_start(struct xsd_mac_glue *g)
{
	struct vs_buf doms = VS_BUF_INIT;
	char path[64];
	unsigned int domid, owner;
	int n;

	/* Names stored before a restart count when the privileged domain owns the node. */
	n = xsd_engine_directory(&doms, g->d->engine, "/local/domain");
	for (size_t i = 0; n > 0 && i < doms.size; i += strlen(doms.ptr + i) + 1) {
		snprintf(path, sizeof(path), "/local/domain/%.20s/name", doms.ptr + i);
		if (name_path(path, &domid) &&
		    xsd_engine_stat(&owner, NULL, 0, g->d->engine, path) >= 0 &&
		    owner == g->d->priv_domid)
			name_learn(g, domid, path);
	}
	vs_buf_release(&doms);
	uv_timer_init(g->d->loop, &g->flush_timer);
	uv_unref((uv_handle_t *)&g->flush_timer); /* never keeps the loop alive alone */
	g->timer_ready = true;
	return 0;
}

/* Append each error of @p errs to @p report as "FILE:LINE: message". */
static int report_errors(struct vs_buf *report, const char *source, const struct mac_errors *errs)
{
	int err = 0;

	for (size_t i = 0; i < errs->count && err >= 0; i++)
		err = errs->items[i].line
			  ? vs_buf_printf(report, "%s:%u: %s\n", source, errs->items[i].line,
					  errs->items[i].message)
			  : vs_buf_printf(report, "%s: %s\n", source, errs->items[i].message);
	return err;
}

int xsd_mac_glue_reload(struct xsd_mac_glue *g, const char *path, struct vs_buf *report)
{
	struct mac_errors errs;
	struct mac_policy *p = NULL;
	char *abs = absolute(path ? path : g->policy_path);
	int err;

	if (!abs)
		return vs_error_set(VS_ENOMEM, "cannot resolve %s", path);
	mac_errors_init(&errs);
	if ((err = mac_policy_load(&p, &errs, abs)) >= 0)
		err = mac_server_set_policy(g->s, p);
	if (err < 0) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", vs_error_last()->message);
		vs_buf_printf(report, "mac: %s not loaded, keeping the old policy: %s\n", abs,
			      err == VS_EINVAL && errs.count ? "it has errors" : msg);
		report_errors(report, abs, &errs);
		vs_error_set(err, "%s", msg);
	} else {
		free(g->policy_path);
		g->policy_path = abs;
		abs = NULL;
		vs_buf_printf(report, "OK: %s loaded, mode %s\n", g->policy_path,
			      mac_mode_name(mac_server_mode(g->s)));
	}
	free(abs);
	mac_policy_free(p);
	mac_errors_release(&errs);
	return err;
}

/* Log each line of reload report @p text at @p level. */
static void log_lines(struct xsd_mac_glue *g, int level, const char *text)
{
	for (const char *nl; *text; text = nl + 1) {
		if (!(nl = strchr(text, '\n')))
			nl = text + strlen(text) - 1;
		xsd_log(g->d, level, "%s%.*s", strncmp(text, "mac: ", 5) ? "mac: reload: " : "",
			(int)(nl - text + (*nl != '\n')), text);
	}
}

static int ctl_status(struct xsd_mac_glue *g, struct vs_buf *out)
{
	struct mac_stats st;

	mac_server_stats(g->s, &st);
	return vs_buf_printf(out,
			     "policy %s\nmode %s\naudit-grants %s\nreloads %llu\n"
			     "checks %llu\ndenials %llu\ncache hits %llu misses %llu\n"
			     "audit lines %llu suppressed %llu\n",
			     g->policy_path, mac_mode_name(mac_server_mode(g->s)),
			     g->audit_grants ? "on" : "off", (unsigned long long)st.policy_seq - 1,
			     (unsigned long long)st.checks, (unsigned long long)st.denials,
			     (unsigned long long)st.cache_hits, (unsigned long long)st.cache_misses,
			     (unsigned long long)st.audit_lines,
			     (unsigned long long)st.audit_suppressed);
}

/* The reply says whether the new policy took; a bad one is not an error of the request. */
static int ctl_reload(struct xsd_mac_glue *g, struct vs_buf *out, const char *path)
{
	size_t start = out->size;
	int err = xsd_mac_glue_reload(g, path, out);

	if (err == VS_ENOMEM)
		return err;
	if (out->ptr) /* NUL-terminated past its size */
		log_lines(g, err < 0 ? LOG_ERR : LOG_NOTICE, out->ptr + start);
	return 0;
}

static int ctl_mode(struct xsd_mac_glue *g, struct vs_buf *out, const char *name)
{
	int mode = name ? mac_mode_from_name(name) : (int)mac_server_mode(g->s);

	if (mode < 0)
		return vs_error_set(VS_EINVAL, "mac mode [enforcing|permissive]");
	if (name) {
		mac_server_set_mode(g->s, (enum mac_mode)mode);
		xsd_log(g->d, LOG_NOTICE, "mac: mode %s", name);
	}
	return vs_buf_printf(out, "%s%s\n", name ? "OK: " : "", mac_mode_name(mode));
}

/* "mac label DOMID [LABEL|-]": show, set or (-) drop a domain's explicit label. */
static int ctl_label(struct xsd_mac_glue *g, struct vs_buf *out, const char *const *argv, size_t n)
{
	char *end;
	int err;

	errno = 0;
	unsigned long domid = n ? strtoul(argv[0], &end, 10) : 0;
	if (n < 1 || n > 2 || !*argv[0] || *end || errno || domid > MAC_DOMID_MAX)
		return vs_error_set(VS_EINVAL, "mac label <domid> [<label>|-]");
	if (n == 2) {
		const char *label = strcmp(argv[1], "-") ? argv[1] : NULL;
		if ((err = mac_domain_set_label(g->s, (unsigned int)domid, label)) < 0)
			return err;
		xsd_log(g->d, LOG_NOTICE, "mac: domain %lu labelled %s", domid,
			label ? label : "by the policy's rules");
	}
	return vs_buf_printf(out, "%s%s\n", n == 2 ? "OK: " : "",
			     mac_domain_label(g->s, (unsigned int)domid));
}

static int ctl_audit_grants(struct xsd_mac_glue *g, struct vs_buf *out, const char *arg)
{
	if (arg && strcmp(arg, "on") && strcmp(arg, "off"))
		return vs_error_set(VS_EINVAL, "mac audit-grants [on|off]");
	if (arg) {
		g->audit_grants = !strcmp(arg, "on");
		mac_server_set_audit_grants(g->s, g->audit_grants);
	}
	return vs_buf_printf(out, "%saudit-grants %s\n", arg ? "OK: " : "",
			     g->audit_grants ? "on" : "off");
}

static int hook_control(void *payload, struct vs_buf *out, const char *const *argv, size_t n)
{
	struct xsd_mac_glue *g = payload;
	const char *cmd = n ? argv[0] : "help";

	if (!strcmp(cmd, "status") && n <= 1)
		return ctl_status(g, out);
	if (!strcmp(cmd, "reload") && n <= 2)
		return ctl_reload(g, out, n == 2 ? argv[1] : NULL);
	if (!strcmp(cmd, "mode") && n <= 2)
		return ctl_mode(g, out, n == 2 ? argv[1] : NULL);
	if (!strcmp(cmd, "label"))
		return ctl_label(g, out, argv + 1, n - 1);
	if (!strcmp(cmd, "audit-grants") && n <= 2)
		return ctl_audit_grants(g, out, n == 2 ? argv[1] : NULL);
	if (strcmp(cmd, "help"))
		return vs_error_set(VS_EINVAL, "unknown mac command %s (mac help)", cmd);
	return vs_buf_puts(out,
			   "mac status                      policy, mode, counters\n"
			   "mac reload [<file>]             load the policy file (or <file>)\n"
			   "mac mode [enforcing|permissive] show or set the mode\n"
			   "mac label <domid> [<label>|-]   show, set or drop a domain's label\n"
			   "mac relabel <path> <label>      change a node's label (a commit)\n"
			   "mac audit-grants [on|off]       audit granted checks too\n");
}

void xsd_mac_glue_hooks(struct xsd_mac_hooks *out, struct xsd_mac_glue *g)
{
	*out = (struct xsd_mac_hooks){
	    .check = hook_check,
	    .check_domain = hook_check_domain,
	    .label_new = hook_label_new,
	    .label_check = hook_label_check,
	    .node_changed = hook_node_changed,
	    .control = hook_control,
	    .payload = g,
	};
}

void xsd_mac_glue_hup(struct xsd_mac_glue *g)
{
	struct vs_buf report = VS_BUF_INIT;

	if (g->audit) {
		fclose(g->audit);
		g->audit = NULL;
	}
	if (audit_open(g) < 0)
		xsd_log(g->d, LOG_ERR, "mac: %s", vs_error_last()->message);
	int err = xsd_mac_glue_reload(g, NULL, &report);
	if (report.ptr)
		log_lines(g, err < 0 ? LOG_ERR : LOG_NOTICE, report.ptr);
	vs_buf_release(&report);
}

void xsd_mac_glue_domain_released(struct xsd_mac_glue *g, unsigned int domid)
{
	if (g && domid <= MAC_DOMID_MAX)
		mac_domain_forget(g->s, domid);
}

void xsd_mac_glue_stop(struct xsd_mac_glue *g)
{
	if (!g || !g->timer_ready)
		return;
	g->timer_ready = false;
	uv_close((uv_handle_t *)&g->flush_timer, NULL);
}

void xsd_mac_glue_free(struct xsd_mac_glue *g)
{
	if (!g)
		return;
	mac_server_free(g->s); /* emits the last summaries through on_audit */
	if (g->audit)
		fclose(g->audit);
	free(g->policy_path);
	free(g->audit_path);
	free(g);
}
