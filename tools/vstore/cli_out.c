/* SPDX-License-Identifier: MIT */
/*
 * Output helpers: the pager (as git runs it: only on a terminal, stdout
 * piped into `sh -c "$PAGER"`), colour escapes, JSON strings and the
 * progress line for long operations.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void cli_pager_start(struct cli *cli)
{
	int fds[2];
	if (cli->no_pager || cli->pager_pid || !isatty(STDOUT_FILENO))
		return;
	const char *pager = getenv("VSTORE_PAGER");
	if (!pager)
		pager = getenv("PAGER");
	if (!pager)
		pager = "less";
	if (!*pager || !strcmp(pager, "cat"))
		return;
	fflush(stdout);
	if (pipe(fds) < 0)
		return;
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		dup2(fds[0], STDIN_FILENO);
		close(fds[0]);
		close(fds[1]);
		/* F: quit when it fits one screen; R: pass colours; X: leave it on screen. */
		setenv("LESS", "FRX", 0);
		setenv("LV", "-c", 0);
		execl("/bin/sh", "sh", "-c", pager, (char *)NULL);
		_exit(127);
	}
	dup2(fds[1], STDOUT_FILENO);
	close(fds[0]);
	close(fds[1]);
	cli->pager_pid = pid;
}

void cli_pager_stop(struct cli *cli)
{
	if (!cli->pager_pid)
		return;
	fflush(stdout);
	/* Closing our end of the pipe is the pager's end of input. */
	int null = open("/dev/null", O_WRONLY);
	if (null >= 0) {
		dup2(null, STDOUT_FILENO);
		close(null);
	} else {
		close(STDOUT_FILENO);
	}
	/* While the user reads, ^C belongs to the pager, not to us. */
	void (*old)(int) = signal(SIGINT, SIG_IGN);
	int status;
	while (waitpid(cli->pager_pid, &status, 0) < 0 && errno == EINTR)
		;
	signal(SIGINT, old);
	cli->pager_pid = 0;
}

const char *cli_color(const struct cli *cli, enum cli_color_slot slot)
{
	static const char *const esc[CLI_C_COUNT] = {
	    [CLI_C_RESET] = "\033[m",	[CLI_C_COMMIT] = "\033[33m",  [CLI_C_HEADER] = "\033[1m",
	    [CLI_C_ADDED] = "\033[32m", [CLI_C_REMOVED] = "\033[31m", [CLI_C_BRANCH] = "\033[1;32m",
	    [CLI_C_META] = "\033[36m",
	};
	if (!cli || !cli->color || slot < 0 || slot >= CLI_C_COUNT)
		return "";
	return esc[slot];
}

/* Length of the valid UTF-8 sequence at @p s (at most @p n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp, min;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void cli_json_string(FILE *f, const void *s, size_t len)
{
	const unsigned char *p = s;
	putc('"', f);
	for (size_t i = 0; i < len;) {
		unsigned char c = p[i];
		size_t n = utf8_len(p + i, len - i);
		if (n > 1) {
			fwrite(p + i, 1, n, f);
			i += n;
			continue;
		}
		i++;
		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			if (c < 0x20 || c >= 0x7f)
				fprintf(f, "\\u%04x", c);
			else
				putc(c, f);
		}
	}
	putc('"', f);
}

void cli_json_str(FILE *f, const char *s)
{
	if (!s)
		fputs("null", f);
	else
		cli_json_string(f, s, strlen(s));
}

int64_t cli_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cli_progress_init(struct cli_progress *p, const struct cli *cli)
{
	memset(p, 0, sizeof(*p));
	p->on = isatty(STDERR_FILENO) && !(cli && cli->json);
}

static void progress_draw(struct cli_progress *p)
{
	if (p->total)
		fprintf(stderr, "\r%s: %zu/%zu (%u%%)\033[K", p->stage, p->done, p->total,
			(unsigned int)(p->done >= p->total ? 100 : p->done * 100 / p->total));
	else
		fprintf(stderr, "\r%s: %zu\033[K", p->stage, p->done);
	fflush(stderr);
	p->dirty = true;
}

int cli_progress_cb(void *payload, const char *stage, size_t done, size_t total)
{
	struct cli_progress *p = payload;
	if (!p->on)
		return 0;
	if (!stage)
		stage = "";
	bool new_stage = strncmp(p->stage, stage, sizeof(p->stage) - 1) != 0;
	if (new_stage && p->dirty) {
		progress_draw(p); /* the old stage's final counts */
		fputc('\n', stderr);
		p->dirty = false;
	}
	if (new_stage)
		snprintf(p->stage, sizeof(p->stage), "%s", stage);
	p->done = done;
	p->total = total;
	int64_t now = cli_mono_ms();
	if (new_stage || now - p->last_ms >= 100 || (total && done == total)) {
		p->last_ms = now;
		progress_draw(p);
	}
	return 0;
}

void cli_progress_done(struct cli_progress *p)
{
	if (!p->on || !p->dirty)
		return;
	progress_draw(p);
	fputc('\n', stderr);
	p->dirty = false;
}
