/* SPDX-License-Identifier: MIT */
/*
 * Verify that direct naming works across processes: a forked child that
 * opens the name itself sends to the parent's id, the parent's recv_any
 * reports the child's own self_id, and the parent's answer sent to that id
 * reaches the child, from the parent's id.
 * Clause: MAILBOX-DIRECT-9.
 */
#include "ipct.h"

#define MB       ipct_mailbox()
#define PARTY_MB ((const struct ipc_mailbox_ops *)ipct_subject()->ops)
#define ROUNDS   3

struct conv {
	const char *name;
	ipc_mailbox_id parent, child; /* child: written by the child before it sends */
	_Atomic int step;             /* where the child stopped, for the message */
	struct ipct_event *opened;    /* the child is a party: recv_any will not see IPC_EOD */
};

/* Child statuses: 0 done, 1 open or self_id, 2 send_to, 3 recv_any, 4 reply wrong, 5 close. */
static int child(void *argp)
{
	struct conv *c = argp;
	struct ipc_mailbox *h;
	ipc_mailbox_id from = 0;
	char buf[32];
	if (PARTY_MB->open(c->name, IPCT_MAILBOX_BOTH, &h) != 0 ||
	    PARTY_MB->self_id(h, &c->child) != 0)
		return 1;
	ipct_event_set(c->opened);
	for (int i = 0; i < ROUNDS; i++) {
		c->step = i;
		buf[0] = (char)('a' + i);
		if (PARTY_MB->send_to(h, c->parent, buf, 1, -1) != 0)
			return 2;
		if (PARTY_MB->recv_any(h, &from, buf, sizeof buf, -1) != 2)
			return 3;
		if (from != c->parent || buf[0] != (char)('A' + i) || buf[1] != '!')
			return 4;
	}
	return PARTY_MB->close(h) == 0 ? 0 : 5;
}

Test(mailbox, MAILBOX_DIRECT_9__child_and_parent_address_each_other_by_id)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_DIRECT | IPC_MAILBOX_CAP_CROSS_PROCESS |
		     IPC_MAILBOX_CAP_BLOCKING);
	struct conv *c = ipct_shared(sizeof *c);
	c->name = ipct_mailbox_create(ipct_has(IPC_MAILBOX_CAP_BOUNDED) ? 4
				      : ipct_has(IPC_MAILBOX_CAP_ZERO)  ? 0
									: IPC_MAILBOX_UNBOUNDED,
				      32);
	struct ipc_mailbox *h = ipct_mailbox_open(c->name, IPCT_MAILBOX_BOTH);
	c->parent = ipct_mailbox_id(h);
	int64_t tmo = ipct_has(IPC_MAILBOX_CAP_TIMED) ? IPCT_MS(ipct_scaled_ms(5000)) : -1;
	c->opened = ipct_event_new();
	struct ipct_party *p = ipct_process_start(child, c);
	cr_assert(ipct_event_wait(c->opened, 5000) == 0, "BROKEN: the child did not open the name");
	char buf[32], reply[2];
	for (int i = 0; i < ROUNDS; i++) {
		ipc_mailbox_id from = 0;
		EXPECT_RC(MB->recv_any(h, &from, buf, sizeof buf, tmo), 1);
		cr_assert(buf[0] == 'a' + i, "round %d: the child's message changed", i);
		cr_assert(from != c->parent && from == c->child,
			  "round %d: recv_any reported id %llu, the child's self_id is %llu", i,
			  (unsigned long long)from, (unsigned long long)c->child);
		reply[0] = (char)('A' + i);
		reply[1] = '!';
		EXPECT_OK(MB->send_to(h, from, reply, 2, tmo));
	}
	int st = ipct_party_wait(p, 5000);
	cr_assert(st == 0,
		  "the child ended with status %d in round %d (1 open, 2 send_to, "
		  "3 recv_any, 4 wrong reply, 5 close)",
		  st, (int)c->step);
}
