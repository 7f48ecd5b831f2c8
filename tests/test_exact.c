/*
 * test_exact.c — the exact distributions against values computed here by
 * independent means: enumeration of every default set (2^n subsets),
 * closed forms (single obligor, comonotone loans, Vasicek limit) and
 * adaptive GSL integrals (qagi / qag / qagiu) of the conditional laws,
 * written out from the model's definition rather than from the module.
 *
 * Deals are built in code (fixture.h): quarterly, so a loan of term T
 * quarters with annual PD p defaults by the horizon with probability
 * 1 - (1 - p)^(min(H, T) / 4).  Amounts and PDs are deliberately ugly.
 */
#include <criterion/criterion.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "ipabs/exact.h"

static void setup(void)
{
    ipabs_init();
}

TestSuite(exact, .init = setup, .timeout = 120);

#define NEAR(a, b, tol)                                                        \
    cr_assert(fabs((double)(a) - (double)(b)) <= (tol),                      \
              "%s = %.17g, expected %.17g (diff %.3g > %.3g)", #a, (double)(a), \
              (double)(b), fabs((double)(a) - (double)(b)), (double)(tol))

/* ---- deals ---------------------------------------------------------------- */

/* Cumulative PD by the horizon, from the constant-hazard definition. */
static double cum_pd(double annual, int term, int horizon)
{
    int t = term < horizon ? term : horizon;
    return 1.0 - pow(1.0 - annual, t / 4.0);
}

/* The static loss of SPEC's rating view, written out again. */
static double loss_of(const ipabs_loan *l)
{
    double rec = fmin(l->principal, l->ip_value * l->recovery_mean) - l->disposal_cost;
    return l->principal - fmin(fmax(rec, 0.0), l->principal);
}

/* n loans (principal[i], pd[i], term[i]), global loading a on every loan,
 * legal final T, tranches: senior = senior_share of the pool, sub the
 * rest less an over-collateralisation oc_share. */
static ipabs_deal *pool(int n, const double *principal, const double *pd,
                        const int *term, int T, double a, double senior_share,
                        double oc_share)
{
    ipabs_deal *d = fx_deal(T, n, 2, 0);
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "L%02d", i + 1);
        fx_loan(d, i, id, principal[i], 0.0437, term[i], IPABS_LOAN_BULLET,
                0.011, pd[i]);
        d->loans[i].factor_loading = a;
        total += principal[i];
    }
    double senior = senior_share * total;
    fx_tranche(d, 0, "senior", IPABS_CLASS_SENIOR, senior, 0.031,
               IPABS_TRANCHE_PASS_THROUGH, T);
    fx_tranche(d, 1, "sub", IPABS_CLASS_SUB, total * (1.0 - oc_share) - senior,
               0.0, IPABS_TRANCHE_PASS_THROUGH, T);
    return d;
}

/* n equal loans of 1,234,567 with annual PD pd and term 8, loading sqrt(rho). */
static ipabs_deal *homogeneous(int n, double pd, double rho, int T)
{
    double *principal = malloc((size_t)n * sizeof(double));
    double *pds = malloc((size_t)n * sizeof(double));
    int *term = malloc((size_t)n * sizeof(int));
    for (int i = 0; i < n; i++) {
        principal[i] = 1234567.0;
        pds[i] = pd;
        term[i] = 8;
    }
    ipabs_deal *d = pool(n, principal, pds, term, T, sqrt(rho), 0.83, 0.0);
    free(principal);
    free(pds);
    free(term);
    return d;
}

static void finalize(ipabs_deal *d)
{
    ipabs_error err = {0};
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK, "%s", err.message);
}

static ipabs_exact_result *exact(const ipabs_deal *d, int horizon, int min_order)
{
    ipabs_exact_options opt = {horizon, min_order};
    ipabs_exact_result *r = NULL;
    ipabs_error err = {0};
    ipabs_status s = ipabs_exact_compute(d, &opt, &r, &err);
    cr_assert_eq(s, IPABS_OK, "exact: %s", err.message);
    cr_assert_not_null(r);
    return r;
}

/* ---- an eight-loan pool without correlation, against enumeration ---------- */

static const double HET_P[8] = {1234567.0, 987654.3, 2345678.9, 456789.0,
                                1111111.1, 3210987.6, 765432.1, 1987654.3};
static const double HET_PD[8] = {0.0237, 0.0412, 0.0153, 0.0678,
                                 0.0311, 0.0089, 0.0525, 0.0194};
static const int HET_TERM[8] = {8, 6, 8, 4, 8, 7, 8, 5};
/* IP value as a multiple of principal and disposal cost: some loans lose
 * nothing but the cost, one loses everything. */
static const double HET_IP[8] = {0.9, 1.7, 0.35, 3.0, 1.25, 0.0, 2.2, 1.05};
static const double HET_COST[8] = {12345.6, 0.0, 23456.7, 34567.8,
                                   0.0, 0.0, 4567.8, 98765.4};

static ipabs_deal *heterogeneous(double a)
{
    ipabs_deal *d = pool(8, HET_P, HET_PD, HET_TERM, 10, a, 0.78, 0.031);
    for (int i = 0; i < 8; i++) {
        d->loans[i].ip_value = HET_IP[i] * HET_P[i];
        d->loans[i].disposal_cost = HET_COST[i];
    }
    finalize(d);
    return d;
}

typedef struct outcome {
    double loss, prob;
    int count;
} outcome;

static int outcome_cmp(const void *x, const void *y)
{
    const outcome *a = x, *b = y;
    return (a->loss > b->loss) - (a->loss < b->loss);
}

/* Every default set of an independent pool with PDs pd[] and losses
 * loss[]: 2^n outcomes sorted by loss. */
static outcome *enumerate(int n, const double *pd, const double *loss)
{
    outcome *o = malloc(((size_t)1 << n) * sizeof *o);
    for (unsigned mask = 0; mask < (1u << n); mask++) {
        o[mask] = (outcome){0.0, 1.0, 0};
        for (int i = 0; i < n; i++) {
            bool in = (mask >> i) & 1u;
            o[mask].prob *= in ? pd[i] : 1.0 - pd[i];
            o[mask].loss += in ? loss[i] : 0.0;
            o[mask].count += in;
        }
    }
    qsort(o, (size_t)1 << n, sizeof *o, outcome_cmp);
    return o;
}

/* VaR_q and ES_q of a sorted outcome list, by the definitions in exact.h. */
static void var_es(const outcome *o, int n_out, double q, double *var, double *es)
{
    double cdf = 0.0, above = 0.0;
    int j = 0;
    while (j < n_out && (cdf += o[j].prob) < q - 1e-12)
        j++;
    for (int k = j + 1; k < n_out; k++)
        above += o[k].prob * o[k].loss;
    *var = o[j].loss;
    *es = (above + o[j].loss * fmax(cdf - q, 0.0)) / (1.0 - q);
}

Test(exact, zero_correlation_count_law_is_poisson_binomial)
{
    ipabs_deal *d = heterogeneous(0.0);
    double pd[8], loss[8], count[9] = {0};
    for (int i = 0; i < 8; i++) {
        pd[i] = cum_pd(HET_PD[i], HET_TERM[i], 10);
        loss[i] = loss_of(&d->loans[i]);
    }
    outcome *o = enumerate(8, pd, loss);
    for (int m = 0; m < 256; m++)
        count[o[m].count] += o[m].prob;
    ipabs_exact_result *r = exact(d, 0, 0);
    cr_assert_eq(r->horizon, 10);
    for (int k = 0; k <= 8; k++)
        NEAR(r->default_count[k], count[k], 1e-12);
    NEAR(r->prob_no_default, count[0], 1e-12);
    double mean = 0.0;
    for (int i = 0; i < 8; i++)
        mean += pd[i];
    NEAR(r->expected_defaults, mean, 1e-12);
    free(o);
    ipabs_exact_free(r);
    ipabs_deal_free(d);
}

Test(exact, zero_correlation_loss_law_matches_enumeration)
{
    ipabs_deal *d = heterogeneous(0.0);
    double pd[8], loss[8], el = 0.0, pool_bal = d->pool_balance;
    for (int i = 0; i < 8; i++) {
        pd[i] = cum_pd(HET_PD[i], HET_TERM[i], 10);
        loss[i] = loss_of(&d->loans[i]);
        el += pd[i] * loss[i];
    }
    outcome *o = enumerate(8, pd, loss);
    ipabs_exact_result *r = exact(d, 0, 0);
    cr_assert_eq(r->lattice_unit, 0.0, "eight loans must give exact atoms");
    /* Every outcome falls on an atom of the same value, and each atom's
     * probability is the sum of its outcomes. */
    double *atom = calloc((size_t)r->n_atoms, sizeof(double));
    double zero = 0.0, bucket[IPABS_LOSS_BUCKETS] = {0}, w = pool_bal / 100.0;
    for (int m = 0; m < 256; m++) {
        int j = 0;
        while (j < r->n_atoms && fabs(r->atom_value[j] - o[m].loss) > 1e-6)
            j++;
        cr_assert(j < r->n_atoms, "loss %.6f is not an atom", o[m].loss);
        atom[j] += o[m].prob;
        if (o[m].loss <= 1e-6)
            zero += o[m].prob;
        else
            bucket[(int)ceil(o[m].loss / w) - 1] += o[m].prob;
    }
    for (int j = 0; j < r->n_atoms; j++)
        NEAR(r->atom_prob[j], atom[j], 1e-12);
    NEAR(r->loss_zero, zero, 1e-12);
    for (int k = 0; k < IPABS_LOSS_BUCKETS; k++)
        NEAR(r->loss_bucket[k], bucket[k], 1e-12);
    NEAR(r->bucket_width, w, 1e-9);
    NEAR(r->expected_loss, el, 1e-12 * pool_bal);
    double var, es;
    var_es(o, 256, 0.95, &var, &es);
    NEAR(r->loss_q95, var, 1e-6);
    var_es(o, 256, 0.999, &var, &es);
    NEAR(r->loss_q999, var, 1e-6);
    var_es(o, 256, 0.99, &var, &es);
    NEAR(r->loss_q99, var, 1e-6);
    NEAR(r->expected_shortfall_99, es, 1e-9 * pool_bal);
    free(atom);
    free(o);
    ipabs_exact_free(r);
    ipabs_deal_free(d);
}

Test(exact, zero_correlation_tranche_view_matches_enumeration)
{
    ipabs_deal *d = heterogeneous(0.0);
    double pd[8], loss[8], el[2] = {0}, pl[2] = {0};
    for (int i = 0; i < 8; i++) {
        pd[i] = cum_pd(HET_PD[i], HET_TERM[i], 10);
        loss[i] = loss_of(&d->loans[i]);
    }
    /* OC first, then sub, then senior. */
    double oc = d->pool_balance - d->tranches[0].balance - d->tranches[1].balance;
    double attach[2] = {oc + d->tranches[1].balance, oc};
    outcome *o = enumerate(8, pd, loss);
    for (int m = 0; m < 256; m++) {
        for (int k = 0; k < 2; k++) {
            double hit = fmin(fmax(o[m].loss - attach[k], 0.0), d->tranches[k].balance);
            el[k] += o[m].prob * hit;
            pl[k] += hit > 1e-6 ? o[m].prob : 0.0;
        }
    }
    cr_assert(pl[0] > 1e-6, "the senior must be reachable in this test");
    ipabs_exact_result *r = exact(d, 0, 0);
    cr_assert_eq(r->n_tranches, 2);
    for (int k = 0; k < 2; k++) {
        NEAR(r->tranche_expected_loss[k], el[k], 1e-12 * d->pool_balance);
        NEAR(r->tranche_prob_loss[k], pl[k], 1e-12);
    }
    free(o);
    ipabs_exact_free(r);
    ipabs_deal_free(d);
}

/* ---- single obligor and comonotone loans ---------------------------------- */

/* One or two loans; the second the same size as the first if same. */
static ipabs_deal *small_pool(int n, const double *pd, double a, bool same)
{
    double principal[2] = {1234567.0, same ? 1234567.0 : 2345678.9};
    int term[2] = {8, 8};
    ipabs_deal *d = pool(n, principal, pd, term, 10, a, 0.9, 0.0);
    finalize(d);
    return d;
}

Test(exact, single_obligor_without_correlation)
{
    double pd[1] = {0.0237};
    ipabs_deal *d = small_pool(1, pd, 0.0, false);
    ipabs_exact_result *r = exact(d, 0, 0);
    NEAR(r->default_count[1], cum_pd(0.0237, 8, 10), 1e-14);
    NEAR(r->default_count[0], 1.0 - cum_pd(0.0237, 8, 10), 1e-14);
    ipabs_exact_free(r);
    ipabs_deal_free(d);
}

Test(exact, single_obligor_with_correlation_one)
{
    double pd[1] = {0.0237};
    ipabs_deal *d = small_pool(1, pd, 1.0, false);
    ipabs_exact_result *r = exact(d, 0, 0);
    NEAR(r->default_count[1], cum_pd(0.0237, 8, 10), 1e-13);
    cr_assert_lt(r->precision, 1e-9);
    ipabs_exact_free(r);
    ipabs_deal_free(d);
}

Test(exact, two_identical_comonotone_loans_default_together)
{
    double pd[2] = {0.0237, 0.0237};
    ipabs_deal *d = small_pool(2, pd, 1.0, true);
    ipabs_exact_result *r = exact(d, 0, 0);
    NEAR(r->default_count[1], 0.0, 1e-15);
    NEAR(r->default_count[2], cum_pd(0.0237, 8, 10), 1e-13);
    ipabs_exact_free(r);
    ipabs_deal_free(d);
}

Test(exact, two_different_comonotone_loans_nest)
{
    /* With correlation one the riskier loan defaults whenever the safer
     * one does: P(N = 2) = PD_lo, P(N = 1) = PD_hi - PD_lo. */
    double pd[2] = {0.0237, 0.0611};
    ipabs_deal *d = small_pool(2, pd, 1.0, false);
    ipabs_exact_result *r = exact(d, 0, 0);
    double lo = cum_pd(0.0237, 8, 10), hi = cum_pd(0.0611, 8, 10);
    NEAR(r->default_count[2], lo, 1e-13);
    NEAR(r->default_count[1], hi - lo, 1e-13);
    cr_assert_lt(r->precision, 1e-9);
    ipabs_exact_free(r);
    ipabs_deal_free(d);
}

Test(exact, nearly_comonotone_loans_converge)
{
    /* c = 1e-6: a transition a millionth wide, which plain Gauss rules
     * would smear; the answer is within O(c) of the comonotone one. */
    double pd[2] = {0.0237, 0.0611};
    ipabs_deal *d = small_pool(2, pd, sqrt(1.0 - 1e-12), false);
    ipabs_exact_result *r = exact(d, 0, 0);
    double lo = cum_pd(0.0237, 8, 10), hi = cum_pd(0.0611, 8, 10);
    NEAR(r->default_count[2], lo, 1e-5);
    NEAR(r->default_count[1], hi - lo, 1e-5);
    NEAR(r->expected_defaults, lo + hi, 1e-12);
    cr_assert_lt(r->precision, 1e-9);
    ipabs_exact_free(r);
    ipabs_deal_free(d);
}

Test(exact, comonotone_under_the_student_t_copula)
{
    /* X_i = sqrt(W) Z_0 for both loans: the step moves with W, and the
     * answer is still P(N = 2) = PD_lo, P(N = 1) = PD_hi - PD_lo. */
    double pd[2] = {0.0237, 0.0611};
    double principal[2] = {1234567.0, 2345678.9};
    int term[2] = {8, 8};
    ipabs_deal *d = pool(2, principal, pd, term, 10, 1.0, 0.9, 0.0);
    d->model.copula = IPABS_COPULA_STUDENT_T;
    d->model.df = 4.5;
    finalize(d);
    ipabs_exact_result *r = exact(d, 0, 0);
    double lo = cum_pd(0.0237, 8, 10), hi = cum_pd(0.0611, 8, 10);
    NEAR(r->default_count[2], lo, 1e-12);
    NEAR(r->default_count[1], hi - lo, 1e-12);
    cr_assert_lt(r->precision, 1e-9);
    ipabs_exact_free(r);
    ipabs_deal_free(d);
}

Test(exact, comonotone_through_a_sector_factor)
{
    /* Sector loading 1 and no global loading: the step is in Z_f. */
    double pd[2] = {0.0237, 0.0611};
    double principal[2] = {1234567.0, 2345678.9};
    int term[2] = {8, 8};
    ipabs_deal *d = pool(2, principal, pd, term, 10, 0.0, 0.9, 0.0);
    d->model.n_sectors = 1;
    d->model.sector_names = malloc(sizeof(char *));
    d->model.sector_names[0] = fx_strdup("tech");
    d->model.sector_loading = malloc(sizeof(double));
    d->model.sector_loading[0] = 1.0;
    d->loans[0].sector_index = d->loans[1].sector_index = 0;
    finalize(d);
    ipabs_exact_result *r = exact(d, 0, 0);
    double lo = cum_pd(0.0237, 8, 10), hi = cum_pd(0.0611, 8, 10);
    NEAR(r->default_count[2], lo, 1e-12);
    NEAR(r->default_count[1], hi - lo, 1e-12);
    cr_assert_lt(r->precision, 1e-9);
    ipabs_exact_free(r);
    ipabs_deal_free(d);
}

Test(exact, expected_shortfall_splits_the_atom)
{
    /* One loan, PD below 1%: VaR_99 = 0 and ES_99 = PD x loss / 1%. */
    double pd[1] = {0.0037};
    ipabs_deal *d = small_pool(1, pd, 0.0, false);
    ipabs_exact_result *r = exact(d, 0, 0);
    double p = cum_pd(0.0037, 8, 10), loss = loss_of(&d->loans[0]);
    cr_assert_lt(p, 0.01);
    NEAR(r->loss_q99, 0.0, 0.0);
    NEAR(r->loss_q999, loss, 1e-9);
    NEAR(r->expected_shortfall_99, p * loss / 0.01, 1e-9 * loss);
    ipabs_exact_free(r);
    ipabs_deal_free(d);
}

/* ---- homogeneous pool against a one-dimensional adaptive integral --------- */

typedef struct binom_params {
    int n, k;
    double threshold, a, c;
} binom_params;

/* C(n, k) p(z)^k (1 - p(z))^(n-k) phi(z), p(z) = Phi((k_pd - a z) / c). */
static double binom_integrand(double z, void *v)
{
    const binom_params *b = v;
    double p = gsl_cdf_ugaussian_P((b->threshold - b->a * z) / b->c);
    return gsl_ran_binomial_pdf((unsigned)b->k, p, (unsigned)b->n) *
           gsl_ran_ugaussian_pdf(z);
}

static double qagi(double (*f)(double, void *), void *params, double epsabs)
{
    gsl_integration_workspace *w = gsl_integration_workspace_alloc(2000);
    gsl_function F = {f, params};
    double result, error;
    int status = gsl_integration_qagi(&F, epsabs, 1e-12, 2000, w, &result, &error);
    gsl_integration_workspace_free(w);
    cr_assert_eq(status, GSL_SUCCESS, "qagi: %s", gsl_strerror(status));
    return result;
}

Test(exact, homogeneous_pool_matches_adaptive_integral)
{
    ipabs_deal *d = homogeneous(10, 0.0237, 0.3, 10);
    finalize(d);
    ipabs_exact_result *r = exact(d, 0, 0);
    binom_params b = {10, 0, gsl_cdf_ugaussian_Pinv(cum_pd(0.0237, 8, 10)),
                      sqrt(0.3), sqrt(0.7)};
    for (b.k = 0; b.k <= 10; b.k++)
        NEAR(r->default_count[b.k], qagi(binom_integrand, &b, 1e-14), 1e-10);
    ipabs_exact_free(r);
    ipabs_deal_free(d);
}

Test(exact, correlated_pool_keeps_the_mean)
{
    /* Correlation moves the law, not its mean: E[N] = sum PD_i and
     * E[L] = sum PD_i L_i at any loading, here with a horizon of 6 that
     * cuts some loans short of their term. */
    ipabs_deal *d = heterogeneous(sqrt(0.37));
    double en = 0.0, el = 0.0;
    for (int i = 0; i < 8; i++) {
        double p = cum_pd(HET_PD[i], HET_TERM[i], 6);
        en += p;
        el += p * loss_of(&d->loans[i]);
    }
    ipabs_exact_result *r = exact(d, 6, 0);
    cr_assert_eq(r->horizon, 6);
    NEAR(r->expected_defaults, en, 1e-11);
    NEAR(r->expected_loss, el, 1e-11 * d->pool_balance);
    double total = r->loss_zero;
    for (int k = 0; k < IPABS_LOSS_BUCKETS; k++)
        total += r->loss_bucket[k];
    NEAR(total, 1.0, 1e-13);
    ipabs_exact_free(r);
    ipabs_deal_free(d);
}

/* ---- the Vasicek limit ---------------------------------------------------- */

static double vasicek_cdf(double x, double p, double rho)
{
    return gsl_cdf_ugaussian_P((sqrt(1.0 - rho) * gsl_cdf_ugaussian_Pinv(x) -
                                gsl_cdf_ugaussian_Pinv(p)) / sqrt(rho));
}

static double vasicek_pdf(double x, double p, double rho)
{
    double u = gsl_cdf_ugaussian_Pinv(x);
    double y = (sqrt(1.0 - rho) * u - gsl_cdf_ugaussian_Pinv(p)) / sqrt(rho);
    return sqrt((1.0 - rho) / rho) * gsl_ran_ugaussian_pdf(y) / gsl_ran_ugaussian_pdf(u);
}

/* First-order granularity term of the default-fraction CDF:
 * F_n(x) = F(x) + (1/2n) d/dx[x (1 - x) f(x)] + O(n^-2), from
 * E[g(Y + e)] = E[g(Y)] + E[var(e | Y) g''(Y)] / 2 with var = x(1-x)/n. */
static double granularity(double x, double p, double rho, int n)
{
    double h = 1e-6;
    double up = (x + h) * (1.0 - x - h) * vasicek_pdf(x + h, p, rho);
    double dn = (x - h) * (1.0 - x + h) * vasicek_pdf(x - h, p, rho);
    return (up - dn) / (2.0 * h) / (2.0 * n);
}

Test(exact, large_pool_approaches_the_vasicek_limit)
{
    /* 1,000 loans of term 4 (one year) at PD 2%, rho 0.2.  The default
     * fraction D = N/n differs from its limit p(Z) by conditional noise of
     * variance p(1-p)/n, so F_n - F = O(1/n); evaluating at half-integers
     * x = (k + 1/2)/n removes the lattice term of the binomial, and what
     * is left is the granularity term G above (|G| <= 2.4/n at these
     * points) plus O(n^-2). */
    const int n = 1000;
    const double rho = 0.2, p = 0.02;
    double *principal = malloc(n * sizeof(double)), *pd = malloc(n * sizeof(double));
    int *term = malloc(n * sizeof(int));
    for (int i = 0; i < n; i++) {
        principal[i] = 1234567.0;
        pd[i] = p;
        term[i] = 4;
    }
    ipabs_deal *d = pool(n, principal, pd, term, 6, sqrt(rho), 0.85, 0.0);
    finalize(d);
    ipabs_exact_result *r = exact(d, 0, 0);
    double loss = loss_of(&d->loans[0]);
    static const int ks[] = {10, 20, 40, 80};
    for (int t = 0; t < 4; t++) {
        double x = (ks[t] + 0.5) / n, cdf = 0.0;
        for (int j = 0; j < r->n_atoms && r->atom_value[j] <= x * n * loss; j++)
            cdf += r->atom_prob[j];
        double diff = cdf - vasicek_cdf(x, p, rho);
        cr_assert(fabs(diff) <= 3.0 / n, "x = %g: F_n - F = %g exceeds 3/n", x, diff);
        NEAR(diff, granularity(x, p, rho, n), 2.5e-4);
    }
    NEAR(r->expected_defaults, n * p, 1e-9 * n);
    cr_assert_lt(r->precision, 1e-9);
    free(principal);
    free(pd);
    free(term);
    ipabs_exact_free(r);
    ipabs_deal_free(d);
}

/* ---- Student-t copula ----------------------------------------------------- */

typedef struct t_params {
    int n;
    double nu, threshold, a, c, v;
    gsl_integration_workspace *inner;
} t_params;

/* phi(z) P(no default | z, V = v)^... with p = Phi((k sqrt(v/nu) - a z)/c). */
static double t_inner(double z, void *v)
{
    const t_params *t = v;
    double q = gsl_cdf_ugaussian_Q((t->threshold * sqrt(t->v / t->nu) - t->a * z) / t->c);
    return pow(q, t->n) * gsl_ran_ugaussian_pdf(z);
}

static double t_outer(double v, void *params)
{
    t_params *t = params;
    gsl_function F = {t_inner, t};
    double result, error;
    t->v = v;
    int status = gsl_integration_qagi(&F, 1e-14, 1e-12, 1000, t->inner, &result, &error);
    cr_assert_eq(status, GSL_SUCCESS, "inner qagi: %s", gsl_strerror(status));
    return result * gsl_ran_chisq_pdf(v, t->nu);
}

static double t_no_default(int n, double nu, double pd, double rho)
{
    t_params t = {n, nu, gsl_cdf_tdist_Pinv(pd, nu), sqrt(rho), sqrt(1.0 - rho), 0.0,
                  gsl_integration_workspace_alloc(1000)};
    gsl_integration_workspace *outer = gsl_integration_workspace_alloc(1000);
    gsl_function F = {t_outer, &t};
    double result, error;
    int status = gsl_integration_qagiu(&F, 0.0, 1e-12, 1e-11, 1000, outer, &result, &error);
    gsl_integration_workspace_free(outer);
    gsl_integration_workspace_free(t.inner);
    cr_assert_eq(status, GSL_SUCCESS, "outer qagiu: %s", gsl_strerror(status));
    return result;
}

static double prob_at_least(const ipabs_exact_result *r, int k)
{
    double below = 0.0;
    for (int j = 0; j < k; j++)
        below += r->default_count[j];
    return 1.0 - below;
}

static void student_case(double nu)
{
    ipabs_deal *d = homogeneous(10, 0.0237, 0.3, 10);
    d->model.copula = IPABS_COPULA_STUDENT_T;
    d->model.df = nu;
    finalize(d);
    ipabs_exact_result *r = exact(d, 0, 0);
    NEAR(r->prob_no_default, t_no_default(10, nu, cum_pd(0.0237, 8, 10), 0.3), 1e-9);
    NEAR(r->expected_defaults, 10 * cum_pd(0.0237, 8, 10), 1e-10);
    cr_assert_lt(r->precision, 1e-9);
    ipabs_deal *g = homogeneous(10, 0.0237, 0.3, 10);
    finalize(g);
    ipabs_exact_result *rg = exact(g, 0, 0);
    cr_assert_gt(prob_at_least(r, 5), prob_at_least(rg, 5),
                 "t(%g) tail %g not above Gaussian %g", nu, prob_at_least(r, 5),
                 prob_at_least(rg, 5));
    ipabs_exact_free(rg);
    ipabs_deal_free(g);
    ipabs_exact_free(r);
    ipabs_deal_free(d);
}

Test(exact, student_t_4_matches_two_dimensional_integral)
{
    student_case(4.0);
}

Test(exact, student_t_10_matches_two_dimensional_integral)
{
    student_case(10.0);
}

/* ---- sector factors ------------------------------------------------------- */

static const double SEC_A[4] = {0.35, 0.41, 0.29, 0.38};
static const double SEC_PD[4] = {0.0237, 0.0452, 0.0318, 0.0611};
static const double SEC_LOADING[2] = {0.45, 0.55};

typedef struct sector_params {
    int k;                /* P(N = k) */
    double threshold[4];
    double z[3];
    gsl_integration_workspace *w[3];
} sector_params;

/* P(N = k | z0, z1, z2) by brute force over the 16 default sets. */
static double sector_conditional(const sector_params *s)
{
    double p[4], total = 0.0;
    for (int i = 0; i < 4; i++) {
        double b = SEC_LOADING[i / 2], c = sqrt(1.0 - SEC_A[i] * SEC_A[i] - b * b);
        p[i] = gsl_cdf_ugaussian_P((s->threshold[i] - SEC_A[i] * s->z[0] -
                                    b * s->z[1 + i / 2]) / c);
    }
    for (unsigned mask = 0; mask < 16; mask++) {
        double prob = 1.0;
        int count = 0;
        for (int i = 0; i < 4; i++) {
            prob *= (mask >> i) & 1u ? p[i] : 1.0 - p[i];
            count += (mask >> i) & 1u;
        }
        total += count == s->k ? prob : 0.0;
    }
    return total;
}

static double sector_level(double z, void *v);

/* Integrate level `level` (0 = Z_0) over the real line. */
static double sector_integral(sector_params *s, int level)
{
    struct { sector_params *s; int level; } ctx = {s, level};
    gsl_function F = {sector_level, &ctx};
    double result, error;
    int status = gsl_integration_qag(&F, -8.5, 8.5, 1e-12, 1e-10, 200,
                                     GSL_INTEG_GAUSS21, s->w[level], &result, &error);
    cr_assert_eq(status, GSL_SUCCESS, "qag level %d: %s", level, gsl_strerror(status));
    return result;
}

static double sector_level(double z, void *v)
{
    struct { sector_params *s; int level; } *ctx = v;
    ctx->s->z[ctx->level] = z;
    double inner = ctx->level == 2 ? sector_conditional(ctx->s)
                                   : sector_integral(ctx->s, ctx->level + 1);
    return inner * gsl_ran_ugaussian_pdf(z);
}

Test(exact, two_sector_factors_match_three_dimensional_integral)
{
    double principal[4] = {1234567.0, 2345678.9, 987654.3, 1765432.1};
    int term[4] = {8, 8, 8, 8};
    ipabs_deal *d = pool(4, principal, SEC_PD, term, 10, 0.0, 0.88, 0.0);
    d->model.n_sectors = 2;
    d->model.sector_names = malloc(2 * sizeof(char *));
    d->model.sector_names[0] = fx_strdup("equipment");
    d->model.sector_names[1] = fx_strdup("software");
    d->model.sector_loading = malloc(2 * sizeof(double));
    for (int i = 0; i < 2; i++)
        d->model.sector_loading[i] = SEC_LOADING[i];
    for (int i = 0; i < 4; i++) {
        d->loans[i].factor_loading = SEC_A[i];
        d->loans[i].sector_index = i / 2;
    }
    finalize(d);
    ipabs_exact_result *r = exact(d, 0, 0);
    sector_params s = {0};
    for (int i = 0; i < 4; i++)
        s.threshold[i] = gsl_cdf_ugaussian_Pinv(cum_pd(SEC_PD[i], 8, 10));
    for (int l = 0; l < 3; l++)
        s.w[l] = gsl_integration_workspace_alloc(200);
    static const int ks[] = {0, 2, 4};
    for (int t = 0; t < 3; t++) {
        s.k = ks[t];
        NEAR(r->default_count[s.k], sector_integral(&s, 0), 1e-9);
    }
    for (int l = 0; l < 3; l++)
        gsl_integration_workspace_free(s.w[l]);
    cr_assert_lt(r->precision, 1e-9);
    ipabs_exact_free(r);
    ipabs_deal_free(d);
}

/* ---- the guarantor -------------------------------------------------------- */

/* Ten equal loans losing 60% each; the senior (83%) loses from the third
 * default on.  Guarantor annual PD 1.23%, loading g on Z_0. */
static ipabs_deal *guaranteed(double g)
{
    ipabs_deal *d = homogeneous(10, 0.0237, 0.3, 10);
    d->guarantor.pd_annual = 0.0123;
    d->guarantor.loading = g;
    finalize(d);
    return d;
}

typedef struct joint_params {
    binom_params pool;
    double kg, g;
} joint_params;

/* phi(z) P(N >= 3 | z) P(guarantor defaults | z). */
static double joint_integrand(double z, void *v)
{
    joint_params *j = v;
    double tail = 0.0;
    for (j->pool.k = 3; j->pool.k <= 10; j->pool.k++)
        tail += binom_integrand(z, &j->pool);
    return tail * gsl_cdf_ugaussian_P((j->kg - j->g * z) / sqrt(1.0 - j->g * j->g));
}

Test(exact, guarantor_independent_of_the_pool_at_loading_zero)
{
    ipabs_deal *d = guaranteed(0.0);
    ipabs_exact_result *r = exact(d, 0, 0);
    double pg = 1.0 - pow(1.0 - 0.0123, 10 / 4.0);
    NEAR(r->guarantor_prob_default, pg, 1e-13);
    double senior = 0.0;
    for (int k = 3; k <= 10; k++)
        senior += r->default_count[k];
    NEAR(r->tranche_prob_loss[0], senior, 1e-13);
    NEAR(r->prob_senior_loss_and_guarantor_default, r->tranche_prob_loss[0] * pg, 1e-15);
    ipabs_exact_free(r);
    ipabs_deal_free(d);
}

Test(exact, guarantor_correlation_raises_the_joint_probability)
{
    double joint[3];
    static const double g[3] = {0.0, 0.3, 0.6};
    for (int i = 0; i < 3; i++) {
        ipabs_deal *d = guaranteed(g[i]);
        ipabs_exact_result *r = exact(d, 0, 0);
        joint[i] = r->prob_senior_loss_and_guarantor_default;
        if (i == 1) {
            joint_params j = {{10, 0, gsl_cdf_ugaussian_Pinv(cum_pd(0.0237, 8, 10)),
                               sqrt(0.3), sqrt(0.7)},
                              gsl_cdf_ugaussian_Pinv(1.0 - pow(1.0 - 0.0123, 2.5)), 0.3};
            NEAR(joint[i], qagi(joint_integrand, &j, 1e-15), 1e-10);
        }
        cr_assert_lt(r->precision, 1e-9);
        ipabs_exact_free(r);
        ipabs_deal_free(d);
    }
    cr_assert_gt(joint[1], joint[0]);
    cr_assert_gt(joint[2], joint[1]);
}

Test(exact, guarantor_that_cannot_default)
{
    ipabs_deal *d = homogeneous(10, 0.0237, 0.3, 10);
    finalize(d);
    ipabs_exact_result *r = exact(d, 0, 0);
    cr_assert_eq(r->guarantor_prob_default, 0.0);
    cr_assert_eq(r->prob_senior_loss_and_guarantor_default, 0.0);
    ipabs_exact_free(r);
    ipabs_deal_free(d);
}

/* ---- convergence ---------------------------------------------------------- */

Test(exact, order_doubles_until_converged)
{
    ipabs_deal *d = homogeneous(10, 0.0237, 0.3, 10);
    finalize(d);
    ipabs_exact_result *r = exact(d, 0, 4);
    int m = r->order;
    cr_assert_geq(m, 8, "at least one doubling from 4");
    while (m % 2 == 0 && m > 4)
        m /= 2;
    cr_assert_eq(m, 4, "order %d is not 4 x 2^j", r->order);
    cr_assert_lt(r->precision, 1e-9);
    cr_assert_geq(r->precision, 0.0);
    /* The reported precision is honest: a much finer rule agrees. */
    ipabs_exact_result *fine = exact(d, 0, IPABS_EXACT_MAX_ORDER / 2);
    cr_assert_eq(fine->order, IPABS_EXACT_MAX_ORDER);
    for (int k = 0; k <= 10; k++)
        NEAR(r->default_count[k], fine->default_count[k], 1e-10);
    NEAR(r->expected_shortfall_99, fine->expected_shortfall_99,
         1e-10 * fine->expected_shortfall_99);
    ipabs_exact_free(fine);
    ipabs_exact_free(r);
    ipabs_deal_free(d);
}

/* ---- lattice fallback ----------------------------------------------------- */

Test(exact, many_distinct_losses_use_a_lattice_within_its_bound)
{
    /* 24 loans of distinct sizes: 2^24 subset sums exceed the atom budget,
     * so losses are rounded to the lattice u = pool / 65536.  Each path's
     * loss moves by at most n u / 2, which brackets the CDF. */
    enum { N = 24 };
    double principal[N], pd[N], p[N], loss[N];
    int term[N];
    for (int i = 0; i < N; i++) {
        principal[i] = 1000000.0 + 98765.4321 * sqrt(i + 2.0);
        pd[i] = 0.0237 + 0.0019 * i;
        term[i] = 8;
    }
    ipabs_deal *d = pool(N, principal, pd, term, 10, 0.0, 0.9, 0.0);
    finalize(d);
    ipabs_exact_result *r = exact(d, 0, 0);
    double u = d->pool_balance / 65536.0, shift = N * u / 2.0, en = 0.0, el = 0.0;
    NEAR(r->lattice_unit, u, 1e-9);
    for (int i = 0; i < N; i++) {
        p[i] = cum_pd(pd[i], 8, 10);
        loss[i] = loss_of(&d->loans[i]);
        en += p[i];
        el += p[i] * loss[i];
    }
    NEAR(r->expected_defaults, en, 1e-12);
    NEAR(r->expected_loss, el, en * u / 2.0 + 1e-6);
    static const double at[4] = {0.021, 0.047, 0.093, 0.151};
    double lo[4] = {0}, hi[4] = {0};
    for (unsigned mask = 0; mask < (1u << N); mask++) {
        double prob = 1.0, l = 0.0;
        for (int i = 0; i < N; i++) {
            bool in = (mask >> i) & 1u;
            prob *= in ? p[i] : 1.0 - p[i];
            l += in ? loss[i] : 0.0;
        }
        for (int t = 0; t < 4; t++) {
            double x = at[t] * d->pool_balance;
            lo[t] += l <= x - shift ? prob : 0.0;
            hi[t] += l <= x + shift ? prob : 0.0;
        }
    }
    for (int t = 0; t < 4; t++) {
        double x = at[t] * d->pool_balance, cdf = 0.0;
        for (int j = 0; j < r->n_atoms && r->atom_value[j] <= x; j++)
            cdf += r->atom_prob[j];
        cr_assert(cdf >= lo[t] - 1e-12 && cdf <= hi[t] + 1e-12,
                  "P(L <= %g) = %.15g outside [%.15g, %.15g]", x, cdf, lo[t], hi[t]);
    }
    ipabs_exact_free(r);
    ipabs_deal_free(d);
}

/* ---- output --------------------------------------------------------------- */

/* The lines of a CSV file; returns the count (at most cap). */
static int read_lines(const char *dir, const char *name, char lines[][256], int cap)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot read %s", path);
    int n = 0;
    while (n < cap && fgets(lines[n], 256, f) != NULL) {
        lines[n][strcspn(lines[n], "\n")] = '\0';
        n++;
    }
    fclose(f);
    /* Result CSVs begin with the UTF-8 byte-order mark (issue 12). */
    cr_assert(n > 0 && strncmp(lines[0], "\xEF\xBB\xBF", 3) == 0, "%s: no byte-order mark", path);
    memmove(lines[0], lines[0] + 3, strlen(lines[0]) - 2);
    return n;
}

/* Sum of the last column of lines 1..n-1. */
static double last_column_sum(char lines[][256], int n)
{
    double total = 0.0;
    for (int i = 1; i < n; i++)
        total += strtod(strrchr(lines[i], ',') + 1, NULL);
    return total;
}

static bool has_row(char lines[][256], int n, const char *prefix)
{
    for (int i = 1; i < n; i++)
        if (strncmp(lines[i], prefix, strlen(prefix)) == 0)
            return true;
    return false;
}

static void remove_dir(const char *dir)
{
    static const char *const files[] = {"default_count.csv", "loss_distribution.csv",
                                        "summary.csv"};
    char path[512];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

Test(exact, write_produces_three_csv_files)
{
    ipabs_deal *d = guaranteed(0.3);
    ipabs_exact_result *r = exact(d, 0, 0);
    char dir[64] = "/tmp/ipabs-exact-XXXXXX", out[96];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(out, sizeof out, "%s/run", dir);
    ipabs_error err = {0};
    cr_assert_eq(ipabs_exact_write(d, r, out, true, &err), IPABS_OK, "%s", err.message);
    static char lines[128][256];
    int n = read_lines(out, "default_count.csv", lines, 128);
    cr_assert_str_eq(lines[0], "defaults,probability");
    cr_assert_eq(n, 12);
    NEAR(last_column_sum(lines, n), 1.0, 1e-12);
    n = read_lines(out, "loss_distribution.csv", lines, 128);
    cr_assert_str_eq(lines[0], "loss_from,loss_to,probability");
    cr_assert_eq(n, 2 + IPABS_LOSS_BUCKETS);
    cr_assert_eq(strncmp(lines[1], "0,0,", 4), 0, "first row is the atom at zero: %s", lines[1]);
    NEAR(last_column_sum(lines, n), 1.0, 1e-12);
    n = read_lines(out, "summary.csv", lines, 128);
    cr_assert_str_eq(lines[0], "subject,measure,value,std_error,ci_lower,ci_upper,paths");
    static const char *const rows[] = {
        "pool,prob_no_default,", "pool,expected_defaults,", "pool,expected_loss,",
        "pool,loss_q95,", "pool,loss_q99,", "pool,loss_q999,",
        "pool,expected_shortfall_99,", "senior,static_expected_loss,",
        "senior,static_prob_loss,", "sub,static_expected_loss,", "sub,static_prob_loss,",
        "guarantor,prob_default,", "guarantor,prob_senior_loss_and_default,",
        "exact,quadrature_order,", "exact,precision,", "exact,horizon,10,,"};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        cr_assert(has_row(lines, n, rows[i]), "summary.csv lacks %s", rows[i]);
    cr_assert_eq(n, 1 + (int)(sizeof rows / sizeof rows[0]));
    for (int i = 1; i < n; i++) {
        size_t len = strlen(lines[i]);
        cr_assert(len > 2 && strcmp(lines[i] + len - 2, ",,") == 0,
                  "std_error and paths must be empty: %s", lines[i]);
    }
    remove_dir(out);
    rmdir(dir);
    ipabs_exact_free(r);
    ipabs_deal_free(d);
}

/* ---- errors --------------------------------------------------------------- */

static void expect_error(const ipabs_deal *d, int horizon, int min_order,
                         ipabs_status code, const char *needle)
{
    ipabs_exact_options opt = {horizon, min_order};
    ipabs_exact_result *r = (ipabs_exact_result *)&opt; /* must be reset */
    ipabs_error err = {0};
    cr_assert_eq(ipabs_exact_compute(d, &opt, &r, &err), code);
    cr_assert_null(r);
    cr_assert_eq(err.code, code);
    cr_assert_not_null(strstr(err.message, needle), "message: %s", err.message);
}

Test(exact, bad_requests_are_input_errors)
{
    ipabs_deal *d = homogeneous(10, 0.0237, 0.3, 10);
    finalize(d);
    ipabs_error err = {0};
    ipabs_exact_result *r = NULL;
    cr_assert_eq(ipabs_exact_compute(NULL, NULL, &r, &err), IPABS_EINPUT);
    cr_assert_eq(ipabs_exact_compute(d, NULL, NULL, &err), IPABS_EINPUT);
    expect_error(d, 11, 0, IPABS_EINPUT, "1..10");
    expect_error(d, -1, 0, IPABS_EINPUT, "got -1");
    expect_error(d, 0, 1, IPABS_EINPUT, "got 1");
    expect_error(d, 0, IPABS_EXACT_MAX_ORDER, IPABS_EINPUT, "(automatic)");
    d->model.copula = IPABS_COPULA_STUDENT_T;
    d->model.df = 0.0;
    expect_error(d, 0, 0, IPABS_EINPUT, "degrees of freedom");
    ipabs_deal_free(d);
}

Test(exact, impossible_loadings_are_input_errors)
{
    double principal[1] = {1234567.0}, pd[1] = {0.0237};
    int term[1] = {8};
    ipabs_deal *d = pool(1, principal, pd, term, 10, 0.9, 0.9, 0.0);
    d->model.n_sectors = 1;
    d->model.sector_names = malloc(sizeof(char *));
    d->model.sector_names[0] = fx_strdup("tech");
    d->model.sector_loading = malloc(sizeof(double));
    d->model.sector_loading[0] = 0.6;
    d->loans[0].sector_index = 0;
    finalize(d);
    expect_error(d, 0, 0, IPABS_EINPUT, "a^2 + s^2");
    ipabs_deal_free(d);
}

Test(exact, write_errors)
{
    ipabs_deal *d = homogeneous(10, 0.0237, 0.3, 10);
    finalize(d);
    ipabs_exact_result *r = exact(d, 0, 0);
    ipabs_error err = {0};
    cr_assert_eq(ipabs_exact_write(NULL, r, "/tmp", true, &err), IPABS_EINPUT);
    cr_assert_eq(ipabs_exact_write(d, NULL, "/tmp", true, &err), IPABS_EINPUT);
    cr_assert_eq(ipabs_exact_write(d, r, NULL, true, &err), IPABS_EINPUT);
    /* A result of another deal. */
    ipabs_deal *other = heterogeneous(0.0);
    cr_assert_eq(ipabs_exact_write(other, r, "/tmp", true, &err), IPABS_EINPUT);
    cr_assert_not_null(strstr(err.message, "not of this deal"));
    /* A directory below a regular file cannot be created. */
    char file[64] = "/tmp/ipabs-exact-file-XXXXXX", below[96];
    int fd = mkstemp(file);
    cr_assert_geq(fd, 0);
    close(fd);
    snprintf(below, sizeof below, "%s/out", file);
    cr_assert_eq(ipabs_exact_write(d, r, below, true, &err), IPABS_EIO);
    unlink(file);
    ipabs_deal_free(other);
    ipabs_exact_free(r);
    ipabs_deal_free(d);
}

Test(exact, free_null_is_a_no_op)
{
    ipabs_exact_free(NULL);
}
