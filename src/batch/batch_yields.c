/*
 * batch_yields.c — stage 3b of a batch: the yields of the classes whose
 * cash flows changed, solved for many paths at once in vector lanes.
 *
 * mc_yield_at_par solves one class of one path: a chain of Newton steps,
 * each a Horner pass whose every operation waits for the one before (a
 * multiply and an add per period), so a core sits mostly idle.  Here each
 * lane of a block holds one (path, class) problem and runs exactly the
 * scalar solver's sequence of operations on it (same start, same update,
 * same stopping test, no fused multiply-add): the lanes share the passes,
 * so the latency is paid once per block, and every yield is the same bits
 * as mc_yield_at_par's, which replay still uses for a single path.  A lane
 * whose problem is solved takes the next waiting one, so the block stays
 * full until the queue runs dry.
 *
 * The Horner pass runs over every period for every lane: trailing periods
 * without cash leave both sums at +0.0 (0 x v = 0 for a finite v), so the
 * pass equals the scalar one, which starts at the last period with cash.
 */
#include <math.h>
#include <string.h>

#include "batch.h"

#define LANES BATCH_YIELD_LANES

/* Where a lane is in mc_yield_at_par's sequence. */
enum { AT_GUESS, AT_COUPON, AT_DOUBLING, AT_NEWTON, IDLE };

typedef struct lanes {
    int T;
    double *cf; /* [t * LANES + lane]: the jobs' lane_cf scratch */
    double v[LANES], v0[LANES], f[LANES], df[LANES], price[LANES], coupon[LANES];
    int phase[LANES], iter[LANES], job[LANES];
} lanes;

/* p(v) - price and p'(v) of every lane, by Horner: mc_yield.c's
 * yield_eval, lane by lane. */
static void eval_lanes(lanes *L)
{
    double s[LANES] = {0.0}, ds[LANES] = {0.0};
    for (int t = L->T - 1; t >= 0; t--) {
        const double *c = &L->cf[t * LANES];
        for (int l = 0; l < LANES; l++) {
            ds[l] = ds[l] * L->v[l] + s[l] + c[l];
            s[l] = (s[l] + c[l]) * L->v[l];
        }
    }
    for (int l = 0; l < LANES; l++) {
        L->f[l] = s[l] - L->price[l];
        L->df[l] = ds[l];
    }
}

static bool all_zero(const double *cf, int T)
{
    for (int t = 0; t < T; t++)
        if (cf[t] != 0.0)
            return false;
    return true;
}

/* A Newton step from the lane's current point; false when the lane is
 * done: the yield into out (NaN when the derivative vanishes), or
 * converged, in which case p is not evaluated again (mc_yield_at_par). */
static bool newton_step(lanes *L, int l, int frequency, double *out)
{
    if (L->df[l] == 0.0) {
        out[L->job[l]] = NAN;
        return false;
    }
    L->v0[l] = L->v[l];
    L->v[l] = L->v0[l] - L->f[l] / L->df[l];
    if (yield_converged(L->v[l], L->v0[l])) {
        out[L->job[l]] = frequency * (1.0 / L->v[l] - 1.0);
        return false;
    }
    return true;
}

/* After an evaluation: the lane's next point, or its yield into out (and
 * false).  Step for step mc_yield_at_par. */
static bool advance(lanes *L, int l, int frequency, double *out)
{
    int j = L->job[l];
    switch (L->phase[l]) {
    case AT_GUESS:
        if (L->f[l] < 0.0 && !yield_near(L->v[l], L->f[l], L->df[l])) {
            L->v[l] = 1.0 / (1.0 + L->coupon[l] / frequency);
            L->phase[l] = AT_COUPON;
            return true;
        }
        break;
    case AT_COUPON:
        if (L->f[l] < 0.0 && !yield_near(L->v[l], L->f[l], L->df[l])) {
            L->v[l] = 1.0;
            L->phase[l] = AT_DOUBLING;
            return true;
        }
        break;
    case AT_DOUBLING:
        /* v = 1 was just evaluated, or a doubling of it. */
        if (L->f[l] < 0.0 && L->v[l] < 1e6) {
            L->v[l] *= 2.0;
            return true;
        }
        break;
    default: /* AT_NEWTON */
        if (!isfinite(L->f[l]) || ++L->iter[l] == YIELD_MAX_ITER) {
            out[j] = NAN;
            return false;
        }
        return newton_step(L, l, frequency, out);
    }
    /* The first Newton step. */
    L->phase[l] = AT_NEWTON;
    L->iter[l] = 0;
    return newton_step(L, l, frequency, out);
}

/* Put problem j in lane l (or leave the lane idle, harmless: no cash, v = 1). */
static void load(lanes *L, int l, int j, const batch_yield_jobs *q, int frequency)
{
    L->job[l] = j;
    L->phase[l] = j < 0 ? IDLE : AT_GUESS;
    const double *cf = j < 0 ? NULL : &q->cf[(size_t)j * L->T];
    for (int t = 0; t < L->T; t++)
        L->cf[t * LANES + l] = cf != NULL ? cf[t] : 0.0;
    if (j < 0) {
        L->v[l] = 1.0;
        L->price[l] = 0.0;
        return;
    }
    double guess = q->guess[j];
    L->price[l] = q->price[j];
    L->coupon[l] = q->coupon[j];
    L->v[l] = 1.0 / (1.0 + (isnan(guess) ? q->coupon[j] : guess) / frequency);
}

/* The next problem that needs a solve; those without any cash are -100%
 * at once, as in mc_yield_at_par. */
static int next_job(const batch_yield_jobs *q, int T, int *cursor, double *out)
{
    while (*cursor < q->n) {
        int j = (*cursor)++;
        if (!all_zero(&q->cf[(size_t)j * T], T))
            return j;
        out[j] = -1.0;
    }
    return -1;
}

void batch_yields_solve(const batch_yield_jobs *q, int T, int frequency, double *out)
{
    lanes L;
    L.T = T;
    L.cf = q->lane_cf;
    int cursor = 0, busy = 0;
    for (int l = 0; l < LANES; l++) {
        int j = next_job(q, T, &cursor, out);
        load(&L, l, j, q, frequency);
        busy += j >= 0;
    }
    while (busy > 0) {
        eval_lanes(&L);
        for (int l = 0; l < LANES; l++) {
            if (L.phase[l] == IDLE || advance(&L, l, frequency, out))
                continue;
            int j = next_job(q, T, &cursor, out);
            load(&L, l, j, q, frequency);
            busy -= j < 0;
        }
    }
}
