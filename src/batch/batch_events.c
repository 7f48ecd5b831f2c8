/*
 * batch_events.c — stage 3 of a batch: the paths with an event.
 *
 * For each path the screen flagged: the default period of each loan that
 * defaults (the first threshold its latent variable crosses), the
 * guarantor's, the index of defaults, and the recoveries of the defaulting
 * loans only, each drawn from the path's recovery stream at the loan's own
 * position (draw_internal.h), so that no other loan's outcome moves it.
 * Then the existing waterfall runs from the path's first event
 * (mc_path_evaluate, the one interface with src/waterfall) and the path's
 * record of measures is kept for stage 4.
 */
#include <string.h>

#include "batch.h"
#include "draw_internal.h"
#include "model_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define HAVE_AVX512_PERIOD 1
#endif

/* draw_default_period, its count of earlier thresholds x exceeds taken
 * eight to a compare: an integer, the same as the scalar count. */
#ifdef HAVE_AVX512_PERIOD
__attribute__((target("avx512f")))
static int default_period_avx512(const double *thr, int last, double x)
{
    if (!(x <= thr[last]))
        return 0; /* not a default (the screen lists only defaults) */
    int tau = 1;
    __m512d vx = _mm512_set1_pd(x);
    for (int t = 1; t < last; t += 8) {
        __mmask8 m = last - t >= 8 ? 0xff : (__mmask8)((1u << (last - t)) - 1u);
        __m512d v = _mm512_maskz_loadu_pd(m, &thr[t]);
        tau += __builtin_popcount(_mm512_mask_cmp_pd_mask(m, vx, v, _CMP_GT_OQ));
    }
    return tau;
}
#endif

int batch_default_period(int simd, const double *thr, int last, double x)
{
#ifdef HAVE_AVX512_PERIOD
    if (simd == BATCH_SIMD_AVX512)
        return default_period_avx512(thr, last, x);
#endif
    (void)simd;
    return draw_default_period(thr, last, x);
}

/* Each event path's defaulting loans, by loan index, their periods and
 * their recoveries.  The screen listed the defaults by loan, then path,
 * and counted each path's, which places every path's pairs; the Beta
 * recoveries' normals are drawn together, in SIMD lanes, in that order. */
void batch_defaults(const ipabs_model_plan *plan, uint64_t seed,
                    uint64_t first, batch_ws *b)
{
    int T1 = plan->legal_final + 1, nf = plan->n_factors, cap = b->cap, n = 0;
    int *next = b->event_next, *slot = b->gather_slot;
    for (int e = 0; e < b->n_events; e++) {
        b->event_first[e] = next[e] = n;
        n += b->n_default[b->event_path[e]];
    }
    b->event_first[b->n_events] = n;
    int g = 0;
    for (int d = 0; d < b->n_dflt; d++) {
        int i = b->dflt_loan[d], p = b->dflt_path[d];
        int k = next[b->event_of_path[p]]++;
        b->pair_loan[k] = i;
        const double *thr = &plan->threshold[(size_t)i * T1];
        double x = b->z[(size_t)(nf + i) * cap + p];
        b->pair_period[k] = batch_default_period(b->simd, thr, plan->term[i], x);
        if (plan->beta_table[i] == NULL) {
            b->pair_recovery[k] = plan->recovery_fixed[i];
            continue;
        }
        b->gather_path[g] = first + (uint64_t)p;
        b->gather_j[g] = (uint32_t)i;
        slot[g++] = k;
    }
    batch_draw_gather(b->simd, seed, DRAW_RECOVERY, g, b->gather_path, b->gather_j,
                      b->gather_normal);
    for (int q = 0; q < g; q++) {
        int k = slot[q];
        b->pair_recovery[k] = model_recovery(plan, b->pair_loan[k],
                                             b->z[b->gather_path[q] - first],
                                             b->gather_normal[q]);
    }
}

/* The order of defaults the waterfall reads: by period, then loan index
 * (as ipabs_realisation_index gives it).  The pairs are by loan index, so
 * each pair's place is the count of pairs of earlier periods and of the
 * same period before it: counted without branches for the few defaults of
 * most paths (an insertion sort's shifts, whose number varies from path
 * to path, cost a mispredicted branch each), and by a counting sort on the
 * period beyond (O(defaults + periods), where the ranks are O(defaults²): a
 * path of a 10,000-loan pool has hundreds of defaults). */
#define REALISE_RANK_MAX 8

void batch_realise(const ipabs_model_plan *plan, const batch_ws *b, int e,
                   ipabs_realisation *real)
{
    int lo = b->event_first[e], hi = b->event_first[e + 1], T = plan->legal_final;
    if (hi - lo <= REALISE_RANK_MAX) {
        const int *per = &b->pair_period[lo], *loan = &b->pair_loan[lo];
        for (int k = 0; k < hi - lo; k++) {
            int r = 0;
            for (int j = 0; j < hi - lo; j++)
                r += (per[j] < per[k]) | ((per[j] == per[k]) & (j < k));
            real->order[r] = loan[k];
            real->default_period[loan[k]] = per[k];
            real->realisation[loan[k]] = b->pair_recovery[lo + k];
        }
    } else {
        int *start = real->bucket; /* T + 2 entries */
        for (int t = 0; t <= T + 1; t++)
            start[t] = 0;
        for (int k = lo; k < hi; k++)
            start[b->pair_period[k] + 1]++;
        for (int t = 1; t <= T + 1; t++)
            start[t] += start[t - 1];
        for (int k = lo; k < hi; k++) {
            int i = b->pair_loan[k];
            real->order[start[b->pair_period[k]]++] = i;
            real->default_period[i] = b->pair_period[k];
            real->realisation[i] = b->pair_recovery[k];
        }
    }
    real->n_defaults = hi - lo;
    int p = b->event_path[e];
    double xg = b->z[(size_t)(plan->n_factors + plan->n_loans) * b->cap + p];
    real->guarantor_default_period = plan->guarantor_can_default
        ? draw_default_period(plan->g_threshold, plan->legal_final, xg) : 0;
}

void batch_unrealise(const batch_ws *b, int e, ipabs_realisation *real)
{
    for (int k = b->event_first[e]; k < b->event_first[e + 1]; k++)
        real->default_period[b->pair_loan[k]] = 0;
    real->n_defaults = 0;
    real->guarantor_default_period = 0;
}

/* The record without the loan entries of loans that do not default
 * (zero, as in the no-default record): O(defaults), not O(loans). */
static void batch_keep_record(const ipabs_mc_layout *L, const double *v,
                              batch_ws *b, int e)
{
    double *r = &b->records[(size_t)e * b->record_size];
    memcpy(r, v, (size_t)L->loan0 * sizeof(double));
    memcpy(&r[L->period0], &v[L->period0],
           (size_t)(L->count - L->period0) * sizeof(double));
    for (int k = b->event_first[e]; k < b->event_first[e + 1]; k++) {
        int i = b->pair_loan[k];
        r[L->loan0 + 2 * i] = v[L->loan0 + 2 * i];
        r[L->loan0 + 2 * i + 1] = v[L->loan0 + 2 * i + 1];
    }
}

/* The classes of event e whose yields the path left to solve, as jobs. */
static void queue_yields(const ipabs_mc_path *w, batch_ws *b, int e)
{
    const ipabs_deal *deal = w->deal;
    int T = deal->legal_final;
    batch_yield_jobs *y = &b->yields;
    for (int k = 0; k < deal->n_tranches; k++) {
        if (!w->yield_pending[k])
            continue;
        int j = y->n++;
        memcpy(&y->cf[(size_t)j * T], &w->acc.cf[(size_t)k * T], (size_t)T * sizeof(double));
        y->price[j] = deal->tranches[k].balance;
        y->coupon[j] = deal->tranches[k].coupon;
        y->guess[j] = mc_yield_guess_to_grid(
            deal, w->baseline->values[w->layout.tranche0 + k * IPABS_TM_COUNT_ + IPABS_TM_IRR]);
        y->event[j] = e;
        y->cls[j] = k;
    }
}

/* Stage 3b: the queued yields, solved together, into the records. */
static void solve_yields(const ipabs_mc_path *w, batch_ws *b)
{
    batch_yield_jobs *y = &b->yields;
    batch_yields_solve(y, w->deal->legal_final, w->deal->frequency, y->irr);
    for (int j = 0; j < y->n; j++)
        b->records[(size_t)y->event[j] * b->record_size + w->layout.tranche0 +
                   y->cls[j] * IPABS_TM_COUNT_ + IPABS_TM_IRR] =
            mc_yield_from_grid(w->deal, y->irr[j]);
}

ipabs_status batch_events(ipabs_mc_path *w, uint64_t first,
                          batch_ws *b, ipabs_error *err)
{
    ipabs_status s = IPABS_OK;
    b->yields.n = 0;
    w->defer_yields = true;
    for (int e = 0; e < b->n_events && s == IPABS_OK; e++) {
        uint64_t path = first + (uint64_t)b->event_path[e];
        batch_realise(w->plan, b, e, w->real);
        s = mc_path_evaluate(w, path, err);
        batch_unrealise(b, e, w->real);
        if (s != IPABS_OK)
            break;
        batch_keep_record(&w->layout, w->values, b, e);
        queue_yields(w, b, e);
    }
    w->defer_yields = false;
    if (s == IPABS_OK)
        solve_yields(w, b);
    return s;
}
