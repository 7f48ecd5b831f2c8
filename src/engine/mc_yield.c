/*
 * mc_yield.c — a class's yield at par from its cash flows by period.
 *
 * The root of sum_t cf_t v^t = price in the discount factor v = 1/(1 + y/f)
 * by Newton's method, the polynomial and its derivative evaluated together
 * by Horner's rule in one pass, inline (no function pointers, no solver
 * object).  The iteration is step for step the one GSL's Newton solver
 * performed before (same start, same update, same stopping test, no fused
 * multiply-add), so the yields are the same bits.  The caller skips the
 * solve altogether for a class whose flows equal the no-default path's
 * (mc_path.c).
 */
#include <math.h>

#include "mc_internal.h"

/* Relative change in v at which the iteration stops. */
#define YIELD_REL_TOL 1e-13
#define YIELD_MAX_ITER 100

/* p(v) - price and p'(v), p(v) = sum_{t<n} cf_t v^(t+1), by Horner. */
static inline void yield_eval(const double *cf, int n, double price, double v,
                              double *f, double *df)
{
    double s = 0.0, ds = 0.0;
    for (int t = n - 1; t >= 0; t--) {
        ds = ds * v + s + cf[t];
        s = (s + cf[t]) * v;
    }
    *f = s - price;
    *df = ds;
}

double mc_yield_at_par(const double *cf, int n, int frequency, double price,
                       double coupon, double guess)
{
    while (n > 0 && cf[n - 1] == 0.0)
        n--; /* the plan's last cash: later periods add nothing */
    if (n == 0)
        return -1.0;
    /* The cash flows are non-negative, so p is increasing and convex in v:
     * Newton from a point right of the root converges monotonically.
     * Start at the no-default path's yield when the path earned at least
     * that (the root is then close), else at the coupon's discount factor,
     * else from 1 upwards. */
    double v = 1.0 / (1.0 + (isnan(guess) ? coupon : guess) / frequency);
    double f, df;
    yield_eval(cf, n, price, v, &f, &df);
    if (f < 0.0) {
        v = 1.0 / (1.0 + coupon / frequency);
        yield_eval(cf, n, price, v, &f, &df);
    }
    if (f < 0.0) {
        v = 1.0;
        yield_eval(cf, n, price, v, &f, &df);
        while (f < 0.0 && v < 1e6) {
            v *= 2.0;
            yield_eval(cf, n, price, v, &f, &df);
        }
    }
    for (int it = 0; it < YIELD_MAX_ITER; it++) {
        if (df == 0.0)
            return NAN;
        double v0 = v;
        v = v0 - f / df;
        yield_eval(cf, n, price, v, &f, &df);
        if (!isfinite(f))
            return NAN;
        if (fabs(v - v0) < YIELD_REL_TOL * fabs(v) || v == v0)
            return frequency * (1.0 / v - 1.0);
    }
    return NAN;
}
