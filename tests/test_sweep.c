/*
 * test_sweep.c — a sweep is the Monte Carlo at each grid point with the
 * same seed: each row equals a separate run of that point.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipabs/scenario.h"
#include "ipabs/sweep.h"

#define REFERENCE IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs.yaml"

static void setup(void)
{
    ipabs_init();
}

/* Split a CSV line of unquoted cells into doubles (numbers only). */
static int cells(char *line, double *out, int max)
{
    int n = 0;
    for (char *tok = strtok(line, ",\n"); tok != NULL && n < max; tok = strtok(NULL, ",\n"))
        out[n++] = strtod(tok, NULL);
    return n;
}

static double run_point(const char *override, uint64_t seed, long long paths,
                        const char *subject, const char *measure)
{
    const char *sets[] = {override};
    ipabs_deal *deal = NULL;
    ipabs_errors errors = {0};
    cr_assert_eq(ipabs_scenario_load(REFERENCE, sets, 1, &deal, &errors), IPABS_OK);
    ipabs_mc_options opt = {paths, seed, 2, NULL, NULL, NULL, 0};
    ipabs_mc_result *r = NULL;
    ipabs_error err;
    cr_assert_eq(ipabs_mc_run(deal, &opt, &r, &err), IPABS_OK);
    double v, se;
    cr_assert(ipabs_mc_lookup(deal, r, subject, measure, &v, &se));
    ipabs_mc_result_free(r);
    ipabs_deal_free(deal);
    ipabs_errors_clear(&errors);
    return v;
}

Test(sweep, two_points_equal_two_separate_runs, .init = setup)
{
    char dir[] = "/tmp/ipabs-sweep-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    ipabs_sweep_grid grid = {0};
    ipabs_error err;
    cr_assert_eq(ipabs_sweep_add_axis(&grid, "model.correlation=0.05,0.35", &err), IPABS_OK);
    cr_assert_eq(ipabs_sweep_points(&grid), 2);
    ipabs_sweep_options opt = {REFERENCE, NULL, 0, 30000, 1, 424242, 2, NULL, false, 0};
    ipabs_errors errors = {0};
    cr_assert_eq(ipabs_sweep_run(&opt, &grid, dir, &errors), IPABS_OK);
    char path[256], line[8192];
    snprintf(path, sizeof path, "%s/sweep.csv", dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(line, sizeof line, f));
    cr_assert(strncmp(line, "\xEF\xBB\xBF", 3) == 0, "sweep.csv begins with the byte-order mark");
    memmove(line, line + 3, strlen(line) - 2);
    cr_assert(strncmp(line, "model.correlation,senior.expected_loss,", 39) == 0, "%s", line);
    /* Column 1 is the key, then value/se pairs: senior.expected_loss is
     * column 2, pool.expected_defaults further right; find it by name. */
    int pool_col = -1, col = 0;
    for (char *tok = strtok(line, ",\n"); tok != NULL; tok = strtok(NULL, ",\n"), col++)
        if (strcmp(tok, "pool.expected_defaults") == 0)
            pool_col = col;
    cr_assert_gt(pool_col, 0);
    const char *points[] = {"model.correlation=0.05", "model.correlation=0.35"};
    for (int p = 0; p < 2; p++) {
        double v[128];
        cr_assert_not_null(fgets(line, sizeof line, f));
        cells(line, v, 128);
        double senior = run_point(points[p], 424242, 30000, "senior", "expected_loss");
        double defaults = run_point(points[p], 424242, 30000, "pool", "expected_defaults");
        cr_assert(fabs(v[1] - senior) <= 1e-9 * (1.0 + fabs(senior)), "%g vs %g", v[1], senior);
        cr_assert(fabs(v[pool_col] - defaults) <= 1e-12, "%g vs %g", v[pool_col], defaults);
    }
    fclose(f);
    unlink(path);
    rmdir(dir);
}

Test(sweep, bad_grid_specifications_are_rejected, .init = setup)
{
    const char *bad[] = {"model.correlation", "=0.1,0.2", "model.correlation=",
                         "model.correlation=0.1,,0.2", "model.correlation=0.1,abc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ipabs_sweep_grid grid = {0};
        ipabs_error err;
        cr_assert_eq(ipabs_sweep_add_axis(&grid, bad[i], &err), IPABS_EINPUT, "%s", bad[i]);
        cr_assert_str_eq(err.file, "--grid");
    }
    ipabs_sweep_grid grid = {0};
    ipabs_error err;
    cr_assert_eq(ipabs_sweep_add_axis(&grid, "model.pd_multiplier=1,2", &err), IPABS_OK);
    cr_assert_eq(ipabs_sweep_add_axis(&grid, "model.pd_multiplier=3", &err), IPABS_EINPUT);
}

Test(sweep, an_invalid_value_at_a_point_is_an_input_error, .init = setup)
{
    char dir[] = "/tmp/ipabs-sweep-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    ipabs_sweep_grid grid = {0};
    ipabs_error err;
    cr_assert_eq(ipabs_sweep_add_axis(&grid, "model.correlation=0.2,1.5", &err), IPABS_OK);
    ipabs_sweep_options opt = {REFERENCE, NULL, 0, 5000, 1, 1, 1, NULL, false, 0};
    ipabs_errors errors = {0};
    cr_assert_eq(ipabs_sweep_run(&opt, &grid, dir, &errors), IPABS_EINPUT);
    cr_assert_gt(errors.count, 0);
    bool named = false;
    for (size_t i = 0; i < errors.count; i++)
        named |= strstr(errors.items[i].field, "correlation") != NULL;
    cr_assert(named, "the error names the key");
    ipabs_errors_clear(&errors);
    char path[256];
    snprintf(path, sizeof path, "%s/sweep.csv", dir);
    cr_assert_neq(access(path, F_OK), 0, "no sweep.csv after a failed sweep");
    rmdir(dir);
}
