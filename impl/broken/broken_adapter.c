/* SPDX-License-Identifier: MIT */
/*
 * A deliberately broken subject: the reference implementation built with one
 * mutant switched on (impl/core/mutant.h), exported through the plug-in ABI
 * like any user's adapter. `make selftest` builds one shared object per
 * mutant and requires the clauses naming its bug to fail. Never listed in the
 * registry, so never part of the default matrix.
 */
#include "ipc_subject.h"

#ifndef IPC_BROKEN_NAME
#error "IPC_BROKEN_NAME must name the mutant, e.g. broken-cap-off-by-one"
#endif

extern const struct ipc_subject ipc__subject_ref_shmbuf;

const struct ipc_subject *ipc_subjects_v1(size_t *count)
{
	static struct ipc_subject broken;
	broken = ipc__subject_ref_shmbuf;
	broken.name = IPC_BROKEN_NAME;
	broken.summary = "ref-shmbuf with a deliberate bug (make selftest)";
	*count = 1;
	return &broken;
}
