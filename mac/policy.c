/* SPDX-License-Identifier: MIT */
/*
 * The policy parser (language: mac/POLICY.md). Line-oriented and
 * hand-written: one statement per line, so every error has an exact line
 * and a bad line is skipped while the rest is still checked ("report every
 * error"); the grammar is six statements of words, braces and strings, which
 * a generator would not make shorter, and it keeps mac/ free of build tools.
 * Two passes over the text: `label` declarations first, so rules may use a
 * label declared further down; then every other statement. The checker
 * (policy_check.c) then tests the neverallow assertions. A policy is
 * immutable once returned; only its reference count changes.
 */
#include "mac_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vstore/errors.h>

#define LINE_MAX_BYTES 4096u /* longest policy line */
#define TOKS_MAX 512u	     /* words on one line */
#define ERRORS_MAX 100u	     /* stop reporting after this many */
#define FILE_MAX (4u << 20)  /* largest policy file */

enum tok_kind { TOK_WORD, TOK_STRING, TOK_LBRACE, TOK_RBRACE, TOK_TILDE };

struct tok {
	enum tok_kind kind;
	const char *s; /* words: into the text; strings: into the parser's buffer */
	size_t len;
};

struct parser {
	struct mac_policy *p;
	struct mac_errors *errs;
	size_t errs_base; /* errors already in errs before this parse */
	unsigned int line;
	struct tok toks[TOKS_MAX];
	size_t ntoks;
	char strs[LINE_MAX_BYTES + 1]; /* unescaped string tokens of the line */
	size_t caps[4];		       /* capacities of allow, never, paths, domids/names */
	size_t names_cap;
	bool quiet; /* drop errors (tokenizing in the declaration pass) */
};

/* Record an error on the current line. @return VS_EINVAL, or VS_ENOMEM. */
__attribute__((format(printf, 2, 3))) static int perr(struct parser *ps, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (ps->quiet)
		return VS_EINVAL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ps->errs->count - ps->errs_base >= ERRORS_MAX)
		return VS_EINVAL;
	if (ps->errs->count - ps->errs_base == ERRORS_MAX - 1)
		return mac__error_add(ps->errs, ps->line, "too many errors; stopping here") < 0
			   ? VS_ENOMEM
			   : VS_EINVAL;
	return mac__error_add(ps->errs, ps->line, "%s", msg) < 0 ? VS_ENOMEM : VS_EINVAL;
}

/* Printable form of a token for messages (quoted, cut at 64 bytes). */
#define TOKF "'%.*s'"
#define TOKA(t) (int)((t)->len > 64 ? 64 : (t)->len), (t)->s

static bool tok_is(const struct tok *t, const char *word)
{
	return t->kind == TOK_WORD && strlen(word) == t->len && memcmp(t->s, word, t->len) == 0;
}

/* Split one line (@len bytes, no newline) into tokens. @return 0, VS_EINVAL, VS_ENOMEM. */
static int tokenize(struct parser *ps, const char *s, size_t len)
{
	size_t i = 0, spos = 0;

	ps->ntoks = 0;
	if (len > LINE_MAX_BYTES)
		return perr(ps, "line longer than %u bytes", LINE_MAX_BYTES);
	while (i < len) {
		char c = s[i];
		struct tok *t = &ps->toks[ps->ntoks];

		if (c == ' ' || c == '\t' || (c == '\r' && i + 1 == len)) {
			i++;
			continue;
		}
		if (c == '#')
			break;
		if (ps->ntoks == TOKS_MAX)
			return perr(ps, "more than %u words on one line", TOKS_MAX);
		if (c == '{' || c == '}' || c == '~') {
			t->kind = c == '{' ? TOK_LBRACE : c == '}' ? TOK_RBRACE : TOK_TILDE;
			t->s = s + i++;
			t->len = 1;
		} else if (c == '"') {
			t->kind = TOK_STRING;
			t->s = ps->strs + spos;
			for (i++;; i++) {
				if (i == len)
					return perr(ps, "unterminated string");
				if (s[i] == '"')
					break;
				if (s[i] == '\\' && i + 1 < len &&
				    (s[i + 1] == '"' || s[i + 1] == '\\'))
					i++;
				if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
					return perr(ps, "byte 0x%02x is not allowed in a string",
						    (unsigned char)s[i]);
				ps->strs[spos++] = s[i];
			}
			t->len = (size_t)(ps->strs + spos - t->s);
			ps->strs[spos++] = '\0';
			i++;
		} else if ((unsigned char)c < 0x21 || (unsigned char)c > 0x7e) {
			return perr(ps, "byte 0x%02x is not allowed outside comments",
				    (unsigned char)c);
		} else {
			t->kind = TOK_WORD;
			t->s = s + i;
			while (i < len && (unsigned char)s[i] >= 0x21 &&
			       (unsigned char)s[i] <= 0x7e && !strchr("{}~\"#", s[i]))
				i++;
			t->len = (size_t)(s + i - t->s);
		}
		ps->ntoks++;
	}
	return 0;
}

/* @v (@n elements of @size, room for *@cap) with room for one more; NULL: no memory. */
static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return v;
	size_t ncap = *cap ? *cap * 2 : 16;
	void *nv = realloc(v, ncap * size);
	if (!nv) {
		vs_error_set(VS_ENOMEM, "out of memory for the policy");
		return NULL;
	}
	*cap = ncap;
	return nv;
}

/* The declared label named by token @t (reports an error if not). @return index or < 0. */
static int64_t label_ref(struct parser *ps, const struct tok *t)
{
	int64_t idx;

	if (t->kind != TOK_WORD || !mac__name_ok(t->s, t->len))
		return perr(ps, "expected a label name, found " TOKF, TOKA(t));
	if ((idx = mac__labels_find(&ps->p->labels, t->s, t->len)) < 0)
		return perr(ps, "label " TOKF " is not declared (add it to a 'label' line)",
			    TOKA(t));
	return idx;
}

static int st_label(struct parser *ps)
{
	int rc = 0;

	if (ps->ntoks < 2)
		return perr(ps, "'label' needs at least one label name");
	for (size_t i = 1; i < ps->ntoks; i++) {
		const struct tok *t = &ps->toks[i];
		uint32_t dup;
		int err;

		if (t->kind != TOK_WORD || !mac__name_ok(t->s, t->len)) {
			rc = perr(ps,
				  "bad label name " TOKF " (a letter or '_', then letters, digits, "
				  "'_', '.', '-'; at most %u bytes)",
				  TOKA(t), MAC_NAME_MAX);
		} else if ((err = mac__labels_add(&ps->p->labels, t->s, t->len, ps->line, &dup)) ==
			   VS_EEXIST) {
			if (dup == MAC_UNLABELED)
				rc = perr(ps, "label 'unlabeled' is built in");
			else
				rc = perr(ps, "label " TOKF " is already declared at line %u",
					  TOKA(t), ps->p->labels.line[dup]);
		} else if (err < 0) {
			return err;
		}
		if (rc == VS_ENOMEM)
			return rc;
	}
	return rc;
}

static int st_domain(struct parser *ps)
{
	struct mac_policy *p = ps->p;
	const struct tok *t = ps->toks;
	int64_t label;

	if (ps->ntoks >= 2 && tok_is(&t[1], "default")) {
		if (ps->ntoks != 3)
			return perr(ps, "'domain default' takes one label");
		if ((label = label_ref(ps, &t[2])) < 0)
			return (int)label;
		if (p->default_line)
			return perr(ps, "'domain default' is already given at line %u",
				    p->default_line);
		p->default_label = (uint32_t)label;
		p->default_line = ps->line;
		return 0;
	}
	if (ps->ntoks >= 2 && tok_is(&t[1], "name")) {
		if (ps->ntoks != 4 || (t[2].kind != TOK_WORD && t[2].kind != TOK_STRING))
			return perr(ps, "'domain name' takes a name (or a \"quoted\" one, '*' "
					"matching any text) and a label");
		if (t[2].len == 0)
			return perr(ps, "empty domain name");
		if ((label = label_ref(ps, &t[3])) < 0)
			return (int)label;
		for (size_t i = 0; i < p->nnames; i++)
			if (strlen(p->names[i].glob) == t[2].len &&
			    memcmp(p->names[i].glob, t[2].s, t[2].len) == 0)
				return perr(ps,
					    "domain name " TOKF " already has a rule at line %u",
					    TOKA(&t[2]), p->names[i].line);
		struct mac_name_rule *names =
		    grow(p->names, &ps->names_cap, p->nnames, sizeof(*names));
		if (!names)
			return VS_ENOMEM;
		p->names = names;
		struct mac_name_rule *r = &p->names[p->nnames];
		if (!(r->glob = strndup(t[2].s, t[2].len)))
			return vs_error_set(VS_ENOMEM, "out of memory for the policy");
		r->lits = 0;
		for (size_t i = 0; i < t[2].len; i++)
			r->lits += t[2].s[i] != '*';
		r->exact = r->lits == t[2].len;
		r->label = (uint32_t)label;
		r->line = ps->line;
		p->nnames++;
		return 0;
	}
	uint32_t domid;
	if (ps->ntoks != 3)
		return perr(ps, "'domain' takes a domid, 'name NAME' or 'default', then a label");
	if (t[1].kind != TOK_WORD || !mac__domid_parse(t[1].s, t[1].len, &domid))
		return perr(ps, "bad domid " TOKF " (a decimal number from 0 to %u)", TOKA(&t[1]),
			    MAC_DOMID_MAX);
	if ((label = label_ref(ps, &t[2])) < 0)
		return (int)label;
	for (size_t i = 0; i < p->ndomids; i++)
		if (p->domids[i].domid == domid)
			return perr(ps, "domain %u already has a rule at line %u", domid,
				    p->domids[i].line);
	struct mac_domid_rule *domids = grow(p->domids, &ps->caps[3], p->ndomids, sizeof(*domids));
	if (!domids)
		return VS_ENOMEM;
	p->domids = domids;
	p->domids[p->ndomids++] = (struct mac_domid_rule){domid, (uint32_t)label, ps->line};
	return 0;
}

static int st_path(struct parser *ps)
{
	struct mac_policy *p = ps->p;
	struct mac_path_rule r;
	char why[128];
	int64_t label;
	int err;

	if (ps->ntoks != 3 || ps->toks[1].kind != TOK_WORD)
		return perr(ps, "'path' takes a pattern and a label");
	const struct tok *t = &ps->toks[1];
	if ((err = mac__pattern_parse(&r, t->s, t->len, why, sizeof(why))) == VS_EINVAL)
		return perr(ps, "bad path pattern " TOKF ": %s", TOKA(t), why);
	if (err < 0)
		return err;
	if ((label = label_ref(ps, &ps->toks[2])) < 0) {
		mac__pattern_release(&r);
		return (int)label;
	}
	for (size_t i = 0; i < p->npaths; i++) {
		if (mac__pattern_same(&p->paths[i], &r)) {
			unsigned int other = p->paths[i].line;

			mac__pattern_release(&r);
			return perr(ps, "pattern " TOKF " already has a rule at line %u", TOKA(t),
				    other);
		}
	}
	struct mac_path_rule *paths = grow(p->paths, &ps->caps[2], p->npaths, sizeof(*paths));
	if (!paths) {
		mac__pattern_release(&r);
		return VS_ENOMEM;
	}
	p->paths = paths;
	r.label = (uint32_t)label;
	r.line = ps->line;
	p->paths[p->npaths++] = r;
	return 0;
}

/* A set of labels at toks[*i]: NAME, '*', '{ NAME... }', or '~' before either. */
static int parse_set(struct parser *ps, size_t *i, uint64_t *set, const char *what)
{
	const struct mac_labels *l = &ps->p->labels;
	size_t nwords = ps->p->nwords;
	bool neg = false;

	memset(set, 0, nwords * sizeof(*set));
	if (*i < ps->ntoks && ps->toks[*i].kind == TOK_TILDE) {
		neg = true;
		++*i;
	}
	if (*i >= ps->ntoks)
		return perr(ps, "missing the %s label set", what);
	const struct tok *t = &ps->toks[*i];
	if (tok_is(t, "*")) {
		for (uint32_t k = 0; k < l->count; k++)
			set[k / 64] |= 1ull << (k % 64);
		++*i;
	} else if (t->kind == TOK_LBRACE) {
		size_t n = 0;

		for (++*i; *i < ps->ntoks && ps->toks[*i].kind != TOK_RBRACE; ++*i, n++) {
			int64_t k = label_ref(ps, &ps->toks[*i]);

			if (k < 0)
				return (int)k;
			set[k / 64] |= 1ull << (k % 64);
		}
		if (*i == ps->ntoks)
			return perr(ps, "missing '}' in the %s label set", what);
		if (n == 0)
			return perr(ps, "empty %s label set", what);
		++*i;
	} else {
		int64_t k = label_ref(ps, t);

		if (k < 0)
			return (int)k;
		set[k / 64] |= 1ull << (k % 64);
		++*i;
	}
	if (neg) {
		for (uint32_t k = 0; k < l->count; k++)
			set[k / 64] ^= 1ull << (k % 64);
	}
	return 0;
}

static int op_ref(struct parser *ps, const struct tok *t, uint32_t *ops)
{
	char name[16];
	int op;

	if (t->kind == TOK_WORD && t->len < sizeof(name)) {
		memcpy(name, t->s, t->len);
		name[t->len] = '\0';
		if ((op = mac_op_from_name(name)) >= 0) {
			*ops |= 1u << op;
			return 0;
		}
	}
	return perr(ps,
		    "unknown operation " TOKF " (read write create remove list watch setperm "
		    "relabel introduce release control, or '*')",
		    TOKA(t));
}

/* Operations at toks[*i]: OP, '*' or '{ OP... }'. */
static int parse_ops(struct parser *ps, size_t *i, uint32_t *ops)
{
	*ops = 0;
	if (*i >= ps->ntoks)
		return perr(ps, "missing the operations");
	const struct tok *t = &ps->toks[*i];
	if (tok_is(t, "*")) {
		*ops = MAC_OPS_ALL;
		++*i;
		return 0;
	}
	if (t->kind != TOK_LBRACE) {
		++*i;
		return op_ref(ps, t, ops);
	}
	size_t n = 0;
	int err;
	for (++*i; *i < ps->ntoks && ps->toks[*i].kind != TOK_RBRACE; ++*i, n++)
		if ((err = op_ref(ps, &ps->toks[*i], ops)) < 0)
			return err;
	if (*i == ps->ntoks)
		return perr(ps, "missing '}' in the operations");
	if (n == 0)
		return perr(ps, "empty set of operations");
	++*i;
	return 0;
}

static int st_rule(struct parser *ps, bool never)
{
	static const char *const conds[MAC_COND_COUNT] = {NULL, "self", "serves", "served"};
	struct mac_policy *p = ps->p;
	struct mac_rule r = {.line = ps->line, .cond = MAC_COND_ANY};
	size_t i = 1;
	int err;

	r.subj = calloc(2 * p->nwords, sizeof(uint64_t));
	if (!r.subj)
		return vs_error_set(VS_ENOMEM, "out of memory for the policy");
	r.obj = r.subj + p->nwords; /* one allocation: freed through subj */
	if ((err = parse_set(ps, &i, r.subj, "subject")) < 0 ||
	    (err = parse_set(ps, &i, r.obj, "object")) < 0 || (err = parse_ops(ps, &i, &r.ops)) < 0)
		goto fail;
	if (i < ps->ntoks && tok_is(&ps->toks[i], "if")) {
		if (never) {
			err = perr(ps, "a neverallow takes no condition: it covers every 'allow', "
				       "conditional or not");
			goto fail;
		}
		if (++i == ps->ntoks) {
			err = perr(ps, "'if' needs a condition: self, serves or served");
			goto fail;
		}
		for (unsigned int c = 1; c < MAC_COND_COUNT; c++)
			if (tok_is(&ps->toks[i], conds[c]))
				r.cond = c;
		if (r.cond == MAC_COND_ANY) {
			err = perr(ps, "unknown condition " TOKF " (self, serves or served)",
				   TOKA(&ps->toks[i]));
			goto fail;
		}
		i++;
	}
	if (i < ps->ntoks) {
		err = perr(ps, "unexpected " TOKF " after the operations", TOKA(&ps->toks[i]));
		goto fail;
	}
	struct mac_rule **v = never ? &p->never : &p->allow;
	size_t *n = never ? &p->nnever : &p->nallow;
	struct mac_rule *rules = grow(*v, &ps->caps[never], *n, sizeof(*rules));
	if (!rules) {
		err = VS_ENOMEM;
		goto fail;
	}
	*v = rules;
	rules[(*n)++] = r;
	return 0;
fail:
	free(r.subj);
	return err;
}

static int st_allow(struct parser *ps)
{
	return st_rule(ps, false);
}

static int st_neverallow(struct parser *ps)
{
	return st_rule(ps, true);
}

static const struct {
	const char *word;
	int (*fn)(struct parser *ps);
} statements[] = {
    {"label", st_label}, {"domain", st_domain},		{"path", st_path},
    {"allow", st_allow}, {"neverallow", st_neverallow},
};

/* One pass over every line: declarations (@decl) or the other statements. */
static int parse_pass(struct parser *ps, const char *text, size_t len, bool decl)
{
	const char *s = text, *end = text + len;
	int err;

	for (ps->line = 1; s < end; ps->line++) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);

		ps->quiet = decl; /* the second pass reports bad lines */
		err = tokenize(ps, s, n);
		ps->quiet = false;
		s += n + 1;
		if (err == VS_ENOMEM)
			return err;
		if (err < 0 || ps->ntoks == 0)
			continue;
		bool is_label = tok_is(&ps->toks[0], "label");
		if (is_label != decl)
			continue;
		size_t k = 0;
		while (k < sizeof(statements) / sizeof(statements[0]) &&
		       !tok_is(&ps->toks[0], statements[k].word))
			k++;
		if (k == sizeof(statements) / sizeof(statements[0]))
			err = perr(ps,
				   "unknown statement " TOKF " (label, domain, path, allow, "
				   "neverallow)",
				   TOKA(&ps->toks[0]));
		else
			err = statements[k].fn(ps);
		if (err == VS_ENOMEM)
			return err;
	}
	return 0;
}

static int name_rule_cmp(const void *a, const void *b)
{
	const struct mac_name_rule *x = a, *y = b;

	if (x->exact != y->exact)
		return x->exact ? -1 : 1;
	if (x->lits != y->lits)
		return x->lits > y->lits ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int domid_rule_cmp(const void *a, const void *b)
{
	const struct mac_domid_rule *x = a, *y = b;

	return x->domid < y->domid ? -1 : x->domid > y->domid;
}

static int policy_parse(struct parser *ps, const char *text, size_t len)
{
	struct mac_policy *p = ps->p;
	int err;

	if (memchr(text, '\0', len)) {
		ps->line = 0;
		return perr(ps, "the policy contains a NUL byte");
	}
	if ((err = parse_pass(ps, text, len, true)) < 0)
		return err;
	p->nwords = (p->labels.count + 63) / 64;
	if ((err = parse_pass(ps, text, len, false)) < 0)
		return err;
	/* qsort's pointer must not be NULL, even for no elements. */
	if (p->npaths)
		qsort(p->paths, p->npaths, sizeof(*p->paths), mac__pattern_cmp);
	if (p->ndomids)
		qsort(p->domids, p->ndomids, sizeof(*p->domids), domid_rule_cmp);
	if (p->nnames)
		qsort(p->names, p->nnames, sizeof(*p->names), name_rule_cmp);
	return mac__check_neverallow(p, ps->errs);
}

int mac_policy_parse(struct mac_policy **out, struct mac_errors *errs, const char *text, size_t len)
{
	struct mac_errors local;
	struct parser *ps = NULL;
	struct mac_policy *p;
	int err;

	*out = NULL;
	mac_errors_init(&local);
	if (!errs)
		errs = &local;
	if (!(p = calloc(1, sizeof(*p))))
		return vs_error_set(VS_ENOMEM, "out of memory for a policy");
	atomic_init(&p->refs, 1);
	if ((err = mac__labels_init(&p->labels)) < 0)
		goto out;
	if (!(ps = calloc(1, sizeof(*ps)))) {
		err = vs_error_set(VS_ENOMEM, "out of memory for the parser");
		goto out;
	}
	ps->p = p;
	ps->errs = errs;
	ps->errs_base = errs->count;
	if ((err = policy_parse(ps, text, len)) < 0 && err != VS_EINVAL)
		goto out;
	mac__errors_sort(errs, ps->errs_base);
	if (errs->count > ps->errs_base) {
		const struct mac_error *e = &errs->items[ps->errs_base];

		err = vs_error_set(VS_EINVAL, "policy line %u: %s (%zu error%s)", e->line,
				   e->message, errs->count - ps->errs_base,
				   errs->count - ps->errs_base == 1 ? "" : "s");
		goto out;
	}
	*out = p;
	p = NULL;
	err = 0;
out:
	free(ps);
	mac_policy_free(p);
	mac_errors_release(&local);
	return err;
}

int mac_policy_load(struct mac_policy **out, struct mac_errors *errs, const char *path)
{
	FILE *f;
	char *text;
	size_t len;
	int err;

	*out = NULL;
	if (!(f = fopen(path, "rb")))
		return vs_error_set(errno == ENOENT ? VS_ENOENT : VS_EIO, "cannot open %s: %s",
				    path, strerror(errno));
	if (!(text = malloc(FILE_MAX + 1))) {
		fclose(f);
		return vs_error_set(VS_ENOMEM, "out of memory reading %s", path);
	}
	len = fread(text, 1, FILE_MAX + 1, f);
	err = ferror(f) ? vs_error_set(VS_EIO, "cannot read %s", path) : 0;
	fclose(f);
	if (!err && len > FILE_MAX) {
		err = vs_error_set(VS_EINVAL, "%s is larger than %u bytes", path, FILE_MAX);
		if (errs && mac__error_add(errs, 0, "larger than %u bytes", FILE_MAX) < 0)
			err = VS_ENOMEM;
	}
	if (!err)
		err = mac_policy_parse(out, errs, text, len);
	free(text);
	return err;
}

struct mac_policy *mac_policy_dup(struct mac_policy *p)
{
	atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
	return p;
}

void mac_policy_free(struct mac_policy *p)
{
	if (!p || atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (size_t i = 0; i < p->nallow; i++)
		free(p->allow[i].subj);
	for (size_t i = 0; i < p->nnever; i++)
		free(p->never[i].subj);
	for (size_t i = 0; i < p->npaths; i++)
		mac__pattern_release(&p->paths[i]);
	for (size_t i = 0; i < p->nnames; i++)
		free(p->names[i].glob);
	free(p->allow);
	free(p->never);
	free(p->paths);
	free(p->domids);
	free(p->names);
	mac__labels_release(&p->labels);
	free(p);
}
