/* SPDX-License-Identifier: MIT */
/* The forked peer of a two-process trial: it is set up (attached, pinned)
 * before the parent starts its clock, and hands its result back over a pipe. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static int bench_read_all(int fd, void *buf, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n == 0)
			return -EPIPE;
		if (n < 0 && errno != EINTR)
			return -errno;
		got += n > 0 ? (size_t)n : 0;
	}
	return 0;
}

static int bench_write_all(int fd, const void *buf, size_t len)
{
	for (size_t put = 0; put < len;) {
		ssize_t n = write(fd, (const char *)buf + put, len - put);
		if (n < 0 && errno != EINTR)
			return -errno;
		put += n > 0 ? (size_t)n : 0;
	}
	return 0;
}

/* The child's whole life: pinned, watched, result written, then _exit (no
 * atexit handlers and no stdio buffers of the parent flushed twice). */
static void bench_child_main(int ready_fd, int result_fd, bench_child_fn body, void *arg, size_t outlen)
{
	unsigned char out[256] = {0};
	bench_pin(1);
	bench_watch_child(0);
	bench_watchdog_arm();
	int rc = outlen <= sizeof out ? body(arg, ready_fd, out, outlen) : -EINVAL;
	if (rc < 0)
		fprintf(stderr, "bench: child: %s\n", ipc_strerror(rc));
	if (rc == 0 && bench_write_all(result_fd, out, outlen) < 0)
		rc = -EPIPE;
	fflush(stderr);
	_exit(rc == 0 ? 0 : 1);
}

int bench_spawn(struct bench_child *c, bench_child_fn body, void *arg, size_t outlen)
{
	int ready[2], result[2];
	c->pid = -1;
	if (pipe(ready) != 0)
		return -errno;
	if (pipe(result) != 0) {
		close(ready[0]), close(ready[1]);
		return -errno;
	}
	fflush(stdout), fflush(stderr);
	c->pid = fork();
	if (c->pid == 0) {
		close(ready[0]), close(result[0]);
		bench_child_main(ready[1], result[1], body, arg, outlen);
	}
	close(ready[1]), close(result[1]);
	c->ready_fd = ready[0], c->result_fd = result[0];
	if (c->pid < 0) {
		close(c->ready_fd), close(c->result_fd);
		return -EAGAIN;
	}
	bench_watch_child(c->pid);
	return 0;
}

int bench_child_ready(int ready_fd)
{
	char byte = 1;
	int rc = bench_write_all(ready_fd, &byte, 1);
	close(ready_fd);
	return rc;
}

int bench_wait_ready(struct bench_child *c)
{
	char byte;
	return bench_read_all(c->ready_fd, &byte, 1);
}

/* Collect the child's result and exit status: 0 only if both are good. */
int bench_reap(struct bench_child *c, void *out, size_t outlen)
{
	int status = 0;
	int rc = bench_read_all(c->result_fd, out, outlen);
	close(c->ready_fd), close(c->result_fd);
	while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR) {
	}
	bench_watch_child(0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench: child %d failed (status 0x%x)\n", (int)c->pid, status);
		return -ECHILD;
	}
	return rc;
}
