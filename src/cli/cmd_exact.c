/*
 * cmd_exact.c — `ipabs exact` and the `--check-exact` comparison of `run`.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "ipabs/resultdir.h"
#include "ipabs/exact.h"
#include "ipabs/validate.h"

static void print_exact(const ipabs_deal *deal, const ipabs_exact_result *r)
{
    printf("%s: exact at period %d (quadrature order %d, precision %.2g)\n", deal->name,
           r->horizon, r->order, r->precision);
    printf("  P(no default)           %.10f\n", r->prob_no_default);
    printf("  expected defaults       %.10f\n", r->expected_defaults);
    printf("  expected static loss    %.2f\n", r->expected_loss);
    printf("  static loss q95/q99/q999  %.2f / %.2f / %.2f\n", r->loss_q95, r->loss_q99,
           r->loss_q999);
    for (int k = 0; k < r->n_tranches; k++)
        printf("  %-12s static EL %.2f, P(loss) %.10f\n", deal->tranches[k].name,
               r->tranche_expected_loss[k], r->tranche_prob_loss[k]);
    printf("  guarantor P(default)    %.10f; P(senior loss and default) %.10f\n",
           r->guarantor_prob_default, r->prob_senior_loss_and_guarantor_default);
}

int cmd_exact(const cli_args *a)
{
    int code;
    ipabs_deal *deal = cli_load_with_output(a, &code);
    if (deal == NULL)
        return code;
    ipabs_exact_options opt = {a->horizon, 0};
    ipabs_exact_result *r = NULL;
    ipabs_error err = {0};
    ipabs_result_dir d = {0};
    ipabs_status s = ipabs_exact_compute(deal, &opt, &r, &err);
    const char *tmp = s == IPABS_OK ? cli_out_begin(a, &d, &code) : NULL;
    if (tmp != NULL) {
        s = ipabs_exact_write(deal, r, tmp, !a->no_bom, &err);
        code = cli_out_finish(&d, s == IPABS_OK ? 0 : cli_fail(&err));
    } else if (s != IPABS_OK) {
        code = cli_fail(&err);
    }
    if (code == 0 && !a->quiet)
        print_exact(deal, r);
    ipabs_exact_free(r);
    ipabs_deal_free(deal);
    return code;
}

/* Print every comparison ("check-exact:" lines, one per measure) and
 * return 0 if every |z| <= 4, 3 otherwise (1 on failure to compute). */
int cli_check_exact(const ipabs_deal *deal, const ipabs_mc_result *mc)
{
    ipabs_exact_options opt = {0, 0};
    ipabs_exact_result *ex = NULL;
    ipabs_error err = {0};
    if (ipabs_exact_compute(deal, &opt, &ex, &err) != IPABS_OK)
        return cli_fail(&err);
    int n = ipabs_compare_exact(deal, mc, ex, NULL, 0);
    ipabs_comparison *c = calloc((size_t)n, sizeof *c);
    if (c == NULL) {
        ipabs_exact_free(ex);
        fputs("ipabs: out of memory\n", stderr);
        return 1;
    }
    ipabs_compare_exact(deal, mc, ex, c, n);
    int bad = 0;
    printf("check-exact: %-18s %-30s %20s %20s %14s %8s\n", "subject", "measure",
           "monte_carlo", "exact", "std_error", "z");
    for (int i = 0; i < n; i++) {
        bool fails = !(fabs(c[i].z) <= 4.0);
        bad += fails;
        printf("check-exact: %-18s %-30s %20.10g %20.10g %14.6g %8.3f%s\n", c[i].subject,
               c[i].measure, c[i].mc, c[i].exact, c[i].std_error, c[i].z,
               fails ? "  FAIL" : "");
    }
    printf("check-exact: %d measures compared, %d beyond 4 standard errors\n", n, bad);
    free(c);
    ipabs_exact_free(ex);
    return bad == 0 ? 0 : 3;
}
