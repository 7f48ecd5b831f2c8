/*
 * mc_path.c — one Monte Carlo path: sample, run the waterfall (restarting
 * from the no-default state before the path's first event), and reduce the
 * period flows to the path's record of measures.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mc_internal.h"

ipabs_mc_layout ipabs_mc_layout_of(const ipabs_deal *deal)
{
    ipabs_mc_layout l;
    l.n_tranches = deal->n_tranches;
    l.n_loans = deal->n_loans;
    l.n_periods = deal->legal_final;
    l.tranche0 = 0;
    l.guarantor0 = l.n_tranches * IPABS_TM_COUNT_;
    l.pool0 = l.guarantor0 + IPABS_GM_COUNT_;
    l.loan0 = l.pool0 + IPABS_PM_COUNT_;
    l.period0 = l.loan0 + 2 * l.n_loans;
    l.coverage0 = l.period0 + l.n_periods;
    l.defaults0 = l.coverage0 + l.n_periods;
    l.count = l.defaults0 + l.n_periods;
    return l;
}

/* ---- workspace ------------------------------------------------------------ */

void ipabs_mc_path_free(ipabs_mc_path *w)
{
    if (w == NULL)
        return;
    if (w->owned != NULL)
        mc_baseline_free(w->owned, w->deal);
    free(w->factors);
    ipabs_realisation_free(w->real);
    ipabs_state_free(w->state);
    ipabs_flows_release(&w->flows);
    free(w->acc.cash);
    free(w->acc.cf);
    free(w->acc.interest_short);
    free(w->values);
    free(w->loans_set);
    free(w->static_tranche);
    free(w->loan_static_loss);
    free(w->discount);
    free(w->g_discount);
    free(w->yield_pending);
    free(w);
}

static void discount_factors(ipabs_mc_path *w)
{
    const ipabs_deal *deal = w->deal;
    int T1 = deal->legal_final + 1;
    /* The coupon compounds at the plan's payment frequency; a collection
     * period is 1/pay_every of a payment period. */
    int m = deal->pay_every > 1 ? deal->pay_every : 1;
    for (int k = 0; k < deal->n_tranches; k++)
        for (int t = 0; t < T1; t++)
            w->discount[k * T1 + t] = m == 1
                ? pow(1.0 + deal->tranches[k].coupon / deal->frequency, -t)
                : pow(1.0 + deal->tranches[k].coupon / deal->payment_frequency,
                      -(double)t / m);
    for (int t = 0; t < T1; t++)
        w->g_discount[t] = w->discount[t]; /* tranche 0's coupon */
}

ipabs_mc_path *mc_path_alloc_bare(const ipabs_deal *deal,
                                  const ipabs_model_plan *plan,
                                  ipabs_error *err)
{
    ipabs_mc_path *w = calloc(1, sizeof *w);
    if (w == NULL)
        goto nomem;
    size_t K = (size_t)deal->n_tranches, T = (size_t)deal->legal_final;
    w->deal = deal;
    w->plan = plan;
    w->layout = ipabs_mc_layout_of(deal);
    w->factors = calloc((size_t)plan->n_factors, sizeof(double));
    w->real = ipabs_realisation_alloc(deal);
    w->state = ipabs_state_alloc(deal);
    w->acc.cash = calloc(6 * K, sizeof(double));
    w->acc.cf = calloc(K * T, sizeof(double));
    w->acc.interest_short = calloc(K, 1);
    w->values = calloc((size_t)w->layout.count, sizeof(double));
    w->loans_set = calloc((size_t)deal->n_loans + 1, sizeof(int));
    w->static_tranche = calloc(K, sizeof(double));
    w->loan_static_loss = calloc((size_t)deal->n_loans + 1, sizeof(double));
    w->discount = calloc(K * (T + 1), sizeof(double));
    w->g_discount = calloc(T + 1, sizeof(double));
    w->yield_pending = calloc(K + 1, 1);
    if (!w->yield_pending || !w->factors || !w->real || !w->state || !w->acc.cash ||
        !w->acc.cf || !w->acc.interest_short || !w->values || !w->loans_set ||
        !w->static_tranche || !w->loan_static_loss || !w->discount || !w->g_discount ||
        ipabs_flows_init(deal, &w->flows) != IPABS_OK)
        goto nomem;
    w->acc.principal = w->acc.cash + K;
    w->acc.principal_time = w->acc.cash + 2 * K;
    w->acc.loss = w->acc.cash + 3 * K;
    w->acc.interest_loss = w->acc.cash + 4 * K;
    w->acc.loss_pv = w->acc.cash + 5 * K;
    discount_factors(w);
    for (int i = 0; i < deal->n_loans; i++)
        w->loan_static_loss[i] = ipabs_static_loss(&deal->loans[i]);
    return w;
nomem:
    ipabs_mc_path_free(w);
    ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                    "out of memory for a path workspace");
    return NULL;
}

ipabs_mc_path *ipabs_mc_path_alloc(const ipabs_deal *deal,
                                   const ipabs_model_plan *plan,
                                   ipabs_error *err)
{
    ipabs_mc_path *w = mc_path_alloc_bare(deal, plan, err);
    if (w == NULL)
        return NULL;
    w->owned = mc_baseline_build(deal, plan, err);
    if (w->owned == NULL) {
        ipabs_mc_path_free(w);
        return NULL;
    }
    w->baseline = w->owned;
    return w;
}

const ipabs_realisation *ipabs_mc_path_realisation(const ipabs_mc_path *w)
{
    return w->real;
}

/* ---- accumulating a path's flows ------------------------------------------ */

static void acc_reset(ipabs_mc_path *w)
{
    size_t K = (size_t)w->deal->n_tranches, T = (size_t)w->deal->legal_final;
    path_acc *a = &w->acc;
    memset(a->cash, 0, 6 * K * sizeof(double));
    memset(a->cf, 0, K * T * sizeof(double));
    memset(a->interest_short, 0, K);
    a->payout = a->topup = a->recovery_g = a->fees = a->pnl_pv = a->unpaid = 0.0;
    a->put_purchase = a->held_loss = 0.0;
    a->capacity_exhausted = false;
    for (int t = 0; t < w->layout.n_periods; t++)
        w->values[w->layout.coverage0 + t] = NAN;
}

/* What the senior classes are promised on date t: their interest due and
 * the principal the no-default path pays them then (their schedule). */
static double senior_promised(const ipabs_deal *deal, const ipabs_period_flows *fl)
{
    double due = 0.0;
    for (int k = 0; k < deal->n_senior; k++)
        due += fl->interest_due[k] + fl->principal_paid[k];
    return due;
}

/* The cash-flow coverage ratio (现金流覆盖倍数) of date t: the pool's own
 * collections reaching the plan (interest and principal net of the bank's
 * and servicer's fees, and IP recoveries to the plan; no guarantor money)
 * over what the seniors are promised then.  Defined while a senior class
 * is outstanding and something is promised (docs/measures.md). */
static void coverage_period(ipabs_mc_path *w, const ipabs_period_flows *fl, int t)
{
    const ipabs_deal *deal = w->deal;
    double due = w->baseline != NULL ? w->baseline->promised[t - 1] : senior_promised(deal, fl);
    double open = 0.0;
    for (int k = 0; k < deal->n_senior; k++)
        open += fl->balance_open[k];
    if (due > IPABS_CONSERVATION_TOL && open > IPABS_CONSERVATION_TOL)
        w->values[w->layout.coverage0 + t - 1] =
            (fl->interest_collected + fl->principal_collected + fl->recovery_plan) / due;
}

static void acc_period(ipabs_mc_path *w, const ipabs_period_flows *fl, int t)
{
    const ipabs_deal *deal = w->deal;
    path_acc *a = &w->acc;
    int K = deal->n_tranches, T = deal->legal_final;
    int holder = K - 1 >= deal->n_senior ? K - 1 : -1;
    for (int k = 0; k < K; k++) {
        double paid = fl->interest_paid[k] + fl->principal_paid[k] +
                      (k == holder ? fl->residual : 0.0);
        a->cash[k] += paid;
        a->cf[k * T + t - 1] = paid;
        a->principal[k] += fl->principal_paid[k];
        a->principal_time[k] += t * fl->principal_paid[k];
        a->loss[k] += fl->principal_loss[k];
        a->loss_pv[k] += fl->principal_loss[k] * w->discount[k * (T + 1) + t];
        a->interest_loss[k] += fl->interest_loss[k];
        if (fl->interest_due[k] - fl->interest_paid[k] > IPABS_CONSERVATION_TOL)
            a->interest_short[k] = 1;
        /* The guarantor as a put supporter: a holder, apart from its
         * guarantee (docs/waterfall.md, "Puts and calls"). */
        if (deal->tranches[k].n_puts > 0 &&
            deal->tranches[k].put_supporter == IPABS_SUPPORTER_GUARANTOR) {
            a->put_purchase += fl->put_bought[k] - fl->put_resold[k];
            a->held_loss += fl->held_loss[k];
        }
    }
    a->payout += fl->guarantee_payout;
    a->topup += fl->topup;
    /* What comes back to the guarantor: its share of the IP proceeds and
     * the plan's repayment of its top-ups (docs/waterfall.md). */
    a->recovery_g += fl->recovery_guarantor + fl->reimbursement;
    a->fees += fl->guarantee_fee;
    a->unpaid += fl->guarantor_owed_unpaid;
    a->pnl_pv += (fl->guarantee_fee + fl->recovery_guarantor + fl->reimbursement -
                  fl->guarantee_payout - fl->topup) * w->g_discount[t];
    a->capacity_exhausted |= fl->capacity_exhausted;
    coverage_period(w, fl, t);
}

/* ---- the record ----------------------------------------------------------- */

static double pool_static_loss(const ipabs_mc_path *w)
{
    double loss = 0.0;
    for (int j = 0; j < w->real->n_defaults; j++)
        loss += w->loan_static_loss[w->real->order[j]];
    return loss;
}

/* Static view: the pool loss hits over-collateralisation first, then the
 * tranches from the most junior up. */
static void allocate_static(ipabs_mc_path *w, double loss)
{
    const ipabs_deal *deal = w->deal;
    double notes = 0.0;
    for (int k = 0; k < deal->n_tranches; k++)
        notes += deal->tranches[k].balance;
    double left = fmax(0.0, loss - (deal->pool_balance - notes));
    for (int k = deal->n_tranches - 1; k >= 0; k--) {
        w->static_tranche[k] = fmin(left, deal->tranches[k].balance);
        left -= w->static_tranche[k];
    }
}

/* Class k's cash flows equal the no-default path's, exactly (then so does
 * its yield).  Periods before the path's first event were copied from the
 * no-default path. */
static bool same_as_baseline(const ipabs_mc_path *w, int k, int first)
{
    if (w->baseline == NULL)
        return false;
    int T = w->deal->legal_final;
    const double *cf = &w->acc.cf[k * T], *b = &w->baseline->cf[k * T];
    for (int t = first - 1; t < T; t++)
        if (cf[t] != b[t])
            return false;
    return true;
}

/* The yield at par compounded at the plan's payment frequency.  The
 * classes are paid on payment dates only, so the yield solved on the
 * collection grid (compounded pay_every times as often) is the same rate
 * of return, restated: (1 + y_c/f)^m = 1 + y/f_pay.  With one grid it is
 * mc_yield_at_par itself. */
static double yield_at_par(const ipabs_deal *deal, const double *cf, int k, double guess)
{
    const ipabs_tranche *tr = &deal->tranches[k];
    double y = mc_yield_at_par(cf, deal->legal_final, deal->frequency, tr->balance,
                               tr->coupon, mc_yield_guess_to_grid(deal, guess));
    return mc_yield_from_grid(deal, y);
}

static void tranche_record(ipabs_mc_path *w, int first)
{
    const ipabs_deal *deal = w->deal;
    const path_acc *a = &w->acc;
    int T = deal->legal_final;
    for (int k = 0; k < deal->n_tranches; k++) {
        double *v = &w->values[w->layout.tranche0 + k * IPABS_TM_COUNT_];
        v[IPABS_TM_LOSS] = a->loss[k];
        v[IPABS_TM_LOSS_PV] = a->loss_pv[k];
        v[IPABS_TM_INTEREST_LOSS] = a->interest_loss[k];
        v[IPABS_TM_ANY_LOSS] = a->loss[k] > 0.0;
        v[IPABS_TM_INTEREST_SHORT] = a->interest_short[k];
        v[IPABS_TM_CASH] = a->cash[k];
        v[IPABS_TM_WAL] = a->principal[k] > 0.0
            ? a->principal_time[k] / a->principal[k] / deal->frequency : NAN;
        double base = w->baseline != NULL
            ? w->baseline->values[w->layout.tranche0 + k * IPABS_TM_COUNT_ + IPABS_TM_IRR]
            : NAN;
        bool same = same_as_baseline(w, k, first);
        w->yield_pending[k] = !same && w->defer_yields;
        v[IPABS_TM_IRR] = same ? base
            : w->defer_yields ? NAN
            : yield_at_par(deal, &a->cf[k * T], k, base);
        v[IPABS_TM_STATIC_LOSS] = w->static_tranche[k];
        v[IPABS_TM_STATIC_ANY_LOSS] = w->static_tranche[k] > 0.0;
        /* Half a fen: the write-off of a class that got no principal back
         * equals its balance up to rounding. */
        v[IPABS_TM_WIPED_OUT] = a->loss[k] >= deal->tranches[k].balance - 0.005;
        bool g_failed = w->real->guarantor_default_period > 0;
        v[IPABS_TM_LOSS_IF_G_DEFAULT] = g_failed ? a->loss[k] : NAN;
        v[IPABS_TM_LOSS_AND_G_DEFAULT] = g_failed ? a->loss[k] : 0.0;
    }
}

static void guarantor_record(ipabs_mc_path *w)
{
    const path_acc *a = &w->acc;
    double *v = &w->values[w->layout.guarantor0];
    bool failed = w->real->guarantor_default_period > 0;
    v[IPABS_GM_ANY_PAYMENT] = a->payout + a->topup > 0.0;
    v[IPABS_GM_PAYOUT] = a->payout;
    v[IPABS_GM_TOPUP] = a->topup;
    v[IPABS_GM_RECOVERY] = a->recovery_g;
    v[IPABS_GM_FEES] = a->fees;
    v[IPABS_GM_NET_PNL] = a->fees + a->recovery_g - a->payout - a->topup;
    v[IPABS_GM_NET_PNL_PV] = a->pnl_pv;
    v[IPABS_GM_CAPACITY_EXHAUSTED] = a->capacity_exhausted;
    v[IPABS_GM_DEFAULT] = failed;
    v[IPABS_GM_UNPAID] = a->unpaid;
    v[IPABS_GM_SENIOR_STATIC_LOSS_AND_DEFAULT] = failed && w->static_tranche[0] > 0.0;
    v[IPABS_GM_PUT_PURCHASE] = a->put_purchase;
    v[IPABS_GM_HELD_LOSS] = a->held_loss;
}

/* A loan's realised credit loss: EAD less the disposal proceeds, if they
 * arrive by the legal final. */
static double loan_credit_loss(const ipabs_mc_path *w, int i)
{
    int tau = w->real->default_period[i];
    const ipabs_loan_period *lp = ipabs_loan_at(w->deal, i, tau);
    const ipabs_loan_hot *l = &w->deal->loan_hot[i];
    double ead = lp->open + lp->interest;
    if (tau + l->recovery_lag > w->deal->legal_final)
        return ead;
    double proceeds = fmin(ead, l->ip_value * w->real->realisation[i]) - l->disposal_cost;
    return ead - fmax(0.0, proceeds);
}

/* The loan entries of the record: zero but for the loans that default,
 * so only the previous path's are cleared (O(defaults), not O(loans)). */
static void loan_record(ipabs_mc_path *w, double *credit)
{
    const ipabs_mc_layout *L = &w->layout;
    double *v = w->values;
    for (int j = 0; j < w->n_loans_set; j++) {
        v[L->loan0 + 2 * w->loans_set[j]] = 0.0;
        v[L->loan0 + 2 * w->loans_set[j] + 1] = 0.0;
    }
    for (int j = 0; j < w->real->n_defaults; j++) {
        int i = w->real->order[j];
        double loss = loan_credit_loss(w, i);
        *credit += loss;
        v[L->loan0 + 2 * i] = 1.0;
        v[L->loan0 + 2 * i + 1] = loss;
        w->loans_set[j] = i;
    }
    w->n_loans_set = w->real->n_defaults;
}

/* Default ratio and count by period: the defaults are in period order, so
 * those of periods <= t are a prefix of the list, and the running sums
 * (in the list's order, as a period-by-period sum would add them) give
 * each period's value in O(defaults + periods). */
static void default_record(ipabs_mc_path *w)
{
    const ipabs_deal *deal = w->deal;
    const ipabs_mc_layout *L = &w->layout;
    const ipabs_realisation *r = w->real;
    double *v = w->values, ratio = 0.0;
    int j = 0;
    for (int t = 1; t <= deal->legal_final; t++) {
        for (; j < r->n_defaults && r->default_period[r->order[j]] <= t; j++) {
            int i = r->order[j];
            ratio += ipabs_loan_at(deal, i, r->default_period[i])->open / deal->pool_balance;
        }
        v[L->period0 + t - 1] = ratio;
        v[L->defaults0 + t - 1] = j;
    }
}

static void pool_and_loan_record(ipabs_mc_path *w, double static_loss)
{
    const ipabs_deal *deal = w->deal;
    const ipabs_mc_layout *L = &w->layout;
    double *v = w->values;
    double credit = 0.0;
    loan_record(w, &credit);
    default_record(w);
    double senior = 0.0, sub = 0.0;
    for (int k = 0; k < deal->n_tranches; k++) {
        double lost = w->acc.loss[k] + w->acc.interest_loss[k];
        if (k < deal->n_senior)
            senior += lost;
        else
            sub += lost;
    }
    double guarantor = w->acc.payout + w->acc.topup - w->acc.recovery_g;
    double *p = &v[L->pool0];
    p[IPABS_PM_DEFAULTS] = w->real->n_defaults;
    p[IPABS_PM_NO_DEFAULT] = w->real->n_defaults == 0;
    p[IPABS_PM_STATIC_LOSS] = static_loss;
    p[IPABS_PM_CREDIT_LOSS] = credit;
    p[IPABS_PM_BORNE_GUARANTOR] = guarantor;
    p[IPABS_PM_BORNE_SENIOR] = senior;
    p[IPABS_PM_BORNE_SUB] = sub;
    p[IPABS_PM_BORNE_EXCESS] = credit - guarantor - senior - sub;
    double least = NAN;
    for (int t = 0; t < L->n_periods; t++)
        if (!isnan(v[L->coverage0 + t]) && !(v[L->coverage0 + t] >= least))
            least = v[L->coverage0 + t];
    p[IPABS_PM_MIN_COVERAGE] = least;
}

static void finish_record(ipabs_mc_path *w, int first)
{
    double static_loss = pool_static_loss(w);
    allocate_static(w, static_loss);
    tranche_record(w, first);
    guarantor_record(w);
    pool_and_loan_record(w, static_loss);
}

/* ---- evaluation ----------------------------------------------------------- */

static int first_event(const ipabs_mc_path *w)
{
    int e = w->deal->legal_final + 1;
    if (w->real->n_defaults > 0)
        e = w->real->default_period[w->real->order[0]];
    int tau_g = w->real->guarantor_default_period;
    if (tau_g > 0 && tau_g < e)
        e = tau_g;
    return e;
}

/* Restart w's state from the no-default path's after period p. */
static void restart_state(ipabs_mc_path *w, int p)
{
    if (w->baseline->loans_fixed) /* w's loan entries are state[0]'s */
        ipabs_state_copy_loans(w->deal, w->state, w->baseline->state[p], NULL, 0);
    else
        ipabs_state_copy(w->deal, w->state, w->baseline->state[p]);
}

/* Put back the no-default entries of the loans the path touched, which
 * are among the defaults it lists. */
static void clean_state(ipabs_mc_path *w)
{
    if (w->baseline->loans_fixed)
        ipabs_state_copy_loans(w->deal, w->state, w->baseline->state[0],
                               w->real->order, w->real->n_defaults);
}

static ipabs_status run_periods(ipabs_mc_path *w, int e, uint64_t index,
                                ipabs_error *err)
{
    const ipabs_deal *deal = w->deal;
    for (int t = e; t <= deal->legal_final && !w->state->ended; t++) {
        ipabs_status s = ipabs_waterfall_step(deal, w->real, w->state, &w->flows,
                                              NULL, err);
        if (s != IPABS_OK) {
            size_t n = strlen(err->message);
            snprintf(err->message + n, sizeof err->message - n,
                     " (path %llu)", (unsigned long long)index);
            return s;
        }
        acc_period(w, &w->flows, t);
    }
    return IPABS_OK;
}

/* w's accumulators as after acc_reset and acc_period on the no-default
 * flows of periods 1..p: the no-default path's sums after p periods
 * (mc_baseline.prefix), the same doubles as summing them again. */
static void acc_restore(ipabs_mc_path *w, int p)
{
    const mc_baseline *b = w->baseline;
    size_t K = (size_t)w->deal->n_tranches, T = (size_t)w->deal->legal_final;
    size_t n = (size_t)w->layout.n_periods;
    const path_acc *s = &b->prefix[p];
    path_acc *a = &w->acc;
    memcpy(a->cash, s->cash, 6 * K * sizeof(double));
    memcpy(a->interest_short, s->interest_short, K);
    for (size_t k = 0; k < K; k++) {
        memcpy(&a->cf[k * T], &b->cf[k * T], (size_t)p * sizeof(double));
        memset(&a->cf[k * T + (size_t)p], 0, (T - (size_t)p) * sizeof(double));
    }
    a->payout = s->payout;
    a->topup = s->topup;
    a->recovery_g = s->recovery_g;
    a->fees = s->fees;
    a->pnl_pv = s->pnl_pv;
    a->unpaid = s->unpaid;
    a->put_purchase = s->put_purchase;
    a->held_loss = s->held_loss;
    a->capacity_exhausted = s->capacity_exhausted;
    memcpy(&w->values[w->layout.coverage0], &b->prefix_coverage[(size_t)p * n],
           n * sizeof(double));
}

ipabs_status mc_path_evaluate(ipabs_mc_path *w, uint64_t index,
                              ipabs_error *err)
{
    int e = w->baseline != NULL ? first_event(w) : 1;
    if (w->baseline != NULL) {
        int p = e - 1 < w->deal->legal_final ? e - 1 : w->deal->legal_final;
        acc_restore(w, p);
        e = p + 1;
        restart_state(w, e - 1);
    } else {
        acc_reset(w);
        ipabs_state_reset(w->deal, w->state);
    }
    ipabs_status s = run_periods(w, e, index, err);
    if (w->baseline != NULL)
        clean_state(w);
    if (s != IPABS_OK)
        return s;
    finish_record(w, e);
    return IPABS_OK;
}

ipabs_status ipabs_mc_path_eval(ipabs_mc_path *w, uint64_t seed,
                                uint64_t index, const double **values,
                                ipabs_error *err)
{
    ipabs_model_sample(w->deal, w->plan, seed, index, w->factors,
                       w->real, NULL);
    ipabs_status s = mc_path_evaluate(w, index, err);
    *values = w->values;
    return s;
}

/* ---- the baseline --------------------------------------------------------- */

void mc_baseline_free(mc_baseline *b, const ipabs_deal *deal)
{
    (void)deal;
    if (b == NULL)
        return;
    if (b->state != NULL)
        for (int p = 0; p <= b->n_periods; p++)
            ipabs_state_free(b->state[p]);
    if (b->flows != NULL)
        for (int p = 0; p < b->n_periods; p++)
            ipabs_flows_release(&b->flows[p]);
    free(b->state);
    free(b->flows);
    free(b->values);
    free(b->values0);
    free(b->cf);
    free(b->promised);
    free(b->prefix);
    free(b->prefix_sums);
    free(b->prefix_short);
    free(b->prefix_coverage);
    free(b);
}

/* w's accumulators, as they stand, kept as b's prefix p. */
static void prefix_keep(mc_baseline *b, const ipabs_mc_path *w, int p)
{
    size_t K = (size_t)w->deal->n_tranches, n = (size_t)w->layout.n_periods;
    path_acc *s = &b->prefix[p];
    *s = w->acc;
    s->cash = &b->prefix_sums[(size_t)p * 6 * K];
    s->principal = s->cash + K;
    s->principal_time = s->cash + 2 * K;
    s->loss = s->cash + 3 * K;
    s->interest_loss = s->cash + 4 * K;
    s->loss_pv = s->cash + 5 * K;
    s->interest_short = &b->prefix_short[(size_t)p * K];
    s->cf = NULL;
    memcpy(s->cash, w->acc.cash, 6 * K * sizeof(double));
    memcpy(s->interest_short, w->acc.interest_short, K);
    memcpy(&b->prefix_coverage[(size_t)p * n], &w->values[w->layout.coverage0],
           n * sizeof(double));
}

/* The accumulators of every prefix of the no-default flows (see
 * mc_baseline.prefix): acc_period on b->flows, as a path ran them before
 * its first event. */
static bool baseline_prefixes(mc_baseline *b, ipabs_mc_path *w)
{
    size_t K = (size_t)w->deal->n_tranches, T = (size_t)w->deal->legal_final;
    size_t n = (size_t)w->layout.n_periods;
    b->prefix = calloc(T + 1, sizeof *b->prefix);
    b->prefix_sums = calloc((T + 1) * 6 * K + 1, sizeof(double));
    b->prefix_short = calloc((T + 1) * K + 1, 1);
    b->prefix_coverage = calloc((T + 1) * n + 1, sizeof(double));
    if (!b->prefix || !b->prefix_sums || !b->prefix_short || !b->prefix_coverage)
        return false;
    acc_reset(w);
    for (int p = 0; p <= (int)T; p++) {
        prefix_keep(b, w, p);
        if (p < (int)T)
            acc_period(w, &b->flows[p], p + 1);
    }
    return true;
}

static ipabs_status baseline_periods(mc_baseline *b, const ipabs_deal *deal,
                                     const ipabs_realisation *none,
                                     ipabs_error *err)
{
    for (int p = 0; p < b->n_periods; p++) {
        ipabs_state_copy(deal, b->state[p + 1], b->state[p]);
        ipabs_status s = ipabs_waterfall_step(deal, none, b->state[p + 1],
                                              &b->flows[p], NULL, err);
        if (s != IPABS_OK)
            return s;
    }
    return IPABS_OK;
}

mc_baseline *mc_baseline_build(const ipabs_deal *deal,
                               const ipabs_model_plan *plan, ipabs_error *err)
{
    int T = deal->legal_final;
    mc_baseline *b = calloc(1, sizeof *b);
    ipabs_mc_path *w = mc_path_alloc_bare(deal, plan, err);
    if (b == NULL || w == NULL)
        goto fail;
    b->n_periods = T;
    b->state = calloc((size_t)T + 1, sizeof *b->state);
    b->flows = calloc((size_t)T, sizeof *b->flows);
    b->values = calloc((size_t)w->layout.count, sizeof(double));
    b->values0 = calloc((size_t)w->layout.count, sizeof(double));
    b->cf = calloc((size_t)deal->n_tranches * (size_t)T + 1, sizeof(double));
    b->promised = calloc((size_t)T + 1, sizeof(double));
    if (!b->state || !b->flows || !b->values || !b->values0 || !b->cf || !b->promised)
        goto fail;
    for (int p = 0; p <= T; p++)
        if ((b->state[p] = ipabs_state_alloc(deal)) == NULL)
            goto fail;
    for (int p = 0; p < T; p++)
        if (ipabs_flows_init(deal, &b->flows[p]) != IPABS_OK)
            goto fail;
    ipabs_realisation_reset(deal, w->real);
    ipabs_realisation_index(deal, w->real);
    if (baseline_periods(b, deal, w->real, err) != IPABS_OK ||
        mc_path_evaluate(w, 0, err) != IPABS_OK)
        goto fail_quiet;
    memcpy(b->values, w->values, (size_t)w->layout.count * sizeof(double));
    for (int j = 0; j < w->layout.count; j++)
        b->values0[j] = isnan(w->values[j]) ? 0.0 : w->values[j];
    memcpy(b->cf, w->acc.cf, (size_t)deal->n_tranches * (size_t)T * sizeof(double));
    for (int t = 1; t <= T; t++)
        b->promised[t - 1] = senior_promised(deal, &b->flows[t - 1]);
    b->loans_fixed = true;
    for (int p = 1; p <= T; p++)
        b->loans_fixed &= ipabs_state_same_loans(deal, b->state[p], b->state[0]);
    if (!baseline_prefixes(b, w))
        goto fail;
    ipabs_mc_path_free(w);
    return b;
fail:
    ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                    "out of memory for the no-default path");
fail_quiet:
    ipabs_mc_path_free(w);
    mc_baseline_free(b, deal);
    return NULL;
}
