/* SPDX-License-Identifier: MIT */
/*
 * mailbox_faults: mailboxes (spec/mailbox.h) under kill -9, EINTR storms,
 * removal while blocked and failed calls, on every bundled subject of
 * mechanism IPC_MECH_MAILBOX (or the one named by --subject). Capabilities
 * decide which phase runs; every skip is printed with its reason.
 *
 * Messages are self-checking items (fl_item.h): sender incarnation, seq,
 * length, FNV-1a, a payload regenerated from (incarnation, seq). Receivers
 * record every message in a shared board (one counter per (incarnation,
 * seq)) before they can be killed, and say when they are inside recv: a
 * receiver killed there may have taken one message with it, and only that
 * is allowed to be missing.
 *
 * 1. kill: senders and receivers in forked processes, replaced as they die,
 *    SIGKILLed at random points (after a random number of operations, or
 *    after 1-3 ms without progress: blocked). A third of the incarnations
 *    also carry a death point: the Nth pass through a core failure point
 *    that ref-mailbox reaches while holding the mailbox lock (ipc/proc/stat
 *    in the reaper, ipc/shm/grow and ipc/shm/reclaim in the pool) SIGKILLs
 *    the process there; every pass through them also widens the window (a
 *    0-50 us busy-wait, p = 0.25) so random kills land inside the lock.
 *    The parent holds a sender and a receiver handle, so the stream neither
 *    ends nor breaks while every child of a role is dead. Verdict: every
 *    send that returned 0 received exactly once, but at most one message
 *    per receiver killed inside recv; a killed sender's in-flight message at
 *    most once; nothing else; nothing torn; per receiver, each sender's
 *    messages in order; no hang; validate() = 0 afterwards. Capacities 0,
 *    1, 7 and unbounded where supported.
 * 2. eintr: the same peers, none killed, each under a SIGALRM every TICK_NS
 *    without SA_RESTART: each call returns a whole message, -EINTR with no
 *    effect (the sender retries the same message: an effect shows as a
 *    duplicate, a consumed message as a gap), or its expected result; the
 *    counts add up exactly; the storm must be real.
 *    Then a calm stream: blocking calls only, no kills, no signals (both end
 *    waits, and would hide a lost wake-up, which stops this one: a hang).
 * 3. remove (needs remove-wakes): receivers blocked on an empty mailbox and
 *    senders blocked on a full one (and in a rendezvous) must end -EIDRM
 *    within DEADLINE_NS of unlink; open handles then fail -EIDRM; nothing is
 *    left in /dev/shm, the POSIX queue namespace or the SysV table, and the
 *    name can be created again.
 * 4. sweep: the core's failure points, the Nth call failed (fl_nth_cb),
 *    one-shot then persistent, until a run fires nothing, over a workload
 *    in one process (and a helper party in another): each faulted step fails
 *    with a negative errno and no effect (model queue, no phantom party, no
 *    name, descriptor or mapping left) and the mailbox stays usable. A
 *    subject none of whose calls reaches a point is skipped (said so).
 *
 * Names are /ipcspec-flt-<pid>-mb-<n>, unlinked after each case whatever
 * happened; anything of this pid left at the end (/dev/shm, POSIX queue,
 * SysV anchor and queue) is a violation and is removed. `--cleanup PID`
 * removes what a killed run left (faults/run.sh), `--list-points` prints the
 * swept points, `--is-mailbox NAME` routes SUBJECT=.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fiu-control.h>
#include <fiu.h>
#include <mqueue.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fl_common.h"
#include "fl_item.h"
#include "mailbox.h"
#include "pipe_common.h"

#define MAX_MSG      256    /* kill / eintr phases */
#define ITEM_MAX     200    /* their largest item */
#define SWEEP_MSG    4096   /* the sweep: big slots, so the pool grows */
#define TICK_NS      250000 /* the EINTR storm's period */
#define DEADLINE_NS  2000000000LL
#define STALL_NS     10000000000LL
#define MAX_PEERS    4
#define MAX_INC      1024 /* sender incarnations per case */
#define MAX_SEQ      4096 /* messages per sender incarnation */
#define MAX_SUBJECTS 8
#define MAX_NAMES    8192
#define MIN_TICKS    50 /* signals inside calls per storm case */

struct msubj {
	const char *name;
	uint64_t caps;
	const struct ipc_mailbox_ops *ops;
};

enum role { R_SEND, R_RECV };
enum pstate { P_IDLE, P_SEND, P_RECV };

/* One live position of a role; each incarnation reuses it. */
struct peer {
	_Atomic pid_t pid;
	_Atomic uint32_t inc; /* a sender's incarnation: the item's producer */
	_Atomic int state;
	_Atomic uint64_t ops;
	_Atomic int death;   /* 1 + death point index armed, 0 none */
	_Atomic int died_at; /* the death point fired */
	int64_t born_ns;
};

struct inc_rec {
	_Atomic uint32_t done; /* sends that returned 0 */
	_Atomic int killed;
	_Atomic int finished;
};

/* The death points: reached by ref-mailbox under its lock. */
static const char *const death_points[] = {"ipc/proc/stat", "ipc/shm/grow", "ipc/shm/reclaim"};
#define NDEATH 3

/* Shared with the children; reset before each case. */
struct board {
	struct peer snd[MAX_PEERS], rcv[MAX_PEERS];
	struct inc_rec inc[MAX_INC];
	_Atomic uint32_t n_inc;
	_Atomic int stop, nodeath;
	_Atomic uint64_t sent, received, eintr, ticks_in, stops, rc_other;
	_Atomic uint64_t deaths[NDEATH];
	/* remove phase */
	_Atomic int stage;
	_Atomic long rc[4];
	_Atomic int64_t ret_ns[4];
	_Atomic uint8_t seen[MAX_INC * MAX_SEQ];
};

struct kcase {
	size_t cap;
	int nsend, nrecv;
	int storm; /* 1: signals, no kills; 2: calm (nothing but blocking calls) */
	unsigned kills;
	uint32_t quota; /* storm: messages per sender */
};

static struct board *b;
static _Atomic uint64_t *violations; /* every process's (shared) */
static const struct msubj *cur;
static const struct kcase *kc;
static char name[128];
static unsigned seed;
static uint64_t case_seed;
static bool verbose;
static volatile sig_atomic_t in_call;

/* Every name this run created, and the SysV queue behind it (or -1). */
static struct {
	char name[128];
	int msqid;
} names[MAX_NAMES];
static unsigned n_names;

#define VIOLATION(...)                                                                             \
	do {                                                                                       \
		fl_violation(__VA_ARGS__);                                                         \
		atomic_fetch_add(violations, 1);                                                   \
	} while (0)

static const char *capname(size_t cap)
{
	static char buf[32];

	if (cap == IPC_MAILBOX_UNBOUNDED)
		return "unbounded";
	snprintf(buf, sizeof(buf), "capacity %zu", cap);
	return buf;
}

/* The phase of the current stream case, for messages. */
static const char *phase(void)
{
	return kc->storm == 2 ? "calm" : kc->storm ? "eintr" : "kill";
}

static bool has(uint64_t cap)
{
	return (cur->caps & cap) == cap;
}

/* ---- names and what they leave behind ------------------------------------------------------- */

static const char *tmpdir(void)
{
	const char *d = getenv("TMPDIR");

	return d && *d ? d : "/tmp";
}

/* native-sysv-msg's anchors, "ipcspec-sysv-msg PROJ MAX" (the mailbox) and
 * "ipcspec-sysv-party PROJ MAX" (a party's inbox, <anchor>.p<id>), name the
 * queue ftok(anchor, PROJ): the rule of `make clean-ipc`. -1 if none. */
static int sysv_queue_of(const char *path)
{
	char tag[32];
	int proj = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	int ok = fscanf(f, "%31s %d", tag, &proj) == 2 &&
		 (!strcmp(tag, "ipcspec-sysv-msg") || !strcmp(tag, "ipcspec-sysv-party"));
	fclose(f);
	key_t key = ok ? ftok(path, proj) : -1;
	return key == -1 ? -1 : msgget(key, 0);
}

static void new_name(void)
{
	fl_name(name, sizeof(name), "mb");
	if (n_names < MAX_NAMES) {
		snprintf(names[n_names].name, sizeof(names[n_names].name), "%s", name);
		names[n_names++].msqid = -1;
	}
}

/* After a create: remember the SysV queue behind the name, if any. */
static void note_created(void)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s%s", tmpdir(), name);
	for (unsigned i = n_names; i-- > 0;)
		if (!strcmp(names[i].name, name)) {
			names[i].msqid = sysv_queue_of(path);
			break;
		}
}

/* What of nm is left anywhere (removed if remove): the count. */
static int left_of(const char *nm, int msqid, bool remove)
{
	char path[4096];
	struct msqid_ds ds;
	int n = 0;

	snprintf(path, sizeof(path), "/dev/shm%s", nm);
	if (access(path, F_OK) == 0 && ++n && remove)
		unlink(path);
	mqd_t q = mq_open(nm, O_RDONLY);
	if (q != (mqd_t)-1) {
		n++;
		mq_close(q);
		if (remove)
			mq_unlink(nm);
	}
	snprintf(path, sizeof(path), "%s%s", tmpdir(), nm);
	int id = msqid >= 0 ? msqid : sysv_queue_of(path);
	if (id >= 0 && msgctl(id, IPC_STAT, &ds) == 0 && ++n && remove)
		msgctl(id, IPC_RMID, NULL);
	if (access(path, F_OK) == 0 && ++n && remove)
		unlink(path);
	return n;
}

static char left_example[160]; /* the first file tmp_left found, for messages */

/* Files under $TMPDIR whose name starts with prefix, and their SysV
 * queues (removed if remove): the count. */
static int tmp_left(const char *prefix, bool remove)
{
	char nm[300];
	DIR *d = opendir(tmpdir());
	struct dirent *e;
	struct stat st;
	int n = 0;

	left_example[0] = 0;
	while (d && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(nm, sizeof(nm), "%s/%s", tmpdir(), e->d_name);
		if (!left_example[0] && stat(nm, &st) == 0)
			snprintf(left_example, sizeof(left_example), ", e.g. %.100s, %lld bytes",
				 e->d_name, (long long)st.st_size);
		snprintf(nm, sizeof(nm), "/%s", e->d_name);
		n += left_of(nm, -1, remove) > 0;
	}
	if (d)
		closedir(d);
	return n;
}

/* What of the current name is left after its unlink, files derived from
 * it under $TMPDIR included (a subject's per-party files): removed. */
static int name_left(void)
{
	char derived[140];
	int n = -1;

	for (unsigned i = n_names; i-- > 0 && n < 0;)
		if (!strcmp(names[i].name, name))
			n = left_of(name, names[i].msqid, true);
	if (n < 0)
		n = left_of(name, -1, true);
	snprintf(derived, sizeof(derived), "%s.", name + 1);
	return n + tmp_left(derived, true);
}

/* `--cleanup PID`: what a killed run of pid left (faults/run.sh). The
 * POSIX queue namespace cannot be listed without an mqueue mount: the names
 * fl_name can have made are tried. */
static int cleanup(pid_t pid)
{
	char nm[300], prefix[64];
	int n = fl_shm_leftovers(pid, true);

	for (unsigned k = 0; k < (1u << 16); k++) {
		snprintf(nm, sizeof(nm), "/" FL_NAME_PREFIX "%d-mb-%u", (int)pid, k);
		n += mq_unlink(nm) == 0;
	}
	snprintf(prefix, sizeof(prefix), FL_NAME_PREFIX "%d-", (int)pid);
	return n + tmp_left(prefix, true);
}

/* ---- children: senders and receivers -------------------------------------------------------- */

static struct peer *me;
static struct fl_rng rng;
static int death_pt = -1;
static long death_n, death_calls;

/* Under ref-mailbox's lock: die at the Nth pass of the armed point, else
 * sometimes dawdle so that a random kill lands inside the lock. */
static int death_cb(const char *pname, int *failnum, void **failinfo, unsigned *flags)
{
	(void)failnum, (void)failinfo, (void)flags;
	if (death_pt >= 0 && !strcmp(pname, death_points[death_pt]) && ++death_calls == death_n &&
	    !atomic_load(&b->nodeath)) {
		atomic_store(&me->died_at, death_pt + 1);
		atomic_fetch_add(&b->deaths[death_pt], 1);
		kill(getpid(), SIGKILL);
	}
	if (fl_rng_below(&rng, 4) == 0) {
		int64_t end = fl_now_ns() + (int64_t)fl_rng_below(&rng, 50000);
		while (fl_now_ns() < end)
			;
	}
	return 0;
}

static void on_tick(int sig)
{
	(void)sig;
	if (in_call)
		atomic_fetch_add(&b->ticks_in, 1);
}

/* Common start of a child: its PRNG, death point or storm. */
static void child_setup(struct peer *p, unsigned salt)
{
	me = p;
	fl_rng_seed(&rng, case_seed * 31 + salt);
	if (kc->storm == 2)
		return;
	if (kc->storm) {
		timer_t t;
		if (fl_signal_storm(on_tick, TICK_NS, &t) != 0)
			_exit(2);
		return;
	}
	for (int i = 0; i < NDEATH; i++)
		fiu_enable_external(death_points[i], 1, NULL, 0, death_cb);
	if (p->death) { /* the pool shrinks rarely: its Nth pass comes soon */
		death_pt = p->death - 1;
		death_n = 1 + (long)fl_rng_below(&rng, death_pt == 2 ? 2 : 8);
	}
}

/* Blocking mostly; timed and non-blocking calls where the subject has them. */
static int64_t pick_timeout(void)
{
	uint64_t k = fl_rng_below(&rng, 8);

	if (kc->storm == 2) /* a lost wake-up must show as a hang */
		return -1;
	if (k == 0 && has(IPC_MAILBOX_CAP_NONBLOCK))
		return 0;
	if (k == 1 && has(IPC_MAILBOX_CAP_TIMED))
		return (int64_t)(1 + fl_rng_below(&rng, 20)) * 100000;
	return -1;
}

/* Sometimes pause, so the other side blocks (full or empty); a sender to
 * an unbounded mailbox never blocks, so its receivers must wait more. */
static void maybe_pause(bool sender)
{
	/* Killing: let an unbounded queue pile up past a pool chunk (grow) and
	 * drain to idle (reclaim), both under ref-mailbox's lock. */
	if (!kc->storm && kc->cap == IPC_MAILBOX_UNBOUNDED) {
		int64_t now = fl_now_ns();
		/* All receivers sleep 8 ms in 32 (the queue grows), all senders
		 * another 8 ms (it drains to idle). */
		if (((now >> 23) & 3) == (sender ? 2 : 0))
			fl_sleep_ns((1ll << 23) - (now & ((1ll << 23) - 1)));
		if (sender) /* never else: the queue must grow */
			return;
	}
	if (fl_rng_below(&rng, sender && kc->cap == IPC_MAILBOX_UNBOUNDED ? 4 : 16) == 0)
		fl_sleep_ns(200000 + (int64_t)fl_rng_below(&rng, 800000));
}

/* An expected "not now": would block or timed out, never early. */
static int not_now(long rc, int64_t timeout, int64_t t0, const char *op)
{
	if (rc == -EAGAIN && timeout == 0)
		return 1;
	if (rc == -ETIMEDOUT && timeout > 0) {
		if (fl_now_ns() - t0 < timeout)
			VIOLATION("%s %s on %s: -ETIMEDOUT after %lld ns of a %lld ns timeout", op,
				  capname(kc->cap), cur->name, (long long)(fl_now_ns() - t0),
				  (long long)timeout);
		return 1;
	}
	return 0;
}

static int open_retry(uint32_t flags, struct ipc_mailbox **h)
{
	int rc;

	while ((rc = cur->ops->open(name, flags, h)) == -EINTR)
		;
	if (rc != 0)
		VIOLATION("open %s on %s (pid %d) -> %s", name, cur->name, (int)getpid(),
			  pl_err(rc));
	return rc;
}

/* One send of item (prod, seq) until it returns 0: 0, or 1 on a violation. */
static int send_one(struct ipc_mailbox *h, const unsigned char *buf, size_t len, uint32_t seq)
{
	for (;;) {
		int64_t to = pick_timeout(), t0 = fl_now_ns();
		in_call = 1;
		int rc = cur->ops->send(h, buf, len, to);
		in_call = 0;
		if (rc == 0)
			return 0;
		if (rc == -EINTR && kc->storm == 1) {
			atomic_fetch_add(&b->eintr, 1);
			continue;
		}
		if (not_now(rc, to, t0, "send"))
			continue;
		VIOLATION("send of seq %u on %s %s -> %s", seq, cur->name, capname(kc->cap),
			  pl_err(rc));
		atomic_fetch_add(&b->rc_other, 1);
		return 1;
	}
}

static int sender_main(void *arg)
{
	struct peer *p = &b->snd[(intptr_t)arg];
	uint32_t prod = atomic_load(&p->inc);
	struct inc_rec *r = &b->inc[prod];
	unsigned char buf[MAX_MSG];
	struct ipc_mailbox *h;

	child_setup(p, 1000 + prod);
	if (open_retry(IPC_MAILBOX_SEND, &h) != 0)
		return 1;
	uint32_t quota = kc->storm ? kc->quota : MAX_SEQ;
	for (uint32_t seq = 0; seq < quota && !atomic_load(&b->stop); seq++) {
		size_t len = fl_item_make(buf, prod, seq, ITEM_MAX);
		atomic_store(&p->state, P_SEND);
		if (send_one(h, buf, len, seq) != 0)
			break;
		atomic_store(&r->done, seq + 1);
		atomic_store(&p->state, P_IDLE);
		atomic_fetch_add(&p->ops, 1);
		atomic_fetch_add(&b->sent, 1);
		maybe_pause(true);
	}
	atomic_store(&p->state, P_IDLE);
	cur->ops->close(h);
	atomic_store(&r->finished, 1);
	return 0;
}

/* Record a received message: intact, once, in order for this receiver. */
static void record(const unsigned char *buf, long n, uint32_t *last)
{
	struct fl_item_hdr hd;
	int c = fl_item_check(buf, (size_t)n, ITEM_MAX, &hd);

	if (c != 0) {
		VIOLATION("%s %s: a torn message (%s): %ld bytes, producer %u seq %u", cur->name,
			  capname(kc->cap), fl_item_why(c), n, hd.producer, hd.seq);
		return;
	}
	if (hd.producer >= MAX_INC || hd.seq >= MAX_SEQ || hd.producer >= atomic_load(&b->n_inc)) {
		VIOLATION("%s %s: a message never sent: producer %u seq %u", cur->name,
			  capname(kc->cap), hd.producer, hd.seq);
		return;
	}
	if (atomic_fetch_add(&b->seen[hd.producer * MAX_SEQ + hd.seq], 1) != 0)
		VIOLATION("%s %s: producer %u seq %u received twice", cur->name, capname(kc->cap),
			  hd.producer, hd.seq);
	if (last[hd.producer] > hd.seq)
		VIOLATION("%s %s: producer %u seq %u after seq %u at one receiver: reordered",
			  cur->name, capname(kc->cap), hd.producer, hd.seq, last[hd.producer] - 1);
	last[hd.producer] = hd.seq + 1;
	atomic_fetch_add(&b->received, 1);
}

/* One receive: 1 to go on, 0 at the end (IPC_EOD or a stop), -1 on a violation. */
static int recv_one(struct ipc_mailbox *h, unsigned char *buf, uint32_t *last)
{
	int64_t to = pick_timeout(), t0 = fl_now_ns();

	atomic_store(&me->state, P_RECV);
	in_call = 1;
	long n = cur->ops->recv(h, buf, MAX_MSG, to);
	in_call = 0;
	if (n == 4 && !memcmp(buf, "STOP", 4)) {
		atomic_fetch_add(&b->stops, 1);
		return 0;
	}
	if (n >= 0)
		record(buf, n, last);
	atomic_store(&me->state, P_IDLE);
	if (n >= 0) {
		atomic_fetch_add(&me->ops, 1);
		return 1;
	}
	if (n == IPC_EOD)
		return 0;
	if (n == -EINTR && kc->storm == 1) {
		atomic_fetch_add(&b->eintr, 1);
		return 1;
	}
	if (not_now(n, to, t0, "recv"))
		return 1;
	VIOLATION("recv on %s %s -> %s", cur->name, capname(kc->cap), pl_err(n));
	atomic_fetch_add(&b->rc_other, 1);
	return -1;
}

static int receiver_main(void *arg)
{
	struct peer *p = &b->rcv[(intptr_t)arg];
	unsigned char buf[MAX_MSG];
	struct ipc_mailbox *h;
	uint32_t *last = calloc(MAX_INC, sizeof(*last)); /* seq + 1 of the last, per producer */
	int rc;

	child_setup(p, 7 + (unsigned)(intptr_t)arg * 131 + (unsigned)fl_now_ns());
	if (!last || open_retry(IPC_MAILBOX_RECV, &h) != 0)
		return 1;
	while ((rc = recv_one(h, buf, last)) > 0)
		maybe_pause(false);
	atomic_store(&p->state, P_IDLE);
	cur->ops->close(h);
	return rc < 0;
}

/* ---- the parent: one kill or storm case ----------------------------------------------------- */

struct kstats {
	unsigned long kills, in_call, blocked, deaths, allowance, missing;
};
static struct kstats ks; /* this case */
static unsigned long tot_kills, tot_in_call, tot_blocked, tot_deaths, tot_missing, tot_msgs,
    tot_eintr, tot_ticks, tot_cases;
static struct fl_rng prng;

static struct peer *peer_of(int role, int slot)
{
	return role == R_SEND ? &b->snd[slot] : &b->rcv[slot];
}

static void spawn(int role, int slot)
{
	struct peer *p = peer_of(role, slot);

	atomic_store(&p->state, P_IDLE);
	atomic_store(&p->ops, 0);
	atomic_store(&p->died_at, 0);
	/* Only an unbounded pool grows and shrinks: elsewhere the reaper's point. */
	int pt = kc->cap == IPC_MAILBOX_UNBOUNDED ? (int)fl_rng_below(&prng, NDEATH) : 0;
	atomic_store(&p->death, !kc->storm && fl_rng_below(&prng, 3) == 0 ? 1 + pt : 0);
	if (role == R_SEND)
		atomic_store(&p->inc, atomic_fetch_add(&b->n_inc, 1));
	p->born_ns = fl_now_ns();
	atomic_store(&p->pid, fl_spawn(role == R_SEND ? sender_main : receiver_main,
				       (void *)(intptr_t)slot));
}

/* A dead child's account: a receiver dead inside recv may have taken one
 * message with it; a sender's in-flight message may or may not arrive. */
static void account(int role, int slot, int status, bool by_us)
{
	struct peer *p = peer_of(role, slot);
	bool signaled = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;

	if (atomic_load(&p->died_at))
		by_us = false; /* its death point beat our kill */
	atomic_store(&p->pid, 0);
	if (!signaled) {
		if (status != 0)
			VIOLATION("%s %s: a %s exited: %s", cur->name, capname(kc->cap),
				  role == R_SEND ? "sender" : "receiver", fl_status(status));
		return;
	}
	if (!by_us && !atomic_load(&p->died_at))
		VIOLATION("%s %s: a %s died of SIGKILL nobody sent", cur->name, capname(kc->cap),
			  role == R_SEND ? "sender" : "receiver");
	ks.deaths += !by_us;
	ks.kills += by_us;
	ks.in_call += by_us && atomic_load(&p->state) != P_IDLE; /* death points always are */
	if (role == R_RECV && atomic_load(&p->state) == P_RECV)
		ks.allowance++;
	if (role == R_SEND)
		atomic_store(&b->inc[atomic_load(&p->inc)].killed, 1);
}

/* Reap children that ended on their own (death points, finished senders):
 * replace them while the case runs (respawn). */
static void reap_ended(bool respawn)
{
	for (int role = R_SEND; role <= R_RECV; role++)
		for (int s = 0; s < (role == R_SEND ? kc->nsend : kc->nrecv); s++) {
			struct peer *p = peer_of(role, s);
			pid_t pid = atomic_load(&p->pid);
			int st;

			if (pid <= 0 || waitpid(pid, &st, WNOHANG) != pid)
				continue;
			account(role, s, st, false);
			if (respawn && (role == R_RECV || atomic_load(&b->n_inc) < MAX_INC))
				spawn(role, s);
		}
}

/* Kill one child at a random point: after a random number of its own
 * operations, or after 1-3 ms without any (it is blocked). */
static void kill_one(void)
{
	int role = (int)fl_rng_below(&prng, 2);
	int slot = (int)fl_rng_below(&prng, (uint64_t)(role == R_SEND ? kc->nsend : kc->nrecv));
	struct peer *p = peer_of(role, slot);
	pid_t pid = atomic_load(&p->pid);
	int st;

	if (pid <= 0 || (role == R_SEND && atomic_load(&b->n_inc) >= MAX_INC))
		return;
	/* An armed death point has its chance first. */
	if (atomic_load(&p->death) && fl_now_ns() - p->born_ns < 50000000)
		return;
	uint64_t o0 = atomic_load(&p->ops);
	uint64_t want = 1 + fl_rng_below(&prng, fl_rng_below(&prng, 8) ? 40 : 400);
	int64_t t0 = fl_now_ns(), until = t0 + 1000000 + (int64_t)fl_rng_below(&prng, 2000000);
	uint64_t o = o0;
	while ((o = atomic_load(&p->ops)) < o0 + want && fl_now_ns() < until)
		sched_yield();
	int64_t spin = fl_now_ns() + (int64_t)fl_rng_below(&prng, 50000);
	while (fl_now_ns() < spin)
		;
	ks.blocked += o < o0 + want && atomic_load(&p->state) != P_IDLE;
	kill(pid, SIGKILL);
	if (waitpid(pid, &st, 0) == pid)
		account(role, slot, st, true);
	spawn(role, slot);
}

/* The stream stalls for STALL_NS: a hang (reported with every peer's state). */
static int stalled(uint64_t *last, int64_t *since)
{
	uint64_t now = atomic_load(&b->sent) + atomic_load(&b->received);

	if (now != *last) {
		*last = now;
		*since = fl_now_ns();
		return 0;
	}
	if (fl_now_ns() - *since < fl_scaled_ns(STALL_NS))
		return 0;
	VIOLATION("%s %s %s: hang: no message moved for %.0f s (sent %llu, received %llu)",
		  cur->name, phase(), capname(kc->cap), (double)fl_scaled_ns(STALL_NS) / 1e9,
		  (unsigned long long)b->sent, (unsigned long long)b->received);
	for (int s = 0; s < kc->nsend; s++)
		fl_info("  sender %d: pid %d state %d ops %llu death %d", s, (int)b->snd[s].pid,
			b->snd[s].state, (unsigned long long)b->snd[s].ops, b->snd[s].death);
	for (int s = 0; s < kc->nrecv; s++)
		fl_info("  receiver %d: pid %d state %d ops %llu death %d", s, (int)b->rcv[s].pid,
			b->rcv[s].state, (unsigned long long)b->rcv[s].ops, b->rcv[s].death);
	return 1;
}

/* Wait until every child of role has ended (reaped, accounted): 0, or 1 on
 * a hang (the rest are killed). */
static int wait_role(int role)
{
	int n = role == R_SEND ? kc->nsend : kc->nrecv;
	uint64_t last = ~0ull;
	int64_t since = fl_now_ns();

	for (;;) {
		int live = 0;
		reap_ended(false);
		for (int s = 0; s < n; s++)
			live += atomic_load(&peer_of(role, s)->pid) > 0;
		if (live == 0)
			return 0;
		if (stalled(&last, &since))
			return 1;
		fl_sleep_ns(200000);
	}
}

static void kill_all(void)
{
	for (int role = R_SEND; role <= R_RECV; role++)
		for (int s = 0; s < MAX_PEERS; s++) {
			pid_t pid = atomic_load(&peer_of(role, s)->pid);
			if (pid > 0) {
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
				atomic_store(&peer_of(role, s)->pid, 0);
			}
		}
}

/* End the stream: closing the parent's sender ends it where there is end of
 * stream; otherwise one stop message per receiver. 0, or 1 on a hang. */
static int end_stream(struct ipc_mailbox **ph_send)
{
	struct ipc_mailbox *h = *ph_send;

	if (has(IPC_MAILBOX_CAP_END_OF_STREAM)) {
		cur->ops->close(h);
		*ph_send = NULL;
		return wait_role(R_RECV);
	}
	int64_t deadline = fl_now_ns() + fl_scaled_ns(DEADLINE_NS) * 5;
	for (int s = 0; s < kc->nrecv; s++) {
		int rc;
		while ((rc = cur->ops->send(h, "STOP", 4, 0)) == -EAGAIN && fl_now_ns() < deadline)
			fl_sleep_ns(100000);
		if (rc != 0) {
			VIOLATION("%s %s: stop message %d -> %s", cur->name, capname(kc->cap), s,
				  pl_err(rc));
			return 1;
		}
	}
	return wait_role(R_RECV);
}

/* Every send that returned 0 received once, but the allowance; a killed
 * sender's in-flight message at most once; nothing else. */
static void verdict(void)
{
	uint32_t n_inc = atomic_load(&b->n_inc);

	ks.missing = 0;
	for (uint32_t p = 0; p < n_inc && p < MAX_INC; p++) {
		uint32_t done = atomic_load(&b->inc[p].done);
		bool killed = atomic_load(&b->inc[p].killed);
		const _Atomic uint8_t *seen = &b->seen[(size_t)p * MAX_SEQ];

		for (uint32_t s = 0; s < done; s++)
			ks.missing += atomic_load(&seen[s]) == 0;
		for (uint32_t s = done; s < MAX_SEQ; s++)
			if (atomic_load(&seen[s]) && !(killed && s == done))
				VIOLATION("%s %s: producer %u seq %u received but its send never "
					  "returned 0 (%u done%s)",
					  cur->name, capname(kc->cap), p, s, done,
					  killed ? ", killed" : "");
	}
	if (ks.missing > ks.allowance)
		VIOLATION("%s %s: %lu message(s) whose send returned 0 never received (allowed: "
			  "%lu, receivers killed inside recv)",
			  cur->name, capname(kc->cap), ks.missing, ks.allowance);
	if (kc->storm && atomic_load(&b->received) != atomic_load(&b->sent))
		VIOLATION("%s %s: %llu sends returned 0, %llu messages received", cur->name,
			  capname(kc->cap), (unsigned long long)b->sent,
			  (unsigned long long)b->received);
}

/* The parent's receiver: nothing may be left once every receiver is done. */
static void after_case(struct ipc_mailbox *ph_recv)
{
	unsigned char buf[MAX_MSG];
	long n;

	if (has(IPC_MAILBOX_CAP_END_OF_STREAM) &&
	    (n = cur->ops->recv(ph_recv, buf, sizeof(buf), 0)) != IPC_EOD)
		VIOLATION("%s %s: after the receivers' IPC_EOD a recv -> %s, expected IPC_EOD",
			  cur->name, capname(kc->cap), pl_err(n));
	if (cur->ops->validate && (n = cur->ops->validate(ph_recv)) != 0)
		VIOLATION("%s %s: validate() -> %s after the %s", cur->name, capname(kc->cap),
			  pl_err(n),
			  kc->storm == 2 ? "stream"
			  : kc->storm    ? "storm"
					 : "kills");
}

static void case_loop(void)
{
	uint64_t last = ~0ull;
	int64_t since = fl_now_ns();

	if (!kc->storm) {
		while (ks.kills + ks.deaths < kc->kills && !stalled(&last, &since)) {
			reap_ended(true);
			kill_one();
		}
		atomic_store(&b->nodeath, 1);
		atomic_store(&b->stop, 1);
	}
}

static int create_case(const char *what)
{
	struct ipc_mailbox_attr attr = {kc->cap, MAX_MSG, 0600, 0};
	int rc;

	new_name();
	rc = cur->ops->create(name, &attr);
	if (rc == -EOPNOTSUPP || rc == -EINVAL) {
		fl_info("skip %s %s %s: create -> %s", cur->name, what, capname(kc->cap),
			pl_err(rc));
		return 1;
	}
	if (rc != 0) {
		VIOLATION("%s %s %s: create -> %s", cur->name, what, capname(kc->cap), pl_err(rc));
		return 1;
	}
	note_created();
	return 0;
}

static void end_case(const char *what)
{
	int rc = cur->ops->unlink(name);

	if (rc != 0)
		VIOLATION("%s %s %s: unlink -> %s", cur->name, what, capname(kc->cap), pl_err(rc));
	if ((rc = name_left()) != 0)
		VIOLATION("%s %s %s: %d object(s) of %s left after unlink (files named after it "
			  "under $TMPDIR included%s; removed now)",
			  cur->name, what, capname(kc->cap), rc, name, left_example);
}

static void run_case(const struct kcase *c)
{
	struct ipc_mailbox *ph_send = NULL, *ph_recv = NULL;
	int64_t t0 = fl_now_ns();

	kc = c;
	const char *what = phase();
	if (create_case(what))
		return;
	if (verbose) /* which case a hang belongs to */
		fl_info("%s %s %s: %s", cur->name, what, capname(c->cap), name);
	memset(b, 0, sizeof(*b));
	case_seed = (uint64_t)seed * 1000003u + tot_cases++;
	fl_rng_seed(&prng, case_seed);
	memset(&ks, 0, sizeof(ks));
	/* The parent's parties: the stream neither ends nor breaks while every
	 * child of a role is dead. */
	if (open_retry(IPC_MAILBOX_SEND, &ph_send) || open_retry(IPC_MAILBOX_RECV, &ph_recv)) {
		end_case(what);
		return;
	}
	for (int s = 0; s < c->nrecv; s++)
		spawn(R_RECV, s);
	for (int s = 0; s < c->nsend; s++)
		spawn(R_SEND, s);
	case_loop();
	if (wait_role(R_SEND) || end_stream(&ph_send)) {
		kill_all();
	} else {
		verdict();
		after_case(ph_recv);
	}
	if (ph_send)
		cur->ops->close(ph_send);
	cur->ops->close(ph_recv);
	end_case(what);
	tot_kills += ks.kills, tot_in_call += ks.in_call, tot_blocked += ks.blocked;
	tot_deaths += ks.deaths, tot_missing += ks.missing, tot_msgs += b->received;
	if (c->storm == 2) {
		fl_info("%-16s calm  %-12s %d x %d: %llu messages, blocking calls only; %.2f s",
			cur->name, capname(c->cap), c->nsend, c->nrecv,
			(unsigned long long)b->received, (double)(fl_now_ns() - t0) / 1e9);
	} else if (c->storm) {
		tot_eintr += b->eintr, tot_ticks += b->ticks_in;
		if (b->ticks_in < MIN_TICKS)
			VIOLATION("%s eintr %s: only %llu signals landed inside calls (want >= %d)",
				  cur->name, capname(c->cap), (unsigned long long)b->ticks_in,
				  MIN_TICKS);
		fl_info("%-16s eintr %-12s %d x %d: %llu messages, %llu signals inside calls, "
			"%llu -EINTR; %.2f s",
			cur->name, capname(c->cap), c->nsend, c->nrecv,
			(unsigned long long)b->received, (unsigned long long)b->ticks_in,
			(unsigned long long)b->eintr, (double)(fl_now_ns() - t0) / 1e9);
	} else {
		fl_info("%-16s kill  %-12s %d x %d: %lu kills (%lu inside a call, %lu blocked), "
			"%lu death points (proc/stat %llu, grow %llu, reclaim %llu), %llu "
			"messages, %lu missing (allowed %lu); %.2f s",
			cur->name, capname(c->cap), c->nsend, c->nrecv, ks.kills, ks.in_call,
			ks.blocked, ks.deaths, (unsigned long long)b->deaths[0],
			(unsigned long long)b->deaths[1], (unsigned long long)b->deaths[2],
			(unsigned long long)b->received, ks.missing, ks.allowance,
			(double)(fl_now_ns() - t0) / 1e9);
	}
}

/* ---- 3. removal while blocked --------------------------------------------------------------- */

static unsigned long rm_woken;
static int64_t rm_worst_ns, rm_subj_worst_ns; /* all subjects, this one */

static char proc_state(pid_t pid)
{
	char path[64], buf[512];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/* arg: slot * 2 + (1: a sender). Blocks, then records its result. */
static int blocked_main(void *arg)
{
	int slot = (int)(intptr_t)arg / 2, send = (int)(intptr_t)arg & 1;
	struct ipc_mailbox *h;
	char buf[MAX_MSG] = "blocked";

	if (open_retry(send ? IPC_MAILBOX_SEND : IPC_MAILBOX_RECV, &h) != 0)
		return 1;
	atomic_fetch_add(&b->stage, 1);
	long rc = send ? cur->ops->send(h, buf, 8, -1) : cur->ops->recv(h, buf, sizeof(buf), -1);
	atomic_store(&b->ret_ns[slot], fl_now_ns());
	atomic_store(&b->rc[slot], rc);
	cur->ops->close(h);
	return 0;
}

/* Until both children are asleep in the kernel: 1 if they are. */
static int await_blocked(const pid_t *pid, int n)
{
	int64_t deadline = fl_now_ns() + fl_scaled_ns(DEADLINE_NS);
	int asleep = 0;

	while (atomic_load(&b->stage) < n && fl_now_ns() < deadline)
		sched_yield();
	while (asleep < n && fl_now_ns() < deadline) {
		asleep = 0;
		for (int k = 0; k < n; k++)
			asleep += proc_state(pid[k]) == 'S';
		fl_sleep_ns(500000);
	}
	fl_sleep_ns(2000000); /* asleep, and not just passing through */
	return asleep == n;
}

/* Two parties blocked in send (sender) or recv are woken by unlink with
 * -EIDRM; the parent's own handle fails -EIDRM afterwards. */
static void remove_case(size_t cap, int sender, const char *what)
{
	struct kcase c = {.cap = cap};
	struct ipc_mailbox *ph = NULL;
	unsigned char buf[MAX_MSG];
	pid_t pid[2];

	kc = &c;
	if (create_case("remove"))
		return;
	memset(b, 0, offsetof(struct board, seen));
	/* Keep the blocked ones from IPC_EOD / -EPIPE: the other role is open. */
	if (open_retry(IPC_MAILBOX_SEND | IPC_MAILBOX_RECV, &ph) != 0) {
		end_case("remove");
		return;
	}
	/* Messages of max_msg bytes: full also where capacity counts bytes. */
	memset(buf, 'f', sizeof(buf));
	for (size_t k = 0; sender && cap != IPC_MAILBOX_UNBOUNDED && k < cap; k++)
		if (cur->ops->send(ph, buf, MAX_MSG, 0) != 0)
			VIOLATION("%s remove %s: filling the mailbox failed", cur->name,
				  capname(cap));
	for (int k = 0; k < 2; k++)
		pid[k] = fl_spawn(blocked_main, (void *)(intptr_t)(k * 2 + sender));
	if (!await_blocked(pid, 2))
		VIOLATION("%s %s %s: the parties never slept (stage %d)", cur->name, what,
			  capname(cap), b->stage);
	int64_t t0 = fl_now_ns();
	int rc = cur->ops->unlink(name);
	if (rc != 0)
		VIOLATION("%s %s %s: unlink -> %s", cur->name, what, capname(cap), pl_err(rc));
	for (int k = 0; k < 2; k++) {
		int st = fl_reap(pid[k], t0 + fl_scaled_ns(DEADLINE_NS));
		if (st == -1) {
			VIOLATION("%s %s %s: party %d still blocked %.1f s after unlink", cur->name,
				  what, capname(cap), k, (double)fl_scaled_ns(DEADLINE_NS) / 1e9);
			kill(pid[k], SIGKILL);
			waitpid(pid[k], NULL, 0);
			continue;
		}
		if (st != 0 || b->rc[k] != -EIDRM)
			VIOLATION("%s %s %s: party %d -> %s (%s), expected -EIDRM", cur->name, what,
				  capname(cap), k, pl_err(b->rc[k]), fl_status(st));
		int64_t t = b->ret_ns[k] - t0;
		rm_subj_worst_ns = t > rm_subj_worst_ns ? t : rm_subj_worst_ns;
		rm_worst_ns = t > rm_worst_ns ? t : rm_worst_ns;
		rm_woken++;
	}
	long r1 = cur->ops->send(ph, "x", 1, 0), r2 = cur->ops->recv(ph, buf, sizeof(buf), 0);
	if (r1 != -EIDRM || r2 != -EIDRM)
		VIOLATION("%s %s %s: on a handle still open after unlink send -> %s, recv -> %s, "
			  "expected -EIDRM",
			  cur->name, what, capname(cap), pl_err(r1), pl_err(r2));
	cur->ops->close(ph);
	if (name_left())
		VIOLATION("%s %s %s: %s left behind after unlink", cur->name, what, capname(cap),
			  name);
	/* The name is free again (MAILBOX-NAME-6). */
	struct ipc_mailbox_attr attr = {cap, MAX_MSG, 0600, 0};
	if ((rc = cur->ops->create(name, &attr)) != 0)
		VIOLATION("%s %s %s: create again -> %s", cur->name, what, capname(cap),
			  pl_err(rc));
	else
		end_case("remove");
}

static void remove_phase(void)
{
	if (!has(IPC_MAILBOX_CAP_REMOVE_WAKES | IPC_MAILBOX_CAP_BLOCKING |
		 IPC_MAILBOX_CAP_CROSS_PROCESS)) {
		fl_info("skip %s remove: needs remove-wakes, blocking and cross-process",
			cur->name);
		return;
	}
	unsigned long w0 = rm_woken;

	rm_subj_worst_ns = 0;
	size_t any = has(IPC_MAILBOX_CAP_BOUNDED) ? 1
		     : has(IPC_MAILBOX_CAP_ZERO)  ? 0
						  : IPC_MAILBOX_UNBOUNDED;
	remove_case(any, 0, "remove, receivers blocked");
	if (has(IPC_MAILBOX_CAP_BOUNDED))
		remove_case(1, 1, "remove, senders blocked on full");
	if (has(IPC_MAILBOX_CAP_ZERO))
		remove_case(0, 1, "remove, senders blocked in a rendezvous");
	fl_info("%-16s remove: %lu blocked parties woken -EIDRM, worst %.2f ms after unlink",
		cur->name, rm_woken - w0, (double)rm_subj_worst_ns / 1e6);
}

/* ---- 4. sweep: the core's failure points, the Nth call failed ------------------------------ */

/* Every point under impl/core that ref-mailbox reaches; faults/run.sh checks
 * every "ipc/..." name in impl/ against --list-points of the sweeps. */
static const char *const points[] = {"ipc/shm/grow", "ipc/shm/map", "ipc/shm/reclaim",
				     "ipc/futex/wait", "ipc/proc/stat"};
#define NPOINTS (sizeof(points) / sizeof(points[0]))
/* A reference subject must reach these. */
#define MUST_FIRE(p) (!strcmp((p), "ipc/shm/grow") || !strcmp((p), "ipc/shm/map"))

static unsigned long sweep_runs, sweep_fired;
static const char *sw_what;
static size_t sw_cap;

/* The model queue of one run: seqs accepted, not yet received. */
static struct {
	uint32_t q[256];
	unsigned head, tail, next;
} mq;

/* An unfaulted step must give want; a faulted one may fail with a negative
 * errno (1: with no effect, which the drain and end checks verify). */
static int judge(const char *step, long rc, long want, int f)
{
	if (rc == want)
		return 0;
	if (f && rc < 0 && rc > -4096)
		return 1;
	VIOLATION("%s on %s %s: %s -> %s, expected %s%s", sw_what, cur->name, capname(sw_cap), step,
		  pl_err(rc), pl_err(want), f ? " (a fault fired)" : "");
	return -1;
}

static unsigned model_len(void)
{
	return mq.tail - mq.head;
}

/* One armed send of the next item; the model follows what it says. */
static void sw_send(struct ipc_mailbox *s, int64_t to)
{
	static unsigned char buf[SWEEP_MSG];
	size_t len = fl_item_make(buf, 7, mq.next, SWEEP_MSG);
	bool full = sw_cap != IPC_MAILBOX_UNBOUNDED && model_len() >= sw_cap;
	int f;
	long rc = FL_NTH(&f, cur->ops->send(s, buf, len, to));

	if (judge("send", rc, full ? (to ? -ETIMEDOUT : -EAGAIN) : 0, f) == 0 && rc == 0)
		mq.q[mq.tail++ % 256] = mq.next++;
	else if (rc != 0)
		mq.next++; /* never reused: an effect shows as an unknown seq */
}

/* One received message against the model's head. */
static void sw_check(const unsigned char *buf, long n, const char *step)
{
	struct fl_item_hdr hd;
	int c = fl_item_check(buf, (size_t)n, SWEEP_MSG, &hd);
	uint32_t want = mq.q[mq.head % 256];

	if (c != 0 || hd.seq != want)
		VIOLATION("%s on %s %s: %s got %s seq %u, expected seq %u (a failed send queued, "
			  "or a failed recv took, a message)",
			  sw_what, cur->name, capname(sw_cap), step, c ? fl_item_why(c) : "intact",
			  hd.seq, want);
	mq.head++;
}

static void sw_recv(struct ipc_mailbox *r, int64_t to)
{
	static unsigned char buf[SWEEP_MSG];
	int f;
	int64_t t0 = fl_now_ns();
	long n = FL_NTH(&f, cur->ops->recv(r, buf, sizeof(buf), to));
	long want = model_len() ? 0 : to ? -ETIMEDOUT : -EAGAIN;

	if (n >= 0 && model_len()) {
		sw_check(buf, n, "recv");
		return;
	}
	judge("recv", n, want, f);
	if (n == -ETIMEDOUT && fl_now_ns() - t0 < to)
		VIOLATION("%s on %s: a timed recv ended early", sw_what, cur->name);
}

/* Drain unarmed: exactly the model, in order. */
static void sw_drain(struct ipc_mailbox *r)
{
	static unsigned char buf[SWEEP_MSG];
	long n;

	while ((n = cur->ops->recv(r, buf, sizeof(buf), 0)) >= 0) {
		if (!model_len()) {
			VIOLATION("%s on %s %s: drain got a message the model does not hold (a "
				  "failed send queued it)",
				  sw_what, cur->name, capname(sw_cap));
			continue;
		}
		sw_check(buf, n, "drain");
	}
	if (model_len())
		VIOLATION("%s on %s %s: %u accepted message(s) missing at the drain (%s)", sw_what,
			  cur->name, capname(sw_cap), model_len(), pl_err(n));
	mq.head = mq.tail;
}

struct rdv {
	struct ipc_mailbox *r;
	long n;
	unsigned char buf[SWEEP_MSG];
};

static void *rdv_recv(void *arg)
{
	struct rdv *v = arg;

	v->n = cur->ops->recv(v->r, v->buf, sizeof(v->buf), fl_scaled_ns(DEADLINE_NS));
	return NULL;
}

/* Zero capacity: nothing held; a blocking send meets a receiver thread. */
static void sw_zero(struct ipc_mailbox *s, struct ipc_mailbox *r)
{
	static unsigned char buf[SWEEP_MSG];
	static struct rdv v;
	pthread_t t;
	int f;

	sw_send(s, 0); /* no receiver waiting: -EAGAIN */
	sw_recv(r, 0);
	v.r = r;
	pthread_create(&t, NULL, rdv_recv, &v);
	size_t len = fl_item_make(buf, 7, mq.next, SWEEP_MSG);
	long rc = FL_NTH(&f, cur->ops->send(s, buf, len, fl_scaled_ns(DEADLINE_NS)));
	if (judge("rendezvous send", rc, 0, f) == 1)
		rc = cur->ops->send(s, buf, len, 200000000);
	pthread_join(t, NULL);
	struct fl_item_hdr hd;
	if (rc != 0 || v.n < 0 || fl_item_check(v.buf, (size_t)v.n, SWEEP_MSG, &hd) != 0 ||
	    hd.seq != mq.next)
		VIOLATION("%s on %s zero: rendezvous send -> %s, receiver -> %s (a failed send "
			  "delivered, or a message lost)",
			  sw_what, cur->name, pl_err(rc), pl_err(v.n));
	mq.next++;
}

static void sw_bounded(struct ipc_mailbox *s, struct ipc_mailbox *r)
{
	for (int round = 0; round < 3; round++) {
		for (int k = 0; k < 3; k++)
			sw_send(s, 0);
		sw_recv(r, 0);
		sw_recv(r, 0);
	}
	for (size_t k = 0; sw_cap != IPC_MAILBOX_UNBOUNDED && k < sw_cap + 2; k++)
		if (model_len() < sw_cap) /* a failed send does not fill it */
			sw_send(s, 0);
	sw_send(s, 1000000); /* full: times out */
	if (sw_cap == IPC_MAILBOX_UNBOUNDED)
		for (int k = 0; k < 40; k++) /* past a 64 KiB chunk: the pool grows */
			sw_send(s, 0);
}

/* The helper party in another process: reapers read its /proc stat. */
static int helper_main(void *arg)
{
	struct ipc_mailbox *h;

	(void)arg;
	if (cur->ops->open(name, IPC_MAILBOX_SEND | IPC_MAILBOX_RECV, &h) != 0)
		return 1;
	atomic_store(&b->stage, 1);
	while (!atomic_load(&b->stop))
		fl_sleep_ns(200000);
	cur->ops->close(h);
	return 0;
}

/* Open armed; a failed open is redone unarmed. NULL on a violation. */
static struct ipc_mailbox *sw_open(uint32_t flags, const char *step)
{
	struct ipc_mailbox *h = NULL;
	int f;
	long rc = FL_NTH(&f, cur->ops->open(name, flags, &h));

	if (judge(step, rc, 0, f) == 1 && (rc = cur->ops->open(name, flags, &h)) != 0)
		VIOLATION("%s on %s: %s after a failed one -> %s", sw_what, cur->name, step,
			  pl_err(rc));
	return rc == 0 ? h : NULL;
}

/* No phantom party from a failed open: once the only sender closes, recv
 * says IPC_EOD; once the only receiver closes, send says -EPIPE. */
static void sw_end(struct ipc_mailbox *s, struct ipc_mailbox *r)
{
	struct ipc_mailbox *s2 = NULL;
	long rc;

	cur->ops->close(s);
	if ((rc = cur->ops->recv(r, NULL, 0, 0)) != IPC_EOD)
		VIOLATION("%s on %s %s: recv after the last sender closed -> %s, expected IPC_EOD "
			  "(a phantom sender)",
			  sw_what, cur->name, capname(sw_cap), pl_err(rc));
	if ((rc = cur->ops->open(name, IPC_MAILBOX_SEND, &s2)) != 0) {
		VIOLATION("%s on %s: open -> %s", sw_what, cur->name, pl_err(rc));
		cur->ops->close(r);
		return;
	}
	cur->ops->close(r);
	if ((rc = cur->ops->send(s2, "x", 1, 0)) != -EPIPE)
		VIOLATION("%s on %s %s: send after the last receiver closed -> %s, expected -EPIPE "
			  "(a phantom receiver)",
			  sw_what, cur->name, capname(sw_cap), pl_err(rc));
	cur->ops->close(s2);
}

static void sw_workload(struct ipc_mailbox *s, struct ipc_mailbox *r)
{
	sw_recv(r, 1000000); /* empty: a timed wait, a reaper's scan */
	if (sw_cap == 0)
		sw_zero(s, r);
	else
		sw_bounded(s, r);
	int rc = cur->ops->validate ? cur->ops->validate(r) : 0;
	if (rc != 0)
		VIOLATION("%s on %s %s: validate() -> %s", sw_what, cur->name, capname(sw_cap),
			  pl_err(rc));
	/* Armed receives: the last one leaves an unbounded pool idle (reclaim). */
	for (unsigned k = model_len() + 4; k-- > 0 && model_len();)
		sw_recv(r, 0);
	sw_drain(r);
}

/* One run: create, open (a helper party elsewhere), the workload, the end
 * checks, unlink; nothing may outlive it. */
static void sweep_run(void)
{
	struct ipc_mailbox_attr attr = {sw_cap, SWEEP_MSG, 0600, 0};
	int fds = fl_count_fds(), maps = pl_count_shared_maps(), f;

	memset(&mq, 0, sizeof(mq));
	new_name();
	long rc = FL_NTH(&f, cur->ops->create(name, &attr));
	if (judge("create", rc, 0, f) == 1 && (rc = cur->ops->create(name, &attr)) != 0)
		VIOLATION("%s on %s: create after a failed one -> %s (a name left)", sw_what,
			  cur->name, pl_err(rc));
	if (rc != 0) {
		left_of(name, -1, true);
		return;
	}
	note_created();
	atomic_store(&b->stage, 0), atomic_store(&b->stop, 0);
	pid_t helper = fl_spawn(helper_main, NULL);
	while (atomic_load(&b->stage) == 0 && fl_reap(helper, 0) == -1)
		sched_yield();
	struct ipc_mailbox *s = sw_open(IPC_MAILBOX_SEND, "open SEND");
	struct ipc_mailbox *r = sw_open(IPC_MAILBOX_RECV, "open RECV");
	if (s && r)
		sw_workload(s, r);
	atomic_store(&b->stop, 1);
	if (fl_reap(helper, fl_now_ns() + fl_scaled_ns(DEADLINE_NS)) != 0)
		VIOLATION("%s on %s: the helper party did not end cleanly", sw_what, cur->name);
	if (s && r && has(IPC_MAILBOX_CAP_END_OF_STREAM))
		sw_end(s, r);
	else {
		if (s)
			cur->ops->close(s);
		if (r)
			cur->ops->close(r);
	}
	if ((rc = cur->ops->unlink(name)) != 0)
		VIOLATION("%s on %s: unlink -> %s", sw_what, cur->name, pl_err(rc));
	if (name_left())
		VIOLATION("%s on %s: %s left after unlink", sw_what, cur->name, name);
	if (fl_count_fds() != fds || pl_count_shared_maps() != maps)
		VIOLATION("%s on %s %s: %d descriptor(s), %d mapping(s) leaked", sw_what, cur->name,
			  capname(sw_cap), fl_count_fds() - fds, pl_count_shared_maps() - maps);
}

/* Each point, N = 1, 2, ... one-shot then persistent, until nothing fires. */
static unsigned long sweep_point(const char *point)
{
	char what[96];
	unsigned long fired = 0;

	fiu_enable_external(point, 1, NULL, 0, fl_nth_cb);
	for (int persistent = 0; persistent < 2; persistent++)
		for (long n = 1;; n++) {
			snprintf(what, sizeof(what), "sweep %s call %ld%s", point, n,
				 persistent ? "+" : "");
			sw_what = what;
			memset(&fl_nth, 0, sizeof(fl_nth));
			fl_nth.n = n, fl_nth.persistent = persistent;
			sweep_run();
			sweep_runs++;
			fired += (unsigned long)fl_nth.fired;
			if (fl_nth.fired == 0 || n > 64)
				break;
		}
	fiu_disable(point);
	return fired;
}

/* Calls of every point one plain run makes (nothing failed). */
static long probe_calls(void)
{
	for (size_t p = 0; p < NPOINTS; p++)
		fiu_enable_external(points[p], 1, NULL, 0, fl_nth_cb);
	memset(&fl_nth, 0, sizeof(fl_nth));
	fl_nth.count_only = 1;
	sw_what = "sweep probe";
	sweep_run();
	for (size_t p = 0; p < NPOINTS; p++)
		fiu_disable(points[p]);
	return fl_nth.calls;
}

static void sweep(void)
{
	size_t caps[4];
	int nc = 0;
	unsigned long r0 = sweep_runs, f0 = sweep_fired, per[NPOINTS] = {0};

	if (!has(IPC_MAILBOX_CAP_NONBLOCK | IPC_MAILBOX_CAP_TIMED)) {
		fl_info("skip %s sweep: needs non-blocking and timed calls", cur->name);
		return;
	}
	if (has(IPC_MAILBOX_CAP_ZERO))
		caps[nc++] = 0;
	if (has(IPC_MAILBOX_CAP_BOUNDED))
		caps[nc++] = 1, caps[nc++] = 7;
	if (has(IPC_MAILBOX_CAP_UNBOUNDED))
		caps[nc++] = IPC_MAILBOX_UNBOUNDED;
	sw_cap = caps[nc - 1];
	if (probe_calls() == 0) {
		fl_info("skip %s sweep: its calls reach none of the points (%s, ...)", cur->name,
			points[0]);
		return;
	}
	for (int c = 0; c < nc; c++) {
		sw_cap = caps[c];
		for (size_t p = 0; p < NPOINTS; p++)
			per[p] += sweep_point(points[p]);
	}
	for (size_t p = 0; p < NPOINTS; p++) {
		sweep_fired += per[p];
		if (per[p] == 0 && MUST_FIRE(points[p]) && !strncmp(cur->name, "ref-", 4))
			VIOLATION("%s never fired on %s", points[p], cur->name);
	}
	fl_info("%-16s sweep: %lu runs, %lu faults fired (grow %lu, map %lu, reclaim %lu, "
		"futex/wait %lu, proc/stat %lu)",
		cur->name, sweep_runs - r0, sweep_fired - f0, per[0], per[1], per[2], per[3],
		per[4]);
}

/* ---- main ----------------------------------------------------------------------------------- */

static void kill_and_storm(const struct fl_opts *o)
{
	size_t caps[4];
	int nc = 0;
	const uint64_t need =
	    IPC_MAILBOX_CAP_CROSS_PROCESS | IPC_MAILBOX_CAP_BLOCKING | IPC_MAILBOX_CAP_NONBLOCK;

	if (!has(need)) {
		fl_info("skip %s kill, eintr: needs cross-process, blocking and non-blocking calls",
			cur->name);
		return;
	}
	if (has(IPC_MAILBOX_CAP_ZERO))
		caps[nc++] = 0;
	else
		fl_info("skip %s capacity 0: no zero capacity", cur->name);
	if (has(IPC_MAILBOX_CAP_BOUNDED))
		caps[nc++] = 1, caps[nc++] = 7;
	else
		fl_info("skip %s capacities 1, 7: not bounded", cur->name);
	if (has(IPC_MAILBOX_CAP_UNBOUNDED))
		caps[nc++] = IPC_MAILBOX_UNBOUNDED;
	else
		fl_info("skip %s unbounded: no unbounded capacity", cur->name);
	/* End of stream without peer death: a killed party would stay open for ever. */
	bool kills = has(IPC_MAILBOX_CAP_PEER_DEATH) || !has(IPC_MAILBOX_CAP_END_OF_STREAM);
	if (!kills)
		fl_info("skip %s kill: end of stream without peer-death", cur->name);
	unsigned nk = o->count ? (unsigned)o->count : o->short_run ? 40 : 400;
	uint32_t quota = o->short_run ? 1500 : 4000; /* <= MAX_SEQ */
	for (int c = 0; c < nc && kills; c++) {
		struct kcase k = {caps[c], 3, 3, 0, nk, 0};
		run_case(&k);
	}
	for (int c = 0; c < nc; c++) {
		struct kcase k = {caps[c], 2, 2, 1, 0, quota};
		run_case(&k);
	}
	/* Blocking calls only, nothing else: kills and signals end waits, and
	 * would hide a lost wake-up that this stream shows as a hang. */
	for (int c = 0; c < nc; c++) {
		struct kcase k = {caps[c], 3, 3, 2, 0, quota};
		run_case(&k);
	}
}

static void campaign(const struct msubj *s, const struct fl_opts *o)
{
	int fds = fl_count_fds();

	cur = s;
	kill_and_storm(o);
	remove_phase();
	sweep();
	if (fl_count_fds() != fds)
		VIOLATION("%s: %d descriptor(s) leaked by the harness's calls", s->name,
			  fl_count_fds() - fds);
}

static int pick_subjects(int argc, char **argv, struct msubj *out)
{
	size_t n;
	const struct ipc_subject *all = ipc_registry_subjects(&n);
	const char *named = NULL;
	int ns = 0;

	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--subject"))
			named = argv[i + 1];
	if (argc == 3 && !strcmp(argv[1], "--is-mailbox")) {
		for (size_t i = 0; i < n; i++)
			if (!strcmp(all[i].name, argv[2]) && all[i].mechanism == IPC_MECH_MAILBOX)
				exit(0);
		exit(1);
	}
	for (size_t i = 0; i < n && ns < MAX_SUBJECTS; i++)
		if (all[i].mechanism == IPC_MECH_MAILBOX && (!named || !strcmp(named, all[i].name)))
			out[ns++] = (struct msubj){all[i].name, all[i].caps, all[i].ops};
	if (ns == 0)
		fl_info("skip: %s is not a mailbox subject; PASS: 0 violation(s)",
			named ? named : "?");
	return ns;
}

/* Names of this run left anywhere: removed, counted. */
static int leftovers(void)
{
	int n = 0;

	char prefix[64];

	for (unsigned i = 0; i < n_names; i++)
		n += left_of(names[i].name, names[i].msqid, true);
	snprintf(prefix, sizeof(prefix), FL_NAME_PREFIX "%d-", (int)getpid());
	return n + fl_shm_leftovers(getpid(), true) + tmp_left(prefix, true);
}

int main(int argc, char **argv)
{
	struct fl_opts o;
	struct msubj subj[MAX_SUBJECTS];
	int64_t t0 = fl_now_ns();

	if (argc == 2 && !strcmp(argv[1], "--list-points")) {
		for (size_t i = 0; i < NPOINTS; i++)
			puts(points[i]);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--cleanup")) {
		int n = cleanup((pid_t)atoi(argv[2]));
		if (n)
			printf("mailbox_faults: removed %d object(s) of run %s\n", n, argv[2]);
		return 0;
	}
	int ns = pick_subjects(argc, argv, subj);
	fl_init(argc, argv, &o);
	if (ns == 0)
		return 0;
	seed = o.seed;
	verbose = o.verbose;
	fiu_init(0);
	b = fl_shared_alloc(sizeof(*b));
	violations = fl_shared_alloc(sizeof(*violations));
	signal(SIGPIPE, SIG_IGN);
	fl_info("seed %u, %d subject(s), SIGALRM every %d us in the eintr phase", seed, ns,
		TICK_NS / 1000);
	for (int i = 0; i < ns; i++)
		campaign(&subj[i], &o);
	int left = leftovers();
	if (left)
		VIOLATION("%d object(s) of this run left behind (removed now)", left);
	uint64_t v = atomic_load(violations);
	fl_info("%lu kills (%lu inside a call, %lu blocked) + %lu death points, %lu messages "
		"checked, %lu missing within the allowance, %lu signals inside calls, %lu -EINTR, "
		"%lu parties woken by unlink (worst %.1f ms), %lu sweep runs (%lu faults), %.1f s",
		tot_kills, tot_in_call, tot_blocked, tot_deaths, tot_msgs, tot_missing, tot_ticks,
		tot_eintr, rm_woken, (double)rm_worst_ns / 1e6, sweep_runs, sweep_fired,
		(double)(fl_now_ns() - t0) / 1e9);
	fl_info("%s: %llu violation(s); reproduce with --seed %u", v ? "FAIL" : "PASS",
		(unsigned long long)v, seed);
	return v ? 1 : 0;
}
