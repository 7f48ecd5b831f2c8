/*
 * batch_measures.c — stage 4 of a batch: the records into the chunk's sums.
 *
 * Sums are of deviations from the no-default record, so the no-event paths
 * of the batch contribute exactly zero and are only counted (merge_chunk in
 * montecarlo.c adds them back as the no-default record).  Event paths are
 * added in path order, whatever the thread, so a chunk's sums are the same
 * bits on every run.
 */
#include <math.h>

#include "batch.h"

void batch_tracker_values(const ipabs_mc_layout *L, const double *v, double *out)
{
    int K = L->n_tranches;
    for (int k = 0; k < K; k++) {
        const double *t = &v[L->tranche0 + k * IPABS_TM_COUNT_];
        out[k * IPABS_QT_PER_TRANCHE_ + IPABS_QT_TRANCHE_LOSS] = t[IPABS_TM_LOSS];
        out[k * IPABS_QT_PER_TRANCHE_ + IPABS_QT_TRANCHE_IRR] = t[IPABS_TM_IRR];
        out[k * IPABS_QT_PER_TRANCHE_ + IPABS_QT_TRANCHE_WAL] = t[IPABS_TM_WAL];
    }
    const double *g = &v[L->guarantor0], *p = &v[L->pool0];
    out[K * IPABS_QT_PER_TRANCHE_ + IPABS_QG_PAYOUT] = g[IPABS_GM_PAYOUT];
    out[K * IPABS_QT_PER_TRANCHE_ + IPABS_QG_TOPUP] = g[IPABS_GM_TOPUP];
    out[K * IPABS_QT_PER_TRANCHE_ + IPABS_QG_NET_PNL] = g[IPABS_GM_NET_PNL];
    out[K * IPABS_QT_PER_TRANCHE_ + IPABS_QG_POOL_STATIC_LOSS] = p[IPABS_PM_STATIC_LOSS];
    out[K * IPABS_QT_PER_TRANCHE_ + IPABS_QG_POOL_CREDIT_LOSS] = p[IPABS_PM_CREDIT_LOSS];
    out[K * IPABS_QT_PER_TRANCHE_ + IPABS_QG_POOL_CDR] = v[L->period0 + L->n_periods - 1];
    out[K * IPABS_QT_PER_TRANCHE_ + IPABS_QG_MIN_COVERAGE] = p[IPABS_PM_MIN_COVERAGE];
}

static void add_static_loss(chunk_acc *c, double loss, double pool)
{
    int b = ipabs_grid_bucket(loss, pool, IPABS_LOSS_BUCKETS);
    if (b < 0)
        c->loss_zero++;
    else
        c->loss_bucket[b]++;
}

/* Entries j0 .. j1 - 1 of a record; a NaN entry (undefined on this path)
 * is left out.  Without a branch, so that the loop vectorises: a NaN entry
 * adds +0.0 to the sums and its count, which leaves them the same bits, as
 * they start at +0.0 and a sum that starts at +0.0 is never -0.0 (x + y is
 * -0.0 only for x = y = -0.0), and s + 0.0 = s for every other s.  (The
 * file is built with -fno-trapping-math, CMakeLists.txt: otherwise the
 * selects are not if-converted.)  Cloned for AVX-512 and AVX2 and chosen
 * by the CPU at load time, like the screen's rows: element-wise
 * operations, never fused (-ffp-contract=off), so every clone gives the
 * same bits; the baseline's two-double vectors left the loop bound by its
 * instruction count. */
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void add_values(const batch_measure_ctx *m, const double *v, int j0, int j1,
                       chunk_acc *c)
{
    const double *base0 = m->base0;
    double *restrict s1 = c->s1, *restrict s2 = c->s2, *restrict cnt = c->cnt;
    for (int j = j0; j < j1; j++) {
        bool keep = v[j] == v[j]; /* not NaN */
        double d = v[j] - base0[j];
        double x = keep ? d : 0.0;
        s1[j] += x;
        s2[j] += x * x;
        cnt[j] += keep ? 1.0 : 0.0;
    }
}

/* The loan entries are those of the defaulting loans only (listed by
 * loans[0..n_loans)); the others are zero, as in the no-default record, so
 * they add zero to the sums, and their count is the chunk's number of
 * event paths, set once by batch_measures_loans(). */
static void add_record(const batch_measure_ctx *m, const double *v,
                       const int *loans, int n_loans, chunk_acc *c)
{
    const ipabs_mc_layout *L = m->layout;
    add_values(m, v, 0, L->loan0, c);
    for (int k = 0; k < n_loans; k++)
        for (int j = L->loan0 + 2 * loans[k]; j < L->loan0 + 2 * loans[k] + 2; j++) {
            double x = v[j] - m->base[j];
            c->s1[j] += x;
            c->s2[j] += x * x;
        }
    add_values(m, v, L->period0, L->count, c);
    c->default_count[(int)v[L->pool0 + IPABS_PM_DEFAULTS]]++;
    for (int p = 0; p < L->n_periods; p++)
        c->count_by_period[(size_t)p * (L->n_loans + 1) + (size_t)v[L->defaults0 + p]]++;
    add_static_loss(c, v[L->pool0 + IPABS_PM_STATIC_LOSS], m->pool_balance);
    batch_tracker_values(L, v, &c->qbuf[(size_t)c->nq++ * m->n_trackers]);
}

static void add_cell(chunk_acc *c, size_t cell, double w)
{
    c->wcells[2 * cell] += w;
    c->wcells[2 * cell + 1] += w * w;
}

/* Importance sampling: the weighted sums of one event path (its
 * unweighted counts are kept by add_record as well). */
static void add_weighted_value(const batch_measure_ctx *m, const double *v, int j,
                               double w, chunk_acc *c)
{
    int M = m->layout->count;
    if (isnan(v[j]))
        return;
    double d = v[j] - (isnan(m->base[j]) ? 0.0 : m->base[j]);
    c->ww[j] += w;
    c->ww[M + j] += w * w;
    c->ww[2 * M + j] += w * d;
    c->ww[3 * M + j] += w * w * d;
    c->ww[4 * M + j] += w * w * d * d;
}

/* The loan entries of the record are those of the defaulting loans only
 * (loans[0..n_loans), see add_record); the others equal the no-default
 * record: they add their weight, and nothing to the sums. */
static void add_weighted(const batch_measure_ctx *m, const double *v, const int *loans,
                         int n_loans, double w, chunk_acc *c)
{
    const ipabs_mc_layout *L = m->layout;
    int M = L->count, n = L->n_loans, T = L->n_periods;
    for (int j = 0; j < L->loan0; j++)
        add_weighted_value(m, v, j, w, c);
    for (int j = L->loan0; j < L->period0; j++) {
        c->ww[j] += w;
        c->ww[M + j] += w * w;
    }
    for (int k = 0; k < n_loans; k++)
        for (int j = L->loan0 + 2 * loans[k]; j < L->loan0 + 2 * loans[k] + 2; j++) {
            double d = v[j] - m->base[j];
            c->ww[2 * M + j] += w * d;
            c->ww[3 * M + j] += w * w * d;
            c->ww[4 * M + j] += w * w * d * d;
        }
    for (int j = L->period0; j < M; j++)
        add_weighted_value(m, v, j, w, c);
    add_cell(c, batch_cell_count(n, (int)v[L->pool0 + IPABS_PM_DEFAULTS]), w);
    for (int p = 0; p < T; p++)
        add_cell(c, batch_cell_by_period(n, p, (int)v[L->defaults0 + p]), w);
    int b = ipabs_grid_bucket(v[L->pool0 + IPABS_PM_STATIC_LOSS], m->pool_balance,
                              IPABS_LOSS_BUCKETS);
    add_cell(c, b < 0 ? batch_cell_loss_zero(n, T) : batch_cell_bucket(n, T, b), w);
}

void batch_measures(const batch_measure_ctx *m, const batch_ws *b, int n,
                    chunk_acc *c)
{
    c->n += (uint64_t)n;
    c->fast += (uint64_t)(n - b->n_events);
    for (int e = 0; e < b->n_events; e++)
        add_record(m, &b->records[(size_t)e * b->record_size],
                   &b->pair_loan[b->event_first[e]],
                   b->event_first[e + 1] - b->event_first[e], c);
    if (!m->weighted)
        return;
    for (int e = 0; e < b->n_events; e++) {
        double w = b->weight[b->event_path[e]];
        add_weighted(m, &b->records[(size_t)e * b->record_size],
                     &b->pair_loan[b->event_first[e]],
                     b->event_first[e + 1] - b->event_first[e], w, c);
        c->qw[c->nq - b->n_events + e] = w; /* the row add_record wrote */
    }
    /* The no-event paths in path order: the same sums on every run. */
    for (int p = 0; p < n; p++)
        if (b->n_default[p] + b->g_default[p] == 0) {
            c->fast_w += b->weight[p];
            c->fast_w2 += b->weight[p] * b->weight[p];
        }
}

void batch_measures_loans(const batch_measure_ctx *m, uint64_t events,
                          chunk_acc *c)
{
    const ipabs_mc_layout *L = m->layout;
    for (int j = L->loan0; j < L->period0; j++)
        c->cnt[j] += (double)events;
}
