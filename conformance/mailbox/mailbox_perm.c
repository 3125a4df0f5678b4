/* SPDX-License-Identifier: MIT */
/*
 * Verify that access is enforced: the mode given to create decides whether a
 * process of another user may open the name (0600 refuses it with -EACCES,
 * 0666 lets it open and receive), and a handle's role decides what it may do
 * (recv without RECV and send without SEND are -EBADF and move nothing).
 * Clauses: MAILBOX-NAME-9, MAILBOX-NAME-10.
 */
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipct.h"

#define OPS ipct_mailbox()
/* In a forked party: the subject is loaded already, nothing can assert. */
#define CHILD_OPS ((const struct ipc_mailbox_ops *)ipct_subject()->ops)
#define NOBODY    65534

struct other_user {
	const char *private_name, *shared_name;
	long open_private, open_shared, recv; /* what the calls returned */
	char buf[32];
};

/* A forked party: becomes another user, then opens both names. */
static int other_user_body(void *argp)
{
	struct other_user *o = argp;
	struct ipc_mailbox *h = NULL;
	if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0)
		return 1;
	o->open_private = CHILD_OPS->open(o->private_name, IPC_MAILBOX_RECV, &h);
	if (o->open_private == 0)
		CHILD_OPS->close(h);
	o->open_shared = CHILD_OPS->open(o->shared_name, IPC_MAILBOX_RECV, &h);
	if (o->open_shared != 0)
		return 0;
	o->recv = CHILD_OPS->recv(h, o->buf, sizeof o->buf, -1);
	CHILD_OPS->close(h);
	return 0;
}

/* Ends with _exit: as another user the process cannot run LeakSanitizer's
 * exit check (it ptrace-attaches itself, which an unprivileged process may
 * not), and the body closed what it opened. */
static int other_user_opens(void *argp)
{
	_exit(other_user_body(argp));
}

Test(mailbox, MAILBOX_NAME_9__mode_0600_refuses_another_user_and_0666_admits_it)
{
	IPCT_REQUIRE(IPC_MAILBOX_CAP_PERMISSIONS | IPC_MAILBOX_CAP_CROSS_PROCESS);
	if (geteuid() != 0)
		cr_skip("UNSUPPORTED: environment: needs a process of another user; run as root "
			"(the test's child then drops to uid %d)",
			NOBODY);
	size_t cap = ipct_has(IPC_MAILBOX_CAP_BOUNDED) ? 4 : IPC_MAILBOX_UNBOUNDED;
	struct ipc_mailbox_attr private_attr = {cap, 64, 0600, 0};
	struct ipc_mailbox_attr shared_attr = {cap, 64, 0666, 0};
	struct other_user *o = ipct_shared(sizeof *o);
	mode_t old = umask(0); /* 0666 is meant whole, whatever the runner's umask */
	o->private_name = ipct_mailbox_create_attr(&private_attr);
	o->shared_name = ipct_mailbox_create_attr(&shared_attr);
	umask(old);
	struct ipc_mailbox *h = ipct_mailbox_open(o->shared_name, IPCT_MAILBOX_BOTH);
	SAFE_RC(OPS->send(h, "for-nobody", 10, ipct_mailbox_at_once()));
	o->open_private = o->open_shared = o->recv = 1;
	struct ipct_party *p = ipct_process_start(other_user_opens, o);
	int rc = ipct_party_wait(p, 5000);
	cr_assert_eq(rc, 0, "BROKEN: the child ended with %d (1: it could not become uid %d)", rc,
		     NOBODY);
	EXPECT_ERR(o->open_private, IPC_EACCES);
	EXPECT_OK(o->open_shared);
	EXPECT_RC(o->recv, 10);
	cr_assert(memcmp(o->buf, "for-nobody", 10) == 0, "the other user received %.10s", o->buf);
}

Test(mailbox, MAILBOX_NAME_10__the_role_of_a_handle_is_enforced_with_ebadf)
{
	const char *name = ipct_mailbox_create_queue(0);
	struct ipc_mailbox *tx = ipct_mailbox_open(name, IPC_MAILBOX_SEND);
	struct ipc_mailbox *rx = ipct_mailbox_open(name, IPC_MAILBOX_RECV);
	int64_t now = ipct_mailbox_at_once();
	char buf[16];
	EXPECT_ERR(OPS->send(rx, "wrong", 5, now), IPC_EBADF);
	SAFE_RC(OPS->send(tx, "first", 5, now));
	EXPECT_ERR(OPS->recv(tx, buf, sizeof buf, now), IPC_EBADF);
	EXPECT_ERR(OPS->recv(tx, buf, sizeof buf, -1), IPC_EBADF);
	EXPECT_RC(OPS->recv(rx, buf, sizeof buf, now), 5); /* recv on tx took nothing */
	cr_assert(memcmp(buf, "first", 5) == 0, "received \"%.5s\", not \"first\"", buf);
	EXPECT_ERR(OPS->send(rx, "wrong", 5, -1), IPC_EBADF);
	SAFE_RC(OPS->send(tx, "next", 4, now));
	EXPECT_RC(OPS->recv(rx, buf, sizeof buf, now), 4); /* send on rx queued nothing */
	cr_assert(memcmp(buf, "next", 4) == 0, "received \"%.4s\", not \"next\"", buf);
}
