/*
 * test_stream.c — known answers for the random streams.
 *
 * Philox4x32-10 with counter 0 and key 0 is 6627e8d5 e169c58d bc57ac4c
 * 9b00dbd8 (Random123's published known-answer vectors).  The stream of
 * (seed, path) must be exactly Philox of the counter (path, block, tag)
 * under the key seed, words taken from the last to the first.
 */
#include <Random123/philox.h>
#include <criterion/criterion.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sort.h>
#include <math.h>
#include <string.h>

#include "ipabs/model.h"

Test(stream, philox_known_answer)
{
    philox4x32_ctr_t c = {{0, 0, 0, 0}};
    philox4x32_key_t k = {{0, 0}};
    philox4x32_ctr_t r = philox4x32(c, k);
    cr_assert_eq(r.v[0], 0x6627e8d5u);
    cr_assert_eq(r.v[1], 0xe169c58du);
    cr_assert_eq(r.v[2], 0xbc57ac4cu);
    cr_assert_eq(r.v[3], 0x9b00dbd8u);
}

Test(stream, words_are_philox_of_seed_and_path)
{
    gsl_rng *rng = ipabs_stream_alloc();
    uint64_t seed = 0x0123456789abcdefULL, path = 0x0000000500000007ULL;
    ipabs_stream_seek(rng, seed, path);
    philox4x32_key_t key = {{0x89abcdefu, 0x01234567u}};
    for (uint32_t block = 0; block < 3; block++) {
        philox4x32_ctr_t ctr = {{7u, 5u, block, 0x69706162u}};
        philox4x32_ctr_t want = philox4x32(ctr, key);
        for (int w = 3; w >= 0; w--)
            cr_assert_eq(gsl_rng_get(rng), want.v[w], "block %u word %d", block, w);
    }
    gsl_rng_free(rng);
}

Test(stream, paths_are_independent_of_history)
{
    gsl_rng *a = ipabs_stream_alloc(), *b = ipabs_stream_alloc();
    ipabs_stream_seek(a, 42, 1000);
    double x = gsl_ran_gaussian_ziggurat(a, 1.0);
    ipabs_stream_seek(b, 42, 999);
    for (int i = 0; i < 37; i++)
        (void)gsl_rng_get(b); /* another path's draws, whatever their number */
    ipabs_stream_seek(b, 42, 1000);
    cr_assert_eq(gsl_ran_gaussian_ziggurat(b, 1.0), x);
    gsl_rng_free(a);
    gsl_rng_free(b);
}

Test(stream, uniform_is_strictly_inside_the_unit_interval)
{
    gsl_rng *r = ipabs_stream_alloc();
    ipabs_stream_seek(r, 1, 2);
    double lo = 1.0, hi = 0.0, sum = 0.0;
    int n = 200000;
    for (int i = 0; i < n; i++) {
        double u = ipabs_stream_uniform(r);
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
        sum += u;
    }
    cr_assert(lo > 0.0 && hi < 1.0);
    /* Mean 1/2, standard error sqrt(1/12/n) = 6.45e-4: within 4 SE. */
    cr_assert(fabs(sum / n - 0.5) < 4.0 * sqrt(1.0 / 12.0 / n));
    gsl_rng_free(r);
}

/* The latent normals of a run (ipabs_stream_latent_normal, eight per path
 * over 250,000 paths): moments and tail frequencies within 4 standard
 * errors of the normal law's, over 2,000,000 draws. */
Test(stream, latent_normals_have_the_normal_law)
{
    const int n = 2000000;
    const double cuts[] = {-3.7, -2.5, -1.3, -0.4, 0.0, 0.7, 1.9, 3.1};
    const int ncut = sizeof cuts / sizeof cuts[0];
    long below[8] = {0};
    double s1 = 0.0, s2 = 0.0, s4 = 0.0;
    for (int i = 0; i < n; i++) {
        double x = ipabs_stream_latent_normal(2385, (uint64_t)(i / 8), (uint32_t)(i % 8));
        s1 += x;
        s2 += x * x;
        s4 += x * x * x * x;
        for (int c = 0; c < ncut; c++)
            below[c] += x < cuts[c];
    }
    cr_assert(fabs(s1 / n) < 4.0 / sqrt(n), "mean %g", s1 / n);
    cr_assert(fabs(s2 / n - 1.0) < 4.0 * sqrt(2.0 / n), "variance %g", s2 / n);
    cr_assert(fabs(s4 / n - 3.0) < 4.0 * sqrt(96.0 / n), "fourth moment %g", s4 / n);
    for (int c = 0; c < ncut; c++) {
        double p = gsl_cdf_ugaussian_P(cuts[c]), got = (double)below[c] / n;
        cr_assert(fabs(got - p) < 4.0 * sqrt(p * (1.0 - p) / n),
                  "P(X < %g): %.6f vs %.6f", cuts[c], got, p);
    }
}

/* The mapping from streams to normals, pinned: normal j of path p is
 * ipabs_stream_normal of word j % 4 (in Random123's order) of Philox of the
 * counter (p, j / 4, "ipab") under the seed. */
Test(stream, latent_normals_are_philox_words_in_order)
{
    uint64_t seed = 0x0123456789abcdefULL, path = 0x0000000500000007ULL;
    philox4x32_key_t key = {{0x89abcdefu, 0x01234567u}};
    for (uint32_t j = 0; j < 12; j++) {
        philox4x32_ctr_t ctr = {{7u, 5u, j / 4, 0x69706162u}};
        philox4x32_ctr_t want = philox4x32(ctr, key);
        double got = ipabs_stream_latent_normal(seed, path, j);
        double expect = ipabs_stream_normal(want.v[j % 4]);
        cr_assert(memcmp(&got, &expect, sizeof got) == 0, "normal %u", j);
    }
}

/* A word w is the uniform (w + 1/2) 2^-32 and its normal the inverse CDF
 * of it: checked through the CDF (GSL's, computed from erfc, not from
 * AS 241), relative to the smaller tail so that the extremes count. */
Test(stream, normal_of_a_word_inverts_the_normal_cdf)
{
    const uint32_t words[] = {0u, 1u, 2u, 977u, 0x0123abcdu, 0x13333333u,
                              0x7fffffffu, 0x80000000u, 0x9e3779b9u, 0xecccccccu,
                              0xfffffc18u, 0xfffffffeu, 0xffffffffu};
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++) {
        double u = ((double)words[k] + 0.5) / 4294967296.0;
        double z = ipabs_stream_normal(words[k]);
        double tail = u < 0.5 ? gsl_cdf_ugaussian_P(z) : gsl_cdf_ugaussian_Q(z);
        double want = u < 0.5 ? u : 1.0 - u;
        cr_assert(fabs(tail - want) <= 1e-13 * want, "word %#x: z %.17g, tail %.17g vs %.17g",
                  words[k], z, tail, want);
    }
    /* Symmetry: the words w and ~w give opposite normals. */
    for (uint32_t w = 12345u; w < 0x80000000u; w += 0x01234567u)
        cr_assert_eq(ipabs_stream_normal(w), -ipabs_stream_normal(~w), "word %#x", w);
}

/* The mapping's bits, pinned: a change to the normal's arithmetic (its
 * order of operations, its log) changes these even where it stays within
 * the accuracy checked above, and with it every sampled path. */
Test(stream, normal_bits_are_pinned)
{
    cr_assert_eq(ipabs_stream_normal(0u), -0x1.95a1198fcf3d5p+2);
    cr_assert_eq(ipabs_stream_normal(0x0123abcdu), -0x1.4ed38167cc3ebp+1);
    cr_assert_eq(ipabs_stream_normal(0x80000000u), 0x1.40d931ff62707p-32);
    cr_assert_eq(ipabs_stream_normal(0x9e3779b9u), 0x1.338773022fd7p-2);
    cr_assert_eq(ipabs_stream_latent_normal(20261127u, 12345u, 7u), -0x1.6b214bd7cb203p-4);
}

/* ---- the Student-t mixing ---------------------------------------------------- */

/* The mixing's chi-square, written again from its definition with other
 * parts: Random123's Philox, GSL's inverse normal CDF, libm's log and pow.
 * chi2_nu = 2 Gamma(nu/2); Gamma(a) by Marsaglia and Tsang's method on the
 * mixing words (kind "ipmx"): attempt k takes the normal of word 2k and the
 * uniform of word 2k + 1 of blocks 0, 1, ... (words in Random123's order);
 * a < 1 draws Gamma(a + 1) and multiplies by u^(1/a), u word 0 of block
 * 0xffffffff.  Returns the attempts used. */
static double word_uniform(uint32_t w)
{
    return (w + 0.5) / 4294967296.0;
}

static int chisq_by_definition(uint64_t seed, uint64_t path, double nu, double *chi2)
{
    philox4x32_key_t key = {{(uint32_t)seed, (uint32_t)(seed >> 32)}};
    double a = nu / 2.0, shape = a < 1.0 ? a + 1.0 : a;
    double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d), g = NAN;
    int k = 0;
    for (uint32_t block = 0; isnan(g); block++) {
        philox4x32_ctr_t ctr = {{(uint32_t)path, (uint32_t)(path >> 32), block, 0x69706d78u}};
        philox4x32_ctr_t w = philox4x32(ctr, key);
        for (int h = 0; h < 2 && isnan(g); h++, k++) {
            double x = gsl_cdf_ugaussian_Pinv(word_uniform(w.v[2 * h]));
            double u = word_uniform(w.v[2 * h + 1]);
            double v = 1.0 + c * x;
            if (v <= 0.0)
                continue;
            v = v * v * v;
            if (log(u) < 0.5 * x * x + d * (1.0 - v + log(v)))
                g = d * v;
        }
    }
    if (a < 1.0) {
        philox4x32_ctr_t ctr = {{(uint32_t)path, (uint32_t)(path >> 32), 0xffffffffu,
                                 0x69706d78u}};
        g *= pow(word_uniform(philox4x32(ctr, key).v[0]), 1.0 / a);
    }
    *chi2 = 2.0 * g;
    return k;
}

/* The mapping, pinned: the engine's mixing sqrt(nu / chi2) equals the one
 * built above to 1e-12 (the two normals and logs differ in the last bits;
 * the squeeze u < 1 - 0.0331 x^4 the engine tests first accepts only
 * where the log test would), for nu with a shape below 1, at 2 and above;
 * paths whose first attempt is rejected are among them. */
Test(stream, student_mixing_is_marsaglia_tsang_on_the_mixing_words)
{
    const double nus[] = {1.5, 4.0, 10.0};
    const uint64_t seed = 0x0123456789abcdefULL;
    int retried = 0;
    for (int n = 0; n < 3; n++)
        for (uint64_t path = 0; path < 3000; path++) {
            double chi2;
            retried += chisq_by_definition(seed, path * 0x100000001ULL, nus[n], &chi2) > 1;
            double want = sqrt(nus[n] / chi2);
            double got = ipabs_copula_student_t.mixing(seed, path * 0x100000001ULL, nus[n]);
            cr_assert(fabs(got - want) <= 1e-12 * want, "nu %g path %llu: %.17g, want %.17g",
                      nus[n], (unsigned long long)path, got, want);
        }
    cr_assert_gt(retried, 20, "paths with a rejected first attempt: %d", retried);
}

/* The law: chi2 = nu / mixing^2 over 50,000 paths for each nu, against
 * GSL's chi-square CDF by Kolmogorov-Smirnov: sqrt(n) D below 1.95, the
 * 0.1% critical value (five fixed-seed tests). */
Test(stream, student_mixing_has_the_chi_square_law)
{
    const double nus[] = {1.0, 3.0, 4.0, 10.0, 30.0};
    const int n = 50000;
    static double x[50000];
    for (int k = 0; k < 5; k++) {
        for (int i = 0; i < n; i++) {
            double m = ipabs_copula_student_t.mixing(20261201, (uint64_t)i, nus[k]);
            x[i] = nus[k] / (m * m);
        }
        gsl_sort(x, 1, (size_t)n);
        double dmax = 0.0;
        for (int i = 0; i < n; i++) {
            double f = gsl_cdf_chisq_P(x[i], nus[k]);
            dmax = fmax(dmax, fmax(f - (double)i / n, (double)(i + 1) / n - f));
        }
        cr_assert_lt(sqrt((double)n) * dmax, 1.95, "nu %g: sqrt(n) D = %.3f", nus[k],
                     sqrt((double)n) * dmax);
    }
}
