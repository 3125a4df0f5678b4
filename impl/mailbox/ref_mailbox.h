/* SPDX-License-Identifier: MIT */
/*
 * ref-mailbox: the reference mailbox. Each function has exactly the
 * contract of the matching operation in spec/mailbox.h; the design is in
 * docs/ref-mailbox-design.md.
 *
 * A handle (a party) belongs to the process that opened it: in a forked
 * child every call but close fails with -EBADF, and close frees only the
 * child's copy. A handle may be used by several threads at once; closing it
 * while another thread is inside a call on it is undefined.
 */
#ifndef IPCSPEC_REF_MAILBOX_H
#define IPCSPEC_REF_MAILBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc_subject.h"
#include "mailbox.h"

int ipc_mailbox_ref_create(const char *name, const struct ipc_mailbox_attr *attr);
int ipc_mailbox_ref_open(const char *name, uint32_t flags, struct ipc_mailbox **out);
int ipc_mailbox_ref_close(struct ipc_mailbox *h);
int ipc_mailbox_ref_unlink(const char *name);
int ipc_mailbox_ref_send(struct ipc_mailbox *h, const void *msg, size_t len, int64_t timeout_ns);
ssize_t ipc_mailbox_ref_recv(struct ipc_mailbox *h, void *buf, size_t cap, int64_t timeout_ns);
int ipc_mailbox_ref_self_id(struct ipc_mailbox *h, ipc_mailbox_id *id);
int ipc_mailbox_ref_send_to(struct ipc_mailbox *h, ipc_mailbox_id to, const void *msg, size_t len,
			    int64_t timeout_ns);
ssize_t ipc_mailbox_ref_recv_from(struct ipc_mailbox *h, ipc_mailbox_id from, void *buf, size_t cap,
				  int64_t timeout_ns);
ssize_t ipc_mailbox_ref_recv_any(struct ipc_mailbox *h, ipc_mailbox_id *from, void *buf, size_t cap,
				 int64_t timeout_ns);
int ipc_mailbox_ref_validate(struct ipc_mailbox *h);

/* The subject "ref-mailbox" (impl/registry.c lists it). */
extern const struct ipc_subject ipc__subject_ref_mailbox;
extern const struct ipc_subject ipc__subject_ref_mailbox_locked;

#endif
