/* SPDX-License-Identifier: MIT */
/*
 * What every fuzz target shares: the entry contract, an input reader that
 * never runs dry, the failure report, the per-process segment name and an
 * output buffer whose end touches an ASan redzone.
 *
 * Entry contract (docs/fuzzing.md): a target defines
 *     static void init(void);                      once per process
 *     static int one(const uint8_t *data, size_t size);   once per input, returns 0
 *     static void cleanup(void);                   at exit
 * and ends with IPC_FUZZ_TARGET(init, one, cleanup). Built with libFuzzer
 * (-fsanitize=fuzzer) that becomes LLVMFuzzerInitialize/TestOneInput; built
 * with -DIPC_FUZZ_REPLAY it becomes a main() that runs every file or
 * directory named on the command line once: the plain regression mode that
 * `make fuzz-replay` (and so `make test`) uses, with any compiler.
 */
#ifndef IPCSPEC_FUZZ_COMMON_H
#define IPCSPEC_FUZZ_COMMON_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ipc_errors.h"

/* ---- the segment name -------------------------------------------------------
 * One name per process, so parallel jobs (-jobs, -fork) never collide. It is
 * unlinked before and after every input, at exit and before a harness trap;
 * a process killed by a sanitizer or a timeout cannot run any of those, so
 * init also removes the names of fuzz processes that no longer exist. */

#define IPC_FUZZ_NAME_PREFIX "ipcspec-fuzz-"

static char ipc_fuzz_name[64];

static inline void ipc_fuzz_name_release(void)
{
	if (ipc_fuzz_name[0])
		(void)shm_unlink(ipc_fuzz_name);
}

/* Remove /dev/shm/ipcspec-fuzz-<pid> left by dead processes. */
static inline void ipc_fuzz_sweep_stale(void)
{
	const size_t plen = strlen(IPC_FUZZ_NAME_PREFIX);
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	char path[300];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long pid;

		if (strncmp(e->d_name, IPC_FUZZ_NAME_PREFIX, plen) != 0)
			continue;
		pid = strtol(e->d_name + plen, &end, 10);
		if (*end != '\0' || pid <= 0 || pid == (long)getpid())
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue; /* alive, or not ours to judge */
		snprintf(path, sizeof(path), "/%s", e->d_name);
		(void)shm_unlink(path);
	}
	closedir(d);
}

static inline const char *ipc_fuzz_name_init(void)
{
	snprintf(ipc_fuzz_name, sizeof(ipc_fuzz_name), "/" IPC_FUZZ_NAME_PREFIX "%ld",
		 (long)getpid());
	ipc_fuzz_sweep_stale();
	ipc_fuzz_name_release();
	return ipc_fuzz_name;
}

/* ---- failure ---------------------------------------------------------------
 * A mismatch is a crash, so libFuzzer saves the input; the message says what
 * the implementation did and what the spec allows. */

__attribute__((noreturn, format(printf, 3, 4))) static inline void
ipc_fuzz_fail_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "\nipcspec-fuzz: MISMATCH at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	ipc_fuzz_name_release();
	__builtin_trap();
}

#define IPC_FUZZ_FAIL(...) ipc_fuzz_fail_at(__FILE__, __LINE__, __VA_ARGS__)

/* "IPC_EAGAIN (-11)" or "17": for messages. */
static inline const char *ipc_fuzz_rc(long rc)
{
	static char buf[4][48];
	static unsigned turn;
	char *b = buf[turn++ % 4];
	const char *n = rc < 0 && rc >= INT32_MIN ? ipc_err_name((int)rc) : NULL;

	if (n)
		snprintf(b, sizeof(buf[0]), "%s (%ld)", n, rc);
	else
		snprintf(b, sizeof(buf[0]), "%ld", rc);
	return b;
}

/* ---- input reader ------------------------------------------------------------
 * Past the end every read gives 0: a short input is still a whole program. */

struct ipc_fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline bool ipc_fuzz_more(const struct ipc_fuzz_in *in) { return in->n > 0; }

static inline uint8_t ipc_fuzz_u8(struct ipc_fuzz_in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint16_t ipc_fuzz_u16(struct ipc_fuzz_in *in)
{
	uint16_t lo = ipc_fuzz_u8(in);

	return (uint16_t)(lo | (uint16_t)ipc_fuzz_u8(in) << 8);
}

static inline uint32_t ipc_fuzz_u32(struct ipc_fuzz_in *in)
{
	uint32_t lo = ipc_fuzz_u16(in);

	return lo | (uint32_t)ipc_fuzz_u16(in) << 16;
}

static inline uint64_t ipc_fuzz_u64(struct ipc_fuzz_in *in)
{
	uint64_t lo = ipc_fuzz_u32(in);

	return lo | (uint64_t)ipc_fuzz_u32(in) << 32;
}

/* ---- item bytes ----------------------------------------------------------------
 * Item i's bytes are a function of (seed, i): the model stores two numbers per
 * item instead of its bytes, and neighbouring items always differ, so a lost,
 * repeated or reordered item shows. NUL bytes occur on purpose. */

static inline uint8_t ipc_fuzz_item_byte(uint32_t seed, uint32_t seq, size_t i)
{
	uint32_t x = seed * 0x9E3779B1u ^ seq * 0x85EBCA77u ^ (uint32_t)i * 0xC2B2AE3Du;

	x ^= x >> 15;
	x *= 0x2C1B3C6Du;
	x ^= x >> 12;
	return (x & 0x700) ? (uint8_t)x : 0;
}

static inline void ipc_fuzz_item_fill(uint8_t *dst, size_t len, uint32_t seed, uint32_t seq)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = ipc_fuzz_item_byte(seed, seq, i);
}

/* ---- buffers with a redzone right after them ----------------------------------
 * The arena is a global: ASan puts a redzone after it. A buffer of cap bytes
 * is placed to end exactly at the arena's end, so a write past cap by the
 * implementation is a global-buffer-overflow report, not silent. */

#define IPC_FUZZ_ARENA (1u << 17)

static uint8_t ipc_fuzz_out_arena[IPC_FUZZ_ARENA];
static uint8_t ipc_fuzz_in_arena[IPC_FUZZ_ARENA];

static inline uint8_t *ipc_fuzz_out_buf(size_t cap)
{
	return ipc_fuzz_out_arena + (IPC_FUZZ_ARENA - cap);
}

static inline uint8_t *ipc_fuzz_in_buf(size_t len)
{
	return ipc_fuzz_in_arena + (IPC_FUZZ_ARENA - len);
}

/* ---- the entry points ---------------------------------------------------------- */

#ifndef IPC_FUZZ_REPLAY

#define IPC_FUZZ_TARGET(init, one, cleanup)                                     \
	int LLVMFuzzerInitialize(int *argc, char ***argv);                          \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);               \
	int LLVMFuzzerInitialize(int *argc, char ***argv)                           \
	{                                                                           \
		(void)argc;                                                             \
		(void)argv;                                                             \
		init();                                                                 \
		atexit(cleanup);                                                        \
		return 0;                                                               \
	}                                                                           \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                \
	{                                                                           \
		return one(data, size);                                                 \
	}

#else /* IPC_FUZZ_REPLAY */

#include <sys/stat.h>

/* Run one file through one(): 0, or -1 when it cannot be read. */
static inline int ipc_fuzz_replay_file(const char *path, int (*one)(const uint8_t *, size_t))
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	long size;
	int rc = -1;

	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		/* malloc(size), not a stack array: ASan sees reads past the end. */
		data = malloc(size ? (size_t)size : 1);
		if (data && fread(data, 1, (size_t)size, f) == (size_t)size) {
			(void)one(data, (size_t)size);
			rc = 0;
		}
		free(data);
	}
	fclose(f);
	return rc;
}

/* A directory: every regular file in it (not recursive). The count run. */
static inline long ipc_fuzz_replay_dir(const char *dir, int (*one)(const uint8_t *, size_t))
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];
	long n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (ipc_fuzz_replay_file(path, one) != 0) {
			n = -1;
			break;
		}
		n++;
	}
	closedir(d);
	return n;
}

static inline int ipc_fuzz_replay_main(int argc, char **argv, int (*one)(const uint8_t *, size_t))
{
	long total = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		long n;

		if (stat(argv[i], &st) != 0)
			n = -1;
		else if (S_ISDIR(st.st_mode))
			n = ipc_fuzz_replay_dir(argv[i], one);
		else
			n = ipc_fuzz_replay_file(argv[i], one) == 0 ? 1 : -1;
		if (n < 0) {
			fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[i]);
			return 2;
		}
		total += n;
	}
	printf("%s: %ld inputs replayed, no mismatch\n", argv[0], total);
	return 0;
}

#define IPC_FUZZ_TARGET(init, one, cleanup)                                     \
	int main(int argc, char **argv)                                             \
	{                                                                           \
		init();                                                                 \
		atexit(cleanup);                                                        \
		return ipc_fuzz_replay_main(argc, argv, one);                           \
	}

#endif /* IPC_FUZZ_REPLAY */

/* ---- leak checks of the differential targets ------------------------------ */

static inline int ipc_fuzz_not_dot(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

/* Open descriptors: the names in /proc/self/fd, less the one scandir() reads
 * the directory through. */
static inline int ipc_fuzz_count_fds(void)
{
	struct dirent **names;
	int n = scandir("/proc/self/fd", &names, ipc_fuzz_not_dot, NULL);

	if (n < 0)
		return -1;
	for (int k = 0; k < n; k++)
		free(names[k]);
	free(names);
	return n - 1;
}

/* The first line of /proc/self/maps holding needle (into line), or NULL:
 * once every channel is closed nothing of theirs may stay mapped. */
static inline const char *ipc_fuzz_mapped(const char *needle, char *line, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	const char *hit = NULL;

	if (!f)
		return NULL;
	while (!hit && fgets(line, (int)len, f))
		if (strstr(line, needle))
			hit = line;
	fclose(f);
	return hit;
}


/* ---- the results a spec allows for one call -------------------------------------------------- */

struct ipc_fuzz_want {
	long codes[8];
	int n;
};

static inline void ipc_fuzz_want_add(struct ipc_fuzz_want *w, long code)
{
	if (w->n < 8)
		w->codes[w->n++] = code;
}

static inline bool ipc_fuzz_want_has(const struct ipc_fuzz_want *w, long rc)
{
	for (int i = 0; i < w->n; i++)
		if (w->codes[i] == rc)
			return true;
	return false;
}

/* "A or B or C", for a failure message (one static buffer). */
static inline const char *ipc_fuzz_want_str(const struct ipc_fuzz_want *w)
{
	static char buf[200];
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < w->n && off < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? " or " : "",
					ipc_fuzz_rc(w->codes[i]));
	return buf;
}

#endif
