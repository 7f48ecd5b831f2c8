/*
 * test_model.c — cumulative PDs, thresholds, loadings, recovery tables and
 * the static loss against values computed by hand or by GSL directly.
 */
#include <criterion/criterion.h>
#include <gsl/gsl_cdf.h>
#include <math.h>

#include "fixture.h"
#include "ipabs/model.h"

static ipabs_deal *two_loans(void)
{
    ipabs_deal *d = fx_deal(12, 2, 1, 0);
    fx_loan(d, 0, "A", 1234567.0, 0.05, 8, IPABS_LOAN_BULLET, 0.01, 0.0237);
    fx_loan(d, 1, "B", 765433.0, 0.05, 12, IPABS_LOAN_BULLET, 0.01, 0.061);
    fx_tranche(d, 0, "senior", IPABS_CLASS_SENIOR, 2000000.0, 0.03,
               IPABS_TRANCHE_PASS_THROUGH, 12);
    d->loans[0].factor_loading = 0.4;
    d->loans[1].factor_loading = 0.55;
    d->guarantor.pd_annual = 0.0043;
    d->guarantor.loading = 0.3;
    ipabs_init();
    ipabs_error err;
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK);
    return d;
}

Test(model, constant_hazard_cumulative_pd)
{
    ipabs_deal *d = two_loans();
    /* 1 - (1 - 0.0237)^(6/4) = 0.035350894... */
    cr_assert(fabs(ipabs_model_loan_cum_pd(d, 0, 6) - (1.0 - pow(0.9763, 1.5))) < 1e-15);
    cr_assert_eq(ipabs_model_loan_cum_pd(d, 0, 0), 0.0);
    d->model.pd_multiplier = 2.5;
    cr_assert(fabs(ipabs_model_loan_cum_pd(d, 1, 4) - 2.5 * 0.061) < 1e-15);
    cr_assert(fabs(ipabs_model_guarantor_cum_pd(d, 8) - (1.0 - pow(1.0 - 2.5 * 0.0043, 2.0))) < 1e-15);
    ipabs_deal_free(d);
}

Test(model, rating_table_and_curves_take_precedence)
{
    ipabs_deal *d = two_loans();
    ipabs_model *m = &d->model;
    m->n_ratings = 1;
    m->rating_names = calloc(1, sizeof(char *));
    m->rating_names[0] = fx_strdup("BB");
    m->rating_pd = calloc(1, sizeof(double));
    m->rating_pd[0] = 0.045;
    m->n_curves = 1;
    m->curves = calloc(1, sizeof *m->curves);
    m->curves[0].name = fx_strdup("ramp");
    m->curves[0].n = 3;
    m->curves[0].cum_pd = calloc(3, sizeof(double));
    m->curves[0].cum_pd[0] = 0.01;
    m->curves[0].cum_pd[1] = 0.025;
    m->curves[0].cum_pd[2] = 0.04;
    d->loans[0].rating = fx_strdup("BB");
    d->loans[1].pd_curve = fx_strdup("ramp");
    cr_assert(fabs(ipabs_model_loan_cum_pd(d, 0, 4) - 0.045) < 1e-15);
    cr_assert_eq(ipabs_model_loan_cum_pd(d, 1, 2), 0.025);
    cr_assert_eq(ipabs_model_loan_cum_pd(d, 1, 9), 0.04, "held flat after the curve");
    ipabs_deal_free(d);
}

Test(model, thresholds_and_loadings)
{
    ipabs_deal *d = two_loans();
    ipabs_model_plan *p;
    ipabs_error err;
    cr_assert_eq(ipabs_model_plan_build(d, &p, &err), IPABS_OK, "%s", err.message);
    int T1 = d->legal_final + 1;
    for (int t = 1; t <= 8; t++)
        cr_assert(fabs(p->threshold[t] - gsl_cdf_ugaussian_Pinv(ipabs_model_loan_cum_pd(d, 0, t))) < 1e-12);
    cr_assert(fabs(p->threshold[T1 + 12] - gsl_cdf_ugaussian_Pinv(1.0 - pow(1.0 - 0.061, 3.0))) < 1e-12);
    cr_assert(fabs(p->c[1] - sqrt(1.0 - 0.55 * 0.55)) < 1e-15);
    cr_assert(fabs(p->g_c - sqrt(1.0 - 0.09)) < 1e-15);
    cr_assert(isinf(p->threshold[0]) && p->threshold[0] < 0.0);
    ipabs_model_plan_free(p);
    d->model.copula = IPABS_COPULA_STUDENT_T;
    d->model.df = 5.0;
    cr_assert_eq(ipabs_model_plan_build(d, &p, &err), IPABS_OK);
    cr_assert(fabs(p->threshold[4] - gsl_cdf_tdist_Pinv(ipabs_model_loan_cum_pd(d, 0, 4), 5.0)) < 1e-10);
    ipabs_model_plan_free(p);
    ipabs_deal_free(d);
}

Test(model, beta_recovery_table)
{
    ipabs_deal *d = two_loans();
    d->loans[0].recovery_mean = 0.3;
    d->loans[0].recovery_sd = 0.005; /* concentrated: GSL's inverse fails far out */
    ipabs_model_plan *p;
    ipabs_error err;
    cr_assert_eq(ipabs_model_plan_build(d, &p, &err), IPABS_OK, "%s", err.message);
    const double *t = p->beta_table[0];
    for (int k = 1; k < IPABS_BETA_TABLE_SIZE; k++)
        cr_assert(isfinite(t[k]) && t[k] >= t[k - 1], "monotone at %d", k);
    /* The middle of the table is the Beta median at normal score 0. */
    double nu = 0.3 * 0.7 / (0.005 * 0.005) - 1.0;
    double median = gsl_cdf_beta_Pinv(0.5, 0.3 * nu, 0.7 * nu);
    cr_assert(fabs(t[(IPABS_BETA_TABLE_SIZE - 1) / 2] - median) < 1e-12);
    ipabs_model_plan_free(p);
    ipabs_deal_free(d);
}

Test(model, static_loss_by_hand)
{
    ipabs_loan l = {0};
    l.principal = 1000000.0;
    l.ip_value = 2385000.0;
    l.recovery_mean = 0.25;
    l.disposal_cost = 123456.0;
    /* min(1,000,000, 596,250) - 123,456 = 472,794 recovered. */
    cr_assert(fabs(ipabs_static_loss(&l) - 527206.0) < 1e-9);
    l.disposal_cost = 700000.0; /* costs exceed the proceeds: all lost */
    cr_assert_eq(ipabs_static_loss(&l), 1000000.0);
}

Test(model, loan_rate_below_the_fees_is_an_input_error)
{
    ipabs_deal *d = fx_deal(12, 1, 1, 0);
    fx_loan(d, 0, "A", 1234567.0, 0.0012, 8, IPABS_LOAN_BULLET, 0.01, 0.0237);
    fx_tranche(d, 0, "senior", IPABS_CLASS_SENIOR, 1234567.0, 0.0, IPABS_TRANCHE_PASS_THROUGH, 12);
    d->bank_fee_rate = 0.0005;
    d->servicing_fee_rate = 0.001;
    ipabs_error err;
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_EINPUT);
    cr_assert_str_eq(err.file, "fixture.csv");
    cr_assert_eq(err.line, 2);
    cr_assert_str_eq(err.field, "rate");
    ipabs_deal_free(d);
}
