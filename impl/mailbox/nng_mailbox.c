/* SPDX-License-Identifier: MIT */
/*
 * nng-mailbox: the mailbox mechanism (spec/mailbox.h) over nng 1.5
 * (libnng, Debian's libnng-dev), pipeline pattern (PUSH/PULL) on the ipc://
 * transport. nng has no named object that exists without a live socket, so
 * the adapter maps the textbook's mailbox *owned by its receiving process*:
 *
 *  - Name. create writes a small name file ${TMPDIR:-/tmp}/<name> (mode
 *    attr.mode under the umask; written aside and link(2)ed in, so the name
 *    appears whole and -EEXIST is atomic) holding the capacity, max_msg and
 *    a random instance id. The mailbox's address is the ipc:// socket
 *    ${TMPDIR:-/tmp}/<name>.<instance>.sock: a re-created name gets a new
 *    address, so a handle of the removed mailbox never reaches the new one.
 *    open reads the name file (the kernel answers -ENOENT / -EACCES); unlink
 *    removes the name file and the socket file. Every file starts with the
 *    name, so ci/conformance.sh's trap and `make clean-ipc` remove them. The
 *    socket path must fit sun_path (107 bytes with $TMPDIR): create answers
 *    -ENAMETOOLONG for a name that would not.
 *  - Who listens, who dials. The receiving side listens: one PULL socket per
 *    process and mailbox, shared by that process's receiving handles (nng
 *    sockets are thread-safe; each message goes to one caller), bound with
 *    NNG_OPT_IPC_PERMISSIONS = the name's mode at its first recv, so
 *    messages wait in the senders' queues rather than in a process that
 *    never receives. Every sending handle has its own PUSH socket that dials
 *    the address in the background (reconnect every 5 ms), so senders may
 *    open before, and outlive, the receiver. Several senders, in any
 *    processes, are fair-queued by PULL; several receivers share the one
 *    process's socket. Only one process can bind the address: a recv in a
 *    second process while the first still listens is -EBUSY (not a spec
 *    code). The owner's last receiving close closes the PULL socket and
 *    nng drops what it had read ahead: "when the owner terminates, the
 *    mailbox disappears".
 *  - Capacity. Bounded n (1..8192) is NNG_OPT_SENDBUF of each sending
 *    handle's PUSH socket: exactly n messages wait while no receiver is
 *    connected, and the next send waits. Once a receiver is connected, push
 *    keeps one message in transit per pipe, pull reads one ahead per pipe,
 *    and the kernel's socket buffer of ipc:// holds more: a connected mailbox
 *    takes more than n before a send waits. Zero capacity (push has no
 *    rendezvous: a send completes when the message is queued, never when it
 *    is received) and unbounded (push blocks when its queue is full) are
 *    refused with -EOPNOTSUPP, as is n > 8192 (push0's limit).
 *  - Waiting. Each call first tries with NNG_FLAG_NONBLOCK, then sleeps in
 *    ppoll(2) on nng's NNG_OPT_SENDFD / NNG_OPT_RECVFD with the rest of the
 *    timeout (nanoseconds, CLOCK_MONOTONIC), signals blocked except inside
 *    ppoll (the pselect idiom), so a caught signal ends it with -EINTR having
 *    moved nothing, even one that came during nng's own call (SA_RESTART does not restart ppoll: no
 *    `restart`). A timeout of 0 is one non-blocking try (-EAGAIN).
 *  - Sizes. send refuses len > max_msg; PULL has NNG_OPT_RECVMAXSZ = max_msg.
 *    nng keeps boundaries and empty messages. A message taken from nng that
 *    does not fit the caller's buffer cannot be put back: it is kept in the
 *    process's receiving side, first for the next recv (an eventfd wakes the
 *    receivers polling), which is where nng had it anyway.
 *
 * Left out (UNSUPPORTED), because nng does not give it:
 *  - nonblock: NNG_FLAG_NONBLOCK exists, but delivery is asynchronous (nng's
 *    I/O threads write and read the ipc socket after send returns), so a
 *    non-blocking recv right after a send that returned may find nothing:
 *    the suite's "a send is visible when it returns" (MAILBOX-ORDER-6) does
 *    not hold, and every clause that receives "at once" would fail by
 *    timing only. The harness then uses blocking calls instead.
 *  - zero, unbounded, mem-limit: see Capacity.
 *  - end-of-stream, peer-death: PUSH/PULL carry no end of stream; a pull
 *    socket sees pipes, not senders (a sender still dialing is invisible).
 *  - direct: the pipeline pattern has no party ids or per-party inboxes.
 *  - remove-wakes: nng knows nothing of the name file; calls blocked on the
 *    sockets are not woken by unlink (a recv that would have to bind the
 *    address after unlink answers -EIDRM, since there is no address left).
 *  - persistence: queued messages live in the sockets of the processes
 *    (senders' queues, the owner's read-ahead), not in the name; closing or
 *    exiting drops them: nng_close(3) has no linger or flush.
 *  - restart: see Waiting.
 *  - cross-process: nng's ipc:// joins processes that each start nng
 *    themselves (unrelated, or fork + exec), but nng is not fork-safe: a
 *    child forked after its parent initialised nng panics on its first nng
 *    call ("nng is not fork-reentrant safe", its pthread_atfork handler).
 *    The suite's other processes are exactly such children, so the
 *    capability is left out and the parties are threads. The adapter
 *    notices the fork (pthread_atfork) and answers -EOPNOTSUPP in such a
 *    child instead of letting nng abort it.
 * Claimed: blocking, timed, bounded (see Capacity), permissions (the
 * kernel enforces the name file's mode on open, nng's ipc:permissions the
 * socket's). Expected deviations (conformance/expect/nng-mailbox): a
 * closing sender's unsent queue is dropped (nng_close(3): no linger), and
 * PULL fair-queues its pipes, so there is no single order across senders:
 * MAILBOX-ORDER-1..4.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>

#include "ipc_subject.h"
#include "mailbox.h"

#define NM_FLAGS        (IPC_MAILBOX_SEND | IPC_MAILBOX_RECV)
#define NM_SENDBUF_MAX  8192                  /* push0's NNG_OPT_SENDBUF range */
#define NM_RECONNECT_MS 5                     /* a sender redials a missing receiver this often */
#define NM_MAGIC        0x786f626d676e6e31ull /* "1nngmbox" */
#define NM_PATH_MAX     (sizeof(((struct sockaddr_un *)0)->sun_path))

/* The name file's content. */
struct nm_record {
	uint64_t magic;
	uint64_t instance;
	uint64_t capacity;
	uint64_t max_msg;
};

/* A process's receiving side of one mailbox instance (one PULL socket). */
struct nm_rx {
	struct nm_rx *next;
	unsigned refs;      /* receiving handles of this process */
	pthread_mutex_t mu; /* listening, held */
	nng_socket pull;
	bool listening;
	nng_msg *held; /* taken but too large for its caller: first */
	int held_fd;   /* eventfd, readable while held is set */
	int recv_fd;   /* NNG_OPT_RECVFD */
	uint32_t mode;
	char name_path[NM_PATH_MAX];
	uint64_t instance;
	char url[NM_PATH_MAX + 8];
};

struct ipc_mailbox {
	uint32_t flags;
	size_t max_msg;
	bool has_push;
	nng_socket push;
	int send_fd; /* NNG_OPT_SENDFD */
	struct nm_rx *rx;
};

static pthread_mutex_t nm_lock = PTHREAD_MUTEX_INITIALIZER; /* nm_rxs */
static struct nm_rx *nm_rxs;
static atomic_bool nm_forked;
static pthread_once_t nm_once = PTHREAD_ONCE_INIT;

/* nng panics in a child forked after it was initialised: remember the fork
 * so such a child gets an error instead of an abort. */
static void nm__atfork_child(void)
{
	atomic_store(&nm_forked, true);
}

static void nm__init(void)
{
	pthread_atfork(NULL, NULL, nm__atfork_child);
}

static int nm__usable(void)
{
	pthread_once(&nm_once, nm__init);
	return atomic_load(&nm_forked) ? -EOPNOTSUPP : 0;
}

static int nm__errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

/* nng's error codes, as the spec's negative errnos. */
static int nm__nng(int rv)
{
	switch (rv) {
	case 0:
		return 0;
	case NNG_EAGAIN:
		return -EAGAIN;
	case NNG_ETIMEDOUT:
		return -ETIMEDOUT;
	case NNG_ENOMEM:
		return -ENOMEM;
	case NNG_EINVAL:
		return -EINVAL;
	case NNG_EADDRINUSE:
		return -EBUSY;
	case NNG_EPERM:
		return -EACCES;
	case NNG_EMSGSIZE:
		return -EMSGSIZE;
	case NNG_ENOENT:
		return -ENOENT;
	case NNG_ECLOSED:
		return -EBADF;
	default:
		return rv & NNG_ESYSERR ? -(rv & ~NNG_ESYSERR) : -EIO;
	}
}

/* ${TMPDIR:-/tmp}<name><suffix> into out (NM_PATH_MAX: it must also fit a
 * socket address). */
static int nm__path(const char *name, const char *suffix, char *out)
{
	const char *dir = getenv("TMPDIR");
	if (name == NULL || name[0] != '/' || name[1] == '\0' || strchr(name + 1, '/') != NULL)
		return -EINVAL;
	if (strlen(name) > IPC_NAME_MAX)
		return -ENAMETOOLONG;
	int n = snprintf(out, NM_PATH_MAX, "%s%s%s", dir && *dir ? dir : "/tmp", name, suffix);
	return n < 0 || (size_t)n >= NM_PATH_MAX ? -ENAMETOOLONG : 0;
}

/* The ipc:// URL of an instance of name. */
static int nm__url(const char *name, uint64_t instance, char *url)
{
	char suffix[32], path[NM_PATH_MAX];
	snprintf(suffix, sizeof suffix, ".%016llx.sock", (unsigned long long)instance);
	int rc = nm__path(name, suffix, path);
	if (rc == 0)
		snprintf(url, NM_PATH_MAX + 8, "ipc://%s", path);
	return rc;
}

/* Read the name file: 0, -ENOENT, -EACCES, or -EPROTO for a foreign file. */
static int nm__read_record(const char *path, struct nm_record *r, uint32_t *mode)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return nm__errno();
	struct stat st;
	ssize_t n = fstat(fd, &st) == 0 ? read(fd, r, sizeof *r) : -1;
	int rc = n < 0 ? nm__errno() : 0;
	close(fd);
	if (rc == 0 && (n != (ssize_t)sizeof *r || r->magic != NM_MAGIC))
		rc = -EPROTO;
	if (rc == 0 && mode)
		*mode = (uint32_t)(st.st_mode & 0777);
	return rc;
}

static int nm__check_attr(const struct ipc_mailbox_attr *attr)
{
	if (attr == NULL || attr->max_msg == 0)
		return -EINVAL;
	/* push has no rendezvous and no unbounded queue (header comment). */
	if (attr->capacity == 0 || attr->capacity > NM_SENDBUF_MAX)
		return -EOPNOTSUPP;
	return 0;
}

/* Write the record aside, then link it in: the name appears whole, once. */
static int nm__publish(const char *path, const struct nm_record *r, uint32_t mode)
{
	char tmp[NM_PATH_MAX];
	int n = snprintf(tmp, sizeof tmp, "%s.new-%d-%llx", path, (int)getpid(),
			 (unsigned long long)r->instance);
	if (n < 0 || (size_t)n >= sizeof tmp)
		return -ENAMETOOLONG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)(mode & 0777));
	if (fd < 0)
		return nm__errno();
	int rc = write(fd, r, sizeof *r) == (ssize_t)sizeof *r ? 0 : -EIO;
	if (close(fd) != 0 && rc == 0)
		rc = nm__errno();
	if (rc == 0 && link(tmp, path) != 0)
		rc = nm__errno();
	unlink(tmp);
	return rc;
}

static int nm_create(const char *name, const struct ipc_mailbox_attr *attr)
{
	char path[NM_PATH_MAX], url[NM_PATH_MAX + 8];
	struct nm_record r = {.magic = NM_MAGIC};
	int rc = nm__path(name, "", path);
	if (rc == 0)
		rc = nm__check_attr(attr);
	if (rc == 0 && getrandom(&r.instance, sizeof r.instance, 0) != sizeof r.instance)
		rc = -EIO;
	if (rc == 0)
		rc = nm__url(name, r.instance, url); /* the address must fit too */
	if (rc < 0)
		return rc;
	r.capacity = attr->capacity;
	r.max_msg = attr->max_msg;
	return nm__publish(path, &r, attr->mode);
}

/* ---- the receiving side: one PULL socket per process and instance ------- */

static int nm__rx_new(const char *url, const char *path, const struct nm_record *r, uint32_t mode,
		      struct nm_rx **out)
{
	struct nm_rx *x = calloc(1, sizeof *x);
	if (x == NULL)
		return -ENOMEM;
	x->held_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int rc = x->held_fd < 0 ? nm__errno() : nm__nng(nng_pull0_open(&x->pull));
	if (rc == 0)
		rc = nm__nng(nng_socket_set_size(x->pull, NNG_OPT_RECVMAXSZ, (size_t)r->max_msg));
	if (rc == 0)
		rc = nm__nng(nng_socket_get_int(x->pull, NNG_OPT_RECVFD, &x->recv_fd));
	if (rc < 0) {
		if (nng_socket_id(x->pull) > 0)
			nng_close(x->pull);
		if (x->held_fd >= 0)
			close(x->held_fd);
		free(x);
		return rc;
	}
	pthread_mutex_init(&x->mu, NULL);
	x->mode = mode;
	x->instance = r->instance;
	snprintf(x->url, sizeof x->url, "%s", url);
	snprintf(x->name_path, sizeof x->name_path, "%s", path);
	*out = x;
	return 0;
}

/* This process's receiving side of the instance, shared (refs). */
static int nm__rx_attach(const char *url, const char *path, const struct nm_record *r,
			 uint32_t mode, struct nm_rx **out)
{
	int rc = 0;
	pthread_mutex_lock(&nm_lock);
	struct nm_rx *x = nm_rxs;
	while (x != NULL && strcmp(x->url, url) != 0)
		x = x->next;
	if (x == NULL && (rc = nm__rx_new(url, path, r, mode, &x)) == 0) {
		x->next = nm_rxs;
		nm_rxs = x;
	}
	if (rc == 0) {
		x->refs++;
		*out = x;
	}
	pthread_mutex_unlock(&nm_lock);
	return rc;
}

/* The last receiving handle of the process closes the socket: nng drops
 * what it read ahead (the owner is gone) and removes the socket file. */
static void nm__rx_detach(struct nm_rx *x)
{
	pthread_mutex_lock(&nm_lock);
	bool last = --x->refs == 0;
	if (last) {
		struct nm_rx **p = &nm_rxs;
		while (*p != x)
			p = &(*p)->next;
		*p = x->next;
	}
	pthread_mutex_unlock(&nm_lock);
	if (!last)
		return;
	nng_close(x->pull);
	if (x->held)
		nng_msg_free(x->held);
	close(x->held_fd);
	pthread_mutex_destroy(&x->mu);
	free(x);
}

/* Bind the address at the first recv (under x->mu). -EIDRM once the name no
 * longer names this instance: there is no address left to bind. */
static int nm__rx_listen(struct nm_rx *x)
{
	struct nm_record r;
	nng_listener l = NNG_LISTENER_INITIALIZER;
	if (x->listening)
		return 0;
	if (nm__read_record(x->name_path, &r, NULL) != 0 || r.instance != x->instance)
		return -EIDRM;
	int rc = nm__nng(nng_listener_create(&l, x->pull, x->url));
	if (rc == 0)
		rc = nm__nng(nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, (int)x->mode));
	if (rc == 0)
		rc = nm__nng(nng_listener_start(l, 0));
	if (rc < 0 && nng_listener_id(l) > 0)
		nng_listener_close(l);
	x->listening = rc == 0;
	return rc;
}

/* ---- open, close, unlink -------------------------------------------------- */

/* A PUSH socket of n queued messages, dialing url in the background. */
static int nm__push_open(struct ipc_mailbox *h, const char *url, size_t n)
{
	int rc = nm__nng(nng_push0_open(&h->push));
	if (rc < 0)
		return rc;
	h->has_push = true;
	rc = nm__nng(nng_socket_set_int(h->push, NNG_OPT_SENDBUF, (int)n));
	if (rc == 0)
		rc = nm__nng(nng_socket_set_ms(h->push, NNG_OPT_RECONNMINT, NM_RECONNECT_MS));
	if (rc == 0)
		rc = nm__nng(nng_socket_set_ms(h->push, NNG_OPT_RECONNMAXT, NM_RECONNECT_MS));
	if (rc == 0)
		rc = nm__nng(nng_socket_get_int(h->push, NNG_OPT_SENDFD, &h->send_fd));
	if (rc == 0)
		rc = nm__nng(nng_dial(h->push, url, NULL, NNG_FLAG_NONBLOCK));
	return rc;
}

static int nm_close(struct ipc_mailbox *h)
{
	/* In a child forked after nng started, any nng call panics: the
	 * child's copies of the sockets are left alone. */
	if (atomic_load(&nm_forked)) {
		free(h);
		return 0;
	}
	/* nng_close(3): no linger: what the PUSH socket has not yet written
	 * is dropped (header comment, persistence). */
	if (h->has_push)
		nng_close(h->push);
	if (h->rx)
		nm__rx_detach(h->rx);
	free(h);
	return 0;
}

static int nm__open_sides(struct ipc_mailbox *h, const char *name, const char *path,
			  const struct nm_record *r, uint32_t mode)
{
	char url[NM_PATH_MAX + 8];
	int rc = nm__url(name, r->instance, url);
	if (rc == 0 && (h->flags & IPC_MAILBOX_SEND))
		rc = nm__push_open(h, url, (size_t)r->capacity);
	if (rc == 0 && (h->flags & IPC_MAILBOX_RECV))
		rc = nm__rx_attach(url, path, r, mode, &h->rx);
	return rc;
}

static int nm_open(const char *name, uint32_t flags, struct ipc_mailbox **out)
{
	char path[NM_PATH_MAX];
	struct nm_record r;
	uint32_t mode = 0;
	int rc = nm__path(name, "", path);
	if (rc < 0)
		return rc;
	if ((flags & NM_FLAGS) == 0 || (flags & ~(uint32_t)NM_FLAGS) != 0 || out == NULL)
		return -EINVAL;
	if ((rc = nm__read_record(path, &r, &mode)) < 0 || (rc = nm__usable()) < 0)
		return rc;
	struct ipc_mailbox *h = calloc(1, sizeof *h);
	if (h == NULL)
		return -ENOMEM;
	h->flags = flags;
	h->max_msg = (size_t)r.max_msg;
	rc = nm__open_sides(h, name, path, &r, mode);
	if (rc < 0) {
		nm_close(h);
		return rc;
	}
	*out = h;
	return 0;
}

static int nm_unlink(const char *name)
{
	char path[NM_PATH_MAX], url[NM_PATH_MAX + 8];
	struct nm_record r;
	int rc = nm__path(name, "", path);
	if (rc < 0)
		return rc;
	int have = nm__read_record(path, &r, NULL) == 0 && nm__url(name, r.instance, url) == 0;
	if (unlink(path) != 0)
		return nm__errno();
	/* The address goes with the name (a live listener keeps its pipes). */
	if (have)
		unlink(url + strlen("ipc://"));
	return 0;
}

/* ---- send and recv -------------------------------------------------------- */

static int64_t nm__now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Sleep until one of fds is readable or the deadline (-1: none) passes:
 * 0 to try again, -ETIMEDOUT, -EINTR. The caller's signal mask is restored
 * only inside ppoll, atomically (the pselect idiom): a signal that came
 * while nng's calls ran (they wait on condition variables, which signals do
 * not interrupt) is pending and ends this wait at once with -EINTR. */
static int nm__wait(struct pollfd *p, nfds_t n, int64_t deadline, const sigset_t *mask)
{
	struct timespec ts, *tp = NULL;
	if (deadline >= 0) {
		int64_t left = deadline - nm__now();
		if (left <= 0)
			return -ETIMEDOUT;
		ts = (struct timespec){left / 1000000000, left % 1000000000};
		tp = &ts;
	}
	return ppoll(p, n, tp, mask) < 0 ? nm__errno() : 0;
}

static int64_t nm__deadline(int64_t timeout_ns)
{
	return timeout_ns < 0 ? -1 : nm__now() + timeout_ns;
}

/* Try, then wait for room, until sent, timed out or interrupted (signals
 * blocked, mask: the caller's). The message is freed unless it was sent. */
static int nm__send_loop(struct ipc_mailbox *h, nng_msg *m, int64_t timeout_ns,
			 const sigset_t *mask)
{
	int rc;
	int64_t deadline = nm__deadline(timeout_ns);
	struct pollfd p = {.fd = h->send_fd, .events = POLLIN};
	/* nng_sendmsg takes the message only on success. */
	while ((rc = nm__nng(nng_sendmsg(h->push, m, NNG_FLAG_NONBLOCK))) == -EAGAIN &&
	       timeout_ns != 0 && (rc = nm__wait(&p, 1, deadline, mask)) == 0)
		;
	if (rc < 0)
		nng_msg_free(m);
	return rc;
}

static int nm_send(struct ipc_mailbox *h, const void *msg, size_t len, int64_t timeout_ns)
{
	nng_msg *m;
	if (timeout_ns < -1)
		return -EINVAL;
	if (!(h->flags & IPC_MAILBOX_SEND))
		return -EBADF;
	if (len > h->max_msg)
		return -EMSGSIZE;
	if (msg == NULL && len > 0)
		return -EFAULT;
	int rc = nm__usable();
	if (rc < 0 || (rc = nm__nng(nng_msg_alloc(&m, 0))) < 0)
		return rc;
	if (len > 0 && (rc = nm__nng(nng_msg_append(m, msg, len))) < 0) {
		nng_msg_free(m);
		return rc;
	}
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old); /* see nm__wait */
	rc = nm__send_loop(h, m, timeout_ns, &old);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* One try under x->mu: the held message first, then nng's. Its length,
 * -EMSGSIZE (it stays first), -EAGAIN, or an error. */
static ssize_t nm__take(struct nm_rx *x, void *buf, size_t cap)
{
	nng_msg *m = x->held;
	int rc = nm__rx_listen(x);
	if (rc == 0 && m == NULL)
		rc = nm__nng(nng_recvmsg(x->pull, &m, NNG_FLAG_NONBLOCK));
	if (rc < 0)
		return rc;
	size_t len = nng_msg_len(m);
	if (len > cap) {
		if (x->held == NULL) {
			x->held = m;
			(void)eventfd_write(x->held_fd, 1);
		}
		return -EMSGSIZE;
	}
	if (x->held != NULL) {
		eventfd_t v;
		x->held = NULL;
		(void)eventfd_read(x->held_fd, &v);
	}
	if (len > 0)
		memcpy(buf, nng_msg_body(m), len);
	nng_msg_free(m);
	return (ssize_t)len;
}

/* Try, then wait for a message, until taken, timed out or interrupted
 * (signals blocked, mask: the caller's). */
static ssize_t nm__recv_loop(struct nm_rx *x, void *buf, size_t cap, int64_t timeout_ns,
			     const sigset_t *mask)
{
	int64_t deadline = nm__deadline(timeout_ns);
	struct pollfd p[2] = {{.fd = x->recv_fd, .events = POLLIN},
			      {.fd = x->held_fd, .events = POLLIN}};
	for (;;) {
		pthread_mutex_lock(&x->mu);
		ssize_t n = nm__take(x, buf, cap);
		pthread_mutex_unlock(&x->mu);
		if (n != -EAGAIN || timeout_ns == 0)
			return n;
		int rc = nm__wait(p, 2, deadline, mask);
		if (rc < 0)
			return rc;
	}
}

static ssize_t nm_recv(struct ipc_mailbox *h, void *buf, size_t cap, int64_t timeout_ns)
{
	if (timeout_ns < -1)
		return -EINVAL;
	if (!(h->flags & IPC_MAILBOX_RECV))
		return -EBADF;
	if (buf == NULL && cap > 0)
		return -EFAULT;
	int rc = nm__usable();
	if (rc < 0)
		return rc;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old); /* see nm__wait */
	ssize_t n = nm__recv_loop(h->rx, buf, cap, timeout_ns, &old);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return n;
}

static const struct ipc_mailbox_ops nm_ops = {
    .create = nm_create,
    .open = nm_open,
    .close = nm_close,
    .unlink = nm_unlink,
    .send = nm_send,
    .recv = nm_recv,
};

const struct ipc_subject ipc__subject_nng_mailbox = {
    .abi_version = IPC_SUBJECT_ABI_VERSION,
    .struct_size = sizeof(struct ipc_subject),
    .name = "nng-mailbox",
    .mechanism = IPC_MECH_MAILBOX,
    .caps = IPC_MAILBOX_CAP_BLOCKING | IPC_MAILBOX_CAP_TIMED | IPC_MAILBOX_CAP_BOUNDED |
	    IPC_MAILBOX_CAP_PERMISSIONS,
    .ops = &nm_ops,
    .summary = "nng 1.5 PUSH/PULL over ipc://: the receiving process listens, each sender "
	       "dials; capacity = NNG_OPT_SENDBUF",
};
