/*
 * batch_draw.c — stage 1 of a batch: the Philox words of every path of the
 * batch, paths in SIMD lanes, the normals of the rows that need them
 * before the screen, and the Student-t mixing.
 *
 * Philox is counter-based: the counter of a block is (path, block, kind),
 * so 16 paths' blocks are computed at once, one path per lane, and every
 * path keeps its own stream (draw_internal.h gives the mapping).  The
 * rounds are written with GCC's vector extensions on 16 lanes; the same
 * source is compiled for the baseline vectors, AVX2 and AVX-512, and the
 * widest the CPU supports is chosen once, at run time.  Words become
 * normals through draw_normal(), one lane at a time in the source and
 * vectorised by the compiler (this file is built with -O3, -fno-math-errno
 * and -ffp-contract=off): element-wise IEEE operations, so every width,
 * and the scalar kernel, give the same bits (tested in test_batch.c).
 *
 * A normal costs about 4 ns even in vector lanes (two rationals, a log, a
 * square root and three divisions for every lane), so only the rows that
 * need the value before the screen are converted here: the factors, and
 * the rows importance sampling shifts.  The loans' and the guarantor's
 * words go to the screen as words (batch_screen.c), which converts only
 * the few it cannot decide from a lower bound.
 */
#include <stdlib.h>

#include "batch.h"
#include "draw_internal.h"

#define ALWAYS_INLINE __attribute__((always_inline)) inline


/* What a kernel draws: rows 0 .. n_normals - 1 of w for paths first ..
 * first + n - 1 (n rounded up to whole groups of lanes). */
typedef struct draw_job {
    uint64_t seed, first;
    int n, n_normals, stride;
    uint32_t *w;
} draw_job;

/* What a normals kernel converts: out[k] = draw_normal(w[k]), k < n (n a
 * multiple of BATCH_LANES). */
typedef struct normals_job {
    int n;
    const uint32_t *w;
    double *out;
} normals_job;

/* ---- the vector kernel (one source, three targets) ----------------------- */

/* Ten Philox rounds on 16 lanes, for AVX-512.  The lanes are plain arrays
 * and the rounds loop over them.  Each 32-bit word is held in a 64-bit
 * lane whose high half is ignored, and masked where it is multiplied: the
 * compiler then keeps the words in 64-bit lanes through the ten rounds
 * (with AVX-512DQ one 64-bit multiply, vpmullq, per product), where 32-bit
 * lanes were widened, multiplied and shuffled back in every round: the
 * draws 1.11x faster on the reference deal.  (The 32-bit vpmuludq
 * measured 1.13x slower there.)  Without a 64-bit vector multiply (SSE2,
 * AVX2) GCC makes the masked product a chain of shifts and adds, so those
 * targets take philox_lanes32 below. */
static ALWAYS_INLINE void philox_lanes(uint32_t out[4][BATCH_LANES],
                                       const uint32_t *restrict c0_in,
                                       const uint32_t *restrict c1_in,
                                       const uint32_t *restrict block,
                                       uint32_t kind, uint64_t seed)
{
    uint64_t c0[BATCH_LANES], c1[BATCH_LANES], c2[BATCH_LANES], c3[BATCH_LANES];
    for (int l = 0; l < BATCH_LANES; l++) {
        c0[l] = c0_in[l];
        c1[l] = c1_in[l];
        c2[l] = block[l];
        c3[l] = kind;
    }
    uint64_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int round = 0; round < 10; round++) {
#pragma omp simd
        for (int l = 0; l < BATCH_LANES; l++) {
            uint64_t p0 = (c0[l] & 0xffffffffu) * PHILOX_M0;
            uint64_t p1 = (c2[l] & 0xffffffffu) * PHILOX_M1;
            c0[l] = (p1 >> 32) ^ c1[l] ^ k0;
            c2[l] = (p0 >> 32) ^ c3[l] ^ k1;
            c1[l] = p1;
            c3[l] = p0;
        }
        k0 = (uint32_t)(k0 + PHILOX_W0);
        k1 = (uint32_t)(k1 + PHILOX_W1);
    }
    for (int l = 0; l < BATCH_LANES; l++) {
        out[0][l] = (uint32_t)c0[l];
        out[1][l] = (uint32_t)c1[l];
        out[2][l] = (uint32_t)c2[l];
        out[3][l] = (uint32_t)c3[l];
    }
}

/* The same rounds on 32-bit lanes, each product widened to 64 bits (the
 * compiler's widening multiply, pmuludq), for the targets without a 64-bit
 * vector multiply: the draws of the reference deal 1.34x faster with the
 * baseline vectors (SSE2; they had been slower than the scalar kernel)
 * and 1.10x with AVX2 than the 64-bit lanes' shifts and adds.  The same
 * integers, so the same words. */
static ALWAYS_INLINE void philox_lanes32(uint32_t out[4][BATCH_LANES],
                                         const uint32_t *restrict c0_in,
                                         const uint32_t *restrict c1_in,
                                         const uint32_t *restrict block,
                                         uint32_t kind, uint64_t seed)
{
    uint32_t c0[BATCH_LANES], c1[BATCH_LANES], c2[BATCH_LANES], c3[BATCH_LANES];
    for (int l = 0; l < BATCH_LANES; l++) {
        c0[l] = c0_in[l];
        c1[l] = c1_in[l];
        c2[l] = block[l];
        c3[l] = kind;
    }
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int round = 0; round < 10; round++) {
#pragma omp simd
        for (int l = 0; l < BATCH_LANES; l++) {
            uint64_t p0 = (uint64_t)c0[l] * PHILOX_M0;
            uint64_t p1 = (uint64_t)c2[l] * PHILOX_M1;
            uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[l] ^ k0;
            uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3[l] ^ k1;
            c0[l] = n0;
            c1[l] = (uint32_t)p1;
            c2[l] = n2;
            c3[l] = (uint32_t)p0;
        }
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    for (int l = 0; l < BATCH_LANES; l++) {
        out[0][l] = c0[l];
        out[1][l] = c1[l];
        out[2][l] = c2[l];
        out[3][l] = c3[l];
    }
}

/* Philox on 16 lanes, 64-bit lanes (wide: a 64-bit vector multiply) or
 * 32-bit lanes with widening products. */
static ALWAYS_INLINE void philox_any(uint32_t out[4][BATCH_LANES],
                                     const uint32_t *restrict c0_in,
                                     const uint32_t *restrict c1_in,
                                     const uint32_t *restrict block,
                                     uint32_t kind, uint64_t seed, bool wide)
{
    if (wide)
        philox_lanes(out, c0_in, c1_in, block, kind, seed);
    else
        philox_lanes32(out, c0_in, c1_in, block, kind, seed);
}

static ALWAYS_INLINE void normals_of_words(double *restrict dst,
                                           const uint32_t *restrict w)
{
#pragma omp simd
    for (int l = 0; l < BATCH_LANES; l++)
        dst[l] = draw_normal(w[l]);
}

/* A row of words into normals, four groups of lanes per step: four
 * independent chains, so that the divisions and the polynomials'
 * latencies overlap (one group at a time leaves the vector units
 * waiting). */
static ALWAYS_INLINE void normals_body(const normals_job *job)
{
    int g = 0;
    for (; g + 4 * BATCH_LANES <= job->n; g += 4 * BATCH_LANES) {
        const uint32_t *w = &job->w[g];
        double *out = &job->out[g];
#pragma omp simd
        for (int l = 0; l < BATCH_LANES; l++) {
            out[l] = draw_normal(w[l]);
            out[l + BATCH_LANES] = draw_normal(w[l + BATCH_LANES]);
            out[l + 2 * BATCH_LANES] = draw_normal(w[l + 2 * BATCH_LANES]);
            out[l + 3 * BATCH_LANES] = draw_normal(w[l + 3 * BATCH_LANES]);
        }
    }
    for (; g < job->n; g += BATCH_LANES)
        normals_of_words(&job->out[g], &job->w[g]);
}

static ALWAYS_INLINE void draw_body(const draw_job *job, bool wide)
{
    for (int g = 0; g < job->n; g += BATCH_LANES) {
        uint32_t lo[BATCH_LANES], hi[BATCH_LANES];
        for (int l = 0; l < BATCH_LANES; l++) {
            uint64_t path = job->first + (uint64_t)(g + l);
            lo[l] = (uint32_t)path;
            hi[l] = (uint32_t)(path >> 32);
        }
        for (int j0 = 0; j0 < job->n_normals; j0 += 4) {
            uint32_t out[4][BATCH_LANES], block[BATCH_LANES];
            for (int l = 0; l < BATCH_LANES; l++)
                block[l] = (uint32_t)(j0 / 4);
            philox_any(out, lo, hi, block, DRAW_LATENT, job->seed, wide);
            /* w has n_normals rounded up to 4 rows: the last block's
             * spare words land in rows nobody reads. */
            for (int k = 0; k < 4; k++)
                memcpy(&job->w[(size_t)(j0 + k) * job->stride + g], out[k], sizeof out[k]);
        }
    }
}

/* Gathered normals: lane l draws normal j[l] of path path[l]'s stream of
 * one kind (the recoveries of the defaulting loans of a batch). */
typedef struct gather_job {
    uint64_t seed;
    uint32_t kind;
    int n;                     /* a multiple of BATCH_LANES */
    const uint64_t *path;
    const uint32_t *j;
    double *out;
} gather_job;

static ALWAYS_INLINE void gather_body(const gather_job *job, bool wide)
{
    for (int g = 0; g < job->n; g += BATCH_LANES) {
        uint32_t lo[BATCH_LANES], hi[BATCH_LANES], block[BATCH_LANES];
        uint32_t out[4][BATCH_LANES], w[BATCH_LANES];
        for (int l = 0; l < BATCH_LANES; l++) {
            lo[l] = (uint32_t)job->path[g + l];
            hi[l] = (uint32_t)(job->path[g + l] >> 32);
            block[l] = job->j[g + l] / 4;
        }
        philox_any(out, lo, hi, block, job->kind, job->seed, wide);
        for (int l = 0; l < BATCH_LANES; l++) {
            uint32_t k = job->j[g + l] % 4;
            w[l] = k == 0 ? out[0][l] : k == 1 ? out[1][l] : k == 2 ? out[2][l] : out[3][l];
        }
        normals_of_words(&job->out[g], w);
    }
}

/* The Student-t mixing's chi-square, its first Marsaglia-Tsang attempt
 * (draw_chisq) for paths first .. first + n - 1 in lanes: chi2[p] = 2 d v
 * where the squeeze accepts it, the scalar draw_chisq's value for it; NaN
 * where the path needs the scalar draw_chisq (v <= 0, or an attempt the
 * squeeze does not accept: 2.5% of paths at nu = 4, which draw_chisq
 * retakes from the start, with the same bits). */
typedef struct mixing_job {
    uint64_t seed, first;
    int n;                     /* a multiple of BATCH_LANES */
    draw_chisq_k k;
    double *chi2;
} mixing_job;

static ALWAYS_INLINE void mixing_body(const mixing_job *job, bool wide)
{
    for (int g = 0; g < job->n; g += BATCH_LANES) {
        uint32_t lo[BATCH_LANES], hi[BATCH_LANES], block[BATCH_LANES];
        uint32_t out[4][BATCH_LANES];
        double x[BATCH_LANES];
        for (int l = 0; l < BATCH_LANES; l++) {
            uint64_t path = job->first + (uint64_t)(g + l);
            lo[l] = (uint32_t)path;
            hi[l] = (uint32_t)(path >> 32);
            block[l] = 0;
        }
        philox_any(out, lo, hi, block, DRAW_MIXING, job->seed, wide);
        normals_of_words(x, out[0]);
#pragma omp simd
        for (int l = 0; l < BATCH_LANES; l++) {
            double v3;
            int accept = draw_gamma_squeeze(&job->k, x[l], draw_uniform(out[1][l]), &v3);
            job->chi2[g + l] = accept ? 2.0 * (job->k.d * v3) : NAN;
        }
    }
}

static void draw_base(const draw_job *job)
{
    draw_body(job, false);
}

static void gather_base(const gather_job *job)
{
    gather_body(job, false);
}

static void normals_base(const normals_job *job)
{
    normals_body(job);
}

static void mixing_base(const mixing_job *job)
{
    mixing_body(job, false);
}

#if defined(__x86_64__) || defined(__i386__)
#define HAVE_X86_TARGETS 1
__attribute__((target("avx2"))) static void draw_avx2(const draw_job *job)
{
    draw_body(job, false);
}

__attribute__((target("avx2"))) static void gather_avx2(const gather_job *job)
{
    gather_body(job, false);
}

__attribute__((target("avx2"))) static void normals_avx2(const normals_job *job)
{
    normals_body(job);
}

__attribute__((target("avx2"))) static void mixing_avx2(const mixing_job *job)
{
    mixing_body(job, false);
}

__attribute__((target("avx512f,avx512dq,avx512vl,avx512bw")))
static void draw_avx512(const draw_job *job)
{
    draw_body(job, true);
}

__attribute__((target("avx512f,avx512dq,avx512vl,avx512bw")))
static void gather_avx512(const gather_job *job)
{
    gather_body(job, true);
}

__attribute__((target("avx512f,avx512dq,avx512vl,avx512bw")))
static void normals_avx512(const normals_job *job)
{
    normals_body(job);
}

__attribute__((target("avx512f,avx512dq,avx512vl,avx512bw")))
static void mixing_avx512(const mixing_job *job)
{
    mixing_body(job, true);
}
#endif

/* ---- the scalar kernel ---------------------------------------------------- */

static void draw_scalar(const draw_job *job)
{
    for (int p = 0; p < job->n; p++) {
        uint64_t path = job->first + (uint64_t)p;
        for (int j0 = 0; j0 < job->n_normals; j0 += 4) {
            uint32_t ctr[4], out[4];
            draw_counter(ctr, path, (uint32_t)(j0 / 4), DRAW_LATENT);
            philox_block(out, ctr, job->seed);
            for (int k = 0; k < 4; k++)
                job->w[(size_t)(j0 + k) * job->stride + p] = out[k];
        }
    }
}

/* The scalar kernel leaves every path to draw_chisq. */
static void mixing_scalar(const mixing_job *job)
{
    for (int k = 0; k < job->n; k++)
        job->chi2[k] = NAN;
}

static void normals_scalar(const normals_job *job)
{
    for (int k = 0; k < job->n; k++)
        job->out[k] = draw_normal(job->w[k]);
}

static void gather_scalar(const gather_job *job)
{
    for (int k = 0; k < job->n; k++) {
        uint32_t ctr[4], out[4];
        draw_counter(ctr, job->path[k], job->j[k] / 4, job->kind);
        philox_block(out, ctr, job->seed);
        job->out[k] = draw_normal(out[job->j[k] % 4]);
    }
}

/* ---- choosing a kernel ------------------------------------------------------ */

bool batch_simd_supported(int width)
{
    switch (width) {
    case BATCH_SIMD_SCALAR:
    case BATCH_SIMD_BASE:
        return true;
#ifdef HAVE_X86_TARGETS
    case BATCH_SIMD_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2");
    case BATCH_SIMD_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
#endif
    default:
        return false;
    }
}

int batch_simd_widest(void)
{
    const int widths[] = {BATCH_SIMD_AVX512, BATCH_SIMD_AVX2, BATCH_SIMD_BASE};
    for (int i = 0; i < 3; i++)
        if (batch_simd_supported(widths[i]))
            return widths[i];
    return BATCH_SIMD_SCALAR;
}

static void run_kernel(int simd, const draw_job *job)
{
    switch (simd) {
#ifdef HAVE_X86_TARGETS
    case BATCH_SIMD_AVX512:
        draw_avx512(job);
        return;
    case BATCH_SIMD_AVX2:
        draw_avx2(job);
        return;
#endif
    case BATCH_SIMD_BASE:
        draw_base(job);
        return;
    default:
        draw_scalar(job);
        return;
    }
}

static void run_gather(int simd, const gather_job *job)
{
    switch (simd) {
#ifdef HAVE_X86_TARGETS
    case BATCH_SIMD_AVX512:
        gather_avx512(job);
        return;
    case BATCH_SIMD_AVX2:
        gather_avx2(job);
        return;
#endif
    case BATCH_SIMD_BASE:
        gather_base(job);
        return;
    default:
        gather_scalar(job);
        return;
    }
}

static void run_normals(int simd, const normals_job *job)
{
    switch (simd) {
#ifdef HAVE_X86_TARGETS
    case BATCH_SIMD_AVX512:
        normals_avx512(job);
        return;
    case BATCH_SIMD_AVX2:
        normals_avx2(job);
        return;
#endif
    case BATCH_SIMD_BASE:
        normals_base(job);
        return;
    default:
        normals_scalar(job);
        return;
    }
}

static void run_mixing(int simd, const mixing_job *job)
{
    switch (simd) {
#ifdef HAVE_X86_TARGETS
    case BATCH_SIMD_AVX512:
        mixing_avx512(job);
        return;
    case BATCH_SIMD_AVX2:
        mixing_avx2(job);
        return;
#endif
    case BATCH_SIMD_BASE:
        mixing_base(job);
        return;
    default:
        mixing_scalar(job);
        return;
    }
}

void batch_draw_normals(int simd, int n, const uint32_t *w, double *out)
{
    int lanes = simd == BATCH_SIMD_SCALAR ? 1 : BATCH_LANES;
    normals_job job = {(n + lanes - 1) / lanes * lanes, w, out};
    run_normals(simd, &job);
}

void batch_draw_gather(int simd, uint64_t seed, uint32_t kind, int n,
                       const uint64_t *path, const uint32_t *j, double *out)
{
    int lanes = simd == BATCH_SIMD_SCALAR ? 1 : BATCH_LANES;
    gather_job job = {seed, kind, (n + lanes - 1) / lanes * lanes, path, j, out};
    run_gather(simd, &job);
}

/* ---- the stage ---------------------------------------------------------------- */

/* sqrt(W) of each path: the copula variant is chosen once per batch; the
 * Student-t's chi-square reads its own kind of the path's stream, the
 * first attempt in lanes and the rest by the scalar draw_chisq (the same
 * bits as the copula's own mixing, which replay calls). */
static void draw_mixing(const ipabs_model_plan *plan, uint64_t seed,
                        uint64_t first, int n, batch_ws *b)
{
    if (plan->copula == &ipabs_copula_gaussian) {
        for (int p = 0; p < n; p++)
            b->mix[p] = 1.0;
        return;
    }
    draw_chisq_k k = draw_chisq_init(plan->df);
    if (plan->copula != &ipabs_copula_student_t || k.boost) {
        for (int p = 0; p < n; p++)
            b->mix[p] = plan->copula->mixing(seed, first + (uint64_t)p, plan->df);
        return;
    }
    int lanes = b->simd == BATCH_SIMD_SCALAR ? 1 : BATCH_LANES;
    mixing_job job = {seed, first, (n + lanes - 1) / lanes * lanes, k, b->mix};
    run_mixing(b->simd, &job);
    for (int p = 0; p < n; p++) {
        double chi2 = b->mix[p] == b->mix[p] ? b->mix[p]
                                             : draw_chisq(seed, first + (uint64_t)p, &k);
        b->mix[p] = sqrt(plan->df / chi2);
    }
}

/* Importance sampling: Z_0 and the guarantor's normal drawn from N(mu, 1)
 * by one addition each (ipabs_model_sample adds the same), and each
 * path's likelihood ratio, computed outside this file's vector flags by
 * the function replay calls too. */
static void draw_shift(const ipabs_model_plan *plan, int n, batch_ws *b)
{
    double *dot = b->weight;
    for (int p = 0; p < n; p++)
        dot[p] = 0.0;
    for (int j = 0; j < plan->is_n; j++) {
        double mu = plan->is_mu[j];
        if (mu == 0.0)
            continue; /* adds nothing: x + 0 = x, dot + 0 x = dot */
        double *x = &b->z[(size_t)j * b->cap];
        for (int p = 0; p < n; p++) {
            x[p] += mu;
            dot[p] += mu * x[p];
        }
    }
    /* The guarantor's normal by the defensive mixture, given the shifted
     * Z_0 and the mixing (the row of the guarantor is unshifted then). */
    double *eg = &b->z[(size_t)(plan->n_factors + plan->n_loans) * b->cap];
    for (int p = 0; p < n; p++) {
        double g = ipabs_importance_guarantor(plan, b->z[p], b->mix[p], &eg[p]);
        b->weight[p] = ipabs_importance_path_weight(plan, dot[p], g);
    }
}

void batch_draw(const ipabs_model_plan *plan, uint64_t seed, uint64_t first,
                int n, batch_ws *b)
{
    int lanes = b->simd == BATCH_SIMD_SCALAR ? 1 : BATCH_LANES;
    int padded = (n + lanes - 1) / lanes * lanes;
    draw_job job = {seed, first, padded, b->n_normals, b->cap, b->w};
    run_kernel(b->simd, &job);
    for (int j = 0; j < b->n_normals; j++)
        if (b->exact[j])
            batch_draw_normals(b->simd, padded, &b->w[(size_t)j * b->cap],
                               &b->z[(size_t)j * b->cap]);
    draw_mixing(plan, seed, first, n, b);
    if (plan->importance)
        draw_shift(plan, n, b);
}
