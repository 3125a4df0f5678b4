/* SPDX-License-Identifier: MIT */
/* Process identity and liveness: pid + start time, fork generations. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

_Atomic uint32_t ipc__fork_generation;
static _Atomic pid_t self_pid;
static _Atomic uint64_t self_start;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void)
{
	/* The child is a new participant-less process: its cached identity and
	 * every inherited handle become invalid. */
	atomic_store_explicit(&self_pid, 0, memory_order_relaxed);
	atomic_store_explicit(&self_start, 0, memory_order_relaxed);
	atomic_fetch_add_explicit(&ipc__fork_generation, 1, memory_order_relaxed);
	ipc__membarrier_forked(); /* a new mm is not registered */
}

static void fork_init(void)
{
	pthread_atfork(NULL, NULL, on_fork_child);
}

uint32_t ipc__fork_gen(void)
{
	pthread_once(&fork_once, fork_init);
	return atomic_load_explicit(&ipc__fork_generation, memory_order_relaxed);
}

/* Read /proc/<pid>/stat into buf: -ENOENT when the process is gone, -EIO
 * when unreadable for another reason. */
static int read_stat(pid_t pid, char *buf, size_t cap)
{
	char path[64];
	ssize_t n;
	int fd;

	fiu_return_on("ipc/proc/stat", -EIO);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? IPC_ENOENT : -EIO;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n <= 0)
		return n < 0 && errno == ESRCH ? IPC_ENOENT : -EIO;
	buf[n] = '\0';
	return 0;
}

/* Parse state (field 3) and starttime (field 22). The command name (field
 * 2) may hold spaces and parentheses: fields resume after the last ')'. */
static int parse_stat(const char *buf, char *state, uint64_t *start)
{
	const char *p = strrchr(buf, ')');
	int field;

	if (!p || p[1] != ' ' || !p[2])
		return -EIO;
	p += 2;
	*state = *p;
	for (field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EIO;
		p++;
	}
	*start = strtoull(p, NULL, 10);
	return 0;
}

int ipc__proc_start_time(pid_t pid, uint64_t *start)
{
	char buf[1024], state;

	IPC_GUARD(read_stat(pid, buf, sizeof(buf)));
	IPC_GUARD(parse_stat(buf, &state, start));
	return state == 'Z' || state == 'X' ? IPC_ENOENT : 0;
}

pid_t ipc__self_pid(void)
{
	pid_t p = atomic_load_explicit(&self_pid, memory_order_relaxed);

	(void)ipc__fork_gen(); /* registers the fork handler */
	if (p == 0) {
		p = getpid();
		atomic_store_explicit(&self_pid, p, memory_order_relaxed);
	}
	return p;
}

uint64_t ipc__self_start(void)
{
	uint64_t s = atomic_load_explicit(&self_start, memory_order_relaxed);

	if (s == 0 && ipc__proc_start_time(ipc__self_pid(), &s) == 0)
		atomic_store_explicit(&self_start, s, memory_order_relaxed);
	return s;
}

bool ipc__proc_alive(pid_t pid, uint64_t start)
{
	char buf[1024], state;
	uint64_t now_start;
	int rc;

	/* A pid that is not positive is corruption: kill(0 or -n) would name a
	 * process group, never a participant. */
	if (pid <= 0)
		return false;
	if (pid == ipc__self_pid())
		return start == 0 || start == ipc__self_start();
	if (kill(pid, 0) != 0 && errno == ESRCH)
		return false;
	rc = read_stat(pid, buf, sizeof(buf));
	if (rc == IPC_ENOENT)
		return false;
	if (rc < 0 || parse_stat(buf, &state, &now_start) < 0)
		return true; /* unknown: conservatively alive */
	/* A SIGKILLed child not yet reaped is a zombie: dead for us. */
	if (state == 'Z' || state == 'X')
		return false;
	return start == 0 || start == now_start;
}
