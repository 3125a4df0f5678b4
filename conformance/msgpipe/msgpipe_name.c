/* SPDX-License-Identifier: MIT */
/*
 * Verify that a name is found or refused by its state: a missing name is
 * -ENOENT, a taken name is -EEXIST without harm to its server, a name whose
 * server closed stays (refusing connections) until unlink, and unlink
 * removes only the name, never a live instance.
 * Clauses: MSGPIPE-NAME-1, MSGPIPE-NAME-2, MSGPIPE-NAME-3, MSGPIPE-NAME-4.
 */
#include "ipct.h"

IPCT_SUITE(msgpipe, 30);

#define OPS ipct_msgpipe()

/* One message each way through an instance: 0 when both arrived intact. */
static void exchange(struct ipc_msgpipe *a, struct ipc_msgpipe *b)
{
	char buf[16] = { 0 };
	EXPECT_RC(OPS->send(a, "ping", 4), 4);
	EXPECT_RC(OPS->recv(b, buf, sizeof buf), 4);
	cr_assert(memcmp(buf, "ping", 4) == 0, "the message a->b arrived altered");
	EXPECT_RC(OPS->send(b, "pong!", 5), 5);
	EXPECT_RC(OPS->recv(a, buf, sizeof buf), 5);
	cr_assert(memcmp(buf, "pong!", 5) == 0, "the message b->a arrived altered");
}

Test(msgpipe, MSGPIPE_NAME_1__connect_to_missing_name_is_enoent_and_creates_nothing)
{
	const char *name = ipct_msgpipe_name();
	struct ipc_msgpipe_attr attr = { 0, 0 };
	struct ipc_msgpipe *h = NULL;
	struct ipc_msgpipe_server *srv = NULL;
	EXPECT_ERR(OPS->connect(name, &attr, &h), IPC_ENOENT);
	EXPECT_OK(OPS->create(name, &attr, &srv));
	EXPECT_OK(OPS->server_close(srv));
}

Test(msgpipe, MSGPIPE_NAME_2__create_on_a_live_name_is_eexist_and_harmless)
{
	struct ipc_msgpipe_server *srv, *other = NULL;
	struct ipc_msgpipe_attr attr = { 0, 0 };
	const char *name = ipct_msgpipe_listen(0, 0, &srv);
	EXPECT_ERR(OPS->create(name, &attr, &other), IPC_EEXIST);
	struct ipc_msgpipe *cli = ipct_msgpipe_connect(name, 0);
	struct ipc_msgpipe *end = NULL;
	EXPECT_OK(OPS->accept(srv, 0, &end));
	exchange(cli, end);
	EXPECT_OK(OPS->close(end));
}

Test(msgpipe, MSGPIPE_NAME_3__name_outlives_its_server_until_unlink)
{
	struct ipc_msgpipe_server *srv, *again = NULL;
	struct ipc_msgpipe_attr attr = { 0, 0 };
	struct ipc_msgpipe *h = NULL;
	const char *name = ipct_msgpipe_listen(0, 0, &srv);
	SAFE_RC(ipct_msgpipe_server_close(srv));
	EXPECT_ERR(OPS->connect(name, &attr, &h), IPC_MSGPIPE_ENOSERVER);
	EXPECT_ERR(OPS->create(name, &attr, &again), IPC_EEXIST);
	EXPECT_OK(OPS->unlink(name));
	EXPECT_ERR(OPS->connect(name, &attr, &h), IPC_ENOENT);
	EXPECT_OK(OPS->create(name, &attr, &again));
	EXPECT_OK(OPS->server_close(again));
}

Test(msgpipe, MSGPIPE_NAME_4__unlink_removes_the_name_not_the_instance)
{
	struct ipc_msgpipe_server *srv;
	struct ipc_msgpipe *cli, *end, *h = NULL;
	struct ipc_msgpipe_attr attr = { 0, 0 };
	const char *name = ipct_msgpipe_instance(0, 0, &srv, &cli, &end);
	EXPECT_OK(OPS->unlink(name));
	exchange(cli, end);
	EXPECT_ERR(OPS->connect(name, &attr, &h), IPC_ENOENT);
	EXPECT_ERR(OPS->unlink(name), IPC_ENOENT);
}
