/* SPDX-License-Identifier: MIT */
/*
 * Verify that a segment is one object reached by its name: attached from
 * another process, never replaced by a second create, missing names refused,
 * queued items outliving their producer, and unlink removing only the name.
 * Clauses: SHMBUF-SEG-1, SHMBUF-SEG-2, SHMBUF-SEG-3, SHMBUF-SEG-4, SHMBUF-SEG-5.
 * Fixture and timeout: the shmbuf suite, declared once in shmbuf_capacity.c.
 */
#include "ipct.h"

#define MAX_ITEM 64
#define CAP4     (ipct_has(IPC_SHMBUF_CAP_BOUNDED) ? 4u : 0u) /* unbounded-only: no limit */

/* A timeout the subject accepts for a call that can complete at once. */
static int64_t now_tmo(void)
{
	return ipct_has(IPC_SHMBUF_CAP_NONBLOCK) ? 0
	       : ipct_has(IPC_SHMBUF_CAP_TIMED)  ? IPCT_MS(1000)
						 : IPC_TIMEOUT_INFINITE;
}

/* Item k: MAX_ITEM bytes with embedded NULs, different for every k. */
static int put_item(struct ipc_shmbuf *p, unsigned k)
{
	unsigned char b[MAX_ITEM];
	for (unsigned i = 0; i < MAX_ITEM; i++)
		b[i] = i % 3 ? (unsigned char)(k * 31 + i) : 0;
	return ipct_shmbuf()->put(p, b, MAX_ITEM, now_tmo());
}

/* Get the next item: 0 if it is item k byte for byte, 1 if not, or the error. */
static int get_item(struct ipc_shmbuf *c, unsigned k)
{
	unsigned char got[MAX_ITEM + 8];
	ssize_t n = ipct_shmbuf()->get(c, got, sizeof got, now_tmo());
	if (n < 0)
		return (int)n;
	for (unsigned i = 0; i < MAX_ITEM; i++)
		if (n != MAX_ITEM || got[i] != (i % 3 ? (unsigned char)(k * 31 + i) : 0))
			return 1;
	return 0;
}

static void expect_item(struct ipc_shmbuf *c, unsigned k)
{
	char t[48];
	int rc = get_item(c, k);
	cr_assert(rc == 0, "item %u: %s", k, rc == 1 ? "not got intact" : ipct_rc_text(rc, t, 48));
}

/* Party: attach by name with role, then put items 0..n-1 or get and check them. */
struct seg_arg {
	const char *name;
	int role;
	unsigned n;
};

static int seg_party(void *argp)
{
	struct seg_arg *a = argp;
	struct ipc_shmbuf *h = NULL;
	if (ipct_shmbuf()->attach(a->name, a->role, &h) != 0)
		return 1;
	for (unsigned k = 0; k < a->n; k++)
		if (a->role == IPC_SHMBUF_PRODUCER ? put_item(h, k) : get_item(h, k))
			return 2;
	return ipct_shmbuf()->detach(h) == 0 ? 0 : 3;
}

static void run_party(const char *name, int role, unsigned n)
{
	struct seg_arg *a = ipct_shared(sizeof *a);
	*a = (struct seg_arg){ name, role, n };
	int st = ipct_party_wait(ipct_party_start(seg_party, a), 5000);
	cr_assert(st == 0, "the other process's %s ended with %d (1 attach, 2 item, 3 detach)",
		  role == IPC_SHMBUF_PRODUCER ? "producer" : "consumer", st);
}

Test(shmbuf, SHMBUF_SEG_1__item_put_in_one_process_is_got_in_another)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_CROSS_PROCESS);
	const char *name = ipct_shmbuf_create(CAP4, MAX_ITEM, 0);
	struct ipc_shmbuf *c = SAFE_CONSUMER(name), *p = SAFE_PRODUCER(name);
	run_party(name, IPC_SHMBUF_PRODUCER, 1); /* put there, got here */
	expect_item(c, 0);
	SAFE_RC(put_item(p, 0));
	run_party(name, IPC_SHMBUF_CONSUMER, 1); /* put here, got there */
}

Test(shmbuf, SHMBUF_SEG_2__create_on_existing_name_is_eexist_and_keeps_items)
{
	struct ipc_shmbuf_attr same = { CAP4, MAX_ITEM, 0 }, other = { CAP4, 2 * MAX_ITEM, 0 };
	const char *name = ipct_shmbuf_create(CAP4, MAX_ITEM, 0);
	struct ipc_shmbuf *c = SAFE_CONSUMER(name), *p = SAFE_PRODUCER(name);
	SAFE_RC(put_item(p, 0));
	SAFE_RC(put_item(p, 1));
	EXPECT_ERR(ipct_shmbuf()->create(name, &same), IPC_EEXIST);
	EXPECT_ERR(ipct_shmbuf()->create(name, &other), IPC_EEXIST);
	/* The name still leads to the old buffer, and the old handles still work. */
	expect_item(SAFE_CONSUMER(name), 0);
	expect_item(c, 1);
}

Test(shmbuf, SHMBUF_SEG_3__attach_or_unlink_of_a_missing_name_is_enoent)
{
	const char *name = ipct_name();
	struct ipc_shmbuf *h = NULL;
	struct ipc_shmbuf_attr a = { CAP4, MAX_ITEM, 0 };
	EXPECT_ERR(ipct_shmbuf()->attach(name, IPC_SHMBUF_PRODUCER, &h), IPC_ENOENT);
	EXPECT_ERR(ipct_shmbuf()->attach(name, IPC_SHMBUF_CONSUMER, &h), IPC_ENOENT);
	EXPECT_ERR(ipct_shmbuf()->unlink(name), IPC_ENOENT);
	/* The failed attaches did not make the name: it is still free. */
	EXPECT_OK(ipct_shmbuf()->create(name, &a));
}

Test(shmbuf, SHMBUF_SEG_4__items_outlive_their_exited_producer_then_eod)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_CROSS_PROCESS | IPC_SHMBUF_CAP_END_OF_STREAM);
	const char *name = ipct_shmbuf_create(CAP4, MAX_ITEM, 0);
	run_party(name, IPC_SHMBUF_PRODUCER, 3); /* attach, put 3, detach, exit */
	struct ipc_shmbuf *c = SAFE_CONSUMER(name);
	for (unsigned k = 0; k < 3; k++)
		expect_item(c, k);
	unsigned char b[MAX_ITEM];
	EXPECT_ERR(ipct_shmbuf()->get(c, b, sizeof b, now_tmo()), IPC_EOD);
}

Test(shmbuf, SHMBUF_SEG_5__unlink_removes_the_name_at_once_old_handles_keep_working)
{
	struct ipc_shmbuf_attr a = { CAP4, MAX_ITEM, 0 };
	const char *name = ipct_shmbuf_create(CAP4, MAX_ITEM, 0);
	struct ipc_shmbuf *c = SAFE_CONSUMER(name), *p = SAFE_PRODUCER(name), *h = NULL;
	SAFE_RC(put_item(p, 0));
	EXPECT_OK(ipct_shmbuf()->unlink(name));
	EXPECT_ERR(ipct_shmbuf()->attach(name, IPC_SHMBUF_CONSUMER, &h), IPC_ENOENT);
	EXPECT_ERR(ipct_shmbuf()->attach(name, IPC_SHMBUF_PRODUCER, &h), IPC_ENOENT);
	EXPECT_ERR(ipct_shmbuf()->unlink(name), IPC_ENOENT);
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
