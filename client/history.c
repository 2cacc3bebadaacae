/* SPDX-License-Identifier: MIT */
/*
 * History of Xenstore paths: every change the engine makes is a commit on
 * its branch (DESIGN.md §3), node /a/b being the subtree a/b. Two sources
 * give the same answers: the store itself (the in-process transport) and
 * vstore's daemon through CONTROL "history" (socket transports), whose reply
 * format this file parses:
 *   history log PATH MAX SKIP [START] ->
 *       "start <commit>\n" then "<commit> <time> <domid|-> <summary>\n" per
 *       change (newest first, whole lines only, as many as fit in a reply),
 *       then "more\n" (ask again with SKIP + the lines received and START)
 *       or "end\n"
 *   history read COMMIT PATH -> the value's bytes
 * Summaries are cut at VSC_SUMMARY_MAX bytes by both.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_int.h"
#include "xsd_int.h"

#define VSC_SUMMARY_MAX 1024

void vsc_changes_free(struct vsc_change *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i].summary);
	free(v);
}

int vsc_log(struct vsc_change **out, size_t *n, struct vsc_client *c, const char *path, size_t max)
{
	if (!out || !n || !c || !path)
		return vs_error_set(VS_EINVAL, "vsc_log: bad arguments");
	*out = NULL;
	*n = 0;
	if (!c->t->ops->log)
		return vs_error_set(VS_ENOTSUP, "the %s transport has no history",
				    c->t->ops->scheme);
	return c->t->ops->log(out, n, c->t, c, path, max);
}

int vsc_read_at(struct vs_buf *out, struct vsc_client *c, const char *commit, const char *path)
{
	if (!out || !c || !commit || !path)
		return vs_error_set(VS_EINVAL, "vsc_read_at: bad arguments");
	if (!c->t->ops->read_at)
		return vs_error_set(VS_ENOTSUP, "the %s transport has no history",
				    c->t->ops->scheme);
	return c->t->ops->read_at(out, c->t, c, commit, path);
}

/* Append one change to *v (n entries, cap allocated). */
static int change_add(struct vsc_change **v, size_t *n, size_t *cap, const char *hex, int64_t time,
		      unsigned int domid, const char *summary, size_t slen)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct vsc_change *nv = realloc(*v, ncap * sizeof(*nv));
		if (!nv)
			return vs_error_set(VS_ENOMEM, "out of memory");
		*v = nv;
		*cap = ncap;
	}
	struct vsc_change *ch = &(*v)[*n];
	memset(ch, 0, sizeof(*ch));
	snprintf(ch->commit, sizeof(ch->commit), "%s", hex);
	ch->time = time;
	ch->domid = domid;
	if (!(ch->summary = strndup(summary, slen)))
		return vs_error_set(VS_ENOMEM, "out of memory");
	(*n)++;
	return 0;
}

/* --- over CONTROL ------------------------------------------------------------ */

/* Parse one entry line "<commit> <time> <domid|-> <summary>". */
static int parse_entry(struct vsc_change **v, size_t *n, size_t *cap, const char *line, size_t len)
{
	char hex[VS_OID_MAXHEXSZ + 1], dom[16], buf[4096];
	long long time;
	int used = 0;

	/* A copy that ends where the line ends, so the scan cannot run past it. */
	if (len >= sizeof(buf))
		return vs_error_set(VS_EIO, "history: log line too long");
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (sscanf(buf, "%64s %lld %15s %n", hex, &time, dom, &used) < 3 || !used)
		return vs_error_set(VS_EIO, "history: bad log line");
	unsigned int domid = ~0u;
	if (strcmp(dom, "-"))
		domid = (unsigned int)strtoul(dom, NULL, 10);
	return change_add(v, n, cap, hex, time, domid, buf + used, len - (size_t)used);
}

int vsc__log_control(struct vsc_change **out, size_t *n, struct vsc_transport *t,
		     struct vsc_client *c, const char *path, size_t max)
{
	struct vs_buf r = VS_BUF_INIT;
	struct vsc_change *v = NULL;
	size_t cnt = 0, cap = 0;
	char start[VS_OID_MAXHEXSZ + 1] = "", smax[24], sskip[24];
	int err = 0;
	(void)t;

	for (bool more = true; more && err >= 0 && (!max || cnt < max);) {
		const char *argv[6] = {"history", "log", path, smax, sskip, start};
		snprintf(smax, sizeof(smax), "%zu", max ? max - cnt : 0);
		snprintf(sskip, sizeof(sskip), "%zu", cnt);
		if ((err = vsc_control(&r, c, argv, *start ? 6 : 5)) < 0)
			break;
		more = false;
		size_t got = 0;
		for (char *p = r.ptr, *end = r.ptr + r.size; p < end && err >= 0;) {
			char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
			if (!strncmp(p, "start ", 6) && len - 6 < sizeof(start)) {
				if (!*start)
					snprintf(start, sizeof(start), "%.*s", (int)(len - 6),
						 p + 6);
			} else if (len == 4 && !strncmp(p, "more", 4)) {
				more = true;
			} else if (!(len == 3 && !strncmp(p, "end", 3))) {
				err = parse_entry(&v, &cnt, &cap, p, len);
				got++;
			}
			p += len + 1;
		}
		if (err >= 0 && more && !got)
			err = vs_error_set(VS_EIO, "history: the daemon sent no progress");
	}
	vs_buf_release(&r);
	if (err < 0) {
		vsc_changes_free(v, cnt);
		return err;
	}
	*out = v;
	*n = cnt;
	return 0;
}

int vsc__read_at_control(struct vs_buf *out, struct vsc_transport *t, struct vsc_client *c,
			 const char *commit, const char *path)
{
	const char *argv[4] = {"history", "read", commit, path};
	struct vs_buf b = VS_BUF_INIT;
	int err = 0;
	(void)t;

	for (size_t i = 0; i < 4 && err >= 0; i++)
		err = vs_buf_put(&b, argv[i], strlen(argv[i]) + 1);
	if (err >= 0) {
		struct iovec v = {b.ptr, b.size};
		err = vsc__request(out, c, XSD_CONTROL, VSC_TXN_NONE, &v, 1, path);
	}
	/* The value, then the NUL the daemon ends every CONTROL reply with. */
	if (err >= 0 && out->size)
		out->ptr[--out->size] = '\0';
	vs_buf_release(&b);
	return err;
}

/* --- straight from the store --------------------------------------------------- */

/* The acting domain of a commit: its Xs-Domain trailer, else its author "domN". */
static unsigned int commit_domid(struct vs_commit *commit)
{
	const char *msg = vs_commit_message(commit);
	const char *t = msg ? strstr(msg, "\nXs-Domain: ") : NULL;
	if (t)
		return (unsigned int)strtoul(t + 12, NULL, 10);
	const char *name = vs_commit_author(commit)->name;
	if (!strncmp(name, "dom", 3) && name[3] >= '0' && name[3] <= '9')
		return (unsigned int)strtoul(name + 3, NULL, 10);
	return ~0u;
}

struct log_walk {
	struct vsc_change *v;
	size_t n, cap;
	int err;
};

static int log_cb(void *payload, struct vs_commit *commit)
{
	struct log_walk *w = payload;
	char hex[VS_OID_MAXHEXSZ + 1], sum[VSC_SUMMARY_MAX];
	vs_oid_tostr(hex, vs_commit_id(commit));
	vs_commit_summary(commit, sum, sizeof(sum));
	w->err = change_add(&w->v, &w->n, &w->cap, hex, vs_commit_committer(commit)->time,
			    commit_domid(commit), sum, strlen(sum));
	return w->err < 0 ? 1 : 0;
}

int vsc__log_repo(struct vsc_change **out, size_t *n, struct vs_repo *repo, const char *branch,
		  const char *path, size_t max)
{
	char sp[XSD_STORE_PATH_BUF];
	struct vs_oid head;
	struct log_walk w = {.err = 0};
	int err;

	if ((err = xsd_path_store(sp, sizeof(sp), path, XSD_STORE_NODE)) < 0 ||
	    (err = vs_branch_head(&head, repo, branch)) < 0)
		return err;
	struct vs_log_opts o = {.path = *sp ? sp : NULL, .max = max};
	err = vs_log(repo, &head, &o, log_cb, &w);
	if (w.err < 0 || err < 0) {
		vsc_changes_free(w.v, w.n);
		return w.err < 0 ? w.err : err;
	}
	*out = w.v;
	*n = w.n;
	return 0;
}

int vsc__read_at_repo(struct vs_buf *out, struct vs_repo *repo, const char *branch,
		      const char *commit, const char *path)
{
	char sp[XSD_STORE_PATH_BUF];
	struct vs_buf meta = VS_BUF_INIT;
	struct vs_oid id;
	int err;

	if ((err = vs_repo_resolve_rev(&id, repo, commit, branch)) < 0 ||
	    (err = xsd_path_store(sp, sizeof(sp), path, XSD_STORE_VALUE)) < 0)
		return err;
	if ((err = vs_read_at(out, repo, &id, sp)) >= 0 && !out->ptr)
		err = vs_buf_set(out, "", 0);
	if (err != VS_ENOENT && err != VS_ENOTDIR)
		return err;
	/* No value blob: an empty value if the node was there, else ENOENT. */
	if ((err = xsd_path_store(sp, sizeof(sp), path, XSD_STORE_META)) >= 0)
		err = vs_read_at(&meta, repo, &id, sp);
	vs_buf_release(&meta);
	if (err == VS_ENOENT || err == VS_ENOTDIR)
		return vs_error_set(VS_ENOENT, "%s: no such node at %s", path, commit);
	if (err >= 0)
		err = vs_buf_set(out, "", 0);
	return err;
}
