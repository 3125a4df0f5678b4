/* SPDX-License-Identifier: MIT */
/* Order statistics: medians across trials, percentiles within one. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The median of the values that are not NaN (a trial that did not run). */
double bench_median(const double *v, int n)
{
	double s[BENCH_MAX_TRIALS];
	int k = 0;
	for (int i = 0; i < n && k < BENCH_MAX_TRIALS; i++)
		if (!isnan(v[i]))
			s[k++] = v[i];
	if (k == 0)
		return NAN;
	qsort(s, (size_t)k, sizeof *s, cmp_double);
	return k % 2 ? s[k / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
}

double bench_min(const double *v, int n)
{
	double m = NAN;
	for (int i = 0; i < n; i++)
		if (!isnan(v[i]) && (isnan(m) || v[i] < m))
			m = v[i];
	return m;
}

double bench_max(const double *v, int n)
{
	double m = NAN;
	for (int i = 0; i < n; i++)
		if (!isnan(v[i]) && (isnan(m) || v[i] > m))
			m = v[i];
	return m;
}

/* The p-th percentile (0 < p <= 100) by the nearest-rank method. */
double bench_percentile_i64(int64_t *v, int n, double p)
{
	if (n <= 0)
		return NAN;
	qsort(v, (size_t)n, sizeof *v, cmp_i64);
	int rank = (int)ceil(p / 100.0 * n);
	rank = rank < 1 ? 1 : rank > n ? n : rank;
	return (double)v[rank - 1];
}
