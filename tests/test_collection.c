/*
 * test_collection.c — collection periods apart from payment periods (issue
 * 10, item 1; docs/waterfall.md, "Collection and payment periods"):
 *
 *   - monthly collections over a 31-day month and February feeding one
 *     quarterly payment date, an ACT/360 loan against an ACT/365F class,
 *     worked by hand from the day counts (31, 31, 28; quarters of 90 and
 *     92 days);
 *   - the transfer lag moving a month's collections to the next payment
 *     date, the plan's last payment date sweeping the window;
 *   - a monthly 30/360 deal paying exactly what its quarterly twin pays;
 *   - the scenario keys: class periods counted in payment periods and
 *     converted once, loan terms in collection periods, positioned errors;
 *   - the Monte Carlo on the finer calendar: its default-count law against
 *     `exact` within 4 standard errors, and the yield at par of a class
 *     that nothing can touch equal to its coupon, quarterly compounded.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "errors_util.h"
#include "cashflow_util.h"
#include "fixture.h"
#include "ipabs/exact.h"
#include "ipabs/montecarlo.h"
#include "ipabs/scenario.h"
#include "ipabs/waterfall.h"
#include "tmpdir.h"

#define NEAR_REL(a, b) cr_assert(fabs((a) - (b)) <= 1e-9 * (1.0 + fabs(b)), \
                                 "%s = %.12f, expected %.12f", #a, (double)(a), (double)(b))

/* ---- a monthly loan under a quarterly plan, by hand ---------------------------------- */

static const double P = 3721409.37;  /* the loan and the class */
static const double RATE = 0.0587;   /* the loan, ACT/360 */
static const double FEES = 0.0011 + 0.0007; /* bank agency + servicing, on the loan */
static const double COUPON = 0.031;  /* the class, ACT/365F */
static const double AUDIT = 4730.55; /* a fixed expense a year, ACT/365F */
static const double VAT = 0.0326;

/* Closing 2025-11-30 (a month end): collection periods end on 2025-12-31,
 * 2026-01-31, 2026-02-28, 03-31, 04-30, 05-31, 06-30, 07-31, 08-31. */
static const int DAYS[10] = {0, 31, 31, 28, 31, 30, 31, 30, 31, 31};

/* One bullet loan of `months` collection periods paying monthly under a
 * plan paying quarterly; the class due in full at the last payment date. */
static ipabs_deal *monthly_deal(int months, int lag)
{
    ipabs_deal *d = fx_deal(months, 1, 1, 1);
    d->closing = (ipabs_date){2025, 11, 30};
    d->frequency = 12;
    d->payment_frequency = 4;
    d->pay_every = 3;
    d->transfer_lag = lag;
    d->bank_fee_rate = 0.0011;
    d->servicing_fee_rate = 0.0007;
    d->tax_rate = VAT;
    d->guarantor.topup = false;
    d->guarantor.capacity = 0.0;
    fx_loan(d, 0, "L1", P, RATE, months, IPABS_LOAN_BULLET, 0.0, 0.02);
    d->loans[0].daycount = IPABS_DAYCOUNT_ACT_360;
    d->loans[0].daycount_given = true;
    fx_tranche(d, 0, "A", IPABS_CLASS_SENIOR, P, COUPON, IPABS_TRANCHE_PASS_THROUGH, months);
    d->tranches[0].daycount = IPABS_DAYCOUNT_ACT_365F;
    d->tranches[0].daycount_given = true;
    fx_expense(d, 0, "audit", IPABS_EXPENSE_FIXED, AUDIT);
    d->expenses[0].daycount = IPABS_DAYCOUNT_ACT_365F;
    d->expenses[0].daycount_given = true;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK, "%s", err.message);
    return d;
}

/* The loan's interest reaching the plan in month c: ACT/360, fees out. */
static double net_interest(int c)
{
    return P * (RATE - FEES) * DAYS[c] / 360.0;
}

/* Three months of 31, 31 and 28 days (2025-12 to 2026-02) feed the first
 * payment date: the loan pays 31/360, 31/360 and 28/360 of its rate, the
 * class is owed 90/365 of its coupon over the quarter as one span, the
 * audit fee 90/365 of a year; VAT on the interest received.  Nothing is
 * paid in the two months before. */
Test(collection, month_end_collections_with_february_feed_one_payment_date)
{
    ipabs_deal *d = monthly_deal(6, 0);
    NEAR_REL(d->accrual_dc[IPABS_DAYCOUNT_ACT_360][1], 31.0 / 360.0);
    NEAR_REL(d->accrual_dc[IPABS_DAYCOUNT_ACT_360][3], 28.0 / 360.0);
    NEAR_REL(d->pay_accrual_dc[IPABS_DAYCOUNT_ACT_365F][3], 90.0 / 365.0);
    NEAR_REL(d->pay_accrual_dc[IPABS_DAYCOUNT_ACT_365F][6], 92.0 / 365.0);
    cr_assert_eq(d->pay_accrual_dc[IPABS_DAYCOUNT_ACT_365F][2], 0.0);
    /* 3,721,409.37 x 5.87% x 31/360 = 18,810.69 of interest in December. */
    NEAR(d->loans[0].interest[1], P * RATE * 31.0 / 360.0);
    cr_assert(fabs(d->loans[0].interest[1] - 18810.69) < 0.005);

    ipabs_realisation *r = ipabs_realisation_alloc(d);
    ipabs_cashflow *cf = run(d, r);
    double i1 = net_interest(1), i2 = net_interest(2), i3 = net_interest(3);
    for (int t = 1; t <= 2; t++) {
        NEAR(P(cf, t)->interest_collected, net_interest(t));
        NEAR(P(cf, t)->interest_paid[0], 0.0);
        NEAR(P(cf, t)->tax_paid + P(cf, t)->expenses_paid + P(cf, t)->residual, 0.0);
    }
    NEAR(P(cf, 2)->plan_cash_close, i1 + i2);
    double coupon = P * COUPON * 90.0 / 365.0; /* 28,446.11 */
    double tax = VAT * (i1 + i2 + i3), audit = AUDIT * 90.0 / 365.0;
    NEAR(P(cf, 3)->interest_due[0], coupon);
    NEAR(P(cf, 3)->interest_paid[0], coupon);
    NEAR(P(cf, 3)->tax_paid, tax);
    NEAR(P(cf, 3)->expenses_paid, audit);
    NEAR(P(cf, 3)->residual, i1 + i2 + i3 - tax - audit - coupon);
    NEAR(P(cf, 3)->plan_cash_close, 0.0);
    /* The second quarter: 31 + 30 + 31 = 92 days, and the principal. */
    double i456 = net_interest(4) + net_interest(5) + net_interest(6);
    NEAR(P(cf, 6)->interest_paid[0], P * COUPON * 92.0 / 365.0);
    NEAR(P(cf, 6)->principal_paid[0], P);
    NEAR(P(cf, 6)->tax_paid, VAT * i456);
    NEAR(P(cf, 6)->residual, i456 - VAT * i456 - AUDIT * 92.0 / 365.0 -
                                 P * COUPON * 92.0 / 365.0);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* A transfer lag of one month: each payment date pays the two months
 * before its last and the month held back from the quarter before; the
 * month that ends on a payment date waits for the next.  The last payment
 * date (month 9, no later one) pays out the window it would defer. */
Test(collection, transfer_lag_moves_a_collection_to_the_next_payment_date)
{
    ipabs_deal *d = monthly_deal(9, 1);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    ipabs_cashflow *cf = run(d, r);
    double i[10];
    for (int c = 1; c <= 9; c++)
        i[c] = net_interest(c);
    double c1 = P * COUPON * 90.0 / 365.0, c2 = P * COUPON * 92.0 / 365.0;
    /* Payment date 3: months 1 and 2; month 3 held back (VAT with it). */
    double tax = VAT * (i[1] + i[2]);
    NEAR(P(cf, 3)->tax_paid, tax);
    NEAR(P(cf, 3)->residual, i[1] + i[2] - tax - AUDIT * 90.0 / 365.0 - c1);
    NEAR(P(cf, 3)->plan_cash_close, i[3]);
    NEAR(cf->periods[2].interest_collected, i[3]); /* collected in month 3 all the same */
    /* Payment date 6: months 3, 4 and 5. */
    double q2 = i[3] + i[4] + i[5];
    NEAR(P(cf, 6)->available, q2);
    NEAR(P(cf, 6)->tax_paid, VAT * q2);
    NEAR(P(cf, 6)->residual, q2 - VAT * q2 - AUDIT * 92.0 / 365.0 - c2);
    NEAR(P(cf, 6)->plan_cash_close, i[6]);
    /* Payment date 9, the last: months 6 to 9 and the principal of month 9. */
    double q3 = i[6] + i[7] + i[8] + i[9];
    NEAR(P(cf, 9)->principal_paid[0], P);
    NEAR(P(cf, 9)->tax_paid, VAT * q3);
    NEAR(P(cf, 9)->residual, q3 - VAT * q3 - AUDIT * 92.0 / 365.0 - c2);
    NEAR(P(cf, 9)->plan_cash_close, 0.0);
    cr_assert_eq(cf->final_state->deferred_revenue, 0.0);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* With split accounts the principal collected in the lag window goes to
 * the principal account after the payment date and pays the class on the
 * next one: a level-principal loan of 6 months, lag 1.  Month 6 is the
 * last inflow: its payment date is the plan's last and pays it too. */
Test(collection, principal_in_the_lag_window_pays_on_the_next_payment_date)
{
    ipabs_deal *d = fx_deal(9, 1, 1, 0);
    d->closing = (ipabs_date){2025, 11, 30};
    d->frequency = 12;
    d->pay_every = 3;
    d->transfer_lag = 1;
    d->accounts = IPABS_ACCOUNTS_SPLIT;
    d->guarantor.topup = false;
    fx_loan(d, 0, "L1", 1234567.89, 0.049, 6, IPABS_LOAN_LEVEL_PRINCIPAL, 0.0, 0.02);
    fx_tranche(d, 0, "A", IPABS_CLASS_SENIOR, 1234567.89, 0.027,
               IPABS_TRANCHE_PASS_THROUGH, 9);
    ipabs_error err = {0};
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK, "%s", err.message);
    cr_assert_eq(d->payment_frequency, 4);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    ipabs_cashflow *cf = run(d, r);
    double month = 1234567.89 / 6.0;
    NEAR(P(cf, 3)->principal_paid[0], 2.0 * month); /* months 1, 2 */
    NEAR(P(cf, 3)->principal_account, month);       /* month 3, held */
    NEAR(P(cf, 6)->principal_paid[0], 4.0 * month); /* months 3 to 6 */
    NEAR(P(cf, 6)->plan_cash_close, 0.0);
    cr_assert(cf->final_state->ended);
    NEAR(P(cf, 9)->principal_paid[0], 0.0);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* ---- a monthly deal against its quarterly twin ------------------------------------------ */

/* Under 30/360 three months accrue exactly a quarter, so bullet loans
 * collected monthly without a lag pay the classes, taxes, expenses and
 * the residual what the same loans pay collected quarterly.  (Mid-month
 * dates: on month ends the bond basis counts February as 28 days and
 * March as 33, which a quarter ending on 31 March does not see.) */
Test(collection, monthly_30_360_bullet_loans_pay_what_the_quarterly_deal_pays)
{
    ipabs_deal *q = fx_golden_deal(), *m = fx_golden_deal();
    for (int i = 0; i < 2; i++)
        q->loans[i].amort = m->loans[i].amort = IPABS_LOAN_BULLET;
    q->closing = m->closing = (ipabs_date){2025, 3, 15};
    m->frequency = 12;
    m->pay_every = 3;
    m->legal_final *= 3;
    for (int i = 0; i < 2; i++) {
        m->loans[i].term *= 3;
        m->loans[i].recovery_lag *= 3;
    }
    for (int k = 0; k < 2; k++)
        m->tranches[k].legal_final *= 3;
    m->guarantor.payout_lag *= 3;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_deal_finalize(q, &err), IPABS_OK, "%s", err.message);
    cr_assert_eq(ipabs_deal_finalize(m, &err), IPABS_OK, "%s", err.message);
    ipabs_realisation *rq = ipabs_realisation_alloc(q), *rm = ipabs_realisation_alloc(m);
    ipabs_cashflow *cq = run(q, rq), *cm = run(m, rm);
    for (int t = 1; t <= q->legal_final; t++) {
        const ipabs_period_flows *a = P(cq, t), *b = P(cm, 3 * t);
        NEAR(b->tax_paid, a->tax_paid);
        NEAR(b->expenses_paid, a->expenses_paid);
        NEAR(b->residual, a->residual);
        for (int k = 0; k < 2; k++) {
            NEAR(b->interest_paid[k], a->interest_paid[k]);
            NEAR(b->principal_paid[k], a->principal_paid[k]);
        }
        double collected = 0.0;
        for (int c = 3 * t - 2; c <= 3 * t; c++)
            collected += P(cm, c)->interest_collected;
        NEAR(collected, a->interest_collected);
    }
    ipabs_cashflow_free(cq);
    ipabs_cashflow_free(cm);
    ipabs_realisation_free(rq);
    ipabs_realisation_free(rm);
    ipabs_deal_free(q);
    ipabs_deal_free(m);
}

/* ---- the scenario keys ------------------------------------------------------------------- */

static void write_file(const char *where, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", where, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

/* Two loans of `term` collection periods; loans_extra goes under loans:. */
static void write_scenario(const char *where, const char *loans_extra, int term)
{
    char yaml[4096], tape[1024];
    snprintf(yaml, sizeof yaml,
             "deal:\n  name: t\n  closing_date: 2025-05-31\n  frequency: quarterly\n"
             "  legal_final: 8\n"
             "loans:\n  tape: loans.csv\n%s"
             "plan:\n  tranches:\n"
             "    - name: A\n      class: senior\n      balance: 1500000\n"
             "      coupon: 0.03\n      expected_maturity: 6\n      legal_final: 7\n"
             "      coupon_steps:\n        - {period: 5, coupon: 0.041}\n"
             "    - name: S\n      class: sub\n      balance: 500000\n"
             "      amortisation: scheduled\n      schedule: [500000, 400000, 0]\n",
             loans_extra);
    write_file(where, "s.yaml", yaml);
    snprintf(tape, sizeof tape,
             "loan_id,firm,sector,principal,rate,term,amortisation,guarantee_fee_rate,"
             "annual_pd,ip_type,ip_value,recovery_mean,recovery_sd,recovery_lag,disposal_cost\n"
             "L1,F1,tech,1200000,0.0587,%d,level_principal,0.01,0.02,patent,900000,0.4,0.1,2,1000\n"
             "L2,F2,tech,800000,0.0587,%d,bullet,0.01,0.02,patent,900000,0.4,0.1,2,1000\n",
             term, term);
    write_file(where, "loans.csv", tape);
}

static ipabs_status load(const char *where, ipabs_deal **d, ipabs_errors *errors)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/s.yaml", where);
    return ipabs_scenario_load(path, NULL, 0, d, errors);
}

/* Monthly loans under a quarterly plan: the grid is monthly, 24 periods;
 * the class periods the scenario counts in quarters land on the payment
 * dates (expected maturity 6 -> month 18, legal final 7 -> 21); the
 * coupon step from quarter 5 applies from month 13 (the first month of
 * quarter 5); the sub's target after quarter 2 is read at month 6. */
Test(collection, scenario_counts_class_periods_in_payment_periods, .init = tmpdir_setup,
     .fini = tmpdir_teardown)
{
    write_scenario(dir, "  frequency: monthly\n  transfer_lag: 2\n", 24);
    ipabs_deal *d = NULL;
    ipabs_errors errors = {0};
    cr_assert_eq(load(dir, &d, &errors), IPABS_OK);
    cr_assert_eq(d->frequency, 12);
    cr_assert_eq(d->payment_frequency, 4);
    cr_assert_eq(d->pay_every, 3);
    cr_assert_eq(d->transfer_lag, 2);
    cr_assert_eq(d->legal_final, 24);
    cr_assert_eq(d->tranches[0].expected_maturity, 18);
    cr_assert_eq(d->tranches[0].legal_final, 21);
    cr_assert_eq(d->tranches[0].coupon_at[12], 0.03);
    cr_assert_eq(d->tranches[0].coupon_at[13], 0.041);
    cr_assert_eq(d->tranches[1].target[3], 500000.0);
    cr_assert_eq(d->tranches[1].target[6], 400000.0);
    cr_assert_eq(d->tranches[1].target[9], 0.0);
    cr_assert_eq(d->loans[0].term, 24);
    cr_assert(ipabs_deal_is_payment(d, 21) && !ipabs_deal_is_payment(d, 20));
    cr_assert(ipabs_deal_collection_deferred(d, 2) && ipabs_deal_collection_deferred(d, 3));
    cr_assert(!ipabs_deal_collection_deferred(d, 1) && !ipabs_deal_collection_deferred(d, 4));
    /* A monthly level-principal loan pays 1/24 of its principal a month. */
    NEAR(d->loans[0].amortisation[1], 1200000.0 / 24.0);
    ipabs_deal_free(d);
    ipabs_errors_clear(&errors);
}

Test(collection, bad_grids_have_positioned_errors, .init = tmpdir_setup,
     .fini = tmpdir_teardown)
{
    ipabs_deal *d = NULL;
    ipabs_errors errors = {0};
    /* Loans paying less often than the plan. */
    write_scenario(dir, "  frequency: semiannual\n", 8);
    cr_assert_eq(load(dir, &d, &errors), IPABS_EINPUT);
    cr_assert_null(d);
    cr_assert(has_error(&errors, "s.yaml", 8, 14, "2 collections a year is less often than "
                                                  "deal.frequency's 4 payments a year"));
    cr_assert_eq(errors.count, 1, "expected no derived error, got %zu", errors.count);
    ipabs_errors_clear(&errors);
    /* A lag of a whole payment period. */
    errors = (ipabs_errors){0};
    write_scenario(dir, "  frequency: monthly\n  transfer_lag: 3\n", 24);
    cr_assert_eq(load(dir, &d, &errors), IPABS_EINPUT);
    cr_assert(has_error(&errors, "s.yaml", 9, 17, "must be less than the 3 collection periods"));
    ipabs_errors_clear(&errors);
    /* A lag without a finer grid. */
    errors = (ipabs_errors){0};
    write_scenario(dir, "  transfer_lag: 1\n", 8);
    cr_assert_eq(load(dir, &d, &errors), IPABS_EINPUT);
    cr_assert(has_error(&errors, "s.yaml", 8, 17, "less than the 1 collection period "));
    ipabs_errors_clear(&errors);
    /* A loan term beyond the legal final in months (8 quarters = 24). */
    errors = (ipabs_errors){0};
    write_scenario(dir, "  frequency: monthly\n", 25);
    cr_assert_eq(load(dir, &d, &errors), IPABS_EINPUT);
    cr_assert(has_error(&errors, "loans.csv", 2, 6,
                        "must be <= deal.legal_final (24) in collection periods (got 25)"));
    ipabs_errors_clear(&errors);
}

/* ---- the Monte Carlo on the finer calendar ----------------------------------------------- */

/* Eight correlated bullet loans of 24 months under a quarterly plan: the
 * engine's law of the number of defaults by the legal final agrees with
 * the exact law within 4 standard errors. */
Test(collection, monthly_default_law_agrees_with_exact, .timeout = 300)
{
    ipabs_init();
    enum { N = 8 };
    const double pd[N] = {0.0237, 0.051, 0.0125, 0.083, 0.034, 0.0661, 0.019, 0.044};
    ipabs_deal *d = fx_deal(27, N, 1, 0);
    d->frequency = 12;
    d->pay_every = 3;
    d->transfer_lag = 1;
    double pool = 0.0;
    char id[8];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "L%d", i);
        fx_loan(d, i, id, 1000000.0 + 123457.0 * i, 0.05, 24, IPABS_LOAN_BULLET, 0.01, pd[i]);
        d->loans[i].factor_loading = 0.45;
        pool += d->loans[i].principal;
    }
    fx_tranche(d, 0, "senior", IPABS_CLASS_SENIOR, pool, 0.03, IPABS_TRANCHE_PASS_THROUGH, 27);
    d->guarantor.pd_annual = 0.0;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK, "%s", err.message);
    ipabs_exact_result *x = NULL;
    cr_assert_eq(ipabs_exact_compute(d, NULL, &x, &err), IPABS_OK, "%s", err.message);
    long long paths = 200000;
    ipabs_mc_options opt = {paths, 20261201, 2, NULL, NULL, NULL, 0};
    ipabs_mc_result *r = NULL;
    cr_assert_eq(ipabs_mc_run(d, &opt, &r, &err), IPABS_OK, "%s", err.message);
    for (int k = 0; k <= N; k++) {
        double p, se;
        ipabs_mc_prob(r, IPABS_LAW_DEFAULT_COUNT, (size_t)k, &p, &se);
        double want = x->default_count[k];
        double exact_se = sqrt(want * (1.0 - want) / paths);
        cr_assert(fabs(p - want) <= 4.0 * exact_se + 1e-12,
                  "P(N=%d): MC %.6f, exact %.6f, se %.2e", k, p, want, exact_se);
    }
    ipabs_mc_result_free(r);
    ipabs_exact_free(x);
    ipabs_deal_free(d);
}

/* A class paid on quarterly dates at 30/360 and never short earns its
 * coupon: the yield at par is the coupon compounded quarterly (not the
 * 2.996% a monthly compounding of the same flows would show), and the
 * present value of its (nil) loss is nil. */
Test(collection, yield_at_par_compounds_at_the_payment_frequency, .timeout = 120)
{
    ipabs_init();
    ipabs_deal *d = fx_deal(12, 1, 1, 0);
    d->frequency = 12;
    d->pay_every = 3;
    fx_loan(d, 0, "L1", 2718281.83, 0.061, 12, IPABS_LOAN_LEVEL_PRINCIPAL, 0.0, 0.0);
    fx_tranche(d, 0, "A", IPABS_CLASS_SENIOR, 2718281.83, 0.03, IPABS_TRANCHE_PASS_THROUGH, 12);
    d->guarantor.pd_annual = 0.0;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK, "%s", err.message);
    ipabs_mc_options opt = {1000, 7, 1, NULL, NULL, NULL, 0};
    ipabs_mc_result *r = NULL;
    cr_assert_eq(ipabs_mc_run(d, &opt, &r, &err), IPABS_OK, "%s", err.message);
    double irr = r->moments[r->layout.tranche0 + IPABS_TM_IRR].mean;
    cr_assert(fabs(irr - 0.03) < 1e-9, "irr %.12f, expected 0.03", irr);
    ipabs_mc_result_free(r);
    ipabs_deal_free(d);
}

/* The monthly reference scenario's year-2 put on 优先A3 counts payment
 * periods, like the class's other dates: quarter 8 is month 24, the reset
 * coupon applies from month 25 (the first month of quarter 9), and with no
 * default the put is settled on that payment date and on no other month. */
Test(collection, puts_count_payment_periods)
{
    ipabs_deal *d = NULL;
    ipabs_errors errors = {0};
    cr_assert_eq(ipabs_scenario_load(IPABS_SOURCE_DIR
                                     "/scenarios/shenyang-ip-abs-a123-monthly.yaml",
                                     NULL, 0, &d, &errors),
                 IPABS_OK);
    int a3 = 2;
    cr_assert_eq(d->tranches[a3].n_puts, 1);
    cr_assert_eq(d->tranches[a3].puts[0].period, 24);
    cr_assert_eq(d->tranches[a3].coupon_at[24], 0.032);
    cr_assert_eq(d->tranches[a3].coupon_at[25], 0.036);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    ipabs_cashflow *cf = run(d, r);
    for (int t = 1; t <= cf->n_periods; t++) {
        const ipabs_period_flows *f = P(cf, t);
        double put = f->put_redeemed[a3] + f->put_bought[a3];
        if (t == 24)
            cr_assert_gt(put, 0.0, "the put is settled on month 24");
        else
            cr_assert_eq(put, 0.0, "no put on month %d", t);
    }
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
    ipabs_errors_clear(&errors);
}
