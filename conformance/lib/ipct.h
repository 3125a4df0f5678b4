/* SPDX-License-Identifier: MIT */
/*
 * ipct: the conformance harness, as tests see it.
 *
 * A test reaches its subject only through spec/ (the operations table and its
 * capability bits). The subject is chosen per runner invocation by the
 * environment (IPCSPEC_SUBJECT = a bundled name or a path to an adapter .so),
 * so each subject × clause cell can be reproduced alone.
 *
 * Rules every test follows:
 *  - IPCT_REQUIRE(caps) first: a missing capability is UNSUPPORTED, with reason.
 *  - SAFE_* for setup (a failure there is reported BROKEN);
 *    EXPECT_* for the call under test, so the body reads as the clause.
 *  - Names come from ipct_name(); parties from ipct_party_start(); shared
 *    scratch memory from ipct_shared(). The fixture removes all of them, even
 *    when the test fails.
 *  - Never sleep to synchronise: ipct_party_wait_blocked() observes the peer
 *    asleep in the kernel, with a deadline; checkpoints order parties.
 */
#ifndef IPCSPEC_IPCT_H
#define IPCSPEC_IPCT_H

#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ipc_errors.h"
#include "ipc_subject.h"
#include "pipe.h"
#include "shmbuf.h"

/* ---- subject ------------------------------------------------------------ */

const struct ipc_subject *ipct_subject(void);
const struct ipc_shmbuf_ops *ipct_shmbuf(void);
const struct ipc_pipe_ops *ipct_pipe(void);
/* "shmbuf", "pipe": the Criterion suite and spec file of s's mechanism. */
const char *ipct_mechanism_name(const struct ipc_subject *s);
/* The suites that judge s ("pipe", or "fifo pipe": a FIFO's pipe view). */
const char *ipct_subject_suites(const struct ipc_subject *s);
/* The capability bits and mechanism the running test sees (the pipe view's
 * while a pipe test runs against a FIFO subject). */
uint64_t ipct_caps(void);
uint32_t ipct_view_mechanism(void);
bool ipct_has(uint64_t caps);
/* Does the subject work across processes (its mechanism's cross-process bit)? */
bool ipct_cross_process(void);
/* Comma-separated names of the bits in caps ("blocking, mpmc"). */
const char *ipct_cap_names(uint64_t caps, char *buf, size_t len);
void ipct__unsupported(uint64_t missing);

/* Report the clause UNSUPPORTED unless the subject has every bit of caps. */
#define IPCT_REQUIRE(need)                                                    \
	do {                                                                      \
		uint64_t ipct__need_ = (uint64_t)(need);                              \
		if ((ipct_caps() & ipct__need_) != ipct__need_)                       \
			ipct__unsupported(ipct__need_ & ~ipct_caps());                    \
	} while (0)

/* ---- names, memory, time ------------------------------------------------ */

/* A fresh object name, unique per run and test, unlinked by the fixture. */
const char *ipct_name(void);
/* Zeroed MAP_SHARED memory that forked parties see too. */
void *ipct_shared(size_t len);
int64_t ipct_now_ns(void);
/* A duration scaled by IPCSPEC_TIME_MULTIPLIER (slow tools: valgrind, ASan). */
int64_t ipct_scaled_ms(int64_t ms);
bool ipct_under_valgrind(void);

#define IPCT_MS(ms) ((int64_t)(ms) * 1000000)

/* ---- parties ------------------------------------------------------------ */

/* A producer or consumer running concurrently with the test body: a forked
 * process when the subject is cross-process (or when kill -9 is needed),
 * else a thread. fn's return value (0..255) is its exit status; a process
 * party ends with _exit() and never touches Criterion. */
typedef int (*ipct_party_fn)(void *arg);
struct ipct_party;

struct ipct_party *ipct_party_start(ipct_party_fn fn, void *arg);
struct ipct_party *ipct_process_start(ipct_party_fn fn, void *arg);
struct ipct_party *ipct_thread_start(ipct_party_fn fn, void *arg);
/* Exit status (0..255), 128+signal if killed, -ETIMEDOUT if still running
 * after timeout_ms (scaled); a process is then killed and reaped. */
int ipct_party_wait(struct ipct_party *p, int64_t timeout_ms);
void ipct_party_kill(struct ipct_party *p);
/* Where a process party is, for a failure message: whether its function has
 * returned, its state letter and wait channel from /proc. Returns buf. */
const char *ipct_party_describe(struct ipct_party *p, char *buf, size_t len);
/* A running process party's stacks on stderr (gdb, if installed): for a
 * failure that names a party stuck where it should not be. */
void ipct_party_backtrace(struct ipct_party *p);
/* Both of the above for n parties, on stderr; what says who they are. */
void ipct_party_dump(struct ipct_party *const *p, size_t n, const char *what);
/* Mark, from inside the party, the call whose blocking the test observes. */
void ipct_party_enter_call(void);
void ipct_party_leave_call(void);
/* True once the party is inside its marked call and asleep in the kernel;
 * false if the deadline passes first or the call has returned. */
bool ipct_party_wait_blocked(struct ipct_party *p, int64_t timeout_ms);
/* True while the party is inside its marked call. */
bool ipct_party_in_call(struct ipct_party *p);

/* A one-shot event between parties (threads or processes). */
struct ipct_event {
	_Atomic uint32_t state;
};
struct ipct_event *ipct_event_new(void);
void ipct_event_set(struct ipct_event *e);
/* 0 when set, -ETIMEDOUT after timeout_ms (scaled). */
int ipct_event_wait(struct ipct_event *e, int64_t timeout_ms);
/* 0 when set; -ETIMEDOUT once *progress has not moved for stall_ms or
 * timeout_ms has passed (both scaled): for an event that a lost message
 * would keep from ever being set, so a loss costs a stall, not the timeout. */
int ipct_event_wait_progress(struct ipct_event *e, _Atomic uint32_t *progress, int64_t stall_ms,
			     int64_t timeout_ms);

/* ---- fixture ------------------------------------------------------------ */

void ipct_setup(void);
void ipct_teardown(void);

/* Every suite: one fixture and a timeout (Criterion's --timeout only lowers). */
#define IPCT_SUITE(suite, seconds)                                            \
	TestSuite(suite, .init = ipct_setup, .fini = ipct_teardown,               \
		  .timeout = (seconds))

/* ---- expectations ------------------------------------------------------- */

const char *ipct_rc_text(long rc, char *buf, size_t len);

/* The call under test returns exactly want (a count or an IPC_E* code); the
 * failure message shows the call as written, not macro-expanded. */
#define IPCT__EXPECT(text, call, want)                                        \
	do {                                                                      \
		long ipct__rc_ = (long)(call), ipct__want_ = (long)(want);            \
		char ipct__a_[48], ipct__b_[48];                                      \
		cr_assert(ipct__rc_ == ipct__want_, "%s returned %s, expected %s",   \
			  text, ipct_rc_text(ipct__rc_, ipct__a_, 48),                    \
			  ipct_rc_text(ipct__want_, ipct__b_, 48));                       \
	} while (0)

#define EXPECT_RC(call, want) IPCT__EXPECT(#call, call, want)
#define EXPECT_OK(call) IPCT__EXPECT(#call, call, 0)
#define EXPECT_ERR(call, err) IPCT__EXPECT(#call, call, err)

/* Setup that must work for the test to mean anything: failure is BROKEN. */
#define SAFE_RC(call)                                                         \
	({                                                                        \
		long ipct__s_ = (long)(call);                                         \
		char ipct__t_[48];                                                    \
		if (ipct__s_ < 0)                                                     \
			cr_assert_fail("BROKEN: setup %s failed: %s", #call,                    \
				 ipct_rc_text(ipct__s_, ipct__t_, 48));                        \
		ipct__s_;                                                             \
	})

/* ---- shmbuf setup helpers ----------------------------------------------- */

/* Create a fresh named buffer (unlinked by the fixture); returns its name. */
const char *ipct_shmbuf_create(size_t capacity, size_t max_item, size_t mem_limit);
/* Attach, BROKEN on failure; the fixture detaches what the test did not. */
struct ipc_shmbuf *ipct_shmbuf_attach(const char *name, int role);
/* Detach a handle made by ipct_shmbuf_attach (0 or the subject's error). */
int ipct_shmbuf_detach(struct ipc_shmbuf *h);

#define SAFE_CREATE(cap, max) ipct_shmbuf_create((cap), (max), 0)
#define SAFE_PRODUCER(name) ipct_shmbuf_attach((name), IPC_SHMBUF_PRODUCER)
#define SAFE_CONSUMER(name) ipct_shmbuf_attach((name), IPC_SHMBUF_CONSUMER)
#define SAFE_PUT(h, item, len)                                                \
	SAFE_RC(ipct_shmbuf()->put((h), (item), (len), 0))
#define SAFE_DETACH(h) SAFE_RC(ipct_shmbuf_detach(h))

/* A self-checking item: seq, producer id, length and a pattern derived from
 * them, so torn, altered or misrouted items are caught by content. */
struct ipct_item_hdr {
	uint32_t producer;
	uint32_t seq;
	uint32_t len;
	uint32_t check;
};
size_t ipct_item_fill(void *buf, size_t len, uint32_t producer, uint32_t seq);
/* 0 when buf holds a well-formed item; fills producer and seq. */
int ipct_item_check(const void *buf, size_t len, uint32_t *producer, uint32_t *seq);

#include "ipct_pipe.h"
#include "ipct_fifo.h"
#include "ipct_msgpipe.h"
#include "ipct_mailbox.h"
#include "ipct_socket.h"
#include "ipct_framing.h"

#endif
