/*
 * ipabs/wquantiles.h — quantiles and expected shortfall of weighted paths
 * (importance sampling), in fixed memory.
 *
 * The same histogram as ipabs_quantiles (stats.h): IPABS_HIST_BINS bins over
 * [lo, hi], the bin of a declared atom split into (below it, the atom, above
 * it), each cell keeping its smallest and largest value with the weight on
 * each, so that a quantile that falls on an atom or on a cell's extreme
 * value is that value.  Each cell also keeps its path count and the sums of
 * w, w^2, w d, w^2 d and w^2 d^2 (d = x less the cell's reference point)
 * that the weighted quantile's interval and the expected shortfall's
 * delta-method error need.  There is no kept tail: under importance
 * sampling the tail holds many paths of small weight, and the histogram
 * resolves it.  Sums are floating point, so the result depends on the
 * order of the adds: the driver adds in path order (chunk order), which
 * makes it the same bits for any thread count.  Estimators and their
 * errors are in docs/measures.md.
 */
#ifndef IPABS_WQUANTILES_H
#define IPABS_WQUANTILES_H

#include <stdbool.h>
#include <stdint.h>

#include "ipabs/stats.h"

typedef struct ipabs_wqcell {
    uint64_t n;               /* paths */
    double w, w2;             /* sums of weights and of squared weights */
    double min, max;          /* smallest and largest value */
    uint64_t n_min, n_max;    /* paths on the smallest and on the largest value */
    double w_min, w2_min;     /* weight and squared weight on the smallest value */
    double w_max, w2_max;     /* ... on the largest */
    double wd, w2d, w2dd;     /* sums of w d, w^2 d, w^2 d^2, d = x - ref */
    double ref;               /* the cell's reference point (its first value) */
} ipabs_wqcell;

typedef struct ipabs_wquantiles {
    double lo, hi;
    bool upper;               /* the side expected shortfall is taken on */
    uint64_t n;               /* paths */
    double w, w2;             /* over all paths */
    double atom;              /* NaN: none */
    int atom_bin;
    ipabs_wqcell *cells;      /* IPABS_QCELLS, in increasing order of value */
} ipabs_wquantiles;

/* Returns false on ENOMEM. */
bool ipabs_wquantiles_init(ipabs_wquantiles *q, double lo, double hi, bool upper);
void ipabs_wquantiles_release(ipabs_wquantiles *q);
/* As ipabs_quantiles_set_atom: before the first add. */
void ipabs_wquantiles_set_atom(ipabs_wquantiles *q, double atom);
/* A path of value x and weight w > 0. */
void ipabs_wquantiles_add(ipabs_wquantiles *q, double x, double w);
/* count paths of value x whose weights sum to w_sum, and their squares to
 * w2_sum. */
void ipabs_wquantiles_add_n(ipabs_wquantiles *q, double x, uint64_t count, double w_sum,
                            double w2_sum);

/* The p-quantile of the weighted empirical law F_w(x) = sum_{x_i <= x} w_i /
 * sum w_i: the smallest x with F_w(x) >= p.  Exact (the value itself) when
 * it is an atom or a cell's smallest or largest value; otherwise
 * interpolated by weight between the cell's extremes.  The interval
 * inverts the test of F_w(x) = p with the delta-method error of F_w at
 * each x, s(x) = sqrt(sum w^2 (1{x_i <= x} - F_w(x))^2) / sum w: from the
 * smallest x with F_w(x) + z s(x) >= p to the smallest x with F_w(x) -
 * z s(x) > p, widened to the bounds of interpolated values.  All NaN when
 * empty. */
ipabs_quantile_est ipabs_wquantiles_estimate(const ipabs_wquantiles *q, double p);

/* Expected shortfall: the mean of the weighted law over its most extreme
 * mass a = 1 - p on the tracker's side, atoms split as needed (Acerbi &
 * Tasche): upper side v + sum w (x - v)^+ / (a sum w) with v the
 * p-quantile, lower side v - sum w (v - x)^+ / (a sum w) with v the
 * a-quantile.  *se (may be NULL)
 * is the delta-method error of that weighted mean, sqrt(sum w^2 (y -
 * mean y)^2) / sum w / a x sqrt(n / (n - 1)), y = (x - v)^+ or (v - x)^+
 * (which, as for plain paths, includes the uncertainty of v).  The cell
 * holding v enters by its extreme run exactly and its interior at its
 * weighted mean. */
double ipabs_wquantiles_tail_mean(const ipabs_wquantiles *q, double p, double *se);

/* The weighted distribution function at x: *below = F_w(x-), *upto =
 * F_w(x), and their delta-method standard errors.  Exact when x is not
 * strictly inside a cell's (smallest, largest) range; otherwise the
 * cell's interior is taken as spread evenly between its extremes. */
void ipabs_wquantiles_cdf(const ipabs_wquantiles *q, double x, double *below, double *upto,
                          double *se_below, double *se_upto);

#endif
