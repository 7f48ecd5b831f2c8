/*
 * ipabs/breakeven.h — breakeven default rates (BDR, 临界违约率) of the
 * senior class: for each stress scenario and guarantor support mode, the
 * highest cumulative pool default rate up to which every senior tranche
 * still receives all its interest and principal when due.
 *
 * Data flow: deal → stress grid (the `rating.stresses` key, or the
 * documented default) → for a default rate r: a *transformed deal* (the
 * loans split into pieces so that pieces whose balances at default add up
 * to exactly r × the original pool default, by the default rule and
 * timing) and its realisation → the deterministic waterfall, no ledger →
 * is the senior whole? → scan and bisection on r → ipabs_breakeven_result
 * → breakeven.csv.
 *
 * The default rate is measured as the waterfall and the Monte Carlo
 * measure the cumulative default ratio: balances at default over the
 * original pool balance.  A piece of a loan with principal share s is the
 * loan scaled by s (its schedule, IP value and disposal cost), because
 * every schedule is linear in principal.  docs/rating.md gives the rules,
 * the timing weights and the default stress grid, with their sources.
 *
 * Ownership: results and cases belong to the caller (free with the
 * matching function; NULL is a no-op).  Nothing here keeps global state;
 * every function may run concurrently on a const deal.
 */
#ifndef IPABS_BREAKEVEN_H
#define IPABS_BREAKEVEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ipabs/deal.h"
#include "ipabs/error.h"
#include "ipabs/waterfall.h"

/* The bisection stops when the bracket is this narrow (0.01%). */
#define IPABS_BDR_TOLERANCE 1e-4

/* Step of the scan for the first impaired rate that precedes the
 * bisection (0.5%). */
#define IPABS_BDR_SCAN_STEP 0.005

/* Guarantor support in a breakeven run. */
typedef enum ipabs_support {
    IPABS_SUPPORT_NONE, /* stand-alone: no guarantee payouts, no top-up */
    IPABS_SUPPORT_FULL, /* the deal's guarantor terms; it never fails */
    IPABS_SUPPORT_COUNT_
} ipabs_support;

/* One stress scenario. */
typedef struct ipabs_stress {
    ipabs_default_timing timing;
    double recovery_multiplier; /* realisation = recovery_mean x this */
    int recovery_delay;         /* periods added to every recovery lag */
} ipabs_stress;

/* Names as written in scenarios and result files. */
const char *ipabs_support_name(ipabs_support s);
const char *ipabs_default_timing_name(ipabs_default_timing t);
const char *ipabs_default_rule_name(ipabs_default_rule r);

/* "front/rec0.5/lag+4" into buf (cap >= 32 recommended). */
void ipabs_stress_name(const ipabs_stress *s, char *buf, size_t cap);

/* The default window: periods 1..W, W = the shortest loan term, so that
 * every loan is still running when a piece of it defaults. */
int ipabs_breakeven_window(const ipabs_deal *deal);

/* Share of the defaulted amount that defaults in period t (1..window) under
 * a timing pattern; the shares of 1..window add up to 1.  Front and back
 * split the window into thirds (period t is in third floor(3 (t-1) / W))
 * weighted 50/30/20% and 20/30/50%, each third's weight spread evenly over
 * its periods; an empty third (W < 3) is dropped and the others scaled up.
 * 0 outside 1..window. */
double ipabs_timing_weight(ipabs_default_timing timing, int t, int window);

/* The stress grid: the product timing x recovery_multiplier x
 * recovery_delay of the rating section (or of the default lists), in that
 * nesting order, leaving out the combinations with multiplier 0 and any
 * delay but the first (nothing is recovered, so a delay changes nothing).
 * *out is malloc'ed (free it); IPABS_ENOMEM. */
ipabs_status ipabs_breakeven_stresses(const ipabs_deal *deal,
                                      ipabs_stress **out, int *n,
                                      ipabs_error *err);

/* The transformed deal of one default rate: a finalised deal whose loans
 * are pieces of the original loans, and the realisation in which the
 * defaulting pieces default (recovery_mean x multiplier realised; the
 * guarantor never fails). */
typedef struct ipabs_breakeven_case {
    ipabs_deal *deal;         /* owned */
    ipabs_realisation *real;  /* owned */
    int *source;              /* by piece: the original loan's index */
    double *share;            /* by piece: share of that loan's principal */
} ipabs_breakeven_case;

/* Build the case of default rate `rate` in [0, 1].  When the rule and the
 * timing cannot make that much default (amortising loans have less balance
 * left in later periods), *feasible is false and *out is left empty; that
 * is not an error.  Errors: IPABS_EINPUT for a rate outside [0, 1];
 * IPABS_ENOMEM. */
ipabs_status ipabs_breakeven_case_build(const ipabs_deal *deal,
                                        const ipabs_stress *stress,
                                        ipabs_support support, double rate,
                                        ipabs_breakeven_case *out,
                                        bool *feasible, ipabs_error *err);
void ipabs_breakeven_case_release(ipabs_breakeven_case *c);

/* Is the senior class whole on this realisation: in no period a senior
 * tranche is paid less interest than due (coupon plus arrears), no senior
 * principal is written off, and a scheduled senior tranche is at or below
 * its target balance after every period before its legal final?  Amounts
 * within IPABS_CONSERVATION_TOL count as equal.  Errors: IPABS_ENOMEM,
 * IPABS_EINTERNAL (from the waterfall). */
ipabs_status ipabs_senior_whole(const ipabs_deal *deal,
                                const ipabs_realisation *real, bool *whole,
                                ipabs_error *err);

typedef enum ipabs_senior_outcome {
    IPABS_SENIOR_WHOLE,
    IPABS_SENIOR_IMPAIRED,
    IPABS_RATE_INFEASIBLE
} ipabs_senior_outcome;

/* Build the case of `rate` and run it. */
ipabs_status ipabs_breakeven_test(const ipabs_deal *deal,
                                  const ipabs_stress *stress,
                                  ipabs_support support, double rate,
                                  ipabs_senior_outcome *outcome,
                                  ipabs_error *err);

/* The highest rate the rule and timing can produce, to within 1e-9. */
ipabs_status ipabs_breakeven_max_rate(const ipabs_deal *deal,
                                      const ipabs_stress *stress,
                                      double *max_rate, ipabs_error *err);

typedef struct ipabs_bdr {
    ipabs_stress stress;
    ipabs_support support;
    double bdr;         /* breakeven default rate; 1 when never impaired */
    double max_rate;    /* the highest rate the rule and timing can produce */
    bool impaired;      /* some feasible rate impairs the senior */
    int evaluations;    /* waterfall runs spent */
} ipabs_bdr;

/* One BDR: the lowest default rate at which the senior is impaired, to
 * within IPABS_BDR_TOLERANCE.  The senior must be whole at 0 (else the
 * BDR is 0).  The rates step, 2 step, ... (IPABS_BDR_SCAN_STEP) up to
 * max_rate are tried in turn; if the senior is whole at all of them the
 * BDR is 1 (no default rate this stress can produce impairs it).
 * Otherwise the first impaired step and the one before it bracket the
 * BDR, and the bracket is halved until it is IPABS_BDR_TOLERANCE wide; the
 * BDR is its lower end, a rate at which the senior was seen whole.
 * Within a step the outcome is assumed monotone in the rate
 * (docs/rating.md; tests/test_breakeven.c checks the reference deal on a
 * grid twice as fine). */
ipabs_status ipabs_breakeven_solve(const ipabs_deal *deal,
                                   const ipabs_stress *stress,
                                   ipabs_support support, ipabs_bdr *out,
                                   ipabs_error *err);

typedef struct ipabs_breakeven_result {
    ipabs_default_rule rule;
    int window;                /* default window, periods 1..window */
    int n_stresses;
    int n_rows;                /* n_stresses x IPABS_SUPPORT_COUNT_ */
    ipabs_bdr *rows;           /* support-major: rows[s * n_stresses + i] */
    double min_bdr[IPABS_SUPPORT_COUNT_];
    int min_row[IPABS_SUPPORT_COUNT_]; /* the row of the minimum (first if tied) */
} ipabs_breakeven_result;

/* Every stress of the grid under both support modes.  Errors: IPABS_ENOMEM,
 * IPABS_EINTERNAL. */
ipabs_status ipabs_breakeven_run(const ipabs_deal *deal,
                                 ipabs_breakeven_result **out,
                                 ipabs_error *err);
void ipabs_breakeven_free(ipabs_breakeven_result *r);

/* DIR/breakeven.csv (atomically): stress,guarantor_support,bdr, then
 * timing,recovery_multiplier,recovery_delay,default_rule,window,
 * max_default_rate,senior_impaired.  Errors: IPABS_EIO. */
ipabs_status ipabs_breakeven_write(const ipabs_deal *deal,
                                   const ipabs_breakeven_result *r,
                                   const char *dir, bool bom, ipabs_error *err);

/* The table, one row per stress, a column per support mode, and the
 * minimum of each. */
void ipabs_breakeven_print(FILE *out, const ipabs_deal *deal,
                           const ipabs_breakeven_result *r);

#endif
