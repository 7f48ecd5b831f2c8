/*
 * ipabs/exact.h — exact default-count and static-loss distributions at one
 * horizon, by quadrature over the systematic factors and recursion over the
 * obligors (Andersen–Sidenius–Basu).  This is the yardstick of SPEC §5: the
 * Monte Carlo must agree with it within its standard error.
 *
 * Data flow: deal → ipabs_exact_compute (builds its own model plan, so the
 * thresholds are bit-identical to the Monte Carlo's) → ipabs_exact_result →
 * ipabs_exact_write (three CSV files).
 *
 * Conditional on the factors (global Z_0, the sector factors and, for the
 * Student-t copula, the mixing variable W) the loans default independently
 * by the horizon H; loan i with probability
 *   p_i = Phi((k_i / sqrt(W) - a_i Z_0 - s_i Z_f(i)) / c_i),
 * k_i = F^-1(cumPD_i(min(H, term_i))).  The distributions are integrated
 * over the factors by composite Gauss–Legendre rules whose order doubles
 * until the results stop moving; docs/exact.md gives the method, the rules
 * and the accuracy of every figure.
 *
 * "Static loss" is the rating-model view: a defaulted loan loses
 * ipabs_static_loss() (principal less the pledged IP at its mean
 * realisation), not what the waterfall would lose on the path.
 *
 * Ownership: the caller owns the result and frees it with
 * ipabs_exact_free(); nothing is shared with the deal.
 */
#ifndef IPABS_EXACT_H
#define IPABS_EXACT_H

#include "ipabs/deal.h"
#include "ipabs/error.h"
#include "ipabs/model.h"

/* Largest Gauss–Legendre order per panel the doubling may reach. */
#define IPABS_EXACT_MAX_ORDER 256

/* Doubling stops once no reported measure moves by more than this. */
#define IPABS_EXACT_TOLERANCE 1e-10

typedef struct ipabs_exact_options {
    int horizon;   /* period H in 1..legal_final; 0 = the deal's legal_final */
    int min_order; /* first Gauss–Legendre order per panel, 2..MAX_ORDER; 0 = auto (8) */
} ipabs_exact_options;

typedef struct ipabs_exact_result {
    int horizon;             /* H used */
    int n_loans;
    double *default_count;   /* n_loans + 1: P(N = k), k defaults by H */

    /* Static pool loss on the output grid: P(L = 0), then bucket k holds
     * P(k w < L <= (k+1) w), w = bucket_width = pool balance / 100. */
    double loss_zero;
    double bucket_width;
    double loss_bucket[IPABS_LOSS_BUCKETS];

    /* The whole distribution: n_atoms distinct loss values in increasing
     * order (atom_value[0] = 0) and their probabilities.  Exact atoms for
     * small or repetitive pools; a lattice of step lattice_unit otherwise
     * (lattice_unit = 0 when the atoms are exact). */
    int n_atoms;
    double *atom_value;
    double *atom_prob;
    double lattice_unit;

    double prob_no_default;      /* P(N = 0) */
    double expected_defaults;    /* E[N] */
    double expected_loss;        /* E[L], yuan */
    double loss_q95, loss_q99, loss_q999; /* smallest x with P(L <= x) >= q */
    double expected_shortfall_99; /* (1/(1-q)) int_q^1 VaR_u du, q = 0.99 */

    /* Static tranche view: the pool loss is absorbed first by the
     * over-collateralisation (pool - sum of tranche balances), then by the
     * tranches from the last to the first. */
    int n_tranches;
    double *tranche_expected_loss; /* yuan */
    double *tranche_prob_loss;     /* P(tranche loss > 0) */

    double guarantor_prob_default;                 /* P(tau_G <= H) */
    double prob_senior_loss_and_guarantor_default; /* tranche 0 loses and tau_G <= H; NaN without tranches */

    int order;        /* Gauss–Legendre points per panel of the final rule */
    double precision; /* largest change of a measure at the last doubling */
} ipabs_exact_result;

/* Compute the exact distributions of a finalised deal.
 *
 * opt may be NULL (horizon = legal_final, automatic order).  On success
 * *out owns a new result (free with ipabs_exact_free).  The order doubles
 * from opt->min_order until IPABS_EXACT_TOLERANCE is met, the order would
 * exceed IPABS_EXACT_MAX_ORDER or the next order would cost more than a
 * fixed work budget; r->precision says what was achieved, so a result that
 * did not reach the tolerance is still returned with IPABS_OK.
 *
 * Errors (*out = NULL, *err filled): IPABS_EINPUT for a NULL deal or out, a
 * horizon outside 0..legal_final, a min_order outside 0..MAX_ORDER, a pool
 * without a positive balance, Student-t df <= 0, loadings with
 * a^2 + s^2 > 1, or a pool too large for even the first two orders within
 * the work budget; IPABS_ENOMEM; IPABS_EINTERNAL when GSL fails. */
ipabs_status ipabs_exact_compute(const ipabs_deal *deal,
                                 const ipabs_exact_options *opt,
                                 ipabs_exact_result **out, ipabs_error *err);

/* Free a result and its arrays.  NULL is a no-op. */
void ipabs_exact_free(ipabs_exact_result *r);

/* Write, atomically through csvout.h, into directory dir (created if
 * missing):
 *   DIR/default_count.csv      defaults,probability
 *   DIR/loss_distribution.csv  loss_from,loss_to,probability (first row the
 *                              atom at zero: 0,0,P(L = 0); then the buckets)
 *   DIR/summary.csv            subject,measure,value,std_error,ci_lower,ci_upper,paths
 *                              (std_error and paths empty: nothing is sampled)
 * Numbers carry 17 significant digits.  Returns IPABS_EINPUT for a NULL
 * argument or a result that does not belong to the deal, IPABS_EIO when a
 * file cannot be written (no partial file is left behind). */
ipabs_status ipabs_exact_write(const ipabs_deal *deal,
                               const ipabs_exact_result *r, const char *dir,
                               bool bom, ipabs_error *err);

#endif
