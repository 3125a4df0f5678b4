/* SPDX-License-Identifier: MIT */
/*
 * Named regular files made whole before anyone can open them: the names of
 * ref-fifo and ref-msgpipe. An unnamed file in the directory (O_TMPFILE) is
 * formatted, then linked at the path; linkat refuses an existing path
 * (-EEXIST, whatever is there, untouched), so no open ever finds a half-made
 * file and a crash leaves nothing behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

static int file_errno(void)
{
	return errno > 0 ? -errno : IPC_EINVAL;
}

/* The directory part of path ("." for a bare name). */
static int file_dir(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash == NULL ? 0 : slash == path ? 1 : (size_t)(slash - path);

	if (slash == NULL) {
		dir[0] = '.';
		n = 1;
	} else {
		IPC_ENSURE(n < len, IPC_ENAMETOOLONG);
		memcpy(dir, path, n);
	}
	dir[n] = '\0';
	return 0;
}

/* 1 when the file system has no O_TMPFILE. */
static int file_make_unnamed(const char *path, uint32_t mode, ipc__format_fn format, void *arg)
{
	char dir[4096], self[64];
	int fd, rc;

	IPC_GUARD(file_dir(path, dir, sizeof(dir)));
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, (mode_t)(mode & 07777));
	if (fd < 0)
		return errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL ? 1 : file_errno();
	rc = format(fd, arg);
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	if (rc == 0 && linkat(AT_FDCWD, self, AT_FDCWD, path, AT_SYMLINK_FOLLOW) != 0)
		rc = file_errno();
	close(fd);
	return rc;
}

/* Without O_TMPFILE: O_EXCL (-EEXIST whatever is there, a symlink
 * included), then format; a half-made file is removed. */
static int file_make_named(const char *path, uint32_t mode, ipc__format_fn format, void *arg)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		      (mode_t)(mode & 07777)),
	    rc;

	if (fd < 0)
		return file_errno();
	rc = format(fd, arg);
	if (rc < 0)
		(void)unlink(path);
	close(fd);
	return rc;
}

int ipc__file_create(const char *path, uint32_t mode, ipc__format_fn format, void *arg)
{
	int rc;

	IPC_ENSURE(path != NULL && format != NULL, IPC_EINVAL);
	rc = file_make_unnamed(path, mode, format, arg);
	return rc == 1 ? file_make_named(path, mode, format, arg) : rc;
}

/* "/ipcspec-…" (one component) under $TMPDIR or /tmp, as the native
 * subjects place their FIFOs and sockets. */
int ipc__tmp_path(const char *name, char *path, size_t len)
{
	const char *dir = getenv("TMPDIR");
	int n;

	IPC_ENSURE(name != NULL && name[0] == '/' && name[1] != '\0' &&
		       strchr(name + 1, '/') == NULL,
		   IPC_EINVAL);
	n = snprintf(path, len, "%s%s", dir && *dir ? dir : "/tmp", name);
	IPC_ENSURE(n >= 0 && (size_t)n < len, IPC_ENAMETOOLONG);
	return 0;
}
