/* SPDX-License-Identifier: MIT */
/* ipct for the msgpipe mechanism (spec/msgpipe.h). Included by ipct.h. */
#ifndef IPCSPEC_IPCT_MSGPIPE_H
#define IPCSPEC_IPCT_MSGPIPE_H

#include <stdbool.h>

/* Called by the fixture: close what the test left open, remove its names. */
void ipct__msgpipe_teardown(bool stuck);

#endif
