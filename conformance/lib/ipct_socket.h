/* SPDX-License-Identifier: MIT */
/*
 * ipct for the socket mechanism (spec/socket.h): setup wrappers whose
 * sockets the fixture closes after the test, even when it failed, and whose
 * names (socket paths, remembered ports) it unlinks. Included by ipct.h.
 */
#ifndef IPCSPEC_IPCT_SOCKET_H
#define IPCSPEC_IPCT_SOCKET_H

#include <stdbool.h>

#include "socket.h"

const struct ipc_socket_ops *ipct_socket(void);

/* A fresh name that the fixture unlinks after the test. */
const char *ipct_socket_name(void);
/* Two connected ends (BROKEN on failure). */
void ipct_socket_pair(struct ipc_socket **a, struct ipc_socket **b);
/* Listen on a fresh name (BROKEN on failure); returns the name. */
const char *ipct_socket_listen(int nonblock, struct ipc_socket **lst);
/* Connect to name: the subject's result; *out is tracked when made. */
int ipct_socket_connect(const char *name, int nonblock, struct ipc_socket **out);
/* Accept: the subject's result; *out is tracked when made. */
int ipct_socket_accept(struct ipc_socket *lst, struct ipc_socket **out);
/* Close what was made here (the subject's result); it is forgotten. */
int ipct_socket_close(struct ipc_socket *s);
/* Wait up to a few seconds (scaled) for events: the revents, 0 at timeout. */
int ipct_socket_wait(struct ipc_socket *s, short events);

/* For a subject with the netns bit (IPC_SOCKET_CAP_NETNS,
 * IPC_FRAMING_CAP_NETNS): the result of its first pair. -EPERM and
 * -EOPNOTSUPP end the test UNSUPPORTED (environment), another error BROKEN. */
void ipct__netns_environment(long rc);

/* Called by the fixture: close what the test left open, remove its names. */
void ipct__socket_teardown(bool stuck);

#define SAFE_SSEND(s, buf, len) SAFE_RC(ipct_socket()->send((s), (buf), (len), MSG_NOSIGNAL))

#endif
