/*
 * scenario_tape.c — the loan tape: a CSV file (read with libcsv) whose
 * header line names the columns and whose every other row is one loan.
 *
 * The file is fed to libcsv one physical line at a time, so that each field
 * knows the line it starts on even when a quoted field spans lines; the
 * column of an error is the field's 1-based number in its row.  Each row is
 * checked cell by cell against a column table (name, required, reader,
 * destination in ipabs_loan, range); a bad cell is reported and the row
 * goes on.  The checks that involve several cells or the YAML (term
 * against deal.legal_final, Beta feasibility of the recovery, factor
 * loadings, ratings and PD curves) run once a row is read, the duplicate-id
 * check once the file is read.
 */
#include "scenario_internal.h"

#include "ipabs/file.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tape_column {
    COL_LOAN_ID, COL_FIRM, COL_SECTOR, COL_PRINCIPAL, COL_RATE, COL_TERM,
    COL_AMORT, COL_GUARANTEE_FEE, COL_ANNUAL_PD, COL_IP_TYPE, COL_IP_VALUE,
    COL_RECOVERY_MEAN, COL_RECOVERY_SD, COL_RECOVERY_LAG, COL_DISPOSAL_COST,
    COL_RATING, COL_PD_CURVE, COL_FACTOR_LOADING, COL_OTHER_CHARGES, COL_SUBSIDY,
    COL_DAY_COUNT, COL_GRACE, COL_CPR, COL_N
};

#define COL_BIT(col) (1u << (col))

typedef struct tape_cell {
    char *text; /* NUL-terminated copy */
    size_t len;
    int line;   /* physical line the field starts on */
    bool bad;   /* not UTF-8: reported, not read */
} tape_cell;

typedef struct tape_reader {
    scn_ctx *c;
    const char *path;
    int line;                /* physical line being fed to libcsv */
    bool in_row;             /* a row has started and not ended */
    int row_start_line;
    bool stopped;            /* CSV syntax error or no memory: ignore the rest */
    tape_cell *cells;        /* the current row */
    int n_cells, cap_cells;
    int header_line;
    int n_header;            /* fields in the header; 0 until it is read */
    int *field_column;       /* header field -> enum tape_column, or -1 */
    int column_field[COL_N]; /* enum tape_column -> header field, or -1 */
    int n_rows;              /* data rows seen */
    int cap_loans;
    struct name_index *indexes; /* sorted model names: ratings, curves, sectors */
} tape_reader;

/* The names of one model list, sorted, with their positions: a loan's
 * rating, PD curve or sector is found by binary search, so that reading
 * n loans against m names costs O(n log m), not O(n m). */
typedef struct name_index {
    int n;
    struct name_pos {
        const char *name;
        int index;
    } *items;
} name_index;

enum { INDEX_RATINGS, INDEX_CURVES, INDEX_SECTORS, INDEX_N };

static int compare_name_pos(const void *a, const void *b)
{
    return strcmp(((const struct name_pos *)a)->name, ((const struct name_pos *)b)->name);
}

typedef const char *(*model_name_fn)(const struct ipabs_model *m, int i);

/* Position of name among the n names of name_at, or -1; the index of
 * list `which` is built on first use (no memory: a linear search). */
static int find_name(tape_reader *t, int which, model_name_fn name_at, int n,
                     const char *name)
{
    const ipabs_model *m = &t->c->deal->model;
    if (t->indexes == NULL)
        t->indexes = calloc(INDEX_N, sizeof *t->indexes);
    name_index *x = t->indexes ? &t->indexes[which] : NULL;
    if (x != NULL && x->items == NULL && n > 0 &&
        (x->items = malloc((size_t)n * sizeof *x->items)) != NULL) {
        for (int i = 0; i < n; i++)
            x->items[i] = (struct name_pos){name_at(m, i), i};
        qsort(x->items, (size_t)n, sizeof *x->items, compare_name_pos);
        x->n = n;
    }
    if (x == NULL || x->items == NULL) {
        for (int i = 0; i < n; i++)
            if (strcmp(name_at(m, i), name) == 0)
                return i;
        return -1;
    }
    struct name_pos key = {name, 0};
    const struct name_pos *hit = bsearch(&key, x->items, (size_t)x->n, sizeof *x->items,
                                         compare_name_pos);
    return hit ? hit->index : -1;
}

typedef struct column_spec column_spec;

/* Check one cell and store it in the loan; false when it is wrong (the
 * error is already recorded). */
typedef bool (*cell_reader)(tape_reader *t, const tape_cell *cell, scn_pos at,
                            ipabs_loan *loan, const column_spec *col);

struct column_spec {
    const char *name;
    bool required;
    cell_reader read;
    size_t offset;
    scn_range range;
};

enum { TEXT_CAP = 80 };

static void *at_offset(void *base, size_t offset)
{
    return (char *)base + offset;
}

/* ---- cell readers --------------------------------------------------------- */

static bool cell_value(tape_reader *t, const tape_cell *cell, scn_pos at,
                       const column_spec *col, bool integer, double *x)
{
    char what[64], text[TEXT_CAP];
    scn_range_text(&col->range, integer, what, sizeof what);
    scn_clip(cell->text, text, sizeof text);
    if (cell->len == 0) {
        scn_error(t->c, at, col->name, "expected %s, got an empty cell", what);
        return false;
    }
    if (!scn_parse_number(cell->text, x) || (integer && *x != floor(*x))) {
        scn_error(t->c, at, col->name, "expected %s, got '%s'", what, text);
        return false;
    }
    if (!scn_in_range(*x, &col->range)) {
        scn_error(t->c, at, col->name, "must be %s (got %s)", what, text);
        return false;
    }
    return true;
}

static bool cell_number(tape_reader *t, const tape_cell *cell, scn_pos at,
                        ipabs_loan *loan, const column_spec *col)
{
    double x;
    if (!cell_value(t, cell, at, col, false, &x))
        return false;
    *(double *)at_offset(loan, col->offset) = x;
    return true;
}

static bool cell_int(tape_reader *t, const tape_cell *cell, scn_pos at,
                     ipabs_loan *loan, const column_spec *col)
{
    double x;
    if (!cell_value(t, cell, at, col, true, &x))
        return false;
    *(int *)at_offset(loan, col->offset) = (int)x;
    return true;
}

static bool cell_text(tape_reader *t, const tape_cell *cell, scn_pos at,
                      ipabs_loan *loan, const column_spec *col)
{
    if (cell->len == 0) {
        scn_error(t->c, at, col->name, "must not be empty");
        return false;
    }
    char *copy = scn_strdup(t->c, cell->text);
    *(char **)at_offset(loan, col->offset) = copy;
    return copy != NULL;
}

static bool cell_amortisation(tape_reader *t, const tape_cell *cell, scn_pos at,
                              ipabs_loan *loan, const column_spec *col)
{
    static const ipabs_loan_amort kinds[] = {
        IPABS_LOAN_BULLET, IPABS_LOAN_LEVEL_PRINCIPAL, IPABS_LOAN_ANNUITY,
        IPABS_LOAN_SCHEDULE};
    char text[TEXT_CAP], hint[96];
    scn_suggest s;
    scn_suggest_init(&s, cell->text);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const char *name = ipabs_loan_amort_name(kinds[i]);
        if (strcmp(cell->text, name) == 0) {
            loan->amort = kinds[i];
            return true;
        }
        scn_suggest_offer(&s, name);
    }
    scn_clip(cell->text, text, sizeof text);
    scn_hint_text(scn_suggest_best(&s), hint, sizeof hint);
    scn_error(t->c, at, col->name,
              "expected one of bullet, level_principal, annuity, schedule, "
              "got '%s'%s",
              text, hint);
    return false;
}

static const char *rating_name(const ipabs_model *m, int i)
{
    return m->rating_names[i];
}

static const char *curve_name(const ipabs_model *m, int i)
{
    return m->curves[i].name;
}

/* A name that the model must define (rating, PD curve); an empty cell =
 * not given (NULL). */
static bool cell_lookup(tape_reader *t, const tape_cell *cell, scn_pos at,
                        const column_spec *col, const char *table, int which,
                        model_name_fn name_at, int n, char **dst)
{
    const ipabs_model *m = &t->c->deal->model;
    bool found = false;
    scn_suggest s;
    if (cell->len == 0)
        return true;
    found = find_name(t, which, name_at, n, cell->text) >= 0;
    /* The "did you mean" search (an edit distance per name) only for an
     * error that will be shown. */
    scn_suggest_init(&s, cell->text);
    for (int i = 0; !found && !ipabs_errors_full(t->c->errors) && i < n; i++)
        scn_suggest_offer(&s, name_at(m, i));
    if (!found && t->c->model_lists_ok) {
        char text[TEXT_CAP], hint[96];
        scn_clip(cell->text, text, sizeof text);
        scn_hint_text(scn_suggest_best(&s), hint, sizeof hint);
        scn_error(t->c, at, col->name, "'%s' is not in %s%s%s", text, table,
                  n == 0 ? " (the scenario gives none)" : "", hint);
        return false;
    }
    *dst = scn_strdup(t->c, cell->text);
    return *dst != NULL;
}

static bool cell_rating(tape_reader *t, const tape_cell *cell, scn_pos at,
                        ipabs_loan *loan, const column_spec *col)
{
    return cell_lookup(t, cell, at, col, "model.pd_table", INDEX_RATINGS, rating_name,
                       t->c->deal->model.n_ratings, &loan->rating);
}

static bool cell_pd_curve(tape_reader *t, const tape_cell *cell, scn_pos at,
                          ipabs_loan *loan, const column_spec *col)
{
    return cell_lookup(t, cell, at, col, "model.pd_curves", INDEX_CURVES, curve_name,
                       t->c->deal->model.n_curves, &loan->pd_curve);
}

/* An optional number: an empty cell keeps the default (for
 * factor_loading, sqrt(model.correlation); for the cost columns, 0). */
static bool cell_optional_number(tape_reader *t, const tape_cell *cell, scn_pos at,
                                 ipabs_loan *loan, const column_spec *col)
{
    return cell->len == 0 || cell_number(t, cell, at, loan, col);
}

static bool cell_optional_int(tape_reader *t, const tape_cell *cell, scn_pos at,
                              ipabs_loan *loan, const column_spec *col)
{
    return cell->len == 0 || cell_int(t, cell, at, loan, col);
}

/* A loan's own day count; an empty cell takes loans.day_count. */
static bool cell_daycount(tape_reader *t, const tape_cell *cell, scn_pos at,
                          ipabs_loan *loan, const column_spec *col)
{
    static const ipabs_daycount kinds[] = {
        IPABS_DAYCOUNT_30_360, IPABS_DAYCOUNT_ACT_365F, IPABS_DAYCOUNT_ACT_360};
    if (cell->len == 0)
        return true;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(cell->text, ipabs_daycount_name(kinds[i])) == 0) {
            loan->daycount = kinds[i];
            loan->daycount_given = true;
            return true;
        }
    char text[TEXT_CAP];
    scn_clip(cell->text, text, sizeof text);
    scn_error(t->c, at, col->name,
              "expected one of 30/360, ACT/365F, ACT/360 (or empty for "
              "loans.day_count), got '%s'", text);
    return false;
}

#define LOAN(f) offsetof(ipabs_loan, f)
#define NUMBER(lo, lo_open, hi, hi_open) {(lo), (hi), (lo_open), (hi_open)}

static const column_spec columns[COL_N] = {
    [COL_LOAN_ID] = {"loan_id", true, cell_text, LOAN(id), {0}},
    [COL_FIRM] = {"firm", true, cell_text, LOAN(firm), {0}},
    [COL_SECTOR] = {"sector", true, cell_text, LOAN(sector), {0}},
    [COL_PRINCIPAL] = {"principal", true, cell_number, LOAN(principal),
                       NUMBER(0.0, true, SCN_MAX_AMOUNT, false)},
    [COL_RATE] = {"rate", true, cell_number, LOAN(rate),
                  NUMBER(0.0, false, 1.0, true)},
    [COL_TERM] = {"term", true, cell_int, LOAN(term),
                  NUMBER(1.0, false, 600.0, false)},
    [COL_AMORT] = {"amortisation", true, cell_amortisation, LOAN(amort), {0}},
    [COL_GUARANTEE_FEE] = {"guarantee_fee_rate", true, cell_number,
                           LOAN(guarantee_fee_rate),
                           NUMBER(0.0, false, 1.0, true)},
    [COL_ANNUAL_PD] = {"annual_pd", true, cell_number, LOAN(pd_annual),
                       NUMBER(0.0, false, 1.0, true)},
    [COL_IP_TYPE] = {"ip_type", true, cell_text, LOAN(ip_type), {0}},
    [COL_IP_VALUE] = {"ip_value", true, cell_number, LOAN(ip_value),
                      NUMBER(0.0, false, SCN_MAX_AMOUNT, false)},
    [COL_RECOVERY_MEAN] = {"recovery_mean", true, cell_number,
                           LOAN(recovery_mean), NUMBER(0.0, false, 1.0, false)},
    [COL_RECOVERY_SD] = {"recovery_sd", true, cell_number, LOAN(recovery_sd),
                         NUMBER(0.0, false, INFINITY, false)},
    [COL_RECOVERY_LAG] = {"recovery_lag", true, cell_int, LOAN(recovery_lag),
                          NUMBER(0.0, false, 600.0, false)},
    [COL_DISPOSAL_COST] = {"disposal_cost", true, cell_number,
                           LOAN(disposal_cost),
                           NUMBER(0.0, false, SCN_MAX_AMOUNT, false)},
    [COL_RATING] = {"rating", false, cell_rating, 0, {0}},
    [COL_PD_CURVE] = {"pd_curve", false, cell_pd_curve, 0, {0}},
    [COL_FACTOR_LOADING] = {"factor_loading", false, cell_optional_number,
                            LOAN(factor_loading),
                            NUMBER(-1.0, false, 1.0, false)},
    [COL_OTHER_CHARGES] = {"other_charges_rate", false, cell_optional_number,
                           LOAN(other_charges_rate), NUMBER(0.0, false, 1.0, true)},
    [COL_SUBSIDY] = {"subsidy_rate", false, cell_optional_number, LOAN(subsidy_rate),
                     NUMBER(0.0, false, 1.0, true)},
    [COL_DAY_COUNT] = {"day_count", false, cell_daycount, 0, {0}},
    [COL_GRACE] = {"grace_periods", false, cell_optional_int, LOAN(grace_periods),
                   NUMBER(0.0, false, 599.0, false)},
    [COL_CPR] = {"prepayment_cpr", false, cell_optional_number, LOAN(cpr),
                 NUMBER(0.0, false, 1.0, true)},
};

/* ---- checks across the cells of a row ------------------------------------- */

static scn_pos cell_pos(const tape_reader *t, int field)
{
    return (scn_pos){t->path, t->cells[field].line, field + 1};
}

static scn_pos column_pos(const tape_reader *t, int col)
{
    return cell_pos(t, t->column_field[col]);
}

static void check_term(tape_reader *t, const ipabs_loan *loan, unsigned ok)
{
    /* Terms count the loans' own (collection) periods; with a
     * loans.frequency that cannot be used (reported there), no derived
     * error here. */
    int m = scn_pay_every(t->c);
    if (m == 1 && t->c->loan_frequency != 0 && t->c->loan_frequency != t->c->deal->frequency)
        return;
    int legal_final = t->c->deal->legal_final * m;
    if ((ok & COL_BIT(COL_TERM)) && legal_final > 0 && loan->term > legal_final)
        scn_error(t->c, column_pos(t, COL_TERM), "term",
                  m > 1 ? "must be <= deal.legal_final (%d) in collection periods "
                          "(got %d)"
                        : "must be <= deal.legal_final (%d) (got %d)",
                  legal_final, loan->term);
}

/* Grace periods pay interest only before a level or annuity schedule
 * starts; the last period always repays, so at most term - 1 of them. */
static void check_grace(tape_reader *t, const ipabs_loan *loan, unsigned ok)
{
    unsigned need = COL_BIT(COL_GRACE) | COL_BIT(COL_TERM) | COL_BIT(COL_AMORT);
    if ((ok & need) != need || loan->grace_periods == 0)
        return;
    if (loan->amort != IPABS_LOAN_LEVEL_PRINCIPAL && loan->amort != IPABS_LOAN_ANNUITY)
        scn_error(t->c, column_pos(t, COL_GRACE), "grace_periods",
                  "applies to level_principal and annuity loans only (this "
                  "loan is %s; leave the cell empty or 0)",
                  ipabs_loan_amort_name(loan->amort));
    else if (loan->grace_periods >= loan->term)
        scn_error(t->c, column_pos(t, COL_GRACE), "grace_periods",
                  "must be < term (%d) so that the loan amortises (got %d)",
                  loan->term, loan->grace_periods);
}

/* A Beta distribution with mean m and standard deviation s > 0 exists iff
 * s^2 < m (1 - m). */
static void check_beta(tape_reader *t, const ipabs_loan *loan, unsigned ok)
{
    unsigned both = COL_BIT(COL_RECOVERY_MEAN) | COL_BIT(COL_RECOVERY_SD);
    double m = loan->recovery_mean, s = loan->recovery_sd;
    if ((ok & both) != both || s == 0.0 || s * s < m * (1.0 - m))
        return;
    scn_error(t->c, column_pos(t, COL_RECOVERY_SD), "recovery_sd",
              "%.15g is too large for recovery_mean %.15g: no Beta "
              "distribution has that mean and standard deviation (it needs "
              "recovery_sd^2 < mean*(1-mean), i.e. recovery_sd < %.6g)",
              s, m, sqrt(m * (1.0 - m)));
}

static const char *sector_name(const ipabs_model *m, int i)
{
    return m->sector_names[i];
}

static int sector_index(tape_reader *t, const ipabs_model *m, const char *sector)
{
    return sector == NULL ? -1 : find_name(t, INDEX_SECTORS, sector_name, m->n_sectors, sector);
}

/* The global loading (default sqrt(model.correlation)) and the sector
 * loading must leave room for the idiosyncratic term: a^2 + s^2 <= 1. */
static void resolve_loadings(tape_reader *t, ipabs_loan *loan, unsigned ok)
{
    const ipabs_model *m = &t->c->deal->model;
    bool column = t->column_field[COL_FACTOR_LOADING] >= 0;
    if (column && !(ok & COL_BIT(COL_FACTOR_LOADING)))
        return; /* a bad cell, already reported */
    bool given = !isnan(loan->factor_loading);
    if (!given)
        loan->factor_loading = sqrt(m->correlation);
    loan->sector_index = sector_index(t, m, loan->sector);
    if (loan->sector_index < 0)
        return;
    double a = loan->factor_loading, s = m->sector_loading[loan->sector_index];
    if (a * a + s * s <= 1.0 + 1e-12)
        return;
    int col = given ? COL_FACTOR_LOADING : COL_SECTOR;
    char sector[TEXT_CAP];
    scn_clip(loan->sector, sector, sizeof sector);
    scn_error(t->c, column_pos(t, col), columns[col].name,
              "factor loading a = %.15g%s and sector '%s' loading s = %.15g "
              "give a^2 + s^2 = %.6g > 1; the idiosyncratic weight "
              "sqrt(1 - a^2 - s^2) would not exist",
              a, given ? "" : " (sqrt(model.correlation))", sector, s,
              a * a + s * s);
}

/* ---- rows ----------------------------------------------------------------- */

static ipabs_loan *new_loan(tape_reader *t)
{
    ipabs_deal *d = t->c->deal;
    if (d->n_loans == t->cap_loans) {
        int cap = t->cap_loans ? 2 * t->cap_loans : 16;
        ipabs_loan *bigger = realloc(d->loans, (size_t)cap * sizeof *bigger);
        if (bigger == NULL) {
            scn_oom(t->c);
            t->stopped = true;
            return NULL;
        }
        d->loans = bigger;
        t->cap_loans = cap;
    }
    ipabs_loan *loan = &d->loans[d->n_loans++];
    memset(loan, 0, sizeof *loan);
    loan->sector_index = -1;
    loan->factor_loading = NAN; /* = not given */
    loan->cpr = NAN;            /* = loans.prepayment_cpr */
    return loan;
}

static void take_loan(tape_reader *t)
{
    ipabs_loan *loan = new_loan(t);
    unsigned ok = 0;
    if (loan == NULL)
        return;
    loan->tape_line = t->cells[0].line;
    for (int col = 0; col < COL_N; col++) {
        int f = t->column_field[col];
        if (f < 0 || t->cells[f].bad)
            continue;
        if (columns[col].read(t, &t->cells[f], cell_pos(t, f), loan,
                              &columns[col]))
            ok |= COL_BIT(col);
    }
    check_term(t, loan, ok);
    check_grace(t, loan, ok);
    check_beta(t, loan, ok);
    resolve_loadings(t, loan, ok);
}

static int column_index(const char *name)
{
    for (int col = 0; col < COL_N; col++)
        if (strcmp(columns[col].name, name) == 0)
            return col;
    return -1;
}

static void report_unknown_column(tape_reader *t, int f)
{
    const tape_cell *cell = &t->cells[f];
    char text[TEXT_CAP], tail[400];
    scn_suggest s;
    scn_suggest_init(&s, cell->text);
    size_t used = (size_t)snprintf(tail, sizeof tail, "; the columns are");
    for (int col = 0; col < COL_N; col++) {
        scn_suggest_offer(&s, columns[col].name);
        if (used < sizeof tail)
            used += (size_t)snprintf(tail + used, sizeof tail - used, "%s %s%s",
                                     col ? "," : "", columns[col].name,
                                     columns[col].required ? "" : " (optional)");
    }
    if (scn_suggest_best(&s) != NULL)
        scn_hint_text(scn_suggest_best(&s), tail, sizeof tail);
    scn_clip(cell->text, text, sizeof text);
    if (cell->len == 0)
        scn_error(t->c, cell_pos(t, f), NULL, "empty column name in the header");
    else
        scn_error(t->c, cell_pos(t, f), text, "unknown column '%s'%s", text, tail);
}

static int header_field(tape_reader *t, int f)
{
    const tape_cell *cell = &t->cells[f];
    if (cell->bad)
        return -1;
    int col = column_index(cell->text);
    if (col < 0) {
        report_unknown_column(t, f);
        return -1;
    }
    if (t->column_field[col] >= 0) {
        scn_error(t->c, cell_pos(t, f), columns[col].name,
                  "duplicate column '%s' (first at column %d)",
                  columns[col].name, t->column_field[col] + 1);
        return -1;
    }
    t->column_field[col] = f;
    return col;
}

static void take_header(tape_reader *t)
{
    t->header_line = t->cells[0].line;
    t->field_column = malloc((size_t)t->n_cells * sizeof *t->field_column);
    if (t->field_column == NULL) {
        scn_oom(t->c);
        t->stopped = true;
        return;
    }
    t->n_header = t->n_cells;
    for (int f = 0; f < t->n_cells; f++)
        t->field_column[f] = header_field(t, f);
    for (int col = 0; col < COL_N; col++)
        if (columns[col].required && t->column_field[col] < 0)
            scn_error(t->c, (scn_pos){t->path, t->header_line, 0},
                      columns[col].name, "missing required column '%s'",
                      columns[col].name);
}

/* The column name of field f, for messages; NULL in the header. */
static const char *field_name(const tape_reader *t, int f)
{
    if (f >= t->n_header || t->field_column[f] < 0)
        return NULL;
    return columns[t->field_column[f]].name;
}

static void check_cells_utf8(tape_reader *t)
{
    for (int f = 0; f < t->n_cells; f++) {
        tape_cell *cell = &t->cells[f];
        size_t bad = scn_utf8_invalid(cell->text, cell->len);
        if (bad < cell->len)
            scn_error(t->c, cell_pos(t, f), field_name(t, f),
                      "invalid UTF-8 (byte 0x%02X at byte %zu of the field); "
                      "the tape must be UTF-8 text",
                      (unsigned char)cell->text[bad], bad + 1);
        else if (strlen(cell->text) != cell->len)
            scn_error(t->c, cell_pos(t, f), field_name(t, f),
                      "contains a NUL byte");
        else
            continue;
        cell->bad = true;
    }
}

static void take_row(tape_reader *t)
{
    check_cells_utf8(t);
    if (t->n_header == 0) {
        take_header(t);
        return;
    }
    t->n_rows++;
    if (t->n_cells != t->n_header) {
        scn_error(t->c, (scn_pos){t->path, t->cells[0].line, 0}, NULL,
                  "expected %d fields as in the header (line %d), got %d; "
                  "the row is skipped",
                  t->n_header, t->header_line, t->n_cells);
        return;
    }
    take_loan(t);
}

/* ---- libcsv callbacks and feeding ----------------------------------------- */

static int count_newlines(const char *s, size_t n)
{
    int k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == '\n';
    return k;
}

static void on_field(void *data, size_t len, void *reader)
{
    tape_reader *t = reader;
    if (t->stopped)
        return;
    if (t->n_cells == t->cap_cells) {
        int cap = t->cap_cells ? 2 * t->cap_cells : 32;
        tape_cell *bigger = realloc(t->cells, (size_t)cap * sizeof *bigger);
        if (bigger == NULL) {
            scn_oom(t->c);
            t->stopped = true;
            return;
        }
        t->cells = bigger;
        t->cap_cells = cap;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL) {
        scn_oom(t->c);
        t->stopped = true;
        return;
    }
    if (len > 0)
        memcpy(copy, data, len);
    copy[len] = '\0';
    /* The field ends on the line being fed; it starts as many lines up as
     * it holds newlines. */
    t->cells[t->n_cells++] =
        (tape_cell){copy, len, t->line - count_newlines(copy, len), false};
}

static void clear_row(tape_reader *t)
{
    for (int f = 0; f < t->n_cells; f++)
        free(t->cells[f].text);
    t->n_cells = 0;
}

static void on_row(int terminator, void *reader)
{
    tape_reader *t = reader;
    (void)terminator;
    t->in_row = false;
    if (!t->stopped && t->n_cells > 0)
        take_row(t);
    clear_row(t);
}

static void report_csv_failure(tape_reader *t, struct csv_parser *p, int line,
                               const char *what)
{
    t->stopped = true;
    if (csv_error(p) != CSV_EPARSE) {
        scn_oom(t->c);
        return;
    }
    scn_error(t->c, (scn_pos){t->path, line, t->n_cells + 1}, NULL,
              "%s; the rest of the tape is not read", what);
}

static bool is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

/* Feed the physical line at buf[off..]; returns the offset after it. */
static size_t feed_line(tape_reader *t, struct csv_parser *p, const char *buf,
                        size_t len, size_t off)
{
    const char *nl = memchr(buf + off, '\n', len - off);
    size_t n = nl ? (size_t)(nl - (buf + off)) + 1 : len - off;
    if (!t->in_row && !is_blank(buf + off, n)) {
        t->in_row = true;
        t->row_start_line = t->line;
    }
    if (csv_parse(p, buf + off, n, on_field, on_row, t) != n && !t->stopped)
        report_csv_failure(t, p, t->line,
                           "malformed field: a field with a quote in it must "
                           "be quoted as a whole, and each quote inside "
                           "written twice (\"\")");
    if (nl != NULL)
        t->line++;
    return off + n;
}

static void parse_tape(tape_reader *t, const char *buf, size_t len)
{
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        scn_oom(t->c);
        return;
    }
    size_t off = len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    t->line = 1;
    while (off < len && !t->stopped)
        off = feed_line(t, &p, buf, len, off);
    if (!t->stopped && csv_fini(&p, on_field, on_row, t) != 0)
        report_csv_failure(t, &p, t->row_start_line,
                           "a quoted field is not closed before the end of "
                           "the file");
    csv_free(&p);
}

/* ---- the whole tape ------------------------------------------------------- */

static int compare_loans_by_id(const void *a, const void *b)
{
    const ipabs_loan *x = *(const ipabs_loan *const *)a;
    const ipabs_loan *y = *(const ipabs_loan *const *)b;
    int order = strcmp(x->id, y->id);
    if (order != 0)
        return order;
    return (x->tape_line > y->tape_line) - (x->tape_line < y->tape_line);
}

/* Sort by (id, line) so that each repeat names the first occurrence. */
static void check_duplicate_ids(tape_reader *t)
{
    const ipabs_deal *d = t->c->deal;
    const ipabs_loan **sorted = malloc((size_t)d->n_loans * sizeof *sorted);
    int n = 0;
    if (sorted == NULL) {
        scn_oom(t->c);
        return;
    }
    for (int i = 0; i < d->n_loans; i++)
        if (d->loans[i].id != NULL)
            sorted[n++] = &d->loans[i];
    qsort(sorted, (size_t)n, sizeof *sorted, compare_loans_by_id);
    for (int i = 1, first = 0; i < n; i++) {
        if (strcmp(sorted[i]->id, sorted[first]->id) != 0) {
            first = i;
            continue;
        }
        char id[TEXT_CAP];
        scn_clip(sorted[i]->id, id, sizeof id);
        scn_error(t->c,
                  (scn_pos){t->path, sorted[i]->tape_line,
                            t->column_field[COL_LOAN_ID] + 1},
                  "loan_id", "duplicate loan id '%s' (first at line %d)", id,
                  sorted[first]->tape_line);
    }
    free(sorted);
}

static void finish_tape(tape_reader *t)
{
    if (t->stopped)
        return;
    if (t->n_header == 0)
        scn_error(t->c, (scn_pos){t->path, 1, 0}, NULL,
                  "the loan tape is empty; expected a header line naming the "
                  "columns, then one loan per line");
    else if (t->n_rows == 0)
        scn_error(t->c, (scn_pos){t->path, t->header_line, 0}, NULL,
                  "the loan tape has a header but no loans");
    else if (t->c->deal->n_loans > 0)
        check_duplicate_ids(t);
}

void scn_read_tape(scn_ctx *c)
{
    char *buf = NULL;
    size_t len = 0;
    char why[160];
    int failure = scn_read_file(c->tape_path, IPABS_TAPE_MAX_BYTES, &buf, &len, why,
                                sizeof why);
    if (failure == ENOMEM) {
        scn_oom(c);
        return;
    }
    if (failure != 0) {
        ipabs_errors_add(c->errors, IPABS_EIO, c->tape_path, 0, 0, "loans.tape",
                         "cannot read the loan tape: %s (named by loans.tape "
                         "at %s:%d)", why, c->tape_key_pos.file,
                         c->tape_key_pos.line);
        return;
    }
    tape_reader t = {.c = c, .path = c->tape_path};
    for (int col = 0; col < COL_N; col++)
        t.column_field[col] = -1;
    size_t before = ipabs_errors_total(c->errors);
    parse_tape(&t, buf, len);
    finish_tape(&t);
    c->tape_ok = ipabs_errors_total(c->errors) == before && !t.stopped &&
                 c->deal->n_loans > 0;
    clear_row(&t);
    free(t.cells);
    free(t.field_column);
    for (int k = 0; t.indexes != NULL && k < INDEX_N; k++)
        free(t.indexes[k].items);
    free(t.indexes);
    free(buf);
}
