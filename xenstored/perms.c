/* SPDX-License-Identifier: MIT */
/*
 * Node permissions and node metadata, as C xenstored 4.17 decides and keeps
 * them (core.c perm_for_conn, construct_node, do_set_perms; domain.c
 * domain_alloc_permrefs, domain_adjust_node_perms; xenstore_lib's string
 * forms), plus the .meta blob codec. Pure: no I/O, no store access.
 * Invariant of a struct xsd_perms: p holds cap entries, num <= cap, and
 * every entry has a domid <= XSD_DOMID_MAX and only BOTH/IGNORE bits.
 */
#include "xsd_int.h"

#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <vstore/errors.h>

#define ENTRY_BITS (XSD_PERM_BOTH | XSD_PERM_IGNORE)
#define ALL_ACCESS (XSD_PERM_READ | XSD_PERM_WRITE | XSD_PERM_OWNER)

void xsd_perms_init(struct xsd_perms *ps)
{
	ps->p = NULL;
	ps->num = 0;
	ps->cap = 0;
}

void xsd_perms_release(struct xsd_perms *ps)
{
	if (!ps)
		return;
	free(ps->p);
	xsd_perms_init(ps);
}

static int perms_reserve(struct xsd_perms *ps, unsigned int want)
{
	struct xsd_perm *p;
	unsigned int cap;

	if (want <= ps->cap)
		return 0;
	cap = ps->cap ? ps->cap : 4;
	while (cap < want) {
		if (cap > UINT_MAX / 2)
			return vs_error_set(VS_ENOMEM, "permission list too long");
		cap *= 2;
	}
	p = realloc(ps->p, (size_t)cap * sizeof(*p));
	if (!p)
		return vs_error_set(VS_ENOMEM, "out of memory for %u permissions", cap);
	ps->p = p;
	ps->cap = cap;
	return 0;
}

int xsd_perms_add(struct xsd_perms *ps, unsigned int domid, unsigned int perm)
{
	int err;

	assert(domid <= XSD_DOMID_MAX && !(perm & ~ENTRY_BITS));
	if (ps->num == UINT_MAX)
		return vs_error_set(VS_ENOMEM, "permission list too long");
	if ((err = perms_reserve(ps, ps->num + 1)) < 0)
		return err;
	ps->p[ps->num].domid = domid;
	ps->p[ps->num].perm = perm;
	ps->num++;
	return 0;
}

int xsd_perms_copy(struct xsd_perms *out, const struct xsd_perms *src)
{
	int err;

	if (out == src)
		return 0;
	if ((err = perms_reserve(out, src->num)) < 0)
		return err;
	if (src->num)
		memcpy(out->p, src->p, src->num * sizeof(*src->p));
	out->num = src->num;
	return 0;
}

bool xsd_perms_equal(const struct xsd_perms *a, const struct xsd_perms *b)
{
	if (a->num != b->num)
		return false;
	for (unsigned int i = 0; i < a->num; i++)
		if (a->p[i].domid != b->p[i].domid || a->p[i].perm != b->p[i].perm)
			return false;
	return true;
}

char xsd_perm_letter(unsigned int perm)
{
	static const char letters[4] = {'n', 'r', 'w', 'b'};

	return letters[perm & XSD_PERM_BOTH];
}

static int letter_bits(char c)
{
	switch (c) {
	case 'n':
		return XSD_PERM_NONE;
	case 'r':
		return XSD_PERM_READ;
	case 'w':
		return XSD_PERM_WRITE;
	case 'b':
		return XSD_PERM_BOTH;
	default:
		return -1;
	}
}

static bool strtol_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

/*
 * strtol(s, &end, 0) as xenstore_strings_to_perms() uses it, requiring the
 * whole string to be the number, and the value to be a domid.
 */
static bool parse_wire_domid(const char *s, unsigned int *out)
{
	unsigned long v = 0;
	unsigned int base = 10, digits = 0;
	bool neg = false, big = false;

	while (strtol_space(*s))
		s++;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && digit_value(s[2]) < 16) {
		base = 16;
		s += 2;
	} else if (s[0] == '0') {
		base = 8;
	}
	for (; digit_value(*s) < (int)base; s++, digits++) {
		v = v * base + (unsigned long)digit_value(*s);
		if (v > XSD_DOMID_MAX) {
			big = true;
			v = XSD_DOMID_MAX + 1;
		}
	}
	if (!digits || *s || big || (neg && v))
		return false;
	*out = (unsigned int)v;
	return true;
}

int xsd_perm_parse(struct xsd_perm *out, const char *s)
{
	int bits = letter_bits(s[0]);
	unsigned int domid;

	if (bits < 0)
		return vs_error_set(VS_EINVAL,
				    "permission '%.16s' does not start with n, r, w or b", s);
	if (!s[1] || !parse_wire_domid(s + 1, &domid))
		return vs_error_set(VS_EINVAL, "permission '%.16s' has no valid domid (0..%u)", s,
				    XSD_DOMID_MAX);
	out->domid = domid;
	out->perm = (unsigned int)bits;
	return 0;
}

int xsd_perms_parse_wire(struct xsd_perms *out, const void *buf, size_t len, unsigned int max)
{
	const char *s = buf, *end = s + len;
	unsigned int count = 0;
	int err;

	for (const char *c = s; c < end; c++)
		count += *c == '\0';
	out->num = 0;
	if (!count)
		return vs_error_set(VS_EINVAL, "SET_PERMS without permissions");
	if (max && count > max)
		return vs_error_set(VS_ENOSPC, "%u permissions, the quota is %u", count, max);
	if ((err = perms_reserve(out, count)) < 0)
		return err;
	for (unsigned int i = 0; i < count; i++) {
		if ((err = xsd_perm_parse(&out->p[i], s)) < 0) {
			out->num = 0;
			return err;
		}
		s += strlen(s) + 1;
	}
	out->num = count;
	return 0;
}

int xsd_perms_format_wire(struct vs_buf *out, const struct xsd_perms *ps)
{
	int err;

	for (unsigned int i = 0; i < ps->num; i++) {
		if ((err = vs_buf_printf(out, "%c%u", xsd_perm_letter(ps->p[i].perm),
					 ps->p[i].domid)) < 0 ||
		    (err = vs_buf_putc(out, '\0')) < 0)
			return err;
	}
	return 0;
}

int xsd_perms_format_text(struct vs_buf *out, const struct xsd_perms *ps)
{
	int err;

	if (!ps->num)
		return vs_error_set(VS_EINVAL, "a node has at least one permission (its owner)");
	for (unsigned int i = 0; i < ps->num; i++) {
		const struct xsd_perm *e = &ps->p[i];

		if (e->domid > XSD_DOMID_MAX || (e->perm & ~ENTRY_BITS))
			return vs_error_set(VS_EINVAL, "bad permission entry %u (%u, %#x)", i,
					    e->domid, e->perm);
		if ((err = vs_buf_printf(out, "%s%s%c%u", i ? " " : "",
					 e->perm & XSD_PERM_IGNORE ? "!" : "",
					 xsd_perm_letter(e->perm), e->domid)) < 0)
			return err;
	}
	return 0;
}

/* Canonical decimal (no sign, no leading zero) in s[*pos, len) up to @max. */
static bool scan_canon(const char *s, size_t len, size_t *pos, uint64_t max, uint64_t *val)
{
	size_t i = *pos;
	uint64_t v = 0;

	if (i >= len || s[i] < '0' || s[i] > '9')
		return false;
	if (s[i] == '0' && i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '9')
		return false;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		uint64_t d = (uint64_t)(s[i] - '0');

		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*pos = i;
	*val = v;
	return true;
}

int xsd_perms_parse_text(struct xsd_perms *out, const char *s, size_t len)
{
	size_t pos = 0;
	int err;

	out->num = 0;
	while (pos < len) {
		unsigned int flags = 0;
		uint64_t domid;
		int bits;

		if (s[pos] == '!') {
			flags = XSD_PERM_IGNORE;
			pos++;
		}
		bits = pos < len ? letter_bits(s[pos]) : -1;
		pos++;
		if (bits < 0 || !scan_canon(s, len, &pos, XSD_DOMID_MAX, &domid))
			goto corrupt;
		if ((err = xsd_perms_add(out, (unsigned int)domid, (unsigned int)bits | flags)) < 0) {
			out->num = 0;
			return err;
		}
		if (pos == len)
			return 0;
		/* One space between entries, none at the end. */
		if (s[pos] != ' ' || ++pos == len)
			goto corrupt;
	}
corrupt:
	out->num = 0;
	return vs_error_set(VS_ECORRUPT, "bad permission list '%.*s'", (int)(len > 64 ? 64 : len),
			    s);
}

static bool entry_matches(const struct xsd_perm *e, unsigned int domid, unsigned int target)
{
	return e->domid == domid || e->domid == target || e->domid == XSD_DOMID_ANY;
}

unsigned int xsd_perm_for(const struct xsd_perms *ps, unsigned int domid, unsigned int target,
			  bool priv)
{
	/* Owners and tools get it all... */
	if (priv)
		return ALL_ACCESS;
	assert(ps->num > 0);
	if (!ps->num)
		return XSD_PERM_NONE;
	if (entry_matches(&ps->p[0], domid, target))
		return ALL_ACCESS;
	for (unsigned int i = 1; i < ps->num; i++)
		if (!(ps->p[i].perm & XSD_PERM_IGNORE) && entry_matches(&ps->p[i], domid, target))
			return ps->p[i].perm & ALL_ACCESS;
	return ps->p[0].perm & ALL_ACCESS;
}

bool xsd_perm_allows(const struct xsd_perms *ps, unsigned int domid, unsigned int target, bool priv,
		     unsigned int want)
{
	return (xsd_perm_for(ps, domid, target, priv) & want) == want;
}

int xsd_perms_inherit(struct xsd_perms *out, const struct xsd_perms *parent, unsigned int creator,
		      bool priv)
{
	int err;

	assert(parent->num > 0 && creator <= XSD_DOMID_MAX);
	if ((err = xsd_perms_copy(out, parent)) < 0)
		return err;
	/* Unprivileged domains own what they create; the rest is the parent's. */
	if (!priv && out->num)
		out->p[0].domid = creator;
	return 0;
}

int xsd_perms_prepare_set(struct xsd_perms *ps, bool domid_any_ok, xsd_domid_valid_fn *exists,
			  void *payload)
{
	for (unsigned int i = 0; i < ps->num; i++) {
		struct xsd_perm *e = &ps->p[i];

		if (e->domid == XSD_DOMID_ANY) {
			if (!domid_any_ok)
				e->perm |= XSD_PERM_IGNORE;
			continue;
		}
		if (exists && !exists(payload, e->domid))
			e->perm |= XSD_PERM_IGNORE;
	}
	if (ps->num && (ps->p[0].perm & XSD_PERM_IGNORE))
		return vs_error_set(VS_ENOENT, "owner domain %u does not exist", ps->p[0].domid);
	return 0;
}

bool xsd_perms_adjust(struct xsd_perms *ps, unsigned int priv_domid, xsd_domid_valid_fn *valid,
		      void *payload)
{
	bool changed = false;

	if (!ps->num || !valid)
		return false;
	/* If the owner does not exist any longer, give the node to the privileged domain. */
	if (ps->p[0].domid != XSD_DOMID_ANY && ps->p[0].domid != priv_domid &&
	    !valid(payload, ps->p[0].domid)) {
		ps->p[0].domid = priv_domid;
		changed = true;
	}
	for (unsigned int i = 1; i < ps->num; i++) {
		struct xsd_perm *e = &ps->p[i];

		if ((e->perm & XSD_PERM_IGNORE) || e->domid == XSD_DOMID_ANY ||
		    valid(payload, e->domid))
			continue;
		e->perm |= XSD_PERM_IGNORE;
		changed = true;
	}
	return changed;
}

bool xsd_perms_forget_domain(struct xsd_perms *ps, unsigned int domid, unsigned int priv_domid)
{
	bool changed = false;

	if (!ps->num || domid == XSD_DOMID_ANY)
		return false;
	if (ps->p[0].domid == domid && domid != priv_domid) {
		ps->p[0].domid = priv_domid;
		changed = true;
	}
	for (unsigned int i = 1; i < ps->num; i++) {
		if (ps->p[i].domid != domid || (ps->p[i].perm & XSD_PERM_IGNORE))
			continue;
		ps->p[i].perm |= XSD_PERM_IGNORE;
		changed = true;
	}
	return changed;
}

/* ---- .meta ---- */

static bool label_ok(const char *label)
{
	size_t n = strlen(label);

	if (!n || n > XSD_LABEL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)label[i] < 0x21 || (unsigned char)label[i] > 0x7e)
			return false;
	return true;
}

void xsd_meta_init(struct xsd_meta *m)
{
	xsd_perms_init(&m->perms);
	m->seq = 0;
	m->label = NULL;
}

void xsd_meta_release(struct xsd_meta *m)
{
	if (!m)
		return;
	xsd_perms_release(&m->perms);
	free(m->label);
	xsd_meta_init(m);
}

int xsd_meta_set_label(struct xsd_meta *m, const char *label)
{
	char *copy = NULL;

	if (label) {
		size_t n = strlen(label);

		if (!label_ok(label))
			return vs_error_set(
			    VS_EINVAL, "a label has 1 to %u bytes of printable ASCII, no space",
			    XSD_LABEL_MAX);
		copy = malloc(n + 1);
		if (!copy)
			return vs_error_set(VS_ENOMEM, "out of memory for a label");
		memcpy(copy, label, n + 1);
	}
	free(m->label);
	m->label = copy;
	return 0;
}

int xsd_meta_copy(struct xsd_meta *out, const struct xsd_meta *src)
{
	int err;

	if (out == src)
		return 0;
	if ((err = xsd_perms_copy(&out->perms, &src->perms)) < 0 ||
	    (err = xsd_meta_set_label(out, src->label)) < 0)
		return err;
	out->seq = src->seq;
	return 0;
}

/* The line starting at @pos ("<key> <rest>\n"): its rest as [*val, *val_len), @pos past it. */
static bool meta_line(const char *s, size_t len, size_t *pos, const char *key, const char **val,
		      size_t *val_len)
{
	size_t k = strlen(key), i = *pos;
	const char *nl;

	if (len - i < k + 1 || memcmp(s + i, key, k) != 0 || s[i + k] != ' ')
		return false;
	i += k + 1;
	nl = memchr(s + i, '\n', len - i);
	if (!nl)
		return false;
	*val = s + i;
	*val_len = (size_t)(nl - (s + i));
	*pos = (size_t)(nl - s) + 1;
	return true;
}

int xsd_meta_parse(struct xsd_meta *out, const void *data, size_t len)
{
	const char *s = data, *val;
	size_t pos = 0, val_len, vpos = 0;
	uint64_t seq;
	/* The old label's buffer is reused when the new one fits: parsing one node after
	 * another into the same struct (a directory listing) allocates once. */
	char *keep = out->label;
	int err;

	out->perms.num = 0;
	out->seq = 0;
	out->label = NULL;
	if (!meta_line(s, len, &pos, "perms", &val, &val_len))
		goto corrupt;
	if ((err = xsd_perms_parse_text(&out->perms, val, val_len)) < 0) {
		free(keep);
		return err;
	}
	if (!meta_line(s, len, &pos, "seq", &val, &val_len) ||
	    !scan_canon(val, val_len, &vpos, UINT64_MAX, &seq) || vpos != val_len)
		goto corrupt;
	out->seq = seq;
	if (pos < len) {
		if (!meta_line(s, len, &pos, "label", &val, &val_len) || !val_len ||
		    val_len > XSD_LABEL_MAX || pos != len)
			goto corrupt;
		for (size_t i = 0; i < val_len; i++) /* label_ok(), without a copy first */
			if ((unsigned char)val[i] < 0x21 || (unsigned char)val[i] > 0x7e)
				goto corrupt;
		if (!keep || strlen(keep) < val_len) {
			free(keep);
			if (!(keep = malloc(val_len + 1))) {
				out->perms.num = 0;
				return vs_error_set(VS_ENOMEM, "out of memory for a label");
			}
		}
		memcpy(keep, val, val_len);
		keep[val_len] = '\0';
		out->label = keep;
		keep = NULL;
	}
	free(keep);
	return 0;
corrupt:
	free(keep);
	out->perms.num = 0;
	out->seq = 0;
	return vs_error_set(VS_ECORRUPT, "bad node metadata at byte %zu", pos);
}

int xsd_meta_format(struct vs_buf *out, const struct xsd_meta *m)
{
	int err;

	if (m->label && !label_ok(m->label))
		return vs_error_set(VS_EINVAL, "bad label in node metadata");
	vs_buf_clear(out);
	if ((err = vs_buf_puts(out, "perms ")) < 0 ||
	    (err = xsd_perms_format_text(out, &m->perms)) < 0 ||
	    (err = vs_buf_printf(out, "\nseq %" PRIu64 "\n", m->seq)) < 0)
		return err;
	if (m->label && (err = vs_buf_printf(out, "label %s\n", m->label)) < 0)
		return err;
	return 0;
}
