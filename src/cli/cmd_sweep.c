/*
 * cmd_sweep.c — `ipabs sweep SCENARIO -o DIR --grid KEY=V1,V2,... [...]`.
 */
#include <stdio.h>

#include "cli.h"
#include "ipabs/resultdir.h"
#include "ipabs/sweep.h"
#include "ipabs/workbook.h"

int cmd_sweep(const cli_args *a)
{
    if (a->out_dir == NULL || a->n_grids == 0) {
        fputs("ipabs: sweep needs -o DIR and at least one --grid KEY=V1,V2,...\n", stderr);
        return 2;
    }
    ipabs_sweep_grid grid = {0};
    ipabs_error err = {0};
    for (int g = 0; g < a->n_grids; g++)
        if (ipabs_sweep_add_axis(&grid, a->grids[g], &err) != IPABS_OK)
            return cli_fail(&err);
    cli_install_signal_handlers();
    ipabs_sweep_options opt = {a->scenario, a->sets, a->n_sets, a->paths, a->has_seed,
                               a->seed, a->threads, cli_stop_flag(), a->no_bom,
                               a->simd};
    ipabs_errors errors = {0};
    ipabs_result_dir d = {0};
    int code;
    const char *tmp = cli_out_begin(a, &d, &code);
    if (tmp == NULL)
        return code;
    if (!a->quiet)
        fprintf(stderr, "ipabs: sweeping %ld points\n", ipabs_sweep_points(&grid));
    ipabs_status s = ipabs_sweep_run(&opt, &grid, tmp, &errors);
    ipabs_errors_print(stderr, &errors);
    ipabs_errors_clear(&errors);
    /* An interrupted sweep keeps the points it completed; one with no
     * completed point writes nothing (the empty set is not committed). */
    code = cli_out_finish(&d, s == IPABS_EINTERRUPTED ? 130 : ipabs_status_exit_code(s));
    if (code != 0)
        return code;
    if (!a->quiet)
        printf("wrote %s/sweep.csv\n", a->out_dir);
    return cli_workbook(a, IPABS_RESULT_SWEEP);
}
