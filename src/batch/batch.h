/*
 * batch.h — the batch engine's stages and the data that flows between
 * them.  A chunk of the run (IPABS_MC_CHUNK consecutive paths) is cut into
 * batches of consecutive paths; each batch goes once, one way, through
 *
 *   batch_draw.c      Philox words of every path in SIMD lanes (structure
 *                     of arrays: row j holds word j of every path), the
 *                     normals of the rows that need them exactly (the
 *                     factors), and the Student-t mixing;
 *   batch_screen.c    latent variables, default screening by one compare
 *                     per loan against its last threshold, first on a
 *                     lower bound of the normal read from a table and then
 *                     exactly for the few that the bound cannot clear; the
 *                     guarantor; the list of event paths;
 *   batch_events.c    for event paths only: default periods, recoveries of
 *                     the loans that default, the waterfall from the first
 *                     event (mc_path.c), the path's record of measures;
 *   batch_yields.c    the yields of the classes whose cash flows changed,
 *                     many paths at once in vector lanes;
 *   batch_measures.c  the records into the chunk's sums; the no-event
 *                     paths count once, as the no-default record.
 *
 * batch.c runs a chunk through them.  Everything here is owned by one
 * thread and allocated before the parallel region.
 */
#ifndef IPABS_BATCH_H
#define IPABS_BATCH_H

#include "mc_internal.h"

/* Paths per SIMD kernel call: a multiple of every vector width. */
#define BATCH_LANES 16
/* The largest batch; smaller for large pools so that the normals of a
 * batch stay in the cache. */
#define BATCH_MAX 512

/* The vector widths of the draw kernels, in 32-bit lanes. */
enum {
    BATCH_SIMD_SCALAR = 1, /* one path at a time, no vectors */
    BATCH_SIMD_BASE = 4,   /* the target's baseline vectors (SSE2 on x86-64) */
    BATCH_SIMD_AVX2 = 8,
    BATCH_SIMD_AVX512 = 16
};

/* Normals gathered from many streams: out[k] = normal j[k] of kind `kind`
 * of path path[k]'s stream, k < n; the arrays hold n rounded up to
 * BATCH_LANES. */
void batch_draw_gather(int simd, uint64_t seed, uint32_t kind, int n,
                       const uint64_t *path, const uint32_t *j, double *out);

/* out[k] = draw_normal(w[k]) for k < n; the arrays hold n rounded up to
 * BATCH_LANES. */
void batch_draw_normals(int simd, int n, const uint32_t *w, double *out);

/* The screen's lower bounds: normals are non-decreasing in their word
 * (tested over all 2^32 words), so the normal of any word of bucket
 * w >> BATCH_BOUND_SHIFT is at least the normal of the bucket's first
 * word. */
#define BATCH_BOUND_BITS 10
#define BATCH_BOUND_SHIFT (32 - BATCH_BOUND_BITS)
/* The AVX-512 screen's coarser table: every 32nd bound, the normal of the
 * first word of each 2^27-word bucket, few enough to be held in four
 * registers. */
#define BATCH_COARSE_BITS 5

/* True if this CPU runs the kernel of that width. */
bool batch_simd_supported(int width);
/* The widest width this CPU runs. */
int batch_simd_widest(void);

/* Stage 3b: the yields to solve, one job per (event path, class) whose
 * cash flows differ from the no-default path's (batch_yields.c). */
#define BATCH_YIELD_LANES 8
typedef struct batch_yield_jobs {
    int n, cap;                /* cap: batch paths x classes */
    double *cf;                /* [job * T + t]: the class's cash by period */
    double *price, *coupon, *guess;
    int *event, *cls;          /* whose record, which class */
    double *irr;               /* the solved yields */
    double *lane_cf;           /* scratch: T x BATCH_YIELD_LANES */
} batch_yield_jobs;

/* The yields of jobs 0 .. q->n - 1 into out, each the same bits as
 * mc_yield_at_par(cf, T, frequency, price, coupon, guess). */
void batch_yields_solve(const batch_yield_jobs *q, int T, int frequency, double *out);

typedef struct batch_ws {
    int cap;                 /* paths per batch, a multiple of BATCH_LANES */
    int n_normals;           /* factors, loans, guarantor */
    int simd;                /* the draw kernel's width */
    uint32_t *w;             /* [j * cap + p]: the Philox word of normal j */
    double *z;               /* [j * cap + p]: the normals of the exact rows;
                              * loan and guarantor rows hold X after the
                              * screen, exactly where X <= the last threshold
                              * and a lower bound of X elsewhere */
    bool *exact;             /* by row: its normal drawn exactly before the
                              * screen (factors; rows importance sampling
                              * shifts) */
    double *bound;           /* 2^BATCH_BOUND_BITS: the normal of each
                              * bucket's first word */
    double coarse[1 << BATCH_COARSE_BITS]; /* bound[k << (BATCH_BOUND_BITS -
                              * BATCH_COARSE_BITS)] */
    /* The screen's candidates: (row, path) whose lower bound is at or below
     * the threshold, resolved with the exact normal. */
    int n_cand;
    int *cand_end;           /* by row: the end of its candidates in the list */
    int *cand_path;
    uint32_t *cand_word;
    double *cand_normal;
    /* The loans' defaults the screen found, by loan then path. */
    int n_dflt;
    int *dflt_loan, *dflt_path;
    int *event_of_path;      /* cap: the index in event_path of path p's event */
    double *mix;             /* sqrt(W) by path */
    int *n_default;          /* by path: loans that default (screen) */
    int *g_default;          /* by path: 1 if the guarantor fails */
    double *weight;          /* likelihood ratio by path (importance sampling only) */
    int n_events;
    int *event_path;         /* batch offsets of the event paths, ascending */
    /* The defaults of the event paths: event e's are pairs event_first[e]
     * .. event_first[e + 1] - 1, by loan index. */
    int *event_first;        /* cap + 1 */
    int *event_next;         /* cap: scratch, the next pair of each event */
    int *pair_loan, *pair_period;
    double *pair_recovery;   /* the realised fraction of the loan's IP value */
    int pair_cap;            /* cap x loans */
    /* The recoveries to draw, gathered for the SIMD kernel. */
    uint64_t *gather_path;
    uint32_t *gather_j;
    double *gather_normal;
    int *gather_slot;        /* the pair each gathered normal is for */
    double *records;         /* [e * layout.count]: the event paths' records */
    batch_yield_jobs yields;
    int record_size;
} batch_ws;

/* Sized from the deal and plan; simd a supported width.  NULL on ENOMEM. */
batch_ws *batch_ws_alloc(const ipabs_deal *deal, const ipabs_model_plan *plan,
                         int simd);
void batch_ws_free(batch_ws *b); /* NULL is a no-op */

/* ---- the stages ------------------------------------------------------------ */

/* Words of paths first .. first + n - 1 (n <= cap) into b->w, the exact
 * rows' normals into b->z, mixing into b->mix; with importance sampling
 * the shifted normals and each path's likelihood ratio into b->weight. */
void batch_draw(const ipabs_model_plan *plan, uint64_t seed, uint64_t first,
                int n, batch_ws *b);
/* Latent variables into the loan rows of b->z, the defaults by path, the
 * event list. */
void batch_screen(const ipabs_model_plan *plan, int n, batch_ws *b);
/* The defaults of the event paths (periods, in pairs) and their
 * recoveries, drawn in SIMD lanes, only for the loans that default. */
void batch_defaults(const ipabs_model_plan *plan, uint64_t seed,
                    uint64_t first, batch_ws *b);
/* draw_default_period(thr, last, x) with the kernel of width simd (an
 * AVX-512 count of the thresholds x exceeds, or the scalar one): the
 * same period whichever counts it. */
int batch_default_period(int simd, const double *thr, int last, double x);
/* Event e's realisation into real, which must hold no default on entry:
 * default periods, guarantor, the index of defaults, recoveries.
 * batch_unrealise() takes its defaults out again. */
void batch_realise(const ipabs_model_plan *plan, const batch_ws *b, int e,
                   ipabs_realisation *real);
void batch_unrealise(const batch_ws *b, int e, ipabs_realisation *real);
/* Waterfall and record of every event path; records into b->records.
 * Errors: those of the waterfall (IPABS_EINTERNAL), with the path. */
ipabs_status batch_events(ipabs_mc_path *w, uint64_t first,
                          batch_ws *b, ipabs_error *err);

/* ---- accumulation ------------------------------------------------------------ */

/* A chunk's sums, merged in chunk order by montecarlo.c. */
typedef struct chunk_acc {
    long long index;           /* which chunk of the run */
    bool skipped;              /* not computed (stop request or failure) */
    double *s1, *s2, *cnt;     /* by measure: sums of (x - base), squares, count */
    uint64_t fast;
    uint64_t n;
    uint64_t *default_count;
    uint64_t *count_by_period; /* T x (n_loans + 1) */
    uint64_t loss_zero;
    uint64_t loss_bucket[IPABS_LOSS_BUCKETS];
    double *qbuf;              /* tracker values of the chunk's event paths */
    int nq;
    /* Importance sampling only (NULL otherwise). */
    double *ww;                /* 5 x measures: sums over the event paths of w, w^2,
                                * w d, w^2 d, w^2 d^2 (d = x - base) */
    double fast_w, fast_w2;    /* the no-event paths' weights and their squares */
    double *wcells;            /* (sum w, sum w^2) by cell of the laws (batch_cell_*) */
    double *qw;                /* the weight of each row of qbuf */
} chunk_acc;

/* Cells of the weighted laws: the default count (n_loans + 1), the count
 * by period (T x (n_loans + 1)), the atom at zero loss, the loss buckets. */
static inline size_t batch_cell_count(int n_loans, int k)
{
    (void)n_loans;
    return (size_t)k;
}
static inline size_t batch_cell_by_period(int n_loans, int t0, int k)
{
    return (size_t)(n_loans + 1) * (size_t)(1 + t0) + (size_t)k;
}
static inline size_t batch_cell_loss_zero(int n_loans, int T)
{
    return (size_t)(n_loans + 1) * (size_t)(T + 1);
}
static inline size_t batch_cell_bucket(int n_loans, int T, int b)
{
    return batch_cell_loss_zero(n_loans, T) + 1 + (size_t)b;
}
static inline size_t batch_cells(int n_loans, int T)
{
    return batch_cell_bucket(n_loans, T, IPABS_LOSS_BUCKETS);
}

typedef struct batch_measure_ctx {
    const ipabs_mc_layout *layout;
    const double *base;        /* the no-default record */
    const double *base0;       /* the same with NaN entries as 0 (deviations from it) */
    double pool_balance;
    int n_trackers;
    bool weighted;             /* importance sampling: paths carry b->weight */
} batch_measure_ctx;

/* The quantile trackers' values of one record. */
void batch_tracker_values(const ipabs_mc_layout *L, const double *v, double *out);
/* The batch (n paths, events recorded) into the chunk's sums. */
void batch_measures(const batch_measure_ctx *m, const batch_ws *b, int n,
                    chunk_acc *c);
/* The count of the loan entries, once per chunk: every event path's
 * record has them (batch_measures adds only the defaulting loans' values,
 * the others being the no-default record's zeros). */
void batch_measures_loans(const batch_measure_ctx *m, uint64_t events,
                          chunk_acc *c);

/* Paths first .. last - 1 of one chunk through the stages, batch by batch. */
ipabs_status batch_run_chunk(ipabs_mc_path *w, batch_ws *b,
                             const batch_measure_ctx *m, uint64_t seed,
                             long long first, long long last, chunk_acc *c,
                             ipabs_error *err);

#endif
