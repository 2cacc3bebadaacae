/* SPDX-License-Identifier: MIT */
/*
 * The retention boundary of a git backend: git's own .git/shallow (PATH/shallow
 * in a bare repository), one hex id per line, so git log stops where vstore's
 * walks do. It is replaced atomically and durably (a temporary file, fsync,
 * rename, fsync of the directory): garbage collection deletes objects only
 * once the boundary that hides their absence is on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "backend_git_int.h"

/* Read .git/shallow (PATH/shallow when bare), git's list of boundary commits. */
int vs__git_shallow_read(git_repository *repo, struct vs_buf *out)
{
	char path[4200], chunk[4096];
	ssize_t got;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%sshallow", git_repository_path(repo));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? vs_error_set(VS_ENOENT, "setting 'shallow' not set")
				       : vs_error_set(VS_EIO, "cannot open %s: %s", path,
						      strerror(errno));
	vs_buf_clear(out);
	while (!err && (got = read(fd, chunk, sizeof(chunk))) != 0) {
		if (got < 0 && errno != EINTR)
			err = vs_error_set(VS_EIO, "cannot read %s: %s", path, strerror(errno));
		else if (got > 0)
			err = vs_buf_put(out, chunk, (size_t)got);
	}
	close(fd);
	return err < 0 ? err : vs_buf_puts(out, "");
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd)) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return vs_error_set(VS_EIO, "cannot sync %s: %s", dir, strerror(e));
	}
	close(fd);
	return 0;
}

/* Replace .git/shallow atomically and durably (empty: remove it). */
int vs__git_shallow_write(git_repository *repo, const char *value)
{
	const char *dir = git_repository_path(repo);
	char path[4200], tmp[4200];
	size_t len = strlen(value), done = 0;
	int fd;

	snprintf(path, sizeof(path), "%sshallow", dir);
	if (!len) {
		if (unlink(path) && errno != ENOENT)
			return vs_error_set(VS_EIO, "cannot remove %s: %s", path, strerror(errno));
		return sync_dir(dir);
	}
	/* A name of our own: git locks with shallow.lock and would see ours as held. */
	snprintf(tmp, sizeof(tmp), "%sshallow.vstore-tmp", dir);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return vs_error_set(VS_EIO, "cannot create %s: %s", tmp, strerror(errno));
	while (done < len) {
		ssize_t n = write(fd, value + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (done < len || fsync(fd)) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return vs_error_set(VS_EIO, "cannot write %s: %s", tmp, strerror(e));
	}
	close(fd);
	if (rename(tmp, path))
		return vs_error_set(VS_EIO, "cannot rename %s: %s", tmp, strerror(errno));
	return sync_dir(dir);
}
