/* SPDX-License-Identifier: MIT */
/* Target functions: ipc_mailbox_ref_open ipc_mailbox_ref_close ipc_mailbox_ref_send
 * ipc_mailbox_ref_recv ipc_mailbox_ref_send_to ipc_mailbox_ref_recv_from ipc_mailbox_ref_recv_any
 * ipc_mailbox_ref_validate */
/*
 * A malicious or broken peer of ref-mailbox: the input overwrites bytes of
 * the shared segment of a live mailbox (header fields, queue links, party
 * records, the participant table, message slots, and the bounded mailbox
 * queue's ring: its indices, locks, wake words, fair line, participants and
 * slots) between timeout-0 operations. Whatever it writes, every call must return a valid result or
 * a negative errno, with no sanitizer report, no access past the caller's
 * buffer and no hang:
 *   send, send_to   0, EAGAIN, ETIMEDOUT, EPIPE, ESRCH, ENOMEM, EIDRM, EUCLEAN,
 *                   EMSGSIZE only if len > max_msg
 *   recv*           0..min(cap, max_msg), IPC_EOD, EAGAIN, ETIMEDOUT, EMSGSIZE,
 *                   EIDRM, EUCLEAN
 *   open            0, EUCLEAN, EUSERS, EIDRM, ENOMEM
 *   close           0 (the handle is freed either way: LeakSanitizer)
 *   validate        0, EUCLEAN
 * No model: once the peer lies several answers are honest; the model target
 * (mailbox_model) checks the exact ones.
 *
 * The segment is reached the way a peer reaches it: the harness opens
 * /dev/shm/<name> itself and maps it shared. The robust mutex is never
 * written: a lock word that names another owner makes every call wait for
 * it, as a live peer that holds the lock for ever would, which no
 * lock-based design can prevent (docs/fuzzing.md).
 *
 * Input layout:
 *   byte 0  configuration (capacity, max_msg, mem_limit) from a table
 *   byte 1  messages queued before the attack: into the mailbox (bits
 *           0-2), to party 1 (bits 3-5) and to party 0 itself (bits 5-6);
 *           bit 7: one taken, so a slot is on the free list
 *   then ops: one byte, low 3 bits = kind, high 5 bits = argument, then
 *   operands.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"
#include "mailbox/ref_mailbox.h"
#include "mailbox/ref_mailbox_store.h" /* the layout a peer writes over */

#define NH        6 /* 0: SEND|RECV, 1: RECV, 2: SEND, 3-5: churned */
#define MAX_STEPS 512
#define WINDOW    (256u << 10) /* mapped by the harness: header and first slots */
#define BIG_CAP   (IPC_FUZZ_ARENA / 2)

static struct {
	struct ipc_mailbox_attr attr;
	struct ipc_mailbox *h[NH];
	uint64_t id[NH];
	uint32_t flags[NH];
	struct ipc_fuzz_in in;
	uint8_t *seg; /* the harness's own mapping */
	size_t seglen;
	uint8_t *ring; /* the queue's ring (bounded mailbox), mapped whole; or NULL */
	size_t ringlen;
	int fd;
	unsigned step;
} R;

static const char *NAME;

/* ---- result sets ------------------------------------------------------------------------- */

static void bad(const char *what, long rc, const char *allowed)
{
	IPC_FUZZ_FAIL("step %u: %s on a corrupted segment returned %s; documented: %s", R.step,
		      what, ipc_fuzz_rc(rc), allowed);
}

static void check_send(int s, int rc, size_t len, bool direct)
{
	if ((rc == IPC_EBADF && !(R.flags[s] & IPC_MAILBOX_SEND)) || rc == 0 || rc == IPC_EAGAIN ||
	    rc == IPC_ETIMEDOUT || rc == IPC_EPIPE || rc == IPC_ENOMEM || rc == IPC_EIDRM ||
	    rc == IPC_EUCLEAN || (rc == IPC_ESRCH && direct) ||
	    (rc == IPC_EMSGSIZE && len > R.attr.max_msg))
		return;
	bad(direct ? "send_to()" : "send()", rc,
	    "EBADF without SEND, 0, EAGAIN, ETIMEDOUT, EPIPE, ENOMEM, EIDRM, EUCLEAN, ESRCH "
	    "(send_to), "
	    "EMSGSIZE if len > max_msg");
}

/* No message is ever longer than max_msg, whatever a peer wrote: a longer
 * one is bytes from outside its slot. */
static void check_recv(int s, ssize_t rc, size_t cap, const char *what)
{
	if ((rc == IPC_EBADF && !(R.flags[s] & IPC_MAILBOX_RECV)) ||
	    (rc >= 0 && (size_t)rc <= cap && (size_t)rc <= R.attr.max_msg) || rc == IPC_EOD ||
	    rc == IPC_EAGAIN || rc == IPC_ETIMEDOUT || rc == IPC_EMSGSIZE || rc == IPC_EIDRM ||
	    rc == IPC_EUCLEAN)
		return;
	bad(what, rc,
	    "EBADF without RECV, 0..min(cap, max_msg), IPC_EOD, EAGAIN, ETIMEDOUT, EMSGSIZE, "
	    "EIDRM, EUCLEAN");
}

static void check_open(int rc)
{
	if (rc != 0 && rc != IPC_EUCLEAN && rc != IPC_EUSERS && rc != IPC_EIDRM && rc != IPC_ENOMEM)
		bad("open()", rc, "0, EUCLEAN, EUSERS, EIDRM, ENOMEM");
}

/* ---- handles ----------------------------------------------------------------------------- */

/* An open handle, starting at slot hint; -1 if none. */
static int pick(unsigned hint)
{
	for (unsigned i = 0; i < NH; i++) {
		unsigned s = (hint + i) % NH;

		if (R.h[s])
			return (int)s;
	}
	return -1;
}

static void open_into(int s, uint32_t flags)
{
	int rc = ipc_mailbox_ref_open(NAME, flags, &R.h[s]);

	check_open(rc);
	if (rc != 0) {
		R.h[s] = NULL;
		return;
	}
	R.flags[s] = flags;
	if (ipc_mailbox_ref_self_id(R.h[s], &R.id[s]) != 0)
		bad("self_id()", -1, "0");
}

static void close_slot(int s)
{
	int rc = ipc_mailbox_ref_close(R.h[s]);

	if (rc != 0)
		bad("close()", rc, "0");
	R.h[s] = NULL;
}

/* ---- the attack -------------------------------------------------------------------------- */

/* Header fields a peer may lie about, as (offset, width). The mutex is
 * left out (see the top). */
struct field {
	uint32_t off, width;
};

#define HF(member)                                                                                 \
	{                                                                                          \
		offsetof(struct mb_hdr, member), sizeof(((struct mb_hdr *)0)->member)              \
	}

static const struct field hdr_fields[] = {
    HF(magic),       HF(version),     HF(hdr_size),     HF(g.capacity),  HF(g.max_msg),
    HF(g.mem_limit), HF(g.slot_size), HF(g.slot_count), HF(g.pool_off),  HF(g.file_size),
    HF(g.ring_off),  HF(g.ring_size),
    HF(seq),         HF(removed),     HF(ever_send),    HF(ever_recv),   HF(next_seq),
    HF(mem_used),    HF(free_head),   HF(hwm),          HF(backed),      HF(last_scan_ns),
    HF(mbox.head),   HF(mbox.tail),   HF(mbox.count),   HF(mbox.offers),
};

/* Per party index: its inbox, its record, its participant slot. */
static const struct field party_fields[] = {
    HF(inbox[0].head),      HF(inbox[0].tail),  HF(inbox[0].count),     HF(inbox[0].offers),
    HF(party[0].flags),     HF(party[0].token), HF(party[0].wait_mbox), HF(party[0].wait_any),
    HF(party[0].wait_from), HF(party[0].from),  HF(ptab[0].word),       HF(ptab[0].start),
};

#define SF(member)                                                                                 \
	{                                                                                          \
		offsetof(struct mb_slot, member), sizeof(((struct mb_slot *)0)->member)            \
	}

static const struct field slot_fields[] = {
    SF(state), SF(next), SF(seq), SF(from), SF(dest), SF(len), SF(offer), SF(pad),
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Values that break bounds checks: limits, signs, this mailbox's sizes. */
static uint64_t interesting(unsigned which)
{
	const struct mb_geom *g = &((const struct mb_hdr *)R.seg)->g;
	const uint64_t fixed[] = {
	    0,           1,          2,         3,          0x7f,           0x80,
	    0xff,        0x100,      0xffff,    0x7fffffff, 0x80000000u,    0xffffffffu,
	    0xfffffffeu, UINT64_MAX, INT64_MAX, MB_PARTIES, MB_PARTIES + 1,
	};
	const uint64_t sized[] = {
	    R.attr.max_msg,    R.attr.max_msg + 1, g->slot_count, g->slot_count - 1,
	    g->slot_count + 1, (uint64_t)getpid(), R.id[0],       R.id[1],
	};

	which %= N(fixed) + N(sized);
	return which < N(fixed) ? fixed[which] : sized[which - N(fixed)];
}

/* The value: raw bytes from the input or an interesting one. */
static uint64_t take_value(unsigned arg, uint32_t width)
{
	if (arg & 1)
		return interesting(ipc_fuzz_u8(&R.in));
	return width == 1   ? ipc_fuzz_u8(&R.in)
	       : width <= 4 ? ipc_fuzz_u32(&R.in)
			    : ipc_fuzz_u64(&R.in);
}

static void poke(size_t off, uint32_t width, uint64_t v)
{
	if (off + width <= R.seglen)
		memcpy(R.seg + off, &v, width); /* little-endian: the low bytes */
}

static void op_hdr_field(unsigned arg)
{
	const struct field *f = &hdr_fields[ipc_fuzz_u8(&R.in) % N(hdr_fields)];

	poke(f->off, f->width, take_value(arg, f->width));
}

static void op_party_field(unsigned arg)
{
	uint8_t b = ipc_fuzz_u8(&R.in);
	const struct field *f = &party_fields[b % N(party_fields)];
	/* Mostly the parties that exist: indices 0-7. */
	unsigned idx = (arg & 2) ? ipc_fuzz_u8(&R.in) % MB_PARTIES : (b >> 4) & 7;
	size_t stride = f->off >= offsetof(struct mb_hdr, ptab)    ? sizeof(struct ipc_part)
			: f->off >= offsetof(struct mb_hdr, party) ? sizeof(struct mb_party)
								   : sizeof(struct mb_queue);

	poke(f->off + idx * stride, f->width, take_value(arg, f->width));
}

static void op_slot_field(unsigned arg)
{
	/* The healthy geometry (the header's copy may be a lie by now). */
	size_t pool_off = (sizeof(struct mb_hdr) + 4095) & ~(size_t)4095;
	size_t slot_size = (sizeof(struct mb_slot) + R.attr.max_msg + 7) & ~(size_t)7;
	uint8_t b = ipc_fuzz_u8(&R.in);
	const struct field *f = &slot_fields[b % N(slot_fields)];
	size_t slot = (b >> 3) % 16; /* the first slots hold the queued messages */

	poke(pool_off + slot * slot_size + f->off, f->width, take_value(arg, f->width));
}

/* Anywhere in the queue's ring, its locks included: they are owner-tagged,
 * and a forged owner is checked, never trusted (ref-shmbuf's corrupt target
 * writes them too). bit 1: its header page (indices, words, the line). */
static void poke_ring(unsigned arg)
{
	size_t span = (arg & 2) ? 4096 : R.ringlen;
	size_t off = ((arg & 2) ? ipc_fuzz_u16(&R.in) : ipc_fuzz_u32(&R.in)) % span;
	uint32_t width = (arg & 4) ? 8 : 1;
	uint64_t v;

	off &= ~(size_t)(width - 1);
	v = take_value(arg, width);
	memcpy(R.ring + off, &v, width);
}

/* Anywhere in the window but the mutex: one byte, or eight aligned; with
 * bit 3, in the ring (a bounded mailbox). */
static void op_raw(unsigned arg)
{
	size_t mu = offsetof(struct mb_hdr, mu), mu_end = mu + sizeof(pthread_mutex_t);
	size_t span = (arg & 2) ? 4096 : R.seglen;
	size_t off;
	uint32_t width = (arg & 4) ? 8 : 1;

	if ((arg & 8) && R.ring) {
		poke_ring(arg);
		return;
	}
	off = ((arg & 2) ? ipc_fuzz_u16(&R.in) : ipc_fuzz_u32(&R.in)) % span;
	off &= ~(size_t)(width - 1);
	if (off + width > mu && off < mu_end)
		off = mu_end;
	poke(off, width, take_value(arg, width));
}

/* ---- operations -------------------------------------------------------------------------- */

static size_t take_len(void)
{
	size_t span = R.attr.max_msg + 2;
	size_t raw = span <= 256 ? ipc_fuzz_u8(&R.in) : ipc_fuzz_u16(&R.in);

	return raw % span;
}

/* An id: a party's, one that was, or a raw one. */
static uint64_t take_id(void)
{
	uint8_t b = ipc_fuzz_u8(&R.in);

	return b < 0xf0 ? R.id[b % NH] : (b & 1) ? b : ipc_fuzz_u32(&R.in);
}

static void op_send(unsigned arg)
{
	int s = pick(arg);
	bool direct = arg & 8;
	uint64_t to = direct ? take_id() : 0;
	size_t len = take_len();
	int64_t timeout = (arg & 16) ? 1 : 0;
	uint8_t *msg = ipc_fuzz_in_buf(len);
	int rc;

	if (s < 0)
		return;
	ipc_fuzz_item_fill(msg, len, arg, R.step);
	rc = direct ? ipc_mailbox_ref_send_to(R.h[s], to, msg, len, timeout)
		    : ipc_mailbox_ref_send(R.h[s], msg, len, timeout);
	check_send(s, rc, len, direct);
}

/* Sizes: max_msg, a length from the input, or a huge buffer that lets a
 * trusted length run off the end of a slot. */
static void op_recv(unsigned arg)
{
	uint8_t b = ipc_fuzz_u8(&R.in);
	size_t cap = (b & 3) == 0 ? R.attr.max_msg : (b & 3) == 1 ? BIG_CAP : take_len();
	int s = pick(arg);
	uint8_t *buf = ipc_fuzz_out_buf(cap);
	int64_t timeout = (arg & 16) ? 1 : 0;
	uint64_t from = 0;

	if (s < 0)
		return;
	switch ((b >> 2) % 3) {
	case 0:
		check_recv(s, ipc_mailbox_ref_recv(R.h[s], buf, cap, timeout), cap, "recv()");
		break;
	case 1:
		check_recv(s, ipc_mailbox_ref_recv_from(R.h[s], take_id(), buf, cap, timeout), cap,
			   "recv_from()");
		break;
	default:
		check_recv(s, ipc_mailbox_ref_recv_any(R.h[s], &from, buf, cap, timeout), cap,
			   "recv_any()");
		break;
	}
}

static void op_validate(unsigned arg)
{
	int s = pick(arg);
	int rc;

	if (s < 0)
		return;
	rc = ipc_mailbox_ref_validate(R.h[s]);
	if (rc != 0 && rc != IPC_EUCLEAN)
		bad("validate()", rc, "0, EUCLEAN");
}

/* Open into the slot, or close the handle there: churns the parties, and
 * close runs the leaving party's clean-up over the corrupt state. */
static void op_toggle(unsigned arg)
{
	static const uint32_t flags[4] = {IPC_MAILBOX_SEND, IPC_MAILBOX_RECV,
					  IPC_MAILBOX_SEND | IPC_MAILBOX_RECV, IPC_MAILBOX_RECV};
	int s = (int)(arg % NH);

	if (R.h[s])
		close_slot(s);
	else
		open_into(s, flags[(arg >> 3) & 3]);
}

static void step(uint8_t op)
{
	unsigned arg = op >> 3;

	switch (op & 7) {
	case 0:
		op_hdr_field(arg);
		break;
	case 1:
		op_party_field(arg);
		break;
	case 2:
		op_slot_field(arg);
		break;
	case 3:
		op_raw(arg);
		break;
	case 4:
		op_send(arg);
		break;
	case 5:
		op_recv(arg);
		break;
	case 6:
		op_validate(arg);
		break;
	default:
		op_toggle(arg);
		break;
	}
}

/* ---- set-up: a healthy mailbox with messages in it --------------------------------------- */

static const struct ipc_mailbox_attr configs[8] = {
    {.capacity = 1, .max_msg = 8, .mode = 0600},
    {.capacity = 4, .max_msg = 64, .mode = 0600},
    {.capacity = 8, .max_msg = 100, .mode = 0600},
    {.capacity = 0, .max_msg = 64, .mode = 0600},
    {.capacity = IPC_MAILBOX_UNBOUNDED, .max_msg = 64, .mode = 0600},
    {.capacity = IPC_MAILBOX_UNBOUNDED, .max_msg = 100, .mode = 0600, .mem_limit = 1000},
    {.capacity = 16, .max_msg = 1, .mode = 0600},
    {.capacity = IPC_MAILBOX_UNBOUNDED, .max_msg = 4096, .mode = 0600},
};

static void must(long rc, const char *what)
{
	if (rc != 0)
		IPC_FUZZ_FAIL("set-up: %s on a healthy mailbox returned %s", what, ipc_fuzz_rc(rc));
}

/* n messages through send (to 0) or send_to; zero capacity holds none. */
static void fill(unsigned n, uint64_t to, uint8_t seed)
{
	for (unsigned i = 0; i < n && R.attr.capacity; i++) {
		size_t len = (i * 37u + seed) % (R.attr.max_msg + 1);
		uint8_t *msg = ipc_fuzz_in_buf(len);

		if (R.attr.capacity != IPC_MAILBOX_UNBOUNDED && i >= R.attr.capacity)
			break;
		ipc_fuzz_item_fill(msg, len, seed, i);
		must(to ? ipc_mailbox_ref_send_to(R.h[0], to, msg, len, 0)
			: ipc_mailbox_ref_send(R.h[2], msg, len, 0),
		     to ? "send_to()" : "send()");
	}
}

/* The ring where the healthy geometry puts it (ref-mailbox's own rule). */
static void map_ring(const char *path)
{
	struct mb_geom g;

	if (mb_geometry(&R.attr, true, &g) != 0 || !g.ring_size)
		return;
	R.ringlen = g.ring_size;
	R.ring = mmap(NULL, R.ringlen, PROT_READ | PROT_WRITE, MAP_SHARED, R.fd, (off_t)g.ring_off);
	if (R.ring == MAP_FAILED)
		IPC_FUZZ_FAIL("set-up: cannot map the ring of %s", path);
}

/* The harness's own view of the segment, as a peer would map it. */
static void map_segment(void)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/shm%s", NAME);
	R.fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (R.fd < 0 || fstat(R.fd, &st) != 0)
		IPC_FUZZ_FAIL("set-up: cannot open %s", path);
	R.seglen = (size_t)st.st_size < WINDOW ? (size_t)st.st_size : WINDOW;
	R.seg = mmap(NULL, R.seglen, PROT_READ | PROT_WRITE, MAP_SHARED, R.fd, 0);
	if (R.seg == MAP_FAILED)
		IPC_FUZZ_FAIL("set-up: cannot map %s", path);
	map_ring(path);
}

static void setup(void)
{
	uint8_t cfg = ipc_fuzz_u8(&R.in), fl = ipc_fuzz_u8(&R.in);
	uint8_t buf[8];

	R.attr = configs[cfg & 7];
	must(ipc_mailbox_ref_create(NAME, &R.attr), "create()");
	open_into(0, IPC_MAILBOX_SEND | IPC_MAILBOX_RECV);
	open_into(1, IPC_MAILBOX_RECV);
	open_into(2, IPC_MAILBOX_SEND);
	if (!R.h[0] || !R.h[1] || !R.h[2])
		IPC_FUZZ_FAIL("set-up: open() on a healthy mailbox failed");
	fill(fl & 7, 0, cfg);
	fill((fl >> 3) & 7, R.id[1], cfg ^ 0x55);
	fill((fl >> 5) & 3, R.id[0], cfg ^ 0xaa);
	/* A taken message leaves a slot on the free list. */
	if ((fl & 0x80) && R.attr.capacity && R.attr.max_msg <= sizeof(buf))
		(void)ipc_mailbox_ref_recv(R.h[1], buf, sizeof(buf), 0);
	map_segment();
}

static void teardown(void)
{
	for (int s = 0; s < NH; s++)
		if (R.h[s])
			close_slot(s);
	munmap(R.seg, R.seglen);
	if (R.ring)
		munmap(R.ring, R.ringlen);
	close(R.fd);
	must(ipc_mailbox_ref_unlink(NAME), "unlink()");
}

static int one(const uint8_t *data, size_t size)
{
	int fds = ipc_fuzz_count_fds();

	memset(&R, 0, sizeof(R));
	R.in = (struct ipc_fuzz_in){.p = data, .n = size};
	ipc_fuzz_name_release(); /* a previous input that crashed left it */
	setup();
	while (ipc_fuzz_more(&R.in) && R.step < MAX_STEPS) {
		R.step++;
		step(ipc_fuzz_u8(&R.in));
	}
	teardown();
	if (ipc_fuzz_count_fds() != fds)
		IPC_FUZZ_FAIL("descriptor leak: %d open before the input, %d after", fds,
			      ipc_fuzz_count_fds());
	return 0;
}

static void init(void)
{
	NAME = ipc_fuzz_name_init();
}

static void cleanup(void)
{
	ipc_fuzz_name_release();
}

IPC_FUZZ_TARGET(init, one, cleanup)
