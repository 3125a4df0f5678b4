/* SPDX-License-Identifier: MIT */
/* Harness support for the fifo mechanism: capability names, fresh paths,
 * tracked handles, cleanup. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ipct.h"

/* The names of the capability bits of spec/fifo.h, in bit order. */
const char *const ipct__fifo_caps[] = {
	"blocking-open", "nonblock", "rdwr-open", "cross-process", "fd",
	"poll", "mode-bits", "persistence", "truncate", "multi-writer", NULL,
};

#define IPCT_FIFO_MAX 64

static pthread_mutex_t ipct__fifo_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ipc_pipe *ipct__fifo_ends[IPCT_FIFO_MAX];
static size_t ipct__fifo_nends;
static char ipct__fifo_paths[IPCT_FIFO_MAX][4096 + IPC_NAME_MAX];
static size_t ipct__fifo_npaths;
static const char *ipct__fifo_views[IPCT_FIFO_MAX]; /* names given to pipe->create */
static size_t ipct__fifo_nviews;
static pid_t ipct__fifo_owner; /* the test's process: a party elsewhere was forked */

const struct ipc_fifo_ops *ipct_fifo(void)
{
	if (ipct_subject()->mechanism != IPC_MECH_FIFO)
		cr_assert_fail("BROKEN: subject %s is not of this test's mechanism",
			       ipct_subject()->name);
	return ipct_subject()->ops;
}

const char *ipct_fifo_path(void)
{
	const char *dir = getenv("TMPDIR"), *name = ipct_name();
	if (ipct__fifo_npaths == IPCT_FIFO_MAX)
		cr_assert_fail("BROKEN: too many FIFO paths in one test");
	char *p = ipct__fifo_paths[ipct__fifo_npaths];
	int n = snprintf(p, sizeof ipct__fifo_paths[0], "%s%s", dir && *dir ? dir : "/tmp", name);
	if (n < 0 || (size_t)n >= sizeof ipct__fifo_paths[0])
		cr_assert_fail("BROKEN: $TMPDIR is too long for a FIFO path");
	ipct__fifo_owner = getpid();
	ipct__fifo_npaths++;
	return p;
}

/* The directory's file system cannot hold FIFOs: UNSUPPORTED, not FAILED. */
static void ipct__fifo_refused(int rc, const char *where, const char *call)
{
	char t[48];
	if (rc == IPC_EPERM || rc == IPC_EOPNOTSUPP)
		cr_skip("UNSUPPORTED: the file system of %s cannot hold a FIFO (%s: %s)",
			where, call, ipct_rc_text(rc, t, sizeof t));
}

const char *ipct_fifo_make(uint32_t mode)
{
	const char *path = ipct_fifo_path();
	int rc = ipct_fifo()->mkfifo(path, mode);
	ipct__fifo_refused(rc, path, "mkfifo");
	SAFE_RC(rc);
	return path;
}

static void ipct__fifo_track(struct ipc_pipe *h)
{
	pthread_mutex_lock(&ipct__fifo_lock);
	bool full = ipct__fifo_nends == IPCT_FIFO_MAX;
	if (!full)
		ipct__fifo_ends[ipct__fifo_nends++] = h;
	pthread_mutex_unlock(&ipct__fifo_lock);
	if (full)
		cr_assert_fail("BROKEN: too many FIFO handles in one test");
}

int ipct_fifo_open(const char *path, uint32_t flags, struct ipc_pipe **out)
{
	if (ipct__fifo_owner == 0)
		ipct__fifo_owner = getpid();
	int rc = ipct_fifo()->open(path, flags, out);
	if (rc == 0)
		ipct__fifo_track(*out);
	return rc;
}

struct ipc_pipe *ipct_fifo_open_ok(const char *path, uint32_t flags)
{
	struct ipc_pipe *h = NULL;
	SAFE_RC(ipct_fifo_open(path, flags, &h));
	return h;
}

void ipct_fifo_pair(const char *path, struct ipc_pipe **rd, struct ipc_pipe **wr)
{
	*rd = ipct_fifo_open_ok(path, IPC_FIFO_RDONLY | IPC_FIFO_NONBLOCK);
	*wr = ipct_fifo_open_ok(path, IPC_FIFO_WRONLY | IPC_FIFO_NONBLOCK);
}

const char *ipct_fifo_view(uint32_t flags, struct ipc_pipe **rd, struct ipc_pipe **wr)
{
	const char *name = ipct_name();
	struct ipc_pipe_attr attr = { .flags = flags, .capacity = 0 };
	if (ipct__fifo_nviews < IPCT_FIFO_MAX)
		ipct__fifo_views[ipct__fifo_nviews++] = name;
	ipct__fifo_owner = getpid();
	int rc = ipct_fifo()->pipe->create(name, &attr, rd, wr);
	ipct__fifo_refused(rc, name, "pipe view create");
	SAFE_RC(rc);
	ipct__fifo_track(*rd);
	ipct__fifo_track(*wr);
	return name;
}

int ipct_fifo_close(struct ipc_pipe *h)
{
	pthread_mutex_lock(&ipct__fifo_lock);
	for (size_t i = 0; i < ipct__fifo_nends; i++)
		if (ipct__fifo_ends[i] == h)
			ipct__fifo_ends[i] = NULL;
	pthread_mutex_unlock(&ipct__fifo_lock);
	return ipct_fifo()->pipe->close(h);
}

void ipct_fifo_keep(struct ipc_pipe *a, struct ipc_pipe *b)
{
	if (getpid() == ipct__fifo_owner)
		return; /* a thread party: the handles are the test's own */
	for (size_t i = 0; i < ipct__fifo_nends; i++)
		if (ipct__fifo_ends[i] != NULL && ipct__fifo_ends[i] != a && ipct__fifo_ends[i] != b) {
			ipct_fifo()->pipe->close(ipct__fifo_ends[i]);
			ipct__fifo_ends[i] = NULL;
		}
}

/* Stuck: a party may still be inside a call on a handle, so leave the
 * handles (the process ends soon) but still remove the names. */
void ipct__fifo_teardown(bool stuck)
{
	const struct ipc_fifo_ops *ops = ipct_fifo();
	for (size_t i = 0; i < ipct__fifo_nends && !stuck; i++)
		if (ipct__fifo_ends[i] != NULL)
			ops->pipe->close(ipct__fifo_ends[i]);
	for (size_t i = 0; i < ipct__fifo_npaths; i++)
		ops->unlink(ipct__fifo_paths[i]);
	for (size_t i = 0; i < ipct__fifo_nviews; i++)
		if (ops->pipe->unlink != NULL)
			ops->pipe->unlink(ipct__fifo_views[i]);
	ipct__fifo_nends = ipct__fifo_npaths = ipct__fifo_nviews = 0;
	ipct__fifo_owner = 0;
}

int ipct_fifo_read_byte_party(void *argp)
{
	struct ipc_pipe *rd = argp;
	unsigned char c;
	ipct_fifo_keep(rd, NULL);
	ipct_party_enter_call();
	ssize_t n = ipct_fifo()->pipe->read(rd, &c, 1);
	ipct_party_leave_call();
	return n == 1 && c < 255 ? c : 255;
}
