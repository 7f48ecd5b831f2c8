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

static void add_record(const batch_measure_ctx *m, const double *v, chunk_acc *c)
{
    const ipabs_mc_layout *L = m->layout;
    for (int j = 0; j < L->count; j++) {
        if (isnan(v[j]))
            continue;
        double x = v[j] - (isnan(m->base[j]) ? 0.0 : m->base[j]);
        c->s1[j] += x;
        c->s2[j] += x * x;
        c->cnt[j] += 1.0;
    }
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
static void add_weighted(const batch_measure_ctx *m, const double *v, double w,
                         chunk_acc *c)
{
    const ipabs_mc_layout *L = m->layout;
    int M = L->count, n = L->n_loans, T = L->n_periods;
    double w2 = w * w;
    for (int j = 0; j < M; j++) {
        if (isnan(v[j]))
            continue;
        double d = v[j] - (isnan(m->base[j]) ? 0.0 : m->base[j]);
        c->ww[j] += w;
        c->ww[M + j] += w2;
        c->ww[2 * M + j] += w * d;
        c->ww[3 * M + j] += w2 * d;
        c->ww[4 * M + j] += w2 * d * d;
    }
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
        add_record(m, &b->records[(size_t)e * b->record_size], c);
    if (!m->weighted)
        return;
    for (int e = 0; e < b->n_events; e++)
        add_weighted(m, &b->records[(size_t)e * b->record_size],
                     b->weight[b->event_path[e]], c);
    /* The no-event paths in path order: the same sums on every run. */
    for (int p = 0; p < n; p++)
        if (!b->event[p]) {
            c->fast_w += b->weight[p];
            c->fast_w2 += b->weight[p] * b->weight[p];
        }
}
