/* SPDX-License-Identifier: MIT */
/* Harness support for the msgpipe mechanism: capability names, setup
 * wrappers and cleanup (handles, servers, then names). */
#include "ipct.h"

/* The names of the capability bits of spec/msgpipe.h, in bit order. */
const char *const ipct__msgpipe_caps[] = {
	"blocking", "nonblock", "cross-process", "multi-sender", "next-size", "peer-death", NULL,
};

#define IPCT_MSGPIPE_MAX 64

static struct ipc_msgpipe *ipct__mp_handles[IPCT_MSGPIPE_MAX];
static size_t ipct__mp_nhandles;
static struct ipc_msgpipe_server *ipct__mp_servers[IPCT_MSGPIPE_MAX];
static size_t ipct__mp_nservers;
static const char *ipct__mp_names[IPCT_MSGPIPE_MAX];
static size_t ipct__mp_nnames;

const struct ipc_msgpipe_ops *ipct_msgpipe(void)
{
	if (ipct_subject()->mechanism != IPC_MECH_MSGPIPE)
		cr_assert_fail("BROKEN: subject %s is not of this test's mechanism",
			       ipct_subject()->name);
	return ipct_subject()->ops;
}

static void ipct__mp_track(void **slots, size_t *n, void *p)
{
	if (*n == IPCT_MSGPIPE_MAX)
		cr_assert_fail("BROKEN: too many msgpipe objects in one test");
	slots[(*n)++] = p;
}

const char *ipct_msgpipe_name(void)
{
	const char *name = ipct_name();
	ipct__mp_track((void **)ipct__mp_names, &ipct__mp_nnames, (void *)name);
	return name;
}

const char *ipct_msgpipe_listen(uint32_t flags, size_t max_msg, struct ipc_msgpipe_server **srv)
{
	const char *name = ipct_msgpipe_name();
	struct ipc_msgpipe_attr attr = { .flags = flags, .max_msg = max_msg };
	SAFE_RC(ipct_msgpipe()->create(name, &attr, srv));
	ipct__mp_track((void **)ipct__mp_servers, &ipct__mp_nservers, *srv);
	return name;
}

struct ipc_msgpipe *ipct_msgpipe_connect(const char *name, uint32_t flags)
{
	struct ipc_msgpipe_attr attr = { .flags = flags, .max_msg = 0 };
	struct ipc_msgpipe *h = NULL;
	SAFE_RC(ipct_msgpipe()->connect(name, &attr, &h));
	ipct__mp_track((void **)ipct__mp_handles, &ipct__mp_nhandles, h);
	return h;
}

struct ipc_msgpipe *ipct_msgpipe_accept(struct ipc_msgpipe_server *srv)
{
	struct ipc_msgpipe *h = NULL;
	SAFE_RC(ipct_msgpipe()->accept(srv, IPCT_MS(ipct_scaled_ms(5000)), &h));
	ipct__mp_track((void **)ipct__mp_handles, &ipct__mp_nhandles, h);
	return h;
}

const char *ipct_msgpipe_instance(uint32_t flags, size_t max_msg, struct ipc_msgpipe_server **srv,
				  struct ipc_msgpipe **cli, struct ipc_msgpipe **srv_end)
{
	const char *name = ipct_msgpipe_listen(flags, max_msg, srv);
	*cli = ipct_msgpipe_connect(name, flags);
	*srv_end = ipct_msgpipe_accept(*srv);
	return name;
}

static void ipct__mp_forget(void **slots, size_t n, void *p)
{
	for (size_t i = 0; i < n; i++)
		if (slots[i] == p)
			slots[i] = NULL;
}

int ipct_msgpipe_close(struct ipc_msgpipe *h)
{
	ipct__mp_forget((void **)ipct__mp_handles, ipct__mp_nhandles, h);
	return ipct_msgpipe()->close(h);
}

int ipct_msgpipe_server_close(struct ipc_msgpipe_server *srv)
{
	ipct__mp_forget((void **)ipct__mp_servers, ipct__mp_nservers, srv);
	return ipct_msgpipe()->server_close(srv);
}

/* A thread party still inside a call (stuck) may use the handles: leak
 * them, but remove the names, which no call uses. */
void ipct__msgpipe_teardown(bool stuck)
{
	for (size_t i = 0; i < ipct__mp_nhandles && !stuck; i++)
		if (ipct__mp_handles[i] != NULL)
			ipct_msgpipe()->close(ipct__mp_handles[i]);
	for (size_t i = 0; i < ipct__mp_nservers && !stuck; i++)
		if (ipct__mp_servers[i] != NULL)
			ipct_msgpipe()->server_close(ipct__mp_servers[i]);
	for (size_t i = 0; i < ipct__mp_nnames; i++)
		ipct_msgpipe()->unlink(ipct__mp_names[i]);
	ipct__mp_nhandles = ipct__mp_nservers = ipct__mp_nnames = 0;
}
