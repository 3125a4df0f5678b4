/* SPDX-License-Identifier: MIT */
/* Anonymous shared segments: a memfd, sized, partly backed, sealed. Nothing is
 * left in /dev/shm, whatever happens to the processes that share it. */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/core.h"

/* errno of memfd_create as a code of spec/ipc_errors.h: descriptor limits
 * pass through (a pipe's create reports them), the rest is "memory refused". */
static int memfd_error(int err)
{
	return err == EMFILE || err == ENFILE ? -err : IPC_ENOMEM;
}

/* Size, back, then seal: a peer can no longer shrink the file under our
 * mapping (a SIGBUS for us) nor grow it. Holes may still be punched. */
static int memfd_shape(int fd, size_t size, size_t backed)
{
	if (ftruncate(fd, (off_t)size) != 0)
		return IPC_ENOMEM;
	if (backed)
		IPC_GUARD(ipc__shm_grow(fd, 0, backed));
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
		return IPC_ENOMEM;
	return 0;
}

int ipc__memfd_create(const char *tag, size_t size, size_t backed, int *fd_out)
{
	int fd = memfd_create(tag, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int rc;

	if (fd < 0)
		return memfd_error(errno);
	rc = memfd_shape(fd, size, backed);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return 0;
}
