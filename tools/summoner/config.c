/* SPDX-License-Identifier: MIT */
/*
 * The summoner's configuration parser: INI-like sections, one per DNS name,
 * checked completely (names, addresses, numbers, Xenstore key paths,
 * required and repeated keys) so that the server never starts half
 * configured. Every message is "ORIGIN:LINE: what is wrong".
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vstore/vstore.h>

/* The settings a section may give once each (plus any number of `set`). */
enum setting { S_IP, S_TTL, S_COMMAND, S_WAIT_FOR_KEY, S_TIMEOUT, S_DOMAIN_NAME, S_COUNT };
static const char *const setting_names[S_COUNT] = {
    [S_IP] = "ip",	     [S_TTL] = "ttl",
    [S_COMMAND] = "command", [S_WAIT_FOR_KEY] = "wait_for_key",
    [S_TIMEOUT] = "timeout", [S_DOMAIN_NAME] = "domain_name",
};

/* Longest accepted timeout: ten minutes, so every wait stays bounded. */
#define TIMEOUT_MAX_MS 600000
/* Longest key path below a domain's home (C xenstored's path-max is 2048). */
#define KEY_PATH_MAX 1024

struct parser {
	struct summoner_config *cfg;
	const char *origin;
	unsigned int line;
	struct summoner_service *cur; /* the open section, NULL before the first */
	unsigned int seen[S_COUNT];   /* line each setting of cur was given on, 0: not yet */
};

__attribute__((format(printf, 2, 3))) static int config_err(const struct parser *p, const char *fmt,
							    ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return vs_error_set(VS_EINVAL, "%s:%u: %s", p->origin, p->line, msg);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/*
 * A DNS name made canonical in place: lower-case, final dot dropped. Labels
 * are 1..63 letters, digits, '-' or '_'; the whole at most 253 bytes.
 */
static bool dns_name_canon(char *s)
{
	size_t n = strlen(s);
	if (n > 0 && s[n - 1] == '.')
		s[--n] = '\0';
	if (n == 0 || n > SUMMONER_NAME_MAX)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!isalnum(ch) && ch != '-' && ch != '_')
			return false;
		if (++label > 63)
			return false;
		s[i] = (char)tolower(ch);
	}
	return label > 0;
}

/* A Xenstore path relative to a domain's home: segments of path characters. */
static bool key_path_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > KEY_PATH_MAX || s[0] == '/' || s[n - 1] == '/' || strstr(s, "//"))
		return false;
	for (const char *c = s; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("-/_@", *c))
			return false;
	return true;
}

/* Seconds with up to three decimals ("5", "0.25") into milliseconds. */
static bool parse_timeout(int *out, const char *s)
{
	long ms = 0;
	int decimals = -1;
	if (!*s)
		return false;
	for (const char *c = s; *c; c++) {
		if (*c == '.' && decimals < 0 && c != s) {
			decimals = 0;
			continue;
		}
		if (*c < '0' || *c > '9' || decimals >= 3)
			return false;
		ms = ms * 10 + (*c - '0');
		if (decimals >= 0)
			decimals++;
		if (ms > (long)TIMEOUT_MAX_MS * 1000)
			return false;
	}
	if (decimals == 0)
		return false; /* "5." */
	for (int d = decimals < 0 ? 0 : decimals; d < 3; d++)
		ms *= 10;
	if (ms <= 0 || ms > TIMEOUT_MAX_MS)
		return false;
	*out = (int)ms;
	return true;
}

static bool parse_ttl(uint32_t *out, const char *s)
{
	if (*s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || errno == ERANGE || v > 2147483647ul) /* RFC 2181 §8 */
		return false;
	*out = (uint32_t)v;
	return true;
}

static char *dup_str(const char *s)
{
	char *d = strdup(s);
	if (!d)
		vs_error_set(VS_ENOMEM, "out of memory");
	return d;
}

/* Close the open section: every required setting given, defaults filled. */
static int section_end(struct parser *p)
{
	struct summoner_service *s = p->cur;
	if (!s)
		return 0;
	unsigned int here = p->line;
	p->line = s->line;
	int err = 0;
	if (!p->seen[S_IP])
		err = config_err(p, "[%s] has no `ip = ADDRESS` to answer with", s->name);
	else if (!p->seen[S_COMMAND])
		err = config_err(p, "[%s] has no `command = ...` to start", s->name);
	else if (!s->domain_name && !(s->domain_name = dup_str(s->name)))
		err = VS_ENOMEM;
	p->line = here;
	p->cur = NULL;
	return err;
}

static int section_begin(struct parser *p, char *header)
{
	size_t n = strlen(header);
	if (header[n - 1] != ']')
		return config_err(p, "section header \"%s\" lacks its closing ']'", header);
	header[n - 1] = '\0';
	char *name = trim(header + 1);
	if (!dns_name_canon(name))
		return config_err(p,
				  "\"%s\" is not a DNS name (labels of letters, digits, "
				  "'-' and '_', 1-63 bytes each, 253 in all)",
				  name);
	for (size_t i = 0; i < p->cfg->count; i++)
		if (!strcmp(p->cfg->services[i].name, name))
			return config_err(p, "[%s] is already defined on line %u", name,
					  p->cfg->services[i].line);
	int err;
	if ((err = section_end(p)) < 0)
		return err;
	struct summoner_service *v =
	    realloc(p->cfg->services, (p->cfg->count + 1) * sizeof(*p->cfg->services));
	if (!v)
		return vs_error_set(VS_ENOMEM, "out of memory");
	p->cfg->services = v;
	struct summoner_service *s = &v[p->cfg->count];
	*s = (struct summoner_service){.ttl = SUMMONER_DEFAULT_TTL,
				       .timeout_ms = SUMMONER_DEFAULT_TIMEOUT_MS,
				       .line = p->line};
	if (!(s->name = dup_str(name)))
		return VS_ENOMEM;
	p->cfg->count++;
	p->cur = s;
	memset(p->seen, 0, sizeof(p->seen));
	return 0;
}

static int add_key(struct parser *p, const char *path, const char *value)
{
	struct summoner_service *s = p->cur;
	if (!key_path_ok(path))
		return config_err(p,
				  "`set %s`: not a key path relative to the domain's home "
				  "(letters, digits, '-', '_', '@', '/' between segments)",
				  path);
	for (size_t i = 0; i < s->nkeys; i++)
		if (!strcmp(s->keys[i].path, path))
			return config_err(p, "`set %s` is given twice in [%s]", path, s->name);
	struct summoner_key *v = realloc(s->keys, (s->nkeys + 1) * sizeof(*s->keys));
	if (!v)
		return vs_error_set(VS_ENOMEM, "out of memory");
	s->keys = v;
	v[s->nkeys] = (struct summoner_key){dup_str(path), dup_str(value)};
	if (!v[s->nkeys].path || !v[s->nkeys].value) {
		free(v[s->nkeys].path);
		free(v[s->nkeys].value);
		return VS_ENOMEM;
	}
	s->nkeys++;
	return 0;
}

static int setting(struct parser *p, char *key, char *value)
{
	struct summoner_service *s = p->cur;
	if (!strncmp(key, "set", 3) && (key[3] == ' ' || key[3] == '\t'))
		return add_key(p, trim(key + 3), value);
	int k = 0;
	while (k < S_COUNT && strcmp(key, setting_names[k]) != 0)
		k++;
	if (k == S_COUNT)
		return config_err(p,
				  "unknown setting `%s` (known: ip, ttl, command, wait_for_key, "
				  "timeout, domain_name, set PATH)",
				  key);
	if (p->seen[k])
		return config_err(p, "`%s` is given twice in [%s] (first on line %u)", key, s->name,
				  p->seen[k]);
	p->seen[k] = p->line;
	if (!*value && k != S_WAIT_FOR_KEY)
		return config_err(p, "`%s` needs a value", key);
	switch (k) {
	case S_IP:
		if (inet_pton(AF_INET, value, &s->ip) != 1)
			return config_err(p, "ip \"%s\" is not an IPv4 address", value);
		return 0;
	case S_TTL:
		if (!parse_ttl(&s->ttl, value))
			return config_err(p,
					  "ttl \"%s\" is not a number of seconds in "
					  "0..2147483647",
					  value);
		return 0;
	case S_TIMEOUT:
		if (!parse_timeout(&s->timeout_ms, value))
			return config_err(p,
					  "timeout \"%s\" is not a number of seconds in "
					  "(0, 600] with at most 3 decimals",
					  value);
		return 0;
	case S_WAIT_FOR_KEY:
		if (!*value)
			return 0; /* explicitly none */
		if (!key_path_ok(value))
			return config_err(p,
					  "wait_for_key \"%s\" is not a key path relative to "
					  "the domain's home",
					  value);
		return (s->wait_for_key = dup_str(value)) ? 0 : VS_ENOMEM;
	case S_COMMAND:
		return (s->command = dup_str(value)) ? 0 : VS_ENOMEM;
	default:
		return (s->domain_name = dup_str(value)) ? 0 : VS_ENOMEM;
	}
}

static int parse_line(struct parser *p, char *raw)
{
	char *line = trim(raw);
	if (!*line || *line == '#' || *line == ';')
		return 0;
	if (*line == '[')
		return section_begin(p, line);
	char *eq = strchr(line, '=');
	if (!eq)
		return config_err(p,
				  "expected `[name]`, `setting = value` or a # comment, not "
				  "\"%.40s\"",
				  line);
	*eq = '\0';
	char *key = trim(line), *value = trim(eq + 1);
	if (!p->cur)
		return config_err(p, "`%s` outside any [name] section", key);
	return setting(p, key, value);
}

int summoner_config_parse(struct summoner_config *out, const char *text, const char *origin)
{
	struct parser p = {.cfg = out, .origin = origin ? origin : "config"};
	int err = 0;

	*out = (struct summoner_config){NULL, 0};
	char *copy = dup_str(text ? text : "");
	if (!copy)
		return VS_ENOMEM;
	char *next = copy;
	while (next && err >= 0) {
		char *line = next;
		next = strchr(next, '\n');
		if (next)
			*next++ = '\0';
		p.line++;
		err = parse_line(&p, line);
	}
	if (err >= 0)
		err = section_end(&p);
	if (err >= 0 && out->count == 0)
		err = vs_error_set(VS_EINVAL, "%s: no service: add a [name] section", p.origin);
	free(copy);
	return err;
}

int summoner_config_load(struct summoner_config *out, const char *path)
{
	*out = (struct summoner_config){NULL, 0};
	FILE *f = fopen(path, "re");
	if (!f)
		return vs_error_set(errno == ENOENT ? VS_ENOENT : VS_EIO, "%s: %s", path,
				    strerror(errno));
	struct vs_buf b = VS_BUF_INIT;
	char chunk[4096];
	size_t n;
	int err = 0;
	while (err >= 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (memchr(chunk, '\0', n))
			err = vs_error_set(VS_EINVAL, "%s: a NUL byte: not a text file", path);
		else
			err = vs_buf_put(&b, chunk, n);
	}
	if (err >= 0 && ferror(f))
		err = vs_error_set(VS_EIO, "%s: read failed", path);
	fclose(f);
	if (err >= 0)
		err = summoner_config_parse(out, b.ptr ? b.ptr : "", path);
	vs_buf_release(&b);
	return err;
}

void summoner_config_release(struct summoner_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->count; i++) {
		struct summoner_service *s = &cfg->services[i];
		free(s->name);
		free(s->domain_name);
		free(s->command);
		free(s->wait_for_key);
		for (size_t k = 0; k < s->nkeys; k++) {
			free(s->keys[k].path);
			free(s->keys[k].value);
		}
		free(s->keys);
	}
	free(cfg->services);
	*cfg = (struct summoner_config){NULL, 0};
}

const struct summoner_service *summoner_config_find(const struct summoner_config *cfg,
						    const char *name)
{
	char canon[SUMMONER_NAME_MAX + 2];
	if (!cfg || !name || strlen(name) >= sizeof(canon))
		return NULL;
	strcpy(canon, name);
	if (!dns_name_canon(canon))
		return NULL;
	for (size_t i = 0; i < cfg->count; i++)
		if (!strcmp(cfg->services[i].name, canon))
			return &cfg->services[i];
	return NULL;
}
