/* SPDX-License-Identifier: MIT */
/* One-process trials: a producer and a consumer thread, pinned apart, let go
 * together by a barrier so neither side's start-up is timed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

static void *bench_side(struct bench_pair *p, int side)
{
	if (bench_pin(side) != 0)
		perror("bench: sched_setaffinity");
	pthread_barrier_wait(&p->start);
	if (side == 0)
		p->prod_rc = p->produce(p);
	else
		p->cons_rc = p->consume(p);
	return NULL;
}

static void *bench_prod_main(void *arg) { return bench_side(arg, 0); }
static void *bench_cons_main(void *arg) { return bench_side(arg, 1); }

int bench_run_pair(struct bench_pair *p)
{
	pthread_t prod, cons;
	if (pthread_barrier_init(&p->start, NULL, 2) != 0)
		return -ENOMEM;
	p->prod_rc = p->cons_rc = -ECANCELED;
	if (pthread_create(&cons, NULL, bench_cons_main, p) != 0)
		return -EAGAIN; /* nothing started: nothing to clean up */
	if (pthread_create(&prod, NULL, bench_prod_main, p) != 0) {
		/* The consumer waits at the barrier for good: no way to go on. */
		fprintf(stderr, "bench: cannot start the producer thread\n");
		exit(1);
	}
	pthread_join(prod, NULL);
	pthread_join(cons, NULL);
	pthread_barrier_destroy(&p->start);
	if (p->prod_rc < 0 || p->cons_rc < 0)
		fprintf(stderr, "bench: threads: producer %d, consumer %d\n", p->prod_rc, p->cons_rc);
	return p->prod_rc < 0 ? p->prod_rc : p->cons_rc;
}
