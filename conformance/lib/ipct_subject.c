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

/* Per mechanism: its name (the Criterion suite of its tests, the stem of
 * spec/<name>.md) and the names of its capability bits. */
static const struct ipct_mechanism {
	uint32_t id;
	const char *name;
	const char *const *caps;
} ipct__mechanisms[] = {
	{ IPC_MECH_SHMBUF, "shmbuf", ipct__shmbuf_caps },
	{ IPC_MECH_PIPE, "pipe", ipct__pipe_caps },
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

/* A test of one mechanism run against a subject of another is a harness
 * misuse (conformance.sh filters by suite): BROKEN, never a verdict. */
static const void *ipct__ops_of(uint32_t mechanism)
{
	if (ipct_subject()->mechanism != mechanism)
		cr_assert_fail("BROKEN: subject %s is not of this test's mechanism",
			       ipct_subject()->name);
	return ipct_subject()->ops;
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
	return (ipct_subject()->caps & caps) == caps;
}

const char *ipct_cap_names(uint64_t caps, char *buf, size_t len)
{
	const struct ipct_mechanism *m = ipct__mechanism(ipct_subject()->mechanism);
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
	switch (ipct_subject()->mechanism) {
	case IPC_MECH_SHMBUF:
		return ipct_has(IPC_SHMBUF_CAP_CROSS_PROCESS);
	case IPC_MECH_PIPE:
		return ipct_has(IPC_PIPE_CAP_CROSS_PROCESS);
	default:
		return false;
	}
}
