/*
 * test_scenario.c — the scenario reader: the reference deal loads with the
 * values in scenarios/, tape encodings (CRLF, BOM, quoted fields) change
 * nothing, --set overrides are applied and validated, and every class of
 * bad input is reported with its exact file, line, column, field and
 * message, all errors of both files in one call.
 *
 * Each test writes a small scenario (a valid base, edited) into its own
 * mkdtemp directory, removed by the suite's fini.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipabs/scenario.h"

#define REFERENCE IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs.yaml"
#define REFERENCE_TAPE IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs-loans.csv"
#define FIRM_L01 "\xE6\xB2\x88\xE9\x98\xB3\xE6\x98\x9F\xE8\xBE\xB0\xE6\x99\xBA" \
                 "\xE8\x83\xBD\xE8\xA3\x85\xE5\xA4\x87\xE6\x9C\x89\xE9\x99\x90" \
                 "\xE5\x85\xAC\xE5\x8F\xB8" /* 沈阳星辰智能装备有限公司 */

/* ---- a valid base scenario (line numbers matter to the tests) -------------- */

static const char BASE_YAML[] =
    "deal:\n"                         /*  1 */
    "  name: Test deal\n"             /*  2 */
    "  closing_date: 2025-06-30\n"    /*  3 */
    "  legal_final: 12\n"             /*  4 */
    "loans:\n"                        /*  5 */
    "  tape: loans.csv\n"             /*  6 */
    "guarantor:\n"                    /*  7 */
    "  name: Test guarantor\n"        /*  8 */
    "  annual_pd: 0.004\n"            /*  9 */
    "plan:\n"                         /* 10 */
    "  tranches:\n"                   /* 11 */
    "    - name: A\n"                 /* 12 */
    "      class: senior\n"           /* 13 */
    "      balance: 2700000\n"        /* 14 */
    "      coupon: 0.031\n"           /* 15 */
    "      amortisation: pass_through\n" /* 16 */
    "    - name: B\n"                 /* 17 */
    "      class: sub\n"              /* 18 */
    "      balance: 300000\n"         /* 19 */
    "model:\n"                        /* 20 */
    "  correlation: 0.16\n"           /* 21 */
    "  sectors:\n"                    /* 22 */
    "    equipment: 0.3\n";           /* 23 */

static const char TAPE_HEADER[] =
    "loan_id,firm,sector,principal,rate,term,amortisation,guarantee_fee_rate,"
    "annual_pd,ip_type,ip_value,recovery_mean,recovery_sd,recovery_lag,"
    "disposal_cost\n";

static const char BASE_TAPE[] =
    "loan_id,firm,sector,principal,rate,term,amortisation,guarantee_fee_rate,"
    "annual_pd,ip_type,ip_value,recovery_mean,recovery_sd,recovery_lag,"
    "disposal_cost\n"
    "L01," FIRM_L01 ",equipment,1000000,0.042,8,level_principal,0.01,0.02,"
    "patent,2200000,0.25,0.15,6,30000\n"
    "L02,Firm Two,software,1200000,0.0435,8,bullet,0.01,0.03,patent,2000000,"
    "0.2,0.15,6,20000\n"
    "L03,Firm Three,equipment,800000,0.045,6,annuity,0.012,0.04,trademark,"
    "1500000,0.3,0.1,4,10000\n";

/* ---- temporary directory --------------------------------------------------- */

static char tmp_dir[64];

static void make_tmp_dir(void)
{
    strcpy(tmp_dir, "/tmp/ipabs-scenario-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp_dir));
}

static void remove_tmp_dir(void)
{
    DIR *dir = opendir(tmp_dir);
    struct dirent *e;
    char path[512];
    if (dir == NULL)
        return;
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", tmp_dir, e->d_name);
        unlink(path);
    }
    closedir(dir);
    rmdir(tmp_dir);
}

TestSuite(scenario, .init = make_tmp_dir, .fini = remove_tmp_dir);

static void path_in(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", tmp_dir, name);
}

static void put(const char *name, const char *text)
{
    char path[512];
    path_in(path, sizeof path, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    fwrite(text, 1, strlen(text), f);
    fclose(f);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot read %s", path);
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* text with the first `from` replaced by `to` (malloc'ed). */
static char *edit(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    cr_assert_not_null(at, "'%s' not found in the base text", from);
    size_t head = (size_t)(at - text), n = strlen(text) - strlen(from) + strlen(to);
    char *out = malloc(n + 1);
    memcpy(out, text, head);
    strcpy(out + head, to);
    strcat(out, at + strlen(from));
    return out;
}

/* ---- loading and checking errors ------------------------------------------- */

static void print_errors(const ipabs_errors *e)
{
    for (size_t i = 0; i < e->count; i++)
        ipabs_error_print(stderr, &e->items[i]);
}

/* Write scenario.yaml and loans.csv, then load with the overrides. */
static ipabs_status load_texts(const char *yaml, const char *tape,
                               const char *const *overrides, int n,
                               ipabs_deal **deal, ipabs_errors *errors)
{
    char path[512];
    put("scenario.yaml", yaml);
    put("loans.csv", tape);
    path_in(path, sizeof path, "scenario.yaml");
    return ipabs_scenario_load(path, overrides, n, deal, errors);
}

/* Load, expect failure with exactly `count` errors. */
static void load_failing(const char *yaml, const char *tape,
                         const char *const *overrides, int n, size_t count,
                         ipabs_errors *errors)
{
    ipabs_deal *deal = (ipabs_deal *)1;
    ipabs_status s = load_texts(yaml, tape, overrides, n, &deal, errors);
    if (errors->count != count)
        print_errors(errors);
    cr_assert_neq(s, IPABS_OK);
    cr_assert_null(deal);
    cr_assert_eq(errors->count, count, "expected %zu errors, got %zu", count,
                 errors->count);
    cr_assert_eq(s, errors->items[0].code);
}

static ipabs_deal *load_ok(const char *yaml, const char *tape,
                           const char *const *overrides, int n)
{
    ipabs_errors errors = {0};
    ipabs_deal *deal = NULL;
    ipabs_status s = load_texts(yaml, tape, overrides, n, &deal, &errors);
    print_errors(&errors);
    cr_assert_eq(s, IPABS_OK);
    cr_assert_not_null(deal);
    cr_assert_eq(errors.count, 0);
    ipabs_errors_clear(&errors);
    return deal;
}

/* file: a name in the temp dir, or "--set" / an absolute path as is. */
static void expect_error(const ipabs_errors *errors, size_t i, ipabs_status code,
                         const char *file, int line, int column,
                         const char *field, const char *message_part)
{
    char path[512];
    const ipabs_error *e = &errors->items[i];
    if (file[0] == '/' || strcmp(file, "--set") == 0)
        snprintf(path, sizeof path, "%s", file);
    else
        path_in(path, sizeof path, file);
    if (e->code != code || strcmp(e->file, path) != 0 || e->line != line ||
        e->column != column || strcmp(e->field, field) != 0 ||
        strstr(e->message, message_part) == NULL) {
        fprintf(stderr, "error %zu is:\n  ", i);
        ipabs_error_print(stderr, e);
        cr_assert_fail("error %zu: want %d %s:%d:%d: %s: ...%s...", i, code, path,
                line, column, field, message_part);
    }
}

/* ---- the reference scenario ----------------------------------------------- */

Test(scenario, reference_loads)
{
    ipabs_errors errors = {0};
    ipabs_deal *d = NULL;
    ipabs_status s = ipabs_scenario_load(REFERENCE, NULL, 0, &d, &errors);
    print_errors(&errors);
    cr_assert_eq(s, IPABS_OK);
    cr_assert_eq(d->n_loans, 10);
    cr_assert_eq(d->pool_balance, 72000000.0);
    cr_assert_str_eq(d->loans[0].firm, FIRM_L01);
    cr_assert_eq(d->frequency, 4);
    cr_assert_eq(d->legal_final, 20);
    cr_assert_eq(d->dates[4].year, 2026);
    cr_assert_eq(d->dates[4].month, 6);
    cr_assert_eq(d->dates[4].day, 30);
    cr_assert_eq(d->accrual[1], 0.25);
    cr_assert_eq(d->n_tranches, 2);
    cr_assert_str_eq(d->tranches[0].name, "senior");
    cr_assert_eq(d->tranches[0].balance, 68400000.0);
    cr_assert_eq(d->tranches[0].legal_final, 16);
    cr_assert_str_eq(d->tranches[1].name, "sub");
    cr_assert_eq(d->tranches[1].balance, 3600000.0);
    cr_assert_eq(d->tranches[1].cls, IPABS_CLASS_SUB);
    cr_assert_eq(d->n_senior, 1);
    ipabs_deal_free(d);
    ipabs_errors_clear(&errors);
}

Test(scenario, reference_guarantor_fees_and_model)
{
    ipabs_errors errors = {0};
    ipabs_deal *d = NULL;
    cr_assert_eq(ipabs_scenario_load(REFERENCE, NULL, 0, &d, &errors), IPABS_OK);
    cr_assert_str_eq(d->guarantor.name, "AA+ financing guarantee platform");
    cr_assert_str_eq(d->guarantor.rating, "AA+");
    cr_assert_eq(d->guarantor.pd_annual, 0.003);
    cr_assert_eq(d->guarantor.payout_style, IPABS_PAYOUT_ACCELERATED);
    cr_assert_eq(d->guarantor.payout_lag, 1);
    cr_assert(isinf(d->guarantor.capacity));
    cr_assert(d->guarantor.topup);
    cr_assert_eq(d->guarantor.recovery_lag, 8);
    cr_assert_eq(d->guarantor.loading, 0.4);
    cr_assert_eq(d->bank_fee_rate, 0.0005);
    cr_assert_eq(d->tax_rate, 0.03);
    cr_assert_eq(d->n_expenses, 4);
    cr_assert_eq(d->expenses[2].basis, IPABS_EXPENSE_FIXED);
    cr_assert_eq(d->expenses[2].amount, 100000.0);
    cr_assert_eq(d->triggers.cdr_threshold, 0.20);
    cr_assert_eq(d->model.correlation, 0.20);
    cr_assert_eq(d->loans[0].factor_loading, sqrt(0.20));
    cr_assert_eq(d->loans[0].sector_index, -1);
    cr_assert_eq(d->simulation.paths, 1000000);
    cr_assert_eq(d->simulation.seed, 20261127u);
    cr_assert_str_eq(d->currency, "CNY");
    ipabs_deal_free(d);
    ipabs_errors_clear(&errors);
}

/* The reference tape with a BOM, CRLF line ends, and L01's firm quoted with
 * a comma and doubled quotes inside. */
static char *reference_tape_crlf_bom_quoted(void)
{
    char *tape = slurp(REFERENCE_TAPE);
    char *quoted = edit(tape, "L01," FIRM_L01 ",",
                        "L01,\"" FIRM_L01 ", \"\"HQ\"\"\",");
    size_t n = strlen(quoted);
    char *out = malloc(2 * n + 4), *o = out;
    o += sprintf(o, "\xEF\xBB\xBF");
    for (size_t i = 0; i < n; i++) {
        if (quoted[i] == '\n')
            *o++ = '\r';
        *o++ = quoted[i];
    }
    *o = '\0';
    free(tape);
    free(quoted);
    return out;
}

static void assert_same_loan(const ipabs_loan *a, const ipabs_loan *b)
{
    cr_assert_str_eq(a->id, b->id);
    cr_assert_str_eq(a->sector, b->sector);
    cr_assert_eq(a->principal, b->principal);
    cr_assert_eq(a->rate, b->rate);
    cr_assert_eq(a->term, b->term);
    cr_assert_eq(a->amort, b->amort);
    cr_assert_eq(a->pd_annual, b->pd_annual);
    cr_assert_eq(a->recovery_sd, b->recovery_sd);
    cr_assert_eq(a->disposal_cost, b->disposal_cost);
    cr_assert_eq(a->tape_line, b->tape_line);
}

Test(scenario, crlf_bom_and_quoted_fields_load_identically)
{
    ipabs_errors errors = {0};
    ipabs_deal *ref = NULL;
    cr_assert_eq(ipabs_scenario_load(REFERENCE, NULL, 0, &ref, &errors), IPABS_OK);
    char *yaml = slurp(REFERENCE);
    char *tape = reference_tape_crlf_bom_quoted();
    char path[512];
    ipabs_deal *d = NULL;
    put("shenyang-ip-abs-loans.csv", tape);
    put("ref.yaml", yaml);
    path_in(path, sizeof path, "ref.yaml");
    cr_assert_eq(ipabs_scenario_load(path, NULL, 0, &d, &errors), IPABS_OK);
    cr_assert_eq(d->n_loans, ref->n_loans);
    for (int i = 0; i < d->n_loans; i++)
        assert_same_loan(&d->loans[i], &ref->loans[i]);
    cr_assert_str_eq(d->loans[0].firm, FIRM_L01 ", \"HQ\"");
    cr_assert_str_eq(d->loans[1].firm, ref->loans[1].firm);
    cr_assert_eq(d->pool_balance, 72000000.0);
    ipabs_deal_free(d);
    ipabs_deal_free(ref);
    free(yaml);
    free(tape);
    ipabs_errors_clear(&errors);
}

/* ---- the base scenario and defaults ---------------------------------------- */

Test(scenario, base_loads_with_defaults)
{
    ipabs_deal *d = load_ok(BASE_YAML, BASE_TAPE, NULL, 0);
    cr_assert_eq(d->n_loans, 3);
    cr_assert_eq(d->pool_balance, 3000000.0);
    cr_assert_str_eq(d->currency, "CNY");
    cr_assert_eq(d->frequency, 4);
    cr_assert_eq(d->daycount, IPABS_DAYCOUNT_30_360);
    cr_assert_eq(d->tranches[1].legal_final, 12); /* deal.legal_final */
    cr_assert_eq(d->tranches[1].coupon, 0.0);
    cr_assert_eq(d->tranches[1].amort, IPABS_TRANCHE_PASS_THROUGH);
    cr_assert_eq(d->loans[0].sector_index, 0);
    cr_assert_eq(d->loans[1].sector_index, -1);
    cr_assert_eq(d->loans[0].factor_loading, 0.4); /* sqrt(0.16) */
    cr_assert_eq(d->guarantor.loading, 0.4);
    cr_assert_eq(d->model.sector_loading[0], 0.3);
    cr_assert(isinf(d->triggers.cdr_threshold));
    cr_assert_eq(d->simulation.paths, 100000);
    ipabs_deal_free(d);
}

Test(scenario, no_guarantor_section_means_no_support)
{
    char *yaml = edit(BASE_YAML, "guarantor:\n  name: Test guarantor\n"
                                 "  annual_pd: 0.004\n", "");
    ipabs_deal *d = load_ok(yaml, BASE_TAPE, NULL, 0);
    cr_assert_str_eq(d->guarantor.name, "none");
    cr_assert_eq(d->guarantor.capacity, 0.0);
    cr_assert_not(d->guarantor.topup);
    ipabs_deal_free(d);
    free(yaml);
}

Test(scenario, scheduled_tranche_targets)
{
    char *yaml = edit(BASE_YAML, "amortisation: pass_through\n",
                      "amortisation: scheduled\n"
                      "      schedule: [2500000, 2000000]\n");
    ipabs_deal *d = load_ok(yaml, BASE_TAPE, NULL, 0);
    const double *target = d->tranches[0].target;
    cr_assert_not_null(target);
    cr_assert_eq(target[0], 2700000.0);
    cr_assert_eq(target[1], 2500000.0);
    cr_assert_eq(target[2], 2000000.0);
    cr_assert_eq(target[12], 2000000.0);
    ipabs_deal_free(d);
    free(yaml);
}

Test(scenario, optional_columns_and_model_tables)
{
    char *yaml = edit(BASE_YAML, "  correlation: 0.16\n",
                      "  correlation: 0.16\n"
                      "  pd_table: {BB: 0.03, B: 0.06}\n"
                      "  pd_curves:\n"
                      "    young: [0.01, 0.02, 0.02, 0.05]\n");
    char *tape = edit(BASE_TAPE, "disposal_cost\n",
                      "disposal_cost,rating,pd_curve,factor_loading\n");
    char *t2 = edit(tape, "6,30000\n", "6,30000,BB,young,0.5\n");
    char *t3 = edit(t2, "6,20000\n", "6,20000,,,\n");
    char *t4 = edit(t3, "4,10000\n", "4,10000,B,,-0.2\n");
    ipabs_deal *d = load_ok(yaml, t4, NULL, 0);
    cr_assert_str_eq(d->loans[0].rating, "BB");
    cr_assert_str_eq(d->loans[0].pd_curve, "young");
    cr_assert_eq(d->loans[0].factor_loading, 0.5);
    cr_assert_null(d->loans[1].rating);
    cr_assert_eq(d->loans[1].factor_loading, 0.4);
    cr_assert_eq(d->loans[2].factor_loading, -0.2);
    cr_assert_eq(d->model.n_curves, 1);
    cr_assert_eq(d->model.curves[0].n, 4);
    cr_assert_eq(d->model.rating_pd[1], 0.06);
    ipabs_deal_free(d);
    free(yaml), free(tape), free(t2), free(t3), free(t4);
}

/* ---- files that cannot be read --------------------------------------------- */

Test(scenario, missing_tape_is_eio)
{
    ipabs_errors e = {0};
    char *yaml = edit(BASE_YAML, "tape: loans.csv", "tape: nothere.csv");
    load_failing(yaml, BASE_TAPE, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EIO, "nothere.csv", 0, 0, "loans.tape",
                 "No such file or directory");
    cr_assert(strstr(e.items[0].message, "scenario.yaml:6") != NULL);
    ipabs_errors_clear(&e);
    free(yaml);
}

Test(scenario, unreadable_yaml_is_eio)
{
    ipabs_errors e = {0};
    ipabs_deal *d = (ipabs_deal *)1;
    char path[512];
    path_in(path, sizeof path, "absent.yaml");
    cr_assert_eq(ipabs_scenario_load(path, NULL, 0, &d, &e), IPABS_EIO);
    cr_assert_null(d);
    cr_assert_eq(e.count, 1);
    expect_error(&e, 0, IPABS_EIO, "absent.yaml", 0, 0, "",
                 "cannot read the scenario: No such file or directory");
    ipabs_errors_clear(&e);
}

Test(scenario, yaml_syntax_error_has_position)
{
    ipabs_errors e = {0};
    char *yaml = edit(BASE_YAML, "  name: Test deal\n", "  name: \"Test deal\n");
    load_failing(yaml, BASE_TAPE, NULL, 0, 1, &e);
    /* libfyaml 0.7.12's position and message: the unclosed quote runs
     * into the next, less indented, line. */
    expect_error(&e, 0, IPABS_EINPUT, "scenario.yaml", 2, 9, "",
                 "YAML syntax error: wrongly indented double-quoted scalar");
    ipabs_errors_clear(&e);
    free(yaml);
}

Test(scenario, empty_yaml)
{
    ipabs_errors e = {0};
    load_failing("# nothing but a comment\n", BASE_TAPE, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "scenario.yaml", 1, 0, "",
                 "the scenario is empty");
    ipabs_errors_clear(&e);
}

/* ---- bad YAML values ------------------------------------------------------- */

Test(scenario, wrong_type)
{
    ipabs_errors e = {0};
    char *yaml = edit(BASE_YAML, "legal_final: 12", "legal_final: twelve");
    load_failing(yaml, BASE_TAPE, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "scenario.yaml", 4, 16,
                 "deal.legal_final",
                 "expected an integer in [1, 600], got 'twelve'");
    ipabs_errors_clear(&e);
    free(yaml);
}

Test(scenario, quoted_number_is_a_string)
{
    ipabs_errors e = {0};
    char *yaml = edit(BASE_YAML, "coupon: 0.031", "coupon: \"0.031\"");
    load_failing(yaml, BASE_TAPE, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "scenario.yaml", 15, 15,
                 "plan.tranches[0].coupon",
                 "expected a number in [0, 1), got the quoted string '0.031'");
    ipabs_errors_clear(&e);
    free(yaml);
}

Test(scenario, guarantor_pd_outside_unit_interval)
{
    ipabs_errors e = {0};
    char *yaml = edit(BASE_YAML, "annual_pd: 0.004", "annual_pd: 1");
    load_failing(yaml, BASE_TAPE, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "scenario.yaml", 9, 14,
                 "guarantor.annual_pd", "must be a number in [0, 1) (got 1)");
    ipabs_errors_clear(&e);
    free(yaml);
}

Test(scenario, unknown_key_suggests_nearest)
{
    ipabs_errors e = {0};
    char *yaml = edit(BASE_YAML, "model:\n", "model:\n  copla: gaussian\n");
    load_failing(yaml, BASE_TAPE, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "scenario.yaml", 21, 3, "model.copla",
                 "unknown key 'copla'; did you mean 'copula'?");
    ipabs_errors_clear(&e);
    free(yaml);
}

Test(scenario, unknown_key_far_from_any_lists_valid_keys)
{
    ipabs_errors e = {0};
    char *yaml = edit(BASE_YAML, "model:\n", "model:\n  xyzzyq: 1\n");
    load_failing(yaml, BASE_TAPE, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "scenario.yaml", 21, 3, "model.xyzzyq",
                 "unknown key 'xyzzyq'; valid keys here: copula, df,");
    ipabs_errors_clear(&e);
    free(yaml);
}

Test(scenario, missing_required_key)
{
    ipabs_errors e = {0};
    char *yaml = edit(BASE_YAML, "  legal_final: 12\n", "");
    load_failing(yaml, BASE_TAPE, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "scenario.yaml", 1, 1, "deal.legal_final",
                 "missing required key 'legal_final'");
    ipabs_errors_clear(&e);
    free(yaml);
}

Test(scenario, bad_enum_word_suggests)
{
    ipabs_errors e = {0};
    char *yaml = edit(BASE_YAML, "  legal_final: 12\n",
                      "  legal_final: 12\n  frequency: quartely\n");
    load_failing(yaml, BASE_TAPE, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "scenario.yaml", 5, 14, "deal.frequency",
                 "expected one of monthly, quarterly, semiannual, annual, got "
                 "'quartely'; did you mean 'quarterly'?");
    ipabs_errors_clear(&e);
    free(yaml);
}

Test(scenario, scheduled_tranche_without_schedule)
{
    ipabs_errors e = {0};
    char *yaml = edit(BASE_YAML, "amortisation: pass_through",
                      "amortisation: scheduled");
    load_failing(yaml, BASE_TAPE, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "scenario.yaml", 12, 7,
                 "plan.tranches[0].schedule",
                 "missing required key 'schedule'");
    ipabs_errors_clear(&e);
    free(yaml);
}

Test(scenario, schedule_on_a_pass_through_tranche)
{
    ipabs_errors e = {0};
    char *yaml = edit(BASE_YAML, "amortisation: pass_through\n",
                      "amortisation: pass_through\n      schedule: [1]\n");
    load_failing(yaml, BASE_TAPE, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "scenario.yaml", 17, 7,
                 "plan.tranches[0].schedule",
                 "only a tranche with amortisation: scheduled takes a schedule");
    ipabs_errors_clear(&e);
    free(yaml);
}

Test(scenario, schedule_must_not_increase_nor_exceed_balance)
{
    ipabs_errors e = {0};
    char *yaml = edit(BASE_YAML, "amortisation: pass_through\n",
                      "amortisation: scheduled\n"
                      "      schedule: [2800000, 1000000, 1500000]\n");
    load_failing(yaml, BASE_TAPE, NULL, 0, 2, &e);
    expect_error(&e, 0, IPABS_EINPUT, "scenario.yaml", 17, 18,
                 "plan.tranches[0].schedule[0]",
                 "must be a number in [0, 2700000] (got 2800000)");
    expect_error(&e, 1, IPABS_EINPUT, "scenario.yaml", 17, 36,
                 "plan.tranches[0].schedule[2]",
                 "target balances must be non-increasing");
    ipabs_errors_clear(&e);
    free(yaml);
}

Test(scenario, tranche_legal_final_beyond_deal)
{
    ipabs_errors e = {0};
    char *yaml = edit(BASE_YAML, "      balance: 300000\n",
                      "      balance: 300000\n      legal_final: 13\n");
    load_failing(yaml, BASE_TAPE, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "scenario.yaml", 20, 20,
                 "plan.tranches[1].legal_final",
                 "must be <= deal.legal_final (12) (got 13)");
    ipabs_errors_clear(&e);
    free(yaml);
}

Test(scenario, senior_after_sub_and_duplicate_tranche_name)
{
    ipabs_errors e = {0};
    char *yaml = edit(BASE_YAML, "    - name: B\n      class: sub\n",
                      "    - name: A\n      class: senior\n");
    char *y2 = edit(yaml, "    - name: A\n      class: senior\n",
                    "    - name: A\n      class: sub\n");
    load_failing(y2, BASE_TAPE, NULL, 0, 2, &e);
    expect_error(&e, 0, IPABS_EINPUT, "scenario.yaml", 17, 13,
                 "plan.tranches[1].name", "duplicate tranche name 'A' (first at line 12)");
    expect_error(&e, 1, IPABS_EINPUT, "scenario.yaml", 18, 14,
                 "plan.tranches[1].class",
                 "senior tranche 'A' is listed after sub tranche 'A'");
    ipabs_errors_clear(&e);
    free(yaml);
    free(y2);
}

Test(scenario, expense_needs_exactly_one_amount)
{
    ipabs_errors e = {0};
    char *yaml = edit(BASE_YAML, "model:\n",
                      "  expenses:\n"
                      "    - name: audit\n"
                      "      fixed_per_year: 50000\n"
                      "      rate_on_senior: 0.001\n"
                      "    - name: trustee\n"
                      "model:\n");
    load_failing(yaml, BASE_TAPE, NULL, 0, 2, &e);
    expect_error(&e, 0, IPABS_EINPUT, "scenario.yaml", 21, 7,
                 "plan.expenses[0]", "give exactly one of rate_on_senior");
    expect_error(&e, 1, IPABS_EINPUT, "scenario.yaml", 24, 7,
                 "plan.expenses[1]", "give rate_on_senior or fixed_per_year");
    ipabs_errors_clear(&e);
    free(yaml);
}

Test(scenario, non_utf8_yaml)
{
    ipabs_errors e = {0};
    char *yaml = edit(BASE_YAML, "name: Test deal", "name: Test \xC3\x28" "deal");
    load_failing(yaml, BASE_TAPE, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "scenario.yaml", 2, 14, "",
                 "invalid UTF-8 (byte 0xC3)");
    ipabs_errors_clear(&e);
    free(yaml);
}

/* ---- bad tape cells -------------------------------------------------------- */

Test(scenario, principal_not_positive)
{
    ipabs_errors e = {0};
    char *tape = edit(BASE_TAPE, "1200000,0.0435", "-12.5,0.0435");
    load_failing(BASE_YAML, tape, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "loans.csv", 3, 4, "principal",
                 "must be a number in (0, 1e+15] (got -12.5)");
    ipabs_errors_clear(&e);
    free(tape);
}

Test(scenario, principal_not_a_number)
{
    ipabs_errors e = {0};
    char *tape = edit(BASE_TAPE, "1200000,0.0435", "abc,0.0435");
    load_failing(BASE_YAML, tape, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "loans.csv", 3, 4, "principal",
                 "expected a number in (0, 1e+15], got 'abc'");
    ipabs_errors_clear(&e);
    free(tape);
}

Test(scenario, pd_outside_unit_interval)
{
    ipabs_errors e = {0};
    char *tape = edit(BASE_TAPE, "0.012,0.04,", "0.012,1.2,");
    load_failing(BASE_YAML, tape, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "loans.csv", 4, 9, "annual_pd",
                 "must be a number in [0, 1) (got 1.2)");
    ipabs_errors_clear(&e);
    free(tape);
}

Test(scenario, duplicate_loan_id)
{
    ipabs_errors e = {0};
    char *tape = edit(BASE_TAPE, "L03,", "L01,");
    load_failing(BASE_YAML, tape, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "loans.csv", 4, 1, "loan_id",
                 "duplicate loan id 'L01' (first at line 2)");
    ipabs_errors_clear(&e);
    free(tape);
}

Test(scenario, empty_tape)
{
    ipabs_errors e = {0};
    load_failing(BASE_YAML, TAPE_HEADER, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "loans.csv", 1, 0, "",
                 "the loan tape has a header but no loans");
    ipabs_errors_clear(&e);
    load_failing(BASE_YAML, "", NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "loans.csv", 1, 0, "",
                 "the loan tape is empty");
    ipabs_errors_clear(&e);
}

Test(scenario, term_beyond_legal_final)
{
    ipabs_errors e = {0};
    char *tape = edit(BASE_TAPE, "0.042,8,", "0.042,13,");
    load_failing(BASE_YAML, tape, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "loans.csv", 2, 6, "term",
                 "must be <= deal.legal_final (12) (got 13)");
    ipabs_errors_clear(&e);
    free(tape);
}

Test(scenario, term_not_integral)
{
    ipabs_errors e = {0};
    char *tape = edit(BASE_TAPE, "0.042,8,", "0.042,7.5,");
    load_failing(BASE_YAML, tape, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "loans.csv", 2, 6, "term",
                 "expected an integer in [1, 600], got '7.5'");
    ipabs_errors_clear(&e);
    free(tape);
}

Test(scenario, tranche_sum_differs_from_pool)
{
    ipabs_errors e = {0};
    char *yaml = edit(BASE_YAML, "balance: 2700000", "balance: 2700001");
    load_failing(yaml, BASE_TAPE, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "scenario.yaml", 11, 3, "plan.tranches",
                 "tranche balances sum to 3000001.00 but the pool");
    ipabs_errors_clear(&e);
    free(yaml);
}

Test(scenario, overcollateralised_allows_a_smaller_tranche_sum)
{
    char *yaml = edit(BASE_YAML, "  tranches:\n",
                      "  overcollateralised: true\n  tranches:\n");
    char *y2 = edit(yaml, "balance: 2700000", "balance: 2600000");
    ipabs_deal *d = load_ok(y2, BASE_TAPE, NULL, 0);
    cr_assert(d->overcollateralised);
    ipabs_deal_free(d);
    free(yaml);
    free(y2);
}

Test(scenario, non_utf8_firm_name)
{
    ipabs_errors e = {0};
    char *tape = edit(BASE_TAPE, "Firm Two", "Firm \xC3\x28Two");
    load_failing(BASE_YAML, tape, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "loans.csv", 3, 2, "firm",
                 "invalid UTF-8 (byte 0xC3 at byte 6 of the field)");
    ipabs_errors_clear(&e);
    free(tape);
}

Test(scenario, infeasible_beta_recovery)
{
    ipabs_errors e = {0};
    char *tape = edit(BASE_TAPE, "0.25,0.15,6", "0.25,0.5,6");
    load_failing(BASE_YAML, tape, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "loans.csv", 2, 13, "recovery_sd",
                 "no Beta distribution has that mean and standard deviation");
    ipabs_errors_clear(&e);
    free(tape);
}

Test(scenario, loadings_leave_no_idiosyncratic_room)
{
    ipabs_errors e = {0};
    char *yaml = edit(BASE_YAML, "equipment: 0.3", "equipment: 0.95");
    load_failing(yaml, BASE_TAPE, NULL, 0, 2, &e);
    expect_error(&e, 0, IPABS_EINPUT, "loans.csv", 2, 3, "sector",
                 "a^2 + s^2 = 1.0625 > 1");
    expect_error(&e, 1, IPABS_EINPUT, "loans.csv", 4, 3, "sector",
                 "sector 'equipment' loading s = 0.95");
    ipabs_errors_clear(&e);
    free(yaml);
}

/* SPEC §3's all-in financing cost: other charges and subsidies per loan,
 * optional columns, empty = 0; rates must lie in [0, 1). */
Test(scenario, cost_columns_are_optional_rates)
{
    char *tape = edit(BASE_TAPE, "disposal_cost\n", "disposal_cost,other_charges_rate,subsidy_rate\n");
    char *t2 = edit(tape, "6,30000\n", "6,30000,0.0015,0.0123\n");
    char *t3 = edit(t2, "6,20000\n", "6,20000,,\n");
    char *t4 = edit(t3, "4,10000\n", "4,10000,0.002,\n");
    ipabs_deal *d = load_ok(BASE_YAML, t4, NULL, 0);
    cr_assert_eq(d->loans[0].other_charges_rate, 0.0015);
    cr_assert_eq(d->loans[0].subsidy_rate, 0.0123);
    cr_assert_eq(d->loans[1].other_charges_rate, 0.0);
    cr_assert_eq(d->loans[2].subsidy_rate, 0.0);
    ipabs_deal_free(d);
    char *bad = edit(t4, "6,30000,0.0015,0.0123\n", "6,30000,0.0015,1.5\n");
    ipabs_errors e = {0};
    load_failing(BASE_YAML, bad, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "loans.csv", 2, 17, "subsidy_rate", "1.5");
    ipabs_errors_clear(&e);
    free(tape), free(t2), free(t3), free(t4), free(bad);
}

Test(scenario, explicit_loading_too_large_is_reported_at_its_cell)
{
    ipabs_errors e = {0};
    char *tape = edit(BASE_TAPE, "disposal_cost\n", "disposal_cost,factor_loading\n");
    char *t2 = edit(tape, "6,30000\n", "6,30000,0.99\n");
    char *t3 = edit(t2, "6,20000\n", "6,20000,\n");
    char *t4 = edit(t3, "4,10000\n", "4,10000,\n");
    load_failing(BASE_YAML, t4, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "loans.csv", 2, 16, "factor_loading",
                 "factor loading a = 0.99 and sector 'equipment'");
    ipabs_errors_clear(&e);
    free(tape), free(t2), free(t3), free(t4);
}

Test(scenario, unknown_column_suggests_and_required_column_missing)
{
    ipabs_errors e = {0};
    char *tape = edit(BASE_TAPE, ",principal,", ",principle,");
    load_failing(BASE_YAML, tape, NULL, 0, 2, &e);
    expect_error(&e, 0, IPABS_EINPUT, "loans.csv", 1, 4, "principle",
                 "unknown column 'principle'; did you mean 'principal'?");
    expect_error(&e, 1, IPABS_EINPUT, "loans.csv", 1, 0, "principal",
                 "missing required column 'principal'");
    ipabs_errors_clear(&e);
    free(tape);
}

Test(scenario, rating_not_in_pd_table)
{
    ipabs_errors e = {0};
    char *yaml = edit(BASE_YAML, "  correlation: 0.16\n",
                      "  correlation: 0.16\n  pd_table: {BB: 0.03}\n");
    char *tape = edit(BASE_TAPE, "disposal_cost\n", "disposal_cost,rating\n");
    char *t2 = edit(tape, "6,30000\n", "6,30000,BB\n");
    char *t3 = edit(t2, "6,20000\n", "6,20000,BBB\n");
    char *t4 = edit(t3, "4,10000\n", "4,10000,\n");
    load_failing(yaml, t4, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "loans.csv", 3, 16, "rating",
                 "'BBB' is not in model.pd_table; did you mean 'BB'?");
    ipabs_errors_clear(&e);
    free(yaml), free(tape), free(t2), free(t3), free(t4);
}

Test(scenario, quoted_newline_keeps_physical_lines)
{
    ipabs_errors e = {0};
    char *tape = edit(BASE_TAPE, "L02,Firm Two,", "L02,\"Firm\r\nTwo\",");
    char *t2 = edit(tape, "800000,0.045", "0,0.045");
    load_failing(BASE_YAML, t2, NULL, 0, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "loans.csv", 5, 4, "principal",
                 "must be a number in (0, 1e+15] (got 0)");
    ipabs_errors_clear(&e);
    free(tape);
    free(t2);
}

Test(scenario, malformed_quote_and_wrong_field_count)
{
    ipabs_errors e = {0};
    char *tape = edit(BASE_TAPE, "L02,Firm Two,", "L02,Firm,Two,");
    char *t2 = edit(tape, "L03,Firm Three,", "L03,Firm \"Three\",");
    load_failing(BASE_YAML, t2, NULL, 0, 2, &e);
    expect_error(&e, 0, IPABS_EINPUT, "loans.csv", 3, 0, "",
                 "expected 15 fields as in the header (line 1), got 16");
    expect_error(&e, 1, IPABS_EINPUT, "loans.csv", 4, 2, "",
                 "malformed field");
    ipabs_errors_clear(&e);
    free(tape);
    free(t2);
}

/* ---- overrides ------------------------------------------------------------- */

Test(scenario, overrides_are_applied)
{
    const char *const set[] = {"model.pd_multiplier=2",
                               "plan.tranches[0].coupon=0.035",
                               "guarantor.capacity=5000000",
                               "deal.name=Stressed deal"};
    ipabs_deal *d = load_ok(BASE_YAML, BASE_TAPE, set, 4);
    cr_assert_eq(d->model.pd_multiplier, 2.0);
    cr_assert_eq(d->tranches[0].coupon, 0.035);
    cr_assert_eq(d->guarantor.capacity, 5000000.0);
    cr_assert_str_eq(d->name, "Stressed deal");
    ipabs_deal_free(d);
}

Test(scenario, override_values_are_validated)
{
    ipabs_errors e = {0};
    const char *const set[] = {"model.correlation=0.2", "model.correlation=1.5"};
    load_failing(BASE_YAML, BASE_TAPE, set, 2, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "--set", 2, 0, "model.correlation",
                 "must be a number in [0, 1) (got 1.5)");
    ipabs_errors_clear(&e);
}

/* Issue 9's keys: the pledgee, the reimbursement position, the clean-up
 * call; defaults as docs/scenario-format.md states them. */
Test(scenario, pledge_reimbursement_and_cleanup_keys)
{
    ipabs_deal *d = load_ok(BASE_YAML, BASE_TAPE, NULL, 0);
    cr_assert_eq(d->guarantor.ip_pledgee, IPABS_PLEDGEE_GUARANTOR);
    cr_assert_eq(d->guarantor.reimbursement, IPABS_REIMBURSE_AFTER_SENIOR_PRINCIPAL);
    cr_assert_eq(d->cleanup_call, 0.0);
    ipabs_deal_free(d);
    const char *const set[] = {"guarantor.ip_pledgee=plan",
                               "guarantor.topup_reimbursement=before_residual",
                               "plan.cleanup_call=0.1"};
    d = load_ok(BASE_YAML, BASE_TAPE, set, 3);
    cr_assert_eq(d->guarantor.ip_pledgee, IPABS_PLEDGEE_PLAN);
    cr_assert_eq(d->guarantor.reimbursement, IPABS_REIMBURSE_BEFORE_RESIDUAL);
    cr_assert_eq(d->cleanup_call, 0.1);
    ipabs_deal_free(d);
    ipabs_errors e = {0};
    const char *const bad[] = {"guarantor.ip_pledgee=bank", "plan.cleanup_call=1"};
    load_failing(BASE_YAML, BASE_TAPE, bad, 2, 2, &e);
    expect_error(&e, 0, IPABS_EINPUT, "--set", 1, 0, "guarantor.ip_pledgee", "");
    expect_error(&e, 1, IPABS_EINPUT, "--set", 2, 0, "plan.cleanup_call",
                 "must be a number in [0, 1) (got 1)");
    ipabs_errors_clear(&e);
}

Test(scenario, bad_override_syntax)
{
    ipabs_errors e = {0};
    const char *const set[] = {"model.pd_multiplier=2", "plan.tranches[x].coupon=1",
                               "no_equals_sign", "simulation.paths=5",
                               "plan.tranches[7].coupon=0.1"};
    load_failing(BASE_YAML, BASE_TAPE, set, 5, 4, &e);
    expect_error(&e, 0, IPABS_EINPUT, "--set", 2, 0, "plan.tranches[x].coupon",
                 "malformed override");
    expect_error(&e, 1, IPABS_EINPUT, "--set", 3, 0, "no_equals_sign",
                 "malformed override");
    expect_error(&e, 2, IPABS_EINPUT, "--set", 4, 0, "simulation.paths",
                 "'simulation' does not exist in the scenario");
    expect_error(&e, 3, IPABS_EINPUT, "--set", 5, 0, "plan.tranches[7].coupon",
                 "'plan.tranches[7]' does not exist");
    ipabs_errors_clear(&e);
}

Test(scenario, override_of_unknown_key)
{
    ipabs_errors e = {0};
    const char *const set[] = {"model.copla=student_t"};
    load_failing(BASE_YAML, BASE_TAPE, set, 1, 1, &e);
    expect_error(&e, 0, IPABS_EINPUT, "--set", 1, 0, "model.copla",
                 "unknown key 'copla'; did you mean 'copula'?");
    ipabs_errors_clear(&e);
}

Test(scenario, override_of_a_schedule_item)
{
    char *yaml = edit(BASE_YAML, "amortisation: pass_through\n",
                      "amortisation: scheduled\n"
                      "      schedule: [2500000, 2000000]\n");
    const char *const set[] = {"plan.tranches[0].schedule[1]=1500000"};
    ipabs_deal *d = load_ok(yaml, BASE_TAPE, set, 1);
    cr_assert_eq(d->tranches[0].target[2], 1500000.0);
    ipabs_deal_free(d);
    free(yaml);
}

/* ---- every error of both files in one call --------------------------------- */

Test(scenario, three_errors_in_one_call)
{
    ipabs_errors e = {0};
    char *yaml = edit(BASE_YAML, "legal_final: 12", "legal_final: twelve");
    char *tape = edit(BASE_TAPE, "1200000,0.0435", "-12.5,0.0435");
    char *t2 = edit(tape, "L03,", "L01,");
    load_failing(yaml, t2, NULL, 0, 3, &e);
    expect_error(&e, 0, IPABS_EINPUT, "scenario.yaml", 4, 16,
                 "deal.legal_final", "expected an integer in [1, 600]");
    expect_error(&e, 1, IPABS_EINPUT, "loans.csv", 3, 4, "principal",
                 "must be a number in (0, 1e+15] (got -12.5)");
    expect_error(&e, 2, IPABS_EINPUT, "loans.csv", 4, 1, "loan_id",
                 "duplicate loan id 'L01' (first at line 2)");
    ipabs_errors_clear(&e);
    free(yaml);
    free(tape);
    free(t2);
}
