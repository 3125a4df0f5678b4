/* SPDX-License-Identifier: MIT */
/*
 * Verify that put and get on a buffer that is neither full nor empty, with
 * nobody asleep, make no system call: a forked process runs them under a
 * seccomp filter that traps every system call but exit and rt_sigreturn.
 * Clauses: SHMBUF-BLK-4.
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ipct.h"

/* A sanitizer's runtime makes system calls of its own inside intercepted
 * calls (memcpy, signal handling): the check means nothing under it. */
#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define FP_UNDER_SANITIZER 1
#else
#define FP_UNDER_SANITIZER 0
#endif

#define FP_CAPACITY 64
#define FP_PAIRS 10000
#define FP_STATUS_SYSCALL 77  /* exit status of the SIGSYS handler */
#define FP_STATUS_BADRC 78    /* an operation failed under the filter */
#define FP_STATUS_NOSECCOMP 79

struct fp_shared {
	const char *name;
	_Atomic long syscall_nr;  /* the trapped system call */
	_Atomic long pairs_done;  /* progress when it was made */
	_Atomic long bad_rc;      /* result of a failed operation */
};

static struct fp_shared *fp; /* set before the fork, inherited by the child */

static void fp_on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	fp->syscall_nr = si->si_syscall;
	_exit(FP_STATUS_SYSCALL); /* exit_group: allowed by the filter */
}

static int fp_install_filter(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit_group, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_rt_sigreturn, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof code / sizeof *code, code };
	struct sigaction sa = { .sa_sigaction = fp_on_sigsys, .sa_flags = SA_SIGINFO };
	if (sigaction(SIGSYS, &sa, NULL) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

/* One put and one get with the same timeout, FP_PAIRS times. */
static int fp_pairs(struct ipc_shmbuf *p, struct ipc_shmbuf *c, int64_t timeout)
{
	size_t item = 0, got = 0;
	for (long i = 0; i < FP_PAIRS; i++, fp->pairs_done++) {
		long rc = ipct_shmbuf()->put(p, &item, sizeof item, timeout);
		if (rc == 0)
			rc = ipct_shmbuf()->get(c, &got, sizeof got, timeout) - (long)sizeof got;
		if (rc != 0) {
			fp->bad_rc = rc;
			return -1;
		}
	}
	return 0;
}

/* The whole child: its own buffer, half full, then the filter. It never
 * returns into the harness (whose exit path makes system calls). */
static int fp_child(void *arg)
{
	struct ipc_shmbuf_attr attr = { FP_CAPACITY, sizeof(size_t), 0 };
	struct ipc_shmbuf *p = NULL, *c = NULL;
	size_t item = 0;
	(void)arg;
	if (ipct_shmbuf()->create(fp->name, &attr) != 0 ||
	    ipct_shmbuf()->attach(fp->name, IPC_SHMBUF_CONSUMER, &c) != 0 ||
	    ipct_shmbuf()->attach(fp->name, IPC_SHMBUF_PRODUCER, &p) != 0)
		_exit(2);
	for (int i = 0; i < FP_CAPACITY / 2; i++)
		if (ipct_shmbuf()->put(p, &item, sizeof item, 0) != 0)
			_exit(3);
	if (fp_install_filter() != 0)
		_exit(FP_STATUS_NOSECCOMP);
	if (fp_pairs(p, c, 0) != 0)
		_exit(FP_STATUS_BADRC);
	if (ipct_has(IPC_SHMBUF_CAP_BLOCKING) && fp_pairs(p, c, IPC_TIMEOUT_INFINITE) != 0)
		_exit(FP_STATUS_BADRC);
	_exit(0);
}

Test(shmbuf, SHMBUF_BLK_4__fast_path_put_and_get_make_no_system_call)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_NONBLOCK);
	if (ipct_under_valgrind())
		cr_skip("UNSUPPORTED: environment: valgrind cannot run under seccomp");
	if (FP_UNDER_SANITIZER)
		cr_skip("UNSUPPORTED: environment: the sanitizer runtime makes its own system calls");
	fp = ipct_shared(sizeof *fp);
	fp->name = ipct_name();
	fp->syscall_nr = -1;
	/* A process even for an in-process subject: the filter is for good. */
	struct ipct_party *child = ipct_process_start(fp_child, NULL);
	int st = ipct_party_wait(child, 10000);
	if (st == FP_STATUS_NOSECCOMP)
		cr_skip("UNSUPPORTED: environment: cannot install a seccomp filter");
	cr_assert(st != FP_STATUS_SYSCALL,
		  "system call %ld (see `ausyscall %ld`) made on the fast path, after %ld put/get pairs",
		  (long)fp->syscall_nr, (long)fp->syscall_nr, (long)fp->pairs_done);
	cr_assert(st != FP_STATUS_BADRC, "a fast-path operation failed with %s after %ld pairs",
		  ipc_err_name((int)fp->bad_rc) ? ipc_err_name((int)fp->bad_rc) : "an unexpected result",
		  (long)fp->pairs_done);
	cr_assert(st == 0, "the child ended with status %d (2, 3: its setup failed; "
		  "-ETIMEDOUT: it hung; 128+n: killed by signal n)", st);
}
