/*
 * model_internal.h — what the batch stages share with the model's own
 * sampling of one path (ipabs_model_sample, the replay): the recovery of a
 * defaulting loan, so that both compute it with the same operations.
 */
#ifndef IPABS_MODEL_INTERNAL_H
#define IPABS_MODEL_INTERNAL_H

#include "ipabs/model.h"

static inline double model_beta_lookup(const double *table, double x)
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

/* The realised recovery fraction of loan `loan`'s IP value: its Beta
 * quantile at the normal score rec_b z0 + rec_c e, read from the plan's
 * table, or the fixed mean when the loan has no table. */
static inline double model_recovery(const ipabs_model_plan *plan, int loan,
                                    double z0, double e)
{
    const double *table = plan->beta_table[loan];
    return table == NULL ? plan->recovery_fixed[loan]
                         : model_beta_lookup(table, plan->rec_b * z0 + plan->rec_c * e);
}

#endif
