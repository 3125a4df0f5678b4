/* SPDX-License-Identifier: MIT */
/*
 * Verify that readers and writers that opened the path separately share the
 * pipe: chunks of several writer processes arrive whole, end of file waits
 * for the last writer, and a FIFO no writer ever opened reads as ended.
 * Clauses: FIFO-IO-1, FIFO-IO-2, FIFO-IO-3.
 */
#include <stdlib.h>

#include "ipct.h"

#define RD_NB (IPC_FIFO_RDONLY | IPC_FIFO_NONBLOCK)
#define WR_NB (IPC_FIFO_WRONLY | IPC_FIFO_NONBLOCK)
#define WRITERS 4
#define CHUNKS 64

struct writer_arg {
	const char *path;
	uint32_t stream;
};

/* Open the path (a reader has it open: no wait) and write CHUNKS chunks of
 * PIPE_BUF pattern bytes, each in one call. */
static int writer(void *argp)
{
	struct writer_arg *a = argp;
	struct ipc_pipe *wr;
	unsigned char buf[IPC_PIPE_BUF];
	ipct_fifo_keep(NULL, NULL);
	if (FIFO->open(a->path, IPC_FIFO_WRONLY, &wr) != 0)
		return 2;
	for (uint64_t i = 0; i < CHUNKS; i++) {
		ipct_pattern(buf, sizeof buf, a->stream, i * sizeof buf);
		if (FIFO_IO->write(wr, buf, sizeof buf) != (ssize_t)sizeof buf)
			return 3;
	}
	return FIFO_IO->close(wr) == 0 ? 0 : 4;
}

/* Blocking reads until len bytes or end of file: the count, or an error. */
static ssize_t read_full(struct ipc_pipe *rd, unsigned char *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = FIFO_IO->read(rd, buf + got, len - got);
		if (n <= 0)
			return got ? (ssize_t)got : n;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

Test(fifo, FIFO_IO_1__chunks_of_separately_opened_writers_arrive_whole)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_MULTI_WRITER | IPC_FIFO_CAP_CROSS_PROCESS | IPC_FIFO_CAP_NONBLOCK);
	const char *path = ipct_fifo_make(0600);
	struct ipc_pipe *rd, *hold;
	ipct_fifo_pair(path, &rd, &hold); /* hold: no end of file before the writers open */
	SAFE_RC(FIFO_IO->set_nonblock(rd, 0));
	struct ipct_party *p[WRITERS];
	struct writer_arg *args = ipct_shared(sizeof *args * WRITERS);
	for (uint32_t w = 0; w < WRITERS; w++) {
		args[w] = (struct writer_arg){ .path = path, .stream = w };
		p[w] = ipct_process_start(writer, &args[w]);
	}
	uint64_t next[WRITERS] = { 0 };
	unsigned char *chunk = malloc(IPC_PIPE_BUF);
	for (int c = 0; c < WRITERS * CHUNKS; c++) {
		EXPECT_RC(read_full(rd, chunk, IPC_PIPE_BUF), IPC_PIPE_BUF);
		uint32_t w = 0;
		while (w < WRITERS && (next[w] == CHUNKS ||
				       ipct_pattern_check(chunk, IPC_PIPE_BUF, w, next[w] * IPC_PIPE_BUF) != -1))
			w++;
		cr_assert(w < WRITERS, "chunk %d is no writer's next chunk whole: interleaved", c);
		next[w]++;
	}
	free(chunk);
	for (int w = 0; w < WRITERS; w++)
		EXPECT_RC(ipct_party_wait(p[w], 10000), 0);
}

Test(fifo, FIFO_IO_2__end_of_file_comes_when_the_last_writer_closes)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_NONBLOCK);
	const char *path = ipct_fifo_make(0600);
	struct ipc_pipe *rd = ipct_fifo_open_ok(path, RD_NB);
	struct ipc_pipe *w1 = ipct_fifo_open_ok(path, WR_NB), *w2 = ipct_fifo_open_ok(path, WR_NB);
	char c;
	EXPECT_ERR(FIFO_IO->read(rd, &c, 1), IPC_EAGAIN);
	SAFE_RC(ipct_fifo_close(w1));
	EXPECT_ERR(FIFO_IO->read(rd, &c, 1), IPC_EAGAIN);
	SAFE_RC(FIFO_IO->write(w2, "z", 1));
	SAFE_RC(ipct_fifo_close(w2));
	EXPECT_RC(FIFO_IO->read(rd, &c, 1), 1); /* queued bytes first */
	EXPECT_RC(FIFO_IO->read(rd, &c, 1), 0);
}

Test(fifo, FIFO_IO_3__a_fifo_no_writer_ever_opened_reads_as_ended)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_NONBLOCK);
	const char *path = ipct_fifo_make(0600);
	struct ipc_pipe *rd = ipct_fifo_open_ok(path, RD_NB);
	char c;
	EXPECT_RC(FIFO_IO->read(rd, &c, 1), 0);
	ipct_fifo_open_ok(path, WR_NB);
	EXPECT_ERR(FIFO_IO->read(rd, &c, 1), IPC_EAGAIN);
}
