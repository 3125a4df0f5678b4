/* SPDX-License-Identifier: MIT */
/*
 * ref-shmbuf: the reference shared-memory producer-consumer buffer.
 * Each function has exactly the contract of the matching operation in
 * spec/shmbuf.h; the design is in docs/ref-shmbuf-design.md.
 */
#ifndef IPCSPEC_REF_SHMBUF_H
#define IPCSPEC_REF_SHMBUF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc_subject.h"
#include "shmbuf.h"

int ipc_shmbuf_create(const char *name, const struct ipc_shmbuf_attr *attr);
int ipc_shmbuf_attach(const char *name, int role, struct ipc_shmbuf **out);
int ipc_shmbuf_detach(struct ipc_shmbuf *h);
int ipc_shmbuf_unlink(const char *name);
int ipc_shmbuf_put(struct ipc_shmbuf *h, const void *item, size_t len, int64_t timeout_ns);
ssize_t ipc_shmbuf_get(struct ipc_shmbuf *h, void *buf, size_t cap, int64_t timeout_ns);
int ipc_shmbuf_validate(struct ipc_shmbuf *h);
int ipc_shmbuf_segment(struct ipc_shmbuf *h, void **base, size_t *len);

/* Segments in a caller's file, for ref-msgpipe (impl/msgpipe/ref_msgpipe.c):
 * bounded rings at page-aligned offsets of one file, each mapped on its own.
 *  - footprint: the bytes a ring of attr takes (a multiple of the page).
 *  - format_at: back [off, off + footprint) of fd and write the header.
 *  - preclaim_at: claim a slot of role in the name of another live process
 *    (pid, start), which attaches later with attach_at(pre = slot); until
 *    then its death or a release ends the stream as its detach would.
 *  - attach_at: attach to the ring at off (fd is duplicated); pre NULL
 *    claims a new slot. -EPIPE when the pre-claimed slot was reaped.
 *  - set_intr: a caught signal ends a blocked put or get with -EINTR (one
 *    with SA_RESTART restarts it, as the kernel does).
 *  - peek: the length of the next item, left queued; never waits: -EAGAIN
 *    when empty, IPC_EOD at the end of the stream.
 * And for ref-mailbox (impl/mailbox/ref_mailbox.c), whose bounded queue is
 * such a ring:
 *  - set_abort: once *flag is non-zero, a put or get that must wait fails
 *    with -EIDRM instead (the mailbox was removed);
 *  - set_fair: a consumer handle's blocking gets are served in the order
 *    their callers went to sleep (no receiver starves, MAILBOX-ORDER-5);
 *  - wake_at: wake every waiter of the ring at off, so they re-check. */
struct ipc__shmbuf_slot {
	uint32_t idx, token;
};
int ipc__shmbuf_footprint(const struct ipc_shmbuf_attr *attr, uint64_t *size);
int ipc__shmbuf_format_at(int fd, uint64_t off, const struct ipc_shmbuf_attr *attr);
int ipc__shmbuf_preclaim_at(int fd, uint64_t off, int role, pid_t pid, uint64_t start,
			    struct ipc__shmbuf_slot *slot);
int ipc__shmbuf_attach_at(int fd, uint64_t off, int role, const struct ipc__shmbuf_slot *pre,
			  struct ipc_shmbuf **out);
void ipc__shmbuf_set_intr(struct ipc_shmbuf *h, bool on);
ssize_t ipc__shmbuf_peek(struct ipc_shmbuf *h);
void ipc__shmbuf_set_abort(struct ipc_shmbuf *h, const _Atomic uint32_t *flag);
void ipc__shmbuf_set_fair(struct ipc_shmbuf *h);
int ipc__shmbuf_wake_at(int fd, uint64_t off);

/* The subject "ref-shmbuf" (impl/registry.c lists it). */
extern const struct ipc_subject ipc__subject_ref_shmbuf;

#endif
