/*
 * workbook.c — result CSVs into an .xlsx workbook with charts.
 *
 * Cell typing: a cell that is entirely a number is written as a number, an
 * ISO date (YYYY-MM-DD) as a date, anything else as text.  Number formats
 * follow the column (or, in summary.csv, the measure): probabilities and
 * rates as percentages, amounts in yuan with thousands separators, counts
 * as integers.
 */
#include "ipabs/workbook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "ipabs/csvin.h"

typedef enum cell_kind { FMT_GENERAL, FMT_PCT, FMT_YUAN, FMT_INT, FMT_DATE, FMT_COUNT_ } cell_kind;

typedef struct book {
    lxw_workbook *wb;
    lxw_format *fmt[FMT_COUNT_];
    lxw_format *header;
    const char *dir;
    ipabs_error *err;
} book;

/* A chart of one sheet: y against x, by column name. */
typedef struct chart_spec {
    lxw_chart_type type;
    const char *x;
    const char *y;
    const char *title;
} chart_spec;

typedef struct sheet_spec {
    const char *csv;
    const char *sheet;
    chart_spec charts[2];
    int n_charts;
    bool all_columns_charted; /* sweep: one chart per measure column */
} sheet_spec;

/* ---- formats -------------------------------------------------------------- */

static bool contains(const char *s, const char *part)
{
    return strstr(s, part) != NULL;
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The format of a summary row's value, by its measure. */
static cell_kind measure_kind(const char *m)
{
    if (starts(m, "prob_") || contains(m, "share") || starts(m, "irr") ||
        contains(m, "fraction") ||
        starts(m, "cumulative_default_ratio") || contains(m, "all_in_cost"))
        return FMT_PCT;
    if (contains(m, "defaults") || contains(m, "years") ||
        starts(m, "quadrature") || starts(m, "precision") || starts(m, "horizon"))
        return FMT_GENERAL;
    return FMT_YUAN;
}

/* The format of a column, by its header. */
static cell_kind column_kind(const char *h)
{
    static const char *const ints[] = {"period", "defaults", "paths", "threads", "seed",
                                       "loans", "periods", "paths_requested", NULL};
    for (const char *const *p = ints; *p != NULL; p++)
        if (strcmp(h, *p) == 0)
            return FMT_INT;
    if (contains(h, "coverage")) /* a multiple, not a percentage */
        return FMT_GENERAL;
    if (contains(h, "prob") || contains(h, "ratio") || contains(h, "share") ||
        contains(h, "efficiency") || contains(h, "bdr") || contains(h, "tdr") ||
        contains(h, "margin") || contains(h, "irr") || contains(h, "coupon") ||
        contains(h, "correlation") || contains(h, "rate"))
        return FMT_PCT;
    if (contains(h, "loss") || contains(h, "amount") || contains(h, "balance") ||
        contains(h, "payout") || contains(h, "topup") || contains(h, "pnl") ||
        contains(h, "fee") || contains(h, "cash") || contains(h, "interest") ||
        contains(h, "principal") || contains(h, "recovery"))
        return FMT_YUAN;
    return FMT_GENERAL;
}

static void make_formats(book *b)
{
    static const char *const num[FMT_COUNT_] = {"General", "0.0000%", "#,##0.00", "0",
                                                "yyyy-mm-dd"};
    for (int k = 0; k < FMT_COUNT_; k++) {
        b->fmt[k] = workbook_add_format(b->wb);
        format_set_num_format(b->fmt[k], num[k]);
    }
    b->header = workbook_add_format(b->wb);
    format_set_bold(b->header);
}

/* ---- cells ---------------------------------------------------------------- */

static bool iso_date(const char *s, lxw_datetime *d)
{
    int y, m, day;
    char tail;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
        sscanf(s, "%4d-%2d-%2d%c", &y, &m, &day, &tail) != 3)
        return false;
    *d = (lxw_datetime){y, m, day, 0, 0, 0.0};
    return true;
}

static void write_cell(book *b, lxw_worksheet *ws, const ipabs_table *t, int r, int c,
                       cell_kind kind)
{
    const char *s = t->cell[r][c];
    double v;
    lxw_datetime d;
    if (ipabs_table_num(t, r, c, &v))
        worksheet_write_number(ws, (lxw_row_t)r, (lxw_col_t)c, v, b->fmt[kind]);
    else if (iso_date(s, &d))
        worksheet_write_datetime(ws, (lxw_row_t)r, (lxw_col_t)c, &d, b->fmt[FMT_DATE]);
    else if (*s != '\0')
        worksheet_write_string(ws, (lxw_row_t)r, (lxw_col_t)c, s, NULL);
}

static void write_table(book *b, lxw_worksheet *ws, const ipabs_table *t)
{
    int measure = ipabs_table_col(t, "measure");
    for (int c = 0; c < t->row_len[0]; c++) {
        worksheet_write_string(ws, 0, (lxw_col_t)c, t->cell[0][c], b->header);
        worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, c == 0 ? 22 : 16, NULL);
    }
    for (int r = 1; r < t->n_rows; r++)
        for (int c = 0; c < t->row_len[r]; c++) {
            /* A standard error is in the unit of the value it qualifies. */
            int unit_col = c > 0 && strcmp(t->cell[0][c], "std_error") == 0 ? c - 1 : c;
            cell_kind kind = measure >= 0 && c > measure && measure < t->row_len[r]
                ? measure_kind(t->cell[r][measure]) : column_kind(t->cell[0][unit_col]);
            if (measure >= 0 && strcmp(t->cell[0][c], "paths") == 0)
                kind = FMT_INT;
            write_cell(b, ws, t, r, c, kind);
        }
    worksheet_freeze_panes(ws, 1, 0);
}

/* ---- charts --------------------------------------------------------------- */

static void add_chart(book *b, lxw_worksheet *ws, const char *sheet, const ipabs_table *t,
                      const chart_spec *cs, int slot)
{
    int x = ipabs_table_col(t, cs->x), y = ipabs_table_col(t, cs->y);
    if (x < 0 || y < 0 || t->n_rows < 2)
        return;
    char cats[160], vals[160];
    lxw_chart *chart = workbook_add_chart(b->wb, cs->type);
    snprintf(cats, sizeof cats, "='%s'!$%c$2:$%c$%d", sheet, 'A' + x, 'A' + x, t->n_rows);
    lxw_chart_series *series = chart_add_series(chart, NULL, NULL);
    chart_series_set_categories(series, sheet, 1, (lxw_col_t)x, (lxw_row_t)(t->n_rows - 1),
                                (lxw_col_t)x);
    chart_series_set_values(series, sheet, 1, (lxw_col_t)y, (lxw_row_t)(t->n_rows - 1),
                            (lxw_col_t)y);
    (void)vals;
    char xtitle[300], ytitle[300];
    ipabs_axis_title(cs->x, xtitle, sizeof xtitle);
    ipabs_axis_title(cs->y, ytitle, sizeof ytitle);
    chart_title_set_name(chart, cs->title);
    chart_axis_set_name(chart->x_axis, xtitle);
    chart_axis_set_name(chart->y_axis, ytitle);
    chart_legend_set_position(chart, LXW_CHART_LEGEND_NONE);
    worksheet_insert_chart(ws, (lxw_row_t)(1 + 18 * slot), (lxw_col_t)(t->row_len[0] + 1), chart);
}

/* Sweep: each measure column (not a key, not a standard error, not paths)
 * against the first grid key. */
static void sweep_charts(book *b, lxw_worksheet *ws, const char *sheet, const ipabs_table *t)
{
    int slot = 0;
    for (int c = 1; c < t->row_len[0]; c++) {
        const char *h = t->cell[0][c];
        size_t n = strlen(h);
        if (strchr(h, '.') == NULL || (n > 3 && strcmp(h + n - 3, "_se") == 0))
            continue;
        if (!contains(h, "senior") && !contains(h, "sub") && !contains(h, "guarantor") &&
            !contains(h, "pool"))
            continue;
        chart_spec cs = {LXW_CHART_SCATTER_STRAIGHT_WITH_MARKERS, t->cell[0][0], h, h};
        add_chart(b, ws, sheet, t, &cs, slot++);
    }
}

/* ---- sheets --------------------------------------------------------------- */

static ipabs_status add_sheet(book *b, const sheet_spec *spec)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", b->dir, spec->csv);
    ipabs_table t;
    ipabs_status s = ipabs_table_read(path, &t, b->err);
    if (s != IPABS_OK)
        return s;
    lxw_worksheet *ws = workbook_add_worksheet(b->wb, spec->sheet);
    if (t.n_rows > 0) {
        write_table(b, ws, &t);
        for (int i = 0; i < spec->n_charts; i++)
            add_chart(b, ws, spec->sheet, &t, &spec->charts[i], i);
        if (spec->all_columns_charted)
            sweep_charts(b, ws, spec->sheet, &t);
    }
    ipabs_table_free(&t);
    return IPABS_OK;
}

static const sheet_spec RUN_SHEETS[] = {
    {"summary.csv", "summary", {{0}}, 0, false},
    {"default_count.csv", "default_count",
     {{LXW_CHART_COLUMN, "defaults", "probability", "Number of defaults"}}, 1, false},
    {"loss_distribution.csv", "loss_distribution",
     {{LXW_CHART_COLUMN, "loss_to", "probability", "Pool static loss distribution"}}, 1, false},
    {"cdr.csv", "cdr",
     {{LXW_CHART_LINE, "date", "expected_cumulative_default_ratio",
       "Expected cumulative default ratio"}}, 1, false},
    {"coverage.csv", "coverage",
     {{LXW_CHART_LINE, "date", "coverage_ratio_no_default",
       "Cash-flow coverage ratio, no-default path"}}, 1, false},
    {"default_count_by_period.csv", "default_count_by_period", {{0}}, 0, false},
    {"run.csv", "run", {{0}}, 0, false},
};

static const sheet_spec SWEEP_SHEETS[] = {
    {"sweep.csv", "sweep", {{0}}, 0, true},
};

static const sheet_spec RATE_SHEETS[] = {
    {"rating.csv", "rating", {{0}}, 0, false},
    {"rating_summary.csv", "rating_summary", {{0}}, 0, false},
    {"breakeven.csv", "breakeven",
     {{LXW_CHART_BAR, "stress", "bdr", "Breakeven default rate by stress"}}, 1, false},
};

static ipabs_status add_sheets(book *b, ipabs_result_kind kind)
{
    const sheet_spec *specs = RUN_SHEETS;
    size_t n = sizeof RUN_SHEETS / sizeof RUN_SHEETS[0];
    if (kind == IPABS_RESULT_SWEEP) {
        specs = SWEEP_SHEETS;
        n = sizeof SWEEP_SHEETS / sizeof SWEEP_SHEETS[0];
    } else if (kind == IPABS_RESULT_RATE) {
        specs = RATE_SHEETS;
        n = sizeof RATE_SHEETS / sizeof RATE_SHEETS[0];
    }
    ipabs_status s = IPABS_OK;
    for (size_t i = 0; s == IPABS_OK && i < n; i++)
        s = add_sheet(b, &specs[i]);
    return s;
}

ipabs_status ipabs_workbook_write(const char *xlsx_path, const char *dir,
                                  ipabs_result_kind kind, ipabs_error *err)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", xlsx_path, (long)getpid());
    book b = {workbook_new(tmp), {0}, NULL, dir, err};
    if (b.wb == NULL)
        return ipabs_error_set(err, IPABS_EIO, xlsx_path, 0, 0, NULL, "cannot create the workbook");
    make_formats(&b);
    ipabs_status s = add_sheets(&b, kind);
    lxw_error rc = workbook_close(b.wb);
    if (s == IPABS_OK && rc != LXW_NO_ERROR)
        s = ipabs_error_set(err, IPABS_EIO, xlsx_path, 0, 0, NULL, "cannot write: %s",
                            lxw_strerror(rc));
    if (s == IPABS_OK && rename(tmp, xlsx_path) != 0)
        s = ipabs_error_set(err, IPABS_EIO, xlsx_path, 0, 0, NULL, "cannot rename into place");
    if (s != IPABS_OK)
        remove(tmp);
    return s;
}
