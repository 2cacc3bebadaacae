/* SPDX-License-Identifier: MIT */
/*
 * Audit lines with rate limiting, so a hostile guest repeating a denied
 * request cannot flood the log. Two limits per interval: `burst` identical
 * lines (the key is the whole line) and `total` lines of any kind. What is
 * dropped is counted and reported as "mac: suppressed=K <rest of the line>"
 * when that line comes back in a later interval, when its key is evicted,
 * and on mac_audit_flush(); drops by the total limit as
 * "mac: suppressed=K scope=all". The key table has a fixed size; the least
 * recently seen key is evicted (after its summary) to make room.
 */
#include "mac_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vstore/errors.h>

#define AUDIT_KEYS 256u
#define AUDIT_PREFIX "mac: "

struct audit_key {
	char *line; /* owned; NULL marks a free slot */
	uint64_t hash;
	uint64_t window;    /* start of this key's current interval (ms) */
	uint64_t seen;	    /* last time the line came, for eviction */
	unsigned int count; /* lines emitted in the current interval */
	uint64_t dropped;   /* dropped since the last line or summary */
};

struct mac_audit {
	mac_audit_fn *sink;
	void *payload;
	unsigned int burst, total;
	uint64_t interval;
	mac_clock_fn *clock;
	void *clock_payload;
	uint64_t window;    /* the total limit's interval start */
	unsigned int count; /* lines emitted in it */
	uint64_t dropped;   /* dropped by the total limit, not yet reported */
	uint64_t lines, suppressed;
	struct audit_key keys[AUDIT_KEYS];
};

static uint64_t monotonic_ms(void *payload)
{
	struct timespec ts;

	(void)payload;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int mac__audit_new(struct mac_audit **out, const struct mac_server_opts *opts)
{
	struct mac_audit *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (!a)
		return vs_error_set(VS_ENOMEM, "out of memory for the audit log");
	a->sink = opts->audit;
	a->payload = opts->audit_payload;
	a->burst = opts->audit_burst ? opts->audit_burst : 5;
	a->total = opts->audit_total ? opts->audit_total : 100;
	a->interval = opts->audit_interval_ms ? opts->audit_interval_ms : 1000;
	a->clock = opts->clock ? opts->clock : monotonic_ms;
	a->clock_payload = opts->clock_payload;
	a->window = a->clock(a->clock_payload);
	*out = a;
	return 0;
}

void mac__audit_free(struct mac_audit *a)
{
	if (!a)
		return;
	for (unsigned int i = 0; i < AUDIT_KEYS; i++)
		free(a->keys[i].line);
	free(a);
}

static void audit_out(struct mac_audit *a, const char *line)
{
	a->lines++;
	if (a->sink)
		a->sink(a->payload, line);
}

static void audit_summary(struct mac_audit *a, struct audit_key *k)
{
	char buf[64 + 4608];
	const char *rest = k->line;

	if (strncmp(rest, AUDIT_PREFIX, strlen(AUDIT_PREFIX)) == 0)
		rest += strlen(AUDIT_PREFIX);
	snprintf(buf, sizeof(buf), AUDIT_PREFIX "suppressed=%llu %s",
		 (unsigned long long)k->dropped, rest);
	k->dropped = 0;
	audit_out(a, buf);
}

static void audit_total_summary(struct mac_audit *a)
{
	char buf[64];

	snprintf(buf, sizeof(buf), AUDIT_PREFIX "suppressed=%llu scope=all",
		 (unsigned long long)a->dropped);
	a->dropped = 0;
	audit_out(a, buf);
}

static uint64_t line_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a, 64 bits */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* The key of @line, made (evicting the stalest key) when missing; NULL without memory. */
static struct audit_key *audit_key(struct mac_audit *a, const char *line, uint64_t now)
{
	uint64_t h = line_hash(line);
	struct audit_key *free_slot = NULL, *stalest = NULL;

	for (unsigned int i = 0; i < AUDIT_KEYS; i++) {
		struct audit_key *k = &a->keys[i];

		if (!k->line) {
			if (!free_slot)
				free_slot = k;
			continue;
		}
		if (k->hash == h && strcmp(k->line, line) == 0)
			return k;
		if (!stalest || k->seen < stalest->seen)
			stalest = k;
	}
	struct audit_key *k = free_slot ? free_slot : stalest;
	char *copy = strdup(line);
	if (!copy)
		return NULL;
	if (k->line && k->dropped)
		audit_summary(a, k);
	free(k->line);
	*k = (struct audit_key){.line = copy, .hash = h, .window = now, .seen = now};
	return k;
}

void mac__audit_emit(struct mac_audit *a, const char *line)
{
	uint64_t now = a->clock(a->clock_payload);
	struct audit_key *k;

	if (now - a->window >= a->interval) {
		if (a->dropped)
			audit_total_summary(a);
		a->window = now;
		a->count = 0;
	}
	if ((k = audit_key(a, line, now))) {
		k->seen = now;
		if (now - k->window >= a->interval) {
			if (k->dropped)
				audit_summary(a, k);
			k->window = now;
			k->count = 0;
		}
		if (k->count >= a->burst) {
			k->dropped++;
			a->suppressed++;
			return;
		}
		k->count++;
	}
	if (a->count >= a->total) {
		a->dropped++;
		a->suppressed++;
		return;
	}
	a->count++;
	audit_out(a, line);
}

void mac__audit_flush(struct mac_audit *a)
{
	for (unsigned int i = 0; i < AUDIT_KEYS; i++)
		if (a->keys[i].line && a->keys[i].dropped)
			audit_summary(a, &a->keys[i]);
	if (a->dropped)
		audit_total_summary(a);
}

void mac__audit_counts(const struct mac_audit *a, uint64_t *lines, uint64_t *suppressed)
{
	*lines = a->lines;
	*suppressed = a->suppressed;
}
