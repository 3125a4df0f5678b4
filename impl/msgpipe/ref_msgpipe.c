/* SPDX-License-Identifier: MIT */
/*
 * ref-msgpipe: the reference message-mode named pipe (spec/msgpipe.h) on the
 * shared-memory core. The name is a regular file under $TMPDIR (made whole
 * before it is linked, impl/core/namefile.c): its first page is the
 * listener (the server's participant slot, a queue of connections waiting
 * for accept), and the rest of the file is an arena of instances. An
 * instance is a header page and two bounded ref-shmbuf rings, client to
 * server and server to client: one message is one item, so boundaries,
 * order, whole messages under several senders, -EMSGSIZE with the message
 * kept, end of data and peer death are the ring's.
 *
 * connect formats the instance and claims the server's two ring slots in
 * the server's name (ipc__shmbuf_preclaim_at): until accept adopts them the
 * client sees a server end that is open, and the server's death or close
 * ends the instance as a close would. Listener updates (connect, accept,
 * server_close) are serialised by flock on the file plus a mutex per server
 * handle; the data path takes neither. When both ends of an instance have
 * closed, its region of the file is given back (punched); an end that died
 * leaves its region until the name's file is removed. Design notes:
 * docs/ref-msgpipe-design.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "msgpipe.h"
#include "msgpipe/ref_msgpipe.h"
#include "shmbuf/ref_shmbuf.h"

#define MP_MAGIC      0x3150504d43504931ull /* "1IPCMPP1" */
#define MP_INST_MAGIC 0x54534e49504d4331ull
#define MP_VERSION    1u
#define MP_PAGE       4096u
/* An unused page after every mapped region of the file: no two regions are
 * contiguous in the file, so no two mappings can be merged into one.
 * valgrind 3.19 (Debian 12) aborts (aspacem "! is_freeslot(ix)") when it
 * merges adjacent mappings of one file; the gaps cost no memory. */
#define MP_GAP         MP_PAGE
#define MP_FIRST       (MP_PAGE + MP_GAP) /* the first instance's offset */
#define MP_QUEUE       64u                /* connections waiting for accept */
#define MP_RING_BYTES  (256u << 10)       /* a ring's target size: its item count follows */
#define MP_ROLE_SERVER 1u
#define MP_ARENA_MAX   (1ull << 44) /* the arena never grows past this offset */

/* Page 0 of the name's file. Words under the flock: next_off, q_head,
 * q_tail, queue. */
struct mp_listener {
	uint64_t magic;
	uint32_t version;
	uint32_t max_msg; /* the server's: its rings to the clients */
	_Atomic uint64_t next_off;
	_Atomic uint32_t q_head, q_tail;
	_Atomic uint32_t accept_seq; /* futex: bumped by connect and server_close */
	uint64_t queue[MP_QUEUE];
	struct ipc_part ptab[IPC_PART_TABLE]; /* the server's slot */
};

_Static_assert(sizeof(struct mp_listener) <= MP_PAGE, "listener exceeds its page");

/* The first page of an instance. */
struct mp_inst {
	uint64_t magic;
	uint64_t size;                              /* the whole region, this page included */
	uint64_t c2s_off, s2c_off;                  /* absolute offsets of the rings */
	struct ipc__shmbuf_slot srv_cons, srv_prod; /* held in the server's name */
	_Atomic uint32_t ends;                      /* ends not yet closed (2 at connect) */
};

struct ipc_msgpipe_server {
	int fd;
	struct mp_listener *hdr;
	uint32_t idx, token, flags, forkgen;
	pthread_mutex_t mu; /* threads of this process: flock is per open file */
};

struct ipc_msgpipe {
	struct ipc_shmbuf *tx, *rx;
	/* A ring handle keeps per-handle state (cached indices, its sticky
	 * lock): one thread at a time per direction. */
	pthread_mutex_t tx_mu, rx_mu;
	struct mp_inst *inst;
	int fd;             /* the name's file: the region is punched through it */
	uint64_t off, size; /* the region (a private copy of its size) */
	uint32_t forkgen;
	bool nonblock;
};

static int mp_errno(void)
{
	return errno > 0 ? -errno : IPC_EINVAL;
}

static int mp_attr(const struct ipc_msgpipe_attr *attr, uint32_t *flags, uint32_t *max)
{
	size_t m = attr && attr->max_msg ? attr->max_msg : IPC_MSGPIPE_MSG_DEFAULT;

	*flags = attr ? attr->flags : 0;
	IPC_ENSURE(!(*flags & ~(uint32_t)IPC_MSGPIPE_NONBLOCK), IPC_EINVAL);
	IPC_ENSURE(m <= IPC_MSGPIPE_REF_MAX_MSG, IPC_EINVAL);
	*max = (uint32_t)m;
	return 0;
}

/* A ring of messages of up to max bytes: about MP_RING_BYTES, 4 to 64 of them. */
static struct ipc_shmbuf_attr mp_ring_attr(uint32_t max)
{
	size_t n = MP_RING_BYTES / ((size_t)max + 16);

	return (struct ipc_shmbuf_attr){.capacity = n < 4    ? 4
						    : n > 64 ? 64
							     : n,
					.max_item = max ? max : 1};
}

/* ---- the listener --------------------------------------------------------------------------- */

static int mp_map(int fd, uint64_t off, void **p)
{
	return ipc__shm_map_at(fd, off, MP_PAGE, true, p);
}

/* Run with the listener locked against every process (flock) and every
 * thread of this one (mu, NULL for a connect, whose fd is its own). */
static int mp_lock(int fd, pthread_mutex_t *mu)
{
	if (mu)
		pthread_mutex_lock(mu);
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			int rc = mp_errno();

			if (mu)
				pthread_mutex_unlock(mu);
			return rc;
		}
	}
	return 0;
}

static void mp_unlock(int fd, pthread_mutex_t *mu)
{
	(void)flock(fd, LOCK_UN);
	if (mu)
		pthread_mutex_unlock(mu);
}

struct mp_format {
	uint32_t max_msg;
	struct ipc_msgpipe_server *srv;
};

/* The file before it has a name: the listener, with the server's slot
 * already claimed, so the name never appears without its server. The
 * server maps the file for good once it is named (mp_map: one mapping per
 * region per process). */
static int mp_format(int fd, void *arg)
{
	struct mp_format *f = arg;
	struct ipc_msgpipe_server *s = f->srv;
	struct mp_listener *hdr;
	void *p;
	int rc;

	if (ftruncate(fd, MP_PAGE) != 0)
		return IPC_ENOMEM;
	IPC_GUARD(ipc__shm_grow(fd, 0, MP_PAGE));
	s->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	IPC_ENSURE(s->fd >= 0, IPC_EMFILE);
	p = mmap(NULL, MP_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	IPC_ENSURE(p != MAP_FAILED, IPC_ENOMEM);
	hdr = p;
	hdr->version = MP_VERSION;
	hdr->max_msg = f->max_msg;
	atomic_store_explicit(&hdr->next_off, MP_FIRST, memory_order_relaxed);
	rc = ipc__ptab_claim(hdr->ptab, MP_ROLE_SERVER, &s->idx, &s->token);
	atomic_thread_fence(memory_order_release); /* all of it before the magic */
	if (rc == 0)
		hdr->magic = MP_MAGIC;
	munmap(p, MP_PAGE);
	return rc;
}

static void mp_server_free(struct ipc_msgpipe_server *s)
{
	if (s->hdr)
		ipc__shm_unmap(s->hdr, MP_PAGE);
	if (s->fd >= 0)
		close(s->fd);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

int ipc_msgpipe_ref_create(const char *name, const struct ipc_msgpipe_attr *attr,
			   struct ipc_msgpipe_server **srv)
{
	struct mp_format f = {0};
	char path[4096];
	uint32_t flags;
	int rc;

	IPC_ENSURE(srv != NULL, IPC_EINVAL);
	IPC_GUARD(mp_attr(attr, &flags, &f.max_msg));
	IPC_GUARD(ipc__tmp_path(name, path, sizeof(path)));
	f.srv = calloc(1, sizeof(*f.srv));
	IPC_ENSURE(f.srv != NULL, IPC_ENOMEM);
	f.srv->fd = -1;
	f.srv->flags = flags;
	f.srv->forkgen = ipc__fork_gen();
	pthread_mutex_init(&f.srv->mu, NULL);
	rc = ipc__file_create(path, 0600, mp_format, &f);
	if (rc == 0 && (rc = mp_map(f.srv->fd, 0, (void **)&f.srv->hdr)) < 0)
		(void)unlink(path); /* named but never served: not left for a later create */
	if (rc < 0) {
		mp_server_free(f.srv);
		return rc;
	}
	*srv = f.srv;
	return 0;
}

/* ---- instances ------------------------------------------------------------------------------ */

/* The server's identity from its slot: -ECONNREFUSED when none is live. */
static int mp_server_id(struct mp_listener *hdr, pid_t *pid, uint64_t *start)
{
	(void)ipc__ptab_reap(hdr->ptab);
	for (unsigned i = 0; i < IPC_PART_TABLE; i++) {
		/* acquire: pairs with the claimer's release (its start time). */
		uint64_t w = atomic_load_explicit(&hdr->ptab[i].word, memory_order_acquire);

		if (ipc__part_status(w) == IPC_PART_LIVE && ipc__part_role(w) == MP_ROLE_SERVER) {
			*pid = ipc__part_pid(w);
			*start = atomic_load_explicit(&hdr->ptab[i].start, memory_order_relaxed);
			return 0;
		}
	}
	return IPC_MSGPIPE_ENOSERVER;
}

/* Room for an instance of size bytes at the arena's end: its offset. */
static int mp_reserve(int fd, struct mp_listener *hdr, uint64_t size, uint64_t *off)
{
	uint64_t at = atomic_load_explicit(&hdr->next_off, memory_order_relaxed);
	struct stat st;

	IPC_ENSURE(at % MP_PAGE == 0 && at >= MP_FIRST && at < MP_ARENA_MAX - size, IPC_EUCLEAN);
	IPC_ENSURE(fstat(fd, &st) == 0, IPC_EUCLEAN);
	if ((uint64_t)st.st_size < at + size && ftruncate(fd, (off_t)(at + size)) != 0)
		return IPC_ENOMEM;
	atomic_store_explicit(&hdr->next_off, at + size, memory_order_relaxed);
	*off = at;
	return 0;
}

/* The header page, then each ring, each followed by a gap. */
static uint64_t mp_inst_size(uint64_t c2s, uint64_t s2c)
{
	return MP_PAGE + MP_GAP + c2s + MP_GAP + s2c + MP_GAP;
}

/* Lay out an instance at off: rings formatted, the server's slots held in
 * its name, then the header (magic last: a half-made one never validates). */
static int mp_inst_format(int fd, uint64_t off, uint64_t c2s, uint32_t cli_max, uint32_t srv_max,
			  pid_t pid, uint64_t start)
{
	struct ipc_shmbuf_attr up = mp_ring_attr(cli_max), down = mp_ring_attr(srv_max);
	struct mp_inst *in;
	uint64_t down_size;

	IPC_GUARD(ipc__shmbuf_footprint(&down, &down_size));
	IPC_GUARD(ipc__shm_grow(fd, off, MP_PAGE));
	IPC_GUARD(ipc__shmbuf_format_at(fd, off + MP_PAGE + MP_GAP, &up));
	IPC_GUARD(ipc__shmbuf_format_at(fd, off + MP_PAGE + MP_GAP + c2s + MP_GAP, &down));
	IPC_GUARD(mp_map(fd, off, (void **)&in));
	in->size = mp_inst_size(c2s, down_size);
	in->c2s_off = off + MP_PAGE + MP_GAP;
	in->s2c_off = in->c2s_off + c2s + MP_GAP;
	atomic_store_explicit(&in->ends, 2, memory_order_relaxed);
	int rc = ipc__shmbuf_preclaim_at(fd, in->c2s_off, IPC_SHMBUF_CONSUMER, pid, start,
					 &in->srv_cons);
	if (rc == 0)
		rc = ipc__shmbuf_preclaim_at(fd, in->s2c_off, IPC_SHMBUF_PRODUCER, pid, start,
					     &in->srv_prod);
	atomic_thread_fence(memory_order_release);
	in->magic = MP_INST_MAGIC;
	ipc__shm_unmap(in, MP_PAGE);
	return rc;
}

/* The instance header at off, checked against the file: a peer's corrupt
 * header gives -EUCLEAN, never an access outside the region. */
static int mp_inst_open(int fd, uint64_t off, struct mp_inst **out, uint64_t *size_out)
{
	struct mp_inst *in;
	struct stat st;

	IPC_ENSURE(off % MP_PAGE == 0 && off >= MP_FIRST && fstat(fd, &st) == 0, IPC_EUCLEAN);
	IPC_ENSURE(off < (uint64_t)st.st_size && (uint64_t)st.st_size - off >= MP_PAGE,
		   IPC_EUCLEAN);
	IPC_GUARD(mp_map(fd, off, (void **)&in));
	uint64_t size = in->size, c2s = in->c2s_off, s2c = in->s2c_off;
	if (in->magic != MP_INST_MAGIC || c2s != off + MP_PAGE + MP_GAP || s2c <= c2s ||
	    s2c % MP_PAGE || size > (uint64_t)st.st_size - off || s2c - off >= size) {
		ipc__shm_unmap(in, MP_PAGE);
		return IPC_EUCLEAN;
	}
	*out = in;
	*size_out = size;
	return 0;
}

static void mp_handle_free(struct ipc_msgpipe *h)
{
	if (h->tx)
		(void)ipc_shmbuf_detach(h->tx);
	if (h->rx)
		(void)ipc_shmbuf_detach(h->rx);
	if (h->inst)
		ipc__shm_unmap(h->inst, MP_PAGE);
	if (h->fd >= 0)
		close(h->fd);
	pthread_mutex_destroy(&h->tx_mu);
	pthread_mutex_destroy(&h->rx_mu);
	free(h);
}

/* One end of the instance at off: the client's (pre NULL: new slots) or
 * the server's (its held slots). Takes fd. */
static int mp_end(int fd, uint64_t off, bool server, bool nonblock, struct ipc_msgpipe **out)
{
	struct ipc_msgpipe *h = calloc(1, sizeof(*h));
	int rc;

	if (!h) {
		close(fd);
		return IPC_ENOMEM;
	}
	h->fd = fd;
	h->off = off;
	h->nonblock = nonblock;
	pthread_mutex_init(&h->tx_mu, NULL);
	pthread_mutex_init(&h->rx_mu, NULL);
	h->forkgen = ipc__fork_gen();
	rc = mp_inst_open(fd, off, &h->inst, &h->size);
	if (rc == 0)
		rc = ipc__shmbuf_attach_at(
		    fd, h->inst->c2s_off, server ? IPC_SHMBUF_CONSUMER : IPC_SHMBUF_PRODUCER,
		    server ? &h->inst->srv_cons : NULL, server ? &h->rx : &h->tx);
	if (rc == 0)
		rc = ipc__shmbuf_attach_at(
		    fd, h->inst->s2c_off, server ? IPC_SHMBUF_PRODUCER : IPC_SHMBUF_CONSUMER,
		    server ? &h->inst->srv_prod : NULL, server ? &h->tx : &h->rx);
	if (rc < 0) {
		mp_handle_free(h);
		return rc;
	}
	ipc__shmbuf_set_intr(h->tx, true);
	ipc__shmbuf_set_intr(h->rx, true);
	*out = h;
	return 0;
}

/* The last end to close gives the region back. */
static void mp_release_end(struct mp_inst *in, int fd, uint64_t off, uint64_t size)
{
	if (atomic_fetch_sub_explicit(&in->ends, 1, memory_order_acq_rel) == 1)
		ipc__shm_reclaim(fd, off, size);
}

int ipc_msgpipe_ref_close(struct ipc_msgpipe *h)
{
	IPC_ENSURE(h != NULL, IPC_EINVAL);
	/* In a forked child the handle is a copy: the end is the parent's. */
	if (h->forkgen != ipc__fork_gen()) {
		h->tx = h->rx = NULL; /* detach in a child frees only its copy */
	} else {
		(void)ipc_shmbuf_detach(h->tx);
		(void)ipc_shmbuf_detach(h->rx);
		h->tx = h->rx = NULL;
		mp_release_end(h->inst, h->fd, h->off, h->size);
	}
	mp_handle_free(h);
	return 0;
}

/* ---- connect ----------------------------------------------------------------------------------
 */

/* Open the name's file and map its listener. */
static int mp_open_name(const char *name, int *fd, struct mp_listener **hdr)
{
	char path[4096];
	struct stat st;

	IPC_GUARD(ipc__tmp_path(name, path, sizeof(path)));
	/* O_NONBLOCK: a FIFO at the path must not make open(2) wait. */
	*fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (*fd < 0)
		return errno == ENOENT ? IPC_ENOENT : IPC_MSGPIPE_ENOSERVER;
	if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < MP_PAGE ||
	    mp_map(*fd, 0, (void **)hdr) < 0) {
		close(*fd);
		return IPC_MSGPIPE_ENOSERVER; /* not a listener of ours: nobody serves it */
	}
	if ((*hdr)->magic != MP_MAGIC || (*hdr)->version != MP_VERSION || (*hdr)->max_msg == 0 ||
	    (*hdr)->max_msg > IPC_MSGPIPE_REF_MAX_MSG) {
		ipc__shm_unmap(*hdr, MP_PAGE);
		close(*fd);
		return IPC_MSGPIPE_ENOSERVER;
	}
	return 0;
}

/* Make the instance and the client's end, under the listener lock. */
static int mp_connect_locked(int fd, struct mp_listener *hdr, uint32_t max, uint32_t flags,
			     struct ipc_msgpipe **out, uint64_t *off)
{
	struct ipc_shmbuf_attr up = mp_ring_attr(max), down = mp_ring_attr(hdr->max_msg);
	uint64_t c2s, s2c, start;
	uint32_t head = atomic_load_explicit(&hdr->q_head, memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(&hdr->q_tail, memory_order_relaxed);
	pid_t pid;
	int rc, own;

	IPC_GUARD(mp_server_id(hdr, &pid, &start));
	IPC_ENSURE(tail - head <= MP_QUEUE, IPC_EUCLEAN);
	IPC_ENSURE(tail - head < MP_QUEUE, IPC_EAGAIN); /* the backlog is full */
	IPC_GUARD(ipc__shmbuf_footprint(&up, &c2s));
	IPC_GUARD(ipc__shmbuf_footprint(&down, &s2c));
	IPC_GUARD(mp_reserve(fd, hdr, mp_inst_size(c2s, s2c), off));
	/* Failure point (fault builds only): the instance cannot be made. */
	rc = fiu_fail("ipc/msgpipe/instance")
		 ? IPC_ENOMEM
		 : mp_inst_format(fd, *off, c2s, max, hdr->max_msg, pid, start);
	own = rc == 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
	if (rc == 0 && own < 0)
		rc = IPC_EMFILE;
	if (rc == 0)
		rc = mp_end(own, *off, false, flags & IPC_MSGPIPE_NONBLOCK, out);
	if (rc < 0) {
		ipc__shm_reclaim(fd, *off,
				 mp_inst_size(c2s, s2c)); /* never queued: nobody maps it */
		return rc;
	}
	hdr->queue[tail % MP_QUEUE] = *off;
	atomic_store_explicit(&hdr->q_tail, tail + 1, memory_order_relaxed);
	return 0;
}

int ipc_msgpipe_ref_connect(const char *name, const struct ipc_msgpipe_attr *attr,
			    struct ipc_msgpipe **out)
{
	struct mp_listener *hdr;
	uint32_t flags, max;
	uint64_t off;
	int fd, rc;

	IPC_ENSURE(out != NULL, IPC_EINVAL);
	IPC_GUARD(mp_attr(attr, &flags, &max));
	IPC_GUARD(mp_open_name(name, &fd, &hdr));
	rc = mp_lock(fd, NULL);
	if (rc == 0) {
		rc = mp_connect_locked(fd, hdr, max, flags, out, &off);
		mp_unlock(fd, NULL);
	}
	if (rc == 0)
		ipc__futex_bump_wake_all(&hdr->accept_seq);
	ipc__shm_unmap(hdr, MP_PAGE);
	close(fd);
	return rc;
}

/* ---- accept / server_close --------------------------------------------------------------------
 */

static int mp_check_server(const struct ipc_msgpipe_server *s)
{
	IPC_ENSURE(s != NULL, IPC_EINVAL);
	IPC_ENSURE(s->forkgen == ipc__fork_gen(), IPC_EBADF);
	return 0;
}

/* Take the oldest waiting connection's offset: 0, or 1 when none waits
 * (*seq then holds the value to sleep on). */
static int mp_dequeue(struct ipc_msgpipe_server *s, uint64_t *off, uint32_t *seq)
{
	struct mp_listener *hdr = s->hdr;
	uint32_t head, tail;
	int rc;

	IPC_GUARD(mp_lock(s->fd, &s->mu));
	/* acquire: pairs with connect's bump; read before the queue is. */
	*seq = atomic_load_explicit(&hdr->accept_seq, memory_order_acquire);
	head = atomic_load_explicit(&hdr->q_head, memory_order_relaxed);
	tail = atomic_load_explicit(&hdr->q_tail, memory_order_relaxed);
	rc = tail - head > MP_QUEUE ? IPC_EUCLEAN : tail == head ? 1 : 0;
	if (rc == 0) {
		*off = hdr->queue[head % MP_QUEUE];
		atomic_store_explicit(&hdr->q_head, head + 1, memory_order_relaxed);
	}
	mp_unlock(s->fd, &s->mu);
	return rc;
}

/* The server's end of the instance at off. */
static int mp_server_end(struct ipc_msgpipe_server *s, uint64_t off, struct ipc_msgpipe **out)
{
	int own = fcntl(s->fd, F_DUPFD_CLOEXEC, 0);

	IPC_ENSURE(own >= 0, IPC_EMFILE);
	return mp_end(own, off, true, s->flags & IPC_MSGPIPE_NONBLOCK, out);
}

int ipc_msgpipe_ref_accept(struct ipc_msgpipe_server *s, int64_t timeout_ns,
			   struct ipc_msgpipe **out)
{
	int64_t deadline = ipc__deadline(timeout_ns);
	uint64_t off;
	uint32_t seq;
	int rc;

	IPC_GUARD(mp_check_server(s));
	IPC_ENSURE(out != NULL && timeout_ns >= -1, IPC_EINVAL);
	for (;;) {
		rc = mp_dequeue(s, &off, &seq);
		if (rc < 0)
			return rc;
		/* A connection whose instance is corrupt is dropped, not served:
		 * one bad client must not stop the others being accepted. */
		if (rc == 0 && (rc = mp_server_end(s, off, out)) != IPC_EUCLEAN)
			return rc;
		if (rc == IPC_EUCLEAN)
			continue;
		if (timeout_ns == 0)
			return IPC_EAGAIN;
		rc = ipc__futex_wait_intr(&s->hdr->accept_seq, seq, deadline);
		if (rc == IPC_EINTR && !ipc__sig_restarts())
			return IPC_EINTR; /* SA_RESTART restarts it, as accept(2) */
		if (rc == IPC_ETIMEDOUT)
			return ipc__expired_code(timeout_ns);
	}
}

/* A connection never accepted: the server's held slots are let go (its
 * client then sees end of data and -EPIPE) and the server's end counted closed. */
static void mp_refuse(struct ipc_msgpipe_server *s, uint64_t off)
{
	struct ipc_msgpipe *h;

	if (mp_server_end(s, off, &h) == 0)
		(void)ipc_msgpipe_ref_close(h);
}

int ipc_msgpipe_ref_server_close(struct ipc_msgpipe_server *s)
{
	uint64_t off;
	uint32_t seq;

	IPC_ENSURE(s != NULL, IPC_EINVAL);
	if (s->forkgen == ipc__fork_gen()) {
		/* Stop listening first: no connect queues behind the drain. */
		ipc__ptab_release(s->hdr->ptab, s->idx, s->token);
		while (mp_dequeue(s, &off, &seq) == 0)
			mp_refuse(s, off);
		ipc__futex_bump_wake_all(&s->hdr->accept_seq);
	}
	mp_server_free(s);
	return 0;
}

/* ---- messages ---------------------------------------------------------------------------------
 */

static int mp_check(const struct ipc_msgpipe *h)
{
	IPC_ENSURE(h != NULL, IPC_EINVAL);
	IPC_ENSURE(h->forkgen == ipc__fork_gen_now(), IPC_EBADF);
	return 0;
}

ssize_t ipc_msgpipe_ref_send(struct ipc_msgpipe *h, const void *buf, size_t len)
{
	int rc;

	IPC_GUARD(mp_check(h));
	pthread_mutex_lock(&h->tx_mu);
	rc = ipc_shmbuf_put(h->tx, buf, len, h->nonblock ? 0 : IPC_TIMEOUT_INFINITE);
	pthread_mutex_unlock(&h->tx_mu);
	return rc < 0 ? rc : (ssize_t)len;
}

ssize_t ipc_msgpipe_ref_recv(struct ipc_msgpipe *h, void *buf, size_t cap)
{
	ssize_t n;

	IPC_GUARD(mp_check(h));
	pthread_mutex_lock(&h->rx_mu);
	n = ipc_shmbuf_get(h->rx, buf, cap, h->nonblock ? 0 : IPC_TIMEOUT_INFINITE);
	pthread_mutex_unlock(&h->rx_mu);
	return n;
}

ssize_t ipc_msgpipe_ref_next_size(struct ipc_msgpipe *h)
{
	ssize_t n;

	IPC_GUARD(mp_check(h));
	pthread_mutex_lock(&h->rx_mu);
	n = ipc__shmbuf_peek(h->rx);
	pthread_mutex_unlock(&h->rx_mu);
	return n;
}

int ipc_msgpipe_ref_set_nonblock(struct ipc_msgpipe *h, int on)
{
	IPC_GUARD(mp_check(h));
	h->nonblock = on != 0;
	return 0;
}

int ipc_msgpipe_ref_unlink(const char *name)
{
	char path[4096];

	IPC_GUARD(ipc__tmp_path(name, path, sizeof(path)));
	return unlink(path) < 0 ? mp_errno() : 0;
}

int ipc_msgpipe_ref_validate(struct ipc_msgpipe *h)
{
	struct mp_inst *in;
	uint64_t size;
	int rc;

	IPC_GUARD(mp_check(h));
	IPC_GUARD(mp_inst_open(h->fd, h->off, &in, &size));
	rc = size == h->size && atomic_load(&in->ends) <= 2 ? 0 : IPC_EUCLEAN;
	ipc__shm_unmap(in, MP_PAGE);
	IPC_GUARD(rc);
	IPC_GUARD(ipc_shmbuf_validate(h->tx));
	return ipc_shmbuf_validate(h->rx);
}

/* ---- the subject ------------------------------------------------------------------------------
 */

static const struct ipc_msgpipe_ops mp_ops = {
    .create = ipc_msgpipe_ref_create,
    .server_close = ipc_msgpipe_ref_server_close,
    .accept = ipc_msgpipe_ref_accept,
    .connect = ipc_msgpipe_ref_connect,
    .close = ipc_msgpipe_ref_close,
    .send = ipc_msgpipe_ref_send,
    .recv = ipc_msgpipe_ref_recv,
    .next_size = ipc_msgpipe_ref_next_size,
    .set_nonblock = ipc_msgpipe_ref_set_nonblock,
    .unlink = ipc_msgpipe_ref_unlink,
};

const struct ipc_subject ipc__subject_ref_msgpipe = {
    .abi_version = IPC_SUBJECT_ABI_VERSION,
    .struct_size = sizeof(struct ipc_subject),
    .name = "ref-msgpipe",
    .mechanism = IPC_MECH_MSGPIPE,
    .caps = IPC_MSGPIPE_CAP_BLOCKING | IPC_MSGPIPE_CAP_NONBLOCK | IPC_MSGPIPE_CAP_CROSS_PROCESS |
	    IPC_MSGPIPE_CAP_MULTI_SENDER | IPC_MSGPIPE_CAP_NEXT_SIZE | IPC_MSGPIPE_CAP_PEER_DEATH,
    .ops = &mp_ops,
    .summary =
	"reference message pipe: a listener file with an arena of instances, each two "
	"ref-shmbuf rings (one message per item); server slots held in its name until accept",
};
