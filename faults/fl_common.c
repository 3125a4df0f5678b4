/* SPDX-License-Identifier: MIT */
/* Shared plumbing of the fault-injection harnesses (see fl_common.h). */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fl_common.h"

const char *fl_prog = "faults";
static _Atomic unsigned violations;

void fl_info(const char *fmt, ...)
{
	va_list ap;

	printf("[%s] ", fl_prog);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

void fl_violation(const char *fmt, ...)
{
	va_list ap;

	/* Cap the flood: the first violations say it all, the count says the rest. */
	if (atomic_fetch_add(&violations, 1) >= 20)
		return;
	printf("[%s] VIOLATION (pid %d): ", fl_prog, (int)getpid());
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

unsigned fl_violations(void)
{
	return atomic_load(&violations);
}

const char *fl_err(long rc)
{
	static _Thread_local char buf[32];
	const char *n = rc < 0 ? ipc_err_name((int)rc) : NULL;

	if (n)
		return n;
	snprintf(buf, sizeof(buf), "%ld", rc);
	return buf;
}

static void usage(void)
{
	fprintf(stderr, "usage: %s [--subject NAME] [--seed N] [--short] [--count N] [-v]\n",
		fl_prog);
	exit(2);
}

void fl_init(int argc, char **argv, struct fl_opts *o)
{
	const char *slash = strrchr(argv[0], '/');

	fl_prog = slash ? slash + 1 : argv[0];
	o->subject = "ref-shmbuf";
	o->seed = (unsigned)(fl_now_ns() ^ getpid());
	o->short_run = false;
	o->verbose = false;
	o->count = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--subject") && i + 1 < argc)
			o->subject = argv[++i];
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			o->seed = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--short"))
			o->short_run = true;
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			o->count = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "-v"))
			o->verbose = true;
		else
			usage();
	}
	/* Line-buffered output interleaves sanely with forked children. */
	setvbuf(stdout, NULL, _IOLBF, 0);
}

const struct ipc_shmbuf_ops *fl_subject(const char *name, uint64_t *caps)
{
	size_t n;
	const struct ipc_subject *s = ipc_registry_subjects(&n);

	for (size_t i = 0; i < n; i++) {
		if (s[i].mechanism == IPC_MECH_SHMBUF && !strcmp(s[i].name, name)) {
			*caps = s[i].caps;
			return s[i].ops;
		}
	}
	fprintf(stderr, "%s: no bundled shmbuf subject named '%s'\n", fl_prog, name);
	exit(2);
}

void fl_name(char *buf, size_t cap, const char *tag)
{
	static _Atomic unsigned counter;

	snprintf(buf, cap, "/" FL_NAME_PREFIX "%d-%s-%u", (int)getpid(), tag,
		 atomic_fetch_add(&counter, 1));
}

int fl_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

struct fl_nth fl_nth;
_Thread_local int fl_nth_armed;

int fl_nth_cb(const char *name, int *failnum, void **failinfo, unsigned *flags)
{
	long c;

	(void)name, (void)failnum, (void)failinfo, (void)flags;
	if (!fl_nth_armed)
		return 0;
	c = ++fl_nth.calls;
	if (fl_nth.count_only || c < fl_nth.n || (!fl_nth.persistent && c != fl_nth.n))
		return 0;
	fl_nth.fired++;
	return 1;
}

int fl_signal_storm(void (*handler)(int), long period_ns, timer_t *t)
{
	struct sigaction sa;
	struct sigevent ev;
	struct itimerspec its = {{0, period_ns}, {0, period_ns}};

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART, on purpose */
	sigaction(SIGALRM, &sa, NULL);
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGALRM;
	if (timer_create(CLOCK_MONOTONIC, &ev, t) != 0 || timer_settime(*t, 0, &its, NULL) != 0) {
		perror("timer");
		return -1;
	}
	return 0;
}

int fl_shm_leftovers(pid_t pid, bool remove)
{
	char prefix[64], path[512];
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	snprintf(prefix, sizeof(prefix), FL_NAME_PREFIX "%d-", (int)pid);
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		n++;
		snprintf(path, sizeof(path), "/dev/shm/%s", e->d_name);
		if (remove)
			unlink(path);
	}
	closedir(d);
	return n;
}

int64_t fl_scaled_ns(int64_t ns)
{
	const char *m = getenv("IPCSPEC_TIME_MULTIPLIER");
	double k = m ? strtod(m, NULL) : 1.0;

	return k >= 1.0 ? (int64_t)((double)ns * k) : ns;
}

int64_t fl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void fl_sleep_ns(int64_t ns)
{
	struct timespec ts = {(time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL)};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void fl_rng_seed(struct fl_rng *r, uint64_t seed)
{
	r->s = seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
	if (r->s == 0)
		r->s = 1;
}

uint64_t fl_rng_next(struct fl_rng *r)
{
	/* xorshift64*: enough for choosing victims and thresholds. */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

uint64_t fl_rng_below(struct fl_rng *r, uint64_t n)
{
	return n ? fl_rng_next(r) % n : 0;
}

void *fl_shared_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap shared");
		exit(2);
	}
	return p;
}

pid_t fl_spawn(int (*fn)(void *), void *arg)
{
	pid_t parent = getpid();
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* The parent may have died before prctl: then nobody would kill us. */
	if (getppid() != parent)
		_exit(3);
	_exit(fn(arg));
}

int fl_reap(pid_t pid, int64_t deadline_ns)
{
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -2;
		if (fl_now_ns() >= deadline_ns)
			return -1;
		fl_sleep_ns(1000000);
	}
}

const char *fl_status(int status)
{
	static char buf[48];

	if (status == -1)
		snprintf(buf, sizeof(buf), "still running at the deadline");
	else if (WIFEXITED(status))
		snprintf(buf, sizeof(buf), "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, sizeof(buf), "signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, sizeof(buf), "status 0x%x", status);
	return buf;
}
