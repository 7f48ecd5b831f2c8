/*
 * cmd_rate.c — `ipabs breakeven` (breakeven default rates of the senior
 * class under the stress grid) and `ipabs rate` (those, the target default
 * rates from the Monte Carlo and the implied rating).  The method is in
 * docs/rating.md, the files in docs/cli.md.
 */
#include <stdio.h>

#include "cli.h"
#include "ipabs/resultdir.h"
#include "ipabs/breakeven.h"
#include "ipabs/rating.h"
#include "ipabs/workbook.h"

int cmd_breakeven(const cli_args *a)
{
    int code;
    ipabs_deal *deal = cli_load_with_output(a, &code);
    if (deal == NULL)
        return code;
    ipabs_breakeven_result *be = NULL;
    ipabs_error err = {0};
    ipabs_result_dir d = {0};
    ipabs_status s = ipabs_breakeven_run(deal, &be, &err);
    const char *tmp = s == IPABS_OK ? cli_out_begin(a, &d, &code) : NULL;
    if (tmp != NULL) {
        s = ipabs_breakeven_write(deal, be, tmp, !a->no_bom, &err);
        code = cli_out_finish(&d, s == IPABS_OK ? 0 : cli_fail(&err));
    } else if (s != IPABS_OK) {
        code = cli_fail(&err);
    }
    if (code == 0 && !a->quiet)
        ipabs_breakeven_print(stdout, deal, be);
    ipabs_breakeven_free(be);
    ipabs_deal_free(deal);
    return code;
}

int cmd_rate(const cli_args *a)
{
    int code;
    ipabs_deal *deal = cli_load_with_output(a, &code);
    if (deal == NULL)
        return code;
    cli_install_signal_handlers();
    ipabs_mc_options opt = {a->paths > 0 ? a->paths : deal->simulation.paths,
                            a->has_seed ? a->seed : deal->simulation.seed,
                            a->threads, cli_stop_flag(), NULL, NULL, a->simd};
    ipabs_breakeven_result *be = NULL;
    ipabs_rating_result *r = NULL;
    ipabs_error err = {0};
    ipabs_result_dir d = {0};
    ipabs_status s = ipabs_rating_run(deal, &opt, &be, &r, &err);
    const char *tmp = s == IPABS_OK ? cli_out_begin(a, &d, &code) : NULL;
    if (tmp != NULL) {
        s = ipabs_rating_write(deal, be, r, tmp, !a->no_bom, &err);
        code = cli_out_finish(&d, s == IPABS_OK ? 0 : cli_fail(&err));
    } else if (s == IPABS_EINTERRUPTED) {
        fprintf(stderr, "ipabs: %s; nothing written\n", err.message);
        code = 130;
    } else if (s != IPABS_OK) {
        code = cli_fail(&err);
    }
    if (code == 0 && !a->quiet) {
        ipabs_breakeven_print(stdout, deal, be);
        ipabs_rating_print(stdout, deal, be, r);
    }
    if (code == 0)
        code = cli_workbook(a, IPABS_RESULT_RATE);
    ipabs_rating_free(r);
    ipabs_breakeven_free(be);
    ipabs_deal_free(deal);
    return code;
}
