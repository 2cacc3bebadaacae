/* SPDX-License-Identifier: MIT */
/*
 * The "git" object format: blobs, trees and commits byte for byte as git
 * writes them, SHA-1 ids computed by libgit2, which is built with SHA-1
 * collision detection as git is (values come from untrusted guests).
 */
#include <git2.h>

#include "format_int.h"

static int git_hash(struct vs_oid *out, enum vs_otype type, const void *data, size_t len)
{
	git_oid g;
	int rc, err;

	if ((err = vs__git2_init()) < 0)
		return err;
	rc = git_odb_hash(&g, data, len, (git_object_t)type);
	if (rc < 0) {
		const git_error *e = git_error_last();
		int code = vs_error_set(VS_ECORRUPT, "cannot hash object: %s",
					e && e->message ? e->message : "libgit2 error");
		git_error_clear();
		return code;
	}
	return vs_oid_fromraw(out, VS_OID_SHA1, g.id);
}

static int git_tree_load(const struct vs_format *f, struct vs_object_io *io,
			 const struct vs_oid *id, vs_format_entry_fn *cb, void *payload,
			 struct vs_format_inode *inode)
{
	struct vs_buf buf = VS_BUF_INIT;
	int err = vs__codec_tree_read(&buf, io, id);
	(void)inode; /* git trees are never split */
	if (err >= 0)
		err = vs__codec_tree_parse(f->oid_type, id, buf.ptr, buf.size, cb, payload);
	vs_buf_release(&buf);
	return err;
}

static int git_commit_parse(struct vs_format_commit *out, const void *data, size_t len)
{
	return vs__codec_commit_parse(VS_OID_SHA1, out, data, len);
}

const struct vs_format vs__format_git = {
	.name = "git",
	.oid_type = VS_OID_SHA1,
	.max_flat = 0,
	.hash = git_hash,
	.tree_load = git_tree_load,
	.tree_store = vs__codec_tree_store,
	.obj_refs = vs__codec_obj_refs,
	.commit_parse = git_commit_parse,
	.commit_write = vs__codec_commit_write,
};
