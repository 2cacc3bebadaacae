/* SPDX-License-Identifier: MIT */
/*
 * Shared test helpers: typed asserts that print the vstore error, temporary
 * directories, allocation-failure injection, and running shell commands.
 * Include after <cmocka.h>'s prerequisites; this header includes them.
 */
#ifndef VST_H
#define VST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vstore/vstore.h"

void vst__assert_ok(int rc, const char *expr, const char *file, int line);
void vst__assert_err(int want, int rc, const char *expr, const char *file, int line);

/* The call must succeed (rc >= 0); on failure print the code's name and message. */
#define assert_vs_ok(expr) vst__assert_ok((expr), #expr, __FILE__, __LINE__)
/* The call must fail with exactly @code. */
#define assert_vs_err(code, expr) vst__assert_err((code), (expr), #expr, __FILE__, __LINE__)

/* A fresh empty directory under $TMPDIR; caller frees the string. Removed by vst_rmrf(). */
char *vst_tmpdir(const char *tag);
/* rm -rf @path (test cleanup). */
void vst_rmrf(const char *path);
/* Run a shell command built printf-style; returns its exit status (or -1). */
int vst_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run a shell command and capture stdout into a malloc'd string (NULL on failure). */
char *vst_sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Make the @n-th allocation from now on (0-based) and all after it fail; -1 disables. */
void vst_alloc_fail_after(long n);
/* Allocations made through the hook since the last vst_alloc_fail_after(). */
long vst_alloc_count(void);
/* Install the counting allocator (call once, before creating objects). */
void vst_alloc_install(void);

/* A fixed signature for commits in tests: name, email, time, offset 0. */
struct vs_signature vst_sig(int64_t time);

/* Open a repo for backend @backend ("mem", "lmdb", "git") in @dir (ignored for mem). */
struct vs_repo *vst_repo_open(const char *backend, const char *dir);
/* The same in object format @format (NULL: the backend's default), which it asserts. */
struct vs_repo *vst_repo_open_format(const char *backend, const char *dir, const char *format);
/* Open store @uri in object format @format (NULL: the backend's default). */
struct vs_repo *vst_repo_open_uri(const char *uri, const char *format);
/* The tree of @branch's head, or a new empty tree when the branch does not
 * exist; the caller frees it. */
struct vs_tree *vst_branch_tree(struct vs_repo *repo, const char *branch);

#endif
