/*
 * results.c — result sets of the embedding API: named tables with typed
 * columns, built from tables of strings (a result CSV read back with
 * csvin.c, or cells the API formats itself).
 *
 * Column types are fixed by the column's name where ipabs knows it, so
 * that a column has the same type in every run: identifiers, names, dates
 * and flags are TEXT; counts and periods are INT; anything else that is
 * numeric is DOUBLE (an empty cell is NaN).  A column ipabs does not
 * know (a sweep's grid key) is DOUBLE if every cell is a number or empty,
 * else TEXT.  A cell that does not fit its type turns the column to TEXT
 * rather than losing what it says.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_internal.h"

typedef struct column {
    char *name;
    ipabs_column_type type;
    double *d;
    int64_t *i;
    char **s;
} column;

struct ipabs_result {
    char *name;
    long rows;
    int cols;
    column *col;
};

struct ipabs_results {
    int n, cap;
    ipabs_result **t;
};

static const char *const text_columns[] = {
    "subject", "measure", "date", "default_date", "payer", "payee", "kind",
    "loan_id", "tranche", "party", "id", "name", "firm", "sector", "class",
    "amortisation", "version", "scenario", "scenario_sha256", "tape_sha256",
    "overrides", "partial", "importance", "simd", NULL};

static const char *const int_columns[] = {
    "period", "defaults", "new_defaults", "seed", "paths_requested", "threads",
    "accelerated", "legal_final", "term", "default_period", NULL};

static bool listed(const char *const *list, const char *name)
{
    for (; *list != NULL; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

/* ---- typing --------------------------------------------------------------- */

static const char *cell_at(const ipabs_table *t, long row, int c)
{
    const char *s = c < t->row_len[row] ? t->cell[row][c] : NULL;
    return s != NULL ? s : "";
}

static bool parse_int(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0)
        return false;
    *out = v;
    return true;
}

/* Empty is NaN; false when the cell is not a number. */
static bool parse_double(const char *s, double *out)
{
    char *end;
    if (*s == '\0') {
        *out = NAN;
        return true;
    }
    *out = strtod(s, &end);
    return *end == '\0';
}

static ipabs_column_type infer(const ipabs_table *t, int c, const char *name)
{
    if (listed(text_columns, name))
        return IPABS_COLUMN_TEXT;
    bool ints = listed(int_columns, name), any = false;
    for (long r = 1; r < t->n_rows; r++) {
        const char *s = cell_at(t, r, c);
        int64_t i;
        double d;
        any |= *s != '\0';
        if (ints && !parse_int(s, &i))
            return IPABS_COLUMN_TEXT;
        if (!ints && !parse_double(s, &d))
            return IPABS_COLUMN_TEXT;
    }
    if (ints)
        return IPABS_COLUMN_INT;
    return any || t->n_rows == 1 ? IPABS_COLUMN_DOUBLE : IPABS_COLUMN_TEXT;
}

static bool fill_column(column *col, const ipabs_table *t, int c)
{
    size_t n = t->n_rows > 1 ? (size_t)(t->n_rows - 1) : 1;
    switch (col->type) {
    case IPABS_COLUMN_INT:
        if ((col->i = calloc(n, sizeof *col->i)) == NULL)
            return false;
        for (long r = 1; r < t->n_rows; r++)
            parse_int(cell_at(t, r, c), &col->i[r - 1]);
        return true;
    case IPABS_COLUMN_DOUBLE:
        if ((col->d = calloc(n, sizeof *col->d)) == NULL)
            return false;
        for (long r = 1; r < t->n_rows; r++)
            parse_double(cell_at(t, r, c), &col->d[r - 1]);
        return true;
    case IPABS_COLUMN_TEXT:
        if ((col->s = calloc(n, sizeof *col->s)) == NULL)
            return false;
        for (long r = 1; r < t->n_rows; r++)
            if ((col->s[r - 1] = strdup(cell_at(t, r, c))) == NULL)
                return false;
        return true;
    }
    return false;
}

/* ---- building --------------------------------------------------------------- */

static void result_free(ipabs_result *t)
{
    if (t == NULL)
        return;
    for (int c = 0; c < t->cols; c++) {
        column *col = &t->col[c];
        if (col->s != NULL)
            for (long r = 0; r < t->rows; r++)
                free(col->s[r]);
        free(col->s);
        free(col->d);
        free(col->i);
        free(col->name);
    }
    free(t->col);
    free(t->name);
    free(t);
}

ipabs_results *ipabs_results_new(void)
{
    return calloc(1, sizeof(ipabs_results));
}

static bool push_table(ipabs_results *r, ipabs_result *t)
{
    if (r->n == r->cap) {
        int cap = r->cap ? 2 * r->cap : 8;
        ipabs_result **v = realloc(r->t, (size_t)cap * sizeof *v);
        if (v == NULL)
            return false;
        r->t = v;
        r->cap = cap;
    }
    r->t[r->n++] = t;
    return true;
}

static ipabs_result *build(const char *name, const ipabs_table *cells)
{
    ipabs_result *t = calloc(1, sizeof *t);
    if (t == NULL || (t->name = strdup(name)) == NULL)
        goto fail;
    int cols = cells->n_rows > 0 ? cells->row_len[0] : 0;
    t->rows = cells->n_rows > 0 ? cells->n_rows - 1 : 0;
    if (cols > 0 && (t->col = calloc((size_t)cols, sizeof *t->col)) == NULL)
        goto fail;
    for (int c = 0; c < cols; c++) {
        t->cols = c + 1;
        column *col = &t->col[c];
        if ((col->name = strdup(cell_at(cells, 0, c))) == NULL)
            goto fail;
        col->type = infer(cells, c, col->name);
        if (!fill_column(col, cells, c))
            goto fail;
    }
    return t;
fail:
    result_free(t);
    return NULL;
}

ipabs_status ipabs_results_add_cells(ipabs_results *r, const char *name,
                                     const ipabs_table *cells, ipabs_error *err)
{
    ipabs_result *t = build(name, cells);
    if (t == NULL || !push_table(r, t)) {
        result_free(t);
        return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    return IPABS_OK;
}

ipabs_status ipabs_results_read_dir(ipabs_results *r, const char *dir,
                                    const char *const *names, ipabs_error *err)
{
    for (; *names != NULL; names++) {
        char path[1100];
        snprintf(path, sizeof path, "%s/%s.csv", dir, *names);
        ipabs_table cells = {0};
        ipabs_status s = ipabs_table_read(path, &cells, err);
        if (s == IPABS_OK)
            s = ipabs_results_add_cells(r, *names, &cells, err);
        ipabs_table_free(&cells);
        if (s != IPABS_OK)
            return s;
    }
    return IPABS_OK;
}

ipabs_status ipabs_api_tempdir(char *dir, size_t size, ipabs_error *err)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || *base == '\0')
        base = "/tmp";
    int n = snprintf(dir, size, "%s/ipabs-XXXXXX", base);
    if (n < 0 || (size_t)n >= size)
        return ipabs_error_set(err, IPABS_EIO, base, 0, 0, NULL,
                               "temporary directory name too long");
    if (mkdtemp(dir) == NULL)
        return ipabs_error_set(err, IPABS_EIO, dir, 0, 0, NULL,
                               "cannot create a temporary directory: %s", strerror(errno));
    return IPABS_OK;
}

void ipabs_api_tempdir_remove(const char *dir, const char *const *names)
{
    char path[1100];
    for (; *names != NULL; names++) {
        snprintf(path, sizeof path, "%s/%s.csv", dir, *names);
        remove(path);
    }
    rmdir(dir);
}

/* ---- accessors -------------------------------------------------------------- */

void ipabs_results_free(ipabs_results *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < r->n; i++)
        result_free(r->t[i]);
    free(r->t);
    free(r);
}

int ipabs_results_count(const ipabs_results *r)
{
    return r != NULL ? r->n : 0;
}

const ipabs_result *ipabs_results_at(const ipabs_results *r, int i)
{
    return r != NULL && i >= 0 && i < r->n ? r->t[i] : NULL;
}

const ipabs_result *ipabs_results_get(const ipabs_results *r, const char *name)
{
    for (int i = 0; r != NULL && name != NULL && i < r->n; i++)
        if (strcmp(r->t[i]->name, name) == 0)
            return r->t[i];
    return NULL;
}

const char *ipabs_result_name(const ipabs_result *t)
{
    return t != NULL ? t->name : NULL;
}

long ipabs_result_rows(const ipabs_result *t)
{
    return t != NULL ? t->rows : 0;
}

int ipabs_result_cols(const ipabs_result *t)
{
    return t != NULL ? t->cols : 0;
}

static const column *col_of(const ipabs_result *t, int c)
{
    return t != NULL && c >= 0 && c < t->cols ? &t->col[c] : NULL;
}

const char *ipabs_result_col_name(const ipabs_result *t, int c)
{
    const column *col = col_of(t, c);
    return col != NULL ? col->name : NULL;
}

ipabs_column_type ipabs_result_col_type(const ipabs_result *t, int c)
{
    const column *col = col_of(t, c);
    return col != NULL ? col->type : IPABS_COLUMN_TEXT;
}

int ipabs_result_find(const ipabs_result *t, const char *name)
{
    for (int c = 0; t != NULL && name != NULL && c < t->cols; c++)
        if (strcmp(t->col[c].name, name) == 0)
            return c;
    return -1;
}

const double *ipabs_result_doubles(const ipabs_result *t, int c)
{
    const column *col = col_of(t, c);
    return col != NULL ? col->d : NULL;
}

const int64_t *ipabs_result_ints(const ipabs_result *t, int c)
{
    const column *col = col_of(t, c);
    return col != NULL ? col->i : NULL;
}

const char *const *ipabs_result_texts(const ipabs_result *t, int c)
{
    const column *col = col_of(t, c);
    return col != NULL ? (const char *const *)col->s : NULL;
}
