/* SPDX-License-Identifier: MIT */
/*
 * vsc_transaction_run(): the retry loop every Xenstore tool writes by hand
 * (xenstore-utils, libxl): run the body in a transaction, commit, and on
 * EAGAIN run it all again, here with a bounded number of attempts and an
 * exponential backoff so that conflicting writers spread out.
 */
#include <errno.h>
#include <time.h>

#include "client_int.h"

#define DEFAULT_ATTEMPTS 16
#define DEFAULT_BACKOFF_MS 1
#define DEFAULT_MAX_WAIT_MS 100

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int vsc_transaction_run(struct vsc_client *c, vsc_txn_fn *fn, void *payload,
			const struct vsc_retry_opts *opts)
{
	unsigned int attempts = opts && opts->attempts ? opts->attempts : DEFAULT_ATTEMPTS;
	unsigned int wait = opts && opts->backoff_ms ? opts->backoff_ms : DEFAULT_BACKOFF_MS;
	unsigned int cap = opts && opts->max_wait_ms ? opts->max_wait_ms : DEFAULT_MAX_WAIT_MS;
	int err = VS_EAGAIN;

	if (!c || !fn)
		return vs_error_set(VS_EINVAL, "vsc_transaction_run: bad arguments");
	for (unsigned int i = 0; i < attempts; i++) {
		vsc_txn_t t;
		if (i) {
			sleep_ms(wait < cap ? wait : cap);
			wait = wait > cap / 2 ? cap : wait * 2;
		}
		if ((err = vsc_transaction_start(&t, c)) < 0)
			return err;
		if ((err = fn(c, t, payload)) < 0) {
			/* Keep the body's error (and message), whatever the abort says. */
			struct vs_buf msg = VS_BUF_INIT;
			int ret = vs_buf_puts(&msg, vs_error_last()->message);
			vsc_transaction_end(c, t, false);
			if (ret >= 0)
				vs_error_set(err, "%s", msg.ptr);
			vs_buf_release(&msg);
			if (err == VS_EAGAIN)
				continue; /* a read inside saw the transaction fail */
			return err;
		}
		if ((err = vsc_transaction_end(c, t, true)) != VS_EAGAIN)
			return err;
	}
	return vs_error_set(VS_EAGAIN, "transaction still conflicting after %u attempts", attempts);
}
