/* SPDX-License-Identifier: MIT */
/*
 * Quotas (C xenstored's names and defaults), GET_QUOTA / SET_QUOTA, and
 * write rate limiting as 4.17 does it: while some transaction is open, an
 * unprivileged domain's writes draw on a credit of WRL_BURST writes that
 * refills at WRL_RATE per second; a domain in debt is not read from until
 * it is even again (xsd_conn_throttle_ms), so transactions are not starved.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_int.h"

#define WRL_FACTOR 1000 /* credit in milli-writes */

static const char *const names[XSD_QUOTA_COUNT] = {
	[XSD_QUOTA_NODES] = "nodes",
	[XSD_QUOTA_WATCHES] = "watches",
	[XSD_QUOTA_TRANSACTIONS] = "transactions",
	[XSD_QUOTA_TRANSACTION_NODES] = "transaction-nodes",
	[XSD_QUOTA_NODE_PERMS] = "node-permissions",
	[XSD_QUOTA_PATH_MAX] = "path-max",
	[XSD_QUOTA_NODE_SIZE] = "node-size",
	[XSD_QUOTA_OUTSTANDING] = "outstanding",
	[XSD_QUOTA_MEMORY] = "memory",
};

void xsd_quota_defaults(struct xsd_quota *q)
{
	memset(q, 0, sizeof(*q));
	q->hard[XSD_QUOTA_NODES] = 1000;
	q->hard[XSD_QUOTA_WATCHES] = 128;
	q->hard[XSD_QUOTA_TRANSACTIONS] = 10;
	q->hard[XSD_QUOTA_TRANSACTION_NODES] = 1024;
	q->hard[XSD_QUOTA_NODE_PERMS] = 5;
	q->hard[XSD_QUOTA_PATH_MAX] = XSD_REL_PATH_MAX;
	q->hard[XSD_QUOTA_NODE_SIZE] = 2048;
	q->hard[XSD_QUOTA_OUTSTANDING] = 20;
	q->hard[XSD_QUOTA_MEMORY] = 2 * 1024 * 1024 + 512 * 1024;
	q->soft_memory = 2 * 1024 * 1024;
}

const char *xsd_quota_name(enum xsd_quota_kind k)
{
	return (unsigned int)k < XSD_QUOTA_COUNT ? names[k] : NULL;
}

int xsd_quota_from_name(const char *name)
{
	for (int k = 0; k < XSD_QUOTA_COUNT; k++)
		if (!strcmp(names[k], name))
			return k;
	return -1;
}

uint64_t xsd__quota(struct xsd_engine *e, unsigned int domid, enum xsd_quota_kind k)
{
	struct xsd_domain *d = domid < XSD_DOMID_COUNT ? e->dom[domid] : NULL;
	return d && d->quota_set[k] ? d->quota[k] : e->opts.quota.hard[k];
}

bool xsd__quota_applies(const struct xsd_conn *c)
{
	return !xsd__priv(c);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static unsigned int open_transactions(const struct xsd_engine *e)
{
	return e->ntxns; /* every connection's, kept by txn.c */
}

/* Bring @d's credit up to date. */
static void wrl_refill(struct xsd_engine *e, struct xsd_domain *d)
{
	uint64_t now = now_ms();
	int64_t cap = (int64_t)e->opts.wrl_burst * WRL_FACTOR;
	if (!d->wrl_stamp_ms) {
		d->wrl_credit = cap;
	} else if (now > d->wrl_stamp_ms) {
		d->wrl_credit += (int64_t)(now - d->wrl_stamp_ms) * e->opts.wrl_rate;
		if (d->wrl_credit > cap)
			d->wrl_credit = cap;
	}
	d->wrl_stamp_ms = now;
}

void xsd__wrl_debit(struct xsd_conn *c)
{
	struct xsd_engine *e = c->e;
	struct xsd_domain *d = e->dom[c->domid];
	/* Only while transactions could be starved: 4.17's wrl_apply_debit_direct. */
	if (!e->opts.wrl_rate || xsd__priv(c) || !d || !open_transactions(e))
		return;
	wrl_refill(e, d);
	d->wrl_credit -= WRL_FACTOR;
}

void xsd__wrl_debit_commit(struct xsd_conn *c, size_t nwrites)
{
	struct xsd_engine *e = c->e;
	struct xsd_domain *d = e->dom[c->domid];
	/* Its own transaction is still counted: others must be open too. */
	if (!e->opts.wrl_rate || xsd__priv(c) || !d || open_transactions(e) <= 1)
		return;
	wrl_refill(e, d);
	d->wrl_credit -= (int64_t)nwrites * WRL_FACTOR;
}

unsigned int xsd_conn_throttle_ms(struct xsd_conn *c)
{
	struct xsd_engine *e = c->e;
	struct xsd_domain *d = e->dom[c->domid];
	if (!e->opts.wrl_rate || xsd__priv(c) || !d || !d->wrl_stamp_ms)
		return 0;
	wrl_refill(e, d);
	if (d->wrl_credit >= 0)
		return 0;
	return (unsigned int)((-d->wrl_credit + e->opts.wrl_rate - 1) / e->opts.wrl_rate);
}

static int parse_u64(uint64_t *out, const char *s)
{
	char *end;
	*out = 0;
	if (!*s || *s == '-')
		return vs_error_set(VS_EINVAL, "bad number %s", s);
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || errno == ERANGE)
		return vs_error_set(VS_EINVAL, "bad number %s", s);
	*out = v;
	return 0;
}

static int quota_kind(const char *name)
{
	int k = xsd_quota_from_name(name);
	return k < 0 ? vs_error_set(VS_EINVAL, "unknown quota %s", name) : k;
}

static int parse_domid(unsigned int *out, const char *s)
{
	uint64_t v = 0;
	int err = parse_u64(&v, s);
	if (err < 0)
		return err;
	if (v >= XSD_DOMID_COUNT)
		return vs_error_set(VS_EINVAL, "bad domain id %s", s);
	*out = (unsigned int)v;
	return 0;
}

int xsd__op_quota(struct xsd_conn *c, const struct xsd_msg_hdr *hdr, const unsigned char *body)
{
	struct xsd_engine *e = c->e;
	const char *argv[4];
	size_t n = xsd_args_split(argv, 4, body, hdr->len, NULL, NULL);
	struct vs_buf out = VS_BUF_INIT;
	unsigned int domid = 0;
	uint64_t v = 0;
	int k, err = 0;

	if (!xsd__priv(c))
		return vs_error_set(VS_EACCES, "quotas are for the control domain");
	if ((err = xsd__mac_check(c, XSD_MAC_CONTROL, NULL, NULL, false)) < 0)
		return err;
	if (hdr->len && body[hdr->len - 1])
		return vs_error_set(VS_EINVAL, "arguments must be NUL-terminated");
	if (hdr->type == XSD_GET_QUOTA) {
		if (n == 0) {
			for (k = 0; k < XSD_QUOTA_COUNT && err >= 0; k++)
				err = vs_buf_printf(&out, "%s%s", k ? " " : "", names[k]);
			if (err >= 0)
				err = vs_buf_puts(&out, " soft-memory");
		} else if (n <= 2) {
			if (n == 2 && (err = parse_domid(&domid, argv[0])) < 0)
				return err;
			const char *name = argv[n - 1];
			if (n == 1 && !strcmp(name, "soft-memory"))
				v = e->opts.quota.soft_memory;
			else if ((k = quota_kind(name)) < 0)
				return k;
			else
				v = n == 2 ? xsd__quota(e, domid, (enum xsd_quota_kind)k)
					   : e->opts.quota.hard[k];
			err = vs_buf_printf(&out, "%llu", (unsigned long long)v);
		} else {
			return vs_error_set(VS_EINVAL, "GET_QUOTA takes [[domid] name]");
		}
		if (err >= 0)
			err = vs_buf_putc(&out, '\0');
		if (err >= 0)
			err = xsd__send(c, hdr->type, hdr->req_id, hdr->tx_id, out.ptr, out.size);
		vs_buf_release(&out);
		return err;
	}
	if (n != 2 && n != 3)
		return vs_error_set(VS_EINVAL, "SET_QUOTA takes [domid] name value");
	if (n == 3 && (err = parse_domid(&domid, argv[0])) < 0)
		return err;
	if ((err = parse_u64(&v, argv[n - 1])) < 0)
		return err;
	if (n == 2 && !strcmp(argv[0], "soft-memory")) {
		e->opts.quota.soft_memory = v;
	} else {
		if ((k = quota_kind(argv[n - 2])) < 0)
			return k;
		if (n == 2) {
			e->opts.quota.hard[k] = v;
		} else {
			struct xsd_domain *d = xsd__domain(e, domid);
			if (!d)
				return VS_ENOMEM;
			d->quota[k] = v;
			d->quota_set[k] = true;
		}
	}
	return xsd__send(c, hdr->type, hdr->req_id, hdr->tx_id, "OK", 3);
}
