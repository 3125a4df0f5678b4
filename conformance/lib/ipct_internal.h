/* SPDX-License-Identifier: MIT */
/* Harness internals shared by conformance/lib; tests never include this. */
#ifndef IPCSPEC_IPCT_INTERNAL_H
#define IPCSPEC_IPCT_INTERNAL_H

#include "ipct.h"

/* Exit status of a process party whose own leak check failed. */
#define IPCT_STATUS_LEAK 99

void ipct__track_party(struct ipct_party *p);
bool ipct__party_finished(struct ipct_party *p);
bool ipct__party_is_process(struct ipct_party *p);
const struct ipc_subject *ipct_resolve_subject(const char *spec);
void ipct__record_worker_failure(const char *why);

#endif
