/* SPDX-License-Identifier: MIT */
/*
 * The git object codec shared by both formats: trees and commits encoded as
 * git encodes them, with SHA-1 ids (the "git" format) or SHA-256 ids (the
 * "vs" format, whose small trees are git's SHA-256 trees). Parsing is strict,
 * following git fsck --strict: anything it would reject is VS_ECORRUPT here,
 * so whatever we accept we can also hand to git.
 */
#include "format_int.h"

static bool valid_mode(unsigned int mode)
{
	return mode == 0100644 || mode == 0100755 || mode == 0120000 || mode == 040000 ||
	       mode == 0160000;
}

/* git orders tree entries as if tree names ended in '/'. */
static int git_name_cmp(const char *a, size_t alen, bool atree, const char *b, size_t blen,
			bool btree)
{
	size_t n = alen < blen ? alen : blen;
	int c = memcmp(a, b, n);
	if (c)
		return c;
	unsigned char ca = alen > n ? (unsigned char)a[n] : atree ? '/' : 0;
	unsigned char cb = blen > n ? (unsigned char)b[n] : btree ? '/' : 0;
	return (int)ca - (int)cb;
}

static int corrupt_tree(const struct vs_oid *id, const char *why)
{
	char hex[VS_OID_MAXHEXSZ + 1];
	return vs_error_set(VS_ECORRUPT, "tree %s is malformed: %s", vs_oid_tostr(hex, id), why);
}

int vs__codec_tree_parse(enum vs_oid_type otype, const struct vs_oid *id, const void *data,
			 size_t len, vs_format_entry_fn *cb, void *payload)
{
	const unsigned char *p = data;
	size_t idsz = vs_oid_size(otype);
	const unsigned char *end = p + len;
	struct vs_format_entry prev = { 0 };
	bool have_prev = false;

	while (p < end) {
		struct vs_format_entry e = { 0 };
		const unsigned char *start = p;

		if (*p == '0')
			return corrupt_tree(id, "zero-padded file mode");
		while (p < end && *p >= '0' && *p <= '7' && p - start < 7)
			e.mode = e.mode * 8 + (unsigned int)(*p++ - '0');
		if (p == start || p >= end || *p != ' ')
			return corrupt_tree(id, "bad file mode");
		if (!valid_mode(e.mode))
			return corrupt_tree(id, "unsupported file mode");
		e.name = (const char *)++p;
		while (p < end && *p)
			p++;
		if (p >= end)
			return corrupt_tree(id, "truncated entry name");
		e.namelen = (size_t)(p - (const unsigned char *)e.name);
		if (!e.namelen || memchr(e.name, '/', e.namelen))
			return corrupt_tree(id, "empty name or name with '/'");
		p++;
		if ((size_t)(end - p) < idsz)
			return corrupt_tree(id, "truncated object id");
		vs_oid_fromraw(&e.id, otype, p);
		p += idsz;
		if (have_prev && git_name_cmp(prev.name, prev.namelen, prev.mode == 040000, e.name,
					      e.namelen, e.mode == 040000) >= 0)
			return corrupt_tree(id, "entries not sorted or duplicated");
		int rc = cb(payload, &e);
		if (rc)
			return rc;
		prev = e;
		have_prev = true;
	}
	return 0;
}

int vs__codec_tree_read(struct vs_buf *out, struct vs_object_io *io, const struct vs_oid *id)
{
	enum vs_otype type;
	char hex[VS_OID_MAXHEXSZ + 1];
	int err;

	if ((err = io->read(io->ctx, id, &type, out)) < 0)
		return err;
	if (type != VS_OBJ_TREE)
		return vs_error_set(VS_ECORRUPT, "object %s is not a tree", vs_oid_tostr(hex, id));
	return 0;
}

static int entry_cmp(const struct vs_format_entry *x, const struct vs_format_entry *y)
{
	return git_name_cmp(x->name, x->namelen, x->mode == 040000, y->name, y->namelen,
			    y->mode == 040000);
}

static int entry_git_cmp(const void *a, const void *b)
{
	return entry_cmp(*(const struct vs_format_entry *const *)a,
			 *(const struct vs_format_entry *const *)b);
}

/* Write @mode in octal at @p (no padding, as git does); returns the digits. */
static size_t put_octal(char *p, unsigned int mode)
{
	char tmp[12];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + (mode & 7));
		mode >>= 3;
	} while (mode);
	for (size_t i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

/*
 * Trees are written on every commit, so this avoids stdio and, for the
 * common small tree, the heap: the entries usually arrive in git's order
 * already (byte order differs only where a tree's name is a prefix of
 * another name), which one pass checks.
 */
int vs__codec_tree_store(const struct vs_format *f, struct vs_object_io *io,
			 const struct vs_format_entry *e, size_t n, struct vs_oid *out)
{
	size_t idsz = vs_oid_size(f->oid_type), len = 0, at = 0;
	const struct vs_format_entry *stack[64], **order = stack;
	char small[2048], *buf = small;
	bool sorted = true;
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		if (e[i].namelen > SIZE_MAX / 4 - len)
			return vs_error_set(VS_EINVAL, "tree too large to encode");
		len += 14 + e[i].namelen + idsz; /* mode, space, name, NUL, id */
		if (i && sorted && entry_cmp(&e[i - 1], &e[i]) > 0)
			sorted = false;
	}
	if (!sorted && n > VS_ARRAY_SIZE(stack) && !(order = vs__calloc(n, sizeof(*order))))
		return vs__enomem();
	if (len > sizeof(small) && !(buf = vs__malloc(len))) {
		err = vs__enomem();
		goto out;
	}
	if (!sorted) {
		for (size_t i = 0; i < n; i++)
			order[i] = &e[i];
		qsort(order, n, sizeof(*order), entry_git_cmp);
	}
	for (size_t i = 0; i < n; i++) {
		const struct vs_format_entry *x = sorted ? &e[i] : order[i];
		at += put_octal(buf + at, x->mode);
		buf[at++] = ' ';
		memcpy(buf + at, x->name, x->namelen);
		at += x->namelen;
		buf[at++] = '\0';
		memcpy(buf + at, x->id.id, idsz);
		at += idsz;
	}
	if ((err = f->hash(out, VS_OBJ_TREE, buf, at)) < 0)
		goto out;
	err = io->write(io->ctx, out, VS_OBJ_TREE, buf, at);
out:
	if (order != stack)
		vs_free(order);
	if (buf != small)
		vs_free(buf);
	return err;
}

/* An identity line after its keyword: "Name <email> 1700000000 +0100". */
static bool valid_ident(const char *p, const char *end)
{
	const char *lt = memchr(p, '<', (size_t)(end - p));
	if (!lt || lt == p || lt[-1] != ' ' || memchr(p, '>', (size_t)(lt - p)))
		return false;
	const char *gt = memchr(lt, '>', (size_t)(end - lt));
	if (!gt || memchr(lt + 1, '<', (size_t)(gt - lt - 1)))
		return false;
	p = gt + 1;
	if (p >= end || *p++ != ' ')
		return false;
	if (p < end && *p == '0' && p + 1 < end && p[1] != ' ')
		return false; /* zero-padded date */
	const char *d = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (p == d || p - d > 18 || p >= end || *p++ != ' ')
		return false;
	if (end - p != 5 || (*p != '+' && *p != '-'))
		return false;
	for (int i = 1; i < 5; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

static int header_oid(struct vs_oid *out, size_t hexlen, const char **pp, const char *end,
		      const char *key)
{
	size_t klen = strlen(key);
	const char *p = *pp;
	if ((size_t)(end - p) < klen + hexlen + 2 || memcmp(p, key, klen) || p[klen] != ' ' ||
	    p[klen + 1 + hexlen] != '\n')
		return VS_ENOENT;
	for (size_t i = 0; i < hexlen; i++) {
		char c = p[klen + 1 + i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return VS_EINVAL;
	}
	if (vs_oid_fromhex(out, p + klen + 1, hexlen) < 0)
		return VS_EINVAL;
	*pp = p + klen + hexlen + 2;
	return 0;
}

static int header_ident(char **out, const char **pp, const char *end, const char *key)
{
	size_t klen = strlen(key);
	const char *p = *pp, *nl;
	if ((size_t)(end - p) < klen + 1 || memcmp(p, key, klen) || p[klen] != ' ')
		return VS_ENOENT;
	nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl || !valid_ident(p + klen + 1, nl))
		return VS_EINVAL;
	if (!(*out = vs__strndup(p + klen + 1, (size_t)(nl - p - klen - 1))))
		return vs__enomem();
	*pp = nl + 1;
	return 0;
}

static int parse_commit(struct vs_format_commit *c, size_t hexlen, const char *p, const char *end)
{
	struct vs_oid parent;
	const char *hdr;
	int rc;

	if (memchr(p, '\0', (size_t)(end - p)))
		return vs_error_set(VS_ECORRUPT, "commit contains a NUL byte");
	if (header_oid(&c->tree, hexlen, &p, end, "tree") < 0)
		return vs_error_set(VS_ECORRUPT, "commit has no valid tree line");
	while ((rc = header_oid(&parent, hexlen, &p, end, "parent")) == 0) {
		struct vs_oid *np = vs__realloc(c->parents, (c->nparents + 1) * sizeof(*np));
		if (!np)
			return vs__enomem();
		c->parents = np;
		c->parents[c->nparents++] = parent;
	}
	if (rc == VS_EINVAL)
		return vs_error_set(VS_ECORRUPT, "commit has a malformed parent line");
	if ((rc = header_ident(&c->author, &p, end, "author")) < 0)
		return rc == VS_ENOMEM ? rc : vs_error_set(VS_ECORRUPT, "bad author line");
	if ((rc = header_ident(&c->committer, &p, end, "committer")) < 0)
		return rc == VS_ENOMEM ? rc : vs_error_set(VS_ECORRUPT, "bad committer line");
	/* Other headers (encoding, gpgsig with continuation lines...) are kept raw. */
	hdr = p;
	while (p < end && *p != '\n') {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return vs_error_set(VS_ECORRUPT, "commit header not terminated");
		if (*p == ' ' && p == hdr)
			return vs_error_set(VS_ECORRUPT, "continuation line without a header");
		p = nl + 1;
	}
	if (p > hdr && !(c->extra_headers = vs__strndup(hdr, (size_t)(p - hdr))))
		return vs__enomem();
	if (p < end)
		p++; /* the blank line */
	if (!(c->message = vs__strndup(p, (size_t)(end - p))))
		return vs__enomem();
	return 0;
}

int vs__codec_commit_parse(enum vs_oid_type otype, struct vs_format_commit *out, const void *data,
			   size_t len)
{
	memset(out, 0, sizeof(*out));
	int err = parse_commit(out, 2 * vs_oid_size(otype), data, (const char *)data + len);
	if (err < 0)
		vs_format_commit_dispose(out);
	return err;
}

/* "<key> <hex id>\n" */
static int put_id_line(struct vs_buf *out, const char *key, const struct vs_oid *id)
{
	char line[16 + VS_OID_MAXHEXSZ + 2];
	size_t k = strlen(key), n = 2 * vs_oid_size(id->type);
	memcpy(line, key, k);
	line[k] = ' ';
	vs_oid_tostr(line + k + 1, id);
	line[k + 1 + n] = '\n';
	return vs_buf_put(out, line, k + n + 2);
}

/* "<key> <text>\n" */
static int put_text_line(struct vs_buf *out, const char *key, const char *text)
{
	int err;
	if ((err = vs_buf_puts(out, key)) < 0 || (err = vs_buf_putc(out, ' ')) < 0 ||
	    (err = vs_buf_puts(out, text)) < 0)
		return err;
	return vs_buf_putc(out, '\n');
}

/* Written once per commit: no stdio, one allocation sized up front. */
int vs__codec_commit_write(struct vs_buf *out, const struct vs_format_commit *c)
{
	const char *msg = c->message ? c->message : "";
	size_t want = 16 + VS_OID_MAXHEXSZ + 64 + strlen(c->author) + strlen(c->committer) +
		      strlen(msg) + (c->extra_headers ? strlen(c->extra_headers) : 0);
	int err;

	vs_buf_clear(out);
	if (c->nparents > (SIZE_MAX / 2 - want) / (VS_OID_MAXHEXSZ + 8))
		return vs__enomem();
	if ((err = vs_buf_grow(out, want + c->nparents * (VS_OID_MAXHEXSZ + 8))) < 0 ||
	    (err = put_id_line(out, "tree", &c->tree)) < 0)
		return err;
	for (size_t i = 0; i < c->nparents; i++)
		if ((err = put_id_line(out, "parent", &c->parents[i])) < 0)
			return err;
	if ((err = put_text_line(out, "author", c->author)) < 0 ||
	    (err = put_text_line(out, "committer", c->committer)) < 0)
		return err;
	if (c->extra_headers && (err = vs_buf_puts(out, c->extra_headers)) < 0)
		return err;
	if ((err = vs_buf_putc(out, '\n')) < 0)
		return err;
	return vs_buf_puts(out, msg);
}

struct refs_ctx {
	vs_format_ref_fn *cb;
	void *payload;
};

static int tree_ref(void *payload, const struct vs_format_entry *e)
{
	struct refs_ctx *r = payload;
	if (e->mode == 0160000)
		return 0;
	return r->cb(r->payload, &e->id, e->mode == 040000 ? VS_OBJ_TREE : VS_OBJ_BLOB);
}

int vs__codec_obj_refs(const struct vs_format *f, enum vs_otype type, const void *data,
		       size_t len, vs_format_ref_fn *cb, void *payload)
{
	struct refs_ctx r = { cb, payload };
	struct vs_format_commit c;
	struct vs_oid none = { 0 };
	int err;

	switch (type) {
	case VS_OBJ_TREE:
		return vs__codec_tree_parse(f->oid_type, &none, data, len, tree_ref, &r);
	case VS_OBJ_COMMIT:
		if ((err = f->commit_parse(&c, data, len)) < 0)
			return err;
		err = cb(payload, &c.tree, VS_OBJ_TREE);
		for (size_t i = 0; i < c.nparents && !err; i++)
			err = cb(payload, &c.parents[i], VS_OBJ_COMMIT);
		vs_format_commit_dispose(&c);
		return err;
	default:
		return 0; /* blobs refer to nothing; tags are not written by vstore */
	}
}

