/* SPDX-License-Identifier: MIT */
/*
 * The registry of object formats: "git" (git's objects, SHA-1) and "vs"
 * (SHA-256, large trees split into bounded nodes).
 */
#include "store_int.h"

static const struct vs_format *const formats[] = { &vs__format_git, &vs__format_vs };

const struct vs_format *vs_format_find(const char *name)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(formats); i++)
		if (!strcmp(formats[i]->name, name))
			return formats[i];
	return NULL;
}

void vs_format_commit_dispose(struct vs_format_commit *c)
{
	if (!c)
		return;
	vs_free(c->parents);
	vs_free(c->author);
	vs_free(c->committer);
	vs_free(c->extra_headers);
	vs_free(c->message);
	memset(c, 0, sizeof(*c));
}
