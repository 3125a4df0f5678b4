/* SPDX-License-Identifier: MIT */
/*
 * Verify that a caller without CAP_SYS_RESOURCE cannot raise the capacity
 * above /proc/sys/fs/pipe-max-size (-EPERM, no effect) while the limit itself
 * is granted. The tests run as root: a forked party drops the capability
 * with the raw capset system call (libcap is not needed) before asking.
 * Clauses: PIPE-CAP-5.
 */
#include <linux/capability.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ipct.h"

#define OPS ipct_pipe()
#define CANNOT_DROP 77

struct limit_arg {
	struct ipc_pipe *wr;
	size_t max;
	int before, above, after, at_max; /* results seen by the unprivileged party */
};

static int drop_sys_resource(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	if (syscall(SYS_capget, &hdr, data) != 0)
		return -1;
	data[CAP_SYS_RESOURCE / 32].effective &= ~(1u << (CAP_SYS_RESOURCE % 32));
	data[CAP_SYS_RESOURCE / 32].permitted &= ~(1u << (CAP_SYS_RESOURCE % 32));
	data[CAP_SYS_RESOURCE / 32].inheritable &= ~(1u << (CAP_SYS_RESOURCE % 32));
	return (int)syscall(SYS_capset, &hdr, data);
}

static int unprivileged_setter(void *argp)
{
	struct limit_arg *a = argp;
	ipct_pipe_keep(a->wr, NULL);
	if (drop_sys_resource() != 0)
		return CANNOT_DROP;
	a->before = OPS->get_capacity(a->wr);
	a->above = OPS->set_capacity(a->wr, a->max + 1);
	a->after = OPS->get_capacity(a->wr);
	a->at_max = OPS->set_capacity(a->wr, a->max);
	return 0;
}

static size_t pipe_max_size(void)
{
	unsigned long max = 0;
	FILE *f = fopen("/proc/sys/fs/pipe-max-size", "re");
	if (f != NULL && fscanf(f, "%lu", &max) != 1)
		max = 0;
	if (f != NULL)
		fclose(f);
	return max;
}

Test(pipe, PIPE_CAP_5__unprivileged_raise_above_pipe_max_size_is_eperm)
{
	IPCT_REQUIRE(IPC_PIPE_CAP_CAPACITY | IPC_PIPE_CAP_CROSS_PROCESS);
	struct ipc_pipe *rd, *wr;
	struct limit_arg *a = ipct_shared(sizeof *a);
	size_t max = pipe_max_size();
	if (max < IPC_PIPE_BUF)
		cr_skip("UNSUPPORTED: /proc/sys/fs/pipe-max-size is not readable");
	SAFE_PIPE(&rd, &wr);
	*a = (struct limit_arg){ .wr = wr, .max = max };
	int st = ipct_party_wait(ipct_process_start(unprivileged_setter, a), 5000);
	if (st == CANNOT_DROP)
		cr_skip("UNSUPPORTED: cannot drop CAP_SYS_RESOURCE in a child (capset refused)");
	EXPECT_RC(st, 0);
	cr_assert_eq(a->above, IPC_EPERM, "set_capacity(pipe-max-size + 1 = %zu) without "
		     "CAP_SYS_RESOURCE returned %d, not IPC_EPERM", max + 1, a->above);
	cr_assert_eq(a->after, a->before, "the refused raise changed the capacity from %d to %d",
		     a->before, a->after);
	cr_assert_eq(a->at_max, (int)max, "set_capacity(pipe-max-size = %zu) returned %d", max,
		     a->at_max);
}
