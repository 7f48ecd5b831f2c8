/*
 * test_montecarlo.c — the Monte Carlo engine against exact answers, with
 * tolerances of four standard errors and fixed seeds; determinism across
 * thread counts; replay; interruption.
 */
#include <criterion/criterion.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "ipabs/montecarlo.h"
#include "ipabs/scenario.h"

static void setup(void)
{
    ipabs_init();
}

static ipabs_mc_result *simulate(const ipabs_deal *d, long long paths, uint64_t seed,
                                 int threads)
{
    ipabs_mc_options opt = {paths, seed, threads, NULL, NULL, NULL, 0};
    ipabs_mc_result *r = NULL;
    ipabs_error err = {0};
    ipabs_status s = ipabs_mc_run(d, &opt, &r, &err);
    cr_assert_eq(s, IPABS_OK, "%s", err.message);
    return r;
}

static double mean_of(const ipabs_mc_result *r, int index, double *se)
{
    *se = ipabs_moments_se(&r->moments[index]);
    return r->moments[index].mean;
}

/* A pool of bullet loans, no fees, one senior tranche equal to the pool. */
static ipabs_deal *bullet_pool(int n, int term, const double *pd, const double *principal,
                               double loading)
{
    ipabs_deal *d = fx_deal(term + 2, n, 1, 0);
    double pool = 0.0;
    char id[16];
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "L%04d", i);
        fx_loan(d, i, id, principal[i], 0.05, term, IPABS_LOAN_BULLET, 0.01, pd[i]);
        d->loans[i].factor_loading = loading;
        pool += principal[i];
    }
    fx_tranche(d, 0, "senior", IPABS_CLASS_SENIOR, pool, 0.03, IPABS_TRANCHE_PASS_THROUGH,
               term + 2);
    d->guarantor.pd_annual = 0.0;
    return d;
}

/* ---- zero correlation: the Poisson-binomial law -------------------------- */

Test(montecarlo, zero_correlation_matches_poisson_binomial, .init = setup)
{
    enum { N = 8 };
    const double pd[N] = {0.0237, 0.051, 0.0125, 0.083, 0.034, 0.0661, 0.019, 0.044};
    const double principal[N] = {1234567, 2345678, 987654, 3456789,
                                 1111111, 2222222, 765432, 1987654};
    ipabs_deal *d = bullet_pool(N, 8, pd, principal, 0.0);
    ipabs_error err;
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK);
    /* Exact law by enumeration of the 2^8 default sets. */
    double p[N], law[N + 1] = {0};
    for (int i = 0; i < N; i++)
        p[i] = 1.0 - pow(1.0 - pd[i], 8.0 / 4.0);
    for (unsigned set = 0; set < (1u << N); set++) {
        double prob = 1.0;
        int k = 0;
        for (int i = 0; i < N; i++) {
            bool in = set >> i & 1u;
            prob *= in ? p[i] : 1.0 - p[i];
            k += in;
        }
        law[k] += prob;
    }
    long long paths = 200000;
    ipabs_mc_result *r = simulate(d, paths, 20261127, 2);
    for (int k = 0; k <= N; k++) {
        double got = (double)r->default_count[k] / paths;
        double se = sqrt(law[k] * (1.0 - law[k]) / paths);
        cr_assert(fabs(got - law[k]) <= 4.0 * se + 1e-12,
                  "P(N=%d): MC %.6f, exact %.6f, se %.2e", k, got, law[k], se);
    }
    double mean_se, expected = 0.0;
    for (int i = 0; i < N; i++)
        expected += p[i];
    double mc = mean_of(r, r->layout.pool0 + IPABS_PM_DEFAULTS, &mean_se);
    cr_assert(fabs(mc - expected) <= 4.0 * mean_se, "E[N]: %f vs %f", mc, expected);
    ipabs_mc_result_free(r);
    ipabs_deal_free(d);
}

/* ---- a large homogeneous pool: exact finite pool and the Vasicek limit ---- */

typedef struct pool_params {
    int n, k;
    double threshold, a;
} pool_params;

static double conditional_pd(const pool_params *q, double z)
{
    return gsl_cdf_ugaussian_P((q->threshold - q->a * z) / sqrt(1.0 - q->a * q->a));
}

static double finite_cdf_integrand(double z, void *v)
{
    const pool_params *q = v;
    return gsl_cdf_binomial_P((unsigned)q->k, conditional_pd(q, z), (unsigned)q->n) *
           gsl_ran_ugaussian_pdf(z);
}

/* |P(N <= k | z) - 1{p(z) <= k/n}|: integrates to a bound on the distance
 * between the finite pool's CDF and the Vasicek limit at x = k/n. */
static double limit_gap_integrand(double z, void *v)
{
    const pool_params *q = v;
    double p = conditional_pd(q, z);
    double limit = p <= (double)q->k / q->n ? 1.0 : 0.0;
    return fabs(gsl_cdf_binomial_P((unsigned)q->k, p, (unsigned)q->n) - limit) *
           gsl_ran_ugaussian_pdf(z);
}

static double integrate(double (*f)(double, void *), pool_params *q)
{
    gsl_integration_workspace *w = gsl_integration_workspace_alloc(2000);
    gsl_function fn = {f, q};
    double result, abserr;
    cr_assert_eq(gsl_integration_qagi(&fn, 1e-12, 1e-9, 2000, w, &result, &abserr), GSL_SUCCESS);
    gsl_integration_workspace_free(w);
    return result;
}

Test(montecarlo, large_pool_matches_finite_law_and_vasicek_limit, .init = setup)
{
    enum { N = 1000 };
    static double pd[N], principal[N];
    double rho = 0.2, annual = 0.02;
    for (int i = 0; i < N; i++) {
        pd[i] = annual;
        principal[i] = 100000.0;
    }
    ipabs_deal *d = bullet_pool(N, 4, pd, principal, sqrt(rho));
    ipabs_error err;
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK);
    long long paths = 20000;
    ipabs_mc_result *r = simulate(d, paths, 7, 2);
    pool_params q = {N, 0, gsl_cdf_ugaussian_Pinv(annual), sqrt(rho)};
    const int ks[] = {5, 10, 20, 40, 80, 160};
    uint64_t cum = 0;
    int next = 0;
    for (int k = 0; k <= ks[5]; k++) {
        cum += r->default_count[k];
        if (k != ks[next])
            continue;
        next++;
        q.k = k;
        double mc = (double)cum / paths;
        double exact = integrate(finite_cdf_integrand, &q);
        double se = sqrt(exact * (1.0 - exact) / paths);
        cr_assert(fabs(mc - exact) <= 4.0 * se, "P(N<=%d): MC %.5f exact %.5f se %.1e",
                  k, mc, exact, se);
        double x = (double)k / N;
        double vasicek = gsl_cdf_ugaussian_P(
            (sqrt(1.0 - rho) * gsl_cdf_ugaussian_Pinv(x) - q.threshold) / sqrt(rho));
        double gap = integrate(limit_gap_integrand, &q);
        cr_assert(fabs(mc - vasicek) <= 4.0 * se + gap,
                  "x=%.3f: MC %.5f Vasicek %.5f (se %.1e, finite-pool gap %.4f)", x, mc,
                  vasicek, se, gap);
    }
    ipabs_mc_result_free(r);
    ipabs_deal_free(d);
}

/* ---- the guarantor-wrapped senior ------------------------------------------ */

/* One bullet loan with nothing to recover, a senior equal to it, a
 * guarantor paying the EAD in the default period (lag 0).  The senior
 * loses everything exactly when the loan defaults in a period t by which
 * the guarantor has already failed: P = sum_t P(tau_L = t) P(tau_G <= t). */
static ipabs_deal *wrapped_deal(double loading)
{
    const double pd = 0.06, principal = 10000000.0;
    ipabs_deal *d = bullet_pool(1, 8, &pd, &principal, loading);
    d->loans[0].ip_value = 0.0;
    d->guarantor.pd_annual = 0.03;
    d->guarantor.loading = loading;
    d->guarantor.payout_lag = 0;
    d->legal_final = 8;
    d->tranches[0].legal_final = 8;
    ipabs_error err;
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK);
    return d;
}

static double cum_pd(double annual, int t)
{
    return 1.0 - pow(1.0 - annual, t / 4.0);
}

typedef struct wrap_params {
    double a;
} wrap_params;

static double wrapped_integrand(double z, void *v)
{
    double a = ((wrap_params *)v)->a, c = sqrt(1.0 - a * a), sum = 0.0;
    for (int t = 1; t <= 8; t++) {
        double hi = gsl_cdf_ugaussian_P((gsl_cdf_ugaussian_Pinv(cum_pd(0.06, t)) - a * z) / c);
        double lo = t == 1 ? 0.0
                  : gsl_cdf_ugaussian_P((gsl_cdf_ugaussian_Pinv(cum_pd(0.06, t - 1)) - a * z) / c);
        double g = gsl_cdf_ugaussian_P((gsl_cdf_ugaussian_Pinv(cum_pd(0.03, t)) - a * z) / c);
        sum += (hi - lo) * g;
    }
    return sum * gsl_ran_ugaussian_pdf(z);
}

static void check_wrapped(double loading, double expected)
{
    ipabs_deal *d = wrapped_deal(loading);
    long long paths = 400000;
    ipabs_mc_result *r = simulate(d, paths, 99, 2);
    double se, mc = mean_of(r, r->layout.tranche0 + IPABS_TM_ANY_LOSS, &se);
    cr_assert(fabs(mc - expected) <= 4.0 * sqrt(expected * (1 - expected) / paths),
              "P(senior loss) at loading %.1f: MC %.6f, exact %.6f", loading, mc, expected);
    double el = mean_of(r, r->layout.tranche0 + IPABS_TM_LOSS, &se);
    cr_assert(fabs(el - 1e7 * expected) <= 4.0 * 1e7 * sqrt(expected * (1 - expected) / paths),
              "expected loss %.2f vs %.2f", el, 1e7 * expected);
    ipabs_mc_result_free(r);
    ipabs_deal_free(d);
}

Test(montecarlo, guarantor_wrapped_senior_independent, .init = setup)
{
    double p = 0.0;
    for (int t = 1; t <= 8; t++)
        p += (cum_pd(0.06, t) - cum_pd(0.06, t - 1)) * cum_pd(0.03, t);
    check_wrapped(0.0, p); /* about 0.0068 */
}

Test(montecarlo, guarantor_wrapped_senior_wrong_way, .init = setup)
{
    wrap_params w = {0.5};
    gsl_integration_workspace *ws = gsl_integration_workspace_alloc(1000);
    gsl_function fn = {wrapped_integrand, &w};
    double p, abserr;
    cr_assert_eq(gsl_integration_qagi(&fn, 1e-13, 1e-10, 1000, ws, &p, &abserr), GSL_SUCCESS);
    gsl_integration_workspace_free(ws);
    double indep = 0.0;
    for (int t = 1; t <= 8; t++)
        indep += (cum_pd(0.06, t) - cum_pd(0.06, t - 1)) * cum_pd(0.03, t);
    cr_assert_gt(p, 2.0 * indep, "a shared factor makes joint failure likelier");
    check_wrapped(0.5, p);
}

/* ---- determinism, replay, interruption ------------------------------------- */

static ipabs_deal *reference(void)
{
    ipabs_deal *d = NULL;
    ipabs_errors errors = {0};
    ipabs_status s = ipabs_scenario_load(IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs.yaml",
                                         NULL, 0, &d, &errors);
    cr_assert_eq(s, IPABS_OK);
    ipabs_errors_clear(&errors);
    return d;
}

static bool same_result(const ipabs_mc_result *a, const ipabs_mc_result *b, int n_loans)
{
    return a->paths == b->paths &&
           memcmp(a->moments, b->moments, (size_t)a->layout.count * sizeof *a->moments) == 0 &&
           memcmp(a->default_count, b->default_count, (size_t)(n_loans + 1) * sizeof(uint64_t)) == 0 &&
           memcmp(a->loss_bucket, b->loss_bucket, sizeof a->loss_bucket) == 0;
}

Test(montecarlo, thread_counts_agree_bit_for_bit, .init = setup)
{
    ipabs_deal *d = reference();
    long long paths = 3 * IPABS_MC_CHUNK + 17;
    ipabs_mc_result *one = simulate(d, paths, 11, 1);
    for (int t = 2; t <= 3; t++) {
        ipabs_mc_result *many = simulate(d, paths, 11, t);
        cr_assert(same_result(one, many, d->n_loans), "%d threads differ from 1", t);
        for (int j = 0; j < one->n_trackers; j++) {
            double a = ipabs_quantiles_value(&one->q[j], 0.99, NULL, NULL);
            double b = ipabs_quantiles_value(&many->q[j], 0.99, NULL, NULL);
            cr_assert(memcmp(&a, &b, sizeof a) == 0, "tracker %d", j);
        }
        ipabs_mc_result_free(many);
    }
    ipabs_mc_result_free(one);
    ipabs_deal_free(d);
}

Test(montecarlo, replayed_paths_add_up_to_the_run, .init = setup)
{
    ipabs_deal *d = reference();
    long long paths = 2 * IPABS_MC_CHUNK + 5;
    ipabs_mc_result *r = simulate(d, paths, 5, 2);
    ipabs_model_plan *plan;
    ipabs_error err;
    cr_assert_eq(ipabs_model_plan_build(d, &plan, &err), IPABS_OK);
    ipabs_mc_path *w = ipabs_mc_path_alloc(d, plan, &err);
    int M = r->layout.count;
    double *sum = calloc((size_t)M, sizeof *sum), *cnt = calloc((size_t)M, sizeof *cnt);
    uint64_t counts[64] = {0};
    for (long long p = 0; p < paths; p++) {
        const double *v;
        cr_assert_eq(ipabs_mc_path_eval(w, 5, (uint64_t)p, &v, &err), IPABS_OK);
        for (int j = 0; j < M; j++)
            if (!isnan(v[j])) {
                sum[j] += v[j];
                cnt[j] += 1.0;
            }
        counts[(int)v[r->layout.pool0 + IPABS_PM_DEFAULTS]]++;
    }
    for (int j = 0; j < M; j++) {
        cr_assert_eq(cnt[j], r->moments[j].n, "measure %d counted differently", j);
        double mean = cnt[j] > 0 ? sum[j] / cnt[j] : 0.0;
        cr_assert(fabs(mean - r->moments[j].mean) <= 1e-9 * (1.0 + fabs(mean)),
                  "measure %d: replay %.12g, run %.12g", j, mean, r->moments[j].mean);
    }
    for (int k = 0; k <= d->n_loans; k++)
        cr_assert_eq(counts[k], r->default_count[k]);
    free(sum);
    free(cnt);
    ipabs_mc_path_free(w);
    ipabs_model_plan_free(plan);
    ipabs_mc_result_free(r);
    ipabs_deal_free(d);
}

typedef struct stopper {
    volatile sig_atomic_t *flag;
} stopper;

static void stop_after_first(void *ctx, long long done, long long total)
{
    (void)total;
    if (done >= IPABS_MC_CHUNK)
        *((stopper *)ctx)->flag = 1;
}

Test(montecarlo, interrupted_run_keeps_a_prefix_of_paths, .init = setup)
{
    ipabs_deal *d = reference();
    volatile sig_atomic_t flag = 0;
    stopper st = {&flag};
    ipabs_mc_options opt = {50 * IPABS_MC_CHUNK, 3, 2, &flag, stop_after_first, &st, 0};
    ipabs_mc_result *r = NULL;
    ipabs_error err;
    cr_assert_eq(ipabs_mc_run(d, &opt, &r, &err), IPABS_EINTERRUPTED);
    cr_assert(r != NULL && r->partial);
    cr_assert(r->paths >= IPABS_MC_CHUNK && r->paths < 50 * IPABS_MC_CHUNK);
    cr_assert_eq(r->paths % IPABS_MC_CHUNK, 0);
    /* The completed paths are exactly paths 0..n-1: a run of that size. */
    ipabs_mc_result *full = simulate(d, r->paths, 3, 1);
    cr_assert(same_result(r, full, d->n_loans));
    ipabs_mc_result_free(full);
    ipabs_mc_result_free(r);
    ipabs_deal_free(d);
}

/* SPEC §3: all-in annual financing cost = loan rate + guarantee fee +
 * other charges - subsidy: 0.05 + 0.01 + 0.0015 - 0.0123 = 0.0492. */
Test(montecarlo, all_in_cost_of_each_loan, .init = setup)
{
    const double pd = 0.02, principal = 1234567.0;
    ipabs_deal *d = bullet_pool(1, 8, &pd, &principal, 0.0);
    d->loans[0].other_charges_rate = 0.0015;
    d->loans[0].subsidy_rate = 0.0123;
    ipabs_error err;
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK);
    ipabs_mc_result *r = simulate(d, 1000, 1, 1);
    double v, se;
    cr_assert(ipabs_mc_lookup(d, r, "L0000", "all_in_cost", &v, &se));
    cr_assert(fabs(v - 0.0492) < 1e-15, "%.17g", v);
    cr_assert(isnan(se), "a deterministic figure has no standard error");
    ipabs_mc_result_free(r);
    ipabs_deal_free(d);
}
