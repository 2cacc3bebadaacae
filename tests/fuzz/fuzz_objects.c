/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the object parsers of both formats: what a git remote
 * (fetch, clone) or a damaged store can hand libvstore. Byte 0 of the input
 * picks the format (bit 0: "git", else "vs") and the type (bit 1: commit,
 * else tree); the rest is the object's content. Checked:
 * - the reachability walk (obj_refs) accepts exactly what the reader
 *   (tree_load, commit_parse) accepts, and reports exactly the ids the
 *   reader found (a tree's entries but gitlinks, a split node's children, a
 *   commit's tree and parents): gc and check walk objects through it alone;
 * - a tree or split node the reader accepts is written back byte for byte
 *   (parsing is strict, so an accepted tree has one encoding and one id);
 * - a commit the reader accepts is written back as a commit that parses to
 *   the same fields (not always the same bytes: convert.c refuses those).
 */
#include "fuzz.h"

#include <stdbool.h>
#include <string.h>
#include <vstore/buf.h>
#include <vstore/errors.h>
#include <vstore/sys/format.h>

#define OBJ_MAX_REFS 4096 /* more entries than this are checked only for acceptance */

/* Ids in the order a walk reported them. */
struct obj_refs {
	struct vs_oid id[OBJ_MAX_REFS];
	size_t n, total;
};

static void refs_add(struct obj_refs *r, const struct vs_oid *id)
{
	if (r->n < OBJ_MAX_REFS)
		r->id[r->n++] = *id;
	r->total++;
}

static int refs_cb(void *payload, const struct vs_oid *id, enum vs_otype type)
{
	(void)type;
	refs_add(payload, id);
	return 0;
}

/* The object io of tree_load: every id reads as the input, a tree. */
struct obj_io {
	const uint8_t *data;
	size_t size;
	struct vs_buf written; /* what tree_store or inode_store wrote */
};

static int io_read(void *ctx, const struct vs_oid *id, enum vs_otype *type, struct vs_buf *out)
{
	struct obj_io *io = ctx;
	(void)id;
	*type = VS_OBJ_TREE;
	vs_buf_clear(out);
	return vs_buf_put(out, io->data, io->size);
}

static int io_write(void *ctx, const struct vs_oid *id, enum vs_otype type, const void *data,
		    size_t len)
{
	struct obj_io *io = ctx;
	(void)id;
	XSD_FUZZ_CHECK(type == VS_OBJ_TREE);
	vs_buf_clear(&io->written);
	return vs_buf_put(&io->written, data, len);
}

/* The entries tree_load reported, copied: names point into its buffer. */
struct obj_entries {
	struct vs_format_entry e[OBJ_MAX_REFS];
	char *names[OBJ_MAX_REFS];
	struct obj_refs refs; /* what a walk should report */
	size_t n, total;
};

static int entry_cb(void *payload, const struct vs_format_entry *e)
{
	struct obj_entries *es = payload;
	if (e->mode != 0160000)
		refs_add(&es->refs, &e->id);
	if (es->n < OBJ_MAX_REFS) {
		char *name = malloc(e->namelen ? e->namelen : 1);
		XSD_FUZZ_CHECK(name != NULL);
		memcpy(name, e->name, e->namelen);
		es->names[es->n] = name;
		es->e[es->n] = *e;
		es->e[es->n].name = name;
		es->n++;
	}
	es->total++;
	return 0;
}

static bool refs_equal(const struct obj_refs *a, const struct obj_refs *b)
{
	if (a->total != b->total || a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!vs_oid_equal(&a->id[i], &b->id[i]))
			return false;
	return true;
}

static void fuzz_tree(const struct vs_format *f, const uint8_t *data, size_t size)
{
	static struct obj_entries es;
	static struct obj_refs walked;
	struct obj_io ctx = { data, size, VS_BUF_INIT };
	struct vs_object_io io = { .ctx = &ctx, .read = io_read, .write = io_write };
	struct vs_format_inode inode;
	struct vs_oid id = { .type = (unsigned char)f->oid_type }, out;

	memset(&es, 0, sizeof(es));
	memset(&walked, 0, sizeof(walked));
	int loaded = f->tree_load(f, &io, &id, entry_cb, &es, &inode);
	int walk = f->obj_refs(f, VS_OBJ_TREE, data, size, refs_cb, &walked);
	bool stored = false;
	XSD_FUZZ_CHECK(loaded == VS_ECORRUPT || loaded == 0 || loaded == 1);
	XSD_FUZZ_CHECK((walk == 0) == (loaded >= 0));
	if (loaded == 1) { /* a split node: its children are what a walk follows */
		XSD_FUZZ_CHECK(f->max_flat > 0 && es.total == 0);
		for (unsigned int b = 0; b < VS_INODE_FANOUT; b++)
			if (inode.bitmap >> b & 1)
				refs_add(&es.refs, &inode.child[b]);
		XSD_FUZZ_CHECK(f->inode_store(f, &io, &inode, &out) == 0);
		stored = true;
	} else if (loaded == 0 && es.n == es.total) {
		XSD_FUZZ_CHECK(f->tree_store(f, &io, es.e, es.n, &out) == 0);
		stored = true;
	}
	if (loaded >= 0)
		XSD_FUZZ_CHECK(refs_equal(&es.refs, &walked));
	if (stored) { /* written back as it came */
		XSD_FUZZ_CHECK(ctx.written.size == size);
		XSD_FUZZ_CHECK(!size || !memcmp(ctx.written.ptr, data, size));
	}
	for (size_t i = 0; i < es.n; i++)
		free(es.names[i]);
	vs_buf_release(&ctx.written);
	vs_error_clear();
}

static bool str_equal(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void fuzz_commit(const struct vs_format *f, const uint8_t *data, size_t size)
{
	static struct obj_refs walked, want;
	struct vs_format_commit c, again;
	struct vs_buf raw = VS_BUF_INIT;

	memset(&walked, 0, sizeof(walked));
	memset(&want, 0, sizeof(want));
	int parsed = f->commit_parse(&c, data, size);
	int walk = f->obj_refs(f, VS_OBJ_COMMIT, data, size, refs_cb, &walked);
	XSD_FUZZ_CHECK(parsed == 0 || parsed == VS_ECORRUPT);
	XSD_FUZZ_CHECK((walk == 0) == (parsed == 0));
	if (parsed == 0) {
		refs_add(&want, &c.tree);
		for (size_t i = 0; i < c.nparents; i++)
			refs_add(&want, &c.parents[i]);
		XSD_FUZZ_CHECK(refs_equal(&want, &walked));
		XSD_FUZZ_CHECK(f->commit_write(&raw, &c) == 0);
		XSD_FUZZ_CHECK(f->commit_parse(&again, raw.ptr, raw.size) == 0);
		XSD_FUZZ_CHECK(vs_oid_equal(&again.tree, &c.tree));
		XSD_FUZZ_CHECK(again.nparents == c.nparents);
		for (size_t i = 0; i < c.nparents; i++)
			XSD_FUZZ_CHECK(vs_oid_equal(&again.parents[i], &c.parents[i]));
		XSD_FUZZ_CHECK(str_equal(again.author, c.author));
		XSD_FUZZ_CHECK(str_equal(again.committer, c.committer));
		XSD_FUZZ_CHECK(str_equal(again.extra_headers, c.extra_headers));
		XSD_FUZZ_CHECK(str_equal(again.message, c.message));
		vs_format_commit_dispose(&again);
		vs_format_commit_dispose(&c);
	}
	vs_buf_release(&raw);
	vs_error_clear();
}

int xsd_fuzz_objects(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	const struct vs_format *f = vs_format_find(data[0] & 1 ? "git" : "vs");
	XSD_FUZZ_CHECK(f != NULL);
	if (data[0] & 2)
		fuzz_commit(f, data + 1, size - 1);
	else
		fuzz_tree(f, data + 1, size - 1);
	return 0;
}

#ifndef XSD_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return xsd_fuzz_objects(data, size);
}
#endif
