/*
 * waterfall.c — one period of the pledge chain, split by
 * priority-of-payments step.
 *
 * Order within period t (docs/waterfall.md gives the reasons):
 *   1. defaults of the period: exposure at default, write-down;
 *   2. obligor collections of the performing loans, fees taken out, the
 *      clean-up call when the pool has run down to its threshold, and the
 *      originator's call (plan.call) on the date it is exercised;
 *   3. IP disposal proceeds due: to the pledgee guarantor (its estate once
 *      it has failed) or, pledged to the plan, split by subrogation;
 *   4. guarantee payouts on defaulted loans (accelerated or scheduled);
 *   5. recovery from a failed guarantor's estate;
 *   6. acceleration events;
 *   7. amounts due on items 1-3 and the guarantor's shortfall top-up;
 *   8. payments: taxes, expenses, senior interest, senior principal,
 *      top-up reimbursement (at the scenario's position), reserve, sub
 *      interest, sub principal, residual;
 *   8b. holders' puts of the period: the principal account, then the
 *      put supporter, buys what is put (resale to new investors);
 *   9. write-offs at a legal final, or when no more cash can come in;
 *  10. conservation identities.
 *
 * Pure: reads the const deal and realisation, writes only the state, the
 * flows and (optionally) the pre-sized ledger.
 */
#include "ipabs/waterfall.h"

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

static const ipabs_party PLAN = {IPABS_PARTY_PLAN, -1};
static const ipabs_party GUARANTOR = {IPABS_PARTY_GUARANTOR, -1};
static const ipabs_party ESTATE = {IPABS_PARTY_ESTATE, -1};
static const ipabs_party LENDER = {IPABS_PARTY_LENDER, -1};
static const ipabs_party BANK = {IPABS_PARTY_BANK, -1};
static const ipabs_party TAX = {IPABS_PARTY_TAX, -1};
static const ipabs_party IP_DISPOSAL = {IPABS_PARTY_IP_DISPOSAL, -1};

/* min and max of finite amounts, inlined (fmin/fmax are library calls
 * when NaN semantics must be kept; amounts here are never NaN). */
static inline double lesser(double a, double b)
{
    return a < b ? a : b;
}

static inline double greater(double a, double b)
{
    return a > b ? a : b;
}

static ipabs_party party(ipabs_party_kind kind, int index)
{
    return (ipabs_party){kind, index};
}

/* Everything one step works on. */
typedef struct step {
    const ipabs_deal *deal;
    const ipabs_realisation *real;
    ipabs_state *st;
    ipabs_period_flows *fl;
    ipabs_ledger *ledger; /* may be NULL */
    int t;
    bool guarantor_alive;
    bool final;           /* no cash can reach the plan after this period */
    bool split;           /* revenue and principal accounts (plan.accounts: split) */
    double avail;         /* plan funds not yet paid out: with split accounts,
                             the revenue account's */
    double prin;          /* split accounts: the principal account's; else 0 */
    double senior_principal_due; /* part of the amounts due that is principal */
    double revenue_due;   /* part that is taxes, expenses and senior interest */
    double topup_new;     /* this period's top-up: reimbursable from the next */
    bool claim_ranked;    /* the order has passed the top-up claim's position */
    double payout_interest; /* interest part of the payouts, net of fees: taxed */
    bool pay;             /* a payment date: the plan pays; else it only collects */
    bool defer;           /* the servicer's collections of this period wait for
                             the payment date after the next (transfer lag) */
    double tol_rel;       /* the conservation checks' relative tolerance (near) */
} step;

/* The collection period's accrual fraction under a loan's day count. */
static inline double accrual(const step *s, ipabs_daycount dc)
{
    return s->deal->accrual_dc[dc][s->t];
}

/* The payment period's accrual fraction under a class's or an expense's
 * day count (one span from the last payment date to this one). */
static inline double pay_accrual(const step *s, ipabs_daycount dc)
{
    return s->deal->pay_accrual_dc[dc][s->t];
}

static void record(step *s, ipabs_party payer, ipabs_party payee,
                   ipabs_flow_kind kind, int loan, int tranche, double amount)
{
    if (s->ledger != NULL)
        ipabs_ledger_add(s->ledger, s->t, payer, payee, kind, loan, tranche,
                         amount);
}

/* Cash reaching the plan: with split accounts, revenue_part of it to the
 * revenue account and the rest to the principal account; with one account
 * all of it to that one. */
static void receive(step *s, double amount, double revenue_part)
{
    if (!s->split) {
        s->avail += amount;
        return;
    }
    s->avail += revenue_part;
    s->prin += amount - revenue_part;
}

/* What the servicer collects for the plan (loan collections, the plan's IP
 * proceeds): in a period within the transfer lag of the next payment date
 * it is set aside for the payment date after (docs/waterfall.md,
 * "Collection and payment periods"); else it is received as above. */
static void receive_collection(step *s, double amount, double revenue_part)
{
    if (!s->defer) {
        receive(s, amount, revenue_part);
        return;
    }
    ipabs_state *st = s->st;
    if (!s->split) {
        st->deferred_revenue += amount;
        return;
    }
    st->deferred_revenue += revenue_part;
    st->deferred_principal += amount - revenue_part;
}

/* The revenue share of a receipt on defaulted loan i that pays its exposure
 * (an accelerated payout, the plan's IP proceeds): the interest part of the
 * exposure at default, open balance + the period's interest. */
static double exposure_revenue_share(const step *s, int i)
{
    double ead = s->st->ead[i];
    return ead > 0.0 ? ipabs_loan_at(s->deal, i, s->real->default_period[i])->interest / ead
                     : 0.0;
}

/* ---- 0. the principal account's reinvestment income ------------------------ */

/* Split accounts: the principal account held since the last payment date
 * earns the reinvestment rate (a deposit with the account bank) over the
 * period, under the deal's day count, as revenue. */
static void reinvest(step *s)
{
    if (!s->split || s->prin <= 0.0 || s->deal->reinvestment_rate <= 0.0)
        return;
    double income = s->prin * s->deal->reinvestment_rate * s->deal->accrual[s->t];
    s->fl->reinvestment_income = income;
    receive(s, income, income);
    record(s, BANK, PLAN, IPABS_FLOW_REINVESTMENT, -1, -1, income);
}

/* ---- 1. defaults ---------------------------------------------------------- */

/* Defaulted loan i's scheduled amounts, from this period to its term, are
 * no longer the pool's: taken off the dues once, reading its periods in a
 * row (loan-major, ipabs_loan_at), where taking them off period by period
 * visited every defaulted loan again in every period. */
static void forgo_dues(step *s, int i)
{
    const ipabs_deal *deal = s->deal;
    const ipabs_loan_period *lp = ipabs_loan_at(deal, i, 0);
    double gfee = deal->loan_hot[i].guarantee_fee_rate;
    ipabs_pool_due *due = s->st->pool_due;
    for (int t = s->t; t <= deal->loan_hot[i].term; t++) {
        double base = lp[t].fee_base;
        due[t].interest -= lp[t].interest;
        due[t].principal -= lp[t].amortisation;
        due[t].agency_fee -= base * deal->bank_fee_rate;
        due[t].servicing_fee -= base * deal->servicing_fee_rate;
        due[t].guarantee_fee -= base * gfee;
    }
}

static void default_loans(step *s)
{
    ipabs_state *st = s->st;
    const ipabs_realisation *r = s->real;
    /* The tables of a large pool are not in the cache: ask for every row
     * of the period's defaults first, so that their misses overlap
     * instead of following one another. */
    for (int j = st->n_defaulted; j < r->n_defaults &&
                                  r->default_period[r->order[j]] == s->t; j++) {
        int i = r->order[j];
        const char *row = (const char *)ipabs_loan_at(s->deal, i, s->t);
        const char *end = (const char *)ipabs_loan_at(s->deal, i, s->deal->loan_hot[i].term);
        for (; row <= end; row += 64)
            __builtin_prefetch(row);
    }
    /* Loans bought back by a clean-up call are the originator's: their
     * later defaults are not the plan's. */
    while (st->called == 0 && st->n_defaulted < r->n_defaults &&
           r->default_period[r->order[st->n_defaulted]] == s->t) {
        int i = r->order[st->n_defaulted++];
        const ipabs_loan_period *lp = ipabs_loan_at(s->deal, i, s->t);
        double open = lp->open;
        st->ead[i] = open + lp->interest;
        forgo_dues(s, i);
        st->performing_balance -= open;
        st->cum_defaulted += open;
        st->principal_amount += open;
        s->fl->new_defaults++;
        s->fl->new_default_balance += open;
    }
    s->fl->cum_default_ratio = st->cum_defaulted / s->deal->pool_balance;
}

/* ---- 2. obligor collections ----------------------------------------------- */

static void ledger_collections(step *s)
{
    const ipabs_deal *deal = s->deal;
    if (s->ledger == NULL || s->st->called > 0)
        return;
    for (int i = 0; i < deal->n_loans; i++) {
        const ipabs_loan *l = &deal->loans[i];
        if (s->st->ead[i] > 0.0 || s->t > l->term)
            continue;
        double base = l->balance[s->t - 1] * accrual(s, l->daycount);
        double agency = base * deal->bank_fee_rate;
        double servicing = base * deal->servicing_fee_rate;
        ipabs_party obligor = party(IPABS_PARTY_LOAN, i);
        record(s, obligor, BANK, IPABS_FLOW_AGENCY_FEE, i, -1, agency);
        record(s, obligor, LENDER, IPABS_FLOW_SERVICING_FEE, i, -1, servicing);
        record(s, obligor, PLAN, IPABS_FLOW_INTEREST, i, -1,
               l->interest[s->t] - agency - servicing);
        record(s, obligor, PLAN, IPABS_FLOW_PRINCIPAL, i, -1,
               l->amortisation[s->t]);
        record(s, obligor, GUARANTOR, IPABS_FLOW_GUARANTEE_FEE, i, -1,
               base * l->guarantee_fee_rate);
    }
}

/* The period's dues of the performing loans (state.pool_due). */
static void collect(step *s)
{
    int t = s->t;
    if (s->st->called > 0)
        return;
    const ipabs_pool_due *due = &s->st->pool_due[t];
    double interest = due->interest, principal = due->principal;
    double agency = due->agency_fee, servicing = due->servicing_fee;
    double gfee = due->guarantee_fee;
    /* Subtracting every loan from the total can leave rounding dust. */
    ipabs_period_flows *fl = s->fl;
    fl->agency_fee = greater(agency, 0.0);
    fl->servicing_fee = greater(servicing, 0.0);
    fl->guarantee_fee = greater(gfee, 0.0);
    fl->interest_collected = greater(interest - fl->agency_fee - fl->servicing_fee, 0.0);
    fl->principal_collected = greater(principal, 0.0);
    s->st->performing_balance -= fl->principal_collected;
    if (s->defer)
        s->st->deferred_loan_principal += fl->principal_collected;
    else
        s->st->principal_amount += fl->principal_collected;
    receive_collection(s, fl->interest_collected + fl->principal_collected,
                       fl->interest_collected);
    if (s->defer)
        s->st->deferred_interest += fl->interest_collected;
    ledger_collections(s);
}

/* The originator buys every performing loan back at par (the period's
 * interest was just collected, so par plus accrued is the balance): the
 * price is a principal receipt, the loans are the originator's from now
 * on (state.called), and the ledger names it as payer loan by loan, with
 * the kind of the call that bought them.  Returns the price. */
static double buy_performing_loans(step *s, ipabs_flow_kind kind)
{
    const ipabs_deal *deal = s->deal;
    ipabs_state *st = s->st;
    double price = st->performing_balance;
    st->called = s->t;
    st->performing_balance = 0.0;
    st->principal_amount += price;
    receive(s, price, 0.0);
    for (int i = 0; i < deal->n_loans && s->ledger != NULL; i++)
        if (st->ead[i] <= 0.0 && s->t < deal->loans[i].term)
            record(s, LENDER, PLAN, kind, i, -1, deal->loans[i].balance[s->t]);
    return price;
}

/* The clean-up call (清仓回购): once the performing balance, after this
 * period's collections, is at or below the scenario's fraction of the
 * original pool, the originator buys the performing loans back at par.
 * On a payment date the accrued interest is nil (the period's interest was
 * just collected), so par plus accrued is the balance.  Defaulted loans
 * stay in the plan with their payouts and recoveries. */
static void call_cleanup(step *s)
{
    const ipabs_deal *deal = s->deal;
    ipabs_state *st = s->st;
    if (!s->pay || deal->cleanup_call <= 0.0 || st->called > 0 || st->performing_balance <= 0.0 ||
        st->performing_balance > deal->cleanup_call * deal->pool_balance)
        return;
    s->fl->cleanup_price = buy_performing_loans(s, IPABS_FLOW_CLEANUP_CALL);
}

/* The originator's call (赎回, plan.call) on the date it is exercised: it
 * buys the performing loans at par (par plus accrued: the period's
 * interest was just collected) and from then on every class is redeemed
 * as funds allow (docs/waterfall.md, "Puts and calls").  Defaulted loans
 * stay in the plan with their payouts and recoveries, which redeem what
 * the price leaves outstanding.  After a clean-up call there is nothing
 * left to buy, but the securities are still redeemed. */
static void call_option(step *s)
{
    const ipabs_deal *deal = s->deal;
    ipabs_state *st = s->st;
    if (deal->call_exercise != s->t)
        return;
    st->redeeming = true;
    if (st->called > 0 || st->performing_balance <= 0.0)
        return;
    s->fl->call_price = buy_performing_loans(s, IPABS_FLOW_CALL);
}

/* ---- the defaults of one period --------------------------------------------- */

/* The defaults met so far (real->order[0..n_defaulted), by period) that
 * happened in period tau: [*lo, return).  The list is sorted by period, so
 * they are one run, found by bisection: a step that acts only on the
 * defaults of one period (a disposal or an accelerated payout a fixed lag
 * after the default) visits them alone, in the list's order, instead of
 * every default so far (hundreds per path in large pools). */
/* Below this many defaults a scan costs less than the bisections (and
 * gives the same result). */
#define DEFAULT_RUNS_FROM 16

static int defaults_of_period(const step *s, int tau, int *lo)
{
    const int *order = s->real->order, *period = s->real->default_period;
    int a = 0, b = s->st->n_defaulted;
    while (a < b) {
        int m = a + (b - a) / 2;
        if (period[order[m]] < tau)
            a = m + 1;
        else
            b = m;
    }
    *lo = a;
    while (b < s->st->n_defaulted && period[order[b]] == tau)
        b++;
    return b;
}

/* ---- 3. IP recoveries ----------------------------------------------------- */

/* The plan's share of a recovery prepays a scheduled-style guarantee: the
 * guarantor keeps paying only the part of the schedule still outstanding. */
static void reduce_schedule(step *s, int i, double to_plan)
{
    if (s->t > s->deal->loan_hot[i].term)
        return;
    double remaining = s->st->scale[i] * ipabs_loan_at(s->deal, i, s->t)->open;
    if (remaining > 0.0)
        s->st->scale[i] *= greater(0.0, 1.0 - to_plan / remaining);
}

/* The part of a loan's IP proceeds that belongs to the guarantor (or, once
 * it has failed, to its estate).  Pledged to the plan, the guarantor is
 * subrogated pro rata to what it has paid on the loan.  Pledged to the
 * guarantor (反担保), the proceeds are its own: wholly while it stands
 * behind the whole claim, pro rata to what it paid once its capacity is
 * exhausted (the pledge secures its recourse claim, no more), and wholly to
 * its estate after it has failed. */
static double guarantor_share(const step *s, int i)
{
    const ipabs_state *st = s->st;
    double paid = lesser(1.0, st->guarantor_paid[i] / st->ead[i]);
    if (s->deal->guarantor.ip_pledgee == IPABS_PLEDGEE_PLAN)
        return paid;
    if (!s->guarantor_alive)
        return 1.0;
    return st->capacity_exhausted ? paid : 1.0;
}

static void record_guarantor_share(step *s, int i, double amount)
{
    bool pledge = s->deal->guarantor.ip_pledgee == IPABS_PLEDGEE_GUARANTOR;
    ipabs_flow_kind kind = pledge ? IPABS_FLOW_PLEDGE_PROCEEDS : IPABS_FLOW_RECOVERY;
    if (s->guarantor_alive) {
        s->fl->recovery_guarantor += amount;
        record(s, IP_DISPOSAL, GUARANTOR, kind, i, -1, amount);
    } else {
        s->fl->recovery_estate += amount;
        record(s, IP_DISPOSAL, ESTATE, kind, i, -1, amount);
    }
}

/* The runs of the defaults in which period t's disposals are, in the
 * defaults' order: [lo[r], hi[r]) for r < the count returned.  With the
 * deal's recovery lags listed, the loans sold now defaulted one of those
 * lags ago: a run per lag, the longest lag's (the earliest defaults)
 * first; otherwise, or with few defaults, all of them. */
static int disposal_runs(const step *s, int *lo, int *hi)
{
    const ipabs_deal *deal = s->deal;
    if (deal->n_recovery_lags == 0 || s->st->n_defaulted < DEFAULT_RUNS_FROM) {
        lo[0] = 0;
        hi[0] = s->st->n_defaulted;
        return 1;
    }
    for (int k = 0; k < deal->n_recovery_lags; k++)
        hi[k] = defaults_of_period(s, s->t - deal->recovery_lags[k], &lo[k]);
    return deal->n_recovery_lags;
}

/* The disposals of period t, in the order of the defaults (a loan of a
 * run whose own lag differs is skipped by the test). */
static void recover_ip(step *s)
{
    ipabs_state *st = s->st;
    int lo[IPABS_RECOVERY_LAG_RUNS], hi[IPABS_RECOVERY_LAG_RUNS];
    int runs = disposal_runs(s, lo, hi);
    for (int r = 0; r < runs; r++)
        for (int j = lo[r]; j < hi[r]; j++) {
            int i = s->real->order[j];
            const ipabs_loan_hot *l = &s->deal->loan_hot[i];
            if (s->real->default_period[i] + l->recovery_lag != s->t)
                continue;
            double gross = lesser(st->ead[i], l->ip_value * s->real->realisation[i]);
            double proceeds = greater(0.0, gross - l->disposal_cost);
            double to_guarantor = proceeds * guarantor_share(s, i);
            double to_plan = proceeds - to_guarantor;
            st->plan_recovered[i] += to_plan;
            s->fl->recovery_plan += to_plan;
            receive_collection(s, to_plan, to_plan * exposure_revenue_share(s, i));
            record(s, IP_DISPOSAL, PLAN, IPABS_FLOW_RECOVERY, i, -1, to_plan);
            record_guarantor_share(s, i, to_guarantor);
            if (s->deal->guarantor.payout_style == IPABS_PAYOUT_SCHEDULED)
                reduce_schedule(s, i, to_plan);
        }
}

/* ---- 4. guarantor support ------------------------------------------------- */

/* The guarantor's answer to a claim of `due`: what it pays now.  Capacity
 * bounds everything it ever owes; a failed guarantor pays nothing and the
 * claim goes to its estate. */
static double guarantor_support(step *s, double due)
{
    ipabs_state *st = s->st;
    if (due <= 0.0)
        return 0.0;
    double room = greater(0.0, s->deal->guarantor.capacity - st->guarantor_committed);
    double owed = lesser(due, room);
    if (due > room)
        st->capacity_exhausted = true;
    st->guarantor_committed += owed;
    if (!s->guarantor_alive) {
        st->estate_claim += owed;
        s->fl->guarantor_owed_unpaid += owed;
        return 0.0;
    }
    st->guarantor_paid_total += owed;
    return owed;
}

static double payout_due(const step *s, int i)
{
    const ipabs_guarantor *g = &s->deal->guarantor;
    int tau = s->real->default_period[i];
    if (g->payout_style == IPABS_PAYOUT_ACCELERATED)
        return s->t == tau + g->payout_lag
                   ? greater(0.0, s->st->ead[i] - s->st->plan_recovered[i])
                   : 0.0;
    if (s->t > s->deal->loan_hot[i].term)
        return 0.0;
    const ipabs_loan_period *lp = ipabs_loan_at(s->deal, i, s->t);
    return s->st->scale[i] * (lp->interest + lp->amortisation);
}

/* The revenue share of a payout on loan i: of an accelerated payout, as of
 * the exposure; of a scheduled one, the interest part of what was due. */
static double payout_revenue_share(const step *s, int i)
{
    if (s->deal->guarantor.payout_style == IPABS_PAYOUT_ACCELERATED)
        return exposure_revenue_share(s, i);
    const ipabs_loan_period *lp = ipabs_loan_at(s->deal, i, s->t);
    double due = lp->interest + lp->amortisation;
    return due > 0.0 ? lp->interest / due : 0.0;
}

/* The bank's and the servicer's shares of loan i's interest due in period
 * t: their fees on its balance over that period, as a fraction of the
 * interest (base x rate / interest, under the loan's day count). */
static void fee_shares(const step *s, int i, int t, double *bank, double *servicing)
{
    const ipabs_loan_period *lp = ipabs_loan_at(s->deal, i, t);
    double interest = lp->interest;
    double base = lp->fee_base;
    *bank = interest > 0.0 ? base * s->deal->bank_fee_rate / interest : 0.0;
    *servicing = interest > 0.0 ? base * s->deal->servicing_fee_rate / interest : 0.0;
}

/* The guarantor pays the obligor's debt: principal and the contractual
 * (gross) interest.  That interest reaches the plan as the obligor's would,
 * through the entrusted bank and the servicer, who keep their fees on it,
 * and it is the plan's interest income, taxed like the collections.  A
 * default then leaves the bank, the servicer and the tax where a
 * performing loan would, and cannot hand their shares to the sub. */
static void pay_payout_fees(step *s, int i, double paid)
{
    const ipabs_guarantor *g = &s->deal->guarantor;
    int t = g->payout_style == IPABS_PAYOUT_ACCELERATED ? s->real->default_period[i] : s->t;
    if (t < 1 || t > s->deal->loan_hot[i].term)
        return;
    double bank = 0.0, servicing = 0.0;
    fee_shares(s, i, t, &bank, &servicing);
    double interest = paid * payout_revenue_share(s, i);
    double agency = interest * bank, service = interest * servicing;
    double fees = agency + service;
    s->fl->payout_fees += fees;
    s->payout_interest += interest - fees;
    /* The fees leave the revenue the payout's interest brought. */
    s->avail -= fees;
    record(s, PLAN, BANK, IPABS_FLOW_AGENCY_FEE, i, -1, agency);
    record(s, PLAN, LENDER, IPABS_FLOW_SERVICING_FEE, i, -1, service);
}

static void pay_guarantees(step *s)
{
    /* Accelerated payouts are due only on the loans that defaulted
     * payout_lag periods ago.  Every other loan's claim is +0.0, and going
     * through it changes nothing: guarantor_support(0) pays and commits
     * nothing, the +0.0 it adds leaves the sums, and the ledger drops
     * zero amounts. */
    const ipabs_guarantor *g = &s->deal->guarantor;
    int lo = 0, hi = g->payout_style == IPABS_PAYOUT_ACCELERATED &&
                             s->st->n_defaulted >= DEFAULT_RUNS_FROM
                         ? defaults_of_period(s, s->t - g->payout_lag, &lo)
                         : s->st->n_defaulted;
    for (int j = lo; j < hi; j++) {
        int i = s->real->order[j];
        double due = payout_due(s, i);
        double committed = s->st->guarantor_committed;
        double paid = guarantor_support(s, due);
        s->st->guarantor_paid[i] += paid;
        /* A claim lodged with a failed guarantor's estate will be paid its
         * dividend: the estate is subrogated for that part, so the plan
         * never recovers more than its claim on the loan. */
        if (!s->guarantor_alive)
            s->st->guarantor_paid[i] += s->deal->guarantor.recovery_rate *
                                        (s->st->guarantor_committed - committed);
        s->fl->guarantee_payout += paid;
        if (paid > 0.0)
            receive(s, paid, s->split ? paid * payout_revenue_share(s, i) : 0.0);
        record(s, GUARANTOR, PLAN, IPABS_FLOW_GUARANTEE_PAYOUT, i, -1, paid);
        if (paid > 0.0)
            pay_payout_fees(s, i, paid);
    }
}

/* ---- 5. the failed guarantor's estate ------------------------------------- */

static void recover_estate(step *s)
{
    const ipabs_guarantor *g = &s->deal->guarantor;
    int tau_g = s->real->guarantor_default_period;
    if (tau_g <= 0 || s->t < tau_g + g->recovery_lag || s->st->estate_claim <= 0.0)
        return;
    double paid = g->recovery_rate * s->st->estate_claim;
    s->st->estate_claim = 0.0;
    s->fl->estate_recovery = paid;
    receive(s, paid, 0.0);
    record(s, ESTATE, PLAN, IPABS_FLOW_ESTATE_RECOVERY, -1, -1, paid);
}

/* ---- 6. events ------------------------------------------------------------ */

/* The undertaking supports the senior securities: none outstanding, no
 * top-up. */
static bool seniors_outstanding(const step *s)
{
    for (int k = 0; k < s->deal->n_senior; k++)
        if (s->st->tranche_balance[k] > 0.0 ||
            s->st->interest_arrears[k] > IPABS_CONSERVATION_TOL)
            return true;
    return false;
}

/* Pledged to the guarantor, the proceeds of a disposal after its failure
 * go to its estate: none of them can reach the plan. */
static bool recovery_can_reach_plan(const step *s, int i, int rec)
{
    /* A loan the guarantor has paid in full: the proceeds are wholly its
     * own (pledge, subrogation) or its estate's, whoever holds the pledge.
     * Waiting for them would keep the plan open, its fixed expenses
     * running, for cash that can never reach it. */
    if (s->st->ead[i] > 0.0 && s->st->guarantor_paid[i] >= s->st->ead[i])
        return false;
    int tau_g = s->real->guarantor_default_period;
    return s->deal->guarantor.ip_pledgee == IPABS_PLEDGEE_PLAN || tau_g <= 0 ||
           rec < tau_g;
}

/* Can cash still reach the plan after this period?  Loans still running,
 * recoveries and accelerated payouts still to come, scheduled guarantee
 * payments, or a dividend from a failed guarantor's estate. */
static bool inflows_after(const step *s)
{
    const ipabs_deal *deal = s->deal;
    const ipabs_guarantor *g = &deal->guarantor;
    int t = s->t, T = deal->legal_final;
    int running = s->st->called > 0 ? 0 : deal->loans_running_after[t];
    /* Latest defaults first: theirs are the recoveries and payouts still
     * to come, so the answer is usually found at once (the result does
     * not depend on the order). */
    for (int j = s->st->n_defaulted - 1; j >= 0; j--) {
        int i = s->real->order[j], tau = s->real->default_period[i];
        const ipabs_loan_hot *l = &deal->loan_hot[i];
        running -= l->term > t && s->st->called == 0;
        int rec = tau + l->recovery_lag, pay = tau + g->payout_lag;
        if ((rec > t && rec <= T && recovery_can_reach_plan(s, i, rec)) ||
            (g->payout_style == IPABS_PAYOUT_ACCELERATED && pay > t && pay <= T) ||
            (g->payout_style == IPABS_PAYOUT_SCHEDULED && l->term > t))
            return true;
    }
    /* A failed guarantor's estate pays a dividend on its claims: while
     * claims are outstanding or can still arise, cash can still come. */
    int tau_g = s->real->guarantor_default_period;
    if (tau_g > 0 && g->recovery_rate > 0.0 && t < T && tau_g + g->recovery_lag <= T &&
        (s->st->estate_claim > 0.0 || s->st->claimed_arrears > 0.0 || seniors_outstanding(s)))
        return true;
    return running > 0;
}

/* IP still to be sold after this period, whoever its proceeds belong to:
 * once the plan has settled, the steps go on only for these (the
 * guarantor's pledge proceeds and subrogation are not the plan's affair
 * but are still the guarantor's cash). */
static bool disposals_after(const step *s)
{
    int t = s->t, T = s->deal->legal_final;
    for (int j = 0; j < s->st->n_defaulted; j++) {
        int i = s->real->order[j];
        int rec = s->real->default_period[i] + s->deal->loan_hot[i].recovery_lag;
        if (rec > t && rec <= T)
            return true;
    }
    return false;
}

static void check_events(step *s)
{
    const ipabs_triggers *tr = &s->deal->triggers;
    ipabs_state *st = s->st;
    if (tr->on_guarantor_default && !s->guarantor_alive)
        st->accelerated = true;
    if (s->fl->cum_default_ratio > tr->cdr_threshold)
        st->accelerated = true;
    if (tr->on_senior_interest_shortfall && st->senior_interest_short)
        st->accelerated = true;
    /* An event of default (违约事件): senior interest unpaid, when the deal
     * states an order of payments for it. */
    if (s->deal->pop_given[IPABS_POP_DEFAULTED] && st->senior_interest_short) {
        st->in_default = true;
        st->accelerated = true;
    }
    s->fl->accelerated = st->accelerated;
}

/* ---- 7. amounts due and the top-up ---------------------------------------- */

static double senior_balance(const step *s)
{
    double b = 0.0;
    for (int k = 0; k < s->deal->n_senior; k++)
        b += s->st->tranche_balance[k];
    return b;
}

/* Principal a tranche must receive this period under its amortisation:
 * all of it from its expected maturity on (it stays due, unpaid, until its
 * legal final writes it off), at its legal final, or when the plan ends. */
static double principal_due(const step *s, int k)
{
    const ipabs_tranche *tr = &s->deal->tranches[k];
    double bal = s->st->tranche_balance[k];
    if (bal <= 0.0)
        return 0.0;
    if (s->t >= tr->legal_final || s->final ||
        (tr->expected_maturity > 0 && s->t >= tr->expected_maturity))
        return bal;
    if (tr->amort == IPABS_TRANCHE_SCHEDULED)
        return greater(0.0, bal - tr->target[s->t]);
    return 0.0;
}

static double expense_accrual(const step *s, int e, double senior_open)
{
    const ipabs_expense *x = &s->deal->expenses[e];
    if (x->basis == IPABS_EXPENSE_SENIOR_RATE)
        return x->amount * senior_open * pay_accrual(s, x->daycount);
    return x->amount * pay_accrual(s, x->daycount);
}

/* VAT on the loan interest the plan received this period (interest held
 * back by the transfer lag is taxed when it reaches the plan). */
static void accrue_tax(step *s)
{
    if (!s->defer)
        s->st->tax_arrears += s->deal->tax_rate * s->fl->interest_collected;
    /* Payouts reach the plan's account at once, never deferred. */
    s->st->tax_arrears += s->deal->tax_rate * s->payout_interest;
}

/* Accrue this period's taxes, expenses and coupons onto what is owed, and
 * return what is due on items 1-3 (taxes, expenses, senior interest, senior
 * principal): the amount the shortfall top-up guarantees. */
static double amounts_due(step *s)
{
    const ipabs_deal *deal = s->deal;
    ipabs_state *st = s->st;
    ipabs_period_flows *fl = s->fl;
    double senior_open = senior_balance(s);
    accrue_tax(s);
    double due = st->tax_arrears;
    for (int e = 0; e < deal->n_expenses; e++) {
        /* Expenses run until the plan is settled: while it has securities
         * outstanding or cash still to receive and distribute (a payout or
         * a recovery after the classes are repaid is still collected and
         * paid out by the manager, through the custodian's account).
         * Stopping them with the last security let a default that repaid
         * the sub a period earlier spare it quarters of fixed fees. */
        if (!st->settled)
            st->expense_arrears[e] += expense_accrual(s, e, senior_open);
        due += st->expense_arrears[e];
    }
    s->revenue_due = due;
    for (int k = 0; k < deal->n_tranches; k++) {
        fl->balance_open[k] = st->tranche_balance[k];
        fl->interest_due[k] = st->interest_arrears[k] +
                              st->tranche_balance[k] * deal->tranches[k].coupon_at[s->t] *
                              pay_accrual(s, deal->tranches[k].daycount);
        if (k < deal->n_senior) {
            double principal = principal_due(s, k);
            s->senior_principal_due += principal;
            s->revenue_due += fl->interest_due[k];
            due += fl->interest_due[k] + principal;
        }
    }
    return due;
}

/* What is claimed from a failed guarantor under the undertaking: the
 * shortfall on taxes, expenses and senior interest not claimed in an
 * earlier period (arrears carried forward were claimed when they arose).
 * Senior principal is not claimed here: the missing principal is the
 * defaulted loans', claimed under their guarantees. */
static double failed_guarantor_claim(const step *s, double required)
{
    double shortfall = s->split
        ? s->revenue_due - s->avail - (s->deal->principal_covers_revenue ? s->prin : 0.0)
        : required - s->senior_principal_due - s->avail;
    return greater(0.0, shortfall - s->st->claimed_arrears);
}

/* With split accounts, what the two accounts cannot pay of the amounts due:
 * revenue items from the revenue account, or from the principal account if
 * the deal lets it; principal due from the principal account, then from
 * revenue left after the revenue items. */
static double split_shortfall(const step *s, double required)
{
    if (s->deal->principal_covers_revenue)
        return required - s->avail - s->prin;
    double revenue_short = greater(0.0, s->revenue_due - s->avail);
    double revenue_left = greater(0.0, s->avail - s->revenue_due);
    return revenue_short +
           greater(0.0, s->senior_principal_due - s->prin - revenue_left);
}

static void top_up(step *s, double required)
{
    s->fl->available = s->avail + s->prin;
    if (!s->deal->guarantor.topup || !seniors_outstanding(s))
        return;
    double shortfall = !s->guarantor_alive ? failed_guarantor_claim(s, required)
                       : s->split          ? split_shortfall(s, required)
                                           : required - s->avail;
    if (shortfall <= IPABS_CONSERVATION_TOL)
        return;
    double paid = guarantor_support(s, shortfall);
    s->fl->topup = paid;
    s->topup_new = paid;
    record(s, GUARANTOR, PLAN, IPABS_FLOW_TOPUP, -1, -1, paid);
    if (s->split) {
        /* To the revenue account what it lacks for the revenue items, the
         * rest to the principal account. */
        double to_revenue = lesser(paid, greater(0.0, s->revenue_due - s->avail));
        receive(s, paid, to_revenue);
        return;
    }
    /* Paid in full, the funds are exactly what is due: no rounding dust
     * left as arrears to trip a trigger or call for a top-up later. */
    s->avail = paid == shortfall && s->guarantor_alive ? required : s->avail + paid;
}

/* ---- 8. priority of payments ---------------------------------------------- */

static double take(step *s, double want)
{
    double paid = lesser(s->avail, greater(want, 0.0));
    s->avail -= paid;
    return paid;
}

static bool principal_free(const step *s);

/* A revenue item (tax, an expense, senior interest): from the revenue
 * account, then, when the deal allows it, from the principal account, the
 * part so used recorded in the principal deficiency ledger. */
static double take_revenue(step *s, double want)
{
    double paid = take(s, want);
    /* Principal no longer held for the seniors (repaid, or the plan's
     * final period) pays the revenue items whatever the switch says: it
     * would otherwise pass to the sub ahead of them. */
    if (!s->split || paid >= want ||
        (!s->deal->principal_covers_revenue && !principal_free(s)))
        return paid;
    double cover = lesser(s->prin, want - paid);
    if (cover <= 0.0)
        return paid;
    s->prin -= cover;
    s->st->principal_deficiency += cover;
    s->fl->principal_to_revenue += cover;
    record(s, PLAN, PLAN, IPABS_FLOW_PRINCIPAL_TO_REVENUE, -1, -1, cover);
    return paid + cover;
}

/* A principal item: from the principal account, then from revenue. */
static double take_principal(step *s, double want)
{
    if (!s->split)
        return take(s, want);
    double paid = lesser(s->prin, greater(want, 0.0));
    s->prin -= paid;
    double more = take(s, want - paid);
    if (more > 0.0) {
        s->fl->revenue_to_principal += more;
        record(s, PLAN, PLAN, IPABS_FLOW_REVENUE_TO_PRINCIPAL, -1, -1, more);
    }
    return paid + more;
}

/* Can the principal account pay what is junior to the seniors?  Only once
 * they are repaid, or when the plan ends: until then it is held for them. */
static bool principal_free(const step *s)
{
    return s->final || senior_balance(s) <= 0.0;
}

/* Cash for items junior to senior principal: the revenue account, and the
 * principal account once it is free. */
static double take_junior(step *s, double want)
{
    double paid = take(s, want);
    if (!s->split || paid >= want || !principal_free(s))
        return paid;
    double more = lesser(s->prin, want - paid);
    s->prin -= more;
    return paid + more;
}

/* Revenue repays the principal deficiency ledger: principal receipts that
 * paid revenue items go back to the principal account. */
static void repay_deficiency(step *s)
{
    if (!s->split || s->st->principal_deficiency <= 0.0)
        return;
    double paid = take(s, s->st->principal_deficiency);
    s->st->principal_deficiency -= paid;
    s->prin += paid;
    s->fl->revenue_to_principal += paid;
    record(s, PLAN, PLAN, IPABS_FLOW_REVENUE_TO_PRINCIPAL, -1, -1, paid);
}

static void pay_taxes(step *s)
{
    ipabs_state *st = s->st;
    double tax = take_revenue(s, st->tax_arrears);
    st->tax_arrears -= tax;
    s->fl->tax_paid = tax;
    record(s, PLAN, TAX, IPABS_FLOW_TAX, -1, -1, tax);
}

static void pay_expense(step *s, int e)
{
    ipabs_state *st = s->st;
    double paid = take_revenue(s, st->expense_arrears[e]);
    st->expense_arrears[e] -= paid;
    s->fl->expenses_paid += paid;
    record(s, PLAN, party(IPABS_PARTY_EXPENSE, e), IPABS_FLOW_EXPENSE, -1, -1, paid);
}

/* Who holds the securities a class's put supporter bought: the originator,
 * or the guarantor (its estate once it has failed). */
static ipabs_party holder_of(const step *s, int k)
{
    if (s->deal->tranches[k].put_supporter == IPABS_SUPPORTER_ORIGINATOR)
        return LENDER;
    return s->guarantor_alive ? GUARANTOR : ESTATE;
}

/* The supporter's share of class k: every security of a class is paid
 * alike, so what a class receives is split by face held. */
static double held_share(const step *s, int k)
{
    double bal = s->st->tranche_balance[k], held = s->st->held[k];
    return held <= 0.0 || bal <= 0.0 ? 0.0 : held >= bal ? 1.0 : held / bal;
}

static void pay_interest(step *s, int k, double paid)
{
    double held = paid * held_share(s, k);
    s->fl->interest_paid[k] = paid;
    s->fl->held_interest[k] = held;
    s->st->interest_arrears[k] = s->fl->interest_due[k] - paid;
    record(s, PLAN, party(IPABS_PARTY_TRANCHE, k), IPABS_FLOW_TRANCHE_INTEREST,
           -1, k, paid - held);
    record(s, PLAN, holder_of(s, k), IPABS_FLOW_HELD_INTEREST, -1, k, held);
}

static void settle_ranked_claim(step *s);

/* Interest of the listed classes, pro rata by amount due: senior interest
 * is a revenue item, a sub's return junior to the seniors.  One sub class
 * takes exactly what is paid. */
static void pay_interest_of(step *s, const int *cls, int n)
{
    bool senior = cls[0] < s->deal->n_senior;
    double due = 0.0;
    for (int j = 0; j < n; j++)
        due += s->fl->interest_due[cls[j]];
    if (!senior)
        settle_ranked_claim(s);
    double paid = senior ? take_revenue(s, due) : take_junior(s, due);
    if (n == 1 && !senior) {
        pay_interest(s, cls[0], paid);
        return;
    }
    for (int j = 0; j < n; j++)
        pay_interest(s, cls[j], paid >= due ? s->fl->interest_due[cls[j]]
                                            : s->fl->interest_due[cls[j]] * (paid / due));
}

static void pay_principal(step *s, int k, double want)
{
    ipabs_state *st = s->st;
    double paid = take_principal(s, lesser(want, st->tranche_balance[k]));
    double held = paid >= st->tranche_balance[k] ? st->held[k] : paid * held_share(s, k);
    st->tranche_balance[k] -= paid;
    st->held[k] = st->tranche_balance[k] > 0.0 ? greater(0.0, st->held[k] - held) : 0.0;
    s->fl->principal_paid[k] += paid;
    s->fl->held_principal[k] += held;
    record(s, PLAN, party(IPABS_PARTY_TRANCHE, k),
           IPABS_FLOW_TRANCHE_PRINCIPAL, -1, k, paid - held);
    record(s, PLAN, holder_of(s, k), IPABS_FLOW_HELD_PRINCIPAL, -1, k, held);
}

/* A senior class's principal.  Pass-through classes receive the principal
 * amount (scheduled collections plus balances written down at default) as
 * funds allow; under acceleration every yuan left goes to senior
 * principal. */
static void pay_senior_principal(step *s, int k)
{
    ipabs_state *st = s->st;
    double before = s->avail + s->prin;
    double want = principal_due(s, k);
    if (st->accelerated || st->redeeming)
        want = st->tranche_balance[k];
    else if (s->deal->tranches[k].amort == IPABS_TRANCHE_PASS_THROUGH)
        want = greater(want, st->principal_amount);
    pay_principal(s, k, want);
    st->principal_amount = greater(0.0, st->principal_amount - (before - (s->avail + s->prin)));
}

/* The guarantor's claim for its top-ups, repaid as funds allow at the
 * position the scenario sets; a failed guarantor's share goes to its
 * estate.  Top-ups of this period are repaid from the next period on: the
 * top-up made the funds exactly what is due, so repaying it at once would
 * only take back what it paid for. */
static void reimburse_topups(step *s)
{
    ipabs_state *st = s->st;
    double paid = take_junior(s, st->topup_claim);
    st->topup_claim -= paid;
    if (s->guarantor_alive) {
        s->fl->reimbursement += paid;
        record(s, PLAN, GUARANTOR, IPABS_FLOW_REIMBURSEMENT, -1, -1, paid);
    } else {
        s->fl->reimbursement_estate += paid;
        record(s, PLAN, ESTATE, IPABS_FLOW_REIMBURSEMENT, -1, -1, paid);
    }
}

/* The claim ranks above every item after its position.  Principal held for
 * the seniors is freed within the period once they are repaid, after the
 * claim's step may have run short: before any junior item takes that
 * cash, the claim takes what it is still owed.  Without this a sub class
 * or the residual would pass an unpaid senior claim (a default whose payout
 * repays the seniors early would hand the guarantor's advance to the sub). */
static void settle_ranked_claim(step *s)
{
    if (!s->claim_ranked || !s->split || !principal_free(s) ||
        s->deal->guarantor.reimbursement == IPABS_REIMBURSE_NONE)
        return;
    /* This period's top-up filled the revenue account only; principal now
     * free would otherwise pass it to a junior item in the same period. */
    s->st->topup_claim += s->topup_new;
    s->topup_new = 0.0;
    if (s->st->topup_claim > 0.0)
        reimburse_topups(s);
}

static void keep_reserve(step *s)
{
    if (s->st->accelerated || s->final || s->st->redeeming)
        return;
    double kept = take(s, s->deal->reserve_target);
    s->st->plan_cash = kept;
}


/* A sub class's principal waits for the seniors (or its own legal final);
 * then a pass-through sub takes what is left, a scheduled or bullet sub
 * what is due. */
static void pay_sub_principal(step *s, int k)
{
    const ipabs_tranche *tr = &s->deal->tranches[k];
    if (senior_balance(s) > 0.0 && s->t < tr->legal_final && !s->final)
        return;
    settle_ranked_claim(s);
    double want = principal_due(s, k);
    if (tr->amort == IPABS_TRANCHE_PASS_THROUGH || s->st->accelerated || s->st->redeeming)
        want = s->st->tranche_balance[k];
    pay_principal(s, k, want);
}

/* Principal of the listed classes, sequentially. */
static void pay_principal_of(step *s, const int *cls, int n)
{
    for (int j = 0; j < n; j++) {
        if (cls[j] < s->deal->n_senior)
            pay_senior_principal(s, cls[j]);
        else
            pay_sub_principal(s, cls[j]);
    }
}

/* What is left goes to the residual holder: the most junior sub tranche,
 * or the lender (originator) when there is none. */
static void pay_residual(step *s)
{
    const ipabs_deal *deal = s->deal;
    int k = deal->n_tranches - 1;
    bool to_sub = k >= deal->n_senior;
    settle_ranked_claim(s);
    double paid = take_junior(s, s->avail + s->prin);
    s->fl->residual = paid;
    record(s, PLAN, to_sub ? party(IPABS_PARTY_TRANCHE, k) : LENDER,
           IPABS_FLOW_RESIDUAL, -1, to_sub ? k : -1, paid);
}

/* The deal's order of payments (plan.priority_of_payments, or the built-in
 * one): the normal order, after an acceleration event, or after an event
 * of default.  A built-in reimbursement step is taken only at the position
 * guarantor.topup_reimbursement chose; one the scenario placed always. */
static void pay_in_order(step *s)
{
    const ipabs_deal *deal = s->deal;
    ipabs_pop_kind kind = s->st->in_default  ? IPABS_POP_DEFAULTED
                          : s->st->accelerated ? IPABS_POP_ACCELERATED
                                               : IPABS_POP_NORMAL;
    const ipabs_pop *pop = &deal->pop[kind];
    for (int j = 0; j < pop->n_steps; j++) {
        const ipabs_pop_step *x = &pop->steps[j];
        switch (x->op) {
        case IPABS_POP_TAXES:
            pay_taxes(s);
            break;
        case IPABS_POP_EXPENSE:
            pay_expense(s, x->index);
            break;
        case IPABS_POP_INTEREST:
            if (x->n > 0)
                pay_interest_of(s, &pop->classes[x->at], x->n);
            break;
        case IPABS_POP_PRINCIPAL:
            pay_principal_of(s, &pop->classes[x->at], x->n);
            break;
        case IPABS_POP_REIMBURSEMENT:
            if (x->index < 0 || (int)deal->guarantor.reimbursement == x->index) {
                reimburse_topups(s);
                s->claim_ranked = true;
            }
            break;
        case IPABS_POP_DEFICIENCY:
            repay_deficiency(s);
            break;
        case IPABS_POP_RESERVE:
            keep_reserve(s);
            break;
        case IPABS_POP_RESIDUAL:
            pay_residual(s);
            break;
        }
    }
}

/* ---- 8b. holders' puts ---------------------------------------------------- */

/* Have the classes ranking ahead of class k been repaid?  Only then may the
 * principal account, held for them first, redeem k's securities. */
static bool ahead_repaid(const step *s, int k)
{
    for (int j = 0; j < k; j++)
        if (s->st->tranche_balance[j] > 0.0)
            return false;
    return true;
}

/* The principal account redeems (cancels) securities put, at par, when the
 * accounts are split, the classes ahead are repaid and the class has no
 * unpaid coupon (the principal account pays no interest here). */
static double redeem_put(step *s, int k, double face)
{
    ipabs_state *st = s->st;
    if (!s->split || st->interest_arrears[k] > 0.0 || !ahead_repaid(s, k))
        return 0.0;
    double paid = lesser(s->prin, face);
    if (paid <= 0.0)
        return 0.0;
    s->prin -= paid;
    st->tranche_balance[k] -= paid;
    st->principal_amount = greater(0.0, st->principal_amount - paid);
    s->fl->principal_paid[k] += paid;
    s->fl->put_redeemed[k] += paid;
    record(s, PLAN, party(IPABS_PARTY_TRANCHE, k), IPABS_FLOW_PUT_REDEMPTION, -1, k, paid);
    return paid;
}

/* One put of class k on this date.  Price: par plus the securities' share
 * of unpaid coupon (on a payment date the coupon accrued since is nil).
 * The principal account first, then the supporter buys the rest and holds
 * it; `resold` of its purchase goes at once to new investors at the same
 * price.  A failed guarantor-supporter buys nothing: those holders keep
 * their securities (put_unfunded). */
static void settle_put(step *s, int k, const ipabs_put *put)
{
    ipabs_state *st = s->st;
    double bal = st->tranche_balance[k];
    if (bal <= 0.0)
        return;
    double per_face = 1.0 + st->interest_arrears[k] / bal;
    double face = put->exercised * greater(0.0, bal - st->held[k]);
    double rest = face - redeem_put(s, k, face);
    if (rest <= 0.0)
        return;
    ipabs_party holder = holder_of(s, k);
    if (holder.kind == IPABS_PARTY_ESTATE) {
        s->fl->put_unfunded += rest;
        return;
    }
    double resold = put->resold * rest;
    st->held[k] += rest - resold;
    s->fl->put_bought[k] += rest * per_face;
    s->fl->put_resold[k] += resold * per_face;
    record(s, holder, party(IPABS_PARTY_TRANCHE, k), IPABS_FLOW_PUT_PURCHASE, -1, k,
           rest * per_face);
    record(s, party(IPABS_PARTY_TRANCHE, k), holder, IPABS_FLOW_PUT_RESALE, -1, k,
           resold * per_face);
}

/* After the period's order of payments (and so after any top-up: a top-up
 * never pays a put), unless the plan ends now. */
static void settle_puts(step *s)
{
    if (s->final)
        return;
    for (int k = 0; k < s->deal->n_senior; k++)
        for (int q = 0; q < s->deal->tranches[k].n_puts; q++)
            if (s->deal->tranches[k].puts[q].period == s->t)
                settle_put(s, k, &s->deal->tranches[k].puts[q]);
}

/* ---- 9. legal final ------------------------------------------------------- */

/* At a tranche's legal final, or in the plan's final period (no cash can
 * come in afterwards), what is unpaid is written off. */

static void write_off_at_legal_final(step *s)
{
    ipabs_state *st = s->st;
    bool short_interest = false;
    for (int k = 0; k < s->deal->n_tranches; k++) {
        if (k < s->deal->n_senior && st->interest_arrears[k] > IPABS_CONSERVATION_TOL)
            short_interest = true;
        if (s->t == s->deal->tranches[k].legal_final || s->final) {
            s->fl->held_loss[k] = st->tranche_balance[k] > 0.0 ? st->held[k] : 0.0;
            st->held[k] = 0.0;
            s->fl->principal_loss[k] = st->tranche_balance[k];
            s->fl->interest_loss[k] = st->interest_arrears[k];
            st->tranche_balance[k] = 0.0;
            st->interest_arrears[k] = 0.0;
        }
        s->fl->balance_close[k] = st->tranche_balance[k];
        s->fl->held_close[k] = st->held[k];
    }
    st->senior_interest_short = short_interest;
}

/* Split accounts: the principal account not paid out is held to the next
 * payment date, in the plan's cash beside the reserve. */
static void hold_principal(step *s)
{
    ipabs_state *st = s->st;
    if (s->split) {
        st->principal_account = s->prin;
        st->plan_cash += s->prin;
        s->prin = 0.0;
    }
    s->fl->principal_account = st->principal_account;
    s->fl->principal_deficiency = st->principal_deficiency;
}

/* A collection period that is not a payment date: the plan pays nothing
 * and holds what it received (revenue beside the reserve, principal in
 * the principal account) to the next payment date; VAT accrues on the
 * interest as it is received; the classes stand still. */
static void hold_collections(step *s)
{
    ipabs_state *st = s->st;
    ipabs_period_flows *fl = s->fl;
    accrue_tax(s);
    fl->available = s->avail + s->prin;
    st->plan_cash = s->avail;
    s->avail = 0.0;
    for (int k = 0; k < s->deal->n_tranches; k++)
        fl->balance_open[k] = fl->balance_close[k] = st->tranche_balance[k];
}

/* Collections set aside by the transfer lag reach the plan: VAT accrues
 * on their interest, their loan principal joins the pass-through principal
 * amount, and the buckets are emptied (the cash itself is moved by the
 * caller). */
static void deferred_arrive(step *s)
{
    ipabs_state *st = s->st;
    st->tax_arrears += s->deal->tax_rate * st->deferred_interest;
    st->principal_amount += st->deferred_loan_principal;
    st->deferred_revenue = st->deferred_principal = 0.0;
    st->deferred_interest = st->deferred_loan_principal = 0.0;
}

/* The plan's last payment date pays out what the transfer lag set aside:
 * no later payment date will. */
static void release_deferred(step *s)
{
    ipabs_state *st = s->st;
    s->avail += st->deferred_revenue;
    s->prin += st->deferred_principal;
    deferred_arrive(s);
}

/* Collections set aside by the transfer lag stay in the plan's cash; after
 * a payment date they are the next one's (principal in the principal
 * account). */
static void hold_deferred(step *s)
{
    ipabs_state *st = s->st;
    st->plan_cash += st->deferred_revenue + st->deferred_principal;
    if (s->pay) {
        st->principal_account += st->deferred_principal;
        deferred_arrive(s);
    }
    s->fl->principal_account = st->principal_account;
}

/* Taxes, expenses and senior interest still unpaid after the period. */
static double unpaid_senior_items(const step *s)
{
    double unpaid = s->st->tax_arrears;
    for (int e = 0; e < s->deal->n_expenses; e++)
        unpaid += s->st->expense_arrears[e];
    for (int k = 0; k < s->deal->n_senior; k++)
        unpaid += s->st->interest_arrears[k];
    return unpaid;
}

/* ---- 8c. a settled plan with nothing to pay ------------------------------- */

/* +0.0 exactly: the value the skipped steps would leave unchanged (adding
 * +0.0 to -0.0 would give +0.0, so a -0.0 does not qualify). */
static bool plus_zero(double x)
{
    return x == 0.0 && !signbit(x);
}

/* After the plan's final period has been paid (settled), the periods go
 * on while IP is still to be sold, its proceeds the guarantor's.  When
 * such a period brings the plan no cash and the plan owes nothing, steps 7
 * to 9 move nothing: every amount due is +0.0, every take() pays +0.0 and
 * leaves the funds +0.0, each class's balance, arrears and holding stay
 * +0.0 (a pass-through principal amount, +0.0 or positive, is kept by
 * greater()), no expense accrues (settled), the top-up is not asked for
 * (no senior outstanding) and the flows they would write are the +0.0
 * that clear_flows set.  This is that condition, checked exactly (a
 * quarter of a Monte Carlo run's steps on the reference deal are such
 * periods); anything else takes the full steps.  Without a ledger only:
 * the full steps would record their zero amounts in it. */
static bool plan_idle(const step *s)
{
    const ipabs_deal *deal = s->deal;
    const ipabs_state *st = s->st;
    if (s->ledger != NULL || !st->settled || !plus_zero(s->avail) || !plus_zero(s->prin) ||
        !plus_zero(st->tax_arrears) || !plus_zero(s->fl->interest_collected) ||
        !plus_zero(s->payout_interest) || !plus_zero(st->topup_claim) ||
        !plus_zero(st->principal_deficiency) ||
        !(st->principal_amount > 0.0 || plus_zero(st->principal_amount)))
        return false;
    for (int e = 0; e < deal->n_expenses; e++)
        if (!plus_zero(st->expense_arrears[e]))
            return false;
    for (int k = 0; k < deal->n_tranches; k++)
        if (!plus_zero(st->tranche_balance[k]) || !plus_zero(st->interest_arrears[k]) ||
            !plus_zero(st->held[k]))
            return false;
    return true;
}

/* The state steps 7 to 9 set when nothing moves: no senior interest short
 * (all arrears are +0.0), no arrears left to claim from a failed
 * guarantor (their sum is +0.0). */
static void pay_nothing(step *s)
{
    s->st->senior_interest_short = false;
    s->st->claimed_arrears = 0.0;
}

/* ---- 10. conservation ----------------------------------------------------- */

/* Equal to 1e-6 yuan plus a relative error of `scale`, the size of the
 * amounts that were summed: for pools of billions double rounding alone
 * exceeds a millionth of a yuan.  The bound, not a tuned margin
 * (docs/waterfall.md, step 10): a running sum of N terms errs by at most
 * N * DBL_EPSILON / 2 of its largest partial result; per period each
 * identity's two sides take at most about 7 such roundings per loan (the
 * ledger's; the loan pool's: 2 per default) plus a few per tranche and
 * expense, so 4 * DBL_EPSILON * terms covers them.  The magnitude is floored at the
 * pool balance: the pool totals less the defaulted loans' shares carry
 * pool-sized rounding into a late, small period.  Issue 13: a fixed 1e-12
 * broke on 10,000 equal loans defaulting in one period, whose
 * subtractions from the performing balance all round the same way
 * (tests/test_hostile.c keeps that case). */
static double near_rel(const ipabs_deal *deal)
{
    int terms = deal->n_loans + deal->n_tranches + deal->n_expenses + 8;
    return IPABS_CONSERVATION_REL + 4.0 * DBL_EPSILON * terms;
}

/* greater() for fmax: the same value for the finite, non-NaN amounts
 * compared here, without fmax's library call. */
static bool near(const step *s, double a, double b, double scale)
{
    return fabs(a - b) <= IPABS_CONSERVATION_TOL +
                              s->tol_rel * greater(scale, s->deal->pool_balance);
}

/* The plan's gross cash in the period: the scale of its identities. */
static double plan_scale(const ipabs_period_flows *fl)
{
    return fl->plan_cash_open + fl->interest_collected + fl->principal_collected +
           fl->cleanup_price + fl->call_price + fl->guarantee_payout + fl->topup + fl->recovery_plan +
           fl->estate_recovery + fl->reinvestment_income;
}

static ipabs_status broken(const step *s, const char *who, double lhs,
                           double rhs, ipabs_error *err)
{
    return ipabs_error_set(err, IPABS_EINTERNAL, NULL, 0, 0, NULL,
                           "conservation broken in period %d for %s: "
                           "%.6f != %.6f (a bug in ipabs)",
                           s->t, who, lhs, rhs);
}

static double plan_net(const ipabs_period_flows *fl, int n_tranches)
{
    double in = fl->interest_collected + fl->principal_collected + fl->cleanup_price +
                fl->call_price + fl->guarantee_payout + fl->topup + fl->recovery_plan +
                fl->estate_recovery + fl->reinvestment_income;
    double out = fl->tax_paid + fl->expenses_paid + fl->residual +
                 fl->reimbursement + fl->reimbursement_estate + fl->payout_fees;
    for (int k = 0; k < n_tranches; k++)
        out += fl->interest_paid[k] + fl->principal_paid[k];
    return in - out;
}

static double ledger_net(const step *s, size_t first, ipabs_party p)
{
    double net = 0.0;
    for (size_t e = first; e < s->ledger->count; e++) {
        const ipabs_ledger_entry *x = &s->ledger->entries[e];
        if (x->payee.kind == p.kind && x->payee.index == p.index)
            net += x->amount;
        if (x->payer.kind == p.kind && x->payer.index == p.index)
            net -= x->amount;
    }
    return net;
}

/* What the put supporter receives as holder of class k in the period:
 * its share of interest and principal, and the resale of what it bought. */
static double held_cash(const ipabs_period_flows *fl, int k)
{
    return fl->held_interest[k] + fl->held_principal[k] + fl->put_resold[k];
}

/* The ledger, built loan by loan, against the state, built from pool
 * totals: plan cash, each tranche, the guarantor. */
static ipabs_status check_ledger(const step *s, size_t first, ipabs_error *err)
{
    const ipabs_period_flows *fl = s->fl;
    double plan = ledger_net(s, first, PLAN);
    if (!near(s, plan, fl->plan_cash_close - fl->plan_cash_open, plan_scale(fl)))
        return broken(s, "the plan account (ledger)", plan,
                      fl->plan_cash_close - fl->plan_cash_open, err);
    for (int k = 0; k < s->deal->n_tranches; k++) {
        double got = ledger_net(s, first, party(IPABS_PARTY_TRANCHE, k));
        bool residual_holder =
            k == s->deal->n_tranches - 1 && k >= s->deal->n_senior;
        double want = fl->interest_paid[k] + fl->principal_paid[k] +
                      (residual_holder ? fl->residual : 0.0) - held_cash(fl, k) +
                      fl->put_bought[k];
        if (!near(s, got, want, plan_scale(fl) + fl->put_bought[k]))
            return broken(s, s->deal->tranches[k].name, got, want, err);
    }
    double g = ledger_net(s, first, GUARANTOR), g_held = 0.0, e_held = 0.0, held_scale = 0.0;
    for (int k = 0; k < s->deal->n_tranches; k++) {
        if (s->deal->tranches[k].put_supporter != IPABS_SUPPORTER_GUARANTOR)
            continue;
        *(s->guarantor_alive ? &g_held : &e_held) += held_cash(fl, k) - fl->put_bought[k];
        held_scale += held_cash(fl, k) + 2.0 * fl->put_bought[k];
    }
    double g_want = fl->guarantee_fee + fl->recovery_guarantor + fl->reimbursement -
                    fl->guarantee_payout - fl->topup + g_held;
    if (!near(s, g, g_want, fl->guarantee_fee + fl->guarantee_payout + fl->topup +
                             fl->recovery_guarantor + fl->reimbursement + held_scale))
        return broken(s, "the guarantor (ledger)", g, g_want, err);
    double e = ledger_net(s, first, ESTATE);
    double e_want = fl->recovery_estate + fl->reimbursement_estate - fl->estate_recovery + e_held;
    if (!near(s, e, e_want, fl->recovery_estate + fl->reimbursement_estate +
                             fl->estate_recovery + held_scale))
        return broken(s, "the guarantor's estate (ledger)", e, e_want, err);
    return IPABS_OK;
}

static ipabs_status check_conservation(const step *s, double performing_open,
                                       double guarantor_open, double claim_open,
                                       size_t first, ipabs_error *err)
{
    const ipabs_period_flows *fl = s->fl;
    double net = plan_net(fl, s->deal->n_tranches);
    if (!near(s, fl->plan_cash_open + net, fl->plan_cash_close, plan_scale(fl)))
        return broken(s, "the plan account", fl->plan_cash_open + net,
                      fl->plan_cash_close, err);
    for (int k = 0; k < s->deal->n_tranches; k++) {
        double drop = fl->balance_open[k] - fl->balance_close[k];
        if (!near(s, drop, fl->principal_paid[k] + fl->principal_loss[k], fl->balance_open[k]))
            return broken(s, s->deal->tranches[k].name, drop,
                          fl->principal_paid[k] + fl->principal_loss[k], err);
    }
    double pool_drop = performing_open - s->st->performing_balance;
    double pool_out = fl->principal_collected + fl->new_default_balance + fl->cleanup_price +
                      fl->call_price;
    if (!near(s, pool_drop, pool_out, performing_open))
        return broken(s, "the loan pool", pool_drop, pool_out, err);
    double g_paid = s->st->guarantor_paid_total - guarantor_open;
    if (!near(s, g_paid, fl->guarantee_payout + fl->topup, s->st->guarantor_paid_total))
        return broken(s, "the guarantor", g_paid,
                      fl->guarantee_payout + fl->topup, err);
    double claim_rise = s->st->topup_claim - claim_open;
    double claim_want = (s->deal->guarantor.reimbursement != IPABS_REIMBURSE_NONE ? fl->topup : 0.0) -
                        fl->reimbursement - fl->reimbursement_estate;
    if (!near(s, claim_rise, claim_want, claim_open + fl->topup))
        return broken(s, "the top-up claim", claim_rise, claim_want, err);
    return s->ledger != NULL ? check_ledger(s, first, err) : IPABS_OK;
}

/* ---- the step ------------------------------------------------------------- */

/* Zero the period's flows: the scalars come first in the struct, the
 * tranche arrays (owned elsewhere, one block) last.  The scalars are
 * cleared in pieces of at most 64 bytes, which the compiler stores inline
 * with vector moves; one memset of the whole ~270 bytes became a
 * `rep stos`, whose start-up cost was the step's single most expensive
 * instruction. */
static void clear_flows(ipabs_period_flows *fl, int n_tranches, int t)
{
    enum { PIECE = 64, SCALARS = offsetof(ipabs_period_flows, balance_open) };
    unsigned char *p = (unsigned char *)fl;
    size_t done = 0;
    for (; done + PIECE <= SCALARS; done += PIECE)
        memset(p + done, 0, PIECE);
    memset(p + done, 0, SCALARS - done);
    memset(fl->balance_open, 0,
           IPABS_FLOW_TRANCHE_ARRAYS * (size_t)n_tranches * sizeof(double));
    fl->period = t;
}

ipabs_status ipabs_waterfall_step(const ipabs_deal *deal,
                                  const ipabs_realisation *real,
                                  ipabs_state *st, ipabs_period_flows *fl,
                                  ipabs_ledger *ledger, ipabs_error *err)
{
    int t = st->period + 1;
    int tau_g = real->guarantor_default_period;
    bool split = deal->accounts == IPABS_ACCOUNTS_SPLIT;
    double deferred_open = st->deferred_revenue + st->deferred_principal;
    step s = {deal, real, st, fl, ledger, t, tau_g <= 0 || t < tau_g, false, split,
              st->plan_cash - st->principal_account - deferred_open, st->principal_account,
              0.0, 0.0, 0.0, false, 0.0, ipabs_deal_is_payment(deal, t),
              ipabs_deal_collection_deferred(deal, t), near_rel(deal)};
    double performing_open = st->performing_balance;
    double guarantor_open = st->guarantor_paid_total;
    double claim_open = st->topup_claim;
    size_t first = ledger != NULL ? ledger->count : 0;

    clear_flows(fl, deal->n_tranches, t);
    fl->plan_cash_open = st->plan_cash;
    st->plan_cash = 0.0;
    st->principal_account = 0.0;
    reinvest(&s);
    default_loans(&s);
    collect(&s);
    call_cleanup(&s);
    call_option(&s);
    recover_ip(&s);
    pay_guarantees(&s);
    recover_estate(&s);
    check_events(&s);
    if (s.pay) {
        s.final = t == deal->legal_final || !inflows_after(&s);
        if (s.final)
            release_deferred(&s);
    }
    if (s.pay && plan_idle(&s)) {
        pay_nothing(&s);
    } else if (s.pay) {
        top_up(&s, amounts_due(&s));
        pay_in_order(&s);
        settle_puts(&s);
        if (deal->guarantor.reimbursement != IPABS_REIMBURSE_NONE)
            st->topup_claim += s.topup_new;
        write_off_at_legal_final(&s);
        st->claimed_arrears = s.guarantor_alive ? 0.0 : unpaid_senior_items(&s);
    } else {
        hold_collections(&s);
    }
    hold_principal(&s);
    hold_deferred(&s);
    fl->plan_cash_close = st->plan_cash;
    fl->capacity_exhausted = st->capacity_exhausted;
    st->settled = st->settled || s.final;
    st->ended = s.final && !disposals_after(&s);
    st->period = t;
    return check_conservation(&s, performing_open, guarantor_open, claim_open,
                              first, err);
}
