/* SPDX-License-Identifier: MIT */
/*
 * The plug-in ABI: how any implementation becomes a subject of ipcspec.
 *
 * A subject is one implementation of one mechanism, reached only through the
 * operations table that spec/<mechanism>.h defines. Bundled subjects are listed
 * by the registry; an external one is a shared object that exports
 *
 *     const struct ipc_subject *ipc_subjects_v1(size_t *count);
 *
 * returning an array of *count descriptors that live as long as the object is
 * loaded. The harness checks abi_version and struct_size before it reads any
 * other field, so later versions may append fields. See examples/adapter/.
 *
 * Naming contract: the harness names every object a subject creates (a string
 * starting with '/', at most IPC_NAME_MAX bytes, unique per test) and unlinks
 * it after the test, even when the test failed. A forked child re-attaches by
 * name; it never inherits handles.
 */
#ifndef IPCSPEC_IPC_SUBJECT_H
#define IPCSPEC_IPC_SUBJECT_H

#include <stddef.h>
#include <stdint.h>

#define IPC_SUBJECT_ABI_VERSION 1u
#define IPC_SUBJECT_ENTRY "ipc_subjects_v1"
#define IPC_NAME_MAX 200

enum ipc_mechanism {
	IPC_MECH_SHMBUF = 1, /* spec/shmbuf.h: shared-memory producer-consumer buffer */
	IPC_MECH_PIPE = 2,   /* spec/pipe.h: ordinary pipe (byte stream, fork-shared ends) */
	IPC_MECH_FIFO = 3,   /* spec/fifo.h: named pipe (FIFO): a name, open rules, persistence */
	IPC_MECH_MSGPIPE = 4, /* spec/msgpipe.h: message-mode full-duplex named pipe */
	IPC_MECH_MAILBOX = 5, /* spec/mailbox.h: mailboxes and direct naming, every capacity */
	IPC_MECH_FRAMING = 6, /* spec/framing.h: frames over any byte-stream descriptor */
	IPC_MECH_SOCKET = 7, /* spec/socket.h: connected sockets of one family and type */
};

struct ipc_subject {
	uint32_t abi_version; /* IPC_SUBJECT_ABI_VERSION */
	uint32_t struct_size; /* sizeof(struct ipc_subject) as the adapter was built */
	const char *name;     /* unique, [a-z0-9-]+, e.g. "ref-shmbuf" */
	uint32_t mechanism;   /* enum ipc_mechanism */
	uint64_t caps;        /* capability bits of that mechanism (spec/<mech>.h) */
	const void *ops;      /* the mechanism's operations table */
	const char *summary;  /* one line for the report */
};

typedef const struct ipc_subject *(*ipc_subjects_fn)(size_t *count);

/* Exported by an external adapter (a shared object). */
const struct ipc_subject *ipc_subjects_v1(size_t *count);

/* The bundled subjects (impl/registry.c); broken subjects are not listed. */
const struct ipc_subject *ipc_registry_subjects(size_t *count);

#endif
