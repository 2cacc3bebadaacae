/* SPDX-License-Identifier: MIT */
/*
 * Per-node changes from the store's value deltas. A node's .value and .meta
 * deltas are not always adjacent in the store's order (a child named "-x"
 * sorts before ".meta"), so every delta is collected, then sorted by
 * Xenstore path and merged: memory grows with the size of the diff.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* One node (or raw store path) being assembled. */
struct acc {
	char *path;		       /* Xenstore path, or the raw store path */
	bool raw;		       /* not part of the node mapping */
	size_t order;		       /* arrival, to keep sorting stable */
	enum vs_delta_status value_st; /* 0: .value untouched */
	enum vs_delta_status meta_st;  /* 0: .meta untouched */
	struct vs_buf old_value, new_value;
	struct vs_buf old_meta, new_meta;
};

struct accs {
	struct acc *v;
	size_t n, cap;
};

static void buf_from_slice(int *err, struct vs_buf *b, struct vs_slice s)
{
	if (*err >= 0 && s.len)
		*err = vs_buf_set(b, s.ptr, s.len);
}

static int collect(void *payload, const struct vs_delta *d)
{
	struct accs *as = payload;
	char xp[XSD_PATH_BUF + 64];
	enum xsd_store_part part = XSD_STORE_NODE;
	bool raw =
	    xsd_path_from_store(xp, sizeof(xp), d->path, &part) < 0 || part == XSD_STORE_NODE;
	int err = 0;

	vs_error_clear();
	if (as->n == as->cap) {
		size_t ncap = as->cap ? as->cap * 2 : 32;
		struct acc *nv = realloc(as->v, ncap * sizeof(*nv));
		if (!nv)
			return VS_ENOMEM;
		as->v = nv;
		as->cap = ncap;
	}
	struct acc *a = &as->v[as->n];
	memset(a, 0, sizeof(*a));
	if (!(a->path = strdup(raw ? d->path : xp)))
		return VS_ENOMEM;
	a->raw = raw;
	a->order = as->n++;
	if (raw || part == XSD_STORE_VALUE) {
		a->value_st = d->status;
		buf_from_slice(&err, &a->old_value, d->old_value);
		buf_from_slice(&err, &a->new_value, d->new_value);
	} else {
		a->meta_st = d->status;
		buf_from_slice(&err, &a->old_meta, d->old_value);
		buf_from_slice(&err, &a->new_meta, d->new_value);
	}
	return err;
}

static int acc_cmp(const void *x, const void *y)
{
	const struct acc *a = x, *b = y;
	int c = strcmp(a->path, b->path);
	if (!c && a->raw != b->raw)
		c = a->raw ? 1 : -1;
	if (!c)
		c = a->order < b->order ? -1 : 1;
	return c;
}

static void acc_release(struct acc *a)
{
	free(a->path);
	vs_buf_release(&a->old_value);
	vs_buf_release(&a->new_value);
	vs_buf_release(&a->old_meta);
	vs_buf_release(&a->new_meta);
}

/* Move @p from's parts into @p to (same node). */
static void acc_merge(struct acc *to, struct acc *from)
{
	struct vs_buf t;
	if (from->value_st) {
		to->value_st = from->value_st;
		t = to->old_value, to->old_value = from->old_value, from->old_value = t;
		t = to->new_value, to->new_value = from->new_value, from->new_value = t;
	}
	if (from->meta_st) {
		to->meta_st = from->meta_st;
		t = to->old_meta, to->old_meta = from->old_meta, from->old_meta = t;
		t = to->new_meta, to->new_meta = from->new_meta, from->new_meta = t;
	}
}

static struct vs_slice slice_of(const struct vs_buf *b)
{
	return (struct vs_slice){.ptr = b->ptr ? b->ptr : "", .len = b->size};
}

static bool labels_differ(const struct xsd_meta *a, const struct xsd_meta *b)
{
	if (!a->label || !b->label)
		return a->label != b->label;
	return strcmp(a->label, b->label) != 0;
}

/* Report node @p a (all its parts merged). */
static int report(const struct acc *a, cli_xs_change_fn *cb, void *payload)
{
	struct cli_xs_change ch = {
	    .path = a->path,
	    .raw = a->raw,
	    .old_value = slice_of(&a->old_value),
	    .new_value = slice_of(&a->new_value),
	    .value_changed = a->value_st != 0,
	};
	struct xsd_meta om, nm;
	int rc;

	xsd_meta_init(&om);
	xsd_meta_init(&nm);
	enum vs_delta_status st = a->raw ? a->value_st : a->meta_st;
	ch.kind = st == VS_DELTA_ADDED	   ? CLI_XS_ADDED
		  : st == VS_DELTA_REMOVED ? CLI_XS_REMOVED
					   : CLI_XS_MODIFIED;
	if (a->meta_st && a->old_meta.size &&
	    xsd_meta_parse(&om, a->old_meta.ptr, a->old_meta.size) == 0)
		ch.old_meta = &om;
	if (a->meta_st && a->new_meta.size &&
	    xsd_meta_parse(&nm, a->new_meta.ptr, a->new_meta.size) == 0)
		ch.new_meta = &nm;
	vs_error_clear();
	if (ch.old_meta && ch.new_meta) {
		ch.perms_changed = !xsd_perms_equal(&om.perms, &nm.perms);
		ch.label_changed = labels_differ(&om, &nm);
	} else if (ch.kind == CLI_XS_MODIFIED && a->meta_st) {
		/* Unparsable metadata changed: say so through the perms flag. */
		ch.perms_changed = true;
	}
	/* Only the seq moved (re-created in one commit): nothing a reader sees. */
	if (ch.kind == CLI_XS_MODIFIED && !ch.value_changed && !ch.perms_changed &&
	    !ch.label_changed)
		rc = 0;
	else
		rc = cb(payload, &ch);
	xsd_meta_release(&om);
	xsd_meta_release(&nm);
	return rc;
}

static int deliver(struct accs *as, int err, cli_xs_change_fn *cb, void *payload)
{
	if (!err && as->n)
		qsort(as->v, as->n, sizeof(*as->v), acc_cmp);
	for (size_t i = 0; !err && i < as->n;) {
		size_t j = i + 1;
		while (j < as->n && as->v[j].raw == as->v[i].raw &&
		       !strcmp(as->v[j].path, as->v[i].path))
			acc_merge(&as->v[i], &as->v[j++]);
		err = report(&as->v[i], cb, payload);
		i = j;
	}
	for (size_t i = 0; i < as->n; i++)
		acc_release(&as->v[i]);
	free(as->v);
	return err;
}

int cli_xs_diff(struct vs_repo *repo, const struct vs_oid *a, const struct vs_oid *b,
		const char *xpath, cli_xs_change_fn *cb, void *payload)
{
	struct accs as = {0};
	char sp[XSD_STORE_PATH_BUF];
	const char *filter;
	int err = cli_xs_store_filter(&filter, sp, xpath);

	if (err < 0)
		return err;
	err = vs_diff_commits(repo, a, b, filter, collect, &as);
	return deliver(&as, err, cb, payload);
}

int cli_xs_diff_trees(struct vs_tree *a, struct vs_tree *b, cli_xs_change_fn *cb, void *payload)
{
	struct accs as = {0};
	int err = vs_diff_trees(a, b, collect, &as);
	return deliver(&as, err, cb, payload);
}
