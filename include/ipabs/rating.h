/*
 * ipabs/rating.h — target default rates (TDR) and the implied rating of
 * the senior class, stand-alone and supported by the guarantor.
 *
 * Data flow: deal → breakeven.h (minimum BDR per support mode) and the
 * Monte Carlo (montecarlo.h; the distribution of the pool's cumulative
 * default ratio at the legal final, and the senior tranches' probability
 * of loss and expected loss) → TDR(grade) = the quantile of that
 * distribution at 1 - target default probability(grade, tenor) → a grade
 * passes when TDR <= min BDR → the implied rating is the highest grade
 * that passes → rating.csv, rating_summary.csv.  docs/rating.md gives the
 * method, the tenor, the grade table and their sources.
 *
 * Two Monte Carlo runs with the same seed feed the expected-loss view: the
 * deal as given (its guarantor pays but may itself default, correlated with
 * the pool) and the stand-alone deal (no guarantee payouts, no top-up).
 * Loan defaults do not depend on the guarantor's support, so both give the
 * same default-rate distribution; the TDR is read from the first.
 *
 * Ownership: results belong to the caller (free with ipabs_rating_free;
 * NULL is a no-op).  A result's grade table may point into the deal, so
 * the deal must outlive it.
 */
#ifndef IPABS_RATING_H
#define IPABS_RATING_H

#include <stdio.h>

#include "ipabs/breakeven.h"
#include "ipabs/deal.h"
#include "ipabs/error.h"
#include "ipabs/montecarlo.h"

/* A grade table: best grade first; prob[g * n_tenors + y] is grade g's
 * cumulative target default probability at a tenor of y + 1 years. */
typedef struct ipabs_grade_table {
    int n_grades;
    const char *const *names;
    int n_tenors;
    const double *prob;
} ipabs_grade_table;

/* The built-in table (the same as scenarios/rating-grades.yaml). */
ipabs_grade_table ipabs_rating_default_grades(void);

/* The scenario's `rating.grades`, or the built-in table. */
ipabs_grade_table ipabs_rating_grades(const ipabs_deal *deal);

/* Target default probability of grade g at a tenor in years: linear in the
 * tenor between whole years, from 0 at tenor 0 to the 1-year value, and
 * held at the last tenor's value beyond it. */
double ipabs_grade_target_prob(const ipabs_grade_table *t, int g,
                               double tenor_years);

/* The tenor of the senior class in years (rating.tenor): its weighted
 * average life on the no-default path, sum (t / f) P_t / sum P_t over the
 * principal P_t paid to all senior tranches, or its latest legal final / f.
 * Errors: IPABS_ENOMEM, IPABS_EINTERNAL (from the waterfall). */
ipabs_status ipabs_rating_tenor_years(const ipabs_deal *deal, double *years,
                                      ipabs_error *err);

/* The TDR at a target default probability p: the empirical quantile of
 * the cumulative default ratio at the legal final at level 1 - p, and its
 * distribution-free standard error in *se (may be NULL). */
double ipabs_rating_tdr(const ipabs_deal *deal, const ipabs_mc_result *r,
                        double target_prob, double *se);

/* A finalised copy of the deal without guarantor support (capacity 0, no
 * top-up, and the guarantor's default no acceleration event): the
 * stand-alone deal.  Errors: IPABS_ENOMEM. */
ipabs_status ipabs_rating_standalone_deal(const ipabs_deal *deal,
                                          ipabs_deal **out, ipabs_error *err);

typedef struct ipabs_rating_row {
    int grade;
    ipabs_support support;
    double target_prob; /* at the tenor */
    double tdr, tdr_se;
    double min_bdr;     /* of the support mode */
    double margin;      /* min_bdr - tdr */
    bool passes;        /* margin >= 0 */
} ipabs_rating_row;

/* The Monte Carlo view of one senior tranche in one support mode. */
typedef struct ipabs_rating_view {
    int tranche;
    ipabs_support support;
    double prob_loss, prob_loss_se;
    double el_fraction, el_fraction_se; /* expected loss / original balance */
    int grade;                 /* best grade with target prob >= prob_loss; -1 none */
} ipabs_rating_view;

typedef struct ipabs_rating_result {
    ipabs_grade_table grades;
    double tenor_years;
    int n_rows;                /* grades x IPABS_SUPPORT_COUNT_, support-major */
    ipabs_rating_row *rows;
    int implied[IPABS_SUPPORT_COUNT_]; /* grade index; -1 = below the lowest */
    int n_views;               /* n_senior x IPABS_SUPPORT_COUNT_, support-major */
    ipabs_rating_view *views;
    long long paths;
    uint64_t seed;
} ipabs_rating_result;

/* Combine a breakeven result with the two Monte Carlo runs: mc[NONE] of the
 * stand-alone deal, mc[FULL] of the deal as given (the TDR is read from
 * it).  Errors: IPABS_ENOMEM, IPABS_EINTERNAL. */
ipabs_status ipabs_rating_compute(const ipabs_deal *deal,
                                  const ipabs_breakeven_result *be,
                                  const ipabs_mc_result *const mc[IPABS_SUPPORT_COUNT_],
                                  ipabs_rating_result **out, ipabs_error *err);

/* Everything `ipabs rate` does before writing: the breakeven run and both
 * Monte Carlo runs with opt (the stand-alone one with the same seed).  On
 * success *be and *out are the caller's.  Errors: those of the parts;
 * IPABS_EINTERRUPTED (nothing returned) when opt->stop was raised. */
ipabs_status ipabs_rating_run(const ipabs_deal *deal,
                              const ipabs_mc_options *opt,
                              ipabs_breakeven_result **be,
                              ipabs_rating_result **out, ipabs_error *err);

void ipabs_rating_free(ipabs_rating_result *r);

/* DIR/rating.csv: grade,target_default_prob,tdr,min_bdr,margin,passes,
 * guarantor_support, then tdr_std_error,tenor_years,min_bdr_stress (the
 * stand-alone block, then the supported one); DIR/rating_summary.csv: one
 * row per senior tranche and support mode (implied rating, minimum BDR,
 * the Monte Carlo view).  Atomic.  Errors: IPABS_EIO. */
ipabs_status ipabs_rating_write(const ipabs_deal *deal,
                                const ipabs_breakeven_result *be,
                                const ipabs_rating_result *r, const char *dir,
                                bool bom, ipabs_error *err);

/* The TDR table, the implied ratings and the Monte Carlo view. */
void ipabs_rating_print(FILE *out, const ipabs_deal *deal,
                        const ipabs_breakeven_result *be,
                        const ipabs_rating_result *r);

/* "AAA", or "below BBB-" for -1, into buf. */
void ipabs_rating_grade_text(const ipabs_grade_table *t, int g, char *buf,
                             size_t cap);

#endif
