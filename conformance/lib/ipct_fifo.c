/* SPDX-License-Identifier: MIT */
/* Harness support for the fifo mechanism: capability names, cleanup. */
#include "ipct.h"

/* The names of the capability bits of spec/fifo.h, in bit order. */
const char *const ipct__fifo_caps[] = { NULL };

void ipct__fifo_teardown(bool stuck)
{
	(void)stuck;
}
