/* SPDX-License-Identifier: MIT */
/*
 * libvstore: a versioned, branchable, content-addressed key-value store.
 * Include this header for the whole public API.
 */
#ifndef VSTORE_VSTORE_H
#define VSTORE_VSTORE_H

#include "branch.h"
#include "buf.h"
#include "commit.h"
#include "common.h"
#include "diff.h"
#include "errors.h"
#include "gc.h"
#include "history.h"
#include "merge.h"
#include "oid.h"
#include "repo.h"
#include "sync.h"
#include "tree.h"
#include "watch.h"

/** Library version string ("0.1.0"). */
VS_EXTERN const char *vs_version(void);

/** Free memory libvstore handed over (vs_buf_detach(), strings). NULL-safe. */
VS_EXTERN void vs_free(void *ptr);

#endif
