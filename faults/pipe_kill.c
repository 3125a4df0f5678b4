/* SPDX-License-Identifier: MIT */
/*
 * pipe_kill: SIGKILL one side of a pipe in the middle of a transfer.
 *
 * For each kill a fresh pipe carries a checksummed stream from a writer
 * process to a reader process (both move it with the impl/io helpers, in
 * chunks up to 256 KiB, through a one-page or a default-size pipe, pausing
 * now and then so each side also spends time blocked). The parent picks the
 * victim (writer and reader in turn), waits until the victim's progress
 * passes a random threshold (0 to ~1 MiB, a third of the time 0: before or
 * during its first call), spins 0-300 us more and sends SIGKILL.
 *
 * Proves, per kill: the survivor ends within DEADLINE of the kill, never
 * before it, and never hangs (the parent reaps it with that deadline);
 *   - writer killed: the reader gets end of file (IPC_EOD, or -ENODATA when
 *     it stops inside a request), having received every byte of every
 *     write_all that returned, plus perhaps a prefix of the one in flight,
 *     each checked at its offset (nothing lost, duplicated or reordered);
 *   - reader killed: the writer's write_all says -EPIPE (SIGPIPE ignored).
 * Transports: kernel descriptors, then each pipe subject that crosses
 * processes and closes a dead holder's ends (IPC_PIPE_CAP_PEER_DEATH).
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pipe_common.h"

#define DEADLINE_NS 2000000000LL /* kill -> end of file / -EPIPE, scaled */

struct board {
	_Atomic uint64_t moved[2]; /* 0: bytes whose write_all returned; 1: bytes checked */
	_Atomic int64_t kill_ns;   /* just before the victim was killed (0: not yet) */
	_Atomic int64_t end_ns;    /* when the survivor's stream ended */
	_Atomic long end_rc;       /* and with what */
};

static struct board *b;
static unsigned total_kills;
static int64_t total_worst; /* over every campaign, for the summary */

struct role {
	struct pl_end mine, other;
	struct pl_xfer x;
	int side; /* 0 writer, 1 reader */
};

/* Victim or survivor: move the stream until it ends, record how. */
static int child(void *arg)
{
	struct role *r = arg;
	unsigned before = fl_violations(); /* the parent's, inherited */
	int rc;

	signal(SIGPIPE, SIG_IGN);
	pl_close(&r->other);
	rc = r->side ? pl_read_stream(&r->mine, &r->x) : pl_write_stream(&r->mine, &r->x);
	atomic_store(&b->end_ns, fl_now_ns());
	atomic_store(&b->end_rc, r->x.end_rc);
	return rc || fl_violations() != before ? 1 : 0;
}

static void setup_role(struct role *r, int side, struct pl_end ends[2], uint64_t seed,
		       const char *what)
{
	memset(r, 0, sizeof(*r));
	r->side = side;
	r->mine = ends[side ? 0 : 1], r->other = ends[side ? 1 : 0];
	r->x.seed = seed, r->x.total = PL_UNTIL_EOF, r->x.max_chunk = PL_MAX_CHUNK;
	r->x.pct_resume = 30;
	r->x.pause_every = side ? 5 : 7, r->x.pause_ns = 400000;
	r->x.give_up_ns = fl_now_ns() + fl_scaled_ns(30000000000LL);
	r->x.progress = &b->moved[side];
	r->x.what = what;
}

/* ---- one kill -------------------------------------------------------------------- */

struct tally {
	unsigned kills[2];  /* by victim side */
	int64_t worst[2];   /* longest kill -> end of the survivor, by victim side */
	uint64_t bytes;     /* delivered in all */
	unsigned partial;   /* writer kills where the reader ended inside a request */
};

/* Wait until the victim has moved `threshold` bytes (or ended), bounded. */
static void wait_progress(int victim, uint64_t threshold, const char *what)
{
	int64_t give_up = fl_now_ns() + fl_scaled_ns(DEADLINE_NS * 5);

	while (atomic_load(&b->moved[victim]) < threshold && !atomic_load(&b->end_ns)) {
		if (fl_now_ns() > give_up) {
			fl_violation("%s: the stream stalled at %llu bytes", what,
				     (unsigned long long)atomic_load(&b->moved[victim]));
			return;
		}
		sched_yield();
	}
}

static void pull_trigger(pid_t pid, int victim, struct fl_rng *r, const char *what)
{
	uint64_t threshold = fl_rng_below(r, 3) == 0 ? 0 : fl_rng_below(r, 1u << (8 + fl_rng_below(r, 13)));
	int64_t spin_until;

	wait_progress(victim, threshold, what);
	spin_until = fl_now_ns() + (int64_t)fl_rng_below(r, 300000);
	while (fl_now_ns() < spin_until)
		;
	/* Stamped before the signal: the survivor may see the end before
	 * kill() even returns here. */
	atomic_store(&b->kill_ns, fl_now_ns());
	kill(pid, SIGKILL);
}

/* The survivor must end after the kill, within the deadline, the right way. */
static void judge_survivor(pid_t pid, int victim, struct tally *t, const char *what)
{
	int64_t kill_ns = atomic_load(&b->kill_ns);
	int st = fl_reap(pid, kill_ns + fl_scaled_ns(DEADLINE_NS));
	int64_t end_ns = atomic_load(&b->end_ns);
	long rc = atomic_load(&b->end_rc);

	if (st == -1) {
		fl_violation("%s: hang: the %s did not end within %lld ms of the kill", what,
			     victim ? "writer" : "reader", (long long)fl_scaled_ns(DEADLINE_NS) / 1000000);
		kill(pid, SIGKILL);
		fl_reap(pid, fl_now_ns() + 5000000000LL);
		return;
	}
	if (st != 0)
		fl_violation("%s: survivor %s", what, fl_status(st));
	if (end_ns < kill_ns)
		fl_violation("%s: the survivor's stream ended (%s) before the kill", what, pl_err(rc));
	if (victim == 1 && rc != -EPIPE)
		fl_violation("%s: the writer ended with %s, expected -EPIPE", what, pl_err(rc));
	if (victim == 0 && rc != IPC_EOD && rc != -ENODATA)
		fl_violation("%s: the reader ended with %s, expected end of file", what, pl_err(rc));
	if (victim == 0 && atomic_load(&b->moved[1]) < atomic_load(&b->moved[0]))
		fl_violation("%s: %llu bytes read, but write_all returned for %llu", what,
			     (unsigned long long)b->moved[1], (unsigned long long)b->moved[0]);
	t->partial += victim == 0 && rc == -ENODATA;
	if (end_ns - kill_ns > t->worst[victim])
		t->worst[victim] = end_ns - kill_ns;
}

static void one_kill(const struct pl_subject *s, int victim, struct fl_rng *r, struct tally *t)
{
	static char what[96];
	static struct role roles[2];
	struct pl_end ends[2];
	char name[128];
	pid_t pid[2];

	snprintf(what, sizeof(what), "%s kill %u (%s)", s->name,
		 t->kills[0] + t->kills[1] + 1, victim ? "reader" : "writer");
	memset(b, 0, sizeof(*b));
	fl_name(name, sizeof(name), "kill");
	int rc = pl_make(s, name, fl_rng_below(r, 2) ? 4096 : 0, 0, &ends[0], &ends[1]);
	if (rc != 0) {
		fl_violation("%s: create -> %s", what, pl_err(rc));
		return;
	}
	uint64_t stream = fl_rng_next(r);
	for (int k = 0; k < 2; k++) {
		setup_role(&roles[k], k, ends, stream, what);
		pid[k] = fl_spawn(child, &roles[k]);
	}
	pl_close(&ends[0]), pl_close(&ends[1]);
	pull_trigger(pid[victim], victim, r, what);
	fl_reap(pid[victim], fl_now_ns() + 5000000000LL);
	judge_survivor(pid[1 - victim], victim, t, what);
	if (s->ops && s->ops->unlink)
		s->ops->unlink(name);
	t->kills[victim]++;
	t->bytes += atomic_load(&b->moved[1]);
}

static void campaign(const struct pl_subject *s, unsigned kills, unsigned seed)
{
	struct fl_rng r;
	struct tally t = {{0}, {0}, 0, 0};
	int64_t t0 = fl_now_ns();
	int fds = fl_count_fds();

	fl_rng_seed(&r, seed);
	for (unsigned k = 0; k < kills; k++)
		one_kill(s, (int)(k & 1), &r, &t);
	if (fl_count_fds() != fds)
		fl_violation("%s: %d descriptor(s) leaked by the parent", s->name,
			     fl_count_fds() - fds);
	total_kills += t.kills[0] + t.kills[1];
	for (int v = 0; v < 2; v++)
		total_worst = t.worst[v] > total_worst ? t.worst[v] : total_worst;
	fl_info("%-12s %u kills (writer %u, reader %u, %u reader ends inside a request), %.1f MiB "
		"delivered; worst kill -> EOF %.1f ms, kill -> EPIPE %.1f ms; %.1f s",
		s->name, t.kills[0] + t.kills[1], t.kills[0], t.kills[1], t.partial,
		(double)t.bytes / (1 << 20), (double)t.worst[0] / 1e6, (double)t.worst[1] / 1e6,
		(double)(fl_now_ns() - t0) / 1e9);
}

int main(int argc, char **argv)
{
	struct fl_opts o;
	struct pl_subject subj[PL_MAX_SUBJECTS];
	const uint64_t need = IPC_PIPE_CAP_CROSS_PROCESS | IPC_PIPE_CAP_PEER_DEATH |
			      IPC_PIPE_CAP_BLOCKING;
	int64_t t0 = fl_now_ns();

	pl_is_pipe_query(argc, argv);
	fl_init(argc, argv, &o);
	fl_info("seed %u, deadline kill -> end %lld ms", o.seed,
		(long long)fl_scaled_ns(DEADLINE_NS) / 1000000);
	int ns = pl_subjects(argc, argv, subj);
	unsigned kills = o.count ? (unsigned)o.count : o.short_run ? 12 : 100;

	b = fl_shared_alloc(sizeof(*b));
	for (int i = 0; i < ns; i++) {
		if ((subj[i].caps & need) != need) {
			fl_info("skip %s: no cross-process ends closed by death", subj[i].name);
			continue;
		}
		campaign(&subj[i], kills, o.seed + (unsigned)i);
	}
	if (fl_shm_leftovers(getpid(), true))
		fl_violation("a /dev/shm name was left behind");
	fl_info("%u kills, worst kill -> end %.1f ms, %.1f s; %s: %u violation(s); reproduce with "
		"--seed %u", total_kills, (double)total_worst / 1e6, (double)(fl_now_ns() - t0) / 1e9,
		fl_violations() ? "FAIL" : "PASS", fl_violations(), o.seed);
	return fl_violations() ? 1 : 0;
}
