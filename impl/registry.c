/* SPDX-License-Identifier: MIT */
/* The bundled subjects, in the order the matrix shows them. Broken subjects
 * (impl/broken/) are built as separate adapters and never listed here. */
#include "ipc_subject.h"

extern const struct ipc_subject ipc__subject_ref_shmbuf;
extern const struct ipc_subject ipc__subject_textbook_shmbuf;
extern const struct ipc_subject ipc__subject_ck_ring;

const struct ipc_subject *ipc_registry_subjects(size_t *count)
{
	/* Copies, so the registry is one array like an adapter's. */
	static struct ipc_subject list[3];
	list[0] = ipc__subject_ref_shmbuf;
	list[1] = ipc__subject_textbook_shmbuf;
	list[2] = ipc__subject_ck_ring;
	*count = sizeof list / sizeof *list;
	return list;
}
