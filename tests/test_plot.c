/*
 * test_plot.c — `ipabs plot`: one SVG per chart, well formed, with its
 * title, written next to the CSVs; a directory without results is an input
 * error.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipabs/breakeven.h"
#include "ipabs/csvin.h"
#include "ipabs/montecarlo.h"
#include "ipabs/plot.h"
#include "ipabs/scenario.h"
#include "ipabs/sweep.h"

#include "tmpdir.h"

#define REFERENCE IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs.yaml"

static char *slurp(const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s exists", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *text = calloc((size_t)n + 1, 1);
    cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return text;
}

/* PLplot's SVG driver writes each character as an entity (&#x50; ...). */
static void entities(const char *text, char *out, size_t cap)
{
    out[0] = '\0';
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        size_t used = strlen(out);
        snprintf(out + used, cap - used, "&#x%x;", *p);
    }
}

static void svg_with(const char *name, const char *title)
{
    char *svg = slurp(name), encoded[1024];
    cr_assert(strncmp(svg, "<?xml", 5) == 0, "%s starts as XML", name);
    cr_assert_not_null(strstr(svg, "<svg"), "%s is an SVG", name);
    cr_assert_not_null(strstr(svg, "</svg>"), "%s is complete", name);
    entities(title, encoded, sizeof encoded);
    cr_assert_not_null(strstr(svg, encoded), "%s shows '%s'", name, title);
    free(svg);
}

Test(plot, run_results_give_four_charts, .init = tmpdir_setup, .fini = tmpdir_teardown)
{
    tmpdir_reference_run(20000);
    ipabs_error err;
    int written = 0;
    cr_assert_eq(ipabs_plot_dir(dir, &written, &err), IPABS_OK, "%s", err.message);
    cr_assert_eq(written, 4);
    svg_with("coverage.svg", "Cash-flow coverage ratio");
    svg_with("coverage.svg", "coverage ratio (multiple)");
    svg_with("coverage.svg", "payment period");
    svg_with("loss_distribution.svg", "Pool static loss");
    svg_with("default_count.svg", "Number of defaults");
    svg_with("cdr.svg", "cumulative default ratio");
    /* Issue 12, item 7: every axis has a title with its unit. */
    svg_with("loss_distribution.svg", "pool static loss (yuan)");
    svg_with("loss_distribution.svg", "probability (fraction)");
    svg_with("default_count.svg", "defaults (count)");
    svg_with("cdr.svg", "payment period");
    svg_with("cdr.svg", "cumulative default ratio (fraction of the pool)");
}

Test(plot, sweep_gives_one_chart_per_measure, .init = tmpdir_setup, .fini = tmpdir_teardown)
{
    ipabs_sweep_grid grid = {0};
    ipabs_error err;
    cr_assert_eq(ipabs_sweep_add_axis(&grid, "model.correlation=0.1,0.3", &err), IPABS_OK);
    cr_assert_eq(ipabs_sweep_add_axis(&grid, "model.pd_multiplier=1,1.5", &err), IPABS_OK);
    ipabs_sweep_options opt = {REFERENCE, NULL, 0, 3000, 1, 3, 2, NULL, false, 0};
    ipabs_errors errors = {0};
    cr_assert_eq(ipabs_sweep_run(&opt, &grid, dir, &errors), IPABS_OK);
    char path[600];
    snprintf(path, sizeof path, "%s/sweep.csv", dir);
    ipabs_table t;
    cr_assert_eq(ipabs_table_read(path, &t, &err), IPABS_OK);
    int measures = (t.row_len[0] - 2 - 1) / 2; /* two keys, then value/se pairs, then paths */
    ipabs_table_free(&t);
    int written = 0;
    cr_assert_eq(ipabs_plot_dir(dir, &written, &err), IPABS_OK, "%s", err.message);
    cr_assert_eq(written, measures);
    svg_with("sweep-senior.expected_loss.svg", "senior.expected_loss");
    svg_with("sweep-senior.expected_loss.svg", "model.correlation (fraction)");
    svg_with("sweep-senior.expected_loss.svg", "senior.expected_loss (yuan)");
    svg_with("sweep-senior.prob_loss.svg", "senior.prob_loss (fraction)");
    svg_with("sweep-pool.expected_defaults.svg", "pool.expected_defaults (count)");
    snprintf(path, sizeof path, "%s/sweep-model.pd_multiplier.svg", dir);
    cr_assert_neq(access(path, F_OK), 0, "a grid key is not a measure");
}

/* Issue 12, item 7: the breakeven chart had no axis titles. */
Test(plot, breakeven_chart_has_axis_titles, .init = tmpdir_setup, .fini = tmpdir_teardown)
{
    ipabs_deal *deal = NULL;
    ipabs_errors errors = {0};
    cr_assert_eq(ipabs_scenario_load(REFERENCE, NULL, 0, &deal, &errors), IPABS_OK);
    ipabs_breakeven_result *be = NULL;
    ipabs_error err;
    cr_assert_eq(ipabs_breakeven_run(deal, &be, &err), IPABS_OK, "%s", err.message);
    cr_assert_eq(ipabs_breakeven_write(deal, be, dir, true, &err), IPABS_OK, "%s", err.message);
    int written = 0;
    cr_assert_eq(ipabs_plot_dir(dir, &written, &err), IPABS_OK, "%s", err.message);
    cr_assert_eq(written, 1);
    svg_with("breakeven.svg", "Breakeven default rate by stress");
    svg_with("breakeven.svg", "stress scenario");
    svg_with("breakeven.svg", "breakeven default rate (fraction of the pool)");
    ipabs_breakeven_free(be);
    ipabs_deal_free(deal);
}

/* Issue 12, item 7: the result-CSV reader takes a file with or without the
 * UTF-8 byte-order mark, and the mark is not part of the first cell. */
Test(plot, csv_reader_accepts_both_with_and_without_byte_order_mark, .init = tmpdir_setup,
     .fini = tmpdir_teardown)
{
    static const char body[] = "subject,measure,value\n优先A1,prob_loss,0.0023\n";
    char path[2][600];
    for (int k = 0; k < 2; k++) {
        snprintf(path[k], sizeof path[k], "%s/t%d.csv", dir, k);
        FILE *f = fopen(path[k], "wb");
        cr_assert_not_null(f);
        if (k == 1)
            fputs("\xEF\xBB\xBF", f);
        fputs(body, f);
        fclose(f);
    }
    for (int k = 0; k < 2; k++) {
        ipabs_table t;
        ipabs_error err;
        cr_assert_eq(ipabs_table_read(path[k], &t, &err), IPABS_OK, "%s", err.message);
        cr_expect_eq(t.n_rows, 2);
        cr_expect_str_eq(t.cell[0][0], "subject", "%s", path[k]);
        cr_expect_eq(ipabs_table_col(&t, "subject"), 0, "%s", path[k]);
        cr_expect_str_eq(t.cell[1][0], "优先A1", "%s", path[k]);
        ipabs_table_free(&t);
    }
}

/* The unit convention of axis titles (docs/measures.md). */
Test(plot, units_follow_the_names)
{
    cr_expect_str_eq(ipabs_unit_of("prob_loss"), "fraction");
    cr_expect_str_eq(ipabs_unit_of("expected_loss_fraction"), "fraction");
    cr_expect_str_eq(ipabs_unit_of("expected_loss"), "yuan");
    cr_expect_str_eq(ipabs_unit_of("wal_years"), "years");
    cr_expect_str_eq(ipabs_unit_of("expected_defaults"), "count");
    cr_expect_str_eq(ipabs_unit_of("model.pd_multiplier"), "multiple");
    cr_expect_str_eq(ipabs_unit_of("cumulative_default_ratio_q99"), "fraction");
    cr_expect_str_eq(ipabs_unit_of("stress"), "");
    cr_expect_str_eq(ipabs_unit_of("coverage_ratio_no_default"), "multiple");
    char buf[64];
    ipabs_axis_title("bdr", buf, sizeof buf);
    cr_expect_str_eq(buf, "bdr (fraction)");
}

Test(plot, a_directory_without_results_is_an_input_error, .init = tmpdir_setup, .fini = tmpdir_teardown)
{
    int written = -1;
    ipabs_error err;
    cr_assert_eq(ipabs_plot_dir(dir, &written, &err), IPABS_EINPUT);
    cr_assert_eq(written, 0);
}
