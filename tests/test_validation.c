/*
 * test_validation.c — the validation suite of SPEC §5 / issue 4: every
 * scenario in scenarios/validation and the reference deal, Monte Carlo at
 * the scenario's fixed seed against the exact module, on every measure
 * both compute, within 4 standard errors (docs/validation.md explains the
 * standard errors and the merging of rare cells).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ipabs/scenario.h"
#include "ipabs/validate.h"

#define PATHS 100000

/* Inline text, not pointers: Criterion may run each case in a fresh
 * process, where only the parameter bytes are copied. */
typedef struct case_ {
    char file[64];
} case_;

ParameterizedTestParameters(validation, monte_carlo_agrees_with_exact)
{
    static case_ cases[] = {
        {"validation/zero-corr-hetero.yaml"}, {"validation/single-obligor-rho0.yaml"},
        {"validation/single-obligor-rho1.yaml"}, {"validation/homog-rho10.yaml"},
        {"validation/homog-rho30.yaml"}, {"validation/homog-rho60.yaml"},
        {"validation/hetero-10.yaml"}, {"validation/student-t-4.yaml"},
        {"validation/student-t-10.yaml"}, {"validation/two-sectors.yaml"},
        {"validation/vasicek-1000.yaml"}, {"validation/guarantor-load-0.yaml"},
        {"validation/guarantor-load-30.yaml"}, {"validation/guarantor-load-60.yaml"},
        {"validation/bucket-edges.yaml"},
        {"shenyang-ip-abs.yaml"},
    };
    return cr_make_param_array(case_, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(case_ *c, validation, monte_carlo_agrees_with_exact)
{
    ipabs_init();
    char path[512];
    snprintf(path, sizeof path, "%s/scenarios/%s", IPABS_SOURCE_DIR, c->file);
    ipabs_deal *deal = NULL;
    ipabs_errors errors = {0};
    cr_assert_eq(ipabs_scenario_load(path, NULL, 0, &deal, &errors), IPABS_OK, "%s", path);
    ipabs_errors_clear(&errors);
    ipabs_mc_options opt = {PATHS, deal->simulation.seed, 2, NULL, NULL, NULL, 0};
    ipabs_mc_result *mc = NULL;
    ipabs_error err;
    cr_assert_eq(ipabs_mc_run(deal, &opt, &mc, &err), IPABS_OK, "%s", err.message);
    ipabs_exact_options eo = {0, 0};
    ipabs_exact_result *ex = NULL;
    cr_assert_eq(ipabs_exact_compute(deal, &eo, &ex, &err), IPABS_OK, "%s", err.message);
    cr_assert_lt(ex->precision, 1e-9, "%s: quadrature converged", c->file);
    int n = ipabs_compare_exact(deal, mc, ex, NULL, 0);
    ipabs_comparison *cmp = calloc((size_t)n, sizeof *cmp);
    ipabs_compare_exact(deal, mc, ex, cmp, n);
    cr_assert_gt(n, 8);
    for (int i = 0; i < n; i++)
        cr_expect(fabs(cmp[i].z) <= 4.0, "%s: %s/%s MC %.10g exact %.10g se %.3g z %.2f",
                  c->file, cmp[i].subject, cmp[i].measure, cmp[i].mc, cmp[i].exact,
                  cmp[i].std_error, cmp[i].z);
    free(cmp);
    ipabs_exact_free(ex);
    ipabs_mc_result_free(mc);
    ipabs_deal_free(deal);
}
