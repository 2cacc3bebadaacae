/* SPDX-License-Identifier: MIT */
/*
 * `vstore conduit`: the MirageOS-style rendezvous registry in Xenstore
 * (client/include/vsclient/conduit.h), through the daemon.
 *   init   create /conduit (any old registry removed) with perms "b0", as
 *          Mirage's xenstore-conduit-init does; needs the control domain
 *   list   the registered names, their domains and pending requests
 */
#include "cli_manage.h"

#include <stdlib.h>
#include <string.h>
#include <vsclient/conduit.h>

static int conduit_init(struct cli *cli, struct vsc_client *c)
{
	int err = vsc_conduit_init(c);
	if (err == VS_EACCES)
		return cli_error(cli, "permission denied: conduit init needs the control domain");
	if (err < 0)
		return cli_error_vs(cli, err, "conduit init failed");
	if (cli->json)
		puts("{\"conduit\":\"/conduit\",\"perms\":[\"b0\"]}");
	else
		puts("created /conduit (perms b0)");
	return 0;
}

/* One registered name: its domain, then each "connector/port" request. */
static int list_one(struct cli *cli, struct vsc_client *c, const char *name)
{
	char path[XSD_PATH_BUF];
	struct vs_buf dom = VS_BUF_INIT;
	struct vs_strarray reqs = {0};
	int err;

	snprintf(path, sizeof(path), "/conduit/%s", name);
	if ((err = vsc_read(&dom, c, VSC_TXN_NONE, path)) < 0 ||
	    (err = vsc_directory(&reqs, c, VSC_TXN_NONE, path)) < 0) {
		vs_buf_release(&dom);
		return err == VS_ENOENT ? 0 : err; /* unregistered meanwhile */
	}
	if (cli->json) {
		fputs("{\"name\":", stdout);
		cli_json_str(stdout, name);
		fputs(",\"domid\":", stdout);
		cli_json_string(stdout, dom.ptr ? dom.ptr : "", dom.size);
		fputs(",\"requests\":[", stdout);
	} else {
		printf("%s domain %s", name, dom.ptr ? dom.ptr : "?");
	}
	bool first = true;
	for (size_t i = 0; i < reqs.count && err >= 0; i++) {
		struct vs_strarray ports = {0};
		struct vs_buf rp = VS_BUF_INIT;
		if ((err = vs_buf_printf(&rp, "%s/%s", path, reqs.strings[i])) >= 0 &&
		    (err = vsc_directory(&ports, c, VSC_TXN_NONE, rp.ptr)) == VS_ENOENT)
			err = 0;
		for (size_t k = 0; k < ports.count; k++) {
			if (cli->json) {
				fputs(first ? "\"" : ",\"", stdout);
				first = false;
				printf("%s/%s\"", reqs.strings[i], ports.strings[k]);
			} else {
				printf(" %s/%s", reqs.strings[i], ports.strings[k]);
			}
		}
		vs_strarray_dispose(&ports);
		vs_buf_release(&rp);
	}
	fputs(cli->json ? "]}\n" : "\n", stdout);
	vs_strarray_dispose(&reqs);
	vs_buf_release(&dom);
	return err;
}

static int conduit_list(struct cli *cli, struct vsc_client *c)
{
	struct vs_strarray names = {0};
	int err = vsc_directory(&names, c, VSC_TXN_NONE, "/conduit");
	if (err == VS_ENOENT)
		return cli_error(cli, "no /conduit: run 'vstore conduit init'");
	if (err < 0)
		return cli_error_vs(cli, err, "cannot list /conduit");
	for (size_t i = 0; i < names.count && err >= 0; i++)
		err = list_one(cli, c, names.strings[i]);
	vs_strarray_dispose(&names);
	return err < 0 ? cli_error_vs(cli, err, "cannot read /conduit") : 0;
}

int cmd_conduit(struct cli *cli, int argc, char **argv)
{
	const char *sock = NULL, *uri = NULL;
	struct vsc_client *c;
	int i, rc;
	const struct cli_opt opts[] = {
	    {"socket", 0, .value = &sock},
	    {"daemon", 0, .value = &uri},
	    {"json", 0, .flag = &cli->json},
	    {NULL},
	};

	if ((rc = cli_parse_opts(&i, cli, argc, argv, opts)) != 0)
		return rc;
	if (argc - i != 1)
		return cli_usage_error(cli, "conduit takes one subcommand: init or list");
	const char *sub = argv[i];
	if (strcmp(sub, "init") && strcmp(sub, "list"))
		return cli_usage_error(cli, "unknown subcommand '%s' (init, list)", sub);
	if ((rc = cli_daemon_open(&c, cli, uri, sock)) != 0)
		return rc;
	rc = !strcmp(sub, "init") ? conduit_init(cli, c) : conduit_list(cli, c);
	vsc_client_close(c);
	return rc;
}
