/*
 * scenario_files.c — the input files a scenario names besides the tape:
 *
 *   deal.calendar   the business-day calendar: `date,type` rows, type
 *                   `holiday` (a weekday on which nothing is paid) or
 *                   `workday` (a weekend day worked, 调休).  No calendar
 *                   data is built in: the user gives the exchange's list.
 *   loans.schedule  explicit principal schedules: `loan_id,period,principal`
 *                   rows for the loans whose amortisation is `schedule`.
 *
 * Both are read after the tape, with positioned errors (scenario_csv.c),
 * and stored in the deal: dates sorted for binary search, schedules as
 * fractions of the loan's principal (so that a loan split by the rating
 * analytics keeps its shape).
 */
#include "scenario_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TEXT_CAP = 80 };

/* ---- deal.calendar ---------------------------------------------------------- */

enum { CAL_DATE, CAL_TYPE, CAL_N };
static const char *const calendar_columns[CAL_N] = {"date", "type"};

typedef struct calendar_reader {
    scn_ctx *c;
    const char *path;
    ipabs_date *days[2]; /* holidays, workdays */
    int n[2], cap[2];
    int *lines[2];       /* where each was given, for duplicate messages */
} calendar_reader;

static bool push_day(calendar_reader *r, int kind, ipabs_date d, int line)
{
    if (r->n[kind] == r->cap[kind]) {
        int cap = r->cap[kind] ? 2 * r->cap[kind] : 32;
        ipabs_date *days = realloc(r->days[kind], (size_t)cap * sizeof *days);
        if (days != NULL)
            r->days[kind] = days;
        int *lines = realloc(r->lines[kind], (size_t)cap * sizeof *lines);
        if (lines != NULL)
            r->lines[kind] = lines;
        if (days == NULL || lines == NULL) {
            scn_oom(r->c);
            return false;
        }
        r->cap[kind] = cap;
    }
    r->days[kind][r->n[kind]] = d;
    r->lines[kind][r->n[kind]++] = line;
    return true;
}

static void calendar_row(void *user, const scn_csv_cell *const *col, int line)
{
    calendar_reader *r = user;
    const scn_csv_cell *date = col[CAL_DATE], *type = col[CAL_TYPE];
    ipabs_date d;
    char text[TEXT_CAP];
    if (!ipabs_date_parse(date->text, &d)) {
        scn_clip(date->text, text, sizeof text);
        scn_error(r->c, (scn_pos){r->path, date->line, date->field}, "date",
                  "expected a date YYYY-MM-DD, got '%s'", text);
        return;
    }
    bool weekend = ipabs_date_weekday(d) >= 5;
    if (strcmp(type->text, "holiday") == 0) {
        push_day(r, 0, d, line);
    } else if (strcmp(type->text, "workday") == 0) {
        if (!weekend)
            scn_error(r->c, (scn_pos){r->path, date->line, date->field}, "date",
                      "%s is a weekday, already a business day; `workday` "
                      "rows name weekend days that are worked (调休)",
                      date->text);
        else
            push_day(r, 1, d, line);
    } else {
        scn_clip(type->text, text, sizeof text);
        scn_error(r->c, (scn_pos){r->path, type->line, type->field}, "type",
                  "expected holiday or workday, got '%s'", text);
    }
}

typedef struct dated_line {
    ipabs_date d;
    int line;
} dated_line;

static int compare_dated(const void *a, const void *b)
{
    const dated_line *x = a, *y = b;
    int c = ipabs_date_compare(x->d, y->d);
    return c != 0 ? c : (x->line > y->line) - (x->line < y->line);
}

/* Sort one list by date (O(n log n)), report repeats, and keep it sorted. */
static void sort_days(calendar_reader *r, int kind)
{
    int n = r->n[kind];
    dated_line *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (v == NULL) {
        scn_oom(r->c);
        return;
    }
    for (int i = 0; i < n; i++)
        v[i] = (dated_line){r->days[kind][i], r->lines[kind][i]};
    qsort(v, (size_t)n, sizeof *v, compare_dated);
    for (int i = 0; i < n; i++) {
        r->days[kind][i] = v[i].d;
        if (i > 0 && ipabs_date_compare(v[i].d, v[i - 1].d) == 0) {
            char text[11];
            ipabs_date_format(v[i].d, text);
            scn_error(r->c, (scn_pos){r->path, v[i].line, 1}, "date",
                      "%s is listed twice (first at line %d)", text,
                      v[i - 1].line);
        }
    }
    free(v);
}

void scn_read_calendar(scn_ctx *c)
{
    if (c->calendar_given == NULL)
        return;
    char *path = scn_join_path(c, c->calendar_given);
    if (path == NULL)
        return;
    calendar_reader r = {.c = c, .path = path};
    size_t before = c->errors->count;
    scn_csv_read(c, path, "deal.calendar", c->calendar_key_pos,
                 calendar_columns, CAL_N, calendar_row, &r);
    sort_days(&r, 0);
    sort_days(&r, 1);
    if (c->errors->count == before) {
        c->deal->holidays = r.days[0], c->deal->n_holidays = r.n[0];
        c->deal->workdays = r.days[1], c->deal->n_workdays = r.n[1];
        r.days[0] = r.days[1] = NULL;
    }
    free(r.days[0]);
    free(r.days[1]);
    free(r.lines[0]);
    free(r.lines[1]);
    free(path);
}

/* ---- loans.schedule --------------------------------------------------------- */

enum { SCH_LOAN, SCH_PERIOD, SCH_PRINCIPAL, SCH_N };
static const char *const schedule_columns[SCH_N] = {"loan_id", "period", "principal"};

typedef struct schedule_reader {
    scn_ctx *c;
    const char *path;
    struct loan_key *by_id; /* loans sorted by id, for O(log n) lookups */
    int **line_of;  /* per schedule loan: line of each period's row (0 = none) */
} schedule_reader;

typedef struct loan_key {
    const char *id;
    int index;
} loan_key;

static int find_loan(const schedule_reader *r, const char *id)
{
    const ipabs_deal *d = r->c->deal;
    int lo = 0, hi = d->n_loans - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(r->by_id[mid].id, id);
        if (c == 0)
            return r->by_id[mid].index;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static bool schedule_cell_number(schedule_reader *r, const scn_csv_cell *cell,
                                 const char *what, bool integer, double lo,
                                 double hi, double *out)
{
    char text[TEXT_CAP];
    if (scn_parse_number(cell->text, out) && *out >= lo && *out <= hi &&
        (!integer || *out == floor(*out)))
        return true;
    scn_clip(cell->text, text, sizeof text);
    if (integer)
        scn_error(r->c, (scn_pos){r->path, cell->line, cell->field}, what,
                  "expected an integer in [%.0f, %.0f], got '%s'", lo, hi, text);
    else
        scn_error(r->c, (scn_pos){r->path, cell->line, cell->field}, what,
                  "expected a number > 0, got '%s'", text);
    return false;
}

static void schedule_row(void *user, const scn_csv_cell *const *col, int line)
{
    schedule_reader *r = user;
    const scn_csv_cell *id = col[SCH_LOAN];
    int i = find_loan(r, id->text);
    char text[TEXT_CAP];
    if (i < 0) {
        scn_clip(id->text, text, sizeof text);
        scn_error(r->c, (scn_pos){r->path, id->line, id->field}, "loan_id",
                  "loan '%s' is not in the tape", text);
        return;
    }
    ipabs_loan *l = &r->c->deal->loans[i];
    if (l->amort != IPABS_LOAN_SCHEDULE) {
        scn_clip(id->text, text, sizeof text);
        scn_error(r->c, (scn_pos){r->path, id->line, id->field}, "loan_id",
                  "loan '%s' has amortisation %s in the tape; only "
                  "`schedule` loans take rows here", text,
                  ipabs_loan_amort_name(l->amort));
        return;
    }
    double period, amount;
    bool ok = schedule_cell_number(r, col[SCH_PERIOD], "period", true, 1.0,
                                   l->term, &period);
    ok = schedule_cell_number(r, col[SCH_PRINCIPAL], "principal", false, 1e-300,
                              INFINITY, &amount) && ok;
    if (!ok || l->schedule == NULL)
        return;
    int t = (int)period;
    if (r->line_of[i][t] != 0) {
        scn_error(r->c, (scn_pos){r->path, line, col[SCH_PERIOD]->field},
                  "period", "loan %s: period %d is given twice (first at line %d)",
                  l->id, t, r->line_of[i][t]);
        return;
    }
    r->line_of[i][t] = line;
    l->schedule[t] = amount;
}

static int compare_ids(const void *a, const void *b)
{
    return strcmp(((const loan_key *)a)->id, ((const loan_key *)b)->id);
}

/* Room for each schedule loan's rows; false on ENOMEM (recorded). */
static bool schedule_alloc(schedule_reader *r)
{
    ipabs_deal *d = r->c->deal;
    r->by_id = malloc((size_t)d->n_loans * sizeof *r->by_id);
    r->line_of = calloc((size_t)d->n_loans, sizeof *r->line_of);
    if (r->by_id == NULL || r->line_of == NULL)
        return false;
    for (int i = 0; i < d->n_loans; i++) {
        r->by_id[i] = (loan_key){d->loans[i].id, i};
        if (d->loans[i].amort != IPABS_LOAN_SCHEDULE)
            continue;
        size_t n = (size_t)d->loans[i].term + 1;
        d->loans[i].schedule = calloc(n, sizeof(double));
        r->line_of[i] = calloc(n, sizeof(int));
        if (d->loans[i].schedule == NULL || r->line_of[i] == NULL)
            return false;
    }
    qsort(r->by_id, (size_t)d->n_loans, sizeof *r->by_id, compare_ids);
    return true;
}

/* Every schedule loan repays its principal (to half a fen); amounts become
 * fractions of it. */
static void schedule_finish(schedule_reader *r)
{
    ipabs_deal *d = r->c->deal;
    for (int i = 0; i < d->n_loans; i++) {
        ipabs_loan *l = &d->loans[i];
        if (l->schedule == NULL)
            continue;
        double sum = 0.0;
        for (int t = 1; t <= l->term; t++)
            sum += l->schedule[t];
        if (l->schedule[l->term] == 0.0)
            scn_error(r->c, (scn_pos){r->c->tape_path, l->tape_line, 0}, "term",
                      "loan %s: its schedule in %s has no row for its last "
                      "period %d; a loan repays in its term's last period "
                      "(shorten term to the last scheduled period)", l->id,
                      r->path, l->term);
        else if (fabs(sum - l->principal) > 0.005)
            scn_error(r->c, (scn_pos){r->c->tape_path, l->tape_line, 0}, "principal",
                      "loan %s: its rows in %s repay %.2f, not its principal "
                      "%.2f (difference %.2f)", l->id, r->path, sum,
                      l->principal, sum - l->principal);
        for (int t = 1; t <= l->term; t++)
            l->schedule[t] /= l->principal;
    }
}

static void schedule_missing(scn_ctx *c)
{
    const ipabs_deal *d = c->deal;
    for (int i = 0; i < d->n_loans; i++)
        if (d->loans[i].amort == IPABS_LOAN_SCHEDULE)
            scn_error(c, (scn_pos){c->tape_path, d->loans[i].tape_line, 0},
                      "amortisation", "loan %s has amortisation `schedule`, "
                      "which needs a schedule file (loans.schedule)",
                      d->loans[i].id);
}

void scn_read_schedule(scn_ctx *c)
{
    if (!c->tape_ok)
        return; /* the tape's own errors come first */
    if (c->schedule_given == NULL) {
        schedule_missing(c);
        return;
    }
    char *path = scn_join_path(c, c->schedule_given);
    if (path == NULL)
        return;
    schedule_reader r = {.c = c, .path = path};
    if (!schedule_alloc(&r))
        scn_oom(c);
    else if (scn_csv_read(c, path, "loans.schedule", c->schedule_key_pos,
                          schedule_columns, SCH_N, schedule_row, &r))
        schedule_finish(&r);
    for (int i = 0; r.line_of != NULL && i < c->deal->n_loans; i++)
        free(r.line_of[i]);
    free(r.line_of);
    free(r.by_id);
    free(path);
}
