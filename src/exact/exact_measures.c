/*
 * exact_measures.c — the reported measures, read off the integrated
 * default-count and loss laws, and the change between two orders that
 * drives the order doubling.
 *
 * Definitions (docs/exact.md): quantile VaR_q = smallest atom x with
 * P(L <= x) >= q (a slack of 1e-12 absorbs rounding when P(L <= x) equals q
 * exactly); expected shortfall ES_q = (1/(1-q)) int_q^1 VaR_u du
 *   = (E[L 1{L > VaR_q}] + VaR_q (P(L <= VaR_q) - q)) / (1 - q);
 * tranche k of balance B_k attaches at A_k = pool - sum_{j<=k} B_j and
 * loses min(max(L - A_k, 0), B_k); a loss within the merge tolerance of
 * zero is no loss.
 */
#include "exact_internal.h"
#include "ipabs/stats.h"

#include <math.h>
#include <string.h>

/* Rounding slack on the cumulative probability of a quantile. */
#define QUANTILE_SLACK 1e-12

/* Index of VaR_q and the cumulative probability up to it. */
static int quantile_index(const exact_plan *p, const double *prob, double q,
                          double *cdf_at)
{
    double cdf = 0.0;
    for (int j = 0; j < p->n_values; j++) {
        cdf += prob[j];
        if (cdf >= q - QUANTILE_SLACK) {
            *cdf_at = cdf;
            return j;
        }
    }
    *cdf_at = cdf;
    return p->n_values - 1;
}

static double expected_shortfall(const exact_plan *p, const double *prob, double q)
{
    double cdf_at;
    int jq = quantile_index(p, prob, q, &cdf_at);
    double above = 0.0;
    for (int j = jq + 1; j < p->n_values; j++)
        above += prob[j] * p->values[j];
    return (above + p->values[jq] * fmax(cdf_at - q, 0.0)) / (1.0 - q);
}

static void loss_grid(const exact_plan *p, const double *prob,
                      ipabs_exact_result *r)
{
    r->bucket_width = p->pool / IPABS_LOSS_BUCKETS;
    r->loss_zero = 0.0;
    memset(r->loss_bucket, 0, sizeof r->loss_bucket);
    for (int j = 0; j < p->n_values; j++) {
        int k = ipabs_grid_bucket(p->values[j], p->pool, IPABS_LOSS_BUCKETS);
        if (k < 0)
            r->loss_zero += prob[j];
        else
            r->loss_bucket[k] += prob[j];
    }
}

static void tranche_view(const ipabs_deal *deal, const exact_plan *p,
                         const double *prob, ipabs_exact_result *r)
{
    double attach = p->pool;
    for (int k = 0; k < deal->n_tranches; k++) {
        double size = deal->tranches[k].balance;
        attach -= size;
        double el = 0.0, pl = 0.0;
        for (int j = 0; j < p->n_values; j++) {
            double over = p->values[j] - attach;
            if (over <= p->tol)
                continue;
            el += prob[j] * fmin(over, size);
            pl += prob[j];
        }
        r->tranche_expected_loss[k] = el;
        r->tranche_prob_loss[k] = pl;
    }
}

void exact_measures(const ipabs_deal *deal, const exact_plan *p,
                    const exact_raw *raw, ipabs_exact_result *r)
{
    double cdf_at, mean_n = 0.0, mean_l = 0.0;
    memcpy(r->default_count, raw->count, ((size_t)p->n_loans + 1) * sizeof(double));
    memcpy(r->atom_value, p->values, (size_t)p->n_values * sizeof(double));
    memcpy(r->atom_prob, raw->loss, (size_t)p->n_values * sizeof(double));
    for (int k = 0; k <= p->n_loans; k++)
        mean_n += k * raw->count[k];
    for (int j = 0; j < p->n_values; j++)
        mean_l += p->values[j] * raw->loss[j];
    r->prob_no_default = raw->count[0];
    r->expected_defaults = mean_n;
    r->expected_loss = mean_l;
    r->loss_q95 = p->values[quantile_index(p, raw->loss, 0.95, &cdf_at)];
    r->loss_q99 = p->values[quantile_index(p, raw->loss, 0.99, &cdf_at)];
    r->loss_q999 = p->values[quantile_index(p, raw->loss, 0.999, &cdf_at)];
    r->expected_shortfall_99 = expected_shortfall(p, raw->loss, 0.99);
    loss_grid(p, raw->loss, r);
    tranche_view(deal, p, raw->loss, r);
    r->guarantor_prob_default = raw->guarantor;
    r->prob_senior_loss_and_guarantor_default =
        p->senior_index >= 0 ? raw->joint : NAN;
}

/* ---- convergence ---------------------------------------------------------- */

static double abs_change(double a, double b)
{
    if (isnan(a) && isnan(b))
        return 0.0;
    return fabs(a - b);
}

/* Relative change, against floor when the value is smaller. */
static double rel_change(double a, double b, double floor)
{
    return fabs(a - b) / fmax(fabs(b), floor);
}

double exact_change(const ipabs_exact_result *a, const ipabs_exact_result *b,
                    double pool)
{
    double d = 0.0, money = 1e-6 * pool;
    for (int k = 0; k <= a->n_loans; k++)
        d = fmax(d, abs_change(a->default_count[k], b->default_count[k]));
    d = fmax(d, abs_change(a->loss_zero, b->loss_zero));
    for (int k = 0; k < IPABS_LOSS_BUCKETS; k++)
        d = fmax(d, abs_change(a->loss_bucket[k], b->loss_bucket[k]));
    d = fmax(d, abs_change(a->guarantor_prob_default, b->guarantor_prob_default));
    d = fmax(d, abs_change(a->prob_senior_loss_and_guarantor_default,
                           b->prob_senior_loss_and_guarantor_default));
    d = fmax(d, rel_change(a->expected_defaults, b->expected_defaults, 1e-6));
    d = fmax(d, rel_change(a->expected_loss, b->expected_loss, money));
    d = fmax(d, rel_change(a->loss_q95, b->loss_q95, money));
    d = fmax(d, rel_change(a->loss_q99, b->loss_q99, money));
    d = fmax(d, rel_change(a->loss_q999, b->loss_q999, money));
    d = fmax(d, rel_change(a->expected_shortfall_99, b->expected_shortfall_99, money));
    for (int k = 0; k < a->n_tranches; k++) {
        d = fmax(d, abs_change(a->tranche_prob_loss[k], b->tranche_prob_loss[k]));
        d = fmax(d, rel_change(a->tranche_expected_loss[k],
                               b->tranche_expected_loss[k], money));
    }
    return d;
}
