/* SPDX-License-Identifier: MIT */
/*
 * The transport registry: the built-in schemes (a static table) and those
 * registered at run time (libgit2's transports[] + git_transport_register).
 * The run-time list is process-global state, guarded by a mutex, because a
 * scheme registered once must open in every thread.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "client_int.h"

static const struct vsc_transport_ops *const builtin[] = {
    &vsc__unix_ops,
    &vsc__xenbus_ops,
    &vsc__inproc_ops,
};

#define MAX_REGISTERED 16
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct vsc_transport_ops *registered[MAX_REGISTERED];

static bool scheme_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '+' ||
		      *s == '-' || *s == '.'))
			return false;
	return true;
}

int vsc_transport_register(const struct vsc_transport_ops *ops)
{
	int err = 0;
	size_t free_slot = MAX_REGISTERED;

	if (!ops || ops->version < 1 || ops->version > VSC_TRANSPORT_OPS_VERSION || !scheme_ok(ops->scheme) ||
	    !ops->connect || !ops->send || !ops->recv || !ops->fd || !ops->free)
		return vs_error_set(VS_EINVAL, "transport ops: bad version, scheme or slots");
	pthread_mutex_lock(&reg_lock);
	for (size_t i = 0; i < MAX_REGISTERED; i++) {
		if (!registered[i]) {
			if (free_slot == MAX_REGISTERED)
				free_slot = i;
		} else if (!strcmp(registered[i]->scheme, ops->scheme)) {
			err = vs_error_set(VS_EEXIST, "transport %s is registered", ops->scheme);
			break;
		}
	}
	if (err >= 0 && free_slot == MAX_REGISTERED)
		err = vs_error_set(VS_ENOMEM, "too many registered transports");
	if (err >= 0)
		registered[free_slot] = ops;
	pthread_mutex_unlock(&reg_lock);
	return err;
}

int vsc_transport_unregister(const char *scheme)
{
	int err = VS_ENOENT;

	pthread_mutex_lock(&reg_lock);
	for (size_t i = 0; scheme && i < MAX_REGISTERED; i++)
		if (registered[i] && !strcmp(registered[i]->scheme, scheme)) {
			registered[i] = NULL;
			err = 0;
		}
	pthread_mutex_unlock(&reg_lock);
	return err < 0 ? vs_error_set(err, "transport %s is not registered", scheme ? scheme : "")
		       : 0;
}

const struct vsc_transport_ops *vsc_transport_find(const char *scheme)
{
	const struct vsc_transport_ops *found = NULL;

	if (!scheme)
		return NULL;
	pthread_mutex_lock(&reg_lock);
	for (size_t i = 0; i < MAX_REGISTERED && !found; i++)
		if (registered[i] && !strcmp(registered[i]->scheme, scheme))
			found = registered[i];
	pthread_mutex_unlock(&reg_lock);
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]) && !found; i++)
		if (!strcmp(builtin[i]->scheme, scheme))
			found = builtin[i];
	return found;
}
