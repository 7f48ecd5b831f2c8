/*
 * fixture.h — small deals built in code for the tests, independent of the
 * scenario reader, so that waterfall tests do not depend on parsing.
 */
#ifndef IPABS_TEST_FIXTURE_H
#define IPABS_TEST_FIXTURE_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ipabs/deal.h"

static inline char *fx_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    memcpy(p, s, n);
    return p;
}

/* An empty deal: quarterly, 30/360, closing 2025-03-31, T periods. */
static inline ipabs_deal *fx_deal(int legal_final, int n_loans, int n_tranches,
                                  int n_expenses)
{
    ipabs_deal *d = ipabs_deal_alloc();
    d->name = fx_strdup("fixture");
    d->currency = fx_strdup("CNY");
    d->source_file = fx_strdup("fixture.yaml");
    d->tape_file = fx_strdup("fixture.csv");
    d->closing = (ipabs_date){2025, 3, 31};
    d->legal_final = legal_final;
    d->n_loans = n_loans;
    d->loans = calloc((size_t)n_loans, sizeof *d->loans);
    d->n_tranches = n_tranches;
    d->tranches = calloc((size_t)n_tranches, sizeof *d->tranches);
    d->n_expenses = n_expenses;
    d->expenses = calloc((size_t)(n_expenses ? n_expenses : 1), sizeof *d->expenses);
    d->guarantor.name = fx_strdup("guarantor");
    d->guarantor.rating = fx_strdup("AA+");
    return d;
}

static inline void fx_loan(ipabs_deal *d, int i, const char *id, double principal,
                           double rate, int term, ipabs_loan_amort amort,
                           double gfee, double pd)
{
    ipabs_loan *l = &d->loans[i];
    l->id = fx_strdup(id);
    l->firm = fx_strdup(id);
    l->sector = fx_strdup("tech");
    l->sector_index = -1;
    l->ip_type = fx_strdup("patent");
    l->principal = principal;
    l->rate = rate;
    l->term = term;
    l->amort = amort;
    l->guarantee_fee_rate = gfee;
    l->pd_annual = pd;
    l->factor_loading = 0.0;
    l->ip_value = principal;
    l->recovery_mean = 0.4;
    l->recovery_sd = 0.2;
    l->recovery_lag = 2;
    l->disposal_cost = 0.0;
    l->tape_line = i + 2;
}

static inline void fx_tranche(ipabs_deal *d, int k, const char *name,
                              ipabs_tranche_class cls, double balance,
                              double coupon, ipabs_tranche_amort amort,
                              int legal_final)
{
    ipabs_tranche *t = &d->tranches[k];
    t->name = fx_strdup(name);
    t->cls = cls;
    t->balance = balance;
    t->coupon = coupon;
    t->amort = amort;
    t->legal_final = legal_final;
}

static inline void fx_expense(ipabs_deal *d, int e, const char *name,
                              ipabs_expense_basis basis, double amount)
{
    d->expenses[e].name = fx_strdup(name);
    d->expenses[e].basis = basis;
    d->expenses[e].amount = amount;
}

/* The golden deal of tests/test_waterfall.c, whose cash flows are worked
 * by hand there (quarterly, 30/360, d(t) = 0.25): loans A 1,234,567 at
 * 5.3% level principal and B 765,433 at 4.7% bullet, both over 4 periods;
 * senior 1,800,000 at 3.15% and sub 200,000; fees 0.05% + 0.10%, VAT
 * 3.26%, a 0.1% manager fee and a 12,000 audit fee a year; accelerated
 * payout one period after default.  Not finalised: callers may change
 * terms first, then call ipabs_deal_finalize(). */
static inline ipabs_deal *fx_golden_deal(void)
{
    ipabs_deal *d = fx_deal(6, 2, 2, 2);
    fx_loan(d, 0, "A", 1234567.0, 0.053, 4, IPABS_LOAN_LEVEL_PRINCIPAL, 0.011, 0.02);
    fx_loan(d, 1, "B", 765433.0, 0.047, 4, IPABS_LOAN_BULLET, 0.009, 0.03);
    d->bank_fee_rate = 0.0005;
    d->servicing_fee_rate = 0.001;
    d->tax_rate = 0.0326;
    fx_tranche(d, 0, "senior", IPABS_CLASS_SENIOR, 1800000.0, 0.0315,
               IPABS_TRANCHE_PASS_THROUGH, 5);
    fx_tranche(d, 1, "sub", IPABS_CLASS_SUB, 200000.0, 0.0, IPABS_TRANCHE_PASS_THROUGH, 6);
    fx_expense(d, 0, "plan_manager", IPABS_EXPENSE_SENIOR_RATE, 0.001);
    fx_expense(d, 1, "audit", IPABS_EXPENSE_FIXED, 12000.0);
    d->guarantor.payout_lag = 1;
    return d;
}

#endif
