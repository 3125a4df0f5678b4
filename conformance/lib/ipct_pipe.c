/* SPDX-License-Identifier: MIT */
/* Pipe handles made by a test, closed by the fixture if the test did not. */
#include "ipct.h"
#include "ipct_internal.h"

#define IPCT_PIPE_MAX 256

static struct ipc_pipe *ipct__ends[IPCT_PIPE_MAX];
static size_t ipct__nends;
static const char *ipct__pipe_names[IPCT_PIPE_MAX];
static size_t ipct__npipe_names;

static void ipct__track_end(struct ipc_pipe *end)
{
	if (ipct__nends == IPCT_PIPE_MAX)
		cr_assert_fail("BROKEN: too many pipe handles in one test");
	ipct__ends[ipct__nends++] = end;
}

void ipct_pipe_make(uint32_t flags, struct ipc_pipe **rd, struct ipc_pipe **wr)
{
	const char *name = ipct_name();
	struct ipc_pipe_attr attr = { .flags = flags, .capacity = 0 };
	if (ipct__npipe_names < IPCT_PIPE_MAX)
		ipct__pipe_names[ipct__npipe_names++] = name;
	SAFE_RC(ipct_pipe()->create(name, &attr, rd, wr));
	ipct__track_end(*rd);
	ipct__track_end(*wr);
}

static bool ipct__forget(struct ipc_pipe *end)
{
	for (size_t i = 0; i < ipct__nends; i++)
		if (ipct__ends[i] == end) {
			ipct__ends[i] = NULL;
			return true;
		}
	return false;
}

int ipct_pipe_close(struct ipc_pipe *end)
{
	ipct__forget(end);
	return ipct_pipe()->close(end);
}

struct ipc_pipe *ipct_pipe_dup(struct ipc_pipe *end)
{
	struct ipc_pipe *out = NULL;
	SAFE_RC(ipct_pipe()->dup(end, &out));
	ipct__track_end(out);
	return out;
}

void ipct_pipe_close_others(struct ipc_pipe *keep)
{
	for (size_t i = 0; i < ipct__nends; i++)
		if (ipct__ends[i] != NULL && ipct__ends[i] != keep) {
			ipct_pipe()->close(ipct__ends[i]);
			ipct__ends[i] = NULL;
		}
}

/* Names go too: a subject may back a pipe with a named object. */
void ipct__pipe_teardown(bool stuck)
{
	for (size_t i = 0; i < ipct__nends && !stuck; i++)
		if (ipct__ends[i] != NULL)
			ipct_pipe()->close(ipct__ends[i]);
	for (size_t i = 0; i < ipct__npipe_names; i++)
		if (ipct_pipe()->unlink != NULL)
			ipct_pipe()->unlink(ipct__pipe_names[i]);
	ipct__nends = ipct__npipe_names = 0;
}
