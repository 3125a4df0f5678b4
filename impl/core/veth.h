/* SPDX-License-Identifier: MIT */
/*
 * Two network namespaces joined by a veth link, for the subjects that carry
 * a mechanism "between machines" (framing-veth, tcp-veth): side A holds
 * 10.199.0.1/30, side B 10.199.0.2/30, and neither address nor link exists
 * outside those two namespaces.
 *
 * Made lazily, once per process (a forked child inherits it), and held only
 * by two namespace descriptors and the sockets made inside: no name in
 * /run/netns, no link in the caller's namespace. The kernel removes the
 * namespaces, and the link with them, when the last of those closes, so a
 * process that fails, exits or is killed leaves nothing behind.
 *
 * Conventions: 0, a descriptor or a negative errno. Where the system cannot
 * make the link, the result says why, so the harness reports UNSUPPORTED
 * rather than BROKEN: -EPERM (needs CAP_SYS_ADMIN and CAP_NET_ADMIN, that is
 * root) or -EOPNOTSUPP (the kernel has no network namespaces or no veth).
 */
#ifndef IPCSPEC_CORE_VETH_H
#define IPCSPEC_CORE_VETH_H

#include <netinet/in.h>

#define IPC_VETH_A 0 /* the connecting side */
#define IPC_VETH_B 1 /* the listening side */

/* Make the link if not yet made: 0, or the first attempt's error, kept. */
int ipc__veth_ready(void);

/* socket(domain, type | SOCK_CLOEXEC, 0) made inside side's namespace (the
 * socket stays there for life; the caller's namespace is never changed). */
int ipc__veth_socket(int side, int domain, int type);

/* side's IPv4 address, port 0. */
struct sockaddr_in ipc__veth_addr(int side);

#endif
