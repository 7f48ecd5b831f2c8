/*
 * test_waterfall.c — the deterministic waterfall against hand calculations.
 *
 * Golden deal G (quarterly, 30/360, so d(t) = 0.25):
 *   loan A 1,234,567 at 5.3%, level principal over 4 periods, fee 1.1%
 *   loan B   765,433 at 4.7%, bullet in period 4,             fee 0.9%
 *   bank agency 0.05%, servicing 0.10%, VAT 3.26% on interest income
 *   senior 1,800,000 at 3.15% pass-through, legal final 5
 *   sub      200,000, no coupon, pass-through, legal final 6
 *   expenses: manager 0.1% on the senior balance, audit 12,000 a year
 *   guarantor: accelerated payout one period after default, top-up on
 *   recovery: 40% of an IP value equal to the principal, two periods late.
 * Expected values are worked period by period by hand (the arithmetic is
 * written out beside each); none comes from running ipabs.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "fixture.h"
#include "cashflow_util.h"
#include "ipabs/waterfall.h"

static ipabs_deal *golden(void)
{
    ipabs_deal *d = fx_golden_deal();
    ipabs_error err;
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK, "%s", err.message);
    return d;
}

/* Interest of B each period, net of the 0.15% fees: 765,433 x (4.7% - 0.15%) / 4 */
static const double B_NET_INTEREST = 8706.800375;
/* A's exposure when it defaults in period 2: 925,925.25 x (1 + 5.3%/4) */
static const double EAD_A2 = 938193.7595625;
/* Paid by the guarantor, A's period-2 interest 12,268.5095625 reaches the
 * plan as A's own would: the bank and servicer keep 925,925.25 x 0.15% / 4
 * = 347.22196875, and VAT is 3.26% of the 11,921.28759375 left,
 * 388.63397555625; together 735.85594430625 (issue 9: a default never
 * hands the fees and the tax to the sub). */
static const double A_FEES_2 = 347.22196875;
static const double A_TAX_2 = 388.63397555625;

Test(waterfall, schedules_of_golden_loans)
{
    ipabs_deal *d = golden();
    NEAR(d->accrual[1], 0.25);
    NEAR(d->loans[0].balance[2], 617283.5);
    NEAR(d->loans[0].interest[2], 925925.25 * 0.053 * 0.25);
    NEAR(d->loans[1].amortisation[4], 765433.0);
    NEAR(d->pool_interest[1], 1234567.0 * 0.053 / 4 + 765433.0 * 0.047 / 4);
    ipabs_deal_free(d);
}

Test(waterfall, no_default_pays_everyone_as_scheduled)
{
    ipabs_deal *d = golden();
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    ipabs_cashflow *cf = run(d, r);
    /* Period 1: interest 24,601.8505 net; tax 802.0203263; expenses
     * 450 + 3,000; senior coupon 1.8M x 3.15% / 4 = 14,175; principal
     * 308,641.75 passes through; the rest is residual. */
    NEAR(P(cf, 1)->interest_collected, 24601.8505);
    NEAR(P(cf, 1)->tax_paid, 802.0203263);
    NEAR(P(cf, 1)->expenses_paid, 3450.0);
    NEAR(P(cf, 1)->interest_paid[0], 14175.0);
    NEAR(P(cf, 1)->principal_paid[0], 308641.75);
    NEAR(P(cf, 1)->residual, 6174.8301737);
    NEAR(P(cf, 2)->interest_paid[0], 11744.44621875);
    NEAR(P(cf, 2)->residual, 4838.3265197187);
    NEAR(P(cf, 3)->residual, 3501.8228657375);
    /* Period 4: B's bullet repays the senior (874,074.75) and the sub. */
    NEAR(P(cf, 4)->principal_paid[0], 874074.75);
    NEAR(P(cf, 4)->principal_paid[1], 200000.0);
    NEAR(P(cf, 4)->residual, 2165.3192117561);
    for (int t = 1; t <= 6; t++) {
        cr_assert_eq(P(cf, t)->principal_loss[0], 0.0);
        cr_assert_eq(P(cf, t)->principal_loss[1], 0.0);
        cr_assert_eq(P(cf, t)->topup, 0.0);
    }
    cr_assert_eq(cf->final_state->tranche_balance[0], 0.0);
    cr_assert_eq(cf->final_state->tranche_balance[1], 0.0);
    /* Nothing outstanding after period 4: no more expenses accrue. */
    cr_assert_eq(P(cf, 5)->expenses_paid, 0.0);
    cr_assert_eq(cf->final_state->expense_arrears[1], 0.0);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

Test(waterfall, default_with_guarantor_alive_leaves_senior_whole)
{
    ipabs_deal *d = golden();
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    r->default_period[0] = 2;
    ipabs_cashflow *cf = run(d, r);
    /* Period 2: only B pays; due = tax 283.8416922 + expenses 3,372.8395625
     * + coupon 11,744.44621875 = 15,401.12747...; the guarantor tops up
     * the difference from 8,706.800375. */
    NEAR(P(cf, 2)->interest_collected, B_NET_INTEREST);
    NEAR(P(cf, 2)->topup, 6694.327098475);
    NEAR(P(cf, 2)->interest_paid[0], 11744.44621875);
    /* Period 3: the accelerated payout of the whole EAD; the principal
     * amount written down at default (925,925.25) goes to the senior. */
    NEAR(P(cf, 3)->guarantee_payout, EAD_A2);
    NEAR(P(cf, 3)->principal_paid[0], 925925.25);
    /* Period 3 also repays the period-2 top-up, after senior principal:
     * 946,900.5599375 - fees on A's interest 347.22196875 - tax
     * (283.8416922 + 388.63397555625) - 3,372.8395625 - 11,744.44621875
     * - 925,925.25 = 4,838.32651974375 goes to the guarantor, not to the
     * sub (the residual of period 2 had A performed); 1,856.00057873125 of
     * its claim is left. */
    NEAR(P(cf, 3)->payout_fees, A_FEES_2);
    NEAR(P(cf, 3)->tax_paid, 283.8416922 + A_TAX_2);
    NEAR(P(cf, 3)->reimbursement, 4838.32651974375);
    cr_assert_eq(P(cf, 3)->residual, 0.0);
    /* Period 4: the guarantor, pledgee and payer of all of the EAD, takes
     * all of the recovery min(EAD, 40% x 1,234,567) = 493,826.8 (kind
     * pledge_proceeds).  B pays 8,706.800375 + 765,433; tax 283.8416922,
     * expenses 565,433 x 0.1% / 4 + 3,000 = 3,141.35825, coupon
     * 565,433 x 3.15% / 4 = 4,452.784875, senior principal 565,433, the
     * rest of the claim 1,856.00057873125, and the sub gets what is left,
     * 200,828.8155578 - 1,856.00057873125 = 198,972.81497907 of its
     * 200,000: period 4 is the plan's last (no more cash can come), so the
     * sub loses 1,027.18502093. The sub bears the interest the guarantor
     * carried during the payout lag, and the fees and tax on A's
     * period-2 interest, as it would had A performed. */
    NEAR(P(cf, 4)->recovery_guarantor, 493826.8);
    NEAR(P(cf, 4)->recovery_plan, 0.0);
    NEAR(P(cf, 4)->reimbursement, 6694.327098475 - 4838.32651974375);
    NEAR(P(cf, 4)->principal_paid[1], 200828.8155578 - 1856.00057873125);
    NEAR(P(cf, 4)->principal_loss[1], 200000.0 - 200828.8155578 + 1856.00057873125);
    NEAR(cf->final_state->topup_claim, 0.0);
    double paid = 0.0;
    for (int t = 1; t <= 6; t++) {
        cr_assert_eq(P(cf, t)->principal_loss[0], 0.0);
        paid += P(cf, t)->principal_paid[0];
    }
    NEAR(paid, 1800000.0);
    NEAR(cf->final_state->guarantor_paid_total, EAD_A2 + 6694.327098475);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

Test(waterfall, guarantor_failed_senior_takes_hand_computed_loss)
{
    ipabs_deal *d = golden();
    d->guarantor.ip_pledgee = IPABS_PLEDGEE_PLAN; /* subrogation, no pledge */
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    r->guarantor_default_period = 1;
    r->default_period[0] = 2;
    r->default_period[1] = 3;
    ipabs_cashflow *cf = run(d, r);
    /* No support at all.  Period 2 pays 5,050.1191202750 of a 11,744.446
     * coupon (arrears 6,694.327); period 3 has no cash; period 4 the plan
     * keeps A's recovery 493,826.8 and pays the arrears, then 456,897.90
     * of principal; period 5 B's recovery min(778,426.84, 306,173.2)
     * leaves a loss of 739,692.1389938454 at the senior legal final. */
    NEAR(P(cf, 2)->interest_paid[0], 5050.119120275);
    cr_assert_eq(P(cf, 3)->interest_paid[0], 0.0);
    NEAR(P(cf, 4)->recovery_plan, 493826.8);
    NEAR(P(cf, 4)->interest_paid[0], 30183.2195359750);
    NEAR(P(cf, 4)->principal_paid[0], 456897.9013390250);
    NEAR(P(cf, 5)->recovery_plan, 306173.2);
    NEAR(P(cf, 5)->principal_paid[0], 294768.2096671296);
    NEAR(P(cf, 5)->principal_loss[0], 739692.1389938454);
    /* Nothing can come in after period 5 (B's recovery was the last cash),
     * so the plan ends there: the sub is written off in period 5, not at
     * its legal final 6, and no expense accrues in period 6. */
    NEAR(P(cf, 5)->principal_loss[1], 200000.0);
    cr_assert_eq(P(cf, 6)->expenses_paid, 0.0);
    cr_assert_eq(cf->final_state->expense_arrears[1], 0.0);
    /* What the guarantor would have owed is recorded as owed but unpaid:
     * the period-2 top-up; in period 3 A's EAD plus the new shortfall
     * (expenses 3,372.8395625 + coupon 11,744.44621875; the arrears of
     * 6,694.327098475 were claimed in period 2 and are not claimed again);
     * B's EAD 765,433 x (1 + 4.7%/4) in period 4. */
    NEAR(P(cf, 2)->guarantor_owed_unpaid, 6694.327098475);
    NEAR(P(cf, 3)->guarantor_owed_unpaid, EAD_A2 + 3372.8395625 + 11744.44621875);
    NEAR(P(cf, 4)->guarantor_owed_unpaid, 774426.83775);
    for (int t = 1; t <= 6; t++) {
        cr_assert_eq(P(cf, t)->topup, 0.0);
        cr_assert_eq(P(cf, t)->guarantee_payout, 0.0);
    }
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

Test(waterfall, capacity_exhausted_midway_and_recovery_split)
{
    ipabs_deal *d = golden();
    d->guarantor.ip_pledgee = IPABS_PLEDGEE_PLAN; /* subrogation, no pledge */
    d->guarantor.capacity = 500000.0;
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    r->default_period[0] = 2;
    ipabs_cashflow *cf = run(d, r);
    /* Top-up 6,694.327098475 in period 2 leaves 493,305.672901525 of
     * capacity for the 938,193.76 payout in period 3. */
    NEAR(P(cf, 2)->topup, 6694.327098475);
    cr_assert(!P(cf, 2)->capacity_exhausted);
    NEAR(P(cf, 3)->guarantee_payout, 500000.0 - 6694.327098475);
    cr_assert(P(cf, 3)->capacity_exhausted);
    NEAR(cf->final_state->guarantor_paid_total, 500000.0);
    /* Recovery 493,826.8 split by the share of the EAD the guarantor paid:
     * 493,305.6729 / 938,193.7596. */
    NEAR(P(cf, 4)->recovery_guarantor, 259655.9179677408);
    NEAR(P(cf, 4)->recovery_plan, 234170.8820322593);
    for (int t = 4; t <= 6; t++)
        cr_assert_eq(P(cf, t)->topup, 0.0, "no capacity left for a top-up");
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* The period-2 top-up 6,694.327098475 of the test above, repaid at each
 * position.  Period 3 leaves 4,838.32651974375 after senior principal and
 * period 4 leaves 200,828.8155578 (see above).
 *   after_senior_principal: 4,838.33 in period 3, 1,856.00057873125 in 4,
 *     ahead of the sub, which gets 198,972.81497907 and loses 1,027.19;
 *   before_residual: in period 3 the seniors are outstanding, so the sub
 *     takes nothing and the 4,838.33 repays the guarantor; in period 4 the
 *     sub's principal, 200,000, comes first and the guarantor gets the
 *     828.8155578 left: 1,027.18502093 of its claim is never repaid;
 *   none: the sub takes 4,838.33 of residual in period 3, its 200,000 and
 *     828.8155578 of residual in period 4. */
Test(waterfall, topup_reimbursement_positions)
{
    const double left3 = 4838.32651974375, left4 = 200828.8155578;
    const double claim = 6694.327098475;
    for (int at = 0; at < 3; at++) {
        ipabs_deal *d = fx_golden_deal();
        d->guarantor.reimbursement = at == 0 ? IPABS_REIMBURSE_AFTER_SENIOR_PRINCIPAL
                                   : at == 1 ? IPABS_REIMBURSE_BEFORE_RESIDUAL
                                             : IPABS_REIMBURSE_NONE;
        ipabs_error err;
        cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK);
        ipabs_realisation *r = ipabs_realisation_alloc(d);
        r->default_period[0] = 2;
        ipabs_cashflow *cf = run(d, r);
        NEAR(P(cf, 2)->topup, claim);
        NEAR(P(cf, 3)->reimbursement, at == 2 ? 0.0 : left3);
        NEAR(P(cf, 3)->residual, at == 2 ? left3 : 0.0);
        if (at == 0) {
            NEAR(P(cf, 4)->reimbursement, claim - left3);
            NEAR(P(cf, 4)->principal_paid[1], left4 - (claim - left3));
            NEAR(cf->final_state->topup_claim, 0.0);
        } else if (at == 1) {
            NEAR(P(cf, 4)->principal_paid[1], 200000.0);
            NEAR(P(cf, 4)->reimbursement, left4 - 200000.0);
            NEAR(cf->final_state->topup_claim, claim - left3 - (left4 - 200000.0));
        } else {
            NEAR(P(cf, 4)->principal_paid[1], 200000.0);
            NEAR(P(cf, 4)->residual, left4 - 200000.0);
            cr_assert_eq(P(cf, 4)->reimbursement, 0.0);
        }
        ipabs_cashflow_free(cf);
        ipabs_realisation_free(r);
        ipabs_deal_free(d);
    }
}

/* Expenses run until the plan is settled, not only while securities are
 * outstanding (issue 9: the sub's invariant).  The golden deal with a
 * senior of 1,000,000 and a sub of 150,000: A's 1,234,567 repays both by
 * period 4, when B (765,433, bullet) defaults; the guarantor pays its
 * exposure 765,433 x (1 + 4.7%/4) = 774,426.83775 two periods later, in 6.
 * The plan waits for it: period 5 accrues the audit fee, 12,000 / 4 =
 * 3,000, with no cash to pay it; period 6 receives the payout, the bank
 * and servicer keep 765,433 x 0.15% / 4 = 287.037375 of its interest, VAT
 * is 3.26% of the 8,706.800375 left, 283.8416922, the two audit fees
 * 6,000 are paid, and the residual holder gets 767,855.9586828.  Before,
 * the fees stopped with the last security and the sub took all 774,426.84:
 * a default that repaid the classes sooner spared the sub the plan's fees. */
Test(waterfall, expenses_run_until_the_plan_is_settled)
{
    ipabs_deal *d = fx_golden_deal();
    d->tranches[0].balance = 1000000.0;
    d->tranches[1].balance = 150000.0;
    d->guarantor.payout_lag = 2;
    ipabs_error err;
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK, "%s", err.message);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    r->default_period[1] = 4;
    r->realisation[1] = 0.0;
    ipabs_cashflow *cf = run(d, r);
    NEAR(P(cf, 4)->balance_close[0] + P(cf, 4)->balance_close[1], 0.0);
    NEAR(P(cf, 5)->expenses_paid, 0.0);
    NEAR(P(cf, 6)->guarantee_payout, 774426.83775);
    NEAR(P(cf, 6)->payout_fees, 287.037375);
    NEAR(P(cf, 6)->tax_paid, 283.8416922);
    NEAR(P(cf, 6)->expenses_paid, 6000.0);
    NEAR(P(cf, 6)->residual, 767855.9586828);
    NEAR(cf->final_state->expense_arrears[1], 0.0);
    cr_assert(cf->final_state->settled);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* ---- who holds the IP pledge (issue 9, finding 3) ------------------------- */

/* Guarantor alive, payout three periods after default, IP sold two periods
 * after it: the disposal (period 4) comes before the payout (period 5). */
Test(waterfall, pledge_to_guarantor_alive_it_keeps_proceeds_and_pays_whole_ead)
{
    for (int pledgee = 0; pledgee < 2; pledgee++) {
        ipabs_deal *d = fx_golden_deal();
        d->guarantor.payout_lag = 3;
        d->guarantor.ip_pledgee = pledgee ? IPABS_PLEDGEE_PLAN : IPABS_PLEDGEE_GUARANTOR;
        ipabs_error err;
        cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK);
        ipabs_realisation *r = ipabs_realisation_alloc(d);
        r->default_period[0] = 2;
        ipabs_cashflow *cf = run(d, r);
        /* Proceeds min(938,193.76, 40% x 1,234,567) = 493,826.8. */
        if (pledgee == 0) {
            /* The pledgee takes them; it then owes the plan the whole EAD. */
            NEAR(P(cf, 4)->recovery_guarantor, 493826.8);
            NEAR(P(cf, 4)->recovery_plan, 0.0);
            NEAR(P(cf, 5)->guarantee_payout, EAD_A2);
        } else {
            /* The plan takes them and the payout is the EAD less them:
             * 938,193.7595625 - 493,826.8 = 444,366.9595625. */
            NEAR(P(cf, 4)->recovery_plan, 493826.8);
            NEAR(P(cf, 4)->recovery_guarantor, 0.0);
            NEAR(P(cf, 5)->guarantee_payout, 444366.9595625);
        }
        /* Either way the guarantor's net cost is the same credit loss,
         * EAD - proceeds, once its top-ups are repaid. */
        double payouts = 0.0, topups = 0.0, back = 0.0, recovered = 0.0;
        for (int t = 1; t <= 6; t++) {
            payouts += P(cf, t)->guarantee_payout;
            topups += P(cf, t)->topup;
            back += P(cf, t)->reimbursement;
            recovered += P(cf, t)->recovery_guarantor;
            cr_assert_eq(P(cf, t)->principal_loss[0], 0.0);
        }
        NEAR(payouts - recovered, 444366.9595625);
        NEAR(topups, back);
        ipabs_cashflow_free(cf);
        ipabs_realisation_free(r);
        ipabs_deal_free(d);
    }
}

/* Guarantor failed in period 1, A defaults in 2 and B in 3, nothing from
 * the estate.  Pledged to the guarantor, A's proceeds (period 4) go to its
 * estate and the plan has no cash after period 2: B's payout date (4) is
 * the last date cash could come, so the plan ends in period 4 and the
 * senior loses its whole balance after period 1, 1,800,000 - 308,641.75.
 * (Pledged to the plan, the senior loses 739,692.14: test above.) */
Test(waterfall, pledge_to_failed_guarantor_proceeds_go_to_its_estate)
{
    ipabs_deal *d = golden();
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    r->guarantor_default_period = 1;
    r->default_period[0] = 2;
    r->default_period[1] = 3;
    ipabs_cashflow *cf = run(d, r);
    NEAR(P(cf, 2)->interest_paid[0], 5050.119120275);
    NEAR(P(cf, 4)->recovery_estate, 493826.8);
    NEAR(P(cf, 4)->recovery_plan, 0.0);
    NEAR(P(cf, 4)->recovery_guarantor, 0.0);
    for (int t = 2; t <= 4; t++)
        cr_assert_eq(P(cf, t)->principal_paid[0], 0.0);
    NEAR(P(cf, 4)->principal_loss[0], 1491358.25);
    NEAR(P(cf, 4)->principal_loss[1], 200000.0);
    cr_assert(cf->final_state->ended);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* The same, with an estate dividend of 30% three periods after the
 * failure.  The claims lodged by period 4 are the period-2 top-up
 * 6,694.327098475, A's EAD 938,193.7595625 and the period-3 shortfall
 * 3,372.8395625 + 11,744.44621875 (period 3), B's EAD 765,433 x
 * (1 + 4.7%/4) = 774,426.83775 (period 4, step 4, before the estate pays):
 * 1,734,432.210192225; the dividend is 30% of it, 520,329.6630576675.
 * Pledged to the guarantor that is all the plan has in period 4.  Pledged
 * to the plan, A's proceeds 493,826.8 are split: the estate, which owes a
 * 30% dividend on A's whole EAD (claimed in period 3, before the sale), is
 * subrogated for 30% of them (148,148.04); the plan keeps 70%,
 * 345,678.76, so that it never recovers more than its claim on A. */
Test(waterfall, pledge_to_failed_guarantor_plan_gets_only_the_dividend)
{
    for (int pledgee = 0; pledgee < 2; pledgee++) {
        ipabs_deal *d = fx_golden_deal();
        d->guarantor.recovery_rate = 0.3;
        d->guarantor.recovery_lag = 3;
        d->guarantor.ip_pledgee = pledgee ? IPABS_PLEDGEE_PLAN : IPABS_PLEDGEE_GUARANTOR;
        ipabs_error err;
        cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK);
        ipabs_realisation *r = ipabs_realisation_alloc(d);
        r->guarantor_default_period = 1;
        r->default_period[0] = 2;
        r->default_period[1] = 3;
        ipabs_cashflow *cf = run(d, r);
        NEAR(P(cf, 4)->estate_recovery, 520329.6630576675);
        NEAR(P(cf, 4)->available, 520329.6630576675 + (pledgee ? 345678.76 : 0.0));
        NEAR(P(cf, 4)->recovery_estate, pledgee ? 148148.04 : 493826.8);
        ipabs_cashflow_free(cf);
        ipabs_realisation_free(r);
        ipabs_deal_free(d);
    }
}

/* ---- the clean-up call (issue 9, item 6) ------------------------------------- */

/* Call at 60% of the pool.  After period 2 the pool is 617,283.5 +
 * 765,433 = 1,382,716.5 (69.1%); after period 3's collections 308,641.75
 * + 765,433 = 1,074,074.75 (53.7%): the originator buys both loans back
 * at par in period 3.  Period 3: net interest 617,283.5 x 5.3% / 4 +
 * 765,433 x 4.7% / 4 - 1,382,716.5 x 0.15% / 4 = 16,654.3254375; funds
 * 16,654.3254375 + 308,641.75 + 1,074,074.75 = 1,399,370.8254375.  No
 * cash can come after it, so it is the plan's last period and everything
 * is due: tax 542.9310092625, expenses 1,182,716.5 x 0.1% / 4 + 3,000 =
 * 3,295.679125, coupon 1,182,716.5 x 3.15% / 4 = 9,313.8924375, the
 * senior's 1,182,716.5, the sub's 200,000, and the residual
 * 3,501.8228657376 (the no-default path's period-3 residual: the call
 * adds principal only). */
Test(waterfall, cleanup_call_buys_the_pool_back_at_par)
{
    ipabs_deal *d = fx_golden_deal();
    d->cleanup_call = 0.6;
    ipabs_error err;
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    r->default_period[1] = 4; /* B would default after the call: not the plan's */
    ipabs_cashflow *cf = run(d, r);
    cr_assert_eq(P(cf, 2)->cleanup_price, 0.0);
    NEAR(P(cf, 3)->cleanup_price, 1074074.75);
    NEAR(P(cf, 3)->interest_collected, 16654.3254375);
    NEAR(P(cf, 3)->tax_paid, 542.9310092625);
    NEAR(P(cf, 3)->expenses_paid, 3295.679125);
    NEAR(P(cf, 3)->interest_paid[0], 9313.8924375);
    NEAR(P(cf, 3)->principal_paid[0], 1182716.5);
    NEAR(P(cf, 3)->principal_paid[1], 200000.0);
    NEAR(P(cf, 3)->residual, 3501.8228657376);
    cr_assert_eq(cf->final_state->called, 3);
    cr_assert(cf->final_state->ended);
    cr_assert_eq(P(cf, 4)->new_defaults, 0);
    cr_assert_eq(P(cf, 4)->interest_collected + P(cf, 4)->principal_collected, 0.0);
    cr_assert_eq(cf->final_state->tranche_balance[0], 0.0);
    /* The ledger names the originator as payer, loan by loan. */
    double bought = 0.0;
    for (size_t e = 0; e < cf->ledger->count; e++)
        if (cf->ledger->entries[e].kind == IPABS_FLOW_CLEANUP_CALL) {
            cr_assert_eq(cf->ledger->entries[e].payer.kind, IPABS_PARTY_LENDER);
            bought += cf->ledger->entries[e].amount;
        }
    NEAR(bought, 1074074.75);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

Test(waterfall, cumulative_default_trigger_turns_on_turbo)
{
    ipabs_deal *d = golden();
    d->triggers.cdr_threshold = 0.30;
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    r->default_period[0] = 2;
    ipabs_cashflow *cf = run(d, r);
    cr_assert(!P(cf, 1)->accelerated);
    /* 925,925.25 / 2,000,000 = 46.3% > 30%. */
    NEAR(P(cf, 2)->cum_default_ratio, 0.462962625);
    cr_assert(P(cf, 2)->accelerated);
    /* Period 3: payout + B's interest 946,900.5599375, less the fees on
     * A's interest, tax, expenses and coupon, all to the senior:
     * 931,499.432464025 - 735.85594430625 = 930,763.57651971875, no
     * residual (pass-through alone would have paid 925,925.25 and
     * 4,838.33 out). */
    NEAR(P(cf, 3)->principal_paid[0], 931499.432464025 - A_FEES_2 - A_TAX_2);
    cr_assert_eq(P(cf, 3)->residual, 0.0);
    cr_assert(P(cf, 6)->accelerated, "an event is permanent");
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

Test(waterfall, guarantor_default_trigger)
{
    ipabs_deal *d = golden();
    d->triggers.on_guarantor_default = true;
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    r->guarantor_default_period = 3;
    ipabs_cashflow *cf = run(d, r);
    cr_assert(!P(cf, 2)->accelerated);
    cr_assert(P(cf, 3)->accelerated);
    /* Period 3 in turbo: everything after tax, expenses and coupon repays
     * the senior; nothing reaches the sub holder. */
    cr_assert_eq(P(cf, 3)->residual, 0.0);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

Test(waterfall, senior_interest_shortfall_trigger_fires_next_period)
{
    ipabs_deal *d = golden();
    d->triggers.on_senior_interest_shortfall = true;
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    r->guarantor_default_period = 1;
    r->default_period[0] = 2;
    ipabs_cashflow *cf = run(d, r);
    /* Period 2 is short of senior interest (case above); turbo from 3. */
    cr_assert(!P(cf, 2)->accelerated);
    cr_assert(P(cf, 3)->accelerated);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

Test(waterfall, scheduled_payout_and_recovery_prepays_schedule)
{
    ipabs_deal *d = golden();
    d->guarantor.ip_pledgee = IPABS_PLEDGEE_PLAN; /* subrogation, no pledge */
    d->guarantor.payout_style = IPABS_PAYOUT_SCHEDULED;
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    r->default_period[0] = 2;
    ipabs_cashflow *cf = run(d, r);
    /* The guarantor pays A's schedule: period 2: 925,925.25 x 5.3%/4 +
     * 308,641.75; period 3: 617,283.5 x 5.3%/4 + 308,641.75. */
    double p2 = 320910.2595625, p3 = 316820.756375;
    NEAR(P(cf, 2)->guarantee_payout, p2);
    NEAR(P(cf, 3)->guarantee_payout, p3);
    /* Period 4: the recovery 493,826.8 is split by what the guarantor has
     * paid, (p2 + p3) / EAD; the plan's share prepays the 308,641.75 still
     * scheduled, and the guarantor pays the rest of the schedule. */
    double share = (p2 + p3) / EAD_A2;
    double to_plan = 493826.8 * (1.0 - share);
    NEAR(P(cf, 4)->recovery_guarantor, 493826.8 * share);
    NEAR(P(cf, 4)->recovery_plan, to_plan);
    double scale = 1.0 - to_plan / 308641.75;
    NEAR(P(cf, 4)->guarantee_payout, scale * (308641.75 * 0.053 * 0.25 + 308641.75));
    for (int t = 1; t <= 6; t++)
        cr_assert_eq(P(cf, t)->principal_loss[0], 0.0);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

Test(waterfall, ledger_rows_balance_every_party)
{
    ipabs_deal *d = golden();
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    r->default_period[0] = 2;
    r->guarantor_default_period = 4;
    ipabs_cashflow *cf = run(d, r);
    /* Every row has a payer and a payee, so the sum over all parties of
     * their net cash is zero in each period. */
    for (int t = 1; t <= 6; t++) {
        double total = 0.0;
        for (int kind = 0; kind < IPABS_PARTY_COUNT_; kind++) {
            int n = kind == IPABS_PARTY_LOAN ? d->n_loans
                  : kind == IPABS_PARTY_TRANCHE ? d->n_tranches
                  : kind == IPABS_PARTY_EXPENSE ? d->n_expenses : 1;
            for (int i = 0; i < n; i++) {
                int index = n == 1 && kind != IPABS_PARTY_LOAN &&
                                    kind != IPABS_PARTY_TRANCHE &&
                                    kind != IPABS_PARTY_EXPENSE ? -1 : i;
                total += ipabs_ledger_net(cf->ledger, t,
                                          (ipabs_party){(ipabs_party_kind)kind, index});
            }
        }
        cr_assert(fabs(total) < 1e-6, "period %d nets to %.9f", t, total);
    }
    /* The obligor A paid the plan interest net of fees in period 1. */
    double a1 = ipabs_ledger_net(cf->ledger, 1, (ipabs_party){IPABS_PARTY_LOAN, 0});
    NEAR(-a1, 1234567.0 * 0.053 / 4 + 308641.75 + 1234567.0 * 0.011 / 4);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* ---- regressions on the reference deal ------------------------------------- */

#include "ipabs/scenario.h"

static ipabs_deal *reference_with(const char *const *sets, int n)
{
    ipabs_deal *d = NULL;
    ipabs_errors errors = {0};
    cr_assert_eq(ipabs_scenario_load(IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs.yaml",
                                     sets, n, &d, &errors), IPABS_OK);
    ipabs_errors_clear(&errors);
    return d;
}

/* A top-up that covers the coupon exactly leaves no rounding dust as
 * arrears: the senior-interest-shortfall trigger must not fire. */
Test(waterfall, exact_topup_leaves_no_arrears_to_trip_a_trigger)
{
    const char *sets[] = {"plan.triggers.cumulative_default_ratio=1"};
    ipabs_deal *d = reference_with(sets, 1);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    for (int i = 0; i < 8; i++)
        r->default_period[i] = 2;
    ipabs_cashflow *cf = run(d, r);
    for (int t = 1; t <= d->legal_final; t++) {
        cr_assert(!P(cf, t)->accelerated, "period %d accelerated", t);
        cr_assert_eq(P(cf, t)->principal_loss[0], 0.0);
    }
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* A failed guarantor's estate pays recovery_rate of every claim; the plan
 * stays open while dividends can still come, so none is lost. */
Test(waterfall, estate_dividends_on_every_claim_reach_the_plan)
{
    const char *sets[] = {"guarantor.recovery_rate=0.4", "guarantor.recovery_lag=2"};
    ipabs_deal *d = reference_with(sets, 2);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    r->guarantor_default_period = 2;
    for (int i = 0; i < 4; i++) {
        r->default_period[i] = 3;
        r->realisation[i] = 0.0;
    }
    ipabs_cashflow *cf = run(d, r);
    double owed = 0.0, dividends = 0.0;
    for (int t = 1; t <= d->legal_final; t++) {
        owed += P(cf, t)->guarantor_owed_unpaid;
        dividends += P(cf, t)->estate_recovery;
    }
    cr_assert_gt(owed, 0.0);
    NEAR(dividends, 0.4 * owed);
    cr_assert_eq(cf->final_state->estate_claim, 0.0, "every claim settled");
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* Finding 2 of issue 9: on the reference deal, L02 (9,500,000 at 4.2%,
 * bullet in 12, IP 19,000,000, disposal cost 300,000, 6 periods to sell)
 * defaults in its last period and the guarantor pays 6 periods later.  It
 * tops up the senior's coupon and, at the senior's legal final (16), its
 * principal; it used to pay those top-ups for nothing and the sub took a
 * windfall.  Now, in period 18, the payout 9,500,000 x (1 + 4.2%/4) =
 * 9,599,750 (the whole EAD: the guarantor, pledgee, took the proceeds
 * min(EAD, 0.25 x 19,000,000) - 300,000 = 4,450,000) pays two quarters of
 * fixed expenses (150,000 / 2 = 75,000), then repays every top-up, and the
 * sub gets the rest. */
Test(waterfall, finding2_topups_are_repaid_before_the_sub)
{
    const char *sets[] = {"guarantor.payout_lag=6"};
    ipabs_deal *d = reference_with(sets, 1);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    int l02 = ipabs_deal_find_loan(d, "L02");
    r->default_period[l02] = 12;
    r->realisation[l02] = 0.25;
    ipabs_cashflow *cf = run(d, r);
    ipabs_realisation *none = ipabs_realisation_alloc(d);
    ipabs_cashflow *base = run(d, none);
    double topups = 0.0, back = 0.0, payouts = 0.0, recovered = 0.0;
    double sub = 0.0, sub_base = 0.0;
    for (int t = 1; t <= d->legal_final; t++) {
        topups += P(cf, t)->topup;
        back += P(cf, t)->reimbursement;
        payouts += P(cf, t)->guarantee_payout;
        recovered += P(cf, t)->recovery_guarantor;
        sub += P(cf, t)->principal_paid[1] + P(cf, t)->residual;
        sub_base += P(base, t)->principal_paid[1] + P(base, t)->residual;
        cr_assert_eq(P(cf, t)->principal_loss[0], 0.0);
    }
    cr_assert_gt(topups, 6e6, "the senior's principal at its legal final is topped up");
    NEAR(P(cf, 18)->guarantee_payout, 9599750.0);
    NEAR(P(cf, 18)->recovery_guarantor, 4450000.0);
    NEAR(P(cf, 18)->reimbursement, topups);
    NEAR(back, topups);
    /* L02's period-12 interest 99,750 comes with the payout: the bank and
     * servicer keep 9,500,000 x 0.15% / 4 = 3,562.5, VAT is 3% of the
     * 96,187.5 left, 2,885.625. */
    NEAR(P(cf, 18)->payout_fees, 3562.5);
    NEAR(P(cf, 18)->principal_paid[1], 9599750.0 - 75000.0 - 3562.5 - 2885.625 - topups);
    cr_assert_eq(P(cf, 18)->residual, 0.0);
    /* The guarantor's net outlay is the credit loss, EAD - proceeds. */
    NEAR(payouts + topups - back - recovered, 9599750.0 - 4450000.0);
    /* A default never makes the sub better off. */
    cr_assert_lt(sub, sub_base, "sub %.2f with the default, %.2f without", sub, sub_base);
    ipabs_cashflow_free(base);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(none);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* Pools of billions: the pool totals less the defaulted loans' shares
 * round beyond 1e-6 yuan; the identities hold to 1e-12 of the amounts. */
Test(waterfall, conservation_holds_for_a_pool_of_billions)
{
    enum { N = 1000 };
    ipabs_deal *d = fx_deal(14, N, 2, 1);
    double pool = 0.0;
    char id[16];
    for (int i = 0; i < N; i++) {
        double principal = 7300000.0 + 12345.67 * (i % 97) + 0.37 * i;
        snprintf(id, sizeof id, "L%04d", i);
        fx_loan(d, i, id, principal, 0.045 + 0.0001 * (i % 7), 8 + i % 4,
                i % 3 ? IPABS_LOAN_LEVEL_PRINCIPAL : IPABS_LOAN_ANNUITY, 0.01, 0.02);
        pool += principal;
    }
    d->bank_fee_rate = 0.0005;
    d->servicing_fee_rate = 0.001;
    d->tax_rate = 0.03;
    fx_tranche(d, 0, "senior", IPABS_CLASS_SENIOR, 0.9 * pool, 0.03,
               IPABS_TRANCHE_PASS_THROUGH, 13);
    fx_tranche(d, 1, "sub", IPABS_CLASS_SUB, pool - 0.9 * pool, 0.0,
               IPABS_TRANCHE_PASS_THROUGH, 14);
    fx_expense(d, 0, "plan_manager", IPABS_EXPENSE_SENIOR_RATE, 0.001);
    d->guarantor.payout_lag = 1;
    ipabs_error err;
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK);
    cr_assert_gt(d->pool_balance, 7e9);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    for (int i = 0; i < N; i += 3)
        r->default_period[i] = 1 + i % 7;
    ipabs_cashflow *cf = run(d, r);
    cr_assert(cf->final_state->guarantor_paid_total > 0.0);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* ---- a settled plan with nothing to pay (waterfall.c, plan_idle) ----------- */

static bool same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Every flow of the period, to the bit. */
static void assert_same_flows(const ipabs_deal *d, const ipabs_period_flows *a,
                              const ipabs_period_flows *b, int t)
{
    cr_assert_eq(memcmp(a, b, offsetof(ipabs_period_flows, balance_open)), 0,
                 "period %d: scalar flows differ", t);
    const double *arrays_a[] = {a->balance_open, a->interest_due, a->interest_paid,
                                a->principal_paid, a->principal_loss, a->interest_loss,
                                a->balance_close, a->put_redeemed, a->put_bought,
                                a->put_resold, a->held_interest, a->held_principal,
                                a->held_loss, a->held_close};
    const double *arrays_b[] = {b->balance_open, b->interest_due, b->interest_paid,
                                b->principal_paid, b->principal_loss, b->interest_loss,
                                b->balance_close, b->put_redeemed, b->put_bought,
                                b->put_resold, b->held_interest, b->held_principal,
                                b->held_loss, b->held_close};
    for (int j = 0; j < IPABS_FLOW_TRANCHE_ARRAYS; j++)
        for (int k = 0; k < d->n_tranches; k++)
            cr_assert(same_bits(arrays_a[j][k], arrays_b[j][k]),
                      "period %d: tranche array %d of class %d differs", t, j, k);
}

/* The state's scalar amounts, in one order for both sides of a comparison. */
enum { STATE_SCALARS = 16 };
static void state_scalars(const ipabs_state *s, double out[STATE_SCALARS])
{
    const double v[STATE_SCALARS] = {
        s->performing_balance, s->cum_defaulted, s->principal_amount, s->plan_cash,
        s->principal_account, s->deferred_revenue, s->deferred_principal,
        s->deferred_interest, s->deferred_loan_principal, s->principal_deficiency,
        s->tax_arrears, s->guarantor_paid_total, s->guarantor_committed, s->estate_claim,
        s->claimed_arrears, s->topup_claim};
    memcpy(out, v, sizeof v);
}

static void assert_same_state(const ipabs_deal *d, const ipabs_state *a, const ipabs_state *b)
{
    double sa[STATE_SCALARS], sb[STATE_SCALARS];
    state_scalars(a, sa);
    state_scalars(b, sb);
    for (size_t j = 0; j < STATE_SCALARS; j++)
        cr_assert(same_bits(sa[j], sb[j]), "state scalar %zu differs", j);
    cr_assert(a->period == b->period && a->n_defaulted == b->n_defaulted &&
              a->accelerated == b->accelerated && a->in_default == b->in_default &&
              a->ended == b->ended && a->settled == b->settled &&
              a->senior_interest_short == b->senior_interest_short &&
              a->capacity_exhausted == b->capacity_exhausted && a->called == b->called &&
              a->redeeming == b->redeeming);
    for (int e = 0; e < d->n_expenses; e++)
        cr_assert(same_bits(a->expense_arrears[e], b->expense_arrears[e]));
    for (int k = 0; k < d->n_tranches; k++)
        cr_assert(same_bits(a->tranche_balance[k], b->tranche_balance[k]) &&
                  same_bits(a->interest_arrears[k], b->interest_arrears[k]) &&
                  same_bits(a->held[k], b->held[k]));
    cr_assert(ipabs_state_same_loans(d, a, b));
}

/* Without a ledger the waterfall skips steps 7-9 of a settled period that
 * brings the plan nothing and in which it owes nothing; with a ledger it
 * always takes them.  On many realisations of the reference deals (late
 * defaults whose IP is sold after the plan has settled, guarantor
 * failures, high and low recoveries) both must give the same flows and
 * states to the bit, and the settled periods must have been met. */
static int check_idle_matches_full(const char *scenario)
{
    ipabs_deal *d = NULL;
    ipabs_errors errors = {0};
    cr_assert_eq(ipabs_scenario_load(scenario, NULL, 0, &d, &errors), IPABS_OK);
    ipabs_errors_clear(&errors);
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    ipabs_state *st = ipabs_state_alloc(d);
    ipabs_period_flows fl;
    cr_assert_eq(ipabs_flows_init(d, &fl), IPABS_OK);
    unsigned x = 12345u;
    int settled_periods = 0;
    for (int c = 0; c < 300; c++) {
        ipabs_realisation_reset(d, r);
        for (int i = 0; i < d->n_loans; i++) {
            x = x * 1103515245u + 12345u;
            if ((x >> 16) % 4 < (c % 2 ? 1u : 3u)) /* light and heavy default rates */
                r->default_period[i] = 1 + (int)((x >> 8) % (unsigned)d->loans[i].term);
            r->realisation[i] = (double)((x >> 4) % 1000) / 999.0;
        }
        x = x * 1103515245u + 12345u;
        r->guarantor_default_period =
            (x >> 16) % 3 == 0 ? 1 + (int)((x >> 4) % (unsigned)d->legal_final) : 0;
        ipabs_cashflow *cf = run(d, r);
        ipabs_state_reset(d, st);
        ipabs_error err = {0};
        for (int t = 1; t <= d->legal_final; t++) {
            settled_periods += st->settled;
            cr_assert_eq(ipabs_waterfall_step(d, r, st, &fl, NULL, &err), IPABS_OK, "%s",
                         err.message);
            assert_same_flows(d, &fl, P(cf, t), t);
        }
        assert_same_state(d, st, cf->final_state);
        ipabs_cashflow_free(cf);
    }
    ipabs_flows_release(&fl);
    ipabs_state_free(st);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
    return settled_periods;
}

Test(waterfall, settled_idle_periods_match_the_full_steps)
{
    cr_assert_gt(check_idle_matches_full(IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs.yaml"), 0);
    cr_assert_gt(check_idle_matches_full(IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs-a123.yaml"), 0);
    cr_assert_gt(
        check_idle_matches_full(IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs-a123-put.yaml"), 0);
}

/* ---- a period's disposals found by runs of the defaults (recover_ip) ------- */

/* Random defaults (light and heavy), realisations and guarantor failures
 * of deal d, case c of a fixed sequence. */
static void random_realisation(const ipabs_deal *d, ipabs_realisation *r, int c, unsigned *x)
{
    ipabs_realisation_reset(d, r);
    for (int i = 0; i < d->n_loans; i++) {
        *x = *x * 1103515245u + 12345u;
        if ((*x >> 16) % 4 < (c % 2 ? 1u : 3u))
            r->default_period[i] = 1 + (int)((*x >> 8) % (unsigned)d->loans[i].term);
        r->realisation[i] = (double)((*x >> 4) % 1000) / 999.0;
    }
    *x = *x * 1103515245u + 12345u;
    r->guarantor_default_period =
        (*x >> 16) % 3 == 0 ? 1 + (int)((*x >> 4) % (unsigned)d->legal_final) : 0;
}

/* Loans with three recovery lags (2, 3 and 5 periods): the disposals of a
 * period, found as one run of the defaults per lag, against the same deal
 * told to scan every default (n_recovery_lags = 0), to the bit. */
/* A finalised copy of the reference whose loans' recovery lags are 2, 3,
 * 5, 2, 3, 5, ... (the deal's tables copy them when it is finalised). */
static ipabs_deal *lags_2_3_5(const ipabs_deal *ref)
{
    ipabs_deal *d = NULL;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_deal_copy(ref, NULL, 0, &d, &err), IPABS_OK, "%s", err.message);
    const int lags[] = {2, 3, 5};
    for (int i = 0; i < d->n_loans; i++)
        d->loans[i].recovery_lag = lags[i % 3];
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK, "%s", err.message);
    return d;
}

Test(waterfall, disposal_runs_match_the_full_scan)
{
    ipabs_deal *ref = reference_with(NULL, 0);
    ipabs_deal *runs = lags_2_3_5(ref), *scan = lags_2_3_5(ref);
    ipabs_deal_free(ref);
    cr_assert_eq(runs->n_recovery_lags, 3);
    cr_assert(runs->recovery_lags[0] == 5 && runs->recovery_lags[1] == 3 &&
              runs->recovery_lags[2] == 2);
    scan->n_recovery_lags = 0;
    ipabs_realisation *r = ipabs_realisation_alloc(runs);
    unsigned x = 777u;
    double recovered = 0.0;
    for (int c = 0; c < 300; c++) {
        random_realisation(runs, r, c, &x);
        ipabs_cashflow *a = run(runs, r), *b = run(scan, r);
        for (int t = 1; t <= runs->legal_final; t++) {
            assert_same_flows(runs, P(a, t), P(b, t), t);
            recovered += P(a, t)->recovery_guarantor + P(a, t)->recovery_plan;
        }
        assert_same_state(runs, a->final_state, b->final_state);
        cr_assert_eq(a->ledger->count, b->ledger->count);
        cr_assert_eq(memcmp(a->ledger->entries, b->ledger->entries,
                            a->ledger->count * sizeof a->ledger->entries[0]), 0);
        ipabs_cashflow_free(a);
        ipabs_cashflow_free(b);
    }
    cr_assert_gt(recovered, 0.0);
    ipabs_realisation_free(r);
    ipabs_deal_free(runs);
    ipabs_deal_free(scan);
}

/* The deal's list of recovery lags: distinct, longest first; none past
 * IPABS_RECOVERY_LAG_RUNS of them. */
Test(waterfall, recovery_lags_listed_longest_first)
{
    ipabs_deal *d = reference_with(NULL, 0);
    /* The tape's lags: 4 (two loans), 6 (six) and 8 (two). */
    cr_assert_eq(d->n_recovery_lags, 3);
    cr_assert(d->recovery_lags[0] == 8 && d->recovery_lags[1] == 6 &&
              d->recovery_lags[2] == 4);
    ipabs_deal_free(d);
    d = fx_deal(6, 12, 1, 0);
    for (int i = 0; i < 12; i++) {
        char id[8];
        snprintf(id, sizeof id, "L%02d", i);
        fx_loan(d, i, id, 100000.0, 0.05, 4, IPABS_LOAN_BULLET, 0.01, 0.02);
        d->loans[i].recovery_lag = (int[]){3, 1, 3, 4, 1, 0, 4, 3, 1, 0, 1, 3}[i];
    }
    fx_tranche(d, 0, "senior", IPABS_CLASS_SENIOR, 1200000.0, 0.03,
               IPABS_TRANCHE_PASS_THROUGH, 6);
    ipabs_error err;
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK, "%s", err.message);
    cr_assert_eq(d->n_recovery_lags, 4);
    cr_assert(d->recovery_lags[0] == 4 && d->recovery_lags[1] == 3 &&
              d->recovery_lags[2] == 1 && d->recovery_lags[3] == 0);
    ipabs_deal_free(d);
    /* Nine distinct lags: more than the list holds, so none is listed
     * (the waterfall scans every default). */
    d = fx_deal(6, 12, 1, 0);
    for (int i = 0; i < 12; i++) {
        char id[8];
        snprintf(id, sizeof id, "L%02d", i);
        fx_loan(d, i, id, 100000.0, 0.05, 4, IPABS_LOAN_BULLET, 0.01, 0.02);
        d->loans[i].recovery_lag = i % 9;
    }
    fx_tranche(d, 0, "senior", IPABS_CLASS_SENIOR, 1200000.0, 0.03,
               IPABS_TRANCHE_PASS_THROUGH, 6);
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK, "%s", err.message);
    cr_assert_eq(d->n_recovery_lags, 0);
    ipabs_deal_free(d);
}
