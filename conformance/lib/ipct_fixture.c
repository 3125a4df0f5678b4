/* SPDX-License-Identifier: MIT */
/* Per-test bookkeeping: everything a test makes is undone by the fixture. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <valgrind/memcheck.h>

#include "ipct.h"
#include "ipct_internal.h"

#define IPCT_MAX_TRACKED 256

struct ipct_tracked_map {
	void *base;
	size_t len;
};

static char ipct__names[IPCT_MAX_TRACKED][IPC_NAME_MAX + 1];
static size_t ipct__nnames;
static struct ipc_shmbuf *ipct__handles[IPCT_MAX_TRACKED];
static size_t ipct__nhandles;
static struct ipct_party *ipct__parties[IPCT_MAX_TRACKED];
static size_t ipct__nparties;
static struct ipct_tracked_map ipct__maps[IPCT_MAX_TRACKED];
static size_t ipct__nmaps;
static unsigned long ipct__vg_errors;

extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

int64_t ipct_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool ipct_under_valgrind(void)
{
	return RUNNING_ON_VALGRIND != 0;
}

int64_t ipct_scaled_ms(int64_t ms)
{
	const char *m = getenv("IPCSPEC_TIME_MULTIPLIER");
	double k = m ? atof(m) : 1.0;
	if (k < 1.0)
		k = 1.0;
	return (int64_t)((double)ms * k);
}

/* Names carry the run id (so `make` can sweep a killed run), the worker pid
 * and a counter (so parallel workers and tests never collide). */
const char *ipct_name(void)
{
	static unsigned counter;
	if (ipct__nnames == IPCT_MAX_TRACKED)
		cr_assert_fail("BROKEN: too many names in one test");
	const char *run = getenv("IPCSPEC_RUN_ID");
	char *slot = ipct__names[ipct__nnames++];
	snprintf(slot, IPC_NAME_MAX + 1, "/ipcspec-%s-%d-%u", run ? run : "adhoc",
		 (int)getpid(), counter++);
	return slot;
}

void *ipct_shared(size_t len)
{
	if (ipct__nmaps == IPCT_MAX_TRACKED)
		cr_assert_fail("BROKEN: too many shared mappings in one test");
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		cr_assert_fail("BROKEN: mmap of %zu shared bytes failed", len);
	ipct__maps[ipct__nmaps++] = (struct ipct_tracked_map){ p, len };
	return p;
}

void ipct__track_party(struct ipct_party *p)
{
	if (ipct__nparties == IPCT_MAX_TRACKED)
		cr_assert_fail("BROKEN: too many parties in one test");
	ipct__parties[ipct__nparties++] = p;
}

const char *ipct_shmbuf_create(size_t capacity, size_t max_item, size_t mem_limit)
{
	const char *name = ipct_name();
	struct ipc_shmbuf_attr attr = { capacity, max_item, mem_limit };
	SAFE_RC(ipct_shmbuf()->create(name, &attr));
	return name;
}

struct ipc_shmbuf *ipct_shmbuf_attach(const char *name, int role)
{
	struct ipc_shmbuf *h = NULL;
	if (ipct__nhandles == IPCT_MAX_TRACKED)
		cr_assert_fail("BROKEN: too many handles in one test");
	SAFE_RC(ipct_shmbuf()->attach(name, role, &h));
	ipct__handles[ipct__nhandles++] = h;
	return h;
}

int ipct_shmbuf_detach(struct ipc_shmbuf *h)
{
	for (size_t i = 0; i < ipct__nhandles; i++)
		if (ipct__handles[i] == h)
			ipct__handles[i] = NULL;
	return ipct_shmbuf()->detach(h);
}

static void ipct__shmbuf_teardown(bool stuck)
{
	for (size_t i = 0; i < ipct__nhandles && !stuck; i++)
		if (ipct__handles[i] != NULL)
			ipct_shmbuf()->detach(ipct__handles[i]);
	for (size_t i = 0; i < ipct__nnames; i++)
		ipct_shmbuf()->unlink(ipct__names[i]);
}

void ipct_setup(void)
{
	ipct__vg_errors = VALGRIND_COUNT_ERRORS;
	(void)ipct_subject();
}

/* A thread party still running may use handles: then leak them rather than
 * free memory under its feet (the test has failed already). */
static bool ipct__threads_running(void)
{
	for (size_t i = 0; i < ipct__nparties; i++) {
		struct ipct_party *p = ipct__parties[i];
		if (!ipct__party_finished(p) && ipct_party_wait(p, 2000) == -ETIMEDOUT &&
		    !ipct__party_is_process(p))
			return true;
	}
	return false;
}

void ipct_teardown(void)
{
	bool stuck = ipct__threads_running();
	if (ipct_view_mechanism() == IPC_MECH_SHMBUF)
		ipct__shmbuf_teardown(stuck);
	else if (ipct_view_mechanism() == IPC_MECH_PIPE)
		ipct__pipe_teardown(stuck);
	else if (ipct_view_mechanism() == IPC_MECH_FIFO)
		ipct__fifo_teardown(stuck);
	else if (ipct_view_mechanism() == IPC_MECH_MSGPIPE)
		ipct__msgpipe_teardown(stuck);
	else if (ipct_view_mechanism() == IPC_MECH_MAILBOX)
		ipct__mailbox_teardown(stuck);
	else if (ipct_view_mechanism() == IPC_MECH_SOCKET)
		ipct__socket_teardown(stuck);
	else if (ipct_view_mechanism() == IPC_MECH_FRAMING)
		ipct__framing_teardown(stuck);
	for (size_t i = 0; i < ipct__nparties && !stuck; i++)
		free(ipct__parties[i]);
	for (size_t i = 0; i < ipct__nmaps && !stuck; i++)
		munmap(ipct__maps[i].base, ipct__maps[i].len);
	ipct__nhandles = ipct__nnames = ipct__nparties = ipct__nmaps = 0;
	/* Valgrind and LeakSanitizer findings do not fail a Criterion test by
	 * themselves: record the failure, then make the runner see a crash. */
	if (VALGRIND_COUNT_ERRORS != ipct__vg_errors) {
		ipct__record_worker_failure("valgrind reported errors in this test");
		abort();
	}
	if (__lsan_do_recoverable_leak_check && __lsan_do_recoverable_leak_check()) {
		ipct__record_worker_failure("LeakSanitizer found a leak in this test");
		abort();
	}
}

/* ---- self-checking items ------------------------------------------------- */

static uint32_t ipct__mix(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	return x ^ (x >> 16);
}

size_t ipct_item_fill(void *buf, size_t len, uint32_t producer, uint32_t seq)
{
	struct ipct_item_hdr h = { producer, seq, (uint32_t)len, 0 };
	h.check = ipct__mix(producer * 2654435761U ^ seq ^ (uint32_t)len);
	unsigned char *b = buf;
	size_t hl = len < sizeof h ? len : sizeof h;
	memcpy(b, &h, hl);
	for (size_t i = sizeof h; i < len; i++)
		b[i] = (unsigned char)ipct__mix(h.check + (uint32_t)i);
	return len;
}

int ipct_item_check(const void *buf, size_t len, uint32_t *producer, uint32_t *seq)
{
	struct ipct_item_hdr h;
	if (len < sizeof h)
		return -EINVAL;
	memcpy(&h, buf, sizeof h);
	if (h.len != len || h.check != ipct__mix(h.producer * 2654435761U ^ h.seq ^ h.len))
		return -EINVAL;
	const unsigned char *b = buf;
	for (size_t i = sizeof h; i < len; i++)
		if (b[i] != (unsigned char)ipct__mix(h.check + (uint32_t)i))
			return -EINVAL;
	*producer = h.producer;
	*seq = h.seq;
	return 0;
}
