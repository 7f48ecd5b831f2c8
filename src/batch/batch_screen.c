/*
 * batch_screen.c — stage 2 of a batch: latent variables and the screen.
 *
 * Thresholds rise with the period, so a loan defaults at all iff its latent
 * variable is at or below the threshold of its last period: one compare
 * per loan and path, in a loop over the batch without branches.  The
 * period itself is found later, and only for the paths with an event
 * (batch_events.c).  Most paths have none and never leave this stage.
 *
 * The loans' (and, without importance sampling, the guarantor's) normals
 * are not computed first.  X = sqrt(W) (a Z_0 + s Z_s + c e) does not fall
 * as e rises (sqrt(W) > 0, c >= 0; IEEE rounding is monotone), and the
 * normal does not fall as its word rises (tested over every word), so the
 * normal of the first word of the word's bucket, read from a table of
 * 2^BATCH_BOUND_BITS (of 2^BATCH_COARSE_BITS, held in registers, with the
 * AVX-512 kernel: bound_list_avx512), gives a lower bound of X.  Where
 * that bound is above the threshold the loan does not default; the rest,
 * the candidates (the loans that default and the few whose bucket
 * straddles the threshold), get their exact normal, in vector lanes, and
 * the exact compare.  The outcome is the exact screen's, bit for bit;
 * only the latent variables of loans that do not default are left as
 * bounds, and nothing reads them but the compare with the last threshold,
 * which they fail as X would.
 */
#include <math.h>
#include <string.h>

#include "batch.h"
#include "draw_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define HAVE_AVX512_SCREEN 1
#endif

/* One row screened exactly: X into row x from the row's normals in x,
 * defaults counted by path.
 * Cloned for AVX-512 and AVX2 and chosen by the CPU at load time; the
 * operations are element-wise and never fused (-ffp-contract=off), so
 * every clone gives the same bits. */
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void screen_row(int n, double a, double s, double c, double thr,
                       const double *restrict mix, const double *restrict z0,
                       const double *restrict zs, double *restrict x,
                       int *restrict count)
{
    for (int p = 0; p < n; p++) {
        double v = draw_latent(mix[p], a, z0[p], s, zs[p], c, x[p]);
        x[p] = v;
        count[p] += v <= thr;
    }
}

/* One row's lower bounds of X into x, from the words w; flag[p] set where
 * the bound does not clear the threshold. */
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void bound_row(int n, double a, double s, double c, double thr,
                      const double *restrict mix, const double *restrict z0,
                      const double *restrict zs, const uint32_t *restrict w,
                      const double *restrict bound, double *restrict x,
                      unsigned char *restrict flag)
{
    for (int p = 0; p < n; p++) {
        double v = draw_latent(mix[p], a, z0[p], s, zs[p], c,
                                bound[w[p] >> BATCH_BOUND_SHIFT]);
        x[p] = v;
        flag[p] = v <= thr;
    }
}

#ifdef HAVE_AVX512_SCREEN
/* bound_row and the list of its candidates in one pass, for the AVX-512
 * draw kernel, 8 paths a vector.  The bound is first read from b->coarse,
 * 32 entries held in four registers (two vpermt2pd and a blend on the
 * word's top bit), where bound_row gathers from the 1,024 table, and the
 * compare gives the candidates' mask directly (no flag bytes).  The lanes
 * it flags, a fifth more than the fine table's, are bounded again from the
 * 1,024 table one at a time and kept only where that bound does not clear
 * the threshold either: the candidates are bound_row's.  (Kept all, the
 * extra ones cost an exact normal each and a mispredicted branch in
 * resolve_candidates: the draws 2% slower on the reference deal, where
 * the refined list made them 5% faster.)  Both bounds are draw_latent's
 * operations in its order, unfused, so each is at most X.  Lanes from n to
 * the next multiple of 8 (within cap) are computed and stored, their flags
 * dropped.  Returns the number of candidates appended at cand. */
__attribute__((target("avx512f,avx512dq,avx512vl,avx512bw")))
static int bound_list_avx512(int n, double a, double s, double c, double thr,
                             const double *restrict mix, const double *restrict z0,
                             const double *restrict zs, const uint32_t *restrict w,
                             const double *restrict coarse,
                             const double *restrict bound, double *restrict x,
                             int *restrict cand)
{
    const __m512d t0 = _mm512_loadu_pd(&coarse[0]), t1 = _mm512_loadu_pd(&coarse[8]);
    const __m512d t2 = _mm512_loadu_pd(&coarse[16]), t3 = _mm512_loadu_pd(&coarse[24]);
    const __m512d va = _mm512_set1_pd(a), vs = _mm512_set1_pd(s);
    const __m512d vc = _mm512_set1_pd(c), vthr = _mm512_set1_pd(thr);
    int m = 0;
    for (int p0 = 0; p0 < n; p0 += 64) {
        uint64_t mask = 0;
        for (int q = 0; q < 64 && p0 + q < n; q += 8) {
            int p = p0 + q;
            __m256i wv = _mm256_loadu_si256((const __m256i *)&w[p]);
            /* vpermt2pd reads the index's low 4 bits (word bits 27-30);
             * bit 31 picks the upper half of the table. */
            __m512i k = _mm512_cvtepu32_epi64(_mm256_srli_epi32(wv, 32 - BATCH_COARSE_BITS));
            __m512d e = _mm512_mask_blend_pd(_mm256_movepi32_mask(wv),
                                              _mm512_permutex2var_pd(t0, k, t1),
                                              _mm512_permutex2var_pd(t2, k, t3));
            /* mix * ((a z0 + s zs) + c e), as draw_latent. */
            __m512d sum = _mm512_add_pd(_mm512_mul_pd(va, _mm512_loadu_pd(&z0[p])),
                                        _mm512_mul_pd(vs, _mm512_loadu_pd(&zs[p])));
            sum = _mm512_add_pd(sum, _mm512_mul_pd(vc, e));
            __m512d v = _mm512_mul_pd(_mm512_loadu_pd(&mix[p]), sum);
            _mm512_storeu_pd(&x[p], v);
            mask |= (uint64_t)_mm512_cmp_pd_mask(v, vthr, _CMP_LE_OQ) << q;
        }
        if (n - p0 < 64)
            mask &= (1ull << (n - p0)) - 1;
        /* Without a branch: most flagged lanes are kept. */
        for (; mask != 0; mask &= mask - 1) {
            int p = p0 + __builtin_ctzll(mask);
            double v = draw_latent(mix[p], a, z0[p], s, zs[p], c,
                                    bound[w[p] >> BATCH_BOUND_SHIFT]);
            x[p] = v;
            cand[m] = p;
            m += v <= thr;
        }
    }
    return m;
}
#endif

/* The loadings of row j (a loan, or the guarantor at j = nf + n_loans). */
typedef struct row_model {
    double a, s, c, thr;
    int factor;
    int *count;
} row_model;

static inline row_model row_of(const ipabs_model_plan *plan, batch_ws *b, int j)
{
    int nf = plan->n_factors, i = j - nf, T1 = plan->legal_final + 1;
    if (i < plan->n_loans)
        return (row_model){plan->a[i], plan->s[i], plan->c[i],
                           plan->threshold[(size_t)i * T1 + plan->term[i]],
                           plan->factor[i], b->n_default};
    /* The guarantor: no sector; it cannot fail at all when its PD is 0. */
    double thr = plan->guarantor_can_default ? plan->g_threshold[plan->legal_final]
                                             : -INFINITY;
    return (row_model){plan->g_a, 0.0, plan->g_c, thr, 0, b->g_default};
}

/* Row j by its bounds; the paths of its candidates appended to b's list
 * (one store per path, without a branch). */
static void bound_and_list(const row_model *r, int n, int j, unsigned char *flag,
                           batch_ws *b)
{
    int cap = b->cap;
#ifdef HAVE_AVX512_SCREEN
    if (b->simd == BATCH_SIMD_AVX512) {
        b->n_cand += bound_list_avx512(n, r->a, r->s, r->c, r->thr, b->mix, b->z,
                                       &b->z[(size_t)r->factor * cap],
                                       &b->w[(size_t)j * cap], b->coarse, b->bound,
                                       &b->z[(size_t)j * cap], &b->cand_path[b->n_cand]);
        return;
    }
#endif
    bound_row(n, r->a, r->s, r->c, r->thr, b->mix, b->z, &b->z[(size_t)r->factor * cap],
              &b->w[(size_t)j * cap], b->bound, &b->z[(size_t)j * cap], flag);
    /* Eight flags (bytes 0 or 1) become eight bits by one multiply, and
     * only the set bits are visited: a candidate is one loan in twelve. */
    int m = b->n_cand;
    for (int p0 = 0; p0 < n; p0 += 64) {
        uint64_t mask = 0;
        for (int q = 0; q < 64; q += 8) {
            uint64_t bytes;
            memcpy(&bytes, &flag[p0 + q], sizeof bytes);
            mask |= (bytes * 0x0102040810204080ull) >> 56 << q;
        }
        if (n - p0 < 64)
            mask &= (1ull << (n - p0)) - 1;
        for (; mask != 0; mask &= mask - 1)
            b->cand_path[m++] = p0 + __builtin_ctzll(mask);
    }
    b->n_cand = m;
}

/* A loan's default at path p, appended to the list. */
static inline void list_default(batch_ws *b, int loan, int p)
{
    b->dflt_loan[b->n_dflt] = loan;
    b->dflt_path[b->n_dflt++] = p;
}

/* The candidates' exact normals, latent variables and compares, row by
 * row; the loans' defaults listed (by loan, then path). */
static void resolve_candidates(const ipabs_model_plan *plan, int n, batch_ws *b)
{
    int m = b->n_cand, cap = b->cap, nf = plan->n_factors, rows = nf + plan->n_loans + 1;
    for (int j = nf, k = 0; j < rows; j++)
        for (; k < b->cand_end[j]; k++)
            b->cand_word[k] = b->w[(size_t)j * cap + b->cand_path[k]];
    for (int k = m; k % BATCH_LANES != 0; k++)
        b->cand_word[k] = 0; /* the padding's normals are not read */
    batch_draw_normals(b->simd, m, b->cand_word, b->cand_normal);
    b->n_dflt = 0;
    for (int j = nf, k = 0; j < rows; j++) {
        row_model r = row_of(plan, b, j);
        double *x = &b->z[(size_t)j * cap];
        const double *zs = &b->z[(size_t)r.factor * cap];
        bool loan = j < rows - 1;
        if (b->exact[j]) {
            for (int p = 0; loan && p < n; p++)
                if (x[p] <= r.thr)
                    list_default(b, j - nf, p);
            continue;
        }
        for (; k < b->cand_end[j]; k++) {
            int p = b->cand_path[k];
            double v = draw_latent(b->mix[p], r.a, b->z[p], r.s, zs[p], r.c,
                                    b->cand_normal[k]);
            x[p] = v;
            if (v <= r.thr) {
                r.count[p]++;
                if (loan)
                    list_default(b, j - nf, p);
            }
        }
    }
}

void batch_screen(const ipabs_model_plan *plan, int n, batch_ws *b)
{
    int nf = plan->n_factors, cap = b->cap, rows = nf + plan->n_loans + 1;
    /* Whole words of flags are read: the bytes past n stay 0. */
    unsigned char flag[BATCH_MAX] = {0};
    for (int p = 0; p < n; p++)
        b->n_default[p] = b->g_default[p] = 0;
    b->n_cand = 0;
    for (int j = nf; j < rows; j++) {
        row_model r = row_of(plan, b, j);
        if (b->exact[j])
            screen_row(n, r.a, r.s, r.c, r.thr, b->mix, b->z,
                       &b->z[(size_t)r.factor * cap], &b->z[(size_t)j * cap], r.count);
        else
            bound_and_list(&r, n, j, flag, b);
        b->cand_end[j] = b->n_cand;
    }
    resolve_candidates(plan, n, b);
    b->n_events = 0;
    /* Without a branch: half the paths have an event, in no pattern. */
    int e = 0;
    for (int p = 0; p < n; p++) {
        b->event_of_path[p] = e;
        b->event_path[e] = p;
        e += b->n_default[p] + b->g_default[p] > 0;
    }
    b->n_events = e;
}
