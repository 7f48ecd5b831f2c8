/*
 * test_accounts.c — revenue and principal accounts, the principal
 * deficiency ledger, expected maturities (issue 9, items 1, 2 and 7), against
 * hand calculations.
 *
 * The golden deal G of test_waterfall.c (quarterly, 30/360, d(t) = 0.25):
 *   loan A 1,234,567 at 5.3%, level principal over 4 periods, fee 1.1%
 *   loan B   765,433 at 4.7%, bullet in period 4,             fee 0.9%
 *   bank agency 0.05%, servicing 0.10%, VAT 3.26% on interest income
 *   senior 1,800,000 at 3.15%, sub 200,000 with no coupon
 *   expenses: manager 0.1% on the senior balance, audit 12,000 a year
 * here with split accounts and the senior a bullet (due at its legal final
 * 5), so that principal receipts are held in the principal account.
 * Expected values are worked by hand (the arithmetic beside each); none
 * comes from running ipabs.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "fixture.h"
#include "ipabs/scenario.h"
#include "cashflow_util.h"
#include "ipabs/waterfall.h"

/* The golden deal with split accounts, its loans' terms still to be set
 * before finalize_deal (which copies them into the deal's tables). */
static ipabs_deal *split_deal(bool covers)
{
    ipabs_deal *d = fx_golden_deal();
    d->accounts = IPABS_ACCOUNTS_SPLIT;
    d->principal_covers_revenue = covers;
    d->tranches[0].amort = IPABS_TRANCHE_BULLET;
    return d;
}

static ipabs_deal *finalize_deal(ipabs_deal *d)
{
    ipabs_error err;
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK, "%s", err.message);
    return d;
}

static ipabs_deal *split_golden(bool covers)
{
    return finalize_deal(split_deal(covers));
}

/* B's interest net of the 0.15% fees: 765,433 x (4.7% - 0.15%) / 4. */
static const double B_NET = 8706.800375;
/* A's interest in period 2 on 925,925.25 at 5.3% / 4, and its exposure. */
static const double A_INTEREST_2 = 12268.5095625;
static const double EAD_A2 = 938193.7595625;
/* Of that interest, paid by the guarantor, the bank and servicer keep
 * 925,925.25 x 0.15% / 4 = 347.22196875 and VAT takes 3.26% of the rest,
 * 388.63397555625, as if A had paid it (test_waterfall.c). */
static const double A_FEES_2 = 347.22196875;
static const double A_TAX_2 = 388.63397555625;
/* Revenue items due in periods 2-4 on the bullet senior: VAT 3.26% of B's
 * net interest, manager 1,800,000 x 0.1% / 4 = 450, audit 3,000, senior
 * coupon 1,800,000 x 3.15% / 4 = 14,175. */
static double revenue_items(void)
{
    return 0.0326 * B_NET + 450.0 + 3000.0 + 14175.0;
}

/* A's net interest in period t on its opening balance, plus B's. */
static double net_interest(int t)
{
    return 1234567.0 * (1.0 - (t - 1) / 4.0) * (0.053 - 0.0015) / 4.0 + B_NET;
}

/* No default: A's principal is held and the senior bullet takes it at 4
 * (the plan's last inflow, so its principal falls due then); revenue left
 * after VAT (3.26%), expenses (3,450) and the coupon (14,175) goes to the
 * sub.  The bullet senior's coupon runs on 1,800,000 while A amortises:
 * from period 3 revenue falls short (negative carry), principal pays the
 * difference and the sub, paid last, loses the deficiency. */
Test(accounts, principal_is_held_until_due_and_revenue_goes_to_the_sub)
{
    ipabs_deal *d = split_golden(true);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    ipabs_cashflow *cf = run(d, r);
    double pdl = 0.0, held = 0.0;
    for (int t = 1; t <= 4; t++) {
        double left = net_interest(t) * (1.0 - 0.0326) - 3450.0 - 14175.0;
        NEAR(P(cf, t)->interest_collected, net_interest(t));
        NEAR(P(cf, t)->residual, t < 4 ? fmax(left, 0.0) : 0.0);
        NEAR(P(cf, t)->principal_to_revenue, fmax(-left, 0.0));
        pdl += fmax(-left, 0.0);
        NEAR(P(cf, t)->principal_deficiency, pdl);
        held += 308641.75 - fmax(-left, 0.0);
        if (t < 4)
            NEAR(P(cf, t)->principal_account, held);
    }
    /* 6,174.8301737 to the sub in period 1 (as test_waterfall's golden
     * deal); the deficiency from periods 3 and 4: 1,513.6047... + 5,357.84... */
    NEAR(P(cf, 1)->residual, 6174.8301737);
    cr_assert_eq(P(cf, 2)->principal_to_revenue, 0.0);
    cr_assert_gt(P(cf, 3)->principal_to_revenue, 1500.0);
    /* Period 4: 4 x 308,641.75 + 765,433 = 2,000,000 of principal, less the
     * deficiency, pays the senior 1,800,000 and the sub the rest. */
    NEAR(P(cf, 4)->principal_paid[0], 1800000.0);
    NEAR(P(cf, 4)->principal_paid[1], 200000.0 - pdl);
    NEAR(P(cf, 4)->principal_loss[1], pdl);
    NEAR(P(cf, 4)->principal_account, 0.0);
    for (int t = 1; t <= d->legal_final; t++) {
        cr_assert_eq(P(cf, t)->topup, 0.0);
        cr_assert_eq(P(cf, t)->principal_paid[0] > 0.0, t == 4);
        cr_assert_eq(P(cf, t)->principal_loss[0], 0.0);
    }
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* A defaults in period 2, the guarantor pays its exposure in 3 (lag 1),
 * no top-up.  Period 2: revenue is B's net interest only, 8,706.800375,
 * short of the revenue items by 17,908.8416922 - 8,706.800375 =
 * 9,202.0413172: principal pays it and the deficiency ledger records it.
 * Period 3: the payout's revenue share is A's interest, 12,268.5095625
 * (of an exposure of 938,193.7595625), less the bank's and servicer's
 * 347.22196875; revenue 20,628.08796875 less the items and the VAT on
 * A's interest, 388.63397555625, leaves 2,330.61230096875 that repays
 * the ledger.  Period 4 (the
 * last inflow): revenue short again by 9,202.0413172; the senior takes
 * 1,800,000 and the sub what is left, losing exactly the deficiency. */
Test(accounts, principal_covers_revenue_and_the_deficiency_is_repaid)
{
    ipabs_deal *d = split_golden(true);
    d->guarantor.topup = false;
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    r->default_period[0] = 2;
    ipabs_cashflow *cf = run(d, r);
    double items = revenue_items(), short2 = items - B_NET;
    NEAR(P(cf, 2)->interest_collected, B_NET);
    NEAR(P(cf, 2)->principal_to_revenue, short2);
    NEAR(P(cf, 2)->principal_deficiency, short2);
    NEAR(P(cf, 2)->principal_account, 308641.75 - short2);
    NEAR(P(cf, 2)->interest_paid[0], 14175.0);
    NEAR(P(cf, 2)->residual, 0.0);
    NEAR(P(cf, 3)->guarantee_payout, EAD_A2);
    double excess3 = B_NET + A_INTEREST_2 - A_FEES_2 - A_TAX_2 - items;
    NEAR(P(cf, 3)->revenue_to_principal, excess3);
    NEAR(P(cf, 3)->principal_deficiency, short2 - excess3);
    NEAR(P(cf, 3)->principal_account,
         308641.75 - short2 + (EAD_A2 - A_INTEREST_2) + excess3);
    double pdl4 = short2 - excess3 + short2;
    NEAR(P(cf, 4)->principal_deficiency, pdl4);
    NEAR(P(cf, 4)->principal_paid[0], 1800000.0);
    NEAR(P(cf, 4)->principal_paid[1], 200000.0 - pdl4);
    NEAR(P(cf, 4)->principal_loss[1], pdl4);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* The same default with principal_covers_revenue off: the principal
 * account is not touched; the senior's coupon is short by what revenue
 * lacks after VAT and expenses, and carried as arrears. */
Test(accounts, without_the_switch_revenue_shortfalls_stay_unpaid)
{
    ipabs_deal *d = split_golden(false);
    d->guarantor.topup = false;
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    r->default_period[0] = 2;
    ipabs_cashflow *cf = run(d, r);
    NEAR(P(cf, 2)->principal_to_revenue, 0.0);
    NEAR(P(cf, 2)->principal_account, 308641.75);
    NEAR(P(cf, 2)->interest_paid[0], B_NET - 0.0326 * B_NET - 3450.0);
    NEAR(P(cf, 2)->interest_due[0] - P(cf, 2)->interest_paid[0], revenue_items() - B_NET);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* The guarantor's top-up claim ranks above the sub in the principal
 * account too (issue 9, the sub's invariant).  Split accounts, principal
 * not covering revenue, the claim repaid after senior interest; A defaults
 * in 2 and is paid out in 3.  Period 2: revenue is B's net interest,
 * short of the revenue items by short2 = 17,908.8416922 - 8,706.800375 =
 * 9,202.0413172: topped up.  Period 3: the payout's interest 12,268.5095625,
 * net of the fees and VAT on it (735.85594430625), leaves excess3 =
 * 2,330.61230096875 of revenue, which repays that much of the claim.  Period 4 (the last inflow, so the plan's final period and every
 * principal account yuan free): revenue is short by short2 again and
 * topped up; the claim left, short2 - excess3, is repaid from principal
 * before the senior's 1,800,000, and this period's top-up, short2, before
 * the sub takes the rest.  Before the fix the sub took the period-4 top-up
 * (9,202.04) and the guarantor's claim was never repaid. */
Test(accounts, topup_claim_ranks_above_the_sub_in_the_principal_account)
{
    ipabs_deal *d = split_golden(false);
    d->guarantor.reimbursement = IPABS_REIMBURSE_AFTER_SENIOR_INTEREST;
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    r->default_period[0] = 2;
    ipabs_cashflow *cf = run(d, r);
    double items = revenue_items(), short2 = items - B_NET;
    double excess3 = B_NET + A_INTEREST_2 - A_FEES_2 - A_TAX_2 - items;
    NEAR(P(cf, 2)->topup, short2);
    NEAR(P(cf, 3)->guarantee_payout, EAD_A2);
    NEAR(P(cf, 3)->reimbursement, excess3);
    NEAR(P(cf, 3)->residual, 0.0);
    NEAR(P(cf, 4)->topup, short2);
    NEAR(P(cf, 4)->reimbursement, short2 - excess3 + short2);
    NEAR(P(cf, 4)->principal_paid[0], 1800000.0);
    NEAR(P(cf, 4)->principal_paid[1], 200000.0 - (2.0 * short2 - excess3));
    NEAR(P(cf, 4)->principal_loss[1], 2.0 * short2 - excess3);
    NEAR(P(cf, 4)->residual, 0.0);
    NEAR(cf->final_state->topup_claim, 0.0);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* A sale of IP whose proceeds can only be the guarantor's does not keep
 * the plan open.  As principal_covers_revenue_and_the_deficiency_is_repaid
 * below, but A's IP is sold in period 5 (recovery lag 3) for 60% of its
 * value, 740,740.20, pledged to the guarantor, which paid A's whole
 * exposure in 3.  Period 4 is still the plan's last (its last inflow): the
 * senior bullet is repaid there, and nothing is paid in 5, when the
 * proceeds go to the guarantor.  Before the fix the plan waited for the
 * sale: the senior was due only at its legal final 5 and a fifth coupon
 * (14,175) and the expenses (3,450) were paid from principal, at the sub's
 * cost. */
Test(accounts, proceeds_that_are_the_guarantors_do_not_keep_the_plan_open)
{
    ipabs_deal *d = split_deal(true);
    d->guarantor.topup = false;
    d->guarantor.ip_pledgee = IPABS_PLEDGEE_GUARANTOR;
    d->loans[0].recovery_lag = 3;
    finalize_deal(d);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    r->default_period[0] = 2;
    r->realisation[0] = 0.6;
    ipabs_cashflow *cf = run(d, r);
    double items = revenue_items(), short2 = items - B_NET;
    double excess3 = B_NET + A_INTEREST_2 - A_FEES_2 - A_TAX_2 - items;
    double pdl4 = short2 - excess3 + short2;
    NEAR(P(cf, 4)->principal_paid[0], 1800000.0);
    NEAR(P(cf, 4)->principal_paid[1], 200000.0 - pdl4);
    NEAR(P(cf, 4)->principal_loss[1], pdl4);
    NEAR(P(cf, 5)->recovery_guarantor, 1234567.0 * 0.6);
    NEAR(P(cf, 5)->recovery_plan, 0.0);
    NEAR(P(cf, 5)->expenses_paid, 0.0);
    NEAR(P(cf, 5)->interest_paid[0], 0.0);
    NEAR(P(cf, 5)->principal_paid[0] + P(cf, 5)->principal_paid[1] + P(cf, 5)->residual, 0.0);
    cr_assert(cf->final_state->ended);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* The principal account held over period 2 earns 2% a year for a quarter:
 * 308,641.75 x 2% x 0.25 = 1,543.20875, paid by the account bank as
 * revenue, which the sub receives. */
Test(accounts, reinvestment_income_is_revenue)
{
    ipabs_deal *d = split_golden(true);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    ipabs_cashflow *base = run(d, r);
    d->reinvestment_rate = 0.02;
    ipabs_cashflow *cf = run(d, r);
    NEAR(P(cf, 1)->reinvestment_income, 0.0);
    NEAR(P(cf, 2)->reinvestment_income, 1543.20875);
    NEAR(P(cf, 2)->residual - P(base, 2)->residual, 1543.20875);
    NEAR(P(cf, 3)->reinvestment_income, 2 * 1543.20875);
    bool found = false;
    for (size_t e = 0; e < cf->ledger->count; e++) {
        const ipabs_ledger_entry *x = &cf->ledger->entries[e];
        if (x->kind == IPABS_FLOW_REINVESTMENT && x->period == 2) {
            found = true;
            cr_assert_eq(x->payer.kind, IPABS_PARTY_BANK);
            cr_assert_eq(x->payee.kind, IPABS_PARTY_PLAN);
            NEAR(x->amount, 1543.20875);
        }
    }
    cr_assert(found, "no reinvestment_income row in period 2");
    ipabs_cashflow_free(base);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* ---- the A1/A2/A3 reference scenario --------------------------------------- */

static ipabs_deal *a123_with(const char *const *sets, int n)
{
    ipabs_deal *d = NULL;
    ipabs_errors errors = {0};
    ipabs_status s = ipabs_scenario_load(IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs-a123.yaml",
                                         sets, n, &d, &errors);
    cr_assert_eq(s, IPABS_OK, "%s", errors.count ? errors.items[0].message : "?");
    ipabs_errors_clear(&errors);
    return d;
}

/* No default: no top-up, nothing written off, each class repaid by its
 * expected maturity, and the sub paid only what is left after the seniors'
 * due amounts: in period 1, net interest x (1 - 3% VAT) less expenses
 * (68,400,000 x 0.12% / 4 = 20,520, plus 150,000 / 4 = 37,500) less the
 * coupons (17,000,000 x 2.6% / 4 = 110,500; 23,000,000 x 2.9% / 4 =
 * 166,750; 28,400,000 x 3.2% / 4 = 227,200). */
Test(accounts, a123_without_default_needs_no_topup)
{
    ipabs_deal *d = a123_with(NULL, 0);
    cr_assert_eq(d->n_senior, 3);
    cr_assert_eq(d->tranches[0].expected_maturity, 4);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    ipabs_cashflow *cf = run(d, r);
    double ic = P(cf, 1)->interest_collected;
    NEAR(P(cf, 1)->residual, ic * 0.97 - 58020.0 - (110500.0 + 166750.0 + 227200.0));
    const int maturity[] = {4, 8, 12};
    for (int k = 0; k < 3; k++) {
        double paid = 0.0;
        for (int t = 1; t <= maturity[k]; t++)
            paid += P(cf, t)->principal_paid[k];
        NEAR(paid, d->tranches[k].balance);
    }
    for (int t = 1; t <= d->legal_final; t++) {
        cr_assert_eq(P(cf, t)->topup, 0.0, "period %d", t);
        cr_assert_eq(P(cf, t)->principal_to_revenue, 0.0, "period %d", t);
        for (int k = 0; k < d->n_tranches; k++)
            cr_assert_eq(P(cf, t)->principal_loss[k], 0.0);
        /* The sub's principal only after the seniors. */
        if (P(cf, t)->principal_paid[3] > 0.0)
            cr_assert_eq(P(cf, t)->balance_close[2], 0.0, "period %d", t);
    }
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* Finding 1 of issue 9, first half: A1/A2/A3 as bullets.  With one
 * account, collections before a class is due leak to the sub and the
 * guarantor tops up the classes at their maturities though nothing
 * defaults (about 33.5M).  With split accounts, principal is held: A1
 * takes 17,000,000 in period 4 from the principal collected in 1-4, no
 * top-up.  The principal account after period 3 is the principal
 * collected so far. */
Test(accounts, finding1_bullets_hold_principal_instead_of_leaking_it)
{
    const char *sets[] = {"plan.tranches[0].amortisation=bullet",
                          "plan.tranches[1].amortisation=bullet",
                          "plan.tranches[2].amortisation=bullet", "plan.accounts=single"};
    ipabs_deal *single = a123_with(sets, 4);
    ipabs_deal *split = a123_with(sets, 3);
    ipabs_realisation *r = ipabs_realisation_alloc(single);
    ipabs_cashflow *a = run(single, r);
    ipabs_cashflow *b = run(split, r);
    double topup_single = 0.0, topup_split = 0.0, collected = 0.0;
    for (int t = 1; t <= single->legal_final; t++) {
        topup_single += P(a, t)->topup;
        topup_split += P(b, t)->topup;
        for (int k = 0; k < 3; k++)
            cr_assert_eq(P(b, t)->principal_loss[k], 0.0);
    }
    cr_assert_gt(topup_single, 33e6, "one account: the guarantor funds the bullets");
    cr_assert_eq(topup_split, 0.0);
    for (int t = 1; t <= 3; t++)
        collected += P(b, t)->principal_collected;
    NEAR(P(b, 3)->principal_account, collected);
    NEAR(P(b, 4)->principal_paid[0], 17000000.0);
    cr_assert_eq(P(b, 3)->principal_paid[0], 0.0);
    ipabs_cashflow_free(a);
    ipabs_cashflow_free(b);
    ipabs_realisation_free(r);
    ipabs_deal_free(single);
    ipabs_deal_free(split);
}

/* Finding 1, second half.  The IP pledged to the plan, the guarantor
 * failed in period 3, L06 (6,800,000 level over 8 at 4.1%, IP 16,000,000,
 * disposal cost 200,000, 4 periods to sell) defaults in period 5 with a
 * realisation of 0.3.  Its exposure is 3,400,000 x (1 + 4.1%/4) =
 * 3,434,850, below 0.3 x 16,000,000, so the plan recovers 3,234,850 in
 * period 9.  With A2's legal final at its expected maturity (8), A2's
 * shortfall is written off in period 8, before that recovery; with an
 * expected maturity of 8 and a legal final of 16, it stays due and is
 * paid in period 9. */
Test(accounts, finding1_shortfall_at_expected_maturity_is_not_written_off)
{
    const char *sets[] = {"guarantor.ip_pledgee=plan", "plan.tranches[0].legal_final=4",
                          "plan.tranches[1].legal_final=8", "plan.tranches[2].legal_final=12"};
    ipabs_deal *now = a123_with(sets, 1);
    ipabs_deal *old = a123_with(sets, 4);
    ipabs_realisation *r = ipabs_realisation_alloc(now);
    r->guarantor_default_period = 3;
    int l06 = ipabs_deal_find_loan(now, "L06");
    r->default_period[l06] = 5;
    r->realisation[l06] = 0.3;
    ipabs_cashflow *a = run(now, r);
    ipabs_cashflow *b = run(old, r);
    NEAR(P(a, 9)->recovery_plan, 3234850.0);
    double short8 = P(b, 8)->balance_open[1] - P(b, 8)->principal_paid[1];
    cr_assert_gt(short8, 0.0);
    NEAR(P(b, 8)->principal_loss[1], short8);
    double loss = 0.0;
    for (int t = 1; t <= now->legal_final; t++)
        loss += P(a, t)->principal_loss[1];
    cr_assert_eq(loss, 0.0, "A2 written off %.2f", loss);
    NEAR(P(a, 8)->balance_close[1], short8);
    NEAR(P(a, 9)->principal_paid[1], short8);
    ipabs_cashflow_free(a);
    ipabs_cashflow_free(b);
    ipabs_realisation_free(r);
    ipabs_deal_free(now);
    ipabs_deal_free(old);
}

/* One default just before A1's expected maturity, the guarantor alive:
 * L01 (10,000,000 level over 12) defaults in period 4, its payout comes
 * in 5.  In period 4 the top-up makes the funds exactly what is due,
 * A1's whole remaining balance included; the payout repays it in 5,
 * after senior principal and before the sub. */
Test(accounts, topup_covers_principal_due_at_expected_maturity)
{
    ipabs_deal *d = a123_with(NULL, 0);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    int l01 = ipabs_deal_find_loan(d, "L01");
    r->default_period[l01] = 4;
    ipabs_cashflow *cf = run(d, r);
    const ipabs_period_flows *f = P(cf, 4);
    double due = f->tax_paid + f->expenses_paid + f->interest_paid[0] +
                 f->interest_paid[1] + f->interest_paid[2] + f->balance_open[0];
    cr_assert_gt(f->topup, 0.0);
    NEAR(f->topup, due - f->available);
    NEAR(f->balance_close[0], 0.0);
    NEAR(f->residual, 0.0);
    /* Repaid after senior principal: the pass-through seniors take the
     * principal account until they are repaid, so revenue repays the
     * claim first, and the sub gets nothing until it is repaid. */
    cr_assert_gt(P(cf, 5)->reimbursement, 0.0);
    double topups = 0.0, back = 0.0;
    for (int t = 1; t <= d->legal_final; t++) {
        topups += P(cf, t)->topup;
        back += P(cf, t)->reimbursement;
        for (int k = 0; k < d->n_tranches; k++)
            cr_assert_eq(P(cf, t)->principal_loss[k], 0.0);
    }
    NEAR(back, topups);
    double claim = f->topup;
    for (int t = 5; t <= d->legal_final && claim > 1e-6; t++) {
        claim -= P(cf, t)->reimbursement;
        if (claim > 1e-6)
            cr_assert_eq(P(cf, t)->residual + P(cf, t)->principal_paid[3], 0.0,
                         "period %d: the sub paid before the top-up is repaid", t);
    }
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* Bad input: an expected maturity after the class's legal final. */
Test(accounts, expected_maturity_after_legal_final_is_refused)
{
    const char *sets[] = {"plan.tranches[0].expected_maturity=17"};
    ipabs_deal *d = NULL;
    ipabs_errors errors = {0};
    ipabs_status s = ipabs_scenario_load(IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs-a123.yaml",
                                         sets, 1, &d, &errors);
    cr_assert_eq(s, IPABS_EINPUT);
    cr_assert_geq(errors.count, 1);
    cr_assert(strstr(errors.items[0].message, "must be <= the tranche's legal_final (16) (got 17)") != NULL,
              "%s", errors.items[0].message);
    ipabs_errors_clear(&errors);
}
