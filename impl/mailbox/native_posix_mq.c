/* SPDX-License-Identifier: MIT */
/*
 * native-posix-mq: the mailbox mechanism (spec/mailbox.h) over the kernel's
 * POSIX message queues (mq_overview(7)). The mailbox name "/ipcspec-…" is
 * the queue's name as it is; create is mq_open(O_CREAT | O_EXCL) with
 * mq_maxmsg = capacity and mq_msgsize = max_msg, open is mq_open with the
 * access mode of the role, unlink is mq_unlink. Priorities are not used:
 * every message is sent with priority 0, so the queue is FIFO.
 *
 * What the kernel queue cannot do is left out of the capabilities:
 *  - zero and unbounded capacity: mq_maxmsg must be >= 1 (create answers
 *    -EOPNOTSUPP); bounded n is limited by /proc/sys/fs/mqueue/msg_max
 *    (default 10) for a process without CAP_SYS_RESOURCE: above it mq_open,
 *    and so create, fails with -EINVAL;
 *  - end of stream, direct naming, peer death: the kernel does not track
 *    senders and receivers, nor parties;
 *  - remove-wakes: mq_unlink removes the name only; calls blocked on the
 *    queue and handles still open go on with the unnamed queue;
 *  - mem-limit (an unbounded capacity only).
 * Roles: SEND, RECV and both open O_WRONLY, O_RDONLY and O_RDWR, so the
 * kernel itself refuses a wrong-role call with EBADF. SA_RESTART restarts
 * mq_timedsend / mq_timedreceive (signal(7)): restart is a capability.
 *
 * Timeouts: mq takes an absolute CLOCK_REALTIME deadline, ours is relative on
 * CLOCK_MONOTONIC. 0 becomes the Epoch (already expired: the call completes
 * if it can and otherwise fails at once, which is -EAGAIN); > 0 becomes
 * "realtime now + timeout". Clock caveat: a step of the wall clock during the
 * wait moves the kernel's deadline. A step forward ends the wait early: the
 * adapter then waits again for what is left on CLOCK_MONOTONIC, so a timed
 * call never returns -ETIMEDOUT before its timeout; a step backward makes it
 * wait longer, by as much as the step (there is no monotonic mq wait).
 *
 * Receive buffers: mq_receive refuses any buffer smaller than mq_msgsize with
 * EMSGSIZE, even for a short message. A caller's buffer at least that large
 * is handed to the kernel as it is; a smaller one is served from a bounce
 * buffer of mq_msgsize, copied out when the message fits. When it does not
 * fit, the message has already been taken and cannot be put back first (mq
 * has no peek and no push-front): recv answers -EMSGSIZE and the message is
 * lost. MAILBOX-SIZE-3 is an expected deviation for that reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipc_subject.h"
#include "mailbox.h"

#define PMQ_FLAGS        (IPC_MAILBOX_SEND | IPC_MAILBOX_RECV)
#define PMQ_INFINITE     ((int64_t)-1) /* the spec's IPC_TIMEOUT_INFINITE */
#define PMQ_STACK_BOUNCE 8192          /* msgsize_max's default: bounce on the stack up to it */

struct ipc_mailbox {
	mqd_t q;
	size_t msgsize; /* mq_msgsize: max_msg of create */
};

static int pmq__errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

/* The queue name is the mailbox name: '/' and no other '/' (mq_open(3)). */
static int pmq__name(const char *name)
{
	if (name == NULL || name[0] != '/' || name[1] == '\0' || strchr(name + 1, '/') != NULL)
		return -EINVAL;
	return strlen(name) > IPC_NAME_MAX ? -ENAMETOOLONG : 0;
}

static int pmq_create(const char *name, const struct ipc_mailbox_attr *attr)
{
	int rc = pmq__name(name);
	if (rc < 0)
		return rc;
	if (attr == NULL || attr->max_msg == 0 || attr->max_msg > LONG_MAX)
		return -EINVAL;
	/* A queue holds at least one message and at most msg_max. */
	if (attr->capacity == 0 || attr->capacity == IPC_MAILBOX_UNBOUNDED)
		return -EOPNOTSUPP;
	if (attr->capacity > LONG_MAX)
		return -EINVAL;
	struct mq_attr ma = {.mq_maxmsg = (long)attr->capacity, .mq_msgsize = (long)attr->max_msg};
	mqd_t q = mq_open(name, O_RDONLY | O_CREAT | O_EXCL, (mode_t)(attr->mode & 0777), &ma);
	if (q == (mqd_t)-1)
		return pmq__errno();
	mq_close(q);
	return 0;
}

static int pmq_open(const char *name, uint32_t flags, struct ipc_mailbox **out)
{
	int rc = pmq__name(name);
	if (rc < 0)
		return rc;
	if ((flags & PMQ_FLAGS) == 0 || (flags & ~(uint32_t)PMQ_FLAGS) != 0 || out == NULL)
		return -EINVAL;
	int acc = flags == PMQ_FLAGS ? O_RDWR : flags == IPC_MAILBOX_SEND ? O_WRONLY : O_RDONLY;
	struct ipc_mailbox *h = malloc(sizeof *h);
	if (h == NULL)
		return -ENOMEM;
	struct mq_attr ma;
	h->q = mq_open(name, acc);
	if (h->q == (mqd_t)-1 || mq_getattr(h->q, &ma) != 0) {
		rc = pmq__errno();
		if (h->q != (mqd_t)-1)
			mq_close(h->q);
		free(h);
		return rc;
	}
	h->msgsize = (size_t)ma.mq_msgsize;
	*out = h;
	return 0;
}

static int pmq_close(struct ipc_mailbox *h)
{
	int rc = mq_close(h->q) == 0 ? 0 : pmq__errno();
	free(h);
	return rc;
}

static int pmq_unlink(const char *name)
{
	int rc = pmq__name(name);
	if (rc < 0)
		return rc;
	return mq_unlink(name) == 0 ? 0 : pmq__errno();
}

static int64_t pmq__now(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The absolute CLOCK_REALTIME deadline for left_ns (> 0) from now. */
static struct timespec pmq__deadline(int64_t left_ns)
{
	int64_t at = pmq__now(CLOCK_REALTIME) + left_ns;
	return (struct timespec){.tv_sec = at / 1000000000, .tv_nsec = at % 1000000000};
}

/* One mq call, with the caller's timeout: 0 or a length, or a negative errno
 * (-EAGAIN for timeout 0, -ETIMEDOUT once timeout_ns has passed on
 * CLOCK_MONOTONIC). buf is a send's message when send is set. */
static ssize_t pmq__call(mqd_t q, int send, void *buf, size_t len, int64_t timeout_ns)
{
	int64_t end = timeout_ns > 0 ? pmq__now(CLOCK_MONOTONIC) + timeout_ns : 0;
	struct timespec ts = {0, 0}; /* the Epoch: already expired */
	for (;;) {
		if (timeout_ns > 0)
			ts = pmq__deadline(end - pmq__now(CLOCK_MONOTONIC));
		/* Infinite: mq_send / mq_receive (glibc declares the timed
		 * calls' timeout non-null). */
		ssize_t n = timeout_ns < 0
				? (send ? mq_send(q, buf, len, 0) : mq_receive(q, buf, len, NULL))
			    : send ? mq_timedsend(q, buf, len, 0, &ts)
				   : mq_timedreceive(q, buf, len, NULL, &ts);
		if (n >= 0)
			return n;
		if (errno != ETIMEDOUT)
			return pmq__errno();
		if (timeout_ns == 0)
			return -EAGAIN;
		/* The wall clock may have been stepped forward: wait again for
		 * what is left, so no -ETIMEDOUT comes before the timeout. */
		if (pmq__now(CLOCK_MONOTONIC) >= end)
			return -ETIMEDOUT;
	}
}

static int pmq_send(struct ipc_mailbox *h, const void *msg, size_t len, int64_t timeout_ns)
{
	if (timeout_ns < PMQ_INFINITE)
		return -EINVAL;
	if (msg == NULL && len > 0)
		return -EFAULT;
	return (int)pmq__call(h->q, 1, (void *)msg, len, timeout_ns);
}

/* A buffer smaller than mq_msgsize: receive into a bounce buffer, copy out
 * what fits (see the header comment for what does not). */
static ssize_t pmq__recv_bounce(struct ipc_mailbox *h, void *buf, size_t cap, int64_t timeout_ns)
{
	char stack[PMQ_STACK_BOUNCE];
	char *b = h->msgsize <= sizeof stack ? stack : malloc(h->msgsize);
	if (b == NULL)
		return -ENOMEM;
	ssize_t n = pmq__call(h->q, 0, b, h->msgsize, timeout_ns);
	if (n >= 0 && (size_t)n > cap)
		n = -EMSGSIZE; /* taken: mq cannot put it back first */
	else if (n > 0)
		memcpy(buf, b, (size_t)n);
	if (b != stack)
		free(b);
	return n;
}

static ssize_t pmq_recv(struct ipc_mailbox *h, void *buf, size_t cap, int64_t timeout_ns)
{
	if (timeout_ns < PMQ_INFINITE)
		return -EINVAL;
	if (buf == NULL && cap > 0)
		return -EFAULT;
	if (cap >= h->msgsize)
		return pmq__call(h->q, 0, buf, cap, timeout_ns);
	return pmq__recv_bounce(h, buf, cap, timeout_ns);
}

static const struct ipc_mailbox_ops pmq_ops = {
    .create = pmq_create,
    .open = pmq_open,
    .close = pmq_close,
    .unlink = pmq_unlink,
    .send = pmq_send,
    .recv = pmq_recv,
};

const struct ipc_subject ipc__subject_native_posix_mq = {
    .abi_version = IPC_SUBJECT_ABI_VERSION,
    .struct_size = sizeof(struct ipc_subject),
    .name = "native-posix-mq",
    .mechanism = IPC_MECH_MAILBOX,
    .caps = IPC_MAILBOX_CAP_BLOCKING | IPC_MAILBOX_CAP_NONBLOCK | IPC_MAILBOX_CAP_TIMED |
	    IPC_MAILBOX_CAP_BOUNDED | IPC_MAILBOX_CAP_CROSS_PROCESS | IPC_MAILBOX_CAP_PERSISTENCE |
	    IPC_MAILBOX_CAP_PERMISSIONS | IPC_MAILBOX_CAP_RESTART,
    .ops = &pmq_ops,
    .summary = "POSIX message queues: mq_open/mq_timedsend/mq_timedreceive/mq_unlink, "
	       "bounded by mq_maxmsg (msg_max), priority 0",
};
