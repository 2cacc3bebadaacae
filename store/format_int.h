/* SPDX-License-Identifier: MIT */
/*
 * Shared by the object formats: the git object codec (format_codec.c).
 */
#ifndef VSTORE_FORMAT_INT_H
#define VSTORE_FORMAT_INT_H

#include "store_int.h"

/* Parse a flat tree with ids of @otype, reporting each entry. @id names it in messages. */
int vs__codec_tree_parse(enum vs_oid_type otype, const struct vs_oid *id, const void *data,
			 size_t len, vs_format_entry_fn *cb, void *payload);
/* Read object @id through @io into @out, insisting that it is a tree. */
int vs__codec_tree_read(struct vs_buf *out, struct vs_object_io *io, const struct vs_oid *id);
/* Encode, hash (f->hash) and write a flat tree of entries sorted by name. */
int vs__codec_tree_store(const struct vs_format *f, struct vs_object_io *io,
			 const struct vs_format_entry *e, size_t n, struct vs_oid *out);
/* Parse a commit whose ids are of @otype. */
int vs__codec_commit_parse(enum vs_oid_type otype, struct vs_format_commit *out, const void *data,
			   size_t len);
int vs__codec_commit_write(struct vs_buf *out, const struct vs_format_commit *c);
/* References of a commit or flat tree (f->oid_type ids). */
int vs__codec_obj_refs(const struct vs_format *f, enum vs_otype type, const void *data,
		       size_t len, vs_format_ref_fn *cb, void *payload);

#endif
