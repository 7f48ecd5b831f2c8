/*
 * ipabs/ledger.h — the auditable record of every transfer.
 *
 * The waterfall appends one entry per transfer of cash between two parties
 * (period, payer, payee, kind, the loan or tranche concerned, amount).  The
 * ledger is sized once from the deal (ipabs_ledger_alloc) so the waterfall
 * never allocates; it is optional: the Monte Carlo runs with none.
 */
#ifndef IPABS_LEDGER_H
#define IPABS_LEDGER_H

#include <stddef.h>

#include "ipabs/deal.h"

typedef enum ipabs_party_kind {
    IPABS_PARTY_LOAN,        /* index = loan; the obligor enterprise */
    IPABS_PARTY_GUARANTOR,
    IPABS_PARTY_ESTATE,      /* the failed guarantor's estate */
    IPABS_PARTY_LENDER,      /* lender / servicer / originator */
    IPABS_PARTY_BANK,        /* entrusted bank */
    IPABS_PARTY_PLAN,        /* the ABS plan's account */
    IPABS_PARTY_TRANCHE,     /* index = tranche; its holders */
    IPABS_PARTY_EXPENSE,     /* index = expense; its payee */
    IPABS_PARTY_TAX,
    IPABS_PARTY_IP_DISPOSAL, /* proceeds of selling pledged IP */
    IPABS_PARTY_COUNT_
} ipabs_party_kind;

typedef struct ipabs_party {
    ipabs_party_kind kind;
    int index; /* loan, tranche or expense index; -1 otherwise */
} ipabs_party;

typedef enum ipabs_flow_kind {
    IPABS_FLOW_INTEREST,          /* obligor interest to the plan, net of fees */
    IPABS_FLOW_PRINCIPAL,         /* obligor scheduled principal to the plan */
    IPABS_FLOW_AGENCY_FEE,        /* obligor to bank */
    IPABS_FLOW_SERVICING_FEE,     /* obligor to lender */
    IPABS_FLOW_GUARANTEE_FEE,     /* obligor to guarantor */
    IPABS_FLOW_GUARANTEE_PAYOUT,  /* guarantor to plan on a defaulted loan */
    IPABS_FLOW_TOPUP,             /* guarantor to plan: shortfall top-up */
    IPABS_FLOW_RECOVERY,          /* IP disposal proceeds (plan or guarantor) */
    IPABS_FLOW_ESTATE_RECOVERY,   /* failed guarantor's estate to plan */
    IPABS_FLOW_TAX,               /* plan to tax */
    IPABS_FLOW_EXPENSE,           /* plan to an expense payee */
    IPABS_FLOW_TRANCHE_INTEREST,  /* plan to a tranche */
    IPABS_FLOW_TRANCHE_PRINCIPAL, /* plan to a tranche */
    IPABS_FLOW_RESIDUAL,          /* plan to the residual holder */
    IPABS_FLOW_PLEDGE_PROCEEDS,   /* IP proceeds to the pledgee guarantor or its estate */
    IPABS_FLOW_REIMBURSEMENT,     /* plan to guarantor (or estate): top-ups repaid */
    IPABS_FLOW_CLEANUP_CALL,      /* originator (lender) to plan: a loan bought back */
    IPABS_FLOW_REINVESTMENT,      /* account bank to plan: earned on the principal account */
    IPABS_FLOW_PRINCIPAL_TO_REVENUE, /* plan to plan: principal receipts paying a revenue
                                        item (a principal deficiency) */
    IPABS_FLOW_REVENUE_TO_PRINCIPAL, /* plan to plan: revenue paying principal (a
                                        deficiency repaid, or principal due) */
    IPABS_FLOW_CALL,              /* originator (lender) to plan: a loan bought by
                                     the call (plan.call) */
    IPABS_FLOW_PUT_REDEMPTION,    /* plan to a tranche's holders: securities put,
                                     redeemed from the principal account */
    IPABS_FLOW_PUT_PURCHASE,      /* put supporter to a tranche's holders: securities
                                     put, bought */
    IPABS_FLOW_PUT_RESALE,        /* a tranche's (new) holders to the put supporter:
                                     securities resold (转售) */
    IPABS_FLOW_HELD_INTEREST,     /* plan to the put supporter: coupon on the
                                     securities it holds */
    IPABS_FLOW_HELD_PRINCIPAL,    /* plan to the put supporter: principal on the
                                     securities it holds */
    IPABS_FLOW_COUNT_
} ipabs_flow_kind;

typedef struct ipabs_ledger_entry {
    int period;
    ipabs_party payer;
    ipabs_party payee;
    ipabs_flow_kind kind;
    int loan;    /* loan concerned, -1 if none */
    int tranche; /* tranche concerned, -1 if none */
    double amount;
} ipabs_ledger_entry;

typedef struct ipabs_ledger {
    ipabs_ledger_entry *entries;
    size_t count;
    size_t capacity;
} ipabs_ledger;

/* A ledger large enough for any realisation of the deal; NULL on ENOMEM. */
ipabs_ledger *ipabs_ledger_alloc(const ipabs_deal *deal);
void ipabs_ledger_free(ipabs_ledger *ledger); /* NULL is a no-op */
void ipabs_ledger_reset(ipabs_ledger *ledger);

/* Append an entry (amounts below 1e-9 yuan, rounding dust, are skipped).  The capacity bound is a
 * property of the deal, so overflowing it is a bug: asserted. */
void ipabs_ledger_add(ipabs_ledger *ledger, int period, ipabs_party payer,
                      ipabs_party payee, ipabs_flow_kind kind, int loan,
                      int tranche, double amount);

/* Names as written in ledger.csv: a party's name is the loan id, tranche or
 * expense name, or guarantor, estate, lender, bank, plan, tax, ip_disposal. */
const char *ipabs_party_name(const ipabs_deal *deal, ipabs_party party);
const char *ipabs_flow_kind_name(ipabs_flow_kind kind);

/* Net cash of one party over the entries of one period: received − paid. */
double ipabs_ledger_net(const ipabs_ledger *ledger, int period,
                        ipabs_party party);

#endif
