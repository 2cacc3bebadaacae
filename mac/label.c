/* SPDX-License-Identifier: MIT */
/*
 * Label names interned per policy (FLASK's sidtab, reduced to names): each
 * declared name gets a small index, found again through an open-addressing
 * hash table. Also the text form of a node label, "type" or "type:domid",
 * which is what the daemon stores in a node's .meta and must round-trip.
 * Invariant: names[0] is "unlabeled"; nslots is a power of two > 2 * count.
 */
#include "mac_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vstore/errors.h>

static uint32_t label_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static int label_rehash(struct mac_labels *t, uint32_t nslots)
{
	uint32_t *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return vs_error_set(VS_ENOMEM, "out of memory for the label table");
	for (uint32_t i = 0; i < t->count; i++) {
		uint32_t h = label_hash(t->names[i], strlen(t->names[i])) & (nslots - 1);

		while (slots[h])
			h = (h + 1) & (nslots - 1);
		slots[h] = i + 1;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	return 0;
}

int mac__labels_init(struct mac_labels *t)
{
	uint32_t ignored;

	memset(t, 0, sizeof(*t));
	return mac__labels_add(t, "unlabeled", strlen("unlabeled"), 0, &ignored);
}

void mac__labels_release(struct mac_labels *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->count; i++)
		free(t->names[i]);
	free(t->names);
	free(t->line);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

int64_t mac__labels_find(const struct mac_labels *t, const char *name, size_t len)
{
	uint32_t h;

	if (!t->nslots)
		return -1;
	h = label_hash(name, len) & (t->nslots - 1);
	while (t->slots[h]) {
		const char *n = t->names[t->slots[h] - 1];

		if (strncmp(n, name, len) == 0 && n[len] == '\0')
			return t->slots[h] - 1;
		h = (h + 1) & (t->nslots - 1);
	}
	return -1;
}

int mac__labels_add(struct mac_labels *t, const char *name, size_t len, unsigned int line,
		    uint32_t *dup)
{
	int64_t found = mac__labels_find(t, name, len);
	int err;

	if (found >= 0) {
		*dup = (uint32_t)found;
		return VS_EEXIST;
	}
	if (t->count == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 16;
		char **names = realloc(t->names, cap * sizeof(*names));

		if (!names)
			return vs_error_set(VS_ENOMEM, "out of memory for labels");
		t->names = names;
		unsigned int *lines = realloc(t->line, cap * sizeof(*lines));
		if (!lines)
			return vs_error_set(VS_ENOMEM, "out of memory for labels");
		t->line = lines;
		t->cap = cap;
	}
	if (2 * (t->count + 1) >= t->nslots &&
	    (err = label_rehash(t, t->nslots ? t->nslots * 2 : 32)) < 0)
		return err;
	char *copy = strndup(name, len);
	if (!copy)
		return vs_error_set(VS_ENOMEM, "out of memory for a label");
	uint32_t idx = t->count++;
	t->names[idx] = copy;
	t->line[idx] = line;
	uint32_t h = label_hash(name, len) & (t->nslots - 1);
	while (t->slots[h])
		h = (h + 1) & (t->nslots - 1);
	t->slots[h] = idx + 1;
	return (int)idx;
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool mac__name_ok(const char *name, size_t len)
{
	if (len == 0 || len > MAC_NAME_MAX || !(is_alpha(name[0]) || name[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++) {
		char c = name[i];

		if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '_' && c != '.' && c != '-')
			return false;
	}
	return true;
}

bool mac__domid_parse(const char *s, size_t len, uint32_t *out)
{
	uint32_t v = 0;

	if (len == 0 || len > 5 || (len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v > MAC_DOMID_MAX)
		return false;
	*out = v;
	return true;
}

/*
 * Split "type[:domid]". The type must be a valid name and the domid
 * canonical; anything else is not a label of this policy.
 */
static bool label_split(const struct mac_labels *t, const char *text, uint32_t *type,
			uint32_t *bound)
{
	const char *colon = strchr(text, ':');
	size_t tlen = colon ? (size_t)(colon - text) : strlen(text);
	int64_t idx;

	if (!mac__name_ok(text, tlen) || (idx = mac__labels_find(t, text, tlen)) < 0)
		return false;
	*bound = MAC_UNBOUND;
	if (colon && !mac__domid_parse(colon + 1, strlen(colon + 1), bound))
		return false;
	*type = (uint32_t)idx;
	return true;
}

void mac__label_parse(const struct mac_labels *t, const char *text, uint32_t *type, uint32_t *bound)
{
	if (!text || !label_split(t, text, type, bound)) {
		*type = MAC_UNLABELED;
		*bound = MAC_UNBOUND;
	}
}

int mac_policy_label_check(const struct mac_policy *p, const char *label)
{
	uint32_t type, bound;

	if (!label || !*label)
		return vs_error_set(VS_EINVAL, "empty label");
	if (strlen(label) > MAC_LABEL_MAX)
		return vs_error_set(VS_EINVAL, "label longer than %u bytes", MAC_LABEL_MAX);
	if (!label_split(&p->labels, label, &type, &bound))
		return vs_error_set(VS_EINVAL,
				    "'%.64s' is not a label of this policy (a declared label, "
				    "optionally followed by ':' and a domid)",
				    label);
	return 0;
}

void mac__label_format(const struct mac_labels *t, char *out, uint32_t type, uint32_t bound)
{
	if (bound == MAC_UNBOUND)
		snprintf(out, MAC_LABEL_MAX + 1, "%s", t->names[type]);
	else
		snprintf(out, MAC_LABEL_MAX + 1, "%s:%u", t->names[type], bound);
}
