/* SPDX-License-Identifier: MIT */
/*
 * Two network namespaces joined by a veth link (core/veth.h).
 *
 *  - A namespace switch (unshare, setns) applies to the calling thread only,
 *    so each one runs on a short-lived helper thread: the caller never
 *    leaves its namespace, and nothing has to be switched back (a switch
 *    back that failed would leave the caller's later sockets in the wrong
 *    place). The helper blocks every signal, so a signal a test aims at the
 *    process is never taken by it.
 *  - Everything else is done through sockets made inside a namespace, which
 *    act there for life: an rtnetlink socket in A creates the link with its
 *    peer end placed in B (IFLA_NET_NS_FD), so no link ever appears in the
 *    caller's namespace, then one rtnetlink socket per side sets the address
 *    and brings the link up. No iproute2, no fork and exec.
 *  - Ready means both ends have operational state UP, not just IFF_UP: the
 *    kernel attaches a link's transmit queue (linkwatch) asynchronously after
 *    the carrier comes on, and until then it drops what is sent, so a first
 *    SYN or ARP request would be lost and retried a second later.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/veth.h"

#define VETH_NET      0x0ac70000u /* 10.199.0.0/30: private, only inside the pair */
#define VETH_PREFIX   30
#define VETH_READY_MS 10000 /* the kernel's linkwatch takes milliseconds */
#define VETH_MSG      16384 /* room for a whole RTM_NEWLINK reply */

static const char *const veth__ifname[2] = {"ipcspec-a", "ipcspec-b"};

static struct {
	int rc;
	int ns[2];
} veth = {0, {-1, -1}};
static pthread_once_t veth_once = PTHREAD_ONCE_INIT;

struct sockaddr_in ipc__veth_addr(int side)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(VETH_NET + 1 + (side == IPC_VETH_B));
	return a;
}

/* What a system without the means answers, as core/veth.h promises: EINVAL
 * from unshare is a kernel without CONFIG_NET_NS, ENOENT a missing
 * /proc/<tid>/ns. */
static int veth__env_err(int e)
{
	if (e == EPERM || e == EACCES)
		return -EPERM;
	if (e == EINVAL || e == ENOSYS || e == ENOENT)
		return -EOPNOTSUPP;
	return -e;
}

/* ---- helper threads: the only code that changes namespace -------------- */

struct veth__job {
	int nsfd;                   /* enter it; -1: a new namespace */
	int domain, type, protocol; /* the socket to make there; domain 0: none */
	int rc;                     /* the socket, the new namespace, or -errno */
};

static void *veth__job_run(void *arg)
{
	struct veth__job *j = arg;

	if (j->nsfd >= 0 && setns(j->nsfd, CLONE_NEWNET) != 0) {
		j->rc = -errno; /* entering one we made: no excuse */
		return NULL;
	}
	if (j->nsfd < 0 && unshare(CLONE_NEWNET) != 0) {
		j->rc = veth__env_err(errno);
		return NULL;
	}
	if (j->domain == 0) {
		j->rc = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		j->rc = j->rc >= 0 ? j->rc : veth__env_err(errno);
	} else {
		j->rc = socket(j->domain, j->type | SOCK_CLOEXEC, j->protocol);
		j->rc = j->rc >= 0 ? j->rc : -errno;
	}
	return NULL;
}

static int veth__job(struct veth__job *j)
{
	sigset_t all, old;
	pthread_t t;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* the helper inherits it */
	int rc = pthread_create(&t, NULL, veth__job_run, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -rc;
	pthread_join(t, NULL);
	return j->rc;
}

static int veth__new_ns(void)
{
	struct veth__job j = {.nsfd = -1};
	return veth__job(&j);
}

static int veth__socket_in(int nsfd, int domain, int type, int protocol)
{
	struct veth__job j = {.nsfd = nsfd, .domain = domain, .type = type, .protocol = protocol};
	return veth__job(&j);
}

/* ---- rtnetlink ---------------------------------------------------------- */

/* Buffers of this size are static in the functions below: they run only
 * once per process, under pthread_once. */
union veth__msg {
	struct nlmsghdr nh;
	char buf[VETH_MSG];
};

static void veth__begin(union veth__msg *m, int type, int flags, const void *hdr, size_t len)
{
	memset(m, 0, sizeof *m);
	m->nh.nlmsg_len = NLMSG_LENGTH(len);
	m->nh.nlmsg_type = (uint16_t)type;
	m->nh.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	memcpy(NLMSG_DATA(&m->nh), hdr, len);
}

/* Append an attribute (a nest when data is NULL: close it with veth__end).
 * The requests here are a few hundred bytes, far below VETH_MSG. */
static struct rtattr *veth__put(union veth__msg *m, int type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)(m->buf + NLMSG_ALIGN(m->nh.nlmsg_len));

	a->rta_type = (unsigned short)type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len > 0)
		memcpy(RTA_DATA(a), data, len);
	m->nh.nlmsg_len = NLMSG_ALIGN(m->nh.nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static void veth__end(union veth__msg *m, struct rtattr *nest)
{
	nest->rta_len = (unsigned short)(m->buf + m->nh.nlmsg_len - (char *)nest);
}

/* Send m and read the one answer into m: 0 (an ack or a reply), or the
 * kernel's error. */
static int veth__talk(int nl, union veth__msg *m)
{
	if (send(nl, m, m->nh.nlmsg_len, 0) < 0)
		return -errno;
	ssize_t n = recv(nl, m, sizeof *m, 0);
	if (n < 0)
		return -errno;
	if ((size_t)n < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
		return -EPROTO;
	if (m->nh.nlmsg_type != NLMSG_ERROR)
		return 0;
	return ((struct nlmsgerr *)NLMSG_DATA(&m->nh))->error;
}

/* The link: "ipcspec-a" in nl's namespace, its peer "ipcspec-b" in ns_b. */
static int veth__create(int nl, int ns_b)
{
	static union veth__msg m;
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	uint32_t fd = (uint32_t)ns_b;

	veth__begin(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, &ifi, sizeof ifi);
	veth__put(&m, IFLA_IFNAME, veth__ifname[0], strlen(veth__ifname[0]) + 1);
	struct rtattr *info = veth__put(&m, IFLA_LINKINFO, NULL, 0);
	veth__put(&m, IFLA_INFO_KIND, "veth", 4);
	struct rtattr *data = veth__put(&m, IFLA_INFO_DATA, NULL, 0);
	struct rtattr *peer = veth__put(&m, VETH_INFO_PEER, &ifi, sizeof ifi);
	veth__put(&m, IFLA_IFNAME, veth__ifname[1], strlen(veth__ifname[1]) + 1);
	veth__put(&m, IFLA_NET_NS_FD, &fd, sizeof fd);
	veth__end(&m, peer);
	veth__end(&m, data);
	veth__end(&m, info);
	return veth__talk(nl, &m);
}

/* side's end in nl's namespace: its index and operational state. */
static int veth__get(int nl, int side, int *index, int *oper)
{
	static union veth__msg m;
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};

	veth__begin(&m, RTM_GETLINK, 0, &ifi, sizeof ifi);
	veth__put(&m, IFLA_IFNAME, veth__ifname[side], strlen(veth__ifname[side]) + 1);
	int rc = veth__talk(nl, &m);
	if (rc < 0)
		return rc;
	if (m.nh.nlmsg_type != RTM_NEWLINK)
		return -EPROTO;
	struct ifinfomsg *got = NLMSG_DATA(&m.nh);
	int len = (int)IFLA_PAYLOAD(&m.nh);
	*index = got->ifi_index, *oper = IF_OPER_UNKNOWN;
	for (struct rtattr *a = IFLA_RTA(got); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == IFLA_OPERSTATE)
			*oper = *(uint8_t *)RTA_DATA(a);
	return 0;
}

/* Address side's end (a /30, so the other end is on link) and bring it up. */
static int veth__up(int nl, int side)
{
	static union veth__msg m;
	int index, oper;
	int rc = veth__get(nl, side, &index, &oper);
	if (rc < 0)
		return rc;
	struct ifaddrmsg ifa = {
	    .ifa_family = AF_INET, .ifa_prefixlen = VETH_PREFIX, .ifa_index = (uint32_t)index};
	struct in_addr in = ipc__veth_addr(side).sin_addr;
	veth__begin(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, &ifa, sizeof ifa);
	veth__put(&m, IFA_LOCAL, &in, sizeof in);
	veth__put(&m, IFA_ADDRESS, &in, sizeof in);
	if ((rc = veth__talk(nl, &m)) < 0)
		return rc;
	struct ifinfomsg ifi = {
	    .ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
	veth__begin(&m, RTM_NEWLINK, NLM_F_ACK, &ifi, sizeof ifi);
	return veth__talk(nl, &m);
}

static int veth__wait_up(const int nl[2])
{
	for (int ms = 0; ms < VETH_READY_MS; ms++) {
		int index, oper[2], rc;
		for (int side = 0; side < 2; side++)
			if ((rc = veth__get(nl[side], side, &index, &oper[side])) < 0)
				return rc;
		if (oper[0] == IF_OPER_UP && oper[1] == IF_OPER_UP)
			return 0;
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
	return -ETIMEDOUT;
}

/* ---- the pair of namespaces, once per process -------------------------- */

static int veth__link(const int ns[2])
{
	int nl[2] = {-1, -1}, rc = 0;

	for (int side = 0; side < 2 && rc >= 0; side++)
		rc = nl[side] = veth__socket_in(ns[side], AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (rc >= 0)
		rc = veth__create(nl[0], ns[1]);
	for (int side = 0; side < 2 && rc >= 0; side++)
		rc = veth__up(nl[side], side);
	if (rc >= 0)
		rc = veth__wait_up(nl);
	for (int side = 0; side < 2; side++)
		if (nl[side] >= 0)
			close(nl[side]);
	/* -EOPNOTSUPP from RTM_NEWLINK: no veth in this kernel (the link kind is
	 * unknown and no module provides it), as core/veth.h says. */
	return rc < 0 ? rc : 0;
}

static void veth__make(void)
{
	int rc = 0;

	for (int side = 0; side < 2 && rc >= 0; side++)
		rc = veth.ns[side] = veth__new_ns();
	if (rc >= 0)
		rc = veth__link(veth.ns);
	if (rc < 0) /* closing the namespaces removes whatever was made in them */
		for (int side = 0; side < 2; side++)
			if (veth.ns[side] >= 0)
				close(veth.ns[side]), veth.ns[side] = -1;
	veth.rc = rc < 0 ? rc : 0;
}

int ipc__veth_ready(void)
{
	pthread_once(&veth_once, veth__make);
	return veth.rc;
}

int ipc__veth_socket(int side, int domain, int type)
{
	int rc = ipc__veth_ready();
	if (rc < 0)
		return rc;
	if (side != IPC_VETH_A && side != IPC_VETH_B)
		return -EINVAL;
	return veth__socket_in(veth.ns[side], domain, type, 0);
}
