/* SPDX-License-Identifier: MIT */
/*
 * The "vs" object format: blobs and commits as git writes them but with
 * SHA-256 ids (git's own SHA-256 object format), and trees that stay flat
 * (git SHA-256 trees) up to VS_FLAT_MAX entries and become a canonical trie
 * of bounded nodes beyond (see struct vs_format_inode). An update to a
 * directory of n entries then rewrites O(log n) nodes of at most 32 entries
 * instead of a flat tree of n. SHA-256 is OpenSSL's.
 *
 * A split node is a tree object whose content starts with a NUL byte (a git
 * tree starts with a file mode, so the two never collide):
 *   "\0vsi" | depth (1 byte) | count (8 bytes, big endian) |
 *   bitmap (4 bytes, big endian) | one 32-byte child id per set bit, in order.
 */
#include <openssl/evp.h>
#include <pthread.h>

#include "format_int.h"

#define VS_FLAT_MAX 32
#define INODE_MAGIC "\0vsi"
#define INODE_HDR (4 + 1 + 8 + 4)
#define INODE_MAX_DEPTH 51 /* 5 bits a level out of 256 */

/*
 * OpenSSL 3 spends most of a short hash fetching the algorithm and setting up
 * a context (300 ns for a name, against 90 ns reused), and names are hashed
 * on every lookup in a split directory: so the algorithm is fetched once per
 * process and each thread keeps one context (in its TLS, freed when the
 * thread exits through a pthread key's destructor).
 */
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha256;
static pthread_key_t ctx_key;
static bool ctx_key_ok;
static _Thread_local EVP_MD_CTX *tl_ctx;

static void ctx_free(void *ctx)
{
	EVP_MD_CTX_free(ctx);
}

static void md_fetch(void)
{
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	ctx_key_ok = pthread_key_create(&ctx_key, ctx_free) == 0;
}

static int sha256(unsigned char out[32], const void *a, size_t alen, const void *b, size_t blen)
{
	unsigned int n = 0;

	pthread_once(&md_once, md_fetch);
	if (!tl_ctx && (tl_ctx = EVP_MD_CTX_new()) && ctx_key_ok)
		pthread_setspecific(ctx_key, tl_ctx); /* freed when this thread exits */
	if (!md_sha256 || !tl_ctx || !EVP_DigestInit_ex2(tl_ctx, md_sha256, NULL) ||
	    !EVP_DigestUpdate(tl_ctx, a, alen) || (blen && !EVP_DigestUpdate(tl_ctx, b, blen)) ||
	    !EVP_DigestFinal_ex(tl_ctx, out, &n) || n != 32)
		return vs_error_set(VS_ENOMEM, "SHA-256 failed (OpenSSL)");
	return 0;
}

/* Every object written is hashed: the "<type> <len>\0" header is built by
 * hand, as snprintf cost as much as hashing a small object. */
static int vs_hash(struct vs_oid *out, enum vs_otype type, const void *data, size_t len)
{
	static const char *const names[] = { "", "commit", "tree", "blob", "tag" };
	char hdr[32], digits[24];
	unsigned char md[32];
	size_t n, nd = 0;
	int err;

	if ((unsigned)type >= VS_ARRAY_SIZE(names) || !*names[type])
		return vs_error_set(VS_EINVAL, "no object type %d", (int)type);
	n = strlen(names[type]);
	memcpy(hdr, names[type], n);
	hdr[n++] = ' ';
	for (size_t v = len; nd == 0 || v; v /= 10)
		digits[nd++] = (char)('0' + v % 10);
	while (nd)
		hdr[n++] = digits[--nd];
	hdr[n++] = '\0';
	if ((err = sha256(md, hdr, n, data, len)) < 0)
		return err;
	return vs_oid_fromraw(out, VS_OID_SHA256, md);
}

static void vs_name_hash(unsigned char out[32], const char *name, size_t len)
{
	if (sha256(out, name, len, NULL, 0) < 0)
		memset(out, 0, 32); /* only on OOM; the lookup then fails to find, never crashes */
}

static int corrupt_inode(const struct vs_oid *id, const char *why)
{
	char hex[VS_OID_MAXHEXSZ + 1];
	return vs_error_set(VS_ECORRUPT, "tree node %s is malformed: %s", vs_oid_tostr(hex, id),
			    why);
}

static bool is_inode(const void *data, size_t len)
{
	return len >= 4 && !memcmp(data, INODE_MAGIC, 4);
}

static int inode_parse(struct vs_format_inode *out, const struct vs_oid *id,
		       const unsigned char *p, size_t len)
{
	uint64_t count = 0;
	uint32_t bitmap = 0;
	size_t k = 0;

	if (len < INODE_HDR)
		return corrupt_inode(id, "truncated header");
	for (int i = 0; i < 8; i++)
		count = count << 8 | p[5 + i];
	for (int i = 0; i < 4; i++)
		bitmap = bitmap << 8 | p[13 + i];
	memset(out, 0, sizeof(*out));
	out->depth = p[4];
	out->count = count;
	out->bitmap = bitmap;
	if (out->depth >= INODE_MAX_DEPTH)
		return corrupt_inode(id, "too deep");
	if (count <= VS_FLAT_MAX || !bitmap)
		return corrupt_inode(id, "too few entries to be split");
	if (len != INODE_HDR + 32 * (size_t)__builtin_popcount(bitmap))
		return corrupt_inode(id, "length does not match its buckets");
	for (unsigned b = 0; b < VS_INODE_FANOUT; b++)
		if (bitmap >> b & 1)
			vs_oid_fromraw(&out->child[b], VS_OID_SHA256, p + INODE_HDR + 32 * k++);
	return 0;
}

static int vs_tree_load(const struct vs_format *f, struct vs_object_io *io,
			const struct vs_oid *id, vs_format_entry_fn *cb, void *payload,
			struct vs_format_inode *inode)
{
	struct vs_buf buf = VS_BUF_INIT;
	int err = vs__codec_tree_read(&buf, io, id);

	if (err < 0)
		goto out;
	if (!is_inode(buf.ptr, buf.size)) {
		err = vs__codec_tree_parse(f->oid_type, id, buf.ptr, buf.size, cb, payload);
	} else if (!inode) {
		err = corrupt_inode(id, "a split node where a flat tree is required");
	} else if ((err = inode_parse(inode, id, (const unsigned char *)buf.ptr, buf.size)) >= 0) {
		err = 1;
	}
out:
	vs_buf_release(&buf);
	return err;
}

static int vs_inode_store(const struct vs_format *f, struct vs_object_io *io,
			  const struct vs_format_inode *in, struct vs_oid *out)
{
	unsigned char buf[INODE_HDR + 32 * VS_INODE_FANOUT];
	size_t len = INODE_HDR;
	int err;

	memcpy(buf, INODE_MAGIC, 4);
	buf[4] = (unsigned char)in->depth;
	for (int i = 0; i < 8; i++)
		buf[5 + i] = (unsigned char)(in->count >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		buf[13 + i] = (unsigned char)(in->bitmap >> (24 - 8 * i));
	for (unsigned b = 0; b < VS_INODE_FANOUT; b++) {
		if (!(in->bitmap >> b & 1))
			continue;
		memcpy(buf + len, in->child[b].id, 32);
		len += 32;
	}
	if ((err = f->hash(out, VS_OBJ_TREE, buf, len)) < 0)
		return err;
	return io->write(io->ctx, out, VS_OBJ_TREE, buf, len);
}

static int vs_obj_refs(const struct vs_format *f, enum vs_otype type, const void *data,
		       size_t len, vs_format_ref_fn *cb, void *payload)
{
	struct vs_format_inode in;
	struct vs_oid none = { 0 };
	int err;

	if (type != VS_OBJ_TREE || !is_inode(data, len))
		return vs__codec_obj_refs(f, type, data, len, cb, payload);
	if ((err = inode_parse(&in, &none, data, len)) < 0)
		return err;
	for (unsigned b = 0; b < VS_INODE_FANOUT && !err; b++)
		if (in.bitmap >> b & 1)
			err = cb(payload, &in.child[b], VS_OBJ_TREE);
	return err;
}

static int vs_commit_parse(struct vs_format_commit *out, const void *data, size_t len)
{
	return vs__codec_commit_parse(VS_OID_SHA256, out, data, len);
}

const struct vs_format vs__format_vs = {
	.name = "vs",
	.oid_type = VS_OID_SHA256,
	.max_flat = VS_FLAT_MAX,
	.hash = vs_hash,
	.tree_load = vs_tree_load,
	.tree_store = vs__codec_tree_store,
	.inode_store = vs_inode_store,
	.name_hash = vs_name_hash,
	.obj_refs = vs_obj_refs,
	.commit_parse = vs_commit_parse,
	.commit_write = vs__codec_commit_write,
};
