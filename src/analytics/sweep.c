/*
 * sweep.c — the Monte Carlo over a grid of scenario keys, one seed for all
 * points, written as one table.
 */
#include "ipabs/sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipabs/csvout.h"
#include "ipabs/scenario.h"

static bool is_number(const char *text)
{
    char *end;
    if (*text == '\0')
        return false;
    (void)strtod(text, &end);
    return *end == '\0';
}

static ipabs_status bad(ipabs_error *err, const char *spec, const char *why)
{
    return ipabs_error_set(err, IPABS_EINPUT, "--grid", 0, 0, NULL, "'%s': %s", spec, why);
}

static ipabs_status add_values(ipabs_sweep_axis *ax, const char *list,
                               const char *spec, ipabs_error *err)
{
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (ax->n_values == IPABS_SWEEP_MAX_VALUES)
            return bad(err, spec, "too many values");
        if (n == 0 || n >= sizeof ax->values[0])
            return bad(err, spec, "expected KEY=V1,V2,... with non-empty numeric values");
        memcpy(ax->values[ax->n_values], p, n);
        ax->values[ax->n_values][n] = '\0';
        if (!is_number(ax->values[ax->n_values]))
            return bad(err, spec, "every value must be a number");
        ax->n_values++;
        if (comma == NULL)
            return IPABS_OK;
        p = comma + 1;
    }
}

ipabs_status ipabs_sweep_add_axis(ipabs_sweep_grid *grid, const char *spec,
                                  ipabs_error *err)
{
    const char *eq = strchr(spec, '=');
    if (eq == NULL || eq == spec || (size_t)(eq - spec) >= sizeof grid->axes[0].key)
        return bad(err, spec, "expected KEY=V1,V2,...");
    if (grid->n_axes == IPABS_SWEEP_MAX_KEYS)
        return bad(err, spec, "too many grid keys");
    ipabs_sweep_axis *ax = &grid->axes[grid->n_axes];
    memset(ax, 0, sizeof *ax);
    memcpy(ax->key, spec, (size_t)(eq - spec));
    for (int a = 0; a < grid->n_axes; a++)
        if (strcmp(grid->axes[a].key, ax->key) == 0)
            return bad(err, spec, "this key is already a grid key");
    ipabs_status s = add_values(ax, eq + 1, spec, err);
    if (s == IPABS_OK)
        grid->n_axes++;
    return s;
}

long ipabs_sweep_points(const ipabs_sweep_grid *grid)
{
    long n = 1;
    for (int a = 0; a < grid->n_axes; a++)
        n *= grid->axes[a].n_values;
    return n;
}

/* ---- one point ------------------------------------------------------------ */

/* The headline measures of every sweep row. */
typedef struct headline {
    const char *subject; /* NULL: each tranche */
    const char *measure;
} headline;

static const headline HEADLINES[] = {
    {NULL, "expected_loss"}, {NULL, "prob_loss"}, {NULL, "irr_mean"},
    {"guarantor", "prob_payout"}, {"guarantor", "expected_guarantee_payout"},
    {"guarantor", "expected_topup"}, {"guarantor", "net_pnl_mean"},
    {"pool", "expected_defaults"}, {"pool", "expected_loss"},
    {"pool", "expected_credit_loss"}};
#define N_HEADLINES (sizeof HEADLINES / sizeof HEADLINES[0])

static void point_overrides(const ipabs_sweep_options *opt, const ipabs_sweep_grid *grid,
                            long point, const char **sets, char (*buf)[200])
{
    for (int i = 0; i < opt->n_sets; i++)
        sets[i] = opt->sets[i];
    long rest = point;
    for (int a = grid->n_axes - 1; a >= 0; a--) {
        const ipabs_sweep_axis *ax = &grid->axes[a];
        snprintf(buf[a], 200, "%s=%s", ax->key, ax->values[rest % ax->n_values]);
        sets[opt->n_sets + a] = buf[a];
        rest /= ax->n_values;
    }
}

static void header(ipabs_csv_out *w, const ipabs_sweep_grid *grid, const ipabs_deal *deal)
{
    char name[256];
    for (int a = 0; a < grid->n_axes; a++)
        ipabs_csv_text(w, grid->axes[a].key);
    for (size_t h = 0; h < N_HEADLINES; h++) {
        int n = HEADLINES[h].subject ? 1 : deal->n_tranches;
        for (int k = 0; k < n; k++) {
            const char *subject = HEADLINES[h].subject ? HEADLINES[h].subject
                                                       : deal->tranches[k].name;
            snprintf(name, sizeof name, "%s.%s", subject, HEADLINES[h].measure);
            ipabs_csv_text(w, name);
            snprintf(name, sizeof name, "%s.%s_se", subject, HEADLINES[h].measure);
            ipabs_csv_text(w, name);
        }
    }
    ipabs_csv_text(w, "paths");
    ipabs_csv_end_row(w);
}

static void row(ipabs_csv_out *w, const ipabs_sweep_grid *grid, const char **sets,
                int n_fixed, const ipabs_deal *deal, const ipabs_mc_result *r)
{
    for (int a = 0; a < grid->n_axes; a++)
        ipabs_csv_text(w, strchr(sets[n_fixed + a], '=') + 1);
    for (size_t h = 0; h < N_HEADLINES; h++) {
        int n = HEADLINES[h].subject ? 1 : deal->n_tranches;
        for (int k = 0; k < n; k++) {
            const char *subject = HEADLINES[h].subject ? HEADLINES[h].subject
                                                       : deal->tranches[k].name;
            double v = NAN, se = NAN;
            ipabs_mc_lookup(deal, r, subject, HEADLINES[h].measure, &v, &se);
            ipabs_csv_num(w, v, -1);
            ipabs_csv_num(w, se, -1);
        }
    }
    ipabs_csv_int(w, r->paths);
    ipabs_csv_end_row(w);
}

static ipabs_status run_point(const ipabs_sweep_options *opt, const char **sets, int n_sets,
                              ipabs_deal **deal, ipabs_mc_result **res, ipabs_errors *errors)
{
    ipabs_status s = ipabs_scenario_load(opt->scenario, sets, n_sets, deal, errors);
    if (s == IPABS_EIO)
        return IPABS_EINPUT; /* an unreadable scenario is an input error */
    if (s != IPABS_OK)
        return s;
    ipabs_mc_options mc = {opt->paths > 0 ? opt->paths : (*deal)->simulation.paths,
                           opt->has_seed ? opt->seed : (*deal)->simulation.seed,
                           opt->threads, opt->stop, NULL, NULL, opt->simd};
    ipabs_error err = {0};
    s = ipabs_mc_run(*deal, &mc, res, &err);
    if (s != IPABS_OK)
        ipabs_errors_add(errors, err.code, err.file, err.line, err.column, err.field, "%s",
                         err.message);
    return s;
}

ipabs_status ipabs_sweep_run(const ipabs_sweep_options *opt,
                             const ipabs_sweep_grid *grid, const char *dir,
                             ipabs_errors *errors)
{
    int n_sets = opt->n_sets + grid->n_axes;
    const char **sets = calloc((size_t)n_sets + 1, sizeof *sets);
    char (*buf)[200] = calloc((size_t)grid->n_axes + 1, sizeof *buf);
    ipabs_csv_out w = {0};
    ipabs_error err = {0};
    ipabs_status s = sets && buf ? ipabs_mkdir_p(dir, &err) : IPABS_ENOMEM;
    if (s == IPABS_OK)
        s = ipabs_csv_open(&w, dir, "sweep.csv", !opt->no_bom, &err);
    if (s != IPABS_OK && err.code != IPABS_OK)
        ipabs_errors_add(errors, err.code, err.file, 0, 0, NULL, "%s", err.message);
    long done = 0;
    for (long p = 0; s == IPABS_OK && p < ipabs_sweep_points(grid); p++) {
        ipabs_deal *deal = NULL;
        ipabs_mc_result *r = NULL;
        point_overrides(opt, grid, p, sets, buf);
        s = run_point(opt, sets, n_sets, &deal, &r, errors);
        if (s == IPABS_OK) {
            if (p == 0)
                header(&w, grid, deal);
            row(&w, grid, sets, opt->n_sets, deal, r);
            done++;
        }
        ipabs_mc_result_free(r);
        ipabs_deal_free(deal);
    }
    /* An interrupted sweep keeps the points it completed. */
    if ((s == IPABS_OK || s == IPABS_EINTERRUPTED) && done > 0 &&
        ipabs_csv_commit(&w, &err) != IPABS_OK) {
        s = err.code;
        ipabs_errors_add(errors, err.code, err.file, 0, 0, NULL, "%s", err.message);
    }
    ipabs_csv_abort(&w);
    free(sets);
    free(buf);
    return s;
}
