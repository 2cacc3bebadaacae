/* SPDX-License-Identifier: MIT */
/*
 * The engine fixture (engine_fixture.h): a store, an engine, recording
 * hooks and connections with message queues. Every helper fails the test
 * on a broken protocol invariant (reply without its req_id, wrong type,
 * two replies), so each test checks those on every request for free.
 */
#include "engine_fixture.h"

static int hook_introduce(void *payload, unsigned int domid, uint64_t gfn, uint32_t evtchn)
{
	struct ef_fixture *f = payload;
	if (f->introduce_rc < 0)
		return f->introduce_rc;
	assert_true(f->nintroduced < EF_MAX_HOOK_CALLS);
	f->introduced[f->nintroduced] = domid;
	f->introduced_gfn[f->nintroduced] = gfn;
	f->introduced_evtchn[f->nintroduced] = evtchn;
	f->nintroduced++;
	return 0;
}

static void hook_release(void *payload, unsigned int domid)
{
	struct ef_fixture *f = payload;
	assert_true(f->nreleased < EF_MAX_HOOK_CALLS);
	f->released[f->nreleased++] = domid;
}

void ef_default_opts(struct xsd_engine_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->version = XSD_ENGINE_OPTS_VERSION;
	xsd_quota_defaults(&opts->quota);
}

static void engine_open(struct ef_fixture *f)
{
	f->opts.hooks.introduce = hook_introduce;
	f->opts.hooks.release = hook_release;
	f->opts.hooks.payload = f;
	assert_vs_ok(xsd_engine_new(&f->e, f->repo, &f->opts));
}

struct ef_fixture *ef_new(const struct xsd_engine_opts *opts)
{
	struct ef_fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	if (opts)
		f->opts = *opts;
	else
		ef_default_opts(&f->opts);
	assert_vs_ok(vs_repo_open(&f->repo, "mem:", NULL));
	engine_open(f);
	return f;
}

static void close_all(struct ef_fixture *f)
{
	for (size_t i = 0; i < EF_MAX_CONNS; i++)
		if (f->conns[i])
			ef_close(f->conns[i]);
}

void ef_free(struct ef_fixture *f)
{
	if (!f)
		return;
	close_all(f);
	xsd_engine_free(f->e);
	vs_repo_close(f->repo);
	free(f);
}

void ef_restart(struct ef_fixture *f)
{
	close_all(f);
	xsd_engine_free(f->e);
	f->e = NULL;
	engine_open(f);
}

int ef_setup(void **state)
{
	*state = ef_new(NULL);
	return 0;
}

int ef_teardown(void **state)
{
	ef_free(*state);
	return 0;
}

static void on_send(void *payload, const struct xsd_msg_hdr *hdr, const void *body)
{
	struct ef_conn *c = payload;
	assert_true(hdr->len <= XSD_PAYLOAD_MAX);
	if (c->nq == c->qcap) {
		c->qcap = c->qcap ? c->qcap * 2 : 16;
		c->q = realloc(c->q, c->qcap * sizeof(*c->q));
		assert_non_null(c->q);
	}
	struct ef_msg *m = &c->q[c->nq++];
	m->hdr = *hdr;
	m->body = malloc(hdr->len + 1);
	assert_non_null(m->body);
	if (hdr->len)
		memcpy(m->body, body, hdr->len);
	m->body[hdr->len] = '\0';
}

struct ef_conn *ef_conn(struct ef_fixture *f, unsigned int domid, unsigned int flags)
{
	size_t slot = 0;
	while (slot < EF_MAX_CONNS && f->conns[slot])
		slot++;
	assert_true(slot < EF_MAX_CONNS);
	struct ef_conn *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	c->f = f;
	c->domid = domid;
	assert_vs_ok(xsd_conn_new(&c->c, f->e, domid, flags, on_send, c));
	assert_int_equal(xsd_conn_domid(c->c), domid);
	f->conns[slot] = c;
	return c;
}

struct ef_conn *ef_priv(struct ef_fixture *f)
{
	return ef_conn(f, 0, XSD_CONN_PRIV);
}

static void msg_free(struct ef_msg *m)
{
	free(m->body);
	m->body = NULL;
}

void ef_close(struct ef_conn *c)
{
	if (!c)
		return;
	struct ef_fixture *f = c->f;
	for (size_t i = 0; i < EF_MAX_CONNS; i++)
		if (f->conns[i] == c)
			f->conns[i] = NULL;
	xsd_conn_free(c->c);
	xsd_engine_flush(f->e);
	for (size_t i = 0; i < c->nq; i++)
		msg_free(&c->q[i]);
	free(c->q);
	msg_free(&c->last);
	free(c->text);
	free(c);
}

int ef_send(struct ef_conn *c, uint32_t type, uint32_t tx_id, const void *payload, size_t len)
{
	struct xsd_msg_hdr hdr = { type, ++c->f->next_req, tx_id, (uint32_t)len };
	int rc = xsd_conn_request(c->c, &hdr, payload);
	assert_vs_ok(xsd_engine_flush(c->f->e));
	assert_false(xsd_engine_pending(c->f->e));
	return rc;
}

const struct ef_msg *ef_req(struct ef_conn *c, uint32_t type, uint32_t tx_id, const void *payload,
			    size_t len)
{
	assert_int_equal(ef_send(c, type, tx_id, payload, len), 0);
	uint32_t id = c->f->next_req;
	size_t at = c->nq;
	for (size_t i = 0; i < c->nq; i++) {
		if (c->q[i].hdr.type == XSD_WATCH_EVENT) {
			assert_int_equal(c->q[i].hdr.req_id, 0);
			continue;
		}
		/* Exactly one reply, to this request. */
		assert_int_equal(at, c->nq);
		assert_int_equal(c->q[i].hdr.req_id, id);
		at = i;
	}
	assert_true(at < c->nq);
	struct ef_msg *m = &c->q[at];
	assert_int_equal(m->hdr.tx_id, tx_id);
	if (m->hdr.type != XSD_ERROR)
		assert_int_equal(m->hdr.type, type);
	msg_free(&c->last);
	c->last = *m;
	memmove(m, m + 1, (c->nq - at - 1) * sizeof(*m));
	c->nq--;
	return &c->last;
}

static char *keep_text(struct ef_conn *c, char *s)
{
	free(c->text);
	c->text = s;
	return s;
}

const char *ef_text(struct ef_conn *c, const struct ef_msg *m)
{
	size_t len = m->hdr.len;
	char *s = malloc(len + 1);
	assert_non_null(s);
	memcpy(s, m->body, len + 1);
	if (m->hdr.type == XSD_ERROR) {
		assert_true(len > 0 && s[len - 1] == '\0');
		return keep_text(c, s);
	}
	if (len && s[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\0')
			s[i] = ' ';
	s[len] = '\0';
	return keep_text(c, s);
}

bool ef_failed(const struct ef_conn *c)
{
	return c->last.hdr.type == XSD_ERROR;
}

const char *ef_call(struct ef_conn *c, uint32_t type, uint32_t tx_id, const char *args)
{
	if (!args)
		return ef_text(c, ef_req(c, type, tx_id, NULL, 0));
	size_t len = strlen(args) + 1;
	char *p = malloc(len);
	assert_non_null(p);
	memcpy(p, args, len);
	for (size_t i = 0; i < len; i++)
		if (p[i] == ' ')
			p[i] = '\0';
	const struct ef_msg *m = ef_req(c, type, tx_id, p, len);
	free(p);
	return ef_text(c, m);
}

const char *ef_write_tx(struct ef_conn *c, uint32_t tx, const char *path, const char *value)
{
	size_t pl = strlen(path) + 1, vl = strlen(value);
	char *p = malloc(pl + vl + 1);
	assert_non_null(p);
	memcpy(p, path, pl);
	memcpy(p + pl, value, vl);
	const struct ef_msg *m = ef_req(c, XSD_WRITE, tx, p, pl + vl);
	free(p);
	return ef_text(c, m);
}

const char *ef_write(struct ef_conn *c, const char *path, const char *value)
{
	return ef_write_tx(c, 0, path, value);
}

static const char *one_path(struct ef_conn *c, uint32_t type, uint32_t tx, const char *path)
{
	return ef_text(c, ef_req(c, type, tx, path, strlen(path) + 1));
}

const char *ef_read_tx(struct ef_conn *c, uint32_t tx, const char *path)
{
	return one_path(c, XSD_READ, tx, path);
}

const char *ef_read(struct ef_conn *c, const char *path)
{
	return ef_read_tx(c, 0, path);
}

const char *ef_mkdir(struct ef_conn *c, const char *path)
{
	return one_path(c, XSD_MKDIR, 0, path);
}

const char *ef_rm(struct ef_conn *c, const char *path)
{
	return one_path(c, XSD_RM, 0, path);
}

const char *ef_dir(struct ef_conn *c, const char *path)
{
	return one_path(c, XSD_DIRECTORY, 0, path);
}

const char *ef_perms(struct ef_conn *c, const char *path)
{
	return one_path(c, XSD_GET_PERMS, 0, path);
}

const char *ef_setperms(struct ef_conn *c, const char *path, const char *perms)
{
	char buf[1024];
	assert_true(strlen(path) + strlen(perms) + 2 < sizeof(buf));
	snprintf(buf, sizeof(buf), "%s %s", path, perms);
	return ef_call(c, XSD_SET_PERMS, 0, buf);
}

static const char *watch_req(struct ef_conn *c, uint32_t type, const char *path, const char *token)
{
	size_t pl = strlen(path) + 1, tl = strlen(token) + 1;
	char *p = malloc(pl + tl);
	assert_non_null(p);
	memcpy(p, path, pl);
	memcpy(p + pl, token, tl);
	const struct ef_msg *m = ef_req(c, type, 0, p, pl + tl);
	free(p);
	return ef_text(c, m);
}

const char *ef_watch(struct ef_conn *c, const char *path, const char *token)
{
	return watch_req(c, XSD_WATCH, path, token);
}

const char *ef_unwatch(struct ef_conn *c, const char *path, const char *token)
{
	return watch_req(c, XSD_UNWATCH, path, token);
}

uint32_t ef_txn_start(struct ef_conn *c)
{
	const char *id = ef_text(c, ef_req(c, XSD_TRANSACTION_START, 0, "", 1));
	assert_false(ef_failed(c));
	char *end;
	unsigned long v = strtoul(id, &end, 10);
	assert_true(*id && !*end && v > 0 && v <= UINT32_MAX);
	return (uint32_t)v;
}

const char *ef_txn_end(struct ef_conn *c, uint32_t tx, bool commit)
{
	return ef_text(c, ef_req(c, XSD_TRANSACTION_END, tx, commit ? "T" : "F", 2));
}

const char *ef_event(struct ef_conn *c)
{
	for (size_t i = 0; i < c->nq; i++) {
		struct ef_msg *m = &c->q[i];
		if (m->hdr.type != XSD_WATCH_EVENT)
			continue;
		assert_int_equal(m->hdr.req_id, 0);
		assert_int_equal(m->hdr.tx_id, 0);
		/* "path\0token\0": exactly two strings. */
		size_t pl = strlen(m->body) + 1;
		assert_true(pl < m->hdr.len);
		assert_int_equal(strlen(m->body + pl) + 1 + pl, m->hdr.len);
		const char *s = ef_text(c, m);
		msg_free(m);
		memmove(m, m + 1, (c->nq - i - 1) * sizeof(*m));
		c->nq--;
		return s;
	}
	return NULL;
}

size_t ef_nevents(const struct ef_conn *c)
{
	size_t n = 0;
	for (size_t i = 0; i < c->nq; i++)
		n += c->q[i].hdr.type == XSD_WATCH_EVENT;
	return n;
}

void ef_drain(struct ef_conn *c)
{
	while (ef_event(c))
		;
}

struct vs_commit *ef_head(struct ef_fixture *f)
{
	struct vs_oid id;
	struct vs_commit *commit = NULL;
	assert_vs_ok(vs_branch_head(&id, f->repo, f->opts.branch ? f->opts.branch : "main"));
	assert_vs_ok(vs_commit_lookup(&commit, f->repo, &id));
	return commit;
}

size_t ef_ncommits(struct ef_fixture *f)
{
	struct vs_commit *c = ef_head(f);
	size_t n = 1;
	while (vs_commit_parentcount(c) > 0) {
		struct vs_commit *p = NULL;
		assert_vs_ok(vs_commit_lookup(&p, f->repo, vs_commit_parent_id(c, 0)));
		vs_commit_free(c);
		c = p;
		n++;
	}
	vs_commit_free(c);
	return n;
}
