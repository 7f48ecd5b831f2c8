/*
 * ledger.c — the audit trail of transfers written by the waterfall.
 */
#include "ipabs/ledger.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>

ipabs_ledger *ipabs_ledger_alloc(const ipabs_deal *deal)
{
    ipabs_ledger *ledger = calloc(1, sizeof *ledger);
    if (ledger == NULL)
        return NULL;
    /* Per period at most: 8 transfers per loan (5 obligor flows, a payout,
     * two recovery shares), 3 per tranche, 1 per expense, tax, top-up,
     * estate recovery, top-up reimbursement and one spare; with split
     * accounts, a move between them per payment item (2 per tranche, 1 per
     * expense, tax, senior interest, the deficiency repaid) and the
     * reinvestment income; per tranche, its put (redemption, purchase,
     * resale) and the supporter's share of interest and principal (a loan
     * bought by a call replaces its payout, within the 8). */
    size_t per_period = 8u * (size_t)deal->n_loans +
                        10u * (size_t)deal->n_tranches +
                        2u * (size_t)deal->n_expenses + 10u;
    ledger->capacity = per_period * (size_t)deal->legal_final;
    ledger->entries = malloc(ledger->capacity * sizeof *ledger->entries);
    if (ledger->entries == NULL) {
        free(ledger);
        return NULL;
    }
    return ledger;
}

void ipabs_ledger_free(ipabs_ledger *ledger)
{
    if (ledger == NULL)
        return;
    free(ledger->entries);
    free(ledger);
}

void ipabs_ledger_reset(ipabs_ledger *ledger)
{
    ledger->count = 0;
}

void ipabs_ledger_add(ipabs_ledger *ledger, int period, ipabs_party payer,
                      ipabs_party payee, ipabs_flow_kind kind, int loan,
                      int tranche, double amount)
{
    if (fabs(amount) < 1e-9)
        return; /* nothing, or rounding dust: not a transfer */
    assert(ledger->count < ledger->capacity);
    ledger->entries[ledger->count++] = (ipabs_ledger_entry){
        period, payer, payee, kind, loan, tranche, amount};
}

const char *ipabs_party_name(const ipabs_deal *deal, ipabs_party party)
{
    switch (party.kind) {
    case IPABS_PARTY_LOAN:
        return deal->loans[party.index].id;
    case IPABS_PARTY_GUARANTOR:
        return "guarantor";
    case IPABS_PARTY_ESTATE:
        return "guarantor_estate";
    case IPABS_PARTY_LENDER:
        return "lender";
    case IPABS_PARTY_BANK:
        return "bank";
    case IPABS_PARTY_PLAN:
        return "plan";
    case IPABS_PARTY_TRANCHE:
        return deal->tranches[party.index].name;
    case IPABS_PARTY_EXPENSE:
        return deal->expenses[party.index].name;
    case IPABS_PARTY_TAX:
        return "tax";
    case IPABS_PARTY_IP_DISPOSAL:
        return "ip_disposal";
    case IPABS_PARTY_COUNT_:
        break;
    }
    return "?";
}

const char *ipabs_flow_kind_name(ipabs_flow_kind kind)
{
    static const char *const names[IPABS_FLOW_COUNT_] = {
        [IPABS_FLOW_INTEREST] = "interest",
        [IPABS_FLOW_PRINCIPAL] = "principal",
        [IPABS_FLOW_AGENCY_FEE] = "agency_fee",
        [IPABS_FLOW_SERVICING_FEE] = "servicing_fee",
        [IPABS_FLOW_GUARANTEE_FEE] = "guarantee_fee",
        [IPABS_FLOW_GUARANTEE_PAYOUT] = "guarantee_payout",
        [IPABS_FLOW_TOPUP] = "topup",
        [IPABS_FLOW_RECOVERY] = "recovery",
        [IPABS_FLOW_ESTATE_RECOVERY] = "estate_recovery",
        [IPABS_FLOW_PLEDGE_PROCEEDS] = "pledge_proceeds",
        [IPABS_FLOW_REIMBURSEMENT] = "topup_reimbursement",
        [IPABS_FLOW_CLEANUP_CALL] = "cleanup_call",
        [IPABS_FLOW_REINVESTMENT] = "reinvestment_income",
        [IPABS_FLOW_PRINCIPAL_TO_REVENUE] = "principal_to_revenue",
        [IPABS_FLOW_REVENUE_TO_PRINCIPAL] = "revenue_to_principal",
        [IPABS_FLOW_TAX] = "tax",
        [IPABS_FLOW_EXPENSE] = "expense",
        [IPABS_FLOW_TRANCHE_INTEREST] = "tranche_interest",
        [IPABS_FLOW_TRANCHE_PRINCIPAL] = "tranche_principal",
        [IPABS_FLOW_RESIDUAL] = "residual",
        [IPABS_FLOW_CALL] = "call",
        [IPABS_FLOW_PUT_REDEMPTION] = "put_redemption",
        [IPABS_FLOW_PUT_PURCHASE] = "put_purchase",
        [IPABS_FLOW_PUT_RESALE] = "put_resale",
        [IPABS_FLOW_HELD_INTEREST] = "held_interest",
        [IPABS_FLOW_HELD_PRINCIPAL] = "held_principal",
    };
    return (unsigned)kind < IPABS_FLOW_COUNT_ ? names[kind] : "?";
}

static int same_party(ipabs_party a, ipabs_party b)
{
    return a.kind == b.kind && a.index == b.index;
}

double ipabs_ledger_net(const ipabs_ledger *ledger, int period,
                        ipabs_party party)
{
    double net = 0.0;
    for (size_t k = 0; k < ledger->count; k++) {
        const ipabs_ledger_entry *e = &ledger->entries[k];
        if (e->period != period)
            continue;
        if (same_party(e->payee, party))
            net += e->amount;
        if (same_party(e->payer, party))
            net -= e->amount;
    }
    return net;
}
