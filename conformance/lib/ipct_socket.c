/* SPDX-License-Identifier: MIT */
/* Harness support for the socket mechanism: capability names, setup
 * wrappers and cleanup (sockets, then names). */
#include "ipct.h"

/* The names of the capability bits of spec/socket.h, in bit order. */
const char *const ipct__socket_caps[] = {
    "stream",     "records", "connected",     "dgram",   "listen", "local-peer",
    "scm-rights", "reset",   "cross-process", "sigpipe", "netns",  NULL,
};

#define IPCT_SOCKET_MAX 64

static struct ipc_socket *ipct__sk[IPCT_SOCKET_MAX];
static size_t ipct__nsk;
static const char *ipct__sk_names[IPCT_SOCKET_MAX];
static size_t ipct__nsk_names;

void ipct__netns_environment(long rc)
{
	char text[48];
	if (rc == -EPERM)
		cr_skip("UNSUPPORTED: environment: network namespaces joined by veth need root "
			"(CAP_SYS_ADMIN and CAP_NET_ADMIN)");
	if (rc == -EOPNOTSUPP)
		cr_skip("UNSUPPORTED: environment: this kernel cannot join two network namespaces "
			"by veth (no network namespaces or no veth)");
	if (rc < 0)
		cr_assert_fail("BROKEN: setup of network namespaces joined by veth failed: %s",
			       ipct_rc_text(rc, text, sizeof text));
}

/* As ipct__frm_environment (ipct_framing.c): a pair is made once per test
 * process, and an environment that refuses makes the clause UNSUPPORTED. */
static void ipct__sk_environment(const struct ipc_socket_ops *ops)
{
	static bool checked;
	struct ipc_socket *a, *b;
	if (checked || !ipct_has(IPC_SOCKET_CAP_NETNS))
		return;
	checked = true;
	ipct__netns_environment(ops->pair(ipct_socket_name(), &a, &b));
	ops->close(a);
	ops->close(b);
}

const struct ipc_socket_ops *ipct_socket(void)
{
	if (ipct_subject()->mechanism != IPC_MECH_SOCKET)
		cr_assert_fail("BROKEN: subject %s is not of this test's mechanism",
			       ipct_subject()->name);
	ipct__sk_environment(ipct_subject()->ops);
	return ipct_subject()->ops;
}

static void ipct__sk_track(struct ipc_socket *s)
{
	if (ipct__nsk == IPCT_SOCKET_MAX)
		cr_assert_fail("BROKEN: too many sockets in one test");
	ipct__sk[ipct__nsk++] = s;
}

const char *ipct_socket_name(void)
{
	const char *name = ipct_name();
	if (ipct__nsk_names == IPCT_SOCKET_MAX)
		cr_assert_fail("BROKEN: too many socket names in one test");
	ipct__sk_names[ipct__nsk_names++] = name;
	return name;
}

void ipct_socket_pair(struct ipc_socket **a, struct ipc_socket **b)
{
	SAFE_RC(ipct_socket()->pair(ipct_socket_name(), a, b));
	ipct__sk_track(*a);
	ipct__sk_track(*b);
}

const char *ipct_socket_listen(int nonblock, struct ipc_socket **lst)
{
	const char *name = ipct_socket_name();
	SAFE_RC(ipct_socket()->listen(name, nonblock, lst));
	ipct__sk_track(*lst);
	return name;
}

int ipct_socket_connect(const char *name, int nonblock, struct ipc_socket **out)
{
	*out = NULL;
	int rc = ipct_socket()->connect(name, nonblock, out);
	if (*out != NULL && (rc == 0 || rc == IPC_EINPROGRESS))
		ipct__sk_track(*out);
	return rc;
}

int ipct_socket_accept(struct ipc_socket *lst, struct ipc_socket **out)
{
	*out = NULL;
	int rc = ipct_socket()->accept(lst, out);
	if (rc == 0)
		ipct__sk_track(*out);
	return rc;
}

int ipct_socket_close(struct ipc_socket *s)
{
	for (size_t i = 0; i < ipct__nsk; i++)
		if (ipct__sk[i] == s)
			ipct__sk[i] = NULL;
	return ipct_socket()->close(s);
}

int ipct_socket_wait(struct ipc_socket *s, short events)
{
	return ipct_socket()->wait(s, events, IPCT_MS(ipct_scaled_ms(3000)));
}

/* A thread party still inside a call (stuck) may use the sockets: leak
 * them, but remove the names, which no call uses. */
void ipct__socket_teardown(bool stuck)
{
	const struct ipc_socket_ops *ops = ipct_subject()->ops;
	for (size_t i = 0; i < ipct__nsk && !stuck; i++)
		if (ipct__sk[i] != NULL)
			ops->close(ipct__sk[i]);
	for (size_t i = 0; i < ipct__nsk_names; i++)
		ops->unlink(ipct__sk_names[i]);
	ipct__nsk = ipct__nsk_names = 0;
}
