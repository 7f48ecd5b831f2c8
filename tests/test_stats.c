/*
 * test_stats.c — moments and quantile trackers against direct computation.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spread_util.h"
#include "ipabs/stats.h"

static double lcg(unsigned long long *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

Test(stats, chan_merge_equals_one_pass)
{
    ipabs_moments all = {0}, a = {0}, b = {0};
    unsigned long long s = 7;
    double sum = 0.0, sum2 = 0.0;
    int n = 10001;
    double *x = malloc(n * sizeof *x);
    for (int i = 0; i < n; i++) {
        x[i] = 1e7 + 2.385e4 * lcg(&s);
        sum += x[i];
    }
    double mean = sum / n;
    for (int i = 0; i < n; i++) {
        ipabs_moments_add(&all, x[i]);
        ipabs_moments_add(i < 3333 ? &a : &b, x[i]);
        sum2 += (x[i] - mean) * (x[i] - mean);
    }
    ipabs_moments_merge(&a, &b);
    cr_assert(fabs(a.mean - mean) < 1e-6);
    cr_assert(fabs(a.m2 - sum2) / sum2 < 1e-9);
    cr_assert(fabs(all.m2 - sum2) / sum2 < 1e-9);
    cr_assert(fabs(ipabs_moments_se(&a) - sqrt(sum2 / (n - 1) / n)) < 1e-9);
    free(x);
}

static int cmp(const void *p, const void *q)
{
    double a = *(const double *)p, b = *(const double *)q;
    return (a > b) - (a < b);
}

/* Order statistic k (1-based) of the sorted sample. */
static double order(const double *sorted, int k)
{
    return sorted[k - 1];
}

Test(stats, quantiles_exact_from_the_tail_and_split_merge)
{
    int n = 100000;
    double *x = malloc(n * sizeof *x);
    unsigned long long s = 11;
    ipabs_quantiles one, part[3];
    cr_assert(ipabs_quantiles_init(&one, 0.0, 1e6, true));
    for (int j = 0; j < 3; j++)
        cr_assert(ipabs_quantiles_init(&part[j], 0.0, 1e6, true));
    for (int i = 0; i < n; i++) {
        double u = lcg(&s);
        x[i] = u < 0.9 ? 0.0 : 1e6 * (u - 0.9) * 10.0 * lcg(&s);
        ipabs_quantiles_add(&one, x[i]);
        ipabs_quantiles_add(&part[i % 3], x[i]);
    }
    ipabs_quantiles_merge(&part[0], &part[1]);
    ipabs_quantiles_merge(&part[0], &part[2]);
    qsort(x, n, sizeof *x, cmp);
    /* 99% and 99.9%: ceil(p n)-th smallest, inside the kept tail. */
    bool exact;
    double q99 = ipabs_quantiles_value(&one, 0.99, NULL, &exact);
    cr_assert(exact);
    cr_assert_eq(q99, order(x, 99000));
    cr_assert_eq(ipabs_quantiles_value(&part[0], 0.99, NULL, NULL), q99);
    cr_assert_eq(ipabs_quantiles_value(&one, 0.999, NULL, NULL), order(x, 99900));
    /* Expected shortfall: mean of the 1,000 largest. */
    double es = 0.0;
    for (int i = n - 1000; i < n; i++)
        es += x[i];
    cr_assert(fabs(ipabs_quantiles_tail_mean(&one, 0.99, NULL) - es / 1000) < 1e-6);
    /* 50%: not in the tail, on the atom at zero (the smallest value of
     * its cell, with its exact count): exactly 0 (issue 12). */
    double q50 = ipabs_quantiles_value(&one, 0.5, NULL, &exact);
    cr_assert(exact);
    cr_assert_eq(q50, 0.0);
    cr_assert_eq(order(x, 50000), 0.0);
    ipabs_quantiles_release(&one);
    for (int j = 0; j < 3; j++)
        ipabs_quantiles_release(&part[j]);
    free(x);
}

Test(stats, lower_tail_and_histogram_accuracy)
{
    int n = 3 * IPABS_TAIL_SIZE;
    double *x = malloc(n * sizeof *x);
    unsigned long long s = 3;
    ipabs_quantiles q;
    cr_assert(ipabs_quantiles_init(&q, -1.0, 1.0, false));
    for (int i = 0; i < n; i++) {
        x[i] = 0.03 + 0.01 * (lcg(&s) - 0.5) - (lcg(&s) < 0.02 ? 0.5 * lcg(&s) : 0.0);
        ipabs_quantiles_add(&q, x[i]);
    }
    qsort(x, n, sizeof *x, cmp);
    bool exact;
    cr_assert_eq(ipabs_quantiles_value(&q, 0.01, NULL, &exact), order(x, (int)ceil(0.01 * n)));
    cr_assert(exact);
    /* The median is beyond the kept tail: histogram, within one bin. */
    double med = ipabs_quantiles_value(&q, 0.5, NULL, &exact);
    cr_assert(!exact);
    cr_assert(fabs(med - order(x, n / 2)) <= 2.0 / IPABS_HIST_BINS, "%g vs %g", med,
              order(x, n / 2));
    /* The mean of the lower half needs more values than are kept: from the
     * histogram, within a bin width (2 / 4,096). */
    double half = 0.0;
    for (int i = 0; i < n / 2; i++)
        half += x[i];
    double es = ipabs_quantiles_tail_mean(&q, 0.5, NULL);
    cr_assert(fabs(es - half / (n / 2)) <= 2.0 / IPABS_HIST_BINS, "%g vs %g", es,
              half / (n / 2));
    ipabs_quantiles_release(&q);
    free(x);
}

Test(stats, add_n_equals_repeated_adds)
{
    ipabs_quantiles a, b;
    cr_assert(ipabs_quantiles_init(&a, 0.0, 10.0, true));
    cr_assert(ipabs_quantiles_init(&b, 0.0, 10.0, true));
    unsigned long long s = 5;
    for (int round = 0; round < 40; round++) {
        double x = 10.0 * lcg(&s);
        uint64_t count = 1 + (uint64_t)(3000.0 * lcg(&s));
        for (uint64_t i = 0; i < count; i++)
            ipabs_quantiles_add(&a, x);
        ipabs_quantiles_add_n(&b, x, count);
    }
    cr_assert_eq(a.n, b.n);
    cr_assert_eq(memcmp(a.cells, b.cells, IPABS_QCELLS * sizeof *a.cells), 0);
    const double ps[] = {0.5, 0.9, 0.99, 0.999};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(ipabs_quantiles_value(&a, ps[i], NULL, NULL),
                     ipabs_quantiles_value(&b, ps[i], NULL, NULL));
    cr_assert_eq(ipabs_quantiles_tail_mean(&a, 0.99, NULL), ipabs_quantiles_tail_mean(&b, 0.99, NULL));
    ipabs_quantiles_release(&a);
    ipabs_quantiles_release(&b);
}

/* The engine counts an event path at the atom and adds the count once
 * with the no-event paths' (montecarlo.c feed_trackers): interleaved adds
 * and the atom's count added at the end give the same cells and the same
 * estimates; sealing the tail changes no estimate, on either side, with
 * the tail overflowing (30,000 values kept to 16,384). */
Test(stats, atom_counted_apart_and_sealed_tail_change_nothing)
{
    for (int side = 0; side < 2; side++) {
        bool upper = side == 0;
        ipabs_quantiles a, b;
        cr_assert(ipabs_quantiles_init(&a, 0.0, 10.0, upper));
        cr_assert(ipabs_quantiles_init(&b, 0.0, 10.0, upper));
        ipabs_quantiles_set_atom(&a, 2.5);
        ipabs_quantiles_set_atom(&b, 2.5);
        unsigned long long s = 11;
        uint64_t atoms = 0;
        for (int i = 0; i < 30000; i++) {
            double x = lcg(&s) < 0.4 ? 2.5 : 10.0 * lcg(&s);
            ipabs_quantiles_add(&a, x);
            if (x == 2.5)
                atoms++;
            else
                ipabs_quantiles_add(&b, x);
        }
        ipabs_quantiles_add_n(&b, 2.5, atoms);
        cr_assert_eq(a.n, b.n);
        cr_assert_eq(memcmp(a.cells, b.cells, IPABS_QCELLS * sizeof *a.cells), 0);
        const double ps[] = {0.0001, 0.01, 0.3, 0.5, 0.9, 0.99, 0.9999};
        double before[7], tm = ipabs_quantiles_tail_mean(&a, 0.99, NULL);
        for (int i = 0; i < 7; i++) {
            before[i] = ipabs_quantiles_value(&a, ps[i], NULL, NULL);
            cr_assert_eq(before[i], ipabs_quantiles_value(&b, ps[i], NULL, NULL));
        }
        ipabs_quantiles_seal(&a);
        for (int i = 1; i < a.tail_count; i++)
            cr_assert(upper ? a.tail[i - 1] <= a.tail[i] : a.tail[i - 1] >= a.tail[i]);
        for (int i = 0; i < 7; i++)
            cr_assert_eq(before[i], ipabs_quantiles_value(&a, ps[i], NULL, NULL));
        cr_assert_eq(tm, ipabs_quantiles_tail_mean(&a, 0.99, NULL));
        /* Still a heap: a value added after the seal is kept correctly. */
        ipabs_quantiles_add(&a, upper ? 9.99999 : 1e-6);
        ipabs_quantiles_add(&b, upper ? 9.99999 : 1e-6);
        for (int i = 0; i < 7; i++)
            cr_assert_eq(ipabs_quantiles_value(&a, ps[i], NULL, NULL),
                         ipabs_quantiles_value(&b, ps[i], NULL, NULL));
        ipabs_quantiles_release(&a);
        ipabs_quantiles_release(&b);
    }
}

/* The kept tail is compacted (the 2 K values cut back to the K most
 * extreme) many times over 400,000 values drawn on a coarse lattice (runs
 * of ties across the cut), rising so that most values enter: every order
 * statistic inside the tail, on either side, is the one a full sort gives,
 * before and after the seal, and a tracker fed in three parts and merged
 * agrees. */
Test(stats, compacted_tail_keeps_exactly_the_most_extreme)
{
    int n = 400000, K = IPABS_TAIL_SIZE;
    double *x = malloc(n * sizeof *x);
    cr_assert_not_null(x);
    for (int side = 0; side < 2; side++) {
        bool upper = side == 0;
        ipabs_quantiles one, part[3];
        cr_assert(ipabs_quantiles_init(&one, 0.0, 1e4, upper));
        for (int j = 0; j < 3; j++)
            cr_assert(ipabs_quantiles_init(&part[j], 0.0, 1e4, upper));
        unsigned long long s = 97;
        for (int i = 0; i < n; i++) {
            /* A drift towards the kept side, so the root keeps moving. */
            double drift = upper ? 5000.0 * i / n : 5000.0 * (n - i) / n;
            x[i] = floor(drift + 5000.0 * lcg(&s)) / 4.0;
            ipabs_quantiles_add(&one, x[i]);
            ipabs_quantiles_add(&part[i % 3], x[i]);
        }
        ipabs_quantiles_merge(&part[0], &part[1]);
        ipabs_quantiles_merge(&part[0], &part[2]);
        qsort(x, n, sizeof *x, cmp);
        for (int pass = 0; pass < 2; pass++) {
            for (int r = 1; r <= K; r += 97) {
                /* The r-th most extreme is the k-th smallest. */
                int k = upper ? n - r + 1 : r;
                double p = ((double)k - 0.5) / n;
                cr_assert_eq(ipabs_quantiles_value(&one, p, NULL, NULL), order(x, k),
                             "side %d pass %d rank %d", side, pass, r);
                cr_assert_eq(ipabs_quantiles_value(&part[0], p, NULL, NULL), order(x, k));
            }
            ipabs_quantiles_seal(&one);
            ipabs_quantiles_seal(&part[0]);
            cr_assert_eq(one.tail_count, K);
        }
        ipabs_quantiles_release(&one);
        for (int j = 0; j < 3; j++)
            ipabs_quantiles_release(&part[j]);
    }
    free(x);
}

/* Issue 12, finding 2: one bucket rule for run and exact.  Values on an
 * edge (whose floating-point quotient lands just above it: 7 / 100 x 100 is
 * 7.000000000000001, 5.04e6 / 7.2e7 x 100 likewise) belong to the bucket
 * below; a value beyond the tolerance (1e-9 x total) to the bucket above. */
Test(stats, grid_bucket_puts_edges_in_the_bucket_below)
{
    cr_expect_gt(7.0 / 100.0 * 100.0, 7.0, "the floating-point trap this guards against");
    cr_expect_eq(ipabs_grid_bucket(7.0, 100.0, 100), 6);
    cr_expect_eq(ipabs_grid_bucket(14.0, 100.0, 100), 13);
    cr_expect_eq(ipabs_grid_bucket(5.04e6, 7.2e7, 100), 6);
    cr_expect_eq(ipabs_grid_bucket(3 * 5.04e6, 7.2e7, 100), 20);
    cr_expect_eq(ipabs_grid_bucket(7.0 + 1e-6, 100.0, 100), 7);
    cr_expect_eq(ipabs_grid_bucket(6.99, 100.0, 100), 6);
    cr_expect_eq(ipabs_grid_bucket(0.0, 100.0, 100), -1);
    cr_expect_eq(ipabs_grid_bucket(5e-8, 100.0, 100), -1);
    cr_expect_eq(ipabs_grid_bucket(2e-7, 100.0, 100), 0);
    cr_expect_eq(ipabs_grid_bucket(100.0, 100.0, 100), 99);
    cr_expect_eq(ipabs_grid_bucket(150.0, 100.0, 100), 99);
    /* Every edge k w of a grid of 72M in 100 buckets, and every multiple
     * of 0.72M computed as a sum, lands in bucket k - 1. */
    for (int k = 1; k <= 100; k++) {
        double sum = 0.0;
        for (int i = 0; i < k; i++)
            sum += 720000.0;
        cr_expect_eq(ipabs_grid_bucket(sum, 7.2e7, 100), k - 1, "edge %d", k);
        cr_expect_eq(ipabs_grid_bucket(k * (7.2e7 / 100), 7.2e7, 100), k - 1, "edge %d", k);
    }
}

/* ---- issue 12: atoms, monotone quantiles, intervals, ES errors ------------- */

/* Issue 12, finding 1, with its numbers: a senior class of 68.4M of which
 * 0.234% of paths lose (losses spread over (0, 68.4M]).  At 1M and 2M
 * paths the 95% and 99% quantiles are the atom 0 exactly, with the
 * interval [0, 0]; the 99.9% quantile is the exact order statistic (the
 * old tracker answered 15,901 ± 3.6, then 16,571 ± 1.2 at 2M: worse with
 * more paths). */
Test(stats, quantile_on_the_atom_at_zero_is_zero)
{
    static const long paths[] = {1000000, 2000000};
    for (int c = 0; c < 2; c++) {
        long n = paths[c];
        unsigned long long s = 2026;
        ipabs_quantiles q;
        cr_assert(ipabs_quantiles_init(&q, 0.0, 68.4e6, true));
        ipabs_quantiles_set_atom(&q, 0.0);
        double *loss = malloc((size_t)n / 100 * sizeof *loss);
        long losers = 0, zeros = 0;
        for (long i = 0; i < n; i++) {
            if (lcg(&s) < 0.00234) {
                loss[losers] = 68.4e6 * lcg(&s) * lcg(&s) + 1.0;
                ipabs_quantiles_add(&q, loss[losers++]);
            } else if (++zeros == 4096) { /* zeros in bulk, as fast paths are */
                ipabs_quantiles_add_n(&q, 0.0, (uint64_t)zeros);
                zeros = 0;
            }
        }
        ipabs_quantiles_add_n(&q, 0.0, (uint64_t)zeros);
        cr_assert_eq(q.n, (uint64_t)n);
        qsort(loss, (size_t)losers, sizeof *loss, cmp);
        for (int k = 0; k < 2; k++) {
            double p = k == 0 ? 0.95 : 0.99;
            ipabs_quantile_est e = ipabs_quantiles_estimate(&q, p);
            cr_expect(e.exact && e.value == 0.0 && e.lower == 0.0 && e.upper == 0.0 &&
                      e.se == 0.0, "n %ld p %g: %g [%g, %g]", n, p, e.value, e.lower, e.upper);
        }
        /* 99.9%: the ceil(0.999 n)-th smallest, i.e. the (n - that + 1)-th
         * largest loss. */
        long r = n - (long)ceil(0.999 * (double)n) + 1;
        ipabs_quantile_est e = ipabs_quantiles_estimate(&q, 0.999);
        cr_expect(e.exact && e.value == loss[losers - r], "n %ld: %.17g vs %.17g", n,
                  e.value, loss[losers - r]);
        cr_expect(e.lower < e.value && e.value < e.upper);
        ipabs_quantiles_release(&q);
        free(loss);
    }
}

/* A lattice law (the pool loss of a homogeneous pool: multiples of 4.55M)
 * beyond the kept tail: every quantile is the exact order statistic, since
 * a cell holds at most two distinct values, each with its exact count. */
Test(stats, lattice_quantiles_are_exact_beyond_the_tail)
{
    int n = 400000;
    double *x = malloc(n * sizeof *x);
    unsigned long long s = 99;
    ipabs_quantiles q;
    cr_assert(ipabs_quantiles_init(&q, 0.0, 72e6, true));
    ipabs_quantiles_set_atom(&q, 0.0);
    for (int i = 0; i < n; i++) {
        double u = lcg(&s);
        int k = u < 0.55 ? 0 : (int)(-2.0 * log(lcg(&s))) + 1;
        x[i] = 4.55e6 * (k > 15 ? 15 : k);
        ipabs_quantiles_add(&q, x[i]);
    }
    qsort(x, n, sizeof *x, cmp);
    for (double p = 0.01; p < 0.9995; p += 0.0123) {
        bool exact;
        double v = ipabs_quantiles_value(&q, p, NULL, &exact);
        int k = (int)ceil(p * n - 1e-9);
        cr_expect(exact && v == order(x, k), "p %g: %.17g vs %.17g", p, v, order(x, k));
    }
    ipabs_quantiles_release(&q);
    free(x);
}

/* A continuous part, a lattice and an atom together (a lower-tail yield:
 * the promised 3% on most paths, a few lower), more paths than are kept:
 * quantiles are monotone in the level, within a bin of the order
 * statistic, and their interval holds it. */
Test(stats, quantiles_are_monotone_and_bracketed)
{
    int n = 300000;
    double *x = malloc(n * sizeof *x);
    unsigned long long s = 5;
    ipabs_quantiles q;
    cr_assert(ipabs_quantiles_init(&q, -1.0, 1.0, false));
    ipabs_quantiles_set_atom(&q, 0.03);
    for (int i = 0; i < n; i++) {
        double u = lcg(&s);
        x[i] = u < 0.6 ? 0.03 : (u < 0.7 ? 0.03 - 0.001 * (int)(10 * lcg(&s))
                                         : 0.03 - 0.2 * lcg(&s) * lcg(&s));
        ipabs_quantiles_add(&q, x[i]);
    }
    qsort(x, n, sizeof *x, cmp);
    double prev = -INFINITY;
    for (double p = 0.001; p < 1.0; p += 0.001) {
        ipabs_quantile_est e = ipabs_quantiles_estimate(&q, p);
        double o = order(x, (int)ceil(p * n - 1e-9));
        cr_expect(e.value >= prev, "p %g: %.17g after %.17g", p, e.value, prev);
        cr_expect(fabs(e.value - o) <= 2.0 / IPABS_HIST_BINS, "p %g: %g vs %g", p, e.value, o);
        cr_expect(e.lower <= o && o <= e.upper, "p %g: %g not in [%g, %g]", p, o, e.lower,
                  e.upper);
        if (p >= 0.41) /* 40% of the values lie below the atom */
            cr_expect(e.exact && e.value == 0.03, "p %g: on the atom, %.17g", p, e.value);
        prev = e.value;
    }
    ipabs_quantiles_release(&q);
    free(x);
}

/* The order-statistic interval covers the true quantile with probability
 * at least 95%, also where the order statistics come from the histogram
 * (the median of 40,000 values: rank 20,000 from the top, beyond the
 * 16,384 kept).  Over R = 200 seeds the number of misses is binomial with
 * mean at most 10 and standard deviation sqrt(200 x 0.05 x 0.95) = 3.1:
 * more than 10 + 4 x 3.1 = 22 misses fails. */
Test(stats, quantile_interval_covers_the_true_quantile)
{
    int R = 200, n = 40000, miss50 = 0, miss99 = 0;
    double q50 = log(2.0), q99 = log(100.0); /* of Exp(1) */
    for (int r = 0; r < R; r++) {
        unsigned long long s = 1000 + (unsigned long long)r;
        ipabs_quantiles q;
        cr_assert(ipabs_quantiles_init(&q, 0.0, 20.0, true));
        for (int i = 0; i < n; i++)
            ipabs_quantiles_add(&q, -log(1.0 - lcg(&s)));
        ipabs_quantile_est a = ipabs_quantiles_estimate(&q, 0.5);
        ipabs_quantile_est b = ipabs_quantiles_estimate(&q, 0.99);
        miss50 += !(a.lower <= q50 && q50 <= a.upper);
        miss99 += !(b.lower <= q99 && q99 <= b.upper);
        ipabs_quantiles_release(&q);
    }
    cr_expect_leq(miss50, 22, "median: %d misses of %d", miss50, R);
    cr_expect_leq(miss99, 22, "99%%: %d misses of %d", miss99, R);
}

/* Issue 12, finding 3: the standard error of expected shortfall.  X is 0
 * with probability 0.9, else mu x Exp(1), so that beyond the p-quantile
 * v = mu ln(0.1 / (1 - p)) the excess (X - v)^+ is Exp(mu) with
 * probability 1 - p: ES_p = v + mu, and the asymptotic standard error is
 * sqrt(Var((X - v)^+) / n) / (1 - p), Var = (1-p) 2 mu^2 - (1-p)^2 mu^2.
 * Over R independent seeds, each reported error is compared with the
 * observed spread s of the estimates: ln(se_i / s) has a standard deviation
 * of about sqrt(1 / (2 (R - 1)) + cv^2) (the sampling error of a standard
 * deviation from R normal estimates, and the spread cv of the reported
 * errors themselves); each must be within 4 of those.  The mean of the
 * estimates must be within 4 standard errors of ES_p and the mean reported
 * error within 4 of its own standard errors (plus 1% for the O(1/m) bias)
 * of the closed form.  Run at 99% with the m = 1,000 worst values in the
 * kept tail, and at 95% with m = 20,000, beyond it (from the cells' sums). */
static void es_error_check(double p, int n, int R)
{
    double mu = 1e6, v = mu * log(0.1 / (1.0 - p));
    double es_true = v + mu;
    double var_y = (1.0 - p) * 2.0 * mu * mu - (1.0 - p) * (1.0 - p) * mu * mu;
    double se_true = sqrt(var_y / n) / (1.0 - p);
    double *est = malloc((size_t)R * sizeof *est), *se = malloc((size_t)R * sizeof *se);
    for (int r = 0; r < R; r++) {
        unsigned long long s = 77 + 1000003ULL * (unsigned long long)r;
        ipabs_quantiles q;
        cr_assert(ipabs_quantiles_init(&q, 0.0, 40.0 * mu, true));
        ipabs_quantiles_set_atom(&q, 0.0);
        for (int i = 0; i < n; i++)
            ipabs_quantiles_add(&q, lcg(&s) < 0.9 ? 0.0 : -mu * log(1.0 - lcg(&s)));
        est[r] = ipabs_quantiles_tail_mean(&q, p, &se[r]);
        ipabs_quantiles_release(&q);
    }
    char what[32];
    snprintf(what, sizeof what, "p %g", p);
    spread_check c = spread_expect(est, se, R, what);
    cr_expect(fabs(c.mean_est - es_true) <= 4.0 * c.spread / sqrt(R), "p %g: ES %g vs %g", p,
              c.mean_est, es_true);
    cr_expect(fabs(c.mean_se - se_true) <= 4.0 * sqrt(c.var_se / R) + 0.01 * se_true,
              "p %g: mean error %g vs %g", p, c.mean_se, se_true);
    free(est);
    free(se);
}

Test(stats, expected_shortfall_error_matches_the_spread_in_the_tail, .timeout = 600)
{
    es_error_check(0.99, 100000, 100);
}

Test(stats, expected_shortfall_error_matches_the_spread_beyond_the_tail, .timeout = 600)
{
    es_error_check(0.95, 400000, 40);
}
