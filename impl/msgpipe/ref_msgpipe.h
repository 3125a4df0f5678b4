/* SPDX-License-Identifier: MIT */
/*
 * ref-msgpipe: the reference message-mode named pipe on the shared-memory
 * core. Each function has exactly the contract of the matching operation in
 * spec/msgpipe.h; the design is in docs/ref-msgpipe-design.md.
 *
 * A handle (an end or a server) belongs to the process that made it: in a
 * forked child every call but close fails with -EBADF, and close frees only
 * the child's copy. Ends and servers may be used by several threads at once.
 */
#ifndef IPCSPEC_REF_MSGPIPE_H
#define IPCSPEC_REF_MSGPIPE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc_subject.h"
#include "msgpipe.h"

/* The largest max_msg (create and connect refuse more with -EINVAL). */
#define IPC_MSGPIPE_REF_MAX_MSG (256u << 10)

int ipc_msgpipe_ref_create(const char *name, const struct ipc_msgpipe_attr *attr,
			   struct ipc_msgpipe_server **srv);
int ipc_msgpipe_ref_server_close(struct ipc_msgpipe_server *srv);
int ipc_msgpipe_ref_accept(struct ipc_msgpipe_server *srv, int64_t timeout_ns,
			   struct ipc_msgpipe **out);
int ipc_msgpipe_ref_connect(const char *name, const struct ipc_msgpipe_attr *attr,
			    struct ipc_msgpipe **out);
int ipc_msgpipe_ref_close(struct ipc_msgpipe *h);
ssize_t ipc_msgpipe_ref_send(struct ipc_msgpipe *h, const void *buf, size_t len);
ssize_t ipc_msgpipe_ref_recv(struct ipc_msgpipe *h, void *buf, size_t cap);
ssize_t ipc_msgpipe_ref_next_size(struct ipc_msgpipe *h);
int ipc_msgpipe_ref_set_nonblock(struct ipc_msgpipe *h, int on);
int ipc_msgpipe_ref_unlink(const char *name);

/* The invariants of both rings and of the instance header: 0 or -EUCLEAN. */
int ipc_msgpipe_ref_validate(struct ipc_msgpipe *h);

/* The subject "ref-msgpipe" (impl/registry.c lists it). */
extern const struct ipc_subject ipc__subject_ref_msgpipe;

#endif
