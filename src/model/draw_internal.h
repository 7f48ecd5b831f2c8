/*
 * draw_internal.h — the arithmetic every draw of the engine shares, in one
 * place so that the scalar code (replay, recoveries) and the SIMD kernels
 * of batch_draw.c compute the same operations in the same order, and so
 * give the same bits on every CPU:
 *
 *   philox_block()   Philox4x32-10 of one counter, written out (the SIMD
 *                    kernels do the same rounds on vectors of counters);
 *   draw_counter()   the counter of block b of a path's stream of one kind;
 *   draw_normal()    a standard normal from one 32-bit word, by the inverse
 *                    normal CDF (Wichura's AS 241) with ipabs's own log.
 *
 * The stream mapping (pinned by the known-answer test of test_stream.c):
 * normal j of kind K of path p under seed s is draw_normal(word j % 4 of
 * Philox4x32-10 of the counter (p low, p high, j / 4, K) under the key
 * (s low, s high)).  Kinds: DRAW_LATENT (the factors, then one
 * idiosyncratic normal per loan, then the guarantor's), DRAW_RECOVERY (one
 * per loan, read only for loans that default) and DRAW_MIXING (the words of
 * the Student-t mixing's chi-square, draw_chisq below: attempt k reads
 * words 2k (its normal) and 2k + 1 (its uniform), and a shape below 1 reads
 * word 0 of block 0xffffffff).
 *
 * Build with -ffp-contract=off (CMakeLists.txt): a fused multiply-add in
 * one width and not in another would change the last bit.
 */
#ifndef IPABS_DRAW_INTERNAL_H
#define IPABS_DRAW_INTERNAL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Stream kinds, in counter word 3: "ipab", "iprc", "ipmx" in ASCII. */
#define DRAW_LATENT 0x69706162u
#define DRAW_RECOVERY 0x69707263u
#define DRAW_MIXING 0x69706d78u

/* Philox4x32 constants (Salmon et al. 2011). */
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

static inline void philox_block(uint32_t out[4], const uint32_t ctr[4],
                                uint64_t seed)
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0, p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c0 = n0;
        c1 = (uint32_t)p1;
        c2 = n2;
        c3 = (uint32_t)p0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

static inline void draw_counter(uint32_t ctr[4], uint64_t path, uint32_t block,
                                uint32_t kind)
{
    ctr[0] = (uint32_t)path;
    ctr[1] = (uint32_t)(path >> 32);
    ctr[2] = block;
    ctr[3] = kind;
}

static inline __attribute__((always_inline)) double bits_double(uint64_t b)
{
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}

static inline __attribute__((always_inline)) uint64_t double_bits(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

/* (w + 1/2) 2^-32, exactly: the bits of 1 + (w + 1/2) 2^-32, less 1.
 * Integer operations only, so that every vector width converts alike. */
static inline __attribute__((always_inline)) double draw_uniform(uint32_t w)
{
    return bits_double(0x3ff0000000000000ull | (uint64_t)w << 20 | 1ull << 19) - 1.0;
}

/* log x for a normal positive x (here x >= 2^-33).  x = m 2^e with m in
 * [sqrt(1/2), sqrt(2)); log m = 2 atanh(s), s = (m - 1)/(m + 1), |s| <=
 * 0.1716, summed as 2s(1 + s^2/3 + ... + s^22/23): the first omitted term
 * is below 2^-56 of the sum.  ln 2 is split so that e ln2_hi is exact. */
static inline __attribute__((always_inline)) double draw_log(double x)
{
    uint64_t b = double_bits(x);
    /* m > sqrt(2) by the mantissa's bits; then m / 2 and e + 1, by
     * integer operations only (they vectorise at every width). */
    uint64_t big = 0u - (uint64_t)((b & 0x000fffffffffffffull) > 0x6a09e667f3bcdull);
    uint64_t ebits = (b >> 52) + (big & 1u);
    /* e as a double without an int conversion: the bits of 2^52 + E, less
     * 2^52 and the bias. */
    double e = bits_double(0x4330000000000000ull | ebits) - 4503599627370496.0 - 1023.0;
    double m = bits_double(((b & 0x000fffffffffffffull) | 0x3ff0000000000000ull) -
                           (big & 0x0010000000000000ull));
    double s = (m - 1.0) / (m + 1.0), s2 = s * s;
    double p = 1.0 / 23.0;
    p = p * s2 + 1.0 / 21.0;
    p = p * s2 + 1.0 / 19.0;
    p = p * s2 + 1.0 / 17.0;
    p = p * s2 + 1.0 / 15.0;
    p = p * s2 + 1.0 / 13.0;
    p = p * s2 + 1.0 / 11.0;
    p = p * s2 + 1.0 / 9.0;
    p = p * s2 + 1.0 / 7.0;
    p = p * s2 + 1.0 / 5.0;
    p = p * s2 + 1.0 / 3.0;
    double logm = 2.0 * s + 2.0 * s * (s2 * p);
    const double ln2_hi = 6.93147180369123816490e-01; /* 32 significant bits */
    const double ln2_lo = 1.90821492927058770002e-10;
    return e * ln2_hi + (e * ln2_lo + logm);
}

/* Wichura (1988), Algorithm AS 241 (PPND16), relative accuracy about
 * 1e-16.  Both regions are computed and one selected, so that a vector of
 * words takes no branch.  The smallest tail probability of a word is
 * 2^-33, so sqrt(-log q) <= 4.78 and AS 241's far-tail region (> 5) is
 * never needed. */
static inline __attribute__((always_inline)) double draw_normal(uint32_t w)
{
    double q = draw_uniform(w) - 0.5;
    double r = 0.180625 - q * q;
    double a = 2509.0809287301226727;
    a = a * r + 33430.575583588128105;
    a = a * r + 67265.770927008700853;
    a = a * r + 45921.953931549871457;
    a = a * r + 13731.693765509461125;
    a = a * r + 1971.5909503065514427;
    a = a * r + 133.14166789178437745;
    a = a * r + 3.3871328727963666080;
    double b = 5226.4952788528545610;
    b = b * r + 28729.085735721942674;
    b = b * r + 39307.895800092710610;
    b = b * r + 21213.794301586595867;
    b = b * r + 5394.1960214247511077;
    b = b * r + 687.18700749205790830;
    b = b * r + 42.313330701600911252;
    b = b * r + 1.0;
    /* The tail: the smaller of p and 1 - p, exactly, from the word. */
    uint32_t low = w ^ (0u - (w >> 31));
    double t = __builtin_sqrt(-draw_log(draw_uniform(low))) - 1.6;
    double c = 7.74545014278341407640e-4;
    c = c * t + 2.27238449892691845833e-2;
    c = c * t + 2.41780725177450611770e-1;
    c = c * t + 1.27045825245236838258;
    c = c * t + 3.64784832476320460504;
    c = c * t + 5.76949722146069140550;
    c = c * t + 4.63033784615654529590;
    c = c * t + 1.42343711074968357734;
    double d = 1.05075007164441684324e-9;
    d = d * t + 5.47593808499534494600e-4;
    d = d * t + 1.51986665636164571966e-2;
    d = d * t + 1.48103976427480074590e-1;
    d = d * t + 6.89767334985100004550e-1;
    d = d * t + 1.67638483018380384940;
    d = d * t + 2.05319162663775882187;
    d = d * t + 1.0;
    /* The lower half is negative: the sign bit set when w's top bit is
     * clear.  One division for both regions: (q a) / b or c / d. */
    c = bits_double(double_bits(c) ^ ((uint64_t)(~w >> 31) << 63));
    int inner = __builtin_fabs(q) <= 0.425;
    double num = inner ? q * a : c, den = inner ? b : d;
    return num / den;
}

/* Normal j of one kind of a path's stream, alone (replay, recoveries). */
static inline double draw_normal_at(uint64_t seed, uint64_t path, uint32_t kind,
                                    uint32_t j)
{
    uint32_t ctr[4], out[4];
    draw_counter(ctr, path, j / 4, kind);
    philox_block(out, ctr, seed);
    return draw_normal(out[j % 4]);
}

/* ---- the Student-t mixing's chi-square -------------------------------------- */

/* chi2_nu = 2 Gamma(nu/2) by Marsaglia and Tsang (2000): with d = a - 1/3
 * and c = 1/sqrt(9d), x normal and v = (1 + c x)^3 > 0, d v is Gamma(a)
 * once u < 1 - 0.0331 x^4 or log u < x^2/2 + d (1 - v + log v) accepts it
 * (about 2% of attempts are rejected at a = 2, fewer above).  A shape
 * a < 1 draws Gamma(a + 1) and multiplies it by u^(1/a).  Every number
 * comes from the path's own mixing words, by draw_normal, draw_uniform and
 * draw_log, so the scalar replay and the batch give the same bits. */
typedef struct draw_chisq_k {
    double a;      /* nu / 2 */
    double d, c;   /* of the shape drawn: a, or a + 1 below 1 */
    int boost;     /* a < 1 */
} draw_chisq_k;

static inline draw_chisq_k draw_chisq_init(double nu)
{
    draw_chisq_k k;
    k.a = 0.5 * nu;
    k.boost = k.a < 1.0;
    k.d = (k.boost ? k.a + 1.0 : k.a) - 1.0 / 3.0;
    k.c = 1.0 / __builtin_sqrt(9.0 * k.d);
    return k;
}

/* The block the shape-boost uniform comes from. */
#define DRAW_CHISQ_BOOST_BLOCK 0xffffffffu
/* Attempts before giving up (never reached: each is accepted with
 * probability above 0.95): d, the mode's neighbourhood, is returned. */
#define DRAW_CHISQ_MAX_BLOCKS (1u << 20)

/* An attempt's candidate v = (1 + c x)^3 into *v3, and whether the squeeze
 * accepts it (1 + c x > 0 and u < 1 - 0.0331 x^4).  Without a branch: the
 * batch runs it in vector lanes (batch_draw.c), the scalar attempt below
 * calls it first, so both take the same decision on the same bits. */
static inline __attribute__((always_inline)) int
draw_gamma_squeeze(const draw_chisq_k *k, double x, double u, double *v3)
{
    double v = 1.0 + k->c * x, x2 = x * x;
    *v3 = v * v * v;
    return v > 0.0 && u < 1.0 - 0.0331 * (x2 * x2);
}

/* One Marsaglia-Tsang attempt: true and *g = d v if accepted. */
static inline int draw_gamma_try(const draw_chisq_k *k, uint32_t wn, uint32_t wu, double *g)
{
    double x = draw_normal(wn), u = draw_uniform(wu), v;
    if (draw_gamma_squeeze(k, x, u, &v) ||
        (v > 0.0 && draw_log(u) < 0.5 * (x * x) + k->d * (1.0 - v + draw_log(v)))) {
        *g = k->d * v;
        return 1;
    }
    return 0;
}

static inline double draw_chisq(uint64_t seed, uint64_t path, const draw_chisq_k *k)
{
    uint32_t ctr[4], w[4];
    double g = k->d;
    for (uint32_t b = 0; b < DRAW_CHISQ_MAX_BLOCKS; b++) {
        draw_counter(ctr, path, b, DRAW_MIXING);
        philox_block(w, ctr, seed);
        if (draw_gamma_try(k, w[0], w[1], &g) || draw_gamma_try(k, w[2], w[3], &g))
            break;
    }
    if (k->boost) {
        draw_counter(ctr, path, DRAW_CHISQ_BOOST_BLOCK, DRAW_MIXING);
        philox_block(w, ctr, seed);
        g *= exp(draw_log(draw_uniform(w[0])) / k->a);
    }
    return 2.0 * g;
}

/* ---- the latent variable and its default period ------------------------ */

/* X = sqrt(W) (a Z_0 + s Z_sector + c e), in this order everywhere: the
 * screen (batch_screen.c) and the replay (model.c). */
static inline double draw_latent(double mix, double a, double z0, double s,
                                 double zs, double c, double e)
{
    return mix * (a * z0 + s * zs + c * e);
}

/* First period t in 1..last with x <= thr[t]; 0 if none.  Thresholds do
 * not fall with t (cumulative PDs do not), so that period is 1 plus the
 * number of earlier thresholds x exceeds: counted without branches, which
 * a default's period makes unpredictable. */
static inline int draw_default_period(const double *thr, int last, double x)
{
    if (!(x <= thr[last]))
        return 0; /* most guarantors: no count over the periods */
    int tau = 1;
    for (int t = 1; t < last; t++)
        tau += x > thr[t];
    return tau;
}

#endif
