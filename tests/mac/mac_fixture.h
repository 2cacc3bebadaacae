/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the mac/ tests: parse a policy that must be valid, load
 * the shipped policy (MAC_TEST_POLICY), a fake device-pairing oracle, an
 * audit sink that keeps the lines, and a fake clock.
 */
#ifndef MAC_FIXTURE_H
#define MAC_FIXTURE_H

#include "vst.h"

#include <mac/mac.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Parse @text, which must be a valid policy (errors are printed on failure). */
static inline struct mac_policy *policy_from(const char *text)
{
	struct mac_policy *p = NULL;
	struct mac_errors errs;

	mac_errors_init(&errs);
	int rc = mac_policy_parse(&p, &errs, text, strlen(text));
	if (rc < 0)
		mac_errors_print(stdout, "inline policy", &errs);
	mac_errors_release(&errs);
	assert_vs_ok(rc);
	assert_non_null(p);
	return p;
}

/* The shipped mac/policies/xen-host.policy. */
static inline struct mac_policy *policy_shipped(void)
{
	const char *path = getenv("MAC_TEST_POLICY");
	struct mac_policy *p = NULL;
	struct mac_errors errs;

	assert_non_null(path);
	mac_errors_init(&errs);
	int rc = mac_policy_load(&p, &errs, path);
	if (rc < 0)
		mac_errors_print(stdout, path, &errs);
	mac_errors_release(&errs);
	assert_vs_ok(rc);
	return p;
}

/* "backend serves a device of frontend" pairs, and how often the oracle was asked. */
struct fake_pairs {
	unsigned int pairs[8][2]; /* {backend, frontend} */
	size_t n;
	unsigned int calls;
};

static inline bool fake_serves(void *payload, unsigned int backend, unsigned int frontend)
{
	struct fake_pairs *f = payload;

	f->calls++;
	for (size_t i = 0; i < f->n; i++)
		if (f->pairs[i][0] == backend && f->pairs[i][1] == frontend)
			return true;
	return false;
}

/* Audit lines kept in order (at most 512). */
struct sink {
	char *lines[512];
	size_t n;
};

static inline void sink_fn(void *payload, const char *line)
{
	struct sink *s = payload;

	assert_true(s->n < ARRAY_SIZE(s->lines));
	s->lines[s->n] = strdup(line);
	assert_non_null(s->lines[s->n]);
	s->n++;
}

static inline void sink_clear(struct sink *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->lines[i]);
	s->n = 0;
}

static inline uint64_t fake_clock(void *payload)
{
	return *(uint64_t *)payload;
}

#endif
