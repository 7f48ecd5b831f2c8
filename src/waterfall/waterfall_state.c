/*
 * waterfall_state.c — allocation of the waterfall's state, flows and
 * realisations, and the whole-run driver used by `ipabs cashflow` and
 * `ipabs replay`.  The period step itself is in waterfall.c.
 */
#include "ipabs/waterfall.h"

#include <stdlib.h>
#include <string.h>

ipabs_realisation *ipabs_realisation_alloc(const ipabs_deal *deal)
{
    ipabs_realisation *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->default_period = calloc((size_t)deal->n_loans, sizeof(int));
    r->realisation = calloc((size_t)deal->n_loans, sizeof(double));
    r->order = calloc((size_t)deal->n_loans, sizeof(int));
    r->bucket = calloc((size_t)deal->legal_final + 2, sizeof(int));
    if (!r->default_period || !r->realisation || !r->order || !r->bucket) {
        ipabs_realisation_free(r);
        return NULL;
    }
    ipabs_realisation_reset(deal, r);
    return r;
}

void ipabs_realisation_reset(const ipabs_deal *deal, ipabs_realisation *r)
{
    for (int i = 0; i < deal->n_loans; i++) {
        r->default_period[i] = 0;
        r->realisation[i] = deal->loans[i].recovery_mean;
    }
    r->guarantor_default_period = 0;
    r->n_defaults = 0;
}

/* A counting sort by period: O(loans + periods) whatever the number of
 * defaults (large pools default by the hundred). */
void ipabs_realisation_index(const ipabs_deal *deal, ipabs_realisation *r)
{
    int T = deal->legal_final, n = 0;
    int *start = r->bucket; /* T + 2 entries */
    for (int t = 0; t <= T + 1; t++)
        start[t] = 0;
    for (int i = 0; i < deal->n_loans; i++) {
        int tau = r->default_period[i];
        if (tau >= 1 && tau <= deal->loans[i].term) {
            start[tau + 1]++;
            n++;
        }
    }
    for (int t = 1; t <= T + 1; t++)
        start[t] += start[t - 1];
    for (int i = 0; i < deal->n_loans; i++) {
        int tau = r->default_period[i];
        if (tau >= 1 && tau <= deal->loans[i].term)
            r->order[start[tau]++] = i;
    }
    r->n_defaults = n;
}

void ipabs_realisation_free(ipabs_realisation *r)
{
    if (r == NULL)
        return;
    free(r->default_period);
    free(r->realisation);
    free(r->order);
    free(r->bucket);
    free(r);
}

ipabs_state *ipabs_state_alloc(const ipabs_deal *deal)
{
    ipabs_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return NULL;
    size_t n = (size_t)deal->n_loans, k = (size_t)deal->n_tranches;
    st->ead = calloc(n, sizeof(double));
    st->guarantor_paid = calloc(n, sizeof(double));
    st->plan_recovered = calloc(n, sizeof(double));
    st->scale = calloc(n, sizeof(double));
    st->pool_due = calloc((size_t)deal->legal_final + 1, sizeof *st->pool_due);
    st->expense_arrears = calloc((size_t)deal->n_expenses + 1, sizeof(double));
    st->tranche_balance = calloc(k, sizeof(double));
    st->interest_arrears = calloc(k, sizeof(double));
    st->held = calloc(k ? k : 1, sizeof(double));
    if (!st->ead || !st->guarantor_paid ||
        !st->plan_recovered || !st->scale || !st->pool_due || !st->expense_arrears ||
        !st->tranche_balance || !st->interest_arrears || !st->held) {
        ipabs_state_free(st);
        return NULL;
    }
    ipabs_state_reset(deal, st);
    return st;
}

void ipabs_state_reset(const ipabs_deal *deal, ipabs_state *st)
{
    size_t n = (size_t)deal->n_loans;
    st->period = 0;
    st->n_defaulted = 0;
    memset(st->ead, 0, n * sizeof(double));
    memset(st->guarantor_paid, 0, n * sizeof(double));
    memset(st->plan_recovered, 0, n * sizeof(double));
    for (size_t i = 0; i < n; i++)
        st->scale[i] = 1.0;
    for (int t = 0; t <= deal->legal_final; t++)
        st->pool_due[t] = (ipabs_pool_due){deal->pool_interest[t], deal->pool_principal[t],
                                           deal->pool_agency_fee[t],
                                           deal->pool_servicing_fee[t],
                                           deal->pool_guarantee_fee[t]};
    st->performing_balance = deal->pool_balance;
    st->cum_defaulted = 0.0;
    st->principal_amount = 0.0;
    st->plan_cash = deal->reserve_initial;
    st->tax_arrears = 0.0;
    memset(st->expense_arrears, 0, (size_t)deal->n_expenses * sizeof(double));
    for (int k = 0; k < deal->n_tranches; k++) {
        st->tranche_balance[k] = deal->tranches[k].balance;
        st->interest_arrears[k] = 0.0;
        st->held[k] = 0.0;
    }
    st->accelerated = false;
    st->in_default = false;
    st->ended = false;
    st->settled = false;
    st->senior_interest_short = false;
    st->guarantor_paid_total = 0.0;
    st->guarantor_committed = 0.0;
    st->capacity_exhausted = false;
    st->estate_claim = 0.0;
    st->claimed_arrears = 0.0;
    st->topup_claim = 0.0;
    st->principal_account = 0.0;
    st->deferred_revenue = st->deferred_principal = st->deferred_interest = 0.0;
    st->deferred_loan_principal = 0.0;
    st->principal_deficiency = 0.0;
    st->called = 0;
    st->redeeming = false;
}

/* Everything but the per-loan arrays: the scalars, the short arrays
 * (expenses, tranches) and the pool's dues of the periods still to run,
 * into dst's own storage. */
static void state_copy_fixed(const ipabs_deal *deal, ipabs_state *dst,
                             const ipabs_state *src)
{
    size_t k = (size_t)deal->n_tranches;
    ipabs_state keep = *dst; /* the destination's own arrays */
    *dst = *src;
    dst->ead = keep.ead;
    dst->guarantor_paid = keep.guarantor_paid;
    dst->plan_recovered = keep.plan_recovered;
    dst->scale = keep.scale;
    dst->pool_due = keep.pool_due;
    dst->expense_arrears = keep.expense_arrears;
    dst->tranche_balance = keep.tranche_balance;
    dst->interest_arrears = keep.interest_arrears;
    dst->held = keep.held;
    memcpy(dst->held, src->held, k * sizeof(double));
    memcpy(dst->expense_arrears, src->expense_arrears,
           (size_t)deal->n_expenses * sizeof(double));
    memcpy(dst->tranche_balance, src->tranche_balance, k * sizeof(double));
    memcpy(dst->interest_arrears, src->interest_arrears, k * sizeof(double));
    size_t next = (size_t)src->period + 1, T = (size_t)deal->legal_final;
    if (next <= T)
        memcpy(&dst->pool_due[next], &src->pool_due[next],
               (T + 1 - next) * sizeof *dst->pool_due);
}

void ipabs_state_copy(const ipabs_deal *deal, ipabs_state *dst,
                      const ipabs_state *src)
{
    size_t n = (size_t)deal->n_loans;
    state_copy_fixed(deal, dst, src);
    memcpy(dst->ead, src->ead, n * sizeof(double));
    memcpy(dst->guarantor_paid, src->guarantor_paid, n * sizeof(double));
    memcpy(dst->plan_recovered, src->plan_recovered, n * sizeof(double));
    memcpy(dst->scale, src->scale, n * sizeof(double));
}

void ipabs_state_copy_loans(const ipabs_deal *deal, ipabs_state *dst,
                            const ipabs_state *src, const int *loans, int n)
{
    state_copy_fixed(deal, dst, src);
    for (int j = 0; j < n; j++) {
        int i = loans[j];
        dst->ead[i] = src->ead[i];
        dst->guarantor_paid[i] = src->guarantor_paid[i];
        dst->plan_recovered[i] = src->plan_recovered[i];
        dst->scale[i] = src->scale[i];
    }
}

bool ipabs_state_same_loans(const ipabs_deal *deal, const ipabs_state *a,
                            const ipabs_state *b)
{
    for (int i = 0; i < deal->n_loans; i++)
        if (a->ead[i] != b->ead[i] || a->guarantor_paid[i] != b->guarantor_paid[i] ||
            a->plan_recovered[i] != b->plan_recovered[i] || a->scale[i] != b->scale[i])
            return false;
    return true;
}

void ipabs_state_free(ipabs_state *st)
{
    if (st == NULL)
        return;
    free(st->ead);
    free(st->guarantor_paid);
    free(st->plan_recovered);
    free(st->scale);
    free(st->pool_due);
    free(st->expense_arrears);
    free(st->tranche_balance);
    free(st->interest_arrears);
    free(st->held);
    free(st);
}

ipabs_status ipabs_flows_init(const ipabs_deal *deal, ipabs_period_flows *fl)
{
    memset(fl, 0, sizeof *fl);
    size_t k = (size_t)deal->n_tranches;
    /* One block holds the tranche arrays, on a cache line of its own:
     * ipabs_waterfall_step clears it each period, and a block that
     * straddles lines made that memset several times dearer, depending
     * only on where the heap happened to put it. */
    size_t bytes = IPABS_FLOW_TRANCHE_ARRAYS * (k ? k : 1) * sizeof(double);
    bytes = (bytes + 63) / 64 * 64;
    double *block = aligned_alloc(64, bytes);
    if (block == NULL)
        return IPABS_ENOMEM;
    memset(block, 0, bytes);
    fl->balance_open = block;
    fl->interest_due = block + k;
    fl->interest_paid = block + 2 * k;
    fl->principal_paid = block + 3 * k;
    fl->principal_loss = block + 4 * k;
    fl->interest_loss = block + 5 * k;
    fl->balance_close = block + 6 * k;
    fl->put_redeemed = block + 7 * k;
    fl->put_bought = block + 8 * k;
    fl->put_resold = block + 9 * k;
    fl->held_interest = block + 10 * k;
    fl->held_principal = block + 11 * k;
    fl->held_loss = block + 12 * k;
    fl->held_close = block + 13 * k;
    return IPABS_OK;
}

void ipabs_flows_release(ipabs_period_flows *fl)
{
    free(fl->balance_open);
    fl->balance_open = NULL;
}

void ipabs_cashflow_free(ipabs_cashflow *cf)
{
    if (cf == NULL)
        return;
    if (cf->periods != NULL)
        for (int t = 0; t < cf->n_periods; t++)
            ipabs_flows_release(&cf->periods[t]);
    free(cf->periods);
    ipabs_state_free(cf->final_state);
    ipabs_ledger_free(cf->ledger);
    free(cf);
}

static ipabs_status cashflow_alloc(const ipabs_deal *deal, ipabs_cashflow **out)
{
    ipabs_cashflow *cf = calloc(1, sizeof *cf);
    if (cf == NULL)
        return IPABS_ENOMEM;
    *out = cf;
    cf->periods = calloc((size_t)deal->legal_final, sizeof *cf->periods);
    cf->final_state = ipabs_state_alloc(deal);
    cf->ledger = ipabs_ledger_alloc(deal);
    if (!cf->periods || !cf->final_state || !cf->ledger)
        return IPABS_ENOMEM;
    for (int t = 0; t < deal->legal_final; t++) {
        if (ipabs_flows_init(deal, &cf->periods[t]) != IPABS_OK)
            return IPABS_ENOMEM;
        cf->n_periods = t + 1;
    }
    return IPABS_OK;
}

ipabs_status ipabs_cashflow_compute(const ipabs_deal *deal,
                                    const ipabs_realisation *real,
                                    ipabs_cashflow **out, ipabs_error *err)
{
    ipabs_cashflow *cf = NULL;
    *out = NULL;
    if (cashflow_alloc(deal, &cf) != IPABS_OK) {
        ipabs_cashflow_free(cf);
        return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                               "out of memory for a cash-flow run");
    }
    for (int t = 0; t < deal->legal_final; t++) {
        ipabs_status s = ipabs_waterfall_step(deal, real, cf->final_state,
                                              &cf->periods[t], cf->ledger, err);
        if (s != IPABS_OK) {
            ipabs_cashflow_free(cf);
            return s;
        }
    }
    *out = cf;
    return IPABS_OK;
}
