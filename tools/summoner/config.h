/* SPDX-License-Identifier: MIT */
/*
 * The summoner's configuration: which DNS names start which service, and
 * how (tools/summoner/README.md describes the file). Parsing checks
 * everything up front and names the line of the first problem.
 */
#ifndef SUMMONER_CONFIG_H
#define SUMMONER_CONFIG_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/** Longest DNS name, in text form without the final dot. */
#define SUMMONER_NAME_MAX 253

/** One `set PATH = VALUE` line: a key written under the domain's home. */
struct summoner_key {
	char *path;  /* relative to /local/domain/<domid> */
	char *value; /* may be empty */
};

/** One service: a [name] section. Every string is owned by the config. */
struct summoner_service {
	char *name;		   /* the DNS name, lower-case, no final dot */
	char *domain_name;	   /* written to <home>/name (default: the DNS name) */
	struct in_addr ip;	   /* the A record's address */
	uint32_t ttl;		   /* the A record's TTL, seconds */
	char *command;		   /* run by /bin/sh -c */
	char *wait_for_key;	   /* ready key relative to the home; NULL: ready at once */
	int timeout_ms;		   /* how long to wait for the ready key */
	struct summoner_key *keys; /* written before the command starts */
	size_t nkeys;
	unsigned int line; /* the line of its [name] header */
};

/** A parsed configuration. */
struct summoner_config {
	struct summoner_service *services;
	size_t count;
};

/** Default TTL and ready timeout when a section gives none. */
#define SUMMONER_DEFAULT_TTL 60u
#define SUMMONER_DEFAULT_TIMEOUT_MS 5000

/**
 * Parse configuration @p text; @p origin names it in messages
 * ("ORIGIN:LINE: ..."). @p out is replaced; release it with
 * summoner_config_release() even on failure.
 * @return 0, VS_EINVAL (the message names the line), VS_ENOMEM.
 */
int summoner_config_parse(struct summoner_config *out, const char *text, const char *origin);

/** Read and parse the file @p path. @return 0, VS_ENOENT/VS_EIO (unreadable), VS_EINVAL. */
int summoner_config_load(struct summoner_config *out, const char *path);

/** Free everything @p cfg holds and leave it empty. NULL-safe. */
void summoner_config_release(struct summoner_config *cfg);

/**
 * The service for DNS name @p name (any case, final dot optional), or
 * NULL. Borrowed from @p cfg.
 */
const struct summoner_service *summoner_config_find(const struct summoner_config *cfg,
						    const char *name);

#endif
