/* SPDX-License-Identifier: MIT */
/* The conformance runner: Criterion's own main, plus --list-subjects. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipct.h"
#include "ipct_internal.h"

static int ipct__list_subjects(void)
{
	size_t n = 0;
	const struct ipc_subject *list = ipc_registry_subjects(&n);
	for (size_t i = 0; i < n; i++)
		printf("%s\n", list[i].name);
	return 0;
}

/* The name of the subject IPCSPEC_SUBJECT designates (an adapter's own name). */
static int ipct__subject_name(void)
{
	const char *spec = getenv("IPCSPEC_SUBJECT");
	const struct ipc_subject *s = ipct_resolve_subject(spec ? spec : "ref-shmbuf");
	if (s == NULL)
		return 2;
	printf("%s\n", s->name);
	return 0;
}

/* The Criterion suite that holds the clauses of that subject's mechanism. */
static int ipct__subject_suite(void)
{
	const char *spec = getenv("IPCSPEC_SUBJECT");
	const struct ipc_subject *s = ipct_resolve_subject(spec ? spec : "ref-shmbuf");
	if (s == NULL)
		return 2;
	printf("%s\n", ipct_subject_suites(s));
	return 0;
}

int main(int argc, char *argv[])
{
	if (argc > 1 && strcmp(argv[1], "--list-subjects") == 0)
		return ipct__list_subjects();
	if (argc > 1 && strcmp(argv[1], "--subject-name") == 0)
		return ipct__subject_name();
	if (argc > 1 && strcmp(argv[1], "--subject-suite") == 0)
		return ipct__subject_suite();
	struct criterion_test_set *tests = criterion_initialize();
	int result = 0;
	if (criterion_handle_args(argc, argv, true))
		result = !criterion_run_all_tests(tests);
	criterion_finalize(tests);
	return result;
}
