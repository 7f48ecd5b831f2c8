/*
 * batch_screen.c — stage 2 of a batch: latent variables and the screen.
 *
 * Thresholds rise with the period, so a loan defaults at all iff its latent
 * variable is at or below the threshold of its last period: one compare
 * per loan and path, in a loop over the batch without branches.  The
 * period itself is found later, and only for the paths with an event
 * (batch_events.c).  Most paths have none and never leave this stage.
 */
#include <math.h>

#include "batch.h"

/* One loan (or the guarantor) over the batch: X into row x, defaults
 * counted by path.
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
        double v = batch_latent(mix[p], a, z0[p], s, zs[p], c, x[p]);
        x[p] = v;
        count[p] += v <= thr;
    }
}

void batch_screen(const ipabs_model_plan *plan, int n, batch_ws *b)
{
    int T1 = plan->legal_final + 1, nf = plan->n_factors, cap = b->cap;
    const double *z0 = b->z;
    for (int p = 0; p < n; p++)
        b->n_default[p] = b->g_default[p] = 0;
    for (int i = 0; i < plan->n_loans; i++)
        screen_row(n, plan->a[i], plan->s[i], plan->c[i],
                   plan->threshold[(size_t)i * T1 + plan->term[i]], b->mix, z0,
                   &b->z[(size_t)plan->factor[i] * cap],
                   &b->z[(size_t)(nf + i) * cap], b->n_default);
    /* The guarantor's row: no sector; it cannot fail at all when its PD is 0. */
    double g_thr = plan->guarantor_can_default ? plan->g_threshold[plan->legal_final]
                                               : -INFINITY;
    screen_row(n, plan->g_a, 0.0, plan->g_c, g_thr, b->mix, z0, z0,
               &b->z[(size_t)(nf + plan->n_loans) * cap], b->g_default);
    b->n_events = 0;
    for (int p = 0; p < n; p++)
        if (b->n_default[p] + b->g_default[p] > 0)
            b->event_path[b->n_events++] = p;
}
