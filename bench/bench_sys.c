/* SPDX-License-Identifier: MIT */
/* Clock, CPU placement, the watchdog, object names and the environment. */
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

int64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: no system call */
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t bench_thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- placement ------------------------------------------------------------ */

static int g_cpu[2] = {-1, -1};
static int g_ncpus;

/* The first two CPUs we may run on, read once before anything is pinned
 * (a pinned parent would otherwise hand its single CPU down to children). */
int bench_ncpus(void)
{
	cpu_set_t set;
	int k = 0;

	if (g_ncpus)
		return g_ncpus;
	if (sched_getaffinity(0, sizeof set, &set) != 0)
		CPU_ZERO(&set);
	for (int c = 0; c < CPU_SETSIZE && k < 2; c++)
		if (CPU_ISSET(c, &set))
			g_cpu[k++] = c;
	g_cpu[0] = k > 0 ? g_cpu[0] : 0;
	g_cpu[1] = k > 1 ? g_cpu[1] : g_cpu[0]; /* one CPU: both sides share it */
	g_ncpus = CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
	return g_ncpus;
}

/* Pin the calling thread: 0 = the producer's CPU, 1 = the consumer's. */
int bench_pin(int which)
{
	cpu_set_t set;
	bench_ncpus();
	CPU_ZERO(&set);
	CPU_SET(g_cpu[which & 1], &set);
	return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : -1;
}

/* ---- names and the watchdog ------------------------------------------------ */

/* The names of the current trial, so a hung trial still removes them. */
static char g_names[2][256];
static int (*g_name_unlink[2])(const char *name); /* NULL: nothing to unlink */
static volatile pid_t g_child;

void bench_name_new(char *buf, size_t len, const struct ipc_shmbuf_ops *ops)
{
	bench_name_new_fn(buf, len, ops->unlink);
}

/* A fresh name under prefix ("" for a harness name, a directory for a path). */
static void name_new(char *buf, size_t len, const char *prefix, int (*unlink)(const char *name))
{
	static unsigned n;
	snprintf(buf, len, "%s/ipcspec-bench-%d-%u", prefix, (int)getpid(), n++);
	for (int i = 0; i < 2; i++) {
		if (g_names[i][0] == 0) {
			snprintf(g_names[i], sizeof g_names[i], "%s", buf);
			g_name_unlink[i] = unlink;
			return;
		}
	}
}

void bench_name_new_fn(char *buf, size_t len, int (*unlink)(const char *name))
{
	name_new(buf, len, "", unlink);
}

void bench_path_new_fn(char *buf, size_t len, int (*unlink)(const char *path))
{
	const char *dir = getenv("TMPDIR");
	name_new(buf, len, dir && *dir ? dir : "/tmp", unlink);
}

/* Unlink name (once every party is attached: the handles keep working and
 * nothing is left behind even if we crash later). */
void bench_name_done(const char *name)
{
	for (int i = 0; i < 2; i++) {
		if (g_names[i][0] && strcmp(g_names[i], name) == 0) {
			int rc = g_name_unlink[i] ? g_name_unlink[i](name) : 0;
			if (rc < 0)
				fprintf(stderr, "bench: unlink %s: %s\n", name, ipc_strerror(rc));
			g_names[i][0] = 0;
		}
	}
}

/* Drop name without unlinking it (its create failed). */
void bench_name_forget(const char *name)
{
	for (int i = 0; i < 2; i++)
		if (strcmp(g_names[i], name) == 0)
			g_names[i][0] = 0;
}

void bench_watch_child(pid_t pid) { g_child = pid; }

/* A hung trial is a failure, not a hang of `make bench`. Only a failing run
 * gets here, so unlink's lack of async-signal safety is an acceptable risk. */
static void bench_on_alarm(int sig)
{
	static const char msg[] = "bench: watchdog: a trial hung; giving up\n";
	(void)sig;
	if (write(2, msg, sizeof msg - 1) < 0) {
	}
	if (g_child > 0)
		kill(g_child, SIGKILL);
	for (int i = 0; i < 2; i++)
		if (g_names[i][0] && g_name_unlink[i])
			g_name_unlink[i](g_names[i]);
	_exit(2);
}

void bench_watchdog_arm(void)
{
	signal(SIGALRM, bench_on_alarm);
	alarm(BENCH_WATCHDOG_S);
}

void bench_watchdog_disarm(void) { alarm(0); }

/* Objects of this run still in dir: reported, counted, and removed if
 * remove is set. */
static int leftovers_in(const char *dir, bool remove)
{
	char prefix[64], path[512];
	int n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	snprintf(prefix, sizeof prefix, "ipcspec-bench-%d-", (int)getpid());
	for (struct dirent *e; (e = readdir(d));) {
		if (!strstr(e->d_name, prefix))
			continue;
		fprintf(stderr, "bench: left in %s: %s%s\n", dir, e->d_name,
			remove ? "" : " (make clean-ipc)");
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (remove)
			unlink(path);
		n++;
	}
	closedir(d);
	return n;
}

/* Objects of this run left behind: shared memory, POSIX queues (where
 * /dev/mqueue is mounted), and files in $TMPDIR (FIFOs, the anchors of
 * native-sysv-msg's queues), which stay: an anchor is what lets make
 * clean-ipc find its queue's key. */
int bench_shm_leftovers(void)
{
	const char *tmp = getenv("TMPDIR");
	return leftovers_in("/dev/shm", true) + leftovers_in("/dev/mqueue", true) +
	       leftovers_in(tmp && *tmp ? tmp : "/tmp", false);
}

/* Microseconds during which some task waited for a CPU (PSI). With our two
 * sides pinned to two CPUs, any growth during a trial means a third party
 * took a CPU from us (or we from it): the trial was contended. */
int64_t bench_cpu_wait_us(void)
{
	long long total = -1;
	FILE *f = fopen("/proc/pressure/cpu", "r");
	if (!f)
		return -1;
	if (fscanf(f, "some avg10=%*f avg60=%*f avg300=%*f total=%lld", &total) != 1)
		total = -1;
	fclose(f);
	return total;
}

/* ---- environment (absolute figures mean little without it) ---------------- */

static void bench_print_file(const char *label, const char *path, const char *key)
{
	char line[256] = "?";
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof line, f))
		if (!key || strncmp(line, key, strlen(key)) == 0)
			break;
	if (f)
		fclose(f);
	line[strcspn(line, "\n")] = 0;
	const char *v = key && strchr(line, ':') ? strchr(line, ':') + 2 : line;
	printf("  %-12s %s\n", label, v);
}

void bench_print_env(void)
{
	printf("environment:\n");
	bench_print_file("kernel", "/proc/sys/kernel/osrelease", NULL);
	bench_print_file("cpu", "/proc/cpuinfo", "model name");
	printf("  %-12s %d (producer on CPU %d, consumer on CPU %d)\n", "cpus", bench_ncpus(), g_cpu[0], g_cpu[1]);
	bench_print_file("clocksource", "/sys/devices/system/clocksource/clocksource0/current_clocksource", NULL);
	bench_print_file("cpuidle", "/sys/devices/system/cpu/cpuidle/current_driver", NULL);
	bench_print_file("thp", "/sys/kernel/mm/transparent_hugepage/enabled", NULL);
}
