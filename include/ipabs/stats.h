/*
 * ipabs/stats.h — accumulators for Monte Carlo statistics.
 *
 * ipabs_moments: count, mean and sum of squared deviations (Welford),
 * merged with Chan's formula.  Floating-point merges depend on order, so
 * the driver merges chunk moments in chunk order: any thread count gives
 * the same bits.
 *
 * ipabs_quantiles: a fixed histogram over [lo, hi] whose cells keep, beside
 * their count, their smallest and largest value with exact counts and
 * exact fixed-point sums; an optional declared atom (the value most paths
 * share) with its exact count; and the K most extreme values on one side,
 * kept exactly in a heap.  All are multisets (integer counts, extremes,
 * integer sums, a set of values), so merging them is order-independent.
 * Memory is fixed: it does not grow with the number of paths.  A quantile
 * on an atom is the atom; accuracy and intervals are described in
 * docs/measures.md.
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

/* Weighted moments (importance sampling): paths x_i with likelihood
 * ratios w_i, the self-normalised mean sum w x / sum w and the sums its
 * delta-method variance sum w^2 (x - mean)^2 / (sum w)^2 needs, kept
 * about the mean so that two parts merge exactly (in chunk order, as
 * ipabs_moments).  With every w = 1 the mean is the plain mean and the
 * standard error sqrt(q / (n (n - 1))) that of ipabs_moments. */
typedef struct ipabs_wmoments {
    double n;    /* paths */
    double w;    /* sum of weights */
    double mean; /* sum w x / sum w */
    double w2;   /* sum of squared weights */
    double t;    /* sum w^2 (x - mean) */
    double q;    /* sum w^2 (x - mean)^2 */
} ipabs_wmoments;

void ipabs_wmoments_merge(ipabs_wmoments *into, const ipabs_wmoments *from);
/* sqrt(q) / w x sqrt(n / (n - 1)) (the n - 1 of the unweighted case);
 * NaN with fewer than two paths or no weight. */
double ipabs_wmoments_se(const ipabs_wmoments *m);

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
/* Two-sided level of every confidence interval the trackers report. */
#define IPABS_CI_LEVEL 0.95
#define IPABS_CI_Z 1.959963984540054

/* Exact integer sums (values in fixed point), so that merging in any order
 * gives the same bits. */
__extension__ typedef unsigned __int128 ipabs_u128;

/* One cell of the histogram: its count, its smallest and largest value and
 * how many paths sit exactly on each, and the sums of the values and of
 * their squares in fixed point (2^32 steps over [lo, hi]).  All are
 * multiset functions: merging is order-independent. */
typedef struct ipabs_qcell {
    uint64_t n, n_min, n_max;
    double min, max;
    uint64_t s1;
    ipabs_u128 s2;
} ipabs_qcell;

/* Cells: IPABS_HIST_BINS bins, plus two when an atom is declared: the bin
 * holding the atom is split into (values below it, the atom, values above
 * it), so the atom's count is exact and ordered among the bins. */
#define IPABS_QCELLS (IPABS_HIST_BINS + 2)

typedef struct ipabs_quantiles {
    double lo, hi;       /* histogram range; values outside go to the end bins */
    bool upper;          /* keep the largest values (else the smallest) */
    uint64_t n;
    double atom;         /* declared atom (NaN: none) */
    int atom_bin;        /* its bin, or IPABS_HIST_BINS when none */
    ipabs_qcell *cells;  /* IPABS_QCELLS, in increasing order of value */
    double *tail;        /* 2 x IPABS_TAIL_SIZE: a heap of the most extreme
                            values, then, once it is full, values beyond its
                            root waiting for the next compaction (stats.c) */
    int tail_count;      /* heap + waiting values */
} ipabs_quantiles;

/* Returns false on ENOMEM. */
bool ipabs_quantiles_init(ipabs_quantiles *q, double lo, double hi, bool upper);
void ipabs_quantiles_release(ipabs_quantiles *q);
void ipabs_quantiles_reset(ipabs_quantiles *q);
/* Declare a value most paths share (the no-default path's value: a loss of
 * 0, the promised yield): its count is kept exactly, so a quantile that
 * falls on it is it.  Call before the first add; trackers merged together
 * must declare the same atom.  NaN declares none. */
void ipabs_quantiles_set_atom(ipabs_quantiles *q, double atom);
void ipabs_quantiles_add(ipabs_quantiles *q, double x);
/* count copies of x at once (the same as count calls to _add). */
void ipabs_quantiles_add_n(ipabs_quantiles *q, double x, uint64_t count);
void ipabs_quantiles_merge(ipabs_quantiles *into, const ipabs_quantiles *from);
/* Once every value is in: order the kept tail from its least extreme value
 * on (still a valid heap, so adding later stays correct), so that each
 * estimate reads it in O(tail) instead of sorting it again.  Changes no
 * estimate. */
void ipabs_quantiles_seal(ipabs_quantiles *q);

/* A quantile with its distribution-free confidence interval. */
typedef struct ipabs_quantile_est {
    double value;   /* the empirical p-quantile X_(ceil(p n)) */
    double lower;   /* IPABS_CI_LEVEL interval from order statistics */
    double upper;
    double se;      /* (upper - lower) / (2 IPABS_CI_Z): the interval as an error */
    bool exact;     /* value is the order statistic itself (not interpolated) */
} ipabs_quantile_est;

/* The empirical p-quantile (smallest x with F_n(x) >= p) and the interval
 * [X_(l), X_(u)], l = floor(n p - z sqrt(n p (1-p))), u = ceil(n p + z
 * sqrt(n p (1-p))) + 1, which covers the true quantile with probability
 * about IPABS_CI_LEVEL whatever the law (atoms included).  An order
 * statistic is exact when it is among the kept extremes, in the run of a
 * cell's smallest or largest value, or the atom; otherwise it is
 * interpolated between its cell's smallest and largest value, and the
 * interval is widened to those bounds.  Monotone in p.  All NaN when
 * q->n == 0. */
ipabs_quantile_est ipabs_quantiles_estimate(const ipabs_quantiles *q, double p);

/* The number of kept values below x (*below) and at or below x (*upto):
 * the empirical distribution function at x and just left of it, times n.
 * Exact when x is not strictly inside a cell's (smallest, largest) range
 * (an atom, a cell's extreme value, or between cells); otherwise the
 * interior of that cell is taken as spread evenly between its extremes. */
void ipabs_quantiles_count(const ipabs_quantiles *q, double x, double *below, double *upto);

/* ipabs_quantiles_estimate() reduced to the value; *se and *exact may be
 * NULL. */
double ipabs_quantiles_value(const ipabs_quantiles *q, double p, double *se,
                             bool *exact);

/* Expected shortfall beyond the p-quantile on the kept side: the mean of
 * the m = ceil((1-p) n) most extreme values.  *se (may be NULL) is the
 * square root of the consistent estimator of its asymptotic variance,
 * Var((X - VaR_p)^+) / (n (m/n)^2) (for the lower side (VaR_p - X)^+),
 * which includes the uncertainty of the threshold itself.  Exact from the
 * kept tail when m <= IPABS_TAIL_SIZE; otherwise from the cells' exact
 * sums, with the cell that holds the threshold taken pro rata (within a
 * bin width). */
double ipabs_quantiles_tail_mean(const ipabs_quantiles *q, double p, double *se);

#endif
