/*
 * mc_internal.h — what the Monte Carlo driver and the path evaluator share:
 * the no-default baseline (computed once, then read-only) and the
 * per-thread path workspace.
 */
#ifndef IPABS_MC_INTERNAL_H
#define IPABS_MC_INTERNAL_H

#include <math.h>
#include "ipabs/montecarlo.h"

/* The no-default path: state after each period and each period's flows. */
typedef struct mc_baseline {
    int n_periods;
    ipabs_state **state;        /* [0..T]: state after period p */
    ipabs_period_flows *flows;  /* [0..T-1]: flows of period p + 1 */
    double *values;             /* its measure record */
    double *values0;            /* the same with NaN entries as 0 */
    double *cf;                 /* [k * T + t - 1]: cash to class k in period t */
    double *promised;           /* [t - 1]: what the seniors are promised on date t
                                 * (senior_promised of flows[t - 1]), which every
                                 * path's coverage ratio divides by */
    /* The per-loan entries of state[p] are those of state[0] for every p
     * (nobody defaults), so a path restarts from state[p] by copying only
     * the loans it touched (ipabs_state_copy_loans). */
    bool loans_fixed;
    /* A path's accumulators after periods 1..p of the no-default flows,
     * p = 0..T, which every path runs before its first event: restored
     * in one copy (acc_restore) instead of summed period by period again.
     * prefix[p]'s cf is NULL: the class cash flows of periods 1..p are
     * the first p of cf's (the no-default path's), the same for every p. */
    struct path_acc *prefix;    /* [0..T] */
    double *prefix_sums;        /* their cash blocks, 6 K a p */
    unsigned char *prefix_short; /* their interest_short, K a p */
    double *prefix_coverage;    /* [p * n_periods + t]: the coverage entries */
} mc_baseline;

/* Sums of a path's flows, period by period. */
typedef struct path_acc {
    double *cash, *principal, *principal_time, *loss, *interest_loss, *loss_pv;
    unsigned char *interest_short;
    double *cf;                 /* [k * T + t - 1]: cash to tranche k in period t */
    double payout, topup, recovery_g, fees, pnl_pv, unpaid;
    double put_purchase, held_loss; /* as put supporter of classes (guarantor) */
    bool capacity_exhausted;
} path_acc;

struct ipabs_mc_path {
    const ipabs_deal *deal;
    const ipabs_model_plan *plan;
    const mc_baseline *baseline; /* NULL while building the baseline itself */
    mc_baseline *owned;          /* set when this workspace owns its baseline */
    ipabs_mc_layout layout;
    double *factors;
    ipabs_realisation *real;
    ipabs_state *state;
    ipabs_period_flows flows;
    path_acc acc;
    double *values;             /* loan entries: nonzero only for loans_set */
    int *loans_set;             /* the loans whose entries of values are set */
    int n_loans_set;
    double *static_tranche;     /* scratch: static loss by tranche */
    double *loan_static_loss;   /* ipabs_static_loss of each loan, in a row */
    double *discount;           /* by tranche and period: (1 + c/f)^-t */
    double *g_discount;         /* by period, at tranche 0's coupon */
    /* Set by the batch engine: the yields of the classes whose flows
     * changed are left NaN with yield_pending[k] set, for batch_yields.c
     * to solve many paths at once. */
    bool defer_yields;
    unsigned char *yield_pending; /* by class */
};

mc_baseline *mc_baseline_build(const ipabs_deal *deal,
                               const ipabs_model_plan *plan, ipabs_error *err);
void mc_baseline_free(mc_baseline *b, const ipabs_deal *deal);

/* Evaluate the current realisation of w (already sampled); fills w->values. */
ipabs_status mc_path_evaluate(ipabs_mc_path *w, uint64_t index,
                              ipabs_error *err);
/* The path workspace without a baseline (used to build the baseline). */
ipabs_mc_path *mc_path_alloc_bare(const ipabs_deal *deal,
                                  const ipabs_model_plan *plan,
                                  ipabs_error *err);

/* Annual yield y, compounded `frequency` times a year, at which the cash
 * flows cf[0..n-1] (period 1..n, non-negative) are worth `price`:
 * sum cf_t (1 + y/f)^-t = price.  guess: a yield to start from if the path
 * earned at least that (the no-default path's), or NaN.  No cash at all:
 * -1 (-100%); no convergence in 100 Newton steps: NaN.  mc_yield.c. */
double mc_yield_at_par(const double *cf, int n, int frequency, double price,
                       double coupon, double guess);

/* The solver's tests, shared with the lanes (batch_yields.c), which run
 * mc_yield_at_par's sequence of operations and must give its bits. */
#define YIELD_REL_TOL 1e-13  /* relative change in v at which Newton stops */
#define YIELD_MAX_ITER 100
#define YIELD_NEAR 1e-2      /* the longest first step taken from left of the root */

static inline bool yield_converged(double v, double v0)
{
    return fabs(v - v0) < YIELD_REL_TOL * fabs(v) || v == v0;
}

/* At v, left of the root (f < 0), a Newton step of at most YIELD_NEAR of v:
 * taken at once (it lands between the root and YIELD_NEAR of v beyond). */
static inline bool yield_near(double v, double f, double df)
{
    return df > 0.0 && -f <= YIELD_NEAR * v * df;
}

/* With a collection grid finer than the payment dates (issue 10), a yield
 * is solved per collection period and quoted at the payment frequency:
 * a quoted guess to the grid's rate, and a solved grid rate to the quoted
 * one (the identity when pay_every is 1).  Shared by the scalar path and
 * the batched yields, so that both give the same bits. */
static inline double mc_yield_guess_to_grid(const ipabs_deal *deal, double guess)
{
    int m = deal->pay_every, f = deal->frequency, fp = deal->payment_frequency;
    if (m <= 1 || isnan(guess))
        return guess;
    return f * (pow(1.0 + guess / fp, 1.0 / m) - 1.0);
}

static inline double mc_yield_from_grid(const ipabs_deal *deal, double y)
{
    int m = deal->pay_every, f = deal->frequency, fp = deal->payment_frequency;
    if (m <= 1 || isnan(y) || y == -1.0)
        return y;
    return fp * (pow(1.0 + y / f, m) - 1.0);
}

#endif
