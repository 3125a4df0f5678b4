/* SPDX-License-Identifier: MIT */
/*
 * A counting allocator for pipe_nth_sweep's leak check (pipe_alloc.c).
 *
 * malloc, calloc, realloc and free are defined in the program itself, so
 * every allocation in the process (the subject's, libc's for it) passes
 * here first, then goes on to the next definition: libfiu's POSIX preload
 * when it is loaded (its libc/mm points keep working), else libc. While
 * tracking is on, each block handed out is remembered until it is freed; a
 * block still remembered after a run is a leak, whatever glibc's heap
 * statistics say (they move with bin and chunk-splitting decisions).
 * fiu_fail() is interposed too, so that libfiu's own bookkeeping during a
 * lookup is never counted.
 */
#ifndef IPCSPEC_FAULTS_PIPE_ALLOC_H
#define IPCSPEC_FAULTS_PIPE_ALLOC_H

#include <stddef.h>

/* Remember blocks allocated from now on (on = 1) or stop (0). */
void pl_alloc_track(int on);

/* Blocks remembered and not freed; forget them all (start a new run). */
size_t pl_alloc_live(size_t *bytes);
void pl_alloc_forget(void);

/* 1 once the interposition is known to work (a tracked malloc was seen). */
int pl_alloc_works(void);

#endif
