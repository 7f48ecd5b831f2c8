/*
 * mc_yield.c — a class's yield at par from its cash flows by period.
 *
 * The root of sum_t cf_t v^t = price in the discount factor v = 1/(1 + y/f)
 * by Newton's method, the polynomial and its derivative evaluated together
 * by Horner's rule in one pass, inline (no function pointers, no solver
 * object).  The update and the stopping test are those of GSL's Newton
 * solver, which the engine used first (no fused multiply-add); the start
 * and the end save evaluations it made (mc_yield_at_par below).  The
 * caller skips the solve altogether for a class whose flows equal the
 * no-default path's (mc_path.c).
 */
#include <math.h>

#include "mc_internal.h"

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
    /* The cash flows are non-negative, so p is increasing and convex in v,
     * and a Newton step from any point lands at or right of the root (the
     * tangent lies below p); from there Newton converges monotonically.
     * Start at the no-default path's yield (else the coupon).  Left of the
     * root by no more than YIELD_NEAR of v, step from there: the root is
     * between v and the step's end, so the overshoot is smaller still.
     * This is the common case: a class paid as promised solves to its
     * start up to rounding, on either side.  Farther left, first find a
     * point right of the root: the coupon's discount factor, else 1, then
     * doubling (a class that lost most of its money has its root far
     * right, where Newton from a near point right of it is quick). */
    double v = 1.0 / (1.0 + (isnan(guess) ? coupon : guess) / frequency);
    double f, df;
    yield_eval(cf, n, price, v, &f, &df);
    if (f < 0.0 && !yield_near(v, f, df)) {
        v = 1.0 / (1.0 + coupon / frequency);
        yield_eval(cf, n, price, v, &f, &df);
    }
    if (f < 0.0 && !yield_near(v, f, df)) {
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
        /* Converged: v is the answer and p(v) need not be evaluated (it is
         * finite: v is within 1e-13 of v0, where p was). */
        if (yield_converged(v, v0))
            return frequency * (1.0 / v - 1.0);
        yield_eval(cf, n, price, v, &f, &df);
        if (!isfinite(f))
            return NAN;
    }
    return NAN;
}
