/* SPDX-License-Identifier: MIT */
/*
 * The checker's half of loading a policy: the error list (line-numbered
 * messages, sorted by line, printed as SOURCE:LINE: MESSAGE) and the
 * neverallow assertions. A neverallow is violated when any allow rule,
 * conditional or not, grants one of its operations to one of its subject
 * labels on one of its object labels; the error is reported at the allow
 * rule's line and names the neverallow's line, like checkpolicy does.
 */
#include "mac_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vstore/errors.h>

#define NEVERALLOW_ERRORS_MAX 100u

void mac_errors_init(struct mac_errors *errs)
{
	errs->items = NULL;
	errs->count = 0;
}

void mac_errors_release(struct mac_errors *errs)
{
	if (!errs)
		return;
	for (size_t i = 0; i < errs->count; i++)
		free(errs->items[i].message);
	free(errs->items);
	mac_errors_init(errs);
}

int mac__error_add(struct mac_errors *errs, unsigned int line, const char *fmt, ...)
{
	struct mac_error *items;
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	items = realloc(errs->items, (errs->count + 1) * sizeof(*items));
	if (!items)
		return vs_error_set(VS_ENOMEM, "out of memory for policy errors");
	errs->items = items;
	if (!(items[errs->count].message = strdup(buf)))
		return vs_error_set(VS_ENOMEM, "out of memory for policy errors");
	items[errs->count++].line = line;
	return 0;
}

void mac__errors_sort(struct mac_errors *errs, size_t from)
{
	/* Insertion sort: stable, and the lists are short. */
	for (size_t i = from + 1; i < errs->count; i++) {
		struct mac_error e = errs->items[i];
		size_t j = i;

		for (; j > from && errs->items[j - 1].line > e.line; j--)
			errs->items[j] = errs->items[j - 1];
		errs->items[j] = e;
	}
}

void mac_errors_print(FILE *f, const char *source, const struct mac_errors *errs)
{
	for (size_t i = 0; i < errs->count; i++) {
		if (errs->items[i].line)
			fprintf(f, "%s:%u: %s\n", source, errs->items[i].line,
				errs->items[i].message);
		else
			fprintf(f, "%s: %s\n", source, errs->items[i].message);
	}
}

/* A label in both sets, a declared one rather than "unlabeled" when there is a choice; or -1. */
static int64_t first_common(const uint64_t *a, const uint64_t *b, size_t nwords)
{
	bool unlabeled = false;

	for (size_t w = 0; w < nwords; w++) {
		uint64_t both = a[w] & b[w];

		if (w == 0 && (both & 1u)) {
			unlabeled = true;
			both &= ~(uint64_t)1;
		}
		if (both)
			return (int64_t)(w * 64 + (size_t)__builtin_ctzll(both));
	}
	return unlabeled ? (int64_t)MAC_UNLABELED : -1;
}

int mac__check_neverallow(const struct mac_policy *p, struct mac_errors *errs)
{
	unsigned int found = 0;

	for (size_t i = 0; i < p->nallow; i++) {
		const struct mac_rule *a = &p->allow[i];

		for (size_t j = 0; j < p->nnever; j++) {
			const struct mac_rule *n = &p->never[j];
			uint32_t ops = a->ops & n->ops;
			int64_t s, o;

			if (!ops || (s = first_common(a->subj, n->subj, p->nwords)) < 0 ||
			    (o = first_common(a->obj, n->obj, p->nwords)) < 0)
				continue;
			if (++found == NEVERALLOW_ERRORS_MAX)
				return mac__error_add(
				    errs, a->line, "too many neverallow violations; stopping here");
			if (mac__error_add(errs, a->line,
					   "this rule lets %s %s %s, which the neverallow at line "
					   "%u forbids",
					   p->labels.names[s], mac_op_name(__builtin_ctz(ops)),
					   p->labels.names[o], n->line) < 0)
				return VS_ENOMEM;
		}
	}
	return 0;
}
