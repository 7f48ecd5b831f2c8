/*
 * exact.c — ipabs_exact_compute(): checks the request, builds the exact
 * plan (exact_plan.c), integrates at doubling Gauss–Legendre orders
 * (exact_eval.c) until no measure moves by more than
 * IPABS_EXACT_TOLERANCE, and returns the measures of the finest order
 * (exact_measures.c).  The CSV output is in exact_write.c.
 */
#include "exact_internal.h"

#include <math.h>
#include <stdlib.h>

#define DEFAULT_ORDER 8

void ipabs_exact_free(ipabs_exact_result *r)
{
    if (r == NULL)
        return;
    free(r->default_count);
    free(r->atom_value);
    free(r->atom_prob);
    free(r->tranche_expected_loss);
    free(r->tranche_prob_loss);
    free(r);
}

static ipabs_exact_result *result_alloc(const ipabs_deal *deal,
                                        const exact_plan *p)
{
    ipabs_exact_result *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    size_t nt = (size_t)(deal->n_tranches ? deal->n_tranches : 1);
    r->horizon = p->horizon;
    r->n_loans = p->n_loans;
    r->n_atoms = p->n_values;
    r->lattice_unit = p->unit;
    r->n_tranches = deal->n_tranches;
    r->default_count = calloc((size_t)p->n_loans + 1, sizeof(double));
    r->atom_value = calloc((size_t)p->n_values, sizeof(double));
    r->atom_prob = calloc((size_t)p->n_values, sizeof(double));
    r->tranche_expected_loss = calloc(nt, sizeof(double));
    r->tranche_prob_loss = calloc(nt, sizeof(double));
    if (!r->default_count || !r->atom_value || !r->atom_prob ||
        !r->tranche_expected_loss || !r->tranche_prob_loss) {
        ipabs_exact_free(r);
        return NULL;
    }
    return r;
}

static ipabs_status check_request(const ipabs_deal *deal,
                                  const ipabs_exact_options *opt,
                                  ipabs_exact_result **out, int *horizon,
                                  int *order, ipabs_error *err)
{
    if (deal == NULL || out == NULL)
        return ipabs_error_set(err, IPABS_EINPUT, NULL, 0, 0, NULL,
                               "ipabs_exact_compute: deal and out must not be NULL");
    *horizon = opt && opt->horizon ? opt->horizon : deal->legal_final;
    *order = opt && opt->min_order ? opt->min_order : DEFAULT_ORDER;
    if (*horizon < 1 || *horizon > deal->legal_final)
        return ipabs_error_set(err, IPABS_EINPUT, NULL, 0, 0, "horizon",
                               "must be a period in 1..%d (got %d)",
                               deal->legal_final, *horizon);
    if (*order < 2 || *order > IPABS_EXACT_MAX_ORDER / 2)
        return ipabs_error_set(err, IPABS_EINPUT, NULL, 0, 0, "min_order",
                               "must be 0 (automatic) or in 2..%d (got %d)",
                               IPABS_EXACT_MAX_ORDER / 2, *order);
    if (!(deal->pool_balance > 0.0) || deal->n_loans < 1)
        return ipabs_error_set(err, IPABS_EINPUT, NULL, 0, 0, "loans",
                               "the exact method needs loans with a positive "
                               "pool balance (got %d loans, %g)",
                               deal->n_loans, deal->pool_balance);
    if (deal->model.copula == IPABS_COPULA_STUDENT_T &&
        !(deal->model.df > 0.0 && isfinite(deal->model.df)))
        return ipabs_error_set(err, IPABS_EINPUT, NULL, 0, 0, "model.df",
                               "Student-t degrees of freedom must be > 0 (got %g)",
                               deal->model.df);
    return IPABS_OK;
}

/* Integrate at order m and fill r. */
static ipabs_status run_order(const ipabs_deal *deal, const exact_plan *p,
                              int m, exact_raw *raw, ipabs_exact_result *r,
                              ipabs_error *err)
{
    ipabs_status s = exact_integrate(p, m, raw, err);
    if (s == IPABS_OK) {
        exact_measures(deal, p, raw, r);
        r->order = m;
    }
    return s;
}

/* Double the order from m until converged; *best ends as the finest. */
static ipabs_status doubling(const ipabs_deal *deal, const exact_plan *p, int m,
                             exact_raw *raw, ipabs_exact_result **best,
                             ipabs_exact_result **spare, ipabs_error *err)
{
    ipabs_status s = run_order(deal, p, m, raw, *best, err);
    double change = NAN;
    while (s == IPABS_OK && 2 * m <= IPABS_EXACT_MAX_ORDER &&
           (isnan(change) || exact_work(p, 2 * m) <= EXACT_WORK_BUDGET)) {
        m *= 2;
        s = run_order(deal, p, m, raw, *spare, err);
        if (s != IPABS_OK)
            break;
        change = exact_change(*spare, *best, p->pool);
        ipabs_exact_result *t = *best;
        *best = *spare;
        *spare = t;
        if (change <= IPABS_EXACT_TOLERANCE)
            break;
    }
    (*best)->precision = change;
    return s;
}

static ipabs_status compute_with_plan(const ipabs_deal *deal, const exact_plan *p,
                                      int order, ipabs_exact_result **out,
                                      ipabs_error *err)
{
    double work = exact_work(p, order) + exact_work(p, 2 * order);
    if (work > EXACT_WORK_LIMIT)
        return ipabs_error_set(err, IPABS_EINPUT, NULL, 0, 0, NULL,
                               "pool too large for the exact method: orders %d "
                               "and %d would take about %.3g pair operations "
                               "(limit %.3g)", order, 2 * order, work,
                               EXACT_WORK_LIMIT);
    exact_raw raw;
    ipabs_exact_result *best = result_alloc(deal, p), *spare = result_alloc(deal, p);
    ipabs_status s = exact_raw_init(p, &raw);
    if (best == NULL || spare == NULL || s != IPABS_OK)
        s = ipabs_error_set(err, IPABS_ENOMEM, NULL, 0, 0, NULL,
                            "out of memory for the exact result");
    else
        s = doubling(deal, p, order, &raw, &best, &spare, err);
    exact_raw_release(&raw);
    ipabs_exact_free(spare);
    if (s != IPABS_OK) {
        ipabs_exact_free(best);
        return s;
    }
    *out = best;
    return IPABS_OK;
}

ipabs_status ipabs_exact_compute(const ipabs_deal *deal,
                                 const ipabs_exact_options *opt,
                                 ipabs_exact_result **out, ipabs_error *err)
{
    int horizon = 0, order = 0;
    if (out != NULL)
        *out = NULL;
    ipabs_status s = check_request(deal, opt, out, &horizon, &order, err);
    if (s != IPABS_OK)
        return s;
    exact_plan *p = NULL;
    s = exact_plan_build(deal, horizon, &p, err);
    if (s == IPABS_OK)
        s = compute_with_plan(deal, p, order, out, err);
    exact_plan_free(p);
    return s;
}
