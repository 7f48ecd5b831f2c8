/*
 * test_workbook.c — the Excel workbook opens in a real spreadsheet:
 * LibreOffice (headless) converts it to PDF, and every sheet back to CSV,
 * whose cells must equal the result CSVs the workbook was built from.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipabs/csvin.h"
#include "ipabs/breakeven.h"
#include "ipabs/montecarlo.h"
#include "ipabs/rating.h"
#include "ipabs/scenario.h"
#include "ipabs/sweep.h"
#include "ipabs/workbook.h"

#include "tmpdir.h"

#define REFERENCE IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs.yaml"

/* soffice --headless with its own profile, so parallel runs do not clash. */
static int soffice(const char *filter, const char *file)
{
    char profile[600], outdir[600];
    snprintf(profile, sizeof profile, "-env:UserInstallation=file://%s/profile", dir);
    snprintf(outdir, sizeof outdir, "%s/lo", dir);
    pid_t pid = fork();
    if (pid == 0) {
        if (freopen("/dev/null", "w", stdout) == NULL || freopen("/dev/null", "w", stderr) == NULL)
            _exit(127);
        execlp("soffice", "soffice", profile, "--headless", "--convert-to", filter,
               "--outdir", outdir, file, (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* A cell as LibreOffice writes it: percentages keep their sign. */
static bool lo_number(const char *s, double *v)
{
    char *end;
    if (*s == '\0')
        return false;
    *v = strtod(s, &end);
    if (*end == '%' && end[1] == '\0') {
        *v /= 100.0;
        return true;
    }
    return *end == '\0';
}

static void same_table(const char *csv, const char *sheet_csv)
{
    ipabs_table a, b;
    ipabs_error err;
    cr_assert_eq(ipabs_table_read(csv, &a, &err), IPABS_OK, "%s", err.message);
    cr_assert_eq(ipabs_table_read(sheet_csv, &b, &err), IPABS_OK, "%s: %s", sheet_csv,
                 err.message);
    cr_assert_eq(a.n_rows, b.n_rows, "%s rows", csv);
    for (int r = 0; r < a.n_rows; r++)
        for (int c = 0; c < a.row_len[r]; c++) {
            const char *x = a.cell[r][c], *y = c < b.row_len[r] ? b.cell[r][c] : "";
            double u, v;
            if (ipabs_table_num(&a, r, c, &u)) {
                cr_assert(lo_number(y, &v), "%s r%d c%d: '%s' read back as '%s'", csv, r, c, x, y);
                cr_assert(fabs(u - v) <= 1e-12 * fmax(1.0, fabs(u)),
                          "%s r%d c%d: %.17g read back as %.17g", csv, r, c, u, v);
            } else {
                cr_assert_str_eq(y, x, "%s r%d c%d", csv, r, c);
            }
        }
    ipabs_table_free(&a);
    ipabs_table_free(&b);
}

static void check_book(const char *xlsx, const char *const *sheets, int n)
{
    char path[700], csv[700];
    cr_assert_eq(soffice("pdf", xlsx), 0, "LibreOffice converts %s to PDF", xlsx);
    snprintf(path, sizeof path, "%s/lo/results.pdf", dir);
    cr_assert_gt(file_size(path), 1000, "a PDF was written");
    cr_assert_eq(soffice("csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,"
                         "false,false,-1", xlsx), 0);
    for (int i = 0; i < n; i++) {
        snprintf(csv, sizeof csv, "%s/%s.csv", dir, sheets[i]);
        snprintf(path, sizeof path, "%s/lo/results-%s.csv", dir, sheets[i]);
        same_table(csv, path);
    }
}

Test(workbook, run_workbook_opens_and_reads_back, .init = tmpdir_setup, .fini = tmpdir_teardown)
{
    tmpdir_reference_run(20000);
    ipabs_error err;
    char xlsx[600];
    snprintf(xlsx, sizeof xlsx, "%s/results.xlsx", dir);
    cr_assert_eq(ipabs_workbook_write(xlsx, dir, IPABS_RESULT_RUN, &err), IPABS_OK, "%s",
                 err.message);
    static const char *const sheets[] = {"summary", "default_count", "loss_distribution",
                                         "cdr", "coverage", "default_count_by_period", "run"};
    check_book(xlsx, sheets, (int)(sizeof sheets / sizeof sheets[0]));
}

Test(workbook, sweep_workbook_opens_and_reads_back, .init = tmpdir_setup, .fini = tmpdir_teardown)
{
    ipabs_sweep_grid grid = {0};
    ipabs_error err;
    cr_assert_eq(ipabs_sweep_add_axis(&grid, "model.correlation=0.1,0.2,0.4", &err), IPABS_OK);
    ipabs_sweep_options opt = {REFERENCE, NULL, 0, 5000, 1, 3, 2, NULL, false, 0};
    ipabs_errors errors = {0};
    cr_assert_eq(ipabs_sweep_run(&opt, &grid, dir, &errors), IPABS_OK);
    char xlsx[600];
    snprintf(xlsx, sizeof xlsx, "%s/results.xlsx", dir);
    cr_assert_eq(ipabs_workbook_write(xlsx, dir, IPABS_RESULT_SWEEP, &err), IPABS_OK);
    static const char *const sheets[] = {"sweep"};
    check_book(xlsx, sheets, 1);
}

Test(workbook, missing_csv_is_an_error_and_leaves_no_file, .init = tmpdir_setup, .fini = tmpdir_teardown)
{
    char xlsx[600];
    snprintf(xlsx, sizeof xlsx, "%s/results.xlsx", dir);
    ipabs_error err;
    cr_assert_eq(ipabs_workbook_write(xlsx, dir, IPABS_RESULT_RUN, &err), IPABS_EIO);
    cr_assert_neq(access(xlsx, F_OK), 0);
}

Test(workbook, rate_workbook_opens_and_reads_back, .init = tmpdir_setup, .fini = tmpdir_teardown)
{
    ipabs_deal *deal = NULL;
    ipabs_errors errors = {0};
    cr_assert_eq(ipabs_scenario_load(REFERENCE, NULL, 0, &deal, &errors), IPABS_OK);
    ipabs_mc_options opt = {10000, 7, 2, NULL, NULL, NULL, 0};
    ipabs_breakeven_result *be = NULL;
    ipabs_rating_result *r = NULL;
    ipabs_error err;
    cr_assert_eq(ipabs_rating_run(deal, &opt, &be, &r, &err), IPABS_OK, "%s", err.message);
    cr_assert_eq(ipabs_rating_write(deal, be, r, dir, true, &err), IPABS_OK);
    char xlsx[600];
    snprintf(xlsx, sizeof xlsx, "%s/results.xlsx", dir);
    cr_assert_eq(ipabs_workbook_write(xlsx, dir, IPABS_RESULT_RATE, &err), IPABS_OK, "%s",
                 err.message);
    static const char *const sheets[] = {"rating", "rating_summary", "breakeven"};
    check_book(xlsx, sheets, 3);
    ipabs_rating_free(r);
    ipabs_breakeven_free(be);
    ipabs_deal_free(deal);
}
