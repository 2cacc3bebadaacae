/* SPDX-License-Identifier: MIT */
#include "vst.h"

#include <unistd.h>

#include "vstore/sys/alloc.h"

void vst__assert_ok(int rc, const char *expr, const char *file, int line)
{
	if (rc >= 0)
		return;
	const struct vs_error *e = vs_error_last();
	print_error("%s:%d: %s failed: %s (%d): %s\n", file, line, expr, vs_err_name(rc), rc,
		    e->message);
	_fail(file, line);
}

void vst__assert_err(int want, int rc, const char *expr, const char *file, int line)
{
	if (rc == want)
		return;
	const struct vs_error *e = vs_error_last();
	print_error("%s:%d: %s returned %s (%d), expected %s; last error: %s\n", file, line,
		    expr, vs_err_name(rc), rc, vs_err_name(want), e->message);
	_fail(file, line);
}

char *vst_tmpdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char tmpl[4096];
	snprintf(tmpl, sizeof(tmpl), "%s/vst-%s-XXXXXX", base && *base ? base : "/tmp", tag);
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

void vst_rmrf(const char *path)
{
	if (path && *path && strcmp(path, "/"))
		vst_sh("rm -rf '%s'", path);
}

static int vsh(char *out, size_t n, const char *fmt, va_list ap)
{
	int len = vsnprintf(out, n, fmt, ap);
	return len < 0 || (size_t)len >= n ? -1 : 0;
}

int vst_sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	int rc = vsh(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (rc < 0)
		return -1;
	rc = system(cmd);
	if (rc == -1)
		return -1;
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

char *vst_sh_out(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	int rc = vsh(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (rc < 0)
		return NULL;
	FILE *p = popen(cmd, "r");
	if (!p)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	size_t got;
	while (buf && (got = fread(buf + len, 1, cap - len - 1, p)) > 0) {
		len += got;
		if (cap - len < 2) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				buf = NULL;
			}
			buf = nb;
		}
	}
	int status = pclose(p);
	if (!buf)
		return NULL;
	buf[len] = '\0';
	if (status != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static long fail_after = -1, count;

static void *counting_malloc(size_t n)
{
	if (fail_after >= 0 && count++ >= fail_after)
		return NULL;
	return malloc(n);
}

static void *counting_realloc(void *p, size_t n)
{
	if (fail_after >= 0 && count++ >= fail_after)
		return NULL;
	return realloc(p, n);
}

void vst_alloc_install(void)
{
	static const struct vs_allocator a = { counting_malloc, counting_realloc, free };
	vs_set_allocator(&a);
}

void vst_alloc_fail_after(long n)
{
	fail_after = n;
	count = 0;
}

long vst_alloc_count(void)
{
	return count;
}

struct vs_signature vst_sig(int64_t time)
{
	return (struct vs_signature){ "Test Author", "test@example.org", time, 0 };
}

struct vs_repo *vst_repo_open_uri(const char *uri, const char *format)
{
	struct vs_repo_opts o = { .version = VS_REPO_OPTS_VERSION, .format = format };
	struct vs_repo *repo = NULL;
	assert_vs_ok(vs_repo_open(&repo, uri, &o));
	if (format)
		assert_string_equal(vs_repo_format(repo), format);
	return repo;
}

struct vs_repo *vst_repo_open_format(const char *backend, const char *dir, const char *format)
{
	char uri[4200];
	if (!strcmp(backend, "mem"))
		snprintf(uri, sizeof(uri), "mem:");
	else
		snprintf(uri, sizeof(uri), "%s:%s/store", backend, dir);
	return vst_repo_open_uri(uri, format);
}

struct vs_repo *vst_repo_open(const char *backend, const char *dir)
{
	return vst_repo_open_format(backend, dir, NULL);
}

struct vs_tree *vst_branch_tree(struct vs_repo *repo, const char *branch)
{
	struct vs_tree *t = NULL;
	struct vs_commit *c;
	struct vs_oid head;

	if (vs_branch_head(&head, repo, branch) == 0) {
		assert_vs_ok(vs_commit_lookup(&c, repo, &head));
		assert_vs_ok(vs_commit_tree(&t, c));
		vs_commit_free(c);
	} else {
		assert_vs_ok(vs_tree_new(&t, repo));
	}
	return t;
}
