/* SPDX-License-Identifier: MIT */
/*
 * The one place libgit2 codes become VS_E* codes (STYLE §3: one translation
 * function per dependency), and libgit2's process-wide initialisation.
 */
#include <git2.h>
#include <pthread.h>

#include "store_int.h"

static pthread_once_t git2_once = PTHREAD_ONCE_INIT;
static int git2_init_rc;

static void git2_init_once(void)
{
	git2_init_rc = git_libgit2_init();
	/* fsync objects and refs: an acknowledged commit survives power loss. */
	if (git2_init_rc >= 0)
		git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
}

int vs__git2_init(void)
{
	pthread_once(&git2_once, git2_init_once);
	if (git2_init_rc < 0)
		return vs_error_set(VS_EBACKEND, "libgit2 failed to initialise");
	return 0;
}

/*
 * A generic failure's class says more. The object database raises its own
 * class for bytes it cannot decode ("failed to inflate loose object", bad
 * headers, sizes that do not match); with the default on-disk odb none of
 * its generic errors mean anything else.
 */
static int klass_code(int klass)
{
	switch (klass) {
	case GIT_ERROR_NOMEMORY:
		return VS_ENOMEM;
	case GIT_ERROR_ODB:
	case GIT_ERROR_ZLIB:
	case GIT_ERROR_OBJECT:
		return VS_ECORRUPT;
	default:
		return VS_EBACKEND;
	}
}

/*
 * libgit2 keeps its message in a per-thread buffer that git_error_clear()
 * truncates (not frees): format ours first, clear theirs after.
 */
int vs__git2_err(int rc, const char *what)
{
	const git_error *e = git_error_last();
	const char *msg = e && e->message ? e->message : "unknown libgit2 error";
	const char *hint = "";
	int code;

	switch (rc) {
	case GIT_ENOTFOUND:
		code = VS_ENOENT;
		break;
	case GIT_EEXISTS:
		code = VS_EEXIST;
		break;
	case GIT_EMODIFIED:
	case GIT_ENONFASTFORWARD:
	case GIT_ECONFLICT:
		code = VS_ECONFLICT;
		break;
	case GIT_ELOCKED:
		/* libgit2's message names the lock file; say what to do about it. */
		code = VS_EBUSY;
		hint = " (another git process holds it, or one crashed: if no git process "
		       "is running, remove the lock file; nothing committed is lost)";
		break;
	case GIT_EMISMATCH:
		code = VS_ECORRUPT; /* an object's content does not hash to its id */
		break;
	case GIT_EINVALIDSPEC:
	case GIT_EINVALID:
	case GIT_EAMBIGUOUS:
		code = VS_EINVAL;
		break;
	case GIT_EAUTH:
	case GIT_ECERTIFICATE:
		code = VS_EACCES;
		break;
	case GIT_EUSER:
		code = VS_ECONFLICT; /* only used by our own callbacks to stop a walk */
		break;
	default:
		code = klass_code(e ? e->klass : GIT_ERROR_NONE);
		break;
	}
	/* Some messages end in ": " where an empty OS error was appended. */
	size_t len = strlen(msg);
	while (len && (msg[len - 1] == ' ' || msg[len - 1] == ':'))
		len--;
	vs_error_set(code, "%s: %.*s%s", what, (int)len, msg, hint);
	git_error_clear();
	return code;
}
