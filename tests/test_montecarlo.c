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

#include "spread_util.h"
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
           memcmp(a->loss_bucket, b->loss_bucket, sizeof a->loss_bucket) == 0 &&
           memcmp(a->default_count_by_period, b->default_count_by_period,
                  (size_t)a->layout.n_periods * (size_t)(n_loans + 1) * sizeof(uint64_t)) == 0;
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
            cr_assert(memcmp(one->q[j].cells, many->q[j].cells,
                             IPABS_QCELLS * sizeof *one->q[j].cells) == 0, "tracker %d cells", j);
            double ea = ipabs_quantiles_tail_mean(&one->q[j], 0.99, &a);
            double eb = ipabs_quantiles_tail_mean(&many->q[j], 0.99, &b);
            cr_assert(memcmp(&ea, &eb, sizeof ea) == 0 && memcmp(&a, &b, sizeof a) == 0,
                      "tracker %d expected shortfall", j);
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

/* Issue 12, finding 1, on the reference deal with the path counts
 * (1M and 2M; 200,000 in sanitizer builds, where the property is the same):
 * only about 0.234% of paths cost the senior anything, so its 95% and 99%
 * loss quantiles are exactly 0, with the interval [0, 0] (they were 15,901
 * ± 3.6 at 1M and 16,571 ± 1.2 at 2M); its yield quantiles are monotone
 * (the 1% no higher than the 5%), and expected shortfall has a standard
 * error at every path count (it had none above 1.64M). */
#if defined(__SANITIZE_ADDRESS__)
#define ATOM_PATHS_1 200000LL
#define ATOM_PATHS_2 200000LL
#else
#define ATOM_PATHS_1 1000000LL
#define ATOM_PATHS_2 2000000LL
#endif
Test(montecarlo, senior_quantiles_on_the_atom_at_zero, .init = setup, .timeout = 600)
{
    ipabs_deal *d = reference();
    const long long paths[] = {ATOM_PATHS_1, ATOM_PATHS_2};
    int loss_q = IPABS_QT_TRANCHE_LOSS, irr_q = IPABS_QT_TRANCHE_IRR;
    for (int c = 0; c < 2; c++) {
        ipabs_mc_result *r = simulate(d, paths[c], d->simulation.seed, 2);
        double se, p_loss = mean_of(r, r->layout.tranche0 + IPABS_TM_ANY_LOSS, &se);
        cr_assert_lt(p_loss + 4.0 * se, 0.01, "the premise: P(senior loss) %g well below 1%%",
                     p_loss);
        for (int k = 0; k < 2; k++) {
            double p = k == 0 ? 0.95 : 0.99;
            ipabs_quantile_est e = ipabs_quantiles_estimate(&r->q[loss_q], p);
            cr_expect(e.exact && e.value == 0.0 && e.lower == 0.0 && e.upper == 0.0,
                      "%lld paths, %g: %g [%g, %g]", paths[c], p, e.value, e.lower, e.upper);
        }
        ipabs_quantile_est q999 = ipabs_quantiles_estimate(&r->q[loss_q], 0.999);
        cr_expect(q999.value > 0.0 && q999.lower < q999.value && q999.value < q999.upper);
        double q05 = ipabs_quantiles_value(&r->q[irr_q], 0.05, NULL, NULL);
        double q01 = ipabs_quantiles_value(&r->q[irr_q], 0.01, NULL, NULL);
        cr_expect_leq(q01, q05, "%lld paths: yield 1%% %.17g above 5%% %.17g", paths[c], q01, q05);
        double es_se;
        double es = ipabs_quantiles_tail_mean(&r->q[loss_q], 0.99, &es_se);
        cr_expect(isfinite(es_se) && es_se > 0.0, "%lld paths: ES99 %g with error %g", paths[c],
                  es, es_se);
        /* All the senior's losses are within its worst 1%: ES99 = EL / 0.01. */
        double el = mean_of(r, r->layout.tranche0 + IPABS_TM_LOSS, &se);
        cr_expect(fabs(es - el * (double)r->paths / (double)(r->paths / 100)) <= 1e-6 * es,
                  "ES99 %.10g vs EL / 1%% %.10g", es, el / 0.01);
        ipabs_mc_result_free(r);
    }
    ipabs_deal_free(d);
}

/* Issue 12, finding 3, on the engine: the pool's 99% expected shortfall of
 * a homogeneous pool (a lattice law, the threshold on an atom) over R = 24
 * independent seeds of 20,000 paths.  ln(se_i / s), s the observed spread,
 * has a standard deviation of about sqrt(1 / (2 (R - 1)) + cv^2) (the
 * sampling error of a standard deviation of R estimates and the spread cv
 * of the reported errors); each reported error must be within 4 of those. */
Test(montecarlo, expected_shortfall_error_matches_the_spread_over_seeds, .init = setup,
     .timeout = 600)
{
    ipabs_deal *d = NULL;
    ipabs_errors errors = {0};
    cr_assert_eq(ipabs_scenario_load(IPABS_SOURCE_DIR "/scenarios/validation/homog-rho30.yaml",
                                     NULL, 0, &d, &errors), IPABS_OK);
    ipabs_errors_clear(&errors);
    enum { R = 24 };
    double est[R], se[R];
    int tracker = d->n_tranches * IPABS_QT_PER_TRANCHE_ + IPABS_QG_POOL_STATIC_LOSS;
    for (int r = 0; r < R; r++) {
        ipabs_mc_result *res = simulate(d, 20000, 1000 + (uint64_t)r, 2);
        est[r] = ipabs_quantiles_tail_mean(&res->q[tracker], 0.99, &se[r]);
        ipabs_mc_result_free(res);
    }
    spread_expect(est, se, R, "ES99");
    ipabs_deal_free(d);
}

/* Issue 12, item 5: the committee's figures on the guarantor-wrapped deal,
 * whose laws are known by hand.  The senior (10M, bullet) loses its whole
 * balance exactly when the loan defaults in a period t by which the
 * guarantor has failed, so P(wiped out) = P(loss) = p, every loss comes
 * with a guarantor default: E[L 1{G}] = 1e7 p and E[L | G] = 1e7 p / P(G),
 * P(G) = 1 - 0.97^2 (two years).  The number of defaults by period t is
 * 1 with probability cumPD(0.06, t).  Coverage: the loan pays 5% on 10M a
 * quarter (125,000) and the senior is promised 3% (75,000), then at period
 * 8 both principals: 5/3 on periods 1-7, 10,125,000 / 10,075,000 at 8,
 * its minimum; a path on which the loan defaults (IP worth 0) collects
 * nothing in the default period: its least coverage is 0, with
 * probability cumPD(0.06, 8) = 11.64%, so the 5% and 1% quantiles are 0. */
Test(montecarlo, committee_figures_on_the_wrapped_deal, .init = setup, .timeout = 300)
{
    ipabs_deal *d = wrapped_deal(0.0);
    long long n = 400000;
    ipabs_mc_result *r = simulate(d, n, 99, 2);
    double p = 0.0;
    for (int t = 1; t <= 8; t++)
        p += (cum_pd(0.06, t) - cum_pd(0.06, t - 1)) * cum_pd(0.03, t);
    double pg = cum_pd(0.03, 8), se, v;
    int m0 = r->layout.tranche0;
    v = mean_of(r, m0 + IPABS_TM_WIPED_OUT, &se);
    cr_expect(fabs(v - p) <= 4.0 * sqrt(p * (1 - p) / n), "P(wiped out) %g vs %g", v, p);
    v = mean_of(r, m0 + IPABS_TM_LOSS_AND_G_DEFAULT, &se);
    cr_expect(fabs(v - 1e7 * p) <= 4.0 * 1e7 * sqrt(p * (1 - p) / n), "E[L 1G] %g vs %g", v,
              1e7 * p);
    v = mean_of(r, m0 + IPABS_TM_LOSS_IF_G_DEFAULT, &se);
    double q = p / pg; /* P(loss | G) */
    double n_g = r->moments[m0 + IPABS_TM_LOSS_IF_G_DEFAULT].n;
    cr_expect(fabs(n_g / n - pg) <= 4.0 * sqrt(pg * (1 - pg) / n), "P(G) %g vs %g", n_g / n, pg);
    cr_expect(fabs(v - 1e7 * q) <= 4.0 * 1e7 * sqrt(q * (1 - q) / n_g), "E[L | G] %g vs %g", v,
              1e7 * q);
    cr_expect(fabs(se - 1e7 * sqrt(q * (1 - q) / n_g)) <= 0.05 * se, "its error %g", se);
    /* Default-count law by period. */
    for (int t = 1; t <= 8; t++) {
        double want = cum_pd(0.06, t);
        double got = (double)r->default_count_by_period[(size_t)(t - 1) * 2 + 1] / (double)n;
        cr_expect(fabs(got - want) <= 4.0 * sqrt(want * (1 - want) / n), "P(N_%d = 1) %g vs %g",
                  t, got, want);
        cr_expect_eq(r->default_count_by_period[(size_t)(t - 1) * 2] +
                     r->default_count_by_period[(size_t)(t - 1) * 2 + 1], (uint64_t)n);
    }
    /* Coverage on the no-default path, by period and its minimum. */
    for (int t = 1; t <= 7; t++)
        cr_expect(fabs(r->baseline[r->layout.coverage0 + t - 1] - 5.0 / 3.0) < 1e-12,
                  "period %d: %.15g", t, r->baseline[r->layout.coverage0 + t - 1]);
    double last = 10125000.0 / 10075000.0;
    cr_expect(fabs(r->baseline[r->layout.coverage0 + 7] - last) < 1e-12);
    cr_expect(fabs(r->baseline[r->layout.pool0 + IPABS_PM_MIN_COVERAGE] - last) < 1e-12);
    /* Its distribution over the paths. */
    double pd8 = cum_pd(0.06, 8);
    v = mean_of(r, r->layout.pool0 + IPABS_PM_MIN_COVERAGE, &se);
    cr_expect(fabs(v - (1 - pd8) * last) <= 4.0 * last * sqrt(pd8 * (1 - pd8) / n),
              "mean least coverage %g vs %g", v, (1 - pd8) * last);
    int qc = d->n_tranches * IPABS_QT_PER_TRANCHE_ + IPABS_QG_MIN_COVERAGE;
    ipabs_quantile_est e05 = ipabs_quantiles_estimate(&r->q[qc], 0.05);
    ipabs_quantile_est e50 = ipabs_quantiles_estimate(&r->q[qc], 0.50);
    cr_expect(e05.exact && e05.value == 0.0 && e05.upper == 0.0, "q05 %g", e05.value);
    cr_expect(e50.exact && fabs(e50.value - last) < 1e-12, "q50 %.15g", e50.value);
    /* WAL: 2 years when the loan performs; t/4 when it defaults in t (the
     * guarantor pays at once) or the write-off leaves none. */
    int qw = IPABS_QT_TRANCHE_WAL;
    ipabs_quantile_est w95 = ipabs_quantiles_estimate(&r->q[qw], 0.95);
    cr_expect(w95.exact && w95.value == 2.0, "WAL q95 %g", w95.value);
    ipabs_mc_result_free(r);
    ipabs_deal_free(d);
}
