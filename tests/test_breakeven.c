/*
 * test_breakeven.c — breakeven default rates: the timing weights, the
 * split of loans into pieces (exact at r = 0, adding up to the pool, the
 * rate defaulting exactly), a BDR computed by hand, the bisection's
 * assumptions (the senior, once impaired, stays impaired as the rate
 * rises) on a grid for the reference deal, and the BDR's monotonicity in
 * the recovery haircut and the guarantor's support.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "fixture.h"
#include "ipabs/breakeven.h"
#include "ipabs/scenario.h"

#define REFERENCE IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs.yaml"

static ipabs_deal *reference(void)
{
    ipabs_deal *deal = NULL;
    ipabs_errors errors = {0};
    ipabs_status s = ipabs_scenario_load(REFERENCE, NULL, 0, &deal, &errors);
    for (size_t i = 0; i < errors.count; i++)
        ipabs_error_print(stderr, &errors.items[i]);
    cr_assert_eq(s, IPABS_OK);
    ipabs_errors_clear(&errors);
    return deal;
}

static void finalize(ipabs_deal *d)
{
    ipabs_error err;
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK, "%s", err.message);
}

static ipabs_breakeven_case build(const ipabs_deal *d, ipabs_stress s,
                                  ipabs_support support, double rate)
{
    ipabs_breakeven_case c;
    ipabs_error err = {0};
    bool feasible;
    cr_assert_eq(ipabs_breakeven_case_build(d, &s, support, rate, &c, &feasible, &err),
                 IPABS_OK, "%s", err.message);
    cr_assert(feasible, "expected rate %g to be feasible", rate);
    return c;
}

static const ipabs_stress EVEN_NO_RECOVERY = {IPABS_TIMING_EVEN, 0.0, 0};

/* ---- timing weights -------------------------------------------------------- */

Test(breakeven, timing_weights_follow_the_documented_thirds)
{
    /* W = 8: thirds are periods 1-3, 4-6, 7-8 (third of t = floor(3(t-1)/8)). */
    double front[9] = {0, 0.5 / 3, 0.5 / 3, 0.5 / 3, 0.1, 0.1, 0.1, 0.1, 0.1};
    double back[9] = {0, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.1, 0.1, 0.1, 0.25, 0.25};
    for (int t = 1; t <= 8; t++) {
        cr_expect_float_eq(ipabs_timing_weight(IPABS_TIMING_FRONT, t, 8), front[t], 1e-15);
        cr_expect_float_eq(ipabs_timing_weight(IPABS_TIMING_BACK, t, 8), back[t], 1e-15);
        cr_expect_float_eq(ipabs_timing_weight(IPABS_TIMING_EVEN, t, 8), 0.125, 1e-15);
    }
    /* W = 2: the last third is empty; 50/30 scaled to 62.5/37.5. */
    cr_expect_float_eq(ipabs_timing_weight(IPABS_TIMING_FRONT, 1, 2), 0.625, 1e-15);
    cr_expect_float_eq(ipabs_timing_weight(IPABS_TIMING_FRONT, 2, 2), 0.375, 1e-15);
    cr_expect_float_eq(ipabs_timing_weight(IPABS_TIMING_BACK, 1, 1), 1.0, 1e-15);
    cr_expect_eq(ipabs_timing_weight(IPABS_TIMING_FRONT, 0, 8), 0.0);
    cr_expect_eq(ipabs_timing_weight(IPABS_TIMING_FRONT, 9, 8), 0.0);
    for (int w = 1; w <= 13; w++)
        for (int k = 0; k < 3; k++) {
            double sum = 0.0;
            for (int t = 1; t <= w; t++)
                sum += ipabs_timing_weight((ipabs_default_timing)k, t, w);
            cr_expect_float_eq(sum, 1.0, 1e-14, "timing %d, window %d", k, w);
        }
}

Test(breakeven, default_stress_grid)
{
    ipabs_deal *d = reference();
    ipabs_stress *s = NULL;
    int n = 0;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_breakeven_stresses(d, &s, &n, &err), IPABS_OK);
    /* 3 timings x (multiplier 0 once + {0.5, 0.8} x delays {0, 4}). */
    cr_assert_eq(n, 15);
    char name[64];
    ipabs_stress_name(&s[0], name, sizeof name);
    cr_expect_str_eq(name, "front/rec0/lag+0");
    ipabs_stress_name(&s[14], name, sizeof name);
    cr_expect_str_eq(name, "back/rec0.8/lag+4");
    cr_expect_eq(ipabs_breakeven_window(d), 8);
    free(s);
    ipabs_deal_free(d);
}

/* ---- the hand-checked deal ------------------------------------------------- */

/*
 * One bullet loan P = 7,654,321 at 5.17%, term 4 quarters, no IP value (no
 * recovery); senior S = 6,950,000 at 3.4% pass-through, sub 704,321, both
 * with legal final 4; no fees, tax or expenses; no guarantor support.
 * Stress: even timing, so r P / 4 defaults in each of periods 1..4.
 *
 * With j = 5.17%/4 = 0.012925, c = 3.4%/4 = 0.0085, a = 1 + c and
 * b = P j = 98,932.098925, the performing balance in period t is
 * P (1 - r t / 4) and pays interest b (1 - r t / 4).  In periods 1-3 the
 * senior takes its coupon S(t-1) c and, as the defaulted balances owed to
 * it (r P / 4 a period, about 209,000) exceed the excess spread (about
 * 40,000), all the excess spread as principal:
 *     S(t) = S(t-1) a - b (1 - r t / 4).
 * So S(3) = S a^3 - b [a^2 (1 - r/4) + a (1 - r/2) + (1 - 3r/4)].  In
 * period 4 the performing balance P (1 - r) pays P (1 - r)(1 + j), and the
 * senior is whole exactly when that covers S(3) a.  Solving for r:
 *
 *     r* = [P (1 + j) + b (a^3 + a^2 + a) - S a^4]
 *          / [P (1 + j) + b (a^3/4 + a^2/2 + 3a/4)]
 *        = (7,753,253.0989 + 301,870.4860 - 7,189,329.9340)
 *          / (7,753,253.0989 + 150,509.4055)
 *        = 865,793.6509 / 7,903,762.5044 = 0.1095420,
 *
 * the subordination 704,321 / P = 9.2016% plus an excess-spread share of
 * 1.7526%.  (Coupons are covered at r*: b (1 - 3 r* / 4) = 90,804 > S(2) c.)
 */
Test(breakeven, one_bullet_loan_by_hand)
{
    ipabs_deal *d = fx_deal(4, 1, 2, 0);
    fx_loan(d, 0, "L", 7654321.0, 0.0517, 4, IPABS_LOAN_BULLET, 0.01, 0.02);
    d->loans[0].ip_value = 0.0;
    fx_tranche(d, 0, "senior", IPABS_CLASS_SENIOR, 6950000.0, 0.034,
               IPABS_TRANCHE_PASS_THROUGH, 4);
    fx_tranche(d, 1, "sub", IPABS_CLASS_SUB, 704321.0, 0.0, IPABS_TRANCHE_PASS_THROUGH, 4);
    finalize(d);
    double P = 7654321.0, S = 6950000.0, j = 0.0517 / 4, a = 1.0 + 0.034 / 4, b = P * j;
    double expected = (P * (1 + j) + b * (a * a * a + a * a + a) - S * a * a * a * a) /
                      (P * (1 + j) + b * (a * a * a / 4 + a * a / 2 + 3 * a / 4));
    cr_assert_float_eq(expected, 0.1095420, 5e-8);

    ipabs_bdr bdr;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_breakeven_solve(d, &EVEN_NO_RECOVERY, IPABS_SUPPORT_NONE, &bdr, &err),
                 IPABS_OK, "%s", err.message);
    cr_expect(bdr.impaired);
    cr_expect(bdr.bdr <= expected && bdr.bdr >= expected - IPABS_BDR_TOLERANCE,
              "BDR %.8f, by hand %.8f", bdr.bdr, expected);
    cr_expect_eq(bdr.max_rate, 1.0); /* a bullet loan's balance never falls */
    /* Either side of r* by a hair: whole, then impaired. */
    ipabs_senior_outcome o;
    cr_assert_eq(ipabs_breakeven_test(d, &EVEN_NO_RECOVERY, IPABS_SUPPORT_NONE,
                                      expected - 1e-7, &o, &err), IPABS_OK);
    cr_expect_eq(o, IPABS_SENIOR_WHOLE);
    cr_assert_eq(ipabs_breakeven_test(d, &EVEN_NO_RECOVERY, IPABS_SUPPORT_NONE,
                                      expected + 1e-7, &o, &err), IPABS_OK);
    cr_expect_eq(o, IPABS_SENIOR_IMPAIRED);
    ipabs_deal_free(d);
}

Test(breakeven, no_bdr_when_the_senior_fails_without_defaults)
{
    /* The senior's 6% coupon exceeds what a 4% loan can pay: BDR 0. */
    ipabs_deal *d = fx_deal(4, 1, 2, 0);
    fx_loan(d, 0, "L", 1000000.0, 0.04, 4, IPABS_LOAN_BULLET, 0.0, 0.02);
    fx_tranche(d, 0, "senior", IPABS_CLASS_SENIOR, 990000.0, 0.06,
               IPABS_TRANCHE_PASS_THROUGH, 4);
    fx_tranche(d, 1, "sub", IPABS_CLASS_SUB, 10000.0, 0.0, IPABS_TRANCHE_PASS_THROUGH, 4);
    d->guarantor.capacity = 0.0;
    finalize(d);
    ipabs_bdr bdr;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_breakeven_solve(d, &EVEN_NO_RECOVERY, IPABS_SUPPORT_FULL, &bdr, &err),
                 IPABS_OK);
    cr_expect_eq(bdr.bdr, 0.0);
    cr_expect(bdr.impaired);
    ipabs_deal_free(d);
}

Test(breakeven, a_scheduled_senior_must_meet_its_targets)
{
    /* A level-principal loan pays 250,000 a period (and 12,500 of
     * interest in period 1); a senior scheduled down to 600,000 after
     * period 1 (300,000 due) misses its target with no default at all,
     * although it is repaid in full by period 4. */
    ipabs_deal *d = fx_deal(4, 1, 2, 0);
    fx_loan(d, 0, "L", 1000000.0, 0.05, 4, IPABS_LOAN_LEVEL_PRINCIPAL, 0.0, 0.02);
    fx_tranche(d, 0, "senior", IPABS_CLASS_SENIOR, 900000.0, 0.03,
               IPABS_TRANCHE_SCHEDULED, 4);
    fx_tranche(d, 1, "sub", IPABS_CLASS_SUB, 100000.0, 0.0, IPABS_TRANCHE_PASS_THROUGH, 4);
    double target[5] = {900000.0, 600000.0, 450000.0, 200000.0, 0.0};
    d->tranches[0].target = malloc(sizeof target);
    memcpy(d->tranches[0].target, target, sizeof target);
    d->guarantor.capacity = 0.0;
    d->guarantor.topup = false;
    finalize(d);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    ipabs_realisation_index(d, r);
    bool whole = true;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_senior_whole(d, r, &whole, &err), IPABS_OK);
    cr_expect_not(whole);
    d->tranches[0].target[1] = 650000.0; /* 250,000 due: met */
    cr_assert_eq(ipabs_senior_whole(d, r, &whole, &err), IPABS_OK);
    cr_expect(whole);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* ---- the split ------------------------------------------------------------- */

static void expect_same_flows(const ipabs_deal *d, const ipabs_period_flows *x,
                              const ipabs_period_flows *y)
{
    cr_expect_eq(memcmp(x, y, offsetof(ipabs_period_flows, balance_open)), 0,
                 "period %d: scalar flows differ", x->period);
    cr_expect_eq(memcmp(x->balance_open, y->balance_open,
                        7 * (size_t)d->n_tranches * sizeof(double)), 0,
                 "period %d: tranche flows differ", x->period);
}

Test(breakeven, rate_zero_reproduces_the_deal_exactly)
{
    ipabs_deal *d = reference();
    for (int rule = 0; rule < 2; rule++) {
        d->rating.default_rule = (ipabs_default_rule)rule;
        ipabs_breakeven_case c = build(d, EVEN_NO_RECOVERY, IPABS_SUPPORT_FULL, 0.0);
        cr_assert_eq(c.deal->n_loans, d->n_loans);
        cr_expect_eq(c.deal->pool_balance, d->pool_balance);
        ipabs_realisation *r = ipabs_realisation_alloc(d);
        ipabs_realisation_index(d, r);
        ipabs_cashflow *a = NULL, *b = NULL;
        ipabs_error err = {0};
        cr_assert_eq(ipabs_cashflow_compute(d, r, &a, &err), IPABS_OK);
        cr_assert_eq(ipabs_cashflow_compute(c.deal, c.real, &b, &err), IPABS_OK);
        for (int t = 0; t < d->legal_final; t++)
            expect_same_flows(d, &a->periods[t], &b->periods[t]);
        cr_expect_eq(a->ledger->count, b->ledger->count);
        ipabs_cashflow_free(a);
        ipabs_cashflow_free(b);
        ipabs_realisation_free(r);
        ipabs_breakeven_case_release(&c);
    }
    ipabs_deal_free(d);
}

/* Pieces add up to the pool and to each loan; defaulting pieces default
 * within their term; the waterfall's cumulative default ratio is r. */
static void check_split(const ipabs_deal *d, const ipabs_breakeven_case *c, double rate)
{
    double pool = 0.0, *share = calloc((size_t)d->n_loans, sizeof *share);
    for (int j = 0; j < c->deal->n_loans; j++) {
        const ipabs_loan *piece = &c->deal->loans[j], *loan = &d->loans[c->source[j]];
        pool += piece->principal;
        share[c->source[j]] += c->share[j];
        cr_expect_float_eq(piece->principal, c->share[j] * loan->principal, 1e-6);
        cr_expect_float_eq(piece->ip_value, c->share[j] * loan->ip_value, 1e-6);
        cr_expect(c->real->default_period[j] <= piece->term);
    }
    cr_expect_float_eq(pool, d->pool_balance, 1e-6);
    for (int i = 0; i < d->n_loans; i++)
        cr_expect_float_eq(share[i], 1.0, 1e-12, "loan %d", i);
    ipabs_cashflow *cf = NULL;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_cashflow_compute(c->deal, c->real, &cf, &err), IPABS_OK, "%s", err.message);
    cr_expect_float_eq(cf->periods[d->legal_final - 1].cum_default_ratio, rate, 1e-12);
    ipabs_cashflow_free(cf);
    free(share);
}

Test(breakeven, pieces_add_up_and_exactly_the_rate_defaults)
{
    ipabs_deal *d = reference();
    for (int rule = 0; rule < 2; rule++)
        for (int timing = 0; timing < 3; timing++) {
            d->rating.default_rule = (ipabs_default_rule)rule;
            ipabs_stress s = {(ipabs_default_timing)timing, 0.5, 2};
            ipabs_breakeven_case c = build(d, s, IPABS_SUPPORT_NONE, 0.3137);
            check_split(d, &c, 0.3137);
            cr_expect_eq(c.deal->guarantor.capacity, 0.0);
            cr_expect_not(c.deal->guarantor.topup);
            for (int j = 0; j < c.deal->n_loans; j++) {
                const ipabs_loan *l = &d->loans[c.source[j]];
                cr_expect_eq(c.deal->loans[j].recovery_lag, l->recovery_lag + 2);
                cr_expect_float_eq(c.real->realisation[j], 0.5 * l->recovery_mean, 1e-15);
            }
            ipabs_breakeven_case_release(&c);
        }
    ipabs_deal_free(d);
}

Test(breakeven, largest_first_takes_whole_loans_by_size)
{
    /* 20% of 72M = 14.4M front-loaded: L01 (10M, the largest) defaults
     * whole, then part of L02 (9.5M); nothing else. */
    ipabs_deal *d = reference();
    d->rating.default_rule = IPABS_DEFAULT_LARGEST_FIRST;
    ipabs_stress s = {IPABS_TIMING_FRONT, 0.0, 0};
    ipabs_breakeven_case c = build(d, s, IPABS_SUPPORT_NONE, 0.2);
    double defaulted[10] = {0};
    for (int j = 0; j < c.deal->n_loans; j++)
        if (c.real->default_period[j] > 0)
            defaulted[c.source[j]] += c.share[j];
    cr_expect_float_eq(defaulted[0], 1.0, 1e-12);
    cr_expect(defaulted[1] > 0.0 && defaulted[1] < 1.0, "L02 share %g", defaulted[1]);
    for (int i = 2; i < 10; i++)
        cr_expect_eq(defaulted[i], 0.0, "loan %d", i);
    check_split(d, &c, 0.2);
    ipabs_breakeven_case_release(&c);
    ipabs_deal_free(d);
}

Test(breakeven, rates_beyond_the_amortised_balance_are_infeasible)
{
    /* Level-principal loans have amortised by the back third of the
     * window, so back-loaded defaults cannot reach 90% of the pool. */
    ipabs_deal *d = reference();
    ipabs_stress s = {IPABS_TIMING_BACK, 0.0, 0};
    ipabs_breakeven_case c;
    bool feasible = true;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_breakeven_case_build(d, &s, IPABS_SUPPORT_NONE, 0.9, &c, &feasible, &err),
                 IPABS_OK);
    cr_expect_not(feasible);
    cr_expect_null(c.deal);
    double max_rate;
    cr_assert_eq(ipabs_breakeven_max_rate(d, &s, &max_rate, &err), IPABS_OK);
    cr_expect(max_rate > 0.5 && max_rate < 0.9, "max rate %g", max_rate);
    ipabs_breakeven_case ok = build(d, s, IPABS_SUPPORT_NONE, max_rate);
    check_split(d, &ok, max_rate);
    ipabs_breakeven_case_release(&ok);
    cr_expect_eq(ipabs_breakeven_case_build(d, &s, IPABS_SUPPORT_NONE, 1.5, &c, &feasible, &err),
                 IPABS_EINPUT);
    ipabs_deal_free(d);
}

/* ---- monotonicity ------------------------------------------------------------ */

/* Walk the rates 0, 0.0025, ... up to the stress's maximum: once the
 * senior is impaired it must stay impaired. */
static void expect_monotone(const ipabs_deal *d, const ipabs_stress *s,
                            ipabs_support support, const char *what)
{
    double max_rate;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_breakeven_max_rate(d, s, &max_rate, &err), IPABS_OK);
    bool impaired = false;
    for (double r = 0.0; r <= max_rate; r += 0.0025) {
        ipabs_senior_outcome o;
        cr_assert_eq(ipabs_breakeven_test(d, s, support, r, &o, &err), IPABS_OK, "%s",
                     err.message);
        cr_assert_neq(o, IPABS_RATE_INFEASIBLE);
        cr_assert(!impaired || o == IPABS_SENIOR_IMPAIRED, "%s: whole again at r = %g",
                  what, r);
        impaired = o == IPABS_SENIOR_IMPAIRED;
    }
    cr_expect(impaired, "%s: the senior survives every rate", what);
}

/* The solver's assumption, checked on a grid of rates (0.25%, finer than
 * the 0.5% scan) for every default stress: stand-alone under both default
 * rules, and with a guarantor whose capacity (5M) runs out under pro_rata.
 * (With the reference deal's unlimited capacity nothing impairs the
 * senior; largest_first with 5M is the counter-example below.) */
Test(breakeven, senior_outcome_is_monotone_in_the_rate_on_the_reference_deal)
{
    ipabs_deal *d = reference();
    ipabs_stress *s = NULL;
    int n = 0;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_breakeven_stresses(d, &s, &n, &err), IPABS_OK);
    for (int i = 0; i < n; i++) {
        char what[96];
        for (int rule = 0; rule < 2; rule++) {
            d->rating.default_rule = (ipabs_default_rule)rule;
            snprintf(what, sizeof what, "stand-alone, rule %d, stress %d", rule, i);
            expect_monotone(d, &s[i], IPABS_SUPPORT_NONE, what);
        }
        d->rating.default_rule = IPABS_DEFAULT_PRO_RATA;
        d->guarantor.capacity = 5e6;
        snprintf(what, sizeof what, "capacity 5M, pro_rata, stress %d", i);
        expect_monotone(d, &s[i], IPABS_SUPPORT_FULL, what);
        d->guarantor.capacity = INFINITY;
    }
    free(s);
    ipabs_deal_free(d);
}

/* Not every deal is monotone.  Whole loans defaulting largest first, a
 * guarantor capped at 5M and recoveries delayed a year: from about 13.04%
 * the senior misses its coupon in period 13, after the loans have matured
 * and before any recovery reaches the plan (the guarantor paid the early
 * defaults in full, so their recoveries are its own by subrogation).  Near
 * 14.25% the capacity runs out a period earlier, the guarantor pays only
 * part of the period-3 default, and the plan's share of that recovery
 * arrives in period 13 and pays the coupon: whole again.  Principal is
 * lost from about 14.5%.  The scan before the bisection finds the first
 * impairment, not the last. */
Test(breakeven, the_first_impairment_is_found_when_the_outcome_is_not_monotone)
{
    ipabs_deal *d = reference();
    d->rating.default_rule = IPABS_DEFAULT_LARGEST_FIRST;
    d->guarantor.capacity = 5e6;
    ipabs_stress s = {IPABS_TIMING_FRONT, 0.5, 4};
    ipabs_senior_outcome o;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_breakeven_test(d, &s, IPABS_SUPPORT_FULL, 0.1425, &o, &err), IPABS_OK);
    cr_assert_eq(o, IPABS_SENIOR_WHOLE, "the counter-example has changed");
    cr_assert_eq(ipabs_breakeven_test(d, &s, IPABS_SUPPORT_FULL, 0.135, &o, &err), IPABS_OK);
    cr_assert_eq(o, IPABS_SENIOR_IMPAIRED, "the counter-example has changed");
    ipabs_bdr b;
    cr_assert_eq(ipabs_breakeven_solve(d, &s, IPABS_SUPPORT_FULL, &b, &err), IPABS_OK);
    cr_expect(b.bdr > 0.125 && b.bdr < 0.135, "BDR %g", b.bdr);
    for (double r = 0.0; r <= b.bdr; r += 0.0005) {
        cr_assert_eq(ipabs_breakeven_test(d, &s, IPABS_SUPPORT_FULL, r, &o, &err), IPABS_OK);
        cr_expect_eq(o, IPABS_SENIOR_WHOLE, "impaired at %g, below the BDR %g", r, b.bdr);
    }
    cr_assert_eq(ipabs_breakeven_test(d, &s, IPABS_SUPPORT_FULL, b.bdr + IPABS_BDR_TOLERANCE,
                                      &o, &err), IPABS_OK);
    cr_expect_eq(o, IPABS_SENIOR_IMPAIRED);
    ipabs_deal_free(d);
}

Test(breakeven, bdr_rises_with_recovery_and_with_support)
{
    ipabs_deal *d = reference();
    static const double multipliers[] = {0.0, 0.2, 0.5, 0.8, 1.0};
    d->rating.n_recovery_multipliers = 5;
    d->rating.recovery_multipliers = malloc(sizeof multipliers);
    memcpy(d->rating.recovery_multipliers, multipliers, sizeof multipliers);
    d->rating.n_recovery_delays = 1;
    d->rating.recovery_delays = calloc(1, sizeof(int));
    ipabs_breakeven_result *r = NULL;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_breakeven_run(d, &r, &err), IPABS_OK, "%s", err.message);
    cr_assert_eq(r->n_stresses, 15);
    for (int m = 0; m < IPABS_SUPPORT_COUNT_; m++)
        for (int timing = 0; timing < 3; timing++)
            for (int k = 1; k < 5; k++) {
                /* A larger multiplier is a smaller haircut 1 - multiplier. */
                const ipabs_bdr *lo = &r->rows[m * 15 + timing * 5 + k - 1];
                const ipabs_bdr *hi = &r->rows[m * 15 + timing * 5 + k];
                cr_expect_eq(hi->stress.recovery_multiplier, multipliers[k]);
                cr_expect(hi->bdr >= lo->bdr, "support %d timing %d: BDR %g at x%g < %g at x%g",
                          m, timing, hi->bdr, multipliers[k], lo->bdr, multipliers[k - 1]);
            }
    for (int i = 0; i < 15; i++) {
        cr_expect(r->rows[15 + i].bdr >= r->rows[i].bdr);
        cr_expect(r->rows[i].bdr > 0.05 && r->rows[i].bdr < 0.2, "stand-alone BDR %g",
                  r->rows[i].bdr);
        /* Scan steps up to the BDR (or to the maximum rate), then about
         * log2(0.005 / 0.0001) < 7 halvings. */
        const ipabs_bdr *b = &r->rows[i];
        double scanned = (b->impaired ? b->bdr : b->max_rate) / IPABS_BDR_SCAN_STEP;
        cr_expect_leq(b->evaluations, (int)scanned + 1 + 1 + 7);
    }
    cr_expect_leq(r->min_bdr[IPABS_SUPPORT_NONE], r->min_bdr[IPABS_SUPPORT_FULL]);
    ipabs_breakeven_free(r);
    ipabs_deal_free(d);
}

/* ---- the deal copy ------------------------------------------------------------ */

Test(breakeven, deal_copy_is_deep_and_checks_its_loan_map)
{
    ipabs_deal *d = reference();
    ipabs_deal *copy = NULL;
    ipabs_error err = {0};
    int from[3] = {9, 0, 9};
    cr_assert_eq(ipabs_deal_copy(d, from, 3, &copy, &err), IPABS_OK);
    char name[64];
    snprintf(name, sizeof name, "%s", d->tranches[0].name);
    ipabs_deal_free(d); /* the copy must not share anything with it */
    cr_assert_eq(copy->n_loans, 3);
    cr_expect_str_eq(copy->loans[0].id, "L10");
    cr_expect_str_eq(copy->loans[1].id, "L01");
    cr_expect_str_eq(copy->tranches[0].name, name);
    cr_expect_null(copy->loans[0].balance);
    cr_expect_null(copy->pool_interest);
    finalize(copy);
    cr_expect_float_eq(copy->pool_balance, 4500000.0 * 2 + 10000000.0, 1e-6);
    int bad[1] = {10};
    ipabs_deal *none = (ipabs_deal *)1;
    cr_expect_eq(ipabs_deal_copy(copy, bad, 1, &none, &err), IPABS_EINPUT);
    cr_expect_null(none);
    ipabs_deal_free(copy);
}
