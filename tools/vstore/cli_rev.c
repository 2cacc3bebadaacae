/* SPDX-License-Identifier: MIT */
/*
 * Revision and time syntax. cli_rev_parse() and cli_parse_time() are pure
 * (no store, "now" passed in) so the unit tests pin them down; resolving
 * against a repo happens only in cli_resolve_rev()/cli_resolve_at().
 */
#include "cli.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* A decimal number of at most 18 digits at *s; advances *s. */
static bool take_num(int64_t *out, const char **s)
{
	const char *p = *s;
	int64_t v = 0;
	int n = 0;
	while (isdigit((unsigned char)*p) && n < 18) {
		v = v * 10 + (*p++ - '0');
		n++;
	}
	if (!n || isdigit((unsigned char)*p))
		return false;
	*out = v;
	*s = p;
	return true;
}

/* Exactly @p n digits at *s; advances *s. */
static bool take_digits(int *out, const char **s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*s)[i]))
			return false;
		v = v * 10 + ((*s)[i] - '0');
	}
	*out = v;
	*s += n;
	return true;
}

static const struct {
	const char *name;
	int64_t secs;
} units[] = {
    {"s", 1},	     {"sec", 1},	 {"second", 1},	  {"m", 60},
    {"min", 60},     {"minute", 60},	 {"h", 3600},	  {"hour", 3600},
    {"d", 86400},    {"day", 86400},	 {"w", 604800},	  {"week", 604800},
    {"mo", 2592000}, {"month", 2592000}, {"y", 31536000}, {"year", 31536000},
};

/* "N UNIT[s] [ago]" / "NUNIT": seconds back from now. */
static bool parse_relative(int64_t *out, const char *s, int64_t now)
{
	int64_t n;
	if (!take_num(&n, &s))
		return false;
	s = skip_ws(s);
	const char *u = s;
	while (isalpha((unsigned char)*s))
		s++;
	size_t ulen = (size_t)(s - u);
	if (ulen > 1 && u[ulen - 1] == 's')
		ulen--; /* plural */
	int64_t secs = 0;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == ulen && !strncmp(units[i].name, u, ulen))
			secs = units[i].secs;
	if (!secs)
		return false;
	s = skip_ws(s);
	if (!strncmp(s, "ago", 3))
		s = skip_ws(s + 3);
	if (*s || n > INT64_MAX / secs)
		return false;
	*out = now - n * secs;
	return true;
}

/* "+HH:MM", "-HHMM", "+HH", "Z": minutes east of UTC. */
static bool parse_zone(int *out, const char *s)
{
	if (!strcmp(s, "Z") || !strcmp(s, "UTC")) {
		*out = 0;
		return true;
	}
	if (*s != '+' && *s != '-')
		return false;
	int sign = *s++ == '-' ? -1 : 1, hh, mm = 0;
	if (!take_digits(&hh, &s, 2))
		return false;
	if (*s == ':')
		s++;
	if (*s && !take_digits(&mm, &s, 2))
		return false;
	if (*s || hh > 23 || mm > 59)
		return false;
	*out = sign * (hh * 60 + mm);
	return true;
}

/* YYYY-MM-DD[( |T)HH:MM[:SS]][ ][zone] */
static bool parse_absolute(int64_t *out, const char *s)
{
	struct tm tm = {0};
	int y, mo, d, h = 0, mi = 0, se = 0, zone = 0;
	bool utc = false;
	if (!take_digits(&y, &s, 4) || *s++ != '-' || !take_digits(&mo, &s, 2) || *s++ != '-' ||
	    !take_digits(&d, &s, 2))
		return false;
	if (*s == ' ' || *s == 'T') {
		const char *t = skip_ws(s + 1);
		if (take_digits(&h, &t, 2) && *t == ':') {
			t++;
			if (!take_digits(&mi, &t, 2))
				return false;
			if (*t == ':' && (t++, !take_digits(&se, &t, 2)))
				return false;
			s = t;
		} else if (*s == 'T') {
			return false;
		}
	}
	s = skip_ws(s);
	if (*s) {
		if (!parse_zone(&zone, s))
			return false;
		utc = true;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	tm.tm_isdst = -1;
	time_t t = utc ? timegm(&tm) : mktime(&tm);
	if (t == (time_t)-1 || tm.tm_mday != d) /* normalised: Feb 30 */
		return false;
	*out = (int64_t)t - (int64_t)zone * 60;
	return true;
}

static int64_t local_midnight(int64_t now)
{
	time_t t = (time_t)now;
	struct tm tm;
	localtime_r(&t, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

int cli_parse_time(int64_t *out, const char *s, int64_t now)
{
	char buf[128];
	size_t n;
	s = skip_ws(s);
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (!n || n >= sizeof(buf))
		return vs_error_set(VS_EINVAL, "'%s' is not a time", s);
	memcpy(buf, s, n);
	buf[n] = '\0';
	const char *p = buf;
	int64_t v;
	if (!strcmp(buf, "now")) {
		*out = now;
	} else if (!strcmp(buf, "today")) {
		*out = local_midnight(now);
	} else if (!strcmp(buf, "yesterday")) {
		*out = now - 86400;
	} else if (buf[0] == '@' && (p++, take_num(&v, &p)) && !*p) {
		*out = v;
	} else if (!parse_relative(out, buf, now) && !parse_absolute(out, buf)) {
		return vs_error_set(VS_EINVAL,
				    "'%s' is not a time (YYYY-MM-DD[ HH:MM[:SS]], @SECONDS, "
				    "\"N hours ago\", now, yesterday)",
				    buf);
	}
	return 0;
}

static bool base_char_ok(unsigned char c)
{
	return c > ' ' && c != 0x7f && c != '~' && c != '^' && c != ':' && c != '\\' && c != '{' &&
	       c != '}';
}

/* "~N", "~", "^", "^K", "^0", repeated. */
static int parse_steps(struct cli_rev *r, const char *s, const char *spec)
{
	while (*s) {
		char op = *s++;
		int64_t n = 1;
		if (op != '~' && op != '^')
			return vs_error_set(VS_EINVAL, "bad revision '%s'", spec);
		if (isdigit((unsigned char)*s) && !take_num(&n, &s))
			return vs_error_set(VS_EINVAL, "bad revision '%s'", spec);
		if (n > 100000000 || r->back + n > 100000000u)
			return vs_error_set(VS_EINVAL, "bad revision '%s': too far back", spec);
		if (!n) /* ~0, ^0: the commit itself */
			continue;
		unsigned int parent = op == '^' ? (unsigned int)n : 1;
		unsigned int count = op == '^' ? 1 : (unsigned int)n;
		if (r->nsteps && r->steps[r->nsteps - 1].parent == 1 && parent == 1) {
			r->steps[r->nsteps - 1].count += count;
		} else {
			if (r->nsteps == CLI_REV_MAX_STEPS)
				return vs_error_set(VS_EINVAL, "bad revision '%s': too many steps",
						    spec);
			r->steps[r->nsteps].parent = parent;
			r->steps[r->nsteps++].count = count;
		}
		r->back += count;
	}
	return 0;
}

int cli_rev_parse(struct cli_rev *out, const char *spec, int64_t now)
{
	memset(out, 0, sizeof(*out));
	if (!spec || !*spec)
		return vs_error_set(VS_EINVAL, "empty revision");
	const char *at = strstr(spec, "@{");
	const char *rest;
	size_t blen;
	if (at) {
		const char *close = strchr(at + 2, '}');
		char date[128];
		size_t dlen = close ? (size_t)(close - at - 2) : 0;
		if (!close || !dlen || dlen >= sizeof(date))
			return vs_error_set(VS_EINVAL, "bad revision '%s': @{DATE} expected", spec);
		memcpy(date, at + 2, dlen);
		date[dlen] = '\0';
		if (cli_parse_time(&out->date, date, now) < 0)
			return vs_error_set(VS_EINVAL, "bad revision '%s': '%s' is not a time",
					    spec, date);
		out->has_date = true;
		blen = (size_t)(at - spec);
		rest = close + 1;
	} else {
		blen = strcspn(spec, "~^");
		rest = spec + blen;
	}
	if (blen >= sizeof(out->base))
		return vs_error_set(VS_EINVAL, "bad revision '%s': name too long", spec);
	for (size_t i = 0; i < blen; i++)
		if (!base_char_ok((unsigned char)spec[i]))
			return vs_error_set(VS_EINVAL, "bad revision '%s'", spec);
	memcpy(out->base, spec, blen);
	out->base[blen] = '\0';
	if (!strcmp(out->base, "HEAD") || !strcmp(out->base, "@"))
		out->base[0] = '\0';
	if (!at && !blen)
		return vs_error_set(VS_EINVAL, "bad revision '%s'", spec);
	return parse_steps(out, rest, spec);
}

int cli_commit_at_time(struct vs_oid *out, struct vs_repo *repo, const struct vs_oid *start,
		       int64_t t)
{
	struct vs_oid id = *start;
	for (;;) {
		struct vs_commit *c;
		int err = vs_commit_lookup(&c, repo, &id);
		if (err < 0)
			return err;
		int64_t when = vs_commit_committer(c)->time;
		const struct vs_oid *p = vs_commit_parent_id(c, 0);
		bool root = p == NULL;
		if (p)
			id = *p;
		if (when <= t) {
			*out = *vs_commit_id(c);
			vs_commit_free(c);
			return 0;
		}
		vs_commit_free(c);
		if (root) {
			char when_s[64];
			return vs_error_set(
			    VS_ENOENT, "no commit at or before %s: history starts later",
			    cli_format_time(when_s, sizeof(when_s), t, 0, CLI_TIME_ISO));
		}
	}
}

/* The commit a parsed base names. */
static int resolve_base(struct vs_oid *out, struct vs_repo *repo, const char *base,
			const char *spec)
{
	int err;
	if (!*base) {
		if ((err = vs_branch_head(out, repo, CLI_MAIN_BRANCH)) == VS_ENOENT)
			return vs_error_set(VS_ENOENT,
					    "HEAD: branch %s does not exist (empty store)",
					    CLI_MAIN_BRANCH);
		return err;
	}
	if (vs_branch_name_check(base) == 0 && (err = vs_branch_head(out, repo, base)) != VS_ENOENT)
		return err;
	err = vs_repo_resolve(out, repo, base);
	if (err == VS_ENOENT || err == VS_ENOTSUP)
		return vs_error_set(VS_ENOENT, "unknown revision '%s'", spec);
	if (err == VS_EINVAL)
		return vs_error_set(VS_EINVAL, "ambiguous revision '%s': give more digits", spec);
	return err;
}

int cli_resolve_rev(struct vs_oid *out, struct cli *cli, struct vs_repo *repo, const char *spec)
{
	struct cli_rev r;
	struct vs_oid id;
	int err;
	if ((err = cli_rev_parse(&r, spec, cli->now)) < 0)
		return err;
	if ((err = resolve_base(&id, repo, r.base, spec)) < 0)
		return err;
	if (r.has_date && (err = cli_commit_at_time(&id, repo, &id, r.date)) < 0)
		return err;
	unsigned int done = 0;
	for (unsigned int s = 0; s < r.nsteps; s++) {
		for (unsigned int i = 0; i < r.steps[s].count; i++, done++) {
			struct vs_commit *c;
			unsigned int k = r.steps[s].parent;
			if ((err = vs_commit_lookup(&c, repo, &id)) < 0) {
				if (err == VS_ENOENT)
					return vs_error_set(VS_ENOENT, "'%s': not a commit", spec);
				return err;
			}
			const struct vs_oid *p = vs_commit_parent_id(c, k - 1);
			if (p)
				id = *p;
			vs_commit_free(c);
			if (!p && k > 1)
				return vs_error_set(VS_ENOENT, "'%s': commit has no parent %u",
						    spec, k);
			if (!p)
				return vs_error_set(VS_ENOENT,
						    "'%s': history has only %u commits before it",
						    spec, done);
		}
	}
	/* The id must name a commit (a tree id or prefix would fail later, less clearly). */
	struct vs_commit *c;
	if ((err = vs_commit_lookup(&c, repo, &id)) < 0) {
		if (err == VS_ENOENT || err == VS_ECORRUPT)
			return vs_error_set(VS_ENOENT, "'%s' is not a commit", spec);
		return err;
	}
	vs_commit_free(c);
	*out = id;
	return 0;
}

int cli_resolve_at(struct vs_oid *out, struct cli *cli, struct vs_repo *repo, const char *spec)
{
	int err = cli_resolve_rev(out, cli, repo, spec);
	if (err != VS_ENOENT && err != VS_EINVAL)
		return err;
	if (strstr(spec, "@{"))
		return err;
	/* Not a revision: a time? If not, keep the revision's own message
	 * ("history has only 3 commits") unless it was merely unknown. */
	char why[256];
	snprintf(why, sizeof(why), "%s", vs_error_last()->message);
	int64_t t;
	if (cli_parse_time(&t, spec, cli->now) < 0) {
		if (strstr(why, "unknown revision") || err == VS_EINVAL)
			return vs_error_set(VS_ENOENT, "'%s' is neither a revision nor a time",
					    spec);
		return vs_error_set(err, "%s", why);
	}
	struct vs_oid head;
	if ((err = resolve_base(&head, repo, "", spec)) < 0)
		return err;
	return cli_commit_at_time(out, repo, &head, t);
}

char *cli_format_time(char *out, size_t n, int64_t t, int offset, enum cli_time_style style)
{
	static const char wd[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char mn[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t local = (time_t)(t + (int64_t)offset * 60);
	struct tm tm;
	int a = offset < 0 ? -offset : offset;
	char sign = offset < 0 ? '-' : '+';
	if (!gmtime_r(&local, &tm)) {
		snprintf(out, n, "@%lld", (long long)t);
		return out;
	}
	if (style == CLI_TIME_ISO)
		snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, sign, a / 60,
			 a % 60);
	else
		snprintf(out, n, "%s %s %d %02d:%02d:%02d %d %c%02d%02d", wd[tm.tm_wday],
			 mn[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 tm.tm_year + 1900, sign, a / 60, a % 60);
	return out;
}

bool cli_trailer(char *out, size_t n, const char *msg, const char *key)
{
	const char *body = msg ? strstr(msg, "\n\n") : NULL;
	size_t klen = strlen(key);
	if (!body)
		return false;
	for (const char *line = body + 2; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (len > klen + 1 && !strncmp(line, key, klen) && line[klen] == ':') {
			const char *v = skip_ws(line + klen + 1);
			size_t vlen = len - (size_t)(v - line);
			if (vlen >= n)
				vlen = n - 1;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return true;
		}
		if (!end)
			break;
		line = end + 1;
	}
	return false;
}

int cli_tree_at(struct vs_tree **out, struct vs_oid *commit_out, struct cli *cli,
		struct vs_repo *repo, const char *at)
{
	struct vs_oid id;
	struct vs_commit *c;
	int err;

	*out = NULL;
	if ((err = at ? cli_resolve_at(&id, cli, repo, at)
		      : cli_resolve_rev(&id, cli, repo, "HEAD")) < 0)
		return err;
	if ((err = vs_commit_lookup(&c, repo, &id)) < 0)
		return err;
	err = vs_commit_tree(out, c);
	vs_commit_free(c);
	if (err >= 0 && commit_out)
		*commit_out = id;
	return err;
}

char *cli_short_id(char *out, size_t n, const struct vs_oid *id)
{
	char hex[VS_OID_MAXHEXSZ + 1];
	vs_oid_tostr(hex, id);
	snprintf(out, n, "%.12s", hex);
	return out;
}
