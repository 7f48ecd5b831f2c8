/*
 * test_yield.c — the yield at par of a class's cash flows (mc_yield.c):
 * against closed forms (a bullet paying one coupon level yields that
 * coupon), against a bisection in long double for loss-hit flows, bit
 * for bit against the GSL Newton solver the engine used before, and the
 * batch engine's lanes (batch_yields.c) bit for bit against it.
 */
#include <criterion/criterion.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>
#include <math.h>
#include <string.h>

#include "ipabs/error.h"
#include "batch.h"
#include "mc_internal.h"

static void setup(void)
{
    ipabs_init();
}

/* The stopping rule bounds the error in v by 1e-13 v (Newton from the
 * right decreases monotonically to the root, so the last step bounds the
 * distance left); y = f (1/v - 1) turns that into 1e-13 (f + y).  Twice
 * that, for the rounding of the polynomial near the root. */
static double yield_tol(int f, double y)
{
    return 2e-13 * (f + fabs(y));
}

/* A bullet: coupon c/f on the balance each period, the balance at the end. */
static int bullet(double balance, double coupon, int f, int n, double *cf)
{
    for (int t = 0; t < n; t++)
        cf[t] = balance * coupon / f;
    cf[n - 1] += balance;
    return n;
}

Test(yield, bullet_yields_its_coupon, .init = setup)
{
    const double coupons[] = {0.0337, 0.0612, 0.1049, 0.00713, 0.2471};
    const int freqs[] = {1, 2, 4, 12};
    const int terms[] = {1, 3, 20, 57};
    double cf[64];
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 4; b++)
            for (int c = 0; c < 4; c++) {
                double P = 73412987.31;
                int n = bullet(P, coupons[a], freqs[b], terms[c], cf);
                /* No guess, a guess above (start right of the root) and one
                 * below (the solver must fall back to the coupon). */
                const double guesses[] = {NAN, coupons[a] + 0.013, coupons[a] - 0.004};
                for (int g = 0; g < 3; g++) {
                    double y = mc_yield_at_par(cf, n, freqs[b], P, coupons[a], guesses[g]);
                    cr_expect(fabs(y - coupons[a]) <= yield_tol(freqs[b], y),
                              "c %.4f f %d n %d guess %g: y %.17g", coupons[a],
                              freqs[b], n, guesses[g], y);
                }
            }
}

/* sum cf_t v^(t+1) - price, in long double. */
static long double pv_minus(const double *cf, int n, double price, long double v)
{
    long double s = 0.0L;
    for (int t = n - 1; t >= 0; t--)
        s = (s + cf[t]) * v;
    return s - price;
}

/* The root by bisection on v in (0, hi], 200 halvings: exact to long
 * double's precision, whatever the start. */
static double bisect_yield(const double *cf, int n, int f, double price)
{
    long double lo = 1e-9L, hi = 1.0L;
    while (pv_minus(cf, n, price, hi) < 0.0L)
        hi *= 2.0L;
    for (int i = 0; i < 200; i++) {
        long double mid = (lo + hi) / 2.0L;
        if (pv_minus(cf, n, price, mid) < 0.0L)
            lo = mid;
        else
            hi = mid;
    }
    return (double)(f * (1.0L / ((lo + hi) / 2.0L) - 1.0L));
}

Test(yield, loss_hit_flows_against_bisection, .init = setup)
{
    double P = 61250000.0, c = 0.0425;
    int f = 4, T = 20;
    double cf[20];
    /* Coupons on an amortising balance, a default in period 7 that stops
     * the interest for three periods, a partial recovery, then less; zeros
     * at the end (the class written off before the legal final). */
    for (int t = 0; t < T; t++)
        cf[t] = 0.0;
    double bal = P;
    for (int t = 0; t < 6; t++) {
        cf[t] = bal * c / f + 2113456.77;
        bal -= 2113456.77;
    }
    cf[9] = 17345678.91;
    cf[11] = 1234.56;
    cf[13] = 3456789.01;
    double y = mc_yield_at_par(cf, T, f, P, c, NAN);
    double ref = bisect_yield(cf, 14, f, P);
    cr_assert(y < 0.0, "a loss gives a negative yield: %.17g", y);
    cr_expect(fabs(y - ref) <= yield_tol(f, ref), "y %.17g bisection %.17g", y, ref);
    /* A guess above the root (the no-default yield) gives the same root. */
    double y2 = mc_yield_at_par(cf, T, f, P, c, 0.05);
    cr_expect(fabs(y2 - ref) <= yield_tol(f, ref), "guess: y %.17g bisection %.17g", y2, ref);
    /* Almost everything lost: the root is far left of 1 in y, right of 1 in v. */
    double tiny[5] = {0.0, 0.0, 1000.0, 0.0, 25.0};
    y = mc_yield_at_par(tiny, 5, f, P, c, NAN);
    ref = bisect_yield(tiny, 5, f, P);
    cr_expect(fabs(y - ref) <= yield_tol(f, ref), "tiny: y %.17g bisection %.17g", y, ref);
}

Test(yield, no_cash_is_minus_one, .init = setup)
{
    double cf[8] = {0};
    cr_expect_eq(mc_yield_at_par(cf, 8, 4, 1e6, 0.05, NAN), -1.0);
    cr_expect_eq(mc_yield_at_par(cf, 0, 4, 1e6, 0.05, 0.05), -1.0);
}

/* ---- the GSL solver the engine used before this one ------------------------ */

typedef struct gsl_irr {
    const double *cf;
    int n;
    double price;
} gsl_irr;

static double g_f(double v, void *p)
{
    const gsl_irr *q = p;
    double s = 0.0;
    for (int t = q->n - 1; t >= 0; t--)
        s = (s + q->cf[t]) * v;
    return s - q->price;
}

static void g_fdf(double v, void *p, double *f, double *df)
{
    const gsl_irr *q = p;
    double s = 0.0, ds = 0.0;
    for (int t = q->n - 1; t >= 0; t--) {
        ds = ds * v + s + q->cf[t];
        s = (s + q->cf[t]) * v;
    }
    *f = s - q->price;
    *df = ds;
}

static double g_df(double v, void *p)
{
    double f, df;
    g_fdf(v, p, &f, &df);
    return df;
}

static double gsl_yield(gsl_root_fdfsolver *s, const double *cf, int n, int f,
                        double price, double coupon, double guess)
{
    while (n > 0 && cf[n - 1] == 0.0)
        n--;
    if (n == 0)
        return -1.0;
    gsl_irr p = {cf, n, price};
    double v = isnan(guess) ? 1.0 / (1.0 + coupon / f) : 1.0 / (1.0 + guess / f);
    if (g_f(v, &p) < 0.0)
        v = 1.0 / (1.0 + coupon / f);
    if (g_f(v, &p) < 0.0)
        for (v = 1.0; g_f(v, &p) < 0.0 && v < 1e6; v *= 2.0)
            ;
    gsl_function_fdf fdf = {g_f, g_df, g_fdf, &p};
    if (gsl_root_fdfsolver_set(s, &fdf, v) != GSL_SUCCESS)
        return NAN;
    for (int it = 0; it < 100; it++) {
        double v0 = gsl_root_fdfsolver_root(s);
        if (gsl_root_fdfsolver_iterate(s) != GSL_SUCCESS)
            return NAN;
        v = gsl_root_fdfsolver_root(s);
        if (gsl_root_test_delta(v, v0, 0.0, 1e-13) == GSL_SUCCESS)
            return f * (1.0 / v - 1.0);
    }
    return NAN;
}

/* A small deterministic generator for the test's flows. */
static double uniform(unsigned long long *x)
{
    *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*x >> 11) * 0x1p-53;
}

/* GSL's Newton solver, which the engine used first, takes the same steps
 * from the same points, but always starts right of the root (by the
 * coupon, then doubling from 1) and evaluates p once more after the last
 * step; mc_yield_at_par also steps from just left of the root and stops
 * without that evaluation.  Both stop once a step moves v by less than
 * 1e-13 of v, and Newton's error after that step is far below it (it
 * converges monotonically from the right, quadratically), so the two roots
 * are within 2e-13 v of each other, and the yields f (1/v - 1) within
 * f 2e-13 / v (to first order; 4e-13 allows for rounding). */
Test(yield, agrees_with_gsl_newton_to_its_tolerance, .init = setup)
{
    gsl_root_fdfsolver *s = gsl_root_fdfsolver_alloc(gsl_root_fdfsolver_newton);
    cr_assert_not_null(s);
    unsigned long long x = 20261130ULL;
    double cf[40];
    int solved = 0, same = 0;
    for (int trial = 0; trial < 20000; trial++) {
        int n = 1 + (int)(uniform(&x) * 40), f = (int[]){1, 2, 4, 12}[trial % 4];
        double P = 1e6 + 1e8 * uniform(&x), c = 0.12 * uniform(&x);
        bullet(P, c, f, n, cf);
        /* Knock out some periods and scale others: losses and gains. */
        for (int t = 0; t < n; t++) {
            double u = uniform(&x);
            cf[t] *= u < 0.2 ? 0.0 : u < 0.9 ? 1.0 : 2.0 * uniform(&x);
        }
        double guess = trial % 3 == 0 ? NAN : c + 0.05 * (uniform(&x) - 0.3);
        double a = mc_yield_at_par(cf, n, f, P, c, guess);
        double b = gsl_yield(s, cf, n, f, P, c, guess);
        if (isnan(a) || isnan(b) || a == -1.0 || b == -1.0) {
            cr_assert(a == b || (isnan(a) && isnan(b)),
                      "trial %d: %.17g against GSL's %.17g", trial, a, b);
            continue;
        }
        double v = 1.0 / (1.0 + fmax(a, b) / f); /* the smaller root */
        cr_assert_leq(fabs(a - b), 4e-13 * f / v,
                      "trial %d: %.17g against GSL's %.17g", trial, a, b);
        solved++;
        same += a == b;
    }
    cr_expect_gt(solved, 15000, "most trials have a root: %d", solved);
    cr_log_info("%d of %d roots the same bits as GSL's", same, solved);
    gsl_root_fdfsolver_free(s);
}

/* A class paid as promised solves to its start, its coupon, up to
 * rounding, where p may fall on either side: from just left of the root
 * the solver steps at once (before, it fell back to v = 1, a yield of 0,
 * and took six more evaluations back; the saving is measured in bench/).
 * Both sides give the coupon to within the tolerance. */
Test(yield, coupon_bond_from_either_side_of_its_coupon, .init = setup)
{
    const int T = 16, f = 4;
    const double P = 6.84e7, c = 0.03;
    double cf[16];
    bullet(P, c, f, T, cf);
    for (int k = -4; k <= 4; k++) {
        double guess = c + k * 1e-15;
        double y = mc_yield_at_par(cf, T, f, P, c, guess);
        cr_assert_leq(fabs(y - c), 4e-13 * f, "guess %.17g: %.17g", guess, y);
    }
}

/* 203 problems (not a multiple of the lanes: lanes go idle at the end, and
 * refill in between since problems take different step counts): loss-hit
 * flows of every shape, trailing periods without cash, a class that got
 * nothing (-100%), flows so small that the solver must double v from 1, a
 * guess or none; each solved in lanes equals mc_yield_at_par to the bit. */
Test(yield, lanes_equal_the_scalar_solver_bit_for_bit, .init = setup)
{
    enum { T = 24, N = 203 };
    batch_yield_jobs q = {0};
    static double cf[N * T], price[N], coupon[N], guess[N], out[N], lane_cf[T * BATCH_YIELD_LANES];
    q.n = q.cap = N;
    q.cf = cf;
    q.price = price;
    q.coupon = coupon;
    q.guess = guess;
    q.lane_cf = lane_cf;
    unsigned long long s = 3;
    for (int j = 0; j < N; j++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(s >> 11) / 9007199254740992.0;
        double P = 1e6 + 9e7 * u, c = 0.01 + 0.08 * u;
        int n = 1 + (int)(u * 1e3) % T, cut = (int)(u * 1e5) % (n + 1);
        for (int t = 0; t < T; t++) {
            double scheduled = t < n ? P * c / 4 + (t == n - 1 ? P : 0.0) : 0.0;
            cf[j * T + t] = t < cut ? scheduled : scheduled * (j % 5) / 7.0;
        }
        if (j % 17 == 0)
            for (int t = 0; t < T; t++)
                cf[j * T + t] = 0.0;                 /* nothing: -100% */
        if (j % 19 == 1)
            for (int t = 0; t < T; t++)
                cf[j * T + t] *= 1e-9;               /* v must grow past 1 */
        price[j] = P;
        coupon[j] = c;
        guess[j] = j % 3 == 0 ? NAN : c + (j % 2 ? 0.002 : -0.003);
    }
    batch_yields_solve(&q, T, 4, out);
    int solved = 0, minus_one = 0, nan_count = 0;
    for (int j = 0; j < N; j++) {
        double want = mc_yield_at_par(&cf[j * T], T, 4, price[j], coupon[j], guess[j]);
        cr_assert(memcmp(&want, &out[j], sizeof want) == 0,
                  "job %d: lanes %.17g, scalar %.17g", j, out[j], want);
        solved += isfinite(want) && want != -1.0;
        minus_one += want == -1.0;
        nan_count += isnan(want);
    }
    cr_assert(solved > 150 && minus_one >= 12, "solved %d, -100%% %d, NaN %d", solved, minus_one, nan_count);
}
