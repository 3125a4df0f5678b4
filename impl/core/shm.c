/* SPDX-License-Identifier: MIT */
/* Named shared-memory segments: create, open, map, grow, reclaim, unlink. */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "ipc_subject.h"

int ipc__shm_check_name(const char *name)
{
	size_t len;

	IPC_ENSURE(name != NULL && name[0] == '/', IPC_EINVAL);
	len = strnlen(name, IPC_NAME_MAX + 1);
	IPC_ENSURE(len <= IPC_NAME_MAX, IPC_ENAMETOOLONG);
	IPC_ENSURE(len >= 2, IPC_EINVAL);
	IPC_ENSURE(strchr(name + 1, '/') == NULL, IPC_EINVAL);
	return 0;
}

/* errno of a failed open/create as a code of spec/ipc_errors.h. */
static int open_error(int err)
{
	switch (err) {
	case EEXIST:
	case ENOENT:
	case ENAMETOOLONG:
		return -err;
	case ENOMEM:
	case ENOSPC:
	case EMFILE:
	case ENFILE:
	case EFBIG:
		return IPC_ENOMEM;
	default:
		/* ELOOP (a symlink, never followed), EACCES, ...: not ours to use. */
		return IPC_EINVAL;
	}
}

static int create_fd(const char *name, int *fd_out)
{
	int fd;

	fiu_return_on("ipc/shm/open", open_error((int)(long)fiu_failinfo()));
	/* O_EXCL fails on any existing entry, a dangling symlink included;
	 * O_NOFOLLOW is belt and braces. */
	fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return open_error(errno);
	*fd_out = fd;
	return 0;
}

/* Size and back a freshly created file: 0 or -ENOMEM. */
static int size_fd(int fd, size_t size, size_t backed)
{
	int rc;

	/* The umask may have cleared bits of 0600, never added any: the mode is
	 * exactly 0600 only after an explicit fchmod. */
	if (fchmod(fd, 0600) != 0)
		return IPC_ENOMEM;
	fiu_return_on("ipc/shm/truncate", IPC_ENOMEM);
	if (ftruncate(fd, (off_t)size) != 0)
		return IPC_ENOMEM;
	rc = backed ? ipc__shm_grow(fd, 0, backed) : 0;
	return rc;
}

int ipc__shm_create(const char *name, size_t size, size_t backed, int *fd_out)
{
	int fd = -1, rc;

	IPC_GUARD(ipc__shm_check_name(name));
	IPC_GUARD(create_fd(name, &fd));
	rc = size_fd(fd, size, backed);
	if (rc < 0) {
		shm_unlink(name);
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return 0;
}

int ipc__shm_open(const char *name, int *fd_out, size_t *size)
{
	struct stat st;
	int fd;

	IPC_GUARD(ipc__shm_check_name(name));
	fiu_return_on("ipc/shm/open", open_error((int)(long)fiu_failinfo()));
	fd = shm_open(name, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0)
		return open_error(errno);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0) {
		close(fd);
		return IPC_EUCLEAN;
	}
	*fd_out = fd;
	*size = (size_t)st.st_size;
	return 0;
}

int ipc__shm_unlink(const char *name)
{
	IPC_GUARD(ipc__shm_check_name(name));
	if (shm_unlink(name) != 0)
		return errno == ENOENT ? IPC_ENOENT : IPC_EINVAL;
	return 0;
}

int ipc__shm_grow(int fd, uint64_t off, uint64_t len)
{
	fiu_return_on("ipc/shm/grow", IPC_ENOMEM);
	/* Backing the range now turns "tmpfs is full" into -ENOMEM here rather
	 * than SIGBUS at the first store. */
	if (fallocate(fd, 0, (off_t)off, (off_t)len) != 0)
		return IPC_ENOMEM;
	return 0;
}

void ipc__shm_reclaim(int fd, uint64_t off, uint64_t len)
{
	fiu_return_on("ipc/shm/reclaim", );
	/* A failure keeps the memory allocated; correctness does not depend on
	 * the hole (a re-used chunk is simply overwritten). */
	(void)fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
}

/* ---- one mapping per file per process ------------------------------------ */

struct map_entry {
	struct map_entry *next;
	dev_t dev;
	ino_t ino;
	uint64_t off;
	void *base;
	size_t len;
	unsigned refs;
};

static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
static struct map_entry *map_list;
static pthread_once_t map_once = PTHREAD_ONCE_INIT;

/* Hold the lock across fork so a child never inherits it locked. */
static void map_prepare(void) { pthread_mutex_lock(&map_lock); }
static void map_after(void) { pthread_mutex_unlock(&map_lock); }
static void map_init(void) { pthread_atfork(map_prepare, map_after, map_after); }

static void *map_fresh(int fd, uint64_t off, size_t len, bool populate)
{
	int flags = MAP_SHARED | (populate ? MAP_POPULATE : MAP_NORESERVE);
	void *p;

	fiu_return_on("ipc/shm/map", NULL);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, (off_t)off);
	return p == MAP_FAILED ? NULL : p;
}

static struct map_entry *map_find(dev_t dev, ino_t ino, uint64_t off, size_t len)
{
	struct map_entry *e;

	for (e = map_list; e; e = e->next)
		if (e->dev == dev && e->ino == ino && e->off == off && e->len == len)
			return e;
	return NULL;
}

static int map_new(int fd, const struct stat *st, uint64_t off, size_t len, bool populate,
		   void **base)
{
	struct map_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return IPC_ENOMEM;
	e->base = map_fresh(fd, off, len, populate);
	if (!e->base) {
		free(e);
		return IPC_ENOMEM;
	}
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->off = off;
	e->len = len;
	e->refs = 1;
	e->next = map_list;
	map_list = e;
	*base = e->base;
	return 0;
}

int ipc__shm_map(int fd, size_t len, bool populate, void **base)
{
	return ipc__shm_map_at(fd, 0, len, populate, base);
}

int ipc__shm_map_at(int fd, uint64_t off, size_t len, bool populate, void **base)
{
	struct map_entry *e;
	struct stat st;
	int rc = 0;

	if (fstat(fd, &st) != 0)
		return IPC_EUCLEAN;
	pthread_once(&map_once, map_init);
	pthread_mutex_lock(&map_lock);
	e = map_find(st.st_dev, st.st_ino, off, len);
	if (e) {
		e->refs++;
		*base = e->base;
	} else {
		rc = map_new(fd, &st, off, len, populate, base);
	}
	pthread_mutex_unlock(&map_lock);
	return rc;
}

void ipc__shm_unmap(void *base, size_t len)
{
	struct map_entry **pp, *e = NULL;

	pthread_mutex_lock(&map_lock);
	for (pp = &map_list; *pp; pp = &(*pp)->next) {
		if ((*pp)->base == base && (*pp)->len == len) {
			e = *pp;
			break;
		}
	}
	if (e && --e->refs == 0)
		*pp = e->next;
	else
		e = NULL;
	pthread_mutex_unlock(&map_lock);
	if (e) {
		munmap(e->base, e->len);
		free(e);
	}
}
