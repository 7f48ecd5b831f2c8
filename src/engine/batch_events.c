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

static double beta_lookup(const double *table, double x)
{
    double pos = (x + 8.0) * ((IPABS_BETA_TABLE_SIZE - 1) / 16.0);
    if (pos <= 0.0)
        return table[0];
    if (pos >= IPABS_BETA_TABLE_SIZE - 1)
        return table[IPABS_BETA_TABLE_SIZE - 1];
    int k = (int)pos;
    double w = pos - k;
    return table[k] + w * (table[k + 1] - table[k]);
}

double batch_recovery(const ipabs_model_plan *plan, int loan, double z0, double e)
{
    const double *table = plan->beta_table[loan];
    return table == NULL ? plan->recovery_fixed[loan]
                         : beta_lookup(table, plan->rec_b * z0 + plan->rec_c * e);
}

void batch_realise(const ipabs_deal *deal, const ipabs_model_plan *plan,
                   const batch_ws *b, int p, uint64_t seed, uint64_t path,
                   ipabs_realisation *real)
{
    int T1 = plan->legal_final + 1, nf = plan->n_factors, cap = b->cap;
    for (int i = 0; i < plan->n_loans; i++)
        real->default_period[i] = batch_first_crossing(
            &plan->threshold[(size_t)i * T1], plan->term[i],
            b->z[(size_t)(nf + i) * cap + p]);
    double xg = b->z[(size_t)(nf + plan->n_loans) * cap + p];
    real->guarantor_default_period = plan->guarantor_can_default
        ? batch_first_crossing(plan->g_threshold, plan->legal_final, xg) : 0;
    ipabs_realisation_index(deal, real);
    batch_recoveries(plan, seed, path, b->z[p], real);
}

void batch_recoveries(const ipabs_model_plan *plan, uint64_t seed, uint64_t path,
                      double z0, ipabs_realisation *real)
{
    for (int j = 0; j < real->n_defaults; j++) {
        int i = real->order[j];
        double e = plan->beta_table[i] == NULL
            ? 0.0 : draw_normal_at(seed, path, DRAW_RECOVERY, (uint32_t)i);
        real->realisation[i] = batch_recovery(plan, i, z0, e);
    }
}

ipabs_status batch_events(ipabs_mc_path *w, uint64_t seed, uint64_t first,
                          batch_ws *b, ipabs_error *err)
{
    for (int e = 0; e < b->n_events; e++) {
        int p = b->event_path[e];
        uint64_t path = first + (uint64_t)p;
        batch_realise(w->deal, w->plan, b, p, seed, path, w->real);
        ipabs_status s = mc_path_evaluate(w, path, err);
        if (s != IPABS_OK)
            return s;
        memcpy(&b->records[(size_t)e * b->record_size], w->values,
               (size_t)b->record_size * sizeof(double));
    }
    return IPABS_OK;
}
