/* SPDX-License-Identifier: MIT */
/*
 * ipcspec error convention, shared by every mechanism and every subject.
 *
 * A public function returns 0 or a count (>= 0) on success and a negative
 * errno on failure. It never sets errno and never returns -1 as "see errno".
 * On failure no partial effect is visible. Conditions that have no errno get
 * reserved codes far below the real ones (IPC_EOD), so a zero-length item is
 * never confused with end of data.
 */
#ifndef IPCSPEC_IPC_ERRORS_H
#define IPCSPEC_IPC_ERRORS_H

#include <errno.h>

/* The one table: name, value, text. Tests compare against IPC_E*, never raw numbers. */
#define IPC_ERRNO_MAP(XX)                                                    \
	XX(EACCES, -EACCES, "the name's permissions refuse this process")       \
	XX(EAGAIN, -EAGAIN, "would block: buffer full or empty")                 \
	XX(EBADF, -EBADF, "handle not open for this direction")                  \
	XX(EBADMSG, -EBADMSG, "a damaged frame: bad magic or check")           \
	XX(EBUSY, -EBUSY, "queued data would not fit the new capacity")          \
	XX(ECONNREFUSED, -ECONNREFUSED, "the name exists but nobody serves it")  \
	XX(ECONNRESET, -ECONNRESET, "the peer closed with data left unread")   \
	XX(EEXIST, -EEXIST, "name already exists")                               \
	XX(EFAULT, -EFAULT, "a NULL buffer with a non-zero length")              \
	XX(EIDRM, -EIDRM, "the object was removed")                              \
	XX(EINPROGRESS, -EINPROGRESS, "a non-blocking connect is under way")  \
	XX(EINTR, -EINTR, "interrupted by a signal before any transfer")         \
	XX(EINVAL, -EINVAL, "invalid argument")                                  \
	XX(EMFILE, -EMFILE, "too many open handles in this process")             \
	XX(EMSGSIZE, -EMSGSIZE, "item larger than the maximum or the buffer")    \
	XX(ENAMETOOLONG, -ENAMETOOLONG, "name too long")                         \
	XX(ENFILE, -ENFILE, "too many open handles in the system")               \
	XX(ENODATA, -ENODATA, "end of stream inside the bytes asked for")        \
	XX(ENOENT, -ENOENT, "no such name")                                      \
	XX(ENOMEM, -ENOMEM, "memory refused")                                    \
	XX(ENOSYS, -ENOSYS, "operation not provided by this subject")            \
	XX(ENXIO, -ENXIO, "no reader has the FIFO open (non-blocking open)")     \
	XX(EOPNOTSUPP, -EOPNOTSUPP, "not supported here (subject or file system)") \
	XX(EPERM, -EPERM, "above the limit for an unprivileged caller")          \
	XX(EPIPE, -EPIPE, "every reader or consumer is gone")                    \
	XX(EPROTO, -EPROTO, "a frame of another protocol version")             \
	XX(ESPIPE, -ESPIPE, "a pipe cannot seek")                                \
	XX(ESRCH, -ESRCH, "no such party")                                       \
	XX(ETIMEDOUT, -ETIMEDOUT, "timed out")                                   \
	XX(EUCLEAN, -EUCLEAN, "shared state is corrupt")                         \
	XX(EUSERS, -EUSERS, "too many participants")                             \
	XX(EOD, -4095, "end of data: every producer has detached")

enum ipc_error {
#define IPC__ERR_ENUM(name, value, text) IPC_##name = (value),
	IPC_ERRNO_MAP(IPC__ERR_ENUM)
#undef IPC__ERR_ENUM
};

/* Corruption detected in memory shared with a peer. */
#define IPC_ECORRUPT IPC_EUCLEAN

/* "IPC_EAGAIN" for a known code, NULL otherwise. */
static inline const char *ipc_err_name(int err)
{
	switch (err) {
#define IPC__ERR_NAME(name, value, text)                                     \
	case (value):                                                            \
		return "IPC_" #name;
		IPC_ERRNO_MAP(IPC__ERR_NAME)
#undef IPC__ERR_NAME
	default:
		return (void *)0;
	}
}

/* A sentence for a known code, a generic one otherwise. */
static inline const char *ipc_strerror(int err)
{
	switch (err) {
#define IPC__ERR_TEXT(name, value, text)                                     \
	case (value):                                                            \
		return text;
		IPC_ERRNO_MAP(IPC__ERR_TEXT)
#undef IPC__ERR_TEXT
	default:
		return err >= 0 ? "success" : "unknown error";
	}
}

#endif
