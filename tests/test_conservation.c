/*
 * test_conservation.c — every yuan accounted for (SPEC §2, "Conservation"),
 * over many realisations of the reference deal, checked independently of
 * the engine's own per-period check.
 *
 * The realisations are drawn here with GSL's MT19937 and a fixed seed, not
 * with the engine's streams: each loan defaults with probability 0.3 in a
 * uniform period 1..term, its IP realises a uniform fraction in [0, 1] (with
 * the edges 0 and 1 drawn on purpose), the guarantor fails with probability
 * 0.3 in a uniform period; and each realisation runs on a freshly loaded
 * reference deal whose guarantor (payout style and lag, capacity, top-up,
 * estate recovery), triggers and cash reserve are varied at random.
 *
 * check_run() then verifies, from the ledger and the period flows alone:
 *   - each period, the parties' net ledger cash sums to 0, and the plan's
 *     net equals plan_cash_close - plan_cash_open, which equals the previous
 *     period's close (the initial reserve in period 1);
 *   - over the run, cash into the plan = cash out + final cash - reserve;
 *   - each tranche: original balance = principal paid + principal lost,
 *     from the flows and from the ledger;
 *   - each loan: principal it paid (ledger) + its balance at default
 *     (computed here from the tape's terms) = its principal, and it pays
 *     nothing from its default on; recoveries are
 *     max(0, min(EAD, ip_value x realisation) - disposal_cost);
 *   - the guarantor: payouts + top-ups (ledger) <= capacity and equal to
 *     final_state->guarantor_paid_total; nothing paid once it has failed;
 *   - no amount negative, NaN or infinite.
 * check_run() reports the first failure as text instead of asserting, so
 * that the last tests can show it catches corrupted runs.
 *
 * The first tests show that ipabs_waterfall_step fails loudly (IPABS_EINTERNAL
 * naming "conservation") when its state or the deal's precomputed totals are
 * corrupted between steps.
 */
#include <criterion/criterion.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "ipabs/ledger.h"
#include "ipabs/scenario.h"
#include "ipabs/waterfall.h"

#define REFERENCE IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs.yaml"
#define REFERENCE_A123 IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs-a123.yaml"
#define REFERENCE_MONTHLY IPABS_SOURCE_DIR "/scenarios/shenyang-ip-abs-a123-monthly.yaml"
#define N_REALISATIONS 4000
#define SEED 20251127UL
#define TOL 1e-6

/* ---- the fixture deal for the loud-failure tests ----------------------------- */

/* Two loans with "ugly" terms, senior and sub, two expenses; the golden
 * deal of test_waterfall.c. */
static ipabs_deal *small_deal(void)
{
    ipabs_deal *d = fx_golden_deal();
    ipabs_error err = {0};
    cr_assert_eq(ipabs_deal_finalize(d, &err), IPABS_OK, "expected the fixture to "
                 "finalise: %s", err.message);
    return d;
}

/* A cash-flow run stepped by hand, so a test can meddle between steps. */
typedef struct stepper {
    ipabs_cashflow *cf; /* owns periods, state and ledger */
    int t;              /* periods done */
} stepper;

static stepper stepper_start(const ipabs_deal *d)
{
    ipabs_cashflow *cf = calloc(1, sizeof *cf);
    cf->periods = calloc((size_t)d->legal_final, sizeof *cf->periods);
    cf->final_state = ipabs_state_alloc(d);
    cf->ledger = ipabs_ledger_alloc(d);
    cr_assert(cf->periods && cf->final_state && cf->ledger, "expected allocations");
    for (int t = 0; t < d->legal_final; t++) {
        cr_assert_eq(ipabs_flows_init(d, &cf->periods[t]), IPABS_OK);
        cf->n_periods = t + 1;
    }
    return (stepper){cf, 0};
}

static ipabs_status stepper_step(const ipabs_deal *d, const ipabs_realisation *r,
                                 stepper *s, ipabs_error *err)
{
    return ipabs_waterfall_step(d, r, s->cf->final_state, &s->cf->periods[s->t++],
                                s->cf->ledger, err);
}

static void step_ok(const ipabs_deal *d, const ipabs_realisation *r, stepper *s)
{
    ipabs_error err = {0};
    ipabs_status st = stepper_step(d, r, s, &err);
    cr_assert_eq(st, IPABS_OK, "expected period %d to succeed: %s", s->t, err.message);
}

static void expect_loud_failure(ipabs_status st, const ipabs_error *err, int period)
{
    cr_expect_eq(st, IPABS_EINTERNAL,
                 "expected IPABS_EINTERNAL from period %d after the corruption, got %d",
                 period, st);
    cr_expect_eq(err->code, IPABS_EINTERNAL, "expected the error's code to be EINTERNAL");
    cr_expect(strstr(err->message, "conservation") != NULL,
              "expected a message naming 'conservation', got '%s'", err->message);
}

/* ---- loud failure of the step ------------------------------------------------ */

/* The state says loan A has defaulted (it has an exposure) but the
 * realisation does not list it: the ledger, built loan by loan, skips A
 * while the pool totals still collect it.  The plan's ledger no longer
 * matches its cash. */
Test(conservation, step_fails_loudly_on_state_contradicting_the_realisation)
{
    ipabs_deal *d = small_deal();
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    ipabs_realisation_index(d, r);
    stepper s = stepper_start(d);
    step_ok(d, r, &s);
    s.cf->final_state->ead[0] = 1.0;
    ipabs_error err = {0};
    ipabs_status st = stepper_step(d, r, &s, &err);
    expect_loud_failure(st, &err, 2);
    cr_expect(strstr(err.message, "period 2") != NULL,
              "expected the message to name period 2, got '%s'", err.message);
    ipabs_cashflow_free(s.cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* A yuan appears in period 3's pool interest: the plan collects it, no
 * obligor pays it in the ledger.  In the deal's precomputed totals (as a
 * bug in ipabs_deal_finalize would put it: the state's dues start from
 * them), or in the state's dues after two periods (as a bug in taking a
 * default's amounts off them would). */
static void corrupt_period_3(bool in_deal)
{
    ipabs_deal *d = small_deal();
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    r->default_period[1] = 2;
    ipabs_realisation_index(d, r);
    if (in_deal)
        d->pool_interest[3] += 1.0;
    stepper s = stepper_start(d);
    step_ok(d, r, &s);
    step_ok(d, r, &s);
    if (!in_deal)
        s.cf->final_state->pool_due[3].interest += 1.0;
    ipabs_error err = {0};
    ipabs_status st = stepper_step(d, r, &s, &err);
    expect_loud_failure(st, &err, 3);
    ipabs_cashflow_free(s.cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

Test(conservation, step_fails_loudly_on_corrupt_pool_totals)
{
    corrupt_period_3(true);
}

Test(conservation, step_fails_loudly_on_corrupt_pool_dues)
{
    corrupt_period_3(false);
}

/* ---- the independent checker ----------------------------------------------------- */

/* A party as an index into an array of nets: loans, tranches, expenses,
 * then the single parties.  -1 for a party that cannot exist. */
static int party_slot(const ipabs_deal *d, ipabs_party p)
{
    int loans = d->n_loans, tranches = d->n_tranches, expenses = d->n_expenses;
    switch (p.kind) {
    case IPABS_PARTY_LOAN:
        return p.index >= 0 && p.index < loans ? p.index : -1;
    case IPABS_PARTY_TRANCHE:
        return p.index >= 0 && p.index < tranches ? loans + p.index : -1;
    case IPABS_PARTY_EXPENSE:
        return p.index >= 0 && p.index < expenses ? loans + tranches + p.index : -1;
    case IPABS_PARTY_GUARANTOR:
    case IPABS_PARTY_ESTATE:
    case IPABS_PARTY_LENDER:
    case IPABS_PARTY_BANK:
    case IPABS_PARTY_PLAN:
    case IPABS_PARTY_TAX:
    case IPABS_PARTY_IP_DISPOSAL:
        return p.index == -1 ? loans + tranches + expenses + (int)p.kind : -1;
    case IPABS_PARTY_COUNT_:
        break;
    }
    return -1;
}

static int n_slots(const ipabs_deal *d)
{
    return d->n_loans + d->n_tranches + d->n_expenses + IPABS_PARTY_COUNT_;
}

static bool is_party(ipabs_party p, ipabs_party_kind kind, int index)
{
    return p.kind == kind && p.index == index;
}

/* Scheduled balance of a loan after `paid` periods, from its terms alone
 * (quarterly 30/360 in the reference, so the periodic rate is rate / f):
 * the closed form of its schedule after g grace periods, times the share
 * (1 - SMM)^paid that prepayment has left. */
static double balance_after(const ipabs_deal *d, const ipabs_loan *l, int paid)
{
    if (paid >= l->term)
        return 0.0;
    double left = pow(1.0 - ipabs_prepayment_smm(l->cpr, d->frequency), paid);
    int g = l->grace_periods, n = l->term - g, k = paid - g;
    if (k <= 0 && l->amort != IPABS_LOAN_SCHEDULE)
        return l->principal * left;
    switch (l->amort) {
    case IPABS_LOAN_BULLET:
        return l->principal * left;
    case IPABS_LOAN_LEVEL_PRINCIPAL:
        return l->principal * (1.0 - (double)k / n) * left;
    case IPABS_LOAN_ANNUITY: {
        double j = l->rate / d->frequency;
        double grow_n = pow(1.0 + j, n), grow_k = pow(1.0 + j, k);
        return l->principal * (grow_n - grow_k) / (grow_n - 1.0) * left;
    }
    case IPABS_LOAN_SCHEDULE: {
        double repaid = 0.0;
        for (int t = 1; t <= paid; t++)
            repaid += l->schedule[t];
        return l->principal * (1.0 - repaid) * left;
    }
    }
    return NAN;
}

typedef struct checker {
    const ipabs_deal *d;
    const ipabs_realisation *r;
    const ipabs_cashflow *cf;
    char *why;
    size_t cap;
    bool failed;
} checker;

/* Record the first failure; returns false so checks read `return fail(...)`. */
__attribute__((format(printf, 2, 3))) static bool fail(checker *c, const char *fmt, ...)
{
    if (!c->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->why, c->cap, fmt, ap);
        va_end(ap);
        c->failed = true;
    }
    return false;
}

static bool near(long double a, long double b)
{
    return fabsl(a - b) <= TOL;
}

/* Every entry well formed: a real period in order, known distinct parties,
 * an amount that is a finite number > 0 (zero transfers are not recorded). */
static bool check_entries(checker *c)
{
    const ipabs_ledger *lg = c->cf->ledger;
    int last = 1;
    for (size_t e = 0; e < lg->count; e++) {
        const ipabs_ledger_entry *x = &lg->entries[e];
        if (!isfinite(x->amount) || x->amount < 0.0)
            return fail(c, "ledger entry %zu (period %d, %s): amount %g is negative or "
                        "not finite", e, x->period, ipabs_flow_kind_name(x->kind), x->amount);
        if (x->period < last || x->period > c->d->legal_final)
            return fail(c, "ledger entry %zu: period %d out of order or range", e,
                        x->period);
        last = x->period;
        /* Moves between the plan's revenue and principal accounts are the
         * only transfers from a party to itself. */
        bool account_move = x->kind == IPABS_FLOW_PRINCIPAL_TO_REVENUE ||
                            x->kind == IPABS_FLOW_REVENUE_TO_PRINCIPAL;
        if (account_move != (is_party(x->payer, IPABS_PARTY_PLAN, -1) &&
                             is_party(x->payee, IPABS_PARTY_PLAN, -1)))
            return fail(c, "ledger entry %zu: an account move not from the plan to itself", e);
        if (party_slot(c->d, x->payer) < 0 || party_slot(c->d, x->payee) < 0 ||
            (!account_move && party_slot(c->d, x->payer) == party_slot(c->d, x->payee)))
            return fail(c, "ledger entry %zu: bad payer/payee", e);
        if (x->loan < -1 || x->loan >= c->d->n_loans || x->tranche < -1 ||
            x->tranche >= c->d->n_tranches)
            return fail(c, "ledger entry %zu: bad loan or tranche index", e);
    }
    return true;
}

static bool check_flows_finite(checker *c)
{
    for (int t = 1; t <= c->cf->n_periods; t++) {
        const ipabs_period_flows *f = &c->cf->periods[t - 1];
        const double v[] = {f->new_default_balance, f->cum_default_ratio,
                            f->interest_collected, f->principal_collected,
                            f->cleanup_price, f->agency_fee,
                            f->servicing_fee, f->guarantee_fee, f->guarantee_payout,
                            f->topup, f->guarantor_owed_unpaid, f->recovery_plan,
                            f->recovery_guarantor, f->recovery_estate, f->estate_recovery,
                            f->available, f->tax_paid, f->expenses_paid, f->residual,
                            f->reimbursement, f->reimbursement_estate,
                            f->plan_cash_open, f->plan_cash_close, f->payout_fees,
                            f->call_price, f->put_unfunded};
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
            if (!isfinite(v[i]) || v[i] < -TOL)
                return fail(c, "period %d: flow field %zu is %g", t, i, v[i]);
        for (int k = 0; k < c->d->n_tranches; k++) {
            const double w[] = {f->balance_open[k], f->interest_due[k], f->interest_paid[k],
                                f->principal_paid[k], f->principal_loss[k],
                                f->interest_loss[k], f->balance_close[k],
                                f->put_redeemed[k], f->put_bought[k], f->put_resold[k],
                                f->held_interest[k], f->held_principal[k], f->held_loss[k],
                                f->held_close[k]};
            for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
                if (!isfinite(w[i]) || w[i] < -TOL)
                    return fail(c, "period %d tranche %d: field %zu is %g", t, k, i, w[i]);
        }
    }
    return true;
}

/* Per period: parties' nets sum to 0; the plan's net is its cash change;
 * cash carries over from one period to the next. */
static bool check_periods(checker *c, long double *nets)
{
    const ipabs_deal *d = c->d;
    const ipabs_ledger *lg = c->cf->ledger;
    int slots = n_slots(d), plan = party_slot(d, (ipabs_party){IPABS_PARTY_PLAN, -1});
    size_t e = 0;
    double carried = d->reserve_initial;
    for (int t = 1; t <= c->cf->n_periods; t++) {
        const ipabs_period_flows *f = &c->cf->periods[t - 1];
        for (int s = 0; s < slots; s++)
            nets[s] = 0.0L;
        for (; e < lg->count && lg->entries[e].period == t; e++) {
            const ipabs_ledger_entry *x = &lg->entries[e];
            nets[party_slot(d, x->payee)] += x->amount;
            nets[party_slot(d, x->payer)] -= x->amount;
        }
        long double total = 0.0L;
        for (int s = 0; s < slots; s++)
            total += nets[s];
        if (!near(total, 0.0L))
            return fail(c, "period %d: the parties' nets sum to %.9Lf, not 0", t, total);
        if (!near(nets[plan], (long double)f->plan_cash_close - f->plan_cash_open))
            return fail(c, "period %d: plan ledger net %.9Lf != cash close %.6f - open %.6f",
                        t, nets[plan], f->plan_cash_close, f->plan_cash_open);
        if (!near(f->plan_cash_open, carried))
            return fail(c, "period %d: plan cash opens at %.6f but the previous period "
                        "closed at %.6f", t, f->plan_cash_open, carried);
        carried = f->plan_cash_close;
    }
    if (!near(c->cf->final_state->plan_cash, carried))
        return fail(c, "final plan cash %.6f != last close %.6f",
                    c->cf->final_state->plan_cash, carried);
    return true;
}

/* Over the run: into the plan = out of the plan + final cash - initial reserve. */
static bool check_plan_run(checker *c)
{
    const ipabs_ledger *lg = c->cf->ledger;
    long double in = 0.0L, out = 0.0L;
    for (size_t e = 0; e < lg->count; e++) {
        const ipabs_ledger_entry *x = &lg->entries[e];
        if (is_party(x->payee, IPABS_PARTY_PLAN, -1))
            in += x->amount;
        if (is_party(x->payer, IPABS_PARTY_PLAN, -1))
            out += x->amount;
    }
    long double want = out + c->cf->final_state->plan_cash - c->d->reserve_initial;
    if (!near(in, want))
        return fail(c, "plan over the run: in %.6Lf != out %.6Lf + final cash %.6f - "
                    "reserve %.6f", in, out, c->cf->final_state->plan_cash,
                    c->d->reserve_initial);
    return true;
}

/* The put supporter's holding of class k: never more than the class, at
 * most its share of each payment, and its face bought less resold is
 * what principal repaid it and losses took (the price can exceed the
 * face by unpaid coupon, never fall short of it). */
static bool check_held(checker *c, int k)
{
    long double bought = 0.0L, back = 0.0L;
    for (int t = 0; t < c->cf->n_periods; t++) {
        const ipabs_period_flows *f = &c->cf->periods[t];
        if (f->held_close[k] > f->balance_close[k] + TOL)
            return fail(c, "period %d tranche %d: the supporter holds %.6f of %.6f", t + 1,
                        k, f->held_close[k], f->balance_close[k]);
        if (f->held_interest[k] > f->interest_paid[k] + TOL ||
            f->held_principal[k] > f->principal_paid[k] + TOL ||
            f->held_loss[k] > f->principal_loss[k] + TOL)
            return fail(c, "period %d tranche %d: the supporter's share exceeds the class's",
                        t + 1, k);
        bought += f->put_bought[k] - f->put_resold[k];
        back += f->held_principal[k] + f->held_loss[k];
    }
    if (back > bought + TOL)
        return fail(c, "tranche %d: the supporter got back %.6Lf of face, bought %.6Lf", k,
                    back, bought);
    if (c->cf->final_state->held[k] != 0.0)
        return fail(c, "tranche %d: the supporter still holds %.6f at the end", k,
                    c->cf->final_state->held[k]);
    return true;
}

/* Each tranche: original balance = principal paid + principal lost, from the
 * flows and from the ledger; nothing left outstanding at the end. */
static bool check_tranches(checker *c)
{
    const ipabs_deal *d = c->d;
    const ipabs_ledger *lg = c->cf->ledger;
    for (int k = 0; k < d->n_tranches; k++) {
        long double paid = 0.0L, lost = 0.0L, ledger_paid = 0.0L;
        for (int t = 0; t < c->cf->n_periods; t++) {
            paid += c->cf->periods[t].principal_paid[k];
            lost += c->cf->periods[t].principal_loss[k];
        }
        for (size_t e = 0; e < lg->count; e++) {
            const ipabs_ledger_entry *x = &lg->entries[e];
            /* The class's principal: to its investors, to the put
             * supporter for the securities it holds, and securities put
             * that the principal account redeemed. */
            if (((x->kind == IPABS_FLOW_TRANCHE_PRINCIPAL ||
                  x->kind == IPABS_FLOW_PUT_REDEMPTION) &&
                 is_party(x->payee, IPABS_PARTY_TRANCHE, k)) ||
                (x->kind == IPABS_FLOW_HELD_PRINCIPAL && x->tranche == k))
                ledger_paid += x->amount;
        }
        double balance = d->tranches[k].balance;
        if (!near(paid + lost, balance))
            return fail(c, "tranche %s: paid %.6Lf + lost %.6Lf != balance %.6f",
                        d->tranches[k].name, paid, lost, balance);
        if (!near(ledger_paid, paid))
            return fail(c, "tranche %s: ledger principal %.6Lf != flows %.6Lf",
                        d->tranches[k].name, ledger_paid, paid);
        if (!check_held(c, k))
            return false;
        if (c->cf->final_state->tranche_balance[k] != 0.0)
            return fail(c, "tranche %s: %.6f outstanding after the legal final",
                        d->tranches[k].name, c->cf->final_state->tranche_balance[k]);
    }
    return true;
}

/* Each loan: principal paid (ledger) + balance at default = principal; no
 * payment from the default on; the disposal proceeds as the contract says. */
static bool check_loan(checker *c, int i, long double *new_default_balance)
{
    const ipabs_deal *d = c->d;
    const ipabs_loan *l = &d->loans[i];
    const ipabs_ledger *lg = c->cf->ledger;
    int tau = c->r->default_period[i], called = c->cf->final_state->called;
    /* A loan bought back by the clean-up call no longer defaults in the plan. */
    bool defaulted = tau >= 1 && tau <= l->term && (called == 0 || tau <= called);
    long double principal = 0.0L, recovered = 0.0L;
    for (size_t e = 0; e < lg->count; e++) {
        const ipabs_ledger_entry *x = &lg->entries[e];
        if (is_party(x->payer, IPABS_PARTY_LOAN, i)) {
            if (defaulted && x->period >= tau)
                return fail(c, "loan %s defaulted in %d but pays %s in %d", l->id, tau,
                            ipabs_flow_kind_name(x->kind), x->period);
            if (x->kind == IPABS_FLOW_PRINCIPAL)
                principal += x->amount;
        }
        if ((x->kind == IPABS_FLOW_CLEANUP_CALL || x->kind == IPABS_FLOW_CALL) &&
            x->loan == i)
            principal += x->amount;
        if ((x->kind == IPABS_FLOW_RECOVERY || x->kind == IPABS_FLOW_PLEDGE_PROCEEDS) &&
            x->loan == i)
            recovered += x->amount;
    }
    double at_default = defaulted ? balance_after(d, l, tau - 1) : 0.0;
    if (!near(principal + at_default, l->principal))
        return fail(c, "loan %s: principal paid %.6Lf + balance at default %.6f != %.6f",
                    l->id, principal, at_default, l->principal);
    double recovery = 0.0;
    if (defaulted) {
        new_default_balance[tau - 1] += at_default;
        double ead = at_default * (1.0 + l->rate * d->accrual_dc[l->daycount][tau]);
        if (tau + l->recovery_lag <= d->legal_final)
            recovery = fmax(0.0, fmin(ead, l->ip_value * c->r->realisation[i]) -
                                     l->disposal_cost);
    }
    if (!near(recovered, recovery))
        return fail(c, "loan %s (default %d, realisation %.6f): recovered %.6Lf, "
                    "expected %.6f", l->id, tau, c->r->realisation[i], recovered, recovery);
    return true;
}

static bool check_loans(checker *c)
{
    const ipabs_deal *d = c->d;
    long double *new_default = calloc((size_t)d->legal_final, sizeof *new_default);
    bool ok = true;
    for (int i = 0; i < d->n_loans && ok; i++)
        ok = check_loan(c, i, new_default);
    for (int t = 1; t <= d->legal_final && ok; t++)
        if (!near(new_default[t - 1], c->cf->periods[t - 1].new_default_balance))
            ok = fail(c, "period %d: defaulted balance %.6f, expected %.6Lf", t,
                      c->cf->periods[t - 1].new_default_balance, new_default[t - 1]);
    free(new_default);
    return ok;
}

/* The guarantor: support within capacity and as the state counts it;
 * nothing paid once failed; its estate pays at most its recovery rate. */
static bool check_guarantor(checker *c)
{
    const ipabs_deal *d = c->d;
    const ipabs_ledger *lg = c->cf->ledger;
    int tau_g = c->r->guarantor_default_period;
    long double support = 0.0L, estate = 0.0L, owed_unpaid = 0.0L, topups = 0.0L;
    long double reimbursed = 0.0L;
    for (size_t e = 0; e < lg->count; e++) {
        const ipabs_ledger_entry *x = &lg->entries[e];
        if (x->kind == IPABS_FLOW_TOPUP)
            topups += x->amount;
        if (x->kind == IPABS_FLOW_REIMBURSEMENT) {
            bool to_estate = is_party(x->payee, IPABS_PARTY_ESTATE, -1);
            if (to_estate != (tau_g > 0 && x->period >= tau_g))
                return fail(c, "top-up reimbursement in %d paid to the %s", x->period,
                            to_estate ? "estate of a live guarantor" : "failed guarantor");
            reimbursed += x->amount;
        }
        if (x->kind == IPABS_FLOW_PLEDGE_PROCEEDS &&
            d->guarantor.ip_pledgee != IPABS_PLEDGEE_GUARANTOR)
            return fail(c, "pledge proceeds in %d with the IP pledged to the plan", x->period);
        if (is_party(x->payer, IPABS_PARTY_GUARANTOR, -1)) {
            if (tau_g > 0 && x->period >= tau_g)
                return fail(c, "the guarantor failed in %d but pays %s %.6f in %d", tau_g,
                            ipabs_flow_kind_name(x->kind), x->amount, x->period);
            if (x->kind == IPABS_FLOW_GUARANTEE_PAYOUT || x->kind == IPABS_FLOW_TOPUP)
                support += x->amount;
        }
        if (is_party(x->payer, IPABS_PARTY_ESTATE, -1))
            estate += x->amount;
    }
    for (int t = 0; t < c->cf->n_periods; t++)
        owed_unpaid += c->cf->periods[t].guarantor_owed_unpaid;
    if (support > d->guarantor.capacity + TOL)
        return fail(c, "guarantor support %.6Lf exceeds capacity %.6f", support,
                    d->guarantor.capacity);
    if (!near(support, c->cf->final_state->guarantor_paid_total))
        return fail(c, "guarantor support in the ledger %.6Lf != state's paid total %.6f",
                    support, c->cf->final_state->guarantor_paid_total);
    if (reimbursed > topups + TOL)
        return fail(c, "top-ups reimbursed %.6Lf exceed top-ups paid %.6Lf", reimbursed,
                    topups);
    if (!near(topups - reimbursed, c->cf->final_state->topup_claim) &&
        d->guarantor.reimbursement != IPABS_REIMBURSE_NONE)
        return fail(c, "top-ups %.6Lf - reimbursed %.6Lf != claim left %.6f", topups,
                    reimbursed, c->cf->final_state->topup_claim);
    if (estate > d->guarantor.recovery_rate * owed_unpaid + TOL)
        return fail(c, "estate paid %.6Lf > recovery rate %.4f x owed %.6Lf", estate,
                    d->guarantor.recovery_rate, owed_unpaid);
    return true;
}

/* Collection and payment periods (issue 10): between payment dates the
 * plan pays nobody (moves between its own accounts aside, and the bank's
 * and servicer's fees on a guarantee payout's interest, kept as the payout
 * passes through, as on the obligor's own interest) and no class moves;
 * after the plan's end nothing is held back by the transfer lag. */
static bool check_payment_dates(checker *c)
{
    const ipabs_deal *d = c->d;
    const ipabs_ledger *lg = c->cf->ledger;
    for (size_t e = 0; e < lg->count; e++) {
        const ipabs_ledger_entry *x = &lg->entries[e];
        bool payout_fee = x->kind == IPABS_FLOW_AGENCY_FEE || x->kind == IPABS_FLOW_SERVICING_FEE;
        if (is_party(x->payer, IPABS_PARTY_PLAN, -1) && !is_party(x->payee, IPABS_PARTY_PLAN, -1) &&
            !payout_fee && !ipabs_deal_is_payment(d, x->period))
            return fail(c, "the plan pays %s %.6f in period %d, not a payment date",
                        ipabs_flow_kind_name(x->kind), x->amount, x->period);
    }
    for (int t = 1; t <= c->cf->n_periods; t++) {
        const ipabs_period_flows *f = &c->cf->periods[t - 1];
        for (int k = 0; k < d->n_tranches && !ipabs_deal_is_payment(d, t); k++)
            if (f->balance_close[k] != f->balance_open[k] || f->principal_loss[k] != 0.0)
                return fail(c, "class %d moves in period %d, not a payment date", k, t);
    }
    const ipabs_state *st = c->cf->final_state;
    if (st->ended && st->deferred_revenue + st->deferred_principal != 0.0)
        return fail(c, "%.6f still held back by the transfer lag after the plan ended",
                    st->deferred_revenue + st->deferred_principal);
    return true;
}

/* All the checks; false with the first failure in why[cap]. */
static bool check_run(const ipabs_deal *d, const ipabs_realisation *r,
                      const ipabs_cashflow *cf, char *why, size_t cap)
{
    checker c = {d, r, cf, why, cap, false};
    long double *nets = calloc((size_t)n_slots(d), sizeof *nets);
    bool ok = check_entries(&c) && check_flows_finite(&c) && check_periods(&c, nets) &&
              check_plan_run(&c) && check_tranches(&c) && check_loans(&c) &&
              check_guarantor(&c) && check_payment_dates(&c);
    free(nets);
    return ok;
}

/* ---- random realisations ---------------------------------------------------------- */

static ipabs_deal *load_scenario(const char *path)
{
    ipabs_deal *deal = NULL;
    ipabs_errors errors = {0};
    ipabs_status s = ipabs_scenario_load(path, NULL, 0, &deal, &errors);
    for (size_t i = 0; i < errors.count; i++)
        ipabs_error_print(stderr, &errors.items[i]);
    ipabs_errors_clear(&errors);
    cr_assert_eq(s, IPABS_OK, "expected the reference scenario %s to load", path);
    return deal;
}

static ipabs_deal *load_reference(void)
{
    return load_scenario(REFERENCE);
}

/* Realisation n of a random test: the reference scenarios in turn, the
 * senior/sub deal, the A1/A2/A3 deal over split accounts, and (one in
 * three) its monthly-collection variant (issue 10: monthly ACT/360 loans
 * under a quarterly plan, a transfer lag). */
static ipabs_deal *load_either(int n)
{
    if (n % 3 == 2)
        return load_scenario(REFERENCE_MONTHLY);
    return load_scenario(n % 2 == 0 ? REFERENCE : REFERENCE_A123);
}

static bool coin(gsl_rng *g, double p)
{
    return gsl_rng_uniform(g) < p;
}

/* A fraction in [0, 1], the edges included on purpose. */
static double fraction(gsl_rng *g)
{
    double u = gsl_rng_uniform(g);
    return u < 0.05 ? 0.0 : u < 0.10 ? 1.0 : gsl_rng_uniform(g);
}

/* A random normal priority of payments (plan.priority_of_payments): every
 * step of the vocabulary once, each class's interest and principal a step
 * of its own, shuffled, the residual last.  Money must be conserved
 * whatever the order. */
static void random_order(ipabs_deal *d, gsl_rng *g)
{
    ipabs_pop *p = &d->pop[IPABS_POP_NORMAL];
    free(p->steps);
    free(p->classes);
    int n = 4 + d->n_expenses + 2 * d->n_tranches;
    p->steps = calloc((size_t)n + 1, sizeof *p->steps);
    p->classes = calloc(2 * (size_t)d->n_tranches, sizeof *p->classes);
    p->n_steps = p->n_classes = 0;
    p->steps[p->n_steps++] = (ipabs_pop_step){IPABS_POP_TAXES, -1, 0, 0};
    p->steps[p->n_steps++] = (ipabs_pop_step){IPABS_POP_REIMBURSEMENT, -1, 0, 0};
    p->steps[p->n_steps++] = (ipabs_pop_step){IPABS_POP_DEFICIENCY, -1, 0, 0};
    p->steps[p->n_steps++] = (ipabs_pop_step){IPABS_POP_RESERVE, -1, 0, 0};
    for (int e = 0; e < d->n_expenses; e++)
        p->steps[p->n_steps++] = (ipabs_pop_step){IPABS_POP_EXPENSE, e, 0, 0};
    for (int k = 0; k < d->n_tranches; k++) {
        p->classes[p->n_classes] = k;
        p->steps[p->n_steps++] = (ipabs_pop_step){IPABS_POP_INTEREST, -1, p->n_classes, 1};
        p->steps[p->n_steps++] = (ipabs_pop_step){IPABS_POP_PRINCIPAL, -1, p->n_classes++, 1};
    }
    gsl_ran_shuffle(g, p->steps, (size_t)p->n_steps, sizeof *p->steps);
    p->steps[p->n_steps++] = (ipabs_pop_step){IPABS_POP_RESIDUAL, -1, 0, 0};
    d->pop_given[IPABS_POP_NORMAL] = true;
    if (d->guarantor.reimbursement == IPABS_REIMBURSE_NONE)
        d->guarantor.reimbursement = IPABS_REIMBURSE_AFTER_SENIOR_PRINCIPAL;
}

/* Issue 10, item 5: a holder's put on some senior classes (date, share
 * exercised, resale, supporter, and a coupon reset written into the
 * derived coupons as ipabs_deal_finalize does), and the originator's call
 * on a random date, exercised or not. */
static void vary_puts(ipabs_deal *d, gsl_rng *g)
{
    for (int k = 0; k < d->n_senior; k++) {
        ipabs_tranche *tr = &d->tranches[k];
        free(tr->puts);
        tr->puts = NULL;
        tr->n_puts = 0;
        if (tr->legal_final < 2 || coin(g, 0.5))
            continue;
        tr->puts = calloc(1, sizeof *tr->puts);
        tr->n_puts = 1;
        ipabs_put *p = tr->puts;
        /* On a payment date (the collection grid, issue 10). */
        int dates = tr->legal_final / d->pay_every;
        if (dates < 2) {
            free(tr->puts);
            tr->puts = NULL;
            tr->n_puts = 0;
            continue;
        }
        p->period = d->pay_every * (1 + (int)gsl_rng_uniform_int(g, (unsigned long)dates - 1));
        p->exercised = fraction(g);
        p->resold = coin(g, 0.5) ? 0.0 : fraction(g);
        p->reset = coin(g, 0.5);
        p->coupon = 0.08 * gsl_rng_uniform(g);
        tr->put_supporter = coin(g, 0.5) ? IPABS_SUPPORTER_GUARANTOR : IPABS_SUPPORTER_ORIGINATOR;
        for (int t = p->period + 1; t <= d->legal_final && p->reset; t++)
            tr->coupon_at[t] = p->coupon;
    }
    free(d->call_periods);
    d->call_periods = NULL;
    d->n_call_periods = 0;
    d->call_exercise = 0;
    if (coin(g, 0.7))
        return;
    d->call_periods = malloc(sizeof *d->call_periods);
    d->n_call_periods = 1;
    d->call_periods[0] = d->pay_every *
        (1 + (int)gsl_rng_uniform_int(g, (unsigned long)(d->legal_final / d->pay_every)));
    d->call_exercise = coin(g, 0.7) ? d->call_periods[0] : 0;
}

/* Guarantor, triggers and reserve of this realisation's own deal. */
static void vary_deal(ipabs_deal *d, gsl_rng *g)
{
    ipabs_guarantor *gu = &d->guarantor;
    gu->payout_style = coin(g, 0.5) ? IPABS_PAYOUT_ACCELERATED : IPABS_PAYOUT_SCHEDULED;
    gu->payout_lag = (int)gsl_rng_uniform_int(g, 4);
    double u = gsl_rng_uniform(g);
    gu->capacity = u < 0.4 ? INFINITY : u < 0.45 ? 0.0 : 40e6 * gsl_rng_uniform(g);
    gu->topup = coin(g, 0.7);
    gu->recovery_rate = coin(g, 0.5) ? 0.0 : gsl_rng_uniform(g);
    gu->recovery_lag = (int)gsl_rng_uniform_int(g, 9);
    d->triggers.on_guarantor_default = coin(g, 0.5);
    d->triggers.cdr_threshold = coin(g, 0.5) ? INFINITY : 0.5 * gsl_rng_uniform(g);
    d->triggers.on_senior_interest_shortfall = coin(g, 0.5);
    d->reserve_initial = coin(g, 0.5) ? 0.0 : 2e6 * gsl_rng_uniform(g);
    d->reserve_target = coin(g, 0.5) ? 0.0 : 2e6 * gsl_rng_uniform(g);
    gu->ip_pledgee = coin(g, 0.5) ? IPABS_PLEDGEE_GUARANTOR : IPABS_PLEDGEE_PLAN;
    gu->reimbursement = (ipabs_reimbursement)gsl_rng_uniform_int(g, 4);
    d->cleanup_call = coin(g, 0.7) ? 0.0 : 0.4 * gsl_rng_uniform(g);
    /* Issue 10: the transfer lag of a deal collecting more often than it
     * pays (0 .. pay_every - 1 collection periods). */
    if (d->pay_every > 1)
        d->transfer_lag = (int)gsl_rng_uniform_int(g, (unsigned long)d->pay_every);
    /* Issue 9: the accounts and the classes' expected maturities. */
    d->accounts = coin(g, 0.5) ? IPABS_ACCOUNTS_SPLIT : IPABS_ACCOUNTS_SINGLE;
    d->principal_covers_revenue = coin(g, 0.5);
    d->reinvestment_rate = coin(g, 0.5) ? 0.0 : 0.05 * gsl_rng_uniform(g);
    for (int k = 0; k < d->n_tranches; k++) {
        ipabs_tranche *tr = &d->tranches[k];
        tr->expected_maturity = coin(g, 0.5) ? 0
            : 1 + (int)gsl_rng_uniform_int(g, (unsigned long)tr->legal_final);
        if (tr->amort == IPABS_TRANCHE_PASS_THROUGH && coin(g, 0.3))
            tr->amort = IPABS_TRANCHE_BULLET;
    }
    vary_puts(d, g);
}

/* A random explicit schedule: each period's share of the principal. */
static double *random_schedule(int term, gsl_rng *g)
{
    double *x = calloc((size_t)term + 1, sizeof *x), sum = 0.0;
    for (int t = 1; t <= term; t++)
        sum += x[t] = coin(g, 0.4) && t < term ? 0.0 : gsl_rng_uniform(g) + 1e-3;
    for (int t = 1; t <= term; t++)
        x[t] /= sum;
    return x;
}

/* The loans' time terms (issue 10): a copy of the deal with random day
 * counts per loan, class and expense, grace periods, explicit schedules
 * and prepayment rates, finalised afresh. */
static ipabs_deal *vary_loans(ipabs_deal *d, gsl_rng *g)
{
    ipabs_deal *c = NULL;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_deal_copy(d, NULL, 0, &c, &err), IPABS_OK, "%s", err.message);
    for (int i = 0; i < c->n_loans; i++) {
        ipabs_loan *l = &c->loans[i];
        l->daycount = (ipabs_daycount)gsl_rng_uniform_int(g, IPABS_N_DAYCOUNTS);
        l->daycount_given = true;
        l->cpr = coin(g, 0.5) ? 0.0 : 0.3 * gsl_rng_uniform(g);
        double u = gsl_rng_uniform(g);
        if (u < 0.25) {
            l->amort = IPABS_LOAN_SCHEDULE;
            free(l->schedule);
            l->schedule = random_schedule(l->term, g);
        } else if (u < 0.5 && l->term > 1) {
            l->amort = coin(g, 0.5) ? IPABS_LOAN_ANNUITY : IPABS_LOAN_LEVEL_PRINCIPAL;
            l->grace_periods = (int)gsl_rng_uniform_int(g, (unsigned long)l->term);
        }
    }
    for (int k = 0; k < c->n_tranches; k++) {
        ipabs_tranche *tr = &c->tranches[k];
        tr->daycount = (ipabs_daycount)gsl_rng_uniform_int(g, IPABS_N_DAYCOUNTS);
        tr->daycount_given = true;
        if (coin(g, 0.5) && tr->legal_final > 1) {
            free(tr->coupon_steps);
            tr->n_coupon_steps = 1;
            tr->coupon_steps = malloc(sizeof *tr->coupon_steps);
            tr->coupon_steps[0] = (ipabs_coupon_step){
                1 + (int)gsl_rng_uniform_int(g, (unsigned long)tr->legal_final),
                0.08 * gsl_rng_uniform(g)};
        }
    }
    for (int e = 0; e < c->n_expenses; e++) {
        c->expenses[e].daycount = (ipabs_daycount)gsl_rng_uniform_int(g, IPABS_N_DAYCOUNTS);
        c->expenses[e].daycount_given = true;
    }
    c->business_day = (ipabs_bday_rule)gsl_rng_uniform_int(g, 4);
    cr_assert_eq(ipabs_deal_finalize(c, &err), IPABS_OK, "%s", err.message);
    ipabs_deal_free(d);
    return c;
}

static void draw_realisation(const ipabs_deal *d, ipabs_realisation *r, gsl_rng *g)
{
    for (int i = 0; i < d->n_loans; i++) {
        int term = d->loans[i].term;
        r->default_period[i] = coin(g, 0.3) ? 1 + (int)gsl_rng_uniform_int(g, (unsigned long)term) : 0;
        r->realisation[i] = fraction(g);
    }
    r->guarantor_default_period =
        coin(g, 0.3) ? 1 + (int)gsl_rng_uniform_int(g, (unsigned long)d->legal_final) : 0;
    ipabs_realisation_index(d, r);
}

static void describe(const ipabs_deal *d, const ipabs_realisation *r, int n)
{
    const ipabs_guarantor *g = &d->guarantor;
    fprintf(stderr, "realisation %d: guarantor %s lag %d capacity %.2f topup %d "
            "estate %.4f lag %d fails in %d; triggers gd %d cdr %.4f sis %d; reserve "
            "%.2f target %.2f\n  defaults:", n,
            g->payout_style == IPABS_PAYOUT_ACCELERATED ? "accelerated" : "scheduled",
            g->payout_lag, g->capacity, g->topup, g->recovery_rate, g->recovery_lag,
            r->guarantor_default_period, d->triggers.on_guarantor_default,
            d->triggers.cdr_threshold, d->triggers.on_senior_interest_shortfall,
            d->reserve_initial, d->reserve_target);
    for (int i = 0; i < d->n_loans; i++)
        if (r->default_period[i] > 0)
            fprintf(stderr, " %s@%d:%.6f", d->loans[i].id, r->default_period[i],
                    r->realisation[i]);
    fprintf(stderr, "\n  business day rule %d; loans:", (int)d->business_day);
    for (int i = 0; i < d->n_loans; i++)
        fprintf(stderr, " %s %s term %d grace %d cpr %.4f %s;", d->loans[i].id,
                ipabs_loan_amort_name(d->loans[i].amort), d->loans[i].term,
                d->loans[i].grace_periods, d->loans[i].cpr,
                ipabs_daycount_name(d->loans[i].daycount));
    fprintf(stderr, "\n  accounts %s covers %d reinvest %.4f; %d collection periods a "
            "payment period, transfer lag %d; tranches:",
            d->accounts == IPABS_ACCOUNTS_SPLIT ? "split" : "single",
            d->principal_covers_revenue, d->reinvestment_rate, d->pay_every,
            d->transfer_lag);
    for (int k = 0; k < d->n_tranches; k++)
        fprintf(stderr, " %s %s expected %d legal %d;", d->tranches[k].name,
                ipabs_tranche_amort_name(d->tranches[k].amort),
                d->tranches[k].expected_maturity, d->tranches[k].legal_final);
    fputc('\n', stderr);
}

Test(conservation, holds_over_random_realisations_of_the_reference, .timeout = 120)
{
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g, SEED);
    int with_defaults = 0, with_topup = 0, with_loss = 0, capped = 0, guarantor_failed = 0;
    for (int n = 0; n < N_REALISATIONS; n++) {
        ipabs_deal *d = load_either(n);
        if (coin(g, 0.5))
            d = vary_loans(d, g);
        vary_deal(d, g);
        if (coin(g, 0.3))
            random_order(d, g);
        ipabs_realisation *r = ipabs_realisation_alloc(d);
        cr_assert_not_null(r, "expected a realisation");
        draw_realisation(d, r, g);

        ipabs_cashflow *cf = NULL;
        ipabs_error err = {0};
        ipabs_status s = ipabs_cashflow_compute(d, r, &cf, &err);
        if (s != IPABS_OK)
            describe(d, r, n);
        cr_assert_eq(s, IPABS_OK, "realisation %d: expected IPABS_OK, got %d: %s", n, s,
                     err.message);
        char why[512];
        if (!check_run(d, r, cf, why, sizeof why)) {
            describe(d, r, n);
            cr_assert_fail("realisation %d: expected conservation; %s", n, why);
        }

        with_defaults += r->n_defaults > 0;
        guarantor_failed += r->guarantor_default_period > 0;
        capped += cf->final_state->capacity_exhausted;
        for (int t = 0; t < cf->n_periods; t++) {
            with_topup += cf->periods[t].topup > 0.0;
            with_loss += cf->periods[t].principal_loss[0] > 0.0;
        }
        ipabs_cashflow_free(cf);
        ipabs_realisation_free(r);
        ipabs_deal_free(d);
    }
    gsl_rng_free(g);
    cr_log_info("%d realisations: %d with defaults, %d with the guarantor failing, "
                "%d with capacity exhausted; %d periods with a top-up, %d with a senior "
                "loss", N_REALISATIONS, with_defaults, guarantor_failed, capped,
                with_topup, with_loss);
    /* The draws reach the interesting branches. */
    cr_expect_gt(with_defaults, N_REALISATIONS / 2, "expected most realisations to "
                 "have defaults, got %d", with_defaults);
    cr_expect_gt(guarantor_failed, N_REALISATIONS / 5, "expected guarantor failures");
    cr_expect_gt(with_topup, 0, "expected some top-ups");
    cr_expect_gt(with_loss, 0, "expected some senior losses");
    cr_expect_gt(capped, 0, "expected some exhausted capacities");
}

/* ---- the pool's dues --------------------------------------------------------------------- */

/* What the pool owes in period u after the defaults so far, computed as the
 * waterfall did before it kept the dues in its state: the deal's totals,
 * less each defaulted loan still running in u, in the order of defaults,
 * from the loan's own schedules. */
static ipabs_pool_due dues_by_period(const ipabs_deal *d, const ipabs_realisation *r,
                                     int n_defaulted, int u)
{
    ipabs_pool_due e = {d->pool_interest[u], d->pool_principal[u], d->pool_agency_fee[u],
                        d->pool_servicing_fee[u], d->pool_guarantee_fee[u]};
    for (int j = 0; j < n_defaulted; j++) {
        const ipabs_loan *l = &d->loans[r->order[j]];
        if (u > l->term)
            continue;
        double base = l->balance[u - 1] * d->accrual_dc[l->daycount][u];
        e.interest -= l->interest[u];
        e.principal -= l->amortisation[u];
        e.agency_fee -= base * d->bank_fee_rate;
        e.servicing_fee -= base * d->servicing_fee_rate;
        e.guarantee_fee -= base * l->guarantee_fee_rate;
    }
    return e;
}

/* After every period, the state's dues of every later period are those
 * doubles, to the bit: the waterfall takes a loan's amounts off all its
 * periods once, when it defaults, in the same order as the period-by-period
 * subtraction took them. */
Test(conservation, pool_dues_equal_the_totals_less_each_default, .timeout = 120)
{
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g, SEED + 1);
    long long rows = 0, taken = 0;
    for (int n = 0; n < N_REALISATIONS / 4; n++) {
        ipabs_deal *d = load_either(n);
        if (coin(g, 0.5))
            d = vary_loans(d, g);
        vary_deal(d, g);
        ipabs_realisation *r = ipabs_realisation_alloc(d);
        draw_realisation(d, r, g);
        stepper s = stepper_start(d);
        const ipabs_state *st = s.cf->final_state;
        for (int t = 1; t <= d->legal_final; t++) {
            step_ok(d, r, &s);
            for (int u = t + 1; u <= d->legal_final; u++) {
                ipabs_pool_due want = dues_by_period(d, r, st->n_defaulted, u);
                const ipabs_pool_due *got = &st->pool_due[u];
                if (memcmp(got, &want, sizeof want) != 0) {
                    describe(d, r, n);
                    cr_assert_fail("realisation %d, after period %d: the dues of period %d "
                                   "are %.17g %.17g %.17g %.17g %.17g, expected %.17g "
                                   "%.17g %.17g %.17g %.17g", n, t, u, got->interest,
                                   got->principal, got->agency_fee, got->servicing_fee,
                                   got->guarantee_fee, want.interest, want.principal,
                                   want.agency_fee, want.servicing_fee, want.guarantee_fee);
                }
                rows++;
                taken += got->interest != d->pool_interest[u];
            }
        }
        ipabs_cashflow_free(s.cf);
        ipabs_realisation_free(r);
        ipabs_deal_free(d);
    }
    gsl_rng_free(g);
    /* The rows compared are not mostly the untouched totals: each loan
     * defaults with probability 0.3, and about a fifth of the rows (145,640
     * of 716,140 at this seed) have a default taken off. */
    cr_assert_gt(taken, rows / 10, "expected many periods with defaults taken off, got "
                 "%lld of %lld", taken, rows);
}

/* ---- the checker catches what it should ----------------------------------------------- */

/* One realisation of the reference with defaults and a guarantor payout. */
static ipabs_realisation *stressed(const ipabs_deal *d)
{
    ipabs_realisation *r = ipabs_realisation_alloc(d);
    r->default_period[2] = 4;
    r->default_period[6] = 2;
    r->realisation[6] = 0.37;
    ipabs_realisation_index(d, r);
    return r;
}

/* Cash created between periods (a yuan added to the plan account) passes
 * every per-period check of the step, which takes the carried state as
 * given, but the run-level identity and the carry-over check see it. */
Test(conservation, checker_catches_cash_created_between_periods)
{
    ipabs_deal *d = load_reference();
    ipabs_realisation *r = stressed(d);
    stepper s = stepper_start(d);
    for (int t = 1; t <= d->legal_final; t++) {
        step_ok(d, r, &s);
        if (t == 5)
            s.cf->final_state->plan_cash += 1.0;
    }
    char why[512] = "";
    cr_expect_not(check_run(d, r, s.cf, why, sizeof why),
                  "expected the checker to reject a yuan created after period 5");
    cr_expect(strstr(why, "period 6: plan cash opens") != NULL,
              "expected the carry-over check to name period 6, got '%s'", why);
    ipabs_cashflow_free(s.cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

Test(conservation, checker_accepts_an_honest_run_and_rejects_a_doctored_ledger)
{
    ipabs_deal *d = load_reference();
    ipabs_realisation *r = stressed(d);
    ipabs_cashflow *cf = NULL;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_cashflow_compute(d, r, &cf, &err), IPABS_OK, "%s", err.message);
    char why[512] = "";
    cr_assert(check_run(d, r, cf, why, sizeof why), "expected an honest run to pass: %s",
              why);
    /* One tranche payment inflated by a yuan. */
    ipabs_ledger_entry *x = NULL;
    for (size_t e = 0; e < cf->ledger->count && x == NULL; e++)
        if (cf->ledger->entries[e].kind == IPABS_FLOW_TRANCHE_PRINCIPAL)
            x = &cf->ledger->entries[e];
    cr_assert_not_null(x, "expected a tranche principal entry");
    x->amount += 1.0;
    cr_expect_not(check_run(d, r, cf, why, sizeof why),
                  "expected the checker to reject an inflated tranche payment");
    x->amount -= 1.0;
    /* A negative amount. */
    x->amount = -x->amount;
    cr_expect_not(check_run(d, r, cf, why, sizeof why),
                  "expected the checker to reject a negative amount");
    cr_expect(strstr(why, "negative") != NULL, "expected 'negative' in '%s'", why);
    x->amount = -x->amount;
    /* A recovery that ignores the realisation. */
    ipabs_realisation *wrong = stressed(d);
    wrong->realisation[6] = 0.38;
    cr_expect_not(check_run(d, wrong, cf, why, sizeof why),
                  "expected the checker to see a recovery at the wrong realisation");
    cr_expect(strstr(why, "recovered") != NULL, "expected a recovery failure, got '%s'", why);
    ipabs_realisation_free(wrong);
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(r);
    ipabs_deal_free(d);
}

/* ---- one more default (issue 9, item 4) ------------------------------------------------ */

/* What each party got out of one realisation. */
typedef struct outcome {
    double received[8];  /* by tranche: interest + principal (+ residual), in
                            value at the class's coupon at closing */
    double net_outlay;   /* guarantor and its estate: payouts + top-ups + dividends
                            - reimbursed - IP proceeds kept */
    double credit_loss;  /* sum over defaulted loans of EAD - disposal proceeds */
    double carried;      /* defaulted loans' scheduled interest after default */
    double sub_yuan;     /* the residual holder's receipts, in yuan */
    double sub_value;    /* the same in value at the highest senior coupon */
    int accelerated;     /* first period of acceleration, 0 if none */
    double supporter;    /* the put supporters as holders: coupon, principal and
                            resale received less purchases, in value at the
                            class's coupon (issue 10) */
} outcome;

/* The last period to which a senior class's principal is held rather than
 * passed through: the latest expected maturity, or legal final of a
 * bullet; 0 with one account or none held. */
static int held_until(const ipabs_deal *d)
{
    int due = 0;
    for (int k = 0; k < d->n_senior && d->accounts == IPABS_ACCOUNTS_SPLIT; k++) {
        const ipabs_tranche *tr = &d->tranches[k];
        if (tr->expected_maturity > 0)
            due = due > tr->expected_maturity ? due : tr->expected_maturity;
        if (tr->amort == IPABS_TRANCHE_BULLET)
            due = due > tr->legal_final ? due : tr->legal_final;
    }
    return due;
}

static double max_senior_coupon(const ipabs_deal *d)
{
    double c = 0.0;
    for (int k = 0; k < d->n_senior; k++)
        for (int t = 1; t <= d->legal_final; t++)
            c = fmax(c, d->tranches[k].coupon_at[t]);
    return c;
}

static outcome outcome_of(const ipabs_deal *d, ipabs_realisation *r)
{
    outcome o = {0};
    ipabs_cashflow *cf = NULL;
    ipabs_error err = {0};
    ipabs_realisation_index(d, r);
    cr_assert_eq(ipabs_cashflow_compute(d, r, &cf, &err), IPABS_OK, "%s", err.message);
    int holder = d->n_tranches - 1;
    double growth[8], senior_growth = 1.0, senior_coupon = max_senior_coupon(d);
    for (int k = 0; k < d->n_tranches; k++)
        growth[k] = 1.0;
    for (int t = 0; t < cf->n_periods; t++) {
        const ipabs_period_flows *f = &cf->periods[t];
        /* Value at the class's own coupon: a class repaid later but in
         * full, coupon paid, receives more yuan but no more value.  The
         * coupon of the period (so that after a put's reset, issue 10, a
         * class repaid later at the higher coupon is not counted richer),
         * compounding on payment dates over the payment period (with one
         * grid, every period's own fraction). */
        for (int k = 0; k < d->n_tranches; k++) {
            growth[k] *= 1.0 + d->tranches[k].coupon_at[t + 1] *
                                   d->pay_accrual_dc[d->daycount][t + 1];
            o.received[k] += (f->interest_paid[k] + f->principal_paid[k] +
                              (k == holder ? f->residual : 0.0)) / growth[k];
            o.supporter += (f->held_interest[k] + f->held_principal[k] + f->put_resold[k] -
                            f->put_bought[k]) / growth[k];
        }
        senior_growth *= 1.0 + senior_coupon * d->pay_accrual_dc[d->daycount][t + 1];
        double to_sub = f->interest_paid[holder] + f->principal_paid[holder] + f->residual;
        o.sub_yuan += to_sub;
        o.sub_value += to_sub / senior_growth;
        if (f->accelerated && o.accelerated == 0)
            o.accelerated = t + 1;
        o.net_outlay += f->guarantee_payout + f->topup - f->reimbursement -
                        f->recovery_guarantor - f->reimbursement_estate -
                        f->recovery_estate + f->estate_recovery;
    }
    for (int i = 0; i < d->n_loans; i++) {
        const ipabs_loan *l = &d->loans[i];
        int tau = r->default_period[i];
        if (tau < 1 || tau > l->term)
            continue;
        double ead = cf->final_state->ead[i], proceeds = 0.0;
        if (tau + l->recovery_lag <= d->legal_final)
            proceeds = fmax(0.0, fmin(ead, l->ip_value * r->realisation[i]) - l->disposal_cost);
        o.credit_loss += ead - proceeds;
        /* The interest on the defaulted balance that the guarantor carries
         * (by top-ups) until its payout. */
        int until = tau + d->guarantor.payout_lag;
        for (int t = tau + 1; t <= until && t <= d->legal_final; t++)
            o.carried += l->balance[tau - 1] * l->rate * d->accrual[t];
        /* With split accounts and a senior class whose principal is held
         * until it is due (a bullet, an expected maturity), the payout's
         * principal waits in the principal account while the class's coupon
         * runs on: the guarantor carries that coupon, which the loan's
         * interest used to pay, until the class is due. */
        int due = held_until(d);
        for (int t = until + 1; t <= due && t <= d->legal_final; t++)
            o.carried += l->balance[tau - 1] * max_senior_coupon(d) * d->accrual[t];
    }
    ipabs_cashflow_free(cf);
    return o;
}

/* The documented exceptions (docs/waterfall.md, "One more default") are
 * kept out: under the scheduled payout style the guarantor pays the
 * loan's whole remaining schedule, so its outlay is not bounded by the
 * exposure at default; a reinvestment rate above what a loan yields the
 * plan (net of fees and VAT) makes turning that loan into held cash a
 * gain (positive carry); a senior written off at a legal final
 * earlier than the plan's leaves later recoveries to the sub; a capacity
 * spent on an earlier default can leave unpaid a later loan with a poorer
 * recovery, so that one more default lowers the net outlay; a default
 * that brings a clean-up call forward takes the later defaults of the
 * loans bought back out of the plan (and of the model); without the
 * top-up, a coupon paid late bears no interest, and a payout that prepays
 * the senior spares it some of that loss of value. */
static void restrict_to_invariant_domain(ipabs_deal *d)
{
    d->guarantor.payout_style = IPABS_PAYOUT_ACCELERATED;
    double net_yield = INFINITY;
    for (int i = 0; i < d->n_loans; i++)
        net_yield = fmin(net_yield, (d->loans[i].rate - d->bank_fee_rate -
                                     d->servicing_fee_rate) * (1.0 - d->tax_rate));
    d->reinvestment_rate = fmin(d->reinvestment_rate, net_yield);
    for (int k = 0; k < d->n_senior; k++)
        d->tranches[k].legal_final = d->legal_final;
    d->guarantor.capacity = INFINITY;
    d->cleanup_call = 0.0;
    d->guarantor.topup = true;
    /* A senior held past the pool's last payment carries its coupon on
     * cash that earns nothing: a bullet is due by the pool's last term. */
    int last_term = 0;
    for (int i = 0; i < d->n_loans; i++)
        last_term = d->loans[i].term > last_term ? d->loans[i].term : last_term;
    bool due_early = false;
    for (int k = 0; k < d->n_senior; k++) {
        ipabs_tranche *tr = &d->tranches[k];
        if (tr->amort == IPABS_TRANCHE_BULLET &&
            (tr->expected_maturity == 0 || tr->expected_maturity > last_term))
            tr->expected_maturity = last_term;
        due_early |= tr->expected_maturity > 0 || tr->amort == IPABS_TRANCHE_BULLET;
    }
    if (due_early) {
        d->accounts = IPABS_ACCOUNTS_SPLIT;
        if (d->guarantor.reimbursement == IPABS_REIMBURSE_NONE)
            d->guarantor.reimbursement = IPABS_REIMBURSE_AFTER_SENIOR_PRINCIPAL;
    }
}

/* Does the structure need the guarantor's money, or eat its principal, when
 * nothing defaults?  A class due before the pool has paid for it (an
 * expected maturity, a bullet), or a coupon on a bullet balance larger
 * than the interest of the amortising pool (negative carry), is topped up,
 * or paid from principal receipts (a principal deficiency the sub bears
 * until a default passes it to the guarantor), with no default at all;
 * that outlay is the structure's, not a credit loss, and a default can
 * then lower it (a payout arriving before a maturity saves a top-up) or
 * leave it unrepaid.  Such deals are outside the invariants' domain
 * (docs/waterfall.md, "One more default"). */
static bool needs_support_without_default(const ipabs_deal *d)
{
    ipabs_realisation *none = ipabs_realisation_alloc(d);
    ipabs_realisation_index(d, none);
    ipabs_cashflow *cf = NULL;
    ipabs_error err = {0};
    cr_assert_eq(ipabs_cashflow_compute(d, none, &cf, &err), IPABS_OK, "%s", err.message);
    double topups = 0.0;
    for (int t = 0; t < cf->n_periods; t++)
        topups += cf->periods[t].topup + cf->periods[t].principal_to_revenue;
    ipabs_cashflow_free(cf);
    ipabs_realisation_free(none);
    return topups > 0.0;
}

/* Random realisations of the reference deal with every switch varied; for
 * each, one more loan defaults.  While the guarantor stands, no senior
 * class receives more (in value at its coupon), the sub does not receive
 * more both in yuan and in value at the highest senior coupon unless the
 * default brought an acceleration event or the deal has a transfer lag
 * (counted), the guarantor's net outlay does
 * not fall, and it never exceeds the credit loss it covers plus the
 * interest it carried until its payout.  After the guarantor's failure
 * these do not hold, by design: its estate keeps the IP proceeds of loans
 * it never paid, and a payout made before the failure turns a loan into
 * cash that the senior then no longer risks. */
Test(conservation, one_more_default_never_helps_the_investors, .timeout = 240)
{
    /* 8,000 draws: a third of them on the monthly deal, whose transfer lag
     * often needs the guarantor with no default at all (left out). */
    enum { N = 8000 };
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g, SEED + 9);
    int compared = 0, violations = 0, sub_better = 0, structural = 0, sub_turbo = 0;
    int sub_timing = 0, sub_lagged = 0, sub_put_call = 0;
    int compared_held = 0, held_violations = 0, with_puts = 0;
    for (int n = 0; n < N; n++) {
        ipabs_deal *d = load_either(n);
        vary_deal(d, g);
        restrict_to_invariant_domain(d);
        ipabs_realisation *r = ipabs_realisation_alloc(d);
        draw_realisation(d, r, g);
        int i = (int)gsl_rng_uniform_int(g, (unsigned long)d->n_loans);
        int tau = 1 + (int)gsl_rng_uniform_int(g, (unsigned long)d->loans[i].term);
        if (r->default_period[i] >= 1) {
            ipabs_realisation_free(r);
            ipabs_deal_free(d);
            continue;
        }
        if (needs_support_without_default(d)) {
            structural++;
            ipabs_realisation_free(r);
            ipabs_deal_free(d);
            continue;
        }
        outcome before = outcome_of(d, r);
        r->default_period[i] = tau;
        outcome after = outcome_of(d, r);
        compared++;
        const char *what = NULL;
        int k_bad = -1;
        bool alive = r->guarantor_default_period == 0;
        for (int k = 0; k < d->n_senior && what == NULL && alive; k++)
            if (after.received[k] > before.received[k] + TOL) {
                what = "a senior class receives more";
                k_bad = k;
            }
        /* The sub gains if it receives more both in yuan and in value at
         * the highest senior coupon.  A default that only moves the sub's
         * cash in time gains on one measure and loses on the other: more
         * yuan later (cash held for a class, then released; cash the
         * seniors took under turbo, returned with their coupon saved), or
         * fewer yuan sooner (a payout that repays the seniors early lets
         * the sub's principal come a quarter sooner); such pairs are
         * counted.  An acceleration event the default brings (or brings
         * forward) ends the carry of cash held in the reserve and the
         * principal account at less than the coupon, and shrinks the
         * expenses charged on the senior balance: the sub can gain, by
         * design; those pairs are counted too. */
        bool more_yuan = after.sub_yuan > before.sub_yuan + TOL;
        bool more_value = after.sub_value > before.sub_value + TOL;
        bool sub_gains = more_yuan && more_value;
        sub_timing += more_yuan != more_value && alive;
        sub_better += sub_gains;
        bool turbo = after.accelerated != before.accelerated;
        bool held = held_until(d) > 0, lagged = d->transfer_lag > 0;
        sub_turbo += sub_gains && alive && turbo;
        bool put_or_call = d->call_exercise > 0;
        for (int k = 0; k < d->n_tranches; k++)
            put_or_call |= d->tranches[k].n_puts > 0;
        sub_lagged += sub_gains && alive && !turbo && !held && lagged;
        sub_put_call += sub_gains && alive && !turbo && !held && !lagged && put_or_call;
        if (what == NULL && alive && after.net_outlay < before.net_outlay - TOL)
            what = "the guarantor's net outlay falls";
        if (what == NULL && alive && after.supporter > before.supporter + TOL)
            what = "a put supporter is better off as holder";
        with_puts += before.supporter != 0.0 || after.supporter != 0.0;
        if (what == NULL && alive &&
            after.net_outlay > after.credit_loss + after.carried + TOL)
            what = "net outlay exceeds credit loss + interest carried";
        if (what == NULL && sub_gains && alive && !turbo && !lagged && !put_or_call)
            what = "the sub is better off";
        if (what != NULL && held) {
            /* Principal held for a class due by an expected maturity:
             * counted, not asserted (docs/waterfall.md, "One more default"). */
            held_violations++;
            what = NULL;
        }
        compared_held += held;
        if (what != NULL) {
            violations++;
            if (violations <= 5) {
                r->default_period[i] = 0;
                describe(d, r, n);
                fprintf(stderr, "  + %s@%d: %s (class %d: %.6f -> %.6f; sub %.6f -> %.6f; "
                        "outlay %.6f -> %.6f; loss %.6f carried %.6f)\n", d->loans[i].id,
                        tau, what, k_bad, k_bad >= 0 ? before.received[k_bad] : 0.0,
                        k_bad >= 0 ? after.received[k_bad] : 0.0, before.sub_value,
                        after.sub_value, before.net_outlay, after.net_outlay,
                        after.credit_loss, after.carried);
            }
        }
        ipabs_realisation_free(r);
        ipabs_deal_free(d);
    }
    gsl_rng_free(g);
    cr_log_info("%d pairs compared, %d violations; the sub better off in %d (%d through "
                "an acceleration event the default brought, %d with a transfer lag, %d "
                "with a put or an exercised call, the rest after the guarantor's failure "
                "or with principal held), its cash "
                "only moved in time in %d; %d deals left out as needing support without "
                "a default; of the pairs with principal held for an expected maturity, "
                "%d of %d break an invariant",
                compared, violations, sub_better, sub_turbo, sub_lagged, sub_put_call,
                sub_timing,
                structural, held_violations, compared_held);
    cr_log_info("%d pairs with a put supporter holding securities", with_puts);
    cr_expect_gt(with_puts, N / 20);
    cr_expect_gt(compared, N / 4);
    /* Coverage, not a tolerance: pairs without principal held are at
     * least a twelfth of the draws (778 of 8,000 with the seed fixed; the
     * monthly deal leaves more out as structural than the quarterly ones). */
    cr_expect_gt(compared - compared_held, N / 12);
    cr_expect_eq(violations, 0, "%d of %d pairs break an invariant", violations, compared);
}
