/* SPDX-License-Identifier: MIT */
/*
 * native-sysv-msg: the mailbox mechanism (spec/mailbox.h) over System V
 * message queues (msgget(2), msgop(2), msgctl(2)). An indirect message is one
 * msgsnd of its bytes with mtype 1 to the mailbox's queue; msgrcv takes
 * mtype 1, oldest first.
 *
 * Naming. A SysV queue has a numeric key, not a name. The mailbox name
 * "/ipcspec-…" becomes an anchor file ${TMPDIR:-/tmp}/ipcspec-… that create
 * makes exclusively (so -EEXIST, and the name's existence, come from the
 * file system, atomically), and the key is ftok(anchor, proj). ftok keeps
 * only 16 bits of the inode and 8 of the device, so two anchors can share a
 * key: a queue is made with IPC_CREAT | IPC_EXCL and, on EEXIST, with the
 * next proj (1..255). The anchor records its proj (and max_msg, which SysV
 * does not keep) in one text line "ipcspec-sysv-msg PROJ MAX_MSG", written
 * before msgget, so every queue has an anchor that finds it: after a killed
 * run, the cleanup (Makefile clean-ipc, ci/conformance.sh) reads the anchors
 * still there, computes their keys and removes the queues. A hash of the
 * name would be deterministic too, but a collision could neither be detected
 * nor resolved, and open would reach another mailbox's queue. unlink is
 * IPC_RMID of every queue of the mailbox, then removal of the anchors.
 *
 * Direct naming: type-based selection over one inbox queue per party. open
 * makes the party's inbox, anchored like a mailbox by the file
 * "<anchor>.p<id>" ("ipcspec-sysv-party PROJ MAX_MSG"), where the id is
 * pid << 24 plus a counter, taken with O_EXCL. send_to(P) finds P's inbox by
 * that file (none: -ESRCH) and sends with mtype = the sender's id; recv_any
 * is msgrcv of any type (arrival order, the sender is the mtype) and
 * recv_from(Q) msgrcv of type Q exactly, which takes Q's oldest and leaves
 * the others queued in their order. One queue for the whole mailbox cannot
 * do both: mtype = receiver gives recv_any but recv_from would have to skip
 * other senders' messages; mtype = (receiver, sender) gives recv_from, but
 * msgrcv cannot wait for "any type of mine" in arrival order. close removes
 * the party's file, then its inbox; a killed party's stay (no peer death).
 *
 * Permissions: the queues get the mode under the umask (read back from the
 * anchor, which open(2) created with it); open asks msgget for read access
 * (RECV) and / or write access (SEND), so the kernel refuses a process the
 * mode does not allow with EACCES. Anchors are readable by everyone: they
 * hold only a key's proj and max_msg.
 *
 * Capabilities, and what the kernel cannot do:
 *  - nonblock is IPC_NOWAIT; an empty receive then fails with ENOMSG, which
 *    is -EAGAIN here (the spec's "would block").
 *  - bounded: SysV counts bytes, not messages: a queue accepts a message when
 *    its bytes still fit msg_qbytes and the number of messages stays
 *    <= msg_qbytes. create sets msg_qbytes = capacity * max_msg (IPC_SET;
 *    above /proc/sys/kernel/msgmnb it needs CAP_SYS_RESOURCE, else create is
 *    -EINVAL), so n messages of max_msg bytes fit exactly, but more shorter
 *    ones do: see conformance/expect/native-sysv-msg. Every inbox gets the
 *    same msg_qbytes.
 *  - remove-wakes: IPC_RMID ends blocked msgsnd / msgrcv with EIDRM; later
 *    calls on the removed id fail with EINVAL, reported as -EIDRM.
 *  - timed: SysV has no timed calls. A call with a timeout > 0 completes if it
 *    can at once and otherwise answers -EOPNOTSUPP (no emulation by polling).
 *  - restart: msgsnd / msgrcv always fail with EINTR after a handler, whatever
 *    SA_RESTART says (signal(7)).
 *  - zero, unbounded (create: -EOPNOTSUPP), end of stream, peer death: the
 *    kernel tracks no senders or receivers; mem-limit: unbounded only.
 * Roles are the adapter's own (a queue has none): -EBADF for the wrong one.
 * Message size: msgrcv refuses a buffer smaller than the message with E2BIG
 * and leaves it queued, first: that is -EMSGSIZE with nothing taken.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc_subject.h"
#include "mailbox.h"

#define SMQ_FLAGS     (IPC_MAILBOX_SEND | IPC_MAILBOX_RECV)
#define SMQ_INFINITE  ((int64_t)-1)        /* the spec's IPC_TIMEOUT_INFINITE */
#define SMQ_MTYPE     1L                   /* every indirect message */
#define SMQ_TAG       "ipcspec-sysv-msg"   /* a mailbox's anchor */
#define SMQ_PTAG      "ipcspec-sysv-party" /* a party's inbox anchor */
#define SMQ_PROJ_LAST 255
#define SMQ_STACK     8192 /* msgmax's default: bounce on the stack up to it */
#define SMQ_PATH      4096
#define SMQ_ID_TRIES  4096

struct ipc_mailbox {
	int id;    /* msqid of the mailbox */
	int inbox; /* msqid of this party's inbox */
	uint32_t flags;
	size_t max_msg;
	ipc_mailbox_id self;
	char anchor[SMQ_PATH];
};

static _Atomic uint32_t smq__parties; /* this process's party counter */

static int smq__errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

/* The anchor file of a name: ${TMPDIR:-/tmp}/ipcspec-… */
static int smq__path(const char *name, char *path, size_t size)
{
	const char *dir = getenv("TMPDIR");
	if (name == NULL || name[0] != '/' || name[1] == '\0' || strchr(name + 1, '/') != NULL)
		return -EINVAL;
	if (strlen(name) > IPC_NAME_MAX)
		return -ENAMETOOLONG;
	int n = snprintf(path, size, "%s%s", dir && *dir ? dir : "/tmp", name);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* The anchor of party id's inbox. */
static int smq__party_path(const char *anchor, ipc_mailbox_id id, char *path, size_t size)
{
	int n = snprintf(path, size, "%s.p%llu", anchor, (unsigned long long)id);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Read an anchor of kind tag: its proj and max_msg. -ENOENT, -EACCES, or
 * -EUCLEAN for a file that is not such an anchor. */
static int smq__read_anchor(const char *path, const char *tag, int *proj, size_t *max_msg)
{
	char line[80], kind[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return errno == ELOOP ? -ENOENT : smq__errno();
	ssize_t n = read(fd, line, sizeof line - 1);
	close(fd);
	if (n < 0)
		return -EUCLEAN;
	line[n] = '\0';
	if (sscanf(line, "%31s %d %zu", kind, proj, max_msg) != 3 || strcmp(kind, tag) != 0 ||
	    *proj < 1 || *proj > SMQ_PROJ_LAST || *max_msg == 0)
		return -EUCLEAN;
	return 0;
}

static int smq__write_anchor(int fd, const char *tag, int proj, size_t max_msg)
{
	char line[80];
	int n = snprintf(line, sizeof line, "%s %d %zu\n", tag, proj, max_msg);
	if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n)
		return smq__errno();
	return 0;
}

/* The queue an anchor names, asked with access want (msgget checks it):
 * its msqid, or -ENOENT, -EACCES, -EUCLEAN. */
static int smq__anchor_queue(const char *path, const char *tag, int want, size_t *max_msg)
{
	int proj;
	int rc = smq__read_anchor(path, tag, &proj, max_msg);
	if (rc < 0)
		return rc;
	key_t key = ftok(path, proj);
	if (key == (key_t)-1)
		return smq__errno();
	int id = msgget(key, want);
	return id < 0 ? smq__errno() : id;
}

/* Remove an anchor's queue, then the anchor (last, so a kill in between
 * leaves an anchor that still finds the queue). */
static int smq__remove(const char *path, const char *tag)
{
	size_t max_msg;
	int id = smq__anchor_queue(path, tag, 0, &max_msg);
	if (id >= 0 && msgctl(id, IPC_RMID, NULL) != 0)
		return smq__errno(); /* e.g. EPERM: not the owner; the name stays */
	/* No queue (a run killed inside unlink): the anchor alone is the name. */
	if (id < 0 && id != -ENOENT)
		return id;
	return unlink(path) == 0 ? 0 : smq__errno();
}

/* /proc/sys/kernel/msgmax: the largest message msgsnd takes (0 if unknown). */
static size_t smq__msgmax(void)
{
	unsigned long v = 0;
	FILE *f = fopen("/proc/sys/kernel/msgmax", "re");
	if (f != NULL) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

static int smq__check_attr(const struct ipc_mailbox_attr *attr)
{
	if (attr == NULL || attr->max_msg == 0)
		return -EINVAL;
	if (attr->capacity == 0 || attr->capacity == IPC_MAILBOX_UNBOUNDED)
		return -EOPNOTSUPP; /* no rendezvous; msg_qbytes always bounds */
	size_t msgmax = smq__msgmax();
	if ((msgmax && attr->max_msg > msgmax) || attr->capacity > ULONG_MAX / attr->max_msg)
		return -EINVAL;
	return 0;
}

/* Make the queue of a new anchor: proj 1, 2, … until ftok's key is free.
 * The anchor names the proj before msgget, so a kill leaves nothing unnamed. */
static int smq__make_queue(int fd, const char *path, const char *tag, size_t max_msg, mode_t mode)
{
	for (int proj = 1; proj <= SMQ_PROJ_LAST; proj++) {
		int rc = smq__write_anchor(fd, tag, proj, max_msg);
		key_t key = ftok(path, proj);
		if (rc < 0 || key == (key_t)-1)
			return rc < 0 ? rc : smq__errno();
		int id = msgget(key, IPC_CREAT | IPC_EXCL | (int)mode);
		if (id >= 0 || errno != EEXIST)
			return id >= 0 ? id : smq__errno();
	}
	return -EADDRINUSE; /* 255 keys taken by other anchors: never seen */
}

/* msg_qbytes of a new queue: the capacity in bytes. */
static int smq__set_qbytes(int id, unsigned long qbytes)
{
	struct msqid_ds ds;
	if (msgctl(id, IPC_STAT, &ds) != 0)
		return smq__errno();
	ds.msg_qbytes = (msglen_t)qbytes;
	if (msgctl(id, IPC_SET, &ds) == 0)
		return 0;
	return errno == EPERM ? -EINVAL : smq__errno(); /* above msgmnb, unprivileged */
}

/* A new anchor at path with its queue (mode, qbytes): the msqid. fd is the
 * anchor, just made with O_EXCL; on failure both are removed. */
static int smq__make(int fd, const char *path, const char *tag, size_t max_msg, mode_t mode,
		     unsigned long qbytes)
{
	int id = smq__make_queue(fd, path, tag, max_msg, mode);
	int rc = id < 0 ? id : smq__set_qbytes(id, qbytes);
	if (rc < 0) {
		if (id >= 0)
			msgctl(id, IPC_RMID, NULL);
		unlink(path);
	}
	close(fd);
	return rc < 0 ? rc : id;
}

static int smq_create(const char *name, const struct ipc_mailbox_attr *attr)
{
	char path[SMQ_PATH];
	struct stat st;
	int rc = smq__path(name, path, sizeof path);
	if (rc == 0)
		rc = smq__check_attr(attr);
	if (rc < 0)
		return rc;
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		      (mode_t)(attr->mode & 0777));
	if (fd < 0)
		return smq__errno();
	/* The mode under the umask, as open(2) applied it. */
	if (fstat(fd, &st) != 0 || fchmod(fd, (st.st_mode & 0777) | 0444) != 0) {
		rc = smq__errno();
		unlink(path);
		close(fd);
		return rc;
	}
	rc = smq__make(fd, path, SMQ_TAG, attr->max_msg, st.st_mode & 0777,
		       attr->capacity * attr->max_msg);
	return rc < 0 ? rc : 0;
}

/* Make h's inbox, with the mailbox's mode and msg_qbytes, under a fresh id. */
static int smq__party_create(struct ipc_mailbox *h)
{
	char path[SMQ_PATH];
	struct msqid_ds ds;
	if (msgctl(h->id, IPC_STAT, &ds) != 0) /* removed since msgget: gone */
		return errno == EINVAL || errno == EIDRM ? -ENOENT : smq__errno();
	for (int i = 0; i < SMQ_ID_TRIES; i++) {
		uint32_t n = atomic_fetch_add(&smq__parties, 1) + 1;
		ipc_mailbox_id self = ((ipc_mailbox_id)getpid() << 24) + (n & 0xffffff);
		int rc = smq__party_path(h->anchor, self, path, sizeof path);
		if (rc < 0)
			return rc;
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0 && errno == EEXIST)
			continue; /* a killed party's id, or another mailbox's name */
		if (fd < 0)
			return smq__errno();
		int id = smq__make(fd, path, SMQ_PTAG, h->max_msg, ds.msg_perm.mode & 0777,
				   ds.msg_qbytes);
		if (id < 0)
			return id;
		h->inbox = id;
		h->self = self;
		return 0;
	}
	return -EADDRINUSE;
}

static int smq_open(const char *name, uint32_t flags, struct ipc_mailbox **out)
{
	if ((flags & SMQ_FLAGS) == 0 || (flags & ~(uint32_t)SMQ_FLAGS) != 0 || out == NULL)
		return -EINVAL;
	struct ipc_mailbox *h = malloc(sizeof *h);
	if (h == NULL)
		return -ENOMEM;
	/* Ask for the access of the role: the kernel checks it against the mode. */
	int want = (flags & IPC_MAILBOX_RECV ? 0400 : 0) | (flags & IPC_MAILBOX_SEND ? 0200 : 0);
	int rc = smq__path(name, h->anchor, sizeof h->anchor);
	if (rc == 0)
		rc = h->id = smq__anchor_queue(h->anchor, SMQ_TAG, want, &h->max_msg);
	if (rc >= 0)
		rc = smq__party_create(h);
	if (rc < 0) {
		free(h);
		return rc == -EUCLEAN ? -ENOENT : rc; /* a file, but no mailbox */
	}
	h->flags = flags;
	*out = h;
	return 0;
}

static int smq_close(struct ipc_mailbox *h)
{
	char path[SMQ_PATH];
	/* The party leaves: its inbox and its file (send_to then says -ESRCH).
	 * After unlink both are gone already. */
	int rc = smq__party_path(h->anchor, h->self, path, sizeof path);
	if (rc == 0)
		rc = smq__remove(path, SMQ_PTAG);
	free(h);
	return rc == -ENOENT ? 0 : rc;
}

/* An anchor is tagged before its queue is made: an empty one is a party or
 * mailbox killed in between, with no queue. Removed; anything else stays. */
static void smq__remove_empty(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
		unlink(path);
}

/* Remove the inboxes of the parties of the mailbox anchored at path. */
static void smq__remove_parties(const char *path)
{
	char party[SMQ_PATH];
	const char *base = strrchr(path, '/') + 1;
	size_t dirlen = (size_t)(base - path), blen = strlen(base);
	snprintf(party, sizeof party, "%.*s", (int)dirlen, path);
	DIR *d = opendir(party);
	for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
		const char *tail = e->d_name + blen;
		if (strncmp(e->d_name, base, blen) != 0 || strncmp(tail, ".p", 2) != 0)
			continue;
		if (snprintf(party, sizeof party, "%s%s", path, tail) < (int)sizeof party &&
		    smq__remove(party, SMQ_PTAG) == -EUCLEAN)
			smq__remove_empty(party); /* else not a party's anchor: left alone */
	}
	if (d != NULL)
		closedir(d);
}

static int smq_unlink(const char *name)
{
	char path[SMQ_PATH];
	size_t max_msg;
	int rc = smq__path(name, path, sizeof path);
	if (rc < 0)
		return rc;
	/* The mailbox's queue first: its waiters wake, opens fail from now on,
	 * and the anchor still blocks a new create while the inboxes go. */
	int id = smq__anchor_queue(path, SMQ_TAG, 0, &max_msg);
	if (id == -EUCLEAN) {
		smq__remove_empty(path); /* a create killed before its tag */
		return -ENOENT;          /* else another subject's file: no mailbox */
	}
	if (id < 0 && id != -ENOENT)
		return id;
	if (id == -ENOENT && access(path, F_OK) != 0)
		return -ENOENT;
	if (id >= 0 && msgctl(id, IPC_RMID, NULL) != 0)
		return smq__errno(); /* e.g. EPERM: not the owner; the name stays */
	smq__remove_parties(path);
	return unlink(path) == 0 ? 0 : smq__errno();
}

/* The errno of a failed msgsnd / msgrcv on queue id, as the spec says it. */
static int smq__call_error(int id)
{
	int e = errno;
	struct msqid_ds ds;
	if (e == ENOMSG)
		return -EAGAIN; /* IPC_NOWAIT on an empty queue */
	if (e == E2BIG)
		return -EMSGSIZE; /* the message stays queued, first */
	/* EINVAL is also what a removed msqid gives: ask the kernel which. */
	if (e == EINVAL && msgctl(id, IPC_STAT, &ds) != 0 && (errno == EINVAL || errno == EIDRM))
		return -EIDRM;
	return e > 0 ? -e : -EIO;
}

/* Checks common to every send and receive: the timeout and the role. */
static int smq__check_call(struct ipc_mailbox *h, uint32_t role, int64_t timeout_ns)
{
	if (timeout_ns < SMQ_INFINITE)
		return -EINVAL;
	return h->flags & role ? 0 : -EBADF;
}

/* One message of mtype to queue q. A timeout > 0 is tried with IPC_NOWAIT
 * (SysV has no timed wait): -EOPNOTSUPP when it would have to wait. */
static int smq__send(struct ipc_mailbox *h, int q, long mtype, const void *msg, size_t len,
		     int64_t timeout_ns)
{
	int rc = smq__check_call(h, IPC_MAILBOX_SEND, timeout_ns);
	if (rc < 0)
		return rc;
	if (len > h->max_msg)
		return -EMSGSIZE;
	if (msg == NULL && len > 0)
		return -EFAULT;
	long stack[1 + SMQ_STACK / sizeof(long)];
	long *b = len <= SMQ_STACK ? stack : malloc(sizeof(long) + len);
	if (b == NULL)
		return -ENOMEM;
	b[0] = mtype;
	if (len > 0)
		memcpy(b + 1, msg, len);
	rc = msgsnd(q, b, len, timeout_ns < 0 ? 0 : IPC_NOWAIT);
	if (rc != 0)
		rc = smq__call_error(q);
	if (b != stack)
		free(b);
	return rc == -EAGAIN && timeout_ns > 0 ? -EOPNOTSUPP : rc;
}

/* The oldest message of msgtyp (0: any) from queue q; its mtype in *type. */
static ssize_t smq__recv(struct ipc_mailbox *h, int q, long msgtyp, long *type, void *buf,
			 size_t cap, int64_t timeout_ns)
{
	int rc = smq__check_call(h, IPC_MAILBOX_RECV, timeout_ns);
	if (rc < 0)
		return rc;
	if (buf == NULL && cap > 0)
		return -EFAULT;
	/* Never more than max_msg: no message is longer. */
	size_t want = cap < h->max_msg ? cap : h->max_msg;
	long stack[1 + SMQ_STACK / sizeof(long)];
	long *b = want <= SMQ_STACK ? stack : malloc(sizeof(long) + want);
	if (b == NULL)
		return -ENOMEM;
	ssize_t n = msgrcv(q, b, want, msgtyp, timeout_ns < 0 ? 0 : IPC_NOWAIT);
	if (n < 0)
		n = smq__call_error(q);
	else if (n > 0)
		memcpy(buf, b + 1, (size_t)n);
	if (n >= 0 && type != NULL)
		*type = b[0];
	if (b != stack)
		free(b);
	return n == -EAGAIN && timeout_ns > 0 ? -EOPNOTSUPP : n;
}

static int smq_send(struct ipc_mailbox *h, const void *msg, size_t len, int64_t timeout_ns)
{
	return smq__send(h, h->id, SMQ_MTYPE, msg, len, timeout_ns);
}

static ssize_t smq_recv(struct ipc_mailbox *h, void *buf, size_t cap, int64_t timeout_ns)
{
	return smq__recv(h, h->id, SMQ_MTYPE, NULL, buf, cap, timeout_ns);
}

static int smq_self_id(struct ipc_mailbox *h, ipc_mailbox_id *id)
{
	*id = h->self;
	return 0;
}

static int smq_send_to(struct ipc_mailbox *h, ipc_mailbox_id to, const void *msg, size_t len,
		       int64_t timeout_ns)
{
	char path[SMQ_PATH];
	size_t max_msg;
	int rc = smq__check_call(h, IPC_MAILBOX_SEND, timeout_ns);
	if (rc < 0)
		return rc;
	if (to == 0 || to > LONG_MAX || smq__party_path(h->anchor, to, path, sizeof path) < 0)
		return -ESRCH; /* never an id: ids are mtypes, 1..LONG_MAX */
	int q = smq__anchor_queue(path, SMQ_PTAG, 0200, &max_msg);
	if (q == -ENOENT || q == -EUCLEAN)
		return -ESRCH; /* no such party's anchor, or its inbox is gone */
	if (q < 0)
		return q;
	rc = smq__send(h, q, (long)h->self, msg, len, timeout_ns);
	return rc == -EIDRM ? -ESRCH : rc; /* the party closed meanwhile */
}

static ssize_t smq_recv_from(struct ipc_mailbox *h, ipc_mailbox_id from, void *buf, size_t cap,
			     int64_t timeout_ns)
{
	if (from == 0 || from > LONG_MAX)
		return -ESRCH; /* type 0 would be "any" */
	return smq__recv(h, h->inbox, (long)from, NULL, buf, cap, timeout_ns);
}

static ssize_t smq_recv_any(struct ipc_mailbox *h, ipc_mailbox_id *from, void *buf, size_t cap,
			    int64_t timeout_ns)
{
	long type = 0;
	ssize_t n = smq__recv(h, h->inbox, 0, &type, buf, cap, timeout_ns);
	if (n >= 0 && from != NULL)
		*from = (ipc_mailbox_id)type;
	return n;
}

static const struct ipc_mailbox_ops smq_ops = {
    .create = smq_create,
    .open = smq_open,
    .close = smq_close,
    .unlink = smq_unlink,
    .send = smq_send,
    .recv = smq_recv,
    .self_id = smq_self_id,
    .send_to = smq_send_to,
    .recv_from = smq_recv_from,
    .recv_any = smq_recv_any,
};

const struct ipc_subject ipc__subject_native_sysv_msg = {
    .abi_version = IPC_SUBJECT_ABI_VERSION,
    .struct_size = sizeof(struct ipc_subject),
    .name = "native-sysv-msg",
    .mechanism = IPC_MECH_MAILBOX,
    .caps = IPC_MAILBOX_CAP_BLOCKING | IPC_MAILBOX_CAP_NONBLOCK | IPC_MAILBOX_CAP_BOUNDED |
	    IPC_MAILBOX_CAP_CROSS_PROCESS | IPC_MAILBOX_CAP_PERSISTENCE |
	    IPC_MAILBOX_CAP_PERMISSIONS | IPC_MAILBOX_CAP_REMOVE_WAKES | IPC_MAILBOX_CAP_DIRECT,
    .ops = &smq_ops,
    .summary = "System V message queues: msgget (ftok of an anchor file under $TMPDIR), "
	       "msgsnd/msgrcv with IPC_NOWAIT, IPC_RMID; capacity in bytes (msg_qbytes); "
	       "direct naming by mtype = sender over one inbox queue per party",
};
