/*
 * test_deal.c — the deal's calendar and schedules against values computed
 * by hand or by closed forms: weekdays, business-day rules under a user
 * calendar, accruals per day count (a 31-day month and February), loan
 * schedules (annuity formula, grace periods, explicit schedules) and a
 * constant prepayment rate against the closed-form balance.  The scenario
 * side of the same features (keys, tape columns, the schedule and calendar
 * files, their positioned errors) is at the end.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "errors_util.h"
#include "fixture.h"
#include "ipabs/deal.h"
#include "ipabs/scenario.h"
#include "ipabs/waterfall.h"
#include "tmpdir.h"

#define NEAR(a, b) cr_assert(fabs((a) - (b)) <= 1e-9 * (1.0 + fabs(b)), \
                             "expected %.12f, got %.12f", (double)(b), (double)(a))

static ipabs_date D(int y, int m, int d)
{
    return (ipabs_date){y, m, d};
}

static bool same_date(ipabs_date a, ipabs_date b)
{
    return a.year == b.year && a.month == b.month && a.day == b.day;
}

#define DATE_EQ(a, b) cr_assert(same_date((a), (b)), "expected %04d-%02d-%02d, got %04d-%02d-%02d", \
                                (b).year, (b).month, (b).day, (a).year, (a).month, (a).day)

/* One loan of 3,721,409.37 at 5.87% and a single class; terms set by the
 * caller before finalising. */
static ipabs_deal *one_loan_deal(int legal_final, int term, ipabs_loan_amort amort)
{
    ipabs_deal *d = fx_deal(legal_final, 1, 1, 0);
    fx_loan(d, 0, "L1", 3721409.37, 0.0587, term, amort, 0.0, 0.01);
    fx_tranche(d, 0, "A", IPABS_CLASS_SENIOR, 3721409.37, 0.031,
               IPABS_TRANCHE_PASS_THROUGH, legal_final);
    return d;
}

static void finalise(ipabs_deal *d)
{
    ipabs_error err = {0};
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK, "finalise: %s", err.message);
}

/* ---- dates and business days ------------------------------------------------------------ */

Test(deal, weekdays)
{
    cr_assert_eq(ipabs_date_weekday(D(2026, 11, 30)), 0); /* a Monday */
    cr_assert_eq(ipabs_date_weekday(D(2024, 2, 29)), 3);  /* a Thursday */
    cr_assert_eq(ipabs_date_weekday(D(2000, 1, 1)), 5);   /* a Saturday */
    cr_assert_eq(ipabs_date_weekday(D(1900, 3, 1)), 3);   /* a Thursday */
}

/* A month-end monthly calendar through February: the end-of-month rule,
 * and each day count over a 31-day month, February and March. */
Test(deal, month_end_accruals_through_february)
{
    ipabs_deal *d = one_loan_deal(3, 3, IPABS_LOAN_BULLET);
    d->frequency = 12;
    d->closing = D(2024, 12, 31);
    finalise(d);
    DATE_EQ(d->dates[1], D(2025, 1, 31));
    DATE_EQ(d->dates[2], D(2025, 2, 28));
    DATE_EQ(d->dates[3], D(2025, 3, 31));
    NEAR(d->accrual_dc[IPABS_DAYCOUNT_ACT_360][1], 31.0 / 360.0);
    NEAR(d->accrual_dc[IPABS_DAYCOUNT_ACT_360][2], 28.0 / 360.0);
    NEAR(d->accrual_dc[IPABS_DAYCOUNT_ACT_365F][3], 31.0 / 365.0);
    /* 30/360 bond basis: Jan 31 -> Feb 28 is 30 - 2 = 28 days; Feb 28 ->
     * Mar 31 keeps the 31st (the start is not the 30th): 30 + 3 = 33. */
    NEAR(d->accrual_dc[IPABS_DAYCOUNT_30_360][1], 30.0 / 360.0);
    NEAR(d->accrual_dc[IPABS_DAYCOUNT_30_360][2], 28.0 / 360.0);
    NEAR(d->accrual_dc[IPABS_DAYCOUNT_30_360][3], 33.0 / 360.0);
    cr_assert_eq(d->accrual, d->accrual_dc[IPABS_DAYCOUNT_30_360]);
    ipabs_deal_free(d);
}

/* A test calendar of the form the exchanges publish: a week of holidays
 * from 2025-10-01 with two worked weekend days. */
static void test_calendar(ipabs_deal *d)
{
    static const ipabs_date holidays[] = {{2025, 10, 1}, {2025, 10, 2}, {2025, 10, 3},
                                          {2025, 10, 6}, {2025, 10, 7}, {2025, 10, 8},
                                          {2026, 1, 1}};
    static const ipabs_date workdays[] = {{2025, 9, 28}, {2025, 10, 11}};
    d->n_holidays = 7;
    d->holidays = malloc(sizeof holidays);
    memcpy(d->holidays, holidays, sizeof holidays);
    d->n_workdays = 2;
    d->workdays = malloc(sizeof workdays);
    memcpy(d->workdays, workdays, sizeof workdays);
}

Test(deal, business_day_rules_under_a_calendar)
{
    ipabs_deal *d = one_loan_deal(2, 2, IPABS_LOAN_BULLET);
    test_calendar(d);
    cr_assert(!ipabs_deal_is_business_day(d, D(2025, 10, 8)));
    cr_assert(ipabs_deal_is_business_day(d, D(2025, 10, 9)));
    cr_assert(ipabs_deal_is_business_day(d, D(2025, 10, 11))); /* a worked Saturday */
    cr_assert(!ipabs_deal_is_business_day(d, D(2025, 10, 12)));
    d->business_day = IPABS_BDAY_FOLLOWING;
    DATE_EQ(ipabs_deal_adjust(d, D(2025, 10, 1)), D(2025, 10, 9));
    DATE_EQ(ipabs_deal_adjust(d, D(2025, 5, 31)), D(2025, 6, 2));
    d->business_day = IPABS_BDAY_MODIFIED_FOLLOWING;
    DATE_EQ(ipabs_deal_adjust(d, D(2025, 5, 31)), D(2025, 5, 30)); /* not into June */
    DATE_EQ(ipabs_deal_adjust(d, D(2025, 10, 1)), D(2025, 10, 9));
    d->business_day = IPABS_BDAY_PRECEDING;
    DATE_EQ(ipabs_deal_adjust(d, D(2025, 10, 5)), D(2025, 9, 30));
    d->business_day = IPABS_BDAY_UNADJUSTED;
    DATE_EQ(ipabs_deal_adjust(d, D(2025, 10, 5)), D(2025, 10, 5));
    ipabs_deal_free(d);
}

/* Payment dates move to business days; accruals run between the unadjusted
 * dates (a payment moved by a holiday earns no extra interest). */
Test(deal, payments_move_accruals_do_not)
{
    ipabs_deal *d = one_loan_deal(3, 3, IPABS_LOAN_BULLET);
    test_calendar(d);
    d->closing = D(2025, 7, 1);
    d->business_day = IPABS_BDAY_FOLLOWING;
    d->daycount = IPABS_DAYCOUNT_ACT_365F;
    finalise(d);
    DATE_EQ(d->dates[1], D(2025, 10, 9));
    DATE_EQ(d->accrual_dates[1], D(2025, 10, 1));
    DATE_EQ(d->dates[2], D(2026, 1, 2));
    DATE_EQ(d->dates[3], D(2026, 4, 1));
    NEAR(d->accrual[1], 92.0 / 365.0);
    NEAR(d->accrual[2], 92.0 / 365.0);
    NEAR(d->accrual[3], 90.0 / 365.0);
    ipabs_deal_free(d);
}

/* ---- day counts per instrument ------------------------------------------------------------ */

/* An ACT/360 loan against an ACT/365F class over one 92-day payment
 * period: the loan pays 92/360 of a year's interest, the class is owed
 * 92/365 of its coupon, and the fees follow the loan's day count. */
Test(deal, loan_and_class_accrue_on_their_own_day_counts)
{
    ipabs_deal *d = one_loan_deal(2, 2, IPABS_LOAN_BULLET);
    d->closing = D(2025, 7, 1);
    d->bank_fee_rate = 0.0011;
    d->loans[0].daycount = IPABS_DAYCOUNT_ACT_360;
    d->loans[0].daycount_given = true;
    d->tranches[0].daycount = IPABS_DAYCOUNT_ACT_365F;
    d->tranches[0].daycount_given = true;
    finalise(d);
    double p = 3721409.37;
    NEAR(d->loans[0].interest[1], p * 0.0587 * 92.0 / 360.0);
    NEAR(d->pool_agency_fee[1], p * 0.0011 * 92.0 / 360.0);

    ipabs_realisation *r = ipabs_realisation_alloc(d);
    ipabs_cashflow *cf = NULL;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_cashflow_compute(d, r, &cf, &err), IPABS_OK, "%s", err.message);
    NEAR(cf->periods[0].interest_due[0], p * 0.031 * 92.0 / 365.0);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* A coupon step-up at period 3 (the reset after a put, or a scheduled
 * step): the class is owed 3.1% a year before and 4.57% from then on. */
Test(deal, coupon_steps_change_the_coupon_from_their_period)
{
    ipabs_deal *d = one_loan_deal(4, 4, IPABS_LOAN_LEVEL_PRINCIPAL);
    d->tranches[0].n_coupon_steps = 1;
    d->tranches[0].coupon_steps = malloc(sizeof(ipabs_coupon_step));
    d->tranches[0].coupon_steps[0] = (ipabs_coupon_step){3, 0.0457};
    finalise(d);
    NEAR(d->tranches[0].coupon_at[2], 0.031);
    NEAR(d->tranches[0].coupon_at[3], 0.0457);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    ipabs_cashflow *cf = NULL;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_cashflow_compute(d, r, &cf, &err), IPABS_OK, "%s", err.message);
    double p = 3721409.37;
    NEAR(cf->periods[1].interest_due[0], 0.75 * p * 0.031 / 4);
    NEAR(cf->periods[2].interest_due[0], 0.5 * p * 0.0457 / 4);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* ---- schedules ----------------------------------------------------------------------------- */

/* 等额本息: interest plus principal is the annuity payment every period. */
Test(deal, annuity_pays_the_annuity_formula)
{
    ipabs_deal *d = one_loan_deal(11, 11, IPABS_LOAN_ANNUITY);
    finalise(d);
    double j = 0.0587 / 4, p = 3721409.37;
    double payment = p * j / (1.0 - pow(1.0 + j, -11));
    const ipabs_loan *l = &d->loans[0];
    for (int t = 1; t <= 11; t++)
        NEAR(l->interest[t] + l->amortisation[t], payment);
    NEAR(l->balance[11], 0.0);
    ipabs_deal_free(d);
}

Test(deal, grace_periods_pay_interest_only)
{
    ipabs_deal *d = one_loan_deal(8, 8, IPABS_LOAN_LEVEL_PRINCIPAL);
    d->loans[0].grace_periods = 3;
    finalise(d);
    const ipabs_loan *l = &d->loans[0];
    double p = 3721409.37;
    for (int t = 1; t <= 3; t++) {
        NEAR(l->amortisation[t], 0.0);
        NEAR(l->interest[t], p * 0.0587 / 4);
    }
    for (int t = 4; t <= 8; t++)
        NEAR(l->amortisation[t], p / 5);
    ipabs_deal_free(d);

    /* An annuity after two grace periods: the payment of a 7-period loan. */
    d = one_loan_deal(9, 9, IPABS_LOAN_ANNUITY);
    d->loans[0].grace_periods = 2;
    finalise(d);
    l = &d->loans[0];
    double j = 0.0587 / 4, payment = p * j / (1.0 - pow(1.0 + j, -7));
    NEAR(l->amortisation[2], 0.0);
    for (int t = 3; t <= 9; t++)
        NEAR(l->interest[t] + l->amortisation[t], payment);
    ipabs_deal_free(d);
}

/* A constant annual prepayment rate: the balance is the schedule's closed
 * form times (1 - SMM)^t, SMM = 1 - (1 - CPR)^(1/4), for each kind. */
Test(deal, prepayment_against_the_closed_form_balance)
{
    const double cpr = 0.137, p = 3721409.37, j = 0.0587 / 4;
    const double smm = 1.0 - pow(1.0 - cpr, 0.25);
    NEAR(ipabs_prepayment_smm(cpr, 4), smm);
    const int n = 10;
    ipabs_loan_amort kinds[] = {IPABS_LOAN_BULLET, IPABS_LOAN_LEVEL_PRINCIPAL,
                                IPABS_LOAN_ANNUITY};
    for (int k = 0; k < 3; k++) {
        ipabs_deal *d = one_loan_deal(n, n, kinds[k]);
        d->loans[0].cpr = cpr;
        finalise(d);
        const ipabs_loan *l = &d->loans[0];
        double prepaid = 0.0, repaid = 0.0;
        for (int t = 1; t < n; t++) {
            double left = pow(1.0 - smm, t), shape = 1.0;
            if (kinds[k] == IPABS_LOAN_LEVEL_PRINCIPAL)
                shape = (double)(n - t) / n;
            else if (kinds[k] == IPABS_LOAN_ANNUITY)
                shape = (pow(1.0 + j, n) - pow(1.0 + j, t)) / (pow(1.0 + j, n) - 1.0);
            NEAR(l->balance[t], p * shape * left);
            /* Interest on the opening balance, prepayment on what the
             * schedule leaves. */
            NEAR(l->interest[t], l->balance[t - 1] * 0.0587 / 4);
            NEAR(l->prepayment[t], smm * l->balance[t] / (1.0 - smm));
            prepaid += l->prepayment[t];
        }
        NEAR(l->balance[n], 0.0);
        NEAR(l->prepayment[n], 0.0);
        for (int t = 1; t <= n; t++)
            repaid += l->amortisation[t];
        NEAR(repaid, p);
        cr_assert_gt(prepaid, 0.0);
        ipabs_deal_free(d);
    }
}

/* An explicit schedule (fractions of principal) with prepayment keeps its
 * shape: every instalment shrinks by the same survival factor. */
Test(deal, explicit_schedule_with_prepayment)
{
    ipabs_deal *d = one_loan_deal(5, 5, IPABS_LOAN_SCHEDULE);
    double amounts[] = {0, 400000.0, 0, 1250000.0, 771409.37, 1300000.0};
    double p = 3721409.37;
    d->loans[0].schedule = calloc(6, sizeof(double));
    for (int t = 1; t <= 5; t++)
        d->loans[0].schedule[t] = amounts[t] / p;
    finalise(d);
    const ipabs_loan *l = &d->loans[0];
    double left = p;
    for (int t = 1; t <= 5; t++) {
        NEAR(l->amortisation[t], amounts[t]);
        left -= amounts[t];
        NEAR(l->balance[t], left);
    }
    ipabs_deal_free(d);

    d = one_loan_deal(5, 5, IPABS_LOAN_SCHEDULE);
    d->loans[0].cpr = 0.2;
    d->loans[0].schedule = calloc(6, sizeof(double));
    for (int t = 1; t <= 5; t++)
        d->loans[0].schedule[t] = amounts[t] / p;
    finalise(d);
    l = &d->loans[0];
    double smm = 1.0 - pow(0.8, 0.25), q = 1.0;
    for (int t = 1; t < 5; t++) {
        NEAR(l->amortisation[t] - l->prepayment[t], q * amounts[t]);
        q *= 1.0 - smm;
    }
    NEAR(l->balance[5], 0.0);
    ipabs_deal_free(d);
}

/* A copy keeps the terms the new features added. */
Test(deal, copy_keeps_schedule_calendar_and_day_counts)
{
    ipabs_deal *d = one_loan_deal(5, 5, IPABS_LOAN_SCHEDULE);
    d->loans[0].schedule = calloc(6, sizeof(double));
    d->loans[0].schedule[2] = 0.25;
    d->loans[0].schedule[5] = 0.75;
    d->loans[0].cpr = 0.05;
    d->loans[0].daycount = IPABS_DAYCOUNT_ACT_360;
    d->loans[0].daycount_given = true;
    test_calendar(d);
    d->business_day = IPABS_BDAY_MODIFIED_FOLLOWING;
    finalise(d);
    ipabs_deal *c = NULL;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_deal_copy(d, NULL, 0, &c, &err), IPABS_OK);
    finalise(c);
    for (int t = 0; t <= 5; t++) {
        cr_assert_eq(c->loans[0].balance[t], d->loans[0].balance[t]);
        cr_assert_eq(c->loans[0].interest[t], d->loans[0].interest[t]);
        DATE_EQ(c->dates[t], d->dates[t]);
    }
    cr_assert_eq(c->n_holidays, 7);
    ipabs_deal_free(c);
    ipabs_deal_free(d);
}

/* ---- the scenario side ----------------------------------------------------------------------- */

static const char *TAPE_HEADER =
    "loan_id,firm,sector,principal,rate,term,amortisation,guarantee_fee_rate,annual_pd,"
    "ip_type,ip_value,recovery_mean,recovery_sd,recovery_lag,disposal_cost";

static void write_file(const char *where, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", where, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

/* A two-loan scenario in dir; extra YAML lines go under deal: and loans:. */
static void write_scenario(const char *where, const char *deal_extra,
                           const char *loans_extra, const char *tape_extra_cols,
                           const char *row1, const char *row2)
{
    char yaml[4096], tape[2048];
    snprintf(yaml, sizeof yaml,
             "deal:\n  name: t\n  closing_date: 2025-05-31\n  legal_final: 8\n%s"
             "loans:\n  tape: loans.csv\n%s"
             "plan:\n  tranches:\n"
             "    - {name: A, class: senior, balance: 1500000, coupon: 0.03}\n"
             "    - {name: S, class: sub, balance: 500000}\n",
             deal_extra, loans_extra);
    write_file(where, "s.yaml", yaml);
    snprintf(tape, sizeof tape, "%s%s\n%s\n%s\n", TAPE_HEADER, tape_extra_cols, row1, row2);
    write_file(where, "loans.csv", tape);
}

static ipabs_status load(const char *where, ipabs_deal **d, ipabs_errors *errors,
                         const char *const *set, int n_set)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/s.yaml", where);
    return ipabs_scenario_load(path, set, n_set, d, errors);
}

#define ROW(id, principal, amort, extra) \
    id ",F" id ",tech," principal ",0.0587,8," amort ",0.01,0.02,patent,900000,0.4,0.1,2,1000" extra

Test(deal, scenario_keys_and_tape_columns, .init = tmpdir_setup, .fini = tmpdir_teardown)
{
    write_scenario(dir, "  day_count: ACT/365F\n  business_day: modified_following\n",
                   "  day_count: ACT/360\n  prepayment_cpr: 0.05\n",
                   ",day_count,grace_periods,prepayment_cpr",
                   ROW("L1", "1200000", "level_principal", ",30/360,2,"),
                   ROW("L2", "800000", "annuity", ",,,0.1"));
    ipabs_deal *d = NULL;
    ipabs_errors errors = {0};
    cr_assert_eq(load(dir, &d, &errors, NULL, 0), IPABS_OK);
    cr_assert_eq(d->loans[0].daycount, IPABS_DAYCOUNT_30_360);
    cr_assert_eq(d->loans[1].daycount, IPABS_DAYCOUNT_ACT_360);
    cr_assert_eq(d->tranches[0].daycount, IPABS_DAYCOUNT_ACT_365F);
    cr_assert_eq(d->loans[0].grace_periods, 2);
    NEAR(d->loans[0].cpr, 0.05); /* the deal's */
    NEAR(d->loans[1].cpr, 0.1);  /* its own */
    cr_assert_eq(d->business_day, IPABS_BDAY_MODIFIED_FOLLOWING);
    /* 2025-08-31 and 2025-11-30 are Sundays: the next business days are in
     * the next month, so back to the Fridays; 2026-02-28 is a Saturday
     * (to Friday the 27th); 2026-05-31 a Sunday (to Friday the 29th). */
    DATE_EQ(d->dates[1], D(2025, 8, 29));
    DATE_EQ(d->dates[2], D(2025, 11, 28));
    DATE_EQ(d->dates[3], D(2026, 2, 27));
    DATE_EQ(d->dates[4], D(2026, 5, 29));
    DATE_EQ(d->accrual_dates[1], D(2025, 8, 31));
    ipabs_deal_free(d);

    /* --set reaches the deal-wide rate, not a loan's own. */
    const char *set[] = {"loans.prepayment_cpr=0.2"};
    cr_assert_eq(load(dir, &d, &errors, set, 1), IPABS_OK);
    NEAR(d->loans[0].cpr, 0.2);
    NEAR(d->loans[1].cpr, 0.1);
    ipabs_deal_free(d);
    ipabs_errors_clear(&errors);
}

Test(deal, schedule_and_calendar_files, .init = tmpdir_setup, .fini = tmpdir_teardown)
{
    write_scenario(dir, "  calendar: cal.csv\n  business_day: following\n",
                   "  schedule: sched.csv\n", "",
                   ROW("L1", "1200000", "schedule", ""), ROW("L2", "800000", "bullet", ""));
    write_file(dir, "sched.csv", "\xEF\xBB\xBFloan_id,period,principal\n"
                                 "L1,2,200000.25\nL1,5,600000\nL1,8,399999.75\n");
    write_file(dir, "cal.csv", "date,type\n2025-12-02,holiday\n2025-09-01,holiday\n"
                               "2026-02-28,workday\n2025-12-01,holiday\n");
    ipabs_deal *d = NULL;
    ipabs_errors errors = {0};
    cr_assert_eq(load(dir, &d, &errors, NULL, 0), IPABS_OK);
    NEAR(d->loans[0].amortisation[2], 200000.25);
    NEAR(d->loans[0].amortisation[5], 600000.0);
    NEAR(d->loans[0].balance[7], 399999.75);
    /* Sunday 2025-08-31 -> Monday is a holiday -> Tuesday; Sunday
     * 2025-11-30 -> two holidays -> Wednesday; Saturday 2026-02-28 is
     * worked. */
    DATE_EQ(d->dates[1], D(2025, 9, 2));
    DATE_EQ(d->dates[2], D(2025, 12, 3));
    DATE_EQ(d->dates[3], D(2026, 2, 28));
    ipabs_deal_free(d);
    ipabs_errors_clear(&errors);
}

Test(deal, schedule_and_calendar_errors_have_positions, .init = tmpdir_setup,
     .fini = tmpdir_teardown)
{
    write_scenario(dir, "  calendar: cal.csv\n", "  schedule: sched.csv\n",
                   ",grace_periods",
                   ROW("L1", "1200000", "schedule", ","), ROW("L2", "800000", "bullet", ",3"));
    write_file(dir, "sched.csv", "loan_id,period,principal\nL1,2,200000\nL1,2,5\n"
                                 "L9,3,1\nL2,1,5\nL1,9,5\nL1,4,abc\n");
    write_file(dir, "cal.csv", "date,kind\n");
    ipabs_deal *d = NULL;
    ipabs_errors errors = {0};
    cr_assert_eq(load(dir, &d, &errors, NULL, 0), IPABS_EINPUT);
    cr_assert_null(d);
    cr_assert(has_error(&errors, "loans.csv", 3, 16, "applies to level_principal and annuity"));
    cr_assert(has_error(&errors, "cal.csv", 1, 2, "unknown column 'kind'"));
    cr_assert(has_error(&errors, "cal.csv", 1, 0, "missing column 'type'"));
    ipabs_errors_clear(&errors);

    /* The tape is clean now: the schedule file's own errors. */
    write_scenario(dir, "", "  schedule: sched.csv\n", "",
                   ROW("L1", "1200000", "schedule", ""), ROW("L2", "800000", "bullet", ""));
    errors = (ipabs_errors){0};
    cr_assert_eq(load(dir, &d, &errors, NULL, 0), IPABS_EINPUT);
    cr_assert(has_error(&errors, "sched.csv", 3, 2, "period 2 is given twice (first at line 2)"));
    cr_assert(has_error(&errors, "sched.csv", 4, 1, "loan 'L9' is not in the tape"));
    cr_assert(has_error(&errors, "sched.csv", 5, 1, "only `schedule` loans take rows"));
    cr_assert(has_error(&errors, "sched.csv", 6, 2, "expected an integer in [1, 8], got '9'"));
    cr_assert(has_error(&errors, "sched.csv", 7, 3, "expected a number > 0, got 'abc'"));
    cr_assert(has_error(&errors, "loans.csv", 2, 0, "has no row for its last period 8"));
    ipabs_errors_clear(&errors);

    write_file(dir, "sched.csv", "loan_id,period,principal\nL1,2,200000\nL1,8,300000\n");
    errors = (ipabs_errors){0};
    cr_assert_eq(load(dir, &d, &errors, NULL, 0), IPABS_EINPUT);
    cr_assert(has_error(&errors, "loans.csv", 2, 0, "repay 500000.00, not its principal 1200000.00"));
    ipabs_errors_clear(&errors);

    /* A schedule loan without the file. */
    write_scenario(dir, "", "", "", ROW("L1", "1200000", "schedule", ""),
                   ROW("L2", "800000", "bullet", ""));
    errors = (ipabs_errors){0};
    cr_assert_eq(load(dir, &d, &errors, NULL, 0), IPABS_EINPUT);
    cr_assert(has_error(&errors, "loans.csv", 2, 0, "needs a schedule file (loans.schedule)"));
    ipabs_errors_clear(&errors);
}

Test(deal, coupon_steps_in_the_scenario, .init = tmpdir_setup, .fini = tmpdir_teardown)
{
    write_scenario(dir, "", "", "", ROW("L1", "1200000", "bullet", ""),
                   ROW("L2", "800000", "bullet", ""));
    write_file(dir, "s.yaml",
               "deal:\n  name: t\n  closing_date: 2025-05-31\n  legal_final: 8\n"
               "loans:\n  tape: loans.csv\n"
               "plan:\n  tranches:\n"
               "    - name: A\n      class: senior\n      balance: 1500000\n"
               "      coupon: 0.03\n      day_count: ACT/365F\n"
               "      coupon_steps:\n        - {period: 5, coupon: 0.041}\n"
               "        - {period: 7, coupon: 0.0525}\n"
               "    - {name: S, class: sub, balance: 500000}\n");
    ipabs_deal *d = NULL;
    ipabs_errors errors = {0};
    cr_assert_eq(load(dir, &d, &errors, NULL, 0), IPABS_OK);
    NEAR(d->tranches[0].coupon_at[4], 0.03);
    NEAR(d->tranches[0].coupon_at[5], 0.041);
    NEAR(d->tranches[0].coupon_at[8], 0.0525);
    cr_assert_eq(d->tranches[0].daycount, IPABS_DAYCOUNT_ACT_365F);
    cr_assert_eq(d->tranches[1].daycount, IPABS_DAYCOUNT_30_360);
    ipabs_deal_free(d);

    write_file(dir, "s.yaml",
               "deal:\n  name: t\n  closing_date: 2025-05-31\n  legal_final: 8\n"
               "loans:\n  tape: loans.csv\n"
               "plan:\n  tranches:\n"
               "    - name: A\n      class: senior\n      balance: 1500000\n"
               "      legal_final: 6\n"
               "      coupon_steps:\n        - {period: 5, coupon: 0.041}\n"
               "        - {period: 4, coupon: 0.05}\n"
               "        - {period: 7, coupon: 1.5}\n"
               "    - {name: S, class: sub, balance: 500000}\n");
    cr_assert_eq(load(dir, &d, &errors, NULL, 0), IPABS_EINPUT);
    cr_assert(has_error(&errors, "s.yaml", 15, 12, "periods must increase: 4 follows 5"));
    cr_assert(has_error(&errors, "s.yaml", 16, 31, "must be a number in [0, 1) (got 1.5)"));
    cr_assert(has_error(&errors, "s.yaml", 16, 12, "period 7 is after the tranche's legal final (6)"));
    ipabs_errors_clear(&errors);
}
