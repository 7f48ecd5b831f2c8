/*
 * ipabs/stats.h — accumulators for Monte Carlo statistics.
 *
 * ipabs_moments: count, mean and sum of squared deviations (Welford),
 * merged with Chan's formula.  Floating-point merges depend on order, so
 * the driver merges chunk moments in chunk order: any thread count gives
 * the same bits.
 *
 * ipabs_quantiles: a fixed histogram over [lo, hi] plus the K most extreme
 * values on one side, kept exactly in a heap.  Both are multisets (integer
 * counts, a set of values), so merging them is order-independent.  Memory
 * is fixed: it does not grow with the number of paths.  Accuracy is
 * described in docs/measures.md.
 */
#ifndef IPABS_STATS_H
#define IPABS_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ipabs_moments {
    double n;
    double mean;
    double m2; /* sum of squared deviations from the mean */
} ipabs_moments;

static inline void ipabs_moments_add(ipabs_moments *m, double x)
{
    m->n += 1.0;
    double delta = x - m->mean;
    m->mean += delta / m->n;
    m->m2 += delta * (x - m->mean);
}

void ipabs_moments_merge(ipabs_moments *into, const ipabs_moments *from);
/* Standard error of the mean; NaN with fewer than two samples. */
double ipabs_moments_se(const ipabs_moments *m);

/* The bucket rule of every loss grid (loss_distribution.csv of `run` and
 * `exact`, and their comparison in --check-exact).  A value x of a grid of
 * `buckets` equal buckets over (0, total] lies in bucket k when
 * k w < x <= (k + 1) w, w = total / buckets, up to a tolerance of
 * IPABS_GRID_TOL x total: a value within it of an edge belongs to the
 * bucket below the edge (losses of homogeneous pools fall exactly on edges,
 * and 7 / 100 x 100 is 7.000000000000001 in floating point), and a value
 * within it of zero to the atom at zero.  Returns -1 for the atom at zero,
 * else the bucket index, clamped to buckets - 1. */
#define IPABS_GRID_TOL 1e-9
int ipabs_grid_bucket(double x, double total, int buckets);

#define IPABS_HIST_BINS 4096
#define IPABS_TAIL_SIZE 16384

typedef struct ipabs_quantiles {
    double lo, hi;       /* histogram range; values outside go to the end bins */
    bool upper;          /* keep the largest values (else the smallest) */
    uint64_t n;
    uint64_t *bins;      /* IPABS_HIST_BINS */
    double *tail;        /* heap of the most extreme values */
    int tail_count;
} ipabs_quantiles;

/* Returns false on ENOMEM. */
bool ipabs_quantiles_init(ipabs_quantiles *q, double lo, double hi, bool upper);
void ipabs_quantiles_release(ipabs_quantiles *q);
void ipabs_quantiles_reset(ipabs_quantiles *q);
void ipabs_quantiles_add(ipabs_quantiles *q, double x);
/* count copies of x at once (the same as count calls to _add). */
void ipabs_quantiles_add_n(ipabs_quantiles *q, double x, uint64_t count);
void ipabs_quantiles_merge(ipabs_quantiles *into, const ipabs_quantiles *from);

/* The empirical p-quantile (smallest x with F_n(x) >= p): exact from the
 * kept tail when the order statistic is in it, otherwise interpolated in
 * its histogram bin.  *se (may be NULL) gets a distribution-free standard
 * error: half the distance between the quantiles at p -+ sqrt(p(1-p)/n).
 * *exact (may be NULL) says whether the value came from the tail. */
double ipabs_quantiles_value(const ipabs_quantiles *q, double p, double *se,
                             bool *exact);

/* Expected shortfall beyond the p-quantile on the kept side: the mean of
 * the ceil((1-p) n) most extreme values.  Exact when they are all in the
 * kept tail (then *se is their standard error), otherwise from the
 * histogram within a bin width (then *se is NaN).  *se may be NULL. */
double ipabs_quantiles_tail_mean(const ipabs_quantiles *q, double p, double *se);

#endif
