/* SPDX-License-Identifier: MIT */
/*
 * A deliberately broken subject: a reference implementation built with one
 * mutant switched on (impl/core/mutant.h), exported through the plug-in ABI
 * like any user's adapter. `make selftest` builds one shared object per
 * mutant (ci/selftest/mutants.tsv names the mutant, the clauses its bug must
 * fail and the base subject) and requires those clauses to fail. Never
 * listed in the registry, so never part of the default matrix.
 *
 *   -DIPC_BROKEN_NAME='"broken-pipe-early-eof"'   the subject's new name
 *   -DIPC_BROKEN_BASE=ipc__subject_ref_pipe       the descriptor it renames
 *                                                 (default: ref-shmbuf)
 */
#include <stdio.h>

#include "ipc_subject.h"

#ifndef IPC_BROKEN_NAME
#error "IPC_BROKEN_NAME must name the mutant, e.g. broken-cap-off-by-one"
#endif
#ifndef IPC_BROKEN_BASE
#define IPC_BROKEN_BASE ipc__subject_ref_shmbuf
#endif

extern const struct ipc_subject IPC_BROKEN_BASE;

const struct ipc_subject *ipc_subjects_v1(size_t *count)
{
	static struct ipc_subject broken;
	static char summary[128];
	broken = IPC_BROKEN_BASE;
	snprintf(summary, sizeof summary, "%s with a deliberate bug (make selftest)",
		 IPC_BROKEN_BASE.name);
	broken.name = IPC_BROKEN_NAME;
	broken.summary = summary;
	*count = 1;
	return &broken;
}
