/* SPDX-License-Identifier: MIT */
/*
 * msgpipe_faults: message pipes (spec/msgpipe.h) under forced errors, EINTR
 * storms and peer death, on every bundled subject of mechanism
 * IPC_MECH_MSGPIPE (or the one named by --subject).
 *
 * Every case runs in forked children (a server that creates the name and
 * accepts, a client that connects by name); the parent only makes the name,
 * forks, reaps with deadlines, kills and unlinks, so a hung subject call is
 * reported as a hang instead of hanging the harness. Messages are stamped:
 * message seq of stream id has a length and bytes that are a function of
 * (id, seq), and from 16 bytes on carries (seq, length, FNV-1a of the rest),
 * so the receiver regenerates what it expects and names a torn, duplicated,
 * reordered or lost message. A careful sender retries the same message after
 * a clean error, so "a failed send had an effect" shows as a duplicate and "a
 * send that returned len was not delivered" as a gap.
 *
 * 1. faults: libfiu's POSIX preload (the program re-executes itself under
 *    it) fails the socket calls of both processes at random with EINTR,
 *    EAGAIN, ENOBUFS or ENOMEM (posix/io/net/{sendmsg,send,sendto,recvmsg,
 *    recv,recvfrom,connect,accept,poll}). A sender and a receiver thread at
 *    each end move a stream each way, blocking or non-blocking handles. Per
 *    call: a result during which no fault fired must be the model's; one
 *    during which a fault fired may be any negative errno, with no effect.
 *    Receivers also try a too-small buffer (must be -EMSGSIZE and leave the
 *    message, MSGPIPE-MSG-3), next_size, and senders a message over max_msg.
 *    The client checks it leaked no descriptor, the server that no phantom
 *    instance waits after the client is done. The preload has no short
 *    transfer ("reduce") point for sockets, and ppoll / accept4 are not
 *    wrapped: their EINTR comes from phase 2.
 * 2. eintr: both processes under a SIGALRM every TICK_NS without SA_RESTART;
 *    the server's blocked accept must end -EINTR before the client comes;
 *    then a stream each way with pauses so both sides block. Results: a
 *    whole message, the expected count, or -EINTR with no effect.
 * 3. kill: a client sending at full speed (or blocked on a full instance) is
 *    SIGKILLed; the server must receive only whole messages, in order, every
 *    send that returned (plus perhaps the one in flight), then IPC_EOD within
 *    DEADLINE_NS of the kill, never before it.
 * 4. sweep: the subjects' own points (own_points), the Nth call failed,
 *    one-shot and persistent, under create / connect / accept / a message
 *    each way in one process: a faulted step fails cleanly with no effect
 *    (no name left, no phantom instance, no lost client or message, no
 *    duplicate, no descriptor). --list-points feeds faults/run.sh.
 * Names are /ipcspec-flt-<parent pid>-mp-<n> (fl_name), unlinked after each
 * case whatever happened; leftovers of this pid are counted and removed at
 * the end (faults/run.sh removes them too if the harness itself is killed).
 */
#include <dirent.h>
#include <errno.h>
#include <fiu-control.h>
#include <fiu.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fl_common.h"
#include "msgpipe.h"
#include "pipe_common.h"

#define STAMP         16            /* seq (4), length (4), FNV-1a of the rest (8) */
#define TICK_NS       250000        /* the EINTR storm's period */
#define DEADLINE_NS   2000000000LL  /* kill -> IPC_EOD, a process starting */
#define RUN_NS        40000000000LL /* one whole transfer */
#define ACCEPT_EINTRS 20            /* interrupted accepts before the client comes */
#define MIN_TICKS     20            /* signals inside calls per storm process */
#define MAX_SUBJECTS  16

struct msubj {
	const char *name;
	uint64_t caps;
	const struct ipc_msgpipe_ops *ops;
};

enum side { S_SEND, S_RECV, S_CONN, S_WAIT, NSIDES };
static const char *const side_name[NSIDES] = {"send", "recv", "connect/accept", "poll"};
enum { E_EINTR, E_EAGAIN, E_ENOBUFS, E_ENOMEM, NERRS };
static const int errs[NERRS] = {EINTR, EAGAIN, ENOBUFS, ENOMEM};
static const char *const err_name[NERRS] = {"EINTR", "EAGAIN", "ENOBUFS", "ENOMEM"};
enum check { C_SMALL, C_NEXT, C_BIG, C_CLEAN, NCHECKS };

/* Shared with the children; zeroed before each case. */
struct board {
	_Atomic uint64_t inj[NSIDES][NERRS]; /* faults injected, by call and errno */
	_Atomic uint64_t delivered[2];       /* per direction (0: client -> server) */
	_Atomic uint64_t checks[NCHECKS]; /* -EMSGSIZE probes, next_size, over max, clean errors */
	_Atomic uint64_t eintr[2];        /* -EINTR results, per process (0 client, 1 server) */
	_Atomic uint64_t ticks_in[2];     /* signals landing inside calls, per process */
	_Atomic uint64_t accept_eintr;
	_Atomic int abort;         /* a violation: the parent ends the case at once */
	_Atomic uint64_t progress; /* kill: client sends that returned len */
	_Atomic int stage;         /* server: 1 listening, -1 create failed */
	_Atomic uint64_t connected;
	_Atomic int killing;
	_Atomic int64_t eod_ns;
};

/* A fault mode of phase 1. */
struct mode {
	const char *name;
	double p;         /* a socket call fails */
	unsigned errmask; /* which errnos, 1 << E_* */
	int nonblock;
	size_t max_msg;
};

static const struct mode modes[] = {
    {"EINTR", 0.2, 1u << E_EINTR, 0, 4096},
    {"EAGAIN", 0.2, 1u << E_EAGAIN, 1, 4096},
    {"ENOBUFS/ENOMEM", 0.15, 1u << E_ENOBUFS | 1u << E_ENOMEM, 0, IPC_MSGPIPE_MSG_MIN_LIMIT},
    {"mixed", 0.2, 0xf, 1, IPC_MSGPIPE_MSG_MIN_LIMIT},
};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

static const char *const points[] = {
    "posix/io/net/sendmsg", "posix/io/net/send",   "posix/io/net/sendto",
    "posix/io/net/recvmsg", "posix/io/net/recv",   "posix/io/net/recvfrom",
    "posix/io/net/connect", "posix/io/net/accept", "posix/io/net/poll",
};
#define NPOINTS (sizeof(points) / sizeof(points[0]))

static struct board *b;
static _Atomic uint64_t *violations; /* every process's, all cases (shared) */
static const struct msubj *cur;
static const struct mode *mode; /* phase 1, NULL otherwise */
static char name[128];
static unsigned seed;
static uint64_t case_seed; /* streams and injections of this case */
static bool verbose;

/* A fault fired inside this thread's current subject call. */
static _Thread_local int armed;
static _Thread_local uint64_t t_fired;
static _Thread_local struct fl_rng trng;
static volatile sig_atomic_t in_call, proc_idx;

/* Every process counts its violations in shared memory, and a violation
 * ends the case: the parent then kills the peers, so the first report is
 * not buried under its consequences and a failing run does not wait for
 * the deadline. */
#define VIOLATION(...)                                                                             \
	do {                                                                                       \
		fl_violation(__VA_ARGS__);                                                         \
		atomic_fetch_add(violations, 1);                                                   \
		atomic_store(&b->abort, 1);                                                        \
	} while (0)

/* Run expr with this thread's faults armed; *f says whether one fired. */
#define ARMED(f, expr)                                                                             \
	({                                                                                         \
		uint64_t fired0_ = t_fired;                                                        \
		armed = 1, in_call = 1;                                                            \
		__typeof__(expr) rc_ = (expr);                                                     \
		armed = 0, in_call = 0;                                                            \
		*(f) = t_fired != fired0_;                                                         \
		rc_;                                                                               \
	})

/* ---- messages ------------------------------------------------------------------------ */

static uint64_t mix(uint64_t a, uint64_t b2)
{
	uint64_t z = a * 0x9e3779b97f4a7c15ull + b2 + 0x632be59bd9b4e019ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* Varied on purpose: empty, shorter than the stamp, small, up to max_msg, exactly max_msg. */
static size_t msg_len(uint64_t id, uint64_t seq, size_t max)
{
	uint64_t h = mix(id, seq);

	switch (h % 8) {
	case 0:
		return 0;
	case 1:
		return max;
	case 2:
	case 3:
		return (h >> 8) % STAMP;
	case 4:
	case 5:
		return (h >> 8) % 256;
	default:
		return (h >> 8) % (max + 1);
	}
}

static void msg_fill(uint8_t *buf, uint64_t id, uint64_t seq, size_t len)
{
	struct fl_rng r;

	fl_rng_seed(&r, mix(id, seq) ^ 0x5eed);
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = fl_rng_next(&r);

		memcpy(buf + i, &v, len - i < 8 ? len - i : 8);
	}
	if (len >= STAMP) {
		uint32_t s = (uint32_t)seq, l = (uint32_t)len;
		uint64_t c = fnv(buf + STAMP, len - STAMP);

		memcpy(buf, &s, 4), memcpy(buf + 4, &l, 4), memcpy(buf + 8, &c, 8);
	}
}

/* Message seq of stream id, regenerated into scratch: 1 if got is it. */
static int msg_is(const uint8_t *got, size_t n, uint64_t id, uint64_t seq, size_t max,
		  uint8_t *scratch)
{
	size_t len = msg_len(id, seq, max);

	msg_fill(scratch, id, seq, len);
	return n == len && memcmp(got, scratch, len) == 0;
}

/* What a wrong message is, for the report: from its stamp, or (shorter
 * than a stamp) by comparing it with its neighbours in the stream. */
static const char *msg_diagnose(const uint8_t *got, size_t n, uint64_t id, uint64_t seq, size_t max,
				uint8_t *scratch)
{
	static _Thread_local char d[192];
	size_t want = msg_len(id, seq, max);
	uint32_t s, l;
	uint64_t c;

	if (n < STAMP) {
		for (uint64_t k = 1; k <= 8; k++) {
			if (msg_is(got, n, id, seq + k, max, scratch)) {
				snprintf(d, sizeof(d),
					 "seq %llu where seq %llu was expected: lost "
					 "or reordered",
					 (unsigned long long)(seq + k), (unsigned long long)seq);
				return d;
			}
			if (k <= seq && msg_is(got, n, id, seq - k, max, scratch)) {
				snprintf(d, sizeof(d),
					 "duplicate: seq %llu again (expected seq %llu)",
					 (unsigned long long)(seq - k), (unsigned long long)seq);
				return d;
			}
		}
		snprintf(d, sizeof(d), "%zu bytes where seq %llu (%zu bytes) was expected", n,
			 (unsigned long long)seq, want);
		return d;
	}
	memcpy(&s, got, 4), memcpy(&l, got + 4, 4), memcpy(&c, got + 8, 8);
	if (l != n || c != fnv(got + STAMP, n - STAMP))
		snprintf(d, sizeof(d),
			 "torn: %zu bytes whose stamp says seq %u of %u bytes "
			 "(expected seq %llu, %zu bytes)",
			 n, s, l, (unsigned long long)seq, want);
	else if (s < seq)
		snprintf(d, sizeof(d), "duplicate: seq %u again (expected seq %llu)", s,
			 (unsigned long long)seq);
	else if (s > seq)
		snprintf(d, sizeof(d), "seq %u where seq %llu was expected: lost or reordered", s,
			 (unsigned long long)seq);
	else
		snprintf(d, sizeof(d), "seq %u altered", s);
	return d;
}

/* ---- injection (phase 1) --------------------------------------------------------------- */

static int chance(double p)
{
	return p > 0 && (double)fl_rng_below(&trng, 1000000) < p * 1e6;
}

static enum side side_of(const char *point)
{
	if (strstr(point, "connect") || strstr(point, "accept"))
		return S_CONN;
	if (strstr(point, "poll"))
		return S_WAIT;
	return strstr(point, "recv") ? S_RECV : S_SEND;
}

/* Decides, counts and sets the errno of an armed call: only the subject's
 * calls, never the harness's own I/O. poll has no EAGAIN/ENOBUFS: EINTR. */
static int inject(const char *point, int *failnum, void **failinfo, unsigned *flags)
{
	enum side sd = side_of(point);
	unsigned k;

	(void)failnum, (void)flags;
	if (!armed || !mode || !chance(mode->p))
		return 0;
	do
		k = (unsigned)fl_rng_below(&trng, NERRS);
	while (!(mode->errmask & (1u << k)));
	if (sd == S_WAIT && k != E_ENOMEM)
		k = E_EINTR;
	atomic_fetch_add(&b->inj[sd][k], 1);
	t_fired++;
	*failinfo = (void *)(intptr_t)errs[k];
	return 1;
}

static void arm_points(unsigned salt)
{
	fl_rng_seed(&trng, case_seed * 16 + salt);
	for (size_t i = 0; mode && i < NPOINTS; i++)
		fiu_enable_external(points[i], 1, NULL, 0, inject);
}

/* ---- one direction of a stream ----------------------------------------------------------- */

struct xfer {
	struct ipc_msgpipe *h;
	uint64_t id, n; /* stream, messages */
	size_t max;
	int dir;      /* 0: client -> server */
	int nonblock; /* real -EAGAIN allowed */
	int storm;    /* -EINTR allowed */
	int want_eod; /* receiver: IPC_EOD must follow the last message */
	int64_t give_up;
	int rc;
};

/* A negative result with no effect that this case allows. */
static int neg_ok(long r, int fired, const struct xfer *x)
{
	if (r == -EINTR && x->storm) {
		atomic_fetch_add(&b->eintr[proc_idx], 1);
		return 1;
	}
	if (r == -EAGAIN && x->nonblock)
		return 1;
	if (fired && r < 0 && r > -4096) {
		atomic_fetch_add(&b->checks[C_CLEAN], 1);
		return 1;
	}
	return 0;
}

/* Non-blocking handles expose no descriptor to wait on: back off a little. */
static void backoff(long r, unsigned *spins)
{
	if (r != -EAGAIN) {
		*spins = 0;
		return;
	}
	if (++*spins % 64 == 0)
		fl_sleep_ns(20000);
	else
		sched_yield();
}

/* Storm cases: pause 0.5-1.5 ms every 7 messages, the receiver for 64
 * messages then the sender, so each side also blocks on the other. */
static void maybe_pause(const struct xfer *x, uint64_t seq, int rx)
{
	if (!x->storm || seq % 7 != 6 || (int)((seq / 64) % 2) != (rx ? 0 : 1))
		return;
	fl_sleep_ns(500000 + (int64_t)fl_rng_below(&trng, 1000000));
}

/* Over max_msg: -EMSGSIZE and nothing sent (MSGPIPE-MSG-5). */
static int probe_big(const struct xfer *x, const struct msubj *s, uint8_t *buf)
{
	int f;
	long r = ARMED(&f, s->ops->send(x->h, buf, x->max + 1));

	if (r == -EMSGSIZE) {
		atomic_fetch_add(&b->checks[C_BIG], 1);
		return 0;
	}
	if (r < 0 && neg_ok(r, f, x))
		return 0;
	VIOLATION("%s dir %d: send of %zu bytes over max_msg %zu -> %s, expected -EMSGSIZE",
		  s->name, x->dir, x->max + 1, x->max, pl_err(r));
	return 1;
}

static int send_stream(struct xfer *x, const struct msubj *s)
{
	uint8_t *buf = malloc(x->max + 1);
	unsigned spins = 0;
	uint64_t seq = 0;
	int bad = !buf;

	while (!bad && seq < x->n && fl_now_ns() < x->give_up) {
		size_t len = msg_len(x->id, seq, x->max);
		int f;

		if (mode && chance(0.01) && (bad = probe_big(x, s, buf)) != 0)
			break;
		msg_fill(buf, x->id, seq, len);
		long r = ARMED(&f, s->ops->send(x->h, buf, len));
		if (r == (long)len) {
			maybe_pause(x, seq++, 0);
			spins = 0;
			continue;
		}
		if (r >= 0 || !neg_ok(r, f, x)) {
			VIOLATION("%s dir %d: send of seq %llu (%zu bytes) -> %s%s", s->name,
				  x->dir, (unsigned long long)seq, len, pl_err(r),
				  f ? " (a fault fired)" : "");
			bad = 1;
			break;
		}
		backoff(r, &spins); /* the careful application: the same message again */
	}
	if (!bad && seq < x->n)
		VIOLATION("%s dir %d: the sender stopped at seq %llu of %llu", s->name, x->dir,
			  (unsigned long long)seq, (unsigned long long)x->n);
	free(buf);
	return seq == x->n ? 0 : 1;
}

/* MSGPIPE-MSG-3 under faults: a buffer one byte (or more) too small must
 * give -EMSGSIZE and leave the message, which the next recv then checks. */
static int probe_small(const struct xfer *x, const struct msubj *s, uint8_t *buf, size_t len)
{
	size_t cap = (size_t)fl_rng_below(&trng, 4) ? len - 1 : (size_t)fl_rng_below(&trng, len);
	int f;
	long r = ARMED(&f, s->ops->recv(x->h, buf, cap));

	if (r == -EMSGSIZE) {
		atomic_fetch_add(&b->checks[C_SMALL], 1);
		return 0;
	}
	if (r < 0 && r != IPC_EOD && neg_ok(r, f, x))
		return 0;
	VIOLATION("%s dir %d: recv with cap %zu of a %zu-byte message -> %s, expected "
		  "-EMSGSIZE%s",
		  s->name, x->dir, cap, len, pl_err(r), r >= 0 ? " (silently truncated)" : "");
	return 1;
}

/* next_size never waits: the expected length, or -EAGAIN before it arrived. */
static int probe_next(const struct xfer *x, const struct msubj *s, size_t len)
{
	int f;
	long r = ARMED(&f, s->ops->next_size(x->h));

	if (r == (long)len)
		atomic_fetch_add(&b->checks[C_NEXT], 1);
	else if (r != -EAGAIN && (r >= 0 || r == IPC_EOD || !neg_ok(r, f, x))) {
		VIOLATION("%s dir %d: next_size -> %s, expected %zu", s->name, x->dir, pl_err(r),
			  len);
		return 1;
	}
	return 0;
}

static int probes(const struct xfer *x, const struct msubj *s, uint8_t *buf, size_t len)
{
	if (!mode)
		return 0;
	if (len > 0 && chance(0.05) && probe_small(x, s, buf, len))
		return 1;
	if ((s->caps & IPC_MSGPIPE_CAP_NEXT_SIZE) && chance(0.05) && probe_next(x, s, len))
		return 1;
	return 0;
}

/* One received message against seq: 0 if it is the one expected. */
static int judge_msg(const struct xfer *x, const uint8_t *got, long r, uint64_t seq,
		     uint8_t *scratch)
{
	if (msg_is(got, (size_t)r, x->id, seq, x->max, scratch))
		return 0;
	VIOLATION("%s dir %d: %s", cur->name, x->dir,
		  msg_diagnose(got, (size_t)r, x->id, seq, x->max, scratch));
	return 1;
}

/* After the last message: IPC_EOD, never one more message. */
static int expect_eod(const struct xfer *x, const struct msubj *s)
{
	uint8_t *buf = malloc(x->max + 1);
	unsigned spins = 0;
	int bad = 1;

	while (buf && fl_now_ns() < x->give_up) {
		int f;
		long r = ARMED(&f, s->ops->recv(x->h, buf, x->max));

		if (r == IPC_EOD) {
			bad = 0;
			break;
		}
		if (r >= 0 || !neg_ok(r, f, x)) {
			VIOLATION("%s dir %d: after the last message recv -> %s, expected "
				  "IPC_EOD%s",
				  s->name, x->dir, pl_err(r),
				  r >= 0 ? " (a message never sent)" : "");
			break;
		}
		backoff(r, &spins);
	}
	if (bad && buf && fl_now_ns() >= x->give_up)
		VIOLATION("%s dir %d: no IPC_EOD before the deadline", s->name, x->dir);
	free(buf);
	return bad;
}

static int recv_stream(struct xfer *x, const struct msubj *s)
{
	uint8_t *buf = malloc(x->max + 1), *want = malloc(x->max + 1);
	unsigned spins = 0;
	uint64_t seq = 0;
	int bad = !buf || !want;

	while (!bad && seq < x->n && fl_now_ns() < x->give_up) {
		int f;

		if ((bad = probes(x, s, buf, msg_len(x->id, seq, x->max))) != 0)
			break;
		long r = ARMED(&f, s->ops->recv(x->h, buf, x->max));
		if (r >= 0) {
			bad = judge_msg(x, buf, r, seq, want);
			atomic_fetch_add(&b->delivered[x->dir], !bad);
			maybe_pause(x, seq++, 1);
			spins = 0;
			continue;
		}
		if (r == IPC_EOD || !neg_ok(r, f, x)) {
			VIOLATION("%s dir %d: recv of seq %llu -> %s%s", s->name, x->dir,
				  (unsigned long long)seq, pl_err(r),
				  r == IPC_EOD ? " (messages lost)"
				  : f          ? " (a fault fired)"
					       : "");
			bad = 1;
		}
		backoff(r, &spins);
	}
	if (!bad && seq < x->n)
		VIOLATION("%s dir %d: the receiver stopped at seq %llu of %llu (deadline)", s->name,
			  x->dir, (unsigned long long)seq, (unsigned long long)x->n);
	free(buf), free(want);
	if (!bad && seq == x->n && x->want_eod)
		bad = expect_eod(x, s);
	return bad || seq < x->n;
}

static void *send_thread(void *arg)
{
	struct xfer *x = arg;

	fl_rng_seed(&trng, case_seed * 16 + 4 + (unsigned)x->dir);
	x->rc = send_stream(x, cur);
	return NULL;
}

static void *recv_thread(void *arg)
{
	struct xfer *x = arg;

	fl_rng_seed(&trng, case_seed * 16 + 8 + (unsigned)x->dir);
	x->rc = recv_stream(x, cur);
	return NULL;
}

/* ---- the two processes ------------------------------------------------------------------- */

struct plan {
	uint64_t n;
	size_t max;
	int nonblock, storm;
};

static struct plan plan;

static void init_xfer(struct xfer *x, struct ipc_msgpipe *h, int dir, int want_eod)
{
	memset(x, 0, sizeof(*x));
	x->h = h, x->dir = dir, x->want_eod = want_eod;
	x->id = case_seed * 2 + (unsigned)dir, x->n = plan.n, x->max = plan.max;
	x->nonblock = plan.nonblock, x->storm = plan.storm;
	x->give_up = fl_now_ns() + fl_scaled_ns(RUN_NS);
}

/* Phase 1: both directions at once (a thread each); phase 2: one after the
 * other in the one thread the storm interrupts. The server sends second and
 * expects IPC_EOD after the client's stream (the client closes last). */
static int duplex(struct ipc_msgpipe *h, int server)
{
	struct xfer tx, rx;
	pthread_t tt, tr;

	init_xfer(&tx, h, server, 0);
	init_xfer(&rx, h, !server, server && !plan.storm);
	if (plan.nonblock && cur->ops->set_nonblock(h, 1) != 0)
		VIOLATION("%s: set_nonblock failed", cur->name);
	if (plan.storm) { /* the client sends first, the server answers, then IPC_EOD */
		int rc;

		fl_rng_seed(&trng, case_seed * 16 + (unsigned)server);
		if (server) {
			rc = recv_stream(&rx, cur);
			rc |= send_stream(&tx, cur);
			return rc ? rc : expect_eod(&rx, cur);
		}
		rc = send_stream(&tx, cur);
		return rc | recv_stream(&rx, cur);
	}
	if (pthread_create(&tt, NULL, send_thread, &tx) ||
	    pthread_create(&tr, NULL, recv_thread, &rx))
		return 2;
	pthread_join(tt, NULL);
	pthread_join(tr, NULL);
	return tx.rc | rx.rc;
}

static void on_tick(int sig)
{
	(void)sig;
	if (in_call)
		atomic_fetch_add(&b->ticks_in[proc_idx], 1);
}

/* A child's exit status: 1 after any violation of its own. */
static int child_done(unsigned before, int rc)
{
	if (rc == 2)
		VIOLATION("%s: a %s could not start (timer or thread)", cur->name,
			  proc_idx ? "server" : "client");
	return rc || fl_violations() != before ? 1 : 0;
}

/* Accept under faults or the storm: retry clean errors; -EINTR counted. */
static int accept_one(struct ipc_msgpipe_server *srv, struct ipc_msgpipe **h)
{
	int64_t give_up = fl_now_ns() + fl_scaled_ns(RUN_NS);
	struct xfer any = {.storm = plan.storm};

	while (fl_now_ns() < give_up) {
		int f;
		long r = ARMED(&f, cur->ops->accept(srv, -1, h));

		if (r == 0)
			return 0;
		if (r == -EINTR && plan.storm)
			atomic_fetch_add(&b->accept_eintr, 1);
		else if (!neg_ok(r, f, &any)) {
			VIOLATION("%s: accept -> %s", cur->name, pl_err(r));
			return 1;
		}
	}
	VIOLATION("%s: no instance accepted before the deadline", cur->name);
	return 1;
}

/* Nothing else connected: a failed connect left no phantom instance. */
static int no_phantom(struct ipc_msgpipe_server *srv)
{
	struct ipc_msgpipe *h = NULL;
	long r = cur->ops->accept(srv, 0, &h);

	if (r == -EAGAIN)
		return 0;
	VIOLATION("%s: accept after the only client -> %s, expected -EAGAIN (a phantom "
		  "instance)",
		  cur->name, pl_err(r));
	if (r == 0)
		cur->ops->close(h);
	return 1;
}

static int server_main(void *arg)
{
	struct ipc_msgpipe_attr attr = {0, plan.max};
	struct ipc_msgpipe_server *srv = NULL;
	struct ipc_msgpipe *h = NULL;
	unsigned before = fl_violations();
	timer_t t;
	int rc;

	(void)arg;
	proc_idx = 1;
	signal(SIGPIPE, SIG_IGN);
	arm_points(1);
	if (plan.storm && fl_signal_storm(on_tick, TICK_NS, &t) != 0)
		return child_done(before, 2);
	rc = cur->ops->create(name, &attr, &srv);
	if (rc != 0) {
		VIOLATION("%s: create %s -> %s", cur->name, name, pl_err(rc));
		atomic_store(&b->stage, -1);
		return child_done(before, 1);
	}
	atomic_store(&b->stage, 1);
	rc = accept_one(srv, &h);
	if (rc == 0) {
		rc = duplex(h, 1);
		cur->ops->close(h);
		rc |= no_phantom(srv);
	}
	cur->ops->server_close(srv);
	return child_done(before, rc);
}

static int connect_one(struct ipc_msgpipe **h)
{
	struct ipc_msgpipe_attr attr = {0, plan.max};
	int64_t give_up = fl_now_ns() + fl_scaled_ns(RUN_NS);
	struct xfer any = {.storm = plan.storm};

	while (fl_now_ns() < give_up) {
		int f;
		long r = ARMED(&f, cur->ops->connect(name, &attr, h));

		if (r == 0)
			return 0;
		if (!neg_ok(r, f, &any)) {
			VIOLATION("%s: connect -> %s", cur->name, pl_err(r));
			return 1;
		}
	}
	VIOLATION("%s: no connect before the deadline", cur->name);
	return 1;
}

static int client_main(void *arg)
{
	struct ipc_msgpipe *h = NULL;
	unsigned before = fl_violations();
	int fds = fl_count_fds(), rc;
	timer_t t;

	(void)arg;
	proc_idx = 0;
	signal(SIGPIPE, SIG_IGN);
	arm_points(2);
	if (plan.storm && fl_signal_storm(on_tick, TICK_NS, &t) != 0)
		return child_done(before, 2);
	rc = connect_one(&h);
	if (rc == 0) {
		rc = duplex(h, 0);
		cur->ops->close(h);
	}
	if (plan.storm)
		timer_delete(t);
	if (fl_count_fds() != fds)
		VIOLATION("%s: the client leaked %d descriptor(s)", cur->name,
			  fl_count_fds() - fds);
	return child_done(before, rc);
}

/* ---- the parent: cases ------------------------------------------------------------------- */

/* Reap with a deadline; a hang is a violation and the child is killed. */
static int reap(pid_t pid, int64_t deadline, const char *what)
{
	int st = fl_reap(pid, deadline);

	if (st == -1) {
		VIOLATION("%s on %s: hang: a process still ran at the deadline", what, cur->name);
		kill(pid, SIGKILL);
		fl_reap(pid, fl_now_ns() + 5000000000LL);
	}
	return st;
}

static void new_case(uint64_t salt)
{
	memset(b, 0, sizeof(*b));
	case_seed = (uint64_t)seed * 1000003u + salt;
	fl_name(name, sizeof(name), "mp");
}

static void end_case(const char *what)
{
	int rc = cur->ops->unlink(name);

	if (rc != 0 && atomic_load(&b->stage) == 1)
		VIOLATION("%s on %s: unlink %s -> %s", what, cur->name, name, pl_err(rc));
}

/* Until *counter reaches at least want, or the deadline: 1 if it did. */
static int await(_Atomic uint64_t *counter, uint64_t want, int64_t deadline)
{
	while (atomic_load(counter) < want && fl_now_ns() < deadline)
		sched_yield();
	return atomic_load(counter) >= want;
}

static int await_stage(int64_t deadline)
{
	while (atomic_load(&b->stage) == 0 && fl_now_ns() < deadline)
		sched_yield();
	return atomic_load(&b->stage) == 1;
}

/* Reap the children; after a violation anywhere (b->abort) kill the rest at
 * once; one still running at the deadline is a hang. st[k]: its status. */
static void reap_all(const pid_t *pids, int *st, int n, int64_t deadline, const char *what)
{
	int left = 0, killed = 0;

	for (int k = 0; k < n; k++)
		left += (st[k] = -1, pids[k] > 0);
	while (left > 0) {
		for (int k = 0; k < n; k++) {
			int s;

			if (pids[k] > 0 && st[k] == -1 && waitpid(pids[k], &s, WNOHANG) == pids[k])
				st[k] = s, left--;
		}
		if (left == 0 || killed) {
			fl_sleep_ns(200000);
			continue;
		}
		if (!atomic_load(&b->abort) && fl_now_ns() < deadline) {
			fl_sleep_ns(200000);
			continue;
		}
		if (!atomic_load(&b->abort))
			VIOLATION("%s on %s: hang: a process still ran at the deadline", what,
				  cur->name);
		for (int k = 0; k < n; k++)
			if (pids[k] > 0 && st[k] == -1)
				kill(pids[k], SIGKILL);
		killed = 1;
	}
}

/* Server and client of one case; 0 if both ended cleanly. */
static int run_pair(const char *what, uint64_t accept_eintrs)
{
	int64_t start = fl_now_ns();
	pid_t srv = fl_spawn(server_main, NULL), cli = -1;
	int bad = 0;

	if (!await_stage(start + fl_scaled_ns(DEADLINE_NS))) {
		VIOLATION("%s on %s: the server did not start", what, cur->name);
		bad = 1;
	} else {
		/* The server's accept must be interrupted before there is a client. */
		if (accept_eintrs &&
		    !await(&b->accept_eintr, accept_eintrs, start + fl_scaled_ns(DEADLINE_NS)))
			VIOLATION("%s on %s: %llu -EINTR from a blocked accept under the storm, "
				  "expected %llu",
				  what, cur->name, (unsigned long long)b->accept_eintr,
				  (unsigned long long)accept_eintrs);
		cli = fl_spawn(client_main, NULL);
	}
	pid_t pids[2] = {cli, srv};
	int st[2];
	reap_all(pids, st, 2, fl_now_ns() + fl_scaled_ns(RUN_NS), what);
	for (int k = 0; k < 2 && !atomic_load(&b->abort); k++)
		if (pids[k] > 0 && st[k] != 0) /* a crash: no violation of its own was reported */
			VIOLATION("%s on %s: %s %s", what, cur->name, k ? "server" : "client",
				  fl_status(st[k]));
	end_case(what);
	return bad || atomic_load(&b->abort);
}

static uint64_t sum(_Atomic uint64_t *v, size_t n)
{
	uint64_t s = 0;

	for (size_t i = 0; i < n; i++)
		s += atomic_load(&v[i]);
	return s;
}

static uint64_t totals[NSIDES][NERRS], total_checks[NCHECKS], total_msgs, total_eintr, total_ticks,
    total_kills;

/* The faults were real: the socket calls of a kernel-backed subject reach
 * the preload, so each errno the mode injects fired on send and recv. */
static void judge_injections(const struct mode *m, int bad)
{
	uint64_t all = 0;

	for (int sd = 0; sd < NSIDES; sd++)
		for (int k = 0; k < NERRS; k++) {
			all += atomic_load(&b->inj[sd][k]);
			totals[sd][k] += atomic_load(&b->inj[sd][k]);
		}
	if (bad) /* the case already failed: its counts prove nothing more */
		return;
	if (all == 0 && strncmp(cur->name, "native-", 7) != 0) {
		fl_info("  %s: no socket call reached the preload (not socket-backed)", cur->name);
		return;
	}
	for (int sd = S_SEND; sd <= S_RECV; sd++)
		for (int k = 0; k < NERRS; k++)
			if ((m->errmask & (1u << k)) && atomic_load(&b->inj[sd][k]) == 0)
				VIOLATION("%s %s: no %s failed with %s: injection is not working",
					  cur->name, m->name, side_name[sd], err_name[k]);
}

static void faults_case(const struct mode *m, uint64_t n, unsigned idx)
{
	char what[64];
	int64_t t0 = fl_now_ns();

	snprintf(what, sizeof(what), "faults %s", m->name);
	new_case(idx);
	mode = m;
	plan = (struct plan){n, m->max_msg, m->nonblock, 0};
	int bad = run_pair(what, 0);
	mode = NULL;
	for (int d = 0; d < 2 && !bad; d++)
		if (atomic_load(&b->delivered[d]) != n)
			VIOLATION("%s on %s: direction %d delivered %llu of %llu messages", what,
				  cur->name, d, (unsigned long long)b->delivered[d],
				  (unsigned long long)n);
	judge_injections(m, bad);
	for (int c = 0; c < NCHECKS; c++)
		total_checks[c] += atomic_load(&b->checks[c]);
	total_msgs += sum(b->delivered, 2);
	fl_info("%-14s faults %-14s 2 x %llu msgs (max %zu, %s): injected send %llu, recv %llu, "
		"connect %llu; clean errors %llu, -EMSGSIZE probes %llu, next_size %llu, over "
		"max %llu; %.2f s",
		cur->name, m->name, (unsigned long long)n, m->max_msg,
		m->nonblock ? "non-blocking" : "blocking",
		(unsigned long long)sum(b->inj[S_SEND], NERRS),
		(unsigned long long)sum(b->inj[S_RECV], NERRS),
		(unsigned long long)sum(b->inj[S_CONN], NERRS),
		(unsigned long long)b->checks[C_CLEAN], (unsigned long long)b->checks[C_SMALL],
		(unsigned long long)b->checks[C_NEXT], (unsigned long long)b->checks[C_BIG],
		(double)(fl_now_ns() - t0) / 1e9);
}

static void eintr_case(uint64_t n, unsigned idx)
{
	int64_t t0 = fl_now_ns();

	new_case(idx);
	plan = (struct plan){n, IPC_MSGPIPE_MSG_DEFAULT, 0, 1};
	int bad = run_pair("eintr", ACCEPT_EINTRS);
	for (int d = 0; d < 2 && !bad; d++)
		if (atomic_load(&b->delivered[d]) != n)
			VIOLATION("eintr on %s: direction %d delivered %llu of %llu messages",
				  cur->name, d, (unsigned long long)b->delivered[d],
				  (unsigned long long)n);
	/* The storm was real, and a kernel-backed subject did return -EINTR. */
	for (int p = 0; p < 2 && !bad; p++) {
		if (atomic_load(&b->ticks_in[p]) < MIN_TICKS)
			VIOLATION("eintr on %s: only %llu signals landed inside the %s's calls",
				  cur->name, (unsigned long long)b->ticks_in[p],
				  p ? "server" : "client");
		if (!strncmp(cur->name, "native-", 7) && atomic_load(&b->eintr[p]) == 0)
			VIOLATION("eintr on %s: the %s never saw -EINTR from send/recv", cur->name,
				  p ? "server" : "client");
	}
	total_msgs += sum(b->delivered, 2);
	total_eintr += sum(b->eintr, 2) + atomic_load(&b->accept_eintr);
	total_ticks += sum(b->ticks_in, 2);
	fl_info("%-14s eintr  2 x %llu msgs: signals inside calls %llu (client) / %llu (server); "
		"-EINTR: accept %llu, client %llu, server %llu; %.2f s",
		cur->name, (unsigned long long)n, (unsigned long long)b->ticks_in[0],
		(unsigned long long)b->ticks_in[1], (unsigned long long)b->accept_eintr,
		(unsigned long long)b->eintr[0], (unsigned long long)b->eintr[1],
		(double)(fl_now_ns() - t0) / 1e9);
}

/* ---- phase 3: the client killed while it sends ------------------------------------------- */

static int pause_rx; /* kill case: the server reads only after the kill */

static int kill_client(void *arg)
{
	struct ipc_msgpipe_attr attr = {0, plan.max};
	struct ipc_msgpipe *h = NULL;
	uint8_t *buf = malloc(plan.max + 1);
	uint64_t id = case_seed * 2;

	(void)arg;
	if (!buf || cur->ops->connect(name, &attr, &h) != 0)
		return 1;
	atomic_store(&b->connected, 1);
	for (uint64_t seq = 0;; seq++) {
		size_t len = msg_len(id, seq, plan.max);
		long r;

		msg_fill(buf, id, seq, len);
		while ((r = cur->ops->send(h, buf, len)) == -EINTR)
			;
		if (r != (long)len)
			return 1; /* the parent judges: this process must die by SIGKILL */
		atomic_store(&b->progress, seq + 1);
	}
}

/* Receive until IPC_EOD; each message whole and in order; not before the kill. */
static int kill_server(void *arg)
{
	struct ipc_msgpipe_attr attr = {0, plan.max};
	struct ipc_msgpipe_server *srv = NULL;
	struct ipc_msgpipe *h = NULL;
	struct xfer x;
	unsigned before = fl_violations();
	int rc;

	(void)arg;
	proc_idx = 1;
	if ((rc = cur->ops->create(name, &attr, &srv)) != 0) {
		VIOLATION("%s: create %s -> %s", cur->name, name, pl_err(rc));
		atomic_store(&b->stage, -1);
		return child_done(before, 1);
	}
	atomic_store(&b->stage, 1);
	rc = accept_one(srv, &h);
	init_xfer(&x, h, 0, 0);
	uint8_t *buf = malloc(plan.max + 1), *want = malloc(plan.max + 1);
	while (rc == 0 && pause_rx && !atomic_load(&b->killing))
		sched_yield(); /* the client fills the instance and blocks in send */
	for (uint64_t seq = 0; rc == 0;) {
		long r = cur->ops->recv(h, buf, plan.max);

		if (r >= 0 && !(rc = judge_msg(&x, buf, r, seq, want))) {
			atomic_fetch_add(&b->delivered[0], 1), seq++;
		} else if (r == IPC_EOD) {
			atomic_store(&b->eod_ns, fl_now_ns());
			if (!atomic_load(&b->killing))
				VIOLATION("%s: IPC_EOD after %llu messages, before the kill",
					  cur->name, (unsigned long long)seq);
			break;
		} else if (r != -EINTR && r < 0) {
			VIOLATION("%s: recv of seq %llu -> %s", cur->name, (unsigned long long)seq,
				  pl_err(r));
			rc = 1;
		}
	}
	free(buf), free(want);
	if (h)
		cur->ops->close(h);
	cur->ops->server_close(srv);
	return child_done(before, rc);
}

static int64_t worst_eod_ns, subj_worst_eod_ns;

/* The server got every send that returned, perhaps the one in flight, no more. */
static void judge_kill(const char *what, int cst)
{
	uint64_t done = atomic_load(&b->progress), got = atomic_load(&b->delivered[0]);

	if (!(WIFSIGNALED(cst) && WTERMSIG(cst) == SIGKILL))
		VIOLATION("%s on %s: the client ended %s before the kill", what, cur->name,
			  fl_status(cst));
	if (got < done || got > done + 1)
		VIOLATION("%s on %s: the server received %llu messages, the client's sends "
			  "returned %llu (+1 in flight at most)",
			  what, cur->name, (unsigned long long)got, (unsigned long long)done);
	total_msgs += got;
}

static void kill_case(struct fl_rng *r, unsigned idx)
{
	char what[64];
	uint64_t threshold;

	new_case(idx);
	pause_rx = idx % 2;
	plan = (struct plan){0, IPC_MSGPIPE_MSG_DEFAULT, 0, 0};
	/* Paused: few messages fit, so the client then blocks in send. */
	threshold = pause_rx ? fl_rng_below(r, 3) : fl_rng_below(r, 3) ? fl_rng_below(r, 400) : 0;
	snprintf(what, sizeof(what), "kill %s after %llu", pause_rx ? "blocked" : "sending",
		 (unsigned long long)threshold);
	int64_t start = fl_now_ns();
	pid_t srv = fl_spawn(kill_server, NULL), cli = -1;
	if (await_stage(start + fl_scaled_ns(DEADLINE_NS))) {
		cli = fl_spawn(kill_client, NULL);
		int64_t deadline = fl_now_ns() + fl_scaled_ns(DEADLINE_NS);
		if (await(&b->connected, 1, deadline))
			await(&b->progress, threshold, deadline);
		int64_t until = fl_now_ns() + (int64_t)fl_rng_below(r, pause_rx ? 2000000 : 300000);
		while (fl_now_ns() < until)
			sched_yield();
		atomic_store(&b->killing, 1);
	}
	int64_t kill_ns = fl_now_ns();
	int cst = -1;
	if (cli > 0) {
		kill(cli, SIGKILL);
		cst = reap(cli, kill_ns + fl_scaled_ns(DEADLINE_NS), what);
	} else
		VIOLATION("%s on %s: the server did not start", what, cur->name);
	/* The server drains to IPC_EOD: judge only once it is done. */
	int st = reap(srv, kill_ns + fl_scaled_ns(DEADLINE_NS), what);
	if (st != 0 && st != -1 && !(WIFEXITED(st) && WEXITSTATUS(st) == 1))
		VIOLATION("%s on %s: server %s", what, cur->name, fl_status(st));
	if (cli > 0 && !atomic_load(&b->connected))
		VIOLATION("%s on %s: the client never connected", what, cur->name);
	else if (cli > 0 && cst != -1 && st != -1)
		judge_kill(what, cst);
	int64_t eod = atomic_load(&b->eod_ns);
	if (st == 0 && eod - kill_ns > subj_worst_eod_ns)
		subj_worst_eod_ns = eod - kill_ns;
	if (subj_worst_eod_ns > worst_eod_ns)
		worst_eod_ns = subj_worst_eod_ns;
	if (verbose)
		fl_info("%s on %s: %llu delivered, IPC_EOD %.2f ms after the kill", what, cur->name,
			(unsigned long long)b->delivered[0], (double)(eod - kill_ns) / 1e6);
	total_kills++;
	end_case(what);
}

/* ---- 4. sweep: the subjects' own failure points, the Nth call failed ---------------------- */

/* The message-pipe points, and the core's that a shared-memory subject
 * reaches on connect; faults/run.sh checks every "ipc/..." name in impl/
 * against --list-points of the sweeps. */
static const char *const own_points[] = {
    "ipc/msgpipe/instance", "ipc/shm/open", "ipc/shm/truncate", "ipc/shm/map", "ipc/shm/grow",
};
#define NOWN (sizeof(own_points) / sizeof(own_points[0]))

static unsigned long sweep_runs, sweep_fired;

/* An unfaulted step must give want; a faulted one may fail with a negative
 * errno (1: then it is redone unarmed and must have had no effect). */
static int sweep_judge(const char *step, long rc, long want, int f, const char *what)
{
	if (rc == want)
		return 0;
	if (f && rc < 0 && rc > -4096)
		return 1;
	VIOLATION("%s on %s: %s -> %s, expected %ld%s", what, cur->name, step, pl_err(rc), want,
		  f ? " (a fault fired)" : "");
	return -1;
}

/* One message across, send and recv armed: it arrives once, whole. */
static void sweep_msg(struct ipc_msgpipe *from, struct ipc_msgpipe *to, const char *m,
		      const char *what)
{
	long len = (long)strlen(m), r;
	char buf[64];
	int f, j;

	r = FL_NTH(&f, cur->ops->send(from, m, (size_t)len));
	if ((j = sweep_judge("send", r, len, f, what)) == 1)
		r = cur->ops->send(from, m, (size_t)len);
	if (j < 0 || r != len)
		return;
	r = FL_NTH(&f, cur->ops->recv(to, buf, sizeof(buf)));
	if ((j = sweep_judge("recv", r, len, f, what)) == 1)
		r = cur->ops->recv(to, buf, sizeof(buf));
	if (j >= 0 && (r != len || memcmp(buf, m, (size_t)len) != 0))
		VIOLATION("%s on %s: \"%s\" -> %s: lost or altered", what, cur->name, m, pl_err(r));
	if ((r = cur->ops->recv(to, buf, sizeof(buf))) != -EAGAIN)
		VIOLATION("%s on %s: after \"%s\" recv -> %s, expected -EAGAIN (a duplicate)", what,
			  cur->name, m, pl_err(r));
}

/* Connect armed (a failed one leaves no phantom instance), then accept
 * armed (a failed one loses no waiting client). 0 and both ends. */
static int sweep_pair(struct ipc_msgpipe_server *srv, const struct ipc_msgpipe_attr *attr,
		      struct ipc_msgpipe **cli, struct ipc_msgpipe **h, const char *what)
{
	int f, j;
	long r = FL_NTH(&f, cur->ops->connect(name, attr, cli));

	if ((j = sweep_judge("connect", r, 0, f, what)) == 1 && no_phantom(srv) == 0)
		r = cur->ops->connect(name, attr, cli);
	if (j < 0 || r != 0)
		return 1;
	r = FL_NTH(&f, cur->ops->accept(srv, 0, h));
	if ((j = sweep_judge("accept", r, 0, f, what)) == 1)
		r = cur->ops->accept(srv, 0, h);
	if (j >= 0 && r != 0)
		VIOLATION("%s on %s: accept after a failed one -> %s: the client was lost", what,
			  cur->name, pl_err(r));
	if (j < 0 || r != 0)
		cur->ops->close(*cli);
	return j < 0 || r != 0;
}

/* One run: create, connect, accept, a message each way, every step armed. */
static void sweep_run(const char *what)
{
	struct ipc_msgpipe_attr attr = {IPC_MSGPIPE_NONBLOCK, 0};
	struct ipc_msgpipe_server *srv = NULL;
	struct ipc_msgpipe *cli = NULL, *h = NULL;
	int f, j;

	fl_name(name, sizeof(name), "mp");
	long r = FL_NTH(&f, cur->ops->create(name, &attr, &srv));
	if ((j = sweep_judge("create", r, 0, f, what)) == 1 &&
	    (r = cur->ops->create(name, &attr, &srv)) != 0)
		VIOLATION("%s on %s: create after a failed one -> %s (a name left)", what,
			  cur->name, pl_err(r));
	if (j < 0 || r != 0) {
		cur->ops->unlink(name);
		return;
	}
	if (sweep_pair(srv, &attr, &cli, &h, what) == 0) {
		sweep_msg(cli, h, "ping", what);
		sweep_msg(h, cli, "pong", what);
		cur->ops->close(cli);
		cur->ops->close(h);
	}
	cur->ops->server_close(srv);
	if ((r = cur->ops->unlink(name)) != 0)
		VIOLATION("%s on %s: unlink -> %s", what, cur->name, pl_err(r));
}

/* Each point, N = 1, 2, ... one-shot then persistent, until nothing fires. */
static void sweep_point(const char *point)
{
	char what[96];
	unsigned long fired = 0;

	fiu_enable_external(point, 1, NULL, 0, fl_nth_cb);
	for (int persistent = 0; persistent < 2; persistent++)
		for (long n = 1;; n++) {
			snprintf(what, sizeof(what), "sweep %s call %ld%s", point, n,
				 persistent ? "+" : "");
			memset(&fl_nth, 0, sizeof(fl_nth));
			fl_nth.n = n, fl_nth.persistent = persistent;
			sweep_run(what);
			sweep_runs++;
			fired += (unsigned long)fl_nth.fired;
			if (fl_nth.fired == 0 || n > 64)
				break;
		}
	fiu_disable(point);
	sweep_fired += fired;
	/* A reference subject reaches its own points (a build without them: never). */
	if (fired == 0 && !strncmp(point, "ipc/msgpipe/", 12) && !strncmp(cur->name, "ref-", 4))
		VIOLATION("%s never fired on %s", point, cur->name);
}

static void sweep(void)
{
	int fds = fl_count_fds();
	unsigned long r0 = sweep_runs, f0 = sweep_fired;

	memset(b, 0, sizeof(*b));
	if (!(cur->caps & IPC_MSGPIPE_CAP_NONBLOCK)) {
		fl_info("skip %s sweep: no non-blocking handles", cur->name);
		return;
	}
	for (size_t p = 0; p < NOWN; p++)
		sweep_point(own_points[p]);
	if (fl_count_fds() != fds)
		VIOLATION("sweep on %s: %d descriptor(s) leaked", cur->name, fl_count_fds() - fds);
	fl_info("%-14s sweep  %lu runs, %lu faults fired", cur->name, sweep_runs - r0,
		sweep_fired - f0);
}

/* ---- main ----------------------------------------------------------------------------------- */

/* The preload fails a socket call with the failinfo errno on demand. */
static int probe_body(void *arg)
{
	int sv[2];
	char c = 'x';
	ssize_t n1, n2, n3;
	int e1, e2;

	(void)arg;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0)
		return 2;
	fiu_enable("posix/io/net/sendmsg", 1, (void *)(intptr_t)ENOBUFS, 0);
	struct iovec iov = {&c, 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	errno = 0, n1 = sendmsg(sv[0], &m, 0), e1 = errno;
	fiu_disable("posix/io/net/sendmsg");
	fiu_enable("posix/io/net/recvmsg", 1, (void *)(intptr_t)EINTR, 0);
	errno = 0, n2 = recvmsg(sv[1], &m, MSG_DONTWAIT), e2 = errno;
	fiu_disable("posix/io/net/recvmsg");
	n3 = sendmsg(sv[0], &m, 0);
	return n1 == -1 && e1 == ENOBUFS && n2 == -1 && e2 == EINTR && n3 == 1 ? 0 : 1;
}

static void probe(void)
{
	pid_t pid = fl_spawn(probe_body, NULL);
	int st = fl_reap(pid, fl_now_ns() + fl_scaled_ns(10000000000LL));

	if (st != 0)
		VIOLATION("probe: sendmsg/recvmsg under an enabled point did not fail with the "
			  "failinfo errno (%s): is %s preloaded, is the build free of "
			  "_FORTIFY_SOURCE?",
			  fl_status(st), PL_PRELOAD_SO);
	else
		fl_info("probe: the preload fails sendmsg() with ENOBUFS and recvmsg() with EINTR "
			"on demand");
}

/* Names of this run left in $TMPDIR (a socket subject) or /dev/shm: removed, counted. */
static int leftovers(void)
{
	const char *dir = getenv("TMPDIR");
	char prefix[64], path[4096];
	struct dirent *e;
	int n = fl_shm_leftovers(getpid(), true);

	dir = dir && *dir ? dir : "/tmp";
	snprintf(prefix, sizeof(prefix), FL_NAME_PREFIX "%d-", (int)getpid());
	DIR *d = opendir(dir);
	while (d && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
		n++;
	}
	if (d)
		closedir(d);
	return n;
}

static void campaign(const struct msubj *s, int si, const struct fl_opts *o)
{
	const uint64_t need = IPC_MSGPIPE_CAP_BLOCKING | IPC_MSGPIPE_CAP_CROSS_PROCESS;
	uint64_t n = o->count ? o->count : o->short_run ? 4000 : 20000;
	unsigned kills = o->short_run ? 12 : 100;
	struct fl_rng r;

	cur = s;
	fl_rng_seed(&r, (uint64_t)seed + (unsigned)si);
	if ((s->caps & need) != need) {
		fl_info("skip %s: needs blocking handles and cross-process clients", s->name);
		return;
	}
	for (size_t m = 0; m < NMODES; m++) {
		if (modes[m].nonblock && !(s->caps & IPC_MSGPIPE_CAP_NONBLOCK))
			fl_info("skip %s %s: no non-blocking handles", s->name, modes[m].name);
		else
			faults_case(&modes[m], n, (unsigned)si * 64 + (unsigned)m);
	}
	eintr_case(n / 2, (unsigned)si * 64 + 10); /* paced by its pauses: fewer */
	sweep();
	if (!(s->caps & IPC_MSGPIPE_CAP_PEER_DEATH)) {
		fl_info("skip %s kill: no peer-death capability", s->name);
		return;
	}
	subj_worst_eod_ns = 0;
	for (unsigned k = 0; k < kills; k++)
		kill_case(&r, (unsigned)si * 64 + 16 + k % 48);
	fl_info("%-14s kill   %u kills (half blocked in send), worst kill -> IPC_EOD %.2f ms",
		s->name, kills, (double)subj_worst_eod_ns / 1e6);
}

/* `--is-msgpipe NAME`: exit 0 if NAME is a bundled message-pipe subject. */
static void is_msgpipe_query(int argc, char **argv, const struct ipc_subject *all, size_t n)
{
	if (argc != 3 || strcmp(argv[1], "--is-msgpipe") != 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(all[i].name, argv[2]) && all[i].mechanism == IPC_MECH_MSGPIPE)
			exit(0);
	exit(1);
}

static int pick_subjects(int argc, char **argv, const struct ipc_subject *all, size_t n,
			 struct msubj *out)
{
	const char *named = NULL;
	int ns = 0;

	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--subject"))
			named = argv[i + 1];
	for (size_t i = 0; i < n && ns < MAX_SUBJECTS; i++)
		if (all[i].mechanism == IPC_MECH_MSGPIPE && (!named || !strcmp(named, all[i].name)))
			out[ns++] = (struct msubj){all[i].name, all[i].caps, all[i].ops};
	if (ns == 0)
		fl_info("skip: %s is not a message-pipe subject; PASS: 0 violation(s)",
			named ? named : "?");
	return ns;
}

/* Faults of one errno injected, all calls together. */
static uint64_t injected(int k)
{
	uint64_t n = 0;

	for (int sd = 0; sd < NSIDES; sd++)
		n += totals[sd][k];
	return n;
}

/* The figures, then the verdict line faults/run.sh puts in its summary. */
static int report(double secs)
{
	uint64_t v = atomic_load(violations);
	uint64_t inj =
	    injected(E_EINTR) + injected(E_EAGAIN) + injected(E_ENOBUFS) + injected(E_ENOMEM);

	fl_info("injected: EINTR %llu, EAGAIN %llu, ENOBUFS %llu, ENOMEM %llu; %llu -EMSGSIZE "
		"probes, %llu next_size, %llu over max_msg, %llu clean errors retried; storm: "
		"%llu signals inside calls, %llu -EINTR",
		(unsigned long long)injected(E_EINTR), (unsigned long long)injected(E_EAGAIN),
		(unsigned long long)injected(E_ENOBUFS), (unsigned long long)injected(E_ENOMEM),
		(unsigned long long)total_checks[C_SMALL], (unsigned long long)total_checks[C_NEXT],
		(unsigned long long)total_checks[C_BIG], (unsigned long long)total_checks[C_CLEAN],
		(unsigned long long)total_ticks, (unsigned long long)total_eintr);
	fl_info("%llu messages checked, %llu faults injected, %llu signals inside calls, %llu "
		"kills (worst kill -> IPC_EOD %.1f ms), %lu sweep runs (%lu faults), %.1f s; %s: "
		"%llu violation(s); reproduce with --seed %u",
		(unsigned long long)total_msgs, (unsigned long long)inj,
		(unsigned long long)total_ticks, (unsigned long long)total_kills,
		(double)worst_eod_ns / 1e6, sweep_runs, sweep_fired, secs, v ? "FAIL" : "PASS",
		(unsigned long long)v, seed);
	return v ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct fl_opts o;
	struct msubj subj[MAX_SUBJECTS];
	size_t n;
	const struct ipc_subject *all = ipc_registry_subjects(&n);
	int64_t t0 = fl_now_ns();

	is_msgpipe_query(argc, argv, all, n);
	if (argc == 2 && !strcmp(argv[1], "--list-points")) {
		for (size_t i = 0; i < NOWN; i++)
			puts(own_points[i]);
		return 0;
	}
	pl_ensure_preload(argv);
	fl_init(argc, argv, &o);
	int ns = pick_subjects(argc, argv, all, n, subj);
	if (ns == 0)
		return 0;
	seed = o.seed;
	verbose = o.verbose;
	fiu_init(0);
	b = fl_shared_alloc(sizeof(*b));
	violations = fl_shared_alloc(sizeof(*violations));
	signal(SIGPIPE, SIG_IGN);
	fl_info("seed %u, libfiu preload %s, SIGALRM every %d us in the eintr phase", seed,
		pl_preloaded() ? "on" : "OFF", TICK_NS / 1000);
	probe();
	for (int i = 0; i < ns; i++)
		campaign(&subj[i], i, &o);
	int left = leftovers();
	if (left)
		VIOLATION("%d name(s) of this run left behind (removed now)", left);
	return report((double)(fl_now_ns() - t0) / 1e9);
}
