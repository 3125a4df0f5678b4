/* SPDX-License-Identifier: MIT */
/* ipct for the fifo mechanism (spec/fifo.h). Included by ipct.h. */
#ifndef IPCSPEC_IPCT_FIFO_H
#define IPCSPEC_IPCT_FIFO_H

#include <stdbool.h>

/* Called by the fixture: close what the test left open, remove its names. */
void ipct__fifo_teardown(bool stuck);

#endif
