/*
 * ipabs/waterfall.h — the deterministic pledge-chain waterfall.
 *
 * Given the deal and one realisation (which loans default in which period,
 * what their pledged IP fetches, whether and when the guarantor fails), the
 * waterfall moves every yuan between the parties, one period at a time:
 *
 *   obligors → bank, lender, guarantor (fees) and the plan (interest,
 *   principal); originator → plan (clean-up call, the originator's call);
 *   put supporter ↔ a class's holders (securities put, resold); guarantor → plan
 *   (guarantee payouts, shortfall top-up); IP disposal → the pledgee
 *   guarantor or its estate, or the plan and the guarantor by subrogation;
 *   plan → tax, expenses, tranches (interest, principal; the put supporter's
 *   share to it as holder), guarantor (top-up reimbursement), residual holder.
 *
 * ipabs_waterfall_step() is pure: no globals, no I/O, no random numbers, no
 * allocation.  It reads the const deal and realisation, advances the state
 * by one period, fills the period's flows, appends to the ledger if one is
 * given, and checks the conservation identities of the period.
 *
 * docs/waterfall.md states every rule with its reasons.
 */
#ifndef IPABS_WATERFALL_H
#define IPABS_WATERFALL_H

#include <stdbool.h>

#include "ipabs/deal.h"
#include "ipabs/error.h"
#include "ipabs/ledger.h"

/* One realisation of the uncertain inputs.  Arrays are by loan.
 * After filling default_period, call ipabs_realisation_index(): it lists
 * the defaults that can happen (period 1..term of the loan) in the order the
 * waterfall meets them, so that a period costs O(defaults), not O(loans). */
typedef struct ipabs_realisation {
    int *default_period;          /* period of default; 0 = never */
    double *realisation;          /* fraction of ip_value realised on disposal */
    int guarantor_default_period; /* 0 = never */
    int n_defaults;               /* set by ipabs_realisation_index */
    int *order;                   /* loans by (default period, index) */
    int *bucket;                  /* scratch for the index: legal_final + 2 */
} ipabs_realisation;

/* Allocate a realisation in which nobody defaults and realisations are the
 * loans' recovery means.  NULL on ENOMEM.  Free with ipabs_realisation_free. */
ipabs_realisation *ipabs_realisation_alloc(const ipabs_deal *deal);
void ipabs_realisation_reset(const ipabs_deal *deal, ipabs_realisation *r);
void ipabs_realisation_index(const ipabs_deal *deal, ipabs_realisation *r);
void ipabs_realisation_free(ipabs_realisation *r);

/* The state carried from one period to the next. */
/* The pool's scheduled collections of one period as the performing loans
 * pay them: the no-default totals less the defaulted loans' shares. */
typedef struct ipabs_pool_due {
    double interest;      /* obligor interest, gross of fees */
    double principal;     /* scheduled principal, prepayment included */
    double agency_fee;    /* bank agency fee */
    double servicing_fee; /* lender servicing fee */
    double guarantee_fee; /* guarantee fee */
} ipabs_pool_due;

typedef struct ipabs_state {
    int period; /* last completed period; 0 at closing */

    /* pool, by loan where an array */
    int n_defaulted;             /* defaults met so far: real->order[0..n) */
    double *ead;                 /* exposure at default; 0 while performing */
    double *guarantor_paid;      /* guarantee payouts made on the loan, or the
                                    dividend its failed estate owes on them */
    double *plan_recovered;      /* IP recoveries the plan received on it */
    double *scale;               /* scheduled style: share of schedule still guaranteed */
    ipabs_pool_due *pool_due;    /* by period 0..legal_final: the deal's pool totals
                                    less the loans defaulted so far, each loan's
                                    amounts taken off every period of its term
                                    from its default on, in the order of defaults
                                    (so the same doubles as taking them off period
                                    by period); rows after `period` are current */
    double performing_balance;
    double cum_defaulted;        /* sum of balances at default */
    double principal_amount;     /* pass-through principal owed to seniors, unpaid */

    /* plan */
    double plan_cash;            /* cash kept in the plan: reserve + principal account */
    double principal_account;    /* split accounts: principal receipts held (in plan_cash) */
    double deferred_revenue;     /* collections set aside by the transfer lag for the
                                    payment date after the next (in plan_cash); with
                                    one account all of them */
    double deferred_principal;   /* split accounts: their principal part (in plan_cash) */
    double deferred_interest;    /* the loan interest among them: VAT accrues on it
                                    when it reaches the plan */
    double deferred_loan_principal; /* the loans' principal among them: added to the
                                    pass-through principal amount when it arrives */
    double principal_deficiency; /* split accounts: principal receipts that paid
                                    revenue items, not yet repaid from revenue */
    double tax_arrears;
    double *expense_arrears;     /* by expense */
    double *tranche_balance;     /* by tranche */
    double *interest_arrears;    /* by tranche */
    bool accelerated;            /* sequential turbo after an event */
    bool in_default;             /* after an event of default (违约事件): its order */
    bool ended;                  /* the plan has settled and no IP is left to sell:
                                    nothing moves any more */
    bool settled;                /* the plan's final period is past: expenses stop */
    bool senior_interest_short;  /* senior interest unpaid in the last period */

    /* guarantor */
    double guarantor_paid_total; /* payouts + top-ups, against capacity */
    double guarantor_committed;  /* paid + owed when it failed, against capacity */
    bool capacity_exhausted;
    double estate_claim;         /* owed by the failed guarantor, not yet settled */
    double claimed_arrears;      /* unpaid taxes, expenses and senior interest already
                                    claimed from the failed guarantor */
    double topup_claim;          /* top-ups paid and not yet reimbursed: the
                                    guarantor's claim on the plan */
    int called;                  /* period of the clean-up call or of the
                                    originator's call; 0 = not called */
    bool redeeming;              /* the originator's call (plan.call) was
                                    exercised: every class is redeemed as
                                    funds allow */
    double *held;                /* by tranche: face of the class held by its
                                    put supporter (bought on a put, not resold) */
} ipabs_state;

/* Flows of one period.  Tranche arrays have n_tranches entries and come
 * last: the waterfall zeroes everything before balance_open at once. */
enum { IPABS_FLOW_TRANCHE_ARRAYS = 14 }; /* balance_open .. held_close */
typedef struct ipabs_period_flows {
    int period;
    int new_defaults;
    double new_default_balance;
    double cum_default_ratio;      /* cumulative defaulted balance / pool */
    double interest_collected;     /* obligor interest reaching the plan (net of fees) */
    double principal_collected;
    double cleanup_price;          /* originator to plan: the clean-up call */
    double agency_fee;             /* to the entrusted bank */
    double servicing_fee;          /* to the lender */
    double guarantee_fee;          /* to the guarantor, outside the plan */
    double guarantee_payout;       /* guarantor to plan, defaulted loans (gross) */
    double payout_fees;            /* plan to bank and lender: their fees on the
                                      interest part of the payouts */
    double topup;                  /* guarantor to plan, shortfall top-up */
    double guarantor_owed_unpaid;  /* support owed but not paid: guarantor failed */
    double recovery_plan;          /* IP recoveries to the plan */
    double recovery_guarantor;     /* IP recoveries to the guarantor (pledge or subrogation) */
    double recovery_estate;        /* IP recoveries to the failed guarantor's estate */
    double estate_recovery;        /* from the failed guarantor's estate */
    double available;              /* plan funds before top-up */
    double tax_paid;
    double expenses_paid;
    double reimbursement;          /* top-ups repaid to the guarantor */
    double reimbursement_estate;   /* top-ups repaid to the failed guarantor's estate */
    double residual;               /* to the residual holder */
    double plan_cash_open;
    double plan_cash_close;
    double reinvestment_income;    /* account bank to plan, on the principal account */
    double principal_to_revenue;   /* split accounts: principal paying revenue items */
    double revenue_to_principal;   /* split accounts: revenue paying principal */
    double principal_account;      /* split accounts: principal held after the period */
    double principal_deficiency;   /* split accounts: the ledger after the period */
    double call_price;             /* originator to plan: the call (plan.call) */
    double put_unfunded;           /* face put but not bought: the guarantor-supporter
                                      had failed (the holders keep it) */
    bool accelerated;
    bool capacity_exhausted;
    double *balance_open;
    double *interest_due;          /* this period's coupon + arrears */
    double *interest_paid;
    double *principal_paid;
    double *principal_loss;        /* written off at the tranche's legal final */
    double *interest_loss;         /* unpaid interest written off at legal final */
    double *balance_close;
    /* Puts (docs/waterfall.md, "Puts and calls"), by tranche. */
    double *put_redeemed;          /* principal account to the holders who put
                                      (in principal_paid): securities cancelled */
    double *put_bought;            /* supporter to the holders who put: price paid */
    double *put_resold;            /* new investors to the supporter: resale price */
    double *held_interest;         /* of interest_paid, to the supporter as holder */
    double *held_principal;        /* of principal_paid, to the supporter as holder */
    double *held_loss;             /* of principal_loss, the supporter's */
    double *held_close;            /* face held by the supporter after the period */
} ipabs_period_flows;

/* State and one period's flows, sized from the deal.  NULL on ENOMEM. */
ipabs_state *ipabs_state_alloc(const ipabs_deal *deal);
void ipabs_state_reset(const ipabs_deal *deal, ipabs_state *st);
void ipabs_state_copy(const ipabs_deal *deal, ipabs_state *dst,
                      const ipabs_state *src);
/* ipabs_state_copy for a dst that already equals src on every loan but the
 * n listed (duplicates allowed): only those loans' entries of the per-loan
 * arrays are copied, so a restart costs O(tranches + expenses + n), not
 * O(loans).  The Monte Carlo restarts each path this way from the
 * no-default path, whose per-loan entries never change. */
void ipabs_state_copy_loans(const ipabs_deal *deal, ipabs_state *dst,
                            const ipabs_state *src, const int *loans, int n);
/* True if a and b agree on every per-loan entry (exactly). */
bool ipabs_state_same_loans(const ipabs_deal *deal, const ipabs_state *a,
                            const ipabs_state *b);
void ipabs_state_free(ipabs_state *st);
ipabs_status ipabs_flows_init(const ipabs_deal *deal, ipabs_period_flows *fl);
void ipabs_flows_release(ipabs_period_flows *fl);

/* Advance st by one period (st->period + 1 must be <= legal_final).
 * ledger may be NULL.  Returns IPABS_EINTERNAL with *err filled if a
 * conservation identity breaks by more than 1e-6 yuan (a bug). */
ipabs_status ipabs_waterfall_step(const ipabs_deal *deal,
                                  const ipabs_realisation *real,
                                  ipabs_state *st, ipabs_period_flows *fl,
                                  ipabs_ledger *ledger, ipabs_error *err);

/* A whole run of one realisation, every period kept (for cashflow/replay). */
typedef struct ipabs_cashflow {
    int n_periods;
    ipabs_period_flows *periods; /* [0] is period 1 */
    ipabs_state *final_state;
    ipabs_ledger *ledger;
} ipabs_cashflow;

/* Run periods 1..legal_final.  On success *out owns the result (free with
 * ipabs_cashflow_free).  Errors: IPABS_ENOMEM, IPABS_EINTERNAL. */
ipabs_status ipabs_cashflow_compute(const ipabs_deal *deal,
                                    const ipabs_realisation *real,
                                    ipabs_cashflow **out, ipabs_error *err);
void ipabs_cashflow_free(ipabs_cashflow *cf);

/* Conservation tolerance: 1e-6 yuan plus 1e-12 of the gross amounts
 * summed, plus the rounding that grows with the number of loans (4
 * DBL_EPSILON per loan, tranche and expense; docs/waterfall.md, step 10). */
#define IPABS_CONSERVATION_TOL 1e-6
#define IPABS_CONSERVATION_REL 1e-12

#endif
