/* SPDX-License-Identifier: MIT */
/*
 * ref-fifo: the reference named pipe, a ref-pipe segment in a regular file
 * named by the path (impl/fifo/ref_fifo.c). Each function has the contract
 * of the matching operation in spec/fifo.h (and spec/pipe.h for the pipe
 * view); handles are ref-pipe handles, used through ipc_pipe_ref_*.
 */
#ifndef IPCSPEC_REF_FIFO_H
#define IPCSPEC_REF_FIFO_H

#include <stdint.h>
#include <sys/types.h>

#include "fifo.h"
#include "ipc_subject.h"

int ipc_fifo_ref_mkfifo(const char *path, uint32_t mode);
int ipc_fifo_ref_open(const char *path, uint32_t flags, struct ipc_pipe **out);
int ipc_fifo_ref_unlink(const char *path);
int ipc_fifo_ref_truncate(const char *path, off_t len);
int ipc_fifo_ref_stat_mode(const char *path, uint32_t *mode);
int ipc_fifo_ref_pipe_create(const char *name, const struct ipc_pipe_attr *attr,
			     struct ipc_pipe **rd, struct ipc_pipe **wr);
int ipc_fifo_ref_pipe_unlink(const char *name);

/* The subject "ref-fifo" (impl/registry.c lists it). */
extern const struct ipc_subject ipc__subject_ref_fifo;

#endif
