/*
 * test_api.c — the embedding API (ipabs/ipabs.h, src/api/).
 *
 * What is checked: the summary table of ipabs_session_run equals, bit for
 * bit, the engine's own figures for the same run (ipabs_mc_run with the
 * same seed, read through ipabs_mc_lookup), row by row; the other tables
 * have the shapes the files document; a cashflow's tables equal the
 * waterfall's flows; column types follow the column names; a progress
 * callback that asks to stop leaves a prefix of paths equal to a run of that
 * many paths; every error path is provoked (missing scenario, bad override
 * with its position, bad defaults, bad guarantor period, bad grid); the
 * private temporary directory is removed; NULL and out-of-range arguments
 * to the accessors are harmless.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "cli_util.h"
#include "ipabs/ipabs.h"
#include "ipabs/montecarlo.h"

static ipabs_session *open_reference(const char *const *sets, int n)
{
    ipabs_session *s = NULL;
    ipabs_errors errors = {0};
    ipabs_status st = ipabs_session_open(CLI_REFERENCE_YAML, sets, n, &s, &errors);
    cr_assert_eq(st, IPABS_OK, "expected the reference scenario to open, got %d: %s", st,
                 errors.count ? errors.items[0].message : "");
    ipabs_errors_clear(&errors);
    return s;
}

static void setup(void)
{
    ipabs_init();
    cli_tmp_make();
    /* The API's private temporary directories go here, to be counted. */
    setenv("TMPDIR", cli_tmp, 1);
}

static void teardown(void)
{
    cli_tmp_remove();
}

TestSuite(api, .init = setup, .fini = teardown);

static int entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d != NULL)
        closedir(d);
    return n;
}

static bool same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

Test(api, summary_equals_the_engine_bit_for_bit)
{
    const char *sets[] = {"model.pd_multiplier=1.7"};
    ipabs_session *s = open_reference(sets, 1);
    ipabs_run_params p = {.paths = 12000, .has_seed = 1, .seed = 4242, .threads = 2};
    ipabs_results *r = NULL;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_session_run(s, &p, &r, &err), IPABS_OK, "%s", err.message);
    cr_expect_eq(entries(cli_tmp), 0, "expected the temporary directory to be removed");

    /* The engine, directly, with another thread count. */
    const ipabs_deal *deal = ipabs_session_deal(s);
    ipabs_mc_options opt = {12000, 4242, 1, NULL, NULL, NULL, 0};
    ipabs_mc_result *mc = NULL;
    cr_assert_eq(ipabs_mc_run(deal, &opt, &mc, &err), IPABS_OK);

    const ipabs_result *t = ipabs_results_get(r, "summary");
    cr_assert_not_null(t);
    const char *const *subject = ipabs_result_texts(t, ipabs_result_find(t, "subject"));
    const char *const *measure = ipabs_result_texts(t, ipabs_result_find(t, "measure"));
    const double *value = ipabs_result_doubles(t, ipabs_result_find(t, "value"));
    const double *se = ipabs_result_doubles(t, ipabs_result_find(t, "std_error"));
    cr_assert(subject && measure && value && se);
    cr_assert_gt(ipabs_result_rows(t), 50);
    for (long i = 0; i < ipabs_result_rows(t); i++) {
        double v, e;
        cr_assert(ipabs_mc_lookup(deal, mc, subject[i], measure[i], &v, &e),
                  "expected the engine to report %s.%s", subject[i], measure[i]);
        cr_expect(same_double(v, value[i]), "%s.%s: table %.17g, engine %.17g", subject[i],
                  measure[i], value[i], v);
        cr_expect(same_double(e, se[i]), "%s.%s: std_error table %.17g, engine %.17g",
                  subject[i], measure[i], se[i], e);
    }
    ipabs_mc_result_free(mc);

    /* The other tables: shapes from docs/cli.md. */
    static const char *const names[] = {"summary", "default_count", "loss_distribution",
                                        "cdr", "coverage", "default_count_by_period", "run"};
    cr_assert_eq(ipabs_results_count(r), 7);
    for (int i = 0; i < 7; i++)
        cr_expect_str_eq(ipabs_result_name(ipabs_results_at(r, i)), names[i]);
    const ipabs_result *cdr = ipabs_results_get(r, "cdr");
    cr_expect_eq(ipabs_result_rows(cdr), deal->legal_final);
    const int64_t *period = ipabs_result_ints(cdr, ipabs_result_find(cdr, "period"));
    cr_assert_not_null(period);
    for (long i = 0; i < ipabs_result_rows(cdr); i++)
        cr_expect_eq(period[i], i + 1);
    cr_expect_eq(ipabs_result_rows(ipabs_results_get(r, "default_count")), deal->n_loans + 1);
    const ipabs_result *run = ipabs_results_get(r, "run");
    const int64_t *seed = ipabs_result_ints(run, ipabs_result_find(run, "seed"));
    cr_assert_not_null(seed);
    cr_expect_eq(seed[0], 4242);
    const char *const *ov = ipabs_result_texts(run, ipabs_result_find(run, "overrides"));
    cr_expect_str_eq(ov[0], "model.pd_multiplier=1.7");
    ipabs_results_free(r);
    ipabs_session_free(s);
}

Test(api, out_dir_keeps_the_files)
{
    ipabs_session *s = open_reference(NULL, 0);
    ipabs_run_params p = {.paths = 4096, .threads = 1, .out_dir = cli_path("kept")};
    ipabs_results *r = NULL;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_session_run(s, &p, &r, &err), IPABS_OK, "%s", err.message);
    cr_expect_eq(entries(cli_path("kept")), 7, "expected the seven files of a run");
    /* The scenario's seed was used. */
    const ipabs_result *run = ipabs_results_get(r, "run");
    const int64_t *seed = ipabs_result_ints(run, ipabs_result_find(run, "seed"));
    cr_expect_eq((uint64_t)seed[0], ipabs_session_deal(s)->simulation.seed);
    ipabs_results_free(r);
    ipabs_session_free(s);
}

Test(api, column_types_follow_names)
{
    ipabs_session *s = open_reference(NULL, 0);
    ipabs_results *r = NULL;
    ipabs_error err = {0};
    ipabs_run_params p = {.paths = 4096, .threads = 1};
    cr_assert_eq(ipabs_session_run(s, &p, &r, &err), IPABS_OK);
    const ipabs_result *t = ipabs_results_get(r, "summary");
    cr_expect_eq(ipabs_result_col_type(t, 0), IPABS_COLUMN_TEXT);
    cr_expect_eq(ipabs_result_col_type(t, 2), IPABS_COLUMN_DOUBLE);
    /* paths is empty for figures that are not Monte Carlo ones: NaN. */
    const double *paths = ipabs_result_doubles(t, ipabs_result_find(t, "paths"));
    cr_assert_not_null(paths);
    cr_expect(isnan(paths[0]), "original_balance has no path count");
    cr_expect_eq(paths[2], 4096.0);
    const ipabs_result *run = ipabs_results_get(r, "run");
    cr_expect_eq(ipabs_result_col_type(run, ipabs_result_find(run, "partial")),
                 IPABS_COLUMN_TEXT);
    cr_expect_eq(ipabs_result_col_type(run, ipabs_result_find(run, "threads")),
                 IPABS_COLUMN_INT);
    /* Wrong-type and out-of-range access. */
    cr_expect_null(ipabs_result_ints(t, 2));
    cr_expect_null(ipabs_result_doubles(t, 99));
    cr_expect_null(ipabs_result_col_name(t, -1));
    cr_expect_eq(ipabs_result_find(t, "nope"), -1);
    cr_expect_null(ipabs_results_get(r, "nope"));
    cr_expect_null(ipabs_results_at(r, 7));
    cr_expect_eq(ipabs_results_count(NULL), 0);
    cr_expect_eq(ipabs_result_rows(NULL), 0);
    ipabs_results_free(NULL);
    ipabs_session_free(NULL);
    ipabs_results_free(r);
    ipabs_session_free(s);
}

typedef struct stopper {
    long long last, stop_after;
    int calls;
    bool increasing;
} stopper;

static int stop_later(void *ctx, long long done, long long total)
{
    stopper *st = ctx;
    st->increasing &= done > st->last && total == 100000;
    st->last = done;
    st->calls++;
    return done >= st->stop_after;
}

Test(api, progress_can_stop_a_run)
{
    ipabs_session *s = open_reference(NULL, 0);
    stopper st = {0, 2 * IPABS_MC_CHUNK, 0, true};
    ipabs_run_params p = {.paths = 100000, .has_seed = 1, .seed = 9, .threads = 1,
                          .progress = stop_later, .progress_ctx = &st};
    ipabs_results *r = NULL;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_session_run(s, &p, &r, &err), IPABS_EINTERRUPTED);
    cr_assert_not_null(r, "expected the completed prefix");
    cr_expect(st.increasing, "expected progress in path order");
    const ipabs_result *run = ipabs_results_get(r, "run");
    const char *const *partial = ipabs_result_texts(run, ipabs_result_find(run, "partial"));
    cr_expect_str_eq(partial[0], "true");
    /* paths is DOUBLE in run (as in summary it may be empty): a count. */
    const int64_t *req = ipabs_result_ints(run, ipabs_result_find(run, "paths_requested"));
    cr_expect_eq(req[0], 100000);
    const double *done = ipabs_result_doubles(run, ipabs_result_find(run, "paths"));
    cr_assert_not_null(done);
    long long n = (long long)done[0];
    cr_expect_geq(n, 2 * IPABS_MC_CHUNK);
    cr_expect_lt(n, 100000);

    /* The prefix is a run of n paths. */
    ipabs_run_params q = {.paths = n, .has_seed = 1, .seed = 9, .threads = 2};
    ipabs_results *full = NULL;
    cr_assert_eq(ipabs_session_run(s, &q, &full, &err), IPABS_OK);
    const ipabs_result *a = ipabs_results_get(r, "summary");
    const ipabs_result *b = ipabs_results_get(full, "summary");
    const double *va = ipabs_result_doubles(a, 2), *vb = ipabs_result_doubles(b, 2);
    cr_assert_eq(ipabs_result_rows(a), ipabs_result_rows(b));
    for (long i = 0; i < ipabs_result_rows(a); i++)
        cr_expect(same_double(va[i], vb[i]), "row %ld: %.17g != %.17g", i, va[i], vb[i]);
    ipabs_results_free(full);
    ipabs_results_free(r);
    ipabs_session_free(s);
}

Test(api, cashflow_tables_equal_the_waterfall)
{
    ipabs_session *s = open_reference(NULL, 0);
    const ipabs_deal *deal = ipabs_session_deal(s);
    const char *defaults[] = {"L04@3:0.275", "L09@5"};
    ipabs_cashflow_params p = {defaults, 2, 6, NULL};
    ipabs_results *r = NULL;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_session_cashflow(s, &p, &r, &err), IPABS_OK, "%s", err.message);

    ipabs_realisation *real = ipabs_realisation_alloc(deal);
    int l4 = ipabs_deal_find_loan(deal, "L04"), l9 = ipabs_deal_find_loan(deal, "L09");
    real->default_period[l4] = 3;
    real->realisation[l4] = 0.275;
    real->default_period[l9] = 5;
    real->guarantor_default_period = 6;
    ipabs_realisation_index(deal, real);
    ipabs_cashflow *cf = NULL;
    cr_assert_eq(ipabs_cashflow_compute(deal, real, &cf, &err), IPABS_OK);

    const ipabs_result *t = ipabs_results_get(r, "periods");
    cr_assert_eq(ipabs_result_rows(t), cf->n_periods);
    const double *payout = ipabs_result_doubles(t, ipabs_result_find(t, "guarantee_payout"));
    const double *resid = ipabs_result_doubles(t, ipabs_result_find(t, "residual"));
    const int64_t *newdef = ipabs_result_ints(t, ipabs_result_find(t, "new_defaults"));
    cr_assert(payout && resid && newdef);
    int defaults_seen = 0;
    for (int i = 0; i < cf->n_periods; i++) {
        /* The file has 6 decimals. */
        cr_expect(fabs(payout[i] - cf->periods[i].guarantee_payout) <= 5e-7, "period %d", i + 1);
        cr_expect(fabs(resid[i] - cf->periods[i].residual) <= 5e-7, "period %d", i + 1);
        defaults_seen += (int)newdef[i];
    }
    cr_expect_eq(defaults_seen, 2);
    cr_expect_eq(ipabs_result_rows(ipabs_results_get(r, "tranches")),
                 (long)cf->n_periods * deal->n_tranches);
    cr_expect_eq(ipabs_result_rows(ipabs_results_get(r, "ledger")), (long)cf->ledger->count);
    cr_expect_eq(entries(cli_tmp), 0, "expected the temporary directory to be removed");
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(real);
    ipabs_results_free(r);
    ipabs_session_free(s);
}

Test(api, cashflow_input_errors)
{
    ipabs_session *s = open_reference(NULL, 0);
    static const char *const specs[] = {"NOPE@1", "L01", "L01@0", "L01@2:1.5", "@3"};
    static const char *const says[] = {"no loan 'NOPE'", "expected LOAN@PERIOD",
                                       "period must be", "realisation must be",
                                       "expected LOAN@PERIOD"};
    for (int i = 0; i < 5; i++) {
        ipabs_cashflow_params p = {&specs[i], 1, 0, NULL};
        ipabs_results *r = NULL;
        ipabs_error err = {0};
        cr_expect_eq(ipabs_session_cashflow(s, &p, &r, &err), IPABS_EINPUT, "%s", specs[i]);
        cr_expect_null(r);
        cr_expect_str_eq(err.field, "--default");
        cr_expect(strstr(err.message, says[i]) != NULL, "%s: got '%s'", specs[i], err.message);
    }
    ipabs_cashflow_params p = {NULL, 0, 21, NULL};
    ipabs_results *r = NULL;
    ipabs_error err = {0};
    cr_expect_eq(ipabs_session_cashflow(s, &p, &r, &err), IPABS_EINPUT);
    cr_expect_str_eq(err.field, "--guarantor-default");
    cr_expect(strstr(err.message, "legal final period 20") != NULL, "got '%s'", err.message);
    /* The error object may be NULL. */
    const char *bad[] = {"L01@0"};
    ipabs_cashflow_params q = {bad, 1, 0, NULL};
    cr_expect_eq(ipabs_session_cashflow(s, &q, &r, NULL), IPABS_EINPUT);
    cr_expect_eq(entries(cli_tmp), 0);
    ipabs_session_free(s);
}

Test(api, open_errors)
{
    ipabs_session *s = NULL;
    ipabs_errors errors = {0};
    cr_expect_eq(ipabs_session_open(cli_path("absent.yaml"), NULL, 0, &s, &errors), IPABS_EIO);
    cr_expect_null(s);
    cr_assert_geq(errors.count, 1);
    cr_expect(strstr(errors.items[0].file, "absent.yaml") != NULL);
    ipabs_errors_clear(&errors);

    const char *sets[] = {"model.pd_multiplier=2", "model.correlation=1.5"};
    cr_expect_eq(ipabs_session_open(CLI_REFERENCE_YAML, sets, 2, &s, &errors), IPABS_EINPUT);
    cr_assert_geq(errors.count, 1);
    cr_expect_str_eq(errors.items[0].file, "--set");
    cr_expect_eq(errors.items[0].line, 2, "the second override is the bad one");
    cr_expect_str_eq(errors.items[0].field, "model.correlation");
    ipabs_errors_clear(&errors);

    cr_expect_eq(ipabs_session_open(NULL, NULL, 0, &s, &errors), IPABS_EINPUT);
    ipabs_errors_clear(&errors);
}

Test(api, check_tables)
{
    ipabs_session *s = open_reference(NULL, 0);
    const ipabs_deal *deal = ipabs_session_deal(s);
    ipabs_results *r = NULL;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_session_check(s, &r, &err), IPABS_OK);
    const ipabs_result *t = ipabs_results_get(r, "tranches");
    cr_assert_eq(ipabs_result_rows(t), deal->n_tranches);
    const double *bal = ipabs_result_doubles(t, ipabs_result_find(t, "balance"));
    const int64_t *lf = ipabs_result_ints(t, ipabs_result_find(t, "legal_final"));
    cr_assert(bal && lf);
    for (int k = 0; k < deal->n_tranches; k++) {
        cr_expect(same_double(bal[k], deal->tranches[k].balance));
        cr_expect_eq(lf[k], deal->tranches[k].legal_final);
    }
    const ipabs_result *loans = ipabs_results_get(r, "loans");
    cr_expect_eq(ipabs_result_rows(loans), deal->n_loans);
    cr_expect_eq(ipabs_result_col_type(loans, ipabs_result_find(loans, "id")),
                 IPABS_COLUMN_TEXT);
    char text[4096];
    size_t n = ipabs_session_describe(s, text, sizeof text);
    cr_expect_gt(n, 100);
    cr_expect(strstr(text, "pool: 10 loans, 72000000.00") != NULL, "got: %s", text);
    char small[8];
    cr_expect_eq(ipabs_session_describe(s, small, sizeof small), n);
    cr_expect_eq(strlen(small), 7);
    ipabs_results_free(r);
    ipabs_session_free(s);
}

Test(api, sweep_rows_are_runs)
{
    ipabs_session *s = open_reference(NULL, 0);
    const char *grid[] = {"model.pd_multiplier=0.5,2"};
    ipabs_run_params p = {.paths = 4096, .has_seed = 1, .seed = 77, .threads = 1};
    ipabs_results *r = NULL;
    ipabs_errors errors = {0};
    cr_assert_eq(ipabs_session_sweep(s, grid, 1, &p, &r, &errors), IPABS_OK);
    const ipabs_result *t = ipabs_results_get(r, "sweep");
    cr_assert_eq(ipabs_result_rows(t), 2);
    const double *key = ipabs_result_doubles(t, 0);
    const double *el = ipabs_result_doubles(t, ipabs_result_find(t, "pool.expected_loss"));
    cr_assert(key && el);
    cr_expect_eq(key[1], 2.0);
    const char *sets[] = {"model.pd_multiplier=2"};
    ipabs_session *s2 = open_reference(sets, 1);
    ipabs_results *r2 = NULL;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_session_run(s2, &p, &r2, &err), IPABS_OK);
    const ipabs_result *summ = ipabs_results_get(r2, "summary");
    const char *const *subj = ipabs_result_texts(summ, 0);
    const char *const *meas = ipabs_result_texts(summ, 1);
    const double *val = ipabs_result_doubles(summ, 2);
    double v = NAN;
    for (long i = 0; i < ipabs_result_rows(summ); i++)
        if (strcmp(subj[i], "pool") == 0 && strcmp(meas[i], "expected_loss") == 0)
            v = val[i];
    cr_expect(same_double(el[1], v), "sweep %.17g, run %.17g", el[1], v);
    ipabs_results_free(r2);
    ipabs_session_free(s2);
    ipabs_results_free(r);

    const char *bad[] = {"model.correlation=abc"};
    cr_expect_eq(ipabs_session_sweep(s, bad, 1, &p, &r, &errors), IPABS_EINPUT);
    cr_expect_null(r);
    cr_assert_geq(errors.count, 1);
    cr_expect_str_eq(errors.items[0].file, "--grid");
    ipabs_errors_clear(&errors);
    cr_expect_eq(ipabs_session_sweep(s, NULL, 0, &p, &r, &errors), IPABS_EINPUT);
    ipabs_errors_clear(&errors);
    cr_expect_eq(entries(cli_tmp), 0);
    ipabs_session_free(s);
}
