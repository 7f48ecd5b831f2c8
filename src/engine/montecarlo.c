/*
 * montecarlo.c — the parallel driver: chunks of paths over OpenMP threads,
 * merged in chunk order so that every thread count gives the same bits.
 *
 * Moments are accumulated per chunk as sums of deviations from the
 * no-default path's value (fast paths then contribute exactly zero), turned
 * into (n, mean, M2) and merged with Chan's formula in chunk order, through
 * a ring of completed chunks (see "the merge ring" below).  Integer counts
 * are merged there too.  Quantile trackers are multisets: a thread feeds
 * its own from the chunks it merged, and they are combined at the end.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "batch.h"
#include "ipabs/wquantiles.h"

/* One per thread, each on its own cache lines (the counters of the chunk
 * are written for every path). */
#define CACHE_LINE 128

/* The merge ring: completed chunks wait in slot (index mod RING_SLOTS)
 * until every earlier chunk has arrived; whichever thread completes the
 * sequence merges it, in chunk order, under a lock, and a thread never
 * waits for a slower one unless RING_SLOTS chunks are outstanding. */
#define RING_SLOTS 16

typedef enum slot_state { SLOT_FREE, SLOT_READY, SLOT_FEEDING } slot_state;

typedef struct ring {
#ifdef _OPENMP
    omp_lock_t lock;
#endif
    long long next;            /* the next chunk to merge */
    slot_state state[RING_SLOTS];
    chunk_acc *acc[RING_SLOTS];
} ring;

typedef struct thread_ws {
    _Alignas(CACHE_LINE) ipabs_mc_path *path;
    batch_ws *batch;
    chunk_acc *chunk;          /* the chunk being computed (swapped into the ring) */
    int n_feed;
    int feed[RING_SLOTS];      /* merged slots this thread feeds to its trackers */
    ipabs_quantiles *q;        /* n_trackers */
} thread_ws;

typedef struct driver {
    const ipabs_deal *deal;
    const ipabs_mc_options *opt;
    ipabs_mc_result *res;
    const mc_baseline *base;
    int n_trackers;
    int simd;                  /* the draw kernel's width */
    batch_measure_ctx measure;
    double *tracker_base;      /* trackers' values on the no-default path */
    size_t n_cells;            /* cells of the weighted laws (batch_cells) */
    bool broken;               /* a chunk was skipped: later ones are not merged */
    bool failed;
    ipabs_error first_error;
} driver;

double ipabs_mc_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Cells of the default-count law by period: T x (n_loans + 1). */
static size_t count_law_size(const ipabs_deal *deal)
{
    return (size_t)deal->legal_final * ((size_t)deal->n_loans + 1);
}

/* ---- trackers ------------------------------------------------------------- */

static int tracker_count(const ipabs_deal *deal)
{
    return deal->n_tranches * IPABS_QT_PER_TRANCHE_ + IPABS_QG_COUNT_;
}

static bool trackers_init(const ipabs_deal *deal, ipabs_quantiles *q)
{
    double pool = deal->pool_balance;
    int K = deal->n_tranches;
    bool ok = true;
    for (int k = 0; k < K; k++) {
        ok &= ipabs_quantiles_init(&q[k * IPABS_QT_PER_TRANCHE_ + IPABS_QT_TRANCHE_LOSS], 0.0,
                                   deal->tranches[k].balance, true);
        ok &= ipabs_quantiles_init(&q[k * IPABS_QT_PER_TRANCHE_ + IPABS_QT_TRANCHE_IRR], -1.0, 1.0, false);
        ok &= ipabs_quantiles_init(&q[k * IPABS_QT_PER_TRANCHE_ + IPABS_QT_TRANCHE_WAL], 0.0,
                                   (double)deal->legal_final / deal->frequency, true);
    }
    ipabs_quantiles *g = &q[K * IPABS_QT_PER_TRANCHE_];
    ok &= ipabs_quantiles_init(&g[IPABS_QG_PAYOUT], 0.0, 1.2 * pool, true);
    ok &= ipabs_quantiles_init(&g[IPABS_QG_TOPUP], 0.0, 1.2 * pool, true);
    ok &= ipabs_quantiles_init(&g[IPABS_QG_NET_PNL], -1.2 * pool, 0.1 * pool, false);
    ok &= ipabs_quantiles_init(&g[IPABS_QG_POOL_STATIC_LOSS], 0.0, pool, true);
    ok &= ipabs_quantiles_init(&g[IPABS_QG_POOL_CREDIT_LOSS], 0.0, pool, true);
    ok &= ipabs_quantiles_init(&g[IPABS_QG_POOL_CDR], 0.0, 1.0, true);
    ok &= ipabs_quantiles_init(&g[IPABS_QG_MIN_COVERAGE], 0.0, 10.0, false);
    return ok;
}

/* The no-default path's values are the atoms of the trackers (most paths
 * share them: a loss of 0, the promised yield): their counts are kept
 * exactly, so a quantile on one is it (docs/measures.md). */
static void trackers_declare_atoms(ipabs_quantiles *q, const double *base, int n)
{
    for (int j = 0; j < n; j++)
        ipabs_quantiles_set_atom(&q[j], base[j]);
}

/* ---- per-thread workspace ------------------------------------------------- */

static void chunk_free(chunk_acc *c)
{
    if (c == NULL)
        return;
    free(c->s1);
    free(c->default_count);
    free(c->count_by_period);
    free(c->qbuf);
    free(c->ww);
    free(c->wcells);
    free(c->qw);
    free(c);
}

static chunk_acc *chunk_alloc(const driver *d)
{
    int M = d->res->layout.count;
    chunk_acc *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->s1 = calloc(3 * (size_t)M, sizeof(double));
    c->default_count = calloc((size_t)d->deal->n_loans + 1, sizeof(uint64_t));
    c->count_by_period = calloc(count_law_size(d->deal), sizeof(uint64_t));
    c->qbuf = calloc((size_t)d->n_trackers * IPABS_MC_CHUNK, sizeof(double));
    if (d->res->weighted) {
        c->ww = calloc(5 * (size_t)M, sizeof(double));
        c->wcells = calloc(2 * d->n_cells, sizeof(double));
        c->qw = calloc(IPABS_MC_CHUNK, sizeof(double));
    }
    if (!c->s1 || !c->default_count || !c->count_by_period || !c->qbuf ||
        (d->res->weighted && (!c->ww || !c->wcells || !c->qw))) {
        chunk_free(c);
        return NULL;
    }
    c->s2 = c->s1 + M;
    c->cnt = c->s1 + 2 * M;
    return c;
}

static void thread_free(thread_ws *t, int n_trackers)
{
    ipabs_mc_path_free(t->path);
    batch_ws_free(t->batch);
    chunk_free(t->chunk);
    if (t->q != NULL)
        for (int j = 0; j < n_trackers; j++)
            ipabs_quantiles_release(&t->q[j]);
    free(t->q);
}

static bool thread_init(thread_ws *t, const driver *d, const ipabs_model_plan *plan,
                        ipabs_error *err)
{
    const ipabs_deal *deal = d->deal;
    memset(t, 0, sizeof *t);
    t->path = mc_path_alloc_bare(deal, plan, err);
    if (t->path == NULL)
        return false;
    t->path->baseline = d->base;
    t->batch = batch_ws_alloc(deal, plan, d->simd);
    t->chunk = chunk_alloc(d);
    t->q = calloc((size_t)d->n_trackers, sizeof *t->q);
    bool ok = t->batch && t->chunk && t->q && trackers_init(deal, t->q);
    if (ok)
        trackers_declare_atoms(t->q, d->tracker_base, d->n_trackers);
    if (!ok) {
        ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                        "out of memory for a thread's workspace");
        return false;
    }
    return true;
}

/* ---- one chunk ------------------------------------------------------------ */

static void chunk_reset(chunk_acc *c, int M, const ipabs_deal *deal)
{
    c->skipped = false;
    memset(c->s1, 0, 3 * (size_t)M * sizeof(double));
    memset(c->default_count, 0, ((size_t)deal->n_loans + 1) * sizeof(uint64_t));
    memset(c->count_by_period, 0, count_law_size(deal) * sizeof(uint64_t));
    memset(c->loss_bucket, 0, sizeof c->loss_bucket);
    c->fast = c->n = c->loss_zero = 0;
    c->nq = 0;
    c->fast_w = c->fast_w2 = 0.0;
    if (c->ww != NULL) {
        memset(c->ww, 0, 5 * (size_t)M * sizeof(double));
        memset(c->wcells, 0, 2 * batch_cells(deal->n_loans, deal->legal_final) * sizeof(double));
    }
}

static ipabs_status run_chunk(const driver *d, thread_ws *t, long long c,
                              ipabs_error *err)
{
    const ipabs_mc_options *opt = d->opt;
    long long first = c * IPABS_MC_CHUNK;
    long long last = first + IPABS_MC_CHUNK < opt->paths ? first + IPABS_MC_CHUNK : opt->paths;
    chunk_reset(t->chunk, d->res->layout.count, d->deal);
    t->chunk->index = c;
    return batch_run_chunk(t->path, t->batch, &d->measure, opt->seed, first,
                           last, t->chunk, err);
}

/* ---- merging -------------------------------------------------------------- */

/* In chunk order (under the ring's lock). */
static void merge_chunk(driver *d, const chunk_acc *c)
{
    ipabs_mc_result *r = d->res;
    const double *base = d->base->values;
    for (int j = 0; j < r->layout.count; j++) {
        bool has_base = !isnan(base[j]);
        double n = c->cnt[j] + (has_base ? (double)c->fast : 0.0);
        if (n == 0.0)
            continue;
        double shift = has_base ? base[j] : 0.0;
        double mean_dev = c->s1[j] / n;
        ipabs_moments m = {n, shift + mean_dev,
                           fmax(0.0, c->s2[j] - c->s1[j] * mean_dev)};
        ipabs_moments_merge(&r->moments[j], &m);
    }
    for (int k = 0; k <= d->deal->n_loans; k++)
        r->default_count[k] += c->default_count[k];
    r->default_count[0] += c->fast;
    size_t law = count_law_size(d->deal);
    for (size_t j = 0; j < law; j++)
        r->default_count_by_period[j] += c->count_by_period[j];
    for (int t = 0; t < r->layout.n_periods; t++)
        r->default_count_by_period[(size_t)t * (r->layout.n_loans + 1)] += c->fast;
    r->loss_zero += c->loss_zero + c->fast;
    for (int b = 0; b < IPABS_LOSS_BUCKETS; b++)
        r->loss_bucket[b] += c->loss_bucket[b];
    r->paths += (long long)c->n;
    r->fast_paths += (long long)c->fast;
}

/* Importance sampling: the weighted quantile trackers, fed here, in chunk
 * order and path order within the chunk (their sums are floating point,
 * so the order is what makes them the same bits for any thread count);
 * the chunk's no-event paths enter at once after its event paths. */
static void feed_weighted_trackers(driver *d, const chunk_acc *c)
{
    ipabs_wquantiles *wq = d->res->wq;
    for (int i = 0; i < c->nq; i++)
        for (int j = 0; j < d->n_trackers; j++) {
            double x = c->qbuf[(size_t)i * d->n_trackers + j];
            if (!isnan(x))
                ipabs_wquantiles_add(&wq[j], x, c->qw[i]);
        }
    for (int j = 0; j < d->n_trackers; j++)
        if (!isnan(d->tracker_base[j]))
            ipabs_wquantiles_add_n(&wq[j], d->tracker_base[j], c->fast, c->fast_w, c->fast_w2);
}

/* Importance sampling: the chunk's weighted sums, as weighted moments
 * about the chunk's own mean, merged in chunk order like the plain ones;
 * the no-event paths are the baseline record with their own weights. */
static void merge_weighted(driver *d, const chunk_acc *c)
{
    ipabs_mc_result *r = d->res;
    const double *base = d->base->values;
    int M = r->layout.count;
    for (int j = 0; j < M; j++) {
        bool has_base = !isnan(base[j]);
        double n = c->cnt[j] + (has_base ? (double)c->fast : 0.0);
        if (n == 0.0)
            continue;
        double w = c->ww[j] + (has_base ? c->fast_w : 0.0);
        double w2 = c->ww[M + j] + (has_base ? c->fast_w2 : 0.0);
        double a = c->ww[2 * M + j], b = c->ww[3 * M + j], q = c->ww[4 * M + j];
        double dev = w > 0.0 ? a / w : 0.0;
        ipabs_wmoments m = {n, w, (has_base ? base[j] : 0.0) + dev, w2,
                            b - dev * w2, fmax(0.0, q - 2.0 * dev * b + dev * dev * w2)};
        ipabs_wmoments_merge(&r->wmoments[j], &m);
    }
    for (size_t k = 0; k < 2 * d->n_cells; k++)
        r->wcells[k] += c->wcells[k];
    int n_loans = r->layout.n_loans, T = r->layout.n_periods;
    size_t fast_cells[2] = {batch_cell_count(n_loans, 0), batch_cell_loss_zero(n_loans, T)};
    for (int k = 0; k < 2; k++) {
        r->wcells[2 * fast_cells[k]] += c->fast_w;
        r->wcells[2 * fast_cells[k] + 1] += c->fast_w2;
    }
    for (int t = 0; t < T; t++) {
        size_t cell = batch_cell_by_period(n_loans, t, 0);
        r->wcells[2 * cell] += c->fast_w;
        r->wcells[2 * cell + 1] += c->fast_w2;
    }
    feed_weighted_trackers(d, c);
    /* Every path's weight: the no-event ones and the event ones (each
     * event path lands in exactly one cell of the default count). */
    r->weight_sum += c->fast_w;
    r->weight_sum2 += c->fast_w2;
    for (int k = 0; k <= n_loans; k++) {
        r->weight_sum += c->wcells[2 * batch_cell_count(n_loans, k)];
        r->weight_sum2 += c->wcells[2 * batch_cell_count(n_loans, k) + 1];
    }
}

/* The same double, to the bit (0.0 and -0.0 differ). */
static bool same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Outside the lock: order does not matter for multisets.  An event path
 * whose value is the tracker's atom (the no-default value: a senior loss
 * of 0, the promised yield) is counted, and the count goes in once with
 * the no-event paths', as ipabs_quantiles_add_n of the atom: the same
 * cells and the same kept tail as adding each copy, at the cost of a
 * compare. */
static void feed_trackers(const driver *d, thread_ws *t, const chunk_acc *c)
{
    /* Under importance sampling the weighted trackers (fed in
     * merge_weighted) are the ones read, and these are left empty. */
    if (d->res->weighted)
        return;
    for (int j = 0; j < d->n_trackers; j++) {
        double atom = d->tracker_base[j];
        bool has_atom = !isnan(atom);
        uint64_t at_atom = has_atom ? c->fast : 0;
        for (int i = 0; i < c->nq; i++) {
            double x = c->qbuf[(size_t)i * d->n_trackers + j];
            if (has_atom && same_bits(x, atom))
                at_atom++;
            else if (!isnan(x))
                ipabs_quantiles_add(&t->q[j], x);
        }
        if (at_atom > 0)
            ipabs_quantiles_add_n(&t->q[j], atom, at_atom);
    }
}

static void record_failure(driver *d, const ipabs_error *e)
{
#ifdef _OPENMP
#pragma omp critical(ipabs_mc_failure)
#endif
    {
        if (!d->failed) {
            d->failed = true;
            d->first_error = *e;
        }
    }
}

/* ---- the merge ring -------------------------------------------------------- */

static void ring_lock(ring *rg)
{
#ifdef _OPENMP
    omp_set_lock(&rg->lock);
#else
    (void)rg;
#endif
}

static void ring_unlock(ring *rg)
{
#ifdef _OPENMP
    omp_unset_lock(&rg->lock);
#else
    (void)rg;
#endif
}

/* Merge every chunk that completes the sequence (lock held).  A skipped
 * chunk breaks it: nothing after it is merged, so the result is always the
 * first chunks of the run, whatever the threads did. */
static void merge_ready(driver *d, ring *rg, thread_ws *t)
{
    for (;;) {
        int k = (int)(rg->next % RING_SLOTS);
        chunk_acc *c = rg->acc[k];
        if (rg->state[k] != SLOT_READY || c->index != rg->next)
            return;
        if (c->skipped || d->broken) {
            d->broken = true;
            for (int j = 0; j < RING_SLOTS; j++)
                if (rg->state[j] == SLOT_READY)
                    rg->state[j] = SLOT_FREE;
            return;
        }
        merge_chunk(d, c);
        if (d->res->weighted)
            merge_weighted(d, c);
        if (d->opt->progress != NULL)
            d->opt->progress(d->opt->progress_ctx, d->res->paths, d->opt->paths);
        rg->state[k] = SLOT_FEEDING;
        t->feed[t->n_feed++] = k;
        rg->next++;
    }
}

static void pause_briefly(void)
{
    struct timespec ts = {0, 20000};
    nanosleep(&ts, NULL);
}

/* Hand the thread's completed chunk to the ring (taking the slot's spare
 * buffer in exchange) and merge what can be merged. */
static void deposit(driver *d, ring *rg, thread_ws *t)
{
    int k = (int)(t->chunk->index % RING_SLOTS);
    for (;;) {
        ring_lock(rg);
        if (d->broken) {
            ring_unlock(rg);
            return; /* a gap: nothing more will be merged */
        }
        /* The slot is this chunk's only once the chunk RING_SLOTS earlier
         * has been merged: a chunk must not take the slot of an earlier
         * one still being computed. */
        if (t->chunk->index < rg->next + RING_SLOTS && rg->state[k] == SLOT_FREE) {
            chunk_acc *spare = rg->acc[k];
            rg->acc[k] = t->chunk;
            t->chunk = spare;
            rg->state[k] = SLOT_READY;
            merge_ready(d, rg, t);
            ring_unlock(rg);
            return;
        }
        ring_unlock(rg);
        pause_briefly(); /* RING_SLOTS chunks ahead of the slowest thread */
    }
}

static void feed_merged(driver *d, ring *rg, thread_ws *t)
{
    for (int i = 0; i < t->n_feed; i++)
        feed_trackers(d, t, rg->acc[t->feed[i]]);
    ring_lock(rg);
    for (int i = 0; i < t->n_feed; i++)
        rg->state[t->feed[i]] = SLOT_FREE;
    ring_unlock(rg);
    t->n_feed = 0;
}

static void chunk_loop(driver *d, ring *rg, thread_ws *ws, long long n_chunks)
{
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
    for (long long c = 0; c < n_chunks; c++) {
#ifdef _OPENMP
        thread_ws *t = &ws[omp_get_thread_num()];
#else
        thread_ws *t = &ws[0];
#endif
        bool stop = d->broken || d->failed || (d->opt->stop != NULL && *d->opt->stop);
        ipabs_error e;
        t->chunk->index = c;
        t->chunk->skipped = stop;
        if (!stop && run_chunk(d, t, c, &e) != IPABS_OK) {
            record_failure(d, &e);
            t->chunk->skipped = true;
        }
        deposit(d, rg, t);
        feed_merged(d, rg, t);
    }
}

/* ---- the run -------------------------------------------------------------- */

/* The weighted trackers over the unweighted ones' ranges and sides. */
static bool wtrackers_init(ipabs_mc_result *r)
{
    r->wq = calloc((size_t)r->n_trackers, sizeof *r->wq);
    bool ok = r->wq != NULL;
    for (int j = 0; ok && j < r->n_trackers; j++)
        ok = ipabs_wquantiles_init(&r->wq[j], r->q[j].lo, r->q[j].hi, r->q[j].upper);
    return ok;
}

static ipabs_mc_result *result_alloc(const ipabs_deal *deal)
{
    ipabs_mc_result *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->layout = ipabs_mc_layout_of(deal);
    r->moments = calloc((size_t)r->layout.count, sizeof *r->moments);
    r->default_count = calloc((size_t)deal->n_loans + 1, sizeof(uint64_t));
    r->default_count_by_period = calloc(count_law_size(deal), sizeof(uint64_t));
    r->baseline = calloc((size_t)r->layout.count, sizeof(double));
    r->n_trackers = tracker_count(deal);
    r->q = calloc((size_t)r->n_trackers, sizeof *r->q);
    if (r->q != NULL && deal->model.importance == IPABS_IMPORTANCE_AUTO) {
        r->weighted = true;
        r->wmoments = calloc((size_t)r->layout.count, sizeof *r->wmoments);
        r->wcells = calloc(2 * batch_cells(deal->n_loans, deal->legal_final), sizeof(double));
        if (r->wmoments == NULL || r->wcells == NULL) {
            ipabs_mc_result_free(r);
            return NULL;
        }
    }
    if (!r->moments || !r->default_count || !r->default_count_by_period || !r->baseline ||
        !r->q || !trackers_init(deal, r->q) || (r->weighted && !wtrackers_init(r))) {
        ipabs_mc_result_free(r);
        return NULL;
    }
    return r;
}

void ipabs_mc_result_free(ipabs_mc_result *r)
{
    if (r == NULL)
        return;
    if (r->q != NULL)
        for (int j = 0; j < r->n_trackers; j++)
            ipabs_quantiles_release(&r->q[j]);
    free(r->q);
    if (r->wq != NULL)
        for (int j = 0; j < r->n_trackers; j++)
            ipabs_wquantiles_release(&r->wq[j]);
    free(r->wq);
    free(r->moments);
    free(r->default_count);
    free(r->default_count_by_period);
    free(r->baseline);
    free(r->wmoments);
    free(r->wcells);
    free(r);
}

/* Importance sampling: the weighted means and errors into moments[], so
 * that every report, lookup and comparison reads them as it reads plain
 * ones (m2 chosen so that ipabs_moments_se gives the weighted error). */
static void publish_weighted(ipabs_mc_result *r)
{
    for (int j = 0; j < r->layout.count; j++) {
        const ipabs_wmoments *w = &r->wmoments[j];
        double se = ipabs_wmoments_se(w);
        r->moments[j] = (ipabs_moments){w->n, w->mean,
                                        isnan(se) ? 0.0 : se * se * w->n * (w->n - 1.0)};
    }
}

void ipabs_mc_prob(const ipabs_mc_result *r, ipabs_mc_law law, size_t cell,
                   double *p, double *se)
{
    int n_loans = r->layout.n_loans, T = r->layout.n_periods;
    if (!r->weighted) {
        uint64_t count = law == IPABS_LAW_DEFAULT_COUNT   ? r->default_count[cell]
                         : law == IPABS_LAW_COUNT_BY_PERIOD ? r->default_count_by_period[cell]
                         : law == IPABS_LAW_LOSS_ZERO       ? r->loss_zero
                                                            : r->loss_bucket[cell];
        double n = (double)r->paths;
        *p = (double)count / n;
        *se = sqrt(*p * (1.0 - *p) / n);
        return;
    }
    size_t c = law == IPABS_LAW_DEFAULT_COUNT ? batch_cell_count(n_loans, (int)cell)
               : law == IPABS_LAW_COUNT_BY_PERIOD
                   ? batch_cell_by_period(n_loans, (int)(cell / (size_t)(n_loans + 1)),
                                          (int)(cell % (size_t)(n_loans + 1)))
               : law == IPABS_LAW_LOSS_ZERO ? batch_cell_loss_zero(n_loans, T)
                                            : batch_cell_bucket(n_loans, T, (int)cell);
    double w = r->weight_sum;
    *p = r->wcells[2 * c] / w;
    double v = r->wcells[2 * c + 1] * (1.0 - 2.0 * *p) + *p * *p * r->weight_sum2;
    *se = sqrt(fmax(0.0, v)) / w * sqrt((double)r->paths / ((double)r->paths - 1.0));
}

double ipabs_mc_variance_reduction(const ipabs_mc_result *r, int measure)
{
    if (measure < 0 || measure >= r->layout.count)
        return NAN;
    const ipabs_moments *m = &r->moments[measure];
    double p = m->mean, se = ipabs_moments_se(m);
    if (!(p > 0.0) || !(se > 0.0))
        return NAN;
    if (!r->weighted)
        return 1.0;
    return p * (1.0 - p) / (m->n * se * se);
}

static int thread_count(const ipabs_mc_options *opt)
{
#ifdef _OPENMP
    return opt->threads > 0 ? opt->threads : omp_get_max_threads();
#else
    (void)opt;
    return 1;
#endif
}

static void combine_trackers(driver *d, thread_ws *ws, int nt)
{
    for (int i = 0; i < nt; i++)
        for (int j = 0; j < d->n_trackers; j++)
            ipabs_quantiles_merge(&d->res->q[j], &ws[i].q[j]);
    for (int j = 0; j < d->n_trackers; j++)
        ipabs_quantiles_seal(&d->res->q[j]);
}

static bool ring_init(ring *rg, const driver *d)
{
    memset(rg, 0, sizeof *rg);
    bool ok = true;
    for (int k = 0; k < RING_SLOTS; k++)
        ok &= (rg->acc[k] = chunk_alloc(d)) != NULL;
#ifdef _OPENMP
    omp_init_lock(&rg->lock);
#endif
    return ok;
}

static void ring_release(ring *rg)
{
    for (int k = 0; k < RING_SLOTS; k++)
        chunk_free(rg->acc[k]);
#ifdef _OPENMP
    omp_destroy_lock(&rg->lock);
#endif
}

static ipabs_status simulate(driver *d, const ipabs_model_plan *plan, int nt,
                             ipabs_error *err)
{
    thread_ws *ws = aligned_alloc(CACHE_LINE, (size_t)nt * sizeof *ws);
    ring rg;
    bool ok = ws != NULL;
    if (ok)
        memset(ws, 0, (size_t)nt * sizeof *ws);
    bool ring_ok = ring_init(&rg, d);
    for (int i = 0; ok && i < nt; i++)
        ok = thread_init(&ws[i], d, plan, err);
    if (ok && ring_ok) {
        long long n_chunks = (d->opt->paths + IPABS_MC_CHUNK - 1) / IPABS_MC_CHUNK;
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
#endif
        chunk_loop(d, &rg, ws, n_chunks);
        combine_trackers(d, ws, nt);
    } else if (ok || ws == NULL) {
        ok = false;
        ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    }
    ring_release(&rg);
    for (int i = 0; ws != NULL && i < nt; i++)
        thread_free(&ws[i], d->n_trackers);
    free(ws);
    if (!ok)
        return err->code;
    if (d->failed) {
        *err = d->first_error;
        return err->code;
    }
    return IPABS_OK;
}

/* ---- the draw kernels by name ------------------------------------------------ */

static const struct {
    int simd;
    const char *name;
} simd_names[] = {{BATCH_SIMD_SCALAR, "scalar"},
                  {BATCH_SIMD_BASE, "base"},
                  {BATCH_SIMD_AVX2, "avx2"},
                  {BATCH_SIMD_AVX512, "avx512"}};

const char *ipabs_mc_simd_name(int simd)
{
    for (size_t i = 0; i < sizeof simd_names / sizeof simd_names[0]; i++)
        if (simd_names[i].simd == simd)
            return simd_names[i].name;
    return NULL;
}

int ipabs_mc_simd_of(const char *name)
{
    if (strcmp(name, "auto") == 0)
        return 0;
    for (size_t i = 0; i < sizeof simd_names / sizeof simd_names[0]; i++)
        if (strcmp(simd_names[i].name, name) == 0)
            return simd_names[i].simd;
    return -1;
}

bool ipabs_mc_simd_supported(int simd)
{
    return simd == 0 || batch_simd_supported(simd);
}

ipabs_status ipabs_mc_run(const ipabs_deal *deal, const ipabs_mc_options *opt,
                          ipabs_mc_result **out, ipabs_error *err)
{
    *out = NULL;
    double t0 = ipabs_mc_seconds();
    ipabs_model_plan *plan = NULL;
    ipabs_status s = ipabs_model_plan_build(deal, &plan, err);
    if (s != IPABS_OK)
        return s;
    driver d = {deal, opt, result_alloc(deal), NULL, tracker_count(deal),
                opt->simd != 0 ? opt->simd : batch_simd_widest(), {0}, NULL,
                0, false, false, {0}};
    if (!batch_simd_supported(d.simd)) {
        ipabs_mc_result_free(d.res);
        ipabs_model_plan_free(plan);
        const char *name = ipabs_mc_simd_name(d.simd);
        if (name == NULL)
            return ipabs_error_set(err, IPABS_EINPUT, NULL, 0, 0, "simd",
                                   "no draw kernel has %d lanes (1 scalar, 4 base, "
                                   "8 avx2, 16 avx512)", d.simd);
        return ipabs_error_set(err, IPABS_EINPUT, NULL, 0, 0, "simd",
                               "this CPU cannot run the %s draw kernel (%d lanes); the "
                               "widest it runs is %s", name, d.simd,
                               ipabs_mc_simd_name(batch_simd_widest()));
    }
    mc_baseline *base = mc_baseline_build(deal, plan, err);
    d.base = base;
    d.tracker_base = calloc((size_t)d.n_trackers, sizeof(double));
    if (base == NULL) {
        s = err->code;
    } else if (d.res == NULL || d.tracker_base == NULL) {
        s = ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    } else {
        batch_tracker_values(&d.res->layout, base->values, d.tracker_base);
        trackers_declare_atoms(d.res->q, d.tracker_base, d.n_trackers);
        for (int j = 0; d.res->wq != NULL && j < d.n_trackers; j++)
            ipabs_wquantiles_set_atom(&d.res->wq[j], d.tracker_base[j]);
        d.measure = (batch_measure_ctx){&d.res->layout, base->values, base->values0,
                                        deal->pool_balance, d.n_trackers,
                                        d.res->weighted};
        d.n_cells = batch_cells(deal->n_loans, deal->legal_final);
        if (plan->importance) {
            d.res->shift_factor = plan->is_mu[0];
            d.res->shift_guarantor = plan->is_mu[plan->is_n - 1];
            d.res->guarantor_mixture = plan->is_alpha;
            double sum = 0.0;
            for (int i = 0; i < plan->n_loans; i++)
                sum += plan->is_mu[plan->n_factors + i];
            d.res->shift_loans = plan->n_loans > 0 ? sum / plan->n_loans : 0.0;
        }
        d.res->threads = thread_count(opt);
        d.res->simd = d.simd;
        d.res->requested = opt->paths;
        d.res->seed = opt->seed;
        memcpy(d.res->baseline, base->values, (size_t)d.res->layout.count * sizeof(double));
        s = simulate(&d, plan, d.res->threads, err);
    }
    free(d.tracker_base);
    mc_baseline_free(base, deal);
    ipabs_model_plan_free(plan);
    if (s != IPABS_OK) {
        ipabs_mc_result_free(d.res);
        return s;
    }
    if (d.res->weighted)
        publish_weighted(d.res);
    d.res->wall_seconds = ipabs_mc_seconds() - t0;
    d.res->partial = d.res->paths < opt->paths;
    *out = d.res;
    if (d.res->partial)
        return ipabs_error_set(err, IPABS_EINTERRUPTED, NULL, 0, 0, NULL,
                               "interrupted after %lld of %lld paths",
                               d.res->paths, opt->paths);
    return IPABS_OK;
}
