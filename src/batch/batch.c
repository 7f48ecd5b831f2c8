/*
 * batch.c — a chunk of paths through the stages of batch.h, batch by
 * batch: draw → screen → events → measures.  The batch workspace is sized
 * once from the deal: the normals of a batch fill about 256 KiB, so a large
 * pool takes small batches and memory stays flat in the number of paths.
 */
#include <stdlib.h>

#include "batch.h"
#include "draw_internal.h"

/* Paths per batch: a power of two from BATCH_LANES to BATCH_MAX. */
static int batch_capacity(int n_normals)
{
    int cap = BATCH_MAX;
    while (cap > BATCH_LANES && (size_t)cap * (size_t)n_normals > 32768)
        cap /= 2;
    return cap;
}

void batch_ws_free(batch_ws *b)
{
    if (b == NULL)
        return;
    free(b->w);
    free(b->z);
    free(b->exact);
    free(b->bound);
    free(b->cand_end);
    free(b->cand_path);
    free(b->cand_word);
    free(b->cand_normal);
    free(b->dflt_loan);
    free(b->dflt_path);
    free(b->event_of_path);
    free(b->mix);
    free(b->n_default);
    free(b->g_default);
    free(b->weight);
    free(b->event_path);
    free(b->records);
    free(b->event_first);
    free(b->event_next);
    free(b->pair_loan);
    free(b->pair_period);
    free(b->pair_recovery);
    free(b->gather_path);
    free(b->gather_j);
    free(b->gather_normal);
    free(b->gather_slot);
    batch_yield_jobs *y = &b->yields;
    free(y->cf);
    free(y->price);
    free(y->coupon);
    free(y->guess);
    free(y->event);
    free(y->cls);
    free(y->irr);
    free(y->lane_cf);
    free(b);
}

/* Which rows the draw converts exactly (the rest are screened from a bound)
 * and the bounds' table. */
static void batch_ws_bounds(const ipabs_model_plan *plan, batch_ws *b)
{
    int nf = plan->n_factors;
    for (int j = 0; j < b->n_normals; j++) {
        /* Importance sampling shifts a normal by an addition before the
         * screen and adds it to the likelihood ratio: that needs its value. */
        bool shifted = plan->importance && plan->is_mu[j] != 0.0;
        b->exact[j] = j < nf || shifted;
    }
    /* The guarantor's normal is redrawn by the defensive mixture. */
    if (plan->importance)
        b->exact[nf + plan->n_loans] = true;
    for (uint32_t k = 0; k < (1u << BATCH_BOUND_BITS); k++)
        b->bound[k] = draw_normal(k << BATCH_BOUND_SHIFT);
    for (int k = 0; k < (1 << BATCH_COARSE_BITS); k++)
        b->coarse[k] = b->bound[k << (BATCH_BOUND_BITS - BATCH_COARSE_BITS)];
}

batch_ws *batch_ws_alloc(const ipabs_deal *deal, const ipabs_model_plan *plan,
                         int simd)
{
    batch_ws *b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    b->n_normals = plan->n_factors + plan->n_loans + 1;
    b->cap = batch_capacity(b->n_normals);
    b->simd = simd;
    b->record_size = ipabs_mc_layout_of(deal).count;
    size_t cap = (size_t)b->cap;
    /* Rows rounded up to whole Philox blocks (batch_draw.c). */
    size_t rows = (size_t)(b->n_normals + 3) / 4 * 4;
    b->w = calloc(rows * cap, sizeof(uint32_t));
    b->z = calloc(rows * cap, sizeof(double));
    b->exact = calloc(rows, sizeof(bool));
    b->bound = calloc((size_t)1 << BATCH_BOUND_BITS, sizeof(double));
    /* Candidates: at most every loan and the guarantor of every path,
     * padded to whole groups of lanes for the normals kernel. */
    size_t cands = (size_t)(plan->n_loans + 1) * cap + BATCH_LANES;
    b->cand_end = calloc(rows, sizeof(int));
    b->cand_path = calloc(cands, sizeof(int));
    b->cand_word = calloc(cands, sizeof(uint32_t));
    b->cand_normal = calloc(cands, sizeof(double));
    b->dflt_loan = calloc(cands, sizeof(int));
    b->dflt_path = calloc(cands, sizeof(int));
    b->event_of_path = calloc(cap, sizeof(int));
    b->mix = calloc(cap, sizeof(double));
    b->n_default = calloc(cap, sizeof(int));
    b->g_default = calloc(cap, sizeof(int));
    b->weight = calloc(cap, sizeof(double));
    b->event_path = calloc(cap, sizeof(int));
    b->records = calloc((size_t)b->record_size * cap, sizeof(double));
    b->pair_cap = b->cap * (plan->n_loans > 0 ? plan->n_loans : 1);
    size_t pairs = (size_t)b->pair_cap + BATCH_LANES;
    b->event_first = calloc(cap + 1, sizeof(int));
    b->event_next = calloc(cap, sizeof(int));
    b->pair_loan = calloc(pairs, sizeof(int));
    b->pair_period = calloc(pairs, sizeof(int));
    b->pair_recovery = calloc(pairs, sizeof(double));
    b->gather_path = calloc(pairs, sizeof(uint64_t));
    b->gather_j = calloc(pairs, sizeof(uint32_t));
    b->gather_normal = calloc(pairs, sizeof(double));
    b->gather_slot = calloc(pairs, sizeof(int));
    batch_yield_jobs *y = &b->yields;
    size_t jobs = cap * (size_t)deal->n_tranches, T = (size_t)deal->legal_final;
    y->cap = (int)jobs;
    y->cf = calloc(jobs * T + 1, sizeof(double));
    y->price = calloc(jobs + 1, sizeof(double));
    y->coupon = calloc(jobs + 1, sizeof(double));
    y->guess = calloc(jobs + 1, sizeof(double));
    y->event = calloc(jobs + 1, sizeof(int));
    y->cls = calloc(jobs + 1, sizeof(int));
    y->irr = calloc(jobs + 1, sizeof(double));
    y->lane_cf = calloc(T * BATCH_YIELD_LANES + 1, sizeof(double));
    if (!y->cf || !y->price || !y->coupon || !y->guess || !y->event || !y->cls ||
        !y->irr || !y->lane_cf) {
        batch_ws_free(b);
        return NULL;
    }
    if (!b->w || !b->exact || !b->bound || !b->cand_end || !b->cand_path ||
        !b->cand_word || !b->cand_normal || !b->dflt_loan || !b->dflt_path ||
        !b->event_of_path) {
        batch_ws_free(b);
        return NULL;
    }
    batch_ws_bounds(plan, b);
    if (!b->z || !b->mix || !b->n_default || !b->g_default || !b->weight || !b->event_path ||
        !b->records || !b->event_first || !b->event_next || !b->pair_loan ||
        !b->pair_period ||
        !b->pair_recovery || !b->gather_path || !b->gather_j || !b->gather_normal ||
        !b->gather_slot) {
        batch_ws_free(b);
        return NULL;
    }
    return b;
}

ipabs_status batch_run_chunk(ipabs_mc_path *w, batch_ws *b,
                             const batch_measure_ctx *m, uint64_t seed,
                             long long first, long long last, chunk_acc *c,
                             ipabs_error *err)
{
    uint64_t events = 0;
    for (long long p = first; p < last; p += b->cap) {
        int n = last - p < b->cap ? (int)(last - p) : b->cap;
        batch_draw(w->plan, seed, (uint64_t)p, n, b);
        batch_screen(w->plan, n, b);
        batch_defaults(w->plan, seed, (uint64_t)p, b);
        ipabs_status s = batch_events(w, (uint64_t)p, b, err);
        if (s != IPABS_OK)
            return s;
        batch_measures(m, b, n, c);
        events += (uint64_t)b->n_events;
    }
    batch_measures_loans(m, events, c);
    return IPABS_OK;
}

ipabs_status ipabs_mc_sample_only(const ipabs_deal *deal,
                                  const ipabs_model_plan *plan, uint64_t seed,
                                  long long paths, int simd,
                                  void (*visit)(void *ctx, uint64_t path,
                                                const ipabs_realisation *real),
                                  void *ctx, long long *defaults,
                                  long long *guarantor_defaults,
                                  ipabs_error *err)
{
    simd = simd != 0 ? simd : batch_simd_widest();
    if (!batch_simd_supported(simd))
        return ipabs_error_set(err, IPABS_EINPUT, NULL, 0, 0, "simd",
                               "this CPU has no %d-lane draw kernel", simd);
    batch_ws *b = batch_ws_alloc(deal, plan, simd);
    ipabs_realisation *real = ipabs_realisation_alloc(deal);
    *defaults = *guarantor_defaults = 0;
    for (long long p = 0; b != NULL && real != NULL && p < paths; p += b->cap) {
        int n = paths - p < b->cap ? (int)(paths - p) : b->cap;
        batch_draw(plan, seed, (uint64_t)p, n, b);
        batch_screen(plan, n, b);
        batch_defaults(plan, seed, (uint64_t)p, b);
        for (int e = 0; e < b->n_events; e++) {
            batch_realise(plan, b, e, real);
            *defaults += real->n_defaults;
            *guarantor_defaults += real->guarantor_default_period > 0;
            if (visit != NULL)
                visit(ctx, (uint64_t)p + (uint64_t)b->event_path[e], real);
            batch_unrealise(b, e, real);
        }
    }
    ipabs_status s = b != NULL && real != NULL
        ? IPABS_OK
        : ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL, "out of memory");
    ipabs_realisation_free(real);
    batch_ws_free(b);
    return s;
}
