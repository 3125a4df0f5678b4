/* SPDX-License-Identifier: MIT */
/*
 * framing_faults: the framing subjects (spec/framing.md) under libfiu's POSIX
 * preload, signal storms and kill -9 (issue 6, deliverable 6).
 *
 * A sender process sends numbered frames (sizes 0 .. 192 KiB, the number in
 * type and flags, the payload a function of the number) and a receiver
 * process checks each one at its place; the parent only supervises, with a
 * deadline on everything. Socket buffers (or the pipe) are shrunk to 4 KiB
 * so frames cross many transfers. Modes, per subject:
 *  - short:    posix/io/rw/{read,write,writev,readv}/reduce cut transfers
 *              short (pipes: the socket points of the preload cannot reduce);
 *  - EINTR:    read, writev, send, sendmsg, recv and poll fail with EINTR;
 *  - EAGAIN:   read, writev, send, sendmsg, recv fail with EAGAIN on blocking ends;
 *  - nonblock: non-blocking ends, timeout 0, the caller polls and retries;
 *              short transfers and EAGAIN injected (progress across -EAGAIN);
 *  - hard:     rare ENOBUFS (sockets) / EIO (pipe) on the sender's calls and,
 *              in every third run, ECONNRESET (sockets) / EIO (pipe) on the
 *              receiver's, with
 *              short transfers and the storm below so some fall mid-frame;
 *              a refused send is retried once, unarmed;
 *  - storm:    SIGALRM every 250 us in both processes, without SA_RESTART;
 *  - kill:     the sender is killed with SIGKILL at a random moment.
 * Proves: every frame arrives whole, once, in order; the end is IPC_EOD after
 * the last committed frame, -ENODATA after a cut frame, or the injected error
 * (final: the next call says the same); a send refused before any byte
 * commits nothing (the retry is the only copy); no -EINTR / -EAGAIN leaks out
 * of a call without timeout; nobody hangs. Each mode's injections are
 * counted and a mode whose injections never fired is a failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <fiu-control.h>
#include <fiu.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "framing.h"
#include "pipe_common.h"

#define MAX_SUBJECTS 8
#define MAX_PAYLOAD  (192u << 10)
#define BUF_SMALL    4096
#define TICK_NS      250000

static const char *const points[] = {
    "posix/io/rw/write/reduce", "posix/io/rw/writev/reduce", "posix/io/rw/read/reduce",
    "posix/io/rw/readv/reduce", "posix/io/rw/write",         "posix/io/rw/writev",
    "posix/io/rw/read",         "posix/io/rw/readv",         "posix/io/net/send",
    "posix/io/net/sendmsg",     "posix/io/net/recv",         "posix/io/net/recvmsg",
    "posix/io/net/poll",
};
#define NPOINTS (sizeof(points) / sizeof(points[0]))

enum { K_REDUCE, K_EINTR, K_EAGAIN, K_HARD_TX, K_HARD_RX, K_SIGNAL, NKINDS };
static const char *const kind_names[NKINDS] = {"short",   "EINTR",   "EAGAIN",
					       "hard-tx", "hard-rx", "signals"};

struct mode {
	const char *name;
	double p_reduce, p_error, p_hard;
	int err; /* EINTR, EAGAIN, 0: either */
	int nonblock, storm, kill;
};

static const struct mode modes[] = {
    {"short", 0.5, 0, 0, 0, 0, 0, 0},       {"EINTR", 0, 0.3, 0, EINTR, 0, 0, 0},
    {"EAGAIN", 0, 0.3, 0, EAGAIN, 0, 0, 0}, {"nonblock", 0.3, 0.1, 0, EAGAIN, 1, 0, 0},
    {"hard", 0.3, 0, 0.004, 0, 0, 1, 0},    {"storm", 0, 0, 0, 0, 0, 1, 0},
    {"kill", 0, 0, 0, 0, 0, 0, 1},
};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

struct fsubj {
	const char *name;
	const struct ipc_framing_ops *ops;
};

/* Shared with the children; reset for each run. */
struct shared {
	_Atomic uint64_t fired[NKINDS];
	_Atomic uint64_t committed, received, retried;
	_Atomic int send_end, recv_end, recv_done;
};

static struct shared *sh;
static const struct mode *cur;
static uint64_t run_seed;
static int is_pipe;
static _Thread_local int armed;
static struct fl_rng irng;
static _Atomic uint64_t ticks;
static unsigned before; /* the parent's violations, inherited by a child */
static int hard_rx_run; /* hard mode: this run fails the receiver's calls too */
static uint64_t tot_frames, tot_fired, tot_kills, tot_cut; /* for the last line */

/* ---- frames ------------------------------------------------------------------ */

static uint64_t mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

static uint32_t frame_len(uint32_t seq)
{
	uint64_t h = mix(run_seed ^ ((uint64_t)seq << 20));

	switch (cur->kill && h % 2 ? 0 : h % 16) { /* kill: big frames, often cut */
	case 0:
		return (uint32_t)((h >> 8) % MAX_PAYLOAD + 1);
	case 1:
		return 0;
	default:
		return (uint32_t)((h >> 8) % 2048);
	}
}

static void frame_fill(uint32_t seq, unsigned char *buf, uint32_t len)
{
	uint64_t s = mix(run_seed + seq);

	for (uint32_t i = 0; i < len; i++) {
		if (i % 8 == 0)
			s = mix(s);
		buf[i] = (unsigned char)(s >> (8 * (i % 8)));
	}
}

static struct ipc_framing_frame frame_of(uint32_t seq, unsigned char *buf)
{
	struct ipc_framing_frame f = {(uint16_t)seq, (uint16_t)(seq >> 16), frame_len(seq), buf};

	frame_fill(seq, buf, f.len);
	return f;
}

/* ---- injection ------------------------------------------------------------- */

static int chance(double p)
{
	return p > 0 && (double)fl_rng_below(&irng, 1000000) < p * 1e6;
}

static int fire(int kind, void **failinfo, int e)
{
	atomic_fetch_add(&sh->fired[kind], 1);
	*failinfo = (void *)(intptr_t)e;
	return 1;
}

static int inject(const char *name, int *failnum, void **failinfo, unsigned *flags)
{
	int tx = strstr(name, "write") || strstr(name, "send");

	(void)failnum, (void)flags;
	if (!armed)
		return 0;
	if (strstr(name, "/reduce"))
		return chance(cur->p_reduce) ? fire(K_REDUCE, failinfo, 0) : 0;
	if (strstr(name, "/poll")) /* poll(2) fails with EINTR only */
		return cur->err == EINTR && chance(cur->p_error) ? fire(K_EINTR, failinfo, EINTR)
								 : 0;
	if (chance(tx ? cur->p_hard : hard_rx_run ? 5 * cur->p_hard : 0))
		return fire(tx ? K_HARD_TX : K_HARD_RX, failinfo,
			    is_pipe ? EIO
			    : tx    ? ENOBUFS
				    : ECONNRESET);
	if (!chance(cur->p_error))
		return 0;
	int e = cur->err ? cur->err : fl_rng_below(&irng, 2) ? EINTR : EAGAIN;
	return fire(e == EINTR ? K_EINTR : K_EAGAIN, failinfo, e);
}

#define ARMED(expr)                                                                                \
	({                                                                                         \
		armed = 1;                                                                         \
		__typeof__(expr) r_ = (expr);                                                      \
		armed = 0;                                                                         \
		r_;                                                                                \
	})

static void on_tick(int sig)
{
	(void)sig;
	atomic_fetch_add(&ticks, 1);
}

/* In a child: its own injection stream, its storm. */
static void child_setup(int k, timer_t *t)
{
	before = fl_violations();
	fl_rng_seed(&irng, run_seed * 2 + (unsigned)k);
	srandom((unsigned)(run_seed * 2 + (unsigned)k)); /* the /reduce amounts */
	signal(SIGPIPE, SIG_IGN);
	if (cur->storm && fl_signal_storm(on_tick, TICK_NS, t) != 0)
		_exit(3);
}

static void child_done(timer_t t)
{
	if (cur->storm) {
		timer_delete(t);
		atomic_fetch_add(&sh->fired[K_SIGNAL], atomic_load(&ticks));
	}
}

static int wait_fd(int fd, short ev)
{
	struct pollfd p = {.fd = fd, .events = ev};
	int64_t deadline = fl_now_ns() + fl_scaled_ns(20000000000LL);

	while (fl_now_ns() < deadline)
		if (poll(&p, 1, 100) > 0)
			return 0;
	return -ETIMEDOUT;
}

/* ---- the sender ------------------------------------------------------------- */

struct run {
	const struct fsubj *s;
	int fds[2];
	uint32_t frames; /* 0: until killed */
	char what[96];
};

static ssize_t send_one(const struct run *r, struct ipc_framing_tx *tx,
			const struct ipc_framing_frame *f)
{
	if (!cur->nonblock)
		return ARMED(r->s->ops->send(tx, f, -1));
	for (;;) {
		ssize_t n = ARMED(r->s->ops->send(tx, f, 0));
		if (n != -EAGAIN)
			return n;
		if (wait_fd(r->fds[0], POLLOUT) < 0)
			return -ETIMEDOUT;
	}
}

static int flush_all(const struct run *r, struct ipc_framing_tx *tx)
{
	int rc;

	while (cur->nonblock && (rc = ARMED(r->s->ops->flush(tx, 0))) == -EAGAIN)
		if (wait_fd(r->fds[0], POLLOUT) < 0)
			return -ETIMEDOUT;
	return cur->nonblock ? rc : 0;
}

/* A refused send: retried once without faults. Success proves the refusal
 * committed nothing; an error is final (the frame was cut, or the peer left). */
static int send_refused(const struct run *r, struct ipc_framing_tx *tx,
			const struct ipc_framing_frame *f, ssize_t n)
{
	if (n == -EINTR || n == -EAGAIN || n == -ETIMEDOUT) {
		fl_violation("%s: send of frame %u -> %s (must be absorbed)", r->what,
			     (unsigned)sh->committed, fl_err(n));
		return (int)n;
	}
	ssize_t again = r->s->ops->send(tx, f, -1);
	if (again == (ssize_t)f->len) {
		atomic_fetch_add(&sh->retried, 1);
		return 0;
	}
	return (int)n;
}

static int sender(void *arg)
{
	const struct run *r = arg;
	unsigned char *buf = malloc(MAX_PAYLOAD);
	struct ipc_framing_tx *tx;
	timer_t t = 0;
	int rc = 0;

	close(r->fds[1]);
	child_setup(0, &t);
	if (buf == NULL || r->s->ops->tx_open(r->fds[0], &tx) != 0)
		return 2;
	for (uint32_t seq = 0; rc == 0 && (r->frames == 0 || seq < r->frames); seq++) {
		struct ipc_framing_frame f = frame_of(seq, buf);
		ssize_t n = send_one(r, tx, &f);
		if (n != (ssize_t)f.len)
			rc = n < 0 ? send_refused(r, tx, &f, n) : -EPROTO;
		if (rc == 0)
			atomic_fetch_add(&sh->committed, 1);
	}
	if (rc == 0)
		rc = flush_all(r, tx);
	atomic_store(&sh->send_end, rc);
	child_done(t);
	r->s->ops->tx_close(tx);
	close(r->fds[0]);
	free(buf);
	return fl_violations() != before ? 1 : 0;
}

/* ---- the receiver ----------------------------------------------------------- */

static ssize_t recv_one(const struct run *r, struct ipc_framing_rx *rx, struct ipc_framing_frame *f)
{
	if (!cur->nonblock)
		return ARMED(r->s->ops->recv(rx, f, -1));
	for (;;) {
		ssize_t n = ARMED(r->s->ops->recv(rx, f, 0));
		if (n != -EAGAIN)
			return n;
		if (wait_fd(r->fds[1], POLLIN) < 0)
			return -ETIMEDOUT;
	}
}

static void check_frame(const struct run *r, uint32_t seq, const struct ipc_framing_frame *f,
			unsigned char *want)
{
	struct ipc_framing_frame w = frame_of(seq, want);
	uint32_t got = (uint32_t)f->type | (uint32_t)f->flags << 16;

	if (got != seq)
		fl_violation("%s: frame %u arrived where %u was due (%s)", r->what, got, seq,
			     got < seq ? "duplicate" : "lost frames");
	else if (f->len != w.len || (w.len && memcmp(f->payload, want, w.len) != 0))
		fl_violation("%s: frame %u damaged (%u bytes, %u due)", r->what, seq, f->len,
			     w.len);
}

static void check_end(const struct run *r, struct ipc_framing_rx *rx, ssize_t end)
{
	struct ipc_framing_frame f;
	int ok = end == IPC_EOD || end == -ENODATA ||
		 (cur->p_hard > 0 && end == (is_pipe ? -EIO : -ECONNRESET));

	if (!ok)
		fl_violation("%s: receive ended with %s after %llu frame(s)", r->what, fl_err(end),
			     (unsigned long long)sh->received);
	else if (r->s->ops->recv(rx, &f, 0) != end)
		fl_violation("%s: end %s is not final", r->what, fl_err(end));
}

static int receiver(void *arg)
{
	const struct run *r = arg;
	unsigned char *want = malloc(MAX_PAYLOAD);
	struct ipc_framing_rx *rx;
	struct ipc_framing_frame f;
	timer_t t = 0;
	ssize_t n;

	close(r->fds[0]);
	child_setup(1, &t);
	if (want == NULL || r->s->ops->rx_open(r->fds[1], MAX_PAYLOAD, &rx) != 0)
		return 2;
	for (uint32_t seq = 0; (n = recv_one(r, rx, &f)) >= 0; seq++) {
		check_frame(r, seq, &f, want);
		atomic_fetch_add(&sh->received, 1);
	}
	child_done(t);
	check_end(r, rx, n);
	atomic_store(&sh->recv_end, (int)n);
	atomic_store(&sh->recv_done, 1);
	r->s->ops->rx_close(rx);
	close(r->fds[1]);
	free(want);
	return fl_violations() != before ? 1 : 0;
}

/* ---- one run ------------------------------------------------------------------ */

static void shrink(int fds[2])
{
	int sz = BUF_SMALL, dom = 0;
	socklen_t len = sizeof(dom);
	struct stat st;

	if (fstat(fds[0], &st) == 0 && S_ISFIFO(st.st_mode)) {
		is_pipe = 1;
		fcntl(fds[0], F_SETPIPE_SZ, sz);
		return;
	}
	is_pipe = 0;
	/* TCP: shrinking a connected receiver's window stalls loopback for
	 * seconds, and a small send buffer waits on delayed acks (2000 frames:
	 * 0.05 s -> 3.5 s), so only the modes that need frames cut by their
	 * sender (hard, kill) get a 32 KiB send buffer. */
	if (getsockopt(fds[0], SOL_SOCKET, SO_DOMAIN, &dom, &len) == 0 && dom != AF_UNIX) {
		sz = 8 * BUF_SMALL;
		if (cur->kill || cur->p_hard > 0)
			setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		return;
	}
	setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

static void reap(pid_t pid, const char *who, const struct run *r, int killed)
{
	int st = fl_reap(pid, fl_now_ns() + fl_scaled_ns(30000000000LL));

	if (st == -1) {
		fl_violation("%s: the %s hangs", r->what, who);
		kill(pid, SIGKILL);
		fl_reap(pid, fl_now_ns() + 5000000000LL);
	} else if (!(killed && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) && st != 0) {
		fl_violation("%s: the %s: %s", r->what, who, fl_status(st));
	}
}

/* What the two sides saw must agree (see the header comment). */
static void judge(const struct run *r)
{
	uint64_t c = sh->committed, got = sh->received;
	int se = sh->send_end, re = sh->recv_end;

	if (!sh->recv_done)
		return;       /* already reported */
	if (r->frames == 0) { /* killed: the frame in flight may be whole */
		if (got < c || got > c + 1)
			fl_violation("%s: %llu frame(s) received, %llu committed", r->what,
				     (unsigned long long)got, (unsigned long long)c);
		return;
	}
	if (re == IPC_EOD && (se != 0 || got != r->frames))
		fl_violation("%s: end of stream after %llu of %u frame(s) (send end %s)", r->what,
			     (unsigned long long)got, r->frames, fl_err(se));
	else if (re == -ENODATA && (se == 0 || got != c))
		fl_violation("%s: -ENODATA after %llu frame(s), %llu committed, send end %s",
			     r->what, (unsigned long long)got, (unsigned long long)c, fl_err(se));
	else if (re != IPC_EOD && re != -ENODATA && got > c)
		fl_violation("%s: %llu frame(s) received, %llu committed", r->what,
			     (unsigned long long)got, (unsigned long long)c);
}

static int one_run(const struct fsubj *s, uint32_t frames, struct fl_rng *rng)
{
	static struct run r;
	pid_t rp, sp;

	memset((void *)sh, 0, sizeof(*sh));
	r.s = s, r.frames = frames;
	snprintf(r.what, sizeof(r.what), "%s %s", s->name, cur->name);
	int rc = s->ops->pair(cur->nonblock ? IPC_FRAMING_NONBLOCK : 0, r.fds);
	if (rc != 0) {
		fl_violation("%s: pair -> %s", r.what, fl_err(rc));
		return rc;
	}
	shrink(r.fds);
	rp = fl_spawn(receiver, &r);
	sp = fl_spawn(sender, &r);
	close(r.fds[0]), close(r.fds[1]);
	if (cur->kill) { /* a random moment, not a synchronisation */
		fl_sleep_ns((int64_t)fl_rng_below(rng, 20000000));
		kill(sp, SIGKILL);
	}
	reap(sp, "sender", &r, cur->kill);
	reap(rp, "receiver", &r, 0);
	judge(&r);
	return sh->recv_end;
}

/* ---- a subject ----------------------------------------------------------------- */

static void judge_fired(const char *what, const uint64_t *fired)
{
	int need[NKINDS] = {0};

	need[K_REDUCE] = cur->p_reduce > 0 && is_pipe;
	need[K_EINTR] = cur->p_error > 0 && cur->err != EAGAIN;
	need[K_EAGAIN] = cur->p_error > 0 && cur->err != EINTR;
	need[K_HARD_TX] = need[K_HARD_RX] = cur->p_hard > 0;
	need[K_SIGNAL] = cur->storm;
	for (int k = 0; k < NKINDS; k++)
		if (need[k] && fired[k] == 0)
			fl_violation("%s: no %s injection fired: injection is not working", what,
				     kind_names[k]);
}

static void one_mode(const struct fsubj *s, int runs, uint32_t frames, struct fl_rng *rng)
{
	uint64_t fired[NKINDS] = {0}, frames_ok = 0, retried = 0;
	int ends[3] = {0}; /* IPC_EOD, -ENODATA, an injected error */
	int64_t t0 = fl_now_ns();
	char what[96];

	snprintf(what, sizeof(what), "%s %s", s->name, cur->name);
	for (int i = 0; i < runs; i++) {
		run_seed = fl_rng_next(rng);
		hard_rx_run = i % 3 == 2; /* the others let a cut frame reach its end */
		int end = one_run(s, cur->kill ? 0 : frames, rng);
		ends[end == IPC_EOD ? 0 : end == -ENODATA ? 1 : 2]++;
		for (int k = 0; k < NKINDS; k++)
			fired[k] += sh->fired[k];
		frames_ok += sh->received, retried += sh->retried;
	}
	judge_fired(what, fired);
	tot_frames += frames_ok, tot_kills += cur->kill ? (uint64_t)runs : 0;
	tot_cut += cur->kill ? (uint64_t)ends[1] : 0;
	for (int k = 0; k < NKINDS; k++)
		tot_fired += fired[k];
	fl_info(
	    "%-19s %-8s %d run(s), %llu frames checked; ends: %d EOD, %d ENODATA, %d error; "
	    "fired: %llu short, %llu EINTR, %llu EAGAIN, %llu hard tx (%llu retried), %llu hard "
	    "rx, %llu signals; %.2f s",
	    s->name, cur->name, runs, (unsigned long long)frames_ok, ends[0], ends[1], ends[2],
	    (unsigned long long)fired[K_REDUCE], (unsigned long long)fired[K_EINTR],
	    (unsigned long long)fired[K_EAGAIN], (unsigned long long)fired[K_HARD_TX],
	    (unsigned long long)retried, (unsigned long long)fired[K_HARD_RX],
	    (unsigned long long)fired[K_SIGNAL], (unsigned long long)(fl_now_ns() - t0) / 1e9);
	if (cur->kill && ends[1] == 0)
		fl_violation("%s: no kill cut a frame (no -ENODATA seen)", what);
}

/* A subject whose transport this machine lacks (framing-veth without root
 * or network namespaces) says so from pair(): skipped, with the reason. */
static int available(const struct fsubj *s)
{
	int fds[2], rc = s->ops->pair(0, fds);

	if (rc == 0)
		close(fds[0]), close(fds[1]);
	if (rc == -EPERM || rc == -EOPNOTSUPP || rc == -ENOSYS) {
		fl_info("skip %s: pair() -> %s: its transport is not available here", s->name,
			fl_err(rc));
		return 0;
	}
	return 1; /* any other failure is reported by the runs */
}

static void campaign(const struct fsubj *s, const struct fl_opts *o, struct fl_rng *rng)
{
	if (!available(s))
		return;
	uint32_t frames = (uint32_t)(o->count ? o->count : o->short_run ? 2000 : 12000);
	int kills = o->short_run ? 20 : 100, hards = o->short_run ? 15 : 30;

	for (size_t m = 0; m < NMODES; m++) {
		cur = &modes[m];
		one_mode(s, cur->kill ? kills : cur->p_hard > 0 ? hards : 1, frames, rng);
	}
}

/* ---- subjects, main ---------------------------------------------------------------- */

static int pick_subjects(int argc, char **argv, struct fsubj *out)
{
	size_t n;
	const struct ipc_subject *all = ipc_registry_subjects(&n);
	const char *named = NULL;
	int ns = 0;

	if (argc == 3 && !strcmp(argv[1], "--is-framing")) {
		for (size_t i = 0; i < n; i++)
			if (!strcmp(all[i].name, argv[2]) && all[i].mechanism == IPC_MECH_FRAMING)
				exit(0);
		exit(1);
	}
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--subject"))
			named = argv[i + 1];
	for (size_t i = 0; i < n && ns < MAX_SUBJECTS; i++)
		if (all[i].mechanism == IPC_MECH_FRAMING && (!named || !strcmp(named, all[i].name)))
			out[ns++] = (struct fsubj){all[i].name, all[i].ops};
	if (ns == 0)
		printf("[framing_faults] skip: %s is not a framing subject; PASS: 0 violation(s)\n",
		       named ? named : "?");
	return ns;
}

int main(int argc, char **argv)
{
	struct fl_opts o;
	struct fsubj subj[MAX_SUBJECTS];
	struct fl_rng rng;
	int64_t t0 = fl_now_ns();

	if (argc == 2 && !strcmp(argv[1], "--list-points"))
		return 0; /* no ipc/... point in impl/framing */
	int ns = pick_subjects(argc, argv, subj);
	if (ns == 0)
		return 0;
	pl_ensure_preload(argv);
	fl_init(argc, argv, &o);
	fiu_init(0);
	for (size_t i = 0; i < NPOINTS; i++)
		fiu_enable_external(points[i], 1, NULL, 0, inject);
	sh = fl_shared_alloc(sizeof(*sh));
	signal(SIGPIPE, SIG_IGN);
	fl_rng_seed(&rng, o.seed);
	fl_info("seed %u, %d subject(s), libfiu preload %s", o.seed, ns,
		pl_preloaded() ? "on" : "OFF");
	if (!pl_preloaded())
		fl_violation("the libfiu POSIX preload is not loaded: nothing would be injected");
	for (int i = 0; i < ns; i++)
		campaign(&subj[i], &o, &rng);
	fl_info("%llu frames checked, %llu injections and signals, %llu kills (%llu cut a frame), "
		"%.1f s; %s: %u violation(s); reproduce with --seed %u",
		(unsigned long long)tot_frames, (unsigned long long)tot_fired,
		(unsigned long long)tot_kills, (unsigned long long)tot_cut,
		(double)(fl_now_ns() - t0) / 1e9, fl_violations() ? "FAIL" : "PASS",
		fl_violations(), o.seed);
	return fl_violations() ? 1 : 0;
}
