/*
 * test_cli.c — the `ipabs` program as a user runs it: the real binary
 * (IPABS_CLI) on the reference scenario and on copies of it with one thing
 * broken.
 *
 * What is checked: `check` summarises the reference deal; `cashflow` writes
 * ledger.csv, tranches.csv and periods.csv with the documented headers,
 * ISO dates, loan ids and no firm names, and behaves as issue 2's "Done
 * when" says for no default, all loans defaulting with the guarantor alive,
 * and with the guarantor failed; a realisation given on the command line
 * reaches the recovery; every class of bad input exits with 2 and names
 * file:line:column; `replay` is reproducible; `run` writes its five files;
 * no temporary file survives a run, and an output path that is a regular
 * file is refused with a message naming it.
 *
 * Each test works in its own mkdtemp directory (cli_util.h), removed after
 * the test.  Bad scenarios are the reference YAML and tape copied there
 * under their own names (so the tape path in the YAML stays relative) with
 * exactly one edit.
 */
#include <criterion/criterion.h>

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_util.h"
#include "ipabs/scenario.h"

TestSuite(cli, .init = cli_tmp_make, .fini = cli_tmp_remove, .timeout = 120);

#define TAPE_NAME "shenyang-ip-abs-loans.csv"
#define YAML_NAME "scenario.yaml"

static const char LEDGER_HEADER[] = "period,date,payer,payee,kind,loan_id,tranche,amount";
static const char TRANCHES_HEADER[] =
    "period,date,tranche,opening_balance,interest_due,interest_paid,"
    "principal_paid,closing_balance,principal_loss";

/* ---- a small CSV reader for the files ipabs writes --------------------------
 * The reference deal's names contain no comma or quote, so a row is split at
 * commas; a quote anywhere fails the test rather than being misread. */

typedef struct table {
    char *text;       /* the file, cut into cells in place */
    int n_cols;
    int n_rows;       /* data rows, header excluded */
    char **header;    /* n_cols */
    char ***rows;     /* n_rows x n_cols */
    char *first_line; /* header line as written (copy) */
} table;

static int split_row(char *line, char **cells, int max)
{
    int n = 0;
    for (char *p = line;; p++) {
        if (n < max)
            cells[n] = p;
        n++;
        p = strchr(p, ',');
        if (p == NULL)
            break;
        *p = '\0';
    }
    return n;
}

static table read_table(const char *path)
{
    table t = {0};
    t.text = cli_read_csv(path, NULL);
    cr_assert_not_null(t.text, "expected %s to exist", path);
    cr_assert_null(strchr(t.text, '"'), "expected no quoted cell in %s", path);
    char *nl = strchr(t.text, '\n');
    cr_assert_not_null(nl, "expected a header line in %s", path);
    t.first_line = strndup(t.text, (size_t)(nl - t.text));
    int lines = 0;
    for (char *p = t.text; *p; p++)
        lines += *p == '\n';
    t.rows = calloc((size_t)lines + 1, sizeof *t.rows);
    char *line = t.text;
    int row = -1;
    while (line != NULL && *line != '\0') {
        char *end = strchr(line, '\n');
        if (end != NULL)
            *end = '\0';
        cr_assert_null(strchr(line, '\r'), "expected LF line ends in %s", path);
        char **cells = calloc(64, sizeof *cells);
        int n = split_row(line, cells, 64);
        if (row < 0) {
            t.n_cols = n;
            t.header = cells;
        } else {
            cr_assert_eq(n, t.n_cols, "%s row %d: expected %d cells, got %d", path,
                         row + 2, t.n_cols, n);
            t.rows[row] = cells;
        }
        row++;
        line = end != NULL ? end + 1 : NULL;
    }
    t.n_rows = row;
    return t;
}

static int column(const table *t, const char *name)
{
    for (int c = 0; c < t->n_cols; c++)
        if (strcmp(t->header[c], name) == 0)
            return c;
    cr_assert_fail("expected a column '%s' in '%s'", name, t->first_line);
    return -1;
}

static double num(const char *cell)
{
    char *end;
    double v = strtod(cell, &end);
    cr_assert(end != cell && *end == '\0', "expected a number, got '%s'", cell);
    return v;
}

static void free_table(table *t)
{
    free(t->header);
    for (int r = 0; r < t->n_rows; r++)
        free(t->rows[r]);
    free(t->rows);
    free(t->first_line);
    free(t->text);
}

static bool is_iso_date(const char *s)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return false;
    int month = atoi(s + 5), day = atoi(s + 8);
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

static void expect_iso_dates(const table *t, const char *what)
{
    int c = column(t, "date");
    for (int r = 0; r < t->n_rows; r++)
        cr_assert(is_iso_date(t->rows[r][c]),
                  "%s row %d: expected an ISO 8601 date, got '%s'", what, r + 2,
                  t->rows[r][c]);
}

/* ---- the loan tape, read by the test itself ---------------------------------- */

/* The cells of the tape row of loan `id` (malloc'ed copy in *line_out). */
static int tape_row(const char *tape, const char *id, char ***cells, char **line_out)
{
    char key[64];
    snprintf(key, sizeof key, "\n%s,", id);
    const char *at = strstr(tape, key);
    cr_assert_not_null(at, "expected loan %s in the reference tape", id);
    at++;
    size_t n = strcspn(at, "\r\n");
    *line_out = strndup(at, n);
    *cells = calloc(64, sizeof **cells);
    return split_row(*line_out, *cells, 64);
}

/* 1-based field number of a tape column, from the tape's header. */
static int tape_column(const char *tape, const char *name)
{
    size_t n = strcspn(tape, "\r\n");
    char *header = strndup(tape, n);
    char *cells[64];
    int count = split_row(header, cells, 64);
    int found = 0;
    for (int c = 0; c < count && c < 64 && !found; c++)
        if (strcmp(cells[c], name) == 0)
            found = c + 1;
    free(header);
    cr_assert(found > 0, "expected a tape column '%s'", name);
    return found;
}

static const char *tape_cell(const char *tape, const char *id, const char *name,
                             char *buf, size_t cap)
{
    char **cells, *line;
    int n = tape_row(tape, id, &cells, &line);
    int c = tape_column(tape, name);
    cr_assert(c <= n, "expected loan %s to have a '%s' cell", id, name);
    snprintf(buf, cap, "%s", cells[c - 1]);
    free(cells);
    free(line);
    return buf;
}

/* The tape with one cell of one loan's row replaced (malloc'ed). */
static char *tape_set(const char *tape, const char *id, const char *name,
                      const char *value)
{
    char **cells, *line;
    int n = tape_row(tape, id, &cells, &line);
    char key[64];
    snprintf(key, sizeof key, "\n%s,", id);
    const char *at = strstr(tape, key) + 1;
    char *original = strndup(at, strcspn(at, "\r\n")); /* the row as written */
    int c = tape_column(tape, name);
    cells[c - 1] = (char *)value;
    char row[2048] = "";
    for (int k = 0; k < n; k++) {
        if (k > 0)
            strcat(row, ",");
        strcat(row, cells[k]);
    }
    char *out = cli_edit(tape, original, row);
    free(original);
    free(cells);
    free(line);
    return out;
}

/* ---- scenario copies ---------------------------------------------------------- */

static char *reference_yaml(void)
{
    char *y = cli_read_file(CLI_REFERENCE_YAML, NULL);
    cr_assert_not_null(y, "expected the reference scenario at %s", CLI_REFERENCE_YAML);
    return y;
}

static char *reference_tape(void)
{
    char *t = cli_read_file(CLI_REFERENCE_TAPE, NULL);
    cr_assert_not_null(t, "expected the reference tape at %s", CLI_REFERENCE_TAPE);
    return t;
}

/* Write YAML and tape into the scratch directory; returns the YAML's path.
 * The reference YAML names its tape TAPE_NAME, relative to itself. */
static const char *write_scenario(const char *yaml, const char *tape)
{
    cli_write_file(cli_path(TAPE_NAME), tape);
    cli_write_file(cli_path(YAML_NAME), yaml);
    return cli_path(YAML_NAME);
}

/* An input error: exit code 2 and stderr containing `where` (the
 * file:line:column: field: prefix) and `what` (a part of the message). */
static void expect_input_error(const cli_result *r, const char *where, const char *what)
{
    CLI_EXPECT_NO_CRASH(*r);
    cr_expect_eq(r->exit_code, 2, "expected exit code 2 for an input error, got %d; "
                 "stderr:\n%s", r->exit_code, r->err);
    cr_expect(strstr(r->err, where) != NULL,
              "expected stderr to contain '%s'; got:\n%s", where, r->err);
    if (what != NULL)
        cr_expect(strstr(r->err, what) != NULL,
                  "expected stderr to contain '%s'; got:\n%s", what, r->err);
}

/* Run `check` on the reference with one tape cell changed; expect the
 * error at that cell. */
static void expect_tape_cell_error(const char *id, const char *name, const char *value,
                                   const char *what)
{
    char *yaml = reference_yaml(), *tape = reference_tape();
    char *bad = tape_set(tape, id, name, value);
    const char *path = write_scenario(yaml, bad);
    int line, col;
    char key[64];
    snprintf(key, sizeof key, "\n%s,", id);
    cli_locate(tape, key, &line, &col); /* the row's line: before the edit */
    char where[700];
    snprintf(where, sizeof where, "%s:%d:%d: %s: ", cli_path(TAPE_NAME), line + 1,
             tape_column(bad, name), name);
    cli_result r = cli_run("check", path, NULL);
    expect_input_error(&r, where, what);
    cli_result_free(&r);
    free(yaml), free(tape), free(bad);
}

/* Run `check` on the reference with one YAML edit; expect the error at the
 * position of `at` in the edited YAML. */
static void expect_yaml_error(const char *from, const char *to, const char *at,
                              const char *field, const char *what)
{
    char *yaml = reference_yaml(), *tape = reference_tape();
    char *bad = cli_edit(yaml, from, to);
    const char *path = write_scenario(bad, tape);
    int line, col;
    cli_locate(bad, at, &line, &col);
    char where[700];
    snprintf(where, sizeof where, "%s:%d:%d: %s: ", path, line, col, field);
    cli_result r = cli_run("check", path, NULL);
    expect_input_error(&r, where, what);
    cli_result_free(&r);
    free(yaml), free(tape), free(bad);
}

static ipabs_deal *load_reference(void)
{
    ipabs_deal *deal = NULL;
    ipabs_errors errors = {0};
    ipabs_status s = ipabs_scenario_load(CLI_REFERENCE_YAML, NULL, 0, &deal, &errors);
    cr_assert_eq(s, IPABS_OK, "expected the reference scenario to load");
    ipabs_errors_clear(&errors);
    return deal;
}

/* Files in the scratch subdirectory `dir` whose name contains ".tmp.". */
static int count_tmp_files(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "expected directory %s", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp.") != NULL) {
            fprintf(stderr, "left behind: %s/%s\n", dir, e->d_name);
            n++;
        }
    closedir(d);
    return n;
}

/* `--default L01@p ... --default L10@p` appended to argv at *n. */
static void all_defaults(const char **argv, int *n, int period)
{
    static char specs[10][32];
    for (int i = 0; i < 10; i++) {
        snprintf(specs[i], sizeof specs[i], "L%02d@%d", i + 1, period);
        argv[(*n)++] = "--default";
        argv[(*n)++] = specs[i];
    }
}

static double column_sum(const table *t, const char *name, const char *filter_col,
                         const char *filter_value)
{
    int c = column(t, name), f = filter_col ? column(t, filter_col) : -1;
    double sum = 0.0;
    for (int r = 0; r < t->n_rows; r++)
        if (f < 0 || strcmp(t->rows[r][f], filter_value) == 0)
            sum += num(t->rows[r][c]);
    return sum;
}

/* ---- check -------------------------------------------------------------------- */

Test(cli, check_summarises_the_reference)
{
    cli_result r = cli_run("check", CLI_REFERENCE_YAML, NULL);
    CLI_EXPECT_NO_CRASH(r);
    cr_expect_eq(r.exit_code, 0, "expected exit 0, got %d; stderr:\n%s", r.exit_code, r.err);
    cr_expect(strstr(r.out, "10 loans") != NULL,
              "expected the summary to say '10 loans'; stdout:\n%s", r.out);
    cr_expect(strstr(r.out, "72000000") != NULL,
              "expected the summary to show the pool 72000000; stdout:\n%s", r.out);
    cli_result_free(&r);
}

/* ---- cashflow ------------------------------------------------------------------ */

Test(cli, cashflow_without_default_repays_everyone)
{
    ipabs_deal *deal = load_reference();
    const char *out = cli_path("out");
    cli_result r = cli_run("cashflow", CLI_REFERENCE_YAML, "-o", out, NULL);
    CLI_EXPECT_NO_CRASH(r);
    cr_assert_eq(r.exit_code, 0, "expected exit 0, got %d; stderr:\n%s", r.exit_code, r.err);

    char path[600];
    snprintf(path, sizeof path, "%s/ledger.csv", out);
    table ledger = read_table(path);
    snprintf(path, sizeof path, "%s/tranches.csv", out);
    table tranches = read_table(path);
    snprintf(path, sizeof path, "%s/periods.csv", out);
    table periods = read_table(path);

    cr_expect_str_eq(ledger.first_line, LEDGER_HEADER, "expected the ledger header");
    cr_expect_str_eq(tranches.first_line, TRANCHES_HEADER, "expected the tranches header");
    cr_expect_eq(periods.n_rows, 20, "expected one periods.csv row per period (20), got %d",
                 periods.n_rows);
    cr_expect_eq(deal->legal_final, 20, "expected the reference legal final to be 20");
    cr_expect_eq(tranches.n_rows, 20 * deal->n_tranches,
                 "expected one tranches.csv row per period and tranche");
    cr_expect_gt(ledger.n_rows, 0, "expected ledger rows");
    expect_iso_dates(&ledger, "ledger.csv");
    expect_iso_dates(&tranches, "tranches.csv");
    expect_iso_dates(&periods, "periods.csv");
    /* Closing 2025-06-30, quarterly: the first payment date is 2025-09-30. */
    cr_expect_str_eq(periods.rows[0][column(&periods, "date")], "2025-09-30",
                     "expected period 1 to be paid on 2025-09-30");

    /* No loss; every tranche's balance is 0 by its legal final. */
    int c_t = column(&tranches, "tranche"), c_p = column(&tranches, "period");
    int c_close = column(&tranches, "closing_balance");
    int c_loss = column(&tranches, "principal_loss");
    for (int i = 0; i < tranches.n_rows; i++) {
        char **row = tranches.rows[i];
        cr_expect_eq(num(row[c_loss]), 0.0, "expected no principal_loss, row %d has %s",
                     i + 2, row[c_loss]);
        int k = ipabs_deal_find_tranche(deal, row[c_t]);
        cr_assert_geq(k, 0, "expected a known tranche, got '%s'", row[c_t]);
        if (atoi(row[c_p]) >= deal->tranches[k].legal_final)
            cr_expect_eq(num(row[c_close]), 0.0,
                         "expected %s repaid by its legal final %d; period %s closes at %s",
                         row[c_t], deal->tranches[k].legal_final, row[c_p], row[c_close]);
    }
    cr_expect_eq(column_sum(&periods, "topup", NULL, NULL), 0.0, "expected no top-up");
    cr_expect_eq(column_sum(&periods, "guarantee_payout", NULL, NULL), 0.0,
                 "expected no guarantee payout");

    /* Loan ids appear in the ledger (as payer and as loan_id); the Chinese
     * firm names appear in no file. */
    static const char *const names[3] = {"ledger.csv", "tranches.csv", "periods.csv"};
    char *files[3];
    for (int f = 0; f < 3; f++) {
        snprintf(path, sizeof path, "%s/%s", out, names[f]);
        files[f] = cli_read_csv(path, NULL);
        cr_assert_not_null(files[f], "expected %s", path);
    }
    for (int i = 0; i < deal->n_loans; i++) {
        const ipabs_loan *l = &deal->loans[i];
        cr_expect(strstr(l->firm, "\xE6\x9C\x89\xE9\x99\x90") != NULL, /* 有限 */
                  "expected a Chinese firm name in the reference tape, got '%s'", l->firm);
        for (int f = 0; f < 3; f++)
            cr_expect_null(strstr(files[f], l->firm),
                           "expected firm name '%s' not to appear in %s", l->firm,
                           names[f]);
        char key[64];
        snprintf(key, sizeof key, ",%s,", l->id);
        cr_expect(strstr(files[0], key) != NULL, "expected loan id %s in ledger.csv", l->id);
        snprintf(key, sizeof key, ",%s,plan,interest,%s,", l->id, l->id);
        cr_expect(strstr(files[0], key) != NULL,
                  "expected a row '%s' (loan id as payer and loan_id) in ledger.csv", key);
    }
    for (int f = 0; f < 3; f++)
        free(files[f]);
    cr_expect_eq(count_tmp_files(out), 0, "expected no temporary file left in %s", out);
    free_table(&ledger), free_table(&tranches), free_table(&periods);
    cli_result_free(&r);
    ipabs_deal_free(deal);
}

Test(cli, all_defaults_with_guarantor_alive_leave_senior_whole)
{
    const char *out = cli_path("out");
    const char *argv[40] = {"cashflow", CLI_REFERENCE_YAML, "-o", out};
    int n = 4;
    all_defaults(argv, &n, 1);
    argv[n] = NULL;
    cli_result r = cli_runv(argv);
    CLI_EXPECT_NO_CRASH(r);
    cr_assert_eq(r.exit_code, 0, "expected exit 0, got %d; stderr:\n%s", r.exit_code, r.err);
    char path[600];
    snprintf(path, sizeof path, "%s/tranches.csv", out);
    table tranches = read_table(path);
    snprintf(path, sizeof path, "%s/ledger.csv", out);
    table ledger = read_table(path);
    int c_t = column(&tranches, "tranche"), c_loss = column(&tranches, "principal_loss");
    for (int i = 0; i < tranches.n_rows; i++)
        if (strcmp(tranches.rows[i][c_t], "senior") == 0)
            cr_expect_eq(num(tranches.rows[i][c_loss]), 0.0,
                         "expected no senior principal loss, row %d has %s", i + 2,
                         tranches.rows[i][c_loss]);
    int rows = 0, c_kind = column(&ledger, "kind");
    for (int i = 0; i < ledger.n_rows; i++)
        rows += strcmp(ledger.rows[i][c_kind], "guarantee_payout") == 0;
    double paid = column_sum(&ledger, "amount", "kind", "guarantee_payout");
    cr_expect_gt(rows, 0, "expected guarantee_payout rows in the ledger");
    cr_expect_gt(paid, 0.0, "expected positive guarantee payouts, got %.6f", paid);
    free_table(&tranches), free_table(&ledger);
    cli_result_free(&r);
}

Test(cli, all_defaults_with_guarantor_failed_cost_the_senior)
{
    const char *out = cli_path("out");
    const char *argv[40] = {"cashflow", CLI_REFERENCE_YAML, "-o", out,
                            "--guarantor-default", "1"};
    int n = 6;
    all_defaults(argv, &n, 1);
    argv[n] = NULL;
    cli_result r = cli_runv(argv);
    CLI_EXPECT_NO_CRASH(r);
    cr_assert_eq(r.exit_code, 0, "expected exit 0, got %d; stderr:\n%s", r.exit_code, r.err);
    char path[600];
    snprintf(path, sizeof path, "%s/tranches.csv", out);
    table tranches = read_table(path);
    snprintf(path, sizeof path, "%s/ledger.csv", out);
    table ledger = read_table(path);
    double loss = column_sum(&tranches, "principal_loss", "tranche", "senior");
    cr_expect_gt(loss, 0.0, "expected a senior principal loss > 0, got %.6f", loss);
    /* A guarantor failed in period 1 pays nothing. */
    double paid = column_sum(&ledger, "amount", "payer", "guarantor");
    cr_expect_eq(paid, 0.0, "expected no payment by the failed guarantor, got %.6f", paid);
    free_table(&tranches), free_table(&ledger);
    cli_result_free(&r);
}

/* L03 defaults in period 4 and its IP realises 10% of its appraised value:
 * the disposal, recovery_lag periods later, yields
 * min(EAD, ip_value x 0.1) - disposal_cost, all computed here from the tape. */
Test(cli, cashflow_realisation_reaches_the_recovery)
{
    char *tape = reference_tape();
    char buf[64];
    double principal = num(tape_cell(tape, "L03", "principal", buf, sizeof buf));
    double rate = num(tape_cell(tape, "L03", "rate", buf, sizeof buf));
    int term = atoi(tape_cell(tape, "L03", "term", buf, sizeof buf));
    double ip_value = num(tape_cell(tape, "L03", "ip_value", buf, sizeof buf));
    double cost = num(tape_cell(tape, "L03", "disposal_cost", buf, sizeof buf));
    int lag = atoi(tape_cell(tape, "L03", "recovery_lag", buf, sizeof buf));
    cr_assert_str_eq(tape_cell(tape, "L03", "amortisation", buf, sizeof buf),
                     "level_principal", "expected L03 to amortise level_principal");
    /* Level principal, quarterly 30/360: after 3 periods (3/term) is repaid. */
    double balance = principal * (1.0 - 3.0 / term);
    double ead = balance * (1.0 + rate / 4.0);
    double expected = fmin(ead, ip_value * 0.1) - cost;
    cr_assert_gt(expected, 0.0, "expected the test's recovery to be positive");

    const char *out = cli_path("out");
    cli_result r = cli_run("cashflow", CLI_REFERENCE_YAML, "-o", out, "--default",
                           "L03@4:0.1", NULL);
    CLI_EXPECT_NO_CRASH(r);
    cr_assert_eq(r.exit_code, 0, "expected exit 0, got %d; stderr:\n%s", r.exit_code, r.err);
    char path[600];
    snprintf(path, sizeof path, "%s/ledger.csv", out);
    table ledger = read_table(path);
    int c_kind = column(&ledger, "kind"), c_loan = column(&ledger, "loan_id");
    int c_period = column(&ledger, "period"), c_amount = column(&ledger, "amount");
    double got = 0.0;
    int rows = 0;
    for (int i = 0; i < ledger.n_rows; i++) {
        char **row = ledger.rows[i];
        /* Pledged to the guarantor (the reference), the proceeds are its
         * own: kind pledge_proceeds; the plan's share, if any, recovery. */
        if ((strcmp(row[c_kind], "recovery") != 0 &&
             strcmp(row[c_kind], "pledge_proceeds") != 0) ||
            strcmp(row[c_loan], "L03") != 0)
            continue;
        rows++;
        got += num(row[c_amount]);
        cr_expect_eq(atoi(row[c_period]), 4 + lag,
                     "expected the recovery in period %d, got %s", 4 + lag, row[c_period]);
    }
    cr_expect_gt(rows, 0, "expected a recovery row for L03");
    /* ledger.csv has 6 decimals. */
    cr_expect(fabs(got - expected) < 2e-6,
              "expected recovery min(%.6f, %.0f x 0.1) - %.0f = %.6f, got %.6f", ead,
              ip_value, cost, expected, got);
    free_table(&ledger);
    cli_result_free(&r);
    free(tape);
}

/* ---- bad input: exit 2 and file:line:column -------------------------------------- */

/* A missing tape is an input error (issue 2: "Exit code 2 for input
 * errors"): the message names the tape and the YAML line of loans.tape. */
Test(cli, missing_tape)
{
    char *yaml = reference_yaml();
    char *bad = cli_edit(yaml, "tape: " TAPE_NAME, "tape: nothere.csv");
    const char *path = write_scenario(bad, "unused\n");
    int line, col;
    cli_locate(bad, "tape: nothere.csv", &line, &col);
    char where[700], what[700];
    snprintf(where, sizeof where, "%s: loans.tape: ", cli_path("nothere.csv"));
    snprintf(what, sizeof what, "%s:%d", path, line);
    cli_result r = cli_run("check", path, NULL);
    expect_input_error(&r, where, what);
    cr_expect(strstr(r.err, "No such file") != NULL,
              "expected the reason 'No such file'; stderr:\n%s", r.err);
    cli_result_free(&r);
    free(yaml), free(bad);
}

Test(cli, wrong_type_in_yaml)
{
    expect_yaml_error("legal_final: 20", "legal_final: abc", "abc", "deal.legal_final",
                      "expected an integer");
}

Test(cli, negative_principal)
{
    expect_tape_cell_error("L03", "principal", "-8800000", "must be a number in (0, 1e+15]");
}

Test(cli, pd_of_one)
{
    expect_tape_cell_error("L03", "annual_pd", "1.0", "must be a number in [0, 1)");
}

Test(cli, duplicate_loan_id)
{
    expect_tape_cell_error("L05", "loan_id", "L02", "duplicate loan id 'L02'");
}

Test(cli, term_beyond_legal_final)
{
    expect_tape_cell_error("L02", "term", "21", "must be <= deal.legal_final (20)");
}

Test(cli, non_utf8_firm_name)
{
    expect_tape_cell_error("L04", "firm", "Bad\xC3\x28" "Name", "invalid UTF-8");
}

Test(cli, empty_tape)
{
    char *yaml = reference_yaml(), *tape = reference_tape();
    tape[strcspn(tape, "\n") + 1] = '\0'; /* the header only */
    const char *path = write_scenario(yaml, tape);
    char where[700];
    /* No cell to point at: the message names the header's line. */
    snprintf(where, sizeof where, "%s:1: ", cli_path(TAPE_NAME));
    cli_result r = cli_run("check", path, NULL);
    expect_input_error(&r, where, "no loans");
    cli_result_free(&r);
    cli_write_file(cli_path(TAPE_NAME), "");
    r = cli_run("check", path, NULL);
    expect_input_error(&r, where, "empty");
    cli_result_free(&r);
    free(yaml), free(tape);
}

Test(cli, tranche_balances_not_matching_the_pool)
{
    expect_yaml_error("balance: 68400000", "balance: 68400001", "tranches:\n",
                      "plan.tranches", "tranche balances sum to 72000001.00");
}

Test(cli, unknown_key_suggests_the_nearest)
{
    expect_yaml_error("\n  correlation:", "\n  corelation:", "corelation:",
                      "model.corelation", "did you mean 'correlation'?");
}

Test(cli, bad_set_overrides)
{
    cli_result r = cli_run("check", CLI_REFERENCE_YAML, "--set", "model.copla=student_t",
                           NULL);
    expect_input_error(&r, "--set:1: model.copla: ", "did you mean 'copula'?");
    cli_result_free(&r);
    r = cli_run("check", CLI_REFERENCE_YAML, "--set", "model.pd_multiplier=2", "--set",
                "no_equals_sign", NULL);
    expect_input_error(&r, "--set:2: no_equals_sign: ", "malformed override");
    cli_result_free(&r);
    r = cli_run("check", CLI_REFERENCE_YAML, "--set", "model.correlation=abc", NULL);
    expect_input_error(&r, "--set:1: model.correlation: ", NULL);
    cli_result_free(&r);
}

Test(cli, bad_usage)
{
    cli_result r = cli_run("check", CLI_REFERENCE_YAML, "--bogus", "1", NULL);
    expect_input_error(&r, "unknown option '--bogus'", NULL);
    cli_result_free(&r);
    r = cli_run("cashflow", CLI_REFERENCE_YAML, NULL);
    expect_input_error(&r, "needs -o DIR", NULL);
    cli_result_free(&r);
    r = cli_run("run", CLI_REFERENCE_YAML, "--paths", "10", NULL);
    expect_input_error(&r, "needs -o DIR", NULL);
    cli_result_free(&r);
    r = cli_run("frobnicate", CLI_REFERENCE_YAML, NULL);
    expect_input_error(&r, "unknown command 'frobnicate'", NULL);
    cli_result_free(&r);
    r = cli_run("cashflow", "-o", cli_path("out"), NULL);
    expect_input_error(&r, "needs a scenario file", NULL);
    cli_result_free(&r);
    r = cli_run("run", CLI_REFERENCE_YAML, "-o", cli_path("out"), "--paths", "ten", NULL);
    expect_input_error(&r, "--paths", NULL);
    cli_result_free(&r);
    r = cli_run("replay", CLI_REFERENCE_YAML, "-o", cli_path("out"), NULL);
    expect_input_error(&r, "--path", NULL);
    cli_result_free(&r);
}

Test(cli, bad_default_option)
{
    static const char *const specs[] = {"NOPE@1", "L01", "L01@0", "L01@99", "L01@x",
                                        "L01@2:1.5", "L01@2:abc", "@3"};
    static const char *const says[] = {"no loan 'NOPE'", "expected LOAN@PERIOD",
                                       "period must be", "period must be",
                                       "period must be", "realisation must be",
                                       "realisation must be", "expected LOAN@PERIOD"};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        cli_result r = cli_run("cashflow", CLI_REFERENCE_YAML, "-o", cli_path("out"),
                               "--default", specs[i], NULL);
        expect_input_error(&r, "--default", says[i]);
        cli_result_free(&r);
    }
    cli_result r = cli_run("cashflow", CLI_REFERENCE_YAML, "-o", cli_path("out"),
                           "--guarantor-default", "21", NULL);
    expect_input_error(&r, "--guarantor-default", NULL);
    cli_result_free(&r);
}

/* An unreadable scenario is an input error: exit 2, the file named. */
Test(cli, scenario_that_does_not_exist)
{
    const char *path = cli_path("no-such-scenario.yaml");
    char where[700];
    snprintf(where, sizeof where, "%s: ", path);
    cli_result r = cli_run("check", path, NULL);
    expect_input_error(&r, where, "No such file");
    cli_result_free(&r);
    r = cli_run("cashflow", path, "-o", cli_path("out"), NULL);
    expect_input_error(&r, where, "No such file");
    cli_result_free(&r);
}

/* ---- replay and run ----------------------------------------------------------- */

Test(cli, replay_is_reproducible)
{
    const char *a = cli_path("a"), *b = cli_path("b");
    cli_result r1 = cli_run("replay", CLI_REFERENCE_YAML, "--path", "7", "-o", a, NULL);
    cli_result r2 = cli_run("replay", CLI_REFERENCE_YAML, "--path", "7", "-o", b, NULL);
    CLI_EXPECT_NO_CRASH(r1);
    CLI_EXPECT_NO_CRASH(r2);
    cr_assert_eq(r1.exit_code, 0, "expected exit 0, got %d; stderr:\n%s", r1.exit_code, r1.err);
    cr_assert_eq(r2.exit_code, 0, "expected exit 0, got %d; stderr:\n%s", r2.exit_code, r2.err);
    char pa[600], pb[600];
    size_t na, nb;
    snprintf(pa, sizeof pa, "%s/ledger.csv", a);
    snprintf(pb, sizeof pb, "%s/ledger.csv", b);
    char *la = cli_read_file(pa, &na), *lb = cli_read_file(pb, &nb);
    cr_assert_not_null(la, "expected %s", pa);
    cr_assert_not_null(lb, "expected %s", pb);
    cr_expect(na == nb && memcmp(la, lb, na) == 0,
              "expected identical ledger.csv bytes from two replays of path 7");
    snprintf(pa, sizeof pa, "%s/realisation.csv", a);
    table real = read_table(pa);
    cr_expect_str_eq(real.first_line,
                     "party,id,name,default_period,default_date,exposure_at_default,"
                     "realisation,latent,path_weight",
                     "expected the realisation.csv header");
    cr_expect_eq(real.n_rows, 11, "expected 10 loans and the guarantor, got %d rows",
                 real.n_rows);
    free_table(&real);
    free(la), free(lb);
    cli_result_free(&r1), cli_result_free(&r2);
}

Test(cli, run_writes_its_files)
{
    const char *out = cli_path("run");
    cli_result r = cli_run("run", CLI_REFERENCE_YAML, "--paths", "20000", "--seed", "5",
                           "--quiet", "-o", out, NULL);
    CLI_EXPECT_NO_CRASH(r);
    cr_assert_eq(r.exit_code, 0, "expected exit 0, got %d; stderr:\n%s", r.exit_code, r.err);
    static const char *const files[] = {"summary.csv", "default_count.csv",
                                        "loss_distribution.csv", "cdr.csv", "run.csv"};
    char path[600];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", out, files[i]);
        struct stat sb;
        cr_expect(stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0,
                  "expected a non-empty %s", path);
    }
    snprintf(path, sizeof path, "%s/summary.csv", out);
    char *summary = cli_read_csv(path, NULL);
    cr_assert_not_null(summary, "expected %s", path);
    static const char head[] = "subject,measure,value,std_error,ci_lower,ci_upper,paths\n";
    cr_expect(strncmp(summary, head, strlen(head)) == 0, "expected the summary.csv header %s",
              head);
    free(summary);
    cr_expect_eq(count_tmp_files(out), 0, "expected no *.tmp.* file left in %s", out);
    cli_result_free(&r);
}

/* Issue 12, finding 2: on a pool whose losses lie exactly on the edges of
 * the loss buckets (two loans of 50 yuan, static loss exactly 7 each, pool
 * 100: losses 7 and 14), `run` and `exact` put them in the same buckets, so
 * --check-exact passes (it used to exit 3 with |z| near 500) and the
 * losses are in (6, 7] and (13, 14]. */
Test(cli, check_exact_agrees_on_bucket_edges)
{
    const char *out = cli_path("edges");
    cli_result r = cli_run("run", IPABS_SOURCE_DIR "/scenarios/validation/bucket-edges.yaml",
                           "--paths", "50000", "--quiet", "--check-exact", "-o", out, NULL);
    CLI_EXPECT_NO_CRASH(r);
    cr_expect_eq(r.exit_code, 0, "expected exit 0 from --check-exact, got %d; stdout:\n%s",
                 r.exit_code, r.out);
    char path[600];
    snprintf(path, sizeof path, "%s/loss_distribution.csv", out);
    char *law = cli_read_csv(path, NULL);
    cr_assert_not_null(law, "expected %s", path);
    cr_expect(strstr(law, "\n6.00,7.00,0,") == NULL && strstr(law, "\n7.00,8.00,0,") != NULL,
              "expected the loss of 7 in (6, 7] and none in (7, 8]:\n%s", law);
    cr_expect(strstr(law, "\n13.00,14.00,0,") == NULL && strstr(law, "\n14.00,15.00,0,") != NULL,
              "expected the loss of 14 in (13, 14] and none in (14, 15]:\n%s", law);
    free(law);
    cli_result_free(&r);
}

/* Issue 12, item 7: a class named 优先A1 is written as UTF-8 after a
 * byte-order mark, so that Excel on a Chinese-locale Windows shows it
 * (without one it reads GBK and shows 浼樺厛A1); --csv-bom no drops the mark
 * and changes nothing else. */
Test(cli, csv_files_begin_with_a_byte_order_mark_unless_told_not_to)
{
    char *yaml = reference_yaml(), *tape = reference_tape();
    char *renamed = cli_edit(yaml, "- name: senior", "- name: 优先A1");
    const char *path = write_scenario(renamed, tape);
    const char *with = cli_path("with"), *without = cli_path("without");
    cli_result a = cli_run("run", path, "--paths", "5000", "--quiet", "-o", with, NULL);
    cli_result b = cli_run("run", path, "--paths", "5000", "--quiet", "--csv-bom", "no", "-o",
                           without, NULL);
    CLI_EXPECT_NO_CRASH(a);
    CLI_EXPECT_NO_CRASH(b);
    cr_assert_eq(a.exit_code, 0, "stderr:\n%s", a.err);
    cr_assert_eq(b.exit_code, 0, "stderr:\n%s", b.err);
    static const char *const files[] = {"summary.csv", "default_count.csv",
                                        "loss_distribution.csv", "cdr.csv"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char pa[600], pb[600];
        size_t na, nb;
        snprintf(pa, sizeof pa, "%s/%s", with, files[f]);
        snprintf(pb, sizeof pb, "%s/%s", without, files[f]);
        char *ta = cli_read_file(pa, &na), *tb = cli_read_file(pb, &nb);
        cr_assert(ta != NULL && tb != NULL, "expected %s and %s", pa, pb);
        cr_expect(na == nb + 3 && memcmp(ta, "\xEF\xBB\xBF", 3) == 0 &&
                  memcmp(ta + 3, tb, nb) == 0,
                  "%s: expected the same bytes after a byte-order mark", files[f]);
        cr_expect(nb < 3 || memcmp(tb, "\xEF\xBB\xBF", 3) != 0, "%s: no mark with --csv-bom no",
                  files[f]);
        if (f == 0)
            cr_expect(strstr(ta, "\n优先A1,expected_loss,") != NULL,
                      "expected the class name in UTF-8 in summary.csv");
        free(ta);
        free(tb);
    }
    cli_result c = cli_run("run", path, "--paths", "5000", "--csv-bom", "maybe", "-o", with, NULL);
    CLI_EXPECT_NO_CRASH(c);
    cr_expect_eq(c.exit_code, 2, "expected a usage error for --csv-bom maybe");
    cr_expect(strstr(c.err, "--csv-bom expects yes or no") != NULL, "%s", c.err);
    free(renamed);
    free(yaml);
    free(tape);
    cli_result_free(&a);
    cli_result_free(&b);
    cli_result_free(&c);
}

/* Each of files[0..n) in directory b is byte-identical to the one in a. */
static void expect_same_files(const char *a, const char *b, const char *const *files, int n,
                              const char *what)
{
    for (int f = 0; f < n; f++) {
        char pa[600], pb[600];
        size_t la, lb;
        snprintf(pa, sizeof pa, "%s/%s", a, files[f]);
        snprintf(pb, sizeof pb, "%s/%s", b, files[f]);
        char *ta = cli_read_file(pa, &la), *tb = cli_read_file(pb, &lb);
        cr_assert_not_null(ta, "%s", pa);
        cr_assert_not_null(tb, "%s", pb);
        cr_assert(la == lb && memcmp(ta, tb, la) == 0, "%s %s differs from %s", files[f], what,
                  pa);
        free(ta);
        free(tb);
    }
}

/* Issue 3: 1, 2 and 3 threads give byte-identical summary.csv (and the
 * other result files). */
Test(cli, thread_counts_give_byte_identical_results)
{
    static const char *const threads[] = {"1", "2", "3"};
    static const char *const files[] = {"summary.csv", "default_count.csv",
                                        "loss_distribution.csv", "cdr.csv"};
    char first[600] = "";
    for (int t = 0; t < 3; t++) {
        char name[32], what[64];
        snprintf(name, sizeof name, "threads-%s", threads[t]);
        const char *out = cli_path(name);
        cli_result r = cli_run("run", CLI_REFERENCE_YAML, "--paths", "30000", "--seed", "17",
                               "--threads", threads[t], "--quiet", "-o", out, NULL);
        CLI_EXPECT_NO_CRASH(r);
        cr_assert_eq(r.exit_code, 0, "threads %s: stderr:\n%s", threads[t], r.err);
        if (t == 0)
            snprintf(first, sizeof first, "%s", out);
        snprintf(what, sizeof what, "with %s threads", threads[t]);
        expect_same_files(first, out, files, 4, what);
        cli_result_free(&r);
    }
}

/* Issue 11: the scalar kernel, the baseline vectors and the widest this
 * CPU runs (--simd auto) give byte-identical result files; run.csv names
 * the kernel each used. */
Test(cli, simd_kernels_give_byte_identical_results)
{
    static const char *const kernels[] = {"auto", "scalar", "base"};
    static const char *const files[] = {"summary.csv", "default_count.csv",
                                        "loss_distribution.csv", "cdr.csv", "coverage.csv",
                                        "default_count_by_period.csv"};
    char first[600] = "";
    for (int k = 0; k < 3; k++) {
        char name[32], path[600], what[64];
        snprintf(name, sizeof name, "simd-%s", kernels[k]);
        const char *out = cli_path(name);
        cli_result r = cli_run("run", CLI_REFERENCE_YAML, "--paths", "30000", "--seed", "17",
                               "--threads", "2", "--simd", kernels[k], "--quiet", "-o", out,
                               NULL);
        CLI_EXPECT_NO_CRASH(r);
        cr_assert_eq(r.exit_code, 0, "--simd %s: stderr:\n%s", kernels[k], r.err);
        if (k == 0)
            snprintf(first, sizeof first, "%s", out);
        snprintf(what, sizeof what, "with --simd %s", kernels[k]);
        expect_same_files(first, out, files, (int)(sizeof files / sizeof files[0]), what);
        /* run.csv's last column names the kernel that ran. */
        snprintf(path, sizeof path, "%s/run.csv", out);
        char *run = cli_read_file(path, NULL);
        cr_assert_not_null(run);
        char *nl = strchr(run, '\n');
        cr_assert(nl != NULL && strstr(run, ",simd\n") == nl - 5, "run.csv header:\n%s", run);
        char *end = strchr(nl + 1, '\n');
        cr_assert_not_null(end);
        *end = '\0';
        const char *used = strrchr(nl + 1, ',') + 1;
        if (k == 0)
            cr_assert(strcmp(used, "avx512") == 0 || strcmp(used, "avx2") == 0 ||
                      strcmp(used, "base") == 0 || strcmp(used, "scalar") == 0,
                      "run.csv simd '%s'", used);
        else
            cr_assert_str_eq(used, kernels[k]);
        free(run);
        cli_result_free(&r);
    }
}

/* An unknown kernel is a usage error naming the option and its values. */
Test(cli, simd_rejects_an_unknown_kernel)
{
    cli_result r = cli_run("run", CLI_REFERENCE_YAML, "--simd", "sse4", "-o",
                           cli_path("simd-bad"), NULL);
    CLI_EXPECT_NO_CRASH(r);
    cr_assert_eq(r.exit_code, 2, "exit %d; stderr:\n%s", r.exit_code, r.err);
    cr_assert(strstr(r.err, "--simd expects auto, scalar, base, avx2 or avx512 (got 'sse4')") !=
                  NULL,
              "stderr:\n%s", r.err);
    cli_result_free(&r);
}

/* ---- output atomicity ------------------------------------------------------------ */

/* Output files are written as NAME.tmp.PID and renamed: after a run none
 * remains; and an output path that is a regular file is refused with a
 * message naming it, the file left as it was. */
Test(cli, output_path_that_is_a_file_is_refused)
{
    const char *file = cli_path("not-a-dir");
    cli_write_file(file, "keep me\n");
    cli_result r = cli_run("cashflow", CLI_REFERENCE_YAML, "-o", file, NULL);
    CLI_EXPECT_NO_CRASH(r);
    cr_expect(r.exit_code == 1 || r.exit_code == 2,
              "expected exit 1 or 2 for an output path that is a file, got %d",
              r.exit_code);
    cr_expect(strstr(r.err, file) != NULL, "expected stderr to name %s; got:\n%s", file,
              r.err);
    char *text = cli_read_file(file, NULL);
    cr_expect(text != NULL && strcmp(text, "keep me\n") == 0,
              "expected %s to be left unchanged", file);
    free(text);
    cr_expect_eq(count_tmp_files(cli_tmp), 0, "expected no *.tmp.* file in %s", cli_tmp);
    cli_result_free(&r);
}

Test(cli, cashflow_leaves_no_temporary_file)
{
    const char *out = cli_path("out");
    for (int pass = 0; pass < 2; pass++) { /* the second run overwrites */
        cli_result r = cli_run("cashflow", CLI_REFERENCE_YAML, "-o", out, "--default",
                               "L07@3", NULL);
        CLI_EXPECT_NO_CRASH(r);
        cr_assert_eq(r.exit_code, 0, "expected exit 0, got %d; stderr:\n%s", r.exit_code,
                     r.err);
        cli_result_free(&r);
    }
    static const char *const files[] = {"ledger.csv", "tranches.csv", "periods.csv"};
    char path[600];
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", out, files[i]);
        struct stat sb;
        cr_expect(stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0,
                  "expected a non-empty %s", path);
    }
    cr_expect_eq(count_tmp_files(out), 0, "expected no *.tmp.* file left in %s", out);
}
