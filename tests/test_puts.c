/*
 * test_puts.c — holders' puts (回售) with a coupon reset, resale (转售), and
 * the originator's call (赎回) (issue 10, item 5), against hand
 * calculations.
 *
 * The golden deal G of test_waterfall.c (quarterly, 30/360, d(t) = 0.25):
 *   loan A 1,234,567 at 5.3%, level principal over 4 periods, fee 1.1%
 *   loan B   765,433 at 4.7%, bullet in period 4,             fee 0.9%
 *   bank agency 0.05%, servicing 0.10%, VAT 3.26% on interest income
 *   senior 1,800,000 at 3.15%, sub 200,000 with no coupon
 *   expenses: manager 0.1% on the senior balance, audit 12,000 a year.
 * The put: after period 1's payments, 40% of the senior's investors put;
 * the coupon is reset to 3.87% from period 2.  With split accounts and the
 * senior a bullet, the principal account holds A's first principal,
 * 1,234,567 / 4 = 308,641.75, which redeems that much of the 720,000 put;
 * the supporter buys the other 411,358.25.  Expected values are worked by
 * hand (the arithmetic beside each); none comes from running ipabs.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "cashflow_util.h"
#include "fixture.h"
#include "ipabs/ledger.h"
#include "ipabs/waterfall.h"

static const ipabs_party INVESTORS = {IPABS_PARTY_TRANCHE, 0};
static const ipabs_party SUB = {IPABS_PARTY_TRANCHE, 1};
static const ipabs_party GUARANTOR = {IPABS_PARTY_GUARANTOR, -1};
static const ipabs_party LENDER = {IPABS_PARTY_LENDER, -1};
static const ipabs_party ORIGINATOR = {IPABS_PARTY_LENDER, -1};

/* A's first principal; the face put, 0.4 x 1,800,000; the supporter's part. */
static const double A_PRINCIPAL = 308641.75;
static const double PUT_FACE = 720000.0;
static const double BOUGHT = 720000.0 - 308641.75; /* 411,358.25 */
/* The reset coupon for a quarter: 3.87% / 4. */
static const double RESET_Q = 0.0387 / 4.0;       /* 0.009675 */
/* Guarantee fees: period 1 on 1,234,567 x 1.1% / 4 + 765,433 x 0.9% / 4;
 * period 2 on A's 925,925.25. */
static const double GFEE_1 = 1234567.0 * 0.011 / 4.0 + 765433.0 * 0.009 / 4.0;
static const double GFEE_2 = 925925.25 * 0.011 / 4.0 + 765433.0 * 0.009 / 4.0;

static ipabs_put *one_put(ipabs_tranche *tr, int period, double exercised, double resold,
                          double coupon)
{
    tr->n_puts = 1;
    tr->puts = calloc(1, sizeof *tr->puts);
    *tr->puts = (ipabs_put){period, exercised, resold, true, coupon};
    return tr->puts;
}

/* G with split accounts (principal covering revenue), the senior a bullet,
 * and the put at period 1. */
static ipabs_deal *put_golden(double resold, ipabs_put_supporter who, bool split)
{
    ipabs_deal *d = fx_golden_deal();
    d->accounts = split ? IPABS_ACCOUNTS_SPLIT : IPABS_ACCOUNTS_SINGLE;
    d->principal_covers_revenue = true;
    if (split)
        d->tranches[0].amort = IPABS_TRANCHE_BULLET;
    d->tranches[0].put_supporter = who;
    one_put(&d->tranches[0], 1, 0.4, resold, 0.0387);
    ipabs_error err;
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK, "%s", err.message);
    return d;
}

/* A's net interest in period t on its opening balance, plus B's. */
static double net_interest(int t)
{
    return 1234567.0 * (1.0 - (t - 1) / 4.0) * (0.053 - 0.0015) / 4.0 +
           765433.0 * (0.047 - 0.0015) / 4.0;
}

/* 40% put: 308,641.75 from the principal account (redeemed, in the
 * senior's principal paid), 411,358.25 bought by the guarantor.  From
 * period 2 the coupon is 3.87% on 1,491,358.25, of which the guarantor's
 * 411,358.25 earns 411,358.25 x 0.009675 = 3,979.89106875 and the
 * investors' 1,080,000 earn 10,449.00.  The bullet pays 1,491,358.25 at
 * period 4: 411,358.25 to the guarantor, 1,080,000 to the investors. */
Test(puts, forty_percent_from_the_principal_account_then_the_guarantor)
{
    ipabs_deal *d = put_golden(0.0, IPABS_SUPPORTER_GUARANTOR, true);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    ipabs_cashflow *cf = run(d, r);
    const ipabs_ledger *lg = cf->ledger;
    /* Period 1: the coupon at 3.15% on 1,800,000 = 14,175, then the put. */
    NEAR(P(cf, 1)->interest_paid[0], 14175.0);
    NEAR(P(cf, 1)->put_redeemed[0], A_PRINCIPAL);
    NEAR(P(cf, 1)->principal_paid[0], A_PRINCIPAL);
    NEAR(P(cf, 1)->put_bought[0], BOUGHT);
    NEAR(P(cf, 1)->principal_account, 0.0);
    NEAR(P(cf, 1)->balance_close[0], 1800000.0 - A_PRINCIPAL);
    NEAR(P(cf, 1)->held_close[0], BOUGHT);
    /* Each party's cash in period 1, to the fen. */
    NEAR(ipabs_ledger_net(lg, 1, INVESTORS), 14175.0 + PUT_FACE);          /* 734,175.00 */
    NEAR(ipabs_ledger_net(lg, 1, GUARANTOR), GFEE_1 - BOUGHT);             /* -406,240.9665 */
    NEAR(ipabs_ledger_net(lg, 1, SUB), 6174.8301737);                      /* as in G */
    /* Period 2: the reset coupon, split by face held. */
    double coupon2 = (1800000.0 - A_PRINCIPAL) * RESET_Q;                  /* 14,428.89106875 */
    NEAR(P(cf, 2)->interest_due[0], coupon2);
    NEAR(P(cf, 2)->interest_paid[0], coupon2);
    NEAR(P(cf, 2)->held_interest[0], BOUGHT * RESET_Q);                     /* 3,979.89106875 */
    NEAR(ipabs_ledger_net(lg, 2, INVESTORS), 1080000.0 * RESET_Q);          /* 10,449.00 */
    NEAR(ipabs_ledger_net(lg, 2, GUARANTOR), GFEE_2 + BOUGHT * RESET_Q);
    /* The sub: revenue after VAT, the manager's 0.1% on 1,491,358.25, the
     * audit's 3,000 and the reset coupon. */
    double left2 = net_interest(2) * (1.0 - 0.0326) - 1491358.25 * 0.001 / 4.0 - 3000.0 -
                   coupon2;
    NEAR(P(cf, 2)->residual, left2);
    /* Period 4: the bullet repaid, the guarantor's share with it. */
    NEAR(P(cf, 4)->principal_paid[0], 1491358.25);
    NEAR(P(cf, 4)->held_principal[0], BOUGHT);
    NEAR(P(cf, 4)->held_close[0], 0.0);
    /* Over the life the guarantor's purchase comes back with three
     * quarters of reset coupon: -411,358.25 + 3 x 3,979.89106875 +
     * 411,358.25 = 11,939.67320625 as holder. */
    double as_holder = 0.0;
    for (size_t e = 0; e < lg->count; e++) {
        const ipabs_ledger_entry *x = &lg->entries[e];
        if (x->kind == IPABS_FLOW_HELD_INTEREST || x->kind == IPABS_FLOW_HELD_PRINCIPAL)
            as_holder += x->amount;
        if (x->kind == IPABS_FLOW_PUT_PURCHASE)
            as_holder -= x->amount;
    }
    NEAR(as_holder, 3.0 * 411358.25 * 0.009675);
    for (int t = 1; t <= d->legal_final; t++)
        cr_assert_eq(P(cf, t)->topup, 0.0, "no top-up in period %d", t);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* The originator supports the put and resells 35% of its purchase at par:
 * 0.35 x 411,358.25 = 143,975.3875 to new investors; it holds 267,382.8625
 * and earns 267,382.8625 x 0.009675 = 2,586.92919... in period 2.  The
 * lender's period-1 cash: its servicing fee 2,000,000 x 0.1% / 4 = 500,
 * less the purchase, plus the resale. */
Test(puts, resale_to_new_investors_at_par)
{
    ipabs_deal *d = put_golden(0.35, IPABS_SUPPORTER_ORIGINATOR, true);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    ipabs_cashflow *cf = run(d, r);
    const ipabs_ledger *lg = cf->ledger;
    double resale = 0.35 * BOUGHT, held = 0.65 * BOUGHT;
    NEAR(P(cf, 1)->put_bought[0], BOUGHT);
    NEAR(P(cf, 1)->put_resold[0], resale);                                   /* 143,975.3875 */
    NEAR(P(cf, 1)->held_close[0], held);                                     /* 267,382.8625 */
    NEAR(ipabs_ledger_net(lg, 1, ORIGINATOR), 500.0 - BOUGHT + resale);      /* -266,882.8625 */
    NEAR(ipabs_ledger_net(lg, 1, INVESTORS), 14175.0 + PUT_FACE - resale);   /* 590,199.6125 */
    NEAR(ipabs_ledger_net(lg, 1, GUARANTOR), GFEE_1);
    /* Period 2: servicing on 925,925.25 + 765,433, and the held coupon. */
    NEAR(ipabs_ledger_net(lg, 2, LENDER),
         (925925.25 + 765433.0) * 0.001 / 4.0 + held * RESET_Q);
    NEAR(ipabs_ledger_net(lg, 2, INVESTORS), (1491358.25 - held) * RESET_Q);
    NEAR(P(cf, 4)->held_principal[0], held);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* One plan account: no principal account to draw on, the supporter buys
 * the whole put.  The pass-through senior took A's 308,641.75 in period 1;
 * 40% of the 1,491,358.25 left is 596,543.30. */
Test(puts, one_account_the_supporter_buys_it_all)
{
    ipabs_deal *d = put_golden(0.0, IPABS_SUPPORTER_GUARANTOR, false);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    ipabs_cashflow *cf = run(d, r);
    NEAR(P(cf, 1)->principal_paid[0], A_PRINCIPAL);
    NEAR(P(cf, 1)->put_redeemed[0], 0.0);
    NEAR(P(cf, 1)->put_bought[0], 0.4 * 1491358.25);                         /* 596,543.30 */
    NEAR(ipabs_ledger_net(cf->ledger, 1, GUARANTOR), GFEE_1 - 596543.30);
    /* Period 2: the pass-through senior takes A's second 308,641.75; 40% of
     * it is the guarantor's. */
    NEAR(P(cf, 2)->principal_paid[0], A_PRINCIPAL);
    NEAR(P(cf, 2)->held_principal[0], 0.4 * A_PRINCIPAL);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* The guarantor failed in period 1, before the put settles: it buys
 * nothing; the principal account still redeems 308,641.75, and the
 * holders of the other 411,358.25 put keep their securities. */
Test(puts, failed_guarantor_buys_nothing)
{
    ipabs_deal *d = put_golden(0.0, IPABS_SUPPORTER_GUARANTOR, true);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    r->guarantor_default_period = 1;
    ipabs_cashflow *cf = run(d, r);
    NEAR(P(cf, 1)->put_redeemed[0], A_PRINCIPAL);
    NEAR(P(cf, 1)->put_bought[0], 0.0);
    NEAR(P(cf, 1)->put_unfunded, BOUGHT);
    NEAR(P(cf, 1)->held_close[0], 0.0);
    NEAR(ipabs_ledger_net(cf->ledger, 1, INVESTORS), 14175.0 + A_PRINCIPAL);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* No one puts: nothing moves, and the reset coupon still applies. */
Test(puts, nobody_puts_the_coupon_still_resets)
{
    ipabs_deal *d = fx_golden_deal();
    d->accounts = IPABS_ACCOUNTS_SPLIT;
    d->principal_covers_revenue = true;
    d->tranches[0].amort = IPABS_TRANCHE_BULLET;
    one_put(&d->tranches[0], 1, 0.0, 0.0, 0.0387);
    ipabs_error err;
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK, "%s", err.message);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    ipabs_cashflow *cf = run(d, r);
    NEAR(P(cf, 1)->principal_paid[0], 0.0);
    NEAR(P(cf, 1)->principal_account, A_PRINCIPAL);
    NEAR(P(cf, 2)->interest_paid[0], 1800000.0 * RESET_Q);                  /* 17,415.00 */
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* The originator calls at period 2 (plan.call) on G with one account and
 * the senior passing through.  After period 2's collections it buys the
 * performing loans at par: A's 1,234,567 x 2/4 = 617,283.50 and B's
 * 765,433, 1,382,716.50.  The senior (1,491,358.25 after period 1) is
 * redeemed in full, the sub's 200,000 with it, the revenue left to the sub
 * as residual: net interest 20,628.08796875 less VAT 3.26%, the manager's
 * 1,491,358.25 x 0.1% / 4 = 372.8395625, the audit's 3,000 and the coupon
 * 1,491,358.25 x 3.15% / 4 = 11,744.44621875. */
Test(call, originator_redeems_at_a_stated_date)
{
    ipabs_deal *d = fx_golden_deal();
    d->n_call_periods = 2;
    d->call_periods = calloc(2, sizeof(int));
    d->call_periods[0] = 2;
    d->call_periods[1] = 3;
    d->call_exercise = 2;
    ipabs_error err;
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK, "%s", err.message);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    ipabs_cashflow *cf = run(d, r);
    double price = 617283.5 + 765433.0;
    NEAR(P(cf, 2)->call_price, price);
    NEAR(P(cf, 2)->principal_collected, A_PRINCIPAL);
    NEAR(P(cf, 2)->interest_collected, net_interest(2));
    NEAR(P(cf, 2)->principal_paid[0], 1491358.25);
    NEAR(P(cf, 2)->interest_paid[0], 1491358.25 * 0.0315 / 4.0);
    NEAR(P(cf, 2)->principal_paid[1], 200000.0);
    double left = net_interest(2) * (1.0 - 0.0326) - 372.8395625 - 3000.0 - 11744.44621875;
    NEAR(P(cf, 2)->residual, left);
    NEAR(ipabs_ledger_net(cf->ledger, 2, LENDER),
         (925925.25 + 765433.0) * 0.001 / 4.0 - price);
    NEAR(ipabs_ledger_net(cf->ledger, 2, SUB), 200000.0 + left);
    /* Nothing after the call: no loans, no securities. */
    NEAR(P(cf, 3)->interest_collected + P(cf, 3)->principal_collected, 0.0);
    NEAR(P(cf, 2)->balance_close[0] + P(cf, 2)->balance_close[1], 0.0);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* Not exercised (exercise 0): the deal runs as without a call. */
Test(call, not_exercised_changes_nothing)
{
    ipabs_deal *a = fx_golden_deal(), *b = fx_golden_deal();
    b->n_call_periods = 1;
    b->call_periods = calloc(1, sizeof(int));
    b->call_periods[0] = 2;
    b->call_exercise = 0;
    ipabs_error err;
    cr_assert_eq(ipabs_deal_finalize(a, &err), IPABS_OK, "%s", err.message);
    cr_assert_eq(ipabs_deal_finalize(b, &err), IPABS_OK, "%s", err.message);
    ipabs_realisation *ra = ipabs_realisation_alloc(a), *rb = ipabs_realisation_alloc(b);
    ipabs_cashflow *ca = run(a, ra), *cb = run(b, rb);
    for (int t = 1; t <= a->legal_final; t++)
        for (int k = 0; k < 2; k++) {
            cr_assert_eq(P(ca, t)->principal_paid[k], P(cb, t)->principal_paid[k]);
            cr_assert_eq(P(ca, t)->interest_paid[k], P(cb, t)->interest_paid[k]);
        }
    ipabs_cashflow_free(ca);
    ipabs_cashflow_free(cb);
    ipabs_realisation_free(ra);
    ipabs_realisation_free(rb);
    ipabs_deal_free(a);
    ipabs_deal_free(b);
}

/* ---- the scenario keys: positioned errors, --set ------------------------- */

#include <string.h>

#include "ipabs/scenario.h"
#include "tmpdir.h"

/* Lines 1-16 of a scenario around the reference tape; a senior A (legal
 * final 16) whose keys the tests append from line 17, then the sub B. */
static const char HEAD[] =
    "deal:\n"                                                        /*  1 */
    "  name: T\n"                                                    /*  2 */
    "  closing_date: 2025-06-30\n"                                   /*  3 */
    "  legal_final: 20\n"                                            /*  4 */
    "loans:\n"                                                       /*  5 */
    "  tape: " IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs-loans.csv\n" /* 6 */
    "guarantor:\n"                                                   /*  7 */
    "  name: G\n"                                                    /*  8 */
    "plan:\n"                                                        /*  9 */
    "  tranches:\n"                                                  /* 10 */
    "    - name: A\n"                                                /* 11 */
    "      class: senior\n"                                          /* 12 */
    "      balance: 68400000\n"                                      /* 13 */
    "      coupon: 0.03\n"                                           /* 14 */
    "      legal_final: 16\n"                                        /* 15 */
    "      amortisation: pass_through\n";                            /* 16 */
static const char TAIL[] =
    "    - name: B\n"
    "      class: sub\n"
    "      balance: 3600000\n";

/* Load HEAD + a_keys + TAIL + plan_keys with the overrides. */
static ipabs_status load_with(const char *a_keys, const char *plan_keys,
                              const char *const *sets, int n, ipabs_deal **deal,
                              ipabs_errors *errors)
{
    char path[600];
    snprintf(path, sizeof path, "%s/scenario.yaml", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "%s%s%s%s", HEAD, a_keys, TAIL, plan_keys);
    fclose(f);
    return ipabs_scenario_load(path, sets, n, deal, errors);
}

static void expect_at(const ipabs_errors *e, size_t i, int line, int column,
                      const char *field, const char *part)
{
    cr_assert_lt(i, e->count, "expected at least %zu errors", i + 1);
    const ipabs_error *x = &e->items[i];
    if (x->line != line || x->column != column || strcmp(x->field, field) != 0 ||
        strstr(x->message, part) == NULL) {
        ipabs_error_print(stderr, x);
        cr_assert_fail("error %zu: want %d:%d %s ...%s...", i, line, column, field, part);
    }
}

static void load_fails(const char *a_keys, const char *plan_keys, size_t count,
                       ipabs_errors *e)
{
    ipabs_deal *d = NULL;
    cr_assert_neq(load_with(a_keys, plan_keys, NULL, 0, &d, e), IPABS_OK);
    cr_assert_null(d);
    if (e->count != count)
        for (size_t i = 0; i < e->count; i++)
            ipabs_error_print(stderr, &e->items[i]);
    cr_assert_eq(e->count, count);
}

/* A put at the legal final leaves no coupon period after it; a fraction
 * of 1.4 is not a fraction. */
Test(put_keys, after_legal_final_and_fraction_out_of_range, .init = tmpdir_setup,
     .fini = tmpdir_teardown)
{
    ipabs_errors e = {0};
    load_fails("      day_count: 30/360\n"     /* 17 */
               "      puts:\n"                /* 18 */
               "        - period: 16\n"       /* 19 */
               "          exercised: 1.4\n",  /* 20 */
               "", 2, &e);
    expect_at(&e, 0, 20, 22, "plan.tranches[0].puts[0].exercised", "[0, 1] (got 1.4)");
    expect_at(&e, 1, 19, 19, "plan.tranches[0].puts[0].period",
              "on or after the class's legal final (16)");
    ipabs_errors_clear(&e);
}

/* The expected maturity: the class is due in full then, no put on it. */
Test(put_keys, on_the_expected_maturity, .init = tmpdir_setup, .fini = tmpdir_teardown)
{
    ipabs_errors e = {0};
    load_fails("      expected_maturity: 12\n" /* 17 */
               "      puts:\n"                /* 18 */
               "        - period: 12\n"       /* 19 */
               "          exercised: 0.4\n",  /* 20 */
               "", 1, &e);
    expect_at(&e, 0, 19, 19, "plan.tranches[0].puts[0].period", "expected maturity (12)");
    ipabs_errors_clear(&e);
}

/* The reset said twice: by the put and by a coupon step at period + 1. */
Test(put_keys, reset_given_twice, .init = tmpdir_setup, .fini = tmpdir_teardown)
{
    ipabs_errors e = {0};
    load_fails("      coupon_steps:\n"                  /* 17 */
               "        - {period: 9, coupon: 0.04}\n"  /* 18 */
               "      puts:\n"                          /* 19 */
               "        - period: 8\n"                  /* 20 */
               "          exercised: 0.4\n"             /* 21 */
               "          coupon: 0.036\n",             /* 22 */
               "", 1, &e);
    expect_at(&e, 0, 22, 19, "plan.tranches[0].puts[0].coupon",
              "the coupon from period 9 is given twice");
    ipabs_errors_clear(&e);
}

/* A put is a senior class's; the sub's would be followed by nothing. */
Test(put_keys, not_on_the_sub, .init = tmpdir_setup, .fini = tmpdir_teardown)
{
    ipabs_errors e = {0};
    load_fails("", "      puts:\n"                   /* 20 */
                   "        - {period: 4, exercised: 0.5}\n", 1, &e);
    expect_at(&e, 0, 20, 7, "plan.tranches[1].puts", "for a senior class");
    ipabs_errors_clear(&e);
}

/* The call is exercised on one of its dates or not at all. */
Test(call_keys, exercise_not_a_call_date, .init = tmpdir_setup, .fini = tmpdir_teardown)
{
    ipabs_errors e = {0};
    load_fails("", "  call:\n"                 /* 20 */
                   "    periods: [8, 10]\n"     /* 21 */
                   "    exercise: 9\n", 1, &e);  /* 22 */
    expect_at(&e, 0, 22, 15, "plan.call.exercise", "period 9 is not in plan.call.periods");
    ipabs_errors_clear(&e);
}

/* --set reaches a put's share exercised and the call's date, as --grid
 * does; out of range there is an error at --set. */
Test(put_keys, set_and_grid_reach_them, .init = tmpdir_setup, .fini = tmpdir_teardown)
{
    const char *put = "      puts:\n"
                      "        - {period: 8, exercised: 0.4, coupon: 0.036, resold: 0.5}\n";
    const char *call = "  call:\n    periods: [8, 10]\n    exercise: 0\n";
    const char *sets[] = {"plan.tranches[0].puts[0].exercised=0.25",
                          "plan.call.exercise=10"};
    ipabs_errors e = {0};
    ipabs_deal *d = NULL;
    cr_assert_eq(load_with(put, call, sets, 2, &d, &e), IPABS_OK);
    cr_assert_eq(d->tranches[0].puts[0].exercised, 0.25);
    cr_assert_eq(d->tranches[0].puts[0].resold, 0.5);
    cr_assert_eq(d->call_exercise, 10);
    cr_assert_eq(d->tranches[0].coupon_at[8], 0.03);
    cr_assert_eq(d->tranches[0].coupon_at[9], 0.036);
    ipabs_deal_free(d);
    d = NULL;
    const char *bad[] = {"plan.tranches[0].puts[0].exercised=-0.1"};
    cr_assert_neq(load_with(put, call, bad, 1, &d, &e), IPABS_OK);
    cr_assert_eq(e.count, 1);
    cr_assert_str_eq(e.items[0].file, "--set");
    ipabs_errors_clear(&e);
}

/* A supporter without a put is a mistake in the file, not a default. */
Test(put_keys, supporter_without_puts, .init = tmpdir_setup, .fini = tmpdir_teardown)
{
    ipabs_errors e = {0};
    load_fails("      put_supporter: originator\n", "", 1, &e); /* 17 */
    expect_at(&e, 0, 17, 22, "plan.tranches[0].put_supporter", "the class has no puts");
    ipabs_errors_clear(&e);
}

/* ---- the reference variant through the CLI ------------------------------- */

#define PUT_SCENARIO IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs-a123-put.yaml"

/* The line of `text` that starts with `start`, copied into line[cap]. */
static bool line_starting(const char *text, const char *start, char *line, size_t cap)
{
    for (const char *p = text; p != NULL && *p != '\0';) {
        const char *end = strchr(p, '\n');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        if (strncmp(p, start, strlen(start)) == 0 && n < cap) {
            memcpy(line, p, n);
            line[n] = '\0';
            return true;
        }
        p = end != NULL ? end + 1 : NULL;
    }
    return false;
}

static char *slurp_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* `ipabs check` shows the put and the call; `ipabs cashflow` appends the
 * call, the unfunded face and A3's seven put columns after the existing
 * ones, and on the no-default path the guarantor buys 40% of A3's
 * 28,230,979.38 outstanding after period 8 and resells half.  A3's
 * principal by then is the pool's first two years' principal, 40,169,020.62
 * (docs/reference-deal.md), less A1 and A2's 40,000,000: 169,020.62; the
 * principal account is empty (the pass-through A3 took it), so 0.4 x
 * (28,400,000 - 169,020.62) = 11,292,391.75 is bought, half resold. */
Test(put_cli, the_reference_variant, .init = tmpdir_setup, .fini = tmpdir_teardown)
{
    char cmd[1400], path[700], line[4096];
    snprintf(cmd, sizeof cmd, "'%s' check '%s' > '%s/check.txt' 2>&1", IPABS_CLI,
             PUT_SCENARIO, dir);
    cr_assert_eq(system(cmd), 0);
    snprintf(path, sizeof path, "%s/check.txt", dir);
    char *check = slurp_file(path);
    cr_assert_not_null(strstr(check, "put at period 8: 40.00% exercised, 50.00% of the "
                                     "purchase resold, coupon reset to 3.600% from period 9"));
    cr_assert_not_null(strstr(check, "call (originator) at periods 10; not exercised"));
    free(check);
    snprintf(cmd, sizeof cmd, "'%s' cashflow '%s' -o '%s/cf' --csv-bom no > /dev/null",
             IPABS_CLI, PUT_SCENARIO, dir);
    cr_assert_eq(system(cmd), 0);
    snprintf(path, sizeof path, "%s/cf/periods.csv", dir);
    char *csv = slurp_file(path);
    cr_assert(line_starting(csv, "period,", line, sizeof line));
    cr_assert_not_null(strstr(line, ",revenue_to_principal,payout_fees,call,put_unfunded,"
                                    "优先A3_put_redeemed,优先A3_put_bought,优先A3_put_resold,"
                                    "优先A3_held_interest,优先A3_held_principal,"
                                    "优先A3_held_loss,优先A3_held_balance"),
                      "header: %s", line);
    cr_assert(line_starting(csv, "8,", line, sizeof line));
    /* The last seven cells of period 8: redeemed 0, bought, resold, held
     * interest and principal 0 (the put follows the date's payments), no
     * loss, held 5,646,195.875236. */
    cr_assert_not_null(strstr(line, ",0.000000,0.000000,0.000000,11292391.750472,"
                                    "5646195.875236,0.000000,0.000000,0.000000,"
                                    "5646195.875236"),
                       "period 8: %s", line);
    free(csv);
}
