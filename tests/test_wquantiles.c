/*
 * test_wquantiles.c — quantiles and expected shortfall of weighted paths
 * (importance sampling, issue 12): against a direct computation on the
 * sorted weighted sample (quantile, distribution function, expected
 * shortfall and its delta-method error), against the plain tracker with
 * unit weights, and, by importance sampling of a law with a closed form,
 * the expected shortfall's error against the spread over independent
 * seeds and the quantile interval's coverage.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spread_util.h"
#include "ipabs/stats.h"
#include "ipabs/wquantiles.h"

static double lcg(unsigned long long *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

typedef struct wx {
    double x, w;
} wx;

static int by_x(const void *a, const void *b)
{
    double x = ((const wx *)a)->x, y = ((const wx *)b)->x;
    return (x > y) - (x < y);
}

/* A lattice sample: an atom at 0 (60%), else one of 37 values k * 1234.5
 * (each in a cell of its own or sharing one with a neighbour), with ugly
 * weights between 0.013 and 7.3. */
static wx *lattice(int n, unsigned long long seed)
{
    wx *s = malloc((size_t)n * sizeof *s);
    for (int i = 0; i < n; i++) {
        double u = lcg(&seed);
        s[i].x = u < 0.6 ? 0.0 : 1234.5 * (1 + (int)(37.0 * lcg(&seed)));
        s[i].w = 0.013 + 7.287 * lcg(&seed) * lcg(&seed);
    }
    return s;
}

/* The smallest x with sum_{x_i <= x} w_i >= p W, on the sorted sample. */
static double direct_quantile(const wx *s, int n, double W, double p)
{
    double cum = 0.0;
    for (int i = 0; i < n; i++) {
        cum += s[i].w;
        if (cum >= p * W && (i == n - 1 || s[i + 1].x != s[i].x))
            return s[i].x;
    }
    return s[n - 1].x;
}

static void fill(ipabs_wquantiles *q, const wx *s, int n, double lo, double hi, bool upper)
{
    cr_assert(ipabs_wquantiles_init(q, lo, hi, upper));
    ipabs_wquantiles_set_atom(q, 0.0);
    for (int i = 0; i < n; i++)
        ipabs_wquantiles_add(q, s[i].x, s[i].w);
}

/* On a lattice every quantile is a value of the sample, known exactly
 * (an atom or a cell's extreme), and equals the sorted sample's. */
Test(wquantiles, lattice_quantiles_equal_the_sorted_weighted_law)
{
    int n = 5003;
    wx *s = lattice(n, 11);
    ipabs_wquantiles q;
    fill(&q, s, n, 0.0, 1234.5 * 38, true);
    qsort(s, (size_t)n, sizeof *s, by_x);
    double W = 0.0;
    for (int i = 0; i < n; i++)
        W += s[i].w;
    const double ps[] = {0.01, 0.3, 0.5, 0.61, 0.7, 0.9, 0.95, 0.99, 0.999};
    double prev = -INFINITY;
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
        ipabs_quantile_est e = ipabs_wquantiles_estimate(&q, ps[k]);
        double d = direct_quantile(s, n, W, ps[k]);
        cr_expect(e.exact, "p %g", ps[k]);
        cr_expect_eq(e.value, d, "p %g: %.17g vs %.17g", ps[k], e.value, d);
        cr_expect(e.lower <= e.value && e.value <= e.upper);
        cr_expect_geq(e.value, prev, "monotone in p");
        prev = e.value;
    }
    /* Below 60% the quantile is the atom at 0; the interval is the atom
     * alone only when the atom's share is surely above p. */
    ipabs_quantile_est a = ipabs_wquantiles_estimate(&q, 0.3);
    cr_expect_eq(a.value, 0.0);
    cr_expect_eq(a.upper, 0.0);
    cr_expect_eq(a.se, 0.0);
    ipabs_wquantiles_release(&q);
    free(s);
}

/* The distribution function at a lattice value: the weighted shares below
 * and at or below it, and the delta-method error sqrt(sum w^2 (1{x_i <= x}
 * - F)^2) / W x sqrt(n / (n - 1)). */
Test(wquantiles, distribution_function_and_its_error_equal_direct_sums)
{
    int n = 4001;
    wx *s = lattice(n, 23);
    ipabs_wquantiles q;
    fill(&q, s, n, 0.0, 1234.5 * 38, true);
    const double xs[] = {0.0, 1234.5 * 5, 1234.5 * 36, 1234.5 * 37};
    for (size_t k = 0; k < sizeof xs / sizeof xs[0]; k++) {
        double W = 0, lt = 0, le = 0, W2 = 0;
        for (int i = 0; i < n; i++) {
            W += s[i].w;
            W2 += s[i].w * s[i].w;
            lt += s[i].x < xs[k] ? s[i].w : 0.0;
            le += s[i].x <= xs[k] ? s[i].w : 0.0;
        }
        double F = le / W, v = 0.0;
        for (int i = 0; i < n; i++) {
            double y = (s[i].x <= xs[k] ? 1.0 : 0.0) - F;
            v += s[i].w * s[i].w * y * y;
        }
        double se_direct = sqrt(v) / W * sqrt((double)n / (n - 1.0));
        double below, upto, se_below, se_upto;
        ipabs_wquantiles_cdf(&q, xs[k], &below, &upto, &se_below, &se_upto);
        cr_expect(fabs(below - lt / W) < 1e-12, "x %g: F(x-) %.15g vs %.15g", xs[k], below,
                  lt / W);
        cr_expect(fabs(upto - F) < 1e-12, "x %g: F(x) %.15g vs %.15g", xs[k], upto, F);
        cr_expect(fabs(se_upto - se_direct) <= 1e-9 * se_direct + 1e-15,
                  "x %g: se %.15g vs %.15g", xs[k], se_upto, se_direct);
        (void)W2;
    }
    ipabs_wquantiles_release(&q);
    free(s);
}

/* Expected shortfall v + sum w (x - v)^+ / (a W) (upper side; lower side
 * v - sum w (v - x)^+ / (a W), v the a-quantile) and its error
 * sqrt(sum w^2 (y - ybar)^2) / W / a x sqrt(n / (n - 1)), two-pass on the
 * sorted sample. */
static void es_direct(const wx *s, int n, double p, bool upper, double *es, double *se)
{
    double W = 0.0, a = 1.0 - p;
    for (int i = 0; i < n; i++)
        W += s[i].w;
    double v = direct_quantile(s, n, W, upper ? p : a), d = upper ? 1.0 : -1.0;
    double sy = 0.0;
    for (int i = 0; i < n; i++)
        sy += s[i].w * fmax(0.0, d * (s[i].x - v));
    double ybar = sy / W, q = 0.0;
    for (int i = 0; i < n; i++) {
        double y = fmax(0.0, d * (s[i].x - v)) - ybar;
        q += s[i].w * s[i].w * y * y;
    }
    *es = v + d * sy / (a * W);
    *se = sqrt(q) / W / a * sqrt((double)n / (n - 1.0));
}

Test(wquantiles, expected_shortfall_and_its_error_equal_two_pass_sums)
{
    int n = 6007;
    wx *s = lattice(n, 5);
    for (int side = 0; side < 2; side++) {
        bool upper = side == 0;
        ipabs_wquantiles q;
        fill(&q, s, n, 0.0, 1234.5 * 38, upper);
        wx *sorted = malloc((size_t)n * sizeof *sorted);
        memcpy(sorted, s, (size_t)n * sizeof *s);
        qsort(sorted, (size_t)n, sizeof *sorted, by_x);
        const double ps[] = {0.5, 0.9, 0.95, 0.99, 0.999};
        for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
            double es, se, es_d, se_d;
            es = ipabs_wquantiles_tail_mean(&q, ps[k], &se);
            es_direct(sorted, n, ps[k], upper, &es_d, &se_d);
            cr_expect(fabs(es - es_d) <= 1e-9 * fabs(es_d) + 1e-6,
                      "%s p %g: ES %.12g vs %.12g", upper ? "upper" : "lower", ps[k], es, es_d);
            cr_expect(fabs(se - se_d) <= 1e-8 * se_d + 1e-9,
                      "%s p %g: se %.12g vs %.12g", upper ? "upper" : "lower", ps[k], se, se_d);
        }
        free(sorted);
        ipabs_wquantiles_release(&q);
    }
    free(s);
}

/* With every weight 1 the weighted tracker is the plain one: the same
 * quantiles, and where (1 - p) n is a whole number the same expected
 * shortfall and error (the plain one averages the m = n - ceil(p n) worst
 * values, the weighted one the mass 1 - p; they coincide then). */
Test(wquantiles, unit_weights_give_the_plain_tracker)
{
    int n = 20000;
    unsigned long long seed = 99;
    ipabs_wquantiles w;
    ipabs_quantiles q;
    cr_assert(ipabs_wquantiles_init(&w, 0.0, 5e6, true));
    cr_assert(ipabs_quantiles_init(&q, 0.0, 5e6, true));
    ipabs_wquantiles_set_atom(&w, 0.0);
    ipabs_quantiles_set_atom(&q, 0.0);
    for (int i = 0; i < n; i++) {
        double x = lcg(&seed) < 0.7 ? 0.0 : 25000.0 * (1 + (int)(150.0 * lcg(&seed)));
        ipabs_wquantiles_add(&w, x, 1.0);
        ipabs_quantiles_add(&q, x);
    }
    const double ps[] = {0.5, 0.95, 0.99, 0.999};
    for (size_t k = 0; k < 4; k++) {
        ipabs_quantile_est a = ipabs_wquantiles_estimate(&w, ps[k]);
        ipabs_quantile_est b = ipabs_quantiles_estimate(&q, ps[k]);
        cr_expect_eq(a.value, b.value, "p %g: %.17g vs %.17g", ps[k], a.value, b.value);
        double sa, sb;
        double ea = ipabs_wquantiles_tail_mean(&w, ps[k], &sa);
        double eb = ipabs_quantiles_tail_mean(&q, ps[k], &sb);
        cr_expect(fabs(ea - eb) <= 1e-9 * eb, "p %g: ES %.12g vs %.12g", ps[k], ea, eb);
        cr_expect(fabs(sa - sb) <= 1e-6 * sb, "p %g: se %.12g vs %.12g", ps[k], sa, sb);
    }
    ipabs_wquantiles_release(&w);
    ipabs_quantiles_release(&q);
}

/* ---- importance sampling of a law with a closed form ----------------------- */

/* X is 0 with probability 0.9, else mu x Exp(1); its p-quantile (p > 0.9)
 * is v = mu ln(0.1 / (1 - p)) and ES_p = v + mu.  Drawn from a proposal
 * that loses with probability 0.5 and has an exponential of mean 1.6 mu,
 * each draw weighted by its likelihood ratio: 0.9 / 0.5 at zero, else
 * (0.1 / mu) e^{-x / mu} / ((0.5 / (1.6 mu)) e^{-x / (1.6 mu)}). */
static void draw_is(ipabs_wquantiles *q, int n, unsigned long long seed, double mu)
{
    const double pl = 0.5, k = 1.6;
    cr_assert(ipabs_wquantiles_init(q, 0.0, 60.0 * mu, true));
    ipabs_wquantiles_set_atom(q, 0.0);
    for (int i = 0; i < n; i++) {
        if (lcg(&seed) >= pl) {
            ipabs_wquantiles_add(q, 0.0, 0.9 / (1.0 - pl));
            continue;
        }
        double x = -k * mu * log(1.0 - lcg(&seed));
        double w = (0.1 / mu) * exp(-x / mu) / ((pl / (k * mu)) * exp(-x / (k * mu)));
        ipabs_wquantiles_add(q, x, w);
    }
}

/* Over R seeds: each reported ES error against the observed spread (as
 * tests/test_stats.c for plain paths: ln(se_i / spread) within 4 sqrt(1 /
 * (2 (R - 1)) + cv^2)), and the mean estimate within 4 standard errors of
 * the closed form. */
static void weighted_es_error_check(double p, int n, int R)
{
    double mu = 1e6, es_true = mu * log(0.1 / (1.0 - p)) + mu;
    double *est = malloc((size_t)R * sizeof *est), *se = malloc((size_t)R * sizeof *se);
    for (int r = 0; r < R; r++) {
        ipabs_wquantiles q;
        draw_is(&q, n, 4242 + 7919ULL * (unsigned long long)r, mu);
        est[r] = ipabs_wquantiles_tail_mean(&q, p, &se[r]);
        ipabs_wquantiles_release(&q);
    }
    char what[32];
    snprintf(what, sizeof what, "p %g", p);
    spread_check c = spread_expect(est, se, R, what);
    cr_log_info("weighted ES p %g: spread %g, mean reported error %g (ratio %.3f)", p,
                c.spread, c.mean_se, c.spread / c.mean_se);
    cr_expect(fabs(c.mean_est - es_true) <= 4.0 * c.spread / sqrt(R), "p %g: ES %g vs %g", p,
              c.mean_est, es_true);
    free(est);
    free(se);
}

Test(wquantiles, weighted_expected_shortfall_error_matches_the_spread, .timeout = 600)
{
    weighted_es_error_check(0.99, 50000, 40);
    weighted_es_error_check(0.999, 50000, 40);
}

/* The interval of the weighted 99% and 99.9% quantiles covers the true
 * value in about 95% of 200 independent runs: at most 22 misses (the
 * 99.9th percentile of Binomial(200, 0.05) is 21). */
Test(wquantiles, weighted_quantile_interval_covers_the_true_quantile, .timeout = 600)
{
    int R = 200, n = 20000, miss99 = 0, miss999 = 0;
    double mu = 1e6, q99 = mu * log(10.0), q999 = mu * log(100.0);
    for (int r = 0; r < R; r++) {
        ipabs_wquantiles q;
        draw_is(&q, n, 31 + 104729ULL * (unsigned long long)r, mu);
        ipabs_quantile_est a = ipabs_wquantiles_estimate(&q, 0.99);
        ipabs_quantile_est b = ipabs_wquantiles_estimate(&q, 0.999);
        miss99 += !(a.lower <= q99 && q99 <= a.upper);
        miss999 += !(b.lower <= q999 && q999 <= b.upper);
        ipabs_wquantiles_release(&q);
    }
    cr_log_info("weighted quantile intervals: %d and %d misses of %d", miss99, miss999, R);
    cr_expect_leq(miss99, 22, "99%%: %d misses of %d", miss99, R);
    cr_expect_leq(miss999, 22, "99.9%%: %d misses of %d", miss999, R);
}
