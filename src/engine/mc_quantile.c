/*
 * mc_quantile.c — a run's quantiles, expected shortfalls and distribution
 * functions, read from the weighted trackers under importance sampling and
 * from the plain ones otherwise (see ipabs/montecarlo.h).
 */
#include <math.h>

#include "batch.h"
#include "ipabs/montecarlo.h"
#include "ipabs/wquantiles.h"

/* The weighted sums' cell of a law's cell (batch.h). */
static size_t wcell_of(const ipabs_mc_result *r, ipabs_mc_law law, size_t cell)
{
    int n_loans = r->layout.n_loans, T = r->layout.n_periods;
    switch (law) {
    case IPABS_LAW_DEFAULT_COUNT:
        return batch_cell_count(n_loans, (int)cell);
    case IPABS_LAW_COUNT_BY_PERIOD:
        return batch_cell_by_period(n_loans, (int)(cell / (size_t)(n_loans + 1)),
                                    (int)(cell % (size_t)(n_loans + 1)));
    case IPABS_LAW_LOSS_ZERO:
        return batch_cell_loss_zero(n_loans, T);
    default:
        return batch_cell_bucket(n_loans, T, (int)cell);
    }
}

static uint64_t count_of(const ipabs_mc_result *r, ipabs_mc_law law, size_t cell)
{
    switch (law) {
    case IPABS_LAW_DEFAULT_COUNT:
        return r->default_count[cell];
    case IPABS_LAW_COUNT_BY_PERIOD:
        return r->default_count_by_period[cell];
    case IPABS_LAW_LOSS_ZERO:
        return r->loss_zero;
    default:
        return r->loss_bucket[cell];
    }
}

void ipabs_mc_prob_group(const ipabs_mc_result *r, ipabs_mc_law law, size_t first,
                         size_t last, double *p, double *se)
{
    double n = (double)r->paths;
    if (!r->weighted) {
        double c = 0.0;
        for (size_t k = first; k <= last; k++)
            c += (double)count_of(r, law, k);
        *p = c / n;
        *se = sqrt(*p * (1.0 - *p) / n);
        return;
    }
    double w = 0.0, w2 = 0.0;
    for (size_t k = first; k <= last; k++) {
        size_t c = wcell_of(r, law, k);
        w += r->wcells[2 * c];
        w2 += r->wcells[2 * c + 1];
    }
    /* sum w^2 (1{cell} - p)^2 = S2_cell (1 - 2p) + p^2 S2 */
    *p = w / r->weight_sum;
    double v = w2 * (1.0 - 2.0 * *p) + *p * *p * r->weight_sum2;
    *se = sqrt(fmax(0.0, v)) / r->weight_sum * sqrt(n / (n - 1.0));
}

ipabs_quantile_est ipabs_mc_quantile(const ipabs_mc_result *r, int tracker, double p)
{
    if (r->weighted)
        return ipabs_wquantiles_estimate(&r->wq[tracker], p);
    return ipabs_quantiles_estimate(&r->q[tracker], p);
}

double ipabs_mc_tracker_paths(const ipabs_mc_result *r, int tracker)
{
    return (double)(r->weighted ? r->wq[tracker].n : r->q[tracker].n);
}

double ipabs_mc_tail_mean(const ipabs_mc_result *r, int tracker, double p, double *se)
{
    if (r->weighted)
        return ipabs_wquantiles_tail_mean(&r->wq[tracker], p, se);
    return ipabs_quantiles_tail_mean(&r->q[tracker], p, se);
}

void ipabs_mc_cdf(const ipabs_mc_result *r, int tracker, double x, double *below,
                  double *upto, double *se_below, double *se_upto)
{
    if (r->weighted) {
        ipabs_wquantiles_cdf(&r->wq[tracker], x, below, upto, se_below, se_upto);
        return;
    }
    const ipabs_quantiles *q = &r->q[tracker];
    double n = (double)q->n;
    ipabs_quantiles_count(q, x, below, upto);
    *below /= n;
    *upto /= n;
    *se_below = sqrt(*below * (1.0 - *below) / n);
    *se_upto = sqrt(*upto * (1.0 - *upto) / n);
}
