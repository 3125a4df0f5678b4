/* SPDX-License-Identifier: MIT */
/*
 * Verify that a name is found or refused by its state (a taken name is
 * -EEXIST and keeps its messages, a missing one -ENOENT and stays missing),
 * that bad attributes and flags are -EINVAL, that every handle opened on a
 * name reaches one mailbox, also from a forked process, and that the name
 * and its messages persist while no handle is open.
 * Clauses: MAILBOX-NAME-1, MAILBOX-NAME-2, MAILBOX-NAME-3, MAILBOX-NAME-4, MAILBOX-NAME-5.
 */
#include "ipct.h"

IPCT_SUITE(mailbox, 30);

#define OPS ipct_mailbox()
/* In a forked party: the subject is loaded already, nothing can assert. */
#define CHILD_OPS ((const struct ipc_mailbox_ops *)ipct_subject()->ops)

/* Receive one message at once and check it is exactly len pattern bytes of s. */
static void expect_pattern(struct ipc_mailbox *h, size_t len, uint32_t s)
{
	unsigned char buf[4096];
	EXPECT_RC(OPS->recv(h, buf, sizeof buf, ipct_mailbox_at_once()), len);
	cr_assert_eq(ipct_pattern_check(buf, len, s, 0), -1, "message %u (%zu bytes) altered", s,
		     len);
}

static void send_pattern(struct ipc_mailbox *h, size_t len, uint32_t s)
{
	unsigned char buf[4096];
	ipct_pattern(buf, len, s, 0);
	SAFE_RC(OPS->send(h, buf, len, ipct_mailbox_at_once()));
}

Test(mailbox, MAILBOX_NAME_1__create_on_taken_name_is_eexist_open_of_missing_is_enoent)
{
	const char *name = ipct_mailbox_create_queue(0);
	struct ipc_mailbox_attr other = {1, 64, 0600, 0};
	struct ipc_mailbox *h = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH), *none = NULL;
	send_pattern(h, 100, 1);
	EXPECT_ERR(OPS->create(name, &other), IPC_EEXIST);
	struct ipc_mailbox *again = ipct_mailbox_open(name, IPC_MAILBOX_RECV);
	expect_pattern(again, 100, 1); /* the same mailbox, message kept */
	const char *missing = ipct_mailbox_name();
	EXPECT_ERR(OPS->open(missing, IPCT_MAILBOX_BOTH, &none), IPC_ENOENT);
	EXPECT_ERR(OPS->open(missing, IPC_MAILBOX_RECV, &none), IPC_ENOENT);
	EXPECT_ERR(OPS->unlink(missing), IPC_ENOENT); /* the failed opens created nothing */
}

Test(mailbox, MAILBOX_NAME_2__bad_max_msg_flags_or_capacity_are_refused)
{
	size_t any = ipct_has(IPC_MAILBOX_CAP_BOUNDED)     ? 4
		     : ipct_has(IPC_MAILBOX_CAP_UNBOUNDED) ? IPC_MAILBOX_UNBOUNDED
							   : 0;
	struct ipc_mailbox_attr attr = {any, 0, 0600, 0};
	struct ipc_mailbox *h = NULL;
	const char *name = ipct_mailbox_name();
	EXPECT_ERR(OPS->create(name, &attr), IPC_EINVAL);
	EXPECT_ERR(OPS->open(name, IPC_MAILBOX_RECV, &h), IPC_ENOENT);
	const char *live = ipct_mailbox_create(any, 0);
	EXPECT_ERR(OPS->open(live, 0, &h), IPC_EINVAL);
	EXPECT_ERR(OPS->open(live, IPC_MAILBOX_SEND | 0x4u, &h), IPC_EINVAL);
	EXPECT_ERR(OPS->open(live, IPCT_MAILBOX_BOTH | 0x80000000u, &h), IPC_EINVAL);
	const size_t caps[] = {0, 4, IPC_MAILBOX_UNBOUNDED};
	const uint64_t need[] = {IPC_MAILBOX_CAP_ZERO, IPC_MAILBOX_CAP_BOUNDED,
				 IPC_MAILBOX_CAP_UNBOUNDED};
	for (int i = 0; i < 3; i++) {
		if (ipct_has(need[i]))
			continue;
		struct ipc_mailbox_attr unsup = {caps[i], 64, 0600, 0};
		const char *n = ipct_mailbox_name();
		long rc = OPS->create(n, &unsup);
		cr_assert(rc == IPC_EOPNOTSUPP || rc == IPC_EINVAL,
			  "create with an unsupported capacity %zu returned %ld", caps[i], rc);
		EXPECT_ERR(OPS->open(n, IPC_MAILBOX_RECV, &h), IPC_ENOENT);
	}
}

Test(mailbox, MAILBOX_NAME_3__handles_opened_separately_reach_one_mailbox)
{
	const char *name = ipct_mailbox_create_queue(0);
	struct ipc_mailbox *tx = ipct_mailbox_open(name, IPC_MAILBOX_SEND);
	struct ipc_mailbox *rx = ipct_mailbox_open(name, IPC_MAILBOX_RECV);
	struct ipc_mailbox *both = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH);
	send_pattern(tx, 3000, 1);
	expect_pattern(rx, 3000, 1);
	send_pattern(both, 1, 2);
	expect_pattern(rx, 1, 2);
	send_pattern(tx, 700, 3);
	expect_pattern(both, 700, 3);
}

/* A forked party: opens both names itself, echoes one message with a suffix. */
static int child_echo(void *argp)
{
	const char *const *names = argp; /* down (parent to child), up */
	struct ipc_mailbox *down, *up;
	char buf[64];
	if (CHILD_OPS->open(names[0], IPC_MAILBOX_RECV, &down) != 0)
		return 1;
	if (CHILD_OPS->open(names[1], IPC_MAILBOX_SEND, &up) != 0)
		return 2;
	int rc = CHILD_OPS->recv(down, buf, sizeof buf, -1) == 4 ? 0 : 3;
	memcpy(buf + 4, "+child", 6);
	if (!rc && CHILD_OPS->send(up, buf, 10, -1) != 0)
		rc = 4;
	CHILD_OPS->close(up);
	CHILD_OPS->close(down);
	return rc;
}

Test(mailbox, MAILBOX_NAME_4__a_forked_process_exchanges_both_ways_by_name)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_CROSS_PROCESS | IPC_MAILBOX_CAP_BLOCKING);
	const char **names = ipct_shared(2 * sizeof *names);
	names[0] = ipct_mailbox_create_queue(0);
	names[1] = ipct_mailbox_create_queue(0);
	struct ipc_mailbox *down = ipct_mailbox_open(names[0], IPCT_MAILBOX_BOTH);
	struct ipc_mailbox *up = ipct_mailbox_open(names[1], IPCT_MAILBOX_BOTH);
	char buf[64];
	struct ipct_party *p = ipct_process_start(child_echo, names);
	EXPECT_OK(OPS->send(down, "ping", 4, -1));
	EXPECT_RC(OPS->recv(up, buf, sizeof buf, -1), 10);
	cr_assert(memcmp(buf, "ping+child", 10) == 0, "the child answered %.10s", buf);
	EXPECT_RC(ipct_party_wait(p, 5000), 0);
}

Test(mailbox, MAILBOX_NAME_5__name_and_messages_persist_with_no_handle_open)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_PERSISTENCE);
	const char *name = ipct_mailbox_create_queue(0);
	struct ipc_mailbox *h = ipct_mailbox_open(name, IPCT_MAILBOX_BOTH);
	send_pattern(h, 10, 1);
	send_pattern(h, 0, 2);
	send_pattern(h, 2000, 3);
	SAFE_RC(ipct_mailbox_close(h));
	struct ipc_mailbox *later = ipct_mailbox_open(name, IPC_MAILBOX_RECV);
	expect_pattern(later, 10, 1);
	expect_pattern(later, 0, 2);
	expect_pattern(later, 2000, 3);
}
