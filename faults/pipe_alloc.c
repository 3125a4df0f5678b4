/* SPDX-License-Identifier: MIT */
/*
 * The counting allocator (pipe_alloc.h). Linked into pipe_nth_sweep only: a
 * single-threaded program, so the table needs no lock.
 *
 * dlsym() may itself call calloc before the next definitions are known: those
 * few early requests are served from a static arena and never freed.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <string.h>

#include "pipe_alloc.h"

int fiu_fail(const char *name);

#define LIVE_SLOTS 4096 /* open addressing; a run keeps far fewer blocks */
#define BOOT_BYTES 8192

static void *(*next_malloc)(size_t);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);
static void (*next_free)(void *);
static int resolving, tracking, seen;

static struct {
	void *p;
	size_t n;
} live[LIVE_SLOTS];
static size_t live_count, live_bytes;

static _Alignas(16) unsigned char boot[BOOT_BYTES];
static size_t boot_used;

static void *boot_alloc(size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (boot_used + n > sizeof(boot))
		return NULL;
	p = boot + boot_used;
	boot_used += n;
	return p; /* static storage: already zero, as calloc wants */
}

static int is_boot(const void *p)
{
	return (const unsigned char *)p >= boot && (const unsigned char *)p < boot + sizeof(boot);
}

static void resolve(void)
{
	if (next_free || resolving)
		return;
	resolving = 1;
	next_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	next_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	next_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	next_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	resolving = 0;
}

/* ---- the table ---------------------------------------------------------------- */

static size_t slot_of(const void *p)
{
	return (size_t)(((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ull >> 52) % LIVE_SLOTS;
}

static void remember(void *p, size_t n, int force)
{
	size_t i = slot_of(p);

	if (!p || !(tracking || force) || live_count >= LIVE_SLOTS / 2)
		return; /* a full table only blinds the check: never corrupts */
	while (live[i].p)
		i = (i + 1) % LIVE_SLOTS;
	live[i].p = p, live[i].n = n;
	live_count++, live_bytes += n;
	seen = 1;
}

/* Remove p; returns 1 if it was remembered. Backward-shift deletion keeps
 * every probe chain whole. */
static int forget(void *p)
{
	size_t i = slot_of(p), j;

	while (live[i].p && live[i].p != p)
		i = (i + 1) % LIVE_SLOTS;
	if (!live[i].p)
		return 0;
	live_count--, live_bytes -= live[i].n;
	for (j = (i + 1) % LIVE_SLOTS; live[j].p; j = (j + 1) % LIVE_SLOTS) {
		size_t home = slot_of(live[j].p);

		/* Move j back to i unless its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			live[i] = live[j];
			i = j;
		}
	}
	live[i].p = NULL;
	return 1;
}

/* ---- the interposed functions ------------------------------------------------------- */

void *malloc(size_t n)
{
	void *p;

	resolve();
	if (!next_malloc)
		return boot_alloc(n);
	p = next_malloc(n);
	remember(p, n, 0);
	return p;
}

void *calloc(size_t a, size_t b)
{
	void *p;

	resolve();
	if (!next_calloc)
		return b && a > SIZE_MAX / b ? NULL : boot_alloc(a * b);
	p = next_calloc(a, b);
	remember(p, a * b, 0);
	return p;
}

/* A block that moves keeps its status: remembered blocks stay remembered;
 * realloc(NULL, n) is a malloc. */
void *realloc(void *p, size_t n)
{
	void *q;
	int was;

	resolve();
	if (is_boot(p) || !next_realloc) {
		size_t room = p ? (size_t)(boot + sizeof(boot) - (unsigned char *)p) : 0;

		q = malloc(n);
		if (q && p)
			memcpy(q, p, n < room ? n : room);
		return q;
	}
	was = p ? forget(p) : tracking;
	q = next_realloc(p, n);
	if (!q && p && was) /* failed: p is still there, still ours */
		remember(p, 0, 1);
	else if (q && was)
		remember(q, n, 1);
	return q;
}

void free(void *p)
{
	if (!p || is_boot(p))
		return;
	resolve();
	forget(p);
	next_free(p);
}

/* libfiu keeps a cache of the point names it looked up (strdup'd, recycled
 * run after run): its bookkeeping, not the subject's. Every fiu_fail() of
 * the preload's wrappers and of the subject's points comes through here. */
int fiu_fail(const char *name)
{
	static int (*next_fail)(const char *);
	int was = tracking, rc;

	if (!next_fail)
		next_fail = (int (*)(const char *))dlsym(RTLD_NEXT, "fiu_fail");
	tracking = 0;
	rc = next_fail ? next_fail(name) : 0;
	tracking = was;
	return rc;
}

/* ---- control ---------------------------------------------------------------------------- */

void pl_alloc_track(int on)
{
	tracking = on;
}

size_t pl_alloc_live(size_t *bytes)
{
	if (bytes)
		*bytes = live_bytes;
	return live_count;
}

void pl_alloc_forget(void)
{
	memset(live, 0, sizeof(live));
	live_count = live_bytes = 0;
}

int pl_alloc_works(void)
{
	return seen;
}
