/*
 * breakeven.c — breakeven default rates of the senior class (see
 * ipabs/breakeven.h and docs/rating.md).
 *
 * For a default rate r the loans are split into pieces: in each period t
 * of the default window the amount w_t x r x pool (balance at default)
 * defaults, taken from the loans by the default rule; what is left of
 * each loan is one performing piece.  The pieces form a transformed deal
 * (a deal copy with scaled loans, finalised like any deal), run through
 * the waterfall without a ledger; the BDR is found by a scan of r in
 * steps of 0.5% and a bisection inside the first impaired step.
 *
 * Sections: names; window and timing weights; the stress grid; the piece
 * plan; the transformed deal; the senior test; scan and bisection; the
 * run; output.
 */
#include "ipabs/breakeven.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ipabs/csvout.h"

/* Relative slack when comparing an amount wanted with an amount left. */
#define PLAN_SLACK 1e-12
/* The maximum feasible rate is bracketed to this width. */
#define MAX_RATE_TOLERANCE 1e-9

/* ---- names ------------------------------------------------------------------ */

const char *ipabs_support_name(ipabs_support s)
{
    return s == IPABS_SUPPORT_FULL ? "full" : "none";
}

const char *ipabs_default_timing_name(ipabs_default_timing t)
{
    switch (t) {
    case IPABS_TIMING_FRONT:
        return "front";
    case IPABS_TIMING_EVEN:
        return "even";
    case IPABS_TIMING_BACK:
        return "back";
    }
    return "?";
}

const char *ipabs_default_rule_name(ipabs_default_rule r)
{
    return r == IPABS_DEFAULT_LARGEST_FIRST ? "largest_first" : "pro_rata";
}

void ipabs_stress_name(const ipabs_stress *s, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/rec%g/lag+%d", ipabs_default_timing_name(s->timing),
             s->recovery_multiplier, s->recovery_delay);
}

/* ---- window and timing weights ---------------------------------------------- */

int ipabs_breakeven_window(const ipabs_deal *deal)
{
    int w = deal->legal_final;
    for (int i = 0; i < deal->n_loans; i++)
        if (deal->loans[i].term < w)
            w = deal->loans[i].term;
    return w;
}

double ipabs_timing_weight(ipabs_default_timing timing, int t, int window)
{
    static const double front[3] = {0.5, 0.3, 0.2}, back[3] = {0.2, 0.3, 0.5};
    if (window < 1 || t < 1 || t > window)
        return 0.0;
    if (timing == IPABS_TIMING_EVEN)
        return 1.0 / window;
    const double *g = timing == IPABS_TIMING_FRONT ? front : back;
    int size[3] = {0, 0, 0};
    for (int u = 1; u <= window; u++)
        size[3 * (u - 1) / window]++;
    double total = 0.0;
    for (int k = 0; k < 3; k++)
        if (size[k] > 0)
            total += g[k];
    int third = 3 * (t - 1) / window;
    return g[third] / size[third] / total;
}

/* ---- the stress grid -------------------------------------------------------- */

static const ipabs_default_timing DEFAULT_TIMINGS[] = {
    IPABS_TIMING_FRONT, IPABS_TIMING_EVEN, IPABS_TIMING_BACK};
static const double DEFAULT_MULTIPLIERS[] = {0.0, 0.5, 0.8};
static const int DEFAULT_DELAYS[] = {0, 4};

typedef struct grid_lists {
    int n_timings, n_multipliers, n_delays;
    const ipabs_default_timing *timings;
    const double *multipliers;
    const int *delays;
} grid_lists;

static grid_lists grid_of(const ipabs_deal *deal)
{
    const ipabs_rating_terms *r = &deal->rating;
    grid_lists g = {3, 3, 2, DEFAULT_TIMINGS, DEFAULT_MULTIPLIERS, DEFAULT_DELAYS};
    if (r->n_timings > 0) {
        g.n_timings = r->n_timings;
        g.timings = r->timings;
    }
    if (r->n_recovery_multipliers > 0) {
        g.n_multipliers = r->n_recovery_multipliers;
        g.multipliers = r->recovery_multipliers;
    }
    if (r->n_recovery_delays > 0) {
        g.n_delays = r->n_recovery_delays;
        g.delays = r->recovery_delays;
    }
    return g;
}

ipabs_status ipabs_breakeven_stresses(const ipabs_deal *deal,
                                      ipabs_stress **out, int *n,
                                      ipabs_error *err)
{
    grid_lists g = grid_of(deal);
    size_t cap = (size_t)g.n_timings * (size_t)g.n_multipliers * (size_t)g.n_delays;
    ipabs_stress *s = calloc(cap, sizeof *s);
    *out = NULL;
    *n = 0;
    if (s == NULL)
        return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                               "out of memory for the stress grid");
    int count = 0;
    for (int a = 0; a < g.n_timings; a++)
        for (int b = 0; b < g.n_multipliers; b++)
            for (int c = 0; c < g.n_delays; c++) {
                if (g.multipliers[b] == 0.0 && c > 0)
                    continue;
                s[count++] = (ipabs_stress){g.timings[a], g.multipliers[b], g.delays[c]};
            }
    *out = s;
    *n = count;
    return IPABS_OK;
}

/* ---- the piece plan ----------------------------------------------------------- */

/* Which share of which loan defaults in which period (0 = performs). */
typedef struct piece_plan {
    int n, cap;
    int *source;
    double *share;
    int *period;
    double *remaining; /* by loan: share not yet defaulted */
    int *order;        /* by loan: largest principal first */
    int cursor;        /* largest_first: next loan of order[] to default */
} piece_plan;

static void plan_release(piece_plan *p)
{
    free(p->source);
    free(p->share);
    free(p->period);
    free(p->remaining);
    free(p->order);
    memset(p, 0, sizeof *p);
}

typedef struct ranked {
    double principal;
    int index;
} ranked;

static int by_principal_desc(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->principal != y->principal)
        return x->principal < y->principal ? 1 : -1;
    return (x->index > y->index) - (x->index < y->index);
}

static bool plan_order(const ipabs_deal *deal, piece_plan *p)
{
    ranked *r = malloc((size_t)deal->n_loans * sizeof *r);
    if (r == NULL)
        return false;
    for (int i = 0; i < deal->n_loans; i++)
        r[i] = (ranked){deal->loans[i].principal, i};
    qsort(r, (size_t)deal->n_loans, sizeof *r, by_principal_desc);
    for (int i = 0; i < deal->n_loans; i++)
        p->order[i] = r[i].index;
    free(r);
    return true;
}

static bool plan_init(const ipabs_deal *deal, int window, piece_plan *p)
{
    size_t n = (size_t)deal->n_loans;
    memset(p, 0, sizeof *p);
    p->cap = deal->n_loans * (window + 1);
    p->source = malloc((size_t)p->cap * sizeof *p->source);
    p->share = malloc((size_t)p->cap * sizeof *p->share);
    p->period = malloc((size_t)p->cap * sizeof *p->period);
    p->remaining = malloc(n * sizeof *p->remaining);
    p->order = malloc(n * sizeof *p->order);
    if (!p->source || !p->share || !p->period || !p->remaining || !p->order ||
        !plan_order(deal, p)) {
        plan_release(p);
        return false;
    }
    for (size_t i = 0; i < n; i++)
        p->remaining[i] = 1.0;
    return true;
}

static void add_piece(piece_plan *p, int loan, double share, int period)
{
    p->source[p->n] = loan;
    p->share[p->n] = share;
    p->period[p->n] = period;
    p->n++;
}

/* Every loan defaults the same share of what is left of it. */
static bool default_pro_rata(const ipabs_deal *deal, piece_plan *p, int t,
                             double need)
{
    double avail = 0.0;
    for (int i = 0; i < deal->n_loans; i++)
        avail += p->remaining[i] * deal->loans[i].balance[t - 1];
    if (need <= 0.0)
        return true;
    if (need > avail * (1.0 + PLAN_SLACK))
        return false;
    double f = need >= avail ? 1.0 : need / avail;
    for (int i = 0; i < deal->n_loans; i++) {
        double s = p->remaining[i] * f;
        if (s > 0.0)
            add_piece(p, i, s, t);
        p->remaining[i] = f == 1.0 ? 0.0 : p->remaining[i] - s;
    }
    return true;
}

/* Whole loans, largest principal first; the marginal one split (its rest
 * is the first to default in the next period). */
static bool default_largest_first(const ipabs_deal *deal, piece_plan *p,
                                  int t, double need)
{
    double dust = PLAN_SLACK * deal->pool_balance;
    while (need > dust) {
        if (p->cursor >= deal->n_loans)
            return false;
        int i = p->order[p->cursor];
        double balance = deal->loans[i].balance[t - 1];
        double avail = p->remaining[i] * balance;
        if (avail <= need * (1.0 + PLAN_SLACK)) {
            add_piece(p, i, p->remaining[i], t);
            p->remaining[i] = 0.0;
            p->cursor++;
            need -= avail;
        } else {
            double s = need / balance;
            add_piece(p, i, s, t);
            p->remaining[i] -= s;
            need = 0.0;
        }
    }
    return true;
}

/* Fill the plan for rate r; false when r cannot be reached. */
static bool plan_fill(const ipabs_deal *deal, ipabs_default_rule rule,
                      ipabs_default_timing timing, int window, double rate,
                      piece_plan *p)
{
    for (int t = 1; t <= window; t++) {
        double need = ipabs_timing_weight(timing, t, window) * rate * deal->pool_balance;
        bool ok = rule == IPABS_DEFAULT_LARGEST_FIRST
                      ? default_largest_first(deal, p, t, need)
                      : default_pro_rata(deal, p, t, need);
        if (!ok)
            return false;
    }
    for (int i = 0; i < deal->n_loans; i++)
        if (p->remaining[i] > PLAN_SLACK)
            add_piece(p, i, p->remaining[i], 0);
    return true;
}

/* Build the plan of rate r (allocated; release it).  ENOMEM -> false
 * status; infeasible -> *feasible false. */
static ipabs_status plan_build(const ipabs_deal *deal,
                               const ipabs_stress *stress, double rate,
                               piece_plan *p, bool *feasible, ipabs_error *err)
{
    int window = ipabs_breakeven_window(deal);
    if (!plan_init(deal, window, p))
        return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                               "out of memory planning a breakeven case");
    *feasible = plan_fill(deal, deal->rating.default_rule, stress->timing,
                          window, rate, p);
    return IPABS_OK;
}

/* ---- the transformed deal ----------------------------------------------------- */

static void scale_pieces(ipabs_deal *d, const piece_plan *p, int delay)
{
    for (int j = 0; j < p->n; j++) {
        ipabs_loan *l = &d->loans[j];
        l->principal *= p->share[j];
        l->ip_value *= p->share[j];
        l->disposal_cost *= p->share[j];
        l->recovery_lag += delay;
    }
}

static void apply_support(ipabs_deal *d, ipabs_support support)
{
    if (support == IPABS_SUPPORT_FULL)
        return;
    d->guarantor.capacity = 0.0;
    d->guarantor.topup = false;
}

static ipabs_status case_realisation(ipabs_breakeven_case *c,
                                     const piece_plan *p,
                                     const ipabs_stress *stress,
                                     ipabs_error *err)
{
    c->real = ipabs_realisation_alloc(c->deal);
    if (c->real == NULL)
        return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                               "out of memory for a breakeven realisation");
    for (int j = 0; j < p->n; j++) {
        c->real->default_period[j] = p->period[j];
        c->real->realisation[j] =
            c->deal->loans[j].recovery_mean * stress->recovery_multiplier;
    }
    c->real->guarantor_default_period = 0;
    ipabs_realisation_index(c->deal, c->real);
    return IPABS_OK;
}

/* Move the plan's piece arrays into the case. */
static void case_take_pieces(ipabs_breakeven_case *c, piece_plan *p)
{
    c->source = p->source;
    c->share = p->share;
    p->source = NULL;
    p->share = NULL;
}

static ipabs_status case_from_plan(const ipabs_deal *deal,
                                   const ipabs_stress *stress,
                                   ipabs_support support, piece_plan *p,
                                   ipabs_breakeven_case *c, ipabs_error *err)
{
    ipabs_status s = ipabs_deal_copy(deal, p->source, p->n, &c->deal, err);
    if (s != IPABS_OK)
        return s;
    scale_pieces(c->deal, p, stress->recovery_delay);
    apply_support(c->deal, support);
    s = ipabs_deal_finalize(c->deal, err);
    if (s == IPABS_OK)
        s = case_realisation(c, p, stress, err);
    if (s == IPABS_OK)
        case_take_pieces(c, p);
    return s;
}

ipabs_status ipabs_breakeven_case_build(const ipabs_deal *deal,
                                        const ipabs_stress *stress,
                                        ipabs_support support, double rate,
                                        ipabs_breakeven_case *out,
                                        bool *feasible, ipabs_error *err)
{
    memset(out, 0, sizeof *out);
    *feasible = false;
    if (!(rate >= 0.0 && rate <= 1.0))
        return ipabs_error_set(err, IPABS_EINPUT, NULL, 0, 0, NULL,
                               "a default rate must be in [0, 1] (got %g)", rate);
    piece_plan p;
    ipabs_status s = plan_build(deal, stress, rate, &p, feasible, err);
    if (s == IPABS_OK && *feasible)
        s = case_from_plan(deal, stress, support, &p, out, err);
    plan_release(&p);
    if (s != IPABS_OK)
        ipabs_breakeven_case_release(out);
    return s;
}

void ipabs_breakeven_case_release(ipabs_breakeven_case *c)
{
    if (c == NULL)
        return;
    ipabs_realisation_free(c->real);
    ipabs_deal_free(c->deal);
    free(c->source);
    free(c->share);
    memset(c, 0, sizeof *c);
}

/* ---- the senior test ---------------------------------------------------------- */

static bool below(double paid, double due)
{
    return paid < due - IPABS_CONSERVATION_TOL;
}

static bool senior_period_whole(const ipabs_deal *deal,
                                const ipabs_period_flows *fl)
{
    for (int k = 0; k < deal->n_senior; k++) {
        const ipabs_tranche *tr = &deal->tranches[k];
        if (below(fl->interest_paid[k], fl->interest_due[k]) ||
            fl->principal_loss[k] > IPABS_CONSERVATION_TOL)
            return false;
        if (tr->amort == IPABS_TRANCHE_SCHEDULED && fl->period < tr->legal_final &&
            below(tr->target[fl->period], fl->balance_close[k]))
            return false;
    }
    return true;
}

ipabs_status ipabs_senior_whole(const ipabs_deal *deal,
                                const ipabs_realisation *real, bool *whole,
                                ipabs_error *err)
{
    ipabs_period_flows fl;
    ipabs_state *st = ipabs_state_alloc(deal);
    if (st == NULL || ipabs_flows_init(deal, &fl) != IPABS_OK) {
        ipabs_state_free(st);
        return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                               "out of memory for a breakeven run");
    }
    ipabs_status s = IPABS_OK;
    *whole = true;
    while (*whole && !st->ended && st->period < deal->legal_final) {
        s = ipabs_waterfall_step(deal, real, st, &fl, NULL, err);
        if (s != IPABS_OK)
            break;
        *whole = senior_period_whole(deal, &fl);
    }
    ipabs_flows_release(&fl);
    ipabs_state_free(st);
    return s;
}

ipabs_status ipabs_breakeven_test(const ipabs_deal *deal,
                                  const ipabs_stress *stress,
                                  ipabs_support support, double rate,
                                  ipabs_senior_outcome *outcome,
                                  ipabs_error *err)
{
    ipabs_breakeven_case c;
    bool feasible, whole = false;
    ipabs_status s = ipabs_breakeven_case_build(deal, stress, support, rate, &c,
                                                &feasible, err);
    if (s == IPABS_OK && feasible)
        s = ipabs_senior_whole(c.deal, c.real, &whole, err);
    ipabs_breakeven_case_release(&c);
    *outcome = !feasible ? IPABS_RATE_INFEASIBLE
               : whole   ? IPABS_SENIOR_WHOLE
                         : IPABS_SENIOR_IMPAIRED;
    return s;
}

/* ---- scan and bisection ------------------------------------------------------ */

static ipabs_status feasible_at(const ipabs_deal *deal, const ipabs_stress *stress,
                                double rate, bool *feasible, ipabs_error *err)
{
    piece_plan p;
    ipabs_status s = plan_build(deal, stress, rate, &p, feasible, err);
    plan_release(&p);
    return s;
}

ipabs_status ipabs_breakeven_max_rate(const ipabs_deal *deal,
                                      const ipabs_stress *stress,
                                      double *max_rate, ipabs_error *err)
{
    bool ok;
    double lo = 0.0, hi = 1.0;
    ipabs_status s = feasible_at(deal, stress, 1.0, &ok, err);
    *max_rate = 1.0;
    if (s != IPABS_OK || ok)
        return s;
    while (hi - lo > MAX_RATE_TOLERANCE && s == IPABS_OK) {
        double mid = 0.5 * (lo + hi);
        s = feasible_at(deal, stress, mid, &ok, err);
        *(ok ? &lo : &hi) = mid;
    }
    *max_rate = lo;
    return s;
}

/* Whole at `rate`?  Counts the evaluation. */
static ipabs_status whole_at(const ipabs_deal *deal, ipabs_bdr *b, double rate,
                             bool *whole, ipabs_error *err)
{
    ipabs_senior_outcome o;
    ipabs_status s = ipabs_breakeven_test(deal, &b->stress, b->support, rate, &o, err);
    b->evaluations++;
    *whole = o == IPABS_SENIOR_WHOLE;
    if (s == IPABS_OK && o == IPABS_RATE_INFEASIBLE)
        return ipabs_error_set(err, IPABS_EINTERNAL, NULL, 0, 0, NULL,
                               "default rate %.10f is not feasible below the "
                               "maximum %.10f (a bug in ipabs)", rate, b->max_rate);
    return s;
}

/* Scan r = step, 2 step, ... up to max_rate for the first rate at which
 * the senior is impaired; [*lo, *hi] brackets it (whole at *lo). */
static ipabs_status scan(const ipabs_deal *deal, ipabs_bdr *b, double *lo,
                         double *hi, bool *found, ipabs_error *err)
{
    *lo = 0.0;
    *found = false;
    for (int k = 1;; k++) {
        bool whole;
        double r = fmin(k * IPABS_BDR_SCAN_STEP, b->max_rate);
        ipabs_status s = whole_at(deal, b, r, &whole, err);
        if (s != IPABS_OK)
            return s;
        if (!whole) {
            *hi = r;
            *found = true;
            return IPABS_OK;
        }
        if (r >= b->max_rate)
            return IPABS_OK;
        *lo = r;
    }
}

static ipabs_status bisect(const ipabs_deal *deal, ipabs_bdr *b, double lo,
                           double hi, ipabs_error *err)
{
    ipabs_status s = IPABS_OK;
    while (hi - lo > IPABS_BDR_TOLERANCE && s == IPABS_OK) {
        bool whole;
        double mid = 0.5 * (lo + hi);
        s = whole_at(deal, b, mid, &whole, err);
        *(whole ? &lo : &hi) = mid;
    }
    b->bdr = lo;
    return s;
}

ipabs_status ipabs_breakeven_solve(const ipabs_deal *deal,
                                   const ipabs_stress *stress,
                                   ipabs_support support, ipabs_bdr *out,
                                   ipabs_error *err)
{
    bool whole, found;
    double lo, hi;
    memset(out, 0, sizeof *out);
    out->stress = *stress;
    out->support = support;
    ipabs_status s = ipabs_breakeven_max_rate(deal, stress, &out->max_rate, err);
    if (s == IPABS_OK)
        s = whole_at(deal, out, 0.0, &whole, err);
    if (s != IPABS_OK || !whole) {
        out->impaired = true; /* impaired with no default at all: BDR 0 */
        return s;
    }
    s = scan(deal, out, &lo, &hi, &found, err);
    if (s != IPABS_OK || !found) {
        out->bdr = 1.0;
        return s;
    }
    out->impaired = true;
    return bisect(deal, out, lo, hi, err);
}

/* ---- the run ------------------------------------------------------------------ */

static void find_minima(ipabs_breakeven_result *r)
{
    for (int m = 0; m < IPABS_SUPPORT_COUNT_; m++) {
        r->min_bdr[m] = INFINITY;
        r->min_row[m] = -1;
        for (int i = 0; i < r->n_stresses; i++) {
            int row = m * r->n_stresses + i;
            if (r->rows[row].bdr < r->min_bdr[m]) {
                r->min_bdr[m] = r->rows[row].bdr;
                r->min_row[m] = row;
            }
        }
    }
}

static ipabs_status solve_all(const ipabs_deal *deal, const ipabs_stress *stresses,
                              ipabs_breakeven_result *r, ipabs_error *err)
{
    for (int m = 0; m < IPABS_SUPPORT_COUNT_; m++)
        for (int i = 0; i < r->n_stresses; i++) {
            ipabs_status s = ipabs_breakeven_solve(deal, &stresses[i], (ipabs_support)m,
                                                   &r->rows[m * r->n_stresses + i], err);
            if (s != IPABS_OK)
                return s;
        }
    find_minima(r);
    return IPABS_OK;
}

ipabs_status ipabs_breakeven_run(const ipabs_deal *deal,
                                 ipabs_breakeven_result **out,
                                 ipabs_error *err)
{
    ipabs_stress *stresses = NULL;
    int n = 0;
    *out = NULL;
    ipabs_status s = ipabs_breakeven_stresses(deal, &stresses, &n, err);
    if (s != IPABS_OK)
        return s;
    ipabs_breakeven_result *r = calloc(1, sizeof *r);
    if (r != NULL)
        r->rows = calloc((size_t)n * IPABS_SUPPORT_COUNT_, sizeof *r->rows);
    if (r == NULL || r->rows == NULL) {
        free(stresses);
        ipabs_breakeven_free(r);
        return ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                               "out of memory for the breakeven table");
    }
    r->rule = deal->rating.default_rule;
    r->window = ipabs_breakeven_window(deal);
    r->n_stresses = n;
    r->n_rows = n * IPABS_SUPPORT_COUNT_;
    s = solve_all(deal, stresses, r, err);
    free(stresses);
    if (s != IPABS_OK) {
        ipabs_breakeven_free(r);
        return s;
    }
    *out = r;
    return IPABS_OK;
}

void ipabs_breakeven_free(ipabs_breakeven_result *r)
{
    if (r == NULL)
        return;
    free(r->rows);
    free(r);
}

/* ---- output ------------------------------------------------------------------- */

static void write_row(ipabs_csv_out *w, const ipabs_breakeven_result *r,
                      const ipabs_bdr *b)
{
    char name[64];
    ipabs_stress_name(&b->stress, name, sizeof name);
    ipabs_csv_text(w, name);
    ipabs_csv_text(w, ipabs_support_name(b->support));
    ipabs_csv_num(w, b->bdr, 6);
    ipabs_csv_text(w, ipabs_default_timing_name(b->stress.timing));
    ipabs_csv_num(w, b->stress.recovery_multiplier, 6);
    ipabs_csv_int(w, b->stress.recovery_delay);
    ipabs_csv_text(w, ipabs_default_rule_name(r->rule));
    ipabs_csv_int(w, r->window);
    ipabs_csv_num(w, b->max_rate, 6);
    ipabs_csv_text(w, b->impaired ? "true" : "false");
    ipabs_csv_end_row(w);
}

ipabs_status ipabs_breakeven_write(const ipabs_deal *deal,
                                   const ipabs_breakeven_result *r,
                                   const char *dir, bool bom, ipabs_error *err)
{
    static const char *const head[] = {
        "stress", "guarantor_support", "bdr", "timing", "recovery_multiplier",
        "recovery_delay", "default_rule", "window", "max_default_rate",
        "senior_impaired", NULL};
    ipabs_csv_out w;
    (void)deal;
    ipabs_status s = ipabs_mkdir_p(dir, err);
    if (s == IPABS_OK)
        s = ipabs_csv_open(&w, dir, "breakeven.csv", bom, err);
    if (s != IPABS_OK)
        return s;
    ipabs_csv_header(&w, head);
    for (int i = 0; i < r->n_rows; i++)
        write_row(&w, r, &r->rows[i]);
    return ipabs_csv_commit(&w, err);
}

/* "6.5200%" or "100% *" (never impaired) into buf. */
static void bdr_text(const ipabs_bdr *b, char *buf, size_t cap)
{
    if (b->impaired)
        snprintf(buf, cap, "%9.4f%%  ", 100.0 * b->bdr);
    else
        snprintf(buf, cap, "%9.4f%% *", 100.0 * b->bdr);
}

void ipabs_breakeven_print(FILE *out, const ipabs_deal *deal,
                           const ipabs_breakeven_result *r)
{
    char name[64], a[32], b[32];
    fprintf(out, "Breakeven default rates of the senior class (%d senior tranche%s), "
                 "rule %s, defaults in periods 1-%d\n",
            deal->n_senior, deal->n_senior == 1 ? "" : "s",
            ipabs_default_rule_name(r->rule), r->window);
    fprintf(out, "  %-24s %14s %14s\n", "stress", "none", "full");
    for (int i = 0; i < r->n_stresses; i++) {
        const ipabs_bdr *x = &r->rows[i], *y = &r->rows[r->n_stresses + i];
        ipabs_stress_name(&x->stress, name, sizeof name);
        bdr_text(x, a, sizeof a);
        bdr_text(y, b, sizeof b);
        fprintf(out, "  %-24s %14s %14s\n", name, a, b);
    }
    for (int m = 0; m < IPABS_SUPPORT_COUNT_ && r->n_stresses > 0; m++) {
        const ipabs_bdr *x = &r->rows[r->min_row[m]];
        ipabs_stress_name(&x->stress, name, sizeof name);
        fprintf(out, "  minimum, support %-5s %9.4f%% (%s)\n", ipabs_support_name(x->support),
                100.0 * x->bdr, name);
    }
    fputs("  * no default rate the stress can produce impairs the senior: BDR 100%\n", out);
}
