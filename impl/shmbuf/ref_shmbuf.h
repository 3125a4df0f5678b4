/* SPDX-License-Identifier: MIT */
/*
 * ref-shmbuf: the reference shared-memory producer-consumer buffer.
 * Each function has exactly the contract of the matching operation in
 * spec/shmbuf.h; the design is in docs/ref-shmbuf-design.md.
 */
#ifndef IPCSPEC_REF_SHMBUF_H
#define IPCSPEC_REF_SHMBUF_H

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

/* The subject "ref-shmbuf" (impl/registry.c lists it). */
extern const struct ipc_subject ipc__subject_ref_shmbuf;

#endif
