/* SPDX-License-Identifier: MIT */
/* Harness support for the mailbox mechanism: capability names, setup
 * wrappers and cleanup (handles, then names). */
#include "ipct.h"

/* The names of the capability bits of spec/mailbox.h, in bit order. */
const char *const ipct__mailbox_caps[] = {
	"blocking",     "nonblock",    "timed",         "zero",        "bounded",
	"unbounded",    "cross-process", "end-of-stream", "direct",    "remove-wakes",
	"persistence",  "permissions", "peer-death",    "restart",     "mem-limit",
	NULL,
};

#define IPCT_MAILBOX_MAX 64

static struct ipc_mailbox *ipct__mb_handles[IPCT_MAILBOX_MAX];
static size_t ipct__mb_nhandles;
static const char *ipct__mb_names[IPCT_MAILBOX_MAX];
static size_t ipct__mb_nnames;

const struct ipc_mailbox_ops *ipct_mailbox(void)
{
	if (ipct_subject()->mechanism != IPC_MECH_MAILBOX)
		cr_assert_fail("BROKEN: subject %s is not of this test's mechanism",
			       ipct_subject()->name);
	return ipct_subject()->ops;
}

static void ipct__mb_track(void **slots, size_t *n, void *p)
{
	if (*n == IPCT_MAILBOX_MAX)
		cr_assert_fail("BROKEN: too many mailbox objects in one test");
	slots[(*n)++] = p;
}

const char *ipct_mailbox_name(void)
{
	const char *name = ipct_name();
	ipct__mb_track((void **)ipct__mb_names, &ipct__mb_nnames, (void *)name);
	return name;
}

/* The capability a capacity needs. */
static uint64_t ipct__mb_capacity_cap(size_t capacity)
{
	if (capacity == 0)
		return IPC_MAILBOX_CAP_ZERO;
	return capacity == IPC_MAILBOX_UNBOUNDED ? IPC_MAILBOX_CAP_UNBOUNDED : IPC_MAILBOX_CAP_BOUNDED;
}

const char *ipct_mailbox_create_attr(const struct ipc_mailbox_attr *attr)
{
	IPCT_REQUIRE(ipct__mb_capacity_cap(attr->capacity));
	const char *name = ipct_mailbox_name();
	SAFE_RC(ipct_mailbox()->create(name, attr));
	return name;
}

const char *ipct_mailbox_create(size_t capacity, size_t max_msg)
{
	struct ipc_mailbox_attr attr = {
		.capacity = capacity, .max_msg = max_msg ? max_msg : 4096, .mode = 0600, .mem_limit = 0
	};
	return ipct_mailbox_create_attr(&attr);
}

struct ipc_mailbox *ipct_mailbox_open(const char *name, uint32_t flags)
{
	struct ipc_mailbox *h = NULL;
	SAFE_RC(ipct_mailbox()->open(name, flags, &h));
	ipct__mb_track((void **)ipct__mb_handles, &ipct__mb_nhandles, h);
	return h;
}

int ipct_mailbox_close(struct ipc_mailbox *h)
{
	for (size_t i = 0; i < ipct__mb_nhandles; i++)
		if (ipct__mb_handles[i] == h)
			ipct__mb_handles[i] = NULL;
	return ipct_mailbox()->close(h);
}

ipc_mailbox_id ipct_mailbox_id(struct ipc_mailbox *h)
{
	ipc_mailbox_id id = 0;
	SAFE_RC(ipct_mailbox()->self_id(h, &id));
	return id;
}

/* A thread party still inside a call (stuck) may use the handles: leak
 * them, but remove the names, which no call uses. */
void ipct__mailbox_teardown(bool stuck)
{
	for (size_t i = 0; i < ipct__mb_nhandles && !stuck; i++)
		if (ipct__mb_handles[i] != NULL)
			ipct_mailbox()->close(ipct__mb_handles[i]);
	for (size_t i = 0; i < ipct__mb_nnames; i++)
		ipct_mailbox()->unlink(ipct__mb_names[i]);
	ipct__mb_nhandles = ipct__mb_nnames = 0;
}

/* ---- appended: queues, at-once timeouts, marked calls in a thread ------- */

const char *ipct_mailbox_create_queue(size_t max_msg)
{
	if (ipct_has(IPC_MAILBOX_CAP_BOUNDED))
		return ipct_mailbox_create(4, max_msg);
	if (ipct_has(IPC_MAILBOX_CAP_UNBOUNDED))
		return ipct_mailbox_create(IPC_MAILBOX_UNBOUNDED, max_msg);
	IPCT_REQUIRE(IPC_MAILBOX_CAP_BOUNDED);
	return NULL;
}

int64_t ipct_mailbox_at_once(void)
{
	return ipct_has(IPC_MAILBOX_CAP_NONBLOCK) ? 0 : -1;
}

static int ipct__mb_call_main(void *arg)
{
	struct ipct_mailbox_call *c = arg;
	c->who = ipct_thread_self();
	ipct_party_enter_call();
	long rc = c->send ? ipct_mailbox()->send(c->h, c->buf, c->len, c->timeout_ns)
			  : ipct_mailbox()->recv(c->h, c->buf, sizeof c->buf, c->timeout_ns);
	ipct_party_leave_call();
	atomic_store(&c->rc, rc);
	atomic_store(&c->returned, true);
	return 0;
}

static struct ipct_mailbox_call *ipct__mb_call(struct ipc_mailbox *h, bool send, const void *msg,
					       size_t len, int64_t timeout_ns)
{
	struct ipct_mailbox_call *c = ipct_shared(sizeof *c);
	if (len > sizeof c->buf)
		cr_assert_fail("BROKEN: a marked send of %zu bytes (at most %zu)", len,
			       sizeof c->buf);
	c->h = h;
	c->send = send;
	c->len = len;
	c->timeout_ns = timeout_ns;
	if (len)
		memcpy(c->buf, msg, len);
	c->party = ipct_thread_start(ipct__mb_call_main, c);
	return c;
}

struct ipct_mailbox_call *ipct_mailbox_send_thread(struct ipc_mailbox *h, const void *msg,
						   size_t len, int64_t timeout_ns)
{
	return ipct__mb_call(h, true, msg, len, timeout_ns);
}

struct ipct_mailbox_call *ipct_mailbox_recv_thread(struct ipc_mailbox *h, int64_t timeout_ns)
{
	return ipct__mb_call(h, false, NULL, 0, timeout_ns);
}

bool ipct_mailbox_call_blocks(struct ipct_mailbox_call *c)
{
	return ipct_party_wait_blocked(c->party, 2000) && !atomic_load(&c->returned);
}

long ipct_mailbox_call_result(struct ipct_mailbox_call *c)
{
	if (ipct_party_wait(c->party, 5000) != 0 || !atomic_load(&c->returned))
		cr_assert_fail("the marked %s had not returned 5 s after it should have",
			       c->send ? "send" : "recv");
	return atomic_load(&c->rc);
}

int ipct_mailbox_timeouts(int64_t t[3])
{
	int n = 0;
	if (ipct_has(IPC_MAILBOX_CAP_NONBLOCK))
		t[n++] = 0;
	if (ipct_has(IPC_MAILBOX_CAP_TIMED))
		t[n++] = IPCT_MS(ipct_scaled_ms(5000));
	if (ipct_has(IPC_MAILBOX_CAP_BLOCKING))
		t[n++] = -1;
	if (n == 0)
		t[n++] = -1; /* what any call accepts */
	return n;
}
