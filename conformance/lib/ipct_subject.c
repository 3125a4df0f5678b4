/* SPDX-License-Identifier: MIT */
/* The subject under test: loaded once per runner from IPCSPEC_SUBJECT. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipct.h"

static const struct ipc_subject *ipct__current;

static const char *const ipct__shmbuf_caps[] = {
	"blocking", "nonblock",   "timed",     "bounded",
	"unbounded", "cross-process", "mpmc",  "end-of-stream",
	"peer-death", "untrusted", "system-name", "mem-limit", NULL,
};

static const char *const ipct__pipe_caps[] = {
	"blocking", "nonblock", "cross-process", "capacity", "poll",
	"fd",       "sigpipe",  "peer-death",    "dup",      "multi-writer",
	"exit-close", NULL,
};

/* Filled in by the mechanisms' own harness files (ipct_fifo.c, ipct_msgpipe.c). */
extern const char *const ipct__fifo_caps[];
extern const char *const ipct__msgpipe_caps[];
extern const char *const ipct__mailbox_caps[];
extern const char *const ipct__socket_caps[];
extern const char *const ipct__framing_caps[];

/* Per mechanism: its name (the Criterion suite of its tests, the stem of
 * spec/<name>.md) and the names of its capability bits. */
static const struct ipct_mechanism {
	uint32_t id;
	const char *name;
	const char *const *caps;
} ipct__mechanisms[] = {
	{ IPC_MECH_SHMBUF, "shmbuf", ipct__shmbuf_caps },
	{ IPC_MECH_PIPE, "pipe", ipct__pipe_caps },
	{ IPC_MECH_FIFO, "fifo", ipct__fifo_caps },
	{ IPC_MECH_MSGPIPE, "msgpipe", ipct__msgpipe_caps },
	{ IPC_MECH_MAILBOX, "mailbox", ipct__mailbox_caps },
	{ IPC_MECH_SOCKET, "socket", ipct__socket_caps },
	{ IPC_MECH_FRAMING, "framing", ipct__framing_caps },
};

static const struct ipct_mechanism *ipct__mechanism(uint32_t id)
{
	for (size_t i = 0; i < sizeof ipct__mechanisms / sizeof *ipct__mechanisms; i++)
		if (ipct__mechanisms[i].id == id)
			return &ipct__mechanisms[i];
	return NULL;
}

const char *ipct_mechanism_name(const struct ipc_subject *s)
{
	const struct ipct_mechanism *m = ipct__mechanism(s->mechanism);
	return m ? m->name : "unknown";
}

/* The suites that judge s: its mechanism's, and the pipe suite for a FIFO
 * subject (through its pipe view), separated by spaces. */
const char *ipct_subject_suites(const struct ipc_subject *s)
{
	if (s->mechanism == IPC_MECH_FIFO)
		return "fifo pipe";
	return ipct_mechanism_name(s);
}

/* Checked before any other field is read, so older or newer adapters fail
 * loudly instead of being misread. */
static const char *ipct__check_abi(const struct ipc_subject *s)
{
	if (s == NULL || s->name == NULL)
		return "descriptor or its name is NULL";
	if (s->abi_version != IPC_SUBJECT_ABI_VERSION)
		return "unsupported abi_version";
	if (s->struct_size < sizeof(struct ipc_subject))
		return "struct_size smaller than ABI version 1";
	if (ipct__mechanism(s->mechanism) == NULL || s->ops == NULL)
		return "unknown mechanism or NULL ops";
	return NULL;
}

static const struct ipc_subject *ipct__pick(const struct ipc_subject *list,
					     size_t n, const char *want)
{
	for (size_t i = 0; i < n; i++)
		if (want == NULL || strcmp(list[i].name, want) == 0)
			return &list[i];
	return NULL;
}

static const struct ipc_subject *ipct__load_so(const char *path)
{
	void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		fprintf(stderr, "ipcspec: cannot load %s: %s\n", path, dlerror());
		return NULL;
	}
	ipc_subjects_fn entry = (ipc_subjects_fn)dlsym(dl, IPC_SUBJECT_ENTRY);
	if (entry == NULL) {
		fprintf(stderr, "ipcspec: %s does not export %s\n", path,
			IPC_SUBJECT_ENTRY);
		return NULL;
	}
	size_t n = 0;
	const struct ipc_subject *list = entry(&n);
	return ipct__pick(list, n, getenv("IPCSPEC_SUBJECT_NAME"));
}

/* Resolve a bundled name or an adapter path; NULL with a message if neither. */
const struct ipc_subject *ipct_resolve_subject(const char *spec)
{
	const struct ipc_subject *s;
	if (strchr(spec, '/') != NULL || strstr(spec, ".so") != NULL) {
		s = ipct__load_so(spec);
	} else {
		size_t n = 0;
		const struct ipc_subject *list = ipc_registry_subjects(&n);
		s = ipct__pick(list, n, spec);
		if (s == NULL)
			fprintf(stderr, "ipcspec: no bundled subject named %s\n", spec);
	}
	const char *why = s ? ipct__check_abi(s) : NULL;
	if (why != NULL) {
		fprintf(stderr, "ipcspec: subject %s rejected: %s\n", spec, why);
		return NULL;
	}
	return s;
}

const struct ipc_subject *ipct_subject(void)
{
	if (ipct__current == NULL) {
		const char *spec = getenv("IPCSPEC_SUBJECT");
		ipct__current = ipct_resolve_subject(spec ? spec : "ref-shmbuf");
		if (ipct__current == NULL)
			cr_assert_fail("BROKEN: no usable subject (IPCSPEC_SUBJECT=%s)",
				 spec ? spec : "(unset)");
	}
	return ipct__current;
}

/* spec/fifo.h: a FIFO's operations table starts with its pipe view (a pipe
 * made by opening both ends of a FIFO) and that view's capability bits, so
 * the pipe suite judges every FIFO subject without a copied test. */
struct ipct__fifo_head {
	const struct ipc_pipe_ops *pipe;
	uint64_t pipe_caps;
};

/* What the running test sees of the subject: its own mechanism, or the pipe
 * view of a FIFO subject while a pipe test runs. */
struct ipct__view {
	uint32_t mechanism;
	uint64_t caps;
	const void *ops;
};

static bool ipct__in_suite(const char *suite)
{
	const struct criterion_test *t = criterion_current_test;
	return t != NULL && t->category != NULL && strcmp(t->category, suite) == 0;
}

static struct ipct__view ipct__view(void)
{
	const struct ipc_subject *s = ipct_subject();
	if (s->mechanism == IPC_MECH_FIFO && ipct__in_suite("pipe")) {
		const struct ipct__fifo_head *f = s->ops;
		return (struct ipct__view){ IPC_MECH_PIPE, f->pipe_caps, f->pipe };
	}
	return (struct ipct__view){ s->mechanism, s->caps, s->ops };
}

uint32_t ipct_view_mechanism(void)
{
	return ipct__view().mechanism;
}

uint64_t ipct_caps(void)
{
	return ipct__view().caps;
}

/* A test of one mechanism run against a subject of another is a harness
 * misuse (conformance.sh filters by suite): BROKEN, never a verdict. */
static const void *ipct__ops_of(uint32_t mechanism)
{
	struct ipct__view v = ipct__view();
	if (v.mechanism != mechanism || v.ops == NULL)
		cr_assert_fail("BROKEN: subject %s is not of this test's mechanism",
			       ipct_subject()->name);
	return v.ops;
}

const struct ipc_shmbuf_ops *ipct_shmbuf(void)
{
	return ipct__ops_of(IPC_MECH_SHMBUF);
}

const struct ipc_pipe_ops *ipct_pipe(void)
{
	return ipct__ops_of(IPC_MECH_PIPE);
}

bool ipct_has(uint64_t caps)
{
	return (ipct_caps() & caps) == caps;
}

const char *ipct_cap_names(uint64_t caps, char *buf, size_t len)
{
	const struct ipct_mechanism *m = ipct__mechanism(ipct_view_mechanism());
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; m != NULL && m->caps[i] != NULL; i++) {
		if (!(caps & (1ull << i)))
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", m->caps[i]);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	return buf;
}

void ipct__unsupported(uint64_t missing)
{
	char names[256];
	cr_skip("UNSUPPORTED: needs %s", ipct_cap_names(missing, names, sizeof names));
}

const char *ipct_rc_text(long rc, char *buf, size_t len)
{
	const char *name = ipc_err_name((int)rc);
	if (rc < 0 && name != NULL)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%ld", rc);
	return buf;
}

bool ipct_cross_process(void)
{
	switch (ipct_view_mechanism()) {
	case IPC_MECH_SHMBUF:
		return ipct_has(IPC_SHMBUF_CAP_CROSS_PROCESS);
	case IPC_MECH_PIPE:
		return ipct_has(IPC_PIPE_CAP_CROSS_PROCESS);
	case IPC_MECH_FIFO:
		return ipct_has(IPC_FIFO_CAP_CROSS_PROCESS);
	case IPC_MECH_MSGPIPE:
		return ipct_has(IPC_MSGPIPE_CAP_CROSS_PROCESS);
	case IPC_MECH_MAILBOX:
		return ipct_has(IPC_MAILBOX_CAP_CROSS_PROCESS);
	case IPC_MECH_SOCKET:
		return ipct_has(IPC_SOCKET_CAP_CROSS_PROCESS);
	case IPC_MECH_FRAMING:
		return ipct_has(IPC_FRAMING_CAP_CROSS_PROCESS);
	default:
		return false;
	}
}
