/* SPDX-License-Identifier: MIT */
/*
 * Statuses come from the runner, not from the worker: these hooks run in the
 * Criterion runner process after each test, so they see crashes and timeouts
 * too. One line per test goes to $IPCSPEC_RESULTS:
 *     label <TAB> subject <TAB> suite/test <TAB> status <TAB> message
 * (label: the subject's name; subject: what IPCSPEC_SUBJECT named, a bundled
 * name or an adapter path, so a failing cell can be reproduced).
 * with status pass, fail, skip (message "UNSUPPORTED: …"), crash or timeout.
 * conformance/report/merge.c turns these lines into the matrix.
 */
#include <criterion/hooks.h>
#include <stdio.h>
#include <stdlib.h>

#include "ipct.h"

static void ipct__clean(char *s)
{
	for (; *s; s++)
		if (*s == '\t' || *s == '\n' || *s == '\r')
			*s = ' ';
}

static const char *ipct__first_failure(struct criterion_test_stats *st)
{
	for (struct criterion_assert_stats *a = st->asserts; a; a = a->next)
		if (!a->passed && a->message)
			return a->message;
	return st->message ? st->message : "";
}

static void ipct__record(struct criterion_test_stats *st, const char *status,
			 const char *msg)
{
	const char *path = getenv("IPCSPEC_RESULTS");
	if (path == NULL)
		return;
	FILE *f = fopen(path, "ae");
	if (f == NULL)
		return;
	char text[512];
	snprintf(text, sizeof text, "%s", msg ? msg : "");
	ipct__clean(text);
	const char *spec = getenv("IPCSPEC_SUBJECT");
	const char *label = getenv("IPCSPEC_SUBJECT_LABEL");
	spec = spec ? spec : "ref-shmbuf";
	fprintf(f, "%s\t%s\t%s/%s\t%s\t%s\n", label ? label : spec, spec,
		st->test->category, st->test->name, status, text);
	fclose(f);
}

ReportHook(POST_TEST)(struct criterion_test_stats *st)
{
	if (st->timed_out)
		ipct__record(st, "timeout", "timed out");
	else if (st->test_status == CR_STATUS_SKIPPED)
		ipct__record(st, "skip", st->message);
	else if (st->test_status == CR_STATUS_FAILED)
		ipct__record(st, "fail", ipct__first_failure(st));
	else
		ipct__record(st, "pass", "");
}

ReportHook(TEST_CRASH)(struct criterion_test_stats *st)
{
	char msg[64];
	snprintf(msg, sizeof msg, "crashed (signal %d, exit %d)", st->signal,
		 st->exit_code);
	ipct__record(st, "crash", msg);
}

/* From the worker: a finding the runner cannot see (a valgrind error or a
 * leak found in teardown, where Criterion only prints a warning). The line
 * joins the runner's own line for the test; the merger lets a fail win. */
void ipct__record_worker_failure(const char *why)
{
	const char *path = getenv("IPCSPEC_RESULTS");
	const struct criterion_test *t = criterion_current_test;
	if (path == NULL || t == NULL)
		return;
	FILE *f = fopen(path, "ae");
	if (f == NULL)
		return;
	const char *spec = getenv("IPCSPEC_SUBJECT");
	const char *label = getenv("IPCSPEC_SUBJECT_LABEL");
	spec = spec ? spec : "ref-shmbuf";
	fprintf(f, "%s\t%s\t%s/%s\tfail\t%s\n", label ? label : spec, spec, t->category,
		t->name, why);
	fclose(f);
}
