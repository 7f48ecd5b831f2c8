/*
 * screen_fused.c — a design prototype, not part of the build (bench/README.md,
 * "Targets out of reach", the 10,000-loan tape; issue 11): does the draw +
 * screen of a large pool cost what it does because of its arithmetic, or
 * because of its design (every row's words stored, then every row's bounds,
 * in batches that must stay in cache and so hold 16 paths at 10,000 loans)?
 *
 *   (a) the engine: batch_ws_alloc, then batch by batch batch_draw +
 *       batch_screen (the batch's capacity as the engine sizes it, or forced
 *       by hand with --cap to separate "small batch" from "stored rows");
 *   (b) fused: batches of many paths (256 or 512); the factor normals drawn
 *       exactly (the same Philox words, the engine's batch_draw_normals);
 *       then, one Philox block (4 consecutive rows) at a time, for 16 paths
 *       at once in AVX-512 lanes (two vectors of 8 64-bit lanes): the ten
 *       rounds, the lower bound of each row's latent from the same bucket
 *       table (gathered), the compare with the row's last threshold, and
 *       only the candidates kept (row, path, word) by compress; then the
 *       candidates' exact normals (batch_draw_normals) and the exact latent
 *       (draw_latent, the engine's operation order) and compare.  Nothing
 *       is stored per (row, path) except the candidates.
 * Variants of (b), each checked: the candidates leave the lanes by
 * vpcompressq ("cmp") or as a 64-bit mask of a block's 4 rows x 16 paths
 * whose set bits are visited ("bits"); the bound from the engine's 1,024
 * table by a gather ("t1024") or from its every 32nd / 64th entry held in
 * registers ("t32", "t16": coarser, so more candidates), or t32 in the
 * lanes then the 1,024 table for each flagged lane ("t32+refine": the
 * engine's candidates).  The parts: Philox alone, Philox + bound + compare
 * (no candidates kept), and within the full run the time of the factor
 * normals, the screen and the resolve (timer per batch, last round).
 * It checks (b) against (a) path by path: the sorted list of defaulting
 * loans, each default's exact latent X to the bit, the guarantor's flag
 * (and its X when it fails).  Then it times (a), (b) and (b)'s parts in
 * alternating rounds on one thread (medians).
 *
 * Measured 2026-12-01 (2 shared cores, 7 alternating rounds, medians; the
 * quietest of four runs at 10,000 loans, per path, loans + guarantor):
 *   10,000 loans: engine (batch 16) 39.6 us; engine forced to 64 / 128 /
 *   512 paths 22.4 / 20.0 / 24.8 us; fused 512 with the engine's table
 *   17.8 us (by compress 19.1), with the 32-entry table 13.4 us (2.96x the
 *   engine, 1.49x its best batch).  Fused parts: Philox 2.4 us (0.24 ns per
 *   row and path), + bound and compare 6.9 us (gather) or 4.5 us (t32),
 *   resolve (870 candidates a path, nearly all defaults) 5.6 us.
 *   1,000 / 100 / 10 loans: fused with the engine's table 0.97-1.03x the
 *   engine at batch >= 256 (1,000 loans: forced to 512; 1.68x its own 32);
 *   the 32-entry table 1.29-1.35x.
 * Under load the engine's large batches slowed more than the fused runs.
 *
 * Supported: the Gaussian copula without sectors and without importance
 * sampling (mix = 1); anything else is refused.
 *
 * Build (from the repository root, after building build-rel's libipabs.a;
 * needs AVX-512F/DQ/VL at run time):
 *   gcc -std=c17 -O3 -march=x86-64-v4 -Wall -Wextra -Iinclude -Isrc/model -Isrc/path -Isrc/batch bench/prototypes/screen_fused.c build-rel/libipabs.a -lgsl -lgslcblas -lfyaml -lcsv -lm -fopenmp -o /tmp/screen_fused
 * Run:
 *   nice /tmp/screen_fused SCENARIO [SECONDS [ROUNDS [CHECK_PATHS [CAPS]]]]
 * (SECONDS per measurement of (a), default 1, 0 for the check alone; ROUNDS
 * default 5; CHECK_PATHS default 2^24 / rows, at least 4096; CAPS the
 * engine's batch forced by hand, a comma list of multiples of 16 up to 512,
 * default 128,512.)  -std=c17 keeps GCC from contracting
 * multiplies and adds into FMAs, which the bit-for-bit check relies on.
 */
#define _POSIX_C_SOURCE 200809L
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipabs/model.h"
#include "ipabs/montecarlo.h"
#include "ipabs/scenario.h"
#include "batch.h"
#include "draw_internal.h"

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (p == NULL) {
        fputs("screen_fused: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

static void *xrealloc(void *p, size_t size)
{
    p = realloc(p, size);
    if (p == NULL) {
        fputs("screen_fused: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

/* ---- the check's record: (path, loan, X) of every default ------------------- */

typedef struct triple {
    uint64_t path;
    int loan;      /* n_loans for the guarantor */
    double x;
} triple;

typedef struct record {
    triple *t;
    size_t n, cap;
    unsigned char *g;  /* guarantor flag by path */
} record;

static void rec_add(record *r, uint64_t path, int loan, double x)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 4096;
        r->t = xrealloc(r->t, r->cap * sizeof *r->t);
    }
    r->t[r->n++] = (triple){path, loan, x};
}

static int triple_cmp(const void *va, const void *vb)
{
    const triple *a = va, *b = vb;
    if (a->path != b->path)
        return a->path < b->path ? -1 : 1;
    return (a->loan > b->loan) - (a->loan < b->loan);
}

/* ---- (a) the engine ------------------------------------------------------------ */

/* The batch's capacity forced to cap (<= BATCH_MAX: batch_screen's flags),
 * reallocating what batch_draw and batch_screen touch. */
static void ws_force_cap(batch_ws *b, const ipabs_model_plan *plan, int cap)
{
    size_t c = (size_t)cap, rows = (size_t)(b->n_normals + 3) / 4 * 4;
    size_t cands = (size_t)(plan->n_loans + 1) * c + BATCH_LANES;
    b->cap = cap;
#define RE(f, n) do { free(b->f); b->f = xcalloc((n), sizeof *b->f); } while (0)
    RE(w, rows * c);
    RE(z, rows * c);
    RE(cand_path, cands);
    RE(cand_word, cands);
    RE(cand_normal, cands);
    RE(dflt_loan, cands);
    RE(dflt_path, cands);
    RE(event_of_path, c);
    RE(mix, c);
    RE(n_default, c);
    RE(g_default, c);
    RE(weight, c);
    RE(event_path, c);
#undef RE
}

static uint64_t g_sink;

/* Paths first .. first + n - 1 by the engine; the defaults into rec if not
 * NULL. */
static void engine_run(const ipabs_model_plan *plan, batch_ws *b, uint64_t seed,
                       uint64_t first, long long n, record *rec)
{
    int nf = plan->n_factors, L = plan->n_loans;
    uint64_t sink = 0;
    for (long long done = 0; done < n;) {
        int m = n - done < b->cap ? (int)(n - done) : b->cap;
        uint64_t f = first + (uint64_t)done;
        batch_draw(plan, seed, f, m, b);
        batch_screen(plan, m, b);
        sink += (uint64_t)b->n_dflt + (uint64_t)b->n_events;
        if (rec != NULL) {
            for (int k = 0; k < b->n_dflt; k++) {
                int i = b->dflt_loan[k], p = b->dflt_path[k];
                rec_add(rec, f + (uint64_t)p, i, b->z[(size_t)(nf + i) * b->cap + p]);
            }
            for (int p = 0; p < m; p++) {
                rec->g[f + (uint64_t)p - 0] = (unsigned char)b->g_default[p];
                if (b->g_default[p])
                    rec_add(rec, f + (uint64_t)p, L, b->z[(size_t)(nf + L) * b->cap + p]);
            }
        }
        done += m;
    }
    g_sink += sink;
}

/* ---- (b) fused ------------------------------------------------------------------- */

typedef struct fused {
    int P;                   /* paths per batch, a multiple of 16, <= 512 */
    int nf, L, rows, rows4;  /* factors, loans, nf + L + 1, rounded to 4 */
    int simd;
    double *a, *s, *c, *thr; /* by row j; thr -inf where no screen (factors, padding) */
    double *bound;           /* the engine's table */
    uint32_t *fw;            /* nf x P: the factor rows' words */
    double *z0;              /* nf x P: the factor normals (row 0: Z_0) */
    double *mix;             /* P ones */
    /* candidates */
    size_t n_cand, cand_cap;
    uint32_t *cand_word, *cand_id;  /* id = j * 512 + p */
    double *cand_normal;
    /* out */
    int n_dflt;
    int *dflt_loan, *dflt_path;
    double *dflt_x;
    int *n_default, *g_default;
    double gx[512];          /* the guarantor's X where it fails */
    /* parts */
    double t_factor, t_screen, t_resolve;
    double cand_total;       /* candidates of the check's run */
} fused;

static fused *fused_alloc(const ipabs_model_plan *plan, int P)
{
    fused *F = xcalloc(1, sizeof *F);
    F->P = P;
    F->nf = plan->n_factors;
    F->L = plan->n_loans;
    F->rows = F->nf + F->L + 1;
    F->rows4 = (F->rows + 3) / 4 * 4;
    F->simd = batch_simd_widest();
    F->a = xcalloc((size_t)F->rows4, sizeof(double));
    F->s = xcalloc((size_t)F->rows4, sizeof(double));
    F->c = xcalloc((size_t)F->rows4, sizeof(double));
    F->thr = xcalloc((size_t)F->rows4, sizeof(double));
    int T1 = plan->legal_final + 1;
    for (int j = 0; j < F->rows4; j++) {
        int i = j - F->nf;
        F->thr[j] = -INFINITY;
        if (i >= 0 && i < F->L) {
            F->a[j] = plan->a[i];
            F->s[j] = plan->s[i];
            F->c[j] = plan->c[i];
            F->thr[j] = plan->threshold[(size_t)i * T1 + plan->term[i]];
        } else if (i == F->L) {
            F->a[j] = plan->g_a;
            F->s[j] = 0.0;
            F->c[j] = plan->g_c;
            F->thr[j] = plan->guarantor_can_default ? plan->g_threshold[plan->legal_final]
                                                    : -INFINITY;
        }
    }
    F->bound = xcalloc((size_t)1 << BATCH_BOUND_BITS, sizeof(double));
    for (uint32_t k = 0; k < (1u << BATCH_BOUND_BITS); k++)
        F->bound[k] = draw_normal(k << BATCH_BOUND_SHIFT);
    F->fw = xcalloc((size_t)F->nf * P + 16, sizeof(uint32_t));
    F->z0 = xcalloc((size_t)F->nf * P + 16, sizeof(double));
    F->mix = xcalloc((size_t)P, sizeof(double));
    for (int p = 0; p < P; p++)
        F->mix[p] = 1.0;
    F->cand_cap = (size_t)64 * P + 64;
    F->cand_word = xcalloc(F->cand_cap, sizeof(uint32_t));
    F->cand_id = xcalloc(F->cand_cap, sizeof(uint32_t));
    F->cand_normal = xcalloc(F->cand_cap, sizeof(double));
    F->dflt_loan = xcalloc(F->cand_cap, sizeof(int));
    F->dflt_path = xcalloc(F->cand_cap, sizeof(int));
    F->dflt_x = xcalloc(F->cand_cap, sizeof(double));
    F->n_default = xcalloc((size_t)P, sizeof(int));
    F->g_default = xcalloc((size_t)P, sizeof(int));
    return F;
}

static void fused_grow(fused *F, size_t need)
{
    if (need <= F->cand_cap)
        return;
    size_t cap = F->cand_cap;
    while (cap < need)
        cap *= 2;
    F->cand_cap = cap;
    F->cand_word = xrealloc(F->cand_word, cap * sizeof(uint32_t));
    F->cand_id = xrealloc(F->cand_id, cap * sizeof(uint32_t));
    F->cand_normal = xrealloc(F->cand_normal, cap * sizeof(double));
    F->dflt_loan = xrealloc(F->dflt_loan, cap * sizeof(int));
    F->dflt_path = xrealloc(F->dflt_path, cap * sizeof(int));
    F->dflt_x = xrealloc(F->dflt_x, cap * sizeof(double));
}

typedef __m512i V;

/* Philox4x32-10 of counters (lo, hi, block, kind) for 16 paths, as two
 * vectors of 8 64-bit lanes each (words in the low halves; the high halves
 * are ignored: vpmuludq reads only the low 32 bits, and the words are
 * taken from the low halves at the end). */
static inline __attribute__((always_inline)) void
philox16(V out[4][2], const V lo[2], const V hi[2], uint32_t block, uint64_t seed)
{
    const V M0 = _mm512_set1_epi64(PHILOX_M0), M1 = _mm512_set1_epi64(PHILOX_M1);
    V c0[2], c1[2], c2[2], c3[2];
    for (int h = 0; h < 2; h++) {
        c0[h] = lo[h];
        c1[h] = hi[h];
        c2[h] = _mm512_set1_epi64(block);
        c3[h] = _mm512_set1_epi64(DRAW_LATENT);
    }
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int round = 0; round < 10; round++) {
        V K0 = _mm512_set1_epi64(k0), K1 = _mm512_set1_epi64(k1);
        for (int h = 0; h < 2; h++) {
            V p0 = _mm512_mul_epu32(c0[h], M0);
            V p1 = _mm512_mul_epu32(c2[h], M1);
            c0[h] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p1, 32), c1[h], K0, 0x96);
            c2[h] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p0, 32), c3[h], K1, 0x96);
            c1[h] = p1;
            c3[h] = p0;
        }
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    for (int h = 0; h < 2; h++) {
        out[0][h] = c0[h];
        out[1][h] = c1[h];
        out[2][h] = c2[h];
        out[3][h] = c3[h];
    }
}

/* The counters' path words of paths first + p0 .. + 15. */
static inline __attribute__((always_inline)) void path_lanes(V lo[2], V hi[2], uint64_t path0)
{
    const V iota = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    for (int h = 0; h < 2; h++) {
        V p = _mm512_add_epi64(_mm512_set1_epi64((long long)(path0 + 8u * (unsigned)h)), iota);
        lo[h] = p;                        /* low half read only */
        hi[h] = _mm512_srli_epi64(p, 32);
    }
}

enum { MODE_FULL, MODE_PHILOX, MODE_BOUND };
/* How the candidates leave the lanes: compressed (vpcompressq of words and
 * ids, 8 slots stored, popcount kept: no branch), or by bits (the 64 flags
 * of a block's 4 rows x 16 paths in one word, the words stored as they are,
 * and only the set bits visited, as the engine's bound_and_list does). */
enum { EXT_COMPRESS, EXT_BITS, EXT_REFINE };

/* The bound e of the bucket of the words w (low 32 bits of each lane) from
 * a table of 2^tbits entries: the engine's 1024 by a gather, or 32 / 16
 * entries held in registers (T[0..3]) and read by vpermt2pd.  Every table
 * holds the normal of its buckets' first words, so each is a lower bound
 * (the coarser, the more candidates). */
static inline __attribute__((always_inline)) __m512d
bound_of(V w, int tbits, const double *table, const __m512d T[4])
{
    V idx = _mm512_and_si512(_mm512_srli_epi64(w, 32 - tbits),
                             _mm512_set1_epi64((1 << tbits) - 1));
    if (tbits == 10)
        return _mm512_i64gather_pd(idx, table, 8);
    if (tbits == 4)
        return _mm512_permutex2var_pd(T[0], idx, T[1]);
    __m512d lo = _mm512_permutex2var_pd(T[0], idx, T[1]);
    __m512d hi = _mm512_permutex2var_pd(T[2], idx, T[3]);
    return _mm512_mask_blend_pd(_mm512_test_epi64_mask(idx, _mm512_set1_epi64(16)), lo, hi);
}

/* The screen of rows nf .. rows - 1 for the batch's P paths (path0 first):
 * MODE_FULL keeps the candidates; MODE_PHILOX only the words (xor-summed);
 * MODE_BOUND the words, bounds and compares (candidates counted, not kept). */
static inline __attribute__((always_inline)) void
fused_screen(fused *F, uint64_t seed, uint64_t path0, int mode, int tbits, int ext)
{
    int P = F->P;
    V acc = _mm512_setzero_si512();
    uint64_t count = 0;
    size_t m = 0;
    int b0 = F->nf / 4, b1 = F->rows4 / 4;
    __m512d T[4];
    for (int q = 0; q < 4; q++) {
        double t8[8];
        for (int l = 0; l < 8; l++) {
            int k = (8 * q + l) % (1 << (tbits < 5 ? tbits : 5));
            t8[l] = F->bound[k << (BATCH_BOUND_BITS - (tbits < 5 ? tbits : 5))];
        }
        T[q] = _mm512_loadu_pd(t8);
    }
    for (int blk = b0; blk < b1; blk++) {
        if (mode == MODE_FULL)
            fused_grow(F, m + (size_t)4 * P + 16);
        uint32_t *restrict cw = F->cand_word;
        uint32_t *restrict ci = F->cand_id;
        int j0 = 4 * blk;
        __m512d A[4], C[4], TH[4];
        for (int k = 0; k < 4; k++) {
            A[k] = _mm512_set1_pd(F->a[j0 + k]);
            C[k] = _mm512_set1_pd(F->c[j0 + k]);
            TH[k] = _mm512_set1_pd(F->thr[j0 + k]);
        }
        for (int p0 = 0; p0 < P; p0 += 16) {
            V lo[2], hi[2], w[4][2];
            path_lanes(lo, hi, path0 + (uint64_t)p0);
            philox16(w, lo, hi, (uint32_t)blk, seed);
            if (mode == MODE_PHILOX) {
                for (int h = 0; h < 2; h++)
                    acc = _mm512_xor_si512(acc, _mm512_ternarylogic_epi64(
                                                     _mm512_xor_si512(w[0][h], w[1][h]),
                                                     w[2][h], w[3][h], 0x96));
                continue;
            }
            uint64_t bits = 0;
            uint64_t tmp[64];
            for (int h = 0; h < 2; h++) {
                int p = p0 + 8 * h;
                __m512d z = _mm512_loadu_pd(&F->z0[p]);
                V id = _mm512_add_epi64(_mm512_set1_epi64((long long)j0 * 512 + p),
                                        _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0));
                for (int k = 0; k < 4; k++) {
                    __m512d e = bound_of(w[k][h], tbits, F->bound, T);
                    /* a z0 + c e (s = 0 without sectors; mix = 1). */
                    __m512d x = _mm512_add_pd(_mm512_mul_pd(A[k], z), _mm512_mul_pd(C[k], e));
                    __mmask8 f = _mm512_cmp_pd_mask(x, TH[k], _CMP_LE_OQ);
                    if (mode == MODE_BOUND) {
                        count += (uint64_t)__builtin_popcount(f);
                        continue;
                    }
                    if (ext != EXT_COMPRESS) {
                        bits |= (uint64_t)f << (16 * k + 8 * h);
                        _mm512_storeu_si512(&tmp[16 * k + 8 * h], w[k][h]);
                        continue;
                    }
                    /* Without a branch: compressed words and ids, 8 slots
                     * written, popcount(f) kept. */
                    V cwv = _mm512_maskz_compress_epi64(f, w[k][h]);
                    V civ = _mm512_maskz_compress_epi64(f, id);
                    _mm256_storeu_si256((__m256i *)&cw[m], _mm512_cvtepi64_epi32(cwv));
                    _mm256_storeu_si256((__m256i *)&ci[m], _mm512_cvtepi64_epi32(civ));
                    m += (size_t)__builtin_popcount(f);
                    id = _mm512_add_epi64(id, _mm512_set1_epi64(512));
                }
            }
            if (mode == MODE_FULL && ext != EXT_COMPRESS) {
                /* Eight set bits without a branch (a block's 64 flags hold
                 * about 6), then a loop for the rest.  EXT_REFINE: the
                 * flags are a coarse table's, and each is checked again
                 * against the engine's 1,024-entry table before it is kept
                 * (one load, two multiplies, an add and a compare). */
                const double *zr = &F->z0[p0];
#define TAKE()                                                                     \
    do {                                                                           \
        int t_ = __builtin_ctzll(bits | (1ull << 63)) & 63;                        \
        uint32_t w_ = (uint32_t)tmp[t_];                                           \
        int jk_ = j0 + (t_ >> 4);                                                  \
        cw[m] = w_;                                                                \
        ci[m] = (uint32_t)(jk_ * 512 + p0 + (t_ & 15));                            \
        int keep_ = bits != 0;                                                     \
        if (ext == EXT_REFINE)                                                     \
            keep_ &= F->a[jk_] * zr[t_ & 15] +                                     \
                         F->c[jk_] * F->bound[w_ >> BATCH_BOUND_SHIFT] <=          \
                     F->thr[jk_];                                                  \
        m += (size_t)keep_;                                                        \
        bits &= bits - 1;                                                          \
    } while (0)
                TAKE(); TAKE(); TAKE(); TAKE(); TAKE(); TAKE(); TAKE(); TAKE();
                while (bits != 0)
                    TAKE();
#undef TAKE
            }
        }
    }
    if (mode == MODE_PHILOX) {
        uint64_t t[8];
        _mm512_storeu_si512(t, acc);
        for (int l = 0; l < 8; l++)
            g_sink += t[l];
    }
    if (mode == MODE_BOUND)
        g_sink += count;
    F->n_cand = m;
}

/* The variants timed: (mode, table bits, extraction). */
typedef struct variant {
    int mode, tbits, ext;
} variant;

static void screen_variant(fused *F, uint64_t seed, uint64_t f, variant v)
{
#define CASE(M, TB, E) \
    if (v.mode == M && v.tbits == TB && v.ext == E) { fused_screen(F, seed, f, M, TB, E); return; }
    CASE(MODE_FULL, 10, EXT_COMPRESS)
    CASE(MODE_FULL, 10, EXT_BITS)
    CASE(MODE_FULL, 5, EXT_BITS)
    CASE(MODE_FULL, 4, EXT_BITS)
    CASE(MODE_FULL, 5, EXT_REFINE)
    CASE(MODE_PHILOX, 10, EXT_BITS)
    CASE(MODE_BOUND, 10, EXT_BITS)
    CASE(MODE_BOUND, 5, EXT_BITS)
    CASE(MODE_BOUND, 4, EXT_BITS)
#undef CASE
    fputs("screen_fused: no such variant\n", stderr);
    exit(1);
}

/* The factor rows' words and exact normals (the engine's kernel). */
static void fused_factors(fused *F, uint64_t seed, uint64_t path0)
{
    int P = F->P;
    for (int blk = 0; blk < (F->nf + 3) / 4; blk++)
        for (int p0 = 0; p0 < P; p0 += 16) {
            V lo[2], hi[2], w[4][2];
            path_lanes(lo, hi, path0 + (uint64_t)p0);
            philox16(w, lo, hi, (uint32_t)blk, seed);
            for (int k = 0; k < 4 && 4 * blk + k < F->nf; k++)
                for (int h = 0; h < 2; h++)
                    _mm256_storeu_si256((__m256i *)&F->fw[(size_t)(4 * blk + k) * P + p0 + 8 * h],
                                        _mm512_cvtepi64_epi32(w[k][h]));
        }
    batch_draw_normals(F->simd, F->nf * P, F->fw, F->z0);
}

/* The candidates' exact normals, latents and compares. */
static void fused_resolve(fused *F)
{
    size_t m = F->n_cand;
    for (size_t k = m; k % BATCH_LANES != 0; k++)
        F->cand_word[k] = 0;
    batch_draw_normals(F->simd, (int)m, F->cand_word, F->cand_normal);
    int P = F->P, nf = F->nf, gj = nf + F->L;
    for (int p = 0; p < P; p++)
        F->n_default[p] = F->g_default[p] = 0;
    int nd = 0;
    for (size_t k = 0; k < m; k++) {
        uint32_t id = F->cand_id[k];
        int j = (int)(id >> 9), p = (int)(id & 511);
        /* zs = Z_0 without sectors (factor 0), as the engine reads it. */
        double x = draw_latent(F->mix[p], F->a[j], F->z0[p], F->s[j], F->z0[p], F->c[j],
                                F->cand_normal[k]);
        /* Without a branch: most candidates default, not all. */
        int d = x <= F->thr[j], g = j == gj, dl = d & !g;
        F->g_default[p] += d & g;
        F->gx[p] = (d & g) ? x : F->gx[p];
        F->n_default[p] += dl;
        F->dflt_loan[nd] = j - nf;
        F->dflt_path[nd] = p;
        F->dflt_x[nd] = x;
        nd += dl;
    }
    F->n_dflt = nd;
}

static void fused_run(fused *F, uint64_t seed, uint64_t first, long long n, variant v,
                      record *rec, bool parts)
{
    uint64_t sink = 0;
    for (long long done = 0; done < n; done += F->P) {
        uint64_t f = first + (uint64_t)done;
        double t0 = parts ? ipabs_mc_seconds() : 0.0;
        fused_factors(F, seed, f);
        double t1 = parts ? ipabs_mc_seconds() : 0.0;
        screen_variant(F, seed, f, v);
        if (v.mode != MODE_FULL)
            continue;
        double t2 = parts ? ipabs_mc_seconds() : 0.0;
        fused_resolve(F);
        if (parts) {
            double t3 = ipabs_mc_seconds();
            F->t_factor += t1 - t0;
            F->t_screen += t2 - t1;
            F->t_resolve += t3 - t2;
        }
        sink += (uint64_t)F->n_dflt;
        if (rec != NULL) {
            F->cand_total += (double)F->n_cand;
            int m = n - done < F->P ? (int)(n - done) : F->P;
            for (int k = 0; k < F->n_dflt; k++)
                if (F->dflt_path[k] < m)
                    rec_add(rec, f + (uint64_t)F->dflt_path[k], F->dflt_loan[k], F->dflt_x[k]);
            for (int p = 0; p < m; p++) {
                rec->g[f + (uint64_t)p] = (unsigned char)F->g_default[p];
                if (F->g_default[p])
                    rec_add(rec, f + (uint64_t)p, F->L, F->gx[p]);
            }
        }
    }
    g_sink += sink;
}

/* ---- the check ----------------------------------------------------------------- */

static long long check(const char *what, record *ra, record *rb, long long n)
{
    qsort(ra->t, ra->n, sizeof *ra->t, triple_cmp);
    qsort(rb->t, rb->n, sizeof *rb->t, triple_cmp);
    long long bad = 0;
    for (long long p = 0; p < n; p++)
        bad += ra->g[p] != rb->g[p];
    size_t k = 0;
    for (; k < ra->n && k < rb->n; k++) {
        const triple *a = &ra->t[k], *b = &rb->t[k];
        uint64_t xa, xb;
        memcpy(&xa, &a->x, 8);
        memcpy(&xb, &b->x, 8);
        if (a->path != b->path || a->loan != b->loan || xa != xb) {
            if (bad < 5)
                fprintf(stderr, "  %s mismatch at %zu: (%llu, %d, %.17g) vs (%llu, %d, %.17g)\n",
                        what, k, (unsigned long long)a->path, a->loan, a->x,
                        (unsigned long long)b->path, b->loan, b->x);
            bad++;
        }
    }
    bad += (long long)(ra->n > rb->n ? ra->n - rb->n : rb->n - ra->n);
    long long g = 0;
    for (long long p = 0; p < n; p++)
        g += ra->g[p];
    printf("check %-10s paths %lld, defaults compared %zu (loans %zu, guarantor %lld), "
           "mismatches %lld\n", what, n, ra->n, ra->n - (size_t)g, g, bad);
    return bad;
}

/* ---- timing ------------------------------------------------------------------- */

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, dcmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#define MAXR 32

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs("usage: screen_fused SCENARIO [SECONDS [ROUNDS [CHECK_PATHS [CAPS]]]]\n", stderr);
        return 2;
    }
    double seconds = argc > 2 ? atof(argv[2]) : 1.0;
    int rounds = argc > 3 ? atoi(argv[3]) : 5;
    if (rounds < 1 || rounds > MAXR)
        rounds = 5;
    ipabs_init();
    ipabs_deal *deal = NULL;
    ipabs_errors errors = {0};
    if (ipabs_scenario_load(argv[1], NULL, 0, &deal, &errors) != IPABS_OK) {
        for (size_t i = 0; i < errors.count; i++)
            ipabs_error_print(stderr, &errors.items[i]);
        return 2;
    }
    ipabs_errors_clear(&errors);
    ipabs_model_plan *plan = NULL;
    ipabs_error err;
    if (ipabs_model_plan_build(deal, &plan, &err) != IPABS_OK) {
        fprintf(stderr, "screen_fused: %s\n", err.message);
        return 1;
    }
    if (plan->copula != &ipabs_copula_gaussian || plan->importance || plan->n_factors != 1) {
        fprintf(stderr, "screen_fused: %s: only the Gaussian one-factor model without sectors "
                "and without importance sampling is implemented (copula %s, factors %d, "
                "importance %s)\n", argv[1], plan->copula->name, plan->n_factors,
                plan->importance ? "on" : "off");
        return 1;
    }
    if (batch_simd_widest() != BATCH_SIMD_AVX512) {
        fputs("screen_fused: needs AVX-512F/DQ/VL/BW\n", stderr);
        return 1;
    }
    uint64_t seed = deal->simulation.seed;
    int L = plan->n_loans, rows = plan->n_factors + L + 1;
    batch_ws *b = batch_ws_alloc(deal, plan, batch_simd_widest());
    if (b == NULL) {
        fputs("screen_fused: out of memory\n", stderr);
        return 1;
    }
    int engine_cap = b->cap;
    printf("%s: %d loans, %d rows, engine batch %d paths, simd %d\n", argv[1], L, rows,
           engine_cap, b->simd);

    /* ---- check ---- */
    long long ncheck = argc > 4 ? atoll(argv[4]) : (1LL << 24) / rows;
    if (ncheck < 4096)
        ncheck = 4096;
    ncheck = (ncheck + 511) / 512 * 512;
    /* The fused configurations: batch, (mode, table bits, extraction). */
    enum { NF = 7 };
    const int fP[NF] = {256, 512, 256, 512, 512, 512, 512};
    const variant fv[NF] = {{MODE_FULL, 10, EXT_COMPRESS}, {MODE_FULL, 10, EXT_COMPRESS},
                            {MODE_FULL, 10, EXT_BITS},     {MODE_FULL, 10, EXT_BITS},
                            {MODE_FULL, 5, EXT_BITS},      {MODE_FULL, 4, EXT_BITS},
                            {MODE_FULL, 5, EXT_REFINE}};
    const char *fname[NF] = {"b 256 t1024 cmp", "b 512 t1024 cmp", "b 256 t1024 bits",
                             "b 512 t1024 bits", "b 512 t32 bits", "b 512 t16 bits",
                             "b 512 t32+refine"};
    fused *FF[NF];
    for (int k = 0; k < NF; k++)
        FF[k] = fused_alloc(plan, fP[k]);
    long long bad = 0;
    {
        record ra = {0};
        ra.g = xcalloc((size_t)ncheck, 1);
        engine_run(plan, b, seed, 0, ncheck, &ra);
        printf("mean defaults per path %.4f (loans and guarantor)\n",
               (double)ra.n / (double)ncheck);
        for (int k = 0; k < NF; k++) {
            record rb = {0};
            rb.g = xcalloc((size_t)ncheck, 1);
            FF[k]->cand_total = 0.0;
            fused_run(FF[k], seed, 0, ncheck, fv[k], &rb, false);
            bad += check(fname[k], &ra, &rb, ncheck);
            printf("  candidates per (row, path) %.4f\n",
                   FF[k]->cand_total / ((double)ncheck * (double)(rows - plan->n_factors)));
            free(rb.t), free(rb.g);
        }
        free(ra.t), free(ra.g);
    }
    if (bad != 0) {
        puts("CHECK FAILED: timings skipped");
        return 1;
    }
    if (seconds <= 0)
        return 0;

    /* ---- timing ---- */
    long long n = 512;
    for (;;) {
        double t0 = ipabs_mc_seconds();
        engine_run(plan, b, seed, 0, n, NULL);
        double dt = ipabs_mc_seconds() - t0;
        if (dt > 0.2 * seconds || n > (1LL << 34)) {
            n = (long long)(seconds / dt * (double)n);
            break;
        }
        n *= 2;
    }
    n = (n + 511) / 512 * 512;
    if (n < 512)
        n = 512;
    /* The engine with its batch forced by hand (CAPS, default 128,512:
     * those above its own). */
    enum { NCAPS = 6 };
    int caps[NCAPS], ncaps = 0;
    {
        const char *list = argc > 5 ? argv[5] : "128,512";
        for (const char *c = list; *c && ncaps < NCAPS;) {
            int v = atoi(c);
            if (v >= BATCH_LANES && v <= BATCH_MAX && v % BATCH_LANES == 0 && v != engine_cap)
                caps[ncaps++] = v;
            c = strchr(c, ',');
            if (c == NULL)
                break;
            c++;
        }
    }
    batch_ws *bc[NCAPS];
    char capname[NCAPS][32];
    for (int k = 0; k < ncaps; k++) {
        bc[k] = batch_ws_alloc(deal, plan, batch_simd_widest());
        if (bc[k] == NULL) {
            fputs("screen_fused: out of memory\n", stderr);
            return 1;
        }
        ws_force_cap(bc[k], plan, caps[k]);
        snprintf(capname[k], sizeof capname[k], "a cap %d", caps[k]);
    }
    /* 0 the engine, 1..ncaps its forced batches; then the NF fused
     * configurations; then the parts
     * of "b 512" (Philox alone; Philox + bound + compare, by table). */
    enum { NPARTS = 4 };
    const variant pv[NPARTS] = {{MODE_PHILOX, 10, EXT_BITS}, {MODE_BOUND, 10, EXT_BITS},
                                {MODE_BOUND, 5, EXT_BITS},   {MODE_BOUND, 4, EXT_BITS}};
    const char *pname[NPARTS] = {"b512 philox", "b512 ph+bnd t1024", "b512 ph+bnd t32",
                                 "b512 ph+bnd t16"};
    int E = 1 + ncaps, nv = E + NF + NPARTS;
    static double t[1 + NCAPS + 7 + 4][MAXR];
    for (int k = 0; k < NF; k++)
        FF[k]->t_factor = FF[k]->t_screen = FF[k]->t_resolve = 0.0;
    for (int r = 0; r < rounds; r++)
        for (int v = 0; v < nv; v++) {
            uint64_t first = (uint64_t)r * (uint64_t)n;
            double t0 = ipabs_mc_seconds();
            if (v == 0)
                engine_run(plan, b, seed, first, n, NULL);
            else if (v < E)
                engine_run(plan, bc[v - 1], seed, first, n, NULL);
            else if (v < E + NF)
                fused_run(FF[v - E], seed, first, n, fv[v - E], NULL, r == rounds - 1);
            else
                fused_run(FF[3], seed, first, n, pv[v - E - NF], NULL, false);
            t[v][r] = ipabs_mc_seconds() - t0;
        }
    double lp = (double)n * (double)(rows - plan->n_factors);
    printf("timing: %lld paths per measurement, %d alternating rounds, medians; "
           "ns/(row,path) over the %d loan and guarantor rows\n", n, rounds,
           rows - plan->n_factors);
    double m0 = median(t[0], rounds);
    for (int v = 0; v < nv; v++) {
        const char *name = v == 0 ? "a engine" : v < E ? capname[v - 1]
                         : v < E + NF ? fname[v - E] : pname[v - E - NF];
        double md = median(t[v], rounds);
        printf("  %-18s %12.1f ns/path %8.3f ns/(row,path)  a/this %.2fx\n", name,
               1e9 * md / (double)n, 1e9 * md / lp, m0 / md);
    }
    for (int k = 0; k < NF; k++) {
        fused *F = FF[k];
        double tot = F->t_factor + F->t_screen + F->t_resolve;
        printf("  %-18s parts (last round): factors %.1f%%, screen %.1f%%, resolve %.1f%% "
               "(%.1f ns/path resolve)\n", fname[k], 100 * F->t_factor / tot,
               100 * F->t_screen / tot, 100 * F->t_resolve / tot,
               1e9 * F->t_resolve / (double)n);
    }
    printf("sink %llu\n", (unsigned long long)(g_sink & 0xff));
    batch_ws_free(b);
    for (int k = 0; k < ncaps; k++)
        batch_ws_free(bc[k]);
    ipabs_model_plan_free(plan);
    ipabs_deal_free(deal);
    return 0;
}
