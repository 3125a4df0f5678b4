/* SPDX-License-Identifier: MIT */
/* Pipe handles made by a test (closed by the fixture if the test did not),
 * byte patterns, fill and drain setup, and signal counting. */
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ipct.h"
#include "ipct_internal.h"

#define IPCT_PIPE_MAX 256
#define IPCT_FILL_LIMIT ((size_t)1 << 30) /* a pipe that takes more never fills */

static struct ipc_pipe *ipct__ends[IPCT_PIPE_MAX];
static size_t ipct__nends;
static const char *ipct__pipe_names[IPCT_PIPE_MAX];
static size_t ipct__npipe_names;
static pid_t ipct__owner; /* the test's process: a party elsewhere was forked */

static void ipct__track_end(struct ipc_pipe *end)
{
	if (ipct__nends == IPCT_PIPE_MAX)
		cr_assert_fail("BROKEN: too many pipe handles in one test");
	ipct__ends[ipct__nends++] = end;
}

void ipct_pipe_make(uint32_t flags, struct ipc_pipe **rd, struct ipc_pipe **wr)
{
	const char *name = ipct_name();
	struct ipc_pipe_attr attr = { .flags = flags, .capacity = 0 };
	ipct__owner = getpid();
	if (ipct__npipe_names < IPCT_PIPE_MAX)
		ipct__pipe_names[ipct__npipe_names++] = name;
	SAFE_RC(ipct_pipe()->create(name, &attr, rd, wr));
	ipct__track_end(*rd);
	ipct__track_end(*wr);
}

static bool ipct__forget(struct ipc_pipe *end)
{
	for (size_t i = 0; i < ipct__nends; i++)
		if (ipct__ends[i] == end) {
			ipct__ends[i] = NULL;
			return true;
		}
	return false;
}

int ipct_pipe_close(struct ipc_pipe *end)
{
	ipct__forget(end);
	return ipct_pipe()->close(end);
}

struct ipc_pipe *ipct_pipe_dup(struct ipc_pipe *end)
{
	struct ipc_pipe *out = NULL;
	SAFE_RC(ipct_pipe()->dup(end, &out));
	ipct__track_end(out);
	return out;
}

void ipct_pipe_keep(struct ipc_pipe *a, struct ipc_pipe *b)
{
	if (getpid() == ipct__owner)
		return; /* a thread party: the handles are the test's own */
	for (size_t i = 0; i < ipct__nends; i++)
		if (ipct__ends[i] != NULL && ipct__ends[i] != a && ipct__ends[i] != b) {
			ipct_pipe()->close(ipct__ends[i]);
			ipct__ends[i] = NULL;
		}
}

void ipct_pipe_close_others(struct ipc_pipe *keep)
{
	ipct__owner = 0; /* documented for forked parties: always close */
	ipct_pipe_keep(keep, NULL);
}

/* Names go too: a subject may back a pipe with a named object. */
void ipct__pipe_teardown(bool stuck)
{
	for (size_t i = 0; i < ipct__nends && !stuck; i++)
		if (ipct__ends[i] != NULL)
			ipct_pipe()->close(ipct__ends[i]);
	for (size_t i = 0; i < ipct__npipe_names; i++)
		if (ipct_pipe()->unlink != NULL)
			ipct_pipe()->unlink(ipct__pipe_names[i]);
	ipct__nends = ipct__npipe_names = 0;
}

/* ---- byte streams ------------------------------------------------------- */

static unsigned char ipct__pattern_byte(uint32_t stream, uint64_t off)
{
	uint32_t x = (uint32_t)(off ^ (off >> 32)) * 2654435761u ^ (stream + 1) * 0x85ebca77u;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	return (unsigned char)(x >> 24);
}

void ipct_pattern(void *buf, size_t len, uint32_t stream, uint64_t off)
{
	unsigned char *b = buf;
	for (size_t i = 0; i < len; i++)
		b[i] = ipct__pattern_byte(stream, off + i);
}

long ipct_pattern_check(const void *buf, size_t len, uint32_t stream, uint64_t off)
{
	const unsigned char *b = buf;
	for (size_t i = 0; i < len; i++)
		if (b[i] != ipct__pattern_byte(stream, off + i))
			return (long)i;
	return -1;
}

ssize_t ipct_pipe_write_pattern(struct ipc_pipe *wr, size_t len, uint32_t stream, uint64_t off)
{
	unsigned char *buf = malloc(len ? len : 1);
	if (buf == NULL)
		return -ENOMEM;
	ipct_pattern(buf, len, stream, off);
	ssize_t rc = ipct_pipe()->write(wr, buf, len);
	free(buf);
	return rc;
}

ssize_t ipct_pipe_read_full(struct ipc_pipe *rd, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = ipct_pipe()->read(rd, (char *)buf + got, len - got);
		if (n < 0)
			return got ? (ssize_t)got : n;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

size_t ipct_pipe_fill(struct ipc_pipe *wr, uint32_t stream, uint64_t off)
{
	unsigned char buf[IPC_PIPE_BUF];
	size_t total = 0, chunk = IPC_PIPE_BUF;
	SAFE_NONBLOCK(wr, 1);
	while (chunk > 0 && total < IPCT_FILL_LIMIT) {
		ipct_pattern(buf, chunk, stream, off + total);
		ssize_t n = ipct_pipe()->write(wr, buf, chunk);
		if (n == IPC_EAGAIN)
			chunk /= 2;
		else if (n > 0)
			total += (size_t)n;
		else
			SAFE_RC(n == 0 ? -EIO : n);
	}
	if (total >= IPCT_FILL_LIMIT)
		cr_assert_fail("BROKEN: the pipe took %zu bytes and never filled", total);
	SAFE_NONBLOCK(wr, 0);
	return total;
}

void ipct_pipe_put(struct ipc_pipe *wr, size_t len, uint32_t stream, uint64_t off)
{
	unsigned char buf[IPC_PIPE_BUF];
	SAFE_NONBLOCK(wr, 1);
	for (size_t done = 0; done < len;) {
		size_t chunk = len - done < sizeof buf ? len - done : sizeof buf;
		ipct_pattern(buf, chunk, stream, off + done);
		ssize_t n = SAFE_RC(ipct_pipe()->write(wr, buf, chunk));
		done += (size_t)n;
	}
	SAFE_NONBLOCK(wr, 0);
}

size_t ipct_pipe_drain(struct ipc_pipe *rd, void *buf, size_t cap)
{
	static unsigned char scratch[65536];
	size_t total = 0;
	SAFE_NONBLOCK(rd, 1);
	for (;;) {
		unsigned char *dst = scratch;
		size_t want = sizeof scratch;
		if (buf != NULL && total < cap) {
			dst = (unsigned char *)buf + total;
			want = cap - total;
		}
		ssize_t n = ipct_pipe()->read(rd, dst, want);
		if (n == IPC_EAGAIN || n == 0)
			break;
		total += (size_t)SAFE_RC(n);
	}
	SAFE_NONBLOCK(rd, 0);
	return total;
}

size_t ipct_pipe_room(struct ipc_pipe *rd, struct ipc_pipe *wr)
{
	size_t room = ipct_pipe_fill(wr, 0, 0);
	size_t drained = ipct_pipe_drain(rd, NULL, 0);
	if (drained != room)
		cr_assert_fail("BROKEN: filled %zu bytes, drained %zu", room, drained);
	return room;
}

/* ---- signals ------------------------------------------------------------ */

static _Atomic int ipct__caught[NSIG];

static void ipct__count(int sig)
{
	atomic_fetch_add(&ipct__caught[sig], 1);
}

/* Parties call this too, so no Criterion here: sigaction with a valid signal
 * and handler cannot fail; if it ever did, abort shows as a crash. */
static void ipct__disposition(int sig, void (*handler)(int))
{
	struct sigaction sa = { .sa_handler = handler };
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0)
		abort();
}

void ipct_signal_count(int sig)
{
	atomic_store(&ipct__caught[sig], 0);
	ipct__disposition(sig, ipct__count);
}

int ipct_signal_caught(int sig)
{
	return atomic_load(&ipct__caught[sig]);
}

void ipct_signal_ignore(int sig)
{
	ipct__disposition(sig, SIG_IGN);
}

void ipct_signal_default(int sig)
{
	ipct__disposition(sig, SIG_DFL);
}

struct ipct_thread_id ipct_thread_self(void)
{
	return (struct ipct_thread_id){ (int)getpid(), (int)syscall(SYS_gettid) };
}

int ipct_signal_thread(struct ipct_thread_id who, int sig)
{
	return syscall(SYS_tgkill, who.pid, who.tid, sig) == 0 ? 0 : -errno;
}

void ipct_pipe_wait_writer_blocked(struct ipct_party *p, struct ipc_pipe *wr)
{
	int64_t deadline = ipct_now_ns() + IPCT_MS(ipct_scaled_ms(2000));
	ipct_party_wait_blocked(p, 2000);
	if (!ipct_has(IPC_PIPE_CAP_POLL))
		return;
	while (ipct_pipe()->poll(wr, IPC_PIPE_OUT, 0) == IPC_PIPE_OUT && ipct_now_ns() < deadline) {
		struct timespec pause_ts = { 0, 200000 }; /* polling, bounded by the deadline */
		nanosleep(&pause_ts, NULL);
	}
	ipct_party_wait_blocked(p, 2000);
}
