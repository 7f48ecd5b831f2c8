/*
 * event_path_specialised.c — a design prototype, not part of the build
 * (bench/README.md, "Targets out of reach"; issue 11): how fast can an
 * event path of the reference deal be evaluated by a waterfall written
 * for exactly that deal's structure, instead of the general one?
 *
 * The program draws the engine's own realisations (ipabs_mc_sample_only),
 * keeps the event paths' realisations in memory, and evaluates each with
 *   (a) the engine: the stored realisation set into a path workspace and
 *       mc_path_evaluate (restart from the no-default state, the general
 *       ipabs_waterfall_step, the record, scalar yields mc_yield_at_par);
 *   (b) spec_evaluate below: straight-line code for the features this
 *       deal uses (one account, pass-through senior and sub, accelerated
 *       payouts, unlimited capacity, top-up reimbursed after senior
 *       principal, IP pledged to the guarantor, estate recovery rate 0,
 *       the built-in orders of payments), the deal's numbers read once into
 *       a flat struct, state as a few doubles, the restart from its own
 *       no-default run, and the whole record in the engine's layout; the
 *       class yields by the engine's mc_yield_at_par.
 * It checks (b)'s record against the engine's (ipabs_mc_path_eval, which
 * re-samples the path from seed and index) entry by entry, then times
 * (a) and (b) in alternating rounds on one thread (medians), with their
 * split, and the same two on the batch engine's route: (a') batch_events'
 * way (records kept, yields queued and solved together by
 * batch_yields_solve) and (b') the specialised code feeding the same
 * queue, plus (c) the records into the chunk's sums (batch_measures).
 * Step 5 of the brief: (l) eight event paths at once in lanes (structure
 * of arrays, selects for branches) as plain C lane loops, and (v) the same
 * in AVX-512 intrinsics when built for it (-march=x86-64-v4); both checked
 * bit for bit against (a') and timed the same way.  It refuses a deal with
 * a feature it does not implement (spec_supported).
 *
 * Build (from the repository root, after building build-rel's libipabs.a;
 * drop -march=x86-64-v4 for a build without the AVX-512 lanes):
 *   gcc -std=c17 -O3 -march=x86-64-v4 -Wall -Wextra -Iinclude -Isrc/model -Isrc/path -Isrc/batch bench/prototypes/event_path_specialised.c build-rel/libipabs.a -lgsl -lgslcblas -lfyaml -lcsv -lm -fopenmp -o /tmp/event_path_specialised
 * Run:
 *   nice /tmp/event_path_specialised scenarios/shenyang-ip-abs.yaml [PATHS [ROUNDS]]
 * (PATHS default 400000, ROUNDS default 7.)  -std=c17 keeps GCC from
 * contracting multiplies and adds into FMAs, which the bit-for-bit checks
 * rely on.
 */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipabs/model.h"
#include "ipabs/montecarlo.h"
#include "ipabs/scenario.h"
#include "ipabs/waterfall.h"
#include "batch.h"
#include "mc_internal.h"

#define NL 16  /* most loans (fewer than the waterfall's 16-default runs) */
#define NT 32  /* most periods */
#define NE 8   /* most expenses */
#define TOL IPABS_CONSERVATION_TOL

/* ---- the deal, flat ---------------------------------------------------------- */

typedef struct spec {
    int T, n_loans, n_exp, freq, lf0, lf1, em0, em1, g_lag, g_rlag;
    double g_rr;
    double pool_balance, tax_rate, reserve_initial, reserve_target, cdr_threshold;
    bool trig_g, trig_short, topup;
    double bal0, bal1, coupon0, coupon1; /* original balances; annual coupons */
    double coupon_at[2][NT + 1], pacc[2][NT + 1];
    double pool_interest[NT + 1], pool_principal[NT + 1], pool_agency[NT + 1];
    double pool_servicing[NT + 1], pool_gfee[NT + 1];
    int running_after[NT + 1];
    /* expenses: senior-rate (rate, pay accrual) or fixed (amount x accrual) */
    bool exp_senior[NE];
    double exp_rate[NE], exp_pacc[NE][NT + 1], exp_fixed[NE][NT + 1];
    /* loans, by period */
    int term[NL], lag[NL];
    double ip_value[NL], cost[NL], static_loss[NL];
    double bal[NL][NT + 1], intr[NL][NT + 1], amort[NL][NT + 1];
    double ag[NL][NT + 1], sv[NL][NT + 1], gf[NL][NT + 1]; /* fee bases x rates */
    double ead[NL][NT + 1];   /* default in t: balance[t-1] + interest[t] */
    double rshare[NL][NT + 1]; /* interest[t] / ead: revenue share of the exposure */
    double bshare[NL][NT + 1], sshare[NL][NT + 1]; /* bank's, servicer's share of interest */
    double ratio[NL][NT + 1]; /* balance[t-1] / pool: default ratio contribution */
    double disc0[NT + 1], disc1[NT + 1]; /* (1 + c/f)^-t by class; g uses class 0's */
    /* the no-default run (computed by spec itself) */
    double promise[NT + 1];   /* senior interest due + principal paid, period t */
    ipabs_mc_layout L;
} spec;

/* ---- a path's realisation, compact ------------------------------------------- */

typedef struct ev {
    uint64_t index;
    int8_t n, tau_g;
    int8_t loan[NL];     /* the defaults in the waterfall's order */
    int8_t period[NL];   /* their default periods */
    double rz[NL];       /* their realisation fractions */
} ev;

/* ---- state and sums --------------------------------------------------------- */

typedef struct sstate {
    int nd;
    bool accel, settled, ended, sis;
    double perf, cum_def, pamt, plan_cash, tax_arr, b0, b1, ia0, ia1;
    double committed, paid_total, estate_claim, claimed, topup_claim;
    double exp_arr[NE];
    double gpaid[NL];    /* by default slot */
} sstate;

typedef struct sacc {
    double cash0, prin0, ptime0, loss0, iloss0, lpv0;
    double cash1, prin1, ptime1, loss1, iloss1, lpv1;
    bool short0, short1, cap;
    double payout, topup, rec_g, fees, pnl_pv, unpaid;
    double cf[2][NT];
    double cov[NT];
} sacc;

static inline double lesser(double a, double b) { return a < b ? a : b; }
static inline double greater(double a, double b) { return a > b ? a : b; }
static inline bool plus_zero(double x) { return x == 0.0 && !signbit(x); }

/* What one period moves, for the sums and the baseline's promise. */
typedef struct sflow {
    double idue0, idue1, ip0, pp0, ip1, pp1, residual, pl0, pl1, il0, il1, bopen0;
    double ic, pc, gfee, gp, tu, rec_g, reimb, unpaid;
} sflow;

static inline double take(double *avail, double want)
{
    double paid = lesser(*avail, greater(want, 0.0));
    *avail -= paid;
    return paid;
}

static inline double principal_due(double bal, int t, bool final, int lf, int em)
{
    if (bal <= 0.0)
        return 0.0;
    if (t >= lf || final || (em > 0 && t >= em))
        return bal;
    return 0.0;
}

/* One period t of the reference deal's waterfall (ipabs_waterfall_step's
 * arithmetic, in its order, for the features spec_supported() admits). */
static void spec_step(const spec *d, const ev *r, sstate *st, sflow *f, int t)
{
    const int tau_g = r->tau_g;
    const bool alive = tau_g <= 0 || t < tau_g;
    double avail = st->plan_cash;
    st->plan_cash = 0.0;
    memset(f, 0, sizeof *f);
    /* 1. defaults */
    while (st->nd < r->n && r->period[st->nd] == t) {
        int i = r->loan[st->nd++];
        double open = d->bal[i][t - 1];
        st->perf -= open;
        st->cum_def += open;
        st->pamt += open;
    }
    double cdr = st->cum_def / d->pool_balance;
    /* 2. collections */
    double interest = d->pool_interest[t], principal = d->pool_principal[t];
    double agency = d->pool_agency[t], servicing = d->pool_servicing[t], gfee = d->pool_gfee[t];
    int n = d->running_after[t - 1] > 0 ? st->nd : 0;
    for (int j = 0; j < n; j++) {
        int i = r->loan[j];
        if (t > d->term[i])
            continue;
        interest -= d->intr[i][t];
        principal -= d->amort[i][t];
        agency -= d->ag[i][t];
        servicing -= d->sv[i][t];
        gfee -= d->gf[i][t];
    }
    agency = greater(agency, 0.0);
    servicing = greater(servicing, 0.0);
    f->gfee = greater(gfee, 0.0);
    f->ic = greater(interest - agency - servicing, 0.0);
    f->pc = greater(principal, 0.0);
    st->perf -= f->pc;
    st->pamt += f->pc;
    avail += f->ic + f->pc;
    /* 3. IP disposals: pledged to the guarantor, wholly its own (unlimited
     * capacity) or its estate's */
    double rec_e = 0.0;
    for (int j = 0; j < st->nd; j++) {
        int i = r->loan[j], tau = r->period[j];
        if (tau + d->lag[i] != t)
            continue;
        double gross = lesser(d->ead[i][tau], d->ip_value[i] * r->rz[j]);
        double proceeds = greater(0.0, gross - d->cost[i]);
        double to_g = proceeds * 1.0;
        double to_plan = proceeds - to_g;
        avail += to_plan;
        if (alive)
            f->rec_g += to_g;
        else
            rec_e += to_g;
    }
    (void)rec_e;
    /* 4. accelerated payouts */
    double payout_interest = 0.0;
    for (int j = 0; j < st->nd; j++) {
        int tau = r->period[j];
        if (t != tau + d->g_lag)
            continue;
        int i = r->loan[j];
        double due = greater(0.0, d->ead[i][tau] - 0.0);
        if (due <= 0.0)
            continue;
        st->committed += due;
        if (!alive) {
            st->estate_claim += due;
            f->unpaid += due;
            continue;
        }
        st->paid_total += due;
        st->gpaid[j] += due;
        f->gp += due;
        avail += due;
        double inte = due * d->rshare[i][tau];
        double fees = inte * d->bshare[i][tau] + inte * d->sshare[i][tau];
        payout_interest += inte - fees;
        avail -= fees;
    }
    /* 5. the failed guarantor's estate pays its dividend (rate 0 here) */
    if (tau_g > 0 && t >= tau_g + d->g_rlag && st->estate_claim > 0.0) {
        double paid = d->g_rr * st->estate_claim;
        st->estate_claim = 0.0;
        avail += paid;
    }
    /* 6. events */
    if (d->trig_g && !alive)
        st->accel = true;
    if (cdr > d->cdr_threshold)
        st->accel = true;
    if (d->trig_short && st->sis)
        st->accel = true;
    /* final: the legal final, or no cash can reach the plan any more */
    bool final = t == d->T;
    if (!final) {
        int running = d->running_after[t];
        bool inflow = false;
        for (int j = st->nd - 1; j >= 0 && !inflow; j--) {
            int i = r->loan[j], tau = r->period[j];
            running -= d->term[i] > t;
            int rec = tau + d->lag[i], pay = tau + d->g_lag;
            bool reach = !(st->gpaid[j] >= d->ead[i][tau]) && (tau_g <= 0 || rec < tau_g);
            if ((rec > t && rec <= d->T && reach) || (pay > t && pay <= d->T))
                inflow = true;
        }
        final = !inflow && !(running > 0);
    }
    if (final) {
        avail += 0.0;
        st->tax_arr += d->tax_rate * 0.0;
        st->pamt += 0.0;
    }
    bool idle = st->settled && plus_zero(avail) && plus_zero(st->tax_arr) && plus_zero(f->ic) &&
                plus_zero(payout_interest) && plus_zero(st->topup_claim) &&
                (st->pamt > 0.0 || plus_zero(st->pamt)) && plus_zero(st->b0) &&
                plus_zero(st->b1) && plus_zero(st->ia0) && plus_zero(st->ia1);
    for (int e = 0; idle && e < d->n_exp; e++)
        idle = plus_zero(st->exp_arr[e]);
    if (idle) {
        st->sis = false;
        st->claimed = 0.0;
    } else {
        /* 7. amounts due */
        double senior_open = 0.0 + st->b0;
        st->tax_arr += d->tax_rate * f->ic;
        st->tax_arr += d->tax_rate * payout_interest;
        double due = st->tax_arr;
        for (int e = 0; e < d->n_exp; e++) {
            if (!st->settled)
                st->exp_arr[e] += d->exp_senior[e] ? d->exp_rate[e] * senior_open * d->exp_pacc[e][t]
                                                   : d->exp_fixed[e][t];
            due += st->exp_arr[e];
        }
        f->bopen0 = st->b0;
        f->idue0 = st->ia0 + st->b0 * d->coupon_at[0][t] * d->pacc[0][t];
        double idue1 = st->ia1 + st->b1 * d->coupon_at[1][t] * d->pacc[1][t];
        f->idue1 = idue1;
        double sp = principal_due(st->b0, t, final, d->lf0, d->em0);
        double spd = 0.0 + sp;
        due += f->idue0 + sp;
        /* top-up */
        double topup_new = 0.0;
        if (d->topup && (st->b0 > 0.0 || st->ia0 > TOL)) {
            double shortfall = !alive ? greater(0.0, due - spd - avail - st->claimed) : due - avail;
            if (shortfall > TOL) {
                double paid = 0.0;
                st->committed += shortfall;
                if (!alive) {
                    st->estate_claim += shortfall;
                    f->unpaid += shortfall;
                } else {
                    st->paid_total += shortfall;
                    paid = shortfall;
                }
                f->tu = paid;
                topup_new = paid;
                avail = paid == shortfall && alive ? due : avail + paid;
            }
        }
        /* 8. the order of payments: taxes, expenses, senior interest,
         * senior principal, reimbursement, reserve, sub interest, sub
         * principal, residual */
        double tax = take(&avail, st->tax_arr);
        st->tax_arr -= tax;
        for (int e = 0; e < d->n_exp; e++) {
            double paid = take(&avail, st->exp_arr[e]);
            st->exp_arr[e] -= paid;
        }
        double due0 = 0.0 + f->idue0;
        double paid0 = take(&avail, due0);
        f->ip0 = paid0 >= due0 ? f->idue0 : f->idue0 * (paid0 / due0);
        st->ia0 = f->idue0 - f->ip0;
        {
            double before = avail + 0.0;
            double want = principal_due(st->b0, t, final, d->lf0, d->em0);
            want = st->accel ? st->b0 : greater(want, st->pamt);
            double paid = take(&avail, lesser(want, st->b0));
            st->b0 -= paid;
            f->pp0 = 0.0 + paid;
            st->pamt = greater(0.0, st->pamt - (before - (avail + 0.0)));
        }
        {
            double paid = take(&avail, st->topup_claim);
            st->topup_claim -= paid;
            if (alive)
                f->reimb += paid;
        }
        if (!st->accel && !final)
            st->plan_cash = take(&avail, d->reserve_target);
        double due1 = 0.0 + idue1;
        f->ip1 = take(&avail, due1);
        st->ia1 = idue1 - f->ip1;
        if (!((0.0 + st->b0) > 0.0 && t < d->lf1 && !final)) {
            double paid = take(&avail, lesser(st->b1, st->b1));
            st->b1 -= paid;
            f->pp1 = 0.0 + paid;
        }
        f->residual = take(&avail, avail + 0.0);
        st->topup_claim += topup_new;
        /* 9. write-offs */
        st->sis = st->ia0 > TOL;
        if (t == d->lf0 || final) {
            f->pl0 = st->b0;
            f->il0 = st->ia0;
            st->b0 = 0.0;
            st->ia0 = 0.0;
        }
        if (t == d->lf1 || final) {
            f->pl1 = st->b1;
            f->il1 = st->ia1;
            st->b1 = 0.0;
            st->ia1 = 0.0;
        }
        if (alive) {
            st->claimed = 0.0;
        } else {
            double unpaid = st->tax_arr;
            for (int e = 0; e < d->n_exp; e++)
                unpaid += st->exp_arr[e];
            st->claimed = unpaid + st->ia0;
        }
    }
    /* deferred buckets (none): the engine's +0.0 additions */
    st->plan_cash += 0.0 + 0.0;
    st->tax_arr += d->tax_rate * 0.0;
    st->pamt += 0.0;
    st->settled = st->settled || final;
    bool disposals = false;
    for (int j = 0; j < st->nd; j++) {
        int rec = r->period[j] + d->lag[r->loan[j]];
        disposals |= rec > t && rec <= d->T;
    }
    st->ended = final && !disposals;
}

/* acc_period's sums of one period's flows. */
static inline void spec_acc(const spec *d, const sflow *f, sacc *a, int t)
{
    double paid0 = f->ip0 + f->pp0 + 0.0;
    a->cash0 += paid0;
    a->cf[0][t - 1] = paid0;
    a->prin0 += f->pp0;
    a->ptime0 += t * f->pp0;
    a->loss0 += f->pl0;
    a->lpv0 += f->pl0 * d->disc0[t];
    a->iloss0 += f->il0;
    if (f->idue0 - f->ip0 > TOL)
        a->short0 = true;
    double paid1 = f->ip1 + f->pp1 + f->residual;
    a->cash1 += paid1;
    a->cf[1][t - 1] = paid1;
    a->prin1 += f->pp1;
    a->ptime1 += t * f->pp1;
    a->loss1 += f->pl1;
    a->lpv1 += f->pl1 * d->disc1[t];
    a->iloss1 += f->il1;
    if (f->idue1 - f->ip1 > TOL)
        a->short1 = true;
    a->payout += f->gp;
    a->topup += f->tu;
    a->rec_g += f->rec_g + f->reimb;
    a->fees += f->gfee;
    a->unpaid += f->unpaid;
    a->pnl_pv += (f->gfee + f->rec_g + f->reimb - f->gp - f->tu) * d->disc0[t];
    double due = 0.0 + d->promise[t];
    double open = 0.0 + f->bopen0;
    if (due > TOL && open > TOL)
        a->cov[t - 1] = (f->ic + f->pc + 0.0) / due;
}

/* ---- the no-default run: restart points ------------------------------------ */

typedef struct spec_base {
    sstate state[NT + 1];
    sacc acc[NT + 1];
    double values[4096];
    int count;
} spec_base;

/* ---- the record ---------------------------------------------------------- */

typedef struct spec_ws {
    const spec *d;
    const spec_base *b;
    sstate st;
    sacc a;
    double *values;
    int loans_set[NL], n_set;
    bool yields;  /* solve the yields (false: timing without them) */
    bool record;  /* write the record (false: waterfall only) */
    batch_yield_jobs *q; /* set: the yields queued as the batch engine does */
    int event;           /* the path's slot in the batch (its jobs' event) */
} spec_ws;

static double spec_yield(const spec *d, const double *cf, double price, double coupon, double guess)
{
    return mc_yield_at_par(cf, d->T, d->freq, price, coupon, guess);
}

static void spec_record(spec_ws *w, const ev *r, int first, const double *base_values,
                        const double (*base_cf)[NT])
{
    const spec *d = w->d;
    const ipabs_mc_layout *L = &d->L;
    const sacc *a = &w->a;
    double *v = w->values;
    /* static view */
    double sl = 0.0;
    for (int j = 0; j < r->n; j++)
        sl += d->static_loss[r->loan[j]];
    double notes = 0.0 + d->bal0 + d->bal1;
    double left = fmax(0.0, sl - (d->pool_balance - notes));
    double st1 = fmin(left, d->bal1);
    left -= st1;
    double st0 = fmin(left, d->bal0);
    bool g_failed = r->tau_g > 0;
    /* classes */
    for (int k = 0; k < 2; k++) {
        double *x = &v[L->tranche0 + k * IPABS_TM_COUNT_];
        double loss = k ? a->loss1 : a->loss0, prin = k ? a->prin1 : a->prin0;
        x[IPABS_TM_LOSS] = loss;
        x[IPABS_TM_LOSS_PV] = k ? a->lpv1 : a->lpv0;
        x[IPABS_TM_INTEREST_LOSS] = k ? a->iloss1 : a->iloss0;
        x[IPABS_TM_ANY_LOSS] = loss > 0.0;
        x[IPABS_TM_INTEREST_SHORT] = k ? a->short1 : a->short0;
        x[IPABS_TM_CASH] = k ? a->cash1 : a->cash0;
        x[IPABS_TM_WAL] = prin > 0.0 ? (k ? a->ptime1 : a->ptime0) / prin / d->freq : NAN;
        double base = base_values != NULL ? base_values[L->tranche0 + k * IPABS_TM_COUNT_ + IPABS_TM_IRR] : NAN;
        bool same = base_cf != NULL;
        for (int t = first - 1; same && t < d->T; t++)
            same = a->cf[k][t] == base_cf[k][t];
        if (!same && w->q != NULL) {
            int jb = w->q->n++;
            memcpy(&w->q->cf[(size_t)jb * d->T], a->cf[k], (size_t)d->T * sizeof(double));
            w->q->price[jb] = k ? d->bal1 : d->bal0;
            w->q->coupon[jb] = k ? d->coupon1 : d->coupon0;
            w->q->guess[jb] = base; /* mc_yield_guess_to_grid: the identity, pay_every 1 */
            w->q->event[jb] = w->event;
            w->q->cls[jb] = k;
        }
        x[IPABS_TM_IRR] = same ? base
            : !w->yields || w->q != NULL ? NAN
            : spec_yield(d, a->cf[k], k ? d->bal1 : d->bal0, k ? d->coupon1 : d->coupon0, base);
        double stk = k ? st1 : st0;
        x[IPABS_TM_STATIC_LOSS] = stk;
        x[IPABS_TM_STATIC_ANY_LOSS] = stk > 0.0;
        x[IPABS_TM_WIPED_OUT] = loss >= (k ? d->bal1 : d->bal0) - 0.005;
        x[IPABS_TM_LOSS_IF_G_DEFAULT] = g_failed ? loss : NAN;
        x[IPABS_TM_LOSS_AND_G_DEFAULT] = g_failed ? loss : 0.0;
    }
    /* guarantor */
    double *g = &v[L->guarantor0];
    g[IPABS_GM_ANY_PAYMENT] = a->payout + a->topup > 0.0;
    g[IPABS_GM_PAYOUT] = a->payout;
    g[IPABS_GM_TOPUP] = a->topup;
    g[IPABS_GM_RECOVERY] = a->rec_g;
    g[IPABS_GM_FEES] = a->fees;
    g[IPABS_GM_NET_PNL] = a->fees + a->rec_g - a->payout - a->topup;
    g[IPABS_GM_NET_PNL_PV] = a->pnl_pv;
    g[IPABS_GM_CAPACITY_EXHAUSTED] = a->cap;
    g[IPABS_GM_DEFAULT] = g_failed;
    g[IPABS_GM_UNPAID] = a->unpaid;
    g[IPABS_GM_SENIOR_STATIC_LOSS_AND_DEFAULT] = g_failed && st0 > 0.0;
    g[IPABS_GM_PUT_PURCHASE] = 0.0;
    g[IPABS_GM_HELD_LOSS] = 0.0;
    /* loans */
    for (int j = 0; j < w->n_set; j++) {
        v[L->loan0 + 2 * w->loans_set[j]] = 0.0;
        v[L->loan0 + 2 * w->loans_set[j] + 1] = 0.0;
    }
    double credit = 0.0;
    for (int j = 0; j < r->n; j++) {
        int i = r->loan[j], tau = r->period[j];
        double ead = d->ead[i][tau], loss = ead;
        if (tau + d->lag[i] <= d->T) {
            double proceeds = fmin(ead, d->ip_value[i] * r->rz[j]) - d->cost[i];
            loss = ead - fmax(0.0, proceeds);
        }
        credit += loss;
        v[L->loan0 + 2 * i] = 1.0;
        v[L->loan0 + 2 * i + 1] = loss;
        w->loans_set[j] = i;
    }
    w->n_set = r->n;
    /* defaults by period */
    double ratio = 0.0;
    int j = 0;
    for (int t = 1; t <= d->T; t++) {
        for (; j < r->n && r->period[j] <= t; j++)
            ratio += d->ratio[r->loan[j]][r->period[j]];
        v[L->period0 + t - 1] = ratio;
        v[L->defaults0 + t - 1] = j;
    }
    /* pool */
    double senior = 0.0 + (a->loss0 + a->iloss0), sub = 0.0 + (a->loss1 + a->iloss1);
    double guarantor = a->payout + a->topup - a->rec_g;
    double *p = &v[L->pool0];
    p[IPABS_PM_DEFAULTS] = r->n;
    p[IPABS_PM_NO_DEFAULT] = r->n == 0;
    p[IPABS_PM_STATIC_LOSS] = sl;
    p[IPABS_PM_CREDIT_LOSS] = credit;
    p[IPABS_PM_BORNE_GUARANTOR] = guarantor;
    p[IPABS_PM_BORNE_SENIOR] = senior;
    p[IPABS_PM_BORNE_SUB] = sub;
    p[IPABS_PM_BORNE_EXCESS] = credit - guarantor - senior - sub;
    double least = NAN;
    for (int t = 0; t < d->T; t++) {
        double c = a->cov[t];
        v[L->coverage0 + t] = c;
        if (!isnan(c) && !(c >= least))
            least = c;
    }
    p[IPABS_PM_MIN_COVERAGE] = least;
}

static int spec_first_event(const spec *d, const ev *r)
{
    int e = d->T + 1;
    if (r->n > 0)
        e = r->period[0];
    if (r->tau_g > 0 && r->tau_g < e)
        e = r->tau_g;
    return e;
}

/* The path's record (mc_path_evaluate's, for this deal). */
static void spec_evaluate(spec_ws *w, const ev *r)
{
    const spec *d = w->d;
    const spec_base *b = w->b;
    int e = spec_first_event(d, r);
    int p = e - 1 < d->T ? e - 1 : d->T;
    w->st = b->state[p];
    w->a = b->acc[p];
    sflow f;
    for (int t = p + 1; t <= d->T && !w->st.ended; t++) {
        spec_step(d, r, &w->st, &f, t);
        spec_acc(d, &f, &w->a, t);
    }
    if (w->record)
        spec_record(w, r, p + 1, b->values, (const double (*)[NT])b->acc[d->T].cf);
}

/* ---- building the flat deal ------------------------------------------------- */

static int refuse(const char *why)
{
    fprintf(stderr, "event_path_specialised: this deal has a feature the specialised "
                    "waterfall does not implement: %s\n", why);
    return 0;
}

static int spec_supported(const ipabs_deal *deal, const ipabs_model_plan *plan)
{
    const ipabs_guarantor *g = &deal->guarantor;
    if (deal->n_loans > NL - 1) return refuse("more than 15 loans");
    if (deal->legal_final > NT) return refuse("more than 32 periods");
    if (deal->n_expenses > NE) return refuse("more than 8 expenses");
    if (deal->pay_every != 1 || deal->transfer_lag != 0) return refuse("a collection grid finer than the payments");
    if (deal->accounts != IPABS_ACCOUNTS_SINGLE) return refuse("split accounts");
    if (deal->cleanup_call > 0.0) return refuse("a clean-up call");
    if (deal->call_exercise != 0) return refuse("an exercised call");
    for (int o = 0; o < IPABS_N_POPS; o++)
        if (deal->pop_given[o]) return refuse("a stated order of payments");
    if (deal->n_tranches != 2 || deal->n_senior != 1) return refuse("other than one senior and one sub class");
    for (int k = 0; k < 2; k++) {
        const ipabs_tranche *tr = &deal->tranches[k];
        if (tr->amort != IPABS_TRANCHE_PASS_THROUGH) return refuse("a class not pass-through");
        if (tr->n_puts > 0) return refuse("puts");
    }
    if (deal->tranches[1].coupon != 0.0) return refuse("a sub coupon");
    if (g->payout_style != IPABS_PAYOUT_ACCELERATED) return refuse("scheduled guarantee payouts");
    if (!isinf(g->capacity)) return refuse("a limited guarantor capacity");
    if (g->recovery_rate != 0.0) return refuse("a recovery from the guarantor's estate");
    if (g->ip_pledgee != IPABS_PLEDGEE_GUARANTOR) return refuse("IP pledged to the plan");
    if (g->reimbursement != IPABS_REIMBURSE_AFTER_SENIOR_PRINCIPAL) return refuse("another top-up reimbursement position");
    if (plan->importance) return refuse("importance sampling");
    for (int i = 0; i < deal->n_loans; i++)
        if (deal->loans[i].recovery_lag < 0) return refuse("a negative recovery lag");
    return 1;
}

static void spec_build(spec *d, const ipabs_deal *deal)
{
    memset(d, 0, sizeof *d);
    int T = deal->legal_final;
    d->T = T;
    d->n_loans = deal->n_loans;
    d->n_exp = deal->n_expenses;
    d->freq = deal->frequency;
    d->pool_balance = deal->pool_balance;
    d->tax_rate = deal->tax_rate;
    d->reserve_initial = deal->reserve_initial;
    d->reserve_target = deal->reserve_target;
    d->cdr_threshold = deal->triggers.cdr_threshold;
    d->trig_g = deal->triggers.on_guarantor_default;
    d->trig_short = deal->triggers.on_senior_interest_shortfall;
    d->topup = deal->guarantor.topup;
    d->g_lag = deal->guarantor.payout_lag;
    d->g_rlag = deal->guarantor.recovery_lag;
    d->g_rr = deal->guarantor.recovery_rate;
    d->lf0 = deal->tranches[0].legal_final;
    d->lf1 = deal->tranches[1].legal_final;
    d->em0 = deal->tranches[0].expected_maturity;
    d->em1 = deal->tranches[1].expected_maturity;
    d->bal0 = deal->tranches[0].balance;
    d->bal1 = deal->tranches[1].balance;
    d->coupon0 = deal->tranches[0].coupon;
    d->coupon1 = deal->tranches[1].coupon;
    for (int k = 0; k < 2; k++)
        for (int t = 0; t <= T; t++) {
            d->coupon_at[k][t] = deal->tranches[k].coupon_at[t];
            d->pacc[k][t] = deal->pay_accrual_dc[deal->tranches[k].daycount][t];
        }
    for (int t = 0; t <= T; t++) {
        d->pool_interest[t] = deal->pool_interest[t];
        d->pool_principal[t] = deal->pool_principal[t];
        d->pool_agency[t] = deal->pool_agency_fee[t];
        d->pool_servicing[t] = deal->pool_servicing_fee[t];
        d->pool_gfee[t] = deal->pool_guarantee_fee[t];
        d->running_after[t] = deal->loans_running_after[t];
        d->disc0[t] = pow(1.0 + deal->tranches[0].coupon / deal->frequency, -t);
        d->disc1[t] = pow(1.0 + deal->tranches[1].coupon / deal->frequency, -t);
    }
    for (int e = 0; e < deal->n_expenses; e++) {
        const ipabs_expense *x = &deal->expenses[e];
        d->exp_senior[e] = x->basis == IPABS_EXPENSE_SENIOR_RATE;
        d->exp_rate[e] = x->amount;
        for (int t = 0; t <= T; t++) {
            d->exp_pacc[e][t] = deal->pay_accrual_dc[x->daycount][t];
            d->exp_fixed[e][t] = x->amount * deal->pay_accrual_dc[x->daycount][t];
        }
    }
    for (int i = 0; i < deal->n_loans; i++) {
        const ipabs_loan *l = &deal->loans[i];
        d->term[i] = l->term;
        d->lag[i] = l->recovery_lag;
        d->ip_value[i] = l->ip_value;
        d->cost[i] = l->disposal_cost;
        d->static_loss[i] = ipabs_static_loss(l);
        for (int t = 0; t <= T; t++) {
            d->bal[i][t] = l->balance[t];
            d->intr[i][t] = l->interest[t];
            d->amort[i][t] = l->amortisation[t];
        }
        for (int t = 1; t <= T; t++) {
            double base = l->balance[t - 1] * deal->accrual_dc[l->daycount][t];
            d->ag[i][t] = base * deal->bank_fee_rate;
            d->sv[i][t] = base * deal->servicing_fee_rate;
            d->gf[i][t] = base * l->guarantee_fee_rate;
            double ead = l->balance[t - 1] + l->interest[t];
            d->ead[i][t] = ead;
            d->rshare[i][t] = ead > 0.0 ? l->interest[t] / ead : 0.0;
            double interest = l->interest[t];
            d->bshare[i][t] = interest > 0.0 ? base * deal->bank_fee_rate / interest : 0.0;
            d->sshare[i][t] = interest > 0.0 ? base * deal->servicing_fee_rate / interest : 0.0;
            d->ratio[i][t] = l->balance[t - 1] / deal->pool_balance;
        }
    }
    d->L = ipabs_mc_layout_of(deal);
}

/* The no-default run, kept at every period as restart points (the state
 * and sums after periods 1..p), and its record. */
static void spec_baseline(spec *d, spec_base *b)
{
    ev none = {0};
    sstate st = {0};
    st.perf = d->pool_balance;
    st.plan_cash = d->reserve_initial;
    st.b0 = d->bal0;
    st.b1 = d->bal1;
    sacc a = {0};
    for (int t = 0; t < NT; t++)
        a.cov[t] = NAN;
    sflow f;
    b->state[0] = st;
    b->acc[0] = a;
    for (int t = 1; t <= d->T; t++) {
        if (!st.ended) {
            spec_step(d, &none, &st, &f, t);
            d->promise[t] = f.idue0 + f.pp0;
            spec_acc(d, &f, &a, t);
        }
        b->state[t] = st;
        b->acc[t] = a;
    }
    /* The restart points' class cash flows beyond p are zero (acc_restore). */
    for (int p = 0; p <= d->T; p++)
        for (int k = 0; k < 2; k++)
            for (int t = p; t < NT; t++)
                b->acc[p].cf[k][t] = 0.0;
    /* The baseline's cf for every period: those of acc[T] (no period is
     * run after the plan ended, and acc[T] holds all of them). */
    b->count = d->L.count;
    spec_ws w = {.d = d, .b = b, .values = b->values, .yields = true, .record = true};
    w.a = b->acc[d->T];
    spec_record(&w, &none, 1, NULL, NULL);
}

/* ---- the engine's realisations ---------------------------------------------- */

typedef struct store {
    ev *e;
    long n, cap;
    int n_loans;
    long bad;   /* realisations the compact form cannot hold */
} store;

static void keep(void *ctx, uint64_t path, const ipabs_realisation *r)
{
    store *s = ctx;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1 << 16;
        s->e = realloc(s->e, (size_t)s->cap * sizeof *s->e);
        if (s->e == NULL) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
    }
    ev *x = &s->e[s->n++];
    memset(x, 0, sizeof *x);
    x->index = path;
    x->n = (int8_t)r->n_defaults;
    x->tau_g = (int8_t)r->guarantor_default_period;
    for (int j = 0; j < r->n_defaults; j++) {
        int i = r->order[j];
        x->loan[j] = (int8_t)i;
        x->period[j] = (int8_t)r->default_period[i];
        x->rz[j] = r->realisation[i];
    }
    /* a default after the loan's term is not in the order: the waterfall
     * never sees it, and neither does the compact form */
}

/* The stored realisation into the engine's (which holds no default). */
static void realise(const ev *x, ipabs_realisation *r)
{
    for (int j = 0; j < x->n; j++) {
        int i = x->loan[j];
        r->default_period[i] = x->period[j];
        r->realisation[i] = x->rz[j];
        r->order[j] = i;
    }
    r->n_defaults = x->n;
    r->guarantor_default_period = x->tau_g;
}

static void unrealise(const ipabs_deal *deal, const ev *x, ipabs_realisation *r)
{
    for (int j = 0; j < x->n; j++) {
        int i = x->loan[j];
        r->default_period[i] = 0;
        r->realisation[i] = deal->loans[i].recovery_mean;
    }
    r->n_defaults = 0;
    r->guarantor_default_period = 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *x, int n)
{
    qsort(x, (size_t)n, sizeof *x, cmp_double);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

static bool same_entry(double a, double b, bool *bits)
{
    *bits = memcmp(&a, &b, sizeof a) == 0;
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    if (a == b)
        return true;
    return fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b));
}

static double sink;
static long long lane_periods, busy_periods; /* lanes' periods run, and those that counted */
static bool counting; /* count them (the check's pass only) */

/* (a): the engine's evaluation of every stored event path. */
static double time_engine(const ipabs_deal *deal, ipabs_mc_path *w, const store *s, bool evaluate)
{
    ipabs_error err = {0};
    double t0 = now(), sum = 0.0;
    for (long k = 0; k < s->n; k++) {
        realise(&s->e[k], w->real);
        if (evaluate) {
            if (mc_path_evaluate(w, s->e[k].index, &err) != IPABS_OK) {
                fprintf(stderr, "engine: %s\n", err.message);
                exit(1);
            }
            sum += w->values[0] + w->values[IPABS_TM_IRR];
        }
        unrealise(deal, &s->e[k], w->real);
    }
    double t1 = now();
    sink += sum;
    return t1 - t0;
}

/* (b): the specialised evaluation of every stored event path. */
static double time_spec(spec_ws *w, const store *s)
{
    double t0 = now(), sum = 0.0;
    for (long k = 0; k < s->n; k++) {
        spec_evaluate(w, &s->e[k]);
        sum += w->a.cash0 + w->a.cash1;
        if (w->record)
            sum += w->values[IPABS_TM_IRR] + w->values[IPABS_TM_COUNT_ + IPABS_TM_IRR];
    }
    double t1 = now();
    sink += sum;
    return t1 - t0;
}


/* ---- the batch engine's route: records kept, yields solved together ------- */

#define BATCH_EVENTS 256 /* event paths per batch (the engine's 512-path batches hold ~245) */

typedef struct batched {
    const ipabs_deal *deal;
    ipabs_mc_layout L;
    double *records;        /* BATCH_EVENTS x count */
    batch_yield_jobs q;
    int pair_loan[BATCH_EVENTS * NL];
    int event_first[BATCH_EVENTS + 1];
    /* the chunk's sums (batch_measures) */
    batch_measure_ctx m;
    chunk_acc c;
} batched;

static batched *batched_alloc(const ipabs_deal *deal, const ipabs_mc_path *w)
{
    batched *b = calloc(1, sizeof *b);
    int T = deal->legal_final;
    size_t jobs = (size_t)BATCH_EVENTS * (size_t)deal->n_tranches;
    b->deal = deal;
    b->L = ipabs_mc_layout_of(deal);
    b->records = calloc((size_t)BATCH_EVENTS * (size_t)b->L.count, sizeof(double));
    b->q.cap = (int)jobs;
    b->q.cf = calloc(jobs * (size_t)T + 1, sizeof(double));
    b->q.price = calloc(jobs, sizeof(double));
    b->q.coupon = calloc(jobs, sizeof(double));
    b->q.guess = calloc(jobs, sizeof(double));
    b->q.event = calloc(jobs, sizeof(int));
    b->q.cls = calloc(jobs, sizeof(int));
    b->q.irr = calloc(jobs, sizeof(double));
    b->q.lane_cf = calloc((size_t)T * BATCH_YIELD_LANES + 1, sizeof(double));
    int K = deal->n_tranches, M = b->L.count;
    b->m = (batch_measure_ctx){&b->L, w->baseline->values, w->baseline->values0,
                               deal->pool_balance, K * IPABS_QT_PER_TRANCHE_ + IPABS_QG_COUNT_, false};
    b->c.s1 = calloc((size_t)M, sizeof(double));
    b->c.s2 = calloc((size_t)M, sizeof(double));
    b->c.cnt = calloc((size_t)M, sizeof(double));
    b->c.default_count = calloc((size_t)deal->n_loans + 1, sizeof(uint64_t));
    b->c.count_by_period = calloc((size_t)T * (deal->n_loans + 1), sizeof(uint64_t));
    b->c.qbuf = calloc((size_t)BATCH_EVENTS * (size_t)b->m.n_trackers, sizeof(double));
    return b;
}

/* batch_keep_record's copy: the record without the other loans' entries. */
static void keep_record(const ipabs_mc_layout *L, const double *v, double *r, const ev *x)
{
    memcpy(r, v, (size_t)L->loan0 * sizeof(double));
    memcpy(&r[L->period0], &v[L->period0], (size_t)(L->count - L->period0) * sizeof(double));
    for (int j = 0; j < x->n; j++) {
        int i = x->loan[j];
        r[L->loan0 + 2 * i] = v[L->loan0 + 2 * i];
        r[L->loan0 + 2 * i + 1] = v[L->loan0 + 2 * i + 1];
    }
}

static void clear_records(batched *b, const ev *x, int n)
{
    for (int e = 0; e < n; e++)
        for (int j = 0; j < x[e].n; j++) {
            b->records[(size_t)e * b->L.count + b->L.loan0 + 2 * x[e].loan[j]] = 0.0;
            b->records[(size_t)e * b->L.count + b->L.loan0 + 2 * x[e].loan[j] + 1] = 0.0;
        }
}

static void solve_batch(batched *b)
{
    batch_yields_solve(&b->q, b->deal->legal_final, b->deal->frequency, b->q.irr);
    for (int j = 0; j < b->q.n; j++)
        b->records[(size_t)b->q.event[j] * b->L.count + b->L.tranche0 +
                   b->q.cls[j] * IPABS_TM_COUNT_ + IPABS_TM_IRR] = mc_yield_from_grid(b->deal, b->q.irr[j]);
}

/* (a'): batch_events' route for n stored event paths. */
static void engine_batch(batched *b, ipabs_mc_path *w, const ev *x, int n)
{
    ipabs_error err = {0};
    const ipabs_deal *deal = b->deal;
    int T = deal->legal_final;
    b->q.n = 0;
    w->defer_yields = true;
    for (int e = 0; e < n; e++) {
        realise(&x[e], w->real);
        if (mc_path_evaluate(w, x[e].index, &err) != IPABS_OK) {
            fprintf(stderr, "engine: %s\n", err.message);
            exit(1);
        }
        unrealise(deal, &x[e], w->real);
        keep_record(&b->L, w->values, &b->records[(size_t)e * b->L.count], &x[e]);
        for (int k = 0; k < deal->n_tranches; k++) {
            if (!w->yield_pending[k])
                continue;
            int j = b->q.n++;
            memcpy(&b->q.cf[(size_t)j * T], &w->acc.cf[(size_t)k * T], (size_t)T * sizeof(double));
            b->q.price[j] = deal->tranches[k].balance;
            b->q.coupon[j] = deal->tranches[k].coupon;
            b->q.guess[j] = mc_yield_guess_to_grid(
                deal, w->baseline->values[w->layout.tranche0 + k * IPABS_TM_COUNT_ + IPABS_TM_IRR]);
            b->q.event[j] = e;
            b->q.cls[j] = k;
        }
    }
    w->defer_yields = false;
    solve_batch(b);
}

/* (b'): the specialised evaluation, the same route. */
static void spec_batch(batched *b, spec_ws *w, const ev *x, int n)
{
    b->q.n = 0;
    w->q = &b->q;
    for (int e = 0; e < n; e++) {
        w->event = e;
        spec_evaluate(w, &x[e]);
        keep_record(&b->L, w->values, &b->records[(size_t)e * b->L.count], &x[e]);
    }
    w->q = NULL;
    solve_batch(b);
}

/* (c): the batch's records into the chunk's sums (batch_measures), the
 * stage both designs feed. */
static void measure_batch(batched *b, const ev *x, int n)
{
    int k = 0;
    for (int e = 0; e < n; e++) {
        b->event_first[e] = k;
        for (int j = 0; j < x[e].n; j++)
            b->pair_loan[k++] = x[e].loan[j];
    }
    b->event_first[n] = k;
    batch_ws ws;
    memset(&ws, 0, sizeof ws);
    ws.records = b->records;
    ws.record_size = b->L.count;
    ws.n_events = n;
    ws.pair_loan = b->pair_loan;
    ws.event_first = b->event_first;
    b->c.nq = 0;
    batch_measures(&b->m, &ws, n, &b->c);
}

typedef enum { RUN_ENGINE, RUN_SPEC, RUN_SPEC_MEASURES } batch_run;

static double time_batched(batched *b, ipabs_mc_path *w, spec_ws *sw, const store *s, batch_run what)
{
    double t0 = now();
    for (long k = 0; k < s->n; k += BATCH_EVENTS) {
        int n = s->n - k < BATCH_EVENTS ? (int)(s->n - k) : BATCH_EVENTS;
        if (what == RUN_ENGINE)
            engine_batch(b, w, &s->e[k], n);
        else
            spec_batch(b, sw, &s->e[k], n);
        if (what == RUN_SPEC_MEASURES)
            measure_batch(b, &s->e[k], n);
        clear_records(b, &s->e[k], n);
    }
    double t1 = now();
    sink += b->records[IPABS_TM_IRR] + b->c.s1[IPABS_TM_IRR];
    return t1 - t0;
}


/* ---- 5. eight event paths at once, in lanes --------------------------------- */

/* Structure of arrays: [..][W] holds lane l's value at [l]; every branch of
 * spec_step becomes a select (a ? b : c on whole values, so the bits are
 * those of the branch taken), so that the lane loops can be vectorised and
 * the lanes' dependency chains overlap.  A lane restarts (its state and
 * sums loaded from the no-default run) in the period after its restart
 * point; before that, and after its plan has ended, it computes on
 * whatever it holds and nothing it computes is kept. */
#define W 8
#define LOOP _Pragma("omp simd") for (int l = 0; l < W; l++)

typedef struct lanes {
    /* the paths */
    int n[W], tau_g[W], p[W], loan[NL][W], period[NL][W];
    double rz[NL][W];
    /* per default slot, independent of the period (spec_step's own
     * expressions, computed once per path): AVX-512 variant */
    int s_rec[NL][W], s_pay[NL][W], s_term[NL][W];
    double s_open[NL][W], s_ead[NL][W], s_tog[NL][W], s_toplan[NL][W], s_due[NL][W];
    double s_inte_fees[NL][W], s_fees[NL][W];
    /* state */
    int nd[W], accel[W], settled[W], ended[W], sis[W];
    double perf[W], cum_def[W], pamt[W], plan_cash[W], tax_arr[W], b0[W], b1[W], ia0[W], ia1[W];
    double committed[W], paid_total[W], estate_claim[W], claimed[W], topup_claim[W];
    double exp_arr[NE][W], gpaid[NL][W];
    /* sums */
    double cash0[W], prin0[W], ptime0[W], loss0[W], iloss0[W], lpv0[W];
    double cash1[W], prin1[W], ptime1[W], loss1[W], iloss1[W], lpv1[W];
    int short0[W], short1[W];
    double payout[W], topup[W], rec_g[W], fees[W], pnl_pv[W], unpaid[W];
    double cf[2][NT][W], cov[NT][W];
} lanes;

static inline bool lpz(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u == 0; /* +0.0 */
}

static void lane_load(lanes *g, int l, const spec_base *b, const spec *d)
{
    const sstate *st = &b->state[g->p[l]];
    const sacc *a = &b->acc[g->p[l]];
    g->nd[l] = st->nd;
    g->accel[l] = st->accel;
    g->settled[l] = st->settled;
    g->ended[l] = st->ended;
    g->sis[l] = st->sis;
    g->perf[l] = st->perf;
    g->cum_def[l] = st->cum_def;
    g->pamt[l] = st->pamt;
    g->plan_cash[l] = st->plan_cash;
    g->tax_arr[l] = st->tax_arr;
    g->b0[l] = st->b0;
    g->b1[l] = st->b1;
    g->ia0[l] = st->ia0;
    g->ia1[l] = st->ia1;
    g->committed[l] = st->committed;
    g->paid_total[l] = st->paid_total;
    g->estate_claim[l] = st->estate_claim;
    g->claimed[l] = st->claimed;
    g->topup_claim[l] = st->topup_claim;
    for (int e = 0; e < d->n_exp; e++)
        g->exp_arr[e][l] = st->exp_arr[e];
    for (int j = 0; j < NL; j++)
        g->gpaid[j][l] = st->gpaid[j];
    g->cash0[l] = a->cash0; g->prin0[l] = a->prin0; g->ptime0[l] = a->ptime0;
    g->loss0[l] = a->loss0; g->iloss0[l] = a->iloss0; g->lpv0[l] = a->lpv0;
    g->cash1[l] = a->cash1; g->prin1[l] = a->prin1; g->ptime1[l] = a->ptime1;
    g->loss1[l] = a->loss1; g->iloss1[l] = a->iloss1; g->lpv1[l] = a->lpv1;
    g->short0[l] = a->short0; g->short1[l] = a->short1;
    g->payout[l] = a->payout; g->topup[l] = a->topup; g->rec_g[l] = a->rec_g;
    g->fees[l] = a->fees; g->pnl_pv[l] = a->pnl_pv; g->unpaid[l] = a->unpaid;
    for (int t = 0; t < d->T; t++) {
        g->cf[0][t][l] = a->cf[0][t];
        g->cf[1][t][l] = a->cf[1][t];
        g->cov[t][l] = a->cov[t];
    }
}

static void lane_unload(const lanes *g, int l, sacc *a, const spec *d)
{
    a->cash0 = g->cash0[l]; a->prin0 = g->prin0[l]; a->ptime0 = g->ptime0[l];
    a->loss0 = g->loss0[l]; a->iloss0 = g->iloss0[l]; a->lpv0 = g->lpv0[l];
    a->cash1 = g->cash1[l]; a->prin1 = g->prin1[l]; a->ptime1 = g->ptime1[l];
    a->loss1 = g->loss1[l]; a->iloss1 = g->iloss1[l]; a->lpv1 = g->lpv1[l];
    a->short0 = g->short0[l]; a->short1 = g->short1[l];
    a->payout = g->payout[l]; a->topup = g->topup[l]; a->rec_g = g->rec_g[l];
    a->fees = g->fees[l]; a->pnl_pv = g->pnl_pv[l]; a->unpaid = g->unpaid[l];
    a->cap = false;
    for (int t = 0; t < d->T; t++) {
        a->cf[0][t] = g->cf[0][t][l];
        a->cf[1][t] = g->cf[1][t][l];
        a->cov[t] = g->cov[t][l];
    }
}

static inline double ltake(double *avail, double want)
{
    double paid = lesser(*avail, greater(want, 0.0));
    *avail -= paid;
    return paid;
}

/* Period t of every lane: spec_step and spec_acc, branches as selects;
 * act[l]: the lane's period counts (started, not ended). */
static void lanes_step(const spec *d, lanes *g, const int *act, int t, int maxn)
{
    const double TOLD = TOL;
    double avail[W], ic[W], pc[W], gfee[W], cdr[W], rec_g[W], unpaid[W], gp[W], pint[W];
    int alive[W], final[W];
    LOOP {
        alive[l] = g->tau_g[l] <= 0 || t < g->tau_g[l];
        avail[l] = g->plan_cash[l];
        g->plan_cash[l] = 0.0;
        rec_g[l] = 0.0;
        unpaid[l] = 0.0;
        gp[l] = 0.0;
        pint[l] = 0.0;
    }
    /* 1. defaults */
    for (int j = 0; j < maxn; j++)
        LOOP {
            int i = g->loan[j][l];
            bool m = j < g->n[l] && g->period[j][l] == t;
            double open = d->bal[i][t - 1];
            g->perf[l] = m ? g->perf[l] - open : g->perf[l];
            g->cum_def[l] = m ? g->cum_def[l] + open : g->cum_def[l];
            g->pamt[l] = m ? g->pamt[l] + open : g->pamt[l];
            g->nd[l] = m ? j + 1 : g->nd[l];
        }
    /* 2. collections */
    double interest[W], principal[W], agency[W], servicing[W];
    bool running_ok = d->running_after[t - 1] > 0;
    LOOP {
        cdr[l] = g->cum_def[l] / d->pool_balance;
        interest[l] = d->pool_interest[t];
        principal[l] = d->pool_principal[t];
        agency[l] = d->pool_agency[t];
        servicing[l] = d->pool_servicing[t];
        gfee[l] = d->pool_gfee[t];
    }
    for (int j = 0; j < maxn; j++)
        LOOP {
            int i = g->loan[j][l];
            bool m = running_ok && j < g->nd[l] && j < g->n[l] && t <= d->term[i];
            interest[l] = m ? interest[l] - d->intr[i][t] : interest[l];
            principal[l] = m ? principal[l] - d->amort[i][t] : principal[l];
            agency[l] = m ? agency[l] - d->ag[i][t] : agency[l];
            servicing[l] = m ? servicing[l] - d->sv[i][t] : servicing[l];
            gfee[l] = m ? gfee[l] - d->gf[i][t] : gfee[l];
        }
    LOOP {
        double a = greater(agency[l], 0.0), s = greater(servicing[l], 0.0);
        gfee[l] = greater(gfee[l], 0.0);
        ic[l] = greater(interest[l] - a - s, 0.0);
        pc[l] = greater(principal[l], 0.0);
        g->perf[l] -= pc[l];
        g->pamt[l] += pc[l];
        avail[l] += ic[l] + pc[l];
    }
    /* 3. disposals, 4. payouts */
    for (int j = 0; j < maxn; j++)
        LOOP {
            int i = g->loan[j][l], tau = g->period[j][l];
            bool in = j < g->nd[l] && j < g->n[l];
            bool m = in && tau + d->lag[i] == t;
            double gross = lesser(d->ead[i][tau], d->ip_value[i] * g->rz[j][l]);
            double proceeds = greater(0.0, gross - d->cost[i]);
            double to_g = proceeds * 1.0;
            double to_plan = proceeds - to_g;
            avail[l] = m ? avail[l] + to_plan : avail[l];
            rec_g[l] = m && alive[l] ? rec_g[l] + to_g : rec_g[l];
        }
    for (int j = 0; j < maxn; j++)
        LOOP {
            int i = g->loan[j][l], tau = g->period[j][l];
            double due = greater(0.0, d->ead[i][tau] - 0.0);
            bool m = j < g->nd[l] && j < g->n[l] && t == tau + d->g_lag && due > 0.0;
            bool ma = m && alive[l], md = m && !alive[l];
            g->committed[l] = m ? g->committed[l] + due : g->committed[l];
            g->estate_claim[l] = md ? g->estate_claim[l] + due : g->estate_claim[l];
            unpaid[l] = md ? unpaid[l] + due : unpaid[l];
            g->paid_total[l] = ma ? g->paid_total[l] + due : g->paid_total[l];
            g->gpaid[j][l] = ma ? g->gpaid[j][l] + due : g->gpaid[j][l];
            gp[l] = ma ? gp[l] + due : gp[l];
            double inte = due * d->rshare[i][tau];
            double fees = inte * d->bshare[i][tau] + inte * d->sshare[i][tau];
            double av = avail[l] + due;
            pint[l] = ma ? pint[l] + (inte - fees) : pint[l];
            avail[l] = ma ? av - fees : avail[l];
        }
    /* 5. estate; 6. events; the plan's final period */
    int running[W], inflow[W], disposals[W];
    LOOP {
        bool m = g->tau_g[l] > 0 && t >= g->tau_g[l] + d->g_rlag && g->estate_claim[l] > 0.0;
        double paid = d->g_rr * g->estate_claim[l];
        g->estate_claim[l] = m ? 0.0 : g->estate_claim[l];
        avail[l] = m ? avail[l] + paid : avail[l];
        bool acc = (d->trig_g && !alive[l]) || cdr[l] > d->cdr_threshold || (d->trig_short && g->sis[l]);
        g->accel[l] = g->accel[l] || acc;
        running[l] = d->running_after[t];
        inflow[l] = 0;
        disposals[l] = 0;
    }
    for (int j = 0; j < maxn; j++)
        LOOP {
            int i = g->loan[j][l], tau = g->period[j][l];
            bool in = j < g->nd[l] && j < g->n[l];
            int rec = tau + d->lag[i], pay = tau + d->g_lag;
            bool reach = !(g->gpaid[j][l] >= d->ead[i][tau]) && (g->tau_g[l] <= 0 || rec < g->tau_g[l]);
            bool c = (rec > t && rec <= d->T && reach) || (pay > t && pay <= d->T);
            running[l] -= in && d->term[i] > t;
            inflow[l] |= in && c;
            disposals[l] |= in && rec > t && rec <= d->T;
        }
    LOOP {
        final[l] = t == d->T || !(inflow[l] || running[l] > 0);
        avail[l] = final[l] ? avail[l] + 0.0 : avail[l];
        g->tax_arr[l] = final[l] ? g->tax_arr[l] + d->tax_rate * 0.0 : g->tax_arr[l];
        g->pamt[l] = final[l] ? g->pamt[l] + 0.0 : g->pamt[l];
    }
    /* idle, or 7.-9. */
    int idle[W];
    LOOP {
        bool z = g->settled[l] && lpz(avail[l]) && lpz(g->tax_arr[l]) && lpz(ic[l]) && lpz(pint[l]) &&
                 lpz(g->topup_claim[l]) && (g->pamt[l] > 0.0 || lpz(g->pamt[l])) && lpz(g->b0[l]) &&
                 lpz(g->b1[l]) && lpz(g->ia0[l]) && lpz(g->ia1[l]);
        idle[l] = z;
    }
    for (int e = 0; e < d->n_exp; e++)
        LOOP idle[l] = idle[l] && lpz(g->exp_arr[e][l]);
    double due[W], tax_arr[W], exp_arr[NE][W];
    LOOP {
        double senior_open = 0.0 + g->b0[l];
        double ta = g->tax_arr[l] + d->tax_rate * ic[l];
        ta += d->tax_rate * pint[l];
        tax_arr[l] = ta;
        due[l] = ta;
        (void)senior_open;
    }
    for (int e = 0; e < d->n_exp; e++)
        LOOP {
            double senior_open = 0.0 + g->b0[l];
            double acc = d->exp_senior[e] ? d->exp_rate[e] * senior_open * d->exp_pacc[e][t] : d->exp_fixed[e][t];
            exp_arr[e][l] = g->settled[l] ? g->exp_arr[e][l] : g->exp_arr[e][l] + acc;
            due[l] += exp_arr[e][l];
        }
    double tu[W], ip0[W], pp0[W], ip1[W], pp1[W], res[W], reimb[W], pl0[W], pl1[W], il0[W], il1[W];
    double idue0[W], idue1[W], bopen0[W];
    LOOP {
        bool fin = final[l], al = alive[l];
        double b0 = g->b0[l], b1 = g->b1[l], ia0 = g->ia0[l], ia1 = g->ia1[l];
        double av = avail[l], pamt = g->pamt[l], tc = g->topup_claim[l];
        double committed = g->committed[l], ec = g->estate_claim[l], pt = g->paid_total[l];
        double un = unpaid[l];
        bopen0[l] = b0;
        double id0 = ia0 + b0 * d->coupon_at[0][t] * d->pacc[0][t];
        double id1 = ia1 + b1 * d->coupon_at[1][t] * d->pacc[1][t];
        double sp = b0 <= 0.0 ? 0.0 : (t >= d->lf0 || fin || (d->em0 > 0 && t >= d->em0)) ? b0 : 0.0;
        double spd = 0.0 + sp;
        double dd = due[l] + (id0 + sp);
        /* top-up */
        bool want_topup = d->topup && (b0 > 0.0 || ia0 > TOLD);
        double shortfall = !al ? greater(0.0, dd - spd - av - g->claimed[l]) : dd - av;
        bool m = want_topup && shortfall > TOLD;
        committed = m ? committed + shortfall : committed;
        ec = m && !al ? ec + shortfall : ec;
        un = m && !al ? un + shortfall : un;
        pt = m && al ? pt + shortfall : pt;
        double paid = m && al ? shortfall : 0.0;
        double topup_new = m ? paid : 0.0;
        av = m ? (paid == shortfall && al ? dd : av + paid) : av;
        /* the order of payments */
        double ta = tax_arr[l];
        double tax = ltake(&av, ta);
        ta -= tax;
        tax_arr[l] = ta;
        for (int e = 0; e < d->n_exp; e++) {
            double x = exp_arr[e][l];
            double pe = ltake(&av, x);
            exp_arr[e][l] = x - pe;
        }
        double due0 = 0.0 + id0;
        double paid0 = ltake(&av, due0);
        double i0 = paid0 >= due0 ? id0 : id0 * (paid0 / due0);
        ia0 = id0 - i0;
        double before = av + 0.0;
        double want = b0 <= 0.0 ? 0.0 : (t >= d->lf0 || fin || (d->em0 > 0 && t >= d->em0)) ? b0 : 0.0;
        want = g->accel[l] ? b0 : greater(want, pamt);
        double q0 = ltake(&av, lesser(want, b0));
        b0 -= q0;
        double p0 = 0.0 + q0;
        pamt = greater(0.0, pamt - (before - (av + 0.0)));
        double rp = ltake(&av, tc);
        tc -= rp;
        double rb = al ? 0.0 + rp : 0.0;
        bool keep = !g->accel[l] && !fin;
        double kept = lesser(av, greater(d->reserve_target, 0.0));
        av = keep ? av - kept : av;
        double pc_new = keep ? kept : g->plan_cash[l];
        double due1 = 0.0 + id1;
        double i1 = ltake(&av, due1);
        ia1 = id1 - i1;
        bool subp = !((0.0 + b0) > 0.0 && t < d->lf1 && !fin);
        double q1 = lesser(av, greater(lesser(b1, b1), 0.0));
        av = subp ? av - q1 : av;
        b1 = subp ? b1 - q1 : b1;
        double p1 = subp ? 0.0 + q1 : 0.0;
        double rs = ltake(&av, av + 0.0);
        tc += topup_new;
        bool sis = ia0 > TOLD;
        bool w0 = t == d->lf0 || fin, w1 = t == d->lf1 || fin;
        double l0 = w0 ? b0 : 0.0, x0 = w0 ? ia0 : 0.0;
        b0 = w0 ? 0.0 : b0;
        ia0 = w0 ? 0.0 : ia0;
        double l1 = w1 ? b1 : 0.0, x1 = w1 ? ia1 : 0.0;
        b1 = w1 ? 0.0 : b1;
        ia1 = w1 ? 0.0 : ia1;
        double unpaid_items = ta;
        for (int e = 0; e < d->n_exp; e++)
            unpaid_items += exp_arr[e][l];
        double claimed = al ? 0.0 : unpaid_items + ia0;
        /* commit, unless the period is idle */
        bool z = idle[l];
        g->b0[l] = z ? g->b0[l] : b0;
        g->b1[l] = z ? g->b1[l] : b1;
        g->ia0[l] = z ? g->ia0[l] : ia0;
        g->ia1[l] = z ? g->ia1[l] : ia1;
        g->pamt[l] = z ? g->pamt[l] : pamt;
        g->topup_claim[l] = z ? g->topup_claim[l] : tc;
        g->plan_cash[l] = z ? g->plan_cash[l] : pc_new;
        g->committed[l] = z ? g->committed[l] : committed;
        g->estate_claim[l] = z ? g->estate_claim[l] : ec;
        g->paid_total[l] = z ? g->paid_total[l] : pt;
        unpaid[l] = z ? unpaid[l] : un;
        g->tax_arr[l] = z ? g->tax_arr[l] : tax_arr[l];
        g->sis[l] = z ? 0 : sis;
        g->claimed[l] = z ? 0.0 : claimed;
        idue0[l] = z ? 0.0 : id0;
        idue1[l] = z ? 0.0 : id1;
        bopen0[l] = z ? 0.0 : bopen0[l];
        tu[l] = z ? 0.0 : topup_new;
        ip0[l] = z ? 0.0 : i0;
        pp0[l] = z ? 0.0 : p0;
        ip1[l] = z ? 0.0 : i1;
        pp1[l] = z ? 0.0 : p1;
        res[l] = z ? 0.0 : rs;
        reimb[l] = z ? 0.0 : rb;
        pl0[l] = z ? 0.0 : l0;
        il0[l] = z ? 0.0 : x0;
        pl1[l] = z ? 0.0 : l1;
        il1[l] = z ? 0.0 : x1;
    }
    for (int e = 0; e < d->n_exp; e++)
        LOOP g->exp_arr[e][l] = idle[l] ? g->exp_arr[e][l] : exp_arr[e][l];
    /* the deferred buckets' +0.0; settled, ended; the sums of the period */
    LOOP {
        g->plan_cash[l] += 0.0 + 0.0;
        g->tax_arr[l] += d->tax_rate * 0.0;
        g->pamt[l] += 0.0;
        g->settled[l] = g->settled[l] || final[l];
        bool a = act[l];
        g->ended[l] = a ? final[l] && !disposals[l] : g->ended[l];
        double paid0 = ip0[l] + pp0[l] + 0.0;
        g->cash0[l] = a ? g->cash0[l] + paid0 : g->cash0[l];
        g->cf[0][t - 1][l] = a ? paid0 : g->cf[0][t - 1][l];
        g->prin0[l] = a ? g->prin0[l] + pp0[l] : g->prin0[l];
        g->ptime0[l] = a ? g->ptime0[l] + t * pp0[l] : g->ptime0[l];
        g->loss0[l] = a ? g->loss0[l] + pl0[l] : g->loss0[l];
        g->lpv0[l] = a ? g->lpv0[l] + pl0[l] * d->disc0[t] : g->lpv0[l];
        g->iloss0[l] = a ? g->iloss0[l] + il0[l] : g->iloss0[l];
        g->short0[l] = g->short0[l] || (a && idue0[l] - ip0[l] > TOLD);
        double paid1 = ip1[l] + pp1[l] + res[l];
        g->cash1[l] = a ? g->cash1[l] + paid1 : g->cash1[l];
        g->cf[1][t - 1][l] = a ? paid1 : g->cf[1][t - 1][l];
        g->prin1[l] = a ? g->prin1[l] + pp1[l] : g->prin1[l];
        g->ptime1[l] = a ? g->ptime1[l] + t * pp1[l] : g->ptime1[l];
        g->loss1[l] = a ? g->loss1[l] + pl1[l] : g->loss1[l];
        g->lpv1[l] = a ? g->lpv1[l] + pl1[l] * d->disc1[t] : g->lpv1[l];
        g->iloss1[l] = a ? g->iloss1[l] + il1[l] : g->iloss1[l];
        g->short1[l] = g->short1[l] || (a && idue1[l] - ip1[l] > TOLD);
        g->payout[l] = a ? g->payout[l] + gp[l] : g->payout[l];
        g->topup[l] = a ? g->topup[l] + tu[l] : g->topup[l];
        g->rec_g[l] = a ? g->rec_g[l] + (rec_g[l] + reimb[l]) : g->rec_g[l];
        g->fees[l] = a ? g->fees[l] + gfee[l] : g->fees[l];
        g->unpaid[l] = a ? g->unpaid[l] + unpaid[l] : g->unpaid[l];
        double pnl = (gfee[l] + rec_g[l] + reimb[l] - gp[l] - tu[l]) * d->disc0[t];
        g->pnl_pv[l] = a ? g->pnl_pv[l] + pnl : g->pnl_pv[l];
        double pdue = 0.0 + d->promise[t];
        double open = 0.0 + bopen0[l];
        bool c = a && pdue > TOLD && open > TOLD;
        g->cov[t - 1][l] = c ? (ic[l] + pc[l] + 0.0) / pdue : g->cov[t - 1][l];
    }
}


#ifdef __AVX512F__
#include <immintrin.h>
/* The same period in AVX-512 registers: one zmm holds the 8 lanes' value;
 * min/max give exactly lesser()/greater() (a < b ? a : b and a > b ? a : b,
 * operands in that order), a select is a blend, a conditional update a
 * masked add or subtract; the per-loan tables are gathered. */
typedef __m512d vd;
typedef __m256i vi;
typedef __mmask8 vm;
#define VD(x) _mm512_loadu_pd(x)
#define SD(p, x) _mm512_storeu_pd(p, x)
#define VI(x) _mm256_loadu_si256((const __m256i *)(x))
#define SI(p, x) _mm256_storeu_si256((__m256i *)(p), x)
#define SEL(m, a, b) _mm512_mask_blend_pd((vm)(m), (b), (a)) /* m ? a : b */
#define S1(x) _mm512_set1_pd(x)
#define I1(x) _mm256_set1_epi32(x)
#define ADD _mm512_add_pd
#define SUB _mm512_sub_pd
#define MUL _mm512_mul_pd
#define DIV _mm512_div_pd
#define MADD(src, m, a, b) _mm512_mask_add_pd((src), (vm)(m), (a), (b)) /* m ? a + b : src */
#define MSUB(src, m, a, b) _mm512_mask_sub_pd((src), (vm)(m), (a), (b))
#define LESSER(a, b) _mm512_min_pd(a, b)
#define GREATER(a, b) _mm512_max_pd(a, b)
#define FGT(a, b) _mm512_cmp_pd_mask(a, b, _CMP_GT_OQ)
#define FGE(a, b) _mm512_cmp_pd_mask(a, b, _CMP_GE_OQ)
#define FLE(a, b) _mm512_cmp_pd_mask(a, b, _CMP_LE_OQ)
#define FEQ(a, b) _mm512_cmp_pd_mask(a, b, _CMP_EQ_OQ)
#define IEQ(a, b) _mm256_cmpeq_epi32_mask(a, b)
#define IGT(a, b) _mm256_cmpgt_epi32_mask(a, b)
#define ILT(a, b) _mm256_cmplt_epi32_mask(a, b)
#define ILE(a, b) _mm256_cmple_epi32_mask(a, b)
#define INZ(a) _mm256_test_epi32_mask(a, a)
#define TOI(m) _mm256_maskz_set1_epi32((vm)(m), 1)
#define GD(base, idx) _mm512_i32gather_pd(idx, (const void *)(base), 8)
#define GI(base, idx) _mm256_i32gather_epi32((const int *)(base), idx, 4)
#define PZ(x) _mm512_cmpeq_epi64_mask(_mm512_castpd_si512(x), _mm512_setzero_si512())
#define ALL ((vm)0xFF)

static vd take_v(vd *av, vd want)
{
    vd paid = LESSER(*av, GREATER(want, _mm512_setzero_pd()));
    *av = SUB(*av, paid);
    return paid;
}

static void lanes_step_avx512(const spec *d, lanes *g, vm a, int t, int maxn)
{
    const vd zero = _mm512_setzero_pd(), tol = S1(TOL);
    const int S = NT + 1;
    vi tau_g = VI(g->tau_g), nv = VI(g->n), nd = VI(g->nd);
    vm alive = (vm)(ILE(tau_g, I1(0)) | ILT(I1(t), tau_g));
    vd avail = VD(g->plan_cash), plan_cash = zero;
    vd rec_g = zero, unpaid = zero, gp = zero, pint = zero;
    vd perf = VD(g->perf), cum_def = VD(g->cum_def), pamt = VD(g->pamt);
    vd committed = VD(g->committed), ec = VD(g->estate_claim), pt = VD(g->paid_total);
    vi loan[NL], per[NL], li[NL];
    for (int j = 0; j < maxn; j++) {
        loan[j] = VI(g->loan[j]);
        per[j] = VI(g->period[j]);
        li[j] = _mm256_mullo_epi32(loan[j], I1(S));
    }
    /* 1. defaults */
    for (int j = 0; j < maxn; j++) {
        vm m = (vm)(ILT(I1(j), nv) & IEQ(per[j], I1(t)));
        vd open = VD(g->s_open[j]);
        perf = MSUB(perf, m, perf, open);
        cum_def = MADD(cum_def, m, cum_def, open);
        pamt = MADD(pamt, m, pamt, open);
        nd = _mm256_mask_mov_epi32(nd, m, I1(j + 1));
    }
    vd cdr = DIV(cum_def, S1(d->pool_balance));
    /* 2. collections */
    vd interest = S1(d->pool_interest[t]), principal = S1(d->pool_principal[t]);
    vd agency = S1(d->pool_agency[t]), servicing = S1(d->pool_servicing[t]);
    vd gfee = S1(d->pool_gfee[t]);
    if (d->running_after[t - 1] > 0)
        for (int j = 0; j < maxn; j++) {
            vi term = VI(g->s_term[j]);
            vm m = (vm)(ILT(I1(j), nd) & ILT(I1(j), nv) & ILE(I1(t), term));
            interest = MSUB(interest, m, interest, GD(&d->intr[0][t], li[j]));
            principal = MSUB(principal, m, principal, GD(&d->amort[0][t], li[j]));
            agency = MSUB(agency, m, agency, GD(&d->ag[0][t], li[j]));
            servicing = MSUB(servicing, m, servicing, GD(&d->sv[0][t], li[j]));
            gfee = MSUB(gfee, m, gfee, GD(&d->gf[0][t], li[j]));
        }
    agency = GREATER(agency, zero);
    servicing = GREATER(servicing, zero);
    gfee = GREATER(gfee, zero);
    vd ic = GREATER(SUB(SUB(interest, agency), servicing), zero);
    vd pc = GREATER(principal, zero);
    perf = SUB(perf, pc);
    pamt = ADD(pamt, pc);
    avail = ADD(avail, ADD(ic, pc));
    /* 3. disposals; 4. payouts; the flows still to come */
    vi running = I1(d->running_after[t]);
    vm inflow = 0, disposals = 0;
    for (int j = 0; j < maxn; j++) {
        vm in = (vm)(ILT(I1(j), nd) & ILT(I1(j), nv));
        vi rec = VI(g->s_rec[j]);
        vm m = (vm)(in & IEQ(rec, I1(t)));
        avail = MADD(avail, m, avail, VD(g->s_toplan[j]));
        rec_g = MADD(rec_g, m & alive, rec_g, VD(g->s_tog[j]));
    }
    for (int j = 0; j < maxn; j++) {
        vm in = (vm)(ILT(I1(j), nd) & ILT(I1(j), nv));
        vi rec = VI(g->s_rec[j]), pay = VI(g->s_pay[j]), term = VI(g->s_term[j]);
        vd ead = VD(g->s_ead[j]), due = VD(g->s_due[j]);
        vm m = (vm)(in & IEQ(I1(t), pay) & FGT(due, zero));
        vd gpj = VD(g->gpaid[j]);
        vm ma = m & alive, md = (vm)(m & ~alive);
        committed = MADD(committed, m, committed, due);
        ec = MADD(ec, md, ec, due);
        unpaid = MADD(unpaid, md, unpaid, due);
        pt = MADD(pt, ma, pt, due);
        gpj = MADD(gpj, ma, gpj, due);
        SD(g->gpaid[j], gpj);
        gp = MADD(gp, ma, gp, due);
        pint = MADD(pint, ma, pint, VD(g->s_inte_fees[j]));
        avail = MSUB(avail, ma, ADD(avail, due), VD(g->s_fees[j]));
        vm reach = (vm)(~FGE(gpj, ead) & (ILE(tau_g, I1(0)) | ILT(rec, tau_g)));
        vm c = (vm)((IGT(rec, I1(t)) & ILE(rec, I1(d->T)) & reach) |
                    (IGT(pay, I1(t)) & ILE(pay, I1(d->T))));
        running = _mm256_mask_sub_epi32(running, (vm)(in & IGT(term, I1(t))), running, I1(1));
        inflow |= in & c;
        disposals |= in & IGT(rec, I1(t)) & ILE(rec, I1(d->T));
    }
    /* 5. the estate; 6. events; the final period */
    {
        vm m = (vm)(IGT(tau_g, I1(0)) & ~IGT(_mm256_add_epi32(tau_g, I1(d->g_rlag)), I1(t)) & FGT(ec, zero));
        vd paid = MUL(S1(d->g_rr), ec);
        ec = SEL(m, zero, ec);
        avail = MADD(avail, m, avail, paid);
    }
    vm accel = (vm)(INZ(VI(g->accel)) | (d->trig_g ? (vm)~alive : 0) | FGT(cdr, S1(d->cdr_threshold)) |
                    (d->trig_short ? INZ(VI(g->sis)) : 0));
    vm final = t == d->T ? ALL : (vm)~(inflow | IGT(running, I1(0)));
    vd tax_arr = VD(g->tax_arr);
    avail = MADD(avail, final, avail, zero);
    tax_arr = MADD(tax_arr, final, tax_arr, MUL(S1(d->tax_rate), zero));
    pamt = MADD(pamt, final, pamt, zero);
    vm settled = INZ(VI(g->settled));
    vd b0 = VD(g->b0), b1 = VD(g->b1), ia0 = VD(g->ia0), ia1 = VD(g->ia1), tc = VD(g->topup_claim);
    const vd b0_open = b0;
    vd exp_arr[NE], ea[NE];
    vm idle = (vm)(settled & PZ(avail) & PZ(tax_arr) & PZ(ic) & PZ(pint) & PZ(tc) &
                   (FGT(pamt, zero) | PZ(pamt)) & PZ(b0) & PZ(b1) & PZ(ia0) & PZ(ia1));
    for (int e = 0; e < d->n_exp; e++) {
        exp_arr[e] = VD(g->exp_arr[e]);
        idle &= PZ(exp_arr[e]);
    }
    /* 7. amounts due (every lane; an idle lane's results are dropped) */
    vd senior_open = ADD(zero, b0);
    vd ta = ADD(tax_arr, MUL(S1(d->tax_rate), ic));
    ta = ADD(ta, MUL(S1(d->tax_rate), pint));
    vd due = ta;
    for (int e = 0; e < d->n_exp; e++) {
        vd acc = d->exp_senior[e] ? MUL(MUL(S1(d->exp_rate[e]), senior_open), S1(d->exp_pacc[e][t]))
                                  : S1(d->exp_fixed[e][t]);
        ea[e] = MADD(exp_arr[e], (vm)~settled, exp_arr[e], acc);
        due = ADD(due, ea[e]);
    }
    vd id0 = ADD(ia0, MUL(MUL(b0, S1(d->coupon_at[0][t])), S1(d->pacc[0][t])));
    vd id1 = ADD(ia1, MUL(MUL(b1, S1(d->coupon_at[1][t])), S1(d->pacc[1][t])));
    bool due_now0 = t >= d->lf0 || (d->em0 > 0 && t >= d->em0);
    vd sp = SEL((vm)(~FLE(b0, zero) & (due_now0 ? ALL : final)), b0, zero);
    vd spd = ADD(zero, sp);
    vd dd = ADD(due, ADD(id0, sp));
    vd av = avail, claimed = VD(g->claimed), un = unpaid;
    vm want_topup = d->topup ? (vm)(FGT(b0, zero) | FGT(ia0, tol)) : 0;
    vd shortfall = SEL(alive, SUB(dd, av), GREATER(zero, SUB(SUB(SUB(dd, spd), av), claimed)));
    vm m = (vm)(want_topup & FGT(shortfall, tol));
    vd cm = MADD(committed, m, committed, shortfall);
    vd ecn = MADD(ec, m & ~alive, ec, shortfall);
    un = MADD(un, m & ~alive, un, shortfall);
    vd ptn = MADD(pt, m & alive, pt, shortfall);
    vd paid = SEL(m & alive, shortfall, zero);
    vd topup_new = SEL(m, paid, zero);
    av = SEL(m, SEL(alive & FEQ(paid, shortfall), dd, ADD(av, paid)), av);
    /* 8. the order of payments */
    vd tax = take_v(&av, ta);
    ta = SUB(ta, tax);
    for (int e = 0; e < d->n_exp; e++) {
        vd pe = take_v(&av, ea[e]);
        ea[e] = SUB(ea[e], pe);
    }
    vd due0 = ADD(zero, id0);
    vd paid0 = take_v(&av, due0);
    vd i0 = SEL(FGE(paid0, due0), id0, MUL(id0, DIV(paid0, due0)));
    vd ia0n = SUB(id0, i0);
    vd before = ADD(av, zero);
    vd want = SEL(accel, b0, GREATER(sp, pamt));
    vd q0 = take_v(&av, LESSER(want, b0));
    vd b0n = SUB(b0, q0), p0 = ADD(zero, q0);
    vd pamtn = GREATER(zero, SUB(pamt, SUB(before, ADD(av, zero))));
    vd rp = take_v(&av, tc);
    vd tcn = SUB(tc, rp);
    vd rb = SEL(alive, ADD(zero, rp), zero);
    vm keep = (vm)(~accel & ~final);
    vd kept = LESSER(av, GREATER(S1(d->reserve_target), zero));
    av = MSUB(av, keep, av, kept);
    vd pcn = SEL(keep, kept, plan_cash);
    vd due1 = ADD(zero, id1);
    vd i1 = take_v(&av, due1);
    vd ia1n = SUB(id1, i1);
    vm subp = (vm)~(FGT(ADD(zero, b0n), zero) & (t < d->lf1 ? ALL : 0) & ~final);
    vd q1 = LESSER(av, GREATER(LESSER(b1, b1), zero));
    av = MSUB(av, subp, av, q1);
    vd b1n = MSUB(b1, subp, b1, q1);
    vd p1 = SEL(subp, ADD(zero, q1), zero);
    vd rs = take_v(&av, ADD(av, zero));
    tcn = ADD(tcn, topup_new);
    vm sisn = FGT(ia0n, tol);
    /* 9. write-offs */
    vm w0 = t == d->lf0 ? ALL : final, w1 = t == d->lf1 ? ALL : final;
    vd l0 = SEL(w0, b0n, zero), x0 = SEL(w0, ia0n, zero);
    b0n = SEL(w0, zero, b0n);
    ia0n = SEL(w0, zero, ia0n);
    vd l1 = SEL(w1, b1n, zero), x1 = SEL(w1, ia1n, zero);
    b1n = SEL(w1, zero, b1n);
    ia1n = SEL(w1, zero, ia1n);
    vd items = ta;
    for (int e = 0; e < d->n_exp; e++)
        items = ADD(items, ea[e]);
    vd claimedn = SEL(alive, zero, ADD(items, ia0n));
    /* commit unless idle */
    vm z = idle;
    b0 = SEL(z, b0, b0n);
    b1 = SEL(z, b1, b1n);
    ia0 = SEL(z, ia0, ia0n);
    ia1 = SEL(z, ia1, ia1n);
    pamt = SEL(z, pamt, pamtn);
    tc = SEL(z, tc, tcn);
    plan_cash = SEL(z, plan_cash, pcn);
    committed = SEL(z, committed, cm);
    ec = SEL(z, ec, ecn);
    pt = SEL(z, pt, ptn);
    unpaid = SEL(z, unpaid, un);
    tax_arr = SEL(z, tax_arr, ta);
    vm sis = (vm)(sisn & ~z);
    claimed = SEL(z, zero, claimedn);
    vd idue0 = SEL(z, zero, id0), idue1 = SEL(z, zero, id1), bopen0 = SEL(z, zero, b0_open);
    vd tu = SEL(z, zero, topup_new), ip0 = SEL(z, zero, i0), pp0 = SEL(z, zero, p0);
    vd ip1 = SEL(z, zero, i1), pp1 = SEL(z, zero, p1), res = SEL(z, zero, rs), reimb = SEL(z, zero, rb);
    vd pl0 = SEL(z, zero, l0), il0 = SEL(z, zero, x0), pl1 = SEL(z, zero, l1), il1 = SEL(z, zero, x1);
    for (int e = 0; e < d->n_exp; e++)
        SD(g->exp_arr[e], SEL(z, exp_arr[e], ea[e]));
    /* the deferred buckets' +0.0; settled, ended */
    plan_cash = ADD(plan_cash, ADD(zero, zero));
    tax_arr = ADD(tax_arr, MUL(S1(d->tax_rate), zero));
    pamt = ADD(pamt, zero);
    settled |= final;
    vm ended = INZ(VI(g->ended));
    ended = (vm)((a & final & ~disposals) | (~a & ended));
    SD(g->plan_cash, plan_cash);
    SD(g->perf, perf);
    SD(g->cum_def, cum_def);
    SD(g->pamt, pamt);
    SD(g->tax_arr, tax_arr);
    SD(g->b0, b0);
    SD(g->b1, b1);
    SD(g->ia0, ia0);
    SD(g->ia1, ia1);
    SD(g->committed, committed);
    SD(g->paid_total, pt);
    SD(g->estate_claim, ec);
    SD(g->claimed, claimed);
    SD(g->topup_claim, tc);
    SI(g->nd, nd);
    SI(g->accel, TOI(accel));
    SI(g->settled, TOI(settled));
    SI(g->ended, TOI(ended));
    SI(g->sis, TOI(sis));
    /* the period's sums (act lanes only) */
    vd paid0s = ADD(ADD(ip0, pp0), zero);
    SD(g->cash0, MADD(VD(g->cash0), a, VD(g->cash0), paid0s));
    SD(g->cf[0][t - 1], SEL(a, paid0s, VD(g->cf[0][t - 1])));
    SD(g->prin0, MADD(VD(g->prin0), a, VD(g->prin0), pp0));
    SD(g->ptime0, MADD(VD(g->ptime0), a, VD(g->ptime0), MUL(S1((double)t), pp0)));
    SD(g->loss0, MADD(VD(g->loss0), a, VD(g->loss0), pl0));
    SD(g->lpv0, MADD(VD(g->lpv0), a, VD(g->lpv0), MUL(pl0, S1(d->disc0[t]))));
    SD(g->iloss0, MADD(VD(g->iloss0), a, VD(g->iloss0), il0));
    SI(g->short0, TOI(INZ(VI(g->short0)) | (a & FGT(SUB(idue0, ip0), tol))));
    vd paid1s = ADD(ADD(ip1, pp1), res);
    SD(g->cash1, MADD(VD(g->cash1), a, VD(g->cash1), paid1s));
    SD(g->cf[1][t - 1], SEL(a, paid1s, VD(g->cf[1][t - 1])));
    SD(g->prin1, MADD(VD(g->prin1), a, VD(g->prin1), pp1));
    SD(g->ptime1, MADD(VD(g->ptime1), a, VD(g->ptime1), MUL(S1((double)t), pp1)));
    SD(g->loss1, MADD(VD(g->loss1), a, VD(g->loss1), pl1));
    SD(g->lpv1, MADD(VD(g->lpv1), a, VD(g->lpv1), MUL(pl1, S1(d->disc1[t]))));
    SD(g->iloss1, MADD(VD(g->iloss1), a, VD(g->iloss1), il1));
    SI(g->short1, TOI(INZ(VI(g->short1)) | (a & FGT(SUB(idue1, ip1), tol))));
    SD(g->payout, MADD(VD(g->payout), a, VD(g->payout), gp));
    SD(g->topup, MADD(VD(g->topup), a, VD(g->topup), tu));
    SD(g->rec_g, MADD(VD(g->rec_g), a, VD(g->rec_g), ADD(rec_g, reimb)));
    SD(g->fees, MADD(VD(g->fees), a, VD(g->fees), gfee));
    SD(g->unpaid, MADD(VD(g->unpaid), a, VD(g->unpaid), unpaid));
    vd pnl = MUL(SUB(SUB(ADD(ADD(gfee, rec_g), reimb), gp), tu), S1(d->disc0[t]));
    SD(g->pnl_pv, MADD(VD(g->pnl_pv), a, VD(g->pnl_pv), pnl));
    double pdue = 0.0 + d->promise[t];
    vm c = (vm)(a & (pdue > TOL ? ALL : 0) & FGT(ADD(zero, bopen0), tol));
    SD(g->cov[t - 1], SEL(c, DIV(ADD(ADD(ic, pc), zero), S1(pdue)), VD(g->cov[t - 1])));
}
#endif

/* Up to W stored event paths through the lanes (x[idx[0..n)]); their
 * records, via spec_record, queued yields and all, into the batch's slots
 * idx[..]. */
static void lanes_group(const spec *d, const spec_base *b, lanes *g, spec_ws *w,
                        batched *bt, const ev *x, const int *idx, int n, bool simd)
{
    int maxn = 0, pmin = d->T;
    for (int l = 0; l < W; l++) {
        const ev *r = &x[idx[l < n ? l : 0]];
        g->n[l] = r->n;
        g->tau_g[l] = r->tau_g;
        for (int j = 0; j < NL; j++) {
            g->loan[j][l] = j < r->n ? r->loan[j] : 0;
            g->period[j][l] = j < r->n ? r->period[j] : 0;
            g->rz[j][l] = j < r->n ? r->rz[j] : 0.0;
        }
        for (int j = 0; j < r->n; j++) {
            int i = r->loan[j], tau = r->period[j];
            g->s_rec[j][l] = tau + d->lag[i];
            g->s_pay[j][l] = tau + d->g_lag;
            g->s_term[j][l] = d->term[i];
            g->s_open[j][l] = d->bal[i][tau - 1];
            g->s_ead[j][l] = d->ead[i][tau];
            double gross = lesser(d->ead[i][tau], d->ip_value[i] * r->rz[j]);
            double proceeds = greater(0.0, gross - d->cost[i]);
            double to_g = proceeds * 1.0;
            g->s_tog[j][l] = to_g;
            g->s_toplan[j][l] = proceeds - to_g;
            double due = greater(0.0, d->ead[i][tau] - 0.0);
            g->s_due[j][l] = due;
            double inte = due * d->rshare[i][tau];
            double fees = inte * d->bshare[i][tau] + inte * d->sshare[i][tau];
            g->s_inte_fees[j][l] = inte - fees;
            g->s_fees[j][l] = fees;
        }
        int e = spec_first_event(d, r);
        g->p[l] = e - 1 < d->T ? e - 1 : d->T;
        maxn = r->n > maxn ? r->n : maxn;
        pmin = g->p[l] < pmin ? g->p[l] : pmin;
        /* lanes past n repeat the first path and are dropped */
    }
    int act[W];
    for (int t = pmin + 1; t <= d->T; t++) {
        int any = 0;
        unsigned mask = 0;
        for (int l = 0; l < W; l++) {
            if (g->p[l] == t - 1)
                lane_load(g, l, b, d);
            act[l] = g->p[l] < t && !g->ended[l];
            mask |= (unsigned)act[l] << l;
            any |= act[l] || g->p[l] >= t;
        }
        if (!any)
            break;
        if (counting) {
            lane_periods += W;
            for (int l = 0; l < W; l++)
                busy_periods += l < n && act[l];
        }
#ifdef __AVX512F__
        if (simd) {
            lanes_step_avx512(d, g, (vm)mask, t, maxn);
            continue;
        }
#endif
        (void)simd;
        lanes_step(d, g, act, t, maxn);
    }
    for (int l = 0; l < n; l++) {
        if (g->p[l] == d->T)
            lane_load(g, l, b, d);
        lane_unload(g, l, &w->a, d);
        if (!w->record)
            continue;
        w->event = idx[l];
        spec_record(w, &x[idx[l]], g->p[l] + 1, b->values, (const double (*)[NT])b->acc[d->T].cf);
        keep_record(&bt->L, w->values, &bt->records[(size_t)idx[l] * bt->L.count], &x[idx[l]]);
    }
}

/* (l): a batch of stored event paths through the lanes, grouped by restart
 * period and number of defaults (a counting sort), yields solved together. */
static void lanes_batch(batched *bt, const spec *d, const spec_base *b, lanes *g, spec_ws *w,
                        const ev *x, int n, bool simd)
{
    enum { KEYS = (NT + 1) * (NL + 1) };
    int idx[BATCH_EVENTS], start[KEYS + 1] = {0};
    int pe[BATCH_EVENTS];
    for (int e = 0; e < n; e++) {
        int f = spec_first_event(d, &x[e]);
        pe[e] = (f - 1 < d->T ? f - 1 : d->T) * (NL + 1) + x[e].n;
        start[pe[e] + 1]++;
    }
    for (int p = 1; p <= KEYS; p++)
        start[p] += start[p - 1];
    for (int e = 0; e < n; e++)
        idx[start[pe[e]]++] = e;
    bt->q.n = 0;
    w->q = &bt->q;
    for (int e = 0; e < n; e += W)
        lanes_group(d, b, g, w, bt, x, &idx[e], n - e < W ? n - e : W, simd);
    w->q = NULL;
    solve_batch(bt);
}

static double time_lanes(batched *bt, const spec *d, const spec_base *b, lanes *g, spec_ws *w,
                         const store *s, bool simd)
{
    double t0 = now();
    for (long k = 0; k < s->n; k += BATCH_EVENTS) {
        int n = s->n - k < BATCH_EVENTS ? (int)(s->n - k) : BATCH_EVENTS;
        lanes_batch(bt, d, b, g, w, &s->e[k], n, simd);
        clear_records(bt, &s->e[k], n);
    }
    double t1 = now();
    sink += bt->records[IPABS_TM_IRR];
    return t1 - t0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: event_path_specialised SCENARIO [PATHS [ROUNDS]]\n");
        return 2;
    }
    long long paths = argc > 2 ? atoll(argv[2]) : 400000;
    int rounds = argc > 3 ? atoi(argv[3]) : 7;
    ipabs_init();
    ipabs_error err = {0};
    ipabs_errors errs = {0};
    ipabs_deal *deal = NULL;
    if (ipabs_scenario_load(argv[1], NULL, 0, &deal, &errs) != IPABS_OK) {
        fprintf(stderr, "cannot load %s\n", argv[1]);
        return 2;
    }
    ipabs_model_plan *plan = NULL;
    if (ipabs_model_plan_build(deal, &plan, &err) != IPABS_OK) {
        fprintf(stderr, "plan: %s\n", err.message);
        return 2;
    }
    if (!spec_supported(deal, plan))
        return 3;
    static spec d;
    static spec_base base;
    spec_build(&d, deal);
    spec_baseline(&d, &base);

    /* 1. the engine's realisations */
    uint64_t seed = deal->simulation.seed;
    store s = {.n_loans = deal->n_loans};
    long long nd = 0, ng = 0;
    if (ipabs_mc_sample_only(deal, plan, seed, paths, 0, keep, &s, &nd, &ng, &err) != IPABS_OK) {
        fprintf(stderr, "sample: %s\n", err.message);
        return 1;
    }
    printf("scenario %s: %lld paths, %ld event paths (%.1f%%), %lld defaults, %lld guarantor defaults, "
           "stored %.1f MB\n", argv[1], paths, s.n, 100.0 * s.n / paths, nd, ng,
           s.n * sizeof(ev) / 1e6);

    /* 3. the check */
    ipabs_mc_path *w = ipabs_mc_path_alloc(deal, plan, &err);
    ipabs_mc_path *w2 = ipabs_mc_path_alloc(deal, plan, &err);
    if (w == NULL || w2 == NULL) {
        fprintf(stderr, "workspace: %s\n", err.message);
        return 1;
    }
    int count = d.L.count;
    spec_ws sw = {.d = &d, .b = &base, .values = calloc((size_t)count, sizeof(double)),
                  .yields = true, .record = true};
    long long compared = 0, differ = 0, bits = 0, paths_differ = 0, real_differ = 0, a_vs_eval = 0;
    long long *by_entry = calloc((size_t)count, sizeof(long long));
    /* the baseline's record against the engine's */
    long long base_differ = 0;
    for (int j = 0; j < count; j++) {
        bool b;
        base_differ += !same_entry(base.values[j], w->baseline->values[j], &b) || !b;
    }
    printf("no-default record: %d entries, %lld not bit-identical to the engine's\n", count, base_differ);
    for (long k = 0; k < s.n; k++) {
        const ev *x = &s.e[k];
        const double *v = NULL;
        if (ipabs_mc_path_eval(w, seed, x->index, &v, &err) != IPABS_OK) {
            fprintf(stderr, "engine path %llu: %s\n", (unsigned long long)x->index, err.message);
            return 1;
        }
        /* the re-sampled realisation against the stored one */
        const ipabs_realisation *r = w->real;
        bool rsame = r->n_defaults == x->n && r->guarantor_default_period == x->tau_g;
        for (int j = 0; rsame && j < x->n; j++)
            rsame = r->order[j] == x->loan[j] && r->default_period[r->order[j]] == x->period[j] &&
                    r->realisation[r->order[j]] == x->rz[j];
        real_differ += !rsame;
        /* (a)'s route: the stored realisation through mc_path_evaluate */
        realise(x, w2->real);
        if (mc_path_evaluate(w2, x->index, &err) != IPABS_OK)
            return 1;
        unrealise(deal, x, w2->real);
        spec_evaluate(&sw, x);
        bool any = false;
        for (int j = 0; j < count; j++) {
            bool b, b2;
            bool ok = same_entry(sw.values[j], v[j], &b);
            compared++;
            bits += b;
            if (!ok) {
                differ++;
                by_entry[j]++;
                any = true;
            }
            (void)same_entry(w2->values[j], v[j], &b2);
            a_vs_eval += !b2;
        }
        if (any && paths_differ++ < 5) {
            printf("path %llu (defaults %d, tau_g %d) differs:", (unsigned long long)x->index, x->n, x->tau_g);
            for (int j = 0; j < count; j++) {
                bool b;
                if (!same_entry(sw.values[j], v[j], &b))
                    printf(" [%d] %.17g vs %.17g", j, sw.values[j], v[j]);
            }
            printf("\n");
        }
    }
    printf("check: %ld event paths, %lld entries compared, %lld differ beyond 1e-9 relative "
           "(%lld paths), %lld bit-identical; realisations re-sampled differently: %lld; "
           "(a)'s route vs ipabs_mc_path_eval entries not bit-identical: %lld\n",
           s.n, compared, differ, paths_differ, bits, real_differ, a_vs_eval);
    for (int j = 0; j < count; j++)
        if (by_entry[j])
            printf("  entry %d: %lld paths\n", j, by_entry[j]);

    /* the batch engine's route (yields solved together in lanes): the
     * specialised records against the engine's, bit for bit */
    batched *b1 = batched_alloc(deal, w2), *b2 = batched_alloc(deal, w2);
    long long bdiff = 0, bcompared = 0;
    for (long k = 0; k < s.n; k += BATCH_EVENTS) {
        int nb = s.n - k < BATCH_EVENTS ? (int)(s.n - k) : BATCH_EVENTS;
        engine_batch(b1, w2, &s.e[k], nb);
        spec_batch(b2, &sw, &s.e[k], nb);
        for (size_t j = 0; j < (size_t)nb * (size_t)count; j++) {
            bcompared++;
            bdiff += memcmp(&b1->records[j], &b2->records[j], sizeof(double)) != 0;
        }
        clear_records(b1, &s.e[k], nb);
        clear_records(b2, &s.e[k], nb);
    }
    printf("check, batch route (records kept, yields by batch_yields_solve): %lld entries compared, "
           "%lld not bit-identical\n", bcompared, bdiff);

    /* 5. the lanes, checked the same way (against the engine's batch route):
     * plain C lane loops, and AVX-512 when compiled for it */
    static lanes g;
    batched *b3 = batched_alloc(deal, w2);
#ifdef __AVX512F__
    const int n_variants = 2;
#else
    const int n_variants = 1;
#endif
    for (int simd = 0; simd < n_variants; simd++) {
        long long ldiff = 0, lcompared = 0, lpaths = 0;
        counting = simd == n_variants - 1;
        for (long k = 0; k < s.n; k += BATCH_EVENTS) {
            int nb = s.n - k < BATCH_EVENTS ? (int)(s.n - k) : BATCH_EVENTS;
            engine_batch(b1, w2, &s.e[k], nb);
            lanes_batch(b3, &d, &base, &g, &sw, &s.e[k], nb, simd);
            for (int e = 0; e < nb; e++) {
                bool any = false;
                for (int j = 0; j < count; j++) {
                    size_t at = (size_t)e * (size_t)count + (size_t)j;
                    lcompared++;
                    if (memcmp(&b1->records[at], &b3->records[at], sizeof(double)) != 0) {
                        ldiff++;
                        any = true;
                    }
                }
                if (any && lpaths++ < 3) {
                    printf("lanes: path %llu differs:", (unsigned long long)s.e[k + e].index);
                    for (int j = 0; j < count; j++) {
                        size_t at = (size_t)e * (size_t)count + (size_t)j;
                        if (memcmp(&b1->records[at], &b3->records[at], sizeof(double)) != 0)
                            printf(" [%d] %.17g vs %.17g", j, b3->records[at], b1->records[at]);
                    }
                    printf("\n");
                }
            }
            clear_records(b1, &s.e[k], nb);
            clear_records(b3, &s.e[k], nb);
        }
        printf("check, lanes of %d, %s (batch route): %lld entries compared, %lld not bit-identical (%lld paths)\n",
               W, simd ? "AVX-512" : "plain C lane loops", lcompared, ldiff, lpaths);
    }

    counting = false;
    printf("lanes: %lld lane-periods run, %lld of them a path's period (%.1f%%)\n",
           lane_periods, busy_periods, 100.0 * busy_periods / (double)(lane_periods ? lane_periods : 1));

    /* 4. timings: alternating rounds, single thread */
    double *ta = calloc((size_t)rounds, sizeof(double)), *tr = calloc((size_t)rounds, sizeof(double));
    double *tb = calloc((size_t)rounds, sizeof(double)), *tw = calloc((size_t)rounds, sizeof(double));
    double *tn = calloc((size_t)rounds, sizeof(double));
    double *ta2 = calloc((size_t)rounds, sizeof(double)), *tb2 = calloc((size_t)rounds, sizeof(double));
    double *tc2 = calloc((size_t)rounds, sizeof(double)), *tl = calloc((size_t)rounds, sizeof(double));
    double *tv = calloc((size_t)rounds, sizeof(double)), *tvw = calloc((size_t)rounds, sizeof(double));
    spec_ws sw_lanes_norec = sw;
    sw_lanes_norec.record = false;
    spec_ws sw_full = sw, sw_norec = sw, sw_noyield = sw;
    sw_norec.record = false;
    sw_noyield.yields = false;
    (void)time_engine(deal, w2, &s, true); /* warm-up */
    (void)time_spec(&sw_full, &s);
    for (int q = 0; q < rounds; q++) {
        ta[q] = time_engine(deal, w2, &s, true);
        tb[q] = time_spec(&sw_full, &s);
        tr[q] = time_engine(deal, w2, &s, false);
        tw[q] = time_spec(&sw_norec, &s);
        tn[q] = time_spec(&sw_noyield, &s);
        ta2[q] = time_batched(b1, w2, &sw, &s, RUN_ENGINE);
        tb2[q] = time_batched(b2, w2, &sw, &s, RUN_SPEC);
        tc2[q] = time_batched(b2, w2, &sw, &s, RUN_SPEC_MEASURES);
        tl[q] = time_lanes(b3, &d, &base, &g, &sw, &s, false);
        tv[q] = n_variants > 1 ? time_lanes(b3, &d, &base, &g, &sw, &s, true) : 0.0;
        tvw[q] = n_variants > 1 ? time_lanes(b3, &d, &base, &g, &sw_lanes_norec, &s, true) : 0.0;
    }
    double n = (double)s.n;
    double ma = median(ta, rounds) / n * 1e9, mr = median(tr, rounds) / n * 1e9;
    double mb = median(tb, rounds) / n * 1e9, mw = median(tw, rounds) / n * 1e9;
    double mn = median(tn, rounds) / n * 1e9;
    printf("timing (%d rounds, medians, ns per event path, single thread):\n", rounds);
    printf("  (a) engine: set realisation + mc_path_evaluate (scalar yields)  %.1f\n", ma);
    printf("      of which setting/clearing the stored realisation alone      %.1f\n", mr);
    printf("      (a) less that                                                %.1f\n", ma - mr);
    printf("  (b) specialised: waterfall + record + yields                     %.1f\n", mb);
    printf("      waterfall only (restart + periods + sums)                    %.1f\n", mw);
    printf("      record without yields (b without yields - waterfall)         %.1f\n", mn - mw);
    printf("      yields (b - b without yields)                                %.1f\n", mb - mn);
    printf("  ratio (a)/(b) %.2f; (a less realisation)/(b) %.2f\n", ma / mb, (ma - mr) / mb);
    double ma2 = median(ta2, rounds) / n * 1e9, mb2 = median(tb2, rounds) / n * 1e9;
    double mc2 = median(tc2, rounds) / n * 1e9;
    printf("  batch route (records kept as batch_events does, yields by batch_yields_solve):\n");
    printf("  (a') engine                                                       %.1f\n", ma2);
    printf("  (b') specialised                                                  %.1f\n", mb2);
    printf("       yields in lanes (b' - waterfall - record without yields)     %.1f\n", mb2 - mn);
    printf("  ratio (a')/(b') %.2f\n", ma2 / mb2);
    printf("  (c)  the records into the chunk's sums (batch_measures, trackers' rows) %.1f\n", mc2 - mb2);
    double ml = median(tl, rounds) / n * 1e9;
    printf("  (l)  lanes of %d: waterfall, record, yields by batch_yields_solve  %.1f  (ratio (a')/(l) %.2f)\n",
           W, ml, ma2 / ml);
    double mv = median(tv, rounds) / n * 1e9;
    if (n_variants > 1) {
        printf("  (v)  lanes of %d, AVX-512: waterfall, record, yields by batch_yields_solve  %.1f  (ratio (a')/(v) %.2f, (b')/(v) %.2f)\n",
               W, mv, ma2 / mv, mb2 / mv);
        double mvw = median(tvw, rounds) / n * 1e9;
        printf("       of which the lanes' waterfall (restart, periods, sums; no record, no yields)  %.1f\n", mvw);
        printf("  rounds (v):");
        for (int q = 0; q < rounds; q++)
            printf(" %.1f", tv[q] / n * 1e9);
        printf("\n");
    }
    printf("  rounds (l):");
    for (int q = 0; q < rounds; q++)
        printf(" %.1f", tl[q] / n * 1e9);
    printf("\n");
    printf("  rounds (a'):");
    for (int q = 0; q < rounds; q++)
        printf(" %.1f", ta2[q] / n * 1e9);
    printf("\n  rounds (b'):");
    for (int q = 0; q < rounds; q++)
        printf(" %.1f", tb2[q] / n * 1e9);
    printf("\n");
    printf("  rounds (a):");
    for (int q = 0; q < rounds; q++)
        printf(" %.1f", ta[q] / n * 1e9);
    printf("\n  rounds (b):");
    for (int q = 0; q < rounds; q++)
        printf(" %.1f", tb[q] / n * 1e9);
    printf("\n(sink %g)\n", sink);
    return 0;
}
