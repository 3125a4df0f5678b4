/* SPDX-License-Identifier: MIT */
/* Harness support for the msgpipe mechanism: capability names, cleanup. */
#include "ipct.h"

/* The names of the capability bits of spec/msgpipe.h, in bit order. */
const char *const ipct__msgpipe_caps[] = { NULL };

void ipct__msgpipe_teardown(bool stuck)
{
	(void)stuck;
}
