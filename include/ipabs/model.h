/*
 * ipabs/model.h — the default model (SPEC §4): cumulative PDs, the copula,
 * default thresholds, recovery quantiles, and the random stream of a path.
 *
 * Data flow: deal → ipabs_model_plan (built once, then const and shared by
 * all threads) → ipabs_model_sample(plan, seed, path) → realisation.
 *
 * Latent variable of loan i:  X_i = sqrt(W) (a_i Z_0 + s_i Z_sector(i)
 * + c_i e_i), c_i = sqrt(1 - a_i^2 - s_i^2); W = 1 (Gaussian copula) or
 * nu / chi2_nu (Student-t), shared with the guarantor, whose latent is
 * sqrt(W) (g Z_0 + sqrt(1 - g^2) e_G).  Loan i defaults in the first period
 * t <= term_i with X_i <= F^-1(cumPD_i(t)), F the copula's marginal CDF.
 *
 * Every path draws from its own Philox4x32-10 streams keyed by the seed,
 * with the path index in the counter, so a path is reproduced alone in
 * constant time and results depend neither on the thread count nor on the
 * SIMD width the engine draws with.  Normals are the inverse normal CDF of
 * 32-bit words (ipabs_stream_normal); a recovery is drawn only for a loan
 * that defaults, from the loan's own position in the path's recovery
 * stream; the Student-t chi-square reads a third stream of the path.
 */
#ifndef IPABS_MODEL_H
#define IPABS_MODEL_H

#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "ipabs/deal.h"
#include "ipabs/error.h"
#include "ipabs/waterfall.h"

/* A copula variant, as gsl_rng_type is a generator variant: adding one is
 * adding a struct, not an `if` in the hot loop. */
typedef struct ipabs_copula_type {
    const char *name;
    double (*cdf)(double x, double df);      /* marginal CDF F of X */
    double (*quantile)(double p, double df); /* F^-1, for thresholds */
    /* sqrt(W) of path `path` of the run seeded `seed`, from the path's own
     * mixing stream (1 for the Gaussian copula). */
    double (*mixing)(uint64_t seed, uint64_t path, double df);
} ipabs_copula_type;

extern const ipabs_copula_type ipabs_copula_gaussian;
extern const ipabs_copula_type ipabs_copula_student_t;

/* Cumulative PDs after model.pd_multiplier (capped at 1 - 1e-12):
 * pd_curve if the loan names one, else its rating in model.pd_table, else
 * its annual PD under a constant hazard 1 - (1 - PD)^(t/f).  t may exceed
 * the loan's term (the exact module's horizon); t = 0 gives 0. */
double ipabs_model_loan_cum_pd(const ipabs_deal *deal, int loan, int t);
double ipabs_model_guarantor_cum_pd(const ipabs_deal *deal, int t);

/* The static loss of a loan, used by the portfolio (static) measures of
 * both the Monte Carlo and the exact module: exposure = principal, the
 * pledged IP realising its mean fraction, less the disposal cost:
 *   P - clamp(min(P, V x mean) - cost, 0, P). */
double ipabs_static_loss(const ipabs_loan *loan);

/* Grid of the pool static-loss distribution written to
 * loss_distribution.csv: an atom at zero, then IPABS_LOSS_BUCKETS buckets
 * (k w, (k+1) w] with w = pool balance / IPABS_LOSS_BUCKETS. */
#define IPABS_LOSS_BUCKETS 100

/* Number of Beta-quantile table points (normal-score grid on [-8, 8]). */
#define IPABS_BETA_TABLE_SIZE 2049

/* The standard normal ipabs makes of one 32-bit stream word: the inverse
 * normal CDF (Wichura's AS 241) of (w + 1/2) 2^-32, with ipabs's own log,
 * so that every SIMD width gives the same bits.  |result| < 6.3. */
double ipabs_stream_normal(uint32_t word);

/* Normal j of path `path`'s latent stream under `seed`: the factors
 * (j < n_factors), then one idiosyncratic normal per loan, then the
 * guarantor's; word j % 4 of Philox4x32-10 of the counter (path, j / 4,
 * "ipab") under the key seed. */
double ipabs_stream_latent_normal(uint64_t seed, uint64_t path, uint32_t j);

typedef struct ipabs_model_plan {
    const ipabs_copula_type *copula;
    double df;
    int n_loans;
    int n_factors;            /* 1 global + sectors */
    int legal_final;
    /* by loan */
    int *term;
    double *a;                /* global loading */
    double *s;                /* sector loading (0 if none) */
    double *c;                /* idiosyncratic weight */
    int *factor;              /* index of the sector factor, 0 if none */
    double *threshold;        /* [loan * (legal_final + 1) + t], t = 0..term */
    const double **beta_table;/* recovery quantile by normal score, per loan; NULL = fixed mean */
    double *recovery_fixed;   /* the realisation when the table is NULL */
    /* guarantor */
    double g_a, g_c;
    double *g_threshold;      /* by period 0..legal_final */
    bool guarantor_can_default;
    /* recovery tie to the global factor */
    double rec_b, rec_c;
    /* importance sampling (model.importance auto; docs/measures.md): the
     * latent normal j of a path (the factors, then one per loan, then the
     * guarantor's) is drawn from N(is_mu[j], 1) instead of N(0, 1), and
     * each path carries the likelihood ratio ipabs_importance_weight().
     * false and NULL when off. */
    bool importance;
    int is_n;                 /* normals: n_factors + n_loans + 1 */
    double *is_mu;            /* is_n shifts; NULL when off */
    double is_half_norm;      /* sum of is_mu[j]^2 / 2 */
    /* The guarantor's failure by the defensive mixture (0: its normal is
     * shifted by is_mu like the others): given the factors, its normal is
     * drawn from its law conditioned on failure with probability
     * is_alpha, else from N(0, 1) (ipabs_importance_guarantor). */
    double is_alpha;
#define IPABS_IS_GUARANTOR_MIXTURE 0.5
    /* storage */
    int n_tables;
    double *tables;
} ipabs_model_plan;

/* Build the plan: thresholds, loadings, Beta tables.  Errors: IPABS_ENOMEM;
 * IPABS_EINPUT if a loading makes the idiosyncratic weight imaginary;
 * IPABS_EINTERNAL if GSL fails on a quantile. */
ipabs_status ipabs_model_plan_build(const ipabs_deal *deal,
                                    ipabs_model_plan **out, ipabs_error *err);
void ipabs_model_plan_free(ipabs_model_plan *plan); /* NULL is a no-op */

/* ---- importance sampling (importance.c) ----------------------------------- */

/* The mean shifts of the latent normals for model.importance auto, into
 * mu[0 .. n_factors + n_loans] (the factors, the loans' idiosyncratic
 * normals, the guarantor's), from the deal and the plan's thresholds and
 * loadings (the rule is in docs/measures.md and importance.c): the global
 * factor at the most likely level of the senior's loss, the guarantor's
 * normal at its most likely failure point when the senior's loss needs
 * it; the loans' normals are not shifted (0).  All 0 when the senior
 * cannot lose.  Pure; on
 * ENOMEM it leaves every shift 0 (plain sampling, still correct). */
void ipabs_importance_shift(const ipabs_deal *deal, const ipabs_model_plan *plan,
                            double *mu);

/* The likelihood ratio of a path from dot = sum_j is_mu[j] x_j over its
 * shifted draws x_j, summed in increasing j: exp(is_half_norm - dot);
 * exactly 1 when the plan has no importance sampling.  The batch engine
 * and replay both sum in that order and call it, so a path's weight is
 * the same bits in both. */
double ipabs_importance_weight(const ipabs_model_plan *plan, double dot);

/* The defensive mixture of the guarantor's failure (plan->is_alpha > 0):
 * *eg, a standard normal draw, is mapped by inversion (through its normal
 * distribution function) to a draw of q = alpha N(0,1)|{e <= b} + (1 -
 * alpha) N(0,1), b = (g_threshold[T] / mix - g_a z0) / g_c the level
 * below which the guarantor fails by the legal final given the global
 * factor z0 (shifted) and the Student-t mixing mix (1 for the Gaussian
 * copula); returns the factor of the likelihood ratio phi(e) / q(e) =
 * 1 / (alpha 1{e <= b} / Phi(b) + 1 - alpha).  Returns 1 and leaves *eg
 * alone when the plan has no mixture or Phi(b) is 0.  The batch engine
 * and replay both call it, so that the draw and the factor are the same
 * bits in both. */
double ipabs_importance_guarantor(const ipabs_model_plan *plan, double z0, double mix,
                                  double *eg);

/* A path's likelihood ratio: ipabs_importance_weight(plan, dot) times the
 * guarantor's factor g, multiplied here, once, for both engines. */
double ipabs_importance_path_weight(const ipabs_model_plan *plan, double dot, double g);

/* ---- random streams ------------------------------------------------------- */

/* A gsl_rng whose type is Philox4x32-10 (Random123): GSL's distributions
 * draw from it.  Allocate one per thread; position it on a path with
 * ipabs_stream_seek.  NULL on ENOMEM. */
gsl_rng *ipabs_stream_alloc(void);
void ipabs_stream_seek(gsl_rng *r, uint64_t seed, uint64_t path);
/* A uniform in (0, 1), never 0 or 1. */
double ipabs_stream_uniform(const gsl_rng *r);

/* What a path drew, for replay and audit (may be passed as NULL). */
typedef struct ipabs_path_draws {
    double *factors;     /* n_factors: Z_0, then the sector factors */
    double mixing;       /* sqrt(W) */
    double *latent;      /* by loan: X_i */
    double guarantor_latent;
    double weight;       /* likelihood ratio (1 without importance sampling) */
} ipabs_path_draws;

ipabs_status ipabs_path_draws_init(const ipabs_model_plan *plan,
                                   ipabs_path_draws *d);
void ipabs_path_draws_release(ipabs_path_draws *d);

/* Draw path `path` of a run with `seed` into real (already allocated for
 * the deal) and index it: the same realisation as the batch engine's path
 * `path`, one path at a time (replay, tests).  scratch holds n_factors
 * doubles.  draws may be NULL. */
void ipabs_model_sample(const ipabs_deal *deal,
                        const ipabs_model_plan *plan,
                        uint64_t seed, uint64_t path, double *scratch,
                        ipabs_realisation *real, ipabs_path_draws *draws);

#endif
