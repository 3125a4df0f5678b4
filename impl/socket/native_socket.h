/* SPDX-License-Identifier: MIT */
/*
 * What impl/socket/native_socket.c lends to socket subjects made elsewhere of
 * the same kernel sockets (impl/socket/socket_veth.c): they make and connect
 * their descriptors their own way, wrap them here, and then use the
 * operations of tcp-loopback (ipc__subject_tcp_loopback.ops) on them.
 */
#ifndef IPCSPEC_SOCKET_NATIVE_SOCKET_H
#define IPCSPEC_SOCKET_NATIVE_SOCKET_H

#include "socket.h"

/* The struct ipc_socket of fd: 0, or -ENOMEM with fd closed. */
int ipc__native_socket_wrap(int fd, struct ipc_socket **out);

#endif
