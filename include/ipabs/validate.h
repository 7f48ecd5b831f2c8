/*
 * ipabs/validate.h — holding a Monte Carlo run to the exact answers.
 *
 * For every measure both the Monte Carlo and the exact module estimate
 * with the same definition (the default-count law, the static loss law on
 * the output grid, and the pool, tranche-static and guarantor figures), the
 * z-score (MC - exact) / SE.  For a probability the standard error is the
 * binomial one at the exact value, sqrt(p (1 - p) / n) — the standard
 * error under the hypothesis being tested, and finite when the Monte Carlo
 * saw no event; for a mean it is the run's own.  docs/validation.md gives
 * the reasons.
 */
#ifndef IPABS_VALIDATE_H
#define IPABS_VALIDATE_H

#include "ipabs/exact.h"
#include "ipabs/montecarlo.h"

typedef struct ipabs_comparison {
    char subject[64];
    char measure[64];
    double mc;
    double std_error;
    double exact;
    double z; /* 0 when both agree exactly with zero error */
} ipabs_comparison;

/* Fill up to max comparisons; returns how many there are in all (call with
 * max 0 to size the array).  The run's horizon is the legal final, so the
 * exact result must be computed at the legal final. */
int ipabs_compare_exact(const ipabs_deal *deal, const ipabs_mc_result *mc,
                        const ipabs_exact_result *exact, ipabs_comparison *out,
                        int max);

#endif
