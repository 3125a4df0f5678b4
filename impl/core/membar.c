/* SPDX-License-Identifier: MIT */
/*
 * membarrier(2) for the biased ("sticky") side locks: a sticky holder runs
 * its fast path with compiler barriers only, and whoever must order a store
 * against the holder's loads (a sleeper, a revoker) forces a full barrier on
 * every CPU running a registered process (docs/ref-shmbuf-design.md,
 * "Sticky side locks").
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/core.h"

enum { MB_UNKNOWN = 0, MB_REGISTERED = 1, MB_UNAVAILABLE = 2 };

/* This process: may it hold a lock sticky? Reset in a forked child (a new mm
 * is not registered). Racing first attaches both register: idempotent. */
static _Atomic int mb_state;
/* Commands the kernel offers (MEMBARRIER_CMD_QUERY), -1 = not queried. */
static _Atomic int mb_cmds = -1;

static int membarrier(int cmd)
{
	return (int)syscall(SYS_membarrier, cmd, 0, 0);
}

static int query(void)
{
	int cmds = atomic_load_explicit(&mb_cmds, memory_order_relaxed);

	if (cmds < 0) {
		cmds = membarrier(MEMBARRIER_CMD_QUERY);
		if (cmds < 0)
			cmds = 0; /* ENOSYS (valgrind, seccomp, old kernel): none */
		atomic_store_explicit(&mb_cmds, cmds, memory_order_relaxed);
	}
	return cmds;
}

bool ipc__membarrier_register(void)
{
	int st = atomic_load_explicit(&mb_state, memory_order_relaxed);

	if (st == MB_UNKNOWN) {
		st = MB_UNAVAILABLE;
		if ((query() & MEMBARRIER_CMD_GLOBAL_EXPEDITED) &&
		    membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0)
			st = MB_REGISTERED;
		atomic_store_explicit(&mb_state, st, memory_order_relaxed);
	}
	return st == MB_REGISTERED;
}

bool ipc__membarrier_registered(void)
{
	return atomic_load_explicit(&mb_state, memory_order_relaxed) == MB_REGISTERED;
}

void ipc__membarrier_forked(void)
{
	atomic_store_explicit(&mb_state, MB_UNKNOWN, memory_order_relaxed);
}

int ipc__membarrier_global(void)
{
	int cmds = query();

	/* Only registered processes can hold a lock sticky, so the expedited
	 * command reaches every CPU that matters; GLOBAL (every CPU, slow) needs
	 * no registration. */
	if ((cmds & MEMBARRIER_CMD_GLOBAL_EXPEDITED) &&
	    membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0)
		return 0;
	if ((cmds & MEMBARRIER_CMD_GLOBAL) && membarrier(MEMBARRIER_CMD_GLOBAL) == 0)
		return 0;
	return -1;
}
