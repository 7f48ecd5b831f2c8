/*
 * cmd_plot.c — `ipabs plot DIR`: SVG charts of the result CSVs in DIR.
 */
#include <stdio.h>

#include "cli.h"
#include "ipabs/plot.h"

int cmd_plot(const cli_args *a)
{
    int written = 0;
    ipabs_error err = {0};
    /* The positional argument is the result directory. */
    if (ipabs_plot_dir(a->scenario, &written, &err) != IPABS_OK)
        return cli_fail(&err);
    if (!a->quiet)
        printf("wrote %d SVG chart%s in %s\n", written, written == 1 ? "" : "s", a->scenario);
    return 0;
}
