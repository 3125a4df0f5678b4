/* SPDX-License-Identifier: MIT */
/*
 * Verify that a segment is one object reached by its name: attached from
 * another process, never replaced by a second create, missing names refused,
 * queued items outliving their producer, and unlink removing only the name.
 * Clauses: SHMBUF-SEG-1, SHMBUF-SEG-2, SHMBUF-SEG-3, SHMBUF-SEG-4, SHMBUF-SEG-5.
 * (Fixture and timeout: the shmbuf suite, declared in shmbuf_capacity.c.)
 */
#include "ipct.h"

#define MAX_ITEM 64

/* A timeout the subject accepts for a call that can complete at once. */
static int64_t now_tmo(void)
{
	if (ipct_has(IPC_SHMBUF_CAP_NONBLOCK))
		return 0;
	return ipct_has(IPC_SHMBUF_CAP_TIMED) ? IPCT_MS(1000) : IPC_TIMEOUT_INFINITE;
}

/* Room for 4 items of max_item bytes (no limit on an unbounded-only subject). */
static struct ipc_shmbuf_attr attr4(size_t max_item)
{
	return (struct ipc_shmbuf_attr){ ipct_has(IPC_SHMBUF_CAP_BOUNDED) ? 4 : 0, max_item, 0 };
}

static const char *create4(void)
{
	return ipct_shmbuf_create(attr4(MAX_ITEM).capacity, MAX_ITEM, 0);
}

/* Item k: MAX_ITEM bytes with embedded NULs, different for every k. */
static void item(unsigned char *b, unsigned k)
{
	for (unsigned i = 0; i < MAX_ITEM; i++)
		b[i] = i % 3 ? (unsigned char)(k * 31 + i) : 0;
}

static int put_item(struct ipc_shmbuf *p, unsigned k)
{
	unsigned char b[MAX_ITEM];
	item(b, k);
	return ipct_shmbuf()->put(p, b, MAX_ITEM, now_tmo());
}

/* The next item got through c is item k, in full. */
static void expect_item(struct ipc_shmbuf *c, unsigned k)
{
	unsigned char want[MAX_ITEM], got[MAX_ITEM + 8];
	item(want, k);
	EXPECT_RC(ipct_shmbuf()->get(c, got, sizeof got, now_tmo()), MAX_ITEM);
	cr_assert(memcmp(got, want, MAX_ITEM) == 0, "the item got is not item %u, byte for byte", k);
}

/* Party: attach by name with role, then put items 0..n-1 or get and compare them. */
struct seg_arg {
	const char *name;
	int role;
	unsigned n;
};

static const char *const seg_why[] = { "ok", "attach failed", "put failed", "get failed",
				       "bytes differ", "detach failed" };

static int seg_party(void *argp)
{
	struct seg_arg *a = argp;
	struct ipc_shmbuf *h = NULL;
	unsigned char want[MAX_ITEM], got[MAX_ITEM + 8];
	if (ipct_shmbuf()->attach(a->name, a->role, &h) != 0)
		return 1;
	for (unsigned k = 0; k < a->n; k++) {
		item(want, k);
		if (a->role == IPC_SHMBUF_PRODUCER && ipct_shmbuf()->put(h, want, MAX_ITEM, now_tmo()))
			return 2;
		if (a->role == IPC_SHMBUF_CONSUMER &&
		    ipct_shmbuf()->get(h, got, sizeof got, now_tmo()) != MAX_ITEM)
			return 3;
		if (a->role == IPC_SHMBUF_CONSUMER && memcmp(got, want, MAX_ITEM) != 0)
			return 4;
	}
	return ipct_shmbuf()->detach(h) == 0 ? 0 : 5;
}

static void run_party(const char *name, int role, unsigned n)
{
	struct seg_arg *a = ipct_shared(sizeof *a);
	*a = (struct seg_arg){ name, role, n };
	int st = ipct_party_wait(ipct_party_start(seg_party, a), 5000);
	cr_assert(st == 0, "the other process's %s ended with %d (%s)",
		  role == IPC_SHMBUF_PRODUCER ? "producer" : "consumer", st,
		  st > 0 && st < 6 ? seg_why[st] : "killed or timed out");
}

Test(shmbuf, SHMBUF_SEG_1__item_put_in_one_process_is_got_in_another)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_CROSS_PROCESS);
	const char *name = create4();
	struct ipc_shmbuf *c = SAFE_CONSUMER(name), *p = SAFE_PRODUCER(name);
	run_party(name, IPC_SHMBUF_PRODUCER, 1); /* there -> here */
	expect_item(c, 0);
	SAFE_RC(put_item(p, 0));
	run_party(name, IPC_SHMBUF_CONSUMER, 1); /* here -> there */
}

Test(shmbuf, SHMBUF_SEG_2__create_on_existing_name_is_eexist_and_keeps_items)
{
	struct ipc_shmbuf_attr a = attr4(MAX_ITEM), other = attr4(2 * MAX_ITEM);
	const char *name = create4();
	struct ipc_shmbuf *c = SAFE_CONSUMER(name), *p = SAFE_PRODUCER(name);
	SAFE_RC(put_item(p, 0));
	SAFE_RC(put_item(p, 1));
	EXPECT_ERR(ipct_shmbuf()->create(name, &a), IPC_EEXIST);
	EXPECT_ERR(ipct_shmbuf()->create(name, &other), IPC_EEXIST);
	/* The name still leads to the old buffer, and old handles still work. */
	expect_item(SAFE_CONSUMER(name), 0);
	expect_item(c, 1);
}

Test(shmbuf, SHMBUF_SEG_3__attach_or_unlink_of_a_missing_name_is_enoent)
{
	const char *name = ipct_name();
	struct ipc_shmbuf *h = NULL;
	EXPECT_ERR(ipct_shmbuf()->attach(name, IPC_SHMBUF_PRODUCER, &h), IPC_ENOENT);
	EXPECT_ERR(ipct_shmbuf()->attach(name, IPC_SHMBUF_CONSUMER, &h), IPC_ENOENT);
	EXPECT_ERR(ipct_shmbuf()->unlink(name), IPC_ENOENT);
	/* The failed attach did not make the name: it is still free. */
	struct ipc_shmbuf_attr a = attr4(MAX_ITEM);
	EXPECT_OK(ipct_shmbuf()->create(name, &a));
}

Test(shmbuf, SHMBUF_SEG_4__items_outlive_their_exited_producer_then_eod)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_CROSS_PROCESS | IPC_SHMBUF_CAP_END_OF_STREAM);
	const char *name = create4();
	run_party(name, IPC_SHMBUF_PRODUCER, 3); /* attach, put 3, detach, exit */
	struct ipc_shmbuf *c = SAFE_CONSUMER(name);
	for (unsigned k = 0; k < 3; k++)
		expect_item(c, k);
	unsigned char b[MAX_ITEM];
	EXPECT_ERR(ipct_shmbuf()->get(c, b, sizeof b, now_tmo()), IPC_EOD);
}

Test(shmbuf, SHMBUF_SEG_5__unlink_removes_the_name_at_once_old_handles_keep_working)
{
	const char *name = create4();
	struct ipc_shmbuf *c = SAFE_CONSUMER(name), *p = SAFE_PRODUCER(name), *h = NULL;
	SAFE_RC(put_item(p, 0));
	EXPECT_OK(ipct_shmbuf()->unlink(name));
	EXPECT_ERR(ipct_shmbuf()->attach(name, IPC_SHMBUF_CONSUMER, &h), IPC_ENOENT);
	EXPECT_ERR(ipct_shmbuf()->attach(name, IPC_SHMBUF_PRODUCER, &h), IPC_ENOENT);
	EXPECT_ERR(ipct_shmbuf()->unlink(name), IPC_ENOENT);
	struct ipc_shmbuf_attr a = attr4(MAX_ITEM);
	EXPECT_OK(ipct_shmbuf()->create(name, &a));
	struct ipc_shmbuf *c2 = SAFE_CONSUMER(name), *p2 = SAFE_PRODUCER(name);
	/* The new buffer starts empty: the first item it yields is its own. */
	SAFE_RC(put_item(p2, 1));
	expect_item(c2, 1);
	/* The old handles still reach the old buffer, and only it. */
	expect_item(c, 0);
	EXPECT_OK(put_item(p, 2));
	SAFE_RC(put_item(p2, 3));
	expect_item(c, 2);
	expect_item(c2, 3);
}
