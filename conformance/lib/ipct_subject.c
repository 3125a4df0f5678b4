/* SPDX-License-Identifier: MIT */
/* The subject under test: loaded once per runner from IPCSPEC_SUBJECT. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipct.h"

static const struct ipc_subject *ipct__current;

static const char *const ipct__cap_names[] = {
	"blocking", "nonblock",   "timed",     "bounded",
	"unbounded", "cross-process", "mpmc",  "end-of-stream",
	"peer-death", "untrusted", "system-name", "mem-limit",
};

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
	if (s->mechanism != IPC_MECH_SHMBUF || s->ops == NULL)
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

const struct ipc_shmbuf_ops *ipct_shmbuf(void)
{
	return ipct_subject()->ops;
}

bool ipct_has(uint64_t caps)
{
	return (ipct_subject()->caps & caps) == caps;
}

const char *ipct_cap_names(uint64_t caps, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof ipct__cap_names / sizeof *ipct__cap_names; i++) {
		if (!(caps & (1ull << i)))
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
				 ipct__cap_names[i]);
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
