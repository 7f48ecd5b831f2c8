/*
 * ipabs/montecarlo.h — the Monte Carlo driver (SPEC §3-§4).
 *
 * deal → model plan → batches of consecutive paths: draw their normals in
 * SIMD lanes, screen them for defaults, and for the paths with an event
 * build the realisation (model.h), run the deterministic waterfall
 * (waterfall.h) and reduce the path to a record of measures → accumulate
 * (stats.h) → ipabs_mc_write() writes the CSVs.  Every SIMD width gives the
 * same bits, and path K equals ipabs_mc_path_eval(K) (replay).
 *
 * Paths are grouped in fixed chunks of IPABS_MC_CHUNK consecutive indices.
 * Threads (OpenMP) take chunks; each chunk's moments are merged in chunk
 * order, histograms and tails (multisets) per thread then together, so the
 * output is bit-identical for any thread count.  Each thread owns a
 * workspace allocated before the parallel region; no path allocates.
 *
 * A path with no default and no guarantor failure is the no-default path,
 * computed once; its record is reused (the "fast path").  A path whose first
 * event is in period e restarts the waterfall from the no-default state
 * after period e - 1.
 */
#ifndef IPABS_MONTECARLO_H
#define IPABS_MONTECARLO_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "ipabs/deal.h"
#include "ipabs/error.h"
#include "ipabs/model.h"
#include "ipabs/stats.h"
#include "ipabs/waterfall.h"

#define IPABS_MC_CHUNK 4096

/* Per-tranche measures, by path. */
enum {
    IPABS_TM_LOSS,              /* principal written off */
    IPABS_TM_LOSS_PV,           /* that loss discounted at the coupon */
    IPABS_TM_INTEREST_LOSS,     /* unpaid interest written off */
    IPABS_TM_ANY_LOSS,          /* 1 if principal loss > 0 */
    IPABS_TM_INTEREST_SHORT,    /* 1 if any period's interest was short */
    IPABS_TM_CASH,              /* everything received (interest, principal, residual) */
    IPABS_TM_WAL,               /* weighted average life, years (paths with principal) */
    IPABS_TM_IRR,               /* yield at par, annual, compounded f times a year */
    IPABS_TM_STATIC_LOSS,       /* static view: pool static loss allocated bottom-up */
    IPABS_TM_STATIC_ANY_LOSS,
    IPABS_TM_WIPED_OUT,         /* 1 if the whole original balance was written off */
    IPABS_TM_LOSS_IF_G_DEFAULT, /* principal loss on paths where the guarantor defaulted, else NaN */
    IPABS_TM_LOSS_AND_G_DEFAULT,/* principal loss x 1{guarantor defaulted} */
    IPABS_TM_COUNT_
};

/* Guarantor measures. */
enum {
    IPABS_GM_ANY_PAYMENT,       /* 1 if it paid a payout or a top-up */
    IPABS_GM_PAYOUT,
    IPABS_GM_TOPUP,
    IPABS_GM_RECOVERY,          /* IP recoveries it received (subrogation) */
    IPABS_GM_FEES,
    IPABS_GM_NET_PNL,           /* fees - payouts - top-ups + recoveries */
    IPABS_GM_NET_PNL_PV,
    IPABS_GM_CAPACITY_EXHAUSTED,
    IPABS_GM_DEFAULT,           /* 1 if it defaulted by the legal final */
    IPABS_GM_UNPAID,            /* support owed but not paid (after its default) */
    IPABS_GM_SENIOR_STATIC_LOSS_AND_DEFAULT,
    IPABS_GM_PUT_PURCHASE,      /* as a class's put supporter: paid for securities
                                   put, less their resale (docs/waterfall.md) */
    IPABS_GM_HELD_LOSS,         /* principal written off on the securities it held */
    IPABS_GM_COUNT_
};

/* Pool measures. */
enum {
    IPABS_PM_DEFAULTS,
    IPABS_PM_NO_DEFAULT,
    IPABS_PM_STATIC_LOSS,       /* sum of static losses of the defaulted loans */
    IPABS_PM_CREDIT_LOSS,       /* sum of EAD - recoveries realised by the legal final */
    IPABS_PM_BORNE_GUARANTOR,   /* payouts + top-ups - its recoveries */
    IPABS_PM_BORNE_SENIOR,      /* senior principal and interest written off */
    IPABS_PM_BORNE_SUB,         /* sub principal and interest written off */
    IPABS_PM_BORNE_EXCESS,      /* the rest: excess spread and residual income */
    IPABS_PM_MIN_COVERAGE,      /* least cash-flow coverage ratio over the payment dates */
    IPABS_PM_COUNT_
};

/* Quantile trackers. */
enum {
    IPABS_QT_TRANCHE_LOSS,      /* one per tranche (upper tail) */
    IPABS_QT_TRANCHE_IRR,       /* one per tranche (lower tail) */
    IPABS_QT_TRANCHE_WAL,       /* one per tranche (upper tail: extension) */
    IPABS_QT_PER_TRANCHE_
};
enum {
    IPABS_QG_PAYOUT,
    IPABS_QG_TOPUP,
    IPABS_QG_NET_PNL,           /* lower tail */
    IPABS_QG_POOL_STATIC_LOSS,
    IPABS_QG_POOL_CREDIT_LOSS,
    IPABS_QG_POOL_CDR,          /* cumulative default ratio by amount at the legal final */
    IPABS_QG_MIN_COVERAGE,      /* least cash-flow coverage ratio (lower tail) */
    IPABS_QG_COUNT_
};

typedef struct ipabs_mc_layout {
    int n_tranches, n_loans, n_periods;
    int tranche0;   /* index of tranche 0's first measure */
    int guarantor0;
    int pool0;
    int loan0;      /* per loan: default indicator, credit loss */
    int period0;    /* per period: cumulative default ratio */
    int coverage0;  /* per period: cash-flow coverage ratio (NaN where undefined) */
    int defaults0;  /* per period: number of loans defaulted by then */
    int count;
} ipabs_mc_layout;

ipabs_mc_layout ipabs_mc_layout_of(const ipabs_deal *deal);

typedef struct ipabs_mc_options {
    long long paths;
    uint64_t seed;
    int threads;                      /* 0 = OpenMP's default */
    volatile sig_atomic_t *stop;      /* set by a signal handler; may be NULL */
    /* Called in path order as chunks complete (from one thread at a time). */
    void (*progress)(void *ctx, long long done, long long total);
    void *progress_ctx;
    /* Width of the draw kernel in 32-bit lanes: 0 = the widest this CPU
     * runs; 1 scalar, 4 baseline vectors, 8 AVX2, 16 AVX-512.  Every width
     * gives the same bits. */
    int simd;
} ipabs_mc_options;

/* The draw kernel of a width (ipabs_mc_options.simd) by name, "scalar",
 * "base", "avx2" or "avx512", as the CLI's --simd and run.csv write it;
 * NULL for any other width. */
const char *ipabs_mc_simd_name(int simd);
/* The width of a kernel name, "auto" 0; -1 for an unknown name. */
int ipabs_mc_simd_of(const char *name);
/* True if this CPU runs the draw kernel of that width (0: the widest). */
bool ipabs_mc_simd_supported(int simd);

typedef struct ipabs_mc_result {
    ipabs_mc_layout layout;
    long long paths;               /* completed (a prefix of the path indices) */
    long long requested;
    long long fast_paths;          /* paths that reused the no-default record */
    bool partial;                  /* stopped by a signal */
    int threads;
    int simd;                      /* the draw kernel's width used */
    uint64_t seed;
    double wall_seconds;
    ipabs_moments *moments;        /* layout.count */
    uint64_t *default_count;       /* n_loans + 1 */
    uint64_t loss_zero;            /* paths with static pool loss exactly 0 */
    /* [(t - 1) * (n_loans + 1) + k]: paths with k defaults by period t. */
    uint64_t *default_count_by_period;
    uint64_t loss_bucket[IPABS_LOSS_BUCKETS];
    /* Quantile trackers: IPABS_QT_PER_TRANCHE_ per tranche (tranche k's
     * tracker j at k * IPABS_QT_PER_TRANCHE_ + j), then IPABS_QG_COUNT_. */
    int n_trackers;
    ipabs_quantiles *q;
    double *baseline;              /* the no-default path's record (layout.count) */
    /* Importance sampling (model.importance auto; docs/measures.md).  When
     * weighted, moments[] hold the weighted means, with m2 set so that
     * ipabs_moments_se() gives the weighted standard error; wmoments[]
     * the weighted sums themselves; the laws are read with ipabs_mc_prob();
     * quantiles and expected shortfall from wq[] (read them with
     * ipabs_mc_quantile() and ipabs_mc_tail_mean(), which choose). */
    bool weighted;
    double shift_factor, shift_guarantor; /* the mean shifts of Z_0, the guarantor's normal */
    double shift_loans;            /* the mean of the loans' idiosyncratic shifts */
    double guarantor_mixture;      /* the defensive mixture's share of sampled failures
                                    * (model plan is_alpha; 0: none) */
    ipabs_wmoments *wmoments;      /* layout.count; NULL unless weighted */
    double *wcells;                /* (sum w, sum w^2) by law cell; NULL unless weighted */
    double weight_sum, weight_sum2;/* over every path */
    struct ipabs_wquantiles *wq;   /* n_trackers; NULL unless weighted */
} ipabs_mc_result;

/* Quantile p of tracker `tracker` with its interval: from the weighted
 * trackers under importance sampling, else the plain ones
 * (ipabs_quantiles_estimate, ipabs_wquantiles_estimate). */
ipabs_quantile_est ipabs_mc_quantile(const ipabs_mc_result *r, int tracker, double p);
/* The number of paths on which a tracker's quantity is defined. */
double ipabs_mc_tracker_paths(const ipabs_mc_result *r, int tracker);
/* Expected shortfall beyond p of a tracker and its error, likewise
 * (ipabs_quantiles_tail_mean, ipabs_wquantiles_tail_mean). */
double ipabs_mc_tail_mean(const ipabs_mc_result *r, int tracker, double p, double *se);
/* The distribution function of a tracker at x: *below = F(x-), *upto =
 * F(x) as fractions of the paths (weighted under importance sampling),
 * and their standard errors (sqrt(F (1 - F) / n) for plain paths). */
void ipabs_mc_cdf(const ipabs_mc_result *r, int tracker, double x, double *below,
                  double *upto, double *se_below, double *se_upto);

/* The laws of the result files, as probabilities. */
typedef enum ipabs_mc_law {
    IPABS_LAW_DEFAULT_COUNT,    /* cell k: k defaults by the legal final */
    IPABS_LAW_COUNT_BY_PERIOD,  /* cell (t - 1) (n_loans + 1) + k */
    IPABS_LAW_LOSS_ZERO,        /* cell 0: static pool loss 0 */
    IPABS_LAW_LOSS_BUCKET       /* cell b: loss bucket b */
} ipabs_mc_law;

/* Probability of one cell of a law and its standard error: count / paths
 * and sqrt(p (1 - p) / paths) for plain Monte Carlo; with importance
 * sampling the weighted share sum_cell w / sum w and its delta-method
 * error sqrt(S2_cell (1 - 2p) + p^2 S2) / sum w (S2: sums of squared
 * weights). */
void ipabs_mc_prob(const ipabs_mc_result *r, ipabs_mc_law law, size_t cell,
                   double *p, double *se);

/* The probability of cells first..last (inclusive, consecutive cells of
 * one law) together, and its standard error, as ipabs_mc_prob() for one
 * cell (the weighted sums of the cells added before the share is taken). */
void ipabs_mc_prob_group(const ipabs_mc_result *r, ipabs_mc_law law, size_t first,
                         size_t last, double *p, double *se);

/* The variance-reduction factor against plain Monte Carlo of the
 * probability measure `measure` (a layout index, e.g. tranche0 +
 * IPABS_TM_ANY_LOSS for the senior's P(loss)): p (1 - p) / (n se^2), the
 * variance per path plain Monte Carlo would have (estimated from the
 * weighted p) over the weighted estimator's; 1 for plain Monte Carlo, NaN
 * when p is 0 or the index is outside the layout. */
double ipabs_mc_variance_reduction(const ipabs_mc_result *r, int measure);

/* Run the simulation.  Errors: IPABS_ENOMEM, IPABS_EINTERNAL (a broken
 * conservation identity, with the path index in the message), IPABS_EINPUT
 * from the model plan.  On a stop request the result holds the completed
 * paths, partial = true, and IPABS_EINTERRUPTED is returned with *out set. */
ipabs_status ipabs_mc_run(const ipabs_deal *deal, const ipabs_mc_options *opt,
                          ipabs_mc_result **out, ipabs_error *err);
void ipabs_mc_result_free(ipabs_mc_result *r);

/* The default model alone, as the engine draws it, on one thread: paths
 * 0 .. paths - 1 through the draw and screen stages, and the realisation
 * (default periods, guarantor, recoveries) of every path with an event;
 * no waterfall.  For benchmarks.  visit (may be NULL) is called with ctx
 * for each path with an event, in path order, with its realisation (owned
 * by the call, valid during the visit); the other paths have no default
 * and a surviving guarantor.  *defaults receives the number of loan
 * defaults drawn, *guarantor_defaults the paths where the guarantor fails.  simd as in ipabs_mc_options.  Errors: IPABS_ENOMEM,
 * IPABS_EINPUT (a width this CPU does not run). */
ipabs_status ipabs_mc_sample_only(const ipabs_deal *deal,
                                  const ipabs_model_plan *plan, uint64_t seed,
                                  long long paths, int simd,
                                  void (*visit)(void *ctx, uint64_t path,
                                                const ipabs_realisation *real),
                                  void *ctx, long long *defaults,
                                  long long *guarantor_defaults,
                                  ipabs_error *err);

/* A monotonic clock in seconds, the one run.csv's wall time is measured
 * with (for progress reports and benchmarks). */
double ipabs_mc_seconds(void);

/* ---- output --------------------------------------------------------------- */

typedef struct ipabs_run_info {
    const char *version;
    const char *scenario;      /* path as given */
    const char *sha256;        /* of the scenario file, hex */
    const char *tape_sha256;   /* of the loan tape, hex; NULL = not recorded */
    const char *overrides;     /* the --set overrides, ';'-separated; NULL = none */
    bool no_bom;               /* true: CSVs without the UTF-8 byte-order mark */
} ipabs_run_info;

/* Write DIR/summary.csv, default_count.csv, loss_distribution.csv, cdr.csv,
 * coverage.csv, default_count_by_period.csv and run.csv (each atomically);
 * measures are documented in docs/measures.md.  Errors: IPABS_EIO,
 * IPABS_ENOMEM. */
ipabs_status ipabs_mc_write(const ipabs_deal *deal, const ipabs_mc_result *r,
                            const ipabs_run_info *info, const char *dir,
                            ipabs_error *err);

/* A readable summary table. */
void ipabs_mc_print(FILE *out, const ipabs_deal *deal, const ipabs_mc_result *r);

/* One row of the summary: what summary.csv holds, for callers that compare
 * (--check-exact).  Returns false when (subject, measure) is not reported. */
bool ipabs_mc_lookup(const ipabs_deal *deal, const ipabs_mc_result *r,
                     const char *subject, const char *measure, double *value,
                     double *std_error);

/* ---- one path, for replay and tests --------------------------------------- */

typedef struct ipabs_mc_path ipabs_mc_path; /* opaque per-thread workspace */

ipabs_mc_path *ipabs_mc_path_alloc(const ipabs_deal *deal,
                                   const ipabs_model_plan *plan,
                                   ipabs_error *err);
void ipabs_mc_path_free(ipabs_mc_path *w);
/* Sample and evaluate path `index`; returns the record's measure values
 * (layout.count doubles, NaN where a measure is undefined on the path) in
 * *values, owned by w.  Errors: IPABS_EINTERNAL. */
ipabs_status ipabs_mc_path_eval(ipabs_mc_path *w, uint64_t seed,
                                uint64_t index, const double **values,
                                ipabs_error *err);
const ipabs_realisation *ipabs_mc_path_realisation(const ipabs_mc_path *w);

#endif
