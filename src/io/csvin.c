/*
 * csvin.c — result CSVs read back with libcsv.
 */
#include "ipabs/csvin.h"
#include "ipabs/file.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct reader {
    ipabs_table *t;
    char **row;
    int len, cap;
    bool oom;
} reader;

static void on_field(void *data, size_t n, void *ctx)
{
    reader *r = ctx;
    if (r->oom)
        return;
    if (r->len == r->cap) {
        int cap = r->cap ? 2 * r->cap : 16;
        char **row = realloc(r->row, (size_t)cap * sizeof *row);
        if (row == NULL) {
            r->oom = true;
            return;
        }
        r->row = row;
        r->cap = cap;
    }
    char *cell = malloc(n + 1);
    if (cell == NULL) {
        r->oom = true;
        return;
    }
    memcpy(cell, data, n);
    cell[n] = '\0';
    r->row[r->len++] = cell;
}

static void on_row(int c, void *ctx)
{
    (void)c;
    reader *r = ctx;
    ipabs_table *t = r->t;
    if (r->oom)
        return;
    char ***cells = realloc(t->cell, ((size_t)t->n_rows + 1) * sizeof *cells);
    int *lens = realloc(t->row_len, ((size_t)t->n_rows + 1) * sizeof *lens);
    if (cells != NULL)
        t->cell = cells;
    if (lens != NULL)
        t->row_len = lens;
    if (cells == NULL || lens == NULL) {
        r->oom = true;
        return;
    }
    t->cell[t->n_rows] = r->row;
    t->row_len[t->n_rows++] = r->len;
    if (r->len > t->n_cols)
        t->n_cols = r->len;
    r->row = NULL;
    r->len = r->cap = 0;
}

/* A header and rows of its length: every reader may then index any row by
 * the header's columns (a short row was read out of bounds, a long one
 * overflowed the workbook's columns). */
static ipabs_status check_shape(const char *path, const ipabs_table *t, ipabs_error *err)
{
    if (t->n_rows == 0)
        return ipabs_error_set(err, IPABS_EINPUT, path, 1, 0, NULL,
                               "empty; expected a header row naming the columns");
    for (int i = 1; i < t->n_rows; i++)
        if (t->row_len[i] != t->row_len[0])
            return ipabs_error_set(err, IPABS_EINPUT, path, i + 1, 0, NULL,
                                   "row %d has %d fields, the header has %d", i + 1,
                                   t->row_len[i], t->row_len[0]);
    return IPABS_OK;
}

ipabs_status ipabs_table_read(const char *path, ipabs_table *t, ipabs_error *err)
{
    memset(t, 0, sizeof *t);
    char why[160];
    FILE *f = ipabs_file_open_regular(path, IPABS_RESULT_MAX_BYTES, why, sizeof why);
    if (f == NULL)
        return ipabs_error_set(err, IPABS_EIO, path, 0, 0, NULL, "cannot read: %s", why);
    struct csv_parser p;
    reader r = {t, NULL, 0, 0, false};
    csv_init(&p, CSV_APPEND_NULL);
    char buf[65536];
    size_t n;
    ipabs_status s = IPABS_OK;
    bool first = true;
    while (s == IPABS_OK && (n = fread(buf, 1, sizeof buf, f)) > 0) {
        /* A UTF-8 byte-order mark (written by default, for Excel) is not
         * part of the first cell. */
        size_t skip = first && n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
        first = false;
        if (csv_parse(&p, buf + skip, n - skip, on_field, on_row, &r) != n - skip)
            s = ipabs_error_set(err, IPABS_EINPUT, path, t->n_rows + 1, 0, NULL,
                                "not valid CSV: %s", csv_strerror(csv_error(&p)));
    }
    if (s == IPABS_OK)
        csv_fini(&p, on_field, on_row, &r);
    csv_free(&p);
    fclose(f);
    for (int i = 0; i < r.len; i++)
        free(r.row[i]);
    free(r.row);
    if (s == IPABS_OK && r.oom)
        s = ipabs_error_set(err, IPABS_ENOMEM, path, 0, 0, NULL, "out of memory");
    if (s == IPABS_OK)
        s = check_shape(path, t, err);
    if (s != IPABS_OK)
        ipabs_table_free(t);
    return s;
}

void ipabs_table_free(ipabs_table *t)
{
    for (int i = 0; i < t->n_rows; i++) {
        for (int j = 0; j < t->row_len[i]; j++)
            free(t->cell[i][j]);
        free(t->cell[i]);
    }
    free(t->cell);
    free(t->row_len);
    memset(t, 0, sizeof *t);
}

int ipabs_table_col(const ipabs_table *t, const char *name)
{
    if (t->n_rows == 0)
        return -1;
    for (int j = 0; j < t->row_len[0]; j++)
        if (strcmp(t->cell[0][j], name) == 0)
            return j;
    return -1;
}

bool ipabs_table_num(const ipabs_table *t, int row, int col, double *out)
{
    if (row < 0 || row >= t->n_rows || col < 0 || col >= t->row_len[row])
        return false;
    const char *s = t->cell[row][col];
    char *end;
    if (*s == '\0')
        return false;
    *out = strtod(s, &end);
    return *end == '\0' && isfinite(*out);
}

/* ---- units ------------------------------------------------------------------ */

static bool has_any(const char *s, const char *const *words)
{
    for (; *words != NULL; words++)
        if (strstr(s, *words) != NULL)
            return true;
    return false;
}

/* The first matching group wins: "prob_loss" is a fraction, not an amount,
 * "expected_defaults" a count, a coverage ratio (现金流覆盖倍数) a multiple. */
const char *ipabs_unit_of(const char *name)
{
    static const char *const years[] = {"years", NULL};
    static const char *const dates[] = {"date", NULL};
    static const char *const multiple[] = {"multiplier", "coverage", NULL};
    static const char *const fraction[] = {
        "prob", "irr", "ratio", "share", "fraction", "coverage", "correlation", "rate",
        "bdr", "tdr", "margin", "annual_pd", "loading", NULL};
    static const char *const count[] = {"defaults", "paths", "threads", NULL};
    static const char *const period[] = {"period", NULL};
    static const char *const yuan[] = {
        "loss", "amount", "balance", "payout", "topup", "pnl", "fee", "cash", "interest",
        "principal", "recovery", "shortfall", "exposure", NULL};
    if (has_any(name, years))
        return "years";
    if (has_any(name, dates))
        return "date";
    if (has_any(name, multiple))
        return "multiple";
    if (has_any(name, fraction))
        return "fraction";
    if (has_any(name, count))
        return "count";
    if (has_any(name, period))
        return "payment period";
    if (has_any(name, yuan))
        return "yuan";
    return "";
}

void ipabs_axis_title(const char *name, char *buf, size_t cap)
{
    const char *u = ipabs_unit_of(name);
    if (u[0] == '\0')
        snprintf(buf, cap, "%s", name);
    else
        snprintf(buf, cap, "%s (%s)", name, u);
}
