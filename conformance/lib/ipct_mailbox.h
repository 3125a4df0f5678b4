/* SPDX-License-Identifier: MIT */
/*
 * ipct for the mailbox mechanism (spec/mailbox.h): setup wrappers whose
 * handles the fixture closes after the test, even when it failed, and whose
 * names it unlinks. Included by ipct.h.
 *
 * Cross-process tests fork with ipct_process_start(): a child opens the
 * name itself (handles are not assumed to survive fork) and closes what it
 * opened before it returns.
 */
#ifndef IPCSPEC_IPCT_MAILBOX_H
#define IPCSPEC_IPCT_MAILBOX_H

#include <stdbool.h>

#include "mailbox.h"

const struct ipc_mailbox_ops *ipct_mailbox(void);

/* A fresh name that the fixture unlinks after the test. */
const char *ipct_mailbox_name(void);
/* Create a mailbox on a fresh name: capacity (0, n or
 * IPC_MAILBOX_UNBOUNDED), max_msg (0: 4096), mode 0600, no mem_limit;
 * UNSUPPORTED when the subject lacks that capacity's capability, BROKEN on
 * another failure. Returns the name. */
const char *ipct_mailbox_create(size_t capacity, size_t max_msg);
/* The same with a whole attr (mode, mem_limit). */
const char *ipct_mailbox_create_attr(const struct ipc_mailbox_attr *attr);
/* Open name with flags (BROKEN on failure); the fixture closes the handle. */
struct ipc_mailbox *ipct_mailbox_open(const char *name, uint32_t flags);
/* Close a handle made here (the subject's result); it is forgotten. */
int ipct_mailbox_close(struct ipc_mailbox *h);
/* The party's id (BROKEN on failure). */
ipc_mailbox_id ipct_mailbox_id(struct ipc_mailbox *h);

/* Called by the fixture: close what the test left open, remove its names. */
void ipct__mailbox_teardown(bool stuck);

/* Every timeout the subject supports (0, 5 s, -1; -1 when none is
 * claimed): calls that must complete at once are tried with each. */
int ipct_mailbox_timeouts(int64_t t[3]);

/* The call returns want, and at once (well before the 5 s timeouts). */
#define MB_EXPECT_AT_ONCE(call, want)                                                              \
	do {                                                                                       \
		int64_t t0_ = ipct_now_ns();                                                       \
		EXPECT_RC(call, want);                                                             \
		int64_t ms_ = (ipct_now_ns() - t0_) / 1000000;                                     \
		cr_assert(ms_ < ipct_scaled_ms(1000), "%s waited %lld ms", #call, (long long)ms_); \
	} while (0)

#define IPCT_MAILBOX_BOTH (IPC_MAILBOX_SEND | IPC_MAILBOX_RECV)

/* Setup steps: the call must succeed (BROKEN otherwise). */
#define SAFE_MB_SEND(h, msg, len) SAFE_RC(ipct_mailbox()->send((h), (msg), (len), -1))
#define SAFE_MB_RECV(h, buf, cap) SAFE_RC(ipct_mailbox()->recv((h), (buf), (cap), -1))

/* ---- appended: queues, at-once timeouts, marked calls in a thread ------- */

/* Create a mailbox that can hold messages with no receiver waiting: bounded
 * (capacity 4: within the kernel's default limits, mq msg_max 10 and SysV
 * msgmnb 16 KiB = 4 messages of 4096 bytes) when the subject has it, else
 * unbounded; UNSUPPORTED (needs bounded) for a subject with zero capacity
 * only. Returns the name. */
const char *ipct_mailbox_create_queue(size_t max_msg);
/* The timeout for a call that must complete at once: 0 when the subject has
 * IPC_MAILBOX_CAP_NONBLOCK (a wrong wait shows as -EAGAIN), else -1. */
int64_t ipct_mailbox_at_once(void);

/* One send or recv run by a thread party, marked for ipct_party_wait_blocked.
 * In MAP_SHARED memory the fixture frees (never on a stuck party's stack). */
struct ipct_mailbox_call {
	struct ipct_party *party;
	struct ipc_mailbox *h;
	bool send;
	size_t len; /* send: bytes of buf */
	int64_t timeout_ns;
	struct ipct_thread_id who; /* the calling thread, for ipct_signal_thread */
	_Atomic bool returned;
	_Atomic long rc;
	unsigned char buf[256]; /* send: the message; recv: what was received */
};
/* Start send(h, msg, len, timeout_ns) or recv(h, buf, 256, timeout_ns). */
struct ipct_mailbox_call *ipct_mailbox_send_thread(struct ipc_mailbox *h, const void *msg,
						   size_t len, int64_t timeout_ns);
struct ipct_mailbox_call *ipct_mailbox_recv_thread(struct ipc_mailbox *h, int64_t timeout_ns);
/* True once the call is seen asleep in the kernel and has not returned
 * (deadline 2 s, scaled). */
bool ipct_mailbox_call_blocks(struct ipct_mailbox_call *c);
/* Wait (5 s, scaled) for the call to return: its result (a failure if not). */
long ipct_mailbox_call_result(struct ipct_mailbox_call *c);

#endif
