/* SPDX-License-Identifier: MIT */
/*
 * vsc_wait(): MirageOS's Xs.wait. Run the condition while recording the
 * paths it reads; while it answers "not yet", keep a watch on exactly those
 * paths (adding new ones, dropping ones it no longer reads) and run it again
 * after an event. A watch fires once when it is set, so a change that lands
 * between the condition's read and the watch is never missed: that first
 * event runs the condition again. The watches' tokens are private to this
 * call ("vsc-wait:<seq>:<n>"); their events never reach the application's
 * queue, and they are removed before returning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_int.h"

struct wait_state {
	char prefix[48];   /* token prefix of this call's watches */
	char **paths;	   /* watched paths */
	unsigned int *ids; /* their token numbers */
	size_t n, cap;
	unsigned int next_id;
};

static void strings_free(struct vs_strarray *a)
{
	for (size_t i = 0; i < a->count; i++)
		free(a->strings[i]);
	free(a->strings);
	*a = (struct vs_strarray){0};
}

static void token_of(char *out, size_t n, const struct wait_state *w, unsigned int id)
{
	snprintf(out, n, "%s%u", w->prefix, id);
}

static bool read_now(const struct vs_strarray *reads, const char *path)
{
	for (size_t i = 0; i < reads->count; i++)
		if (!strcmp(reads->strings[i], path))
			return true;
	return false;
}

static bool watched(const struct wait_state *w, const char *path)
{
	for (size_t i = 0; i < w->n; i++)
		if (!strcmp(w->paths[i], path))
			return true;
	return false;
}

/* Drop watch @i (unwatched on the daemon when @remote). */
static void unwatch_at(struct vsc_client *c, struct wait_state *w, size_t i, bool remote)
{
	char tok[64];
	token_of(tok, sizeof(tok), w, w->ids[i]);
	if (remote)
		vsc_unwatch(c, w->paths[i], tok); /* an error leaves a stray watch, nothing worse */
	free(w->paths[i]);
	w->paths[i] = w->paths[w->n - 1];
	w->ids[i] = w->ids[w->n - 1];
	w->n--;
}

/* Make the watches match @reads. */
static int update_watches(struct vsc_client *c, struct wait_state *w,
			  const struct vs_strarray *reads)
{
	char tok[64];
	int err;

	for (size_t i = w->n; i-- > 0;)
		if (!read_now(reads, w->paths[i]))
			unwatch_at(c, w, i, true);
	for (size_t i = 0; i < reads->count; i++) {
		if (watched(w, reads->strings[i]))
			continue;
		if (w->n == w->cap) {
			size_t ncap = w->cap ? w->cap * 2 : 8;
			char **np = realloc(w->paths, ncap * sizeof(*np));
			if (np)
				w->paths = np;
			unsigned int *ni = np ? realloc(w->ids, ncap * sizeof(*ni)) : NULL;
			if (!ni)
				return vs_error_set(VS_ENOMEM, "out of memory");
			w->ids = ni;
			w->cap = ncap;
		}
		if (!(w->paths[w->n] = strdup(reads->strings[i])))
			return vs_error_set(VS_ENOMEM, "out of memory");
		w->ids[w->n] = w->next_id++;
		token_of(tok, sizeof(tok), w, w->ids[w->n]);
		if ((err = vsc_watch(c, reads->strings[i], tok, -1)) < 0) {
			free(w->paths[w->n]);
			return err;
		}
		w->n++;
	}
	return 0;
}

int vsc_wait(struct vsc_client *c, vsc_wait_fn *fn, void *payload, int timeout_ms)
{
	struct wait_state w = {.n = 0};
	struct vs_strarray reads = {0};
	int64_t deadline = vsc__deadline(timeout_ms);
	int err;

	if (!c || !fn)
		return vs_error_set(VS_EINVAL, "vsc_wait: bad arguments");
	if (c->track)
		return vs_error_set(VS_EBUSY, "vsc_wait does not nest");
	snprintf(w.prefix, sizeof(w.prefix), "vsc-wait:%u:", ++c->wait_seq);
	for (;;) {
		strings_free(&reads);
		c->track = &reads;
		err = fn(c, payload);
		c->track = NULL;
		if (err != VSC_WAIT_AGAIN)
			break;
		if (!reads.count) {
			err = vs_error_set(VS_EINVAL,
					   "vsc_wait: the condition read nothing to watch");
			break;
		}
		if ((err = update_watches(c, &w, &reads)) < 0)
			break;
		struct vsc_event ev;
		if ((err = vsc__event_take(&ev, c, w.prefix, deadline)) < 0) {
			if (err == VS_EAGAIN)
				err = vs_error_set(VS_EAGAIN, "vsc_wait: timed out");
			break;
		}
		vsc_event_release(&ev);
		/* One run answers every event already here. */
		vsc__events_drop(c, w.prefix, false, NULL);
	}
	strings_free(&reads);
	/* Keep the condition's own error and message over the clean-up's. */
	const struct vs_error *last = vs_error_last();
	struct vs_buf msg = VS_BUF_INIT;
	int saved = err < 0 ? vs_buf_puts(&msg, last->message) : -1;
	while (w.n)
		unwatch_at(c, &w, w.n - 1, !c->broken);
	vsc__events_drop(c, w.prefix, false, NULL);
	if (saved >= 0)
		vs_error_set(err, "%s", msg.ptr);
	vs_buf_release(&msg);
	free(w.paths);
	free(w.ids);
	return err;
}
