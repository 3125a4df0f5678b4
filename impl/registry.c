/* SPDX-License-Identifier: MIT */
/* The bundled subjects, in the order the matrix shows them. Broken subjects
 * (impl/broken/) are built as separate adapters and never listed here. */
#include "ipc_subject.h"

extern const struct ipc_subject ipc__subject_ref_shmbuf;
extern const struct ipc_subject ipc__subject_textbook_shmbuf;
extern const struct ipc_subject ipc__subject_ck_ring;
extern const struct ipc_subject ipc__subject_ref_pipe;
extern const struct ipc_subject ipc__subject_native_pipe;
extern const struct ipc_subject ipc__subject_native_pipe2;
extern const struct ipc_subject ipc__subject_native_pipe2_nonblock;
extern const struct ipc_subject ipc__subject_native_pipe_small;
extern const struct ipc_subject ipc__subject_native_fifo;
extern const struct ipc_subject ipc__subject_ref_fifo;
extern const struct ipc_subject ipc__subject_native_msgpipe;
extern const struct ipc_subject ipc__subject_ref_msgpipe;
extern const struct ipc_subject ipc__subject_ref_mailbox;
extern const struct ipc_subject ipc__subject_ref_mailbox_locked;
extern const struct ipc_subject ipc__subject_native_posix_mq;
extern const struct ipc_subject ipc__subject_native_sysv_msg;
#ifndef IPCSPEC_NO_NNG /* a build without libnng (.clusterfuzzlite/build.sh) */
extern const struct ipc_subject ipc__subject_nng_mailbox;
#endif
extern const struct ipc_subject ipc__subject_unix_stream;
extern const struct ipc_subject ipc__subject_unix_seqpacket;
extern const struct ipc_subject ipc__subject_tcp_loopback;
extern const struct ipc_subject ipc__subject_socketpair_stream;
extern const struct ipc_subject ipc__subject_socketpair_dgram;
extern const struct ipc_subject ipc__subject_framing_pipe;
extern const struct ipc_subject ipc__subject_framing_unix_stream;
extern const struct ipc_subject ipc__subject_framing_tcp;
extern const struct ipc_subject ipc__subject_framing_veth;
extern const struct ipc_subject ipc__subject_tcp_veth;

static const struct ipc_subject *const registry__bundled[] = {
	&ipc__subject_ref_shmbuf,
	&ipc__subject_textbook_shmbuf,
	&ipc__subject_ck_ring,
	&ipc__subject_ref_pipe,
	&ipc__subject_native_pipe,
	&ipc__subject_native_pipe2,
	&ipc__subject_native_pipe2_nonblock,
	&ipc__subject_native_pipe_small,
	&ipc__subject_native_fifo,
	&ipc__subject_ref_fifo,
	&ipc__subject_native_msgpipe,
	&ipc__subject_ref_msgpipe,
	&ipc__subject_ref_mailbox,
	&ipc__subject_ref_mailbox_locked,
	&ipc__subject_native_posix_mq,
	&ipc__subject_native_sysv_msg,
#ifndef IPCSPEC_NO_NNG
	&ipc__subject_nng_mailbox,
#endif
	&ipc__subject_unix_stream,
	&ipc__subject_unix_seqpacket,
	&ipc__subject_tcp_loopback,
	&ipc__subject_socketpair_stream,
	&ipc__subject_socketpair_dgram,
	&ipc__subject_framing_pipe,
	&ipc__subject_framing_unix_stream,
	&ipc__subject_framing_tcp,
	&ipc__subject_framing_veth,
	&ipc__subject_tcp_veth,
};

#define REGISTRY_N (sizeof registry__bundled / sizeof *registry__bundled)

const struct ipc_subject *ipc_registry_subjects(size_t *count)
{
	/* Copies, so the registry is one array like an adapter's. */
	static struct ipc_subject list[REGISTRY_N];
	size_t n = 0;
	for (size_t i = 0; i < REGISTRY_N; i++)
		if (registry__bundled[i] != NULL)
			list[n++] = *registry__bundled[i];
	*count = n;
	return list;
}
