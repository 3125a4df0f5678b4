/* SPDX-License-Identifier: MIT */
/* Target functions: ipc_fifo_ref_mkfifo ipc_fifo_ref_open ipc_fifo_ref_unlink ipc_fifo_ref_truncate ipc_fifo_ref_stat_mode, ref-pipe's handle ops (through ipc__subject_ref_fifo), native-fifo's ops */
/*
 * Differential fuzzing of the fifo mechanism: ref-fifo (impl/fifo/ref_fifo.c)
 * and the kernel's FIFO (native-fifo) run the same operation sequence side by
 * side, in one process and one thread, each in its own temporary directory
 * (mkdtemp under $TMPDIR or /tmp, removed after every input) holding two
 * paths, "a" and "b". The input is a program of op bytes (kind | arg << 3):
 *
 *   0 mkfifo(path)                         arg bit 0: path
 *   1 open(path, flags) into a free slot   arg: path | acc << 1 (RD, WR, RDWR,
 *                                          3 = invalid) | NONBLOCK << 3 | TRUNC << 4
 *   2 write n through slot                 arg: slot (0-7); operand: len byte
 *   3 read n through slot                  arg: slot; operand: len byte
 *   4 close slot                           arg: slot
 *   5 unlink(path)                         arg bit 0: path
 *   6 truncate(path, 0 or 100)             arg bit 0: path, bit 1: length
 *   7 misc: arg & 3 = 0 stat_mode(path arg>>2 & 1), or with arg bit 4 poll
 *     (IN | OUT, timeout 0) on slot arg>>2 & 3, 1 drain through slot
 *     (arg >> 2), 2 close every handle, 3 fill through slot (arg >> 2):
 *     writes of PIPE_BUF until refused (at most 20)
 *
 * A len byte as in pipe_diff: 0..127 as is, 128..191 KiB steps (odd adds 1),
 * 192..255 a table of edges (PIPE_BUF +- 1, 8 KiB +- 1, 64 KiB +- 1, up to
 * 128 KiB: the output arena; pipe_diff's 256 KiB..1 MiB entries read 64 KiB).
 *
 * The model (one per subject, fed by that subject's own results): per path,
 * whether a FIFO is there and which one; per FIFO, its readers and writers
 * (RDWR counts as both, FIFO-RDWR-2), its capacity (get_capacity at the start
 * of each period of use), bytes written and read (stream bytes are a
 * function of FIFO and offset, so a byte from the old FIFO, a lost or
 * repeated byte shows). From it spec/fifo.md and spec/pipe.md fix the result
 * of each call, and both subjects must return it:
 *   mkfifo 0 / -EEXIST (MAKE-2); open -ENOENT (MAKE-5), -EINVAL (bad access
 *   mode), -ENXIO for a non-blocking writer without reader (OPEN-5), 0
 *   otherwise (OPEN-4, RDWR-1/2, TRUNC-1); unlink 0 / -ENOENT (NAME-3);
 *   truncate -EINVAL / -ENOENT (TRUNC-2); stat_mode S_IFIFO | 0600 or
 *   -ENOENT (MAKE-1/3); read min(n, Q) and the right bytes, -EAGAIN when
 *   empty with a writer, 0 (EOF) with none, also before any writer came
 *   (IO-2, IO-3, OPEN-6), -EBADF on a write-only handle; write -EPIPE with no
 *   reader (POLL-3), -EBADF on a read-only handle, n <= PIPE_BUF whole or
 *   -EAGAIN when fewer than n bytes are free (ATOM-2), min(n, C) into an
 *   empty FIFO (CAP-1, ATOM-3); the data of a FIFO is gone after its last
 *   close (NAME-2); a FIFO made again at an unlinked path is new (NAME-4);
 *   every open reaches the same pipe (NAME-5). Closing returns 0. poll: IN
 *   iff bytes are queued; a reader that no writer ever reached is not hung
 *   up (FIFO-POLL-1), one whose writers came and left is (POLL-2); ERR for a
 *   writer without reader (POLL-3); OUT on an empty FIFO, never with fewer
 *   than PIPE_BUF bytes free, and for ref-fifo whenever PIPE_BUF are free.
 *
 * Deliberately not compared (may legitimately differ):
 *  - The kernel counts pages, not bytes (docs/fuzzing.md, pipe_diff): with
 *    room = C - Q >= n a write of n <= PIPE_BUF is fixed only while the
 *    kernel surely has a free page (every write took at most
 *    ceil(k / 4096) + 1 pages since the FIFO was last empty); otherwise the
 *    kernel may return -EAGAIN. ref-fifo (a byte ring) is held exactly.
 *  - How much of a write above PIPE_BUF a non-empty FIFO takes
 *    (1..min(n, room), or -EAGAIN for the kernel). Each model follows its
 *    subject's result; the models may part until the FIFO is drained.
 *  - The default capacity: each subject's own (only >= PIPE_BUF is checked).
 *  - Zero-length I/O on the wrong end: -EBADF (PIPE-END-1) or 0 (END-5).
 *  - poll: HUP on a reader that opened after every writer had left and that
 *    no writer has reached since (FIFO-POLL-1 speaks of a FIFO no writer
 *    ever opened; Linux stays quiet), IN at end of file (PIPE-POLL-5 is a
 *    SHOULD), OUT with no reader, and OUT for the kernel where pages decide.
 *  - st_mode beyond type and permission bits (ref-fifo is a regular file
 *    underneath, reported as S_IFIFO).
 * A call that could block is never made: blocking opens only where they
 * cannot wait (RDWR; RDONLY with a writer in; WRONLY with a reader in), and
 * I/O through a blocking handle only where it cannot wait. SIGPIPE is
 * ignored (-EPIPE). After every input no descriptor is left over, the
 * temporary directory is empty (rmdir succeeds), and every 64 inputs no
 * mapping of a file in it is left.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fifo.h"
#include "fifo/ref_fifo.h"
#include "fuzz_common.h"
#include "ipc_subject.h"
#include "pipe.h"

extern const struct ipc_subject ipc__subject_native_fifo;

#define NSUB 2     /* 0: ref-fifo, 1: native-fifo */
#define NSLOT 8    /* handles */
#define NPATH 2
#define NINST 64   /* FIFOs made per input */
#define MAX_STEPS 512
#define MAXW ((size_t)IPC_FUZZ_ARENA)
#define PATN 65521u
#define PB ((size_t)IPC_PIPE_BUF)
#define PAGE ((size_t)4096)
#define MODE 0600u
#define ACC_RD 1u
#define ACC_WR 2u
#define DIR_TAG "ipcspec-ffuzz-"

enum { K_MKFIFO, K_OPEN, K_WRITE, K_READ, K_CLOSE, K_UNLINK, K_TRUNCATE, K_MISC };

struct inst {
	int nr, nw;          /* handles open that read / write */
	uint64_t wpos, rpos; /* stream offsets in this period of use */
	uint64_t base;       /* stream offset where this period began (bytes differ per period) */
	size_t cap;
	unsigned pages;      /* upper bound of kernel pages taken since last empty */
	long wopens;         /* writer opens over the FIFO's life (RDWR included) */
};

struct handle {
	struct ipc_pipe *p;
	int inst;
	unsigned acc; /* ACC_RD | ACC_WR */
	bool nb;
	long quiet;   /* RDONLY opened with no writer in: wopens then (no HUP until a
		       * writer comes, Linux); -1 when a writer was in */
};

struct sub {
	const struct ipc_subject *subj;
	const struct ipc_fifo_ops *ops;
	bool byte_room; /* room counted in bytes (ref-fifo), not kernel pages */
	char dir[256];
	char path[NPATH][300];
	int at[NPATH]; /* instance at the path, -1: nothing there */
	struct inst in[NINST];
	int ninst;
	struct handle h[NSLOT];
};

static struct sub S[NSUB];
static struct {
	struct ipc_fuzz_in in;
	unsigned step;
	unsigned long inputs;
} R;
static bool TRACE;
static uint8_t PAT[PATN];
static mode_t UMASK;

static const char *label(int s) { return S[s].subj->name; }

static uint8_t stream_byte(int inst, uint64_t off)
{
	return PAT[(off + (uint64_t)inst * 7919u) % PATN];
}

/* ---- allowed results -------------------------------------------------------- */

struct want {
	long v[3];
	int n;
	long lo, hi; /* also any value in [lo, hi] when lo <= hi */
};

static void want1(struct want *w, long v) { *w = (struct want){ .v = { v }, .n = 1, .lo = 1, .hi = 0 }; }
static void want_add(struct want *w, long v) { w->v[w->n++] = v; }

static bool want_has(const struct want *w, long r)
{
	for (int i = 0; i < w->n; i++)
		if (w->v[i] == r)
			return true;
	return w->lo <= w->hi && r >= w->lo && r <= w->hi;
}

static bool want_fixed(const struct want *w) { return w->n == 1 && w->lo > w->hi; }

/* Each result is checked against its subject's set. While the two models are
 * in the same state (always, until a result the clauses leave open), a fixed
 * set is the same one value for both: the two subjects must agree. */
static void judge(const char *what, const char *clause, const struct want *w, const long *r)
{
	if (TRACE)
		fprintf(stderr, "step %u %s: %s %s / %s %s\n", R.step, what, label(0),
			ipc_fuzz_rc(r[0]), label(1), ipc_fuzz_rc(r[1]));
	for (int s = 0; s < NSUB; s++)
		if (!want_has(&w[s], r[s]))
			IPC_FUZZ_FAIL("step %u %s: %s returned %s, %s returned %s; %s says %s%s%s", R.step,
				      what, label(s), ipc_fuzz_rc(r[s]), label(!s), ipc_fuzz_rc(r[!s]),
				      clause, want_fixed(&w[s]) ? "" : "one of a set, first ",
				      ipc_fuzz_rc(w[s].v[0]),
				      w[s].lo <= w[s].hi ? " or a count in a range" : "");
}

/* ---- the model ---------------------------------------------------------------- */

static void inst_note_close(struct sub *s, int k, unsigned acc)
{
	struct inst *I = &s->in[k];

	I->nr -= !!(acc & ACC_RD);
	I->nw -= !!(acc & ACC_WR);
	if (I->nr == 0 && I->nw == 0) { /* FIFO-NAME-2: the bytes go with the last close */
		I->base += I->wpos + 4099;
		I->wpos = I->rpos = 0;
		I->pages = 0;
	}
}

static void got_read(struct sub *s, int k)
{
	struct inst *I = &s->in[k];

	if (I->rpos == I->wpos)
		I->pages = 0; /* empty: the kernel frees every page */
}

static unsigned pages_for(size_t k) { return k == 0 ? 0 : (unsigned)((k + PAGE - 1) / PAGE) + (k > PB); }

/* ---- operations ----------------------------------------------------------------- */

static void do_mkfifo(int pi)
{
	struct want w[NSUB];
	long r[NSUB];
	char what[64];

	if (S[0].ninst >= NINST || S[1].ninst >= NINST)
		return;
	for (int s = 0; s < NSUB; s++) {
		want1(&w[s], S[s].at[pi] >= 0 ? -EEXIST : 0);
		r[s] = S[s].ops->mkfifo(S[s].path[pi], MODE);
	}
	snprintf(what, sizeof what, "mkfifo(%c)", 'a' + pi);
	judge(what, "FIFO-MAKE-1/2", w, r);
	for (int s = 0; s < NSUB; s++)
		if (r[s] == 0) {
			int k = S[s].ninst++;
			S[s].in[k] = (struct inst){ .base = (uint64_t)k * 131u };
			S[s].at[pi] = k;
		}
}

static void do_open(int pi, unsigned acc_code, bool nb, bool trunc)
{
	static const unsigned acc_bits[] = { ACC_RD, ACC_WR, ACC_RD | ACC_WR, 0 };
	uint32_t flags = acc_code | (nb ? IPC_FIFO_NONBLOCK : 0) | (trunc ? IPC_FIFO_TRUNC : 0);
	unsigned acc = acc_bits[acc_code];
	struct want w[NSUB];
	long r[NSUB];
	char what[96];
	int slot = -1;

	for (int j = 0; j < NSLOT && slot < 0; j++)
		if (!S[0].h[j].p && !S[1].h[j].p)
			slot = j;
	if (slot < 0)
		return;
	for (int s = 0; s < NSUB; s++) {
		int k = S[s].at[pi];

		if (acc == 0)
			want1(&w[s], -EINVAL);
		else if (k < 0)
			want1(&w[s], -ENOENT); /* FIFO-MAKE-5, in every mode */
		else if (acc == ACC_WR && nb && S[s].in[k].nr == 0)
			want1(&w[s], -ENXIO); /* FIFO-OPEN-5 */
		else if (!nb && ((acc == ACC_RD && S[s].in[k].nw == 0) ||
				 (acc == ACC_WR && S[s].in[k].nr == 0)))
			return; /* would wait (FIFO-OPEN-1/2): never made */
		else
			want1(&w[s], 0);
	}
	for (int s = 0; s < NSUB; s++) {
		struct ipc_pipe *p = NULL;

		r[s] = S[s].ops->open(S[s].path[pi], flags, &p);
		if (r[s] == 0) {
			int k = S[s].at[pi];
			struct inst *I = &S[s].in[k >= 0 ? k : 0];

			if (k < 0) { /* judged below; keep it closable */
				(void)S[s].ops->pipe->close(p);
				continue;
			}
			if (I->nr == 0 && I->nw == 0) {
				int c = S[s].ops->pipe->get_capacity(p);

				if (c < (int)PB)
					IPC_FUZZ_FAIL("step %u: %s get_capacity() after open gave %s, PIPE-CAP-1 "
						      "says at least PIPE_BUF", R.step, label(s), ipc_fuzz_rc(c));
				I->cap = (size_t)c;
			}
			S[s].h[slot] = (struct handle){ .p = p, .inst = k, .acc = acc, .nb = nb,
							.quiet = acc == ACC_RD && I->nw == 0 ? I->wopens : -1 };
			I->nr += !!(acc & ACC_RD);
			I->nw += !!(acc & ACC_WR);
			I->wopens += !!(acc & ACC_WR);
		}
	}
	snprintf(what, sizeof what, "open(%c, %s%s%s) -> slot %d", 'a' + pi,
		 (const char *[]){ "RDONLY", "WRONLY", "RDWR", "ACC3" }[acc_code],
		 nb ? "|NONBLOCK" : "", trunc ? "|TRUNC" : "", slot);
	judge(what, "FIFO-MAKE-5/OPEN-4/OPEN-5/RDWR-1/TRUNC-1", w, r);
}

static void do_close(int slot)
{
	struct want w[NSUB];
	long r[NSUB];
	char what[32];

	if (!S[0].h[slot].p || !S[1].h[slot].p)
		return;
	for (int s = 0; s < NSUB; s++) {
		struct handle *h = &S[s].h[slot];

		want1(&w[s], 0);
		r[s] = S[s].ops->pipe->close(h->p);
		inst_note_close(&S[s], h->inst, h->acc);
		*h = (struct handle){ 0 };
	}
	snprintf(what, sizeof what, "close(slot %d)", slot);
	judge(what, "close", w, r);
}

/* The write's allowed results for subject s, or false when it could block. */
static bool write_want(int s, int slot, size_t n, struct want *w)
{
	const struct handle *h = &S[s].h[slot];
	const struct inst *I = &S[s].in[h->inst];
	uint64_t q = I->wpos - I->rpos;
	size_t room = I->cap > q ? I->cap - (size_t)q : 0;
	bool page_sure = S[s].byte_room || I->pages + pages_for(n) <= I->cap / PAGE;

	if (n == 0) {
		want1(w, 0);
		if (!(h->acc & ACC_WR))
			want_add(w, -EBADF); /* END-1 or END-5 */
		return true;
	}
	if (!(h->acc & ACC_WR)) {
		want1(w, -EBADF);
		return true;
	}
	if (I->nr == 0) {
		want1(w, -EPIPE);
		return true;
	}
	if (n <= PB) {
		if (n > room) {
			want1(w, -EAGAIN);
			return h->nb;
		}
		want1(w, (long)n);
		if (!page_sure)
			want_add(w, -EAGAIN);
		return h->nb || page_sure;
	}
	if (q == 0) {
		want1(w, (long)(n < I->cap ? n : I->cap));
		return h->nb || n <= I->cap;
	}
	if (room == 0) {
		want1(w, -EAGAIN);
		return h->nb;
	}
	want1(w, -EAGAIN);
	if (S[s].byte_room)
		w->n = 0;
	w->lo = 1;
	w->hi = (long)(n < room ? n : room);
	return h->nb;
}

static bool do_write(int slot, size_t n)
{
	struct want w[NSUB];
	long r[NSUB];
	char what[64];

	if (!S[0].h[slot].p || !S[1].h[slot].p)
		return false;
	for (int s = 0; s < NSUB; s++)
		if (!write_want(s, slot, n, &w[s]))
			return false;
	for (int s = 0; s < NSUB; s++) {
		struct handle *h = &S[s].h[slot];
		struct inst *I = &S[s].in[h->inst];
		uint8_t *buf = ipc_fuzz_in_buf(n);

		for (size_t i = 0; i < n; i++)
			buf[i] = stream_byte(h->inst, I->base + I->wpos + i);
		r[s] = S[s].ops->pipe->write(h->p, buf, n);
		if (r[s] > 0 && want_has(&w[s], r[s])) {
			I->wpos += (uint64_t)r[s];
			I->pages += pages_for((size_t)r[s]);
		}
	}
	snprintf(what, sizeof what, "write(slot %d, %zu)", slot, n);
	judge(what, "PIPE-END-1/SIG-2/ATOM-2/ATOM-3/CAP-1, FIFO-POLL-3", w, r);
	return r[0] > 0 && r[1] > 0;
}

static bool do_read(int slot, size_t n)
{
	struct want w[NSUB];
	long r[NSUB];
	char what[64];

	if (!S[0].h[slot].p || !S[1].h[slot].p)
		return false;
	for (int s = 0; s < NSUB; s++) {
		const struct handle *h = &S[s].h[slot];
		const struct inst *I = &S[s].in[h->inst];
		uint64_t q = I->wpos - I->rpos;

		if (n == 0) {
			want1(&w[s], 0);
			if (!(h->acc & ACC_RD))
				want_add(&w[s], -EBADF);
		} else if (!(h->acc & ACC_RD))
			want1(&w[s], -EBADF);
		else if (q > 0)
			want1(&w[s], (long)(n < q ? n : q));
		else if (I->nw > 0) {
			if (!h->nb)
				return false; /* would wait */
			want1(&w[s], -EAGAIN);
		} else
			want1(&w[s], 0);
	}
	for (int s = 0; s < NSUB; s++) {
		struct handle *h = &S[s].h[slot];
		struct inst *I = &S[s].in[h->inst];
		uint8_t *buf = ipc_fuzz_out_buf(n);

		r[s] = S[s].ops->pipe->read(h->p, buf, n);
		if (r[s] > 0 && want_has(&w[s], r[s])) {
			for (long i = 0; i < r[s]; i++) {
				uint8_t e = stream_byte(h->inst, I->base + I->rpos + (uint64_t)i);

				if (buf[i] != e)
					IPC_FUZZ_FAIL("step %u read(slot %d, %zu): %s gave byte 0x%02x at offset "
						      "%llu of this FIFO's stream, the writes put 0x%02x there "
						      "(PIPE-READ-1, FIFO-NAME-2/4/5)", R.step, slot, n, label(s),
						      buf[i], (unsigned long long)(I->rpos + (uint64_t)i), e);
			}
			I->rpos += (uint64_t)r[s];
			got_read(&S[s], h->inst);
		}
	}
	snprintf(what, sizeof what, "read(slot %d, %zu)", slot, n);
	judge(what, "PIPE-END-1/READ-1/NB-1, FIFO-IO-2/IO-3/OPEN-6/NAME-2", w, r);
	return r[0] > 0 && r[1] > 0;
}

static void do_unlink(int pi)
{
	struct want w[NSUB];
	long r[NSUB];
	char what[32];

	for (int s = 0; s < NSUB; s++) {
		want1(&w[s], S[s].at[pi] >= 0 ? 0 : -ENOENT);
		r[s] = S[s].ops->unlink(S[s].path[pi]);
		if (r[s] == 0)
			S[s].at[pi] = -1; /* open handles keep their FIFO (FIFO-NAME-3) */
	}
	snprintf(what, sizeof what, "unlink(%c)", 'a' + pi);
	judge(what, "FIFO-NAME-3", w, r);
}

static void do_truncate(int pi, off_t len)
{
	struct want w[NSUB];
	long r[NSUB];
	char what[48];

	for (int s = 0; s < NSUB; s++) {
		want1(&w[s], S[s].at[pi] >= 0 ? -EINVAL : -ENOENT);
		r[s] = S[s].ops->truncate(S[s].path[pi], len);
	}
	snprintf(what, sizeof what, "truncate(%c, %lld)", 'a' + pi, (long long)len);
	judge(what, "FIFO-TRUNC-2", w, r);
}

static void do_stat(int pi)
{
	struct want w[NSUB];
	long r[NSUB];
	char what[32];

	for (int s = 0; s < NSUB; s++) {
		uint32_t m = 0;

		want1(&w[s], S[s].at[pi] >= 0 ? (long)(S_IFIFO | (MODE & ~UMASK)) : -ENOENT);
		r[s] = S[s].ops->stat_mode(S[s].path[pi], &m);
		if (r[s] == 0) /* type and permission bits only */
			r[s] = (long)(m & (S_IFMT | 07777));
	}
	snprintf(what, sizeof what, "stat_mode(%c)", 'a' + pi);
	judge(what, "FIFO-MAKE-1/3", w, r);
}

/* poll(IN | OUT, timeout 0); ERR and HUP come unasked. Bits in must are
 * required, bits in neither must nor maybe are forbidden. */
static void do_poll(int slot)
{
	long r[NSUB];
	int must[NSUB], maybe[NSUB];
	char what[48];

	if (!S[0].h[slot].p || !S[1].h[slot].p)
		return;
	for (int s = 0; s < NSUB; s++) {
		const struct handle *h = &S[s].h[slot];
		const struct inst *I = &S[s].in[h->inst];
		uint64_t q = I->wpos - I->rpos;

		must[s] = maybe[s] = 0;
		if (h->acc & ACC_RD) {
			if (q > 0)
				must[s] |= IPC_PIPE_IN;
			if (I->nw == 0 && q == 0)
				maybe[s] |= IPC_PIPE_IN; /* POLLIN at end of file: PIPE-POLL-5 is a SHOULD */
			if (I->nw == 0) {
				if (h->quiet < 0 || h->quiet != I->wopens)
					must[s] |= IPC_PIPE_HUP; /* FIFO-POLL-2: a writer came and went */
				else if (I->wopens > 0)
					maybe[s] |= IPC_PIPE_HUP; /* writers came and went before this
								   * reader opened: not fixed (Linux: quiet) */
				/* else none ever: FIFO-POLL-1, no HUP */
			}
		}
		if (h->acc & ACC_WR) {
			size_t room = I->cap > q ? I->cap - (size_t)q : 0;

			if (I->nr == 0) {
				must[s] |= IPC_PIPE_ERR; /* FIFO-POLL-3 */
				maybe[s] |= IPC_PIPE_OUT; /* a write would not block (pipe_diff) */
			} else if (q == 0 || (S[s].byte_room && room >= PB)) {
				must[s] |= IPC_PIPE_OUT; /* PIPE-POLL-2/3 */
			} else if (room >= PB) {
				maybe[s] |= IPC_PIPE_OUT; /* the kernel counts pages */
			}
		}
		r[s] = S[s].ops->pipe->poll(h->p, IPC_PIPE_IN | IPC_PIPE_OUT, 0);
	}
	snprintf(what, sizeof what, "poll(slot %d, IN|OUT)", slot);
	if (TRACE)
		fprintf(stderr, "step %u %s: %s %ld / %s %ld\n", R.step, what, label(0), r[0], label(1), r[1]);
	for (int s = 0; s < NSUB; s++)
		if (r[s] < 0 || (r[s] & must[s]) != must[s] || (r[s] & ~(long)(must[s] | maybe[s])))
			IPC_FUZZ_FAIL("step %u %s: %s returned %s, %s returned %s; FIFO-POLL-1..3 and "
				      "PIPE-POLL say bits 0x%x required, 0x%x allowed besides",
				      R.step, what, label(s), ipc_fuzz_rc(r[s]), label(!s),
				      ipc_fuzz_rc(r[!s]), must[s], maybe[s]);
}

static void close_all(void)
{
	for (int j = 0; j < NSLOT; j++)
		do_close(j);
}

/* The len byte: pipe_diff's encoding (fuzz/gen_seeds.py plen()). */
static size_t len_of(uint8_t b)
{
	static const size_t edge[64] = {
		0, 1, 2, 3, 7, 255, 256, 257, 511, 512, 513, 1023, 1024, 2048, 4094, 4095,
		4096, 4097, 4098, 6000, 8191, 8192, 8193, 12287, 12288, 12289, 16383, 16384, 16385, 32767,
		32768, 32769, 61440, 61441, 65535, 65536, 65537, 65538, 69632, 69633, 98304, 131071,
		131072, 131072, 100000, 65536, 65536, 65536, 65536, 65536, 65536, 65536, 65536,
		65536, 65536, 65536, 100, 200, 300, 1000, 2000, 3000, 5000, 10000,
	};

	if (b < 128)
		return b;
	if (b < 192)
		return (size_t)(b - 127) * 1024 + (b & 1);
	return edge[b - 192];
}

static void step(uint8_t op)
{
	unsigned kind = op & 7u, arg = op >> 3;

	switch (kind) {
	case K_MKFIFO: do_mkfifo(arg & 1); break;
	case K_OPEN: do_open(arg & 1, (arg >> 1) & 3, (arg >> 3) & 1, (arg >> 4) & 1); break;
	case K_WRITE: do_write(arg & 7, len_of(ipc_fuzz_u8(&R.in))); break;
	case K_READ: do_read(arg & 7, len_of(ipc_fuzz_u8(&R.in))); break;
	case K_CLOSE: do_close(arg & 7); break;
	case K_UNLINK: do_unlink(arg & 1); break;
	case K_TRUNCATE: do_truncate(arg & 1, (arg & 2) ? 100 : 0); break;
	default:
		switch (arg & 3) {
		case 0:
			if (arg & 16)
				do_poll((arg >> 2) & 3);
			else
				do_stat((arg >> 2) & 1);
			break;
		case 1:
			for (int i = 0; i < 64 && do_read((arg >> 2) & 7, 65536); i++)
				;
			break;
		case 2: close_all(); break;
		default:
			for (int i = 0; i < 20 && do_write((arg >> 2) & 7, PB); i++)
				;
			break;
		}
	}
}

/* ---- set-up, tear-down, leaks ------------------------------------------------ */

static void setup_dirs(void)
{
	const char *t = getenv("TMPDIR");

	for (int s = 0; s < NSUB; s++) {
		struct sub *x = &S[s];

		snprintf(x->dir, sizeof x->dir, "%s/" DIR_TAG "%ld-%d-XXXXXX", t && *t ? t : "/tmp",
			 (long)getpid(), s);
		if (!mkdtemp(x->dir)) {
			perror("fifo_diff: mkdtemp");
			abort();
		}
		for (int i = 0; i < NPATH; i++) {
			snprintf(x->path[i], sizeof x->path[i], "%s/%c", x->dir, 'a' + i);
			x->at[i] = -1;
		}
		x->ninst = 0;
		memset(x->h, 0, sizeof x->h);
	}
}

static void teardown(void)
{
	close_all();
	for (int s = 0; s < NSUB; s++) {
		for (int i = 0; i < NPATH; i++)
			if (S[s].at[i] >= 0 && S[s].ops->unlink(S[s].path[i]) != 0)
				IPC_FUZZ_FAIL("%s: unlink(%s) of an existing FIFO failed", label(s), S[s].path[i]);
		if (rmdir(S[s].dir) != 0)
			IPC_FUZZ_FAIL("%s: %s not empty at the end of the input (%s): a file was left",
				      label(s), S[s].dir, strerror(errno));
	}
}


static void check_mappings(void)
{
	char line[512];

	if (ipc_fuzz_mapped("/" DIR_TAG, line, sizeof line))
		IPC_FUZZ_FAIL("every FIFO is closed but this is still mapped: %s", line);
}

/* Directories of fuzz processes that died (sanitizer, timeout) in a trap. */
static void sweep_stale(void)
{
	const char *t = getenv("TMPDIR");
	char base[256], path[600], sub[900];
	DIR *d;
	struct dirent *e;

	snprintf(base, sizeof base, "%s", t && *t ? t : "/tmp");
	if (!(d = opendir(base)))
		return;
	while ((e = readdir(d)) != NULL) {
		long pid;
		char *end;

		if (strncmp(e->d_name, DIR_TAG, strlen(DIR_TAG)) != 0)
			continue;
		pid = strtol(e->d_name + strlen(DIR_TAG), &end, 10);
		if (*end != '-' || pid <= 0 || (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		snprintf(path, sizeof path, "%s/%s", base, e->d_name);
		for (int i = 0; i < NPATH; i++) {
			snprintf(sub, sizeof sub, "%s/%c", path, 'a' + i);
			(void)unlink(sub);
		}
		(void)rmdir(path);
	}
	closedir(d);
}

static int one(const uint8_t *data, size_t size)
{
	int fds = ipc_fuzz_count_fds();

	R.in = (struct ipc_fuzz_in){ .p = data, .n = size };
	R.step = 0;
	setup_dirs();
	while (ipc_fuzz_more(&R.in) && R.step < MAX_STEPS) {
		R.step++;
		step(ipc_fuzz_u8(&R.in));
	}
	R.step++;
	teardown();
	if (ipc_fuzz_count_fds() != fds)
		IPC_FUZZ_FAIL("descriptor leak: %d open before the input, %d after", fds, ipc_fuzz_count_fds());
	if (++R.inputs % 64 == 1)
		check_mappings();
	return 0;
}

static void init(void)
{
	uint32_t x = 0x9E3779B9u;

	signal(SIGPIPE, SIG_IGN); /* both subjects must return -EPIPE */
	TRACE = getenv("FIFO_DIFF_TRACE") != NULL;
	UMASK = umask(0);
	umask(UMASK);
	for (size_t i = 0; i < PATN; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		PAT[i] = (uint8_t)(x >> 7);
	}
	S[0].subj = &ipc__subject_ref_fifo;
	S[1].subj = &ipc__subject_native_fifo;
	for (int s = 0; s < NSUB; s++) {
		S[s].ops = S[s].subj->ops;
		S[s].byte_room = s == 0;
		if (!S[s].ops->truncate || !(S[s].subj->caps & IPC_FIFO_CAP_NONBLOCK) ||
		    !(S[s].subj->caps & IPC_FIFO_CAP_RDWR_OPEN)) {
			fprintf(stderr, "fifo_diff: %s lacks a capability the harness drives\n", label(s));
			abort();
		}
	}
	sweep_stale();
}

static void cleanup(void) {}

IPC_FUZZ_TARGET(init, one, cleanup)
