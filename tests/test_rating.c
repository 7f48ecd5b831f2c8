/*
 * test_rating.c — target default rates and the implied rating: the grade
 * table (built-in = the shipped scenarios/rating-grades.yaml; tenor
 * interpolation), the TDR of a pool whose default-rate distribution is
 * known exactly (Binomial, with the exact module as a second yardstick),
 * the tenor, the `rating:` keys (read, overridden, and every bad value
 * reported at file:line:column), and `ipabs breakeven` / `ipabs rate` on
 * the reference scenario.
 *
 * Each test works in its own mkdtemp directory (cli_util.h).
 */
#include <criterion/criterion.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <math.h>

#include "cli_util.h"
#include "fixture.h"
#include "ipabs/exact.h"
#include "ipabs/rating.h"
#include "ipabs/scenario.h"

TestSuite(rating, .init = cli_tmp_make, .fini = cli_tmp_remove, .timeout = 120);

#define FRAGMENT IPABS_SOURCE_DIR "/scenarios/rating-grades.yaml"

/* ---- helpers ------------------------------------------------------------------ */

static void print_errors(const ipabs_errors *e)
{
    for (size_t i = 0; i < e->count; i++)
        ipabs_error_print(stderr, &e->items[i]);
}

static ipabs_status load(const char *yaml_name, const char *const *sets, int n,
                         ipabs_deal **deal, ipabs_errors *errors)
{
    const char *path = yaml_name[0] == '/' ? yaml_name : cli_path(yaml_name);
    return ipabs_scenario_load(path, sets, n, deal, errors);
}

static ipabs_deal *load_ok(const char *yaml_name, const char *const *sets, int n)
{
    ipabs_deal *deal = NULL;
    ipabs_errors errors = {0};
    ipabs_status s = load(yaml_name, sets, n, &deal, &errors);
    print_errors(&errors);
    cr_assert_eq(s, IPABS_OK);
    ipabs_errors_clear(&errors);
    return deal;
}

static ipabs_mc_result *monte_carlo(const ipabs_deal *deal, long long paths,
                                    uint64_t seed)
{
    ipabs_mc_options opt = {paths, seed, 2, NULL, NULL, NULL, 0};
    ipabs_mc_result *r = NULL;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_mc_run(deal, &opt, &r, &err), IPABS_OK, "%s", err.message);
    return r;
}

/* ---- the grade table ---------------------------------------------------------- */

Test(rating, target_probability_is_interpolated_in_the_tenor)
{
    ipabs_grade_table t = ipabs_rating_default_grades();
    cr_assert_eq(t.n_grades, 10);
    cr_expect_str_eq(t.names[0], "AAA");
    cr_expect_str_eq(t.names[9], "BBB-");
    cr_expect_float_eq(ipabs_grade_target_prob(&t, 0, 1.0), 0.0002, 1e-15);
    cr_expect_float_eq(ipabs_grade_target_prob(&t, 0, 0.5), 0.0001, 1e-15);
    cr_expect_float_eq(ipabs_grade_target_prob(&t, 0, 1.5), 0.0003, 1e-15);
    cr_expect_float_eq(ipabs_grade_target_prob(&t, 3, 2.25),
                       0.003712 + 0.25 * (0.005563 - 0.003712), 1e-15);
    cr_expect_float_eq(ipabs_grade_target_prob(&t, 9, 12.0), 0.265375, 1e-15);
    cr_expect_eq(ipabs_grade_target_prob(&t, 5, 0.0), 0.0);
    /* The anchors of MARKET-NOTES.md at one year, and constant hazard. */
    cr_expect_float_eq(ipabs_grade_target_prob(&t, 2, 1.0), 0.0011, 1e-15);
    cr_expect_float_eq(ipabs_grade_target_prob(&t, 5, 1.0), 0.0053, 1e-15);
    cr_expect_float_eq(ipabs_grade_target_prob(&t, 6, 1.0), 0.0082, 1e-15);
    /* Every row is a constant hazard from its (rounded) 1-year value: the
     * rounding of p1 to 6 decimals moves the n-year value by < n x 5e-7. */
    for (int g = 0; g < t.n_grades; g++)
        for (int y = 0; y < t.n_tenors; y++) {
            double p1 = t.prob[g * t.n_tenors];
            cr_expect_float_eq(t.prob[g * t.n_tenors + y], 1.0 - pow(1.0 - p1, y + 1),
                               (y + 1) * 5e-7 + 5e-7, "grade %s, %d years", t.names[g], y + 1);
            if (g > 0)
                cr_expect_geq(t.prob[g * t.n_tenors + y], t.prob[(g - 1) * t.n_tenors + y]);
        }
}

/* The reference scenario with the shipped rating section appended loads to
 * exactly the built-in defaults. */
Test(rating, the_shipped_fragment_is_the_built_in_default)
{
    char *yaml = cli_read_file(CLI_REFERENCE_YAML, NULL);
    char *fragment = cli_read_file(FRAGMENT, NULL);
    char *tape = cli_read_file(CLI_REFERENCE_TAPE, NULL);
    cr_assert(yaml && fragment && tape);
    size_t n = strlen(yaml) + strlen(fragment) + 2;
    char *both = malloc(n);
    snprintf(both, n, "%s\n%s", yaml, fragment);
    cli_write_file(cli_path("scenario.yaml"), both);
    cli_write_file(cli_path("shenyang-ip-abs-loans.csv"), tape);
    ipabs_deal *d = load_ok("scenario.yaml", NULL, 0);
    ipabs_grade_table shipped = ipabs_rating_grades(d), built_in = ipabs_rating_default_grades();
    cr_assert_eq(d->rating.n_grades, built_in.n_grades);
    cr_assert_eq(shipped.n_tenors, built_in.n_tenors);
    for (int g = 0; g < built_in.n_grades; g++) {
        cr_expect_str_eq(shipped.names[g], built_in.names[g]);
        for (int y = 0; y < built_in.n_tenors; y++)
            cr_expect_eq(shipped.prob[g * shipped.n_tenors + y],
                         built_in.prob[g * built_in.n_tenors + y], "%s %d", built_in.names[g], y);
    }
    cr_expect_eq(d->rating.default_rule, IPABS_DEFAULT_PRO_RATA);
    cr_expect_eq(d->rating.tenor, IPABS_TENOR_WAL);
    ipabs_deal *plain = ipabs_deal_alloc();
    ipabs_stress *a = NULL, *b = NULL;
    int na = 0, nb = 0;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_breakeven_stresses(d, &a, &na, &err), IPABS_OK);
    cr_assert_eq(ipabs_breakeven_stresses(plain, &b, &nb, &err), IPABS_OK);
    cr_assert_eq(na, nb);
    cr_expect_eq(memcmp(a, b, (size_t)na * sizeof *a), 0);
    free(a);
    free(b);
    ipabs_deal_free(plain);
    ipabs_deal_free(d);
    free(both);
    free(yaml);
    free(fragment);
    free(tape);
}

/* ---- the TDR of a known distribution -------------------------------------------- */

/* 20 equal bullet loans of one year, annual PD 5%, correlation 0: the
 * number of defaults N is Binomial(20, 0.05) and, bullets defaulting at
 * par, the cumulative default ratio is exactly N / 20. */
static ipabs_deal *binomial_pool(void)
{
    ipabs_deal *d = fx_deal(4, 20, 2, 0);
    for (int i = 0; i < 20; i++) {
        char id[8];
        snprintf(id, sizeof id, "B%02d", i + 1);
        fx_loan(d, i, id, 1000000.0, 0.05, 4, IPABS_LOAN_BULLET, 0.01, 0.05);
    }
    fx_tranche(d, 0, "senior", IPABS_CLASS_SENIOR, 18000000.0, 0.03,
               IPABS_TRANCHE_PASS_THROUGH, 4);
    fx_tranche(d, 1, "sub", IPABS_CLASS_SUB, 2000000.0, 0.0, IPABS_TRANCHE_PASS_THROUGH, 4);
    ipabs_error err;
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK, "%s", err.message);
    return d;
}

Test(rating, tdr_of_a_binomial_pool_is_the_binomial_quantile)
{
    ipabs_deal *d = binomial_pool();
    const long long paths = 100000;
    ipabs_mc_result *r = monte_carlo(d, paths, 424242);
    /* The exact module agrees with the Binomial law it is built on. */
    ipabs_exact_result *ex = NULL;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_exact_compute(d, NULL, &ex, &err), IPABS_OK, "%s", err.message);
    for (int k = 0; k <= 20; k++)
        cr_expect_float_eq(ex->default_count[k], gsl_ran_binomial_pdf((unsigned)k, 0.05, 20),
                           1e-12, "P(N = %d)", k);
    /* Levels whose order statistic is among the 16,384 kept extremes
     * ((1 - q) paths <= 16,384), where the quantile is exact. */
    static const double levels[] = {0.9, 0.99, 0.999};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        double q = levels[i], sigma = sqrt(q * (1.0 - q) / (double)paths);
        unsigned k = 0;
        while (gsl_cdf_binomial_P(k, 0.05, 20) < q)
            k++;
        /* The empirical quantile is the atom k/n unless the empirical CDF
         * crosses q on a neighbouring atom: P(N <= k-1) < q <= P(N <= k),
         * with both gaps many standard deviations of the empirical CDF
         * (sigma = sqrt(q (1 - q) / paths)) wide, makes that negligible. */
        double below = k > 0 ? gsl_cdf_binomial_P(k - 1, 0.05, 20) : 0.0;
        double at = gsl_cdf_binomial_P(k, 0.05, 20);
        cr_assert(q - below > 5.0 * sigma && at - q > 5.0 * sigma,
                  "level %g is too close to an atom for the test", q);
        double se;
        double tdr = ipabs_rating_tdr(d, r, 1.0 - q, &se);
        cr_expect_float_eq(tdr, k / 20.0, 1e-12, "level %g: TDR %g, Binomial %u/20", q, tdr, k);
        cr_expect_eq(se, 0.0, "on an atom the quantile's standard error is 0");
    }
    /* At the median the order statistic is in the histogram: within one
     * bin width (1/4096 of the [0, 1] range) of the atom 1/20. */
    cr_expect(fabs(ipabs_rating_tdr(d, r, 0.5, NULL) - 0.05) <= 1.0 / 4096);
    ipabs_exact_free(ex);
    ipabs_mc_result_free(r);
    ipabs_deal_free(d);
}

Test(rating, support_does_not_change_the_default_rate_distribution)
{
    ipabs_deal *d = load_ok(CLI_REFERENCE_YAML, NULL, 0), *alone = NULL;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_rating_standalone_deal(d, &alone, &err), IPABS_OK);
    cr_expect_eq(alone->guarantor.capacity, 0.0);
    cr_expect_not(alone->guarantor.topup);
    cr_expect_not(alone->triggers.on_guarantor_default);
    ipabs_mc_result *a = monte_carlo(d, 20000, 99), *b = monte_carlo(alone, 20000, 99);
    for (double p = 0.0005; p < 0.2; p *= 2.0)
        cr_expect_eq(ipabs_rating_tdr(d, a, p, NULL), ipabs_rating_tdr(alone, b, p, NULL),
                     "target probability %g", p);
    ipabs_mc_result_free(a);
    ipabs_mc_result_free(b);
    ipabs_deal_free(alone);
    ipabs_deal_free(d);
}

Test(rating, tenor_is_the_senior_wal_or_its_legal_final)
{
    /* One bullet loan of 4 quarters repays the senior in period 4: WAL 1
     * year; the senior's legal final is period 6: 1.5 years. */
    ipabs_deal *d = fx_deal(6, 1, 2, 0);
    fx_loan(d, 0, "L", 1000000.0, 0.05, 4, IPABS_LOAN_BULLET, 0.01, 0.02);
    fx_tranche(d, 0, "senior", IPABS_CLASS_SENIOR, 900000.0, 0.03,
               IPABS_TRANCHE_PASS_THROUGH, 6);
    fx_tranche(d, 1, "sub", IPABS_CLASS_SUB, 100000.0, 0.0, IPABS_TRANCHE_PASS_THROUGH, 6);
    ipabs_error err;
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK);
    double years;
    cr_assert_eq(ipabs_rating_tenor_years(d, &years, &err), IPABS_OK);
    cr_expect_float_eq(years, 1.0, 1e-15);
    d->rating.tenor = IPABS_TENOR_LEGAL_FINAL;
    cr_assert_eq(ipabs_rating_tenor_years(d, &years, &err), IPABS_OK);
    cr_expect_float_eq(years, 1.5, 1e-15);
    ipabs_deal_free(d);
}

Test(rating, rating_run_on_the_reference_deal)
{
    ipabs_deal *d = load_ok(CLI_REFERENCE_YAML, NULL, 0);
    ipabs_mc_options opt = {20000, 7, 2, NULL, NULL, NULL, 0};
    ipabs_breakeven_result *be = NULL;
    ipabs_rating_result *r = NULL;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_rating_run(d, &opt, &be, &r, &err), IPABS_OK, "%s", err.message);
    cr_expect_eq(r->n_rows, 20);
    cr_expect_eq(r->n_views, 2);
    cr_expect(r->tenor_years > 1.5 && r->tenor_years < 2.5, "tenor %g", r->tenor_years);
    /* Supported at least as high as stand-alone (a lower index is better). */
    int alone = r->implied[IPABS_SUPPORT_NONE], supported = r->implied[IPABS_SUPPORT_FULL];
    cr_expect(supported >= 0);
    cr_expect(alone < 0 || supported <= alone);
    for (int g = 0; g < r->grades.n_grades; g++) {
        const ipabs_rating_row *x = &r->rows[g];
        cr_expect_float_eq(x->margin, x->min_bdr - x->tdr, 1e-15);
        cr_expect_eq(x->passes, x->margin >= 0.0);
        if (g > 0)
            cr_expect_leq(x->tdr, r->rows[g - 1].tdr, "TDR falls down the table");
    }
    /* The guarantor as given is worth something in the Monte Carlo view. */
    cr_expect_lt(r->views[IPABS_SUPPORT_FULL].prob_loss, r->views[IPABS_SUPPORT_NONE].prob_loss);
    ipabs_rating_free(r);
    ipabs_breakeven_free(be);
    ipabs_deal_free(d);
}

/* ---- the rating: keys --------------------------------------------------------------- */

static const char BASE_YAML[] =
    "deal:\n"                                                           /*  1 */
    "  name: Rating test\n"                                             /*  2 */
    "  closing_date: 2025-06-30\n"                                      /*  3 */
    "  legal_final: 12\n"                                               /*  4 */
    "loans:\n"                                                          /*  5 */
    "  tape: loans.csv\n"                                               /*  6 */
    "plan:\n"                                                           /*  7 */
    "  tranches:\n"                                                     /*  8 */
    "    - {name: A, class: senior, balance: 2700000, coupon: 0.031}\n" /*  9 */
    "    - {name: B, class: sub, balance: 300000}\n"                    /* 10 */
    "rating:\n"                                                         /* 11 */
    "  default_rule: largest_first\n"                                   /* 12 */
    "  tenor: legal_final\n"                                            /* 13 */
    "  stresses:\n"                                                     /* 14 */
    "    timing: [front, back]\n"                                       /* 15 */
    "    recovery_multiplier: [0, 0.4]\n"                               /* 16 */
    "    recovery_delay: [0, 2, 6]\n"                                   /* 17 */
    "  grades:\n"                                                       /* 18 */
    "    AAA: [0.0001, 0.0003]\n"                                       /* 19 */
    "    AA: [0.0010, 0.0030]\n"                                        /* 20 */
    "    A: [0.0050, 0.0100]\n";                                        /* 21 */

static const char BASE_TAPE[] =
    "loan_id,firm,sector,principal,rate,term,amortisation,guarantee_fee_rate,"
    "annual_pd,ip_type,ip_value,recovery_mean,recovery_sd,recovery_lag,disposal_cost\n"
    "L01,Firm One,equipment,1800000,0.045,8,level_principal,0.01,0.02,patent,"
    "3000000,0.25,0.15,6,30000\n"
    "L02,Firm Two,software,1200000,0.0435,8,bullet,0.01,0.03,patent,2000000,"
    "0.2,0.15,6,20000\n";

static void write_base(const char *yaml)
{
    cli_write_file(cli_path("scenario.yaml"), yaml);
    cli_write_file(cli_path("loans.csv"), BASE_TAPE);
}

Test(rating, rating_keys_are_read_and_overridden)
{
    write_base(BASE_YAML);
    const char *sets[] = {"rating.stresses.recovery_delay[1]=3"};
    ipabs_deal *d = load_ok("scenario.yaml", sets, 1);
    const ipabs_rating_terms *r = &d->rating;
    cr_expect_eq(r->default_rule, IPABS_DEFAULT_LARGEST_FIRST);
    cr_expect_eq(r->tenor, IPABS_TENOR_LEGAL_FINAL);
    cr_assert_eq(r->n_timings, 2);
    cr_expect_eq(r->timings[1], IPABS_TIMING_BACK);
    cr_assert_eq(r->n_recovery_multipliers, 2);
    cr_expect_eq(r->recovery_multipliers[1], 0.4);
    cr_assert_eq(r->n_recovery_delays, 3);
    cr_expect_eq(r->recovery_delays[1], 3);
    cr_assert_eq(r->n_grades, 3);
    cr_assert_eq(r->n_tenors, 2);
    cr_expect_str_eq(r->grade_names[1], "AA");
    cr_expect_eq(r->grade_prob[2 * 2 + 1], 0.0100);
    ipabs_stress *s = NULL;
    int n = 0;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_breakeven_stresses(d, &s, &n, &err), IPABS_OK);
    cr_expect_eq(n, 2 * (1 + 3)); /* multiplier 0 once, 0.4 with each delay */
    free(s);
    ipabs_deal_free(d);
}

/* Load the edited base and expect exactly `count` errors, the first at the
 * position of `needle` in the YAML (column offset `shift` from it). */
static void expect_key_error(const char *from, const char *to, size_t count,
                             const char *needle, int shift, const char *field,
                             const char *message)
{
    char *yaml = cli_edit(BASE_YAML, from, to);
    write_base(yaml);
    ipabs_deal *d = (ipabs_deal *)1;
    ipabs_errors e = {0};
    ipabs_status s = load("scenario.yaml", NULL, 0, &d, &e);
    int line, column;
    cli_locate(yaml, needle, &line, &column);
    if (e.count != count)
        print_errors(&e);
    cr_assert_eq(s, IPABS_EINPUT);
    cr_assert_null(d);
    cr_assert_eq(e.count, count, "expected %zu errors, got %zu", count, e.count);
    const ipabs_error *x = &e.items[0];
    if (strcmp(x->file, cli_path("scenario.yaml")) != 0 || x->line != line ||
        x->column != column + shift || strcmp(x->field, field) != 0 ||
        strstr(x->message, message) == NULL) {
        print_errors(&e);
        cr_assert_fail("want %d:%d: %s: ...%s...", line, column + shift, field, message);
    }
    ipabs_errors_clear(&e);
    free(yaml);
}

Test(rating, unknown_rating_key_suggests_the_nearest)
{
    expect_key_error("  stresses:\n", "  stress:\n", 1, "stress:", 0, "rating.stress",
                     "unknown key 'stress'; did you mean 'stresses'?");
}

Test(rating, bad_default_rule_and_tenor_words)
{
    expect_key_error("largest_first", "biggest_first", 1, "biggest_first", 0,
                     "rating.default_rule",
                     "expected one of pro_rata, largest_first, got 'biggest_first'");
    expect_key_error("tenor: legal_final", "tenor: maturity", 1, "maturity", 0,
                     "rating.tenor", "expected one of wal, legal_final, got 'maturity'");
}

Test(rating, bad_stress_values)
{
    expect_key_error("[front, back]", "[front, middle]", 1, "middle", 0,
                     "rating.stresses.timing[1]",
                     "expected one of front, even, back, got 'middle'");
    expect_key_error("[0, 0.4]", "[0, 1.5]", 1, "1.5", 0,
                     "rating.stresses.recovery_multiplier[1]",
                     "must be a number in [0, 1] (got 1.5)");
    expect_key_error("[0, 2, 6]", "[0, 2.5, 6]", 1, "2.5", 0,
                     "rating.stresses.recovery_delay[1]",
                     "expected an integer in [0, 600], got '2.5'");
    expect_key_error("timing: [front, back]", "timing: []", 1, "timing", 0,
                     "rating.stresses.timing",
                     "expected a non-empty sequence of timings");
}

Test(rating, bad_grade_tables)
{
    expect_key_error("AA: [0.0010, 0.0030]", "AA: [0.0010, 0.0008]", 1, "0.0008", 0,
                     "rating.grades.AA[1]", "must be non-decreasing");
    expect_key_error("A: [0.0050, 0.0100]", "A: [0.0005, 0.0100]", 1, "0.0005", 0,
                     "rating.grades.A[0]",
                     "must be at least 0.001, grade 'AA''s target default probability at 1 year");
    expect_key_error("A: [0.0050, 0.0100]", "A: [0.0050]", 1, "    A: [", 4, "rating.grades.A",
                     "has 1 target default probabilities but grade 'AAA' has 2");
    expect_key_error("AA: [0.0010, 0.0030]", "AA: [0.0010, 1]", 1, ", 1]", 2,
                     "rating.grades.AA[1]", "must be a number in [0, 1) (got 1)");
    expect_key_error("  grades:\n    AAA: [0.0001, 0.0003]\n    AA: [0.0010, 0.0030]\n"
                     "    A: [0.0050, 0.0100]\n",
                     "  grades: [0.001]\n", 1, "grades", 0, "rating.grades",
                     "expected a non-empty mapping of grade names");
}

/* ---- the commands ---------------------------------------------------------------- */

static char *first_line(const char *path)
{
    char *text = cli_read_csv(path, NULL);
    cr_assert_not_null(text, "expected %s to exist", path);
    char *nl = strchr(text, '\n');
    if (nl != NULL)
        *nl = '\0';
    return text;
}

static void expect_header(const char *dir, const char *name, const char *header)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *line = first_line(path);
    cr_expect_str_eq(line, header, "%s", name);
    free(line);
}

static int grade_index(const char *text)
{
    ipabs_grade_table t = ipabs_rating_default_grades();
    for (int g = 0; g < t.n_grades; g++)
        if (strcmp(text, t.names[g]) == 0)
            return g;
    cr_assert(strncmp(text, "below ", 6) == 0, "unexpected rating '%s'", text);
    return t.n_grades;
}

/* The implied ratings of rating_summary.csv's two rows (third column). */
static void implied_ratings(const char *dir, int *alone, int *supported)
{
    char path[600], cells[2][64];
    snprintf(path, sizeof path, "%s/rating_summary.csv", dir);
    char *text = cli_read_csv(path, NULL);
    cr_assert_not_null(text);
    char *row = strchr(text, '\n') + 1;
    for (int i = 0; i < 2; i++) {
        cr_assert(sscanf(row, "%*[^,],%*[^,],%63[^,]", cells[i]) == 1);
        row = strchr(row, '\n') + 1;
    }
    cr_expect(strstr(text, "senior,none,") && strstr(text, "senior,full,"));
    *alone = grade_index(cells[0]);
    *supported = grade_index(cells[1]);
    free(text);
}

Test(rating, rate_command_on_the_reference_scenario)
{
    const char *dir = cli_path("out");
    cli_result r = cli_run("rate", CLI_REFERENCE_YAML, "-o", dir, "--paths", "20000",
                           "--seed", "11", "--threads", "2", NULL);
    CLI_EXPECT_NO_CRASH(r);
    cr_assert_eq(r.exit_code, 0, "stderr:\n%s", r.err);
    expect_header(dir, "rating.csv",
                  "grade,target_default_prob,tdr,min_bdr,margin,passes,guarantor_support,"
                  "tdr_std_error,tenor_years,min_bdr_stress");
    expect_header(dir, "breakeven.csv",
                  "stress,guarantor_support,bdr,timing,recovery_multiplier,recovery_delay,"
                  "default_rule,window,max_default_rate,senior_impaired");
    expect_header(dir, "rating_summary.csv",
                  "tranche,guarantor_support,implied_rating,min_bdr,min_bdr_stress,"
                  "tenor_years,target_default_prob,tdr,mc_support,mc_prob_loss,"
                  "mc_prob_loss_std_error,mc_expected_loss_fraction,"
                  "mc_expected_loss_fraction_std_error,mc_implied_rating,paths,seed");
    cr_expect(strstr(r.out, "stand-alone (no guarantor support):") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "supported (guarantor never fails):") != NULL);
    cr_expect(strstr(r.out, "Monte Carlo view") != NULL);
    int alone, supported;
    implied_ratings(dir, &alone, &supported);
    cr_expect_leq(supported, alone, "supported %d, stand-alone %d", supported, alone);
    cli_result_free(&r);
}

Test(rating, breakeven_command_and_usage_errors)
{
    const char *dir = cli_path("be");
    cli_result r = cli_run("breakeven", CLI_REFERENCE_YAML, "-o", dir, NULL);
    CLI_EXPECT_NO_CRASH(r);
    cr_assert_eq(r.exit_code, 0, "stderr:\n%s", r.err);
    cr_expect(strstr(r.out, "minimum, support none") != NULL, "%s", r.out);
    char path[600];
    snprintf(path, sizeof path, "%s/breakeven.csv", dir);
    char *text = cli_read_csv(path, NULL);
    cr_assert_not_null(text);
    int rows = 0;
    for (const char *p = text; (p = strchr(p, '\n')) != NULL; p++)
        rows++;
    cr_expect_eq(rows, 1 + 30, "header and 15 stresses x 2 support modes");
    free(text);
    cli_result_free(&r);
    r = cli_run("rate", CLI_REFERENCE_YAML, NULL);
    cr_expect_eq(r.exit_code, 2);
    cr_expect(strstr(r.err, "rate needs -o DIR") != NULL, "%s", r.err);
    cli_result_free(&r);
}
