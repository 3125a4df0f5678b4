/* SPDX-License-Identifier: MIT */
/*
 * Mutants: deliberately broken builds of the reference implementations, for
 * the self-test of the conformance suite ("does each test go red when the
 * behaviour it checks is broken?"). Build with -DIPC_MUTANT_ID=<n>; a normal
 * build has IPC_MUTANT_ID 0 and every `if (IPC_MUTANT(X))` folds away.
 *
 * Keep the numbers stable: self-test scripts name mutants by number. The
 * clause each mutant should trip is listed in docs/ref-shmbuf-design.md.
 */
#ifndef IPCSPEC_CORE_MUTANT_H
#define IPCSPEC_CORE_MUTANT_H

#ifndef IPC_MUTANT_ID
#define IPC_MUTANT_ID 0
#endif

enum ipc_mutant_id {
	IPC_MUTANT_NONE = 0,
	IPC_MUTANT_CAP_OFF_BY_ONE = 1,   /* a bounded buffer accepts n + 1 items */
	IPC_MUTANT_LOST_WAKEUP = 2,      /* put never wakes sleepers; sleeps are unsliced */
	IPC_MUTANT_UNVALIDATED_LEN = 3,  /* get trusts the slot length from shared memory */
	IPC_MUTANT_NO_EOD = 4,           /* get never reports IPC_EOD */
	IPC_MUTANT_NO_EPIPE = 5,         /* put without consumers "succeeds", drops the item */
	IPC_MUTANT_TIMEOUT_IGNORED = 6,  /* timed waits (timeout > 0) never expire */
	IPC_MUTANT_NO_LOCK_STEAL = 7,    /* a dead owner's lock is never stolen */
	/* ref-pipe (docs/ref-pipe-design.md) */
	IPC_MUTANT_PIPE_EARLY_EOF = 8,   /* read says EOF on an empty pipe with one writer left */
	IPC_MUTANT_PIPE_NO_SIGPIPE = 9,  /* a write with no reader returns -EPIPE, raises nothing */
	IPC_MUTANT_PIPE_TORN_WRITE = 10, /* writes <= PIPE_BUF go in two halves, lock let go between */
	IPC_MUTANT_PIPE_LOST_WAKEUP_ON_CLOSE = 11, /* last writer's close wakes no reader; unsliced */
	/* native-fifo and native-msgpipe (ids 20+ are left to faults) */
	IPC_MUTANT_FIFO_OPEN_NO_BLOCK = 30, /* a blocking RDONLY/WRONLY open never waits */
	IPC_MUTANT_FIFO_NO_ENXIO = 31,      /* non-blocking WRONLY open with no reader succeeds */
	IPC_MUTANT_FIFO_DATA_SURVIVES = 32, /* a hidden reader per FIFO: bytes outlive the last close */
	IPC_MUTANT_MSGPIPE_MERGED = 33,     /* recv also takes the queued messages that fit */
	IPC_MUTANT_MSGPIPE_SILENT_TRUNCATION = 34, /* short buffer: cap bytes, the rest dropped */
	/* ref-mailbox (docs/ref-mailbox-design.md) */
	IPC_MUTANT_MB_ZERO_EARLY_RETURN = 40, /* a zero-capacity send returns before the hand-off */
	IPC_MUTANT_MB_CAP_OFF_BY_ONE = 41,    /* a bounded mailbox accepts n + 1 messages */
	IPC_MUTANT_MB_LOST_WAKEUP = 42,       /* a queued message wakes nobody; waits unsliced */
	IPC_MUTANT_MB_FROM_TAKES_ANY = 43,    /* recv_from(Q) takes any sender's message */
	IPC_MUTANT_MB_REDELIVER = 44,         /* a leaving receiver's last message is queued again */
	/* reference framing (impl/framing/frame.c) */
	IPC_MUTANT_FRAMING_ONE_READ = 50,    /* decode drops a frame its input did not finish */
	IPC_MUTANT_FRAMING_SHORT_WRITE = 51, /* send takes a short write for the whole frame */
	IPC_MUTANT_FRAMING_CUT_IS_EOD = 52,  /* an end inside a frame is a clean end (IPC_EOD) */
	IPC_MUTANT_FRAMING_LEN_UNCHECKED = 53, /* the length sizes the buffer before max is checked */
	IPC_MUTANT_COUNT_
};

#define IPC_MUTANT(x) (IPC_MUTANT_ID == IPC_MUTANT_##x)

#endif
